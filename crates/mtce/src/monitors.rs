//! What a host's own monitors find (the agent's process and resource
//! monitors), as the agent reports it to maintenance, and what maintenance
//! makes of it: the process-failure alarm (200.006, StarlingX's texts and
//! entity `host=NAME.process=PROCESS`) and its first-failure log; the
//! usage alarms (100.101 platform CPU `host=NAME`, 100.103 memory
//! `host=NAME.memory=total`, 100.104 file system
//! `host=NAME.filesystem=MOUNT`, collectd's texts); the link alarms
//! (100.106–100.111, port `host=NAME.port=PORT` and interface
//! `host=NAME.interface=NETWORK` of the OAM, management and cluster-host
//! networks); and the effect on the host — a major process failure, a
//! usage or a link alarm degrade it, a critical process failure fails it
//! (and the reset progression reboots it).
//!
//! An agent reports every condition that holds (never a change), so a lost
//! or repeated report does no harm; the logs it has not yet delivered ride
//! along, numbered, and are written once.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use starling_common::alarm::{AlarmDef, AlarmEffect};

use crate::process::Severity;

/// 200.006 at minor: a process failed (alarm only).
pub static PROCESS_MINOR: AlarmDef = AlarmDef {
    id: "200.006",
    entity_type: "host",
    severity: "minor",
    alarm_type: "operational-violation",
    probable_cause: "unknown",
    repair: "If problem consistently occurs after Host is locked and unlocked then contact next level of support for root cause analysis and recovery.",
    service_affecting: true,
    suppression: true,
};

/// 200.006 at major: the host is degraded.
pub static PROCESS_MAJOR: AlarmDef = AlarmDef {
    severity: "major",
    ..PROCESS_MINOR
};

/// 200.006 at critical: the host is failed and rebooted.
pub static PROCESS_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    ..PROCESS_MINOR
};

/// 200.006 as a customer log (a process's first failure of a cycle).
pub static PROCESS_LOG: AlarmDef = AlarmDef {
    severity: "not-applicable",
    repair: "",
    service_affecting: false,
    suppression: false,
    ..PROCESS_MINOR
};

/// The usage alarms' common definition (collectd's threshold alarms).
const USAGE: AlarmDef = AlarmDef {
    id: "100.101",
    entity_type: "host",
    severity: "major",
    alarm_type: "operational-violation",
    probable_cause: "threshold-crossed",
    repair: "Monitor and if condition persists, contact next level of support.",
    service_affecting: false,
    suppression: true,
};

/// 100.101: platform CPU usage over a threshold.
pub static CPU_MAJOR: AlarmDef = USAGE;
pub static CPU_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    ..USAGE
};

/// 100.103: memory usage over a threshold.
pub static MEMORY_MAJOR: AlarmDef = AlarmDef {
    id: "100.103",
    repair: "Monitor and if condition persists, contact next level of support; may require additional memory on Host.",
    ..USAGE
};
pub static MEMORY_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    ..MEMORY_MAJOR
};

/// 100.104: a file system's usage over a threshold.
pub static FILESYSTEM_MAJOR: AlarmDef = AlarmDef {
    id: "100.104",
    repair: "Reduce usage or resize filesystem.",
    ..USAGE
};
pub static FILESYSTEM_CRITICAL: AlarmDef = AlarmDef {
    severity: "critical",
    ..FILESYSTEM_MAJOR
};

/// The link alarms' common definition (collectd's interface plugin).
const LINK: AlarmDef = AlarmDef {
    id: "100.106",
    entity_type: "host",
    severity: "major",
    alarm_type: "operational-violation",
    probable_cause: "unknown",
    repair: "Check cabling and far-end port configuration and status on adjacent equipment.",
    service_affecting: true,
    suppression: true,
};

/// The link alarms by network: port then interface, major then critical.
static LINKS: [(&str, [AlarmDef; 4]); 3] = [
    ("oam", link_defs("100.106", "100.107")),
    ("mgmt", link_defs("100.108", "100.109")),
    ("cluster-host", link_defs("100.110", "100.111")),
];

