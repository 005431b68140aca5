//! A real IPMI BMC for tests: OpenIPMI's `ipmi_sim` (Debian's openipmi)
//! on a UDP port of loopback, user `admin` with [`PASSWORD`], its chassis
//! control handed to a script that keeps the power in a file and counts
//! the resets — so a test sees what ipmitool, and so maintenance, did —
//! and one analog sensor, `CPU Temp` (degrees C; non-critical 70,
//! critical 85, non-recoverable 95 above; 10, 5, 0 below), whose reading
//! the test sets ([`Simulator::set_temperature`]).
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

    /// `CPU Temp` reads `degrees` from now on (the simulator polls it
    /// every second).
    pub fn set_temperature(&self, degrees: u8) {
        std::fs::write(self.dir.join("temperature"), format!("{degrees}\n")).unwrap();
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

/// The full sensor record of `CPU Temp` (IPMI 2.0 SDR type 01h: sensor 1
/// of the BMC at 0x20, a processor's temperature, threshold based, read
/// as is — M 1, B 0 —, its six thresholds readable), as `main_sdr_add`
/// takes it.
fn temperature_sdr() -> String {
    let name = b"CPU Temp";
    let mut body: Vec<u8> = vec![
        0x20, 0x00, 0x01, // owner, LUN, sensor number
        0x03, 0x01, // entity: processor 1
        0x67, 0x68, // initialisation; capabilities (thresholds readable)
        0x01, 0x01, // temperature, threshold event/reading type
        0x95, 0x0a, 0x95, 0x0a, 0x3f, 0x3f, // event masks, readable and settable
        0x00, 0x01, 0x00, // unsigned; degrees C; no modifier
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // linear, M 1, B 0, exponents 0
        40, 80, 10, 0xff, 0x00, // nominal, normal max and min, range
        95, 85, 70, 0, 5, 10, // UNR, UCR, UNC, LNR, LCR, LNC
        0, 0, 0, 0, 0, // hysteresis, reserved, OEM
    ];
    body.push(0xc0 | name.len() as u8);
    body.extend_from_slice(name);
    let mut rec = vec![0x01, 0x00, 0x51, 0x01, body.len() as u8];
    rec.extend(body);
    rec.iter()
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
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
    start_on(bin, name, "127.0.0.1", "")
}

/// The same, listening on `address`, its chassis running the shell
/// command `on_reset` when it resets the board or powers it off — before
/// it answers, so a reset the caller was told of has happened (a lab's
/// BMC that really takes its host down).
pub fn start_on(bin: &std::path::Path, name: &str, address: &str, on_reset: &str) -> Simulator {
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
               power) [ \"$2\" = 0 ] && {{ :; {on_reset}\n }}; echo \"$2\" > \"$d/power\";;\n\
               reset) {on_reset}\n echo reset >> \"$d/resets\";;\n\
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
            "name \"{name}\"\nset_working_mc 0x20\n  startlan 1\n    addr {address} {port}\n    priv_limit admin\n\
             \x20   allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n\
             \x20   allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n\
             \x20   guid a123456789abcdefa123456789abcdef\n  endlan\n  chassis_control \"{d}/chassis\"\n\
             \x20 user 2 true \"admin\" \"{PASSWORD}\" admin 10 none md2 md5 straight\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("temperature"), "40\n").unwrap();
    std::fs::write(
        dir.join("sim.emu"),
        format!(
            "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n\
             main_sdr_add 0x20 {}\n\
             sensor_add 0x20 0 1 0x01 0x01 poll 1000 file \"{d}/temperature\"\n\
             sensor_set_threshold 0x20 0 1 readable 111111 95 85 70 0 5 10\n\
             mc_enable 0x20\n",
            temperature_sdr()
        ),
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
            .args(["-I", "lan", "-H", address, "-p", &port.to_string()])
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
