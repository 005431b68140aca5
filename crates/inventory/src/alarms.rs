//! The alarm and the customer logs inventory raises, defined once, and the
//! fault-management effects of its decisions. Whoever carries a decision
//! out (the API, tomorrow maintenance or an orchestrator) hands these to an
//! [`AlarmSink`](starling_common::alarm::AlarmSink) after the commit.

use starling_common::alarm::{AlarmDef, AlarmEffect, RaisedAlarm};

use crate::lifecycle::{AlarmChange, HostEvent};
use crate::model::{Administrative, Host};

/// 200.001, raised while a host is locked, as StarlingX's maintenance raises it.
pub static HOST_LOCKED: AlarmDef = AlarmDef {
    id: "200.001",
    entity_type: "host",
    severity: "warning",
    alarm_type: "operational-violation",
    probable_cause: "out-of-service",
    repair: "Administratively unlock Host to bring it back in-service.",
    service_affecting: false,
    suppression: true,
};

/// 200.021, the customer log of a maintenance command (a request accepted).
pub use starling_common::alarm::HOST_COMMAND_LOG as COMMAND_LOG;

/// 200.022, the customer log of a host state change.
pub static STATE_LOG: AlarmDef = AlarmDef {
    id: "200.022",
    ..COMMAND_LOG
};

/// 200.001 for `host`.
pub fn locked(host: &Host) -> RaisedAlarm {
    HOST_LOCKED.at(
        host.entity(),
        format!(
            "{} was administratively locked to take it out-of-service.",
            host.display_name()
        ),
    )
}

/// The customer log of `event` for `host`.
pub fn logged(host: &Host, event: &HostEvent) -> RaisedAlarm {
    event.log.at(host.entity(), event.text.clone())
}

/// The effects of a committed decision about `host`: the locked-host
/// alarm's change first, then the log.
pub fn effects(
    host: &Host,
    alarm: Option<AlarmChange>,
    event: Option<&HostEvent>,
) -> Vec<AlarmEffect> {
    let mut out = Vec::with_capacity(2);
    match alarm {
        Some(AlarmChange::RaiseLocked) => out.push(AlarmEffect::Set(locked(host))),
        Some(AlarmChange::ClearLocked) => out.push(AlarmEffect::Clear {
            alarm_id: HOST_LOCKED.id,
            entity_instance_id: host.entity(),
        }),
        None => {}
    }
    if let Some(e) = event {
        out.push(AlarmEffect::Log(logged(host, e)));
    }
    out
}

/// A host's alarms follow it to a new name (the entity id is the name):
/// what was raised under the old name is cleared, a locked host has 200.001
/// under the new one, and the rename is logged. Nothing when the name stayed.
pub fn renamed(before: &Host, after: &Host) -> Vec<AlarmEffect> {
    if before.hostname == after.hostname {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(3);
    if before.hostname.is_some() {
        out.push(AlarmEffect::ClearAll {
            entity_instance_id: before.entity(),
        });
    }
    let alarm =
        (after.administrative == Administrative::Locked).then_some(AlarmChange::RaiseLocked);
    let event = HostEvent {
        log: &COMMAND_LOG,
        text: format!(
            "{} renamed to {}",
            before.display_name(),
            after.display_name()
        ),
    };
    out.extend(effects(after, alarm, Some(&event)));
    out
}

/// A deleted host: nothing may stay raised against it, and the delete is logged.
pub fn deleted(host: &Host) -> Vec<AlarmEffect> {
    let event = HostEvent {
        log: &COMMAND_LOG,
        text: format!("{} 'delete' request", host.display_name()),
    };
    let mut out = vec![AlarmEffect::ClearAll {
        entity_instance_id: host.entity(),
    }];
    out.extend(effects(host, None, Some(&event)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_common::Timestamp;

    fn host(name: Option<&str>, admin: Administrative) -> Host {
        let mut h = Host::new(
            1,
            "uuid-1".into(),
            "08:00:27:00:00:01".into(),
            Timestamp::from_micros(0),
        );
        h.hostname = name.map(Into::into);
        h.administrative = admin;
        h
    }

    #[test]
    fn a_lock_raises_200_001_with_its_definition_then_logs() {
        let h = host(Some("compute-0"), Administrative::Locked);
        let ev = HostEvent {
            log: &COMMAND_LOG,
            text: "compute-0 'lock' request".into(),
        };
        let out = effects(&h, Some(AlarmChange::RaiseLocked), Some(&ev));
        assert_eq!(out.len(), 2);
        let AlarmEffect::Set(a) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(a.def, &HOST_LOCKED);
        assert_eq!(a.entity_instance_id, "host=compute-0");
        assert_eq!(
            a.reason_text,
            "compute-0 was administratively locked to take it out-of-service."
        );
        assert_eq!(
            out[1],
            AlarmEffect::Log(COMMAND_LOG.at("host=compute-0", ev.text))
        );
        let out = effects(&h, Some(AlarmChange::ClearLocked), None);
        assert_eq!(
            out,
            vec![AlarmEffect::Clear {
                alarm_id: "200.001",
                entity_instance_id: "host=compute-0".into()
            }]
        );
    }

    #[test]
    fn a_rename_moves_the_alarms_and_a_delete_clears_them() {
        let before = host(Some("compute-0"), Administrative::Locked);
        let after = host(Some("compute-9"), Administrative::Locked);
        let out = renamed(&before, &after);
        assert_eq!(
            out[0],
            AlarmEffect::ClearAll {
                entity_instance_id: "host=compute-0".into()
            }
        );
        assert!(matches!(&out[1], AlarmEffect::Set(a) if a.entity_instance_id == "host=compute-9"));
        assert!(
            matches!(&out[2], AlarmEffect::Log(a) if a.reason_text == "compute-0 renamed to compute-9")
        );
        assert!(renamed(&before, &before).is_empty());
        // An unprovisioned host had nothing raised under a name; unlocked: no alarm.
        let nameless = host(None, Administrative::Unlocked);
        let named = host(Some("compute-1"), Administrative::Unlocked);
        let out = renamed(&nameless, &named);
        assert_eq!(out.len(), 1);
        assert!(matches!(&out[0], AlarmEffect::Log(_)));
        let out = deleted(&before);
        assert_eq!(
            out[0],
            AlarmEffect::ClearAll {
                entity_instance_id: "host=compute-0".into()
            }
        );
        assert!(matches!(&out[1], AlarmEffect::Log(a) if a.def.id == "200.021"));
    }
}
