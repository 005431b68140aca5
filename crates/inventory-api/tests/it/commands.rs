//! The agent command channel: a long poll that an action wakes, outcomes
//! that clear the task and are logged, and what is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;
use starling_http::OpenAccess;
use starling_inventory::SystemMode;
use starling_inventory_api::Paging;

use crate::{app, app_with, eventually, refused};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_poll_is_woken_by_the_action_and_the_outcome_is_logged() {
    let t = app_with(
        SystemMode::Duplex,
        true,
        Arc::new(OpenAccess),
        Paging::default(),
    )
    .await;
    let t = Arc::new(t);
    t.added("worker-0", "worker", "08:00:27:00:00:01").await;

    // Nothing pending: an immediate answer, or one after the wait.
    let (s, v) = t.call("GET", "/v1/agent/worker-0/command", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["command"], serde_json::Value::Null);

    // A poll waiting 30 s is answered as soon as the reboot is issued.
    let poller = {
        let t = t.clone();
        tokio::spawn(async move {
            let t0 = Instant::now();
            let r = t
                .call("GET", "/v1/agent/worker-0/command?wait=30", None)
                .await;
            (r, t0.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (s, h) = t.action("worker-0", "reboot").await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let ((s, v), took) = poller.await.unwrap();
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["command"], "reboot");
    assert_eq!(v["task"], "Rebooting");
    assert!(
        took < Duration::from_secs(20),
        "woken, not timed out: {took:?}"
    );

    // Only the pending command can be reported; then the task clears.
    refused(
        t.call(
            "PUT",
            "/v1/agent/worker-0/command",
            Some(r#"{"command": "reset", "ok": true}"#),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "has no 'reset' in progress",
    );
    let (s, v) = t
        .call(
            "PUT",
            "/v1/agent/worker-0/command",
            Some(r#"{"command": "reboot", "ok": true}"#),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["task"], serde_json::Value::Null);
    assert_eq!(
        t.get("/v1/ihosts/worker-0").await["task"],
        serde_json::Value::Null
    );

    // A failure is logged with the agent's reason.
    t.action("worker-0", "power-off").await;
    let (s, v) = t
        .call(
            "PUT",
            "/v1/agent/worker-0/command",
            Some(
                &json!({"command": "power-off", "ok": false, "message": "no BMC on this board"})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let fm = t.fm.as_ref().unwrap();
    eventually("the outcomes in the event log", || async {
        let logs = fm.logs().await;
        logs.iter()
            .any(|l| l == "200.022 worker-0 'reboot' completed")
            && logs
                .iter()
                .any(|l| l == "200.022 worker-0 'power-off' failed: no BMC on this board")
    })
    .await;
}

#[tokio::test]
async fn bad_polls_and_outcomes_are_refused() {
    let t = app().await;
    t.added("worker-0", "worker", "08:00:27:00:00:01").await;
    for (q, want) in [
        ("wait=61", "Invalid wait '61'"),
        ("wait=-1", "Invalid wait"),
        ("wait=soon", "Invalid wait"),
        ("timeout=5", "timeout"),
    ] {
        refused(
            t.call("GET", &format!("/v1/agent/worker-0/command?{q}"), None)
                .await,
            StatusCode::BAD_REQUEST,
            want,
        );
    }
    refused(
        t.call("GET", "/v1/agent/nobody/command", None).await,
        StatusCode::NOT_FOUND,
        "nobody",
    );
    let long = "x".repeat(2000);
    for (body, want) in [
        (
            r#"{"command": "explode", "ok": true}"#.to_string(),
            "Invalid command 'explode'",
        ),
        (r#"{"command": "reboot"}"#.to_string(), "ok"),
        (
            r#"{"command": "reboot", "ok": true, "extra": 1}"#.to_string(),
            "extra",
        ),
        (
            json!({"command": "reboot", "ok": false, "message": long}).to_string(),
            "at most 1024",
        ),
        (
            r#"{"command": "reboot", "ok": true}"#.to_string(),
            "has no 'reboot' in progress",
        ),
    ] {
        refused(
            t.call("PUT", "/v1/agent/worker-0/command", Some(&body))
                .await,
            StatusCode::BAD_REQUEST,
            want,
        );
    }
}
