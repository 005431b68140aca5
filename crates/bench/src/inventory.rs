//! Inventory at scale: a fresh starlingd per host count; the hosts are
//! bulk-added from a hosts file, then every host's agent (simulated: the
//! agent's own requests, register and a full report of a dual-socket
//! server) reports at once; then the host list is timed over the API and
//! through the real `system` binary. Last, the real agent runs on this
//! machine against the same controller: CPU time per audit cycle and RSS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::{Args, BENCH_PASSWORD, Server, client, cpu_secs, free_port, rss_kb, rss_sampler};

/// CPU time of a process and of its children it waited for (lldpcli), in seconds.
fn cpu_with_children(pid: u32) -> f64 {
    crate::stat_ticks(pid, 11..=14)
}

/// A dual-socket server as its agent reports it: 2 NUMA nodes, 2×16 cores
/// with 2 threads (64 CPUs), memory with huge pages per node, 2 SSDs and 2
/// NVMe drives with 6 partitions, 6 ports (2 × 1G onboard, 4 × 25G), 24 PCI
/// devices, LLDP on every port — 118 hardware rows.
pub fn server_report(i: usize) -> Value {
    let model = "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz";
    let cpus: Vec<Value> = (0..64u32)
        .map(|cpu| {
            // Linux numbering: threads 0 first on every core of both sockets.
            let (thread, rest) = (cpu / 32, cpu % 32);
            let (node, core) = (rest / 16, rest % 16);
            json!({"cpu": cpu, "core": core, "thread": thread, "numa_node": node,
                   "cpu_family": "6", "cpu_model": model,
                   "capabilities": {}})
        })
        .collect();
    let memory: Vec<Value> = (0..2)
        .map(|n| {
            json!({"numa_node": n, "memtotal_mib": 245_760, "memavail_mib": 230_000,
                   "platform_reserved_mib": 8000, "node_memtotal_mib": 262_144,
                   "vm_hugepages_nr_2M": 20_480, "vm_hugepages_avail_2M": 20_000,
                   "vm_hugepages_nr_1G": 64, "vm_hugepages_avail_1G": 64,
                   "vm_hugepages_use_1G": true,
                   "vm_hugepages_possible_2M": 117_000, "vm_hugepages_possible_1G": 228})
        })
        .collect();
    let mut disks = Vec::new();
    let mut parts = Vec::new();
    let drives = [
        ("/dev/sda", 2048, "SSD", "pci-0000:00:17.0-ata-1", 457_862),
        ("/dev/sdb", 2064, "SSD", "pci-0000:00:17.0-ata-2", 457_862),
        (
            "/dev/nvme0n1",
            66_304,
            "NVME",
            "pci-0000:5e:00.0-nvme-1",
            3_815_447,
        ),
        (
            "/dev/nvme1n1",
            66_305,
            "NVME",
            "pci-0000:d8:00.0-nvme-1",
            3_815_447,
        ),
    ];
    for (d, (node, num, kind, path, size)) in drives.iter().enumerate() {
        let path = format!("/dev/disk/by-path/{path}");
        disks.push(
            json!({"device_node": node, "device_num": num, "device_type": kind,
            "device_id": format!("{kind}-SN{i:06}{d}"), "device_path": path,
            "device_wwn": format!("0x5000c500{i:08x}{d}"), "size_mib": size,
            "available_mib": size / 2, "rpm": "Undetermined",
            "serial_id": format!("SN{i:06}{d}")}),
        );
        if d < 2 {
            let sep = if node.starts_with("/dev/nvme") {
                "p"
            } else {
                ""
            };
            let mut start = 1;
            for (p, len) in [(1u64, 512u64), (2, 20_480), (3, 204_800)] {
                parts.push(json!({"device_node": format!("{node}{sep}{p}"),
                    "device_path": format!("{path}-part{p}"), "disk_path": path,
                    "start_mib": start, "end_mib": start + len, "size_mib": len, "status": 1,
                    "type_guid": "0fc63daf-8483-4772-8e79-3d69d8477de4",
                    "type_name": "Linux filesystem"}));
                start += len;
            }
        }
    }
    let ports: Vec<Value> = (0..6usize)
        .map(|p| {
            let (name, pci, dev, driver, speed, node) = if p < 2 {
                (
                    format!("eno{}", p + 1),
                    format!("0000:3d:00.{p}"),
                    "Ethernet Connection X722 for 10GBASE-T",
                    "i40e",
                    1000,
                    0,
                )
            } else {
                let k = p - 2;
                (
                    format!("ens{}f{}", 1 + k / 2, k % 2),
                    format!("0000:{:02x}:00.{}", if k < 2 { 0x5f } else { 0xd9 }, k % 2),
                    "Ethernet Controller E810-XXV for SFP",
                    "ice",
                    25_000,
                    (k / 2) as i64,
                )
            };
            json!({"name": name, "pciaddr": pci, "pclass": "Ethernet controller",
                   "pvendor": "Intel Corporation", "pdevice": dev, "numa_node": node,
                   "dev_id": 0, "driver": driver, "sriov_totalvfs": 64, "sriov_numvfs": 0,
                   "mac": format!("02:bb:{:02x}:{:02x}:{:02x}:{p:02x}", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff),
                   "mtu": 1500, "speed": speed, "link_mode": "0", "autoneg": "Yes",
                   "bootp": p == 0})
        })
        .collect();
    let pci: Vec<Value> = (0..24usize)
        .map(|d| {
            let (bus, class_id, class, dev_id, dev) = match d % 4 {
                0 => (
                    0x3d,
                    "020000",
                    "Ethernet controller",
                    "37d2",
                    "Ethernet Connection X722",
                ),
                1 => (
                    0x5f,
                    "020000",
                    "Ethernet controller",
                    "159b",
                    "Ethernet Controller E810-XXV",
                ),
                2 => (
                    0x5e,
                    "010802",
                    "Non-Volatile memory controller",
                    "0a54",
                    "NVMe Datacenter SSD",
                ),
                _ => (0x6b, "0b4000", "Co-processor", "4940", "QuickAssist 4xxx"),
            };
            let addr = format!("0000:{bus:02x}:{:02x}.{}", d / 4, d % 2);
            json!({"name": format!("pci_{}", addr.replace([':', '.'], "_")),
                   "pciaddr": addr, "pclass_id": class_id, "pvendor_id": "8086",
                   "pdevice_id": dev_id, "pclass": class, "pvendor": "Intel Corporation",
                   "pdevice": dev, "numa_node": (d / 12) as i64, "enabled": true})
        })
        .collect();
    let port_names: Vec<String> = ports
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    let lldp_agents: Vec<Value> = port_names
        .iter()
        .map(|p| {
            json!({"port_name": p, "status": "rx=enabled,tx=enabled",
                        "system_name": format!("compute-{i}")})
        })
        .collect();
    let lldp_neighbours: Vec<Value> = port_names
        .iter()
        .take(4)
        .enumerate()
        .map(|(k, p)| {
            let chassis = format!("00:1c:73:{:02x}:{:02x}:{k:02x}", i >> 8 & 0xff, i & 0xff);
            json!({"port_name": p, "msap": format!("{chassis},Ethernet{k}/1"),
                   "chassis_id": chassis, "port_identifier": format!("Ethernet{k}/1"),
                   "port_description": format!("to compute-{i}"),
                   "system_name": format!("leaf-{}", i / 48), "ttl": 120})
        })
        .collect();
    json!({
        "inodes": [{"numa_node": 0}, {"numa_node": 1}],
        "icpus": cpus, "imemorys": memory, "idisks": disks, "partitions": parts,
        "ports": ports, "pci_devices": pci, "lldp_agents": lldp_agents,
        "lldp_neighbours": lldp_neighbours, "uptime": 86_400,
    })
}

