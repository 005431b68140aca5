//! One unlocked host's maintenance (StarlingX's mtcAgent enable and
//! recovery handlers, restated): the enable after an unlock, the graceful
//! recovery of a host whose heartbeat was lost, and the reset progression
//! (reboot over the management network, then the cluster-host network,
//! then a reset through the board management controller) for a host that
//! stays silent.
//!
//! Pure and clock-free: the caller gives the time (any monotonic origin)
//! and what the heartbeat shows of the host each period ([`Seen`]); the
//! machine answers with what to do ([`Action`]) and the state inventory is
//! to show ([`HostFsm::wanted`]).
//!
//! The path a failure takes:
//! - in service, the heartbeat lost on a network (and no multi-node
//!   failure on it): the host fails (200.004) and waits out the recovery
//!   window (task "Graceful Recovery");
//! - lost while multi-node failure avoidance holds (the network suspect):
//!   in service, degraded ("Graceful Recovery Wait"); when it ends with
//!   the host still lost, the recovery window to come back in service,
//!   then a failure and the reset progression;
//! - back within the window, without a reboot: a heartbeat soak, then in
//!   service again, with no reset at all;
//! - silent past the window: a reboot asked over the management network,
//!   then over the cluster-host network, each given `reboot_ack` to be
//!   acknowledged; then, with a BMC, its reset once `bmc_reset_delay` has
//!   passed since the failure (time for a crash dump), cancelled if the
//!   host answers meanwhile;
//! - then the host is offline until it answers again, tested (soak) and
//!   back in service; silent past `boot_timeout`, another round; after
//!   `reset_rounds` rounds, recovery gives up until a lock and unlock.
//!
//! A host that fails more than `graceful_limit` times in a row (without a
//! `stable` period in service between) skips the window: it is rebooted.

use std::time::Duration;

use starling_common::HostHealth;

use crate::heartbeat::{Level, Network};

/// The timers and limits, StarlingX's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// Heartbeat soak before a host enters service (11 s).
    pub soak: Duration,
    /// How long a failed host has to answer again before it is rebooted
    /// (StarlingX's 5-second grace and 5 s loss-of-communication wait: 7 s
    /// after the failure).
    pub recovery_window: Duration,
    /// How long a reboot request on one network waits for its
    /// acknowledgement (10 s).
    pub reboot_ack: Duration,
    /// Time from the failure to the BMC reset (300 s), so a crash dump can
    /// finish.
    pub bmc_reset_delay: Duration,
    /// Delay between failed BMC resets (10 s).
    pub bmc_retry_delay: Duration,
    /// BMC reset attempts per round (5).
    pub bmc_retries: u32,
    /// How long a rebooted or reset host, or one being enabled, has to
    /// answer (a worker's 720 s).
    pub boot_timeout: Duration,
    /// Graceful recoveries in a row before a failure reboots the host (5).
    pub graceful_limit: u32,
    /// Reset rounds before recovery gives up (2).
    pub reset_rounds: u32,
    /// Time in service after which the counts above start again (600 s).
    pub stable: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            soak: Duration::from_secs(11),
            recovery_window: Duration::from_secs(7),
            reboot_ack: Duration::from_secs(10),
            bmc_reset_delay: Duration::from_secs(300),
            bmc_retry_delay: Duration::from_secs(10),
            bmc_retries: 5,
            boot_timeout: Duration::from_secs(720),
            graceful_limit: 5,
            reset_rounds: 2,
            stable: Duration::from_secs(600),
        }
    }
}

/// StarlingX's task strings (mtcAgent's `MTC_TASK_*`).
pub mod task {
    pub const TESTING: &str = "Testing";
    pub const ENABLING: &str = "Enabling";
    pub const GRACEFUL_RECOVERY: &str = "Graceful Recovery";
    pub const RECOVERY_WAIT: &str = "Graceful Recovery Wait";
    pub const RECOVERY_FAILED: &str = "Graceful Recovery Failed, re-enabling";
    pub const ENABLE_FAILED: &str = "Enable Heartbeat Failure, re-enabling";
    pub const RESET_PROGRESSION: &str = "Rebooting/Resetting Host";
    pub const REBOOTING: &str = "Rebooting";
    pub const BOOTING: &str = "Booting";
    pub const RESET_FAILED: &str = "Reset Failed";
    pub const REBOOT_TIMEOUT: &str = "Reboot/Reset Timeout";
    pub const GAVE_UP: &str = "Heartbeat Failure, threshold reached, Lock/Unlock to retry";
    pub const GAVE_UP_SERVICES: &str = "Service Failure, threshold reached, Lock/Unlock to retry";
}

