//! A host's hardware as its agent discovers it (sysinv §1.3–§1.15): NUMA
//! nodes, CPUs, memory, disks, partitions, ports, PCI devices, LLDP, and the
//! operator's labels beside them.
//!
//! Each record type is an [`HwItem`]: it has a natural key that is stable
//! across reports (a CPU's logical number, a disk's by-path name, a port's
//! name), and the wire field names of StarlingX. An agent [`Report`] carries
//! whole sections; [`crate::ops::report_hardware`] checks a report against
//! itself and what is stored, then merges each section by key: a record
//! keeps its uuid for as long as its key is reported, and fields the
//! operator owns (a CPU's function, a device's `enabled`, pending huge
//! pages) survive every re-report.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use starling_common::Timestamp;

use crate::Error;
use crate::model::{Host, Personality};

/// The record types, with their storage and wire names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HwKind {
    /// NUMA node (`inodes`).
    Node,
    /// Logical CPU (`icpus`).
    Cpu,
    /// Memory of one NUMA node (`imemorys`).
    Memory,
    /// Disk (`idisks`).
    Disk,
    /// Disk partition (`partitions`).
    Partition,
    /// Network port (`ports`, `ethernet_ports`).
    Port,
    /// PCI device other than a NIC (`pci_devices`).
    PciDevice,
    /// LLDP agent of a port (`lldp_agents`).
    LldpAgent,
    /// LLDP neighbour seen on a port (`lldp_neighbours`).
    LldpNeighbour,
    /// Operator label (`labels`).
    Label,
    /// A group of BMC sensors of one type (`isensorgroups`).
    SensorGroup,
    /// A BMC sensor (`isensors`).
    Sensor,
}

impl HwKind {
    /// Every kind.
    pub const ALL: [HwKind; 12] = [
        HwKind::Node,
        HwKind::Cpu,
        HwKind::Memory,
        HwKind::Disk,
        HwKind::Partition,
        HwKind::Port,
        HwKind::PciDevice,
        HwKind::LldpAgent,
        HwKind::LldpNeighbour,
        HwKind::Label,
        HwKind::SensorGroup,
        HwKind::Sensor,
    ];

    /// The name stored with each record.
    pub fn as_str(self) -> &'static str {
        match self {
            HwKind::Node => "inode",
            HwKind::Cpu => "icpu",
            HwKind::Memory => "imemory",
            HwKind::Disk => "idisk",
            HwKind::Partition => "partition",
            HwKind::Port => "port",
            HwKind::PciDevice => "pci_device",
            HwKind::LldpAgent => "lldp_agent",
            HwKind::LldpNeighbour => "lldp_neighbour",
            HwKind::Label => "label",
            HwKind::SensorGroup => "isensorgroup",
            HwKind::Sensor => "isensor",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<HwKind> {
        HwKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The REST collection (and report section) name.
    pub fn plural(self) -> &'static str {
        match self {
            HwKind::Node => "inodes",
            HwKind::Cpu => "icpus",
            HwKind::Memory => "imemorys",
            HwKind::Disk => "idisks",
            HwKind::Partition => "partitions",
            HwKind::Port => "ports",
            HwKind::PciDevice => "pci_devices",
            HwKind::LldpAgent => "lldp_agents",
            HwKind::LldpNeighbour => "lldp_neighbours",
            HwKind::Label => "labels",
            HwKind::SensorGroup => "isensorgroups",
            HwKind::Sensor => "isensors",
        }
    }

    /// What an error message calls one record.
    pub fn noun(self) -> &'static str {
        match self {
            HwKind::Node => "NUMA node",
            HwKind::Cpu => "CPU",
            HwKind::Memory => "memory",
            HwKind::Disk => "disk",
            HwKind::Partition => "partition",
            HwKind::Port => "port",
            HwKind::PciDevice => "PCI device",
            HwKind::LldpAgent => "LLDP agent",
            HwKind::LldpNeighbour => "LLDP neighbour",
            HwKind::Label => "label",
            HwKind::SensorGroup => "sensor group",
            HwKind::Sensor => "sensor",
        }
    }
}

/// One hardware record type.
pub trait HwItem: Serialize + DeserializeOwned + Clone + PartialEq + Send + 'static {
    /// Its kind.
    const KIND: HwKind;
    /// The natural key: unique per host, stable across reports.
    fn key(&self) -> String;
    /// Listing order (numbers first where the key is a number).
    fn order(&self) -> (i64, String) {
        (0, self.key())
    }
    /// Checks the record on its own; the message names the problem.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    /// Copies the fields the operator owns from the stored record: a report
    /// never resets them.
    fn keep_from(&mut self, _stored: &Self) {}
}

/// A stored record as the repository holds it: the item is JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HwRow {
    /// Public id.
    pub uuid: String,
    /// Owning host's id.
    pub host_id: i64,
    /// Record type.
    pub kind: HwKind,
    /// Natural key ([`HwItem::key`]).
    pub natural_key: String,
    /// The item as JSON.
    pub body: String,
    /// When created.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Option<Timestamp>,
}

/// A stored record with its item decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Record<T> {
    /// Public id.
    pub uuid: String,
    /// Owning host's id.
    pub host_id: i64,
    /// When created.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Option<Timestamp>,
    /// The record.
    pub item: T,
}

impl<T: HwItem> Record<T> {
    /// Decodes a stored row of this kind.
    pub fn from_row(row: HwRow) -> Result<Self, Error> {
        if row.kind != T::KIND {
            return Err(Error::Storage(starling_common::StorageFailure::fatal(
                format!(
                    "record {} is a {}, not a {}",
                    row.uuid,
                    row.kind.noun(),
                    T::KIND.noun()
                ),
            )));
        }
        let item = serde_json::from_str(&row.body).map_err(|e| {
            Error::Storage(starling_common::StorageFailure::fatal(format!(
                "stored {} {} does not decode: {e}",
                T::KIND.noun(),
                row.uuid
            )))
        })?;
        Ok(Record {
            uuid: row.uuid,
            host_id: row.host_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            item,
        })
    }

