//! The FM REST API v1 (StarlingX fm-api compatible, port 18002): routes, query
//! parsing, wire shapes and the policy of every route. Thin: each handler parses,
//! runs one domain operation in one store transaction, and renders.

pub mod dto;
mod local;
pub mod openapi;
mod service;

pub use local::LocalAlarms;
pub use service::{FmOptions, FmService, SERVICE};

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use starling_common::{Clock, Timestamp};
use starling_db::Db;
use starling_fm::ops::{self, Limits};
use starling_fm::repo::{
    AlarmField, AlarmQuery, Dir, EventField, EventQuery, FaultRepo, SuppressionQuery,
};
use starling_fm::{Error, EventState, SuppressionStatus};
use starling_fm_store::FmRepo;
use starling_http::stream::{ChunkSender, First};
use starling_http::{
    ApiError, ApiJson, Authenticator, GuardState, PatchOp, QueryPairs, base_url, json, json_bytes,
};

use starling_fm_types as wire;
use starling_wire::Link;

/// StarlingX's default port for the FM API.
pub const DEFAULT_PORT: u16 = 18002;

/// Paging limits of list endpoints.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    /// Page size when the request gives no limit (StarlingX: 2000).
    pub default_limit: u32,
    /// Largest page a request may ask for.
    pub max_limit: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            default_limit: 2000,
            max_limit: 10_000,
        }
    }
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct FmState {
    /// The store.
    pub db: Db,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Domain limits (retention).
    pub limits: Limits,
    /// Paging limits.
    pub paging: Paging,
    /// Signalled after every write, for the notification deliverer.
    pub written: Arc<tokio::sync::Notify>,
}

