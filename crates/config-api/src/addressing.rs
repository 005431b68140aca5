//! Platform networks and address pools: sysinv's `addrpools` (list, with
//! `network_type`; add, show, modify, delete) and `networks` (list, add,
//! show, delete). A change to a network's pool retargets the hosts its
//! network reaches (OAM at runtime; management, cluster-host and pxeboot
//! at their next unlock).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use starling_config::addressing::{self, AddressPool, NewNetwork, PoolFields, Slot};
use starling_config::ops;
use starling_config_types as wire;
use starling_http::openapi::{ParamKind, QueryParam};
use starling_http::{ApiError, ApiJson, PatchOp, QueryPairs, json};

use crate::ConfigState;

pub(crate) const POOL_LIST_PARAMS: &[QueryParam] = &[QueryParam::new(
    "network_type",
    ParamKind::Str,
    "Only the pools of the network of this type",
)];

pub(crate) fn pool(p: &AddressPool) -> wire::AddressPool {
    let text = |s: Slot| p.slot(s).map(|a| a.to_string());
    wire::AddressPool {
        controller0_address: text(Slot::Controller0),
        controller0_address_id: p.slot_id(Slot::Controller0),
        controller1_address: text(Slot::Controller1),
        controller1_address_id: p.slot_id(Slot::Controller1),
        family: i64::from(p.family()),
        floating_address: text(Slot::Floating),
        floating_address_id: p.slot_id(Slot::Floating),
        gateway_address: text(Slot::Gateway),
        gateway_address_id: p.slot_id(Slot::Gateway),
        id: p.id,
        name: p.name.clone(),
        network: p.network.to_string(),
        order: p.order.as_str().to_string(),
        prefix: i64::from(p.prefix),
        ranges: p
            .ranges
            .iter()
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
            .collect(),
        uuid: p.uuid.clone(),
    }
}

pub(crate) fn network(n: &addressing::Network) -> wire::Network {
    wire::Network {
        dynamic: n.dynamic,
        id: n.id,
        name: n.name.clone(),
        pool_uuid: n.pool_uuid.clone(),
        primary_pool_family: n.primary_pool_family.clone(),
        net_type: n.net_type.clone(),
        uuid: n.uuid.clone(),
    }
}

/// `[[start, end], …]` as the domain takes it.
fn ranges(r: Vec<Vec<String>>) -> Result<Vec<(String, String)>, ApiError> {
    r.into_iter()
        .map(|pair| match <[String; 2]>::try_from(pair) {
            Ok([a, b]) => Ok((a, b)),
            Err(p) => Err(ApiError::bad_request(format!(
                "Invalid range {p:?}: a [start, end] pair is expected"
            ))),
        })
        .collect()
}

pub(crate) async fn list_pools(
    State(st): State<ConfigState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(q.as_deref());
    q.only_params(POOL_LIST_PARAMS)?;
    let of_type = q.last("network_type").map(String::from);
    let all = st
        .read(move |r| match &of_type {
            Some(t) => addressing::pools_of_type(r, t),
            None => addressing::pools(r),
        })
        .await?;
    Ok(json(
        StatusCode::OK,
        &wire::AddressPoolList {
            addrpools: all.iter().map(pool).collect(),
        },
    ))
}

pub(crate) async fn show_pool(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let p = st.read(move |r| addressing::pool(r, &uuid)).await?;
    Ok(json(StatusCode::OK, &pool(&p)))
}

pub(crate) async fn add_pool(
    State(st): State<ConfigState>,
    ApiJson(a): ApiJson<wire::AddressPoolAdd>,
) -> Result<Response, ApiError> {
    let f = PoolFields {
        name: a.name,
        network: a.network,
        prefix: a.prefix.map(|p| p.0),
        order: a.order,
        ranges: a.ranges.map(ranges).transpose()?,
        slots: [
            a.floating_address,
            a.controller0_address,
            a.controller1_address,
            a.gateway_address,
        ],
    };
    let p = st
        .write(move |r, now| addressing::add_pool(r, &f, now))
        .await?;
    tracing::info!(name = %p.name, subnet = %p.subnet(), "address pool added");
    Ok(json(StatusCode::OK, &pool(&p)))
}

