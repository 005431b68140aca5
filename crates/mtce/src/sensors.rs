//! The BMC sensor alarm (200.007, StarlingX's hwmond): raised at the
//! severity of a sensor's status (minor, major, critical) when the
//! operator has not silenced it, cleared when it reads ok again, goes
//! offline, is silenced, or disappears. An alarm call is made only when a
//! severity changes, and a critical is never turned into a lesser severity
//! in place: it is cleared first. A group's action at a severity decides:
//! ignore, log (a 200.007 log once per severity reached), alarm, or — at
//! critical — reset or power-cycle the host through its BMC as well (once
//! per cool-off). And the BMC access alarm (200.010).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use starling_common::alarm::{AlarmDef, AlarmEffect};

/// 200.007 at minor.
pub static SENSOR_MINOR: AlarmDef = AlarmDef {
    id: "200.007",
    entity_type: "host",
    severity: "minor",
    alarm_type: "operational-violation",
    probable_cause: "threshold-crossed",
    repair: "Check the host's board: its sensor reads past a threshold (system host-sensor-list).",
    service_affecting: false,
    suppression: true,
};

/// 200.007 at major.
pub static SENSOR_MAJOR: AlarmDef = AlarmDef {
    severity: "major",
    ..SENSOR_MINOR
};

/// 200.007 at critical.
pub static SENSOR_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    service_affecting: true,
    ..SENSOR_MINOR
};

fn def_of(status: &str) -> Option<&'static AlarmDef> {
    match status {
        "minor" => Some(&SENSOR_MINOR),
        "major" => Some(&SENSOR_MAJOR),
        "critical" => Some(&SENSOR_CRITICAL),
        _ => None,
    }
}

/// One sensor as read: its name, status (ok, minor, major, critical,
/// offline) and reading.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    pub name: String,
    pub status: String,
    pub reading: Option<f64>,
    pub unit: String,
}

/// 200.007 as a customer log (a group whose action at a severity is
/// `log`).
pub static SENSOR_LOG: AlarmDef = AlarmDef {
    severity: "not-applicable",
    repair: "",
    service_affecting: false,
    suppression: false,
    ..SENSOR_MINOR
};

/// What the operator wants done when a sensor reaches a severity (its
/// group's `actions_*_group`; a suppressed sensor or group: `Ignore`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SensorAction {
    Ignore,
    Log,
    Alarm,
    /// Alarm, and reset the host through its BMC (critical only).
    Reset,
    /// Alarm, and power-cycle the host through its BMC (critical only).
    PowerCycle,
}

impl SensorAction {
    /// StarlingX's words: ignore, log, alarm, reset, power-cycle.
    pub fn parse(s: &str) -> Option<SensorAction> {
        match s {
            "ignore" => Some(SensorAction::Ignore),
            "log" => Some(SensorAction::Log),
            "alarm" => Some(SensorAction::Alarm),
            "reset" => Some(SensorAction::Reset),
            "power-cycle" => Some(SensorAction::PowerCycle),
            _ => None,
        }
    }
}

/// What a critical sensor asks of the host's BMC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remedy {
    /// `reset` or `power-cycle`.
    pub command: &'static str,
    /// The sensor that asked.
    pub sensor: String,
}

/// Time after a sensor's reset or power cycle of a host before another
/// (StarlingX's 5-minute power-cycle cool-off).
pub const REMEDY_COOL_OFF: Duration = Duration::from_secs(300);

/// One sensor's state: the severity alarmed, and the one last logged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Held {
    alarmed: Option<&'static str>,
    logged: Option<&'static str>,
    status: Option<&'static str>,
}

/// What one reading of a host's sensors leads to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judged {
    pub effects: Vec<AlarmEffect>,
    pub remedy: Option<Remedy>,
}

/// The sensor alarms raised, per host.
#[derive(Debug, Default)]
pub struct SensorAlarms {
    raised: BTreeMap<String, BTreeMap<String, Held>>,
    /// When each host's last remedy was asked.
    remedied: BTreeMap<String, Duration>,
}

