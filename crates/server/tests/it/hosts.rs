//! Several hosts on one machine: the real `starlingd` as the controller and
//! three `starling-agent`s, each in a network namespace of its own (its own
//! `eth0` carrying its management MAC, bridged to the controller's address)
//! with its own hostname and fixture root. They register and report, the
//! operator provisions, unlocks, locks and reboots them with the real
//! `system` CLI, an audit carries a hardware change, and the alarms and
//! events are read back with the real `fm` CLI.
//!
//! Namespaces need root and iproute2. Without them the agents run as plain
//! processes over loopback (the same test otherwise) and the test says so;
//! with STARLING_REQUIRE_NETNS=1 (CI) that is a failure instead.

use std::collections::BTreeMap;

use super::*;

/// The `fm` and `system` binaries: built beside starlingd by
/// `cargo test --workspace` (the README's test command), which builds every
/// binary of the workspace before running any test.
fn cli_binary(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_BIN_EXE_starlingd")).with_file_name(name);
    assert!(
        p.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds the CLIs",
        p.display()
    );
    p
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn have_ip() -> bool {
    ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip", "/bin/ip"]
        .iter()
        .any(|p| Path::new(p).exists())
}

/// Whether network namespaces can be made here (root and iproute2);
/// where they cannot, STARLING_REQUIRE_NETNS (CI) makes that a failure
/// saying `why`.
pub(super) fn namespaces(why: &str) -> bool {
    let ok = is_root() && have_ip();
    if !ok {
        assert!(
            std::env::var_os("STARLING_REQUIRE_NETNS").is_none(),
            "STARLING_REQUIRE_NETNS is set but {why}"
        );
    }
    ok
}

pub(super) fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One simulated host: its name as its agent tells it, its management MAC,
/// its copy of the fixture tree and (with namespaces) its namespace.
#[derive(Clone)]
struct Machine {
    hostname: String,
    mac: String,
    root: PathBuf,
    ns: Option<String>,
    /// Where its action command writes what it ran.
    ran: PathBuf,
    /// Its address on the cluster-host network, when the lab has one.
    cluster_ip: Option<String>,
    /// Its process monitor's pmon.d directory (empty unless a test fills
    /// it).
    pmon: PathBuf,
}

impl Machine {
    /// Where its agent keeps its credential.
    fn state_dir(&self) -> PathBuf {
        self.root.with_file_name(format!("{}-state", self.hostname))
    }
}

/// Agents, namespaces and the bridge; all removed on drop.
struct Lab {
    machines: Vec<Machine>,
    agents: Vec<Child>,
    bridges: Vec<String>,
    dir: PathBuf,
    lab_no: u32,
    /// A reboot its action command runs stops the agent, as a real reboot
    /// would (otherwise it is only written down).
    reboot_stops: bool,
    /// The agents' resource monitor options (none: the machine's own
    /// resources unwatched).
    resource_args: Vec<String>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for a in &mut self.agents {
            let _ = a.kill();
            let _ = a.wait();
        }
        for m in &self.machines {
            if let Some(ns) = &m.ns {
                let _ = Command::new("ip").args(["netns", "del", ns]).status();
            }
        }
        for b in &self.bridges {
            let _ = Command::new("ip").args(["link", "del", b]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const ETH0: &str = starling_testkit::FIXTURE_ETH0;

impl Lab {
    /// Hosts named `names`, each with a copy of the fixture tree telling its
    /// own hostname and MAC; in namespaces bridged to `gateway/24` when
    /// `netns` is given as (bridge, gateway).
    fn new(names: &[&str], netns: Option<(&str, &str)>) -> Lab {
        let dir = tmpdir();
        let pid = std::process::id();
        // Labs of one test process run at once: each names its own.
        static LABS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let lab_no = LABS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut lab = Lab {
            machines: Vec::new(),
            agents: Vec::new(),
            bridges: Vec::new(),
            dir: dir.clone(),
            lab_no,
            reboot_stops: false,
            resource_args: Vec::new(),
        };
        if let Some((bridge, gw)) = netns {
            ip(&["link", "add", bridge, "type", "bridge"]);
            lab.bridges.push(bridge.to_string());
            ip(&["addr", "add", &format!("{gw}/24"), "dev", bridge]);
            ip(&["link", "set", bridge, "up"]);
        }
        for (i, name) in names.iter().enumerate() {
            let root = dir.join(name);
            let mac = format!("02:fc:00:00:01:{:02x}", i + 1);
            starling_testkit::host_root(&root, name, &mac);
            // Recorded before the namespace exists, so a failure below still
            // removes it on drop.
            let ns = netns.map(|_| format!("stl{lab_no}-{name}-{pid}"));
            lab.machines.push(Machine {
                hostname: name.to_string(),
                mac: mac.clone(),
                root,
                ns: ns.clone(),
                ran: dir.join(format!("{name}.ran")),
                cluster_ip: None,
                pmon: dir.join(format!("{name}.pmon.d")),
            });
            std::fs::create_dir_all(dir.join(format!("{name}.pmon.d"))).unwrap();
            if let (Some(ns), Some((bridge, gw))) = (ns, netns) {
                let (outer, inner) = (
                    format!("stl{lab_no}h{i}{pid}"),
                    format!("stl{lab_no}p{i}{pid}"),
                );
                ip(&["netns", "add", &ns]);
                ip(&[
                    "link", "add", &outer, "type", "veth", "peer", "name", &inner,
                ]);
                ip(&["link", "set", &outer, "master", bridge]);
                ip(&["link", "set", &outer, "up"]);
                ip(&["link", "set", &inner, "netns", &ns]);
                ip(&["-n", &ns, "link", "set", &inner, "name", "eth0"]);
                ip(&["-n", &ns, "link", "set", "eth0", "address", &mac]);
                let net = gw.rsplit_once('.').unwrap().0;
                let addr = format!("{net}.{}/24", 10 + i);
                ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
                ip(&["-n", &ns, "link", "set", "eth0", "up"]);
                ip(&["-n", &ns, "link", "set", "lo", "up"]);
            }
        }
        lab
    }

    /// A cluster-host network: a second bridge at `gateway/24` (the
    /// controller's address there) and each namespace's `eth1` on it.
    fn add_cluster(&mut self, bridge: &str, gateway: &str) {
        ip(&["link", "add", bridge, "type", "bridge"]);
        self.bridges.push(bridge.to_string());
        ip(&["addr", "add", &format!("{gateway}/24"), "dev", bridge]);
        ip(&["link", "set", bridge, "up"]);
        let pid = std::process::id();
        let net = gateway.rsplit_once('.').unwrap().0.to_string();
        for (i, m) in self.machines.iter_mut().enumerate() {
            let ns = m.ns.clone().expect("a cluster network needs namespaces");
            let (outer, inner) = (
                format!("stl{}c{i}{pid}", self.lab_no),
                format!("stl{}q{i}{pid}", self.lab_no),
            );
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ]);
            ip(&["link", "set", &outer, "master", bridge]);
            ip(&["link", "set", &outer, "up"]);
            ip(&["link", "set", &inner, "netns", &ns]);
            ip(&["-n", &ns, "link", "set", &inner, "name", "eth1"]);
            let addr = format!("{net}.{}", 10 + i);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth1",
            ]);
            ip(&["-n", &ns, "link", "set", "eth1", "up"]);
            m.cluster_ip = Some(addr);
        }
    }

    /// Every host of the lab a worker: bulk-added from a hosts file (by
    /// name and MAC), its agent started, and online.
    fn provision_workers(&mut self, s: &AllInOne) {
        let entries: String = self
            .machines
            .iter()
            .map(|m| {
                format!(
                    "- hostname: {}\n  personality: worker\n  mgmt_mac: {}\n",
                    m.hostname, m.mac
                )
            })
            .collect();
        let hosts_file = self.dir.join("hosts.yaml");
        std::fs::write(&hosts_file, format!("hosts:\n{entries}")).unwrap();
        cli_ok(
            s,
            "system",
            &["host-bulk-add", &hosts_file.display().to_string()],
        );
        self.start_agents(s);
        let names: Vec<String> = self.machines.iter().map(|m| m.hostname.clone()).collect();
        wait_for(
            "the hosts online",
            || host_states(s),
            |h| {
                names
                    .iter()
                    .all(|n| h.get(n).is_some_and(|st| st.2 == "online"))
            },
        );
    }

    /// Starts every host's agent (`starling-agent`, the agent binary for
    /// hosts) against the controller.
    fn start_agents(&mut self, s: &AllInOne) {
        for i in 0..self.machines.len() {
            let c = self.agent_command(s, i);
            self.agents.push(c);
        }
    }

    /// Host `i` stops (its power off): its agent stops.
    fn stop(&mut self, i: usize) {
        let _ = self.agents[i].kill();
        let _ = self.agents[i].wait();
    }

    /// Host `i` restarts (as a reset does): its agent stops, its link comes
    /// back up (a boot configures it again) and a new agent starts, with
    /// the credential it kept.
    fn reboot(&mut self, s: &AllInOne, i: usize) {
        let _ = self.agents[i].kill();
        let _ = self.agents[i].wait();
        if let Some(ns) = &self.machines[i].ns {
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
            if self.machines[i].cluster_ip.is_some() {
                ip(&["-n", ns, "link", "set", "eth1", "up"]);
            }
        }
        self.agents[i] = self.agent_command(s, i);
    }

    /// Host `i`'s agent, started.
    fn agent_command(&self, s: &AllInOne, i: usize) -> Child {
        let m = &self.machines[i];
        let agent = env!("CARGO_BIN_EXE_starling-agent");
        let secret = std::fs::read_to_string(s.d.dir.join("agent-enrollment"))
            .expect("the controller's enrollment secret")
            .trim()
            .to_string();
        let action = self.dir.join(format!("{}.action", m.hostname));
        std::fs::write(
            &action,
            format!(
                "#!/bin/sh\necho \"$1 $STARLING_HOST_UUID\" >> '{}'\n{}",
                m.ran.display(),
                if self.reboot_stops {
                    "if [ \"$1\" = reboot ]; then kill -9 $PPID; fi\n"
                } else {
                    ""
                }
            ),
        )
        .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&action, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut c = match &m.ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, agent]);
                c
            }
            None => Command::new(agent),
        };
        // Each enrolls with the controller's secret (no cloud user's
        // password on the hosts) and keeps its own credential. Heartbeat
        // responders: each namespace has an address of its own; on
        // loopback each agent takes a port of its own.
        let port = if m.ns.is_some() { 2106 } else { free_port() };
        c.args(["--inventory-url", &s.inventory])
            .args(["--mtce-url", &s.mtce])
            .args(["--heartbeat-port", &port.to_string()])
            .args(["--interval", "1s", "--action-timeout", "10s"])
            .arg("--root")
            .arg(&m.root)
            .arg("--state-dir")
            .arg(m.state_dir())
            .arg("--action-command")
            .arg(&action)
            .arg("--pmon-dir")
            .arg(&m.pmon)
            .args(if self.resource_args.is_empty() {
                QUIET_RESOURCES.iter().map(|s| s.to_string()).collect()
            } else {
                self.resource_args.clone()
            });
        if let Some(ip) = &m.cluster_ip {
            c.args(["--cluster-address", ip]);
        }
        scrub_env(&mut c, &[("STARLING_AGENT_ENROLLMENT", &secret)]);
        c.spawn().unwrap()
    }

    fn machine(&self, hostname: &str) -> &Machine {
        self.machines
            .iter()
            .find(|m| m.hostname == hostname)
            .unwrap()
    }
}

