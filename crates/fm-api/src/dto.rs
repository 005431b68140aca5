//! The FM API's domain-to-wire conversions: the shapes themselves are
//! `starling-fm-types`' (shared with the client and the CLI, and the
//! source of the OpenAPI document); serialization of FM's types happens
//! only through them.

use std::borrow::Cow;

use starling_fm::{AlarmLine, AlarmView, EventView, FaultInput, Suppression};
use starling_fm_types as wire;
use starling_wire::{Link, true_false};

/// An alarm in a list (expand=false), from a list row.
pub fn alarm_brief(l: &AlarmLine) -> wire::AlarmBrief<'_> {
    wire::AlarmBrief {
        uuid: Cow::Borrowed(&l.uuid),
        alarm_id: Cow::Borrowed(&l.alarm_id),
        entity_instance_id: Cow::Borrowed(&l.entity_instance_id),
        severity: Cow::Borrowed(l.severity.as_str()),
        timestamp: l.timestamp,
        reason_text: Cow::Borrowed(&l.reason_text),
        suppression_status: Cow::Borrowed(l.suppression_status.as_str()),
        mgmt_affecting: Cow::Borrowed(true_false(l.mgmt_affecting())),
        degrade_affecting: Cow::Borrowed(true_false(l.degrade_affecting())),
    }
}

/// Appends a brief alarm as JSON, byte for byte what serde_json writes for
/// it (a test holds them equal), without serde: long lists write one per
/// row, and serde_json's escaping of each string was a fifth of their CPU.
pub fn write_brief(b: &wire::AlarmBrief<'_>, out: &mut Vec<u8>) {
    use starling_http::json_text::push_str;
    // Keys with the punctuation before them, in the struct's order.
    let head = [
        (&b"{\"uuid\":"[..], &*b.uuid),
        (b",\"alarm_id\":", &b.alarm_id),
        (b",\"entity_instance_id\":", &b.entity_instance_id),
        (b",\"severity\":", &b.severity),
    ];
    let tail = [
        (&b",\"reason_text\":"[..], &*b.reason_text),
        (b",\"suppression_status\":", &b.suppression_status),
        (b",\"mgmt_affecting\":", &b.mgmt_affecting),
        (b",\"degrade_affecting\":", &b.degrade_affecting),
    ];
    for (key, v) in head {
        out.extend_from_slice(key);
        push_str(out, v);
    }
    out.extend_from_slice(b",\"timestamp\":");
    let iso = b.timestamp.naive_iso();
    match iso.bytes() {
        Some(bytes) => {
            out.push(b'"');
            out.extend_from_slice(&bytes);
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

/// An alarm in full (show, expand=true, detail).
pub fn alarm(v: &AlarmView) -> wire::Alarm<'_> {
    let a = &v.alarm;
    wire::Alarm {
        uuid: Cow::Borrowed(&a.uuid),
        alarm_id: Cow::Borrowed(&a.alarm_id),
        alarm_state: Cow::Borrowed("set"),
        entity_type_id: Cow::Borrowed(&a.entity_type_id),
        entity_instance_id: Cow::Borrowed(&a.entity_instance_id),
        timestamp: a.timestamp,
        severity: Cow::Borrowed(a.severity.as_str()),
        reason_text: Cow::Borrowed(&a.reason_text),
        alarm_type: Cow::Borrowed(&a.alarm_type),
        probable_cause: Cow::Borrowed(&a.probable_cause),
        proposed_repair_action: Cow::Borrowed(&a.proposed_repair_action),
        service_affecting: a.service_affecting,
        suppression: a.suppression,
        inhibit_alarms: a.inhibit_alarms,
        suppression_status: Cow::Borrowed(v.suppression_status.as_str()),
        mgmt_affecting: Cow::Borrowed(true_false(v.mgmt_affecting())),
        degrade_affecting: Cow::Borrowed(true_false(v.degrade_affecting())),
        created_at: a.created_at,
        updated_at: a.updated_at,
    }
}

/// An event-log record; `expand` gives it in full.
pub fn event(v: &EventView, expand: bool) -> wire::Event<'_> {
    let e = &v.event;
    if !expand {
        return wire::Event::Brief(wire::EventBrief {
            uuid: Cow::Borrowed(&e.uuid),
            event_log_id: Cow::Borrowed(&e.event_log_id),
            entity_instance_id: Cow::Borrowed(&e.entity_instance_id),
            severity: Cow::Borrowed(e.severity.as_str()),
            timestamp: e.timestamp,
            reason_text: Cow::Borrowed(&e.reason_text),
            state: Cow::Borrowed(e.state.as_str()),
            suppression_status: Cow::Borrowed(v.suppression_status.as_str()),
        });
    }
    wire::Event::Full(wire::EventFull {
        uuid: Cow::Borrowed(&e.uuid),
        event_log_id: Cow::Borrowed(&e.event_log_id),
        entity_instance_id: Cow::Borrowed(&e.entity_instance_id),
        severity: Cow::Borrowed(e.severity.as_str()),
        timestamp: e.timestamp,
        reason_text: Cow::Borrowed(&e.reason_text),
        state: Cow::Borrowed(e.state.as_str()),
        suppression_status: Cow::Borrowed(v.suppression_status.as_str()),
        entity_type_id: Cow::Borrowed(&e.entity_type_id),
        event_log_type: Cow::Borrowed(&e.event_log_type),
        probable_cause: Cow::Borrowed(&e.probable_cause),
        proposed_repair_action: Cow::Borrowed(&e.proposed_repair_action),
        service_affecting: e.service_affecting,
        suppression: e.suppression,
        created_at: e.created_at,
        updated_at: None,
    })
}

/// A suppression row as lists show it.
pub fn suppression_brief<'a>(s: &'a Suppression, base: &str) -> wire::SuppressionBrief<'a> {
    wire::SuppressionBrief {
        uuid: Cow::Borrowed(&s.uuid),
        alarm_id: Cow::Borrowed(&s.alarm_id),
        description: Cow::Borrowed(&s.description),
        suppression_status: Cow::Borrowed(s.status.as_str()),
        links: Link::pair(base, "event_suppression", &s.uuid),
    }
}

