//! Health endpoints every service serves without a token:
//!
//! - `GET /health/live`: the process answers (no dependency is asked);
//! - `GET /health`: and its dependencies (the database) answer, each named
//!   in `checks`; 503 naming the one that does not;
//! - `GET /health/ready`: and the service itself is ready to serve (e.g.
//!   identity's first records are written); 503 until it is.
//!
//! Each check has a few seconds: a database that hangs is reported as down,
//! not waited for.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::BoxFuture;

/// A check: `Ok` when what it checks answers, the reason otherwise.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// How long one check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// A service's checks: its dependencies and its own readiness.
#[derive(Clone, Default)]
pub struct Health {
    dependencies: Vec<(&'static str, Check)>,
    readiness: Vec<(&'static str, Check)>,
}

impl Health {
    /// Adds a dependency (`/health` and `/health/ready` ask it).
    pub fn dependency(mut self, name: &'static str, check: Check) -> Self {
        self.dependencies.push((name, check));
        self
    }

    /// Adds a readiness condition (`/health/ready` asks it).
    pub fn readiness(mut self, name: &'static str, check: Check) -> Self {
        self.readiness.push((name, check));
        self
    }

    /// The three routes, for any router state.
    pub fn routes<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let deps = Arc::new(self.dependencies);
        let all: Arc<Vec<(&'static str, Check)>> = Arc::new(
            deps.iter()
                .cloned()
                .chain(self.readiness.iter().cloned())
                .collect(),
        );
        Router::new()
            .route("/health/live", get(live))
            .route("/health", get(move || answer(deps.clone())))
            .route("/health/ready", get(move || answer(all.clone())))
    }
}

async fn live() -> Response {
    crate::json(StatusCode::OK, &json!({"status": "ok"}))
}

async fn answer(checks: Arc<Vec<(&'static str, Check)>>) -> Response {
    let mut results = Map::new();
    let mut ok = true;
    for (name, check) in checks.iter() {
        let r = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        let v = match r {
            Ok(()) => Value::from("ok"),
            Err(why) => {
                ok = false;
                Value::from(why)
            }
        };
        results.insert((*name).to_string(), v);
    }
    let (status, word) = if ok {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    crate::json(status, &json!({"status": word, "checks": results}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn fixed(r: Result<(), &'static str>) -> Check {
        Arc::new(move || Box::pin(std::future::ready(r.map_err(str::to_string))))
    }

    async fn get(app: &Router, path: &str) -> (StatusCode, Value) {
        let req = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn health_names_the_dependency_that_is_down_and_readiness_waits() {
        let up: Router = Health::default()
            .dependency("database", fixed(Ok(())))
            .readiness(
                "bootstrap",
                fixed(Err("the first records are being written")),
            )
            .routes();
        assert_eq!(get(&up, "/health/live").await.0, StatusCode::OK);
        let (s, v) = get(&up, "/health").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v, json!({"status": "ok", "checks": {"database": "ok"}}));
        let (s, v) = get(&up, "/health/ready").await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            v["checks"]["bootstrap"],
            "the first records are being written"
        );
        let down: Router = Health::default()
            .dependency("database", fixed(Err("connection refused")))
            .routes();
        let (s, v) = get(&down, "/health").await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            v,
            json!({"status": "unavailable", "checks": {"database": "connection refused"}})
        );
        assert_eq!(get(&down, "/health/live").await.0, StatusCode::OK);
    }
}
