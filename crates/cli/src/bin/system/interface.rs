//! Host interfaces and their networks (cgtsclient's `host-if-list`,
//! `-show`, `-add`, `-modify`, `-delete`, `interface-network-list`,
//! `-show`, `-assign`, `-remove` and `interface-datanetwork-list`, `-show`,
//! `-assign`, `-remove`), with cgtsclient's arguments and columns.

use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use starling_cli::{Client, Out, OutLong, Table, as_wire, field, text};
use starling_config_types as wire;

use crate::host_path;
use crate::network::key as uuid_path;

/// The attributes `host-if-add` and `-modify` share.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct IfArgs {
    /// The AE mode (balanced, active_standby or 802.3ad).
    #[arg(short = 'a', long, value_parser = ["balanced", "active_standby", "802.3ad"])]
    aemode: Option<String>,
    /// The balanced tx distribution hash policy.
    #[arg(short = 'x', long, value_parser = ["layer2", "layer2+3", "layer3+4"])]
    txhashpolicy: Option<String>,
    /// The MTU of the interface.
    #[arg(short = 'm', long)]
    imtu: Option<String>,
    /// The IPv4 address mode of the interface.
    #[arg(long = "ipv4-mode", value_parser = ["disabled", "static", "pool"])]
    ipv4_mode: Option<String>,
    /// The IPv6 address mode of the interface.
    #[arg(long = "ipv6-mode", value_parser = ["disabled", "static", "link-local", "pool"])]
    ipv6_mode: Option<String>,
    /// The IPv4 address pool name or uuid if mode is set to 'pool'.
    #[arg(long = "ipv4-pool")]
    ipv4_pool: Option<String>,
    /// The IPv6 address pool name or uuid if mode is set to 'pool'.
    #[arg(long = "ipv6-pool")]
    ipv6_pool: Option<String>,
    /// The number of SR-IOV VFs of the interface.
    #[arg(short = 'N', long = "num-vfs")]
    sriov_numvfs: Option<String>,
    /// The SR-IOV VF driver for this device.
    #[arg(long = "vf-driver", value_parser = ["netdevice", "vfio"])]
    sriov_vf_driver: Option<String>,
    /// The PTP role for this interface.
    #[arg(long = "ptp-role", value_parser = ["master", "slave", "none"])]
    ptp_role: Option<String>,
    /// The max tx rate (Mb/s) of the platform or SR-IOV VF interface.
    #[arg(short = 't', long = "max-tx-rate")]
    max_tx_rate: Option<String>,
    /// The max rx rate (Mb/s) of the platform interface.
    #[arg(short = 'r', long = "max-rx-rate")]
    max_rx_rate: Option<String>,
    /// The reselection policy for an active standby bonded interface.
    #[arg(long = "primary-reselect", value_parser = ["always", "better", "failure"])]
    primary_reselect: Option<String>,
}

