//! Service management on a controller (`starlingd sm`, StarlingX's `sm`
//! and `sm-api`): it loads what it manages from its tables
//! ([`starling_sm_store`]), runs the service groups' actions through the
//! executors ([`exec`]) as the node's state machines
//! ([`starling_sm::node`]) ask, records what it finds, and answers sm-api's
//! read routes on loopback (port 7777) for sysinv and `sm-dump`.
//!
//! Alone (no heartbeat interface provisioned) the controller runs every
//! group of its domain active.

pub mod exec;
pub mod peer;
pub mod postgres;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use peer::{Effect, Pairing, PeerConfig, PeerView};
use starling_common::alarm::{AlarmSink, RaisedAlarm};
use starling_common::{Clock, Error};
use starling_db::{Db, Tuning};
use starling_http::{ApiError, Authenticator, BoxFuture, GuardState, HeaderMap, Principal, json};
use starling_sm::model::{ActionKind, Model};
use starling_sm::node::{GroupView, Node, ServiceView, status_str};
use starling_sm::schedule::Desired;
use starling_sm::{Candidate, Concern, Role};
use starling_sm_store as store;
use starling_sm_types::{SmNode, SmNodes, SmSdas, SmService, SmServiceGroup, SmServices};
use tokio::sync::mpsc;

/// sm-api's port.
pub const DEFAULT_PORT: u16 = 7777;

/// How `starlingd sm` runs.
#[derive(Clone)]
pub struct Config {
    /// This controller's name (its hostname).
    pub node: String,
    /// SM's own database (a SQLite file by default).
    pub database_url: String,
    /// Where the `process` services' pid files go.
    pub run_dir: PathBuf,
    /// sm-api's address (loopback).
    pub listen: SocketAddr,
    /// How often the state machines step (StarlingX's SM: 100 ms).
    pub tick: Duration,
    /// On stop, how long the groups have to be disabled.
    pub shutdown_timeout: Duration,
    /// The SM key both controllers hold (128 hex digits, owner-only).
    pub key_file: PathBuf,
    /// The password of the peer's BMC (owner-only).
    pub bmc_password_file: PathBuf,
    /// The cloud's heartbeat key (owner-only), with which the hosts answer
    /// witness probes; missing: no witnesses.
    pub heartbeat_key_file: PathBuf,
    /// The UDP port of the hosts' heartbeat responders.
    pub witness_port: u16,
    /// Where 400.001, 400.002 and 400.005 go (FM's client, spooling while
    /// FM is away — it runs behind the floating address).
    pub alarms: Option<Arc<dyn AlarmSink>>,
    /// Who may ask for a swact (an operator's token with the admin role,
    /// checked against the identity service); none: nobody.
    pub auth: Option<Arc<dyn Authenticator>>,
}

/// Opens SM's database, creating and seeding it the first time.
pub async fn open(url: &str) -> Result<Db, String> {
    let tuning = Tuning {
        readers: 1,
        ..Tuning::default()
    };
    Db::open(url, tuning, &[store::SCHEMA])
        .await
        .map_err(|e| format!("sm database {}: {e}", starling_db::redact_url(url)))
}

/// Reads and checks what SM manages.
pub async fn load(db: &Db) -> Result<Model, String> {
    db.read(|c| store::load(c)).await.map_err(|e| e.to_string())
}

type Done = (
    String,
    ActionKind,
    Result<Option<starling_sm::node::Finding>, String>,
);

/// How the pair is configured: `PEER_NODE`, the SM key (`key_file`), the
/// peer's BMC (`PEER_BMC_TYPE` redfish or ipmi, `PEER_BMC_ADDRESS`,
/// `PEER_BMC_USERNAME`, `PEER_BMC_IPMI_INTERFACE` lanplus or lan, the
/// password in `bmc_password_file`), the failover
/// timers (`FAILPENDING_TIMEOUT_MS`, `STANDBY_FENCE_DELAY_MS`) and
/// `UNFENCED_TAKEOVER` (never, with-witnesses, always). None when no
/// interface is provisioned: the controller runs alone.
/// The shortest fail-pending period SM accepts (StarlingX: 1,200 ms; here
/// lower, for a pair whose fence makes a quick judgement safe — see
/// docs/ha.md, "Failover time").
pub const MIN_FAIL_PENDING: Duration = Duration::from_millis(100);

