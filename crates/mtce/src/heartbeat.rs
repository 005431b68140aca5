//! Heartbeat miss counting, per host and per network.
//!
//! Every period the controller pulses each monitored host on each network
//! and counts, per (host, network), the consecutive periods without an
//! answer. Thresholds lift the host's [`Level`] on that network: `minor`
//! (the multi-node failure avoidance input), `degrade` (the major heartbeat
//! alarm, a degraded host) and `fail` (the critical alarm, a failed host).
//! While misses continue the level never falls. An answer clears a level
//! below `Failed` at once; a `Failed` level clears only after `recovery`
//! answers in a row, so a flapping link cannot raise and clear alarms at
//! the pulse rate.
//!
//! A period that the monitor itself ran late (its process stalled) counts
//! no misses: a stalled monitor never accuses the hosts (see [`on_time`]).

use std::collections::BTreeMap;
use std::time::Duration;

use starling_common::Error;

/// A network hosts are pulsed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Network {
    /// The management network (always).
    Mgmt,
    /// The cluster-host network (where provisioned).
    Cluster,
}

impl Network {
    /// StarlingX's name of the network (as in alarm entity ids).
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mgmt => "mgmt",
            Network::Cluster => "cluster-host",
        }
    }

    /// The network's number on the wire.
    pub fn code(self) -> u8 {
        match self {
            Network::Mgmt => 0,
            Network::Cluster => 1,
        }
    }

    /// The network of a wire number.
    pub fn from_code(c: u8) -> Option<Network> {
        match c {
            0 => Some(Network::Mgmt),
            1 => Some(Network::Cluster),
            _ => None,
        }
    }
}

/// Consecutive-miss thresholds and the recovery run, StarlingX's defaults:
/// minor 4, degrade 6, fail 10, 10 answers in a row to recover from a
/// failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub minor: u32,
    pub degrade: u32,
    pub fail: u32,
    pub recovery: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            minor: 4,
            degrade: 6,
            fail: 10,
            recovery: 10,
        }
    }
}

impl Thresholds {
    /// `0 < minor ≤ degrade < fail` and a recovery run of at least one.
    pub fn check(&self) -> Result<(), Error> {
        if self.minor == 0 || self.minor > self.degrade || self.degrade >= self.fail {
            return Err(Error::invalid(format!(
                "heartbeat thresholds must satisfy 0 < minor ({}) <= degrade ({}) < fail ({})",
                self.minor, self.degrade, self.fail
            )));
        }
        if self.recovery == 0 {
            return Err(Error::invalid(
                "the heartbeat recovery run must be at least one pulse",
            ));
        }
        Ok(())
    }

    fn level_of(&self, misses: u32) -> Level {
        if misses >= self.fail {
            Level::Failed
        } else if misses >= self.degrade {
            Level::Degraded
        } else if misses >= self.minor {
            Level::Minor
        } else {
            Level::Ok
        }
    }
}

/// How a host fares on one network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    /// `minor` misses in a row.
    Minor,
    /// `degrade` misses: the major heartbeat alarm, the host degraded.
    Degraded,
    /// `fail` misses: the critical alarm, the host failed.
    Failed,
}

/// A host's level on a network changed at the end of a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change<H> {
    pub host: H,
    pub network: Network,
    pub from: Level,
    pub to: Level,
    /// Consecutive misses at the change (0 on a recovery).
    pub misses: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Track {
    misses: u32,
    level: Option<Level>,
    /// Answers in a row since the last miss, while `Failed`.
    good: u32,
}

impl Track {
    fn level(&self) -> Level {
        self.level.unwrap_or(Level::Ok)
    }
}

/// Whether a period's misses count: it must have ended within half a
/// period of when it was due. A monitor that was not scheduled on time
/// (its host overloaded, its process stopped) may have missed answers that
/// came; it counts none of that period's misses.
pub fn on_time(period: Duration, took: Duration) -> bool {
    took <= period + period / 2
}

/// The heartbeat state of every monitored (host, network).
#[derive(Clone, Debug)]
pub struct Monitor<H: Ord + Clone> {
    thresholds: Thresholds,
    tracks: BTreeMap<(H, Network), Track>,
}

