//! The agent's loop against a real inventory API on loopback: it registers
//! a fixture host, reports it in full (the host becomes inventoried and
//! online), then sends only what changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use starling_agent::Root;
use starling_agent::credential::Enrollment;
use starling_agent::run::{Auth, Config, run};
use starling_common::{Clock, SystemClock};
use starling_db::{Db, Tuning};
use starling_http::OpenAccess;
use starling_inventory::hwops;
use starling_inventory::ops::{self, SystemSpec};
use starling_inventory::repo::{HostRef, InventoryRepo};
use starling_inventory::{Availability, SystemMode, SystemType};
use starling_inventory_api::{InventoryState, Paging, agents, router};
use starling_inventory_store::InventoryStore;

/// Inventory's state over `db` (no FM, no maintenance).
fn state_of(db: &Db) -> InventoryState {
    InventoryState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        fm: None,
        paging: Paging::default(),
        commands: Default::default(),
        reports: Default::default(),
        maintenance: Default::default(),
        configuring: Default::default(),
        port_links: Default::default(),
        secrets: None,
        sm: None,
    }
}

/// The cloud's enrollment secret, made sure of in `dir`.
async fn enrollment(db: &Db, dir: &Path) -> String {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secret_file = dir.join("agent-enrollment");
    agents::ensure_enrollment(db, &clock, Some(&secret_file))
        .await
        .unwrap();
    std::fs::read_to_string(&secret_file).unwrap()
}

