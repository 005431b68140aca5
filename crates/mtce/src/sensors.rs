//! The BMC sensor alarm (200.007, StarlingX's hwmond): raised at the
//! severity of a sensor's status (minor, major, critical) when the
//! operator has not silenced it, cleared when it reads ok again, goes
//! offline, is silenced, or disappears. An alarm call is made only when a
//! severity changes, and a critical is never turned into a lesser severity
//! in place: it is cleared first.

use std::collections::{BTreeMap, BTreeSet};

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

/// The sensor alarms raised, per host.
#[derive(Debug, Default)]
pub struct SensorAlarms {
    /// Per host: each sensor's alarmed severity (`None`: not alarmed).
    raised: BTreeMap<String, BTreeMap<String, Option<&'static str>>>,
}

impl SensorAlarms {
    /// Host `host` (display name `name`) read now: the alarm effects.
    /// `silenced`: sensors whose alarm the operator does not want. The
    /// first reading of a host after a start clears what an earlier start
    /// may have left for a sensor that now reads well.
    pub fn update(
        &mut self,
        host: &str,
        name: &str,
        read: &[Read],
        silenced: &[String],
    ) -> Vec<AlarmEffect> {
        let first = !self.raised.contains_key(host);
        let before = self.raised.remove(host).unwrap_or_default();
        let mut now = BTreeMap::new();
        let mut out = Vec::new();
        let entity = |sensor: &str| format!("host={name}.sensor={sensor}");
        let clear = |sensor: &str| AlarmEffect::Clear {
            alarm_id: SENSOR_MINOR.id,
            entity_instance_id: entity(sensor),
        };
        for r in read {
            let want = def_of(&r.status).filter(|_| !silenced.contains(&r.name));
            let had = before.get(&r.name).copied().flatten();
            now.insert(r.name.clone(), want.map(|d| d.severity));
            match (had, want) {
                (None, None) if first => out.push(clear(&r.name)),
                (Some(_), None) => out.push(clear(&r.name)),
                (had, Some(d)) if had != Some(d.severity) => {
                    if had == Some("critical") {
                        out.push(clear(&r.name));
                    }
                    let reading = r
                        .reading
                        .map_or_else(|| "no reading".to_string(), |v| format!("{v} {}", r.unit));
                    out.push(AlarmEffect::Set(d.at(
                        entity(&r.name),
                        format!(
                            "{name} sensor {} is reporting a {} threshold crossing ({reading})",
                            r.name, d.severity
                        ),
                    )));
                }
                _ => {}
            }
        }
        let present: BTreeSet<&String> = read.iter().map(|r| &r.name).collect();
        for (sensor, had) in &before {
            if had.is_some() && !present.contains(sensor) {
                out.push(clear(sensor));
            }
        }
        self.raised.insert(host.to_string(), now);
        out
    }

    /// Host `host` (display name `name`) is no longer read (deleted, its
    /// BMC removed): its sensor alarms clear.
    pub fn forget(&mut self, host: &str, name: &str) -> Vec<AlarmEffect> {
        let Some(before) = self.raised.remove(host) else {
            return Vec::new();
        };
        before
            .into_iter()
            .filter(|(_, had)| had.is_some())
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let none: &[String] = &[];
        // First reading: what reads well is cleared once (a restart).
        let e = a.update("u", "w0", &[read("CPU Temp", "ok")], none);
        assert_eq!(summary(&e), ["clear host=w0.sensor=CPU Temp"]);
        assert!(
            a.update("u", "w0", &[read("CPU Temp", "ok")], none)
                .is_empty()
        );
        let e = a.update("u", "w0", &[read("CPU Temp", "minor")], none);
        assert_eq!(summary(&e), ["set minor host=w0.sensor=CPU Temp"]);
        assert!(
            a.update("u", "w0", &[read("CPU Temp", "minor")], none)
                .is_empty()
        );
        let e = a.update("u", "w0", &[read("CPU Temp", "critical")], none);
        assert_eq!(summary(&e), ["set critical host=w0.sensor=CPU Temp"]);
        let e = a.update("u", "w0", &[read("CPU Temp", "major")], none);
        assert_eq!(
            summary(&e),
            [
                "clear host=w0.sensor=CPU Temp",
                "set major host=w0.sensor=CPU Temp"
            ]
        );
        let e = a.update("u", "w0", &[read("CPU Temp", "offline")], none);
        assert_eq!(summary(&e), ["clear host=w0.sensor=CPU Temp"]);
    }

    #[test]
    fn silenced_gone_and_forgotten_sensors_clear() {
        let mut a = SensorAlarms::default();
        let none: &[String] = &[];
        a.update(
            "u",
            "w0",
            &[read("Fan1", "major"), read("Inlet", "minor")],
            none,
        );
        let e = a.update(
            "u",
            "w0",
            &[read("Fan1", "major"), read("Inlet", "minor")],
            &["Fan1".to_string()],
        );
        assert_eq!(summary(&e), ["clear host=w0.sensor=Fan1"]);
        let e = a.update("u", "w0", &[], none);
        assert_eq!(summary(&e), ["clear host=w0.sensor=Inlet"]);
        a.update("u", "w0", &[read("Fan1", "critical")], none);
        assert_eq!(summary(&a.forget("u", "w0")), ["clear host=w0.sensor=Fan1"]);
        assert!(a.forget("u", "w0").is_empty());
        assert_eq!(SENSOR_CRITICAL.severity, "critical");
    }
}
