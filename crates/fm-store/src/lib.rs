//! [`FaultRepo`] in SQL, for every backend, and the fault-management schema
//! ([`SCHEMA`]).

use std::sync::LazyLock;

use starling_common::Timestamp;
use starling_fm::notify::Notification;
use starling_fm::repo::{
    AlarmField, AlarmQuery, Dir, EventField, EventQuery, FaultRepo, Inhibitor, Seq,
    SuppressionQuery,
};
use starling_fm::{
    Alarm, AlarmLine, AlarmView, Error, Event, EventState, EventView, Severity, Summary,
    Suppression, SuppressionStatus, Threshold,
};

use starling_db::{Conn, Dialect, Row, StorageFailure, StorageKind, Value, columns};

mod schema;
pub use schema::SCHEMA;

/// The fault-management repository over one transaction.
pub struct FmRepo<'a> {
    c: &'a mut dyn Conn,
}

impl<'a> FmRepo<'a> {
    /// Wraps a connection that is inside a transaction.
    pub fn new(c: &'a mut dyn Conn) -> Self {
        FmRepo { c }
    }
}

columns! {
    /// An active alarm's columns (`fm_alarm a`); the key `id` first.
    mod alarm ("a") {
        id, uuid, alarm_id, entity_type_id, entity_instance_id, ts, severity, reason_text,
        alarm_type, probable_cause, proposed_repair_action, service_affecting, suppression,
        inhibit_alarms, masked, created_at, updated_at,
    }
}
columns! {
    /// The columns of an [`AlarmLine`] (a list row).
    mod line ("a") { uuid, alarm_id, entity_instance_id, ts, severity, reason_text }
}
columns! {
    /// The suppression row's status and thresholds, joined after an alarm.
    mod alarm_supp ("s") after alarm { suppression_status, mgmt_affecting, degrade_affecting }
}
columns! {
    /// The suppression row's status and thresholds, joined after a list row.
    mod line_supp ("s") after line { suppression_status, mgmt_affecting, degrade_affecting }
}
columns! {
    /// An event-log record's columns (`fm_event_log e`).
    mod event ("e") {
        id, uuid, event_log_id, state, entity_type_id, entity_instance_id, ts, severity,
        reason_text, event_log_type, probable_cause, proposed_repair_action, service_affecting,
        suppression, created_at,
    }
}
columns! {
    /// The suppression row's status, joined after an event.
    mod event_supp ("s") after event { suppression_status }
}
columns! {
    /// A suppression (catalogue) row's columns (`fm_event_suppression s`).
    mod supp ("s") {
        id, uuid, alarm_id, description, suppression_status, set_for_deletion, mgmt_affecting,
        degrade_affecting, created_at, updated_at,
    }
}
columns! {
    /// An inhibitor's columns.
    mod inhibitor ("a") { uuid, entity_instance_id }
}
columns! {
    /// An outbox entry's columns.
    mod outbox ("o") { id, payload }
}

/// The statements of the set path, built once from the column sets.
struct SetPath {
    by_key: String,
    by_uuid: String,
    within: String,
    key_and_inhibitors: String,
    inhibitor_probe: String,
    insert: String,
    update: String,
    insert_event: String,
}

static SET_PATH: LazyLock<SetPath> = LazyLock::new(|| {
    let cols = alarm::LIST;
    SetPath {
        by_key: format!(
            "SELECT {cols} FROM fm_alarm a WHERE a.alarm_id = ? AND a.entity_instance_id = ?"
        ),
        by_uuid: format!("SELECT {cols} FROM fm_alarm a WHERE a.uuid = ?"),
        // Bytewise: everything starting with "eid." lies in ["eid.", "eid/").
        within: format!(
            "SELECT {cols} FROM fm_alarm a WHERE a.entity_instance_id = ? \
             OR (a.entity_instance_id >= ? AND a.entity_instance_id < ?) ORDER BY a.id"
        ),
        key_and_inhibitors: format!(
            "SELECT {cols} FROM fm_alarm a \
             WHERE a.entity_instance_id = ? AND (a.alarm_id = ? OR a.inhibit_alarms = ?)"
        ),
        inhibitor_probe: format!(
            " UNION ALL SELECT {cols} FROM fm_alarm a \
             WHERE a.entity_instance_id = ? AND a.inhibit_alarms = ?"
        ),
        insert: format!(
            "INSERT INTO fm_alarm ({}) VALUES ({})",
            alarm::NAMES,
            alarm::PLACEHOLDERS
        ),
        update: format!("UPDATE fm_alarm SET {} WHERE id = ?", alarm::SET_REST),
        insert_event: format!(
            "INSERT INTO fm_event_log ({}) VALUES ({})",
            event::NAMES,
            event::PLACEHOLDERS
        ),
    }
});

