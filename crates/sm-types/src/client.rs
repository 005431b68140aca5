//! A client of sm-api (on loopback, port 7777), as sysinv uses it to
//! answer `system servicegroup-list`, `servicenode-list` and
//! `service-list`.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::{
    ServiceNodeCommand, ServiceNodeCommandResult, SmNode, SmNodes, SmSdas, SmService,
    SmServiceGroup, SmServices,
};

/// Why an answer did not come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmError {
    /// SM does not answer (not running here: a simplex all-in-one runs
    /// without it).
    Unreachable(String),
    /// It has no such thing.
    NotFound,
    /// It answered something else.
    Bad(String),
}

impl std::fmt::Display for SmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmError::Unreachable(e) => write!(f, "service management is not reachable: {e}"),
            SmError::NotFound => write!(f, "not found"),
            SmError::Bad(e) => write!(f, "Bad response from SM API: {e}"),
        }
    }
}

/// sm-api's client.
#[derive(Clone, Debug)]
pub struct SmClient {
    base: String,
    http: reqwest::Client,
}

/// A path segment SM could hold (a name, an id, a uuid); anything else is
/// not asked for.
fn segment(key: &str) -> Option<&str> {
    (!key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
    .then_some(key)
}

impl SmClient {
    /// A client of sm-api at `base` (e.g. `http://127.0.0.1:7777`).
    pub fn new(base: &str) -> Result<SmClient, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SmClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, SmError> {
        let url = format!("{}{path}", self.base);
        let r = self
            .http
            .get(&url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| SmError::Unreachable(format!("{}: {e}", self.base)))?;
        match r.status().as_u16() {
            200 => r.json().await.map_err(|e| SmError::Bad(e.to_string())),
            404 => Err(SmError::NotFound),
            s => Err(SmError::Bad(format!("status {s}"))),
        }
    }

    pub async fn services(&self) -> Result<Vec<SmService>, SmError> {
        Ok(self.get::<SmServices>("/v1/services").await?.services)
    }

    /// A service by id or name.
    pub async fn service(&self, key: &str) -> Result<SmService, SmError> {
        let key = segment(key).ok_or(SmError::NotFound)?;
        self.get(&format!("/v1/services/{key}")).await
    }

    pub async fn nodes(&self) -> Result<Vec<SmNode>, SmError> {
        Ok(self.get::<SmNodes>("/v1/nodes").await?.nodes)
    }

    /// A node by name or id.
    pub async fn node(&self, key: &str) -> Result<SmNode, SmError> {
        let key = segment(key).ok_or(SmError::NotFound)?;
        self.get(&format!("/v1/nodes/{key}")).await
    }

    /// Every service group's assignment to a controller.
    pub async fn servicegroups(&self) -> Result<Vec<SmServiceGroup>, SmError> {
        Ok(self.get::<SmSdas>("/v1/sm_sda").await?.sm_sda)
    }

    /// Asks SM on this controller to hand `host`'s active role to the
    /// other controller (`swact`, `swact-force`, or only to say whether it
    /// could: `swact-pre-check`), with the caller's token.
    pub async fn servicenode(
        &self,
        host: &str,
        action: &str,
        token: Option<&str>,
    ) -> Result<ServiceNodeCommandResult, SmError> {
        let host = segment(host).ok_or(SmError::NotFound)?;
        let mut req = self
            .http
            .patch(format!("{}/v1/servicenode/{host}", self.base))
            .json(&ServiceNodeCommand {
                origin: "sysinv".into(),
                action: action.into(),
                admin: "unknown".into(),
                oper: "unknown".into(),
                avail: String::new(),
            });
        if let Some(t) = token {
            req = req.header("X-Auth-Token", t);
        }
        let r = req
            .send()
            .await
            .map_err(|e| SmError::Unreachable(format!("{}: {e}", self.base)))?;
        match r.status().as_u16() {
            200 => r.json().await.map_err(|e| SmError::Bad(e.to_string())),
            404 => Err(SmError::NotFound),
            s => Err(SmError::Bad(format!(
                "status {s}: {}",
                r.text().await.unwrap_or_default()
            ))),
        }
    }

    pub async fn servicegroup(&self, uuid: &str) -> Result<SmServiceGroup, SmError> {
        let key = segment(uuid).ok_or(SmError::NotFound)?;
        self.get(&format!("/v1/sm_sda/{key}")).await
    }
}
