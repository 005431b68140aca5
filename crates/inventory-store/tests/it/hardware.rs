//! Hardware stories on every backend: an agent registers, reports in full,
//! re-reports what changed; records keep their uuids; refused reports and
//! label requests change nothing; a deleted host takes its records along.

use starling_common::Timestamp;
use starling_db::Db;
use starling_inventory::hardware::*;
use starling_inventory::hwops::{self, Registration};
use starling_inventory::ops::{self, SystemSpec};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::{Administrative, Availability, Error, Host, SystemMode, SystemType};
use starling_inventory_store::InventoryStore;

use crate::harness::each_backend;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + sec * 1_000_000)
}

async fn bootstrap(db: &Db) {
    let spec = SystemSpec {
        name: "edge-1".into(),
        system_type: SystemType::Standard,
        system_mode: SystemMode::Duplex,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| ops::ensure_system(&mut InventoryStore::new(c), &spec, ts(0)).map(|_| ()))
        .await
        .unwrap();
}

/// A two-node host: 4 CPUs, memory per node, one disk with a partition,
/// two ports with an LLDP neighbour on the first, one accelerator.
pub fn full_report() -> Report {
    let cpu = |n: u32, core: u32, node: i64| Cpu {
        cpu: n,
        core,
        thread: 0,
        numa_node: node,
        cpu_family: "6".into(),
        cpu_model: "Intel(R) Xeon(R) Gold 6230".into(),
        ..Cpu::default()
    };
    let mem = |node: i64| Memory {
        numa_node: node,
        memtotal_mib: 30000,
        memavail_mib: 28000,
        platform_reserved_mib: 2000,
        node_memtotal_mib: 32768,
        vm_hugepages_nr_2m: 512,
        vm_hugepages_avail_2m: 512,
        vm_hugepages_use_1g: true,
        ..Memory::default()
    };
    let port = |name: &str, mac: &str, node: i64| Port {
        name: name.into(),
        pciaddr: "0000:3b:00.0".into(),
        pclass: "Ethernet controller".into(),
        pvendor: "Intel Corporation".into(),
        pdevice: "Ethernet Controller XXV710".into(),
        numa_node: node,
        driver: "i40e".into(),
        mac: mac.into(),
        mtu: 1500,
        speed: Some(25000),
        ..Port::default()
    };
    Report {
        inodes: Some(vec![
            Node {
                numa_node: 0,
                ..Node::default()
            },
            Node {
                numa_node: 1,
                ..Node::default()
            },
        ]),
        icpus: Some(vec![cpu(0, 0, 0), cpu(1, 1, 0), cpu(2, 0, 1), cpu(3, 1, 1)]),
        imemorys: Some(vec![mem(0), mem(1)]),
        idisks: Some(vec![Disk {
            device_node: "/dev/sda".into(),
            device_num: 2048,
            device_type: "SSD".into(),
            device_path: "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0".into(),
            size_mib: 457_862,
            available_mib: 100_000,
            rpm: "N/A".into(),
            serial_id: "S4XXNF0M".into(),
            ..Disk::default()
        }]),
        partitions: Some(vec![Partition {
            device_node: "/dev/sda1".into(),
            device_path: "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0-part1".into(),
            disk_path: "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0".into(),
            start_mib: 1,
            end_mib: 512,
            size_mib: 511,
            type_guid: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b".into(),
            type_name: "EFI system".into(),
            status: 1,
            ..Partition::default()
        }]),
        ports: Some(vec![
            port("eno1", "3c:fd:fe:00:00:01", 0),
            port("eno2", "3c:fd:fe:00:00:02", 1),
        ]),
        pci_devices: Some(vec![PciDevice {
            name: "pci_0000_b1_00_0".into(),
            pciaddr: "0000:b1:00.0".into(),
            pclass_id: "120000".into(),
            pvendor_id: "8086".into(),
            pdevice_id: "0d5c".into(),
            numa_node: 1,
            enabled: true,
            ..PciDevice::default()
        }]),
        lldp_agents: Some(vec![LldpAgent {
            port_name: "eno1".into(),
            status: "rx=enabled,tx=enabled".into(),
            ..LldpAgent::default()
        }]),
        lldp_neighbours: Some(vec![LldpNeighbour {
            port_name: "eno1".into(),
            msap: "aa:bb:cc:00:00:01,Ethernet1/1".into(),
            system_name: Some("tor-1".into()),
            ..LldpNeighbour::default()
        }]),
        uptime: Some(120),
    }
}

