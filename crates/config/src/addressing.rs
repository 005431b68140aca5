//! Platform networks and their address pools (sysinv's `networks`,
//! `address_pools` and `addresses`, §1.11 and §5.2): pools with their
//! ranges and their four named addresses (floating, controller-0,
//! controller-1, gateway), networks of the platform's types each backed by
//! one pool, and the addresses hosts are given from the management and
//! cluster-host pools — checked as sysinv's address_pool.py and network.py
//! check them, with their messages.
//!
//! Every address handed out is a row ([`Address`]) so that no address is
//! given twice; a pool's named addresses are rows it points at.

use std::net::IpAddr;

use starling_common::{Error, Timestamp};

use crate::platform::{Oam, Subnet, bits, from_bits};
use crate::repo::{ConfigRepo, Seq};

/// The platform network types (sysinv's `ALLOWED_NETWORK_TYPES`).
pub const NETWORK_TYPES: &[&str] = &[
    MGMT,
    PXEBOOT,
    OAM,
    MULTICAST,
    "system-controller",
    CLUSTER_HOST,
    CLUSTER_POD,
    CLUSTER_SERVICE,
    "ironic",
    "system-controller-oam",
    "storage",
    "admin",
];

pub const MGMT: &str = "mgmt";
pub const OAM: &str = "oam";
pub const PXEBOOT: &str = "pxeboot";
pub const MULTICAST: &str = "multicast";
pub const CLUSTER_HOST: &str = "cluster-host";
pub const CLUSTER_POD: &str = "cluster-pod";
pub const CLUSTER_SERVICE: &str = "cluster-service";

/// Network types whose pool hands every host an address
/// (`<hostname>-<type>`) as it is provisioned.
pub const HOST_ADDRESSED: &[&str] = &[MGMT, CLUSTER_HOST];

/// Network types whose pools may change after installation (the others'
/// are read-only, as sysinv keeps them).
const WRITABLE: &[&str] = &[OAM, "admin", "system-controller", "system-controller-oam"];

/// Network types whose pools a simplex system may change while its
/// controller is locked.
const SIMPLEX_WRITABLE: &[&str] = &[MGMT, "storage"];

/// Pairs of network types whose pools may overlap.
const MAY_OVERLAP: &[(&str, &str)] = &[
    (OAM, "system-controller-oam"),
    (CLUSTER_POD, CLUSTER_SERVICE),
    (CLUSTER_POD, CLUSTER_HOST),
    (CLUSTER_SERVICE, CLUSTER_HOST),
];

/// Network types whose pools need the controllers' addresses (floating,
/// controller-0 and controller-1; the floating one alone on simplex,
/// except for OAM whose controller addresses sysinv never requires there).
const CONTROLLER_ADDRESSED: &[&str] = &[MGMT, "admin", PXEBOOT, CLUSTER_HOST, "ironic", "storage"];

/// How a pool picks the next address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Anywhere in the free part of the ranges (spread by the address's
    /// name, so freed addresses are not at once given again).
    Random,
    /// The lowest free address.
    Sequential,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Random => "random",
            Order::Sequential => "sequential",
        }
    }

    pub fn parse(s: &str) -> Option<Order> {
        [Order::Random, Order::Sequential]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One of a pool's four named addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Floating,
    Controller0,
    Controller1,
    Gateway,
}

impl Slot {
    pub const ALL: [Slot; 4] = [
        Slot::Floating,
        Slot::Controller0,
        Slot::Controller1,
        Slot::Gateway,
    ];

    /// Its REST field.
    pub fn field(self) -> &'static str {
        match self {
            Slot::Floating => "floating_address",
            Slot::Controller0 => "controller0_address",
            Slot::Controller1 => "controller1_address",
            Slot::Gateway => "gateway_address",
        }
    }

    /// The host name its address is named after on a network.
    pub fn hostname(self) -> &'static str {
        match self {
            Slot::Floating => "controller",
            Slot::Controller0 => "controller-0",
            Slot::Controller1 => "controller-1",
            Slot::Gateway => "controller-gateway",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// An address handed out: a pool's named address or a host's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub id: i64,
    pub uuid: String,
    /// `<hostname>-<network type>` (`controller-0-mgmt`, `worker-0-mgmt`),
    /// or `<pool>-<field>` for a pool of no network.
    pub name: String,
    pub address: IpAddr,
    pub prefix: u8,
    pub pool_id: Option<i64>,
    /// The host it was given to, for a host's address.
    pub host_uuid: Option<String>,
}

/// An address pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPool {
    pub id: i64,
    pub uuid: String,
    /// Unique.
    pub name: String,
    pub network: IpAddr,
    pub prefix: u8,
    pub order: Order,
    /// Inclusive start–end pairs, sorted, disjoint, inside the subnet.
    pub ranges: Vec<(IpAddr, IpAddr)>,
    /// The named addresses (id of the address row, the address), in
    /// [`Slot::ALL`]'s order.
    pub slots: [Option<(i64, IpAddr)>; 4],
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl AddressPool {
    /// 4 or 6.
    pub fn family(&self) -> u8 {
        if self.network.is_ipv4() { 4 } else { 6 }
    }

    pub fn subnet(&self) -> Subnet {
        Subnet {
            network: self.network,
            prefix: self.prefix,
        }
    }

    /// The address in `slot`.
    pub fn slot(&self, slot: Slot) -> Option<IpAddr> {
        self.slots[slot.index()].map(|(_, a)| a)
    }

    /// The id of the address row in `slot`.
    pub fn slot_id(&self, slot: Slot) -> Option<i64> {
        self.slots[slot.index()].map(|(id, _)| id)
    }

    #[cfg(test)]
    fn in_ranges(&self, a: IpAddr) -> bool {
        in_ranges(&self.ranges, a)
    }
}

