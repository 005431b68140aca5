//! Configuration's OpenAPI document: generated from [`OPS`] (one
//! operation per route of `ROUTES`) and the schemas of
//! `starling-config-types`. The generated text is kept in `openapi.json`,
//! served at `/openapi/config.json` on the platform API; a test
//! regenerates it and fails on any difference (`STARLING_UPDATE_OPENAPI=1`
//! rewrites it).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;
use starling_config_types as wire;
use starling_http::openapi::{DocInfo, Op, ParamKind, QueryParam, document, schemas_of};

/// The document text, as generated.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document_route() -> Response {
    starling_http::json_bytes(StatusCode::OK, DOCUMENT)
}

pub(crate) const POLL_PARAMS: &[QueryParam] = &[
    QueryParam::new(
        "applied",
        ParamKind::Str,
        "The configuration uuid the agent applied last (or install)",
    ),
    QueryParam::new(
        "wait",
        ParamKind::Int,
        "Seconds (0 to 25) to wait for a change when there is nothing new",
    ),
];

const fn get(path: &'static str, summary: &'static str, schema: &'static str) -> Op {
    Op::new(
        Method::GET,
        path,
        summary,
        &[],
        None,
        (200, "OK", Some(schema)),
        &[404],
    )
}

const fn patch(path: &'static str, summary: &'static str, schema: &'static str) -> Op {
    Op::new(
        Method::PATCH,
        path,
        summary,
        &[],
        Some("JsonPatch"),
        (200, "The record as it became", Some(schema)),
        &[400, 404],
    )
}

