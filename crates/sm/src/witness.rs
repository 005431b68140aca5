//! The witnesses' book: from the hosts' answers to this controller's
//! probes, the [`Witnesses`] the failover state machine weighs when the
//! peer is lost on every path.
//!
//! The population is the hosts heard by both controllers before the loss:
//! a host joins it while the pair is whole (every path up, both normal) by
//! answering this controller while saying it hears the peer, and leaves it
//! only when, the pair whole again, it has not done so for [`FORGET`].
//! While the pair is not whole the population stands as it was, so a
//! partition cannot shrink the majority it is judged by.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::failover::Witnesses;

/// A host that has not answered (hearing the peer) for this long, the
/// pair whole, is no longer a witness.
pub const FORGET: Duration = Duration::from_secs(30);

/// Hosts the book holds at most (a cloud's hosts, with room).
pub const MAX_HOSTS: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// When it last answered this controller.
    answered: Duration,
    /// How long before that it had last heard the peer.
    peer_age: Option<Duration>,
    /// When it last answered, hearing the peer, with the pair whole.
    both: Option<Duration>,
}

impl Entry {
    /// It answers this controller within `fresh`.
    fn reaches(&self, now: Duration, fresh: Duration) -> bool {
        now.saturating_sub(self.answered) <= fresh
    }

    /// By its last answer, it heard the peer within `fresh` of `now`.
    fn hears_peer(&self, now: Duration, fresh: Duration) -> bool {
        self.peer_age
            .is_some_and(|a| a + now.saturating_sub(self.answered) <= fresh)
    }
}

/// The hosts' answers, by host.
#[derive(Clone, Debug, Default)]
pub struct Book {
    hosts: BTreeMap<String, Entry>,
}

impl Book {
    /// Host `host` answered at `at`, having last heard the peer
    /// `peer_age` before (none: not for longer than it counts).
    pub fn answered(&mut self, host: &str, at: Duration, peer_age: Option<Duration>) {
        if let Some(e) = self.hosts.get_mut(host) {
            if at >= e.answered {
                e.answered = at;
                e.peer_age = peer_age;
            }
            return;
        }
        if self.hosts.len() < MAX_HOSTS {
            self.hosts.insert(
                host.to_string(),
                Entry {
                    answered: at,
                    peer_age,
                    both: None,
                },
            );
        }
    }

    /// The witnesses at `now`: `whole`, the pair is whole (the population
    /// follows the answers); `fresh`, how recent an answer (and a host's
    /// hearing of the peer) must be to count (the dead interval). None
    /// when no host is a witness.
    pub fn witnesses(&mut self, now: Duration, whole: bool, fresh: Duration) -> Option<Witnesses> {
        if whole {
            for e in self.hosts.values_mut() {
                if e.reaches(now, fresh) && e.hears_peer(now, fresh) {
                    e.both = Some(now);
                } else if e.both.is_some_and(|b| now.saturating_sub(b) > FORGET) {
                    e.both = None;
                }
            }
            self.hosts
                .retain(|_, e| e.both.is_some() || now.saturating_sub(e.answered) <= FORGET);
        }
        let population = self.hosts.values().filter(|e| e.both.is_some());
        let (mut n, mut reachable, mut peer_heard) = (0u32, 0u32, 0u32);
        for e in population {
            n += 1;
            if e.reaches(now, fresh) {
                reachable += 1;
                if e.hears_peer(now, fresh) {
                    peer_heard += 1;
                }
            }
        }
        (n > 0).then_some(Witnesses {
            population: n,
            reachable,
            peer_heard,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const FRESH: Duration = Duration::from_millis(400);

    fn w(population: u32, reachable: u32, peer_heard: u32) -> Option<Witnesses> {
        Some(Witnesses {
            population,
            reachable,
            peer_heard,
        })
    }

    #[test]
    fn the_population_is_the_hosts_heard_by_both_while_the_pair_is_whole() {
        let mut b = Book::default();
        assert_eq!(b.witnesses(Duration::ZERO, true, FRESH), None);
        // w0 and w1 hear both controllers; w2 answers but not the peer.
        let t = 1000 * MS;
        b.answered("w0", t, Some(50 * MS));
        b.answered("w1", t, Some(90 * MS));
        b.answered("w2", t, None);
        assert_eq!(b.witnesses(t + 10 * MS, true, FRESH), w(2, 2, 2));
        // The pair breaks; the peer falls silent to the hosts too.
        let t = 2000 * MS;
        b.answered("w0", t, Some(900 * MS));
        b.answered("w1", t, Some(900 * MS));
        b.answered("w2", t, None);
        assert_eq!(b.witnesses(t, false, FRESH), w(2, 2, 0));
        // A host heard by both only now does not join while not whole.
        b.answered("w2", t + 100 * MS, Some(10 * MS));
        assert_eq!(b.witnesses(t + 100 * MS, false, FRESH), w(2, 2, 0));
        // w1 stops answering: reachable no longer, still of the population
        // for as long as the pair is broken.
        b.answered("w0", 60_000 * MS, None);
        assert_eq!(b.witnesses(60_000 * MS, false, FRESH), w(2, 1, 0));
    }

    #[test]
    fn a_host_hearing_the_peer_counts_while_its_last_word_is_fresh() {
        let mut b = Book::default();
        b.answered("w0", 1000 * MS, Some(100 * MS));
        assert_eq!(b.witnesses(1000 * MS, true, FRESH), w(1, 1, 1));
        // No new answer: its hearing of the peer ages with its answer.
        assert_eq!(b.witnesses(1250 * MS, false, FRESH), w(1, 1, 1));
        assert_eq!(b.witnesses(1350 * MS, false, FRESH), w(1, 1, 0));
        assert_eq!(b.witnesses(1450 * MS, false, FRESH), w(1, 0, 0));
        // An older answer arriving late changes nothing.
        b.answered("w0", 1500 * MS, Some(Duration::ZERO));
        b.answered("w0", 1200 * MS, None);
        assert_eq!(b.witnesses(1500 * MS, false, FRESH), w(1, 1, 1));
    }

    #[test]
    fn a_host_gone_while_the_pair_is_whole_is_forgotten() {
        let mut b = Book::default();
        b.answered("w0", Duration::ZERO, Some(Duration::ZERO));
        b.answered("w1", Duration::ZERO, Some(Duration::ZERO));
        assert_eq!(b.witnesses(Duration::ZERO, true, FRESH), w(2, 2, 2));
        let mut t = Duration::ZERO;
        while t <= FORGET + 1000 * MS {
            t += 500 * MS;
            b.answered("w0", t, Some(20 * MS));
            b.witnesses(t, true, FRESH);
        }
        assert_eq!(b.witnesses(t, true, FRESH), w(1, 1, 1));
        assert_eq!(b.hosts.len(), 1);
    }

    #[test]
    fn the_book_is_bounded() {
        let mut b = Book::default();
        for i in 0..MAX_HOSTS + 10 {
            b.answered(&format!("w{i}"), Duration::ZERO, Some(Duration::ZERO));
        }
        assert_eq!(b.hosts.len(), MAX_HOSTS);
        assert_eq!(
            b.witnesses(Duration::ZERO, true, FRESH),
            w(MAX_HOSTS as u32, MAX_HOSTS as u32, MAX_HOSTS as u32)
        );
    }
}
