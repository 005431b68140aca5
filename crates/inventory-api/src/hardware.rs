//! A host's hardware collections (`/v1/ihosts/{host}/icpus`, …), each record
//! by uuid (`/v1/icpus/{uuid}`, …), labels, and the agent's own endpoints
//! (registration and reports).
//!
//! Each collection is a [`View`] of one record type: its wire name, the
//! references it renders (`inode_uuid`, `idisk_uuid`, `port_uuid`) and any
//! filter it takes. One generic list handler and one show handler serve all.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{FromRequest, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use starling_http::openapi::QueryParam;
use starling_http::{AgentScope, ApiError, ApiJson, Principal, QueryPairs, base_url, json};
use starling_inventory::hardware::*;
use starling_inventory::hwops::{self, Registration};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::{Error, Host};
use starling_inventory_types::hardware::{self as wire, Head};
use starling_inventory_types::{Link, Register};

use crate::agents;
use crate::convert::Convert;
use crate::{InventoryState, page_params};

/// Which other records a view refers to.
#[derive(Clone, Copy, Default)]
pub(crate) struct Need {
    nodes: bool,
    disks: bool,
    ports: bool,
    groups: bool,
    /// The interface each port serves (configuration's, when it runs).
    interfaces: bool,
}

/// uuids of the records a rendering refers to, by their keys.
#[derive(Default)]
pub(crate) struct Refs {
    nodes: BTreeMap<i64, String>,
    disks: BTreeMap<String, String>,
    ports: BTreeMap<String, String>,
    groups: BTreeMap<String, String>,
    /// Port uuid → the interface it serves.
    interfaces: BTreeMap<String, String>,
}

fn uuids<T: HwItem, K: Ord>(
    repo: &mut dyn InventoryRepo,
    host_id: i64,
    key: impl Fn(&T) -> K,
) -> Result<BTreeMap<K, String>, Error> {
    Ok(hwops::records_of::<T>(repo, host_id)?
        .into_iter()
        .map(|r| (key(&r.item), r.uuid))
        .collect())
}

impl Refs {
    fn load(repo: &mut dyn InventoryRepo, host_id: i64, need: Need) -> Result<Refs, Error> {
        let mut r = Refs::default();
        if need.nodes {
            r.nodes = uuids(repo, host_id, |n: &Node| n.numa_node)?;
        }
        if need.disks {
            r.disks = uuids(repo, host_id, |d: &Disk| d.key())?;
        }
        if need.ports {
            r.ports = uuids(repo, host_id, |p: &Port| p.name.clone())?;
        }
        if need.groups {
            r.groups = uuids(repo, host_id, |g: &SensorGroup| g.sensorgroupname.clone())?;
        }
        Ok(r)
    }

    fn node(&self, n: i64) -> Option<String> {
        self.nodes.get(&n).cloned()
    }
    fn port(&self, name: &str) -> Option<String> {
        self.ports.get(name).cloned()
    }
}

/// One REST collection of a record type.
pub(crate) trait View: Send + Sync + 'static {
    /// The record type.
    type Item: HwItem;
    /// Its shape on the wire.
    type Wire: Serialize + Send;
    /// A page of the collection on the wire.
    type List: Serialize;
    /// Collection name on the wire.
    const COLLECTION: &'static str;
    /// References rendered.
    const NEED: Need = Need {
        nodes: false,
        disks: false,
        ports: false,
        groups: false,
        interfaces: false,
    };
    /// A list filter this collection takes (name of the query parameter).
    const FILTER: Option<&'static str> = None;
    /// The query parameters its list takes (the filter's among them).
    const PARAMS: &'static [QueryParam] = crate::openapi::HW_LIST_PARAMS;
    /// Whether `item` passes the filter `value`.
    fn matches(_item: &Self::Item, _refs: &Refs, _value: &str) -> bool {
        true
    }
    /// The record as the wire shows it, with what it refers to.
    fn wire(item: Self::Item, head: Head, refs: &Refs) -> Self::Wire;
    /// A page of records.
    fn list(items: Vec<Self::Wire>, next: Option<String>) -> Self::List;
}

