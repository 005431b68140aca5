//! A service group's members and how they move (StarlingX SM's service
//! group, restated): the members' failures folded into the group's status
//! by their impact, and the order in which members are acted on when the
//! group goes active, goes standby or is disabled — each action waits for
//! the members it depends on, and at most `throttle` are started at once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::model::ActionKind;

/// What a member's failure does to its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    None,
    /// The group warns.
    Minor,
    /// The group is degraded.
    Major,
    /// The group fails (on the active controller: a failover).
    Critical,
}

/// A group's status, from its members'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    None,
    Warn,
    Degraded,
    Failed,
}

/// A service's state (SM's, without the transitional ones the executor
/// keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceState {
    Disabled,
    EnabledStandby,
    EnabledActive,
}

/// "Before `action` on `service`, `dependent` must be in `state`" (SM's
/// action dependencies: a database's `enable` waits for its address to
/// be `enabled-active`; the address's `disable` waits for the database
/// to be `disabled`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub action: ActionKind,
    pub dependent: String,
    pub state: ServiceState,
}

/// One member and its impact on the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub service: String,
    pub impact: Impact,
}

/// A service group: its members and their dependencies, checked.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    members: Vec<Member>,
    dependencies: Vec<Dependency>,
    /// How long a member's failure counts (SM's `failure_debounce`, 300 s).
    pub failure_debounce: Duration,
}

