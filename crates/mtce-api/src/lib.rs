//! Host maintenance as a service (StarlingX's mtcAgent and hbsAgent, on
//! port 2112): each host's agent registers its heartbeat responder with its
//! own credential (`PUT /v1/agent/{host}/heartbeat`, answered with the
//! cloud's heartbeat key and period); the heartbeat pulses every registered,
//! unlocked host and raises and clears the heartbeat and host-failed alarms
//! (200.005, 200.009, 200.004) through FM.
//!
//! Host states (available, degraded, failed in inventory), recovery and the
//! BMC's reset come next; this service raises the alarms.

pub mod service;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use starling_common::alarm::AlarmSink;
use starling_db::Db;
use starling_heartbeat::{Heartbeat, Key, Target};
use starling_http::{
    AUTH_REQUIRED, AgentScope, ApiError, ApiJson, Authenticator, BoxFuture, GuardState, Principal,
    json,
};
use starling_service::{HostSummary, Hosts};

pub use service::SERVICE;

/// mtcAgent's port.
pub const DEFAULT_PORT: u16 = 2112;

/// The one policy of the agents' route.
const AGENT_POLICY: &str = "mtce_api:agent:modify";

/// Every route and its policy (`None`: anonymous).
pub const ROUTES: &[(Method, &str, Option<&str>)] = &[
    (Method::GET, "/", None),
    (Method::GET, "/health", None),
    (Method::GET, "/health/live", None),
    (Method::GET, "/health/ready", None),
    (Method::GET, "/metrics", None),
    (
        Method::PUT,
        "/v1/agent/{host}/heartbeat",
        Some(AGENT_POLICY),
    ),
];

/// What the API and the heartbeat share.
#[derive(Clone)]
pub struct MtceState {
    pub db: Db,
    pub hosts: Arc<dyn Hosts>,
    pub alarms: Option<Arc<dyn AlarmSink>>,
    /// Each registered agent's responder, by host uuid.
    pub targets: Arc<Mutex<BTreeMap<String, SocketAddr>>>,
    pub key: Key,
    pub period: Duration,
    /// The management pulser's counters.
    pub pulses: Arc<starling_heartbeat::Stats>,
    /// How many monitored hosts are at each level on the management
    /// network (ok, minor, degraded, failed), after the last period.
    pub levels: Arc<Mutex<[usize; 4]>>,
}

/// Maintenance's gauges at each scrape: the pulses' outcomes and the hosts
/// at each heartbeat level.
fn heartbeat_gauges(st: MtceState) -> starling_http::metrics::Gauges {
    Arc::new(move || {
        let st = st.clone();
        Box::pin(async move {
            let [taken, malformed, forged, stale, unexpected] = st.pulses.snapshot();
            let mut out = starling_http::metrics::counter(
                "starling_heartbeat_answers_total",
                "Heartbeat answers on the management network, by outcome (only taken ones count as a heartbeat).",
                &[
                    (vec![("outcome", "taken")], taken as f64),
                    (vec![("outcome", "malformed")], malformed as f64),
                    (vec![("outcome", "forged")], forged as f64),
                    (vec![("outcome", "stale")], stale as f64),
                    (vec![("outcome", "unexpected")], unexpected as f64),
                ],
            );
            let levels = *st.levels.lock().unwrap_or_else(|e| e.into_inner());
            out.push_str(&starling_http::metrics::gauge(
                "starling_heartbeat_hosts",
                "Hosts pulsed on the management network, by heartbeat level.",
                &[
                    (vec![("level", "ok")], levels[0] as f64),
                    (vec![("level", "minor")], levels[1] as f64),
                    (vec![("level", "degraded")], levels[2] as f64),
                    (vec![("level", "failed")], levels[3] as f64),
                ],
            ));
            out
        })
    })
}

/// Only host agents, each with its own credential (checked by inventory),
/// call this API.
struct AgentsOnly {
    hosts: Arc<dyn Hosts>,
}

impl Authenticator for AgentsOnly {
    fn authorize<'a>(
        &'a self,
        headers: &'a HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        Box::pin(async move {
            let token = headers
                .get("x-auth-token")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .ok_or_else(|| ApiError::unauthorized(AUTH_REQUIRED))?;
            let host = self
                .hosts
                .agent(token)
                .await
                .map_err(ApiError::unavailable)?
                .ok_or_else(|| ApiError::unauthorized(AUTH_REQUIRED))?;
            if policy != AGENT_POLICY {
                return Err(ApiError::forbidden(format!(
                    "Policy doesn't allow {policy} to be performed."
                )));
            }
            Ok(Arc::new(Principal::host_agent(
                &host.uuid,
                host.display_name(),
            )))
        })
    }
}

/// An agent's heartbeat registration: the UDP port its responder listens
/// on (at the address the request came from).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub port: u16,
}

/// What the agent's responder needs.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// The cloud's heartbeat key (64 hex digits).
    pub key: String,
    pub period_ms: u64,
}

