//! The identity API, Keystone v3 compatible (the subset OpenStack and
//! StarlingX clients use), on port 5000: version discovery, password and
//! token logins, token validation and revocation, and administration of
//! domains, projects, users, roles, role assignments, services, endpoints and
//! regions. Thin: each handler parses, runs identity rules in one store
//! transaction, and renders Keystone's JSON.
//!
//! Errors use Keystone's envelope (`{"error": {"code", "title", "message"}}`),
//! which keystoneauth parses, not StarlingX's.

mod body;
pub mod boot;
pub mod openapi;
mod render;
mod resources;
mod service;
mod tokens;

pub use service::{ADMIN, IdentityOptions, IdentityService, SERVICE, auth_settings};

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use starling_auth::TokenCache;
use starling_common::{Clock, Timestamp};
use starling_db::Db;
use starling_http::{ApiError, Authenticator, GuardState};
use starling_identity::Error;
use starling_identity::ops::AuthSettings;
use starling_identity::password::PasswordRules;
use starling_identity::repo::IdentityRepo;
use starling_identity_store::IdentityStore;

/// Keystone's port.
pub const DEFAULT_PORT: u16 = 5000;

/// Keystone's limit on request bodies (`max_request_body_size`).
pub const BODY_LIMIT: usize = 114_688;

/// Everything a handler needs.
#[derive(Clone)]
pub struct IdentityState {
    /// The store.
    pub db: Db,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Token lifetime and lockout.
    pub settings: AuthSettings,
    /// What new passwords must satisfy.
    pub password_rules: PasswordRules,
    /// The validation cache shared with this process's services; cleared
    /// when identity records change, a revoked token is evicted at once.
    pub cache: Arc<TokenCache>,
    /// Bounds concurrent password hashing (each argon2id run holds 19 MiB).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Set while the bootstrap accounts are still being created (a first
    /// start hashes the admin's password beside serving): a login waits for
    /// it to turn true, and is refused as unavailable if it never will.
    pub ready: Option<tokio::sync::watch::Receiver<bool>>,
}

impl IdentityState {
    /// State with default settings over `db`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, cache: Arc<TokenCache>) -> Self {
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        IdentityState {
            db,
            clock,
            settings: AuthSettings::default(),
            password_rules: PasswordRules::default(),
            cache,
            hashing: Arc::new(tokio::sync::Semaphore::new(slots)),
            ready: None,
        }
    }

    /// Waits until the bootstrap accounts exist.
    async fn bootstrapped(&self) -> Result<(), KsError> {
        if let Some(r) = &self.ready {
            let mut r = r.clone();
            if r.wait_for(|done| *done).await.is_err() {
                return Err(KsError(ApiError::unavailable(
                    "The identity service could not create its accounts; see its log",
                )));
            }
        }
        Ok(())
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut dyn IdentityRepo) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, KsError> {
        let mut f = f;
        self.db
            .read(move |c| f(&mut IdentityStore::new(c)))
            .await
            .map_err(KsError::from)
    }

    /// A write by an administrator: validation results cached in this
    /// process may no longer hold, so the cache is emptied after the commit.
    async fn admin_write<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut dyn IdentityRepo, Timestamp) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, KsError> {
        let r = self.write(f).await?;
        self.cache.clear();
        Ok(r)
    }

    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut dyn IdentityRepo, Timestamp) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, KsError> {
        let mut f = f;
        let clock = self.clock.clone();
        self.db
            .write(move |c| f(&mut IdentityStore::new(c), clock.now()))
            .await
            .map_err(KsError::from)
    }

    /// Runs a slow password operation off the async workers, at most
    /// `hashing` at a time.
    async fn hashing<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, KsError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| KsError(ApiError::internal(e)))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| KsError(ApiError::internal(e)))
    }
}

/// An error in Keystone's envelope.
#[derive(Debug)]
pub struct KsError(pub ApiError);

impl KsError {
    fn bad_request(m: impl Into<String>) -> Self {
        KsError(ApiError::bad_request(m))
    }
}

impl From<Error> for KsError {
    fn from(e: Error) -> Self {
        KsError(match e {
            Error::Invalid(m) => ApiError::bad_request(m),
            Error::NotFound(m) => ApiError::not_found(m),
            Error::Conflict(m) => ApiError::conflict(m),
            Error::Forbidden(m) => ApiError::forbidden(m),
            e @ Error::Unauthorized { .. } => starling_auth::refusal(e),
            e @ Error::Storage { .. } => starling_auth::refusal(e),
        })
    }
}

fn title(s: StatusCode) -> &'static str {
    match s.as_u16() {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        503 => "Service Unavailable",
        _ => s.canonical_reason().unwrap_or("Error"),
    }
}