macro_rules! view {
    ($name:ident, $item:ident, $coll:ident, $list:ident $(, need: $need:expr)? $(, filter: $filter:literal, $matches:expr)?; $wire:ident, $make:expr) => {
        pub(crate) struct $name;
        impl View for $name {
            type Item = $item;
            type Wire = wire::$wire;
            type List = wire::$list;
            const COLLECTION: &'static str = stringify!($coll);
            $(const NEED: Need = $need;)?
            $(
                const FILTER: Option<&'static str> = Some($filter);
                const PARAMS: &'static [QueryParam] = crate::openapi::PARTITION_PARAMS;
                fn matches(item: &$item, refs: &Refs, value: &str) -> bool {
                    let f: fn(&$item, &Refs, &str) -> bool = $matches;
                    f(item, refs, value)
                }
            )?
            fn wire(item: $item, head: Head, refs: &Refs) -> wire::$wire {
                let f: fn($item, Head, &Refs) -> wire::$wire = $make;
                f(item, head, refs)
            }
            fn list(items: Vec<wire::$wire>, next: Option<String>) -> wire::$list {
                wire::$list { $coll: items, next }
            }
        }
    };
}

const NODES: Need = Need {
    nodes: true,
    disks: false,
    ports: false,
    groups: false,
    interfaces: false,
};

view!(Nodes, Node, inodes, NodeList; NodeRecord, |n, h, _| wire::NodeRecord::new(h, n.convert()));
view!(Cpus, Cpu, icpus, CpuList, need: NODES; CpuRecord, |c, h, r| {
    let node = r.node(c.numa_node);
    wire::CpuRecord::new(h, c.convert(), node)
});
view!(Memorys, Memory, imemorys, MemoryList, need: NODES; MemoryRecord, |m, h, r| {
    let node = r.node(m.numa_node);
    wire::MemoryRecord::new(h, m.convert(), node)
});
view!(Disks, Disk, idisks, DiskList; DiskRecord, |d, h, _| wire::DiskRecord::new(h, d.convert(), None, None));
view!(Partitions, Partition, partitions, PartitionList,
    need: Need { nodes: false, disks: true, ports: false, groups: false, interfaces: false },
    filter: "disk_uuid", |p, r, v| r.disks.get(&p.disk_path).is_some_and(|u| u.eq_ignore_ascii_case(v));
    PartitionRecord, |p, h, r| {
        let disk = r.disks.get(&p.disk_path).cloned();
        let status = PARTITION_STATUS
            .iter()
            .find(|(c, _)| *c == p.status)
            .map(|(_, s)| (*s).to_string());
        wire::PartitionRecord::new(h, p.convert(), disk, None, status)
    }
);
fn port_wire(mut p: Port, h: Head, r: &Refs) -> wire::PortRecord {
    let node = r.node(p.numa_node);
    if p.namedisplay.is_none() {
        p.namedisplay = Some(p.name.clone());
    }
    let interface = r.interfaces.get(&h.uuid).cloned();
    wire::PortRecord::new(h, p.convert(), "ethernet".into(), node, interface)
}
const PORT_REFS: Need = Need {
    nodes: true,
    disks: false,
    ports: false,
    groups: false,
    interfaces: true,
};
view!(Ports, Port, ports, PortList, need: PORT_REFS; PortRecord, port_wire);
view!(EthernetPorts, Port, ethernet_ports, EthernetPortList, need: PORT_REFS; PortRecord, port_wire);
view!(PciDevices, PciDevice, pci_devices, PciDeviceList; PciDeviceRecord, |d, h, _| wire::PciDeviceRecord::new(h, d.convert()));
const PORTS: Need = Need {
    nodes: false,
    disks: false,
    ports: true,
    groups: false,
    interfaces: false,
};
view!(LldpAgents, LldpAgent, lldp_agents, LldpAgentList, need: PORTS; LldpAgentRecord, |a, h, r| {
    let port = r.port(&a.port_name);
    let name = a.port_name.clone();
    wire::LldpAgentRecord::new(h, a.convert(), port, name)
});
view!(LldpNeighbours, LldpNeighbour, lldp_neighbours, LldpNeighbourList, need: PORTS; LldpNeighbourRecord, |n, h, r| {
    let port = r.port(&n.port_name);
    let name = n.port_name.clone();
    wire::LldpNeighbourRecord::new(h, n.convert(), port, name)
});
view!(Labels, Label, labels, LabelList; LabelRecord, |l, h, _| wire::LabelRecord::new(h, l.convert()));
view!(SensorGroups, SensorGroup, isensorgroups, SensorGroupList; SensorGroupRecord, |g, h, _| wire::SensorGroupRecord::new(h, g.convert()));
const GROUPS: Need = Need {
    nodes: false,
    disks: false,
    ports: false,
    groups: true,
    interfaces: false,
};
view!(Sensors, Sensor, isensors, SensorList, need: GROUPS; SensorRecord, |x, h, r| {
    let group = r.groups.get(&x.sensorgroup).cloned();
    wire::SensorRecord::new(h, x.convert(), group)
});

