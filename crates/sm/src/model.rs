//! What service management manages, as its tables describe it (StarlingX
//! SM's data model, restated): the controller domain and its member
//! groups, each group's member services with their failure impact, each
//! service's actions with their timeouts and audit periods, and the
//! dependencies between actions. The store loads a [`Model`] from SQL and
//! [`Model::check`] refuses one that could never run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::group::{Dependency, Group, Impact, Member, ServiceState};

/// An action SM runs on a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Enable,
    Disable,
    GoActive,
    GoStandby,
    /// The audit of a service that should be running.
    AuditEnabled,
    /// The audit of a service that should be stopped.
    AuditDisabled,
}

impl ActionKind {
    pub const ALL: [ActionKind; 6] = [
        ActionKind::Enable,
        ActionKind::Disable,
        ActionKind::GoActive,
        ActionKind::GoStandby,
        ActionKind::AuditEnabled,
        ActionKind::AuditDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Enable => "enable",
            ActionKind::Disable => "disable",
            ActionKind::GoActive => "go-active",
            ActionKind::GoStandby => "go-standby",
            ActionKind::AuditEnabled => "audit-enabled",
            ActionKind::AuditDisabled => "audit-disabled",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_audit(self) -> bool {
        matches!(self, ActionKind::AuditEnabled | ActionKind::AuditDisabled)
    }
}

/// How an action is carried out: the executor (`plugin_type`: exec,
/// systemd, process, ip, postgres) and what it is given. The domain
/// passes it through; the daemon's executors read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plugin {
    pub kind: String,
    pub name: String,
    pub command: String,
    pub parameters: String,
}

/// One action of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDef {
    pub kind: ActionKind,
    pub plugin: Plugin,
    /// Cut off (and counted as failed) after this long.
    pub timeout: Duration,
    /// For an audit: how often it runs.
    pub interval: Duration,
}

/// A managed service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDef {
    pub name: String,
    /// Audit failures (the service found stopped while it should run)
    /// within `fail_countdown_interval` that fail it (SM: 2, 90 s).
    pub max_failures: u32,
    pub fail_countdown_interval: Duration,
    /// Failed actions in a row that fail it (SM: 4).
    pub max_action_failures: u32,
    pub actions: BTreeMap<ActionKind, ActionDef>,
    /// Instance parameters (`sm-configure service_instance`): the
    /// floating address, the database's data directory…
    pub instance: BTreeMap<String, String>,
}

impl ServiceDef {
    pub fn action(&self, kind: ActionKind) -> Option<&ActionDef> {
        self.actions.get(&kind)
    }

    /// Where `enable` leaves the service: standby when it has a
    /// `go-active` to take next, else active.
    pub fn enabled_state(&self) -> ServiceState {
        if self.actions.contains_key(&ActionKind::GoActive) {
            ServiceState::EnabledStandby
        } else {
            ServiceState::EnabledActive
        }
    }

    /// The service's state while its group is standby: enabled-standby
    /// when it has a standby role (a `go-standby`: a database replica),
    /// else stopped.
    pub fn standby_state(&self) -> ServiceState {
        if self.actions.contains_key(&ActionKind::GoStandby) {
            ServiceState::EnabledStandby
        } else {
            ServiceState::Disabled
        }
    }

    /// The next action from `from` towards `to`, if one is needed.
    pub fn step(&self, from: ServiceState, to: ServiceState) -> Option<ActionKind> {
        use ServiceState::*;
        match (from, to) {
            (a, b) if a == b => None,
            (_, Disabled) => Some(ActionKind::Disable),
            (Disabled, _) => Some(ActionKind::Enable),
            (EnabledStandby, EnabledActive) => Some(ActionKind::GoActive),
            (EnabledActive, EnabledStandby) => Some(if self.has(ActionKind::GoStandby) {
                ActionKind::GoStandby
            } else {
                ActionKind::Disable
            }),
            _ => None,
        }
    }

