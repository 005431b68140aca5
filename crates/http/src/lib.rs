//! HTTP plumbing shared by every Starling API: the StarlingX error envelope
//! ([`ApiError`]), the one guard where authentication and policy are enforced for
//! every route ([`guard`]), strict JSON and query extractors, and serving.
//!
//! Architecture invariant: no service-specific logic lives here; services give
//! their routes and a policy table, this crate gives everything around them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub use axum::http::HeaderMap;

pub mod health;
pub mod json_text;
pub mod metrics;
pub mod openapi;
pub mod serve;
pub mod stream;
pub mod tls;
mod token_cache;
pub use token_cache::TokenCache;
pub mod upload;

/// Largest request body any Starling API accepts by default (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// An error answered in StarlingX's envelope:
/// `{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"…\", \"debuginfo\": null}"}`
/// (the inner document is a JSON string, as WSME produces and cgtsclient parses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The fault string shown to the user.
    pub message: String,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// 400.
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    /// 404.
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, m)
    }
    /// 409.
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    /// 401.
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    /// 403.
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    /// 500; the detail is logged here, where it is handled, and not sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }
    /// 503, for transient overload or conflicts the client may retry.
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, m)
    }

    /// The envelope body.
    pub fn body(&self) -> String {
        let fault = serde_json::json!({
            "faultcode": if self.status.is_server_error() { "Server" } else { "Client" },
            "faultstring": self.message,
            "debuginfo": null,
        });
        serde_json::json!({ "error_message": fault.to_string() }).to_string()
    }
}

impl From<starling_common::StorageFailure> for ApiError {
    /// A transient conflict is a 503 the client may retry; anything else is
    /// a 500 whose detail goes to the log only.
    fn from(f: starling_common::StorageFailure) -> Self {
        if f.is_retryable() {
            tracing::warn!(message = %f.message, "transient storage conflict");
            ApiError::unavailable("The request conflicted with another; retry it")
        } else {
            ApiError::internal(f.message)
        }
    }
}

impl From<starling_common::Error> for ApiError {
    fn from(e: starling_common::Error) -> Self {
        use starling_common::Error as E;
        match e {
            E::Invalid(m) => ApiError::bad_request(m),
            E::NotFound(m) => ApiError::not_found(m),
            E::Conflict(m) => ApiError::conflict(m),
            E::Forbidden(m) => ApiError::forbidden(m),
            E::Storage(f) => f.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_bytes(self.status, self.body())
    }
}

/// A JSON response (`application/json`); a body that cannot be serialised
/// is a 500 in the envelope.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(b) => json_bytes(status, b),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// A JSON response from a body already serialised (`application/json`).
pub fn json_bytes(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response()
}

pub use starling_wire::PatchOp;

/// Checks a JSON-Patch as StarlingX does: not empty; every op is add,
/// replace or remove; every path is `/name(/name)*` of `[A-Za-z0-9_-]`;
/// add and replace carry a value. Returns each `(attribute path without the
/// leading slash, value)`, with `None` for a removal.
pub fn check_patch(ops: &[PatchOp]) -> Result<Vec<(String, Option<serde_json::Value>)>, ApiError> {
    if ops.is_empty() {
        return Err(ApiError::bad_request("The patch is empty"));
    }
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let valid_path = op.path.starts_with('/')
            && op.path[1..].split('/').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if !valid_path {
            return Err(ApiError::bad_request(format!(
                "Invalid patch path '{}': expected /attribute",
                op.path
            )));
        }
        let name = op.path[1..].to_string();
        match op.op.as_str() {
            "add" | "replace" => match &op.value {
                Some(v) => out.push((name, Some(v.clone()))),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "Patch operation '{}' on {} needs a value",
                        op.op, op.path
                    )));
                }
            },
            "remove" => out.push((name, None)),
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unsupported patch operation '{other}': expected add, replace or remove"
                )));
            }
        }
    }
    Ok(out)
}

/// The whole request body; too large is 413, unreadable 400, in the envelope.
pub(crate) async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, "Request body is too large")
            } else {
                ApiError::bad_request(format!("Cannot read request body: {e}"))
            }
        })
}