    /// The row to store.
    pub fn to_row(&self) -> Result<HwRow, Error> {
        let body = serde_json::to_string(&self.item).map_err(|e| {
            Error::Storage(starling_common::StorageFailure::fatal(format!(
                "cannot encode {}: {e}",
                T::KIND.noun()
            )))
        })?;
        Ok(HwRow {
            uuid: self.uuid.clone(),
            host_id: self.host_id,
            kind: T::KIND,
            natural_key: self.item.key(),
            body,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Free-form attributes, as StarlingX's `capabilities` dictionaries.
pub type Capabilities = Map<String, Value>;

/// A NUMA node (`inodes`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Node {
    /// Node number.
    pub numa_node: i64,
    /// Extra attributes.
    pub capabilities: Capabilities,
}

impl HwItem for Node {
    const KIND: HwKind = HwKind::Node;
    fn key(&self) -> String {
        self.numa_node.to_string()
    }
    fn order(&self) -> (i64, String) {
        (self.numa_node, String::new())
    }
    fn check(&self) -> Result<(), String> {
        if self.numa_node < 0 {
            return Err(format!("NUMA node {} is negative", self.numa_node));
        }
        Ok(())
    }
}

/// CPU functions as StarlingX stores them.
pub const CPU_FUNCTIONS: [&str; 6] = [
    "Platform",
    "Vswitch",
    "Shared",
    "Application",
    "Application-isolated",
    "None",
];

/// A logical CPU (`icpus`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cpu {
    /// Logical CPU number.
    pub cpu: u32,
    /// Physical core id.
    pub core: u32,
    /// Index among the core's hyper-thread siblings.
    pub thread: u32,
    /// NUMA node (processor).
    pub numa_node: i64,
    /// `cpu family` of /proc/cpuinfo.
    pub cpu_family: String,
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// Function the operator assigned (a report leaves it empty).
    pub allocated_function: String,
    /// Extra attributes.
    pub capabilities: Capabilities,
}

impl HwItem for Cpu {
    const KIND: HwKind = HwKind::Cpu;
    fn key(&self) -> String {
        self.cpu.to_string()
    }
    fn order(&self) -> (i64, String) {
        (i64::from(self.cpu), String::new())
    }
    fn check(&self) -> Result<(), String> {
        if !self.allocated_function.is_empty()
            && !CPU_FUNCTIONS.contains(&self.allocated_function.as_str())
        {
            return Err(format!(
                "CPU {} has an unknown function '{}'",
                self.cpu, self.allocated_function
            ));
        }
        Ok(())
    }
    fn keep_from(&mut self, stored: &Self) {
        if !stored.allocated_function.is_empty() {
            self.allocated_function = stored.allocated_function.clone();
        }
    }
}

/// Memory of one NUMA node (`imemorys`), in MiB and huge pages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Memory {
    /// NUMA node (processor).
    pub numa_node: i64,
    /// Memory usable by applications.
    pub memtotal_mib: u64,
    /// Memory free now.
    pub memavail_mib: u64,
    /// Memory reserved for the platform.
    pub platform_reserved_mib: u64,
    /// Everything the node has.
    pub node_memtotal_mib: u64,
    /// Whether huge pages are configured.
    pub hugepages_configured: bool,
    /// vSwitch page size.
    pub vswitch_hugepages_size_mib: Option<u64>,
    /// vSwitch pages requested by the operator.
    pub vswitch_hugepages_reqd: Option<u64>,
    /// vSwitch pages.
    pub vswitch_hugepages_nr: u64,
    /// Free vSwitch pages.
    pub vswitch_hugepages_avail: u64,
    /// 2 MiB pages.
    #[serde(rename = "vm_hugepages_nr_2M")]
    pub vm_hugepages_nr_2m: u64,
    /// Free 2 MiB pages.
    #[serde(rename = "vm_hugepages_avail_2M")]
    pub vm_hugepages_avail_2m: u64,
    /// 1 GiB pages.
    #[serde(rename = "vm_hugepages_nr_1G")]
    pub vm_hugepages_nr_1g: u64,
    /// Free 1 GiB pages.
    #[serde(rename = "vm_hugepages_avail_1G")]
    pub vm_hugepages_avail_1g: u64,
    /// 4 KiB pages left to applications.
    #[serde(rename = "vm_hugepages_nr_4K")]
    pub vm_hugepages_nr_4k: u64,
    /// 2 MiB pages the operator asked for (applied on unlock).
    #[serde(rename = "vm_hugepages_nr_2M_pending")]
    pub vm_hugepages_nr_2m_pending: Option<u64>,
    /// 1 GiB pages the operator asked for (applied on unlock).
    #[serde(rename = "vm_hugepages_nr_1G_pending")]
    pub vm_hugepages_nr_1g_pending: Option<u64>,
    /// Whether the pending counts are percentages.
    pub vm_pending_as_percentage: bool,
    /// 2 MiB pages as a percentage.
    #[serde(rename = "vm_hugepages_2M_percentage")]
    pub vm_hugepages_2m_percentage: Option<u64>,
    /// 1 GiB pages as a percentage.
    #[serde(rename = "vm_hugepages_1G_percentage")]
    pub vm_hugepages_1g_percentage: Option<u64>,
    /// Whether the CPU supports 1 GiB pages.
    #[serde(rename = "vm_hugepages_use_1G")]
    pub vm_hugepages_use_1g: bool,
    /// How many 2 MiB pages could fit.
    #[serde(rename = "vm_hugepages_possible_2M")]
    pub vm_hugepages_possible_2m: u64,
    /// How many 1 GiB pages could fit.
    #[serde(rename = "vm_hugepages_possible_1G")]
    pub vm_hugepages_possible_1g: u64,
    /// Extra attributes.
    pub capabilities: Capabilities,
}

impl HwItem for Memory {
    const KIND: HwKind = HwKind::Memory;
    fn key(&self) -> String {
        self.numa_node.to_string()
    }
    fn order(&self) -> (i64, String) {
        (self.numa_node, String::new())
    }
    fn check(&self) -> Result<(), String> {
        let n = self.numa_node;
        if self.memtotal_mib > self.node_memtotal_mib {
            return Err(format!(
                "memory of node {n}: memtotal_mib {} exceeds node_memtotal_mib {}",
                self.memtotal_mib, self.node_memtotal_mib
            ));
        }
        if self.vm_hugepages_avail_2m > self.vm_hugepages_nr_2m
            || self.vm_hugepages_avail_1g > self.vm_hugepages_nr_1g
        {
            return Err(format!(
                "memory of node {n}: more free huge pages than huge pages"
            ));
        }
        if self.vm_hugepages_nr_1g > 0 && !self.vm_hugepages_use_1g {
            return Err(format!(
                "memory of node {n}: 1G pages reported on a node without 1G page support"
            ));
        }
        Ok(())
    }
    fn keep_from(&mut self, stored: &Self) {
        self.vswitch_hugepages_reqd = stored.vswitch_hugepages_reqd;
        self.vm_hugepages_nr_2m_pending = stored.vm_hugepages_nr_2m_pending;
        self.vm_hugepages_nr_1g_pending = stored.vm_hugepages_nr_1g_pending;
        self.vm_pending_as_percentage = stored.vm_pending_as_percentage;
        self.vm_hugepages_2m_percentage = stored.vm_hugepages_2m_percentage;
        self.vm_hugepages_1g_percentage = stored.vm_hugepages_1g_percentage;
    }
}

/// Disk types as StarlingX names them.
pub const DISK_TYPES: [&str; 4] = ["HDD", "SSD", "NVME", "Undetermined"];

/// A disk (`idisks`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Disk {
    /// Kernel device node (`/dev/sda`).
    pub device_node: String,
    /// Device number (major * 256 + minor, as sysinv reports it).
    pub device_num: i64,
    /// HDD, SSD, NVME or Undetermined.
    pub device_type: String,
    /// by-id name.
    pub device_id: String,
    /// by-path name (`/dev/disk/by-path/…`): the stable key.
    pub device_path: String,
    /// World-wide name.
    pub device_wwn: String,
    /// Size.
    pub size_mib: u64,
    /// Space not in partitions.
    pub available_mib: u64,
    /// Rotation rate, `N/A` for solid state, or `Undetermined`.
    pub rpm: String,
    /// Serial number.
    pub serial_id: String,
    /// Extra attributes (`model_num`, …).
    pub capabilities: Capabilities,
}

