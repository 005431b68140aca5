//! Network ports and PCI devices (sysinv §6): ports are the netdevs under
//! `/sys/class/net` that sit on a PCI function (virtual interfaces and SR-IOV
//! virtual functions are not ports); PCI devices are the accelerators and
//! GPUs StarlingX records (co-processors such as QAT, processing
//! accelerators, display controllers). Names come from the pci.ids
//! database when the host has one, read in one pass for just the ids seen.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use starling_common::is_pci_address;
use starling_inventory_types::hardware::{PciDevice, Port};

use crate::root::Root;

const PCI_IDS: [&str; 3] = [
    "/usr/share/misc/pci.ids",
    "/usr/share/hwdata/pci.ids",
    "/usr/share/pci.ids",
];

/// The ids of one PCI function.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Ids {
    class: u32,
    vendor: u16,
    device: u16,
    subvendor: u16,
    subdevice: u16,
}

fn ids(root: &Root, addr: &str) -> Ids {
    let d = format!("/sys/bus/pci/devices/{addr}");
    let n = |f: &str| root.num(format!("{d}/{f}")).unwrap_or(0);
    Ids {
        class: u32::try_from(n("class")).unwrap_or(0),
        vendor: u16::try_from(n("vendor")).unwrap_or(0),
        device: u16::try_from(n("device")).unwrap_or(0),
        subvendor: u16::try_from(n("subsystem_vendor")).unwrap_or(0),
        subdevice: u16::try_from(n("subsystem_device")).unwrap_or(0),
    }
}

/// Names for the ids a discovery saw.
#[derive(Default)]
struct Names {
    vendors: BTreeMap<u16, String>,
    devices: BTreeMap<(u16, u16), String>,
    subsystems: BTreeMap<(u16, u16, u16, u16), String>,
    classes: BTreeMap<(u8, u8), String>,
}

fn hex16(s: &str) -> Option<u16> {
    u16::from_str_radix(s, 16).ok()
}

/// Names already read from a pci.ids: the file, its modification time and
/// length, and the ids they were read for.
struct Cached {
    file: PathBuf,
    stamp: (SystemTime, u64),
    wanted: Vec<Ids>,
    names: Arc<Names>,
}

/// An audit every minute sees the same devices: reading the 1.3 MB
/// database for them each time cost ~5 ms of CPU per cycle. A few entries:
/// ports and PCI devices ask for different ids.
static CACHE: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
const CACHE_ENTRIES: usize = 4;

impl Names {
    /// The names of `wanted` from the host's pci.ids, read again only when
    /// the file or the devices change.
    fn cached(root: &Root, wanted: &[Ids]) -> Arc<Names> {
        let found = PCI_IDS.iter().find_map(|p| {
            let file = root.path(p);
            let m = std::fs::metadata(&file).ok().filter(|m| m.is_file())?;
            Some((
                file,
                (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()),
            ))
        });
        let Some((file, stamp)) = found else {
            return Arc::new(Names::default());
        };
        let mut key = wanted.to_vec();
        key.sort_unstable();
        key.dedup();
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache
            .iter()
            .find(|c| c.file == file && c.stamp == stamp && c.wanted == key)
        {
            return c.names.clone();
        }
        let names = Arc::new(Names::load(&file, wanted));
        if cache.len() >= CACHE_ENTRIES {
            cache.remove(0);
        }
        cache.push(Cached {
            file,
            stamp,
            wanted: key,
            names: names.clone(),
        });
        names
    }

