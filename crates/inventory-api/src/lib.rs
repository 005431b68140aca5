//! The inventory REST API v1 (StarlingX sysinv compatible, port 6385): the
//! system record and hosts with their lifecycle. Thin: each handler parses,
//! runs one inventory operation in one store transaction, renders, and then
//! carries out what the operation asks of the world outside the store (FM
//! alarms and customer logs through the FM client).
//!
//! Architecture invariants:
//! - every route is in [`ROUTES`] with its policy, and in the OpenAPI
//!   document (a test checks both);
//! - an FM call never happens inside a store transaction, and never fails a
//!   request whose change is committed: when FM is away the client spools.

#![recursion_limit = "256"]

pub mod agents;
mod bulk;
pub mod commands;
pub mod convert;
mod hardware;
pub mod openapi;
pub mod render;
pub mod sealed;
mod service;
mod sm;

pub use service::{InventoryOptions, InventoryService, SERVICE};

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value};
use starling_common::alarm::{AlarmEffect, AlarmSink};
use starling_common::{Clock, Timestamp};
use starling_db::Db;
use starling_http::{
    ApiError, ApiJson, Authenticator, GuardState, PatchOp, QueryPairs, base_url, check_patch, json,
};
use starling_inventory::alarms;
use starling_inventory::lifecycle::{
    AgentCommand, AlarmChange, CommandSink, HostEvent, Transition,
};
use starling_inventory::ops::{self, HostSort};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::validate::{self, NewHost};
use starling_inventory::{Action, Error, Host, Personality, System};
use starling_inventory_store::InventoryStore;
use starling_inventory_types::{self as wire, Link};

/// StarlingX's port for the inventory (sysinv) API.
pub const DEFAULT_PORT: u16 = 6385;

/// Paging limits of list endpoints.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    /// Page size when the request gives none (sysinv: `api.max_limit`, 1000).
    pub default_limit: usize,
    /// Largest page a request may ask for.
    pub max_limit: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            default_limit: 1000,
            max_limit: 1000,
        }
    }
}

/// Everything a handler needs.
#[derive(Clone)]
pub struct InventoryState {
    /// The store.
    pub db: Db,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Where host alarms and logs go: FM in-process (all-in-one) or the FM
    /// client (split); none: not reported, e.g. in tests of the API alone.
    pub fm: Option<Arc<dyn AlarmSink>>,
    /// Paging limits.
    pub paging: Paging,
    /// Wakes agents waiting for a command.
    pub commands: commands::CommandBell,
    /// Bounds the agent reports read and applied at once.
    pub reports: hardware::ReportGate,
    /// Host maintenance, once it runs (it says so through
    /// [`starling_service::Hosts::maintained`]): an unlock leaves the host
    /// intest for it to enable, and reset and power actions of a host with
    /// a BMC go to its BMCs.
    pub maintenance: Arc<std::sync::OnceLock<Arc<dyn starling_service::BmcCommands>>>,
    /// Configuration, once it runs: told when a host's unlock waits for its
    /// configuration (task `Configuring`).
    pub configuring: Arc<std::sync::OnceLock<starling_service::ConfigBell>>,
    /// Configuration, once it runs: which interface each port serves
    /// (shown as the port's `interface_uuid`).
    pub port_links: Arc<std::sync::OnceLock<starling_service::PortLinks>>,
    /// The cloud's secret key, which seals the BMC passwords (none: they
    /// are refused).
    pub secrets: Option<Arc<sealed::SecretKey>>,
    /// Service management on this controller (its sm-api), relayed as
    /// sysinv relays it.
    pub sm: Option<starling_sm_types::client::SmClient>,
}

