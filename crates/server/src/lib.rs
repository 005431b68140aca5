//! What `starlingd` and `starling-agent` share: the host agent's options
//! and set-up, the login session of a service or agent with the identity
//! service, HTTP clients, logging, durations and the shutdown signal.
//!
//! `starling-agent` is the host agent alone: linked without the controller
//! services, it keeps about half the resident memory of `starlingd agent`
//! (see BENCHMARKS.md), which matters on every host of the cloud.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use starling_auth::{ServiceCredentials, ServiceSession};
use starling_common::Clock;

/// What an agent does on its host, the same for `starlingd agent` and the
/// all-in-one's local agent.
#[derive(Args, Debug, Clone)]
pub struct HostAgentArgs {
    /// The management interface whose MAC names this host (default: the
    /// first network port).
    #[arg(long, env = "STARLING_MGMT_INTERFACE")]
    pub mgmt_interface: Option<String>,
    /// The program that carries out host actions, run as `PROGRAM ACTION`
    /// (reboot, reset, reinstall, power-on, power-off); exit 0 is success.
    /// Without one, the agent refuses every action.
    #[arg(long, env = "STARLING_ACTION_COMMAND")]
    pub action_command: Option<PathBuf>,
    /// How long an action may run before it is stopped and reported failed.
    #[arg(long, env = "STARLING_ACTION_TIMEOUT", default_value = "120s", value_parser = parse_duration)]
    pub action_timeout: Duration,
    /// How to ask lldpd for LLDP agents and neighbours (e.g. `lldpcli -u
    /// /run/lldpd.socket`); empty: LLDP is not read.
    #[arg(long, env = "STARLING_LLDPCLI", default_value = "lldpcli")]
    pub lldpcli: String,
    /// The UDP port the host's heartbeat responder listens on (every
    /// address), where host maintenance pulses it.
    #[arg(long, env = "STARLING_HEARTBEAT_PORT", default_value_t = 2106)]
    pub heartbeat_port: u16,
    /// This host's address on the cluster-host network, where host
    /// maintenance also pulses it (when the controller has one there too).
    #[arg(long, env = "STARLING_CLUSTER_ADDRESS")]
    pub cluster_address: Option<std::net::IpAddr>,
    /// The process monitor's directory: one StarlingX pmon `*.conf` file
    /// per monitored process (its failures reach host maintenance, which
    /// raises 200.006). A missing directory monitors nothing.
    #[arg(long, env = "STARLING_PMON_DIR", default_value = "/etc/pmon.d")]
    pub pmon_dir: PathBuf,
    /// Time between the resource monitor's readings (CPU, memory, file
    /// systems, links). With every threshold off and no interface, it
    /// does not run.
    #[arg(long, env = "STARLING_RESOURCE_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub resource_interval: Duration,
    /// Platform CPU usage thresholds, MAJOR:CRITICAL percent (100.101), or
    /// `off`.
    #[arg(long, env = "STARLING_CPU_THRESHOLD", default_value = "90:95", value_parser = starling_agent::resmon::parse_limit)]
    pub cpu_threshold: starling_agent::resmon::Limit,
    /// Memory usage thresholds (100.103), or `off`.
    #[arg(long, env = "STARLING_MEMORY_THRESHOLD", default_value = "80:90", value_parser = starling_agent::resmon::parse_limit)]
    pub memory_threshold: starling_agent::resmon::Limit,
    /// File system usage thresholds (100.104), or `off`.
    #[arg(long, env = "STARLING_FILESYSTEM_THRESHOLD", default_value = "80:90", value_parser = starling_agent::resmon::parse_limit)]
    pub filesystem_threshold: starling_agent::resmon::Limit,
    /// The mount points watched, comma-separated (those mounted are);
    /// default StarlingX's (/, /tmp, /var/log, /opt/platform, …).
    #[arg(long, env = "STARLING_FILESYSTEMS", value_delimiter = ',')]
    pub filesystems: Vec<PathBuf>,
    /// The platform's cgroup (a v2 directory, or v1 cpuacct's) whose CPU
    /// time is the platform CPU usage; default: the whole host's.
    #[arg(long, env = "STARLING_CPU_CGROUP")]
    pub cpu_cgroup: Option<PathBuf>,
    /// An interface whose links are watched, as NETWORK=INTERFACE (oam,
    /// mgmt or cluster-host; e.g. mgmt=bond0): 100.106–100.111.
    /// Repeat, or comma-separate.
    #[arg(long, env = "STARLING_MONITOR_INTERFACES", value_delimiter = ',', value_parser = starling_agent::resmon::parse_interface)]
    pub monitor_interface: Vec<(String, String)>,
    /// The directory standing for / where the host's configuration is
    /// written (resolv.conf, /etc/hosts, chrony); `/` on a real host (the
    /// packaged unit gives it). Without it a host agent applies no
    /// configuration, and the all-in-one's own agent writes under
    /// <data-dir>/host-root: a developer's machine is never reconfigured
    /// by default.
    #[arg(long, env = "STARLING_CONFIG_ROOT")]
    pub config_root: Option<PathBuf>,
    /// A destructive class of configuration this agent applies (repeat, or
    /// comma-separate): `network` brings the host's platform interfaces up
    /// (VLANs, bonds, MTU, addresses, default route) and writes them for
    /// its network stack. None by default: without it the host's
    /// interfaces are left as they are and the apply says so.
    #[arg(long = "apply-class", env = "STARLING_APPLY_CLASSES", value_delimiter = ',', value_parser = ["network"])]
    pub apply_class: Vec<String>,
    /// The network namespace standing for the host's network (`ip -n`),
    /// for a host run in one; the host's own by default.
    #[arg(long, env = "STARLING_NETWORK_NAMESPACE")]
    pub network_namespace: Option<String>,
}

