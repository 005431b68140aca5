//! The fault-management rules. Each function runs inside one store transaction
//! (`&mut dyn FaultRepo`), so an alarm change, its history record and the mask
//! updates it implies commit together or not at all.

use starling_common::{Timestamp, new_uuid};

use crate::Error;
use crate::catalogue::CatalogueEntry;
use crate::hierarchy::{ancestors_or_self, within};
use crate::model::{
    Alarm, Event, EventState, Fault, RequestState, Severity, Suppression, SuppressionStatus,
};
use crate::notify::Notification;
use crate::repo::{FaultRepo, Inhibitor, Seq};

/// Tunables of the rules.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Event-log rows kept (retention by count). StarlingX's default is 4000.
    pub event_log_max_rows: i64,
    /// Write notifications to the outbox (only when something delivers them).
    pub notifications: bool,
    /// Most undelivered notifications kept; the oldest go first.
    pub outbox_max_rows: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            event_log_max_rows: 4000,
            notifications: false,
            outbox_max_rows: 100_000,
        }
    }
}

fn notify(repo: &mut dyn FaultRepo, n: Notification, limits: Limits) -> Result<(), Error> {
    if !limits.notifications {
        return Ok(());
    }
    let id = repo.next_id(Seq::Outbox)?;
    repo.enqueue(id, &n)?;
    let cutoff = id - limits.outbox_max_rows.max(1);
    if cutoff > 0 {
        // Bounded: when nothing delivers for long, the oldest notifications go.
        repo.drop_outbox_through(cutoff)?;
    }
    Ok(())
}

/// Notifies unless nothing delivers notifications or `alarm_id` is suppressed;
/// the suppression is looked up, and the notification built, only when one
/// could be sent.
fn notify_unless_suppressed(
    repo: &mut dyn FaultRepo,
    alarm_id: &str,
    n: impl FnOnce() -> Notification,
    limits: Limits,
) -> Result<(), Error> {
    if !limits.notifications || suppressed(repo, alarm_id)? {
        return Ok(());
    }
    notify(repo, n(), limits)
}

fn suppressed(repo: &mut dyn FaultRepo, alarm_id: &str) -> Result<bool, Error> {
    Ok(repo
        .suppression_by_alarm_id(alarm_id)?
        .is_some_and(|s| s.status == SuppressionStatus::Suppressed))
}

fn set_notification(a: &Alarm) -> Notification {
    Notification::Set {
        uuid: a.uuid.clone(),
        alarm_id: a.alarm_id.clone(),
        entity_instance_id: a.entity_instance_id.clone(),
        timestamp: a.timestamp.micros(),
        severity: a.severity.rank(),
        reason_text: a.reason_text.clone(),
        alarm_type: a.alarm_type.clone(),
        probable_cause: a.probable_cause.clone(),
        proposed_repair_action: a.proposed_repair_action.clone(),
        service_affecting: a.service_affecting,
        suppression: a.suppression,
    }
}

/// What a set did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetOutcome {
    /// The alarm's (stable) uuid.
    pub uuid: String,
    /// A new alarm was created.
    pub created: bool,
    /// Something was written (false for a no-op re-set or keep_existing_alarm).
    pub changed: bool,
}

/// What a POST did, whichever state it carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A set.
    Set(SetOutcome),
    /// A clear: the uuids of the cleared alarms (empty when none matched).
    Cleared(Vec<String>),
    /// A log record with this uuid.
    Logged(String),
}

impl Applied {
    /// The uuid to report to the caller.
    pub fn uuid(&self) -> Option<&str> {
        match self {
            Applied::Set(o) => Some(&o.uuid),
            Applied::Cleared(u) => u.first().map(String::as_str),
            Applied::Logged(u) => Some(u),
        }
    }
}

