//! Service management through sysinv's routes: a swact inventory's rules
//! allow goes to SM on this controller with the operator's token, and is
//! recorded only when SM did it; SM's refusal comes back with its reason.
//! The SMs are real (`starling-sm-api`, in process, paired over loopback,
//! their services an LSB script over flag files).

use super::*;

const SCRIPT: &str = "#!/bin/sh\ncase \"$1\" in\nstart) touch \"$SM_FLAG\" ;;\nstop) rm -f \"$SM_FLAG\" ;;\nstatus) [ -e \"$SM_FLAG\" ] && exit 0; exit 3 ;;\nesac\n";

/// controller-N's SM, paired with the other over two loopback paths.
async fn sm(dir: &std::path::Path, me: usize, ports: [u16; 4], key: &str) -> String {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let d = dir.join(format!("sm{me}"));
    std::fs::create_dir_all(&d).unwrap();
    let script = d.join("flag.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(d.join("sm.key"))
            .unwrap();
        f.write_all(key.as_bytes()).unwrap();
    }
    let url = format!("sqlite://{}", d.join("sm.db").display());
    let db = starling_sm_api::open(&url).await.unwrap();
    let (s, dd) = (script.display().to_string(), d.clone());
    let peer = format!("controller-{}", 1 - me);
    let (mine, theirs) = if me == 0 { (0, 1) } else { (1, 0) };
    db.write(move |c| {
        for svc in ["management-ip", "oam-ip", "starling-api"] {
            starling_sm_store::set_plugin(c, svc, "exec", &s)?;
            starling_sm_store::set_instance(
                c,
                svc,
                &[("flag".into(), dd.join(svc).display().to_string())],
            )?;
        }
        for (i, iface) in ["management-interface", "cluster-host-interface"]
            .into_iter()
            .enumerate()
        {
            starling_sm_store::set_interface(
                c,
                iface,
                &starling_sm_store::InterfaceConfig {
                    device: "lo".into(),
                    address: "127.0.0.1".into(),
                    port: ports[2 * i + mine],
                    peer_address: "127.0.0.1".into(),
                    peer_port: ports[2 * i + theirs],
                },
            )?;
        }
        starling_sm_store::set_domain(c, None, None, None, Some(500))?;
        starling_sm_store::set_configuration(c, "PEER_NODE", &peer)
    })
    .await
    .unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = starling_sm_api::Config {
        node: format!("controller-{me}"),
        database_url: url,
        run_dir: d.join("run"),
        listen,
        tick: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(5),
        key_file: d.join("sm.key"),
        bmc_password_file: d.join("bmc-password"),
        heartbeat_key_file: d.join("heartbeat-key"),
        witness_port: 2106,
        alarms: None,
        auth: Some(Arc::new(OpenAccess)),
    };
    tokio::spawn(starling_sm_api::run(cfg, std::future::pending()));
    format!("http://{listen}")
}

/// The controller inventory records active (sysinv's host capability).
async fn active(t: &TestApp) -> String {
    for name in ["controller-0", "controller-1"] {
        let h = t.get(&format!("/v1/ihosts/{name}")).await;
        if h["capabilities"]["Personality"] == "Controller-Active" {
            return name.into();
        }
    }
    String::new()
}

/// Waits until SM at `url` shows `node`'s groups all `state`.
async fn groups_become(url: &str, node: &str, state: &str) {
    let sm = starling_sm_types::client::SmClient::new(url).unwrap();
    for _ in 0..300 {
        if let Ok(g) = sm.servicegroups().await {
            let mine: Vec<_> = g.iter().filter(|g| g.node_name == node).collect();
            if mine.len() == 2 && mine.iter().all(|g| g.state == state) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let g = sm.servicegroups().await;
    panic!("{node} never {state} at {url}: {g:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swact_goes_to_service_management_and_is_recorded_when_done() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("starling_sm_api=info")
        .try_init();
    let mut t = app().await;
    t.controller_in_service().await;
    t.added("controller-1", "controller", "08:00:27:00:00:02")
        .await;
    t.agent_reports_online("controller-1").await;
    let (st, h) = t.action("controller-1", "unlock").await;
    assert_eq!(st, StatusCode::OK, "{h}");

    let dir = tmp();
    let key = starling_sm_peer::Key::generate().unwrap().to_hex();
    let ports = [
        testkit::free_port(),
        testkit::free_port(),
        testkit::free_port(),
        testkit::free_port(),
    ];
    let sm0 = sm(dir.path(), 0, ports, &key).await;
    let sm1 = sm(dir.path(), 1, ports, &key).await;
    // The greater name is elected: controller-1 active, while inventory
    // still records controller-0 (its bootstrap).
    groups_become(&sm1, "controller-1", "active").await;
    groups_become(&sm0, "controller-0", "standby").await;

    // This inventory runs beside controller-0's SM, which refuses: it is
    // not the active one. Nothing is recorded.
    t.state.sm = Some(starling_sm_types::client::SmClient::new(&sm0).unwrap());
    t.app = router(t.state.clone(), Arc::new(OpenAccess));
    let (st, v) = t.action("controller-0", "swact").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        fault(&v).contains("Swact action not allowed: controller-0 is not the active controller"),
        "{v}"
    );
    assert_eq!(active(&t).await, "controller-0");

    // Swacted back so both agree: through controller-1's SM (as the
    // inventory on controller-1 would).
    let sm = starling_sm_types::client::SmClient::new(&sm1).unwrap();
    let r = sm.servicenode("controller-1", "swact", None).await.unwrap();
    assert_eq!(r.error_code, "0", "{r:?}");
    groups_become(&sm0, "controller-0", "active").await;
    groups_become(&sm1, "controller-1", "standby").await;

    // Now inventory and SM agree controller-0 is active: the swact goes
    // through SM, and is recorded once SM has taken it.
    let (st, v) = t.action("controller-0", "swact").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    groups_become(&sm1, "controller-1", "active").await;
    groups_become(&sm0, "controller-0", "standby").await;
    assert_eq!(active(&t).await, "controller-1");
}