impl Group {
    /// A group of `members` with `dependencies`; refused when a
    /// dependency names a service outside the group, or when an action's
    /// dependencies go round in a cycle (the group could never move).
    pub fn new(
        name: &str,
        members: Vec<Member>,
        dependencies: Vec<Dependency>,
    ) -> Result<Group, String> {
        let names: BTreeSet<&str> = members.iter().map(|m| m.service.as_str()).collect();
        if names.len() != members.len() {
            return Err(format!("group {name}: a service is listed twice"));
        }
        for d in &dependencies {
            for s in [&d.service, &d.dependent] {
                if !names.contains(s.as_str()) {
                    return Err(format!("group {name}: {s} is not a member"));
                }
            }
        }
        for action in ActionKind::ALL {
            let edges: Vec<(&str, &str)> = dependencies
                .iter()
                .filter(|d| d.action == action)
                .map(|d| (d.service.as_str(), d.dependent.as_str()))
                .collect();
            if let Some(s) = cycle(&names, &edges) {
                return Err(format!(
                    "group {name}: the {} dependencies of {s} go round in a cycle",
                    action.as_str()
                ));
            }
        }
        Ok(Group {
            name: name.to_string(),
            members,
            dependencies,
            failure_debounce: Duration::from_secs(300),
        })
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The group's status at `now`, from when each member last failed
    /// (absent: not failed): the worst impact of the members failed
    /// within the debounce.
    pub fn status(&self, failed_at: &BTreeMap<String, Duration>, now: Duration) -> Status {
        self.members
            .iter()
            .filter(|m| {
                failed_at
                    .get(&m.service)
                    .is_some_and(|t| now.saturating_sub(*t) < self.failure_debounce)
            })
            .map(|m| match m.impact {
                Impact::None => Status::None,
                Impact::Minor => Status::Warn,
                Impact::Major => Status::Degraded,
                Impact::Critical => Status::Failed,
            })
            .max()
            .unwrap_or(Status::None)
    }

    /// The members to act on now, with the action: `step` gives a
    /// member's next action from its state towards where the group wants
    /// it (`None`: there). A member already moving (`moving`) is left
    /// alone, one whose dependencies for its action do not hold waits,
    /// and at most `throttle` move at once. Empty when every member is
    /// where it should be or waiting.
    pub fn next(
        &self,
        states: &BTreeMap<String, ServiceState>,
        moving: &BTreeSet<String>,
        throttle: usize,
        step: impl Fn(&str, ServiceState) -> Option<ActionKind>,
    ) -> Vec<(String, ActionKind)> {
        let state = |s: &str| states.get(s).copied().unwrap_or(ServiceState::Disabled);
        let room = throttle.saturating_sub(moving.len());
        self.members
            .iter()
            .map(|m| m.service.as_str())
            .filter(|s| !moving.contains(*s))
            .filter_map(|s| step(s, state(s)).map(|k| (s, k)))
            .filter(|(s, k)| {
                self.dependencies
                    .iter()
                    .filter(|d| d.action == *k && d.service == *s)
                    .all(|d| state(&d.dependent) == d.state)
            })
            .take(room)
            .map(|(s, k)| (s.to_string(), k))
            .collect()
    }
}

/// A service on a cycle of `edges` (service → what it waits for), if any.
fn cycle<'a>(names: &BTreeSet<&'a str>, edges: &[(&'a str, &'a str)]) -> Option<&'a str> {
    // Kahn's algorithm: what cannot be ordered is on (or behind) a cycle.
    let mut waits: BTreeMap<&str, usize> = names.iter().map(|n| (*n, 0)).collect();
    for (s, _) in edges {
        *waits.entry(s).or_default() += 1;
    }
    let mut ready: Vec<&str> = waits
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(s, _)| *s)
        .collect();
    let mut done = 0;
    while let Some(x) = ready.pop() {
        done += 1;
        for (s, d) in edges {
            if *d == x
                && let Some(n) = waits.get_mut(s)
            {
                *n -= 1;
                if *n == 0 {
                    ready.push(s);
                }
            }
        }
    }
    (done < names.len()).then(|| {
        waits
            .into_iter()
            .find(|(_, n)| *n > 0)
            .map_or("?", |(s, _)| s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(s: &str, impact: Impact) -> Member {
        Member {
            service: s.into(),
            impact,
        }
    }

    fn dep(service: &str, action: ActionKind, dependent: &str, state: ServiceState) -> Dependency {
        Dependency {
            service: service.into(),
            action,
            dependent: dependent.into(),
            state,
        }
    }

    use ActionKind::*;
    use ServiceState::*;

    /// The controller group in small: the floating address first, then
    /// the database, then the API; stopping, the reverse.
    fn controller() -> Group {
        Group::new(
            "controller-services",
            vec![
                member("management-ip", Impact::Critical),
                member("postgres", Impact::Critical),
                member("api", Impact::Critical),
                member("dnsmasq", Impact::Minor),
                member("snmp", Impact::Major),
            ],
            vec![
                dep("postgres", Enable, "management-ip", EnabledActive),
                dep("api", Enable, "postgres", EnabledActive),
                dep("postgres", Disable, "api", Disabled),
                dep("management-ip", Disable, "postgres", Disabled),
            ],
        )
        .unwrap()
    }

    /// Every member straight to `to` (enable to active, disable).
    fn towards(to: ServiceState) -> impl Fn(&str, ServiceState) -> Option<ActionKind> {
        move |_, from| match (from, to) {
            (a, b) if a == b => None,
            (_, Disabled) => Some(Disable),
            _ => Some(Enable),
        }
    }

    fn names(v: Vec<(String, ActionKind)>) -> Vec<String> {
        v.into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn going_active_follows_the_dependencies_within_the_throttle() {
        let g = controller();
        let mut states = BTreeMap::new();
        let none = BTreeSet::new();
        let up = towards(EnabledActive);
        // First: what waits for nothing, two at a time.
        assert_eq!(
            g.next(&states, &none, 2, &up),
            [
                ("management-ip".to_string(), Enable),
                ("dnsmasq".into(), Enable)
            ]
        );
        let moving: BTreeSet<String> = ["management-ip".to_string()].into();
        assert_eq!(
            names(g.next(&states, &moving, 2, &up)),
            ["dnsmasq"],
            "one slot left"
        );
        for s in ["management-ip", "dnsmasq", "snmp"] {
            states.insert(s.to_string(), EnabledActive);
        }
        assert_eq!(names(g.next(&states, &none, 2, &up)), ["postgres"]);
        states.insert("postgres".into(), EnabledActive);
        assert_eq!(names(g.next(&states, &none, 2, &up)), ["api"]);
        states.insert("api".into(), EnabledActive);
        assert!(g.next(&states, &none, 2, &up).is_empty());
        // Stopping: the API first, the address last.
        let down = towards(Disabled);
        let next = names(g.next(&states, &none, 5, &down));
        assert!(next.contains(&"api".to_string()) && !next.contains(&"postgres".to_string()));
        assert!(!next.contains(&"management-ip".to_string()));
        states.insert("api".into(), Disabled);
        assert!(names(g.next(&states, &none, 5, &down)).contains(&"postgres".to_string()));
    }

    #[test]
    fn the_worst_recent_failure_is_the_groups_status() {
        let g = controller();
        let t = Duration::from_secs(1000);
        let mut failed = BTreeMap::new();
        assert_eq!(g.status(&failed, t), Status::None);
        failed.insert("dnsmasq".to_string(), t);
        assert_eq!(g.status(&failed, t), Status::Warn);
        failed.insert("snmp".to_string(), t);
        assert_eq!(g.status(&failed, t), Status::Degraded);
        failed.insert("postgres".to_string(), t - Duration::from_secs(299));
        assert_eq!(g.status(&failed, t), Status::Failed);
        // Past the debounce a failure no longer counts.
        assert_eq!(
            g.status(&failed, t + Duration::from_secs(2)),
            Status::Degraded
        );
        assert_eq!(
            g.status(&failed, t + Duration::from_secs(300)),
            Status::None
        );
    }

    #[test]
    fn bad_groups_are_refused_with_the_reason() {
        let e = Group::new(
            "g",
            vec![member("a", Impact::None), member("b", Impact::None)],
            vec![
                dep("a", Enable, "b", EnabledActive),
                dep("b", Enable, "a", EnabledActive),
            ],
        )
        .unwrap_err();
        assert!(e.contains("cycle"), "{e}");
        let e = Group::new(
            "g",
            vec![member("a", Impact::None)],
            vec![dep("a", Disable, "z", Disabled)],
        )
        .unwrap_err();
        assert!(e.contains("z is not a member"), "{e}");
        let e = Group::new(
            "g",
            vec![member("a", Impact::None), member("a", Impact::Minor)],
            vec![],
        )
        .unwrap_err();
        assert!(e.contains("twice"), "{e}");
        // The same pair in opposite directions for different actions is
        // no cycle.
        assert!(controller().members().len() == 5);
    }
}
