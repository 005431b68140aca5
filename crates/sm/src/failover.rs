//! The failover state machine: what a controller does when it stops
//! hearing its peer on some or all of their paths (StarlingX SM's
//! failover FSM and survivor selection, restated with one change of
//! stance: **no takeover on a guess**).
//!
//! States, as the peer sees them in heartbeats: `normal`, `fail-pending`
//! (a path lost, judging), `failed`, `survived`. The allowed pairs are
//! normal/normal, fail-pending/fail-pending and failed/survived; a failed
//! controller never takes over and a survivor never steps down until both
//! are back to normal (the hysteresis that prevents ping-pong).
//!
//! After `fail_pending` of loss, the judgement:
//! - **Some path still up** (a partial cut): the healthier side by its
//!   interface-down flags (OAM −1, cluster-host −2, management −4) is
//!   active; the other is standby (failed if its management is down);
//!   equal scores change nothing.
//! - **No path up** (a partition, or a dead peer):
//!   - with **witnesses** (the hosts maintenance heartbeats, counted before
//!     the loss): only the side reaching a strict majority of them may be
//!     active. An active without a majority steps down at once; a standby
//!     takes over only if a majority answer it and no longer hear the
//!     active, after fencing it (or, if the operator allows an unfenced
//!     takeover, after `demote_grace` for the old active to step down);
//!   - without witnesses, with a **fence** (the peer's BMC): the active
//!     stays and fences the standby; a standby waits `standby_fence_delay`
//!     (the active's fence goes first when the active lives), then fences
//!     the active and takes over only once the fence is acknowledged;
//!   - with **no fence**: the active stays; the standby stays standby and
//!     says so (a concern: an alarm), unless the operator's policy says
//!     to take over anyway ([`Unfenced`]: with a witness majority, or
//!     always).
//!
//! A period this node itself ran late (`on_time` false: it was stalled)
//! judges nothing: the peer's silence may be its own. An active that
//! hears the peer say `survived` steps down at once (it was stalled while
//! the peer took over).
//!
//! Pure and clock-free: the caller gives the time and what it sees, and
//! carries the [`Decision`]s out.

use std::time::Duration;

/// Interface-down flags, as SM heartbeats carry them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Down(pub u8);

impl Down {
    pub const CLUSTER_HOST: u8 = 0x1;
    pub const MGMT: u8 = 0x2;
    pub const OAM: u8 = 0x4;
    pub const ADMIN: u8 = 0x8;

    /// The health score: 0 when all is up; OAM down −1, cluster-host −2,
    /// management −4.
    pub fn score(self) -> i32 {
        let mut s = 0;
        if self.0 & Self::OAM != 0 {
            s -= 1;
        }
        if self.0 & Self::CLUSTER_HOST != 0 {
            s -= 2;
        }
        if self.0 & Self::MGMT != 0 {
            s -= 4;
        }
        s
    }

    pub fn mgmt(self) -> bool {
        self.0 & Self::MGMT != 0
    }
}

/// The failover state a controller shows its peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Normal,
    FailPending,
    Failed,
    Survived,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Normal => "normal",
            State::FailPending => "fail-pending",
            State::Failed => "failed",
            State::Survived => "survived",
        }
    }
}

/// The controller's role now (its service groups active or standby).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Active,
    Standby,
}

/// The witnesses this controller reaches: of `population` hosts heard by
/// both controllers before the loss, `reachable` answer it now, and of
/// those, `peer_heard` say they still hear the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Witnesses {
    pub population: u32,
    pub reachable: u32,
    pub peer_heard: u32,
}

impl Witnesses {
    /// A majority of the witnesses answer this controller.
    fn majority(&self) -> bool {
        u64::from(self.reachable) * 2 > u64::from(self.population)
    }

    /// A majority of the witnesses answer this controller and no longer
    /// hear the peer: the peer is dead or cut off from the cloud (not
    /// merely from this controller).
    fn peer_orphaned(&self) -> bool {
        u64::from(self.reachable.saturating_sub(self.peer_heard)) * 2 > u64::from(self.population)
    }
}

/// What the controller sees this period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Paths to the peer configured (up to three).
    pub paths: usize,
    /// Paths on which the peer's heartbeat arrives now.
    pub paths_up: usize,
    /// This controller's interface-down flags.
    pub local_down: Down,
    /// The peer's, as it last said.
    pub peer_down: Down,
    /// The peer's failover state, as it last said (`None`: never heard).
    pub peer_state: Option<State>,
    /// The witnesses, when there are hosts to count.
    pub witnesses: Option<Witnesses>,
    /// The peer can be fenced (its BMC is provisioned).
    pub fence: bool,
    /// This period ran on time (this controller was not stalled).
    pub on_time: bool,
}

