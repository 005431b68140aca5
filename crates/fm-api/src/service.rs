//! Fault management as a `starlingd` service: its options, and its start
//! (the catalogue synchronised, the age purge and SNMP traps started, the
//! in-process alarm sink offered to the services started after it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use starling_fm::ops::Limits;
use starling_http::BoxFuture;
use starling_service::{CatalogEntry, Ctx, Service, Started, parse_duration};

use crate::{FmState, LocalAlarms, Paging};

/// FM's options (`[fm]` in the configuration file).
#[derive(clap::Args, Debug, Clone)]
pub struct FmOptions {
    /// Alarm catalogue (events.yaml format); the built-in one when absent.
    #[arg(long, env = "STARLING_CATALOGUE")]
    pub catalogue: Option<PathBuf>,
    /// Event-log rows kept.
    #[arg(long, env = "STARLING_EVENT_LOG_MAX_ROWS", default_value_t = 4000)]
    pub event_log_max_rows: i64,
    /// Event-log records older than this are deleted (e.g. 30d, 12h); off when absent.
    #[arg(long, env = "STARLING_EVENT_LOG_MAX_AGE", value_parser = parse_duration)]
    pub event_log_max_age: Option<Duration>,
    /// Largest page a list request may ask for.
    #[arg(long, env = "STARLING_MAX_PAGE", default_value_t = 10_000)]
    pub max_page: u32,
    /// SNMPv2c trap receiver, IP:PORT[/COMMUNITY] (repeat or comma-separate for several).
    #[arg(long = "trap-dest", env = "STARLING_TRAP_DEST", value_delimiter = ',')]
    pub trap_dest: Vec<String>,
}

/// The fm service, as `starlingd` lists it.
pub struct FmService;

/// The fm service's entry in `starlingd`'s list of services.
pub static SERVICE: FmService = FmService;

impl Service for FmService {
    fn name(&self) -> &'static str {
        "fm"
    }
    fn port(&self) -> Option<u16> {
        Some(crate::DEFAULT_PORT)
    }
    fn catalog(&self) -> Option<CatalogEntry> {
        Some(CatalogEntry {
            service_type: "faultmanagement",
            name: "fm",
            description: "Starling fault management",
            path: "",
        })
    }
    fn schema(&self) -> Option<starling_db::Schema> {
        Some(starling_fm_store::SCHEMA)
    }
    fn service_account(&self) -> Option<&'static str> {
        None
    }
    fn options(&self) -> Vec<clap::Arg> {
        starling_service::args_of::<FmOptions>()
    }
    fn start(&self, ctx: Ctx) -> BoxFuture<'static, Result<Started, String>> {
        Box::pin(start(ctx))
    }
}

async fn start(ctx: Ctx) -> Result<Started, String> {
    let o: FmOptions = ctx.options()?;
    let catalogue_text = match &o.catalogue {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read catalogue {}: {e}", p.display()))?,
        None => starling_fm::catalogue::BUILTIN.to_string(),
    };
    let entries = starling_fm::catalogue::parse(&catalogue_text)
        .map_err(|e| format!("invalid catalogue: {e}"))?;
    if o.event_log_max_rows < 1 {
        return Err("--event-log-max-rows must be at least 1".into());
    }
    let destinations = o
        .trap_dest
        .iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| starling_fm_snmp::Destination::parse(d.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let state = FmState {
        db: ctx.db.clone(),
        clock: ctx.clock.clone(),
        limits: Limits {
            event_log_max_rows: o.event_log_max_rows,
            notifications: !destinations.is_empty(),
            ..Limits::default()
        },
        paging: Paging {
            default_limit: 2000.min(o.max_page),
            max_limit: o.max_page.max(1),
        },
        written: Default::default(),
    };
    let report = crate::sync_catalogue(&state, entries)
        .await
        .map_err(|e| format!("catalogue sync failed: {e}"))?;
    tracing::info!(
        added = report.added,
        updated = report.updated,
        removed = report.removed,
        retired = report.retired,
        "alarm catalogue synchronised"
    );
    if let Some(age) = o.event_log_max_age {
        let st = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600).min(age));
            loop {
                tick.tick().await;
                match crate::purge_events(&st, age).await {
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
            system_name: ctx.site.system_name.clone(),
            region_name: ctx.site.region_name.clone(),
            warm_start_interval: Duration::from_secs(30),
        };
        let deliverer =
            starling_fm_snmp::Deliverer::new(state.db.clone(), cfg, state.written.clone());
        tokio::spawn(deliverer.run(std::future::pending()));
    }
    Ok(Started {
        alarms: Some(Arc::new(LocalAlarms::new(state.clone()))),
        ..Started::serving(crate::router(state, ctx.auth))
    })
}
