//! The Redfish client against a real Redfish BMC emulator: sushy-tools'
//! `sushy-emulator` (PyPI) with its fake driver, behind HTTP basic
//! authentication. Its power changes take effect after a random 1–11 s, as
//! a real board's do, so the test waits for each state it expects.
//!
//! The emulator is `STARLING_SUSHY_EMULATOR` or `sushy-emulator` on PATH.
//! Without it the test says so and passes, unless STARLING_REQUIRE_SUSHY is
//! set (CI), which makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use starling_bmc::{
    Acted, Action, Bmc, BmcError, Power, Redfish, RedfishConfig, SensorGroup, SensorStatus,
};

struct Emulator(Child, PathBuf);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const PASSWORD: &str = "Bmc-pass!1";

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
fn certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
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

/// The emulator on a free loopback port, with user `root` / PASSWORD.
fn start(bin: &PathBuf) -> (Emulator, String) {
    start_in(bin, "plain", false)
}

/// The same over HTTPS, with a certificate of a test CA (in its dir).
fn start_tls(bin: &PathBuf) -> (Emulator, String) {
    start_in(bin, "tls", true)
}

fn start_in(bin: &PathBuf, name: &str, tls: bool) -> (Emulator, String) {
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
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--fake",
        "--interface",
        "127.0.0.1",
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
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("emulator.log")).unwrap())
        .spawn()
        .expect("sushy-emulator starts");
    let scheme = if tls { "https" } else { "http" };
    (Emulator(child, dir), format!("{scheme}://127.0.0.1:{port}"))
}

fn config(url: &str, password: &str) -> RedfishConfig {
    RedfishConfig {
        url: url.into(),
        username: "root".into(),
        password: password.into(),
        ca_pem: None,
        insecure: false,
        system: None,
        timeout: Duration::from_secs(10),
    }
}

/// Waits until the BMC reports `want` (the emulator applies power changes
/// after up to 11 s).
async fn power_becomes(bmc: &dyn Bmc, want: Power) {
    let t0 = Instant::now();
    loop {
        let p = bmc.power().await.unwrap();
        if p == want {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "power stayed {p:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The emulator's first answer (it takes a moment to listen).
async fn first_answer(bmc: &Redfish, emu: &Emulator) -> Power {
    let t0 = Instant::now();
    loop {
        match bmc.power().await {
            Err(BmcError::Unreachable(e)) => {
                assert!(
                    t0.elapsed() < Duration::from_secs(60),
                    "the emulator never answered: {e}; its log: {}",
                    std::fs::read_to_string(emu.1.join("emulator.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other.unwrap(),
        }
    }
}

/// Without the emulator: skipped, or a failure in CI.
fn emulator_or_skip() -> Option<PathBuf> {
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

#[tokio::test]
async fn redfish_over_tls_trusts_the_bmcs_ca_or_an_explicit_insecure_flag() {
    let Some(bin) = emulator_or_skip() else {
        return;
    };
    let (emu, url) = start_tls(&bin);
    let ca = std::fs::read(emu.1.join("ca.pem")).unwrap();
    let trusted = Redfish::new(RedfishConfig {
        ca_pem: Some(ca),
        ..config(&url, PASSWORD)
    })
    .unwrap();
    first_answer(&trusted, &emu).await;
    // Without the CA the certificate is not trusted: no request is made.
    let untrusted = Redfish::new(config(&url, PASSWORD)).unwrap();
    match untrusted.power().await {
        Err(BmcError::Unreachable(e)) => assert!(e.to_lowercase().contains("certificate"), "{e}"),
        other => panic!("{other:?}"),
    }
    // The operator's explicit choice.
    let insecure = Redfish::new(RedfishConfig {
        insecure: true,
        ..config(&url, PASSWORD)
    })
    .unwrap();
    assert!(insecure.power().await.is_ok());
}

#[tokio::test]
async fn redfish_power_control_against_sushy_tools() {
    let Some(bin) = emulator_or_skip() else {
        return;
    };
    let (emu, url) = start(&bin);
    let bmc = Redfish::new(config(&url, PASSWORD)).unwrap();
    assert_eq!(
        first_answer(&bmc, &emu).await,
        Power::Off,
        "the fake system starts off"
    );

    // The board's sensors, from the chassis' Thermal document.
    let sensors = bmc.sensors().await.unwrap();
    let find = |n: &str| {
        sensors
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("{n}: {sensors:?}"))
    };
    let cpu = find("CPU Temp");
    assert_eq!(
        (cpu.group, cpu.reading, cpu.unit.as_str(), cpu.status),
        (
            SensorGroup::Temperature,
            Some(41.0),
            "degC",
            SensorStatus::Ok
        )
    );
    assert_eq!(cpu.thresholds.upper_minor, Some(42.0));
    let fan = find("BaseBoard System Fan");
    assert_eq!(
        (fan.group, fan.unit.as_str(), fan.status),
        (SensorGroup::Fan, "RPM", SensorStatus::Ok)
    );

    // Wrong credentials are the BMC's refusal, named, without the password.
    let wrong = Redfish::new(config(&url, "nope-nope")).unwrap();
    match wrong.power().await {
        Err(e @ BmcError::Refused { status: 401, .. }) => {
            assert!(!e.to_string().contains("nope-nope"), "{e}");
        }
        other => panic!("{other:?}"),
    }

    // Off when off: nothing sent. On: sent, and the board comes on.
    assert_eq!(
        bmc.act(Action::Off).await.unwrap(),
        Acted::AlreadySo(Power::Off)
    );
    assert_eq!(bmc.act(Action::On).await.unwrap(), Acted::Sent("On"));
    power_becomes(&bmc, Power::On).await;
    assert_eq!(
        bmc.act(Action::On).await.unwrap(),
        Acted::AlreadySo(Power::On)
    );

    // A forced reset (the emulator takes the board down and brings it
    // back within a random second or eleven; how soon is its own).
    assert_eq!(
        bmc.act(Action::Reset).await.unwrap(),
        Acted::Sent("ForceRestart")
    );
    power_becomes(&bmc, Power::On).await;

    // This BMC offers no PowerCycle: said so, nothing sent.
    match bmc.act(Action::Cycle).await {
        Err(BmcError::Unsupported(m)) => assert!(m.contains("PowerCycle"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(bmc.power().await.unwrap(), Power::On);

    assert_eq!(bmc.act(Action::Off).await.unwrap(), Acted::Sent("ForceOff"));
    power_becomes(&bmc, Power::Off).await;

    // A system named that the BMC does not have.
    let missing = Redfish::new(RedfishConfig {
        system: Some("no-such-system".into()),
        ..config(&url, PASSWORD)
    })
    .unwrap();
    assert!(
        matches!(
            missing.power().await,
            Err(BmcError::Refused { status: 404, .. })
        ),
        "a missing system is the BMC's 404"
    );
    drop(emu);
    // A BMC that does not answer.
    let gone = Redfish::new(RedfishConfig {
        timeout: Duration::from_secs(2),
        ..config(&format!("http://127.0.0.1:{}", free_port()), PASSWORD)
    })
    .unwrap();
    assert!(matches!(gone.power().await, Err(BmcError::Unreachable(_))));
}
