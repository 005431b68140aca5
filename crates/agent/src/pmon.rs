//! The process monitor (StarlingX's pmond) and the host watchdog
//! (hostwd's part that systemd can play).
//!
//! Each `*.conf` file of the pmon directory (`/etc/pmon.d`, StarlingX's
//! format: [`starling_mtce::process::ProcessConf`]) names a process by its
//! pid file. The agent opens a pidfd on it and is woken by the kernel when
//! it exits — no polling, no kernel patch — then restarts it (`systemctl
//! restart SERVICE` where systemd runs, else `SCRIPT start`) by pmond's
//! rules ([`starling_mtce::process::Restarts`]): a log at the first failure
//! of a cycle, the failure asserted at the process's severity once its
//! restarts have not held, cleared when a restarted process stays up for
//! its debounce time. What is asserted goes to host maintenance as
//! conditions (`PUT /v1/agent/{host}/monitors`), which raises 200.006 and
//! degrades or fails the host.
//!
//! The watchdog: under a unit with `WatchdogSec=`, the agent notifies
//! systemd (`WATCHDOG=1`) at half the period while its own loops run and
//! no `quorum = 1` process has a failure asserted; otherwise it stops, and
//! systemd restarts the agent (and, past the unit's start limit, reboots
//! the host: the unit's `StartLimitAction=`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use starling_mtce::monitors::{Condition, Logged, MonitorReport};
use starling_mtce::process::{Mode, ProcessConf, Restarts, Verdict};
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

/// How many undelivered logs are kept (the oldest go first).
const MAX_LOGS: usize = 256;

/// How long a restart command may run.
const RESTART_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a process left for the operator is looked for.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Reads every `*.conf` file of `dir` (sorted by name): the processes, and
/// each file refused with its reason. A missing directory is no process.
pub fn load(dir: &Path) -> (Vec<ProcessConf>, Vec<(PathBuf, String)>) {
    let mut confs = Vec::new();
    let mut refused = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (confs, refused),
        Err(e) => {
            refused.push((dir.to_path_buf(), e.to_string()));
            return (confs, refused);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| ProcessConf::parse(&t))
        {
            Ok(c) if confs.iter().any(|o: &ProcessConf| o.process == c.process) => {
                refused.push((path, format!("process {} is named twice", c.process)));
            }
            Ok(c) => confs.push(c),
            Err(e) => refused.push((path, e)),
        }
    }
    (confs, refused)
}

#[derive(Default)]
struct Status {
    /// What is asserted, by subject (`("process", NAME)`, `("cpu", "")`,
    /// …: [`Condition::subject`]).
    asserted: BTreeMap<(String, String), Condition>,
    /// Quorum processes with a failure asserted.
    quorum_failed: BTreeSet<String>,
    logs: VecDeque<Logged>,
    seq: u64,
}

/// What the process supervisors and the resource monitor found, shared
/// with the report to maintenance and the watchdog.
pub struct Monitors {
    instance: String,
    status: Mutex<Status>,
    /// Something to report.
    pub changed: Notify,
}

impl Default for Monitors {
    fn default() -> Self {
        Monitors::new()
    }
}