impl InventoryState {
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut InventoryStore<'_>) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, ApiError> {
        let mut f = f;
        self.db
            .read(move |c| f(&mut InventoryStore::new(c)))
            .await
            .map_err(ApiError::from)
    }

    async fn write<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut InventoryStore<'_>, Timestamp) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, ApiError> {
        let mut f = f;
        let clock = self.clock.clone();
        self.db
            .write(move |c| f(&mut InventoryStore::new(c), clock.now()))
            .await
            .map_err(ApiError::from)
    }

    /// Reports a committed change to FM: the locked-host alarm and the
    /// customer log.
    /// Carries out a committed transition's effects on others: its agent
    /// command (to the command sink: the host's agent carries it out and
    /// reports back), then its alarm and log (to FM).
    /// Whether host maintenance runs.
    pub fn maintained(&self) -> bool {
        self.maintenance.get().is_some()
    }

    /// Whether `cmd` for `h` goes to its BMC (through maintenance) rather
    /// than its agent ([`AgentCommand::by_bmc`]).
    pub(crate) async fn by_bmc(&self, h: &Host, cmd: AgentCommand) -> Result<bool, ApiError> {
        if !cmd.by_bmc(h, true, self.maintained()) {
            return Ok(false);
        }
        let id = h.id;
        let password = self.read(move |repo| repo.bmc_secret(id)).await?;
        Ok(password.is_some())
    }

    pub async fn carry_out(&self, t: &Transition) {
        if let Some(cmd) = t.command {
            match (self.by_bmc(&t.host, cmd).await, self.maintenance.get()) {
                (Ok(true), Some(bmc)) => {
                    tracing::info!(host = %t.host.display_name(), command = cmd.as_str(), "through the host's BMC");
                    bmc.carry_out(&t.host.uuid, cmd.as_str());
                }
                _ => self.commands.issued(&t.host, cmd),
            }
        }
        if t.host.task == starling_inventory::lifecycle::CONFIGURING
            && let Some(bell) = self.configuring.get()
        {
            bell(&t.host.uuid);
        }
        self.send(
            alarms::effects(&t.host, t.alarm.clone(), t.event.as_ref()),
            &t.host,
        )
        .await;
    }

    async fn report(&self, host: &Host, alarm: Option<AlarmChange>, event: Option<HostEvent>) {
        self.send(alarms::effects(host, alarm, event.as_ref()), host)
            .await;
    }

    /// Hands committed effects to FM. Failures are logged, never returned:
    /// the change stands (and the HTTP client keeps what it could not
    /// deliver in its spool).
    async fn send(&self, effects: Vec<AlarmEffect>, host: &Host) {
        let Some(fm) = &self.fm else { return };
        for e in effects {
            let id = e.alarm_id();
            if let Err(err) = fm.send(e).await {
                tracing::error!(host = %host.display_name(), alarm = id, error = %err, "cannot report to fault management");
            }
        }
    }

    /// A host's alarms follow it to a new name (see [`alarms::renamed`]).
    async fn renamed(&self, before: &Host, after: &Host) {
        self.send(alarms::renamed(before, after), after).await;
    }
}

/// Inventory's gauges at each scrape: the agents waiting for a command now
/// (connected), and each host's seconds since its agent last reported
/// (hosts that reported since this process started).
fn agent_gauges(st: InventoryState) -> starling_http::metrics::Gauges {
    Arc::new(move || {
        let st = st.clone();
        Box::pin(async move {
            let now = st.clock.now();
            let mut out = starling_http::metrics::gauge(
                "starling_inventory_agents_connected",
                "Host agents waiting for a command now (each polls again as soon as a poll ends).",
                &[(vec![], st.commands.waiting() as f64)],
            );
            let ages: Vec<(String, f64)> = st
                .reports
                .last_reports()
                .into_iter()
                .map(|(name, at)| (name, (now.micros() - at.micros()) as f64 / 1e6))
                .collect();
            let samples: Vec<(Vec<(&str, &str)>, f64)> = ages
                .iter()
                .map(|(name, age)| (vec![("host", name.as_str())], *age))
                .collect();
            out.push_str(&starling_http::metrics::gauge(
                "starling_inventory_agent_last_report_age_seconds",
                "Seconds since each host's agent last reported (since this process started).",
                &samples,
            ));
            out
        })
    })
}

