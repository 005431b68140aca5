//! What a Starling service is to the daemon that runs it.
//!
//! Each service's API crate has one value implementing [`Service`] (`pub
//! static SERVICE`), and `starlingd` holds one list of them. From that list
//! come the schemas it migrates, the identity catalog and service accounts,
//! every service's options (accepted only where that service runs, and
//! settable in the configuration file's section of its name), its listener
//! port, and its start: [`Service::start`] is given a [`Ctx`] (the store,
//! clock, authenticator, token source, the clients of the services it
//! uses, its options) and returns what to serve and run ([`Started`]).
//!
//! Adding a service is its crates and one line in that list
//! (docs/adding-a-service.md).

mod files;

use std::any::Any;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use starling_common::alarm::AlarmSink;
use starling_common::{Clock, TokenSource};
use starling_db::{Db, Schema};
use starling_http::{Authenticator, BoxFuture, TokenCache};

pub use clap;
pub use files::{private_dir, write_private};

/// A service's entry in the identity catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The service type clients look it up by (e.g. `faultmanagement`).
    pub service_type: &'static str,
    /// Its name in the catalog (e.g. `fm`).
    pub name: &'static str,
    /// Its description in the catalog.
    pub description: &'static str,
    /// Appended to the listener's base URL to make the endpoint (StarlingX's
    /// `system` client wants the platform endpoint to end in `/v1`).
    pub path: &'static str,
}

/// A catalog entry with the URL this process serves it at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub entry: CatalogEntry,
    pub url: String,
}

/// The names this cloud goes by (traps, the system record, the catalog).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// `--system-name`, when given.
    pub system_name: Option<String>,
    /// `--region-name`, when given (the catalog's region is `RegionOne`
    /// otherwise: see [`Site::region`]).
    pub region_name: Option<String>,
}

impl Site {
    /// The catalog's region.
    pub fn region(&self) -> &str {
        self.region_name.as_deref().unwrap_or("RegionOne")
    }
}

/// What a service is given to start.
#[derive(Clone)]
pub struct Ctx {
    /// The database, migrated.
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// How callers of its API are authenticated and authorized.
    pub auth: Arc<dyn Authenticator>,
    /// This process's cache of validated tokens (identity empties it on
    /// revocations).
    pub token_cache: Arc<TokenCache>,
    /// Lifetime of the tokens this process issues.
    pub token_ttl: Duration,
    /// The parsed options, its own among them (see [`Service::options`]).
    pub options: clap::ArgMatches,
    /// Option ids whose value the operator gave (a flag, a `STARLING_*`
    /// variable or the configuration file) rather than the built-in default.
    pub given: Arc<BTreeSet<String>>,
    pub site: Site,
    /// The data directory, when this process has one (all-in-one, or a
    /// service set run on its SQLite file).
    pub data_dir: Option<PathBuf>,
    /// The CA that verifies this process's listeners, when they serve TLS
    /// with a certificate clients must be told about.
    pub tls_ca: Option<PathBuf>,
    /// Every service this process runs, with its URL (the identity
    /// bootstrap's catalog).
    pub endpoints: Vec<Endpoint>,
    /// Every service account of the services this process runs.
    pub service_accounts: Vec<&'static str>,
    /// Tokens of this service's own account, when it has one.
    pub tokens: Option<Arc<dyn TokenSource>>,
    /// Fault management, when this service uses it ([`Service::uses`]):
    /// in-process when FM runs here, its HTTP client otherwise.
    pub alarms: Option<Arc<dyn AlarmSink>>,
    /// The hosts, when this service uses inventory and inventory runs in
    /// this process.
    pub hosts: Option<Arc<dyn Hosts>>,
}

/// A host as the services other than inventory see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSummary {
    /// The integer id sysinv's records refer to hosts by (`forihostid`).
    pub id: i64,
    pub uuid: String,
    /// None until the host is provisioned.
    pub hostname: Option<String>,
    pub personality: Option<String>,
    /// `controller,worker` on an all-in-one controller.
    pub subfunctions: Option<String>,
    pub administrative: String,
    pub operational: String,
    pub availability: String,
    /// What is in progress on it (StarlingX's task; empty when nothing).
    pub task: String,
    /// A board management controller is provisioned (type, address, user
    /// and password).
    pub bmc: bool,
}

impl HostSummary {
    /// The name alarms and logs use for it (its uuid until it has a name).
    pub fn display_name(&self) -> &str {
        self.hostname.as_deref().unwrap_or(&self.uuid)
    }
}

