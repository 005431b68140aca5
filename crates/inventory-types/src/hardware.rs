//! A host's hardware on the wire: each record type twice from one
//! declaration — the item an agent reports (`Cpu`, …; unknown fields
//! refused) and the record the API answers (`CpuRecord`: the item's fields
//! with its uuid, its host's uuid, the references it shows, its times and
//! links) — then the collections' pages and the agent's [`Report`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use starling_wire::{Link, Timestamp, time};
use utoipa::ToSchema;

/// Free-form attributes, as StarlingX's `capabilities` dictionaries.
pub type Capabilities = Map<String, Value>;

/// What every record carries besides its item's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// The record's uuid.
    pub uuid: String,
    /// Its host's uuid (`ihost_uuid`, or `host_uuid` for labels).
    pub host_uuid: String,
    /// When created.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Option<Timestamp>,
    /// `self` and `bookmark`.
    pub links: Vec<Link<'static>>,
}

/// Declares a record type: the reported item, the answered record (the
/// item's fields in the same order between `uuid` and the host's uuid,
/// then the references the view adds), and its collection's page.
macro_rules! hardware {
    (
        $(#[$m:meta])*
        $item:ident / $record:ident / $list:ident { $coll:ident }, host: $host:ident
        { $($(#[$fm:meta])* $f:ident: $t:ty,)* }
        refs { $($(#[$rm:meta])* $r:ident: $rt:ty,)* }
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
        #[serde(default, deny_unknown_fields)]
        pub struct $item {
            $($(#[$fm])* pub $f: $t,)*
        }

        $(#[$m])*
        /// As the API shows it.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct $record {
            pub uuid: String,
            $($(#[$fm])* pub $f: $t,)*
            pub $host: String,
            $($(#[$rm])* pub $r: $rt,)*
            #[serde(with = "time::utc")]
            #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
            pub created_at: Timestamp,
            /// `null` until the record first changes.
            #[serde(with = "time::utc_opt")]
            #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
            pub updated_at: Option<Timestamp>,
            pub links: Vec<Link<'static>>,
        }

        impl $record {
            /// The record of `item`, with what the view refers to.
            #[allow(clippy::too_many_arguments)]
            pub fn new(head: Head, item: $item $(, $r: $rt)*) -> Self {
                $record {
                    uuid: head.uuid,
                    $($f: item.$f,)*
                    $host: head.host_uuid,
                    $($r,)*
                    created_at: head.created_at,
                    updated_at: head.updated_at,
                    links: head.links,
                }
            }

            /// The reported item within the record.
            pub fn item(&self) -> $item {
                $item { $($f: self.$f.clone(),)* }
            }
        }

        /// A page of the collection.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct $list {
            pub $coll: Vec<$record>,
            /// The next page's URL, when this page is full.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub next: Option<String>,
        }
    };
}

hardware!(
    /// A NUMA node (`inodes`).
    Node / NodeRecord / NodeList { inodes }, host: ihost_uuid
    {
        /// Node number.
        numa_node: i64,
        /// Extra attributes.
        #[schema(value_type = Object)]
        capabilities: Capabilities,
    }
    refs {}
);

hardware!(
    /// A logical CPU (`icpus`).
    Cpu / CpuRecord / CpuList { icpus }, host: ihost_uuid
    {
        /// Logical CPU number.
        cpu: u32,
        /// Physical core id.
        core: u32,
        /// Index among the core's hyper-thread siblings.
        thread: u32,
        /// NUMA node (processor).
        numa_node: i64,
        /// `cpu family` of /proc/cpuinfo.
        cpu_family: String,
        /// `model name` of /proc/cpuinfo.
        cpu_model: String,
        /// Platform, Vswitch, Shared, Application, Application-isolated or
        /// None; a report leaves it empty (the operator's, kept).
        allocated_function: String,
        /// Extra attributes.
        #[schema(value_type = Object)]
        capabilities: Capabilities,
    }
    refs {
        /// Its NUMA node's uuid.
        inode_uuid: Option<String>,
    }
);

hardware!(
    /// Memory of one NUMA node (`imemorys`), in MiB and huge pages.
    Memory / MemoryRecord / MemoryList { imemorys }, host: ihost_uuid
    {
        /// NUMA node (processor).
        numa_node: i64,
        /// Memory usable by applications.
        memtotal_mib: u64,
        /// Memory free now.
        memavail_mib: u64,
        /// Memory reserved for the platform.
        platform_reserved_mib: u64,
        /// Everything the node has.
        node_memtotal_mib: u64,
        /// Whether huge pages are configured.
        hugepages_configured: bool,
        /// vSwitch page size.
        vswitch_hugepages_size_mib: Option<u64>,
        /// vSwitch pages requested by the operator.
        vswitch_hugepages_reqd: Option<u64>,
        /// vSwitch pages.
        vswitch_hugepages_nr: u64,
        /// Free vSwitch pages.
        vswitch_hugepages_avail: u64,
        /// 2 MiB pages.
        #[serde(rename = "vm_hugepages_nr_2M")]
        vm_hugepages_nr_2m: u64,
        /// Free 2 MiB pages.
        #[serde(rename = "vm_hugepages_avail_2M")]
        vm_hugepages_avail_2m: u64,
        /// 1 GiB pages.
        #[serde(rename = "vm_hugepages_nr_1G")]
        vm_hugepages_nr_1g: u64,
        /// Free 1 GiB pages.
        #[serde(rename = "vm_hugepages_avail_1G")]
        vm_hugepages_avail_1g: u64,
        /// 4 KiB pages left to applications.
        #[serde(rename = "vm_hugepages_nr_4K")]
        vm_hugepages_nr_4k: u64,
        /// 2 MiB pages the operator asked for (applied on unlock).
        #[serde(rename = "vm_hugepages_nr_2M_pending")]
        vm_hugepages_nr_2m_pending: Option<u64>,
        /// 1 GiB pages the operator asked for (applied on unlock).
        #[serde(rename = "vm_hugepages_nr_1G_pending")]
        vm_hugepages_nr_1g_pending: Option<u64>,
        /// Whether the pending counts are percentages.
        vm_pending_as_percentage: bool,
        /// 2 MiB pages as a percentage.
        #[serde(rename = "vm_hugepages_2M_percentage")]
        vm_hugepages_2m_percentage: Option<u64>,
        /// 1 GiB pages as a percentage.
        #[serde(rename = "vm_hugepages_1G_percentage")]
        vm_hugepages_1g_percentage: Option<u64>,
        /// Whether the CPU supports 1 GiB pages.
        #[serde(rename = "vm_hugepages_use_1G")]
        vm_hugepages_use_1g: bool,
        /// How many 2 MiB pages could fit.
        #[serde(rename = "vm_hugepages_possible_2M")]
        vm_hugepages_possible_2m: u64,
        /// How many 1 GiB pages could fit.
        #[serde(rename = "vm_hugepages_possible_1G")]
        vm_hugepages_possible_1g: u64,
        /// Extra attributes.
        #[schema(value_type = Object)]
        capabilities: Capabilities,
    }
    refs {
        /// Its NUMA node's uuid.
        inode_uuid: Option<String>,
    }
);

hardware!(
    /// A disk (`idisks`).
    Disk / DiskRecord / DiskList { idisks }, host: ihost_uuid
    {
        /// Kernel device node (`/dev/sda`).
        device_node: String,
        /// Device number (major * 256 + minor).
        device_num: i64,
        /// HDD, SSD, NVME or Undetermined.
        device_type: String,
        /// by-id name.
        device_id: String,
        /// by-path name (`/dev/disk/by-path/…`): the stable key.
        device_path: String,
        /// World-wide name.
        device_wwn: String,
        /// Size.
        size_mib: u64,
        /// Space not in partitions.
        available_mib: u64,
        /// Rotation rate, `N/A` for solid state, or `Undetermined`.
        rpm: String,
        /// Serial number.
        serial_id: String,
        /// Extra attributes (`model_num`, …).
        #[schema(value_type = Object)]
        capabilities: Capabilities,
    }
    refs {
        /// The LVM physical volume on it (always `null` until storage
        /// configuration lands).
        ipv_uuid: Option<String>,
        /// The storage function on it (always `null` likewise).
        istor_uuid: Option<String>,
    }
);

hardware!(
    /// A disk partition (`partitions`).
    Partition / PartitionRecord / PartitionList { partitions }, host: ihost_uuid
    {
        /// Kernel device node (`/dev/sda1`).
        device_node: String,
        /// by-path name (`…-part1`): the stable key.
        device_path: String,
        /// The disk it is on, by that disk's by-path name (or device node).
        disk_path: String,
        /// First MiB.
        start_mib: u64,
        /// Last MiB.
        end_mib: u64,
        /// Size.
        size_mib: u64,
        /// GPT type GUID.
        type_guid: String,
        /// GPT type name.
        type_name: String,
        /// Status code: 0 Ready, 1 In-Use, 2 Creating, 3 Creating (on
        /// unlock), 4 Deleting, 5 Modifying, 6 Deleted, 10–12 errors.
        status: i64,
        /// Extra attributes.
        #[schema(value_type = Object)]
        capabilities: Capabilities,
    }
    refs {
        /// Its disk's uuid.
        idisk_uuid: Option<String>,
        /// The LVM physical volume on it (always `null` for now).
        ipv_uuid: Option<String>,
        /// The status as text (`Ready`, `In-Use`, …).
        status_text: Option<String>,
    }
);

hardware!(
    /// A network port (`ports`, and `ethernet_ports`).
    Port / PortRecord / PortList { ports }, host: ihost_uuid
    {
        /// Kernel interface name: the key.
        name: String,
        /// Name to display (the name itself when the agent gives none).
        namedisplay: Option<String>,
        /// PCI address (`0000:3b:00.0`).
        pciaddr: String,
        /// PCI class name.
        pclass: String,
        /// Vendor name.
        pvendor: String,
        /// Device name.
        pdevice: String,
        /// Subsystem vendor.
        psvendor: String,
        /// Subsystem device.
        psdevice: String,
        /// Whether DPDK can drive it.
        dpdksupport: bool,
        /// NUMA node of the device (-1 when the platform does not say).
        numa_node: i64,
        /// Port index on a multi-port PCI function.
        dev_id: i64,
        /// SR-IOV virtual functions possible.
        sriov_totalvfs: Option<u32>,
        /// SR-IOV virtual functions configured.
        sriov_numvfs: Option<u32>,
        /// PCI addresses of the virtual functions (comma list).
        sriov_vfs_pci_address: String,
        /// Driver of the virtual functions.
        sriov_vf_driver: Option<String>,
        /// Device id of the virtual functions.
        sriov_vf_pdevice_id: Option<String>,
        /// Kernel driver.
        driver: String,
        /// MAC address.
        mac: String,
        /// MTU.
        mtu: u32,
        /// Link speed in Mb/s, when the link is up.
        speed: Option<u32>,
        /// Link mode.
        link_mode: String,
        /// Duplex.
        duplex: Option<String>,
        /// Auto-negotiation (`Yes`/`No`).
        autoneg: Option<String>,
        /// True for the interface the host network-booted from.
        bootp: bool,
        /// Extra attributes.
        #[schema(value_type = Object)]
        capabilities: Capabilities,
    }
    refs {
        /// Always `ethernet`.
        #[serde(rename = "type")]
        port_type: String,
        /// Its NUMA node's uuid.
        inode_uuid: Option<String>,
        /// The interface it serves (configuration's; `null` without it).
        interface_uuid: Option<String>,
    }
);

/// A page of `ethernet_ports` (the same records as `ports`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EthernetPortList {
    pub ethernet_ports: Vec<PortRecord>,
    /// The next page's URL, when this page is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

hardware!(
    /// A PCI device that is not a NIC (`pci_devices`).
    PciDevice / PciDeviceRecord / PciDeviceList { pci_devices }, host: ihost_uuid
    {
        /// `pci_0000_3b_00_0`.
        name: String,
        /// PCI address: the key.
        pciaddr: String,
        /// Class id (hex).
        pclass_id: String,
        /// Vendor id (hex).
        pvendor_id: String,
        /// Device id (hex).
        pdevice_id: String,
        /// Class name.
        pclass: String,
        /// Vendor name.
        pvendor: String,
        /// Device name.
        pdevice: String,
        /// Subsystem vendor.
        psvendor: String,
        /// Subsystem device.
        psdevice: String,
        /// NUMA node (-1 when the platform does not say).
        numa_node: i64,
        /// SR-IOV virtual functions possible.
        sriov_totalvfs: Option<u32>,
        /// SR-IOV virtual functions configured.
        sriov_numvfs: Option<u32>,
        /// PCI addresses of the virtual functions.
        sriov_vfs_pci_address: String,
        /// Driver of the virtual functions.
        sriov_vf_driver: Option<String>,
        /// Device id of the virtual functions.
        sriov_vf_pdevice_id: Option<String>,
        /// Kernel driver.
        driver: Option<String>,
        /// Whether the operator lets workloads use it (the operator's, kept).
        enabled: bool,
        /// Extra attributes.
        extra_info: Option<String>,
    }
    refs {}
);

/// Declares an LLDP record type: its own fields, then the TLVs StarlingX
/// flattens into attributes (the same for agents and neighbours).
macro_rules! lldp {
    (
        $(#[$m:meta])*
        $item:ident / $record:ident / $list:ident { $coll:ident }
        { $($(#[$fm:meta])* $f:ident: $t:ty,)* }
    ) => {
        hardware!(
            $(#[$m])*
            $item / $record / $list { $coll }, host: ihost_uuid
            {
                $($(#[$fm])* $f: $t,)*
                /// Chassis id.
                chassis_id: Option<String>,
                /// Port id.
                port_identifier: Option<String>,
                /// Port description.
                port_description: Option<String>,
                /// Time to live, seconds.
                ttl: Option<u32>,
                /// System name.
                system_name: Option<String>,
                /// System description.
                system_description: Option<String>,
                /// System capabilities.
                system_capabilities: Option<String>,
                /// Management address.
                management_address: Option<String>,
                /// 802.1 port VLAN id.
                dot1_port_vid: Option<String>,
                /// 802.1 VLAN names.
                dot1_vlan_names: Option<String>,
                /// 802.1 link aggregation.
                dot1_lag: Option<String>,
                /// 802.3 MAC/PHY status.
                dot3_mac_status: Option<String>,
                /// 802.3 maximum frame size.
                dot3_max_frame: Option<String>,
            }
            refs {
                /// The local port's uuid.
                port_uuid: Option<String>,
                /// The local port's name.
                port_namedisplay: String,
            }
        );
    };
}

lldp!(
    /// The LLDP agent on one of the host's ports (`lldp_agents`).
    LldpAgent / LldpAgentRecord / LldpAgentList { lldp_agents }
    {
        /// The local port's name: the key.
        port_name: String,
        /// `rx=enabled,tx=enabled` style status.
        status: String,
    }
);

lldp!(
    /// A neighbour seen on one of the host's ports (`lldp_neighbours`).
    LldpNeighbour / LldpNeighbourRecord / LldpNeighbourList { lldp_neighbours }
    {
        /// The local port's name.
        port_name: String,
        /// MAC service access point: chassis id and port id of the neighbour.
        msap: String,
    }
);

hardware!(
    /// An operator label (`labels`).
    Label / LabelRecord / LabelList { labels }, host: host_uuid
    {
        /// Key (1 to 384 characters): unique per host.
        label_key: String,
        /// Value (at most 128 characters).
        label_value: String,
    }
    refs {}
);

hardware!(
    /// A group of BMC sensors of one type (`isensorgroups`), learnt by host
    /// maintenance from the host's board management controller.
    SensorGroup / SensorGroupRecord / SensorGroupList { isensorgroups }, host: host_uuid
    {
        /// Name: unique per host.
        sensorgroupname: String,
        /// Where the BMC shows it.
        path: String,
        /// temperature, fan, voltage, …
        sensortype: String,
        /// `analog` or `discrete`.
        datatype: String,
        /// enabled, disabled
        state: String,
        possible_states: Option<String>,
        algorithm: Option<String>,
        /// Seconds between audits.
        audit_interval_group: i64,
        actions_critical_choices: String,
        actions_major_choices: String,
        actions_minor_choices: String,
        actions_minor_group: String,
        actions_major_group: String,
        actions_critical_group: String,
        unit_base_group: Option<String>,
        unit_modifier_group: Option<String>,
        unit_rate_group: Option<String>,
        t_minor_lower_group: Option<String>,
        t_minor_upper_group: Option<String>,
        t_major_lower_group: Option<String>,
        t_major_upper_group: Option<String>,
        t_critical_lower_group: Option<String>,
        t_critical_upper_group: Option<String>,
        #[schema(value_type = Object)]
        capabilities: Capabilities,
        suppress: bool,
        /// Its sensors' names, comma-separated.
        sensors: String,
    }
    refs {}
);

hardware!(
    /// A BMC sensor (`isensors`): its status is host maintenance's reading
    /// of it against the BMC's thresholds.
    Sensor / SensorRecord / SensorList { isensors }, host: host_uuid
    {
        /// Name: unique per host.
        sensorname: String,
        /// Where the BMC shows it.
        path: String,
        sensortype: String,
        datatype: String,
        /// ok, minor, major, critical, offline
        status: String,
        /// enabled, disabled
        state: String,
        state_requested: Option<String>,
        sensor_action_requested: Option<String>,
        actions_minor: String,
        actions_major: String,
        actions_critical: String,
        suppress: bool,
        /// Seconds between audits.
        audit_interval: i64,
        algorithm: Option<String>,
        /// The last reading (`reading`), among other attributes.
        #[schema(value_type = Object)]
        capabilities: Capabilities,
        unit_base: Option<String>,
        unit_modifier: Option<String>,
        unit_rate: Option<String>,
        t_minor_lower: Option<String>,
        t_minor_upper: Option<String>,
        t_major_lower: Option<String>,
        t_major_upper: Option<String>,
        t_critical_lower: Option<String>,
        t_critical_upper: Option<String>,
    }
    refs {
        /// Its group's uuid.
        sensorgroup_uuid: Option<String>,
    }
);

/// `POST /v1/labels/{host}`: the labels to set, key to value (numbers and
/// booleans are taken as their text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct LabelAssign(pub BTreeMap<String, String>);

/// What an agent sends (`PUT /v1/agent/{host}/report`): whole sections,
/// each replacing what is stored of its kind. An absent section is
/// unchanged since the last report; a report without any is a keep-alive.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Report {
    pub inodes: Option<Vec<Node>>,
    pub icpus: Option<Vec<Cpu>>,
    pub imemorys: Option<Vec<Memory>>,
    pub idisks: Option<Vec<Disk>>,
    pub partitions: Option<Vec<Partition>>,
    pub ports: Option<Vec<Port>>,
    pub pci_devices: Option<Vec<PciDevice>>,
    pub lldp_agents: Option<Vec<LldpAgent>>,
    pub lldp_neighbours: Option<Vec<LldpNeighbour>>,
    /// Seconds since the host booted.
    pub uptime: Option<i64>,
}

/// What a report changed in one collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Delta {
    pub added: usize,
    pub removed: usize,
    pub updated: usize,
}

/// The answer to a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportResult {
    /// The host's availability now.
    pub availability: String,
    /// Per collection the report carried, what changed.
    pub changes: BTreeMap<String, Delta>,
    pub ihost_uuid: String,
    /// `inventoried` once every section has been reported.
    pub inv_state: String,
}
