//! Wire shapes of the inventory API: StarlingX's field names and value
//! spellings, so cgtsclient prints every column it knows.

use serde::Serialize;
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
    serde_json::to_value(HostView::new(h, sys, base)).unwrap_or(Value::Null)
}

/// A host as the wire shows it, borrowed from the record and serialized
/// straight into the response: a list of 1,000 hosts builds no
/// intermediate JSON tree (that was three quarters of its time).
#[derive(Serialize)]
pub struct HostView<'a> {
    id: i64,
    uuid: &'a str,
    hostname: Option<&'a str>,
    personality: Option<&'static str>,
    subfunctions: Option<&'a str>,
    subfunction_oper: &'static str,
    subfunction_avail: &'static str,
    recordtype: &'static str,
    reserved: bool,
    invprovision: &'static str,
    inv_state: Option<&'a str>,
    administrative: &'static str,
    operational: &'static str,
    availability: &'static str,
    action: &'static str,
    ihost_action: Option<&'a str>,
    action_state: (),
    task: Option<&'a str>,
    mtce_info: (),
    vim_progress_status: (),
    uptime: i64,
    mgmt_mac: &'a str,
    mgmt_ip: Option<&'a str>,
    serialid: Option<&'a str>,
    location: Location<'a>,
    bm_ip: Option<&'a str>,
    bm_mac: (),
    bm_type: &'static str,
    bm_username: Option<&'a str>,
    capabilities: HostCapabilities,
    isystem_uuid: &'a str,
    config_status: (),
    config_applied: (),
    config_target: (),
    boot_device: &'a str,
    rootfs_device: &'a str,
    hw_settle: &'static str,
    install_output: &'a str,
    console: &'a str,
    tboot: &'static str,
    vsc_controllers: (),
    ttys_dcd: bool,
    install_state: (),
    install_state_info: (),
    clock_synchronization: &'static str,
    device_image_update: (),
    reboot_needed: bool,
    max_cpu_mhz_configured: (),
    min_cpu_mhz_allowed: (),
    max_cpu_mhz_allowed: (),
    cstates_available: (),
    apparmor: &'static str,
    iscsi_initiator_name: (),
    nvme_host_id: (),
    nvme_host_nqn: (),
    kernel_running: (),
    peers: (),
    software_load: &'a str,
    sw_version: &'a str,
    created_at: String,
    updated_at: Option<String>,
    links: [Link; 2],
}

/// `{"locn": …}`, or `{}` when there is no location.
#[derive(Serialize)]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    locn: Option<&'a str>,
}

/// `{"Personality": "Controller-Active"|"Controller-Standby"}` on
/// controllers, `{}` elsewhere.
#[derive(Serialize)]
struct HostCapabilities {
    #[serde(rename = "Personality", skip_serializing_if = "Option::is_none")]
    personality: Option<&'static str>,
}

#[derive(Serialize)]
struct Link {
    href: String,
    rel: &'static str,
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl<'a> HostView<'a> {
    /// The view of `h` in system `sys`, its links under `base`.
    pub fn new(h: &'a Host, sys: &'a System, base: &str) -> Self {
        let controller = (h.personality == Some(Personality::Controller)).then(|| {
            let active = sys.active_controller.is_some()
                && sys.active_controller.as_deref() == h.hostname.as_deref();
            if active {
                "Controller-Active"
            } else {
                "Controller-Standby"
            }
        });
        HostView {
            id: h.id,
            uuid: &h.uuid,
            hostname: h.hostname.as_deref(),
            personality: h.personality.map(Personality::as_str),
            subfunctions: non_empty(&h.subfunctions),
            subfunction_oper: h.operational.as_str(),
            subfunction_avail: h.availability.as_str(),
            recordtype: "standard",
            reserved: false,
            invprovision: h.invprovision.as_str(),
            inv_state: non_empty(&h.inv_state),
            administrative: h.administrative.as_str(),
            operational: h.operational.as_str(),
            availability: h.availability.as_str(),
            action: "none",
            ihost_action: non_empty(&h.ihost_action),
            action_state: (),
            task: non_empty(&h.task),
            mtce_info: (),
            vim_progress_status: (),
            uptime: h.uptime,
            mgmt_mac: &h.mgmt_mac,
            mgmt_ip: h.mgmt_ip.as_deref(),
            serialid: non_empty(&h.serialid),
            location: Location {
                locn: non_empty(&h.location),
            },
            bm_ip: h.bm_ip.as_deref(),
            bm_mac: (),
            bm_type: h.bm_type.as_str(),
            bm_username: h.bm_username.as_deref(),
            capabilities: HostCapabilities {
                personality: controller,
            },
            isystem_uuid: &sys.uuid,
            config_status: (),
            config_applied: (),
            config_target: (),
            boot_device: &h.boot_device,
            rootfs_device: &h.rootfs_device,
            hw_settle: "0",
            install_output: &h.install_output,
            console: &h.console,
            tboot: "",
            vsc_controllers: (),
            ttys_dcd: false,
            install_state: (),
            install_state_info: (),
            clock_synchronization: "ntp",
            device_image_update: (),
            reboot_needed: false,
            max_cpu_mhz_configured: (),
            min_cpu_mhz_allowed: (),
            max_cpu_mhz_allowed: (),
            cstates_available: (),
            apparmor: "disabled",
            iscsi_initiator_name: (),
            nvme_host_id: (),
            nvme_host_nqn: (),
            kernel_running: (),
            peers: (),
            software_load: &h.software_load,
            sw_version: &h.software_load,
            created_at: ts(h.created_at),
            updated_at: h.updated_at.map(ts),
            links: [
                Link {
                    href: format!("{base}/v1/ihosts/{}", h.uuid),
                    rel: "self",
                },
                Link {
                    href: format!("{base}/ihosts/{}", h.uuid),
                    rel: "bookmark",
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use starling_inventory::{SystemMode, SystemType};

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
