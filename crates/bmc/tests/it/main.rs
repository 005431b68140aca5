//! The Redfish client against a real Redfish BMC emulator: sushy-tools'
//! `sushy-emulator` (PyPI) with its fake driver, behind HTTP basic
//! authentication. Its power changes take effect after a random 1–11 s, as
//! a real board's do, so the test waits for each state it expects.
//!
//! The emulator is `STARLING_SUSHY_EMULATOR` or `sushy-emulator` on PATH.
//! Without it the test says so and passes, unless STARLING_REQUIRE_SUSHY is
//! set (CI), which makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use starling_testkit::free_port;
use starling_testkit::sushy::{Emulator, PASSWORD, emulator_or_skip};

use starling_bmc::{
    Acted, Action, Bmc, BmcError, Power, Redfish, RedfishConfig, SensorGroup, SensorStatus,
};

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
                    std::fs::read_to_string(emu.dir.join("emulator.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return other.unwrap(),
        }
    }
}

#[tokio::test]
async fn redfish_over_tls_trusts_the_bmcs_ca_or_an_explicit_insecure_flag() {
    let Some(bin) = emulator_or_skip() else {
        return;
    };
    let emu = starling_testkit::sushy::start(&bin, "tls", true);
    let url = emu.url.clone();
    let ca = std::fs::read(emu.dir.join("ca.pem")).unwrap();
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
    let emu = starling_testkit::sushy::start(&bin, "plain", false);
    let url = emu.url.clone();
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
    // back within a random second or eleven; how soon is its own). The
    // system read before, the reset is one request: a fence waits on no
    // read.
    let requests = |log: &str| log.lines().filter(|l| l.contains(" HTTP/1.")).count();
    let (before, resets) = (requests(&emu.log()), emu.resets());
    assert_eq!(
        bmc.act(Action::Reset).await.unwrap(),
        Acted::Sent("ForceRestart")
    );
    let log = emu.log();
    assert_eq!(requests(&log) - before, 1, "{log}");
    assert_eq!(
        starling_testkit::sushy::resets_in(&log),
        resets + 1,
        "{log}"
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
