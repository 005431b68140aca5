//! Discovery on fixture roots: this CI machine as captured by
//! `fixtures/capture.sh` (a one-node virtio VM), a dual-socket server laid
//! out as sysfs shows a two-node Xeon Gold 6230 (R740-class) with SATA and
//! NVMe disks, SR-IOV NICs and a QAT card, and the live machine. Every
//! report must pass the controller's own checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use starling_agent::{Root, changes, identity, report};
use starling_inventory::hardware::{Known, check_references, check_report};
use starling_inventory_types::hardware::Report;

fn fixture(name: &str) -> Root {
    Root::new(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
}

/// The report passes the checks the inventory API applies.
fn accepted(r: &Report) {
    let r = &starling_inventory_api::convert::report(r.clone());
    check_report(r).unwrap();
    let known = Known {
        nodes: r.inodes.iter().flatten().map(|n| n.numa_node).collect(),
        disks: r
            .idisks
            .iter()
            .flatten()
            .map(|d| d.path_or_node().to_string())
            .collect(),
        ports: r.ports.iter().flatten().map(|p| p.name.clone()).collect(),
    };
    check_references(r, &known).unwrap();
    assert!(r.is_full());
}

#[test]
fn this_machine_as_captured() {
    let root = fixture("vm-virtio-1node");
    let r = report(&root).unwrap();
    accepted(&r);
    assert_eq!(r.inodes.as_ref().unwrap().len(), 1);
    let cpus = r.icpus.as_ref().unwrap();
    assert_eq!(cpus.len(), 2);
    assert_eq!(cpus[1].cpu, 1);
    assert_eq!(cpus[1].core, 1);
    assert_eq!(cpus[0].cpu_model, "AMD EPYC");
    assert_eq!(cpus[0].cpu_family, "25");
    let mem = &r.imemorys.as_ref().unwrap()[0];
    assert_eq!(mem.node_memtotal_mib, 6874);
    assert!(mem.vm_hugepages_use_1g);
    // Only the virtio disk: loop and zram devices are not disks.
    let disks = r.idisks.as_ref().unwrap();
    assert_eq!(disks.len(), 1, "{disks:#?}");
    assert_eq!(disks[0].device_node, "/dev/vda");
    assert_eq!(disks[0].device_path, "/dev/disk/by-path/pci-0000:00:02.0");
    assert_eq!(disks[0].device_num, 65024);
    assert_eq!(disks[0].size_mib, 262_144);
    assert_eq!(disks[0].device_type, "HDD");
    // Only the PCI NIC: lo and the ifb devices are virtual.
    let ports = r.ports.as_ref().unwrap();
    assert_eq!(ports.len(), 1, "{ports:#?}");
    let p = &ports[0];
    assert_eq!(
        (
            p.name.as_str(),
            p.pciaddr.as_str(),
            p.mac.as_str(),
            p.driver.as_str(),
            p.mtu,
            p.numa_node
        ),
        (
            "eth0",
            "0000:00:03.0",
            "02:fc:00:00:00:01",
            "virtio_net",
            1400,
            -1
        )
    );
    assert_eq!(p.speed, None, "virtio reports no speed");
    assert_eq!(r.pci_devices.as_ref().unwrap().len(), 0);
    let id = identity(&root, None).unwrap();
    assert_eq!(
        (id.hostname.as_str(), id.mgmt_mac.as_str()),
        ("vm", "02:fc:00:00:00:01")
    );
    assert!(identity(&root, Some("eth9")).is_err());
}

/// Writes a file (and its directories) under `d`.
fn w(d: &Path, p: &str, text: &str) {
    let f = d.join(p.trim_start_matches('/'));
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(f, format!("{text}\n")).unwrap();
}

/// A symbolic link under `d`.
fn l(d: &Path, p: &str, target: &str) {
    let f = d.join(p.trim_start_matches('/'));
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, f).unwrap();
}

struct Tmp(PathBuf);
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two sockets of 20 cores × 2 threads; Intel's core ids skip (0-4, 8-12,
/// 16-20, 24-28); node 0 holds CPUs 0-19 and 40-59.
const CORE_IDS: [u32; 20] = [
    0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 16, 17, 18, 19, 20, 24, 25, 26, 27, 28,
];

