//! Host interfaces (`iinterfaces`): each inventoried port's ethernet
//! interface (made by the system), and the VLAN, aggregated (`ae`), virtual
//! and SR-IOV VF interfaces the operator stacks over them; their class
//! (none, platform, data, pci-sriov, pci-passthrough), MTU, bonding and
//! SR-IOV parameters; the platform networks assigned to them
//! (`interface_networks`) and the data networks (`interface_datanetworks`).
//! Checked as sysinv's interface.py, interface_network.py and
//! interface_datanetwork.py check them, with their messages.

use std::collections::BTreeSet;

use starling_common::{Error, Timestamp};

use crate::addressing::{self, Network};
use crate::datanet::{self, DataNetwork, NetworkType};
use crate::ops::HostFacts;
use crate::repo::{ConfigRepo, Seq};

/// The MTU an interface gets when none is given (sysinv's `DEFAULT_MTU`).
pub const DEFAULT_MTU: i64 = 1500;
/// The longest interface name (the kernel's `IFNAMSIZ` less one).
pub const MAX_IFNAME_LEN: usize = 15;
/// What VXLAN encapsulation adds to a frame (sysinv's `VXLAN_MTU_OVERHEAD`).
pub const VXLAN_MTU_OVERHEAD: i64 = 74;

/// An interface's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfType {
    Ethernet,
    Vlan,
    Ae,
    Virtual,
    Vf,
}

impl IfType {
    pub const ALL: [IfType; 5] = [
        IfType::Ae,
        IfType::Vlan,
        IfType::Ethernet,
        IfType::Virtual,
        IfType::Vf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IfType::Ethernet => "ethernet",
            IfType::Vlan => "vlan",
            IfType::Ae => "ae",
            IfType::Virtual => "virtual",
            IfType::Vf => "vf",
        }
    }

    pub fn parse(s: &str) -> Option<IfType> {
        IfType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An interface's class (none is `Option::None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfClass {
    Platform,
    Data,
    PciSriov,
    PciPassthrough,
}

impl IfClass {
    pub const ALL: [IfClass; 4] = [
        IfClass::Platform,
        IfClass::Data,
        IfClass::PciPassthrough,
        IfClass::PciSriov,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IfClass::Platform => "platform",
            IfClass::Data => "data",
            IfClass::PciSriov => "pci-sriov",
            IfClass::PciPassthrough => "pci-passthrough",
        }
    }

    /// A class name; `none` (and nothing) is no class.
    pub fn parse(s: &str) -> Result<Option<IfClass>, Error> {
        if s.is_empty() || s == "none" {
            return Ok(None);
        }
        IfClass::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .map(Some)
            .ok_or_else(|| Error::invalid(format!("Invalid interface class {s}")))
    }

    fn is_pci(self) -> bool {
        matches!(self, IfClass::PciSriov | IfClass::PciPassthrough)
    }
}

fn class_name(c: Option<IfClass>) -> &'static str {
    c.map_or("none", IfClass::as_str)
}

/// The bonding modes of an aggregated interface.
pub const AE_MODES: &[&str] = &["balanced", "active_standby", "802.3ad"];
/// Its transmit hash policies.
pub const TX_HASH_POLICIES: &[&str] = &["layer2", "layer2+3", "layer3+4"];
/// Its primary reselection policies (active_standby).
pub const PRIMARY_RESELECT: &[&str] = &["always", "better", "failure"];
/// The drivers of SR-IOV virtual functions.
pub const VF_DRIVERS: &[&str] = &["netdevice", "vfio"];
/// PTP roles.
pub const PTP_ROLES: &[&str] = &["master", "slave", "none"];

/// A host's port as inventory has it: what interfaces are checked against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortFacts {
    pub uuid: String,
    /// The kernel name.
    pub name: String,
    pub mac: String,
    pub mtu: i64,
    pub pciaddr: String,
    /// Port index on a multi-port PCI function.
    pub dev_id: i64,
    pub sriov_totalvfs: Option<i64>,
    pub driver: String,
    /// Link speed (Mb/s), when the link is up.
    pub speed: Option<i64>,
    pub dpdksupport: bool,
}

/// An interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Integer id (from a sequence, never reused).
    pub id: i64,
    pub uuid: String,
    pub host_uuid: String,
    /// Unique on its host.
    pub ifname: String,
    pub iftype: IfType,
    pub ifclass: Option<IfClass>,
    pub imac: Option<String>,
    pub imtu: i64,
    pub aemode: Option<String>,
    pub txhashpolicy: Option<String>,
    pub primary_reselect: Option<String>,
    pub vlan_id: Option<i64>,
    /// The interfaces it is stacked on (ids, in the order given).
    pub uses: Vec<i64>,
    /// The port of an ethernet interface the system made.
    pub port_uuid: Option<String>,
    pub sriov_numvfs: i64,
    pub sriov_vf_driver: Option<String>,
    pub ptp_role: String,
    pub max_tx_rate: Option<i64>,
    pub max_rx_rate: Option<i64>,
    pub ipv4_mode: Option<String>,
    pub ipv6_mode: Option<String>,
    /// The pools (uuids) of the `pool` address modes.
    pub ipv4_pool: Option<String>,
    pub ipv6_pool: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl Interface {
    /// Whether the system made it, for a port (it cannot be deleted).
    pub fn system_made(&self) -> bool {
        self.iftype == IfType::Ethernet && self.uses.is_empty()
    }
}

/// A platform network assigned to an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceNetwork {
    pub id: i64,
    pub uuid: String,
    pub interface_id: i64,
    pub network_id: i64,
}

/// A data network assigned to an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDataNetwork {
    pub id: i64,
    pub uuid: String,
    pub interface_id: i64,
    pub datanetwork_id: i64,
}

/// An interface's attributes as a request gives them (`host-if-add`'s, or
/// the ones `host-if-modify` changes): absent ones are not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceFields {
    pub ifname: Option<String>,
    pub iftype: Option<String>,
    /// `none` clears the class.
    pub ifclass: Option<String>,
    pub imtu: Option<i64>,
    pub aemode: Option<String>,
    pub txhashpolicy: Option<String>,
    pub primary_reselect: Option<String>,
    pub vlan_id: Option<i64>,
    /// The lower interfaces (names or uuids).
    pub uses: Option<Vec<String>>,
    /// The ports (names or uuids).
    pub ports: Option<Vec<String>>,
    pub ipv4_mode: Option<String>,
    pub ipv6_mode: Option<String>,
    pub ipv4_pool: Option<String>,
    pub ipv6_pool: Option<String>,
    pub sriov_numvfs: Option<i64>,
    pub sriov_vf_driver: Option<String>,
    pub ptp_role: Option<String>,
    pub max_tx_rate: Option<i64>,
    pub max_rx_rate: Option<i64>,
}

/// Everything an interface check looks at on its host.
pub struct HostView<'a> {
    pub host: &'a HostFacts,
    pub ports: &'a [PortFacts],
    /// Every interface of the host.
    pub interfaces: Vec<Interface>,
    /// Every interface-network assignment (of every host) with its network.
    pub networks: Vec<(InterfaceNetwork, Network)>,
    /// Every interface-datanetwork assignment with its data network.
    pub datanetworks: Vec<(InterfaceDataNetwork, DataNetwork)>,
    pub simplex: bool,
}

