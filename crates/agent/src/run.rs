//! The agent's loops. The audit loop registers, reports in full, then
//! audits every interval and sends what changed; a failed send is retried at
//! the next audit with everything not yet accepted, and a host the
//! controller no longer knows is registered again and reported in full. The
//! command loop long-polls the host's pending action, carries it out through
//! the operator's command and reports the outcome until the controller has
//! it (or says the action is no longer pending), so an action is never run
//! twice by one agent.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use serde::Serialize;
use serde::de::DeserializeOwned;
use starling_common::TokenSource;
use starling_config_types::{ApplyReport, HostDocument};
use starling_inventory_types::hardware::{Report, ReportResult};
use starling_inventory_types::{Command, Host, Outcome, OutcomeResult, Register};

use crate::credential::Enrollment;
use crate::discover::{self, Identity};
use crate::root::Root;

/// How an agent runs.
#[derive(Clone)]
pub struct Config {
    /// The machine to discover.
    pub root: Root,
    /// The inventory API (`http://ctl:6385`, with or without `/v1`).
    pub inventory_url: String,
    /// How the agent proves who it is.
    pub auth: Auth,
    /// HTTP client (timeouts, TLS trust).
    pub http: reqwest::Client,
    /// Time between audits.
    pub interval: Duration,
    /// The management interface; the first port when absent.
    pub mgmt_interface: Option<String>,
    /// The operator's program that carries out host actions (see
    /// [`crate::action`]); without one every action is refused.
    pub action_command: Option<PathBuf>,
    /// How long an action may run.
    pub action_timeout: Duration,
    /// How long one command poll waits at the controller (below the HTTP
    /// client's timeout).
    pub command_wait: Duration,
    /// How to ask lldpd (`lldpcli`, maybe with `-u SOCKET`); empty: never.
    pub lldpcli: Vec<String>,
    /// Where the host's heartbeat responder registers, if it runs.
    pub heartbeat: Option<HeartbeatSetup>,
    /// The process monitor's directory of `*.conf` files (StarlingX's
    /// `/etc/pmon.d`); none: no process is monitored.
    pub pmon_dir: Option<PathBuf>,
    /// What the resource monitor watches; none: it does not run.
    pub resources: Option<crate::resmon::ResourceConfig>,
    /// Where the host's configuration is applied; none: it is not.
    pub configure: Option<crate::apply::ApplySetup>,
}

/// The heartbeat responder's registration with host maintenance.
#[derive(Clone, Debug)]
pub struct HeartbeatSetup {
    /// Host maintenance (`http://ctl:2112`).
    pub mtce_url: String,
    /// The UDP port the responder listens on (every address).
    pub port: u16,
    /// The host's address on the cluster-host network, where maintenance
    /// also pulses it.
    pub cluster_address: Option<std::net::IpAddr>,
}

/// What host maintenance answers a registration with.
#[derive(serde::Deserialize, Debug, Clone, PartialEq, Eq)]
struct HeartbeatConfig {
    key: String,
    period_ms: u64,
}

/// How the agent proves who it is.
#[derive(Clone)]
pub enum Auth {
    /// Tokens of an identity user (a login, a fixed token): whatever that
    /// user may do.
    Token(Arc<dyn TokenSource>),
    /// The host's own credential, got by enrolling with the cloud's
    /// enrollment secret: this host's registration, reports and commands,
    /// nothing else.
    Enrolled(Arc<Enrollment>),
}

/// The registration's path (the one exchange an enrolling agent makes).
const REGISTER: &str = "/v1/agent/register";

/// Why a request failed.
#[derive(Debug)]
enum SendError {
    /// The controller does not know the host (any more).
    Gone,
    /// The controller refused the request (4xx), with its reason.
    Refused(String),
    /// Anything else, with the reason.
    Failed(String),
}

struct Agent {
    cfg: Config,
    base: String,
    /// Host maintenance took the heartbeat registration (it may have
    /// started anew and forgotten what it was told).
    registered: tokio::sync::Notify,
}

