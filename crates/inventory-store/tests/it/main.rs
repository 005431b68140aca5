//! Inventory stories on every backend: the system record, host-add and its
//! refusals, actions with their effects, ids that are never reused, delete.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk;
mod hardware;

/// The backend harness, every story on a database migrated to this crate's schema.
mod harness {
    pub async fn each_backend<F, Fut>(body: F)
    where
        F: Fn(starling_db::Db) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        starling_db::testing::each_backend(&[starling_inventory_store::SCHEMA], body).await
    }
}

use starling_common::Timestamp;
use starling_db::Db;
use starling_inventory::lifecycle::{AgentCommand, AlarmChange};
use starling_inventory::ops::{self, SystemSpec};
use starling_inventory::repo::{HostQuery, HostRef, InventoryRepo};
use starling_inventory::validate::NewHost;
use starling_inventory::{
    Action, Administrative, Availability, Error, Host, Operational, Personality, SystemMode,
    SystemType,
};
use starling_inventory_store::InventoryStore;

use crate::harness::each_backend;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + sec * 1_000_000)
}

async fn bootstrap(db: &Db, mode: SystemMode) {
    let spec = SystemSpec {
        name: "edge-1".into(),
        system_type: SystemType::Standard,
        system_mode: mode,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| {
        let mut r = InventoryStore::new(c);
        ops::ensure_system(&mut r, &spec, ts(0))?;
        // The first controller is the active one.
        let mut s = r.system()?.expect("system");
        s.active_controller = Some("controller-0".into());
        r.update_system(&s)
    })
    .await
    .unwrap();
}

fn new_host(name: &str, personality: &str, mac: &str) -> NewHost {
    NewHost {
        hostname: Some(name.into()),
        personality: Some(personality.into()),
        mgmt_mac: Some(mac.into()),
        ..NewHost::default()
    }
}

async fn add(db: &Db, req: NewHost) -> Result<Host, Error> {
    db.write(move |c| ops::add_host(&mut InventoryStore::new(c), &req, ts(1)))
        .await
}

async fn act(
    db: &Db,
    r: HostRef,
    a: Action,
) -> Result<starling_inventory::lifecycle::Transition, Error> {
    db.write(move |c| ops::act(&mut InventoryStore::new(c), &r, a, false, ts(2)))
        .await
}

