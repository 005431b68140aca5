//! The heartbeat over real UDP sockets on loopback: hosts that answer stay
//! well; a host whose answers stop climbs minor → degraded → failed at the
//! thresholds; answers replayed from an earlier period or forged without
//! the key are dropped and counted and never keep a host alive; a failed
//! host recovers only after the recovery run; each network is counted on
//! its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use starling_heartbeat::{Heartbeat, Key, Kind, Pulse, Pulser, Responder, Target};
use starling_mtce::{Change, Level, Network, Thresholds};
use tokio::net::UdpSocket;

const PERIOD: Duration = Duration::from_millis(100);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn responder(key: &Key, host: &str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let r = Responder::bind(loopback(), key.clone(), host)
        .await
        .unwrap();
    let addr = r.local_addr().unwrap();
    (addr, tokio::spawn(r.run()))
}

/// What the link in front of a host does with its heartbeat.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Passes requests and answers.
    Forward,
    /// Answers every request with the last genuine answer it saw.
    Replay,
    /// Answers every request with an answer for this period made without
    /// the cloud's key.
    Forge,
}

/// A man in the middle at the address the controller pulses: it reads
/// every request (they are not secret) and forwards, replays or forges.
async fn relay(
    host: &'static str,
    real: SocketAddr,
    key: Key,
    mode: Arc<Mutex<Mode>>,
) -> SocketAddr {
    let front = UdpSocket::bind(loopback()).await.unwrap();
    let back = UdpSocket::bind(loopback()).await.unwrap();
    let addr = front.local_addr().unwrap();
    let wrong = Key::generate().unwrap();
    tokio::spawn(async move {
        let mut last: Option<Vec<u8>> = None;
        let mut buf = [0u8; 512];
        loop {
            let (n, controller) = front.recv_from(&mut buf).await.unwrap();
            let request = buf[..n].to_vec();
            let m = *mode.lock().unwrap();
            match m {
                Mode::Forward => {
                    back.send_to(&request, real).await.unwrap();
                    let got = tokio::time::timeout(PERIOD, back.recv_from(&mut buf)).await;
                    if let Ok(Ok((n, _))) = got {
                        last = Some(buf[..n].to_vec());
                        front.send_to(&buf[..n], controller).await.unwrap();
                    }
                }
                Mode::Replay => {
                    if let Some(old) = &last {
                        front.send_to(old, controller).await.unwrap();
                    }
                }
                Mode::Forge => {
                    // The attacker reads the request's sequence and nonce
                    // (decoded here with the key only for brevity: the
                    // fields are in clear) but cannot make the MAC.
                    let req = Pulse::decode(&request, &key).unwrap();
                    let forged = Pulse {
                        kind: Kind::Response,
                        host: host.into(),
                        witness: None,
                        ..req
                    };
                    front
                        .send_to(&forged.encode(&wrong), controller)
                        .await
                        .unwrap();
                }
            }
        }
    });
    addr
}

/// Ticks until `done` holds for the changes so far (at most `max` ticks);
/// all the changes and the ticks it took.
async fn tick_until(
    hb: &mut Heartbeat,
    targets: &[Target],
    max: u32,
    done: impl Fn(&[Change<String>]) -> bool,
) -> (Vec<Change<String>>, u32) {
    let mut all = Vec::new();
    for i in 1..=max {
        all.extend(hb.tick(targets).await);
        if done(&all) {
            return (all, i);
        }
    }
    panic!("not reached in {max} periods: {all:?}");
}