/// Applies one fault report. A clear that matches nothing is [`Error::NotFound`].
pub fn apply(
    repo: &mut dyn FaultRepo,
    fault: &Fault,
    now: Timestamp,
    limits: Limits,
) -> Result<Applied, Error> {
    match fault.state {
        RequestState::Set => set_alarm(repo, fault, now, limits).map(Applied::Set),
        RequestState::Log => log_event(repo, fault, now, limits).map(Applied::Logged),
        RequestState::Clear => {
            let cleared = match &fault.uuid {
                Some(u) => {
                    let alarm = repo.alarm_by_uuid(u)?.ok_or_else(|| {
                        Error::not_found(format!("Alarm {u} could not be found."))
                    })?;
                    clear_one(repo, alarm, now, limits)?;
                    vec![u.clone()]
                }
                None => clear_alarm(
                    repo,
                    &fault.alarm_id,
                    &fault.entity_instance_id,
                    now,
                    limits,
                )?,
            };
            if cleared.is_empty() {
                return Err(Error::not_found(format!(
                    "No active alarm {} at {}",
                    fault.alarm_id, fault.entity_instance_id
                )));
            }
            Ok(Applied::Cleared(cleared))
        }
    }
}

/// Applies several reports in one transaction: all of them or none. A clear
/// that matches nothing is tolerated (reported as an empty clear), as StarlingX's
/// list clear does; any other error aborts the whole batch.
pub fn apply_batch(
    repo: &mut dyn FaultRepo,
    faults: &[Fault],
    now: Timestamp,
    limits: Limits,
) -> Result<Vec<Applied>, Error> {
    let mut out = Vec::with_capacity(faults.len());
    for (i, f) in faults.iter().enumerate() {
        match apply(repo, f, now, limits) {
            Ok(a) => out.push(a),
            Err(Error::NotFound(_)) if f.state == RequestState::Clear => {
                out.push(Applied::Cleared(Vec::new()));
            }
            Err(Error::Invalid(m)) => return Err(Error::Invalid(format!("entry {i}: {m}"))),
            Err(Error::Conflict(m)) => return Err(Error::Conflict(format!("entry {i}: {m}"))),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn history(repo: &mut dyn FaultRepo, mut ev: Event, limits: Limits) -> Result<(), Error> {
    ev.id = repo.next_id(Seq::Event)?;
    repo.insert_event(&ev)?;
    let cutoff = ev.id - limits.event_log_max_rows.max(1);
    if cutoff > 0 {
        repo.delete_events_through(cutoff)?;
    }
    Ok(())
}

fn event_of(alarm: &Alarm, state: EventState, ts: Timestamp, now: Timestamp) -> Event {
    Event {
        id: 0,
        uuid: new_uuid(),
        event_log_id: alarm.alarm_id.clone(),
        state,
        entity_type_id: alarm.entity_type_id.clone(),
        entity_instance_id: alarm.entity_instance_id.clone(),
        timestamp: ts,
        // A clear record keeps the cleared alarm's severity, as StarlingX
        // writes it (operators read which severity went away).
        severity: alarm.severity,
        reason_text: alarm.reason_text.clone(),
        event_log_type: alarm.alarm_type.clone(),
        probable_cause: alarm.probable_cause.clone(),
        proposed_repair_action: alarm.proposed_repair_action.clone(),
        service_affecting: alarm.service_affecting,
        suppression: alarm.suppression,
        created_at: now,
    }
}

/// Whether `alarm` is masked by one of `inhibitors` (the active inhibitors at
/// its entity or above) other than itself. Only suppression-allowed alarms can
/// be masked, and an inhibitor never is: the root cause must stay visible.
fn masked_by(alarm: &Alarm, inhibitors: &[Inhibitor]) -> bool {
    alarm.suppression
        && !alarm.inhibit_alarms
        && inhibitors.iter().any(|(uuid, _)| *uuid != alarm.uuid)
}

/// Recomputes the masked flag of every alarm at or under `eid`. Masking is derived
/// from the set of active inhibitors, so overlapping inhibitors behave as a
/// reference count: clearing one leaves alarms masked by another masked.
fn refresh_masks_within(repo: &mut dyn FaultRepo, eid: &str) -> Result<(), Error> {
    let subtree = repo.alarms_within(eid)?;
    if subtree.is_empty() {
        return Ok(());
    }
    let mut inhibitors = repo.inhibitors_at(&ancestors_or_self(eid))?;
    inhibitors.extend(
        subtree
            .iter()
            .filter(|a| a.inhibit_alarms)
            .map(|a| (a.uuid.clone(), a.entity_instance_id.clone())),
    );
    for a in &subtree {
        let m = a.suppression
            && !a.inhibit_alarms
            && inhibitors
                .iter()
                .any(|(u, e)| *u != a.uuid && within(&a.entity_instance_id, e));
        if m != a.masked {
            repo.set_masked(a.id, m)?;
        }
    }
    Ok(())
}

/// Raises or updates the alarm (alarm_id, entity_instance_id).
///
/// * new: inserted, with the requested uuid when given (409 if taken);
/// * existing with `keep_existing_alarm`: untouched;
/// * existing with the same content: untouched (no history record);
/// * existing with changed content: updated in place, uuid kept, one `set` record.
pub fn set_alarm(
    repo: &mut dyn FaultRepo,
    fault: &Fault,
    now: Timestamp,
    limits: Limits,
) -> Result<SetOutcome, Error> {
    if fault.state != RequestState::Set {
        return Err(Error::invalid("set_alarm needs alarm_state 'set'"));
    }
    let ts = fault.timestamp.unwrap_or(now);
    // The alarm and the inhibitors that could mask it, in one read: a set
    // that changes something needs both, and a no-op re-set pays one probe
    // per ancestor entity for it. An alarm that cannot be masked (see
    // `masked_by`) has no use for the ancestors' inhibitors.
    let maskable = fault.suppression && !fault.inhibit_alarms;
    let ancestry = if maskable {
        ancestors_or_self(&fault.entity_instance_id)
    } else {
        Vec::new()
    };
    let (existing, inhibitors) =
        repo.alarm_and_inhibitors(&fault.alarm_id, &fault.entity_instance_id, &ancestry)?;
    let mut next = Alarm {
        id: 0,
        uuid: String::new(),
        alarm_id: fault.alarm_id.clone(),
        entity_type_id: fault.entity_type_id.clone(),
        entity_instance_id: fault.entity_instance_id.clone(),
        timestamp: ts,
        severity: fault.severity,
        reason_text: fault.reason_text.clone(),
        alarm_type: fault.alarm_type.clone(),
        probable_cause: fault.probable_cause.clone(),
        proposed_repair_action: fault.proposed_repair_action.clone(),
        service_affecting: fault.service_affecting,
        suppression: fault.suppression,
        inhibit_alarms: fault.inhibit_alarms,
        masked: false,
        created_at: now,
        updated_at: None,
    };
    match existing {
        Some(old) if fault.keep_existing_alarm || old.same_content(&next) => Ok(SetOutcome {
            uuid: old.uuid,
            created: false,
            changed: false,
        }),
        Some(old) => {
            next.id = old.id;
            next.uuid = old.uuid.clone();
            next.created_at = old.created_at;
            next.updated_at = Some(now);
            next.masked = masked_by(&next, &inhibitors);
            repo.update_alarm(&next)?;
            if old.inhibit_alarms != next.inhibit_alarms {
                refresh_masks_within(repo, &next.entity_instance_id)?;
            }
            history(repo, event_of(&next, EventState::Set, ts, now), limits)?;
            notify_unless_suppressed(repo, &next.alarm_id, || set_notification(&next), limits)?;
            Ok(SetOutcome {
                uuid: next.uuid,
                created: false,
                changed: true,
            })
        }
        None => {
            next.uuid = match &fault.uuid {
                Some(u) => {
                    if repo.alarm_by_uuid(u)?.is_some() {
                        return Err(Error::conflict(format!(
                            "An alarm with uuid {u} already exists"
                        )));
                    }
                    u.clone()
                }
                None => new_uuid(),
            };
            next.id = repo.next_id(Seq::Alarm)?;
            next.masked = masked_by(&next, &inhibitors);
            repo.insert_alarm(&next)?;
            if next.inhibit_alarms {
                refresh_masks_within(repo, &next.entity_instance_id)?;
            }
            history(repo, event_of(&next, EventState::Set, ts, now), limits)?;
            notify_unless_suppressed(repo, &next.alarm_id, || set_notification(&next), limits)?;
            Ok(SetOutcome {
                uuid: next.uuid,
                created: true,
                changed: true,
            })
        }
    }
}

fn clear_one(
    repo: &mut dyn FaultRepo,
    alarm: Alarm,
    now: Timestamp,
    limits: Limits,
) -> Result<(), Error> {
    repo.delete_alarm(alarm.id)?;
    if alarm.inhibit_alarms {
        refresh_masks_within(repo, &alarm.entity_instance_id)?;
    }
    let ev = event_of(&alarm, EventState::Clear, now, now);
    let uuid = ev.uuid.clone();
    history(repo, ev, limits)?;
    let n = || Notification::Clear {
        uuid,
        alarm_id: alarm.alarm_id.clone(),
        entity_instance_id: alarm.entity_instance_id.clone(),
        timestamp: now.micros(),
        reason_text: alarm.reason_text.clone(),
    };
    notify_unless_suppressed(repo, &alarm.alarm_id, n, limits)
}

/// Clears alarm `alarm_id` at `eid` and at every entity under it (boundary-aware).
/// Each cleared alarm gets its own `clear` record. Returns the cleared uuids.
pub fn clear_alarm(
    repo: &mut dyn FaultRepo,
    alarm_id: &str,
    eid: &str,
    now: Timestamp,
    limits: Limits,
) -> Result<Vec<String>, Error> {
    let mut cleared = Vec::new();
    if let Some(a) = repo.alarm_by_key(alarm_id, eid)? {
        cleared.push(a.uuid.clone());
        clear_one(repo, a, now, limits)?;
    }
    for a in repo.alarms_within(eid)? {
        if a.alarm_id == alarm_id && a.entity_instance_id != eid {
            cleared.push(a.uuid.clone());
            clear_one(repo, a, now, limits)?;
        }
    }
    Ok(cleared)
}

/// Clears the alarm with this uuid (REST DELETE): like a clear, with history and
/// unmasking. [`Error::NotFound`] when no such alarm is active.
pub fn delete_alarm(
    repo: &mut dyn FaultRepo,
    uuid: &str,
    now: Timestamp,
    limits: Limits,
) -> Result<(), Error> {
    let alarm = repo
        .alarm_by_uuid(uuid)?
        .ok_or_else(|| Error::not_found(format!("Alarm {uuid} could not be found.")))?;
    clear_one(repo, alarm, now, limits)
}

/// Hierarchical clear: deletes every alarm at or under `eid` and writes one
/// `clear` record for the prefix. Returns how many alarms were cleared.
pub fn clear_all(
    repo: &mut dyn FaultRepo,
    eid: &str,
    now: Timestamp,
    limits: Limits,
) -> Result<usize, Error> {
    crate::model::validate_entity_instance_id(eid)?;
    let alarms = repo.alarms_within(eid)?;
    if alarms.is_empty() {
        return Ok(0);
    }
    for a in &alarms {
        repo.delete_alarm(a.id)?;
    }
    // Inhibitors above the prefix are untouched, and everything below it is gone,
    // so no mask can change.
    let ev = Event {
        id: 0,
        uuid: new_uuid(),
        event_log_id: String::new(),
        state: EventState::Clear,
        entity_type_id: crate::model::implied_entity_type(eid),
        entity_instance_id: eid.to_string(),
        timestamp: now,
        severity: Severity::NotApplicable,
        reason_text: HIERARCHICAL_CLEAR_REASON.to_string(),
        event_log_type: "other".to_string(),
        probable_cause: "not-applicable".to_string(),
        proposed_repair_action: String::new(),
        service_affecting: false,
        suppression: false,
        created_at: now,
    };
    let n = Notification::HierarchicalClear {
        uuid: ev.uuid.clone(),
        entity_instance_id: eid.to_string(),
        timestamp: now.micros(),
    };
    history(repo, ev, limits)?;
    notify(repo, n, limits)?;
    Ok(alarms.len())
}

/// Reason text of a hierarchical-clear record (StarlingX's wording).
pub const HIERARCHICAL_CLEAR_REASON: &str = "System initiated hierarchical alarm clear";

/// Writes a stateless log record. Returns its uuid.
pub fn log_event(
    repo: &mut dyn FaultRepo,
    fault: &Fault,
    now: Timestamp,
    limits: Limits,
) -> Result<String, Error> {
    let ev = Event {
        id: 0,
        uuid: fault.uuid.clone().unwrap_or_else(new_uuid),
        event_log_id: fault.alarm_id.clone(),
        state: EventState::Log,
        entity_type_id: fault.entity_type_id.clone(),
        entity_instance_id: fault.entity_instance_id.clone(),
        timestamp: fault.timestamp.unwrap_or(now),
        severity: fault.severity,
        reason_text: fault.reason_text.clone(),
        event_log_type: fault.alarm_type.clone(),
        probable_cause: fault.probable_cause.clone(),
        proposed_repair_action: fault.proposed_repair_action.clone(),
        service_affecting: fault.service_affecting,
        suppression: fault.suppression,
        created_at: now,
    };
    let uuid = ev.uuid.clone();
    let n = Notification::Message {
        uuid: ev.uuid.clone(),
        event_id: ev.event_log_id.clone(),
        entity_instance_id: ev.entity_instance_id.clone(),
        timestamp: ev.timestamp.micros(),
        severity: ev.severity.rank(),
        reason_text: ev.reason_text.clone(),
        event_type: ev.event_log_type.clone(),
        probable_cause: ev.probable_cause.clone(),
        service_affecting: ev.service_affecting,
    };
    history(repo, ev, limits)?;
    notify(repo, n, limits)?;
    Ok(uuid)
}

/// Replaces the content of the alarm with this uuid (REST PUT). The identity
/// (alarm_id, entity_instance_id) cannot change. Same change detection and history
/// as a set.
pub fn replace_alarm(
    repo: &mut dyn FaultRepo,
    uuid: &str,
    fault: &Fault,
    now: Timestamp,
    limits: Limits,
) -> Result<SetOutcome, Error> {
    let old = repo
        .alarm_by_uuid(uuid)?
        .ok_or_else(|| Error::not_found(format!("Alarm {uuid} could not be found.")))?;
    if old.alarm_id != fault.alarm_id || old.entity_instance_id != fault.entity_instance_id {
        return Err(Error::invalid(
            "alarm_id and entity_instance_id of an alarm cannot be changed",
        ));
    }
    if fault.state != RequestState::Set {
        return Err(Error::invalid("PUT needs alarm_state 'set'"));
    }
    let mut f = fault.clone();
    f.keep_existing_alarm = false;
    f.uuid = None;
    set_alarm(repo, &f, now, limits)
}

/// Sets the suppression status of the row with this uuid. Returns the updated row.
pub fn set_suppression(
    repo: &mut dyn FaultRepo,
    uuid: &str,
    status: SuppressionStatus,
    now: Timestamp,
    limits: Limits,
) -> Result<Suppression, Error> {
    let mut row = repo
        .suppression_by_uuid(uuid)?
        .ok_or_else(|| Error::not_found(format!("Event suppression {uuid} could not be found.")))?;
    if row.status != status {
        row.status = status;
        row.updated_at = Some(now);
        repo.update_suppression(&row)?;
        notify(repo, Notification::WarmStart, limits)?;
    }
    Ok(row)
}

/// What a catalogue sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Rows added.
    pub added: usize,
    /// Rows whose description or thresholds were refreshed.
    pub updated: usize,
    /// Rows removed (id gone from the catalogue and unused).
    pub removed: usize,
    /// Rows kept but set for deletion (id gone from the catalogue, still used).
    pub retired: usize,
}

/// Longest stored description; longer ones end in ` ...` (StarlingX's rule).
pub const MAX_DESCRIPTION: usize = 250;

fn clip_description(d: &str) -> String {
    if d.chars().count() <= MAX_DESCRIPTION {
        d.to_string()
    } else {
        let mut s: String = d.chars().take(MAX_DESCRIPTION).collect();
        s.push_str(" ...");
        s
    }
}

/// Brings the suppression table in line with the catalogue's alarm entries:
/// inserts missing ids (unsuppressed), refreshes descriptions and thresholds,
/// deletes ids that left the catalogue when nothing uses them, and otherwise marks
/// them set-for-deletion and unsuppressed. Operator choices (status) are kept.
pub fn sync_catalogue(
    repo: &mut dyn FaultRepo,
    entries: &[CatalogueEntry],
    now: Timestamp,
) -> Result<SyncReport, Error> {
    let mut report = SyncReport::default();
    let existing = repo.suppressions()?;
    for e in entries.iter().filter(|e| e.is_alarm) {
        let description = clip_description(&e.description);
        match existing.iter().find(|s| s.alarm_id == e.alarm_id) {
            None => {
                let row = Suppression {
                    id: repo.next_id(Seq::Suppression)?,
                    uuid: new_uuid(),
                    alarm_id: e.alarm_id.clone(),
                    description,
                    status: SuppressionStatus::Unsuppressed,
                    set_for_deletion: false,
                    mgmt_affecting: e.mgmt_affecting,
                    degrade_affecting: e.degrade_affecting,
                    created_at: now,
                    updated_at: None,
                };
                repo.insert_suppression(&row)?;
                report.added += 1;
            }
            Some(s) => {
                if s.description != description
                    || s.mgmt_affecting != e.mgmt_affecting
                    || s.degrade_affecting != e.degrade_affecting
                    || s.set_for_deletion
                {
                    let mut row = s.clone();
                    row.description = description;
                    row.mgmt_affecting = e.mgmt_affecting;
                    row.degrade_affecting = e.degrade_affecting;
                    row.set_for_deletion = false;
                    row.updated_at = Some(now);
                    repo.update_suppression(&row)?;
                    report.updated += 1;
                }
            }
        }
    }
    for s in &existing {
        if entries
            .iter()
            .any(|e| e.is_alarm && e.alarm_id == s.alarm_id)
        {
            continue;
        }
        if !repo.alarm_id_in_use(&s.alarm_id)? {
            repo.delete_suppression(s.id)?;
            report.removed += 1;
        } else if !s.set_for_deletion || s.status != SuppressionStatus::Unsuppressed {
            let mut row = s.clone();
            row.set_for_deletion = true;
            row.status = SuppressionStatus::Unsuppressed;
            row.updated_at = Some(now);
            repo.update_suppression(&row)?;
            report.retired += 1;
        }
    }
    Ok(report)
}

/// Deletes history older than `max_age_micros` before `now`. Returns the count.
pub fn purge_old_events(
    repo: &mut dyn FaultRepo,
    now: Timestamp,
    max_age_micros: i64,
) -> Result<u64, Error> {
    repo.delete_events_before(now.plus_micros(-max_age_micros))
}