fn xeon_2s() -> Tmp {
    // One tree per call: tests run in parallel in this process.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("starling-xeon2s-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let t = Tmp(d.clone());
    w(&d, "/proc/sys/kernel/hostname", "worker-3");
    w(
        &d,
        "/proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\n",
    );
    w(&d, "/proc/uptime", "86400.12 170000.00");
    w(
        &d,
        "/proc/cmdline",
        "BOOT_IMAGE=/vmlinuz root=UUID=x BOOTIF=01-3c-fd-fe-a0-00-01",
    );
    w(&d, "/proc/mounts", "/dev/sda2 / ext4 rw 0 0\n");
    w(
        &d,
        "/etc/platform/worker_reserved.conf",
        "WORKER_BASE_RESERVED=(\"node0:8000MB:1\" \"node1:2000MB:0\")",
    );
    for node in 0..2u32 {
        let n = format!("/sys/devices/system/node/node{node}");
        let first = node * 20;
        w(
            &d,
            &format!("{n}/cpulist"),
            &format!("{}-{},{}-{}", first, first + 19, first + 40, first + 59),
        );
        w(
            &d,
            &format!("{n}/meminfo"),
            &format!(
                "Node {node} MemTotal:       196608000 kB\nNode {node} MemFree:        150000000 kB\nNode {node} Active(file):    1000000 kB\nNode {node} Inactive(file):  2000000 kB\nNode {node} SReclaimable:     500000 kB"
            ),
        );
        let (nr2, nr1) = if node == 0 { (1024, 0) } else { (0, 16) };
        w(
            &d,
            &format!("{n}/hugepages/hugepages-2048kB/nr_hugepages"),
            &nr2.to_string(),
        );
        w(
            &d,
            &format!("{n}/hugepages/hugepages-2048kB/free_hugepages"),
            &(nr2 / 2).to_string(),
        );
        w(
            &d,
            &format!("{n}/hugepages/hugepages-1048576kB/nr_hugepages"),
            &nr1.to_string(),
        );
        w(
            &d,
            &format!("{n}/hugepages/hugepages-1048576kB/free_hugepages"),
            &nr1.to_string(),
        );
    }
    for cpu in 0..80u32 {
        let socket = (cpu % 40) / 20;
        let core = CORE_IDS[(cpu % 20) as usize];
        let sibling = if cpu < 40 { cpu + 40 } else { cpu - 40 };
        let topo = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
        w(&d, &format!("{topo}/core_id"), &core.to_string());
        w(
            &d,
            &format!("{topo}/physical_package_id"),
            &socket.to_string(),
        );
        let (a, b) = (cpu.min(sibling), cpu.max(sibling));
        w(
            &d,
            &format!("{topo}/thread_siblings_list"),
            &format!("{a},{b}"),
        );
    }
    // SATA SSD with two partitions (udev running), and an NVMe drive.
    let sda = "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda";
    l(
        &d,
        "/sys/block/sda",
        "../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda",
    );
    l(&d, &format!("{sda}/device"), "../../../0:0:0:0");
    w(&d, &format!("{sda}/dev"), "8:0");
    w(&d, &format!("{sda}/size"), "937703088");
    w(&d, &format!("{sda}/removable"), "0");
    w(&d, &format!("{sda}/queue/rotational"), "0");
    w(
        &d,
        "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/model",
        "SAMSUNG MZ7KH480",
    );
    for (n, start, size, dev) in [
        (1u32, 2048u64, 1_048_576u64, "8:1"),
        (2, 1_050_624, 419_430_400, "8:2"),
    ] {
        w(&d, &format!("{sda}/sda{n}/partition"), &n.to_string());
        w(&d, &format!("{sda}/sda{n}/start"), &start.to_string());
        w(&d, &format!("{sda}/sda{n}/size"), &size.to_string());
        w(&d, &format!("{sda}/sda{n}/dev"), dev);
    }
    w(
        &d,
        "/run/udev/data/b8:0",
        "E:ID_PATH=pci-0000:00:17.0-ata-1.0\nE:ID_SERIAL_SHORT=S4KPNE0M\nE:ID_MODEL=SAMSUNG_MZ7KH480\nE:ID_WWN=0x5002538e40a1b2c3",
    );
    w(
        &d,
        "/run/udev/data/b8:1",
        "E:ID_PART_ENTRY_TYPE=C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    );
    w(
        &d,
        "/run/udev/data/b8:2",
        "E:ID_PART_ENTRY_TYPE=0fc63daf-8483-4772-8e79-3d69d8477de4",
    );
    let nvme = "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0/nvme/nvme0/nvme0n1";
    l(
        &d,
        "/sys/block/nvme0n1",
        "../devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0/nvme/nvme0/nvme0n1",
    );
    l(&d, &format!("{nvme}/device"), "../../nvme0");
    w(&d, &format!("{nvme}/dev"), "259:0");
    w(&d, &format!("{nvme}/size"), "1875385008");
    w(&d, &format!("{nvme}/removable"), "0");
    w(&d, &format!("{nvme}/nsid"), "1");
    w(&d, &format!("{nvme}/queue/rotational"), "0");
    w(
        &d,
        "/sys/devices/pci0000:5d/0000:5d:00.0/0000:5e:00.0/nvme/nvme0/serial",
        "PHLJ9044012J1P0FGN",
    );
    // Two XXV710 ports on node 0 (one with 4 VFs, whose netdev is not a
    // port), one on node 1; the boot interface is the first.
    let nic = |d: &Path, addr: &str, bus: &str, name: &str, mac: &str, node: i32| {
        let pci = format!("/sys/devices/pci0000:{bus}/0000:{bus}:00.0/{addr}");
        l(
            d,
            &format!("/sys/bus/pci/devices/{addr}"),
            &format!("../../../devices/pci0000:{bus}/0000:{bus}:00.0/{addr}"),
        );
        w(d, &format!("{pci}/vendor"), "0x8086");
        w(d, &format!("{pci}/device"), "0x158b");
        w(d, &format!("{pci}/class"), "0x020000");
        w(d, &format!("{pci}/subsystem_vendor"), "0x8086");
        w(d, &format!("{pci}/subsystem_device"), "0x0002");
        w(d, &format!("{pci}/numa_node"), &node.to_string());
        l(
            d,
            &format!("{pci}/driver"),
            "../../../../bus/pci/drivers/i40e",
        );
        let net = format!("{pci}/net/{name}");
        l(
            d,
            &format!("/sys/class/net/{name}"),
            &format!("../../devices/pci0000:{bus}/0000:{bus}:00.0/{addr}/net/{name}"),
        );
        l(d, &format!("{net}/device"), &format!("../../../{addr}"));
        w(d, &format!("{net}/address"), mac);
        w(d, &format!("{net}/mtu"), "9000");
        w(d, &format!("{net}/speed"), "25000");
        w(d, &format!("{net}/dev_port"), "0");
        pci
    };
    let pf = nic(
        &d,
        "0000:3b:00.0",
        "3a",
        "enp59s0f0",
        "3c:fd:fe:a0:00:01",
        0,
    );
    nic(
        &d,
        "0000:3b:00.1",
        "3a",
        "enp59s0f1",
        "3c:fd:fe:a0:00:02",
        0,
    );
    nic(
        &d,
        "0000:af:00.0",
        "ae",
        "enp175s0f0",
        "3c:fd:fe:a0:00:03",
        1,
    );
    w(&d, &format!("{pf}/sriov_totalvfs"), "64");
    w(&d, &format!("{pf}/sriov_numvfs"), "4");
    for vf in 0..4 {
        let addr = format!("0000:3b:02.{vf}");
        l(&d, &format!("{pf}/virtfn{vf}"), &format!("../{addr}"));
        let v = format!("/sys/devices/pci0000:3a/0000:3a:00.0/{addr}");
        l(
            &d,
            &format!("/sys/bus/pci/devices/{addr}"),
            &format!("../../../devices/pci0000:3a/0000:3a:00.0/{addr}"),
        );
        l(&d, &format!("{v}/physfn"), "../0000:3b:00.0");
        w(&d, &format!("{v}/vendor"), "0x8086");
        w(&d, &format!("{v}/device"), "0x154c");
        w(&d, &format!("{v}/class"), "0x020000");
        l(
            &d,
            &format!("{v}/driver"),
            "../../../../bus/pci/drivers/iavf",
        );
        l(
            &d,
            &format!("/sys/class/net/enp59s2f{vf}"),
            &format!("../../devices/pci0000:3a/0000:3a:00.0/{addr}/net/enp59s2f{vf}"),
        );
        l(
            &d,
            &format!("{v}/net/enp59s2f{vf}/device"),
            &format!("../../../{addr}"),
        );
        w(
            &d,
            &format!("{v}/net/enp59s2f{vf}/address"),
            &format!("aa:bb:cc:00:00:0{vf}"),
        );
    }
    // A QAT C62x on node 1 (a co-processor StarlingX records).
    let qat = "/sys/devices/pci0000:d7/0000:d7:00.0/0000:da:00.0";
    l(
        &d,
        "/sys/bus/pci/devices/0000:da:00.0",
        "../../../devices/pci0000:d7/0000:d7:00.0/0000:da:00.0",
    );
    w(&d, &format!("{qat}/vendor"), "0x8086");
    w(&d, &format!("{qat}/device"), "0x37c8");
    w(&d, &format!("{qat}/class"), "0x0b4000");
    w(&d, &format!("{qat}/numa_node"), "1");
    w(&d, &format!("{qat}/sriov_totalvfs"), "16");
    w(&d, &format!("{qat}/sriov_numvfs"), "0");
    l(
        &d,
        &format!("{qat}/driver"),
        "../../../../bus/pci/drivers/c6xx",
    );
    // A slice of pci.ids.
    w(
        &d,
        "/usr/share/misc/pci.ids",
        "# pci.ids excerpt\n8086  Intel Corporation\n\t158b  Ethernet Controller XXV710 for 25GbE SFP28\n\t\t8086 0002  Ethernet Network Adapter XXV710-2\n\t37c8  C62x Chipset QuickAssist Technology\n1af4  Red Hat, Inc.\nC 02  Network controller\n\t00  Ethernet controller\nC 0b  Processor\n\t40  Co-processor\n",
    );
    t
}

#[test]
fn a_dual_socket_server() {
    let t = xeon_2s();
    let root = Root::new(&t.0);
    let r = report(&root).unwrap();
    accepted(&r);
    assert_eq!(r.inodes.as_ref().unwrap().len(), 2);
    let cpus = r.icpus.as_ref().unwrap();
    assert_eq!(cpus.len(), 80);
    let c41 = &cpus[41];
    assert_eq!(
        (c41.cpu, c41.numa_node, c41.core, c41.thread),
        (41, 0, 1, 1)
    );
    let c20 = &cpus[20];
    assert_eq!(
        (c20.cpu, c20.numa_node, c20.core, c20.thread),
        (20, 1, 0, 0)
    );
    assert_eq!(
        cpus[0].cpu_model,
        "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"
    );
    let mem = r.imemorys.as_ref().unwrap();
    assert_eq!(mem[0].platform_reserved_mib, 8000);
    assert_eq!(mem[0].node_memtotal_mib, 192_000);
    assert_eq!(mem[0].memtotal_mib, 192_000 - 8000 - 2048);
    assert_eq!(
        (mem[0].vm_hugepages_nr_2m, mem[0].vm_hugepages_avail_2m),
        (1024, 512)
    );
    assert_eq!(
        (mem[1].vm_hugepages_nr_1g, mem[1].platform_reserved_mib),
        (16, 2000)
    );
    let disks = r.idisks.as_ref().unwrap();
    let nvme = disks
        .iter()
        .find(|d| d.device_node == "/dev/nvme0n1")
        .unwrap();
    assert_eq!(nvme.device_type, "NVME");
    assert_eq!(
        nvme.device_path,
        "/dev/disk/by-path/pci-0000:5e:00.0-nvme-1"
    );
    assert_eq!(nvme.serial_id, "PHLJ9044012J1P0FGN");
    assert_eq!(nvme.device_num, 66304);
    let sda = disks.iter().find(|d| d.device_node == "/dev/sda").unwrap();
    assert_eq!(
        sda.device_path,
        "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0"
    );
    assert_eq!((sda.device_type.as_str(), sda.rpm.as_str()), ("SSD", "N/A"));
    assert_eq!(sda.serial_id, "S4KPNE0M");
    assert_eq!(sda.size_mib, 457_862);
    assert_eq!(sda.available_mib, 457_862 - 512 - 204_800 - 2);
    let parts = r.partitions.as_ref().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].type_name, "EFI system");
    assert_eq!(
        parts[0].device_path,
        "/dev/disk/by-path/pci-0000:00:17.0-ata-1.0-part1"
    );
    assert_eq!(
        (parts[1].size_mib, parts[1].status),
        (204_800, 1),
        "sda2 is mounted"
    );
    let ports = r.ports.as_ref().unwrap();
    let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["enp175s0f0", "enp59s0f0", "enp59s0f1"],
        "VFs are not ports"
    );
    let pf = &ports[1];
    assert_eq!(pf.pdevice, "Ethernet Controller XXV710 for 25GbE SFP28");
    assert_eq!(pf.psdevice, "Ethernet Network Adapter XXV710-2");
    assert_eq!(pf.pclass, "Ethernet controller");
    assert_eq!((pf.sriov_totalvfs, pf.sriov_numvfs), (Some(64), Some(4)));
    assert_eq!(
        pf.sriov_vfs_pci_address,
        "0000:3b:02.0,0000:3b:02.1,0000:3b:02.2,0000:3b:02.3"
    );
    assert_eq!(pf.sriov_vf_driver.as_deref(), Some("iavf"));
    assert_eq!(pf.sriov_vf_pdevice_id.as_deref(), Some("154c"));
    assert_eq!((pf.speed, pf.mtu, pf.bootp), (Some(25000), 9000, true));
    assert_eq!(ports[0].numa_node, 1);
    let devs = r.pci_devices.as_ref().unwrap();
    assert_eq!(devs.len(), 1);
    assert_eq!(devs[0].name, "pci_0000_da_00_0");
    assert_eq!(devs[0].pdevice, "C62x Chipset QuickAssist Technology");
    assert_eq!(devs[0].pclass, "Co-processor");
    assert_eq!(devs[0].driver.as_deref(), Some("c6xx"));
    assert_eq!(r.uptime, Some(86400));
    // Registers by the first port's MAC, by name order.
    assert_eq!(identity(&root, None).unwrap().mgmt_mac, "3c:fd:fe:a0:00:03");
    assert_eq!(
        identity(&root, Some("enp59s0f0")).unwrap().mgmt_mac,
        "3c:fd:fe:a0:00:01"
    );

    // An audit sends only what changed.
    assert!(changes(Some(&r), &r).is_none());
    std::fs::write(
        t.0.join("sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages"),
        "100\n",
    )
    .unwrap();
    let again = report(&root).unwrap();
    let delta = changes(Some(&r), &again).unwrap();
    assert!(delta.imemorys.is_some());
    assert!(delta.icpus.is_none() && delta.idisks.is_none() && delta.ports.is_none());
}

