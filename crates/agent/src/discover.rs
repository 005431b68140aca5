//! A whole report of the host, and who the host is (hostname and
//! management MAC).

use starling_inventory_types::hardware::Report;

use crate::root::Root;
use crate::{cpu, disk, memory, pci};

/// Who the host is, for registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Its hostname.
    pub hostname: String,
    /// MAC of its management port.
    pub mgmt_mac: String,
    /// The disk its root filesystem is on, when that can be told.
    pub boot_disk: Option<String>,
}

/// The host's identity: `/proc/sys/kernel/hostname`, the MAC of
/// `mgmt_interface` or, when none is configured, of the first port, and
/// the disk it boots from.
pub fn identity(root: &Root, mgmt_interface: Option<&str>) -> Result<Identity, String> {
    let hostname = root
        .read("/proc/sys/kernel/hostname")
        .or_else(|| root.read("/etc/hostname"))
        .filter(|h| !h.is_empty())
        .ok_or("cannot read the hostname")?;
    let mac = match mgmt_interface {
        Some(i) => root
            .read(format!("/sys/class/net/{i}/address"))
            .ok_or_else(|| format!("no interface {i}"))?,
        None => pci::ports(root)
            .into_iter()
            .next()
            .map(|p| p.mac)
            .ok_or("no network port to name the host by; give its management interface")?,
    };
    Ok(Identity {
        hostname,
        mgmt_mac: mac.to_ascii_lowercase(),
        boot_disk: crate::disk::boot_disk(root),
    })
}

/// Adds what lldpd knows to a full report: only LLDP on the ports the
/// report lists (lldpd may also run on bonds, VLANs or virtual links that
/// are not inventory ports; sysinv keeps LLDP on known ports only).
pub fn with_lldp(
    report: &mut Report,
    agents: Vec<starling_inventory_types::hardware::LldpAgent>,
    neighbours: Vec<starling_inventory_types::hardware::LldpNeighbour>,
) {
    let ports: Vec<&str> = report
        .ports
        .iter()
        .flatten()
        .map(|p| p.name.as_str())
        .collect();
    let agents: Vec<_> = agents
        .into_iter()
        .filter(|a| ports.contains(&a.port_name.as_str()))
        .collect();
    let neighbours: Vec<_> = neighbours
        .into_iter()
        .filter(|n| ports.contains(&n.port_name.as_str()))
        .collect();
    report.lldp_agents = Some(agents);
    report.lldp_neighbours = Some(neighbours);
}

/// Everything discoverable: every section present (a full report).
pub fn report(root: &Root) -> Result<Report, String> {
    let (idisks, partitions) = disk::disks(root);
    Ok(Report {
        inodes: Some(cpu::nodes(root)),
        icpus: Some(cpu::cpus(root)?),
        imemorys: Some(memory::memory(root)),
        idisks: Some(idisks),
        partitions: Some(partitions),
        ports: Some(pci::ports(root)),
        pci_devices: Some(pci::pci_devices(root)),
        // LLDP comes from lldpd ([`with_lldp`]); none until it is asked.
        lldp_agents: Some(Vec::new()),
        lldp_neighbours: Some(Vec::new()),
        uptime: root
            .read("/proc/uptime")
            .and_then(|u| u.split('.').next()?.parse().ok()),
    })
}

/// The sections of `now` that differ from `last` (all of them when there
/// is no last); `None` when nothing changed.
pub fn changes(last: Option<&Report>, now: &Report) -> Option<Report> {
    let Some(last) = last else {
        return Some(now.clone());
    };
    fn pick<T: Clone + PartialEq>(a: &Option<T>, b: &Option<T>) -> Option<T> {
        if a == b { None } else { b.clone() }
    }
    let r = Report {
        inodes: pick(&last.inodes, &now.inodes),
        icpus: pick(&last.icpus, &now.icpus),
        imemorys: pick(&last.imemorys, &now.imemorys),
        idisks: pick(&last.idisks, &now.idisks),
        partitions: pick(&last.partitions, &now.partitions),
        ports: pick(&last.ports, &now.ports),
        pci_devices: pick(&last.pci_devices, &now.pci_devices),
        lldp_agents: pick(&last.lldp_agents, &now.lldp_agents),
        lldp_neighbours: pick(&last.lldp_neighbours, &now.lldp_neighbours),
        uptime: now.uptime,
    };
    // Nothing but the uptime: no section changed.
    let keep_alive = Report {
        uptime: now.uptime,
        ..Report::default()
    };
    if r == keep_alive { None } else { Some(r) }
}