/// A JSON body parsed strictly: malformed JSON, wrong types, unknown fields
/// (where the type denies them) and oversized bodies are 400/413 in the envelope.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                "Request body is empty; JSON expected",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
    }
}

/// The raw query string as ordered (name, value) pairs; repeated names allowed
/// (`q.field=a&q.field=b`).
#[derive(Debug, Default, Clone)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// Parses `a=1&b=2`.
    pub fn parse(q: Option<&str>) -> Self {
        QueryPairs(
            q.map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }
    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The last value of `name`.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// 400 naming the first parameter not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(ApiError::bad_request(format!(
                "Unknown query parameter '{k}'"
            ))),
            None => Ok(()),
        }
    }
    /// A boolean parameter (`true/false`, `True/False`, `1/0`, `yes/no`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.last(name) {
            None => Ok(None),
            Some(v) => parse_bool(v).map(Some).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid value '{v}' for {name}: expected true or false"
                ))
            }),
        }
    }
}

/// Parses the boolean spellings StarlingX clients use.
pub use starling_wire::parse_bool;

/// The message of every 401 (Keystone's).
pub const AUTH_REQUIRED: &str = "The request you have made requires authentication.";

/// Who made a request, as established by the [`Authenticator`]. The guard puts
/// it in the request's extensions, shared (`Arc`: a validation cache hands the
/// same principal to every request of a token without copying it), so handlers
/// that need the caller (`Extension<Arc<Principal>>`) find it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: String,
    /// User name.
    pub user: String,
    /// Project (tenant) name; empty when the token is not project-scoped.
    pub project: String,
    /// The id of the project's domain; empty when not project-scoped.
    pub project_domain_id: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Set when the caller is a host agent with a credential of its own
    /// rather than an identity user: what it may speak for.
    pub agent: Option<AgentScope>,
}

impl Principal {
    /// The agent of host `uuid` (named `name`), speaking with its own
    /// credential: no user, project or role, only its host.
    pub fn host_agent(uuid: &str, name: &str) -> Principal {
        Principal {
            user_id: uuid.to_string(),
            user: format!("agent of {name}"),
            project: String::new(),
            project_domain_id: String::new(),
            roles: Vec::new(),
            agent: Some(AgentScope::Host(uuid.to_string())),
        }
    }
}

/// What a host agent's own credential lets it speak for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentScope {
    /// The host of this uuid, and nothing else.
    Host(String),
    /// Only a first registration: the cloud's enrollment secret.
    Enrollment,
}

/// A boxed future, as [`Authenticator`] returns.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Authenticates a request and decides a named policy: the identity layer
/// implements it (in-process or against a remote identity service).
pub trait Authenticator: Send + Sync + 'static {
    /// Establishes the caller from the request headers and checks `policy`.
    /// Errors are 401 (who are you) or 403 (not allowed).
    fn authorize<'a>(
        &'a self,
        headers: &'a HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>>;
}

/// Lets every request through as an anonymous admin. For tests of a service's
/// own routes and for embedding; `starlingd` never runs with it.
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenAccess;

impl Authenticator for OpenAccess {
    fn authorize<'a>(
        &'a self,
        _headers: &'a HeaderMap,
        _policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        Box::pin(std::future::ready(Ok(Arc::new(Principal {
            user_id: String::new(),
            user: "anonymous".into(),
            project: "admin".into(),
            project_domain_id: "default".into(),
            roles: vec!["admin".into()],
            agent: None,
        }))))
    }
}

