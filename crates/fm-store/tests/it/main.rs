//! Storage conformance suite: the same fault-management stories on SQLite,
//! PostgreSQL and MariaDB, and the engine's own guarantees (group commit,
//! retries, checkpoints) under FM's workload. One test binary (link once).

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The backend harness, every story on a database migrated to this crate's schema.
mod harness {
    pub use starling_db::testing::*;

    pub async fn each_backend<F, Fut>(body: F)
    where
        F: Fn(starling_db::Db) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        starling_db::testing::each_backend(&[starling_fm_store::SCHEMA], body).await
    }
}

use harness::each_backend;
use starling_common::Timestamp;
use starling_db::{Db, StorageFailure};
use starling_fm::ops::{self, Limits, SetOutcome};
use starling_fm::repo::{
    AlarmField, AlarmQuery, Dir, EventField, EventQuery, FaultRepo, SuppressionQuery,
};
use starling_fm::{
    AlarmLine, AlarmView, Error, EventState, EventView, Fault, FaultInput, Summary,
    SuppressionStatus, catalogue,
};
use starling_fm_store::{FmRepo, SCHEMA};

const T0: i64 = 1_700_000_000_000_000;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(T0 + sec * 1_000_000)
}

fn fault(aid: &str, eid: &str, sev: &str) -> Fault {
    FaultInput {
        alarm_state: Some("set".into()),
        alarm_id: Some(aid.into()),
        entity_instance_id: Some(eid.into()),
        severity: Some(sev.into()),
        alarm_type: Some("operational-violation".into()),
        probable_cause: Some("threshold-crossed".into()),
        reason_text: Some(format!("{aid} at {eid}")),
        suppression: Some(true),
        ..FaultInput::default()
    }
    .validate()
    .unwrap()
}

fn limits() -> Limits {
    Limits::default()
}

async fn set_at(db: &Db, f: Fault, now: Timestamp) -> SetOutcome {
    db.write(move |c| ops::set_alarm(&mut FmRepo::new(c), &f, now, limits()))
        .await
        .unwrap()
}

async fn set(db: &Db, f: Fault) -> SetOutcome {
    set_at(db, f, ts(0)).await
}

fn query() -> AlarmQuery {
    AlarmQuery {
        filters: vec![],
        within: None,
        include_suppressed: false,
        sort: AlarmQuery::default_sort(),
        marker: None,
        limit: 1000,
    }
}

async fn alarms(db: &Db, q: AlarmQuery) -> Vec<AlarmView> {
    db.read(move |c| FmRepo::new(c).list_alarms(&q))
        .await
        .unwrap()
}

fn events_q() -> EventQuery {
    EventQuery {
        filters: vec![],
        start: None,
        end: None,
        states: vec![],
        include_suppressed: true,
        sort: vec![(EventField::Timestamp, Dir::Desc)],
        marker: None,
        limit: 100_000,
    }
}

async fn lines(db: &Db, q: AlarmQuery) -> Vec<AlarmLine> {
    db.read(move |c| {
        let mut out = Vec::new();
        FmRepo::new(c).each_alarm_line(&q, &mut |l| out.push(l))?;
        Ok::<_, Error>(out)
    })
    .await
    .unwrap()
}

/// Suppresses `alarm_id` through its catalogue row.
async fn suppress(db: &Db, alarm_id: &str, at: Timestamp) {
    let id = alarm_id.to_string();
    let row = db
        .read(move |c| {
            FmRepo::new(c).list_suppressions(&SuppressionQuery {
                alarm_id: Some(id.clone()),
                limit: 10,
                ..Default::default()
            })
        })
        .await
        .unwrap();
    let uuid = row[0].uuid.clone();
    db.write(move |c| {
        ops::set_suppression(
            &mut FmRepo::new(c),
            &uuid,
            SuppressionStatus::Suppressed,
            at,
            limits(),
        )
    })
    .await
    .unwrap();
}

async fn events(db: &Db, q: EventQuery) -> Vec<EventView> {
    db.read(move |c| FmRepo::new(c).list_events(&q))
        .await
        .unwrap()
}

async fn summary(db: &Db, include: bool) -> Summary {
    db.read(move |c| FmRepo::new(c).summary(include))
        .await
        .unwrap()
}

