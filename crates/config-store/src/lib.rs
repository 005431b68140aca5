//! Configuration's repository in SQL ([`ConfigStore`]: the
//! [`ConfigRepo`] of `starling-config`) and its [`SCHEMA`]. The DNS, NTP
//! and OAM records are one row each; each provisioned host has one row of
//! target and applied configuration.

use std::net::IpAddr;

use starling_common::{Error, Timestamp};
use starling_config::addressing::{Address, AddressPool, Network, Order};
use starling_config::datanet::Vxlan;
use starling_config::interface::{
    IfClass, IfType, Interface, InterfaceDataNetwork, InterfaceNetwork,
};
use starling_config::service_param::ServiceParameter;
use starling_config::{
    ConfigRepo, ConfigUuid, DataNetwork, Dns, HostConfig, NetworkType, Ntp, Oam, Seq, Subnet,
};
use starling_db::{Conn, Row, StorageFailure, Value, columns, first, rows};

mod schema;
pub use schema::SCHEMA;

/// The repository over one connection inside a transaction.
pub struct ConfigStore<'a> {
    c: &'a mut dyn Conn,
}

impl<'a> ConfigStore<'a> {
    /// Wraps a connection that is inside a transaction.
    pub fn new(c: &'a mut dyn Conn) -> Self {
        ConfigStore { c }
    }
}

columns! {
    /// The DNS record's columns (`cfg_dns d`).
    mod dns_c ("d") { uuid, nameservers, created_at, updated_at }
}
columns! {
    /// The NTP record's columns (`cfg_ntp n`).
    mod ntp_c ("n") { uuid, ntpservers, created_at, updated_at }
}
columns! {
    /// The OAM record's columns (`cfg_oam o`).
    mod oam_c ("o") {
        uuid, subnet, gateway_ip, floating_ip, c0_ip, c1_ip, start_ip, end_ip, created_at,
        updated_at,
    }
}
columns! {
    /// A host's columns (`cfg_host h`).
    mod host_c ("h") { host_uuid, hostname, target, applied, failure, changed_at }
}

columns! {
    /// A data network's columns (`cfg_datanetwork n`); the key `id` first.
    mod datanet_c ("n") {
        id, uuid, name, network_type, description, mtu, mode, multicast_group, port_num, ttl,
    }
}
columns! {
    /// An address pool's columns (`cfg_addrpool p`); the key `id` first.
    mod pool_c ("p") {
        id, uuid, name, network, prefix, alloc_order, ranges, floating_address_id,
        controller0_address_id, controller1_address_id, gateway_address_id, created_at,
        updated_at,
    }
}
columns! {
    /// A pool's named addresses, joined after its columns.
    mod slot_c ("x") after pool_c { floating, controller0, controller1, gateway }
}
columns! {
    /// An address's columns (`cfg_address a`); the key `id` first.
    mod address_c ("a") { id, uuid, name, address, prefix, pool_id, host_uuid }
}
columns! {
    /// A network's columns (`cfg_network w`); the key `id` first.
    mod network_c ("w") { id, uuid, name, net_type, dynamic, pool_uuid, primary_pool_family }
}
columns! {
    /// An interface's columns (`cfg_interface i`); the key `id` first.
    mod iface_c ("i") {
        id, uuid, host_uuid, ifname, iftype, ifclass, imac, imtu, aemode, txhashpolicy,
        primary_reselect, vlan_id, uses, port_uuid, sriov_numvfs, sriov_vf_driver, ptp_role,
        max_tx_rate, max_rx_rate, ipv4_mode, ipv6_mode, ipv4_pool, ipv6_pool, created_at,
        updated_at,
    }
}
columns! {
    /// An assignment's columns (`cfg_interface_network`,
    /// `cfg_interface_datanetwork` as `a`); the key `id` first.
    mod assign_c ("a") { id, uuid, interface_id, other_id }
}
columns! {
    /// A service parameter's columns (`cfg_service_parameter s`); the key
    /// `id` first.
    mod param_c ("s") { id, uuid, service, section, name, value, created_at, updated_at }
}
columns! {
    /// A sequence's value (`starling_sequence q`).
    mod sequence_c ("q") { value }
}