/// Inventory's hosts, offered to the services started after it (host
/// maintenance): who a host agent's own credential speaks for, and every
/// host.
pub trait Hosts: Send + Sync {
    /// The host whose agent holds `credential`, if any.
    fn agent(&self, credential: &str) -> BoxFuture<'_, Result<Option<HostSummary>, String>>;
    /// Every host.
    fn all(&self) -> BoxFuture<'_, Result<Vec<HostSummary>, String>>;
    /// Host `uuid`, if it exists.
    fn host(&self, uuid: &str) -> BoxFuture<'_, Result<Option<HostSummary>, String>>;
    /// Maintenance's decision on unlocked host `uuid`: its availability
    /// (the operational state follows) and task (a change of availability
    /// is logged; a locked host is left alone).
    fn observe(
        &self,
        uuid: &str,
        health: HostHealth,
        task: &str,
    ) -> BoxFuture<'_, Result<(), String>>;
    /// How to reach host `uuid`'s board management controller, when one is
    /// provisioned (its password opened from where inventory keeps it
    /// sealed).
    fn bmc(&self, uuid: &str) -> BoxFuture<'_, Result<Option<BmcAccess>, String>>;
    /// Host `uuid`'s BMC sensors as maintenance read them now (recorded as
    /// its sensors and sensor groups); answers, for each sensor, what the
    /// operator wants done at its status: `ignore` (it or its group is
    /// suppressed), or its group's action at that severity (`log`,
    /// `alarm`, `reset`, `power-cycle`, `ignore`).
    fn sensors(
        &self,
        uuid: &str,
        interval: Duration,
        readings: Vec<SensorReading>,
    ) -> BoxFuture<'_, Result<Vec<(String, String)>, String>>;
    /// Host maintenance runs from now on: unlocked hosts are tested and
    /// enabled by it (intest first) rather than enabled at once, and the
    /// reset and power actions of a host with a BMC go to `bmc`.
    fn maintained(&self, bmc: Arc<dyn BmcCommands>);
    /// The outcome of `command` carried out on host `uuid` elsewhere than
    /// by its agent (through its BMC): the task clears and the outcome is
    /// logged, a failure with `message`.
    fn complete(
        &self,
        uuid: &str,
        command: &str,
        ok: bool,
        message: Option<String>,
    ) -> BoxFuture<'_, Result<(), String>>;
    /// Configuration runs: `bell` is rung with a host's uuid when its
    /// unlock waits for the configuration it is owed (task `Configuring`).
    fn configuring(&self, bell: ConfigBell);
    /// Configuration runs: `links` tells which interface each of a host's
    /// ports serves.
    fn port_links(&self, links: PortLinks);
    /// The system (configuration's records belong to it).
    fn system(&self) -> BoxFuture<'_, Result<Option<SystemSummary>, String>>;
    /// Host `uuid`'s ports as inventory's API shows them
    /// (`/v1/ihosts/{host}/ports` records, links under `base`); None when
    /// there is no such host.
    fn ports(
        &self,
        uuid: &str,
        base: &str,
    ) -> BoxFuture<'_, Result<Option<Vec<serde_json::Value>>, String>>;
    /// Configuration's marks on host `uuid`, shown by host-show (nothing
    /// is written when they are what inventory shows already).
    fn configured(&self, uuid: &str, marks: ConfigMarks) -> BoxFuture<'_, Result<(), String>>;
}

/// The system as the services other than inventory see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemSummary {
    pub uuid: String,
    /// `simplex`, `duplex` or `duplex-direct`.
    pub system_mode: String,
    /// `All-in-one` or `Standard`.
    pub system_type: String,
}

/// Configuration's marks on a host, which inventory shows (host-show's
/// `config_target`, `config_applied`, `config_status` and the last failed
/// step of an apply, `config_failure`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigMarks {
    pub target: Option<String>,
    pub applied: Option<String>,
    pub status: Option<String>,
    pub failure: Option<String>,
}

/// What inventory rings when a host's unlock waits for its configuration.
pub type ConfigBell = Arc<dyn Fn(&str) + Send + Sync>;

/// Configuration's answer to which interface each of a host's ports serves
/// (port uuid, interface uuid): inventory shows it as the port's
/// `interface_uuid`.
pub type PortLinks =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Vec<(String, String)>, String>> + Send + Sync>;