fn decode(what: &str, v: &str) -> StorageFailure {
    StorageFailure::decode(format!("stored {what} '{v}' is not valid"))
}

fn severity_at(r: &Row, c: impl starling_db::ColumnIndex) -> Result<Severity, StorageFailure> {
    match r.opt_str(c)? {
        Some(v) => Severity::parse(v).ok_or_else(|| decode("severity", v)),
        None => Err(decode("severity", "NULL")),
    }
}

fn alarm_from(r: &mut Row) -> Result<Alarm, StorageFailure> {
    use alarm as A;
    Ok(Alarm {
        severity: severity_at(r, A::severity)?,
        id: r.int(A::id)?,
        uuid: r.take_text(A::uuid)?,
        alarm_id: r.take_text(A::alarm_id)?,
        entity_type_id: r.take_text(A::entity_type_id)?,
        entity_instance_id: r.take_text(A::entity_instance_id)?,
        timestamp: Timestamp::from_micros(r.int(A::ts)?),
        reason_text: r.take_text(A::reason_text)?,
        alarm_type: r.take_text(A::alarm_type)?,
        probable_cause: r.take_text(A::probable_cause)?,
        proposed_repair_action: r.take_text(A::proposed_repair_action)?,
        service_affecting: r.bool(A::service_affecting)?,
        suppression: r.bool(A::suppression)?,
        inhibit_alarms: r.bool(A::inhibit_alarms)?,
        masked: r.bool(A::masked)?,
        created_at: Timestamp::from_micros(r.int(A::created_at)?),
        updated_at: r.opt_int(A::updated_at)?.map(Timestamp::from_micros),
    })
}

fn status_at(
    r: &Row,
    c: impl starling_db::ColumnIndex,
) -> Result<SuppressionStatus, StorageFailure> {
    match r.opt_str(c)? {
        None => Ok(SuppressionStatus::Unsuppressed),
        Some(s) => SuppressionStatus::parse(s).ok_or_else(|| decode("suppression_status", s)),
    }
}

fn threshold_at(
    r: &Row,
    c: impl starling_db::ColumnIndex,
    default: Threshold,
) -> Result<Threshold, StorageFailure> {
    match r.opt_str(c)? {
        None => Ok(default),
        Some(s) => Threshold::parse(s).ok_or_else(|| decode("threshold", s)),
    }
}

fn alarm_view_from(mut r: Row) -> Result<AlarmView, StorageFailure> {
    use alarm_supp as S;
    Ok(AlarmView {
        suppression_status: status_at(&r, S::suppression_status)?,
        mgmt_threshold: threshold_at(&r, S::mgmt_affecting, Threshold::AtLeast(Severity::Warning))?,
        degrade_threshold: threshold_at(&r, S::degrade_affecting, Threshold::None)?,
        alarm: alarm_from(&mut r)?,
    })
}

fn alarm_line_from(mut r: Row) -> Result<AlarmLine, StorageFailure> {
    use line as L;
    use line_supp as S;
    Ok(AlarmLine {
        suppression_status: status_at(&r, S::suppression_status)?,
        mgmt_threshold: threshold_at(&r, S::mgmt_affecting, Threshold::AtLeast(Severity::Warning))?,
        degrade_threshold: threshold_at(&r, S::degrade_affecting, Threshold::None)?,
        severity: severity_at(&r, L::severity)?,
        uuid: r.take_text(L::uuid)?,
        alarm_id: r.take_text(L::alarm_id)?,
        entity_instance_id: r.take_text(L::entity_instance_id)?,
        timestamp: Timestamp::from_micros(r.int(L::ts)?),
        reason_text: r.take_text(L::reason_text)?,
    })
}

