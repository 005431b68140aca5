//! The fault-management data model and its validation rules.

use starling_common::Timestamp;

use crate::Error;

/// Longest accepted identifier-like field (ids, entity type/instance ids, uuids).
pub const MAX_ID_LEN: usize = 255;
/// Longest accepted free-text field (reason text, repair action). StarlingX silently
/// truncated at 255 bytes; Starling stores up to this many characters and rejects more.
pub const MAX_TEXT_LEN: usize = 1024;

/// Alarm severity, with StarlingX's ranks (warning 1 … critical 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `not-applicable`: hierarchical-clear history records (a clear of one
    /// alarm keeps its severity), and logs that were sent with severity
    /// `clear`.
    NotApplicable,
    /// `warning`.
    Warning,
    /// `minor`.
    Minor,
    /// `major`.
    Major,
    /// `critical`.
    Critical,
}

impl Severity {
    /// The wire/storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::NotApplicable => "not-applicable",
            Severity::Warning => "warning",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }
    /// Parses a stored or requested severity; `clear` is accepted as `not-applicable`.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "critical" => Severity::Critical,
            "major" => Severity::Major,
            "minor" => Severity::Minor,
            "warning" => Severity::Warning,
            "clear" | "not-applicable" => Severity::NotApplicable,
            _ => return None,
        })
    }
    /// StarlingX rank, also the MIB integer: not-applicable 0, warning 1 … critical 4.
    pub fn rank(self) -> u8 {
        match self {
            Severity::NotApplicable => 0,
            Severity::Warning => 1,
            Severity::Minor => 2,
            Severity::Major => 3,
            Severity::Critical => 4,
        }
    }
}

/// A management- or degrade-affecting threshold: the lowest severity that counts,
/// or `none` (never reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Never reached.
    None,
    /// Reached by this severity and above.
    AtLeast(Severity),
}

impl Threshold {
    /// Parses `none|critical|major|minor|warning`.
    pub fn parse(s: &str) -> Option<Threshold> {
        if s == "none" {
            return Some(Threshold::None);
        }
        match Severity::parse(s)? {
            Severity::NotApplicable => None,
            sev => Some(Threshold::AtLeast(sev)),
        }
    }
    /// Storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::None => "none",
            Threshold::AtLeast(s) => s.as_str(),
        }
    }
    /// True when an alarm of severity `sev` reaches this threshold.
    pub fn reached_by(self, sev: Severity) -> bool {
        match self {
            Threshold::None => false,
            Threshold::AtLeast(t) => sev.rank() >= t.rank() && sev != Severity::NotApplicable,
        }
    }
}

/// The `alarm_state` of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// Raise or update an alarm.
    Set,
    /// Clear an alarm.
    Clear,
    /// A stateless customer log (`msg` is stored as `log`).
    Log,
}

impl RequestState {
    /// Parses `set|clear|msg|log`.
    pub fn parse(s: &str) -> Option<RequestState> {
        Some(match s {
            "set" => RequestState::Set,
            "clear" => RequestState::Clear,
            "msg" | "log" => RequestState::Log,
            _ => return None,
        })
    }
}

/// The state of an event-log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventState {
    /// An alarm was raised or changed.
    Set,
    /// An alarm was cleared (or a hierarchical clear happened).
    Clear,
    /// A stateless log.
    Log,
}

impl EventState {
    /// Storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventState::Set => "set",
            EventState::Clear => "clear",
            EventState::Log => "log",
        }
    }
    /// Parses a stored state.
    pub fn parse(s: &str) -> Option<EventState> {
        Some(match s {
            "set" => EventState::Set,
            "clear" => EventState::Clear,
            "log" => EventState::Log,
            _ => return None,
        })
    }
    /// SNMP/fm integer code: clear 0, set 1, log 3.
    pub fn code(self) -> u8 {
        match self {
            EventState::Clear => 0,
            EventState::Set => 1,
            EventState::Log => 3,
        }
    }
}

/// Per-alarm-id suppression status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuppressionStatus {
    /// Hidden from lists, counts and traps.
    Suppressed,
    /// Visible.
    Unsuppressed,
}

impl SuppressionStatus {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionStatus::Suppressed => "suppressed",
            SuppressionStatus::Unsuppressed => "unsuppressed",
        }
    }
    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "suppressed" => Some(SuppressionStatus::Suppressed),
            "unsuppressed" => Some(SuppressionStatus::Unsuppressed),
            _ => None,
        }
    }
}

