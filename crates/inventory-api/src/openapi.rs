//! The inventory API's OpenAPI document: generated from [`OPS`] (one
//! operation per route of `ROUTES`, with the query parameters the handlers
//! accept) and the schemas of `starling-inventory-types`. The generated
//! text is kept in `openapi.json`, served at `/openapi.json`; a test
//! regenerates it and fails on any difference (`STARLING_UPDATE_OPENAPI=1`
//! rewrites it).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;
use starling_http::openapi::{
    DocInfo, HEALTH_OPS, Op, ParamKind, QueryParam, document, schemas_of,
};
use starling_inventory_types::{self as wire, hardware as hw};
use starling_sm_types as sm;

/// The document text, as generated.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document_route() -> Response {
    starling_http::json_bytes(StatusCode::OK, DOCUMENT)
}

use ParamKind::{Bool, Int, Str};

const LIMIT: QueryParam = QueryParam::new("limit", Int, "Page size (at most 1000, the default)");
const MARKER: QueryParam = QueryParam::new("marker", Str, "Continue after this uuid");
const SORT_DIR: QueryParam = QueryParam::new("sort_dir", Str, "asc or desc");

/// The host list's parameters.
pub(crate) const HOST_LIST_PARAMS: &[QueryParam] = &[
    LIMIT,
    MARKER,
    QueryParam::new(
        "sort_key",
        Str,
        "id, hostname, personality, administrative, operational, availability or created_at",
    ),
    SORT_DIR,
    QueryParam::new(
        "personality",
        Str,
        "Only hosts of this personality (controller, worker, storage, edgeworker)",
    ),
];

/// A hardware collection's parameters.
pub(crate) const HW_LIST_PARAMS: &[QueryParam] = &[
    LIMIT,
    MARKER,
    QueryParam::new(
        "sort_key",
        Str,
        "Only id: records are in their natural order",
    ),
    SORT_DIR,
];

/// The partition list's parameters.
pub(crate) const PARTITION_PARAMS: &[QueryParam] = &[
    LIMIT,
    MARKER,
    QueryParam::new(
        "sort_key",
        Str,
        "Only id: records are in their natural order",
    ),
    SORT_DIR,
    QueryParam::new("disk_uuid", Str, "Only the partitions of this disk"),
];

/// Label assignment's parameters.
pub(crate) const LABEL_PARAMS: &[QueryParam] = &[QueryParam::new(
    "overwrite",
    Bool,
    "Replace a label's value (otherwise an existing key is refused)",
)];

/// The command poll's parameters.
pub(crate) const POLL_PARAMS: &[QueryParam] = &[QueryParam::new(
    "wait",
    Int,
    "Seconds (0 to 60) to wait for a command when none is pending",
)];

const OK: &str = "OK";

const fn get(
    path: &'static str,
    summary: &'static str,
    query: &'static [QueryParam],
    schema: &'static str,
    errors: &'static [u16],
) -> Op {
    Op::new(
        Method::GET,
        path,
        summary,
        query,
        None,
        (200, OK, Some(schema)),
        errors,
    )
}

/// A hardware collection of a host and its records by uuid.
macro_rules! hardware_ops {
    ($coll:literal, $what:literal, $list:literal, $record:literal, $params:expr) => {
        [
            get(
                concat!("/v1/ihosts/{host}/", $coll),
                concat!("List a host's ", $what),
                $params,
                $list,
                &[400, 404],
            ),
            get(
                concat!("/v1/", $coll, "/{uuid}"),
                concat!("Show one of a host's ", $what),
                &[],
                $record,
                &[404],
            ),
        ]
    };
}

