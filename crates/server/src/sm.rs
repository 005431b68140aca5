//! `starlingd sm`: service management on a controller, its `dump` and its
//! `configure` (StarlingX's `sm`, `sm-dump` and `sm-configure`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use starling_common::Error;
use starling_db::Conn;
use starling_sm_store as store;

use crate::parse_duration;

/// Service management's options.
#[derive(Args, Debug)]
pub struct SmArgs {
    #[command(subcommand)]
    pub action: Option<SmAction>,
    /// This controller's name (default: the hostname).
    #[arg(long, env = "STARLING_SM_NODE")]
    pub node: Option<String>,
    /// SM's own directory: its database (sm.db) and the pid files of the
    /// processes it starts (default: <data-dir>/sm).
    #[arg(long, env = "STARLING_SM_DIR")]
    pub sm_dir: Option<PathBuf>,
    /// SM's database (default: sqlite://<sm-dir>/sm.db). SM keeps its own:
    /// it runs before, and without, the database it manages.
    #[arg(long, env = "STARLING_SM_DATABASE_URL")]
    pub sm_database_url: Option<String>,
    /// sm-api's address (loopback: sysinv and sm-dump read it there).
    #[arg(long, env = "STARLING_SM_LISTEN", default_value = "127.0.0.1:7777")]
    pub sm_listen: SocketAddr,
    /// How often SM's state machines step.
    #[arg(long, env = "STARLING_SM_TICK", default_value = "100ms", value_parser = parse_duration)]
    pub sm_tick: Duration,
    /// On stop, how long the service groups have to be disabled.
    #[arg(long, env = "STARLING_SM_SHUTDOWN_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub sm_shutdown_timeout: Duration,
    /// The SM key both controllers hold: 128 hex digits, readable by its
    /// owner only (default: <sm-dir>/sm.key; `starlingd sm key-generate`).
    #[arg(long, env = "STARLING_SM_KEY_FILE")]
    pub sm_key_file: Option<PathBuf>,
    /// The password of the peer controller's BMC, for fencing; readable by
    /// its owner only (default: <sm-dir>/peer-bmc-password).
    #[arg(long, env = "STARLING_SM_PEER_BMC_PASSWORD_FILE")]
    pub peer_bmc_password_file: Option<PathBuf>,
    /// The cloud's heartbeat key, host maintenance's (default
    /// <data-dir>/heartbeat-key): with it the hosts answer SM's witness
    /// probes. Missing, a partition is judged without witnesses.
    #[arg(long, env = "STARLING_HEARTBEAT_KEY_FILE")]
    pub heartbeat_key_file: Option<PathBuf>,
    /// The UDP port of the hosts' heartbeat responders (the agents'
    /// --heartbeat-port), where the witness probes go.
    #[arg(long, env = "STARLING_WITNESS_PORT", default_value_t = 2106)]
    pub witness_port: u16,
}

#[derive(Subcommand, Debug)]
pub enum SmAction {
    /// Print the service groups and services as SM last recorded them
    /// (sm-dump).
    Dump,
    /// Write a new SM key (owner-only) for both controllers to hold; an
    /// existing key is kept unless --force.
    KeyGenerate {
        #[arg(long)]
        force: bool,
    },
    /// Change what SM manages (sm-configure); takes effect when SM starts.
    Configure {
        #[command(subcommand)]
        what: Configure,
    },
}

