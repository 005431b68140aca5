//! `starling-bench`: drives Starling's FM API and Prometheus Alertmanager with the
//! same load over loopback, in one run, and prints the figures as Markdown.
//!
//! Every server is started by the benchmark on 127.0.0.1 with a fresh data
//! directory, one instance per phase. In the rate phases Starling and
//! Alertmanager run side by side and each rate is measured in alternating
//! rounds, so that a host whose speed drifts slows both alike. All traffic
//! stays on loopback and every loop is bounded by a request count.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod auth;
mod config;
mod failover;
mod heartbeat;
mod inventory;
mod pacemaker;
mod recovery;
mod sm;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(
    name = "starling-bench",
    about = "FM load generator (Starling vs Alertmanager)"
)]
struct Args {
    /// The starlingd binary (build it with --release).
    #[arg(long, default_value = "target/release/starlingd")]
    starlingd: PathBuf,
    /// The Alertmanager binary; that half is skipped when it does not exist.
    #[arg(long, default_value = "/usr/bin/prometheus-alertmanager")]
    alertmanager: PathBuf,
    /// Requests per rate measurement with many clients (a quarter of it with 1).
    #[arg(long, default_value_t = 32_000)]
    requests: usize,
    /// Concurrent clients of the many-client rate measurements (issue 2's
    /// targets are stated for 16).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(2..))]
    clients: u16,
    /// Active alarms for the list measurement.
    #[arg(long, default_value_t = 10_000)]
    alarms: usize,
    /// History rows for the event-log measurement.
    #[arg(long, default_value_t = 1_000_000)]
    history: usize,
    /// Samples per latency measurement.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Where the servers keep their data.
    #[arg(long, default_value = "/tmp/starling-bench")]
    work_dir: PathBuf,
    /// Which phases to run (comma-separated): rates, lists, history, auth
    /// (token checks and logins), sets (the many-client single-alarm set
    /// alone, for paired runs and profiles), floor (read-only request rates, run
    /// inside the rates phase), and inventory (host lists, agents at once,
    /// the agent's audit cycle and RSS); heartbeat (cut-to-failed times and
    /// the engine's CPU, on loopback) and recovery (a starlingd: cut to
    /// 200.004 and to failed, back to service; `--hb-periods`,
    /// `--hb-runs`), sm (two paired `starlingd sm`: idle CPU and memory,
    /// swact times and the API-unavailable window; `--sm-idle`,
    /// `--sm-swacts`), failover (two controllers in network namespaces:
    /// crash of the active to the API answering on the floating address,
    /// per timer profile; `--failover-runs`, `--failover-profiles`) and
    /// partitions (the randomized partition soak; `--partitions`,
    /// `--seed`), pacemaker (Pacemaker and Corosync on the same rig with
    /// the same crash; `--pacemaker-tokens`), config (dns-modify to every
    /// simulated agent applied and 250.001 cleared, the document's
    /// generation per host, one apply's CPU; `--config-hosts`,
    /// `--config-rounds`); none of these in the default list.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "rates,lists,history,auth,inventory"
    )]
    phases: Vec<String>,
    /// The `system` binary (default: beside starlingd).
    #[arg(long)]
    system: Option<PathBuf>,
    /// Host counts of the inventory phase (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    hosts: Vec<usize>,
    /// `system host-list` runs per host count.
    #[arg(long, default_value_t = 30)]
    cli_samples: usize,
    /// Rounds each rate measurement is split into, alternating which server
    /// goes first, with both servers running side by side.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    /// Audit cycles (one a second) the agent is measured over.
    #[arg(long, default_value_t = 30)]
    agent_cycles: usize,
    /// Heartbeat periods of the heartbeat phase, in ms (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    hb_periods: Vec<u64>,
    /// Cuts per heartbeat period.
    #[arg(long, default_value_t = 20)]
    hb_runs: usize,
    /// How long the heartbeat engine's CPU is measured.
    #[arg(long, default_value = "10s", value_parser = duration_arg)]
    hb_cpu_secs: Duration,
    /// How long the sm phase measures the idle pair's CPU.
    #[arg(long, default_value = "30s", value_parser = duration_arg)]
    sm_idle: Duration,
    /// Swacts of the sm phase.
    #[arg(long, default_value_t = 20)]
    sm_swacts: usize,
    /// The `starling-sm` binary (default: beside starlingd).
    #[arg(long)]
    starling_sm: Option<PathBuf>,
    /// Crashes per timer profile of the failover phase.
    #[arg(long, default_value_t = 20)]
    failover_runs: usize,
    /// The failover phase's timer profiles (comma-separated): starlingx
    /// (StarlingX's defaults), fast (docs/ha.md's quick failover), lab.
    #[arg(long, value_delimiter = ',', default_value = "fast,starlingx")]
    failover_profiles: Vec<String>,
    /// The controllers' BMCs in the failover and partitions phases: ipmi
    /// (OpenIPMI's simulator; a reset takes the controller down) or
    /// redfish (sushy-tools; a reset is only recorded).
    #[arg(long, default_value = "ipmi")]
    failover_bmc: String,
    /// With N > 0, the failover phase runs each profile twice with the
    /// real starlingd (inventory, maintenance) as the API: without
    /// witnesses, then with N hosts running the real agent as witnesses.
    #[arg(long, default_value_t = 0)]
    failover_witnesses: usize,
    /// The `starling-agent` binary (default: beside starlingd).
    #[arg(long)]
    starling_agent: Option<PathBuf>,
    /// Randomized partitions of the partitions phase.
    #[arg(long, default_value_t = 100)]
    partitions: u32,
    /// The partitions phase's timer profile.
    #[arg(long, default_value = "lab")]
    partition_profile: String,
    /// Corosync token timeouts of the pacemaker phase, in ms
    /// (comma-separated; Corosync's default is 3000).
    #[arg(long, value_delimiter = ',', default_value = "3000,1000")]
    pacemaker_tokens: Vec<u32>,
    /// The seed of the randomized phases (crash timing, partitions).
    #[arg(long, default_value_t = 0x5eed_0001)]
    seed: u64,
    /// Simulated agents of the config phase.
    #[arg(long, default_value_t = 100)]
    config_hosts: usize,
    /// dns-modify rounds of the config phase.
    #[arg(long, default_value_t = 10)]
    config_rounds: usize,
}