fn of(changes: &[Change<String>], host: &str, net: Network) -> Vec<(Level, u32)> {
    changes
        .iter()
        .filter(|c| c.host == host && c.network == net)
        .map(|c| (c.to, c.misses))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_replayed_and_forged_hosts_fail_and_recover_only_when_answering() {
    let key = Key::generate().unwrap();
    let (w0_mgmt, _a) = responder(&key, "w0").await;
    let (w0_cluster, w0_cluster_task) = responder(&key, "w0").await;
    let (w1_mgmt, _b) = responder(&key, "w1").await;
    let (w2_real, _c) = responder(&key, "w2").await;
    let mode = Arc::new(Mutex::new(Mode::Forward));
    let w2_mgmt = relay("w2", w2_real, key.clone(), mode.clone()).await;
    let targets = [
        Target {
            host: "w0".into(),
            mgmt: w0_mgmt,
            cluster: Some(w0_cluster),
        },
        Target {
            host: "w1".into(),
            mgmt: w1_mgmt,
            cluster: None,
        },
        Target {
            host: "w2".into(),
            mgmt: w2_mgmt,
            cluster: None,
        },
    ];
    let mgmt = Pulser::bind(Network::Mgmt, loopback(), key.clone())
        .await
        .unwrap();
    let cluster = Pulser::bind(Network::Cluster, loopback(), key.clone())
        .await
        .unwrap();
    let mut hb = Heartbeat::new(mgmt, Some(cluster), PERIOD, Thresholds::default()).unwrap();

    // Everyone answers: nothing changes.
    for _ in 0..12 {
        assert_eq!(hb.tick(&targets).await, []);
    }
    assert_eq!(
        hb.monitor.level(&"w2".to_string(), Network::Mgmt),
        Some(Level::Ok)
    );

    // w2's answers are replayed from an earlier period: stale, dropped; w2
    // climbs to failed at StarlingX's thresholds, nobody else moves.
    *mode.lock().unwrap() = Mode::Replay;
    let (c, _) = tick_until(&mut hb, &targets, 40, |c| {
        of(c, "w2", Network::Mgmt).last().map(|x| x.0) == Some(Level::Failed)
    })
    .await;
    assert_eq!(
        of(&c, "w2", Network::Mgmt),
        [(Level::Minor, 4), (Level::Degraded, 6), (Level::Failed, 10)],
        "{c:?}"
    );
    assert!(c.iter().all(|x| x.host == "w2"), "{c:?}");
    let stats = hb.stats(Network::Mgmt).unwrap().clone();
    let [_, _, _, stale, _] = stats.snapshot();
    assert!(stale >= 9, "replays counted: {stale}");

    // Forged answers for the current period, made without the key: still
    // failed, each counted.
    *mode.lock().unwrap() = Mode::Forge;
    for _ in 0..12 {
        assert_eq!(hb.tick(&targets).await, []);
    }
    let [_, _, forged, _, _] = stats.snapshot();
    assert!(forged >= 10, "forgeries counted: {forged}");

    // Genuine answers again: w2 recovers after ten in a row, not before.
    *mode.lock().unwrap() = Mode::Forward;
    let (c, ticks) = tick_until(&mut hb, &targets, 40, |c| {
        !of(c, "w2", Network::Mgmt).is_empty()
    })
    .await;
    assert_eq!(of(&c, "w2", Network::Mgmt), [(Level::Ok, 0)]);
    assert!(ticks >= 10, "recovered after {ticks} answers");

    // Only w0's cluster-host responder stops: that network fails alone.
    w0_cluster_task.abort();
    let (c, _) = tick_until(&mut hb, &targets, 40, |c| {
        of(c, "w0", Network::Cluster).last().map(|x| x.0) == Some(Level::Failed)
    })
    .await;
    assert!(of(&c, "w0", Network::Mgmt).is_empty(), "{c:?}");
    assert_eq!(
        hb.monitor.level(&"w0".to_string(), Network::Mgmt),
        Some(Level::Ok)
    );

    // A host no longer listed is forgotten.
    hb.tick(&targets[..2]).await;
    assert_eq!(hb.monitor.level(&"w2".to_string(), Network::Mgmt), None);
}

#[tokio::test]
async fn a_responder_answers_authentic_requests_only() {
    let key = Key::generate().unwrap();
    let r = Responder::bind(loopback(), key.clone(), "w9")
        .await
        .unwrap();
    let addr = r.local_addr().unwrap();
    let stats = r.stats.clone();
    tokio::spawn(r.run());
    let s = UdpSocket::bind(loopback()).await.unwrap();
    let req = Pulse {
        kind: Kind::Request,
        network: 0,
        flags: 0,
        seq: 7,
        nonce: [3; 16],
        host: String::new(),
        witness: None,
    };
    // Garbage, a forged request, an answer sent as a request: no reply.
    s.send_to(b"hello", addr).await.unwrap();
    s.send_to(&req.encode(&Key::generate().unwrap()), addr)
        .await
        .unwrap();
    let stray = Pulse {
        kind: Kind::Response,
        ..req.clone()
    };
    s.send_to(&stray.encode(&key), addr).await.unwrap();
    // A genuine request: the answer echoes it, with the host's name.
    s.send_to(&req.encode(&key), addr).await.unwrap();
    let mut buf = [0u8; 512];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), s.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, addr);
    let answer = Pulse::decode(&buf[..n], &key).unwrap();
    assert_eq!(
        (answer.kind, answer.seq, answer.nonce, answer.host.as_str()),
        (Kind::Response, 7, [3; 16], "w9")
    );
    // (The answer is counted just after it is sent.)
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stats.snapshot()[0] == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(stats.snapshot(), [1, 1, 1, 0, 1]);
}