impl FmState {
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut FmRepo<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, ApiError> {
        let mut f = f;
        self.db
            .read(move |c| f(&mut FmRepo::new(c)))
            .await
            .map_err(ApiError::from)
    }
    /// Runs `write` on a reader thread, which serialises a response body into
    /// the sender as it reads; the body is answered whole when it fits one
    /// chunk, streamed when it does not, and `write`'s error is answered in the
    /// envelope when it fails before the first chunk. Once a chunk has left,
    /// a failure breaks the response off and the read is not run again.
    async fn streamed(
        &self,
        mut write: impl FnMut(&mut FmRepo<'_>, &mut ChunkSender) -> Result<(), Error> + Send + 'static,
    ) -> Result<Response, ApiError> {
        let (mut out, body) = starling_http::stream::chunked();
        let db = self.db.clone();
        let read = tokio::spawn(async move {
            db.read(move |c| {
                out.restart();
                match write(&mut FmRepo::new(c), &mut out) {
                    Ok(()) => {
                        out.finish();
                        Ok(())
                    }
                    Err(e) if out.sent() => {
                        out.abort();
                        // Its bytes have left: a retry would send them again.
                        Err(match e {
                            Error::Storage(f) => {
                                Error::Storage(starling_common::StorageFailure::fatal(f.message))
                            }
                            other => other,
                        })
                    }
                    Err(e) => Err(e),
                }
            })
            .await
        });
        match body.first().await {
            First::Whole(bytes) => Ok(json_bytes(StatusCode::OK, bytes)),
            First::Streaming(body) => Ok(json_bytes(StatusCode::OK, axum::body::Body::new(body))),
            First::Abandoned => match read.await {
                Ok(Err(e)) => Err(ApiError::from(e)),
                Ok(Ok(())) => Err(ApiError::internal("the response was abandoned")),
                Err(e) => Err(ApiError::internal(e)),
            },
        }
    }
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut FmRepo<'_>, Timestamp) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, ApiError> {
        let mut f = f;
        let clock = self.clock.clone();
        let r = self
            .db
            .write(move |c| f(&mut FmRepo::new(c), clock.now()))
            .await
            .map_err(ApiError::from)?;
        self.written.notify_one();
        Ok(r)
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;
const PATCH: Method = Method::PATCH;

/// Every route with its policy; the router below, this table and the
/// OpenAPI document's operations must agree (tests check it).
pub const ROUTES: &[(Method, &str, Option<&str>)] = &[
    (GET, "/", None),
    (GET, "/health", None),
    (GET, "/metrics", None),
    (GET, "/health/live", None),
    (GET, "/health/ready", None),
    (GET, "/openapi.json", Some("fm_api:openapi:get")),
    (GET, "/v1", None),
    (GET, "/v1/", None),
    (GET, "/v1/alarms", Some("fm_api:alarm:get")),
    (POST, "/v1/alarms", Some("fm_api:alarm:create")),
    (DELETE, "/v1/alarms", Some("fm_api:alarm:delete")),
    (POST, "/v1/alarms/batch", Some("fm_api:alarm:create")),
    (GET, "/v1/alarms/detail", Some("fm_api:alarm:get")),
    (GET, "/v1/alarms/summary", Some("fm_api:alarm:get")),
    (GET, "/v1/alarms/{uuid}", Some("fm_api:alarm:get")),
    (PUT, "/v1/alarms/{uuid}", Some("fm_api:alarm:modify")),
    (DELETE, "/v1/alarms/{uuid}", Some("fm_api:alarm:delete")),
    (GET, "/v1/event_log", Some("fm_api:event_log:get")),
    (GET, "/v1/event_log/detail", Some("fm_api:event_log:get")),
    (GET, "/v1/event_log/{uuid}", Some("fm_api:event_log:get")),
    (
        GET,
        "/v1/event_suppression",
        Some("fm_api:event_suppression:get"),
    ),
    (
        GET,
        "/v1/event_suppression/{uuid}",
        Some("fm_api:event_suppression:get"),
    ),
    (
        PATCH,
        "/v1/event_suppression/{uuid}",
        Some("fm_api:event_suppression:modify"),
    ),
];

/// The `/v1` resources, by their full paths: routed in one table with the
/// rest (a nested router would strip its prefix into a new URI per request).
fn resources() -> Router<FmState> {
    Router::new()
        .route(
            "/v1/alarms",
            get(list_alarms).post(post_alarm).delete(clear_within),
        )
        .route("/v1/alarms/batch", axum::routing::post(post_batch))
        .route("/v1/alarms/detail", get(alarms_detail))
        .route("/v1/alarms/summary", get(summary))
        .route(
            "/v1/alarms/{uuid}",
            get(show_alarm).put(put_alarm).delete(delete_alarm),
        )
        .route("/v1/event_log", get(list_events))
        .route("/v1/event_log/detail", get(events_detail))
        .route("/v1/event_log/{uuid}", get(show_event))
        .route("/v1/event_suppression", get(list_suppression))
        .route(
            "/v1/event_suppression/{uuid}",
            get(show_suppression).patch(patch_suppression),
        )
}

/// The FM API router, guarded by `auth`. StarlingX also answers version-less
/// paths (`/alarms` as `/v1/alarms`); those are rewritten before routing.
pub fn router(state: FmState, auth: Arc<dyn Authenticator>) -> Router {
    let guard = GuardState::new(auth, ROUTES, "fm");
    let inner = Router::new()
        .route("/", get(root))
        .merge(starling_service::health(state.db.clone()).routes())
        .merge(starling_service::metrics(
            "fm",
            state.db.clone(),
            None,
            Some(alarm_gauges(state.db.clone())),
        ))
        .route("/openapi.json", get(openapi::document_route))
        .route("/v1", get(v1))
        .route("/v1/", get(v1))
        .merge(resources())
        .fallback(starling_http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            starling_http::DEFAULT_BODY_LIMIT,
        ))
        .with_state(state);
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(version_less)
            .service(inner),
    )
}

/// `/alarms…` → `/v1/alarms…` (StarlingX treats a non-version first segment as v1).
/// FM's gauges at each scrape: the active alarms by severity (suppressed
/// ones included), read from the store.
fn alarm_gauges(db: Db) -> starling_http::metrics::Gauges {
    Arc::new(move || {
        let db = db.clone();
        Box::pin(async move {
            let summary: Result<_, Error> = db.read(|c| FmRepo::new(c).summary(true)).await;
            match summary {
                Ok(s) => starling_http::metrics::gauge(
                    "starling_fm_active_alarms",
                    "Active alarms by severity, suppressed ones included.",
                    &[
                        (vec![("severity", "critical")], s.critical as f64),
                        (vec![("severity", "major")], s.major as f64),
                        (vec![("severity", "minor")], s.minor as f64),
                        (vec![("severity", "warning")], s.warnings as f64),
                    ],
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the alarm summary for /metrics");
                    String::new()
                }
            }
        })
    })
}

