//! Host interfaces and what is assigned to them: sysinv's `iinterfaces`
//! (a host's list, add, show, modify, delete, and an interface's ports),
//! `interface_networks` and `interface_datanetworks` (every, a host's, an
//! interface's; assign, show, remove). Each port's ethernet interface is
//! made the first time its host's interfaces are looked at or changed. A
//! change gives its host a reboot-required target: interfaces are
//! configured at the host's next unlock.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use starling_config::interface::{
    self, HostView, Interface, InterfaceDataNetwork, InterfaceFields, InterfaceNetwork, PortFacts,
};
use starling_config::ops::{self, HostFacts};
use starling_config::{ConfigRepo, Error};
use starling_config_types::{self as wire, Link};
use starling_http::{ApiError, ApiJson, PatchOp, base_url, json};
use starling_service::HostSummary;

use crate::ConfigState;

/// The host a path or body names: its uuid, hostname or integer id.
async fn host_named(st: &ConfigState, key: &str) -> Result<HostSummary, ApiError> {
    let all = st.hosts.all().await.map_err(ApiError::unavailable)?;
    all.into_iter()
        .find(|h| {
            h.uuid.eq_ignore_ascii_case(key)
                || h.hostname.as_deref() == Some(key)
                || h.id.to_string() == key
        })
        .ok_or_else(|| ApiError::not_found(format!("Host {key} could not be found.")))
}