async fn eids(db: &Db) -> Vec<String> {
    let mut v: Vec<String> = alarms(db, query())
        .await
        .into_iter()
        .map(|a| a.alarm.entity_instance_id)
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn migrations_are_idempotent_and_data_survives_reopen() {
    for (name, tdb) in harness::databases() {
        let db = Db::open(&tdb.url, harness::tuning(), &[SCHEMA])
            .await
            .unwrap();
        set(&db, fault("100.101", "host=a", "major")).await;
        drop(db);
        let db = Db::open(&tdb.url, harness::tuning(), &[SCHEMA])
            .await
            .unwrap();
        assert_eq!(eids(&db).await, vec!["host=a"], "{name}");
    }
}

/// FM's migration 3 (global schema 6 before per-component schemas) rebuilt
/// `fm_alarm` around the key (entity_instance_id, alarm_id): alarms raised
/// under FM's schema 2 keep their uuids and fields, and the key
/// still makes a set an upsert and bounds the hierarchical clear.
#[tokio::test]
async fn active_alarms_survive_the_rekeying_migration() {
    for (name, tdb) in harness::databases() {
        let db = Db::open(&tdb.url, harness::tuning(), &[SCHEMA.through(2)])
            .await
            .unwrap();
        let mut before = Vec::new();
        for (aid, eid) in [
            ("100.101", "host=controller-0"),
            ("100.106", "host=controller-0"),
            ("100.106", "host=controller-0.port=eth0"),
            ("100.106", "host=controller-01"),
        ] {
            before.push(set(&db, fault(aid, eid, "major")).await.uuid);
        }
        drop(db);

        let db = Db::open(&tdb.url, harness::tuning(), &[SCHEMA])
            .await
            .unwrap();
        let after = alarms(&db, query()).await;
        let mut uuids: Vec<_> = after.iter().map(|v| v.alarm.uuid.clone()).collect();
        uuids.sort();
        before.sort();
        assert_eq!(uuids, before, "{name}");
        assert!(
            after.iter().all(|v| v.alarm.reason_text
                == format!("{} at {}", v.alarm.alarm_id, v.alarm.entity_instance_id)),
            "{name}"
        );
        let again = set(&db, fault("100.106", "host=controller-0", "major")).await;
        assert!(!again.created && !again.changed, "{name}");
        assert!(before.contains(&again.uuid), "{name}");
        let n = db
            .write(|c| ops::clear_all(&mut FmRepo::new(c), "host=controller-0", ts(6), limits()))
            .await
            .unwrap();
        assert_eq!(n, 3, "{name}");
        assert_eq!(eids(&db).await, vec!["host=controller-01"], "{name}");
    }
}

#[tokio::test]
async fn set_is_an_upsert_with_a_stable_uuid_and_no_op_resets() {
    each_backend(|db| async move {
        let first = set(&db, fault("100.101", "host=controller-0", "major")).await;
        assert!(first.created && first.changed);
        // Same content, later: nothing written.
        let again = set_at(&db, fault("100.101", "host=controller-0", "major"), ts(10)).await;
        assert_eq!(again.uuid, first.uuid);
        assert!(!again.changed);
        assert_eq!(events(&db, events_q()).await.len(), 1);
        // A change: updated in place, same uuid, one more history record.
        let changed = set_at(
            &db,
            fault("100.101", "host=controller-0", "critical"),
            ts(20),
        )
        .await;
        assert_eq!(changed.uuid, first.uuid);
        assert!(changed.changed && !changed.created);
        let list = alarms(&db, query()).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].alarm.severity.as_str(), "critical");
        assert_eq!(list[0].alarm.timestamp, ts(20));
        assert_eq!(list[0].alarm.updated_at, Some(ts(20)));
        let ev = events(&db, events_q()).await;
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event.severity.as_str(), "critical");
        assert_ne!(
            ev[0].event.uuid, first.uuid,
            "history records have their own uuid"
        );
        // keep_existing_alarm leaves it untouched.
        let mut keep = fault("100.101", "host=controller-0", "minor");
        keep.keep_existing_alarm = true;
        assert!(!set(&db, keep).await.changed);
        assert_eq!(
            alarms(&db, query()).await[0].alarm.severity.as_str(),
            "critical"
        );
    })
    .await;
}

/// Keys compare exactly on every backend: near-duplicates of an entity
/// (a trailing space — MariaDB's padding collations made `host=ws` and
/// `host=ws ` one key —, case, an accent, a no-break space, a leading
/// space) are alarms of their own, each found and cleared alone.
#[tokio::test]
async fn near_duplicate_keys_are_distinct_everywhere() {
    each_backend(|db| async move {
        let near = [
            "host=ws",
            "host=ws ",
            "host=ws  ",
            "host=WS",
            "host=wś",
            "host=ws\u{a0}",
            " host=ws",
        ];
        let mut uuids = Vec::new();
        for eid in near {
            let o = set(&db, fault("100.101", eid, "major")).await;
            assert!(o.created, "{eid:?} was taken for another key");
            uuids.push(o.uuid);
        }
        uuids.sort();
        uuids.dedup();
        assert_eq!(uuids.len(), near.len());
        let mut want: Vec<String> = near.iter().map(|e| e.to_string()).collect();
        want.sort();
        assert_eq!(eids(&db).await, want);
        // Each is found by its own key only.
        for eid in near {
            let e = eid.to_string();
            let got = db
                .read(move |c| FmRepo::new(c).alarm_by_key("100.101", &e))
                .await
                .unwrap();
            let found = got.map(|a| a.entity_instance_id);
            assert_eq!(found.as_deref(), Some(eid), "lookup of {eid:?}");
        }
        // Clearing one leaves the others.
        db.write(|c| ops::clear_alarm(&mut FmRepo::new(c), "100.101", "host=ws ", ts(1), limits()))
            .await
            .unwrap();
        want.retain(|e| e != "host=ws ");
        assert_eq!(eids(&db).await, want);
    })
    .await;
}

