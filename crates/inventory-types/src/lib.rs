//! The inventory API's request and response shapes (StarlingX sysinv v1
//! keys and value spellings), declared once: inventory-api writes them, the
//! host agent sends its reports as them, the `system` CLI reads them, and
//! the OpenAPI document is generated from them.
//!
//! Key order: a host is written in the order its fields are declared (the
//! order it always had); the system record, the version documents and the
//! agent's answers are declared in alphabetical order, the order they were
//! always written in; a hardware record puts its uuid first, then its
//! item's fields, its host's uuid, what it refers to, its times and links.
//! Unknown fields of a request are refused; of an answer, ignored.

pub mod hardware;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use starling_wire::{Timestamp, time};
use utoipa::ToSchema;

pub use starling_wire::{ErrorEnvelope, JsonPatch, Link, PatchOp};

/// The system's capabilities, as sysinv shows a system without the
/// features Starling does not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SystemCapabilities {
    pub bm_region: String,
    pub https_enabled: bool,
    pub sdn_enabled: bool,
    /// A Python list as text (`[]`).
    pub shared_services: String,
    pub vswitch_type: String,
}

/// The system record (`isystems`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct System {
    pub capabilities: SystemCapabilities,
    pub contact: String,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    pub description: String,
    /// `systemcontroller` or `subcloud` in a distributed cloud; `null` here.
    pub distributed_cloud_role: Option<String>,
    pub latitude: Option<String>,
    pub links: Vec<Link<'static>>,
    pub location: String,
    pub longitude: Option<String>,
    pub name: String,
    pub region_name: String,
    pub security_feature: String,
    pub service_project_name: String,
    pub software_version: String,
    /// duplex, duplex-direct or simplex.
    pub system_mode: String,
    /// All-in-one or Standard.
    pub system_type: String,
    pub timezone: String,
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
    pub uuid: String,
}

/// `GET /v1/isystems`: the one system.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SystemList {
    pub isystems: Vec<System>,
}

/// `{"locn": …}`, or `{}` when the host has no location.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostLocation<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locn: Option<Cow<'a, str>>,
}

/// `{"Personality": "Controller-Active"|"Controller-Standby"}` on a
/// controller, `{}` on other hosts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostCapabilities<'a> {
    #[serde(
        rename = "Personality",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub personality: Option<Cow<'a, str>>,
}