const OPS: &[Op] = &[
    get("/openapi/config.json", "This document", "object"),
    get("/v1/idns", "The DNS record (one)", "DnsList"),
    get("/v1/idns/{uuid}", "Show the DNS record", "Dns"),
    patch(
        "/v1/idns/{uuid}",
        "dns-modify: replace /nameservers (comma list, at most 3); every host applies it at runtime",
        "Dns",
    ),
    get("/v1/intp", "The NTP record (one)", "NtpList"),
    get("/v1/intp/{uuid}", "Show the NTP record", "Ntp"),
    patch(
        "/v1/intp/{uuid}",
        "ntp-modify: replace /ntpservers (comma list, at most 3); the controllers take it at their next unlock",
        "Ntp",
    ),
    get("/v1/iextoam", "The OAM network record (one)", "OamList"),
    get("/v1/iextoam/{uuid}", "Show the OAM network", "Oam"),
    patch(
        "/v1/iextoam/{uuid}",
        "oam-modify: replace OAM fields; every host applies it at runtime",
        "Oam",
    ),
    get(
        "/v1/datanetworks",
        "List the data networks",
        "DataNetworkList",
    ),
    Op::new(
        Method::POST,
        "/v1/datanetworks",
        "datanetwork-add: a flat, vlan or vxlan data network (name unique; MTU 576 to 9216, 1500 by default; vxlan: port_num, ttl, and multicast_group in dynamic mode)",
        &[],
        Some("DataNetworkAdd"),
        (200, "The data network", Some("DataNetwork")),
        &[400, 409],
    ),
    get(
        "/v1/datanetworks/{id}",
        "Show a data network (by uuid or name)",
        "DataNetwork",
    ),
    patch(
        "/v1/datanetworks/{id}",
        "datanetwork-modify: replace /mtu or /description",
        "DataNetwork",
    ),
    Op::new(
        Method::DELETE,
        "/v1/datanetworks/{id}",
        "datanetwork-delete",
        &[],
        None,
        (204, "Deleted", None),
        &[404],
    ),
    Op::new(
        Method::GET,
        "/v1/addrpools",
        "List the address pools (network_type: only the pools of that network)",
        crate::addressing::POOL_LIST_PARAMS,
        None,
        (200, "OK", Some("AddressPoolList")),
        &[400],
    ),
    Op::new(
        Method::POST,
        "/v1/addrpools",
        "addrpool-add: a pool (name unique; network/prefix with no host bits, at least 4 addresses; ranges inside it, the usable addresses by default; order random or sequential; named addresses inside a range, the gateway inside the subnet)",
        &[],
        Some("AddressPoolAdd"),
        (200, "The pool", Some("AddressPool")),
        &[400, 409],
    ),
    get(
        "/v1/addrpools/{uuid}",
        "Show an address pool",
        "AddressPool",
    ),
    Op::new(
        Method::PATCH,
        "/v1/addrpools/{uuid}",
        "addrpool-modify: replace /name, /network, /prefix, /order, /ranges ([[start, end], …]) or a named address (none clears it); the pools of most platform networks are read-only once installed (OAM's is not; management's on a simplex system with its controller locked)",
        &[],
        Some("JsonPatch"),
        (200, "The pool as it became", Some("AddressPool")),
        &[400, 404, 409],
    ),
    Op::new(
        Method::DELETE,
        "/v1/addrpools/{uuid}",
        "addrpool-delete: a pool of no platform network (its addresses go with it)",
        &[],
        None,
        (204, "Deleted", None),
        &[400, 404, 409],
    ),
    get("/v1/networks", "List the platform networks", "NetworkList"),
    Op::new(
        Method::POST,
        "/v1/networks",
        "network-add: a platform network of a type not yet there, over a pool no other network uses and that overlaps no other network's (the controllers' addresses its type needs are allocated)",
        &[],
        Some("NetworkAdd"),
        (200, "The network", Some("Network")),
        &[400, 404, 409],
    ),
    get(
        "/v1/networks/{id}",
        "Show a platform network (by uuid or id)",
        "Network",
    ),
    Op::new(
        Method::DELETE,
        "/v1/networks/{id}",
        "network-delete: not the installed system's networks (but a simplex system's management network while its controller is locked)",
        &[],
        None,
        (204, "Deleted", None),
        &[400, 404],
    ),
    get(
        "/v1/ihosts/{host}/iinterfaces",
        "host-if-list: a host's interfaces (by uuid, hostname or id; each port's ethernet interface is made the first time)",
        "InterfaceList",
    ),
    get(
        "/v1/iinterfaces",
        "Every host's interfaces",
        "InterfaceList",
    ),
    Op::new(
        Method::POST,
        "/v1/iinterfaces",
        "host-if-add: an ethernet, vlan, ae, virtual or vf interface on a locked host (sysinv's checks: name, VLAN id, lower interfaces and ports, class, bonding, MTU, SR-IOV); the host is given a reboot-required target",
        &[],
        Some("InterfaceAdd"),
        (200, "The interface", Some("Interface")),
        &[400, 404, 409],
    ),
    get("/v1/iinterfaces/{uuid}", "host-if-show", "Interface"),
    Op::new(
        Method::PATCH,
        "/v1/iinterfaces/{uuid}",
        "host-if-modify: replace /ifname, /ifclass (none clears it), /imtu, /aemode, /txhashpolicy, /primary_reselect, /vlan_id, /usesmodify, /ports, the address modes and pools, the SR-IOV, PTP and rate-limit attributes (a platform interface's rate limits change on an unlocked host, at runtime)",
        &[],
        Some("JsonPatch"),
        (200, "The interface as it became", Some("Interface")),
        &[400, 404, 409],
    ),
    Op::new(
        Method::DELETE,
        "/v1/iinterfaces/{uuid}",
        "host-if-delete: not a port's own ethernet interface, nor one others are stacked on; its network assignments go with it",
        &[],
        None,
        (204, "Deleted", None),
        &[400, 404],
    ),
    get(
        "/v1/iinterfaces/{uuid}/ports",
        "The port of an ethernet interface, as inventory's ports show it",
        "object",
    ),
    get(
        "/v1/iinterfaces/{uuid}/interface_networks",
        "An interface's platform networks",
        "InterfaceNetworkList",
    ),
    get(
        "/v1/iinterfaces/{uuid}/interface_datanetworks",
        "An interface's data networks",
        "InterfaceDataNetworkList",
    ),
    get(
        "/v1/ihosts/{host}/interface_networks",
        "interface-network-list: a host's platform network assignments",
        "InterfaceNetworkList",
    ),
    get(
        "/v1/ihosts/{host}/interface_datanetworks",
        "interface-datanetwork-list: a host's data network assignments",
        "InterfaceDataNetworkList",
    ),
    get(
        "/v1/interface_networks",
        "Every platform network assignment",
        "InterfaceNetworkList",
    ),
    Op::new(
        Method::POST,
        "/v1/interface_networks",
        "interface-network-assign: a platform network on a platform (or classless, which becomes platform) interface; one interface per network type on a host; OAM on controllers",
        &[],
        Some("InterfaceNetworkAdd"),
        (200, "The assignment", Some("InterfaceNetwork")),
        &[400, 404, 409],
    ),
    get(
        "/v1/interface_networks/{uuid}",
        "interface-network-show",
        "InterfaceNetwork",
    ),
    Op::new(
        Method::DELETE,
        "/v1/interface_networks/{uuid}",
        "interface-network-remove",
        &[],
        None,
        (204, "Removed", None),
        &[404],
    ),
    get(
        "/v1/interface_datanetworks",
        "Every data network assignment",
        "InterfaceDataNetworkList",
    ),
    Op::new(
        Method::POST,
        "/v1/interface_datanetworks",
        "interface-datanetwork-assign: a data network on a data, pci-sriov or pci-passthrough (or classless, which becomes data) interface of a locked host; its MTU must carry the data network's",
        &[],
        Some("InterfaceDataNetworkAdd"),
        (200, "The assignment", Some("InterfaceDataNetwork")),
        &[400, 404, 409],
    ),
    get(
        "/v1/interface_datanetworks/{uuid}",
        "interface-datanetwork-show",
        "InterfaceDataNetwork",
    ),
    Op::new(
        Method::DELETE,
        "/v1/interface_datanetworks/{uuid}",
        "interface-datanetwork-remove (the host locked)",
        &[],
        None,
        (204, "Removed", None),
        &[400, 404],
    ),
    Op::new(
        Method::GET,
        "/v1/service_parameter",
        "service-parameter-list (q.field service, section or name with q.value; eq only)",
        crate::params::LIST_PARAMS,
        None,
        (200, "OK", Some("ServiceParameterList")),
        &[400],
    ),
    Op::new(
        Method::POST,
        "/v1/service_parameter",
        "service-parameter-add: parameters of one section (platform sysctl — checked against the controller's kernel —, platform coredump, platform client, dns host-record), all or none; every host applies them at runtime",
        &[],
        Some("ServiceParameterAdd"),
        (200, "The parameters added", Some("ServiceParameterList")),
        &[400, 409],
    ),
    Op::new(
        Method::POST,
        "/v1/service_parameter/apply",
        "service-parameter-apply: every host applies its service's parameters again",
        &[],
        Some("ServiceParameterApply"),
        (204, "Applied", None),
        &[400],
    ),
    get(
        "/v1/service_parameter/{uuid}",
        "service-parameter-show",
        "ServiceParameter",
    ),
    Op::new(
        Method::PATCH,
        "/v1/service_parameter/{uuid}",
        "service-parameter-modify: replace /value (and /name, unchanged)",
        &[],
        Some("JsonPatch"),
        (200, "The parameter as it became", Some("ServiceParameter")),
        &[400, 404, 409],
    ),
    Op::new(
        Method::DELETE,
        "/v1/service_parameter/{uuid}",
        "service-parameter-delete",
        &[],
        None,
        (204, "Deleted", None),
        &[404],
    ),
    Op::new(
        Method::GET,
        "/v1/agent/{host}/config",
        "Starling's agent: the host's configuration document when it differs from what the agent applied (204 after `wait` seconds otherwise)",
        POLL_PARAMS,
        None,
        (200, "OK", Some("HostDocument")),
        &[400, 403, 404],
    ),
    Op::new(
        Method::PUT,
        "/v1/agent/{host}/config",
        "Starling's agent: what it applied, step by step",
        &[],
        Some("ApplyReport"),
        (
            200,
            "The host's configuration state",
            Some("HostConfigState"),
        ),
        &[400, 403, 404],
    ),
];

