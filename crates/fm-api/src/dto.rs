//! Wire shapes of the FM API (StarlingX fm-api v1 keys and value formats).
//! Serialization lives here only: domain types are converted by hand.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use starling_common::Timestamp;
use starling_fm::{AlarmLine, AlarmView, EventView, FaultInput, Suppression};

fn tf(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A timestamp in StarlingX's zone-less form (`timestamp` fields), written
/// without an intermediate string.
struct Naive(Timestamp);

impl Serialize for Naive {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.naive_iso())
    }
}

/// A timestamp with an explicit `+00:00` (`created_at`, `updated_at`).
struct Utc(Timestamp);

impl Serialize for Utc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.iso_utc())
    }
}

/// An alarm in a list (expand=false).
#[derive(Serialize)]
pub struct AlarmBrief<'a> {
    uuid: &'a str,
    alarm_id: &'a str,
    entity_instance_id: &'a str,
    severity: &'static str,
    timestamp: Naive,
    reason_text: &'a str,
    suppression_status: &'static str,
    mgmt_affecting: &'static str,
    degrade_affecting: &'static str,
}

impl<'a> AlarmBrief<'a> {
    /// From a list row.
    pub fn new(l: &'a AlarmLine) -> Self {
        AlarmBrief {
            uuid: &l.uuid,
            alarm_id: &l.alarm_id,
            entity_instance_id: &l.entity_instance_id,
            severity: l.severity.as_str(),
            timestamp: Naive(l.timestamp),
            reason_text: &l.reason_text,
            suppression_status: l.suppression_status.as_str(),
            mgmt_affecting: tf(l.mgmt_affecting()),
            degrade_affecting: tf(l.degrade_affecting()),
        }
    }
}

impl AlarmBrief<'_> {
    /// Appends the alarm as JSON, byte for byte what serde_json writes for it
    /// (a test holds them equal), without serde: long lists write one per row,
    /// and serde_json's escaping of each string was a fifth of their CPU.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use starling_http::json_text::push_str;
        // Keys with the punctuation before them, in the struct's order.
        let head = [
            (&b"{\"uuid\":"[..], self.uuid),
            (b",\"alarm_id\":", self.alarm_id),
            (b",\"entity_instance_id\":", self.entity_instance_id),
            (b",\"severity\":", self.severity),
        ];
        let tail = [
            (&b",\"reason_text\":"[..], self.reason_text),
            (b",\"suppression_status\":", self.suppression_status),
            (b",\"mgmt_affecting\":", self.mgmt_affecting),
            (b",\"degrade_affecting\":", self.degrade_affecting),
        ];
        for (key, v) in head {
            out.extend_from_slice(key);
            push_str(out, v);
        }
        out.extend_from_slice(b",\"timestamp\":");
        let iso = self.timestamp.0.naive_iso();
        match iso.bytes() {
            Some(b) => {
                out.push(b'"');
                out.extend_from_slice(&b);
                out.push(b'"');
            }
            None => push_str(out, &iso.to_string()),
        }
        for (key, v) in tail {
            out.extend_from_slice(key);
            push_str(out, v);
        }
        out.push(b'}');
    }
}

/// An alarm in full (show, expand=true, detail).
#[derive(Serialize)]
pub struct AlarmFull<'a> {
    uuid: &'a str,
    alarm_id: &'a str,
    alarm_state: &'static str,
    entity_type_id: &'a str,
    entity_instance_id: &'a str,
    timestamp: Naive,
    severity: &'static str,
    reason_text: &'a str,
    alarm_type: &'a str,
    probable_cause: &'a str,
    proposed_repair_action: &'a str,
    service_affecting: bool,
    suppression: bool,
    inhibit_alarms: bool,
    suppression_status: &'static str,
    mgmt_affecting: &'static str,
    degrade_affecting: &'static str,
    created_at: Utc,
    updated_at: Option<Utc>,
}

