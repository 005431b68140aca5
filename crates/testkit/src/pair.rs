//! Two controllers on one machine, for service management's labs and
//! soaks: each controller a network namespace running the real
//! `starling-sm`, joined by a management and a cluster-host bridge, each
//! with a BMC on a BMC network whose gateway (the root namespace) runs
//! the BMCs; a client namespace on the management bridge. SM is set up
//! with `starlingd sm configure`, as docs/ha.md tells an operator: the
//! floating management and OAM addresses (the `ip` executor) and an API
//! process behind the management one (the `process` executor: a small
//! HTTP server).
//!
//! Faults: a crash (every process of a namespace killed, its links down),
//! a signal to SM, a controller's link cut (its NIC loses carrier), a
//! one-way cut (nft drops what a controller receives from its peer), and
//! a boot after any of them. The sampler reads both namespaces' addresses
//! every period: a controller holding a floating address holds an active
//! group (the address is the first service enabled and the last
//! disabled in each).
//!
//! Needs root (namespaces), `ip`, `nft` for one-way cuts, `curl` and
//! `python3`; the BMC simulators as [`crate::sushy`] and [`crate::ipmi`]
//! find them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The API's port on the floating address (the stand-in API's).
pub const API_PORT: u16 = 18080;
/// The real API's (FM) and identity's ports, with [`Rig::use_database`].
pub const FM_PORT: u16 = 18002;
pub const IDENTITY_PORT: u16 = 5000;
/// Controller `i`'s PostgreSQL listens on `PG_PORT + i` (their sockets
/// share the machine's socket directory).
pub const PG_PORT: u16 = 15432;

/// The programs the rig runs.
#[derive(Clone, Debug)]
pub struct Binaries {
    /// For `starlingd sm configure` and `sm dump`.
    pub starlingd: PathBuf,
    pub starling_sm: PathBuf,
}

/// SM's timers in the rig (the domain's and the failover's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub hello_ms: u32,
    pub dead_ms: u32,
    pub wait_ms: u32,
    pub fail_pending_ms: u32,
    pub standby_fence_delay_ms: u32,
}

impl Profile {
    /// StarlingX's defaults: hello 200 ms, dead 800 ms, fail-pending 2 s
    /// (the standby's fence delay, which StarlingX has not, 2 s).
    pub const STARLINGX: Profile = Profile {
        hello_ms: 200,
        dead_ms: 800,
        wait_ms: 2000,
        fail_pending_ms: 2000,
        standby_fence_delay_ms: 2000,
    };
    /// The labs' timers: quick, with room for a loaded test machine.
    pub const LAB: Profile = Profile {
        hello_ms: 100,
        dead_ms: 600,
        wait_ms: 2000,
        fail_pending_ms: 300,
        standby_fence_delay_ms: 300,
    };
    /// docs/ha.md's quick failover: hello 100 ms, dead 400 ms,
    /// fail-pending 200 ms, the standby's fence 200 ms after.
    pub const FAST: Profile = Profile {
        hello_ms: 100,
        dead_ms: 400,
        wait_ms: 2000,
        fail_pending_ms: 200,
        standby_fence_delay_ms: 200,
    };
}

/// The controllers' BMCs.
#[derive(Clone, Debug)]
pub enum Fencing {
    /// sushy-tools' emulator (this binary): a reset is recorded, the
    /// controller left as it is.
    Redfish(PathBuf),
    /// OpenIPMI's simulator (this binary): a reset takes the controller
    /// down — every process killed, its links down — before it answers.
    Ipmi(PathBuf),
    /// No BMC: the peer cannot be fenced.
    None,
}

enum Bmc {
    Redfish(crate::sushy::Emulator),
    Ipmi(crate::ipmi::Simulator),
}

/// One controller.
pub struct Ctl {
    pub name: String,
    pub ns: String,
    pub dir: PathBuf,
    /// Its own management address.
    pub mgmt: String,
    sm: Option<Child>,
    /// Where its SM's log stood when this run of it started.
    started_at: usize,
}

/// The networks a controller is on, by the device inside it.
pub const NETS: [(&str, &str); 2] = [("mgmt0", "m"), ("clstr0", "c")];

/// A host of the rig's cloud: a namespace on both networks running the
/// real host agent, enrolled with the active controller's API, whose
/// heartbeat responder answers SM's witness probes.
pub struct Witness {
    pub name: String,
    pub ns: String,
    /// Its addresses on the management and cluster-host networks.
    pub addresses: [String; 2],
    agent: Option<Child>,
}

/// Where the hosts' agents listen for heartbeats (the agent's default,
/// SM's witness port's default).
pub const WITNESS_PORT: u16 = 2106;

/// The rig: torn down (processes, namespaces, bridges, files) on drop.
pub struct Rig {
    pub n: u32,
    pub ctl: Vec<Ctl>,
    pub client: String,
    pub witnesses: Vec<Witness>,
    bridges: Vec<String>,
    dir: PathBuf,
    bins: Binaries,
    bmcs: Vec<Bmc>,
    api_port: u16,
}