/// Renders an [`ApiError`] as Keystone does; a 401 carries
/// `WWW-Authenticate: Keystone uri=…` as Keystone's does.
pub fn render_error(e: ApiError) -> Response {
    let body = starling_identity_types::ErrorBody {
        error: starling_identity_types::KeystoneError {
            code: e.status.as_u16(),
            message: e.message.as_str().into(),
            title: title(e.status).into(),
        },
    };
    let text = serde_json::to_string(&body).unwrap_or_default();
    let mut resp = starling_http::json_bytes(e.status, text);
    if e.status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Keystone uri=\"/v3\""),
        );
    }
    resp
}

impl IntoResponse for KsError {
    fn into_response(self) -> Response {
        render_error(self.0)
    }
}

pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(b) => starling_http::json_bytes(status, b),
        Err(e) => KsError(ApiError::internal(e)).into_response(),
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// Every route with its policy (Keystone's policy names); the router and
/// this table must agree (a test checks it).
pub const ROUTES: &[(Method, &str, Option<&str>)] = &[
    (GET, "/", None),
    (GET, "/health", None),
    (GET, "/metrics", None),
    (GET, "/health/live", None),
    (GET, "/health/ready", None),
    (GET, "/openapi.json", None),
    (GET, "/v3", None),
    (GET, "/v3/", None),
    (POST, "/v3/auth/tokens", None),
    (GET, "/v3/auth/tokens", Some("identity:validate_token")),
    (
        Method::HEAD,
        "/v3/auth/tokens",
        Some("identity:check_token"),
    ),
    (DELETE, "/v3/auth/tokens", Some("identity:revoke_token")),
    (GET, "/v3/auth/catalog", Some("identity:get_auth_catalog")),
    (GET, "/v3/auth/projects", Some("identity:get_auth_projects")),
    (GET, "/v3/domains", Some("identity:list_domains")),
    (POST, "/v3/domains", Some("identity:create_domain")),
    (GET, "/v3/domains/{id}", Some("identity:get_domain")),
    (PATCH, "/v3/domains/{id}", Some("identity:update_domain")),
    (DELETE, "/v3/domains/{id}", Some("identity:delete_domain")),
    (GET, "/v3/projects", Some("identity:list_projects")),
    (POST, "/v3/projects", Some("identity:create_project")),
    (GET, "/v3/projects/{id}", Some("identity:get_project")),
    (PATCH, "/v3/projects/{id}", Some("identity:update_project")),
    (DELETE, "/v3/projects/{id}", Some("identity:delete_project")),
    (GET, "/v3/users", Some("identity:list_users")),
    (POST, "/v3/users", Some("identity:create_user")),
    (GET, "/v3/users/{id}", Some("identity:get_user")),
    (PATCH, "/v3/users/{id}", Some("identity:update_user")),
    (DELETE, "/v3/users/{id}", Some("identity:delete_user")),
    (GET, "/v3/roles", Some("identity:list_roles")),
    (POST, "/v3/roles", Some("identity:create_role")),
    (GET, "/v3/roles/{id}", Some("identity:get_role")),
    (DELETE, "/v3/roles/{id}", Some("identity:delete_role")),
    (
        GET,
        "/v3/projects/{id}/users/{user}/roles",
        Some("identity:list_grants"),
    ),
    (
        GET,
        "/v3/projects/{id}/users/{user}/roles/{role}",
        Some("identity:check_grant"),
    ),
    (
        PUT,
        "/v3/projects/{id}/users/{user}/roles/{role}",
        Some("identity:create_grant"),
    ),
    (
        DELETE,
        "/v3/projects/{id}/users/{user}/roles/{role}",
        Some("identity:revoke_grant"),
    ),
    (
        GET,
        "/v3/domains/{id}/users/{user}/roles",
        Some("identity:list_grants"),
    ),
    (
        GET,
        "/v3/domains/{id}/users/{user}/roles/{role}",
        Some("identity:check_grant"),
    ),
    (
        PUT,
        "/v3/domains/{id}/users/{user}/roles/{role}",
        Some("identity:create_grant"),
    ),
    (
        DELETE,
        "/v3/domains/{id}/users/{user}/roles/{role}",
        Some("identity:revoke_grant"),
    ),
    (
        GET,
        "/v3/role_assignments",
        Some("identity:list_role_assignments"),
    ),
    (GET, "/v3/services", Some("identity:list_services")),
    (POST, "/v3/services", Some("identity:create_service")),
    (GET, "/v3/services/{id}", Some("identity:get_service")),
    (PATCH, "/v3/services/{id}", Some("identity:update_service")),
    (DELETE, "/v3/services/{id}", Some("identity:delete_service")),
    (GET, "/v3/endpoints", Some("identity:list_endpoints")),
    (POST, "/v3/endpoints", Some("identity:create_endpoint")),
    (GET, "/v3/endpoints/{id}", Some("identity:get_endpoint")),
    (
        PATCH,
        "/v3/endpoints/{id}",
        Some("identity:update_endpoint"),
    ),
    (
        DELETE,
        "/v3/endpoints/{id}",
        Some("identity:delete_endpoint"),
    ),
    (GET, "/v3/regions", Some("identity:list_regions")),
    (GET, "/v3/regions/{id}", Some("identity:get_region")),
];