/// Bootstraps the first controller (all-in-one: the local machine, named
/// `hostname`, found by its management MAC) unless a controller exists; a
/// new controller is locked, so 200.001 is raised and the add logged, as
/// StarlingX shows a freshly bootstrapped controller-0.
pub async fn bootstrap_controller(
    st: &InventoryState,
    hostname: &str,
    mgmt_mac: &str,
    boot_disk: Option<&str>,
) -> Result<Option<Host>, ApiError> {
    let (name, mac) = (hostname.to_string(), mgmt_mac.to_string());
    let disk = boot_disk.map(str::to_string);
    let made = st
        .write(move |r, now| ops::bootstrap_controller(r, &name, &mac, disk.as_deref(), now))
        .await?;
    if let Some(h) = &made {
        st.report(
            h,
            Some(AlarmChange::RaiseLocked),
            Some(HostEvent {
                log: &alarms::COMMAND_LOG,
                text: format!("{} bootstrapped as the first controller", h.display_name()),
            }),
        )
        .await;
    }
    Ok(made)
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;
const PATCH: Method = Method::PATCH;
const PUT: Method = Method::PUT;

/// Every route with its policy; the router below, this table and the
/// OpenAPI document must agree (tests check it).
pub const ROUTES: &[(Method, &str, Option<&str>)] = &[
    (GET, "/", None),
    (GET, "/health", None),
    (GET, "/metrics", None),
    (GET, "/health/live", None),
    (GET, "/health/ready", None),
    (GET, "/openapi.json", Some("config_api:openapi:get")),
    (GET, "/v1", None),
    (GET, "/v1/", None),
    (GET, "/v1/isystems", Some("config_api:isystems:get")),
    (
        GET,
        "/v1/servicegroup",
        Some("config_api:sm_servicegroup:get"),
    ),
    (
        GET,
        "/v1/servicegroup/{uuid}",
        Some("config_api:sm_servicegroup:get"),
    ),
    (
        GET,
        "/v1/servicenodes",
        Some("config_api:sm_servicenode:get"),
    ),
    (
        GET,
        "/v1/servicenodes/{node}",
        Some("config_api:sm_servicenode:get"),
    ),
    (GET, "/v1/services", Some("config_api:sm_service:get")),
    (GET, "/v1/services/{id}", Some("config_api:sm_service:get")),
    (GET, "/v1/isystems/{uuid}", Some("config_api:isystems:get")),
    (
        PATCH,
        "/v1/isystems/{uuid}",
        Some("config_api:isystems:modify"),
    ),
    (GET, "/v1/ihosts", Some("config_api:ihosts:get")),
    (POST, "/v1/ihosts", Some("config_api:ihosts:create")),
    (GET, "/v1/ihosts/detail", Some("config_api:ihosts:get")),
    (
        POST,
        "/v1/ihosts/bulk_add",
        Some("config_api:ihosts:create"),
    ),
    (GET, "/v1/ihosts/bulk_export", Some("config_api:ihosts:get")),
    (GET, "/v1/ihosts/{host}", Some("config_api:ihosts:get")),
    (PATCH, "/v1/ihosts/{host}", Some("config_api:ihosts:modify")),
    (
        DELETE,
        "/v1/ihosts/{host}",
        Some("config_api:ihosts:delete"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/inodes",
        Some("config_api:inodes:get"),
    ),
    (GET, "/v1/inodes/{uuid}", Some("config_api:inodes:get")),
    (GET, "/v1/ihosts/{host}/icpus", Some("config_api:icpus:get")),
    (GET, "/v1/icpus/{uuid}", Some("config_api:icpus:get")),
    (
        GET,
        "/v1/ihosts/{host}/imemorys",
        Some("config_api:imemorys:get"),
    ),
    (GET, "/v1/imemorys/{uuid}", Some("config_api:imemorys:get")),
    (
        GET,
        "/v1/ihosts/{host}/idisks",
        Some("config_api:idisks:get"),
    ),
    (GET, "/v1/idisks/{uuid}", Some("config_api:idisks:get")),
    (
        GET,
        "/v1/ihosts/{host}/partitions",
        Some("config_api:partitions:get"),
    ),
    (
        GET,
        "/v1/partitions/{uuid}",
        Some("config_api:partitions:get"),
    ),
    (GET, "/v1/ihosts/{host}/ports", Some("config_api:ports:get")),
    (GET, "/v1/ports/{uuid}", Some("config_api:ports:get")),
    (
        GET,
        "/v1/ihosts/{host}/ethernet_ports",
        Some("config_api:ethernet_ports:get"),
    ),
    (
        GET,
        "/v1/ethernet_ports/{uuid}",
        Some("config_api:ethernet_ports:get"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/pci_devices",
        Some("config_api:pci_devices:get"),
    ),
    (
        GET,
        "/v1/pci_devices/{uuid}",
        Some("config_api:pci_devices:get"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/lldp_agents",
        Some("config_api:lldp_agents:get"),
    ),
    (
        GET,
        "/v1/lldp_agents/{uuid}",
        Some("config_api:lldp_agents:get"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/lldp_neighbours",
        Some("config_api:lldp_neighbours:get"),
    ),
    (
        GET,
        "/v1/lldp_neighbours/{uuid}",
        Some("config_api:lldp_neighbours:get"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/isensors",
        Some("config_api:sensors:get"),
    ),
    (GET, "/v1/isensors/{uuid}", Some("config_api:sensors:get")),
    (
        PATCH,
        "/v1/isensors/{uuid}",
        Some("config_api:sensors:modify"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/isensorgroups",
        Some("config_api:sensorgroups:get"),
    ),
    (
        GET,
        "/v1/isensorgroups/{uuid}",
        Some("config_api:sensorgroups:get"),
    ),
    (
        PATCH,
        "/v1/isensorgroups/{uuid}",
        Some("config_api:sensorgroups:modify"),
    ),
    (
        GET,
        "/v1/isensorgroups/{uuid}/isensors",
        Some("config_api:sensors:get"),
    ),
    (
        GET,
        "/v1/ihosts/{host}/labels",
        Some("config_api:labels:get"),
    ),
    (GET, "/v1/labels/{id}", Some("config_api:labels:get")),
    (POST, "/v1/labels/{id}", Some("config_api:labels:create")),
    (DELETE, "/v1/labels/{id}", Some("config_api:labels:delete")),
    (POST, "/v1/agent/register", Some(agents::REGISTER_POLICY)),
    (
        PUT,
        "/v1/agent/{host}/report",
        Some("config_api:agent:modify"),
    ),
    (
        GET,
        "/v1/agent/{host}/command",
        Some("config_api:agent:modify"),
    ),
    (
        PUT,
        "/v1/agent/{host}/command",
        Some("config_api:agent:modify"),
    ),
];

/// Adds each hardware view's host collection and show-by-uuid routes.
macro_rules! hardware_routes {
    ($r:expr; $($v:ident),+) => {{
        let r = $r;
        $(
            let r = r
                .route(
                    &format!("/ihosts/{{host}}/{}", <hardware::$v as hardware::View>::COLLECTION),
                    get(hardware::list_of::<hardware::$v>),
                )
                .route(
                    &format!("/{}/{{uuid}}", <hardware::$v as hardware::View>::COLLECTION),
                    get(hardware::show_of::<hardware::$v>),
                );
        )+
        r
    }};
}

/// The inventory API router, guarded by `auth`.
pub fn router(state: InventoryState, auth: Arc<dyn Authenticator>) -> Router {
    // Host agents' own credentials are inventory's; every other token is
    // `auth`'s.
    let auth = Arc::new(agents::AgentAuth {
        inner: auth,
        db: state.db.clone(),
    });
    let guard = GuardState::new(auth, ROUTES, "inventory");
    let v1 = Router::new()
        .route("/isystems", get(list_systems))
        .route("/isystems/{uuid}", get(show_system).patch(modify_system))
        .route("/ihosts", get(list_hosts).post(add_host))
        .route("/ihosts/detail", get(list_hosts))
        .route("/ihosts/bulk_add", post(bulk::bulk_add))
        .route("/ihosts/bulk_export", get(bulk::bulk_export))
        .route(
            "/ihosts/{host}",
            get(show_host).patch(patch_host).delete(delete_host),
        )
        .route(
            "/labels/{id}",
            get(hardware::show_of::<hardware::Labels>)
                .post(hardware::assign_labels)
                .delete(hardware::remove_label),
        )
        .route("/servicegroup", get(sm::list_groups))
        .route("/servicegroup/{uuid}", get(sm::show_group))
        .route("/servicenodes", get(sm::list_nodes))
        .route("/servicenodes/{node}", get(sm::show_node))
        .route("/services", get(sm::list_services))
        .route("/services/{id}", get(sm::show_service))
        .route("/agent/register", post(hardware::register))
        .route("/agent/{host}/report", put(hardware::report))
        .route(
            "/agent/{host}/command",
            get(commands::poll).put(commands::done),
        );
    let v1 = hardware_routes!(v1; Nodes, Cpus, Memorys, Disks, Partitions, Ports, EthernetPorts, PciDevices, LldpAgents, LldpNeighbours);
    let v1 = v1
        .route(
            "/ihosts/{host}/isensors",
            get(hardware::list_of::<hardware::Sensors>),
        )
        .route(
            "/ihosts/{host}/isensorgroups",
            get(hardware::list_of::<hardware::SensorGroups>),
        )
        .route(
            "/isensorgroups/{uuid}/isensors",
            get(hardware::sensors_of_group),
        )
        .route(
            "/isensors/{uuid}",
            get(hardware::show_of::<hardware::Sensors>).patch(hardware::modify_sensor),
        )
        .route(
            "/isensorgroups/{uuid}",
            get(hardware::show_of::<hardware::SensorGroups>).patch(hardware::modify_sensorgroup),
        );
    let v1 = v1.route(
        "/ihosts/{host}/labels",
        get(hardware::list_of::<hardware::Labels>),
    );
    Router::new()
        .route("/", get(root))
        .merge(starling_service::health(state.db.clone()).routes())
        .merge(starling_service::metrics(
            "inventory",
            state.db.clone(),
            state.fm.clone(),
            Some(agent_gauges(state.clone())),
        ))
        .route("/openapi.json", get(openapi::document_route))
        .route("/v1", get(v1_doc))
        .route("/v1/", get(v1_doc))
        .nest("/v1", v1)
        .fallback(starling_http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            starling_http::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            starling_http::DEFAULT_BODY_LIMIT,
        ))
        .with_state(state)
}

fn version(base: &str) -> wire::Version {
    wire::Version {
        id: "v1".into(),
        links: vec![Link::new(format!("{base}/v1/"), "self")],
        status: "CURRENT".into(),
    }
}

async fn root(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    json(
        StatusCode::OK,
        &wire::Root {
            default_version: version(&base),
            description:
                "System inventory: the system, its hosts, their hardware and lifecycle (Starling)."
                    .into(),
            name: "StarlingX Platform".into(),
            versions: vec![version(&base)],
        },
    )
}

async fn v1_doc(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let res = |r: &str| {
        vec![
            Link::new(format!("{base}/v1/{r}/"), "self"),
            Link::new(format!("{base}/{r}/"), "bookmark"),
        ]
    };
    json(
        StatusCode::OK,
        &wire::V1 {
            ethernet_ports: res("ethernet_ports"),
            icpus: res("icpus"),
            id: "v1".into(),
            idisks: res("idisks"),
            ihosts: res("ihosts"),
            imemorys: res("imemorys"),
            inodes: res("inodes"),
            isystems: res("isystems"),
            labels: res("labels"),
            links: vec![
                Link::new(format!("{base}/v1/"), "self"),
                Link {
                    media_type: Some("application/json".into()),
                    ..Link::new(format!("{base}/openapi.json"), "describedby")
                },
            ],
            lldp_agents: res("lldp_agents"),
            lldp_neighbours: res("lldp_neighbours"),
            media_types: vec![wire::MediaType {
                base: "application/json".into(),
                media_type: "application/vnd.openstack.sysinv.v1+json".into(),
            }],
            partitions: res("partitions"),
            pci_devices: res("pci_devices"),
            ports: res("ports"),
        },
    )
}

pub(crate) fn system_or_404(s: Option<System>) -> Result<System, ApiError> {
    s.ok_or_else(|| ApiError::not_found("The system has not been bootstrapped yet"))
}

async fn list_systems(
    State(st): State<InventoryState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let s = st.read(|r| r.system()).await?;
    let base = base_url(&headers);
    let isystems = s.iter().map(|s| render::system(s, &base)).collect();
    Ok(json(StatusCode::OK, &wire::SystemList { isystems }))
}

/// `PATCH /v1/isystems/{uuid}` (`system modify`): JSON-Patch replaces of
/// the attributes an operator may change; each value a string.
async fn modify_system(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let mut changes = Vec::new();
    for (path, v) in starling_http::check_patch(&patch)? {
        let v = match v {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for {path}: a string is expected, not {other}"
                )));
            }
        };
        changes.push((path, v));
    }
    let want = uuid.to_ascii_lowercase();
    let s = st
        .write(move |repo, now| ops::modify_system(repo, &want, &changes, now))
        .await?;
    Ok(json(
        StatusCode::OK,
        &render::system(&s, &base_url(&headers)),
    ))
}

async fn show_system(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let s = st.read(|r| r.system()).await?;
    match s {
        Some(s) if s.uuid == uuid.to_ascii_lowercase() => Ok(json(
            StatusCode::OK,
            &render::system(&s, &base_url(&headers)),
        )),
        _ => Err(ApiError::not_found(format!(
            "System {uuid} could not be found."
        ))),
    }
}

/// `limit`, `marker` and `sort_dir`, as every sysinv list takes them.
pub(crate) struct PageParams {
    limit: usize,
    marker: Option<String>,
    desc: bool,
}

pub(crate) fn page_params(q: &QueryPairs, p: Paging) -> Result<PageParams, ApiError> {
    let limit = match q.last("limit") {
        None | Some("") => p.default_limit,
        Some(v) => {
            let n: i64 = v.parse().map_err(|_| {
                ApiError::bad_request(format!("Invalid limit '{v}': not an integer"))
            })?;
            if n <= 0 {
                return Err(ApiError::bad_request("Limit must be positive"));
            }
            usize::try_from(n).unwrap_or(usize::MAX).min(p.max_limit)
        }
    };
    let marker = match q.last("marker") {
        None | Some("") => None,
        Some(m) if starling_common::is_uuid(m) => Some(m.to_ascii_lowercase()),
        Some(m) => {
            return Err(ApiError::bad_request(format!(
                "Invalid marker '{m}': a uuid is expected"
            )));
        }
    };
    let desc = match q.last("sort_dir").unwrap_or("asc") {
        "asc" | "" => false,
        "desc" => true,
        d => {
            return Err(ApiError::bad_request(format!(
                "Invalid sort direction: {d}. Acceptable values are 'asc' or 'desc'"
            )));
        }
    };
    Ok(PageParams {
        limit,
        marker,
        desc,
    })
}

/// The host list's parameters: paging, `sort_key` and `personality`.
struct ListParams {
    page: PageParams,
    sort: HostSort,
    sort_key: String,
    personality: Option<Personality>,
}

fn list_params(q: &QueryPairs, p: Paging) -> Result<ListParams, ApiError> {
    q.only_params(openapi::HOST_LIST_PARAMS)?;
    let page = page_params(q, p)?;
    let sort_key = q.last("sort_key").unwrap_or("id").to_string();
    let sort = HostSort::parse(&sort_key).map_err(ApiError::from)?;
    let personality = match q.last("personality") {
        None | Some("") => None,
        Some(p) => Some(Personality::parse(p).map_err(ApiError::from)?),
    };
    Ok(ListParams {
        page,
        sort,
        sort_key,
        personality,
    })
}

async fn list_hosts(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    let p = list_params(&q, st.paging)?;
    let (limit, marker, sort, desc, personality) = (
        p.page.limit,
        p.page.marker.clone(),
        p.sort,
        p.page.desc,
        p.personality,
    );
    let (sys, page) = st
        .read(move |r| {
            let sys = r.system()?;
            let page = ops::list_hosts(r, personality, sort, desc, marker.as_deref(), limit)?;
            Ok((sys, page))
        })
        .await?;
    let sys = system_or_404(sys)?;
    let base = base_url(&headers);
    // `HostList` written host by host, each a `Host` borrowed from its
    // record as it is serialized: 1,000 of them are never held at once.
    #[derive(serde::Serialize)]
    struct Page<'a> {
        ihosts: render::Hosts<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    }
    let mut body = Page {
        ihosts: render::Hosts {
            hosts: &page.hosts,
            sys: &sys,
            base: &base,
        },
        next: None,
    };
    if page.more
        && let Some(last) = page.hosts.last()
    {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("limit", &p.page.limit.to_string());
        s.append_pair("sort_key", &p.sort_key);
        s.append_pair("sort_dir", if p.page.desc { "desc" } else { "asc" });
        if let Some(per) = p.personality {
            s.append_pair("personality", per.as_str());
        }
        s.append_pair("marker", &last.uuid);
        body.next = Some(format!("{base}/v1/ihosts?{}", s.finish()));
    }
    Ok(json(StatusCode::OK, &body))
}

/// A host and the system it belongs to, for rendering.
async fn host_and_system(st: &InventoryState, r: HostRef) -> Result<(Host, System), ApiError> {
    let (h, sys) = st
        .read(move |repo| {
            let h = ops::host(repo, &r)?;
            Ok((h, repo.system()?))
        })
        .await?;
    Ok((h, system_or_404(sys)?))
}

async fn show_host(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(host): Path<String>,
) -> Result<Response, ApiError> {
    let (h, sys) = host_and_system(&st, HostRef::parse(&host)).await?;
    Ok(json(
        StatusCode::OK,
        &render::host(&h, &sys, &base_url(&headers)),
    ))
}

/// A text attribute of a request: a string, a number or a boolean as text,
/// `null` as absent. Anything else is refused, naming the attribute.
pub(crate) fn text(name: &str, v: &Value) -> Result<Option<String>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        // StarlingX's CLI sends the location as {"locn": "…"}.
        Value::Object(m) if name == "location" => match m.get("locn") {
            Some(l) => text(name, l),
            None if m.is_empty() => Ok(None),
            None => Err(ApiError::bad_request(
                "Invalid location: expected a string or {\"locn\": \"…\"}",
            )),
        },
        _ => Err(ApiError::bad_request(format!(
            "Invalid value for {name}: a string is expected"
        ))),
    }
}