fn in_ranges(ranges: &[(IpAddr, IpAddr)], a: IpAddr) -> bool {
    let (v, w) = bits(a);
    ranges.iter().any(|(s, e)| {
        let ((s, sw), (e, _)) = (bits(*s), bits(*e));
        sw == w && s <= v && v <= e
    })
}

/// A platform network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    /// One of [`NETWORK_TYPES`]; unique.
    pub net_type: String,
    /// Whether its hosts' addresses are given by DHCP.
    pub dynamic: bool,
    /// Its pool's uuid.
    pub pool_uuid: Option<String>,
    /// `IPv4` or `IPv6`: its pool's family.
    pub primary_pool_family: Option<String>,
}

/// An address pool's fields as given (`addrpool-add`, `-modify`). A named
/// address of `none` (or `null`, …) clears it on modify.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolFields {
    pub name: Option<String>,
    pub network: Option<String>,
    pub prefix: Option<String>,
    pub order: Option<String>,
    pub ranges: Option<Vec<(String, String)>>,
    /// In [`Slot::ALL`]'s order.
    pub slots: [Option<String>; 4],
}

/// `network-add`'s fields, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewNetwork {
    pub name: Option<String>,
    pub net_type: Option<String>,
    pub dynamic: Option<bool>,
    pub pool_uuid: Option<String>,
}

/// What the rules need to know of the system and its controllers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemFacts {
    pub simplex: bool,
    /// An unlocked controller's host name, if any.
    pub unlocked_controller: Option<String>,
}

fn family_name(f: u8) -> &'static str {
    if f == 4 { "IPv4" } else { "IPv6" }
}

fn version(a: IpAddr) -> u8 {
    if a.is_ipv4() { 4 } else { 6 }
}

/// sysinv's `NULL_VALUES`: how a named address is cleared.
fn is_null(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "" | "none" | "null" | "nothing" | "empty" | "undefined" | "unspecified"
    )
}

/// A pool's or network's name: not empty, at most 255 characters, no
/// control characters.
fn check_name(what: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid("Name must not be an empty string"));
    }
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "Invalid {what} name '{}': at most 255 characters, none of them control characters",
            name.escape_debug()
        )));
    }
    Ok(())
}

fn parse_ip(v: &str) -> Result<IpAddr, Error> {
    v.trim()
        .parse()
        .map_err(|_| Error::invalid(format!("Invalid IP address: {v}")))
}

/// The subnet of `network`/`prefix`, checked as sysinv's `validate_syntax`.
fn pool_subnet(network: &str, prefix: &str) -> Result<Subnet, Error> {
    let prefix: i64 = prefix
        .trim()
        .parse()
        .map_err(|_| Error::invalid(format!("Invalid prefix '{prefix}': a number")))?;
    if prefix < 1 {
        return Err(Error::invalid("Address prefix must be greater than 1"));
    }
    let a: IpAddr = network
        .trim()
        .parse()
        .map_err(|_| Error::invalid("Invalid IP address and prefix"))?;
    let (v, width) = bits(a);
    if prefix > i64::from(width) {
        return Err(Error::invalid("Invalid IP address and prefix"));
    }
    let prefix = prefix as u8;
    let host_mask = if prefix == width {
        0
    } else {
        (1u128 << (width - prefix)) - 1
    };
    if v & !host_mask == 0 {
        return Err(Error::invalid("Network must not be null"));
    }
    if v & host_mask != 0 {
        return Err(Error::invalid("Host bits must be zero"));
    }
    let unicast = match a {
        IpAddr::V4(v) => !v.is_broadcast() && !v.is_unspecified(),
        IpAddr::V6(v) => !v.is_unspecified(),
    };
    if !unicast && !a.is_multicast() {
        return Err(Error::invalid(
            "Network address must be a unicast address ora multicast address",
        ));
    }
    let s = Subnet { network: a, prefix };
    // sysinv's is_valid_subnet: room for at least 4 addresses.
    if s.size() < 4 {
        return Err(Error::invalid(format!(
            "Invalid subnet size {} with {s}. Please configure at least size /{} subnet",
            s.size(),
            if width == 32 { 30 } else { 126 }
        )));
    }
    Ok(s)
}

/// The default range: the subnet's usable addresses.
fn default_range(s: &Subnet) -> Vec<(IpAddr, IpAddr)> {
    vec![(s.first(), s.last())]
}

/// Ranges checked (sysinv's `_check_valid_range`) and sorted.
fn check_ranges(s: &Subnet, given: &[(String, String)]) -> Result<Vec<(IpAddr, IpAddr)>, Error> {
    let mut out: Vec<(IpAddr, IpAddr)> = Vec::new();
    for (start, end) in given {
        let (a, b) = (parse_ip(start)?, parse_ip(end)?);
        if version(a) != version(b) || version(a) != s.version() {
            return Err(Error::conflict(
                "Address pool range IP version must match network IP version",
            ));
        }
        for (position, x) in [("start", a), ("end", b)] {
            if !s.contains(x) {
                return Err(Error::conflict(format!(
                    "Range {position} address {x} is not within network {s}"
                )));
            }
        }
        if bits(a).0 > bits(b).0 {
            return Err(Error::conflict(format!(
                "Invalid range: start address {a} must be less than end address {b}"
            )));
        }
        if a == s.network {
            return Err(Error::conflict(format!(
                "Address pool range cannot include network address: {a}"
            )));
        }
        if s.version() == 4 && b == s.broadcast() {
            return Err(Error::conflict(format!(
                "Address pool range cannot include broadcast address: {b}"
            )));
        }
        if out
            .iter()
            .any(|(x, y)| bits(a).0 <= bits(*y).0 && bits(*x).0 <= bits(b).0)
        {
            return Err(Error::conflict(format!(
                "Addresses from {a}-{b} already contained in range"
            )));
        }
        out.push((a, b));
    }
    if out.is_empty() {
        return Ok(default_range(s));
    }
    out.sort_by_key(|(a, _)| bits(*a).0);
    Ok(out)
}

