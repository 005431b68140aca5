//! System configuration as a service (sysinv's configuration half). Its
//! routes are sysinv's and are served on inventory's platform API (port
//! 6385): `idns`, `intp` and `iextoam` (list, show, modify), and, for
//! each host's agent with its own credential, the host's configuration
//! document (`GET /v1/agent/{host}/config`, a long poll until the host's
//! target differs from what it applied) and the report of its apply
//! (`PUT /v1/agent/{host}/config`).
//!
//! Every change commits its records and the new targets of the hosts it
//! concerns in one transaction (`starling_config::ops`); then its 250.001
//! changes go to FM, the hosts' marks (`config_target`, `config_applied`,
//! `config_status`) to inventory for host-show, and the waiting agents
//! are woken.

mod addressing;
mod interfaces;
mod openapi;
mod params;
mod render;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use starling_common::alarm::{AlarmEffect, AlarmSink};
use starling_common::{Clock, Error, Timestamp};
use starling_config::ops::{self, HostFacts};
use starling_config::{ConfigUuid, HostConfig, OamFields};
use starling_config_store::ConfigStore;
use starling_config_types as wire;
use starling_db::Db;
use starling_http::{
    AgentScope, ApiError, ApiJson, Authenticator, BoxFuture, GuardState, PatchOp, Principal,
    QueryPairs, base_url, json,
};
use starling_service::{ConfigMarks, HostSummary, Hosts, SystemSummary};

pub use openapi::{generate as openapi_document, operations};
pub use service::SERVICE;

/// The policy of the agents' routes.
const AGENT_POLICY: &str = "config_api:agent:config";

/// The longest an agent's document poll waits for a change.
pub const MAX_WAIT: Duration = Duration::from_secs(25);