async fn register(
    State(st): State<MtceState>,
    Extension(who): Extension<Arc<Principal>>,
    ConnectInfo(from): ConnectInfo<SocketAddr>,
    Path(host): Path<String>,
    ApiJson(body): ApiJson<Registration>,
) -> Result<Response, ApiError> {
    let Some(AgentScope::Host(uuid)) = &who.agent else {
        return Err(ApiError::forbidden(
            "Only a host's agent registers its heartbeat",
        ));
    };
    if host != *uuid {
        return Err(ApiError::forbidden(
            "This agent's credential is for another host",
        ));
    }
    if body.port == 0 {
        return Err(ApiError::bad_request(
            "Invalid port 0: the responder's UDP port",
        ));
    }
    let at = SocketAddr::new(from.ip(), body.port);
    let before = st
        .targets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(uuid.clone(), at);
    if before != Some(at) {
        tracing::info!(host = %uuid, responder = %at, "heartbeat responder registered");
    }
    Ok(json(
        StatusCode::OK,
        &HeartbeatConfig {
            key: st.key.to_hex(),
            period_ms: st.period.as_millis() as u64,
        },
    ))
}

async fn root() -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({"name": "Starling host maintenance", "version": env!("CARGO_PKG_VERSION")}),
    )
}

/// The maintenance router.
pub fn router(state: MtceState) -> Router {
    let guard = GuardState::new(
        Arc::new(AgentsOnly {
            hosts: state.hosts.clone(),
        }),
        ROUTES,
        "mtce",
    );
    Router::new()
        .route("/", get(root))
        .merge(starling_service::health(state.db.clone()).routes())
        .merge(starling_service::metrics(
            "mtce",
            state.db.clone(),
            state.alarms.clone(),
            Some(heartbeat_gauges(state.clone())),
        ))
        .route("/v1/agent/{host}/heartbeat", put(register))
        .fallback(starling_http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .with_state(state)
}

/// The heartbeat: every period, every registered agent of an unlocked host
/// is pulsed; each level change is logged (target `heartbeat`) and its
/// alarms raised or cleared. The host list is read from inventory about
/// once a second.
pub async fn heartbeat(st: MtceState, mut hb: Heartbeat) -> Result<(), String> {
    let refresh = (Duration::from_secs(1).as_millis() / st.period.as_millis().max(1)).max(1) as u64;
    let mut known: BTreeMap<String, HostSummary> = BTreeMap::new();
    let mut n: u64 = 0;
    loop {
        if n.is_multiple_of(refresh) {
            match st.hosts.all().await {
                Ok(all) => known = all.into_iter().map(|h| (h.uuid.clone(), h)).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the hosts; pulsing the last known")
                }
            }
        }
        n += 1;
        let targets: Vec<Target> = {
            let registered = st.targets.lock().unwrap_or_else(|e| e.into_inner());
            registered
                .iter()
                .filter(|(uuid, _)| {
                    known
                        .get(*uuid)
                        .is_some_and(|h| h.administrative == "unlocked")
                })
                .map(|(uuid, at)| Target {
                    host: uuid.clone(),
                    mgmt: *at,
                    cluster: None,
                })
                .collect()
        };
        let changes = hb.tick(&targets).await;
        {
            use starling_mtce::{Level, Network};
            let mut levels = [0usize; 4];
            for (h, n) in hb.monitor.watched() {
                if *n == Network::Mgmt {
                    let i = match hb.monitor.level(h, *n) {
                        Some(Level::Minor) => 1,
                        Some(Level::Degraded) => 2,
                        Some(Level::Failed) => 3,
                        _ => 0,
                    };
                    levels[i] += 1;
                }
            }
            *st.levels.lock().unwrap_or_else(|e| e.into_inner()) = levels;
        }
        if changes.is_empty() {
            continue;
        }
        let name = |uuid: &str| {
            known
                .get(uuid)
                .map_or_else(|| uuid.to_string(), |h| h.display_name().to_string())
        };
        for c in &changes {
            tracing::info!(
                target: "heartbeat",
                host = %name(&c.host),
                network = c.network.as_str(),
                from = ?c.from,
                to = ?c.to,
                misses = c.misses,
                "heartbeat level changed"
            );
        }
        let effects = starling_mtce::alarms::effects(&hb.monitor, &changes, name);
        if let Some(sink) = &st.alarms {
            for e in effects {
                if let Err(err) = sink.send(e).await {
                    tracing::error!(error = %err, "cannot report to fault management");
                }
            }
        }
        // Each monitored host's state in inventory follows its heartbeat
        // (every one is looked at: the end of a multi-node failure changes
        // hosts whose own level did not; a host no longer monitored is
        // locked or gone, and inventory's to keep).
        let watched: std::collections::BTreeSet<String> =
            hb.monitor.watched().map(|(h, _)| h.clone()).collect();
        for uuid in &watched {
            let health = starling_mtce::alarms::health_of(&hb.monitor, uuid);
            let Some(h) = known.get_mut(uuid) else {
                continue;
            };
            if h.availability == health.availability() || h.administrative != "unlocked" {
                continue;
            }
            match st.hosts.observe(uuid, health).await {
                Ok(()) => h.availability = health.availability().to_string(),
                Err(e) => {
                    tracing::error!(error = %e, host = %uuid, "cannot record the host's health")
                }
            }
        }
    }
}
