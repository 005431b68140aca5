//! One node's service groups at run time (StarlingX SM's service and
//! service-group state machines, restated): each group is asked to be
//! active, standby or disabled here; its members are moved there one
//! action at a time, after their dependencies, at most `throttle` moving
//! at once on the node; every service is audited on its period, and a
//! service found stopped when it should run is restarted, until it fails
//! too often (`max_failures` within `fail_countdown_interval`) or its
//! actions fail `max_action_failures` times in a row: then it is failed,
//! held for the countdown interval, and its failure counts against its
//! group by its impact for the group's `failure_debounce`. A service its
//! audits find running impaired (a [`Finding`]) for [`IMPAIRED_GRACE`] is
//! degraded, and its group with it, until an audit finds it whole.
//!
//! Pure and clock-free: the caller runs the [`Run`]s [`Node::tick`]
//! returns (each within its timeout) and reports each back through
//! [`Node::finished`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::group::{ServiceState, Status};
use crate::model::{ActionKind, Model, ServiceDef};
use crate::schedule::Desired;

/// How long a service's audits must find it impaired before it counts as
/// degraded (a database's standby takes a few seconds to stream again
/// after every swact: not worth an alarm).
pub const IMPAIRED_GRACE: Duration = Duration::from_secs(10);

/// How long after a failed action the service is tried again.
pub const ACTION_RETRY: Duration = Duration::from_secs(1);

/// An action to run now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub service: String,
    pub action: ActionKind,
    pub timeout: Duration,
}

/// What an audit found: the service's state and, when it runs impaired
/// (a primary database without its standby), why — the service is then
/// degraded, and its group with it, until an audit finds it whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub state: ServiceState,
    pub impaired: Option<String>,
}

impl From<ServiceState> for Finding {
    fn from(state: ServiceState) -> Finding {
        Finding {
            state,
            impaired: None,
        }
    }
}

/// Why a service is in its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    None,
    /// Its actions failed `max_action_failures` times in a row.
    ActionFailure,
    /// It stopped `max_failures` times within the countdown interval.
    RecoveryFailure,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::None => "",
            Condition::ActionFailure => "action-failure",
            Condition::RecoveryFailure => "recovery-failure",
        }
    }
}

/// A service's state as SM shows it: settled, or the action under way.
pub fn state_str(state: Option<ServiceState>, running: Option<ActionKind>) -> &'static str {
    match (running, state) {
        (Some(ActionKind::Enable), _) => "enabling",
        (Some(ActionKind::Disable), _) => "disabling",
        (Some(ActionKind::GoActive), _) => "enabled-go-active",
        (Some(ActionKind::GoStandby), _) => "enabled-go-standby",
        (_, None) => "initial",
        (_, Some(ServiceState::Disabled)) => "disabled",
        (_, Some(ServiceState::EnabledStandby)) => "enabled-standby",
        (_, Some(ServiceState::EnabledActive)) => "enabled-active",
    }
}

pub fn settled_str(s: ServiceState) -> &'static str {
    state_str(Some(s), None)
}

pub fn status_str(s: Status) -> &'static str {
    match s {
        Status::None => "",
        Status::Warn => "warn",
        Status::Degraded => "degraded",
        Status::Failed => "failed",
    }
}

#[derive(Clone, Debug)]
struct Svc {
    /// `None` until the first audit says.
    state: Option<ServiceState>,
    running: Option<ActionKind>,
    next_audit: Duration,
    audit_failures: Vec<Duration>,
    action_failures: u32,
    hold_until: Duration,
    failed_at: Option<Duration>,
    status: Status,
    condition: Condition,
    reason: String,
    /// Why its audits find it impaired, once for [`IMPAIRED_GRACE`].
    impaired: Option<String>,
    /// Since when its audits find it impaired.
    impaired_since: Option<Duration>,
}

impl Svc {
    /// Its status with its impairment: degraded at least while impaired.
    fn status(&self) -> Status {
        if self.impaired.is_some() {
            self.status.max(Status::Degraded)
        } else {
            self.status
        }
    }
}

/// A service as the node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    pub name: String,
    pub group: String,
    pub desired: ServiceState,
    /// SM's state name (`enabled-active`, `enabling`, `initial`…).
    pub state: &'static str,
    pub status: Status,
    pub condition: Condition,
    /// Why it is impaired, or the last failure's reason.
    pub reason: String,
}

