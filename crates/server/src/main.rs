//! `starlingd`: the multi-call Starling daemon.
//!
//! * `starlingd` (no subcommand): all-in-one — identity (:5000), fault
//!   management (:18002) and inventory (:6385) in one process, on embedded
//!   SQLite under `--data-dir`; tokens are validated in-process.
//! * `starlingd fm --database-url URL`: fault management alone, on any backend;
//!   tokens are validated against `--auth-url` (Starling's identity or an
//!   external Keystone) with service credentials, or against the identity
//!   tables of the same database when no URL is given.
//! * `starlingd inventory --database-url URL`: inventory alone, the same way;
//!   host alarms go to `--fm-url`.

mod bootstrap;

use starling_server::{
    AGENT_HTTP_TIMEOUT, AgentArgs, HostAgentArgs, RemoteAuthArgs, agent_config, http_client,
    identity_session, init_logging, parse_duration, shutdown,
};

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use starling_auth::{LocalAuth, LocalIssuer, RemoteAuth, ServiceSession, TokenCache};
use starling_common::alarm::AlarmSink;
use starling_common::{Clock, SystemClock};
use starling_db::{Db, Tuning};
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging};
use starling_http::Authenticator;
use starling_identity::Interface;
use starling_identity::ops::{self, AuthSettings, BootstrapSpec, ServiceSpec};
use starling_identity::password::{Lockout, PasswordRules};
use starling_identity::repo::IdentityRepo;
use starling_identity_api::IdentityState;
use starling_identity_store::IdentityStore;
use starling_inventory::ops::{self as inv_ops, SystemSpec};
use starling_inventory::{SystemMode, SystemType};
use starling_inventory_api::InventoryState;
use starling_inventory_store::InventoryStore;

#[derive(Parser, Debug)]
#[command(
    name = "starlingd",
    version,
    about = "Starling edge-cloud control plane daemon"
)]
struct Cli {
    #[command(subcommand)]
    service: Option<Service>,
    #[command(flatten)]
    common: Common,
    /// Data directory of the all-in-one mode (holds starling.db).
    #[arg(long, env = "STARLING_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    local: LocalAgentArgs,
}

/// The all-in-one's own host: bootstrapped as controller-0 and inventoried
/// by an agent running in the daemon.
#[derive(Args, Debug, Clone)]
struct LocalAgentArgs {
    /// Do not bootstrap this machine as controller-0 nor run its agent in
    /// the daemon (a controller elsewhere, or tests).
    #[arg(long, env = "STARLING_NO_LOCAL_AGENT")]
    no_local_agent: bool,
    #[command(flatten)]
    host: HostAgentArgs,
}