fn new_host(body: &Map<String, Value>) -> Result<NewHost, ApiError> {
    let attrs = body
        .iter()
        .map(|(k, v)| Ok((k.as_str(), text(k, v)?)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(NewHost::from_attributes(attrs)?)
}

async fn add_host(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let req = new_host(&body)?;
    let (h, sys) = st
        .write(move |r, now| {
            let h = ops::add_host(r, &req, now)?;
            Ok((h, r.system()?))
        })
        .await?;
    let sys = system_or_404(sys)?;
    // A host is added locked: it carries the locked alarm until unlocked.
    st.report(
        &h,
        Some(AlarmChange::RaiseLocked),
        Some(HostEvent {
            log: &alarms::COMMAND_LOG,
            text: format!("{} 'add' request", h.display_name()),
        }),
    )
    .await;
    Ok(json(
        StatusCode::OK,
        &render::host(&h, &sys, &base_url(&headers)),
    ))
}

enum HostPatch {
    Action(Action),
    Update(Vec<(String, Option<String>)>),
}

fn host_patch(ops: &[PatchOp]) -> Result<HostPatch, ApiError> {
    let changes = check_patch(ops)?;
    let mut action = None;
    let mut updates = Vec::new();
    for (path, v) in &changes {
        if path.contains('/') {
            return Err(ApiError::bad_request(format!(
                "Invalid patch path '/{path}': host attributes are not nested"
            )));
        }
        let v = match v {
            Some(v) => text(path, v)?,
            None => None,
        };
        if path == "action" {
            let a = v.ok_or_else(|| ApiError::bad_request("The action needs a value"))?;
            if a == "none" {
                continue;
            }
            action = Some(Action::parse(&a).map_err(ApiError::from)?);
        } else if !validate::default_only(path, v.as_deref())? {
            updates.push((path.clone(), v));
        }
    }
    match action {
        Some(_) if !updates.is_empty() => Err(ApiError::bad_request(
            "An action cannot be combined with other changes in one request",
        )),
        Some(a) => Ok(HostPatch::Action(a)),
        None => Ok(HostPatch::Update(updates)),
    }
}

async fn patch_host(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(host): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let r = HostRef::parse(&host);
    // The system is read in the same transaction, for rendering (a swact
    // changes which controller is active).
    let (h, sys) = match host_patch(&patch)? {
        HostPatch::Action(a) => {
            let maintained = st.maintained();
            if matches!(a, Action::Swact | Action::ForceSwact)
                && let Some(sm) = &st.sm
            {
                // Inventory's rules first, then service management moves
                // the services; only then is the swact recorded.
                let r2 = r.clone();
                let h = st
                    .read(move |repo| ops::check(repo, &r2, a, maintained))
                    .await?;
                sm::swact(sm, &h, a, headers.get("x-auth-token")).await?;
            }
            let (t, sys) = st
                .write(move |repo, now| {
                    let t = ops::act(repo, &r, a, maintained, now)?;
                    Ok((t, repo.system()?))
                })
                .await?;
            st.carry_out(&t).await;
            (t.host, sys)
        }
        HostPatch::Update(mut changes) => {
            // The BMC password is sealed and kept apart, never in the host
            // record (nor in any answer).
            let password = changes
                .iter()
                .position(|(k, _)| k == "bm_password")
                .map(|i| changes.remove(i).1.filter(|p| !p.is_empty()));
            let key = match (&password, &st.secrets) {
                (Some(Some(_)), None) => {
                    return Err(ApiError::bad_request(
                        "bm_password cannot be kept: this inventory has no secret key (--secret-key-file or a data directory)",
                    ));
                }
                (_, k) => k.clone(),
            };
            let (before, after, sys) = st
                .write(move |repo, now| {
                    let before = ops::host(repo, &r)?;
                    let after = ops::update_host(repo, &r, &changes, now)?;
                    match (&password, &key) {
                        (Some(Some(p)), Some(key)) => {
                            let sealed = key.seal(p, &after.uuid).map_err(Error::invalid)?;
                            ops::set_bmc_password(repo, &after, Some(&sealed), now)?;
                        }
                        (Some(None), _) => ops::set_bmc_password(repo, &after, None, now)?,
                        // A BMC no longer provisioned keeps no password.
                        _ if after.bm_type == starling_inventory::BmType::None => {
                            ops::set_bmc_password(repo, &after, None, now)?
                        }
                        _ => {}
                    }
                    Ok((before, after, repo.system()?))
                })
                .await?;
            st.renamed(&before, &after).await;
            (after, sys)
        }
    };
    let sys = system_or_404(sys)?;
    Ok(json(
        StatusCode::OK,
        &render::host(&h, &sys, &base_url(&headers)),
    ))
}

async fn delete_host(
    State(st): State<InventoryState>,
    Path(host): Path<String>,
) -> Result<Response, ApiError> {
    let r = HostRef::parse(&host);
    let h = st.write(move |repo, _| ops::delete_host(repo, &r)).await?;
    // Nothing may stay raised against a host that no longer exists.
    st.send(alarms::deleted(&h), &h).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