/// A port record's facts.
pub(crate) fn port_facts(v: &Value) -> PortFacts {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| v.get(k).and_then(Value::as_i64);
    PortFacts {
        uuid: s("uuid"),
        name: s("name"),
        mac: s("mac"),
        mtu: n("mtu").unwrap_or(interface::DEFAULT_MTU),
        pciaddr: s("pciaddr"),
        dev_id: n("dev_id").unwrap_or(0),
        sriov_totalvfs: n("sriov_totalvfs"),
        driver: s("driver"),
        speed: n("speed"),
        dpdksupport: v
            .get("dpdksupport")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// A host's port records (as inventory shows them) and their facts.
async fn ports_of(
    st: &ConfigState,
    host: &HostSummary,
    base: &str,
) -> Result<(Vec<Value>, Vec<PortFacts>), ApiError> {
    let records = st
        .hosts
        .ports(&host.uuid, base)
        .await
        .map_err(ApiError::unavailable)?
        .unwrap_or_default();
    let facts = records.iter().map(port_facts).collect();
    Ok((records, facts))
}

/// A host's interfaces, each port's made first when some port has none.
async fn interfaces_of(
    st: &ConfigState,
    host: &HostSummary,
    ports: Vec<PortFacts>,
) -> Result<Vec<Interface>, ApiError> {
    let uuid = host.uuid.clone();
    let (u, p) = (uuid.clone(), ports.clone());
    let unsynced = st
        .read(move |r| interface::ports_unsynced(r, &u, &p))
        .await?;
    if unsynced {
        st.write(move |r, now| interface::sync_ports(r, &uuid, &ports, now))
            .await?;
    }
    let uuid = host.uuid.clone();
    st.read(move |r| r.interfaces_of(&uuid)).await
}

/// An interface on the wire, among its host's interfaces `all`.
fn render(
    i: &Interface,
    all: &[Interface],
    host: &HostSummary,
    base: &str,
    expand: bool,
) -> wire::Interface {
    let name_of = |id: &i64| all.iter().find(|x| x.id == *id).map(|x| x.ifname.clone());
    let address_allowed = matches!(
        i.ifclass,
        Some(interface::IfClass::Data | interface::IfClass::Platform)
    );
    wire::Interface {
        aemode: i.aemode.clone(),
        channels: None,
        created_at: i.created_at,
        forihostid: host.id,
        ifcapabilities: Default::default(),
        ifclass: i.ifclass.map(|c| c.as_str().to_string()),
        ifname: i.ifname.clone(),
        iftype: i.iftype.as_str().to_string(),
        ihost_uuid: i.host_uuid.clone(),
        imac: i.imac.clone(),
        imtu: i.imtu,
        ipv4_mode: address_allowed.then(|| i.ipv4_mode.clone()),
        ipv4_pool: i
            .ipv4_pool
            .clone()
            .filter(|_| address_allowed && i.ipv4_mode.as_deref() == Some("pool")),
        ipv6_mode: address_allowed.then(|| i.ipv6_mode.clone()),
        ipv6_pool: i
            .ipv6_pool
            .clone()
            .filter(|_| address_allowed && i.ipv6_mode.as_deref() == Some("pool")),
        links: Link::pair(base, "iinterfaces", &i.uuid),
        max_rx_rate: i.max_rx_rate,
        max_tx_rate: i.max_tx_rate,
        ovs_access: None,
        ports: expand.then(|| Link::pair(base, "iinterfaces", &format!("{}/ports", i.uuid))),
        primary_reselect: i.primary_reselect.clone(),
        ptp_role: Some(i.ptp_role.clone()),
        schedpolicy: None,
        sriov_numvfs: Some(i.sriov_numvfs),
        sriov_vf_channels: None,
        sriov_vf_driver: i.sriov_vf_driver.clone(),
        txhashpolicy: i.txhashpolicy.clone(),
        updated_at: i.updated_at,
        used_by: all
            .iter()
            .filter(|u| u.uses.contains(&i.id))
            .map(|u| u.ifname.clone())
            .collect(),
        uses: i.uses.iter().filter_map(name_of).collect(),
        usesmodify: None,
        uuid: i.uuid.clone(),
        vlan_id: i.vlan_id,
    }
}

pub(crate) async fn list_of_host(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(host): Path<String>,
) -> Result<Response, ApiError> {
    let h = host_named(&st, &host).await?;
    let base = base_url(&headers);
    let (_, ports) = ports_of(&st, &h, &base).await?;
    let all = interfaces_of(&st, &h, ports).await?;
    Ok(json(
        StatusCode::OK,
        &wire::InterfaceList {
            iinterfaces: all
                .iter()
                .map(|i| render(i, &all, &h, &base, false))
                .collect(),
        },
    ))
}

pub(crate) async fn list_all(
    State(st): State<ConfigState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let mut out = Vec::new();
    for h in st.hosts.all().await.map_err(ApiError::unavailable)? {
        let (_, ports) = ports_of(&st, &h, &base).await?;
        let all = interfaces_of(&st, &h, ports).await?;
        out.extend(all.iter().map(|i| render(i, &all, &h, &base, false)));
    }
    Ok(json(
        StatusCode::OK,
        &wire::InterfaceList { iinterfaces: out },
    ))
}

/// The interface `uuid` names, its host and its host's interfaces.
async fn find(
    st: &ConfigState,
    uuid: &str,
) -> Result<(Interface, HostSummary, Vec<Interface>), ApiError> {
    let u = uuid.to_string();
    let i = st
        .read(move |r| r.interface(&u))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Interface {uuid} could not be found.")))?;
    let h = host_named(st, &i.host_uuid).await?;
    let hu = h.uuid.clone();
    let all = st.read(move |r| r.interfaces_of(&hu)).await?;
    Ok((i, h, all))
}

pub(crate) async fn show(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (i, h, all) = find(&st, &uuid).await?;
    Ok(json(
        StatusCode::OK,
        &render(&i, &all, &h, &base_url(&headers), true),
    ))
}

/// `GET /v1/iinterfaces/{uuid}/ports`: the port of an ethernet interface.
pub(crate) async fn ports(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (i, h, _) = find(&st, &uuid).await?;
    let (records, _) = ports_of(&st, &h, &base_url(&headers)).await?;
    let ports: Vec<Value> = records
        .into_iter()
        .filter(|p| {
            i.port_uuid.is_some() && p.get("uuid").and_then(Value::as_str) == i.port_uuid.as_deref()
        })
        .map(|mut p| {
            if let Some(o) = p.as_object_mut() {
                o.insert("interface_uuid".into(), Value::String(i.uuid.clone()));
            }
            p
        })
        .collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "ports": ports })))
}