/// The interface each of `host`'s ports serves, from configuration when it
/// runs and the view shows it.
async fn link_interfaces(
    st: &InventoryState,
    need: Need,
    host: &Host,
    refs: &mut Refs,
) -> Result<(), ApiError> {
    if !need.interfaces {
        return Ok(());
    }
    if let Some(links) = st.port_links.get() {
        refs.interfaces = links(host.uuid.clone())
            .await
            .map_err(ApiError::unavailable)?
            .into_iter()
            .collect();
    }
    Ok(())
}

/// A stored record on the wire: its item, uuid, host, times and links, and
/// what the view refers to.
fn render<V: View>(rec: Record<V::Item>, host: &Host, refs: &Refs, base: &str) -> V::Wire {
    let links = Link::pair(base, V::COLLECTION, &rec.uuid);
    let head = Head {
        uuid: rec.uuid,
        host_uuid: host.uuid.clone(),
        created_at: rec.created_at,
        updated_at: rec.updated_at,
        links,
    };
    V::wire(rec.item, head, refs)
}

/// `GET /v1/ihosts/{host}/<collection>`: every record of the host in
/// listing order, paged with `limit`/`marker` like every sysinv list.
pub(crate) async fn list_of<V: View>(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(host): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    q.only_params(V::PARAMS)?;
    let p = page_params(&q, st.paging)?;
    if let Some(k) = q.last("sort_key")
        && !k.is_empty()
        && k != "id"
    {
        return Err(ApiError::bad_request(format!(
            "Invalid sort_key '{k}': {} are listed in their natural order",
            V::COLLECTION
        )));
    }
    let filter = V::FILTER
        .and_then(|f| q.last(f))
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let r = HostRef::parse(&host);
    let (h, recs, mut refs) = st
        .read(move |repo| {
            let (h, recs) = hwops::list::<V::Item>(repo, &r)?;
            let refs = Refs::load(repo, h.id, V::NEED)?;
            Ok((h, recs, refs))
        })
        .await?;
    link_interfaces(&st, V::NEED, &h, &mut refs).await?;
    let mut recs: Vec<Record<V::Item>> = recs
        .into_iter()
        .filter(|r| {
            filter
                .as_deref()
                .is_none_or(|v| V::matches(&r.item, &refs, v))
        })
        .collect();
    if p.desc {
        recs.reverse();
    }
    let start = match &p.marker {
        None => 0,
        Some(m) => match recs.iter().position(|r| r.uuid == *m) {
            Some(i) => i + 1,
            None => {
                return Err(ApiError::bad_request(format!(
                    "Invalid marker '{m}': no such record in {}",
                    V::COLLECTION
                )));
            }
        },
    };
    let total = recs.len();
    let page: Vec<Record<V::Item>> = recs.into_iter().skip(start).take(p.limit).collect();
    let base = base_url(&headers);
    let mut next = None;
    if page.len() == p.limit
        && start + page.len() < total
        && let Some(last) = page.last()
    {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("limit", &p.limit.to_string());
        s.append_pair("sort_dir", if p.desc { "desc" } else { "asc" });
        if let (Some(f), Some(v)) = (V::FILTER, &filter) {
            s.append_pair(f, v);
        }
        s.append_pair("marker", &last.uuid);
        next = Some(format!(
            "{base}/v1/ihosts/{}/{}?{}",
            h.uuid,
            V::COLLECTION,
            s.finish()
        ));
    }
    let items = page
        .into_iter()
        .map(|r| render::<V>(r, &h, &refs, &base))
        .collect();
    Ok(json(StatusCode::OK, &V::list(items, next)))
}