impl Disk {
    /// The name the disk is keyed and referred to by.
    pub fn path_or_node(&self) -> &str {
        if self.device_path.is_empty() {
            &self.device_node
        } else {
            &self.device_path
        }
    }
}

impl HwItem for Disk {
    const KIND: HwKind = HwKind::Disk;
    fn key(&self) -> String {
        self.path_or_node().to_string()
    }
    fn order(&self) -> (i64, String) {
        (0, self.device_node.clone())
    }
    fn check(&self) -> Result<(), String> {
        if !self.device_node.starts_with("/dev/") {
            return Err(format!(
                "disk device_node '{}' is not a /dev path",
                self.device_node
            ));
        }
        if !DISK_TYPES.contains(&self.device_type.as_str()) {
            return Err(format!(
                "disk {} has an unknown device_type '{}': expected one of {}",
                self.device_node,
                self.device_type,
                DISK_TYPES.join(", ")
            ));
        }
        if self.available_mib > self.size_mib {
            return Err(format!(
                "disk {}: available_mib {} exceeds size_mib {}",
                self.device_node, self.available_mib, self.size_mib
            ));
        }
        Ok(())
    }
}

/// Partition status codes and their display text (StarlingX).
pub const PARTITION_STATUS: [(i64, &str); 10] = [
    (0, "Ready"),
    (1, "In-Use"),
    (2, "Creating"),
    (3, "Creating (on unlock)"),
    (4, "Deleting"),
    (5, "Modifying"),
    (6, "Deleted"),
    (10, "Error"),
    (11, "Error: Internal script error"),
    (12, "Error: Missing GPT Table"),
];

/// A disk partition (`partitions`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Partition {
    /// Kernel device node (`/dev/sda1`).
    pub device_node: String,
    /// by-path name (`…-part1`): the stable key.
    pub device_path: String,
    /// The disk it is on, by that disk's key ([`Disk::path_or_node`]).
    pub disk_path: String,
    /// First MiB.
    pub start_mib: u64,
    /// Last MiB.
    pub end_mib: u64,
    /// Size.
    pub size_mib: u64,
    /// GPT type GUID.
    pub type_guid: String,
    /// GPT type name.
    pub type_name: String,
    /// Status code ([`PARTITION_STATUS`]).
    pub status: i64,
    /// Extra attributes.
    pub capabilities: Capabilities,
}

impl HwItem for Partition {
    const KIND: HwKind = HwKind::Partition;
    fn key(&self) -> String {
        if self.device_path.is_empty() {
            self.device_node.clone()
        } else {
            self.device_path.clone()
        }
    }
    fn order(&self) -> (i64, String) {
        (0, self.device_node.clone())
    }
    fn check(&self) -> Result<(), String> {
        if !self.device_node.starts_with("/dev/") {
            return Err(format!(
                "partition device_node '{}' is not a /dev path",
                self.device_node
            ));
        }
        if self.end_mib < self.start_mib {
            return Err(format!(
                "partition {} ends (MiB {}) before it starts (MiB {})",
                self.device_node, self.end_mib, self.start_mib
            ));
        }
        if !PARTITION_STATUS.iter().any(|(c, _)| *c == self.status) {
            return Err(format!(
                "partition {} has an unknown status {}",
                self.device_node, self.status
            ));
        }
        Ok(())
    }
    fn keep_from(&mut self, stored: &Self) {
        // A partition Starling is creating or deleting keeps that status
        // until the operation finishes, whatever the disk shows meanwhile.
        if (2..=6).contains(&stored.status) {
            self.status = stored.status;
        }
    }
}

