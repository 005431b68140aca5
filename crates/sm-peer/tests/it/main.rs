//! Two controllers' links over real UDP sockets on loopback: two paths,
//! the second through a man in the middle that forwards, drops, replays
//! old datagrams and forges new ones. The peer counts as heard only on a
//! path where its fresh, authentic messages arrive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use starling_sm::{Role, State};
use starling_sm_peer::link::{Link, PathSpec};
use starling_sm_peer::{Key, Message};
use tokio::net::UdpSocket;
use tokio::time::Instant;

const PERIOD: Duration = Duration::from_millis(100);
const DEAD: Duration = Duration::from_millis(500);

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn status(role: Role) -> Message {
    Message {
        node: String::new(),
        instance: [0; 16],
        seq: 0,
        sent_ms: 0,
        down: 0,
        state: State::Normal,
        role,
        generation: 3,
        priority: 230,
        flags: 0,
        heard: 0x3,
    }
}

/// `periods` periods of sending and receiving.
async fn run(mut link: Link, periods: usize, role: Role) -> Link {
    for _ in 0..periods {
        let next = Instant::now() + PERIOD;
        link.send(status(role)).await;
        link.receive_until(next).await;
    }
    link
}

const FORWARD: u8 = 0;
const DROP: u8 = 1;
const REPLAY: u8 = 2;
const FORGE: u8 = 3;

/// The man in the middle of one path: `a` faces controller A (at
/// `a_peer`), `b` faces controller B (at `b_peer`).
fn middle(a: UdpSocket, b: UdpSocket, a_peer: SocketAddr, b_peer: SocketAddr, mode: Arc<AtomicU8>) {
    let (a, b) = (Arc::new(a), Arc::new(b));
    for (from, to, dest) in [(a.clone(), b.clone(), b_peer), (b, a, a_peer)] {
        let mode = mode.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let mut old: Vec<Vec<u8>> = Vec::new();
            loop {
                let Ok((n, _)) = from.recv_from(&mut buf).await else {
                    continue;
                };
                let d = buf[..n].to_vec();
                match mode.load(Ordering::Relaxed) {
                    FORWARD => {
                        if old.len() < 5 {
                            old.push(d.clone());
                        }
                        let _ = to.send_to(&d, dest).await;
                    }
                    DROP => {}
                    REPLAY => {
                        for o in &old {
                            let _ = to.send_to(o, dest).await;
                        }
                    }
                    _ => {
                        let mut f = d.clone();
                        let i = f.len() / 2;
                        f[i] ^= 0xff;
                        let _ = to.send_to(&f, dest).await;
                    }
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_is_heard_only_where_fresh_authentic_messages_arrive() {
    let key = Key::generate().unwrap();
    let (a1, b1, a2, b2, ma, mb) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let mode = Arc::new(AtomicU8::new(FORWARD));
    middle(
        UdpSocket::bind(addr(ma)).await.unwrap(),
        UdpSocket::bind(addr(mb)).await.unwrap(),
        addr(a2),
        addr(b2),
        mode.clone(),
    );
    let paths = |l1, p1, l2, p2| {
        vec![
            PathSpec {
                name: "mgmt".into(),
                local: addr(l1),
                peer: addr(p1),
            },
            PathSpec {
                name: "cluster-host".into(),
                local: addr(l2),
                peer: addr(p2),
            },
        ]
    };
    let window = Duration::from_secs(5);
    let mut a = Link::bind(
        "controller-0",
        "controller-1",
        paths(a1, b1, a2, ma),
        key.clone(),
        window,
    )
    .await
    .unwrap();
    let mut b = Link::bind(
        "controller-1",
        "controller-0",
        paths(b1, a1, b2, mb),
        key.clone(),
        window,
    )
    .await
    .unwrap();

    // Both paths carry both ways.
    (a, b) = tokio::join!(run(a, 10, Role::Active), run(b, 10, Role::Standby));
    let now = Instant::now();
    assert_eq!(a.up(now, DEAD), ["mgmt", "cluster-host"]);
    assert_eq!(b.up(now, DEAD), ["mgmt", "cluster-host"]);
    let heard = b.peer().unwrap();
    assert_eq!(
        (heard.node.as_str(), heard.role, heard.generation),
        ("controller-0", Role::Active, 3)
    );
    let before = b.counts();
    assert!(before.taken >= 15, "{before:?}");
    assert_eq!(
        (before.forged, before.replayed, before.unexpected),
        (0, 0, 0)
    );

    // The middle drops the cluster-host path: heard on management only.
    mode.store(DROP, Ordering::Relaxed);
    (a, b) = tokio::join!(run(a, 8, Role::Active), run(b, 8, Role::Standby));
    let now = Instant::now();
    assert_eq!(b.up(now, DEAD), ["mgmt"]);
    assert_eq!(a.up(now, DEAD), ["mgmt"]);

    // It replays what it kept: refused, and the path stays unheard.
    mode.store(REPLAY, Ordering::Relaxed);
    (a, b) = tokio::join!(run(a, 6, Role::Active), run(b, 6, Role::Standby));
    assert_eq!(b.up(Instant::now(), DEAD), ["mgmt"]);
    assert!(b.counts().replayed > 0, "{:?}", b.counts());

    // It forges (a byte changed): refused, unheard.
    mode.store(FORGE, Ordering::Relaxed);
    (a, b) = tokio::join!(run(a, 6, Role::Active), run(b, 6, Role::Standby));
    assert_eq!(b.up(Instant::now(), DEAD), ["mgmt"]);
    assert!(b.counts().forged > 0, "{:?}", b.counts());
    // The peer as heard is still the genuine one.
    assert_eq!(b.peer().unwrap().node, "controller-0");

    // Forwarded again: the path heals.
    mode.store(FORWARD, Ordering::Relaxed);
    (a, b) = tokio::join!(run(a, 6, Role::Active), run(b, 6, Role::Standby));
    assert_eq!(b.up(Instant::now(), DEAD), ["mgmt", "cluster-host"]);
    assert_eq!(a.up(Instant::now(), DEAD), ["mgmt", "cluster-host"]);
}