/// Whether a standby that lost its peer on every path may take over
/// without fencing it first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfenced {
    /// Never: without a fence it stays standby and says so (the default).
    Never,
    /// When a majority of the witnesses answer it and no longer hear the
    /// peer, after `demote_grace`. Two actives remain possible if the
    /// peer's SM stalls while its services run on.
    WithWitnesses,
    /// Always (StarlingX's blind guess: two actives if the peer lives).
    Always,
}

/// The failover's timers and choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How long a loss lasts before it is judged (StarlingX: 2 s).
    pub fail_pending: Duration,
    /// How long a standby waits before fencing a silent active, when it
    /// has no witness (the live active's fence goes first).
    pub standby_fence_delay: Duration,
    /// How long a standby with a witness majority and no fence waits for
    /// the old active, without one, to step down.
    pub demote_grace: Duration,
    /// Fence attempts (StarlingX: 5), `fence_retry` apart (1 s).
    pub fence_attempts: u32,
    pub fence_retry: Duration,
    pub unfenced: Unfenced,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_pending: Duration::from_secs(2),
            standby_fence_delay: Duration::from_secs(2),
            demote_grace: Duration::from_secs(2),
            fence_attempts: 5,
            fence_retry: Duration::from_secs(1),
            unfenced: Unfenced::Never,
        }
    }
}

/// Why a controller cannot do better (an alarm to raise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concern {
    /// The peer is lost and cannot be fenced: staying standby.
    NoFence,
    /// The peer is lost and this controller does not reach a majority of
    /// the witnesses.
    NoQuorum,
    /// The peer could not be fenced: not taking over.
    FenceFailed,
}

/// What the caller is to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    GoActive,
    GoStandby,
    /// Fence the peer (a BMC reset); answer with [`Failover::fenced`].
    FencePeer,
    /// Raise the concern's alarm.
    Concern(Concern),
    /// Clear the concern's alarm.
    Clear,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Normal,
    Pending {
        since: Duration,
    },
    /// Judged without a change (equal scores, no arbiter, no quorum):
    /// judged again after `fail_pending`.
    Held {
        since: Duration,
    },
    /// A standby about to take over at `at`, fencing first or not; after
    /// a partial cut (`partial`: the peer still heard on some path, and
    /// stepping down) or a partition.
    TakeOverAt {
        at: Duration,
        fence: bool,
        partial: bool,
    },
    Fencing {
        attempt: u32,
    },
    Retry {
        at: Duration,
        attempt: u32,
    },
    Failed,
    Survived,
}

/// One controller's failover state.
#[derive(Clone, Debug)]
pub struct Failover {
    phase: Phase,
    concern: Option<Concern>,
}

impl Default for Failover {
    fn default() -> Self {
        Failover {
            phase: Phase::Normal,
            concern: None,
        }
    }
}