impl<H: Ord + Clone> Monitor<H> {
    /// A monitor of nobody yet; `thresholds` are checked.
    pub fn new(thresholds: Thresholds) -> Result<Self, Error> {
        thresholds.check()?;
        Ok(Monitor {
            thresholds,
            tracks: BTreeMap::new(),
        })
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Starts monitoring `host` on `network` (no miss counted yet); a host
    /// already monitored keeps its state.
    pub fn watch(&mut self, host: H, network: Network) {
        self.tracks.entry((host, network)).or_default();
    }

    /// Stops monitoring `host` on every network; what it leaves, as changes
    /// back to ok from a level that was not (its alarms are to be cleared:
    /// a host no longer monitored — locked, deleted — is accused of
    /// nothing).
    pub fn forget(&mut self, host: &H) -> Vec<Change<H>> {
        let mut left = Vec::new();
        self.tracks.retain(|(h, network), t| {
            if h != host {
                return true;
            }
            if t.level() != Level::Ok {
                left.push(Change {
                    host: h.clone(),
                    network: *network,
                    from: t.level(),
                    to: Level::Ok,
                    misses: 0,
                });
            }
            false
        });
        left
    }

    /// The (host, network) pairs monitored.
    pub fn watched(&self) -> impl Iterator<Item = &(H, Network)> {
        self.tracks.keys()
    }

    /// `host`'s level on `network`, if monitored.
    pub fn level(&self, host: &H, network: Network) -> Option<Level> {
        self.tracks.get(&(host.clone(), network)).map(Track::level)
    }

    /// `host`'s consecutive misses on `network`, if monitored.
    pub fn misses(&self, host: &H, network: Network) -> Option<u32> {
        self.tracks.get(&(host.clone(), network)).map(|t| t.misses)
    }

    /// How many monitored hosts are at `level` or worse on `network` (the
    /// input of multi-node failure avoidance, with `Level::Minor`).
    pub fn count_at_least(&self, network: Network, level: Level) -> usize {
        self.tracks
            .iter()
            .filter(|((_, n), t)| *n == network && t.level() >= level)
            .count()
    }

    /// Ends a period: `answered(host, network)` says who answered in it;
    /// `on_time` whether the period's misses count (see [`on_time`]).
    /// Returns the level changes, in (host, network) order.
    pub fn period_end(
        &mut self,
        answered: impl Fn(&H, Network) -> bool,
        on_time: bool,
    ) -> Vec<Change<H>> {
        let th = self.thresholds;
        let mut changes = Vec::new();
        for ((host, network), t) in &mut self.tracks {
            let from = t.level();
            if answered(host, *network) {
                t.misses = 0;
                if from == Level::Failed {
                    t.good += 1;
                    if t.good >= th.recovery {
                        t.good = 0;
                        t.level = Some(Level::Ok);
                    }
                } else {
                    t.level = Some(Level::Ok);
                }
            } else if on_time {
                t.misses = t.misses.saturating_add(1);
                t.good = 0;
                t.level = Some(from.max(th.level_of(t.misses)));
            }
            let to = t.level();
            if to != from {
                changes.push(Change {
                    host: host.clone(),
                    network: *network,
                    from,
                    to,
                    misses: t.misses,
                });
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor() -> Monitor<&'static str> {
        let mut m = Monitor::new(Thresholds::default()).unwrap();
        m.watch("w0", Network::Mgmt);
        m.watch("w0", Network::Cluster);
        m.watch("w1", Network::Mgmt);
        m
    }

    /// Runs `n` on-time periods in which only `up` answer; the changes.
    fn run(
        m: &mut Monitor<&'static str>,
        n: u32,
        up: &[(&str, Network)],
    ) -> Vec<Change<&'static str>> {
        let mut all = Vec::new();
        for _ in 0..n {
            all.extend(m.period_end(|h, net| up.contains(&(*h, net)), true));
        }
        all
    }

    fn levels(c: &[Change<&'static str>]) -> Vec<(&'static str, Network, Level, u32)> {
        c.iter()
            .map(|c| (c.host, c.network, c.to, c.misses))
            .collect()
    }

    #[test]
    fn misses_lift_the_level_at_each_threshold() {
        let mut m = monitor();
        let all = [
            ("w0", Network::Mgmt),
            ("w0", Network::Cluster),
            ("w1", Network::Mgmt),
        ];
        assert!(run(&mut m, 5, &all).is_empty(), "all well: nothing changes");
        // w0's management link goes; its cluster link and w1 stay.
        let up = [("w0", Network::Cluster), ("w1", Network::Mgmt)];
        let c = run(&mut m, 12, &up);
        assert_eq!(
            levels(&c),
            [
                ("w0", Network::Mgmt, Level::Minor, 4),
                ("w0", Network::Mgmt, Level::Degraded, 6),
                ("w0", Network::Mgmt, Level::Failed, 10),
            ]
        );
        assert_eq!(m.misses(&"w0", Network::Mgmt), Some(12));
        assert_eq!(m.level(&"w0", Network::Cluster), Some(Level::Ok));
        assert_eq!(m.count_at_least(Network::Mgmt, Level::Minor), 1);
    }

    #[test]
    fn a_failure_clears_only_after_the_recovery_run() {
        let mut m = monitor();
        let up = [("w0", Network::Cluster), ("w1", Network::Mgmt)];
        run(&mut m, 10, &up);
        assert_eq!(m.level(&"w0", Network::Mgmt), Some(Level::Failed));
        let all = [
            ("w0", Network::Mgmt),
            ("w0", Network::Cluster),
            ("w1", Network::Mgmt),
        ];
        // Nine answers, a miss: the run starts again, no flapping.
        assert!(run(&mut m, 9, &all).is_empty());
        assert!(run(&mut m, 1, &up).is_empty());
        assert!(run(&mut m, 9, &all).is_empty());
        let c = run(&mut m, 1, &all);
        assert_eq!(levels(&c), [("w0", Network::Mgmt, Level::Ok, 0)]);
    }

    #[test]
    fn below_failure_one_answer_clears() {
        let mut m = monitor();
        let up = [("w0", Network::Cluster), ("w1", Network::Mgmt)];
        run(&mut m, 7, &up);
        assert_eq!(m.level(&"w0", Network::Mgmt), Some(Level::Degraded));
        let c = run(&mut m, 1, &[("w0", Network::Mgmt)]);
        assert_eq!(levels(&c), [("w0", Network::Mgmt, Level::Ok, 0)]);
        assert_eq!(m.misses(&"w0", Network::Cluster), Some(1));
    }

    #[test]
    fn late_periods_accuse_nobody() {
        let mut m = monitor();
        for _ in 0..50 {
            assert!(m.period_end(|_, _| false, false).is_empty());
        }
        assert_eq!(m.misses(&"w1", Network::Mgmt), Some(0));
        assert!(on_time(
            Duration::from_millis(100),
            Duration::from_millis(150)
        ));
        assert!(!on_time(
            Duration::from_millis(100),
            Duration::from_millis(151)
        ));
        // A late period still counts answers.
        run(&mut m, 10, &[]);
        run(&mut m, 9, &[("w1", Network::Mgmt)]);
        let c = m.period_end(|h, n| (*h, n) == ("w1", Network::Mgmt), false);
        assert_eq!(levels(&c), [("w1", Network::Mgmt, Level::Ok, 0)]);
    }

    #[test]
    fn thresholds_are_checked_and_hosts_forgotten() {
        let bad = Thresholds {
            degrade: 10,
            ..Thresholds::default()
        };
        assert!(Monitor::<u32>::new(bad).is_err());
        assert!(
            Monitor::<u32>::new(Thresholds {
                recovery: 0,
                ..Thresholds::default()
            })
            .is_err()
        );
        let mut m = monitor();
        run(&mut m, 7, &[("w1", Network::Mgmt)]);
        let left = m.forget(&"w0");
        assert_eq!(
            levels(&left),
            [
                ("w0", Network::Mgmt, Level::Ok, 0),
                ("w0", Network::Cluster, Level::Ok, 0)
            ]
        );
        assert_eq!(left[0].from, Level::Degraded);
        assert!(m.forget(&"w1").is_empty(), "w1 was well");
        assert_eq!(m.watched().count(), 0);
        assert_eq!(m.level(&"w0", Network::Mgmt), None);
    }
}