const PASSWORD: &str = "Adm1n!pass";

/// Runs a CLI (`fm` or `system`) as an operator would: credentials in the
/// OS_* variables, endpoints from the service catalog.
pub(crate) fn cli(s: &AllInOne, bin: &str, args: &[&str]) -> (i32, String, String) {
    let mut c = Command::new(cli_binary(bin));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") || k == "SYSTEM_URL" || k == "FM_URL" {
            c.env_remove(k);
        }
    }
    c.env("OS_AUTH_URL", format!("{}/v3", s.identity))
        .env("OS_USERNAME", "admin")
        .env("OS_PASSWORD", PASSWORD)
        .env("OS_PROJECT_NAME", "admin")
        .env("OS_USER_DOMAIN_NAME", "Default")
        .env("OS_PROJECT_DOMAIN_NAME", "Default")
        .env("CLI_CONFIRMATIONS", "0");
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

pub(crate) fn cli_ok(s: &AllInOne, bin: &str, args: &[&str]) -> String {
    let (code, out, err) = cli(s, bin, args);
    assert_eq!(code, 0, "{bin} {args:?}: {err}");
    out
}

pub(crate) fn cli_json(s: &AllInOne, bin: &str, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let out = cli_ok(s, bin, &a);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{bin} {args:?}: {e}: {out}"))
}