impl Failover {
    /// The state the peer is told.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Normal => State::Normal,
            Phase::Failed => State::Failed,
            Phase::Survived => State::Survived,
            _ => State::FailPending,
        }
    }

    /// Where the machine stands within its state: `normal`, `pending`
    /// (the loss not judged yet), `held` (judged: no change),
    /// `taking-over`, `fencing`, `retrying`, `failed` or `survived`.
    pub fn phase(&self) -> &'static str {
        match self.phase {
            Phase::Normal => "normal",
            Phase::Pending { .. } => "pending",
            Phase::Held { .. } => "held",
            Phase::TakeOverAt { .. } => "taking-over",
            Phase::Fencing { .. } => "fencing",
            Phase::Retry { .. } => "retrying",
            Phase::Failed => "failed",
            Phase::Survived => "survived",
        }
    }

    /// The concern raised now, if any.
    pub fn concern(&self) -> Option<Concern> {
        self.concern
    }

    fn raise(&mut self, c: Concern, out: &mut Vec<Decision>) {
        if self.concern != Some(c) {
            self.concern = Some(c);
            out.push(Decision::Concern(c));
        }
    }

    fn back_to_normal(&mut self, out: &mut Vec<Decision>) {
        self.phase = Phase::Normal;
        if self.concern.take().is_some() {
            out.push(Decision::Clear);
        }
    }

    /// One period at `now`: the controller in `role`, seeing `seen`.
    pub fn step(&mut self, now: Duration, role: Role, seen: &Seen, p: &Policy) -> Vec<Decision> {
        let mut out = Vec::new();
        let all_up = seen.paths_up >= seen.paths;
        // Stalled while the peer took over: step down at once. An active
        // back from a stall that does not hear its peer on every path
        // steps down too: the peer may have taken over meanwhile, and the
        // stall is this controller's own failure.
        let stalled_alone = !seen.on_time && !all_up;
        if role == Role::Active
            && self.phase != Phase::Survived
            && (seen.peer_state == Some(State::Survived) || stalled_alone)
        {
            self.phase = Phase::Failed;
            out.push(Decision::GoStandby);
            return out;
        }
        match self.phase {
            Phase::Normal => {
                if !all_up && seen.on_time {
                    self.phase = Phase::Pending { since: now };
                }
            }
            Phase::Pending { since } | Phase::Held { since } => {
                if all_up {
                    self.back_to_normal(&mut out);
                } else if !seen.on_time {
                    self.phase = Phase::Pending { since: now };
                } else if now.saturating_sub(since) >= p.fail_pending {
                    self.judge(now, role, seen, p, &mut out);
                }
            }
            Phase::TakeOverAt { at, fence, partial } => {
                if all_up || (!partial && seen.paths_up > 0) || !seen.on_time {
                    // The peer answers again, or this controller was the
                    // one stalled: judge afresh.
                    self.phase = Phase::Pending { since: now };
                } else if now >= at {
                    if fence {
                        self.phase = Phase::Fencing { attempt: 1 };
                        out.push(Decision::FencePeer);
                    } else {
                        self.phase = Phase::Survived;
                        out.push(Decision::GoActive);
                    }
                }
            }
            Phase::Fencing { .. } => {}
            Phase::Retry { at, attempt } => {
                if now >= at {
                    self.phase = Phase::Fencing { attempt };
                    out.push(Decision::FencePeer);
                }
            }
            Phase::Failed => {
                if all_up && matches!(seen.peer_state, Some(State::Survived | State::Normal)) {
                    self.back_to_normal(&mut out);
                }
            }
            Phase::Survived => {
                if all_up && seen.peer_state == Some(State::Normal) {
                    self.back_to_normal(&mut out);
                }
            }
        }
        out
    }

    fn judge(
        &mut self,
        now: Duration,
        role: Role,
        seen: &Seen,
        p: &Policy,
        out: &mut Vec<Decision>,
    ) {
        let held = Phase::Held { since: now };
        if seen.paths_up > 0 {
            // A partial cut: the healthier side is active.
            let (me, peer) = (seen.local_down.score(), seen.peer_down.score());
            match (me.cmp(&peer), role) {
                (std::cmp::Ordering::Greater, Role::Standby) => {
                    // The active steps down at the same judgement; its
                    // groups are given `demote_grace` to stop first.
                    self.phase = Phase::TakeOverAt {
                        at: now + p.demote_grace,
                        fence: false,
                        partial: true,
                    };
                }
                (std::cmp::Ordering::Greater, Role::Active) => self.phase = Phase::Survived,
                (std::cmp::Ordering::Less, _) => {
                    if role == Role::Active {
                        out.push(Decision::GoStandby);
                    }
                    self.phase = if seen.local_down.mgmt() {
                        Phase::Failed
                    } else {
                        held
                    };
                }
                (std::cmp::Ordering::Equal, _) => self.phase = held,
            }
            return;
        }
        // No path up: a partition, or a dead peer.
        let witnesses = seen.witnesses.filter(|w| w.population > 0);
        match (role, witnesses) {
            (Role::Active, Some(w)) if !w.majority() => {
                self.phase = Phase::Failed;
                out.push(Decision::GoStandby);
                self.raise(Concern::NoQuorum, out);
            }
            (Role::Active, _) => {
                self.phase = Phase::Survived;
                if seen.fence {
                    out.push(Decision::FencePeer);
                }
            }
            (Role::Standby, Some(w)) if !w.majority() => {
                self.phase = held;
                self.raise(Concern::NoQuorum, out);
            }
            (Role::Standby, Some(w)) if !w.peer_orphaned() => {
                // The hosts still hear the peer: it lives and serves; only
                // the link between the controllers is cut.
                self.phase = held;
            }
            (Role::Standby, Some(_)) if seen.fence => {
                self.phase = Phase::Fencing { attempt: 1 };
                out.push(Decision::FencePeer);
            }
            (Role::Standby, Some(_)) if p.unfenced != Unfenced::Never => {
                self.phase = Phase::TakeOverAt {
                    at: now + p.demote_grace,
                    fence: false,
                    partial: false,
                };
            }
            (Role::Standby, None) if seen.fence => {
                self.phase = Phase::TakeOverAt {
                    at: now + p.standby_fence_delay,
                    fence: true,
                    partial: false,
                };
            }
            (Role::Standby, None) if p.unfenced == Unfenced::Always => {
                self.phase = Phase::Survived;
                out.push(Decision::GoActive);
            }
            (Role::Standby, _) => {
                self.phase = held;
                self.raise(Concern::NoFence, out);
            }
        }
    }

    /// The fence's outcome (a standby's: it takes over only on success;
    /// an active's fence of its standby changes nothing).
    pub fn fenced(&mut self, ok: bool, now: Duration, p: &Policy) -> Vec<Decision> {
        let mut out = Vec::new();
        let Phase::Fencing { attempt } = self.phase else {
            return out;
        };
        if ok {
            self.phase = Phase::Survived;
            if self.concern.take().is_some() {
                out.push(Decision::Clear);
            }
            out.push(Decision::GoActive);
        } else if attempt < p.fence_attempts {
            self.phase = Phase::Retry {
                at: now + p.fence_retry,
                attempt: attempt + 1,
            };
        } else {
            self.phase = Phase::Held { since: now };
            self.raise(Concern::FenceFailed, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn seen(paths_up: usize) -> Seen {
        Seen {
            paths: 2,
            paths_up,
            local_down: Down::default(),
            peer_down: Down::default(),
            peer_state: Some(State::Normal),
            witnesses: None,
            fence: false,
            on_time: true,
        }
    }

    /// Steps every 100 ms over `[from, to)` ms; the decisions with their
    /// time.
    fn run(
        f: &mut Failover,
        from: u64,
        to: u64,
        role: Role,
        s: Seen,
        p: &Policy,
    ) -> Vec<(u64, Decision)> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to {
            for d in f.step(MS * t as u32, role, &s, p) {
                out.push((t, d));
            }
            t += 100;
        }
        out
    }

    #[test]
    fn a_brief_loss_comes_back_to_normal_without_a_decision() {
        let p = Policy::default();
        let mut f = Failover::default();
        assert!(run(&mut f, 0, 1500, Role::Standby, seen(0), &p).is_empty());
        assert_eq!(f.state(), State::FailPending);
        assert!(run(&mut f, 1500, 1600, Role::Standby, seen(2), &p).is_empty());
        assert_eq!(f.state(), State::Normal);
    }

    #[test]
    fn a_partial_cut_makes_the_healthier_side_active() {
        let p = Policy::default();
        // The standby's links are all up, the active lost its management.
        let mut standby = Failover::default();
        let s = Seen {
            peer_down: Down(Down::MGMT),
            ..seen(1)
        };
        // Judged at 2 s; the active steps down then, the standby takes
        // over after the grace.
        let d = run(&mut standby, 0, 4100, Role::Standby, s, &p);
        assert_eq!(d, [(4000, Decision::GoActive)]);
        assert_eq!(standby.state(), State::Survived);
        let mut active = Failover::default();
        let s = Seen {
            local_down: Down(Down::MGMT),
            ..seen(1)
        };
        let d = run(&mut active, 0, 2100, Role::Active, s, &p);
        assert_eq!(d, [(2000, Decision::GoStandby)]);
        assert_eq!(active.state(), State::Failed);
        // Equal: nothing changes.
        let mut f = Failover::default();
        let s = Seen {
            local_down: Down(Down::OAM),
            peer_down: Down(Down::OAM),
            ..seen(1)
        };
        assert!(run(&mut f, 0, 5000, Role::Active, s, &p).is_empty());
    }

    #[test]
    fn without_witness_or_fence_the_standby_stays_and_says_so() {
        let p = Policy::default();
        let mut standby = Failover::default();
        let d = run(&mut standby, 0, 10_000, Role::Standby, seen(0), &p);
        assert_eq!(d, [(2000, Decision::Concern(Concern::NoFence))]);
        // The active keeps its groups: no guess either way.
        let mut active = Failover::default();
        assert!(run(&mut active, 0, 10_000, Role::Active, seen(0), &p).is_empty());
        assert_eq!(active.state(), State::Survived);
        // The operator's choice: take over anyway.
        let guess = Policy {
            unfenced: Unfenced::Always,
            ..p
        };
        let mut f = Failover::default();
        let d = run(&mut f, 0, 2100, Role::Standby, seen(0), &guess);
        assert_eq!(d, [(2000, Decision::GoActive)]);
        // Back: the concern clears.
        let d = run(&mut standby, 10_000, 10_100, Role::Standby, seen(2), &p);
        assert_eq!(d, [(10_000, Decision::Clear)]);
    }

    #[test]
    fn with_a_fence_the_standby_waits_fences_then_takes_over() {
        let p = Policy::default();
        let s = Seen {
            fence: true,
            ..seen(0)
        };
        let mut f = Failover::default();
        // Judged at 2 s; the standby's fence waits 2 s more.
        let d = run(&mut f, 0, 4100, Role::Standby, s, &p);
        assert_eq!(d, [(4000, Decision::FencePeer)]);
        assert!(
            run(&mut f, 4100, 9000, Role::Standby, s, &p).is_empty(),
            "awaiting the fence"
        );
        assert_eq!(f.fenced(true, MS * 9000, &p), [Decision::GoActive]);
        assert_eq!(f.state(), State::Survived);
        // The active, meanwhile, fences its standby at once and stays.
        let mut a = Failover::default();
        let d = run(&mut a, 0, 2100, Role::Active, s, &p);
        assert_eq!(d, [(2000, Decision::FencePeer)]);
    }

    #[test]
    fn a_peer_heard_again_before_the_fence_cancels_the_takeover() {
        let p = Policy::default();
        let s = Seen {
            fence: true,
            ..seen(0)
        };
        let mut f = Failover::default();
        run(&mut f, 0, 3000, Role::Standby, s, &p);
        let back = Seen {
            fence: true,
            ..seen(1)
        };
        assert!(run(&mut f, 3000, 3100, Role::Standby, back, &p).is_empty());
        assert_eq!(f.state(), State::FailPending);
        assert!(run(&mut f, 3100, 3200, Role::Standby, seen(2), &p).is_empty());
        assert_eq!(f.state(), State::Normal);
    }

    #[test]
    fn a_failed_fence_is_retried_then_the_standby_stays() {
        let p = Policy::default();
        let s = Seen {
            witnesses: Some(Witnesses {
                population: 3,
                reachable: 3,
                peer_heard: 0,
            }),
            fence: true,
            ..seen(0)
        };
        let mut f = Failover::default();
        // With a witness majority the fence goes at once.
        let d = run(&mut f, 0, 2100, Role::Standby, s, &p);
        assert_eq!(d, [(2000, Decision::FencePeer)]);
        let mut t = 2100;
        for _ in 1..p.fence_attempts {
            assert!(f.fenced(false, MS * t as u32, &p).is_empty());
            let d = run(&mut f, t, t + 1100, Role::Standby, s, &p);
            assert_eq!(
                d.iter().map(|x| x.1).collect::<Vec<_>>(),
                [Decision::FencePeer]
            );
            t += 1100;
        }
        assert_eq!(
            f.fenced(false, MS * t as u32, &p),
            [Decision::Concern(Concern::FenceFailed)]
        );
        assert_eq!(f.state(), State::FailPending);
    }

    #[test]
    fn witnesses_decide_a_partition() {
        let p = Policy::default();
        let w = |reachable| Seen {
            witnesses: Some(Witnesses {
                population: 4,
                reachable,
                peer_heard: 0,
            }),
            ..seen(0)
        };
        // The active reaching 2 of 4 has no majority: it steps down.
        let mut a = Failover::default();
        let d = run(&mut a, 0, 2100, Role::Active, w(2), &p);
        assert_eq!(
            d,
            [
                (2000, Decision::GoStandby),
                (2000, Decision::Concern(Concern::NoQuorum))
            ]
        );
        assert_eq!(a.state(), State::Failed);
        // The standby reaching 3 of 4 that no longer hear the active: with
        // a fence it fences; without one it stays (the default) or, if
        // the operator allows, takes over once the old active had time to
        // step down.
        let mut s = Failover::default();
        let fenced = Seen {
            fence: true,
            ..w(3)
        };
        let d = run(&mut s, 0, 2100, Role::Standby, fenced, &p);
        assert_eq!(d, [(2000, Decision::FencePeer)]);
        let mut s = Failover::default();
        let d = run(&mut s, 0, 4100, Role::Standby, w(3), &p);
        assert_eq!(d, [(2000, Decision::Concern(Concern::NoFence))]);
        let allow = Policy {
            unfenced: Unfenced::WithWitnesses,
            ..p
        };
        let mut s = Failover::default();
        let d = run(&mut s, 0, 4100, Role::Standby, w(3), &allow);
        assert_eq!(d, [(4000, Decision::GoActive)]);
        // A standby without a majority stays.
        let mut s = Failover::default();
        let d = run(&mut s, 0, 4100, Role::Standby, w(2), &p);
        assert_eq!(d, [(2000, Decision::Concern(Concern::NoQuorum))]);
        // An active with a majority stays active.
        let mut a = Failover::default();
        assert!(run(&mut a, 0, 4100, Role::Active, w(3), &p).is_empty());
        assert_eq!(a.state(), State::Survived);
        // Only the link between the controllers cut: the hosts still hear
        // the active, so the standby stays.
        let both = Seen {
            witnesses: Some(Witnesses {
                population: 4,
                reachable: 4,
                peer_heard: 4,
            }),
            ..seen(0)
        };
        let mut s = Failover::default();
        assert!(run(&mut s, 0, 10_000, Role::Standby, both, &p).is_empty());
    }

    #[test]
    fn a_stalled_controller_judges_nothing_and_yields_to_a_survivor() {
        let p = Policy::default();
        let stalled = Seen {
            on_time: false,
            ..seen(0)
        };
        let mut f = Failover::default();
        // Late periods: the silence may be its own; no judgement.
        run(&mut f, 0, 1000, Role::Standby, seen(0), &p);
        assert!(run(&mut f, 1000, 5000, Role::Standby, stalled, &p).is_empty());
        assert_eq!(f.state(), State::FailPending);
        // An active back from a stall that hears nobody steps down.
        let mut a = Failover::default();
        let d = a.step(MS * 6000, Role::Active, &stalled, &p);
        assert_eq!(d, [Decision::GoStandby]);
        // An active back from a stall hears the peer took over: it steps
        // down at once.
        let mut a = Failover::default();
        let peer_took_over = Seen {
            peer_state: Some(State::Survived),
            ..seen(2)
        };
        let d = a.step(MS * 6000, Role::Active, &peer_took_over, &p);
        assert_eq!(d, [Decision::GoStandby]);
        assert_eq!(a.state(), State::Failed);
    }

    #[test]
    fn failed_and_survived_hold_until_both_are_normal_again() {
        let p = Policy::default();
        let s = Seen {
            witnesses: Some(Witnesses {
                population: 2,
                reachable: 2,
                peer_heard: 0,
            }),
            fence: true,
            ..seen(0)
        };
        let mut survivor = Failover::default();
        run(&mut survivor, 0, 2100, Role::Standby, s, &p);
        survivor.fenced(true, MS * 2100, &p);
        assert_eq!(survivor.state(), State::Survived);
        // The paths back, the peer still failed: still survived.
        let failed_peer = Seen {
            peer_state: Some(State::Failed),
            ..seen(2)
        };
        assert!(run(&mut survivor, 4100, 9000, Role::Active, failed_peer, &p).is_empty());
        assert_eq!(survivor.state(), State::Survived);
        // The failed side sees the survivor and returns to normal (still
        // standby); then the survivor does.
        let mut failed = Failover::default();
        let lost = Seen {
            witnesses: Some(Witnesses {
                population: 2,
                reachable: 0,
                peer_heard: 0,
            }),
            ..seen(0)
        };
        run(&mut failed, 0, 2100, Role::Active, lost, &p);
        assert_eq!(failed.state(), State::Failed);
        let survivor_seen = Seen {
            peer_state: Some(State::Survived),
            ..seen(2)
        };
        let d = run(&mut failed, 9000, 9100, Role::Standby, survivor_seen, &p);
        assert_eq!(d, [(9000, Decision::Clear)]);
        assert_eq!(failed.state(), State::Normal);
        assert!(run(&mut survivor, 9100, 9200, Role::Active, seen(2), &p).is_empty());
        assert_eq!(survivor.state(), State::Normal);
    }

    #[test]
    fn health_scores_follow_starlingx() {
        assert_eq!(Down::default().score(), 0);
        assert_eq!(Down(Down::OAM).score(), -1);
        assert_eq!(Down(Down::CLUSTER_HOST).score(), -2);
        assert_eq!(Down(Down::MGMT | Down::OAM).score(), -5);
        assert!(Down(Down::MGMT).mgmt());
    }
}
