//! sysinv's service-management routes (`/v1/servicegroup`,
//! `/v1/servicenodes`, `/v1/services`): relayed from SM's own API on this
//! controller, as sysinv relays sm-api, for `system servicegroup-list`,
//! `servicenode-list`, `service-list` and their `-show`s. Where SM does
//! not run (a simplex all-in-one) they answer 503 and say so.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use starling_http::{ApiError, json};
use starling_sm_types::client::{SmClient, SmError};
use starling_sm_types::{SmNodes, SmServiceGroups, SmServices};

use crate::InventoryState;

fn client(st: &InventoryState) -> Result<&SmClient, ApiError> {
    st.sm
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("Service management is not configured here"))
}

fn failed(e: SmError, what: String) -> ApiError {
    match e {
        SmError::NotFound => ApiError::not_found(format!("{what} could not be found")),
        SmError::Unreachable(m) => ApiError::unavailable(format!(
            "Service management is not running on this controller ({m})"
        )),
        SmError::Bad(m) => ApiError::unavailable(format!("Bad response from SM API: {m}")),
    }
}

/// Asks service management on this controller to swact `h` away (the
/// operator's token goes with it: SM checks it).
pub(crate) async fn swact(
    sm: &SmClient,
    h: &starling_inventory::Host,
    action: starling_inventory::Action,
    token: Option<&axum::http::HeaderValue>,
) -> Result<(), ApiError> {
    let name = h.display_name().to_string();
    let verb = if action == starling_inventory::Action::ForceSwact {
        "swact-force"
    } else {
        "swact"
    };
    let token = token.and_then(|t| t.to_str().ok());
    let r = sm
        .servicenode(&name, verb, token)
        .await
        .map_err(|e| failed(e, format!("Service node {name}")))?;
    if r.error_code != "0" {
        return Err(ApiError::bad_request(format!(
            "Swact action not allowed: {}",
            r.error_details
        )));
    }
    Ok(())
}

/// This controller's name, which sysinv gives the services it lists.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

pub(crate) async fn list_groups(State(st): State<InventoryState>) -> Result<Response, ApiError> {
    let groups = client(&st)?
        .servicegroups()
        .await
        .map_err(|e| failed(e, "Service groups".into()))?;
    Ok(json(
        StatusCode::OK,
        &SmServiceGroups {
            sm_servicegroup: groups,
        },
    ))
}

pub(crate) async fn show_group(
    State(st): State<InventoryState>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let g = client(&st)?
        .servicegroup(&uuid)
        .await
        .map_err(|e| failed(e, format!("Service group {uuid}")))?;
    Ok(json(StatusCode::OK, &g))
}

pub(crate) async fn list_nodes(State(st): State<InventoryState>) -> Result<Response, ApiError> {
    let nodes = client(&st)?
        .nodes()
        .await
        .map_err(|e| failed(e, "Service nodes".into()))?;
    Ok(json(StatusCode::OK, &SmNodes { nodes }))
}

pub(crate) async fn show_node(
    State(st): State<InventoryState>,
    Path(node): Path<String>,
) -> Result<Response, ApiError> {
    let n = client(&st)?
        .node(&node)
        .await
        .map_err(|e| failed(e, format!("Service node {node}")))?;
    Ok(json(StatusCode::OK, &n))
}

pub(crate) async fn list_services(State(st): State<InventoryState>) -> Result<Response, ApiError> {
    let mut services = client(&st)?
        .services()
        .await
        .map_err(|e| failed(e, "Services".into()))?;
    let host = this_host();
    for s in &mut services {
        s.node_name.get_or_insert_with(|| host.clone());
    }
    Ok(json(StatusCode::OK, &SmServices { services }))
}

pub(crate) async fn show_service(
    State(st): State<InventoryState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut s = client(&st)?
        .service(&id)
        .await
        .map_err(|e| failed(e, format!("Service {id}")))?;
    s.node_name.get_or_insert_with(this_host);
    Ok(json(StatusCode::OK, &s))
}