/// X.733 event types in MIB order (index = MIB integer), then values only the
/// Python client knows (MIB integer 0 when trapped).
pub const ALARM_TYPES: &[&str] = &[
    "other",
    "communication",
    "qos",
    "processing-error",
    "equipment",
    "environmental",
    "integrity-violation",
    "operational-violation",
    "physical-violation",
    "security-service-or-mechanism-violation",
    "time-domain-violation",
    "deployment in progress",
];
const MIB_ALARM_TYPES: usize = 11;

/// Probable causes in MIB order (index = MIB integer), then Python-only values.
pub const PROBABLE_CAUSES: &[&str] = &[
    "not-applicable",
    "adaptor-error",
    "application-subsystem-failure",
    "bandwidth-reduced",
    "call-establishment-error",
    "communication-protocol-error",
    "communication-subsystem-failure",
    "configuration-or-customization-error",
    "congestion",
    "corrupt-data",
    "cpu-cycles-limit-exceeded",
    "dataset-or-modem-error",
    "degraded-signal",
    "dte-dce-interface-error",
    "enclosure-door-open",
    "equipment-malfunction",
    "excessive-vibration",
    "file-error",
    "fire-detected",
    "flood-detected",
    "framing-error",
    "heating-ventilation-cooling-system-problem",
    "humidity-unacceptable",
    "io-device-error",
    "input-device-error",
    "lan-error",
    "leak-detected",
    "local-node-transmission-error",
    "loss-of-frame",
    "loss-of-signal",
    "material-supply-exhausted",
    "multiplexer-problem",
    "out-of-memory",
    "output-device-error",
    "performance-degraded",
    "power-problem",
    "processor-problem",
    "pump-failure",
    "queue-size-exceeded",
    "receive-failure",
    "receiver-failure",
    "remote-node-transmission-error",
    "resource-at-or-nearing-capacity",
    "response-time-excessive",
    "retransmission-rate-excessive",
    "software-error",
    "software-program-abnormally-terminated",
    "software-program-error",
    "storage-capacity-problem",
    "temperature-unacceptable",
    "threshold-crossed",
    "timing-problem",
    "toxic-leak-detected",
    "transmit-failure",
    "transmitter-failure",
    "underlying-resource-unavailable",
    "version-mismatch",
    "duplicate-information",
    "information-missing",
    "information-modification-detected",
    "information-out-of-sequence",
    "unexpected-information",
    "denial-of-service",
    "out-of-service",
    "procedural-error",
    "unspecified-reason",
    "cable-tamper",
    "intrusion-detection",
    "authentication-failure",
    "breach-of-confidentiality",
    "non-repudiation-failure",
    "unauthorized-access-attempt",
    "delayed-information",
    "key-expired",
    "out-of-hours-activity",
    "configuration-out-of-date",
    "configuration-provisioning-required",
    "certificate-expiration",
    "unknown",
];
const MIB_PROBABLE_CAUSES: usize = 75;

/// MIB integer of an alarm type (0 for values the MIB does not define).
pub fn alarm_type_code(t: &str) -> u32 {
    ALARM_TYPES[..MIB_ALARM_TYPES]
        .iter()
        .position(|x| *x == t)
        .map_or(0, |i| i as u32)
}

/// MIB integer of a probable cause (0 for values the MIB does not define).
pub fn probable_cause_code(c: &str) -> u32 {
    PROBABLE_CAUSES[..MIB_PROBABLE_CAUSES]
        .iter()
        .position(|x| *x == c)
        .map_or(0, |i| i as u32)
}

/// An active alarm, as stored. Its identity is (`alarm_id`, `entity_instance_id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alarm {
    /// Internal ordering key; never on the wire.
    pub id: i64,
    /// Stable for the alarm's whole lifetime (set until clear).
    pub uuid: String,
    /// `GGG.NNN`.
    pub alarm_id: String,
    /// Dotted type path, e.g. `host.port`.
    pub entity_type_id: String,
    /// Dotted `key=value` containment path, e.g. `host=controller-0.port=eth0`.
    pub entity_instance_id: String,
    /// When the alarm's state last changed.
    pub timestamp: Timestamp,
    /// Severity.
    pub severity: Severity,
    /// Free text.
    pub reason_text: String,
    /// X.733 event type.
    pub alarm_type: String,
    /// Probable cause.
    pub probable_cause: String,
    /// Free text.
    pub proposed_repair_action: String,
    /// Service affecting.
    pub service_affecting: bool,
    /// Suppression allowed; also makes the alarm maskable by an inhibiting ancestor.
    pub suppression: bool,
    /// Masks suppression-allowed descendants while active.
    pub inhibit_alarms: bool,
    /// Hidden because an active inhibiting ancestor exists.
    pub masked: bool,
    /// When the alarm was first raised.
    pub created_at: Timestamp,
    /// When the alarm last changed after creation.
    pub updated_at: Option<Timestamp>,
}