#[derive(Subcommand, Debug)]
enum Service {
    /// Run fault management alone against a configured database.
    Fm {
        /// sqlite://PATH, postgres://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB.
        #[arg(long, env = "STARLING_DATABASE_URL")]
        database_url: String,
        #[command(flatten)]
        remote: RemoteAuthArgs,
    },
    /// Run the inventory API alone against a configured database.
    Inventory {
        /// sqlite://PATH, postgres://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB.
        #[arg(long, env = "STARLING_DATABASE_URL")]
        database_url: String,
        #[command(flatten)]
        remote: RemoteAuthArgs,
        /// FM, where host alarms and logs are reported.
        #[arg(
            long,
            env = "STARLING_FM_URL",
            default_value = "http://127.0.0.1:18002"
        )]
        fm_url: String,
        /// CA bundle (PEM) that verifies an https --fm-url.
        #[arg(long, env = "STARLING_FM_CACERT")]
        fm_cacert: Option<PathBuf>,
        /// Where reports wait while FM is unreachable (default: under the
        /// per-user data directory).
        #[arg(long, env = "STARLING_SPOOL_DIR")]
        spool_dir: Option<PathBuf>,
    },
    /// Run the host agent: discover this host's hardware and keep the
    /// controller's inventory of it up to date.
    Agent(AgentArgs),
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Address the APIs listen on.
    #[arg(
        long,
        env = "STARLING_BIND",
        default_value = "127.0.0.1",
        global = true
    )]
    bind: IpAddr,
    /// Port of the FM API.
    #[arg(long, env = "STARLING_FM_PORT", default_value_t = starling_fm_api::DEFAULT_PORT, global = true)]
    fm_port: u16,
    /// Alarm catalogue (events.yaml format); the built-in one when absent.
    #[arg(long, env = "STARLING_CATALOGUE", global = true)]
    catalogue: Option<PathBuf>,
    /// Event-log rows kept.
    #[arg(
        long,
        env = "STARLING_EVENT_LOG_MAX_ROWS",
        default_value_t = 4000,
        global = true
    )]
    event_log_max_rows: i64,
    /// Event-log records older than this are deleted (e.g. 30d, 12h); off when absent.
    #[arg(long, env = "STARLING_EVENT_LOG_MAX_AGE", value_parser = parse_duration, global = true)]
    event_log_max_age: Option<Duration>,
    /// Largest page a list request may ask for.
    #[arg(
        long,
        env = "STARLING_MAX_PAGE",
        default_value_t = 10_000,
        global = true
    )]
    max_page: u32,
    /// SNMPv2c trap receiver, IP:PORT[/COMMUNITY] (repeat or comma-separate for several).
    #[arg(
        long = "trap-dest",
        env = "STARLING_TRAP_DEST",
        value_delimiter = ',',
        global = true
    )]
    trap_dest: Vec<String>,
    /// System name: traps prefix entity ids with system=<name>.
    #[arg(long, env = "STARLING_SYSTEM_NAME", global = true)]
    system_name: Option<String>,
    /// Region name: traps prefix entity ids with region=<name>.
    #[arg(long, env = "STARLING_REGION_NAME", global = true)]
    region_name: Option<String>,
    /// Port of the inventory API.
    #[arg(long, env = "STARLING_INVENTORY_PORT", default_value_t = starling_inventory_api::DEFAULT_PORT, global = true)]
    inventory_port: u16,
    /// System type at first start: All-in-one or Standard.
    #[arg(
        long,
        env = "STARLING_SYSTEM_TYPE",
        default_value = "All-in-one",
        global = true
    )]
    system_type: String,
    /// System mode at first start: simplex, duplex or duplex-direct (a
    /// simplex system takes no further hosts).
    #[arg(
        long,
        env = "STARLING_SYSTEM_MODE",
        default_value = "simplex",
        global = true
    )]
    system_mode: String,
    /// Port of the identity API (all-in-one).
    #[arg(long, env = "STARLING_IDENTITY_PORT", default_value_t = starling_identity_api::DEFAULT_PORT, global = true)]
    identity_port: u16,
    /// Host name or address put in the service catalog's URLs; the bind
    /// address by default (the machine's host name when binding to all).
    #[arg(long, env = "STARLING_ADVERTISE_HOST", global = true)]
    advertise_host: Option<String>,
    /// Token lifetime.
    #[arg(long, env = "STARLING_TOKEN_TTL", default_value = "1h", value_parser = parse_duration, global = true)]
    token_ttl: Duration,
    /// How long a validated token is trusted without asking again (0 turns the
    /// cache off); a revocation elsewhere takes effect within this.
    #[arg(long, env = "STARLING_TOKEN_CACHE_TTL", default_value = "5s", value_parser = parse_cache_ttl, global = true)]
    token_cache_ttl: Duration,
    /// Failed logins that lock a user out (0: never).
    #[arg(
        long,
        env = "STARLING_LOCKOUT_FAILURES",
        default_value_t = 5,
        global = true
    )]
    lockout_failures: u32,
    /// How long a lockout lasts.
    #[arg(long, env = "STARLING_LOCKOUT_DURATION", default_value = "30m", value_parser = parse_duration, global = true)]
    lockout_duration: Duration,
    /// Fewest characters in a password.
    #[arg(
        long,
        env = "STARLING_PASSWORD_MIN_LENGTH",
        default_value_t = 7,
        global = true
    )]
    password_min_length: usize,
    /// Character classes a password needs: any of upper,lower,digit,special, or none.
    #[arg(
        long,
        env = "STARLING_PASSWORD_CLASSES",
        default_value = "upper,lower,digit,special",
        global = true
    )]
    password_classes: String,
    /// File holding the admin password for the first start (the password may
    /// also come from STARLING_ADMIN_PASSWORD); generated into
    /// <data-dir>/admin-password when neither is given.
    #[arg(long, env = "STARLING_ADMIN_PASSWORD_FILE", global = true)]
    admin_password_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "STARLING_TLS_CERT", requires = "tls_key", global = true)]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "STARLING_TLS_KEY", requires = "tls_cert", global = true)]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate generated into
    /// <data-dir>/tls (all-in-one); openrc points OS_CACERT at it.
    #[arg(
        long,
        env = "STARLING_TLS_SELF_SIGNED",
        conflicts_with = "tls_cert",
        global = true
    )]
    tls_self_signed: bool,
    /// CA bundle that verifies the listeners' certificate, written into
    /// openrc as OS_CACERT (with --tls-cert).
    #[arg(long, env = "STARLING_TLS_CA", global = true)]
    tls_ca: Option<PathBuf>,
    /// Log filter (tracing syntax, e.g. info or starling_db=debug).
    #[arg(long, env = "STARLING_LOG", default_value = "info", global = true)]
    log: String,
}