#[tokio::test]
async fn requested_uuid_is_used_once() {
    each_backend(|db| async move {
        let mut f = fault("100.101", "host=a", "major");
        f.uuid = Some("8e1a3bd5-1a2b-4c3d-9e8f-0123456789ab".into());
        let o = set(&db, f.clone()).await;
        assert_eq!(o.uuid, "8e1a3bd5-1a2b-4c3d-9e8f-0123456789ab");
        let mut g = fault("100.101", "host=b", "major");
        g.uuid = f.uuid.clone();
        let err = db
            .write(move |c| ops::set_alarm(&mut FmRepo::new(c), &g, ts(0), limits()))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Conflict(_)), "{err:?}");
        assert_eq!(eids(&db).await, vec!["host=a"], "nothing partially written");
    })
    .await;
}

#[tokio::test]
async fn clears_respect_the_entity_boundary() {
    each_backend(|db| async move {
        for eid in [
            "host=controller-0",
            "host=controller-0.port=eth0",
            "host=controller-01",
            "host=controller-01.port=eth0",
        ] {
            set(&db, fault("100.106", eid, "major")).await;
        }
        set(&db, fault("100.101", "host=controller-0", "major")).await;
        let cleared = db
            .write(|c| {
                ops::clear_alarm(
                    &mut FmRepo::new(c),
                    "100.106",
                    "host=controller-0",
                    ts(5),
                    limits(),
                )
            })
            .await
            .unwrap();
        assert_eq!(cleared.len(), 2);
        assert_eq!(
            eids(&db).await,
            vec![
                "host=controller-0",
                "host=controller-01",
                "host=controller-01.port=eth0"
            ]
        );
        let clears: Vec<_> = events(&db, events_q())
            .await
            .into_iter()
            .filter(|e| e.event.state == EventState::Clear)
            .collect();
        assert_eq!(clears.len(), 2);
        assert_eq!(clears[0].event.timestamp, ts(5));

        // Hierarchical clear: everything under the prefix, one record.
        let n = db
            .write(|c| ops::clear_all(&mut FmRepo::new(c), "host=controller-01", ts(6), limits()))
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(eids(&db).await, vec!["host=controller-0"]);
        let ev = events(&db, events_q()).await;
        assert_eq!(ev[0].event.reason_text, ops::HIERARCHICAL_CLEAR_REASON);
        assert_eq!(ev[0].event.entity_instance_id, "host=controller-01");
        assert_eq!(ev[0].event.event_log_id, "");
        // Nothing under the prefix: 0, and no record.
        let n = db
            .write(|c| ops::clear_all(&mut FmRepo::new(c), "host=nothing", ts(7), limits()))
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(events(&db, events_q()).await.len(), ev.len());
    })
    .await;
}

#[tokio::test]
async fn a_set_reads_its_alarm_and_the_inhibitors_above_it_in_one_round() {
    each_backend(|db| async move {
        let mut at_host = fault("200.004", "host=h", "critical");
        at_host.inhibit_alarms = true;
        set(&db, at_host).await;
        // Not inhibitors of host=h.port=p: a plain alarm above it, an
        // inhibitor below it, one at a look-alike prefix and one elsewhere.
        set(&db, fault("100.101", "host=h", "major")).await;
        for eid in ["host=h.port=p.vf=1", "host=h2", "host=x"] {
            let mut f = fault("200.004", eid, "critical");
            f.inhibit_alarms = true;
            set(&db, f).await;
        }
        // At the alarm's own entity: another alarm that inhibits.
        let mut sibling = fault("200.011", "host=h.port=p", "critical");
        sibling.inhibit_alarms = true;
        let sibling_uuid = set(&db, sibling).await.uuid;
        let host_uuid = alarms(&db, query())
            .await
            .into_iter()
            .find(|a| a.alarm.alarm_id == "200.004" && a.alarm.entity_instance_id == "host=h")
            .unwrap()
            .alarm
            .uuid;

        let ancestry = vec!["host=h".to_string(), "host=h.port=p".to_string()];
        let read = |aid: &'static str| {
            let ancestry = ancestry.clone();
            db.read(move |c| FmRepo::new(c).alarm_and_inhibitors(aid, "host=h.port=p", &ancestry))
        };
        let (none, mut inhibitors) = read("100.106").await.unwrap();
        assert!(none.is_none());
        inhibitors.sort();
        let mut want = vec![
            (host_uuid.clone(), "host=h".to_string()),
            (sibling_uuid.clone(), "host=h.port=p".to_string()),
        ];
        want.sort();
        assert_eq!(inhibitors, want);

        // The alarm itself, when it inhibits, is both found and listed.
        let (found, mut inhibitors) = read("200.011").await.unwrap();
        assert_eq!(found.unwrap().uuid, sibling_uuid);
        inhibitors.sort();
        assert_eq!(inhibitors, want);

        // A suppressible alarm raised beside an inhibitor at its own entity
        // (and none above) is masked on arrival; the inhibitor is not.
        let mut beside = fault("200.004", "host=y", "critical");
        beside.inhibit_alarms = true;
        set(&db, beside).await;
        set(&db, fault("100.101", "host=y", "major")).await;
        let visible: Vec<String> = alarms(&db, query())
            .await
            .into_iter()
            .filter(|a| a.alarm.entity_instance_id == "host=y")
            .map(|a| a.alarm.alarm_id)
            .collect();
        assert_eq!(visible, vec!["200.004".to_string()]);
    })
    .await;
}

