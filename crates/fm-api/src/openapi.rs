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

const fn p(name: &'static str, kind: ParamKind, description: &'static str) -> QueryParam {
    QueryParam::new(name, kind, description)
}

const Q_FIELD: QueryParam = p(
    "q.field",
    Strs,
    "Filter field (repeatable, parallel to q.op/q.value)",
);
const Q_OP: QueryParam = p("q.op", Strs, "Operator; only eq");
const Q_TYPE: QueryParam = p("q.type", Strs, "Ignored");
const Q_VALUE: QueryParam = p("q.value", Strs, "Exact value to match");
const MARKER: QueryParam = p("marker", Str, "Continue after this uuid");
const LIMIT: QueryParam = p("limit", Int, "Page size (0 or absent: default)");
const SORT_KEY: QueryParam = p("sort_key", Str, "Comma-separated field names");
const SORT_DIR: QueryParam = p("sort_dir", Str, "asc or desc");

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
    p("include_suppress", Bool, "Include suppressed alarm ids"),
    p("expand", Bool, "Full alarm objects"),
    p(
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
    p("include_suppress", Bool, "Include suppressed ids"),
    p("expand", Bool, "Full records"),
    p("alarms", Bool, "Only set/clear"),
    p("logs", Bool, "Only logs"),
];

/// The summary's parameters.
pub(crate) const SUMMARY_PARAMS: &[QueryParam] = &[p(
    "include_suppress",
    Bool,
    "Count suppressed alarm ids too",
)];

/// The hierarchical clear's parameters.
pub(crate) const CLEAR_PARAMS: &[QueryParam] = &[p(
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
    p("sort_key", Str, "Only alarm_id"),
    SORT_DIR,
];

const fn op(
    method: Method,
    path: &'static str,
    summary: &'static str,
    query: &'static [QueryParam],
    body: Option<&'static str>,
    ok: (u16, &'static str, Option<&'static str>),
    errors: &'static [u16],
) -> Op {
    Op::new(method, path, summary, query, body, ok, errors)
}

const fn public(path: &'static str, summary: &'static str, schema: &'static str) -> Op {
    Op::public(
        Method::GET,
        path,
        summary,
        None,
        (200, "OK", Some(schema)),
        &[],
    )
}

const OK: &str = "OK";

/// One operation per route of `ROUTES` but the health routes (a test
/// holds them equal with [`HEALTH_OPS`]).
const OPS: &[Op] = &[
    public("/", "API versions", "Root"),
    op(
        Method::GET,
        "/openapi.json",
        "This document",
        &[],
        None,
        (200, "OpenAPI document", Some("object")),
        &[],
    ),
    public("/v1", "v1 resources", "V1"),
    public("/v1/", "v1 resources", "V1"),
    op(
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
    op(
        Method::POST,
        "/v1/alarms",
        "Set, clear or log (alarm_state set|clear|msg|log)",
        &[],
        Some("AlarmInput"),
        (200, OK, Some("UuidResult")),
        &[400, 404, 409, 413],
    ),
    op(
        Method::DELETE,
        "/v1/alarms",
        "Starling extension: hierarchical clear of every alarm at or under an entity",
        CLEAR_PARAMS,
        None,
        (200, "How many were cleared", Some("Cleared")),
        &[400],
    ),
    op(
        Method::POST,
        "/v1/alarms/batch",
        "Starling extension: several set/clear/log reports applied atomically (at most 1000)",
        &[],
        Some("Batch"),
        (200, "One result per entry, in order", Some("BatchResults")),
        &[400, 409, 413],
    ),
    op(
        Method::GET,
        "/v1/alarms/detail",
        "List active alarms, expanded",
        ALARM_PARAMS,
        None,
        (200, OK, Some("AlarmDetailList")),
        &[400],
    ),
    op(
        Method::GET,
        "/v1/alarms/summary",
        "Counts by severity",
        SUMMARY_PARAMS,
        None,
        (200, OK, Some("Summary")),
        &[400],
    ),
    op(
        Method::GET,
        "/v1/alarms/{uuid}",
        "Show an alarm",
        &[],
        None,
        (200, OK, Some("Alarm")),
        &[404],
    ),
    op(
        Method::PUT,
        "/v1/alarms/{uuid}",
        "Replace an alarm's content",
        &[],
        Some("AlarmInput"),
        (200, OK, Some("UuidResult")),
        &[400, 404, 413],
    ),
    op(
        Method::DELETE,
        "/v1/alarms/{uuid}",
        "Clear an alarm (writes history)",
        &[],
        None,
        (204, "Cleared", None),
        &[404],
    ),
    op(
        Method::GET,
        "/v1/event_log",
        "List history (start/end as q fields)",
        EVENT_PARAMS,
        None,
        (200, OK, Some("EventList")),
        &[400],
    ),
    op(
        Method::GET,
        "/v1/event_log/detail",
        "List history, expanded",
        EVENT_PARAMS,
        None,
        (200, OK, Some("EventList")),
        &[400],
    ),
    op(
        Method::GET,
        "/v1/event_log/{uuid}",
        "Show a record",
        &[],
        None,
        (200, OK, Some("Event")),
        &[404],
    ),
    op(
        Method::GET,
        "/v1/event_suppression",
        "List suppression rows",
        SUPPRESSION_PARAMS,
        None,
        (200, OK, Some("SuppressionList")),
        &[400],
    ),
    op(
        Method::GET,
        "/v1/event_suppression/{uuid}",
        "Show a suppression row",
        &[],
        None,
        (200, OK, Some("Suppression")),
        &[404],
    ),
    op(
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
