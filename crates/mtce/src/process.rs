//! The process monitor's rules (StarlingX's pmond, restated): what a
//! monitored process is (one `/etc/pmon.d/*.conf` file, StarlingX's
//! format), and what its deaths lead to — restarts, a log on the first
//! failure of a cycle, the failure asserted at the process's severity when
//! the restarts are used up, and the assertion cleared once a restarted
//! process has stayed up for its debounce time.
//!
//! Pure: the agent's supervisor (`starling-agent`'s `pmon`) watches the
//! processes, keeps the time and runs the restarts; it asks [`Restarts`]
//! what to do.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How much a process's failure matters once its restarts are used up:
/// minor raises the alarm only, major degrades the host, critical fails it
/// (and maintenance reboots it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "minor" => Some(Severity::Minor),
            "major" => Some(Severity::Major),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// How a process is watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Its death is detected (pmond's default).
    Passive,
    /// Not monitored.
    Ignore,
}

/// One monitored process, as a pmon.d file describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessConf {
    /// Its name: the alarm's `process=` entity.
    pub process: String,
    /// The systemd unit that restarts it (`systemctl restart`), where
    /// systemd runs.
    pub service: Option<String>,
    /// The init script that starts it (`SCRIPT start`) otherwise.
    pub script: Option<String>,
    /// Where its pid is written.
    pub pidfile: String,
    pub severity: Severity,
    /// Restarts tried before the failure is asserted (0: none, the failure
    /// is asserted at once and the process left for the operator).
    pub restarts: u32,
    /// Time between restart attempts.
    pub interval: Duration,
    /// How long a restarted process must stay up for the count and the
    /// failure to clear.
    pub debounce: Duration,
    /// Time a (re)started process is given before it is looked for.
    pub startuptime: Duration,
    pub mode: Mode,
    /// Part of the host watchdog's quorum: its failure, unrecovered, stops
    /// the watchdog's notifications.
    pub quorum: bool,
}

/// StarlingX's keys of a `[process]` section that Starling reads, and
/// those it accepts without acting on (`style`: the script is run the
/// same way; `subfunction`, `full_init_reqd`: monitoring starts with the
/// agent).
const KEYS: &[&str] = &[
    "process",
    "service",
    "script",
    "pidfile",
    "severity",
    "restarts",
    "interval",
    "debounce",
    "startuptime",
    "mode",
    "quorum",
    "style",
    "subfunction",
    "full_init_reqd",
];

impl ProcessConf {
    /// Reads one pmon.d file's text. Comments start with `;` or `#`
    /// (also after a value); keys are StarlingX's.
    pub fn parse(text: &str) -> Result<ProcessConf, String> {
        let mut section: Option<String> = None;
        let mut seen = false;
        let mut kv: Vec<(String, String)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split([';', '#']).next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let name = name.trim().to_string();
                seen |= name == "process";
                section = Some(name);
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("line {}: expected key = value", n + 1));
            };
            let (k, v) = (k.trim(), v.trim());
            if section.as_deref() != Some("process") {
                continue;
            }
            if !KEYS.contains(&k) {
                return Err(format!("line {}: unknown key {k:?}", n + 1));
            }
            if kv.iter().any(|(have, _)| have == k) {
                return Err(format!("line {}: {k} given twice", n + 1));
            }
            kv.push((k.to_string(), v.to_string()));
        }
        if !seen {
            return Err("no [process] section".into());
        }
        let get = |k: &str| {
            kv.iter()
                .find(|(have, _)| have == k)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let number = |k: &str, default: u32| -> Result<u32, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u32>()
                    .map_err(|_| format!("{k} = {v:?}: expected a whole number")),
            }
        };
        let seconds = |k: &str, default: u32| -> Result<Duration, String> {
            Ok(Duration::from_secs(u64::from(number(k, default)?)))
        };
        let process = get("process").ok_or("process = NAME is required")?;
        if !process
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
        {
            return Err(format!(
                "process = {process:?}: letters, digits and - _ . @ : only"
            ));
        }
        let pidfile = get("pidfile").ok_or("pidfile = PATH is required")?;
        if !pidfile.starts_with('/') {
            return Err(format!("pidfile = {pidfile:?}: an absolute path"));
        }
        let severity = match get("severity") {
            None => Severity::Minor,
            Some(s) => Severity::parse(s)
                .ok_or_else(|| format!("severity = {s:?}: minor, major or critical"))?,
        };
        let mode = match get("mode").unwrap_or("passive") {
            "passive" => Mode::Passive,
            "ignore" => Mode::Ignore,
            m @ ("active" | "status") => {
                return Err(format!(
                    "mode = {m}: not supported (passive or ignore; Starling watches a process's death)"
                ));
            }
            m => return Err(format!("mode = {m:?}: passive or ignore")),
        };
        let service = get("service").map(str::to_string);
        let script = get("script").map(str::to_string);
        if mode == Mode::Passive && service.is_none() && script.is_none() {
            return Err("service = UNIT or script = PATH is required to restart it".into());
        }
        let quorum = match get("quorum") {
            None | Some("0") => false,
            Some("1") => true,
            Some(v) => return Err(format!("quorum = {v:?}: 0 or 1")),
        };
        Ok(ProcessConf {
            process: process.to_string(),
            service,
            script,
            pidfile: pidfile.to_string(),
            severity,
            restarts: number("restarts", 3)?,
            interval: seconds("interval", 5)?,
            debounce: seconds("debounce", 20)?,
            startuptime: seconds("startuptime", 5)?,
            mode,
            quorum,
        })
    }
}

