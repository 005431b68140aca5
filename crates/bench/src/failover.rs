//! Service management on two controllers in network namespaces
//! (`starling_testkit::pair`: the real `starling-sm`, a BMC per
//! controller on a network of its own, a client on the management
//! network). Needs root, `ip`, `nft`, `python3`, and the BMC simulators.
//!
//! - `failover`: the active controller crashes (every process in it
//!   killed, its links down) at a random point of the hello period; the
//!   figures are the time from the crash to the floating address on the
//!   peer, and to the API answering on the floating address (a prober in
//!   the client's namespace connects every 5 ms with a 50 ms limit and
//!   sends a GET). Run for each timer profile of `--failover-profiles`
//!   (StarlingX's defaults, docs/ha.md's quick ones); the crashed
//!   controller boots and rejoins before the next run.
//!   With `--failover-witnesses N`, each profile runs with the real
//!   starlingd (inventory and maintenance) as the API twice: alone, and
//!   with N hosts (the real agent) as witnesses, whose word lets the
//!   standby fence at once.
//! - `partitions`: the randomized partition soak (`Rig::soak`):
//!   `--partitions` partitions from `--seed`, both controllers sampled
//!   every 10 ms for the floating addresses; two actives in any sample
//!   fails the phase.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use starling_testkit::pair::{API_PORT, Binaries, Dice, FM_PORT, Fencing, Profile, Rig};

use crate::Args;
use crate::heartbeat::pcts;

pub(crate) fn binaries(a: &Args) -> Binaries {
    Binaries {
        starlingd: a.starlingd.clone(),
        starling_sm: a
            .starling_sm
            .clone()
            .unwrap_or_else(|| a.starlingd.with_file_name("starling-sm")),
    }
}

pub(crate) fn prerequisites(a: &Args) -> Result<Fencing> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    ensure!(
        root,
        "the two-controller phases run network namespaces: run as root"
    );
    for p in ["ip", "nft", "python3", "curl"] {
        ensure!(starling_testkit::pair::have(p), "{p} is needed");
    }
    let bins = binaries(a);
    ensure!(
        bins.starling_sm.exists(),
        "{} not found (cargo build --release -p starling-server)",
        bins.starling_sm.display()
    );
    match a.failover_bmc.as_str() {
        "ipmi" => Ok(Fencing::Ipmi(
            starling_testkit::ipmi::simulator_or_skip().context("ipmi_sim (OpenIPMI) is needed")?,
        )),
        "redfish" => Ok(Fencing::Redfish(
            starling_testkit::sushy::emulator_or_skip()
                .context("sushy-emulator is needed (STARLING_SUSHY_EMULATOR)")?,
        )),
        other => bail!("--failover-bmc {other}: ipmi or redfish"),
    }
}

fn profile(name: &str) -> Result<Profile> {
    match name {
        "starlingx" => Ok(Profile::STARLINGX),
        "fast" => Ok(Profile::FAST),
        "lab" => Ok(Profile::LAB),
        other => bail!("profile {other}: starlingx, fast or lab"),
    }
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        * 1000.0
}