/// A group as the node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    pub name: String,
    pub desired: Desired,
    /// `initial`, `active`, `go-active`, `standby`, `go-standby`,
    /// `disabled`, `disabling`.
    pub state: &'static str,
    pub status: Status,
    pub condition: Condition,
}

/// One node's groups and services.
#[derive(Clone, Debug)]
pub struct Node {
    model: Model,
    desired: BTreeMap<String, Desired>,
    services: BTreeMap<String, Svc>,
}

impl Node {
    /// Every group disabled until asked, every service's state unknown
    /// until audited.
    pub fn new(model: Model) -> Node {
        let services = model
            .services
            .keys()
            .map(|n| {
                (
                    n.clone(),
                    Svc {
                        state: None,
                        running: None,
                        next_audit: Duration::ZERO,
                        audit_failures: Vec::new(),
                        action_failures: 0,
                        hold_until: Duration::ZERO,
                        failed_at: None,
                        status: Status::None,
                        condition: Condition::None,
                        reason: String::new(),
                        impaired: None,
                        impaired_since: None,
                    },
                )
            })
            .collect();
        let desired = model
            .groups
            .iter()
            .map(|g| (g.group.name.clone(), Desired::Disabled))
            .collect();
        Node {
            model,
            desired,
            services,
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Asks `group` to be `role` here. Unknown groups are ignored.
    pub fn desire(&mut self, group: &str, role: Desired) {
        if let Some(d) = self.desired.get_mut(group) {
            *d = role;
        }
    }

    pub fn desired(&self, group: &str) -> Option<Desired> {
        self.desired.get(group).copied()
    }

    fn target(def: &ServiceDef, role: Desired) -> ServiceState {
        match role {
            Desired::Active => ServiceState::EnabledActive,
            Desired::Standby => def.standby_state(),
            Desired::Disabled => ServiceState::Disabled,
        }
    }

    /// What to run now.
    pub fn tick(&mut self, now: Duration) -> Vec<Run> {
        let mut out = Vec::new();
        // What no audit has reported yet is audited first; a service
        // with no audit at all is taken as stopped.
        for (name, svc) in &mut self.services {
            if svc.state.is_none() && svc.running.is_none() && svc.next_audit <= now {
                let def = &self.model.services[name];
                match def.audit(ServiceState::Disabled) {
                    Some(a) => {
                        svc.running = Some(a.kind);
                        out.push(Run {
                            service: name.clone(),
                            action: a.kind,
                            timeout: a.timeout,
                        });
                    }
                    None => svc.state = Some(ServiceState::Disabled),
                }
            }
        }
        let moving: BTreeSet<String> = self
            .services
            .iter()
            .filter(|(_, s)| s.running.is_some_and(|k| !k.is_audit()))
            .map(|(n, _)| n.clone())
            .collect();
        let mut room = self.model.throttle.saturating_sub(moving.len());
        for g in &self.model.groups {
            if room == 0 {
                break;
            }
            let role = self.desired[&g.group.name];
            let members = g.group.members();
            if members
                .iter()
                .any(|m| self.services[&m.service].state.is_none())
            {
                continue;
            }
            let states: BTreeMap<String, ServiceState> = members
                .iter()
                .filter_map(|m| {
                    self.services[&m.service]
                        .state
                        .map(|s| (m.service.clone(), s))
                })
                .collect();
            let services = &self.services;
            let model = &self.model;
            let next = g
                .group
                .next(&states, &moving, moving.len() + room, |s, from| {
                    let svc = &services[s];
                    if svc.running.is_some() || svc.hold_until > now {
                        return None;
                    }
                    let def = &model.services[s];
                    def.step(from, Self::target(def, role))
                });
            for (s, kind) in next {
                let def = &self.model.services[&s];
                let Some(a) = def.action(kind) else { continue };
                if let Some(svc) = self.services.get_mut(&s) {
                    svc.running = Some(kind);
                }
                out.push(Run {
                    service: s,
                    action: kind,
                    timeout: a.timeout,
                });
                room = room.saturating_sub(1);
            }
        }
        // Audits due.
        for (name, svc) in &mut self.services {
            let Some(state) = svc.state else { continue };
            if svc.running.is_some() || svc.next_audit > now {
                continue;
            }
            let def = &self.model.services[name];
            if let Some(a) = def.audit(state) {
                svc.running = Some(a.kind);
                out.push(Run {
                    service: name.clone(),
                    action: a.kind,
                    timeout: a.timeout,
                });
            }
        }
        out
    }

    /// What became of a [`Run`]: an action done (`Ok(None)`), an audit's
    /// [`Finding`] (`Ok(Some(..))`), or a failure or timeout (`Err`).
    pub fn finished(
        &mut self,
        service: &str,
        action: ActionKind,
        result: Result<Option<Finding>, String>,
        now: Duration,
    ) {
        let Some(def) = self.model.services.get(service) else {
            return;
        };
        let Some(svc) = self.services.get_mut(service) else {
            return;
        };
        if svc.running != Some(action) {
            return;
        }
        svc.running = None;
        let audit_every = def
            .audit(svc.state.unwrap_or(ServiceState::Disabled))
            .map_or(Duration::from_secs(10), |a| a.interval);
        // Only an audit that finds it running tells that it is impaired;
        // anything else ends the impairment.
        let impaired = match &result {
            Ok(Some(f)) if action.is_audit() && f.state != ServiceState::Disabled => {
                f.impaired.clone()
            }
            _ => None,
        };
        match impaired {
            Some(why) => {
                let since = *svc.impaired_since.get_or_insert(now);
                if now.saturating_sub(since) >= IMPAIRED_GRACE {
                    svc.impaired = Some(why);
                }
            }
            None => {
                svc.impaired = None;
                svc.impaired_since = None;
            }
        }
        match (action.is_audit(), result) {
            (true, Ok(finding)) => {
                let found = finding.map_or(ServiceState::Disabled, |f| f.state);
                svc.next_audit = now + audit_every;
                match svc.state {
                    None => svc.state = Some(found),
                    Some(s) if s == found => {}
                    Some(s) => {
                        if s != ServiceState::Disabled {
                            // It stopped (or changed) behind SM's back.
                            let window = def.fail_countdown_interval;
                            svc.audit_failures
                                .retain(|t| now.saturating_sub(*t) < window);
                            svc.audit_failures.push(now);
                            svc.reason =
                                format!("found {} while {}", settled_str(found), settled_str(s));
                            if svc.audit_failures.len() >= def.max_failures.max(1) as usize {
                                svc.status = Status::Failed;
                                svc.condition = Condition::RecoveryFailure;
                                svc.failed_at = Some(now);
                                svc.hold_until = now + window;
                                svc.audit_failures.clear();
                            } else if svc.status < Status::Warn {
                                svc.status = Status::Warn;
                            }
                        }
                        svc.state = Some(found);
                    }
                }
            }
            (true, Err(reason)) => {
                // The audit itself failed: the state is unknown, nothing
                // is acted on until an audit says; it counts as a failed
                // action.
                svc.reason = format!("{} failed: {reason}", action.as_str());
                svc.next_audit = now + ACTION_RETRY;
                svc.action_failures += 1;
                if svc.action_failures >= def.max_action_failures.max(1) {
                    svc.status = Status::Failed;
                    svc.condition = Condition::ActionFailure;
                    svc.failed_at = Some(now);
                    svc.action_failures = 0;
                } else if svc.status < Status::Warn {
                    svc.status = Status::Warn;
                }
            }
            (false, Ok(_)) => {
                svc.state = def.after(action).or(svc.state);
                svc.action_failures = 0;
                if svc.hold_until <= now {
                    svc.status = Status::None;
                    svc.condition = Condition::None;
                }
                svc.next_audit = now + audit_every;
            }
            (false, Err(reason)) => {
                svc.action_failures += 1;
                svc.reason = format!("{} failed: {reason}", action.as_str());
                // What it left behind is audited before anything else.
                svc.next_audit = now;
                svc.hold_until = now + ACTION_RETRY;
                if svc.action_failures >= def.max_action_failures.max(1) {
                    svc.status = Status::Failed;
                    svc.condition = Condition::ActionFailure;
                    svc.failed_at = Some(now);
                    svc.hold_until = now + def.fail_countdown_interval;
                    svc.action_failures = 0;
                } else if svc.status < Status::Warn {
                    svc.status = Status::Warn;
                }
            }
        }
    }

    /// The services, in name order.
    pub fn services(&self) -> Vec<ServiceView> {
        let mut out = Vec::new();
        for g in &self.model.groups {
            let role = self.desired[&g.group.name];
            for m in g.group.members() {
                let def = &self.model.services[&m.service];
                let svc = &self.services[&m.service];
                out.push(ServiceView {
                    name: m.service.clone(),
                    group: g.group.name.clone(),
                    desired: Self::target(def, role),
                    state: state_str(svc.state, svc.running.filter(|k| !k.is_audit())),
                    status: svc.status(),
                    condition: svc.condition,
                    reason: svc.impaired.clone().unwrap_or_else(|| svc.reason.clone()),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The groups, in the model's order, at `now`.
    pub fn groups(&self, now: Duration) -> Vec<GroupView> {
        self.model
            .groups
            .iter()
            .map(|g| {
                let role = self.desired[&g.group.name];
                let members = g.group.members();
                let failed_at: BTreeMap<String, Duration> = members
                    .iter()
                    .filter_map(|m| {
                        self.services[&m.service]
                            .failed_at
                            .map(|t| (m.service.clone(), t))
                    })
                    .collect();
                // A member impaired degrades its group, whatever its
                // impact on failure.
                let impaired = members
                    .iter()
                    .any(|m| self.services[&m.service].impaired.is_some());
                let status = g.group.status(&failed_at, now).max(if impaired {
                    Status::Degraded
                } else {
                    Status::None
                });
                let condition = members
                    .iter()
                    .map(|m| &self.services[&m.service])
                    .filter(|s| s.status == Status::Failed)
                    .map(|s| s.condition)
                    .next()
                    .unwrap_or(Condition::None);
                let known = members
                    .iter()
                    .all(|m| self.services[&m.service].state.is_some());
                let there = members.iter().all(|m| {
                    let def = &self.model.services[&m.service];
                    let svc = &self.services[&m.service];
                    svc.running.is_none_or(ActionKind::is_audit)
                        && svc.state == Some(Self::target(def, role))
                });
                let state = match (known, there, role) {
                    (false, _, _) => "initial",
                    (true, true, Desired::Active) => "active",
                    (true, false, Desired::Active) => "go-active",
                    (true, true, Desired::Standby) => "standby",
                    (true, false, Desired::Standby) => "go-standby",
                    (true, true, Desired::Disabled) => "disabled",
                    (true, false, Desired::Disabled) => "disabling",
                };
                GroupView {
                    name: g.group.name.clone(),
                    desired: role,
                    state,
                    status,
                    condition,
                }
            })
            .collect()
    }

    /// Whether any service of a group holds an active role here: one
    /// settled active, or on its way there (the action may already have
    /// taken effect).
    pub fn holds_active(&self, group: &str) -> bool {
        self.model.group(group).is_some_and(|g| {
            g.group.members().iter().any(|m| {
                let def = &self.model.services[&m.service];
                let svc = &self.services[&m.service];
                svc.state == Some(ServiceState::EnabledActive)
                    || svc.running == Some(ActionKind::GoActive)
                    || svc.running == Some(ActionKind::Enable)
                        && def.enabled_state() == ServiceState::EnabledActive
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Impact;
    use crate::model::{ActionDef, DomainDef, DomainMember, Parts, Plugin};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn service(name: &str, standby_role: bool) -> ServiceDef {
        let mut kinds = vec![
            ActionKind::Enable,
            ActionKind::Disable,
            ActionKind::AuditEnabled,
            ActionKind::AuditDisabled,
        ];
        if standby_role {
            kinds.extend([ActionKind::GoActive, ActionKind::GoStandby]);
        }
        ServiceDef {
            name: name.into(),
            max_failures: 2,
            fail_countdown_interval: secs(90),
            max_action_failures: 4,
            actions: kinds
                .into_iter()
                .map(|k| {
                    (
                        k,
                        ActionDef {
                            kind: k,
                            plugin: Plugin::default(),
                            timeout: secs(20),
                            interval: secs(5),
                        },
                    )
                })
                .collect(),
            instance: BTreeMap::new(),
        }
    }

    /// management-ip, then postgres (a replica when standby), then the
    /// API; snmp beside them with a major impact.
    fn model(throttle: usize) -> Model {
        use ServiceState::*;
        Model::build(Parts {
            domain: DomainDef {
                name: "controller".into(),
                priority: 230,
                preempt: false,
                hello: Duration::from_millis(200),
                dead: Duration::from_millis(800),
                wait: secs(5),
                exchange: secs(2),
                generation: 0,
                members: vec![DomainMember {
                    group: "controller-services".into(),
                    n_active: 1,
                    m_standby: 1,
                    aggregate: None,
                    active_only_if_active: None,
                }],
                interfaces: vec![],
            },
            groups: vec![("controller-services".into(), true, false, secs(300))],
            members: vec![
                (
                    "controller-services".into(),
                    "management-ip".into(),
                    Impact::Critical,
                ),
                (
                    "controller-services".into(),
                    "postgres".into(),
                    Impact::Critical,
                ),
                ("controller-services".into(), "api".into(), Impact::Critical),
                ("controller-services".into(), "snmp".into(), Impact::Major),
            ],
            services: vec![
                service("management-ip", false),
                service("postgres", true),
                service("api", false),
                service("snmp", false),
            ],
            dependencies: vec![
                (
                    "postgres".into(),
                    ActionKind::GoActive,
                    "management-ip".into(),
                    EnabledActive,
                ),
                (
                    "api".into(),
                    ActionKind::Enable,
                    "postgres".into(),
                    EnabledActive,
                ),
                (
                    "postgres".into(),
                    ActionKind::GoStandby,
                    "api".into(),
                    Disabled,
                ),
                (
                    "management-ip".into(),
                    ActionKind::Disable,
                    "postgres".into(),
                    EnabledStandby,
                ),
            ],
            throttle,
        })
        .unwrap()
    }

    /// Runs every [`Run`] at once: actions succeed, audits find what the
    /// `world` holds (the services' real states), which actions change.
    fn settle(n: &mut Node, world: &mut BTreeMap<String, ServiceState>, now: Duration) -> Vec<Run> {
        let mut all = Vec::new();
        for _ in 0..20 {
            let runs = n.tick(now);
            if runs.is_empty() {
                break;
            }
            for r in &runs {
                let def = n.model().services[&r.service].clone();
                let result = match def.after(r.action) {
                    Some(s) => {
                        world.insert(r.service.clone(), s);
                        Ok(None)
                    }
                    None => Ok(world.get(&r.service).copied().map(Finding::from)),
                };
                n.finished(&r.service, r.action, result, now);
            }
            all.extend(runs);
        }
        all
    }

    fn acts(runs: &[Run]) -> Vec<String> {
        runs.iter()
            .filter(|r| !r.action.is_audit())
            .map(|r| format!("{} {}", r.service, r.action.as_str()))
            .collect()
    }

    #[test]
    fn a_group_goes_active_in_dependency_order_after_its_first_audits() {
        let mut n = Node::new(model(8));
        let mut world = BTreeMap::new();
        let g = &n.groups(secs(0))[0];
        assert_eq!((g.state, g.desired), ("initial", Desired::Disabled));
        // Nothing is done before every member's state is known.
        let first = n.tick(secs(0));
        assert_eq!(first.len(), 4);
        assert!(first.iter().all(|r| r.action == ActionKind::AuditDisabled));
        for r in &first {
            n.finished(&r.service, r.action, Ok(None), secs(0));
        }
        assert_eq!(n.groups(secs(0))[0].state, "disabled");
        n.desire("controller-services", Desired::Active);
        let runs = n.tick(secs(1));
        assert_eq!(
            acts(&runs),
            ["management-ip enable", "postgres enable", "snmp enable"],
            "the API waits for the database"
        );
        assert_eq!(n.groups(secs(1))[0].state, "go-active");
        assert!(
            n.holds_active("controller-services"),
            "an address is being raised"
        );
        for r in &runs {
            let def = n.model().services[&r.service].clone();
            world.insert(r.service.clone(), def.after(r.action).unwrap());
            n.finished(&r.service, r.action, Ok(None), secs(1));
        }
        let rest = settle(&mut n, &mut world, secs(2));
        assert_eq!(acts(&rest), ["postgres go-active", "api enable"]);
        let g = &n.groups(secs(2))[0];
        assert_eq!((g.state, g.status), ("active", Status::None));
        assert!(n.services().iter().all(|s| s.state == "enabled-active"));
    }

    #[test]
    fn the_throttle_bounds_what_moves_at_once() {
        let mut n = Node::new(model(1));
        let mut world = BTreeMap::new();
        settle(&mut n, &mut world, secs(0));
        n.desire("controller-services", Desired::Active);
        let runs = n.tick(secs(1));
        assert_eq!(acts(&runs), ["management-ip enable"]);
        assert!(acts(&n.tick(secs(1))).is_empty(), "one at a time");
    }

    #[test]
    fn standby_keeps_the_replica_and_stops_the_rest_in_order() {
        let mut n = Node::new(model(8));
        let mut world = BTreeMap::new();
        settle(&mut n, &mut world, secs(0));
        n.desire("controller-services", Desired::Active);
        settle(&mut n, &mut world, secs(1));
        n.desire("controller-services", Desired::Standby);
        let runs = settle(&mut n, &mut world, secs(2));
        assert_eq!(
            acts(&runs),
            [
                "api disable",
                "snmp disable",
                "postgres go-standby",
                "management-ip disable"
            ]
        );
        assert_eq!(n.groups(secs(2))[0].state, "standby");
        assert_eq!(world["postgres"], ServiceState::EnabledStandby);
        assert!(!n.holds_active("controller-services"));
        let pg = n
            .services()
            .into_iter()
            .find(|s| s.name == "postgres")
            .unwrap();
        assert_eq!(pg.state, "enabled-standby");
    }

    #[test]
    fn a_service_that_stops_is_restarted_then_failed_with_its_impact() {
        let mut n = Node::new(model(8));
        let mut world = BTreeMap::new();
        settle(&mut n, &mut world, secs(0));
        n.desire("controller-services", Desired::Active);
        settle(&mut n, &mut world, secs(1));
        // snmp (major) dies: the audit finds it, SM restarts it.
        world.insert("snmp".into(), ServiceState::Disabled);
        let runs = settle(&mut n, &mut world, secs(10));
        assert_eq!(acts(&runs), ["snmp enable"]);
        let snmp = n.services().into_iter().find(|s| s.name == "snmp").unwrap();
        assert_eq!((snmp.state, snmp.status), ("enabled-active", Status::None));
        // Again within 90 s: failed, held, the group degraded.
        world.insert("snmp".into(), ServiceState::Disabled);
        let runs = settle(&mut n, &mut world, secs(20));
        assert!(acts(&runs).is_empty(), "held: {runs:?}");
        let snmp = n.services().into_iter().find(|s| s.name == "snmp").unwrap();
        assert_eq!(
            (snmp.state, snmp.status, snmp.condition),
            ("disabled", Status::Failed, Condition::RecoveryFailure)
        );
        let g = &n.groups(secs(20))[0];
        assert_eq!((g.state, g.status), ("go-active", Status::Degraded));
        // After the countdown it is tried again; the failure still counts
        // within the group's debounce.
        let runs = settle(&mut n, &mut world, secs(111));
        assert_eq!(acts(&runs), ["snmp enable"]);
        assert_eq!(n.groups(secs(111))[0].status, Status::Degraded);
        assert_eq!(n.groups(secs(321))[0].status, Status::None);
    }

    #[test]
    fn an_impaired_service_degrades_its_group_until_an_audit_finds_it_whole() {
        let mut n = Node::new(model(8));
        let mut world = BTreeMap::new();
        settle(&mut n, &mut world, secs(0));
        n.desire("controller-services", Desired::Active);
        settle(&mut n, &mut world, secs(1));
        assert_eq!(n.groups(secs(1))[0].status, Status::None);
        let audit = |n: &mut Node, t: Duration, impaired: Option<&str>| {
            for _ in 0..100 {
                let runs = n.tick(t);
                let mine = runs
                    .iter()
                    .find(|r| r.service == "postgres" && r.action.is_audit());
                for r in &runs {
                    let finding = Finding {
                        state: ServiceState::EnabledActive,
                        impaired: impaired
                            .filter(|_| r.service == "postgres")
                            .map(str::to_string),
                    };
                    n.finished(&r.service, r.action, Ok(Some(finding)), t);
                }
                if mine.is_some() {
                    return;
                }
            }
            panic!("postgres never audited");
        };
        audit(&mut n, secs(100), Some("its standby does not stream"));
        // Not yet: impaired for less than the grace.
        assert_eq!(n.groups(secs(100))[0].status, Status::None);
        audit(&mut n, secs(105), Some("its standby does not stream"));
        audit(&mut n, secs(100) + IMPAIRED_GRACE, None);
        assert_eq!(n.groups(secs(110))[0].status, Status::None);
        audit(&mut n, secs(120), Some("its standby does not stream"));
        audit(
            &mut n,
            secs(120) + IMPAIRED_GRACE,
            Some("its standby does not stream"),
        );
        let g = &n.groups(secs(130))[0];
        assert_eq!((g.state, g.status), ("active", Status::Degraded));
        let pg = n
            .services()
            .into_iter()
            .find(|s| s.name == "postgres")
            .unwrap();
        assert_eq!(
            (pg.state, pg.status, pg.reason.as_str()),
            (
                "enabled-active",
                Status::Degraded,
                "its standby does not stream"
            )
        );
        audit(&mut n, secs(200), None);
        assert_eq!(n.groups(secs(200))[0].status, Status::None);
        let pg = n
            .services()
            .into_iter()
            .find(|s| s.name == "postgres")
            .unwrap();
        assert_eq!((pg.status, pg.reason.as_str()), (Status::None, ""));
    }

    #[test]
    fn failing_actions_fail_a_critical_service_and_its_group() {
        let mut n = Node::new(model(8));
        let mut world = BTreeMap::new();
        settle(&mut n, &mut world, secs(0));
        n.desire("controller-services", Desired::Active);
        let mut t = secs(1);
        let mut tries = 0;
        for _ in 0..50 {
            for r in n.tick(t) {
                let result = if r.service == "management-ip" && !r.action.is_audit() {
                    tries += 1;
                    Err("ip: RTNETLINK answers: Cannot assign requested address".into())
                } else if r.action.is_audit() {
                    Ok(world.get(&r.service).copied().map(Finding::from))
                } else {
                    let def = n.model().services[&r.service].clone();
                    world.insert(r.service.clone(), def.after(r.action).unwrap());
                    Ok(None)
                };
                n.finished(&r.service, r.action, result, t);
            }
            t += Duration::from_millis(500);
        }
        assert_eq!(tries, 4, "max_action_failures, then held");
        let ip = n
            .services()
            .into_iter()
            .find(|s| s.name == "management-ip")
            .unwrap();
        assert_eq!(
            (ip.status, ip.condition),
            (Status::Failed, Condition::ActionFailure)
        );
        assert!(ip.reason.contains("Cannot assign"), "{}", ip.reason);
        let g = &n.groups(t)[0];
        assert_eq!(
            (g.status, g.condition),
            (Status::Failed, Condition::ActionFailure)
        );
        // Nothing behind it moved: postgres waits for the address.
        assert_ne!(world.get("postgres"), Some(&ServiceState::EnabledActive));
    }

    #[test]
    fn models_that_could_never_run_are_refused() {
        let mut m = model(8);
        let pg = m.services.get_mut("postgres").unwrap();
        pg.actions.remove(&ActionKind::GoActive);
        let e = Model::build(Parts {
            domain: m.domain.clone(),
            groups: vec![("controller-services".into(), true, false, secs(300))],
            members: vec![(
                "controller-services".into(),
                "postgres".into(),
                Impact::Critical,
            )],
            services: vec![pg.clone()],
            dependencies: vec![],
            throttle: 2,
        })
        .unwrap_err();
        assert!(e.contains("go-standby action without a go-active"), "{e}");
        let e = Model::build(Parts {
            domain: m.domain.clone(),
            groups: vec![("controller-services".into(), true, false, secs(300))],
            members: vec![(
                "controller-services".into(),
                "nope".into(),
                Impact::Critical,
            )],
            services: vec![],
            dependencies: vec![],
            throttle: 2,
        })
        .unwrap_err();
        assert!(e.contains("unknown service nope"), "{e}");
        // A peer lost between two hellos would be lost at every jitter.
        let e = Model::build(Parts {
            domain: DomainDef {
                dead: Duration::from_millis(300),
                ..m.domain.clone()
            },
            groups: vec![],
            members: vec![],
            services: vec![],
            dependencies: vec![],
            throttle: 2,
        })
        .unwrap_err();
        assert!(e.contains("at least two hellos"), "{e}");
    }
}
