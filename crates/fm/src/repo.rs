//! The storage contract of fault management. The store crate implements
//! [`FaultRepo`] in SQL for every backend; the rules in [`crate::ops`] run over it
//! inside one transaction, so an alarm change and its history are atomic.

use starling_common::Timestamp;

use crate::Error;
use crate::model::{
    Alarm, AlarmLine, AlarmView, Event, EventState, EventView, Summary, Suppression,
};

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

impl Dir {
    /// Parses `asc|desc`.
    pub fn parse(s: &str) -> Option<Dir> {
        match s {
            "asc" => Some(Dir::Asc),
            "desc" => Some(Dir::Desc),
            _ => None,
        }
    }
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Asc => "asc",
            Dir::Desc => "desc",
        }
    }
}

/// Alarm fields that can be filtered (exact match) or sorted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmField {
    /// Internal id (sort only).
    Id,
    /// uuid.
    Uuid,
    /// alarm_id.
    AlarmId,
    /// entity_type_id.
    EntityTypeId,
    /// entity_instance_id.
    EntityInstanceId,
    /// severity (sorted lexically, as StarlingX does).
    Severity,
    /// alarm_type.
    AlarmType,
    /// probable_cause.
    ProbableCause,
    /// timestamp.
    Timestamp,
    /// created_at.
    CreatedAt,
}

impl AlarmField {
    /// Parses a wire field name.
    pub fn parse(s: &str) -> Option<AlarmField> {
        Some(match s {
            "id" => AlarmField::Id,
            "uuid" => AlarmField::Uuid,
            "alarm_id" => AlarmField::AlarmId,
            "entity_type_id" => AlarmField::EntityTypeId,
            "entity_instance_id" => AlarmField::EntityInstanceId,
            "severity" => AlarmField::Severity,
            "alarm_type" => AlarmField::AlarmType,
            "probable_cause" => AlarmField::ProbableCause,
            "timestamp" => AlarmField::Timestamp,
            "created_at" => AlarmField::CreatedAt,
            _ => return None,
        })
    }
    /// True for text fields that `q` filters accept.
    pub fn filterable(self) -> bool {
        !matches!(
            self,
            AlarmField::Id | AlarmField::Timestamp | AlarmField::CreatedAt
        )
    }
}

/// Event fields that can be filtered or sorted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventField {
    /// Internal id (sort only).
    Id,
    /// uuid.
    Uuid,
    /// event_log_id.
    EventLogId,
    /// entity_type_id.
    EntityTypeId,
    /// entity_instance_id.
    EntityInstanceId,
    /// severity.
    Severity,
    /// event_log_type.
    EventLogType,
    /// state.
    State,
    /// timestamp.
    Timestamp,
    /// created_at.
    CreatedAt,
}

impl EventField {
    /// Parses a wire field name.
    pub fn parse(s: &str) -> Option<EventField> {
        Some(match s {
            "id" => EventField::Id,
            "uuid" => EventField::Uuid,
            "event_log_id" => EventField::EventLogId,
            "entity_type_id" => EventField::EntityTypeId,
            "entity_instance_id" => EventField::EntityInstanceId,
            "severity" => EventField::Severity,
            "event_log_type" => EventField::EventLogType,
            "state" => EventField::State,
            "timestamp" => EventField::Timestamp,
            "created_at" => EventField::CreatedAt,
            _ => return None,
        })
    }
    /// True for text fields that `q` filters accept.
    pub fn filterable(self) -> bool {
        !matches!(
            self,
            EventField::Id | EventField::Timestamp | EventField::CreatedAt
        )
    }
}

/// A query over active alarms. Filters are exact matches and stay in force on
/// every page.
#[derive(Clone, Debug)]
pub struct AlarmQuery {
    /// Exact-match filters, ANDed.
    pub filters: Vec<(AlarmField, String)>,
    /// Only alarms at or under this entity (boundary-aware).
    pub within: Option<String>,
    /// Include alarms whose id is suppressed.
    pub include_suppressed: bool,
    /// Sort keys; the store appends `id` as the final tie-breaker.
    pub sort: Vec<(AlarmField, Dir)>,
    /// Continue after the alarm with this uuid.
    pub marker: Option<String>,
    /// Page size.
    pub limit: u32,
}

