//! host-bulk-add on every backend: a file whose every entry passes adds them
//! all (and provisions a discovered host in place); one bad entry anywhere
//! adds none, the error naming each problem; the active controller's entry
//! only sets its BMC attributes; export lists what can be added back.

use starling_common::Timestamp;
use starling_db::Db;
use starling_inventory::bulk::{self, BulkOutcome};
use starling_inventory::hwops::{self, Registration};
use starling_inventory::ops::{self, SystemSpec};
use starling_inventory::repo::{HostQuery, HostRef, InventoryRepo};
use starling_inventory::validate::NewHost;
use starling_inventory::{
    Administrative, Availability, BmType, Error, Operational, SystemMode, SystemType,
};
use starling_inventory_store::InventoryStore;

use crate::harness::each_backend;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + sec * 1_000_000)
}

/// A duplex system whose active controller-0 is in service (unlocked,
/// enabled), as host-bulk-add requires.
async fn bootstrap(db: &Db) {
    bootstrap_locked(db).await;
    db.write(|c| {
        let mut r = InventoryStore::new(c);
        let mut h = ops::host(&mut r, &HostRef::Name("controller-0".into()))?;
        h.administrative = Administrative::Unlocked;
        h.operational = Operational::Enabled;
        h.availability = Availability::Available;
        r.update_host(&h)
    })
    .await
    .unwrap();
}

/// The same with controller-0 still locked.
async fn bootstrap_locked(db: &Db) {
    let spec = SystemSpec {
        name: "edge-1".into(),
        system_type: SystemType::Standard,
        system_mode: SystemMode::Duplex,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| {
        let mut r = InventoryStore::new(c);
        ops::ensure_system(&mut r, &spec, ts(0))?;
        let mut s = r.system()?.expect("system");
        s.active_controller = Some("controller-0".into());
        r.update_system(&s)?;
        ops::add_host(
            &mut r,
            &NewHost {
                hostname: Some("controller-0".into()),
                personality: Some("controller".into()),
                mgmt_mac: Some("08:00:27:00:00:01".into()),
                ..NewHost::default()
            },
            ts(0),
        )
        .map(|_| ())
    })
    .await
    .unwrap();
}

async fn bulk_add(db: &Db, doc: &str) -> Result<BulkOutcome, Error> {
    let entries = bulk::parse(doc)?;
    db.write(move |c| bulk::bulk_add(&mut InventoryStore::new(c), &entries, ts(5)))
        .await
}

async fn names(db: &Db) -> Vec<String> {
    let hosts = db
        .read(|c| InventoryStore::new(c).hosts(&HostQuery::default()))
        .await
        .unwrap();
    hosts.iter().map(|h| h.display_name().to_string()).collect()
}

const BAD: &str = r#"<hosts>
  <host><hostname>worker-0</hostname><personality>worker</personality><mgmt_mac>08:00:27:00:00:10</mgmt_mac></host>
  <host><hostname>worker-1</hostname><personality>router</personality><mgmt_mac>08:00:27:00:00:11</mgmt_mac></host>
  <host><hostname>worker-2</hostname><personality>worker</personality><mgmt_mac>08:00:27:00:00:10</mgmt_mac></host>
  <host><hostname>controller-0</hostname><personality>controller</personality><mgmt_mac>08:00:27:00:00:13</mgmt_mac></host>
  <host><hostname>storage-0</hostname><personality>storage</personality><mgmt_mac>08:00:27:00:00:14</mgmt_mac><sw_version>2.0</sw_version></host>
  <host><hostname>worker-5</hostname><personality>worker</personality><mgmt_mac>08:00:27:00:00:15</mgmt_mac><hw_settle>5</hw_settle></host>
</hosts>"#;

