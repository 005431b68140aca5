//! The FM API's request and response shapes (StarlingX fm-api v1 keys,
//! key order and value spellings), declared once: the server serializes
//! them, `starling-fm-client` and the `fm` CLI read them, and the OpenAPI
//! document is generated from them. Text fields are `Cow`, so the server
//! writes straight from its rows and a client owns what it reads.
//!
//! Key order is the wire's: StarlingX clients print columns in it, and a
//! response's bytes stay what they were when these were written by hand.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use starling_wire::{LooseBool, Timestamp, time};
use utoipa::ToSchema;

pub use starling_wire::{ErrorEnvelope, Link, PatchOp};

/// An active alarm as lists show it (`expand` absent or false).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlarmBrief<'a> {
    pub uuid: Cow<'a, str>,
    /// `GGG.NNN`.
    pub alarm_id: Cow<'a, str>,
    /// e.g. `host=controller-0.port=eth0`.
    pub entity_instance_id: Cow<'a, str>,
    /// critical, major, minor or warning.
    pub severity: Cow<'a, str>,
    /// When the alarm last changed, UTC without a zone.
    #[serde(with = "time::naive")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901")]
    pub timestamp: Timestamp,
    pub reason_text: Cow<'a, str>,
    /// `suppressed` or `unsuppressed` (its alarm id's suppression).
    pub suppression_status: Cow<'a, str>,
    /// `True` when its severity reaches the id's management threshold.
    #[schema(pattern = "^(True|False)$")]
    pub mgmt_affecting: Cow<'a, str>,
    /// `True` when its severity reaches the id's degrade threshold.
    #[schema(pattern = "^(True|False)$")]
    pub degrade_affecting: Cow<'a, str>,
}

/// An active alarm in full (show, `expand=true`, `/v1/alarms/detail`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Alarm<'a> {
    pub uuid: Cow<'a, str>,
    pub alarm_id: Cow<'a, str>,
    /// Always `set` for an active alarm.
    pub alarm_state: Cow<'a, str>,
    pub entity_type_id: Cow<'a, str>,
    pub entity_instance_id: Cow<'a, str>,
    #[serde(with = "time::naive")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901")]
    pub timestamp: Timestamp,
    pub severity: Cow<'a, str>,
    pub reason_text: Cow<'a, str>,
    /// X.733 event type.
    pub alarm_type: Cow<'a, str>,
    pub probable_cause: Cow<'a, str>,
    pub proposed_repair_action: Cow<'a, str>,
    pub service_affecting: bool,
    /// Suppression of this alarm is allowed.
    pub suppression: bool,
    /// Masks suppression-allowed alarms of descendant entities while active.
    pub inhibit_alarms: bool,
    pub suppression_status: Cow<'a, str>,
    #[schema(pattern = "^(True|False)$")]
    pub mgmt_affecting: Cow<'a, str>,
    #[schema(pattern = "^(True|False)$")]
    pub degrade_affecting: Cow<'a, str>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    /// `null` until the alarm is first updated.
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
}

/// A page of active alarms (`GET /v1/alarms`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AlarmList<'a> {
    pub alarms: Vec<AlarmBrief<'a>>,
    /// The next page's URL, when this page is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A page of active alarms in full (`expand=true`, `/v1/alarms/detail`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AlarmDetailList<'a> {
    pub alarms: Vec<Alarm<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Counts of active alarms by severity (`GET /v1/alarms/summary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub critical: u64,
    pub major: u64,
    pub minor: u64,
    /// `critical` with any critical alarm, `degraded` with any major,
    /// `OK` otherwise.
    pub status: Cow<'static, str>,
    pub warnings: u64,
}

/// An event-log record: brief in lists, in full with `expand=true`, on
/// show and on `/v1/event_log/detail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Event<'a> {
    Full(EventFull<'a>),
    Brief(EventBrief<'a>),
}

impl Event<'_> {
    /// The fields brief and full records share.
    pub fn brief(&self) -> EventBrief<'_> {
        macro_rules! head {
            ($e:expr) => {
                EventBrief {
                    uuid: Cow::Borrowed(&$e.uuid),
                    event_log_id: Cow::Borrowed(&$e.event_log_id),
                    entity_instance_id: Cow::Borrowed(&$e.entity_instance_id),
                    severity: Cow::Borrowed(&$e.severity),
                    timestamp: $e.timestamp,
                    reason_text: Cow::Borrowed(&$e.reason_text),
                    state: Cow::Borrowed(&$e.state),
                    suppression_status: Cow::Borrowed(&$e.suppression_status),
                }
            };
        }
        match self {
            Event::Full(e) => head!(e),
            Event::Brief(e) => head!(e),
        }
    }
}