impl AlarmQuery {
    /// StarlingX's default order: severity (lexical: critical, major, minor,
    /// warning), then entity instance id, then id.
    pub fn default_sort() -> Vec<(AlarmField, Dir)> {
        vec![
            (AlarmField::Severity, Dir::Asc),
            (AlarmField::EntityInstanceId, Dir::Asc),
        ]
    }
}

/// A query over the event log.
#[derive(Clone, Debug)]
pub struct EventQuery {
    /// Exact-match filters, ANDed.
    pub filters: Vec<(EventField, String)>,
    /// Only records at or after this time.
    pub start: Option<Timestamp>,
    /// Only records at or before this time.
    pub end: Option<Timestamp>,
    /// Restrict to these states (empty = all).
    pub states: Vec<EventState>,
    /// Include set/clear records of suppressed ids.
    pub include_suppressed: bool,
    /// Sort keys; `id` is the final tie-breaker.
    pub sort: Vec<(EventField, Dir)>,
    /// Continue after the record with this uuid.
    pub marker: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// A query over suppression rows (rows set for deletion are never listed).
#[derive(Clone, Debug, Default)]
pub struct SuppressionQuery {
    /// Exact uuid.
    pub uuid: Option<String>,
    /// Exact alarm id.
    pub alarm_id: Option<String>,
    /// Exact description.
    pub description: Option<String>,
    /// Exact status.
    pub status: Option<crate::model::SuppressionStatus>,
    /// Continue after the row with this uuid (ordered by alarm id).
    pub marker: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Descending alarm-id order.
    pub descending: bool,
}

/// Id sequences kept by the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seq {
    /// Alarm ids.
    Alarm,
    /// Event-log ids; dense, so retention by count is one indexed delete.
    Event,
    /// Suppression-row ids.
    Suppression,
    /// Outbox ids; dense, so the outbox cap is one indexed delete.
    Outbox,
}

/// An active inhibiting alarm: (uuid, entity_instance_id).
pub type Inhibitor = (String, String);

/// What fault management needs from storage, inside one transaction.
pub trait FaultRepo {
    /// Next value of a sequence (part of the current transaction).
    fn next_id(&mut self, seq: Seq) -> Result<i64, Error>;

    /// The active alarm with this identity.
    fn alarm_by_key(&mut self, alarm_id: &str, eid: &str) -> Result<Option<Alarm>, Error>;
    /// The active alarm with this uuid.
    fn alarm_by_uuid(&mut self, uuid: &str) -> Result<Option<Alarm>, Error>;
    /// Every active alarm at or under `eid` (boundary-aware).
    fn alarms_within(&mut self, eid: &str) -> Result<Vec<Alarm>, Error>;
    /// The (uuid, eid) of inhibiting alarms whose eid is one of `eids`.
    fn inhibitors_at(&mut self, eids: &[String]) -> Result<Vec<Inhibitor>, Error>;
    /// What a set reads, in one round: the active alarm (alarm_id, eid), if
    /// any, and the (uuid, eid) of the inhibiting alarms whose eid is one of
    /// `eids` (eid's ancestors or itself) — [`FaultRepo::alarm_by_key`] and
    /// [`FaultRepo::inhibitors_at`] together.
    fn alarm_and_inhibitors(
        &mut self,
        alarm_id: &str,
        eid: &str,
        eids: &[String],
    ) -> Result<(Option<Alarm>, Vec<Inhibitor>), Error>;
    /// Inserts a new alarm.
    fn insert_alarm(&mut self, alarm: &Alarm) -> Result<(), Error>;
    /// Rewrites an existing alarm (matched by id).
    fn update_alarm(&mut self, alarm: &Alarm) -> Result<(), Error>;
    /// Sets the masked flag.
    fn set_masked(&mut self, id: i64, masked: bool) -> Result<(), Error>;
    /// Deletes an alarm.
    fn delete_alarm(&mut self, id: i64) -> Result<(), Error>;