/// Whether `value` is one SM takes for its setting `name` (the settings
/// it reads with a fixed form; others — names, addresses — are taken as
/// they are): `sm configure set` refuses what SM would refuse at start.
pub fn check_setting(name: &str, value: &str) -> Result<(), String> {
    let ms = || {
        value
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("{name} {value:?} is not a number of milliseconds"))
    };
    let one_of = |allowed: &[&str]| {
        if allowed.contains(&value.trim()) {
            Ok(())
        } else {
            Err(format!("{name} {value:?}: {}", allowed.join(", ")))
        }
    };
    match name {
        "FAILPENDING_TIMEOUT_MS" => {
            let v = ms()?;
            if u128::from(v) < MIN_FAIL_PENDING.as_millis() {
                return Err(format!(
                    "{name} {v}: at least {} ms",
                    MIN_FAIL_PENDING.as_millis()
                ));
            }
            Ok(())
        }
        "STANDBY_FENCE_DELAY_MS" => ms().map(|_| ()),
        "UNFENCED_TAKEOVER" => one_of(&["never", "with-witnesses", "always"]),
        "PEER_BMC_TYPE" => one_of(&["redfish", "ipmi", "none"]),
        "PEER_BMC_INSECURE" => one_of(&["true", "false"]),
        "PEER_BMC_IPMI_INTERFACE" => one_of(&["lan", "lanplus"]),
        _ => Ok(()),
    }
}

pub async fn peer_config(
    db: &Db,
    cfg: &Config,
    model: &Model,
) -> Result<Option<PeerConfig>, String> {
    if !model.domain.interfaces.iter().any(|i| i.provisioned) {
        return Ok(None);
    }
    // Each setting, trimmed, held to the rules `sm configure set` applies
    // (one place: `check_setting`).
    let conf = |k: &'static str| {
        let db = db.clone();
        async move {
            let v = db
                .read(move |c| store::configuration(c, k))
                .await
                .map_err(|e| e.to_string())?
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            if let Some(v) = &v {
                check_setting(k, v)?;
            }
            Ok::<_, String>(v)
        }
    };
    let peer = conf("PEER_NODE").await?.ok_or(
        "a heartbeat interface is provisioned but no peer: sm configure set PEER_NODE <its name>",
    )?;
    let key = starling_sm_peer::Key::load(&cfg.key_file)?;
    let ms = |v: Option<String>, default: u64, name: &str| -> Result<Duration, String> {
        v.map_or(Ok(default), |v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name} {v:?} is not a number of milliseconds"))
        })
        .map(Duration::from_millis)
    };
    let fail_pending = ms(
        conf("FAILPENDING_TIMEOUT_MS").await?,
        2000,
        "FAILPENDING_TIMEOUT_MS",
    )?;
    let standby_fence_delay = ms(
        conf("STANDBY_FENCE_DELAY_MS").await?,
        2000,
        "STANDBY_FENCE_DELAY_MS",
    )?;
    // Checked: never, with-witnesses or always.
    let unfenced = match conf("UNFENCED_TAKEOVER").await?.as_deref() {
        Some("with-witnesses") => starling_sm::Unfenced::WithWitnesses,
        Some("always") => starling_sm::Unfenced::Always,
        _ => starling_sm::Unfenced::Never,
    };
    let policy = starling_sm::Policy {
        fail_pending,
        standby_fence_delay,
        unfenced,
        ..starling_sm::Policy::default()
    };
    let fence: Option<Arc<dyn starling_bmc::Bmc>> = match conf("PEER_BMC_TYPE").await?.as_deref() {
        None | Some("none") => None,
        Some(kind) => {
            let address = conf("PEER_BMC_ADDRESS")
                .await?
                .ok_or("PEER_BMC_TYPE is set but not PEER_BMC_ADDRESS")?;
            let username = conf("PEER_BMC_USERNAME").await?.unwrap_or_default();
            let password = secret_file(&cfg.bmc_password_file)?;
            match kind {
                "redfish" => Some(Arc::new(
                    starling_bmc::redfish::Redfish::new(starling_bmc::redfish::RedfishConfig {
                        url: address,
                        username,
                        password,
                        ca_pem: None,
                        insecure: conf("PEER_BMC_INSECURE").await?.as_deref() == Some("true"),
                        system: conf("PEER_BMC_SYSTEM").await?,
                        timeout: Duration::from_secs(5),
                    })
                    .map_err(|e| e.to_string())?,
                )),
                "ipmi" => {
                    let (host, port) = match address.rsplit_once(':') {
                        Some((h, p)) => (
                            h.to_string(),
                            p.parse()
                                .map_err(|_| format!("PEER_BMC_ADDRESS {address:?}: port"))?,
                        ),
                        None => (address.clone(), 623),
                    };
                    Some(Arc::new(
                        starling_bmc::ipmi::Ipmi::new(starling_bmc::ipmi::IpmiConfig {
                            address: host,
                            port,
                            username,
                            password,
                            interface: conf("PEER_BMC_IPMI_INTERFACE")
                                .await?
                                .unwrap_or_else(|| "lanplus".into()),
                            tool: "ipmitool".into(),
                            timeout: Duration::from_secs(10),
                        })
                        .map_err(|e| e.to_string())?,
                    ))
                }
                other => return Err(format!("PEER_BMC_TYPE {other:?}: redfish, ipmi or none")),
            }
        }
    };
    let witness = match std::fs::metadata(&cfg.heartbeat_key_file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(
                file = %cfg.heartbeat_key_file.display(),
                "no heartbeat key: the hosts cannot witness a partition between the controllers"
            );
            None
        }
        _ => Some(peer::WitnessSetup {
            key: starling_heartbeat::Key::from_hex(&secret_file(&cfg.heartbeat_key_file)?)
                .map_err(|e| format!("{}: {e}", cfg.heartbeat_key_file.display()))?,
            port: cfg.witness_port,
        }),
    };
    Ok(Some(PeerConfig {
        peer,
        key,
        fence,
        policy,
        witness,
    }))
}