impl<'a> AlarmFull<'a> {
    /// From a view.
    pub fn new(v: &'a AlarmView) -> Self {
        let a = &v.alarm;
        AlarmFull {
            uuid: &a.uuid,
            alarm_id: &a.alarm_id,
            alarm_state: "set",
            entity_type_id: &a.entity_type_id,
            entity_instance_id: &a.entity_instance_id,
            timestamp: Naive(a.timestamp),
            severity: a.severity.as_str(),
            reason_text: &a.reason_text,
            alarm_type: &a.alarm_type,
            probable_cause: &a.probable_cause,
            proposed_repair_action: &a.proposed_repair_action,
            service_affecting: a.service_affecting,
            suppression: a.suppression,
            inhibit_alarms: a.inhibit_alarms,
            suppression_status: v.suppression_status.as_str(),
            mgmt_affecting: tf(v.mgmt_affecting()),
            degrade_affecting: tf(v.degrade_affecting()),
            created_at: Utc(a.created_at),
            updated_at: a.updated_at.map(Utc),
        }
    }
}

/// An event-log record; the expanded fields are skipped when `None`.
#[derive(Serialize)]
pub struct EventOut<'a> {
    uuid: &'a str,
    event_log_id: &'a str,
    entity_instance_id: &'a str,
    severity: &'static str,
    timestamp: Naive,
    reason_text: &'a str,
    state: &'static str,
    suppression_status: &'static str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    more: Option<EventMore<'a>>,
}

#[derive(Serialize)]
struct EventMore<'a> {
    entity_type_id: &'a str,
    event_log_type: &'a str,
    probable_cause: &'a str,
    proposed_repair_action: &'a str,
    service_affecting: bool,
    suppression: bool,
    created_at: Utc,
    updated_at: Option<Utc>,
}

impl<'a> EventOut<'a> {
    /// From a view; `expand` adds the full fields.
    pub fn new(v: &'a EventView, expand: bool) -> Self {
        let e = &v.event;
        EventOut {
            uuid: &e.uuid,
            event_log_id: &e.event_log_id,
            entity_instance_id: &e.entity_instance_id,
            severity: e.severity.as_str(),
            timestamp: Naive(e.timestamp),
            reason_text: &e.reason_text,
            state: e.state.as_str(),
            suppression_status: v.suppression_status.as_str(),
            more: expand.then(|| EventMore {
                entity_type_id: &e.entity_type_id,
                event_log_type: &e.event_log_type,
                probable_cause: &e.probable_cause,
                proposed_repair_action: &e.proposed_repair_action,
                service_affecting: e.service_affecting,
                suppression: e.suppression,
                created_at: Utc(e.created_at),
                updated_at: None,
            }),
        }
    }
}

/// A link in StarlingX's `links` arrays.
#[derive(Serialize)]
pub struct Link {
    href: String,
    rel: &'static str,
}

/// Self and bookmark links of a resource.
pub fn links(base: &str, resource: &str, id: &str) -> Vec<Link> {
    vec![
        Link {
            href: format!("{base}/v1/{resource}/{id}"),
            rel: "self",
        },
        Link {
            href: format!("{base}/{resource}/{id}"),
            rel: "bookmark",
        },
    ]
}

/// A suppression row; `full` adds the show-only fields.
#[derive(Serialize)]
pub struct SuppressionOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    uuid: &'a str,
    alarm_id: &'a str,
    description: &'a str,
    suppression_status: &'static str,
    links: Vec<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<Option<String>>,
}

impl<'a> SuppressionOut<'a> {
    /// From a row.
    pub fn new(s: &'a Suppression, base: &str, full: bool) -> Self {
        SuppressionOut {
            id: full.then_some(s.id),
            uuid: &s.uuid,
            alarm_id: &s.alarm_id,
            description: &s.description,
            suppression_status: s.status.as_str(),
            links: links(base, "event_suppression", &s.uuid),
            created_at: full.then(|| s.created_at.to_iso_utc()),
            updated_at: full.then(|| s.updated_at.map(|t| t.to_iso_utc())),
        }
    }
}

/// A boolean that also accepts StarlingX's string spellings ("True", "False").
#[derive(Debug, Clone, Copy)]
pub struct LooseBool(pub bool);

