//! The resource monitor's rules (StarlingX's collectd thresholds and
//! lmond's link states, restated): a usage reading against a major and a
//! critical threshold, asserted after `ASSERT_AFTER` readings in a row
//! and cleared after `CLEAR_AFTER`, with a band of `HYSTERESIS` points
//! below a threshold before a reading counts as under it; and a network
//! interface's links, each port down a major port failure, the interface
//! degraded while some of its ports are down and failed when all are.
//!
//! Pure: the agent reads /proc, statvfs and /sys and asks here.

use crate::process::Severity;

/// Readings in a row at a new, higher severity before it is asserted
/// (StarlingX's `DEBOUNCE_FROM_ASSERT_THLD`).
pub const ASSERT_AFTER: u32 = 3;

/// Readings in a row under the thresholds before an assertion clears
/// (StarlingX's `DEBOUNCE_FROM_CLEAR_THLD`: 3 minutes at 30 s).
pub const CLEAR_AFTER: u32 = 7;

/// Percentage points under a threshold a reading must be to count as
/// under it once that threshold is asserted.
pub const HYSTERESIS: f64 = 2.0;

/// A usage's major and critical thresholds, in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Threshold {
    pub major: f64,
    pub critical: f64,
}

impl Threshold {
    /// `MAJOR:CRITICAL` (percentages, e.g. `80:90`), or `off`.
    pub fn parse(s: &str) -> Result<Option<Threshold>, String> {
        let s = s.trim();
        if s == "off" {
            return Ok(None);
        }
        let bad = || format!("{s:?}: MAJOR:CRITICAL percentages (e.g. 80:90), or off");
        let (a, b) = s.split_once(':').ok_or_else(bad)?;
        let major: f64 = a.trim().parse().map_err(|_| bad())?;
        let critical: f64 = b.trim().parse().map_err(|_| bad())?;
        if !(major > 0.0 && major <= critical && critical <= 100.0) {
            return Err(format!("{s:?}: 0 < MAJOR <= CRITICAL <= 100 (percentages)"));
        }
        Ok(Some(Threshold { major, critical }))
    }

    fn of(&self, s: Severity) -> f64 {
        match s {
            Severity::Critical => self.critical,
            _ => self.major,
        }
    }
}

/// An assertion's change: the new severity (`None`: cleared), the
/// threshold crossed and the reading, in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crossing {
    pub severity: Option<Severity>,
    pub threshold: f64,
    pub actual: f64,
}

/// One usage against its thresholds.
#[derive(Clone, Debug)]
pub struct Gauge {
    threshold: Threshold,
    asserted: Option<Severity>,
    pending: Option<Option<Severity>>,
    count: u32,
}

impl Gauge {
    pub fn new(threshold: Threshold) -> Gauge {
        Gauge {
            threshold,
            asserted: None,
            pending: None,
            count: 0,
        }
    }

    /// The severity asserted now.
    pub fn asserted(&self) -> Option<Severity> {
        self.asserted
    }

    /// Where a reading of `p` percent stands, given what is asserted.
    fn level(&self, p: f64) -> Option<Severity> {
        let t = &self.threshold;
        let holds =
            |s: Severity| p >= t.of(s) || (self.asserted >= Some(s) && p >= t.of(s) - HYSTERESIS);
        if holds(Severity::Critical) {
            Some(Severity::Critical)
        } else if holds(Severity::Major) {
            Some(Severity::Major)
        } else {
            None
        }
    }

    /// A reading of `p` percent: the change to assert, if this reading
    /// completes one.
    pub fn reading(&mut self, p: f64) -> Option<Crossing> {
        let level = self.level(p);
        if level == self.asserted {
            self.pending = None;
            self.count = 0;
            return None;
        }
        if self.pending == Some(level) {
            self.count += 1;
        } else {
            self.pending = Some(level);
            self.count = 1;
        }
        let needed = if level.is_none() {
            CLEAR_AFTER
        } else {
            ASSERT_AFTER
        };
        if self.count < needed {
            return None;
        }
        let crossed = level
            .or(self.asserted)
            .map_or(0.0, |s| self.threshold.of(s));
        self.asserted = level;
        self.pending = None;
        self.count = 0;
        Some(Crossing {
            severity: level,
            threshold: crossed,
            actual: p,
        })
    }
}