/// A network port (`ports`; its ethernet attributes are `ethernet_ports`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Port {
    /// Kernel interface name: the key.
    pub name: String,
    /// Name to display, when it differs.
    pub namedisplay: Option<String>,
    /// PCI address (`0000:3b:00.0`).
    pub pciaddr: String,
    /// PCI class name.
    pub pclass: String,
    /// Vendor name.
    pub pvendor: String,
    /// Device name.
    pub pdevice: String,
    /// Subsystem vendor.
    pub psvendor: String,
    /// Subsystem device.
    pub psdevice: String,
    /// Whether DPDK can drive it.
    pub dpdksupport: bool,
    /// NUMA node of the device (-1 when the platform does not say).
    pub numa_node: i64,
    /// Port index on a multi-port PCI function.
    pub dev_id: i64,
    /// SR-IOV virtual functions possible.
    pub sriov_totalvfs: Option<u32>,
    /// SR-IOV virtual functions configured.
    pub sriov_numvfs: Option<u32>,
    /// PCI addresses of the virtual functions (comma list).
    pub sriov_vfs_pci_address: String,
    /// Driver of the virtual functions.
    pub sriov_vf_driver: Option<String>,
    /// Device id of the virtual functions.
    pub sriov_vf_pdevice_id: Option<String>,
    /// Kernel driver.
    pub driver: String,
    /// MAC address.
    pub mac: String,
    /// MTU.
    pub mtu: u32,
    /// Link speed in Mb/s, when the link is up.
    pub speed: Option<u32>,
    /// Link mode.
    pub link_mode: String,
    /// Duplex.
    pub duplex: Option<String>,
    /// Auto-negotiation (`Yes`/`No`).
    pub autoneg: Option<String>,
    /// True for the interface the host network-booted from.
    pub bootp: bool,
    /// Extra attributes.
    pub capabilities: Capabilities,
}

impl HwItem for Port {
    const KIND: HwKind = HwKind::Port;
    fn key(&self) -> String {
        self.name.clone()
    }
    fn check(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("a port has no name".into());
        }
        crate::validate::mac(&self.mac).map_err(|e| format!("port {}: {e}", self.name))?;
        if let (Some(n), Some(t)) = (self.sriov_numvfs, self.sriov_totalvfs)
            && n > t
        {
            return Err(format!(
                "port {}: sriov_numvfs {n} exceeds sriov_totalvfs {t}",
                self.name
            ));
        }
        Ok(())
    }
}

/// A PCI device that is not a NIC (`pci_devices`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PciDevice {
    /// `pci_0000_3b_00_0`.
    pub name: String,
    /// PCI address: the key.
    pub pciaddr: String,
    /// Class id (hex).
    pub pclass_id: String,
    /// Vendor id (hex).
    pub pvendor_id: String,
    /// Device id (hex).
    pub pdevice_id: String,
    /// Class name.
    pub pclass: String,
    /// Vendor name.
    pub pvendor: String,
    /// Device name.
    pub pdevice: String,
    /// Subsystem vendor.
    pub psvendor: String,
    /// Subsystem device.
    pub psdevice: String,
    /// NUMA node (-1 when the platform does not say).
    pub numa_node: i64,
    /// SR-IOV virtual functions possible.
    pub sriov_totalvfs: Option<u32>,
    /// SR-IOV virtual functions configured.
    pub sriov_numvfs: Option<u32>,
    /// PCI addresses of the virtual functions.
    pub sriov_vfs_pci_address: String,
    /// Driver of the virtual functions.
    pub sriov_vf_driver: Option<String>,
    /// Device id of the virtual functions.
    pub sriov_vf_pdevice_id: Option<String>,
    /// Kernel driver.
    pub driver: Option<String>,
    /// Whether the operator lets workloads use it.
    pub enabled: bool,
    /// Extra attributes.
    pub extra_info: Option<String>,
}

impl HwItem for PciDevice {
    const KIND: HwKind = HwKind::PciDevice;
    fn key(&self) -> String {
        self.pciaddr.clone()
    }
    fn check(&self) -> Result<(), String> {
        if !is_pci_address(&self.pciaddr) {
            return Err(format!(
                "PCI device {}: '{}' is not a PCI address (dddd:bb:dd.f)",
                self.name, self.pciaddr
            ));
        }
        Ok(())
    }
    fn keep_from(&mut self, stored: &Self) {
        self.enabled = stored.enabled;
        if !stored.name.is_empty() {
            self.name = stored.name.clone();
        }
    }
}

pub use starling_common::is_pci_address;

/// Declares an LLDP record: its own fields, then the TLVs StarlingX
/// flattens into attributes (the same for agents and neighbours).
macro_rules! lldp_record {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident: $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            /// Chassis id.
            pub chassis_id: Option<String>,
            /// Port id.
            pub port_identifier: Option<String>,
            /// Port description.
            pub port_description: Option<String>,
            /// Time to live, seconds.
            pub ttl: Option<u32>,
            /// System name.
            pub system_name: Option<String>,
            /// System description.
            pub system_description: Option<String>,
            /// System capabilities.
            pub system_capabilities: Option<String>,
            /// Management address.
            pub management_address: Option<String>,
            /// 802.1 port VLAN id.
            pub dot1_port_vid: Option<String>,
            /// 802.1 VLAN names.
            pub dot1_vlan_names: Option<String>,
            /// 802.1 link aggregation.
            pub dot1_lag: Option<String>,
            /// 802.3 MAC/PHY status.
            pub dot3_mac_status: Option<String>,
            /// 802.3 maximum frame size.
            pub dot3_max_frame: Option<String>,
        }
    };
}