#[tokio::test]
async fn a_reboot_request_is_taken_once_acknowledged_and_never_replayed() {
    let key = Key::generate().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let r = Responder::bind(loopback(), key.clone(), "w3")
        .await
        .unwrap()
        .on_reboot(tx);
    let addr = r.local_addr().unwrap();
    let stats = r.stats.clone();
    tokio::spawn(r.run());
    let pulser = Pulser::bind(Network::Mgmt, loopback(), key.clone())
        .await
        .unwrap();
    let mut hb = Heartbeat::new(pulser, None, PERIOD, Thresholds::default()).unwrap();
    let targets = [Target {
        host: "w3".into(),
        mgmt: addr,
        cluster: None,
    }];
    // Unknown to the heartbeat, or on a network it has no address on: no
    // request.
    assert!(!hb.ask_reboot("w3", Network::Mgmt).unwrap());
    hb.tick(&targets).await;
    assert!(!hb.ask_reboot("w3", Network::Cluster).unwrap());
    assert!(hb.ask_reboot("w3", Network::Mgmt).unwrap());
    let mut acked = Vec::new();
    for _ in 0..20 {
        hb.tick(&targets).await;
        acked.extend(hb.acked());
        if !acked.is_empty() {
            break;
        }
    }
    assert_eq!(acked, [("w3".to_string(), Network::Mgmt)]);
    assert_eq!(rx.recv().await, Some(Network::Mgmt));
    // Acknowledged: asked no more; the host is still pulsed as before.
    for _ in 0..3 {
        hb.tick(&targets).await;
    }
    assert!(hb.acked().is_empty());
    assert_eq!(
        hb.monitor.level(&"w3".into(), Network::Mgmt),
        Some(Level::Ok)
    );
    assert!(rx.try_recv().is_err());

    // A request recorded and replayed, one from a clock far off, one
    // without the key: none is taken, each is counted.
    let s = UdpSocket::bind(loopback()).await.unwrap();
    let now = starling_heartbeat::unix_ms();
    let ask = |seq: u64| Pulse {
        kind: Kind::Request,
        network: 0,
        flags: starling_heartbeat::pulse::REBOOT,
        seq,
        nonce: [9; 16],
        host: String::new(),
        witness: None,
    };
    let fresh = ask(now + 1_000).encode(&key);
    s.send_to(&fresh, addr).await.unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), s.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let answer = Pulse::decode(&buf[..n], &key).unwrap();
    assert_eq!(answer.flags, starling_heartbeat::pulse::REBOOT);
    assert_eq!(rx.recv().await, Some(Network::Mgmt));
    let before = stats.snapshot();
    s.send_to(&fresh, addr).await.unwrap();
    s.send_to(&ask(now + 3_600_000).encode(&key), addr)
        .await
        .unwrap();
    s.send_to(&ask(now + 2_000).encode(&Key::generate().unwrap()), addr)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stats.snapshot()[2] == before[2] && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let after = stats.snapshot();
    assert_eq!(after[3] - before[3], 2, "replayed and far-off: stale");
    assert_eq!(after[2] - before[2], 1, "keyless: forged");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), s.recv_from(&mut buf))
            .await
            .is_err(),
        "no acknowledgement"
    );
    assert!(rx.try_recv().is_err(), "nothing more rebooted");
}

