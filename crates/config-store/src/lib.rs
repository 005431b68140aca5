//! Configuration's repository in SQL ([`ConfigStore`]: the
//! [`ConfigRepo`] of `starling-config`) and its [`SCHEMA`]. The DNS, NTP
//! and OAM records are one row each; each provisioned host has one row of
//! target and applied configuration.

use std::net::IpAddr;

use starling_common::{Error, Timestamp};
use starling_config::datanet::Vxlan;
use starling_config::{
    ConfigRepo, ConfigUuid, DataNetwork, Dns, HostConfig, NetworkType, Ntp, Oam, Subnet,
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

impl ConfigStore<'_> {
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
    fn oam(&mut self) -> Result<Option<Oam>, Error> {
        first(
            self.c,
            &format!("SELECT {} FROM cfg_oam o", oam_c::LIST),
            &[],
            oam,
        )
    }
    fn put_oam(&mut self, o: &Oam) -> Result<(), Error> {
        self.replace(
            "cfg_oam",
            oam_c::NAMES,
            oam_c::PLACEHOLDERS,
            &[
                o.uuid.as_str().into(),
                o.subnet.to_string().into(),
                addr(o.gateway_ip),
                o.floating_ip.to_string().into(),
                addr(o.c0_ip),
                addr(o.c1_ip),
                o.start_ip.to_string().into(),
                o.end_ip.to_string().into(),
                Value::Int(o.created_at.micros()),
                stamp(o.updated_at),
            ],
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
    fn next_datanetwork_id(&mut self) -> Result<i64, Error> {
        self.c.exec(
            "UPDATE starling_sequence SET value = value + 1 WHERE name = 'cfg_datanetwork'",
            &[],
        )?;
        let v: Option<i64> = first::<_, Error>(
            self.c,
            &format!(
                "SELECT {} FROM starling_sequence q WHERE name = 'cfg_datanetwork'",
                sequence_c::LIST
            ),
            &[],
            |r| r.int(sequence_c::value),
        )?;
        v.ok_or_else(|| Error::Storage(StorageFailure::fatal("sequence cfg_datanetwork missing")))
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
}