/// A named address checked against its pool (sysinv's
/// `is_valid_address_within_subnet` and `_within_range`).
fn check_slot(s: &Subnet, ranges: &[(IpAddr, IpAddr)], slot: Slot, a: IpAddr) -> Result<(), Error> {
    let fam = family_name(s.version());
    if version(a) != s.version() {
        return Err(Error::invalid(format!(
            "Invalid IP version {}: {a}. Please configure valid {fam} address for subnet {s}.",
            version(a)
        )));
    }
    if a == s.network {
        return Err(Error::invalid(format!(
            "Invalid IP address: {a}. Cannot use network address: {}. Please configure valid {fam} address.",
            s.network
        )));
    }
    if s.version() == 4 && a == s.broadcast() {
        return Err(Error::invalid(format!(
            "Cannot use broadcast address: {a}. Please configure valid {fam} address."
        )));
    }
    if !s.contains(a) {
        return Err(Error::invalid(format!(
            "IP Address {a} is not in subnet: {s}. Please configure valid {fam} address."
        )));
    }
    // sysinv asks the address to be in every range (a defect: see
    // docs/compatibility.md); it need only be in one.
    if slot != Slot::Gateway && !in_ranges(ranges, a) {
        let shown: Vec<String> = ranges.iter().map(|(x, y)| format!("{x}-{y}")).collect();
        return Err(Error::invalid(format!(
            "IP Address {a} is not in range: {}. Please configure valid {fam} address.",
            shown.join(",")
        )));
    }
    Ok(())
}

fn check_slot_duplicates(slots: &[Option<IpAddr>; 4]) -> Result<(), Error> {
    for (i, a) in slots.iter().enumerate() {
        let Some(a) = a else { continue };
        if let Some(j) = slots[..i].iter().position(|b| b.as_ref() == Some(a)) {
            return Err(Error::invalid(format!(
                "{} can not be the same as {}: {a}",
                Slot::ALL[i].field(),
                Slot::ALL[j].field()
            )));
        }
    }
    Ok(())
}

/// Every pool, by id.
pub fn pools(repo: &mut dyn ConfigRepo) -> Result<Vec<AddressPool>, Error> {
    repo.pools()
}

/// The pool of `uuid`, or sysinv's 404.
pub fn pool(repo: &mut dyn ConfigRepo, uuid: &str) -> Result<AddressPool, Error> {
    repo.pool(uuid)?
        .ok_or_else(|| Error::not_found(format!("Address pool {uuid} not found")))
}

/// The pools of the networks of `net_type` (`addrpool-list` filtered by
/// `network_type`).
pub fn pools_of_type(repo: &mut dyn ConfigRepo, net_type: &str) -> Result<Vec<AddressPool>, Error> {
    let mut out = Vec::new();
    for n in repo.networks()? {
        if n.net_type == net_type
            && let Some(u) = &n.pool_uuid
            && let Some(p) = repo.pool(u)?
        {
            out.push(p);
        }
    }
    Ok(out)
}

/// The name a pool's named address carries: `controller-0-mgmt` on a
/// network, `<pool>-controller0_address` otherwise.
fn slot_name(pool_name: &str, net_type: Option<&str>, slot: Slot) -> String {
    match net_type {
        Some(t) => format!("{}-{t}", slot.hostname()),
        None => format!("{pool_name}-{}", slot.field()),
    }
}

/// The network using pool `uuid`, if any.
fn network_of(repo: &mut dyn ConfigRepo, pool_uuid: &str) -> Result<Option<Network>, Error> {
    Ok(repo
        .networks()?
        .into_iter()
        .find(|n| n.pool_uuid.as_deref() == Some(pool_uuid)))
}

/// An address wanted in a slot: no other pool or host may hold it.
fn check_free(
    repo: &mut dyn ConfigRepo,
    pool_id: Option<i64>,
    a: IpAddr,
) -> Result<Option<Address>, Error> {
    match repo.address_at(a)? {
        None => Ok(None),
        Some(x) if x.pool_id.is_some() && x.pool_id == pool_id => Ok(Some(x)),
        Some(x) => {
            let owner = match (&x.host_uuid, x.pool_id) {
                (Some(h), _) => format!("host {h}"),
                (None, Some(p)) => match repo.pools()?.into_iter().find(|q| q.id == p) {
                    Some(q) => format!("the following address pool: {}", q.uuid),
                    None => format!("address pool {p}"),
                },
                (None, None) => "another record".into(),
            };
            Err(Error::conflict(format!(
                "Address {a} already assigned to {owner}"
            )))
        }
    }
}

/// `addrpool-add`.
pub fn add_pool(
    repo: &mut dyn ConfigRepo,
    f: &PoolFields,
    now: Timestamp,
) -> Result<AddressPool, Error> {
    add_pool_as(repo, f, starling_common::new_uuid(), now)
}

