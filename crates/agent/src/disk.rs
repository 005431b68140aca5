//! Disks and partitions (sysinv §6), from `/sys/block`: size, rotation,
//! serial, model and WWN from sysfs; the stable by-path name from udev when
//! it runs (`/run/udev/data`, `/dev/disk/by-path`), else derived from the
//! device's place on the PCI bus the way udev's path_id names it; partition
//! types from udev or, failing that, from the disk's GPT.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use starling_common::is_pci_address;
use starling_inventory_types::hardware::{Disk, Partition};

use crate::root::Root;

/// Block devices that are never disks of the host.
const NOT_DISKS: [&str; 9] = [
    "loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "drbd",
];

/// udev's properties of a block device (`E:KEY=VALUE` lines).
fn udev(root: &Root, dev: &str) -> BTreeMap<String, String> {
    root.read(format!("/run/udev/data/b{dev}"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("E:")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The names in `/dev/disk/<dir>` that point at `/dev/<name>`.
fn dev_links(root: &Root, dir: &str, name: &str) -> Vec<String> {
    root.list(format!("/dev/disk/{dir}"))
        .into_iter()
        .filter(|l| {
            root.link_name(format!("/dev/disk/{dir}/{l}"))
                .is_some_and(|t| t == name)
        })
        .collect()
}

/// udev's ID_PATH for a disk, derived from where it sits in sysfs:
/// `pci-<addr>` then `-nvme-<ns>`, `-ata-<port>` or `-scsi-<h:c:t:l>`.
fn derived_path(root: &Root, name: &str) -> Option<String> {
    let real = root.resolve(format!("/sys/block/{name}"));
    let parts: Vec<String> = real
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
        .collect();
    let pci = parts.iter().rposition(|p| is_pci_address(p))?;
    let mut path = format!("pci-{}", parts[pci]);
    let below = &parts[pci + 1..];
    if name.starts_with("nvme") {
        let ns = root
            .read(format!("/sys/block/{name}/nsid"))
            .or_else(|| name.rsplit_once('n').map(|(_, n)| n.to_string()))?;
        path.push_str(&format!("-nvme-{ns}"));
    } else if let Some(ata) = below.iter().find_map(|p| p.strip_prefix("ata")) {
        path.push_str(&format!("-ata-{ata}"));
    } else if let Some(hctl) = below
        .iter()
        .rev()
        .find(|p| p.split(':').count() == 4 && p.split(':').all(|n| n.parse::<u32>().is_ok()))
    {
        path.push_str(&format!("-scsi-{hctl}"));
    }
    Some(path)
}

/// The common names of GPT partition types.
fn type_name(guid: &str) -> &'static str {
    match guid.to_ascii_lowercase().as_str() {
        "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" => "EFI system",
        "21686148-6449-6e6f-744e-656564454649" => "BIOS boot",
        "0fc63daf-8483-4772-8e79-3d69d8477de4" => "Linux filesystem",
        "e6d6d379-f507-44c2-a23c-238f2a3df928" => "Linux LVM",
        "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f" => "Linux swap",
        "a19d880f-05fc-4d3b-a006-743f0f84911e" => "Linux RAID",
        "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7" => "Microsoft basic data",
        "ba5eba11-0000-1111-2222-000000000001" => "LVM Physical Volume",
        _ => "",
    }
}

/// A GPT entry: partition number, type GUID.
type GptEntry = (u32, String);

/// Reads the GPT of a disk image or device: each used entry's number and
/// type GUID. `None` when there is no readable GPT.
pub fn read_gpt(path: &std::path::Path, sector: u64) -> Option<Vec<GptEntry>> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut hdr = [0u8; 92];
    f.seek(SeekFrom::Start(sector)).ok()?;
    f.read_exact(&mut hdr).ok()?;
    if &hdr[0..8] != b"EFI PART" {
        return None;
    }
    let u64_at = |o: usize| hdr[o..o + 8].try_into().ok().map(u64::from_le_bytes);
    let u32_at = |o: usize| hdr[o..o + 4].try_into().ok().map(u32::from_le_bytes);
    let start = u64_at(72)?;
    let count = u32_at(80)?.min(1024);
    let size = u32_at(84)?;
    if !(128..=4096).contains(&size) {
        return None;
    }
    let mut entries = vec![0u8; count as usize * size as usize];
    f.seek(SeekFrom::Start(start.checked_mul(sector)?)).ok()?;
    f.read_exact(&mut entries).ok()?;
    let mut out = Vec::new();
    for (i, e) in entries.chunks(size as usize).enumerate() {
        let g = &e[0..16];
        if g.iter().all(|b| *b == 0) {
            continue;
        }
        let guid = format!(
            "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{}",
            g[3],
            g[2],
            g[1],
            g[0],
            g[5],
            g[4],
            g[7],
            g[6],
            g[8],
            g[9],
            g[10..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        out.push((u32::try_from(i + 1).ok()?, guid));
    }
    Some(out)
}

/// `major:minor` → sysinv's device number.
fn device_num(dev: &str) -> i64 {
    let mut it = dev.split(':').map(|n| n.parse::<i64>().unwrap_or(0));
    let (maj, min) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    // glibc's makedev.
    ((maj & 0xfff) << 8) | (min & 0xff) | ((min & !0xff) << 12) | ((maj & !0xfff) << 32)
}

fn in_use(root: &Root, mounts: &str, name: &str, sys: &str) -> bool {
    let dev = format!("/dev/{name}");
    mounts
        .lines()
        .any(|l| l.split_whitespace().next() == Some(dev.as_str()))
        || !root.list(format!("{sys}/holders")).is_empty()
}

/// The disk the root filesystem is on (`/dev/vda`), as its device node:
/// the source of the last `/` mount of /proc/mounts, from a partition to
/// its disk, through device-mapper (LVM, crypt) to the disk under it.
/// `None` when it cannot be told (an overlay or network root, nothing
/// mounted): the host keeps the boot device it was given.
pub fn boot_disk(root: &Root) -> Option<String> {
    let mounts = root.read("/proc/mounts")?;
    let source = mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (src, at) = (f.next()?, f.next()?);
            (at == "/").then_some(src)
        })
        .rfind(|s| s.starts_with("/dev/"))?;
    let mut name = source.trim_start_matches("/dev/").to_string();
    if let Some(mapped) = name.strip_prefix("mapper/") {
        name = root
            .list("/sys/block")
            .into_iter()
            .find(|d| root.read(format!("/sys/block/{d}/dm/name")).as_deref() == Some(mapped))?;
    }
    // Down through device-mapper layers (a few at most), then up from a
    // partition to its disk.
    for _ in 0..8 {
        if name.starts_with("dm-") {
            name = root
                .list(format!("/sys/block/{name}/slaves"))
                .into_iter()
                .next()?;
            continue;
        }
        if root.exists(format!("/sys/block/{name}")) {
            return Some(format!("/dev/{name}"));
        }
        return root
            .list("/sys/block")
            .into_iter()
            .find(|d| root.exists(format!("/sys/block/{d}/{name}/partition")))
            .map(|d| format!("/dev/{d}"));
    }
    None
}

/// Every disk of the host and the partitions on them.
pub fn disks(root: &Root) -> (Vec<Disk>, Vec<Partition>) {
    let mounts = root.read("/proc/mounts").unwrap_or_default();
    let mut disks = Vec::new();
    let mut parts = Vec::new();
    for name in root.list("/sys/block") {
        let sys = format!("/sys/block/{name}");
        if NOT_DISKS.iter().any(|p| name.starts_with(p))
            || !root.exists(format!("{sys}/device"))
            || root.num(format!("{sys}/removable")) == Some(1)
        {
            continue;
        }
        let Some(dev) = root.read(format!("{sys}/dev")) else {
            continue;
        };
        let sectors = root.num(format!("{sys}/size")).unwrap_or(0).max(0) as u64;
        if sectors == 0 {
            continue;
        }
        let size_mib = sectors * 512 / (1024 * 1024);
        let u = udev(root, &dev);
        let by_path = u
            .get("ID_PATH")
            .cloned()
            .or_else(|| dev_links(root, "by-path", &name).into_iter().next())
            .or_else(|| derived_path(root, &name))
            .map(|p| format!("/dev/disk/by-path/{p}"))
            .unwrap_or_default();
        let by_id = dev_links(root, "by-id", &name);
        let device_id = by_id
            .iter()
            .find(|l| l.starts_with("wwn-"))
            .or(by_id.first())
            .cloned()
            .unwrap_or_default();
        let rotational = root.num(format!("{sys}/queue/rotational")) == Some(1);
        let device_type = if name.starts_with("nvme") {
            "NVME"
        } else if rotational {
            "HDD"
        } else {
            "SSD"
        };
        let rpm = match (device_type, u.get("ID_ATA_ROTATION_RATE_RPM")) {
            ("HDD", Some(r)) => r.clone(),
            ("HDD", None) => "Undetermined".into(),
            _ => "N/A".into(),
        };
        let serial = u
            .get("ID_SCSI_SERIAL")
            .or(u.get("ID_SERIAL_SHORT"))
            .cloned()
            .or_else(|| root.read(format!("{sys}/serial")))
            .or_else(|| root.read(format!("{sys}/device/serial")))
            .unwrap_or_default();
        let wwn = u
            .get("ID_WWN")
            .cloned()
            .or_else(|| root.read(format!("{sys}/wwid")))
            .or_else(|| root.read(format!("{sys}/device/wwid")))
            .unwrap_or_default();
        let mut caps = serde_json::Map::new();
        if let Some(m) = u
            .get("ID_MODEL")
            .cloned()
            .or_else(|| root.read(format!("{sys}/device/model")))
        {
            caps.insert("model_num".into(), serde_json::Value::String(m));
        }

        // Partitions: subdirectories with a `partition` number.
        let sector_size = root
            .num(format!("{sys}/queue/logical_block_size"))
            .map_or(512, |n| n.max(512) as u64);
        let mut gpt: Option<Option<Vec<GptEntry>>> = None;
        let mut used = 0;
        let mut mine = Vec::new();
        for p in root.list(&sys) {
            let psys = format!("{sys}/{p}");
            let Some(number) = root.num(format!("{psys}/partition")) else {
                continue;
            };
            let start = root.num(format!("{psys}/start")).unwrap_or(0).max(0) as u64;
            let len = root.num(format!("{psys}/size")).unwrap_or(0).max(0) as u64;
            let start_mib = start * 512 / (1024 * 1024);
            let psize = len * 512 / (1024 * 1024);
            used += psize;
            let pu = root
                .read(format!("{psys}/dev"))
                .map(|d| udev(root, &d))
                .unwrap_or_default();
            let guid = match pu.get("ID_PART_ENTRY_TYPE") {
                Some(g) => g.to_ascii_lowercase(),
                None => gpt
                    .get_or_insert_with(|| {
                        read_gpt(&root.path(format!("/dev/{name}")), sector_size)
                    })
                    .as_ref()
                    .and_then(|e| {
                        e.iter()
                            .find(|(n, _)| i64::from(*n) == number)
                            .map(|(_, g)| g.clone())
                    })
                    .unwrap_or_default(),
            };
            let busy = in_use(root, &mounts, &p, &psys);
            mine.push(Partition {
                device_node: format!("/dev/{p}"),
                device_path: if by_path.is_empty() {
                    String::new()
                } else {
                    format!("{by_path}-part{number}")
                },
                disk_path: if by_path.is_empty() {
                    format!("/dev/{name}")
                } else {
                    by_path.clone()
                },
                start_mib,
                end_mib: start_mib + psize,
                size_mib: psize,
                type_name: type_name(&guid).to_string(),
                type_guid: guid,
                status: if busy { 1 } else { 0 },
                ..Partition::default()
            });
        }
        let whole_in_use = in_use(root, &mounts, &name, &sys);
        let available_mib = if whole_in_use {
            0
        } else if mine.is_empty() {
            size_mib
        } else {
            // 2 MiB of GPT structures, as sysinv counts them.
            size_mib.saturating_sub(used).saturating_sub(2)
        };
        parts.extend(mine);
        disks.push(Disk {
            device_node: format!("/dev/{name}"),
            device_num: device_num(&dev),
            device_type: device_type.into(),
            device_id,
            device_path: by_path,
            device_wwn: wwn,
            size_mib,
            available_mib,
            rpm,
            serial_id: serial,
            capabilities: caps,
        });
    }
    (disks, parts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn device_numbers_are_glibc_makedev() {
        assert_eq!(device_num("8:0"), 2048);
        assert_eq!(device_num("259:0"), 66304);
        assert_eq!(device_num("254:16"), 65040);
    }

    #[test]
    fn gpt_entries_are_read_from_an_image() {
        // A protective MBR sector, the header at LBA 1, entries at LBA 2.
        let mut img = vec![0u8; 512 * 34];
        let h = &mut img[512..512 + 92];
        h[0..8].copy_from_slice(b"EFI PART");
        h[72..80].copy_from_slice(&2u64.to_le_bytes());
        h[80..84].copy_from_slice(&128u32.to_le_bytes());
        h[84..88].copy_from_slice(&128u32.to_le_bytes());
        // Entry 2: Linux LVM (e6d6d379-f507-44c2-a23c-238f2a3df928).
        let e = &mut img[1024 + 128..1024 + 256];
        e[0..16].copy_from_slice(&[
            0x79, 0xd3, 0xd6, 0xe6, 0x07, 0xf5, 0xc2, 0x44, 0xa2, 0x3c, 0x23, 0x8f, 0x2a, 0x3d,
            0xf9, 0x28,
        ]);
        let p = std::env::temp_dir().join(format!("starling-gpt-{}", std::process::id()));
        std::fs::write(&p, &img).unwrap();
        let entries = read_gpt(&p, 512).unwrap();
        assert_eq!(
            entries,
            vec![(2, "e6d6d379-f507-44c2-a23c-238f2a3df928".to_string())]
        );
        assert_eq!(type_name(&entries[0].1), "Linux LVM");
        std::fs::write(&p, vec![0u8; 2048]).unwrap();
        assert_eq!(read_gpt(&p, 512), None);
        std::fs::remove_file(&p).unwrap();
    }
}
