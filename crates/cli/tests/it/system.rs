//! The real `system` binary against the inventory API (with FM and identity
//! beside it, as in the all-in-one daemon).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Paging, Server, output, server};

fn system_command() -> Command {
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
    let h = s.system_json(&["host-show", "compute-0"]);
    assert_eq!(h["location"], r#"{"locn":"rack 1"}"#);
    assert_eq!(h["availability"], "offline");
    let by_id = s.system_json(&["host-show", h["id"].as_str().unwrap()]);
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
        (u["serialid"].as_str(), u["location"].as_str()),
        (Some("SN-1"), Some(r#"{"locn":"rack 9"}"#))
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
