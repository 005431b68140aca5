//! The agent's loop: register, report in full, then audit every interval
//! and send what changed. A failed send is retried at the next audit with
//! everything not yet accepted; a host the controller no longer knows is
//! registered again and reported in full.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use starling_common::TokenSource;
use starling_inventory::hardware::Report;

use crate::discover::{self, Identity};
use crate::root::Root;

/// How an agent runs.
#[derive(Clone)]
pub struct Config {
    /// The machine to discover.
    pub root: Root,
    /// The inventory API (`http://ctl:6385`, with or without `/v1`).
    pub inventory_url: String,
    /// The agent's credentials.
    pub token: Arc<dyn TokenSource>,
    /// HTTP client (timeouts, TLS trust).
    pub http: reqwest::Client,
    /// Time between audits.
    pub interval: Duration,
    /// The management interface; the first port when absent.
    pub mgmt_interface: Option<String>,
}

/// Why a request failed.
#[derive(Debug)]
enum SendError {
    /// The controller does not know the host (any more).
    Gone,
    /// Anything else, with the reason.
    Failed(String),
}

struct Agent {
    cfg: Config,
    base: String,
}

impl Agent {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, SendError> {
        let mut renew = false;
        loop {
            let token = self
                .cfg
                .token
                .token(renew)
                .await
                .map_err(SendError::Failed)?;
            let resp = self
                .cfg
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header("X-Auth-Token", token)
                .json(body)
                .send()
                .await
                .map_err(|e| SendError::Failed(format!("{path}: {e}")))?;
            let status = resp.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && !renew {
                renew = true;
                continue;
            }
            let text = resp.text().await.unwrap_or_default();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Err(SendError::Gone);
            }
            if !status.is_success() {
                return Err(SendError::Failed(format!("{path}: {status}: {text}")));
            }
            return serde_json::from_str(&text)
                .map_err(|e| SendError::Failed(format!("{path}: not JSON: {e}")));
        }
    }

    async fn register(&self, id: &Identity) -> Result<String, SendError> {
        let body = serde_json::json!({"hostname": id.hostname, "mgmt_mac": id.mgmt_mac});
        let h = self
            .call(reqwest::Method::POST, "/v1/agent/register", &body)
            .await?;
        h["uuid"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SendError::Failed("registration answered without a uuid".into()))
    }

    async fn send(&self, host: &str, r: &Report) -> Result<Value, SendError> {
        let body = serde_json::to_value(r).map_err(|e| SendError::Failed(e.to_string()))?;
        self.call(
            reqwest::Method::PUT,
            &format!("/v1/agent/{host}/report"),
            &body,
        )
        .await
    }
}

/// Discovers on a blocking thread (sysfs reads block).
async fn discover(root: &Root) -> Result<Report, String> {
    let root = root.clone();
    tokio::task::spawn_blocking(move || discover::report(&root))
        .await
        .map_err(|e| format!("discovery stopped: {e}"))?
}

/// Runs until `stop` resolves.
pub async fn run(cfg: Config, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    let base = cfg
        .inventory_url
        .trim_end_matches('/')
        .trim_end_matches("/v1")
        .to_string();
    let agent = Agent { cfg, base };
    let mut host: Option<String> = None;
    let mut last: Option<Report> = None;
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = agent.cfg.interval;
        let uuid = match &host {
            Some(h) => h.clone(),
            None => {
                let root = agent.cfg.root.clone();
                let iface = agent.cfg.mgmt_interface.clone();
                let id = match tokio::task::spawn_blocking(move || {
                    discover::identity(&root, iface.as_deref())
                })
                .await
                {
                    Ok(Ok(id)) => id,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "cannot tell who this host is");
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "identity discovery stopped");
                        continue;
                    }
                };
                match agent.register(&id).await {
                    Ok(u) => {
                        tracing::info!(host = %id.hostname, mac = %id.mgmt_mac, uuid = %u, "registered");
                        host = Some(u.clone());
                        last = None;
                        u
                    }
                    Err(e) => {
                        tracing::warn!(error = ?e, "registration failed; retrying");
                        wait = agent.cfg.interval.min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
        };
        let now = match discover(&agent.cfg.root).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "discovery failed");
                continue;
            }
        };
        let Some(delta) = discover::changes(last.as_ref(), &now) else {
            continue;
        };
        match agent.send(&uuid, &delta).await {
            Ok(v) => {
                tracing::info!(changes = %v["changes"], "inventory reported");
                last = Some(now);
            }
            Err(SendError::Gone) => {
                tracing::warn!(%uuid, "the controller no longer knows this host; registering again");
                host = None;
                wait = Duration::ZERO;
            }
            Err(SendError::Failed(e)) => {
                tracing::warn!(error = %e, "report not accepted; retrying at the next audit");
                wait = agent.cfg.interval.min(Duration::from_secs(5));
            }
        }
    }
}
