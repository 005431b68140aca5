//! A database that a release before per-component schemas left (one global
//! migration list, versions 1-6, in `starling_schema_migrations`) is taken
//! over in place on every backend: nothing is lost, no migration runs twice,
//! each is recorded for its component, and the schema ends exactly as a fresh
//! database's.

use starling_common::Timestamp;
use starling_db::testing::{self, schema_of};
use starling_db::{Db, StorageFailure};
use starling_fm::FaultInput;
use starling_fm::ops::{self as fm_ops, Limits};
use starling_fm::repo::FaultRepo;
use starling_fm_store::FmRepo;
use starling_identity::ops::{self as id_ops, BootstrapSpec};
use starling_identity::repo::IdentityRepo;
use starling_identity_store::IdentityStore;
use starling_inventory::ops::{self as inv_ops, SystemSpec};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::{SystemMode, SystemType};
use starling_inventory_store::InventoryStore;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + sec * 1_000_000)
}

fn fault_input() -> FaultInput {
    FaultInput {
        alarm_state: Some("set".into()),
        alarm_id: Some("100.101".into()),
        entity_instance_id: Some("host=controller-0".into()),
        severity: Some("major".into()),
        alarm_type: Some("operational-violation".into()),
        probable_cause: Some("threshold-crossed".into()),
        reason_text: Some("CPU threshold exceeded".into()),
        ..FaultInput::default()
    }
}

/// Writes one record of each service, as the old release would have.
async fn populate(db: &Db) -> String {
    let fault = fault_input().validate().unwrap();
    let set = db
        .write(move |c| fm_ops::set_alarm(&mut FmRepo::new(c), &fault, ts(0), Limits::default()))
        .await
        .unwrap();
    let spec = BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
        region: "RegionOne".into(),
        service_users: vec!["sysinv".into()],
        services: vec![],
    };
    db.write(move |c| id_ops::bootstrap(&mut IdentityStore::new(c), &spec, ts(0)))
        .await
        .unwrap();
    let system = SystemSpec {
        name: "edge-1".into(),
        system_type: SystemType::Standard,
        system_mode: SystemMode::Duplex,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| {
        let id = {
            let mut r = InventoryStore::new(c);
            inv_ops::ensure_system(&mut r, &system, ts(0))?;
            r.next_host_id()?
        };
        // A host as that release wrote it: its columns, not today's.
        c.exec(
            "INSERT INTO inv_host (id, uuid, hostname, personality, subfunctions, mgmt_mac, \
             mgmt_ip, serialid, location, bm_ip, bm_type, bm_username, boot_device, \
             rootfs_device, console, install_output, administrative, operational, \
             availability, invprovision, inv_state, task, ihost_action, uptime, \
             software_load, created_at, updated_at) VALUES (?, \
             '00000000-0000-4000-8000-000000000007', 'compute-0', 'worker', 'worker', \
             '08:00:27:00:00:01', NULL, '', '', NULL, 'none', NULL, '/dev/sda', '/dev/sda', \
             'ttyS0,115200', 'text', 'locked', 'disabled', 'offline', 'unprovisioned', '', \
             '', '', 0, '1.0', 1, NULL)",
            &[starling_db::Value::Int(id)],
        )?;
        Ok::<_, starling_inventory::Error>(())
    })
    .await
    .unwrap();
    set.uuid
}

/// `db`'s schema is exactly that of a fresh database on the same backend.
async fn same_schema_as_fresh(db: &Db, backend: &str) {
    let fresh_db = testing::database(backend);
    let fresh = Db::open(
        &fresh_db.url,
        testing::tuning(),
        &starling_server::schemas(),
    )
    .await
    .unwrap();
    assert_eq!(schema_of(db).await, schema_of(&fresh).await, "{backend}");
}