/// A secret from a file only its owner may read.
pub(crate) fn secret_file(path: &std::path::Path) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{}: must be readable by its owner only (chmod 600)",
            path.display()
        ));
    }
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches('\n').to_string())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A task aborted when this is dropped.
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often the peer's BMC is read while all is well.
const BMC_AUDIT: Duration = Duration::from_secs(30);

/// Reads the peer's BMC now and every [`BMC_AUDIT`]: a fence then goes out
/// as one request (the BMC's reset action known), and an operator learns
/// from the log, before it is needed, that the peer cannot be fenced.
async fn audit_bmc(bmc: Arc<dyn starling_bmc::Bmc>) {
    let mut reachable: Option<bool> = None;
    loop {
        let now = bmc.power().await;
        match (&now, reachable) {
            (Ok(p), None | Some(false)) => {
                tracing::info!(power = ?p, "the peer controller's BMC answers: it can be fenced")
            }
            (Err(e), None | Some(true)) => tracing::error!(
                error = %e,
                "the peer controller's BMC does not answer: it cannot be fenced until it does"
            ),
            _ => {}
        }
        reachable = Some(now.is_ok());
        tokio::time::sleep(BMC_AUDIT).await;
    }
}

async fn wait_tick(pairing: &mut Option<Pairing>, at: tokio::time::Instant) {
    match pairing {
        Some(p) => p.receive_until(at).await,
        None => tokio::time::sleep_until(at).await,
    }
}

fn role_desired(r: Role) -> Desired {
    match r {
        Role::Active => Desired::Active,
        Role::Standby => Desired::Standby,
    }
}