/// Host `uuid`'s ports as `GET /v1/ihosts/{host}/ports` shows them (links
/// under `base`), for the services that refer to them; None when there is
/// no such host.
pub(crate) async fn port_records(
    st: &InventoryState,
    uuid: &str,
    base: &str,
) -> Result<Option<Vec<serde_json::Value>>, String> {
    let r = HostRef::Uuid(uuid.to_ascii_lowercase());
    let got = st
        .read(move |repo| {
            let Some(h) = repo.host(&r)? else {
                return Ok(None);
            };
            let recs = hwops::records_of::<Port>(repo, h.id)?;
            let refs = Refs::load(repo, h.id, Ports::NEED)?;
            Ok(Some((h, recs, refs)))
        })
        .await
        .map_err(|e| e.message)?;
    let Some((h, recs, refs)) = got else {
        return Ok(None);
    };
    recs.into_iter()
        .map(|r| {
            serde_json::to_value(render::<Ports>(r, &h, &refs, base))
                .map_err(|e| format!("cannot render a port: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `GET /v1/<collection>/{uuid}`.
pub(crate) async fn show_of<V: View>(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (h, rec, mut refs) = st
        .read(move |repo| {
            let (h, rec) = hwops::get::<V::Item>(repo, &uuid)?;
            let refs = Refs::load(repo, h.id, V::NEED)?;
            Ok((h, rec, refs))
        })
        .await?;
    link_interfaces(&st, V::NEED, &h, &mut refs).await?;
    Ok(json(
        StatusCode::OK,
        &render::<V>(rec, &h, &refs, &base_url(&headers)),
    ))
}

/// `GET /v1/isensorgroups/{uuid}/isensors`: the sensors of one group.
pub(crate) async fn sensors_of_group(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (h, recs, refs) = st
        .read(move |repo| {
            let (h, group) = hwops::get::<SensorGroup>(repo, &uuid)?;
            let recs: Vec<Record<Sensor>> = hwops::records_of::<Sensor>(repo, h.id)?
                .into_iter()
                .filter(|r| r.item.sensorgroup == group.item.sensorgroupname)
                .collect();
            let refs = Refs::load(repo, h.id, <Sensors as View>::NEED)?;
            Ok((h, recs, refs))
        })
        .await?;
    let base = base_url(&headers);
    let items = recs
        .into_iter()
        .map(|r| render::<Sensors>(r, &h, &refs, &base))
        .collect();
    Ok(json(StatusCode::OK, &<Sensors as View>::list(items, None)))
}

/// A PATCH's replacements, attribute to text (top-level attributes only).
fn replacements(patch: &[starling_http::PatchOp]) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for (path, v) in starling_http::check_patch(patch)? {
        if path.contains('/') {
            return Err(ApiError::bad_request(format!(
                "Invalid patch path '/{path}': the attributes are not nested"
            )));
        }
        let v = v
            .as_ref()
            .map(|v| crate::text(&path, v))
            .transpose()?
            .flatten()
            .ok_or_else(|| ApiError::bad_request(format!("{path} needs a value")))?;
        out.push((path, v));
    }
    Ok(out)
}

/// `PATCH /v1/isensors/{uuid}`: host-sensor-modify (`suppress`).
pub(crate) async fn modify_sensor(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<starling_http::PatchOp>>,
) -> Result<Response, ApiError> {
    let changes = replacements(&patch)?;
    let (h, rec, refs) = st
        .write(move |repo, now| {
            let (h, rec) = hwops::modify_sensor(repo, &uuid, &changes, now)?;
            let refs = Refs::load(repo, h.id, <Sensors as View>::NEED)?;
            Ok((h, rec, refs))
        })
        .await?;
    Ok(json(
        StatusCode::OK,
        &render::<Sensors>(rec, &h, &refs, &base_url(&headers)),
    ))
}

/// `PATCH /v1/isensorgroups/{uuid}`: host-sensorgroup-modify (suppress,
/// actions, audit interval).
pub(crate) async fn modify_sensorgroup(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<starling_http::PatchOp>>,
) -> Result<Response, ApiError> {
    let changes = replacements(&patch)?;
    let (h, rec) = st
        .write(move |repo, now| hwops::modify_sensorgroup(repo, &uuid, &changes, now))
        .await?;
    Ok(json(
        StatusCode::OK,
        &render::<SensorGroups>(rec, &h, &Refs::default(), &base_url(&headers)),
    ))
}

/// `POST /v1/labels/{host}?overwrite=`: body `{key: value, …}`; answers
/// `{"labels": [...]}` with every label set (cgtsclient then shows each).
pub(crate) async fn assign_labels(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(host): Path<String>,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    q.only_params(crate::openapi::LABEL_PARAMS)?;
    let overwrite = q.bool("overwrite")?.unwrap_or(false);
    if body.is_empty() {
        return Err(ApiError::bad_request("No labels given"));
    }
    let mut labels = Vec::with_capacity(body.len());
    for (k, v) in body {
        let v = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for label {k}: a string is expected"
                )));
            }
        };
        labels.push((k, v));
    }
    let r = HostRef::parse(&host);
    let (h, recs) = st
        .write(move |repo, now| hwops::assign_labels(repo, &r, &labels, overwrite, now))
        .await?;
    let base = base_url(&headers);
    let refs = Refs::default();
    let labels = recs
        .into_iter()
        .map(|r| render::<Labels>(r, &h, &refs, &base))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::LabelList { labels, next: None },
    ))
}