    /// Appends a history record.
    fn insert_event(&mut self, event: &Event) -> Result<(), Error>;
    /// Deletes history records with id ≤ `id`; returns how many.
    fn delete_events_through(&mut self, id: i64) -> Result<u64, Error>;
    /// Deletes history records older than `ts`; returns how many.
    fn delete_events_before(&mut self, ts: Timestamp) -> Result<u64, Error>;

    /// Appends a notification to the outbox with this id.
    fn enqueue(&mut self, id: i64, n: &crate::notify::Notification) -> Result<(), Error>;
    /// Deletes outbox entries with id ≤ `id` (the cap); returns how many.
    fn drop_outbox_through(&mut self, id: i64) -> Result<u64, Error>;
    /// The oldest `limit` outbox entries, in order.
    fn outbox(&mut self, limit: u32) -> Result<Vec<(i64, crate::notify::Notification)>, Error>;
    /// Removes delivered outbox entries.
    fn outbox_done(&mut self, ids: &[i64]) -> Result<(), Error>;

    /// Every suppression row, including those set for deletion.
    fn suppressions(&mut self) -> Result<Vec<Suppression>, Error>;
    /// A suppression row by uuid (not those set for deletion).
    fn suppression_by_uuid(&mut self, uuid: &str) -> Result<Option<Suppression>, Error>;
    /// The suppression row of an alarm id, if any.
    fn suppression_by_alarm_id(&mut self, alarm_id: &str) -> Result<Option<Suppression>, Error>;
    /// Inserts a suppression row.
    fn insert_suppression(&mut self, s: &Suppression) -> Result<(), Error>;
    /// Rewrites a suppression row (matched by id).
    fn update_suppression(&mut self, s: &Suppression) -> Result<(), Error>;
    /// Deletes a suppression row.
    fn delete_suppression(&mut self, id: i64) -> Result<(), Error>;
    /// True when an active alarm or a history record uses this alarm id.
    fn alarm_id_in_use(&mut self, alarm_id: &str) -> Result<bool, Error>;

    /// A page of visible (unmasked) alarms, each handed to `f` as it is read, in
    /// order: a large page is never held whole.
    fn each_alarm(&mut self, q: &AlarmQuery, f: &mut dyn FnMut(AlarmView)) -> Result<(), Error>;
    /// [`FaultRepo::each_alarm`] in the brief form: the same alarms in the same
    /// order, each with only the fields a list row shows.
    fn each_alarm_line(
        &mut self,
        q: &AlarmQuery,
        f: &mut dyn FnMut(AlarmLine),
    ) -> Result<(), Error>;
    /// A page of visible (unmasked) alarms.
    fn list_alarms(&mut self, q: &AlarmQuery) -> Result<Vec<AlarmView>, Error> {
        let mut out = Vec::new();
        self.each_alarm(q, &mut |v| out.push(v))?;
        Ok(out)
    }
    /// A visible (unmasked) alarm by uuid.
    fn alarm_view(&mut self, uuid: &str) -> Result<Option<AlarmView>, Error>;
    /// Counts of visible alarms by severity.
    fn summary(&mut self, include_suppressed: bool) -> Result<Summary, Error>;
    /// A page of history.
    fn list_events(&mut self, q: &EventQuery) -> Result<Vec<EventView>, Error>;
    /// A history record by uuid (suppressed ones included).
    fn event_view(&mut self, uuid: &str) -> Result<Option<EventView>, Error>;
    /// A page of suppression rows.
    fn list_suppressions(&mut self, q: &SuppressionQuery) -> Result<Vec<Suppression>, Error>;
}