impl SensorAlarms {
    /// Host `host` (display name `name`) read at `now`: the alarm effects,
    /// and the reset or power cycle a sensor newly critical asks for (once
    /// per `REMEDY_COOL_OFF`). `actions`: each sensor's action at its
    /// current status (absent: `Alarm`). The first reading of a host after
    /// a start clears what an earlier start may have left for a sensor
    /// that now reads well.
    pub fn update(
        &mut self,
        host: &str,
        name: &str,
        read: &[Read],
        actions: &BTreeMap<String, SensorAction>,
        now: Duration,
    ) -> Judged {
        let first = !self.raised.contains_key(host);
        let before = self.raised.remove(host).unwrap_or_default();
        let mut now_held = BTreeMap::new();
        let mut out = Judged::default();
        let entity = |sensor: &str| format!("host={name}.sensor={sensor}");
        let clear = |sensor: &str| AlarmEffect::Clear {
            alarm_id: SENSOR_MINOR.id,
            entity_instance_id: entity(sensor),
        };
        for r in read {
            let action = actions.get(&r.name).copied().unwrap_or(SensorAction::Alarm);
            let def = def_of(&r.status);
            let alarming = matches!(
                action,
                SensorAction::Alarm | SensorAction::Reset | SensorAction::PowerCycle
            );
            let want = def.filter(|_| alarming);
            let had = before.get(&r.name).copied().unwrap_or_default();
            let reading = r
                .reading
                .map_or_else(|| "no reading".to_string(), |v| format!("{v} {}", r.unit));
            let text = |severity: &str| {
                format!(
                    "{name} sensor {} is reporting a {severity} threshold crossing ({reading})",
                    r.name
                )
            };
            let mut held = Held {
                alarmed: want.map(|d| d.severity),
                logged: had.logged,
                status: def.map(|d| d.severity),
            };
            match (had.alarmed, want) {
                (None, None) if first => out.effects.push(clear(&r.name)),
                (Some(_), None) => out.effects.push(clear(&r.name)),
                (had_sev, Some(d)) if had_sev != Some(d.severity) => {
                    if had_sev == Some("critical") {
                        out.effects.push(clear(&r.name));
                    }
                    out.effects
                        .push(AlarmEffect::Set(d.at(entity(&r.name), text(d.severity))));
                }
                _ => {}
            }
            // A log once per severity reached (reading well again forgets).
            match def {
                Some(d) if action == SensorAction::Log && had.logged != Some(d.severity) => {
                    out.effects.push(AlarmEffect::Log(
                        SENSOR_LOG.at(entity(&r.name), text(d.severity)),
                    ));
                    held.logged = Some(d.severity);
                }
                None => held.logged = None,
                _ => {}
            }
            let newly_critical = held.status == Some("critical") && had.status != Some("critical");
            let command = match action {
                SensorAction::Reset => Some("reset"),
                SensorAction::PowerCycle => Some("power-cycle"),
                _ => None,
            };
            if let Some(command) = command
                && newly_critical
                && out.remedy.is_none()
                && self
                    .remedied
                    .get(host)
                    .is_none_or(|t| now.saturating_sub(*t) >= REMEDY_COOL_OFF)
            {
                self.remedied.insert(host.to_string(), now);
                out.remedy = Some(Remedy {
                    command,
                    sensor: r.name.clone(),
                });
            }
            now_held.insert(r.name.clone(), held);
        }
        let present: BTreeSet<&String> = read.iter().map(|r| &r.name).collect();
        for (sensor, had) in &before {
            if had.alarmed.is_some() && !present.contains(sensor) {
                out.effects.push(clear(sensor));
            }
        }
        self.raised.insert(host.to_string(), now_held);
        out
    }

    /// Host `host` (display name `name`) is no longer read (deleted, its
    /// BMC removed): its sensor alarms clear.
    pub fn forget(&mut self, host: &str, name: &str) -> Vec<AlarmEffect> {
        self.remedied.remove(host);
        let Some(before) = self.raised.remove(host) else {
            return Vec::new();
        };
        before
            .into_iter()
            .filter(|(_, had)| had.alarmed.is_some())
            .map(|(sensor, _)| AlarmEffect::Clear {
                alarm_id: SENSOR_MINOR.id,
                entity_instance_id: format!("host={name}.sensor={sensor}"),
            })
            .collect()
    }

