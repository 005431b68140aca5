//! Service management's wire shapes: what StarlingX's sm-api answers
//! (`/v1/services`, `/v1/nodes`, `/v1/sm_sda`) and sysinv relays as
//! `/v1/services`, `/v1/servicenodes` and `/v1/servicegroup` to
//! `system service-list`, `servicenode-list` and `servicegroup-list`.
//! Keys and collection names are StarlingX's.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[cfg(feature = "client")]
pub mod client;

/// A managed service (`service-list`: id, name, state-status).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmService {
    pub id: i64,
    pub name: String,
    pub desired_state: String,
    pub state: String,
    /// Empty when the service is well; `warn`, `degraded`, `failed`.
    pub status: String,
    /// The node it runs on (sysinv adds it: the controller answering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Why it is in its status (Starling's addition).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmServices {
    pub services: Vec<SmService>,
}

/// A controller as SM sees it (`servicenode-list`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmNode {
    pub id: i64,
    pub name: String,
    pub administrative_state: String,
    pub operational_state: String,
    pub availability_status: String,
    pub ready_state: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmNodes {
    pub nodes: Vec<SmNode>,
}

/// A service group's assignment to a controller (sm-api's `sm_sda`,
/// sysinv's `servicegroup`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmServiceGroup {
    pub id: i64,
    pub uuid: String,
    /// The domain.
    pub name: String,
    pub node_name: String,
    pub service_group_name: String,
    pub desired_state: String,
    pub state: String,
    pub status: String,
    pub condition: String,
}

/// sm-api's collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmSdas {
    pub sm_sda: Vec<SmServiceGroup>,
}

/// sysinv's collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SmServiceGroups {
    pub sm_servicegroup: Vec<SmServiceGroup>,
}

/// sm-api's `PATCH /v1/servicenode/{hostname}`: `swact`, `swact-force` or
/// `swact-pre-check` (StarlingX's also carry lock and unlock, which
/// Starling's inventory decides itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceNodeCommand {
    #[serde(default)]
    pub origin: String,
    pub action: String,
    #[serde(default)]
    pub admin: String,
    #[serde(default)]
    pub oper: String,
    #[serde(default)]
    pub avail: String,
}

/// Its answer: `error_code` "0" when done (or, for a pre-check, when it
/// would be), else why not in `error_details`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceNodeCommandResult {
    pub origin: String,
    pub hostname: String,
    pub action: String,
    pub admin: String,
    pub oper: String,
    pub avail: String,
    pub error_code: String,
    pub error_details: String,
    pub impact_service_list: Vec<String>,
}
