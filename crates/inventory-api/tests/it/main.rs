//! Inventory REST API tests through the whole router (guard, body limit,
//! extractors) on a real SQLite store, with a real FM API on loopback where
//! alarms and logs are checked. Storage on every backend is covered by the
//! inventory-store crate's conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agents;
mod bulk;
mod commands;
mod hardware;
mod sm;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use starling_common::{Clock, SystemClock};
use starling_db::{Db, Tuning};
use starling_fm_client::{Config, FmClient};
use starling_http::{Authenticator, OpenAccess};
use starling_inventory::ops::{self, SystemSpec};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::{Availability, SystemMode, SystemType};
use starling_inventory_api::{InventoryState, Paging, ROUTES, router};
use starling_inventory_store::InventoryStore;
use starling_testkit::{self as testkit, TempDir, faultstring as fault};
use tower::ServiceExt;

fn tmp() -> TempDir {
    TempDir::new("starling_invapi")
}

struct TestApp {
    app: axum::Router,
    state: InventoryState,
    db: Db,
    fm: Option<Fm>,
    _dir: TempDir,
}

/// A real FM API on a loopback port, with the client inventory reports through.
struct Fm {
    client: FmClient,
    url: String,
    http: reqwest::Client,
    _task: tokio::task::JoinHandle<()>,
}

async fn start_fm(dir: &std::path::Path) -> Fm {
    let db = Db::open(
        &format!("sqlite://{}/fm.db", dir.display()),
        Tuning::default(),
        &[starling_fm_store::SCHEMA],
    )
    .await
    .unwrap();
    let st = starling_fm_api::FmState {
        db,
        clock: Arc::new(SystemClock),
        limits: starling_fm::ops::Limits::default(),
        paging: starling_fm_api::Paging::default(),
        written: Default::default(),
    };
    let entries = starling_fm::catalogue::parse(starling_fm::catalogue::BUILTIN).unwrap();
    starling_fm_api::sync_catalogue(&st, entries).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = starling_fm_api::router(st, Arc::new(OpenAccess));
    let task = tokio::spawn(async move {
        starling_http::serve(listener, app, std::future::pending())
            .await
            .unwrap();
    });
    let client = FmClient::open(Config::new(url.clone(), dir.join("spool"))).unwrap();
    Fm {
        client,
        url,
        http: reqwest::Client::new(),
        _task: task,
    }
}

impl Fm {
    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    async fn alarms(&self) -> Vec<(String, String)> {
        let v = self.get("/v1/alarms").await;
        let mut out: Vec<(String, String)> = v["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["alarm_id"].as_str().unwrap().to_string(),
                    a["entity_instance_id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }
    async fn logs(&self) -> Vec<String> {
        let v = self.get("/v1/event_log?logs=True").await;
        v["event_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["event_log_id"].as_str().unwrap(),
                    e["reason_text"].as_str().unwrap()
                )
            })
            .collect()
    }
}

async fn app_with(
    mode: SystemMode,
    with_fm: bool,
    auth: Arc<dyn Authenticator>,
    paging: Paging,
) -> TestApp {
    let dir = tmp();
    let db = testkit::sqlite(&dir, "inv.db", &[starling_inventory_store::SCHEMA]).await;
    let spec = SystemSpec {
        name: "edge-1".into(),
        system_type: SystemType::Standard,
        system_mode: mode,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| ops::ensure_system(&mut InventoryStore::new(c), &spec, SystemClock.now()))
        .await
        .unwrap();
    let fm = if with_fm {
        Some(start_fm(dir.path()).await)
    } else {
        None
    };
    let state = InventoryState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        fm: fm
            .as_ref()
            .map(|f| Arc::new(f.client.clone()) as Arc<dyn starling_common::alarm::AlarmSink>),
        paging,
        commands: Default::default(),
        reports: Default::default(),
        maintenance: Default::default(),
        configuring: Default::default(),
        port_links: Default::default(),
        secrets: Some(Arc::new(
            starling_inventory_api::sealed::SecretKey::from_bytes(&[5; 32]).unwrap(),
        )),
        sm: None,
    };
    TestApp {
        app: router(state.clone(), auth),
        state,
        db,
        fm,
        _dir: dir,
    }
}

async fn app() -> TestApp {
    app_with(
        SystemMode::Duplex,
        false,
        Arc::new(OpenAccess),
        Paging::default(),
    )
    .await
}

