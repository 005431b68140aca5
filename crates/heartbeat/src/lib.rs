//! Host maintenance heartbeat: the controller pulses every monitored host
//! on each network every period, each host's responder answers, and the
//! answers of each period go to the miss counters of `starling-mtce`.
//!
//! - [`pulse`]: the datagram, authenticated (HMAC-SHA256 under the cloud's
//!   key) and tied to its period by a sequence number and a random nonce.
//! - [`Responder`]: the host side (run by the host agent), answering each
//!   authentic request from where it came, and taking authentic, fresh
//!   reboot requests to the agent.
//! - [`Pulser`]: the controller side on one network: one request per host
//!   per period, answers collected until the period ends; forged, stale
//!   (replayed) and unexpected answers are dropped and counted.
//! - [`Heartbeat`]: the periods of every network together, with the
//!   "was I on time" guard, handing each period to the [`Monitor`].
//! - [`witness::Prober`]: service management's probes of the hosts, which
//!   answer whether they still hear the other controller.

pub mod pulse;
pub mod witness;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use starling_mtce::Network;
use starling_mtce::heartbeat::on_time;
use starling_mtce::{Change, Monitor, Thresholds};
use tokio::net::UdpSocket;
use tokio::time::Instant;

pub use pulse::{Key, Kind, Pulse, Refusal, Witness};

/// What a responder or a pulser counted.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests answered (responder) or answers taken (pulser).
    pub taken: AtomicU64,
    /// Datagrams that were not pulses of this version.
    pub malformed: AtomicU64,
    /// Pulses whose MAC is not the cloud key's.
    pub forged: AtomicU64,
    /// Authentic answers of another period (replayed or late).
    pub stale: AtomicU64,
    /// Authentic answers from a host or address not pulsed.
    pub unexpected: AtomicU64,
    /// Witness probes answered (a responder's; not in `taken`, which
    /// counts maintenance's pulses only: an agent pulsed by service
    /// management alone must still learn that maintenance lost it).
    pub probes: AtomicU64,
}