/// A route's methods, each with its policy name; `None` means anonymous
/// (version documents, health).
pub type RoutePolicies = Vec<(Method, Option<&'static str>)>;

/// Maps a route's path template to its methods' policies.
pub type PolicyTable = Arc<HashMap<&'static str, RoutePolicies>>;

/// Builds a [`PolicyTable`] from a service's `(method, path template, policy)` list.
pub fn policy_table(routes: &[(Method, &'static str, Option<&'static str>)]) -> PolicyTable {
    let mut m: HashMap<&'static str, RoutePolicies> = HashMap::new();
    for (method, path, policy) in routes {
        m.entry(path).or_default().push((method.clone(), *policy));
    }
    Arc::new(m)
}

/// Renders the guard's refusals in a service's own envelope.
pub type Render = fn(ApiError) -> Response;

/// State of the guard middleware.
#[derive(Clone)]
pub struct GuardState {
    /// The authenticator.
    pub auth: Arc<dyn Authenticator>,
    /// The policy of each route.
    pub policies: PolicyTable,
    /// Service name for audit lines.
    pub service: &'static str,
    /// How refusals are rendered (StarlingX's envelope: `ApiError::into_response`).
    pub render: Render,
}

impl GuardState {
    /// A guard answering in StarlingX's envelope.
    pub fn new(
        auth: Arc<dyn Authenticator>,
        routes: &[(Method, &'static str, Option<&'static str>)],
        service: &'static str,
    ) -> Self {
        GuardState {
            auth,
            policies: policy_table(routes),
            service,
            render: IntoResponse::into_response,
        }
    }
}

/// The one place every request passes: finds the route's policy, authorizes
/// (routes without an entry are refused: secure by default), and writes an audit
/// line for every mutating request. The audit line names the path, never the
/// query string or body, so no secret reaches the log.
pub async fn guard(State(g): State<GuardState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The route's entry in the policy table, looked up once for the
    // policy, a 405's `Allow` and the metrics' route label.
    let matched = req.extensions().get::<MatchedPath>();
    let route = Route {
        matched: matched.is_some(),
        entry: matched
            .and_then(|t| g.policies.get_key_value(t.as_str()))
            .map(|(k, methods)| (*k, methods)),
    };
    let id = format!("req-{}", starling_common::new_uuid());
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let at = Audited { id: &id, peer };
    let mut resp = guarded(&g, req, next, &method, route, started, at).await;
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    let label = route.entry.map_or(metrics::UNMATCHED, |(k, _)| k);
    metrics::HTTP.observe(g.service, label, &method, resp.status(), started.elapsed());
    resp
}

/// The route a request matched: whether the router matched one, and that
/// route's template and methods in the policy table.
#[derive(Clone, Copy)]
struct Route<'a> {
    matched: bool,
    entry: Option<(&'static str, &'a RoutePolicies)>,
}

/// The header every answer carries, as OpenStack services send it; the
/// audit line names the same id.
pub const REQUEST_ID: &str = "x-openstack-request-id";

async fn guarded(
    g: &GuardState,
    mut req: Request,
    next: Next,
    method: &Method,
    route: Route<'_>,
    started: Instant,
    at: Audited<'_>,
) -> Response {
    let policy = if route.matched {
        route
            .entry
            .and_then(|(_, methods)| {
                // HEAD is a GET without a body unless the route says otherwise.
                methods.iter().find(|(m, _)| m == method).or_else(|| {
                    (*method == Method::HEAD)
                        .then(|| methods.iter().find(|(m, _)| *m == Method::GET))
                        .flatten()
                })
            })
            .map(|(_, pol)| *pol)
    } else {
        // Unmatched routes fall through to the 404/405 answer.
        Some(None)
    };
    let mutating = *method != Method::GET && *method != Method::HEAD;
    let principal = match policy {
        Some(None) => None,
        Some(Some(p)) => match g.auth.authorize(req.headers(), p).await {
            Ok(pr) => Some(pr),
            Err(e) => {
                let status = e.status;
                let resp = (g.render)(e);
                if mutating || status == StatusCode::FORBIDDEN {
                    audit(g, None, method, req.uri().path(), status, started, at);
                }
                return resp;
            }
        },
        None => {
            let path = req.uri().path();
            // The path exists but not with this method (OPTIONS and TRACE
            // included): 405 naming the methods it has, not a refusal that
            // would read as a missing permission.
            let allowed = route
                .entry
                .map(|(_, methods)| allow_list(methods.iter().map(|(m, _)| m)));
            return match allowed {
                Some(allow) => {
                    let mut resp = (g.render)(ApiError::new(
                        StatusCode::METHOD_NOT_ALLOWED,
                        format!("{method} is not allowed on {path}: use {allow}"),
                    ));
                    if let Ok(v) = axum::http::HeaderValue::from_str(&allow) {
                        resp.headers_mut().insert(axum::http::header::ALLOW, v);
                    }
                    resp
                }
                None => (g.render)(ApiError::forbidden(format!(
                    "Access to {method} {path} is not permitted"
                ))),
            };
        }
    };
    let path = mutating.then(|| req.uri().path().to_string());
    if let Some(p) = &principal {
        req.extensions_mut().insert(p.clone());
    }
    let resp = next.run(req).await;
    if let Some(path) = path {
        audit(
            g,
            principal.as_deref(),
            method,
            &path,
            resp.status(),
            started,
            at,
        );
    }
    resp
}

