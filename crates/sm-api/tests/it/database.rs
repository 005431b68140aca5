//! The database SM runs, for real: two controllers' SMs in process, each
//! with a PostgreSQL of its own (the machine's binaries, its own data
//! directory and port), streaming replication between them. controller-0
//! bootstraps the cluster; controller-1, elected active, copies it and is
//! promoted; a row written on the primary is read on the standby; a swact
//! moves the primary (the old one follows the new timeline); a failover
//! after the primary's SM and PostgreSQL die promotes the standby, which,
//! alone, degrades its group and takes writes asynchronously — or, with
//! `alone=read-only`, refuses them until its standby streams again — and
//! the old primary, started again, is rewound (pg_rewind) and follows.
//!
//! PostgreSQL runs as its own user (SM runs it with runuser as root):
//! without root, or without PostgreSQL's binaries, the test says so and
//! skips; STARLING_REQUIRE_DB (CI) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use starling_sm_api::postgres::bindir;
use starling_sm_store as store;
use starling_testkit::{free_port, sushy};

use crate::{Rig, config, rig, write};

struct Side {
    name: &'static str,
    rig: Rig,
    pgdata: PathBuf,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

fn psql(bin: &Path, port: u16, sql: &str) -> Result<String, String> {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join("psql"))
        .args(["-X", "-A", "-t", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-c", sql])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Waits until `f` holds of the answer to `sql` on `port`.
fn until_sql(bin: &Path, port: u16, sql: &str, secs: u64, f: impl Fn(&str) -> bool) -> String {
    let t0 = Instant::now();
    loop {
        let r = psql(bin, port, sql);
        if let Ok(v) = &r
            && f(v)
        {
            return v.clone();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "{sql} on {port}: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `f` holds of the alarms `s` has raised now.
fn until_alarms(s: &Side, secs: u64, f: impl Fn(&[(String, String, String)]) -> bool) {
    let t0 = Instant::now();
    loop {
        let now = s.rig.alarms.raised();
        if f(&now) {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "{}'s alarms: {now:?}",
            s.name
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn side(
    name: &'static str,
    peer: &'static str,
    ports: ([(u16, u16); 2], u16, u16),
    key: &str,
    bmc: &sushy::Emulator,
    bootstrap: bool,
    alone: &str,
) -> Side {
    let (r, db) = rig().await;
    let d = r.dir.path().to_path_buf();
    // PostgreSQL's user must reach its data directory.
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let pgdata = d.join("pgdata");
    write(&d.join("sm.key"), &format!("{key}\n"), 0o600);
    write(&d.join("bmc-password"), sushy::PASSWORD, 0o600);
    let script = d.join("flag.sh").display().to_string();
    let (paths, pg_port, peer_pg_port) = ports;
    let (pd, url) = (pgdata.display().to_string(), bmc.url.clone());
    let alone = alone.to_string();
    db.write(move |c| {
        store::set_plugin(c, "starling-api", "exec", &script)?;
        store::set_instance(
            c,
            "starling-api",
            &[
                ("name".into(), "starling-api".into()),
                ("flag".into(), d.join("starling-api").display().to_string()),
                ("log".into(), d.join("log").display().to_string()),
            ],
        )?;
        store::set_provisioned(c, "postgres", true)?;
        let mut params = vec![
            ("pgdata".to_string(), pd.clone()),
            ("port".into(), pg_port.to_string()),
            ("peer".into(), "127.0.0.1".into()),
            ("peer_port".into(), peer_pg_port.to_string()),
            ("node".into(), name.into()),
            ("peer_node".into(), peer.into()),
            ("alone".into(), alone.clone()),
        ];
        if bootstrap {
            params.push(("bootstrap".into(), "yes".into()));
        }
        store::set_instance(c, "postgres", &params)?;
        crate::loopback_paths(c, paths)?;
        store::set_domain(c, None, None, None, Some(1000))?;
        store::set_configuration(c, "PEER_NODE", peer)?;
        store::set_configuration(c, "FAILPENDING_TIMEOUT_MS", "1200")?;
        store::set_configuration(c, "STANDBY_FENCE_DELAY_MS", "500")?;
        store::set_configuration(c, "PEER_BMC_TYPE", "redfish")?;
        store::set_configuration(c, "PEER_BMC_ADDRESS", &url)?;
        store::set_configuration(c, "PEER_BMC_USERNAME", "root")?;
        // Audits every second: the primary's replication mode follows its
        // standby quickly.
        c.exec(
            "UPDATE sm_action SET interval_s = 1 WHERE interval_s > 0",
            &[],
        )?;
        Ok::<_, starling_common::Error>(())
    })
    .await
    .unwrap();
    Side {
        name,
        rig: r,
        pgdata,
        task: None,
    }
}

fn start(s: &mut Side) {
    let mut cfg = config(&s.rig);
    cfg.node = s.name.into();
    s.task = Some(tokio::spawn(starling_sm_api::run(
        cfg,
        std::future::pending(),
    )));
}

impl Drop for Side {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(bin) = bindir() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("pg_ctl"))
                .args(["stop", "-m", "immediate", "-D"])
                .arg(&self.pgdata)
                .output();
        }
    }
}

fn can_run() -> Option<PathBuf> {
    let root = rustix::process::geteuid().is_root();
    let bin = bindir();
    let user = Command::new("id")
        .arg("postgres")
        .output()
        .is_ok_and(|o| o.status.success());
    if root && bin.is_some() && user {
        return bin;
    }
    assert!(
        std::env::var_os("STARLING_REQUIRE_DB").is_none(),
        "STARLING_REQUIRE_DB is set but the database test cannot run (root: {root}, PostgreSQL: {}, user postgres: {user})",
        bin.is_some()
    );
    eprintln!("SKIPPED: SM's database test needs root, PostgreSQL's binaries and its user");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_follows_the_active_controller_through_swact_and_failover() {
    follows("async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_told_to_refuses_writes_while_its_standby_is_gone() {
    follows("read-only").await;
}

/// Bootstrap, swact, failover and rejoin, the primary alone doing as
/// `alone` says.
async fn follows(alone: &str) {
    let Some(bin) = can_run() else { return };
    if std::env::var_os("STARLING_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("starling_sm_api=info")
            .try_init();
    }
    let Some(emulator) = sushy::emulator_or_skip() else {
        return;
    };
    let bmc0 = sushy::start(&emulator, &format!("db-{alone}-bmc0"), false);
    let bmc1 = sushy::start(&emulator, &format!("db-{alone}-bmc1"), false);
    let key = starling_sm_peer::Key::generate().unwrap().to_hex();
    let (a, b, c, d) = (free_port(), free_port(), free_port(), free_port());
    let (pg0, pg1) = (free_port(), free_port());
    let mut s0 = side(
        "controller-0",
        "controller-1",
        ([(a, b), (c, d)], pg0, pg1),
        &key,
        &bmc1,
        true,
        alone,
    )
    .await;
    let mut s1 = side(
        "controller-1",
        "controller-0",
        ([(b, a), (d, c)], pg1, pg0),
        &key,
        &bmc0,
        false,
        alone,
    )
    .await;
    start(&mut s0);
    start(&mut s1);
    let recovery = "SELECT pg_is_in_recovery()";
    // controller-1 (elected) copies controller-0's new cluster and is
    // promoted; controller-0 streams from it.
    until_sql(&bin, pg1, recovery, 90, |v| v == "f");
    until_sql(&bin, pg0, recovery, 60, |v| v == "t");
    // (A new primary told `alone=read-only` takes writes once its
    // standby streams.)
    let read_only = "SHOW default_transaction_read_only";
    until_sql(&bin, pg1, read_only, 60, |v| v == "off");
    psql(
        &bin,
        pg1,
        "CREATE TABLE t (n int); INSERT INTO t VALUES (1)",
    )
    .unwrap();
    until_sql(&bin, pg0, "SELECT count(*) FROM t", 30, |v| v == "1");
    // Synchronous while the standby streams.
    until_sql(&bin, pg1, "SHOW synchronous_standby_names", 30, |v| {
        v.contains("controller-0")
    });

    // Swact: controller-0's database becomes the primary; the old one
    // follows the new timeline.
    let r = starling_sm_types::client::SmClient::new(&s1.rig.api)
        .unwrap()
        .servicenode("controller-1", "swact", None)
        .await
        .unwrap();
    assert_eq!(r.error_code, "0", "{r:?}");
    until_sql(&bin, pg0, recovery, 60, |v| v == "f");
    until_sql(&bin, pg1, recovery, 60, |v| v == "t");
    until_sql(&bin, pg0, read_only, 60, |v| v == "off");
    psql(&bin, pg0, "INSERT INTO t VALUES (2)").unwrap();
    until_sql(&bin, pg1, "SELECT count(*) FROM t", 30, |v| v == "2");

    // Failover: controller-0's SM and database die where they stand.
    if let Some(t) = s0.task.take() {
        t.abort();
    }
    let _ = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join("pg_ctl"))
        .args(["stop", "-m", "immediate", "-D"])
        .arg(&s0.pgdata)
        .output();
    until_sql(&bin, pg1, recovery, 60, |v| v == "f");
    assert_eq!(bmc0.resets(), 1, "controller-0 fenced first");
    if alone == "read-only" {
        // Writes refused with the standby gone; it stays named, so no
        // commit is acknowledged on this controller alone.
        until_sql(&bin, pg1, read_only, 30, |v| v == "on");
        let refused = psql(&bin, pg1, "INSERT INTO t VALUES (3)").unwrap_err();
        assert!(refused.contains("read-only transaction"), "{refused}");
        assert!(
            psql(&bin, pg1, "SHOW synchronous_standby_names")
                .unwrap()
                .contains("controller-0")
        );
    } else {
        // Asynchronous now: the primary takes writes with its standby gone.
        until_sql(&bin, pg1, "SHOW synchronous_standby_names", 30, |v| {
            v.is_empty()
        });
        psql(&bin, pg1, "INSERT INTO t VALUES (3)").unwrap();
    }
    // Alone, the primary degrades its group (after the grace a swact's
    // reconnection takes), saying why.
    let degraded = (
        "400.001".to_string(),
        "service_domain=controller.service_group=controller-services.host=controller-1".to_string(),
        "major".to_string(),
    );
    until_alarms(&s1, 60, |a| a.contains(&degraded));
    let why = if alone == "read-only" {
        "writes refused"
    } else {
        "replicating asynchronously"
    };
    let said: Vec<String> = s1
        .rig
        .alarms
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            starling_common::alarm::AlarmEffect::Set(a) if a.def.id == "400.001" => {
                Some(a.reason_text.clone())
            }
            _ => None,
        })
        .collect();
    assert!(
        said.iter().any(|r| r.contains(&format!(
            "postgres: its standby (controller-0) does not stream: {why}"
        ))),
        "the reason given: {said:?}"
    );
    // controller-0 comes back: its old primary is rewound and follows.
    start(&mut s0);
    until_sql(&bin, pg0, recovery, 90, |v| v == "t");
    if alone == "read-only" {
        // Its standby streams: writes are taken again.
        until_sql(&bin, pg1, read_only, 60, |v| v == "off");
        psql(&bin, pg1, "INSERT INTO t VALUES (3)").unwrap();
    }
    until_sql(&bin, pg0, "SELECT count(*) FROM t", 60, |v| v == "3");
    until_alarms(&s1, 60, |a| !a.iter().any(|x| x.0 == "400.001"));
    // Rewound, not copied afresh: no data directory was set aside.
    let aside: Vec<_> = std::fs::read_dir(s0.rig.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("pgdata.old-"))
        .collect();
    assert!(
        aside.is_empty(),
        "the old primary was copied afresh, not rewound"
    );
    let _ = (&s0.rig, &s1.rig);
    drop(s1);
}