impl<'a> HostView<'a> {
    /// Reads host `host`'s interfaces and their assignments.
    pub fn load(
        repo: &mut dyn ConfigRepo,
        host: &'a HostFacts,
        ports: &'a [PortFacts],
        simplex: bool,
    ) -> Result<HostView<'a>, Error> {
        let interfaces = repo.interfaces_of(&host.uuid)?;
        let nets = repo.networks()?;
        let networks = repo
            .interface_networks_of(&host.uuid)?
            .into_iter()
            .filter_map(|i| {
                let n = nets.iter().find(|n| n.id == i.network_id)?.clone();
                Some((i, n))
            })
            .collect();
        let dns = repo.datanetworks()?;
        let datanetworks = repo
            .interface_datanetworks_of(&host.uuid)?
            .into_iter()
            .filter_map(|i| {
                let d = dns.iter().find(|d| d.id == i.datanetwork_id)?.clone();
                Some((i, d))
            })
            .collect();
        Ok(HostView {
            host,
            ports,
            interfaces,
            networks,
            datanetworks,
            simplex,
        })
    }

    fn by_id(&self, id: i64) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.id == id)
    }

    /// The interface `key` names on this host (name or uuid).
    pub fn find(&self, key: &str) -> Option<&Interface> {
        self.interfaces
            .iter()
            .find(|i| i.ifname == key || i.uuid.eq_ignore_ascii_case(key))
    }

    /// The names of the interfaces `i` is stacked on.
    pub fn uses_names(&self, i: &Interface) -> Vec<String> {
        i.uses
            .iter()
            .filter_map(|id| self.by_id(*id).map(|l| l.ifname.clone()))
            .collect()
    }

    /// The interfaces stacked on `i`.
    pub fn used_by(&self, i: &Interface) -> Vec<&Interface> {
        self.interfaces
            .iter()
            .filter(|u| u.uses.contains(&i.id))
            .collect()
    }

    /// Their names.
    pub fn used_by_names(&self, i: &Interface) -> Vec<String> {
        self.used_by(i).iter().map(|u| u.ifname.clone()).collect()
    }

    /// The platform network types assigned to interface `id`.
    pub fn network_types(&self, id: i64) -> Vec<&str> {
        self.networks
            .iter()
            .filter(|(i, _)| i.interface_id == id)
            .map(|(_, n)| n.net_type.as_str())
            .collect()
    }

    /// The data networks assigned to interface `id`.
    pub fn datanetworks_of(&self, id: i64) -> Vec<&DataNetwork> {
        self.datanetworks
            .iter()
            .filter(|(i, _)| i.interface_id == id)
            .map(|(_, d)| d)
            .collect()
    }

    /// The port of interface `i`.
    pub fn port_of(&self, i: &Interface) -> Option<&PortFacts> {
        let u = i.port_uuid.as_deref()?;
        self.ports.iter().find(|p| p.uuid == u)
    }

    /// The ports under `i` (an AE's members', a VLAN's lower's).
    pub fn ports_under(&self, i: &Interface) -> Vec<&PortFacts> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.collect_ports(i, &mut out, &mut seen);
        out
    }

    fn collect_ports<'s>(
        &'s self,
        i: &Interface,
        out: &mut Vec<&'s PortFacts>,
        seen: &mut BTreeSet<i64>,
    ) {
        if !seen.insert(i.id) {
            return;
        }
        if let Some(p) = self.port_of(i) {
            out.push(p);
        }
        for id in &i.uses {
            if let Some(l) = self.by_id(*id) {
                self.collect_ports(l, out, seen);
            }
        }
    }

    fn is_worker(&self) -> bool {
        let subs = self
            .host
            .subfunctions
            .as_deref()
            .or(self.host.personality.as_deref())
            .unwrap_or("");
        subs.split(',').any(|s| s.trim() == "worker")
    }

    fn locked(&self) -> bool {
        self.host.administrative == "locked"
    }
}

fn check_locked(v: &HostView<'_>) -> Result<(), Error> {
    if !v.locked() {
        return Err(Error::invalid("Host must be locked."));
    }
    Ok(())
}

fn one_of(what: &str, v: &str, allowed: &[&str]) -> Result<(), Error> {
    if allowed.contains(&v) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Invalid {what} '{v}': one of {}",
        allowed.join(", ")
    )))
}

/// sysinv's `_check_interface_name`.
fn check_name(v: &HostView<'_>, me: &Interface) -> Result<(), Error> {
    let n = &me.ifname;
    if n.trim().is_empty() {
        return Err(Error::invalid("Interface name cannot be whitespace."));
    }
    if n.chars().any(|c| c.is_uppercase()) || !n.chars().any(|c| c.is_lowercase()) {
        return Err(Error::invalid("Interface name must be in lower case."));
    }
    if n.len() > MAX_IFNAME_LEN {
        return Err(Error::invalid(format!(
            "Interface {n} has name length greater than {MAX_IFNAME_LEN}."
        )));
    }
    if me.iftype == IfType::Vlan
        && n.chars()
            .any(|c| c.is_ascii_punctuation() && c != '_' && c != '.')
    {
        return Err(Error::invalid(
            "Cannot use special characters in vlan interface name.",
        ));
    }
    if let Some(c) = n
        .chars()
        .find(|c| (c.is_ascii_punctuation() && !"-_.".contains(*c)) || c.is_whitespace())
    {
        return Err(Error::invalid(format!(
            "Cannot use '{c}' as a special character in interface name."
        )));
    }
    if !n.is_ascii() {
        return Err(Error::invalid(
            "Interface name must be ASCII letters, digits, '-', '_' or '.'.",
        ));
    }
    if v.interfaces.iter().any(|i| i.id != me.id && i.ifname == *n) {
        return Err(Error::conflict(format!(
            "Interface Name {n} must be unique."
        )));
    }
    Ok(())
}

/// sysinv's `_check_address_mode`.
fn check_address_modes(repo: &mut dyn ConfigRepo, me: &mut Interface) -> Result<(), Error> {
    if let Some(m) = &me.ipv4_mode {
        one_of("IPv4 address mode", m, &["disabled", "static", "pool"])?;
    }
    if let Some(m) = &me.ipv6_mode {
        one_of(
            "IPv6 address mode",
            m,
            &["disabled", "static", "link-local", "pool"],
        )?;
    }
    let allowed = matches!(me.ifclass, Some(IfClass::Data | IfClass::Platform));
    if !allowed
        && [&me.ipv4_mode, &me.ipv6_mode]
            .iter()
            .any(|m| m.as_deref().is_some_and(|m| m != "disabled"))
    {
        return Err(Error::invalid(
            "Address mode attributes only supported on 'mgmt, oam, cluster-host, data, ironic, storage, admin' interfaces",
        ));
    }
    for (family, mode, pool, v6) in [
        ("IPv4", &me.ipv4_mode, &mut me.ipv4_pool, false),
        ("IPv6", &me.ipv6_mode, &mut me.ipv6_pool, true),
    ] {
        let is_pool = mode.as_deref() == Some("pool");
        match (is_pool, pool.clone()) {
            (false, Some(_)) => {
                return Err(Error::conflict(format!(
                    "Specifying an {family} address pool requires setting the address mode to 'pool'"
                )));
            }
            (true, None) => {
                return Err(Error::conflict(format!(
                    "{family} address pool name not specified"
                )));
            }
            (true, Some(key)) => {
                let p = repo
                    .pools()?
                    .into_iter()
                    .find(|p| p.uuid.eq_ignore_ascii_case(&key) || p.name == key)
                    .ok_or_else(|| {
                        Error::invalid(format!("Address pool {key} could not be found."))
                    })?;
                if p.network.is_ipv6() != v6 {
                    return Err(Error::conflict(
                        "Address pool IP family does not match requested family",
                    ));
                }
                *pool = Some(p.uuid);
            }
            (false, None) => {}
        }
    }
    Ok(())
}

/// The interfaces a request names as lower ones.
fn resolve_uses(v: &HostView<'_>, names: &[String]) -> Result<Vec<i64>, Error> {
    let mut out = Vec::new();
    for n in names {
        let i = v.find(n).ok_or_else(|| {
            Error::invalid(format!(
                "Interface {n} could not be found on host {}.",
                v.host.hostname.as_deref().unwrap_or(&v.host.uuid)
            ))
        })?;
        if out.contains(&i.id) {
            return Err(Error::invalid(format!(
                "Interface {} is named twice in uses",
                i.ifname
            )));
        }
        out.push(i.id);
    }
    Ok(out)
}

/// sysinv's `_check_ports`: the port an ethernet interface is made over.
fn check_ports(v: &HostView<'_>, me: &Interface, ports: &[String]) -> Result<String, Error> {
    if ports.is_empty() {
        return Err(Error::invalid("A port must be selected."));
    }
    if me.iftype != IfType::Ethernet {
        return Err(Error::invalid(format!(
            "Ports are given only to an ethernet interface; an {} interface uses interfaces",
            me.iftype.as_str()
        )));
    }
    if ports.len() > 1 {
        return Err(Error::invalid("For Ethernet, select a single port."));
    }
    let key = &ports[0];
    let p = v
        .ports
        .iter()
        .find(|p| p.name == *key || p.uuid.eq_ignore_ascii_case(key))
        .ok_or_else(|| Error::invalid(format!("Port {key} does not exist.")))?;
    if let Some(other) = v
        .interfaces
        .iter()
        .find(|i| i.id != me.id && i.port_uuid.as_deref() == Some(p.uuid.as_str()))
    {
        return Err(Error::conflict(format!(
            "Another interface {} is already using this port",
            other.uuid
        )));
    }
    Ok(p.uuid.clone())
}

/// A port's name may be an interface's only when the interface is over it.
fn check_port_names(v: &HostView<'_>, me: &Interface) -> Result<(), Error> {
    let name: String = me.ifname.split_whitespace().collect();
    if let Some(p) = v.ports.iter().find(|p| p.name == name) {
        if me.iftype == IfType::Ae {
            return Err(Error::invalid(format!(
                "Aggregated Ethernet interface name cannot be '{}'. An Aggregated Ethernet name must not be the same as an existing port name. ",
                p.name
            )));
        }
        if me.port_uuid.as_deref() != Some(p.uuid.as_str()) {
            return Err(Error::invalid(format!(
                "Interface name cannot be '{}'. Port name can be used as interface name only if the interface uses that port. ",
                p.name
            )));
        }
    }
    Ok(())
}