#[tokio::test]
async fn bulk_add_is_all_or_nothing_and_names_every_problem() {
    each_backend(|db| async move {
        bootstrap(&db).await;
        let e = bulk_add(&db, BAD).await.unwrap_err().to_string();
        for want in [
            "no host was added",
            "host 2 (worker-1): Invalid personality 'router'",
            "host 3 (worker-2): mgmt_mac 08:00:27:00:00:10 is also given to host 1",
            "host 4 (controller-0): Host-add Rejected: Hostname controller-0 already exists",
            "host 5 (storage-0): sw_version 2.0 is not the system's (1.0)",
            "host 6 (worker-5): hw_settle '5' is not supported yet",
        ] {
            assert!(e.contains(want), "missing {want:?} in {e}");
        }
        assert!(!e.contains("host 1 "), "host 1 is fine: {e}");
        assert_eq!(names(&db).await, ["controller-0"], "nothing added");

        // A discovered host (registered by its agent) is provisioned in place.
        let discovered = db
            .write(|c| {
                hwops::register(
                    &mut InventoryStore::new(c),
                    &Registration {
                        hostname: "localhost".into(),
                        mgmt_mac: "08:00:27:00:00:12".into(),
                    },
                    ts(2),
                )
            })
            .await
            .unwrap()
            .0;
        let good = "hosts:\n\
            - {hostname: worker-0, personality: worker, mgmt_mac: '08:00:27:00:00:10', location: rack 1}\n\
            - {hostname: worker-1, personality: worker, mgmt_mac: '08:00:27:00:00:12'}\n\
            - {hostname: storage-0, personality: storage, mgmt_mac: '08:00:27:00:00:14', sw_version: '1.0'}\n\
            - {hostname: controller-0, personality: controller, mgmt_mac: '08:00:27:00:00:01', bm_type: redfish, bm_ip: 10.10.10.1, bm_username: root}\n";
        let out = bulk_add(&db, good).await.unwrap();
        let added: Vec<_> = out.added.iter().map(|h| h.display_name()).collect();
        assert_eq!(added, ["worker-0", "worker-1", "storage-0"]);
        assert_eq!(out.added[1].uuid, discovered.uuid, "provisioned in place");
        assert_eq!(out.added[0].location, "rack 1");
        assert_eq!(out.updated.len(), 1);
        assert_eq!(out.updated[0].bm_type, BmType::Redfish);
        assert_eq!(out.updated[0].bm_ip.as_deref(), Some("10.10.10.1"));

        // Export: controllers, storage, workers; then fed back to a system
        // holding only its controller, it adds the same hosts.
        let xml = db
            .read(|c| bulk::export(&mut InventoryStore::new(c)))
            .await
            .unwrap();
        let order: Vec<_> = bulk::parse(&xml)
            .unwrap()
            .iter()
            .map(|e| e.label())
            .collect();
        assert_eq!(
            order,
            [
                "host 1 (controller-0)",
                "host 2 (storage-0)",
                "host 3 (worker-0)",
                "host 4 (worker-1)"
            ]
        );
        assert!(xml.starts_with("<?xml") && xml.contains("<hosts version=\"1.0\">"), "{xml}");
        assert!(xml.contains("<bm_type>redfish</bm_type>"), "{xml}");
        for h in ["worker-0", "worker-1", "storage-0"] {
            db.write(move |c| ops::delete_host(&mut InventoryStore::new(c), &HostRef::Name(h.into())))
                .await
                .unwrap();
        }
        let again = bulk_add(&db, &xml).await.unwrap();
        assert_eq!(again.added.len(), 3);
        assert_eq!(again.added[1].location, "rack 1");
        assert_eq!(names(&db).await.len(), 4);

        // Simplex systems take no more hosts, by file either.
        db.write(|c| {
            let mut r = InventoryStore::new(c);
            let mut s = r.system()?.expect("system");
            s.system_mode = SystemMode::Simplex;
            r.update_system(&s)
        })
        .await
        .unwrap();
        let e = bulk_add(&db, good).await.unwrap_err().to_string();
        assert_eq!(e, "Bulk add on a simplex system is not allowed.");
    })
    .await;
}

/// Nothing is added until a controller is in service (unlocked and
/// enabled), as sysinv refuses it; the refusal adds nothing.
#[tokio::test]
async fn bulk_add_waits_for_a_controller_in_service() {
    each_backend(|db| async move {
        bootstrap_locked(&db).await;
        let one = "- {hostname: worker-0, personality: worker, mgmt_mac: '08:00:27:00:00:10'}\n";
        let e = bulk_add(&db, one).await.unwrap_err().to_string();
        assert_eq!(
            e,
            "Bulk_add requires enabled controller. Please unlock controller-0, wait for it to enable and then retry."
        );
        assert_eq!(names(&db).await, ["controller-0"]);
    })
    .await;
}
