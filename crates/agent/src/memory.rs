//! Memory per NUMA node (sysinv §6): totals from each node's `meminfo`,
//! huge pages from its `hugepages/hugepages-<size>kB`, the platform's
//! reservation from `/etc/platform/worker_reserved.conf` when the host has
//! one (StarlingX's `WORKER_BASE_RESERVED=("node0:8000MB:1" …)`).

use starling_inventory_types::hardware::Memory;

use crate::cpu::node_numbers;
use crate::root::Root;

const NODE_DIR: &str = "/sys/devices/system/node";
const RESERVED_CONF: &str = "/etc/platform/worker_reserved.conf";

/// `Node N Key: value kB` lines of a node's meminfo, in KiB.
fn meminfo(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        // "Node 0 MemTotal:  7039188 kB" or, from /proc/meminfo, "MemTotal: …".
        let (k, v) = l.split_once(':')?;
        let k = k.split_whitespace().last()?;
        if k != key {
            return None;
        }
        v.split_whitespace().next()?.parse().ok()
    })
}

/// Platform reservation (MiB) per node from StarlingX's configuration.
fn reserved(root: &Root, node: u32) -> u64 {
    let Some(conf) = root.read(RESERVED_CONF) else {
        return 0;
    };
    let Some(line) = conf
        .lines()
        .find(|l| l.trim_start().starts_with("WORKER_BASE_RESERVED="))
    else {
        return 0;
    };
    line.split('"')
        .filter_map(|e| {
            let mut f = e.split(':');
            let n = f.next()?.strip_prefix("node")?.parse::<u32>().ok()?;
            let mb = f.next()?.strip_suffix("MB")?.parse::<u64>().ok()?;
            (n == node).then_some(mb)
        })
        .next()
        .unwrap_or(0)
}

fn pages(root: &Root, node: u32, size_kb: u64, what: &str) -> u64 {
    root.num(format!(
        "{NODE_DIR}/node{node}/hugepages/hugepages-{size_kb}kB/{what}"
    ))
    .map_or(0, |n| u64::try_from(n).unwrap_or(0))
}

/// The memory of every node.
pub fn memory(root: &Root) -> Vec<Memory> {
    let mut out = Vec::new();
    for node in node_numbers(root) {
        let info = root
            .read(format!("{NODE_DIR}/node{node}/meminfo"))
            .or_else(|| root.read("/proc/meminfo"))
            .unwrap_or_default();
        let kib = |k: &str| meminfo(&info, k).unwrap_or(0);
        let node_total = kib("MemTotal") / 1024;
        let avail =
            (kib("MemFree") + kib("Active(file)") + kib("Inactive(file)") + kib("SReclaimable"))
                / 1024;
        let (nr_2m, free_2m) = (
            pages(root, node, 2048, "nr_hugepages"),
            pages(root, node, 2048, "free_hugepages"),
        );
        let (nr_1g, free_1g) = (
            pages(root, node, 1_048_576, "nr_hugepages"),
            pages(root, node, 1_048_576, "free_hugepages"),
        );
        let use_1g = root.exists(format!(
            "{NODE_DIR}/node{node}/hugepages/hugepages-1048576kB"
        ));
        let platform = reserved(root, node).min(node_total);
        let huge = nr_2m * 2 + nr_1g * 1024;
        let app = node_total.saturating_sub(platform).saturating_sub(huge);
        let possible = node_total.saturating_sub(platform);
        out.push(Memory {
            numa_node: i64::from(node),
            memtotal_mib: app,
            memavail_mib: avail.min(app),
            platform_reserved_mib: platform,
            node_memtotal_mib: node_total,
            hugepages_configured: nr_2m > 0 || nr_1g > 0,
            vm_hugepages_nr_2m: nr_2m,
            vm_hugepages_avail_2m: free_2m.min(nr_2m),
            vm_hugepages_nr_1g: if use_1g { nr_1g } else { 0 },
            vm_hugepages_avail_1g: if use_1g { free_1g.min(nr_1g) } else { 0 },
            vm_hugepages_nr_4k: app * 256,
            vm_hugepages_use_1g: use_1g,
            vm_hugepages_possible_2m: possible / 2,
            vm_hugepages_possible_1g: if use_1g { possible / 1024 } else { 0 },
            ..Memory::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_lines_of_nodes_and_proc() {
        let node = "Node 0 MemTotal:        7039188 kB\nNode 0 MemFree:         3521760 kB\n";
        assert_eq!(meminfo(node, "MemTotal"), Some(7_039_188));
        assert_eq!(meminfo(node, "MemFree"), Some(3_521_760));
        assert_eq!(meminfo("MemTotal: 12 kB\n", "MemTotal"), Some(12));
        assert_eq!(meminfo(node, "Shmem"), None);
    }
}