const NODES: [Op; 2] = hardware_ops!(
    "inodes",
    "NUMA nodes",
    "NodeList",
    "NodeRecord",
    HW_LIST_PARAMS
);
const CPUS: [Op; 2] = hardware_ops!("icpus", "CPUs", "CpuList", "CpuRecord", HW_LIST_PARAMS);
const MEMORYS: [Op; 2] = hardware_ops!(
    "imemorys",
    "memory per NUMA node",
    "MemoryList",
    "MemoryRecord",
    HW_LIST_PARAMS
);
const DISKS: [Op; 2] = hardware_ops!("idisks", "disks", "DiskList", "DiskRecord", HW_LIST_PARAMS);
const PARTITIONS: [Op; 2] = hardware_ops!(
    "partitions",
    "disk partitions",
    "PartitionList",
    "PartitionRecord",
    PARTITION_PARAMS
);
const PORTS: [Op; 2] = hardware_ops!("ports", "ports", "PortList", "PortRecord", HW_LIST_PARAMS);
const ETHERNET_PORTS: [Op; 2] = hardware_ops!(
    "ethernet_ports",
    "ethernet ports",
    "EthernetPortList",
    "PortRecord",
    HW_LIST_PARAMS
);
const PCI_DEVICES: [Op; 2] = hardware_ops!(
    "pci_devices",
    "PCI devices",
    "PciDeviceList",
    "PciDeviceRecord",
    HW_LIST_PARAMS
);
const LLDP_AGENTS: [Op; 2] = hardware_ops!(
    "lldp_agents",
    "LLDP agents",
    "LldpAgentList",
    "LldpAgentRecord",
    HW_LIST_PARAMS
);
const LLDP_NEIGHBOURS: [Op; 2] = hardware_ops!(
    "lldp_neighbours",
    "LLDP neighbours",
    "LldpNeighbourList",
    "LldpNeighbourRecord",
    HW_LIST_PARAMS
);

const SENSOR_GROUPS: [Op; 2] = hardware_ops!(
    "isensorgroups",
    "BMC sensor groups",
    "SensorGroupList",
    "SensorGroupRecord",
    HW_LIST_PARAMS
);
const SENSORS: [Op; 2] = hardware_ops!(
    "isensors",
    "BMC sensors",
    "SensorList",
    "SensorRecord",
    HW_LIST_PARAMS
);

