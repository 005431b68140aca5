//! The link between two controllers over their paths (management,
//! cluster-host, OAM: up to three), over UDP: each period this controller
//! sends its [`Message`] on every path and takes what the peer sent — only
//! from the peer's address on that path, only authentic, only new — and
//! says on how many paths the peer was heard within the dead interval.

use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::{Gate, Key, Message, Refusal};

/// One path to the peer: this controller's address on it and the peer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathSpec {
    /// `mgmt`, `cluster-host` or `oam`.
    pub name: String,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// What was refused on the link, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub taken: u64,
    pub malformed: u64,
    pub forged: u64,
    pub replayed: u64,
    pub stale: u64,
    /// From an address that is not the peer's on that path, or a node
    /// that is not the peer.
    pub unexpected: u64,
}

struct Path {
    spec: PathSpec,
    socket: UdpSocket,
    heard: Option<Instant>,
    /// Each path has its replay guard: the same message arrives on every
    /// path.
    gate: Gate,
}

/// This controller's side of the link.
pub struct Link {
    me: String,
    key: Key,
    instance: [u8; 16],
    seq: u64,
    paths: Vec<Path>,
    latest: Option<Message>,
    counts: Counts,
}

/// Unix milliseconds now.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Link {
    /// Binds every path of `me`'s link to `peer`.
    pub async fn bind(
        me: &str,
        peer: &str,
        paths: Vec<PathSpec>,
        key: Key,
        window: Duration,
    ) -> std::io::Result<Link> {
        let mut bound = Vec::new();
        for spec in paths {
            let socket = UdpSocket::bind(spec.local).await?;
            bound.push(Path {
                spec,
                socket,
                heard: None,
                gate: Gate::new(&[peer], window.as_millis() as u64),
            });
        }
        let mut instance = [0u8; 16];
        getrandom::fill(&mut instance).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Link {
            me: me.to_string(),
            key,
            instance,
            seq: 0,
            paths: bound,
            latest: None,
            counts: Counts::default(),
        })
    }

    /// The paths' local addresses (as bound).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.paths
            .iter()
            .filter_map(|p| p.socket.local_addr().ok())
            .collect()
    }

    /// Sends `m` (its node, run and sequence are this link's) on every
    /// path; a path that cannot send is skipped (it will not be heard).
    pub async fn send(&mut self, mut m: Message) {
        self.seq += 1;
        m.node = self.me.clone();
        m.instance = self.instance;
        m.seq = self.seq;
        m.sent_ms = unix_ms();
        let datagram = m.seal(&self.key);
        for p in &self.paths {
            let _ = p.socket.send_to(&datagram, p.spec.peer).await;
        }
    }

    /// Takes what arrives on every path until `deadline`.
    pub async fn receive_until(&mut self, deadline: Instant) {
        let mut buf = [0u8; 512];
        loop {
            let paths = &self.paths;
            let next = std::future::poll_fn(|cx| {
                for (i, p) in paths.iter().enumerate() {
                    loop {
                        let mut rb = tokio::io::ReadBuf::new(&mut buf);
                        match p.socket.poll_recv_from(cx, &mut rb) {
                            Poll::Ready(Ok(from)) => {
                                return Poll::Ready((i, rb.filled().len(), from));
                            }
                            // An error (an ICMP unreachable from an earlier
                            // send): look again.
                            Poll::Ready(Err(_)) => continue,
                            Poll::Pending => break,
                        }
                    }
                }
                Poll::Pending
            });
            let Ok((i, n, from)) = tokio::time::timeout_at(deadline, next).await else {
                return;
            };
            if from != self.paths[i].spec.peer {
                self.counts.unexpected += 1;
                continue;
            }
            let gate = &mut self.paths[i].gate;
            match Message::open(&buf[..n], &self.key)
                .and_then(|m| gate.admit(&m, unix_ms()).map(|()| m))
            {
                Ok(m) => {
                    self.counts.taken += 1;
                    self.paths[i].heard = Some(Instant::now());
                    let newer = self.latest.as_ref().is_none_or(|l| {
                        if l.instance == m.instance {
                            m.seq > l.seq
                        } else {
                            m.sent_ms > l.sent_ms
                        }
                    });
                    if newer {
                        self.latest = Some(m);
                    }
                }
                Err(r) => self.count(r),
            }
        }
    }

    fn count(&mut self, r: Refusal) {
        let c = &mut self.counts;
        match r {
            Refusal::Malformed => c.malformed += 1,
            Refusal::Forged => c.forged += 1,
            Refusal::Replayed => c.replayed += 1,
            Refusal::Stale => c.stale += 1,
            Refusal::Unexpected => c.unexpected += 1,
        }
    }

    /// The paths on which the peer was heard within `dead` of `now`, by
    /// name.
    pub fn up(&self, now: Instant, dead: Duration) -> Vec<&str> {
        self.paths
            .iter()
            .filter(|p| p.heard.is_some_and(|t| now.duration_since(t) <= dead))
            .map(|p| p.spec.name.as_str())
            .collect()
    }

    /// The peer's latest authentic message.
    pub fn peer(&self) -> Option<&Message> {
        self.latest.as_ref()
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }
}