fn event_from(r: &mut Row) -> Result<Event, StorageFailure> {
    use event as E;
    let state = match r.opt_str(E::state)? {
        Some(v) => EventState::parse(v).ok_or_else(|| decode("state", v))?,
        None => return Err(decode("state", "NULL")),
    };
    Ok(Event {
        state,
        severity: severity_at(r, E::severity)?,
        id: r.int(E::id)?,
        uuid: r.take_text(E::uuid)?,
        event_log_id: r.take_text(E::event_log_id)?,
        entity_type_id: r.take_text(E::entity_type_id)?,
        entity_instance_id: r.take_text(E::entity_instance_id)?,
        timestamp: Timestamp::from_micros(r.int(E::ts)?),
        reason_text: r.take_text(E::reason_text)?,
        event_log_type: r.take_text(E::event_log_type)?,
        probable_cause: r.take_text(E::probable_cause)?,
        proposed_repair_action: r.take_text(E::proposed_repair_action)?,
        service_affecting: r.bool(E::service_affecting)?,
        suppression: r.bool(E::suppression)?,
        created_at: Timestamp::from_micros(r.int(E::created_at)?),
    })
}

fn event_view_from(mut r: Row) -> Result<EventView, StorageFailure> {
    let event = event_from(&mut r)?;
    let status = if event.state == EventState::Log {
        SuppressionStatus::Unsuppressed
    } else {
        status_at(&r, event_supp::suppression_status)?
    };
    Ok(EventView {
        event,
        suppression_status: status,
    })
}

fn supp_from(mut r: Row) -> Result<Suppression, StorageFailure> {
    use supp as S;
    let st = r.take_text(S::suppression_status)?;
    let m = r.take_text(S::mgmt_affecting)?;
    let d = r.take_text(S::degrade_affecting)?;
    Ok(Suppression {
        id: r.int(S::id)?,
        uuid: r.take_text(S::uuid)?,
        alarm_id: r.take_text(S::alarm_id)?,
        description: r.take_text(S::description)?,
        status: SuppressionStatus::parse(&st).ok_or_else(|| decode("suppression_status", &st))?,
        set_for_deletion: r.bool(S::set_for_deletion)?,
        mgmt_affecting: Threshold::parse(&m).ok_or_else(|| decode("mgmt_affecting", &m))?,
        degrade_affecting: Threshold::parse(&d).ok_or_else(|| decode("degrade_affecting", &d))?,
        created_at: Timestamp::from_micros(r.int(S::created_at)?),
        updated_at: r.opt_int(S::updated_at)?.map(Timestamp::from_micros),
    })
}

/// An alarm's values in [`alarm`]'s order (the key `id` first).
fn alarm_params(a: &Alarm) -> Vec<Value<'_>> {
    vec![
        Value::Int(a.id),
        a.uuid.as_str().into(),
        a.alarm_id.as_str().into(),
        a.entity_type_id.as_str().into(),
        a.entity_instance_id.as_str().into(),
        Value::Int(a.timestamp.micros()),
        a.severity.as_str().into(),
        a.reason_text.as_str().into(),
        a.alarm_type.as_str().into(),
        a.probable_cause.as_str().into(),
        a.proposed_repair_action.as_str().into(),
        a.service_affecting.into(),
        a.suppression.into(),
        a.inhibit_alarms.into(),
        a.masked.into(),
        Value::Int(a.created_at.micros()),
        a.updated_at.map(|t| t.micros()).into(),
    ]
}

/// A suppression's values in [`supp`]'s order (the key `id` first).
fn supp_params(s: &Suppression) -> Vec<Value<'_>> {
    vec![
        Value::Int(s.id),
        s.uuid.as_str().into(),
        s.alarm_id.as_str().into(),
        s.description.as_str().into(),
        s.status.as_str().into(),
        s.set_for_deletion.into(),
        s.mgmt_affecting.as_str().into(),
        s.degrade_affecting.as_str().into(),
        Value::Int(s.created_at.micros()),
        s.updated_at.map(|t| t.micros()).into(),
    ]
}

/// An event's values in [`event`]'s order.
fn event_params(e: &Event) -> Vec<Value<'_>> {
    vec![
        Value::Int(e.id),
        e.uuid.as_str().into(),
        e.event_log_id.as_str().into(),
        e.state.as_str().into(),
        e.entity_type_id.as_str().into(),
        e.entity_instance_id.as_str().into(),
        Value::Int(e.timestamp.micros()),
        e.severity.as_str().into(),
        e.reason_text.as_str().into(),
        e.event_log_type.as_str().into(),
        e.probable_cause.as_str().into(),
        e.proposed_repair_action.as_str().into(),
        e.service_affecting.into(),
        e.suppression.into(),
        Value::Int(e.created_at.micros()),
    ]
}

