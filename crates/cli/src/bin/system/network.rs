//! Platform networks and address pools (cgtsclient's `network-list`,
//! `-show`, `-add`, `-delete` and `addrpool-list`, `-show`, `-add`,
//! `-modify`, `-delete`), with cgtsclient's arguments and columns.

use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use starling_cli::{Client, Out, Table, as_wire, field};
use starling_config_types as wire;

#[derive(Subcommand, Debug)]
pub(crate) enum NetworkCmd {
    /// List the platform networks.
    #[command(name = "network-list")]
    NetworkList {
        #[command(flatten)]
        out: Out,
    },
    /// Show a platform network.
    #[command(name = "network-show")]
    NetworkShow {
        /// Its uuid (or id).
        network_uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Add a platform network over an address pool.
    #[command(name = "network-add")]
    NetworkAdd {
        /// Its name.
        name: String,
        /// Its type (mgmt, oam, pxeboot, cluster-host, cluster-pod,
        /// cluster-service, multicast, storage, admin, ironic,
        /// system-controller, system-controller-oam).
        #[arg(value_name = "TYPE")]
        net_type: String,
        /// Whether its hosts' addresses are given by DHCP.
        #[arg(value_parser = ["true", "false", "True", "False"])]
        dynamic: String,
        /// The uuid of its address pool.
        pool_uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Delete a platform network.
    #[command(name = "network-delete")]
    NetworkDelete {
        /// Its uuid.
        network_uuid: String,
    },
    /// List the address pools.
    #[command(name = "addrpool-list")]
    AddrpoolList {
        #[command(flatten)]
        out: Out,
    },
    /// Show an address pool.
    #[command(name = "addrpool-show")]
    AddrpoolShow {
        /// Its uuid.
        address_pool_uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Add an address pool.
    #[command(name = "addrpool-add")]
    AddrpoolAdd {
        /// Its name.
        name: String,
        /// The network address.
        network: String,
        /// The network prefix length.
        prefix: String,
        #[command(flatten)]
        fields: PoolArgs,
        #[command(flatten)]
        out: Out,
    },
    /// Modify an address pool.
    #[command(name = "addrpool-modify")]
    AddrpoolModify {
        /// Its uuid.
        address_pool_uuid: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new network address.
        #[arg(long)]
        network: Option<String>,
        /// A new prefix length.
        #[arg(long)]
        prefix: Option<String>,
        #[command(flatten)]
        fields: PoolArgs,
        #[command(flatten)]
        out: Out,
    },
    /// Delete an address pool.
    #[command(name = "addrpool-delete")]
    AddrpoolDelete {
        /// Its uuid.
        address_pool_uuid: String,
    },
}

/// The options `addrpool-add` and `-modify` share.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct PoolArgs {
    /// The inclusive ranges to allocate from:
    /// start1-end1[,start2-end2,...].
    #[arg(long)]
    ranges: Option<String>,
    /// sequential or random.
    #[arg(long)]
    order: Option<String>,
    /// The floating address.
    #[arg(long = "floating-address")]
    floating_address: Option<String>,
    /// controller-0's address.
    #[arg(long = "controller0-address")]
    controller0_address: Option<String>,
    /// controller-1's address.
    #[arg(long = "controller1-address")]
    controller1_address: Option<String>,
    /// The gateway address.
    #[arg(long = "gateway-address")]
    gateway_address: Option<String>,
}

/// `a-b,c-d` as `[[a, b], [c, d]]` (cgtsclient's `_get_range_tuples`).
fn range_pairs(s: &str) -> Result<Vec<Vec<String>>> {
    s.split(',')
        .map(|r| match r.trim().split_once('-') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Ok(vec![a.trim().to_string(), b.trim().to_string()])
            }
            _ => bail!("invalid range '{r}': expected start-end"),
        })
        .collect()
}

const NETWORK_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "type",
    "dynamic",
    "pool_uuid",
    "primary_pool_family",
];

const POOL_FIELDS: &[&str] = &[
    "uuid",
    "name",
    "network",
    "prefix",
    "order",
    "ranges",
    "floating_address",
    "controller0_address",
    "controller1_address",
    "gateway_address",
];

/// A pool's values in [`POOL_FIELDS`]' order, its ranges as
/// `start-end` texts (cgtsclient's formatter).
fn pool_row(p: &wire::AddressPool) -> Result<Vec<Value>> {
    let v = serde_json::to_value(p)?;
    Ok(POOL_FIELDS
        .iter()
        .map(|f| match *f {
            "ranges" => json!(
                p.ranges
                    .iter()
                    .map(|r| r.join("-"))
                    .collect::<Vec<String>>()
            ),
            f => field(&v, f),
        })
        .collect())
}

/// An answer that must be an address pool.
fn pool_of(v: Value) -> Result<wire::AddressPool> {
    Ok(serde_json::from_value(as_wire::<wire::AddressPool>(
        v,
        "an address pool",
    )?)?)
}

fn show_pool(p: &wire::AddressPool, out: &Out) -> Result<()> {
    let fields: Vec<(&str, Value)> = POOL_FIELDS.iter().copied().zip(pool_row(p)?).collect();
    starling_cli::out(&Table::render_record(&fields, out)?)
}

fn show_network(v: &Value, out: &Out) -> Result<()> {
    let fields: Vec<(&str, Value)> = NETWORK_FIELDS.iter().map(|f| (*f, field(v, f))).collect();
    starling_cli::out(&Table::render_record(&fields, out)?)
}