/// The host agent whose own credential (checked by inventory through
/// `hosts`) is the request's `X-Auth-Token`, as a principal scoped to its
/// host; 401 without one. The agents' routes of the services after
/// inventory (maintenance, configuration) authenticate with it.
pub async fn host_agent(
    hosts: &dyn Hosts,
    headers: &starling_http::HeaderMap,
) -> Result<Arc<starling_http::Principal>, starling_http::ApiError> {
    use starling_http::{AUTH_REQUIRED, ApiError};
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized(AUTH_REQUIRED))?;
    let host = hosts
        .agent(token)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::unauthorized(AUTH_REQUIRED))?;
    Ok(Arc::new(starling_http::Principal::host_agent(
        &host.uuid,
        host.display_name(),
    )))
}

/// One BMC sensor as host maintenance read it.
#[derive(Clone, Debug, PartialEq)]
pub struct SensorReading {
    /// Its name (unique per host).
    pub name: String,
    /// Its kind: `temperature`, `fan`, `voltage`.
    pub kind: String,
    /// Where the BMC shows it.
    pub path: String,
    /// The reading, when the sensor reads.
    pub reading: Option<f64>,
    /// `degC`, `RPM`, `V`.
    pub unit: String,
    /// Lower and upper bounds at minor, major and critical.
    pub minor: (Option<f64>, Option<f64>),
    pub major: (Option<f64>, Option<f64>),
    pub critical: (Option<f64>, Option<f64>),
    /// ok, minor, major, critical, offline
    pub status: String,
}

/// Host maintenance's BMCs, offered to inventory: a host's `reset`,
/// `power-on` and `power-off` carried out through its board management
/// controller; the outcome comes back through [`Hosts::complete`].
pub trait BmcCommands: Send + Sync {
    fn carry_out(&self, uuid: &str, command: &str);
}

pub use starling_common::HostHealth;

/// A host's board management controller, as provisioned.
#[derive(Clone, PartialEq, Eq)]
pub struct BmcAccess {
    /// `redfish`, `ipmi` or `dynamic` (StarlingX's `bm_type`).
    pub bm_type: String,
    /// Its address (`bm_ip`).
    pub address: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for BmcAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BmcAccess")
            .field("bm_type", &self.bm_type)
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &"…")
            .finish()
    }
}

impl Ctx {
    /// True when the operator gave option `id` (not its built-in default).
    pub fn given(&self, id: &str) -> bool {
        self.given.contains(id)
    }

    /// The typed options of `T` (a `clap::Args` struct whose arguments the
    /// service returned from [`Service::options`]).
    pub fn options<T: clap::FromArgMatches>(&self) -> Result<T, String> {
        T::from_arg_matches(&self.options).map_err(|e| e.to_string())
    }
}

/// A background task: runs until the daemon stops; an error stops the
/// daemon.
pub type Task = BoxFuture<'static, Result<(), String>>;

/// What a started service gives the daemon.
#[derive(Default)]
pub struct Started {
    /// Its API, served on its port.
    pub router: Option<axum::Router>,
    /// Tasks the daemon runs beside it (an error in one stops the daemon).
    pub tasks: Vec<Task>,
    /// Becomes true once the service is fully ready (e.g. identity's first
    /// records are written); absent when it is ready on return.
    pub ready: Option<tokio::sync::watch::Receiver<bool>>,
    /// The alarm sink it offers the services started after it in this
    /// process (FM's in-process one).
    pub alarms: Option<Arc<dyn AlarmSink>>,
    /// The hosts it offers the services started after it (inventory's).
    pub hosts: Option<Arc<dyn Hosts>>,
    /// Its state, for the daemon's all-in-one extras (the local agent
    /// bootstraps its host through inventory's).
    pub state: Option<Arc<dyn Any + Send + Sync>>,
}

impl Started {
    /// A service serving `router`.
    pub fn serving(router: axum::Router) -> Self {
        Started {
            router: Some(router),
            ..Started::default()
        }
    }
}