fn alarm_col(f: AlarmField) -> &'static str {
    match f {
        AlarmField::Id => "a.id",
        AlarmField::Uuid => "a.uuid",
        AlarmField::AlarmId => "a.alarm_id",
        AlarmField::EntityTypeId => "a.entity_type_id",
        AlarmField::EntityInstanceId => "a.entity_instance_id",
        AlarmField::Severity => "a.severity",
        AlarmField::AlarmType => "a.alarm_type",
        AlarmField::ProbableCause => "a.probable_cause",
        AlarmField::Timestamp => "a.ts",
        AlarmField::CreatedAt => "a.created_at",
    }
}

fn event_col(f: EventField) -> &'static str {
    match f {
        EventField::Id => "e.id",
        EventField::Uuid => "e.uuid",
        EventField::EventLogId => "e.event_log_id",
        EventField::EntityTypeId => "e.entity_type_id",
        EventField::EntityInstanceId => "e.entity_instance_id",
        EventField::Severity => "e.severity",
        EventField::EventLogType => "e.event_log_type",
        EventField::State => "e.state",
        EventField::Timestamp => "e.ts",
        EventField::CreatedAt => "e.created_at",
    }
}

/// Sort keys with `id` appended as the final tie-breaker (in the last key's direction).
fn with_id<'k>(keys: &[(&'k str, Dir)], id_col: &'k str) -> Vec<(&'k str, Dir)> {
    let mut out: Vec<(&str, Dir)> = keys.iter().filter(|(c, _)| *c != id_col).copied().collect();
    let dir = keys.last().map_or(Dir::Asc, |k| k.1);
    out.push((id_col, dir));
    out
}

fn order_by(keys: &[(&str, Dir)]) -> String {
    keys.iter()
        .map(|(c, d)| format!("{c} {}", if *d == Dir::Asc { "ASC" } else { "DESC" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keyset condition "strictly after the row whose key values are `vals`".
fn after<'a>(
    keys: &[(&str, Dir)],
    vals: &[Value<'a>],
    sql: &mut String,
    params: &mut Vec<Value<'a>>,
) {
    let mut ors = Vec::new();
    for i in 0..keys.len() {
        let mut ands = Vec::new();
        for (j, (c, _)) in keys.iter().enumerate().take(i) {
            ands.push(format!("{c} = ?"));
            params.push(vals[j].clone());
        }
        let (c, d) = keys[i];
        ands.push(format!("{c} {} ?", if d == Dir::Asc { ">" } else { "<" }));
        params.push(vals[i].clone());
        ors.push(format!("({})", ands.join(" AND ")));
    }
    sql.push_str(&format!(" AND ({})", ors.join(" OR ")));
}

fn marker_values(
    c: &mut dyn Conn,
    table: &str,
    alias: &str,
    keys: &[(&str, Dir)],
    marker: &str,
) -> Result<Vec<Value<'static>>, Error> {
    let cols = keys.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
    let rows = c.query(
        &format!("SELECT {cols} FROM {table} {alias} WHERE {alias}.uuid = ?"),
        &[marker.into()],
    )?;
    match rows.into_iter().next() {
        Some(r) => Ok(r.0),
        None => Err(Error::invalid(format!(
            "Invalid marker '{marker}': no such record (it may have been cleared or aged out)"
        ))),
    }
}

fn limit_clause(sql: &mut String, params: &mut Vec<Value<'_>>, limit: u32) {
    sql.push_str(" LIMIT ?");
    params.push(Value::Int(i64::from(limit)));
}

const SUPP_JOIN: &str = "LEFT JOIN fm_event_suppression s ON s.alarm_id = ";

fn seq_name(seq: Seq) -> &'static str {
    match seq {
        Seq::Alarm => "fm_alarm",
        Seq::Event => "fm_event_log",
        Seq::Suppression => "fm_event_suppression",
        Seq::Outbox => "fm_outbox",
    }
}

/// The next id of a table on SQLite (see `next_id`), as a literal per table.
fn max_id_sql(seq: Seq) -> &'static str {
    match seq {
        Seq::Alarm => "SELECT COALESCE(MAX(id), 0) + 1 FROM fm_alarm",
        Seq::Event => "SELECT COALESCE(MAX(id), 0) + 1 FROM fm_event_log",
        Seq::Suppression => "SELECT COALESCE(MAX(id), 0) + 1 FROM fm_event_suppression",
        Seq::Outbox => "SELECT COALESCE(MAX(id), 0) + 1 FROM fm_outbox",
    }
}

impl FmRepo<'_> {
    /// A page of visible alarms as rows of `cols` then `supp_cols` (the
    /// suppression row's status and thresholds), filtered, ordered and
    /// limited by `q`.
    fn each_alarm_row(
        &mut self,
        cols: &str,
        supp_cols: &str,
        q: &AlarmQuery,
        f: &mut dyn FnMut(Row) -> Result<(), StorageFailure>,
    ) -> Result<(), Error> {
        let mut sql = format!(
            "SELECT {cols}, {supp_cols} FROM fm_alarm a {SUPP_JOIN}a.alarm_id WHERE a.masked = ?"
        );
        let mut params: Vec<Value<'_>> = vec![false.into()];
        if !q.include_suppressed {
            sql.push_str(" AND (s.suppression_status IS NULL OR s.suppression_status = ?)");
            params.push("unsuppressed".into());
        }
        for (f, v) in &q.filters {
            sql.push_str(&format!(" AND {} = ?", alarm_col(*f)));
            params.push(v.as_str().into());
        }
        if let Some(p) = &q.within {
            sql.push_str(
                " AND (a.entity_instance_id = ? OR (a.entity_instance_id >= ? AND a.entity_instance_id < ?))",
            );
            params.push(p.as_str().into());
            params.push(format!("{p}.").into());
            params.push(format!("{p}/").into());
        }
        let sort: Vec<(&str, Dir)> = q.sort.iter().map(|(f, d)| (alarm_col(*f), *d)).collect();
        let keys = with_id(&sort, "a.id");
        if let Some(m) = &q.marker {
            let vals = marker_values(self.c, "fm_alarm", "a", &keys, m)?;
            after(&keys, &vals, &mut sql, &mut params);
        }
        sql.push_str(&format!(" ORDER BY {}", order_by(&keys)));
        limit_clause(&mut sql, &mut params, q.limit);
        self.c.query_each(&sql, &params, f)?;
        Ok(())
    }
}