/// Runs `op` over host `h`'s interfaces and commits its effects.
async fn change<T: Send + 'static>(
    st: &ConfigState,
    h: &HostSummary,
    base: &str,
    reboot: bool,
    op: impl Fn(
        &mut dyn ConfigRepo,
        &HostView<'_>,
        &[HostFacts],
        starling_common::Timestamp,
    ) -> Result<T, Error>
    + Send
    + Sync
    + 'static,
) -> Result<T, ApiError> {
    let (_, ports) = ports_of(st, h, base).await?;
    let simplex = st.simplex().await?;
    let all = st.facts().await?;
    let me = crate::facts(h);
    let op = std::sync::Arc::new(op);
    let (out, changed, fx) = st
        .write(move |r, now| {
            let (op, all) = (op.clone(), all.clone());
            let hosts = all.clone();
            ops::on_interfaces(r, &me, &hosts, &ports, simplex, reboot, now, move |r, v| {
                op(r, v, &all, now)
            })
        })
        .await?;
    st.committed(fx, &changed).await;
    Ok(out)
}

/// A number sent as a number or as its text.
fn number(path: &str, v: &Value) -> Result<Option<i64>, ApiError> {
    let bad = || ApiError::bad_request(format!("Invalid value for {path}: {v} (an integer)"));
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or_else(bad),
        Value::String(s) if s.eq_ignore_ascii_case("none") || s.is_empty() => Ok(None),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn number_text(path: &str, v: &Option<wire::NumberText>) -> Result<Option<i64>, ApiError> {
    match v {
        None => Ok(None),
        Some(t) => number(path, &Value::String(t.0.clone())),
    }
}

pub(crate) async fn add(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    ApiJson(a): ApiJson<wire::InterfaceAdd>,
) -> Result<Response, ApiError> {
    let host = a.ihost_uuid.clone().ok_or_else(|| {
        ApiError::bad_request("ihost_uuid is required: the host of the interface")
    })?;
    let h = host_named(&st, &host).await?;
    let f = InterfaceFields {
        ifname: a.ifname,
        iftype: a.iftype,
        ifclass: a.ifclass,
        imtu: number_text("imtu", &a.imtu)?,
        aemode: a.aemode,
        txhashpolicy: a.txhashpolicy,
        primary_reselect: a.primary_reselect,
        vlan_id: number_text("vlan_id", &a.vlan_id)?,
        uses: a.uses.map(|l| l.0).filter(|l| !l.is_empty()),
        ports: a.ports.map(|l| l.0),
        ipv4_mode: a.ipv4_mode,
        ipv6_mode: a.ipv6_mode,
        ipv4_pool: a.ipv4_pool,
        ipv6_pool: a.ipv6_pool,
        sriov_numvfs: number_text("sriov_numvfs", &a.sriov_numvfs)?,
        sriov_vf_driver: a.sriov_vf_driver,
        ptp_role: a.ptp_role,
        max_tx_rate: number_text("max_tx_rate", &a.max_tx_rate)?,
        max_rx_rate: number_text("max_rx_rate", &a.max_rx_rate)?,
    };
    let base = base_url(&headers);
    let i = change(&st, &h, &base, true, move |r, v, _, now| {
        interface::add(r, v, &f, now)
    })
    .await?;
    tracing::info!(host = %h.display_name(), ifname = %i.ifname, iftype = i.iftype.as_str(), "interface added");
    let hu = h.uuid.clone();
    let all = st.read(move |r| r.interfaces_of(&hu)).await?;
    Ok(json(StatusCode::OK, &render(&i, &all, &h, &base, true)))
}

/// A patch value as text (`none` for null).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(text).collect(),
        other => text(other)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    }
}

/// `host-if-modify`'s patch as the fields it changes.
fn patch_fields(patch: &[PatchOp]) -> Result<InterfaceFields, ApiError> {
    let mut f = InterfaceFields::default();
    for (path, v) in starling_http::check_patch(patch)? {
        let v = v.unwrap_or(Value::Null);
        let t = || text(&v);
        match path.as_str() {
            // Taken and ignored, as on sysinv's other records.
            "action" => {}
            "ifname" => f.ifname = t(),
            "iftype" => f.iftype = t(),
            "ifclass" => f.ifclass = Some(t().unwrap_or_else(|| "none".into())),
            "imtu" => f.imtu = number(&path, &v)?,
            "aemode" => f.aemode = t(),
            "txhashpolicy" => f.txhashpolicy = t(),
            "primary_reselect" => f.primary_reselect = t(),
            "vlan_id" => f.vlan_id = number(&path, &v)?,
            "usesmodify" | "uses" => f.uses = Some(names(&v)),
            "ports" => f.ports = Some(names(&v)),
            "ipv4_mode" => f.ipv4_mode = t(),
            "ipv6_mode" => f.ipv6_mode = t(),
            "ipv4_pool" => f.ipv4_pool = t(),
            "ipv6_pool" => f.ipv6_pool = t(),
            "sriov_numvfs" => f.sriov_numvfs = number(&path, &v)?,
            "sriov_vf_driver" => f.sriov_vf_driver = t(),
            "ptp_role" => f.ptp_role = t(),
            "max_tx_rate" => f.max_tx_rate = number(&path, &v)?,
            "max_rx_rate" => f.max_rx_rate = number(&path, &v)?,
            "uuid" | "id" | "ihost_uuid" | "forihostid" | "imac" | "used_by" => {
                return Err(ApiError::bad_request(format!(
                    "'/{path}' is a read-only attribute and can not be updated"
                )));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unknown attribute for argument: {other} (Starling does not support it)"
                )));
            }
        }
    }
    Ok(f)
}

