//! A host's hardware collections (`/v1/ihosts/{host}/icpus`, …), each record
//! by uuid (`/v1/icpus/{uuid}`, …), labels, and the agent's own endpoints
//! (registration and reports).
//!
//! Each collection is a [`View`] of one record type: its wire name, the
//! references it renders (`inode_uuid`, `idisk_uuid`, `port_uuid`) and any
//! filter it takes. One generic list handler and one show handler serve all.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use starling_http::{ApiError, ApiJson, QueryPairs, base_url, json};
use starling_inventory::hardware::*;
use starling_inventory::hwops::{self, Registration};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::{Error, Host};

use crate::render::{links, opt_ts, ts};
use crate::{InventoryState, page_params};

/// Which other records a view refers to.
#[derive(Clone, Copy, Default)]
pub(crate) struct Need {
    nodes: bool,
    disks: bool,
    ports: bool,
}

/// uuids of the records a rendering refers to, by their keys.
#[derive(Default)]
pub(crate) struct Refs {
    nodes: BTreeMap<i64, String>,
    disks: BTreeMap<String, String>,
    ports: BTreeMap<String, String>,
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
        Ok(r)
    }

    fn node(&self, n: i64) -> Value {
        self.nodes.get(&n).map_or(Value::Null, |u| json!(u))
    }
    fn port(&self, name: &str) -> Value {
        self.ports.get(name).map_or(Value::Null, |u| json!(u))
    }
}

/// One REST collection of a record type.
pub(crate) trait View: Send + Sync + 'static {
    /// The record type.
    type Item: HwItem;
    /// Collection name on the wire.
    const COLLECTION: &'static str;
    /// References rendered.
    const NEED: Need = Need {
        nodes: false,
        disks: false,
        ports: false,
    };
    /// A list filter this collection takes (name of the query parameter).
    const FILTER: Option<&'static str> = None;
    /// Whether `item` passes the filter `value`.
    fn matches(_item: &Self::Item, _refs: &Refs, _value: &str) -> bool {
        true
    }
    /// Adds the view's own attributes.
    fn extra(_item: &Self::Item, _refs: &Refs, _obj: &mut Map<String, Value>) {}
}

macro_rules! view {
    ($name:ident, $item:ty, $coll:literal $(, need: $need:expr)? $(, filter: $filter:literal, $matches:expr)?; $extra:expr) => {
        pub(crate) struct $name;
        impl View for $name {
            type Item = $item;
            const COLLECTION: &'static str = $coll;
            $(const NEED: Need = $need;)?
            $(
                const FILTER: Option<&'static str> = Some($filter);
                fn matches(item: &$item, refs: &Refs, value: &str) -> bool {
                    let f: fn(&$item, &Refs, &str) -> bool = $matches;
                    f(item, refs, value)
                }
            )?
            fn extra(item: &$item, refs: &Refs, obj: &mut Map<String, Value>) {
                let f: fn(&$item, &Refs, &mut Map<String, Value>) = $extra;
                f(item, refs, obj)
            }
        }
    };
}

const NODES: Need = Need {
    nodes: true,
    disks: false,
    ports: false,
};

view!(Nodes, Node, "inodes"; |_, _, _| {});
view!(Cpus, Cpu, "icpus", need: NODES; |c, r, o| {
    o.insert("inode_uuid".into(), r.node(c.numa_node));
});
view!(Memorys, Memory, "imemorys", need: NODES; |m, r, o| {
    o.insert("inode_uuid".into(), r.node(m.numa_node));
});
view!(Disks, Disk, "idisks"; |_, _, o| {
    o.insert("ipv_uuid".into(), Value::Null);
    o.insert("istor_uuid".into(), Value::Null);
});
view!(Partitions, Partition, "partitions",
    need: Need { nodes: false, disks: true, ports: false },
    filter: "disk_uuid", |p, r, v| r.disks.get(&p.disk_path).is_some_and(|u| u.eq_ignore_ascii_case(v));
    |p, r, o| {
        o.insert("idisk_uuid".into(), r.disks.get(&p.disk_path).map_or(Value::Null, |u| json!(u)));
        o.insert("ipv_uuid".into(), Value::Null);
        let status = PARTITION_STATUS.iter().find(|(c, _)| *c == p.status).map(|(_, s)| *s);
        o.insert("status_text".into(), json!(status));
    }
);
fn port_extra(p: &Port, r: &Refs, o: &mut Map<String, Value>) {
    o.insert("type".into(), json!("ethernet"));
    o.insert("inode_uuid".into(), r.node(p.numa_node));
    o.insert("interface_uuid".into(), Value::Null);
    if p.namedisplay.is_none() {
        o.insert("namedisplay".into(), json!(p.name));
    }
}
view!(Ports, Port, "ports", need: NODES; port_extra);
view!(EthernetPorts, Port, "ethernet_ports", need: NODES; port_extra);
view!(PciDevices, PciDevice, "pci_devices"; |_, _, _| {});
const PORTS: Need = Need {
    nodes: false,
    disks: false,
    ports: true,
};
view!(LldpAgents, LldpAgent, "lldp_agents", need: PORTS; |a, r, o| {
    o.insert("port_uuid".into(), r.port(&a.port_name));
    o.insert("port_namedisplay".into(), json!(a.port_name));
});
view!(LldpNeighbours, LldpNeighbour, "lldp_neighbours", need: PORTS; |n, r, o| {
    o.insert("port_uuid".into(), r.port(&n.port_name));
    o.insert("port_namedisplay".into(), json!(n.port_name));
});
view!(Labels, Label, "labels"; |_, _, _| {});