/// What the heartbeat shows of the host this period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The host's worst level over the networks it is pulsed on; `None`
    /// while it is not pulsed (no heartbeat responder registered).
    pub level: Option<Level>,
    /// Multi-node failure avoidance holds on a network the host is lost
    /// on: its failure is not acted on.
    pub mnfa: bool,
    /// The host has a provisioned board management controller.
    pub bmc: bool,
    /// The host is reachable on the cluster-host network.
    pub cluster: bool,
    /// The host's own monitors found a major failure (a process's): in
    /// service, it is degraded.
    pub degraded: bool,
    /// The host's own monitors found a critical failure: in service, it
    /// fails, and is rebooted (its heartbeat is fine: no window to wait).
    pub critical: bool,
}

impl Seen {
    fn lost(&self) -> bool {
        self.level == Some(Level::Failed)
    }
    fn answering(&self) -> bool {
        matches!(self.level, Some(l) if l != Level::Failed)
    }
}

/// What the caller is to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Raise the host-failed alarm (200.004 critical) with this reason.
    Failed(String),
    /// Clear the host-failed alarm.
    Recovered,
    /// Ask the host to reboot over this network; answer with
    /// [`HostFsm::acked`].
    Reboot(Network),
    /// Reset the host through its BMC; answer with
    /// [`HostFsm::bmc_done`].
    BmcReset,
}

/// What a heartbeat soak leads to, and what the host shows meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoakOf {
    /// An enable (after an unlock or a reboot): intest, "Enabling".
    Enable,
    /// A graceful recovery: still failed, "Graceful Recovery".
    Recovery,
}

/// Where the host is in its maintenance. Times are the caller's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the first heartbeat answers (after an unlock).
    Testing { until: Duration },
    /// Answering; must keep answering until `until`.
    Soak { until: Duration, of: SoakOf },
    /// In service since `since`.
    Enabled { since: Duration },
    /// Multi-node failure avoidance ended while the host was still lost:
    /// it has until `until` to answer, still in service, before it fails.
    PoolExit { until: Duration },
    /// Failed; waiting for answers within the recovery window.
    Grace { until: Duration },
    /// A reboot asked over a network, unacknowledged.
    Reboot { over: Network, until: Duration },
    /// Waiting for the time of the BMC reset.
    BmcWait { until: Duration },
    /// The BMC reset asked; its result awaited.
    BmcResetting,
    /// Rebooted or reset (or nothing more to try this round): waiting for
    /// the host to answer.
    Booting { until: Duration },
    /// Recovery gave up; a lock and unlock start again.
    GaveUp,
}

/// One unlocked host's maintenance.
#[derive(Clone, Debug)]
pub struct HostFsm {
    phase: Phase,
    /// What inventory is to show.
    health: HostHealth,
    task: String,
    /// The host-failed alarm is (or may be) raised.
    alarmed: bool,
    failed_at: Duration,
    /// Lost while multi-node failure avoidance held.
    pooled: bool,
    graceful: u32,
    rounds: u32,
    bmc_failures: u32,
}