/// Marks a host as its agent would once it reported: online, inventoried.
async fn report(db: &Db, id: i64) {
    db.write(move |c| {
        let mut r = InventoryStore::new(c);
        let mut h = r.host(&HostRef::Id(id))?.expect("host");
        h.availability = Availability::Online;
        h.inv_state = "inventoried".into();
        r.update_host(&h)
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn host_add_lock_unlock_delete() {
    each_backend(|db| async move {
        bootstrap(&db, SystemMode::Duplex).await;
        let c0 = add(
            &db,
            new_host("controller-0", "controller", "08:00:27:00:00:01"),
        )
        .await
        .unwrap();
        assert_eq!(c0.id, 1);
        assert_eq!(c0.subfunctions, "controller");
        let w = add(&db, new_host("compute-0", "worker", "08:00:27:AA:00:02"))
            .await
            .unwrap();
        assert_eq!(w.id, 2);
        assert_eq!(w.mgmt_mac, "08:00:27:aa:00:02", "canonical MAC");
        assert_eq!(
            (w.administrative, w.operational, w.availability),
            (
                Administrative::Locked,
                Operational::Disabled,
                Availability::Offline
            )
        );
        // Duplicates are a 400 naming the problem; nothing is written.
        let e = add(&db, new_host("compute-0", "worker", "08:00:27:00:00:09"))
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("Hostname compute-0 already exists"),
            "{e}"
        );
        let e = add(&db, new_host("compute-1", "worker", "08:00:27:aa:00:02"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("mgmt_mac"), "{e}");
        let all = db
            .read(|c| InventoryStore::new(c).hosts(&HostQuery::default()))
            .await
            .unwrap();
        assert_eq!(all.len(), 2);

        // Unlock needs the agent's report; then lock raises 200.001.
        let e = act(&db, HostRef::Name("compute-0".into()), Action::Unlock)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("online"), "{e}");
        report(&db, w.id).await;
        let t = act(&db, HostRef::Uuid(w.uuid.clone()), Action::Unlock)
            .await
            .unwrap();
        assert_eq!(t.alarm, Some(AlarmChange::ClearLocked));
        let stored = db
            .read(move |c| InventoryStore::new(c).host(&HostRef::Id(2)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.administrative, Administrative::Unlocked);
        assert_eq!(stored.availability, Availability::Available);
        assert_eq!(stored.updated_at, Some(ts(2)));
        let e = db
            .write(|c| ops::delete_host(&mut InventoryStore::new(c), &HostRef::Id(2)))
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("administrative state = unlocked"),
            "{e}"
        );
        let t = act(&db, HostRef::Id(2), Action::Lock).await.unwrap();
        assert_eq!(t.alarm, Some(AlarmChange::RaiseLocked));

        // Reboot goes to the agent and is tracked until it reports back.
        let t = act(&db, HostRef::Id(2), Action::Reboot).await.unwrap();
        assert_eq!(t.command, Some(AgentCommand::Reboot));
        let e = act(&db, HostRef::Id(2), Action::PowerOff)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("busy"), "{e}");
        let done = db
            .write(|c| {
                ops::complete(
                    &mut InventoryStore::new(c),
                    &HostRef::Id(2),
                    AgentCommand::Reboot,
                    true,
                    ts(3),
                )
            })
            .await
            .unwrap();
        assert_eq!(done.host.task, "");

        // The active controller cannot be locked on a duplex system.
        report(&db, c0.id).await;
        act(&db, HostRef::Id(1), Action::Unlock).await.unwrap();
        let e = act(&db, HostRef::Id(1), Action::Lock).await.unwrap_err();
        assert_eq!(e.to_string(), "Can not lock an active controller.");

        // Delete, and ids are never reused.
        db.write(|c| ops::delete_host(&mut InventoryStore::new(c), &HostRef::Id(2)))
            .await
            .unwrap();
        let again = add(&db, new_host("compute-0", "worker", "08:00:27:aa:00:02"))
            .await
            .unwrap();
        assert_eq!(again.id, 3);
        let e = db
            .write(|c| ops::delete_host(&mut InventoryStore::new(c), &HostRef::Id(99)))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)));
    })
    .await;
}

#[tokio::test]
async fn simplex_refuses_hosts_and_discovered_hosts_are_provisioned_in_place() {
    each_backend(|db| async move {
        bootstrap(&db, SystemMode::Simplex).await;
        let e = add(&db, new_host("compute-0", "worker", "08:00:27:00:00:02"))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Adding a host on a simplex system is not allowed."
        );
    })
    .await;
    each_backend(|db| async move {
        bootstrap(&db, SystemMode::Duplex).await;
        // A host that registered without being added: no hostname yet.
        let id = db
            .write(|c| {
                let mut r = InventoryStore::new(c);
                let id = r.next_host_id()?;
                r.insert_host(&Host::new(
                    id,
                    starling_common::new_uuid(),
                    "08:00:27:00:00:05".into(),
                    ts(0),
                ))?;
                Ok::<_, Error>(id)
            })
            .await
            .unwrap();
        let h = add(&db, new_host("compute-5", "worker", "08:00:27:00:00:05"))
            .await
            .unwrap();
        assert_eq!(h.id, id, "the discovered row is provisioned");
        assert_eq!(h.personality, Some(Personality::Worker));
        let hosts = db
            .read(|c| {
                InventoryStore::new(c).hosts(&HostQuery {
                    personality: Some(Personality::Worker),
                    ..HostQuery::default()
                })
            })
            .await
            .unwrap();
        assert_eq!(hosts.len(), 1);
        // Paging by id.
        for i in 0..5 {
            add(
                &db,
                new_host(&format!("w-{i}"), "worker", &format!("08:00:27:00:01:0{i}")),
            )
            .await
            .unwrap();
        }
        let page = db
            .read(move |c| {
                InventoryStore::new(c).hosts(&HostQuery {
                    after_id: Some(id + 1),
                    limit: Some(2),
                    ..HostQuery::default()
                })
            })
            .await
            .unwrap();
        assert_eq!(
            page.iter().map(|h| h.id).collect::<Vec<_>>(),
            vec![id + 2, id + 3]
        );
    })
    .await;
}

