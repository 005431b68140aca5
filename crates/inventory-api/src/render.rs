//! The system and hosts on the wire (`starling-inventory-types`):
//! StarlingX's field names and value spellings, so cgtsclient prints every
//! column it knows.

use std::borrow::Cow;

use starling_inventory::{Host, Personality, System};
use starling_inventory_types as wire;
use wire::Link;

/// The system record (`isystems`).
pub fn system(s: &System, base: &str) -> wire::System {
    wire::System {
        capabilities: wire::SystemCapabilities {
            bm_region: "External".into(),
            https_enabled: false,
            sdn_enabled: false,
            shared_services: "[]".into(),
            vswitch_type: "none".into(),
        },
        contact: s.contact.clone(),
        created_at: s.created_at,
        description: s.description.clone(),
        distributed_cloud_role: None,
        latitude: None,
        links: Link::pair(base, "isystems", &s.uuid),
        location: s.location.clone(),
        longitude: None,
        name: s.name.clone(),
        region_name: s.region_name.clone(),
        security_feature: "spectre_meltdown_v1".into(),
        service_project_name: "services".into(),
        software_version: s.software_version.clone(),
        system_mode: s.system_mode.as_str().into(),
        system_type: s.system_type.as_str().into(),
        timezone: s.timezone.clone(),
        updated_at: s.updated_at,
        uuid: s.uuid.clone(),
    }
}

fn non_empty(s: &str) -> Option<Cow<'_, str>> {
    (!s.is_empty()).then_some(Cow::Borrowed(s))
}

fn b(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

/// A host of system `sys`, its links under `base`, borrowed from the
/// record and serialized straight into the response: a list of 1,000
/// hosts builds no intermediate JSON tree (that was three quarters of its
/// time).
pub fn host<'a>(h: &'a Host, sys: &'a System, base: &str) -> wire::Host<'a> {
    let controller = (h.personality == Some(Personality::Controller)).then(|| {
        let active = sys.active_controller.is_some()
            && sys.active_controller.as_deref() == h.hostname.as_deref();
        b(if active {
            "Controller-Active"
        } else {
            "Controller-Standby"
        })
    });
    wire::Host {
        id: h.id,
        uuid: b(&h.uuid),
        hostname: h.hostname.as_deref().map(b),
        personality: h.personality.map(|p| b(p.as_str())),
        subfunctions: non_empty(&h.subfunctions),
        subfunction_oper: b(h.operational.as_str()),
        subfunction_avail: b(h.availability.as_str()),
        recordtype: b("standard"),
        reserved: false,
        invprovision: b(h.invprovision.as_str()),
        inv_state: non_empty(&h.inv_state),
        administrative: b(h.administrative.as_str()),
        operational: b(h.operational.as_str()),
        availability: b(h.availability.as_str()),
        action: b("none"),
        ihost_action: non_empty(&h.ihost_action),
        action_state: None,
        task: non_empty(&h.task),
        mtce_info: None,
        vim_progress_status: None,
        uptime: h.uptime,
        mgmt_mac: b(&h.mgmt_mac),
        mgmt_ip: h.mgmt_ip.as_deref().map(b),
        serialid: non_empty(&h.serialid),
        location: wire::HostLocation {
            locn: non_empty(&h.location),
        },
        bm_ip: h.bm_ip.as_deref().map(b),
        bm_mac: None,
        bm_type: b(h.bm_type.as_str()),
        bm_username: h.bm_username.as_deref().map(b),
        capabilities: wire::HostCapabilities {
            personality: controller,
        },
        isystem_uuid: b(&sys.uuid),
        config_status: h.config_status.as_deref().map(b),
        config_applied: h.config_applied.as_deref().map(b),
        config_target: h.config_target.as_deref().map(b),
        config_failure: h.config_failure.as_deref().map(b),
        boot_device: b(&h.boot_device),
        rootfs_device: b(&h.rootfs_device),
        hw_settle: b("0"),
        install_output: b(&h.install_output),
        console: b(&h.console),
        tboot: b(""),
        vsc_controllers: None,
        ttys_dcd: false,
        install_state: None,
        install_state_info: None,
        clock_synchronization: b("ntp"),
        device_image_update: None,
        reboot_needed: false,
        max_cpu_mhz_configured: None,
        min_cpu_mhz_allowed: None,
        max_cpu_mhz_allowed: None,
        cstates_available: None,
        apparmor: b("disabled"),
        iscsi_initiator_name: None,
        nvme_host_id: None,
        nvme_host_nqn: None,
        kernel_running: None,
        peers: None,
        software_load: b(&h.software_load),
        sw_version: b(&h.software_load),
        created_at: h.created_at,
        updated_at: h.updated_at,
        links: Link::pair(base, "ihosts", &h.uuid),
    }
}

/// Hosts serialized one `wire::Host` at a time, as a list's `ihosts`.
pub struct Hosts<'a> {
    /// The records.
    pub hosts: &'a [Host],
    /// Their system.
    pub sys: &'a System,
    /// Where their links point.
    pub base: &'a str,
}