impl FaultRepo for FmRepo<'_> {
    fn next_id(&mut self, seq: Seq) -> Result<i64, Error> {
        let name = seq_name(seq);
        if self.c.dialect() == Dialect::Sqlite {
            // One writer, and rows are only ever deleted from the low end: the next
            // id is max + 1, read from the primary key without writing a page.
            let r = self.c.query(max_id_sql(seq), &[])?;
            return match r.first() {
                Some(row) => Ok(row.int(0)?),
                None => Err(Error::Storage(starling_common::StorageFailure::fatal(
                    format!("no max id for {name}"),
                ))),
            };
        }
        self.c.exec(
            "UPDATE starling_sequence SET value = value + 1 WHERE name = ?",
            &[name.into()],
        )?;
        let r = self.c.query(
            "SELECT value FROM starling_sequence WHERE name = ?",
            &[name.into()],
        )?;
        match r.first() {
            Some(row) => Ok(row.int(0)?),
            None => Err(Error::Storage(starling_common::StorageFailure::fatal(
                format!("sequence {name} missing"),
            ))),
        }
    }

    fn alarm_by_key(&mut self, alarm_id: &str, eid: &str) -> Result<Option<Alarm>, Error> {
        let r = self
            .c
            .query(&SET_PATH.by_key, &[alarm_id.into(), eid.into()])?;
        Ok(r.into_iter()
            .next()
            .map(|mut r| alarm_from(&mut r))
            .transpose()?)
    }

    fn alarm_by_uuid(&mut self, uuid: &str) -> Result<Option<Alarm>, Error> {
        let r = self.c.query(&SET_PATH.by_uuid, &[uuid.into()])?;
        Ok(r.into_iter()
            .next()
            .map(|mut r| alarm_from(&mut r))
            .transpose()?)
    }

    fn alarms_within(&mut self, eid: &str) -> Result<Vec<Alarm>, Error> {
        let r = self.c.query(
            &SET_PATH.within,
            &[
                eid.into(),
                format!("{eid}.").into(),
                format!("{eid}/").into(),
            ],
        )?;
        Ok(r.into_iter()
            .map(|mut r| alarm_from(&mut r))
            .collect::<Result<_, _>>()?)
    }

    fn inhibitors_at(&mut self, eids: &[String]) -> Result<Vec<Inhibitor>, Error> {
        if eids.is_empty() {
            return Ok(Vec::new());
        }
        // One equality probe of the key's leading column per entity, not an
        // IN list: SQLite builds (and tears down) an ephemeral table for a
        // bound IN list, which cost more than the probes themselves on every set.
        let probe = format!(
            "SELECT {} FROM fm_alarm a WHERE a.entity_instance_id = ? AND a.inhibit_alarms = ?",
            inhibitor::LIST
        );
        let sql = vec![probe.as_str(); eids.len()].join(" UNION ALL ");
        let mut params: Vec<Value<'_>> = Vec::with_capacity(eids.len() * 2);
        for e in eids {
            params.push(e.into());
            params.push(true.into());
        }
        let r = self.c.query(&sql, &params)?;
        Ok(r.iter()
            .map(|row| {
                Ok((
                    row.text(inhibitor::uuid)?,
                    row.text(inhibitor::entity_instance_id)?,
                ))
            })
            .collect::<Result<_, StorageFailure>>()?)
    }

    fn alarm_and_inhibitors(
        &mut self,
        alarm_id: &str,
        eid: &str,
        eids: &[String],
    ) -> Result<(Option<Alarm>, Vec<Inhibitor>), Error> {
        // The key's probe also collects the inhibitors at the alarm's own
        // entity; every other entity gets an inhibitor probe (UNION ALL, no
        // IN list: see `inhibitors_at`).
        let path = &*SET_PATH;
        let others = eids.iter().filter(|e| *e != eid);
        let mut sql = String::from(path.key_and_inhibitors.as_str());
        let mut params: Vec<Value<'_>> = vec![eid.into(), alarm_id.into(), true.into()];
        for e in others {
            sql.push_str(&path.inhibitor_probe);
            params.push(e.into());
            params.push(true.into());
        }
        let mut existing = None;
        let mut inhibitors = Vec::new();
        for mut row in self.c.query(&sql, &params)? {
            let a = alarm_from(&mut row)?;
            if a.inhibit_alarms {
                inhibitors.push((a.uuid.clone(), a.entity_instance_id.clone()));
            }
            if a.alarm_id == alarm_id && a.entity_instance_id == eid {
                existing = Some(a);
            }
        }
        Ok((existing, inhibitors))
    }

    fn insert_alarm(&mut self, a: &Alarm) -> Result<(), Error> {
        self.c
            .exec(&SET_PATH.insert, &alarm_params(a))
            .map_err(|e| match e.kind {
                // Another writer (PostgreSQL, MariaDB: several, read committed)
                // committed the same key or uuid after this transaction read it
                // absent: run the whole set again, which then sees that alarm
                // (an update, or the requested uuid's 409).
                StorageKind::Unique => StorageFailure::new(StorageKind::Retry, e.message),
                _ => e,
            })?;
        Ok(())
    }

    fn update_alarm(&mut self, a: &Alarm) -> Result<(), Error> {
        self.c
            .exec(&SET_PATH.update, &starling_db::key_last(alarm_params(a)))?;
        Ok(())
    }

    fn set_masked(&mut self, id: i64, masked: bool) -> Result<(), Error> {
        self.c.exec(
            "UPDATE fm_alarm SET masked = ? WHERE id = ?",
            &[masked.into(), Value::Int(id)],
        )?;
        Ok(())
    }

    fn delete_alarm(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM fm_alarm WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }

    fn insert_event(&mut self, e: &Event) -> Result<(), Error> {
        self.c.exec(&SET_PATH.insert_event, &event_params(e))?;
        Ok(())
    }

    fn delete_events_through(&mut self, id: i64) -> Result<u64, Error> {
        Ok(self
            .c
            .exec("DELETE FROM fm_event_log WHERE id <= ?", &[Value::Int(id)])?)
    }

    fn delete_events_before(&mut self, ts: Timestamp) -> Result<u64, Error> {
        Ok(self.c.exec(
            "DELETE FROM fm_event_log WHERE ts < ?",
            &[Value::Int(ts.micros())],
        )?)
    }

    fn enqueue(&mut self, id: i64, n: &Notification) -> Result<(), Error> {
        self.c.exec(
            "INSERT INTO fm_outbox (id, payload) VALUES (?, ?)",
            &[Value::Int(id), n.encode().into()],
        )?;
        Ok(())
    }

    fn drop_outbox_through(&mut self, id: i64) -> Result<u64, Error> {
        Ok(self
            .c
            .exec("DELETE FROM fm_outbox WHERE id <= ?", &[Value::Int(id)])?)
    }

    fn outbox(&mut self, limit: u32) -> Result<Vec<(i64, Notification)>, Error> {
        let rows = self.c.query(
            &format!(
                "SELECT {} FROM fm_outbox o ORDER BY o.id LIMIT ?",
                outbox::LIST
            ),
            &[Value::Int(i64::from(limit))],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = r.int(outbox::id)?;
            let text = r.text(outbox::payload)?;
            match Notification::decode(&text) {
                Some(n) => out.push((id, n)),
                None => return Err(decode("outbox payload", &text).into()),
            }
        }
        Ok(out)
    }

    fn outbox_done(&mut self, ids: &[i64]) -> Result<(), Error> {
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let params: Vec<Value<'_>> = chunk.iter().map(|i| Value::Int(*i)).collect();
            self.c.exec(
                &format!("DELETE FROM fm_outbox WHERE id IN ({marks})"),
                &params,
            )?;
        }
        Ok(())
    }

    fn suppressions(&mut self) -> Result<Vec<Suppression>, Error> {
        let r = self.c.query(
            &format!(
                "SELECT {} FROM fm_event_suppression s ORDER BY s.alarm_id",
                supp::LIST
            ),
            &[],
        )?;
        Ok(r.into_iter().map(supp_from).collect::<Result<_, _>>()?)
    }

    fn suppression_by_uuid(&mut self, uuid: &str) -> Result<Option<Suppression>, Error> {
        let r = self.c.query(
            &format!(
                "SELECT {} FROM fm_event_suppression s WHERE s.uuid = ? AND s.set_for_deletion = ?",
                supp::LIST
            ),
            &[uuid.into(), false.into()],
        )?;
        Ok(r.into_iter().next().map(supp_from).transpose()?)
    }

    fn suppression_by_alarm_id(&mut self, alarm_id: &str) -> Result<Option<Suppression>, Error> {
        let r = self.c.query(
            &format!(
                "SELECT {} FROM fm_event_suppression s WHERE s.alarm_id = ?",
                supp::LIST
            ),
            &[alarm_id.into()],
        )?;
        Ok(r.into_iter().next().map(supp_from).transpose()?)
    }

    fn insert_suppression(&mut self, s: &Suppression) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO fm_event_suppression ({}) VALUES ({})",
                supp::NAMES,
                supp::PLACEHOLDERS
            ),
            &supp_params(s),
        )?;
        Ok(())
    }

    fn update_suppression(&mut self, s: &Suppression) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "UPDATE fm_event_suppression SET {} WHERE id = ?",
                supp::SET_REST
            ),
            &starling_db::key_last(supp_params(s)),
        )?;
        Ok(())
    }

    fn delete_suppression(&mut self, id: i64) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM fm_event_suppression WHERE id = ?",
            &[Value::Int(id)],
        )?;
        Ok(())
    }

    fn alarm_id_in_use(&mut self, alarm_id: &str) -> Result<bool, Error> {
        for sql in [
            "SELECT 1 FROM fm_alarm WHERE alarm_id = ? LIMIT 1",
            "SELECT 1 FROM fm_event_log WHERE event_log_id = ? LIMIT 1",
        ] {
            if !self.c.query(sql, &[alarm_id.into()])?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn each_alarm(&mut self, q: &AlarmQuery, f: &mut dyn FnMut(AlarmView)) -> Result<(), Error> {
        self.each_alarm_row(alarm::LIST, alarm_supp::LIST, q, &mut |row| {
            f(alarm_view_from(row)?);
            Ok(())
        })
    }

    fn each_alarm_line(
        &mut self,
        q: &AlarmQuery,
        f: &mut dyn FnMut(AlarmLine),
    ) -> Result<(), Error> {
        self.each_alarm_row(line::LIST, line_supp::LIST, q, &mut |row| {
            f(alarm_line_from(row)?);
            Ok(())
        })
    }

    fn alarm_view(&mut self, uuid: &str) -> Result<Option<AlarmView>, Error> {
        let r = self.c.query(
            &format!(
                "SELECT {}, {} FROM fm_alarm a {SUPP_JOIN}a.alarm_id WHERE a.uuid = ? AND a.masked = ?",
                alarm::LIST,
                alarm_supp::LIST
            ),
            &[uuid.into(), false.into()],
        )?;
        Ok(r.into_iter().next().map(alarm_view_from).transpose()?)
    }

    fn summary(&mut self, include_suppressed: bool) -> Result<Summary, Error> {
        let mut sql = format!(
            "SELECT a.severity, COUNT(*) FROM fm_alarm a {SUPP_JOIN}a.alarm_id WHERE a.masked = ?"
        );
        let mut params: Vec<Value<'_>> = vec![false.into()];
        if !include_suppressed {
            sql.push_str(" AND (s.suppression_status IS NULL OR s.suppression_status = ?)");
            params.push("unsuppressed".into());
        }
        sql.push_str(" GROUP BY a.severity");
        let mut out = Summary::default();
        for row in self.c.query(&sql, &params)? {
            let n = u64::try_from(row.int(1)?).unwrap_or(0);
            match Severity::parse(&row.text(0)?) {
                Some(Severity::Critical) => out.critical += n,
                Some(Severity::Major) => out.major += n,
                Some(Severity::Minor) => out.minor += n,
                Some(Severity::Warning) => out.warnings += n,
                _ => {}
            }
        }
        Ok(out)
    }

    fn list_events(&mut self, q: &EventQuery) -> Result<Vec<EventView>, Error> {
        let mut sql = format!(
            "SELECT {}, {} FROM fm_event_log e {SUPP_JOIN}e.event_log_id WHERE 1 = 1",
            event::LIST,
            event_supp::LIST
        );
        let mut params: Vec<Value<'_>> = Vec::new();
        if !q.include_suppressed {
            sql.push_str(
                " AND (e.state = ? OR s.suppression_status IS NULL OR s.suppression_status = ?)",
            );
            params.push("log".into());
            params.push("unsuppressed".into());
        }
        if !q.states.is_empty() {
            let marks = vec!["?"; q.states.len()].join(", ");
            sql.push_str(&format!(" AND e.state IN ({marks})"));
            params.extend(q.states.iter().map(|s| Value::from(s.as_str())));
        }
        for (f, v) in &q.filters {
            sql.push_str(&format!(" AND {} = ?", event_col(*f)));
            params.push(v.as_str().into());
        }
        if let Some(t) = q.start {
            sql.push_str(" AND e.ts >= ?");
            params.push(Value::Int(t.micros()));
        }
        if let Some(t) = q.end {
            sql.push_str(" AND e.ts <= ?");
            params.push(Value::Int(t.micros()));
        }
        let sort: Vec<(&str, Dir)> = q.sort.iter().map(|(f, d)| (event_col(*f), *d)).collect();
        let keys = with_id(&sort, "e.id");
        if let Some(m) = &q.marker {
            let vals = marker_values(self.c, "fm_event_log", "e", &keys, m)?;
            after(&keys, &vals, &mut sql, &mut params);
        }
        sql.push_str(&format!(" ORDER BY {}", order_by(&keys)));
        limit_clause(&mut sql, &mut params, q.limit);
        let r = self.c.query(&sql, &params)?;
        Ok(r.into_iter()
            .map(event_view_from)
            .collect::<Result<_, _>>()?)
    }

    fn event_view(&mut self, uuid: &str) -> Result<Option<EventView>, Error> {
        let r = self.c.query(
            &format!(
                "SELECT {}, {} FROM fm_event_log e {SUPP_JOIN}e.event_log_id WHERE e.uuid = ?",
                event::LIST,
                event_supp::LIST
            ),
            &[uuid.into()],
        )?;
        Ok(r.into_iter().next().map(event_view_from).transpose()?)
    }

    fn list_suppressions(&mut self, q: &SuppressionQuery) -> Result<Vec<Suppression>, Error> {
        let mut sql = format!(
            "SELECT {} FROM fm_event_suppression s WHERE s.set_for_deletion = ?",
            supp::LIST
        );
        let mut params: Vec<Value<'_>> = vec![false.into()];
        let filters = [
            ("uuid", q.uuid.as_deref()),
            ("alarm_id", q.alarm_id.as_deref()),
            ("description", q.description.as_deref()),
            ("suppression_status", q.status.map(|s| s.as_str())),
        ];
        for (col, v) in filters {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} = ?"));
                params.push(v.into());
            }
        }
        let (cmp, dir) = if q.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(m) = &q.marker {
            let r = self.c.query(
                "SELECT alarm_id FROM fm_event_suppression WHERE uuid = ?",
                &[m.as_str().into()],
            )?;
            let Some(row) = r.first() else {
                return Err(Error::invalid(format!(
                    "Invalid marker '{m}': no such record"
                )));
            };
            sql.push_str(&format!(" AND alarm_id {cmp} ?"));
            params.push(row.text(0)?.into());
        }
        sql.push_str(&format!(" ORDER BY alarm_id {dir}"));
        limit_clause(&mut sql, &mut params, q.limit);
        let r = self.c.query(&sql, &params)?;
        Ok(r.into_iter().map(supp_from).collect::<Result<_, _>>()?)
    }
}