/// A duplex system's inventory API on loopback (the operator's requests
/// pass as anyone), with an enrollment secret: its store, its state, the
/// secret and its address.
async fn inventory(dir: &Path) -> (Db, InventoryState, String, std::net::SocketAddr) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let db = Db::open(
        &format!("sqlite://{}/inv.db", dir.display()),
        Tuning::default(),
        &[starling_inventory_store::SCHEMA],
    )
    .await
    .unwrap();
    let spec = SystemSpec {
        name: "edge".into(),
        system_type: SystemType::Standard,
        system_mode: SystemMode::Duplex,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| {
        ops::ensure_system(&mut InventoryStore::new(c), &spec, SystemClock.now()).map(|_| ())
    })
    .await
    .unwrap();
    let state = state_of(&db);
    let secret = enrollment(&db, dir).await;
    let app = router(state.clone(), Arc::new(OpenAccess));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (db, state, secret, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_registers_reports_and_audits() {
    let dir = std::env::temp_dir().join(format!("starling-agent-it-{}", std::process::id()));
    // The agent enrolls with the cloud's secret and then speaks with its
    // host's own credential.
    let (db, _, secret, addr) = inventory(&dir).await;
    let credential_file = dir.join("state").join("credential");

    // A copy of this machine's fixture, so the test can change it.
    let root_dir = dir.join("root");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vm-virtio-1node");
    let status = std::process::Command::new("cp")
        .args([
            "-a",
            &src.display().to_string(),
            &root_dir.display().to_string(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    // The operator's action command: records what it was asked, fails
    // power-off as a board without a BMC would.
    let ran = dir.join("actions");
    let action = dir.join("action.sh");
    std::fs::write(
        &action,
        format!(
            "#!/bin/sh\necho \"$1\" >> {}\n[ \"$1\" = power-off ] && {{ echo 'no BMC on this board' >&2; exit 1; }}\nexit 0\n",
            ran.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&action, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cfg = Config {
        root: Root::new(&root_dir),
        inventory_url: format!("http://{addr}/v1"),
        auth: Auth::Enrolled(Arc::new(
            Enrollment::open(Some(secret), credential_file.clone()).unwrap(),
        )),
        http: reqwest::Client::new(),
        interval: Duration::from_millis(200),
        mgmt_interface: None,
        action_command: Some(action.clone()),
        action_timeout: Duration::from_secs(10),
        command_wait: Duration::from_secs(2),
        lldpcli: Vec::new(),
        heartbeat: None,
        pmon_dir: None,
        resources: None,
        configure: None,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run(cfg, async move {
        let _ = stop_rx.await;
    }));

    let host = |db: Db| async move {
        db.read(|c| InventoryStore::new(c).host_by_mac("02:fc:00:00:00:01"))
            .await
            .unwrap()
    };
    let t0 = Instant::now();
    let h = loop {
        if let Some(h) = host(db.clone()).await
            && h.inv_state == "inventoried"
        {
            break h;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "never inventoried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(h.hostname, None, "discovered, not provisioned");
    let first = std::fs::read_to_string(&credential_file).unwrap();
    assert!(first.starts_with(agents::CREDENTIAL_PREFIX), "{first}");
    assert_eq!(h.availability, Availability::Online);
    let id = h.id;
    let cpus = db
        .read(move |c| {
            hwops::records_of::<starling_inventory::hardware::Cpu>(&mut InventoryStore::new(c), id)
        })
        .await
        .unwrap();
    assert_eq!(cpus.len(), 2);

    // The machine changes: the next audit reports the new MTU.
    std::fs::write(
        root_dir.join("sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0/mtu"),
        "9000\n",
    )
    .unwrap();
    let t0 = Instant::now();
    loop {
        let ports = db
            .read(move |c| {
                hwops::list::<starling_inventory::hardware::Port>(
                    &mut InventoryStore::new(c),
                    &HostRef::Id(id),
                )
            })
            .await
            .unwrap()
            .1;
        if ports[0].item.mtu == 9000 {
            assert!(ports[0].updated_at.is_some());
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the change never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // CPUs were not re-sent: unchanged since the first report.
    let again = db
        .read(move |c| {
            hwops::records_of::<starling_inventory::hardware::Cpu>(&mut InventoryStore::new(c), id)
        })
        .await
        .unwrap();
    assert_eq!(again, cpus);

    // Actions: provisioned (duplex, locked), the host is rebooted through
    // the operator's command; the task clears when the agent reports.
    db.write(move |c| {
        let mut r = InventoryStore::new(c);
        let mut h = ops::host(&mut r, &HostRef::Id(id))?;
        h.hostname = Some("worker-0".into());
        h.personality = Some(starling_inventory::Personality::Worker);
        h.subfunctions = "worker".into();
        r.update_host(&h)
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let act = |verb: &'static str| {
        let http = http.clone();
        async move {
            let r = http
                .patch(format!("http://{addr}/v1/ihosts/worker-0"))
                .json(&serde_json::json!([{"op": "replace", "path": "/action", "value": verb}]))
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "{verb}: {}",
                r.text().await.unwrap()
            );
        }
    };
    let settled = |db: Db| async move {
        let t0 = Instant::now();
        loop {
            let h = db
                .read(move |c| ops::host(&mut InventoryStore::new(c), &HostRef::Id(id)))
                .await
                .unwrap();
            if h.task.is_empty() {
                return h;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "task never cleared: {}",
                h.task
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    act("reboot").await;
    let h = settled(db.clone()).await;
    assert_eq!(h.availability, Availability::Online);
    act("power-off").await;
    let h = settled(db.clone()).await;
    assert_eq!(
        h.availability,
        Availability::Online,
        "a failed power-off leaves it on"
    );
    // A reinstalled host starts anew: its credential is taken back once
    // the reinstall is done, and the agent enrolls again with the secret.
    act("reinstall").await;
    settled(db.clone()).await;
    let t0 = Instant::now();
    loop {
        let now = std::fs::read_to_string(&credential_file).unwrap_or_default();
        if now.starts_with(agents::CREDENTIAL_PREFIX) && now != first {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "never enrolled again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&ran).unwrap(),
        "reboot\npower-off\nreinstall\n",
        "each run once"
    );

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The heartbeat responder's registration with host maintenance: made once
/// the host is known; not repeated while pulses come; made again when they
/// stop (maintenance restarted and forgot the host). The test pulses the
/// responder itself, as maintenance would, with the key it handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_registers_its_responder_again_only_when_pulses_stop() {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use starling_heartbeat::{Key, Pulser};
    use starling_mtce::Network;
    use starling_mtce_api::MtceState;

    let dir = std::env::temp_dir().join(format!("starling-agent-hb-{}", std::process::id()));
    let (db, state, secret, inv_addr) = inventory(&dir).await;

    // Host maintenance's API (its heartbeat left to the test).
    let key = Key::generate().unwrap();
    let targets = Arc::new(Mutex::new(BTreeMap::new()));
    let mtce_state = MtceState {
        targets: targets.clone(),
        key: key.clone(),
        ..mtce_state(&db, state, None)
    };
    let mtce_addr = serve_mtce(mtce_state).await;

    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vm-virtio-1node");
    let cfg = Config {
        root: Root::new(&src),
        inventory_url: format!("http://{inv_addr}"),
        auth: Auth::Enrolled(Arc::new(
            Enrollment::open(Some(secret), dir.join("state").join("credential")).unwrap(),
        )),
        http: reqwest::Client::new(),
        interval: Duration::from_secs(1),
        mgmt_interface: None,
        action_command: None,
        action_timeout: Duration::from_secs(10),
        command_wait: Duration::from_secs(2),
        lldpcli: Vec::new(),
        heartbeat: Some(starling_agent::run::HeartbeatSetup {
            mtce_url: format!("http://{mtce_addr}"),
            port,
            cluster_address: None,
        }),
        pmon_dir: None,
        resources: None,
        configure: None,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run(cfg, async move {
        let _ = stop_rx.await;
    }));
    let registered = |wait: Duration| {
        let targets = targets.clone();
        async move {
            let t0 = Instant::now();
            while t0.elapsed() < wait {
                if let Some(t) = targets.lock().unwrap().values().next().copied() {
                    return Some(t);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            None
        }
    };
    let (host, at) = {
        let at = registered(Duration::from_secs(20))
            .await
            .expect("the responder is registered")
            .mgmt;
        let m = targets.lock().unwrap();
        (m.keys().next().unwrap().clone(), at)
    };
    assert_eq!(at.port(), port);

    // Pulsed, the agent stays quiet: forgotten meanwhile, it does not come
    // back while pulses keep coming.
    targets.lock().unwrap().clear();
    let mut pulser = Pulser::bind(Network::Mgmt, "127.0.0.1:0".parse().unwrap(), key)
        .await
        .unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(16) {
        let until = tokio::time::Instant::now() + Duration::from_millis(100);
        let answered = pulser.period(&[(host.clone(), at)], until).await;
        assert!(answered.contains(&host), "the responder answers");
    }
    assert!(
        targets.lock().unwrap().is_empty(),
        "registered again though pulsed"
    );
    // No pulses any more: it registers again.
    assert!(
        registered(Duration::from_secs(30)).await.is_some(),
        "never registered again once pulses stopped"
    );
    stop_tx.send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), agent).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Alarm effects as they reach fault management.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<starling_common::alarm::AlarmEffect>>);

impl starling_common::alarm::AlarmSink for Recorded {
    fn send(
        &self,
        effect: starling_common::alarm::AlarmEffect,
    ) -> starling_common::alarm::SinkFuture<'_> {
        self.0.lock().unwrap().push(effect);
        Box::pin(async { Ok(()) })
    }
}

/// The process monitor's findings reach host maintenance over HTTP with
/// the host's own credential: a process failed past its restarts raises
/// 200.006 (and its first failure is logged), its recovery clears it; the
/// route takes a host's own report only, and refuses a malformed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_failures_reach_maintenance_as_alarms() {
    use starling_common::alarm::AlarmEffect;

    let dir = std::env::temp_dir().join(format!("starling-agent-pmon-{}", std::process::id()));
    let (db, state, secret, inv_addr) = inventory(&dir).await;
    let alarms = Arc::new(Recorded::default());
    let mtce_state = mtce_state(&db, state, Some(alarms.clone()));
    let monitors = mtce_state.monitors.clone();
    let mtce_addr = serve_mtce(mtce_state).await;

    // One monitored daemon: restarted once, then its failure asserted.
    let pmon_dir = dir.join("pmon.d");
    std::fs::create_dir_all(&pmon_dir).unwrap();
    let script = dir.join("daemon");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nd='{d}'\nif [ -e \"$d/broken\" ]; then sleep 0.2 & else sleep 300 & fi\necho $! > \"$d/daemon.pid\"\n",
            d = dir.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(
        std::process::Command::new(&script)
            .arg("start")
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(
        pmon_dir.join("daemon.conf"),
        format!(
            "[process]\nprocess = daemon\nscript = {}\npidfile = {}/daemon.pid\nseverity = major\nrestarts = 1\ninterval = 1\ndebounce = 2\nstartuptime = 0\n",
            script.display(),
            dir.display()
        ),
    )
    .unwrap();
    let pid = || -> i32 {
        std::fs::read_to_string(dir.join("daemon.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let kill = |p: i32| {
        let _ = std::process::Command::new("kill")
            .args(["-9", &p.to_string()])
            .status();
    };

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vm-virtio-1node");
    let credential_file = dir.join("state").join("credential");
    let cfg = Config {
        root: Root::new(&src),
        inventory_url: format!("http://{inv_addr}"),
        auth: Auth::Enrolled(Arc::new(
            Enrollment::open(Some(secret), credential_file.clone()).unwrap(),
        )),
        http: reqwest::Client::new(),
        interval: Duration::from_secs(1),
        mgmt_interface: None,
        action_command: None,
        action_timeout: Duration::from_secs(10),
        command_wait: Duration::from_secs(2),
        lldpcli: Vec::new(),
        heartbeat: Some(starling_agent::run::HeartbeatSetup {
            mtce_url: format!("http://{mtce_addr}"),
            port: std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
            cluster_address: None,
        }),
        pmon_dir: Some(pmon_dir.clone()),
        resources: None,
        configure: None,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run(cfg, async move {
        let _ = stop_rx.await;
    }));
    let wait = |what: &'static str, f: &dyn Fn(&[AlarmEffect]) -> bool| {
        let t0 = Instant::now();
        loop {
            if f(&alarms.0.lock().unwrap()) {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}: {:?}",
                alarms.0.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // The first report (nothing failed) names the host.
    let host = {
        let t0 = Instant::now();
        loop {
            if let Some(h) = monitors.lock().unwrap().hosts().next().cloned() {
                break h;
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "no report");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert!(alarms.0.lock().unwrap().is_empty());

    std::fs::write(dir.join("broken"), "").unwrap();
    kill(pid());
    tokio::task::block_in_place(|| {
        wait("the failure's alarm", &|a| {
            a.iter()
                .any(|e| matches!(e, AlarmEffect::Set(x) if x.def.id == "200.006"))
        })
    });
    {
        let a = alarms.0.lock().unwrap();
        let log = a
            .iter()
            .find_map(|e| match e {
                AlarmEffect::Log(x) => Some(x.clone()),
                _ => None,
            })
            .expect("the first failure logged");
        assert_eq!(log.def.id, "200.006");
        let set = a
            .iter()
            .find_map(|e| match e {
                AlarmEffect::Set(x) => Some(x.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(set.def.severity, "major");
        assert!(
            set.entity_instance_id.ends_with(".process=daemon"),
            "{set:?}"
        );
        assert!(
            set.reason_text
                .contains("is degraded due to the failure of its 'daemon' process")
        );
    }
    assert!(monitors.lock().unwrap().impact(&host).degraded);

    std::fs::remove_file(dir.join("broken")).unwrap();
    tokio::task::block_in_place(|| {
        wait("the alarm cleared", &|a| {
            a.iter().any(|e| {
                matches!(
                    e,
                    AlarmEffect::Clear {
                        alarm_id: "200.006",
                        ..
                    }
                )
            })
        })
    });
    assert!(!monitors.lock().unwrap().impact(&host).degraded);

    // Only the host's own agent reports for it; a malformed report is
    // refused with the reason, and nothing changes.
    let credential = std::fs::read_to_string(&credential_file).unwrap();
    let client = reqwest::Client::new();
    let put = |path: String, token: &str, body: serde_json::Value| {
        client
            .put(format!("http://{mtce_addr}{path}"))
            .header("X-Auth-Token", token.trim())
            .json(&body)
            .send()
    };
    let ok_body = serde_json::json!({"instance": "x", "conditions": []});
    let r = put(
        format!("/v1/agent/{}/monitors", starling_common::new_uuid()),
        &credential,
        ok_body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = put(format!("/v1/agent/{host}/monitors"), "made-up", ok_body)
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let before = alarms.0.lock().unwrap().len();
    for bad in [
        serde_json::json!({"instance": "x", "conditions": [{"kind": "process", "process": "a b", "severity": "major", "restarts": 1}]}),
        serde_json::json!({"instance": "x", "conditions": [{"kind": "process", "process": "a", "severity": "dire", "restarts": 1}]}),
        serde_json::json!({"instance": "", "conditions": []}),
        serde_json::json!({"instance": "x", "extra": 1}),
    ] {
        let r = put(
            format!("/v1/agent/{host}/monitors"),
            &credential,
            bad.clone(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error_message"].is_string() || body.to_string().contains("faultstring"),
            "{body}"
        );
    }
    assert_eq!(
        alarms.0.lock().unwrap().len(),
        before,
        "nothing raised by a refused report"
    );

    stop_tx.send(()).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), agent).await;
    kill(pid());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Host maintenance's state over `state`'s inventory (its heartbeat left
/// to the test), reporting to `alarms`.
fn mtce_state(
    db: &Db,
    state: InventoryState,
    alarms: Option<Arc<dyn starling_common::alarm::AlarmSink>>,
) -> starling_mtce_api::MtceState {
    starling_mtce_api::MtceState {
        db: db.clone(),
        hosts: Arc::new(agents::InventoryHosts { st: state }),
        alarms,
        targets: Default::default(),
        key: starling_heartbeat::Key::generate().unwrap(),
        period: Duration::from_millis(100),
        pulses: Arc::default(),
        levels: Arc::default(),
        timers: Default::default(),
        bmc: Default::default(),
        monitors: Default::default(),
    }
}

/// Serves host maintenance's API on loopback: its address.
async fn serve_mtce(st: starling_mtce_api::MtceState) -> std::net::SocketAddr {
    let mtce = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = mtce.local_addr().unwrap();
    let app = starling_mtce_api::router(st);
    tokio::spawn(async move {
        axum::serve(
            mtce,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    addr
}

/// The agent's configuration loop against the real inventory and
/// configuration APIs: an apply that fails (a step cannot write) leaves
/// the host out of date with the reason; the agent stopped then and
/// started again (its applied uuid never kept) applies at its start, and
/// the host is current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_apply_is_applied_again_at_the_agents_next_start() {
    let dir = std::env::temp_dir().join(format!("starling-agent-cfg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::open(
        &format!("sqlite://{}/cfg.db", dir.display()),
        Tuning::default(),
        &[
            starling_inventory_store::SCHEMA,
            starling_config_store::SCHEMA,
        ],
    )
    .await
    .unwrap();
    let spec = SystemSpec {
        name: "edge".into(),
        system_type: SystemType::Standard,
        system_mode: SystemMode::Duplex,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| {
        let mut r = InventoryStore::new(c);
        ops::ensure_system(&mut r, &spec, SystemClock.now())?;
        ops::add_host(
            &mut r,
            &starling_inventory::validate::NewHost {
                hostname: Some("compute-0".into()),
                personality: Some("worker".into()),
                mgmt_mac: Some("02:fc:00:00:00:01".into()),
                ..Default::default()
            },
            SystemClock.now(),
        )
        .map(|_| ())
    })
    .await
    .unwrap();
    let init = starling_config::Initial {
        nameservers: "192.0.2.53".into(),
        ntpservers: String::new(),
        oam: starling_config::OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            ..Default::default()
        },
        networks: Default::default(),
        simplex: false,
    };
    db.write(move |c| {
        starling_config::ops::ensure_records(
            &mut starling_config_store::ConfigStore::new(c),
            &init,
            SystemClock.now(),
        )
    })
    .await
    .unwrap();
    let inv = state_of(&db);
    let secret = enrollment(&db, &dir).await;
    let hosts: Arc<dyn starling_service::Hosts> =
        Arc::new(agents::InventoryHosts { st: inv.clone() });
    let cfg_state =
        starling_config_api::ConfigState::new(db.clone(), Arc::new(SystemClock), hosts, None);
    let app = starling_config_api::router(cfg_state, Arc::new(OpenAccess))
        .merge(router(inv, Arc::new(OpenAccess)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The host's /etc/hosts cannot be written (a directory stands there).
    let root = dir.join("host-root");
    std::fs::create_dir_all(root.join("etc/hosts")).unwrap();
    let applied_file = dir.join("state/config-applied");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vm-virtio-1node");
    let start = || {
        let cfg = Config {
            root: Root::new(&fixture),
            inventory_url: format!("http://{addr}/v1"),
            auth: Auth::Enrolled(Arc::new(
                Enrollment::open(Some(secret.clone()), dir.join("state/credential")).unwrap(),
            )),
            http: reqwest::Client::new(),
            interval: Duration::from_millis(300),
            mgmt_interface: None,
            action_command: None,
            action_timeout: Duration::from_secs(10),
            command_wait: Duration::from_secs(2),
            lldpcli: Vec::new(),
            heartbeat: None,
            pmon_dir: None,
            resources: None,
            configure: Some(starling_agent::apply::ApplySetup {
                root: root.clone(),
                applied_file: applied_file.clone(),
                network: Default::default(),
            }),
        };
        tokio::spawn(run(cfg, std::future::pending::<()>()))
    };
    let host = || {
        let db = db.clone();
        async move {
            db.read(|c| InventoryStore::new(c).host(&HostRef::Name("compute-0".into())))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let agent = start();
    let t0 = Instant::now();
    let h = loop {
        let h = host().await;
        if h.config_failure.is_some() {
            break h;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no failure reported: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        h.config_failure.as_deref().unwrap().starts_with("hosts: "),
        "{h:?}"
    );
    assert_eq!(h.config_status.as_deref(), Some("Config out-of-date"));
    assert_ne!(h.config_applied, h.config_target);
    assert!(
        !applied_file.exists(),
        "a failed apply is not kept as applied"
    );
    // The resolv.conf step ran all the same.
    let resolv = std::fs::read_to_string(root.join("etc/resolv.conf")).unwrap();
    assert!(resolv.contains("nameserver 192.0.2.53"), "{resolv}");

    // Stopped, repaired, started again: it applies at its start.
    agent.abort();
    let _ = agent.await;
    std::fs::remove_dir(root.join("etc/hosts")).unwrap();
    let agent = start();
    let t0 = Instant::now();
    let h = loop {
        let h = host().await;
        if h.config_target.is_some() && h.config_applied == h.config_target {
            break h;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "never applied: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((h.config_status, h.config_failure), (None, None));
    let kept = std::fs::read_to_string(&applied_file).unwrap();
    assert_eq!(Some(kept.trim()), h.config_applied.as_deref());
    assert!(
        std::fs::read_to_string(root.join("etc/hosts"))
            .unwrap()
            .contains("oamcontroller")
    );
    agent.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