/// Which request an audit line is about: its id and the client's address.
#[derive(Clone, Copy)]
struct Audited<'a> {
    id: &'a str,
    peer: Option<std::net::SocketAddr>,
}

/// The `Allow` value of a path with `methods` (HEAD wherever GET is).
fn allow_list<'a>(methods: impl Iterator<Item = &'a Method>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for m in methods {
        names.push(m.as_str());
        if *m == Method::GET {
            names.push("HEAD");
        }
    }
    let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(order.len()));
    names.dedup();
    names.join(", ")
}

fn audit(
    g: &GuardState,
    who: Option<&Principal>,
    method: &Method,
    path: &str,
    status: StatusCode,
    started: Instant,
    at: Audited<'_>,
) {
    let (user, project) = who.map_or(("-", "-"), |p| (p.user.as_str(), p.project.as_str()));
    let client = at
        .peer
        .map_or_else(|| "-".to_string(), |a| a.ip().to_string());
    tracing::info!(
        target: "audit",
        service = g.service,
        request_id = at.id,
        client,
        user,
        project,
        %method,
        path,
        status = status.as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
}

/// Answer for unknown paths, in the envelope.
pub async fn not_found(req: Request) -> ApiError {
    ApiError::not_found(format!(
        "The resource could not be found: {}",
        req.uri().path()
    ))
}

/// Serves `router` on `listener` within the default [`serve::Limits`]
/// until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve::run(listener, None, router, shutdown, serve::Limits::default()).await
}

/// Turns Nagle's algorithm off on an accepted connection. A response written
/// in several parts (a streamed list) otherwise ends with a small segment
/// held back until the client acknowledges the one before, and clients delay
/// their acknowledgements: ~40 ms stalls on loopback.
pub(crate) fn no_delay(s: &tokio::net::TcpStream) {
    if let Err(e) = s.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
}

/// Serves `router` over HTTPS on `listener` within the default
/// [`serve::Limits`] until `shutdown` resolves. Links the services build
/// ([`base_url`]) say `https`.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve::run(
        listener,
        Some(config),
        router,
        shutdown,
        serve::Limits::default(),
    )
    .await
}

/// `http://host` of the request, for links (`Host` header; 127.0.0.1 if absent).
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_is_double_encoded_like_wsme() {
        let e = ApiError::bad_request("bad \"thing\"");
        let outer: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        let inner: serde_json::Value =
            serde_json::from_str(outer["error_message"].as_str().unwrap()).unwrap();
        assert_eq!(inner["faultstring"], "bad \"thing\"");
        assert_eq!(inner["faultcode"], "Client");
        let s = ApiError::unavailable("later");
        assert!(s.body().contains("Server"));
    }

    #[test]
    fn query_pairs_keep_repeats_and_order() {
        let q = QueryPairs::parse(Some(
            "q.field=severity&q.field=alarm_id&q.op=eq&q.op=eq&q.type=&q.type=&q.value=minor&q.value=100.114&include_suppress=True",
        ));
        assert_eq!(q.all("q.field"), vec!["severity", "alarm_id"]);
        assert_eq!(q.all("q.type"), vec!["", ""]);
        assert_eq!(q.bool("include_suppress").unwrap(), Some(true));
        assert!(q.only(&["q.field", "q.op", "q.type", "q.value"]).is_err());
        assert!(QueryPairs::parse(Some("x=maybe")).bool("x").is_err());
    }

    #[test]
    fn base_url_from_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "10.0.0.1:18002".parse().unwrap());
        assert_eq!(base_url(&h), "http://10.0.0.1:18002");
        assert_eq!(base_url(&HeaderMap::new()), "http://127.0.0.1");
    }
}