/// Polls `what` (with its latest value in the message) until `done`.
pub(crate) fn wait_for<T: std::fmt::Debug>(
    what: &str,
    mut get: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let t0 = Instant::now();
    loop {
        let v = get();
        if done(&v) {
            return v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{what}: still {v:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The host list as hostname (or id for an unprovisioned host) →
/// (administrative, operational, availability).
/// controller-0 in service, as host-bulk-add requires: this machine, found
/// and inventoried by the all-in-one's own agent, unlocked, then tested
/// (its heartbeat soak) and enabled by host maintenance.
fn controller_in_service(s: &AllInOne) {
    let show = || cli(s, "system", &["host-show", "controller-0"]).1;
    wait_for("controller-0 inventoried by its agent", show, |out| {
        out.contains("inventoried")
    });
    let out = cli_ok(s, "system", &["host-unlock", "controller-0"]);
    assert!(out.contains("intest"), "{out}");
    wait_for("controller-0 enabled by maintenance", show, |out| {
        out.contains("| availability           | available")
            && out.contains("| operational            | enabled")
    });
}

/// The lab's hosts (controller-0 left out) by name: (admin, oper, avail).
fn host_states(s: &AllInOne) -> BTreeMap<String, (String, String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    cli_json(s, "system", &["host-list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let name = match &h["hostname"] {
                Value::String(n) if n != "None" => n.clone(),
                _ => format!("id {}", text(&h["id"])),
            };
            (
                name,
                (
                    text(&h["administrative"]),
                    text(&h["operational"]),
                    text(&h["availability"]),
                ),
            )
        })
        .filter(|(name, _)| name != "controller-0")
        .collect()
}

/// Entity ids of the active 200.001 (host locked) alarms, by `fm alarm-list`.
fn locked_alarms(s: &AllInOne) -> Vec<String> {
    alarm_rows(s)
        .into_iter()
        .filter(|(id, ..)| id == "200.001")
        .map(|(_, _, entity)| entity)
        .collect()
}

/// The active alarms, by `fm alarm-list`: (id, severity, entity), sorted.
pub(crate) fn alarm_rows(s: &AllInOne) -> Vec<(String, String, String)> {
    let text = |a: &Value, k: &str| a[k].as_str().unwrap().to_string();
    let mut v: Vec<(String, String, String)> = cli_json(s, "fm", &["alarm-list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                text(a, "Alarm ID"),
                text(a, "Severity"),
                text(a, "Entity ID"),
            )
        })
        .collect();
    v.sort();
    v
}

/// The labs take turns: each runs a controller and several agents whose
/// heartbeat is timed to 100 ms, and on two cores two labs at once starve
/// each other's agents (a starved agent misses pulses for real).
fn one_lab_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LABS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LABS.lock().unwrap_or_else(|e| e.into_inner())
}

fn state(a: &str, o: &str, v: &str) -> (String, String, String) {
    (a.into(), o.into(), v.into())
}

/// A controller and four hosts, each in a network namespace of its own on
/// two bridges (management and cluster-host; loopback without root):
/// bulk provisioning and registration, each agent's credential its own,
/// unlock and enable, an operator's reboot, an audit's change; then the
/// heartbeat — one host cut off fails and recovers gracefully, two cut at
/// once are multi-node failure avoidance and nobody fails or is reset.
#[test]
fn a_controller_and_four_agents_on_one_machine() {
    let _turn = one_lab_at_a_time();
    let pid = std::process::id();
    let netns = namespaces("network namespaces need root and iproute2");
    if !netns {
        eprintln!(
            "NOTE: network namespaces need root and iproute2; the agents run as plain \
             processes over loopback instead"
        );
    }
    // A /24 of its own per test process, on a bridge the namespaces join
    // (the management network), and in namespaces a second one (the
    // cluster-host network) where every host is pulsed too.
    let bridge = format!("stlbr{pid}");
    let gateway = format!("10.251.{}.1", pid % 250 + 1);
    let cluster_gateway = format!("10.248.{}.1", pid % 250 + 1);
    let names = ["worker-0", "worker-1", "node-7f3a", "worker-3"];
    let mut lab = Lab::new(&names, netns.then_some((bridge.as_str(), gateway.as_str())));
    let mut args = vec!["--system-mode", "duplex", "--system-type", "Standard"];
    if netns {
        lab.add_cluster(&format!("stlbk{pid}"), &cluster_gateway);
        args.extend(["--heartbeat-cluster-address", cluster_gateway.as_str()]);
    }
    let bind = if netns { gateway.as_str() } else { "127.0.0.1" };
    let s = all_in_one_on(bind, &[("STARLING_ADMIN_PASSWORD", PASSWORD)], &args, true);

    // Hosts are added for a controller in service to manage.
    controller_in_service(&s);

    // The operator provisions three of the hosts ahead, from a hosts file;
    // the fourth is left to register on its own.
    let hosts_file = lab.dir.join("hosts.yaml");
    std::fs::write(
        &hosts_file,
        format!(
            "hosts:\n- hostname: worker-0\n  personality: worker\n  mgmt_mac: {}\n  location: rack 1\n\
             - hostname: worker-1\n  personality: worker\n  mgmt_mac: {}\n  location: rack 2\n\
             - hostname: worker-3\n  personality: worker\n  mgmt_mac: {}\n  location: rack 2\n",
            lab.machine("worker-0").mac,
            lab.machine("worker-1").mac,
            lab.machine("worker-3").mac
        ),
    )
    .unwrap();
    let out = cli_ok(
        &s,
        "system",
        &["host-bulk-add", &hosts_file.display().to_string()],
    );
    assert!(out.contains("Success:"), "{out}");
    assert_eq!(
        locked_alarms(&s),
        ["host=worker-0", "host=worker-1", "host=worker-3"],
        "added hosts are locked"
    );

    lab.start_agents(&s);

    // All four register and report: the provisioned hosts come online, the
    // fourth appears unprovisioned, as in StarlingX.
    let states = wait_for(
        "four hosts online",
        || host_states(&s),
        |h| h.len() == 4 && h.values().all(|(_, _, v)| v == "online"),
    );
    assert_eq!(states["worker-0"], state("locked", "disabled", "online"));
    assert_eq!(states["worker-1"], state("locked", "disabled", "online"));
    assert_eq!(states["worker-3"], state("locked", "disabled", "online"));
    let unprovisioned = states
        .keys()
        .find(|k| k.starts_with("id "))
        .expect("the fourth host is unprovisioned")
        .trim_start_matches("id ")
        .to_string();
    for name in ["worker-0", "worker-1", "worker-3"] {
        wait_for(
            &format!("{name} inventoried"),
            || cli_json(&s, "system", &["host-show", name]),
            |h| h["inv_state"] == "inventoried",
        );
    }
    let third = wait_for(
        "the third host inventoried",
        || cli_json(&s, "system", &["host-show", &unprovisioned]),
        |h| h["inv_state"] == "inventoried",
    );
    assert_eq!(third["mgmt_mac"], lab.machine("node-7f3a").mac);
    assert_eq!(third["invprovision"], "unprovisioned");

    // Each agent holds a credential of its own, good for its host only:
    // worker-0's cannot report for worker-1, nor read the inventory.
    let credential =
        std::fs::read_to_string(lab.machine("worker-0").state_dir().join("credential"))
            .unwrap()
            .trim()
            .to_string();
    assert!(credential.starts_with("starling-agent-"), "{credential}");
    let as_worker_0 = |m: reqwest::Method, path: &str| {
        http()
            .request(m, format!("{}{path}", s.inventory))
            .header("x-auth-token", &credential)
            .json(&json!({"uptime": 1}))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        as_worker_0(reqwest::Method::PUT, "/v1/agent/worker-0/report"),
        200
    );
    assert_eq!(
        as_worker_0(reqwest::Method::PUT, "/v1/agent/worker-1/report"),
        403
    );
    assert_eq!(
        as_worker_0(reqwest::Method::GET, "/v1/agent/worker-1/command"),
        403
    );
    assert_eq!(as_worker_0(reqwest::Method::GET, "/v1/ihosts"), 403);

    // The operator provisions it; it is locked, with its alarm.
    let p = cli_json(
        &s,
        "system",
        &[
            "host-update",
            &unprovisioned,
            "hostname=worker-2",
            "personality=worker",
        ],
    );
    assert_eq!(p["hostname"], "worker-2");
    assert_eq!(
        locked_alarms(&s),
        [
            "host=worker-0",
            "host=worker-1",
            "host=worker-2",
            "host=worker-3"
        ]
    );

    // Each host's hardware is its own.
    for (name, machine) in [
        ("worker-0", "worker-0"),
        ("worker-1", "worker-1"),
        ("worker-2", "node-7f3a"),
    ] {
        let ports = cli_json(&s, "system", &["host-ethernet-port-list", name]);
        let ports = ports.as_array().unwrap();
        assert_eq!(ports.len(), 1, "{name}: {ports:?}");
        assert_eq!(ports[0]["name"], "eth0");
        let shown = cli_json(&s, "system", &["host-port-show", name, "eth0"]);
        assert_eq!(shown["mac"], lab.machine(machine).mac, "{name}: {shown}");
        let cpus = cli_json(&s, "system", &["host-cpu-list", name]);
        assert_eq!(cpus.as_array().unwrap().len(), 2, "{name}: {cpus}");
        assert!(
            !cli_json(&s, "system", &["host-disk-list", name])
                .as_array()
                .unwrap()
                .is_empty()
        );
    }

    // Unlocked, all four are tested (intest) until their heartbeat has
    // soaked, then in service; their alarms clear.
    for name in ["worker-0", "worker-1", "worker-2", "worker-3"] {
        let out = cli_ok(&s, "system", &["host-unlock", name]);
        assert!(out.contains("unlocked"), "{out}");
        assert!(out.contains("intest"), "{out}");
    }
    wait_for(
        "the unlocked hosts enabled by maintenance",
        || host_states(&s),
        |h| {
            ["worker-0", "worker-1", "worker-2", "worker-3"]
                .iter()
                .all(|n| h[*n] == state("unlocked", "enabled", "available"))
        },
    );
    assert!(locked_alarms(&s).is_empty());

    // One is locked and rebooted: only its agent runs the action.
    cli_ok(&s, "system", &["host-lock", "worker-1"]);
    assert_eq!(locked_alarms(&s), ["host=worker-1"]);
    let r = cli_json(&s, "system", &["host-reboot", "worker-1"]);
    assert_eq!(r["task"], "Rebooting");
    let w1 = wait_for(
        "worker-1's reboot to complete",
        || cli_json(&s, "system", &["host-show", "worker-1"]),
        |h| h["task"].is_null() || h["task"] == "None" || h["task"] == "",
    );
    assert_eq!(
        std::fs::read_to_string(&lab.machine("worker-1").ran).unwrap(),
        format!("reboot {}\n", w1["uuid"].as_str().unwrap())
    );
    for other in ["worker-0", "node-7f3a", "worker-3"] {
        assert!(!lab.machine(other).ran.exists(), "{other} ran an action");
    }

    // An audit carries a change of the hardware: worker-0's port MTU.
    std::fs::write(
        lab.machine("worker-0").root.join(ETH0).join("mtu"),
        "9000\n",
    )
    .unwrap();
    wait_for(
        "worker-0's new MTU",
        || cli_json(&s, "system", &["host-port-show", "worker-0", "eth0"]),
        |p| p["mtu"] == "9000" || p["mtu"] == 9000,
    );

    // The event log tells the story per host: the locked alarm set and
    // cleared, and each operator request logged.
    let events = cli_json(&s, "fm", &["event-list", "--nopaging"]);
    let lines: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["Event Log ID"].as_str().unwrap(),
                e["State"].as_str().unwrap(),
                e["Entity Instance ID"].as_str().unwrap()
            )
        })
        .collect();
    let count = |want: &str| lines.iter().filter(|l| *l == want).count();
    for name in ["worker-0", "worker-2", "worker-3"] {
        assert_eq!(count(&format!("200.001 set host={name}")), 1, "{lines:#?}");
        assert_eq!(
            count(&format!("200.001 clear host={name}")),
            1,
            "{lines:#?}"
        );
    }
    assert_eq!(count("200.001 set host=worker-1"), 2, "{lines:#?}");
    assert_eq!(count("200.001 clear host=worker-1"), 1, "{lines:#?}");
    let logs = cli_json(&s, "fm", &["event-list", "--logs", "--nopaging"]);
    let logs: Vec<String> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} | {}",
                e["Entity Instance ID"].as_str().unwrap(),
                e["Reason Text"].as_str().unwrap()
            )
        })
        .collect();
    // Until provisioned, the third host is told by its MAC, not "None".
    let mac = &lab.machine("node-7f3a").mac;
    for want in [
        "host=worker-0 | worker-0 'add' request (bulk)".to_string(),
        "host=worker-0 | worker-0 is now 'online'".into(),
        "host=worker-0 | worker-0 is administratively unlocked".into(),
        "host=worker-0 | worker-0 is now 'available'".into(),
        format!("host={mac} | unprovisioned host {mac} is now 'online'"),
        format!("host=worker-2 | unprovisioned host {mac} renamed to worker-2"),
        "host=worker-2 | worker-2 is administratively unlocked".into(),
        "host=worker-1 | worker-1 is administratively locked".into(),
        "host=worker-1 | worker-1 'reboot' request".into(),
        "host=worker-1 | worker-1 'reboot' completed".into(),
    ] {
        assert!(logs.contains(&want), "{want:?} not in {logs:#?}");
    }

    // Heartbeat: the unlocked hosts are pulsed and none was ever found
    // missing. worker-2 is cut off (its link down in its namespace, or its
    // agent stopped on loopback): its management heartbeat is lost (200.005
    // critical) and it fails (200.004; unlocked-disabled-failed in
    // inventory); back, both clear and it is available again. worker-0 is
    // never accused.
    assert_eq!(heartbeat_alarms(&s), Vec::<String>::new());
    // Host `i` cut off (its link down in its namespace, or its agent
    // stopped on loopback) or back.
    let links: Vec<(Option<String>, String)> = lab
        .machines
        .iter()
        .zip(&lab.agents)
        .map(|(m, a)| (m.ns.clone(), a.id().to_string()))
        .collect();
    let cut_host = |i: usize, down: bool| match &links[i].0 {
        Some(ns) => ip(&[
            "-n",
            ns,
            "link",
            "set",
            "eth0",
            if down { "down" } else { "up" },
        ]),
        None => {
            let sig = if down { "-STOP" } else { "-CONT" };
            let st = Command::new("kill")
                .args([sig, &links[i].1])
                .status()
                .unwrap();
            assert!(st.success());
        }
    };
    let cut = |down: bool| cut_host(2, down);
    cut(true);
    wait_for(
        "worker-2's heartbeat lost and the host failed",
        || heartbeat_alarms(&s),
        |a| {
            a == &[
                "200.004 critical host=worker-2".to_string(),
                "200.005 critical host=worker-2.network=mgmt".to_string(),
            ]
        },
    );
    wait_for(
        "worker-2 failed in inventory",
        || host_states(&s),
        |h| h["worker-2"] == state("unlocked", "disabled", "failed"),
    );
    let w2 = cli_json(&s, "system", &["host-show", "worker-2"]);
    assert_eq!(w2["task"], "Graceful Recovery", "{w2}");
    assert_eq!(
        host_states(&s)["worker-0"],
        state("unlocked", "enabled", "available")
    );
    cut(false);
    wait_for(
        "worker-2's heartbeat back and its alarms cleared",
        || heartbeat_alarms(&s),
        |a| a.is_empty(),
    );
    wait_for(
        "worker-2 back in service",
        || host_states(&s),
        |h| h["worker-2"] == state("unlocked", "enabled", "available"),
    );
    // Back within the recovery window: a graceful recovery, without any
    // reboot or reset.
    assert!(
        !lab.machine("node-7f3a").ran.exists(),
        "worker-2 was rebooted"
    );
    let events = cli_json(&s, "fm", &["event-list", "--nopaging"]);
    let heartbeat_events: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| matches!(e["Event Log ID"].as_str(), Some("200.004" | "200.005")))
        .map(|e| e["Entity Instance ID"].as_str().unwrap().to_string())
        .collect();
    assert!(
        heartbeat_events
            .iter()
            .all(|e| e.starts_with("host=worker-2")),
        "only worker-2 was accused: {heartbeat_events:?}"
    );

    // Two hosts cut at once (a switch, say): the network is suspect
    // (multi-node failure avoidance). Both heartbeats are lost, yet neither
    // host fails: both wait in service, degraded ("Graceful Recovery
    // Wait"); back, both are available again and nobody was reset.
    cut_host(0, true);
    cut_host(2, true);
    wait_for(
        "worker-0's and worker-2's heartbeats lost",
        || heartbeat_alarms(&s),
        |a| {
            a == &[
                "200.005 critical host=worker-0.network=mgmt".to_string(),
                "200.005 critical host=worker-2.network=mgmt".to_string(),
            ]
        },
    );
    let pooled = wait_for(
        "both waiting in service",
        || {
            ["worker-0", "worker-2"].map(|n| {
                let h = cli_json(&s, "system", &["host-show", n]);
                format!("{} {} {}", h["operational"], h["availability"], h["task"])
            })
        },
        |h| {
            h.iter()
                .all(|x| x == "\"enabled\" \"degraded\" \"Graceful Recovery Wait\"")
        },
    );
    // Well past the failure threshold and the recovery window: still
    // nobody failed.
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        !heartbeat_alarms(&s)
            .iter()
            .any(|a| a.starts_with("200.004")),
        "{pooled:?}"
    );
    cut_host(0, false);
    cut_host(2, false);
    wait_for(
        "both back in service",
        || host_states(&s),
        |h| {
            h["worker-0"] == state("unlocked", "enabled", "available")
                && h["worker-2"] == state("unlocked", "enabled", "available")
        },
    );
    wait_for(
        "their heartbeat alarms cleared",
        || heartbeat_alarms(&s),
        |a| a.is_empty(),
    );
    for m in ["worker-0", "node-7f3a", "worker-3"] {
        assert!(!lab.machine(m).ran.exists(), "{m} was rebooted");
    }
    // Maintenance's own series: answers taken, the hosts by level.
    let metrics = metrics_text(&s.mtce);
    let sample = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().parse().unwrap()))
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    // (worker-2 alone needed ten in a row to recover.)
    assert!(sample("starling_heartbeat_answers_total{outcome=\"taken\"}") >= 10.0);
    assert_eq!(
        sample("starling_heartbeat_answers_total{outcome=\"forged\"}"),
        0.0
    );
    assert_eq!(
        sample("starling_heartbeat_hosts{level=\"ok\"}"),
        4.0,
        "controller-0 (the all-in-one's own agent), worker-0, worker-2 and worker-3"
    );
    assert_eq!(sample("starling_heartbeat_hosts{level=\"failed\"}"), 0.0);

    // Every agent is still running.
    for a in &mut lab.agents {
        assert!(a.try_wait().unwrap().is_none(), "an agent exited");
    }
}