impl Alarm {
    /// True when the operator-visible content of `self` and `other` is the same
    /// (the timestamp and bookkeeping are not compared): a re-set with such content
    /// writes nothing.
    pub fn same_content(&self, other: &Alarm) -> bool {
        self.entity_type_id == other.entity_type_id
            && self.severity == other.severity
            && self.reason_text == other.reason_text
            && self.alarm_type == other.alarm_type
            && self.probable_cause == other.probable_cause
            && self.proposed_repair_action == other.proposed_repair_action
            && self.service_affecting == other.service_affecting
            && self.suppression == other.suppression
            && self.inhibit_alarms == other.inhibit_alarms
    }
}

/// An event-log (history) record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Dense sequence number; retention by count deletes the lowest.
    pub id: i64,
    /// Own uuid (never the alarm's).
    pub uuid: String,
    /// The alarm or log id; empty for a hierarchical clear.
    pub event_log_id: String,
    /// set, clear or log.
    pub state: EventState,
    /// Entity type.
    pub entity_type_id: String,
    /// Entity instance (the prefix, for a hierarchical clear).
    pub entity_instance_id: String,
    /// Event time.
    pub timestamp: Timestamp,
    /// Severity.
    pub severity: Severity,
    /// Free text.
    pub reason_text: String,
    /// X.733 event type.
    pub event_log_type: String,
    /// Probable cause.
    pub probable_cause: String,
    /// Free text.
    pub proposed_repair_action: String,
    /// Service affecting.
    pub service_affecting: bool,
    /// Suppression allowed.
    pub suppression: bool,
    /// When the record was written.
    pub created_at: Timestamp,
}

/// An event-suppression row: per alarm id, seeded from the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// Internal key.
    pub id: i64,
    /// Public id.
    pub uuid: String,
    /// The alarm id it governs.
    pub alarm_id: String,
    /// Catalogue description.
    pub description: String,
    /// Current status.
    pub status: SuppressionStatus,
    /// The id left the catalogue but is still referenced by alarms or history.
    pub set_for_deletion: bool,
    /// Management-affecting threshold.
    pub mgmt_affecting: Threshold,
    /// Degrade-affecting threshold.
    pub degrade_affecting: Threshold,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Option<Timestamp>,
}

/// An alarm with its derived, joined fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmView {
    /// The stored alarm.
    pub alarm: Alarm,
    /// From the suppression row; unknown ids are unsuppressed.
    pub suppression_status: SuppressionStatus,
    /// Management-affecting threshold of its id (`warning` for unknown ids).
    pub mgmt_threshold: Threshold,
    /// Degrade-affecting threshold of its id (`none` for unknown ids).
    pub degrade_threshold: Threshold,
}

impl AlarmView {
    /// Severity reaches the management-affecting threshold.
    pub fn mgmt_affecting(&self) -> bool {
        self.mgmt_threshold.reached_by(self.alarm.severity)
    }
    /// Severity reaches the degrade-affecting threshold.
    pub fn degrade_affecting(&self) -> bool {
        self.degrade_threshold.reached_by(self.alarm.severity)
    }
}

/// An active alarm as a list shows it (StarlingX's brief form): the fields
/// of [`AlarmView`] that a list row carries, read without the others (a list
/// of 10,000 reads 9 columns per row instead of 20).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmLine {
    /// Stable for the alarm's lifetime.
    pub uuid: String,
    /// Alarm id.
    pub alarm_id: String,
    /// Entity instance id.
    pub entity_instance_id: String,
    /// When it was last raised.
    pub timestamp: Timestamp,
    /// Severity.
    pub severity: Severity,
    /// Reason text.
    pub reason_text: String,
    /// From the suppression row; unknown ids are unsuppressed.
    pub suppression_status: SuppressionStatus,
    /// Management-affecting threshold of its id.
    pub mgmt_threshold: Threshold,
    /// Degrade-affecting threshold of its id.
    pub degrade_threshold: Threshold,
}

