//! The configuration API's request and response shapes, declared once:
//! config-api writes them, the host agent reads its document and sends its
//! apply report as them, the `system` CLI reads them, and the OpenAPI
//! document is generated from them.
//!
//! Records keep sysinv's keys and value spellings (`nameservers` as a comma
//! list, `isystem_uuid`, `links`), in alphabetical order. Unknown fields of
//! a request are refused; of an answer, ignored.

use serde::{Deserialize, Serialize};
use starling_wire::{Timestamp, time};
use utoipa::ToSchema;

pub use starling_wire::{ErrorEnvelope, JsonPatch, Link, PatchOp};

/// The DNS record (`idns`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dns {
    /// An API-only attribute (always `null` in answers).
    pub action: Option<String>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    pub isystem_uuid: String,
    pub links: Vec<Link<'static>>,
    /// Comma list of addresses, at most three.
    pub nameservers: String,
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
    pub uuid: String,
}

/// `GET /v1/idns`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DnsList {
    pub idnss: Vec<Dns>,
}

/// The NTP record (`intp`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Ntp {
    pub action: Option<String>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    pub isystem_uuid: String,
    pub links: Vec<Link<'static>>,
    /// Comma list of addresses or host names, at most three.
    pub ntpservers: String,
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
    pub uuid: String,
}

/// `GET /v1/intp`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NtpList {
    pub intps: Vec<Ntp>,
}

/// The OAM network record (`iextoam`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Oam {
    pub action: Option<String>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    pub isystem_uuid: String,
    pub links: Vec<Link<'static>>,
    pub oam_c0_ip: Option<String>,
    pub oam_c1_ip: Option<String>,
    pub oam_end_ip: String,
    pub oam_floating_ip: String,
    pub oam_gateway_ip: Option<String>,
    pub oam_start_ip: String,
    /// `address/prefix`.
    pub oam_subnet: String,
    /// Whether the cloud is in a region configuration (never, here).
    pub region_config: bool,
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
    pub uuid: String,
}

/// `GET /v1/iextoam`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OamList {
    pub iextoams: Vec<Oam>,
}

/// One hosts-file line: an address and its names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostsEntry {
    pub address: String,
    pub names: Vec<String>,
}

/// One interface of a host's document: a device its agent brings up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NetworkInterface {
    /// The device's name on the host (a port's own name for its ethernet
    /// interface).
    pub name: String,
    /// ethernet, vlan, ae, virtual or vf.
    #[serde(rename = "type")]
    pub iftype: String,
    /// The port's MAC (an ethernet interface).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    pub mtu: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<i64>,
    /// The devices it is stacked on, in order.
    #[serde(default)]
    pub lower: Vec<String>,
    /// balanced, active_standby or 802.3ad (an AE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aemode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txhashpolicy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_reselect: Option<String>,
    /// The platform network types assigned to it.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Its addresses, `address/prefix`.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// The default route's gateway through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// The SR-IOV virtual functions of a pci-sriov port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sriov_numvfs: Option<i64>,
}

/// A host's configuration document (`GET /v1/agent/{host}/config`): what
/// its agent makes the host run, versioned by the host's target. An agent
/// ignores what it does not know (a newer controller's additions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostDocument {
    /// The host's target configuration uuid (bit 127: reboot required).
    pub config_uuid: String,
    /// Whether the reboot-required parts may be applied now; when false the
    /// agent applies the runtime parts and reports `config_uuid` with its
    /// reboot flag cleared.
    pub full: bool,
    pub hostname: String,
    pub personality: String,
    /// resolv.conf's nameservers (runtime).
    pub nameservers: Vec<String>,
    /// chrony's servers (reboot-required): the cloud's NTP servers on a
    /// controller, the controllers' management addresses on any other host;
    /// absent where the host does not run the cloud's NTP client
    /// configuration.
    pub ntpservers: Option<Vec<String>>,
    /// /etc/hosts (runtime).
    pub hosts: Vec<HostsEntry>,
    /// The platform interfaces, lower ones first (reboot-required: brought
    /// up when the document is applied in full). Absent when there are
    /// none, which an earlier agent also reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<NetworkInterface>,
    /// Kernel parameters (`/etc/sysctl.d`, runtime), from the `platform
    /// sysctl` service parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sysctl: Vec<Setting>,
    /// systemd-coredump's limits (`ProcessSizeMax`, …), from the `platform
    /// coredump` service parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coredump: Vec<Setting>,
    /// Whether the CLIs ask before destructive commands
    /// (`CLI_CONFIRMATIONS`), from `platform client cli_confirmations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_confirmations: Option<bool>,
}

/// A named value of a host's document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Setting {
    pub name: String,
    pub value: String,
}