/// A service `starlingd` can run.
pub trait Service: Sync {
    /// Its name, as `starlingd` calls it (`fm`, `inventory`, …): the
    /// `--services` list, the configuration file's section, the
    /// `--<name>-port` option.
    fn name(&self) -> &'static str;
    /// The port it listens on by default, if it has a listener.
    fn port(&self) -> Option<u16>;
    /// Its catalog entry, if clients find it through the catalog.
    fn catalog(&self) -> Option<CatalogEntry>;
    /// Its schema, if it keeps anything in the database.
    fn schema(&self) -> Option<Schema>;
    /// The password-less account it calls other services as, if it does.
    fn service_account(&self) -> Option<&'static str>;
    /// The services it calls (today only `fm`, for alarms).
    fn uses(&self) -> &'static [&'static str] {
        &[]
    }
    /// The service whose listener serves its routes, when it has no port
    /// of its own (configuration's routes are sysinv's, on inventory's
    /// platform API): it runs only where that service runs.
    fn served_by(&self) -> Option<&'static str> {
        None
    }
    /// Its options, accepted only where it runs. The daemon adds the
    /// `--<name>-port` option itself.
    fn options(&self) -> Vec<clap::Arg> {
        Vec::new()
    }
    /// Starts it: catalogue syncs, bootstraps and the background work it
    /// spawns happen here; what to serve comes back.
    fn start(&self, ctx: Ctx) -> BoxFuture<'static, Result<Started, String>>;
}

/// Parses `90`, `90s`, `15m`, `12h`, `30d` (options' durations).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}': expected e.g. 30d, 12h, 15m, 90s, 100ms"))?;
    if n == 0 {
        return Err("duration must be positive".into());
    }
    let mult = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "invalid duration unit in '{s}': use ms, s, m, h or d"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

/// The health check of a service's database: a trivial read on a reader
/// connection (`/health` reports it as `database`).
pub fn database_check(db: Db) -> starling_http::health::Check {
    Arc::new(move || {
        let db = db.clone();
        Box::pin(async move {
            db.read(|c| c.query("SELECT 1", &[]).map(|_| ()))
                .await
                .map_err(|e: starling_common::StorageFailure| e.to_string())
        })
    })
}

/// A service's health with its database as the dependency (add its own
/// readiness with `.readiness(…)`).
pub fn health(db: Db) -> starling_http::health::Health {
    starling_http::health::Health::default().dependency("database", database_check(db))
}

/// `GET /metrics` of a service: its HTTP series, its store's, the spool of
/// its alarm sink when that queues (FM over HTTP), then its own `gauges`.
/// (In the all-in-one the services share one database, so each shows the
/// same store series.)
pub fn metrics<S: Clone + Send + Sync + 'static>(
    service: &'static str,
    db: Db,
    alarms: Option<Arc<dyn AlarmSink>>,
    gauges: Option<starling_http::metrics::Gauges>,
) -> axum::Router<S> {
    let all: starling_http::metrics::Gauges = Arc::new(move || {
        let mut store = store_metrics(&db);
        if let Some(n) = alarms.as_ref().and_then(|a| a.spooled()) {
            store.push_str(&starling_http::metrics::gauge(
                "starling_fm_client_spool_depth",
                "Alarm requests waiting in the spool for FM to be reached.",
                &[(vec![], n as f64)],
            ));
        }
        let own = gauges.clone();
        Box::pin(async move {
            match own {
                Some(g) => store + &g().await,
                None => store,
            }
        })
    });
    starling_http::metrics::routes(service, Some(all))
}

/// The store's series: transactions outstanding per pool and the commits'
/// times.
fn store_metrics(db: &Db) -> String {
    use starling_http::metrics::{gauge, histogram};
    let s = db.stats();
    let mut out = gauge(
        "starling_store_queue_depth",
        "Store transactions submitted and not finished (waiting for a connection or running), by pool.",
        &[
            (vec![("pool", "write")], s.writes_outstanding as f64),
            (vec![("pool", "read")], s.reads_outstanding as f64),
        ],
    );
    out.push_str(&histogram(
        "starling_store_commit_seconds",
        "Time of each read-write commit (on SQLite one commit per group of transactions).",
        &[(vec![], &s.commits)],
    ));
    out
}

/// The arguments of a `clap::Args` struct, for [`Service::options`].
pub fn args_of<T: clap::Args>() -> Vec<clap::Arg> {
    T::augment_args(clap::Command::new("options"))
        .get_arguments()
        .cloned()
        .collect()
}

/// The schemas of `services`, in the list's order.
pub fn schemas(services: &[&dyn Service]) -> Vec<Schema> {
    services.iter().filter_map(|s| s.schema()).collect()
}