/// The VLAN ids used over interface `lower` (by interfaces other than `me`).
fn vlans_over(v: &HostView<'_>, lower: &Interface, me: i64) -> Vec<i64> {
    v.used_by(lower)
        .iter()
        .filter(|u| u.id != me && u.iftype == IfType::Vlan)
        .filter_map(|u| u.vlan_id)
        .collect()
}

/// sysinv's `_check_interface_data` and `_check_interface_class`, over the
/// interface as it would be (`me`) and as it is (`before`).
fn check_data(v: &HostView<'_>, me: &Interface, before: Option<&Interface>) -> Result<(), Error> {
    check_name(v, me)?;
    let lowers: Vec<&Interface> = me.uses.iter().filter_map(|id| v.by_id(*id)).collect();
    match me.iftype {
        IfType::Vlan => {
            let vlan = me
                .vlan_id
                .ok_or_else(|| Error::invalid("VLAN id must be specified."))?;
            if lowers.len() != 1 {
                return Err(Error::invalid(format!(
                    "Can only have one interface for vlan type. ({})",
                    v.uses_names(me).join(", ")
                )));
            }
            let lower = lowers[0];
            if lower.iftype == IfType::Vlan {
                return Err(Error::invalid(
                    "VLAN interfaces cannot be created over existing VLAN interfaces",
                ));
            }
            let changed = before.is_none_or(|b| b.vlan_id != me.vlan_id);
            if changed && me.ifclass == Some(IfClass::Platform) {
                let taken = v.interfaces.iter().any(|i| {
                    i.id != me.id
                        && i.iftype == IfType::Vlan
                        && i.ifclass == Some(IfClass::Platform)
                        && i.vlan_id == Some(vlan)
                });
                if taken {
                    return Err(Error::conflict(format!(
                        "VLAN id {vlan} already in use on another platform interface"
                    )));
                }
            }
            if changed && vlans_over(v, lower, me.id).contains(&vlan) {
                return Err(Error::conflict(format!(
                    "VLAN id {vlan} already in use on interface {}",
                    lower.ifname
                )));
            }
            match (lower.ifclass, me.ifclass) {
                (Some(IfClass::Data), Some(IfClass::Platform)) => {
                    return Err(Error::invalid(
                        "Platform VLAN interface cannot be created over a data interface ",
                    ));
                }
                (Some(IfClass::Platform), Some(IfClass::Data)) => {
                    return Err(Error::invalid(
                        "Data VLAN interface cannot be created over a platform interface ",
                    ));
                }
                _ => {}
            }
        }
        _ => {
            if me.vlan_id.is_some() {
                return Err(Error::invalid(
                    "A VLAN id is given only to a vlan interface",
                ));
            }
        }
    }
    // A lower interface serves one AE, or one VLAN user (VLANs and VFs may
    // share theirs).
    if me.iftype != IfType::Ethernet {
        for lower in &lowers {
            for other in v.used_by(lower) {
                if other.id == me.id {
                    continue;
                }
                if other.iftype == IfType::Ae && me.iftype != IfType::Vf {
                    return Err(Error::conflict(format!(
                        "Interface '{}' is already used by another 'aggregated ethernet' interface '{}'",
                        lower.ifname, other.ifname
                    )));
                }
                if other.iftype == IfType::Vlan && !matches!(me.iftype, IfType::Vlan | IfType::Vf) {
                    return Err(Error::conflict(format!(
                        "Interface '{}' is already used by another VLAN interface '{}'",
                        lower.ifname, other.ifname
                    )));
                }
            }
        }
    }
    if me.iftype == IfType::Ae {
        if lowers.is_empty() {
            return Err(Error::invalid(
                "An 'aggregated ethernet' interface uses at least one interface",
            ));
        }
        for lower in &lowers {
            if lower.ptp_role != "none" {
                return Err(Error::invalid(
                    "None of interfaces being used in an 'aggregated ethernet' interface can have a PTP role (must be 'none').",
                ));
            }
            if lower.ifclass.is_some_and(|c| c != IfClass::PciSriov) {
                return Err(Error::invalid(
                    "All interfaces being used in an 'aggregated ethernet' interface must have the interface class set to 'none' or 'pci-sriov'.",
                ));
            }
            if lower.iftype == IfType::Ae || lower.iftype == IfType::Vlan {
                return Err(Error::invalid(format!(
                    "An 'aggregated ethernet' interface cannot use a {} interface ({})",
                    lower.iftype.as_str(),
                    lower.ifname
                )));
            }
        }
    }
    if me.iftype == IfType::Virtual && !me.uses.is_empty() {
        return Err(Error::invalid(
            "A virtual interface uses no other interface",
        ));
    }
    if me.iftype == IfType::Ethernet && !lowers.is_empty() {
        if lowers.len() > 1 {
            return Err(Error::invalid(format!(
                "Can only have one lower interface for ethernet type.({})",
                v.uses_names(me).join(", ")
            )));
        }
        let l = lowers[0];
        if !(l.iftype == IfType::Ethernet && l.ifclass == Some(IfClass::PciSriov)) {
            return Err(Error::invalid(format!(
                "Can only use pci-sriov ethernet interface for ethernet type. ({})",
                l.ifname
            )));
        }
    }
    // What is stacked on this one constrains it.
    let mut used_vfs = 0;
    for upper in v.used_by(me) {
        if upper.iftype == IfType::Ae {
            if me.ptp_role != "none" {
                return Err(Error::invalid(format!(
                    "Interface '{}' is being used by interface '{}' as an 'aggregated ethernet' interface and therefore the PTP role cannot be changed from 'none'.",
                    me.ifname, upper.ifname
                )));
            }
            if me.ifclass.is_some_and(|c| c != IfClass::PciSriov) {
                return Err(Error::invalid(format!(
                    "Interface '{}' is being used by interface '{}' as an 'aggregated ethernet' interface and therefore the interface class cannot be changed from 'none' or 'pci-sriov'.",
                    me.ifname, upper.ifname
                )));
            }
        }
        if upper.iftype == IfType::Vf {
            if me.ifclass != Some(IfClass::PciSriov) {
                return Err(Error::invalid(format!(
                    "Interface '{}' is being used by VF interface '{}' and therefore the interface class cannot be changed from 'pci-sriov'.",
                    me.ifname, upper.ifname
                )));
            }
            used_vfs += upper.sriov_numvfs;
            if me.sriov_numvfs <= used_vfs {
                return Err(Error::invalid(format!(
                    "The number of virtual functions ({}) must be greater than the number of consumed VFs used by the upper VF interfaces ({:?})",
                    me.sriov_numvfs,
                    v.used_by_names(me)
                )));
            }
        }
    }
    check_class(v, me, before)?;
    // Bonding.
    let aemode = me.aemode.as_deref();
    if me.iftype == IfType::Ae {
        let m = aemode.unwrap_or("");
        if !AE_MODES.contains(&m) {
            return Err(Error::invalid(format!(
                "Invalid aggregated ethernet mode '{m}' "
            )));
        }
    }
    if let Some(t) = &me.txhashpolicy {
        one_of("Tx Hash Policy", t, TX_HASH_POLICIES)?;
    }
    match aemode {
        Some("balanced" | "802.3ad") => {
            if me.ptp_role != "none" {
                return Err(Error::invalid(
                    "PTP isn't supported by 'aggregated ethernet' interface type in 'balanced' or '802.3ad' mode.",
                ));
            }
            if me.txhashpolicy.is_none() {
                return Err(Error::invalid(
                    "Device interface with 'aggregated ethernet' interface type in 'balanced' or '802.3ad' mode require a valid Tx Hash Policy.",
                ));
            }
        }
        Some("active_standby") if me.txhashpolicy.is_some() => {
            return Err(Error::invalid(
                "Device interface with interface type 'aggregated ethernet' in 'active_standby' mode should not specify a Tx Hash Policy.",
            ));
        }
        _ => {}
    }
    if let Some(r) = &me.primary_reselect {
        if me.iftype != IfType::Ae {
            return Err(Error::invalid(
                "The option primary_reselect is only applicable to bonded interface. ",
            ));
        }
        if aemode != Some("active_standby") {
            return Err(Error::invalid(format!(
                "Device interface with interface type 'aggregated ethernet' in '{}' mode should not specify primary_reselect option.",
                aemode.unwrap_or("")
            )));
        }
        if me.ifclass != Some(IfClass::Platform) && r != "always" {
            return Err(Error::invalid(
                "The option primary_reselect must be 'always' for non-platform interfaces. ",
            ));
        }
        if !PRIMARY_RESELECT.contains(&r.as_str()) {
            return Err(Error::invalid(format!(
                "Invalid bonding primary reselect option: '{r}'. Valid options must be one of {}",
                PRIMARY_RESELECT.join(", ")
            )));
        }
    }
    if me.iftype == IfType::Ae {
        if !matches!(me.ifclass, Some(IfClass::Platform | IfClass::Data)) {
            return Err(Error::invalid(
                "Device interface class with interface type 'aggregated ethernet' must be 'platform' or 'data' ",
            ));
        }
        if me.ifclass == Some(IfClass::Data)
            && matches!(aemode, Some("balanced" | "802.3ad"))
            && me.txhashpolicy.as_deref() != Some("layer2")
        {
            return Err(Error::invalid(
                "Device interface with interface class 'data', and interface type 'aggregated ethernet' must have a Tx Hash Policy of 'layer2'.",
            ));
        }
        let types = v.network_types(me.id);
        if types
            .iter()
            .any(|t| *t == addressing::MGMT || *t == "admin")
            && !matches!(aemode, Some("802.3ad" | "active_standby"))
        {
            return Err(Error::invalid(format!(
                "Device interface with network type {types:?}, and interface type 'aggregated ethernet' must be in mode 802.3ad, active_standby"
            )));
        }
    }
    // Ports of one PCI device share a class.
    if !matches!(me.iftype, IfType::Vlan | IfType::Vf | IfType::Virtual) {
        for p in v.ports_under(me) {
            for other in v.ports {
                if other.pciaddr != p.pciaddr || other.dev_id == p.dev_id {
                    continue;
                }
                let Some(pif) = v
                    .interfaces
                    .iter()
                    .find(|i| i.port_uuid.as_deref() == Some(other.uuid.as_str()))
                else {
                    continue;
                };
                if pif.id == me.id {
                    continue;
                }
                let clash = match pif.ifclass {
                    None => v.used_by(pif).iter().any(|u| u.ifclass != me.ifclass),
                    Some(c) => Some(c) != me.ifclass,
                };
                if clash && me.ifclass.is_some() {
                    return Err(Error::invalid(format!(
                        "Shared device {} cannot be shared with different interface classes ",
                        p.pciaddr
                    )));
                }
            }
        }
    }
    // MTU against the lower and upper interfaces.
    datanet::check_mtu(me.imtu)?;
    if matches!(me.iftype, IfType::Vlan | IfType::Vf | IfType::Ethernet) {
        for l in &lowers {
            if me.imtu > l.imtu {
                return Err(Error::invalid(format!(
                    "Interface MTU ({}) cannot be larger than MTU of underlying interface ({})",
                    me.imtu, l.imtu
                )));
            }
        }
    }
    for u in v.used_by(me) {
        if u.iftype != IfType::Ae && me.imtu < u.imtu {
            return Err(Error::invalid(format!(
                "Interface MTU ({}) cannot be smaller than the interface MTU ({}) using this interface",
                me.imtu, u.imtu
            )));
        }
    }
    // Data networks ask for a large enough MTU.
    for d in v.datanetworks_of(me.id) {
        let need = d.mtu
            + if d.network_type == NetworkType::Vxlan {
                VXLAN_MTU_OVERHEAD
            } else {
                0
            };
        if me.imtu < need {
            return Err(Error::invalid(format!(
                "The interface MTU {} must be larger than the '{}' datanetwork MTU requirement.",
                me.imtu, d.mtu
            )));
        }
    }
    if me.iftype == IfType::Vf {
        check_vf(v, me, &lowers)?;
    }
    if me.ptp_role != "none" && me.ifclass != Some(IfClass::Platform) {
        return Err(Error::invalid(
            "Invalid interface class for ptp_role: only platform interfaces take a PTP role",
        ));
    }
    check_rates(v, me, &lowers)?;
    Ok(())
}