    /// The hosts read so far.
    pub fn hosts(&self) -> impl Iterator<Item = &String> {
        self.raised.keys()
    }
}

/// 200.010 at warning: the host's BMC cannot be reached.
pub static BMC_ACCESS: AlarmDef = AlarmDef {
    id: "200.010",
    entity_type: "host",
    severity: "warning",
    alarm_type: "operational-violation",
    probable_cause: "communication-subsystem-failure",
    repair: "Check Host's board management config and connectivity.",
    service_affecting: false,
    suppression: false,
};

/// The BMC access alarm of each host (mtcAgent's): raised when an audit
/// cannot reach a host's BMC, cleared at the first audit that can, or
/// when the host or its BMC goes.
#[derive(Debug, Default)]
pub struct BmcAccess {
    failing: BTreeSet<String>,
}

impl BmcAccess {
    /// Host `host` (display name `name`): its BMC answered (`ok`) or not.
    pub fn audited(&mut self, host: &str, name: &str, ok: bool) -> Option<AlarmEffect> {
        match (ok, self.failing.contains(host)) {
            (false, false) => {
                self.failing.insert(host.to_string());
                Some(AlarmEffect::Set(BMC_ACCESS.at(
                    format!("host={name}"),
                    format!("{name} access to board management module has failed."),
                )))
            }
            (true, true) => {
                self.failing.remove(host);
                Some(AlarmEffect::Clear {
                    alarm_id: BMC_ACCESS.id,
                    entity_instance_id: format!("host={name}"),
                })
            }
            _ => None,
        }
    }

    /// Host `host` no longer has a BMC (or is gone): its alarm clears.
    pub fn forget(&mut self, host: &str, name: &str) -> Option<AlarmEffect> {
        self.failing.remove(host).then(|| AlarmEffect::Clear {
            alarm_id: BMC_ACCESS.id,
            entity_instance_id: format!("host={name}"),
        })
    }

    /// The hosts whose BMC is failing.
    pub fn hosts(&self) -> impl Iterator<Item = &String> {
        self.failing.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1000);

    fn read(name: &str, status: &str) -> Read {
        Read {
            name: name.into(),
            status: status.into(),
            reading: Some(50.0),
            unit: "degC".into(),
        }
    }