#[test]
fn the_live_machine() {
    let root = Root::live();
    let r = report(&root).unwrap();
    accepted(&r);
    let online = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(r.icpus.as_ref().unwrap().len() >= online);
    assert!(!r.imemorys.as_ref().unwrap().is_empty());
}

#[test]
fn pci_names_follow_a_changed_pci_ids() {
    let t = xeon_2s();
    let root = Root::new(&t.0);
    let names = |r: &Report| {
        let p = r.pci_devices.as_ref().unwrap();
        (p[0].pvendor.clone(), p[0].pdevice.clone())
    };
    let first = report(&root).unwrap();
    assert_eq!(
        names(&first),
        (
            "Intel Corporation".to_string(),
            "C62x Chipset QuickAssist Technology".to_string()
        )
    );
    assert_eq!(names(&report(&root).unwrap()), names(&first));
    // A newer database (another length): its names are used at once.
    w(
        &t.0,
        "/usr/share/misc/pci.ids",
        "8086  Intel Corp.\n\t37c8  QuickAssist C62x\nC 0b  Processor\n\t40  Co-processor\n",
    );
    let again = report(&root).unwrap();
    assert_eq!(
        names(&again),
        ("Intel Corp.".to_string(), "QuickAssist C62x".to_string())
    );
    // No database: ids without names, as before.
    std::fs::remove_file(t.0.join("usr/share/misc/pci.ids")).unwrap();
    let bare = report(&root).unwrap();
    assert_ne!(names(&bare).0, "Intel Corp.");
}