impl Agent {
    /// One exchange: `body` sent as JSON, the answer read as `T` (both
    /// wire types of the inventory API).
    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SendError> {
        let (status, text) = match &self.cfg.auth {
            Auth::Token(source) => {
                let mut renew = false;
                loop {
                    let token = source.token(renew).await.map_err(SendError::Failed)?;
                    let (status, _, text) = self.exchange(&method, path, body, &token).await?;
                    if status == reqwest::StatusCode::UNAUTHORIZED && !renew {
                        renew = true;
                        continue;
                    }
                    break (status, text);
                }
            }
            Auth::Enrolled(e) => {
                let held = e.credential();
                let token = match (&held, e.secret()) {
                    (Some(c), _) => c.clone(),
                    // Without a credential the agent only enrolls.
                    (None, Some(secret)) if path == REGISTER => secret.to_string(),
                    (None, Some(_)) => return Err(SendError::Gone),
                    (None, None) => {
                        return Err(SendError::Refused(
                            "this host's credential was refused and no enrollment secret \
                             (STARLING_AGENT_ENROLLMENT) is configured to enroll again"
                                .into(),
                        ));
                    }
                };
                let (status, given, text) = self.exchange(&method, path, body, &token).await?;
                if status == reqwest::StatusCode::UNAUTHORIZED && held.is_some() {
                    tracing::warn!(
                        "the controller refused this host's credential; enrolling again"
                    );
                    e.forget();
                    return Err(SendError::Gone);
                }
                if status.is_success()
                    && held.is_none()
                    && let Some(c) = given
                {
                    e.store(&c).map_err(SendError::Failed)?;
                    tracing::info!("enrolled: this host's own credential is kept");
                }
                (status, text)
            }
        };
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(SendError::Gone);
        }
        // Nothing to answer (a long poll that saw no change): read as
        // `null`, which only an `Option` answer takes.
        let text = if status == reqwest::StatusCode::NO_CONTENT {
            "null".to_string()
        } else {
            text
        };
        if status.is_client_error() {
            return Err(SendError::Refused(format!("{path}: {status}: {text}")));
        }
        if !status.is_success() {
            return Err(SendError::Failed(format!("{path}: {status}: {text}")));
        }
        serde_json::from_str(&text)
            .map_err(|e| SendError::Failed(format!("{path}: unexpected answer: {e}")))
    }

    /// One request with `token`: the answer's status, the credential header
    /// it may carry, and its text.
    async fn exchange<B: Serialize + ?Sized>(
        &self,
        method: &reqwest::Method,
        path: &str,
        body: Option<&B>,
        token: &str,
    ) -> Result<(reqwest::StatusCode, Option<String>, String), SendError> {
        self.exchange_at(&self.base, method, path, body, token)
            .await
    }

    /// [`Agent::exchange`] with another service (`base`).
    async fn exchange_at<B: Serialize + ?Sized>(
        &self,
        base: &str,
        method: &reqwest::Method,
        path: &str,
        body: Option<&B>,
        token: &str,
    ) -> Result<(reqwest::StatusCode, Option<String>, String), SendError> {
        let mut req = self
            .cfg
            .http
            .request(method.clone(), format!("{base}{path}"))
            .header("X-Auth-Token", token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SendError::Failed(format!("{path}: {e}")))?;
        let status = resp.status();
        let given = resp
            .headers()
            .get(crate::credential::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        Ok((status, given, text))
    }

    async fn register(&self, id: &Identity) -> Result<String, SendError> {
        let body = Register {
            hostname: id.hostname.clone(),
            mgmt_mac: id.mgmt_mac.clone(),
        };
        let h: Host<'static> = self
            .call(reqwest::Method::POST, REGISTER, Some(&body))
            .await?;
        Ok(h.uuid.into_owned())
    }

    /// Registers the responder on `port` of host `uuid` with maintenance,
    /// with the host's own credential (or the configured token).
    async fn register_heartbeat(
        &self,
        setup: &HeartbeatSetup,
        uuid: &str,
    ) -> Result<HeartbeatConfig, SendError> {
        let token = match &self.cfg.auth {
            Auth::Enrolled(e) => e.credential().ok_or(SendError::Gone)?,
            Auth::Token(source) => source.token(false).await.map_err(SendError::Failed)?,
        };
        let base = setup.mtce_url.trim_end_matches('/');
        let path = format!("/v1/agent/{uuid}/heartbeat");
        let mut body = serde_json::json!({ "port": setup.port });
        if let Some(a) = setup.cluster_address {
            body["cluster_address"] = serde_json::json!(a.to_string());
        }
        let (status, _, text) = self
            .exchange_at(base, &reqwest::Method::PUT, &path, Some(&body), &token)
            .await?;
        if !status.is_success() {
            return Err(SendError::Refused(format!("{path}: {status}: {text}")));
        }
        serde_json::from_str(&text)
            .map_err(|e| SendError::Failed(format!("{path}: unexpected answer: {e}")))
    }

    /// Reports the host's monitor findings to maintenance.
    async fn report_monitors(
        &self,
        setup: &HeartbeatSetup,
        uuid: &str,
        report: &starling_mtce::monitors::MonitorReport,
    ) -> Result<(), SendError> {
        let token = match &self.cfg.auth {
            Auth::Enrolled(e) => e.credential().ok_or(SendError::Gone)?,
            Auth::Token(source) => source.token(false).await.map_err(SendError::Failed)?,
        };
        let base = setup.mtce_url.trim_end_matches('/');
        let path = format!("/v1/agent/{uuid}/monitors");
        let (status, _, text) = self
            .exchange_at(base, &reqwest::Method::PUT, &path, Some(report), &token)
            .await?;
        if !status.is_success() {
            return Err(SendError::Refused(format!("{path}: {status}: {text}")));
        }
        Ok(())
    }

    async fn send(&self, host: &str, r: &Report) -> Result<ReportResult, SendError> {
        self.call(
            reqwest::Method::PUT,
            &format!("/v1/agent/{host}/report"),
            Some(r),
        )
        .await
    }

    /// Tells the controller what the host applied.
    async fn report_config(&self, host: &str, r: &ApplyReport) -> Result<(), SendError> {
        let _: serde_json::Value = self
            .call(
                reqwest::Method::PUT,
                &format!("/v1/agent/{host}/config"),
                Some(r),
            )
            .await?;
        Ok(())
    }

    /// Waits (at the controller) for a configuration document other than
    /// what the host applied.
    async fn next_config(
        &self,
        host: &str,
        applied: &str,
    ) -> Result<Option<HostDocument>, SendError> {
        self.call(
            reqwest::Method::GET,
            &format!(
                "/v1/agent/{host}/config?applied={applied}&wait={}",
                self.cfg.command_wait.as_secs()
            ),
            None::<&()>,
        )
        .await
    }

    /// Waits (at the controller) for the host's pending command.
    async fn next_command(&self, host: &str) -> Result<Option<String>, SendError> {
        let c: Command = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "/v1/agent/{host}/command?wait={}",
                    self.cfg.command_wait.as_secs()
                ),
                None::<&()>,
            )
            .await?;
        Ok(c.command)
    }

    /// Runs `command` and reports the outcome until the controller has it.
    async fn carry_out(&self, host: &str, command: &str) {
        tracing::info!(%command, "carrying out a host action");
        let outcome = crate::action::carry_out(
            self.cfg.action_command.as_deref(),
            command,
            host,
            self.cfg.action_timeout,
        )
        .await;
        let body = Outcome {
            command: command.to_string(),
            ok: outcome.is_ok(),
            message: outcome.err().inspect(|why| {
                tracing::warn!(%command, error = %why, "host action failed");
            }),
        };
        let path = format!("/v1/agent/{host}/command");
        loop {
            match self
                .call::<_, OutcomeResult>(reqwest::Method::PUT, &path, Some(&body))
                .await
            {
                Ok(_) => return,
                // No longer pending (completed elsewhere, host deleted):
                // nothing left to tell.
                Err(SendError::Refused(e)) => {
                    tracing::warn!(error = %e, "the controller did not take the outcome");
                    return;
                }
                Err(SendError::Gone) => return,
                Err(SendError::Failed(e)) => {
                    tracing::warn!(error = %e, "cannot report the outcome yet; retrying");
                    tokio::time::sleep(RETRY.min(self.cfg.interval)).await;
                }
            }
        }
    }
}