#[tokio::test]
async fn inhibition_masks_descendants_and_counts_inhibitors() {
    each_backend(|db| async move {
        set(&db, fault("100.106", "host=h.port=p", "major")).await;
        let mut nosupp = fault("200.006", "host=h.process=x", "major");
        nosupp.suppression = false;
        set(&db, nosupp).await;
        set(&db, fault("100.106", "host=h2.port=p", "major")).await;

        let mut failed = fault("200.004", "host=h", "critical");
        failed.inhibit_alarms = true;
        set(&db, failed.clone()).await;
        // A second, overlapping inhibitor at the same host.
        let mut other = fault("200.011", "host=h", "critical");
        other.inhibit_alarms = true;
        set(&db, other).await;
        // Masked: the suppressible port alarm only; new descendants are masked on arrival.
        set(&db, fault("100.108", "host=h.port=q", "major")).await;
        assert_eq!(
            eids(&db).await,
            vec!["host=h", "host=h", "host=h.process=x", "host=h2.port=p"]
        );
        assert_eq!(summary(&db, true).await.major, 2);

        // Clearing one inhibitor leaves the other masking.
        db.write(|c| ops::clear_alarm(&mut FmRepo::new(c), "200.004", "host=h", ts(1), limits()))
            .await
            .unwrap();
        assert_eq!(
            eids(&db).await,
            vec!["host=h", "host=h.process=x", "host=h2.port=p"]
        );
        // Clearing the last unmasks.
        db.write(|c| ops::clear_alarm(&mut FmRepo::new(c), "200.011", "host=h", ts(2), limits()))
            .await
            .unwrap();
        assert_eq!(
            eids(&db).await,
            vec![
                "host=h.port=p",
                "host=h.port=q",
                "host=h.process=x",
                "host=h2.port=p"
            ]
        );
        // A re-set of a masked alarm keeps it masked.
        set(&db, failed).await;
        set_at(&db, fault("100.106", "host=h.port=p", "minor"), ts(3)).await;
        assert!(!eids(&db).await.contains(&"host=h.port=p".to_string()));
    })
    .await;
}

#[tokio::test]
async fn suppression_hides_from_lists_counts_and_events_but_keeps_storing() {
    each_backend(|db| async move {
        let entries = catalogue::parse(catalogue::BUILTIN).unwrap();
        let e2 = entries.clone();
        db.write(move |c| ops::sync_catalogue(&mut FmRepo::new(c), &e2, ts(0)))
            .await
            .unwrap();
        set(&db, fault("100.101", "host=a", "major")).await;
        set(&db, fault("100.103", "host=a.memory=m", "critical")).await;
        // An id the catalogue does not know stays visible.
        set(&db, fault("999.999", "host=a", "minor")).await;
        let log = FaultInput {
            alarm_state: Some("log".into()),
            alarm_id: Some("100.101".into()),
            entity_instance_id: Some("host=a".into()),
            severity: Some("minor".into()),
            alarm_type: Some("other".into()),
            probable_cause: Some("unknown".into()),
            ..FaultInput::default()
        }
        .validate()
        .unwrap();
        db.write(move |c| ops::log_event(&mut FmRepo::new(c), &log, ts(1), limits()))
            .await
            .unwrap();

        suppress(&db, "100.101", ts(2)).await;
        // Raised while suppressed: stored.
        set(&db, fault("100.101", "host=b", "critical")).await;

        let visible = alarms(&db, query()).await;
        assert_eq!(visible.len(), 2);
        assert!(visible.iter().all(|a| a.alarm.alarm_id != "100.101"));
        let mut q = query();
        q.include_suppressed = true;
        let all = alarms(&db, q).await;
        assert_eq!(all.len(), 4);
        assert!(
            all.iter()
                .any(|a| a.suppression_status == SuppressionStatus::Suppressed)
        );
        let unknown = all.iter().find(|a| a.alarm.alarm_id == "999.999").unwrap();
        assert!(
            unknown.mgmt_affecting(),
            "unknown ids default to mgmt threshold warning"
        );
        let s = summary(&db, false).await;
        assert_eq!((s.critical, s.major, s.minor), (1, 0, 1));
        assert_eq!(s.status(), "critical");
        assert_eq!(summary(&db, true).await.critical, 2);

        let mut eq = events_q();
        eq.include_suppressed = false;
        let ev = events(&db, eq).await;
        // set records of 100.101 hidden; the 100.101 log stays.
        assert!(
            ev.iter()
                .all(|e| e.event.event_log_id != "100.101" || e.event.state == EventState::Log)
        );
        assert!(ev.iter().any(|e| e.event.state == EventState::Log));
        assert_eq!(events(&db, events_q()).await.len(), 5);

        // Derived thresholds come from the catalogue: 100.103 is mgmt-affecting at major.
        let mem = all.iter().find(|a| a.alarm.alarm_id == "100.103").unwrap();
        assert!(mem.mgmt_affecting() && mem.degrade_affecting());
    })
    .await;
}