/// Every operation.
pub fn operations() -> Vec<Op> {
    OPS.to_vec()
}

/// The document, generated.
pub fn generate() -> Value {
    let mut schemas = Vec::new();
    schemas_of::<wire::DnsList>(&mut schemas);
    schemas_of::<wire::NtpList>(&mut schemas);
    schemas_of::<wire::OamList>(&mut schemas);
    schemas_of::<wire::DataNetworkList>(&mut schemas);
    schemas_of::<wire::DataNetworkAdd>(&mut schemas);
    schemas_of::<wire::AddressPoolList>(&mut schemas);
    schemas_of::<wire::AddressPoolAdd>(&mut schemas);
    schemas_of::<wire::NetworkList>(&mut schemas);
    schemas_of::<wire::NetworkAdd>(&mut schemas);
    schemas_of::<wire::InterfaceList>(&mut schemas);
    schemas_of::<wire::InterfaceAdd>(&mut schemas);
    schemas_of::<wire::InterfaceNetworkList>(&mut schemas);
    schemas_of::<wire::InterfaceNetworkAdd>(&mut schemas);
    schemas_of::<wire::InterfaceDataNetworkList>(&mut schemas);
    schemas_of::<wire::InterfaceDataNetworkAdd>(&mut schemas);
    schemas_of::<wire::ServiceParameterList>(&mut schemas);
    schemas_of::<wire::ServiceParameterAdd>(&mut schemas);
    schemas_of::<wire::ServiceParameterApply>(&mut schemas);
    schemas_of::<wire::HostDocument>(&mut schemas);
    schemas_of::<wire::ApplyReport>(&mut schemas);
    schemas_of::<wire::HostConfigState>(&mut schemas);
    schemas_of::<wire::JsonPatch>(&mut schemas);
    schemas_of::<wire::ErrorEnvelope>(&mut schemas);
    document(
        &DocInfo {
            title: "Starling Configuration API",
            description: "Served on the platform API (sysinv's port) beside inventory; wire-compatible with StarlingX sysinv v1 for idns, intp, iextoam, datanetworks, addrpools, networks, iinterfaces, interface_networks, interface_datanetworks and service_parameter. Differences are listed in docs/compatibility.md.",
            error_schema: "ErrorEnvelope",
            token: "A Keystone-compatible token from the identity service (POST /v3/auth/tokens on port 5000); the agents' routes take a host agent's own credential.",
        },
        &operations(),
        schemas,
    )
}

#[cfg(test)]
mod tests {
    use starling_http::openapi::{check_snapshot, dangling_refs, operations, route_operations};

    #[test]
    fn the_document_is_generated_and_names_exactly_the_routes() {
        let doc = super::generate();
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if let Err(e) = check_snapshot(&doc, file, super::DOCUMENT) {
            panic!("{e}");
        }
        assert_eq!(operations(&doc), route_operations(crate::ROUTES));
        assert_eq!(dangling_refs(&doc), Vec::<String>::new());
    }
}