pub(crate) async fn modify(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let f = patch_fields(&patch)?;
    let (i, h, _) = find(&st, &uuid).await?;
    let base = base_url(&headers);
    let reboot = interface::needs_reboot(&f);
    let key = i.uuid.clone();
    let i = change(&st, &h, &base, reboot, move |r, v, _, now| {
        interface::modify(r, v, &key, &f, now)
    })
    .await?;
    tracing::info!(host = %h.display_name(), ifname = %i.ifname, "interface changed");
    let hu = h.uuid.clone();
    let all = st.read(move |r| r.interfaces_of(&hu)).await?;
    Ok(json(StatusCode::OK, &render(&i, &all, &h, &base, true)))
}

pub(crate) async fn delete(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (i, h, _) = find(&st, &uuid).await?;
    let key = i.uuid.clone();
    let gone = change(&st, &h, &base_url(&headers), true, move |r, v, _, now| {
        interface::delete(r, v, &key, now)
    })
    .await?;
    tracing::info!(host = %h.display_name(), ifname = %gone.ifname, "interface deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every interface (of every host) by id, and every host, for rendering
/// assignments.
async fn everything(st: &ConfigState) -> Result<(Vec<Interface>, Vec<HostSummary>), ApiError> {
    let hosts = st.hosts.all().await.map_err(ApiError::unavailable)?;
    let uuids: Vec<String> = hosts.iter().map(|h| h.uuid.clone()).collect();
    let all = st
        .read(move |r| {
            let mut out = Vec::new();
            for u in &uuids {
                out.extend(r.interfaces_of(u)?);
            }
            Ok(out)
        })
        .await?;
    Ok((all, hosts))
}

fn host_id(hosts: &[HostSummary], uuid: &str) -> i64 {
    hosts.iter().find(|h| h.uuid == uuid).map_or(0, |h| h.id)
}

/// Which assignments a list shows.
#[derive(Clone)]
enum Scope {
    All,
    Host(String),
    Interface(String),
}

async fn scope_of_host(st: &ConfigState, key: &str) -> Result<Scope, ApiError> {
    Ok(Scope::Host(host_named(st, key).await?.uuid))
}

fn in_scope(scope: &Scope, i: &Interface) -> bool {
    match scope {
        Scope::All => true,
        Scope::Host(h) => i.host_uuid == *h,
        Scope::Interface(u) => i.uuid.eq_ignore_ascii_case(u),
    }
}

fn ifnet_wire(
    a: &InterfaceNetwork,
    i: &Interface,
    n: &starling_config::addressing::Network,
    hosts: &[HostSummary],
) -> wire::InterfaceNetwork {
    wire::InterfaceNetwork {
        forihostid: host_id(hosts, &i.host_uuid),
        id: a.id,
        ifname: i.ifname.clone(),
        interface_uuid: i.uuid.clone(),
        network_id: n.id,
        network_name: n.name.clone(),
        network_type: n.net_type.clone(),
        network_uuid: n.uuid.clone(),
        uuid: a.uuid.clone(),
    }
}

fn ifdn_wire(
    a: &InterfaceDataNetwork,
    i: &Interface,
    d: &starling_config::DataNetwork,
    hosts: &[HostSummary],
) -> wire::InterfaceDataNetwork {
    wire::InterfaceDataNetwork {
        datanetwork_id: d.id,
        datanetwork_name: d.name.clone(),
        datanetwork_uuid: d.uuid.clone(),
        forihostid: host_id(hosts, &i.host_uuid),
        id: a.id,
        ifname: i.ifname.clone(),
        interface_uuid: i.uuid.clone(),
        network_type: d.network_type.as_str().to_string(),
        uuid: a.uuid.clone(),
    }
}

async fn ifnets(st: &ConfigState, scope: Scope) -> Result<Vec<wire::InterfaceNetwork>, ApiError> {
    let (all, hosts) = everything(st).await?;
    let (assigned, nets) = st
        .read(|r| Ok((r.interface_networks()?, r.networks()?)))
        .await?;
    Ok(assigned
        .iter()
        .filter_map(|a| {
            let i = all.iter().find(|i| i.id == a.interface_id)?;
            let n = nets.iter().find(|n| n.id == a.network_id)?;
            in_scope(&scope, i).then(|| ifnet_wire(a, i, n, &hosts))
        })
        .collect())
}

async fn ifdns(
    st: &ConfigState,
    scope: Scope,
) -> Result<Vec<wire::InterfaceDataNetwork>, ApiError> {
    let (all, hosts) = everything(st).await?;
    let (assigned, dns) = st
        .read(|r| Ok((r.interface_datanetworks()?, r.datanetworks()?)))
        .await?;
    Ok(assigned
        .iter()
        .filter_map(|a| {
            let i = all.iter().find(|i| i.id == a.interface_id)?;
            let d = dns.iter().find(|d| d.id == a.datanetwork_id)?;
            in_scope(&scope, i).then(|| ifdn_wire(a, i, d, &hosts))
        })
        .collect())
}

fn ifnet_list(v: Vec<wire::InterfaceNetwork>) -> Response {
    json(
        StatusCode::OK,
        &wire::InterfaceNetworkList {
            interface_networks: v,
        },
    )
}

fn ifdn_list(v: Vec<wire::InterfaceDataNetwork>) -> Response {
    json(
        StatusCode::OK,
        &wire::InterfaceDataNetworkList {
            interface_datanetworks: v,
        },
    )
}

pub(crate) async fn list_ifnets(State(st): State<ConfigState>) -> Result<Response, ApiError> {
    Ok(ifnet_list(ifnets(&st, Scope::All).await?))
}

pub(crate) async fn list_ifnets_of_host(
    State(st): State<ConfigState>,
    Path(host): Path<String>,
) -> Result<Response, ApiError> {
    let scope = scope_of_host(&st, &host).await?;
    Ok(ifnet_list(ifnets(&st, scope).await?))
}

pub(crate) async fn list_ifnets_of_interface(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    find(&st, &uuid).await?;
    Ok(ifnet_list(ifnets(&st, Scope::Interface(uuid)).await?))
}

pub(crate) async fn show_ifnet(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    ifnets(&st, Scope::All)
        .await?
        .into_iter()
        .find(|a| a.uuid.eq_ignore_ascii_case(&uuid))
        .map(|a| json(StatusCode::OK, &a))
        .ok_or_else(|| ApiError::not_found(format!("Interface network {uuid} could not be found.")))
}

pub(crate) async fn assign_network(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    ApiJson(a): ApiJson<wire::InterfaceNetworkAdd>,
) -> Result<Response, ApiError> {
    let iface = a
        .interface_uuid
        .ok_or_else(|| ApiError::bad_request("interface_uuid is required"))?;
    let net = a
        .network_uuid
        .ok_or_else(|| ApiError::bad_request("network_uuid is required"))?;
    let (i, h, _) = find(&st, &iface).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            ApiError::bad_request(e.message)
        } else {
            e
        }
    })?;
    let key = i.uuid.clone();
    let made = change(&st, &h, &base_url(&headers), true, move |r, v, all, now| {
        interface::assign_network(r, v, all, &key, &net, now)
    })
    .await?;
    let (all, hosts) = everything(&st).await?;
    let nets = st.read(|r| r.networks()).await?;
    let i = all
        .iter()
        .find(|x| x.id == made.interface_id)
        .ok_or_else(|| ApiError::unavailable("the interface went meanwhile"))?;
    let n = nets
        .iter()
        .find(|n| n.id == made.network_id)
        .ok_or_else(|| ApiError::unavailable("the network went meanwhile"))?;
    tracing::info!(host = %h.display_name(), ifname = %i.ifname, network = %n.net_type, "platform network assigned");
    Ok(json(StatusCode::OK, &ifnet_wire(&made, i, n, &hosts)))
}