lldp_record!(
    /// The LLDP agent on one of the host's ports (`lldp_agents`).
    LldpAgent {
        /// The local port's name: the key.
        port_name: String,
        /// `rx=enabled,tx=enabled` style status.
        status: String,
    }
);

impl HwItem for LldpAgent {
    const KIND: HwKind = HwKind::LldpAgent;
    fn key(&self) -> String {
        self.port_name.clone()
    }
    fn check(&self) -> Result<(), String> {
        if self.port_name.is_empty() {
            return Err("an LLDP agent has no port_name".into());
        }
        Ok(())
    }
}

lldp_record!(
    /// A neighbour seen on one of the host's ports (`lldp_neighbours`).
    LldpNeighbour {
        /// The local port's name.
        port_name: String,
        /// MAC service access point: chassis id and port id of the neighbour.
        msap: String,
    }
);

impl HwItem for LldpNeighbour {
    const KIND: HwKind = HwKind::LldpNeighbour;
    fn key(&self) -> String {
        format!("{}|{}", self.port_name, self.msap)
    }
    fn check(&self) -> Result<(), String> {
        if self.port_name.is_empty() || self.msap.is_empty() {
            return Err("an LLDP neighbour needs port_name and msap".into());
        }
        Ok(())
    }
}

/// Label keys whose change needs a locked host (they change how the host's
/// Kubernetes node is configured).
pub const LOCKED_LABEL_KEYS: [&str; 9] = [
    "controller",
    "compute",
    "openvswitch",
    "remote-storage",
    "kube-topology-mgr-policy",
    "kube-cpu-mgr-policy",
    "kube-memory-mgr-policy",
    "disable-nohz-full",
    "sriovdp",
];

/// An operator label (`labels`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Label {
    /// Key (≤ 384 characters): unique per host.
    pub label_key: String,
    /// Value (≤ 128 characters).
    pub label_value: String,
}

impl Label {
    /// Whether changing this label needs a locked host.
    pub fn needs_lock(key: &str) -> bool {
        LOCKED_LABEL_KEYS.contains(&key) || key.starts_with("sriovdp")
    }
}

impl HwItem for Label {
    const KIND: HwKind = HwKind::Label;
    fn key(&self) -> String {
        self.label_key.clone()
    }
    fn check(&self) -> Result<(), String> {
        for (field, v) in [
            ("label_key", &self.label_key),
            ("label_value", &self.label_value),
        ] {
            if v.chars().any(char::is_control) {
                return Err(format!(
                    "Invalid {field}: control characters (tab, newline, NUL, …) are not allowed"
                ));
            }
        }
        if self.label_key.is_empty() || self.label_key.chars().count() > 384 {
            return Err(format!(
                "Label key '{}' must be 1 to 384 characters",
                self.label_key
            ));
        }
        if self.label_value.chars().count() > 128 {
            return Err(format!(
                "Label value of '{}' is longer than 128 characters",
                self.label_key
            ));
        }
        let policy = |allowed: &[&str]| {
            if allowed
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&self.label_value))
            {
                Ok(())
            } else {
                Err(format!(
                    "Invalid value '{}' for label {}: expected one of {}",
                    self.label_value,
                    self.label_key,
                    allowed.join(", ")
                ))
            }
        };
        match self.label_key.as_str() {
            "kube-topology-mgr-policy" => {
                policy(&["none", "best-effort", "restricted", "single-numa-node"])
            }
            "kube-cpu-mgr-policy" => policy(&["none", "static"]),
            "kube-memory-mgr-policy" => policy(&["None", "Static"]),
            _ => Ok(()),
        }
    }
}

/// What an agent sends: whole sections, each replacing what is stored of
/// its kind. An absent section is unchanged since the last report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Report {
    /// NUMA nodes.
    pub inodes: Option<Vec<Node>>,
    /// CPUs.
    pub icpus: Option<Vec<Cpu>>,
    /// Memory per node.
    pub imemorys: Option<Vec<Memory>>,
    /// Disks.
    pub idisks: Option<Vec<Disk>>,
    /// Partitions.
    pub partitions: Option<Vec<Partition>>,
    /// Ports.
    pub ports: Option<Vec<Port>>,
    /// PCI devices.
    pub pci_devices: Option<Vec<PciDevice>>,
    /// LLDP agents.
    pub lldp_agents: Option<Vec<LldpAgent>>,
    /// LLDP neighbours.
    pub lldp_neighbours: Option<Vec<LldpNeighbour>>,
    /// Seconds since the host booted.
    pub uptime: Option<i64>,
}

impl Report {
    /// True when every section is present: the host is fully inventoried.
    pub fn is_full(&self) -> bool {
        self.inodes.is_some()
            && self.icpus.is_some()
            && self.imemorys.is_some()
            && self.idisks.is_some()
            && self.partitions.is_some()
            && self.ports.is_some()
            && self.pci_devices.is_some()
            && self.lldp_agents.is_some()
            && self.lldp_neighbours.is_some()
    }

    /// True when the report carries no section at all (a keep-alive).
    pub fn is_empty(&self) -> bool {
        self.inodes.is_none()
            && self.icpus.is_none()
            && self.imemorys.is_none()
            && self.idisks.is_none()
            && self.partitions.is_none()
            && self.ports.is_none()
            && self.pci_devices.is_none()
            && self.lldp_agents.is_none()
            && self.lldp_neighbours.is_none()
    }
}

/// Checks every item of a section and that no key repeats.
pub fn check_section<T: HwItem>(items: &[T]) -> Result<(), Error> {
    let mut seen = BTreeSet::new();
    for i in items {
        i.check().map_err(Error::invalid)?;
        if i.key().chars().count() > 255 {
            return Err(Error::invalid(format!(
                "The {} name '{}' is longer than 255 characters",
                T::KIND.noun(),
                i.key()
            )));
        }
        if !seen.insert(i.key()) {
            return Err(Error::invalid(format!(
                "The report lists {} '{}' twice",
                T::KIND.noun(),
                i.key()
            )));
        }
    }
    Ok(())
}

