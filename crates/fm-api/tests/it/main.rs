//! FM REST API tests through the whole router (guard, body limit, extractors) on
//! a real SQLite store. The storage semantics on every backend are covered by the
//! fm-store crate's conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use starling_common::{ManualClock, Timestamp};
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging, router};
use starling_http::{ApiError, Authenticator, BoxFuture, OpenAccess, Principal};
use starling_testkit::{self as testkit, TempDir, faultstring as fault};
use tower::ServiceExt;

struct TestApp {
    app: axum::Router,
    clock: ManualClock,
    state: FmState,
    _dir: TempDir,
}

async fn app_with(auth: Arc<dyn Authenticator>, paging: Paging) -> TestApp {
    let dir = TempDir::new("starling_api");
    let db = testkit::sqlite(&dir, "t.db", &[starling_fm_store::SCHEMA]).await;
    let clock = ManualClock::new(Timestamp::parse("2026-01-02T03:04:05").unwrap());
    let state = FmState {
        db,
        clock: Arc::new(clock.clone()),
        limits: Limits::default(),
        paging,
        written: Default::default(),
    };
    let entries = starling_fm::catalogue::parse(starling_fm::catalogue::BUILTIN).unwrap();
    starling_fm_api::sync_catalogue(&state, entries)
        .await
        .unwrap();
    TestApp {
        app: router(state.clone(), auth),
        clock,
        state,
        _dir: dir,
    }
}

async fn app() -> TestApp {
    app_with(Arc::new(OpenAccess), Paging::default()).await
}