#[derive(Subcommand, Debug)]
pub enum Configure {
    /// Provision a heartbeat path to the peer controller.
    Interface {
        /// management-interface, cluster-host-interface or oam-interface.
        name: String,
        /// The network device.
        #[arg(long)]
        device: String,
        /// This controller's address on it.
        #[arg(long)]
        address: std::net::IpAddr,
        /// The peer controller's address on it.
        #[arg(long)]
        peer_address: std::net::IpAddr,
        #[arg(long, default_value_t = 2222)]
        port: u16,
        #[arg(long, default_value_t = 2222)]
        peer_port: u16,
    },
    /// Take a heartbeat path out of use.
    InterfaceRemove { name: String },
    /// Set a service's instance parameters (replacing its others), e.g.
    /// `management-ip address=192.168.204.2/24 device=mgmt0`.
    ServiceInstance {
        service: String,
        /// KEY=VALUE, one per parameter.
        params: Vec<String>,
    },
    /// Choose how a service's actions are carried out: ip, systemd (NAME
    /// a unit), exec (NAME an LSB script) or process (SM starts the
    /// instance's `command` itself).
    Plugin {
        service: String,
        plugin_type: String,
        name: String,
    },
    /// Put a service under SM's management (the seed's `postgres` is not,
    /// until a duplex's database is set up).
    Provision { service: String },
    /// Take a service out of SM's management.
    Deprovision { service: String },
    /// The domain's priority and timers.
    Domain {
        #[arg(long)]
        priority: Option<u8>,
        #[arg(long)]
        hello_ms: Option<u32>,
        #[arg(long)]
        dead_ms: Option<u32>,
        #[arg(long)]
        wait_ms: Option<u32>,
    },
    /// Set a CONFIGURATION value (e.g. ENABLING_THROTTLE 2).
    Set { name: String, value: String },
}

/// This machine's hostname.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

pub fn sm_dir(a: &SmArgs, data_dir: &Path) -> PathBuf {
    a.sm_dir.clone().unwrap_or_else(|| data_dir.join("sm"))
}

fn database_url(a: &SmArgs, dir: &Path) -> String {
    a.sm_database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("sm.db").display()))
}

fn key_file(a: &SmArgs, dir: &Path) -> PathBuf {
    a.sm_key_file.clone().unwrap_or_else(|| dir.join("sm.key"))
}

/// Writes a new key, owner-only, unless one is there (and not `force`).
fn generate_key(path: &Path, force: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if path.exists() && !force {
        bail!(
            "{} exists: keep it (both controllers must hold the same key) or pass --force",
            path.display()
        );
    }
    let key = starling_sm_peer::Key::generate().map_err(anyhow::Error::msg)?;
    let tmp = path.with_extension("new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    writeln!(f, "{}", key.to_hex())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}

/// FM, as SM reports to it: its URL, the CA that verifies it, where
/// reports wait while it is away (default <sm-dir>/spool).
pub struct FmTarget<'a> {
    pub url: &'a str,
    pub cacert: Option<&'a Path>,
    pub spool_dir: Option<&'a Path>,
}

/// Where SM's alarms go and who may swact: FM's spooling client at
/// `fm_url` and the identity service of `remote` (its session reports the
/// alarms; swact tokens are checked against it).
pub async fn attach(
    cfg: &mut starling_sm_api::Config,
    a: &SmArgs,
    data_dir: &Path,
    remote: &crate::RemoteAuthArgs,
    fm: FmTarget<'_>,
    clock: std::sync::Arc<dyn starling_common::Clock>,
) -> Result<()> {
    let FmTarget {
        url: fm_url,
        cacert: fm_cacert,
        spool_dir,
    } = fm;
    use std::sync::Arc;
    let session = crate::identity_session(remote, clock.clone()).await?;
    // A swact is asked with an operator's token, checked there.
    cfg.auth = session.clone().map(|s| {
        let cache = Arc::new(starling_http::TokenCache::new(Duration::from_secs(60), 256));
        Arc::new(starling_auth::RemoteAuth::new(s, clock.clone(), cache))
            as Arc<dyn starling_http::Authenticator>
    });
    let spool = spool_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| sm_dir(a, data_dir).join("spool"));
    let client = crate::fm_client(
        fm_url,
        session.map(|s| s as Arc<dyn starling_common::TokenSource>),
        fm_cacert,
        spool,
    )?;
    tracing::info!(fm_url = %fm_url, queued = client.queued(), "service management's alarms are reported to FM");
    cfg.alarms = Some(Arc::new(client));
    Ok(())
}

