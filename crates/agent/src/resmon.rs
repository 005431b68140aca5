//! The resource monitor (StarlingX's collectd thresholds and lmond's link
//! watch, on the host itself): every interval the platform's CPU usage
//! (the host's from `/proc/stat`, or a platform cgroup's), memory usage
//! (anonymous memory over anonymous plus available, `/proc/meminfo`),
//! each watched mounted file system's usage (df's: used over used plus
//! available to users) and the links of each watched network's interface
//! (`/sys/class/net`: the interface's bond slaves, or itself). Readings go
//! to `starling-mtce`'s rules ([`starling_mtce::resource`]); what is
//! asserted goes to maintenance with the process monitor's findings.
//!
//! It reads the live machine, never the discovery root: it watches what
//! runs, where discovery describes what is there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use starling_mtce::monitors::{Condition, LinkLevel, Resource};
use starling_mtce::process::Severity;
use starling_mtce::resource::{Gauge, links};

use crate::pmon::Monitors;

pub use starling_mtce::resource::Threshold;

/// A threshold option's value: `MAJOR:CRITICAL`, or `off` (not watched).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit(pub Option<Threshold>);

/// Reads a [`Limit`] (`80:90`, `off`).
pub fn parse_limit(s: &str) -> Result<Limit, String> {
    Threshold::parse(s).map(Limit)
}

/// StarlingX's watched mount points (collectd's df.conf); those mounted
/// here are watched.
pub const STARLINGX_FILESYSTEMS: &[&str] = &[
    "/",
    "/tmp",
    "/dev",
    "/dev/shm",
    "/var/run",
    "/var/log",
    "/var/lock",
    "/boot",
    "/scratch",
    "/opt/etcd",
    "/opt/platform",
    "/opt/extension",
    "/var/lib/rabbitmq",
    "/var/lib/postgresql",
    "/var/lib/ceph/mon",
    "/var/lib/docker",
    "/var/lib/docker-distribution",
    "/var/lib/kubelet",
    "/var/lib/nova/instances",
    "/opt/backups",
    "/opt/platform-backup",
    "/boot/efi",
    "/var",
];

/// What the resource monitor watches.
#[derive(Clone, Debug)]
pub struct ResourceConfig {
    /// Time between readings (StarlingX's collectd: 30 s).
    pub interval: Duration,
    /// Platform CPU thresholds (90:95); `None`: not watched.
    pub cpu: Option<Threshold>,
    /// Memory thresholds (80:90).
    pub memory: Option<Threshold>,
    /// File system thresholds (80:90).
    pub filesystem: Option<Threshold>,
    /// The mount points watched (those mounted).
    pub filesystems: Vec<PathBuf>,
    /// A cgroup (v2 directory, or v1 cpuacct directory) whose CPU time is
    /// the platform's; `None`: the whole host's.
    pub cpu_cgroup: Option<PathBuf>,
    /// The interfaces watched, by network (`oam`, `mgmt`, `cluster-host`).
    pub interfaces: Vec<(String, String)>,
}

impl Default for ResourceConfig {
    /// StarlingX's defaults: every 30 s, CPU 90:95, memory 80:90, file
    /// systems 80:90 on StarlingX's mount points, no interface.
    fn default() -> Self {
        ResourceConfig {
            interval: Duration::from_secs(30),
            cpu: Some(Threshold {
                major: 90.0,
                critical: 95.0,
            }),
            memory: Some(Threshold {
                major: 80.0,
                critical: 90.0,
            }),
            filesystem: Some(Threshold {
                major: 80.0,
                critical: 90.0,
            }),
            filesystems: STARLINGX_FILESYSTEMS.iter().map(PathBuf::from).collect(),
            cpu_cgroup: None,
            interfaces: Vec::new(),
        }
    }
}

/// Reads `NETWORK=INTERFACE` (e.g. `mgmt=eth0`).
pub fn parse_interface(s: &str) -> Result<(String, String), String> {
    let (net, iface) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: NETWORK=INTERFACE, e.g. mgmt=eth0"))?;
    let (net, iface) = (net.trim(), iface.trim());
    if !starling_mtce::monitors::NETWORKS.contains(&net) {
        return Err(format!(
            "{net:?}: the network is one of {}",
            starling_mtce::monitors::NETWORKS.join(", ")
        ));
    }
    if iface.is_empty()
        || iface.len() > 15
        || !iface
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
    {
        return Err(format!("{iface:?}: not an interface name"));
    }
    Ok((net.to_string(), iface.to_string()))
}