/// A host (`ihosts`): every field `system host-show` prints and those
/// cgtsclient reads. Fields StarlingX fills from services Starling does not
/// run yet are `null` (or their fixed default) and say so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Host<'a> {
    pub id: i64,
    pub uuid: Cow<'a, str>,
    /// `null` until the host is provisioned.
    pub hostname: Option<Cow<'a, str>>,
    /// controller, worker, storage or edgeworker; `null` until provisioned.
    pub personality: Option<Cow<'a, str>>,
    /// e.g. `controller,worker`.
    pub subfunctions: Option<Cow<'a, str>>,
    pub subfunction_oper: Cow<'a, str>,
    pub subfunction_avail: Cow<'a, str>,
    /// Always `standard`.
    pub recordtype: Cow<'a, str>,
    pub reserved: bool,
    /// unprovisioned, provisioning or provisioned.
    pub invprovision: Cow<'a, str>,
    /// `inventoried` once its agent reported every section.
    pub inv_state: Option<Cow<'a, str>>,
    /// locked or unlocked.
    pub administrative: Cow<'a, str>,
    /// enabled or disabled.
    pub operational: Cow<'a, str>,
    /// available, online, offline, intest, degraded, failed, power-off, …
    pub availability: Cow<'a, str>,
    /// Always `none` when read.
    pub action: Cow<'a, str>,
    /// The action in progress (e.g. `reboot`), `null` when none.
    pub ihost_action: Option<Cow<'a, str>>,
    pub action_state: Option<Cow<'a, str>>,
    /// What the host is doing (e.g. `Rebooting`), `null` when nothing.
    pub task: Option<Cow<'a, str>>,
    pub mtce_info: Option<Cow<'a, str>>,
    pub vim_progress_status: Option<Cow<'a, str>>,
    /// Seconds since the host booted, as its agent last reported.
    pub uptime: i64,
    pub mgmt_mac: Cow<'a, str>,
    pub mgmt_ip: Option<Cow<'a, str>>,
    pub serialid: Option<Cow<'a, str>>,
    pub location: HostLocation<'a>,
    pub bm_ip: Option<Cow<'a, str>>,
    pub bm_mac: Option<Cow<'a, str>>,
    /// none, dynamic, ipmi or redfish.
    pub bm_type: Cow<'a, str>,
    pub bm_username: Option<Cow<'a, str>>,
    pub capabilities: HostCapabilities<'a>,
    pub isystem_uuid: Cow<'a, str>,
    pub config_status: Option<Cow<'a, str>>,
    pub config_applied: Option<Cow<'a, str>>,
    pub config_target: Option<Cow<'a, str>>,
    /// The last failed step of a configuration apply (Starling's; absent
    /// from sysinv).
    #[serde(default)]
    pub config_failure: Option<Cow<'a, str>>,
    pub boot_device: Cow<'a, str>,
    pub rootfs_device: Cow<'a, str>,
    pub hw_settle: Cow<'a, str>,
    /// text or graphical.
    pub install_output: Cow<'a, str>,
    pub console: Cow<'a, str>,
    pub tboot: Cow<'a, str>,
    pub vsc_controllers: Option<Cow<'a, str>>,
    pub ttys_dcd: bool,
    pub install_state: Option<Cow<'a, str>>,
    pub install_state_info: Option<Cow<'a, str>>,
    pub clock_synchronization: Cow<'a, str>,
    pub device_image_update: Option<Cow<'a, str>>,
    pub reboot_needed: bool,
    pub max_cpu_mhz_configured: Option<Cow<'a, str>>,
    pub min_cpu_mhz_allowed: Option<Cow<'a, str>>,
    pub max_cpu_mhz_allowed: Option<Cow<'a, str>>,
    pub cstates_available: Option<Cow<'a, str>>,
    pub apparmor: Cow<'a, str>,
    pub iscsi_initiator_name: Option<Cow<'a, str>>,
    pub nvme_host_id: Option<Cow<'a, str>>,
    pub nvme_host_nqn: Option<Cow<'a, str>>,
    pub kernel_running: Option<Cow<'a, str>>,
    /// The storage peer group (a dictionary in StarlingX); `null` here.
    #[schema(value_type = Option<Object>)]
    pub peers: Option<Value>,
    pub software_load: Cow<'a, str>,
    pub sw_version: Cow<'a, str>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
    pub links: Vec<Link<'a>>,
}

/// A host as a list of hosts is read for `system host-list`: the columns
/// it shows, every other field of [`Host`] skipped unread (a 1,000-host
/// list decodes in a fraction of the time, with no copy of the text). A
/// test holds its fields to [`Host`]'s.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HostBrief<'a> {
    pub id: i64,
    #[serde(borrow)]
    pub hostname: Option<&'a str>,
    #[serde(borrow)]
    pub personality: Option<&'a str>,
    #[serde(borrow)]
    pub administrative: Cow<'a, str>,
    #[serde(borrow)]
    pub operational: Cow<'a, str>,
    #[serde(borrow)]
    pub availability: Cow<'a, str>,
}

/// A page of hosts (`GET /v1/ihosts`, `/v1/ihosts/detail`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HostList<'a> {
    pub ihosts: Vec<Host<'a>>,
    /// The next page's URL, when this page is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// host-add's `location`: `{"locn": …}`, as StarlingX's CLI sends it, or
/// the text alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Locn {
    Locn { locn: String },
    Text(String),
}

/// `POST /v1/ihosts` (host-add), and an entry of a YAML hosts file. Every
/// attribute is text (numbers and booleans are taken as their text); a
/// StarlingX attribute Starling does not manage yet (`hw_settle`,
/// `ttys_dcd`, `clock_synchronization`, `tboot`, `vsc_controllers`,
/// `action`, `apparmor`) is accepted at its default value only, and any
/// other attribute is refused by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostAdd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// controller, worker, storage or edgeworker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<String>,
    /// Only those the personality implies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subfunctions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgmt_mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgmt_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bm_ip: Option<String>,
    /// none, dynamic, ipmi or redfish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bm_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bm_username: Option<String>,
    /// Refused for now: Starling stores no BMC credentials yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bm_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_device: Option<String>,
    /// text or graphical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Locn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialid: Option<String>,
}

