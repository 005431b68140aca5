//! The FM API's OpenAPI document: generated from [`OPS`] (one operation per
//! route of `ROUTES`, with the query parameters the handlers accept) and
//! the schemas of `starling-fm-types`. The generated text is kept in
//! `openapi.json`, served at `/openapi.json`; a test regenerates it and
//! fails on any difference (`STARLING_UPDATE_OPENAPI=1` rewrites it).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;
use starling_fm_types as wire;
use starling_http::openapi::{
    DocInfo, HEALTH_OPS, Op, ParamKind, QueryParam, document, schemas_of,
};

/// The document text, as generated.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document_route() -> Response {
    starling_http::json_bytes(StatusCode::OK, DOCUMENT)
}

use ParamKind::{Bool, Int, Str, Strs};

const Q_FIELD: QueryParam = QueryParam::new(
    "q.field",
    Strs,
    "Filter field (repeatable, parallel to q.op/q.value)",
);
const Q_OP: QueryParam = QueryParam::new("q.op", Strs, "Operator; only eq");
const Q_TYPE: QueryParam = QueryParam::new("q.type", Strs, "Ignored");
const Q_VALUE: QueryParam = QueryParam::new("q.value", Strs, "Exact value to match");
const MARKER: QueryParam = QueryParam::new("marker", Str, "Continue after this uuid");
const LIMIT: QueryParam = QueryParam::new("limit", Int, "Page size (0 or absent: default)");
const SORT_KEY: QueryParam = QueryParam::new("sort_key", Str, "Comma-separated field names");
const SORT_DIR: QueryParam = QueryParam::new("sort_dir", Str, "asc or desc");

/// The alarm lists' parameters (`/v1/alarms`, `/v1/alarms/detail`).
pub(crate) const ALARM_PARAMS: &[QueryParam] = &[
    Q_FIELD,
    Q_OP,
    Q_TYPE,
    Q_VALUE,
    MARKER,
    LIMIT,
    SORT_KEY,
    SORT_DIR,
    QueryParam::new("include_suppress", Bool, "Include suppressed alarm ids"),
    QueryParam::new("expand", Bool, "Full alarm objects"),
    QueryParam::new(
        "within",
        Str,
        "Starling extension: only alarms at or under this entity instance id (boundary-aware)",
    ),
];

/// The event-log lists' parameters.
pub(crate) const EVENT_PARAMS: &[QueryParam] = &[
    Q_FIELD,
    Q_OP,
    Q_TYPE,
    Q_VALUE,
    MARKER,
    LIMIT,
    SORT_KEY,
    SORT_DIR,
    QueryParam::new("include_suppress", Bool, "Include suppressed ids"),
    QueryParam::new("expand", Bool, "Full records"),
    QueryParam::new("alarms", Bool, "Only set/clear"),
    QueryParam::new("logs", Bool, "Only logs"),
];

/// The summary's parameters.
pub(crate) const SUMMARY_PARAMS: &[QueryParam] = &[QueryParam::new(
    "include_suppress",
    Bool,
    "Count suppressed alarm ids too",
)];

/// The hierarchical clear's parameters.
pub(crate) const CLEAR_PARAMS: &[QueryParam] = &[QueryParam::new(
    "entity_instance_id",
    Str,
    "The entity: every alarm at or under it is cleared (required)",
)];

/// The suppression list's parameters.
pub(crate) const SUPPRESSION_PARAMS: &[QueryParam] = &[
    Q_FIELD,
    Q_OP,
    Q_TYPE,
    Q_VALUE,
    MARKER,
    LIMIT,
    QueryParam::new("sort_key", Str, "Only alarm_id"),
    SORT_DIR,
];

const OK: &str = "OK";