/// What `starlingd sm` (no action) runs with.
pub fn config(a: &SmArgs, data_dir: &Path) -> Result<starling_sm_api::Config> {
    let dir = sm_dir(a, data_dir);
    starling_service::private_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(starling_sm_api::Config {
        node: a.node.clone().unwrap_or_else(hostname),
        database_url: database_url(a, &dir),
        run_dir: dir.join("run"),
        listen: a.sm_listen,
        tick: a.sm_tick,
        shutdown_timeout: a.sm_shutdown_timeout,
        key_file: key_file(a, &dir),
        bmc_password_file: a
            .peer_bmc_password_file
            .clone()
            .unwrap_or_else(|| dir.join("peer-bmc-password")),
        heartbeat_key_file: a
            .heartbeat_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("heartbeat-key")),
        witness_port: a.witness_port,
        alarms: None,
        auth: None,
    })
}

fn pairs(params: &[String]) -> Result<Vec<(String, String)>> {
    params
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("{p:?} is not KEY=VALUE"),
        })
        .collect()
}

/// `starlingd sm dump` and `starlingd sm configure …`.
pub async fn command(a: &SmArgs, action: &SmAction, data_dir: &Path) -> Result<()> {
    let dir = sm_dir(a, data_dir);
    starling_service::private_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    if let SmAction::KeyGenerate { force } = action {
        return generate_key(&key_file(a, &dir), *force);
    }
    let db = starling_sm_api::open(&database_url(a, &dir))
        .await
        .map_err(anyhow::Error::msg)?;
    match action {
        SmAction::KeyGenerate { .. } => Ok(()),
        SmAction::Dump => {
            let node = a.node.clone().unwrap_or_else(hostname);
            print!(
                "{}",
                starling_sm_api::dump(&db, &node)
                    .await
                    .map_err(anyhow::Error::msg)?
            );
            Ok(())
        }
        SmAction::Configure { what } => {
            type Change = Box<dyn FnMut(&mut dyn Conn) -> Result<(), Error> + Send>;
            let mut change: Change = match what {
                Configure::Interface {
                    name,
                    device,
                    address,
                    peer_address,
                    port,
                    peer_port,
                } => {
                    let (name, i) = (
                        name.clone(),
                        store::InterfaceConfig {
                            device: device.clone(),
                            address: address.to_string(),
                            port: *port,
                            peer_address: peer_address.to_string(),
                            peer_port: *peer_port,
                        },
                    );
                    Box::new(move |c| store::set_interface(c, &name, &i))
                }
                Configure::InterfaceRemove { name } => {
                    let name = name.clone();
                    Box::new(move |c| store::unset_interface(c, &name))
                }
                Configure::ServiceInstance { service, params } => {
                    let (service, params) = (service.clone(), pairs(params)?);
                    Box::new(move |c| store::set_instance(c, &service, &params))
                }
                Configure::Plugin {
                    service,
                    plugin_type,
                    name,
                } => {
                    if !["ip", "systemd", "exec", "process", "postgres"]
                        .contains(&plugin_type.as_str())
                    {
                        bail!(
                            "plugin type {plugin_type:?}: use ip, systemd, exec, process or postgres"
                        );
                    }
                    let (s, t, n) = (service.clone(), plugin_type.clone(), name.clone());
                    Box::new(move |c| store::set_plugin(c, &s, &t, &n))
                }
                Configure::Provision { service } => {
                    let s = service.clone();
                    Box::new(move |c| store::set_provisioned(c, &s, true))
                }
                Configure::Deprovision { service } => {
                    let s = service.clone();
                    Box::new(move |c| store::set_provisioned(c, &s, false))
                }
                Configure::Domain {
                    priority,
                    hello_ms,
                    dead_ms,
                    wait_ms,
                } => {
                    let (p, h, d, w) = (*priority, *hello_ms, *dead_ms, *wait_ms);
                    Box::new(move |c| store::set_domain(c, p, h, d, w))
                }
                Configure::Set { name, value } => {
                    starling_sm_api::check_setting(name, value).map_err(anyhow::Error::msg)?;
                    let (n, v) = (name.clone(), value.clone());
                    Box::new(move |c| store::set_configuration(c, &n, &v))
                }
            };
            // What SM would refuse at its start is refused now, and the
            // change with it.
            db.write(move |c| {
                change(c)?;
                store::load(c).map(|_| ())
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
        }
    }
}