/// An event-log record as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBrief<'a> {
    pub uuid: Cow<'a, str>,
    pub event_log_id: Cow<'a, str>,
    pub entity_instance_id: Cow<'a, str>,
    pub severity: Cow<'a, str>,
    #[serde(with = "time::naive")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901")]
    pub timestamp: Timestamp,
    pub reason_text: Cow<'a, str>,
    /// `set`, `clear`, `msg` or `log`.
    pub state: Cow<'a, str>,
    pub suppression_status: Cow<'a, str>,
}

/// An event-log record in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventFull<'a> {
    pub uuid: Cow<'a, str>,
    pub event_log_id: Cow<'a, str>,
    pub entity_instance_id: Cow<'a, str>,
    pub severity: Cow<'a, str>,
    #[serde(with = "time::naive")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901")]
    pub timestamp: Timestamp,
    pub reason_text: Cow<'a, str>,
    pub state: Cow<'a, str>,
    pub suppression_status: Cow<'a, str>,
    pub entity_type_id: Cow<'a, str>,
    pub event_log_type: Cow<'a, str>,
    pub probable_cause: Cow<'a, str>,
    pub proposed_repair_action: Cow<'a, str>,
    pub service_affecting: bool,
    pub suppression: bool,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    /// Always `null`: a record is never updated.
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>)]
    pub updated_at: Option<Timestamp>,
}

/// A page of the event log.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EventList<'a> {
    pub event_log: Vec<Event<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An alarm id's suppression as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SuppressionBrief<'a> {
    pub uuid: Cow<'a, str>,
    pub alarm_id: Cow<'a, str>,
    pub description: Cow<'a, str>,
    /// `suppressed` or `unsuppressed`.
    pub suppression_status: Cow<'a, str>,
    pub links: Vec<Link<'a>>,
}

/// An alarm id's suppression in full (show, and the answer to a PATCH).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Suppression<'a> {
    pub id: i64,
    pub uuid: Cow<'a, str>,
    pub alarm_id: Cow<'a, str>,
    pub description: Cow<'a, str>,
    pub suppression_status: Cow<'a, str>,
    pub links: Vec<Link<'a>>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    /// `null` until its status is first changed.
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>)]
    pub updated_at: Option<Timestamp>,
}

/// A page of suppressions.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SuppressionList<'a> {
    pub event_suppression: Vec<SuppressionBrief<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The body of `POST` and `PUT /v1/alarms`: a report to set, clear or log
/// (StarlingX's `alarm_state`: `set`, `clear`, `msg`, `log`). Only the
/// alarm id, the state and the entity instance are always needed; what a
/// state needs beyond them is checked by FM.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_id: Option<String>,
    /// `set`, `clear`, `msg` or `log`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_state: Option<String>,
    /// Derived from the instance id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_instance_id: Option<String>,
    /// The event's time (any of StarlingX's forms); FM's clock when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probable_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_repair_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_affecting: Option<LooseBool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<LooseBool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inhibit_alarms: Option<LooseBool>,
    /// A set that finds the alarm already active keeps its timestamp and
    /// text (StarlingX's `keep_existing_alarm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_existing_alarm: Option<LooseBool>,
    /// Accepted and ignored (derived by FM), as StarlingX does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression_status: Option<String>,
    /// Accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub mgmt_affecting: Option<serde_json::Value>,
    /// Accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub degrade_affecting: Option<serde_json::Value>,
}