fn add_pool_as(
    repo: &mut dyn ConfigRepo,
    f: &PoolFields,
    uuid: String,
    now: Timestamp,
) -> Result<AddressPool, Error> {
    let name = f.name.as_deref().unwrap_or("").trim().to_string();
    check_name("address pool", &name)?;
    let network = f
        .network
        .as_deref()
        .ok_or_else(|| Error::invalid("Network IP address is required"))?;
    let prefix = f
        .prefix
        .as_deref()
        .ok_or_else(|| Error::invalid("Network prefix is required"))?;
    let subnet = pool_subnet(network, prefix)?;
    let order = match f.order.as_deref() {
        None => Order::Random,
        Some(o) => Order::parse(o).ok_or_else(order_error)?,
    };
    let ranges = check_ranges(&subnet, f.ranges.as_deref().unwrap_or(&[]))?;
    if repo.pools()?.iter().any(|p| p.name == name) {
        return Err(Error::conflict(format!(
            "Address pool {name} already exists"
        )));
    }
    let mut wanted = [None; 4];
    for (i, slot) in Slot::ALL.into_iter().enumerate() {
        if let Some(v) = f.slots[i].as_deref().filter(|v| !is_null(v)) {
            let a = parse_ip(v)?;
            check_slot(&subnet, &ranges, slot, a)?;
            wanted[i] = Some(a);
        }
    }
    check_slot_duplicates(&wanted)?;
    let mut pool = AddressPool {
        id: repo.next_id(Seq::AddressPool)?,
        uuid,
        name,
        network: subnet.network,
        prefix: subnet.prefix,
        order,
        ranges,
        slots: [None; 4],
        created_at: now,
        updated_at: None,
    };
    for (i, slot) in Slot::ALL.into_iter().enumerate() {
        if let Some(a) = wanted[i] {
            check_free(repo, None, a)?;
            let id = new_address(repo, slot_name(&pool.name, None, slot), a, &pool, None)?;
            pool.slots[i] = Some((id, a));
        }
    }
    repo.insert_pool(&pool)?;
    Ok(pool)
}

fn order_error() -> Error {
    Error::invalid("Network address allocation order must be one of: sequential, random")
}

fn new_address(
    repo: &mut dyn ConfigRepo,
    name: String,
    a: IpAddr,
    pool: &AddressPool,
    host_uuid: Option<&str>,
) -> Result<i64, Error> {
    let id = repo.next_id(Seq::Address)?;
    repo.insert_address(&Address {
        id,
        uuid: starling_common::new_uuid(),
        name,
        address: a,
        prefix: pool.prefix,
        pool_id: Some(pool.id),
        host_uuid: host_uuid.map(str::to_string),
    })?;
    Ok(id)
}

/// sysinv's `_check_modification_allowed`: pools of most networks are
/// read-only once the system is installed.
fn check_writable(
    net_type: Option<&str>,
    sys: &SystemFacts,
    filling_controllers: bool,
) -> Result<(), Error> {
    let Some(t) = net_type else { return Ok(()) };
    if WRITABLE.contains(&t) {
        return Ok(());
    }
    if SIMPLEX_WRITABLE.contains(&t) && sys.simplex {
        return match &sys.unlocked_controller {
            Some(h) => Err(Error::invalid(format!(
                "Cannot complete the action because Host {h} is in administrative state = unlocked"
            ))),
            None => Ok(()),
        };
    }
    // A duplex system may fill in a controller's missing address (a
    // controller deleted and added again).
    if filling_controllers && !sys.simplex {
        return Ok(());
    }
    Err(Error::conflict(
        "Address pool is read-only and cannot be modified or removed",
    ))
}

/// The named addresses a pool of a network of `t` must hold.
fn required_slots(t: Option<&str>, simplex: bool) -> &'static [Slot] {
    match t {
        Some(t) if t == OAM || CONTROLLER_ADDRESSED.contains(&t) => {
            if simplex {
                &[Slot::Floating]
            } else {
                &[Slot::Floating, Slot::Controller0, Slot::Controller1]
            }
        }
        _ => &[],
    }
}

/// A pool change's result: the pool as it became and the network it
/// backs (whose hosts' configuration may follow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolChange {
    pub pool: AddressPool,
    pub network: Option<Network>,
}

/// `addrpool-modify`: the fields given change (a named address given as
/// `none` is cleared), checked whole before anything is written; the
/// hosts' addresses must stay inside new ranges and follow a new prefix.
pub fn modify_pool(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    f: &PoolFields,
    sys: &SystemFacts,
    now: Timestamp,
) -> Result<PoolChange, Error> {
    let before = pool(repo, uuid)?;
    let net = network_of(repo, &before.uuid)?;
    let t = net.as_ref().map(|n| n.net_type.as_str());
    // The named addresses as they would become.
    let mut wanted: [Option<IpAddr>; 4] = [None; 4];
    for (i, slot) in Slot::ALL.into_iter().enumerate() {
        wanted[i] = match f.slots[i].as_deref() {
            None => before.slot(slot),
            Some(v) if is_null(v) => None,
            Some(v) => Some(parse_ip(v)?),
        };
    }
    let only_filling = f.name.is_none()
        && f.network.is_none()
        && f.prefix.is_none()
        && f.order.is_none()
        && f.ranges.is_none()
        && f.slots[Slot::Floating.index()].is_none()
        && f.slots[Slot::Gateway.index()].is_none()
        && [Slot::Controller0, Slot::Controller1].into_iter().all(|s| {
            f.slots[s.index()].is_none()
                || (before.slot(s).is_none() && wanted[s.index()].is_some())
        });
    check_writable(t, sys, only_filling)?;
    let mut after = before.clone();
    if let Some(n) = &f.name {
        let n = n.trim();
        check_name("address pool", n)?;
        if n != before.name && repo.pools()?.iter().any(|p| p.name == n) {
            return Err(Error::conflict(format!("Address pool {n} already exists")));
        }
        after.name = n.to_string();
    }
    let resubnet = f.network.is_some() || f.prefix.is_some();
    if resubnet {
        let network = f.network.clone().unwrap_or(before.network.to_string());
        let prefix = f.prefix.clone().unwrap_or(before.prefix.to_string());
        let s = pool_subnet(&network, &prefix)?;
        if s.version() != before.family() {
            return Err(Error::invalid(format!(
                "Invalid IP version {} {s}. Please configure valid {} subnet",
                s.version(),
                family_name(before.family())
            )));
        }
        after.network = s.network;
        after.prefix = s.prefix;
        if let Some(t) = t {
            check_overlap(repo, &after, t)?;
        }
    }
    let subnet = after.subnet();
    if let Some(r) = &f.ranges {
        after.ranges = check_ranges(&subnet, r)?;
        // Hosts' addresses must stay inside.
        let outside: Vec<String> = repo
            .addresses_in(before.id)?
            .into_iter()
            .filter(|a| !before.slots.iter().flatten().any(|(id, _)| *id == a.id))
            .filter(|a| !in_ranges(&after.ranges, a.address))
            .map(|a| format!("{}/{}", a.address, a.prefix))
            .collect();
        if !outside.is_empty() {
            return Err(Error::conflict(format!(
                "The new address pool ranges excludes addresses that have already been allocated: {}",
                outside.join(", ")
            )));
        }
    } else if resubnet {
        let kept: Vec<(String, String)> = before
            .ranges
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        after.ranges = check_ranges(&subnet, &kept)?;
    }
    if let Some(o) = &f.order {
        after.order = Order::parse(o).ok_or_else(order_error)?;
    }
    for (i, slot) in Slot::ALL.into_iter().enumerate() {
        if let Some(a) = wanted[i] {
            check_slot(&subnet, &after.ranges, slot, a)?;
        }
    }
    check_slot_duplicates(&wanted)?;
    let missing: Vec<&str> = required_slots(t, sys.simplex)
        .iter()
        .filter(|s| wanted[s.index()].is_none())
        .map(|s| s.field())
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "The field{} must not be empty: {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        )));
    }
    refit_hosts(repo, &after)?;
    set_slots(repo, &mut after, &wanted, t)?;
    after.updated_at = Some(now);
    repo.update_pool(&after)?;
    Ok(PoolChange {
        pool: after,
        network: net,
    })
}