    fn summary(e: &[AlarmEffect]) -> Vec<String> {
        e.iter()
            .map(|e| match e {
                AlarmEffect::Set(a) => format!("set {} {}", a.def.severity, a.entity_instance_id),
                AlarmEffect::Clear {
                    entity_instance_id, ..
                } => format!("clear {entity_instance_id}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn alarms_follow_the_status_and_a_critical_clears_before_it_lessens() {
        let mut a = SensorAlarms::default();
        let none = BTreeMap::new();
        // First reading: what reads well is cleared once (a restart).
        let e = a
            .update("u", "w0", &[read("CPU Temp", "ok")], &none, T)
            .effects;
        assert_eq!(summary(&e), ["clear host=w0.sensor=CPU Temp"]);
        assert!(
            a.update("u", "w0", &[read("CPU Temp", "ok")], &none, T)
                .effects
                .is_empty()
        );
        let e = a
            .update("u", "w0", &[read("CPU Temp", "minor")], &none, T)
            .effects;
        assert_eq!(summary(&e), ["set minor host=w0.sensor=CPU Temp"]);
        assert!(
            a.update("u", "w0", &[read("CPU Temp", "minor")], &none, T)
                .effects
                .is_empty()
        );
        let e = a
            .update("u", "w0", &[read("CPU Temp", "critical")], &none, T)
            .effects;
        assert_eq!(summary(&e), ["set critical host=w0.sensor=CPU Temp"]);
        let e = a
            .update("u", "w0", &[read("CPU Temp", "major")], &none, T)
            .effects;
        assert_eq!(
            summary(&e),
            [
                "clear host=w0.sensor=CPU Temp",
                "set major host=w0.sensor=CPU Temp"
            ]
        );
        let e = a
            .update("u", "w0", &[read("CPU Temp", "offline")], &none, T)
            .effects;
        assert_eq!(summary(&e), ["clear host=w0.sensor=CPU Temp"]);
    }

    #[test]
    fn silenced_gone_and_forgotten_sensors_clear() {
        let mut a = SensorAlarms::default();
        let none = BTreeMap::new();
        a.update(
            "u",
            "w0",
            &[read("Fan1", "major"), read("Inlet", "minor")],
            &none,
            T,
        );
        let silenced = BTreeMap::from([("Fan1".to_string(), SensorAction::Ignore)]);
        let e = a
            .update(
                "u",
                "w0",
                &[read("Fan1", "major"), read("Inlet", "minor")],
                &silenced,
                T,
            )
            .effects;
        assert_eq!(summary(&e), ["clear host=w0.sensor=Fan1"]);
        let e = a.update("u", "w0", &[], &none, T).effects;
        assert_eq!(summary(&e), ["clear host=w0.sensor=Inlet"]);
        a.update("u", "w0", &[read("Fan1", "critical")], &none, T);
        assert_eq!(summary(&a.forget("u", "w0")), ["clear host=w0.sensor=Fan1"]);
        assert!(a.forget("u", "w0").is_empty());
        assert_eq!(SENSOR_CRITICAL.severity, "critical");
    }

    #[test]
    fn group_actions_log_or_remedy_once_per_cool_off() {
        let mut a = SensorAlarms::default();
        let acts = |x| BTreeMap::from([("Fan1".to_string(), x)]);
        // Log: a log per severity reached, no alarm.
        let j = a.update(
            "u",
            "w0",
            &[read("Fan1", "major")],
            &acts(SensorAction::Log),
            T,
        );
        assert!(
            matches!(j.effects.as_slice(), [AlarmEffect::Clear { .. }, AlarmEffect::Log(l)] | [AlarmEffect::Log(l)] if l.def.id == "200.007"),
            "{:?}",
            j.effects
        );
        let j = a.update(
            "u",
            "w0",
            &[read("Fan1", "major")],
            &acts(SensorAction::Log),
            T,
        );
        assert!(j.effects.is_empty());
        // Critical with reset: the alarm, and a reset asked, once.
        let j = a.update(
            "u",
            "w0",
            &[read("Fan1", "critical")],
            &acts(SensorAction::Reset),
            T,
        );
        assert_eq!(summary(&j.effects), ["set critical host=w0.sensor=Fan1"]);
        assert_eq!(
            j.remedy,
            Some(Remedy {
                command: "reset",
                sensor: "Fan1".into()
            })
        );
        let j = a.update(
            "u",
            "w0",
            &[read("Fan1", "critical")],
            &acts(SensorAction::Reset),
            T,
        );
        assert_eq!(j.remedy, None, "still critical: asked once");
        // Back, then critical again within the cool-off: no second one.
        a.update(
            "u",
            "w0",
            &[read("Fan1", "ok")],
            &acts(SensorAction::PowerCycle),
            T,
        );
        let j = a.update(
            "u",
            "w0",
            &[read("Fan1", "critical")],
            &acts(SensorAction::PowerCycle),
            T + Duration::from_secs(60),
        );
        assert_eq!(j.remedy, None);
        a.update(
            "u",
            "w0",
            &[read("Fan1", "ok")],
            &acts(SensorAction::PowerCycle),
            T,
        );
        let j = a.update(
            "u",
            "w0",
            &[read("Fan1", "critical")],
            &acts(SensorAction::PowerCycle),
            T + REMEDY_COOL_OFF,
        );
        assert_eq!(j.remedy.map(|r| r.command), Some("power-cycle"));
    }

    #[test]
    fn bmc_access_is_alarmed_while_it_fails() {
        let mut b = BmcAccess::default();
        assert!(b.audited("u", "w0", true).is_none());
        let e = b.audited("u", "w0", false).unwrap();
        assert!(
            matches!(&e, AlarmEffect::Set(x) if x.def.id == "200.010" && x.def.severity == "warning" && x.reason_text == "w0 access to board management module has failed.")
        );
        assert!(b.audited("u", "w0", false).is_none());
        assert!(matches!(
            b.audited("u", "w0", true),
            Some(AlarmEffect::Clear {
                alarm_id: "200.010",
                ..
            })
        ));
        b.audited("u", "w0", false);
        assert!(b.forget("u", "w0").is_some());
        assert!(b.forget("u", "w0").is_none());
    }
}