impl AlarmLine {
    /// Severity reaches the management-affecting threshold.
    pub fn mgmt_affecting(&self) -> bool {
        self.mgmt_threshold.reached_by(self.severity)
    }
    /// Severity reaches the degrade-affecting threshold.
    pub fn degrade_affecting(&self) -> bool {
        self.degrade_threshold.reached_by(self.severity)
    }
}

impl From<AlarmView> for AlarmLine {
    fn from(v: AlarmView) -> Self {
        AlarmLine {
            uuid: v.alarm.uuid,
            alarm_id: v.alarm.alarm_id,
            entity_instance_id: v.alarm.entity_instance_id,
            timestamp: v.alarm.timestamp,
            severity: v.alarm.severity,
            reason_text: v.alarm.reason_text,
            suppression_status: v.suppression_status,
            mgmt_threshold: v.mgmt_threshold,
            degrade_threshold: v.degrade_threshold,
        }
    }
}

/// An event with its derived suppression status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventView {
    /// The record.
    pub event: Event,
    /// Suppressed only when its id has a suppressed row and it is not a log.
    pub suppression_status: SuppressionStatus,
}

/// Counts of visible active alarms by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Critical.
    pub critical: u64,
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Warning.
    pub warnings: u64,
}

impl Summary {
    /// `critical` if any critical; `degraded` if any major or minor; else `OK`.
    pub fn status(&self) -> &'static str {
        if self.critical > 0 {
            "critical"
        } else if self.major > 0 || self.minor > 0 {
            "degraded"
        } else {
            "OK"
        }
    }
}

/// A validated fault report from a producer (set, clear or log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Requested state.
    pub state: RequestState,
    /// `GGG.NNN`.
    pub alarm_id: String,
    /// Entity type.
    pub entity_type_id: String,
    /// Entity instance.
    pub entity_instance_id: String,
    /// Supplied time; the server's clock when absent.
    pub timestamp: Option<Timestamp>,
    /// Severity.
    pub severity: Severity,
    /// Free text.
    pub reason_text: String,
    /// Event type.
    pub alarm_type: String,
    /// Probable cause.
    pub probable_cause: String,
    /// Free text.
    pub proposed_repair_action: String,
    /// Service affecting.
    pub service_affecting: bool,
    /// Suppression allowed.
    pub suppression: bool,
    /// Inhibits descendants.
    pub inhibit_alarms: bool,
    /// A uuid the producer wants for a *new* alarm.
    pub uuid: Option<String>,
    /// When the alarm exists, leave it untouched.
    pub keep_existing_alarm: bool,
}

/// Untyped fault fields as they arrive from any edge (REST, client); [`FaultInput::validate`]
/// turns them into a [`Fault`] or names the first problem.
#[derive(Clone, Debug, Default)]
pub struct FaultInput {
    /// `set|clear|msg|log`.
    pub alarm_state: Option<String>,
    /// `GGG.NNN`.
    pub alarm_id: Option<String>,
    /// Entity type; defaults to the keys of the instance id (`host.port`).
    pub entity_type_id: Option<String>,
    /// Entity instance.
    pub entity_instance_id: Option<String>,
    /// Time text.
    pub timestamp: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// Reason text.
    pub reason_text: Option<String>,
    /// Event type.
    pub alarm_type: Option<String>,
    /// Probable cause.
    pub probable_cause: Option<String>,
    /// Repair action.
    pub proposed_repair_action: Option<String>,
    /// Service affecting.
    pub service_affecting: Option<bool>,
    /// Suppression allowed.
    pub suppression: Option<bool>,
    /// Inhibit descendants.
    pub inhibit_alarms: Option<bool>,
    /// Requested uuid.
    pub uuid: Option<String>,
    /// Keep an existing alarm untouched.
    pub keep_existing_alarm: Option<bool>,
}

fn required(v: Option<String>, name: &str) -> Result<String, Error> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(Error::invalid(format!(
            "Mandatory field '{name}' is missing"
        ))),
    }
}

/// Checks an alarm id: `GGG.NNN`, three digits, a dot, three digits.
pub fn validate_alarm_id(s: &str) -> Result<(), Error> {
    let b = s.as_bytes();
    let ok = b.len() == 7
        && b[3] == b'.'
        && b[..3].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Invalid alarm_id '{s}': expected GGG.NNN (three digits, a dot, three digits)"
        )))
    }
}

fn check_len(v: &str, name: &str, max: usize) -> Result<(), Error> {
    // A string has no more characters than bytes: count only when it matters.
    if v.len() > max && v.chars().count() > max {
        return Err(Error::invalid(format!(
            "Field '{name}' is longer than {max} characters"
        )));
    }
    if has_control(v) {
        return Err(Error::invalid(format!(
            "Field '{name}' contains control characters"
        )));
    }
    Ok(())
}