pub(crate) fn mgmt_mac(i: usize) -> String {
    format!(
        "02:aa:00:{:02x}:{:02x}:{:02x}",
        i >> 16 & 0xff,
        i >> 8 & 0xff,
        i & 0xff
    )
}

/// The hosts file for `n` workers (YAML, as host-bulk-add takes it).
pub(crate) fn hosts_file(n: usize) -> String {
    let mut s = String::from("hosts:\n");
    for i in 0..n {
        s.push_str(&format!(
            "- hostname: compute-{i}\n  personality: worker\n  mgmt_mac: {}\n  location: rack {}\n",
            mgmt_mac(i),
            i / 40
        ));
    }
    s
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn pcts(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    let at = |p: f64| d[((d.len() as f64 * p) as usize).min(d.len() - 1)];
    (at(0.50), at(0.99))
}

/// A fresh Standard duplex starlingd with its inventory API.
/// A controller for `dir`: the server, its inventory URL and its
/// maintenance URL.
pub(crate) async fn controller(
    a: &Args,
    dir: &Path,
) -> Result<(Server, String, String, crate::recovery::Host)> {
    let port = free_port()?;
    let mtce = free_port()?;
    let s = crate::starling_with(
        a,
        dir,
        &[
            "--system-mode",
            "duplex",
            "--system-type",
            "Standard",
            "--inventory-port",
            &port.to_string(),
            "--mtce-port",
            &mtce.to_string(),
            // Every agent at once: more connections than the default cap
            // of one listener (the storm measures the server, not the cap).
            "--max-connections",
            "4096",
        ],
    )
    .await?;
    let inv = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{inv}/health")).await.is_err() {
        ensure!(Instant::now() < deadline, "inventory never answered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Hosts are bulk-added for a controller in service to manage:
    // controller-0, added, enrolled and inventoried by a full report,
    // its heartbeat answered here, unlocked and enabled by maintenance.
    let mtce_url = format!("http://127.0.0.1:{mtce}");
    let secret = std::fs::read_to_string(dir.join("agent-enrollment"))?
        .trim()
        .to_string();
    let c0 = crate::recovery::Host::enroll(
        &inv,
        &mtce_url,
        &secret,
        "controller-0",
        "controller",
        "02:bb:00:00:00:01",
        &server_report(0xff_ffff),
    )
    .await?;
    crate::recovery::unlock_and_enable(&inv, "controller-0").await?;
    Ok((s, inv, mtce_url, c0))
}

/// One simulated agent: registers by hostname and MAC, sends its full report.
async fn agent(http: reqwest::Client, inv: Arc<str>, i: usize, report: Value) -> Result<()> {
    let r = http
        .post(format!("{inv}/v1/agent/register"))
        .json(&json!({"hostname": format!("compute-{i}"), "mgmt_mac": mgmt_mac(i)}))
        .send()
        .await?;
    ensure!(r.status().is_success(), "register {i}: {}", r.status());
    let v: Value = r.json().await?;
    let uuid = v["uuid"].as_str().context("registration without uuid")?;
    let r = http
        .put(format!("{inv}/v1/agent/{uuid}/report"))
        .json(&report)
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "report {i}: {} {}",
        r.status(),
        r.text().await.unwrap_or_default()
    );
    Ok(())
}

/// Hosts whose inventory is complete.
async fn inventoried(inv: &str) -> Result<usize> {
    let v: Value = client()
        .get(format!("{inv}/v1/ihosts?personality=worker&limit=1000"))
        .send()
        .await?
        .json()
        .await?;
    Ok(v["ihosts"]
        .as_array()
        .map(|a| a.iter().filter(|h| h["inv_state"] == "inventoried").count())
        .unwrap_or(0))
}

fn system_binary(a: &Args) -> PathBuf {
    a.system
        .clone()
        .unwrap_or_else(|| a.starlingd.with_file_name("system"))
}

/// Runs the inventory measurements and prints their table.
pub async fn run(a: &Args) -> Result<()> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let system = system_binary(a);
    if !system.exists() {
        bail!(
            "{} not found: build it with cargo build --release -p starling-cli",
            system.display()
        );
    }
    let token = || {
        crate::TOKEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default()
    };
    let mut last: Option<(Server, String, PathBuf, String)> = None;
    for &n in &a.hosts {
        eprintln!("inventory: {n} hosts");
        drop(last.take());
        let dir = a.work_dir.join(format!("inv-{n}"));
        let (s, inv, mtce, _controller_0) = controller(a, &dir).await?;

        // Provisioning: one hosts file.
        let t0 = Instant::now();
        let r = client()
            .post(format!("{inv}/v1/ihosts/bulk_add"))
            .header("content-type", "application/yaml")
            .body(hosts_file(n))
            .send()
            .await?;
        ensure!(r.status().is_success(), "bulk add: {}", r.text().await?);
        rows.push((format!("host-bulk-add of {n} hosts"), ms(t0.elapsed())));

        // Every agent at once.
        let reports: Vec<Value> = (0..n).map(server_report).collect();
        let http = client();
        let inv_arc: Arc<str> = Arc::from(inv.as_str());
        let (stop, peak) = rss_sampler(s.child.id());
        let cpu0 = cpu_secs(s.child.id());
        let t0 = Instant::now();
        let tasks: Vec<_> = reports
            .into_iter()
            .enumerate()
            .map(|(i, rep)| tokio::spawn(agent(http.clone(), inv_arc.clone(), i, rep)))
            .collect();
        for t in tasks {
            t.await??;
        }
        let done = inventoried(&inv).await?;
        let took = t0.elapsed();
        let cpu = cpu_secs(s.child.id()) - cpu0;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak_kb = peak.join().unwrap_or(0);
        ensure!(done == n, "only {done} of {n} hosts inventoried");
        rows.push((
            format!("{n} agents register and report at once → all inventoried"),
            format!(
                "{} ({:.0} hosts/s; server CPU {:.1} s; RSS peak {:.1} MB)",
                ms(took),
                n as f64 / took.as_secs_f64(),
                cpu,
                peak_kb as f64 / 1024.0
            ),
        ));

        // The host list over the API, as `system host-list` asks for it.
        let url = format!("{inv}/v1/ihosts");
        let (p50, p99, size) = crate::latency(&url, a.samples).await?;
        rows.push((
            format!("GET /v1/ihosts, {n} hosts"),
            format!(
                "p50 {p50:.1} ms, p99 {p99:.1} ms ({:.0} kB)",
                size as f64 / 1024.0
            ),
        ));
        // And through the real CLI: process start, request, table.
        let mut d = Vec::new();
        for _ in 0..a.cli_samples {
            let t0 = Instant::now();
            let out = Command::new(&system)
                .arg("host-list")
                .env("SYSTEM_URL", format!("{inv}/v1"))
                .env("OS_AUTH_TOKEN", token())
                .stdin(Stdio::null())
                .output()?;
            d.push(t0.elapsed());
            ensure!(
                out.status.success(),
                "system host-list: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            ensure!(
                out.stdout.len() > n * 40,
                "system host-list printed too little"
            );
        }
        let (p50, p99) = pcts(d);
        rows.push((
            format!("system host-list, {n} hosts (whole process)"),
            format!("p50 {}, p99 {}", ms(p50), ms(p99)),
        ));
        rows.push((
            format!("starlingd RSS with {n} hosts"),
            format!("{:.1} MB", rss_kb(s.child.id()) as f64 / 1024.0),
        ));
        last = Some((s, inv, dir, mtce));
    }

    // The real agent on this machine, against the last controller: the
    // host binary, and the same agent inside the multi-call daemon.
    if let Some((s, inv, dir, mtce)) = &last {
        let agent = a.starlingd.with_file_name("starling-agent");
        if !agent.exists() {
            bail!(
                "{} not found: build it with cargo build --release -p starling-server",
                agent.display()
            );
        }
        // Inventory's agent alone: no maintenance, no process or resource
        // monitor.
        eprintln!("inventory: starling-agent on this machine");
        let mut c = Command::new(&agent);
        c.args(monitors_off());
        agent_cycle(a, s, inv, &mut rows, "starling-agent", c).await?;
        // The same with its own credential and what maintenance adds: its
        // heartbeat responder registered (this machine's host is locked,
        // so not pulsed: the responder's standing cost), a process monitor
        // watching five daemons, and the resource monitor reading every
        // second.
        eprintln!("inventory: starling-agent with its heartbeat responder and monitors");
        let secret = std::fs::read_to_string(dir.join("agent-enrollment"))
            .context("the controller's enrollment secret")?;
        let pmon = a.work_dir.join("pmon.d");
        let _daemons = Daemons::start(&pmon, 5)?;
        let mut c = Command::new(&agent);
        c.args(["--mtce-url", mtce])
            .args(["--heartbeat-port", &free_port()?.to_string()])
            .arg("--state-dir")
            .arg(a.work_dir.join("agent-state"))
            .arg("--pmon-dir")
            .arg(&pmon)
            .args(["--resource-interval", "1s"])
            .env("STARLING_AGENT_ENROLLMENT", secret.trim());
        agent_cycle(
            a,
            s,
            inv,
            &mut rows,
            "starling-agent + heartbeat, pmon (5 processes), resource monitor",
            c,
        )
        .await?;
        eprintln!("inventory: starlingd agent on this machine");
        let mut c = Command::new(&a.starlingd);
        c.arg("agent").args(monitors_off());
        agent_cycle(a, s, inv, &mut rows, "starlingd agent", c).await?;
    }
    drop(last);

    eprintln!("inventory: audit cycles in-process");
    audit_in_process(a.agent_cycles * 10, &mut rows)?;

    println!("| measurement | Starling (SQLite) |");
    println!("|---|---|");
    for (what, v) in rows {
        println!("| {what} | {v} |");
    }
    Ok(())
}