    fn has(&self, k: ActionKind) -> bool {
        self.actions.contains_key(&k)
    }

    /// The state an action leaves the service in when it succeeds.
    pub fn after(&self, kind: ActionKind) -> Option<ServiceState> {
        match kind {
            ActionKind::Enable => Some(self.enabled_state()),
            ActionKind::Disable => Some(ServiceState::Disabled),
            ActionKind::GoActive => Some(ServiceState::EnabledActive),
            ActionKind::GoStandby => Some(ServiceState::EnabledStandby),
            ActionKind::AuditEnabled | ActionKind::AuditDisabled => None,
        }
    }

    /// The audit for a service in `state`.
    pub fn audit(&self, state: ServiceState) -> Option<&ActionDef> {
        match state {
            ServiceState::Disabled => self.action(ActionKind::AuditDisabled),
            _ => self.action(ActionKind::AuditEnabled),
        }
        .or_else(|| self.action(ActionKind::AuditEnabled))
    }
}

/// A service group as the tables describe it.
#[derive(Clone, Debug)]
pub struct GroupDef {
    pub group: Group,
    /// Retry a failed member on this node rather than give the group up.
    pub auto_recover: bool,
    /// A fatal failure with no peer to take over reboots the node.
    pub fatal_error_reboot: bool,
}

/// How a domain runs a group: `n_active` actives and `m_standby`
/// standbys; groups of one `aggregate` are active on the same node; a
/// group with `active_only_if_active` is active only where that group is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainMember {
    pub group: String,
    pub n_active: usize,
    pub m_standby: usize,
    pub aggregate: Option<String>,
    pub active_only_if_active: Option<String>,
}

/// A heartbeat and messaging path of the domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDef {
    /// `management-interface`, `cluster-host-interface`, `oam-interface`.
    pub name: String,
    pub provisioned: bool,
    /// The network device.
    pub device: String,
    pub address: String,
    pub port: u16,
    pub peer_address: String,
    pub peer_port: u16,
}

impl InterfaceDef {
    /// The interface-down flag it stands for in heartbeats.
    pub fn down_flag(&self) -> u8 {
        use crate::failover::Down;
        match self.name.as_str() {
            "cluster-host-interface" => Down::CLUSTER_HOST,
            "management-interface" => Down::MGMT,
            "oam-interface" => Down::OAM,
            _ => Down::ADMIN,
        }
    }
}

/// The controller domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainDef {
    pub name: String,
    pub priority: u8,
    pub preempt: bool,
    pub hello: Duration,
    pub dead: Duration,
    pub wait: Duration,
    pub exchange: Duration,
    pub generation: u64,
    pub members: Vec<DomainMember>,
    pub interfaces: Vec<InterfaceDef>,
}

/// Everything SM manages on a node.
#[derive(Clone, Debug)]
pub struct Model {
    pub domain: DomainDef,
    pub groups: Vec<GroupDef>,
    pub services: BTreeMap<String, ServiceDef>,
    /// At most this many services enabling at once (SM's
    /// `ENABLING_THROTTLE`).
    pub throttle: usize,
}

/// A row's parts, as the store reads them, before they are checked.
pub struct Parts {
    pub domain: DomainDef,
    /// (group, auto_recover, fatal_error_reboot, failure_debounce)
    pub groups: Vec<(String, bool, bool, Duration)>,
    /// (group, service, impact)
    pub members: Vec<(String, String, Impact)>,
    pub services: Vec<ServiceDef>,
    /// (service, action, dependent, dependent state)
    pub dependencies: Vec<(String, ActionKind, String, ServiceState)>,
    pub throttle: usize,
}