/// The severities of an interface's links: each port down is a major port
/// failure; the interface is degraded (major) while some ports are down,
/// failed (critical) when all are.
pub fn links(ports: &[(String, bool)]) -> (Vec<(String, Severity)>, Option<Severity>) {
    let down: Vec<(String, Severity)> = ports
        .iter()
        .filter(|(_, up)| !up)
        .map(|(p, _)| (p.clone(), Severity::Major))
        .collect();
    let interface = if ports.is_empty() || down.len() == ports.len() {
        Some(Severity::Critical)
    } else if !down.is_empty() {
        Some(Severity::Major)
    } else {
        None
    };
    (down, interface)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(major: f64, critical: f64) -> Threshold {
        Threshold { major, critical }
    }

    #[test]
    fn thresholds_parse_or_say_why() {
        assert_eq!(Threshold::parse("80:90").unwrap(), Some(t(80.0, 90.0)));
        assert_eq!(Threshold::parse(" off ").unwrap(), None);
        for bad in ["90", "95:90", "0:50", "80:101", "a:b", ""] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_crossing_is_asserted_after_three_readings_and_cleared_after_seven() {
        let mut g = Gauge::new(t(80.0, 90.0));
        assert_eq!(g.reading(85.0), None);
        assert_eq!(g.reading(85.0), None);
        assert_eq!(
            g.reading(86.0),
            Some(Crossing {
                severity: Some(Severity::Major),
                threshold: 80.0,
                actual: 86.0
            })
        );
        // A dip does not start the count again for long.
        for _ in 0..6 {
            assert_eq!(g.reading(50.0), None);
        }
        assert_eq!(g.reading(85.0), None, "back over: the clear count restarts");
        for _ in 0..6 {
            assert_eq!(g.reading(50.0), None);
        }
        let c = g.reading(50.0).unwrap();
        assert_eq!(c.severity, None);
        assert_eq!(c.threshold, 80.0);
        assert_eq!(g.asserted(), None);
    }

    #[test]
    fn readings_within_the_band_hold_an_assertion() {
        let mut g = Gauge::new(t(80.0, 90.0));
        for _ in 0..3 {
            g.reading(81.0);
        }
        assert_eq!(g.asserted(), Some(Severity::Major));
        // 78.5 is under 80 but within 2 points: still major.
        for _ in 0..10 {
            assert_eq!(g.reading(78.5), None);
        }
        // Critical, then within its band: stays critical.
        for _ in 0..3 {
            g.reading(95.0);
        }
        assert_eq!(g.asserted(), Some(Severity::Critical));
        for _ in 0..10 {
            assert_eq!(g.reading(88.5), None);
        }
        // Down to major: three readings.
        g.reading(85.0);
        g.reading(85.0);
        let c = g.reading(85.0).unwrap();
        assert_eq!(c.severity, Some(Severity::Major));
    }

    #[test]
    fn links_down_fail_ports_then_the_interface() {
        let ports = |s: &[(&str, bool)]| -> Vec<(String, bool)> {
            s.iter().map(|(n, u)| (n.to_string(), *u)).collect()
        };
        assert_eq!(links(&ports(&[("eth0", true)])), (vec![], None));
        assert_eq!(
            links(&ports(&[("eth0", false)])),
            (
                vec![("eth0".into(), Severity::Major)],
                Some(Severity::Critical)
            )
        );
        assert_eq!(
            links(&ports(&[("ens7", true), ("ens8", false)])),
            (
                vec![("ens8".into(), Severity::Major)],
                Some(Severity::Major)
            )
        );
        assert_eq!(links(&[]).1, Some(Severity::Critical));
    }
}