/// Runs SM until `stop` resolves, then disables the groups (bounded by
/// `shutdown_timeout`) and returns.
pub async fn run(
    cfg: Config,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let db = open(&cfg.database_url).await?;
    let model = load(&db).await?;
    let results = db
        .read(|c| store::action_results(c))
        .await
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&cfg.run_dir).map_err(|e| format!("{}: {e}", cfg.run_dir.display()))?;
    let exec = Arc::new(exec::Executors::new(results, cfg.run_dir.clone()));
    if exec.arping.is_none() {
        tracing::warn!(
            "no arping (iputils-arping): floating addresses move without an announcement"
        );
    }
    let peer_cfg = peer_config(&db, &cfg, &model).await?;
    let _bmc_audit = peer_cfg
        .as_ref()
        .and_then(|p| p.fence.clone())
        .map(|bmc| AbortOnDrop(tokio::spawn(audit_bmc(bmc)).abort_handle()));
    let mut pairing = match &peer_cfg {
        Some(pc) => {
            let me = Candidate {
                generation: model.domain.generation,
                priority: model.domain.priority,
                name: cfg.node.clone(),
            };
            let interfaces: Vec<_> = model
                .domain
                .interfaces
                .iter()
                .filter(|i| i.provisioned)
                .cloned()
                .collect();
            Some(
                Pairing::bind(
                    me,
                    interfaces,
                    pc,
                    peer::Timers {
                        hello: model.domain.hello,
                        dead: model.domain.dead,
                        wait: model.domain.wait,
                    },
                    cfg.tick,
                )
                .await?,
            )
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("sm-api {}: {e}", cfg.listen))?;
    let (stop_api_tx, stop_api_rx) = tokio::sync::oneshot::channel::<()>();
    let (control_tx, mut control_rx) = mpsc::channel::<SwactRequest>(8);
    let app = router(db.clone(), cfg.node.clone(), control_tx, cfg.auth.clone());
    let api = tokio::spawn(starling_http::serve(listener, app, async move {
        let _ = stop_api_rx.await;
    }));
    // Dropped mid-run (a test's abort), SM takes its API down with it.
    let _api_guard = AbortOnDrop(api.abort_handle());
    let at = starling_common::SystemClock.now();
    let node_name = cfg.node.clone();
    db.write(move |c| {
        store::set_node(
            c,
            &node_name,
            "unlocked",
            "enabled",
            "available",
            "enabled",
            at,
        )
    })
    .await
    .map_err(|e| e.to_string())?;

    let mut node = Node::new(model.clone());
    let first = if pairing.is_some() {
        Role::Standby
    } else {
        Role::Active
    };
    for m in &model.domain.members {
        node.desire(&m.group, role_desired(first));
    }
    match &peer_cfg {
        Some(pc) => tracing::info!(
            node = %cfg.node,
            peer = %pc.peer,
            fence = pc.fence.is_some(),
            "service management running: standby until the pair decides"
        ),
        None => tracing::info!(
            node = %cfg.node,
            groups = model.groups.len(),
            services = model.services.len(),
            "service management running alone: every group active here"
        ),
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
    let (fence_tx, mut fence_rx) = mpsc::unbounded_channel::<Result<String, String>>();
    let started = tokio::time::Instant::now();
    let mut next = started;
    let mut last: Option<(Vec<GroupView>, Vec<ServiceView>)> = None;
    let mut last_peer: Option<PeerView> = None;
    let mut recorded_generation = model.domain.generation;
    let mut raised = starling_sm::alarms::Raised::default();
    let mut last_down: Vec<String> = Vec::new();
    // Alarms go out in order, from one task, so the loop never waits on FM.
    let alarm_tx = cfg.alarms.clone().map(|sink| {
        let (tx, mut rx) = mpsc::unbounded_channel::<starling_common::alarm::AlarmEffect>();
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                if let Err(err) = sink.send(e).await {
                    tracing::warn!(error = %err, "an alarm could not be handed to FM");
                }
            }
        });
        tx
    });
    tokio::pin!(stop);
    let mut stopping: Option<tokio::time::Instant> = None;
    loop {
        let mut effects = Vec::new();
        let mut ticked = false;
        tokio::select! {
            () = wait_tick(&mut pairing, next) => ticked = true,
            Some((svc, kind, result)) = rx.recv() => {
                if let Err(e) = &result {
                    tracing::warn!(service = %svc, action = kind.as_str(), error = %e, "action failed");
                }
                node.finished(&svc, kind, result, started.elapsed());
            }
            Some(outcome) = fence_rx.recv() => {
                if let Some(p) = &mut pairing {
                    match &outcome {
                        Ok(how) => tracing::warn!(peer = %p.peer(tokio::time::Instant::now()).name, how = %how, "the peer controller is fenced"),
                        Err(e) => tracing::error!(error = %e, "the peer controller could not be fenced"),
                    }
                    effects.extend(p.fenced(outcome.is_ok(), tokio::time::Instant::now()));
                }
            }
            Some(req) = control_rx.recv() => {
                let now = tokio::time::Instant::now();
                let answer = match (&mut pairing, stopping) {
                    (_, Some(_)) => Err("service management is stopping".to_string()),
                    (None, _) => Err(format!(
                        "{} runs alone: there is no other controller to swact to",
                        cfg.node
                    )),
                    (Some(p), None) if req.check => p.swact_check(now, req.force),
                    (Some(p), None) => p.swact(now, req.force).map(|e| effects.extend(e)),
                };
                let _ = req.answer.send(answer);
            }
            () = &mut stop, if stopping.is_none() => {
                tracing::info!("stopping: disabling the service groups");
                for m in &model.domain.members {
                    node.desire(&m.group, Desired::Disabled);
                }
                stopping = Some(tokio::time::Instant::now() + cfg.shutdown_timeout);
            }
        }
        if ticked {
            let now = tokio::time::Instant::now();
            next += cfg.tick;
            if next <= now {
                next = now + cfg.tick;
            }
            if let Some(p) = &mut pairing {
                let holding = model
                    .domain
                    .members
                    .iter()
                    .any(|m| node.holds_active(&m.group));
                effects.extend(p.tick(now, holding).await);
            }
        }
        for e in effects {
            match e {
                Effect::Role(r) if stopping.is_none() => {
                    tracing::info!(role = ?r, "this controller's role");
                    for m in &model.domain.members {
                        node.desire(&m.group, role_desired(r));
                    }
                }
                Effect::Role(_) => {}
                Effect::Fence => match peer_cfg.as_ref().and_then(|p| p.fence.clone()) {
                    Some(bmc) => {
                        let tx = fence_tx.clone();
                        tokio::spawn(async move {
                            let r = tokio::time::timeout(
                                Duration::from_secs(15),
                                peer::fence(bmc.as_ref()),
                            )
                            .await
                            .unwrap_or_else(|_| Err("the BMC did not answer within 15 s".into()));
                            let _ = tx.send(r);
                        });
                    }
                    None => {
                        let _ = fence_tx.send(Err("no BMC to fence the peer with".into()));
                    }
                },
                Effect::Concern(c) => {
                    let why = match c {
                        Concern::NoFence => {
                            "the peer controller is lost and cannot be fenced: staying standby"
                        }
                        Concern::NoQuorum => {
                            "the peer controller is lost and this controller reaches no majority of the hosts: it holds no active role"
                        }
                        Concern::FenceFailed => {
                            "the peer controller is lost and could not be fenced: not taking over"
                        }
                    };
                    tracing::error!(concern = ?c, "{why}")
                }
                Effect::Clear => tracing::info!("the concern is over"),
            }
        }
        let now = started.elapsed();
        for r in node.tick(now) {
            let Some(def) = model.services.get(&r.service).cloned() else {
                continue;
            };
            let Some(action) = def.action(r.action).cloned() else {
                continue;
            };
            let (exec, tx) = (exec.clone(), tx.clone());
            tokio::spawn(async move {
                let result = match tokio::time::timeout(r.timeout, exec.run(&def, &action)).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("timed out after {} s", r.timeout.as_secs())),
                };
                let _ = tx.send((r.service, r.action, result));
            });
        }
        let views = (node.groups(now), node.services());
        let peer_view = pairing
            .as_ref()
            .map(|p| p.peer(tokio::time::Instant::now()));
        let down = pairing
            .as_ref()
            .map(|p| p.paths_down(tokio::time::Instant::now()))
            .unwrap_or_default();
        if last.as_ref() != Some(&views) || peer_view != last_peer || down != last_down {
            let pair = pairing
                .as_ref()
                .zip(peer_view.as_ref())
                .map(|(p, pv)| (p.role(), pv.heard, pv.role, down.clone()));
            let wanted = wanted_alarms(&model, &cfg.node, &views.0, &views.1, pair);
            for e in raised.update(wanted) {
                tracing::info!(alarm = e.alarm_id(), effect = ?e, "alarm");
                if let Some(tx) = &alarm_tx {
                    let _ = tx.send(e);
                }
            }
            last_down = down;
        }
        let generation = pairing
            .as_ref()
            .map_or(recorded_generation, Pairing::generation);
        if last.as_ref() != Some(&views)
            || peer_view != last_peer
            || generation != recorded_generation
        {
            if last.as_ref() != Some(&views) {
                log_changes(last.as_ref(), &views);
            }
            let (groups, services) = views.clone();
            let name = cfg.node.clone();
            let at = starling_common::SystemClock.now();
            let peer_groups: Vec<GroupView> = match &peer_view {
                Some(pv) => model
                    .domain
                    .members
                    .iter()
                    .map(|m| peer_group(&m.group, pv))
                    .collect(),
                None => Vec::new(),
            };
            let pv = peer_view.clone();
            let leader = if pairing.as_ref().is_some_and(|p| p.role() == Role::Active)
                || pairing.is_none()
            {
                cfg.node.clone()
            } else {
                pv.as_ref().map(|p| p.name.clone()).unwrap_or_default()
            };
            let written = db
                .write(move |c| {
                    store::record(
                        c,
                        &store::Snapshot {
                            node: &name,
                            groups: &groups,
                            services: &services,
                            at,
                        },
                    )?;
                    if let Some(pv) = &pv {
                        let (oper, avail) = if pv.heard {
                            ("enabled", "available")
                        } else {
                            ("disabled", "failed")
                        };
                        store::set_node(
                            c,
                            &pv.name,
                            "unlocked",
                            oper,
                            avail,
                            if pv.heard { "enabled" } else { "disabled" },
                            at,
                        )?;
                        store::record(
                            c,
                            &store::Snapshot {
                                node: &pv.name,
                                groups: &peer_groups,
                                services: &[],
                                at,
                            },
                        )?;
                    }
                    store::set_generation(c, generation, &leader)
                })
                .await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "cannot record the service states");
            }
            last = Some(views);
            last_peer = peer_view;
            recorded_generation = generation;
        }
        if let Some(deadline) = stopping {
            let settled = last
                .as_ref()
                .is_some_and(|(g, _)| g.iter().all(|g| g.state == "disabled"));
            if settled || tokio::time::Instant::now() >= deadline {
                if !settled {
                    tracing::warn!("stopping with groups not yet disabled");
                }
                break;
            }
        }
    }
    let _ = stop_api_tx.send(());
    let _ = api.await;
    tracing::info!("service management stopped");
    Ok(())
}