/// A duration that may be zero (`0` turns a cache off).
fn parse_cache_ttl(s: &str) -> Result<Duration, String> {
    if s.trim().trim_end_matches(['s', 'm', 'h', 'd']) == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(s)
}

fn password_rules(c: &Common) -> Result<PasswordRules> {
    let mut r = PasswordRules {
        min_length: c.password_min_length,
        upper: false,
        lower: false,
        digit: false,
        special: false,
    };
    for class in c.password_classes.split(',').map(str::trim) {
        match class {
            "upper" => r.upper = true,
            "lower" => r.lower = true,
            "digit" => r.digit = true,
            "special" => r.special = true,
            "none" | "" => {}
            other => {
                bail!("unknown password class '{other}': use upper, lower, digit, special or none")
            }
        }
    }
    Ok(r)
}

fn auth_settings(c: &Common) -> AuthSettings {
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    AuthSettings {
        token_ttl_secs: secs(c.token_ttl),
        lockout: Lockout {
            max_failures: c.lockout_failures,
            duration_secs: secs(c.lockout_duration),
        },
    }
}

/// The host put in catalog URLs.
fn advertised_host(c: &Common) -> String {
    if let Some(h) = c.advertise_host.as_ref().filter(|h| !h.is_empty()) {
        return h.clone();
    }
    if c.bind.is_unspecified() {
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            let h = h.trim();
            if !h.is_empty() {
                return h.to_string();
            }
        }
        return "127.0.0.1".into();
    }
    match c.bind {
        IpAddr::V6(a) => format!("[{a}]"),
        IpAddr::V4(a) => a.to_string(),
    }
}