/// One operation per route of `ROUTES` but the health routes and the
/// hardware collections (a test holds them equal).
const OPS: &[Op] = &[
    Op::public_get("/", "API versions", "Root"),
    Op::new(
        Method::GET,
        "/openapi.json",
        "This document",
        &[],
        None,
        (200, "OpenAPI document", Some("object")),
        &[],
    ),
    Op::public_get("/v1", "v1 resources", "V1"),
    Op::public_get("/v1/", "v1 resources", "V1"),
    get("/v1/isystems", "The system", &[], "SystemList", &[]),
    get(
        "/v1/isystems/{uuid}",
        "Show the system",
        &[],
        "System",
        &[404],
    ),
    Op::new(
        Method::PATCH,
        "/v1/isystems/{uuid}",
        "Modify the system (name, description, contact, location, timezone)",
        &[],
        Some("JsonPatch"),
        (200, OK, Some("System")),
        &[400, 404],
    ),
    get(
        "/v1/ihosts",
        "List hosts",
        HOST_LIST_PARAMS,
        "HostList",
        &[400, 404],
    ),
    Op::new(
        Method::POST,
        "/v1/ihosts",
        "Add a host (host-add); it is added locked",
        &[],
        Some("HostAdd"),
        (200, OK, Some("Host")),
        &[400, 404, 409],
    ),
    get(
        "/v1/ihosts/detail",
        "List hosts (as /v1/ihosts)",
        HOST_LIST_PARAMS,
        "HostList",
        &[400, 404],
    ),
    Op::new(
        Method::POST,
        "/v1/ihosts/bulk_add",
        "Add every host of a hosts file (XML or YAML; multipart field `file`, or the body), or none",
        &[],
        None,
        (200, OK, Some("BulkAddResult")),
        &[400, 409, 413],
    ),
    get(
        "/v1/ihosts/bulk_export",
        "The provisioned hosts as a hosts file",
        &[],
        "BulkExport",
        &[],
    ),
    get(
        "/v1/ihosts/{host}",
        "Show a host (by hostname, id or uuid)",
        &[],
        "Host",
        &[404],
    ),
    Op::new(
        Method::PATCH,
        "/v1/ihosts/{host}",
        "Update a host's attributes, or act on it (action: lock, unlock, force-lock, force-unlock, swact, force-swact, reboot, reset, reinstall, power-on, power-off)",
        &[],
        Some("JsonPatch"),
        (200, OK, Some("Host")),
        &[400, 404, 409],
    ),
    Op::new(
        Method::DELETE,
        "/v1/ihosts/{host}",
        "Delete a locked host",
        &[],
        None,
        (204, "Deleted", None),
        &[400, 404, 409],
    ),
    Op::new(
        Method::PATCH,
        "/v1/isensors/{uuid}",
        "Change a sensor's operator settings (suppress)",
        &[],
        Some("JsonPatch"),
        (200, OK, Some("SensorRecord")),
        &[400, 404],
    ),
    Op::new(
        Method::PATCH,
        "/v1/isensorgroups/{uuid}",
        "Change a sensor group's operator settings (suppress, actions_minor_group, actions_major_group, actions_critical_group, audit_interval_group)",
        &[],
        Some("JsonPatch"),
        (200, OK, Some("SensorGroupRecord")),
        &[400, 404],
    ),
    get(
        "/v1/isensorgroups/{uuid}/isensors",
        "List the sensors of a sensor group",
        &[],
        "SensorList",
        &[404],
    ),
    get(
        "/v1/servicegroup",
        "List the service groups' assignments to the controllers (relayed from service management; 503 where it does not run)",
        &[],
        "SmServiceGroups",
        &[503],
    ),
    get(
        "/v1/servicegroup/{uuid}",
        "Show a service group's assignment to a controller",
        &[],
        "SmServiceGroup",
        &[404, 503],
    ),
    get(
        "/v1/servicenodes",
        "List the controllers as service management sees them",
        &[],
        "SmNodes",
        &[503],
    ),
    get(
        "/v1/servicenodes/{node}",
        "Show a controller as service management sees it (name or id)",
        &[],
        "SmNode",
        &[404, 503],
    ),
    get(
        "/v1/services",
        "List the services service management runs on this controller",
        &[],
        "SmServices",
        &[503],
    ),
    get(
        "/v1/services/{id}",
        "Show a service (id or name)",
        &[],
        "SmService",
        &[404, 503],
    ),
    get(
        "/v1/ihosts/{host}/labels",
        "List a host's labels",
        HW_LIST_PARAMS,
        "LabelList",
        &[400, 404],
    ),
    get(
        "/v1/labels/{id}",
        "Show a label",
        &[],
        "LabelRecord",
        &[404],
    ),
    Op::new(
        Method::POST,
        "/v1/labels/{id}",
        "Assign labels to the host {id} (hostname, id or uuid)",
        LABEL_PARAMS,
        Some("LabelAssign"),
        (200, "Every label set", Some("LabelList")),
        &[400, 404, 409],
    ),
    Op::new(
        Method::DELETE,
        "/v1/labels/{id}",
        "Remove the label {id} (uuid)",
        &[],
        None,
        (204, "Removed", None),
        &[400, 404, 409],
    ),
    Op::new(
        Method::POST,
        "/v1/agent/register",
        "Starling's agent: introduce a host (201 when it was just discovered); a first registration with the enrollment secret answers the host's own credential in X-Starling-Agent-Token; with a host's credential, only that host (403 otherwise)",
        &[],
        Some("Register"),
        (200, OK, Some("Host")),
        &[400, 404, 409],
    ),
    Op::new(
        Method::PUT,
        "/v1/agent/{host}/report",
        "Starling's agent: report hardware sections",
        &[],
        Some("Report"),
        (200, "What changed per collection", Some("ReportResult")),
        &[400, 404, 409, 413],
    ),
    Op::new(
        Method::GET,
        "/v1/agent/{host}/command",
        "Starling's agent: the pending command, waiting up to `wait` seconds for one",
        POLL_PARAMS,
        None,
        (200, OK, Some("Command")),
        &[400, 404],
    ),
    Op::new(
        Method::PUT,
        "/v1/agent/{host}/command",
        "Starling's agent: how a command ended",
        &[],
        Some("Outcome"),
        (200, "The host after it", Some("OutcomeResult")),
        &[400, 404, 409],
    ),
];