/// Every route and its policy. Served on inventory's listener, whose guard
/// answers the paths neither has.
pub const ROUTES: &[(Method, &str, Option<&str>)] = &[
    (
        Method::GET,
        "/openapi/config.json",
        Some("config_api:openapi:get"),
    ),
    (Method::GET, "/v1/idns", Some("config_api:idns:get")),
    (Method::GET, "/v1/idns/{uuid}", Some("config_api:idns:get")),
    (
        Method::PATCH,
        "/v1/idns/{uuid}",
        Some("config_api:idns:modify"),
    ),
    (Method::GET, "/v1/intp", Some("config_api:intp:get")),
    (Method::GET, "/v1/intp/{uuid}", Some("config_api:intp:get")),
    (
        Method::PATCH,
        "/v1/intp/{uuid}",
        Some("config_api:intp:modify"),
    ),
    (Method::GET, "/v1/iextoam", Some("config_api:iextoam:get")),
    (
        Method::GET,
        "/v1/iextoam/{uuid}",
        Some("config_api:iextoam:get"),
    ),
    (
        Method::PATCH,
        "/v1/iextoam/{uuid}",
        Some("config_api:iextoam:modify"),
    ),
    (
        Method::GET,
        "/v1/datanetworks",
        Some("config_api:datanetworks:get"),
    ),
    (
        Method::POST,
        "/v1/datanetworks",
        Some("config_api:datanetworks:post"),
    ),
    (
        Method::GET,
        "/v1/datanetworks/{id}",
        Some("config_api:datanetworks:get"),
    ),
    (
        Method::PATCH,
        "/v1/datanetworks/{id}",
        Some("config_api:datanetworks:patch"),
    ),
    (
        Method::DELETE,
        "/v1/datanetworks/{id}",
        Some("config_api:datanetworks:delete"),
    ),
    (
        Method::GET,
        "/v1/addrpools",
        Some("config_api:addrpools:get"),
    ),
    (
        Method::POST,
        "/v1/addrpools",
        Some("config_api:addrpools:post"),
    ),
    (
        Method::GET,
        "/v1/addrpools/{uuid}",
        Some("config_api:addrpools:get"),
    ),
    (
        Method::PATCH,
        "/v1/addrpools/{uuid}",
        Some("config_api:addrpools:patch"),
    ),
    (
        Method::DELETE,
        "/v1/addrpools/{uuid}",
        Some("config_api:addrpools:delete"),
    ),
    (Method::GET, "/v1/networks", Some("config_api:networks:get")),
    (
        Method::POST,
        "/v1/networks",
        Some("config_api:networks:post"),
    ),
    (
        Method::GET,
        "/v1/networks/{id}",
        Some("config_api:networks:get"),
    ),
    (
        Method::DELETE,
        "/v1/networks/{id}",
        Some("config_api:networks:delete"),
    ),
    (
        Method::GET,
        "/v1/ihosts/{host}/iinterfaces",
        Some("config_api:iinterfaces:get"),
    ),
    (
        Method::GET,
        "/v1/iinterfaces",
        Some("config_api:iinterfaces:get"),
    ),
    (
        Method::POST,
        "/v1/iinterfaces",
        Some("config_api:iinterfaces:post"),
    ),
    (
        Method::GET,
        "/v1/iinterfaces/{uuid}",
        Some("config_api:iinterfaces:get"),
    ),
    (
        Method::PATCH,
        "/v1/iinterfaces/{uuid}",
        Some("config_api:iinterfaces:patch"),
    ),
    (
        Method::DELETE,
        "/v1/iinterfaces/{uuid}",
        Some("config_api:iinterfaces:delete"),
    ),
    (
        Method::GET,
        "/v1/iinterfaces/{uuid}/ports",
        Some("config_api:iinterfaces:get"),
    ),
    (
        Method::GET,
        "/v1/iinterfaces/{uuid}/interface_networks",
        Some("config_api:interface_networks:get"),
    ),
    (
        Method::GET,
        "/v1/iinterfaces/{uuid}/interface_datanetworks",
        Some("config_api:interface_datanetworks:get"),
    ),
    (
        Method::GET,
        "/v1/ihosts/{host}/interface_networks",
        Some("config_api:interface_networks:get"),
    ),
    (
        Method::GET,
        "/v1/ihosts/{host}/interface_datanetworks",
        Some("config_api:interface_datanetworks:get"),
    ),
    (
        Method::GET,
        "/v1/interface_networks",
        Some("config_api:interface_networks:get"),
    ),
    (
        Method::POST,
        "/v1/interface_networks",
        Some("config_api:interface_networks:post"),
    ),
    (
        Method::GET,
        "/v1/interface_networks/{uuid}",
        Some("config_api:interface_networks:get"),
    ),
    (
        Method::DELETE,
        "/v1/interface_networks/{uuid}",
        Some("config_api:interface_networks:delete"),
    ),
    (
        Method::GET,
        "/v1/interface_datanetworks",
        Some("config_api:interface_datanetworks:get"),
    ),
    (
        Method::POST,
        "/v1/interface_datanetworks",
        Some("config_api:interface_datanetworks:post"),
    ),
    (
        Method::GET,
        "/v1/interface_datanetworks/{uuid}",
        Some("config_api:interface_datanetworks:get"),
    ),
    (
        Method::DELETE,
        "/v1/interface_datanetworks/{uuid}",
        Some("config_api:interface_datanetworks:delete"),
    ),
    (
        Method::GET,
        "/v1/service_parameter",
        Some("config_api:service_parameter:get"),
    ),
    (
        Method::POST,
        "/v1/service_parameter",
        Some("config_api:service_parameter:post"),
    ),
    (
        Method::POST,
        "/v1/service_parameter/apply",
        Some("config_api:service_parameter:apply"),
    ),
    (
        Method::GET,
        "/v1/service_parameter/{uuid}",
        Some("config_api:service_parameter:get"),
    ),
    (
        Method::PATCH,
        "/v1/service_parameter/{uuid}",
        Some("config_api:service_parameter:patch"),
    ),
    (
        Method::DELETE,
        "/v1/service_parameter/{uuid}",
        Some("config_api:service_parameter:delete"),
    ),
    (Method::GET, "/v1/agent/{host}/config", Some(AGENT_POLICY)),
    (Method::PUT, "/v1/agent/{host}/config", Some(AGENT_POLICY)),
];

/// What the routes and the background task share.
#[derive(Clone)]
pub struct ConfigState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub hosts: Arc<dyn Hosts>,
    pub alarms: Option<Arc<dyn AlarmSink>>,
    /// Bumped after every committed change: the agents' polls wake on it.
    pub changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// The system, once read.
    system: Arc<std::sync::OnceLock<SystemSummary>>,
}