/// What a process's death leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Log the failure (200.006, the first of a restart cycle).
    pub log: bool,
    /// Assert the failure at the process's severity (raise 200.006; a
    /// major degrades the host, a critical fails it).
    pub assert: bool,
    /// Restart it (after `interval` when it died again before its
    /// debounce); otherwise leave it for the operator, watching for it to
    /// come back.
    pub restart: bool,
}

/// One process's restart count and assertion (pmond's MANAGE stage).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Restarts {
    count: u32,
    asserted: bool,
}

impl Restarts {
    /// The process died (or was found not running). `restarts` is the
    /// configured number of attempts. With some: the first death of a
    /// cycle is logged and the process restarted; each further death
    /// restarts it again until `restarts` restarts have not held, then the
    /// failure is asserted and a new cycle of restarts begins (a critical
    /// process's host is rebooted meanwhile). With none: the failure is
    /// logged and asserted at once, and the process is not restarted.
    pub fn died(&mut self, restarts: u32) -> Verdict {
        let mut v = Verdict {
            log: false,
            assert: false,
            restart: true,
        };
        if restarts == 0 {
            v.log = !self.asserted;
            v.assert = !self.asserted;
            v.restart = false;
            self.asserted = true;
            return v;
        }
        if self.count >= restarts {
            v.assert = !self.asserted;
            self.asserted = true;
            self.count = 0;
        } else if self.count == 0 && !self.asserted {
            v.log = true;
        }
        self.count += 1;
        v
    }

    /// The process has stayed up for its debounce time (or came back by
    /// other means): the count starts again; `true` when the asserted
    /// failure is to be cleared.
    pub fn recovered(&mut self) -> bool {
        self.count = 0;
        std::mem::take(&mut self.asserted)
    }

    /// Restarts tried in the current cycle.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The failure is asserted.
    pub fn asserted(&self) -> bool {
        self.asserted
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SSHD: &str = "\
[process]
process  = sshd
service  = sshd
pidfile  = /var/run/sshd.pid
style    = lsb            ; ocf or lsb
severity = major          ; minor, major, critical
restarts = 10             ; restart retries before error assertion
interval = 5              ; seconds
debounce = 20             ; number of seconds that a process needs to remain
                          ;   running before degrade is removed
startuptime  = 5
mode  = passive           ; Monitoring mode
";

    #[test]
    fn reads_starlingx_files() {
        let c = ProcessConf::parse(SSHD).unwrap();
        assert_eq!(c.process, "sshd");
        assert_eq!(c.service.as_deref(), Some("sshd"));
        assert_eq!(c.pidfile, "/var/run/sshd.pid");
        assert_eq!(c.severity, Severity::Major);
        assert_eq!(c.restarts, 10);
        assert_eq!(c.interval, Duration::from_secs(5));
        assert_eq!(c.debounce, Duration::from_secs(20));
        assert_eq!(c.startuptime, Duration::from_secs(5));
        assert_eq!(c.mode, Mode::Passive);
        assert!(!c.quorum);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let cases = [
            ("", "no [process] section"),
            ("[process]\nprocess=x\n", "pidfile"),
            (
                "[process]\npidfile=/run/x.pid\nservice=x\n",
                "process = NAME",
            ),
            (
                "[process]\nprocess=x\npidfile=run/x\nservice=x\n",
                "absolute",
            ),
            (
                "[process]\nprocess=x\npidfile=/x\nservice=x\nseverity=huge\n",
                "minor, major or critical",
            ),
            (
                "[process]\nprocess=x\npidfile=/x\nservice=x\nrestarts=-1\n",
                "whole number",
            ),
            (
                "[process]\nprocess=x\npidfile=/x\nservice=x\nmode=active\n",
                "not supported",
            ),
            ("[process]\nprocess=x\npidfile=/x\n", "required to restart"),
            (
                "[process]\nprocess=x\npidfile=/x\nservice=x\ncolour=blue\n",
                "unknown key",
            ),
            (
                "[process]\nprocess=x\nprocess=y\npidfile=/x\nservice=x\n",
                "twice",
            ),
            ("[process]\nprocess x\n", "key = value"),
            (
                "[process]\nprocess=a b\npidfile=/x\nservice=x\n",
                "letters, digits",
            ),
        ];
        for (text, want) in cases {
            let e = ProcessConf::parse(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn restarts_are_counted_then_the_failure_asserted_and_cleared() {
        let mut r = Restarts::default();
        // First death: logged, restarted.
        assert_eq!(
            r.died(3),
            Verdict {
                log: true,
                assert: false,
                restart: true
            }
        );
        // Two more restarts that do not hold: restarted, nothing else.
        for _ in 0..2 {
            let v = r.died(3);
            assert!(v.restart && !v.log && !v.assert);
        }
        assert_eq!(r.count(), 3);
        // The fourth death: 3 restarts did not hold; asserted, and a new
        // cycle of restarts.
        let v = r.died(3);
        assert!(v.assert && v.restart && !v.log);
        assert!(r.asserted());
        assert_eq!(r.count(), 1);
        // Further cycles do not assert again.
        for _ in 0..5 {
            assert!(!r.died(3).assert);
        }
        // It held: cleared once, the count starts again.
        assert!(r.recovered());
        assert!(!r.recovered());
        assert_eq!(r.count(), 0);
        assert!(r.died(3).log);
    }

    #[test]
    fn no_restarts_asserts_at_once_and_waits_for_the_operator() {
        let mut r = Restarts::default();
        assert_eq!(
            r.died(0),
            Verdict {
                log: true,
                assert: true,
                restart: false
            }
        );
        assert_eq!(
            r.died(0),
            Verdict {
                log: false,
                assert: false,
                restart: false
            }
        );
        assert!(r.recovered());
    }
}
