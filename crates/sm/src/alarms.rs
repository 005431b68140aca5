//! Service management's alarms, with StarlingX's ids and entity ids:
//!
//! - **400.001** a service group's state on a controller — warning (minor),
//!   degraded (major), failed (critical); entity
//!   `service_domain=D.service_group=G.host=H`;
//! - **400.002** a service group's loss of redundancy — fewer standbys
//!   than its `m_standby` (major), or no active at all (critical); entity
//!   `service_domain=D.service_group=G`;
//! - **400.005** a heartbeat path to the peer controller lost (major);
//!   entity `host=H.network=N`.
//!
//! [`Raised`] keeps what is raised and turns each period's wanted set into
//! effects: a set for what is new or changed (severity or text), a clear
//! for what is no longer wanted. Nothing is sent when nothing changed.

use std::collections::BTreeMap;

use starling_common::alarm::{AlarmDef, AlarmEffect, RaisedAlarm};

use crate::group::Status;

const fn def(
    id: &'static str,
    entity_type: &'static str,
    severity: &'static str,
    alarm_type: &'static str,
    repair: &'static str,
) -> AlarmDef {
    AlarmDef {
        id,
        entity_type,
        severity,
        alarm_type,
        probable_cause: "underlying-resource-unavailable",
        repair,
        service_affecting: true,
        suppression: true,
    }
}

const GROUP_REPAIR: &str = "Wait for the service group to recover; if it does not, lock and unlock the controller, or swact away from it.";
pub static GROUP_WARNING: AlarmDef = def(
    "400.001",
    "service_domain.service_group.host",
    "minor",
    "processing-error",
    GROUP_REPAIR,
);
pub static GROUP_DEGRADED: AlarmDef = def(
    "400.001",
    "service_domain.service_group.host",
    "major",
    "processing-error",
    GROUP_REPAIR,
);
pub static GROUP_FAILED: AlarmDef = def(
    "400.001",
    "service_domain.service_group.host",
    "critical",
    "processing-error",
    GROUP_REPAIR,
);

const REDUNDANCY_REPAIR: &str = "Bring the other controller back into service; if it will not come back, contact the next level of support.";
pub static REDUNDANCY_LOST: AlarmDef = def(
    "400.002",
    "service_domain.service_group",
    "major",
    "processing-error",
    REDUNDANCY_REPAIR,
);
pub static NO_ACTIVE: AlarmDef = def(
    "400.002",
    "service_domain.service_group",
    "critical",
    "processing-error",
    REDUNDANCY_REPAIR,
);

pub static PATH_LOST: AlarmDef = def(
    "400.005",
    "host.network",
    "major",
    "communication",
    "Check the cabling and the far end's port configuration and state on the equipment between the controllers.",
);

/// 400.001's entity.
pub fn group_entity(domain: &str, group: &str, host: &str) -> String {
    format!("service_domain={domain}.service_group={group}.host={host}")
}

/// 400.002's entity.
pub fn redundancy_entity(domain: &str, group: &str) -> String {
    format!("service_domain={domain}.service_group={group}")
}

/// 400.005's entity: the network of an interface (`mgmt`, `cluster-host`,
/// `oam`, `admin`).
pub fn path_entity(host: &str, interface: &str) -> String {
    let network = match interface {
        "management-interface" => "mgmt",
        "cluster-host-interface" => "cluster-host",
        "oam-interface" => "oam",
        "admin-interface" => "admin",
        other => other,
    };
    format!("host={host}.network={network}")
}

/// 400.001 for a group of this controller in `status`, if any.
pub fn group_alarm(
    domain: &str,
    group: &str,
    host: &str,
    status: Status,
    why: &str,
) -> Option<RaisedAlarm> {
    let (d, what) = match status {
        Status::None => return None,
        Status::Warn => (&GROUP_WARNING, "warning"),
        Status::Degraded => (&GROUP_DEGRADED, "degraded"),
        Status::Failed => (&GROUP_FAILED, "failed"),
    };
    let mut text = format!("Service group {group} {what} on {host}");
    if !why.is_empty() {
        text.push_str("; ");
        text.push_str(why);
    }
    Some(d.at(group_entity(domain, group, host), text))
}

/// 400.002 for a group with `actives` and `standbys` of the `n_active`
/// and `m_standby` it should have, if any.
pub fn redundancy_alarm(
    domain: &str,
    group: &str,
    actives: usize,
    standbys: usize,
    n_active: usize,
    m_standby: usize,
) -> Option<RaisedAlarm> {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let entity = redundancy_entity(domain, group);
    if actives == 0 {
        return Some(NO_ACTIVE.at(
            entity,
            format!(
                "Service group {group} has no active member; {n_active} active member{} expected",
                plural(n_active)
            ),
        ));
    }
    if actives < n_active {
        return Some(REDUNDANCY_LOST.at(
            entity,
            format!(
                "Service group {group} lost redundancy; {n_active} active member{} expected, {actives} available",
                plural(n_active)
            ),
        ));
    }
    (standbys < m_standby).then(|| {
        REDUNDANCY_LOST.at(
            entity,
            format!(
                "Service group {group} lost redundancy; {m_standby} standby member{} expected, {standbys} available",
                plural(m_standby)
            ),
        )
    })
}