const fn link_defs(port: &'static str, interface: &'static str) -> [AlarmDef; 4] {
    [
        AlarmDef { id: port, ..LINK },
        AlarmDef {
            id: port,
            severity: "critical",
            ..LINK
        },
        AlarmDef {
            id: interface,
            ..LINK
        },
        AlarmDef {
            id: interface,
            severity: "critical",
            ..LINK
        },
    ]
}

/// The networks whose links are watched (StarlingX's names).
pub const NETWORKS: [&str; 3] = ["oam", "mgmt", "cluster-host"];

/// A usage the resource monitor watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    /// The platform's CPU (the host's, or the platform's cgroup's).
    Cpu,
    /// Memory: anonymous memory over anonymous plus available.
    Memory,
    /// One mounted file system.
    Filesystem,
}

/// A link's level: one port (a physical link) or the interface over its
/// ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkLevel {
    Port,
    Interface,
}

/// One condition a host's monitors find.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Condition {
    /// A process failed past its restarts (asserted at its severity).
    Process {
        process: String,
        severity: Severity,
        /// Its configured restarts (0: it waits for the operator).
        restarts: u32,
    },
    /// A usage over its major or critical threshold.
    Resource {
        resource: Resource,
        /// The file system's mount point; empty for CPU and memory.
        #[serde(default)]
        instance: String,
        severity: Severity,
        /// The threshold crossed and the reading, in hundredths of a
        /// percent.
        threshold: u32,
        actual: u32,
    },
    /// A link of a watched network down.
    Link {
        /// `oam`, `mgmt` or `cluster-host`.
        network: String,
        level: LinkLevel,
        /// The port's name (for a port), or the network's.
        name: String,
        severity: Severity,
    },
}

/// `h` hundredths of a percent as collectd writes it (`97.00`).
fn percent(h: u32) -> String {
    format!("{}.{:02}", h / 100, h % 100)
}

impl Condition {
    /// Where its alarm is, under the host's entity.
    fn entity(&self, host: &str) -> String {
        match self {
            Condition::Process { process, .. } => format!("host={host}.process={process}"),
            Condition::Resource {
                resource: Resource::Cpu,
                ..
            } => format!("host={host}"),
            Condition::Resource {
                resource: Resource::Memory,
                ..
            } => format!("host={host}.memory=total"),
            Condition::Resource {
                resource: Resource::Filesystem,
                instance,
                ..
            } => format!("host={host}.filesystem={instance}"),
            Condition::Link {
                level: LinkLevel::Port,
                name,
                ..
            } => format!("host={host}.port={name}"),
            Condition::Link {
                level: LinkLevel::Interface,
                network,
                ..
            } => format!("host={host}.interface={network}"),
        }
    }