#[tokio::test]
async fn a_responder_without_an_action_never_acknowledges_a_reboot() {
    let key = Key::generate().unwrap();
    let (addr, _r) = responder(&key, "w4").await;
    let s = UdpSocket::bind(loopback()).await.unwrap();
    let ask = Pulse {
        kind: Kind::Request,
        network: 0,
        flags: starling_heartbeat::pulse::REBOOT,
        seq: starling_heartbeat::unix_ms(),
        nonce: [1; 16],
        host: String::new(),
        witness: None,
    };
    s.send_to(&ask.encode(&key), addr).await.unwrap();
    let mut buf = [0u8; 512];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), s.recv_from(&mut buf))
            .await
            .is_err()
    );
}

/// Witness answers of `rx` for up to `limit`, until `done` holds of one.
async fn answer_until(
    rx: &mut tokio::sync::mpsc::Receiver<starling_heartbeat::witness::Answer>,
    limit: Duration,
    done: impl Fn(&starling_heartbeat::witness::Answer) -> bool,
) -> Option<starling_heartbeat::witness::Answer> {
    let deadline = tokio::time::Instant::now() + limit;
    while let Ok(Some(a)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if done(&a) {
            return Some(a);
        }
    }
    None
}

#[tokio::test]
async fn hosts_tell_each_controller_whether_they_hear_the_other() {
    use starling_heartbeat::witness::Prober;
    let key = Key::generate().unwrap();
    // The host's responder, on every address as the agent binds it.
    let r = Responder::bind("0.0.0.0:0".parse().unwrap(), key.clone(), "w1")
        .await
        .unwrap();
    let port = r.local_addr().unwrap().port();
    let stats = r.stats.clone();
    tokio::spawn(r.run());
    let lo = ["127.0.0.1".parse().unwrap()];
    let c0 = Prober::new("c0", "c1", key.clone(), PERIOD, vec![]);
    let (mut rx0, t0) = c0.start(&lo, port).await.unwrap();
    // c1 has not probed yet: w1 has never heard it.
    let a = answer_until(&mut rx0, Duration::from_secs(5), |_| true)
        .await
        .expect("the host answers c0's broadcast probe");
    assert_eq!((a.host.as_str(), a.peer_age), ("w1", None));
    // c1 probes too: w1 tells c0 it hears c1.
    let c1 = Prober::new("c1", "c0", key.clone(), PERIOD, vec![]);
    let (mut rx1, t1) = c1.start(&lo, port).await.unwrap();
    let a = answer_until(&mut rx0, Duration::from_secs(5), |a| a.peer_age.is_some())
        .await
        .expect("the host hears c1");
    assert!(a.peer_age.unwrap() <= Duration::from_secs(1), "{a:?}");
    let a = answer_until(&mut rx1, Duration::from_secs(5), |a| a.peer_age.is_some())
        .await
        .expect("the host hears c0");
    assert_eq!(a.host, "w1");
    // c1 falls silent: the age w1 tells c0 grows.
    t1.abort();
    drop(rx1);
    let a = answer_until(&mut rx0, Duration::from_secs(5), |a| {
        a.peer_age.is_some_and(|g| g >= Duration::from_millis(600))
    })
    .await
    .expect("c1's silence ages");
    assert_eq!(a.host, "w1");
    // A controller of another key is never answered, and counted forged
    // by the host; answers from a controller's own address are not a
    // witness's.
    let stranger = Prober::new("c9", "c0", Key::generate().unwrap(), PERIOD, vec![]);
    let (mut rx9, _t9) = stranger.start(&lo, port).await.unwrap();
    let mine = Prober::new("c2", "c0", key.clone(), PERIOD, lo.to_vec());
    let mine_stats = mine.stats.clone();
    let (mut rx2, _t2) = mine.start(&lo, port).await.unwrap();
    assert_eq!(
        answer_until(&mut rx9, Duration::from_millis(500), |_| true).await,
        None
    );
    assert_eq!(
        answer_until(&mut rx2, Duration::from_millis(500), |_| true).await,
        None
    );
    assert!(stats.snapshot()[2] > 0, "forged probes counted");
    // Probes are not maintenance's pulses: an agent pulsed by SM alone
    // still sees that maintenance lost it (and registers again).
    assert_eq!(stats.snapshot()[0], 0);
    assert!(stats.probes.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert!(
        mine_stats.snapshot()[4] > 0,
        "a controller's answer counted"
    );
    t0.abort();
}