/// One step of an apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepResult {
    /// `dns`, `ntp`, `hosts`.
    pub step: String,
    pub ok: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An agent's report of an apply (`PUT /v1/agent/{host}/config`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyReport {
    /// The uuid applied: the document's, or it without the reboot flag
    /// when only the runtime parts were.
    pub config_uuid: String,
    pub steps: Vec<StepResult>,
}

/// A host's configuration state, as the report's answer gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HostConfigState {
    pub config_applied: Option<String>,
    /// `Config out-of-date` while out of date.
    pub config_status: Option<String>,
    pub config_target: String,
    /// The last failed step, until an apply succeeds.
    pub config_failure: Option<String>,
}

/// A data network (`datanetworks`). The vxlan fields are present for a
/// vxlan data network only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataNetwork {
    pub id: i64,
    pub uuid: String,
    /// flat, vlan or vxlan.
    pub network_type: String,
    pub name: String,
    pub description: String,
    pub mtu: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multicast_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_num: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// dynamic or static.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `GET /v1/datanetworks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataNetworkList {
    pub datanetworks: Vec<DataNetwork>,
}

/// `POST /v1/datanetworks` (`datanetwork-add`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataNetworkAdd {
    pub name: Option<String>,
    pub network_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multicast_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_num: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// A number StarlingX's clients send as text or as a number (cgtsclient's
/// `addrpool-add` sends the prefix as text); kept as its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NumberText(pub String);

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            I(i64),
            S(String),
        }
        Ok(NumberText(match N::deserialize(d)? {
            N::I(i) => i.to_string(),
            N::S(s) => s,
        }))
    }
}

impl utoipa::PartialSchema for NumberText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("A number, or its text."))
            .into()
    }
}

impl ToSchema for NumberText {}

/// An address pool (`addrpools`), with its four named addresses and their
/// address records' ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AddressPool {
    pub controller0_address: Option<String>,
    pub controller0_address_id: Option<i64>,
    pub controller1_address: Option<String>,
    pub controller1_address_id: Option<i64>,
    /// 4 or 6.
    pub family: i64,
    pub floating_address: Option<String>,
    pub floating_address_id: Option<i64>,
    pub gateway_address: Option<String>,
    pub gateway_address_id: Option<i64>,
    pub id: i64,
    pub name: String,
    /// The network address.
    pub network: String,
    /// random or sequential.
    pub order: String,
    pub prefix: i64,
    /// Inclusive `[start, end]` pairs.
    pub ranges: Vec<Vec<String>>,
    pub uuid: String,
}

/// `GET /v1/addrpools`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AddressPoolList {
    pub addrpools: Vec<AddressPool>,
}

/// `POST /v1/addrpools` (`addrpool-add`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressPoolAdd {
    pub name: Option<String>,
    pub network: Option<String>,
    pub prefix: Option<NumberText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Inclusive `[start, end]` pairs; the subnet's usable addresses when
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Vec<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller0_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller1_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_address: Option<String>,
}

/// A platform network (`networks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Network {
    /// Whether its hosts' addresses are given by DHCP.
    pub dynamic: bool,
    pub id: i64,
    pub name: String,
    pub pool_uuid: Option<String>,
    /// IPv4 or IPv6.
    pub primary_pool_family: Option<String>,
    /// mgmt, oam, pxeboot, cluster-host, cluster-pod, cluster-service,
    /// multicast, storage, admin, ironic, system-controller or
    /// system-controller-oam.
    #[serde(rename = "type")]
    pub net_type: String,
    pub uuid: String,
}

/// `GET /v1/networks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NetworkList {
    pub networks: Vec<Network>,
}

/// `POST /v1/networks` (`network-add`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkAdd {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub net_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic: Option<starling_wire::LooseBool>,
    pub pool_uuid: Option<String>,
}

/// A list of names as StarlingX's clients send it: a comma list or a JSON
/// list (`host-if-add` sends its ports one way, its interfaces the other).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NameList(pub Vec<String>);

impl<'de> Deserialize<'de> for NameList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum L {
            List(Vec<String>),
            Text(String),
        }
        Ok(NameList(match L::deserialize(d)? {
            L::List(v) => v,
            L::Text(s) => s
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect(),
        }))
    }
}

impl utoipa::PartialSchema for NameList {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("Names or uuids: a list, or a comma list."))
            .into()
    }
}

impl ToSchema for NameList {}