/// The heartbeat over lossy links: three unlocked hosts in namespaces, each
/// dropping 30% of the pulses that reach it (nftables), for
/// `STARLING_SOAK_SECS` (20 s by default; the soak in BENCHMARKS.md runs
/// 600): no host is ever failed (no 200.004, no host out of service), and
/// the degrade alarms it did raise are counted and printed.
///
/// Needs root, iproute2 and nft; without them it says so and passes,
/// unless STARLING_REQUIRE_NETNS is set (CI).
#[test]
fn no_false_failure_over_lossy_links() {
    let _turn = one_lab_at_a_time();
    let have_nft = Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(is_root() && have_ip() && have_nft) {
        assert!(
            std::env::var_os("STARLING_REQUIRE_NETNS").is_none(),
            "STARLING_REQUIRE_NETNS is set but the soak needs root, iproute2 and nft"
        );
        eprintln!("SKIPPED: the lossy-link soak needs root, iproute2 and nft");
        return;
    }
    let env = |k: &str, default: u64| -> u64 {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let secs = env("STARLING_SOAK_SECS", 20);
    // (STARLING_SOAK_LOSS raises the loss, to see the test fail.)
    let loss = env("STARLING_SOAK_LOSS", 30).to_string();
    let pid = std::process::id();
    let bridge = format!("stlsk{pid}");
    let gateway = format!("10.252.{}.1", pid % 250 + 1);
    let names = ["worker-0", "worker-1", "worker-2"];
    let mut lab = Lab::new(&names, Some((bridge.as_str(), gateway.as_str())));
    let s = all_in_one_on(
        &gateway,
        &[("STARLING_ADMIN_PASSWORD", PASSWORD)],
        &["--system-mode", "duplex", "--system-type", "Standard"],
        true,
    );
    controller_in_service(&s);
    lab.provision_workers(&s);
    for n in names {
        cli_ok(&s, "system", &["host-unlock", n]);
    }
    // Once in service (their responders registered, the heartbeat soaked),
    // 30% of the pulses reaching each host are dropped.
    wait_for(
        "the hosts enabled",
        || host_states(&s),
        |h| {
            names
                .iter()
                .all(|n| h[*n] == state("unlocked", "enabled", "available"))
        },
    );
    for n in names {
        let ns = lab.machine(n).ns.clone().unwrap();
        let nft = |args: &[&str]| {
            let st = Command::new("ip")
                .args(["netns", "exec", &ns, "nft"])
                .args(args)
                .status()
                .unwrap();
            assert!(st.success(), "nft {args:?}");
        };
        nft(&["add", "table", "inet", "loss"]);
        nft(&[
            "add",
            "chain",
            "inet",
            "loss",
            "in",
            "{ type filter hook input priority 0; }",
        ]);
        nft(&[
            "add", "rule", "inet", "loss", "in", "udp", "dport", "2106", "numgen", "random", "mod",
            "100", "<", &loss, "drop",
        ]);
    }
    let t0 = Instant::now();
    let mut out_of_service = Vec::new();
    while t0.elapsed() < Duration::from_secs(secs) {
        let states = host_states(&s);
        for n in names {
            if states[n].2 == "failed" {
                out_of_service.push(n);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let events = cli_json(&s, "fm", &["event-list", "--nopaging"]);
    let count = |id: &str, severity: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["Event Log ID"] == id && e["State"] == "set" && e["Severity"] == severity)
            .count()
    };
    let failed = count("200.004", "critical");
    let lost = count("200.005", "critical");
    let degraded = count("200.005", "major");
    println!(
        "soak: 3 hosts, {loss}% of pulses dropped, {secs} s at 100 ms: {failed} host failures, \
         {lost} heartbeats lost, {degraded} degrade alarms"
    );
    assert_eq!(
        (failed, lost),
        (0, 0),
        "false failures over a lossy link: {:?}",
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["Event Log ID"] == "200.004" || e["Event Log ID"] == "200.005")
            .map(|e| format!(
                "{} {} {} {}",
                e["Time Stamp"], e["Event Log ID"], e["State"], e["Entity Instance ID"]
            ))
            .collect::<Vec<_>>()
    );
    assert_eq!(out_of_service, Vec::<&str>::new(), "hosts seen failed");
    for a in &mut lab.agents {
        assert!(a.try_wait().unwrap().is_none(), "an agent exited");
    }
}

/// One host on two networks (management and cluster-host). First its
/// cluster-host link alone is cut: that heartbeat is lost (200.009), it
/// fails, and the reboot asked over the management network reaches it and
/// is carried out — no BMC reset. Then it stays silent past the recovery
/// window on both (its links cut): it fails, a reboot is asked over the
/// management network, then over the cluster-host one (both unheard), then
/// its BMC — sushy-tools' emulator, provisioned with `host-update` — is
/// asked for exactly one reset. The rig ties the emulator to the host:
/// the reset it serves restarts the host (its agent stopped, its link up
/// again, a new agent started). The host comes back offline, is tested,
/// and is in service again, its failure alarm cleared.
///
/// Needs root, iproute2 and the emulator; without them it says so and
/// passes, unless STARLING_REQUIRE_NETNS / STARLING_REQUIRE_SUSHY are set
/// (CI).
#[test]
fn a_silent_host_is_reset_once_through_its_bmc_and_comes_back() {
    let _turn = one_lab_at_a_time();
    if !namespaces("the reset test needs root and iproute2") {
        eprintln!("SKIPPED: the reset test needs root and iproute2");
        return;
    }
    let Some(bin) = starling_testkit::sushy::emulator_or_skip() else {
        return;
    };
    let emu = starling_testkit::sushy::start(&bin, "mtce", false);
    let pid = std::process::id();
    let bridge = format!("stlbm{pid}");
    let gateway = format!("10.253.{}.1", pid % 250 + 1);
    let mut lab = Lab::new(&["worker-0"], Some((bridge.as_str(), gateway.as_str())));
    let cluster_gateway = format!("10.254.{}.1", pid % 250 + 1);
    lab.add_cluster(&format!("stlbc{pid}"), &cluster_gateway);
    let bmc_port = emu.port.to_string();
    let s = all_in_one_on(
        &gateway,
        &[("STARLING_ADMIN_PASSWORD", PASSWORD)],
        &[
            "--system-mode",
            "duplex",
            "--system-type",
            "Standard",
            "--bmc-scheme",
            "http",
            "--bmc-port",
            &bmc_port,
            "--recovery-window",
            "2s",
            "--reboot-ack-timeout",
            "1s",
            "--bmc-reset-delay",
            "4s",
            "--boot-timeout",
            "90s",
            "--heartbeat-cluster-address",
            &cluster_gateway,
            "--sensor-interval",
            "2s",
        ],
        true,
    );
    controller_in_service(&s);
    lab.provision_workers(&s);

    // The BMC, provisioned; its password is kept sealed, never shown.
    let bmc_password = format!("bm_password={}", starling_testkit::sushy::PASSWORD);
    let out = cli_ok(
        &s,
        "system",
        &[
            "host-update",
            "worker-0",
            "bm_type=redfish",
            "bm_ip=127.0.0.1",
            "bm_username=root",
            &bmc_password,
        ],
    );
    assert!(!out.contains(starling_testkit::sushy::PASSWORD), "{out}");
    let shown = cli_json(&s, "system", &["host-show", "worker-0"]);
    assert_eq!(shown["bm_type"], "redfish", "{shown}");
    assert!(
        !shown
            .to_string()
            .contains(starling_testkit::sushy::PASSWORD),
        "{shown}"
    );
    cli_ok(&s, "system", &["host-unlock", "worker-0"]);
    wait_for(
        "worker-0 enabled",
        || host_states(&s),
        |h| h["worker-0"] == state("unlocked", "enabled", "available"),
    );
    assert_eq!(emu.resets(), 0);

    // Its BMC's sensors, audited: recorded with their status against the
    // BMC's thresholds, grouped as StarlingX's hwmon groups them; the
    // emulator's read well, so no sensor alarm (200.007).
    let sensors = wait_for(
        "worker-0's BMC sensors recorded",
        || cli_json(&s, "system", &["host-sensor-list", "worker-0"]),
        |v| v.as_array().is_some_and(|a| !a.is_empty()),
    );
    let names: Vec<&str> = sensors
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"CPU Temp"), "{sensors}");
    for x in sensors.as_array().unwrap() {
        assert_eq!(
            (&x["status"], &x["state"]),
            (&json!("ok"), &json!("enabled")),
            "{x}"
        );
    }
    let groups = cli_json(&s, "system", &["host-sensorgroup-list", "worker-0"]);
    let temperature = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "server temperature")
        .unwrap_or_else(|| panic!("{groups}"));
    assert!(
        temperature["sensors"]
            .as_str()
            .unwrap()
            .contains("CPU Temp"),
        "{temperature}"
    );
    let cpu = cli_json(&s, "system", &["host-sensor-show", "worker-0", "CPU Temp"]);
    assert_eq!(cpu["t_minor_upper"], "42", "{cpu}");
    let alarms = cli_json(&s, "fm", &["alarm-list"]).to_string();
    assert!(!alarms.contains("200.007"), "{alarms}");

    let alarms_now = || heartbeat_alarms(&s);
    let ns = lab.machine("worker-0").ns.clone().unwrap();
    let ran = lab.machine("worker-0").ran.clone();

    // The cluster-host network alone cut: the host's heartbeat there is
    // lost (200.009, not 200.005) and it fails; the reboot asked over the
    // management network reaches it, is acknowledged and carried out by
    // its agent (its action command). The rig restarts it; it is back in
    // service with no BMC reset.
    ip(&["-n", &ns, "link", "set", "eth1", "down"]);
    wait_for("the cluster-host heartbeat lost", alarms_now, |a| {
        a == &[
            "200.004 critical host=worker-0".to_string(),
            "200.009 critical host=worker-0.network=cluster-host".to_string(),
        ]
    });
    let ran_text = wait_for(
        "the reboot carried out by worker-0's agent",
        || std::fs::read_to_string(&ran).unwrap_or_default(),
        |t| !t.is_empty(),
    );
    assert!(ran_text.starts_with("reboot "), "{ran_text}");
    lab.reboot(&s, 0);
    wait_for(
        "worker-0 back in service after its reboot",
        || host_states(&s),
        |h| h["worker-0"] == state("unlocked", "enabled", "available"),
    );
    wait_for("its alarms cleared", alarms_now, |a| a.is_empty());
    assert_eq!(emu.resets(), 0, "{}", emu.log());
    assert_eq!(
        std::fs::read_to_string(&ran).unwrap(),
        ran_text,
        "one reboot"
    );
    std::fs::remove_file(&ran).unwrap();

    // Cut off on both networks, and silent: failed, then the reset
    // progression.
    ip(&["-n", &ns, "link", "set", "eth0", "down"]);
    ip(&["-n", &ns, "link", "set", "eth1", "down"]);
    let mut tasks = std::collections::BTreeSet::new();
    let t0 = Instant::now();
    while emu.resets() == 0 {
        let h = cli_json(&s, "system", &["host-show", "worker-0"]);
        tasks.insert(format!(
            "{} {}",
            h["availability"].as_str().unwrap_or(""),
            h["task"].as_str().unwrap_or("")
        ));
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no BMC reset: {tasks:?}; the emulator's log: {}",
            emu.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(tasks.contains("failed Graceful Recovery"), "{tasks:?}");
    assert!(
        tasks.contains("failed Rebooting/Resetting Host"),
        "{tasks:?}"
    );
    let to_reset = t0.elapsed();
    // The reset the emulator served restarts the host: it boots when the
    // emulator's power is back.
    wait_for(
        "the emulator's power back on",
        || bmc_power(&emu),
        |p| p == "On",
    );
    lab.reboot(&s, 0);
    wait_for(
        "worker-0 back in service after its reset",
        || host_states(&s),
        |h| h["worker-0"] == state("unlocked", "enabled", "available"),
    );
    println!(
        "reset progression: cut → BMC reset {:.1} s (window 2 s, reboot ack 1 s, BMC delay 4 s); \
         reset → in service {:.1} s (soak 1 s)",
        to_reset.as_secs_f64(),
        (t0.elapsed() - to_reset).as_secs_f64()
    );
    // Exactly one reset, and none more while it stays well.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(emu.resets(), 1, "{}", emu.log());
    // The reboot asked over the cut management network never reached it.
    assert!(!lab.machine("worker-0").ran.exists());

    let logs = cli_json(&s, "fm", &["event-list", "--logs", "--nopaging"]);
    let logs: Vec<String> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Reason Text"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "worker-0 auto-recovery: reboot requested over the mgmt network",
        "worker-0 auto-recovery: reboot requested over the cluster-host network",
        "worker-0 auto-recovery: reset through its board management controller",
        "worker-0 is now 'failed'",
        "worker-0 is now 'offline'",
        "worker-0 is now 'intest'",
    ] {
        assert!(logs.iter().any(|l| l == want), "{want:?} not in {logs:#?}");
    }
    let events = cli_json(&s, "fm", &["event-list", "--alarms", "--nopaging"]);
    let failures: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Event Log ID"] == "200.004")
        .map(|e| e["State"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        failures,
        ["clear", "set", "clear", "set"],
        "newest first: two failures, each cleared"
    );
    let alarms = cli_json(&s, "fm", &["alarm-list"]);
    assert!(
        !alarms.to_string().contains("worker-0"),
        "alarms left: {alarms}"
    );

    // The operator's power and reset actions on a host with a BMC go
    // through the BMC, not the host's agent; the rig follows the
    // emulator's power: off stops the host, on starts it again.
    cli_ok(&s, "system", &["host-lock", "worker-0"]);
    let r = cli_json(&s, "system", &["host-power-off", "worker-0"]);
    assert_eq!(r["task"], "Powering Off", "{r}");
    wait_for(
        "the emulator's power off",
        || bmc_power(&emu),
        |p| p == "Off",
    );
    lab.stop(0);
    let done =
        |avail: &'static str| move |h: &Value| h["availability"] == avail && h["task"].is_null();
    wait_for(
        "worker-0 powered off",
        || cli_json(&s, "system", &["host-show", "worker-0"]),
        done("power-off"),
    );
    cli_ok(&s, "system", &["host-power-on", "worker-0"]);
    wait_for("the emulator's power on", || bmc_power(&emu), |p| p == "On");
    lab.reboot(&s, 0);
    wait_for(
        "worker-0 powered on",
        || cli_json(&s, "system", &["host-show", "worker-0"]),
        done("online"),
    );
    // (Power off and on were two more reset actions, of other types.)
    assert_eq!(emu.resets(), 3, "{}", emu.log());
    let r = cli_json(&s, "system", &["host-reset", "worker-0"]);
    assert_eq!(r["task"], "Resetting", "{r}");
    wait_for("the emulator's reset", || emu.resets(), |n| *n == 4);
    wait_for(
        "the emulator's power back on",
        || bmc_power(&emu),
        |p| p == "On",
    );
    lab.reboot(&s, 0);
    wait_for(
        "worker-0's reset done",
        || cli_json(&s, "system", &["host-show", "worker-0"]),
        done("online"),
    );
    bmc_actions_done(&s, &lab);
}