impl ConfigState {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        hosts: Arc<dyn Hosts>,
        alarms: Option<Arc<dyn AlarmSink>>,
    ) -> Self {
        let changes = Arc::new(tokio::sync::watch::channel(0).0);
        // A host's unlock waiting for its configuration wakes the polls:
        // its agent may now apply its document in full.
        let bell = changes.clone();
        hosts.configuring(Arc::new(move |_host: &str| {
            bell.send_modify(|n| *n += 1);
        }));
        // Inventory shows the interface each port serves.
        let links_db = db.clone();
        hosts.port_links(Arc::new(move |host: String| {
            let db = links_db.clone();
            Box::pin(async move {
                db.read(move |c| {
                    starling_config::ConfigRepo::interfaces_of(&mut ConfigStore::new(c), &host)
                })
                .await
                .map(|all| {
                    all.into_iter()
                        .filter_map(|i| i.port_uuid.map(|p| (p, i.uuid)))
                        .collect()
                })
                .map_err(|e: Error| e.to_string())
            })
        }));
        ConfigState {
            db,
            clock,
            hosts,
            alarms,
            changes,
            system: Default::default(),
        }
    }

    async fn read<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut ConfigStore<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, ApiError> {
        let mut f = f;
        self.db
            .read(move |c| f(&mut ConfigStore::new(c)))
            .await
            .map_err(ApiError::from)
    }

    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut ConfigStore<'_>, Timestamp) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, ApiError> {
        let mut f = f;
        let clock = self.clock.clone();
        self.db
            .write(move |c| f(&mut ConfigStore::new(c), clock.now()))
            .await
            .map_err(ApiError::from)
    }

    /// The hosts as inventory has them now.
    pub(crate) async fn facts(&self) -> Result<Vec<HostFacts>, ApiError> {
        let all = self.hosts.all().await.map_err(ApiError::unavailable)?;
        Ok(all.iter().map(facts).collect())
    }

    /// The system, read from inventory once (its uuid and mode never
    /// change after the first start).
    async fn system(&self) -> Result<Option<SystemSummary>, ApiError> {
        if let Some(s) = self.system.get() {
            return Ok(Some(s.clone()));
        }
        let s = self.hosts.system().await.map_err(ApiError::unavailable)?;
        if let Some(s) = &s {
            let _ = self.system.set(s.clone());
        }
        Ok(s)
    }

    /// Whether the system is a simplex one (its controllers' own OAM
    /// addresses are not kept).
    pub(crate) async fn simplex(&self) -> Result<bool, ApiError> {
        Ok(self
            .system()
            .await?
            .is_some_and(|s| s.system_mode == "simplex"))
    }

    async fn system_uuid(&self) -> Result<String, ApiError> {
        Ok(self.system().await?.map(|s| s.uuid).unwrap_or_default())
    }

    /// After a commit: the alarm changes to FM, the hosts' marks to
    /// inventory, the waiting agents woken. Failures are logged: the change
    /// stands (FM's client spools; the marks are pushed again by the
    /// follower).
    async fn committed(&self, fx: Vec<AlarmEffect>, changed: &[HostConfig]) {
        if let Some(fm) = &self.alarms {
            for e in fx {
                let id = e.alarm_id();
                if let Err(err) = fm.send(e).await {
                    tracing::error!(alarm = id, error = %err, "cannot report to fault management");
                }
            }
        }
        for h in changed {
            if let Err(e) = self.hosts.configured(&h.host_uuid, marks(h)).await {
                tracing::warn!(host = %h.hostname, error = %e, "cannot mark the host's configuration in inventory");
            }
        }
        self.changes.send_modify(|n| *n += 1);
    }

    /// Follows inventory's hosts once (new, renamed and removed hosts), and
    /// marks every host in inventory when `all` (the follower's repair of a
    /// push that failed).
    pub async fn follow(&self, all: bool) -> Result<(), ApiError> {
        let facts = self.facts().await?;
        let (changed, fx) = self
            .write(move |repo, now| ops::follow(repo, &facts, now))
            .await?;
        let marked = if all {
            self.read(|repo| starling_config::ConfigRepo::hosts(repo))
                .await?
        } else {
            changed
        };
        self.committed(fx, &marked).await;
        Ok(())
    }
}

