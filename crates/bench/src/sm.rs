//! Service management: two `starling-sm` processes paired over loopback
//! (two paths each), an identity service to check the swact requests'
//! tokens, each controller's "API" a real process SM starts and stops
//! itself (Python's HTTP server on a port of its own, SM waiting until it
//! answers). Measured: each SM's CPU (% of a core) and resident memory
//! while the pair is idle; and over `--sm-swacts` swacts back and forth,
//! the time from the request to the other controller's groups active, and
//! the API-unavailable window — the longest stretch, polling every 5 ms,
//! in which neither controller's API accepts a connection.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::heartbeat::pcts;
use crate::{Args, cpu_secs, free_port, rss_kb};

struct Sm {
    name: String,
    child: Child,
    api: String,
    app_port: u16,
}

impl Drop for Sm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The API process SM started runs in its own process group.
        let _ = Command::new("pkill")
            .args([
                "-f",
                &format!("http.server --bind 127.0.0.1 {}", self.app_port),
            ])
            .status();
    }
}

/// `starling-sm`, beside starlingd unless named.
fn binary(a: &Args) -> std::path::PathBuf {
    a.starling_sm
        .clone()
        .unwrap_or_else(|| a.starlingd.with_file_name("starling-sm"))
}

fn sm_cmd(a: &Args, dir: &Path, node: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(binary(a))
        .arg("--data-dir")
        .arg(dir)
        .args(["--log", "warn", "--node", node])
        .args(args)
        .output()?;
    ensure!(
        out.status.success(),
        "starlingd sm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

const SCRIPT: &str = "#!/bin/sh\ncase \"$1\" in\nstart) touch \"$SM_FLAG\" ;;\nstop) rm -f \"$SM_FLAG\" ;;\nstatus) [ -e \"$SM_FLAG\" ] && exit 0; exit 3 ;;\nesac\n";

/// Sets up and starts controller `i`'s SM.
#[allow(clippy::too_many_arguments)]
fn controller(
    a: &Args,
    root: &Path,
    i: usize,
    paths: [(u16, u16); 2],
    app_port: u16,
    key: &str,
    identity: &str,
) -> Result<Sm> {
    use std::os::unix::fs::PermissionsExt;
    let name = format!("controller-{i}");
    let peer = format!("controller-{}", 1 - i);
    let dir = root.join(&name);
    std::fs::create_dir_all(dir.join("sm"))?;
    let key_file = dir.join("sm/sm.key");
    std::fs::write(&key_file, key)?;
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))?;
    let script = dir.join("flag.sh");
    std::fs::write(&script, SCRIPT)?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let s = script.display().to_string();
    for svc in ["management-ip", "oam-ip"] {
        sm_cmd(a, &dir, &name, &["configure", "plugin", svc, "exec", &s])?;
        let flag = format!("flag={}", dir.join(svc).display());
        sm_cmd(
            a,
            &dir,
            &name,
            &["configure", "service-instance", svc, &flag],
        )?;
    }
    sm_cmd(
        a,
        &dir,
        &name,
        &["configure", "plugin", "starling-api", "process", "api"],
    )?;
    let command = format!("command=python3 -m http.server --bind 127.0.0.1 {app_port}");
    let ready = format!("ready=127.0.0.1:{app_port}");
    sm_cmd(
        a,
        &dir,
        &name,
        &[
            "configure",
            "service-instance",
            "starling-api",
            &command,
            &ready,
        ],
    )?;
    for (iface, (mine, theirs)) in ["management-interface", "cluster-host-interface"]
        .into_iter()
        .zip(paths)
    {
        sm_cmd(
            a,
            &dir,
            &name,
            &[
                "configure",
                "interface",
                iface,
                "--device",
                "lo",
                "--address",
                "127.0.0.1",
                "--peer-address",
                "127.0.0.1",
                "--port",
                &mine.to_string(),
                "--peer-port",
                &theirs.to_string(),
            ],
        )?;
    }
    sm_cmd(a, &dir, &name, &["configure", "set", "PEER_NODE", &peer])?;
    sm_cmd(
        a,
        &dir,
        &name,
        &["configure", "domain", "--wait-ms", "1000"],
    )?;
    let port = free_port()?;
    let child = Command::new(binary(a))
        .arg("--data-dir")
        .arg(&dir)
        .args(["--log", "warn", "--auth-url", identity])
        .env("STARLING_AUTH_PASSWORD", crate::BENCH_PASSWORD)
        .args(["--node", &name, "--sm-listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("sm.log"))?)
        .spawn()
        .context("cannot start starling-sm")?;
    Ok(Sm {
        name,
        child,
        api: format!("http://127.0.0.1:{port}"),
        app_port,
    })
}

/// The state of `sm`'s own groups, as its sm-api says.
async fn own(http: &reqwest::Client, sm: &Sm) -> Vec<String> {
    let Ok(r) = http.get(format!("{}/v1/sm_sda", sm.api)).send().await else {
        return Vec::new();
    };
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v["sm_sda"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|g| g["node_name"] == sm.name.as_str())
                .map(|g| g["state"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn until(http: &reqwest::Client, sm: &Sm, state: &str) -> Result<Duration> {
    let t0 = Instant::now();
    loop {
        let s = own(http, sm).await;
        if s.len() == 2 && s.iter().all(|x| x == state) {
            return Ok(t0.elapsed());
        }
        if t0.elapsed() > Duration::from_secs(60) {
            bail!("{} never {state}: {s:?}", sm.name);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn answers(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(20),
    )
    .is_ok()
}

pub async fn run(a: &Args) -> Result<()> {
    if Command::new("python3").arg("--version").output().is_err() {
        bail!("the sm phase runs python3's HTTP server as each controller's API");
    }
    let root = a.work_dir.join("sm");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)?;
    // An identity service checks the swacts' tokens.
    let id = crate::starling(a, &root.join("identity")).await?;
    let identity = id.identity.clone();
    let token = crate::TOKEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .context("no token")?;
    let key: String = {
        let out = Command::new(binary(a))
            .arg("--data-dir")
            .arg(root.join("keygen"))
            .args(["--log", "warn", "key-generate"])
            .output()?;
        ensure!(out.status.success(), "key-generate failed");
        std::fs::read_to_string(root.join("keygen/sm/sm.key"))?
    };
    let (p, q, r, s) = (free_port()?, free_port()?, free_port()?, free_port()?);
    let (app0, app1) = (free_port()?, free_port()?);
    let c0 = controller(a, &root, 0, [(p, q), (r, s)], app0, &key, &identity)?;
    let c1 = controller(a, &root, 1, [(q, p), (s, r)], app1, &key, &identity)?;
    let http = reqwest::Client::new();
    until(&http, &c1, "active").await?;
    until(&http, &c0, "standby").await?;

    // Idle: CPU and memory.
    let idle = a.sm_idle;
    let before: Vec<f64> = [&c0, &c1].iter().map(|c| cpu_secs(c.child.id())).collect();
    tokio::time::sleep(idle).await;
    let cpu: Vec<f64> = [&c0, &c1]
        .iter()
        .zip(&before)
        .map(|(c, b)| (cpu_secs(c.child.id()) - b) / idle.as_secs_f64() * 100.0)
        .collect();
    let rss: Vec<f64> = [&c0, &c1]
        .iter()
        .map(|c| rss_kb(c.child.id()) as f64 / 1024.0)
        .collect();

    // Swacts back and forth.
    let mut took = Vec::new();
    let mut windows = Vec::new();
    let (mut from, mut to) = (&c1, &c0);
    for _ in 0..a.sm_swacts {
        let (pa, pb) = (from.app_port, to.app_port);
        let polling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let p2 = polling.clone();
        let poller = std::thread::spawn(move || {
            let (mut worst, mut down_since): (Duration, Option<Instant>) = (Duration::ZERO, None);
            while p2.load(std::sync::atomic::Ordering::Relaxed) {
                let up = answers(pa) || answers(pb);
                match (up, down_since) {
                    (false, None) => down_since = Some(Instant::now()),
                    (true, Some(t)) => {
                        worst = worst.max(t.elapsed());
                        down_since = None;
                    }
                    _ => {}
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if let Some(t) = down_since {
                worst = worst.max(t.elapsed());
            }
            worst
        });
        let t0 = Instant::now();
        let r = http
            .patch(format!("{}/v1/servicenode/{}", from.api, from.name))
            .header("x-auth-token", &token)
            .json(&serde_json::json!({"origin": "bench", "action": "swact"}))
            .send()
            .await?;
        let v: Value = r.json().await?;
        ensure!(v["error_code"] == "0", "swact refused: {v}");
        until(&http, to, "active").await?;
        took.push(t0.elapsed());
        until(&http, from, "standby").await?;
        // The API answers on the new side before the window is closed.
        while !answers(to.app_port) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        polling.store(false, std::sync::atomic::Ordering::Relaxed);
        windows.push(poller.join().unwrap_or_default());
        std::mem::swap(&mut from, &mut to);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (t50, t99) = pcts(took);
    let (w50, w99) = pcts(windows);
    println!("| service management (two `starling-sm` over loopback) | measured |");
    println!("|---|---|");
    println!(
        "| idle CPU over {} s, % of a core (controller-0 standby, controller-1 active) | {:.2} / {:.2} |",
        idle.as_secs(),
        cpu[0],
        cpu[1]
    );
    println!("| resident memory, MB | {:.1} / {:.1} |", rss[0], rss[1]);
    println!(
        "| swact: request to the other controller's groups active, p50 / p99 ({} swacts) | {} / {} ms |",
        a.sm_swacts,
        t50.as_millis(),
        t99.as_millis()
    );
    println!(
        "| swact: API-unavailable window (neither controller's API answers), p50 / p99 | {} / {} ms |",
        w50.as_millis(),
        w99.as_millis()
    );
    drop((c0, c1, id));
    Ok(())
}