/// The boot disk is the disk under the root filesystem: a whole disk, a
/// partition's disk, or the disk under device-mapper layers; nothing when
/// the root is not a block device.
#[test]
fn the_boot_disk_is_the_one_under_the_root_filesystem() {
    let d = std::env::temp_dir().join(format!("starling-bootdisk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let _t = Tmp(d.clone());
    let root = Root::new(&d);
    for name in ["sda", "vda", "nvme0n1", "dm-0", "dm-1"] {
        std::fs::create_dir_all(d.join(format!("sys/block/{name}"))).unwrap();
    }
    w(&d, "/sys/block/sda/sda2/partition", "2");
    w(&d, "/sys/block/nvme0n1/nvme0n1p3/partition", "3");
    w(&d, "/sys/block/dm-1/dm/name", "vg-root");
    std::fs::create_dir_all(d.join("sys/block/dm-1/slaves/dm-0")).unwrap();
    std::fs::create_dir_all(d.join("sys/block/dm-0/slaves/nvme0n1p3")).unwrap();
    for (mounts, want) in [
        ("/dev/vda / ext4 rw 0 0", Some("/dev/vda")),
        (
            "rootfs / rootfs rw 0 0\n/dev/sda2 / ext4 rw 0 0\n/dev/sda1 /boot ext4 rw 0 0",
            Some("/dev/sda"),
        ),
        ("/dev/mapper/vg-root / xfs rw 0 0", Some("/dev/nvme0n1")),
        ("overlay / overlay rw 0 0", None),
        ("/dev/sdz1 / ext4 rw 0 0", None),
    ] {
        w(&d, "/proc/mounts", mounts);
        assert_eq!(
            starling_agent::disk::boot_disk(&root).as_deref(),
            want,
            "{mounts}"
        );
    }
    assert_eq!(
        starling_agent::disk::boot_disk(&Root::new(d.join("nowhere"))),
        None
    );
}
