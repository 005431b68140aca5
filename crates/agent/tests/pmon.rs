//! The process monitor on real processes: a daemon started by an LSB-style
//! script, killed, restarted by the supervisor by pmond's rules, its
//! failure asserted when its restarts do not hold and cleared when one
//! does; the watchdog fed through a real notification socket only while
//! no quorum process has failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use starling_agent::pmon::{self, Monitors};
use starling_mtce::monitors::Condition;
use starling_mtce::process::{ProcessConf, Severity};

/// A scratch directory of its own.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("starling-pmon-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A daemon and its init script in `dir`: `script start` appends a line
/// to `starts` and starts `sleep` in the background, writing its pid to
/// `pid`; while `broken` exists the daemon dies at once.
fn daemon(dir: &Path) -> PathBuf {
    let script = dir.join("daemon");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nd='{d}'\necho start >> \"$d/starts\"\nif [ -e \"$d/broken\" ]; then sleep 0.2 & else sleep 300 & fi\necho $! > \"$d/pid\"\n",
            d = dir.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Another test's fork may hold the script open for an instant (the
    // fd inherited until its exec): the kernel then refuses to run it
    // (ETXTBSY). It passes at once; try again briefly.
    let mut tries = 0;
    let st = loop {
        match std::process::Command::new(&script).arg("start").status() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => break other.unwrap(),
        }
    };
    assert!(st.success());
    script
}

fn conf(dir: &Path, text: &str) -> ProcessConf {
    let script = daemon(dir);
    let text = format!(
        "[process]\nprocess = daemon\nscript = {}\npidfile = {}/pid\n{text}",
        script.display(),
        dir.display()
    );
    std::fs::write(dir.join("daemon.conf"), &text).unwrap();
    let (mut confs, refused) = pmon::load(dir);
    assert!(refused.is_empty(), "{refused:?}");
    confs.pop().unwrap()
}