fn datanet(mut r: Row) -> Result<DataNetwork, StorageFailure> {
    use datanet_c as C;
    let t = r.text(C::network_type)?;
    let network_type = NetworkType::parse(&t).ok_or_else(|| bad("data network type", &t))?;
    let vxlan = match r.take_opt_text(C::mode)? {
        Some(mode) => Some(Vxlan {
            mode,
            multicast_group: opt_ip("multicast group", r.take_opt_text(C::multicast_group)?)?,
            port_num: r.opt_int(C::port_num)?.unwrap_or_default(),
            ttl: r.opt_int(C::ttl)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(DataNetwork {
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        name: r.take_text(C::name)?,
        network_type,
        description: r.take_text(C::description)?,
        mtu: r.int(C::mtu)?,
        vxlan,
    })
}

/// A data network's values in [`datanet_c`]'s order.
fn datanet_values(d: &DataNetwork) -> Vec<Value<'_>> {
    let v = d.vxlan.as_ref();
    vec![
        Value::Int(d.id),
        d.uuid.as_str().into(),
        d.name.as_str().into(),
        d.network_type.as_str().into(),
        d.description.as_str().into(),
        Value::Int(d.mtu),
        v.map(|v| v.mode.as_str()).into(),
        addr(v.and_then(|v| v.multicast_group)),
        v.map_or(Value::Null, |v| Value::Int(v.port_num)),
        v.map_or(Value::Null, |v| Value::Int(v.ttl)),
    ]
}

/// The pool query: its columns, then its named addresses.
fn pool_select() -> String {
    format!(
        "SELECT {}, fa.address, c0.address, c1.address, ga.address FROM cfg_addrpool p \
         LEFT JOIN cfg_address fa ON fa.id = p.floating_address_id \
         LEFT JOIN cfg_address c0 ON c0.id = p.controller0_address_id \
         LEFT JOIN cfg_address c1 ON c1.id = p.controller1_address_id \
         LEFT JOIN cfg_address ga ON ga.id = p.gateway_address_id",
        pool_c::LIST
    )
}

fn prefix(what: &str, v: i64) -> Result<u8, StorageFailure> {
    u8::try_from(v).map_err(|_| bad(what, &v.to_string()))
}

fn pool(mut r: Row) -> Result<AddressPool, StorageFailure> {
    use pool_c as C;
    let order_t = r.text(C::alloc_order)?;
    let order = Order::parse(&order_t).ok_or_else(|| bad("allocation order", &order_t))?;
    let ranges_t = r.take_text(C::ranges)?;
    let mut ranges = Vec::new();
    for part in split(&ranges_t) {
        let (a, b) = part
            .split_once('-')
            .ok_or_else(|| bad("pool range", part))?;
        ranges.push((ip("pool range", a)?, ip("pool range", b)?));
    }
    let mut slots = [None; 4];
    let ids = [
        C::floating_address_id,
        C::controller0_address_id,
        C::controller1_address_id,
        C::gateway_address_id,
    ];
    let addrs = [
        slot_c::floating,
        slot_c::controller0,
        slot_c::controller1,
        slot_c::gateway,
    ];
    for (i, (id_col, addr_col)) in ids.into_iter().zip(addrs).enumerate() {
        if let (Some(key), Some(a)) = (r.opt_int(id_col)?, r.take_opt_text(addr_col)?) {
            slots[i] = Some((key, ip("pool address", &a)?));
        }
    }
    Ok(AddressPool {
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        name: r.take_text(C::name)?,
        network: ip("pool network", &r.text(C::network)?)?,
        prefix: prefix("pool prefix", r.int(C::prefix)?)?,
        order,
        ranges,
        slots,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn pool_values(p: &AddressPool) -> Vec<Value<'_>> {
    let ranges: Vec<String> = p.ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    let mut v = vec![
        Value::Int(p.id),
        p.uuid.as_str().into(),
        p.name.as_str().into(),
        p.network.to_string().into(),
        Value::Int(i64::from(p.prefix)),
        p.order.as_str().into(),
        ranges.join(",").into(),
    ];
    for s in &p.slots {
        v.push(s.map_or(Value::Null, |(id, _)| Value::Int(id)));
    }
    v.push(Value::Int(p.created_at.micros()));
    v.push(stamp(p.updated_at));
    v
}

fn address(mut r: Row) -> Result<Address, StorageFailure> {
    use address_c as C;
    Ok(Address {
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        name: r.take_text(C::name)?,
        address: ip("address", &r.text(C::address)?)?,
        prefix: prefix("address prefix", r.int(C::prefix)?)?,
        pool_id: r.opt_int(C::pool_id)?,
        host_uuid: r.take_opt_text(C::host_uuid)?,
    })
}

fn address_values(a: &Address) -> Vec<Value<'_>> {
    vec![
        Value::Int(a.id),
        a.uuid.as_str().into(),
        a.name.as_str().into(),
        a.address.to_string().into(),
        Value::Int(i64::from(a.prefix)),
        a.pool_id.map_or(Value::Null, Value::Int),
        a.host_uuid.as_deref().into(),
    ]
}

fn network(mut r: Row) -> Result<Network, StorageFailure> {
    use network_c as C;
    Ok(Network {
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        name: r.take_text(C::name)?,
        net_type: r.take_text(C::net_type)?,
        dynamic: r.bool(C::dynamic)?,
        pool_uuid: r.take_opt_text(C::pool_uuid)?,
        primary_pool_family: r.take_opt_text(C::primary_pool_family)?,
    })
}

fn seq_name(s: Seq) -> &'static str {
    match s {
        Seq::DataNetwork => "cfg_datanetwork",
        Seq::AddressPool => "cfg_addrpool",
        Seq::Address => "cfg_address",
        Seq::Network => "cfg_network",
        Seq::Interface => "cfg_interface",
        Seq::InterfaceNetwork => "cfg_interface_network",
        Seq::InterfaceDataNetwork => "cfg_interface_datanetwork",
        Seq::ServiceParameter => "cfg_service_parameter",
    }
}

fn bad(what: &str, v: &str) -> StorageFailure {
    StorageFailure::decode(format!("stored {what} is not valid: '{v}'"))
}

fn ip(what: &str, v: &str) -> Result<IpAddr, StorageFailure> {
    v.parse().map_err(|_| bad(what, v))
}

fn opt_ip(what: &str, v: Option<String>) -> Result<Option<IpAddr>, StorageFailure> {
    v.map(|v| ip(what, &v)).transpose()
}

fn stamp(t: Option<Timestamp>) -> Value<'static> {
    t.map_or(Value::Null, |t| Value::Int(t.micros()))
}

fn addr(a: Option<IpAddr>) -> Value<'static> {
    a.map_or(Value::Null, |a| Value::from(a.to_string()))
}

