//! The system and host records, and the state vocabularies of StarlingX.

use starling_common::Timestamp;

use crate::Error;

/// Declares a closed vocabulary with its StarlingX spellings.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $v),+
        }

        impl $name {
            /// Every value, in StarlingX's order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s),+
                }
            }

            /// Parses the wire spelling; anything else is a 400 naming the choices.
            pub fn parse(s: &str) -> Result<Self, Error> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(Error::invalid(format!(
                        "Invalid {} '{}': expected one of {}",
                        $what,
                        s,
                        [$($s),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// What a host is for.
    Personality, "personality" {
        /// Runs the control plane.
        Controller = "controller",
        /// Runs workloads.
        Worker = "worker",
        /// Runs storage.
        Storage = "storage",
        /// A worker outside the platform's management.
        Edgeworker = "edgeworker",
    }
);

vocabulary!(
    /// Administrative state: what the operator asked for.
    Administrative, "administrative state" {
        /// Out of service.
        Locked = "locked",
        /// In service.
        Unlocked = "unlocked",
    }
);

vocabulary!(
    /// Operational state: whether the host's services run.
    Operational, "operational state" {
        /// Running.
        Enabled = "enabled",
        /// Not running.
        Disabled = "disabled",
    }
);

vocabulary!(
    /// Availability: what maintenance observes.
    Availability, "availability" {
        /// In service and healthy.
        Available = "available",
        /// Being tested while enabling.
        Intest = "intest",
        /// In service with a fault.
        Degraded = "degraded",
        /// Out of service by failure.
        Failed = "failed",
        /// Powered off through its BMC.
        PowerOff = "power-off",
        /// Not reachable.
        Offline = "offline",
        /// Maintenance-only.
        Offduty = "offduty",
        /// Reachable but not in service.
        Online = "online",
        /// Waiting on another host.
        Dependency = "dependency",
        /// Never installed.
        NotInstalled = "not-installed",
    }
);

vocabulary!(
    /// How far inventory and configuration of a host have come.
    InvProvision, "invprovision" {
        /// Known, not provisioned.
        Unprovisioned = "unprovisioned",
        /// Its hardware has been reported.
        Inventoried = "inventoried",
        /// Configured.
        Configured = "configured",
        /// First unlock in progress.
        Provisioning = "provisioning",
        /// In service at least once.
        Provisioned = "provisioned",
        /// Being upgraded.
        Upgrading = "upgrading",
    }
);

vocabulary!(
    /// The actions a host PATCH of `/action` may request.
    Action, "action" {
        /// Nothing.
        None = "none",
        /// Take out of service.
        Lock = "lock",
        /// Take out of service, skipping most guards.
        ForceLock = "force-lock",
        /// Force-lock skipping the storage quorum guards too.
        ForceUnsafeLock = "force-unsafe-lock",
        /// Put in service.
        Unlock = "unlock",
        /// Put in service, skipping the availability guard.
        ForceUnlock = "force-unlock",
        /// Reset through the BMC.
        Reset = "reset",
        /// Reboot.
        Reboot = "reboot",
        /// Reinstall.
        Reinstall = "reinstall",
        /// Power on through the BMC.
        PowerOn = "power-on",
        /// Power off through the BMC.
        PowerOff = "power-off",
        /// Move active controller services to the other controller.
        Swact = "swact",
        /// Swact skipping the peer's health guards.
        ForceSwact = "force-swact",
    }
);

vocabulary!(
    /// How many controllers the system has and how they connect.
    SystemMode, "system mode" {
        /// One controller.
        Simplex = "simplex",
        /// Two controllers through a switch.
        Duplex = "duplex",
        /// Two controllers cabled directly.
        DuplexDirect = "duplex-direct",
    }
);

vocabulary!(
    /// Whether controllers also run workloads.
    SystemType, "system type" {
        /// Controllers are also workers.
        AllInOne = "All-in-one",
        /// Separate workers.
        Standard = "Standard",
    }
);

vocabulary!(
    /// Board management controller protocol.
    BmType, "bm_type" {
        /// No BMC.
        None = "none",
        /// Detected at first contact.
        Dynamic = "dynamic",
        /// IPMI.
        Ipmi = "ipmi",
        /// Redfish.
        Redfish = "redfish",
    }
);

/// The one system record (`isystems`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct System {
    /// Public id.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// All-in-one or Standard.
    pub system_type: SystemType,
    /// Simplex, duplex or duplex-direct.
    pub system_mode: SystemMode,
    /// Free text.
    pub description: String,
    /// Contact.
    pub contact: String,
    /// Location.
    pub location: String,
    /// Time zone.
    pub timezone: String,
    /// Platform software version.
    pub software_version: String,
    /// Region.
    pub region_name: String,
    /// Hostname of the controller running the active control plane.
    pub active_controller: Option<String>,
    /// When created.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Option<Timestamp>,
}

/// A host (`ihosts`). Hardware lives in its own records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// Internal integer id (StarlingX clients address hosts by it).
    pub id: i64,
    /// Public id.
    pub uuid: String,
    /// Host name; `None` for a discovered host not yet provisioned.
    pub hostname: Option<String>,
    /// Personality; `None` until provisioned.
    pub personality: Option<Personality>,
    /// Comma list starting with the personality (`controller,worker` on AIO).
    pub subfunctions: String,
    /// Management MAC, lower-case with colons.
    pub mgmt_mac: String,
    /// Management address.
    pub mgmt_ip: Option<String>,
    /// Serial id.
    pub serialid: String,
    /// Location text (`{"locn": …}` on the wire).
    pub location: String,
    /// BMC address.
    pub bm_ip: Option<String>,
    /// BMC protocol.
    pub bm_type: BmType,
    /// BMC user.
    pub bm_username: Option<String>,
    /// Install boot device.
    pub boot_device: String,
    /// Install root device.
    pub rootfs_device: String,
    /// Console.
    pub console: String,
    /// `text` or `graphical`.
    pub install_output: String,
    /// Administrative state.
    pub administrative: Administrative,
    /// Operational state.
    pub operational: Operational,
    /// Availability.
    pub availability: Availability,
    /// Provisioning progress.
    pub invprovision: InvProvision,
    /// `inventoried` once the first full report arrived.
    pub inv_state: String,
    /// Progress text of the action in flight (`Locking`, `Rebooting`, …).
    pub task: String,
    /// The action in flight, or `none`.
    pub ihost_action: String,
    /// Seconds since boot, as the agent last reported.
    pub uptime: i64,
    /// Software version the host runs.
    pub software_load: String,
    /// Configuration's target for it (config_target), as configuration
    /// last marked it.
    pub config_target: Option<String>,
    /// What its agent applied (config_applied).
    pub config_applied: Option<String>,
    /// `Config out-of-date` while it has not applied its target.
    pub config_status: Option<String>,
    /// The last apply's failed step, until an apply succeeds.
    pub config_failure: Option<String>,
    /// When created.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Option<Timestamp>,
}

impl Host {
    /// The name to show in messages and logs: the hostname, or for a host
    /// that registered without one, "unprovisioned host <mgmt_mac>" (each
    /// such host told apart, where StarlingX writes "None" for all of them).
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        match &self.hostname {
            Some(h) => std::borrow::Cow::Borrowed(h),
            None => std::borrow::Cow::Owned(format!("unprovisioned host {}", self.mgmt_mac)),
        }
    }

    /// FM entity instance of this host: `host=<hostname>`, or
    /// `host=<mgmt_mac>` before it has one, so that clearing one
    /// unprovisioned host's alarms never touches another's.
    pub fn entity(&self) -> String {
        format!(
            "host={}",
            self.hostname.as_deref().unwrap_or(&self.mgmt_mac)
        )
    }

    /// True while the configuration's target for this host needs a lock
    /// and unlock (bit 127 of `config_target`, sysinv's reboot flag) and
    /// the host has not applied it.
    pub fn config_owed(&self) -> bool {
        let Some(t) = &self.config_target else {
            return false;
        };
        let reboot = t
            .chars()
            .next()
            .and_then(|c| c.to_digit(16))
            .is_some_and(|d| d >= 8);
        reboot && self.config_applied.as_deref() != Some(t.as_str())
    }

    /// True when hostname, personality and subfunctions are set.
    pub fn is_provisioned_record(&self) -> bool {
        self.hostname.is_some() && self.personality.is_some() && !self.subfunctions.is_empty()
    }

    /// A new, locked/disabled/offline host as host-add makes it.
    pub fn new(id: i64, uuid: String, mgmt_mac: String, now: Timestamp) -> Host {
        Host {
            id,
            uuid,
            hostname: None,
            personality: None,
            subfunctions: String::new(),
            mgmt_mac,
            mgmt_ip: None,
            serialid: String::new(),
            location: String::new(),
            bm_ip: None,
            bm_type: BmType::None,
            bm_username: None,
            boot_device: "/dev/sda".into(),
            rootfs_device: "/dev/sda".into(),
            console: "ttyS0,115200".into(),
            install_output: "text".into(),
            administrative: Administrative::Locked,
            operational: Operational::Disabled,
            availability: Availability::Offline,
            invprovision: InvProvision::Unprovisioned,
            inv_state: String::new(),
            task: String::new(),
            ihost_action: String::new(),
            uptime: 0,
            software_load: String::new(),
            config_target: None,
            config_applied: None,
            config_status: None,
            config_failure: None,
            created_at: now,
            updated_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn vocabularies_round_trip_and_refuse_strangers() {
        for a in Availability::ALL {
            assert_eq!(Availability::parse(a.as_str()).unwrap(), *a);
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()).unwrap(), *a);
        }
        assert_eq!(Availability::PowerOff.as_str(), "power-off");
        assert_eq!(SystemType::AllInOne.as_str(), "All-in-one");
        let e = Personality::parse("router").unwrap_err().to_string();
        assert!(
            e.contains("Invalid personality 'router'") && e.contains("edgeworker"),
            "{e}"
        );
        assert!(Action::parse("Lock").is_err(), "exact spelling only");
    }

    #[test]
    fn unprovisioned_hosts_are_told_apart_by_their_mac() {
        let a = Host::new(
            1,
            "u1".into(),
            "02:00:00:00:00:01".into(),
            Timestamp::from_micros(0),
        );
        let b = Host::new(
            2,
            "u2".into(),
            "02:00:00:00:00:02".into(),
            Timestamp::from_micros(0),
        );
        assert_eq!(a.entity(), "host=02:00:00:00:00:01");
        assert_ne!(a.entity(), b.entity());
        assert_eq!(a.display_name(), "unprovisioned host 02:00:00:00:00:01");
        let mut named = a.clone();
        named.hostname = Some("worker-0".into());
        assert_eq!(named.entity(), "host=worker-0");
        assert_eq!(named.display_name(), "worker-0");
    }
}