    fn def(&self) -> &'static AlarmDef {
        let critical = self.severity() == Severity::Critical;
        match self {
            Condition::Process { severity, .. } => match severity {
                Severity::Minor => &PROCESS_MINOR,
                Severity::Major => &PROCESS_MAJOR,
                Severity::Critical => &PROCESS_CRITICAL,
            },
            Condition::Resource { resource, .. } => match (resource, critical) {
                (Resource::Cpu, false) => &CPU_MAJOR,
                (Resource::Cpu, true) => &CPU_CRITICAL,
                (Resource::Memory, false) => &MEMORY_MAJOR,
                (Resource::Memory, true) => &MEMORY_CRITICAL,
                (Resource::Filesystem, false) => &FILESYSTEM_MAJOR,
                (Resource::Filesystem, true) => &FILESYSTEM_CRITICAL,
            },
            Condition::Link { network, level, .. } => {
                let defs = LINKS
                    .iter()
                    .find(|(n, _)| n == network)
                    .map_or(&LINKS[1].1, |(_, d)| d);
                let i = match level {
                    LinkLevel::Port => 0,
                    LinkLevel::Interface => 2,
                } + usize::from(critical);
                &defs[i]
            }
        }
    }

    /// Its alarm's text (StarlingX's pmond texts).
    fn text(&self, host: &str) -> String {
        match self {
            Condition::Process {
                process,
                severity,
                restarts,
            } => match severity {
                Severity::Critical => format!(
                    "{host} critical '{process}' process has failed and could not be auto-recovered gracefully. Auto-recovery progression by host reboot is required and in progress. Manual Lock and Unlock may be required if auto-recovery is unsuccessful."
                ),
                Severity::Major => format!(
                    "{host} is degraded due to the failure of its '{process}' process. Auto recovery of this major process is in progress."
                ),
                Severity::Minor => format!(
                    "{host} '{process}' process has failed. {}",
                    if *restarts == 0 {
                        "Manual recovery is required."
                    } else {
                        "Auto recovery in progress."
                    }
                ),
            },
            Condition::Resource {
                resource,
                threshold,
                actual,
                ..
            } => format!(
                "{} threshold exceeded ; threshold {}%, actual {}%",
                match resource {
                    Resource::Cpu => "Platform CPU",
                    Resource::Memory => "Memory",
                    Resource::Filesystem => "File System",
                },
                percent(*threshold),
                percent(*actual)
            ),
            Condition::Link {
                network,
                level,
                severity,
                ..
            } => format!(
                "'{}' {} {}",
                network.to_uppercase(),
                match level {
                    LinkLevel::Port => "port",
                    LinkLevel::Interface => "interface",
                },
                if *level == LinkLevel::Interface && *severity == Severity::Major {
                    "degraded"
                } else {
                    "failed"
                }
            ),
        }
    }

    /// Its log's text.
    fn log_text(&self, host: &str) -> String {
        match self {
            Condition::Process {
                process,
                severity: Severity::Critical,
                ..
            } => format!(
                "{host} critical '{process}' process has failed and could not be auto-recovered gracefully."
            ),
            other => other.text(host),
        }
    }

    /// The thing it is about (a process, a usage, a port, an
    /// interface), one condition each.
    pub fn subject(&self) -> (&'static str, &str) {
        match self {
            Condition::Process { process, .. } => ("process", process),
            Condition::Resource {
                resource: Resource::Cpu,
                ..
            } => ("cpu", ""),
            Condition::Resource {
                resource: Resource::Memory,
                ..
            } => ("memory", ""),
            Condition::Resource { instance, .. } => ("filesystem", instance),
            Condition::Link {
                level: LinkLevel::Port,
                name,
                ..
            } => ("port", name),
            Condition::Link { network, .. } => ("interface", network),
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Condition::Process { severity, .. }
            | Condition::Resource { severity, .. }
            | Condition::Link { severity, .. } => *severity,
        }
    }

    /// Whether what it names is well formed.
    fn check(&self) -> Result<(), String> {
        let token = |what: &str, name: &str| {
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
            {
                Err(format!(
                    "{name:?}: a {what} name is 1 to 64 letters, digits or - _ . @ :"
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Condition::Process { process, .. } => token("process", process),
            Condition::Resource {
                resource,
                instance,
                threshold,
                actual,
                severity,
            } => {
                if *severity == Severity::Minor {
                    return Err("a usage is major or critical".into());
                }
                if *threshold > 10_000 || *actual > 10_000 {
                    return Err(
                        "threshold and actual are hundredths of a percent (0 to 10000)".into(),
                    );
                }
                let mount_point = instance.starts_with('/')
                    && instance.len() <= 255
                    && !instance.chars().any(char::is_control);
                match resource {
                    Resource::Filesystem if !mount_point => Err(format!(
                        "{instance:?}: a file system is named by its mount point"
                    )),
                    Resource::Cpu | Resource::Memory if !instance.is_empty() => {
                        Err(format!("{resource:?} takes no instance"))
                    }
                    _ => Ok(()),
                }
            }
            Condition::Link {
                network,
                name,
                level,
                severity,
            } => {
                if !NETWORKS.contains(&network.as_str()) {
                    return Err(format!(
                        "{network:?}: a network is one of {}",
                        NETWORKS.join(", ")
                    ));
                }
                if *severity == Severity::Minor {
                    return Err("a link is major or critical".into());
                }
                match level {
                    LinkLevel::Port => token("port", name),
                    LinkLevel::Interface if name != network => {
                        Err("an interface is named by its network".into())
                    }
                    LinkLevel::Interface => Ok(()),
                }
            }
        }
    }
}

/// A numbered log the agent has not yet delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logged {
    /// Counts up from 1 for each agent instance.
    pub seq: u64,
    pub condition: Condition,
}

/// What an agent reports: every condition that holds, and its undelivered
/// logs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorReport {
    /// The agent's run (a new one after each start, so after a reboot).
    pub instance: String,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub logs: Vec<Logged>,
}