async fn send(db: &Db, id: i64, r: Report, at: i64) -> Result<hwops::ReportOutcome, Error> {
    db.write(move |c| {
        hwops::report_hardware(&mut InventoryStore::new(c), &HostRef::Id(id), &r, ts(at))
    })
    .await
}

async fn cpus(db: &Db, id: i64) -> Vec<Record<Cpu>> {
    db.read(move |c| hwops::records_of::<Cpu>(&mut InventoryStore::new(c), id))
        .await
        .unwrap()
}

async fn count_all(db: &Db, id: i64) -> usize {
    db.read(move |c| {
        let mut r = InventoryStore::new(c);
        let mut n = 0;
        for k in HwKind::ALL {
            n += r.hw(id, k)?.len();
        }
        Ok::<_, Error>(n)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn agent_registers_reports_and_re_reports_changes() {
    each_backend(|db| async move {
        bootstrap(&db).await;
        let reg = Registration {
            hostname: "localhost".into(),
            mgmt_mac: "52:54:00:AA:00:01".into(),
        };
        let r2 = reg.clone();
        let (h, new) = db
            .write(move |c| hwops::register(&mut InventoryStore::new(c), &r2, ts(1)))
            .await
            .unwrap();
        assert!(new);
        assert_eq!(h.hostname, None, "a discovered host is unprovisioned");
        assert_eq!(h.mgmt_mac, "52:54:00:aa:00:01");
        // Registering again finds the same host.
        let r2 = reg.clone();
        let (again, new) = db
            .write(move |c| hwops::register(&mut InventoryStore::new(c), &r2, ts(2)))
            .await
            .unwrap();
        assert!(!new);
        assert_eq!(again.uuid, h.uuid);

        let out = send(&db, h.id, full_report(), 3).await.unwrap();
        assert_eq!(out.host.inv_state, "inventoried");
        assert_eq!(out.host.availability, Availability::Online);
        assert_eq!(out.host.uptime, 120);
        assert!(out.event.is_some(), "coming online is logged");
        assert_eq!(out.changes.len(), 9);
        assert!(
            out.changes
                .iter()
                .all(|(_, d)| d.removed == 0 && d.updated == 0)
        );
        assert_eq!(
            count_all(&db, h.id).await,
            2 + 4 + 2 + 1 + 1 + 2 + 1 + 1 + 1
        );
        let first = cpus(&db, h.id).await;
        assert_eq!(
            first.iter().map(|c| c.item.cpu).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(first[0].item.allocated_function, "Platform");
        assert_eq!(first[1].item.allocated_function, "Application");

        // The same report again changes nothing.
        let out = send(&db, h.id, full_report(), 4).await.unwrap();
        assert!(
            out.changes.iter().all(|(_, d)| d.is_empty()),
            "{:?}",
            out.changes
        );
        assert!(out.event.is_none());

        // An audit carrying only the CPUs: CPU 3 gone, CPU 1's model changed.
        let mut r = full_report();
        let mut c = r.icpus.take().unwrap();
        c.pop();
        c[1].cpu_model = "changed".into();
        let audit = Report {
            icpus: Some(c),
            ..Report::default()
        };
        let out = send(&db, h.id, audit, 5).await.unwrap();
        assert_eq!(
            out.changes,
            vec![(
                HwKind::Cpu,
                Delta {
                    added: 0,
                    updated: 1,
                    removed: 1
                }
            )]
        );
        let after = cpus(&db, h.id).await;
        assert_eq!(after.len(), 3);
        assert_eq!(after[1].uuid, first[1].uuid, "a record keeps its uuid");
        assert_eq!(after[1].item.cpu_model, "changed");
        assert_eq!(after[1].updated_at, Some(ts(5)));
        assert_eq!(after[0], first[0], "unchanged records are not rewritten");

        // A host added later with another MAC under this hostname is a
        // contradiction for an agent with an unknown MAC.
        let e = db
            .write(|c| {
                hwops::register(
                    &mut InventoryStore::new(c),
                    &Registration {
                        hostname: "compute-9".into(),
                        mgmt_mac: "zz".into(),
                    },
                    ts(6),
                )
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("Invalid MAC"), "{e}");
    })
    .await;
}

#[tokio::test]
async fn contradictory_reports_change_nothing() {
    each_backend(|db| async move {
        bootstrap(&db).await;
        let (h, _) = db
            .write(|c| {
                hwops::register(
                    &mut InventoryStore::new(c),
                    &Registration {
                        hostname: "worker-x".into(),
                        mgmt_mac: "52:54:00:aa:00:02".into(),
                    },
                    ts(1),
                )
            })
            .await
            .unwrap();
        send(&db, h.id, full_report(), 2).await.unwrap();
        let before = count_all(&db, h.id).await;
        let before_cpus = cpus(&db, h.id).await;

        // Node 1 vanishes but CPUs on it are still reported.
        let mut r = full_report();
        r.inodes.as_mut().unwrap().pop();
        let e = send(&db, h.id, r, 3).await.unwrap_err();
        assert!(matches!(e, Error::Invalid(_)));
        assert!(
            e.to_string()
                .contains("NUMA node 1, which the host does not have"),
            "{e}"
        );

        // Node 1 vanishes in a report that does not carry the CPUs on it.
        let r = Report {
            inodes: Some(vec![Node::default()]),
            ..Report::default()
        };
        let e = send(&db, h.id, r, 3).await.unwrap_err();
        assert!(e.to_string().contains("still refer to"), "{e}");

        // A partition on a disk the host does not have, with valid CPUs
        // changed in the same report: neither is applied.
        let mut r = full_report();
        r.icpus.as_mut().unwrap()[0].cpu_model = "new".into();
        r.partitions.as_mut().unwrap()[0].disk_path = "/dev/disk/by-path/x".into();
        let e = send(&db, h.id, r, 3).await.unwrap_err();
        assert!(e.to_string().contains("disk '/dev/disk/by-path/x'"), "{e}");

        // A key too long for the store is refused, not truncated.
        let mut r = full_report();
        r.ports.as_mut().unwrap()[1].name = "p".repeat(300);
        let e = send(&db, h.id, r, 3).await.unwrap_err();
        assert!(e.to_string().contains("longer than 255"), "{e}");

        assert_eq!(count_all(&db, h.id).await, before);
        assert_eq!(cpus(&db, h.id).await, before_cpus);
    })
    .await;
}

async fn labels(
    db: &Db,
    id: i64,
    l: &[(&str, &str)],
    overwrite: bool,
) -> Result<Vec<Record<Label>>, Error> {
    let l: Vec<(String, String)> = l
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    db.write(move |c| {
        hwops::assign_labels(
            &mut InventoryStore::new(c),
            &HostRef::Id(id),
            &l,
            overwrite,
            ts(9),
        )
        .map(|(_, v)| v)
    })
    .await
}

#[tokio::test]
async fn labels_are_all_or_nothing_and_go_with_their_host() {
    each_backend(|db| async move {
        bootstrap(&db).await;
        let id = db
            .write(|c| {
                let mut r = InventoryStore::new(c);
                let id = r.next_host_id()?;
                let mut h = Host::new(
                    id,
                    starling_common::new_uuid(),
                    "52:54:00:aa:00:03".into(),
                    ts(1),
                );
                h.administrative = Administrative::Unlocked;
                r.insert_host(&h)?;
                Ok::<_, Error>(id)
            })
            .await
            .unwrap();
        let set = labels(&db, id, &[("zone", "a"), ("rack", "7")], false)
            .await
            .unwrap();
        assert_eq!(set.len(), 2);
        // An existing key without overwrite, or a key that needs a locked
        // host, refuses the whole request.
        let e = labels(&db, id, &[("row", "1"), ("zone", "b")], false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        let e = labels(
            &db,
            id,
            &[("row", "1"), ("kube-cpu-mgr-policy", "static")],
            false,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("must be locked"), "{e}");
        let stored = db
            .read(move |c| hwops::records_of::<Label>(&mut InventoryStore::new(c), id))
            .await
            .unwrap();
        assert_eq!(stored.len(), 2, "nothing of a refused request is kept");
        // Overwrite keeps the record.
        let over = labels(&db, id, &[("zone", "b")], true).await.unwrap();
        let zone = stored.iter().find(|l| l.item.label_key == "zone").unwrap();
        assert_eq!(over[0].uuid, zone.uuid);
        assert_eq!(over[0].item.label_value, "b");
        let u = zone.uuid.clone();
        let (_, gone) = db
            .write(move |c| hwops::remove_label(&mut InventoryStore::new(c), &u))
            .await
            .unwrap();
        assert_eq!(gone.item.label_key, "zone");
        let u = zone.uuid.clone();
        let e = db
            .write(move |c| hwops::remove_label(&mut InventoryStore::new(c), &u))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)));
        // Reports never touch labels; deleting the host removes everything.
        send(&db, id, full_report(), 10).await.unwrap();
        assert_eq!(count_all(&db, id).await, 15 + 1);
        db.write(move |c| InventoryStore::new(c).delete_host(id))
            .await
            .unwrap();
        assert_eq!(count_all(&db, id).await, 0);
    })
    .await;
}