impl TestApp {
    async fn call(&self, method: &str, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
        let req = testkit::request(method, uri).header("host", "inv.test:6385");
        let a = testkit::send(&self.app, req, body).await;
        (a.status, a.body)
    }
    async fn get(&self, uri: &str) -> Value {
        let (s, v) = self.call("GET", uri, None).await;
        assert_eq!(s, StatusCode::OK, "GET {uri}: {v}");
        v
    }
    async fn add(&self, body: Value) -> (StatusCode, Value) {
        self.call("POST", "/v1/ihosts", Some(&body.to_string()))
            .await
    }
    async fn added(&self, name: &str, personality: &str, mac: &str) -> Value {
        let (s, v) = self
            .add(json!({"hostname": name, "personality": personality, "mgmt_mac": mac}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
    async fn patch(&self, host: &str, ops: Value) -> (StatusCode, Value) {
        self.call(
            "PATCH",
            &format!("/v1/ihosts/{host}"),
            Some(&ops.to_string()),
        )
        .await
    }
    async fn action(&self, host: &str, verb: &str) -> (StatusCode, Value) {
        self.patch(
            host,
            json!([{"op": "replace", "path": "/action", "value": verb}]),
        )
        .await
    }
    /// controller-0, bootstrapped (the active controller), inventoried and
    /// unlocked: in service (what host-bulk-add waits for).
    async fn controller_in_service(&self) {
        self.db
            .write(|c| {
                ops::bootstrap_controller(
                    &mut InventoryStore::new(c),
                    "controller-0",
                    "08:00:27:00:00:01",
                    None,
                    starling_common::Timestamp::from_micros(0),
                )
            })
            .await
            .unwrap();
        self.agent_reports_online("controller-0").await;
        let (st, h) = self.action("controller-0", "unlock").await;
        assert_eq!(st, StatusCode::OK, "{h}");
        assert_eq!(
            (h["administrative"].as_str(), h["operational"].as_str()),
            (Some("unlocked"), Some("enabled"))
        );
    }
    /// What the host's agent will report: it is up and inventoried.
    async fn agent_reports_online(&self, name: &str) {
        let name = name.to_string();
        self.db
            .write(move |c| {
                let mut r = InventoryStore::new(c);
                let mut h = ops::host(&mut r, &HostRef::Name(name.clone()))?;
                h.availability = Availability::Online;
                h.inv_state = "inventoried".into();
                r.update_host(&h)
            })
            .await
            .unwrap();
    }
}

#[track_caller]
fn refused(r: (StatusCode, Value), status: StatusCode, needle: &str) {
    assert_eq!(r.0, status, "{}", r.1);
    let f = fault(&r.1);
    assert!(f.contains(needle), "{f:?} does not mention {needle:?}");
}

#[tokio::test]
async fn hosts_answer_what_cgtsclient_reads() {
    let t = app().await;
    let root = t.get("/").await;
    assert_eq!(root["default_version"]["id"], "v1");
    assert!(t.get("/v1").await["ihosts"].is_array());
    let sys = t.get("/v1/isystems").await;
    let s = &sys["isystems"][0];
    assert_eq!(
        (
            s["name"].as_str(),
            s["system_mode"].as_str(),
            s["system_type"].as_str()
        ),
        (Some("edge-1"), Some("duplex"), Some("Standard"))
    );
    let su = s["uuid"].as_str().unwrap();
    assert_eq!(t.get(&format!("/v1/isystems/{su}")).await["uuid"], su);

    let (st, h) = t
        .add(json!({"hostname": "compute-0", "personality": "worker",
                    "mgmt_mac": "08:00:27:AA:00:01", "location": {"locn": "rack 4"},
                    "bm_ip": "10.0.0.9", "bm_username": "root", "bm_type": "redfish",
                    "ttys_dcd": false, "hw_settle": "0"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    for field in [
        "id",
        "uuid",
        "hostname",
        "personality",
        "subfunctions",
        "administrative",
        "operational",
        "availability",
        "invprovision",
        "task",
        "action",
        "mgmt_mac",
        "serialid",
        "capabilities",
        "bm_type",
        "bm_username",
        "bm_ip",
        "config_applied",
        "config_target",
        "config_status",
        "location",
        "uptime",
        "reserved",
        "created_at",
        "updated_at",
        "boot_device",
        "rootfs_device",
        "hw_settle",
        "install_output",
        "console",
        "tboot",
        "vim_progress_status",
        "install_state",
        "install_state_info",
        "inv_state",
        "clock_synchronization",
        "device_image_update",
        "reboot_needed",
        "peers",
        "ttys_dcd",
        "vsc_controllers",
        "sw_version",
        "isystem_uuid",
        "links",
    ] {
        assert!(h.get(field).is_some(), "host lacks {field}: {h}");
    }
    assert_eq!(h["mgmt_mac"], "08:00:27:aa:00:01");
    assert_eq!(h["location"], json!({"locn": "rack 4"}));
    assert_eq!(
        (
            h["administrative"].as_str(),
            h["operational"].as_str(),
            h["availability"].as_str()
        ),
        (Some("locked"), Some("disabled"), Some("offline"))
    );
    assert_eq!(h["subfunctions"], "worker");
    assert_eq!(h["isystem_uuid"], su);
    assert!(
        h["links"][0]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://inv.test:6385/v1/ihosts/")
    );

    // By integer id (what host-lock uses), uuid and hostname.
    let id = h["id"].as_i64().unwrap();
    let uuid = h["uuid"].as_str().unwrap();
    for r in [id.to_string(), uuid.to_string(), "compute-0".into()] {
        assert_eq!(t.get(&format!("/v1/ihosts/{r}")).await["uuid"], uuid, "{r}");
    }
    assert_eq!(
        t.get("/v1/ihosts").await["ihosts"][0]["hostname"],
        "compute-0"
    );
    assert_eq!(
        t.get("/v1/ihosts/detail").await["ihosts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // host-update: replace, add and remove; the whole host is re-checked.
    let (st, u) = t
        .patch(
            &id.to_string(),
            json!([
                {"op": "replace", "path": "/location", "value": {"locn": "rack 5"}},
                {"op": "add", "path": "/serialid", "value": "SN-77"},
                {"op": "remove", "path": "/bm_ip"},
                {"op": "remove", "path": "/bm_username"},
                {"op": "replace", "path": "/bm_type", "value": "none"},
            ]),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{u}");
    assert_eq!(u["location"]["locn"], "rack 5");
    assert_eq!(u["serialid"], "SN-77");
    assert_eq!(
        (u["bm_type"].as_str(), u["bm_ip"].as_str()),
        (Some("none"), None)
    );
    assert!(u["updated_at"].is_string());
    // A locked host may be renamed.
    let (st, u) = t
        .patch(
            "compute-0",
            json!([{"op": "replace", "path": "/hostname", "value": "compute-9"}]),
        )
        .await;
    assert_eq!(
        (st, u["hostname"].as_str()),
        (StatusCode::OK, Some("compute-9"))
    );

    let (st, _) = t.call("DELETE", "/v1/ihosts/compute-9", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    refused(
        t.call("GET", &format!("/v1/ihosts/{uuid}"), None).await,
        StatusCode::NOT_FOUND,
        "Host not found",
    );
    assert_eq!(t.get("/v1/ihosts").await["ihosts"], json!([]));
}

#[tokio::test]
async fn lists_page_with_next_and_sort() {
    let t = app_with(
        SystemMode::Duplex,
        false,
        Arc::new(OpenAccess),
        Paging {
            default_limit: 2,
            max_limit: 3,
        },
    )
    .await;
    for (i, name) in [
        "compute-3",
        "compute-1",
        "storage-0",
        "compute-2",
        "controller-1",
    ]
    .iter()
    .enumerate()
    {
        let p = match name.split('-').next().unwrap() {
            "compute" => "worker",
            other => other,
        };
        t.added(name, p, &format!("08:00:27:00:00:0{}", i + 1))
            .await;
    }
    // Default page: 2 by id, then follow `next` to the end.
    let mut names = Vec::new();
    let mut uri = "/v1/ihosts".to_string();
    loop {
        let v = t.get(&uri).await;
        for h in v["ihosts"].as_array().unwrap() {
            names.push(h["hostname"].as_str().unwrap().to_string());
        }
        match v["next"].as_str() {
            Some(n) => uri = n.strip_prefix("http://inv.test:6385").unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "compute-3",
            "compute-1",
            "storage-0",
            "compute-2",
            "controller-1"
        ]
    );

    let v = t
        .get("/v1/ihosts?sort_key=hostname&sort_dir=desc&limit=100")
        .await;
    let got: Vec<&str> = v["ihosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        ["storage-0", "controller-1", "compute-3"],
        "limit capped at 3"
    );
    assert!(
        v["next"]
            .as_str()
            .unwrap()
            .contains("sort_key=hostname&sort_dir=desc")
    );

    let v = t.get("/v1/ihosts?personality=worker&limit=3").await;
    assert_eq!(v["ihosts"].as_array().unwrap().len(), 3);
    assert!(
        v.get("next").is_none(),
        "a full page that ends the list has no next (sysinv's would lead to an empty page)"
    );
    let v2 = t.get("/v1/ihosts?personality=worker&limit=2").await;
    assert!(
        v2["next"].is_string(),
        "a page with hosts after it has next"
    );
    let v = t
        .get(&format!(
            "/v1/ihosts?personality=worker&marker={}",
            v["ihosts"][1]["uuid"].as_str().unwrap()
        ))
        .await;
    assert_eq!(v["ihosts"][0]["hostname"], "compute-2");
    assert!(v.get("next").is_none(), "a short page has no next");

    for (q, needle) in [
        ("limit=-1", "Limit must be positive"),
        ("limit=ten", "Invalid limit"),
        ("sort_dir=up", "Invalid sort direction"),
        ("sort_key=mgmt_mac", "Invalid sort_key"),
        ("marker=compute-1", "Invalid marker"),
        (
            "marker=0196d0c4-0000-7000-8000-000000000000",
            "Invalid marker",
        ),
        ("personality=router", "Invalid personality"),
        ("colour=red", "colour"),
    ] {
        refused(
            t.call("GET", &format!("/v1/ihosts?{q}"), None).await,
            StatusCode::BAD_REQUEST,
            needle,
        );
    }
}

#[tokio::test]
async fn bad_input_is_named_and_changes_nothing() {
    let t = app().await;
    let ok = t.added("compute-0", "worker", "08:00:27:00:00:01").await;
    let before = t.get("/v1/ihosts").await;
    let add = |v: Value| v;
    for (body, needle) in [
        (
            add(
                json!({"hostname": "compute-1", "personality": "router", "mgmt_mac": "08:00:27:00:00:02"}),
            ),
            "Invalid personality 'router'",
        ),
        (
            add(
                json!({"hostname": "bad name", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02"}),
            ),
            "bad name",
        ),
        (
            add(
                json!({"hostname": "controller-7", "personality": "controller", "mgmt_mac": "08:00:27:00:00:02"}),
            ),
            "controller-7",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00"}),
            ),
            "08:00:27:00:00",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02", "mgmt_ip": "10.0.0.300"}),
            ),
            "10.0.0.300",
        ),
        (
            add(
                json!({"hostname": "compute-0", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02"}),
            ),
            "Hostname compute-0 already exists",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00:01"}),
            ),
            "08:00:27:00:00:01 already exists",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02", "bm_password": "x"}),
            ),
            "bm_password",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02", "colour": "red"}),
            ),
            "colour",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02", "ttys_dcd": true}),
            ),
            "ttys_dcd",
        ),
        (
            add(
                json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": ["08:00:27:00:00:02"]}),
            ),
            "mgmt_mac",
        ),
        (
            add(json!({"personality": "worker", "mgmt_mac": "08:00:27:00:00:02"})),
            "hostname is required",
        ),
    ] {
        refused(t.add(body.clone()).await, StatusCode::BAD_REQUEST, needle);
    }
    refused(
        t.call("POST", "/v1/ihosts", Some("{\"hostname\": ")).await,
        StatusCode::BAD_REQUEST,
        "JSON",
    );
    // JSON-Patch shape and semantics.
    for (ops, needle) in [
        (json!([]), "empty"),
        (
            json!([{"op": "move", "path": "/hostname", "from": "/x"}]),
            "Unsupported patch operation",
        ),
        (
            json!([{"op": "replace", "path": "hostname", "value": "a"}]),
            "Invalid patch path",
        ),
        (
            json!([{"op": "replace", "path": "/hostname"}]),
            "needs a value",
        ),
        (
            json!([{"op": "replace", "path": "/administrative", "value": "unlocked"}]),
            "cannot be changed",
        ),
        (
            json!([{"op": "replace", "path": "/colour", "value": "red"}]),
            "Unknown attribute",
        ),
        (
            json!([{"op": "replace", "path": "/personality", "value": "storage"}]),
            "personality",
        ),
        (
            json!([{"op": "replace", "path": "/mgmt_mac", "value": "zz"}]),
            "zz",
        ),
        (
            json!([{"op": "replace", "path": "/action", "value": "explode"}]),
            "Invalid action 'explode'",
        ),
        (
            json!([{"op": "replace", "path": "/action", "value": "lock"},
                {"op": "replace", "path": "/location", "value": "x"}]),
            "cannot be combined",
        ),
        (
            json!([{"op": "replace", "path": "/action", "value": "unlock"}]),
            "availability is offline",
        ),
        (json!({"op": "replace"}), "JSON"),
    ] {
        refused(
            t.patch("compute-0", ops.clone()).await,
            StatusCode::BAD_REQUEST,
            needle,
        );
    }
    refused(
        t.action("compute-7", "lock").await,
        StatusCode::NOT_FOUND,
        "compute-7",
    );
    assert_eq!(t.get("/v1/ihosts").await, before, "nothing changed");
    assert_eq!(t.get("/v1/ihosts/compute-0").await, ok);

    // Simplex systems take no hosts.
    let s = app_with(
        SystemMode::Simplex,
        false,
        Arc::new(OpenAccess),
        Paging::default(),
    )
    .await;
    refused(
        s.add(json!({"hostname": "compute-1", "personality": "worker", "mgmt_mac": "08:00:27:00:00:02"})).await,
        StatusCode::BAD_REQUEST,
        "Adding a host on a simplex system is not allowed.",
    );
    // Before anything else is checked, as sysinv does: a request without
    // a MAC gets the same answer, not "mgmt_mac is required".
    refused(
        s.add(json!({"hostname": "compute-1", "personality": "worker"}))
            .await,
        StatusCode::BAD_REQUEST,
        "Adding a host on a simplex system is not allowed.",
    );
}

async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_and_unlock_raise_and_clear_200_001_with_logs() {
    let t = app_with(
        SystemMode::Duplex,
        true,
        Arc::new(OpenAccess),
        Paging::default(),
    )
    .await;
    let fm = t.fm.as_ref().unwrap();
    t.added("compute-0", "worker", "08:00:27:00:00:01").await;
    t.added("compute-01", "worker", "08:00:27:00:00:02").await;
    let locked = |n: &str| ("200.001".to_string(), format!("host={n}"));
    assert_eq!(
        fm.alarms().await,
        [locked("compute-0"), locked("compute-01")]
    );

    // Unlock needs the agent's report; then the alarm clears, for this host only.
    t.agent_reports_online("compute-0").await;
    let (st, h) = t.action("compute-0", "unlock").await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(
        (
            h["administrative"].as_str(),
            h["operational"].as_str(),
            h["availability"].as_str()
        ),
        (Some("unlocked"), Some("enabled"), Some("available"))
    );
    assert_eq!(fm.alarms().await, [locked("compute-01")]);

    // An unlocked host is not deleted, not rebooted.
    refused(
        t.call("DELETE", "/v1/ihosts/compute-0", None).await,
        StatusCode::BAD_REQUEST,
        "unlocked",
    );
    refused(
        t.action("compute-0", "reboot").await,
        StatusCode::BAD_REQUEST,
        "Lock",
    );

    // Lock by integer id, as cgtsclient's host-lock does.
    let id = t.get("/v1/ihosts/compute-0").await["id"].as_i64().unwrap();
    let (st, h) = t.action(&id.to_string(), "lock").await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(h["administrative"], "locked");
    assert_eq!(
        fm.alarms().await,
        [locked("compute-0"), locked("compute-01")]
    );

    // A reboot of a locked host is tracked in task until the agent reports.
    let (st, h) = t.action("compute-0", "reboot").await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(h["task"], "Rebooting");

    // A rename moves the host's alarms to the new name.
    let (st, h) = t
        .patch(
            "compute-01",
            json!([{"op": "replace", "path": "/hostname", "value": "compute-5"}]),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{h}");
    assert_eq!(
        fm.alarms().await,
        [locked("compute-0"), locked("compute-5")]
    );

    // Delete clears whatever the host had raised.
    let (st, _) = t.call("DELETE", "/v1/ihosts/compute-5", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(fm.alarms().await, [locked("compute-0")]);

    let logs = fm.logs().await;
    for want in [
        "200.021 compute-0 'add' request",
        "200.022 compute-0 is administratively unlocked",
        "200.022 compute-0 is administratively locked",
        "200.021 compute-0 'reboot' request",
        "200.021 compute-01 renamed to compute-5",
        "200.021 compute-5 'delete' request",
    ] {
        assert!(logs.iter().any(|l| l == want), "{want:?} not in {logs:#?}");
    }
    eventually("an empty spool", || async { fm.client.queued() == 0 }).await;
}

/// The served document is the generated one, and it names exactly the
/// routes: every route of the table is an operation of the document and
/// every operation is routed (neither the router's fallback nor 405).
#[tokio::test]
async fn the_document_is_generated_and_names_exactly_the_routes() {
    use starling_http::openapi::{check_snapshot, dangling_refs, operations, route_operations};
    let doc = starling_inventory_api::openapi::generate();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if let Err(e) = check_snapshot(&doc, file, starling_inventory_api::openapi::DOCUMENT) {
        panic!("{e}");
    }
    assert_eq!(operations(&doc), route_operations(ROUTES));
    assert_eq!(dangling_refs(&doc), Vec::<String>::new());
    // Nullable fields say so.
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("Host", "updated_at"),
        ("Host", "hostname"),
        ("System", "updated_at"),
        ("CpuRecord", "inode_uuid"),
        ("Command", "command"),
    ] {
        let t = &schemas[schema]["properties"][field]["type"];
        assert_eq!(t, &json!(["string", "null"]), "{schema}.{field}: {t}");
    }
    let t = app().await;
    let uuid = "00000000-0000-4000-8000-000000000000";
    testkit::assert_routed(
        &t.app,
        &operations(&doc),
        &[("{uuid}", uuid), ("{host}", "no-such-host"), ("{id}", uuid)],
    )
    .await;
    // And the server serves it.
    let served = t.get("/openapi.json").await;
    assert_eq!(served, doc);
}

#[tokio::test]
async fn every_route_is_guarded() {
    // Behind identity: a reader lists, only admins change anything.
    use starling_auth::{LocalAuth, TokenCache};
    use starling_identity::ops::{AuthSettings, BootstrapSpec};
    use starling_identity_store::IdentityStore;
    let dir = tmp();
    let db = testkit::sqlite(&dir, "id.db", &[starling_identity_store::SCHEMA]).await;
    let now = SystemClock.now();
    let spec = BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some(starling_identity::password::hash("Adm1n!pass").unwrap()),
        region: "RegionOne".into(),
        service_users: vec!["sysinv".into()],
        services: vec![],
    };
    let token = db
        .write(move |c| {
            let mut r = IdentityStore::new(c);
            starling_identity::ops::bootstrap(&mut r, &spec, now)?;
            starling_identity::ops::issue_for_service(
                &mut r,
                "sysinv",
                now,
                AuthSettings::default(),
            )
        })
        .await
        .unwrap()
        .0;
    let auth = Arc::new(LocalAuth::new(
        db.clone(),
        Arc::new(SystemClock),
        Arc::new(TokenCache::new(Duration::ZERO, 10)),
    ));
    let g = app_with(SystemMode::Duplex, false, auth, Paging::default()).await;
    refused(
        g.call("GET", "/v1/ihosts", None).await,
        StatusCode::UNAUTHORIZED,
        "authentication",
    );
    refused(
        g.call("GET", "/openapi.json", None).await,
        StatusCode::UNAUTHORIZED,
        "authentication",
    );
    let (st, _) = g.call("GET", "/v1", None).await;
    assert_eq!(st, StatusCode::OK, "version documents are open");
    let req = Request::builder()
        .method("GET")
        .uri("/v1/ihosts")
        .header("x-auth-token", &token)
        .body(Body::empty())
        .unwrap();
    let resp = g.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// `system modify`: the attributes an operator may change after install,
/// each refusal in sysinv's words, and all the changes or none.
#[tokio::test]
async fn system_modify_changes_what_sysinv_lets_change() {
    let t = app().await;
    let su = t.get("/v1/isystems").await["isystems"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/isystems/{su}");
    let ops = |pairs: &[(&str, &str)]| {
        Value::Array(
            pairs
                .iter()
                .map(|(k, v)| json!({"op": "replace", "path": format!("/{k}"), "value": v}))
                .collect(),
        )
        .to_string()
    };
    let (s, v) = t
        .call(
            "PATCH",
            &path,
            Some(&ops(&[
                ("name", "edge-7"),
                ("description", "the plant's cloud"),
                ("contact", "noc@example.com"),
                ("location", "hall B"),
                ("timezone", "Europe/Paris"),
            ])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "edge-7");
    assert_eq!(v["location"], "hall B");
    assert!(v["updated_at"].is_string(), "{v}");
    for (pairs, want) in [
        (
            vec![("software_version", "99")],
            "software_version field cannot be modified.",
        ),
        (
            vec![("system_type", "Standard")],
            "system_type field cannot be modified.",
        ),
        (
            vec![("system_mode", "duplex")],
            "system_mode is set at the first start",
        ),
        (
            vec![("description", "café")],
            "System values must not contain special characters.",
        ),
        (
            vec![("location", "a\tb")],
            "Invalid location: control characters",
        ),
        (
            vec![("bogus", "x")],
            "System attribute 'bogus' cannot be modified",
        ),
        // One bad change of two: neither is kept.
        (
            vec![("contact", "other"), ("name", "")],
            "The system name cannot be empty",
        ),
    ] {
        refused(
            t.call("PATCH", &path, Some(&ops(&pairs))).await,
            StatusCode::BAD_REQUEST,
            want,
        );
    }
    let shown = t.get(&path).await;
    assert_eq!(
        shown["contact"], "noc@example.com",
        "nothing of a refused patch is kept"
    );
    refused(
        t.call(
            "PATCH",
            "/v1/isystems/00000000-0000-4000-8000-000000000000",
            Some(&ops(&[("name", "x")])),
        )
        .await,
        StatusCode::NOT_FOUND,
        "could not be found",
    );
}

/// `bm_password` is taken only with a provisioned BMC type, kept sealed
/// (never in the record, never answered), opened for maintenance, and
/// removed with the BMC.
#[tokio::test]
async fn a_bmc_password_is_sealed_never_shown_and_goes_with_its_bmc() {
    use starling_service::Hosts;
    let t = app().await;
    let h = t.added("compute-0", "worker", "08:00:27:00:00:01").await;
    let uuid = h["uuid"].as_str().unwrap().to_string();
    let hosts = starling_inventory_api::agents::InventoryHosts {
        st: t.state.clone(),
    };
    let replace = |pairs: &[(&str, &str)]| {
        json!(
            pairs
                .iter()
                .map(|(k, v)| json!({"op": "replace", "path": format!("/{k}"), "value": v}))
                .collect::<Vec<_>>()
        )
    };
    // No BMC type: refused, nothing kept.
    refused(
        t.patch("compute-0", replace(&[("bm_password", "S3cret!pw")]))
            .await,
        StatusCode::BAD_REQUEST,
        "bm_password needs a board management controller",
    );
    assert_eq!(hosts.bmc(&uuid).await.unwrap(), None);
    let (s, v) = t
        .patch(
            "compute-0",
            replace(&[
                ("bm_type", "redfish"),
                ("bm_ip", "10.0.0.5"),
                ("bm_username", "root"),
                ("bm_password", "S3cret!pw"),
            ]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!v.to_string().contains("S3cret"), "{v}");
    assert!(
        !t.get("/v1/ihosts/compute-0")
            .await
            .to_string()
            .contains("S3cret")
    );
    let access = hosts.bmc(&uuid).await.unwrap().unwrap();
    assert_eq!(
        (
            access.bm_type.as_str(),
            access.address.as_str(),
            access.username.as_str()
        ),
        ("redfish", "10.0.0.5", "root")
    );
    assert_eq!(access.password, "S3cret!pw");
    assert!(!format!("{access:?}").contains("S3cret"));
    // Stored sealed, bound to the host.
    let id = h["id"].as_i64().unwrap();
    let sealed =
        t.db.read(move |c| {
            use starling_inventory::repo::InventoryRepo;
            InventoryStore::new(c).bmc_secret(id)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(
        sealed.starts_with("v1:") && !sealed.contains("S3cret"),
        "{sealed}"
    );
    // The BMC removed: its password too.
    let (s, v) = t
        .patch(
            "compute-0",
            replace(&[("bm_type", "none"), ("bm_ip", ""), ("bm_username", "")]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(hosts.bmc(&uuid).await.unwrap(), None);
    let gone =
        t.db.read(move |c| {
            use starling_inventory::repo::InventoryRepo;
            InventoryStore::new(c).bmc_secret(id)
        })
        .await
        .unwrap();
    assert_eq!(gone, None);
}

/// Maintenance's BMC sensor readings become the host's sensors and groups
/// (`isensors`, `isensorgroups`, a group's own sensors), keep their uuids
/// from one audit to the next, and none is silenced by default.
#[tokio::test]
async fn bmc_sensor_readings_are_recorded_as_sensors_and_groups() {
    use starling_service::{Hosts, SensorReading};
    let t = app().await;
    let h = t.added("compute-0", "worker", "08:00:27:00:00:01").await;
    let uuid = h["uuid"].as_str().unwrap().to_string();
    let hosts = starling_inventory_api::agents::InventoryHosts {
        st: t.state.clone(),
    };
    let reading = |name: &str, kind: &str, v: f64, status: &str| SensorReading {
        name: name.into(),
        kind: kind.into(),
        path: "Thermal".into(),
        reading: Some(v),
        unit: "degC".into(),
        minor: (None, Some(42.0)),
        major: (None, Some(45.0)),
        critical: (None, Some(48.0)),
        status: status.into(),
    };
    let every = std::time::Duration::from_secs(120);
    let actions = hosts
        .sensors(
            &uuid,
            every,
            vec![
                reading("CPU Temp", "temperature", 43.0, "minor"),
                reading("Fan1", "fan", 3000.0, "ok"),
            ],
        )
        .await
        .unwrap();
    assert!(
        actions.iter().all(|(_, a)| a == "alarm"),
        "nothing suppressed, every group alarms: {actions:?}"
    );
    assert_eq!(actions.len(), 2);
    let list = t.get("/v1/ihosts/compute-0/isensors").await;
    let sensors = list["isensors"].as_array().unwrap();
    assert_eq!(sensors.len(), 2, "{list}");
    let cpu = sensors
        .iter()
        .find(|x| x["sensorname"] == "CPU Temp")
        .unwrap();
    assert_eq!(
        (
            &cpu["status"],
            &cpu["t_minor_upper"],
            &cpu["datatype"],
            &cpu["audit_interval"]
        ),
        (&json!("minor"), &json!("42"), &json!("analog"), &json!(120)),
        "{cpu}"
    );
    assert_eq!(cpu["capabilities"]["reading"], 43.0);
    let groups = t.get("/v1/ihosts/compute-0/isensorgroups").await;
    let groups = groups["isensorgroups"].as_array().unwrap().clone();
    let temp = groups
        .iter()
        .find(|g| g["sensorgroupname"] == "server temperature")
        .unwrap();
    assert_eq!(cpu["sensorgroup_uuid"], temp["uuid"]);
    let fans = groups
        .iter()
        .find(|g| g["sensorgroupname"] == "server fans")
        .unwrap();
    assert_eq!(fans["sensortype"], "tachometer");
    let of_group = t
        .get(&format!(
            "/v1/isensorgroups/{}/isensors",
            temp["uuid"].as_str().unwrap()
        ))
        .await;
    let names: Vec<&str> = of_group["isensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["sensorname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["CPU Temp"]);
    // The next audit: the same records, updated in place; a sensor gone
    // is gone.
    hosts
        .sensors(
            &uuid,
            every,
            vec![reading("CPU Temp", "temperature", 41.0, "ok")],
        )
        .await
        .unwrap();
    let again = t.get("/v1/ihosts/compute-0/isensors").await;
    let again = again["isensors"].as_array().unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["uuid"], cpu["uuid"]);
    assert_eq!(again[0]["status"], "ok");
    let shown = t
        .get(&format!("/v1/isensors/{}", cpu["uuid"].as_str().unwrap()))
        .await;
    assert_eq!(shown["sensorname"], "CPU Temp");
    // A reading of an unknown status is refused, and nothing changes.
    assert!(
        hosts
            .sensors(
                &uuid,
                every,
                vec![reading("CPU Temp", "temperature", 1.0, "hot")]
            )
            .await
            .is_err()
    );
    let after = t.get("/v1/ihosts/compute-0/isensors").await;
    assert_eq!(after["isensors"][0]["status"], "ok");

    // The operator's settings: each sensor's action at its status is
    // answered — `ignore` when it (or its group) is suppressed, else its
    // group's action at that severity; its settings outlive the next
    // audit; anything else is refused by name.
    let replace = |k: &str, v: &str| {
        json!([{"op": "replace", "path": format!("/{k}"), "value": v}]).to_string()
    };
    let sensor = format!("/v1/isensors/{}", cpu["uuid"].as_str().unwrap());
    let group = format!("/v1/isensorgroups/{}", temp["uuid"].as_str().unwrap());
    let hot = || vec![reading("CPU Temp", "temperature", 46.0, "major")];
    let action = |a: &str| vec![("CPU Temp".to_string(), a.to_string())];
    assert_eq!(
        hosts.sensors(&uuid, every, hot()).await.unwrap(),
        action("alarm")
    );
    let (st, v) = t
        .call("PATCH", &sensor, Some(&replace("suppress", "True")))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["suppress"], true);
    assert_eq!(
        hosts.sensors(&uuid, every, hot()).await.unwrap(),
        action("ignore")
    );
    let (st, _) = t
        .call("PATCH", &sensor, Some(&replace("suppress", "False")))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = t
        .call(
            "PATCH",
            &group,
            Some(&replace("actions_major_group", "log")),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        hosts.sensors(&uuid, every, hot()).await.unwrap(),
        action("log")
    );
    let stored = t.get(&group).await;
    assert_eq!(stored["actions_major_group"], "log", "kept across audits");
    refused(
        t.call(
            "PATCH",
            &group,
            Some(&replace("actions_minor_group", "reset")),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "expected one of ignore,log,alarm",
    );
    refused(
        t.call("PATCH", &sensor, Some(&replace("status", "ok")))
            .await,
        StatusCode::BAD_REQUEST,
        "cannot be changed",
    );
    refused(
        t.call("PATCH", &sensor, Some(&replace("suppress", "maybe")))
            .await,
        StatusCode::BAD_REQUEST,
        "expected True or False",
    );
    refused(
        t.call("PATCH", &group, Some(&replace("audit_interval_group", "1")))
            .await,
        StatusCode::BAD_REQUEST,
        "from 10 to 86400",
    );
}
