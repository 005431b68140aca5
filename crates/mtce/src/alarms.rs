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

/// What a host's heartbeat shows of its health.
pub use starling_common::HostHealth as Health;

/// `host`'s health by its heartbeat: failed when lost on a network —
/// unless as many hosts as [`MNFA_THRESHOLD`] miss pulses there at once
/// (then only degraded: the network is suspect) —, degraded when degraded
/// on one, available otherwise.
pub fn health_of(monitor: &Monitor<String>, host: &String) -> Health {
    let mut health = Health::Available;
    for n in [Network::Mgmt, Network::Cluster] {
        match monitor.level(host, n) {
            Some(Level::Failed) if monitor.count_at_least(n, Level::Minor) < MNFA_THRESHOLD => {
                return Health::Failed;
            }
            Some(Level::Failed | Level::Degraded) => health = Health::Degraded,
            _ => {}
        }
    }
    health
}

/// The alarm effects of a period's `changes` (the monitor as it is after
/// them; `name` gives a host's display name). A heartbeat alarm is major
/// when the host is degraded on that network and critical when it is lost,
/// cleared when it recovers (a critical is never turned into a major: the
/// monitor only leaves failed for ok). The host-failed alarm is raised when
/// a host is lost on any network — unless as many hosts as
/// [`MNFA_THRESHOLD`] miss pulses on that network at once — and cleared
/// once it is lost on none.
pub fn effects(
    monitor: &Monitor<String>,
    changes: &[Change<String>],
    name: impl Fn(&str) -> String,
) -> Vec<AlarmEffect> {
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
                let lost_elsewhere = [Network::Mgmt, Network::Cluster]
                    .iter()
                    .any(|n| monitor.level(&c.host, *n) == Some(Level::Failed));
                if c.from == Level::Failed && !lost_elsewhere {
                    out.push(AlarmEffect::Clear {
                        alarm_id: HOST_FAILED.id,
                        entity_instance_id: format!("host={host}"),
                    });
                }
            }
            Level::Degraded => out.push(AlarmEffect::Set(major.at(
                entity,
                format!("{host} is degraded due to the loss of {net} network heartbeat"),
            ))),
            Level::Failed => {
                out.push(AlarmEffect::Set(critical.at(
                    entity,
                    format!(
                        "{host} has lost {net} network heartbeat ({} pulses missed in a row)",
                        c.misses
                    ),
                )));
                if monitor.count_at_least(c.network, Level::Minor) < MNFA_THRESHOLD {
                    out.push(AlarmEffect::Set(HOST_FAILED.at(
                        format!("host={host}"),
                        format!("{host} experienced a service-affecting failure; auto-recovery in progress."),
                    )));
                }
            }
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
            all.extend(effects(m, &c, |h| h.to_string()));
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
    fn one_host_lost_is_degraded_then_failed_then_recovers() {
        let mut m = monitor(&["w0", "w1", "w2"]);
        let e = run(&mut m, 10, &["w1", "w2"]);
        assert_eq!(
            summary(&e),
            [
                "set 200.005 major host=w0.network=mgmt",
                "set 200.005 critical host=w0.network=mgmt",
                "set 200.004 critical host=w0",
            ]
        );
        let e = run(&mut m, 10, &["w0", "w1", "w2"]);
        assert_eq!(
            summary(&e),
            [
                "clear 200.005 host=w0.network=mgmt",
                "clear 200.004 host=w0"
            ]
        );
        // Degraded only: one answer clears the major.
        let e = run(&mut m, 7, &["w1", "w2"]);
        assert_eq!(summary(&e), ["set 200.005 major host=w0.network=mgmt"]);
        let e = run(&mut m, 1, &["w0", "w1", "w2"]);
        assert_eq!(summary(&e), ["clear 200.005 host=w0.network=mgmt"]);
    }

    #[test]
    fn health_follows_the_worst_network_and_mnfa_keeps_hosts_in_service() {
        let mut m = monitor(&["w0", "w1", "w2"]);
        let w = |s: &str| s.to_string();
        run(&mut m, 7, &["w1", "w2"]);
        assert_eq!(health_of(&m, &w("w0")), Health::Degraded);
        run(&mut m, 3, &["w1", "w2"]);
        assert_eq!(health_of(&m, &w("w0")), Health::Failed);
        assert_eq!(health_of(&m, &w("w1")), Health::Available);
        // w1 goes too: two at once, the network is suspect.
        run(&mut m, 10, &["w2"]);
        assert_eq!(health_of(&m, &w("w0")), Health::Degraded);
        assert_eq!(health_of(&m, &w("w1")), Health::Degraded);
        assert_eq!(Health::Failed.availability(), "failed");
    }

    #[test]
    fn two_hosts_lost_at_once_fail_nobody() {
        let mut m = monitor(&["w0", "w1", "w2"]);
        let e = run(&mut m, 12, &["w2"]);
        let s = summary(&e);
        assert!(
            s.contains(&"set 200.005 critical host=w0.network=mgmt".to_string()),
            "{s:?}"
        );
        assert!(
            s.contains(&"set 200.005 critical host=w1.network=mgmt".to_string()),
            "{s:?}"
        );
        assert!(!s.iter().any(|x| x.contains("200.004")), "MNFA: {s:?}");
    }
}
