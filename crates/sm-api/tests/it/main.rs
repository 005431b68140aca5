//! `starlingd sm` alone, in process, with real executors: two services
//! run by an LSB script (`exec`), the API a real process SM starts and
//! stops itself (`process`, a Python HTTP server it waits for). The
//! groups go active in dependency order, sm-api answers with sysinv's
//! shapes, a killed process is found by its audit and restarted, killed
//! again within the countdown it is failed and its group with it, and a
//! stop takes everything down in the reverse order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use starling_common::alarm::{AlarmEffect, AlarmSink, SinkFuture};
use starling_db::Db;
use starling_sm_api as sm;
use starling_sm_store as store;
use starling_testkit::{TempDir, free_port};

const SCRIPT: &str = r#"#!/bin/sh
# An LSB script over a flag file: start makes it, stop removes it.
case "$1" in
start) echo "start $SM_NAME" >> "$SM_LOG"; touch "$SM_FLAG" ;;
stop) echo "stop $SM_NAME" >> "$SM_LOG"; rm -f "$SM_FLAG" ;;
status) [ -e "$SM_FLAG" ] && exit 0; exit 3 ;;
*) exit 2 ;;
esac
"#;

fn write(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn python() -> Option<PathBuf> {
    sm::exec::which("python3")
}

struct Rig {
    alarms: std::sync::Arc<Recorder>,
    dir: TempDir,
    url: String,
    api: String,
    api_port: u16,
    log: PathBuf,
}

async fn rig() -> (Rig, Db) {
    let dir = TempDir::new("sm-api");
    let d = dir.path().to_path_buf();
    let url = format!("sqlite://{}", d.join("sm.db").display());
    let db = sm::open(&url).await.unwrap();
    let script = d.join("flag.sh");
    write(&script, SCRIPT, 0o755);
    let log = d.join("log");
    let api_port = free_port();
    let api = d.join("api.sh");
    write(
        &api,
        &format!(
            "#!/bin/sh\necho \"start api\" >> {log}\nexec {py} -m http.server --bind 127.0.0.1 {api_port}\n",
            log = log.display(),
            py = python().unwrap().display(),
        ),
        0o755,
    );
    let (s, l) = (script.display().to_string(), log.display().to_string());
    let (api_cmd, dd) = (api.display().to_string(), d.clone());
    db.write(move |c| {
        for svc in ["management-ip", "oam-ip"] {
            store::set_plugin(c, svc, "exec", &s)?;
            store::set_instance(
                c,
                svc,
                &[
                    ("name".into(), svc.into()),
                    ("flag".into(), dd.join(svc).display().to_string()),
                    ("log".into(), l.clone()),
                ],
            )?;
        }
        store::set_plugin(c, "starling-api", "process", "starling-api")?;
        store::set_instance(
            c,
            "starling-api",
            &[
                ("command".into(), api_cmd.clone()),
                ("ready".into(), format!("127.0.0.1:{api_port}")),
            ],
        )?;
        // Audits every second, so the test need not wait five.
        c.exec(
            "UPDATE sm_action SET interval_s = 1 WHERE interval_s > 0",
            &[],
        )?;
        // The API's stop: a second to go on SIGTERM.
        c.exec(
            "UPDATE sm_action SET timeout_s = 5 WHERE service = 'starling-api'",
            &[],
        )?;
        Ok::<_, starling_common::Error>(())
    })
    .await
    .unwrap();
    let port = free_port();
    (
        Rig {
            alarms: Default::default(),
            dir,
            url,
            api: format!("http://127.0.0.1:{port}"),
            api_port,
            log,
        },
        db,
    )
}

/// The management and cluster-host paths to the peer over loopback, each
/// (own port, peer's port).
fn loopback_paths(
    c: &mut dyn starling_db::Conn,
    paths: [(u16, u16); 2],
) -> Result<(), starling_common::Error> {
    for (iface, (mine, theirs)) in ["management-interface", "cluster-host-interface"]
        .into_iter()
        .zip(paths)
    {
        store::set_interface(
            c,
            iface,
            &store::InterfaceConfig {
                device: "lo".into(),
                address: "127.0.0.1".into(),
                port: mine,
                peer_address: "127.0.0.1".into(),
                peer_port: theirs,
            },
        )?;
    }
    Ok(())
}

fn config(r: &Rig) -> sm::Config {
    sm::Config {
        node: "controller-0".into(),
        database_url: r.url.clone(),
        run_dir: r.dir.path().join("run"),
        listen: r.api.trim_start_matches("http://").parse().unwrap(),
        tick: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(20),
        key_file: r.dir.path().join("sm.key"),
        bmc_password_file: r.dir.path().join("bmc-password"),
        heartbeat_key_file: r.dir.path().join("heartbeat-key"),
        witness_port: 2106,
        alarms: Some(r.alarms.clone()),
        // Every caller an admin: the guard's policy is the identity
        // service's to check, tested there.
        auth: Some(std::sync::Arc::new(starling_http::OpenAccess)),
    }
}

/// What SM hands FM, in order.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<AlarmEffect>>);

impl AlarmSink for Recorder {
    fn send(&self, effect: AlarmEffect) -> SinkFuture<'_> {
        self.0.lock().unwrap().push(effect);
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Recorder {
    /// The alarms raised now, as (id, entity, severity).
    fn raised(&self) -> Vec<(String, String, String)> {
        let mut now: std::collections::BTreeMap<(String, String), String> = Default::default();
        for e in self.0.lock().unwrap().iter() {
            match e {
                AlarmEffect::Set(a) => {
                    now.insert(
                        (a.def.id.to_string(), a.entity_instance_id.clone()),
                        a.def.severity.to_string(),
                    );
                }
                AlarmEffect::Clear {
                    alarm_id,
                    entity_instance_id,
                } => {
                    now.remove(&(alarm_id.to_string(), entity_instance_id.clone()));
                }
                _ => {}
            }
        }
        now.into_iter().map(|((i, e), s)| (i, e, s)).collect()
    }
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Waits up to `secs` for `f` to hold of sm-api's `path`.
async fn until(api: &str, path: &str, secs: u64, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(r) = reqwest::get(format!("{api}{path}")).await
            && let Ok(v) = r.json::<Value>().await
            && f(&v)
        {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never got there: {}",
            reqwest::get(format!("{api}{path}"))
                .await
                .map(|_| "see the log")
                .unwrap_or("unreachable")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn groups_in(v: &Value, state: &str) -> bool {
    v["sm_sda"]
        .as_array()
        .is_some_and(|a| a.len() == 2 && a.iter().all(|g| g["state"] == state))
}

fn service<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["services"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .unwrap_or(&Value::Null)
}

fn api_pid(r: &Rig) -> u32 {
    std::fs::read_to_string(r.dir.path().join("run/starling-api.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn kill9(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -9 {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sm_runs_its_groups_restarts_what_dies_fails_what_keeps_dying_and_stops_in_order() {
    if python().is_none() {
        eprintln!("skipped: no python3 for the API stand-in process");
        return;
    }
    let (r, db) = rig().await;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(sm::run(config(&r), async move {
        let _ = stop_rx.await;
    }));
    let sda = until(&r.api, "/v1/sm_sda", 30, |v| groups_in(v, "active")).await;
    let g = &sda["sm_sda"][0];
    assert_eq!(g["node_name"], "controller-0");
    assert_eq!(g["name"], "controller");
    assert_eq!(g["desired_state"], "active");
    assert!(sm_uuid(g));
    // The API started after the management address (its dependency), and
    // answers.
    let log = std::fs::read_to_string(&r.log).unwrap();
    let order: Vec<&str> = log.lines().collect();
    let pos = |l: &str| order.iter().position(|x| *x == l).unwrap();
    assert!(pos("start management-ip") < pos("start api"), "{log}");
    assert!(
        reqwest::get(format!("http://127.0.0.1:{}/", r.api_port))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let svcs = get(&format!("{}/v1/services", r.api)).await.1;
    assert_eq!(service(&svcs, "starling-api")["state"], "enabled-active");
    assert_eq!(service(&svcs, "oam-ip")["desired_state"], "enabled-active");
    let id = service(&svcs, "oam-ip")["id"].as_i64().unwrap();
    let (code, one) = get(&format!("{}/v1/services/{id}", r.api)).await;
    assert_eq!((code, one["name"].as_str()), (200, Some("oam-ip")));
    let (code, err) = get(&format!("{}/v1/services/nope", r.api)).await;
    assert_eq!(code, 404);
    assert!(err["error_message"].to_string().contains("nope"), "{err}");
    let nodes = get(&format!("{}/v1/nodes", r.api)).await.1;
    assert_eq!(nodes["nodes"][0]["name"], "controller-0");
    assert_eq!(nodes["nodes"][0]["availability_status"], "available");
    let uuid = g["uuid"].as_str().unwrap();
    let (code, one) = get(&format!("{}/v1/sm_sda/{uuid}", r.api)).await;
    assert_eq!((code, &one["uuid"]), (200, &g["uuid"]));
    let dump = sm::dump(&db, "controller-0").await.unwrap();
    assert!(
        dump.lines()
            .any(|l| l.starts_with("controller-services") && l.contains("active")),
        "{dump}"
    );
    assert!(dump.contains("starling-api"), "{dump}");

    // Killed: the audit finds it and SM starts it again.
    let first = api_pid(&r);
    kill9(first);
    let svcs = until(&r.api, "/v1/services", 15, |v| {
        service(v, "starling-api")["state"] == "enabled-active"
            && service(v, "starling-api")["reason"]
                .as_str()
                .is_some_and(|r| r.contains("found disabled while enabled-active"))
    })
    .await;
    assert_eq!(
        service(&svcs, "starling-api")["status"],
        "",
        "restarted, well"
    );
    let second = api_pid(&r);
    assert_ne!(first, second, "a new process");
    // Killed again within the countdown (90 s): failed, held, and its
    // group failed with it (a critical member).
    kill9(second);
    let svcs = until(&r.api, "/v1/services", 15, |v| {
        service(v, "starling-api")["status"] == "failed"
    })
    .await;
    assert_eq!(service(&svcs, "starling-api")["state"], "disabled");
    let sda = until(&r.api, "/v1/sm_sda", 5, |v| {
        v["sm_sda"]
            .as_array()
            .is_some_and(|a| a.iter().any(|g| g["status"] == "failed"))
    })
    .await;
    let ctl = sda["sm_sda"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["service_group_name"] == "controller-services")
        .unwrap();
    assert_eq!(
        (ctl["state"].as_str(), ctl["condition"].as_str()),
        (Some("go-active"), Some("recovery-failure"))
    );
    // FM is told: 400.001, critical, on StarlingX's entity; alone, no
    // redundancy is expected and none is alarmed.
    assert_eq!(
        r.alarms.raised(),
        [(
            "400.001".to_string(),
            "service_domain=controller.service_group=controller-services.host=controller-0"
                .to_string(),
            "critical".to_string()
        )]
    );

    // Stopped: everything goes, the address after the API.
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), daemon)
        .await
        .expect("SM stops")
        .unwrap()
        .unwrap();
    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(
        log.contains("stop management-ip") && log.contains("stop oam-ip"),
        "{log}"
    );
    assert!(!r.dir.path().join("management-ip").exists());
    let sda = db.read(|c| store::assignments(c)).await.unwrap();
    assert!(sda.iter().all(|a| a.state == "disabled"), "{sda:?}");
}

fn sm_uuid(g: &Value) -> bool {
    g["uuid"].as_str().is_some_and(starling_common::is_uuid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_whose_actions_fail_is_failed_with_the_reason() {
    let (r, db) = rig().await;
    // An executor that does not exist, and a script that is not there.
    db.write(|c| {
        store::set_plugin(c, "starling-api", "docker", "api")?;
        store::set_plugin(c, "oam-ip", "exec", "/nonexistent/oam.sh")
    })
    .await
    .unwrap();
    // Quicker failure: one failed action fails it.
    db.write(|c| {
        c.exec("UPDATE sm_service SET max_action_failures = 1", &[])?;
        Ok::<_, starling_common::Error>(())
    })
    .await
    .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(sm::run(config(&r), async move {
        let _ = stop_rx.await;
    }));
    let svcs = until(&r.api, "/v1/services", 20, |v| {
        service(v, "oam-ip")["status"] == "failed"
    })
    .await;
    let reason = service(&svcs, "oam-ip")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("/nonexistent/oam.sh"), "{reason}");
    let svcs = until(&r.api, "/v1/services", 20, |v| {
        service(v, "starling-api")["reason"].is_string()
    })
    .await;
    let reason = service(&svcs, "starling-api")["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("no executor of plugin type \"docker\""),
        "{reason}"
    );
    stop_tx.send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(30), daemon).await;
}

mod database;
mod pair;