fn csv<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn split(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').filter(|p| !p.is_empty())
}

fn dns(r: Row) -> Result<Dns, StorageFailure> {
    use dns_c as C;
    Ok(Dns {
        uuid: r.text(C::uuid)?,
        nameservers: split(&r.text(C::nameservers)?)
            .map(|a| ip("nameserver", a))
            .collect::<Result<_, _>>()?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn ntp(r: Row) -> Result<Ntp, StorageFailure> {
    use ntp_c as C;
    Ok(Ntp {
        uuid: r.text(C::uuid)?,
        ntpservers: split(&r.text(C::ntpservers)?).map(String::from).collect(),
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn oam(r: Row) -> Result<Oam, StorageFailure> {
    use oam_c as C;
    let subnet = r.text(C::subnet)?;
    Ok(Oam {
        uuid: r.text(C::uuid)?,
        subnet: Subnet::parse(&subnet).ok_or_else(|| bad("OAM subnet", &subnet))?,
        gateway_ip: opt_ip("address", r.opt_text(C::gateway_ip)?)?,
        floating_ip: ip("address", &r.text(C::floating_ip)?)?,
        c0_ip: opt_ip("address", r.opt_text(C::c0_ip)?)?,
        c1_ip: opt_ip("address", r.opt_text(C::c1_ip)?)?,
        start_ip: ip("address", &r.text(C::start_ip)?)?,
        end_ip: ip("address", &r.text(C::end_ip)?)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn host(mut r: Row) -> Result<HostConfig, StorageFailure> {
    use host_c as C;
    let target = r.text(C::target)?;
    Ok(HostConfig {
        host_uuid: r.take_text(C::host_uuid)?,
        hostname: r.take_text(C::hostname)?,
        target: ConfigUuid::parse(&target).ok_or_else(|| bad("config target", &target))?,
        applied: r.take_opt_text(C::applied)?,
        failure: r.take_opt_text(C::failure)?,
        changed_at: Timestamp::from_micros(r.int(C::changed_at)?),
    })
}

fn iface(mut r: Row) -> Result<Interface, StorageFailure> {
    use iface_c as C;
    let t = r.text(C::iftype)?;
    let iftype = IfType::parse(&t).ok_or_else(|| bad("interface type", &t))?;
    let ifclass = match r.take_opt_text(C::ifclass)? {
        Some(c) => IfClass::parse(&c).map_err(|_| bad("interface class", &c))?,
        None => None,
    };
    let uses = r.text(C::uses)?;
    let uses = split(&uses)
        .map(|x| x.parse::<i64>().map_err(|_| bad("lower interface id", x)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Interface {
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        host_uuid: r.take_text(C::host_uuid)?,
        ifname: r.take_text(C::ifname)?,
        iftype,
        ifclass,
        imac: r.take_opt_text(C::imac)?,
        imtu: r.int(C::imtu)?,
        aemode: r.take_opt_text(C::aemode)?,
        txhashpolicy: r.take_opt_text(C::txhashpolicy)?,
        primary_reselect: r.take_opt_text(C::primary_reselect)?,
        vlan_id: r.opt_int(C::vlan_id)?,
        uses,
        port_uuid: r.take_opt_text(C::port_uuid)?,
        sriov_numvfs: r.int(C::sriov_numvfs)?,
        sriov_vf_driver: r.take_opt_text(C::sriov_vf_driver)?,
        ptp_role: r.take_text(C::ptp_role)?,
        max_tx_rate: r.opt_int(C::max_tx_rate)?,
        max_rx_rate: r.opt_int(C::max_rx_rate)?,
        ipv4_mode: r.take_opt_text(C::ipv4_mode)?,
        ipv6_mode: r.take_opt_text(C::ipv6_mode)?,
        ipv4_pool: r.take_opt_text(C::ipv4_pool)?,
        ipv6_pool: r.take_opt_text(C::ipv6_pool)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn param(mut r: Row) -> Result<ServiceParameter, StorageFailure> {
    use param_c as C;
    Ok(ServiceParameter {
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        service: r.take_text(C::service)?,
        section: r.take_text(C::section)?,
        name: r.take_text(C::name)?,
        value: r.take_text(C::value)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn param_values(p: &ServiceParameter) -> Vec<Value<'_>> {
    vec![
        Value::Int(p.id),
        p.uuid.as_str().into(),
        p.service.as_str().into(),
        p.section.as_str().into(),
        p.name.as_str().into(),
        p.value.as_str().into(),
        Value::Int(p.created_at.micros()),
        stamp(p.updated_at),
    ]
}

fn opt_int(v: Option<i64>) -> Value<'static> {
    v.map_or(Value::Null, Value::Int)
}

/// An interface's values in [`iface_c`]'s order.
fn iface_values(i: &Interface) -> Vec<Value<'_>> {
    vec![
        Value::Int(i.id),
        i.uuid.as_str().into(),
        i.host_uuid.as_str().into(),
        i.ifname.as_str().into(),
        i.iftype.as_str().into(),
        i.ifclass.map(IfClass::as_str).into(),
        i.imac.as_deref().into(),
        Value::Int(i.imtu),
        i.aemode.as_deref().into(),
        i.txhashpolicy.as_deref().into(),
        i.primary_reselect.as_deref().into(),
        opt_int(i.vlan_id),
        Value::Text(csv(&i.uses).into()),
        i.port_uuid.as_deref().into(),
        Value::Int(i.sriov_numvfs),
        i.sriov_vf_driver.as_deref().into(),
        i.ptp_role.as_str().into(),
        opt_int(i.max_tx_rate),
        opt_int(i.max_rx_rate),
        i.ipv4_mode.as_deref().into(),
        i.ipv6_mode.as_deref().into(),
        i.ipv4_pool.as_deref().into(),
        i.ipv6_pool.as_deref().into(),
        Value::Int(i.created_at.micros()),
        stamp(i.updated_at),
    ]
}

fn ifnet(r: Row) -> Result<InterfaceNetwork, StorageFailure> {
    use assign_c as C;
    Ok(InterfaceNetwork {
        id: r.int(C::id)?,
        uuid: r.text(C::uuid)?,
        interface_id: r.int(C::interface_id)?,
        network_id: r.int(C::other_id)?,
    })
}

fn ifdn(r: Row) -> Result<InterfaceDataNetwork, StorageFailure> {
    use assign_c as C;
    Ok(InterfaceDataNetwork {
        id: r.int(C::id)?,
        uuid: r.text(C::uuid)?,
        interface_id: r.int(C::interface_id)?,
        datanetwork_id: r.int(C::other_id)?,
    })
}

impl ConfigStore<'_> {
    /// Inserts an assignment of `table` (its other column `other`).
    fn insert_assignment(
        &mut self,
        table: &str,
        other: &str,
        (id, uuid, interface_id, other_id): (i64, &str, i64, i64),
    ) -> Result<(), Error> {
        self.c.exec(
            &format!("INSERT INTO {table} (id, uuid, interface_id, {other}) VALUES (?, ?, ?, ?)"),
            &[
                Value::Int(id),
                uuid.into(),
                Value::Int(interface_id),
                Value::Int(other_id),
            ],
        )?;
        Ok(())
    }

    /// Replaces the one row of `table` with `values`.
    fn replace(
        &mut self,
        table: &str,
        names: &str,
        placeholders: &str,
        values: &[Value<'_>],
    ) -> Result<(), Error> {
        self.c.exec(&format!("DELETE FROM {table}"), &[])?;
        self.c.exec(
            &format!("INSERT INTO {table} ({names}) VALUES ({placeholders})"),
            values,
        )?;
        Ok(())
    }
}

impl ConfigRepo for ConfigStore<'_> {
    fn dns(&mut self) -> Result<Option<Dns>, Error> {
        first(
            self.c,
            &format!("SELECT {} FROM cfg_dns d", dns_c::LIST),
            &[],
            dns,
        )
    }
    fn put_dns(&mut self, d: &Dns) -> Result<(), Error> {
        self.replace(
            "cfg_dns",
            dns_c::NAMES,
            dns_c::PLACEHOLDERS,
            &[
                d.uuid.as_str().into(),
                csv(&d.nameservers).into(),
                Value::Int(d.created_at.micros()),
                stamp(d.updated_at),
            ],
        )
    }
    fn ntp(&mut self) -> Result<Option<Ntp>, Error> {
        first(
            self.c,
            &format!("SELECT {} FROM cfg_ntp n", ntp_c::LIST),
            &[],
            ntp,
        )
    }
    fn put_ntp(&mut self, n: &Ntp) -> Result<(), Error> {
        self.replace(
            "cfg_ntp",
            ntp_c::NAMES,
            ntp_c::PLACEHOLDERS,
            &[
                n.uuid.as_str().into(),
                csv(&n.ntpservers).into(),
                Value::Int(n.created_at.micros()),
                stamp(n.updated_at),
            ],
        )
    }
    fn legacy_oam(&mut self) -> Result<Option<Oam>, Error> {
        first(
            self.c,
            &format!("SELECT {} FROM cfg_oam o", oam_c::LIST),
            &[],
            oam,
        )
    }
    fn host(&mut self, host_uuid: &str) -> Result<Option<HostConfig>, Error> {
        first(
            self.c,
            &format!(
                "SELECT {} FROM cfg_host h WHERE host_uuid = ?",
                host_c::LIST
            ),
            &[host_uuid.into()],
            host,
        )
    }
    fn hosts(&mut self) -> Result<Vec<HostConfig>, Error> {
        rows(
            self.c,
            &format!("SELECT {} FROM cfg_host h ORDER BY host_uuid", host_c::LIST),
            &[],
            host,
        )
    }
    fn put_host(&mut self, h: &HostConfig) -> Result<(), Error> {
        self.delete_host(&h.host_uuid)?;
        self.c.exec(
            &format!(
                "INSERT INTO cfg_host ({}) VALUES ({})",
                host_c::NAMES,
                host_c::PLACEHOLDERS
            ),
            &[
                h.host_uuid.as_str().into(),
                h.hostname.as_str().into(),
                h.target.to_string().into(),
                h.applied.as_deref().into(),
                h.failure.as_deref().into(),
                Value::Int(h.changed_at.micros()),
            ],
        )?;
        Ok(())
    }
    fn datanetworks(&mut self) -> Result<Vec<DataNetwork>, Error> {
        rows(
            self.c,
            &format!(
                "SELECT {} FROM cfg_datanetwork n ORDER BY id",
                datanet_c::LIST
            ),
            &[],
            datanet,
        )
    }
    fn datanetwork(&mut self, key: &str) -> Result<Option<DataNetwork>, Error> {
        first(
            self.c,
            &format!(
                "SELECT {} FROM cfg_datanetwork n WHERE uuid = ? UNION ALL \
                 SELECT {} FROM cfg_datanetwork n WHERE name = ?",
                datanet_c::LIST,
                datanet_c::LIST
            ),
            &[key.to_ascii_lowercase().into(), key.into()],
            datanet,
        )
    }
    fn next_id(&mut self, seq: Seq) -> Result<i64, Error> {
        let name = seq_name(seq);
        self.c.exec(
            "UPDATE starling_sequence SET value = value + 1 WHERE name = ?",
            &[name.into()],
        )?;
        let v: Option<i64> = first::<_, Error>(
            self.c,
            &format!(
                "SELECT {} FROM starling_sequence q WHERE name = ?",
                sequence_c::LIST
            ),
            &[name.into()],
            |r| r.int(sequence_c::value),
        )?;
        v.ok_or_else(|| Error::Storage(StorageFailure::fatal(format!("sequence {name} missing"))))
    }
    fn insert_datanetwork(&mut self, d: &DataNetwork) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO cfg_datanetwork ({}) VALUES ({})",
                datanet_c::NAMES,
                datanet_c::PLACEHOLDERS
            ),
            &datanet_values(d),
        )?;
        Ok(())
    }
    fn update_datanetwork(&mut self, d: &DataNetwork) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "UPDATE cfg_datanetwork SET {} WHERE id = ?",
                datanet_c::SET_REST
            ),
            &starling_db::key_last(datanet_values(d)),
        )?;
        Ok(())
    }
    fn delete_datanetwork(&mut self, id: i64) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM cfg_datanetwork WHERE id = ?",
            &[Value::Int(id)],
        )?;
        Ok(())
    }
    fn delete_host(&mut self, host_uuid: &str) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM cfg_host WHERE host_uuid = ?",
            &[host_uuid.into()],
        )?;
        Ok(())
    }
    fn pools(&mut self) -> Result<Vec<AddressPool>, Error> {
        rows(
            self.c,
            &format!("{} ORDER BY p.id", pool_select()),
            &[],
            pool,
        )
    }
    fn pool(&mut self, uuid: &str) -> Result<Option<AddressPool>, Error> {
        first(
            self.c,
            &format!("{} WHERE p.uuid = ?", pool_select()),
            &[uuid.to_ascii_lowercase().into()],
            pool,
        )
    }
    fn insert_pool(&mut self, p: &AddressPool) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO cfg_addrpool ({}) VALUES ({})",
                pool_c::NAMES,
                pool_c::PLACEHOLDERS
            ),
            &pool_values(p),
        )?;
        Ok(())
    }
    fn update_pool(&mut self, p: &AddressPool) -> Result<(), Error> {
        self.c.exec(
            &format!("UPDATE cfg_addrpool SET {} WHERE id = ?", pool_c::SET_REST),
            &starling_db::key_last(pool_values(p)),
        )?;
        Ok(())
    }
    fn delete_pool(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM cfg_addrpool WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }
    fn addresses(&mut self) -> Result<Vec<Address>, Error> {
        rows(
            self.c,
            &format!("SELECT {} FROM cfg_address a ORDER BY id", address_c::LIST),
            &[],
            address,
        )
    }
    fn addresses_in(&mut self, pool_id: i64) -> Result<Vec<Address>, Error> {
        rows(
            self.c,
            &format!(
                "SELECT {} FROM cfg_address a WHERE pool_id = ? ORDER BY id",
                address_c::LIST
            ),
            &[Value::Int(pool_id)],
            address,
        )
    }
    fn addresses_of_host(&mut self, host_uuid: &str) -> Result<Vec<Address>, Error> {
        rows(
            self.c,
            &format!(
                "SELECT {} FROM cfg_address a WHERE host_uuid = ? ORDER BY id",
                address_c::LIST
            ),
            &[host_uuid.into()],
            address,
        )
    }
    fn address(&mut self, id: i64) -> Result<Option<Address>, Error> {
        first(
            self.c,
            &format!("SELECT {} FROM cfg_address a WHERE id = ?", address_c::LIST),
            &[Value::Int(id)],
            address,
        )
    }
    fn address_at(&mut self, a: IpAddr) -> Result<Option<Address>, Error> {
        first(
            self.c,
            &format!(
                "SELECT {} FROM cfg_address a WHERE address = ?",
                address_c::LIST
            ),
            &[a.to_string().into()],
            address,
        )
    }
    fn insert_address(&mut self, a: &Address) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO cfg_address ({}) VALUES ({})",
                address_c::NAMES,
                address_c::PLACEHOLDERS
            ),
            &address_values(a),
        )?;
        Ok(())
    }
    fn update_address(&mut self, a: &Address) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "UPDATE cfg_address SET {} WHERE id = ?",
                address_c::SET_REST
            ),
            &starling_db::key_last(address_values(a)),
        )?;
        Ok(())
    }
    fn delete_address(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM cfg_address WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }
    fn networks(&mut self) -> Result<Vec<Network>, Error> {
        rows(
            self.c,
            &format!("SELECT {} FROM cfg_network w ORDER BY id", network_c::LIST),
            &[],
            network,
        )
    }
    fn insert_network(&mut self, n: &Network) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO cfg_network ({}) VALUES ({})",
                network_c::NAMES,
                network_c::PLACEHOLDERS
            ),
            &[
                Value::Int(n.id),
                n.uuid.as_str().into(),
                n.name.as_str().into(),
                n.net_type.as_str().into(),
                Value::Bool(n.dynamic),
                n.pool_uuid.as_deref().into(),
                n.primary_pool_family.as_deref().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_network(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM cfg_network WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }
    fn interfaces_of(&mut self, host_uuid: &str) -> Result<Vec<Interface>, Error> {
        rows(
            self.c,
            &format!(
                "SELECT {} FROM cfg_interface i WHERE host_uuid = ? ORDER BY id",
                iface_c::LIST
            ),
            &[host_uuid.into()],
            iface,
        )
    }
    fn interface(&mut self, uuid: &str) -> Result<Option<Interface>, Error> {
        first(
            self.c,
            &format!(
                "SELECT {} FROM cfg_interface i WHERE uuid = ?",
                iface_c::LIST
            ),
            &[uuid.to_ascii_lowercase().into()],
            iface,
        )
    }
    fn interface_by_id(&mut self, id: i64) -> Result<Option<Interface>, Error> {
        first(
            self.c,
            &format!("SELECT {} FROM cfg_interface i WHERE id = ?", iface_c::LIST),
            &[Value::Int(id)],
            iface,
        )
    }
    fn insert_interface(&mut self, i: &Interface) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO cfg_interface ({}) VALUES ({})",
                iface_c::NAMES,
                iface_c::PLACEHOLDERS
            ),
            &iface_values(i),
        )?;
        Ok(())
    }
    fn update_interface(&mut self, i: &Interface) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "UPDATE cfg_interface SET {} WHERE id = ?",
                iface_c::SET_REST
            ),
            &starling_db::key_last(iface_values(i)),
        )?;
        Ok(())
    }
    fn delete_interface(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM cfg_interface WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }
    fn interface_networks(&mut self) -> Result<Vec<InterfaceNetwork>, Error> {
        rows(
            self.c,
            "SELECT a.id, a.uuid, a.interface_id, a.network_id FROM cfg_interface_network a ORDER BY a.id",
            &[],
            ifnet,
        )
    }
    fn interface_networks_of(&mut self, host_uuid: &str) -> Result<Vec<InterfaceNetwork>, Error> {
        rows(
            self.c,
            "SELECT a.id, a.uuid, a.interface_id, a.network_id FROM cfg_interface_network a \
             JOIN cfg_interface i ON i.id = a.interface_id WHERE i.host_uuid = ? ORDER BY a.id",
            &[host_uuid.into()],
            ifnet,
        )
    }
    fn insert_interface_network(&mut self, a: &InterfaceNetwork) -> Result<(), Error> {
        self.insert_assignment(
            "cfg_interface_network",
            "network_id",
            (a.id, &a.uuid, a.interface_id, a.network_id),
        )
    }
    fn delete_interface_network(&mut self, id: i64) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM cfg_interface_network WHERE id = ?",
            &[Value::Int(id)],
        )?;
        Ok(())
    }
    fn interface_datanetworks(&mut self) -> Result<Vec<InterfaceDataNetwork>, Error> {
        rows(
            self.c,
            "SELECT a.id, a.uuid, a.interface_id, a.datanetwork_id FROM cfg_interface_datanetwork a ORDER BY a.id",
            &[],
            ifdn,
        )
    }
    fn interface_datanetworks_of(
        &mut self,
        host_uuid: &str,
    ) -> Result<Vec<InterfaceDataNetwork>, Error> {
        rows(
            self.c,
            "SELECT a.id, a.uuid, a.interface_id, a.datanetwork_id FROM cfg_interface_datanetwork a \
             JOIN cfg_interface i ON i.id = a.interface_id WHERE i.host_uuid = ? ORDER BY a.id",
            &[host_uuid.into()],
            ifdn,
        )
    }
    fn insert_interface_datanetwork(&mut self, a: &InterfaceDataNetwork) -> Result<(), Error> {
        self.insert_assignment(
            "cfg_interface_datanetwork",
            "datanetwork_id",
            (a.id, &a.uuid, a.interface_id, a.datanetwork_id),
        )
    }
    fn delete_interface_datanetwork(&mut self, id: i64) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM cfg_interface_datanetwork WHERE id = ?",
            &[Value::Int(id)],
        )?;
        Ok(())
    }
    fn service_parameters(&mut self) -> Result<Vec<ServiceParameter>, Error> {
        rows(
            self.c,
            &format!(
                "SELECT {} FROM cfg_service_parameter s ORDER BY id",
                param_c::LIST
            ),
            &[],
            param,
        )
    }
    fn insert_service_parameter(&mut self, p: &ServiceParameter) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO cfg_service_parameter ({}) VALUES ({})",
                param_c::NAMES,
                param_c::PLACEHOLDERS
            ),
            &param_values(p),
        )?;
        Ok(())
    }
    fn update_service_parameter(&mut self, p: &ServiceParameter) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "UPDATE cfg_service_parameter SET {} WHERE id = ?",
                param_c::SET_REST
            ),
            &starling_db::key_last(param_values(p)),
        )?;
        Ok(())
    }
    fn delete_service_parameter(&mut self, id: i64) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM cfg_service_parameter WHERE id = ?",
            &[Value::Int(id)],
        )?;
        Ok(())
    }
}