/// Whether `v` holds a control character (Unicode Cc) other than newline and
/// tab, read bytewise: C0 and DEL are single bytes, C1 (U+0080..U+009F) is
/// 0xC2 followed by 0x80..=0x9F, and no other character's encoding holds
/// those byte values.
fn has_control(v: &str) -> bool {
    let b = v.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        (c < 0x20 && c != b'\n' && c != b'\t')
            || c == 0x7f
            || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)))
    })
}

/// Checks an entity instance id: non-empty `key=value` parts joined by dots.
pub fn validate_entity_instance_id(s: &str) -> Result<(), Error> {
    check_len(s, "entity_instance_id", MAX_ID_LEN)?;
    if s.trim().is_empty() || s.starts_with('.') || s.ends_with('.') || s.contains("..") {
        return Err(Error::invalid(format!(
            "Invalid entity_instance_id '{s}': expected dot-separated key=value parts"
        )));
    }
    Ok(())
}

/// The entity type implied by an instance id: its keys joined by dots
/// (`host=controller-0.port=eth0` → `host.port`).
pub fn implied_entity_type(eid: &str) -> String {
    eid.split('.')
        .filter_map(|part| part.split_once('=').map(|(k, _)| k))
        .collect::<Vec<_>>()
        .join(".")
}