/// Pause after a failed exchange with the controller.
const RETRY: Duration = Duration::from_secs(5);

/// Discovers on a blocking thread (sysfs reads and lldpcli block).
async fn discover(root: &Root, lldpcli: &[String]) -> Result<Report, String> {
    let root = root.clone();
    let lldpcli = lldpcli.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut r = discover::report(&root)?;
        if let Some((agents, neighbours)) = crate::lldp::read(&lldpcli) {
            discover::with_lldp(&mut r, agents, neighbours);
        }
        Ok(r)
    })
    .await
    .map_err(|e| format!("discovery stopped: {e}"))?
}

/// Runs until `stop` resolves.
pub async fn run(cfg: Config, stop: impl std::future::Future<Output = ()>) {
    let base = cfg
        .inventory_url
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .to_string();
    let agent = Agent {
        cfg,
        base,
        registered: tokio::sync::Notify::new(),
    };
    let monitors = Arc::new(crate::pmon::Monitors::new());
    let mut supervisors = tokio::task::JoinSet::new();
    if let Some(dir) = &agent.cfg.pmon_dir {
        let (confs, refused) = crate::pmon::load(dir);
        for (path, why) in refused {
            tracing::error!(file = %path.display(), error = %why, "process monitor file refused");
        }
        tracing::info!(dir = %dir.display(), processes = confs.len(), "process monitor");
        for conf in confs {
            supervisors.spawn(crate::pmon::supervise(conf, monitors.clone()));
        }
    }
    let (host_tx, host_rx) = watch::channel(None);
    let monitor_rx = host_rx.clone();
    let lost = AtomicBool::new(false);
    let heartbeat_rx = host_rx.clone();
    let reboot_rx = host_rx.clone();
    let config_rx = host_rx.clone();
    // Reboot requests host maintenance sends over the heartbeat (only
    // taken when there is an action command to carry them out).
    let (reboot_tx, reboots) = tokio::sync::mpsc::channel(1);
    let reboot_tx = agent.cfg.action_command.is_some().then_some(reboot_tx);
    tokio::select! {
        _ = stop => {}
        _ = audit_loop(&agent, host_tx, &lost) => {}
        _ = command_loop(&agent, host_rx, &lost) => {}
        _ = heartbeat_loop(&agent, heartbeat_rx, reboot_tx) => {}
        _ = reboot_loop(&agent, reboot_rx, reboots) => {}
        _ = monitor_loop(&agent, monitor_rx, &monitors) => {}
        _ = watchdog(monitors.clone()) => {}
        _ = resources(agent.cfg.resources.clone(), monitors.clone()) => {}
        _ = config_loop(&agent, config_rx) => {}
    }
    supervisors.abort_all();
}

