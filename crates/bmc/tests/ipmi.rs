//! The IPMI BMC against a real one: OpenIPMI's `ipmi_sim`, driven with
//! ipmitool as maintenance drives it — power queried before each action,
//! the password only in the child's environment.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use starling_bmc::{Acted, Action, Bmc, BmcError, Ipmi, IpmiConfig, Power};
use starling_testkit::ipmi;

fn config(port: u16, password: &str) -> IpmiConfig {
    IpmiConfig {
        address: "127.0.0.1".into(),
        port,
        username: "admin".into(),
        password: password.into(),
        // ipmi_sim answers IPMI 1.5 sessions here.
        interface: "lan".into(),
        tool: "ipmitool".into(),
        timeout: Duration::from_secs(20),
    }
}

#[tokio::test]
async fn power_is_queried_then_acted_on() {
    let Some(bin) = ipmi::simulator_or_skip() else {
        return;
    };
    let sim = ipmi::start(&bin, "bmc-test");
    let bmc = Ipmi::new(config(sim.port, ipmi::PASSWORD)).unwrap();
    assert_eq!(bmc.power().await.unwrap(), Power::On);

    // Its sensor, read as `sensor list` gives it, then past a threshold
    // (the simulator polls its reading every second).
    let read_as = |want: f64| {
        let bmc = &bmc;
        async move {
            let t0 = std::time::Instant::now();
            loop {
                let s = bmc.sensors().await.unwrap();
                assert_eq!(s.len(), 1, "{s:?}");
                if s[0].reading == Some(want) {
                    return s.into_iter().next().unwrap();
                }
                assert!(t0.elapsed() < Duration::from_secs(10), "{s:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let cpu = read_as(40.0).await;
    assert_eq!(cpu.name, "CPU Temp");
    assert_eq!(cpu.status, starling_bmc::SensorStatus::Ok);
    assert_eq!(cpu.thresholds.upper_major, Some(85.0));
    assert_eq!(cpu.thresholds.lower_minor, Some(10.0));
    sim.set_temperature(90);
    assert_eq!(
        read_as(90.0).await.status,
        starling_bmc::SensorStatus::Major
    );
    sim.set_temperature(96);
    assert_eq!(
        read_as(96.0).await.status,
        starling_bmc::SensorStatus::Critical
    );

    // On when on: nothing sent.
    assert_eq!(
        bmc.act(Action::On).await.unwrap(),
        Acted::AlreadySo(Power::On)
    );
    // Reset: one, seen by the BMC.
    assert_eq!(
        bmc.act(Action::Reset).await.unwrap(),
        Acted::Sent("chassis power reset")
    );
    assert_eq!(sim.resets(), 1);
    // Off, then off again (nothing sent), then on.
    bmc.act(Action::Off).await.unwrap();
    assert!(!sim.power_on());
    assert_eq!(bmc.power().await.unwrap(), Power::Off);
    assert_eq!(
        bmc.act(Action::Off).await.unwrap(),
        Acted::AlreadySo(Power::Off)
    );
    bmc.act(Action::On).await.unwrap();
    assert!(sim.power_on());
    assert_eq!(sim.resets(), 1);

    // The wrong password: refused, and said so.
    let wrong = Ipmi::new(config(sim.port, "not-it")).unwrap();
    let e = wrong.power().await.unwrap_err();
    assert!(matches!(e, BmcError::Refused { status: 401, .. }), "{e:?}");
    assert!(!e.to_string().contains("not-it"), "{e}");
    // No BMC there: unreachable, within the timeout.
    let none = Ipmi::new(IpmiConfig {
        timeout: Duration::from_secs(10),
        ..config(1, ipmi::PASSWORD)
    })
    .unwrap();
    assert!(none.power().await.is_err());
}