impl FaultInput {
    /// Validates and normalises the input. Every problem is a clear [`Error::Invalid`].
    pub fn validate(self) -> Result<Fault, Error> {
        let state_s = required(self.alarm_state, "alarm_state")?;
        let state = RequestState::parse(&state_s).ok_or_else(|| {
            Error::invalid(format!(
                "Invalid alarm_state '{state_s}': expected one of set, clear, msg, log"
            ))
        })?;
        let alarm_id = required(self.alarm_id, "alarm_id")?;
        validate_alarm_id(&alarm_id)?;
        let eid = required(self.entity_instance_id, "entity_instance_id")?;
        validate_entity_instance_id(&eid)?;
        let etype = match self.entity_type_id {
            Some(t) if !t.trim().is_empty() => t,
            _ => implied_entity_type(&eid),
        };
        check_len(&etype, "entity_type_id", MAX_ID_LEN)?;

        let defaults_ok = state == RequestState::Clear;
        let severity = match self.severity {
            Some(s) => Severity::parse(&s).ok_or_else(|| {
                Error::invalid(format!(
                    "Invalid severity '{s}': expected one of critical, major, minor, warning, clear"
                ))
            })?,
            None if defaults_ok => Severity::NotApplicable,
            None => return Err(Error::invalid("Mandatory field 'severity' is missing")),
        };
        if state == RequestState::Set && severity == Severity::NotApplicable {
            return Err(Error::invalid(
                "Invalid severity for a set: an active alarm must be critical, major, minor or warning",
            ));
        }
        let alarm_type = match self.alarm_type {
            Some(t) if ALARM_TYPES.contains(&t.as_str()) => t,
            Some(t) => {
                return Err(Error::invalid(format!("Invalid alarm_type '{t}'")));
            }
            None if defaults_ok => "other".to_string(),
            None => return Err(Error::invalid("Mandatory field 'alarm_type' is missing")),
        };
        let probable_cause = match self.probable_cause {
            Some(c) if PROBABLE_CAUSES.contains(&c.as_str()) => c,
            Some(c) => {
                return Err(Error::invalid(format!("Invalid probable_cause '{c}'")));
            }
            None if defaults_ok => "not-applicable".to_string(),
            None => {
                return Err(Error::invalid(
                    "Mandatory field 'probable_cause' is missing",
                ));
            }
        };
        let reason_text = self.reason_text.unwrap_or_default();
        check_len(&reason_text, "reason_text", MAX_TEXT_LEN)?;
        let repair = self.proposed_repair_action.unwrap_or_default();
        check_len(&repair, "proposed_repair_action", MAX_TEXT_LEN)?;
        let timestamp = match self.timestamp {
            Some(t) if !t.trim().is_empty() => {
                Some(Timestamp::parse(&t).map_err(|e| Error::invalid(e.to_string()))?)
            }
            _ => None,
        };
        let uuid = match self.uuid {
            Some(u) if !u.trim().is_empty() => {
                if !starling_common::is_uuid(&u) {
                    return Err(Error::invalid(format!("Invalid uuid '{u}'")));
                }
                Some(u.to_ascii_lowercase())
            }
            _ => None,
        };
        Ok(Fault {
            state,
            alarm_id,
            entity_type_id: etype,
            entity_instance_id: eid,
            timestamp,
            severity,
            reason_text,
            alarm_type,
            probable_cause,
            proposed_repair_action: repair,
            service_affecting: self.service_affecting.unwrap_or(false),
            suppression: self.suppression.unwrap_or(false),
            inhibit_alarms: self.inhibit_alarms.unwrap_or(false),
            uuid,
            keep_existing_alarm: self.keep_existing_alarm.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> FaultInput {
        FaultInput {
            alarm_state: Some("set".into()),
            alarm_id: Some("100.101".into()),
            entity_instance_id: Some("host=controller-0".into()),
            severity: Some("major".into()),
            alarm_type: Some("operational-violation".into()),
            probable_cause: Some("threshold-crossed".into()),
            ..FaultInput::default()
        }
    }

    #[test]
    fn control_characters_are_found_bytewise_as_by_character() {
        let by_char = |v: &str| v.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
        // Every character up to U+0800 (one- and two-byte encodings), alone
        // and between others, and a few wider ones.
        let wide = [
            '\u{2028}',
            '\u{feff}',
            '\u{fffd}',
            '\u{1f600}',
            '\u{10ffff}',
        ];
        let all = (0u32..0x800).filter_map(char::from_u32).chain(wide);
        for c in all {
            for v in [
                c.to_string(),
                format!("a{c}b"),
                format!("é{c}ÿ"),
                format!("{c}\u{80}"),
            ] {
                assert_eq!(has_control(&v), by_char(&v), "{:?}", v);
            }
        }
        // Length counts characters, not bytes.
        assert!(check_len(&"é".repeat(10), "f", 10).is_ok());
        assert!(check_len(&"é".repeat(11), "f", 10).is_err());
    }

    #[track_caller]
    fn check_err(f: impl FnOnce(&mut FaultInput), expect: &str) {
        let mut i = input();
        f(&mut i);
        let err = i.validate().expect_err("must be rejected").to_string();
        assert!(err.contains(expect), "{err:?} should contain {expect:?}");
    }

    #[test]
    fn accepts_a_plain_set_and_derives_entity_type() {
        let f = input().validate().unwrap();
        assert_eq!(f.entity_type_id, "host");
        assert_eq!(f.severity, Severity::Major);
    }

    #[test]
    fn rejects_bad_fields_by_name() {
        check_err(|i| i.alarm_state = Some("raise".into()), "alarm_state");
        check_err(|i| i.alarm_id = None, "alarm_id");
        check_err(|i| i.alarm_id = Some("100.1".into()), "alarm_id");
        check_err(|i| i.severity = Some("huge".into()), "severity");
        check_err(|i| i.severity = Some("clear".into()), "severity");
        check_err(|i| i.alarm_type = Some("bogus".into()), "alarm_type");
        check_err(
            |i| i.probable_cause = Some("bogus".into()),
            "probable_cause",
        );
        check_err(|i| i.timestamp = Some("yesterday".into()), "Invalid date");
        check_err(
            |i| i.entity_instance_id = Some("host=a..b".into()),
            "entity_instance_id",
        );
        check_err(
            |i| i.reason_text = Some("x".repeat(MAX_TEXT_LEN + 1)),
            "reason_text",
        );
        check_err(|i| i.uuid = Some("123".into()), "uuid");
    }

    #[test]
    fn clear_needs_only_the_key() {
        let f = FaultInput {
            alarm_state: Some("clear".into()),
            alarm_id: Some("100.101".into()),
            entity_instance_id: Some("host=controller-0".into()),
            ..FaultInput::default()
        }
        .validate()
        .unwrap();
        assert_eq!(f.state, RequestState::Clear);
    }

    #[test]
    fn thresholds_and_codes() {
        let t = Threshold::parse("major").unwrap();
        assert!(t.reached_by(Severity::Critical));
        assert!(t.reached_by(Severity::Major));
        assert!(!t.reached_by(Severity::Minor));
        assert!(!Threshold::None.reached_by(Severity::Critical));
        assert_eq!(alarm_type_code("operational-violation"), 7);
        assert_eq!(alarm_type_code("deployment in progress"), 0);
        assert_eq!(probable_cause_code("out-of-hours-activity"), 74);
        assert_eq!(probable_cause_code("excessive-vibration"), 16);
        assert_eq!(probable_cause_code("unknown"), 0);
    }
}