/// Starling extension: reports applied atomically (`POST /v1/alarms/batch`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// At most 1,000.
    pub alarms: Vec<AlarmInput>,
}

/// What each entry of a batch did, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchResults<'a> {
    pub results: Vec<BatchResult<'a>>,
}

/// What one entry of a batch did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchResult<'a> {
    /// `created`, `updated`, `unchanged`, `cleared`, `not-found` or `logged`.
    pub result: Cow<'a, str>,
    /// The alarm's or the log record's uuid; `null` for `not-found`.
    pub uuid: Option<Cow<'a, str>>,
}

/// The uuid of the alarm or record a request made or changed; `null` when a
/// clear found nothing to clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UuidResult<'a> {
    pub uuid: Option<Cow<'a, str>>,
}

/// How many alarms a hierarchical clear cleared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Cleared {
    pub cleared: u64,
}

/// A version of the API, in the version documents.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Version<'a> {
    pub id: Cow<'a, str>,
    pub links: Vec<Link<'a>>,
}

/// `GET /`: the versions served.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Root<'a> {
    pub default_version: Version<'a>,
    pub description: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub versions: Vec<Version<'a>>,
}

/// A media type of a version.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MediaType<'a> {
    pub base: Cow<'a, str>,
    #[serde(rename = "type")]
    pub media_type: Cow<'a, str>,
}

/// `GET /v1`: the version's resources.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct V1<'a> {
    pub alarms: Vec<Link<'a>>,
    pub event_log: Vec<Link<'a>>,
    pub event_suppression: Vec<Link<'a>>,
    pub id: Cow<'a, str>,
    pub links: Vec<Link<'a>>,
    pub media_types: Vec<MediaType<'a>>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_brief_list_from_the_wire_reads_back() {
        let text = r#"{"alarms":[{"uuid":"u","alarm_id":"100.101","entity_instance_id":"host=c-0","severity":"major","timestamp":"2026-01-02T03:04:05.678901","reason_text":"r","suppression_status":"unsuppressed","mgmt_affecting":"True","degrade_affecting":"False"}],"next":"http://x"}"#;
        let l: AlarmList<'_> = serde_json::from_str(text).unwrap();
        assert_eq!(l.alarms[0].alarm_id, "100.101");
        assert_eq!(serde_json::to_string(&l).unwrap(), text);
    }

    #[test]
    fn an_event_reads_back_brief_or_full() {
        let brief = r#"{"uuid":"u","event_log_id":"200.022","entity_instance_id":"host=c-0","severity":"not-applicable","timestamp":"2026-01-02T03:04:05.678901","reason_text":"r","state":"log","suppression_status":"unsuppressed"}"#;
        let e: Event<'_> = serde_json::from_str(brief).unwrap();
        assert!(matches!(e, Event::Brief(_)));
        assert_eq!(serde_json::to_string(&e).unwrap(), brief);
        let full = brief.trim_end_matches('}').to_string()
            + r#","entity_type_id":"host","event_log_type":"other","probable_cause":"unspecified","proposed_repair_action":"","service_affecting":false,"suppression":false,"created_at":"2026-01-02T03:04:05.678901+00:00","updated_at":null}"#;
        let e: Event<'_> = serde_json::from_str(&full).unwrap();
        let Event::Full(f) = &e else {
            panic!("not full: {e:?}")
        };
        assert_eq!(f.event_log_type, "other");
        assert_eq!(serde_json::to_string(&e).unwrap(), full);
        // Half a detail is neither.
        let half = brief.trim_end_matches('}').to_string() + r#","event_log_type":"other"}"#;
        assert!(serde_json::from_str::<Event<'_>>(&half).is_err());
    }
}