/// A patch value as text: strings as they are, numbers as their text,
/// null as `none` (a named address cleared).
fn text(path: &str, v: Option<Value>) -> Result<String, ApiError> {
    match v {
        None | Some(Value::Null) => Ok("none".into()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid value for {path}: {other}"
        ))),
    }
}

pub(crate) async fn modify_pool(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let mut f = PoolFields::default();
    for op in &patch {
        if op.op == "add" || op.op == "remove" {
            return Err(ApiError::bad_request(
                "Attributes cannot be added or removed",
            ));
        }
    }
    for (path, v) in starling_http::check_patch(&patch)? {
        match path.as_str() {
            "id"
            | "uuid"
            | "family"
            | "controller0_address_id"
            | "controller1_address_id"
            | "floating_address_id"
            | "gateway_address_id" => {
                return Err(ApiError::bad_request(format!(
                    "'/{path}' is a read-only attribute and can not be updated"
                )));
            }
            "name" => f.name = Some(text(&path, v)?),
            "network" => f.network = Some(text(&path, v)?),
            "prefix" => f.prefix = Some(text(&path, v)?),
            "order" => f.order = Some(text(&path, v)?),
            "ranges" => {
                let r: Vec<Vec<String>> = serde_json::from_value(v.unwrap_or(Value::Null))
                    .map_err(|_| {
                        ApiError::bad_request(
                            "Invalid ranges: a list of [start, end] pairs is expected",
                        )
                    })?;
                f.ranges = Some(ranges(r)?);
            }
            other => match Slot::ALL.iter().position(|s| s.field() == other) {
                Some(i) => f.slots[i] = Some(text(&path, v)?),
                None => {
                    return Err(ApiError::bad_request(format!(
                        "Unknown attribute for argument: {other}"
                    )));
                }
            },
        }
    }
    let simplex = st.simplex().await?;
    let facts = st.facts().await?;
    let (c, changed, fx) = st
        .write(move |r, now| ops::modify_pool(r, &uuid, &f, simplex, &facts, now))
        .await?;
    tracing::info!(name = %c.pool.name, network = ?c.network.as_ref().map(|n| &n.net_type), hosts = changed.len(), "address pool changed");
    st.committed(fx, &changed).await;
    Ok(json(StatusCode::OK, &pool(&c.pool)))
}

pub(crate) async fn delete_pool(
    State(st): State<ConfigState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let facts = st.facts().await?;
    let uuid = uuid.to_ascii_lowercase();
    let (p, changed, fx) = st
        .write(move |r, now| ops::delete_pool(r, &uuid, &facts, now))
        .await?;
    tracing::info!(name = %p.name, "address pool deleted");
    st.committed(fx, &changed).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn list_networks(State(st): State<ConfigState>) -> Result<Response, ApiError> {
    let all = st.read(|r| addressing::networks(r)).await?;
    Ok(json(
        StatusCode::OK,
        &wire::NetworkList {
            networks: all.iter().map(network).collect(),
        },
    ))
}

pub(crate) async fn show_network(
    State(st): State<ConfigState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let n = st.read(move |r| addressing::network(r, &key)).await?;
    Ok(json(StatusCode::OK, &network(&n)))
}

pub(crate) async fn add_network(
    State(st): State<ConfigState>,
    ApiJson(a): ApiJson<wire::NetworkAdd>,
) -> Result<Response, ApiError> {
    let n = NewNetwork {
        name: a.name,
        net_type: a.net_type,
        dynamic: a.dynamic.map(|d| d.0),
        pool_uuid: a.pool_uuid.map(|u| u.to_ascii_lowercase()),
    };
    let simplex = st.simplex().await?;
    let facts = st.facts().await?;
    let (net, changed, fx) = st
        .write(move |r, now| ops::add_network(r, &n, simplex, &facts, now))
        .await?;
    tracing::info!(name = %net.name, network_type = %net.net_type, "network added");
    st.committed(fx, &changed).await;
    Ok(json(StatusCode::OK, &network(&net)))
}

pub(crate) async fn delete_network(
    State(st): State<ConfigState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let simplex = st.simplex().await?;
    let facts = st.facts().await?;
    let (net, changed, fx) = st
        .write(move |r, now| ops::delete_network(r, &key, simplex, &facts, now))
        .await?;
    tracing::info!(name = %net.name, network_type = %net.net_type, "network deleted");
    st.committed(fx, &changed).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