fn default_data_dir() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("starling"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/starling")),
        None => bail!("no data directory: set --data-dir or STARLING_DATA_DIR"),
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = init_logging(&cli.common.log) {
        eprintln!("starlingd: {e:#}");
        std::process::exit(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("starlingd")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starlingd: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        tracing::error!("{e:#}");
        eprintln!("starlingd: {e:#}");
        std::process::exit(1);
    }
}

/// The database of the all-in-one mode, under the data directory.
fn all_in_one_dir(cli: &Cli) -> Result<PathBuf> {
    let dir = match &cli.data_dir {
        Some(d) => d.clone(),
        None => default_data_dir()?,
    };
    // It holds the database (password and token hashes), the admin
    // password and keys: only its owner may enter it.
    bootstrap::private_dir(&dir).context("cannot create the data directory")?;
    Ok(dir)
}

async fn open_db(url: &str) -> Result<Db> {
    Db::open(url, Tuning::default(), &starling_server::schemas())
        .await
        .with_context(|| format!("cannot open database {}", starling_db::redact_url(url)))
}

/// FM's state on `db`, with its catalogue synchronised and its background
/// work (age purge, SNMP traps) started.
async fn start_fm(c: &Common, db: Db) -> Result<FmState> {
    let catalogue_text = match &c.catalogue {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read catalogue {}", p.display()))?,
        None => starling_fm::catalogue::BUILTIN.to_string(),
    };
    let entries = starling_fm::catalogue::parse(&catalogue_text).context("invalid catalogue")?;
    if c.event_log_max_rows < 1 {
        bail!("--event-log-max-rows must be at least 1");
    }
    let destinations = c
        .trap_dest
        .iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| starling_fm_snmp::Destination::parse(d.trim()).map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<Vec<_>>>()?;
    let state = FmState {
        db,
        clock: Arc::new(SystemClock),
        limits: Limits {
            event_log_max_rows: c.event_log_max_rows,
            notifications: !destinations.is_empty(),
            ..Limits::default()
        },
        paging: Paging {
            default_limit: 2000.min(c.max_page),
            max_limit: c.max_page.max(1),
        },
        written: Default::default(),
    };
    let report = starling_fm_api::sync_catalogue(&state, entries)
        .await
        .map_err(|e| anyhow::anyhow!("catalogue sync failed: {e}"))?;
    tracing::info!(
        added = report.added,
        updated = report.updated,
        removed = report.removed,
        retired = report.retired,
        "alarm catalogue synchronised"
    );
    if let Some(age) = c.event_log_max_age {
        let st = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600).min(age));
            loop {
                tick.tick().await;
                match starling_fm_api::purge_events(&st, age).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "event log purged by age"),
                    Err(e) => tracing::warn!(error = %e, "event log purge failed"),
                }
            }
        });
    }
    if !destinations.is_empty() {
        tracing::info!(destinations = destinations.len(), "SNMP traps enabled");
        let cfg = starling_fm_snmp::TrapConfig {
            destinations,
            system_name: c.system_name.clone(),
            region_name: c.region_name.clone(),
            warm_start_interval: Duration::from_secs(30),
        };
        let deliverer =
            starling_fm_snmp::Deliverer::new(state.db.clone(), cfg, state.written.clone());
        tokio::spawn(deliverer.run(std::future::pending()));
    }
    Ok(state)
}

/// How a service running alone validates tokens, and its own session with
/// the identity service when it has one.
async fn service_auth(
    remote: &RemoteAuthArgs,
    db: &Db,
    clock: Arc<dyn Clock>,
    cache: Arc<TokenCache>,
) -> Result<(Arc<dyn Authenticator>, Option<Arc<ServiceSession>>)> {
    let Some(session) = identity_session(remote, clock.clone()).await? else {
        tracing::info!("no --auth-url: validating tokens against this database's identity tables");
        return Ok((Arc::new(LocalAuth::new(db.clone(), clock, cache)), None));
    };
    tracing::info!(auth_url = %session.base(), "validating tokens against the identity service");
    let ra = RemoteAuth::new(session.clone(), clock, cache);
    Ok((Arc::new(ra), Some(session)))
}

/// The system record's first-start values.
fn system_spec(c: &Common) -> Result<SystemSpec> {
    Ok(SystemSpec {
        name: c.system_name.clone().unwrap_or_else(|| "starling".into()),
        system_type: SystemType::parse(&c.system_type).map_err(|e| anyhow::anyhow!("{e}"))?,
        system_mode: SystemMode::parse(&c.system_mode).map_err(|e| anyhow::anyhow!("{e}"))?,
        software_version: env!("CARGO_PKG_VERSION").into(),
        region_name: c.region_name.clone().unwrap_or_else(|| "RegionOne".into()),
    })
}

