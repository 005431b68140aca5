//! One controller's side of the pair: the authenticated link to the peer
//! on every provisioned interface, the election, and the failover state
//! machine — what role this controller takes, and when it fences the
//! peer first.
//!
//! At start a controller is standby and waits the domain's wait interval
//! (plus the priority's skew) to hear its peer. Heard, it follows: an
//! active peer stays active; two standbys elect (generation, priority,
//! name) and the leader goes active; two actives (a partition healed
//! without a fence) keep the higher-ranked one. Not heard, or lost later,
//! the failover state machine judges ([`starling_sm::failover`]): a
//! standby takes over only after fencing the peer through its BMC (or as
//! the operator's unfenced policy allows). A takeover bumps the domain's
//! generation, so the survivor outranks a peer that comes back.

use std::sync::Arc;
use std::time::Duration;

use starling_bmc::{Action, Bmc};
use starling_sm::model::InterfaceDef;
use starling_sm::{Candidate, Concern, Decision, Down, Failover, Policy, Role, Seen, State};
use starling_sm_peer::link::{Link, PathSpec};
use starling_sm_peer::{Key, Message};
use tokio::time::Instant;

/// What the pair needs beyond the model.
#[derive(Clone)]
pub struct PeerConfig {
    /// The peer controller's name.
    pub peer: String,
    pub key: Key,
    /// The peer's BMC, for fencing (none: it cannot be fenced).
    pub fence: Option<Arc<dyn Bmc>>,
    pub policy: Policy,
    /// The hosts as witnesses (none: no heartbeat key).
    pub witness: Option<WitnessSetup>,
}

/// How the hosts are probed as witnesses.
#[derive(Clone)]
pub struct WitnessSetup {
    /// The cloud's heartbeat key.
    pub key: starling_heartbeat::Key,
    /// The hosts' responders' UDP port.
    pub port: u16,
}

/// The hosts' answers coming in, and the book they are kept in.
struct Witnessing {
    answers: tokio::sync::mpsc::Receiver<starling_heartbeat::witness::Answer>,
    book: starling_sm::witness::Book,
    _task: crate::AbortOnDrop,
    /// The population as last logged.
    logged: Option<u32>,
}

/// What the daemon is to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Run the service groups in this role here.
    Role(Role),
    /// Reset the peer through its BMC; answer with [`Pairing::fenced`].
    Fence,
    Concern(Concern),
    Clear,
}

/// What is known of the peer now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerView {
    pub name: String,
    /// Heard within the dead interval on some path.
    pub heard: bool,
    pub role: Option<Role>,
    pub state: Option<State>,
}

pub struct Pairing {
    me: Candidate,
    peer: String,
    link: Link,
    fsm: Failover,
    role: Role,
    interfaces: Vec<InterfaceDef>,
    fence: bool,
    policy: Policy,
    dead: Duration,
    hello: Duration,
    tick: Duration,
    started: Instant,
    last_tick: Instant,
    /// When the peer was last told where this controller stands.
    last_told: Option<Instant>,
    /// The paths the peer is heard on now (interface flags), and as the
    /// peer was last told (a change is told at once).
    heard: u8,
    told_heard: u8,
    /// The link's refusals as last reported, and when.
    refused: starling_sm_peer::link::Counts,
    refused_reported: Option<Instant>,
    /// While waiting for the peer at start.
    waiting_until: Option<Instant>,
    /// Since when this controller yields its active role (a swact).
    yielding: Option<Instant>,
    witnessing: Option<Witnessing>,
}

/// The domain's timers: the peer is told where this controller stands
/// every `hello`, is lost on a path not heard for `dead`, and is waited
/// for `wait` at start.
#[derive(Clone, Copy, Debug)]
pub struct Timers {
    pub hello: Duration,
    pub dead: Duration,
    pub wait: Duration,
}

/// How often refused datagrams are reported, at most.
pub const REFUSED_REPORT: Duration = Duration::from_secs(10);

/// How long a swact may take before this controller stops yielding (the
/// peer never took over: the pair elects again).
pub const SWACT_TIMEOUT: Duration = Duration::from_secs(120);

/// The interface-down flags of this controller: the devices not up.
fn local_down(interfaces: &[InterfaceDef]) -> u8 {
    interfaces
        .iter()
        .filter(|i| {
            std::fs::read_to_string(format!("/sys/class/net/{}/operstate", i.device))
                .map(|s| s.trim() == "down")
                .unwrap_or(true)
        })
        .fold(0, |f, i| f | i.down_flag())
}