/// One operation per route of `ROUTES` but the health routes (a test
/// holds them equal with [`HEALTH_OPS`]).
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
    Op::new(
        Method::GET,
        "/v1/alarms",
        "List active alarms",
        ALARM_PARAMS,
        None,
        (
            200,
            "A page of alarms (in full with expand=true: AlarmDetailList)",
            Some("AlarmList"),
        ),
        &[400],
    ),
    Op::new(
        Method::POST,
        "/v1/alarms",
        "Set, clear or log (alarm_state set|clear|msg|log)",
        &[],
        Some("AlarmInput"),
        (200, OK, Some("UuidResult")),
        &[400, 404, 409, 413],
    ),
    Op::new(
        Method::DELETE,
        "/v1/alarms",
        "Starling extension: hierarchical clear of every alarm at or under an entity",
        CLEAR_PARAMS,
        None,
        (200, "How many were cleared", Some("Cleared")),
        &[400],
    ),
    Op::new(
        Method::POST,
        "/v1/alarms/batch",
        "Starling extension: several set/clear/log reports applied atomically (at most 1000)",
        &[],
        Some("Batch"),
        (200, "One result per entry, in order", Some("BatchResults")),
        &[400, 409, 413],
    ),
    Op::new(
        Method::GET,
        "/v1/alarms/detail",
        "List active alarms, expanded",
        ALARM_PARAMS,
        None,
        (200, OK, Some("AlarmDetailList")),
        &[400],
    ),
    Op::new(
        Method::GET,
        "/v1/alarms/summary",
        "Counts by severity",
        SUMMARY_PARAMS,
        None,
        (200, OK, Some("Summary")),
        &[400],
    ),
    Op::new(
        Method::GET,
        "/v1/alarms/{uuid}",
        "Show an alarm",
        &[],
        None,
        (200, OK, Some("Alarm")),
        &[404],
    ),
    Op::new(
        Method::PUT,
        "/v1/alarms/{uuid}",
        "Replace an alarm's content",
        &[],
        Some("AlarmInput"),
        (200, OK, Some("UuidResult")),
        &[400, 404, 413],
    ),
    Op::new(
        Method::DELETE,
        "/v1/alarms/{uuid}",
        "Clear an alarm (writes history)",
        &[],
        None,
        (204, "Cleared", None),
        &[404],
    ),
    Op::new(
        Method::GET,
        "/v1/event_log",
        "List history (start/end as q fields)",
        EVENT_PARAMS,
        None,
        (200, OK, Some("EventList")),
        &[400],
    ),
    Op::new(
        Method::GET,
        "/v1/event_log/detail",
        "List history, expanded",
        EVENT_PARAMS,
        None,
        (200, OK, Some("EventList")),
        &[400],
    ),
    Op::new(
        Method::GET,
        "/v1/event_log/{uuid}",
        "Show a record",
        &[],
        None,
        (200, OK, Some("Event")),
        &[404],
    ),
    Op::new(
        Method::GET,
        "/v1/event_suppression",
        "List suppression rows",
        SUPPRESSION_PARAMS,
        None,
        (200, OK, Some("SuppressionList")),
        &[400],
    ),
    Op::new(
        Method::GET,
        "/v1/event_suppression/{uuid}",
        "Show a suppression row",
        &[],
        None,
        (200, OK, Some("Suppression")),
        &[404],
    ),
    Op::new(
        Method::PATCH,
        "/v1/event_suppression/{uuid}",
        "JSON-Patch suppression_status (a list of PatchOp)",
        &[],
        Some("JsonPatch"),
        (200, OK, Some("Suppression")),
        &[400, 404, 413],
    ),
];

/// Every operation, one per route of `ROUTES`.
pub fn operations() -> Vec<Op> {
    HEALTH_OPS.iter().chain(OPS).cloned().collect()
}

/// The document, generated.
pub fn generate() -> Value {
    let mut schemas = Vec::new();
    schemas_of::<wire::Root<'static>>(&mut schemas);
    schemas_of::<wire::V1<'static>>(&mut schemas);
    schemas_of::<wire::AlarmList<'static>>(&mut schemas);
    schemas_of::<wire::AlarmDetailList<'static>>(&mut schemas);
    schemas_of::<wire::AlarmInput>(&mut schemas);
    schemas_of::<wire::UuidResult<'static>>(&mut schemas);
    schemas_of::<wire::Cleared>(&mut schemas);
    schemas_of::<wire::Batch>(&mut schemas);
    schemas_of::<wire::BatchResults<'static>>(&mut schemas);
    schemas_of::<wire::Summary>(&mut schemas);
    schemas_of::<wire::Alarm<'static>>(&mut schemas);
    schemas_of::<wire::EventList<'static>>(&mut schemas);
    schemas_of::<wire::SuppressionList<'static>>(&mut schemas);
    schemas_of::<wire::Suppression<'static>>(&mut schemas);
    schemas_of::<starling_wire::JsonPatch>(&mut schemas);
    schemas_of::<wire::ErrorEnvelope>(&mut schemas);
    document(
        &DocInfo {
            title: "Starling Fault Management API",
            description: "Wire-compatible with StarlingX fm-api v1. Differences are listed in docs/compatibility.md.",
            error_schema: "ErrorEnvelope",
            token: "A Keystone-compatible token from the identity service (POST /v3/auth/tokens on port 5000).",
        },
        &operations(),
        schemas,
    )
}