/// The hosts' addresses of pool `p` (as it becomes) take its prefix; one
/// outside its subnet refuses the change. (The named addresses follow in
/// [`set_slots`].)
fn refit_hosts(repo: &mut dyn ConfigRepo, p: &AddressPool) -> Result<(), Error> {
    let subnet = p.subnet();
    for mut a in repo.addresses_in(p.id)? {
        if a.host_uuid.is_some() && a.prefix != p.prefix {
            if !subnet.contains(a.address) {
                return Err(Error::conflict(format!(
                    "Address {}/{} of host {} is not in the new network {subnet}",
                    a.address,
                    a.prefix,
                    a.host_uuid.as_deref().unwrap_or("")
                )));
            }
            a.prefix = p.prefix;
            repo.update_address(&a)?;
        }
    }
    Ok(())
}

/// Writes a pool's named addresses as `wanted`: rows made, moved, renamed
/// or dropped (the pool row itself is the caller's to write).
fn set_slots(
    repo: &mut dyn ConfigRepo,
    pool: &mut AddressPool,
    wanted: &[Option<IpAddr>; 4],
    net_type: Option<&str>,
) -> Result<(), Error> {
    // First the named addresses that go or move give theirs up, so two of
    // them may trade addresses in one change.
    for (i, w) in wanted.iter().enumerate() {
        if let Some((id, a)) = pool.slots[i]
            && *w != Some(a)
        {
            repo.delete_address(id)?;
            pool.slots[i] = None;
        }
    }
    for (i, slot) in Slot::ALL.into_iter().enumerate() {
        let name = slot_name(&pool.name, net_type, slot);
        let Some(a) = wanted[i] else { continue };
        match pool.slots[i] {
            // Kept: its name and prefix follow the pool's.
            Some((id, _)) => {
                let mut row = repo.address(id)?.ok_or_else(|| {
                    Error::conflict(format!("Address {id} of pool {} is missing", pool.uuid))
                })?;
                if row.name != name || row.prefix != pool.prefix {
                    row.name = name;
                    row.prefix = pool.prefix;
                    repo.update_address(&row)?;
                }
            }
            None => {
                if let Some(h) = check_free(repo, Some(pool.id), a)? {
                    // Held in this pool: by a host, or by a named address
                    // that keeps it.
                    if h.host_uuid.is_some()
                        || pool.slots.iter().flatten().any(|(id, _)| *id == h.id)
                    {
                        return Err(Error::conflict(format!("Address {a} is already allocated")));
                    }
                    repo.delete_address(h.id)?;
                }
                let id = new_address(repo, name, a, pool, None)?;
                pool.slots[i] = Some((id, a));
            }
        }
    }
    Ok(())
}

/// sysinv's `check_address_pools_overlaps`: a pool given to a network of
/// `t` may not share addresses with another network's pool (but for the
/// pairs allowed to).
fn check_overlap(repo: &mut dyn ConfigRepo, p: &AddressPool, t: &str) -> Result<(), Error> {
    let mut clashes = Vec::new();
    for n in repo.networks()? {
        let Some(u) = &n.pool_uuid else { continue };
        if *u == p.uuid
            || MAY_OVERLAP
                .iter()
                .any(|(a, b)| (*a == t && *b == n.net_type) || (*b == t && *a == n.net_type))
        {
            continue;
        }
        if let Some(q) = repo.pool(u)?
            && q.subnet().overlaps(&p.subnet())
        {
            clashes.push(format!(
                "'{}' {{{}}} assigned to {} network",
                q.name, q.uuid, n.net_type
            ));
        }
    }
    if clashes.is_empty() {
        return Ok(());
    }
    Err(Error::conflict(format!(
        "Address pool {}/{} overlaps with: {}",
        p.network,
        p.prefix,
        clashes.join(", ")
    )))
}

/// `addrpool-delete`: never the pool of an installed system's network; its
/// addresses go with it.
pub fn delete_pool(repo: &mut dyn ConfigRepo, uuid: &str) -> Result<PoolChange, Error> {
    let p = pool(repo, uuid)?;
    let net = network_of(repo, &p.uuid)?;
    if let Some(n) = &net {
        // Only the subcloud's re-homable networks (always writable) lose
        // their pool, and the network with it.
        if !WRITABLE.contains(&n.net_type.as_str()) || n.net_type == OAM {
            return Err(Error::invalid(format!(
                "Address pool is the primary for the following network: {}. Not possible to delete.",
                n.net_type
            )));
        }
        repo.delete_network(n.id)?;
    }
    for a in repo.addresses_in(p.id)? {
        repo.delete_address(a.id)?;
    }
    repo.delete_pool(p.id)?;
    Ok(PoolChange {
        pool: p,
        network: net,
    })
}