impl Monitors {
    /// A new run's (its instance names it to maintenance).
    pub fn new() -> Monitors {
        Monitors {
            instance: starling_common::new_uuid(),
            status: Mutex::default(),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn condition(conf: &ProcessConf) -> Condition {
        Condition::Process {
            process: conf.process.clone(),
            severity: conf.severity,
            restarts: conf.restarts,
        }
    }

    fn record(&self, conf: &ProcessConf, v: Verdict) {
        if !v.log && !v.assert {
            return;
        }
        {
            let mut s = self.lock();
            if v.log {
                s.seq += 1;
                let seq = s.seq;
                if s.logs.len() >= MAX_LOGS {
                    s.logs.pop_front();
                    tracing::warn!("too many process logs undelivered: the oldest dropped");
                }
                s.logs.push_back(Logged {
                    seq,
                    condition: Self::condition(conf),
                });
            }
            if v.assert {
                s.asserted.insert(
                    ("process".into(), conf.process.clone()),
                    Self::condition(conf),
                );
                if conf.quorum {
                    s.quorum_failed.insert(conf.process.clone());
                }
            }
        }
        self.changed.notify_one();
    }

    fn clear(&self, conf: &ProcessConf) {
        self.lock().quorum_failed.remove(&conf.process);
        self.set(("process", &conf.process), None);
    }

    /// Asserts `condition` (in place of any of the same subject), or clears
    /// `subject` with `None`; reported when it changes.
    pub fn set(&self, subject: (&str, &str), condition: Option<Condition>) {
        let key = (subject.0.to_string(), subject.1.to_string());
        let changed = {
            let mut s = self.lock();
            match condition {
                Some(c) => s.asserted.insert(key, c.clone()) != Some(c),
                None => s.asserted.remove(&key).is_some(),
            }
        };
        if changed {
            self.changed.notify_one();
        }
    }

    /// The report to send now, and the last log it carries.
    pub fn report(&self) -> (MonitorReport, u64) {
        let s = self.lock();
        (
            MonitorReport {
                instance: self.instance.clone(),
                conditions: s.asserted.values().cloned().collect(),
                logs: s.logs.iter().cloned().collect(),
            },
            s.seq,
        )
    }

    /// Maintenance took the logs up to `seq`.
    pub fn delivered(&self, seq: u64) {
        self.lock().logs.retain(|l| l.seq > seq);
    }

    /// What is asserted now.
    pub fn asserted(&self) -> Vec<Condition> {
        self.lock().asserted.values().cloned().collect()
    }

    /// No quorum process has a failure asserted.
    pub fn quorum_ok(&self) -> bool {
        self.lock().quorum_failed.is_empty()
    }
}

/// The process's pidfd, if its pid file names a live process (not one
/// that has exited and waits, a zombie, for its parent to reap it: its
/// pidfd opens, but is already readable).
fn find(conf: &ProcessConf) -> Option<AsyncFd<std::os::fd::OwnedFd>> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let text = std::fs::read_to_string(&conf.pidfile).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    let pid = rustix::process::Pid::from_raw(pid)?;
    let fd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if poll(&mut [PollFd::new(&fd, PollFlags::IN)], Some(&now)).ok()? != 0 {
        return None;
    }
    // Tokio deprecated its safe constructors because an arbitrary `T` may
    // close its descriptor while registered; an `OwnedFd` owned by the
    // `AsyncFd` cannot, so this one is sound (its replacement is `unsafe`,
    // which this codebase does not write).
    #[allow(deprecated)]
    AsyncFd::with_interest(fd, tokio::io::Interest::READABLE).ok()
}

/// Until the process behind `fd` exits (its pidfd turns readable).
async fn exited(fd: &AsyncFd<std::os::fd::OwnedFd>) {
    if fd.readable().await.is_err() {
        // Cannot be watched: looked at again each interval instead.
        std::future::pending::<()>().await;
    }
}

/// Restarts the process: `systemctl restart SERVICE` where systemd runs,
/// `SCRIPT start` otherwise.
async fn restart(conf: &ProcessConf) -> Result<(), String> {
    let systemd = Path::new("/run/systemd/system").exists();
    let mut cmd = match (&conf.service, &conf.script) {
        (Some(unit), _) if systemd => {
            let mut c = tokio::process::Command::new("systemctl");
            c.args(["restart", unit]);
            c
        }
        (_, Some(script)) => {
            let mut c = tokio::process::Command::new(script);
            c.arg("start");
            c
        }
        (Some(unit), None) => {
            return Err(format!(
                "systemd does not run here to restart {unit}, and there is no script"
            ));
        }
        (None, None) => return Err("no service or script to restart it".into()),
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    match tokio::time::timeout(RESTART_TIMEOUT, child.wait()).await {
        Ok(Ok(s)) if s.success() => Ok(()),
        Ok(Ok(s)) => Err(format!("the restart exited with {s}")),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the restart did not finish within {} s",
            RESTART_TIMEOUT.as_secs()
        )),
    }
}

/// Watches one process for as long as the agent runs.
pub async fn supervise(conf: ProcessConf, monitors: Arc<Monitors>) {
    if conf.mode == Mode::Ignore {
        return std::future::pending().await;
    }
    let name = conf.process.as_str();
    let mut r = Restarts::default();
    // Restarted by the supervisor and not yet past its debounce.
    let mut fresh = false;
    let mut fd = find(&conf);
    if fd.is_none() {
        tokio::time::sleep(conf.startuptime).await;
        fd = find(&conf);
    }
    if fd.is_some() {
        tracing::info!(process = name, "monitoring");
    }
    loop {
        if let Some(f) = fd.take() {
            if fresh {
                tokio::select! {
                    _ = exited(&f) => {}
                    _ = tokio::time::sleep(conf.debounce) => {
                        fresh = false;
                        tracing::info!(process = name, "stable after its restart");
                        if r.recovered() {
                            tracing::info!(process = name, "recovered: failure cleared");
                            monitors.clear(&conf);
                        }
                        exited(&f).await;
                    }
                }
            } else {
                exited(&f).await;
            }
        }
        let v = r.died(conf.restarts);
        tracing::warn!(
            process = name,
            restarts = r.count(),
            of = conf.restarts,
            asserted = v.assert,
            severity = conf.severity.as_str(),
            "process not running"
        );
        monitors.record(&conf, v);
        if !v.restart {
            // Left for the operator: back when it runs again.
            loop {
                tokio::time::sleep(LOOK_AGAIN).await;
                if let Some(f) = find(&conf) {
                    fd = Some(f);
                    break;
                }
            }
            tracing::info!(process = name, "running again");
            if r.recovered() {
                monitors.clear(&conf);
            }
            fresh = false;
            continue;
        }
        if fresh {
            tokio::time::sleep(conf.interval).await;
        }
        if let Err(e) = restart(&conf).await {
            tracing::error!(process = name, error = %e, "cannot restart the process");
        }
        tokio::time::sleep(conf.startuptime).await;
        fd = find(&conf);
        fresh = true;
    }
}

/// The host watchdog: `WATCHDOG=1` to `notifier` every half `period` (the
/// unit's `WatchdogSec=`) as long as no quorum process has a failure
/// asserted.
pub async fn watchdog(
    monitors: Arc<Monitors>,
    period: Duration,
    notifier: crate::systemd::Notifier,
) {
    let mut tick = tokio::time::interval(period / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut starved = false;
    loop {
        tick.tick().await;
        if monitors.quorum_ok() {
            if starved {
                tracing::info!("quorum processes recovered: the watchdog is fed again");
                starved = false;
            }
            if let Err(e) = notifier.notify("WATCHDOG=1") {
                tracing::warn!(error = %e, "cannot notify the watchdog");
            }
        } else if !starved {
            starved = true;
            tracing::error!(
                "a quorum process failed past its restarts: the watchdog is no longer fed"
            );
        }
    }
}