/// The FM client over HTTP to `fm_url`, with tokens from `tokens` and its
/// spool in `spool_dir`.
fn fm_client(
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

/// Reports an all-in-one of an earlier release queued in its spool (it sent
/// them to FM over loopback) are still delivered: the client replays them
/// once FM answers, and goes when the spool is empty.
fn drain_old_spool(client: starling_fm_client::FmClient) {
    let n = client.queued();
    if n == 0 {
        return;
    }
    tracing::info!(queued = n, "replaying reports an earlier start left for FM");
    tokio::spawn(async move {
        while client.queued() > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tracing::info!("the earlier start's reports reached FM");
    });
}

/// Inventory's state on `db`, with the system record ensured and host
/// alarms handed to `fm`.
async fn start_inventory(c: &Common, db: Db, fm: Arc<dyn AlarmSink>) -> Result<InventoryState> {
    let spec = system_spec(c)?;
    let now = SystemClock.now();
    let sys = db
        .write(move |conn| inv_ops::ensure_system(&mut InventoryStore::new(conn), &spec, now))
        .await
        .map_err(|e| anyhow::anyhow!("inventory bootstrap failed: {e}"))?;
    tracing::info!(system = %sys.name, mode = sys.system_mode.as_str(), "inventory system record ready");
    Ok(InventoryState {
        db,
        clock: Arc::new(SystemClock),
        fm: Some(fm),
        paging: starling_inventory_api::Paging::default(),
        commands: Default::default(),
        reports: Default::default(),
    })
}

async fn run(cli: Cli) -> Result<()> {
    let c = cli.common.clone();
    let rules = password_rules(&c)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cache = Arc::new(TokenCache::new(
        c.token_cache_ttl,
        TokenCache::DEFAULT_CAPACITY,
    ));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    match &cli.service {
        None => {
            let dir = all_in_one_dir(&cli)?;
            let db_file = dir.join("starling.db");
            bootstrap::private_db_file(&db_file)?;
            let url = format!("sqlite://{}", db_file.display());
            let db = open_db(&url).await?;
            // On a first boot the admin's password hash (argon2, tens of
            // milliseconds) runs on a blocking thread while FM starts.
            let admin = begin_admin(&c, &db, &dir, &rules).await?;
            let fm = start_fm(&c, db.clone()).await?;
            let tls = tls_config(&c, Some(&dir))?;
            let (boot, mut id) = prepare_identity(
                &c,
                &db,
                &dir,
                &rules,
                admin,
                tls.as_ref(),
                clock.clone(),
                cache.clone(),
            )?;
            // A first start serves while the admin's password is hashed
            // (argon2: tens of milliseconds, more than the rest of the
            // start-up); logins wait for the accounts, and a bootstrap that
            // fails stops the daemon as it would have before serving.
            let bootstrapped = if boot.waits_for_hash() {
                let (tx, rx) = tokio::sync::watch::channel(false);
                id.ready = Some(rx.clone());
                servers.spawn(async move {
                    boot.run()
                        .await
                        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                    let _ = tx.send(true);
                    Ok(())
                });
                Some(rx)
            } else {
                boot.run().await?;
                None
            };
            let auth: Arc<dyn Authenticator> =
                Arc::new(LocalAuth::new(db.clone(), clock.clone(), cache.clone()));
            // Inventory calls FM as the password-less service account sysinv,
            // with tokens issued in-process.
            let issuer = Arc::new(LocalIssuer::new(
                db.clone(),
                clock.clone(),
                inventory_account()?,
                auth_settings(&c),
            ));
            // Inventory's alarms go to FM in this process.
            bootstrap::private_dir(&dir.join("spool"))?;
            drain_old_spool(fm_client(
                &service_url(&c, tls.as_ref(), c.fm_port),
                Some(issuer.clone()),
                tls.as_ref().and_then(|t| t.ca.as_deref()),
                dir.join("spool").join("inventory"),
            )?);
            let alarms: Arc<dyn AlarmSink> =
                Arc::new(starling_fm_api::LocalAlarms::new(fm.clone()));
            let inventory = start_inventory(&c, db.clone(), alarms).await?;
            spawn_token_purge(db.clone());
            let listener = listen(c.bind, c.identity_port, "identity", &url).await?;
            let app = starling_identity_api::router(id, auth.clone());
            servers.spawn(serve(listener, app, tls.as_ref(), stopped()));
            let listener = listen(c.bind, c.fm_port, "fm", &url).await?;
            let app = starling_fm_api::router(fm, auth.clone());
            servers.spawn(serve(listener, app, tls.as_ref(), stopped()));
            let listener = listen(c.bind, c.inventory_port, "inventory", &url).await?;
            let app = starling_inventory_api::router(inventory.clone(), auth);
            servers.spawn(serve(listener, app, tls.as_ref(), stopped()));
            if !cli.local.no_local_agent {
                // A machine whose management MAC cannot be told (no PCI
                // network port, e.g. some containers) still runs Starling;
                // it just has no local host until one is named.
                match local_agent(&c, &cli.local, &inventory, tls.as_ref(), issuer).await {
                    Ok(cfg) => {
                        let stop = stopped();
                        servers.spawn(async move {
                            // Its tokens are the service account's, made
                            // by the bootstrap.
                            if let Some(mut ready) = bootstrapped
                                && ready.wait_for(|done| *done).await.is_err()
                            {
                                return Ok(());
                            }
                            starling_agent::run::run(cfg, stop).await;
                            Ok(())
                        });
                    }
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "no local host agent"),
                }
            }
        }
        Some(Service::Fm {
            database_url,
            remote,
        }) => {
            let db = open_db(database_url).await?;
            let fm = start_fm(&c, db.clone()).await?;
            let tls = tls_config(&c, None)?;
            let (auth, _) = service_auth(remote, &db, clock.clone(), cache.clone()).await?;
            let listener = listen(c.bind, c.fm_port, "fm", database_url).await?;
            let app = starling_fm_api::router(fm, auth);
            servers.spawn(serve(listener, app, tls.as_ref(), stopped()));
        }
        Some(Service::Inventory {
            database_url,
            remote,
            fm_url,
            fm_cacert,
            spool_dir,
        }) => {
            let db = open_db(database_url).await?;
            let tls = tls_config(&c, None)?;
            let (auth, session) = service_auth(remote, &db, clock.clone(), cache.clone()).await?;
            // With an identity service, FM is called with the same session;
            // without, as the service account sysinv of this database.
            let tokens: Arc<dyn starling_common::TokenSource> = match session {
                Some(s) => s,
                None => Arc::new(LocalIssuer::new(
                    db.clone(),
                    clock.clone(),
                    inventory_account()?,
                    auth_settings(&c),
                )),
            };
            let spool = match spool_dir {
                Some(d) => d.clone(),
                None => default_data_dir()?.join("spool").join("inventory"),
            };
            let client = fm_client(fm_url, Some(tokens), fm_cacert.as_deref(), spool)?;
            tracing::info!(%fm_url, queued = client.queued(), "inventory reports host alarms to FM");
            let inventory = start_inventory(&c, db, Arc::new(client)).await?;
            let listener = listen(c.bind, c.inventory_port, "inventory", database_url).await?;
            let app = starling_inventory_api::router(inventory, auth);
            servers.spawn(serve(listener, app, tls.as_ref(), stopped()));
        }
        Some(Service::Agent(a)) => {
            let cfg = agent_config(a, clock.clone()).await?;
            let stop = stopped();
            servers.spawn(async move {
                starling_agent::run::run(cfg, stop).await;
                Ok(())
            });
        }
    }
    tokio::spawn(async move {
        shutdown().await;
        let _ = stop_tx.send(true);
    });
    while let Some(r) = servers.join_next().await {
        r.context("server task failed")?.context("server failed")?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The all-in-one's own host: controller-0 bootstrapped from this machine's
/// management MAC, and the agent that inventories it through the local
/// inventory API with the in-process service account's tokens.
async fn local_agent(
    c: &Common,
    a: &LocalAgentArgs,
    inventory: &InventoryState,
    tls: Option<&Tls>,
    tokens: Arc<LocalIssuer>,
) -> Result<starling_agent::run::Config> {
    let root = starling_agent::Root::new(Path::new("/"));
    let (r, i) = (root.clone(), a.host.mgmt_interface.clone());
    let id = tokio::task::spawn_blocking(move || starling_agent::identity(&r, i.as_deref()))
        .await
        .context("local discovery stopped")?
        .map_err(|e| anyhow::anyhow!("cannot tell this machine's management MAC (--mgmt-interface, or --no-local-agent): {e}"))?;
    match starling_inventory_api::bootstrap_controller(inventory, "controller-0", &id.mgmt_mac)
        .await
    {
        Ok(Some(h)) => {
            tracing::info!(mac = %h.mgmt_mac, "this machine is bootstrapped as controller-0")
        }
        Ok(None) => {}
        Err(e) => bail!(
            "cannot bootstrap this machine as controller-0: {}",
            e.message
        ),
    }
    let ca = tls.and_then(|t| t.ca.as_deref());
    Ok(a.host.config(
        root,
        service_url(c, tls, c.inventory_port),
        tokens,
        http_client(ca, AGENT_HTTP_TIMEOUT)?,
        Duration::from_secs(60),
    ))
}

/// The URL of one of this process's own services.
fn service_url(c: &Common, tls: Option<&Tls>, port: u16) -> String {
    let scheme = if tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{}:{port}", advertised_host(c))
}

/// Deletes expired tokens every ten minutes.
fn spawn_token_purge(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = SystemClock.now();
            match db
                .write(move |c| IdentityStore::new(c).purge_tokens(now))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired tokens purged"),
                Err(e) => tracing::warn!(error = %e, "token purge failed"),
            }
        }
    });
}