/// The alarms this controller's state calls for: 400.001 for each of its
/// groups not well; when paired, 400.005 for each path the peer is not
/// heard on, and 400.002 for each group short of its actives or standbys
/// (raised by the active controller, or by a standby that no longer hears
/// the peer: the one side that knows).
fn wanted_alarms(
    model: &Model,
    node: &str,
    groups: &[GroupView],
    services: &[ServiceView],
    pair: Option<(Role, bool, Option<Role>, Vec<String>)>,
) -> Vec<RaisedAlarm> {
    use starling_sm::alarms;
    let domain = &model.domain.name;
    let mut out = Vec::new();
    for g in groups {
        let why: Vec<String> = services
            .iter()
            .filter(|s| {
                s.group == g.name
                    && !s.reason.is_empty()
                    && s.status != starling_sm::group::Status::None
            })
            .map(|s| format!("{}: {}", s.name, s.reason))
            .collect();
        out.extend(alarms::group_alarm(
            domain,
            &g.name,
            node,
            g.status,
            &why.join("; "),
        ));
    }
    let Some((role, heard, peer_role, down)) = pair else {
        return out;
    };
    for i in &down {
        out.push(alarms::path_alarm(node, i));
    }
    if role == Role::Active || !heard {
        for m in &model.domain.members {
            let mine = groups.iter().find(|g| g.name == m.group);
            let me_active =
                mine.is_some_and(|g| g.desired == Desired::Active && g.state == "active");
            let me_standby =
                mine.is_some_and(|g| g.desired == Desired::Standby && g.state == "standby");
            let peer_active = heard && peer_role == Some(Role::Active);
            let peer_standby = heard && peer_role == Some(Role::Standby);
            let actives = usize::from(me_active) + usize::from(peer_active);
            let standbys = usize::from(me_standby) + usize::from(peer_standby);
            out.extend(alarms::redundancy_alarm(
                domain,
                &m.group,
                actives,
                standbys,
                m.n_active,
                m.m_standby,
            ));
        }
    }
    out
}