/// The host's configuration: what it last applied is told the controller
/// once per registration, then its document is awaited (a long poll until
/// the host's target differs from it), applied, and the outcome reported
/// until the controller takes it. A failed apply is tried again after an
/// interval; one interrupted (the agent killed mid-way) at the next start,
/// since only an apply that succeeded is kept as applied.
async fn config_loop(agent: &Agent, mut host: watch::Receiver<Option<String>>) {
    let Some(setup) = agent.cfg.configure.clone() else {
        return std::future::pending().await;
    };
    let mut told: Option<String> = None;
    loop {
        let current = host.borrow_and_update().clone();
        let Some(uuid) = current else {
            told = None;
            if host.changed().await.is_err() {
                return;
            }
            continue;
        };
        let applied = crate::apply::last_applied(&setup.applied_file);
        if told.as_deref() != Some(uuid.as_str()) {
            let r = ApplyReport {
                config_uuid: applied.clone(),
                steps: Vec::new(),
            };
            match agent.report_config(&uuid, &r).await {
                Ok(()) => told = Some(uuid.clone()),
                Err(e) => {
                    config_trouble(agent, &mut host, e).await;
                    continue;
                }
            }
        }
        let doc = match agent.next_config(&uuid, &applied).await {
            Ok(Some(doc)) => doc,
            Ok(None) => continue,
            Err(e) => {
                config_trouble(agent, &mut host, e).await;
                continue;
            }
        };
        let applying = doc.clone();
        let how = setup.clone();
        let (done, steps) =
            match tokio::task::spawn_blocking(move || crate::apply::apply(&applying, &how)).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "the configuration apply stopped");
                    tokio::time::sleep(agent.cfg.interval).await;
                    continue;
                }
            };
        let ok = steps.iter().all(|s| s.ok);
        if ok {
            if let Err(e) =
                crate::apply::write_if_changed(&setup.applied_file, &format!("{done}\n"))
            {
                tracing::error!(file = %setup.applied_file.display(), error = %e, "cannot keep what was applied");
            }
            tracing::info!(config = %done, full = doc.full, "configuration applied");
        } else {
            for s in steps.iter().filter(|s| !s.ok) {
                tracing::error!(step = %s.step, error = s.message.as_deref().unwrap_or(""), "configuration step failed");
            }
        }
        let report = ApplyReport {
            config_uuid: done,
            steps,
        };
        // The outcome is told until the controller takes it.
        loop {
            match agent.report_config(&uuid, &report).await {
                Ok(()) => break,
                Err(SendError::Gone) => {
                    told = None;
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot report the configuration apply; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
        if !ok {
            tokio::time::sleep(agent.cfg.interval).await;
        }
    }
}

/// After a configuration exchange failed: a host the controller forgot
/// waits for the audit loop's new registration; anything else is retried.
async fn config_trouble(agent: &Agent, host: &mut watch::Receiver<Option<String>>, e: SendError) {
    match e {
        SendError::Gone => {
            let _ = tokio::time::timeout(agent.cfg.interval, host.changed()).await;
        }
        SendError::Refused(e) | SendError::Failed(e) => {
            tracing::warn!(error = %e, "cannot exchange configuration with the controller; retrying");
            tokio::time::sleep(RETRY.min(agent.cfg.interval)).await;
        }
    }
}

/// The resource monitor, when it runs.
async fn resources(
    cfg: Option<crate::resmon::ResourceConfig>,
    monitors: Arc<crate::pmon::Monitors>,
) {
    match cfg {
        Some(cfg) => crate::resmon::watch(cfg, monitors).await,
        None => std::future::pending().await,
    }
}

/// The host watchdog, when systemd gives the agent one (`WatchdogSec=`).
async fn watchdog(monitors: Arc<crate::pmon::Monitors>) {
    match crate::systemd::watchdog() {
        Some(period) => {
            tracing::info!(?period, "feeding systemd's watchdog");
            let notifier = crate::systemd::Notifier::from_env();
            crate::pmon::watchdog(monitors, period, notifier).await
        }
        None => std::future::pending().await,
    }
}

/// Reports the process monitor's findings to host maintenance: once the
/// host is known, then at each change and after each heartbeat
/// registration (maintenance may have started anew); a failed report is
/// sent again after a pause. Without a maintenance URL there is none.
async fn monitor_loop(
    agent: &Agent,
    mut host: watch::Receiver<Option<String>>,
    monitors: &crate::pmon::Monitors,
) {
    let Some(setup) = agent.cfg.heartbeat.clone() else {
        return std::future::pending().await;
    };
    let mut due = true;
    loop {
        let uuid = host.borrow_and_update().clone();
        if let (true, Some(uuid)) = (due, uuid) {
            let (report, seq) = monitors.report();
            match agent.report_monitors(&setup, &uuid, &report).await {
                Ok(()) => {
                    monitors.delivered(seq);
                    due = false;
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "cannot report the process monitor's findings; retrying")
                }
            }
        }
        tokio::select! {
            _ = monitors.changed.notified() => due = true,
            _ = agent.registered.notified() => due = true,
            r = host.changed() => {
                if r.is_err() {
                    return std::future::pending().await;
                }
                due = true;
            }
            _ = tokio::time::sleep(RETRY), if due => {}
        }
    }
}