/// The listeners' TLS: certificate files, a self-signed certificate in the
/// data directory, or none.
struct Tls {
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    /// The CA to put in openrc as OS_CACERT.
    ca: Option<PathBuf>,
}

fn tls_config(c: &Common, data_dir: Option<&std::path::Path>) -> Result<Option<Tls>> {
    let (cert, key, ca) = match (&c.tls_cert, &c.tls_key, c.tls_self_signed) {
        (Some(cert), Some(key), _) => (cert.clone(), key.clone(), c.tls_ca.clone()),
        (_, _, true) => {
            let dir = data_dir.context(
                "--tls-self-signed needs the all-in-one data directory; a service running \
                 alone takes --tls-cert and --tls-key",
            )?;
            let (cert, key) = bootstrap::self_signed(dir, &tls_names(c))?;
            (cert.clone(), key, Some(cert))
        }
        _ => return Ok(None),
    };
    let config = starling_http::tls::server_config(&cert, &key).map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!(certificate = %cert.display(), "listeners serve HTTPS");
    Ok(Some(Tls { config, ca }))
}

/// The names a generated certificate is valid for.
fn tls_names(c: &Common) -> Vec<String> {
    let mut names = vec![
        advertised_host(c).trim_matches(['[', ']']).to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
    ];
    if !c.bind.is_unspecified() {
        names.push(c.bind.to_string());
    }
    names.sort();
    names.dedup();
    names
}

fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<&Tls>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static {
    let config = tls.map(|t| t.config.clone());
    async move {
        match config {
            Some(cfg) => starling_http::serve_tls(listener, cfg, app, stop).await,
            None => starling_http::serve(listener, app, stop).await,
        }
    }
}

async fn listen(
    bind: IpAddr,
    port: u16,
    service: &str,
    url: &str,
) -> Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(bind, port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({service})"))?;
    let local = listener.local_addr().context("no local address")?;
    tracing::info!(service, %local, database = %starling_db::redact_url(url), "listening");
    Ok(listener)
}

/// The admin's password hash, being computed on a blocking thread.
type AdminHash = tokio::task::JoinHandle<Result<String, starling_identity::Error>>;

/// The admin's password, and its hash being computed when the account is
/// still to be created (not on every start).
struct PendingAdmin {
    pw: bootstrap::AdminPassword,
    hash: Option<AdminHash>,
}

const ADMIN: &str = "admin";

/// Reads the admin's password and, on a first boot, starts hashing it.
async fn begin_admin(
    c: &Common,
    db: &Db,
    dir: &std::path::Path,
    rules: &PasswordRules,
) -> Result<PendingAdmin> {
    let pw = bootstrap::admin_password(
        std::env::var("STARLING_ADMIN_PASSWORD").ok(),
        c.admin_password_file.as_deref(),
        Some(dir),
        rules,
    )?;
    let admin_exists = db
        .read(|conn| {
            IdentityStore::new(conn).user_by_name(starling_identity::DEFAULT_DOMAIN_ID, ADMIN)
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the identity tables: {e}"))?
        .is_some();
    let hash = (!admin_exists).then(|| {
        let secret = pw.secret().to_string();
        tokio::task::spawn_blocking(move || starling_identity::password::hash(&secret))
    });
    Ok(PendingAdmin { pw, hash })
}

/// The identity records a start makes sure of (domain, projects, roles, the
/// admin and service accounts, the catalogue), ready to write once the
/// admin's password hash, if one is being made, is done.
struct IdentityBoot {
    db: Db,
    spec: BootstrapSpec,
    hash: Option<AdminHash>,
    clock: Arc<dyn starling_common::Clock>,
}

impl IdentityBoot {
    /// True when the admin's hash is still being made (a first start).
    fn waits_for_hash(&self) -> bool {
        self.hash.is_some()
    }

    /// Writes the records (with the admin account when it is new).
    async fn run(self) -> Result<()> {
        let IdentityBoot {
            db,
            mut spec,
            hash,
            clock,
        } = self;
        if let Some(h) = hash {
            spec.admin_password_hash = Some(
                h.await
                    .context("hashing failed")?
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
        let now = clock.now();
        let created = db
            .write(move |conn| ops::bootstrap(&mut IdentityStore::new(conn), &spec, now))
            .await
            .map_err(|e| anyhow::anyhow!("identity bootstrap failed: {e}"))?;
        if created {
            tracing::info!("identity bootstrapped: user admin in project admin");
        }
        Ok(())
    }
}

/// The port `name`'s listener takes (its option).
fn port_of(c: &Common, name: &str) -> Result<u16> {
    match name {
        "identity" => Ok(c.identity_port),
        "fm" => Ok(c.fm_port),
        "inventory" => Ok(c.inventory_port),
        other => bail!("no port option for service {other}"),
    }
}

/// Inventory's service account: it calls FM as this password-less account.
fn inventory_account() -> Result<&'static str> {
    use starling_service::Service;
    starling_inventory_api::SERVICE
        .service_account()
        .context("inventory has no service account")
}

/// Identity on the all-in-one database: the records to make sure of (the
/// Default domain, projects, roles, the admin and service accounts, the
/// catalog of the services this process runs), to be written before the
/// first login, and the identity service's state. `openrc` (with the admin
/// password from configuration, or generated into the data directory) is
/// written here, at once.
#[allow(clippy::too_many_arguments)]
fn prepare_identity(
    c: &Common,
    db: &Db,
    dir: &std::path::Path,
    rules: &PasswordRules,
    admin: PendingAdmin,
    tls: Option<&Tls>,
    clock: Arc<dyn starling_common::Clock>,
    cache: Arc<TokenCache>,
) -> Result<(IdentityBoot, IdentityState)> {
    let PendingAdmin { pw, hash } = admin;
    let region = c.region_name.clone().unwrap_or_else(|| "RegionOne".into());
    let identity_url = service_url(c, tls, c.identity_port);
    // The catalog of the services this process runs, from the list.
    let mut services = Vec::new();
    for s in starling_server::SERVICES {
        let Some(e) = s.catalog() else { continue };
        let url = format!("{}{}", service_url(c, tls, port_of(c, s.name())?), e.path);
        services.push(ServiceSpec {
            kind: e.service_type.into(),
            name: e.name.into(),
            description: e.description.into(),
            urls: Interface::ALL.iter().map(|i| (*i, url.clone())).collect(),
        });
    }
    let spec = BootstrapSpec {
        admin_user: ADMIN.into(),
        admin_password_hash: None,
        region: region.clone(),
        service_users: starling_service::service_accounts(starling_server::SERVICES)
            .into_iter()
            .map(String::from)
            .collect(),
        services,
    };
    let boot = IdentityBoot {
        db: db.clone(),
        spec,
        hash,
        clock: clock.clone(),
    };
    let password_file = match &pw {
        bootstrap::AdminPassword::File(_, f) => Some(f.as_path()),
        bootstrap::AdminPassword::Configured(_) => None,
    };
    let rc = bootstrap::openrc(&bootstrap::Openrc {
        auth_url: &format!("{identity_url}/v3"),
        username: "admin",
        region: &region,
        password_file,
        cacert: tls.and_then(|t| t.ca.as_deref()),
    });
    let rc_path = dir.join(bootstrap::OPENRC_FILE);
    bootstrap::write_private(&rc_path, &rc)?;
    tracing::info!(openrc = %rc_path.display(), "credentials: source this file to use the CLIs");
    let mut st = IdentityState::new(db.clone(), clock, cache);
    st.settings = auth_settings(c);
    st.password_rules = *rules;
    Ok((boot, st))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_cache_ttl("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_cache_ttl("5s").unwrap(), Duration::from_secs(5));
    }
}