impl IfArgs {
    /// The attributes given, by their wire names.
    fn given(self) -> Vec<(&'static str, String)> {
        [
            ("aemode", self.aemode),
            ("txhashpolicy", self.txhashpolicy),
            ("imtu", self.imtu),
            ("ipv4_mode", self.ipv4_mode),
            ("ipv6_mode", self.ipv6_mode),
            ("ipv4_pool", self.ipv4_pool),
            ("ipv6_pool", self.ipv6_pool),
            ("sriov_numvfs", self.sriov_numvfs),
            ("sriov_vf_driver", self.sriov_vf_driver),
            ("ptp_role", self.ptp_role),
            ("max_tx_rate", self.max_tx_rate),
            ("max_rx_rate", self.max_rx_rate),
            ("primary_reselect", self.primary_reselect),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum InterfaceCmd {
    /// List interfaces.
    #[command(name = "host-if-list")]
    List {
        /// Name or ID of host.
        host: String,
        /// List all interface, including those without a configured network
        /// type.
        #[arg(short = 'a', long)]
        all: bool,
        #[command(flatten)]
        out: Out,
    },
    /// Show interface attributes.
    #[command(name = "host-if-show")]
    Show {
        /// Name or ID of host.
        host: String,
        /// Name or UUID of interface.
        interface: String,
        #[command(flatten)]
        out: Out,
    },
    /// Add an interface.
    #[command(name = "host-if-add")]
    Add {
        /// Name or ID of host.
        host: String,
        /// Name of interface.
        ifname: String,
        /// Type of the interface.
        #[arg(value_parser = ["ae", "vlan", "virtual", "vf", "ethernet"])]
        iftype: String,
        /// Name of port(s) or interface(s).
        #[arg(required = true, num_args = 1..)]
        portsorifaces: Vec<String>,
        /// The VLAN id of the interface.
        #[arg(short = 'V', long = "vlan_id")]
        vlan_id: Option<String>,
        /// The class of the interface.
        #[arg(short = 'c', long, value_parser = ["platform", "data", "pci-passthrough", "pci-sriov", "none"])]
        ifclass: Option<String>,
        #[command(flatten)]
        fields: Box<IfArgs>,
        #[command(flatten)]
        out: OutLong,
    },
    /// Modify interface attributes.
    #[command(name = "host-if-modify")]
    Modify {
        /// Name or ID of host.
        host: String,
        /// Name or UUID of interface.
        interface: String,
        /// The new name of the interface.
        #[arg(short = 'n', long)]
        ifname: Option<String>,
        /// The class of the interface.
        #[arg(short = 'c', long)]
        ifclass: Option<String>,
        #[command(flatten)]
        fields: Box<IfArgs>,
        #[command(flatten)]
        out: OutLong,
    },
    /// Delete an interface.
    #[command(name = "host-if-delete")]
    Delete {
        /// Name or ID of host.
        host: String,
        /// Name or UUID of interface.
        interface: String,
    },
    /// List network interfaces.
    #[command(name = "interface-network-list")]
    NetList {
        /// Name or ID of host.
        host: String,
        /// Name of interface.
        interface: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Show interface network details.
    #[command(name = "interface-network-show")]
    NetShow {
        /// UUID of interface network entry.
        interface_network_uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Assign a network to an interface.
    #[command(name = "interface-network-assign")]
    NetAssign {
        /// Name or ID of host.
        host: String,
        /// Name of interface.
        interface: String,
        /// Name or UUID of IP network.
        network: String,
        #[command(flatten)]
        out: Out,
    },
    /// Remove an assigned network from an interface.
    #[command(name = "interface-network-remove")]
    NetRemove {
        /// UUID of interface network entry.
        interface_network_uuid: String,
    },
    /// List datanetwork interfaces.
    #[command(name = "interface-datanetwork-list")]
    DnList {
        /// Name or ID of host.
        host: String,
        /// Name of interface.
        interface: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Show interface datanetwork details.
    #[command(name = "interface-datanetwork-show")]
    DnShow {
        /// UUID of interface datanetwork entry.
        interface_datanetwork_uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Assign a datanetwork to an interface.
    #[command(name = "interface-datanetwork-assign")]
    DnAssign {
        /// Name or ID of host.
        host: String,
        /// Name of interface.
        interface: String,
        /// Name or UUID of datanetwork.
        datanetwork: String,
        #[command(flatten)]
        out: Out,
    },
    /// Remove an assigned datanetwork from an interface.
    #[command(name = "interface-datanetwork-remove")]
    DnRemove {
        /// UUID of interface datanetwork entry.
        interface_datanetwork_uuid: String,
    },
}

/// host-if-show's fields, in cgtsclient's order.
const SHOW_FIELDS: &[&str] = &[
    "ifname",
    "iftype",
    "ports",
    "imac",
    "imtu",
    "ifclass",
    "ptp_role",
    "aemode",
    "schedpolicy",
    "txhashpolicy",
    "primary_reselect",
    "uuid",
    "ihost_uuid",
    "vlan_id",
    "uses",
    "used_by",
    "created_at",
    "updated_at",
    "sriov_numvfs",
    "sriov_vf_driver",
    "max_tx_rate",
    "max_rx_rate",
    "ovs_access",
    "channels",
    "sriov_vf_channels",
];

/// A host's interfaces (as records).
fn interfaces(c: &Client, host: &str) -> Result<Vec<Value>> {
    let v: wire::InterfaceList = c.get_as(&format!("{}/iinterfaces", host_path(host)?))?;
    v.iinterfaces
        .iter()
        .map(|i| Ok(serde_json::to_value(i)?))
        .collect()
}

/// The interface `key` names (name or uuid) among `all` (cgtsclient's
/// `_find_interface`).
fn find<'a>(all: &'a [Value], host: &str, key: &str) -> Result<&'a Value> {
    all.iter()
        .find(|i| text(i, "ifname") == key || text(i, "uuid") == key)
        .ok_or_else(|| anyhow::anyhow!("Interface not found: host {host} if {key}"))
}

/// An interface's ports (their display names) and whether each supports
/// DPDK.
fn ports_of(c: &Client, uuid: &str) -> Result<Vec<(String, bool)>> {
    let v = c.get(&format!(
        "/v1/iinterfaces/{}/ports",
        uuid_path("interface", uuid)?
    ))?;
    let Some(ports) = v.get("ports").and_then(Value::as_array) else {
        bail!("the platform API answered an interface's ports without a list");
    };
    Ok(ports
        .iter()
        .map(|p| {
            let name = p
                .get("namedisplay")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map_or_else(|| text(p, "name"), String::from);
            (
                name,
                p.get("dpdksupport")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            )
        })
        .collect())
}

/// The ports and DPDK support of each interface (cgtsclient's
/// `_get_ports`: an ethernet interface's own; a VLAN's or an AE's those of
/// what it is stacked on, for its `accelerated` attribute).
fn with_ports(c: &Client, all: &mut [Value]) -> Result<()> {
    let mut own: Vec<(String, Vec<(String, bool)>)> = Vec::new();
    for i in all.iter() {
        if text(i, "iftype") == "ethernet" {
            own.push((text(i, "ifname"), ports_of(c, &text(i, "uuid"))?));
        }
    }
    let own_of = |name: &str| {
        own.iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let uses_of = |i: &Value| -> Vec<String> {
        i.get("uses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let snapshot: Vec<Value> = all.to_vec();
    for i in all.iter_mut() {
        let name = text(i, "ifname");
        let ports = if text(i, "iftype") == "ethernet" {
            own_of(&name)
        } else {
            Vec::new()
        };
        let mut dpdk: Vec<bool> = ports.iter().map(|(_, d)| *d).collect();
        if text(i, "iftype") != "ethernet" {
            for u in uses_of(i) {
                let lower = snapshot.iter().find(|x| text(x, "ifname") == u);
                let under = match lower {
                    Some(l) if text(l, "iftype") == "ae" => uses_of(l)
                        .iter()
                        .flat_map(|m| own_of(m))
                        .collect::<Vec<_>>(),
                    _ => own_of(&u),
                };
                dpdk.extend(under.iter().map(|(_, d)| *d));
            }
        }
        i["ports"] = json!(ports.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        i["dpdksupport"] = json!(dpdk);
    }
    Ok(())
}

/// host-if-list's `attributes` (cgtsclient's attribute string).
fn attributes(i: &Value) -> String {
    let mut s = format!("MTU={}", text(i, "imtu"));
    if text(i, "iftype") == "ae" {
        let mode = text(i, "aemode");
        s.push_str(&format!(",AE_MODE={mode}"));
        if mode == "balanced" || mode == "802.3ad" {
            s.push_str(&format!(",AE_XMIT_POLICY={}", text(i, "txhashpolicy")));
        }
        if mode == "active_standby" && !i["primary_reselect"].is_null() {
            s.push_str(&format!(
                ",primary_reselect={}",
                text(i, "primary_reselect")
            ));
        }
    }
    if text(i, "ifclass") == "data" {
        let all = i["dpdksupport"]
            .as_array()
            .is_some_and(|d| d.iter().all(|x| x.as_bool() == Some(true)));
        s.push_str(if all {
            ",accelerated=True"
        } else {
            ",accelerated=False"
        });
    }
    for k in [
        "max_tx_rate",
        "max_rx_rate",
        "channels",
        "sriov_vf_channels",
    ] {
        if i[k].as_i64().is_some_and(|n| n != 0) {
            s.push_str(&format!(",{k}={}", text(i, k)));
        }
    }
    s
}

fn show_interface(i: &Value, out: &Out) -> Result<()> {
    let mut fields: Vec<(&str, Value)> = SHOW_FIELDS.iter().map(|f| (*f, field(i, f))).collect();
    for f in ["ipv4_mode", "ipv6_mode", "ipv4_pool", "ipv6_pool"] {
        if i.get(f).is_some() {
            fields.push((f, field(i, f)));
        }
    }
    if let Some(d) = i.get("dpdksupport")
        && d.as_array().is_some_and(|a| !a.is_empty())
    {
        fields.push(("accelerated", d.clone()));
    }
    starling_cli::out(&Table::render_record(&fields, out)?)
}

/// An interface answer, with its ports (cgtsclient re-reads it and its
/// host's interfaces to show it).
fn show_fresh(c: &Client, host: &str, uuid: &str, out: &Out) -> Result<()> {
    let mut all = interfaces(c, host)?;
    with_ports(c, &mut all)?;
    let i = find(&all, host, uuid)?;
    show_interface(i, out)
}

/// An assignment record's rows, with its host's name.
fn assignment_fields<'a>(v: &Value, hostname: &str, name_key: &'a str) -> Vec<(&'a str, Value)> {
    vec![
        ("hostname", json!(hostname)),
        ("uuid", field(v, "uuid")),
        ("ifname", field(v, "ifname")),
        (name_key, field(v, name_key)),
    ]
}

/// The name of the host of integer id `id` (cgtsclient's `_find_ihost`).
fn hostname_of(c: &Client, v: &Value) -> Result<String> {
    let id = text(v, "forihostid");
    let h = c.get(&host_path(&id)?)?;
    Ok(text(&h, "hostname"))
}

/// `interface-network-list` and `interface-datanetwork-list`.
fn list_assignments(
    c: &Client,
    host: &str,
    interface: Option<String>,
    (collection, name_key): (&str, &str),
    out: &Out,
) -> Result<()> {
    let h = c.get(&host_path(host)?)?;
    let hostname = text(&h, "hostname");
    let path = match interface {
        None => format!("/v1/ihosts/{}/{collection}", text(&h, "uuid")),
        Some(k) => {
            let all = interfaces(c, host)?;
            let i = find(&all, host, &k)?;
            format!("/v1/iinterfaces/{}/{collection}", text(i, "uuid"))
        }
    };
    let v = c.get(&path)?;
    let Some(items) = v.get(collection).and_then(Value::as_array) else {
        bail!("the platform API answered without {collection}");
    };
    let columns = ["hostname", "uuid", "ifname", name_key];
    let mut t = Table::new(&columns);
    for a in items {
        t.rows.push(
            assignment_fields(a, &hostname, name_key)
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
        );
    }
    t.rows.sort_by(|a, b| a[1].as_str().cmp(&b[1].as_str()));
    starling_cli::out(&t.render(out)?)
}

fn show_assignment(c: &Client, v: &Value, name_key: &str, out: &Out) -> Result<()> {
    let hostname = hostname_of(c, v)?;
    starling_cli::out(&Table::render_record(
        &assignment_fields(v, &hostname, name_key),
        out,
    )?)
}

pub(crate) fn run(c: &Client, cmd: InterfaceCmd) -> Result<()> {
    match cmd {
        InterfaceCmd::List { host, all, out } => {
            let mut list = interfaces(c, &host)?;
            with_ports(c, &mut list)?;
            let columns = [
                "uuid",
                "name",
                "class",
                "type",
                "vlan id",
                "ports",
                "uses i/f",
                "used by i/f",
                "attributes",
            ];
            let mut t = Table::new(&columns);
            for i in &list {
                let unused =
                    i["ifclass"].is_null() && i["used_by"].as_array().is_none_or(|a| a.is_empty());
                if !all && unused {
                    continue;
                }
                t.rows.push(vec![
                    field(i, "uuid"),
                    field(i, "ifname"),
                    field(i, "ifclass"),
                    field(i, "iftype"),
                    field(i, "vlan_id"),
                    field(i, "ports"),
                    field(i, "uses"),
                    field(i, "used_by"),
                    json!(attributes(i)),
                ]);
            }
            t.rows.sort_by(|a, b| a[0].as_str().cmp(&b[0].as_str()));
            starling_cli::out(&t.render(&out)?)
        }
        InterfaceCmd::Show {
            host,
            interface,
            out,
        } => show_fresh(c, &host, &interface, &out),
        InterfaceCmd::Add {
            host,
            ifname,
            iftype,
            portsorifaces,
            vlan_id,
            ifclass,
            fields,
            out,
        } => {
            let h = c.get(&host_path(&host)?)?;
            let mut body = json!({
                "ihost_uuid": text(&h, "uuid"),
                "ifname": ifname,
                "iftype": iftype,
            });
            if iftype == "virtual" {
                body["uses"] = Value::Null;
                body["ports"] = json!([]);
            } else {
                body["uses"] = json!(portsorifaces);
                body["ports"] = Value::Null;
            }
            if let Some(v) = vlan_id {
                body["vlan_id"] = json!(v);
            }
            if let Some(v) = ifclass {
                body["ifclass"] = json!(v);
            }
            for (k, v) in fields.given() {
                body[k] = json!(v);
            }
            let Some(v) = c.post("/v1/iinterfaces", &body)? else {
                bail!("the platform API answered host-if-add without the interface");
            };
            let i = as_wire::<wire::Interface>(v, "an interface")?;
            show_fresh(c, &host, &text(&i, "uuid"), &out.into())
        }
        InterfaceCmd::Modify {
            host,
            interface,
            ifname,
            ifclass,
            fields,
            out,
        } => {
            let mut all = interfaces(c, &host)?;
            let i = find(&all, &host, &interface)?.clone();
            let mut given: Vec<(&str, String)> = Vec::new();
            if let Some(n) = ifname {
                given.push(("ifname", n));
            }
            if let Some(cl) = &ifclass {
                given.push(("ifclass", cl.clone()));
                // Back to no class: an ethernet interface takes its port's
                // name again (as cgtsclient renames it).
                if cl == "none" && !matches!(text(&i, "iftype").as_str(), "ae" | "vlan") {
                    with_ports(c, &mut all)?;
                    let i = find(&all, &host, &interface)?;
                    if let Some(p) = i["ports"].as_array().and_then(|p| p.first()) {
                        given.retain(|(k, _)| *k != "ifname");
                        given.push(("ifname", p.as_str().unwrap_or_default().to_string()));
                    }
                }
            }
            given.extend(fields.given());
            if given.is_empty() {
                bail!("host-if-modify needs at least one attribute to change");
            }
            let ops: Vec<Value> = given
                .into_iter()
                .map(|(k, v)| json!({"op": "replace", "path": format!("/{k}"), "value": v}))
                .collect();
            let uuid = text(&i, "uuid");
            let v = c.patch(
                &format!("/v1/iinterfaces/{}", uuid_path("interface", &uuid)?),
                &Value::Array(ops),
            )?;
            as_wire::<wire::Interface>(v, "an interface")?;
            show_fresh(c, &host, &uuid, &out.into())
        }
        InterfaceCmd::Delete { host, interface } => {
            let all = interfaces(c, &host)?;
            let i = find(&all, &host, &interface)?;
            c.delete(&format!(
                "/v1/iinterfaces/{}",
                uuid_path("interface", &text(i, "uuid"))?
            ))?;
            starling_cli::outln(format!("Deleted interface: host {host} if {interface}"))
        }
        InterfaceCmd::NetList {
            host,
            interface,
            out,
        } => list_assignments(
            c,
            &host,
            interface,
            ("interface_networks", "network_name"),
            &out,
        ),
        InterfaceCmd::NetShow {
            interface_network_uuid,
            out,
        } => {
            let v = c.get(&format!(
                "/v1/interface_networks/{}",
                uuid_path("interface network", &interface_network_uuid)?
            ))?;
            let v = as_wire::<wire::InterfaceNetwork>(v, "an interface network")?;
            show_assignment(c, &v, "network_name", &out)
        }
        InterfaceCmd::NetAssign {
            host,
            interface,
            network,
            out,
        } => {
            let all = interfaces(c, &host)?;
            let i = find(&all, &host, &interface)?;
            let nets: wire::NetworkList = c.get_as("/v1/networks")?;
            let Some(n) = nets
                .networks
                .iter()
                .find(|n| n.uuid == network || n.name == network)
            else {
                bail!("Network not found: {network}");
            };
            let body = json!({"interface_uuid": text(i, "uuid"), "network_uuid": n.uuid});
            let Some(v) = c.post("/v1/interface_networks", &body)? else {
                bail!("the platform API answered interface-network-assign without the assignment");
            };
            let v = as_wire::<wire::InterfaceNetwork>(v, "an interface network")?;
            show_assignment(c, &v, "network_name", &out)
        }
        InterfaceCmd::NetRemove {
            interface_network_uuid,
        } => {
            c.delete(&format!(
                "/v1/interface_networks/{}",
                uuid_path("interface network", &interface_network_uuid)?
            ))?;
            starling_cli::outln(format!(
                "Deleted Interface Network: {interface_network_uuid}"
            ))
        }
        InterfaceCmd::DnList {
            host,
            interface,
            out,
        } => list_assignments(
            c,
            &host,
            interface,
            ("interface_datanetworks", "datanetwork_name"),
            &out,
        ),
        InterfaceCmd::DnShow {
            interface_datanetwork_uuid,
            out,
        } => {
            let v = c.get(&format!(
                "/v1/interface_datanetworks/{}",
                uuid_path("interface datanetwork", &interface_datanetwork_uuid)?
            ))?;
            let v = as_wire::<wire::InterfaceDataNetwork>(v, "an interface datanetwork")?;
            show_assignment(c, &v, "datanetwork_name", &out)
        }
        InterfaceCmd::DnAssign {
            host,
            interface,
            datanetwork,
            out,
        } => {
            let all = interfaces(c, &host)?;
            let i = find(&all, &host, &interface)?;
            if datanetwork.is_empty() || datanetwork.contains(['/', '?', '#', '%']) {
                bail!("invalid datanetwork '{datanetwork}': give its name or uuid");
            }
            let d: wire::DataNetwork = c.get_as(&format!("/v1/datanetworks/{datanetwork}"))?;
            let body = json!({"interface_uuid": text(i, "uuid"), "datanetwork_uuid": d.uuid});
            let Some(v) = c.post("/v1/interface_datanetworks", &body)? else {
                bail!(
                    "the platform API answered interface-datanetwork-assign without the assignment"
                );
            };
            let v = as_wire::<wire::InterfaceDataNetwork>(v, "an interface datanetwork")?;
            show_assignment(c, &v, "datanetwork_name", &out)
        }
        InterfaceCmd::DnRemove {
            interface_datanetwork_uuid,
        } => {
            c.delete(&format!(
                "/v1/interface_datanetworks/{}",
                uuid_path("interface datanetwork", &interface_datanetwork_uuid)?
            ))?;
            starling_cli::outln(format!(
                "Deleted Interface DataNetwork: {interface_datanetwork_uuid}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_read_as_cgtsclient_writes_them() {
        let ae = json!({"iftype": "ae", "imtu": 9000, "aemode": "802.3ad",
                        "txhashpolicy": "layer2", "ifclass": "data",
                        "dpdksupport": [true, false], "max_tx_rate": null});
        assert_eq!(
            attributes(&ae),
            "MTU=9000,AE_MODE=802.3ad,AE_XMIT_POLICY=layer2,accelerated=False"
        );
        let eth = json!({"iftype": "ethernet", "imtu": 1500, "ifclass": "platform",
                         "max_tx_rate": 100, "primary_reselect": null});
        assert_eq!(attributes(&eth), "MTU=1500,max_tx_rate=100");
        let sb = json!({"iftype": "ae", "imtu": 1500, "aemode": "active_standby",
                        "primary_reselect": "better", "ifclass": "platform"});
        assert_eq!(
            attributes(&sb),
            "MTU=1500,AE_MODE=active_standby,primary_reselect=better"
        );
    }
}
