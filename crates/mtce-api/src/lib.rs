//! Host maintenance as a service (StarlingX's mtcAgent and hbsAgent, on
//! port 2112): each host's agent registers its heartbeat responder with its
//! own credential (`PUT /v1/agent/{host}/heartbeat`, answered with the
//! cloud's heartbeat key and period); the heartbeat pulses every registered,
//! unlocked host and raises and clears the heartbeat and host-failed alarms
//! (200.005, 200.009, 200.004) through FM.
//!
//! Each unlocked host's state (intest, available, degraded, failed,
//! offline, with StarlingX's task) is maintenance's: it enables a host
//! after its unlock, recovers a failed one gracefully, or reboots it over
//! the heartbeat and resets it through its BMC ([`starling_mtce::host`]).

pub mod service;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use starling_common::alarm::AlarmSink;
use starling_db::Db;
use starling_heartbeat::{Heartbeat, Key, Target};
use starling_http::{
    AgentScope, ApiError, ApiJson, Authenticator, BoxFuture, GuardState, Principal, json,
};
use starling_mtce::monitors::{HostMonitors, MonitorReport};
use starling_mtce::{Action, HostFsm, Level, Network, Phase, Seen, Timers};
use starling_service::{HostHealth, HostSummary, Hosts};

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
    (Method::PUT, "/v1/agent/{host}/monitors", Some(AGENT_POLICY)),
];

/// What the API and the heartbeat share.
#[derive(Clone)]
pub struct MtceState {
    pub db: Db,
    pub hosts: Arc<dyn Hosts>,
    pub alarms: Option<Arc<dyn AlarmSink>>,
    /// Each registered agent's responder, by host uuid.
    pub targets: Arc<Mutex<BTreeMap<String, Responder>>>,
    pub key: Key,
    pub period: Duration,
    /// The management pulser's counters.
    pub pulses: Arc<starling_heartbeat::Stats>,
    /// How many monitored hosts are at each level on the management
    /// network (ok, minor, degraded, failed), after the last period.
    pub levels: Arc<Mutex<[usize; 4]>>,
    /// Recovery's timers and limits.
    pub timers: Timers,
    /// How the BMCs are reached.
    pub bmc: BmcReach,
    /// What each host's own monitors (its agent's process monitor)
    /// reported.
    pub monitors: Arc<Mutex<HostMonitors>>,
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
            let who = starling_service::host_agent(self.hosts.as_ref(), headers).await?;
            if policy != AGENT_POLICY {
                return Err(ApiError::forbidden(format!(
                    "Policy doesn't allow {policy} to be performed."
                )));
            }
            Ok(who)
        })
    }
}

/// An agent's heartbeat registration: the UDP port its responder listens
/// on (at the address the request came from and, where the host is on the
/// cluster-host network, at its address there).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub port: u16,
    #[serde(default)]
    pub cluster_address: Option<std::net::IpAddr>,
}

/// Where a host's responder is pulsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Responder {
    pub mgmt: SocketAddr,
    pub cluster: Option<SocketAddr>,
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
    let uuid = own_host(&who, &host)?.to_string();
    if body.port == 0 {
        return Err(ApiError::bad_request(
            "Invalid port 0: the responder's UDP port",
        ));
    }
    let at = Responder {
        mgmt: SocketAddr::new(from.ip(), body.port),
        cluster: body
            .cluster_address
            .map(|ip| SocketAddr::new(ip, body.port)),
    };
    let before = st
        .targets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(uuid.clone(), at);
    if before != Some(at) {
        tracing::info!(host = %uuid, responder = %at.mgmt, cluster = ?at.cluster, "heartbeat responder registered");
    }
    Ok(json(
        StatusCode::OK,
        &HeartbeatConfig {
            key: st.key.to_hex(),
            period_ms: st.period.as_millis() as u64,
        },
    ))
}