/// The host of assignment `uuid` (in `list`), found by its interface.
async fn host_of_assignment(
    st: &ConfigState,
    uuid: &str,
    interface_uuid: Option<String>,
    what: &str,
) -> Result<HostSummary, ApiError> {
    let iface = interface_uuid
        .ok_or_else(|| ApiError::not_found(format!("{what} {uuid} could not be found.")))?;
    Ok(find(st, &iface).await?.1)
}

pub(crate) async fn remove_network(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let found = ifnets(&st, Scope::All)
        .await?
        .into_iter()
        .find(|a| a.uuid.eq_ignore_ascii_case(&uuid))
        .map(|a| a.interface_uuid);
    let h = host_of_assignment(&st, &uuid, found, "Interface network").await?;
    let key = uuid.clone();
    change(&st, &h, &base_url(&headers), true, move |r, v, _, _| {
        interface::remove_network(r, v, &key)
    })
    .await?;
    tracing::info!(host = %h.display_name(), assignment = %uuid, "platform network removed from an interface");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn list_ifdns(State(st): State<ConfigState>) -> Result<Response, ApiError> {
    Ok(ifdn_list(ifdns(&st, Scope::All).await?))
}

pub(crate) async fn list_ifdns_of_host(
    State(st): State<ConfigState>,
    Path(host): Path<String>,
) -> Result<Response, ApiError> {
    let scope = scope_of_host(&st, &host).await?;
    Ok(ifdn_list(ifdns(&st, scope).await?))
}

pub(crate) async fn list_ifdns_of_interface(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    find(&st, &uuid).await?;
    Ok(ifdn_list(ifdns(&st, Scope::Interface(uuid)).await?))
}

pub(crate) async fn show_ifdn(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    ifdns(&st, Scope::All)
        .await?
        .into_iter()
        .find(|a| a.uuid.eq_ignore_ascii_case(&uuid))
        .map(|a| json(StatusCode::OK, &a))
        .ok_or_else(|| {
            ApiError::not_found(format!("Interface datanetwork {uuid} could not be found."))
        })
}

pub(crate) async fn assign_datanetwork(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    ApiJson(a): ApiJson<wire::InterfaceDataNetworkAdd>,
) -> Result<Response, ApiError> {
    let iface = a
        .interface_uuid
        .ok_or_else(|| ApiError::bad_request("interface_uuid is required"))?;
    let dn = a
        .datanetwork_uuid
        .ok_or_else(|| ApiError::bad_request("datanetwork_uuid is required"))?;
    let (i, h, _) = find(&st, &iface).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            ApiError::bad_request(e.message)
        } else {
            e
        }
    })?;
    let key = i.uuid.clone();
    let made = change(&st, &h, &base_url(&headers), true, move |r, v, _, now| {
        interface::assign_datanetwork(r, v, &key, &dn, now)
    })
    .await?;
    let (all, hosts) = everything(&st).await?;
    let dns = st.read(|r| r.datanetworks()).await?;
    let i = all
        .iter()
        .find(|x| x.id == made.interface_id)
        .ok_or_else(|| ApiError::unavailable("the interface went meanwhile"))?;
    let d = dns
        .iter()
        .find(|d| d.id == made.datanetwork_id)
        .ok_or_else(|| ApiError::unavailable("the data network went meanwhile"))?;
    tracing::info!(host = %h.display_name(), ifname = %i.ifname, datanetwork = %d.name, "data network assigned");
    Ok(json(StatusCode::OK, &ifdn_wire(&made, i, d, &hosts)))
}

pub(crate) async fn remove_datanetwork(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let found = ifdns(&st, Scope::All)
        .await?
        .into_iter()
        .find(|a| a.uuid.eq_ignore_ascii_case(&uuid))
        .map(|a| a.interface_uuid);
    let h = host_of_assignment(&st, &uuid, found, "Interface datanetwork").await?;
    let key = uuid.clone();
    change(&st, &h, &base_url(&headers), true, move |r, v, _, _| {
        interface::remove_datanetwork(r, v, &key)
    })
    .await?;
    tracing::info!(host = %h.display_name(), assignment = %uuid, "data network removed from an interface");
    Ok(StatusCode::NO_CONTENT.into_response())
}
