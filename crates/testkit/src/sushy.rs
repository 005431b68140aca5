//! A real Redfish BMC for tests: sushy-tools' `sushy-emulator` (PyPI) with
//! its fake driver, behind HTTP basic authentication (user `root`,
//! [`PASSWORD`]), over HTTP or HTTPS with a certificate of a test CA.
//!
//! The emulator is `STARLING_SUSHY_EMULATOR` or `sushy-emulator` on PATH.
//! Without it a test says so and passes, unless STARLING_REQUIRE_SUSHY is
//! set (CI), which makes that a failure ([`emulator_or_skip`]).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The emulator's password for user `root`.
pub const PASSWORD: &str = "Bmc-pass!1";

/// A running emulator; stopped (and its directory removed) on drop.
pub struct Emulator {
    child: Child,
    /// Its directory: configuration, state, `emulator.log` (every request
    /// it served), and with TLS `ca.pem`.
    pub dir: PathBuf,
    /// `http://127.0.0.1:PORT` (or https).
    pub url: String,
    pub port: u16,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Emulator {
    /// Its request log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("emulator.log")).unwrap_or_default()
    }

    /// How many `ComputerSystem.Reset` actions it was asked for (a reset,
    /// and a power on or off too: Redfish asks them all of that action).
    pub fn resets(&self) -> usize {
        resets_in(&self.log())
    }
}

/// The resets a request log shows (its lines may be coloured: the
/// method is looked for as a word).
pub fn resets_in(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("POST /") && l.contains("/Actions/ComputerSystem.Reset "))
        .count()
}

fn emulator_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STARLING_SUSHY_EMULATOR") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("sushy-emulator"))
            .find(|p| p.exists())
    })
}

/// The emulator binary; without it: skipped (None), or a failure in CI.
pub fn emulator_or_skip() -> Option<PathBuf> {
    let bin = emulator_binary();
    if bin.is_none() {
        assert!(
            std::env::var_os("STARLING_REQUIRE_SUSHY").is_none(),
            "STARLING_REQUIRE_SUSHY is set but sushy-emulator is not installed"
        );
        eprintln!("SKIPPED: sushy-emulator is not installed (PyPI sushy-tools)");
    }
    bin
}

/// `cmd`'s standard output; it must succeed (its error output says why
/// not).
fn output_of(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A CA and a certificate it signs for 127.0.0.1, made with openssl, in
/// `dir`: (CA, certificate, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        output_of(Command::new("openssl").args(args).current_dir(dir));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=Test BMC CA",
    ]);
    run(&[
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "bmc.key", "-out", "bmc.csr", "-subj",
        "/CN=bmc",
    ]);
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "bmc.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "bmc.pem",
        "-days",
        "1",
        "-extfile",
        "ext",
    ]);
    (dir.join("ca.pem"), dir.join("bmc.pem"), dir.join("bmc.key"))
}

/// The emulator `bin` on a free loopback port, named `name` (its directory
/// is per name and process), over HTTPS when `tls`.
pub fn start(bin: &Path, name: &str, tls: bool) -> Emulator {
    start_on(bin, name, tls, "127.0.0.1")
}

/// The same, listening on `address` (a BMC network's address in the lab).
pub fn start_on(bin: &Path, name: &str, tls: bool, address: &str) -> Emulator {
    let dir = std::env::temp_dir().join(format!("starling-sushy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    // The password's bcrypt hash, made by the emulator's own Python.
    let python = bin
        .parent()
        .map(|d| d.join("python"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("python3"));
    let hash = output_of(Command::new(&python).args([
        "-c",
        "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt()).decode())",
        PASSWORD,
    ]));
    std::fs::write(dir.join("htpasswd"), format!("root:{}\n", hash.trim())).unwrap();
    std::fs::write(
        dir.join("emulator.conf"),
        format!(
            "SUSHY_EMULATOR_AUTH_FILE = '{}'\nSUSHY_EMULATOR_STATE_DIR = '{}'\n",
            dir.join("htpasswd").display(),
            dir.join("state").display()
        ),
    )
    .unwrap();
    let port = crate::free_port();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--fake",
        "--interface",
        address,
        "--port",
        &port.to_string(),
    ])
    .arg("--config")
    .arg(dir.join("emulator.conf"));
    if tls {
        let (_, cert, key) = certificates(&dir);
        cmd.arg("--ssl-certificate")
            .arg(cert)
            .arg("--ssl-key")
            .arg(key);
    }
    let child = cmd
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("emulator.log")).unwrap())
        .spawn()
        .expect("sushy-emulator starts");
    let scheme = if tls { "https" } else { "http" };
    Emulator {
        child,
        dir,
        url: format!("{scheme}://{address}:{port}"),
        port,
    }
}