/// A prober in the client's namespace: told `go` on its input, connects
/// to `ip:port` every 5 ms (50 ms limit each), sends a GET, and prints the
/// Unix time in ms of the first answer.
fn prober(ns: &str, ip: &str, port: u16) -> Result<Child> {
    let script = format!(
        r#"
import socket, sys, time
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
while True:
    try:
        s = socket.create_connection(("{ip}", {port}), timeout=0.05)
        s.settimeout(0.5)
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        if s.recv(12).startswith(b"HTTP/1."):
            print("%.3f" % (time.time() * 1000.0)); sys.stdout.flush(); break
    except OSError:
        pass
    time.sleep(0.005)
"#
    );
    Command::new("ip")
        .args(["netns", "exec", ns, "python3", "-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("the prober")
}

/// Crashes controller `active` of `rig` after `phase` and times the
/// floating address on its peer and the API (on `port`) answering there
/// (a prober in the client's namespace, started before the crash).
pub(crate) fn crash_and_time(
    rig: &mut Rig,
    active: usize,
    phase: Duration,
    port: u16,
) -> Result<(Duration, Duration)> {
    let peer = 1 - active;
    let mut probe = prober(&rig.client, &rig.floating(), port)?;
    let mut out = BufReader::new(probe.stdout.take().context("prober stdout")?);
    let mut go = probe.stdin.take().context("prober stdin")?;
    let mut line = String::new();
    out.read_line(&mut line)?;
    std::thread::sleep(phase);
    let crash_ms = epoch_ms();
    rig.crash(active);
    go.write_all(b"go\n")?;
    drop(go);
    let moved = Rig::within(Duration::from_secs(120), || rig.holder() == Some(peer))
        .context("the floating address never moved")?;
    line.clear();
    out.read_line(&mut line)?;
    let _ = probe.wait();
    let api_ms: f64 = line
        .trim()
        .parse()
        .with_context(|| format!("the prober said {line:?}"))?;
    Ok((
        moved,
        Duration::from_secs_f64(((api_ms - crash_ms) / 1000.0).max(0.0)),
    ))
}

pub fn failover(a: &Args) -> Result<()> {
    let fencing = prerequisites(a)?;
    let bins = binaries(a);
    let mut dice = Dice::new(a.seed);
    println!(
        "### Failover: crash of the active controller (two namespaces, {} BMCs, {} runs per profile)\n",
        a.failover_bmc, a.failover_runs
    );
    println!(
        "| profile (hello/dead/fail-pending/fence delay, ms) | crash → address on the peer p50 / p99 / max | crash → API answering p50 / p99 / max | fenced |"
    );
    println!("|---|---|---|---|");
    // (the API, witnesses): the stand-in API; or starlingd without, then
    // with, witnesses.
    let setups: Vec<(bool, usize)> = if a.failover_witnesses > 0 {
        vec![(true, 0), (true, a.failover_witnesses)]
    } else {
        vec![(false, 0)]
    };
    let agent = a
        .starling_agent
        .clone()
        .unwrap_or_else(|| a.starlingd.with_file_name("starling-agent"));
    for name in &a.failover_profiles {
        let p = profile(name)?;
        for &(inventory, witnesses) in &setups {
            let label = match (inventory, witnesses) {
                (false, _) => name.clone(),
                (true, 0) => format!("{name}, starlingd API"),
                (true, k) => format!("{name}, starlingd API, {k} witnesses"),
            };
            failover_runs(
                a, &bins, &fencing, p, &label, inventory, witnesses, &agent, &mut dice,
            )?;
        }
    }
    Ok(())
}

/// One row of the failover table: `a.failover_runs` crashes of the
/// active with profile `p`.
#[allow(clippy::too_many_arguments)]
fn failover_runs(
    a: &Args,
    bins: &Binaries,
    fencing: &Fencing,
    p: Profile,
    label: &str,
    inventory: bool,
    witnesses: usize,
    agent: &std::path::Path,
    dice: &mut Dice,
) -> Result<()> {
    let mut rig = Rig::new(bins, p, fencing);
    if inventory {
        rig.use_inventory();
    }
    rig.start(0);
    rig.start(1);
    let settle = Duration::from_secs(60);
    if witnesses > 0 {
        rig.settled(settle);
        ensure!(agent.exists(), "{} not found", agent.display());
        rig.add_witnesses(agent, witnesses);
    }
    let port = if inventory { FM_PORT } else { API_PORT };
    let mut times = Runs::default();
    let mut fenced = 0;
    for run in 0..a.failover_runs {
        let active = rig.settled(settle);
        if witnesses > 0 {
            rig.wait_witnesses(witnesses, settle);
        }
        std::thread::sleep(Duration::from_millis(500));
        let before = rig.resets(active);
        // A random point of the hello period.
        let phase = Duration::from_millis(dice.range(0, u64::from(p.hello_ms)));
        let t = crash_and_time(&mut rig, active, phase, port)?;
        if rig.resets(active) > before {
            fenced += 1;
        }
        times.record(&format!("failover {label}"), run, a.failover_runs, t);
        rig.boot(active);
    }
    let (moved, answered) = times.cells();
    println!(
        "| {label} ({}/{}/{}/{}) | {moved} | {answered} | {fenced} of {} |",
        p.hello_ms, p.dead_ms, p.fail_pending_ms, p.standby_fence_delay_ms, a.failover_runs
    );
    Ok(())
}

pub fn partitions(a: &Args) -> Result<()> {
    let fencing = prerequisites(a)?;
    if !matches!(fencing, Fencing::Ipmi(_)) {
        bail!(
            "the partition soak needs BMCs that take a fenced controller down: --failover-bmc ipmi"
        );
    }
    let bins = binaries(a);
    let p = profile(&a.partition_profile)?;
    let mut rig = Rig::new(&bins, p, &fencing);
    rig.start(0);
    rig.start(1);
    let t0 = Instant::now();
    let r = rig.soak(a.partitions, a.seed, Duration::from_millis(10), |k, f| {
        eprintln!("partition {k}/{}: {f:?}", a.partitions)
    });
    let took = t0.elapsed();
    println!(
        "### Randomized partitions (two namespaces, IPMI BMCs, profile {}, seed {:#x})\n",
        a.partition_profile, a.seed
    );
    println!(
        "| partitions | samples (longest gap) | two actives | takeovers | fenced | unfenced takeovers | took |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} ({:.0} ms) | {} | {} | {} | {} | {:.0} s |",
        r.partitions,
        r.samples.samples,
        r.samples.longest_gap.as_secs_f64() * 1000.0,
        r.samples.both,
        r.takeovers,
        r.fenced,
        r.unfenced_takeovers,
        took.as_secs_f64()
    );
    ensure!(
        r.samples.both == 0,
        "two actives in {} samples",
        r.samples.both
    );
    ensure!(
        r.unfenced_takeovers == 0,
        "{} unfenced takeovers",
        r.unfenced_takeovers
    );
    Ok(())
}

/// The crash → address and crash → API times of a row's runs.
#[derive(Default)]
pub(crate) struct Runs {
    moved: Vec<Duration>,
    answered: Vec<Duration>,
}

impl Runs {
    /// Run `run` of `runs` took these times: kept, and said on stderr.
    pub(crate) fn record(
        &mut self,
        what: &str,
        run: usize,
        runs: usize,
        times: (Duration, Duration),
    ) {
        let (moved, api) = times;
        eprintln!(
            "{what} {}/{runs}: address {:.0} ms, API {:.0} ms",
            run + 1,
            moved.as_secs_f64() * 1000.0,
            api.as_secs_f64() * 1000.0
        );
        self.moved.push(moved);
        self.answered.push(api);
    }

    /// The table's two cells: crash → address, crash → API.
    pub(crate) fn cells(&mut self) -> (String, String) {
        (summary(&mut self.moved), summary(&mut self.answered))
    }
}

/// p50 / p99 / max of `v`, in ms.
pub(crate) fn summary(v: &mut [Duration]) -> String {
    let max = v.iter().max().copied().unwrap_or_default();
    let (p50, p99) = pcts(v.to_vec());
    format!(
        "{:.0} / {:.0} / {:.0} ms",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    )
}