#[tokio::test]
async fn catalogue_sync_adds_refreshes_retires_and_removes() {
    each_backend(|db| async move {
        let v1 = catalogue::parse(
            "\"100.101\":\n  Type: Alarm\n  Description: cpu\n\"100.102\":\n  Type: Alarm\n  Description: gone\n\"100.103\":\n  Type: Alarm\n  Description: used\n\"200.021\":\n  Type: Log\n",
        )
        .unwrap();
        let r = db
            .write(move |c| ops::sync_catalogue(&mut FmRepo::new(c), &v1, ts(0)))
            .await
            .unwrap();
        assert_eq!(r.added, 3, "logs get no suppression rows");
        set(&db, fault("100.103", "host=a", "major")).await;
        let v2 = catalogue::parse(
            "\"100.101\":\n  Type: Alarm\n  Description: cpu usage\n  Management_Affecting_Severity: critical\n",
        )
        .unwrap();
        let r = db
            .write(move |c| ops::sync_catalogue(&mut FmRepo::new(c), &v2, ts(1)))
            .await
            .unwrap();
        assert_eq!((r.added, r.updated, r.removed, r.retired), (0, 1, 1, 1));
        let listed = db
            .read(|c| FmRepo::new(c).list_suppressions(&SuppressionQuery { limit: 100, ..Default::default() }))
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "rows set for deletion are not listed");
        assert_eq!(listed[0].description, "cpu usage");
        let all = db.read(|c| FmRepo::new(c).suppressions()).await.unwrap();
        assert!(all.iter().any(|s| s.alarm_id == "100.103" && s.set_for_deletion));
    })
    .await;
}

#[tokio::test]
async fn event_log_retention_by_count_and_age() {
    each_backend(|db| async move {
        let small = Limits {
            event_log_max_rows: 10,
            ..Limits::default()
        };
        for i in 0..25 {
            let f = fault("100.101", &format!("host=h{i:02}"), "major");
            db.write(move |c| ops::set_alarm(&mut FmRepo::new(c), &f, ts(i), small))
                .await
                .unwrap();
        }
        let ev = events(&db, events_q()).await;
        assert_eq!(ev.len(), 10);
        assert_eq!(ev[0].event.entity_instance_id, "host=h24");
        assert_eq!(ev[9].event.entity_instance_id, "host=h15");
        let n = db
            .write(|c| ops::purge_old_events(&mut FmRepo::new(c), ts(25), 5_000_000))
            .await
            .unwrap();
        assert_eq!(n, 5);
        assert_eq!(events(&db, events_q()).await.len(), 5);
    })
    .await;
}