fn version_less(mut req: axum::extract::Request) -> axum::extract::Request {
    let path = req.uri().path();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if matches!(first, "alarms" | "event_log" | "event_suppression") {
        let pq = req
            .uri()
            .path_and_query()
            .map_or(path.to_string(), |p| p.as_str().to_string());
        if let Ok(uri) = format!("/v1{pq}").parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

async fn root(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let v = wire::Version {
        id: "v1".into(),
        links: vec![Link::new(format!("{base}/v1/"), "self")],
    };
    json(
        StatusCode::OK,
        &wire::Root {
            default_version: v.clone(),
            description: "Fault Management is an OpenStack project which provides REST API services for alarms and logs.".into(),
            name: "Fault Management API".into(),
            versions: vec![v],
        },
    )
}

async fn v1(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let res = |r: &str| {
        vec![
            Link::new(format!("{base}/v1/{r}/"), "self"),
            Link::new(format!("{base}/{r}/"), "bookmark"),
        ]
    };
    json(
        StatusCode::OK,
        &wire::V1 {
            alarms: res("alarms"),
            event_log: res("event_log"),
            event_suppression: res("event_suppression"),
            id: "v1".into(),
            links: vec![
                Link::new(format!("{base}/v1/"), "self"),
                Link {
                    media_type: Some("application/json".into()),
                    ..Link::new(format!("{base}/openapi.json"), "describedby")
                },
            ],
            media_types: vec![wire::MediaType {
                base: "application/json".into(),
                media_type: "application/vnd.openstack.fm.v1+json".into(),
            }],
        },
    )
}

/// The `q.field/q.op/q.type/q.value` filters, validated: only `eq` (or no op),
/// every value present.
fn q_filters(q: &QueryPairs) -> Result<Vec<(String, String)>, ApiError> {
    let fields = q.all("q.field");
    let ops = q.all("q.op");
    let values = q.all("q.value");
    if values.len() != fields.len() || (!ops.is_empty() && ops.len() != fields.len()) {
        return Err(ApiError::bad_request(
            "q.field, q.op and q.value must be given the same number of times",
        ));
    }
    let mut out = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let op = ops.get(i).copied().unwrap_or("eq");
        if !op.is_empty() && op != "eq" {
            return Err(ApiError::bad_request(format!(
                "Unsupported operator '{op}' for field '{f}': only eq is supported"
            )));
        }
        out.push(((*f).to_string(), values[i].to_string()));
    }
    Ok(out)
}

fn limit(q: &QueryPairs, p: Paging) -> Result<u32, ApiError> {
    match q.last("limit") {
        None | Some("") => Ok(p.default_limit),
        Some(v) => {
            let n: i64 = v.parse().map_err(|_| {
                ApiError::bad_request(format!("Invalid limit '{v}': not an integer"))
            })?;
            if n < 0 {
                return Err(ApiError::bad_request("Limit must be positive"));
            }
            if n == 0 {
                return Ok(p.default_limit);
            }
            Ok(u32::try_from(n).unwrap_or(u32::MAX).min(p.max_limit))
        }
    }
}

fn sort_dir(q: &QueryPairs, default: Dir) -> Result<Dir, ApiError> {
    match q.last("sort_dir") {
        None | Some("") => Ok(default),
        Some(d) => Dir::parse(d).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid sort direction: {d}. Acceptable values are 'asc' or 'desc'"
            ))
        }),
    }
}

/// The comma-separated `sort_key` fields, all in direction `dir`; `None` when absent.
fn sort_keys<F>(
    q: &QueryPairs,
    dir: Dir,
    parse: fn(&str) -> Option<F>,
) -> Result<Option<Vec<(F, Dir)>>, ApiError> {
    match q.last("sort_key") {
        None | Some("") => Ok(None),
        Some(keys) => keys
            .split(',')
            .map(|k| {
                parse(k.trim())
                    .map(|f| (f, dir))
                    .ok_or_else(|| ApiError::bad_request(format!("Invalid sort key '{k}'")))
            })
            .collect::<Result<_, _>>()
            .map(Some),
    }
}

fn marker(q: &QueryPairs) -> Result<Option<String>, ApiError> {
    match q.last("marker") {
        None | Some("") => Ok(None),
        Some(m) if starling_common::is_uuid(m) => Ok(Some(m.to_string())),
        Some(m) => Err(ApiError::bad_request(format!(
            "Invalid marker '{m}': not a uuid"
        ))),
    }
}