impl Stats {
    fn count(&self, r: Refusal) {
        match r {
            Refusal::Malformed => &self.malformed,
            Refusal::Forged => &self.forged,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// (taken, malformed, forged, stale, unexpected) now.
    pub fn snapshot(&self) -> [u64; 5] {
        [
            &self.taken,
            &self.malformed,
            &self.forged,
            &self.stale,
            &self.unexpected,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }
}

/// How far a reboot request's clock may be from the host's (either way).
pub const REBOOT_WINDOW_MS: u64 = 60_000;

/// Milliseconds since the Unix epoch, by the system clock.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The host side: answers each authentic request, from where it came, with
/// the host's name and the request's sequence and nonce.
///
/// A reboot request (flag [`pulse::REBOOT`]) is taken only when the
/// responder was given somewhere to send it ([`Responder::on_reboot`]), and
/// only when fresh: its sequence is the controller's clock, which must be
/// within [`REBOOT_WINDOW_MS`] of the host's and later than the last reboot
/// request taken, so a recorded request replayed later reboots nothing. A
/// taken request is acknowledged (an answer with the flag) and its network
/// sent on; anything else about it is dropped and counted stale.
pub struct Responder {
    socket: UdpSocket,
    key: Key,
    host: String,
    reboot: Option<tokio::sync::mpsc::Sender<Network>>,
    last_reboot: u64,
    /// The controllers whose witness probes came, and when last.
    probed_by: BTreeMap<String, Instant>,
    pub stats: Arc<Stats>,
}

/// Controllers a responder remembers the probes of (the pair, with room
/// for a controller renamed or replaced).
const PROBERS: usize = 8;

impl Responder {
    /// A responder for `host` on `addr` (e.g. the management address and
    /// the heartbeat port).
    pub async fn bind(addr: SocketAddr, key: Key, host: &str) -> std::io::Result<Responder> {
        Ok(Responder {
            socket: UdpSocket::bind(addr).await?,
            key,
            host: host.to_string(),
            reboot: None,
            last_reboot: 0,
            probed_by: BTreeMap::new(),
            stats: Arc::default(),
        })
    }

    /// A witness probe from the controller `req.host`: remembered, and
    /// answered with how long ago the controller it asks about last
    /// probed this host.
    fn witness(&mut self, req: &Pulse, asked: &Witness) -> Witness {
        let now = Instant::now();
        if !req.host.is_empty() {
            if self.probed_by.len() >= PROBERS && !self.probed_by.contains_key(&req.host) {
                // The longest silent makes room.
                if let Some(oldest) = self
                    .probed_by
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(n, _)| n.clone())
                {
                    self.probed_by.remove(&oldest);
                }
            }
            self.probed_by.insert(req.host.clone(), now);
        }
        let age_ms = match self.probed_by.get(&asked.about) {
            Some(at) if asked.about != req.host => {
                u32::try_from(now.duration_since(*at).as_millis()).unwrap_or(pulse::NEVER)
            }
            _ => pulse::NEVER,
        };
        Witness {
            about: asked.about.clone(),
            age_ms,
        }
    }

    /// Reboot requests taken go to `to` (without it none is taken, and the
    /// controller goes on to the next way of resetting the host).
    pub fn on_reboot(mut self, to: tokio::sync::mpsc::Sender<Network>) -> Responder {
        self.reboot = Some(to);
        self
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Answers until dropped (a receive error is logged and the loop goes
    /// on: one bad datagram never stops the heartbeat).
    pub async fn run(mut self) {
        let mut buf = [0u8; 512];
        loop {
            let (n, from) = match self.socket.recv_from(&mut buf).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "heartbeat receive failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let req = match Pulse::decode(&buf[..n], &self.key) {
                Ok(p) if p.kind == Kind::Request => p,
                Ok(_) => {
                    self.stats.unexpected.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Err(r) => {
                    self.stats.count(r);
                    continue;
                }
            };
            let mut flags = 0;
            let witness = req.witness.as_ref().map(|w| self.witness(&req, w));
            if witness.is_some() && req.flags & pulse::REBOOT != 0 {
                // A reboot is maintenance's, never in a witness probe.
                self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if req.flags & pulse::REBOOT != 0 {
                if !self.take_reboot(&req) {
                    continue;
                }
                flags = pulse::REBOOT;
            }
            let answer = Pulse {
                kind: Kind::Response,
                host: self.host.clone(),
                flags,
                witness,
                ..req
            };
            let witnessed = answer.witness.is_some();
            match self.socket.send_to(&answer.encode(&self.key), from).await {
                Ok(_) if witnessed => {
                    self.stats.probes.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {
                    self.stats.taken.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, %from, "heartbeat answer not sent"),
            }
        }
    }

    /// Whether reboot request `req` is taken (fresh, and somewhere to go).
    fn take_reboot(&mut self, req: &Pulse) -> bool {
        let Some(to) = &self.reboot else {
            tracing::warn!("reboot request refused: this agent has no action command");
            return false;
        };
        let now = unix_ms();
        if req.seq <= self.last_reboot || req.seq.abs_diff(now) > REBOOT_WINDOW_MS {
            self.stats.stale.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let Some(network) = Network::from_code(req.network) else {
            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.last_reboot = req.seq;
        if to.try_send(network).is_err() {
            tracing::warn!("reboot request dropped: a reboot is already under way");
        }
        tracing::warn!(
            network = network.as_str(),
            "reboot requested by host maintenance"
        );
        true
    }
}

/// A reboot request waiting for its acknowledgement.
#[derive(Clone, Debug)]
struct RebootAsk {
    host: String,
    addr: SocketAddr,
    seq: u64,
    nonce: [u8; 16],
    /// Periods it is still sent with.
    sends: u8,
}

/// Periods a reboot request is sent with (against a lost datagram; not
/// more, so a host that answers again is not rebooted by a late copy).
pub const REBOOT_SENDS: u8 = 3;

/// The controller side on one network.
pub struct Pulser {
    socket: UdpSocket,
    network: Network,
    key: Key,
    seq: u64,
    reboots: Vec<RebootAsk>,
    last_reboot: u64,
    acked: Vec<String>,
    pub stats: Arc<Stats>,
}

impl Pulser {
    /// A pulser on `network`, sending from `local` (the controller's
    /// address on that network, any port).
    pub async fn bind(network: Network, local: SocketAddr, key: Key) -> std::io::Result<Pulser> {
        Ok(Pulser {
            socket: UdpSocket::bind(local).await?,
            network,
            key,
            seq: 0,
            reboots: Vec::new(),
            last_reboot: 0,
            acked: Vec::new(),
            stats: Arc::default(),
        })
    }

    /// Asks `host` (its responder at `addr`) to reboot: the request goes
    /// with the next [`REBOOT_SENDS`] periods; its acknowledgement is
    /// awaited ([`Pulser::acked`]) until it comes or the request is
    /// cancelled. Its sequence is this clock (Unix milliseconds, always
    /// later than the last such request).
    pub fn ask_reboot(&mut self, host: &str, addr: SocketAddr) -> Result<(), String> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| format!("no randomness: {e}"))?;
        self.last_reboot = unix_ms().max(self.last_reboot + 1);
        self.reboots.retain(|r| r.host != host);
        self.reboots.push(RebootAsk {
            host: host.to_string(),
            addr,
            seq: self.last_reboot,
            nonce,
            sends: REBOOT_SENDS,
        });
        Ok(())
    }

    /// Stops asking `host` to reboot.
    pub fn cancel_reboot(&mut self, host: &str) {
        self.reboots.retain(|r| r.host != host);
    }

    /// The hosts that acknowledged their reboot request since the last
    /// call.
    pub fn acked(&mut self) -> Vec<String> {
        std::mem::take(&mut self.acked)
    }

    /// One period: a request to every target (host name, responder
    /// address) and any reboot request, then the answers until `until`.
    /// Returns the hosts that answered this period's request, from their
    /// own address (a reboot's acknowledgement is kept for
    /// [`Pulser::acked`]).
    pub async fn period(
        &mut self,
        targets: &[(String, SocketAddr)],
        until: Instant,
    ) -> BTreeSet<String> {
        self.seq += 1;
        let mut nonce = [0u8; 16];
        if let Err(e) = getrandom::fill(&mut nonce) {
            // Without a fresh nonce a replay could pass: send nothing, so
            // nobody is taken as alive on a guess; the period is a miss.
            tracing::error!(error = %e, "no randomness for the heartbeat nonce");
            tokio::time::sleep_until(until).await;
            return BTreeSet::new();
        }
        let request = Pulse {
            kind: Kind::Request,
            network: self.network.code(),
            flags: 0,
            seq: self.seq,
            nonce,
            host: String::new(),
            witness: None,
        }
        .encode(&self.key);
        for (host, addr) in targets {
            if let Err(e) = self.socket.send_to(&request, addr).await {
                tracing::debug!(error = %e, %host, %addr, "heartbeat request not sent");
            }
        }
        for r in self.reboots.iter_mut().filter(|r| r.sends > 0) {
            r.sends -= 1;
            let ask = Pulse {
                kind: Kind::Request,
                network: self.network.code(),
                flags: pulse::REBOOT,
                seq: r.seq,
                nonce: r.nonce,
                host: String::new(),
                witness: None,
            }
            .encode(&self.key);
            if let Err(e) = self.socket.send_to(&ask, r.addr).await {
                tracing::debug!(error = %e, host = %r.host, "reboot request not sent");
            }
        }
        let mut answered = BTreeSet::new();
        let mut buf = [0u8; 512];
        while answered.len() < targets.len() || !self.reboots.is_empty() {
            let got = tokio::time::timeout_at(until, self.socket.recv_from(&mut buf)).await;
            let (n, from) = match got {
                Err(_) => break,
                Ok(Ok(x)) => x,
                Ok(Err(e)) => {
                    // ICMP port unreachable from a host that is down, and
                    // the like: that host simply does not answer.
                    tracing::trace!(error = %e, "heartbeat receive failed");
                    continue;
                }
            };
            let p = match Pulse::decode(&buf[..n], &self.key) {
                Ok(p) => p,
                Err(r) => {
                    self.stats.count(r);
                    continue;
                }
            };
            if p.kind == Kind::Response
                && p.flags & pulse::REBOOT != 0
                && p.network == self.network.code()
            {
                let asked = self.reboots.iter().position(|r| {
                    r.seq == p.seq && r.nonce == p.nonce && r.host == p.host && r.addr == from
                });
                match asked {
                    Some(i) => {
                        let r = self.reboots.remove(i);
                        self.acked.push(r.host);
                    }
                    None => {
                        self.stats.stale.fetch_add(1, Ordering::Relaxed);
                    }
                }
                continue;
            }
            if p.kind != Kind::Response
                || p.network != self.network.code()
                || p.seq != self.seq
                || p.nonce != nonce
            {
                self.stats.stale.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if targets.iter().any(|(h, a)| *h == p.host && *a == from) {
                self.stats.taken.fetch_add(1, Ordering::Relaxed);
                answered.insert(p.host);
            } else {
                self.stats.unexpected.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep_until(until).await;
        answered
    }
}

/// A monitored host: its name and its responders' addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub mgmt: SocketAddr,
    /// Its cluster-host address, where that network is provisioned.
    pub cluster: Option<SocketAddr>,
}

/// The heartbeat of every network, period by period.
pub struct Heartbeat {
    pub monitor: Monitor<String>,
    mgmt: Pulser,
    cluster: Option<Pulser>,
    period: Duration,
    /// When the last period ended (was due to end).
    last: Option<Instant>,
    /// The last period's targets, by host.
    targets: BTreeMap<String, Target>,
}

/// The period's bounds (StarlingX's): 100 ms to 1 s.
pub const PERIODS: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_millis(1000);

impl Heartbeat {
    /// A heartbeat every `period` with `thresholds`, over the management
    /// network's pulser and, where provisioned, the cluster-host one's.
    pub fn new(
        mgmt: Pulser,
        cluster: Option<Pulser>,
        period: Duration,
        thresholds: Thresholds,
    ) -> Result<Heartbeat, starling_common::Error> {
        if period.is_zero() {
            return Err(starling_common::Error::invalid(
                "the heartbeat period must be more than zero",
            ));
        }
        Ok(Heartbeat {
            monitor: Monitor::new(thresholds)?,
            mgmt,
            cluster,
            period,
            last: None,
            targets: BTreeMap::new(),
        })
    }

    pub fn stats(&self, network: Network) -> Option<&Arc<Stats>> {
        match network {
            Network::Mgmt => Some(&self.mgmt.stats),
            Network::Cluster => self.cluster.as_ref().map(|p| &p.stats),
        }
    }

    /// Asks `host` to reboot over `network`, at the address the last
    /// period pulsed it on; false when it has none there (not pulsed, or
    /// the network not provisioned). See [`Heartbeat::acked`].
    pub fn ask_reboot(&mut self, host: &str, network: Network) -> Result<bool, String> {
        let Some(t) = self.targets.get(host) else {
            return Ok(false);
        };
        let (pulser, addr) = match network {
            Network::Mgmt => (Some(&mut self.mgmt), Some(t.mgmt)),
            Network::Cluster => (self.cluster.as_mut(), t.cluster),
        };
        match (pulser, addr) {
            (Some(p), Some(a)) => p.ask_reboot(host, a).map(|()| true),
            _ => Ok(false),
        }
    }

    /// Stops asking `host` to reboot, on every network.
    pub fn cancel_reboot(&mut self, host: &str) {
        self.mgmt.cancel_reboot(host);
        if let Some(p) = &mut self.cluster {
            p.cancel_reboot(host);
        }
    }

    /// The reboot requests acknowledged since the last call: host and
    /// network.
    pub fn acked(&mut self) -> Vec<(String, Network)> {
        let mut out: Vec<_> = self
            .mgmt
            .acked()
            .into_iter()
            .map(|h| (h, Network::Mgmt))
            .collect();
        if let Some(p) = &mut self.cluster {
            out.extend(p.acked().into_iter().map(|h| (h, Network::Cluster)));
        }
        out
    }

    /// One period over `targets` (hosts no longer listed are forgotten —
    /// reported as back to ok if they were not —, new ones watched from
    /// now); the level changes it brought.
    pub async fn tick(&mut self, targets: &[Target]) -> Vec<Change<String>> {
        let listed: BTreeSet<&str> = targets.iter().map(|t| t.host.as_str()).collect();
        let gone: Vec<String> = self
            .monitor
            .watched()
            .map(|(h, _)| h.clone())
            .filter(|h| !listed.contains(h.as_str()))
            .collect();
        let mut left = Vec::new();
        for h in &gone {
            left.extend(self.monitor.forget(h));
        }
        self.targets = targets
            .iter()
            .map(|t| (t.host.clone(), t.clone()))
            .collect();
        let mut mgmt = Vec::new();
        let mut cluster = Vec::new();
        for t in targets {
            self.monitor.watch(t.host.clone(), Network::Mgmt);
            mgmt.push((t.host.clone(), t.mgmt));
            if let (Some(addr), Some(_)) = (t.cluster, &self.cluster) {
                self.monitor.watch(t.host.clone(), Network::Cluster);
                cluster.push((t.host.clone(), addr));
            }
        }
        // Periods follow each other on a fixed grid (each ends one period
        // after the last ended), so the time spent between them does not
        // stretch detection; a monitor that fell behind starts afresh.
        let start = Instant::now();
        let until = match self.last {
            Some(last) if last + self.period > start => last + self.period,
            _ => start + self.period,
        };
        let (m, c) = tokio::join!(self.mgmt.period(&mgmt, until), async {
            match &mut self.cluster {
                Some(p) => p.period(&cluster, until).await,
                None => BTreeSet::new(),
            }
        });
        let now = Instant::now();
        // A period counts only if it ended on time and the last one ended
        // about a period before: a stalled monitor accuses nobody.
        let since = self.last.map_or(self.period, |l| now - l);
        self.last = Some(until);
        let timely = on_time(self.period, now - start) && on_time(self.period, since);
        left.extend(self.monitor.period_end(
            |h, n| match n {
                Network::Mgmt => m.contains(h),
                Network::Cluster => c.contains(h),
            },
            timely,
        ));
        left
    }
}