pub(crate) fn facts(h: &HostSummary) -> HostFacts {
    HostFacts {
        uuid: h.uuid.clone(),
        hostname: h.hostname.clone(),
        personality: h.personality.clone(),
        administrative: h.administrative.clone(),
        configuring: h.administrative == "unlocked" && h.task == "Configuring",
        subfunctions: h.subfunctions.clone(),
    }
}

fn marks(h: &HostConfig) -> ConfigMarks {
    ConfigMarks {
        target: Some(h.target.to_string()),
        applied: h.applied.clone(),
        status: h.status().map(String::from),
        failure: h.failure.clone(),
    }
}

/// Users' tokens are `inner`'s; the agents' routes take only a host
/// agent's own credential (checked by inventory).
struct ConfigAuth {
    inner: Arc<dyn Authenticator>,
    hosts: Arc<dyn Hosts>,
}

impl Authenticator for ConfigAuth {
    fn authorize<'a>(
        &'a self,
        headers: &'a HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        if policy != AGENT_POLICY {
            return self.inner.authorize(headers, policy);
        }
        Box::pin(starling_service::host_agent(self.hosts.as_ref(), headers))
    }
}

/// The routes, behind the guard (no fallback: the listener's own answers
/// the paths no service has).
pub fn router(state: ConfigState, auth: Arc<dyn Authenticator>) -> Router {
    let auth = Arc::new(ConfigAuth {
        inner: auth,
        hosts: state.hosts.clone(),
    });
    let guard = GuardState::new(auth, ROUTES, "config");
    Router::new()
        .route("/openapi/config.json", get(openapi::document_route))
        .route("/v1/idns", get(list_dns))
        .route("/v1/idns/{uuid}", get(show_dns).patch(modify_dns))
        .route("/v1/intp", get(list_ntp))
        .route("/v1/intp/{uuid}", get(show_ntp).patch(modify_ntp))
        .route("/v1/iextoam", get(list_oam))
        .route("/v1/iextoam/{uuid}", get(show_oam).patch(modify_oam))
        .route(
            "/v1/datanetworks",
            get(list_datanetworks).post(add_datanetwork),
        )
        .route(
            "/v1/datanetworks/{id}",
            get(show_datanetwork)
                .patch(modify_datanetwork)
                .delete(delete_datanetwork),
        )
        .route(
            "/v1/addrpools",
            get(addressing::list_pools).post(addressing::add_pool),
        )
        .route(
            "/v1/addrpools/{uuid}",
            get(addressing::show_pool)
                .patch(addressing::modify_pool)
                .delete(addressing::delete_pool),
        )
        .route(
            "/v1/networks",
            get(addressing::list_networks).post(addressing::add_network),
        )
        .route(
            "/v1/networks/{id}",
            get(addressing::show_network).delete(addressing::delete_network),
        )
        .route(
            "/v1/ihosts/{host}/iinterfaces",
            get(interfaces::list_of_host),
        )
        .route(
            "/v1/iinterfaces",
            get(interfaces::list_all).post(interfaces::add),
        )
        .route(
            "/v1/iinterfaces/{uuid}",
            get(interfaces::show)
                .patch(interfaces::modify)
                .delete(interfaces::delete),
        )
        .route("/v1/iinterfaces/{uuid}/ports", get(interfaces::ports))
        .route(
            "/v1/iinterfaces/{uuid}/interface_networks",
            get(interfaces::list_ifnets_of_interface),
        )
        .route(
            "/v1/iinterfaces/{uuid}/interface_datanetworks",
            get(interfaces::list_ifdns_of_interface),
        )
        .route(
            "/v1/ihosts/{host}/interface_networks",
            get(interfaces::list_ifnets_of_host),
        )
        .route(
            "/v1/ihosts/{host}/interface_datanetworks",
            get(interfaces::list_ifdns_of_host),
        )
        .route(
            "/v1/interface_networks",
            get(interfaces::list_ifnets).post(interfaces::assign_network),
        )
        .route(
            "/v1/interface_networks/{uuid}",
            get(interfaces::show_ifnet).delete(interfaces::remove_network),
        )
        .route(
            "/v1/interface_datanetworks",
            get(interfaces::list_ifdns).post(interfaces::assign_datanetwork),
        )
        .route(
            "/v1/interface_datanetworks/{uuid}",
            get(interfaces::show_ifdn).delete(interfaces::remove_datanetwork),
        )
        .route("/v1/service_parameter", get(params::list).post(params::add))
        .route(
            "/v1/service_parameter/apply",
            axum::routing::post(params::apply),
        )
        .route(
            "/v1/service_parameter/{uuid}",
            get(params::show)
                .patch(params::modify)
                .delete(params::delete),
        )
        .route(
            "/v1/agent/{host}/config",
            get(host_document).put(host_applied),
        )
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .with_state(state)
}

