//! The hardware commands of `system`: CPUs, memory, NUMA nodes, disks,
//! partitions, ports, PCI devices, LLDP, BMC sensors and labels, with cgtsclient's
//! column names. Each list is one request (the server resolves the host);
//! a show picks the record from that list by the name the operator uses.

use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use starling_cli::{Client, Out, Table, as_wire, confirm, text};
use starling_inventory_types::hardware as hw;

use crate::host_path;

/// A collection, its list columns (heading, field) and how a record of
/// it is read (checked as its wire type).
struct Listing {
    collection: &'static str,
    columns: &'static [(&'static str, &'static str)],
    read: fn(Value) -> Result<Value>,
}

/// Reads a record as the wire type `T`.
fn read<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> Result<Value> {
    as_wire::<T>(
        v,
        std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("a record"),
    )
}

const CPUS: Listing = Listing {
    collection: "icpus",
    columns: &[
        ("uuid", "uuid"),
        ("log_core", "cpu"),
        ("processor", "numa_node"),
        ("phy_core", "core"),
        ("thread", "thread"),
        ("processor_model", "cpu_model"),
        ("assigned_function", "allocated_function"),
    ],
    read: read::<hw::CpuRecord>,
};

const MEMORY: Listing = Listing {
    collection: "imemorys",
    columns: &[
        ("processor", "numa_node"),
        ("mem_total(MiB)", "memtotal_mib"),
        ("mem_platform(MiB)", "platform_reserved_mib"),
        ("mem_avail(MiB)", "memavail_mib"),
        ("hugepages(hp)_configured", "hugepages_configured"),
        ("vs_hp_size(MiB)", "vswitch_hugepages_size_mib"),
        ("vs_hp_total", "vswitch_hugepages_nr"),
        ("vs_hp_avail", "vswitch_hugepages_avail"),
        ("vs_hp_reqd", "vswitch_hugepages_reqd"),
        ("app_total_4K", "vm_hugepages_nr_4K"),
        ("app_hp_as_percentage", "vm_pending_as_percentage"),
        ("app_hp_total_2M", "vm_hugepages_nr_2M"),
        ("app_hp_avail_2M", "vm_hugepages_avail_2M"),
        ("app_hp_pending_2M", "vm_hugepages_nr_2M_pending"),
        ("app_hp_total_1G", "vm_hugepages_nr_1G"),
        ("app_hp_avail_1G", "vm_hugepages_avail_1G"),
        ("app_hp_pending_1G", "vm_hugepages_nr_1G_pending"),
        ("app_hp_use_1G", "vm_hugepages_use_1G"),
    ],
    read: read::<hw::MemoryRecord>,
};

const NODES: Listing = Listing {
    collection: "inodes",
    columns: &[
        ("uuid", "uuid"),
        ("numa_node", "numa_node"),
        ("capabilities", "capabilities"),
    ],
    read: read::<hw::NodeRecord>,
};

const DISKS: Listing = Listing {
    collection: "idisks",
    columns: &[
        ("uuid", "uuid"),
        ("device_node", "device_node"),
        ("device_num", "device_num"),
        ("device_type", "device_type"),
        ("size_gib", "size_gib"),
        ("available_gib", "available_gib"),
        ("rpm", "rpm"),
        ("serial_id", "serial_id"),
        ("device_path", "device_path"),
    ],
    read: read::<hw::DiskRecord>,
};

const PARTITIONS: Listing = Listing {
    collection: "partitions",
    columns: &[
        ("uuid", "uuid"),
        ("device_path", "device_path"),
        ("device_node", "device_node"),
        ("type_guid", "type_guid"),
        ("type_name", "type_name"),
        ("size_gib", "size_gib"),
        ("status", "status_text"),
    ],
    read: read::<hw::PartitionRecord>,
};

const PORTS: Listing = Listing {
    collection: "ports",
    columns: &[
        ("uuid", "uuid"),
        ("name", "name"),
        ("type", "type"),
        ("pci address", "pciaddr"),
        ("device", "dev_id"),
        ("processor", "numa_node"),
        ("accelerated", "dpdksupport"),
        ("device type", "pdevice"),
    ],
    read: read::<hw::PortRecord>,
};

const ETHERNET_PORTS: Listing = Listing {
    collection: "ethernet_ports",
    columns: &[
        ("uuid", "uuid"),
        ("name", "name"),
        ("mac address", "mac"),
        ("pci address", "pciaddr"),
        ("processor", "numa_node"),
        ("auto neg", "autoneg"),
        ("device type", "pdevice"),
        ("boot i/f", "bootp"),
    ],
    read: read::<hw::PortRecord>,
};