/// A record as StarlingX shows it: its attributes, uuid, host, times, links
/// and the view's own attributes.
fn render<V: View>(
    rec: &Record<V::Item>,
    host: &Host,
    refs: &Refs,
    base: &str,
) -> Result<Value, ApiError> {
    let mut o = match serde_json::to_value(&rec.item) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(ApiError::internal("a record is not a JSON object")),
        Err(e) => return Err(ApiError::internal(e)),
    };
    o.insert("uuid".into(), json!(rec.uuid));
    // Labels name their host `host_uuid`; every other record `ihost_uuid`.
    let host_key = if V::Item::KIND == HwKind::Label {
        "host_uuid"
    } else {
        "ihost_uuid"
    };
    o.insert(host_key.into(), json!(host.uuid));
    o.insert("created_at".into(), json!(ts(rec.created_at)));
    o.insert("updated_at".into(), opt_ts(rec.updated_at));
    o.insert("links".into(), links(base, V::COLLECTION, &rec.uuid));
    V::extra(&rec.item, refs, &mut o);
    Ok(Value::Object(o))
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
    let mut allowed = vec!["limit", "marker", "sort_key", "sort_dir"];
    allowed.extend(V::FILTER);
    q.only(&allowed)?;
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
    let (h, recs, refs) = st
        .read(move |repo| {
            let (h, recs) = hwops::list::<V::Item>(repo, &r)?;
            let refs = Refs::load(repo, h.id, V::NEED)?;
            Ok((h, recs, refs))
        })
        .await?;
    let mut recs: Vec<&Record<V::Item>> = recs
        .iter()
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
    let page: Vec<&Record<V::Item>> = recs.iter().skip(start).take(p.limit).copied().collect();
    let base = base_url(&headers);
    let items = page
        .iter()
        .map(|r| render::<V>(r, &h, &refs, &base))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    let mut body = Map::new();
    body.insert(V::COLLECTION.into(), Value::Array(items));
    if page.len() == p.limit
        && start + page.len() < recs.len()
        && let Some(last) = page.last()
    {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("limit", &p.limit.to_string());
        s.append_pair("sort_dir", if p.desc { "desc" } else { "asc" });
        if let (Some(f), Some(v)) = (V::FILTER, &filter) {
            s.append_pair(f, v);
        }
        s.append_pair("marker", &last.uuid);
        body.insert(
            "next".into(),
            json!(format!(
                "{base}/v1/ihosts/{}/{}?{}",
                h.uuid,
                V::COLLECTION,
                s.finish()
            )),
        );
    }
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `GET /v1/<collection>/{uuid}`.
pub(crate) async fn show_of<V: View>(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (h, rec, refs) = st
        .read(move |repo| {
            let (h, rec) = hwops::get::<V::Item>(repo, &uuid)?;
            let refs = Refs::load(repo, h.id, V::NEED)?;
            Ok((h, rec, refs))
        })
        .await?;
    Ok(json(
        StatusCode::OK,
        &render::<V>(&rec, &h, &refs, &base_url(&headers))?,
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
    q.only(&["overwrite"])?;
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
    let items = recs
        .iter()
        .map(|r| render::<Labels>(r, &h, &refs, &base))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(json(StatusCode::OK, &json!({ "labels": items })))
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

/// An agent's introduction.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterBody {
    hostname: String,
    mgmt_mac: String,
}

/// `POST /v1/agent/register`: the host record the agent reports for
/// (201 when it was just discovered).
pub(crate) async fn register(
    State(st): State<InventoryState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let reg = Registration {
        hostname: body.hostname,
        mgmt_mac: body.mgmt_mac,
    };
    let (h, created, sys) = st
        .write(move |repo, now| {
            let (h, created) = hwops::register(repo, &reg, now)?;
            Ok((h, created, repo.system()?))
        })
        .await?;
    let sys = crate::system_or_404(sys)?;
    if created {
        tracing::info!(mac = %h.mgmt_mac, uuid = %h.uuid, "new host discovered");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(
        status,
        &crate::render::host(&h, &sys, &base_url(&headers)),
    ))
}

/// How many agent reports are read and applied at once. Reports are
/// applied one at a time by the store's single writer anyway; a boot storm
/// of 1,000 agents otherwise holds 1,000 bodies and parsed reports in
/// memory at the same moment (170 MB measured), for no gain in time.
#[derive(Clone)]
pub struct ReportGate(Arc<tokio::sync::Semaphore>);

impl Default for ReportGate {
    fn default() -> Self {
        ReportGate(Arc::new(tokio::sync::Semaphore::new(4)))
    }
}

/// `PUT /v1/agent/{host}/report`: sections of the host's hardware; answers
/// what changed per collection.
pub(crate) async fn report(
    State(st): State<InventoryState>,
    Path(host): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    // Waiting agents have not been read yet: the gate bounds memory.
    let _permit = st
        .reports
        .0
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable("the inventory service is stopping"))?;
    let ApiJson(report) = ApiJson::<Report>::from_request(req, &()).await?;
    let r = HostRef::parse(&host);
    let out = st
        .write(move |repo, now| hwops::report_hardware(repo, &r, &report, now))
        .await?;
    if out.event.is_some() {
        st.report(&out.host, None, out.event.clone()).await;
    }
    let changes: Map<String, Value> = out
        .changes
        .iter()
        .map(|(k, d)| {
            (
                k.plural().to_string(),
                json!({"added": d.added, "updated": d.updated, "removed": d.removed}),
            )
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "ihost_uuid": out.host.uuid,
            "inv_state": out.host.inv_state,
            "availability": out.host.availability.as_str(),
            "changes": changes,
        }),
    ))
}