/// The `next` link: the same query with the marker moved on.
fn next_link(headers: &HeaderMap, path: &str, q: &QueryPairs, limit: u32, last: &str) -> String {
    let mut ser = form_urlencoded_serializer();
    for (k, v) in &q.0 {
        if k != "marker" && k != "limit" {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("limit", &limit.to_string());
    ser.append_pair("marker", last);
    format!("{}{path}?{}", base_url(headers), ser.finish())
}

fn form_urlencoded_serializer() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::new())
}

fn within(q: &QueryPairs) -> Result<Option<String>, ApiError> {
    match q.last("within") {
        None => Ok(None),
        Some(p) => {
            starling_fm::validate_entity_instance_id(p).map_err(ApiError::from)?;
            Ok(Some(p.to_string()))
        }
    }
}

fn alarm_query(q: &QueryPairs, paging: Paging) -> Result<AlarmQuery, ApiError> {
    q.only_params(openapi::ALARM_PARAMS)?;
    let mut filters = Vec::new();
    for (f, v) in q_filters(q)? {
        match AlarmField::parse(&f).filter(|x| x.filterable()) {
            Some(field) => filters.push((field, v)),
            None => {
                return Err(ApiError::bad_request(format!(
                    "Unknown filter field '{f}': use uuid, alarm_id, entity_type_id, entity_instance_id, severity or alarm_type"
                )));
            }
        }
    }
    let dir = sort_dir(q, Dir::Asc)?;
    let sort = sort_keys(q, dir, AlarmField::parse)?.unwrap_or_else(AlarmQuery::default_sort);
    Ok(AlarmQuery {
        filters,
        within: within(q)?,
        include_suppressed: q.bool("include_suppress")?.unwrap_or(false),
        sort,
        marker: marker(q)?,
        limit: limit(q, paging)?,
    })
}

async fn alarms_page(
    st: FmState,
    headers: HeaderMap,
    raw: Option<String>,
    force_expand: bool,
    path: &'static str,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    let query = alarm_query(&q, st.paging)?;
    let expand = force_expand || q.bool("expand")?.unwrap_or(false);
    let lim = query.limit;
    // Each alarm is serialised on the reader thread as its row is read, and the
    // body leaves in chunks while later rows are still being read: nothing but
    // a chunk is held, and every row is allocated and freed on one thread
    // (glibc frees across threads slowly; 10,000 rows spent a third of their
    // time there).
    st.streamed(move |r, out| {
        out.buf().extend_from_slice(b"{\"alarms\":[");
        let (mut n, mut last, mut failed) = (0usize, None, None);
        if expand {
            r.each_alarm(&query, &mut |v| {
                let body = out.buf();
                if n > 0 {
                    body.push(b',');
                }
                if let Err(e) = serde_json::to_writer(&mut *body, &dto::alarm(&v)) {
                    failed.get_or_insert(e);
                }
                out.flush_full();
                n += 1;
                last = Some(v.alarm.uuid);
            })?;
        } else {
            r.each_alarm_line(&query, &mut |l| {
                let body = out.buf();
                if n > 0 {
                    body.push(b',');
                }
                dto::write_brief(&dto::alarm_brief(&l), body);
                out.flush_full();
                n += 1;
                last = Some(l.uuid);
            })?;
        }
        if let Some(e) = failed {
            return Err(starling_common::StorageFailure::fatal(format!(
                "cannot serialise an alarm: {e}"
            ))
            .into());
        }
        let body = out.buf();
        body.push(b']');
        if let Some(last) = last.filter(|_| n == lim as usize) {
            body.extend_from_slice(b",\"next\":");
            serde_json::to_writer(&mut *body, &next_link(&headers, path, &q, lim, &last))
                .map_err(|e| starling_common::StorageFailure::fatal(e.to_string()))?;
        }
        body.push(b'}');
        Ok(())
    })
    .await
}

async fn list_alarms(
    State(st): State<FmState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    alarms_page(st, headers, raw, false, "/v1/alarms").await
}

async fn alarms_detail(
    State(st): State<FmState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    alarms_page(st, headers, raw, true, "/v1/alarms/detail").await
}

