//! Witness probes: how service management on a controller learns which
//! hosts it still reaches, and whether they still hear the other
//! controller — what decides a partition between the two ([`Prober`]).
//!
//! Each period the prober broadcasts one authenticated probe (a version 2
//! pulse, [`crate::pulse::Witness`]) on every network it is given, to the
//! hosts' responders' port; it names this controller and asks about the
//! peer. Every host's responder answers, from its own address, with its
//! name and how long ago the peer last probed it. An answer counts only
//! when it is authentic (the cloud's heartbeat key), echoes one of the
//! last probes (sequence and nonce: a recorded answer replayed later is
//! stale) and comes from neither controller.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::Stats;
use crate::pulse::{self, Key, Kind, Pulse, Witness};

/// One host's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The host's name as its responder gives it.
    pub host: String,
    /// When it came.
    pub at: Instant,
    /// How long before it the host last had a probe from the peer (none:
    /// never, or longer ago than the host counts).
    pub peer_age: Option<Duration>,
}

/// Probes kept to match answers against (an answer to the period before
/// may come after the next probe went out).
const RECENT: usize = 3;

/// The probing of the hosts on every network, as a task: answers go to
/// the receiver [`Prober::start`] returns.
pub struct Prober {
    me: String,
    peer: String,
    key: Key,
    period: Duration,
    /// Addresses of the two controllers: their answers are not a
    /// witness's.
    controllers: Vec<IpAddr>,
    pub stats: Arc<Stats>,
}

impl Prober {
    /// Controller `me` probing about `peer` every `period` under `key`;
    /// answers from `controllers` (both controllers' addresses) ignored.
    pub fn new(me: &str, peer: &str, key: Key, period: Duration, controllers: Vec<IpAddr>) -> Self {
        Prober {
            me: me.to_string(),
            peer: peer.to_string(),
            key,
            period,
            controllers,
            stats: Arc::default(),
        }
    }

    /// Binds one socket per local address (this controller's address on
    /// each network, broadcast allowed) and starts probing the hosts'
    /// responders on `port` there; the task ends when the receiver is
    /// dropped or the returned task aborted.
    pub async fn start(
        self,
        locals: &[IpAddr],
        port: u16,
    ) -> std::io::Result<(mpsc::Receiver<Answer>, tokio::task::JoinHandle<()>)> {
        let mut sockets = Vec::new();
        for ip in locals {
            let IpAddr::V4(_) = ip else {
                // Broadcast is IPv4's; an IPv6 network has no witnesses
                // (yet): said once, at the start.
                tracing::warn!(address = %ip, "witness probes are IPv4 only: none on this network");
                continue;
            };
            let s = UdpSocket::bind(SocketAddr::new(*ip, 0)).await?;
            s.set_broadcast(true)?;
            sockets.push(s);
        }
        let (tx, rx) = mpsc::channel(1024);
        let dest = SocketAddr::new(IpAddr::V4(Ipv4Addr::BROADCAST), port);
        let me = Arc::new(self);
        // One task per network, held by the returned one: aborted, it
        // takes them with it.
        let task = tokio::spawn(async move {
            let mut each = tokio::task::JoinSet::new();
            for s in sockets {
                each.spawn(me.clone().run(s, dest, tx.clone()));
            }
            drop(tx);
            while each.join_next().await.is_some() {}
        });
        Ok((rx, task))
    }

    /// One network: a probe every period (to the limited broadcast, which
    /// leaves by the device of the socket's address), answers as they
    /// come.
    async fn run(self: Arc<Self>, socket: UdpSocket, dest: SocketAddr, tx: mpsc::Sender<Answer>) {
        let mut seq = 0u64;
        let mut recent: Vec<(u64, [u8; 16])> = Vec::new();
        let mut next = Instant::now();
        let mut buf = [0u8; 512];
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {
                    next += self.period;
                    let now = Instant::now();
                    if next < now {
                        // Late (this controller stalled): no burst after.
                        next = now + self.period;
                    }
                    seq += 1;
                    let mut nonce = [0u8; 16];
                    if let Err(e) = getrandom::fill(&mut nonce) {
                        tracing::error!(error = %e, "no randomness for the witness probe's nonce");
                        continue;
                    }
                    recent.push((seq, nonce));
                    if recent.len() > RECENT {
                        recent.remove(0);
                    }
                    let probe = Pulse {
                        kind: Kind::Request,
                        network: 0,
                        flags: 0,
                        seq,
                        nonce,
                        host: self.me.clone(),
                        witness: Some(Witness { about: self.peer.clone(), age_ms: 0 }),
                    };
                    if let Err(e) = socket.send_to(&probe.encode(&self.key), dest).await {
                        tracing::debug!(error = %e, "witness probe not sent");
                    }
                }
                got = socket.recv_from(&mut buf) => {
                    let (n, from) = match got {
                        Ok(x) => x,
                        Err(e) => {
                            tracing::debug!(error = %e, "witness answer not received");
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let Some(answer) = self.take(&buf[..n], from, &recent) else {
                        continue;
                    };
                    self.stats.taken.fetch_add(1, Ordering::Relaxed);
                    if tx.send(answer).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The answer in `b` from `from`, if it counts.
    fn take(&self, b: &[u8], from: SocketAddr, recent: &[(u64, [u8; 16])]) -> Option<Answer> {
        let p = match Pulse::decode(b, &self.key) {
            Ok(p) => p,
            Err(r) => {
                self.stats.count(r);
                return None;
            }
        };
        let Some(w) = p
            .witness
            .filter(|w| p.kind == Kind::Response && w.about == self.peer)
        else {
            self.stats.unexpected.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if self.controllers.contains(&from.ip()) || p.host.is_empty() {
            self.stats.unexpected.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if !recent.contains(&(p.seq, p.nonce)) {
            self.stats.stale.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(Answer {
            host: p.host,
            at: Instant::now(),
            peer_age: (w.age_ms != pulse::NEVER).then(|| Duration::from_millis(w.age_ms.into())),
        })
    }
}