/// worker-0's power-off, power-on and reset were carried out through its
/// BMC and logged completed; its agent was never handed any of them. The
/// logs.
fn bmc_actions_done(s: &AllInOne, lab: &Lab) -> String {
    assert!(!lab.machine("worker-0").ran.exists());
    let logs = cli_json(s, "fm", &["event-list", "--logs", "--nopaging"]).to_string();
    for want in [
        "worker-0 'power-off' completed",
        "worker-0 'power-on' completed",
        "worker-0 'reset' completed",
    ] {
        assert!(logs.contains(want), "{want:?} not in {logs}");
    }
    logs
}

/// The active heartbeat and host-failed alarms (200.004, 200.005,
/// 200.009) as `id severity entity`, sorted.
fn heartbeat_alarms(s: &AllInOne) -> Vec<String> {
    alarm_rows(s)
        .into_iter()
        .filter(|(id, ..)| matches!(id.as_str(), "200.004" | "200.005" | "200.009"))
        .map(|(id, severity, entity)| format!("{id} {severity} {entity}"))
        .collect()
}

/// The emulator's system's power state, as Redfish reports it.
fn bmc_power(emu: &starling_testkit::sushy::Emulator) -> String {
    let get = |path: &str| -> Value {
        http()
            .get(format!("{}{path}", emu.url))
            .basic_auth("root", Some(starling_testkit::sushy::PASSWORD))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let systems = get("/redfish/v1/Systems");
    let first = systems["Members"][0]["@odata.id"]
        .as_str()
        .unwrap()
        .to_string();
    get(&first)["PowerState"].as_str().unwrap_or("").to_string()
}

/// Daemons a test started (by their pid files), killed when it ends.
struct Daemons(Vec<PathBuf>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for pidfile in &self.0 {
            if let Ok(pid) = std::fs::read_to_string(pidfile) {
                let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            }
        }
    }
}