/// A duration as `10s`, `2m` or milliseconds `500ms`.
fn duration_arg(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n.parse().map_err(|_| format!("not a duration: {s}"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("not a duration: {s}")),
    }
}

struct Server {
    child: Child,
    base: String,
    identity: String,
    cold_start: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn rss_mb(&self) -> f64 {
        rss_kb(self.child.id()) as f64 / 1024.0
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU seconds spent over `n` requests, in microseconds per request.
fn per_request_us(secs: f64, n: usize) -> f64 {
    secs * 1e6 / n.max(1) as f64
}

/// CPU time (user + system) of a process so far, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    stat_ticks(pid, 11..=12)
}

/// The sum of `/proc/PID/stat` fields `fields` (counted from the state
/// field, after the command name, which may contain spaces) in seconds:
/// 11..=12 are user and system time, 13..=14 those of waited-for children.
fn stat_ticks(pid: u32, fields: std::ops::RangeInclusive<usize>) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let mut ticks = 0.0;
            for k in fields {
                ticks += f.get(k)?.parse::<f64>().ok()?;
            }
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// The admin password the benchmark's Starling instances bootstrap with.
const BENCH_PASSWORD: &str = "Bench!pass1";

/// The token of the Starling instance under test, sent on every request
/// (Alertmanager ignores the header).
static TOKEN: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// An HTTP client carrying the current token.
fn client() -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    if let Some(t) = TOKEN.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
        && let Ok(v) = reqwest::header::HeaderValue::from_str(t)
    {
        h.insert("x-auth-token", v);
    }
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap_or_default()
}

fn login_body() -> Value {
    json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": BENCH_PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
}