async fn update(db: &Db, r: HostRef, changes: &[(&str, Option<&str>)]) -> Result<Host, Error> {
    let changes: Vec<(String, Option<String>)> = changes
        .iter()
        .map(|(a, v)| ((*a).to_string(), v.map(str::to_string)))
        .collect();
    db.write(move |c| ops::update_host(&mut InventoryStore::new(c), &r, &changes, ts(3)))
        .await
}

#[tokio::test]
async fn host_update_rechecks_the_whole_host_and_lists_sort_and_page() {
    each_backend(|db| async move {
        bootstrap(&db, SystemMode::Duplex).await;
        let a = add(&db, new_host("compute-1", "worker", "08:00:27:00:00:11"))
            .await
            .unwrap();
        add(&db, new_host("compute-0", "worker", "08:00:27:00:00:12"))
            .await
            .unwrap();
        add(&db, new_host("storage-0", "storage", "08:00:27:00:00:13"))
            .await
            .unwrap();

        let u = update(
            &db,
            HostRef::Id(a.id),
            &[
                ("location", Some("rack 2")),
                ("bm_ip", Some("10.1.1.1")),
                ("bm_username", Some("root")),
                ("bm_type", Some("redfish")),
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            (u.location.as_str(), u.bm_ip.as_deref()),
            ("rack 2", Some("10.1.1.1"))
        );
        assert_eq!(u.updated_at, Some(ts(3)));
        // Each refusal names the problem and leaves the host as it was.
        for (changes, needle) in [
            (vec![("hostname", Some("compute-0"))], "already exists"),
            (
                vec![("mgmt_mac", Some("08:00:27:00:00:13"))],
                "already exists",
            ),
            (vec![("personality", Some("storage"))], "cannot change"),
            (vec![("bm_ip", None)], "needs bm_ip"),
            (vec![("uptime", Some("5"))], "cannot be changed"),
            (vec![("colour", Some("red"))], "Unknown attribute"),
        ] {
            let e = update(&db, HostRef::Id(a.id), &changes).await.unwrap_err();
            assert!(e.to_string().contains(needle), "{changes:?}: {e}");
        }
        let same = db
            .read(move |c| ops::host(&mut InventoryStore::new(c), &HostRef::Id(a.id)))
            .await
            .unwrap();
        assert_eq!(same, u);
        // Unlocked hosts keep their name.
        report(&db, a.id).await;
        act(&db, HostRef::Id(a.id), Action::Unlock).await.unwrap();
        let e = update(&db, HostRef::Id(a.id), &[("hostname", Some("compute-5"))])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("must be locked"), "{e}");

        let page = |sort, desc, marker: Option<String>, limit| {
            let db = db.clone();
            async move {
                db.read(move |c| {
                    ops::list_hosts(
                        &mut InventoryStore::new(c),
                        None,
                        sort,
                        desc,
                        marker.as_deref(),
                        limit,
                    )
                })
                .await
                .unwrap()
            }
        };
        let names = |p: &ops::HostPage| -> Vec<String> {
            p.hosts
                .iter()
                .map(|h| h.display_name().to_string())
                .collect()
        };
        let p = page(ops::HostSort::Hostname, false, None, 2).await;
        assert_eq!(names(&p), ["compute-0", "compute-1"]);
        assert!(p.more);
        let p = page(
            ops::HostSort::Hostname,
            false,
            Some(p.hosts[1].uuid.clone()),
            2,
        )
        .await;
        assert_eq!((names(&p), p.more), (vec!["storage-0".to_string()], false));
        let p = page(ops::HostSort::Administrative, true, None, 10).await;
        assert_eq!(
            p.hosts[0].display_name(),
            "compute-1",
            "the unlocked one first, descending"
        );
    })
    .await;
}