#[tokio::test]
async fn paging_keeps_filters_and_orders_bytewise_everywhere() {
    each_backend(|db| async move {
        // Names whose order differs between bytewise and locale collations.
        let names = [
            "host=a-b", "host=a.b", "host=aB", "host=a_b", "host=A", "host=a b", "host=a~",
        ];
        for (i, n) in names.iter().enumerate() {
            set(&db, fault("100.101", n, "major")).await;
            set(
                &db,
                fault("100.103", n, if i % 2 == 0 { "minor" } else { "critical" }),
            )
            .await;
        }
        let mut expected: Vec<&str> = names.to_vec();
        expected.sort();
        let mut q = query();
        q.filters = vec![(AlarmField::AlarmId, "100.101".into())];
        q.limit = 3;
        let mut seen = Vec::new();
        loop {
            let page = alarms(&db, q.clone()).await;
            seen.extend(page.iter().map(|a| a.alarm.entity_instance_id.clone()));
            if page.len() < 3 {
                break;
            }
            q.marker = Some(page[2].alarm.uuid.clone());
        }
        assert_eq!(
            seen, expected,
            "filters apply on every page, order is bytewise"
        );

        // Default order: severity (critical, major, minor), then eid.
        let all = alarms(&db, query()).await;
        let sev: Vec<&str> = all.iter().map(|a| a.alarm.severity.as_str()).collect();
        let mut sorted = sev.clone();
        sorted.sort();
        assert_eq!(sev, sorted);

        // Descending by timestamp with id tie-break, paged by 4.
        let mut q = query();
        q.sort = vec![(AlarmField::Timestamp, Dir::Desc)];
        q.limit = 4;
        let mut n = 0;
        let mut ids = std::collections::HashSet::new();
        loop {
            let page = alarms(&db, q.clone()).await;
            n += page.len();
            ids.extend(page.iter().map(|a| a.alarm.uuid.clone()));
            if page.len() < 4 {
                break;
            }
            q.marker = page.last().map(|a| a.alarm.uuid.clone());
        }
        assert_eq!((n, ids.len()), (14, 14));

        let mut q = query();
        q.marker = Some("00000000-0000-0000-0000-000000000000".into());
        let err = db
            .read(move |c| FmRepo::new(c).list_alarms(&q))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn event_queries_filter_by_entity_time_and_state() {
    each_backend(|db| async move {
        for i in 0..10 {
            let eid = if i % 2 == 0 { "host=x" } else { "host=y" };
            set_at(
                &db,
                fault("100.101", eid, if i % 3 == 0 { "major" } else { "minor" }),
                ts(i),
            )
            .await;
        }
        db.write(|c| ops::clear_alarm(&mut FmRepo::new(c), "100.101", "host=x", ts(20), limits()))
            .await
            .unwrap();
        let mut q = events_q();
        q.filters = vec![(EventField::EntityInstanceId, "host=x".into())];
        q.start = Some(ts(2));
        q.end = Some(ts(20));
        q.limit = 20;
        let ev = events(&db, q.clone()).await;
        assert!(ev.iter().all(|e| e.event.entity_instance_id == "host=x"));
        assert!(ev.iter().all(|e| e.event.timestamp >= ts(2)));
        assert_eq!(ev[0].event.state, EventState::Clear);
        q.states = vec![EventState::Set];
        let sets = events(&db, q).await;
        assert!(sets.iter().all(|e| e.event.state == EventState::Set));
        assert_eq!(sets.len(), ev.len() - 1);
    })
    .await;
}

#[tokio::test]
async fn a_failed_transaction_leaves_nothing_behind() {
    each_backend(|db| async move {
        let f = fault("100.101", "host=a", "major");
        let r: Result<(), Error> = db
            .write(move |c| {
                ops::set_alarm(&mut FmRepo::new(c), &f, ts(0), limits())?;
                Err(Error::invalid("abort after writing"))
            })
            .await;
        assert!(r.is_err());
        assert!(eids(&db).await.is_empty());
        assert!(events(&db, events_q()).await.is_empty());
        // And the next id is not burned in a way that breaks retention.
        set(&db, fault("100.101", "host=b", "major")).await;
        assert_eq!(events(&db, events_q()).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_all_commit() {
    each_backend(|db| async move {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                // Same key for half of them: upserts racing on one row.
                let eid = if i % 2 == 0 {
                    format!("host=n{i}")
                } else {
                    "host=shared".to_string()
                };
                let sev = if i % 4 == 1 { "major" } else { "minor" };
                set(&db, fault("100.101", &eid, sev)).await
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(eids(&db).await.len(), 101);
        // A failing job in the same group does not disturb the others.
        let bad = db.write(|_c| -> Result<(), StorageFailure> {
            Err(StorageFailure::new(starling_db::StorageKind::Other, "boom"))
        });
        let good = set(&db, fault("100.101", "host=after", "major"));
        let (b, _) = tokio::join!(bad, good);
        assert!(b.is_err());
        assert_eq!(eids(&db).await.len(), 102);
    })
    .await;
}

/// What `/metrics` shows of the store: one commit timed per read-write
/// transaction awaited alone (reads commit nothing there), and nothing
/// outstanding once every request has its answer.
#[tokio::test]
async fn the_store_times_its_commits_and_counts_what_is_outstanding() {
    each_backend(|db| async move {
        let before = db.stats();
        for i in 0..10 {
            set(&db, fault("100.101", &format!("host=m{i}"), "major")).await;
            let _ = eids(&db).await;
        }
        let after = db.stats();
        assert_eq!(after.commits.count - before.commits.count, 10);
        assert!(after.commits.sum > before.commits.sum);
        assert_eq!(
            after.commits.buckets.last().copied(),
            Some(after.commits.count),
            "every commit within 10 s"
        );
        let mut tasks = Vec::new();
        for i in 0..50 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                set(&db, fault("100.102", &format!("host=c{i}"), "minor")).await
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let grew = db.stats().commits.count - after.commits.count;
        assert!((1..=50 * 5).contains(&grew), "{grew} commits");
        // A worker counts a job finished just after it answers.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let s = db.stats();
            if s.writes_outstanding == 0 && s.reads_outstanding == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{s:?}");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// The SQLite writer checkpoints its write-ahead log less often than SQLite's
/// default (every commit's hot pages are copied fewer times) but regularly:
/// the log's file reaches `WAL_CHECKPOINT_PAGES` and never grows much past
/// it, however much is written. (The file keeps its
/// length when the log restarts, so its length is the log's high-water mark.)
#[tokio::test]
async fn the_sqlite_wal_is_checkpointed_every_few_thousand_pages() {
    let tdb = harness::sqlite_db();
    let db = Db::open(&tdb.url, harness::tuning(), &[SCHEMA])
        .await
        .unwrap();
    let wal = format!("{}-wal", tdb.url.trim_start_matches("sqlite://"));
    let page = db
        .read(|c| c.query("PRAGMA page_size", &[])?[0].int(0))
        .await
        .unwrap() as u64;
    db.write(|c| c.exec("CREATE TABLE wal_fill (b BLOB NOT NULL)", &[]))
        .await
        .unwrap();
    let (rows, size) = (25u64, 3000u64);
    let per_commit = rows * size / page + 1;
    let high_water = || {
        let len = std::fs::metadata(&wal).map_or(0, |m| m.len());
        len.saturating_sub(32) / (page + 24)
    };
    let mut written = 0;
    while written < 3 * u64::from(starling_db::WAL_CHECKPOINT_PAGES) {
        db.write(move |c| {
            c.exec(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
                 INSERT INTO wal_fill (b) SELECT randomblob(?) FROM n",
                &[(rows as i64).into(), (size as i64).into()],
            )
        })
        .await
        .unwrap();
        written += per_commit;
        assert!(
            high_water() <= u64::from(starling_db::WAL_CHECKPOINT_PAGES) + 4 * per_commit,
            "the log grew to {} pages after {written} written: not checkpointed",
            high_water()
        );
    }
    assert!(
        high_water() >= u64::from(starling_db::WAL_CHECKPOINT_PAGES),
        "the log was checkpointed at {} pages, before WAL_CHECKPOINT_PAGES",
        high_water()
    );
}

#[tokio::test]
async fn failing_jobs_lose_only_their_own_writes_whatever_the_grouping() {
    each_backend(|db| async move {
        // Submitted at once, so SQLite's writer groups them: every other job
        // writes an alarm and then fails, after and before jobs that succeed.
        let mut tasks = Vec::new();
        for i in 0..120 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let good = i % 2 == 0;
                let f = fault("100.101", &format!("host=n{i}"), "major");
                db.write(move |c| {
                    ops::set_alarm(&mut FmRepo::new(c), &f, ts(i), limits())?;
                    if good {
                        Ok(())
                    } else {
                        Err(Error::invalid("abort after writing"))
                    }
                })
                .await
                .is_ok()
                    == good
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap(), "a job's outcome is its own");
        }
        let expect: Vec<String> = {
            let mut v: Vec<String> = (0..120).step_by(2).map(|i| format!("host=n{i}")).collect();
            v.sort();
            v
        };
        let mut got = eids(&db).await;
        got.sort();
        assert_eq!(got, expect);
        assert_eq!(events(&db, events_q()).await.len(), 60);
    })
    .await;
}

#[tokio::test]
async fn within_filter_and_atomic_batches() {
    each_backend(|db| async move {
        for eid in ["host=c0", "host=c0.port=p", "host=c01", "host=c0x.port=p"] {
            set(&db, fault("100.106", eid, "major")).await;
        }
        let mut q = query();
        q.within = Some("host=c0".into());
        let mut got: Vec<String> = alarms(&db, q)
            .await
            .into_iter()
            .map(|a| a.alarm.entity_instance_id)
            .collect();
        got.sort();
        assert_eq!(got, vec!["host=c0", "host=c0.port=p"]);

        let clear = |eid: &str| {
            let mut f = fault("100.106", eid, "major");
            f.state = starling_fm::RequestState::Clear;
            f
        };
        // A clear that matches nothing is tolerated inside a batch.
        let batch = vec![
            fault("100.101", "host=n1", "minor"),
            clear("host=c01"),
            clear("host=none"),
        ];
        let out = db
            .write(move |c| ops::apply_batch(&mut FmRepo::new(c), &batch, ts(1), limits()))
            .await
            .unwrap();
        assert_eq!(out.len(), 3);
        assert!(out[1].uuid().is_some());
        assert!(out[2].uuid().is_none());
        // A conflict anywhere rolls the whole batch back.
        let taken = alarms(&db, query()).await[0].alarm.uuid.clone();
        let mut dup = fault("100.101", "host=n2", "minor");
        dup.uuid = Some(taken);
        let before = eids(&db).await;
        let batch = vec![fault("100.101", "host=n3", "minor"), dup];
        let err = db
            .write(move |c| ops::apply_batch(&mut FmRepo::new(c), &batch, ts(2), limits()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Conflict(ref m) if m.starts_with("entry 1")),
            "{err:?}"
        );
        assert_eq!(eids(&db).await, before, "nothing of the batch was kept");
    })
    .await;
}

#[tokio::test]
async fn notifications_join_the_transaction_in_order() {
    use starling_fm::notify::Notification;
    each_backend(|db| async move {
        let on = Limits {
            notifications: true,
            outbox_max_rows: 1000,
            ..Limits::default()
        };
        let entries = catalogue::parse(catalogue::BUILTIN).unwrap();
        db.write(move |c| ops::sync_catalogue(&mut FmRepo::new(c), &entries, ts(0)))
            .await
            .unwrap();
        let run = |f: Fault| {
            let db = db.clone();
            async move {
                db.write(move |c| ops::apply(&mut FmRepo::new(c), &f, ts(1), on))
                    .await
                    .unwrap()
            }
        };
        run(fault("100.101", "host=a", "major")).await;
        run(fault("100.101", "host=a", "major")).await; // unchanged: no trap
        run(fault("100.103", "host=a.memory=m", "critical")).await;
        let mut clear = fault("100.101", "host=a", "major");
        clear.state = starling_fm::RequestState::Clear;
        run(clear).await;
        // Suppress 100.103: its clear sends nothing, the warmStart does.
        let row = db
            .read(|c| FmRepo::new(c).suppression_by_alarm_id("100.103"))
            .await
            .unwrap()
            .unwrap();
        db.write(move |c| {
            ops::set_suppression(
                &mut FmRepo::new(c),
                &row.uuid,
                SuppressionStatus::Suppressed,
                ts(2),
                on,
            )
        })
        .await
        .unwrap();
        db.write(move |c| ops::clear_all(&mut FmRepo::new(c), "host=a", ts(3), on))
            .await
            .unwrap();
        // A failed transaction leaves no notification behind.
        let _ = db
            .write(move |c| -> Result<(), Error> {
                ops::set_alarm(
                    &mut FmRepo::new(c),
                    &fault("100.101", "host=z", "minor"),
                    ts(4),
                    on,
                )?;
                Err(Error::invalid("abort"))
            })
            .await;

        let out = db.read(|c| FmRepo::new(c).outbox(100)).await.unwrap();
        let kinds: Vec<&str> = out
            .iter()
            .map(|(_, n)| match n {
                Notification::Set { .. } => "set",
                Notification::Clear { .. } => "clear",
                Notification::HierarchicalClear { .. } => "hclear",
                Notification::Message { .. } => "msg",
                Notification::WarmStart => "warm",
            })
            .collect();
        assert_eq!(kinds, vec!["set", "set", "clear", "warm", "hclear"]);
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "ids increase");
        let ids: Vec<i64> = out.iter().take(2).map(|(i, _)| *i).collect();
        db.write(move |c| FmRepo::new(c).outbox_done(&ids))
            .await
            .unwrap();
        assert_eq!(
            db.read(|c| FmRepo::new(c).outbox(100)).await.unwrap().len(),
            3
        );

        // Notifications off (nothing delivers): nothing is written.
        let off = Limits::default();
        db.write(move |c| {
            ops::set_alarm(
                &mut FmRepo::new(c),
                &fault("100.101", "host=q", "minor"),
                ts(5),
                off,
            )
        })
        .await
        .unwrap();
        assert_eq!(
            db.read(|c| FmRepo::new(c).outbox(100)).await.unwrap().len(),
            3
        );
    })
    .await;
}

/// A list row (the brief form, read with fewer columns) holds the full view's
/// fields, for the same alarms in the same order, whatever the query:
/// filtered, sorted, paged by marker, with suppressed ids hidden or shown.
#[tokio::test]
async fn list_rows_are_the_views_in_brief() {
    each_backend(|db| async move {
        let entries = catalogue::parse(catalogue::BUILTIN).unwrap();
        db.write(move |c| ops::sync_catalogue(&mut FmRepo::new(c), &entries, ts(0)))
            .await
            .unwrap();
        for (i, (aid, sev)) in [
            ("100.101", "major"),
            ("100.103", "critical"),
            ("999.999", "minor"),
            ("200.001", "warning"),
            ("100.101", "critical"),
        ]
        .into_iter()
        .enumerate()
        {
            set_at(&db, fault(aid, &format!("host=h{i}"), sev), ts(i as i64)).await;
        }
        suppress(&db, "100.101", ts(9)).await;

        let mut queries = vec![query()];
        let mut q = query();
        q.include_suppressed = true;
        queries.push(q);
        let mut q = query();
        q.include_suppressed = true;
        q.filters = vec![(AlarmField::Severity, "critical".into())];
        queries.push(q);
        let mut q = query();
        q.include_suppressed = true;
        q.sort = vec![(AlarmField::EntityInstanceId, Dir::Desc)];
        q.limit = 2;
        let first = alarms(&db, q.clone()).await;
        queries.push(q.clone());
        q.marker = Some(first[1].alarm.uuid.clone());
        queries.push(q);
        for q in queries {
            let views = alarms(&db, q.clone()).await;
            assert!(!views.is_empty());
            let want: Vec<AlarmLine> = views.into_iter().map(AlarmLine::from).collect();
            assert_eq!(lines(&db, q).await, want);
        }
    })
    .await;
}
