//! The alarms host maintenance raises, defined once (StarlingX's ids,
//! severities, types and causes), and the alarm effects of a heartbeat
//! period's changes.

use starling_common::alarm::{AlarmDef, AlarmEffect};

use crate::heartbeat::{Change, Level, Monitor, Network};

/// 200.005 at major: the management heartbeat degraded.
pub static MGMT_HEARTBEAT_MAJOR: AlarmDef = AlarmDef {
    id: "200.005",
    entity_type: "host",
    severity: "major",
    alarm_type: "communication",
    probable_cause: "communication-subsystem-failure",
    repair: "Check the management network link of the host.",
    service_affecting: true,
    suppression: true,
};

/// 200.005 at critical: the management heartbeat lost.
pub static MGMT_HEARTBEAT_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    ..MGMT_HEARTBEAT_MAJOR
};

/// 200.009 at major: the cluster-host heartbeat degraded.
pub static CLUSTER_HEARTBEAT_MAJOR: AlarmDef = AlarmDef {
    id: "200.009",
    repair: "Check the cluster-host network link of the host.",
    ..MGMT_HEARTBEAT_MAJOR
};

/// 200.009 at critical: the cluster-host heartbeat lost.
pub static CLUSTER_HEARTBEAT_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    ..CLUSTER_HEARTBEAT_MAJOR
};

/// 200.004 at critical: the host failed.
pub static HOST_FAILED: AlarmDef = AlarmDef {
    id: "200.004",
    entity_type: "host",
    severity: "critical",
    alarm_type: "operational-violation",
    probable_cause: "application-subsystem-failure",
    repair: "If recovery does not complete, lock and unlock the host, or reinstall it.",
    service_affecting: true,
    suppression: true,
};

/// 200.021, the customer log of a command maintenance issued (an
/// automatic reboot or reset).
pub use starling_common::alarm::HOST_COMMAND_LOG as COMMAND_LOG;

/// A 200.021 log for host `name`.
pub fn command(name: &str, text: String) -> AlarmEffect {
    AlarmEffect::Log(COMMAND_LOG.at(format!("host={name}"), text))
}

/// Multi-node failure avoidance's threshold: this many hosts missing
/// pulses on one network at once (at the minor level or worse) means the
/// network is suspect, not the hosts, and no host is failed for it.
pub const MNFA_THRESHOLD: usize = 2;

fn network_name(n: Network) -> &'static str {
    match n {
        Network::Mgmt => "Management",
        Network::Cluster => "Cluster-host",
    }
}

/// The networks on which multi-node failure avoidance holds: as many
/// hosts as [`MNFA_THRESHOLD`], among those `in_service` (a host already
/// failed and in recovery is not a candidate), miss pulses there at once
/// (minor or worse).
pub fn mnfa(monitor: &Monitor<String>, in_service: impl Fn(&String) -> bool) -> Vec<Network> {
    [Network::Mgmt, Network::Cluster]
        .into_iter()
        .filter(|n| {
            monitor
                .watched()
                .filter(|(h, net)| {
                    net == n
                        && in_service(h)
                        && monitor.level(h, *n).is_some_and(|l| l >= Level::Minor)
                })
                .count()
                >= MNFA_THRESHOLD
        })
        .collect()
}

/// The host-failed alarm (200.004 critical) for host `name`.
pub fn failed(name: &str, why: &str) -> AlarmEffect {
    AlarmEffect::Set(HOST_FAILED.at(format!("host={name}"), format!("{name} {why}.")))
}

/// The host-failed alarm's clearing for host `name`.
pub fn recovered(name: &str) -> AlarmEffect {
    AlarmEffect::Clear {
        alarm_id: HOST_FAILED.id,
        entity_instance_id: format!("host={name}"),
    }
}