/// The CPU time used so far, in microseconds, and over how many CPUs'
/// time it is counted.
struct CpuSample {
    busy_us: u64,
    /// For `/proc/stat`: all of the host's time (busy and idle); for a
    /// cgroup: none (the wall time times the CPUs is the whole).
    total_us: Option<u64>,
}

/// `/proc/stat`'s first line: busy (everything but idle and iowait) and
/// total, in microseconds (USER_HZ 100).
pub fn parse_proc_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 4 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest is in user).
    let total: u64 = v.iter().take(8).sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some(((total - idle) * 10_000, total * 10_000))
}

/// Anonymous memory over anonymous plus available, in percent
/// (collectd's "normal memory" usage), from `/proc/meminfo`.
pub fn parse_meminfo(text: &str) -> Option<f64> {
    let field = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.split(':').next() == Some(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let anon = field("Active(anon)")? + field("Inactive(anon)")?;
    let avail = field("MemAvailable")?;
    let total = anon + avail;
    (total > 0.0).then(|| 100.0 * anon / total)
}

fn read_cpu(cgroup: Option<&Path>) -> Option<CpuSample> {
    match cgroup {
        None => {
            let (busy_us, total_us) =
                parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
            Some(CpuSample {
                busy_us,
                total_us: Some(total_us),
            })
        }
        Some(dir) => {
            // cgroup v1: cpuacct.usage (ns); v2: cpu.stat's usage_usec (a
            // v1 cpu controller's cpu.stat has none).
            let v1 = std::fs::read_to_string(dir.join("cpuacct.usage"))
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .map(|ns| ns / 1000);
            let busy_us = match v1 {
                Some(us) => us,
                None => std::fs::read_to_string(dir.join("cpu.stat"))
                    .ok()?
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))?
                    .trim()
                    .parse()
                    .ok()?,
            };
            Some(CpuSample {
                busy_us,
                total_us: None,
            })
        }
    }
}

/// The mount points of `/proc/self/mountinfo`.
fn mount_points() -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(unescape_mount)
        .map(PathBuf::from)
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A file system's usage in percent, as df counts it.
fn filesystem_usage(path: &Path) -> Option<f64> {
    let st = rustix::fs::statvfs(path).ok()?;
    let used = st.f_blocks.saturating_sub(st.f_bfree);
    let whole = used + st.f_bavail;
    (whole > 0).then(|| 100.0 * used as f64 / whole as f64)
}

