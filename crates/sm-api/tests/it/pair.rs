//! Two controllers' SMs in process, paired over loopback on two paths
//! (the management and cluster-host interfaces, each its own ports),
//! sealed with one key: they elect one active; when the active's SM dies
//! (its task dropped mid-run, as kill -9 would: its services keep
//! running), the standby fences it through its BMC (sushy-tools' Redfish
//! emulator) and only then takes over — and without a BMC it stays
//! standby. Every 20 ms each side's own groups are sampled: never both
//! active.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use starling_db::Db;
use starling_sm_store as store;
use starling_testkit::{free_port, sushy};

use crate::{Rig, config, rig, write};

struct Ctl {
    name: &'static str,
    rig: Rig,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

/// Every service of `name`'s SM run by the flag script; paired with the
/// other over two loopback paths; fenced through `bmc` when given.
async fn controller(
    _name: &'static str,
    peer: &'static str,
    ports: Ports,
    key: &str,
    bmc: Option<&sushy::Emulator>,
) -> (Rig, Db) {
    let (r, db) = rig().await;
    let script = r.dir.path().join("flag.sh");
    let d = r.dir.path().to_path_buf();
    let s = script.display().to_string();
    write(&r.dir.path().join("sm.key"), &format!("{key}\n"), 0o600);
    let bmc_cfg = bmc.map(|b| (b.url.clone(), r.dir.path().join("bmc-password")));
    if let Some((_, f)) = &bmc_cfg {
        write(f, sushy::PASSWORD, 0o600);
    }
    db.write(move |c| {
        store::set_plugin(c, "starling-api", "exec", &s)?;
        store::set_instance(
            c,
            "starling-api",
            &[
                ("name".into(), "starling-api".into()),
                ("flag".into(), d.join("starling-api").display().to_string()),
                ("log".into(), d.join("log").display().to_string()),
            ],
        )?;
        crate::loopback_paths(c, ports)?;
        store::set_domain(c, None, None, None, Some(1000))?;
        store::set_configuration(c, "PEER_NODE", peer)?;
        store::set_configuration(c, "FAILPENDING_TIMEOUT_MS", "1200")?;
        store::set_configuration(c, "STANDBY_FENCE_DELAY_MS", "500")?;
        if let Some((url, _)) = &bmc_cfg {
            store::set_configuration(c, "PEER_BMC_TYPE", "redfish")?;
            store::set_configuration(c, "PEER_BMC_ADDRESS", url)?;
            store::set_configuration(c, "PEER_BMC_USERNAME", "root")?;
        }
        Ok::<_, starling_common::Error>(())
    })
    .await
    .unwrap();
    (r, db)
}

async fn start(name: &'static str, r: Rig) -> Ctl {
    let mut cfg = config(&r);
    cfg.node = name.into();
    let task = tokio::spawn(starling_sm_api::run(cfg, std::future::pending()));
    Ctl { name, rig: r, task }
}

/// The state of `name`'s own groups, as its sm-api says.
async fn own_states(api: &str, name: &str) -> Vec<String> {
    let Ok(r) = reqwest::get(format!("{api}/v1/sm_sda")).await else {
        return Vec::new();
    };
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v["sm_sda"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|g| g["node_name"] == name)
                .map(|g| g["state"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn active(states: &[String]) -> bool {
    states.iter().any(|s| s == "active" || s == "go-active")
}

async fn until_states(c: &Ctl, want: &str, secs: u64) -> Duration {
    let t0 = Instant::now();
    loop {
        let s = own_states(&c.rig.api, c.name).await;
        if s.len() == 2 && s.iter().all(|x| x == want) {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "{} never {want}: {s:?}",
            c.name
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Samples both sides every 20 ms until stopped: the number of samples in
/// which both held an active group.
fn sampler(
    a: (String, &'static str),
    b: (String, &'static str),
    alive_b: Arc<AtomicBool>,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<(u32, u32)>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let task = tokio::spawn(async move {
        let (mut samples, mut both) = (0, 0);
        while !s.load(Ordering::Relaxed) {
            let x = active(&own_states(&a.0, a.1).await);
            // A side whose SM is dead holds what it held; its sm-api
            // still answers from its database.
            let y = alive_b.load(Ordering::Relaxed) && active(&own_states(&b.0, b.1).await);
            samples += 1;
            if x && y {
                both += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (samples, both)
    });
    (stop, task)
}

fn key() -> String {
    starling_sm_peer::Key::generate().unwrap().to_hex()
}

/// Each path's (own port, peer's port), for two paths.
type Ports = [(u16, u16); 2];

fn ports() -> (Ports, Ports) {
    let (a, b, c, d) = (free_port(), free_port(), free_port(), free_port());
    ([(a, b), (c, d)], [(b, a), (d, c)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pair_elects_one_active_and_a_silent_active_is_fenced_before_the_standby_takes_over() {
    let Some(bin) = sushy::emulator_or_skip() else {
        return;
    };
    // controller-0's BMC, fenced by controller-1, and controller-1's.
    let bmc0 = sushy::start(&bin, "sm-bmc0", false);
    let bmc1 = sushy::start(&bin, "sm-bmc1", false);
    let k = key();
    let (p0, p1) = ports();
    let (r0, db0) = controller("controller-0", "controller-1", p0, &k, Some(&bmc1)).await;
    let (r1, db1) = controller("controller-1", "controller-0", p1, &k, Some(&bmc0)).await;
    let c0 = start("controller-0", r0).await;
    let c1 = start("controller-1", r1).await;
    let alive1 = Arc::new(AtomicBool::new(true));
    let (stop, sampling) = sampler(
        (c0.rig.api.clone(), c0.name),
        (c1.rig.api.clone(), c1.name),
        alive1.clone(),
    );
    // Equal generation and priority: the greater name leads.
    until_states(&c1, "active", 20).await;
    until_states(&c0, "standby", 5).await;
    // Each side lists the other's groups too (as its messages tell).
    let sda = crate::until(&c0.rig.api, "/v1/sm_sda", 5, |v| {
        v["sm_sda"].as_array().is_some_and(|a| {
            a.iter()
                .any(|g| g["node_name"] == "controller-1" && g["state"] == "active")
        })
    })
    .await;
    let theirs: Vec<&Value> = sda["sm_sda"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["node_name"] == "controller-1")
        .collect();
    assert_eq!(theirs.len(), 2, "{sda}");
    assert!(theirs.iter().all(|g| g["state"] == "active"), "{sda}");
    assert_eq!(bmc0.resets() + bmc1.resets(), 0, "nobody fenced");
    // A healthy pair raises nothing.
    assert_eq!(c0.rig.alarms.raised(), []);
    assert_eq!(c1.rig.alarms.raised(), []);

    // The active's SM dies where it stands.
    alive1.store(false, Ordering::Relaxed);
    let cut = Instant::now();
    c1.task.abort();
    until_states(&c0, "active", 20).await;
    let took = cut.elapsed();
    let log = bmc1.log();
    assert_eq!(
        bmc1.resets(),
        1,
        "controller-1 fenced once: {}",
        &log[log.len().saturating_sub(2000)..]
    );
    assert_eq!(bmc0.resets(), 0);
    eprintln!("failover: SM killed -> groups active on the peer in {took:?}");
    // The survivor's generation is bumped: it outranks the one that
    // comes back.
    let generation = db0
        .read(|c| store::load(c))
        .await
        .unwrap()
        .domain
        .generation;
    assert_eq!(generation, 1);
    let generation = db1
        .read(|c| store::load(c))
        .await
        .unwrap()
        .domain
        .generation;
    assert_eq!(generation, 0, "controller-1 never took over");
    let nodes: Value = reqwest::get(format!("{}/v1/nodes/controller-1", c0.rig.api))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodes["availability_status"], "failed", "{nodes}");
    // The survivor says what is lost: both paths (400.005) and each
    // group's standby (400.002).
    let raised = c0.rig.alarms.raised();
    let want: Vec<(String, String, String)> = [
        (
            "400.002",
            "service_domain=controller.service_group=controller-services",
            "major",
        ),
        (
            "400.002",
            "service_domain=controller.service_group=oam-services",
            "major",
        ),
        ("400.005", "host=controller-0.network=cluster-host", "major"),
        ("400.005", "host=controller-0.network=mgmt", "major"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(raised, want);
    stop.store(true, Ordering::Relaxed);
    let (samples, both) = sampling.await.unwrap();
    assert!(samples > 50, "{samples} samples");
    assert_eq!(both, 0, "both active in {both} of {samples} samples");
    c0.task.abort();
}

/// Two controllers with no BMC, paired: controller-1 active (the
/// greater name), controller-0 standby.
async fn unfenced_pair() -> (Ctl, Ctl) {
    let k = key();
    let (p0, p1) = ports();
    let (r0, _) = controller("controller-0", "controller-1", p0, &k, None).await;
    let (r1, _) = controller("controller-1", "controller-0", p1, &k, None).await;
    let c0 = start("controller-0", r0).await;
    let c1 = start("controller-1", r1).await;
    until_states(&c1, "active", 20).await;
    until_states(&c0, "standby", 5).await;
    (c0, c1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_fence_the_standby_of_a_silent_active_stays_standby() {
    let (c0, c1) = unfenced_pair().await;
    c1.task.abort();
    // Well past fail-pending and the fence delay: still standby.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        let s = own_states(&c0.rig.api, c0.name).await;
        assert!(!active(&s), "took over without a fence: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let nodes: Value = reqwest::get(format!("{}/v1/nodes/controller-1", c0.rig.api))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(nodes["availability_status"], "failed", "{nodes}");
    c0.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_with_the_wrong_key_is_never_heard() {
    let (p0, p1) = ports();
    let (r0, _) = controller("controller-0", "controller-1", p0, &key(), None).await;
    let (r1, _) = controller("controller-1", "controller-0", p1, &key(), None).await;
    let c0 = start("controller-0", r0).await;
    let c1 = start("controller-1", r1).await;
    // Each waits for a peer it never hears; with no fence neither takes
    // over (each stays standby and says so).
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(4) {
        for c in [&c0, &c1] {
            let s = own_states(&c.rig.api, c.name).await;
            assert!(!active(&s), "{} went active unheard: {s:?}", c.name);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c0.task.abort();
    c1.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_whose_sm_restarts_at_once_never_overlaps_its_peer() {
    let (c0, c1) = unfenced_pair().await;
    let alive1 = Arc::new(AtomicBool::new(true));
    let (stop, sampling) = sampler(
        (c0.rig.api.clone(), c0.name),
        (c1.rig.api.clone(), c1.name),
        alive1.clone(),
    );
    // Killed and started again at once (systemd's Restart=): its services
    // still run. The new SM finds them, tells the peer it is active until
    // they are stopped, and only then do the two elect again.
    c1.task.abort();
    let _ = c1.task.await;
    let c1 = start("controller-1", c1.rig).await;
    // It stops what it found before the pair elects again.
    until_states(&c1, "standby", 20).await;
    until_states(&c1, "active", 20).await;
    until_states(&c0, "standby", 5).await;
    stop.store(true, Ordering::Relaxed);
    let (samples, both) = sampling.await.unwrap();
    assert!(samples > 0, "{samples} samples");
    assert_eq!(both, 0, "both active in {both} of {samples} samples");
    c0.task.abort();
    c1.task.abort();
}

async fn servicenode(api: &str, host: &str, action: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .patch(format!("{api}/v1/servicenode/{host}"))
        .json(&serde_json::json!({"origin": "test", "action": action, "admin": "unknown", "oper": "unknown", "avail": ""}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swact_stops_the_active_before_the_standby_starts() {
    let (c0, c1) = unfenced_pair().await;
    // Asked of the wrong controller, or for what SM does not do: refused,
    // with the reason.
    let (code, v) = servicenode(&c0.rig.api, "controller-0", "swact").await;
    assert_eq!((code, v["error_code"].as_str()), (200, Some("1")), "{v}");
    assert!(
        v["error_details"]
            .as_str()
            .unwrap()
            .contains("not the active controller"),
        "{v}"
    );
    let (code, v) = servicenode(&c1.rig.api, "controller-0", "swact").await;
    assert_eq!(v["error_code"], "1", "{code} {v}");
    assert!(
        v["error_details"]
            .as_str()
            .unwrap()
            .contains("is not this controller"),
        "{v}"
    );
    let (code, v) = servicenode(&c1.rig.api, "controller-1", "lock").await;
    assert_eq!(code, 400, "{v}");
    // The pre-check says yes and changes nothing.
    let (code, v) = servicenode(&c1.rig.api, "controller-1", "swact-pre-check").await;
    assert_eq!((code, v["error_code"].as_str()), (200, Some("0")), "{v}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(active(&own_states(&c1.rig.api, c1.name).await));

    let alive = Arc::new(AtomicBool::new(true));
    let (stop, sampling) = sampler(
        (c0.rig.api.clone(), c0.name),
        (c1.rig.api.clone(), c1.name),
        alive,
    );
    let asked = Instant::now();
    let (code, v) = servicenode(&c1.rig.api, "controller-1", "swact").await;
    assert_eq!((code, v["error_code"].as_str()), (200, Some("0")), "{v}");
    assert_eq!(v["hostname"], "controller-1");
    until_states(&c0, "active", 20).await;
    until_states(&c1, "standby", 5).await;
    eprintln!(
        "swact: asked -> groups active on the other controller in {:?}",
        asked.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    let (samples, both) = sampling.await.unwrap();
    assert!(samples > 0);
    assert_eq!(both, 0, "both active in {both} of {samples} samples");
    // It stays so: the old active does not take the role back.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(active(&own_states(&c0.rig.api, c0.name).await));
    assert!(!active(&own_states(&c1.rig.api, c1.name).await));
    // And back.
    let (_, v) = servicenode(&c0.rig.api, "controller-0", "swact").await;
    assert_eq!(v["error_code"], "0", "{v}");
    until_states(&c1, "active", 20).await;
    until_states(&c0, "standby", 5).await;
    c0.task.abort();
    c1.task.abort();
}