fn pid(dir: &Path) -> i32 {
    std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn kill(pid: i32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

fn starts(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("starts"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

async fn until<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_failing_process_is_restarted_then_asserted_then_cleared() {
    let dir = scratch("restarts");
    let c = conf(
        &dir,
        "severity = major\nrestarts = 2\ninterval = 1\ndebounce = 2\nstartuptime = 0\n",
    );
    let monitors = Arc::new(Monitors::new());
    let task = tokio::spawn(pmon::supervise(c, monitors.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Killed while stable: restarted at once, a log, nothing asserted.
    let first = pid(&dir);
    kill(first);
    let second = until("the restart", Duration::from_secs(5), || {
        let p = pid(&dir);
        (p != first).then_some(p)
    })
    .await;
    assert_eq!(starts(&dir), 2);
    let (report, _) = monitors.report();
    assert!(report.conditions.is_empty(), "{report:?}");
    assert_eq!(report.logs.len(), 1, "{report:?}");
    // Past its debounce (2 s), the restart held: the next death is a new
    // cycle.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // Broken: each restart dies at once. Two restarts do not hold, then
    // the failure is asserted (major), restarts going on, `interval` apart.
    std::fs::write(dir.join("broken"), "").unwrap();
    let broke = Instant::now();
    kill(second);
    let asserted = until("the failure asserted", Duration::from_secs(15), || {
        let a = monitors.asserted();
        (!a.is_empty()).then_some(a)
    })
    .await;
    assert_eq!(
        asserted,
        [Condition::Process {
            process: "daemon".into(),
            severity: Severity::Major,
            restarts: 2,
        }]
    );
    // The restart after the kill (immediate: it had been stable) and the
    // second one, 1 s after the first died; the failure asserted when the
    // second died.
    assert_eq!(starts(&dir), 4, "two restarts before the assertion");
    assert!(
        broke.elapsed() >= Duration::from_secs(1),
        "restarts are spaced by the interval"
    );
    // Logged once for the cycle (the first failure), not per restart.
    assert_eq!(monitors.report().0.logs.len(), 2);

    // Mended: the next restart holds for its debounce, the failure clears.
    std::fs::remove_file(dir.join("broken")).unwrap();
    until("the failure cleared", Duration::from_secs(15), || {
        monitors.asserted().is_empty().then_some(())
    })
    .await;
    let settled = pid(&dir);
    assert!(
        std::fs::metadata(format!("/proc/{settled}")).is_ok(),
        "the daemon runs"
    );
    task.abort();
    kill(settled);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_restarts_the_failure_is_asserted_at_once_and_the_watchdog_starves() {
    let dir = scratch("quorum");
    let c = conf(
        &dir,
        "severity = critical\nrestarts = 0\nstartuptime = 0\nquorum = 1\n",
    );
    let monitors = Arc::new(Monitors::new());
    let task = tokio::spawn(pmon::supervise(c, monitors.clone()));

    // The watchdog's notifications, on a real datagram socket.
    let sock_path = dir.join("notify");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let dog = tokio::spawn(pmon::watchdog(
        monitors.clone(),
        Duration::from_millis(200),
        starling_agent::systemd::Notifier::to(sock_path.as_os_str()),
    ));
    let mut buf = [0u8; 64];
    let n = tokio::task::block_in_place(|| sock.recv(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"WATCHDOG=1");

    tokio::time::sleep(Duration::from_millis(300)).await;
    kill(pid(&dir));
    until("the failure asserted", Duration::from_secs(5), || {
        (!monitors.asserted().is_empty()).then_some(())
    })
    .await;
    assert!(!monitors.quorum_ok());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(starts(&dir), 1, "not restarted: left for the operator");
    // Nothing more reaches the watchdog once what is queued is read.
    while tokio::task::block_in_place(|| sock.recv(&mut buf)).is_ok() {}
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        tokio::task::block_in_place(|| sock.recv(&mut buf)).is_err(),
        "the watchdog is starved"
    );

    // The operator starts it: the failure clears, the watchdog is fed.
    let st = std::process::Command::new(dir.join("daemon"))
        .arg("start")
        .status()
        .unwrap();
    assert!(st.success());
    until("the failure cleared", Duration::from_secs(5), || {
        monitors.asserted().is_empty().then_some(())
    })
    .await;
    let n = tokio::task::block_in_place(|| sock.recv(&mut buf)).unwrap();
    assert_eq!(&buf[..n], b"WATCHDOG=1");
    task.abort();
    dog.abort();
    kill(pid(&dir));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refused_files_are_named_with_their_reason() {
    let dir = scratch("load");
    std::fs::write(dir.join("a.conf"), "[process]\nprocess = a\n").unwrap();
    std::fs::write(
        dir.join("b.conf"),
        "[process]\nprocess = b\npidfile = /run/b.pid\nservice = b\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("c.conf"),
        "[process]\nprocess = b\npidfile = /run/c.pid\nservice = c\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a conf").unwrap();
    let (confs, refused) = pmon::load(&dir);
    assert_eq!(confs.len(), 1);
    assert_eq!(confs[0].process, "b");
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].0.ends_with("a.conf") && refused[0].1.contains("pidfile"));
    assert!(refused[1].0.ends_with("c.conf") && refused[1].1.contains("twice"));
    let (none, refused) = pmon::load(&dir.join("missing"));
    assert!(none.is_empty() && refused.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A process that has exited but not been reaped (a zombie) is not
/// running: its pid file still names it and its pidfd still opens, but
/// the failure stands — it is neither taken as "running again" nor logged
/// over and over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zombie_named_by_the_pid_file_is_not_running() {
    let dir = scratch("zombie");
    let c = conf(&dir, "severity = critical\nrestarts = 0\nstartuptime = 0\n");
    kill(pid(&dir));
    // A child of this test that exits and is left unreaped.
    let mut zombie = std::process::Command::new("true").spawn().unwrap();
    let zpid = zombie.id();
    until("the child to exit", Duration::from_secs(5), || {
        std::fs::read_to_string(format!("/proc/{zpid}/stat"))
            .ok()
            .filter(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            })
    })
    .await;
    std::fs::write(dir.join("pid"), format!("{zpid}\n")).unwrap();
    let monitors = Arc::new(Monitors::new());
    let task = tokio::spawn(pmon::supervise(c, monitors.clone()));
    until("the failure asserted", Duration::from_secs(5), || {
        (!monitors.asserted().is_empty()).then_some(())
    })
    .await;
    // Past a few looks for it (one a second): still failed, logged once.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(!monitors.asserted().is_empty());
    assert_eq!(monitors.report().1, 1, "the failure logged once");
    task.abort();
    let _ = zombie.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