#[tokio::test]
async fn the_first_controller_is_bootstrapped_once_even_on_simplex() {
    each_backend(|db| async move {
        let spec = SystemSpec {
            name: "edge-1".into(),
            system_type: SystemType::AllInOne,
            system_mode: SystemMode::Simplex,
            software_version: "1.0".into(),
            region_name: "RegionOne".into(),
        };
        db.write(move |c| {
            ops::ensure_system(&mut InventoryStore::new(c), &spec, ts(0)).map(|_| ())
        })
        .await
        .unwrap();
        let boot_on = |name: &'static str, mac: &'static str, disk: Option<&'static str>| {
            let db = db.clone();
            async move {
                db.write(move |c| {
                    ops::bootstrap_controller(&mut InventoryStore::new(c), name, mac, disk, ts(1))
                })
                .await
            }
        };
        let boot = |name, mac| boot_on(name, mac, None);
        // Refusals change nothing.
        let e = boot("worker-0", "08:00:27:00:00:01")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("worker-0"), "{e}");
        let e = boot("controller-0", "ff:ff:ff:ff:ff:ff")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("MAC"), "{e}");

        // The agent registered first: its host is provisioned in place.
        let (discovered, _) = db
            .write(|c| {
                starling_inventory::hwops::register(
                    &mut InventoryStore::new(c),
                    &starling_inventory::hwops::Registration {
                        hostname: "localhost".into(),
                        mgmt_mac: "08:00:27:00:00:01".into(),
                    },
                    ts(0),
                )
            })
            .await
            .unwrap();
        let e = boot_on("controller-0", "08:00:27:00:00:01", Some("vda"))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("boot_device"), "{e}");
        // It boots from the disk its root filesystem is on, and says so
        // (and so does the hosts file it is exported into).
        let h = boot_on("controller-0", "08:00:27:00:00:01", Some("/dev/vda"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(h.uuid, discovered.uuid);
        assert_eq!(
            (h.boot_device.as_str(), h.rootfs_device.as_str()),
            ("/dev/vda", "/dev/vda")
        );
        let file = db
            .read(|c| starling_inventory::bulk::export(&mut InventoryStore::new(c)))
            .await
            .unwrap();
        assert!(
            file.contains("<boot_device>/dev/vda</boot_device>"),
            "{file}"
        );
        assert_eq!(h.personality, Some(Personality::Controller));
        assert_eq!(h.subfunctions, "controller,worker");
        assert_eq!(h.administrative, Administrative::Locked);
        let sys = db
            .read(|c| InventoryStore::new(c).system())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sys.active_controller.as_deref(), Some("controller-0"));
        // Once there is a controller, nothing more happens.
        assert_eq!(
            boot("controller-0", "08:00:27:00:00:01").await.unwrap(),
            None
        );
        assert_eq!(
            boot("controller-1", "08:00:27:00:00:09").await.unwrap(),
            None
        );
        let all = db
            .read(|c| InventoryStore::new(c).hosts(&HostQuery::default()))
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
    })
    .await;
}

/// What host maintenance decides changes an unlocked host, as StarlingX
/// shows it (availability, operational state, task), and leaves a locked
/// one alone; the host's sealed BMC password is kept apart and goes with
/// the host.
#[tokio::test]
async fn maintenance_decisions_change_only_unlocked_hosts() {
    each_backend(|db| async move {
        use starling_inventory::ops::Health;
        bootstrap(&db, SystemMode::Duplex).await;
        add(
            &db,
            new_host("controller-0", "controller", "08:00:27:00:00:01"),
        )
        .await
        .unwrap();
        let w = add(&db, new_host("compute-0", "worker", "08:00:27:00:00:02"))
            .await
            .unwrap();
        let observe_task = |health: Health, task: &'static str| {
            let uuid = w.uuid.clone();
            let db = db.clone();
            async move {
                db.write(move |c| {
                    ops::maintain(&mut InventoryStore::new(c), &uuid, health, task, ts(3))
                })
                .await
                .unwrap()
            }
        };
        let observe = |health: Health| observe_task(health, "");
        // Locked: nothing changes.
        let (h, ev) = observe(Health::Failed).await;
        assert_eq!((h.availability, ev), (Availability::Offline, None));
        report(&db, w.id).await;
        act(&db, HostRef::Id(w.id), Action::Unlock).await.unwrap();
        let (h, ev) = observe(Health::Failed).await;
        assert_eq!(
            (h.operational, h.availability),
            (Operational::Disabled, Availability::Failed)
        );
        assert_eq!(ev.unwrap().text, "compute-0 is now 'failed'");
        // The same again: no change, nothing to log.
        assert_eq!(observe(Health::Failed).await.1, None);
        let (h, _) = observe(Health::Degraded).await;
        assert_eq!(
            (h.operational, h.availability),
            (Operational::Enabled, Availability::Degraded)
        );
        let (h, ev) = observe(Health::Available).await;
        assert_eq!(
            (h.operational, h.availability),
            (Operational::Enabled, Availability::Available)
        );
        assert_eq!(ev.unwrap().text, "compute-0 is now 'available'");
        let stored = db
            .read(move |c| InventoryStore::new(c).host(&HostRef::Id(w.id)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.availability, Availability::Available);
        // A task alone changes without a log.
        let (h, ev) = observe_task(Health::Available, "Graceful Recovery Wait").await;
        assert_eq!((h.task.as_str(), ev), ("Graceful Recovery Wait", None));
        let (h, ev) = observe_task(Health::Intest, "Enabling").await;
        assert_eq!(
            (h.operational, h.availability, h.task.as_str()),
            (Operational::Disabled, Availability::Intest, "Enabling")
        );
        assert_eq!(ev.unwrap().text, "compute-0 is now 'intest'");

        // The sealed BMC password: set, replaced, removed; gone with the
        // host.
        let id = w.id;
        let secret = move |sealed: Option<&'static str>| {
            let db = db.clone();
            async move {
                db.write(move |c| {
                    let mut r = InventoryStore::new(c);
                    if let Some(s) = sealed {
                        r.set_bmc_secret(id, Some(s), ts(4))?;
                    }
                    r.bmc_secret(id)
                })
                .await
                .unwrap()
            }
        };
        assert_eq!(secret(None).await, None);
        assert_eq!(secret(Some("v1:aa")).await.as_deref(), Some("v1:aa"));
        assert_eq!(secret(Some("v1:bb")).await.as_deref(), Some("v1:bb"));
    })
    .await;
}