/// The heartbeat alarm effects of a period's `changes` (`name` gives a
/// host's display name). A heartbeat alarm is major when the host is
/// degraded on that network and critical when it is lost, cleared when it
/// recovers (a critical is never turned into a major: the monitor only
/// leaves failed for ok). The host-failed alarm is the host's recovery's
/// ([`crate::host`]): see [`failed`] and [`recovered`].
pub fn effects(changes: &[Change<String>], name: impl Fn(&str) -> String) -> Vec<AlarmEffect> {
    let mut out = Vec::new();
    for c in changes {
        let host = name(&c.host);
        let entity = format!("host={host}.network={}", c.network.as_str());
        let (major, critical) = match c.network {
            Network::Mgmt => (&MGMT_HEARTBEAT_MAJOR, &MGMT_HEARTBEAT_CRITICAL),
            Network::Cluster => (&CLUSTER_HEARTBEAT_MAJOR, &CLUSTER_HEARTBEAT_CRITICAL),
        };
        let net = network_name(c.network);
        match c.to {
            Level::Minor if c.from == Level::Ok => {}
            Level::Minor | Level::Ok => {
                if c.from >= Level::Degraded {
                    out.push(AlarmEffect::Clear {
                        alarm_id: major.id,
                        entity_instance_id: entity,
                    });
                }
            }
            Level::Degraded => out.push(AlarmEffect::Set(major.at(
                entity,
                format!("{host} is degraded due to the loss of {net} network heartbeat"),
            ))),
            Level::Failed => out.push(AlarmEffect::Set(critical.at(
                entity,
                format!(
                    "{host} has lost {net} network heartbeat ({} pulses missed in a row)",
                    c.misses
                ),
            ))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::Thresholds;

    fn run(m: &mut Monitor<String>, n: u32, up: &[&str]) -> Vec<AlarmEffect> {
        let mut all = Vec::new();
        for _ in 0..n {
            let c = m.period_end(|h, _| up.contains(&h.as_str()), true);
            all.extend(effects(&c, |h| h.to_string()));
        }
        all
    }

    fn summary(e: &[AlarmEffect]) -> Vec<String> {
        e.iter()
            .map(|e| match e {
                AlarmEffect::Set(a) => format!(
                    "set {} {} {}",
                    a.def.id, a.def.severity, a.entity_instance_id
                ),
                AlarmEffect::Clear {
                    alarm_id,
                    entity_instance_id,
                } => format!("clear {alarm_id} {entity_instance_id}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn monitor(hosts: &[&str]) -> Monitor<String> {
        let mut m = Monitor::new(Thresholds::default()).unwrap();
        for h in hosts {
            m.watch(h.to_string(), Network::Mgmt);
        }
        m
    }

    #[test]
    fn one_host_lost_is_degraded_then_lost_then_recovers() {
        let mut m = monitor(&["w0", "w1", "w2"]);
        let e = run(&mut m, 10, &["w1", "w2"]);
        assert_eq!(
            summary(&e),
            [
                "set 200.005 major host=w0.network=mgmt",
                "set 200.005 critical host=w0.network=mgmt",
            ]
        );
        let e = run(&mut m, 10, &["w0", "w1", "w2"]);
        assert_eq!(summary(&e), ["clear 200.005 host=w0.network=mgmt"]);
        // Degraded only: one answer clears the major.
        let e = run(&mut m, 7, &["w1", "w2"]);
        assert_eq!(summary(&e), ["set 200.005 major host=w0.network=mgmt"]);
        let e = run(&mut m, 1, &["w0", "w1", "w2"]);
        assert_eq!(summary(&e), ["clear 200.005 host=w0.network=mgmt"]);
        assert_eq!(
            summary(&[failed("w0", "failed"), recovered("w0")]),
            ["set 200.004 critical host=w0", "clear 200.004 host=w0"]
        );
    }

    #[test]
    fn mnfa_needs_two_hosts_in_service_missing_pulses_at_once() {
        let mut m = monitor(&["w0", "w1", "w2"]);
        let all = |_: &String| true;
        run(&mut m, 10, &["w1", "w2"]);
        assert!(mnfa(&m, all).is_empty());
        // w1 goes too: two at once, the network is suspect.
        run(&mut m, 4, &["w2"]);
        assert_eq!(mnfa(&m, all), [Network::Mgmt]);
        // Unless w0 was already failed and in recovery.
        assert!(mnfa(&m, |h: &String| h != "w0").is_empty());
    }
}