/// Identity's health: its database, and (readiness) its first records
/// written.
fn health(st: &IdentityState) -> Router<IdentityState> {
    let ready = st.ready.clone();
    starling_service::health(st.db.clone())
        .readiness(
            "bootstrap",
            Arc::new(move || {
                let done = ready.as_ref().is_none_or(|r| *r.borrow());
                Box::pin(std::future::ready(if done {
                    Ok(())
                } else {
                    Err("the first records are still being written".to_string())
                }))
            }),
        )
        .routes()
}

/// The identity router, guarded by `auth` (in-process: a
/// [`starling_auth::LocalAuth`] over the same store and cache).
pub fn router(state: IdentityState, auth: Arc<dyn Authenticator>) -> Router {
    let guard = GuardState {
        render: render_error,
        ..GuardState::new(auth, ROUTES, "identity")
    };
    use resources as r;
    Router::new()
        .route("/", get(versions))
        .merge(health(&state))
        .merge(starling_service::metrics(
            "identity",
            state.db.clone(),
            None,
            None,
        ))
        .route("/openapi.json", get(openapi::document_route))
        .route("/v3", get(v3))
        .route("/v3/", get(v3))
        .route(
            "/v3/auth/tokens",
            post(tokens::issue)
                .get(tokens::validate)
                .head(tokens::check)
                .delete(tokens::revoke),
        )
        .route("/v3/auth/catalog", get(tokens::catalog))
        .route("/v3/auth/projects", get(tokens::projects))
        .route("/v3/domains", get(r::list_domains).post(r::create_domain))
        .route(
            "/v3/domains/{id}",
            get(r::get_one::<starling_identity::Domain>)
                .patch(r::update_domain)
                .delete(r::delete_domain),
        )
        .route(
            "/v3/projects",
            get(r::list_projects).post(r::create_project),
        )
        .route(
            "/v3/projects/{id}",
            get(r::get_one::<starling_identity::Project>)
                .patch(r::update_project)
                .delete(r::delete_project),
        )
        .route("/v3/users", get(r::list_users).post(r::create_user))
        .route(
            "/v3/users/{id}",
            get(r::get_one::<starling_identity::User>)
                .patch(r::update_user)
                .delete(r::delete_user),
        )
        .route("/v3/roles", get(r::list_roles).post(r::create_role))
        .route(
            "/v3/roles/{id}",
            get(r::get_one::<starling_identity::Role>).delete(r::delete_role),
        )
        .route("/v3/projects/{id}/users/{user}/roles", get(r::list_grants))
        .route(
            "/v3/projects/{id}/users/{user}/roles/{role}",
            get(r::check_grant).put(r::grant).delete(r::revoke_grant),
        )
        .route("/v3/domains/{id}/users/{user}/roles", get(r::list_grants))
        .route(
            "/v3/domains/{id}/users/{user}/roles/{role}",
            get(r::check_grant).put(r::grant).delete(r::revoke_grant),
        )
        .route("/v3/role_assignments", get(r::list_assignments))
        .route(
            "/v3/services",
            get(r::list_services).post(r::create_service),
        )
        .route(
            "/v3/services/{id}",
            get(r::get_one::<starling_identity::Service>)
                .patch(r::update_service)
                .delete(r::delete_service),
        )
        .route(
            "/v3/endpoints",
            get(r::list_endpoints).post(r::create_endpoint),
        )
        .route(
            "/v3/endpoints/{id}",
            get(r::get_one::<starling_identity::Endpoint>)
                .patch(r::update_endpoint)
                .delete(r::delete_endpoint),
        )
        .route("/v3/regions", get(r::list_regions))
        .route("/v3/regions/{id}", get(r::get_region))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found(req: axum::extract::Request) -> KsError {
    KsError(ApiError::not_found(format!(
        "The resource could not be found: {}",
        req.uri().path()
    )))
}

fn version_doc(base: &str) -> starling_identity_types::Version<'static> {
    use starling_identity_types::{MediaType, Version, VersionLink};
    Version {
        id: "v3.14".into(),
        links: vec![VersionLink {
            href: format!("{base}/v3/").into(),
            rel: "self".into(),
        }],
        media_types: vec![MediaType {
            base: "application/json".into(),
            media_type: "application/vnd.openstack.identity-v3+json".into(),
        }],
        status: "stable".into(),
        updated: "2020-04-07T00:00:00Z".into(),
    }
}

/// `GET /`: Keystone's 300 Multiple Choices with the one version.
async fn versions(headers: HeaderMap) -> Response {
    let base = starling_http::base_url(&headers);
    json(
        StatusCode::MULTIPLE_CHOICES,
        &starling_identity_types::VersionsBody {
            versions: starling_identity_types::Versions {
                values: vec![version_doc(&base)],
            },
        },
    )
}

/// `GET /v3`: version discovery.
async fn v3(headers: HeaderMap) -> Response {
    let base = starling_http::base_url(&headers);
    json(
        StatusCode::OK,
        &starling_identity_types::VersionBody {
            version: version_doc(&base),
        },
    )
}
