//! Host maintenance heartbeat: the controller pulses every monitored host
//! on each network every period, each host's responder answers, and the
//! answers of each period go to the miss counters of `starling-mtce`.
//!
//! - [`pulse`]: the datagram, authenticated (HMAC-SHA256 under the cloud's
//!   key) and tied to its period by a sequence number and a random nonce.
//! - [`Responder`]: the host side (run by the host agent), answering each
//!   authentic request from where it came.
//! - [`Pulser`]: the controller side on one network: one request per host
//!   per period, answers collected until the period ends; forged, stale
//!   (replayed) and unexpected answers are dropped and counted.
//! - [`Heartbeat`]: the periods of every network together, with the
//!   "was I on time" guard, handing each period to the [`Monitor`].

pub mod pulse;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use starling_mtce::heartbeat::on_time;
use starling_mtce::{Change, Monitor, Network, Thresholds};
use tokio::net::UdpSocket;
use tokio::time::Instant;

pub use pulse::{Key, Kind, Pulse, Refusal};

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

/// The host side: answers each authentic request, from where it came, with
/// the host's name and the request's sequence and nonce.
pub struct Responder {
    socket: UdpSocket,
    key: Key,
    host: String,
    pub stats: Arc<Stats>,
}

impl Responder {
    /// A responder for `host` on `addr` (e.g. the management address and
    /// the heartbeat port).
    pub async fn bind(addr: SocketAddr, key: Key, host: &str) -> std::io::Result<Responder> {
        Ok(Responder {
            socket: UdpSocket::bind(addr).await?,
            key,
            host: host.to_string(),
            stats: Arc::default(),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Answers until dropped (a receive error is logged and the loop goes
    /// on: one bad datagram never stops the heartbeat).
    pub async fn run(self) {
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
            let answer = Pulse {
                kind: Kind::Response,
                host: self.host.clone(),
                flags: 0,
                ..req
            };
            match self.socket.send_to(&answer.encode(&self.key), from).await {
                Ok(_) => {
                    self.stats.taken.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(error = %e, %from, "heartbeat answer not sent"),
            }
        }
    }
}

/// The controller side on one network.
pub struct Pulser {
    socket: UdpSocket,
    network: Network,
    key: Key,
    seq: u64,
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
            stats: Arc::default(),
        })
    }

    /// One period: a request to every target (host name, responder
    /// address), then the answers until `until`. Returns the hosts that
    /// answered this period's request, from their own address.
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
        }
        .encode(&self.key);
        for (host, addr) in targets {
            if let Err(e) = self.socket.send_to(&request, addr).await {
                tracing::debug!(error = %e, %host, %addr, "heartbeat request not sent");
            }
        }
        let mut answered = BTreeSet::new();
        let mut buf = [0u8; 512];
        while answered.len() < targets.len() {
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
        })
    }

    pub fn stats(&self, network: Network) -> Option<&Arc<Stats>> {
        match network {
            Network::Mgmt => Some(&self.mgmt.stats),
            Network::Cluster => self.cluster.as_ref().map(|p| &p.stats),
        }
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