impl HostAgentArgs {
    /// How this agent configures the host's interfaces.
    pub fn network_setup(&self) -> starling_agent::network::NetworkSetup {
        starling_agent::network::NetworkSetup {
            enabled: self.apply_class.iter().any(|c| c == "network"),
            netns: self.network_namespace.clone(),
        }
    }
}

impl HostAgentArgs {
    /// The agent's configuration: these options with where and how it
    /// reports.
    pub fn config(
        &self,
        root: starling_agent::Root,
        inventory_url: String,
        auth: starling_agent::run::Auth,
        http: reqwest::Client,
        interval: Duration,
    ) -> starling_agent::run::Config {
        starling_agent::run::Config {
            root,
            inventory_url,
            auth,
            http,
            interval,
            mgmt_interface: self.mgmt_interface.clone(),
            action_command: self.action_command.clone(),
            action_timeout: self.action_timeout,
            // Below the agents' HTTP client timeout (AGENT_HTTP_TIMEOUT).
            command_wait: Duration::from_secs(20),
            lldpcli: self
                .lldpcli
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            heartbeat: None,
            configure: None,
            pmon_dir: Some(self.pmon_dir.clone()).filter(|d| !d.as_os_str().is_empty()),
            resources: (self.cpu_threshold.0.is_some()
                || self.memory_threshold.0.is_some()
                || self.filesystem_threshold.0.is_some()
                || !self.monitor_interface.is_empty())
            .then(|| {
                let d = starling_agent::resmon::ResourceConfig::default();
                starling_agent::resmon::ResourceConfig {
                    interval: self.resource_interval,
                    cpu: self.cpu_threshold.0,
                    memory: self.memory_threshold.0,
                    filesystem: self.filesystem_threshold.0,
                    filesystems: if self.filesystems.is_empty() {
                        d.filesystems
                    } else {
                        self.filesystems.clone()
                    },
                    cpu_cgroup: self.cpu_cgroup.clone(),
                    interfaces: self.monitor_interface.clone(),
                }
            }),
        }
    }
}

/// Every service `starlingd` runs, in the order their schemas are migrated
/// and they start (a service starts after those it uses). The options,
/// ports, catalog and service accounts come from this list too. Adding a
/// service adds a line here (docs/adding-a-service.md).
pub static SERVICES: &[&dyn starling_service::Service] = &[
    &starling_fm_api::SERVICE,
    &starling_identity_api::SERVICE,
    &starling_inventory_api::SERVICE,
    &starling_mtce_api::SERVICE,
    &starling_config_api::SERVICE,
];

/// Every service's schema, in migration order. `starlingd` migrates all of
/// them at every start whatever runs (a service alone may validate tokens
/// against the identity tables of its database).
pub fn schemas() -> Vec<starling_db::Schema> {
    starling_service::schemas(SERVICES)
}

/// The agents' HTTP timeout: above the command long poll's wait.
pub const AGENT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The host agent's options.
#[derive(Args, Debug)]
pub struct AgentArgs {
    /// The inventory API of the controller.
    #[arg(
        long,
        env = "STARLING_INVENTORY_URL",
        default_value = "http://127.0.0.1:6385"
    )]
    pub inventory_url: String,
    /// CA bundle (PEM) that verifies an https --inventory-url.
    #[arg(long, env = "STARLING_INVENTORY_CACERT")]
    pub inventory_cacert: Option<PathBuf>,
    /// Time between hardware audits (e.g. 60s, 5m).
    #[arg(long, env = "STARLING_AGENT_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub interval: Duration,
    /// The directory standing for / (a captured fixture tree in tests).
    #[arg(long, env = "STARLING_AGENT_ROOT", default_value = "/")]
    pub root: PathBuf,
    /// Where the agent keeps this host's own credential (got by enrolling
    /// with the secret in STARLING_AGENT_ENROLLMENT).
    #[arg(
        long,
        env = "STARLING_AGENT_STATE_DIR",
        default_value = "/var/lib/starling-agent"
    )]
    pub state_dir: PathBuf,
    #[command(flatten)]
    pub host: HostAgentArgs,
    /// Host maintenance on the controller (e.g. http://ctl:2112): the agent
    /// registers its heartbeat responder there with its host's credential.
    /// Without it the host is not heartbeated.
    #[arg(long, env = "STARLING_MTCE_URL")]
    pub mtce_url: Option<String>,
}