/// How many conditions or logs one report may carry.
pub const MAX_ITEMS: usize = 1024;

impl MonitorReport {
    /// Checks what an agent sent; the reason when it is refused.
    pub fn validate(&self) -> Result<(), String> {
        if self.instance.is_empty()
            || self.instance.len() > 64
            || !self
                .instance
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err("instance: 1 to 64 letters, digits or '-'".into());
        }
        if self.conditions.len() > MAX_ITEMS || self.logs.len() > MAX_ITEMS {
            return Err(format!(
                "at most {MAX_ITEMS} conditions and {MAX_ITEMS} logs"
            ));
        }
        let mut subjects = BTreeSet::new();
        for c in self
            .conditions
            .iter()
            .chain(self.logs.iter().map(|l| &l.condition))
        {
            c.check()?;
        }
        for c in &self.conditions {
            if !subjects.insert(c.subject()) {
                let (kind, name) = c.subject();
                return Err(format!("{kind} {name} reported twice"));
            }
        }
        if self.logs.iter().any(|l| l.seq == 0) {
            return Err("a log's seq counts from 1".into());
        }
        Ok(())
    }
}

/// What a host's monitors mean for its maintenance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impact {
    /// A major failure: the host is degraded.
    pub degraded: bool,
    /// A critical failure (its description): the host is failed.
    pub critical: Option<String>,
}

#[derive(Debug, Default)]
struct Held {
    instance: String,
    conditions: BTreeSet<Condition>,
    last_log: u64,
    /// The host was rebooted since this was reported: it means nothing
    /// for the host until its agent's next run reports.
    stale: bool,
}

/// The conditions each host's agent reported, and their alarms.
#[derive(Debug, Default)]
pub struct HostMonitors {
    hosts: BTreeMap<String, Held>,
}

impl HostMonitors {
    /// Host `uuid` (display name `name`) reported `r` (validated): the
    /// alarm effects — alarms raised for new conditions, changed in
    /// severity (a critical cleared first, never lowered in place),
    /// cleared for those gone, and the logs not yet written.
    pub fn report(&mut self, uuid: &str, name: &str, r: MonitorReport) -> Vec<AlarmEffect> {
        let held = self.hosts.entry(uuid.to_string()).or_default();
        if held.instance != r.instance {
            held.instance = r.instance;
            held.last_log = 0;
            held.stale = false;
        }
        let now: BTreeSet<Condition> = r.conditions.into_iter().collect();
        let mut out = Vec::new();
        let before = |c: &Condition| {
            held.conditions
                .iter()
                .find(|h| h.subject() == c.subject())
                .map(Condition::severity)
        };
        for gone in held.conditions.iter() {
            let still = now.iter().find(|c| c.subject() == gone.subject());
            let lowered = still.is_some_and(|c| {
                gone.severity() == Severity::Critical && c.severity() != Severity::Critical
            });
            if still.is_none() || lowered {
                out.push(AlarmEffect::Clear {
                    alarm_id: gone.def().id,
                    entity_instance_id: gone.entity(name),
                });
            }
        }
        // An alarm call only when a severity changes.
        for c in now.iter().filter(|c| before(c) != Some(c.severity())) {
            out.push(AlarmEffect::Set(c.def().at(c.entity(name), c.text(name))));
        }
        let mut logs = r.logs;
        logs.sort_by_key(|l| l.seq);
        for l in logs {
            if l.seq <= held.last_log {
                continue;
            }
            held.last_log = l.seq;
            out.push(AlarmEffect::Log(
                PROCESS_LOG.at(l.condition.entity(name), l.condition.log_text(name)),
            ));
        }
        held.conditions = now;
        out
    }