impl TestApp {
    async fn call(&self, method: &str, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
        let req = testkit::request(method, uri).header("host", "fm.test:18002");
        let a = testkit::send(&self.app, req, body).await;
        (a.status, a.body)
    }
    async fn get(&self, uri: &str) -> Value {
        let (s, v) = self.call("GET", uri, None).await;
        assert_eq!(s, StatusCode::OK, "GET {uri}: {v}");
        v
    }
    async fn post(&self, body: Value) -> (StatusCode, Value) {
        self.call("POST", "/v1/alarms", Some(&body.to_string()))
            .await
    }
    async fn raise(&self, aid: &str, eid: &str, sev: &str) -> String {
        let (s, v) = self.post(alarm(aid, eid, sev)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["uuid"].as_str().unwrap().to_string()
    }
}

fn alarm(aid: &str, eid: &str, sev: &str) -> Value {
    json!({
        "alarm_id": aid, "alarm_state": "set", "entity_instance_id": eid,
        "severity": sev, "alarm_type": "operational-violation",
        "probable_cause": "threshold-crossed", "reason_text": format!("{aid} on {eid}"),
        "service_affecting": "False", "suppression": true,
    })
}

#[tokio::test]
async fn version_documents() {
    let t = app().await;
    let root = t.get("/").await;
    assert_eq!(root["default_version"]["id"], "v1");
    assert_eq!(
        root["versions"][0]["links"][0]["href"],
        "http://fm.test:18002/v1/"
    );
    let v1 = t.get("/v1").await;
    assert_eq!(v1["alarms"][0]["href"], "http://fm.test:18002/v1/alarms/");
    assert_eq!(v1["event_log"][1]["rel"], "bookmark");
    assert_eq!(t.get("/v1/").await, v1);
    let doc = t.get("/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
}

#[tokio::test]
async fn alarm_lifecycle_over_rest() {
    let t = app().await;
    let uuid = t.raise("100.101", "host=controller-0", "major").await;
    // Re-raise: same uuid (StarlingX changed it every time).
    assert_eq!(
        t.raise("100.101", "host=controller-0", "critical").await,
        uuid
    );

    let list = t.get("/v1/alarms").await;
    let a = &list["alarms"][0];
    assert_eq!(list["alarms"].as_array().unwrap().len(), 1);
    assert_eq!(a["uuid"], uuid);
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["mgmt_affecting"], "True");
    assert_eq!(a["degrade_affecting"], "True");
    assert_eq!(a["timestamp"], "2026-01-02T03:04:05.000000");
    assert!(a.get("alarm_type").is_none(), "brief form without expand");
    assert!(list.get("next").is_none());

    let full = t.get(&format!("/v1/alarms/{uuid}")).await;
    assert_eq!(full["alarm_state"], "set");
    assert_eq!(full["entity_type_id"], "host");
    assert_eq!(full["service_affecting"], false);
    assert_eq!(full["created_at"], "2026-01-02T03:04:05.000000+00:00");
    // Version-less paths behave like /v1.
    assert_eq!(t.get(&format!("/alarms/{uuid}")).await, full);
    // /v1/alarms/detail works (404 in StarlingX).
    let detail = t.get("/v1/alarms/detail").await;
    assert_eq!(detail["alarms"][0]["probable_cause"], "threshold-crossed");
    assert_eq!(
        detail["alarms"][0], full,
        "a listed alarm in full is its show"
    );
    assert_eq!(
        full["updated_at"].as_str().map(|u| u.ends_with("+00:00")),
        Some(true)
    );
    assert_eq!(t.get("/v1/alarms?expand=True").await, detail);

    let s = t.get("/v1/alarms/summary").await;
    assert_eq!(
        s,
        json!({"critical": 1, "major": 0, "minor": 0, "warnings": 0, "status": "critical"})
    );

    t.clock.advance_secs(60);
    let (st, v) = t.call("DELETE", &format!("/v1/alarms/{uuid}"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, v) = t.call("GET", &format!("/v1/alarms/{uuid}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(fault(&v).contains(&uuid));
    let (st, _) = t.call("DELETE", &format!("/v1/alarms/{uuid}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // History: set, set, clear — newest first, the clear at the delete time.
    let ev = t.get("/v1/event_log").await;
    let states: Vec<&str> = ev["event_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["clear", "set", "set"]);
    assert_eq!(
        ev["event_log"][0]["timestamp"],
        "2026-01-02T03:05:05.000000"
    );
    // The clear record keeps the severity that went away, as StarlingX's.
    assert_eq!(ev["event_log"][0]["severity"], "critical");
    let one = ev["event_log"][0]["uuid"].as_str().unwrap();
    let shown = t.get(&format!("/v1/event_log/{one}")).await;
    assert_eq!(shown["event_log_type"], "operational-violation");
}

#[tokio::test]
async fn post_clear_and_log_states() {
    let t = app().await;
    t.raise("100.106", "host=c.port=eth0", "major").await;
    t.raise("100.106", "host=c1.port=eth0", "major").await;
    let (s, v) = t
        .post(
            json!({"alarm_id": "100.106", "alarm_state": "clear", "entity_instance_id": "host=c"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let left = t.get("/v1/alarms").await;
    assert_eq!(
        left["alarms"][0]["entity_instance_id"], "host=c1.port=eth0",
        "boundary kept"
    );
    let (s, v) = t
        .post(json!({"alarm_id": "100.106", "alarm_state": "clear", "entity_instance_id": "host=nothing"}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    let (s, v) = t
        .post(
            json!({"alarm_id": "200.021", "alarm_state": "msg", "entity_instance_id": "host=c",
                     "severity": "warning", "alarm_type": "other", "probable_cause": "unknown",
                     "reason_text": "rebooted by operator"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let logs = t.get("/v1/event_log?logs=True").await;
    assert_eq!(logs["event_log"].as_array().unwrap().len(), 1);
    assert_eq!(logs["event_log"][0]["state"], "log");
    let alarms_only = t.get("/v1/event_log?alarms=true&expand=true").await;
    assert!(
        alarms_only["event_log"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["state"] != "log")
    );
    assert!(alarms_only["event_log"][0].get("probable_cause").is_some());
}

#[tokio::test]
async fn filters_are_exact_and_survive_paging() {
    let t = app().await;
    for i in 0..7 {
        t.raise("100.101", &format!("host=h{i}"), "major").await;
        t.raise("100.103", &format!("host=h{i}.memory=m"), "minor")
            .await;
    }
    // 100.1 must not match 100.101 / 100.103 (StarlingX used substring LIKE).
    let none = t
        .get("/v1/alarms?q.field=alarm_id&q.op=eq&q.type=&q.value=100.1")
        .await;
    assert!(none["alarms"].as_array().unwrap().is_empty());
    // The exact request StarlingX's fm CLI sends.
    let r = t
        .get("/v1/alarms?q.field=severity&q.field=alarm_id&q.op=eq&q.op=eq&q.type=&q.type=&q.value=minor&q.value=100.103&include_suppress=True")
        .await;
    assert_eq!(r["alarms"].as_array().unwrap().len(), 7);

    let mut uri = "/v1/alarms?q.field=alarm_id&q.op=eq&q.value=100.101&limit=3".to_string();
    let mut seen = Vec::new();
    loop {
        let page = t.get(&uri).await;
        let items = page["alarms"].as_array().unwrap();
        assert!(
            items.iter().all(|a| a["alarm_id"] == "100.101"),
            "filter kept on {uri}"
        );
        seen.extend(
            items
                .iter()
                .map(|a| a["entity_instance_id"].as_str().unwrap().to_string()),
        );
        match page.get("next").and_then(Value::as_str) {
            Some(n) => uri = n.strip_prefix("http://fm.test:18002").unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..7).map(|i| format!("host=h{i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn suppression_over_rest() {
    let t = app().await;
    t.raise("100.101", "host=a", "major").await;
    let list = t
        .get("/v1/event_suppression?q.field=alarm_id&q.op=eq&q.value=100.101")
        .await;
    let row = &list["event_suppression"][0];
    assert_eq!(row["suppression_status"], "unsuppressed");
    let uuid = row["uuid"].as_str().unwrap();
    assert_eq!(
        row["links"][0]["href"],
        format!("http://fm.test:18002/v1/event_suppression/{uuid}")
    );

    let patch = r#"[{"op": "replace", "path": "/suppression_status", "value": "suppressed"}]"#;
    let (s, v) = t
        .call(
            "PATCH",
            &format!("/v1/event_suppression/{uuid}"),
            Some(patch),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["suppression_status"], "suppressed");
    assert!(v.get("created_at").is_some());

    assert!(
        t.get("/v1/alarms").await["alarms"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let inc = t.get("/v1/alarms?include_suppress=True").await;
    assert_eq!(inc["alarms"][0]["suppression_status"], "suppressed");
    assert_eq!(t.get("/v1/alarms/summary").await["major"], 0);
    assert_eq!(
        t.get("/v1/alarms/summary?include_suppress=true").await["major"],
        1
    );

    let suppressed = t
        .get("/v1/event_suppression?q.field=suppression_status&q.op=eq&q.value=suppressed")
        .await;
    assert_eq!(suppressed["event_suppression"].as_array().unwrap().len(), 1);

    for (body, expect) in [
        (
            r#"[{"op": "replace", "path": "/alarm_id", "value": "1"}]"#,
            "alarm_id is not allowed",
        ),
        (
            r#"[{"op": "replace", "path": "/suppression_status", "value": "maybe"}]"#,
            "suppression_status values",
        ),
        (
            r#"[{"op": "replace", "path": "/bogus", "value": "x"}]"#,
            "invalid parameter",
        ),
        (
            r#"[{"op": "remove", "path": "/suppression_status"}]"#,
            "Unsupported patch operation",
        ),
        (r#"[]"#, "empty"),
        (r#"{"op": "replace"}"#, "Invalid JSON body"),
    ] {
        let (s, v) = t
            .call(
                "PATCH",
                &format!("/v1/event_suppression/{uuid}"),
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert!(fault(&v).contains(expect), "{body}: {}", fault(&v));
    }
}

#[tokio::test]
async fn put_updates_by_uuid_and_keeps_identity() {
    let t = app().await;
    let uuid = t.raise("100.101", "host=a", "major").await;
    let mut body = alarm("100.101", "host=a", "minor");
    body["reason_text"] = json!("better now");
    let (s, v) = t
        .call(
            "PUT",
            &format!("/v1/alarms/{uuid}"),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["uuid"], uuid);
    assert_eq!(
        t.get(&format!("/v1/alarms/{uuid}")).await["reason_text"],
        "better now"
    );
    let other = alarm("100.101", "host=b", "minor");
    let (s, v) = t
        .call(
            "PUT",
            &format!("/v1/alarms/{uuid}"),
            Some(&other.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(fault(&v).contains("cannot be changed"));
    let (s, _) = t
        .call(
            "PUT",
            "/v1/alarms/00000000-0000-0000-0000-000000000000",
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_writes_nothing() {
    let t = app().await;
    let cases: Vec<(&str, &str, String, &str)> = vec![
        (
            "POST",
            "/v1/alarms",
            "{not json".into(),
            "Invalid JSON body",
        ),
        ("POST", "/v1/alarms", "".into(), "empty"),
        (
            "POST",
            "/v1/alarms",
            json!({"alarm_id": "100.101"}).to_string(),
            "alarm_state",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["colour"] = json!("red");
                a.to_string()
            },
            "unknown field",
        ),
        (
            "POST",
            "/v1/alarms",
            alarm("100.101", "host=a", "huge").to_string(),
            "severity",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["alarm_state"] = json!("raise");
                a.to_string()
            },
            "alarm_state",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["alarm_type"] = json!("weird");
                a.to_string()
            },
            "alarm_type",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["probable_cause"] = json!("gremlins");
                a.to_string()
            },
            "probable_cause",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["timestamp"] = json!("not a date");
                a.to_string()
            },
            "Invalid date",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["service_affecting"] = json!("perhaps");
                a.to_string()
            },
            "invalid boolean",
        ),
        (
            "POST",
            "/v1/alarms",
            {
                let mut a = alarm("100.101", "host=a", "major");
                a["reason_text"] = json!("x".repeat(5000));
                a.to_string()
            },
            "longer than",
        ),
        (
            "POST",
            "/v1/alarms",
            json!([1, 2]).to_string(),
            "Invalid JSON body",
        ),
        (
            "GET",
            "/v1/alarms?limit=-1",
            String::new(),
            "Limit must be positive",
        ),
        (
            "GET",
            "/v1/alarms?limit=ten",
            String::new(),
            "Invalid limit",
        ),
        (
            "GET",
            "/v1/alarms?sort_dir=up",
            String::new(),
            "sort direction",
        ),
        (
            "GET",
            "/v1/alarms?sort_key=colour",
            String::new(),
            "Invalid sort key",
        ),
        (
            "GET",
            "/v1/alarms?q.field=colour&q.op=eq&q.value=red",
            String::new(),
            "Unknown filter field",
        ),
        (
            "GET",
            "/v1/alarms?q.field=severity&q.op=ne&q.value=major",
            String::new(),
            "only eq",
        ),
        (
            "GET",
            "/v1/alarms?q.field=severity&q.value=major&q.value=minor",
            String::new(),
            "same number",
        ),
        (
            "GET",
            "/v1/alarms?include_suppress=perhaps",
            String::new(),
            "include_suppress",
        ),
        (
            "GET",
            "/v1/alarms?bogus=1",
            String::new(),
            "Unknown query parameter",
        ),
        (
            "GET",
            "/v1/alarms?marker=nope",
            String::new(),
            "Invalid marker",
        ),
        (
            "GET",
            "/v1/alarms?marker=00000000-0000-0000-0000-000000000000",
            String::new(),
            "Invalid marker",
        ),
        (
            "GET",
            "/v1/event_log?q.field=start&q.op=eq&q.value=yesterday",
            String::new(),
            "Invalid date 'yesterday' specified",
        ),
        (
            "GET",
            "/v1/event_log?q.field=start&q.field=end&q.op=eq&q.op=eq&q.value=2026-02-01&q.value=2026-01-01",
            String::new(),
            "start must not be after end",
        ),
    ];
    for (method, uri, body, expect) in cases {
        let (s, v) = t
            .call(method, uri, (!body.is_empty()).then_some(body.as_str()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{method} {uri} {body}: {v}");
        assert!(
            fault(&v).contains(expect),
            "{method} {uri}: {:?} should contain {expect:?}",
            fault(&v)
        );
    }
    let big = format!("{{\"reason_text\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (s, v) = t.call("POST", "/v1/alarms", Some(&big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(
        t.get("/v1/alarms").await["alarms"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        t.get("/v1/event_log").await["event_log"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (s, v) = t.call("GET", "/v1/nowhere", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(fault(&v).contains("could not be found"));
    let (s, _) = t.call("GET", "/v1/alarms/not-a-uuid", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn event_log_time_window_and_entity_filter() {
    let t = app().await;
    for i in 0..5 {
        t.raise(
            "100.101",
            "host=x",
            if i % 2 == 0 { "major" } else { "minor" },
        )
        .await;
        t.raise(
            "100.101",
            "host=y",
            if i % 2 == 0 { "major" } else { "minor" },
        )
        .await;
        t.clock.advance_secs(3600);
    }
    let v = t
        .get("/v1/event_log?q.field=entity_instance_id&q.field=start&q.field=end&q.op=eq&q.op=eq&q.op=eq&q.value=host%3Dx&q.value=2026-01-02T04:00:00&q.value=20260102%2006:30:00&limit=20")
        .await;
    let items = v["event_log"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|e| e["entity_instance_id"] == "host=x"));
    assert_eq!(items[0]["timestamp"], "2026-01-02T06:04:05.000000");
}

#[tokio::test]
async fn limits_default_and_cap() {
    let t = app_with(
        Arc::new(OpenAccess),
        Paging {
            default_limit: 2,
            max_limit: 3,
        },
    )
    .await;
    for i in 0..5 {
        t.raise("100.101", &format!("host=h{i}"), "major").await;
    }
    let p = t.get("/v1/alarms").await;
    assert_eq!(p["alarms"].as_array().unwrap().len(), 2);
    assert!(p["next"].as_str().unwrap().contains("limit=2"));
    let p = t.get("/v1/alarms?limit=100").await;
    assert_eq!(
        p["alarms"].as_array().unwrap().len(),
        3,
        "capped at max_limit, with a next link"
    );
    assert!(p.get("next").is_some());
    let p = t.get("/v1/alarms?limit=0").await;
    assert_eq!(p["alarms"].as_array().unwrap().len(), 2);
}

/// An authenticator that knows one token and one policy rule, to prove every
/// route passes the guard with the right policy name.
struct OneToken;
impl Authenticator for OneToken {
    fn authorize<'a>(
        &'a self,
        headers: &'a HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        Box::pin(std::future::ready(
            Self::decide(headers, policy).map(Arc::new),
        ))
    }
}
impl OneToken {
    fn decide(headers: &HeaderMap, policy: &str) -> Result<Principal, ApiError> {
        match headers.get("x-auth-token").and_then(|v| v.to_str().ok()) {
            Some("reader") if policy.ends_with(":get") => Ok(Principal {
                user_id: "r1".into(),
                user: "r".into(),
                project: "admin".into(),
                project_domain_id: "default".into(),
                roles: vec!["reader".into()],
                agent: None,
            }),
            Some("reader") => Err(ApiError::forbidden(format!("policy {policy} refused"))),
            _ => Err(ApiError::unauthorized("Authentication required")),
        }
    }
}

#[tokio::test]
async fn every_route_passes_the_guard() {
    let t = app_with(Arc::new(OneToken), Paging::default()).await;
    let (s, v) = t.call("GET", "/v1/alarms", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(fault(&v).contains("Authentication"));
    let (s, _) = t.call("GET", "/", None).await;
    assert_eq!(s, StatusCode::OK, "version document is anonymous");
    let (s, _) = t.call("GET", "/health", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = t.call("GET", "/openapi.json", None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "only version documents and health are open"
    );

    let call = |method: &'static str, uri: &'static str, body: Option<&'static str>| {
        let app = t.app.clone();
        async move {
            let req = Request::builder()
                .method(method)
                .uri(uri)
                .header("x-auth-token", "reader")
                .body(body.map_or_else(Body::empty, Body::from))
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(call("GET", "/v1/alarms", None).await, StatusCode::OK);
    assert_eq!(call("GET", "/v1/event_log", None).await, StatusCode::OK);
    assert_eq!(
        call("GET", "/v1/event_suppression", None).await,
        StatusCode::OK
    );
    assert_eq!(
        call("POST", "/v1/alarms", Some("{}")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            "DELETE",
            "/v1/alarms/00000000-0000-0000-0000-000000000000",
            None
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            "PATCH",
            "/v1/event_suppression/00000000-0000-0000-0000-000000000000",
            Some("[]")
        )
        .await,
        StatusCode::FORBIDDEN
    );
}

/// The served document is the generated one, and it names exactly the
/// routes: every route of the table is an operation of the document and
/// every operation is routed (neither the router's fallback nor 405).
#[tokio::test]
async fn the_document_is_generated_and_names_exactly_the_routes() {
    use starling_http::openapi::{check_snapshot, dangling_refs, operations, route_operations};
    let doc = starling_fm_api::openapi::generate();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if let Err(e) = check_snapshot(&doc, file, starling_fm_api::openapi::DOCUMENT) {
        panic!("{e}");
    }
    assert_eq!(operations(&doc), route_operations(starling_fm_api::ROUTES));
    assert_eq!(dangling_refs(&doc), Vec::<String>::new());
    // Nullable fields say so.
    let updated = &doc["components"]["schemas"]["Alarm"]["properties"]["updated_at"];
    assert_eq!(
        updated["type"],
        serde_json::json!(["string", "null"]),
        "{updated}"
    );
    let t = app().await;
    let uuid = "00000000-0000-4000-8000-000000000000";
    testkit::assert_routed(&t.app, &operations(&doc), &[("{uuid}", uuid)]).await;
    // And the server serves it.
    let served = t.get("/openapi.json").await;
    assert_eq!(served, doc);
}

#[tokio::test]
async fn starling_extensions_batch_hierarchical_clear_and_within() {
    let t = app().await;
    let batch = json!({"alarms": [
        alarm("100.101", "host=c0", "major"),
        alarm("100.106", "host=c0.port=eth0", "major"),
        alarm("100.106", "host=c01.port=eth0", "major"),
        {"alarm_id": "100.114", "alarm_state": "clear", "entity_instance_id": "host=c0"},
    ]});
    let (s, v) = t
        .call("POST", "/v1/alarms/batch", Some(&batch.to_string()))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let results: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, vec!["created", "created", "created", "not-found"]);

    let within = t.get("/v1/alarms?within=host%3Dc0").await;
    assert_eq!(within["alarms"].as_array().unwrap().len(), 2);

    // A bad entry rejects the whole batch, naming it.
    let bad = json!({"alarms": [alarm("100.101", "host=z", "major"), alarm("100.101", "host=z2", "loud")]});
    let (s, v) = t
        .call("POST", "/v1/alarms/batch", Some(&bad.to_string()))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(fault(&v).starts_with("entry 1"), "{}", fault(&v));
    assert_eq!(
        t.get("/v1/alarms").await["alarms"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (s, _) = t
        .call("POST", "/v1/alarms/batch", Some(r#"{"alarms": []}"#))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, v) = t
        .call("DELETE", "/v1/alarms?entity_instance_id=host%3Dc0", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["cleared"], 2);
    let left = t.get("/v1/alarms").await;
    assert_eq!(
        left["alarms"][0]["entity_instance_id"],
        "host=c01.port=eth0"
    );
    let ev = t.get("/v1/event_log?limit=1").await;
    assert_eq!(
        ev["event_log"][0]["reason_text"],
        "System initiated hierarchical alarm clear"
    );
    let (s, _) = t.call("DELETE", "/v1/alarms", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// A list larger than one chunk leaves in pieces while rows are still being
/// read (no Content-Length): every alarm arrives once, the JSON is whole, and
/// its paging link continues where it stopped. A page that fits one chunk is
/// answered whole, with its length.
#[tokio::test]
async fn long_lists_stream_in_chunks_and_stay_whole() {
    let t = app().await;
    let total = 1500;
    for b in 0..total / 100 {
        let batch: Vec<Value> = (0..100)
            .map(|k| alarm("100.101", &format!("host=compute-{}", b * 100 + k), "major"))
            .collect();
        let (s, v) = t
            .call(
                "POST",
                "/v1/alarms/batch",
                Some(&json!({ "alarms": batch }).to_string()),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let raw = |uri: &str| {
        let req = Request::builder()
            .uri(uri)
            .header("host", "fm.test:18002")
            .body(Body::empty())
            .unwrap();
        let app = t.app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes();
            (parts, bytes)
        }
    };
    let uuids = |v: &Value| -> Vec<String> {
        v["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["uuid"].as_str().unwrap().to_string())
            .collect()
    };

    let (parts, bytes) = raw(&format!("/v1/alarms?limit={total}")).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert!(
        bytes.len() > starling_http::stream::CHUNK_BYTES,
        "the list must span chunks to test streaming ({} bytes)",
        bytes.len()
    );
    assert!(
        parts.headers.get("content-length").is_none(),
        "a body longer than a chunk is streamed"
    );
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let mut all = uuids(&v);
    assert_eq!(all.len(), total);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "every alarm exactly once");

    // Paged: the first page streams, its link leads on to the rest.
    let first = t.get("/v1/alarms?limit=900").await;
    let next = first["next"].as_str().expect("a full page links on");
    let path = next.trim_start_matches("http://fm.test:18002");
    let second = t.get(path).await;
    let mut paged = uuids(&first);
    paged.extend(uuids(&second));
    paged.sort();
    assert_eq!(paged, all, "the two pages hold every alarm once");

    let (parts, bytes) = raw("/v1/alarms?limit=5").await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(
        parts
            .headers
            .get("content-length")
            .map(|v| v.to_str().unwrap().to_string()),
        Some(bytes.len().to_string()),
        "a page that fits one chunk is answered whole"
    );
}

/// The all-in-one's alarm sink: other services' effects applied to FM's store
/// as if posted, with the definition's fields; bad definitions are refused
/// whole.
#[tokio::test]
async fn other_services_alarm_effects_are_applied_in_process() {
    use starling_common::alarm::{AlarmDef, AlarmEffect, AlarmSink};
    static LOCKED: AlarmDef = AlarmDef {
        id: "200.001",
        entity_type: "host",
        severity: "warning",
        alarm_type: "operational-violation",
        probable_cause: "out-of-service",
        repair: "Unlock it.",
        service_affecting: false,
        suppression: true,
    };
    static LOG: AlarmDef = AlarmDef {
        id: "200.021",
        severity: "not-applicable",
        probable_cause: "unspecified-reason",
        repair: "",
        suppression: false,
        ..LOCKED
    };
    static BAD: AlarmDef = AlarmDef {
        severity: "dreadful",
        ..LOCKED
    };
    let t = app().await;
    let sink = starling_fm_api::LocalAlarms::new(t.state.clone());
    for h in ["compute-0", "compute-1"] {
        sink.send(AlarmEffect::Set(
            LOCKED.at(format!("host={h}"), format!("{h} is locked")),
        ))
        .await
        .unwrap();
    }
    let list = t.get("/v1/alarms").await;
    assert_eq!(list["alarms"].as_array().unwrap().len(), 2, "{list}");
    let uuid = list["alarms"][0]["uuid"].as_str().unwrap().to_string();
    let one = t.get(&format!("/v1/alarms/{uuid}")).await;
    assert_eq!(one["alarm_id"], "200.001");
    assert_eq!(one["entity_type_id"], "host");
    assert_eq!(one["severity"], "warning");
    assert_eq!(one["probable_cause"], "out-of-service");
    assert_eq!(one["proposed_repair_action"], "Unlock it.");

    sink.send(AlarmEffect::Log(
        LOG.at("host=compute-0", "compute-0 'add' request"),
    ))
    .await
    .unwrap();
    let ev = t.get("/v1/event_log?logs=True").await;
    assert!(
        ev["event_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_log_id"] == "200.021" && e["state"] == "log"),
        "{ev}"
    );

    let e = sink
        .send(AlarmEffect::Set(BAD.at("host=compute-2", "nope")))
        .await
        .unwrap_err();
    assert!(e.contains("dreadful"), "{e}");

    sink.send(AlarmEffect::Clear {
        alarm_id: "200.001",
        entity_instance_id: "host=compute-0".into(),
    })
    .await
    .unwrap();
    sink.send(AlarmEffect::ClearAll {
        entity_instance_id: "host=compute-1".into(),
    })
    .await
    .unwrap();
    let list = t.get("/v1/alarms").await;
    assert_eq!(list["alarms"], json!([]), "{list}");
}

/// A method a path does not have is 405 naming the ones it has (OPTIONS
/// and TRACE too), not a 403 that reads as a missing permission; a path
/// that does not exist stays 404.
#[tokio::test]
async fn a_method_the_path_lacks_is_405_with_allow() {
    let t = app().await;
    for (m, path, allow) in [
        ("PUT", "/v1/alarms", "GET, HEAD, POST, DELETE"),
        ("OPTIONS", "/v1/alarms", "GET, HEAD, POST, DELETE"),
        ("TRACE", "/v1/alarms/summary", "GET, HEAD"),
        (
            "POST",
            "/v1/event_suppression/00000000-0000-4000-8000-000000000000",
            "GET, HEAD, PATCH",
        ),
        ("DELETE", "/alarms/summary", "GET, HEAD"),
    ] {
        let a = testkit::send(&t.app, testkit::request(m, path), None).await;
        assert_eq!(
            a.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{m} {path}: {:?}",
            a.body
        );
        assert_eq!(a.header("allow").as_deref(), Some(allow), "{m} {path}");
        assert!(fault(&a.body).contains("is not allowed"), "{:?}", a.body);
    }
    let a = testkit::send(&t.app, testkit::request("PUT", "/v1/nothing"), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}