async fn recorded(db: &Db) -> Vec<(String, i64)> {
    db.read(|c| {
        let mut v: Vec<(String, i64)> = c
            .query("SELECT component, version FROM starling_migrations", &[])?
            .into_iter()
            .map(|mut r| Ok((r.take_text(0)?, r.int(1)?)))
            .collect::<Result<_, StorageFailure>>()?;
        v.sort();
        Ok::<_, StorageFailure>(v)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_database_of_the_single_schema_list_is_taken_over_in_place() {
    for (name, tdb) in testing::databases() {
        // Before: the six global migrations, and a record of each service.
        let old = Db::open_legacy(&tdb.url, testing::tuning(), &starling_server::schemas(), 6)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let alarm = populate(&old).await;
        drop(old);

        // After: opened as this release opens it. A migration run twice
        // would fail here (its tables exist).
        let db = Db::open(&tdb.url, testing::tuning(), &starling_server::schemas())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want: Vec<(String, i64)> = [
            // Not in the single list: new since.
            ("config", 1),
            ("config", 2),
            ("config", 3),
            ("config", 4),
            ("config", 5),
            ("fm", 1),
            ("fm", 2),
            ("fm", 3),
            ("identity", 1),
            ("inventory", 1),
            ("inventory", 2),
            // Not in the single list: new since.
            ("inventory", 3),
            ("inventory", 4),
            ("inventory", 5),
        ]
        .iter()
        .map(|(c, v)| (c.to_string(), *v))
        .collect();
        assert_eq!(recorded(&db).await, want, "{name}");

        let a = alarm.clone();
        let found = db
            .read(move |c| FmRepo::new(c).alarm_by_uuid(&a))
            .await
            .unwrap();
        assert_eq!(
            found.map(|a| a.reason_text),
            Some("CPU threshold exceeded".into()),
            "{name}"
        );
        let admin = db
            .read(|c| IdentityStore::new(c).user_by_name("default", "admin"))
            .await
            .unwrap();
        assert!(admin.is_some(), "{name}: the admin user survives");
        let host = db
            .read(|c| InventoryStore::new(c).host(&HostRef::Name("compute-0".into())))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: the host survives"));
        // The host id sequence carries on: ids are never reused.
        let next = db
            .write(|c| InventoryStore::new(c).next_host_id())
            .await
            .unwrap();
        assert!(next > host.id, "{name}: {next} after {}", host.id);

        // The schema is exactly a fresh database's (on MariaDB, the old
        // padding collation is gone: keys compare exactly).
        same_schema_as_fresh(&db, name).await;
        // An alarm at "host=controller-0 " is not the stored one at
        // "host=controller-0" (the padding collation took them for one).
        let padded = FaultInput {
            entity_instance_id: Some("host=controller-0 ".into()),
            ..fault_input()
        }
        .validate()
        .unwrap();
        let set = db
            .write(move |c| {
                fm_ops::set_alarm(&mut FmRepo::new(c), &padded, ts(2), Limits::default())
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(set.created && set.uuid != alarm, "{name}");

        // And opening again changes nothing.
        drop(db);
        let db = Db::open(&tdb.url, testing::tuning(), &starling_server::schemas())
            .await
            .unwrap();
        assert_eq!(recorded(&db).await, want, "{name}");
    }
}

/// A database of the old list stopped before FM's re-keying (global 6) gets
/// just that migration, run for real, and keeps its alarm.
#[tokio::test]
async fn a_database_of_an_older_single_list_release_gets_only_what_it_lacks() {
    for (name, tdb) in testing::databases() {
        let old = Db::open_legacy(&tdb.url, testing::tuning(), &starling_server::schemas(), 5)
            .await
            .unwrap();
        let alarm = populate(&old).await;
        drop(old);
        let db = Db::open(&tdb.url, testing::tuning(), &starling_server::schemas())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(recorded(&db).await.len(), 14, "{name}");
        let a = alarm.clone();
        let found = db
            .read(move |c| FmRepo::new(c).alarm_by_uuid(&a))
            .await
            .unwrap();
        assert!(found.is_some(), "{name}");
        same_schema_as_fresh(&db, name).await;
    }
}