impl Drop for Rig {
    fn drop(&mut self) {
        for w in &mut self.witnesses {
            if let Some(mut a) = w.agent.take() {
                let _ = a.kill();
                let _ = a.wait();
            }
            let _ = Command::new("ip").args(["netns", "del", &w.ns]).status();
        }
        for c in &mut self.ctl {
            if let Some(mut sm) = c.sm.take() {
                let _ = sm.kill();
                let _ = sm.wait();
            }
            kill_all(&c.ns);
        }
        self.bmcs.clear();
        for ns in self
            .ctl
            .iter()
            .map(|c| c.ns.clone())
            .chain([self.client.clone()])
        {
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        for b in &self.bridges {
            let _ = Command::new("ip").args(["link", "del", b]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every process in namespace `ns`, killed at once.
pub fn kill_all(ns: &str) {
    if let Ok(o) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            // Some are gone already (a short-lived child): said nothing.
            let _ = Command::new("kill")
                .args(["-9", pid])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `ip ARGS`, which must succeed.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns(ns: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .unwrap()
}

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Writes `text` readable by its owner only.
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The addresses namespace `ns` holds on devices that are up (a crashed
/// controller's links are down: what they carry reaches no one).
fn addresses(ns: &str) -> Vec<String> {
    Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show", "up"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    let i = w.iter().position(|x| *x == "inet")?;
                    w.get(i + 1)
                        .and_then(|a| a.split('/').next())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One SM datagram seen on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    pub src: String,
    pub sport: u16,
    pub dst: String,
    pub dport: u16,
    pub payload: Vec<u8>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// The newest PostgreSQL's psql on this machine.
fn psql() -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/psql"))
        .filter(|p| p.exists())
        .max()
        .unwrap_or_else(|| PathBuf::from("psql"))
}

/// What a sampler saw.
#[derive(Clone, Copy, Debug, Default)]
pub struct Samples {
    pub samples: u32,
    /// Samples with a floating address on both controllers.
    pub both: u32,
    /// The longest time between two samples.
    pub longest_gap: Duration,
}

/// A sampler running until [`Sampler::stop`].
pub struct Sampler {
    on: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Samples>,
}

impl Sampler {
    pub fn stop(self) -> Samples {
        self.on.store(false, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

impl Rig {
    /// The network, the BMCs and SM's settings for both controllers (SM
    /// not yet started: [`Rig::start`]).
    pub fn new(bins: &Binaries, profile: Profile, fencing: &Fencing) -> Rig {
        static RIGS: AtomicU32 = AtomicU32::new(0);
        // A network number no other rig on this machine uses now (its
        // bridges are the mark).
        let base = 40 + RIGS.fetch_add(1, Ordering::Relaxed) + (std::process::id() % 50) * 4;
        let n = (0..210)
            .map(|k| 40 + (base + k * 7) % 210)
            .find(|n| !Path::new(&format!("/sys/class/net/smb{n}m")).exists())
            .expect("a free network number for the rig");
        let dir = std::env::temp_dir().join(format!("starling-pair-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pid = std::process::id() % 10_000;
        let mut rig = Rig {
            n,
            ctl: Vec::new(),
            client: format!("smw{pid}-{n}"),
            witnesses: Vec::new(),
            bridges: Vec::new(),
            dir: dir.clone(),
            bins: bins.clone(),
            bmcs: Vec::new(),
            api_port: API_PORT,
        };
        for net in ["m", "c", "b"] {
            let br = format!("smb{n}{net}");
            ip(&["link", "add", &br, "type", "bridge"]);
            ip(&["link", "set", &br, "up"]);
            rig.bridges.push(br);
        }
        // The BMC network's gateway is the root namespace, where the BMCs
        // listen.
        let gateway = format!("10.{n}.3.1");
        ip(&[
            "addr",
            "add",
            &format!("{gateway}/24"),
            "dev",
            &format!("smb{n}b"),
        ]);
        let veth = |ns: &str, inner: &str, br: &str, addr: &str, tag: &str| {
            let outer = format!("sv{n}{tag}");
            let _ = Command::new("ip").args(["link", "del", &outer]).output();
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", inner, "netns", ns,
            ]);
            ip(&["link", "set", &outer, "master", br, "up"]);
            ip(&["-n", ns, "addr", "add", addr, "dev", inner]);
            ip(&["-n", ns, "link", "set", inner, "up"]);
        };
        for i in 0..2u32 {
            let ns = format!("smc{pid}-{n}-{i}");
            let _ = Command::new("ip").args(["netns", "del", &ns]).output();
            ip(&["netns", "add", &ns]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            for (dev, net) in NETS {
                let octet = if net == "m" { 1 } else { 2 };
                veth(
                    &ns,
                    dev,
                    &format!("smb{n}{net}"),
                    &format!("10.{n}.{octet}.1{i}/24"),
                    &format!("{net}{i}"),
                );
            }
            veth(
                &ns,
                "bmc0",
                &format!("smb{n}b"),
                &format!("10.{n}.3.1{i}/24"),
                &format!("b{i}"),
            );
            let d = dir.join(format!("controller-{i}"));
            std::fs::create_dir_all(d.join("sm")).unwrap();
            rig.ctl.push(Ctl {
                name: format!("controller-{i}"),
                ns,
                dir: d,
                mgmt: format!("10.{n}.1.1{i}"),
                sm: None,
                started_at: 0,
            });
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &rig.client])
            .output();
        ip(&["netns", "add", &rig.client]);
        ip(&["-n", &rig.client, "link", "set", "lo", "up"]);
        veth(
            &rig.client,
            "mgmt0",
            &format!("smb{n}m"),
            &format!("10.{n}.1.100/24"),
            "w",
        );

        // SM set up as docs/ha.md tells an operator.
        rig.sm(0, &["key-generate"]);
        let key = std::fs::read_to_string(rig.ctl[0].dir.join("sm/sm.key")).unwrap();
        write_private(&rig.ctl[1].dir.join("sm/sm.key"), &key);
        for i in 0..2usize {
            let peer = 1 - i;
            let c = &rig.ctl[i];
            let mgmt = c.mgmt.clone();
            let mgmt_peer = format!("10.{n}.1.1{peer}");
            let clstr = format!("10.{n}.2.1{i}");
            let clstr_peer = format!("10.{n}.2.1{peer}");
            let floating = format!("address=10.{n}.1.2/24");
            let oam = format!("address=10.{n}.1.3/24");
            let command = format!("command=python3 -m http.server --bind 0.0.0.0 {API_PORT}");
            let ready = format!("ready=127.0.0.1:{API_PORT}");
            let peer_name = format!("controller-{peer}");
            let (hello, dead, wait) = (
                profile.hello_ms.to_string(),
                profile.dead_ms.to_string(),
                profile.wait_ms.to_string(),
            );
            let (fp, delay) = (
                profile.fail_pending_ms.to_string(),
                profile.standby_fence_delay_ms.to_string(),
            );
            for args in [
                vec![
                    "configure",
                    "interface",
                    "management-interface",
                    "--device",
                    "mgmt0",
                    "--address",
                    &mgmt,
                    "--peer-address",
                    &mgmt_peer,
                ],
                vec![
                    "configure",
                    "interface",
                    "cluster-host-interface",
                    "--device",
                    "clstr0",
                    "--address",
                    &clstr,
                    "--peer-address",
                    &clstr_peer,
                ],
                vec![
                    "configure",
                    "service-instance",
                    "management-ip",
                    &floating,
                    "device=mgmt0",
                ],
                vec![
                    "configure",
                    "service-instance",
                    "oam-ip",
                    &oam,
                    "device=mgmt0",
                ],
                vec![
                    "configure",
                    "plugin",
                    "starling-api",
                    "process",
                    "starling-api",
                ],
                vec![
                    "configure",
                    "service-instance",
                    "starling-api",
                    &command,
                    &ready,
                ],
                vec!["configure", "set", "PEER_NODE", &peer_name],
                vec!["configure", "set", "FAILPENDING_TIMEOUT_MS", &fp],
                vec!["configure", "set", "STANDBY_FENCE_DELAY_MS", &delay],
                vec![
                    "configure",
                    "domain",
                    "--hello-ms",
                    &hello,
                    "--dead-ms",
                    &dead,
                    "--wait-ms",
                    &wait,
                ],
            ] {
                rig.sm(i, &args);
            }
        }
        rig.fencing(fencing, &gateway);
        rig
    }

    /// Starts each controller's BMC on the BMC network and tells its peer
    /// how to reach it.
    fn fencing(&mut self, fencing: &Fencing, gateway: &str) {
        let n = self.n;
        for i in 0..2usize {
            let bmc = match fencing {
                Fencing::None => return,
                Fencing::Redfish(bin) => Bmc::Redfish(crate::sushy::start_on(
                    bin,
                    &format!("pair-bmc{i}-{n}"),
                    false,
                    gateway,
                )),
                Fencing::Ipmi(bin) => {
                    // A power cycle: every process killed, the links down.
                    let ns = &self.ctl[i].ns;
                    let reset = format!(
                        "for p in $(ip netns pids {ns}); do kill -9 $p; done; ip -n {ns} link set mgmt0 down; ip -n {ns} link set clstr0 down;"
                    );
                    Bmc::Ipmi(crate::ipmi::start_on(
                        bin,
                        &format!("pair-ipmi{i}-{n}"),
                        gateway,
                        &reset,
                    ))
                }
            };
            let peer = 1 - i;
            let settings: Vec<(&str, String)> = match &bmc {
                Bmc::Redfish(e) => {
                    write_private(
                        &self.ctl[peer].dir.join("sm/peer-bmc-password"),
                        crate::sushy::PASSWORD,
                    );
                    vec![
                        ("PEER_BMC_TYPE", "redfish".into()),
                        ("PEER_BMC_USERNAME", "root".into()),
                        ("PEER_BMC_ADDRESS", e.url.clone()),
                    ]
                }
                Bmc::Ipmi(s) => {
                    write_private(
                        &self.ctl[peer].dir.join("sm/peer-bmc-password"),
                        crate::ipmi::PASSWORD,
                    );
                    vec![
                        ("PEER_BMC_TYPE", "ipmi".into()),
                        ("PEER_BMC_USERNAME", "admin".into()),
                        ("PEER_BMC_ADDRESS", format!("{gateway}:{}", s.port)),
                        ("PEER_BMC_IPMI_INTERFACE", "lan".into()),
                    ]
                }
            };
            for (k, v) in settings {
                self.sm(peer, &["configure", "set", k, &v]);
            }
            self.bmcs.push(bmc);
        }
    }

    /// `starlingd sm ARGS` for controller `i`, which must succeed.
    pub fn sm(&self, i: usize, args: &[&str]) {
        let c = &self.ctl[i];
        let out = Command::new(&self.bins.starlingd)
            .arg("--data-dir")
            .arg(&c.dir)
            .args(["sm", "--node", &c.name])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "starlingd sm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `starlingd sm dump` of controller `i`.
    pub fn dump(&self, i: usize) -> String {
        let c = &self.ctl[i];
        let out = Command::new(&self.bins.starlingd)
            .arg("--data-dir")
            .arg(&c.dir)
            .args(["sm", "--node", &c.name, "dump"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts controller `i`'s SM (its log appended to `sm.log`).
    pub fn start(&mut self, i: usize) {
        let at = self.log(i).len();
        let c = &mut self.ctl[i];
        c.started_at = at;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(c.dir.join("sm.log"))
            .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &c.ns])
            .arg(&self.bins.starling_sm)
            .arg("--data-dir")
            .arg(&c.dir)
            .args(["--node", &c.name])
            .env("STARLING_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        c.sm = Some(child);
    }

    /// The pid of controller `i`'s SM (`ip netns exec` runs it in place).
    pub fn sm_pid(&self, i: usize) -> Option<u32> {
        self.ctl[i].sm.as_ref().map(Child::id)
    }

    /// Sends `signal` (`-STOP`, `-CONT`, `-9`) to controller `i`'s SM.
    pub fn signal(&mut self, i: usize, signal: &str) {
        let pid = self.sm_pid(i).expect("SM running").to_string();
        let ok = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(ok.success(), "kill {signal} {pid}");
        if signal == "-9" {
            self.reap(i);
        }
    }

    /// Forgets controller `i`'s SM once it is gone.
    pub fn reap(&mut self, i: usize) {
        if let Some(mut c) = self.ctl[i].sm.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Controller `i` crashes: every process in it killed, its links down.
    pub fn crash(&mut self, i: usize) {
        kill_all(&self.ctl[i].ns);
        self.reap(i);
        for (dev, _) in NETS {
            ip(&["-n", &self.ctl[i].ns, "link", "set", dev, "down"]);
        }
    }

    /// Controller `i`'s link `dev` loses carrier (its cable pulled), or
    /// gets it back.
    pub fn cable(&self, i: usize, dev: &str, connected: bool) {
        let net = NETS
            .iter()
            .find(|(d, _)| *d == dev)
            .expect("a rig network")
            .1;
        let outer = format!("sv{}{net}{i}", self.n);
        ip(&["link", "set", &outer, if connected { "up" } else { "down" }]);
    }

    /// The switch of network `dev` (`mgmt0`: the management bridge, the
    /// client's too) fails, or comes back: the controllers' links stay up.
    pub fn switch(&self, dev: &str, on: bool) {
        let net = NETS
            .iter()
            .find(|(d, _)| *d == dev)
            .expect("a rig network")
            .1;
        ip(&[
            "link",
            "set",
            &format!("smb{}{net}", self.n),
            if on { "up" } else { "down" },
        ]);
    }

    /// Controller `i` stops receiving from its peer on `devs` (its
    /// interfaces stay up: a one-way cut), or, with no devices, receives
    /// again on all.
    pub fn deafen(&self, i: usize, devs: &[&str]) {
        let ns = &self.ctl[i].ns;
        let _ = in_ns(ns, &["nft", "delete", "table", "inet", "cut"]);
        if devs.is_empty() {
            return;
        }
        let peer = 1 - i;
        let mut rules = String::from(
            "table inet cut { chain input { type filter hook input priority -10; policy accept;\n",
        );
        for dev in devs {
            let octet = if *dev == "mgmt0" { 1 } else { 2 };
            rules.push_str(&format!(
                "iifname \"{dev}\" ip saddr 10.{}.{octet}.1{peer} meta l4proto udp drop\n",
                self.n
            ));
        }
        rules.push_str("}\n}\n");
        self.nft_load(ns, &format!("cut-{i}.nft"), &rules);
    }

    /// Loads nft `rules` in namespace `ns` (kept in the rig's `file`).
    fn nft_load(&self, ns: &str, file: &str, rules: &str) {
        let path = self.dir.join(file);
        std::fs::write(&path, rules).unwrap();
        let out = in_ns(ns, &["nft", "-f", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "nft: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Controller `i` boots after a crash or a fence: nothing of its old
    /// run left (processes, floating addresses, cuts), its links up, SM
    /// started.
    pub fn boot(&mut self, i: usize) {
        self.power_on(i);
        self.start(i);
    }

    /// Controller `i` comes back with nothing of its old run (processes,
    /// floating addresses, cuts) and its links up; nothing started.
    pub fn power_on(&mut self, i: usize) {
        kill_all(&self.ctl[i].ns);
        self.reap(i);
        self.deafen(i, &[]);
        self.sever(i, &[]);
        let ns = self.ctl[i].ns.clone();
        for (dev, net) in NETS {
            let octet = if net == "m" { 1 } else { 2 };
            ip(&["-n", &ns, "addr", "flush", "dev", dev]);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.{}.{octet}.1{i}/24", self.n),
                "dev",
                dev,
            ]);
            ip(&["-n", &ns, "link", "set", dev, "up"]);
            self.cable(i, dev, true);
        }
    }

    /// The SM datagrams between the controllers that cross controller
    /// `i`'s management link during `secs` (an AF_PACKET capture of every
    /// protocol in its namespace, so both directions).
    pub fn capture_sm(&self, i: usize, secs: f64) -> Vec<Datagram> {
        let n = self.n;
        let script = format!(
            r#"
import socket, struct, time
r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
r.bind(("mgmt0", 0))
r.settimeout(0.1)
pair = {{"10.{n}.1.10", "10.{n}.1.11"}}
t = time.time()
while time.time() - t < {secs}:
    try:
        f = r.recv(65535)
    except socket.timeout:
        continue
    ip = f[14:]
    if f[12:14] != b"\x08\x00" or len(ip) < 28 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    if {{src, dst}} != pair:
        continue
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    payload = ip[ihl + 8:]
    if payload[:4] == b"STSM":
        print(src, sport, dst, dport, payload.hex(), flush=True)
"#
        );
        let out = in_ns(&self.ctl[i].ns, &["python3", "-c", &script]);
        assert!(
            out.status.success(),
            "capture: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                Some(Datagram {
                    src: w.first()?.to_string(),
                    sport: w.get(1)?.parse().ok()?,
                    dst: w.get(2)?.to_string(),
                    dport: w.get(3)?.parse().ok()?,
                    payload: unhex(w.get(4)?),
                })
            })
            .collect()
    }

    /// Puts `datagrams` on the management network from the client's
    /// namespace, each with its own (spoofed) source, `rounds` times
    /// `every` apart (a raw socket: the kernel fills in the IP header's
    /// checksum; UDP's is left out, as IPv4 allows).
    pub fn inject(&self, datagrams: &[Datagram], rounds: u32, every: Duration) {
        let list: Vec<String> = datagrams
            .iter()
            .map(|d| {
                format!(
                    "(\"{}\", {}, \"{}\", {}, bytes.fromhex(\"{}\"))",
                    d.src,
                    d.sport,
                    d.dst,
                    d.dport,
                    hex(&d.payload)
                )
            })
            .collect();
        let script = format!(
            r#"
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
grams = [{}]
for _ in range({rounds}):
    for src, sport, dst, dport, payload in grams:
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                          socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(iph + udp, (dst, 0))
    time.sleep({})
"#,
            list.join(", "),
            every.as_secs_f64()
        );
        let out = in_ns(&self.client, &["python3", "-c", &script]);
        assert!(
            out.status.success(),
            "inject: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The floating management address.
    pub fn floating(&self) -> String {
        format!("10.{}.1.2", self.n)
    }

    fn floating_all(&self) -> [String; 2] {
        [self.floating(), format!("10.{}.1.3", self.n)]
    }

    /// The API's URL on the floating address.
    pub fn api(&self) -> String {
        format!("http://{}:{}/", self.floating(), self.api_port)
    }

    /// The API becomes the real `starlingd` with inventory and host
    /// maintenance (FM and identity beside them, on each controller's own
    /// SQLite), both controllers holding the same heartbeat key — the
    /// file SM's witness probes read too. Before [`Rig::start`].
    pub fn use_inventory(&mut self) {
        let mut key = [0u8; 32];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut key)
            .unwrap();
        for i in 0..2 {
            let d = self.ctl[i].dir.clone();
            let key_file = d.join("heartbeat-key");
            write_private(&key_file, &format!("{}\n", hex(&key)));
            let command = format!(
                "command=env STARLING_ADMIN_PASSWORD=Rig-admin-{n} STARLING_LOG=warn {} --data-dir {} --bind 0.0.0.0 --services fm,identity,inventory,mtce --heartbeat-key-file {} --heartbeat-cluster-address 10.{n}.2.1{i}",
                self.bins.starlingd.display(),
                d.join("api").display(),
                key_file.display(),
                n = self.n,
            );
            self.api_unit(i, &command);
        }
        self.api_port = FM_PORT;
    }

    /// Controller `i`'s API unit runs `command` (`command=…`, a
    /// starlingd), ready once FM answers.
    fn api_unit(&self, i: usize, command: &str) {
        let ready = format!("ready=127.0.0.1:{FM_PORT}");
        self.sm(
            i,
            &[
                "configure",
                "service-instance",
                "starling-api",
                command,
                &ready,
            ],
        );
    }

    /// `k` hosts (`worker-0`…) on both networks, each running the real
    /// host agent (`agent`) against the API on the floating address,
    /// enrolled with the active controller's secret; returns once each
    /// answers SM's witness probes (both SMs count every one of them).
    /// After [`Rig::use_inventory`], with a controller active.
    pub fn add_witnesses(&mut self, agent: &Path, k: usize) {
        let n = self.n;
        let pid = std::process::id() % 10_000;
        let active = self.holder().expect("an active controller");
        let enrollment = self.ctl[active].dir.join("api/agent-enrollment");
        self.wait_for(
            "the API's enrollment secret",
            Duration::from_secs(30),
            || enrollment.exists(),
        );
        let secret = std::fs::read_to_string(&enrollment).unwrap();
        for j in 0..k {
            let name = format!("worker-{j}");
            let ns = format!("smh{pid}-{n}-{j}");
            let _ = Command::new("ip").args(["netns", "del", &ns]).output();
            ip(&["netns", "add", &ns]);
            self.witnesses.push(Witness {
                name: name.clone(),
                ns: ns.clone(),
                addresses: [
                    format!("10.{n}.1.{}", 50 + j),
                    format!("10.{n}.2.{}", 50 + j),
                ],
                agent: None,
            });
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            let mac = format!("02:fd:00:{:02x}:00:{:02x}", n % 256, j + 1);
            for (dev, net, octet) in [("eth0", "m", 1), ("eth1", "c", 2)] {
                let outer = format!("sv{n}{net}h{j}");
                let _ = Command::new("ip").args(["link", "del", &outer]).output();
                ip(&[
                    "link", "add", &outer, "type", "veth", "peer", "name", dev, "netns", &ns,
                ]);
                ip(&[
                    "link",
                    "set",
                    &outer,
                    "master",
                    &format!("smb{n}{net}"),
                    "up",
                ]);
                if dev == "eth0" {
                    ip(&["-n", &ns, "link", "set", dev, "address", &mac]);
                }
                ip(&[
                    "-n",
                    &ns,
                    "addr",
                    "add",
                    &format!("10.{n}.{octet}.{}/24", 50 + j),
                    "dev",
                    dev,
                ]);
                ip(&["-n", &ns, "link", "set", dev, "up"]);
            }
            // The host's hardware, as the agent reads it: the fixture's,
            // with this host's name and MAC.
            let root = self.dir.join(&name);
            crate::host_root(&root, &name, &mac);
            let log = std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
            let f = self.floating();
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &ns])
                .arg(agent)
                .args(["--inventory-url", &format!("http://{f}:6385")])
                .args(["--mtce-url", &format!("http://{f}:2112")])
                .args(["--heartbeat-port", &WITNESS_PORT.to_string()])
                .args(["--cluster-address", &format!("10.{n}.2.{}", 50 + j)])
                .args(["--interval", "1s"])
                .arg("--root")
                .arg(&root)
                .arg("--state-dir")
                .arg(self.dir.join(format!("{name}-state")))
                .arg("--pmon-dir")
                .arg(self.dir.join(format!("{name}-pmon.d")))
                .args(crate::QUIET_RESOURCES)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            for (k, _) in std::env::vars() {
                if k.starts_with("STARLING_") || k.starts_with("OS_") {
                    c.env_remove(k);
                }
            }
            c.env("STARLING_AGENT_ENROLLMENT", secret.trim())
                .env("STARLING_LOG", "info");
            self.witnesses[j].agent = Some(c.spawn().unwrap());
        }
        self.wait_witnesses(k, Duration::from_secs(90));
    }

    /// Waits until both SMs (their current runs) count `k` witnesses.
    pub fn wait_witnesses(&self, k: usize, limit: Duration) {
        let want = format!("population={k}");
        self.wait_for("both SMs counting every host as a witness", limit, || {
            (0..2).all(|i| {
                let log = self.log(i);
                log.get(self.ctl[i].started_at..)
                    .unwrap_or_default()
                    .lines()
                    .rev()
                    .find(|l| l.contains("witnesses: hosts heard by both"))
                    .is_some_and(|l| l.contains(&want))
            })
        });
    }

    /// Host `j`'s agent log.
    pub fn witness_log(&self, j: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("{}.log", self.witnesses[j].name)))
            .unwrap_or_default()
    }

    /// Controller `i` and `others` (addresses) stop reaching each other,
    /// both ways, on every network (nft in controller `i`); with none,
    /// they reach each other again.
    pub fn sever(&self, i: usize, others: &[String]) {
        self.sever_in(&self.ctl[i].ns, &format!("sever-c{i}.nft"), others);
    }

    /// Host `j` and `others` (addresses) stop reaching each other, as
    /// [`Rig::sever`] does for a controller (a broadcast from one of them
    /// included, which only the receiving side can drop).
    pub fn sever_witness(&self, j: usize, others: &[String]) {
        self.sever_in(&self.witnesses[j].ns, &format!("sever-w{j}.nft"), others);
    }

    fn sever_in(&self, ns: &str, file: &str, others: &[String]) {
        let _ = in_ns(ns, &["nft", "delete", "table", "inet", "sever"]);
        if others.is_empty() {
            return;
        }
        let set = others.join(", ");
        let rules = format!(
            "table inet sever {{ chain input {{ type filter hook input priority -10; policy accept;\nip saddr {{ {set} }} drop\n}}\nchain output {{ type filter hook output priority -10; policy accept;\nip daddr {{ {set} }} drop\n}}\n}}\n"
        );
        self.nft_load(ns, file, &rules);
    }

    /// Controller `i`'s own addresses on both networks.
    pub fn addresses_of(&self, i: usize) -> [String; 2] {
        [
            format!("10.{}.1.1{i}", self.n),
            format!("10.{}.2.1{i}", self.n),
        ]
    }

    /// The API becomes the real `starlingd` (FM and identity, the admin's
    /// password `password`, the event log kept whole) on a PostgreSQL of
    /// each controller's own
    /// (the machine's binaries; controller-0's bootstraps the cluster, the
    /// standby streams from the primary over the management network), as
    /// docs/ha.md sets a duplex cloud up. Before [`Rig::start`].
    pub fn use_database(&mut self, password: &str) {
        let n = self.n;
        for i in 0..2 {
            let peer = 1 - i;
            let d = self.ctl[i].dir.clone();
            let port = PG_PORT + i as u16;
            // PostgreSQL's user authenticates to the peer with this (the
            // same on both controllers).
            let pw_file = self.dir.join(format!("pg-password-{i}"));
            write_private(&pw_file, &format!("{}\n", self.db_password()));
            let mut params = vec![
                format!("password_file={}", pw_file.display()),
                // Beside, not inside, the controller's directory, which
                // starlingd keeps private: PostgreSQL's user reaches it.
                format!("pgdata={}", self.dir.join(format!("pgdata-{i}")).display()),
                format!("port={port}"),
                format!("peer=10.{n}.1.1{peer}"),
                format!("peer_port={}", PG_PORT + peer as u16),
                format!("node=controller-{i}"),
                format!("peer_node=controller-{peer}"),
            ];
            if i == 0 {
                params.push("bootstrap=yes".into());
            }
            let mut args = vec!["configure", "service-instance", "postgres"];
            args.extend(params.iter().map(String::as_str));
            self.sm(i, &args);
            self.sm(i, &["configure", "provision", "postgres"]);
            let command = format!(
                "command=env STARLING_ADMIN_PASSWORD={password} STARLING_LOG=warn STARLING_EVENT_LOG_MAX_ROWS=100000000 {} --data-dir {} --database-url postgres://postgres@127.0.0.1:{port}/postgres --bind 0.0.0.0 --services fm,identity",
                self.bins.starlingd.display(),
                d.join("api").display()
            );
            self.api_unit(i, &command);
        }
        self.api_port = FM_PORT;
    }

    /// The password PostgreSQL's user authenticates to the peer with,
    /// with [`Rig::use_database`].
    pub fn db_password(&self) -> String {
        format!("Repl-{}-pw", self.n)
    }

    /// `sql` from controller `from`'s namespace on controller `to`'s
    /// PostgreSQL over the management network, with `password` or none.
    pub fn sql_over(
        &self,
        from: usize,
        to: usize,
        password: Option<&str>,
        sql: &str,
    ) -> Result<String, String> {
        let host = format!("10.{}.1.1{to}", self.n);
        self.psql_in(from, &host, PG_PORT + to as u16, password, sql)
    }

    /// `sql` on controller `i`'s PostgreSQL (over TCP in its namespace,
    /// where the local address is trusted): its answer, or psql's error.
    pub fn sql(&self, i: usize, sql: &str) -> Result<String, String> {
        self.psql_in(i, "127.0.0.1", PG_PORT + i as u16, None, sql)
    }

    /// psql as PostgreSQL's user in controller `i`'s namespace, never
    /// prompting: the answer, or its error.
    fn psql_in(
        &self,
        i: usize,
        host: &str,
        port: u16,
        password: Option<&str>,
        sql: &str,
    ) -> Result<String, String> {
        let port = port.to_string();
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.ctl[i].ns,
            "runuser",
            "-u",
            "postgres",
            "--",
        ])
        .arg(psql())
        .args([
            "-X", "-A", "-t", "-w", "-h", host, "-p", &port, "-U", "postgres",
        ])
        .args(["-d", "postgres", "-c", sql])
        .env_remove("PGPASSWORD");
        if let Some(pw) = password {
            cmd.env("PGPASSWORD", pw);
        }
        let out = cmd.output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Which controllers hold a floating address (on a device that is up).
    pub fn holders(&self) -> [bool; 2] {
        let f = self.floating_all();
        let held = |ns: &str| addresses(ns).iter().any(|a| f.contains(a));
        [held(&self.ctl[0].ns), held(&self.ctl[1].ns)]
    }

    /// The one controller holding a floating address, when exactly one
    /// does.
    pub fn holder(&self) -> Option<usize> {
        match self.holders() {
            [true, false] => Some(0),
            [false, true] => Some(1),
            _ => None,
        }
    }

    /// The client's GET of the API on the floating address (1 s limit).
    pub fn client_reaches(&self) -> bool {
        in_ns(
            &self.client,
            &["curl", "-s", "-o", "/dev/null", "-m", "1", &self.api()],
        )
        .status
        .success()
    }

    /// Controller `i`'s IPMI BMC as its peer reaches it: (address, UDP
    /// port); none with other BMCs.
    pub fn ipmi_bmc(&self, i: usize) -> Option<(String, u16)> {
        match self.bmcs.get(i) {
            Some(Bmc::Ipmi(s)) => Some((format!("10.{}.3.1", self.n), s.port)),
            _ => None,
        }
    }

    /// The chassis calls controller `i`'s IPMI BMC made (`set power 0`,
    /// `set reset 1`, …), one a line.
    pub fn ipmi_calls(&self, i: usize) -> String {
        match self.bmcs.get(i) {
            Some(Bmc::Ipmi(s)) => std::fs::read_to_string(s.dir.join("calls")).unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// How many resets controller `i`'s BMC was asked for.
    pub fn resets(&self, i: usize) -> usize {
        match self.bmcs.get(i) {
            Some(Bmc::Redfish(e)) => e.resets(),
            Some(Bmc::Ipmi(s)) => s.resets(),
            None => 0,
        }
    }

    /// Samples both controllers every `period` until stopped.
    pub fn sample(&self, period: Duration) -> Sampler {
        let on = Arc::new(AtomicBool::new(true));
        let (o, f) = (on.clone(), self.floating_all());
        let nss: Vec<String> = self.ctl.iter().map(|c| c.ns.clone()).collect();
        let thread = std::thread::spawn(move || {
            let mut s = Samples::default();
            let mut last = Instant::now();
            let mut next = Instant::now();
            while o.load(Ordering::Relaxed) {
                let held = |ns: &str| addresses(ns).iter().any(|a| f.contains(a));
                if held(&nss[0]) && held(&nss[1]) {
                    s.both += 1;
                }
                s.samples += 1;
                let now = Instant::now();
                s.longest_gap = s.longest_gap.max(now - last);
                last = now;
                next += period;
                match next.checked_duration_since(Instant::now()) {
                    Some(d) => std::thread::sleep(d),
                    None => next = Instant::now(),
                }
            }
            s
        });
        Sampler { on, thread }
    }

    /// Waits up to `limit` for `f`; panics with SM's logs past it.
    pub fn wait_for(&self, what: &str, limit: Duration, f: impl Fn() -> bool) -> Duration {
        let t0 = Instant::now();
        while !f() {
            assert!(
                t0.elapsed() < limit,
                "{what} within {limit:?}; SM logs:\n{}",
                self.logs(60)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        t0.elapsed()
    }

    /// Until `limit`: whether `f` came true (no panic).
    pub fn within(limit: Duration, f: impl Fn() -> bool) -> Option<Duration> {
        let t0 = Instant::now();
        loop {
            if f() {
                return Some(t0.elapsed());
            }
            if t0.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Controller `i`'s SM log, every run of it.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.ctl[i].dir.join("sm.log")).unwrap_or_default()
    }

    /// The last `lines` lines of each controller's SM log.
    pub fn logs(&self, lines: usize) -> String {
        self.ctl
            .iter()
            .map(|c| {
                let l = std::fs::read_to_string(c.dir.join("sm.log")).unwrap_or_default();
                let tail: Vec<&str> = l.lines().rev().take(lines).collect();
                format!(
                    "--- {}\n{}",
                    c.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Both controllers settled: one holding the floating addresses and
    /// serving the API, the other standby, both back to `normal`.
    pub fn settled(&self, limit: Duration) -> usize {
        self.wait_for(
            "one controller holding the floating addresses",
            limit,
            || self.holder().is_some(),
        );
        self.wait_for("the client reaching the API", limit, || {
            self.client_reaches()
        });
        self.wait_for(
            "both SMs hearing the peer and back to normal",
            limit,
            || {
                (0..2).all(|i| {
                    let log = self.log(i);
                    let run = log.get(self.ctl[i].started_at..).unwrap_or_default();
                    let last_state = run
                        .lines()
                        .rev()
                        .find(|l| l.contains("failover state"))
                        .is_none_or(|l| l.contains("to=\"normal\""));
                    run.contains("the peer controller answers") && last_state
                })
            },
        );
        self.wait_for(
            "both controllers normal, one active, one standby",
            limit,
            || {
                let d = [self.dump(0), self.dump(1)];
                let role = |d: &str, r: &str| {
                    d.lines()
                        .any(|l| l.starts_with("controller-services") && l.contains(r))
                };
                (role(&d[0], " active") && role(&d[1], " standby"))
                    || (role(&d[1], " active") && role(&d[0], " standby"))
            },
        );
        self.holder().unwrap()
    }
}

/// A small deterministic generator (xorshift64*), so a soak's faults can
/// be replayed from its seed.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.max(1))
    }

    pub fn roll(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// In `[lo, hi)`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.roll() % (hi - lo).max(1)
    }

    pub fn coin(&mut self) -> bool {
        self.roll() & 1 == 1
    }
}

/// One randomized partition: what was cut, for how long.
#[derive(Clone, Debug, Default)]
pub struct Fault {
    /// (controller, device) cables pulled.
    pub cables: Vec<(usize, &'static str)>,
    /// Switches failed (by the controllers' device on them).
    pub switches: Vec<&'static str>,
    /// (controller, devices) deaf to the peer (one-way cuts).
    pub deaf: Vec<(usize, Vec<&'static str>)>,
    /// A controller's SM stopped (SIGSTOP) for the fault's duration.
    pub stall: Option<usize>,
    pub lasts: Duration,
}

impl Fault {
    /// A random partition: cables pulled, switches failed, paths made
    /// one-way, an SM stalled, or several at once; lasting 100 ms to 4 s.
    pub fn random(d: &mut Dice) -> Fault {
        let mut f = Fault {
            lasts: Duration::from_millis(d.range(100, 4000)),
            ..Fault::default()
        };
        loop {
            match d.range(0, 4) {
                3 => {
                    for (dev, _) in NETS {
                        if d.coin() && !f.switches.contains(&dev) {
                            f.switches.push(dev);
                        }
                    }
                }
                0 => {
                    for i in 0..2 {
                        for (dev, _) in NETS {
                            if d.range(0, 3) == 0 && !f.cables.contains(&(i, dev)) {
                                f.cables.push((i, dev));
                            }
                        }
                    }
                }
                1 => {
                    let i = d.range(0, 2) as usize;
                    let devs: Vec<&'static str> = match d.range(0, 3) {
                        0 => vec!["mgmt0"],
                        1 => vec!["clstr0"],
                        _ => vec!["mgmt0", "clstr0"],
                    };
                    f.deaf.push((i, devs));
                }
                _ => f.stall = Some(d.range(0, 2) as usize),
            }
            let something = !f.cables.is_empty()
                || !f.switches.is_empty()
                || !f.deaf.is_empty()
                || f.stall.is_some();
            // Often one fault alone, sometimes several together.
            if something && d.range(0, 3) != 0 {
                break;
            }
        }
        f
    }
}

/// What a soak of randomized partitions saw.
#[derive(Clone, Debug, Default)]
pub struct SoakReport {
    pub partitions: u32,
    pub samples: Samples,
    /// Partitions after which the other controller was active.
    pub takeovers: u32,
    /// Controllers fenced (booted again after).
    pub fenced: u32,
    /// BMC resets asked for, per controller.
    pub resets: [usize; 2],
    /// Takeovers without the old active fenced nor stepping down itself
    /// (must be 0).
    pub unfenced_takeovers: u32,
}

impl Rig {
    /// `partitions` randomized partitions from `seed`, sampling both
    /// controllers every `period`; after each, the cuts healed, a fenced
    /// controller booted, and the pair settled again. `progress` hears
    /// each partition's number and fault.
    pub fn soak(
        &mut self,
        partitions: u32,
        seed: u64,
        period: Duration,
        mut progress: impl FnMut(u32, &Fault),
    ) -> SoakReport {
        let mut dice = Dice::new(seed);
        let mut report = SoakReport::default();
        let settle = Duration::from_secs(60);
        let mut active = self.settled(settle);
        let sampler = self.sample(period);
        for k in 0..partitions {
            let f = Fault::random(&mut dice);
            progress(k + 1, &f);
            let before = [self.resets(0), self.resets(1)];
            let logged = [self.log(0).len(), self.log(1).len()];
            for (i, dev) in &f.cables {
                self.cable(*i, dev, false);
            }
            for dev in &f.switches {
                self.switch(dev, false);
            }
            for (i, devs) in &f.deaf {
                self.deafen(*i, devs);
            }
            if let Some(i) = f.stall
                && self.sm_pid(i).is_some()
            {
                let _ = Command::new("kill")
                    .args(["-STOP", &self.sm_pid(i).unwrap().to_string()])
                    .status();
            }
            std::thread::sleep(f.lasts);
            for (i, dev) in &f.cables {
                self.cable(*i, dev, true);
            }
            for dev in &f.switches {
                self.switch(dev, true);
            }
            for (i, _) in &f.deaf {
                self.deafen(*i, &[]);
            }
            if let Some(i) = f.stall
                && let Some(pid) = self.sm_pid(i)
            {
                let _ = Command::new("kill")
                    .args(["-CONT", &pid.to_string()])
                    .status();
            }
            // A fenced controller is down (its processes killed by the
            // BMC's reset): it boots, and the pair settles.
            std::thread::sleep(Duration::from_millis(300));
            for i in 0..2 {
                let gone = self.ctl[i]
                    .sm
                    .as_mut()
                    .is_none_or(|c| c.try_wait().ok().flatten().is_some());
                if gone {
                    report.fenced += 1;
                    self.boot(i);
                }
            }
            let now = self.settled(settle);
            std::thread::sleep(Duration::from_millis(500));
            if now != active {
                report.takeovers += 1;
                let fenced = self.resets(active) > before[active];
                let stepped_down = self
                    .log(active)
                    .get(logged[active]..)
                    .is_some_and(|l| l.contains("stepping down to standby"));
                if !fenced && !stepped_down {
                    report.unfenced_takeovers += 1;
                }
            }
            active = now;
            report.partitions += 1;
        }
        report.samples = sampler.stop();
        report.resets = [self.resets(0), self.resets(1)];
        report
    }
}