    /// What host `uuid`'s conditions mean for it now.
    pub fn impact(&self, uuid: &str) -> Impact {
        let mut out = Impact::default();
        let Some(held) = self.hosts.get(uuid).filter(|h| !h.stale) else {
            return out;
        };
        for c in &held.conditions {
            match (c.severity(), c) {
                (Severity::Critical, Condition::Process { process, .. }) => {
                    out.critical
                        .get_or_insert_with(|| format!("critical '{process}' process failed"));
                }
                (Severity::Minor, _) => {}
                (Severity::Major | Severity::Critical, _) => out.degraded = true,
            }
        }
        out
    }

    /// Host `uuid` is being rebooted or reset: what its agent reported
    /// counts again only when its next run reports (its alarms stay until
    /// then).
    pub fn rebooted(&mut self, uuid: &str) {
        if let Some(h) = self.hosts.get_mut(uuid) {
            h.stale = true;
        }
    }

    /// Host `uuid` (display name `name`) is gone: its alarms clear.
    pub fn forget(&mut self, uuid: &str, name: &str) -> Vec<AlarmEffect> {
        let Some(held) = self.hosts.remove(uuid) else {
            return Vec::new();
        };
        held.conditions
            .iter()
            .map(|c| AlarmEffect::Clear {
                alarm_id: c.def().id,
                entity_instance_id: c.entity(name),
            })
            .collect()
    }

