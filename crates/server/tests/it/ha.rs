//! Two controllers, each a network namespace running the real
//! `starlingd sm`, joined by a management and a cluster-host bridge, each
//! with a BMC (sushy-tools' Redfish emulator) on a BMC network; a client
//! namespace on the management bridge. SM (`starling-sm`) is set up with
//! `starlingd sm configure` as an operator would (docs/ha.md): the floating management
//! address (the `ip` executor, announced with gratuitous ARP) and an API
//! process behind it (the `process` executor). One controller goes
//! active and the client reaches the API on the floating address; the
//! active controller crashes (every process in its namespace killed, its
//! links down); the other fences it through its BMC, takes the address
//! and starts the API, and the client reaches it again, on the new MAC.
//! Every 20 ms both namespaces are sampled for the floating address:
//! never on both. A second test stops the active's SM (SIGSTOP) with its
//! services up; its peer fences it through an IPMI BMC (ipmi_sim) whose
//! reset takes the controller down before it answers, takes over, and the
//! stalled controller, booted again, rejoins as standby.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::hosts::{ip, namespaces};
use super::*;
use starling_testkit::sushy;

const API_PORT: u16 = 18080;

struct Ctl {
    name: String,
    ns: String,
    dir: PathBuf,
    mgmt: String,
    sm: Option<Child>,
}

struct Lab {
    n: u32,
    ctl: Vec<Ctl>,
    client: String,
    bridges: Vec<String>,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.ctl {
            if let Some(mut sm) = c.sm.take() {
                let _ = sm.kill();
                let _ = sm.wait();
            }
            kill_all(&c.ns);
        }
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

/// Every process in namespace `ns`, killed at once (a crash).
fn kill_all(ns: &str) {
    if let Ok(o) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
    }
}

fn in_ns(ns: &str, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .unwrap()
}

/// Whether namespace `ns` holds `address` on `dev`, up (a crashed
/// controller's links are down: what they carry reaches no one).
fn holds(ns: &str, dev: &str, address: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show", "dev", dev, "up"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|w| w.split('/').next() == Some(address))
        })
        .unwrap_or(false)
}

/// The client's GET of the API on the floating address.
fn client_reaches(ns: &str, url: &str) -> bool {
    in_ns(ns, &["curl", "-s", "-o", "/dev/null", "-m", "1", url])
        .status
        .success()
}

