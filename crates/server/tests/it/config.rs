//! System configuration on the real starlingd: the all-in-one's own agent
//! applies its host's configuration under the data directory (never the
//! machine's own files by default), `system dns-modify` reaches its
//! resolv.conf at runtime, `ntp-modify` leaves the controller out of date
//! with 250.001 until its unlock, which applies it before the host is
//! enabled, and bad input changes nothing.

use super::*;
use crate::hosts::{alarm_rows, cli, cli_json, cli_ok, wait_for};

fn config_of(h: &Value) -> (Value, Value, Value) {
    (
        h["config_target"].clone(),
        h["config_applied"].clone(),
        h["config_status"].clone(),
    )
}

#[test]
fn the_all_in_one_applies_its_configuration_under_its_data_directory() {
    let s = all_in_one_with(&[("STARLING_ADMIN_PASSWORD", "Adm1n!pass")], &[], true);
    let root = s.d.dir.join("host-root");
    let show = || cli_json(&s, "system", &["host-show", "controller-0"]);
    let h = wait_for("controller-0 applies its first configuration", show, |h| {
        h["config_target"].is_string() && h["config_applied"] == h["config_target"]
    });
    assert_eq!(h["config_status"], Value::Null);
    let resolv = root.join("etc/resolv.conf");
    let text = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert!(
        text(&resolv).contains("nameserver 8.8.8.8\n"),
        "{}",
        text(&resolv)
    );
    assert!(text(&root.join("etc/hosts")).contains("10.10.10.2\toamcontroller\n"));
    let dns = cli_json(&s, "system", &["dns-show"]);
    assert_eq!(dns["nameservers"], "8.8.8.8,8.8.4.4");

    // A runtime change: applied at once.
    let out = cli_ok(&s, "system", &["dns-modify", "nameservers=192.0.2.53"]);
    assert!(out.contains("192.0.2.53"), "{out}");
    wait_for(
        "resolv.conf rewritten",
        || text(&resolv),
        |t| t.contains("nameserver 192.0.2.53\n"),
    );
    let h = wait_for("controller-0 current again", show, |h| {
        h["config_applied"] == h["config_target"]
    });
    assert_eq!(h["config_status"], Value::Null);
    assert!(!alarm_rows(&s).iter().any(|(id, ..)| id == "250.001"));

    // Bad input: one line, a non-zero exit, nothing changed.
    let before = config_of(&show());
    let (code, _, err) = cli(
        &s,
        "system",
        &["dns-modify", "nameservers=192.0.2.53,resolver"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("Invalid DNS nameserver target address resolver"),
        "{err}"
    );
    assert_eq!(config_of(&show()), before);
    assert_eq!(
        cli_json(&s, "system", &["dns-show"])["nameservers"],
        "192.0.2.53"
    );

    // A data network, as StarlingX's install guide adds one.
    let d = cli_json(
        &s,
        "system",
        &["datanetwork-add", "physnet0", "vlan", "-m", "1500"],
    );
    assert_eq!(
        (&d["name"], &d["network_type"], &d["mtu"]),
        (&json!("physnet0"), &json!("vlan"), &json!(1500))
    );
    let list = cli_json(&s, "system", &["datanetwork-list"]);
    assert_eq!(list[0]["name"], "physnet0");
    let (code, _, err) = cli(&s, "system", &["datanetwork-add", "physnet0", "flat"]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");

    // Platform networks and their pools, as cgtsclient shows them.
    let hosts_file = text(&root.join("etc/hosts"));
    assert!(
        hosts_file.contains("\tcontroller\n") && hosts_file.contains("\tcontroller-0\n"),
        "{hosts_file}"
    );
    let nets = cli_json(&s, "system", &["network-list"]);
    let mgmt = nets
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "mgmt")
        .unwrap()
        .clone();
    let pools = cli_json(&s, "system", &["addrpool-list"]);
    let pool = pools
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["uuid"] == mgmt["pool_uuid"])
        .unwrap()
        .clone();
    assert_eq!(pool["name"], "management");
    assert_eq!(pool["ranges"], json!(["192.168.204.2-192.168.204.254"]));
    let table = cli_ok(&s, "system", &["addrpool-list"]);
    assert!(
        table.contains("['192.168.204.2-192.168.204.254']"),
        "ranges as cgtsclient prints them: {table}"
    );
    let shown = cli_json(
        &s,
        "system",
        &["network-show", mgmt["uuid"].as_str().unwrap()],
    );
    assert_eq!(shown, mgmt);
    let spare = cli_json(
        &s,
        "system",
        &[
            "addrpool-add",
            "spare",
            "10.70.0.0",
            "24",
            "--ranges",
            "10.70.0.10-10.70.0.20,10.70.0.100-10.70.0.120",
            "--order",
            "sequential",
        ],
    );
    assert_eq!(
        spare["ranges"],
        json!(["10.70.0.10-10.70.0.20", "10.70.0.100-10.70.0.120"])
    );
    let su = spare["uuid"].as_str().unwrap().to_string();
    let m = cli_json(
        &s,
        "system",
        &["addrpool-modify", &su, "--floating-address", "10.70.0.101"],
    );
    assert_eq!(m["floating_address"], "10.70.0.101");
    let (code, _, err) = cli(
        &s,
        "system",
        &["addrpool-modify", &su, "--floating-address", "10.70.0.50"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("is not in range"), "{err}");
    assert_eq!(
        cli_json(&s, "system", &["addrpool-show", &su])["floating_address"],
        "10.70.0.101"
    );
    // The installed system's pxeboot pool is read-only.
    let pxe = nets
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "pxeboot")
        .unwrap()["pool_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _, err) = cli(
        &s,
        "system",
        &["addrpool-modify", &pxe, "--order", "sequential"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("read-only"), "{err}");
    let out = cli_ok(&s, "system", &["addrpool-delete", &su]);
    assert!(out.contains("Deleted address pool"), "{out}");

    // A reboot-required change: out of date (250.001) until the unlock;
    // chrony's file is not touched meanwhile.
    let chrony = root.join("etc/chrony.conf");
    let chrony_before = text(&chrony);
    cli_ok(&s, "system", &["ntp-modify", "ntpservers=192.0.2.123"]);
    wait_for(
        "250.001 on controller-0",
        || alarm_rows(&s),
        |rows| {
            rows.iter().any(|(id, sev, entity)| {
                id == "250.001" && sev == "major" && entity == "host=controller-0"
            })
        },
    );
    let h = show();
    assert_eq!(h["config_status"], "Config out-of-date");
    let target = h["config_target"].as_str().unwrap();
    assert!(
        u8::from_str_radix(&target[..1], 16).unwrap() >= 8,
        "reboot flag: {target}"
    );
    assert_eq!(text(&chrony), chrony_before);
    assert!(!text(&chrony).contains("192.0.2.123"));
    assert_eq!(
        cli_json(&s, "system", &["ntp-show"])["ntpservers"],
        "192.0.2.123"
    );

    // The unlock applies it before the host is enabled: Configuring, then
    // maintenance's test, then in service with 250.001 cleared.
    wait_for("controller-0 inventoried", show, |h| {
        h["inv_state"] == "inventoried"
    });
    let out = cli_ok(&s, "system", &["host-unlock", "controller-0"]);
    assert!(out.contains("Configuring"), "{out}");
    let h = wait_for("controller-0 in service", show, |h| {
        h["availability"] == "available" && h["operational"] == "enabled"
    });
    assert_eq!(h["config_status"], Value::Null);
    assert_eq!(h["config_applied"], h["config_target"]);
    assert!(
        text(&chrony).contains("server 192.0.2.123 iburst\n"),
        "{}",
        text(&chrony)
    );
    wait_for(
        "250.001 cleared",
        || alarm_rows(&s),
        |rows| !rows.iter().any(|(id, ..)| id == "250.001"),
    );
    if Path::new("/usr/sbin/chronyd").exists() {
        let o = Command::new("/usr/sbin/chronyd")
            .args(["-p", "-f"])
            .arg(&chrony)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A row of a `--format json` list whose `key` is `value`.
fn row_where(rows: &Value, key: &str, value: &str) -> Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}: {rows}"))
        .clone()
}

#[test]
fn system_configures_interfaces_and_the_networks_on_them() {
    let s = all_in_one(
        &[("STARLING_ADMIN_PASSWORD", "Adm1n!pass")],
        &["--system-mode", "duplex"],
    );
    let token = login(&s.identity, "admin", "Adm1n!pass").expect("the admin logs in");
    cli_ok(
        &s,
        "system",
        &[
            "host-add",
            "-n",
            "compute-0",
            "-p",
            "worker",
            "-m",
            "02:00:00:00:0a:01",
        ],
    );
    let port = |name: &str, n: u8, vfs: u32| {
        json!({"name": name, "pciaddr": format!("0000:3b:00.{n}"), "pclass": "Ethernet controller",
               "pvendor": "Intel Corporation", "pdevice": "Ethernet Controller XXV710",
               "numa_node": 0, "driver": "i40e", "mac": format!("3c:fd:fe:00:00:0{n}"),
               "mtu": 1500, "speed": 25000, "sriov_totalvfs": vfs, "dpdksupport": true})
    };
    let r = http()
        .put(format!("{}/v1/agent/compute-0/report", s.inventory))
        .header("x-auth-token", &token)
        .json(&json!({"inodes": [{"numa_node": 0}],
                      "ports": [port("eno1", 1, 0), port("eno2", 2, 0), port("eno3", 3, 8)],
                      "uptime": 5}))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());

    // Each port has its ethernet interface; without -a, only those in use.
    let all = cli_json(&s, "system", &["host-if-list", "compute-0", "-a"]);
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");
    let eno1 = row_where(&all, "name", "eno1");
    assert_eq!(
        (&eno1["type"], &eno1["class"]),
        (&json!("ethernet"), &Value::Null)
    );
    assert_eq!(eno1["ports"], json!(["eno1"]));
    assert_eq!(eno1["attributes"], "MTU=1500");
    assert_eq!(
        cli_json(&s, "system", &["host-if-list", "compute-0"]),
        json!([])
    );
    let table = cli_ok(&s, "system", &["host-if-list", "compute-0", "-a"]);
    for col in [
        "uuid",
        "name",
        "class",
        "type",
        "vlan id",
        "ports",
        "uses i/f",
        "used by i/f",
        "attributes",
    ] {
        assert!(table.contains(col), "{col}: {table}");
    }
    assert!(table.contains("['eno1']"), "{table}");

    // host-if-add, as StarlingX's install guide writes it.
    let v = cli_json(
        &s,
        "system",
        &[
            "host-if-add",
            "compute-0",
            "-V",
            "100",
            "-c",
            "platform",
            "vlan100",
            "vlan",
            "eno1",
        ],
    );
    assert_eq!(
        (&v["ifname"], &v["vlan_id"], &v["uses"]),
        (&json!("vlan100"), &json!(100), &json!(["eno1"]))
    );
    assert_eq!(v["imac"], "3c:fd:fe:00:00:01");
    let listed = cli_json(&s, "system", &["host-if-list", "compute-0"]);
    assert_eq!(
        row_where(&listed, "name", "eno1")["used by i/f"],
        json!(["vlan100"])
    );
    assert_eq!(row_where(&listed, "name", "vlan100")["vlan id"], 100);
    let m = cli_json(
        &s,
        "system",
        &[
            "host-if-modify",
            "compute-0",
            "eno3",
            "-c",
            "pci-sriov",
            "-N",
            "4",
            "--vf-driver",
            "vfio",
        ],
    );
    assert_eq!(
        (&m["ifclass"], &m["sriov_numvfs"]),
        (&json!("pci-sriov"), &json!(4))
    );
    assert_eq!(m["accelerated"], json!([true]));
    // Bad input: one line, nothing written.
    let (code, _, err) = cli(
        &s,
        "system",
        &[
            "host-if-add",
            "compute-0",
            "-V",
            "5000",
            "vlan5000",
            "vlan",
            "eno1",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("VLAN id must be between 1 and 4094."), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let (code, _, err) = cli(
        &s,
        "system",
        &["host-if-modify", "compute-0", "eno3", "-N", "9"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("a maximum of 8 VFs"), "{err}");
    let (code, _, err) = cli(&s, "system", &["host-if-delete", "compute-0", "eno1"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("Cannot delete a system created ethernet interface"),
        "{err}"
    );
    assert_eq!(
        cli_json(&s, "system", &["host-if-list", "compute-0", "-a"])
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Platform networks on interfaces.
    let nets = cli_json(&s, "system", &["network-list"]);
    let mgmt = row_where(&nets, "type", "mgmt");
    let a = cli_json(
        &s,
        "system",
        &[
            "interface-network-assign",
            "compute-0",
            "vlan100",
            mgmt["uuid"].as_str().unwrap(),
        ],
    );
    assert_eq!(
        (&a["hostname"], &a["ifname"], &a["network_name"]),
        (&json!("compute-0"), &json!("vlan100"), &mgmt["name"])
    );
    let listed = cli_json(&s, "system", &["interface-network-list", "compute-0"]);
    assert_eq!(listed, json!([a.clone()]));
    assert_eq!(
        cli_json(
            &s,
            "system",
            &["interface-network-list", "compute-0", "vlan100"]
        ),
        listed
    );
    let au = a["uuid"].as_str().unwrap();
    assert_eq!(cli_json(&s, "system", &["interface-network-show", au]), a);
    let (code, _, err) = cli(
        &s,
        "system",
        &[
            "interface-network-assign",
            "compute-0",
            "eno2",
            mgmt["uuid"].as_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("'mgmt' network type is already provisioned on this node"),
        "{err}"
    );

    // Data networks on interfaces.
    cli_ok(&s, "system", &["datanetwork-add", "physnet0", "flat"]);
    let d = cli_json(
        &s,
        "system",
        &[
            "interface-datanetwork-assign",
            "compute-0",
            "eno2",
            "physnet0",
        ],
    );
    assert_eq!(
        (&d["ifname"], &d["datanetwork_name"]),
        (&json!("eno2"), &json!("physnet0"))
    );
    let listed = cli_json(&s, "system", &["interface-datanetwork-list", "compute-0"]);
    assert_eq!(listed, json!([d.clone()]));
    assert_eq!(
        row_where(
            &cli_json(&s, "system", &["host-if-list", "compute-0"]),
            "name",
            "eno2"
        )["attributes"],
        "MTU=1500,accelerated=True"
    );
    let (code, _, err) = cli(&s, "system", &["datanetwork-delete", "physnet0"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("still assigned to interfaces"), "{err}");

    // Removed, and deleted.
    let du = d["uuid"].as_str().unwrap();
    assert_eq!(
        cli_ok(&s, "system", &["interface-datanetwork-remove", du]).trim(),
        format!("Deleted Interface DataNetwork: {du}")
    );
    assert_eq!(
        cli_ok(&s, "system", &["interface-network-remove", au]).trim(),
        format!("Deleted Interface Network: {au}")
    );
    assert_eq!(
        cli_ok(&s, "system", &["host-if-delete", "compute-0", "vlan100"]).trim(),
        "Deleted interface: host compute-0 if vlan100"
    );
    assert_eq!(
        cli_json(&s, "system", &["host-if-list", "compute-0", "-a"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn service_parameters_reach_every_host_at_runtime() {
    let s = all_in_one_with(&[("STARLING_ADMIN_PASSWORD", "Adm1n!pass")], &[], true);
    let root = s.d.dir.join("host-root");
    let text = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let sysctl = root.join("etc/sysctl.d/50-starling.conf");
    let applied = |what: &str, path: &Path, needle: &str, present: bool| {
        wait_for(what, || text(path), |t| t.contains(needle) == present);
    };
    let added = cli_json(
        &s,
        "system",
        &[
            "service-parameter-add",
            "platform",
            "sysctl",
            "vm.swappiness=10",
        ],
    );
    assert_eq!(
        (
            &added["service"],
            &added["section"],
            &added["name"],
            &added["value"]
        ),
        (
            &json!("platform"),
            &json!("sysctl"),
            &json!("vm.swappiness"),
            &json!("10")
        )
    );
    applied("the sysctl file", &sysctl, "vm.swappiness = 10\n", true);
    cli_ok(
        &s,
        "system",
        &[
            "service-parameter-add",
            "dns",
            "host-record",
            "r1=registry.local,10.0.0.9",
        ],
    );
    applied(
        "the host record",
        &root.join("etc/hosts"),
        "10.0.0.9\tregistry.local\n",
        true,
    );
    cli_ok(
        &s,
        "system",
        &[
            "service-parameter-add",
            "platform",
            "client",
            "cli_confirmations=enabled",
        ],
    );
    applied(
        "the CLI profile",
        &root.join("etc/profile.d/starling-cli.sh"),
        "export CLI_CONFIRMATIONS=enabled\n",
        true,
    );

    // Listed and filtered as cgtsclient asks.
    let listed = cli_json(
        &s,
        "system",
        &["service-parameter-list", "--section", "sysctl"],
    );
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let uuid = listed[0]["uuid"].as_str().unwrap().to_string();
    let table = cli_ok(&s, "system", &["service-parameter-list"]);
    for col in [
        "uuid",
        "service",
        "section",
        "name",
        "value",
        "personality",
        "resource",
    ] {
        assert!(table.contains(col), "{col}: {table}");
    }
    assert_eq!(
        cli_json(&s, "system", &["service-parameter-show", &uuid])["value"],
        "10"
    );

    // Bad input: one line, nothing written.
    for (args, want) in [
        (
            vec![
                "service-parameter-add",
                "platform",
                "sysctl",
                "kernel.panic=1",
            ],
            "cannot be modified. It may not persist or is unsafe to modify.",
        ),
        (
            vec![
                "service-parameter-add",
                "platform",
                "sysctl",
                "vm.swapiness=1",
            ],
            "Did you mean 'vm.swappiness'?",
        ),
        (
            vec![
                "service-parameter-add",
                "platform",
                "coredump",
                "keep_free=1M",
            ],
            "Parameter 'keep_free' must be greater than or equal to 1G.",
        ),
        (
            vec!["service-parameter-add", "nova", "x", "a=b"],
            "Invalid service name nova.",
        ),
        (
            vec![
                "service-parameter-add",
                "platform",
                "sysctl",
                "vm.swappiness=20",
            ],
            "Parameter already exists",
        ),
    ] {
        let (code, _, err) = cli(&s, "system", &args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    assert_eq!(
        cli_json(&s, "system", &["service-parameter-list"])
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Modified, applied, deleted: every host follows.
    let m = cli_json(
        &s,
        "system",
        &[
            "service-parameter-modify",
            "platform",
            "sysctl",
            "vm.swappiness=20",
        ],
    );
    assert_eq!(m["value"], "20");
    applied("the new value", &sysctl, "vm.swappiness = 20\n", true);
    assert_eq!(
        cli_ok(&s, "system", &["service-parameter-apply", "platform"]).trim(),
        "Applying platform service parameters"
    );
    assert_eq!(
        cli_ok(&s, "system", &["service-parameter-delete", &uuid]).trim(),
        format!("Deleted service parameter: {uuid}")
    );
    applied("the parameter gone", &sysctl, "vm.swappiness", false);
    let h = wait_for(
        "controller-0 current",
        || cli_json(&s, "system", &["host-show", "controller-0"]),
        |h| h["config_applied"] == h["config_target"],
    );
    assert_eq!(h["config_status"], Value::Null);
}

/// A namespace standing for the all-in-one's network, removed on drop.
struct NetNs(String);

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn the_unlock_brings_the_hosts_platform_interfaces_up() {
    if !crate::hosts::namespaces("the interfaces are brought up in a network namespace") {
        eprintln!("SKIPPED: network namespaces need root and iproute2");
        return;
    }
    // The agent configures a namespace standing for the machine's network,
    // whose eth0 is the port it reports (the machine's own).
    let ns = NetNs(format!("stn-aio-{}", std::process::id()));
    let _ = Command::new("ip").args(["netns", "del", &ns.0]).status();
    crate::hosts::ip(&["netns", "add", &ns.0]);
    crate::hosts::ip(&[
        "-n", &ns.0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
    ]);
    crate::hosts::ip(&["-n", &ns.0, "link", "set", "eth0p", "up"]);
    let s = all_in_one_with(
        &[
            ("STARLING_ADMIN_PASSWORD", "Adm1n!pass"),
            ("STARLING_APPLY_CLASSES", "network"),
            ("STARLING_NETWORK_NAMESPACE", &ns.0),
        ],
        &[],
        true,
    );
    let show = || cli_json(&s, "system", &["host-show", "controller-0"]);
    wait_for("controller-0 inventoried and current", show, |h| {
        h["inv_state"] == "inventoried"
            && h["config_target"].is_string()
            && h["config_applied"] == h["config_target"]
    });
    let ifs = cli_json(&s, "system", &["host-if-list", "controller-0", "-a"]);
    assert!(
        ifs.as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "eth0" && i["type"] == "ethernet"),
        "{ifs}"
    );
    // StarlingX's install guide: the management network on the port, a
    // smaller MTU; the host owes a lock and unlock (250.001 meanwhile).
    let nets = cli_json(&s, "system", &["network-list"]);
    let mgmt = row_where(&nets, "type", "mgmt");
    cli_ok(
        &s,
        "system",
        &["host-if-modify", "controller-0", "eth0", "-m", "1400"],
    );
    cli_ok(
        &s,
        "system",
        &[
            "interface-network-assign",
            "controller-0",
            "eth0",
            mgmt["uuid"].as_str().unwrap(),
        ],
    );
    wait_for(
        "250.001 on controller-0",
        || alarm_rows(&s),
        |rows| {
            rows.iter()
                .any(|(id, _, e)| id == "250.001" && e == "host=controller-0")
        },
    );
    let addrs = |ns: &str| {
        let out = Command::new("ip")
            .args(["-n", ns, "-j", "addr", "show", "dev", "eth0"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0].clone()
    };
    assert!(
        addrs(&ns.0)["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["scope"] != "global"),
        "nothing before the unlock"
    );

    // The unlock applies it before the host is enabled.
    let out = cli_ok(&s, "system", &["host-unlock", "controller-0"]);
    assert!(out.contains("Configuring"), "{out}");
    let h = wait_for("controller-0 in service", show, |h| {
        h["availability"] == "available" && h["operational"] == "enabled"
    });
    assert_eq!(h["config_applied"], h["config_target"]);
    let pool = cli_json(
        &s,
        "system",
        &["addrpool-show", mgmt["pool_uuid"].as_str().unwrap()],
    );
    let want = format!("{}/24", pool["controller0_address"].as_str().unwrap());
    let eth0 = addrs(&ns.0);
    assert_eq!(eth0["mtu"], 1400, "{eth0}");
    let global: Vec<String> = eth0["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["scope"] == "global")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect();
    assert_eq!(global, [want]);
    wait_for(
        "250.001 cleared",
        || alarm_rows(&s),
        |rows| !rows.iter().any(|(id, ..)| id == "250.001"),
    );
}