/// The agent of `host` itself, or 403.
fn own_host<'a>(who: &'a Principal, host: &str) -> Result<&'a str, ApiError> {
    let Some(AgentScope::Host(uuid)) = &who.agent else {
        return Err(ApiError::forbidden("Only a host's agent reports for it"));
    };
    if host != *uuid {
        return Err(ApiError::forbidden(
            "This agent's credential is for another host",
        ));
    }
    Ok(uuid)
}

/// An agent's report of its host's own monitors (every condition that
/// holds, and its undelivered logs): the 200.006 alarms follow it, and a
/// major failure degrades the host, a critical one fails it (applied by
/// the heartbeat's next period).
async fn report_monitors(
    State(st): State<MtceState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(host): Path<String>,
    ApiJson(body): ApiJson<MonitorReport>,
) -> Result<Response, ApiError> {
    let uuid = own_host(&who, &host)?;
    body.validate().map_err(ApiError::bad_request)?;
    let all = st.hosts.all().await.map_err(ApiError::unavailable)?;
    let Some(h) = all.iter().find(|h| h.uuid == uuid) else {
        return Err(ApiError::not_found(format!(
            "Host {uuid} could not be found."
        )));
    };
    let effects = lock(&st.monitors).report(uuid, h.display_name(), body);
    for e in &effects {
        tracing::info!(host = %h.display_name(), alarm = e.alarm_id(), effect = ?e, "host monitor report");
    }
    if let Some(sink) = &st.alarms {
        for e in effects {
            sink.send(e).await.map_err(ApiError::unavailable)?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
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
        .route("/v1/agent/{host}/monitors", put(report_monitors))
        .fallback(starling_http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .with_state(state)
}

/// How maintenance reaches the hosts' BMCs: `bm_ip` is the BMC's
/// address; Redfish's scheme, port and certificate trust and IPMI's port,
/// interface and tool are the cloud's.
#[derive(Clone, Debug)]
pub struct BmcReach {
    /// `https` (or `http` for an emulator).
    pub scheme: String,
    pub port: u16,
    /// CA certificates (PEM) that verify the BMCs' certificates.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate (self-signed BMCs): the operator's choice.
    pub insecure: bool,
    /// IPMI's UDP port (623).
    pub ipmi_port: u16,
    /// ipmitool's interface (`lanplus`, or `lan`).
    pub ipmi_interface: String,
    /// The ipmitool program.
    pub ipmitool: std::path::PathBuf,
}

impl Default for BmcReach {
    /// Redfish over HTTPS on 443, verified by the system's roots; IPMI 2.0
    /// (lanplus) on 623 with `ipmitool`.
    fn default() -> Self {
        BmcReach {
            scheme: "https".into(),
            port: 443,
            ca_pem: None,
            insecure: false,
            ipmi_port: 623,
            ipmi_interface: "lanplus".into(),
            ipmitool: "ipmitool".into(),
        }
    }
}

impl BmcReach {
    /// Host `uuid`'s BMC, as inventory has it provisioned: Redfish or IPMI
    /// by its `bm_type`; `dynamic` tries Redfish first, then IPMI (as
    /// StarlingX learns it).
    async fn bmc(
        &self,
        hosts: &dyn Hosts,
        uuid: &str,
    ) -> Result<Box<dyn starling_bmc::Bmc>, String> {
        use starling_bmc::Bmc;
        let access = hosts
            .bmc(uuid)
            .await?
            .ok_or("no board management controller is provisioned")?;
        let redfish = || {
            let host = if access.address.contains(':') {
                format!("[{}]", access.address)
            } else {
                access.address.clone()
            };
            starling_bmc::Redfish::new(starling_bmc::RedfishConfig {
                url: format!("{}://{host}:{}", self.scheme, self.port),
                username: access.username.clone(),
                password: access.password.clone(),
                ca_pem: self.ca_pem.clone(),
                insecure: self.insecure,
                system: None,
                timeout: Duration::from_secs(20),
            })
            .map_err(|e| e.to_string())
        };
        let ipmi = || {
            starling_bmc::Ipmi::new(starling_bmc::IpmiConfig {
                address: access.address.clone(),
                port: self.ipmi_port,
                username: access.username.clone(),
                password: access.password.clone(),
                interface: self.ipmi_interface.clone(),
                tool: self.ipmitool.clone(),
                timeout: Duration::from_secs(20),
            })
            .map_err(|e| e.to_string())
        };
        match access.bm_type.as_str() {
            "redfish" => Ok(Box::new(redfish()?)),
            "ipmi" => Ok(Box::new(ipmi()?)),
            "dynamic" => {
                let r = redfish()?;
                if r.power().await.is_ok() {
                    Ok(Box::new(r))
                } else {
                    Ok(Box::new(ipmi()?))
                }
            }
            other => Err(format!("no BMC protocol {other:?}")),
        }
    }

    /// Carries a `reset` (an operator's or recovery's), `power-on` or
    /// `power-off` out on host `uuid`; a power action is done when the BMC
    /// reports the power so (polled every 2 s for up to `POWER_WAIT`).
    async fn command(&self, hosts: &dyn Hosts, uuid: &str, command: &str) -> Result<(), String> {
        use starling_bmc::{Action, Power};
        const POWER_WAIT: Duration = Duration::from_secs(120);
        let (action, want) = match command {
            "reset" => (Action::Reset, None),
            "power-cycle" => (Action::Cycle, None),
            "power-on" => (Action::On, Some(Power::On)),
            "power-off" => (Action::Off, Some(Power::Off)),
            other => return Err(format!("{other} is not carried out through a BMC")),
        };
        let bmc = self.bmc(hosts, uuid).await?;
        bmc.act(action).await.map_err(|e| e.to_string())?;
        let Some(want) = want else { return Ok(()) };
        let deadline = tokio::time::Instant::now() + POWER_WAIT;
        loop {
            match bmc.power().await {
                Ok(p) if p == want => return Ok(()),
                Ok(p) if tokio::time::Instant::now() >= deadline => {
                    return Err(format!(
                        "the power is still {p:?} {} s after the request",
                        POWER_WAIT.as_secs()
                    ));
                }
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e.to_string()),
                _ => tokio::time::sleep(Duration::from_secs(2)).await,
            }
        }
    }
}

/// A BMC's sensor as inventory records it.
fn reading_of(x: starling_bmc::Sensor) -> starling_service::SensorReading {
    use starling_bmc::SensorGroup;
    let t = x.thresholds;
    starling_service::SensorReading {
        path: match x.group {
            SensorGroup::Temperature | SensorGroup::Fan => "Thermal",
            SensorGroup::Voltage => "Power",
        }
        .into(),
        kind: x.group.as_str().into(),
        name: x.name,
        reading: x.reading,
        unit: x.unit,
        minor: (t.lower_minor, t.upper_minor),
        major: (t.lower_major, t.upper_major),
        critical: (t.lower_critical, t.upper_critical),
        status: x.status.as_str().into(),
    }
}

/// The sensor audit (StarlingX's hwmond): every `interval`, each host with
/// a provisioned BMC has its sensors read (the hosts at once), recorded
/// in inventory (`system host-sensor-list`) and judged by its groups'
/// actions: 200.007 at the sensor's severity (`alarm`), a log (`log`),
/// nothing (`ignore`, or suppressed), or at critical the host reset or
/// power-cycled through its BMC too (`reset`, `power-cycle`; once per
/// cool-off). A BMC that cannot be read keeps its sensors' last records
/// and alarms, and raises 200.010 until it can be read again.
pub async fn sensor_audit(
    hosts: Arc<dyn Hosts>,
    alarms: Option<Arc<dyn AlarmSink>>,
    reach: BmcReach,
    interval: Duration,
) -> Result<(), String> {
    use starling_mtce::sensors::{BmcAccess, SensorAction, SensorAlarms};
    let mut raised = SensorAlarms::default();
    let mut access = BmcAccess::default();
    let origin = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let all = match hosts.all().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the hosts for the sensor audit");
                continue;
            }
        };
        let read: std::collections::BTreeSet<String> = all
            .iter()
            .filter(|h| h.bmc)
            .map(|h| h.uuid.clone())
            .collect();
        let mut reads = tokio::task::JoinSet::new();
        for h in all.iter().filter(|h| h.bmc) {
            let (hosts, reach, uuid) = (hosts.clone(), reach.clone(), h.uuid.clone());
            reads.spawn(async move {
                let r = async {
                    let bmc = reach.bmc(hosts.as_ref(), &uuid).await?;
                    bmc.sensors().await.map_err(|e| e.to_string())
                }
                .await;
                (uuid, r)
            });
        }
        let mut effects = Vec::new();
        while let Some(done) = reads.join_next().await {
            let Ok((uuid, r)) = done else { continue };
            let Some(h) = all.iter().find(|h| h.uuid == uuid) else {
                continue;
            };
            let name = h.display_name();
            effects.extend(access.audited(&uuid, name, r.is_ok()));
            let sensors = match r {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(host = %name, error = %e, "cannot read the host's BMC sensors");
                    continue;
                }
            };
            let read: Vec<starling_mtce::sensors::Read> = sensors
                .iter()
                .map(|x| starling_mtce::sensors::Read {
                    name: x.name.clone(),
                    status: x.status.as_str().into(),
                    reading: x.reading,
                    unit: x.unit.clone(),
                })
                .collect();
            let readings = sensors.into_iter().map(reading_of).collect();
            let actions = match hosts.sensors(&uuid, interval, readings).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!(host = %name, error = %e, "cannot record the host's sensors");
                    continue;
                }
            };
            let actions = actions
                .into_iter()
                .filter_map(|(s, a)| SensorAction::parse(&a).map(|a| (s, a)))
                .collect();
            let judged = raised.update(&uuid, name, &read, &actions, origin.elapsed());
            effects.extend(judged.effects);
            if let Some(remedy) = judged.remedy {
                tracing::warn!(host = %name, sensor = %remedy.sensor, command = remedy.command, "a critical sensor asks for a BMC action");
                effects.push(starling_mtce::alarms::command(
                    name,
                    format!(
                        "{name} {} through its board management controller: sensor {} is critical",
                        remedy.command, remedy.sensor
                    ),
                ));
                let (hosts, reach) = (hosts.clone(), reach.clone());
                let (uuid, name) = (uuid.clone(), name.to_string());
                tokio::spawn(async move {
                    if let Err(e) = reach.command(hosts.as_ref(), &uuid, remedy.command).await {
                        tracing::error!(host = %name, command = remedy.command, error = %e, "the sensor's BMC action failed");
                    }
                });
            }
        }
        // A host gone, or its BMC removed: its sensor and access alarms
        // clear.
        let gone: Vec<String> = raised
            .hosts()
            .chain(access.hosts())
            .filter(|u| !read.contains(*u))
            .cloned()
            .collect();
        for uuid in gone {
            let name = all
                .iter()
                .find(|h| h.uuid == uuid)
                .map_or(uuid.clone(), |h| h.display_name().to_string());
            effects.extend(raised.forget(&uuid, &name));
            effects.extend(access.forget(&uuid, &name));
        }
        if let Some(sink) = &alarms {
            for e in effects {
                if let Err(err) = sink.send(e).await {
                    tracing::error!(error = %err, "cannot report to fault management");
                }
            }
        }
    }
}

