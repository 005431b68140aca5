//! The cloud's platform services (cgtsclient's `dns-show`/`-modify`,
//! `ntp-show`/`-modify`, `oam-show`/`-modify`), with cgtsclient's fields
//! and `key=value` attributes. A modify applies at once (`action=apply`,
//! as cgtsclient adds it).

use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use starling_cli::{Client, Out, Table, as_wire, field};
use starling_config_types as wire;

#[derive(Subcommand, Debug)]
pub(crate) enum ConfigCmd {
    /// Show the DNS servers.
    #[command(name = "dns-show")]
    DnsShow {
        #[command(flatten)]
        out: Out,
    },
    /// Modify the DNS servers (nameservers=a,b,c; empty for none).
    #[command(name = "dns-modify")]
    DnsModify {
        /// attribute=value pairs.
        #[arg(required = true, value_name = "PATH=VALUE")]
        attributes: Vec<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Show the NTP servers.
    #[command(name = "ntp-show")]
    NtpShow {
        #[command(flatten)]
        out: Out,
    },
    /// Modify the NTP servers (ntpservers=a,b,c; empty for none). The
    /// controllers take them at their next lock and unlock.
    #[command(name = "ntp-modify")]
    NtpModify {
        /// attribute=value pairs.
        #[arg(required = true, value_name = "PATH=VALUE")]
        attributes: Vec<String>,
        #[command(flatten)]
        out: Out,
    },
    /// List the data networks.
    #[command(name = "datanetwork-list")]
    DatanetworkList {
        #[command(flatten)]
        out: Out,
    },
    /// Show a data network.
    #[command(name = "datanetwork-show")]
    DatanetworkShow {
        /// Its uuid or name.
        datanetwork: String,
        #[command(flatten)]
        out: Out,
    },
    /// Add a data network.
    #[command(name = "datanetwork-add")]
    DatanetworkAdd {
        /// Its name.
        name: String,
        /// flat, vlan or vxlan.
        #[arg(value_parser = ["flat", "vlan", "vxlan"])]
        network_type: String,
        /// Its description.
        #[arg(short = 'd', long)]
        description: Option<String>,
        /// Its MTU (576 to 9216).
        #[arg(short = 'm', long, default_value_t = 1500)]
        mtu: i64,
        /// vxlan: the UDP port.
        #[arg(short = 'p', long = "port_num")]
        port_num: Option<i64>,
        /// vxlan, dynamic mode: the multicast group.
        #[arg(short = 'g', long = "multicast_group")]
        multicast_group: Option<String>,
        /// vxlan: the time-to-live.
        #[arg(short = 't', long)]
        ttl: Option<i64>,
        /// vxlan: dynamic or static.
        #[arg(short = 'M', long, value_parser = ["dynamic", "static"])]
        mode: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Modify a data network's MTU or description.
    #[command(name = "datanetwork-modify")]
    DatanetworkModify {
        /// Its uuid or name.
        datanetwork: String,
        /// Its MTU.
        #[arg(short = 'm', long)]
        mtu: Option<i64>,
        /// Its description.
        #[arg(short = 'd', long)]
        description: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Delete a data network.
    #[command(name = "datanetwork-delete")]
    DatanetworkDelete {
        /// Its uuid or name.
        datanetwork: String,
    },
    /// Show the OAM network.
    #[command(name = "oam-show")]
    OamShow {
        #[command(flatten)]
        out: Out,
    },
    /// Modify the OAM network (oam_subnet, oam_gateway_ip,
    /// oam_floating_ip, oam_c0_ip, oam_c1_ip, oam_start_ip, oam_end_ip;
    /// oam_ip on a simplex system).
    #[command(name = "oam-modify")]
    OamModify {
        /// attribute=value pairs.
        #[arg(required = true, value_name = "PATH=VALUE")]
        attributes: Vec<String>,
        #[command(flatten)]
        out: Out,
    },
}

/// `key=value` pairs as JSON-Patch replaces, `action=apply` added when
/// `apply` and not given; `empty` is what an empty value is sent as
/// (sysinv's `NC`, not configured).
fn patch(attributes: &[String], empty: Option<&str>, apply: bool) -> Result<Value> {
    let mut ops = Vec::new();
    let mut action = false;
    for a in attributes {
        let Some((k, v)) = a.split_once('=') else {
            bail!("invalid attribute '{a}': expected attribute=value");
        };
        let k = k.trim();
        if k.is_empty() {
            bail!("invalid attribute '{a}': the name is empty");
        }
        action |= k == "action";
        let v = match (v.trim().is_empty(), empty) {
            (true, Some(nc)) => nc,
            _ => v,
        };
        ops.push(json!({"op": "replace", "path": format!("/{k}"), "value": v}));
    }
    if apply && !action {
        ops.push(json!({"op": "replace", "path": "/action", "value": "apply"}));
    }
    Ok(Value::Array(ops))
}

fn show(v: &Value, fields: &[&str], out: &Out) -> Result<()> {
    let fields: Vec<(&str, Value)> = fields.iter().map(|f| (*f, field(v, f))).collect();
    starling_cli::out(&Table::render_record(&fields, out)?)?;
    Ok(())
}

const DNS_FIELDS: &[&str] = &[
    "uuid",
    "nameservers",
    "isystem_uuid",
    "created_at",
    "updated_at",
];
const NTP_FIELDS: &[&str] = &[
    "uuid",
    "ntpservers",
    "isystem_uuid",
    "created_at",
    "updated_at",
];

fn simplex(c: &Client) -> Result<bool> {
    let v: starling_inventory_types::SystemList = c.get_as("/v1/isystems")?;
    Ok(v.isystems
        .first()
        .is_some_and(|s| s.system_mode == "simplex"))
}

/// oam-show's fields: on a simplex system the floating address is
/// `oam_ip` and the controllers' own are not shown (as cgtsclient).
fn show_oam(c: &Client, v: &Value, out: &Out) -> Result<()> {
    let mut fields: Vec<(&str, Value)> = [
        "uuid",
        "oam_subnet",
        "oam_gateway_ip",
        "oam_floating_ip",
        "oam_c0_ip",
        "oam_c1_ip",
        "isystem_uuid",
        "created_at",
        "updated_at",
    ]
    .iter()
    .map(|f| (*f, field(v, f)))
    .collect();
    if v["region_config"].as_bool() == Some(true) {
        fields.push(("oam_start_ip", field(v, "oam_start_ip")));
        fields.push(("oam_end_ip", field(v, "oam_end_ip")));
    }
    if simplex(c)? {
        fields.retain(|(k, _)| !["oam_c0_ip", "oam_c1_ip"].contains(k));
        for f in fields.iter_mut() {
            if f.0 == "oam_floating_ip" {
                f.0 = "oam_ip";
            }
        }
    }
    starling_cli::out(&Table::render_record(&fields, out)?)?;
    Ok(())
}

/// datanetwork-show's fields (the vxlan ones for a vxlan network).
fn show_datanetwork(v: &Value, out: &Out) -> Result<()> {
    let mut fields = vec!["id", "uuid", "name", "network_type", "mtu", "description"];
    if v["network_type"] == "vxlan" {
        fields.extend(["multicast_group", "port_num", "ttl", "mode"]);
    }
    show(v, &fields, out)
}

/// A data network's path: its uuid or name (which sysinv allows only
/// letters, digits, `_`, `.` and `-` in).
fn datanetwork_path(key: &str) -> Result<String> {
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        bail!("invalid data network '{key}': give its uuid or name");
    }
    Ok(format!("/v1/datanetworks/{key}"))
}

pub(crate) fn run(c: &Client, cmd: ConfigCmd) -> Result<()> {
    match cmd {
        ConfigCmd::DatanetworkList { out } => {
            let v: wire::DataNetworkList = c.get_as("/v1/datanetworks")?;
            let mut t = Table::new(&["uuid", "name", "network_type", "mtu"]);
            for d in v.datanetworks {
                t.rows.push(vec![
                    json!(d.uuid),
                    json!(d.name),
                    json!(d.network_type),
                    json!(d.mtu),
                ]);
            }
            t.rows.sort_by(|a, b| a[1].as_str().cmp(&b[1].as_str()));
            starling_cli::out(&t.render(&out)?)
        }
        ConfigCmd::DatanetworkShow { datanetwork, out } => {
            let v = c.get(&datanetwork_path(&datanetwork)?)?;
            show_datanetwork(&as_wire::<wire::DataNetwork>(v, "a data network")?, &out)
        }
        ConfigCmd::DatanetworkAdd {
            name,
            network_type,
            description,
            mtu,
            port_num,
            multicast_group,
            ttl,
            mode,
            out,
        } => {
            let vxlan = network_type == "vxlan";
            let body = wire::DataNetworkAdd {
                name: Some(name),
                network_type: Some(network_type),
                description,
                mtu: Some(mtu),
                multicast_group,
                port_num,
                ttl,
                // cgtsclient sends its default mode, dynamic, for vxlan.
                mode: mode.or_else(|| vxlan.then(|| "dynamic".to_string())),
            };
            let Some(v) = c.post("/v1/datanetworks", &serde_json::to_value(&body)?)? else {
                bail!("the platform API answered datanetwork-add without the data network");
            };
            show_datanetwork(&as_wire::<wire::DataNetwork>(v, "a data network")?, &out)
        }
        ConfigCmd::DatanetworkModify {
            datanetwork,
            mtu,
            description,
            out,
        } => {
            let mut ops = Vec::new();
            if let Some(m) = mtu {
                ops.push(json!({"op": "replace", "path": "/mtu", "value": m}));
            }
            if let Some(d) = description {
                ops.push(json!({"op": "replace", "path": "/description", "value": d}));
            }
            if ops.is_empty() {
                bail!("datanetwork-modify needs --mtu or --description");
            }
            let v = c.patch(&datanetwork_path(&datanetwork)?, &Value::Array(ops))?;
            show_datanetwork(&as_wire::<wire::DataNetwork>(v, "a data network")?, &out)
        }
        ConfigCmd::DatanetworkDelete { datanetwork } => {
            c.delete(&datanetwork_path(&datanetwork)?)?;
            starling_cli::outln(format!("Deleted DataNetwork: {datanetwork}"))
        }
        ConfigCmd::DnsShow { out } => {
            let v: wire::DnsList = c.get_as("/v1/idns")?;
            let Some(d) = v.idnss.first() else {
                bail!("no DNS record: the system has not been bootstrapped");
            };
            show(&serde_json::to_value(d)?, DNS_FIELDS, &out)
        }
        ConfigCmd::DnsModify { attributes, out } => {
            let v: wire::DnsList = c.get_as("/v1/idns")?;
            let Some(d) = v.idnss.first() else {
                bail!("no DNS record: the system has not been bootstrapped");
            };
            let d = c.patch(
                &format!("/v1/idns/{}", d.uuid),
                &patch(&attributes, Some("NC"), true)?,
            )?;
            show(
                &as_wire::<wire::Dns>(d, "the DNS record")?,
                DNS_FIELDS,
                &out,
            )
        }
        ConfigCmd::NtpShow { out } => {
            let v: wire::NtpList = c.get_as("/v1/intp")?;
            let Some(n) = v.intps.first() else {
                bail!("no NTP record: the system has not been bootstrapped");
            };
            show(&serde_json::to_value(n)?, NTP_FIELDS, &out)
        }
        ConfigCmd::NtpModify { attributes, out } => {
            let v: wire::NtpList = c.get_as("/v1/intp")?;
            let Some(n) = v.intps.first() else {
                bail!("no NTP record: the system has not been bootstrapped");
            };
            let n = c.patch(
                &format!("/v1/intp/{}", n.uuid),
                &patch(&attributes, Some("NC"), true)?,
            )?;
            show(
                &as_wire::<wire::Ntp>(n, "the NTP record")?,
                NTP_FIELDS,
                &out,
            )
        }
        ConfigCmd::OamShow { out } => {
            let v: wire::OamList = c.get_as("/v1/iextoam")?;
            let Some(o) = v.iextoams.first() else {
                bail!("no OAM network: the system has not been bootstrapped");
            };
            show_oam(c, &serde_json::to_value(o)?, &out)
        }
        ConfigCmd::OamModify {
            mut attributes,
            out,
        } => {
            let v: wire::OamList = c.get_as("/v1/iextoam")?;
            let Some(o) = v.iextoams.first() else {
                bail!("no OAM network: the system has not been bootstrapped");
            };
            if simplex(c)? {
                for a in attributes.iter_mut() {
                    let (k, v) = a.split_once('=').unwrap_or((a.as_str(), ""));
                    if ["oam_floating_ip", "oam_c0_ip", "oam_c1_ip"].contains(&k) {
                        bail!("{k} is not supported on a simplex system");
                    }
                    if k == "oam_ip" {
                        *a = format!("oam_floating_ip={v}");
                    }
                }
            }
            // cgtsclient's oam-modify adds no action.
            let p = patch(&attributes, None, false)?;
            let o = c.patch(&format!("/v1/iextoam/{}", o.uuid), &p)?;
            show_oam(c, &as_wire::<wire::Oam>(o, "the OAM network")?, &out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_become_replaces_with_apply() {
        let p = patch(&["nameservers=".into()], Some("NC"), true).unwrap();
        assert_eq!(
            p,
            json!([
                {"op": "replace", "path": "/nameservers", "value": "NC"},
                {"op": "replace", "path": "/action", "value": "apply"}
            ])
        );
        let p = patch(
            &["ntpservers=a,b".into(), "action=install".into()],
            Some("NC"),
            true,
        )
        .unwrap();
        assert_eq!(p.as_array().unwrap().len(), 2);
        assert!(patch(&["nameservers".into()], None, false).is_err());
        assert_eq!(
            patch(&["oam_subnet=x".into()], None, false)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