/// Carries out the reboots host maintenance asks for over the heartbeat
/// (its recovery of a host whose heartbeat was lost), with the operator's
/// action command; the outcome is only logged (maintenance sees the host
/// come back, or goes on to the next way of resetting it).
async fn reboot_loop(
    agent: &Agent,
    host: watch::Receiver<Option<String>>,
    mut reboots: tokio::sync::mpsc::Receiver<starling_heartbeat::Network>,
) {
    while let Some(network) = reboots.recv().await {
        let uuid = host.borrow().clone().unwrap_or_default();
        tracing::warn!(
            network = network.as_str(),
            "host maintenance asked for a reboot: carrying it out"
        );
        if let Err(why) = crate::action::carry_out(
            agent.cfg.action_command.as_deref(),
            "reboot",
            &uuid,
            agent.cfg.action_timeout,
        )
        .await
        {
            tracing::error!(error = %why, "the reboot asked by host maintenance failed");
        }
    }
    std::future::pending().await
}

/// The heartbeat responder: once the host is registered, its responder is
/// registered with host maintenance and started with the key maintenance
/// gives. While pulses come the agent says nothing more; when none came
/// for a while (maintenance restarted and forgot it, the host is locked),
/// it registers again, backing off from 5 s to 5 min while none come. The
/// responder is started anew when the key or the host changes. Without a
/// maintenance URL there is none.
async fn heartbeat_loop(
    agent: &Agent,
    mut host: watch::Receiver<Option<String>>,
    reboot: Option<tokio::sync::mpsc::Sender<starling_heartbeat::Network>>,
) {
    const CHECK: Duration = Duration::from_secs(5);
    const MAX_QUIET: Duration = Duration::from_secs(300);
    let Some(setup) = agent.cfg.heartbeat.clone() else {
        return std::future::pending().await;
    };
    // (key, host, task, its counters)
    type Running = (
        String,
        String,
        tokio::task::JoinHandle<()>,
        Arc<starling_heartbeat::Stats>,
    );
    let mut running: Option<Running> = None;
    let mut backoff = CHECK;
    let mut next = tokio::time::Instant::now();
    let mut seen = 0u64;
    loop {
        let uuid = host.borrow_and_update().clone();
        if let Some(uuid) = uuid {
            let stale = running
                .as_ref()
                .is_none_or(|(_, u, t, _)| *u != uuid || t.is_finished());
            let taken = running
                .as_ref()
                .map_or(0, |r| r.3.taken.load(std::sync::atomic::Ordering::Relaxed));
            if taken > seen && !stale {
                // Pulsed since the last look: all is well.
                backoff = CHECK;
                next = tokio::time::Instant::now() + CHECK * 2;
            }
            seen = taken;
            let moved = running.as_ref().is_some_and(|(_, u, ..)| *u != uuid);
            if moved || tokio::time::Instant::now() >= next {
                match agent.register_heartbeat(&setup, &uuid).await {
                    Ok(cfg) => {
                        agent.registered.notify_one();
                        let same = !stale && running.as_ref().is_some_and(|(k, ..)| *k == cfg.key);
                        if !same {
                            if let Some((_, _, t, _)) = running.take() {
                                t.abort();
                                let _ = t.await;
                            }
                            running = start_responder(&setup, &cfg, &uuid, reboot.clone())
                                .await
                                .map(|(t, stats)| (cfg.key.clone(), uuid.clone(), t, stats));
                            seen = 0;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = ?e, "cannot register the heartbeat responder; retrying");
                    }
                }
                next = tokio::time::Instant::now() + backoff;
                backoff = (backoff * 2).min(MAX_QUIET);
            }
        }
        let _ = tokio::time::timeout(CHECK, host.changed()).await;
    }
}