/// The keys a report refers to across sections: what it carries, or what
/// is stored when it does not carry that section.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// NUMA node numbers.
    pub nodes: BTreeSet<i64>,
    /// Disk keys.
    pub disks: BTreeSet<String>,
    /// Port names.
    pub ports: BTreeSet<String>,
}

/// Checks the references between sections: CPUs, memory, ports and devices
/// on known NUMA nodes, partitions on known disks, LLDP on known ports, no
/// MAC on two ports, a CPU's core and thread unique.
pub fn check_references(r: &Report, k: &Known) -> Result<(), Error> {
    let node = |what: String, n: i64, allow_unknown: bool| {
        if k.nodes.contains(&n) || (allow_unknown && n < 0) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{what} is on NUMA node {n}, which the host does not have"
            )))
        }
    };
    if let Some(cpus) = &r.icpus {
        let mut threads = BTreeMap::new();
        for c in cpus {
            node(format!("CPU {}", c.cpu), c.numa_node, false)?;
            if let Some(other) = threads.insert((c.numa_node, c.core, c.thread), c.cpu) {
                return Err(Error::invalid(format!(
                    "CPUs {other} and {} are both thread {} of core {} on node {}",
                    c.cpu, c.thread, c.core, c.numa_node
                )));
            }
        }
    }
    if let Some(mem) = &r.imemorys {
        for m in mem {
            node(
                format!("Memory of node {}", m.numa_node),
                m.numa_node,
                false,
            )?;
        }
    }
    if let Some(ports) = &r.ports {
        let mut macs = BTreeMap::new();
        for p in ports {
            node(format!("Port {}", p.name), p.numa_node, true)?;
            let mac = crate::validate::mac(&p.mac)?;
            if let Some(other) = macs.insert(mac.clone(), p.name.clone()) {
                return Err(Error::invalid(format!(
                    "Ports {other} and {} both report MAC {mac}",
                    p.name
                )));
            }
        }
    }
    if let Some(devs) = &r.pci_devices {
        for d in devs {
            node(format!("PCI device {}", d.pciaddr), d.numa_node, true)?;
        }
    }
    if let Some(parts) = &r.partitions {
        for p in parts {
            if !k.disks.contains(&p.disk_path) {
                return Err(Error::invalid(format!(
                    "Partition {} is on disk '{}', which the host does not have",
                    p.device_node, p.disk_path
                )));
            }
        }
    }
    let port = |what: &str, name: &str| {
        if k.ports.contains(name) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{what} is on port '{name}', which the host does not have"
            )))
        }
    };
    for a in r.lldp_agents.iter().flatten() {
        port("An LLDP agent", &a.port_name)?;
    }
    for n in r.lldp_neighbours.iter().flatten() {
        port(&format!("LLDP neighbour {}", n.msap), &n.port_name)?;
    }
    Ok(())
}

/// Checks a whole report on its own (each section); references across
/// sections are checked with [`check_references`] once the stored keys are
/// known.
pub fn check_report(r: &Report) -> Result<(), Error> {
    fn opt<T: HwItem>(s: &Option<Vec<T>>) -> Result<(), Error> {
        s.as_deref().map_or(Ok(()), check_section)
    }
    opt(&r.inodes)?;
    opt(&r.icpus)?;
    opt(&r.imemorys)?;
    opt(&r.idisks)?;
    opt(&r.partitions)?;
    opt(&r.ports)?;
    opt(&r.pci_devices)?;
    opt(&r.lldp_agents)?;
    opt(&r.lldp_neighbours)?;
    if let Some(u) = r.uptime
        && u < 0
    {
        return Err(Error::invalid(format!("Invalid uptime {u}")));
    }
    Ok(())
}

/// Gives CPUs without a function StarlingX's default: the first physical
/// core of NUMA node 0 (all its threads) runs the platform, the rest run
/// applications; a storage host's CPUs all run the platform.
pub fn default_cpu_functions(host: &Host, cpus: &mut [Cpu]) {
    let first_core = cpus
        .iter()
        .filter(|c| c.numa_node == 0)
        .map(|c| c.core)
        .min();
    for c in cpus.iter_mut().filter(|c| c.allocated_function.is_empty()) {
        let platform = host.personality == Some(Personality::Storage)
            || (c.numa_node == 0 && Some(c.core) == first_core);
        c.allocated_function = if platform { "Platform" } else { "Application" }.into();
    }
}

/// What a merge of one section changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// Records added.
    pub added: usize,
    /// Records changed.
    pub updated: usize,
    /// Records removed.
    pub removed: usize,
}

impl Delta {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.updated == 0 && self.removed == 0
    }
}

/// How one section merges into what is stored: the rows to add, to rewrite
/// and to remove. Records keep their uuid while their key is reported, and
/// operator-owned fields through [`HwItem::keep_from`].
pub struct Merge {
    /// New rows.
    pub insert: Vec<HwRow>,
    /// Changed rows.
    pub update: Vec<HwRow>,
    /// uuids of vanished rows.
    pub delete: Vec<String>,
}

/// Plans the merge of `reported` over `stored` for host `host_id`.
pub fn plan_merge<T: HwItem>(
    host_id: i64,
    stored: Vec<Record<T>>,
    reported: &[T],
    now: Timestamp,
) -> Result<Merge, Error> {
    let mut by_key: BTreeMap<String, Record<T>> =
        stored.into_iter().map(|r| (r.item.key(), r)).collect();
    let mut m = Merge {
        insert: Vec::new(),
        update: Vec::new(),
        delete: Vec::new(),
    };
    for item in reported {
        let mut item = item.clone();
        match by_key.remove(&item.key()) {
            Some(mut rec) => {
                item.keep_from(&rec.item);
                if item != rec.item {
                    rec.item = item;
                    rec.updated_at = Some(now);
                    m.update.push(rec.to_row()?);
                }
            }
            None => m.insert.push(
                Record {
                    uuid: starling_common::new_uuid(),
                    host_id,
                    created_at: now,
                    updated_at: None,
                    item,
                }
                .to_row()?,
            ),
        }
    }
    m.delete = by_key.into_values().map(|r| r.uuid).collect();
    Ok(m)
}