/// The peer's group as its messages tell it: its role, or unknown once
/// it is not heard.
fn peer_group(group: &str, pv: &PeerView) -> GroupView {
    let (desired, state) = match (pv.heard, pv.role) {
        (true, Some(Role::Active)) => (Desired::Active, "active"),
        (true, Some(Role::Standby)) => (Desired::Standby, "standby"),
        _ => (Desired::Disabled, "unknown"),
    };
    GroupView {
        name: group.to_string(),
        desired,
        state,
        status: starling_sm::group::Status::None,
        condition: starling_sm::node::Condition::None,
    }
}

fn log_changes(
    before: Option<&(Vec<GroupView>, Vec<ServiceView>)>,
    now: &(Vec<GroupView>, Vec<ServiceView>),
) {
    let old_g: BTreeMap<&str, &GroupView> = before
        .map(|(g, _)| g.iter().map(|g| (g.name.as_str(), g)).collect())
        .unwrap_or_default();
    for g in &now.0 {
        let was = old_g.get(g.name.as_str());
        if was.is_none_or(|w| w.state != g.state || w.status != g.status) {
            tracing::info!(
                group = %g.name,
                state = g.state,
                status = status_str(g.status),
                condition = g.condition.as_str(),
                "service group"
            );
        }
    }
    let old_s: BTreeMap<&str, &ServiceView> = before
        .map(|(_, s)| s.iter().map(|s| (s.name.as_str(), s)).collect())
        .unwrap_or_default();
    for s in &now.1 {
        let was = old_s.get(s.name.as_str());
        if was.is_none_or(|w| w.state != s.state || w.status != s.status) {
            tracing::info!(
                service = %s.name,
                state = s.state,
                status = status_str(s.status),
                reason = %s.reason,
                "service"
            );
        }
    }
}