/// A monitored daemon for host `m`: its init script (`SCRIPT start` runs
/// `sleep` in the background and writes its pid; while `DIR/NAME.broken`
/// exists the daemon dies at once), its pmon.d file with `conf`'s keys,
/// and the daemon started. Answers the pid file.
fn monitored(lab: &Lab, m: &Machine, name: &str, conf: &str, daemons: &mut Daemons) -> PathBuf {
    let script = lab.dir.join(format!("{}-{name}", m.hostname));
    let pidfile = lab.dir.join(format!("{}-{name}.pid", m.hostname));
    let broken = lab.dir.join(format!("{name}.broken"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -e '{}' ]; then sleep 0.2 & else sleep 600 & fi\necho $! > '{}'\n",
            broken.display(),
            pidfile.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        m.pmon.join(format!("{name}.conf")),
        format!(
            "[process]\nprocess = {name}\nscript = {}\npidfile = {}\n{conf}",
            script.display(),
            pidfile.display()
        ),
    )
    .unwrap();
    assert!(
        Command::new(&script)
            .arg("start")
            .status()
            .unwrap()
            .success()
    );
    daemons.0.push(pidfile.clone());
    pidfile
}

fn kill_daemon(pidfile: &Path) {
    let pid = std::fs::read_to_string(pidfile).unwrap();
    assert!(
        Command::new("kill")
            .args(["-9", pid.trim()])
            .status()
            .unwrap()
            .success()
    );
}

/// The active 200.006 alarms: (entity, severity).
fn process_alarms(s: &AllInOne) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = alarms_of(s, "200.006")
        .into_iter()
        .map(|(severity, entity)| (entity, severity))
        .collect();
    v.sort();
    v
}