async fn start_responder(
    setup: &HeartbeatSetup,
    cfg: &HeartbeatConfig,
    uuid: &str,
    reboot: Option<tokio::sync::mpsc::Sender<starling_heartbeat::Network>>,
) -> Option<(tokio::task::JoinHandle<()>, Arc<starling_heartbeat::Stats>)> {
    let key = match starling_heartbeat::Key::from_hex(&cfg.key) {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "host maintenance gave an unusable heartbeat key");
            return None;
        }
    };
    let at = std::net::SocketAddr::from(([0, 0, 0, 0], setup.port));
    match starling_heartbeat::Responder::bind(at, key, uuid).await {
        Ok(r) => {
            let r = match reboot {
                Some(to) => r.on_reboot(to),
                None => r,
            };
            tracing::info!(
                port = setup.port,
                period_ms = cfg.period_ms,
                "heartbeat responder listening"
            );
            let stats = r.stats.clone();
            Some((tokio::spawn(r.run()), stats))
        }
        Err(e) => {
            tracing::error!(error = %e, port = setup.port, "cannot listen for heartbeat pulses");
            None
        }
    }
}

/// Polls for the host's pending action while the host is registered.
async fn command_loop(agent: &Agent, mut host: watch::Receiver<Option<String>>, lost: &AtomicBool) {
    loop {
        let current = host.borrow_and_update().clone();
        let Some(uuid) = current else {
            if host.changed().await.is_err() {
                return;
            }
            continue;
        };
        match agent.next_command(&uuid).await {
            Ok(Some(cmd)) => agent.carry_out(&uuid, &cmd).await,
            Ok(None) => {}
            // The audit loop registers again at its next cycle; wait for
            // the new record.
            Err(SendError::Gone) => {
                lost.store(true, Ordering::Relaxed);
                let _ = tokio::time::timeout(RETRY, host.changed()).await;
            }
            Err(SendError::Refused(e) | SendError::Failed(e)) => {
                tracing::warn!(error = %e, "cannot ask for commands; retrying");
                tokio::time::sleep(RETRY.min(agent.cfg.interval)).await;
            }
        }
    }
}

