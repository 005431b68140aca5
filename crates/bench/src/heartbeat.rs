//! The heartbeat engine on loopback: how long from a host's cut to its
//! failed (and degraded) level, over many runs at each period, and the
//! controller side's CPU while it pulses 100 hosts every 100 ms.
//!
//! The engine (`starling-heartbeat`'s `Heartbeat`, the monitor of
//! `starling-mtce`) runs on a thread of its own with its own runtime, as a
//! maintenance service would run it; the hosts' responders run on the
//! bench's runtime. The CPU figure is the engine thread's own time on a CPU
//! (`/proc/thread-self/schedstat`), so the responders' work is not counted.
//! A cut is the host's responder stopping at a random phase of a period.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use starling_heartbeat::{Heartbeat, Key, Pulser, Responder, Target};
use starling_mtce::{Level, Network, Thresholds};

use crate::Args;

/// This thread's time on a CPU so far.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// What the engine thread reports.
enum Seen {
    /// A level change of a host on the management network, when it was
    /// seen.
    Change(String, Level, Instant),
    /// The engine's CPU time over its run and the run's length.
    Cpu(Duration, Duration),
}

/// Runs the engine over `targets` every `period` on a thread of its own
/// until `stop` says so, reporting changes and, at the end, its CPU time.
fn engine(
    key: Key,
    targets: Vec<Target>,
    period: Duration,
    seen: tokio::sync::mpsc::UnboundedSender<Seen>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Result<()>> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let mgmt = Pulser::bind(Network::Mgmt, loopback(), key).await?;
            let mut hb = Heartbeat::new(mgmt, None, period, Thresholds::default())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (cpu0, t0) = (thread_cpu(), Instant::now());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for c in hb.tick(&targets).await {
                    let _ = seen.send(Seen::Change(c.host, c.to, Instant::now()));
                }
            }
            let _ = seen.send(Seen::Cpu(thread_cpu() - cpu0, t0.elapsed()));
            anyhow::Ok(())
        })
    })
}

async fn responders(
    key: &Key,
    n: usize,
) -> Result<(Vec<Target>, Vec<tokio::task::JoinHandle<()>>)> {
    let mut targets = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let host = format!("host-{i}");
        let r = Responder::bind(loopback(), key.clone(), &host).await?;
        targets.push(Target {
            host,
            mgmt: r.local_addr()?,
            cluster: None,
        });
        tasks.push(tokio::spawn(r.run()));
    }
    Ok((targets, tasks))
}

pub(crate) fn pcts(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    let at = |q: f64| d[((d.len() as f64 * q).ceil() as usize).clamp(1, d.len()) - 1];
    (at(0.5), at(0.99))
}

/// A pseudo-random fraction from the clock (the cut's phase in a period).
pub(crate) fn jitter() -> f64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(n % 1000) / 1000.0
}

/// One cut: host-0's responder stops at a random phase; the times to its
/// degraded and failed levels.
async fn one_cut(period: Duration) -> Result<(Duration, Duration)> {
    let key = Key::generate().map_err(anyhow::Error::msg)?;
    let (targets, mut tasks) = responders(&key, 10).await?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let thread = engine(key, targets, period, tx, stop.clone());
    // A few periods in, at a random phase.
    tokio::time::sleep(period * 3 + period.mul_f64(jitter())).await;
    let cut = Instant::now();
    tasks.remove(0).abort();
    let (mut degraded, mut failed) = (None, None);
    let deadline = Instant::now() + period * 30;
    while failed.is_none() && Instant::now() < deadline {
        match tokio::time::timeout(period, rx.recv()).await.ok().flatten() {
            Some(Seen::Change(h, level, at)) if h == "host-0" => match level {
                Level::Degraded => degraded = Some(at - cut),
                Level::Failed => failed = Some(at - cut),
                _ => {}
            },
            Some(Seen::Change(h, level, _)) => {
                anyhow::bail!("{h} changed to {level:?} though it answers")
            }
            _ => {}
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the engine thread panicked"))??;
    Ok((
        degraded.context("never degraded")?,
        failed.context("never failed")?,
    ))
}

pub async fn run(a: &Args) -> Result<()> {
    println!("| heartbeat (loopback) | figure |");
    println!("|---|---|");
    for ms in &a.hb_periods {
        let period = Duration::from_millis(*ms);
        let (mut deg, mut fail) = (Vec::new(), Vec::new());
        for _ in 0..a.hb_runs {
            let (d, f) = one_cut(period).await?;
            deg.push(d);
            fail.push(f);
        }
        let (d50, d99) = pcts(deg);
        let (f50, f99) = pcts(fail);
        println!(
            "| period {ms} ms, {} cuts: cut → degraded p50 / p99 | {:.0} / {:.0} ms |",
            a.hb_runs,
            d50.as_secs_f64() * 1e3,
            d99.as_secs_f64() * 1e3
        );
        println!(
            "| period {ms} ms, {} cuts: cut → failed p50 / p99 | {:.0} / {:.0} ms |",
            a.hb_runs,
            f50.as_secs_f64() * 1e3,
            f99.as_secs_f64() * 1e3
        );
    }
    // The controller side's CPU: 100 hosts every 100 ms.
    let key = Key::generate().map_err(anyhow::Error::msg)?;
    let (targets, tasks) = responders(&key, 100).await?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let thread = engine(key, targets, Duration::from_millis(100), tx, stop.clone());
    tokio::time::sleep(a.hb_cpu_secs).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the engine thread panicked"))??;
    for t in tasks {
        t.abort();
    }
    let mut cpu = None;
    while let Ok(s) = rx.try_recv() {
        match s {
            Seen::Cpu(c, wall) => cpu = Some((c, wall)),
            Seen::Change(h, l, _) => {
                anyhow::bail!("{h} changed to {l:?} though every host answers")
            }
        }
    }
    let (c, wall) = cpu.context("the engine reported no CPU time")?;
    println!(
        "| 100 hosts every 100 ms for {:.0} s: the engine's CPU | {:.2}% of one core |",
        wall.as_secs_f64(),
        100.0 * c.as_secs_f64() / wall.as_secs_f64()
    );
    Ok(())
}