/// The process monitor end to end, on a host of the lab (in a network
/// namespace when root): a major process that fails past its restarts
/// raises 200.006 major and degrades its host, until a restart holds; a
/// critical one fails its host, which maintenance reboots over the
/// heartbeat, and it comes back in service with its alarms cleared.
#[test]
fn a_failing_process_degrades_or_fails_its_host() {
    let _turn = one_lab_at_a_time();
    let pid = std::process::id();
    let netns = namespaces("network namespaces need root and iproute2");
    let bridge = format!("stlpm{pid}");
    let gateway = format!("10.250.{}.1", pid % 250 + 1);
    let mut lab = Lab::new(
        &["worker-0"],
        netns.then_some((bridge.as_str(), gateway.as_str())),
    );
    lab.reboot_stops = true;
    let bind = if netns { gateway.as_str() } else { "127.0.0.1" };
    let s = all_in_one_on(
        bind,
        &[("STARLING_ADMIN_PASSWORD", PASSWORD)],
        &["--system-mode", "duplex", "--system-type", "Standard"],
        true,
    );
    controller_in_service(&s);

    let mut daemons = Daemons(Vec::new());
    let m = lab.machine("worker-0").clone();
    let major = monitored(
        &lab,
        &m,
        "svc-major",
        "severity = major\nrestarts = 1\ninterval = 1\ndebounce = 2\nstartuptime = 0\n",
        &mut daemons,
    );
    let critical = monitored(
        &lab,
        &m,
        "svc-critical",
        "severity = critical\nrestarts = 0\nstartuptime = 0\n",
        &mut daemons,
    );
    lab.provision_workers(&s);
    cli_ok(&s, "system", &["host-unlock", "worker-0"]);
    wait_for(
        "worker-0 enabled",
        || host_states(&s),
        |h| h["worker-0"] == state("unlocked", "enabled", "available"),
    );
    assert!(process_alarms(&s).is_empty());

    // The major process keeps dying: one restart, then 200.006 major and
    // the host degraded; its first failure is in the event log.
    std::fs::write(lab.dir.join("svc-major.broken"), "").unwrap();
    kill_daemon(&major);
    wait_for(
        "the major failure raised",
        || (process_alarms(&s), host_states(&s)),
        |(a, h)| {
            a.as_slice()
                == [(
                    "host=worker-0.process=svc-major".to_string(),
                    "major".to_string(),
                )]
                && h["worker-0"] == state("unlocked", "enabled", "degraded")
        },
    );
    let logged = cli_json(&s, "fm", &["event-list", "--logs", "--nopaging"]);
    assert!(
        logged.as_array().unwrap().iter().any(|e| {
            e["Event Log ID"] == "200.006"
                && e["Entity Instance ID"] == "host=worker-0.process=svc-major"
        }),
        "{logged}"
    );
    // Mended: a restart holds for its debounce; cleared, available.
    std::fs::remove_file(lab.dir.join("svc-major.broken")).unwrap();
    wait_for(
        "the major failure cleared",
        || (process_alarms(&s), host_states(&s)),
        |(a, h)| a.is_empty() && h["worker-0"] == state("unlocked", "enabled", "available"),
    );

    // The critical process dies (no restarts): 200.006 critical, the host
    // failed, and rebooted over the heartbeat.
    kill_daemon(&critical);
    wait_for(
        "the critical failure raised",
        || process_alarms(&s),
        |a| {
            a.contains(&(
                "host=worker-0.process=svc-critical".to_string(),
                "critical".to_string(),
            ))
        },
    );
    wait_for(
        "the reboot asked",
        || std::fs::read_to_string(&m.ran).unwrap_or_default(),
        |ran| ran.starts_with("reboot "),
    );
    let failed = cli_json(&s, "fm", &["alarm-list"]);
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Alarm ID"] == "200.004" && a["Entity ID"] == "host=worker-0"),
        "{failed}"
    );
    // The reboot stopped the agent; the host boots: its services start,
    // then its agent.
    wait_for(
        "the agent stopped by the reboot",
        || lab.agents[0].try_wait().unwrap().is_some(),
        |stopped| *stopped,
    );
    let script = lab.dir.join("worker-0-svc-critical");
    assert!(
        Command::new(&script)
            .arg("start")
            .status()
            .unwrap()
            .success()
    );
    lab.reboot(&s, 0);
    wait_for(
        "worker-0 back in service, its alarms cleared",
        || (process_alarms(&s), host_states(&s), heartbeat_alarms(&s)),
        |(p, h, hb)| {
            p.is_empty()
                && h["worker-0"] == state("unlocked", "enabled", "available")
                && !hb.iter().any(|a| a.starts_with("200.004"))
        },
    );
}

/// What the resource test set up on the machine, undone when it ends.
#[derive(Default)]
struct Loads {
    tmpfs: Option<PathBuf>,
    cgroup: Option<PathBuf>,
    cgroup_mount: Option<PathBuf>,
    hog: Option<std::process::Child>,
}

impl Drop for Loads {
    fn drop(&mut self) {
        if let Some(mut h) = self.hog.take() {
            let _ = h.kill();
            let _ = h.wait();
        }
        if let Some(cg) = &self.cgroup {
            let _ = std::fs::remove_dir(cg);
        }
        if let Some(m) = &self.cgroup_mount {
            let _ = Command::new("umount").arg(m).status();
        }
        if let Some(fs) = &self.tmpfs {
            let _ = Command::new("umount").arg(fs).status();
        }
    }
}

/// A fresh cgroup to load, in the hierarchy mounted again at `at` (the
/// hosts' namespaces see a /sys of their own, without the machine's
/// cgroup mounts): cgroup v1's cpuacct where the machine has it (a hybrid
/// machine's v2 hierarchy has no CPU accounting), else cgroup v2.
fn test_cgroup(at: &Path, name: &str) -> PathBuf {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    let v1 = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[2] == "cgroup" && f[3].split(',').any(|o| o == "cpuacct")
    });
    std::fs::create_dir_all(at).unwrap();
    let mut mount = Command::new("mount");
    if v1 {
        mount.args(["-t", "cgroup", "-o", "cpuacct", "cpuacct"]);
    } else {
        mount.args(["-t", "cgroup2", "cgroup2"]);
    }
    assert!(
        mount.arg(at).status().unwrap().success(),
        "mounting the cgroup hierarchy"
    );
    let dir = at.join(name);
    std::fs::create_dir(&dir).unwrap();
    dir
}

/// The active usage and link alarms (100.1xx): (id, severity, entity).
fn resource_alarms(s: &AllInOne) -> Vec<(String, String, String)> {
    alarm_rows(s)
        .into_iter()
        .filter(|(id, ..)| id.starts_with("100.1"))
        .collect()
}

/// The resource monitor end to end on a host of the lab: a cgroup's CPU
/// hogged past its threshold raises 100.101 and degrades the host; a
/// tmpfs filled raises 100.104 major, then critical; the far end of an
/// OAM link going down raises 100.106 (port) and 100.107 (interface);
/// each clears when the load goes, and the host is available again.
#[test]
fn resource_thresholds_are_crossed_and_cleared() {
    let _turn = one_lab_at_a_time();
    if !namespaces("the resource test needs root and iproute2") {
        eprintln!("SKIPPED: the resource test needs root (tmpfs, cgroups) and iproute2");
        return;
    }
    let pid = std::process::id();
    let bridge = format!("stlrs{pid}");
    let gateway = format!("10.249.{}.1", pid % 250 + 1);
    let mut lab = Lab::new(&["worker-0"], Some((bridge.as_str(), gateway.as_str())));
    let mut loads = Loads::default();
    let fs = lab.dir.join("fs");
    std::fs::create_dir_all(&fs).unwrap();
    assert!(
        Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&fs)
            .status()
            .unwrap()
            .success()
    );
    loads.tmpfs = Some(fs.clone());
    let cg_mount = lab.dir.join("cgroup");
    let cg = test_cgroup(&cg_mount, &format!("starling-test-{pid}"));
    loads.cgroup_mount = Some(cg_mount);
    loads.cgroup = Some(cg.clone());
    // The host's OAM interface: a link whose far end the test can pull.
    let ns = lab.machine("worker-0").ns.clone().unwrap();
    ip(&[
        "-n", &ns, "link", "add", "oam0", "type", "veth", "peer", "name", "oam1",
    ]);
    ip(&["-n", &ns, "link", "set", "oam0", "up"]);
    ip(&["-n", &ns, "link", "set", "oam1", "up"]);
    lab.resource_args = [
        "--resource-interval",
        "1s",
        "--cpu-threshold",
        "5:99",
        "--memory-threshold",
        "off",
        "--filesystem-threshold",
        "50:90",
        "--filesystems",
        fs.to_str().unwrap(),
        "--cpu-cgroup",
        cg.to_str().unwrap(),
        "--monitor-interface",
        "oam=oam0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let s = all_in_one_on(
        &gateway,
        &[("STARLING_ADMIN_PASSWORD", PASSWORD)],
        &["--system-mode", "duplex", "--system-type", "Standard"],
        true,
    );
    controller_in_service(&s);
    lab.provision_workers(&s);
    cli_ok(&s, "system", &["host-unlock", "worker-0"]);
    wait_for(
        "worker-0 enabled",
        || host_states(&s),
        |h| h["worker-0"] == state("unlocked", "enabled", "available"),
    );
    assert!(resource_alarms(&s).is_empty(), "{:?}", resource_alarms(&s));
    let alarm =
        |id: &str, sev: &str, entity: &str| (id.to_string(), sev.to_string(), entity.to_string());

    // The platform cgroup's CPU hogged: 100.101 major, degraded.
    let hog = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    std::fs::write(cg.join("cgroup.procs"), hog.id().to_string()).unwrap();
    loads.hog = Some(hog);
    wait_for(
        "the CPU alarm",
        || (resource_alarms(&s), host_states(&s)),
        |(a, h)| {
            a.as_slice() == [alarm("100.101", "major", "host=worker-0")]
                && h["worker-0"] == state("unlocked", "enabled", "degraded")
        },
    );
    let listed = cli_json(&s, "fm", &["alarm-list"]);
    let reason = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Alarm ID"] == "100.101")
        .map(|a| a["Reason Text"].as_str().unwrap().to_string())
        .unwrap();
    assert!(
        reason.starts_with("Platform CPU threshold exceeded ; threshold 5.00%, actual "),
        "{reason}"
    );
    if let Some(mut h) = loads.hog.take() {
        h.kill().unwrap();
        h.wait().unwrap();
    }
    wait_for(
        "the CPU alarm cleared",
        || (resource_alarms(&s), host_states(&s)),
        |(a, h)| a.is_empty() && h["worker-0"] == state("unlocked", "enabled", "available"),
    );

    // The tmpfs filled to 60%, then 95%: 100.104 major, then critical.
    let entity = format!("host=worker-0.filesystem={}", fs.display());
    std::fs::write(fs.join("a"), vec![0u8; 620 * 1024]).unwrap();
    wait_for(
        "the file system alarm",
        || resource_alarms(&s),
        |a| a.as_slice() == [alarm("100.104", "major", &entity)],
    );
    std::fs::write(fs.join("b"), vec![0u8; 360 * 1024]).unwrap();
    wait_for(
        "the file system alarm critical",
        || (resource_alarms(&s), host_states(&s)),
        |(a, h)| {
            a.as_slice() == [alarm("100.104", "critical", &entity)]
                && h["worker-0"] == state("unlocked", "enabled", "degraded")
        },
    );
    std::fs::remove_file(fs.join("a")).unwrap();
    std::fs::remove_file(fs.join("b")).unwrap();
    wait_for(
        "the file system alarm cleared",
        || resource_alarms(&s),
        |a| a.is_empty(),
    );

    // The OAM link's far end down: the port failed, the interface too
    // (its only port); back up, both clear.
    ip(&["-n", &ns, "link", "set", "oam1", "down"]);
    wait_for(
        "the link alarms",
        || (resource_alarms(&s), host_states(&s)),
        |(a, h)| {
            a.as_slice()
                == [
                    alarm("100.106", "major", "host=worker-0.port=oam0"),
                    alarm("100.107", "critical", "host=worker-0.interface=oam"),
                ]
                && h["worker-0"] == state("unlocked", "enabled", "degraded")
        },
    );
    ip(&["-n", &ns, "link", "set", "oam1", "up"]);
    wait_for(
        "everything cleared, available",
        || (resource_alarms(&s), host_states(&s)),
        |(a, h)| a.is_empty() && h["worker-0"] == state("unlocked", "enabled", "available"),
    );
}