/// An address pool's path.
fn pool_path(uuid: &str) -> Result<String> {
    Ok(format!("/v1/addrpools/{}", key("address pool", uuid)?))
}

/// A uuid or id as a path segment.
pub(crate) fn key(what: &str, k: &str) -> Result<String> {
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        bail!("invalid {what} '{k}': give its uuid");
    }
    Ok(k.to_string())
}

pub(crate) fn run(c: &Client, cmd: NetworkCmd) -> Result<()> {
    match cmd {
        NetworkCmd::NetworkList { out } => {
            let v: wire::NetworkList = c.get_as("/v1/networks")?;
            let mut t = Table::new(NETWORK_FIELDS);
            for n in v.networks {
                let v = serde_json::to_value(&n)?;
                t.rows
                    .push(NETWORK_FIELDS.iter().map(|f| field(&v, f)).collect());
            }
            t.rows.sort_by(|a, b| a[1].as_str().cmp(&b[1].as_str()));
            starling_cli::out(&t.render(&out)?)
        }
        NetworkCmd::NetworkShow { network_uuid, out } => {
            let v = c.get(&format!("/v1/networks/{}", key("network", &network_uuid)?))?;
            show_network(&as_wire::<wire::Network>(v, "a network")?, &out)
        }
        NetworkCmd::NetworkAdd {
            name,
            net_type,
            dynamic,
            pool_uuid,
            out,
        } => {
            let body = json!({
                "name": name,
                "type": net_type,
                "dynamic": dynamic.to_ascii_lowercase(),
                "pool_uuid": pool_uuid,
            });
            let Some(v) = c.post("/v1/networks", &body)? else {
                bail!("the platform API answered network-add without the network");
            };
            show_network(&as_wire::<wire::Network>(v, "a network")?, &out)
        }
        NetworkCmd::NetworkDelete { network_uuid } => {
            c.delete(&format!("/v1/networks/{}", key("network", &network_uuid)?))?;
            starling_cli::outln(format!("Deleted Network: {network_uuid}"))
        }
        NetworkCmd::AddrpoolList { out } => {
            let v: wire::AddressPoolList = c.get_as("/v1/addrpools")?;
            let mut t = Table::new(POOL_FIELDS);
            for p in &v.addrpools {
                t.rows.push(pool_row(p)?);
            }
            t.rows.sort_by(|a, b| a[1].as_str().cmp(&b[1].as_str()));
            starling_cli::out(&t.render(&out)?)
        }
        NetworkCmd::AddrpoolShow {
            address_pool_uuid,
            out,
        } => {
            let p: wire::AddressPool = c.get_as(&pool_path(&address_pool_uuid)?)?;
            show_pool(&p, &out)
        }
        NetworkCmd::AddrpoolAdd {
            name,
            network,
            prefix,
            fields,
            out,
        } => {
            let body = wire::AddressPoolAdd {
                name: Some(name),
                network: Some(network),
                prefix: Some(wire::NumberText(prefix)),
                order: fields.order,
                ranges: fields.ranges.as_deref().map(range_pairs).transpose()?,
                floating_address: fields.floating_address,
                controller0_address: fields.controller0_address,
                controller1_address: fields.controller1_address,
                gateway_address: fields.gateway_address,
            };
            let Some(v) = c.post("/v1/addrpools", &serde_json::to_value(&body)?)? else {
                bail!("the platform API answered addrpool-add without the pool");
            };
            show_pool(&pool_of(v)?, &out)
        }
        NetworkCmd::AddrpoolModify {
            address_pool_uuid,
            name,
            network,
            prefix,
            fields,
            out,
        } => {
            let mut ops = Vec::new();
            let mut put = |k: &str, v: Value| {
                ops.push(json!({"op": "replace", "path": format!("/{k}"), "value": v}));
            };
            for (k, v) in [
                ("name", name),
                ("network", network),
                ("prefix", prefix),
                ("order", fields.order),
                ("floating_address", fields.floating_address),
                ("controller0_address", fields.controller0_address),
                ("controller1_address", fields.controller1_address),
                ("gateway_address", fields.gateway_address),
            ] {
                if let Some(v) = v {
                    put(k, json!(v));
                }
            }
            if let Some(r) = &fields.ranges {
                put("ranges", json!(range_pairs(r)?));
            }
            if ops.is_empty() {
                bail!("addrpool-modify needs at least one attribute to change");
            }
            let v = c.patch(&pool_path(&address_pool_uuid)?, &Value::Array(ops))?;
            show_pool(&pool_of(v)?, &out)
        }
        NetworkCmd::AddrpoolDelete { address_pool_uuid } => {
            c.delete(&pool_path(&address_pool_uuid)?)?;
            starling_cli::outln(format!("Deleted address pool: {address_pool_uuid}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_start_end_pairs() {
        assert_eq!(
            range_pairs("10.0.0.2-10.0.0.9, 10.0.0.20-10.0.0.29").unwrap(),
            vec![
                vec!["10.0.0.2".to_string(), "10.0.0.9".to_string()],
                vec!["10.0.0.20".to_string(), "10.0.0.29".to_string()]
            ]
        );
        assert!(range_pairs("10.0.0.2").is_err());
        assert!(range_pairs("10.0.0.2-").is_err());
        // IPv6 addresses have no hyphen: the first one splits.
        assert_eq!(range_pairs("fd00::2-fd00::9").unwrap()[0][1], "fd00::9");
    }
}
