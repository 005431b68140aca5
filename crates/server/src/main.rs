//! `starlingd`: the multi-call Starling daemon.
//!
//! * `starlingd` (no subcommand): all-in-one — every service built so far in one
//!   process, on embedded SQLite under `--data-dir`.
//! * `starlingd fm --database-url URL`: fault management alone, on any backend.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use starling_common::SystemClock;
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging};
use starling_http::{Authenticator, OpenAccess};
use starling_store::{Db, Tuning};

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
}

#[derive(Subcommand, Debug)]
enum Service {
    /// Run fault management alone against a configured database.
    Fm {
        /// sqlite://PATH, postgres://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB.
        #[arg(long, env = "STARLING_DATABASE_URL")]
        database_url: String,
    },
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
    /// Log filter (tracing syntax, e.g. info or starling_store=debug).
    #[arg(long, env = "STARLING_LOG", default_value = "info", global = true)]
    log: String,
}

/// Parses `90`, `90s`, `15m`, `12h`, `30d`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}': expected e.g. 30d, 12h, 15m, 90s"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("invalid duration unit in '{s}': use s, m, h or d")),
    };
    if n == 0 {
        return Err("duration must be positive".into());
    }
    Ok(Duration::from_secs(n.saturating_mul(mult)))
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

fn init_logging(filter: &str) -> Result<()> {
    let f = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter '{filter}'"))?;
    tracing_subscriber::fmt()
        .with_env_filter(f)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

async fn run(cli: Cli) -> Result<()> {
    let c = cli.common.clone();
    let url = match &cli.service {
        Some(Service::Fm { database_url }) => database_url.clone(),
        None => {
            let dir = match cli.data_dir {
                Some(d) => d,
                None => default_data_dir()?,
            };
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create data directory {}", dir.display()))?;
            format!("sqlite://{}", dir.join("starling.db").display())
        }
    };
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

    let db = Db::open(&url, Tuning::default())
        .await
        .with_context(|| format!("cannot open database {}", starling_store::redact_url(&url)))?;
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

    tracing::warn!(
        "identity is not configured: APIs accept unauthenticated requests on {}",
        c.bind
    );
    let auth: Arc<dyn Authenticator> = Arc::new(OpenAccess);

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

    let addr = SocketAddr::new(c.bind, c.fm_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr().context("no local address")?;
    tracing::info!(service = "fm", %local, database = %starling_store::redact_url(&url), "listening");
    let app = starling_fm_api::router(state, auth);
    starling_http::serve(listener, app, shutdown())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
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
    fn durations() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