fn uuid_path(u: &str, what: &str) -> Result<String, ApiError> {
    if starling_common::is_uuid(u) {
        Ok(u.to_ascii_lowercase())
    } else {
        Err(ApiError::not_found(format!(
            "{what} {u} could not be found."
        )))
    }
}

async fn show_alarm(
    State(st): State<FmState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = uuid_path(&uuid, "Alarm")?;
    let u = uuid.clone();
    match st.read(move |r| r.alarm_view(&u)).await? {
        Some(v) => Ok(json(StatusCode::OK, &dto::alarm(&v))),
        None => Err(ApiError::not_found(format!(
            "Alarm {uuid} could not be found."
        ))),
    }
}

async fn summary(State(st): State<FmState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    q.only_params(openapi::SUMMARY_PARAMS)?;
    let include = q.bool("include_suppress")?.unwrap_or(false);
    let s = st.read(move |r| r.summary(include)).await?;
    Ok(json(
        StatusCode::OK,
        &wire::Summary {
            critical: s.critical,
            major: s.major,
            minor: s.minor,
            status: s.status().into(),
            warnings: s.warnings,
        },
    ))
}

async fn post_alarm(
    State(st): State<FmState>,
    ApiJson(body): ApiJson<wire::AlarmInput>,
) -> Result<Response, ApiError> {
    let fault = dto::fault_input(body).validate().map_err(ApiError::from)?;
    let limits = st.limits;
    let applied = st
        .write(move |r, now| ops::apply(r, &fault, now, limits))
        .await?;
    Ok(json(
        StatusCode::OK,
        &wire::UuidResult {
            uuid: applied.uuid().map(Into::into),
        },
    ))
}

/// Most entries one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// Starling extension: several set/clear/log reports applied atomically.
async fn post_batch(
    State(st): State<FmState>,
    ApiJson(body): ApiJson<wire::Batch>,
) -> Result<Response, ApiError> {
    if body.alarms.is_empty() {
        return Err(ApiError::bad_request("The batch is empty"));
    }
    if body.alarms.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "A batch holds at most {MAX_BATCH} entries, not {}",
            body.alarms.len()
        )));
    }
    let faults = body
        .alarms
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            dto::fault_input(b)
                .validate()
                .map_err(|e| ApiError::bad_request(format!("entry {i}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let limits = st.limits;
    let applied = st
        .write(move |r, now| ops::apply_batch(r, &faults, now, limits))
        .await?;
    let results = applied.iter().map(batch_result).collect();
    Ok(json(StatusCode::OK, &wire::BatchResults { results }))
}

fn batch_result(a: &ops::Applied) -> wire::BatchResult<'_> {
    let result = match a {
        ops::Applied::Set(o) if o.created => "created",
        ops::Applied::Set(o) if o.changed => "updated",
        ops::Applied::Set(_) => "unchanged",
        ops::Applied::Cleared(u) if u.is_empty() => "not-found",
        ops::Applied::Cleared(_) => "cleared",
        ops::Applied::Logged(_) => "logged",
    };
    wire::BatchResult {
        result: result.into(),
        uuid: a.uuid().map(Into::into),
    }
}

/// Starling extension: hierarchical clear of everything at or under an entity
/// (`DELETE /v1/alarms?entity_instance_id=host=controller-0`).
async fn clear_within(
    State(st): State<FmState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    q.only_params(openapi::CLEAR_PARAMS)?;
    let Some(eid) = q.last("entity_instance_id").map(str::to_string) else {
        return Err(ApiError::bad_request(
            "entity_instance_id is required for a hierarchical clear",
        ));
    };
    let limits = st.limits;
    let n = st
        .write(move |r, now| ops::clear_all(r, &eid, now, limits))
        .await?;
    Ok(json(
        StatusCode::OK,
        &wire::Cleared {
            cleared: u64::try_from(n).unwrap_or(u64::MAX),
        },
    ))
}

async fn put_alarm(
    State(st): State<FmState>,
    Path(uuid): Path<String>,
    ApiJson(body): ApiJson<wire::AlarmInput>,
) -> Result<Response, ApiError> {
    let uuid = uuid_path(&uuid, "Alarm")?;
    let fault = dto::fault_input(body).validate().map_err(ApiError::from)?;
    let limits = st.limits;
    let out = st
        .write(move |r, now| ops::replace_alarm(r, &uuid, &fault, now, limits))
        .await?;
    Ok(json(
        StatusCode::OK,
        &wire::UuidResult {
            uuid: Some(out.uuid.into()),
        },
    ))
}

async fn delete_alarm(
    State(st): State<FmState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = uuid_path(&uuid, "Alarm")?;
    let limits = st.limits;
    st.write(move |r, now| ops::delete_alarm(r, &uuid, now, limits))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn event_query(q: &QueryPairs, paging: Paging, detail: bool) -> Result<EventQuery, ApiError> {
    q.only_params(openapi::EVENT_PARAMS)?;
    let mut filters = Vec::new();
    let (mut start, mut end) = (None, None);
    let when = |v: &str| {
        Timestamp::parse(v)
            .map_err(|_| ApiError::bad_request(format!("Invalid date '{v}' specified")))
    };
    for (f, v) in q_filters(q)? {
        match f.as_str() {
            "start" => start = Some(when(&v)?),
            "end" => end = Some(when(&v)?),
            _ => {
                match EventField::parse(&f).filter(|x| x.filterable() && *x != EventField::State) {
                    Some(field) => filters.push((field, v)),
                    None => {
                        return Err(ApiError::bad_request(format!(
                            "Unknown filter field '{f}': use uuid, event_log_id, entity_type_id, entity_instance_id, severity, event_log_type, start or end"
                        )));
                    }
                }
            }
        }
    }
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ApiError::bad_request("start must not be after end"));
    }
    let alarms = q.bool("alarms")?.unwrap_or(false);
    let logs = q.bool("logs")?.unwrap_or(false);
    let states = match (alarms, logs) {
        (true, false) => vec![EventState::Set, EventState::Clear],
        (false, true) => vec![EventState::Log],
        _ => vec![],
    };
    let (default_key, default_dir) = if detail {
        (EventField::Id, Dir::Asc)
    } else {
        (EventField::Timestamp, Dir::Desc)
    };
    let dir = sort_dir(q, default_dir)?;
    let sort = sort_keys(q, dir, EventField::parse)?.unwrap_or_else(|| vec![(default_key, dir)]);
    Ok(EventQuery {
        filters,
        start,
        end,
        states,
        include_suppressed: q.bool("include_suppress")?.unwrap_or(false),
        sort,
        marker: marker(q)?,
        limit: limit(q, paging)?,
    })
}