/// The identity service a service running alone (or an agent) logs in to
/// and, for a service, validates tokens against.
#[derive(Args, Debug, Clone)]
pub struct RemoteAuthArgs {
    /// Identity service (Starling's or Keystone), e.g. http://ctl:5000/v3.
    /// Without it, tokens are checked against this database's identity tables.
    #[arg(long, env = "STARLING_AUTH_URL")]
    pub auth_url: Option<String>,
    /// The service's user on the identity service.
    #[arg(long, env = "STARLING_AUTH_USERNAME", default_value = "admin")]
    pub auth_username: String,
    /// Its project.
    #[arg(long, env = "STARLING_AUTH_PROJECT", default_value = "admin")]
    pub auth_project: String,
    /// The user's domain name.
    #[arg(long, env = "STARLING_AUTH_USER_DOMAIN", default_value = "Default")]
    pub auth_user_domain: String,
    /// The project's domain name.
    #[arg(long, env = "STARLING_AUTH_PROJECT_DOMAIN", default_value = "Default")]
    pub auth_project_domain: String,
    /// CA bundle (PEM) that verifies an https --auth-url.
    #[arg(long, env = "STARLING_AUTH_CACERT")]
    pub auth_cacert: Option<PathBuf>,
}

pub use starling_service::parse_duration;

pub mod sm;

/// The FM client over HTTP to `fm_url`, with tokens from `tokens` and its
/// spool in `spool_dir`.
pub fn fm_client(
    fm_url: &str,
    tokens: Option<Arc<dyn starling_common::TokenSource>>,
    fm_ca: Option<&std::path::Path>,
    spool_dir: PathBuf,
) -> Result<starling_fm_client::FmClient> {
    let mut cfg = starling_fm_client::Config::new(fm_url.to_string(), spool_dir);
    cfg.token = tokens;
    if let Some(ca) = fm_ca {
        cfg.ca_pem =
            Some(std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?);
    }
    starling_fm_client::FmClient::open(cfg)
        .map_err(|e| anyhow::anyhow!("cannot start the FM client: {e}"))
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One line per event, for people (colours only on a terminal).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Checks a log filter: comma-separated directives, each a level
/// (`off`, `error`, `warn`, `info`, `debug`, `trace`) or `TARGET=LEVEL`.
/// tracing would read a bare word as a target and log nothing else, so
/// `--log json` silently logged nothing: here it is an error.
pub fn check_log_filter(filter: &str) -> Result<()> {
    for d in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = match d.split_once('=') {
            Some((target, level)) if !target.is_empty() => level,
            Some(_) => bail!("invalid log filter '{filter}': '{d}' names no target"),
            None => d,
        };
        if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            bail!(
                "invalid log filter '{filter}': '{d}' is not a level ({}) nor TARGET=LEVEL",
                LEVELS.join(", ")
            );
        }
    }
    Ok(())
}

/// Starts logging to stderr with `filter` in `format`; ANSI colours only
/// when stderr is a terminal.
pub fn init_logging(filter: &str, format: LogFormat) -> Result<()> {
    check_log_filter(filter)?;
    let f = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter '{filter}'"))?;
    let b = tracing_subscriber::fmt()
        .with_env_filter(f)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => b
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => b.json().with_ansi(false).init(),
    }
    Ok(())
}

/// An HTTP client that trusts `ca` (a PEM bundle) when given.
pub fn http_client(ca: Option<&Path>, timeout: Duration) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder().timeout(timeout);
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("invalid CA bundle {}", ca.display()))?;
        b = b.tls_certs_only(certs);
    }
    b.build().context("cannot build the HTTP client")
}