/// Every network, by id.
pub fn networks(repo: &mut dyn ConfigRepo) -> Result<Vec<Network>, Error> {
    repo.networks()
}

/// The network of `key` (uuid, or id as sysinv's client also asks).
pub fn network(repo: &mut dyn ConfigRepo, key: &str) -> Result<Network, Error> {
    repo.networks()?
        .into_iter()
        .find(|n| n.uuid.eq_ignore_ascii_case(key) || n.id.to_string() == key)
        .ok_or_else(|| Error::not_found(format!("Network {key} could not be found.")))
}

/// The network of type `t`, if there is one.
pub fn network_of_type(repo: &mut dyn ConfigRepo, t: &str) -> Result<Option<Network>, Error> {
    Ok(repo.networks()?.into_iter().find(|n| n.net_type == t))
}

/// `network-add`: the pool must be free and not overlap another network's;
/// the addresses its type needs are allocated (lowest first) and the pool's
/// named addresses renamed after the network.
pub fn add_network(
    repo: &mut dyn ConfigRepo,
    n: &NewNetwork,
    simplex: bool,
) -> Result<(Network, AddressPool), Error> {
    let t = n
        .net_type
        .as_deref()
        .ok_or_else(|| Error::invalid("Network type is required"))?;
    if !NETWORK_TYPES.contains(&t) {
        return Err(Error::invalid(format!("Network type {t} not supported")));
    }
    let name = n.name.clone().unwrap_or_else(|| t.to_string());
    check_name("network", &name)?;
    let pool_uuid = n
        .pool_uuid
        .as_deref()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::invalid("Address pool UUID has to be specified"))?;
    let mut p = pool(repo, pool_uuid)?;
    let nets = repo.networks()?;
    if nets.iter().any(|x| x.net_type == t) {
        return Err(Error::conflict(format!(
            "Network of type {t} already exists."
        )));
    }
    if nets.iter().any(|x| x.pool_uuid.as_deref() == Some(&p.uuid)) {
        return Err(Error::conflict("Network address pool already in-use."));
    }
    check_overlap(repo, &p, t)?;
    let mut wanted: [Option<IpAddr>; 4] = Slot::ALL.map(|s| p.slot(s));
    for s in required_slots(Some(t), simplex) {
        if wanted[s.index()].is_none() {
            let used = used_addresses(repo, &p, &wanted)?;
            wanted[s.index()] = Some(next_free(&p, &used, Order::Sequential, "")?);
        }
    }
    set_slots(repo, &mut p, &wanted, Some(t))?;
    repo.update_pool(&p)?;
    let net = Network {
        id: repo.next_id(Seq::Network)?,
        uuid: starling_common::new_uuid(),
        name,
        net_type: t.to_string(),
        dynamic: n.dynamic.unwrap_or(false),
        pool_uuid: Some(p.uuid.clone()),
        primary_pool_family: Some(family_name(p.family()).to_string()),
    };
    repo.insert_network(&net)?;
    Ok((net, p))
}

/// `network-delete`: the installed system's networks stay (sysinv's
/// rule), but for a simplex system's management network while its
/// controller is locked.
pub fn delete_network(
    repo: &mut dyn ConfigRepo,
    key: &str,
    sys: &SystemFacts,
) -> Result<Network, Error> {
    let n = network(repo, key)?;
    let t = n.net_type.as_str();
    let fixed = [
        OAM,
        CLUSTER_HOST,
        PXEBOOT,
        CLUSTER_POD,
        CLUSTER_SERVICE,
        "storage",
    ];
    if fixed.contains(&t) || (t == MGMT && !sys.simplex) {
        return Err(Error::invalid(format!(
            "Cannot delete type {t} network {} after initial configuration completion",
            n.uuid
        )));
    }
    if t == MGMT
        && let Some(h) = &sys.unlocked_controller
    {
        return Err(Error::invalid(format!(
            "Cannot delete type {t} network {} because Host {h} is in administrative state = unlocked",
            n.uuid
        )));
    }
    repo.delete_network(n.id)?;
    Ok(n)
}

/// The addresses taken in `p`'s subnet: every address row inside it, and
/// the named addresses about to be set.
fn used_addresses(
    repo: &mut dyn ConfigRepo,
    p: &AddressPool,
    wanted: &[Option<IpAddr>; 4],
) -> Result<Vec<u128>, Error> {
    let s = p.subnet();
    let mut used: Vec<u128> = repo
        .addresses()?
        .into_iter()
        .filter(|a| s.contains(a.address))
        .map(|a| bits(a.address).0)
        .chain(wanted.iter().flatten().map(|a| bits(*a).0))
        .collect();
    used.sort_unstable();
    used.dedup();
    Ok(used)
}

/// FNV-1a: spreads random-order allocations by the address's name.
fn spread(seed: &str) -> u128 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    u128::from(h)
}