/// The operators' reset and power actions on hosts with a BMC, carried out
/// by maintenance (inventory hands them over; the outcome goes back to it).
pub struct MtceBmc {
    pub hosts: Arc<dyn Hosts>,
    pub reach: BmcReach,
}

impl starling_service::BmcCommands for MtceBmc {
    fn carry_out(&self, uuid: &str, command: &str) {
        let (hosts, reach) = (self.hosts.clone(), self.reach.clone());
        let (uuid, command) = (uuid.to_string(), command.to_string());
        tokio::spawn(async move {
            let r = reach.command(hosts.as_ref(), &uuid, &command).await;
            if let Err(e) = &r {
                tracing::error!(host = %uuid, %command, error = %e, "BMC action failed");
            }
            if let Err(e) = hosts.complete(&uuid, &command, r.is_ok(), r.err()).await {
                tracing::error!(host = %uuid, %command, error = %e, "cannot record the BMC action's outcome");
            }
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The worst level of `host` over the networks it is pulsed on.
fn worst(monitor: &starling_mtce::Monitor<String>, host: &String) -> Option<Level> {
    [Network::Mgmt, Network::Cluster]
        .into_iter()
        .filter_map(|n| monitor.level(host, n))
        .max()
}

/// The heartbeat and each unlocked host's maintenance: every period, every
/// registered agent of an unlocked host is pulsed; each level change is
/// logged (target `heartbeat`) and its heartbeat alarms raised or cleared;
/// then each unlocked host's machine ([`starling_mtce::HostFsm`]) is
/// stepped: its state and task go to inventory, its host-failed alarm to
/// FM, its reboot requests over the heartbeat and its resets to the BMC.
/// The host list is read from inventory about once a second.
pub async fn heartbeat(st: MtceState, mut hb: Heartbeat) -> Result<(), String> {
    let refresh = (Duration::from_secs(1).as_millis() / st.period.as_millis().max(1)).max(1) as u64;
    let origin = tokio::time::Instant::now();
    let t = st.timers;
    let mut known: BTreeMap<String, HostSummary> = BTreeMap::new();
    let mut fsms: BTreeMap<String, HostFsm> = BTreeMap::new();
    let (bmc_tx, mut bmc_rx) =
        tokio::sync::mpsc::unbounded_channel::<(String, Result<(), String>)>();
    let mut n: u64 = 0;
    loop {
        if n.is_multiple_of(refresh) {
            match st.hosts.all().await {
                Ok(all) => {
                    known = all.into_iter().map(|h| (h.uuid.clone(), h)).collect();
                    // A host deleted is forgotten (inventory cleared its
                    // alarms with it).
                    lock(&st.monitors).retain(|uuid| known.contains_key(uuid));
                }
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
                    mgmt: at.mgmt,
                    cluster: at.cluster,
                })
                .collect()
        };
        let changes = hb.tick(&targets).await;
        let now = origin.elapsed();
        {
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
        // The hosts' own alarms (failed, recovered, commands) are delivered
        // before the heartbeat's: a failure reaches FM one commit sooner.
        let heartbeat_effects = starling_mtce::alarms::effects(&changes, name);
        let mut effects = Vec::new();

        // What came back since the last period: acknowledged reboots, BMC
        // resets done.
        for (uuid, network) in hb.acked() {
            if let Some(m) = fsms.get_mut(&uuid) {
                tracing::warn!(host = %name(&uuid), network = network.as_str(), "the host acknowledged its reboot");
                m.acked(network, now, &t);
                lock(&st.monitors).rebooted(&uuid);
            }
        }
        while let Ok((uuid, result)) = bmc_rx.try_recv() {
            if let Err(e) = &result {
                tracing::error!(host = %name(&uuid), error = %e, "BMC reset failed");
            }
            if result.is_ok() {
                lock(&st.monitors).rebooted(&uuid);
            }
            if let Some(m) = fsms.get_mut(&uuid) {
                m.bmc_done(result, now, &t);
            }
        }

        // Every unlocked host has its machine; a host locked or deleted
        // leaves it (and its failure alarm: a locked host is accused of
        // nothing).
        let unlocked = |h: &HostSummary| h.administrative == "unlocked";
        fsms.retain(|uuid, m| {
            if known.get(uuid).is_some_and(unlocked) {
                return true;
            }
            hb.cancel_reboot(uuid);
            if m.alarmed() {
                effects.push(starling_mtce::alarms::recovered(&name(uuid)));
            }
            false
        });
        for h in known.values().filter(|h| unlocked(h)) {
            fsms.entry(h.uuid.clone()).or_insert_with(|| {
                let shown = HostHealth::parse(&h.availability).unwrap_or(HostHealth::Intest);
                HostFsm::adopt(shown, &h.task, now, &t)
            });
        }
        let in_service = |h: &String| {
            fsms.get(h).is_some_and(|m| {
                matches!(
                    m.phase(),
                    Phase::Enabled { .. } | Phase::PoolExit { .. } | Phase::Soak { .. }
                )
            })
        };
        let mnfa = starling_mtce::alarms::mnfa(&hb.monitor, in_service);
        let mut writes = Vec::new();
        for (uuid, m) in &mut fsms {
            let Some(h) = known.get(uuid) else { continue };
            let impact = lock(&st.monitors).impact(uuid);
            let seen = Seen {
                level: worst(&hb.monitor, uuid),
                mnfa: mnfa
                    .iter()
                    .any(|n| hb.monitor.level(uuid, *n) == Some(Level::Failed)),
                bmc: h.bmc,
                cluster: hb.monitor.level(uuid, Network::Cluster).is_some(),
                degraded: impact.degraded,
                critical: impact.critical.is_some(),
            };
            let host = h.display_name().to_string();
            for action in m.step(now, &seen, &t) {
                match action {
                    Action::Failed(why) => {
                        let why = match &impact.critical {
                            Some(c) if seen.level != Some(Level::Failed) => {
                                format!("{why} ({c})")
                            }
                            _ => why,
                        };
                        tracing::warn!(host = %host, reason = %why, "host failed");
                        effects.push(starling_mtce::alarms::failed(&host, &why));
                    }
                    Action::Recovered => {
                        tracing::info!(host = %host, "host back in service");
                        effects.push(starling_mtce::alarms::recovered(&host));
                    }
                    Action::Reboot(network) => match hb.ask_reboot(uuid, network) {
                        Ok(true) => {
                            tracing::warn!(host = %host, network = network.as_str(), "asking the host to reboot");
                            effects.push(starling_mtce::alarms::command(
                                &host,
                                format!(
                                    "{host} auto-recovery: reboot requested over the {} network",
                                    network.as_str()
                                ),
                            ));
                        }
                        Ok(false) => {}
                        Err(e) => tracing::error!(error = %e, "cannot ask for a reboot"),
                    },
                    Action::BmcReset => {
                        tracing::warn!(host = %host, "resetting the host through its BMC");
                        effects.push(starling_mtce::alarms::command(
                            &host,
                            format!("{host} auto-recovery: reset through its board management controller"),
                        ));
                        let (hosts, reach, tx, uuid) = (
                            st.hosts.clone(),
                            st.bmc.clone(),
                            bmc_tx.clone(),
                            uuid.clone(),
                        );
                        tokio::spawn(async move {
                            let r = reach.command(hosts.as_ref(), &uuid, "reset").await;
                            let _ = tx.send((uuid, r));
                        });
                    }
                }
            }
            if !matches!(m.phase(), Phase::Reboot { .. }) {
                hb.cancel_reboot(uuid);
            }
            let (health, task) = m.wanted();
            if h.availability != health.availability() || h.task != task {
                writes.push((uuid.clone(), health, task.to_string()));
            }
        }
        // The alarms to FM and the states to inventory at once: neither
        // waits for the other's commit.
        let deliver = async {
            if let Some(sink) = &st.alarms {
                for e in effects.into_iter().chain(heartbeat_effects) {
                    if let Err(err) = sink.send(e).await {
                        tracing::error!(error = %err, "cannot report to fault management");
                    }
                }
            }
        };
        let record = async {
            let mut recorded = Vec::new();
            for (uuid, health, task) in writes {
                match st.hosts.observe(&uuid, health, &task).await {
                    Ok(()) => recorded.push((uuid, health, task)),
                    Err(e) => {
                        tracing::error!(error = %e, host = %uuid, "cannot record the host's state")
                    }
                }
            }
            recorded
        };
        let ((), recorded) = tokio::join!(deliver, record);
        for (uuid, health, task) in recorded {
            if let Some(h) = known.get_mut(&uuid) {
                h.availability = health.availability().to_string();
                h.operational = if health.enabled() {
                    "enabled"
                } else {
                    "disabled"
                }
                .to_string();
                h.task = task;
            }
        }
    }
}
