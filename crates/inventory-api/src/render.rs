//! Wire shapes of the inventory API: StarlingX's field names and value
//! spellings, so cgtsclient prints every column it knows.

use serde_json::{Value, json};
use starling_common::Timestamp;
use starling_inventory::{Host, Personality, System};

/// sysinv's timestamp form: `2026-11-21T10:00:00.123456+00:00`.
pub fn ts(t: Timestamp) -> String {
    format!("{}+00:00", t.to_naive_iso())
}

/// An optional timestamp in sysinv's form, `null` when absent.
pub fn opt_ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

/// The `self` and `bookmark` links of a record.
pub fn links(base: &str, collection: &str, uuid: &str) -> Value {
    json!([
        {"href": format!("{base}/v1/{collection}/{uuid}"), "rel": "self"},
        {"href": format!("{base}/{collection}/{uuid}"), "rel": "bookmark"},
    ])
}

/// The system record (`isystems`).
pub fn system(s: &System, base: &str) -> Value {
    json!({
        "uuid": s.uuid,
        "name": s.name,
        "system_type": s.system_type.as_str(),
        "system_mode": s.system_mode.as_str(),
        "description": s.description,
        "contact": s.contact,
        "location": s.location,
        "latitude": null,
        "longitude": null,
        "timezone": s.timezone,
        "software_version": s.software_version,
        "region_name": s.region_name,
        "service_project_name": "services",
        "distributed_cloud_role": null,
        "security_feature": "spectre_meltdown_v1",
        "capabilities": {"https_enabled": false, "sdn_enabled": false, "shared_services": "[]",
                          "bm_region": "External", "vswitch_type": "none"},
        "created_at": ts(s.created_at),
        "updated_at": opt_ts(s.updated_at),
        "links": links(base, "isystems", &s.uuid),
    })
}

/// A host (`ihosts`), with every field `system host-show` prints and the
/// ones cgtsclient reads (subfunctions, peers, install_state,
/// install_state_info, ttys_dcd, vsc_controllers).
pub fn host(h: &Host, sys: &System, base: &str) -> Value {
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
        "config_status": null,
        "config_applied": null,
        "config_target": null,
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