/// Starts `starlingd agent` (discovering this machine, `/`) and measures
/// its first full report and then `a.agent_cycles` audit cycles.
async fn agent_cycle(
    a: &Args,
    s: &Server,
    inv: &str,
    rows: &mut Vec<(String, String)>,
    name: &str,
    mut cmd: Command,
) -> Result<()> {
    let log = a.work_dir.join("agent.log");
    // An identity login unless the agent enrolls with its own credential.
    let enrolled = cmd
        .get_envs()
        .any(|(k, _)| k == "STARLING_AGENT_ENROLLMENT");
    if !enrolled {
        cmd.args(["--auth-url", &format!("{}/v3", s.identity)])
            .env("STARLING_AUTH_PASSWORD", BENCH_PASSWORD);
    }
    let mut child = cmd
        .args(["--inventory-url", inv])
        .args(["--interval", "1s", "--log", "debug"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    let pid = child.id();
    let lines = |what: &str| {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().filter(|l| l.contains(what)).count())
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    while lines("inventory reported") == 0 {
        if let Ok(Some(st)) = child.try_wait() {
            bail!("the agent exited: {st}; see {}", log.display());
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            bail!("the agent never reported; see {}", log.display());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = cpu_with_children(pid);
    let first_rss = rss_kb(pid);
    let c0 = lines("audit cycle");
    tokio::time::sleep(Duration::from_secs(a.agent_cycles as u64) + Duration::from_millis(500))
        .await;
    let cycles = lines("audit cycle") - c0;
    let cpu = cpu_with_children(pid) - first;
    let rss = rss_kb(pid);
    let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    ensure!(cycles > 0, "no audit cycle seen; see {}", log.display());
    rows.push((
        format!("{name}: start, log in, register, discover and report this machine in full (CPU)"),
        // /proc counts CPU in 10 ms ticks.
        if first < 0.01 {
            "< 10 ms (under one clock tick)".to_string()
        } else {
            format!("{:.0} ms", first * 1000.0)
        },
    ));
    rows.push((
        format!("{name}: one audit cycle, nothing changed (CPU, mean of {cycles})"),
        format!("{:.2} ms", cpu * 1000.0 / cycles as f64),
    ));
    rows.push((
        format!("{name}: RSS after the first report / after the cycles / peak"),
        format!(
            "{:.1} / {:.1} / {:.1} MB",
            first_rss as f64 / 1024.0,
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        ),
    ));
    Ok(())
}

/// CPU time of the calling thread (nanoseconds on the CPU, from schedstat).
pub(crate) fn thread_cpu_ns() -> Result<u64> {
    let t = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    t.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .context("unreadable /proc/thread-self/schedstat")
}

/// Children's CPU time (lldpcli) of this process so far, in seconds.
fn children_cpu() -> f64 {
    crate::stat_ticks(std::process::id(), 13..=14)
}

/// What one audit cycle does, `n` times on this thread, with nanosecond
/// CPU accounting: discover this machine, ask lldpd, compare with the last
/// report.
fn audit_in_process(n: usize, rows: &mut Vec<(String, String)>) -> Result<()> {
    let root = starling_agent::Root::new(Path::new("/"));
    let lldpcli = vec!["lldpcli".to_string()];
    let cycle =
        |root: &starling_agent::Root| -> Result<starling_inventory_types::hardware::Report> {
            let mut r = starling_agent::report(root).map_err(anyhow::Error::msg)?;
            if let Some((agents, neighbours)) = starling_agent::lldp::read(&lldpcli) {
                starling_agent::discover::with_lldp(&mut r, agents, neighbours);
            }
            Ok(r)
        };
    let mut last = cycle(&root)?;
    let (c0, k0, t0) = (thread_cpu_ns()?, children_cpu(), Instant::now());
    let mut changed = 0;
    for _ in 0..n {
        let now = cycle(&root)?;
        if starling_agent::changes(Some(&last), &now).is_some() {
            changed += 1;
        }
        last = now;
    }
    let own = (thread_cpu_ns()? - c0) as f64 / 1e6 / n as f64;
    let kids = (children_cpu() - k0) * 1000.0 / n as f64;
    let wall = t0.elapsed().as_secs_f64() * 1000.0 / n as f64;
    rows.push((
        format!("one audit cycle in-process: discover this machine, ask lldpd, compare (mean of {n}; {changed} saw a change)"),
        format!("{own:.2} ms CPU (+ {kids:.2} ms in lldpcli), {wall:.2} ms wall"),
    ));
    Ok(())
}

/// An agent's options with no process or resource monitor (its pmon.d
/// directory one that does not exist).
fn monitors_off() -> impl Iterator<Item = &'static str> {
    ["--pmon-dir", "/nonexistent/starling-bench/pmon.d"]
        .into_iter()
        .chain(starling_testkit::QUIET_RESOURCES)
}

/// Daemons (`sleep`) for the process monitor to watch, each with its
/// pmon.d file; killed on drop.
struct Daemons(Vec<std::process::Child>);

impl Daemons {
    fn start(dir: &std::path::Path, n: usize) -> Result<Daemons> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
        let mut children = Vec::new();
        for i in 0..n {
            let child = std::process::Command::new("sleep").arg("3600").spawn()?;
            let pidfile = dir.join(format!("d{i}.pid"));
            std::fs::write(&pidfile, format!("{}\n", child.id()))?;
            std::fs::write(
                dir.join(format!("d{i}.conf")),
                format!(
                    "[process]\nprocess = d{i}\nscript = /bin/true\npidfile = {}\nseverity = major\nrestarts = 3\n",
                    pidfile.display()
                ),
            )?;
            children.push(child);
        }
        Ok(Daemons(children))
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use starling_inventory::hardware::check_report;
    use starling_inventory_types::hardware::Report;

    #[test]
    fn the_simulated_server_is_a_report_inventory_accepts() {
        for i in [0, 1, 999, 70_000] {
            let r: Report = serde_json::from_value(server_report(i)).unwrap();
            let r = starling_inventory_api::convert::report(r);
            check_report(&r).unwrap();
            assert!(r.is_full());
            let rows = [
                r.inodes.as_ref().unwrap().len(),
                r.icpus.as_ref().unwrap().len(),
                r.imemorys.as_ref().unwrap().len(),
                r.idisks.as_ref().unwrap().len(),
                r.partitions.as_ref().unwrap().len(),
                r.ports.as_ref().unwrap().len(),
                r.pci_devices.as_ref().unwrap().len(),
                r.lldp_agents.as_ref().unwrap().len(),
                r.lldp_neighbours.as_ref().unwrap().len(),
            ];
            assert_eq!(rows, [2, 64, 2, 4, 6, 6, 24, 6, 4]);
        }
        // Every host's MACs are its own.
        assert_ne!(
            server_report(1)["ports"][0]["mac"],
            server_report(2)["ports"][0]["mac"]
        );
        assert_ne!(mgmt_mac(1), mgmt_mac(256));
        assert!(hosts_file(3).contains("compute-2"));
    }
}