/// `POST /v1/ihosts/bulk_add`: the hosts added (one name a line) and what
/// went wrong (empty on success).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BulkAddResult {
    pub error: String,
    pub success: String,
}

/// `GET /v1/ihosts/bulk_export`: the provisioned hosts as a hosts file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BulkExport {
    /// `<hosts><host>…</host></hosts>`, as host-bulk-add reads it.
    pub content: String,
}

/// `POST /v1/agent/register`: an agent introducing its host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The host's own name.
    pub hostname: String,
    /// MAC of its management port.
    pub mgmt_mac: String,
}

/// `GET /v1/agent/{host}/command`: the command the host's agent is to
/// carry out (reboot, reset, reinstall, power-on, power-off), or `null`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Command {
    pub command: Option<String>,
    pub ihost_uuid: String,
    pub task: Option<String>,
}

/// `PUT /v1/agent/{host}/command`: how a command ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub command: String,
    pub ok: bool,
    /// Why it failed (at most 1,024 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The answer to an [`Outcome`]: the host's state after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeResult {
    pub availability: String,
    pub ihost_uuid: String,
    pub task: Option<String>,
}

/// An API version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub links: Vec<Link<'static>>,
    pub status: String,
}

/// `GET /`: the versions served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Root {
    pub default_version: Version,
    pub description: String,
    pub name: String,
    pub versions: Vec<Version>,
}

/// A media type of the v1 document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MediaType {
    pub base: String,
    #[serde(rename = "type")]
    pub media_type: String,
}

/// `GET /v1`: the collections, each with its `self` and `bookmark` links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct V1 {
    pub ethernet_ports: Vec<Link<'static>>,
    pub icpus: Vec<Link<'static>>,
    pub id: String,
    pub idisks: Vec<Link<'static>>,
    pub ihosts: Vec<Link<'static>>,
    pub imemorys: Vec<Link<'static>>,
    pub inodes: Vec<Link<'static>>,
    pub isystems: Vec<Link<'static>>,
    pub labels: Vec<Link<'static>>,
    pub links: Vec<Link<'static>>,
    pub lldp_agents: Vec<Link<'static>>,
    pub lldp_neighbours: Vec<Link<'static>>,
    pub media_types: Vec<MediaType>,
    pub partitions: Vec<Link<'static>>,
    pub pci_devices: Vec<Link<'static>>,
    pub ports: Vec<Link<'static>>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A host written as `Host` reads back as `HostBrief` with the same
    /// values: the brief names real fields of the wire shape.
    #[test]
    fn the_brief_host_reads_a_host() {
        let text = r#"{"id": 7, "hostname": "compute-0", "personality": "worker",
            "administrative": "locked", "operational": "disabled", "availability": "online"}"#;
        let full: serde_json::Value = serde_json::from_str(text).unwrap();
        let schema = serde_json::to_value(<Host<'_> as utoipa::PartialSchema>::schema()).unwrap();
        for k in full.as_object().unwrap().keys() {
            assert!(
                schema["properties"].get(k).is_some(),
                "{k} is not a Host field"
            );
        }
        let b: HostBrief<'_> = serde_json::from_str(text).unwrap();
        assert_eq!(
            (
                b.id,
                b.hostname,
                b.personality,
                &*b.administrative,
                &*b.operational,
                &*b.availability
            ),
            (
                7,
                Some("compute-0"),
                Some("worker"),
                "locked",
                "disabled",
                "online"
            )
        );
        let none: HostBrief<'_> = serde_json::from_str(
            r#"{"id": 1, "hostname": null, "personality": null, "administrative": "locked",
                "operational": "disabled", "availability": "offline", "uuid": "u"}"#,
        )
        .unwrap();
        assert_eq!(none.hostname, None);
    }
}