async fn events_page(
    st: FmState,
    headers: HeaderMap,
    raw: Option<String>,
    detail: bool,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    // Without an explicit limit the event log answers its largest page (StarlingX
    // answers every row); a `next` link says when there is more.
    let paging = Paging {
        default_limit: st.paging.max_limit,
        ..st.paging
    };
    let query = event_query(&q, paging, detail)?;
    let expand = detail || q.bool("expand")?.unwrap_or(false);
    let lim = query.limit;
    let views = st.read(move |r| r.list_events(&query)).await?;
    let path = if detail {
        "/v1/event_log/detail"
    } else {
        "/v1/event_log"
    };
    let next = (views.len() == lim as usize)
        .then(|| {
            views
                .last()
                .map(|v| next_link(&headers, path, &q, lim, &v.event.uuid))
        })
        .flatten();
    Ok(json(
        StatusCode::OK,
        &wire::EventList {
            event_log: views.iter().map(|v| dto::event(v, expand)).collect(),
            next,
        },
    ))
}

async fn list_events(
    State(st): State<FmState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    events_page(st, headers, raw, false).await
}

async fn events_detail(
    State(st): State<FmState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    events_page(st, headers, raw, true).await
}

async fn show_event(
    State(st): State<FmState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = uuid_path(&uuid, "Event log")?;
    let u = uuid.clone();
    match st.read(move |r| r.event_view(&u)).await? {
        Some(v) => Ok(json(StatusCode::OK, &dto::event(&v, true))),
        None => Err(ApiError::not_found(format!(
            "Event log {uuid} could not be found."
        ))),
    }
}

