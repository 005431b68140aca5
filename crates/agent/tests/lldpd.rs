//! LLDP from a real lldpd: two network namespaces joined by a veth pair
//! (each end named eth0, as the fixture host's port), an lldpd in each; the
//! agent's reader hears the peer through lldpcli, and a fixture host's
//! report carries the neighbour on its eth0. Needs root, iproute2 and lldpd:
//! says SKIPPED without them, fails instead when STARLING_REQUIRE_LLDPD=1
//! (CI installs lldpd and sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use starling_agent::{Root, discover, lldp};

fn have(cmd: &str) -> bool {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .any(|d| Path::new(d).join(cmd).exists())
}

fn run(args: &[&str]) {
    let s = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(s.success(), "{args:?}");
}

/// The namespaces, daemons and sockets of the test; removed on drop.
struct Lab {
    ns: [String; 2],
    daemons: Vec<Child>,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            let _ = d.kill();
            let _ = d.wait();
        }
        // lldpd forks a privileged monitor; stop it through its socket's owner.
        for ns in &self.ns {
            let _ = Command::new("ip")
                .args(["netns", "pids", ns])
                .output()
                .map(|o| {
                    for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                        let _ = Command::new("kill").arg(pid).status();
                    }
                });
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_agent_hears_a_real_lldpd_neighbour() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !(root && have("lldpd") && have("lldpcli") && have("ip")) {
        assert!(
            std::env::var_os("STARLING_REQUIRE_LLDPD").is_none(),
            "STARLING_REQUIRE_LLDPD is set but root, ip or lldpd is missing"
        );
        eprintln!("SKIPPED: needs root, iproute2 and lldpd (apt install lldpd)");
        return;
    }
    let id = std::process::id();
    let mut lab = Lab {
        ns: [format!("stl-a-{id}"), format!("stl-b-{id}")],
        daemons: Vec::new(),
        dir: std::env::temp_dir().join(format!("starling-lldp-{id}")),
    };
    std::fs::create_dir_all(&lab.dir).unwrap();
    let (a, b) = (lab.ns[0].clone(), lab.ns[1].clone());
    let (va, vb) = (format!("la{id}"), format!("lb{id}"));
    run(&["ip", "netns", "add", &a]);
    run(&["ip", "netns", "add", &b]);
    run(&[
        "ip", "link", "add", &va, "type", "veth", "peer", "name", &vb,
    ]);
    for (ns, v) in [(&a, &va), (&b, &vb)] {
        run(&["ip", "link", "set", v, "netns", ns]);
        run(&["ip", "-n", ns, "link", "set", v, "name", "eth0"]);
        run(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
        run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    let sock = |ns: &str| lab.dir.join(format!("{ns}.socket")).display().to_string();
    for (ns, name) in [(&a, "host-a"), (&b, "switch-b")] {
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "lldpd",
                "-d",
                "-u",
                &sock(ns),
                "-I",
                "eth0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        lab.daemons.push(child);
        // The system name is what the neighbour will show.
        let t0 = Instant::now();
        while !Command::new("lldpcli")
            .args(["-u", &sock(ns), "configure", "system", "hostname", name])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
        {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "lldpd in {ns} never answered"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("lldpcli")
            .args(["-u", &sock(ns), "update"])
            .status();
    }
    let peer_mac = String::from_utf8(
        Command::new("ip")
            .args(["netns", "exec", &b, "cat", "/sys/class/net/eth0/address"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    let cmd = vec!["lldpcli".to_string(), "-u".to_string(), sock(&a)];
    let t0 = Instant::now();
    let (agents, neighbours) = loop {
        let (ag, nb) = lldp::read(&cmd).expect("lldpd answers");
        if nb
            .iter()
            .any(|n| n.system_name.as_deref() == Some("switch-b"))
        {
            break (ag, nb);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "no neighbour heard: {nb:?}"
        );
        // A daemon that started before its veth end had a carrier may not
        // send again until its next interval (30 s): ask both to look at
        // their ports and send now.
        for ns in [&a, &b] {
            let _ = Command::new("lldpcli")
                .args(["-u", &sock(ns), "update"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].port_name, "eth0");
    assert_eq!(agents[0].status, "rx=enabled,tx=enabled");
    assert_eq!(agents[0].system_name.as_deref(), Some("host-a"));
    let n = &neighbours[0];
    assert_eq!(n.port_name, "eth0");
    assert_eq!(n.chassis_id.as_deref(), Some(peer_mac.as_str()));
    assert_eq!(n.msap, format!("{peer_mac},{peer_mac}"));
    assert_eq!(n.port_description.as_deref(), Some("eth0"));

    // On the fixture host (whose port is eth0) the neighbour is reported,
    // and what lldpd says of other links is not.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vm-virtio-1node");
    let mut report = discover::report(&Root::new(&fixture)).unwrap();
    let mut elsewhere = neighbours[0].clone();
    elsewhere.port_name = "bond0".into();
    let mut all = neighbours.clone();
    all.push(elsewhere);
    discover::with_lldp(&mut report, agents, all);
    assert_eq!(report.lldp_neighbours.as_ref().unwrap().len(), 1);
    starling_inventory::hardware::check_report(&starling_inventory_api::convert::report(report))
        .unwrap();
}
