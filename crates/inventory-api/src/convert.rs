//! Between the domain's records and the wire's shapes
//! (`starling-inventory-types`), explicitly: what is stored is not what is
//! sent. A hardware item has the same fields on both sides; each pair below
//! names them once, and a field added on one side only fails to compile.

use starling_inventory::hardware as hw;
use starling_inventory_types::hardware as wire;

/// A conversion between a domain type and its wire shape (both foreign to
/// this crate, so not `From`).
pub trait Convert<T> {
    /// The value as `T`.
    fn convert(self) -> T;
}

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

/// Both ways between `hw::T` and `wire::T`, field by field.
macro_rules! same_fields {
    ($($name:ident { $($f:ident),* $(,)? })*) => {$(
        impl Convert<wire::$name> for hw::$name {
            fn convert(self) -> wire::$name {
                wire::$name { $($f: self.$f),* }
            }
        }
        impl Convert<hw::$name> for wire::$name {
            fn convert(self) -> hw::$name {
                hw::$name { $($f: self.$f),* }
            }
        }
    )*};
}

same_fields! {
    Node { numa_node, capabilities }
    Cpu { cpu, core, thread, numa_node, cpu_family, cpu_model, allocated_function, capabilities }
    Memory {
        numa_node, memtotal_mib, memavail_mib, platform_reserved_mib, node_memtotal_mib,
        hugepages_configured, vswitch_hugepages_size_mib, vswitch_hugepages_reqd,
        vswitch_hugepages_nr, vswitch_hugepages_avail, vm_hugepages_nr_2m, vm_hugepages_avail_2m,
        vm_hugepages_nr_1g, vm_hugepages_avail_1g, vm_hugepages_nr_4k, vm_hugepages_nr_2m_pending,
        vm_hugepages_nr_1g_pending, vm_pending_as_percentage, vm_hugepages_2m_percentage,
        vm_hugepages_1g_percentage, vm_hugepages_use_1g, vm_hugepages_possible_2m,
        vm_hugepages_possible_1g, capabilities,
    }
    Disk {
        device_node, device_num, device_type, device_id, device_path, device_wwn, size_mib,
        available_mib, rpm, serial_id, capabilities,
    }
    Partition {
        device_node, device_path, disk_path, start_mib, end_mib, size_mib, type_guid, type_name,
        status, capabilities,
    }
    Port {
        name, namedisplay, pciaddr, pclass, pvendor, pdevice, psvendor, psdevice, dpdksupport,
        numa_node, dev_id, sriov_totalvfs, sriov_numvfs, sriov_vfs_pci_address, sriov_vf_driver,
        sriov_vf_pdevice_id, driver, mac, mtu, speed, link_mode, duplex, autoneg, bootp,
        capabilities,
    }
    PciDevice {
        name, pciaddr, pclass_id, pvendor_id, pdevice_id, pclass, pvendor, pdevice, psvendor,
        psdevice, numa_node, sriov_totalvfs, sriov_numvfs, sriov_vfs_pci_address, sriov_vf_driver,
        sriov_vf_pdevice_id, driver, enabled, extra_info,
    }
    LldpAgent {
        port_name, status, chassis_id, port_identifier, port_description, ttl, system_name,
        system_description, system_capabilities, management_address, dot1_port_vid,
        dot1_vlan_names, dot1_lag, dot3_mac_status, dot3_max_frame,
    }
    LldpNeighbour {
        port_name, msap, chassis_id, port_identifier, port_description, ttl, system_name,
        system_description, system_capabilities, management_address, dot1_port_vid,
        dot1_vlan_names, dot1_lag, dot3_mac_status, dot3_max_frame,
    }
    Label { label_key, label_value }
    SensorGroup {
        sensorgroupname, path, sensortype, datatype, state, possible_states, algorithm,
        audit_interval_group, actions_critical_choices, actions_major_choices,
        actions_minor_choices, actions_minor_group, actions_major_group, actions_critical_group,
        unit_base_group, unit_modifier_group, unit_rate_group, t_minor_lower_group,
        t_minor_upper_group, t_major_lower_group, t_major_upper_group, t_critical_lower_group,
        t_critical_upper_group, capabilities, suppress, sensors,
    }
}

/// A sensor on the wire: its group by uuid (the view's), not by name.
impl Convert<wire::Sensor> for hw::Sensor {
    fn convert(self) -> wire::Sensor {
        wire::Sensor {
            sensorname: self.sensorname,
            path: self.path,
            sensortype: self.sensortype,
            datatype: self.datatype,
            status: self.status,
            state: self.state,
            state_requested: self.state_requested,
            sensor_action_requested: self.sensor_action_requested,
            actions_minor: self.actions_minor,
            actions_major: self.actions_major,
            actions_critical: self.actions_critical,
            suppress: self.suppress,
            audit_interval: self.audit_interval,
            algorithm: self.algorithm,
            capabilities: self.capabilities,
            unit_base: self.unit_base,
            unit_modifier: self.unit_modifier,
            unit_rate: self.unit_rate,
            t_minor_lower: self.t_minor_lower,
            t_minor_upper: self.t_minor_upper,
            t_major_lower: self.t_major_lower,
            t_major_upper: self.t_major_upper,
            t_critical_lower: self.t_critical_lower,
            t_critical_upper: self.t_critical_upper,
        }
    }
}

impl Convert<hw::Report> for wire::Report {
    fn convert(self) -> hw::Report {
        hw::Report {
            inodes: self.inodes.convert(),
            icpus: self.icpus.convert(),
            imemorys: self.imemorys.convert(),
            idisks: self.idisks.convert(),
            partitions: self.partitions.convert(),
            ports: self.ports.convert(),
            pci_devices: self.pci_devices.convert(),
            lldp_agents: self.lldp_agents.convert(),
            lldp_neighbours: self.lldp_neighbours.convert(),
            uptime: self.uptime,
        }
    }
}

/// A report as the domain checks and merges it.
pub fn report(r: wire::Report) -> hw::Report {
    r.convert()
}