impl Pairing {
    /// Binds the link on every provisioned interface.
    pub async fn bind(
        me: Candidate,
        interfaces: Vec<InterfaceDef>,
        cfg: &PeerConfig,
        timers: Timers,
        tick: Duration,
    ) -> Result<Pairing, String> {
        let Timers { hello, dead, wait } = timers;
        let mut paths = Vec::new();
        for i in &interfaces {
            let addr = |a: &str, p: u16| -> Result<std::net::SocketAddr, String> {
                let ip: std::net::IpAddr = a
                    .parse()
                    .map_err(|_| format!("interface {}: address {a:?}", i.name))?;
                Ok((ip, p).into())
            };
            paths.push(PathSpec {
                name: i.name.clone(),
                local: addr(&i.address, i.port)?,
                peer: addr(&i.peer_address, i.peer_port)?,
            });
        }
        let window = Duration::from_secs(30);
        let controllers: Vec<std::net::IpAddr> = paths
            .iter()
            .flat_map(|p| [p.local.ip(), p.peer.ip()])
            .collect();
        let locals: Vec<std::net::IpAddr> = paths.iter().map(|p| p.local.ip()).collect();
        let link = Link::bind(&me.name, &cfg.peer, paths, cfg.key.clone(), window)
            .await
            .map_err(|e| format!("the SM link: {e}"))?;
        let witnessing = match &cfg.witness {
            Some(w) => {
                let prober = starling_heartbeat::witness::Prober::new(
                    &me.name,
                    &cfg.peer,
                    w.key.clone(),
                    hello,
                    controllers,
                );
                let (answers, task) = prober
                    .start(&locals, w.port)
                    .await
                    .map_err(|e| format!("the witness probes: {e}"))?;
                Some(Witnessing {
                    answers,
                    book: Default::default(),
                    _task: crate::AbortOnDrop(task.abort_handle()),
                    logged: None,
                })
            }
            None => None,
        };
        let now = Instant::now();
        Ok(Pairing {
            waiting_until: Some(now + starling_sm::election::waiting(wait, me.priority)),
            me,
            peer: cfg.peer.clone(),
            link,
            fsm: Failover::default(),
            role: Role::Standby,
            interfaces,
            fence: cfg.fence.is_some(),
            policy: cfg.policy,
            dead,
            hello,
            tick,
            started: now,
            last_tick: now,
            last_told: None,
            heard: 0,
            told_heard: 0,
            refused: Default::default(),
            refused_reported: None,
            yielding: None,
            witnessing,
        })
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn generation(&self) -> u64 {
        self.me.generation
    }

    /// Why this controller cannot hand its active role to the peer now,
    /// if it cannot (the swact pre-check): it must be active and normal,
    /// and the peer heard on every path (any path with `force`), normal
    /// and standby.
    pub fn swact_check(&self, now: Instant, force: bool) -> Result<(), String> {
        if self.role != Role::Active {
            return Err(format!("{} is not the active controller", self.me.name));
        }
        if self.yielding.is_some() {
            return Err("a swact is already in progress".into());
        }
        let up = self.link.up(now, self.dead).len();
        let paths = self.interfaces.len();
        if up == 0 || (up < paths && !force) {
            return Err(format!(
                "{} is heard on {up} of {paths} paths: swact to it is not possible{}",
                self.peer,
                if up == 0 {
                    ""
                } else {
                    " (swact-force to do it anyway)"
                }
            ));
        }
        let Some(p) = self.link.peer() else {
            return Err(format!("{} has not been heard", self.peer));
        };
        if self.fsm.state() != State::Normal || p.state != State::Normal {
            return Err(format!(
                "the pair is recovering from a failover ({} {}, {} {})",
                self.me.name,
                self.fsm.state().as_str(),
                self.peer,
                p.state.as_str()
            ));
        }
        if p.role != Role::Standby {
            return Err(format!("{} is not standby", self.peer));
        }
        Ok(())
    }

    /// Hands the active role to the peer: this controller goes standby
    /// (its services stop, the peer told it is active until they have)
    /// and tells the peer to take over once they have.
    pub fn swact(&mut self, now: Instant, force: bool) -> Result<Vec<Effect>, String> {
        self.swact_check(now, force)?;
        tracing::info!(peer = %self.peer, "swact: handing the active role to the peer");
        self.yielding = Some(now);
        let mut out = Vec::new();
        self.take(Role::Standby, &mut out);
        Ok(out)
    }

    pub fn waiting(&self) -> bool {
        self.waiting_until.is_some()
    }

    /// Takes what the peer sends until `deadline`.
    pub async fn receive_until(&mut self, deadline: Instant) {
        self.link.receive_until(deadline).await;
    }

    /// The provisioned interfaces the peer is not heard on now (none while
    /// waiting at start).
    pub fn paths_down(&self, now: Instant) -> Vec<String> {
        if self.waiting() {
            return Vec::new();
        }
        let up = self.link.up(now, self.dead);
        self.interfaces
            .iter()
            .filter(|i| !up.contains(&i.name.as_str()))
            .map(|i| i.name.clone())
            .collect()
    }

    pub fn peer(&self, now: Instant) -> PeerView {
        let m = self.link.peer();
        PeerView {
            name: self.peer.clone(),
            heard: !self.link.up(now, self.dead).is_empty(),
            role: m.map(|m| m.role),
            state: m.map(|m| m.state),
        }
    }

    fn candidate(m: &Message) -> Candidate {
        Candidate {
            generation: m.generation,
            priority: m.priority,
            name: m.node.clone(),
        }
    }

    fn take(&mut self, role: Role, out: &mut Vec<Effect>) {
        if self.role != role {
            self.role = role;
            out.push(Effect::Role(role));
        }
    }

    /// One period: tells the peer where this controller stands, then
    /// decides. `holding`: a service here is (or may be) active still —
    /// the peer is told this controller is active until none is, so it
    /// never goes active over services still stopping (standby before
    /// active, no overlap).
    pub async fn tick(&mut self, now: Instant, holding: bool) -> Vec<Effect> {
        let late = now.duration_since(self.last_tick);
        self.last_tick = now;
        // A period that came much later than its tick was a stall of this
        // controller, not the peer's silence.
        let on_time = late <= self.tick * 3 + Duration::from_millis(100);
        let down = local_down(&self.interfaces);
        let paths = self.interfaces.len();
        let heard = self.link.up(now, self.dead);
        let up = heard.len();
        let heard = self
            .interfaces
            .iter()
            .filter(|i| heard.contains(&i.name.as_str()))
            .fold(0u8, |f, i| f | i.down_flag());
        self.heard = heard;
        if self.heard != self.told_heard
            || self
                .last_told
                .is_none_or(|t| now.duration_since(t) + self.tick / 2 >= self.hello)
        {
            self.tell(now, down, holding).await;
        }
        self.report_refused(now);
        let told = (self.role, self.fsm.state(), self.yielding.is_some());
        let mut out = Vec::new();
        let peer = self.link.peer().filter(|_| up > 0).cloned();
        // A path the peer does not hear this controller on is down too,
        // whichever way it is cut: the fewer of the two views counts.
        let peer_hears = peer.as_ref().map_or(paths, |p| {
            self.interfaces
                .iter()
                .filter(|i| p.heard & i.down_flag() != 0)
                .count()
        });
        let up = up.min(peer_hears);
        if let Some(until) = self.waiting_until {
            if peer.is_none() && now < until {
                return out;
            }
            self.waiting_until = None;
            match &peer {
                Some(p) => {
                    tracing::info!(peer = %p.node, role = ?p.role, "the peer controller answers")
                }
                None => {
                    tracing::warn!(peer = %self.peer, "the peer controller did not answer while this one waited")
                }
            }
        }
        // The swact is done once the peer is active — or yields in turn
        // (it can only have been active since: this controller yielded to
        // a standby peer).
        if let (Some(since), Some(p)) = (self.yielding, &peer)
            && (p.role == Role::Active
                || p.flags & Message::SWACT != 0
                || now.duration_since(since) > SWACT_TIMEOUT)
        {
            if p.role == Role::Active || p.flags & Message::SWACT != 0 {
                tracing::info!(peer = %p.node, "swact done: the peer is active");
            } else {
                tracing::warn!(peer = %p.node, "swact: the peer did not take over; the pair elects again");
            }
            self.yielding = None;
        }
        if let Some(p) = &peer
            && up >= paths
            && self.fsm.state() == State::Normal
            && p.state == State::Normal
        {
            let them = Self::candidate(p);
            let leads = self.me.rank(&them) == std::cmp::Ordering::Greater;
            let peer_yields = p.flags & Message::SWACT != 0;
            match (self.role, p.role) {
                (Role::Standby, Role::Standby) if peer_yields && self.yielding.is_none() => {
                    tracing::info!(peer = %p.node, "swact: the peer has stopped; this controller goes active");
                    self.take(Role::Active, &mut out);
                }
                (Role::Standby, Role::Standby)
                    if leads && self.yielding.is_none() && !peer_yields =>
                {
                    tracing::info!(peer = %p.node, "elected: this controller goes active");
                    self.take(Role::Active, &mut out);
                }
                (Role::Active, Role::Active) if !leads => {
                    tracing::warn!(peer = %p.node, "both controllers active: the higher-ranked stays, this one steps down");
                    self.take(Role::Standby, &mut out);
                }
                _ => {}
            }
        }
        let whole = up >= paths
            && self.fsm.state() == State::Normal
            && peer.as_ref().is_some_and(|p| p.state == State::Normal);
        let witnesses = self.witnesses(now, whole);
        let seen = Seen {
            paths,
            paths_up: up,
            local_down: Down(down),
            peer_down: Down(peer.as_ref().map_or(0, |p| p.down)),
            peer_state: peer.as_ref().map(|p| p.state),
            witnesses,
            fence: self.fence,
            on_time,
        };
        let (before, phase) = (self.fsm.state(), self.fsm.phase());
        let decisions = self.fsm.step(
            now.duration_since(self.started),
            self.role,
            &seen,
            &self.policy,
        );
        if self.fsm.state() != before || self.fsm.phase() != phase {
            tracing::info!(
                from = before.as_str(),
                to = self.fsm.state().as_str(),
                phase = self.fsm.phase(),
                paths_up = up,
                paths,
                witnesses = ?seen.witnesses,
                "failover state"
            );
        }
        self.apply(decisions, &mut out);
        // What changed is told at once, not a period later.
        if (self.role, self.fsm.state(), self.yielding.is_some()) != told {
            self.tell(now, down, holding || self.role == Role::Active)
                .await;
        }
        out
    }

    /// The hosts' answers so far, as witnesses now (`whole`: the pair is
    /// whole, and the population follows them).
    fn witnesses(&mut self, now: Instant, whole: bool) -> Option<starling_sm::Witnesses> {
        let w = self.witnessing.as_mut()?;
        while let Ok(a) = w.answers.try_recv() {
            w.book.answered(
                &a.host,
                a.at.saturating_duration_since(self.started),
                a.peer_age,
            );
        }
        let seen = w
            .book
            .witnesses(now.duration_since(self.started), whole, self.dead);
        let population = seen.map_or(0, |s| s.population);
        if w.logged != Some(population) {
            tracing::info!(
                population,
                "witnesses: hosts heard by both controllers (a partition is judged by them)"
            );
            w.logged = Some(population);
        }
        seen
    }

    /// Says what the link refused since it last said so (forged,
    /// replayed, stale, malformed datagrams, or from a stranger), at most
    /// every [`REFUSED_REPORT`]: someone may be attacking the pair.
    fn report_refused(&mut self, now: Instant) {
        let c = self.link.counts();
        let p = self.refused;
        let total = |c: &starling_sm_peer::link::Counts| {
            c.malformed + c.forged + c.replayed + c.stale + c.unexpected
        };
        if total(&c) > total(&p)
            && self
                .refused_reported
                .is_none_or(|t| now.duration_since(t) >= REFUSED_REPORT)
        {
            tracing::warn!(
                forged = c.forged - p.forged,
                replayed = c.replayed - p.replayed,
                stale = c.stale - p.stale,
                malformed = c.malformed - p.malformed,
                unexpected = c.unexpected - p.unexpected,
                "datagrams refused on the SM link (not acted on)"
            );
            self.refused = c;
            self.refused_reported = Some(now);
        }
    }

    async fn tell(&mut self, now: Instant, down: u8, holding: bool) {
        self.last_told = Some(now);
        self.told_heard = self.heard;
        self.link
            .send(Message {
                node: String::new(),
                instance: [0; 16],
                seq: 0,
                sent_ms: 0,
                down,
                state: self.fsm.state(),
                role: if holding { Role::Active } else { self.role },
                generation: self.me.generation,
                priority: self.me.priority,
                flags: if self.yielding.is_some() {
                    Message::SWACT
                } else {
                    0
                },
                heard: self.heard,
            })
            .await;
    }

    fn apply(&mut self, decisions: Vec<Decision>, out: &mut Vec<Effect>) {
        for d in decisions {
            match d {
                Decision::GoActive => {
                    self.me.generation += 1;
                    tracing::warn!(
                        generation = self.me.generation,
                        "taking over from the peer controller"
                    );
                    self.take(Role::Active, out);
                }
                Decision::GoStandby => {
                    tracing::warn!("stepping down to standby");
                    self.take(Role::Standby, out);
                }
                Decision::FencePeer => out.push(Effect::Fence),
                Decision::Concern(c) => out.push(Effect::Concern(c)),
                Decision::Clear => out.push(Effect::Clear),
            }
        }
    }

    /// The fence's outcome.
    pub fn fenced(&mut self, ok: bool, now: Instant) -> Vec<Effect> {
        let mut out = Vec::new();
        let d = self
            .fsm
            .fenced(ok, now.duration_since(self.started), &self.policy);
        self.apply(d, &mut out);
        out
    }
}

/// Resets the peer through its BMC: done when the reset was sent or the
/// peer is already off.
pub async fn fence(bmc: &dyn Bmc) -> Result<String, String> {
    match bmc.act(Action::Reset).await {
        Ok(starling_bmc::Acted::Sent(how)) => Ok(format!("reset sent ({how})")),
        Ok(starling_bmc::Acted::AlreadySo(p)) => Ok(format!("already {p:?}")),
        Err(e) => match bmc.power().await {
            Ok(starling_bmc::Power::Off) => Ok("already off".into()),
            _ => Err(e.to_string()),
        },
    }
}
