//! Host agents' own credentials: enrolled once with the cloud's secret,
//! each speaks for its own host only and for nothing else of the API.

use axum::http::StatusCode;
use serde_json::{Value, json};
use starling_inventory_api::agents;
use starling_testkit as testkit;

use crate::{TestApp, app};

impl TestApp {
    /// A request with `token` as X-Auth-Token: status, the credential an
    /// enrollment hands out, body.
    async fn call_as(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let req = testkit::request(method, uri)
            .header("host", "inv.test:6385")
            .header("x-auth-token", token);
        let a = testkit::send(&self.app, req, body.map(|b| b.to_string()).as_deref()).await;
        let given = a.header(agents::CREDENTIAL_HEADER);
        (a.status, given, a.body)
    }

    /// A registration of `mac` (reporting `hostname`) with `token`.
    async fn register_as(
        &self,
        token: &str,
        hostname: &str,
        mac: &str,
    ) -> (StatusCode, Option<String>, Value) {
        let body = json!({"hostname": hostname, "mgmt_mac": mac});
        self.call_as(token, "POST", "/v1/agent/register", Some(body))
            .await
    }

    /// Enrolls the agent of `mac` (reporting `hostname`): its credential.
    async fn enroll(&self, secret: &str, hostname: &str, mac: &str) -> String {
        let (st, given, h) = self.register_as(secret, hostname, mac).await;
        assert!(st.is_success(), "{st}: {h}");
        given.expect("an enrollment hands the host's credential out")
    }
}

const REPORT: &str = r#"{"uptime": 42}"#;

#[tokio::test]
async fn an_agent_speaks_for_its_own_host_only() {
    let t = app().await;
    let clock: std::sync::Arc<dyn starling_common::Clock> =
        std::sync::Arc::new(starling_common::SystemClock);
    let file = t._dir.path().join("agent-enrollment");
    agents::ensure_enrollment(&t.db, &clock, Some(&file))
        .await
        .unwrap();
    let secret = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(secret.starts_with(agents::ENROLLMENT_PREFIX));
    t.added("worker-0", "worker", "08:00:27:00:00:0a").await;
    t.added("worker-1", "worker", "08:00:27:00:00:0b").await;
    let a = t.enroll(&secret, "worker-0", "08:00:27:00:00:0a").await;
    let b = t.enroll(&secret, "worker-1", "08:00:27:00:00:0b").await;
    assert!(a.starts_with(agents::CREDENTIAL_PREFIX) && a != b);

    // A reports, polls and registers for its own host.
    let report = |host: &str| format!("/v1/agent/{host}/report");
    let body: Value = serde_json::from_str(REPORT).unwrap();
    let (st, _, v) = t
        .call_as(&a, "PUT", &report("worker-0"), Some(body.clone()))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _, v) = t
        .call_as(&a, "GET", "/v1/agent/worker-0/command", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let uuid_a = t.get("/v1/ihosts/worker-0").await["uuid"].clone();
    let (st, given, v) = t.register_as(&a, "worker-0", "08:00:27:00:00:0a").await;
    assert_eq!((st, given, &v["uuid"]), (StatusCode::OK, None, &uuid_a));
    // ... by name or uuid alike.
    let by_uuid = report(uuid_a.as_str().unwrap());
    assert_eq!(
        t.call_as(&a, "PUT", &by_uuid, Some(body.clone())).await.0,
        StatusCode::OK
    );

    // Agent A cannot speak for host B, however it names it, nor for a host
    // that does not exist, nor register as B or as a new host.
    let uuid_b = t.get("/v1/ihosts/worker-1").await["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let before_b = t.get("/v1/ihosts/worker-1").await;
    for path in [
        report("worker-1"),
        report(&uuid_b),
        report("2"),
        report("worker-9"),
    ] {
        let (st, _, v) = t.call_as(&a, "PUT", &path, Some(body.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {v}");
    }
    let (st, _, _) = t
        .call_as(&a, "GET", "/v1/agent/worker-1/command", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = t
        .call_as(
            &a,
            "PUT",
            "/v1/agent/worker-1/command",
            Some(json!({"command": "reboot", "ok": true})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    for mac in ["08:00:27:00:00:0b", "08:00:27:00:00:0c"] {
        let (st, _, v) = t.register_as(&a, "intruder", mac).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{mac}: {v}");
    }
    assert_eq!(t.get("/v1/ihosts/worker-1").await, before_b, "B untouched");
    assert_eq!(
        t.get("/v1/ihosts").await["ihosts"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "nobody added"
    );

    // A host credential is for the agent's routes only.
    for (m, path, body) in [
        ("GET", "/v1/ihosts", None),
        ("GET", "/v1/ihosts/worker-0", None),
        ("GET", "/v1/isystems", None),
        (
            "PATCH",
            "/v1/ihosts/worker-0",
            Some(json!([{"op": "replace", "path": "/action", "value": "unlock"}])),
        ),
        ("DELETE", "/v1/ihosts/worker-1", None),
    ] {
        let (st, _, v) = t.call_as(&a, m, path, body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{m} {path}: {v}");
    }
    // The enrollment secret only enrolls.
    let (st, _, _) = t
        .call_as(&secret, "PUT", &report("worker-0"), Some(body.clone()))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = t.call_as(&secret, "GET", "/v1/ihosts", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // ... and once per host: it cannot take an enrolled host over.
    let (st, given, v) = t
        .register_as(&secret, "worker-0", "08:00:27:00:00:0a")
        .await;
    assert_eq!((st, given), (StatusCode::CONFLICT, None), "{v}");
    assert!(v.to_string().contains("already enrolled"), "{v}");
    // A stranger enrolls as a new, unprovisioned host.
    let c = t.enroll(&secret, "new-box", "08:00:27:00:00:0d").await;
    let (st, _, _) = t
        .call_as(&c, "GET", "/v1/agent/worker-0/command", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Made-up credentials and secrets are nobody's.
    for bad in [
        format!("{}{}", agents::CREDENTIAL_PREFIX, "0".repeat(64)),
        format!("{}{}", agents::ENROLLMENT_PREFIX, "0".repeat(64)),
    ] {
        let (st, _, _) = t
            .call_as(&bad, "PUT", &report("worker-0"), Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{bad}");
    }

    // A deleted host's credential is nobody's; added again, it enrolls anew.
    let (st, v) = t.call("DELETE", "/v1/ihosts/worker-1", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, _, _) = t
        .call_as(&b, "GET", "/v1/agent/worker-1/command", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    t.added("worker-1", "worker", "08:00:27:00:00:0b").await;
    let b2 = t.enroll(&secret, "worker-1", "08:00:27:00:00:0b").await;
    let (st, _, v) = t.call_as(&b2, "PUT", &report("worker-1"), Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
