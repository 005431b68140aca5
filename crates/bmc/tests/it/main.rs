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

use starling_bmc::{Acted, Action, Bmc, BmcError, Power, Redfish, RedfishConfig};

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

/// The emulator on a free loopback port, with user `root` / PASSWORD.
fn start(bin: &PathBuf) -> (Emulator, String) {
    let dir = std::env::temp_dir().join(format!("starling-sushy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    // The password's bcrypt hash, made by the emulator's own Python.
    let python = bin
        .parent()
        .map(|d| d.join("python"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("python3"));
    let hash = Command::new(&python)
        .args([
            "-c",
            "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt()).decode())",
            PASSWORD,
        ])
        .output()
        .expect("python with bcrypt (a sushy-tools dependency)");
    assert!(
        hash.status.success(),
        "{}",
        String::from_utf8_lossy(&hash.stderr)
    );
    let hash = String::from_utf8(hash.stdout).unwrap();
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
    let child = Command::new(bin)
        .args([
            "--fake",
            "--interface",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .arg("--config")
        .arg(dir.join("emulator.conf"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("emulator.log")).unwrap())
        .spawn()
        .expect("sushy-emulator starts");
    (Emulator(child, dir), format!("http://127.0.0.1:{port}"))
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

#[tokio::test]
async fn redfish_power_control_against_sushy_tools() {
    let Some(bin) = emulator_binary() else {
        assert!(
            std::env::var_os("STARLING_REQUIRE_SUSHY").is_none(),
            "STARLING_REQUIRE_SUSHY is set but sushy-emulator is not installed"
        );
        eprintln!("SKIPPED: sushy-emulator is not installed (PyPI sushy-tools)");
        return;
    };
    let (emu, url) = start(&bin);
    let bmc = Redfish::new(config(&url, PASSWORD)).unwrap();
    let t0 = Instant::now();
    let first = loop {
        match bmc.power().await {
            Err(BmcError::Unreachable(e)) => {
                assert!(
                    t0.elapsed() < Duration::from_secs(60),
                    "the emulator never answered: {e}; its log: {}",
                    std::fs::read_to_string(emu.1.join("emulator.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(first, Power::Off, "the fake system starts off");

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

    // A forced reset: the board goes down at once and comes back.
    assert_eq!(
        bmc.act(Action::Reset).await.unwrap(),
        Acted::Sent("ForceRestart")
    );
    assert_eq!(bmc.power().await.unwrap(), Power::Off, "down at once");
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