/// Registers, reports in full, then sends what changes every interval.
async fn audit_loop(agent: &Agent, host_tx: watch::Sender<Option<String>>, lost: &AtomicBool) {
    let mut host: Option<String> = None;
    let mut last: Option<Report> = None;
    let mut wait = Duration::ZERO;
    loop {
        tokio::time::sleep(wait).await;
        wait = agent.cfg.interval;
        // The command poll found the host gone (or its credential refused):
        // register again, and report in full.
        if lost.swap(false, Ordering::Relaxed) && host.is_some() {
            tracing::warn!("the controller no longer knows this host; registering again");
            host = None;
            host_tx.send_replace(None);
        }
        let uuid = match &host {
            Some(h) => h.clone(),
            None => {
                let root = agent.cfg.root.clone();
                let iface = agent.cfg.mgmt_interface.clone();
                let id = match tokio::task::spawn_blocking(move || {
                    discover::identity(&root, iface.as_deref())
                })
                .await
                {
                    Ok(Ok(id)) => id,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "cannot tell who this host is");
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "identity discovery stopped");
                        continue;
                    }
                };
                match agent.register(&id).await {
                    Ok(u) => {
                        tracing::info!(host = %id.hostname, mac = %id.mgmt_mac, uuid = %u, "registered");
                        host = Some(u.clone());
                        host_tx.send_replace(Some(u.clone()));
                        last = None;
                        u
                    }
                    Err(e) => {
                        tracing::warn!(error = ?e, "registration failed; retrying");
                        wait = agent.cfg.interval.min(RETRY);
                        continue;
                    }
                }
            }
        };
        let now = match discover(&agent.cfg.root, &agent.cfg.lldpcli).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "discovery failed");
                continue;
            }
        };
        let delta = discover::changes(last.as_ref(), &now);
        tracing::debug!(changed = delta.is_some(), "audit cycle");
        let Some(delta) = delta else {
            continue;
        };
        match agent.send(&uuid, &delta).await {
            Ok(v) => {
                let changes = serde_json::to_string(&v.changes).unwrap_or_default();
                tracing::info!(%changes, "inventory reported");
                last = Some(now);
            }
            Err(SendError::Gone) => {
                tracing::warn!(%uuid, "the controller no longer knows this host; registering again");
                host = None;
                host_tx.send_replace(None);
                wait = Duration::ZERO;
            }
            Err(SendError::Refused(e) | SendError::Failed(e)) => {
                tracing::warn!(error = %e, "report not accepted; retrying at the next audit");
                wait = agent.cfg.interval.min(RETRY);
            }
        }
    }
}
