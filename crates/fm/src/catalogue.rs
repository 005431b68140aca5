//! The alarm catalogue: which alarm and log ids exist, with their descriptions,
//! defaults and management/degrade-affecting thresholds. Read from a YAML file in
//! the shape of StarlingX's events.yaml; Starling ships its own (`catalogue/alarms.yaml`).

use yaml_serde::Value;

use crate::Error;
use crate::model::{Threshold, validate_alarm_id};

/// The catalogue built into Starling.
pub const BUILTIN: &str = include_str!("../catalogue/alarms.yaml");

/// One catalogue record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// `GGG.NNN`.
    pub alarm_id: String,
    /// An alarm (true) or a log (false). Only alarms get suppression rows.
    pub is_alarm: bool,
    /// Description (the first one, when the source gives several).
    pub description: String,
    /// Entity instance id template.
    pub entity_instance_id: String,
    /// Severities it is raised with.
    pub severities: Vec<String>,
    /// Repair action (the first one, when the source gives several).
    pub proposed_repair_action: String,
    /// Default event type.
    pub alarm_type: String,
    /// Default probable cause.
    pub probable_cause: String,
    /// Default service-affecting flag.
    pub service_affecting: bool,
    /// Default suppression-allowed flag.
    pub suppression: bool,
    /// Default inhibit flag.
    pub inhibit_alarms: bool,
    /// Lowest severity that is management affecting.
    pub mgmt_affecting: Threshold,
    /// Lowest severity that is degrade affecting.
    pub degrade_affecting: Threshold,
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        // A list or a map keyed by severity: take the first entry.
        Some(Value::Sequence(items)) => text(items.first()),
        Some(Value::Mapping(m)) => text(m.values().next()),
        _ => String::new(),
    }
}

fn flag(v: Option<&Value>, key: &str, id: &str) -> Result<bool, Error> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            _ => Err(Error::invalid(format!(
                "catalogue {id}: {key} must be True or False"
            ))),
        },
        Some(_) => Err(Error::invalid(format!(
            "catalogue {id}: {key} must be True or False"
        ))),
    }
}

fn threshold(
    v: Option<&Value>,
    default: Threshold,
    key: &str,
    id: &str,
) -> Result<Threshold, Error> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(other) => {
            let s = text(Some(other)).to_ascii_lowercase();
            Threshold::parse(&s)
                .ok_or_else(|| Error::invalid(format!("catalogue {id}: invalid {key} '{s}'")))
        }
    }
}

fn key_text(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.trim().to_string()),
        // events.yaml keys are often unquoted floats: 200.01 means "200.010".
        Value::Number(n) => n.as_f64().map(|f| format!("{f:.3}")),
        _ => None,
    }
}

/// Parses a catalogue document. Every record is checked; the first problem is
/// returned with the record's id.
pub fn parse(doc: &str) -> Result<Vec<CatalogueEntry>, Error> {
    let root: Value = yaml_serde::from_str(doc)
        .map_err(|e| Error::invalid(format!("catalogue is not valid YAML: {e}")))?;
    let Value::Mapping(map) = root else {
        return Err(Error::invalid("catalogue must be a mapping of alarm ids"));
    };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in &map {
        let id = key_text(k).ok_or_else(|| Error::invalid("catalogue has a non-id key"))?;
        validate_alarm_id(&id).map_err(|e| Error::invalid(format!("catalogue: {e}")))?;
        let Value::Mapping(rec) = v else {
            return Err(Error::invalid(format!(
                "catalogue {id}: record must be a mapping"
            )));
        };
        let get = |key: &str| rec.get(key);
        let kind = text(get("Type"));
        let is_alarm = match kind.as_str() {
            "Alarm" => true,
            "Log" => false,
            other => {
                return Err(Error::invalid(format!(
                    "catalogue {id}: Type must be Alarm or Log, not '{other}'"
                )));
            }
        };
        let severities = match get("Severity") {
            Some(Value::Sequence(s)) => s.iter().map(|x| text(Some(x))).collect(),
            Some(x) => vec![text(Some(x))],
            None => Vec::new(),
        };
        let alarm_type = match text(get("Alarm_Type")) {
            t if t.is_empty() => "other".to_string(),
            t => t,
        };
        let probable_cause = match text(get("Probable_Cause")) {
            c if c.is_empty() => "not-applicable".to_string(),
            c => c,
        };
        out.push(CatalogueEntry {
            description: text(get("Description")),
            entity_instance_id: text(get("Entity_Instance_ID")),
            severities,
            proposed_repair_action: text(get("Proposed_Repair_Action")),
            alarm_type,
            probable_cause,
            service_affecting: flag(get("Service_Affecting"), "Service_Affecting", &id)?,
            suppression: flag(get("Suppression"), "Suppression", &id)?,
            inhibit_alarms: flag(get("Inhibit_Alarms"), "Inhibit_Alarms", &id)?,
            mgmt_affecting: threshold(
                get("Management_Affecting_Severity"),
                Threshold::AtLeast(crate::model::Severity::Warning),
                "Management_Affecting_Severity",
                &id,
            )?,
            degrade_affecting: threshold(
                get("Degrade_Affecting_Severity"),
                Threshold::None,
                "Degrade_Affecting_Severity",
                &id,
            )?,
            is_alarm,
            alarm_id: id,
        });
    }
    out.sort_by(|a, b| a.alarm_id.cmp(&b.alarm_id));
    if let Some(w) = out.windows(2).find(|w| w[0].alarm_id == w[1].alarm_id) {
        return Err(Error::invalid(format!(
            "catalogue: {} appears twice",
            w[0].alarm_id
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    #[test]
    fn builtin_catalogue_covers_the_platform_groups() {
        let c = parse(BUILTIN).unwrap();
        for id in [
            "100.101", "200.001", "250.001", "270.001", "280.001", "400.001", "900.001",
        ] {
            assert!(
                c.iter().any(|e| e.alarm_id == id && e.is_alarm),
                "{id} missing"
            );
        }
        let cpu = c.iter().find(|e| e.alarm_id == "100.101").unwrap();
        assert_eq!(cpu.mgmt_affecting, Threshold::AtLeast(Severity::Major));
        assert_eq!(
            cpu.degrade_affecting,
            Threshold::AtLeast(Severity::Critical)
        );
        assert!(cpu.suppression);
        for e in &c {
            assert!(
                crate::model::ALARM_TYPES.contains(&e.alarm_type.as_str()),
                "{}",
                e.alarm_id
            );
            assert!(
                crate::model::PROBABLE_CAUSES.contains(&e.probable_cause.as_str()),
                "{}",
                e.alarm_id
            );
        }
        assert!(c.iter().any(|e| e.alarm_id == "200.021" && !e.is_alarm));
    }

    #[test]
    fn accepts_events_yaml_float_keys_and_shapes() {
        let doc = "200.01:\n  Type: Alarm\n  Description: {critical: 'Down', major: 'Degraded'}\n  Management_Affecting_Severity: none\n";
        let c = parse(doc).unwrap();
        assert_eq!(c[0].alarm_id, "200.010");
        assert_eq!(c[0].description, "Down");
        assert_eq!(c[0].mgmt_affecting, Threshold::None);
    }

    #[test]
    fn names_the_bad_record() {
        let err = parse("\"100.101\":\n  Type: Bogus\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("100.101"), "{err}");
        let err = parse("\"100.101\":\n  Type: Alarm\n  Management_Affecting_Severity: huge\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Management_Affecting_Severity"), "{err}");
        assert!(parse("- a\n- b\n").is_err());
        assert!(parse("\"1.2\":\n  Type: Alarm\n").is_err());
    }
}