/// A uuid path segment as sysinv compares it.
fn lower(uuid: &str) -> String {
    uuid.to_ascii_lowercase()
}

async fn list_dns(State(st): State<ConfigState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let d = st.read(|r| ops::dns(r)).await?;
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &wire::DnsList {
            idnss: vec![render::dns(&d, &sys, &base_url(&headers))],
        },
    ))
}

async fn show_dns(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let d = st.read(|r| ops::dns(r)).await?;
    if d.uuid != lower(&uuid) {
        return Err(ApiError::not_found(format!(
            "DNS {uuid} could not be found."
        )));
    }
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &render::dns(&d, &sys, &base_url(&headers)),
    ))
}

/// The `replace` values of a sysinv record PATCH, as text; `/action`
/// (`apply`, `install`) is taken and ignored as sysinv does; the record's
/// own keys cannot be changed.
fn patch_values(patch: &[PatchOp], allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for (path, v) in starling_http::check_patch(patch)? {
        if path == "action" {
            continue;
        }
        if ["uuid", "id", "forisystemid", "isystem_uuid"].contains(&path.as_str()) {
            return Err(ApiError::bad_request(
                "The following fields can not be modified: ['/uuid', '/id', '/forisystemid', '/isystem_uuid']",
            ));
        }
        if !allowed.contains(&path.as_str()) {
            return Err(ApiError::bad_request(format!(
                "Unknown attribute for argument: {path} (use {})",
                allowed.join(", ")
            )));
        }
        let v = match v {
            None => String::new(),
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Null) => String::new(),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for {path}: a string is expected, not {other}"
                )));
            }
        };
        out.push((path, v));
    }
    Ok(out)
}

async fn modify_dns(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let values = patch_values(&patch, &["nameservers"])?;
    let Some((_, csv)) = values.into_iter().last() else {
        return Err(ApiError::bad_request("No DNS parameters provided."));
    };
    let facts = st.facts().await?;
    let uuid = lower(&uuid);
    let (d, changed, fx) = st
        .write(move |repo, now| ops::modify_dns(repo, &uuid, &csv, &facts, now))
        .await?;
    tracing::info!(nameservers = %render::csv(&d.nameservers), "DNS servers changed");
    st.committed(fx, &changed).await;
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &render::dns(&d, &sys, &base_url(&headers)),
    ))
}

async fn list_ntp(State(st): State<ConfigState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let n = st.read(|r| ops::ntp(r)).await?;
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &wire::NtpList {
            intps: vec![render::ntp(&n, &sys, &base_url(&headers))],
        },
    ))
}

async fn show_ntp(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let n = st.read(|r| ops::ntp(r)).await?;
    if n.uuid != lower(&uuid) {
        return Err(ApiError::not_found(format!(
            "NTP {uuid} could not be found."
        )));
    }
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &render::ntp(&n, &sys, &base_url(&headers)),
    ))
}

async fn modify_ntp(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let values = patch_values(&patch, &["ntpservers"])?;
    let Some((_, csv)) = values.into_iter().last() else {
        return Err(ApiError::bad_request("No NTP parameters provided."));
    };
    let facts = st.facts().await?;
    let uuid = lower(&uuid);
    let (n, changed, fx) = st
        .write(move |repo, now| ops::modify_ntp(repo, &uuid, &csv, &facts, now))
        .await?;
    tracing::info!(ntpservers = %n.ntpservers.join(","), "NTP servers changed: the controllers apply them at their next unlock");
    st.committed(fx, &changed).await;
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &render::ntp(&n, &sys, &base_url(&headers)),
    ))
}