/// The active alarms of `id`: (severity, entity).
fn alarms_of(s: &AllInOne, id: &str) -> Vec<(String, String)> {
    alarm_rows(s)
        .into_iter()
        .filter(|(i, ..)| i == id)
        .map(|(_, severity, entity)| (severity, entity))
        .collect()
}

/// A host whose BMC speaks IPMI (OpenIPMI's simulator, driven with
/// ipmitool): a BMC that refuses its credentials raises 200.010 until
/// they are right; the operator's power-off, power-on and reset go
/// through it, the password sealed and never on a command line, and the
/// host's agent is never handed them; its sensor is audited, logged or
/// alarmed by its group's actions, and a critical reading whose action is
/// `reset` resets the host through the BMC, once.
#[test]
fn an_ipmi_bmc_carries_out_power_and_reset() {
    let _turn = one_lab_at_a_time();
    let Some(bin) = starling_testkit::ipmi::simulator_or_skip() else {
        return;
    };
    let sim = starling_testkit::ipmi::start(&bin, "mtce");
    let mut lab = Lab::new(&["worker-0"], None);
    let port = sim.port.to_string();
    let s = all_in_one_on(
        "127.0.0.1",
        &[("STARLING_ADMIN_PASSWORD", PASSWORD)],
        &[
            "--system-mode",
            "duplex",
            "--system-type",
            "Standard",
            "--ipmi-port",
            &port,
            "--ipmi-interface",
            "lan",
            "--sensor-interval",
            "1s",
        ],
        true,
    );
    controller_in_service(&s);
    lab.provision_workers(&s);
    // The wrong password first: the BMC cannot be reached, 200.010.
    cli_ok(
        &s,
        "system",
        &[
            "host-update",
            "worker-0",
            "bm_type=ipmi",
            "bm_ip=127.0.0.1",
            "bm_username=admin",
            "bm_password=not-the-one",
        ],
    );
    wait_for(
        "the BMC access alarm",
        || alarms_of(&s, "200.010"),
        |a| a.as_slice() == [("warning".to_string(), "host=worker-0".to_string())],
    );
    let password = format!("bm_password={}", starling_testkit::ipmi::PASSWORD);
    let out = cli_ok(
        &s,
        "system",
        &[
            "host-update",
            "worker-0",
            "bm_type=ipmi",
            "bm_ip=127.0.0.1",
            "bm_username=admin",
            &password,
        ],
    );
    assert!(!out.contains(starling_testkit::ipmi::PASSWORD), "{out}");
    wait_for(
        "the BMC access alarm cleared",
        || alarms_of(&s, "200.010"),
        |a| a.is_empty(),
    );
    let done =
        |avail: &'static str| move |h: &Value| h["availability"] == avail && h["task"].is_null();

    let r = cli_json(&s, "system", &["host-power-off", "worker-0"]);
    assert_eq!(r["task"], "Powering Off", "{r}");
    wait_for("the BMC's power off", || sim.power_on(), |on| !on);
    lab.stop(0);
    wait_for(
        "worker-0 powered off",
        || cli_json(&s, "system", &["host-show", "worker-0"]),
        done("power-off"),
    );
    cli_ok(&s, "system", &["host-power-on", "worker-0"]);
    wait_for("the BMC's power on", || sim.power_on(), |on| *on);
    lab.reboot(&s, 0);
    wait_for(
        "worker-0 powered on",
        || cli_json(&s, "system", &["host-show", "worker-0"]),
        done("online"),
    );
    assert_eq!(sim.resets(), 0);
    let r = cli_json(&s, "system", &["host-reset", "worker-0"]);
    assert_eq!(r["task"], "Resetting", "{r}");
    wait_for("the BMC's reset", || sim.resets(), |n| *n == 1);
    wait_for(
        "worker-0's reset done",
        || cli_json(&s, "system", &["host-show", "worker-0"]),
        done("online"),
    );
    let logs = bmc_actions_done(&s, &lab);
    assert!(!logs.contains(starling_testkit::ipmi::PASSWORD));

    // Its sensor, recorded; major with the group's major action `log`: a
    // log, no alarm.
    wait_for(
        "CPU Temp recorded, reading well",
        || cli_json(&s, "system", &["host-sensor-list", "worker-0"]),
        |v| {
            v.as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x["name"] == "CPU Temp" && x["status"] == "ok")
            })
        },
    );
    cli_ok(
        &s,
        "system",
        &[
            "host-sensorgroup-modify",
            "worker-0",
            "server temperature",
            "actions_major_group=log",
            "actions_critical_group=reset",
        ],
    );
    sim.set_temperature(90);
    let sensor_logs = || -> Vec<String> {
        cli_json(&s, "fm", &["event-list", "--logs", "--nopaging"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["Event Log ID"] == "200.007")
            .map(|e| e["Reason Text"].as_str().unwrap().to_string())
            .collect()
    };
    let logged = wait_for("the sensor's major logged", sensor_logs, |l| !l.is_empty());
    assert!(
        logged[0].starts_with("worker-0 sensor CPU Temp is reporting a major threshold crossing"),
        "{logged:?}"
    );
    assert!(alarms_of(&s, "200.007").is_empty());
    // Critical, with `reset`: the alarm, and one reset through the BMC.
    sim.set_temperature(97);
    wait_for(
        "the critical sensor's alarm and reset",
        || (alarms_of(&s, "200.007"), sim.resets()),
        |(a, n)| {
            a.as_slice()
                == [(
                    "critical".to_string(),
                    "host=worker-0.sensor=CPU Temp".to_string(),
                )]
                && *n == 2
        },
    );
    // Still critical a few audits later: no second reset.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sim.resets(), 2);
    sim.set_temperature(40);
    wait_for(
        "the sensor's alarm cleared",
        || alarms_of(&s, "200.007"),
        |a| a.is_empty(),
    );
}