/// A suppression row in full.
pub fn suppression<'a>(s: &'a Suppression, base: &str) -> wire::Suppression<'a> {
    wire::Suppression {
        id: s.id,
        uuid: Cow::Borrowed(&s.uuid),
        alarm_id: Cow::Borrowed(&s.alarm_id),
        description: Cow::Borrowed(&s.description),
        suppression_status: Cow::Borrowed(s.status.as_str()),
        links: Link::pair(base, "event_suppression", &s.uuid),
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// The body of POST and PUT /v1/alarms, into the domain's untyped input
/// (the derived fields StarlingX accepts are ignored).
pub fn fault_input(b: wire::AlarmInput) -> FaultInput {
    FaultInput {
        alarm_state: b.alarm_state,
        alarm_id: b.alarm_id,
        entity_type_id: b.entity_type_id,
        entity_instance_id: b.entity_instance_id,
        timestamp: b.timestamp,
        severity: b.severity,
        reason_text: b.reason_text,
        alarm_type: b.alarm_type,
        probable_cause: b.probable_cause,
        proposed_repair_action: b.proposed_repair_action,
        service_affecting: b.service_affecting.map(|b| b.0),
        suppression: b.suppression.map(|b| b.0),
        inhibit_alarms: b.inhibit_alarms.map(|b| b.0),
        uuid: b.uuid,
        keep_existing_alarm: b.keep_existing_alarm.map(|b| b.0),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use starling_common::Timestamp;
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
                let b = alarm_brief(&line);
                let mut ours = Vec::new();
                write_brief(&b, &mut ours);
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    serde_json::to_string(&b).unwrap()
                );
            }
        }
    }
}
