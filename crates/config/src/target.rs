//! Each host's target and applied configuration (sysinv's `config_target`
//! and `config_applied`, §5.3): every change mints a new target uuid for
//! the hosts it concerns, bit 127 set when the change needs the host locked
//! and unlocked; the host's agent reports the uuid it applied; a host whose
//! applied uuid is not its target is out of date (250.001).

use starling_common::Timestamp;

/// `config_applied` before the host's agent reported anything: what
/// StarlingX's agent reports from a fresh install.
pub const INSTALL: &str = "install";

/// `config_status` while a host is out of date.
pub const OUT_OF_DATE: &str = "Config out-of-date";

/// A configuration uuid: 128 bits whose top bit (sysinv's
/// `CONFIG_REBOOT_REQUIRED`, `1 << 127`) says the configuration needs a
/// lock and unlock of the host to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigUuid(u128);

impl ConfigUuid {
    const REBOOT: u128 = 1 << 127;

    /// A fresh uuid, with the reboot flag when `reboot`.
    pub fn mint(reboot: bool) -> ConfigUuid {
        let fresh = ConfigUuid::parse(&starling_common::new_uuid())
            .unwrap_or(ConfigUuid(0x5a5a_5a5a_5a5a_4a5a_9a5a_5a5a_5a5a_5a5a));
        fresh.with_reboot(reboot)
    }

    /// Reads a hyphenated uuid.
    pub fn parse(s: &str) -> Option<ConfigUuid> {
        if !starling_common::is_uuid(s) {
            return None;
        }
        let hex: String = s.chars().filter(|c| *c != '-').collect();
        u128::from_str_radix(&hex, 16).ok().map(ConfigUuid)
    }

    /// Whether the configuration needs a lock and unlock to apply.
    pub fn reboot(self) -> bool {
        self.0 & Self::REBOOT != 0
    }

    /// The same uuid with the reboot flag set or cleared.
    pub fn with_reboot(self, reboot: bool) -> ConfigUuid {
        if reboot {
            ConfigUuid(self.0 | Self::REBOOT)
        } else {
            ConfigUuid(self.0 & !Self::REBOOT)
        }
    }
}

impl std::fmt::Display for ConfigUuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// One step of an apply as the agent reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepResult {
    /// The step (`dns`, `ntp`, `hosts`, …).
    pub step: String,
    /// True when it applied (or was already so).
    pub ok: bool,
    /// Why it failed, one line.
    pub message: Option<String>,
}

/// A host as configuration tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostConfig {
    /// The host's uuid (inventory's).
    pub host_uuid: String,
    /// Its name when configuration last saw it (alarms are raised under it).
    pub hostname: String,
    /// The configuration it should run.
    pub target: ConfigUuid,
    /// What its agent reported applying: a configuration uuid, [`INSTALL`],
    /// or nothing yet.
    pub applied: Option<String>,
    /// The last apply's failed step, one line (`ntp: …`), until an apply
    /// succeeds.
    pub failure: Option<String>,
    /// When the target last changed.
    pub changed_at: Timestamp,
}

impl HostConfig {
    /// A host configuration starts tracking: a first target, nothing
    /// applied.
    pub fn new(host_uuid: &str, hostname: &str, now: Timestamp) -> HostConfig {
        HostConfig {
            host_uuid: host_uuid.to_string(),
            hostname: hostname.to_string(),
            target: ConfigUuid::mint(false),
            applied: None,
            failure: None,
            changed_at: now,
        }
    }

    /// True while what it applied is not its target (the reboot flag
    /// included: the runtime part of a reboot-required target applied is
    /// still out of date until the lock and unlock).
    pub fn out_of_date(&self) -> bool {
        self.applied.as_deref() != Some(self.target.to_string().as_str())
    }

    /// `config_status` as host-show gives it.
    pub fn status(&self) -> Option<&'static str> {
        self.out_of_date().then_some(OUT_OF_DATE)
    }

    /// A change concerning this host: a new target; a reboot-required one
    /// when `reboot`, or when the target it replaces was reboot-required
    /// and not yet applied (the lock and unlock is still owed).
    pub fn retarget(&mut self, reboot: bool, now: Timestamp) {
        let owed = self.target.reboot() && self.out_of_date();
        self.target = ConfigUuid::mint(reboot || owed);
        self.changed_at = now;
    }

    /// Whether an agent that applied `uuid` has applied the current target:
    /// fully, or its runtime part only (the same uuid without the reboot
    /// flag, applied while the host could not take the rest).
    pub fn recognizes(&self, uuid: &ConfigUuid) -> bool {
        *uuid == self.target || *uuid == self.target.with_reboot(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reboot_flag_is_bit_127_and_survives_text() {
        let u = ConfigUuid::parse("0f0e0d0c-0b0a-4908-8706-050403020100").unwrap();
        assert!(!u.reboot());
        let r = u.with_reboot(true);
        assert!(r.reboot());
        assert_eq!(r.to_string(), "8f0e0d0c-0b0a-4908-8706-050403020100");
        assert_eq!(ConfigUuid::parse(&r.to_string()), Some(r));
        assert_eq!(r.with_reboot(false), u);
        assert!(ConfigUuid::mint(true).reboot());
        assert!(!ConfigUuid::mint(false).reboot());
        assert_ne!(ConfigUuid::mint(false), ConfigUuid::mint(false));
        assert_eq!(ConfigUuid::parse("install"), None);
    }

    #[test]
    fn a_host_is_current_only_when_it_applied_its_target() {
        let now = Timestamp::from_micros(1);
        let mut h = HostConfig::new("u", "controller-0", now);
        assert!(h.out_of_date());
        assert_eq!(h.status(), Some(OUT_OF_DATE));
        h.applied = Some(INSTALL.into());
        assert!(h.out_of_date());
        h.applied = Some(h.target.to_string());
        assert!(!h.out_of_date());
        assert_eq!(h.status(), None);
        // A reboot-required change: its runtime part applied is not enough.
        h.retarget(true, now);
        assert!(h.target.reboot());
        h.applied = Some(h.target.with_reboot(false).to_string());
        assert!(h.out_of_date());
        assert!(h.recognizes(&h.target.with_reboot(false)));
        // A runtime change after it still owes the lock and unlock.
        h.retarget(false, now);
        assert!(h.target.reboot());
        h.applied = Some(h.target.to_string());
        assert!(!h.out_of_date());
        // Once applied, the next runtime change is runtime.
        h.retarget(false, now);
        assert!(!h.target.reboot());
    }
}