/// 400.005 for a lost path.
pub fn path_alarm(host: &str, interface: &str) -> RaisedAlarm {
    PATH_LOST.at(
        path_entity(host, interface),
        format!("Communication with the peer controller lost over {interface} on {host}"),
    )
}

/// What is raised, by (id, entity).
#[derive(Clone, Debug, Default)]
pub struct Raised {
    now: BTreeMap<(&'static str, String), RaisedAlarm>,
}

impl Raised {
    /// The effects that make `wanted` what is raised.
    pub fn update(&mut self, wanted: Vec<RaisedAlarm>) -> Vec<AlarmEffect> {
        let wanted: BTreeMap<(&'static str, String), RaisedAlarm> = wanted
            .into_iter()
            .map(|a| ((a.def.id, a.entity_instance_id.clone()), a))
            .collect();
        let mut out = Vec::new();
        for (k, a) in &self.now {
            if !wanted.contains_key(k) {
                out.push(AlarmEffect::Clear {
                    alarm_id: a.def.id,
                    entity_instance_id: a.entity_instance_id.clone(),
                });
            }
        }
        for (k, a) in &wanted {
            if self.now.get(k) != Some(a) {
                out.push(AlarmEffect::Set(a.clone()));
            }
        }
        self.now = wanted;
        out
    }

    pub fn len(&self) -> usize {
        self.now.len()
    }

    pub fn is_empty(&self) -> bool {
        self.now.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starlingx_ids_and_entities() {
        let a = group_alarm(
            "controller",
            "controller-services",
            "controller-0",
            Status::Failed,
            "api failed: exit 1",
        )
        .unwrap();
        assert_eq!((a.def.id, a.def.severity), ("400.001", "critical"));
        assert_eq!(
            a.entity_instance_id,
            "service_domain=controller.service_group=controller-services.host=controller-0"
        );
        assert!(
            a.reason_text.ends_with("; api failed: exit 1"),
            "{}",
            a.reason_text
        );
        assert_eq!(
            group_alarm("controller", "g", "h", Status::Degraded, "")
                .unwrap()
                .def
                .severity,
            "major"
        );
        assert_eq!(
            group_alarm("controller", "g", "h", Status::Warn, "")
                .unwrap()
                .def
                .severity,
            "minor"
        );
        assert!(group_alarm("controller", "g", "h", Status::None, "").is_none());
        let r = redundancy_alarm("controller", "oam-services", 1, 0, 1, 1).unwrap();
        assert_eq!((r.def.id, r.def.severity), ("400.002", "major"));
        assert_eq!(
            r.entity_instance_id,
            "service_domain=controller.service_group=oam-services"
        );
        assert_eq!(
            redundancy_alarm("controller", "g", 0, 1, 1, 1)
                .unwrap()
                .def
                .severity,
            "critical"
        );
        assert!(redundancy_alarm("controller", "g", 1, 1, 1, 1).is_none());
        let p = path_alarm("controller-1", "cluster-host-interface");
        assert_eq!((p.def.id, p.def.severity), ("400.005", "major"));
        assert_eq!(
            p.entity_instance_id,
            "host=controller-1.network=cluster-host"
        );
        assert_eq!(
            path_entity("c", "management-interface"),
            "host=c.network=mgmt"
        );
    }

    #[test]
    fn only_changes_are_sent() {
        let mut r = Raised::default();
        let a = group_alarm("d", "g", "h", Status::Degraded, "").unwrap();
        let e = r.update(vec![a.clone()]);
        assert_eq!(e, [AlarmEffect::Set(a.clone())]);
        assert!(
            r.update(vec![a.clone()]).is_empty(),
            "unchanged: nothing sent"
        );
        // Worse: set again at the new severity (same id and entity).
        let b = group_alarm("d", "g", "h", Status::Failed, "").unwrap();
        assert_eq!(r.update(vec![b.clone()]), [AlarmEffect::Set(b)]);
        assert_eq!(r.len(), 1);
        // Gone: cleared.
        assert_eq!(
            r.update(vec![]),
            [AlarmEffect::Clear {
                alarm_id: "400.001",
                entity_instance_id: a.entity_instance_id
            }]
        );
        assert!(r.is_empty());
    }
}