async fn list_oam(State(st): State<ConfigState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let o = st.read(|r| ops::oam(r)).await?;
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &wire::OamList {
            iextoams: vec![render::oam(&o, &sys, &base_url(&headers))],
        },
    ))
}

async fn show_oam(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let o = st.read(|r| ops::oam(r)).await?;
    if o.uuid != lower(&uuid) {
        return Err(ApiError::not_found(format!(
            "OAM network {uuid} could not be found."
        )));
    }
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &render::oam(&o, &sys, &base_url(&headers)),
    ))
}

async fn modify_oam(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let values = patch_values(
        &patch,
        &[
            "oam_subnet",
            "oam_gateway_ip",
            "oam_floating_ip",
            "oam_c0_ip",
            "oam_c1_ip",
            "oam_start_ip",
            "oam_end_ip",
        ],
    )?;
    let mut f = OamFields::default();
    for (k, v) in values {
        let slot = match k.as_str() {
            "oam_subnet" => &mut f.oam_subnet,
            "oam_gateway_ip" => &mut f.oam_gateway_ip,
            "oam_floating_ip" => &mut f.oam_floating_ip,
            "oam_c0_ip" => &mut f.oam_c0_ip,
            "oam_c1_ip" => &mut f.oam_c1_ip,
            "oam_start_ip" => &mut f.oam_start_ip,
            _ => &mut f.oam_end_ip,
        };
        *slot = Some(v);
    }
    let simplex = st.simplex().await?;
    let facts = st.facts().await?;
    let uuid = lower(&uuid);
    let (o, changed, fx) = st
        .write(move |repo, now| ops::modify_oam(repo, &uuid, &f, simplex, &facts, now))
        .await?;
    tracing::info!(subnet = %o.subnet, floating = %o.floating_ip, "OAM network changed");
    st.committed(fx, &changed).await;
    let sys = st.system_uuid().await?;
    Ok(json(
        StatusCode::OK,
        &render::oam(&o, &sys, &base_url(&headers)),
    ))
}

async fn list_datanetworks(State(st): State<ConfigState>) -> Result<Response, ApiError> {
    let all = st
        .read(|r| starling_config::ConfigRepo::datanetworks(r))
        .await?;
    Ok(json(
        StatusCode::OK,
        &wire::DataNetworkList {
            datanetworks: all.iter().map(render::datanetwork).collect(),
        },
    ))
}

async fn show_datanetwork(
    State(st): State<ConfigState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = st
        .read(move |r| starling_config::datanet::get(r, &id))
        .await?;
    Ok(json(StatusCode::OK, &render::datanetwork(&d)))
}

async fn add_datanetwork(
    State(st): State<ConfigState>,
    ApiJson(a): ApiJson<wire::DataNetworkAdd>,
) -> Result<Response, ApiError> {
    let n = starling_config::NewDataNetwork {
        name: a.name,
        network_type: a.network_type,
        description: a.description,
        mtu: a.mtu,
        multicast_group: a.multicast_group,
        port_num: a.port_num,
        ttl: a.ttl,
        mode: a.mode,
    };
    let d = st
        .write(move |r, _| starling_config::datanet::add(r, &n))
        .await?;
    tracing::info!(name = %d.name, network_type = d.network_type.as_str(), mtu = d.mtu, "data network added");
    Ok(json(StatusCode::OK, &render::datanetwork(&d)))
}

async fn modify_datanetwork(
    State(st): State<ConfigState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let mut changes = Vec::new();
    for (path, v) in starling_http::check_patch(&patch)? {
        let v = match v {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for {path}: {other}"
                )));
            }
        };
        changes.push((path, v));
    }
    let d = st
        .write(move |r, _| starling_config::datanet::modify(r, &id, &changes))
        .await?;
    Ok(json(StatusCode::OK, &render::datanetwork(&d)))
}

