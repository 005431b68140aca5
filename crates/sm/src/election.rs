//! Who leads the controller domain (StarlingX SM's `hold_election`): each
//! node offers its generation, priority and name; a higher generation
//! wins, then a higher priority, then the greater name. Only the leader
//! schedules the service groups.
//!
//! A node's waiting time before it holds its first election is the
//! domain's wait interval plus a VRRP-style skew, `(256 − priority) ×
//! 100 / 256` ms, so the node of higher priority finishes waiting first.

use std::cmp::Ordering;
use std::time::Duration;

/// What a node offers in an election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Bumped when a node takes over (a failover), so the survivor of a
    /// partition outranks a node that rejoins with stale views.
    pub generation: u64,
    /// The domain's priority on this node (StarlingX's controller
    /// domain: 230).
    pub priority: u8,
    /// The node's hostname.
    pub name: String,
}

impl Candidate {
    /// How `self` ranks against `other`: generation, then priority, then
    /// name.
    pub fn rank(&self, other: &Candidate) -> Ordering {
        self.generation
            .cmp(&other.generation)
            .then(self.priority.cmp(&other.priority))
            .then_with(|| self.name.cmp(&other.name))
    }
}

/// The leader among `me` and the `peers` heard from (those not down).
pub fn elect<'a>(
    me: &'a Candidate,
    peers: impl IntoIterator<Item = &'a Candidate>,
) -> &'a Candidate {
    peers.into_iter().fold(me, |best, c| {
        if c.rank(best) == Ordering::Greater {
            c
        } else {
            best
        }
    })
}

/// How long a node waits before its first election: `wait` plus the
/// priority's skew.
pub fn waiting(wait: Duration, priority: u8) -> Duration {
    wait + Duration::from_micros((256 - u64::from(priority)) * 100_000 / 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(generation: u64, priority: u8, name: &str) -> Candidate {
        Candidate {
            generation,
            priority,
            name: name.into(),
        }
    }

    #[test]
    fn generation_then_priority_then_name() {
        let me = c(1, 230, "controller-0");
        let peer = c(1, 230, "controller-1");
        assert_eq!(elect(&me, [&peer]).name, "controller-1", "greater name");
        let higher = c(1, 231, "controller-0");
        assert_eq!(
            elect(&higher, [&peer]).name,
            "controller-0",
            "priority first"
        );
        let newer = c(2, 100, "controller-0");
        assert_eq!(
            elect(&newer, [&peer]).name,
            "controller-0",
            "generation first"
        );
        assert_eq!(elect(&me, []).name, "controller-0", "alone, itself");
        // The same answer whichever side holds the election.
        assert_eq!(elect(&me, [&peer]), elect(&peer, [&me]));
    }

    #[test]
    fn higher_priority_waits_less() {
        let w = Duration::from_secs(5);
        assert_eq!(waiting(w, 0), w + Duration::from_millis(100));
        assert!(waiting(w, 230) < waiting(w, 100));
        assert_eq!(
            waiting(w, 230),
            w + Duration::from_micros(26 * 100_000 / 256)
        );
    }
}