fn sm(c: &Ctl, args: &[&str]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_starlingd"));
    cmd.arg("--data-dir")
        .arg(&c.dir)
        .args(["sm", "--node", &c.name])
        .args(args);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "starlingd sm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `starlingd sm dump` of controller `c`.
fn dump(c: &Ctl) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_starlingd"))
        .arg("--data-dir")
        .arg(&c.dir)
        .args(["sm", "--node", &c.name, "dump"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start_sm(c: &mut Ctl) {
    let log = std::fs::File::create(c.dir.join("sm.log")).unwrap();
    // The standalone binary runs it (configured through `starlingd sm`).
    let child = Command::new("ip")
        .args(["netns", "exec", &c.ns])
        .arg(env!("CARGO_BIN_EXE_starling-sm"))
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

impl Lab {
    /// The network and SM's settings, but for the peer's BMC address
    /// (the emulators listen on the BMC network the lab makes).
    fn new() -> Lab {
        static LABS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = 40
            + LABS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + (std::process::id() % 50) * 4;
        let n = n % 250;
        let dir = tmpdir();
        let pid = std::process::id() % 10_000;
        let mut lab = Lab {
            n,
            ctl: Vec::new(),
            client: format!("smw{pid}-{n}"),
            bridges: Vec::new(),
            dir: dir.clone(),
        };
        for net in ["m", "c", "b"] {
            let br = format!("smb{n}{net}");
            ip(&["link", "add", &br, "type", "bridge"]);
            ip(&["link", "set", &br, "up"]);
            lab.bridges.push(br);
        }
        // The BMC network's gateway is the root namespace, where the BMCs
        // listen.
        ip(&[
            "addr",
            "add",
            &format!("10.{n}.3.1/24"),
            "dev",
            &format!("smb{n}b"),
        ]);
        let veth = |ns: &str, inner: &str, br: &str, addr: &str, tag: &str| {
            let outer = format!("sv{n}{tag}");
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", inner, "netns", ns,
            ]);
            ip(&["link", "set", &outer, "master", br, "up"]);
            ip(&["-n", ns, "addr", "add", addr, "dev", inner]);
            ip(&["-n", ns, "link", "set", inner, "up"]);
        };
        for i in 0..2u32 {
            let ns = format!("smc{pid}-{n}-{i}");
            ip(&["netns", "add", &ns]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            veth(
                &ns,
                "mgmt0",
                &format!("smb{n}m"),
                &format!("10.{n}.1.1{i}/24"),
                &format!("m{i}"),
            );
            veth(
                &ns,
                "clstr0",
                &format!("smb{n}c"),
                &format!("10.{n}.2.1{i}/24"),
                &format!("c{i}"),
            );
            veth(
                &ns,
                "bmc0",
                &format!("smb{n}b"),
                &format!("10.{n}.3.1{i}/24"),
                &format!("b{i}"),
            );
            let d = dir.join(format!("controller-{i}"));
            std::fs::create_dir_all(&d).unwrap();
            lab.ctl.push(Ctl {
                name: format!("controller-{i}"),
                ns,
                dir: d,
                mgmt: format!("10.{n}.1.1{i}"),
                sm: None,
            });
        }
        ip(&["netns", "add", &lab.client]);
        ip(&["-n", &lab.client, "link", "set", "lo", "up"]);
        veth(
            &lab.client,
            "mgmt0",
            &format!("smb{n}m"),
            &format!("10.{n}.1.100/24"),
            "w",
        );
        // SM set up as docs/ha.md tells an operator.
        sm(&lab.ctl[0], &["key-generate"]);
        let key = std::fs::read_to_string(lab.ctl[0].dir.join("sm/sm.key")).unwrap();
        for i in 0..2usize {
            let c = &lab.ctl[i];
            let peer = 1 - i;
            let sm_dir = c.dir.join("sm");
            std::fs::create_dir_all(&sm_dir).unwrap();
            if i == 1 {
                write_private(&sm_dir.join("sm.key"), &key);
            }
            write_private(&sm_dir.join("peer-bmc-password"), sushy::PASSWORD);
            let mgmt_peer = format!("10.{n}.1.1{peer}");
            let clstr = format!("10.{n}.2.1{i}");
            let clstr_peer = format!("10.{n}.2.1{peer}");
            let floating = format!("address=10.{n}.1.2/24");
            let oam = format!("address=10.{n}.1.3/24");
            let command = format!("command=python3 -m http.server --bind 0.0.0.0 {API_PORT}");
            let ready = format!("ready=127.0.0.1:{API_PORT}");
            let peer_name = format!("controller-{peer}");
            for args in [
                vec![
                    "configure",
                    "interface",
                    "management-interface",
                    "--device",
                    "mgmt0",
                    "--address",
                    &c.mgmt,
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
                vec!["configure", "set", "FAILPENDING_TIMEOUT_MS", "1200"],
                vec!["configure", "set", "STANDBY_FENCE_DELAY_MS", "500"],
                vec!["configure", "set", "PEER_BMC_TYPE", "redfish"],
                vec!["configure", "set", "PEER_BMC_USERNAME", "root"],
                vec!["configure", "domain", "--wait-ms", "2000"],
            ] {
                sm(c, &args);
            }
        }
        lab
    }

    fn floating(&self) -> String {
        format!("10.{}.1.2", self.n)
    }

    fn api(&self) -> String {
        format!("http://{}:{API_PORT}/", self.floating())
    }

    /// Samples both controllers every 20 ms until told to stop: (samples,
    /// those with the floating address on both, live).
    fn sample(&self) -> (Arc<AtomicBool>, std::thread::JoinHandle<(u32, u32)>) {
        let sampling = Arc::new(AtomicBool::new(true));
        let (s, f) = (sampling.clone(), self.floating());
        let nss: Vec<String> = self.ctl.iter().map(|c| c.ns.clone()).collect();
        let sampler = std::thread::spawn(move || {
            let (mut samples, mut both) = (0u32, 0u32);
            while s.load(Ordering::Relaxed) {
                if holds(&nss[0], "mgmt0", &f) && holds(&nss[1], "mgmt0", &f) {
                    both += 1;
                }
                samples += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            (samples, both)
        });
        (sampling, sampler)
    }

    /// The controller that holds the floating address, when one does.
    fn holder(&self) -> Option<usize> {
        let f = self.floating();
        (0..2).find(|i| holds(&self.ctl[*i].ns, "mgmt0", &f))
    }

    fn wait_for(&self, what: &str, secs: u64, f: impl Fn() -> bool) -> Duration {
        let t0 = Instant::now();
        while !f() {
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "{what} within {secs} s; SM logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        t0.elapsed()
    }

    fn logs(&self) -> String {
        self.ctl
            .iter()
            .map(|c| {
                let l = std::fs::read_to_string(c.dir.join("sm.log")).unwrap_or_default();
                let tail: Vec<&str> = l.lines().rev().take(40).collect();
                format!(
                    "--- {}\n{}",
                    c.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether the lab can run here: namespaces (root), curl and python3;
/// where it cannot, CI (STARLING_REQUIRE_NETNS) fails instead.
fn lab_can_run() -> bool {
    if !namespaces("the two-controller lab runs each controller in a network namespace (root)") {
        eprintln!("SKIPPED: two controllers need network namespaces (root)");
        return false;
    }
    if !have("curl") || !have("python3") {
        assert!(
            std::env::var_os("STARLING_REQUIRE_NETNS").is_none(),
            "the lab needs curl and python3"
        );
        eprintln!("SKIPPED: the lab needs curl and python3");
        return false;
    }
    true
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn write_private(path: &Path, text: &str) {
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

#[test]
fn a_crashed_active_controller_is_fenced_and_its_floating_address_and_api_move() {
    if !lab_can_run() {
        return;
    }
    let Some(bin) = sushy::emulator_or_skip() else {
        return;
    };
    // The BMCs listen on the BMC network the lab makes (the root
    // namespace's loopback is out of the controllers' reach).
    let mut lab = Lab::new();
    let gateway = format!("10.{}.3.1", lab.n);
    let bmc0 = sushy::start_on(&bin, &format!("ha-bmc0-{}", lab.n), false, &gateway);
    let bmc1 = sushy::start_on(&bin, &format!("ha-bmc1-{}", lab.n), false, &gateway);
    for (i, peer_bmc) in [(0usize, &bmc1), (1, &bmc0)] {
        sm(
            &lab.ctl[i],
            &["configure", "set", "PEER_BMC_ADDRESS", &peer_bmc.url],
        );
    }
    for c in &mut lab.ctl {
        start_sm(c);
    }
    let (sampling, sampler) = lab.sample();
    // Equal rank: controller-1 (the greater name) is elected.
    lab.wait_for("one controller holding the floating address", 30, || {
        lab.holder().is_some()
    });
    assert_eq!(lab.holder(), Some(1), "{}", lab.logs());
    let api = lab.api();
    lab.wait_for("the client reaching the API", 30, || {
        client_reaches(&lab.client, &api)
    });
    assert_eq!(bmc0.resets() + bmc1.resets(), 0);

    // controller-1 crashes: every process in it dies, its links go down.
    let crashed = Instant::now();
    kill_all(&lab.ctl[1].ns);
    if let Some(mut c) = lab.ctl[1].sm.take() {
        let _ = c.wait();
    }
    for dev in ["mgmt0", "clstr0"] {
        ip(&["-n", &lab.ctl[1].ns, "link", "set", dev, "down"]);
    }
    lab.wait_for("controller-0 to hold the floating address", 30, || {
        lab.holder() == Some(0)
    });
    let addr_moved = crashed.elapsed();
    lab.wait_for("the client reaching the API again", 30, || {
        client_reaches(&lab.client, &api)
    });
    let api_back = crashed.elapsed();
    assert_eq!(bmc1.resets(), 1, "controller-1 fenced once: {}", lab.logs());
    assert_eq!(bmc0.resets(), 0);
    eprintln!(
        "two-controller lab: crash -> floating address on the peer {addr_moved:?}, API answering on it {api_back:?}"
    );
    sampling.store(false, Ordering::Relaxed);
    let (samples, both) = sampler.join().unwrap();
    assert!(samples > 50, "{samples} samples");
    assert_eq!(
        both, 0,
        "the floating address on both in {both} of {samples} samples"
    );
    // The survivor's own view, through sm dump.
    let dump = dump(&lab.ctl[0]);
    assert!(
        dump.lines()
            .any(|l| l.starts_with("controller-services") && l.contains(" active")),
        "{dump}"
    );
}

/// The SM process of controller `i` (`ip netns exec` runs it in place).
fn sm_pid(lab: &Lab, i: usize) -> u32 {
    lab.ctl[i].sm.as_ref().map(Child::id).unwrap()
}

#[test]
fn a_stalled_active_is_fenced_by_a_bmc_that_takes_it_down_and_rejoins_as_standby() {
    fenced_by_a_bmc_that_takes_it_down("-STOP", "stopped");
}

/// kill -9 of the active's SM alone: its services run on, unmanaged; the
/// peer must fence it before it takes over, as for a stall.
#[test]
fn an_active_whose_sm_is_killed_is_fenced_before_its_peer_takes_over() {
    fenced_by_a_bmc_that_takes_it_down("-9", "killed");
}

/// The active's SM is sent `signal` (its services up); the peer fences it
/// through an IPMI BMC whose reset takes the controller down, takes over;
/// the controller, booted again, rejoins as standby.
fn fenced_by_a_bmc_that_takes_it_down(signal: &str, what: &str) {
    if !lab_can_run() {
        return;
    }
    let Some(sim) = starling_testkit::ipmi::simulator_or_skip() else {
        return;
    };
    let mut lab = Lab::new();
    let gateway = format!("10.{}.3.1", lab.n);
    // Each BMC's reset takes its controller down before it answers: every
    // process in the namespace killed, its links down (a power cycle).
    let reset = |i: usize| {
        let ns = &lab.ctl[i].ns;
        format!(
            "for p in $(ip netns pids {ns}); do kill -9 $p; done; ip -n {ns} link set mgmt0 down; ip -n {ns} link set clstr0 down;"
        )
    };
    let bmc0 =
        starling_testkit::ipmi::start_on(&sim, &format!("ha-ipmi0-{}", lab.n), &gateway, &reset(0));
    let bmc1 =
        starling_testkit::ipmi::start_on(&sim, &format!("ha-ipmi1-{}", lab.n), &gateway, &reset(1));
    for (i, peer_bmc) in [(0usize, &bmc1), (1, &bmc0)] {
        let c = &lab.ctl[i];
        write_private(
            &c.dir.join("sm/peer-bmc-password"),
            starling_testkit::ipmi::PASSWORD,
        );
        let address = format!("{gateway}:{}", peer_bmc.port);
        for args in [
            ["configure", "set", "PEER_BMC_TYPE", "ipmi"],
            ["configure", "set", "PEER_BMC_ADDRESS", &address],
            ["configure", "set", "PEER_BMC_USERNAME", "admin"],
            ["configure", "set", "PEER_BMC_IPMI_INTERFACE", "lan"],
        ] {
            sm(c, &args);
        }
    }
    for c in &mut lab.ctl {
        start_sm(c);
    }
    lab.wait_for("controller-1 holding the floating address", 30, || {
        lab.holder() == Some(1)
    });
    let api = lab.api();
    lab.wait_for("the client reaching the API", 30, || {
        client_reaches(&lab.client, &api)
    });
    let (sampling, sampler) = lab.sample();

    // controller-1's SM stops (SIGSTOP) with its address and API still
    // up: controller-0 fences it — the BMC takes it down — then takes
    // over.
    let stopped = Instant::now();
    let pid = sm_pid(&lab, 1).to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    lab.wait_for("controller-0 to hold the floating address", 30, || {
        lab.holder() == Some(0)
    });
    lab.wait_for("the client reaching the API again", 30, || {
        client_reaches(&lab.client, &api)
    });
    let took = stopped.elapsed();
    assert_eq!(bmc1.resets(), 1, "controller-1 fenced once: {}", lab.logs());
    assert_eq!(bmc0.resets(), 0);
    if let Some(mut c) = lab.ctl[1].sm.take() {
        let _ = c.wait();
    }
    eprintln!("two-controller lab: SM {what} -> fenced, API answering on the peer in {took:?}");

    // controller-1 boots: its links up, no address of the old run, SM
    // started — it rejoins as standby and takes nothing back.
    let ns1 = lab.ctl[1].ns.clone();
    ip(&["-n", &ns1, "addr", "flush", "dev", "mgmt0"]);
    ip(&[
        "-n",
        &ns1,
        "addr",
        "add",
        &format!("{}/24", lab.ctl[1].mgmt),
        "dev",
        "mgmt0",
    ]);
    for dev in ["mgmt0", "clstr0"] {
        ip(&["-n", &ns1, "link", "set", dev, "up"]);
    }
    start_sm(&mut lab.ctl[1]);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(lab.holder(), Some(0), "{}", lab.logs());
    let dump = dump(&lab.ctl[1]);
    assert!(
        dump.lines()
            .any(|l| l.starts_with("controller-services") && l.contains(" standby")),
        "{dump}\n{}",
        lab.logs()
    );
    sampling.store(false, Ordering::Relaxed);
    let (samples, both) = sampler.join().unwrap();
    assert!(samples > 50, "{samples} samples");
    assert_eq!(
        both, 0,
        "the floating address on both in {both} of {samples} samples"
    );
}