const DEVICES: Listing = Listing {
    collection: "pci_devices",
    columns: &[
        ("name", "name"),
        ("address", "pciaddr"),
        ("class id", "pclass_id"),
        ("vendor id", "pvendor_id"),
        ("device id", "pdevice_id"),
        ("class name", "pclass"),
        ("vendor name", "pvendor"),
        ("device name", "pdevice"),
        ("numa_node", "numa_node"),
        ("enabled", "enabled"),
    ],
    read: read::<hw::PciDeviceRecord>,
};

const LLDP_AGENTS: Listing = Listing {
    collection: "lldp_agents",
    columns: &[
        ("uuid", "uuid"),
        ("local_port", "port_name"),
        ("status", "status"),
        ("chassis_id", "chassis_id"),
        ("port_id", "port_identifier"),
        ("system_name", "system_name"),
        ("system_description", "system_description"),
    ],
    read: read::<hw::LldpAgentRecord>,
};

const LLDP_NEIGHBOURS: Listing = Listing {
    collection: "lldp_neighbours",
    columns: &[
        ("uuid", "uuid"),
        ("local_port", "port_name"),
        ("remote_port", "port_identifier"),
        ("chassis_id", "chassis_id"),
        ("system_name", "system_name"),
        ("system_description", "system_description"),
        ("management_address", "management_address"),
    ],
    read: read::<hw::LldpNeighbourRecord>,
};

const SENSORS: Listing = Listing {
    collection: "isensors",
    columns: &[
        ("uuid", "uuid"),
        ("name", "sensorname"),
        ("sensortype", "sensortype"),
        ("state", "state"),
        ("status", "status"),
    ],
    read: read::<hw::SensorRecord>,
};

const SENSOR_GROUPS: Listing = Listing {
    collection: "isensorgroups",
    columns: &[
        ("uuid", "uuid"),
        ("name", "sensorgroupname"),
        ("sensortype", "sensortype"),
        ("sensors", "sensors"),
        ("audit_interval_group", "audit_interval_group"),
        ("state", "state"),
    ],
    read: read::<hw::SensorGroupRecord>,
};

const LABELS: Listing = Listing {
    collection: "labels",
    columns: &[
        ("uuid", "uuid"),
        ("label_key", "label_key"),
        ("label_value", "label_value"),
    ],
    read: read::<hw::LabelRecord>,
};

/// A cell: the field, or a size in GiB computed from MiB (three decimals)
/// as cgtsclient shows disks and partitions.
fn cell(v: &Value, field: &str) -> Value {
    let gib = |mib: &str| match v.get(mib).and_then(Value::as_f64) {
        Some(m) => format!("{:.3}", m / 1024.0)
            .parse::<f64>()
            .map_or(Value::Null, Value::from),
        None => Value::Null,
    };
    match field {
        "size_gib" => gib("size_mib"),
        "available_gib" => gib("available_mib"),
        f => starling_cli::field(v, f),
    }
}

/// Every record of a host's collection (following `next`).
fn records(c: &Client, host: &str, l: &Listing, query: &str) -> Result<Vec<Value>> {
    c.get_all(
        &format!("{}/{}{query}", host_path(host)?, l.collection),
        l.collection,
    )?
    .into_iter()
    .map(l.read)
    .collect()
}

fn print_list(l: &Listing, recs: &[Value], out: &Out) -> Result<()> {
    let heads: Vec<&str> = l.columns.iter().map(|(h, _)| *h).collect();
    let mut t = Table::new(&heads);
    for r in recs {
        t.rows
            .push(l.columns.iter().map(|(_, f)| cell(r, f)).collect());
    }
    starling_cli::out(&t.render(out)?)?;
    Ok(())
}

/// Every attribute of a record but its links, sorted, as cgtsclient's
/// show commands print them.
fn print_record(r: &Value, out: &Out) -> Result<()> {
    let Some(o) = r.as_object() else {
        bail!("the inventory API answered with something that is not a record");
    };
    let mut fields: Vec<(&str, Value)> = o
        .keys()
        .filter(|k| *k != "links")
        .map(|k| (k.as_str(), cell(r, k)))
        .collect();
    fields.sort_by_key(|(k, _)| *k);
    starling_cli::out(&Table::render_record(&fields, out)?)?;
    Ok(())
}