/// A login session with `--auth-url` (password in STARLING_AUTH_PASSWORD),
/// when one is configured. It logs in once now so wrong credentials show
/// at start; a failure is logged and the login retried on use.
pub async fn identity_session(
    remote: &RemoteAuthArgs,
    clock: Arc<dyn Clock>,
) -> Result<Option<Arc<ServiceSession>>> {
    let Some(auth_url) = &remote.auth_url else {
        return Ok(None);
    };
    let password = std::env::var("STARLING_AUTH_PASSWORD")
        .map_err(|_| anyhow::anyhow!("--auth-url needs the password in STARLING_AUTH_PASSWORD"))?;
    let creds = ServiceCredentials {
        auth_url: auth_url.clone(),
        username: remote.auth_username.clone(),
        password,
        project: remote.auth_project.clone(),
        user_domain: remote.auth_user_domain.clone(),
        project_domain: remote.auth_project_domain.clone(),
    };
    let http = http_client(remote.auth_cacert.as_deref(), Duration::from_secs(10))?;
    let session = Arc::new(ServiceSession::new(http, creds, clock));
    if let Err(e) = session.login().await {
        tracing::warn!(error = %e, "login to the identity service failed; retried on use");
    }
    Ok(Some(session))
}

/// The agent's configuration: its HTTP client, credentials and root. It
/// logs in as `remote` says (password in STARLING_AUTH_PASSWORD); without
/// --auth-url, STARLING_AGENT_TOKEN is sent.
pub async fn agent_config(
    a: &AgentArgs,
    remote: &RemoteAuthArgs,
    clock: Arc<dyn Clock>,
) -> Result<starling_agent::run::Config> {
    let http = http_client(a.inventory_cacert.as_deref(), AGENT_HTTP_TIMEOUT)?;
    let secret = std::env::var("STARLING_AGENT_ENROLLMENT").ok();
    let file = a.state_dir.join("credential");
    let auth = match identity_session(remote, clock).await? {
        Some(_) if secret.is_some() => bail!(
            "STARLING_AGENT_ENROLLMENT and --auth-url are two ways for the agent to log in: \
             choose one (the enrollment secret gives the host a credential of its own)"
        ),
        Some(session) => starling_agent::run::Auth::Token(session),
        None if secret.is_some() || file.exists() => starling_agent::run::Auth::Enrolled(Arc::new(
            starling_agent::credential::Enrollment::open(secret, file)
                .map_err(anyhow::Error::msg)?,
        )),
        None => match std::env::var("STARLING_AGENT_TOKEN") {
            Ok(t) => starling_agent::run::Auth::Token(Arc::new(starling_common::StaticToken(t))),
            Err(_) => bail!(
                "the agent needs the controller's enrollment secret in STARLING_AGENT_ENROLLMENT \
                 (its <data-dir>/agent-enrollment), or --auth-url with STARLING_AUTH_PASSWORD, \
                 or STARLING_AGENT_TOKEN"
            ),
        },
    };
    if a.interval.is_zero() {
        bail!("--interval must be more than zero");
    }
    tracing::info!(url = %a.inventory_url, root = %a.root.display(), "agent reporting to inventory");
    let mut cfg = a.host.config(
        starling_agent::Root::new(&a.root),
        a.inventory_url.clone(),
        auth,
        http,
        a.interval,
    );
    cfg.configure = a
        .host
        .config_root
        .clone()
        .map(|root| starling_agent::apply::ApplySetup {
            root,
            applied_file: a.state_dir.join("config-applied"),
            network: a.host.network_setup(),
        });
    if cfg.configure.is_none() {
        tracing::info!("no --config-root: this agent applies no configuration");
    }
    cfg.heartbeat = a
        .mtce_url
        .clone()
        .map(|mtce_url| starling_agent::run::HeartbeatSetup {
            mtce_url,
            port: a.host.heartbeat_port,
            cluster_address: a.host.cluster_address,
        });
    Ok(cfg)
}

/// Tells systemd (a `Type=notify` unit) about the daemon's state —
/// `READY=1` once it serves, `STOPPING=1` when it begins to stop — through
/// `$NOTIFY_SOCKET`; nothing without one. A failure is logged: the daemon
/// runs as well without systemd.
pub fn sd_notify(state: &str) {
    if let Err(e) = starling_agent::systemd::notify(state) {
        tracing::warn!(error = %e, state, "cannot notify systemd");
    }
}

pub async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_filters_are_levels_or_target_levels() {
        for ok in [
            "info",
            "warn,starling_db=debug",
            "INFO",
            "off",
            "a::b=trace",
            "",
        ] {
            assert!(check_log_filter(ok).is_ok(), "{ok}");
        }
        for bad in ["json", "verbose", "=debug", "starling_db=loud", "info,text"] {
            let e = check_log_filter(bad).unwrap_err().to_string();
            assert!(e.contains("invalid log filter"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_service_list_is_well_formed() {
        assert_eq!(starling_service::check(SERVICES), Ok(()));
        let components: Vec<&str> = schemas().iter().map(|s| s.component).collect();
        assert_eq!(components, ["fm", "identity", "inventory", "config"]);
        assert_eq!(starling_service::service_accounts(SERVICES), ["sysinv"]);
    }
}