    /// One streamed pass over pci.ids (line by line: the file is never held
    /// whole) keeping only what `wanted` needs.
    fn load(file: &Path, wanted: &[Ids]) -> Names {
        let mut n = Names::default();
        let Ok(f) = std::fs::File::open(file) else {
            return n;
        };
        let mut reader = BufReader::new(f);
        let mut raw = Vec::new();
        let vendors: BTreeSet<u16> = wanted
            .iter()
            .flat_map(|i| [i.vendor, i.subvendor])
            .collect();
        let classes: BTreeSet<u8> = wanted.iter().map(|i| (i.class >> 16) as u8).collect();
        let mut vendor: Option<u16> = None;
        let mut device: Option<u16> = None;
        let mut class: Option<u8> = None;
        loop {
            raw.clear();
            match reader.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&raw);
            let line = text.trim_end_matches(['\n', '\r']);
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("C ") {
                vendor = None;
                class = rest
                    .get(..2)
                    .and_then(|c| u8::from_str_radix(c, 16).ok())
                    .filter(|c| classes.contains(c));
                if let Some(c) = class {
                    n.classes.insert((c, 0xff), rest[2..].trim().to_string());
                }
                continue;
            }
            let tabs = line.bytes().take_while(|b| *b == b'\t').count();
            let body = line[tabs..].trim_end();
            match tabs {
                0 => {
                    class = None;
                    device = None;
                    vendor = body
                        .get(..4)
                        .and_then(hex16)
                        .filter(|v| vendors.contains(v));
                    if let Some(v) = vendor {
                        n.vendors.insert(v, body[4..].trim().to_string());
                    }
                }
                1 => {
                    if let Some(c) = class {
                        if let Some(s) = body.get(..2).and_then(|s| u8::from_str_radix(s, 16).ok())
                        {
                            n.classes.insert((c, s), body[2..].trim().to_string());
                        }
                    } else if let Some(v) = vendor {
                        device = body.get(..4).and_then(hex16);
                        if let Some(d) = device
                            && wanted.iter().any(|i| i.vendor == v && i.device == d)
                        {
                            n.devices.insert((v, d), body[4..].trim().to_string());
                        }
                    }
                }
                2 => {
                    if let (Some(v), Some(d)) = (vendor, device) {
                        let mut f = body.split_whitespace();
                        if let (Some(sv), Some(sd)) =
                            (f.next().and_then(hex16), f.next().and_then(hex16))
                            && wanted.iter().any(|i| {
                                (i.vendor, i.device, i.subvendor, i.subdevice) == (v, d, sv, sd)
                            })
                        {
                            let name = body
                                .splitn(3, char::is_whitespace)
                                .nth(2)
                                .unwrap_or("")
                                .trim();
                            n.subsystems.insert((v, d, sv, sd), name.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        n
    }

    fn vendor(&self, v: u16) -> String {
        self.vendors
            .get(&v)
            .cloned()
            .unwrap_or_else(|| format!("{v:04x}"))
    }
    fn device(&self, i: &Ids) -> String {
        self.devices
            .get(&(i.vendor, i.device))
            .cloned()
            .unwrap_or_else(|| format!("{:04x}", i.device))
    }
    fn subdevice(&self, i: &Ids) -> String {
        self.subsystems
            .get(&(i.vendor, i.device, i.subvendor, i.subdevice))
            .cloned()
            .unwrap_or_else(|| format!("{:04x}", i.subdevice))
    }
    fn class(&self, class: u32) -> String {
        let (c, s) = ((class >> 16) as u8, (class >> 8) as u8);
        self.classes
            .get(&(c, s))
            .or_else(|| self.classes.get(&(c, 0xff)))
            .cloned()
            .unwrap_or_else(|| format!("{:04x}", class >> 8))
    }
}

/// The PCI function a device path sits on (the last PCI address in it).
fn pci_of(root: &Root, sys: &str) -> Option<String> {
    root.resolve(sys)
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .rfind(|c| is_pci_address(c))
        .map(str::to_string)
}

/// SR-IOV attributes of a PCI function: total, configured, VF addresses,
/// VF driver and VF device id.
type Sriov = (
    Option<u32>,
    Option<u32>,
    String,
    Option<String>,
    Option<String>,
);

fn sriov(root: &Root, addr: &str) -> Sriov {
    let d = format!("/sys/bus/pci/devices/{addr}");
    let total = root
        .num(format!("{d}/sriov_totalvfs"))
        .and_then(|n| u32::try_from(n).ok());
    let num = root
        .num(format!("{d}/sriov_numvfs"))
        .and_then(|n| u32::try_from(n).ok());
    let mut vfs: Vec<(u32, String)> = root
        .list(&d)
        .into_iter()
        .filter_map(|n| {
            let i = n.strip_prefix("virtfn")?.parse().ok()?;
            Some((i, root.link_name(format!("{d}/{n}"))?))
        })
        .collect();
    vfs.sort();
    let first = vfs.first().map(|(_, a)| a.clone());
    let vf_driver = first
        .as_ref()
        .and_then(|a| root.link_name(format!("/sys/bus/pci/devices/{a}/driver")));
    let vf_device = first.as_ref().and_then(|a| {
        root.num(format!("/sys/bus/pci/devices/{a}/device"))
            .map(|n| format!("{n:04x}"))
    });
    let list = vfs
        .into_iter()
        .map(|(_, a)| a)
        .collect::<Vec<_>>()
        .join(",");
    (total, num, list, vf_driver, vf_device)
}

/// The MAC the host network-booted from (`BOOTIF=01-aa-bb-…` on the kernel
/// command line), lower-case with colons.
fn boot_mac(root: &Root) -> Option<String> {
    let cmdline = root.read("/proc/cmdline")?;
    let v = cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix("BOOTIF="))?;
    let v = v.strip_prefix("01-").unwrap_or(v);
    Some(v.replace('-', ":").to_ascii_lowercase())
}

/// Every port: a netdev on a PCI function that is not a virtual function.
pub fn ports(root: &Root) -> Vec<Port> {
    let boot = boot_mac(root);
    let mut found = Vec::new();
    for name in root.list("/sys/class/net") {
        let sys = format!("/sys/class/net/{name}");
        if !root.exists(format!("{sys}/device")) {
            continue;
        }
        let Some(addr) = pci_of(root, &format!("{sys}/device")) else {
            continue;
        };
        if root.exists(format!("/sys/bus/pci/devices/{addr}/physfn")) {
            continue;
        }
        found.push((name, addr));
    }
    let all: Vec<Ids> = found.iter().map(|(_, a)| ids(root, a)).collect();
    let names = Names::cached(root, &all);
    let mut out = Vec::new();
    for ((name, addr), i) in found.into_iter().zip(all) {
        let sys = format!("/sys/class/net/{name}");
        let pci = format!("/sys/bus/pci/devices/{addr}");
        let mac = root
            .read(format!("{sys}/address"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (total, num, vfs, vf_driver, vf_device) = sriov(root, &addr);
        out.push(Port {
            bootp: boot.as_deref() == Some(mac.as_str()),
            name,
            pciaddr: addr.clone(),
            pclass: names.class(i.class),
            pvendor: names.vendor(i.vendor),
            pdevice: names.device(&i),
            psvendor: names.vendor(i.subvendor),
            psdevice: names.subdevice(&i),
            numa_node: root.num(format!("{pci}/numa_node")).unwrap_or(-1),
            dev_id: root
                .num(format!("{sys}/dev_port"))
                .or_else(|| root.num(format!("{sys}/dev_id")))
                .unwrap_or(0),
            sriov_totalvfs: total,
            sriov_numvfs: num,
            sriov_vfs_pci_address: vfs,
            sriov_vf_driver: vf_driver,
            sriov_vf_pdevice_id: vf_device,
            driver: root
                .link_name(format!("{sys}/device/driver"))
                .unwrap_or_default(),
            mac,
            mtu: root
                .num(format!("{sys}/mtu"))
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            speed: root
                .num(format!("{sys}/speed"))
                .and_then(|n| u32::try_from(n).ok())
                .filter(|s| *s > 0),
            ..Port::default()
        });
    }
    out
}

/// Whether StarlingX records a PCI class as a device: display controllers,
/// co-processors (QAT) and processing accelerators (FPGAs, vRAN cards).
fn recorded(class: u32) -> bool {
    let base = class >> 16;
    base == 0x03 || base == 0x12 || class >> 8 == 0x0b40
}

/// The PCI devices StarlingX records.
pub fn pci_devices(root: &Root) -> Vec<PciDevice> {
    let mut found = Vec::new();
    for addr in root.list("/sys/bus/pci/devices") {
        let d = format!("/sys/bus/pci/devices/{addr}");
        if !is_pci_address(&addr) || root.exists(format!("{d}/physfn")) {
            continue;
        }
        let i = ids(root, &addr);
        if recorded(i.class) {
            found.push((addr, i));
        }
    }
    let all: Vec<Ids> = found.iter().map(|(_, i)| i.clone()).collect();
    let names = Names::cached(root, &all);
    found
        .into_iter()
        .map(|(addr, i)| {
            let d = format!("/sys/bus/pci/devices/{addr}");
            let (total, num, vfs, vf_driver, vf_device) = sriov(root, &addr);
            PciDevice {
                name: format!("pci_{}", addr.replace([':', '.'], "_")),
                pclass_id: format!("{:06x}", i.class),
                pvendor_id: format!("{:04x}", i.vendor),
                pdevice_id: format!("{:04x}", i.device),
                pclass: names.class(i.class),
                pvendor: names.vendor(i.vendor),
                pdevice: names.device(&i),
                psvendor: names.vendor(i.subvendor),
                psdevice: names.subdevice(&i),
                numa_node: root.num(format!("{d}/numa_node")).unwrap_or(-1),
                sriov_totalvfs: total,
                sriov_numvfs: num,
                sriov_vfs_pci_address: vfs,
                sriov_vf_driver: vf_driver,
                sriov_vf_pdevice_id: vf_device,
                driver: root.link_name(format!("{d}/driver")),
                enabled: true,
                extra_info: None,
                pciaddr: addr,
            }
        })
        .collect()
}