/// The record whose uuid or one of `keys` equals `name`.
fn pick<'a>(
    recs: &'a [Value],
    name: &str,
    keys: &[&str],
    what: &str,
    host: &str,
) -> Result<&'a Value> {
    let hit = |r: &&Value| {
        std::iter::once("uuid")
            .chain(keys.iter().copied())
            .any(|k| match r.get(k) {
                Some(Value::String(s)) => s == name,
                Some(Value::Number(n)) => n.to_string() == name,
                _ => false,
            })
    };
    match recs.iter().find(hit) {
        Some(r) => Ok(r),
        None => bail!("{what} '{name}' not found on host {host}"),
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum HwCmd {
    /// List a host's logical CPUs.
    #[command(name = "host-cpu-list")]
    CpuList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Show a CPU.
    #[command(name = "host-cpu-show")]
    CpuShow {
        /// Hostname, id or uuid.
        host: String,
        /// Logical core number or uuid.
        cpu: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's memory per processor.
    #[command(name = "host-memory-list")]
    MemoryList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Show the memory of one processor.
    #[command(name = "host-memory-show")]
    MemoryShow {
        /// Hostname, id or uuid.
        host: String,
        /// Processor (NUMA node) number.
        processor: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's NUMA nodes.
    #[command(name = "host-node-list")]
    NodeList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's disks.
    #[command(name = "host-disk-list")]
    DiskList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Show a disk.
    #[command(name = "host-disk-show")]
    DiskShow {
        /// Hostname, id or uuid.
        host: String,
        /// Device node, device path or uuid.
        disk: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's disk partitions.
    #[command(name = "host-disk-partition-list")]
    DiskPartitionList {
        /// Hostname, id or uuid.
        host: String,
        /// Only the partitions of this disk (device node, path or uuid).
        #[arg(long)]
        disk: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Show a partition.
    #[command(name = "host-disk-partition-show")]
    DiskPartitionShow {
        /// Hostname, id or uuid.
        host: String,
        /// Device node, device path or uuid.
        partition: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's ports.
    #[command(name = "host-port-list")]
    PortList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Show a port.
    #[command(name = "host-port-show")]
    PortShow {
        /// Hostname, id or uuid.
        host: String,
        /// Port name or uuid.
        port: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's ethernet ports.
    #[command(name = "host-ethernet-port-list")]
    EthernetPortList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's PCI devices.
    #[command(name = "host-device-list")]
    DeviceList {
        /// Hostname, id or uuid.
        host: String,
        /// Include devices that are not enabled.
        #[arg(short = 'a', long)]
        all: bool,
        #[command(flatten)]
        out: Out,
    },
    /// Show a PCI device.
    #[command(name = "host-device-show")]
    DeviceShow {
        /// Hostname, id or uuid.
        host: String,
        /// Device name, PCI address or uuid.
        device: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's LLDP agents.
    #[command(name = "host-lldp-agent-list")]
    LldpAgentList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's LLDP neighbours.
    #[command(name = "host-lldp-neighbor-list")]
    LldpNeighborList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's BMC sensors.
    #[command(name = "host-sensor-list")]
    SensorList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Show a host's BMC sensor.
    #[command(name = "host-sensor-show")]
    SensorShow {
        /// Hostname, id or uuid.
        host: String,
        /// Sensor name or uuid.
        sensor: String,
        #[command(flatten)]
        out: Out,
    },
    /// Change a host's BMC sensor: suppress=True|False.
    #[command(name = "host-sensor-modify")]
    SensorModify {
        /// Hostname, id or uuid.
        host: String,
        /// Sensor name or uuid.
        sensor: String,
        /// attribute=value pairs.
        #[arg(required = true)]
        attributes: Vec<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Change a host's BMC sensor group: suppress, actions_minor_group,
    /// actions_major_group, actions_critical_group, audit_interval_group.
    #[command(name = "host-sensorgroup-modify")]
    SensorGroupModify {
        /// Hostname, id or uuid.
        host: String,
        /// Sensor group name or uuid.
        group: String,
        /// attribute=value pairs.
        #[arg(required = true)]
        attributes: Vec<String>,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's BMC sensor groups.
    #[command(name = "host-sensorgroup-list")]
    SensorGroupList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Assign labels to a host (key=value ...).
    #[command(name = "host-label-assign")]
    LabelAssign {
        /// Hostname, id or uuid.
        host: String,
        /// key=value pairs.
        #[arg(required = true)]
        labels: Vec<String>,
        /// Replace the value of keys the host already has.
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        out: Out,
    },
    /// List a host's labels.
    #[command(name = "host-label-list")]
    LabelList {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Remove labels from a host by key.
    #[command(name = "host-label-remove")]
    LabelRemove {
        /// Hostname, id or uuid.
        host: String,
        /// Label keys.
        #[arg(required = true)]
        keys: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// `key=value` pairs as the label-assign body; a key may appear once.
fn label_body(labels: &[String]) -> Result<hw::LabelAssign> {
    let mut m = std::collections::BTreeMap::new();
    for l in labels {
        let Some((k, v)) = l.split_once('=') else {
            bail!("invalid label '{l}': expected key=value");
        };
        let k = k.trim();
        if k.is_empty() {
            bail!("invalid label '{l}': the key is empty");
        }
        if m.insert(k.to_string(), v.to_string()).is_some() {
            bail!("label {k} is given twice");
        }
    }
    Ok(hw::LabelAssign(m))
}

pub(crate) fn run(c: &Client, cmd: HwCmd) -> Result<()> {
    match cmd {
        HwCmd::CpuList { host, out } => print_list(&CPUS, &records(c, &host, &CPUS, "")?, &out),
        HwCmd::CpuShow { host, cpu, out } => {
            let recs = records(c, &host, &CPUS, "")?;
            print_record(pick(&recs, &cpu, &["cpu"], "CPU", &host)?, &out)
        }
        HwCmd::MemoryList { host, out } => {
            print_list(&MEMORY, &records(c, &host, &MEMORY, "")?, &out)
        }
        HwCmd::MemoryShow {
            host,
            processor,
            out,
        } => {
            let recs = records(c, &host, &MEMORY, "")?;
            print_record(
                pick(&recs, &processor, &["numa_node"], "Processor", &host)?,
                &out,
            )
        }
        HwCmd::NodeList { host, out } => print_list(&NODES, &records(c, &host, &NODES, "")?, &out),
        HwCmd::DiskList { host, out } => print_list(&DISKS, &records(c, &host, &DISKS, "")?, &out),
        HwCmd::DiskShow { host, disk, out } => {
            let recs = records(c, &host, &DISKS, "")?;
            print_record(
                pick(&recs, &disk, &["device_node", "device_path"], "Disk", &host)?,
                &out,
            )
        }
        HwCmd::DiskPartitionList { host, disk, out } => {
            let query = match disk {
                None => String::new(),
                Some(d) => {
                    let disks = records(c, &host, &DISKS, "")?;
                    let d = pick(&disks, &d, &["device_node", "device_path"], "Disk", &host)?;
                    format!("?disk_uuid={}", text(d, "uuid"))
                }
            };
            print_list(&PARTITIONS, &records(c, &host, &PARTITIONS, &query)?, &out)
        }
        HwCmd::DiskPartitionShow {
            host,
            partition,
            out,
        } => {
            let recs = records(c, &host, &PARTITIONS, "")?;
            print_record(
                pick(
                    &recs,
                    &partition,
                    &["device_node", "device_path"],
                    "Partition",
                    &host,
                )?,
                &out,
            )
        }
        HwCmd::PortList { host, out } => print_list(&PORTS, &records(c, &host, &PORTS, "")?, &out),
        HwCmd::PortShow { host, port, out } => {
            let recs = records(c, &host, &PORTS, "")?;
            print_record(pick(&recs, &port, &["name"], "Port", &host)?, &out)
        }
        HwCmd::EthernetPortList { host, out } => print_list(
            &ETHERNET_PORTS,
            &records(c, &host, &ETHERNET_PORTS, "")?,
            &out,
        ),
        HwCmd::DeviceList { host, all, out } => {
            let mut recs = records(c, &host, &DEVICES, "")?;
            if !all {
                recs.retain(|d| d["enabled"] == json!(true));
            }
            print_list(&DEVICES, &recs, &out)
        }
        HwCmd::DeviceShow { host, device, out } => {
            let recs = records(c, &host, &DEVICES, "")?;
            print_record(
                pick(&recs, &device, &["name", "pciaddr"], "Device", &host)?,
                &out,
            )
        }
        HwCmd::LldpAgentList { host, out } => {
            print_list(&LLDP_AGENTS, &records(c, &host, &LLDP_AGENTS, "")?, &out)
        }
        HwCmd::SensorList { host, out } => {
            print_list(&SENSORS, &records(c, &host, &SENSORS, "")?, &out)
        }
        HwCmd::SensorShow { host, sensor, out } => {
            let recs = records(c, &host, &SENSORS, "")?;
            print_record(
                pick(&recs, &sensor, &["sensorname"], "Sensor", &host)?,
                &out,
            )
        }
        HwCmd::SensorModify {
            host,
            sensor,
            attributes,
            out,
        } => {
            let recs = records(c, &host, &SENSORS, "")?;
            let uuid = pick(&recs, &sensor, &["sensorname"], "Sensor", &host)?["uuid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let v = c.patch(
                &format!("/v1/isensors/{uuid}"),
                &crate::update_patch(&attributes)?,
            )?;
            print_record(&(SENSORS.read)(v)?, &out)
        }
        HwCmd::SensorGroupModify {
            host,
            group,
            attributes,
            out,
        } => {
            let recs = records(c, &host, &SENSOR_GROUPS, "")?;
            let uuid = pick(&recs, &group, &["sensorgroupname"], "Sensor group", &host)?["uuid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let v = c.patch(
                &format!("/v1/isensorgroups/{uuid}"),
                &crate::update_patch(&attributes)?,
            )?;
            print_record(&(SENSOR_GROUPS.read)(v)?, &out)
        }
        HwCmd::SensorGroupList { host, out } => print_list(
            &SENSOR_GROUPS,
            &records(c, &host, &SENSOR_GROUPS, "")?,
            &out,
        ),
        HwCmd::LldpNeighborList { host, out } => print_list(
            &LLDP_NEIGHBOURS,
            &records(c, &host, &LLDP_NEIGHBOURS, "")?,
            &out,
        ),
        HwCmd::LabelAssign {
            host,
            labels,
            overwrite,
            out,
        } => {
            let body = label_body(&labels)?;
            let path = format!(
                "/v1/labels/{}?overwrite={}",
                host_path(&host)?.trim_start_matches("/v1/ihosts/"),
                if overwrite { "True" } else { "False" }
            );
            let Some(v) = c.post(&path, &serde_json::to_value(&body)?)? else {
                bail!("the inventory API answered host-label-assign without the labels");
            };
            let set: hw::LabelList = serde_json::from_value(v)
                .map_err(|e| anyhow::anyhow!("unexpected answer for host-label-assign: {e}"))?;
            let set = set
                .labels
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<Value>, _>>()?;
            print_list(&LABELS, &set, &out)
        }
        HwCmd::LabelList { host, out } => {
            let h = c.get(&host_path(&host)?)?;
            let name = starling_cli::field(&h, "hostname");
            let recs = records(c, &host, &LABELS, "")?;
            let mut t = Table::new(&["hostname", "label key", "label value"]);
            for l in &recs {
                t.rows.push(vec![
                    name.clone(),
                    starling_cli::field(l, "label_key"),
                    starling_cli::field(l, "label_value"),
                ]);
            }
            starling_cli::out(&t.render(&out)?)?;
            Ok(())
        }
        HwCmd::LabelRemove { host, keys, yes } => {
            let recs = records(c, &host, &LABELS, "")?;
            // Every key must exist before any is removed.
            let mut doomed = Vec::new();
            for k in &keys {
                doomed.push((
                    k,
                    text(pick(&recs, k, &["label_key"], "Label", &host)?, "uuid"),
                ));
            }
            confirm("host-label-remove", yes)?;
            for (k, uuid) in doomed {
                c.delete(&format!("/v1/labels/{uuid}"))?;
                starling_cli::outln(format!("Deleted host label {k} for host {host}"))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cells_labels_and_picks() {
        let d = json!({"uuid": "u1", "size_mib": 457862, "device_node": "/dev/sda", "cpu": 3});
        // A number, rounded to three places as cgtsclient rounds it.
        assert_eq!(cell(&d, "size_gib"), json!(447.131));
        assert_eq!(cell(&d, "available_gib"), Value::Null);
        assert_eq!(
            serde_json::to_value(label_body(&["a=1".into(), "b=".into()]).unwrap()).unwrap(),
            json!({"a": "1", "b": ""})
        );
        assert!(label_body(&["a".into()]).is_err());
        assert!(label_body(&["a=1".into(), "a=2".into()]).is_err());
        let recs = vec![d];
        assert!(pick(&recs, "/dev/sda", &["device_node"], "Disk", "h").is_ok());
        assert!(pick(&recs, "3", &["cpu"], "CPU", "h").is_ok());
        assert!(pick(&recs, "u1", &[], "CPU", "h").is_ok());
        let e = pick(&recs, "9", &["cpu"], "CPU", "h").unwrap_err();
        assert_eq!(e.to_string(), "CPU '9' not found on host h");
    }
}