/// Every operation, health routes and hardware collections included.
pub fn operations() -> Vec<Op> {
    HEALTH_OPS
        .iter()
        .chain(OPS)
        .chain(
            [
                NODES,
                CPUS,
                MEMORYS,
                DISKS,
                PARTITIONS,
                PORTS,
                ETHERNET_PORTS,
                PCI_DEVICES,
                LLDP_AGENTS,
                LLDP_NEIGHBOURS,
                SENSOR_GROUPS,
                SENSORS,
            ]
            .iter()
            .flatten(),
        )
        .cloned()
        .collect()
}

/// The document, generated.
pub fn generate() -> Value {
    let mut schemas = Vec::new();
    schemas_of::<wire::Root>(&mut schemas);
    schemas_of::<wire::V1>(&mut schemas);
    schemas_of::<wire::SystemList>(&mut schemas);
    schemas_of::<wire::HostList<'static>>(&mut schemas);
    schemas_of::<wire::HostAdd>(&mut schemas);
    schemas_of::<wire::BulkAddResult>(&mut schemas);
    schemas_of::<wire::BulkExport>(&mut schemas);
    schemas_of::<hw::NodeList>(&mut schemas);
    schemas_of::<hw::CpuList>(&mut schemas);
    schemas_of::<hw::MemoryList>(&mut schemas);
    schemas_of::<hw::DiskList>(&mut schemas);
    schemas_of::<hw::PartitionList>(&mut schemas);
    schemas_of::<hw::PortList>(&mut schemas);
    schemas_of::<hw::EthernetPortList>(&mut schemas);
    schemas_of::<hw::PciDeviceList>(&mut schemas);
    schemas_of::<hw::LldpAgentList>(&mut schemas);
    schemas_of::<hw::LldpNeighbourList>(&mut schemas);
    schemas_of::<hw::LabelList>(&mut schemas);
    schemas_of::<hw::SensorGroupList>(&mut schemas);
    schemas_of::<hw::SensorList>(&mut schemas);
    schemas_of::<hw::LabelAssign>(&mut schemas);
    schemas_of::<wire::Register>(&mut schemas);
    schemas_of::<hw::Report>(&mut schemas);
    schemas_of::<hw::ReportResult>(&mut schemas);
    schemas_of::<wire::Command>(&mut schemas);
    schemas_of::<wire::Outcome>(&mut schemas);
    schemas_of::<wire::OutcomeResult>(&mut schemas);
    schemas_of::<wire::JsonPatch>(&mut schemas);
    schemas_of::<wire::ErrorEnvelope>(&mut schemas);
    schemas_of::<sm::SmServiceGroups>(&mut schemas);
    schemas_of::<sm::SmServiceGroup>(&mut schemas);
    schemas_of::<sm::SmNodes>(&mut schemas);
    schemas_of::<sm::SmNode>(&mut schemas);
    schemas_of::<sm::SmServices>(&mut schemas);
    schemas_of::<sm::SmService>(&mut schemas);
    document(
        &DocInfo {
            title: "Starling Inventory API",
            description: "Wire-compatible with StarlingX sysinv v1 for the system, hosts, their hardware, labels and lifecycle. Differences are listed in docs/compatibility.md.",
            error_schema: "ErrorEnvelope",
            token: "A Keystone-compatible token from the identity service (POST /v3/auth/tokens on port 5000).",
        },
        &operations(),
        schemas,
    )
}