/// The next free address of `p` (`used` sorted), without walking the
/// ranges address by address: an IPv6 /64 is as quick as a /29.
fn next_free(p: &AddressPool, used: &[u128], order: Order, seed: &str) -> Result<IpAddr, Error> {
    let width = if p.family() == 4 { 32 } else { 128 };
    let ranges: Vec<(u128, u128)> = p
        .ranges
        .iter()
        .map(|(a, b)| (bits(*a).0, bits(*b).0))
        .collect();
    let taken = |s: u128, e: u128| {
        let lo = used.partition_point(|u| *u < s);
        let hi = used.partition_point(|u| *u <= e);
        &used[lo..hi]
    };
    let free: u128 = ranges
        .iter()
        .map(|(s, e)| (e - s).saturating_add(1) - taken(*s, *e).len() as u128)
        .fold(0u128, |a, b| a.saturating_add(b));
    if free == 0 {
        return Err(Error::conflict(format!(
            "Address pool {} has no available addresses",
            p.name
        )));
    }
    let mut k = match order {
        Order::Sequential => 0,
        Order::Random => spread(seed) % free,
    };
    for (s, e) in ranges {
        let mut cursor = s;
        for u in taken(s, e) {
            let gap = u - cursor;
            if k < gap {
                return Ok(from_bits(cursor + k, width));
            }
            k -= gap;
            cursor = u + 1;
        }
        if cursor > e {
            continue;
        }
        let gap = (e - cursor).saturating_add(1);
        if k < gap {
            return Ok(from_bits(cursor + k, width));
        }
        k -= gap;
    }
    Err(Error::conflict(format!(
        "Address pool {} has no available addresses",
        p.name
    )))
}

/// A host as addressing sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressedHost {
    pub uuid: String,
    pub hostname: String,
}

/// Whether `hostname` takes its addresses from its pools' named addresses
/// (the controllers) rather than being given its own.
pub fn is_controller_name(hostname: &str) -> bool {
    hostname == "controller-0" || hostname == "controller-1"
}

/// Gives every host its `<hostname>-<type>` address in each network of
/// [`HOST_ADDRESSED`] (renaming it when the host was renamed), and takes
/// back the addresses of hosts gone. Idempotent; returns, per host that
/// could not be given one, why (its pool exhausted), and whether anything
/// changed.
pub fn follow_hosts(
    repo: &mut dyn ConfigRepo,
    hosts: &[AddressedHost],
) -> Result<(bool, Vec<(String, String)>), Error> {
    let mut changed = false;
    let mut short = Vec::new();
    let all = repo.addresses()?;
    for a in all.iter().filter(|a| a.host_uuid.is_some()) {
        let still = hosts
            .iter()
            .any(|h| Some(&h.uuid) == a.host_uuid.as_ref() && !is_controller_name(&h.hostname));
        if !still {
            repo.delete_address(a.id)?;
            changed = true;
        }
    }
    for t in HOST_ADDRESSED {
        let Some(net) = network_of_type(repo, t)? else {
            continue;
        };
        let Some(pu) = &net.pool_uuid else { continue };
        let Some(p) = repo.pool(pu)? else { continue };
        let given = repo.addresses_in(p.id)?;
        let mine: std::collections::HashMap<&str, &Address> = given
            .iter()
            .filter_map(|a| a.host_uuid.as_deref().map(|h| (h, a)))
            .collect();
        // What is taken, read once and kept as addresses are given.
        let mut used: Option<Vec<u128>> = None;
        for h in hosts.iter().filter(|h| !is_controller_name(&h.hostname)) {
            let name = format!("{}-{t}", h.hostname);
            match mine.get(h.uuid.as_str()) {
                Some(a) if a.name == name => {}
                Some(a) => {
                    let mut a = (*a).clone();
                    a.name = name;
                    repo.update_address(&a)?;
                    changed = true;
                }
                None => {
                    let taken = match &mut used {
                        Some(u) => u,
                        None => used.insert(used_addresses(repo, &p, &[None; 4])?),
                    };
                    match next_free(&p, taken, p.order, &name) {
                        Ok(ip) => {
                            new_address(repo, name, ip, &p, Some(&h.uuid))?;
                            let v = bits(ip).0;
                            let at = taken.partition_point(|u| *u < v);
                            taken.insert(at, v);
                            changed = true;
                        }
                        Err(e) => short.push((h.uuid.clone(), e.to_string())),
                    }
                }
            }
        }
    }
    Ok((changed, short))
}

/// Every network's pool, with the network's type (two reads).
pub fn network_pools(repo: &mut dyn ConfigRepo) -> Result<Vec<(String, AddressPool)>, Error> {
    let pools = repo.pools()?;
    Ok(repo
        .networks()?
        .into_iter()
        .filter_map(|n| {
            let u = n.pool_uuid?;
            pools
                .iter()
                .find(|p| p.uuid == u)
                .map(|p| (n.net_type, p.clone()))
        })
        .collect())
}

/// The address a host has on the network of type `t`: a controller's is its
/// pool's named address, any other host's the one it was given.
pub fn host_address(
    repo: &mut dyn ConfigRepo,
    host: &AddressedHost,
    t: &str,
) -> Result<Option<IpAddr>, Error> {
    match pools_of_type(repo, t)?.into_iter().next() {
        Some(p) => host_address_in(repo, &p, host),
        None => Ok(None),
    }
}

/// The address a host has in pool `p`.
pub fn host_address_in(
    repo: &mut dyn ConfigRepo,
    p: &AddressPool,
    host: &AddressedHost,
) -> Result<Option<IpAddr>, Error> {
    Ok(match host.hostname.as_str() {
        // A simplex pool may hold the floating address alone.
        "controller-0" => p.slot(Slot::Controller0).or(p.slot(Slot::Floating)),
        "controller-1" => p.slot(Slot::Controller1),
        _ => repo
            .addresses_of_host(&host.uuid)?
            .into_iter()
            .find(|a| a.pool_id == Some(p.id))
            .map(|a| a.address),
    })
}

/// The first pools and networks of a system, from the daemon's options
/// (StarlingX's bootstrap values): each subnet, and whether its pool
/// carries the controllers' addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialNetworks {
    pub mgmt: String,
    pub cluster_host: String,
    pub cluster_pod: String,
    pub cluster_service: String,
    pub pxeboot: String,
    pub multicast: String,
}

