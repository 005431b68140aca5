//! Traps to a real `snmptrapd` (Debian package snmptrapd) started by the test on a
//! loopback port. Without snmptrapd the test says SKIPPED, unless CI=true, where
//! it fails (CI installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use starling_common::SystemClock;
use starling_db::{Db, Tuning};
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging};
use starling_fm_snmp::{Deliverer, Destination, TrapConfig};
use starling_http::OpenAccess;
use tower::ServiceExt;

struct Trapd {
    child: Child,
    out: std::path::PathBuf,
}

impl Drop for Trapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn snmptrapd() -> Option<std::path::PathBuf> {
    ["/usr/sbin/snmptrapd", "/usr/bin/snmptrapd"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

fn start_trapd(dir: &std::path::Path, port: u16) -> Option<Trapd> {
    let Some(bin) = snmptrapd() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("snmptrapd is required in CI (apt-get install snmptrapd)");
        }
        eprintln!("SKIPPED snmp trap test: snmptrapd not installed (apt-get install snmptrapd)");
        return None;
    };
    std::fs::create_dir_all(dir).unwrap();
    let conf = dir.join("snmptrapd.conf");
    std::fs::write(&conf, "disableAuthorization yes\n").unwrap();
    let out = dir.join("traps.log");
    let log = std::fs::File::create(&out).unwrap();
    let child = Command::new(bin)
        .args(["-f", "-Lo", "-n", "-On", "-m", "", "-C", "-c"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("pid"))
        .arg(format!("udp:127.0.0.1:{port}"))
        .env("SNMP_PERSISTENT_DIR", dir)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let t = Trapd { child, out };
    assert!(
        wait_for(&t, &["NET-SNMP version"]),
        "snmptrapd did not start: {}",
        read(&t)
    );
    Some(t)
}

fn read(t: &Trapd) -> String {
    std::fs::read_to_string(&t.out).unwrap_or_default()
}

fn wait_for(t: &Trapd, needles: &[&str]) -> bool {
    for _ in 0..200 {
        let s = read(t);
        if needles.iter().all(|n| s.contains(n)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: &str) -> serde_json::Value {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert!(
        resp.status().is_success(),
        "{method} {uri}: {}",
        resp.status()
    );
    let b = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_reach_a_real_snmptrapd() {
    let dir = std::env::temp_dir().join(format!("starling_snmp_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_udp_port();
    let Some(trapd) = start_trapd(&dir, port) else {
        return;
    };

    let db = Db::open(
        &format!("sqlite://{}/fm.db", dir.display()),
        Tuning::default(),
        &[starling_fm_store::SCHEMA],
    )
    .await
    .unwrap();
    let st = FmState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        limits: Limits {
            notifications: true,
            ..Limits::default()
        },
        paging: Paging::default(),
        written: Default::default(),
    };
    let entries = starling_fm::catalogue::parse(starling_fm::catalogue::BUILTIN).unwrap();
    starling_fm_api::sync_catalogue(&st, entries).await.unwrap();
    let cfg = TrapConfig {
        destinations: vec![Destination::parse(&format!("127.0.0.1:{port}/public")).unwrap()],
        system_name: Some("edge1".into()),
        region_name: None,
        warm_start_interval: Duration::from_secs(30),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let deliverer = Deliverer::new(db.clone(), cfg, st.written.clone());
    let task = tokio::spawn(deliverer.run(async {
        let _ = stopped.await;
    }));
    let app = starling_fm_api::router(st, Arc::new(OpenAccess));

    let set = r#"{"alarm_id": "100.101", "alarm_state": "set", "entity_instance_id": "host=controller-0",
        "severity": "major", "alarm_type": "operational-violation", "probable_cause": "threshold-crossed",
        "reason_text": "Platform CPU threshold exceeded", "suppression": true}"#;
    call(&app, "POST", "/v1/alarms", set).await;
    call(&app, "POST", "/v1/alarms", set).await; // unchanged: no second trap
    call(&app, "POST", "/v1/alarms", r#"{"alarm_id": "100.101", "alarm_state": "clear", "entity_instance_id": "host=controller-0"}"#).await;
    call(&app, "POST", "/v1/alarms", r#"{"alarm_id": "200.021", "alarm_state": "msg", "entity_instance_id": "host=controller-0",
        "severity": "warning", "alarm_type": "other", "probable_cause": "unknown", "reason_text": "reboot requested"}"#).await;
    call(
        &app,
        "POST",
        "/v1/alarms",
        &set.replace("controller-0", "controller-1"),
    )
    .await;
    call(
        &app,
        "DELETE",
        "/v1/alarms?entity_instance_id=host%3Dcontroller-1",
        "",
    )
    .await;

    let major = ".1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.4.1.731.1.1.1.1.0.2";
    assert!(
        wait_for(
            &trapd,
            &[
                major,
                ".1.3.6.1.4.1.731.1.1.1.1.1.1.3 = STRING: \"100.101\"",
                ".1.3.6.1.4.1.731.1.1.1.1.1.1.4 = STRING: \"system=edge1.host=controller-0\"",
                ".1.3.6.1.4.1.731.1.1.1.1.1.1.6 = INTEGER: 3",
                ".1.3.6.1.4.1.731.1.1.1.1.1.1.9 = INTEGER: 50",
                "OID: .1.3.6.1.4.1.731.1.1.1.1.0.9",
                "OID: .1.3.6.1.4.1.731.1.1.1.1.0.5",
                ".1.3.6.1.4.1.731.1.1.1.1.4.1.8 = STRING: \"reboot requested\"",
                "OID: .1.3.6.1.4.1.731.1.1.1.1.0.99",
                "System initiated hierarchical alarm clear",
            ]
        ),
        "missing traps:\n{}",
        read(&trapd)
    );
    let log = read(&trapd);
    assert_eq!(
        log.matches(major).count(),
        2,
        "one per raise, none for the unchanged re-set:\n{log}"
    );

    // Suppressed ids send nothing; the suppression change sends one warmStart.
    let list = call(
        &app,
        "GET",
        "/v1/event_suppression?q.field=alarm_id&q.op=eq&q.value=100.103",
        "",
    )
    .await;
    let uuid = list["event_suppression"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &app,
        "PATCH",
        &format!("/v1/event_suppression/{uuid}"),
        r#"[{"op": "replace", "path": "/suppression_status", "value": "suppressed"}]"#,
    )
    .await;
    call(
        &app,
        "POST",
        "/v1/alarms",
        &set.replace("100.101", "100.103")
            .replace("controller-0", "c9"),
    )
    .await;
    assert!(
        wait_for(&trapd, &["OID: .1.3.6.1.6.3.1.1.5.2"]),
        "no warmStart:\n{}",
        read(&trapd)
    );
    // Let the deliverer pass once more over anything it could still send.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !read(&trapd).contains("host=c9"),
        "suppressed alarm was trapped"
    );
    let left = db
        .read(|c| starling_fm::repo::FaultRepo::outbox(&mut starling_fm_store::FmRepo::new(c), 10))
        .await
        .unwrap();
    assert!(left.is_empty(), "outbox drained: {left:?}");

    let _ = stop.send(());
    task.await.unwrap();
    if std::env::var("STARLING_KEEP_TRAPS").is_ok() {
        eprintln!("{}", read(&trapd));
    }
    drop(trapd);
    let _ = std::fs::remove_dir_all(&dir);
}