impl serde::Serialize for Hosts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.hosts.iter().map(|h| host(h, self.sys, self.base)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::{Value, json};
    use starling_common::Timestamp;
    use starling_inventory::{SystemMode, SystemType};

    fn ts(t: Timestamp) -> String {
        format!("{}+00:00", t.to_naive_iso())
    }

    fn opt_ts(t: Option<Timestamp>) -> Value {
        t.map_or(Value::Null, |t| Value::String(ts(t)))
    }

    fn links(base: &str, collection: &str, uuid: &str) -> Value {
        json!([
            {"href": format!("{base}/v1/{collection}/{uuid}"), "rel": "self"},
            {"href": format!("{base}/{collection}/{uuid}"), "rel": "bookmark"},
        ])
    }

    /// The shape as it was built before the borrowed view, field by field
    /// (the reference the view must keep).
    fn reference(h: &Host, sys: &System, base: &str) -> Value {
        let personality = h.personality.map(Personality::as_str);
        let mut capabilities = json!({});
        if h.personality == Some(Personality::Controller) {
            let active = sys.active_controller.is_some()
                && sys.active_controller.as_deref() == h.hostname.as_deref();
            capabilities["Personality"] = json!(if active {
                "Controller-Active"
            } else {
                "Controller-Standby"
            });
        }
        json!({
            "id": h.id,
            "uuid": h.uuid,
            "hostname": h.hostname,
            "personality": personality,
            "subfunctions": if h.subfunctions.is_empty() { Value::Null } else { json!(h.subfunctions) },
            "subfunction_oper": h.operational.as_str(),
            "subfunction_avail": h.availability.as_str(),
            "recordtype": "standard",
            "reserved": false,
            "invprovision": h.invprovision.as_str(),
            "inv_state": if h.inv_state.is_empty() { Value::Null } else { json!(h.inv_state) },
            "administrative": h.administrative.as_str(),
            "operational": h.operational.as_str(),
            "availability": h.availability.as_str(),
            "action": "none",
            "ihost_action": if h.ihost_action.is_empty() { Value::Null } else { json!(h.ihost_action) },
            "action_state": null,
            "task": if h.task.is_empty() { Value::Null } else { json!(h.task) },
            "mtce_info": null,
            "vim_progress_status": null,
            "uptime": h.uptime,
            "mgmt_mac": h.mgmt_mac,
            "mgmt_ip": h.mgmt_ip,
            "serialid": if h.serialid.is_empty() { Value::Null } else { json!(h.serialid) },
            "location": if h.location.is_empty() { json!({}) } else { json!({"locn": h.location}) },
            "bm_ip": h.bm_ip,
            "bm_mac": null,
            "bm_type": h.bm_type.as_str(),
            "bm_username": h.bm_username,
            "capabilities": capabilities,
            "isystem_uuid": sys.uuid,
            "config_status": h.config_status,
            "config_applied": h.config_applied,
            "config_target": h.config_target,
            "config_failure": h.config_failure,
            "boot_device": h.boot_device,
            "rootfs_device": h.rootfs_device,
            "hw_settle": "0",
            "install_output": h.install_output,
            "console": h.console,
            "tboot": "",
            "vsc_controllers": null,
            "ttys_dcd": false,
            "install_state": null,
            "install_state_info": null,
            "clock_synchronization": "ntp",
            "device_image_update": null,
            "reboot_needed": false,
            "max_cpu_mhz_configured": null,
            "min_cpu_mhz_allowed": null,
            "max_cpu_mhz_allowed": null,
            "cstates_available": null,
            "apparmor": "disabled",
            "iscsi_initiator_name": null,
            "nvme_host_id": null,
            "nvme_host_nqn": null,
            "kernel_running": null,
            "peers": null,
            "software_load": h.software_load,
            "sw_version": h.software_load,
            "created_at": ts(h.created_at),
            "updated_at": opt_ts(h.updated_at),
            "links": links(base, "ihosts", &h.uuid),
        })
    }

    fn system() -> System {
        System {
            uuid: "sys-uuid".into(),
            name: "s".into(),
            system_type: SystemType::Standard,
            system_mode: SystemMode::Duplex,
            description: String::new(),
            contact: String::new(),
            location: String::new(),
            timezone: "UTC".into(),
            software_version: "1".into(),
            region_name: "RegionOne".into(),
            active_controller: Some("controller-0".into()),
            created_at: Timestamp::from_micros(0),
            updated_at: None,
        }
    }

    #[test]
    fn the_host_view_is_the_wire_shape_field_for_field() {
        let sys = system();
        let bare = Host::new(
            7,
            "h-uuid".into(),
            "02:00:00:00:00:07".into(),
            Timestamp::from_micros(5),
        );
        let mut active = bare.clone();
        active.hostname = Some("controller-0".into());
        active.personality = Some(Personality::Controller);
        active.subfunctions = "controller".into();
        active.location = "rack 1".into();
        active.serialid = "SN1".into();
        active.mgmt_ip = Some("192.168.204.2".into());
        active.bm_ip = Some("10.0.0.7".into());
        active.bm_username = Some("root".into());
        active.task = "Rebooting".into();
        active.inv_state = "inventoried".into();
        active.updated_at = Some(Timestamp::from_micros(9_000_000));
        let mut standby = active.clone();
        standby.hostname = Some("controller-1".into());
        let mut worker = active.clone();
        worker.personality = Some(Personality::Worker);
        let host =
            |h: &Host, sys: &System, base: &str| serde_json::to_value(host(h, sys, base)).unwrap();
        for h in [&bare, &active, &standby, &worker] {
            let v = host(h, &sys, "http://ctl:6385");
            assert_eq!(v, reference(h, &sys, "http://ctl:6385"), "{v}");
            assert!(v.as_object().unwrap().len() > 60);
        }
        let v = host(&active, &sys, "http://ctl:6385");
        assert_eq!(v["capabilities"]["Personality"], "Controller-Active");
        assert_eq!(v["location"]["locn"], "rack 1");
        assert_eq!(host(&bare, &sys, "b")["location"], json!({}));
    }
}