async fn list_suppression(
    State(st): State<FmState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    q.only_params(openapi::SUPPRESSION_PARAMS)?;
    let mut sq = SuppressionQuery {
        limit: limit(&q, st.paging)?,
        marker: marker(&q)?,
        descending: sort_dir(&q, Dir::Asc)? == Dir::Desc,
        ..SuppressionQuery::default()
    };
    if let Some(k) = q
        .last("sort_key")
        .filter(|k| !k.is_empty() && *k != "alarm_id")
    {
        return Err(ApiError::bad_request(format!(
            "Invalid sort key '{k}': event suppression is sorted by alarm_id"
        )));
    }
    for (f, v) in q_filters(&q)? {
        match f.as_str() {
            "uuid" => sq.uuid = Some(v),
            "alarm_id" => sq.alarm_id = Some(v),
            "description" => sq.description = Some(v),
            "suppression_status" => {
                sq.status = Some(SuppressionStatus::parse(&v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid suppression_status '{v}': expected suppressed or unsuppressed"
                    ))
                })?);
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Unknown filter field '{f}': use uuid, alarm_id, description or suppression_status"
                )));
            }
        }
    }
    let lim = sq.limit;
    let rows = st.read(move |r| r.list_suppressions(&sq)).await?;
    let base = base_url(&headers);
    let next = (rows.len() == lim as usize)
        .then(|| {
            rows.last()
                .map(|s| next_link(&headers, "/v1/event_suppression", &q, lim, &s.uuid))
        })
        .flatten();
    Ok(json(
        StatusCode::OK,
        &wire::SuppressionList {
            event_suppression: rows
                .iter()
                .map(|s| dto::suppression_brief(s, &base))
                .collect(),
            next,
        },
    ))
}

async fn show_suppression(
    State(st): State<FmState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = uuid_path(&uuid, "Event suppression")?;
    let u = uuid.clone();
    match st.read(move |r| r.suppression_by_uuid(&u)).await? {
        Some(s) => Ok(json(
            StatusCode::OK,
            &dto::suppression(&s, &base_url(&headers)),
        )),
        None => Err(ApiError::not_found(format!(
            "Event suppression {uuid} could not be found."
        ))),
    }
}

/// Validates a JSON-Patch on a suppression row: only `suppression_status` may
/// change, to `suppressed` or `unsuppressed` (StarlingX's messages).
fn suppression_patch(ops: &[PatchOp]) -> Result<SuppressionStatus, ApiError> {
    let mut status = None;
    if ops.is_empty() {
        return Err(ApiError::bad_request("The patch is empty"));
    }
    for op in ops {
        if op.op != "replace" && op.op != "add" {
            return Err(ApiError::bad_request(format!(
                "Unsupported patch operation '{}': use replace",
                op.op
            )));
        }
        let field = op.path.trim_start_matches('/');
        match field {
            "suppression_status" => {
                let v = op.value.as_ref().and_then(|v| v.as_str()).unwrap_or("");
                status = Some(SuppressionStatus::parse(v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Invalid event_suppression parameter suppression_status values '{v}': expected suppressed or unsuppressed"
                    ))
                })?);
            }
            "alarm_id" | "description" | "uuid" | "id" | "created_at" | "updated_at" | "links" => {
                return Err(ApiError::bad_request(format!(
                    "event_suppression parameter {field} is not allowed to be updated."
                )));
            }
            _ => {
                return Err(ApiError::bad_request(
                    "event_suppression invalid parameter.",
                ));
            }
        }
    }
    status.ok_or_else(|| ApiError::bad_request("event_suppression invalid parameter."))
}

async fn patch_suppression(
    State(st): State<FmState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let uuid = uuid_path(&uuid, "Event suppression")?;
    let status = suppression_patch(&patch)?;
    let limits = st.limits;
    let row = st
        .write(move |r, now| ops::set_suppression(r, &uuid, status, now, limits))
        .await?;
    Ok(json(
        StatusCode::OK,
        &dto::suppression(&row, &base_url(&headers)),
    ))
}

/// Syncs the alarm catalogue into the suppression table (run at start-up).
pub async fn sync_catalogue(
    st: &FmState,
    entries: Vec<starling_fm::catalogue::CatalogueEntry>,
) -> Result<ops::SyncReport, ApiError> {
    st.write(move |r, now| ops::sync_catalogue(r, &entries, now))
        .await
}

/// Deletes history older than `max_age` (run periodically when configured).
pub async fn purge_events(st: &FmState, max_age: std::time::Duration) -> Result<u64, ApiError> {
    let us = i64::try_from(max_age.as_micros()).unwrap_or(i64::MAX);
    st.write(move |r, now| ops::purge_old_events(r, now, us))
        .await
}