impl Default for InitialNetworks {
    fn default() -> Self {
        InitialNetworks {
            mgmt: "192.168.204.0/24".into(),
            cluster_host: "192.168.206.0/24".into(),
            cluster_pod: "172.16.0.0/16".into(),
            cluster_service: "10.96.0.0/12".into(),
            pxeboot: "169.254.202.0/24".into(),
            multicast: "239.1.1.0/28".into(),
        }
    }
}

/// StarlingX's bootstrap pool names.
fn bootstrap_pool_name(t: &str) -> &'static str {
    match t {
        MGMT => "management",
        PXEBOOT => "pxeboot",
        OAM => "oam",
        MULTICAST => "multicast-subnet",
        CLUSTER_HOST => "cluster-host-subnet",
        CLUSTER_POD => "cluster-pod-subnet",
        _ => "cluster-service-subnet",
    }
}

/// Makes the network of type `t` over `subnet` (as bootstrap does: the
/// range from the second usable address, the controllers' addresses its
/// first ones), unless it exists. Returns whether it made it.
pub fn ensure_network(
    repo: &mut dyn ConfigRepo,
    t: &str,
    subnet: &str,
    simplex: bool,
    now: Timestamp,
) -> Result<bool, Error> {
    if network_of_type(repo, t)?.is_some() {
        return Ok(false);
    }
    let s = Subnet::parse(subnet)
        .ok_or_else(|| Error::invalid(format!("the {t} subnet {subnet}: not a subnet")))?;
    let start = if required_slots(Some(t), simplex).is_empty() || s.size() < 8 {
        s.first()
    } else {
        from_bits(bits(s.first()).0 + 1, s.width())
    };
    // The controllers' addresses: the range's first (controller-1's on
    // duplex only).
    let mut slots: [Option<String>; 4] = Default::default();
    if !required_slots(Some(t), simplex).is_empty() {
        let n = if simplex { 2 } else { 3 };
        for (i, slot) in slots.iter_mut().enumerate().take(n) {
            *slot = Some(from_bits(bits(start).0 + i as u128, s.width()).to_string());
        }
    }
    let f = PoolFields {
        name: Some(bootstrap_pool_name(t).to_string()),
        network: Some(s.network.to_string()),
        prefix: Some(s.prefix.to_string()),
        order: Some(Order::Random.as_str().into()),
        ranges: Some(vec![(start.to_string(), s.last().to_string())]),
        slots,
    };
    let p = add_pool(repo, &f, now).map_err(|e| Error::invalid(format!("the {t} pool: {e}")))?;
    let dynamic = t == MGMT;
    add_network(
        repo,
        &NewNetwork {
            name: Some(t.to_string()),
            net_type: Some(t.to_string()),
            dynamic: Some(dynamic),
            pool_uuid: Some(p.uuid),
        },
        simplex,
    )
    .map_err(|e| Error::invalid(format!("the {t} network: {e}")))?;
    Ok(true)
}

/// The OAM record (`iextoam`) over the OAM network's pool: its uuid is the
/// pool's, its range the pool's ranges from first to last.
pub fn oam_view(p: &AddressPool) -> Oam {
    let s = p.subnet();
    Oam {
        uuid: p.uuid.clone(),
        subnet: s,
        gateway_ip: p.slot(Slot::Gateway),
        floating_ip: p.slot(Slot::Floating).unwrap_or(s.first()),
        c0_ip: p.slot(Slot::Controller0),
        c1_ip: p.slot(Slot::Controller1),
        start_ip: p.ranges.first().map_or(s.first(), |r| r.0),
        end_ip: p.ranges.last().map_or(s.last(), |r| r.1),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

fn oam_slots(o: &Oam) -> [Option<IpAddr>; 4] {
    [Some(o.floating_ip), o.c0_ip, o.c1_ip, o.gateway_ip]
}

/// The OAM network's pool, if the network is there.
pub fn oam_pool(repo: &mut dyn ConfigRepo) -> Result<Option<AddressPool>, Error> {
    Ok(pools_of_type(repo, OAM)?.into_iter().next())
}

/// Writes an OAM record (checked by [`crate::platform::oam`]) into the OAM
/// network's pool.
pub(crate) fn write_oam(repo: &mut dyn ConfigRepo, o: &Oam) -> Result<AddressPool, Error> {
    let mut p =
        oam_pool(repo)?.ok_or_else(|| Error::not_found("The oam network could not be found."))?;
    p.network = o.subnet.network;
    p.prefix = o.subnet.prefix;
    p.ranges = vec![(o.start_ip, o.end_ip)];
    p.updated_at = o.updated_at;
    refit_hosts(repo, &p)?;
    set_slots(repo, &mut p, &oam_slots(o), Some(OAM))?;
    repo.update_pool(&p)?;
    Ok(p)
}

/// Makes the OAM network and its pool from an OAM record (the first
/// start's, or the one an earlier release kept).
pub(crate) fn create_oam(repo: &mut dyn ConfigRepo, o: &Oam, simplex: bool) -> Result<(), Error> {
    let slots = oam_slots(o).map(|a| a.map(|a| a.to_string()));
    let f = PoolFields {
        name: Some(bootstrap_pool_name(OAM).to_string()),
        network: Some(o.subnet.network.to_string()),
        prefix: Some(o.subnet.prefix.to_string()),
        order: Some(Order::Random.as_str().into()),
        ranges: Some(vec![(o.start_ip.to_string(), o.end_ip.to_string())]),
        slots,
    };
    let p = add_pool_as(repo, &f, o.uuid.clone(), o.created_at)
        .map_err(|e| Error::invalid(format!("the oam pool: {e}")))?;
    add_network(
        repo,
        &NewNetwork {
            name: Some(OAM.into()),
            net_type: Some(OAM.into()),
            dynamic: Some(false),
            pool_uuid: Some(p.uuid),
        },
        simplex,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