/// Configuration's marks: written only when they change, shown on the host,
/// and a database of the release before them (migration 4) takes them on
/// with its hosts intact.
#[tokio::test]
async fn configuration_marks_hosts_and_older_databases_take_them_on() {
    each_backend(|db| async move {
        bootstrap(&db, SystemMode::Duplex).await;
        let h = add(&db, new_host("compute-0", "worker", "08:00:27:00:00:01"))
            .await
            .unwrap();
        assert_eq!(h.config_target, None);
        let marks = [
            Some("8f0e0d0c-0b0a-4908-8706-050403020100".to_string()),
            Some("install".to_string()),
            Some("Config out-of-date".to_string()),
            Some("dns: /etc/resolv.conf: read-only".to_string()),
        ];
        let uuid = h.uuid.clone();
        let m = marks.clone();
        let wrote = db
            .write(move |c| {
                ops::mark_config(&mut InventoryStore::new(c), &uuid, m.clone(), false, ts(3))
            })
            .await
            .unwrap()
            .written;
        assert!(wrote);
        let uuid = h.uuid.clone();
        let m = marks.clone();
        let again = db
            .write(move |c| {
                ops::mark_config(&mut InventoryStore::new(c), &uuid, m.clone(), false, ts(4))
            })
            .await
            .unwrap()
            .written;
        assert!(!again, "the same marks write nothing");
        let id = h.id;
        let h = db
            .read(move |c| InventoryStore::new(c).host(&HostRef::Id(id)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            [
                h.config_target,
                h.config_applied,
                h.config_status,
                h.config_failure
            ],
            marks
        );
        assert_eq!(h.updated_at, Some(ts(3)));
    })
    .await;
    // The upgrade over data, on every backend.
    for (backend, tdb) in starling_db::testing::databases() {
        let before = starling_db::Schema::new(
            starling_inventory_store::SCHEMA.component,
            &starling_inventory_store::SCHEMA.migrations[..4],
        );
        let old = Db::open(&tdb.url, starling_db::testing::tuning(), &[before])
            .await
            .unwrap();
        bootstrap(&old, SystemMode::Duplex).await;
        // A host as that release wrote it (its columns, not today's).
        old.write(|c| {
            c.exec(
                "INSERT INTO inv_host (id, uuid, hostname, personality, subfunctions, mgmt_mac, \
                 mgmt_ip, serialid, location, bm_ip, bm_type, bm_username, boot_device, \
                 rootfs_device, console, install_output, administrative, operational, \
                 availability, invprovision, inv_state, task, ihost_action, uptime, \
                 software_load, created_at, updated_at) VALUES (7, \
                 '00000000-0000-4000-8000-000000000007', 'compute-0', 'worker', 'worker', \
                 '08:00:27:00:00:01', NULL, '', '', NULL, 'none', NULL, '/dev/sda', '/dev/sda', \
                 'ttyS0,115200', 'text', 'locked', 'disabled', 'offline', 'unprovisioned', '', \
                 '', '', 0, '1.0', 1, NULL)",
                &[],
            )
        })
        .await
        .unwrap();
        drop(old);
        let db = Db::open(
            &tdb.url,
            starling_db::testing::tuning(),
            &[starling_inventory_store::SCHEMA],
        )
        .await
        .unwrap();
        let h = db
            .read(|c| InventoryStore::new(c).host(&HostRef::Name("compute-0".into())))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{backend}: the host survives the upgrade"));
        assert_eq!(h.config_target, None, "{backend}");
        assert_eq!(h.mgmt_mac, "08:00:27:00:00:01", "{backend}");
    }
}

/// An unlock owed configuration waits for it (task `Configuring`):
/// maintenance leaves the host alone meanwhile; the marks of an apply let
/// it go on (tested by maintenance, or enabled), those of a failure lock it
/// again with 200.001.
#[tokio::test]
async fn an_unlock_waits_for_the_configuration_it_is_owed() {
    each_backend(|db| async move {
        bootstrap(&db, SystemMode::Duplex).await;
        let target = "81a2510d-a39b-7717-8d21-24f8b591c112".to_string();
        let runtime = "01a2510d-a39b-7717-8d21-24f8b591c112".to_string();
        let mut ids = Vec::new();
        for (i, name) in ["compute-0", "compute-1", "compute-2"].iter().enumerate() {
            let h = add(
                &db,
                new_host(name, "worker", &format!("08:00:27:00:00:1{i}")),
            )
            .await
            .unwrap();
            report(&db, h.id).await;
            let (uuid, t, r) = (h.uuid.clone(), target.clone(), runtime.clone());
            db.write(move |c| {
                let m = [
                    Some(t.clone()),
                    Some(r.clone()),
                    Some("Config out-of-date".into()),
                    None,
                ];
                ops::mark_config(&mut InventoryStore::new(c), &uuid, m, false, ts(3))
            })
            .await
            .unwrap();
            let t = act(&db, HostRef::Id(h.id), Action::Unlock).await.unwrap();
            assert_eq!(t.host.task, starling_inventory::lifecycle::CONFIGURING);
            assert_eq!(t.host.availability, Availability::Intest);
            ids.push(h);
        }
        // Maintenance's decisions leave a configuring host alone.
        let u = ids[0].uuid.clone();
        let (h, ev) = db
            .write(move |c| {
                ops::maintain(
                    &mut InventoryStore::new(c),
                    &u,
                    ops::Health::Available,
                    "",
                    ts(4),
                )
            })
            .await
            .unwrap();
        assert_eq!((h.task.as_str(), ev), ("Configuring", None));
        let mark = |i: usize, applied: &str, failure: Option<&str>, maintained: bool| {
            let uuid = ids[i].uuid.clone();
            let m = [
                Some(target.clone()),
                Some(applied.to_string()),
                (applied != target).then(|| "Config out-of-date".to_string()),
                failure.map(String::from),
            ];
            let db = db.clone();
            async move {
                db.write(move |c| {
                    ops::mark_config(
                        &mut InventoryStore::new(c),
                        &uuid,
                        m.clone(),
                        maintained,
                        ts(5),
                    )
                })
                .await
                .unwrap()
            }
        };
        // Applied: enabled at once, or tested first by maintenance.
        let m = mark(0, &target, None, false).await;
        assert_eq!(
            (
                m.host.operational,
                m.host.availability,
                m.host.task.as_str()
            ),
            (Operational::Enabled, Availability::Available, "")
        );
        assert!(m.event.unwrap().text.contains("applied its configuration"));
        let m = mark(1, &target, None, true).await;
        assert_eq!(
            (m.host.availability, m.host.task.as_str()),
            (Availability::Intest, "Testing")
        );
        // Failed: locked again, 200.001 back, the reason logged.
        let m = mark(
            2,
            &runtime,
            Some("ntp: /etc/chrony.conf: read-only file system"),
            false,
        )
        .await;
        assert_eq!(
            (
                m.host.administrative,
                m.host.availability,
                m.host.task.as_str()
            ),
            (Administrative::Locked, Availability::Online, "")
        );
        assert_eq!(m.alarm, Some(AlarmChange::RaiseLocked));
        assert!(
            m.event
                .unwrap()
                .text
                .contains("ntp: /etc/chrony.conf: read-only file system")
        );
    })
    .await;
}