/// Without an identity service to check tokens with, a route that needs
/// one (a swact) is refused; the read routes need none (loopback only).
struct NoTokens;

impl Authenticator for NoTokens {
    fn authorize<'a>(
        &'a self,
        _headers: &'a HeaderMap,
        _policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        Box::pin(std::future::ready(Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "service management checks no tokens here (no --auth-url): it takes no swact",
        ))))
    }
}

/// A request of the API to the loop: a swact (`force`), or only its
/// pre-check (`check`).
struct SwactRequest {
    force: bool,
    check: bool,
    answer: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// What sm-api's handlers reach.
#[derive(Clone)]
struct ApiState {
    db: Db,
    node: String,
    control: mpsc::Sender<SwactRequest>,
}

const ROUTES: &[(Method, &str, Option<&str>)] = &[
    (Method::GET, "/", None),
    (Method::GET, "/v1", None),
    (Method::GET, "/v1/services", None),
    (Method::GET, "/v1/services/{key}", None),
    (Method::GET, "/v1/nodes", None),
    (Method::GET, "/v1/nodes/{key}", None),
    (Method::GET, "/v1/sm_sda", None),
    (Method::GET, "/v1/sm_sda/{uuid}", None),
    (
        Method::PATCH,
        "/v1/servicenode/{hostname}",
        Some("sm_api:servicenode:modify"),
    ),
];

fn failed(e: Error) -> ApiError {
    ApiError::from(e)
}

async fn versions() -> Response {
    json(
        StatusCode::OK,
        &serde_json::json!({
            "name": "Service Management API",
            "description": "Starling service management",
            "default_version": {"id": "v1"},
            "versions": [{"id": "v1"}],
        }),
    )
}

async fn services(State(db): State<Db>) -> Result<Response, ApiError> {
    let rows = db.read(|c| store::services(c)).await.map_err(failed)?;
    Ok(json(
        StatusCode::OK,
        &SmServices {
            services: rows.into_iter().map(service_wire).collect(),
        },
    ))
}

fn service_wire(r: store::ServiceRow) -> SmService {
    SmService {
        id: r.id,
        name: r.name,
        desired_state: r.desired_state,
        state: r.state,
        status: r.status,
        node_name: None,
        reason: r.reason,
    }
}

async fn service(State(db): State<Db>, Path(key): Path<String>) -> Result<Response, ApiError> {
    let k = key.clone();
    let row = db
        .read(move |c| store::service(c, &k))
        .await
        .map_err(failed)?
        .ok_or_else(|| ApiError::not_found(format!("Service {key} could not be found")))?;
    Ok(json(StatusCode::OK, &service_wire(row)))
}

fn node_wire(r: store::NodeRow) -> SmNode {
    SmNode {
        id: r.id,
        name: r.name,
        administrative_state: r.administrative_state,
        operational_state: r.operational_state,
        availability_status: r.availability_status,
        ready_state: r.ready_state,
    }
}

async fn nodes(State(db): State<Db>) -> Result<Response, ApiError> {
    let rows = db.read(|c| store::nodes(c)).await.map_err(failed)?;
    Ok(json(
        StatusCode::OK,
        &SmNodes {
            nodes: rows.into_iter().map(node_wire).collect(),
        },
    ))
}

async fn node(State(db): State<Db>, Path(key): Path<String>) -> Result<Response, ApiError> {
    let k = key.clone();
    let row = db
        .read(move |c| store::node(c, &k))
        .await
        .map_err(failed)?
        .ok_or_else(|| ApiError::not_found(format!("Service node {key} could not be found")))?;
    Ok(json(StatusCode::OK, &node_wire(row)))
}

/// An assignment on the wire.
pub fn sda_wire(r: store::AssignmentRow) -> SmServiceGroup {
    SmServiceGroup {
        id: r.id,
        uuid: r.uuid,
        name: r.domain,
        node_name: r.node_name,
        service_group_name: r.group_name,
        desired_state: r.desired_state,
        state: r.state,
        status: r.status,
        condition: r.condition,
    }
}

async fn sdas(State(db): State<Db>) -> Result<Response, ApiError> {
    let rows = db.read(|c| store::assignments(c)).await.map_err(failed)?;
    Ok(json(
        StatusCode::OK,
        &SmSdas {
            sm_sda: rows.into_iter().map(sda_wire).collect(),
        },
    ))
}

async fn sda(State(db): State<Db>, Path(uuid): Path<String>) -> Result<Response, ApiError> {
    let u = uuid.clone();
    let row = db
        .read(move |c| store::assignment(c, &u))
        .await
        .map_err(failed)?
        .ok_or_else(|| ApiError::not_found(format!("Service group {uuid} could not be found")))?;
    Ok(json(StatusCode::OK, &sda_wire(row)))
}

impl axum::extract::FromRef<ApiState> for Db {
    fn from_ref(s: &ApiState) -> Db {
        s.db.clone()
    }
}

/// `PATCH /v1/servicenode/{hostname}`: a swact of this controller.
async fn servicenode(
    State(st): State<ApiState>,
    Path(host): Path<String>,
    starling_http::ApiJson(cmd): starling_http::ApiJson<starling_sm_types::ServiceNodeCommand>,
) -> Result<Response, ApiError> {
    let (force, check) = match cmd.action.as_str() {
        "swact" => (false, false),
        "swact-force" => (true, false),
        "swact-pre-check" => (false, true),
        other => {
            return Err(ApiError::bad_request(format!(
                "action {other:?}: Starling's service management takes swact, swact-force and swact-pre-check"
            )));
        }
    };
    let outcome = if host != st.node {
        Err(format!("{host} is not this controller ({})", st.node))
    } else {
        let (tx, rx) = tokio::sync::oneshot::channel();
        st.control
            .send(SwactRequest {
                force,
                check,
                answer: tx,
            })
            .await
            .map_err(|_| ApiError::unavailable("service management is stopping"))?;
        rx.await
            .map_err(|_| ApiError::unavailable("service management is stopping"))?
    };
    let (code, details) = match outcome {
        Ok(()) => ("0", String::new()),
        Err(e) => ("1", e),
    };
    Ok(json(
        StatusCode::OK,
        &starling_sm_types::ServiceNodeCommandResult {
            origin: "sm".into(),
            hostname: host,
            action: cmd.action,
            admin: cmd.admin,
            oper: cmd.oper,
            avail: cmd.avail,
            error_code: code.into(),
            error_details: details,
            impact_service_list: Vec::new(),
        },
    ))
}

/// sm-api's routes over SM's database; swacts go to the loop through
/// `control`, checked by `auth`.
fn router(
    db: Db,
    this: String,
    control: mpsc::Sender<SwactRequest>,
    auth: Option<Arc<dyn Authenticator>>,
) -> Router {
    let auth = auth.unwrap_or_else(|| Arc::new(NoTokens));
    let guard = GuardState::new(auth, ROUTES, "sm");
    Router::new()
        .route("/", get(versions))
        .route("/v1", get(versions))
        .route("/v1/services", get(services))
        .route("/v1/services/{key}", get(service))
        .route("/v1/nodes", get(nodes))
        .route("/v1/nodes/{key}", get(node))
        .route("/v1/sm_sda", get(sdas))
        .route("/v1/sm_sda/{uuid}", get(sda))
        .route(
            "/v1/servicenode/{hostname}",
            axum::routing::patch(servicenode),
        )
        .fallback(starling_http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .with_state(ApiState {
            db,
            node: this,
            control,
        })
}

/// `sm-dump`: the groups and services of this node, as SM last recorded
/// them (name, desired state, state, status, condition).
pub async fn dump(db: &Db, node: &str) -> Result<String, String> {
    let n = node.to_string();
    let (groups, services) = db
        .read(move |c| {
            let g: Vec<store::AssignmentRow> = store::assignments(c)?
                .into_iter()
                .filter(|a| a.node_name == n)
                .collect();
            Ok::<_, Error>((g, store::services(c)?))
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    let rule = |title: &str| {
        format!(
            "-{title}{}\n",
            "-".repeat(100usize.saturating_sub(title.len() + 1))
        )
    };
    out.push_str(&rule("Service_Groups"));
    for g in &groups {
        out.push_str(&format!(
            "{:<34} {:<20} {:<20} {:<10} {}\n",
            g.group_name, g.desired_state, g.state, g.status, g.condition
        ));
    }
    out.push_str(&"-".repeat(100));
    out.push_str("\n\n");
    out.push_str(&rule("Services"));
    for s in &services {
        out.push_str(&format!(
            "{:<34} {:<20} {:<20} {:<10} {}\n",
            s.name, s.desired_state, s.state, s.status, s.condition
        ));
    }
    out.push_str(&"-".repeat(100));
    out.push('\n');
    Ok(out)
}