impl Merge {
    /// The counts of this merge.
    pub fn delta(&self) -> Delta {
        Delta {
            added: self.insert.len(),
            updated: self.update.len(),
            removed: self.delete.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cpu(n: u32, core: u32, thread: u32, node: i64) -> Cpu {
        Cpu {
            cpu: n,
            core,
            thread,
            numa_node: node,
            cpu_model: "Xeon".into(),
            ..Cpu::default()
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(s * 1_000_000)
    }

    #[test]
    fn merge_keeps_uuids_and_operator_fields() {
        let now = t(100);
        let first = plan_merge::<Cpu>(7, vec![], &[cpu(0, 0, 0, 0), cpu(1, 1, 0, 0)], now).unwrap();
        assert_eq!(
            first.delta(),
            Delta {
                added: 2,
                updated: 0,
                removed: 0
            }
        );
        let mut stored: Vec<Record<Cpu>> = first
            .insert
            .into_iter()
            .map(|r| Record::from_row(r).unwrap())
            .collect();
        stored[0].item.allocated_function = "Platform".into();
        let uuid0 = stored[0].uuid.clone();
        // CPU 0 unchanged (its function kept), CPU 1 gone, CPU 2 new.
        let again = plan_merge(7, stored, &[cpu(0, 0, 0, 0), cpu(2, 2, 0, 0)], t(200)).unwrap();
        assert_eq!(
            again.delta(),
            Delta {
                added: 1,
                updated: 0,
                removed: 1
            }
        );
        // A changed model rewrites the record under the same uuid.
        let stored = vec![Record {
            uuid: uuid0.clone(),
            host_id: 7,
            created_at: now,
            updated_at: None,
            item: Cpu {
                allocated_function: "Platform".into(),
                ..cpu(0, 0, 0, 0)
            },
        }];
        let mut newer = cpu(0, 0, 0, 0);
        newer.cpu_model = "Xeon Gold".into();
        let m = plan_merge(7, stored, &[newer], t(300)).unwrap();
        assert_eq!(m.update.len(), 1);
        let r = Record::<Cpu>::from_row(m.update[0].clone()).unwrap();
        assert_eq!(r.uuid, uuid0);
        assert_eq!(r.item.allocated_function, "Platform");
        assert_eq!(r.item.cpu_model, "Xeon Gold");
        assert_eq!(r.updated_at, Some(t(300)));
    }

    #[test]
    fn reports_that_contradict_themselves_are_refused() {
        let dup = check_section(&[cpu(0, 0, 0, 0), cpu(0, 1, 0, 0)]).unwrap_err();
        assert!(dup.to_string().contains("CPU '0' twice"), "{dup}");
        let known = Known {
            nodes: [0].into(),
            ..Known::default()
        };
        let r = Report {
            icpus: Some(vec![cpu(0, 0, 0, 0), cpu(1, 0, 0, 1)]),
            ..Report::default()
        };
        let e = check_references(&r, &known).unwrap_err().to_string();
        assert!(e.contains("CPU 1 is on NUMA node 1"), "{e}");
        let r = Report {
            icpus: Some(vec![cpu(0, 0, 0, 0), cpu(1, 0, 0, 0)]),
            ..Report::default()
        };
        let e = check_references(&r, &known).unwrap_err().to_string();
        assert!(e.contains("both thread 0 of core 0"), "{e}");
        let p = |name: &str, mac: &str| Port {
            name: name.into(),
            mac: mac.into(),
            numa_node: -1,
            ..Port::default()
        };
        let r = Report {
            ports: Some(vec![
                p("eth0", "52:54:00:00:00:01"),
                p("eth1", "52:54:00:00:00:01"),
            ]),
            ..Report::default()
        };
        let e = check_references(&r, &known).unwrap_err().to_string();
        assert!(e.contains("both report MAC"), "{e}");
        let r = Report {
            partitions: Some(vec![Partition {
                device_node: "/dev/sdz1".into(),
                disk_path: "/dev/disk/by-path/none".into(),
                ..Partition::default()
            }]),
            ..Report::default()
        };
        let e = check_references(&r, &known).unwrap_err().to_string();
        assert!(e.contains("which the host does not have"), "{e}");
        let bad_disk = Disk {
            device_node: "/dev/sda".into(),
            device_type: "SSD".into(),
            size_mib: 10,
            available_mib: 20,
            ..Disk::default()
        };
        assert!(check_section(&[bad_disk]).is_err());
        let m = Memory {
            numa_node: 0,
            vm_hugepages_nr_1g: 2,
            ..Memory::default()
        };
        assert!(m.check().unwrap_err().contains("1G"));
    }

    #[test]
    fn default_cpu_functions_give_the_platform_one_core() {
        let mut h = Host::new(1, "u".into(), "52:54:00:00:00:01".into(), t(0));
        h.personality = Some(Personality::Worker);
        let mut cpus = vec![
            cpu(0, 0, 0, 0),
            cpu(1, 1, 0, 0),
            cpu(2, 0, 1, 0),
            cpu(3, 0, 0, 1),
        ];
        cpus[3].core = 4;
        default_cpu_functions(&h, &mut cpus);
        let f: Vec<&str> = cpus.iter().map(|c| c.allocated_function.as_str()).collect();
        assert_eq!(f, ["Platform", "Application", "Platform", "Application"]);
    }

    #[test]
    fn labels_and_pci_addresses() {
        assert!(is_pci_address("0000:3b:00.0"));
        assert!(!is_pci_address("3b:00.0"));
        let l = Label {
            label_key: "kube-cpu-mgr-policy".into(),
            label_value: "Static".into(),
        };
        assert!(l.check().is_ok());
        let l = Label {
            label_key: "kube-cpu-mgr-policy".into(),
            label_value: "dynamic".into(),
        };
        assert!(
            l.check()
                .unwrap_err()
                .contains("expected one of none, static")
        );
        assert!(Label::needs_lock("sriovdp-foo"));
        assert!(!Label::needs_lock("zone"));
        let long = Label {
            label_key: "k".into(),
            label_value: "v".repeat(129),
        };
        assert!(long.check().is_err());
    }

    #[test]
    fn wire_names_are_starlingx() {
        let m = Memory {
            vm_hugepages_nr_2m: 3,
            ..Memory::default()
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["vm_hugepages_nr_2M"], 3);
        let a = LldpAgent {
            port_name: "eth0".into(),
            system_name: Some("sw1".into()),
            ..LldpAgent::default()
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["system_name"], "sw1");
        let back: LldpAgent = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
        let e = serde_json::from_str::<Report>(r#"{"icpus": [{"cpu": 0, "colour": 1}]}"#);
        assert!(e.is_err(), "unknown fields are refused");
        for k in HwKind::ALL {
            assert_eq!(HwKind::parse(k.as_str()), Some(k));
        }
    }
}

/// The actions StarlingX lets a sensor group take at minor and major.
pub const SENSOR_ACTIONS: &str = "ignore,log,alarm";
/// … and at critical.
pub const SENSOR_ACTIONS_CRITICAL: &str = "ignore,log,alarm,reset,power-cycle";

/// A group of BMC sensors of one type (`isensorgroups`), as host
/// maintenance learns it from the host's board management controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorGroup {
    /// Name (`server temperature`, …): unique per host.
    pub sensorgroupname: String,
    /// Where the BMC shows it (a Redfish path).
    pub path: String,
    /// temperature, voltage, tachometer, power, …
    pub sensortype: String,
    /// `analog` (a reading against thresholds) or `discrete`.
    pub datatype: String,
    /// enabled, disabled
    pub state: String,
    pub possible_states: Option<String>,
    pub algorithm: Option<String>,
    /// Seconds between audits.
    pub audit_interval_group: i64,
    pub actions_critical_choices: String,
    pub actions_major_choices: String,
    pub actions_minor_choices: String,
    pub actions_minor_group: String,
    pub actions_major_group: String,
    pub actions_critical_group: String,
    pub unit_base_group: Option<String>,
    pub unit_modifier_group: Option<String>,
    pub unit_rate_group: Option<String>,
    pub t_minor_lower_group: Option<String>,
    pub t_minor_upper_group: Option<String>,
    pub t_major_lower_group: Option<String>,
    pub t_major_upper_group: Option<String>,
    pub t_critical_lower_group: Option<String>,
    pub t_critical_upper_group: Option<String>,
    pub capabilities: Capabilities,
    pub suppress: bool,
    /// Its sensors' names, comma-separated.
    pub sensors: String,
}

impl HwItem for SensorGroup {
    const KIND: HwKind = HwKind::SensorGroup;
    fn key(&self) -> String {
        self.sensorgroupname.clone()
    }
    /// The operator's: suppression, actions, audit interval.
    fn keep_from(&mut self, stored: &Self) {
        self.suppress = stored.suppress;
        self.actions_minor_group = stored.actions_minor_group.clone();
        self.actions_major_group = stored.actions_major_group.clone();
        self.actions_critical_group = stored.actions_critical_group.clone();
        self.audit_interval_group = stored.audit_interval_group;
    }
    fn check(&self) -> Result<(), String> {
        if self.sensorgroupname.is_empty() {
            return Err("a sensor group needs a name".into());
        }
        Ok(())
    }
}

/// A BMC sensor (`isensors`): its last reading's status as maintenance
/// judged it against the BMC's thresholds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sensor {
    /// Name: unique per host.
    pub sensorname: String,
    /// Where the BMC shows it (a Redfish path).
    pub path: String,
    pub sensortype: String,
    pub datatype: String,
    /// ok, minor, major, critical, offline
    pub status: String,
    /// enabled, disabled
    pub state: String,
    pub state_requested: Option<String>,
    pub sensor_action_requested: Option<String>,
    pub actions_minor: String,
    pub actions_major: String,
    pub actions_critical: String,
    pub suppress: bool,
    /// Seconds between audits.
    pub audit_interval: i64,
    pub algorithm: Option<String>,
    /// The last reading (`reading`), among other attributes.
    pub capabilities: Capabilities,
    pub unit_base: Option<String>,
    pub unit_modifier: Option<String>,
    pub unit_rate: Option<String>,
    pub t_minor_lower: Option<String>,
    pub t_minor_upper: Option<String>,
    pub t_major_lower: Option<String>,
    pub t_major_upper: Option<String>,
    pub t_critical_lower: Option<String>,
    pub t_critical_upper: Option<String>,
    /// Its group's name (the group's uuid on the wire).
    pub sensorgroup: String,
}

impl HwItem for Sensor {
    const KIND: HwKind = HwKind::Sensor;
    fn key(&self) -> String {
        self.sensorname.clone()
    }
    /// The operator's: suppression.
    fn keep_from(&mut self, stored: &Self) {
        self.suppress = stored.suppress;
    }
    fn check(&self) -> Result<(), String> {
        if self.sensorname.is_empty() {
            return Err("a sensor needs a name".into());
        }
        if !matches!(
            self.status.as_str(),
            "ok" | "minor" | "major" | "critical" | "offline"
        ) {
            return Err(format!("Invalid sensor status '{}'", self.status));
        }
        Ok(())
    }
}