async fn delete_datanetwork(
    State(st): State<ConfigState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = st
        .write(move |r, _| starling_config::datanet::delete(r, &id))
        .await?;
    tracing::info!(name = %d.name, "data network deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn own_host<'a>(who: &'a Principal, host: &str) -> Result<&'a str, ApiError> {
    let Some(AgentScope::Host(uuid)) = &who.agent else {
        return Err(ApiError::forbidden(
            "Only a host's agent applies its configuration",
        ));
    };
    if host != *uuid {
        return Err(ApiError::forbidden(
            "This agent's credential is for another host",
        ));
    }
    Ok(uuid)
}

/// A host's document, when there is something for its agent to apply:
/// its target differs from what the agent says it applied (the target
/// without its reboot flag, for a document it may apply only in part).
async fn document_for(
    st: &ConfigState,
    host: &str,
    applied: Option<&str>,
) -> Result<Option<wire::HostDocument>, ApiError> {
    let summary = st
        .hosts
        .host(host)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::not_found(format!("Host {host} could not be found.")))?;
    let f = facts(&summary);
    let ports: Vec<_> = st
        .hosts
        .ports(&summary.uuid, "")
        .await
        .map_err(ApiError::unavailable)?
        .unwrap_or_default()
        .iter()
        .map(interfaces::port_facts)
        .collect();
    let (want, p) = (f.clone(), ports.clone());
    let doc = match st.read(move |repo| ops::document(repo, &want, &p)).await {
        Err(e) if e.status == StatusCode::NOT_FOUND && f.hostname.is_some() => {
            // Provisioned since the follower last looked.
            st.follow(false).await?;
            st.read(move |repo| ops::document(repo, &f, &ports)).await?
        }
        other => other?,
    };
    let due = if doc.full {
        doc.config_uuid
    } else {
        doc.config_uuid.with_reboot(false)
    };
    if applied.and_then(ConfigUuid::parse) == Some(due) {
        return Ok(None);
    }
    Ok(Some(render::document(&doc)))
}

async fn host_document(
    State(st): State<ConfigState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(host): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let host = own_host(&who, &host)?.to_string();
    let q = QueryPairs::parse(q.as_deref());
    q.only_params(openapi::POLL_PARAMS)?;
    let wait = match q.last("wait") {
        None => Duration::ZERO,
        Some(w) => w
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| ApiError::bad_request(format!("Invalid wait '{w}': seconds, 0 to 25")))?,
    }
    .min(MAX_WAIT);
    let applied = q.last("applied").map(String::from);
    let deadline = tokio::time::Instant::now() + wait;
    let mut changes = st.changes.subscribe();
    loop {
        changes.mark_unchanged();
        if let Some(doc) = document_for(&st, &host, applied.as_deref()).await? {
            return Ok(json(StatusCode::OK, &doc));
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => continue,
            _ => return Ok(StatusCode::NO_CONTENT.into_response()),
        }
    }
}

async fn host_applied(
    State(st): State<ConfigState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(host): Path<String>,
    ApiJson(report): ApiJson<wire::ApplyReport>,
) -> Result<Response, ApiError> {
    let host = own_host(&who, &host)?.to_string();
    let r = ops::Applied {
        config_uuid: report.config_uuid,
        steps: report
            .steps
            .into_iter()
            .map(|s| starling_config::StepResult {
                step: s.step,
                ok: s.ok,
                message: s.message,
            })
            .collect(),
    };
    let report = {
        let (host, r) = (host.clone(), r.clone());
        move |repo: &mut ConfigStore<'_>, _| ops::report_applied(repo, &host, &r)
    };
    let (h, fx) = match st.write(report.clone()).await {
        // Provisioned since the follower last looked.
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            st.follow(false).await?;
            st.write(report).await?
        }
        other => other?,
    };
    match &h.failure {
        Some(f) => tracing::warn!(host = %h.hostname, failure = %f, "a configuration apply failed"),
        None => {
            tracing::info!(host = %h.hostname, applied = ?h.applied, out_of_date = h.out_of_date(), "configuration applied")
        }
    }
    st.committed(fx, std::slice::from_ref(&h)).await;
    Ok(json(
        StatusCode::OK,
        &wire::HostConfigState {
            config_applied: h.applied.clone(),
            config_status: h.status().map(String::from),
            config_target: h.target.to_string(),
            config_failure: h.failure.clone(),
        },
    ))
}