impl<'de> Deserialize<'de> for LooseBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum B {
            B(bool),
            S(String),
        }
        match B::deserialize(d)? {
            B::B(b) => Ok(LooseBool(b)),
            B::S(s) => starling_http::parse_bool(&s)
                .map(LooseBool)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid boolean '{s}'"))),
        }
    }
}

/// The body of POST and PUT /v1/alarms.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmBody {
    uuid: Option<String>,
    alarm_id: Option<String>,
    alarm_state: Option<String>,
    entity_type_id: Option<String>,
    entity_instance_id: Option<String>,
    timestamp: Option<String>,
    severity: Option<String>,
    reason_text: Option<String>,
    alarm_type: Option<String>,
    probable_cause: Option<String>,
    proposed_repair_action: Option<String>,
    service_affecting: Option<LooseBool>,
    suppression: Option<LooseBool>,
    inhibit_alarms: Option<LooseBool>,
    keep_existing_alarm: Option<LooseBool>,
    // Derived fields StarlingX accepts in the body and ignores.
    #[serde(rename = "suppression_status")]
    _suppression_status: Option<String>,
    #[serde(rename = "mgmt_affecting")]
    _mgmt_affecting: Option<serde_json::Value>,
    #[serde(rename = "degrade_affecting")]
    _degrade_affecting: Option<serde_json::Value>,
}

impl AlarmBody {
    /// Into the domain's untyped input.
    pub fn into_input(self) -> FaultInput {
        FaultInput {
            alarm_state: self.alarm_state,
            alarm_id: self.alarm_id,
            entity_type_id: self.entity_type_id,
            entity_instance_id: self.entity_instance_id,
            timestamp: self.timestamp,
            severity: self.severity,
            reason_text: self.reason_text,
            alarm_type: self.alarm_type,
            probable_cause: self.probable_cause,
            proposed_repair_action: self.proposed_repair_action,
            service_affecting: self.service_affecting.map(|b| b.0),
            suppression: self.suppression.map(|b| b.0),
            inhibit_alarms: self.inhibit_alarms.map(|b| b.0),
            uuid: self.uuid,
            keep_existing_alarm: self.keep_existing_alarm.map(|b| b.0),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use starling_fm::{Alarm, Severity, SuppressionStatus, Threshold};

    fn view(text: &str, eid: &str, ts: Timestamp) -> AlarmView {
        AlarmView {
            alarm: Alarm {
                id: 7,
                uuid: "0195f3c2-7d3e-7c4a-9b1e-2f6a8d0c4e11".into(),
                alarm_id: "100.101".into(),
                entity_type_id: "system.host".into(),
                entity_instance_id: eid.into(),
                timestamp: ts,
                severity: Severity::Major,
                reason_text: text.into(),
                alarm_type: "operational-violation".into(),
                probable_cause: "threshold-crossed".into(),
                proposed_repair_action: "Monitor".into(),
                service_affecting: false,
                suppression: true,
                inhibit_alarms: false,
                masked: false,
                created_at: ts,
                updated_at: None,
            },
            suppression_status: SuppressionStatus::Unsuppressed,
            mgmt_threshold: Threshold::AtLeast(Severity::Warning),
            degrade_threshold: Threshold::None,
        }
    }

    #[test]
    fn a_brief_alarm_written_directly_is_what_serde_json_writes() {
        let texts = [
            "Platform CPU threshold exceeded; threshold 90.00%, actual 96.42%",
            "quote \" back \\ tab \t newline \n bell \u{7} – naïve 日本 🚀",
            "",
        ];
        let times = [
            Timestamp::parse("2026-01-02T03:04:05.678901").unwrap(),
            Timestamp::from_micros(0),
            Timestamp::from_micros(-1),
            Timestamp::parse("9999-12-31T23:59:59.999999").unwrap(),
            // Past year 9999: the Display fallback.
            Timestamp::from_micros(i64::MAX),
        ];
        for text in texts {
            for ts in times {
                let v = view(text, "host=controller-0.port=eth\"0", ts);
                let line = AlarmLine::from(v);
                let b = AlarmBrief::new(&line);
                let mut ours = Vec::new();
                b.write_json(&mut ours);
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    serde_json::to_string(&b).unwrap()
                );
            }
        }
    }
}