/// A host interface (`iinterfaces`). The address modes are shown for
/// platform and data interfaces only, and a pool only in `pool` mode (as
/// sysinv shows them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Interface {
    pub aemode: Option<String>,
    /// Always `null` (Starling sets no channel counts).
    pub channels: Option<i64>,
    #[serde(with = "time::utc")]
    #[schema(value_type = String, example = "2026-01-02T03:04:05.678901+00:00")]
    pub created_at: Timestamp,
    /// The host's integer id.
    pub forihostid: i64,
    #[schema(value_type = Object)]
    pub ifcapabilities: std::collections::BTreeMap<String, String>,
    /// platform, data, pci-sriov, pci-passthrough, or `null`.
    pub ifclass: Option<String>,
    pub ifname: String,
    /// ethernet, vlan, ae, virtual or vf.
    pub iftype: String,
    pub ihost_uuid: String,
    pub imac: Option<String>,
    pub imtu: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_mode: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_mode: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_pool: Option<String>,
    pub links: Vec<Link<'static>>,
    pub max_rx_rate: Option<i64>,
    pub max_tx_rate: Option<i64>,
    /// Always `null` (Starling has no OVS access interfaces).
    pub ovs_access: Option<bool>,
    /// Links to its ports (`/v1/iinterfaces/{uuid}/ports`), on show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<Link<'static>>>,
    pub primary_reselect: Option<String>,
    pub ptp_role: Option<String>,
    pub schedpolicy: Option<String>,
    pub sriov_numvfs: Option<i64>,
    pub sriov_vf_channels: Option<i64>,
    pub sriov_vf_driver: Option<String>,
    pub txhashpolicy: Option<String>,
    #[serde(with = "time::utc_opt")]
    #[schema(value_type = Option<String>, example = "2026-01-02T03:04:05.678901+00:00")]
    pub updated_at: Option<Timestamp>,
    /// The interfaces stacked on it.
    pub used_by: Vec<String>,
    /// The interfaces it is stacked on.
    pub uses: Vec<String>,
    pub usesmodify: Option<String>,
    pub uuid: String,
    pub vlan_id: Option<i64>,
}

/// `GET /v1/ihosts/{host}/iinterfaces`, `GET /v1/iinterfaces`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterfaceList {
    pub iinterfaces: Vec<Interface>,
}

/// `POST /v1/iinterfaces` (`host-if-add`): numbers may come as text, the
/// ports as a comma list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterfaceAdd {
    pub ihost_uuid: Option<String>,
    pub ifname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iftype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ifclass: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imtu: Option<NumberText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aemode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txhashpolicy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_reselect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<NumberText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<NameList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<NameList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sriov_numvfs: Option<NumberText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sriov_vf_driver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptp_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tx_rate: Option<NumberText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rx_rate: Option<NumberText>,
}

/// A platform network assigned to an interface (`interface_networks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterfaceNetwork {
    pub forihostid: i64,
    pub id: i64,
    pub ifname: String,
    pub interface_uuid: String,
    pub network_id: i64,
    pub network_name: String,
    pub network_type: String,
    pub network_uuid: String,
    pub uuid: String,
}

/// `GET /v1/interface_networks` and its host's and interface's lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterfaceNetworkList {
    pub interface_networks: Vec<InterfaceNetwork>,
}

/// `POST /v1/interface_networks` (`interface-network-assign`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterfaceNetworkAdd {
    pub interface_uuid: Option<String>,
    pub network_uuid: Option<String>,
}

/// A data network assigned to an interface (`interface_datanetworks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterfaceDataNetwork {
    pub datanetwork_id: i64,
    pub datanetwork_name: String,
    pub datanetwork_uuid: String,
    pub forihostid: i64,
    pub id: i64,
    pub ifname: String,
    pub interface_uuid: String,
    /// The data network's type.
    pub network_type: String,
    pub uuid: String,
}

/// `GET /v1/interface_datanetworks` and its host's and interface's lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterfaceDataNetworkList {
    pub interface_datanetworks: Vec<InterfaceDataNetwork>,
}

/// `POST /v1/interface_datanetworks` (`interface-datanetwork-assign`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterfaceDataNetworkAdd {
    pub interface_uuid: Option<String>,
    pub datanetwork_uuid: Option<String>,
}

/// A service parameter (`service_parameter`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceParameter {
    /// On show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub links: Vec<Link<'static>>,
    pub name: String,
    /// Always `null` (Starling applies no custom puppet resources).
    pub personality: Option<String>,
    /// Always `null`.
    pub resource: Option<String>,
    pub section: String,
    pub service: String,
    pub uuid: String,
    pub value: String,
}

/// `GET /v1/service_parameter` and `service-parameter-add`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceParameterList {
    pub parameters: Vec<ServiceParameter>,
}

/// `POST /v1/service_parameter` (`service-parameter-add`): the parameters
/// as a name-to-value map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceParameterAdd {
    pub service: Option<String>,
    pub section: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub parameters: Option<std::collections::BTreeMap<String, String>>,
}

/// `POST /v1/service_parameter/apply` (`service-parameter-apply`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceParameterApply {
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}
