//! A real IPMI BMC for tests: OpenIPMI's `ipmi_sim` (Debian's openipmi)
//! on a UDP port of loopback, user `admin` with [`PASSWORD`], its chassis
//! control handed to a script that keeps the power in a file and counts
//! the resets — so a test sees what ipmitool, and so maintenance, did.
//!
//! Needs `ipmi_sim` and `ipmitool`; without them a test says so and
//! passes, unless STARLING_REQUIRE_IPMI is set (CI), which makes that a
//! failure ([`simulator_or_skip`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The simulator's password for user `admin`.
pub const PASSWORD: &str = "Ipmi-pass1";

/// A running simulator; stopped (and its directory removed) on drop.
pub struct Simulator {
    child: Child,
    /// Its directory: `lan.conf`, `chassis` (the control script),
    /// `power` (1 or 0), `resets` (a line per reset), `calls`.
    pub dir: PathBuf,
    pub port: u16,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Simulator {
    /// Whether the simulated host's power is on.
    pub fn power_on(&self) -> bool {
        std::fs::read_to_string(self.dir.join("power"))
            .map(|s| s.trim() == "1")
            .unwrap_or(true)
    }

    /// How many resets it was asked for.
    pub fn resets(&self) -> usize {
        std::fs::read_to_string(self.dir.join("resets"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

/// `ipmi_sim`'s path; without it (or ipmitool): skipped (None), or a
/// failure in CI.
pub fn simulator_or_skip() -> Option<PathBuf> {
    let sim = on_path("ipmi_sim");
    if sim.is_none() || on_path("ipmitool").is_none() {
        assert!(
            std::env::var_os("STARLING_REQUIRE_IPMI").is_none(),
            "STARLING_REQUIRE_IPMI is set but ipmi_sim or ipmitool is not installed"
        );
        eprintln!("SKIPPED: ipmi_sim and ipmitool are not installed (Debian openipmi, ipmitool)");
        return None;
    }
    sim
}

/// A UDP port free on loopback now.
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `ipmi_sim` (the binary at `bin`) as `name`'s BMC, powered on,
/// and waits until it answers.
pub fn start(bin: &std::path::Path, name: &str) -> Simulator {
    let dir = std::env::temp_dir().join(format!("starling-ipmi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_udp_port();
    let d = dir.display();
    // The chassis control program: `get power`, `set power 0|1`,
    // `set reset 1`.
    std::fs::write(
        dir.join("chassis"),
        format!(
            "#!/bin/sh\nd='{d}'\necho \"$*\" >> \"$d/calls\"\nop=$1; shift\n\
             case $op in\n\
             get) for p in \"$@\"; do [ \"$p\" = power ] && echo \"power:$(cat \"$d/power\")\"; done;;\n\
             set) while [ $# -gt 1 ]; do case $1 in\n\
               power) echo \"$2\" > \"$d/power\";;\n\
               reset) echo reset >> \"$d/resets\";;\n\
             esac; shift 2; done;;\n\
             esac\n"
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("chassis"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    std::fs::write(dir.join("power"), "1\n").unwrap();
    std::fs::write(
        dir.join("lan.conf"),
        format!(
            "name \"{name}\"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 {port}\n    priv_limit admin\n\
             \x20   allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n\
             \x20   allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n\
             \x20   guid a123456789abcdefa123456789abcdef\n  endlan\n  chassis_control \"{d}/chassis\"\n\
             \x20 user 2 true \"admin\" \"{PASSWORD}\" admin 10 none md2 md5 straight\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("sim.emu"),
        "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n",
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("sim.log")).unwrap();
    let child = Command::new(bin)
        .arg("-c")
        .arg(dir.join("lan.conf"))
        .arg("-f")
        .arg(dir.join("sim.emu"))
        .arg("-s")
        .arg(dir.join("state"))
        .arg("-n")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let sim = Simulator { child, dir, port };
    let t0 = Instant::now();
    loop {
        let out = Command::new("ipmitool")
            .args(["-I", "lan", "-H", "127.0.0.1", "-p", &port.to_string()])
            .args(["-U", "admin", "-E", "-R", "1", "-N", "1"])
            .args(["chassis", "power", "status"])
            .env("IPMI_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "ipmi_sim did not answer: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sim
}