impl HostFsm {
    /// Takes over a host as inventory shows it at `now` (an unlock, a
    /// maintenance start, a reboot seen): in service stays in service;
    /// intest waits for the heartbeat; offline waits for the boot; failed
    /// starts a graceful recovery (its alarm may be raised already).
    pub fn adopt(shown: HostHealth, task: &str, now: Duration, t: &Timers) -> HostFsm {
        let mut m = HostFsm {
            phase: Phase::Enabled { since: now },
            health: shown,
            task: task.to_string(),
            alarmed: false,
            failed_at: now,
            pooled: false,
            graceful: 0,
            rounds: 0,
            bmc_failures: 0,
        };
        match shown {
            HostHealth::Available | HostHealth::Degraded => {}
            HostHealth::Intest => {
                m.phase = Phase::Testing {
                    until: now + t.boot_timeout,
                };
                m.task = task::TESTING.into();
            }
            HostHealth::Offline => {
                m.phase = Phase::Booting {
                    until: now + t.boot_timeout,
                };
            }
            HostHealth::Failed => {
                m.alarmed = true;
                m.graceful = 1;
                m.phase = Phase::Grace {
                    until: now + t.recovery_window,
                };
                m.task = task::GRACEFUL_RECOVERY.into();
            }
        }
        m
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the host-failed alarm is (or may be) raised for it.
    pub fn alarmed(&self) -> bool {
        self.alarmed
    }

    /// The availability and task inventory is to show.
    pub fn wanted(&self) -> (HostHealth, &str) {
        (self.health, &self.task)
    }

    fn show(&mut self, health: HostHealth, task: &str) {
        self.health = health;
        self.task = task.to_string();
    }

    /// One period: the host as the heartbeat shows it at `now`.
    pub fn step(&mut self, now: Duration, seen: &Seen, t: &Timers) -> Vec<Action> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Testing { until } => {
                if seen.answering() {
                    self.soak(now, SoakOf::Enable, t);
                } else if now >= until {
                    self.fail(
                        now,
                        "did not answer its heartbeat within the boot timeout",
                        task::ENABLE_FAILED,
                        &mut out,
                    );
                    self.progression(now, t, &mut out);
                }
            }
            Phase::Soak { until, of } => {
                if seen.lost() {
                    let (why, task) = match of {
                        SoakOf::Enable => (
                            "lost its heartbeat while being enabled",
                            task::ENABLE_FAILED,
                        ),
                        SoakOf::Recovery => (
                            "lost its heartbeat again during its graceful recovery",
                            task::RECOVERY_FAILED,
                        ),
                    };
                    self.fail(now, why, task, &mut out);
                    self.progression(now, t, &mut out);
                } else if now >= until {
                    self.phase = Phase::Enabled { since: now };
                    self.in_service(seen);
                    if self.alarmed {
                        self.alarmed = false;
                        out.push(Action::Recovered);
                    }
                }
            }
            Phase::Enabled { since } => {
                if seen.lost() && seen.mnfa {
                    self.pooled = true;
                    self.in_service(seen);
                } else if seen.lost() && self.pooled {
                    // The avoidance ended with this host still lost: the
                    // window to come back, still in service.
                    self.pooled = false;
                    self.phase = Phase::PoolExit {
                        until: now + t.recovery_window,
                    };
                } else if seen.critical && !seen.lost() {
                    self.fail(
                        now,
                        "experienced a critical process failure; auto-recovery in progress",
                        task::RESET_PROGRESSION,
                        &mut out,
                    );
                    if self.rounds >= t.reset_rounds {
                        // Rebooted that often without holding: the
                        // operator's turn.
                        self.phase = Phase::GaveUp;
                        self.show(HostHealth::Failed, task::GAVE_UP_SERVICES);
                    } else {
                        self.progression(now, t, &mut out);
                    }
                } else if seen.lost() {
                    self.fail(
                        now,
                        "experienced a service-affecting failure; auto-recovery in progress",
                        task::GRACEFUL_RECOVERY,
                        &mut out,
                    );
                    if self.graceful > t.graceful_limit {
                        self.progression(now, t, &mut out);
                    } else {
                        self.phase = Phase::Grace {
                            until: now + t.recovery_window,
                        };
                    }
                } else {
                    self.pooled = false;
                    if now.saturating_sub(since) >= t.stable {
                        self.graceful = 0;
                        self.rounds = 0;
                    }
                    self.in_service(seen);
                }
            }
            Phase::PoolExit { until } => {
                if !seen.lost() || seen.mnfa {
                    self.pooled = seen.lost();
                    self.phase = Phase::Enabled { since: now };
                    self.in_service(seen);
                } else if now >= until {
                    self.fail(
                        now,
                        "stayed lost after a multi-node failure; auto-recovery in progress",
                        task::RESET_PROGRESSION,
                        &mut out,
                    );
                    self.progression(now, t, &mut out);
                }
            }
            Phase::Grace { until } => {
                if seen.answering() {
                    self.soak(now, SoakOf::Recovery, t);
                } else if now >= until {
                    self.progression(now, t, &mut out);
                }
            }
            Phase::Reboot { over, until } => {
                if seen.answering() {
                    self.soak(now, SoakOf::Recovery, t);
                } else if now >= until {
                    if over == Network::Mgmt && seen.cluster {
                        self.phase = Phase::Reboot {
                            over: Network::Cluster,
                            until: now + t.reboot_ack,
                        };
                        out.push(Action::Reboot(Network::Cluster));
                    } else if seen.bmc {
                        self.phase = Phase::BmcWait {
                            until: now.max(self.failed_at + t.bmc_reset_delay),
                        };
                    } else {
                        self.phase = Phase::Booting {
                            until: now + t.boot_timeout,
                        };
                    }
                }
            }
            Phase::BmcWait { until } => {
                if seen.answering() {
                    self.soak(now, SoakOf::Recovery, t);
                } else if now >= until {
                    self.phase = Phase::BmcResetting;
                    out.push(Action::BmcReset);
                }
            }
            Phase::BmcResetting | Phase::GaveUp => {}
            Phase::Booting { until } => {
                if seen.answering() {
                    self.soak(now, SoakOf::Enable, t);
                } else if now >= until {
                    if self.rounds < t.reset_rounds {
                        self.show(HostHealth::Failed, task::REBOOT_TIMEOUT);
                        self.progression(now, t, &mut out);
                    } else {
                        self.phase = Phase::GaveUp;
                        self.show(HostHealth::Failed, task::GAVE_UP);
                    }
                }
            }
        }
        out
    }

    /// The host acknowledged the reboot asked over `network`.
    pub fn acked(&mut self, network: Network, now: Duration, t: &Timers) {
        if let Phase::Reboot { over, .. } = self.phase
            && over == network
        {
            self.phase = Phase::Booting {
                until: now + t.boot_timeout,
            };
            self.show(HostHealth::Offline, task::REBOOTING);
        }
    }

    /// The BMC reset's outcome.
    pub fn bmc_done(&mut self, result: Result<(), String>, now: Duration, t: &Timers) {
        if self.phase != Phase::BmcResetting {
            return;
        }
        match result {
            Ok(()) => {
                self.phase = Phase::Booting {
                    until: now + t.boot_timeout,
                };
                self.show(HostHealth::Offline, task::BOOTING);
            }
            Err(_) => {
                self.bmc_failures += 1;
                if self.bmc_failures < t.bmc_retries {
                    self.phase = Phase::BmcWait {
                        until: now + t.bmc_retry_delay,
                    };
                    let text = format!(
                        "Reset Failed, retrying ({} of {})",
                        self.bmc_failures,
                        t.bmc_retries - 1
                    );
                    self.show(HostHealth::Failed, &text);
                } else {
                    self.phase = Phase::Booting {
                        until: now + t.boot_timeout,
                    };
                    self.show(HostHealth::Failed, task::RESET_FAILED);
                }
            }
        }
    }

    fn in_service(&mut self, seen: &Seen) {
        match seen.level {
            Some(Level::Failed) => self.show(HostHealth::Degraded, task::RECOVERY_WAIT),
            Some(Level::Degraded) => self.show(HostHealth::Degraded, ""),
            _ if seen.degraded => self.show(HostHealth::Degraded, ""),
            _ => self.show(HostHealth::Available, ""),
        }
    }

    fn soak(&mut self, now: Duration, of: SoakOf, t: &Timers) {
        self.phase = Phase::Soak {
            until: now + t.soak,
            of,
        };
        match of {
            SoakOf::Enable => self.show(HostHealth::Intest, task::ENABLING),
            SoakOf::Recovery => self.show(HostHealth::Failed, task::GRACEFUL_RECOVERY),
        }
    }

    fn fail(&mut self, now: Duration, why: &str, task: &str, out: &mut Vec<Action>) {
        self.failed_at = now;
        self.graceful += 1;
        self.show(HostHealth::Failed, task);
        if !self.alarmed {
            self.alarmed = true;
            out.push(Action::Failed(why.to_string()));
        }
    }

    /// A round of the reset progression, from the reboot over the
    /// management network.
    fn progression(&mut self, now: Duration, t: &Timers, out: &mut Vec<Action>) {
        self.rounds += 1;
        self.bmc_failures = 0;
        self.phase = Phase::Reboot {
            over: Network::Mgmt,
            until: now + t.reboot_ack,
        };
        self.show(HostHealth::Failed, task::RESET_PROGRESSION);
        out.push(Action::Reboot(Network::Mgmt));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn seen(level: Option<Level>) -> Seen {
        Seen {
            level,
            mnfa: false,
            bmc: true,
            cluster: true,
            degraded: false,
            critical: false,
        }
    }
    const UP: Option<Level> = Some(Level::Ok);
    const LOST: Option<Level> = Some(Level::Failed);

    /// Steps the machine each second from `from` to `to` (exclusive) with
    /// what is seen; collects the actions with their second.
    fn run(m: &mut HostFsm, from: u64, to: u64, s: Seen, t: &Timers) -> Vec<(u64, Action)> {
        let mut out = Vec::new();
        for sec in from..to {
            for a in m.step(S * sec as u32, &s, t) {
                out.push((sec, a));
            }
        }
        out
    }

    fn enabled(t: &Timers) -> HostFsm {
        HostFsm::adopt(HostHealth::Available, "", Duration::ZERO, t)
    }

    #[test]
    fn unlock_tests_soaks_then_enables() {
        let t = Timers::default();
        let mut m = HostFsm::adopt(HostHealth::Intest, "", Duration::ZERO, &t);
        assert_eq!(m.wanted(), (HostHealth::Intest, task::TESTING));
        // No responder yet: still testing.
        assert!(run(&mut m, 0, 5, seen(None), &t).is_empty());
        assert!(matches!(m.phase(), Phase::Testing { .. }));
        run(&mut m, 5, 6, seen(UP), &t);
        assert_eq!(m.wanted(), (HostHealth::Intest, task::ENABLING));
        run(&mut m, 6, 16, seen(UP), &t);
        assert!(matches!(m.phase(), Phase::Soak { .. }), "{:?}", m.phase());
        assert!(run(&mut m, 16, 17, seen(UP), &t).is_empty());
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
        assert!(matches!(m.phase(), Phase::Enabled { .. }));
    }

    #[test]
    fn a_loss_during_the_enable_soak_reboots() {
        let t = Timers::default();
        let mut m = HostFsm::adopt(HostHealth::Intest, "", Duration::ZERO, &t);
        run(&mut m, 0, 3, seen(UP), &t);
        let a = run(&mut m, 3, 4, seen(LOST), &t);
        assert!(matches!(a[0].1, Action::Failed(ref w) if w.contains("being enabled")));
        assert_eq!(a[1].1, Action::Reboot(Network::Mgmt));
        assert_eq!(m.wanted().1, task::RESET_PROGRESSION);
    }

    #[test]
    fn a_host_back_within_the_window_recovers_without_a_reset() {
        let t = Timers::default();
        let mut m = enabled(&t);
        let a = run(&mut m, 0, 1, seen(LOST), &t);
        assert!(matches!(a.as_slice(), [(0, Action::Failed(_))]), "{a:?}");
        assert_eq!(m.wanted(), (HostHealth::Failed, task::GRACEFUL_RECOVERY));
        assert!(run(&mut m, 1, 5, seen(LOST), &t).is_empty());
        // Back at 5 s (< 7 s): soak 11 s, then in service; nothing else.
        let a = run(&mut m, 5, 16, seen(UP), &t);
        assert!(a.is_empty(), "{a:?}");
        assert_eq!(m.wanted(), (HostHealth::Failed, task::GRACEFUL_RECOVERY));
        let a = run(&mut m, 16, 17, seen(UP), &t);
        assert_eq!(a, [(16, Action::Recovered)]);
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
    }

    #[test]
    fn a_silent_host_is_rebooted_over_each_network_then_reset_once() {
        let t = Timers::default();
        let mut m = enabled(&t);
        let a = run(&mut m, 0, 400, seen(LOST), &t);
        let acts: Vec<_> = a.iter().filter(|(_, a)| *a != Action::Recovered).collect();
        assert!(matches!(acts[0], (0, Action::Failed(_))));
        // Window 7 s, mgmt reboot 10 s, cluster 10 s, BMC at 300 s.
        assert_eq!(acts[1], &(7, Action::Reboot(Network::Mgmt)));
        assert_eq!(acts[2], &(17, Action::Reboot(Network::Cluster)));
        assert_eq!(acts[3], &(300, Action::BmcReset));
        assert_eq!(acts.len(), 4, "{acts:?}");
        assert_eq!(m.phase(), Phase::BmcResetting);
        m.bmc_done(Ok(()), S * 400, &t);
        assert_eq!(m.wanted(), (HostHealth::Offline, task::BOOTING));
        // Back from the reset: tested, then in service.
        run(&mut m, 430, 431, seen(UP), &t);
        assert_eq!(m.wanted(), (HostHealth::Intest, task::ENABLING));
        let a = run(&mut m, 431, 442, seen(UP), &t);
        assert_eq!(a, [(441, Action::Recovered)]);
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
    }

    #[test]
    fn an_acknowledged_reboot_needs_no_bmc_and_the_host_comes_back() {
        let t = Timers::default();
        let mut m = enabled(&t);
        run(&mut m, 0, 8, seen(LOST), &t);
        m.acked(Network::Cluster, S * 8, &t);
        assert!(matches!(m.phase(), Phase::Reboot { .. }), "wrong network");
        m.acked(Network::Mgmt, S * 8, &t);
        assert_eq!(m.wanted(), (HostHealth::Offline, task::REBOOTING));
        let a = run(&mut m, 9, 400, seen(LOST), &t);
        assert!(
            a.is_empty(),
            "no BMC reset after an acknowledged reboot: {a:?}"
        );
    }

    #[test]
    fn the_bmc_reset_waits_and_is_cancelled_when_the_host_answers() {
        let t = Timers::default();
        let mut m = enabled(&t);
        run(&mut m, 0, 100, seen(LOST), &t);
        assert!(matches!(m.phase(), Phase::BmcWait { .. }));
        let a = run(&mut m, 100, 120, seen(UP), &t);
        assert_eq!(a, [(111, Action::Recovered)]);
    }

    #[test]
    fn without_cluster_or_bmc_the_progression_waits_then_gives_up() {
        let t = Timers::default();
        let mut m = enabled(&t);
        let s = Seen {
            bmc: false,
            cluster: false,
            ..seen(LOST)
        };
        let a = run(&mut m, 0, 2000, s, &t);
        let reboots: Vec<u64> = a
            .iter()
            .filter(|(_, a)| *a == Action::Reboot(Network::Mgmt))
            .map(|(s, _)| *s)
            .collect();
        // Rounds at 7 s and after the first boot timeout (17 + 720).
        assert_eq!(reboots, [7, 737]);
        assert!(!a.iter().any(|(_, a)| *a == Action::BmcReset));
        assert_eq!(m.phase(), Phase::GaveUp);
        assert_eq!(m.wanted(), (HostHealth::Failed, task::GAVE_UP));
        assert!(run(&mut m, 2000, 2010, seen(UP), &t).is_empty());
    }

    #[test]
    fn failed_bmc_resets_are_retried_then_the_host_awaited() {
        let t = Timers::default();
        let mut m = enabled(&t);
        run(&mut m, 0, 301, seen(LOST), &t);
        let mut now = 301;
        for n in 1..t.bmc_retries {
            m.bmc_done(Err("refused".into()), S * now as u32, &t);
            assert_eq!(
                m.wanted().1,
                format!("Reset Failed, retrying ({n} of {})", t.bmc_retries - 1)
            );
            let a = run(&mut m, now, now + 11, seen(LOST), &t);
            assert_eq!(a, [(now + 10, Action::BmcReset)]);
            now += 11;
        }
        m.bmc_done(Err("refused".into()), S * now as u32, &t);
        assert_eq!(m.wanted().1, task::RESET_FAILED);
        assert!(matches!(m.phase(), Phase::Booting { .. }));
    }

    #[test]
    fn repeated_failures_skip_the_window_and_stability_forgives_them() {
        let t = Timers::default();
        let mut m = enabled(&t);
        let mut now = 0;
        for _ in 0..t.graceful_limit {
            run(&mut m, now, now + 1, seen(LOST), &t);
            assert!(matches!(m.phase(), Phase::Grace { .. }));
            run(&mut m, now + 1, now + 13, seen(UP), &t);
            assert!(matches!(m.phase(), Phase::Enabled { .. }));
            now += 13;
        }
        let a = run(&mut m, now, now + 1, seen(LOST), &t);
        assert_eq!(a.last().map(|x| &x.1), Some(&Action::Reboot(Network::Mgmt)));
        // Once stable in service for 10 minutes, the count starts again.
        let mut m = enabled(&t);
        for _ in 0..t.graceful_limit {
            run(&mut m, now, now + 1, seen(LOST), &t);
            run(&mut m, now + 1, now + 13, seen(UP), &t);
            now += 13;
        }
        run(&mut m, now, now + 601, seen(UP), &t);
        now += 601;
        run(&mut m, now, now + 1, seen(LOST), &t);
        assert!(matches!(m.phase(), Phase::Grace { .. }));
    }

    #[test]
    fn multi_node_failure_waits_in_service() {
        let t = Timers::default();
        let mut m = enabled(&t);
        let pooled = Seen {
            mnfa: true,
            ..seen(LOST)
        };
        assert!(run(&mut m, 0, 30, pooled, &t).is_empty());
        assert_eq!(m.wanted(), (HostHealth::Degraded, task::RECOVERY_WAIT));
        // The avoidance ends with the host still lost: it has the window
        // to come back, in service; it does.
        assert!(run(&mut m, 30, 33, seen(LOST), &t).is_empty());
        assert!(matches!(m.phase(), Phase::PoolExit { .. }));
        assert_eq!(m.wanted(), (HostHealth::Degraded, task::RECOVERY_WAIT));
        assert!(run(&mut m, 33, 34, seen(UP), &t).is_empty());
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
        // Again, and this time it stays lost past the window: it fails
        // and is rebooted at once (it had its window).
        run(&mut m, 34, 40, pooled, &t);
        let a = run(&mut m, 40, 48, seen(LOST), &t);
        assert!(matches!(a[0], (47, Action::Failed(_))), "{a:?}");
        assert_eq!(a[1], (47, Action::Reboot(Network::Mgmt)));
    }

    #[test]
    fn a_major_failure_degrades_and_a_critical_one_reboots() {
        let t = Timers::default();
        let mut m = enabled(&t);
        let major = Seen {
            degraded: true,
            ..seen(UP)
        };
        assert!(run(&mut m, 0, 3, major, &t).is_empty());
        assert_eq!(m.wanted(), (HostHealth::Degraded, ""));
        run(&mut m, 3, 4, seen(UP), &t);
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
        let critical = Seen {
            critical: true,
            ..seen(UP)
        };
        let a = run(&mut m, 4, 5, critical, &t);
        assert!(
            matches!(&a[0].1, Action::Failed(w) if w.contains("critical process")),
            "{a:?}"
        );
        assert_eq!(a[1].1, Action::Reboot(Network::Mgmt));
        assert_eq!(m.wanted(), (HostHealth::Failed, task::RESET_PROGRESSION));
        // Rebooted: back, tested, in service; the critical no longer seen.
        m.acked(Network::Mgmt, S * 5, &t);
        run(&mut m, 6, 8, seen(LOST), &t);
        let a = run(&mut m, 8, 20, seen(UP), &t);
        assert_eq!(a, [(19, Action::Recovered)]);
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
        // Failing again and again without a stable period: after
        // `reset_rounds` reboots, the operator's turn.
        let a = run(&mut m, 20, 21, critical, &t);
        assert_eq!(a[1].1, Action::Reboot(Network::Mgmt));
        m.acked(Network::Mgmt, S * 21, &t);
        run(&mut m, 22, 40, seen(UP), &t);
        let a = run(&mut m, 40, 41, critical, &t);
        assert!(matches!(a.as_slice(), [(40, Action::Failed(_))]), "{a:?}");
        assert_eq!(m.phase(), Phase::GaveUp);
        assert_eq!(m.wanted(), (HostHealth::Failed, task::GAVE_UP_SERVICES));
    }

    #[test]
    fn adoption_follows_what_inventory_shows() {
        let t = Timers::default();
        let m = HostFsm::adopt(HostHealth::Failed, "x", Duration::ZERO, &t);
        assert!(matches!(m.phase(), Phase::Grace { .. }));
        let m = HostFsm::adopt(HostHealth::Offline, "Booting", Duration::ZERO, &t);
        assert!(matches!(m.phase(), Phase::Booting { .. }));
        assert_eq!(m.wanted(), (HostHealth::Offline, "Booting"));
        let mut m = HostFsm::adopt(HostHealth::Degraded, "", Duration::ZERO, &t);
        run(&mut m, 0, 1, seen(UP), &t);
        assert_eq!(m.wanted(), (HostHealth::Available, ""));
    }
}