/// An interface's ports and whether each links: a bond's slaves, or the
/// interface itself; a port links when it is up with a carrier.
fn ports(iface: &str) -> Vec<(String, bool)> {
    let net = Path::new("/sys/class/net");
    let names: Vec<String> = std::fs::read_to_string(net.join(iface).join("bonding/slaves"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_else(|_| vec![iface.to_string()]);
    names
        .into_iter()
        .map(|p| {
            let dir = net.join(&p);
            let oper = std::fs::read_to_string(dir.join("operstate")).unwrap_or_default();
            let carrier = std::fs::read_to_string(dir.join("carrier")).unwrap_or_default();
            let up = match oper.trim() {
                "up" => true,
                // Dummies and some virtual devices say unknown when up.
                "unknown" => carrier.trim() == "1",
                _ => false,
            };
            (p, up)
        })
        .collect()
}

fn hundredths(p: f64) -> u32 {
    (p.clamp(0.0, 100.0) * 100.0).round() as u32
}

/// One usage watched: its gauge and what it is.
struct Watched {
    resource: Resource,
    instance: String,
    gauge: Gauge,
}

impl Watched {
    fn reading(&mut self, p: f64, monitors: &Monitors) {
        let Some(c) = self.gauge.reading(p) else {
            return;
        };
        let kind = match self.resource {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
            Resource::Filesystem => "filesystem",
        };
        let subject = match self.resource {
            Resource::Filesystem => self.instance.as_str(),
            _ => "",
        };
        match c.severity {
            Some(severity) => {
                tracing::warn!(resource = kind, instance = %self.instance, severity = severity.as_str(), threshold = c.threshold, actual = c.actual, "usage over its threshold");
                monitors.set(
                    (kind, subject),
                    Some(Condition::Resource {
                        resource: self.resource,
                        instance: self.instance.clone(),
                        severity,
                        threshold: hundredths(c.threshold),
                        actual: hundredths(c.actual),
                    }),
                );
            }
            None => {
                tracing::info!(resource = kind, instance = %self.instance, actual = c.actual, "usage back under its threshold");
                monitors.set((kind, subject), None);
            }
        }
    }
}

/// Watches the host's resources for as long as the agent runs.
pub async fn watch(cfg: ResourceConfig, monitors: Arc<Monitors>) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let mut cpu = cfg.cpu.map(|t| Watched {
        resource: Resource::Cpu,
        instance: String::new(),
        gauge: Gauge::new(t),
    });
    let mut memory = cfg.memory.map(|t| Watched {
        resource: Resource::Memory,
        instance: String::new(),
        gauge: Gauge::new(t),
    });
    let mut filesystems: Vec<(PathBuf, Watched)> = match cfg.filesystem {
        None => Vec::new(),
        Some(t) => {
            let mounted = mount_points();
            cfg.filesystems
                .iter()
                .filter(|p| mounted.contains(p))
                .map(|p| {
                    (
                        p.clone(),
                        Watched {
                            resource: Resource::Filesystem,
                            instance: p.display().to_string(),
                            gauge: Gauge::new(t),
                        },
                    )
                })
                .collect()
        }
    };
    tracing::info!(
        cpu = ?cfg.cpu,
        memory = ?cfg.memory,
        filesystems = filesystems.len(),
        interfaces = cfg.interfaces.len(),
        "resource monitor"
    );
    let mut last_cpu: Option<(Instant, CpuSample)> = None;
    let mut tick = tokio::time::interval(cfg.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(w) = &mut cpu {
            let now = Instant::now();
            if let Some(sample) = read_cpu(cfg.cpu_cgroup.as_deref()) {
                if let Some((then, before)) = &last_cpu {
                    let busy = sample.busy_us.saturating_sub(before.busy_us) as f64;
                    let whole = match (sample.total_us, before.total_us) {
                        (Some(a), Some(b)) => a.saturating_sub(b) as f64,
                        _ => now.duration_since(*then).as_micros() as f64 * cpus as f64,
                    };
                    if whole > 0.0 {
                        w.reading(100.0 * busy / whole, &monitors);
                    }
                }
                last_cpu = Some((now, sample));
            }
        }
        if let Some(w) = &mut memory
            && let Some(p) = std::fs::read_to_string("/proc/meminfo")
                .ok()
                .as_deref()
                .and_then(parse_meminfo)
        {
            w.reading(p, &monitors);
        }
        for (path, w) in &mut filesystems {
            if let Some(p) = filesystem_usage(path) {
                w.reading(p, &monitors);
            }
        }
        for (network, iface) in &cfg.interfaces {
            let all = ports(iface);
            let (down, interface) = links(&all);
            for (port, _) in &all {
                let severity = down.iter().find(|(p, _)| p == port).map(|(_, s)| *s);
                set_link(&monitors, network, LinkLevel::Port, port, severity);
            }
            set_link(&monitors, network, LinkLevel::Interface, network, interface);
        }
    }
}

fn set_link(
    monitors: &Monitors,
    network: &str,
    level: LinkLevel,
    name: &str,
    severity: Option<Severity>,
) {
    let kind = match level {
        LinkLevel::Port => "port",
        LinkLevel::Interface => "interface",
    };
    monitors.set(
        (kind, name),
        severity.map(|severity| Condition::Link {
            network: network.to_string(),
            level,
            name: name.to_string(),
            severity,
        }),
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn proc_stat_and_meminfo_are_read() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n";
        assert_eq!(parse_proc_stat(stat), Some((1_500_000, 10_000_000)));
        assert_eq!(parse_proc_stat("intr 1 2\n"), None);
        let mem = "MemTotal:  1000 kB\nMemAvailable:  600 kB\nActive(anon):  300 kB\nInactive(anon):  100 kB\n";
        assert_eq!(parse_meminfo(mem), Some(40.0));
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn interfaces_and_mounts_are_read() {
        assert_eq!(
            parse_interface("cluster-host=eth1").unwrap(),
            ("cluster-host".into(), "eth1".into())
        );
        for bad in [
            "eth1",
            "data=eth1",
            "mgmt=",
            "mgmt=a b",
            "mgmt=averyveryverylongname",
        ] {
            assert!(parse_interface(bad).is_err(), "{bad}");
        }
        assert_eq!(unescape_mount("/mnt/a\\040b"), "/mnt/a b");
        assert_eq!(unescape_mount("/x\\"), "/x\\");
        assert!(mount_points().contains(&PathBuf::from("/")));
        assert!(filesystem_usage(Path::new("/")).is_some());
    }
}