/// Logs in to a benchmark instance's identity service.
async fn login(identity: &str) -> Result<String> {
    let r = reqwest::Client::new()
        .post(format!("{identity}/v3/auth/tokens?nocatalog"))
        .json(&login_body())
        .send()
        .await?;
    if r.status() != reqwest::StatusCode::CREATED {
        bail!("login to {identity} failed: {}", r.status());
    }
    r.headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .context("login answered without a token")
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts a server and measures the time until `ready_path` answers 200.
async fn start(mut cmd: Command, base: String, ready_path: &str) -> Result<Server> {
    let http = reqwest::Client::new();
    let t0 = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start server")?;
    let mut server = Server {
        child,
        base: base.clone(),
        identity: String::new(),
        cold_start: Duration::ZERO,
    };
    let deadline = t0 + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}{ready_path}")).send().await
            && r.status().is_success()
        {
            server.cold_start = t0.elapsed();
            return Ok(server);
        }
        if Instant::now() > deadline {
            bail!("server at {base} did not become ready");
        }
        if let Ok(Some(st)) = server.child.try_wait() {
            bail!("server exited early: {st}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn starling(a: &Args, dir: &Path) -> Result<Server> {
    starling_with(a, dir, &[]).await
}

/// A fresh Starling with extra options; logs in and makes its token current.
async fn starling_with(a: &Args, dir: &Path, extra: &[&str]) -> Result<Server> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    launch(a, dir, extra).await
}

/// Starts Starling over whatever `dir` holds (a restart when it holds a store).
async fn launch(a: &Args, dir: &Path, extra: &[&str]) -> Result<Server> {
    let port = free_port()?;
    let id_port = free_port()?;
    let mut cmd = Command::new(&a.starlingd);
    cmd.arg("--data-dir")
        .arg(dir)
        .env("STARLING_ADMIN_PASSWORD", BENCH_PASSWORD)
        .args(["--fm-port", &port.to_string(), "--log", "warn"])
        // FM alone is measured: no controller-0 bootstrap or local agent.
        .arg("--no-local-agent")
        .args(["--identity-port", &id_port.to_string()])
        .args([
            "--event-log-max-rows",
            &(a.history * 2).max(4000).to_string(),
        ])
        .args(extra);
    let mut s = start(cmd, format!("http://127.0.0.1:{port}"), "/health").await?;
    s.identity = format!("http://127.0.0.1:{id_port}");
    let t = login(&s.identity).await?;
    *TOKEN.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
    Ok(s)
}

async fn alertmanager(a: &Args, dir: &Path) -> Result<Server> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let conf = dir.join("am.yml");
    std::fs::write(
        &conf,
        "route:\n  receiver: blackhole\n  group_by: ['...']\nreceivers:\n  - name: blackhole\n",
    )?;
    let port = free_port()?;
    let mut cmd = Command::new(&a.alertmanager);
    cmd.arg(format!("--config.file={}", conf.display()))
        .arg(format!("--storage.path={}", dir.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn");
    start(cmd, format!("http://127.0.0.1:{port}"), "/-/ready").await
}

/// Builds request `i` of a measurement on a client.
type Make = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// Runs `total` requests from `workers` concurrent clients; returns requests/s.
async fn rate<F>(workers: usize, total: usize, make: F) -> Result<f64>
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let secs = run_range(&clients(workers), 0..total, &(Arc::new(make) as Make)).await?;
    Ok(total as f64 / secs)
}

/// `n` HTTP clients, built before any timing starts: building one loads and
/// decodes the system's trust store, milliseconds of CPU that would otherwise
/// land inside the measured window.
fn clients(n: usize) -> Vec<reqwest::Client> {
    (0..n.max(1)).map(|_| client()).collect()
}

/// Sends requests `range` (each built by `make` from its index), one
/// concurrent sender per client in `clients`; returns the seconds it took.
/// The clients keep their connections from one call to the next.
async fn run_range(
    clients: &[reqwest::Client],
    range: std::ops::Range<usize>,
    make: &Make,
) -> Result<f64> {
    let next = Arc::new(AtomicU64::new(range.start as u64));
    let end = range.end;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for http in clients {
        let http = http.clone();
        let make = make.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= end {
                    return Ok::<(), anyhow::Error>(());
                }
                let r = make(&http, i).send().await?;
                if !r.status().is_success() {
                    bail!(
                        "request {i} failed: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
                r.bytes().await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(t0.elapsed().as_secs_f64())
}

/// One server's half of a paired measurement: its process and its requests.
struct Side {
    pid: u32,
    make: Make,
}

/// One server's totals over the rounds of a paired measurement.
#[derive(Default, Clone)]
struct Measured {
    requests: usize,
    secs: f64,
    /// CPU seconds of the server, and of the load generator, over the rounds.
    cpu: f64,
    own_cpu: f64,
    /// Requests per second of each round, in order.
    rounds: Vec<f64>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.secs.max(f64::MIN_POSITIVE)
    }
}

/// The same `total` requests (by index) against each server, split into
/// `rounds` rounds that alternate which server goes first (A B, B A, A B, ...).
/// On a host whose speed drifts from one minute to the next, a server
/// measured alone in its own minute wins or loses by the drift; interleaved
/// rounds expose both to it alike. Returns each side's totals.
async fn paired(
    workers: usize,
    total: usize,
    rounds: usize,
    sides: &[Side],
) -> Result<Vec<Measured>> {
    let rounds = rounds.clamp(1, total.max(1));
    let clients = clients(workers);
    let mut out = vec![Measured::default(); sides.len()];
    let me = std::process::id();
    for r in 0..rounds {
        let range = total * r / rounds..total * (r + 1) / rounds;
        let mut order: Vec<usize> = (0..sides.len()).collect();
        if r % 2 == 1 {
            order.reverse();
        }
        for k in order {
            let side = &sides[k];
            let (cpu0, own0) = (cpu_secs(side.pid), cpu_secs(me));
            let secs = run_range(&clients, range.clone(), &side.make).await?;
            let m = &mut out[k];
            m.cpu += cpu_secs(side.pid) - cpu0;
            m.own_cpu += cpu_secs(me) - own0;
            m.requests += range.len();
            m.secs += secs;
            m.rounds.push(range.len() as f64 / secs);
        }
    }
    Ok(out)
}

/// Prints a paired measurement's CPU per request and per-round rates.
fn report(what: &str, names: &[&str], m: &[Measured]) {
    for (name, m) in names.iter().zip(m) {
        let rounds: Vec<String> = m.rounds.iter().map(|r| format!("{r:.0}")).collect();
        eprintln!(
            "{what}, {name}: {:.0}/s; CPU per request {:.0} µs (load generator {:.0} µs); rounds {}",
            m.rate(),
            per_request_us(m.cpu, m.requests),
            per_request_us(m.own_cpu, m.requests),
            rounds.join(" ")
        );
    }
}

/// Prints a paired measurement in detail and returns its table row: each
/// side's rate in alarms per second (`alarms` per request).
fn rate_row(what: &str, names: &[&str], m: &[Measured], alarms: usize) -> Row {
    report(what, names, m);
    let per_s = |m: &Measured| format!("{:.0}", m.rate() * alarms as f64);
    Row {
        what: format!("{what} (per s)"),
        starling: m.first().map_or("-".into(), per_s),
        alertmanager: m.get(1).map_or("-".into(), per_s),
    }
}

/// p50 and p99 of `n` sequential GETs, in milliseconds.
async fn latency(url: &str, n: usize) -> Result<(f64, f64, usize)> {
    let http = client();
    let mut d = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..n {
        let t0 = Instant::now();
        let r = http.get(url).send().await?;
        if !r.status().is_success() {
            bail!("GET {url}: {}", r.status());
        }
        size = r.bytes().await?.len();
        d.push(t0.elapsed());
    }
    d.sort();
    let pct = |p: f64| d[((d.len() as f64 * p) as usize).min(d.len() - 1)].as_secs_f64() * 1000.0;
    Ok((pct(0.50), pct(0.99), size))
}

/// Samples the peak RSS of `pid` until stopped.
fn rss_sampler(pid: u32) -> (Arc<AtomicBool>, std::thread::JoinHandle<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let h = std::thread::spawn(move || {
        let mut peak = 0;
        while !s.load(Ordering::Relaxed) {
            peak = peak.max(rss_kb(pid));
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    });
    (stop, h)
}

fn alarm(i: usize, sev: &str) -> Value {
    json!({
        "alarm_id": "100.101", "alarm_state": "set",
        "entity_instance_id": format!("system=bench.host=compute-{i}"),
        "severity": sev, "alarm_type": "operational-violation",
        "probable_cause": "threshold-crossed",
        "reason_text": "Platform CPU threshold exceeded; threshold 90.00%, actual 96.42%",
        "proposed_repair_action": "Monitor and if condition persists, contact next level of support.",
        "service_affecting": false, "suppression": true,
    })
}

fn clear(i: usize) -> Value {
    json!({"alarm_id": "100.101", "alarm_state": "clear",
           "entity_instance_id": format!("system=bench.host=compute-{i}")})
}

fn am_alert(i: usize, resolved: bool) -> Value {
    let mut v = json!({
        "labels": {"alertname": "100.101", "instance": format!("system=bench.host=compute-{i}"), "severity": "major"},
        "annotations": {"summary": "Platform CPU threshold exceeded; threshold 90.00%, actual 96.42%",
                         "repair": "Monitor and if condition persists, contact next level of support."},
    });
    if resolved {
        v["endsAt"] = json!("2000-01-01T00:00:00Z");
    }
    v
}

#[derive(Default)]
struct Row {
    what: String,
    starling: String,
    alertmanager: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn run(a: Args) -> Result<()> {
    // Every phase but the heartbeat's drives a starlingd.
    if a.phases.iter().any(|p| p != "heartbeat") && !a.starlingd.exists() {
        bail!(
            "{} not found: build it with cargo build --release -p starling-server",
            a.starlingd.display()
        );
    }
    let am = a.alertmanager.exists();
    let mut rows: Vec<Row> = Vec::new();
    let n16 = a.requests;
    let many = usize::from(a.clients);
    let many_label = format!("{many} clients");
    let n1 = (a.requests / 4).max(1);
    let batch = 100;

    let want = |p: &str| a.phases.iter().any(|x| x == p);
    let (mut s_idle, mut s_cold, mut s_peak) = (0.0, Duration::ZERO, 0.0);
    let mut s_restart = Duration::ZERO;
    let (mut am_idle, mut am_peak, mut am_cold) = (0.0, 0.0, Duration::ZERO);
    let mut s_hist_rss = 0.0;

    // (a) rates and (d) cold start / RSS. Both servers run side by side and
    // every rate is measured in alternating rounds (see `paired`).
    let names: &[&str] = if am {
        &["Starling", "Alertmanager"]
    } else {
        &["Starling"]
    };
    if want("rates") {
        eprintln!(
            "rates: Starling and Alertmanager, {} alternating rounds",
            a.rounds
        );
        let s = starling(&a, &a.work_dir.join("s-rates")).await?;
        let m = if am {
            Some(alertmanager(&a, &a.work_dir.join("am-rates")).await?)
        } else {
            None
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        s_idle = s.rss_mb();
        s_cold = s.cold_start;
        if let Some(m) = &m {
            am_idle = m.rss_mb();
            am_cold = m.cold_start;
        }
        let base = s.base.clone();
        let am_base = m.as_ref().map(|m| m.base.clone());
        let (stop, peak) = rss_sampler(s.child.id());
        let am_sampler = m.as_ref().map(|m| rss_sampler(m.child.id()));
        if want("floor") {
            // The floor under the write rates: a request that touches nothing,
            // and one that takes one read-pool hand-off.
            for workers in [1usize, many] {
                let b = base.clone();
                let r = rate(workers, n16, move |h, _| h.get(format!("{b}/health"))).await?;
                rows.push(Row {
                    what: format!("GET /health, {workers} client(s) (per s)"),
                    starling: format!("{r:.0}"),
                    alertmanager: "-".into(),
                });
                let b = base.clone();
                let r = rate(workers, n16, move |h, _| {
                    h.get(format!("{b}/v1/alarms/summary"))
                })
                .await?;
                rows.push(Row {
                    what: format!("GET /v1/alarms/summary, {workers} client(s) (per s)"),
                    starling: format!("{r:.0}"),
                    alertmanager: "-".into(),
                });
            }
        }
        // Starling's request and Alertmanager's for the same alarms: request i
        // carries alarms first + i * per .. first + (i + 1) * per, one per
        // request (`per` 1) or a batch.
        let sides = |per: usize, first: usize, clear_it: bool| -> Vec<Side> {
            let b = base.clone();
            let starling: Make = Arc::new(move |h: &reqwest::Client, i: usize| {
                let one = |k| {
                    if clear_it {
                        clear(k)
                    } else {
                        alarm(k, "major")
                    }
                };
                let at = first + i * per;
                if per == 1 {
                    h.post(format!("{b}/v1/alarms")).json(&one(at))
                } else {
                    let v: Vec<Value> = (at..at + per).map(one).collect();
                    h.post(format!("{b}/v1/alarms/batch"))
                        .json(&json!({"alarms": v}))
                }
            });
            let mut v = vec![Side {
                pid: s.child.id(),
                make: starling,
            }];
            if let (Some(m), Some(b)) = (&m, am_base.clone()) {
                let theirs: Make = Arc::new(move |h: &reqwest::Client, i: usize| {
                    let at = first + i * per;
                    let v: Vec<Value> = (at..at + per).map(|k| am_alert(k, clear_it)).collect();
                    h.post(format!("{b}/api/v2/alerts")).json(&v)
                });
                v.push(Side {
                    pid: m.child.id(),
                    make: theirs,
                });
            }
            v
        };
        // Indices: 1 client from 0, many from n1; batches from 1,000,000.
        for (label, workers, n, off) in
            [("1 client", 1, n1, 0), (many_label.as_str(), many, n16, n1)]
        {
            for (what, clear_it) in [("set", false), ("clear", true)] {
                let sd = sides(1, off, clear_it);
                let r = paired(workers, n, usize::from(a.rounds), &sd).await?;
                rows.push(rate_row(
                    &format!("{what}, 1 alarm/request, {label}"),
                    names,
                    &r,
                    1,
                ));
            }
        }
        for (label, workers, n) in [("1 client", 1, n1), (many_label.as_str(), many, n16)] {
            let reqs = (n / batch).max(1);
            for (what, clear_it) in [("set", false), ("clear", true)] {
                let sd = sides(batch, 1_000_000, clear_it);
                let r = paired(workers, reqs, usize::from(a.rounds), &sd).await?;
                let what = format!("{what}, {batch} alarms/request, {label}");
                rows.push(rate_row(&what, names, &r, batch));
            }
        }
        stop.store(true, Ordering::Relaxed);
        s_peak = peak.join().unwrap_or(0) as f64 / 1024.0;
        if let Some((stop, peak)) = am_sampler {
            stop.store(true, Ordering::Relaxed);
            am_peak = peak.join().unwrap_or(0) as f64 / 1024.0;
        }
        drop(m);
        // Killed (as by a crash or power loss) and started again over its store.
        drop(s);
        let s = launch(&a, &a.work_dir.join("s-rates"), &[]).await?;
        s_restart = s.cold_start;
        drop(s);
    }

    // The many-client single-alarm set alone, on fresh instances running side
    // by side: the quick comparison for paired runs and for profiling the
    // write path.
    if want("sets") {
        eprintln!(
            "sets: Starling and Alertmanager, {} alternating rounds",
            a.rounds
        );
        let s = starling(&a, &a.work_dir.join("s-sets")).await?;
        let b = s.base.clone();
        let mut sides = vec![Side {
            pid: s.child.id(),
            make: Arc::new(move |h, i| h.post(format!("{b}/v1/alarms")).json(&alarm(i, "major"))),
        }];
        let m = if am {
            let m = alertmanager(&a, &a.work_dir.join("am-sets")).await?;
            let b = m.base.clone();
            sides.push(Side {
                pid: m.child.id(),
                make: Arc::new(move |h, i| {
                    h.post(format!("{b}/api/v2/alerts"))
                        .json(&json!([am_alert(i, false)]))
                }),
            });
            Some(m)
        } else {
            None
        };
        let r = paired(many, n16, usize::from(a.rounds), &sides).await?;
        let what = format!("set, 1 alarm/request, {many_label}");
        rows.push(rate_row(&what, names, &r, 1));
        drop(m);
        drop(s);
    }

    // (b) lists with N active alarms.
    if want("lists") {
        eprintln!("lists: Starling");
        let s = starling(&a, &a.work_dir.join("s-list")).await?;
        let b = s.base.clone();
        let seed = a.alarms.div_ceil(batch);
        let total = a.alarms;
        rate(4, seed, move |h, r| {
            let v: Vec<Value> = (r * batch..((r + 1) * batch).min(total))
                .map(|k| alarm(k, "major"))
                .collect();
            h.post(format!("{b}/v1/alarms/batch"))
                .json(&json!({"alarms": v}))
        })
        .await?;
        let (p50, p99, _) = latency(&format!("{}/v1/alarms", s.base), a.samples).await?;
        let default_page = format!("p50 {p50:.1} ms, p99 {p99:.1} ms");
        let (p50, p99, size) = latency(
            &format!("{}/v1/alarms?limit={}", s.base, a.alarms),
            a.samples / 4,
        )
        .await?;
        let all_page = format!(
            "p50 {p50:.1} ms, p99 {p99:.1} ms ({:.1} MB)",
            size as f64 / 1e6
        );
        drop(s);
        let mut am_all = "-".to_string();
        if am {
            eprintln!("lists: Alertmanager");
            let m = alertmanager(&a, &a.work_dir.join("am-list")).await?;
            let b = m.base.clone();
            rate(4, seed, move |h, r| {
                let v: Vec<Value> = (r * batch..((r + 1) * batch).min(total))
                    .map(|k| am_alert(k, false))
                    .collect();
                h.post(format!("{b}/api/v2/alerts")).json(&v)
            })
            .await?;
            let (p50, p99, size) =
                latency(&format!("{}/api/v2/alerts", m.base), a.samples / 4).await?;
            am_all = format!(
                "p50 {p50:.1} ms, p99 {p99:.1} ms ({:.1} MB)",
                size as f64 / 1e6
            );
        }
        rows.push(Row {
            what: format!("GET alarms, {} active, default page (2000)", a.alarms),
            starling: default_page,
            alertmanager: "- (no paging)".into(),
        });
        rows.push(Row {
            what: format!("GET alarms, {} active, all in one response", a.alarms),
            starling: all_page,
            alertmanager: am_all,
        });
    }

    // (c) first event-log page over a large history.
    if want("history") {
        eprintln!("history: seeding {} rows", a.history);
        let s = starling(&a, &a.work_dir.join("s-history")).await?;
        let b = s.base.clone();
        let t_end: i64 = 1_790_000_000; // seconds; the history spans 30 days before it
        let span = 30 * 86_400;
        let hist = a.history;
        let per = 1000;
        let seeded = Instant::now();
        rate(4, hist.div_ceil(per), move |h, r| {
            let v: Vec<Value> = (r * per..((r + 1) * per).min(hist))
                .map(|k| {
                    let t = t_end - span + (k as i64 * span / hist as i64);
                    json!({"alarm_id": "200.021", "alarm_state": "log",
                       "entity_instance_id": format!("host=compute-{}", k % 100),
                       "severity": "warning", "alarm_type": "other", "probable_cause": "unknown",
                       "reason_text": "host maintenance command", "timestamp": iso(t)})
                })
                .collect();
            h.post(format!("{b}/v1/alarms/batch"))
                .json(&json!({"alarms": v}))
        })
        .await?;
        let seed_rate = hist as f64 / seeded.elapsed().as_secs_f64();
        let day = 86_400;
        let q = format!(
            "{}/v1/event_log?q.field=entity_instance_id&q.field=start&q.field=end&q.op=eq&q.op=eq&q.op=eq&q.value=host%3Dcompute-42&q.value={}&q.value={}&limit=20",
            s.base,
            iso(t_end - 2 * day),
            iso(t_end - day)
        );
        let (p50, p99, size) = latency(&q, a.samples).await?;
        if size < 100 {
            bail!("the event-log query matched nothing: {q}");
        }
        rows.push(Row {
            what: format!(
                "first event-log page (limit=20, one entity, one day) over {} rows",
                a.history
            ),
            starling: format!("p50 {p50:.2} ms, p99 {p99:.2} ms"),
            alertmanager: "- (no history)".into(),
        });
        rows.push(Row {
            what: "history seeding, 1000 logs/request, 4 clients (per s)".into(),
            starling: format!("{seed_rate:.0}"),
            alertmanager: "-".into(),
        });
        s_hist_rss = s.rss_mb();
        drop(s);
    }

    if want("auth") {
        eprintln!("auth: in-process token checks");
        for (what, fig) in auth::overhead(&a.work_dir, 20_000).await? {
            rows.push(Row {
                what,
                starling: fig,
                alertmanager: "-".into(),
            });
        }
        eprintln!("auth: password logins against starlingd");
        let dir = a.work_dir.join("s-auth");
        let s = starling(&a, &dir).await?;
        let identity = s.identity.clone();
        for workers in [1usize, 4] {
            let url = format!("{identity}/v3/auth/tokens?nocatalog");
            let r = rate(workers, 200, move |h, _| h.post(&url).json(&login_body())).await?;
            rows.push(Row {
                what: format!("token issue (password login), {workers} client(s) (per s)"),
                starling: format!("{r:.0}"),
                alertmanager: "-".into(),
            });
        }
        drop(s);
    }

    let am_or_dash = |v: String| if am { v } else { "-".into() };
    if want("rates") {
        rows.push(Row {
            what: "RSS idle (after one login)".into(),
            starling: format!("{s_idle:.1} MB"),
            alertmanager: am_or_dash(format!("{am_idle:.1} MB")),
        });
        rows.push(Row {
            what: "RSS peak under the rate load".into(),
            starling: format!("{s_peak:.1} MB"),
            alertmanager: am_or_dash(format!("{am_peak:.1} MB")),
        });
        rows.push(Row {
            what: "cold start to first answer (first boot: migrations, admin created)".into(),
            starling: format!("{:.1} ms", s_cold.as_secs_f64() * 1000.0),
            alertmanager: am_or_dash(format!("{:.1} ms", am_cold.as_secs_f64() * 1000.0)),
        });
        rows.push(Row {
            what: "cold start to first answer, restarted over its store after SIGKILL".into(),
            starling: format!("{:.1} ms", s_restart.as_secs_f64() * 1000.0),
            alertmanager: "-".into(),
        });
    }
    if want("history") {
        rows.push(Row {
            what: format!("RSS after the {}-row history load", a.history),
            starling: format!("{s_hist_rss:.1} MB"),
            alertmanager: "-".into(),
        });
    }

    if ["rates", "sets", "lists", "history", "auth"]
        .iter()
        .any(|p| want(p))
    {
        println!("| measurement | Starling (SQLite, durable) | Alertmanager |");
        println!("|---|---|---|");
        for r in rows {
            println!("| {} | {} | {} |", r.what, r.starling, r.alertmanager);
        }
    }
    if want("inventory") {
        println!();
        inventory::run(&a).await?;
    }
    if want("heartbeat") {
        println!();
        heartbeat::run(&a).await?;
    }
    if want("config") {
        println!();
        config::run(&a).await?;
    }
    if want("recovery") {
        println!();
        recovery::run(&a).await?;
    }
    if want("sm") {
        println!();
        sm::run(&a).await?;
    }
    if want("failover") {
        println!();
        failover::failover(&a)?;
    }
    if want("pacemaker") {
        println!();
        pacemaker::run(&a)?;
    }
    if want("partitions") {
        println!();
        failover::partitions(&a)?;
    }
    let _ = std::fs::remove_dir_all(&a.work_dir);
    Ok(())
}

/// Seconds since the epoch as ISO-8601 (UTC).
fn iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
