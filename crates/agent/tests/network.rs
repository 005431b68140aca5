//! The network class for real, in a network namespace standing for a host
//! (root and iproute2; CI sets STARLING_REQUIRE_NETNS, making their absence
//! a failure): its ports (veth devices) get the document's MTU, addresses
//! and default route, a second apply changes nothing, a changed address
//! replaces the old one, a port the host lacks fails the step by name, the
//! files for the host's network stack are written, and an agent without the
//! class touches nothing. VLANs and bonds are made where the kernel has
//! them (8021q and bonding; a container may not).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use starling_agent::apply::{ApplySetup, apply};
use starling_agent::network::{NetworkSetup, bring_up};
use starling_config_types::{HostDocument, NetworkInterface};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn namespaces() -> bool {
    let ok = is_root() && Command::new("ip").arg("-V").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("STARLING_REQUIRE_NETNS").is_none(),
            "STARLING_REQUIRE_NETNS is set but this test cannot make a network namespace (root and iproute2)"
        );
        eprintln!("SKIPPED: network namespaces need root and iproute2");
    }
    ok
}

/// A namespace, deleted with its devices when dropped.
struct Ns(String);

impl Ns {
    fn new(tag: &str) -> Ns {
        let name = format!("stn-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        Ns(name)
    }

    /// A port: one end of a veth pair, the other end up (a carrier).
    fn port(&self, name: &str) {
        let peer = format!("{name}p");
        ip(&[
            "-n", &self.0, "link", "add", name, "type", "veth", "peer", "name", &peer,
        ]);
        ip(&["-n", &self.0, "link", "set", &peer, "up"]);
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut a = vec!["-n", &self.0, "-j", "-d"];
        a.extend_from_slice(args);
        let out = Command::new("ip").args(&a).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn link(&self, dev: &str) -> Value {
        self.json(&["link", "show", "dev", dev]).remove(0)
    }

    fn addresses(&self, dev: &str) -> Vec<String> {
        self.json(&["addr", "show", "dev", dev])[0]["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["scope"] == "global")
            .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
            .collect()
    }

    /// Whether the kernel makes devices of `kind` here.
    fn can_make(&self, kind: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.0, "link", "add", "probe0", "type", kind])
            .output()
            .unwrap();
        let _ = Command::new("ip")
            .args(["-n", &self.0, "link", "del", "probe0"])
            .output();
        out.status.success()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("starling-net-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn iface(name: &str, mtu: i64, addresses: &[&str], networks: &[&str]) -> NetworkInterface {
    NetworkInterface {
        name: name.into(),
        iftype: "ethernet".into(),
        mac: None,
        mtu,
        vlan_id: None,
        lower: Vec::new(),
        aemode: None,
        txhashpolicy: None,
        primary_reselect: None,
        networks: networks.iter().map(|s| s.to_string()).collect(),
        addresses: addresses.iter().map(|s| s.to_string()).collect(),
        gateway: None,
        sriov_numvfs: None,
    }
}

fn doc(interfaces: Vec<NetworkInterface>) -> HostDocument {
    HostDocument {
        config_uuid: "8f0e0d0c-0b0a-4908-8706-050403020100".into(),
        full: true,
        hostname: "compute-0".into(),
        personality: "worker".into(),
        nameservers: vec!["192.0.2.53".into()],
        ntpservers: None,
        hosts: Vec::new(),
        interfaces,
        sysctl: Vec::new(),
        coredump: Vec::new(),
        cli_confirmations: None,
    }
}

fn setup(root: &Path, ns: &Ns, enabled: bool) -> ApplySetup {
    ApplySetup {
        root: root.to_path_buf(),
        applied_file: root.join("applied"),
        network: NetworkSetup {
            enabled,
            netns: Some(ns.0.clone()),
        },
    }
}

fn network_step(steps: &[starling_config_types::StepResult]) -> &starling_config_types::StepResult {
    steps
        .iter()
        .find(|s| s.step == "network")
        .expect("a network step")
}

#[test]
fn ports_get_the_documents_mtu_addresses_and_route() {
    if !namespaces() {
        return;
    }
    let ns = Ns::new("if");
    ns.port("eno1");
    ns.port("eno2");
    let root = scratch("if");
    // A Debian host with ifupdown.
    std::fs::create_dir_all(root.join("etc/network")).unwrap();
    std::fs::write(
        root.join("etc/network/interfaces"),
        "source /etc/network/interfaces.d/*\n",
    )
    .unwrap();
    let mut oam = iface("eno2", 1500, &["10.10.10.3/24"], &["oam"]);
    oam.gateway = Some("10.10.10.1".into());
    let mgmt = iface(
        "eno1",
        1400,
        &["192.168.204.3/24", "fd00:204::3/64"],
        &["mgmt"],
    );
    let d = doc(vec![mgmt.clone(), oam.clone()]);
    let (_, steps) = apply(&d, &setup(&root, &ns, true));
    assert!(steps.iter().all(|s| s.ok), "{steps:?}");
    let l = ns.link("eno1");
    assert_eq!(l["mtu"], 1400);
    assert!(
        l["flags"].as_array().unwrap().iter().any(|f| f == "UP"),
        "{l}"
    );
    assert_eq!(ns.addresses("eno1"), ["192.168.204.3/24", "fd00:204::3/64"]);
    assert_eq!(ns.addresses("eno2"), ["10.10.10.3/24"]);
    let routes = ns.json(&["-4", "route", "show", "default"]);
    assert_eq!(routes[0]["gateway"], "10.10.10.1");
    assert_eq!(routes[0]["dev"], "eno2");
    let written =
        std::fs::read_to_string(root.join("etc/network/interfaces.d/50-starling")).unwrap();
    assert!(
        written.contains(
            "auto eno1\niface eno1 inet static\n    address 192.168.204.3/24\n    mtu 1400\n"
        ),
        "{written}"
    );
    assert!(
        written.contains("iface eno1 inet6 static\n    address fd00:204::3/64\n"),
        "{written}"
    );
    assert!(written.contains("    gateway 10.10.10.1\n"), "{written}");

    // Again: nothing to do.
    assert_eq!(
        bring_up(&d.interfaces, Some(&ns.0)).unwrap(),
        Vec::<String>::new()
    );
    // A new address replaces the old one.
    let moved = iface("eno1", 1400, &["192.168.204.9/24"], &["mgmt"]);
    let done = bring_up(&[moved, oam.clone()], Some(&ns.0)).unwrap();
    assert_eq!(ns.addresses("eno1"), ["192.168.204.9/24"], "{done:?}");
    // A port the host lacks fails the step, by name.
    let (_, steps) = apply(
        &doc(vec![iface("eno7", 1500, &[], &[])]),
        &setup(&root, &ns, true),
    );
    let s = network_step(&steps);
    assert!(!s.ok);
    assert_eq!(
        s.message.as_deref(),
        Some("eno7: no such device on this host")
    );
}

#[test]
fn without_the_class_the_hosts_interfaces_are_left_alone() {
    if !namespaces() {
        return;
    }
    let ns = Ns::new("off");
    ns.port("eno1");
    let root = scratch("off");
    let d = doc(vec![iface("eno1", 1400, &["192.168.204.3/24"], &["mgmt"])]);
    let (_, steps) = apply(&d, &setup(&root, &ns, false));
    let s = network_step(&steps);
    assert!(s.ok, "{s:?}");
    assert!(
        s.message
            .as_deref()
            .unwrap()
            .contains("--apply-class network"),
        "{s:?}"
    );
    assert_eq!(ns.link("eno1")["mtu"], 1500);
    assert!(ns.addresses("eno1").is_empty());
    assert!(!root.join("etc/systemd/network").exists());
}

#[test]
fn vlans_and_bonds_are_made_where_the_kernel_has_them() {
    if !namespaces() {
        return;
    }
    let ns = Ns::new("vb");
    ns.port("eno1");
    ns.port("eno2");
    ns.port("eno3");
    let (vlan, bond) = (ns.can_make("vlan"), ns.can_make("bond"));
    let root = scratch("vb");
    let mut ifs = Vec::new();
    if bond {
        let mut b = iface("bond0", 1500, &["10.20.0.3/24"], &["cluster-host"]);
        b.iftype = "ae".into();
        b.lower = vec!["eno2".into(), "eno3".into()];
        b.aemode = Some("active_standby".into());
        ifs.extend([
            iface("eno2", 1500, &[], &[]),
            iface("eno3", 1500, &[], &[]),
            b,
        ]);
    } else {
        eprintln!(
            "SKIPPED bonds: this kernel makes no bond devices (the bonding module is not loaded and cannot be here)"
        );
    }
    if vlan {
        let mut v = iface("mgmt0", 1400, &["192.168.204.3/24"], &["mgmt"]);
        v.iftype = "vlan".into();
        v.vlan_id = Some(10);
        v.lower = vec!["eno1".into()];
        ifs.extend([iface("eno1", 1500, &[], &[]), v]);
    } else {
        eprintln!(
            "SKIPPED VLANs: this kernel makes no VLAN devices (the 8021q module is not loaded and cannot be here)"
        );
    }
    if ifs.is_empty() {
        return;
    }
    let (_, steps) = apply(&doc(ifs.clone()), &setup(&root, &ns, true));
    assert!(steps.iter().all(|s| s.ok), "{steps:?}");
    if bond {
        let b = ns.link("bond0");
        assert_eq!(b["linkinfo"]["info_kind"], "bond");
        assert_eq!(b["linkinfo"]["info_data"]["mode"], "active-backup");
        assert_eq!(ns.link("eno2")["master"], "bond0");
        assert_eq!(ns.addresses("bond0"), ["10.20.0.3/24"]);
    }
    if vlan {
        let v = ns.link("mgmt0");
        assert_eq!(v["linkinfo"]["info_data"]["id"], 10);
        assert_eq!(v["mtu"], 1400);
        assert_eq!(ns.addresses("mgmt0"), ["192.168.204.3/24"]);
    }
    assert_eq!(bring_up(&ifs, Some(&ns.0)).unwrap(), Vec::<String>::new());
    // networkd's units, on a host without ifupdown.
    let units = root.join("etc/systemd/network");
    assert_eq!(units.join("50-starling-bond0.netdev").exists(), bond);
    assert_eq!(units.join("50-starling-mgmt0.netdev").exists(), vlan);
}

#[test]
fn sysctl_reads_the_rendered_kernel_parameters() {
    if !namespaces() {
        return;
    }
    // The namespace's own network sysctls stand for the host's kernel.
    let ns = Ns::new("sysctl");
    let root = scratch("sysctl");
    let mut d = doc(Vec::new());
    d.sysctl = vec![
        starling_config_types::Setting {
            name: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        },
        starling_config_types::Setting {
            name: "net.ipv4.conf.all.rp_filter".into(),
            value: "2".into(),
        },
    ];
    let (_, steps) = apply(&d, &setup(&root, &ns, false));
    assert!(steps.iter().all(|s| s.ok), "{steps:?}");
    let file = root.join("etc/sysctl.d/50-starling.conf");
    let run = |args: &[&str]| {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.0, "sysctl"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&["-p", &file.display().to_string()]);
    assert_eq!(run(&["-n", "net.ipv4.ip_forward"]), "1");
    assert_eq!(run(&["-n", "net.ipv4.conf.all.rp_filter"]), "2");
}