    /// Forgets, without a word, every host `keep` does not keep (hosts
    /// deleted: inventory clears their alarms with them).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.hosts.retain(|uuid, _| keep(uuid));
    }

    /// The hosts that reported.
    pub fn hosts(&self) -> impl Iterator<Item = &String> {
        self.hosts.keys()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn process(name: &str, severity: Severity) -> Condition {
        Condition::Process {
            process: name.into(),
            severity,
            restarts: 3,
        }
    }

    fn report(instance: &str, conditions: Vec<Condition>, logs: Vec<Logged>) -> MonitorReport {
        MonitorReport {
            instance: instance.into(),
            conditions,
            logs,
        }
    }

    fn set(e: &AlarmEffect) -> Option<(&str, &str, &str)> {
        match e {
            AlarmEffect::Set(a) => Some((
                a.def.severity,
                a.entity_instance_id.as_str(),
                a.reason_text.as_str(),
            )),
            _ => None,
        }
    }

    #[test]
    fn alarms_follow_the_conditions_reported() {
        let mut m = HostMonitors::default();
        let e = m.report(
            "u1",
            "worker-0",
            report("a", vec![process("sshd", Severity::Major)], vec![]),
        );
        assert_eq!(
            set(&e[0]),
            Some((
                "major",
                "host=worker-0.process=sshd",
                "worker-0 is degraded due to the failure of its 'sshd' process. Auto recovery of this major process is in progress."
            ))
        );
        assert_eq!(
            m.impact("u1"),
            Impact {
                degraded: true,
                critical: None
            }
        );
        // The same report again: nothing.
        let again = report("a", vec![process("sshd", Severity::Major)], vec![]);
        assert!(m.report("u1", "worker-0", again).is_empty());
        // It recovered: cleared.
        let e = m.report("u1", "worker-0", report("a", vec![], vec![]));
        assert_eq!(
            e,
            [AlarmEffect::Clear {
                alarm_id: "200.006",
                entity_instance_id: "host=worker-0.process=sshd".into()
            }]
        );
        assert_eq!(m.impact("u1"), Impact::default());
    }

    #[test]
    fn a_critical_is_cleared_before_it_is_lowered_and_fails_the_host() {
        let mut m = HostMonitors::default();
        m.report(
            "u1",
            "w",
            report("a", vec![process("kubelet", Severity::Critical)], vec![]),
        );
        let i = m.impact("u1");
        assert_eq!(
            i.critical.as_deref(),
            Some("critical 'kubelet' process failed")
        );
        let e = m.report(
            "u1",
            "w",
            report("a", vec![process("kubelet", Severity::Minor)], vec![]),
        );
        assert!(matches!(e[0], AlarmEffect::Clear { .. }), "{e:?}");
        assert_eq!(set(&e[1]).map(|s| s.0), Some("minor"));
        assert!(set(&e[1]).is_some_and(|s| s.2.ends_with("Auto recovery in progress.")));
    }

    #[test]
    fn logs_are_written_once_per_agent_run() {
        let mut m = HostMonitors::default();
        let log = |seq| Logged {
            seq,
            condition: process("sshd", Severity::Minor),
        };
        let e = m.report("u1", "w", report("a", vec![], vec![log(1), log(2)]));
        assert_eq!(e.len(), 2);
        assert!(
            matches!(&e[0], AlarmEffect::Log(a) if a.def.id == "200.006" && a.def.severity == "not-applicable")
        );
        // Sent again (the answer was lost), and one more: only the new.
        let e = m.report("u1", "w", report("a", vec![], vec![log(2), log(3)]));
        assert_eq!(e.len(), 1);
        // A new run counts from 1 again.
        let e = m.report("u1", "w", report("b", vec![], vec![log(1)]));
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn a_rebooted_host_counts_again_at_its_agents_next_run() {
        let mut m = HostMonitors::default();
        m.report(
            "u1",
            "w",
            report("a", vec![process("p", Severity::Critical)], vec![]),
        );
        m.rebooted("u1");
        assert_eq!(m.impact("u1"), Impact::default());
        // The old run again (it did not reboot after all): still stale.
        m.report(
            "u1",
            "w",
            report("a", vec![process("p", Severity::Critical)], vec![]),
        );
        assert_eq!(m.impact("u1"), Impact::default());
        let e = m.report(
            "u1",
            "w",
            report("b", vec![process("p", Severity::Critical)], vec![]),
        );
        assert!(e.is_empty(), "the alarm stayed raised: {e:?}");
        assert!(m.impact("u1").critical.is_some());
        assert_eq!(m.forget("u1", "w").len(), 1);
        assert!(m.forget("u1", "w").is_empty());
    }

    #[test]
    fn usages_and_links_raise_collectds_alarms_and_degrade() {
        let mut m = HostMonitors::default();
        let cpu = Condition::Resource {
            resource: Resource::Cpu,
            instance: String::new(),
            severity: Severity::Major,
            threshold: 9000,
            actual: 9700,
        };
        let fs = Condition::Resource {
            resource: Resource::Filesystem,
            instance: "/var/log".into(),
            severity: Severity::Critical,
            threshold: 9000,
            actual: 9512,
        };
        let mem = Condition::Resource {
            resource: Resource::Memory,
            instance: String::new(),
            severity: Severity::Major,
            threshold: 8000,
            actual: 8105,
        };
        let port = Condition::Link {
            network: "oam".into(),
            level: LinkLevel::Port,
            name: "eth2".into(),
            severity: Severity::Major,
        };
        let iface = Condition::Link {
            network: "cluster-host".into(),
            level: LinkLevel::Interface,
            name: "cluster-host".into(),
            severity: Severity::Critical,
        };
        let r = report("a", vec![cpu.clone(), fs, mem, port, iface.clone()], vec![]);
        r.validate().unwrap();
        let e = m.report("u1", "w", r);
        let got: Vec<(&str, &str, &str, &str)> = e
            .iter()
            .map(|e| match e {
                AlarmEffect::Set(a) => (
                    a.def.id,
                    a.def.severity,
                    a.entity_instance_id.as_str(),
                    a.reason_text.as_str(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        let want = [
            (
                "100.101",
                "major",
                "host=w",
                "Platform CPU threshold exceeded ; threshold 90.00%, actual 97.00%",
            ),
            (
                "100.104",
                "critical",
                "host=w.filesystem=/var/log",
                "File System threshold exceeded ; threshold 90.00%, actual 95.12%",
            ),
            (
                "100.103",
                "major",
                "host=w.memory=total",
                "Memory threshold exceeded ; threshold 80.00%, actual 81.05%",
            ),
            ("100.106", "major", "host=w.port=eth2", "'OAM' port failed"),
            (
                "100.111",
                "critical",
                "host=w.interface=cluster-host",
                "'CLUSTER-HOST' interface failed",
            ),
        ];
        for w in &want {
            assert!(got.contains(w), "{w:?} not in {got:#?}");
        }
        assert_eq!(got.len(), want.len());
        // Degraded, never failed, by usages and links.
        assert_eq!(
            m.impact("u1"),
            Impact {
                degraded: true,
                critical: None
            }
        );
        // The reading moves, the severity does not: no alarm call.
        let moved = Condition::Resource {
            resource: Resource::Cpu,
            instance: String::new(),
            severity: Severity::Major,
            threshold: 9000,
            actual: 9300,
        };
        let e = m.report("u1", "w", report("a", vec![moved, iface], vec![]));
        assert_eq!(e.len(), 3, "the three gone cleared, nothing set: {e:?}");
        assert!(e.iter().all(|e| matches!(e, AlarmEffect::Clear { .. })));
        assert!(e.contains(&AlarmEffect::Clear {
            alarm_id: "100.104",
            entity_instance_id: "host=w.filesystem=/var/log".into()
        }));
        let _ = cpu;
    }

    #[test]
    fn bad_reports_are_refused() {
        let ok = report("a-1", vec![process("sshd", Severity::Minor)], vec![]);
        assert!(ok.validate().is_ok());
        let cases = [
            (report("", vec![], vec![]), "instance"),
            (report("a b", vec![], vec![]), "instance"),
            (
                report("a", vec![process("x y", Severity::Minor)], vec![]),
                "process name",
            ),
            (
                report(
                    "a",
                    vec![process("x", Severity::Minor), process("x", Severity::Major)],
                    vec![],
                ),
                "twice",
            ),
            (
                report(
                    "a",
                    vec![],
                    vec![Logged {
                        seq: 0,
                        condition: process("x", Severity::Minor),
                    }],
                ),
                "seq",
            ),
        ];
        let usage = |resource, instance: &str, severity| Condition::Resource {
            resource,
            instance: instance.into(),
            severity,
            threshold: 8000,
            actual: 8100,
        };
        let link = |network: &str, level, name: &str| Condition::Link {
            network: network.into(),
            level,
            name: name.into(),
            severity: Severity::Major,
        };
        let more = [
            (
                usage(Resource::Filesystem, "var", Severity::Major),
                "mount point",
            ),
            (usage(Resource::Cpu, "x", Severity::Major), "no instance"),
            (
                usage(Resource::Memory, "", Severity::Minor),
                "major or critical",
            ),
            (link("data", LinkLevel::Port, "eth0"), "a network is one of"),
            (
                link("mgmt", LinkLevel::Interface, "eth0"),
                "named by its network",
            ),
            (link("mgmt", LinkLevel::Port, "eth 0"), "port name"),
        ];
        let cases: Vec<(MonitorReport, &str)> = cases
            .into_iter()
            .chain(
                more.into_iter()
                    .map(|(c, w)| (report("a", vec![c], vec![]), w)),
            )
            .collect();
        for (r, want) in cases {
            let e = r.validate().unwrap_err();
            assert!(e.contains(want), "{r:?}: {e}");
        }
        let wire = serde_json::json!({
            "instance": "a",
            "conditions": [{"kind": "process", "process": "sshd", "severity": "major", "restarts": 3}]
        });
        let r: MonitorReport = serde_json::from_value(wire).unwrap();
        assert_eq!(r.conditions, [process("sshd", Severity::Major)]);
    }
}