/// The service accounts of `services`, in the list's order.
pub fn service_accounts(services: &[&dyn Service]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in services.iter().filter_map(|s| s.service_account()) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The id of `service`'s port option (`fm_port` for `--fm-port`).
pub fn port_option(service: &str) -> String {
    format!("{}_port", service.replace('-', "_"))
}

/// Checks a list of services: names, catalog types and catalog names each
/// appear once, schema components are distinct, ports and option ids are
/// not shared, and a service uses only services of the list. `starlingd`
/// runs it in a unit test over its list.
pub fn check(services: &[&dyn Service]) -> Result<(), String> {
    fn once<I: Iterator<Item = String>>(what: &str, items: I) -> Result<(), String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for i in items {
            if !seen.insert(i.clone()) {
                return Err(format!("{what} '{i}' appears twice"));
            }
        }
        Ok(())
    }
    let own = |f: fn(&dyn Service) -> Option<&'static str>| {
        services.iter().filter_map(move |s| f(*s)).map(String::from)
    };
    once("service name", own(|s| Some(s.name())))?;
    let entries: Vec<CatalogEntry> = services.iter().filter_map(|s| s.catalog()).collect();
    once(
        "catalog type",
        entries.iter().map(|e| e.service_type.to_string()),
    )?;
    once("catalog name", entries.iter().map(|e| e.name.to_string()))?;
    once(
        "port",
        services
            .iter()
            .filter_map(|s| s.port())
            .map(|p| p.to_string()),
    )?;
    once(
        "option",
        services.iter().flat_map(|s| {
            let mut ids: Vec<String> = s.options().iter().map(|a| a.get_id().to_string()).collect();
            ids.push(port_option(s.name()));
            ids
        }),
    )?;
    for s in services {
        if let Some(host) = s.served_by() {
            if s.port().is_some() {
                return Err(format!("{} has a port and is served by '{host}'", s.name()));
            }
            if !services
                .iter()
                .any(|o| o.name() == host && o.port().is_some())
            {
                return Err(format!(
                    "{} is served by '{host}', which is not a service with a port",
                    s.name()
                ));
            }
        }
        for u in s.uses() {
            if !services.iter().any(|o| o.name() == *u) {
                return Err(format!("{} uses '{u}', which is not a service", s.name()));
            }
        }
    }
    let schemas = schemas(services);
    once(
        "schema component",
        schemas.iter().map(|s| s.component.to_string()),
    )?;
    for s in &schemas {
        s.check()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(&'static str, &'static str, u16);
    impl Service for Fake {
        fn name(&self) -> &'static str {
            self.0
        }
        fn port(&self) -> Option<u16> {
            Some(self.2)
        }
        fn catalog(&self) -> Option<CatalogEntry> {
            Some(CatalogEntry {
                service_type: self.1,
                name: self.0,
                description: "",
                path: "",
            })
        }
        fn schema(&self) -> Option<Schema> {
            None
        }
        fn service_account(&self) -> Option<&'static str> {
            (self.0 == "b").then_some("acct")
        }
        fn uses(&self) -> &'static [&'static str] {
            if self.0 == "c" { &["zz"] } else { &[] }
        }
        fn options(&self) -> Vec<clap::Arg> {
            vec![clap::Arg::new(if self.0 == "d" { "a_port" } else { "x" }).long("x")]
        }
        fn start(&self, _ctx: Ctx) -> BoxFuture<'static, Result<Started, String>> {
            Box::pin(std::future::ready(Ok(Started::default())))
        }
    }

    #[test]
    fn a_list_is_checked_for_twice_used_names_types_ports_and_options() {
        let a = Fake("a", "ta", 1);
        let b = Fake("b", "tb", 2);
        assert_eq!(check(&[&a]), Ok(()));
        assert!(
            check(&[&a, &Fake("a", "tx", 3)])
                .unwrap_err()
                .contains("service name 'a'")
        );
        assert!(
            check(&[&a, &Fake("x", "ta", 3)])
                .unwrap_err()
                .contains("catalog type 'ta'")
        );
        assert!(
            check(&[&a, &Fake("x", "tx", 1)])
                .unwrap_err()
                .contains("port '1'")
        );
        // Two services with the same option, or one taking another's port
        // option's id.
        assert!(check(&[&a, &b]).unwrap_err().contains("option 'x'"));
        let d = Fake("d", "td", 4);
        assert!(check(&[&a, &d]).unwrap_err().contains("option 'a_port'"));
        assert!(
            check(&[&Fake("c", "tc", 5)])
                .unwrap_err()
                .contains("uses 'zz'")
        );
        assert_eq!(service_accounts(&[&a, &b]), vec!["acct"]);
        assert!(schemas(&[&a, &b]).is_empty());
        assert_eq!(port_option("sw-manager"), "sw_manager_port");
        assert_eq!(
            Site {
                system_name: None,
                region_name: None
            }
            .region(),
            "RegionOne"
        );
    }
}