impl Model {
    /// Assembles and checks a model: every member a known service in one
    /// group only, every domain member a known group, every service with
    /// the actions its role needs (enable and disable; go-active with
    /// go-standby), dependencies within a group and without cycles.
    pub fn build(p: Parts) -> Result<Model, String> {
        let d = &p.domain;
        if d.hello.is_zero() || d.dead < d.hello * 2 {
            return Err(format!(
                "domain {}: a hello interval of {} ms and a dead interval of {} ms (the dead interval must be at least two hellos)",
                d.name,
                d.hello.as_millis(),
                d.dead.as_millis()
            ));
        }
        let mut placed: BTreeMap<&str, &str> = BTreeMap::new();
        for (g, s, _) in &p.members {
            if !p.groups.iter().any(|x| &x.0 == g) {
                return Err(format!("service {s} is a member of an unknown group {g}"));
            }
            if !p.services.iter().any(|x| &x.name == s) {
                return Err(format!("group {g} lists an unknown service {s}"));
            }
            if let Some(other) = placed.insert(s, g) {
                return Err(format!("service {s} is a member of both {other} and {g}"));
            }
        }
        for s in &p.services {
            for k in [ActionKind::Enable, ActionKind::Disable] {
                if s.action(k).is_none() {
                    return Err(format!("service {}: no {} action", s.name, k.as_str()));
                }
            }
            if s.has(ActionKind::GoStandby) && !s.has(ActionKind::GoActive) {
                return Err(format!(
                    "service {}: a go-standby action without a go-active",
                    s.name
                ));
            }
            for a in s.actions.values() {
                if a.timeout.is_zero() {
                    return Err(format!(
                        "service {} {}: a timeout of 0",
                        s.name,
                        a.kind.as_str()
                    ));
                }
                if a.kind.is_audit() && a.interval.is_zero() {
                    return Err(format!(
                        "service {} {}: an audit interval of 0",
                        s.name,
                        a.kind.as_str()
                    ));
                }
            }
        }
        let mut groups = Vec::new();
        for (name, auto_recover, fatal_error_reboot, debounce) in &p.groups {
            let members: Vec<Member> = p
                .members
                .iter()
                .filter(|m| &m.0 == name)
                .map(|m| Member {
                    service: m.1.clone(),
                    impact: m.2,
                })
                .collect();
            let in_group: BTreeSet<&str> = members.iter().map(|m| m.service.as_str()).collect();
            let deps: Vec<Dependency> = p
                .dependencies
                .iter()
                .filter(|d| in_group.contains(d.0.as_str()))
                .map(|d| Dependency {
                    service: d.0.clone(),
                    action: d.1,
                    dependent: d.2.clone(),
                    state: d.3,
                })
                .collect();
            let mut group = Group::new(name, members, deps)?;
            group.failure_debounce = *debounce;
            groups.push(GroupDef {
                group,
                auto_recover: *auto_recover,
                fatal_error_reboot: *fatal_error_reboot,
            });
        }
        for d in &p.dependencies {
            if !placed.contains_key(d.0.as_str()) {
                return Err(format!("a dependency of {}, which is in no group", d.0));
            }
        }
        for m in &p.domain.members {
            if !groups.iter().any(|g| g.group.name == m.group) {
                return Err(format!(
                    "domain {} lists an unknown group {}",
                    p.domain.name, m.group
                ));
            }
            if m.n_active == 0 {
                return Err(format!("group {}: n_active is 0", m.group));
            }
            if let Some(x) = &m.active_only_if_active
                && !p.domain.members.iter().any(|o| &o.group == x)
            {
                return Err(format!(
                    "group {}: active only if {x} is, which is not in the domain",
                    m.group
                ));
            }
        }
        if p.throttle == 0 {
            return Err("ENABLING_THROTTLE is 0: nothing could ever start".into());
        }
        Ok(Model {
            domain: p.domain,
            groups,
            services: p
                .services
                .into_iter()
                .map(|s| (s.name.clone(), s))
                .collect(),
            throttle: p.throttle,
        })
    }

    pub fn group(&self, name: &str) -> Option<&GroupDef> {
        self.groups.iter().find(|g| g.group.name == name)
    }
}
