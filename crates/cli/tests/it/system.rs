//! The real `system` binary against the inventory API (with FM and identity
//! beside it, as in the all-in-one daemon).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Paging, Server, client, output, server};

pub(crate) fn system_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_system"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") || k == "SYSTEM_URL" {
            c.env_remove(k);
        }
    }
    c.env_remove("CLI_CONFIRMATIONS");
    c
}

impl Server {
    /// system with SYSTEM_URL (with /v1, as StarlingX's docs write it) and a token.
    fn system(&self, args: &[&str]) -> (i32, String, String) {
        output(
            system_command()
                .args(args)
                .env("SYSTEM_URL", format!("{}/v1", self.inventory))
                .env("OS_AUTH_TOKEN", &self.token),
        )
    }

    fn system_ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.system(args);
        assert_eq!(code, 0, "system {args:?}: {err}");
        out
    }

    fn system_json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        serde_json::from_str(&self.system_ok(&a)).unwrap()
    }

    /// Waits until `fm alarm-list` shows exactly these entity ids for 200.001.
    fn locked_alarms_become(&self, want: &[&str]) {
        let t0 = Instant::now();
        loop {
            let v = self.fm_json(&["alarm-list"]);
            let mut got: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["Alarm ID"] == "200.001")
                .map(|a| a["Entity ID"].as_str().unwrap().to_string())
                .collect();
            got.sort();
            if got == want {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "{got:?} != {want:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[track_caller]
fn one_line_failure(r: (i32, String, String), needle: &str) {
    let (code, _, err) = r;
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(needle), "{err:?} does not mention {needle:?}");
}

#[test]
fn system_manages_hosts_and_fm_shows_their_alarms() {
    let s = server(Paging::default());
    let show = s.system_json(&["show"]);
    assert_eq!(show["system_mode"], "duplex");

    let out = s.system_ok(&[
        "host-add",
        "-n",
        "compute-0",
        "-p",
        "worker",
        "-m",
        "08:00:27:00:00:01",
        "-l",
        "rack 1",
    ]);
    assert!(out.contains("compute-0") && out.contains("locked"), "{out}");
    s.system_ok(&[
        "host-add",
        "-n",
        "storage-0",
        "-p",
        "storage",
        "-m",
        "08:00:27:00:00:02",
    ]);

    let list = s.system_json(&["host-list"]);
    let rows: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["hostname"].as_str().unwrap().to_string(),
                h["personality"].as_str().unwrap().to_string(),
                h["administrative"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("compute-0".into(), "worker".into(), "locked".into()),
            ("storage-0".into(), "storage".into(), "locked".into())
        ]
    );
    let table = s.system_ok(&["host-list"]);
    for col in [
        "id",
        "hostname",
        "personality",
        "administrative",
        "operational",
        "availability",
    ] {
        assert!(table.contains(col), "{table}");
    }
    let yaml = s.system_ok(&["host-list", "--format", "yaml"]);
    assert!(yaml.contains("hostname: compute-0"), "{yaml}");

    // host-show by name, by id and by uuid: the server resolves each.
    // JSON keeps types: the id is a number, the location an object.
    let h = s.system_json(&["host-show", "compute-0"]);
    assert_eq!(h["location"], json!({"locn": "rack 1"}));
    assert_eq!(h["availability"], "offline");
    assert!(h["id"].is_u64() && h["reserved"] == json!(false), "{h}");
    let by_id = s.system_json(&["host-show", &h["id"].to_string()]);
    let by_uuid = s.system_json(&["host-show", h["uuid"].as_str().unwrap()]);
    assert_eq!(by_id["uuid"], h["uuid"]);
    assert_eq!(by_uuid["hostname"], "compute-0");

    let u = s.system_json(&[
        "host-update",
        "compute-0",
        "location=rack 9",
        "serialid=SN-1",
    ]);
    assert_eq!(
        (&u["serialid"], &u["location"]),
        (&json!("SN-1"), &json!({"locn": "rack 9"}))
    );
    // -f/-c on lists and shows; where -f or -c is taken (host-lock's
    // --force, host-add's --console) the long forms.
    assert_eq!(
        s.system_ok(&["host-list", "-f", "value", "-c", "hostname"]),
        "compute-0\nstorage-0\n"
    );
    assert_eq!(
        s.system_ok(&[
            "host-show",
            "compute-0",
            "-f",
            "csv",
            "-c",
            "id",
            "-c",
            "hostname"
        ]),
        format!("\"hostname\",\"id\"\n\"compute-0\",{}\n", h["id"])
    );

    // Both hosts carry the locked alarm, visible with fm alarm-list.
    s.locked_alarms_become(&["host=compute-0", "host=storage-0"]);

    // Illegal actions and bad input: one line, exit 1, nothing changed.
    one_line_failure(
        s.system(&["host-unlock", "compute-0"]),
        "availability is offline",
    );
    one_line_failure(s.system(&["host-swact", "compute-0"]), "compute-0");
    one_line_failure(s.system(&["host-show", "compute-7"]), "Host not found");
    one_line_failure(
        s.system(&[
            "host-add",
            "-n",
            "compute-1",
            "-p",
            "router",
            "-m",
            "08:00:27:00:00:03",
        ]),
        "Invalid personality 'router'",
    );
    one_line_failure(
        s.system(&[
            "host-add",
            "-n",
            "compute-1",
            "-p",
            "worker",
            "-m",
            "08:00:27:00:00:01",
        ]),
        "already exists",
    );
    // system modify changes what sysinv lets an operator change.
    let (code, out, err) = s.system(&["modify", "-d", "plant cloud", "-l", "hall B"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("plant cloud") && out.contains("hall B"),
        "{out}"
    );
    one_line_failure(s.system(&["modify"]), "at least one of");

    // Without a MAC the server says what is missing (the CLI used to
    // refuse locally in words of its own).
    one_line_failure(
        s.system(&["host-add", "-n", "compute-1", "-p", "worker"]),
        "mgmt_mac is required",
    );
    one_line_failure(
        s.system(&["host-update", "compute-0", "bogus"]),
        "attribute=value",
    );
    assert_eq!(s.system_json(&["host-list"]), list);

    // A reboot of a locked host waits in task for the agent.
    let r = s.system_json(&["host-reboot", "storage-0"]);
    assert_eq!(r["task"], "Rebooting");

    let out = s.system_ok(&["host-delete", "storage-0"]);
    assert!(out.contains("Deleted host storage-0"), "{out}");
    s.locked_alarms_become(&["host=compute-0"]);
    let events = s.fm_json(&["event-list", "--logs"]);
    let texts: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["Event Log ID"].as_str().unwrap(),
                e["Reason Text"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "200.021 compute-0 'add' request",
        "200.021 storage-0 'reboot' request",
        "200.021 storage-0 'delete' request",
    ] {
        assert!(
            texts.iter().any(|t| t == want),
            "{want:?} not in {texts:#?}"
        );
    }
}

#[test]
fn system_finds_inventory_in_the_catalog_and_says_when_it_cannot() {
    let s = server(Paging::default());
    let (code, out, err) = output(
        system_command()
            .args(["host-list", "--format", "json"])
            .env("OS_AUTH_URL", format!("{}/v3", s.identity))
            .env("OS_USERNAME", "admin")
            .env("OS_PASSWORD", crate::ADMIN_PW)
            .env("OS_PROJECT_NAME", "admin")
            .env("OS_USER_DOMAIN_NAME", "Default")
            .env("OS_PROJECT_DOMAIN_NAME", "Default")
            .env("OS_REGION_NAME", "RegionOne"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "[]");

    one_line_failure(
        output(system_command().args([
            "--system-url",
            "http://127.0.0.1:1",
            "--os-auth-token",
            "x",
            "host-list",
        ])),
        "cannot reach the inventory API",
    );
    one_line_failure(output(system_command().arg("host-list")), "SYSTEM_URL");
    one_line_failure(
        output(system_command().args([
            "--system-url",
            &s.inventory,
            "--os-auth-token",
            "bogus",
            "host-list",
        ])),
        "authentication",
    );
}

impl Server {
    /// What a host's agent sends, through the agent endpoint.
    fn agent_report(&self, host: &str, report: &Value) {
        let r = client(None)
            .put(format!("{}/v1/agent/{host}/report", self.inventory))
            .header("X-Auth-Token", &self.token)
            .json(report)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
    }
}

fn small_report() -> Value {
    serde_json::json!({
        "inodes": [{"numa_node": 0}],
        "icpus": [
            {"cpu": 0, "core": 0, "thread": 0, "numa_node": 0, "cpu_model": "Xeon D-2123IT"},
            {"cpu": 1, "core": 0, "thread": 1, "numa_node": 0, "cpu_model": "Xeon D-2123IT"},
            {"cpu": 2, "core": 1, "thread": 0, "numa_node": 0, "cpu_model": "Xeon D-2123IT"}
        ],
        "imemorys": [{"numa_node": 0, "memtotal_mib": 60000, "memavail_mib": 50000,
                      "platform_reserved_mib": 4000, "node_memtotal_mib": 65536,
                      "vm_hugepages_nr_2M": 1024, "vm_hugepages_avail_2M": 1000}],
        "idisks": [{"device_node": "/dev/sda", "device_num": 2048, "device_type": "HDD",
                    "device_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1",
                    "size_mib": 953869, "available_mib": 512000, "rpm": "7200",
                    "serial_id": "WD-1234"}],
        "partitions": [{"device_node": "/dev/sda1",
                        "device_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1-part1",
                        "disk_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1",
                        "start_mib": 1, "end_mib": 20481, "size_mib": 20480, "status": 1,
                        "type_guid": "0fc63daf-8483-4772-8e79-3d69d8477de4",
                        "type_name": "Linux filesystem"}],
        "ports": [{"name": "enp1s0", "pciaddr": "0000:01:00.0", "pdevice": "I350 Gigabit",
                   "numa_node": 0, "mac": "08:00:27:00:00:01", "mtu": 1500, "autoneg": "Yes",
                   "bootp": true, "driver": "igb"}],
        "pci_devices": [{"name": "pci_0000_02_00_0", "pciaddr": "0000:02:00.0",
                         "pclass_id": "0b4000", "pvendor_id": "8086", "pdevice_id": "37c8",
                         "pclass": "Co-processor", "pvendor": "Intel Corporation",
                         "pdevice": "C62x Chipset QuickAssist", "numa_node": 0, "enabled": false}],
        "lldp_agents": [{"port_name": "enp1s0", "status": "rx=enabled,tx=enabled"}],
        "lldp_neighbours": [{"port_name": "enp1s0", "msap": "00:11:22:33:44:55,Gi0/1",
                             "port_identifier": "Gi0/1", "system_name": "edge-switch"}],
        "uptime": 42
    })
}

#[test]
fn system_shows_hardware_and_manages_labels() {
    let s = server(Paging {
        default_limit: 2,
        max_limit: 2,
    });
    s.system_ok(&[
        "host-add",
        "-n",
        "compute-0",
        "-p",
        "worker",
        "-m",
        "08:00:27:00:00:01",
    ]);
    s.agent_report("compute-0", &small_report());

    // Three CPUs over two pages of two: every page is followed.
    let cpus = s.system_json(&["host-cpu-list", "compute-0"]);
    // JSON keeps types: CPU numbers are numbers.
    let rows: Vec<(u64, u64, String)> = cpus
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["log_core"].as_u64().unwrap(),
                c["phy_core"].as_u64().unwrap(),
                c["assigned_function"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (0, 0, "Platform".into()),
            (1, 0, "Platform".into()),
            (2, 1, "Application".into())
        ]
    );
    let table = s.system_ok(&["host-cpu-list", "compute-0"]);
    for col in [
        "log_core",
        "processor",
        "phy_core",
        "thread",
        "processor_model",
        "assigned_function",
    ] {
        assert!(table.contains(col), "{col} missing:\n{table}");
    }
    let cpu = s.system_json(&["host-cpu-show", "compute-0", "2"]);
    assert_eq!(cpu["core"], 1);
    let mem = s.system_json(&["host-memory-list", "compute-0"]);
    assert_eq!(mem[0]["mem_total(MiB)"], 60000);
    assert_eq!(mem[0]["app_hp_avail_2M"], 1000);
    assert_eq!(
        s.system_json(&["host-memory-show", "compute-0", "0"])["memavail_mib"],
        50000
    );
    assert_eq!(
        s.system_json(&["host-node-list", "compute-0"])[0]["numa_node"],
        0
    );
    let disks = s.system_json(&["host-disk-list", "compute-0"]);
    assert_eq!(disks[0]["size_gib"], 931.513);
    assert_eq!(disks[0]["available_gib"], 500.0);
    assert_eq!(disks[0]["rpm"], "7200");
    assert_eq!(
        s.system_json(&["host-disk-show", "compute-0", "/dev/sda"])["serial_id"],
        "WD-1234"
    );
    let parts = s.system_json(&[
        "host-disk-partition-list",
        "compute-0",
        "--disk",
        "/dev/sda",
    ]);
    assert_eq!(parts[0]["status"], "In-Use");
    assert_eq!(parts[0]["size_gib"], 20.0);
    assert_eq!(
        s.system_json(&["host-disk-partition-show", "compute-0", "/dev/sda1"])["type_name"],
        "Linux filesystem"
    );
    let ports = s.system_json(&["host-port-list", "compute-0"]);
    assert_eq!(ports[0]["type"], "ethernet");
    assert_eq!(ports[0]["pci address"], "0000:01:00.0");
    assert_eq!(
        s.system_json(&["host-port-show", "compute-0", "enp1s0"])["driver"],
        "igb"
    );
    let eth = s.system_json(&["host-ethernet-port-list", "compute-0"]);
    assert_eq!(eth[0]["mac address"], "08:00:27:00:00:01");
    assert_eq!(eth[0]["boot i/f"], true);
    // A disabled device shows only with --all.
    assert_eq!(
        s.system_json(&["host-device-list", "compute-0"]),
        serde_json::json!([])
    );
    let all = s.system_json(&["host-device-list", "compute-0", "-a"]);
    assert_eq!(all[0]["class id"], "0b4000");
    assert_eq!(
        s.system_json(&["host-device-show", "compute-0", "0000:02:00.0"])["pdevice"],
        "C62x Chipset QuickAssist"
    );
    assert_eq!(
        s.system_json(&["host-lldp-agent-list", "compute-0"])[0]["local_port"],
        "enp1s0"
    );
    let nb = s.system_json(&["host-lldp-neighbor-list", "compute-0"]);
    assert_eq!(nb[0]["remote_port"], "Gi0/1");
    assert_eq!(nb[0]["system_name"], "edge-switch");

    // Labels.
    let set = s.system_json(&["host-label-assign", "compute-0", "zone=a", "rack=7"]);
    assert_eq!(set.as_array().unwrap().len(), 2);
    let list = s.system_json(&["host-label-list", "compute-0"]);
    assert_eq!(list[0]["hostname"], "compute-0");
    one_line_failure(
        s.system(&["host-label-assign", "compute-0", "zone=b"]),
        "already exists",
    );
    s.system_ok(&["host-label-assign", "compute-0", "zone=b", "--overwrite"]);
    one_line_failure(
        s.system(&["host-label-remove", "compute-0", "zone", "nothere"]),
        "Label 'nothere' not found on host compute-0",
    );
    assert_eq!(
        s.system_json(&["host-label-list", "compute-0"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let out = s.system_ok(&["host-label-remove", "compute-0", "zone"]);
    assert!(out.contains("Deleted host label zone"), "{out}");
    let left = s.system_json(&["host-label-list", "compute-0"]);
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["label key"], "rack");

    one_line_failure(
        s.system(&["host-cpu-show", "compute-0", "9"]),
        "CPU '9' not found",
    );
    one_line_failure(s.system(&["host-disk-list", "compute-9"]), "Host not found");
    one_line_failure(
        s.system(&["host-label-assign", "compute-0", "novalue"]),
        "key=value",
    );

    // The host can be unlocked now that its agent has reported.
    let h = s.system_json(&["host-unlock", "compute-0"]);
    assert_eq!(h["availability"], "available");
}

#[test]
fn system_bulk_adds_and_exports_hosts() {
    let s = server(Paging::default());
    let dir = std::env::temp_dir().join(format!("starling-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join("hosts.yaml");
    std::fs::write(
        &yaml,
        "hosts:\n  - hostname: worker-0\n    personality: worker\n    mgmt_mac: 08:00:27:00:01:00\n    location: rack 2\n  - hostname: storage-0\n    personality: storage\n    mgmt_mac: 08:00:27:00:01:01\n",
    )
    .unwrap();
    // Refused, as sysinv refuses it, until a controller is in service:
    // printed under Error:, exit 1.
    let (code, out, err) = s.system(&["host-bulk-add", yaml.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        "Success:\nError:\nBulk_add requires enabled controller. Please unlock controller-0, wait for it to enable and then retry.\n"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    s.system_ok(&[
        "host-add",
        "-n",
        "controller-0",
        "-p",
        "controller",
        "-m",
        "08:00:27:00:01:99",
    ]);
    s.agent_report("controller-0", &small_report());
    s.system_ok(&["host-unlock", "controller-0"]);

    let out = s.system_ok(&["host-bulk-add", yaml.to_str().unwrap()]);
    assert_eq!(out, "Success:\nworker-0\nstorage-0\nError:\n");
    s.locked_alarms_become(&["host=storage-0", "host=worker-0"]);

    // Export to a file; StarlingX's XML, storage before workers.
    let xml = dir.join("out.xml");
    let out = s.system_ok(&["host-bulk-export", "--filename", xml.to_str().unwrap()]);
    assert!(out.contains("out.xml"), "{out}");
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.starts_with("<?xml"), "{text}");
    assert!(
        text.find("<hostname>storage-0").unwrap() < text.find("<hostname>worker-0").unwrap(),
        "{text}"
    );
    assert!(text.contains("<location>rack 2</location>"), "{text}");

    // The same file again: every host named under Error:, none added, one
    // line on stderr, exit 1.
    let (code, out, err) = s.system(&["host-bulk-add", xml.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(out.starts_with("Success:\nError:\n"), "{out}");
    for h in ["(controller-0)", "(storage-0)", "(worker-0)"] {
        assert!(out.contains(h), "{h} not in {out}");
    }
    one_line_failure(
        s.system(&["host-bulk-add", dir.join("missing.xml").to_str().unwrap()]),
        "cannot read",
    );
    std::fs::write(dir.join("bad.xml"), "<hosts><host>").unwrap();
    let (code, out, _) = s.system(&["host-bulk-add", dir.join("bad.xml").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("malformed XML"), "{out}");
    assert_eq!(s.system_json(&["host-list"]).as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Service management through sysinv's relay: the groups on the
/// controller, the controller as SM sees it, the services, with
/// cgtsclient's columns in every format; what does not exist is one line
/// and a non-zero exit.
#[test]
fn system_lists_service_groups_nodes_and_services() {
    let s = server(Paging::default());
    let t0 = Instant::now();
    let groups = loop {
        let v = s.system_json(&["servicegroup-list"]);
        let rows = v.as_array().unwrap().clone();
        if rows.len() == 2 && rows.iter().all(|r| r["state"] == "active") {
            break rows;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "never active: {v}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let names: Vec<&str> = groups
        .iter()
        .map(|g| g["service_group_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["controller-services", "oam-services"]);
    assert!(groups.iter().all(|g| g["hostname"] == "controller-0"));
    let table = s.system_ok(&["servicegroup-list"]);
    let head = table.lines().nth(1).unwrap();
    for col in ["uuid", "service_group_name", "hostname", "state"] {
        assert!(head.contains(col), "{table}");
    }
    let uuid = groups[0]["uuid"].as_str().unwrap();
    let one = s.system_json(&["servicegroup-show", uuid]);
    assert_eq!(one["service_group_name"], "controller-services");
    let yaml = s.system_ok(&["servicegroup-list", "--format", "yaml"]);
    assert!(yaml.contains("service_group_name: oam-services"), "{yaml}");

    let nodes = s.system_json(&["servicenode-list"]);
    assert_eq!(nodes[0]["name"], "controller-0");
    assert_eq!(
        (
            nodes[0]["administrative"].as_str(),
            nodes[0]["operational"].as_str(),
            nodes[0]["availability"].as_str()
        ),
        (Some("unlocked"), Some("enabled"), Some("available"))
    );
    let node = s.system_json(&["servicenode-show", "controller-0"]);
    assert_eq!(node["availability_status"], "available");

    let services = s.system_json(&["service-list"]);
    let names: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["management-ip", "oam-ip", "starling-api"]);
    assert!(
        services
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "enabled-active" && r["hostname"] != ""),
        "{services}"
    );
    let one = s.system_json(&["service-show", "starling-api"]);
    assert_eq!(one["service_name"], "starling-api");

    let (code, _, err) = s.system(&["service-show", "nope"]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("Service nope could not be found"), "{err}");
    let (code, _, err) = s.system(&["servicenode-show", "a/b"]);
    assert_ne!(code, 0);
    assert!(err.contains("not a name, id or uuid"), "{err}");
}
