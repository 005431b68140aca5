//! NUMA nodes and logical CPUs (sysinv §6): nodes from
//! `/sys/devices/system/node/nodeN`, each node's CPUs from its `cpulist`,
//! core and thread from each CPU's `topology`, model and family from the
//! first processor of `/proc/cpuinfo`.

use std::collections::BTreeMap;

use starling_inventory_types::hardware::{Cpu, Node};

use crate::root::{Root, cpulist};

const NODE_DIR: &str = "/sys/devices/system/node";
const CPU_DIR: &str = "/sys/devices/system/cpu";

/// The numbers after `prefix` in a directory's names (`node0` → 0).
pub(crate) fn numbered(root: &Root, dir: &str, prefix: &str) -> Vec<u32> {
    let mut v: Vec<u32> = root
        .list(dir)
        .iter()
        .filter_map(|n| n.strip_prefix(prefix)?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// NUMA node numbers; `[0]` on a machine without NUMA information.
pub fn node_numbers(root: &Root) -> Vec<u32> {
    let v = numbered(root, NODE_DIR, "node");
    if v.is_empty() { vec![0] } else { v }
}

/// The NUMA nodes.
pub fn nodes(root: &Root) -> Vec<Node> {
    node_numbers(root)
        .into_iter()
        .map(|n| Node {
            numa_node: i64::from(n),
            ..Node::default()
        })
        .collect()
}

/// `model name` and `cpu family` of the first processor.
fn model(root: &Root) -> (String, String) {
    let info = root.read("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let mut m = field("model name");
    if m.is_empty() {
        // Arm and others name the processor differently.
        m = field("Hardware");
    }
    (m, field("cpu family"))
}

/// Every logical CPU with its node, core and thread.
pub fn cpus(root: &Root) -> Result<Vec<Cpu>, String> {
    let (cpu_model, cpu_family) = model(root);
    let mut by_node: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let nodes = numbered(root, NODE_DIR, "node");
    for n in &nodes {
        let list = root
            .read(format!("{NODE_DIR}/node{n}/cpulist"))
            .unwrap_or_default();
        by_node.insert(*n, cpulist(&list)?);
    }
    if nodes.is_empty() {
        by_node.insert(0, numbered(root, CPU_DIR, "cpu"));
    }
    let mut out = Vec::new();
    for (node, list) in by_node {
        // Core ids repeat on each socket: when one node holds several
        // sockets, cores are numbered on from the previous socket's.
        let mut raw = Vec::new();
        for cpu in list {
            let topo = format!("{CPU_DIR}/cpu{cpu}/topology");
            let core = root
                .num(format!("{topo}/core_id"))
                .unwrap_or(i64::from(cpu));
            let package = root.num(format!("{topo}/physical_package_id")).unwrap_or(0);
            let siblings = root
                .read(format!("{topo}/thread_siblings_list"))
                .map(|s| cpulist(&s))
                .transpose()?
                .unwrap_or_else(|| vec![cpu]);
            let thread = siblings.iter().position(|s| *s == cpu).unwrap_or(0);
            raw.push((cpu, package, core, thread));
        }
        let max_core = raw.iter().map(|r| r.2).max().unwrap_or(0);
        let mut packages: Vec<i64> = raw.iter().map(|r| r.1).collect();
        packages.sort_unstable();
        packages.dedup();
        for (cpu, package, core, thread) in raw {
            let p = packages.iter().position(|x| *x == package).unwrap_or(0) as i64;
            let core = p * (max_core + 1) + core;
            out.push(Cpu {
                cpu,
                core: u32::try_from(core)
                    .map_err(|_| format!("CPU {cpu}: core id {core} out of range"))?,
                thread: u32::try_from(thread).unwrap_or(0),
                numa_node: i64::from(node),
                cpu_family: cpu_family.clone(),
                cpu_model: cpu_model.clone(),
                ..Cpu::default()
            });
        }
    }
    out.sort_by_key(|c| c.cpu);
    Ok(out)
}