/// sysinv's `_check_interface_class` (transition, host type, type).
fn check_class(v: &HostView<'_>, me: &Interface, before: Option<&Interface>) -> Result<(), Error> {
    if let Some(b) = before
        && b.ifclass != me.ifclass
    {
        let types = v.network_types(me.id);
        if !types.is_empty() && !matches!(me.ifclass, Some(IfClass::Platform | IfClass::PciSriov)) {
            return Err(Error::invalid(format!(
                "The class of interface {} cannot be changed to {} while platform networks are assigned to it ({}): remove them first (interface-network-remove)",
                me.ifname,
                class_name(me.ifclass),
                types.join(", ")
            )));
        }
        let dns = v.datanetworks_of(me.id);
        if !dns.is_empty()
            && !matches!(
                me.ifclass,
                Some(IfClass::Data | IfClass::PciSriov | IfClass::PciPassthrough)
            )
        {
            return Err(Error::invalid(format!(
                "The class of interface {} cannot be changed to {} while data networks are assigned to it ({}): remove them first (interface-datanetwork-remove)",
                me.ifname,
                class_name(me.ifclass),
                dns.iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let used_by = v.used_by_names(b);
        let sriov_from_platform =
            me.ifclass == Some(IfClass::PciSriov) && b.ifclass == Some(IfClass::Platform);
        if !sriov_from_platform && me.ifclass.is_some() && !used_by.is_empty() {
            if b.ifclass == Some(IfClass::Platform) {
                return Err(Error::invalid(format!(
                    "The class of an interface with platform networks cannot be changed to {} since it is being used by {used_by:?}",
                    class_name(me.ifclass)
                )));
            }
            if me.ifclass == Some(IfClass::Platform)
                && matches!(
                    b.ifclass,
                    Some(IfClass::Data | IfClass::PciSriov | IfClass::PciPassthrough)
                )
            {
                return Err(Error::invalid(format!(
                    "The class of a non-platform interface cannot be changed to platform since it is being used by {used_by:?}"
                )));
            }
        }
    }
    let Some(c) = me.ifclass else {
        if v.simplex && me.ifname == "lo" && before.is_some_and(|b| b.ifclass.is_some()) {
            return Err(Error::invalid(
                "The loopback interface cannot be changed for an all-in-one simplex system",
            ));
        }
        return Ok(());
    };
    if c == IfClass::Data && !v.is_worker() {
        return Err(Error::invalid(
            "The data interface class is only supported on nodes supporting worker functions",
        ));
    }
    if c.is_pci() && !matches!(me.iftype, IfType::Ethernet | IfType::Vf) {
        return Err(Error::invalid(
            "The pci-passthrough, pci-sriov interface class is only valid on Ethernet and VF interfaces",
        ));
    }
    Ok(())
}

/// sysinv's `_check_interface_sriov`.
fn check_sriov(v: &HostView<'_>, me: &Interface) -> Result<(), Error> {
    if me.ifclass.is_none() {
        return Ok(());
    }
    if me.ifclass != Some(IfClass::PciSriov) {
        if me.sriov_numvfs > 0 {
            return Err(Error::invalid(
                "Number of SR-IOV VFs is specified but interface class is not pci-sriov.",
            ));
        }
        if me.sriov_vf_driver.is_some() {
            return Err(Error::invalid(
                "SR-IOV VF driver is specified but interface class is not pci-sriov.",
            ));
        }
        return Ok(());
    }
    if me.sriov_numvfs <= 0 {
        return Err(Error::invalid(
            "Value for number of SR-IOV VFs must be > 0.",
        ));
    }
    if let Some(d) = &me.sriov_vf_driver
        && !VF_DRIVERS.contains(&d.as_str())
    {
        return Err(Error::invalid(format!(
            "Value for SR-IOV VF driver must be one of {}",
            VF_DRIVERS.join(", ")
        )));
    }
    if me.iftype == IfType::Ethernet && me.uses.is_empty() {
        let p = v
            .port_of(me)
            .ok_or_else(|| Error::invalid("Exactly one port must be enabled."))?;
        let total = p.sriov_totalvfs.unwrap_or(0);
        if total == 0 {
            return Err(Error::invalid(
                "SR-IOV can't be configured on this interface",
            ));
        }
        if me.sriov_numvfs > total {
            return Err(Error::invalid(format!(
                "The interface support a maximum of {total} VFs"
            )));
        }
        if p.driver.is_empty() {
            return Err(Error::invalid("Corresponding port has invalid driver"));
        }
    }
    Ok(())
}

fn check_vf(v: &HostView<'_>, me: &Interface, lowers: &[&Interface]) -> Result<(), Error> {
    if me.ifclass != Some(IfClass::PciSriov) {
        return Err(Error::invalid(
            "VF interfaces must have an interface class of pci-sriov",
        ));
    }
    if lowers.len() != 1 {
        return Err(Error::invalid(
            "VF interfaces can only use one lower pci-sriov interface",
        ));
    }
    let lower = lowers[0];
    if !matches!(lower.iftype, IfType::Vf | IfType::Ethernet) {
        return Err(Error::invalid(format!(
            "VF interfaces cannot be created over interfaces of type {}",
            lower.iftype.as_str()
        )));
    }
    if lower.ifclass != Some(IfClass::PciSriov) {
        return Err(Error::invalid(
            "VF interfaces must be created over an interface of class pci-sriov",
        ));
    }
    if me.sriov_numvfs <= 0 {
        return Err(Error::invalid(
            "Value for number of SR-IOV VFs must be > 0.",
        ));
    }
    let mut avail = lower.sriov_numvfs - 1;
    for u in v.used_by(lower) {
        if u.id != me.id {
            avail -= u.sriov_numvfs;
        }
    }
    if me.sriov_numvfs > avail {
        return Err(Error::invalid(format!(
            "The number of virtual functions ({}) must be less than or equal to the available VFs ({avail}) available on the underlying interface ({})",
            me.sriov_numvfs, lower.ifname
        )));
    }
    Ok(())
}

/// sysinv's rate-limit checks (a VF's share of its port's link, a platform
/// interface's external traffic).
fn check_rates(v: &HostView<'_>, me: &Interface, lowers: &[&Interface]) -> Result<(), Error> {
    if me.max_tx_rate.is_none() && me.max_rx_rate.is_none() {
        return Ok(());
    }
    for (what, r) in [
        ("max_tx_rate", me.max_tx_rate),
        ("max_rx_rate", me.max_rx_rate),
    ] {
        if r.is_some_and(|r| r < 0) {
            return Err(Error::invalid(format!(
                "{what} must be an non-negative integer value."
            )));
        }
    }
    if me.iftype == IfType::Vf {
        if me.max_rx_rate.is_some() {
            return Err(Error::invalid(
                "max_rx_rate is not applicable for VF interfaces",
            ));
        }
        let Some(lower) = lowers.first() else {
            return Ok(());
        };
        let Some(port) = v.ports_under(lower).into_iter().next() else {
            return Ok(());
        };
        let speed = port.speed.ok_or_else(|| {
            Error::invalid(format!(
                "Port speed for {} could not be determined. Check if the port is cabled correctly.",
                port.name
            ))
        })?;
        // 10% of the link is kept for the PF's own traffic.
        let total = speed * 9 / 10;
        let used: i64 = v
            .used_by(lower)
            .iter()
            .filter(|u| u.id != me.id && u.iftype == IfType::Vf)
            .map(|u| u.max_tx_rate.unwrap_or(0) * u.sriov_numvfs)
            .sum();
        if used + me.max_tx_rate.unwrap_or(0) * me.sriov_numvfs > total {
            return Err(Error::invalid(format!(
                "Configured (max_tx_rate*sriov_numvfs) exceeds available link speed bandwidth: {} Mbps.",
                total - used
            )));
        }
        return Ok(());
    }
    if !(me.ifclass == Some(IfClass::Platform)
        && matches!(me.iftype, IfType::Ethernet | IfType::Ae | IfType::Vlan))
    {
        return Err(Error::invalid(format!(
            "max_tx_rate/max_rx_rate modification not allowed for the provided interface class {} and interface type {}",
            class_name(me.ifclass),
            me.iftype.as_str()
        )));
    }
    let types = v.network_types(me.id);
    let internal = [
        addressing::PXEBOOT,
        addressing::CLUSTER_HOST,
        addressing::CLUSTER_POD,
        addressing::CLUSTER_SERVICE,
    ];
    if types.iter().any(|t| internal.contains(t)) {
        return Err(Error::invalid(format!(
            "Rate limit is not allowed for internal network types {internal:?}"
        )));
    }
    if types.contains(&addressing::MGMT) {
        return Err(Error::invalid(
            "Rate limit for mgmt interfaces is only allowed for DC setups",
        ));
    }
    Ok(())
}

/// The class, modes and defaults sysinv's `_set_defaults` gives.
fn set_defaults(me: &mut Interface) {
    if me.aemode.is_none() {
        me.aemode = Some("active_standby".into());
    }
    if me.ifclass == Some(IfClass::Data) {
        me.ipv4_mode.get_or_insert_with(|| "disabled".into());
        me.ipv6_mode.get_or_insert_with(|| "disabled".into());
    }
}

/// The MAC of an interface over others: its first lower's (an AE's
/// first member's; sysinv keeps the boot port's when it is a member).
fn lower_mac(v: &HostView<'_>, me: &Interface) -> Option<String> {
    if let Some(p) = v.port_of(me) {
        return Some(p.mac.clone());
    }
    let first = me.uses.first().and_then(|id| v.by_id(*id))?;
    first.imac.clone()
}

/// Creates the ethernet interface of each port of `host` that has none
/// (named after the port, with its MAC and MTU, no class): what sysinv's
/// conductor does when the agent reports ports. Returns how many it made.
pub fn sync_ports(
    repo: &mut dyn ConfigRepo,
    host_uuid: &str,
    ports: &[PortFacts],
    now: Timestamp,
) -> Result<usize, Error> {
    let have = repo.interfaces_of(host_uuid)?;
    let mut made = 0;
    for p in ports {
        if have
            .iter()
            .any(|i| i.port_uuid.as_deref() == Some(p.uuid.as_str()))
        {
            continue;
        }
        // A name the operator took meanwhile keeps the port unmade; its
        // interface comes once the name is free.
        if have.iter().any(|i| i.ifname == p.name) {
            continue;
        }
        let i = Interface {
            id: repo.next_id(Seq::Interface)?,
            uuid: starling_common::new_uuid(),
            host_uuid: host_uuid.to_string(),
            ifname: p.name.clone(),
            iftype: IfType::Ethernet,
            ifclass: None,
            imac: Some(p.mac.clone()),
            imtu: if (datanet::MTU_MIN..=datanet::MTU_MAX).contains(&p.mtu) {
                p.mtu
            } else {
                DEFAULT_MTU
            },
            aemode: None,
            txhashpolicy: None,
            primary_reselect: None,
            vlan_id: None,
            uses: Vec::new(),
            port_uuid: Some(p.uuid.clone()),
            sriov_numvfs: 0,
            sriov_vf_driver: None,
            ptp_role: "none".into(),
            max_tx_rate: None,
            max_rx_rate: None,
            ipv4_mode: None,
            ipv6_mode: None,
            ipv4_pool: None,
            ipv6_pool: None,
            created_at: now,
            updated_at: None,
        };
        repo.insert_interface(&i)?;
        made += 1;
    }
    Ok(made)
}

/// Forgets a host gone from inventory: its interfaces and their
/// assignments.
pub fn forget_host(repo: &mut dyn ConfigRepo, host_uuid: &str) -> Result<(), Error> {
    let mine = repo.interfaces_of(host_uuid)?;
    if mine.is_empty() {
        return Ok(());
    }
    let ids: BTreeSet<i64> = mine.iter().map(|i| i.id).collect();
    for a in repo.interface_networks_of(host_uuid)? {
        if ids.contains(&a.interface_id) {
            repo.delete_interface_network(a.id)?;
        }
    }
    for a in repo.interface_datanetworks_of(host_uuid)? {
        if ids.contains(&a.interface_id) {
            repo.delete_interface_datanetwork(a.id)?;
        }
    }
    for i in mine {
        repo.delete_interface(i.id)?;
    }
    Ok(())
}

/// Whether some port of `host` has no interface yet.
pub fn ports_unsynced(
    repo: &mut dyn ConfigRepo,
    host_uuid: &str,
    ports: &[PortFacts],
) -> Result<bool, Error> {
    let have = repo.interfaces_of(host_uuid)?;
    Ok(ports.iter().any(|p| {
        !have
            .iter()
            .any(|i| i.port_uuid.as_deref() == Some(p.uuid.as_str()) || i.ifname == p.name)
    }))
}

fn check_choice(what: &str, v: &Option<String>, allowed: &[&str]) -> Result<(), Error> {
    match v {
        Some(x) => one_of(what, x, allowed),
        None => Ok(()),
    }
}

/// Checks that apply before defaults (sysinv checks the MTU and VLAN id
/// first).
fn check_given(f: &InterfaceFields) -> Result<(), Error> {
    if let Some(m) = f.imtu {
        datanet::check_mtu(m)?;
    }
    if let Some(id) = f.vlan_id
        && !(1..=4094).contains(&id)
    {
        return Err(Error::invalid("VLAN id must be between 1 and 4094."));
    }
    check_choice("aggregated ethernet mode", &f.aemode, AE_MODES)?;
    check_choice("Tx Hash Policy", &f.txhashpolicy, TX_HASH_POLICIES)?;
    check_choice("PTP role", &f.ptp_role, PTP_ROLES)?;
    check_choice("SR-IOV VF driver", &f.sriov_vf_driver, VF_DRIVERS)?;
    if let Some(n) = f.sriov_numvfs
        && n < 0
    {
        return Err(Error::invalid(
            "Value for number of SR-IOV VFs is an integer value.",
        ));
    }
    Ok(())
}

/// `host-if-add`: the new interface, checked whole, then stored (an AE's
/// members take its MTU).
pub fn add(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    f: &InterfaceFields,
    now: Timestamp,
) -> Result<Interface, Error> {
    let ifname = f
        .ifname
        .clone()
        .ok_or_else(|| Error::invalid("Interface name (ifname) is required."))?;
    let t = f.iftype.as_deref().unwrap_or("ethernet");
    let iftype = IfType::parse(t).ok_or_else(|| {
        Error::invalid("Device interface type must be one of ae, vlan, ethernet, virtual, vf")
    })?;
    check_given(f)?;
    if iftype == IfType::Vlan && f.vlan_id.is_none() {
        return Err(Error::invalid("VLAN id must be specified."));
    }
    let ifclass = IfClass::parse(f.ifclass.as_deref().unwrap_or("none"))?;
    let mut me = Interface {
        id: 0,
        uuid: starling_common::new_uuid(),
        host_uuid: v.host.uuid.clone(),
        ifname,
        iftype,
        ifclass,
        imac: None,
        imtu: f.imtu.unwrap_or(DEFAULT_MTU),
        aemode: f.aemode.clone(),
        txhashpolicy: f.txhashpolicy.clone(),
        primary_reselect: f.primary_reselect.clone(),
        vlan_id: f.vlan_id,
        uses: Vec::new(),
        port_uuid: None,
        sriov_numvfs: f.sriov_numvfs.unwrap_or(0),
        sriov_vf_driver: f.sriov_vf_driver.clone(),
        ptp_role: f.ptp_role.clone().unwrap_or_else(|| "none".into()),
        max_tx_rate: f.max_tx_rate,
        max_rx_rate: f.max_rx_rate,
        ipv4_mode: f.ipv4_mode.clone(),
        ipv6_mode: f.ipv6_mode.clone(),
        ipv4_pool: f.ipv4_pool.clone(),
        ipv6_pool: f.ipv6_pool.clone(),
        created_at: now,
        updated_at: None,
    };
    set_defaults(&mut me);
    // The host must be locked, but on a simplex system for an SR-IOV VF.
    let vf_on_simplex =
        v.simplex && me.iftype == IfType::Vf && me.ifclass == Some(IfClass::PciSriov);
    if !vf_on_simplex {
        check_locked(v)?;
    }
    if me.ifclass == Some(IfClass::PciSriov) && f.sriov_numvfs.is_none() && iftype != IfType::Vf {
        return Err(Error::invalid(
            "A network type of pci-sriov must specify a number for SR-IOV VFs.",
        ));
    }
    if let Some(ports) = &f.ports
        && !(ports.is_empty() && iftype == IfType::Virtual)
    {
        me.port_uuid = Some(check_ports(v, &me, ports)?);
    }
    if let Some(uses) = &f.uses {
        me.uses = resolve_uses(v, uses)?;
    }
    match iftype {
        IfType::Ae | IfType::Vlan | IfType::Vf if me.uses.is_empty() => {
            return Err(Error::invalid(format!(
                "An interface of type {} uses at least one interface (uses)",
                iftype.as_str()
            )));
        }
        IfType::Ethernet if me.uses.is_empty() && me.port_uuid.is_none() => {
            return Err(Error::invalid("A port must be selected."));
        }
        _ => {}
    }
    check_port_names(v, &me)?;
    check_sriov(v, &me)?;
    check_address_modes(repo, &mut me)?;
    check_data(v, &me, None)?;
    me.imac = lower_mac(v, &me).or_else(|| Some("00:00:00:00:00:00".into()));
    me.id = repo.next_id(Seq::Interface)?;
    repo.insert_interface(&me)?;
    if me.iftype == IfType::Ae {
        set_member_mtus(repo, v, &me.uses, me.imtu, now)?;
    }
    Ok(me)
}

/// The AE's members take its MTU (sysinv's `_update_interface_mtu`).
fn set_member_mtus(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    members: &[i64],
    mtu: i64,
    now: Timestamp,
) -> Result<(), Error> {
    for id in members {
        if let Some(m) = v.by_id(*id)
            && m.imtu != mtu
        {
            let mut m = m.clone();
            m.imtu = mtu;
            m.updated_at = Some(now);
            repo.update_interface(&m)?;
        }
    }
    Ok(())
}

/// `host-if-modify`: the changes given, checked against the interface as
/// it becomes.
pub fn modify(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    key: &str,
    f: &InterfaceFields,
    now: Timestamp,
) -> Result<Interface, Error> {
    let before = v
        .find(key)
        .cloned()
        .ok_or_else(|| Error::not_found(format!("Interface {key} could not be found.")))?;
    check_given(f)?;
    if let Some(t) = &f.iftype
        && t != before.iftype.as_str()
    {
        return Err(Error::invalid(format!(
            "The type of interface {} cannot be changed ({} to {t}): delete it and add one",
            before.ifname,
            before.iftype.as_str()
        )));
    }
    let only_rates = (f.max_tx_rate.is_some() || f.max_rx_rate.is_some()) && !needs_reboot(f);
    let runtime_rates = only_rates
        && before.ifclass == Some(IfClass::Platform)
        && matches!(before.iftype, IfType::Ethernet | IfType::Ae | IfType::Vlan);
    let mut me = before.clone();
    if let Some(n) = &f.ifname {
        me.ifname = n.clone();
    }
    if let Some(c) = &f.ifclass {
        me.ifclass = IfClass::parse(c)?;
    }
    if let Some(m) = f.imtu {
        me.imtu = m;
    }
    if f.aemode.is_some() {
        me.aemode = f.aemode.clone();
    }
    if f.txhashpolicy.is_some() {
        me.txhashpolicy = f.txhashpolicy.clone();
    }
    if f.primary_reselect.is_some() {
        me.primary_reselect = f.primary_reselect.clone();
    }
    if f.vlan_id.is_some() {
        me.vlan_id = f.vlan_id;
    }
    if let Some(n) = f.sriov_numvfs {
        me.sriov_numvfs = n;
    }
    if f.sriov_vf_driver.is_some() {
        me.sriov_vf_driver = f.sriov_vf_driver.clone();
    }
    if let Some(r) = &f.ptp_role {
        me.ptp_role = r.clone();
    }
    if f.max_tx_rate.is_some() {
        me.max_tx_rate = f.max_tx_rate;
    }
    if f.max_rx_rate.is_some() {
        me.max_rx_rate = f.max_rx_rate;
    }
    for (given, slot) in [
        (&f.ipv4_mode, &mut me.ipv4_mode),
        (&f.ipv6_mode, &mut me.ipv6_mode),
        (&f.ipv4_pool, &mut me.ipv4_pool),
        (&f.ipv6_pool, &mut me.ipv6_pool),
    ] {
        if let Some(x) = given {
            *slot = Some(x.clone());
        }
    }
    // Leaving pci-sriov drops the VF parameters not given.
    if me.ifclass != Some(IfClass::PciSriov) {
        if f.sriov_numvfs.is_none() {
            me.sriov_numvfs = 0;
        }
        if f.sriov_vf_driver.is_none() {
            me.sriov_vf_driver = None;
        }
    }
    if !runtime_rates {
        let sriov_pf_on_simplex = v.simplex
            && me.iftype == IfType::Ethernet
            && me.ifclass == Some(IfClass::PciSriov)
            && before.ifclass != Some(IfClass::PciSriov);
        if !sriov_pf_on_simplex {
            check_locked(v)?;
        }
    }
    check_sriov(v, &me)?;
    if me.aemode.as_deref() == Some("active_standby") {
        me.txhashpolicy = None;
    }
    if me.ifclass.is_none() {
        me.sriov_numvfs = 0;
        me.sriov_vf_driver = None;
        me.ipv4_mode = None;
        me.ipv6_mode = None;
    } else {
        set_defaults(&mut me);
    }
    if me.ipv4_mode.as_deref() != Some("pool") {
        me.ipv4_pool = None;
    }
    if me.ipv6_mode.as_deref() != Some("pool") {
        me.ipv6_pool = None;
    }
    if let Some(uses) = &f.uses {
        me.uses = resolve_uses(v, uses)?;
        if me.uses.contains(&me.id) {
            return Err(Error::invalid("An interface cannot use itself"));
        }
    }
    if let Some(ports) = &f.ports {
        me.port_uuid = Some(check_ports(v, &me, ports)?);
    }
    check_port_names(v, &me)?;
    check_address_modes(repo, &mut me)?;
    check_data(v, &me, Some(&before))?;
    if f.uses.is_some() {
        me.imac = lower_mac(v, &me).or(me.imac);
    }
    me.updated_at = Some(now);
    repo.update_interface(&me)?;
    if me.iftype == IfType::Ae {
        set_member_mtus(repo, v, &me.uses, me.imtu, now)?;
        let gone: Vec<i64> = before
            .uses
            .iter()
            .filter(|id| !me.uses.contains(id))
            .copied()
            .collect();
        set_member_mtus(repo, v, &gone, DEFAULT_MTU, now)?;
    }
    // Upper interfaces over a changed lower take its MAC.
    if me.imac != before.imac {
        for u in v.used_by(&before) {
            if u.iftype != IfType::Vf && u.uses.first() == Some(&me.id) {
                let mut u = u.clone();
                u.imac = me.imac.clone();
                u.updated_at = Some(now);
                repo.update_interface(&u)?;
            }
        }
    }
    Ok(me)
}

/// Whether a change to interface fields needs the host locked and
/// unlocked (everything but a platform interface's rate limits).
pub fn needs_reboot(f: &InterfaceFields) -> bool {
    InterfaceFields {
        max_tx_rate: None,
        max_rx_rate: None,
        ..f.clone()
    } != InterfaceFields::default()
}

/// `host-if-delete`: its assignments go with it; an AE's members get the
/// default MTU back.
pub fn delete(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    key: &str,
    now: Timestamp,
) -> Result<Interface, Error> {
    let me = v
        .find(key)
        .cloned()
        .ok_or_else(|| Error::not_found(format!("Interface {key} could not be found.")))?;
    let vf_on_simplex =
        v.simplex && me.iftype == IfType::Vf && me.ifclass == Some(IfClass::PciSriov);
    if !vf_on_simplex {
        check_locked(v)?;
    }
    if me.system_made() {
        return Err(Error::invalid(
            "Cannot delete a system created ethernet interface",
        ));
    }
    let used_by = v.used_by_names(&me);
    if !used_by.is_empty() {
        return Err(Error::invalid(format!(
            "Cannot delete interface {}, still in use by {}",
            me.ifname,
            used_by.join(", ")
        )));
    }
    if me.iftype == IfType::Virtual && v.network_types(me.id).contains(&addressing::MGMT) {
        return Err(Error::invalid(
            "Cannot delete a virtual management interface.",
        ));
    }
    for (i, _) in v.networks.iter().filter(|(i, _)| i.interface_id == me.id) {
        repo.delete_interface_network(i.id)?;
    }
    for (i, _) in v
        .datanetworks
        .iter()
        .filter(|(i, _)| i.interface_id == me.id)
    {
        repo.delete_interface_datanetwork(i.id)?;
    }
    repo.delete_interface(me.id)?;
    if me.iftype == IfType::Ae {
        set_member_mtus(repo, v, &me.uses, DEFAULT_MTU, now)?;
    }
    Ok(me)
}

/// The platform network types of which a host has one interface.
const ONE_PER_HOST: &[&str] = &[
    addressing::MGMT,
    addressing::OAM,
    addressing::CLUSTER_HOST,
    addressing::PXEBOOT,
    "storage",
    "admin",
];

/// `interface-network-assign`: a platform network on an interface (a
/// classless one becomes platform); the interface's address mode on it
/// becomes static for the networks whose addresses the system gives.
pub fn assign_network(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    all_hosts: &[HostFacts],
    interface: &str,
    network: &str,
    now: Timestamp,
) -> Result<InterfaceNetwork, Error> {
    let mut me = v
        .find(interface)
        .cloned()
        .ok_or_else(|| Error::invalid(format!("Interface {interface} could not be found.")))?;
    let net = repo
        .networks()?
        .into_iter()
        .find(|n| n.uuid.eq_ignore_ascii_case(network) || n.name == network)
        .ok_or_else(|| Error::invalid(format!("Network {network} could not be found.")))?;
    match me.ifclass {
        None => me.ifclass = Some(IfClass::Platform),
        Some(IfClass::Platform | IfClass::PciSriov) => {}
        Some(c) => {
            return Err(Error::invalid(format!(
                "An interface with interface class '{}' cannot assign platform networks.",
                c.as_str()
            )));
        }
    }
    let mine = v.network_types(me.id);
    if v.networks
        .iter()
        .any(|(i, n)| i.interface_id == me.id && n.id == net.id)
    {
        return Err(Error::conflict(format!(
            "Interface network with interface ID '{}' and network ID '{}' already exists.",
            me.id, net.id
        )));
    }
    let t = net.net_type.as_str();
    if ONE_PER_HOST.contains(&t)
        && v.interfaces
            .iter()
            .any(|i| i.id != me.id && v.network_types(i.id).contains(&t))
    {
        return Err(Error::conflict(format!(
            "An interface with '{t}' network type is already provisioned on this node"
        )));
    }
    if t == addressing::PXEBOOT && !mine.is_empty() {
        return Err(Error::invalid(format!(
            "You cannot assign a network of type '{t}' to an interface which is already assigned with a different network."
        )));
    }
    if mine.contains(&addressing::PXEBOOT) {
        return Err(Error::invalid(format!(
            "An interface assigned with a network of type '{}' cannot contain additional networks.",
            addressing::PXEBOOT
        )));
    }
    let controller = v.host.personality.as_deref() == Some("controller");
    if (t == addressing::OAM || t == "admin") && !controller {
        return Err(Error::invalid(format!(
            "The '{t}' network type is only supported on controller nodes."
        )));
    }
    if me.iftype == IfType::Ae {
        let m = me.aemode.as_deref().unwrap_or("");
        if (t == addressing::MGMT || t == "admin") && !["802.3ad", "active_standby"].contains(&m) {
            return Err(Error::invalid(format!(
                "Device interface with network type {t}, and interface type 'aggregated ethernet' must be in mode 802.3ad, active_standby"
            )));
        }
        if (t == addressing::OAM || t == addressing::CLUSTER_HOST) && !AE_MODES.contains(&m) {
            return Err(Error::invalid(format!(
                "Device interface with network type '{t}', and interface type 'aggregated ethernet' must be in mode 'active_standby' or 'balanced' or '802.3ad'."
            )));
        }
    }
    if t == addressing::CLUSTER_HOST && !controller {
        let controllers: Vec<&str> = all_hosts
            .iter()
            .filter(|h| h.personality.as_deref() == Some("controller"))
            .map(|h| h.uuid.as_str())
            .collect();
        let mut on_controller = false;
        for c in controllers {
            let theirs = repo.interface_networks_of(c)?;
            for i in repo.interfaces_of(c)? {
                if i.ifclass == Some(IfClass::Platform)
                    && theirs
                        .iter()
                        .any(|x| x.interface_id == i.id && x.network_id == net.id)
                {
                    on_controller = true;
                }
            }
        }
        if !on_controller {
            return Err(Error::invalid(format!(
                "Interface {} does not have associated cluster-host interface on controller.",
                me.ifname
            )));
        }
    }
    // The system gives these networks' addresses: static mode for the
    // pool's family.
    if [
        addressing::MGMT,
        addressing::OAM,
        addressing::CLUSTER_HOST,
        "admin",
    ]
    .contains(&t)
        && let Some(pu) = &net.pool_uuid
        && let Some(p) = repo.pool(pu)?
    {
        if p.network.is_ipv6() {
            me.ipv6_mode = Some("static".into());
            me.ipv6_pool = None;
        } else {
            me.ipv4_mode = Some("static".into());
            me.ipv4_pool = None;
        }
    }
    me.updated_at = Some(now);
    repo.update_interface(&me)?;
    let a = InterfaceNetwork {
        id: repo.next_id(Seq::InterfaceNetwork)?,
        uuid: starling_common::new_uuid(),
        interface_id: me.id,
        network_id: net.id,
    };
    repo.insert_interface_network(&a)?;
    Ok(a)
}

/// Data networks change on a locked host, but an SR-IOV interface's on a
/// simplex system (sysinv's exception), with sysinv's message.
fn check_locked_for_datanetworks(v: &HostView<'_>, sriov: bool) -> Result<(), Error> {
    if v.locked() || (v.simplex && sriov) {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Operation Rejected: Host '{}' is adminstrative '{}' ",
        v.host.hostname.as_deref().unwrap_or(&v.host.uuid),
        v.host.administrative
    )))
}

/// `interface-datanetwork-assign`: a data network on an interface (a
/// classless one becomes data).
pub fn assign_datanetwork(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    interface: &str,
    datanetwork: &str,
    now: Timestamp,
) -> Result<InterfaceDataNetwork, Error> {
    let mut me = v
        .find(interface)
        .cloned()
        .ok_or_else(|| Error::invalid(format!("Interface {interface} could not be found.")))?;
    let d = repo.datanetwork(datanetwork)?.ok_or_else(|| {
        Error::invalid(format!(
            "DataNetwork with uuid '{datanetwork}' does not exist. "
        ))
    })?;
    check_locked_for_datanetworks(v, me.ifclass == Some(IfClass::PciSriov))?;
    match me.ifclass {
        None => {
            if !v.is_worker() {
                return Err(Error::invalid(
                    "The data interface class is only supported on nodes supporting worker functions",
                ));
            }
            me.ifclass = Some(IfClass::Data);
            set_defaults(&mut me);
        }
        Some(IfClass::Data | IfClass::PciPassthrough | IfClass::PciSriov) => {}
        Some(c) => {
            return Err(Error::invalid(format!(
                "An interface with interface class '{}' cannot assign datanetworks.",
                c.as_str()
            )));
        }
    }
    let overhead = if d.network_type == NetworkType::Vxlan {
        VXLAN_MTU_OVERHEAD
    } else {
        0
    };
    if me.imtu < d.mtu + overhead {
        return Err(Error::invalid(format!(
            "The interface MTU {} must be larger than the '{}' datanetwork MTU requirement.",
            me.imtu, d.mtu
        )));
    }
    let mine = v.datanetworks_of(me.id);
    // One data network per SR-IOV interface (sysinv meant this check, but
    // compares the type with the class, so it never refuses).
    if me.ifclass == Some(IfClass::PciSriov)
        && let Some(first) = mine.first()
    {
        return Err(Error::conflict(format!(
            "Interface '{}' can have only one Data Network assignment. Data Network '{}' already assigned.",
            me.ifname, first.name
        )));
    }
    if mine.iter().any(|x| x.id == d.id) {
        return Err(Error::conflict(format!(
            "Interface '{}' assignment with Data Network '{}' already exists.",
            me.ifname, d.name
        )));
    }
    if me.iftype == IfType::Vlan && d.network_type == NetworkType::Vlan {
        return Err(Error::invalid(format!(
            "VLAN based data network '{}' cannot be assigned to a VLAN interface",
            d.name
        )));
    }
    if me.ifclass == Some(IfClass::Data) {
        for (x, dn) in &v.datanetworks {
            if dn.id != d.id || x.interface_id == me.id {
                continue;
            }
            if let Some(other) = v.by_id(x.interface_id)
                && other.ifclass == Some(IfClass::Data)
            {
                return Err(Error::conflict(format!(
                    "Data interface {} is already attached to this Data Network: {}.",
                    other.ifname, d.name
                )));
            }
        }
    }
    me.updated_at = Some(now);
    repo.update_interface(&me)?;
    let a = InterfaceDataNetwork {
        id: repo.next_id(Seq::InterfaceDataNetwork)?,
        uuid: starling_common::new_uuid(),
        interface_id: me.id,
        datanetwork_id: d.id,
    };
    repo.insert_interface_datanetwork(&a)?;
    Ok(a)
}

/// `interface-network-remove`.
pub fn remove_network(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    uuid: &str,
) -> Result<InterfaceNetwork, Error> {
    let (a, _) = v
        .networks
        .iter()
        .find(|(a, _)| a.uuid.eq_ignore_ascii_case(uuid))
        .ok_or_else(|| Error::not_found(format!("Interface network {uuid} could not be found.")))?;
    repo.delete_interface_network(a.id)?;
    Ok(a.clone())
}

/// `interface-datanetwork-remove`: the host locked (but for an SR-IOV
/// interface on a simplex system).
pub fn remove_datanetwork(
    repo: &mut dyn ConfigRepo,
    v: &HostView<'_>,
    uuid: &str,
) -> Result<InterfaceDataNetwork, Error> {
    let (a, _) = v
        .datanetworks
        .iter()
        .find(|(a, _)| a.uuid.eq_ignore_ascii_case(uuid))
        .ok_or_else(|| {
            Error::not_found(format!("Interface datanetwork {uuid} could not be found."))
        })?;
    let sriov = v
        .by_id(a.interface_id)
        .is_some_and(|i| i.ifclass == Some(IfClass::PciSriov));
    check_locked_for_datanetworks(v, sriov)?;
    repo.delete_interface_datanetwork(a.id)?;
    Ok(a.clone())
}

/// One interface of a host's network configuration, as its agent brings
/// it up: its device, what it is stacked on, and its addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetIf {
    /// The device's name on the host: a port's own name for its ethernet
    /// interface, the interface's name otherwise.
    pub name: String,
    pub kind: IfType,
    /// The port's MAC, for an ethernet interface over a port.
    pub mac: Option<String>,
    pub mtu: i64,
    pub vlan_id: Option<i64>,
    /// The devices it is stacked on (an AE's members, a VLAN's lower).
    pub lower: Vec<String>,
    pub aemode: Option<String>,
    pub txhashpolicy: Option<String>,
    pub primary_reselect: Option<String>,
    /// The platform network types assigned to it.
    pub networks: Vec<String>,
    /// The host's addresses on those networks, with their prefix lengths.
    pub addresses: Vec<(std::net::IpAddr, u8)>,
    /// The default route's gateway: the OAM network's on the OAM
    /// interface, else the management network's on a host that is not a
    /// controller.
    pub gateway: Option<std::net::IpAddr>,
    /// The SR-IOV virtual functions a pci-sriov port is to have.
    pub sriov_numvfs: Option<i64>,
}

/// Host `host`'s network configuration: its platform interfaces, its
/// SR-IOV ports (pci-sriov ethernet interfaces: their VF count) and the
/// interfaces under them, lower ones first. `pools` are the networks'
/// pools by type ([`addressing::network_pools`]).
pub fn network_config(
    repo: &mut dyn ConfigRepo,
    host: &addressing::AddressedHost,
    ports: &[PortFacts],
    pools: &[(String, addressing::AddressPool)],
) -> Result<Vec<NetIf>, Error> {
    let all = repo.interfaces_of(&host.uuid)?;
    if all.is_empty() {
        return Ok(Vec::new());
    }
    let nets = repo.networks()?;
    let assigned = repo.interface_networks_of(&host.uuid)?;
    let types_of = |id: i64| -> Vec<String> {
        assigned
            .iter()
            .filter(|a| a.interface_id == id)
            .filter_map(|a| nets.iter().find(|n| n.id == a.network_id))
            .map(|n| n.net_type.clone())
            .collect()
    };
    let by_id = |id: i64| all.iter().find(|i| i.id == id);
    // The platform interfaces, and everything under them.
    let mut chosen: BTreeSet<i64> = BTreeSet::new();
    let mut todo: Vec<i64> = all
        .iter()
        .filter(|i| {
            i.ifclass == Some(IfClass::Platform)
                || (i.ifclass == Some(IfClass::PciSriov) && i.iftype == IfType::Ethernet)
        })
        .map(|i| i.id)
        .collect();
    while let Some(id) = todo.pop() {
        if chosen.insert(id)
            && let Some(i) = by_id(id)
        {
            todo.extend(i.uses.iter().copied());
        }
    }
    fn depth(all: &[Interface], i: &Interface, seen: usize) -> usize {
        if seen > all.len() {
            return seen;
        }
        i.uses
            .iter()
            .filter_map(|id| all.iter().find(|x| x.id == *id))
            .map(|l| 1 + depth(all, l, seen + 1))
            .max()
            .unwrap_or(0)
    }
    let port_of = |i: &Interface| {
        i.port_uuid
            .as_deref()
            .and_then(|u| ports.iter().find(|p| p.uuid == u))
    };
    let os_name = |i: &Interface| port_of(i).map_or_else(|| i.ifname.clone(), |p| p.name.clone());
    let mut picked: Vec<&Interface> = all.iter().filter(|i| chosen.contains(&i.id)).collect();
    picked.sort_by_key(|i| (depth(&all, i, 0), i.id));
    let pool = |t: &str| pools.iter().find(|(pt, _)| pt == t).map(|(_, p)| p);
    let controller = addressing::is_controller_name(&host.hostname);
    let mut out = Vec::new();
    for i in picked {
        let networks = types_of(i.id);
        let mut addresses = Vec::new();
        for t in &networks {
            if let Some(p) = pool(t)
                && let Some(a) = addressing::host_address_in(repo, p, host)?
            {
                addresses.push((a, p.prefix));
            }
        }
        let gw = |t: &str| {
            networks
                .iter()
                .any(|n| n == t)
                .then(|| pool(t).and_then(|p| p.slot(addressing::Slot::Gateway)))
                .flatten()
        };
        let gateway = gw(addressing::OAM).or_else(|| {
            if controller {
                None
            } else {
                gw(addressing::MGMT)
            }
        });
        out.push(NetIf {
            name: os_name(i),
            kind: i.iftype,
            mac: port_of(i).map(|p| p.mac.clone()),
            mtu: i.imtu,
            vlan_id: i.vlan_id,
            lower: i
                .uses
                .iter()
                .filter_map(|id| by_id(*id))
                .map(os_name)
                .collect(),
            aemode: (i.iftype == IfType::Ae).then(|| i.aemode.clone()).flatten(),
            txhashpolicy: (i.iftype == IfType::Ae)
                .then(|| i.txhashpolicy.clone())
                .flatten(),
            primary_reselect: (i.iftype == IfType::Ae)
                .then(|| i.primary_reselect.clone())
                .flatten(),
            networks,
            addresses,
            gateway,
            sriov_numvfs: (i.ifclass == Some(IfClass::PciSriov) && i.iftype == IfType::Ethernet)
                .then_some(i.sriov_numvfs),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