/// `DELETE /v1/labels/{uuid}`.
pub(crate) async fn remove_label(
    State(st): State<InventoryState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    st.write(move |repo, _| hwops::remove_label(repo, &uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/agent/register`: the host record the agent reports for
/// (201 when it was just discovered).
pub(crate) async fn register(
    State(st): State<InventoryState>,
    Extension(who): Extension<Arc<Principal>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Register>,
) -> Result<Response, ApiError> {
    let reg = Registration {
        hostname: body.hostname,
        mgmt_mac: body.mgmt_mac,
    };
    // An enrolling agent is given its host's credential (shown this once).
    let scope = who.agent.clone();
    let credential = match scope {
        Some(AgentScope::Enrollment) => Some(agents::new_secret(agents::CREDENTIAL_PREFIX)?),
        _ => None,
    };
    let hashed = credential.as_deref().map(agents::hash);
    let (h, created, sys) = st
        .write(move |repo, now| {
            let (h, created) = match (&scope, &hashed) {
                (Some(AgentScope::Host(uuid)), _) => {
                    (hwops::register_own(repo, &reg, uuid)?, false)
                }
                (Some(AgentScope::Enrollment), Some(hash)) => hwops::enroll(repo, &reg, hash, now)?,
                _ => hwops::register(repo, &reg, now)?,
            };
            Ok((h, created, repo.system()?))
        })
        .await?;
    if credential.is_some() {
        tracing::info!(host = %h.display_name(), uuid = %h.uuid, "host agent enrolled");
    }
    let sys = crate::system_or_404(sys)?;
    if created {
        tracing::info!(mac = %h.mgmt_mac, uuid = %h.uuid, "new host discovered");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = json(status, &crate::render::host(&h, &sys, &base_url(&headers)));
    if let Some(c) = credential
        && let Ok(v) = axum::http::HeaderValue::from_str(&c)
    {
        resp.headers_mut().insert(agents::CREDENTIAL_HEADER, v);
    }
    Ok(resp)
}

/// Where agent reports come in: how many are read and applied at once
/// (reports are applied one at a time by the store's single writer anyway;
/// a boot storm of 1,000 agents otherwise holds 1,000 bodies and parsed
/// reports in memory at the same moment, 170 MB measured, for no gain in
/// time), and when each host last reported since this process started
/// (for `/metrics`).
#[derive(Clone)]
pub struct ReportGate {
    permits: Arc<tokio::sync::Semaphore>,
    last: Arc<std::sync::Mutex<BTreeMap<String, (String, starling_common::Timestamp)>>>,
}

impl Default for ReportGate {
    fn default() -> Self {
        ReportGate {
            permits: Arc::new(tokio::sync::Semaphore::new(4)),
            last: Arc::default(),
        }
    }
}

impl ReportGate {
    /// Each host's name and the time of its last report, by host uuid.
    pub fn last_reports(&self) -> Vec<(String, starling_common::Timestamp)> {
        let m = self.last.lock().unwrap_or_else(|e| e.into_inner());
        m.values().cloned().collect()
    }

    fn reported(&self, host: &Host, at: starling_common::Timestamp) {
        let mut m = self.last.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(host.uuid.clone(), (host.display_name().into_owned(), at));
    }
}

/// `PUT /v1/agent/{host}/report`: sections of the host's hardware; answers
/// what changed per collection.
pub(crate) async fn report(
    State(st): State<InventoryState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(host): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    // Waiting agents have not been read yet: the gate bounds memory.
    let _permit = st
        .reports
        .permits
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable("the inventory service is stopping"))?;
    let ApiJson(report) = ApiJson::<wire::Report>::from_request(req, &()).await?;
    let report = crate::convert::report(report);
    let r = HostRef::parse(&host);
    let out = st
        .write(move |repo, now| {
            agents::check_own(repo, who.agent.as_ref(), &r)?;
            hwops::report_hardware(repo, &r, &report, now)
        })
        .await?;
    st.reports.reported(&out.host, st.clock.now());
    if out.event.is_some() {
        st.report(&out.host, None, out.event.clone()).await;
    }
    let changes = out
        .changes
        .iter()
        .map(|(k, d)| {
            (
                k.plural().to_string(),
                wire::Delta {
                    added: d.added,
                    removed: d.removed,
                    updated: d.updated,
                },
            )
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::ReportResult {
            availability: out.host.availability.as_str().into(),
            changes,
            ihost_uuid: out.host.uuid,
            inv_state: out.host.inv_state,
        },
    ))
}
