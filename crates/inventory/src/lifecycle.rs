//! Host actions with StarlingX's semantic checks (sysinv §2.4) for what
//! Starling has so far, and their whole effect as one value.
//!
//! Lock completes at once (locked-disabled-online); unlock too
//! (unlocked-enabled-available) unless host maintenance runs, which then
//! tests and enables the host (unlocked-disabled-intest first);
//! reboot, reset, reinstall and power actions are handed to the host's agent
//! and tracked in `task` until the agent reports back ([`complete`]).

use crate::Error;
use crate::model::*;

pub use crate::alarms::{COMMAND_LOG, HOST_LOCKED, STATE_LOG};
use starling_common::alarm::AlarmDef;

/// The task of an unlocked host applying the configuration its unlock was
/// owed (a reboot-required target): it is enabled once its agent applied
/// it, locked again if the apply failed.
pub const CONFIGURING: &str = "Configuring";

/// An entry for the event log: which customer log and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEvent {
    /// [`COMMAND_LOG`] or [`STATE_LOG`].
    pub log: &'static AlarmDef,
    /// Reason text.
    pub text: String,
}

impl HostEvent {
    fn command(text: String) -> Option<Self> {
        Some(HostEvent {
            log: &COMMAND_LOG,
            text,
        })
    }
    fn state(text: String) -> Option<Self> {
        Some(HostEvent {
            log: &STATE_LOG,
            text,
        })
    }
}

/// What the rest of the cluster looks like when an action is decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterView {
    /// The system's mode.
    pub system_mode: SystemMode,
    /// Hostname of the active controller, if known.
    pub active_controller: Option<String>,
    /// The other hosts (not the one acted on).
    pub peers: Vec<Host>,
    /// Host maintenance runs: an unlocked host is tested (intest) and
    /// enabled by it, rather than enabled at once.
    pub maintained: bool,
}

/// A change of the locked-host alarm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlarmChange {
    /// Raise 200.001 for the host.
    RaiseLocked,
    /// Clear 200.001 for the host.
    ClearLocked,
}

/// What the host's agent is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentCommand {
    /// Reboot the host.
    Reboot,
    /// Reset through the BMC (or the agent's reset command).
    Reset,
    /// Reinstall.
    Reinstall,
    /// Power on.
    PowerOn,
    /// Power off.
    PowerOff,
}

impl AgentCommand {
    /// The command's wire name (as the action's).
    pub fn as_str(self) -> &'static str {
        match self {
            AgentCommand::Reboot => "reboot",
            AgentCommand::Reset => "reset",
            AgentCommand::Reinstall => "reinstall",
            AgentCommand::PowerOn => "power-on",
            AgentCommand::PowerOff => "power-off",
        }
    }

    /// Whether this command for `host` goes to its board management
    /// controller rather than its agent: reset and power go through the
    /// BMC when one is provisioned (`has_password`: its password is set)
    /// and host maintenance runs (`maintained`), as StarlingX's do.
    pub fn by_bmc(self, host: &Host, has_password: bool, maintained: bool) -> bool {
        matches!(
            self,
            AgentCommand::Reset | AgentCommand::PowerOn | AgentCommand::PowerOff
        ) && maintained
            && has_password
            && host.bm_type != BmType::None
            && host.bm_ip.is_some()
            && host.bm_username.is_some()
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<AgentCommand> {
        [
            AgentCommand::Reboot,
            AgentCommand::Reset,
            AgentCommand::Reinstall,
            AgentCommand::PowerOn,
            AgentCommand::PowerOff,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Where a command for a host's agent goes once the decision that issued it
/// has committed. The command itself is durable (the host's `action` and
/// `task` hold it until the agent reports); a sink only tells whoever
/// delivers it that there is one. In `starlingd` it is the inventory API's
/// bell, which wakes the agents' long polls; another delivery (a BMC, a
/// push to the agent) is another implementation.
pub trait CommandSink: Send + Sync + 'static {
    /// `command` is pending for `host`.
    fn issued(&self, host: &Host, command: AgentCommand);
}

/// The whole effect of an accepted action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The host as it becomes.
    pub host: Host,
    /// The alarm to raise or clear, in the same transaction.
    pub alarm: Option<AlarmChange>,
    /// The entry for the event log.
    pub event: Option<HostEvent>,
    /// The command for the host's agent.
    pub command: Option<AgentCommand>,
    /// The new active controller, after a swact.
    pub new_active: Option<String>,
}

impl Transition {
    fn of(host: Host) -> Self {
        Transition {
            host,
            alarm: None,
            event: None,
            command: None,
            new_active: None,
        }
    }
}

fn locked_only(host: &Host, verb: &str) -> Result<(), Error> {
    if host.administrative == Administrative::Unlocked {
        return Err(Error::invalid(format!(
            "Can not '{verb}' an 'unlocked' host {}; Please 'Lock' first",
            host.display_name()
        )));
    }
    Ok(())
}

fn not_simplex(view: &ClusterView, what: &str) -> Result<(), Error> {
    if view.system_mode == SystemMode::Simplex {
        return Err(Error::invalid(format!(
            "{what} a simplex system is not allowed."
        )));
    }
    Ok(())
}

fn is_active_controller(host: &Host, view: &ClusterView) -> bool {
    host.personality == Some(Personality::Controller)
        && host.hostname.is_some()
        && host.hostname == view.active_controller
}

/// Decides `action` on `host`: an error with StarlingX's message, or the
/// whole effect.
pub fn decide(host: &Host, action: Action, view: &ClusterView) -> Result<Transition, Error> {
    let name = host.display_name().to_string();
    let mut h = host.clone();
    match action {
        Action::None => Ok(Transition::of(h)),
        Action::Lock | Action::ForceLock | Action::ForceUnsafeLock => {
            if host.administrative == Administrative::Locked {
                return Err(Error::invalid(format!(
                    "Avoiding 'lock' action on already 'locked' host {name}"
                )));
            }
            if is_active_controller(host, view) && view.system_mode != SystemMode::Simplex {
                return Err(Error::invalid(
                    "Can not lock an active controller.".to_string(),
                ));
            }
            h.administrative = Administrative::Locked;
            h.operational = Operational::Disabled;
            if matches!(
                h.availability,
                Availability::Available
                    | Availability::Degraded
                    | Availability::Intest
                    | Availability::Failed
            ) {
                h.availability = Availability::Online;
            }
            h.task.clear();
            h.ihost_action.clear();
            let how = if action == Action::Lock {
                "locked"
            } else {
                "force-locked"
            };
            Ok(Transition {
                alarm: Some(AlarmChange::RaiseLocked),
                event: HostEvent::state(format!("{name} is administratively {how}")),
                ..Transition::of(h)
            })
        }
        Action::Unlock | Action::ForceUnlock => {
            if host.administrative == Administrative::Unlocked {
                return Err(Error::invalid(format!(
                    "Avoiding unlock action on already unlocked host {name}."
                )));
            }
            if !host.is_provisioned_record() {
                return Err(Error::invalid(format!(
                    "Can not unlock an unprovisioned host {}. Please perform 'Edit Host' to provision host.",
                    host.hostname.as_deref().unwrap_or(&host.mgmt_mac)
                )));
            }
            if host.availability == Availability::PowerOff {
                return Err(Error::invalid(format!(
                    "Can not unlock host {name} while it is powered off. Power it on first."
                )));
            }
            if action == Action::Unlock && host.availability != Availability::Online {
                return Err(Error::invalid(format!(
                    "Can not unlock host {name} while its availability is {}. Wait for it to be 'online', or use force unlock.",
                    host.availability
                )));
            }
            if host.inv_state != "inventoried" {
                return Err(Error::invalid(format!(
                    "Can not unlock host {name} until it has been inventoried: wait for its agent to report."
                )));
            }
            h.administrative = Administrative::Unlocked;
            if host.config_owed() {
                // Its agent applies the configuration first; configuration's
                // report decides (see `ops::mark_config`).
                h.operational = Operational::Disabled;
                h.availability = Availability::Intest;
                h.task = CONFIGURING.into();
            } else if view.maintained {
                // Maintenance tests it (its heartbeat soak) and enables it.
                h.operational = Operational::Disabled;
                h.availability = Availability::Intest;
                h.task = "Testing".into();
            } else {
                h.operational = Operational::Enabled;
                h.availability = Availability::Available;
                h.task.clear();
            }
            h.invprovision = InvProvision::Provisioned;
            h.ihost_action.clear();
            let how = if action == Action::Unlock {
                "unlocked"
            } else {
                "force-unlocked"
            };
            Ok(Transition {
                alarm: Some(AlarmChange::ClearLocked),
                event: HostEvent::state(format!("{name} is administratively {how}")),
                ..Transition::of(h)
            })
        }
        Action::Reboot | Action::Reset | Action::Reinstall | Action::PowerOff => {
            let (gerund, verb, task, cmd) = match action {
                Action::Reboot => ("Rebooting", "Reboot", "Rebooting", AgentCommand::Reboot),
                Action::Reset => ("Resetting", "Reset", "Resetting", AgentCommand::Reset),
                Action::Reinstall => (
                    "Reinstalling",
                    "Reinstall",
                    "Reinstalling",
                    AgentCommand::Reinstall,
                ),
                _ => (
                    "Powering-off",
                    "Power-Off",
                    "Powering Off",
                    AgentCommand::PowerOff,
                ),
            };
            not_simplex(view, gerund)?;
            locked_only(host, verb)?;
            if action == Action::Reinstall
                && host.availability == Availability::Offline
                && host.bm_type == BmType::None
            {
                return Err(Error::invalid(format!(
                    "Can not reinstall host {name} while it is offline without a provisioned board management controller. Wait for it to be online or provision its BMC."
                )));
            }
            in_flight(host)?;
            h.task = task.into();
            h.ihost_action = action.as_str().into();
            Ok(Transition {
                command: Some(cmd),
                event: HostEvent::command(format!("{name} '{}' request", action.as_str())),
                ..Transition::of(h)
            })
        }
        Action::PowerOn => {
            not_simplex(view, "Powering-on")?;
            if host.administrative == Administrative::Unlocked {
                return Err(Error::invalid(format!(
                    "Can not 'Power-On' an already Powered-on and 'unlocked' host {name}"
                )));
            }
            in_flight(host)?;
            h.task = "Powering On".into();
            h.ihost_action = action.as_str().into();
            Ok(Transition {
                command: Some(AgentCommand::PowerOn),
                event: HostEvent::command(format!("{name} 'power-on' request")),
                ..Transition::of(h)
            })
        }
        Action::Swact | Action::ForceSwact => {
            if host.personality != Some(Personality::Controller) {
                return Err(Error::invalid(format!(
                    "Swact action not allowed for non controller host {name}."
                )));
            }
            if view.system_mode == SystemMode::Simplex {
                return Err(Error::invalid(
                    "Swact action not allowed for a simplex system.".to_string(),
                ));
            }
            if host.administrative == Administrative::Locked {
                return Err(Error::invalid(format!(
                    "Swact action not allowed for a locked host {name}."
                )));
            }
            if !is_active_controller(host, view) {
                return Err(Error::invalid(format!(
                    "Swact action not allowed: {name} is not the active controller."
                )));
            }
            let peer = view
                .peers
                .iter()
                .find(|p| p.personality == Some(Personality::Controller))
                .ok_or_else(|| {
                    Error::invalid("Swact action not allowed: there is no standby controller.")
                })?;
            let healthy = peer.administrative == Administrative::Unlocked
                && peer.operational == Operational::Enabled
                && peer.availability == Availability::Available;
            if !healthy {
                let how = format!(
                    "{}-{}-{}",
                    peer.administrative, peer.operational, peer.availability
                );
                if action == Action::Swact || peer.administrative == Administrative::Locked {
                    return Err(Error::invalid(format!(
                        "{} is {how}: swact to it is not possible{}",
                        peer.display_name(),
                        if peer.administrative == Administrative::Locked {
                            "."
                        } else {
                            "; force-swact bypasses its health check."
                        }
                    )));
                }
            }
            Ok(Transition {
                event: HostEvent::command(format!(
                    "{name} swact to {} requested",
                    peer.display_name()
                )),
                new_active: peer.hostname.clone(),
                ..Transition::of(h)
            })
        }
    }
}

/// An action already in flight refuses another.
fn in_flight(host: &Host) -> Result<(), Error> {
    if !host.ihost_action.is_empty() && !host.task.is_empty() {
        return Err(Error::invalid(format!(
            "Host {} is busy: '{}' is in progress ({}).",
            host.display_name(),
            host.ihost_action,
            host.task
        )));
    }
    Ok(())
}

/// The agent reports that `command` finished (`ok`) or failed: the task is
/// cleared and the availability follows what the command did.
pub fn complete(host: &Host, command: AgentCommand, ok: bool) -> Result<Transition, Error> {
    if host.ihost_action != command.as_str() {
        return Err(Error::invalid(format!(
            "Host {} has no '{}' in progress",
            host.display_name(),
            command.as_str()
        )));
    }
    let name = host.display_name().to_string();
    let mut h = host.clone();
    h.task.clear();
    h.ihost_action.clear();
    if ok {
        h.availability = match command {
            AgentCommand::PowerOff => Availability::PowerOff,
            _ => Availability::Online,
        };
    }
    Ok(Transition {
        event: HostEvent::state(format!(
            "{name} '{}' {}",
            command.as_str(),
            if ok { "completed" } else { "failed" }
        )),
        ..Transition::of(h)
    })
}

/// Whether a host may be deleted (StarlingX: it must be locked; not the
/// only controller of a simplex system).
pub fn check_delete(host: &Host, view: &ClusterView) -> Result<(), Error> {
    if host.administrative == Administrative::Unlocked {
        return Err(Error::invalid(format!(
            "Unable to complete action delete because Host {} is in administrative state = unlocked",
            host.display_name()
        )));
    }
    if host.personality != Some(Personality::Controller) {
        return Ok(());
    }
    if view.system_mode == SystemMode::Simplex {
        return Err(Error::invalid(
            "Deleting controller-0 on a simplex system is not allowed.",
        ));
    }
    // StarlingX never gets here with the active controller (it cannot be
    // locked); a controller Starling never saw active may be, and the
    // system must keep one.
    if is_active_controller(host, view) {
        return Err(Error::invalid(format!(
            "{} : Rejected: Can not delete an active controller.",
            host.display_name()
        )));
    }
    if !view
        .peers
        .iter()
        .any(|p| p.personality == Some(Personality::Controller))
    {
        return Err(Error::invalid(format!(
            "{} : Rejected: Can not delete the last controller of the system.",
            host.display_name()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use starling_common::Timestamp;

    fn host(name: &str, p: Personality) -> Host {
        let mut h = Host::new(
            1,
            format!("uuid-{name}"),
            "08:00:27:00:00:01".into(),
            Timestamp::from_micros(0),
        );
        h.hostname = Some(name.into());
        h.personality = Some(p);
        h.subfunctions = p.as_str().into();
        h.inv_state = "inventoried".into();
        h.availability = Availability::Online;
        h
    }

    fn unlocked(mut h: Host) -> Host {
        h.administrative = Administrative::Unlocked;
        h.operational = Operational::Enabled;
        h.availability = Availability::Available;
        h
    }

    fn view(mode: SystemMode, peers: Vec<Host>) -> ClusterView {
        ClusterView {
            system_mode: mode,
            active_controller: Some("controller-0".into()),
            peers,
            maintained: false,
        }
    }

    fn msg(r: Result<Transition, Error>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn an_unlock_owed_configuration_waits_for_it() {
        let v = view(SystemMode::Duplex, vec![]);
        let mut h = host("controller-1", Personality::Controller);
        let target = "81a2510d-a39b-7717-8d21-24f8b591c112";
        h.config_target = Some(target.into());
        h.config_applied = Some("01a2510d-a39b-7717-8d21-24f8b591c112".into());
        assert!(h.config_owed(), "the runtime part applied is not enough");
        let u = decide(&h, Action::Unlock, &v).unwrap();
        assert_eq!(
            (
                u.host.administrative,
                u.host.operational,
                u.host.availability,
                u.host.task.as_str()
            ),
            (
                Administrative::Unlocked,
                Operational::Disabled,
                Availability::Intest,
                CONFIGURING
            )
        );
        // Applied, or a runtime target: nothing is owed.
        h.config_applied = Some(target.into());
        assert!(!h.config_owed());
        h.config_target = Some("01a2510d-a39b-7717-8d21-24f8b591c112".into());
        h.config_applied = Some("install".into());
        assert!(!h.config_owed());
        let u = decide(&h, Action::Unlock, &v).unwrap();
        assert_eq!(u.host.availability, Availability::Available);
    }

    #[test]
    fn lock_and_unlock_with_the_alarm() {
        let v = view(SystemMode::Duplex, vec![]);
        let w = unlocked(host("compute-0", Personality::Worker));
        let t = decide(&w, Action::Lock, &v).unwrap();
        assert_eq!(t.host.administrative, Administrative::Locked);
        assert_eq!(t.host.operational, Operational::Disabled);
        assert_eq!(t.host.availability, Availability::Online);
        assert_eq!(t.alarm, Some(AlarmChange::RaiseLocked));
        assert!(msg(decide(&t.host, Action::Lock, &v)).contains("already 'locked'"));
        let u = decide(&t.host, Action::Unlock, &v).unwrap();
        assert_eq!(
            (
                u.host.administrative,
                u.host.operational,
                u.host.availability
            ),
            (
                Administrative::Unlocked,
                Operational::Enabled,
                Availability::Available
            )
        );
        assert_eq!(u.host.invprovision, InvProvision::Provisioned);
        assert_eq!(u.alarm, Some(AlarmChange::ClearLocked));
        assert!(msg(decide(&u.host, Action::Unlock, &v)).contains("already unlocked"));
        // With host maintenance, the unlocked host is tested first.
        let m = ClusterView {
            maintained: true,
            ..v
        };
        let u = decide(&t.host, Action::Unlock, &m).unwrap();
        assert_eq!(
            (
                u.host.operational,
                u.host.availability,
                u.host.task.as_str()
            ),
            (Operational::Disabled, Availability::Intest, "Testing")
        );
    }

    #[test]
    fn the_active_controller_cannot_be_locked_except_on_simplex() {
        let c0 = unlocked(host("controller-0", Personality::Controller));
        let e = msg(decide(
            &c0,
            Action::ForceLock,
            &view(SystemMode::Duplex, vec![]),
        ));
        assert_eq!(e, "Can not lock an active controller.");
        assert!(decide(&c0, Action::Lock, &view(SystemMode::Simplex, vec![])).is_ok());
        let c1 = unlocked(host("controller-1", Personality::Controller));
        assert!(decide(&c1, Action::Lock, &view(SystemMode::Duplex, vec![])).is_ok());
    }

    #[test]
    fn unlock_needs_an_online_inventoried_provisioned_host() {
        let v = view(SystemMode::Duplex, vec![]);
        let mut h = host("compute-0", Personality::Worker);
        h.availability = Availability::Offline;
        assert!(msg(decide(&h, Action::Unlock, &v)).contains("Wait for it to be 'online'"));
        assert!(
            decide(&h, Action::ForceUnlock, &v).is_ok(),
            "force skips online"
        );
        h.availability = Availability::PowerOff;
        assert!(msg(decide(&h, Action::ForceUnlock, &v)).contains("powered off"));
        let mut h = host("compute-0", Personality::Worker);
        h.inv_state.clear();
        assert!(msg(decide(&h, Action::Unlock, &v)).contains("inventoried"));
        let mut h = host("compute-0", Personality::Worker);
        h.hostname = None;
        let m = msg(decide(&h, Action::Unlock, &v));
        assert!(
            m.contains(&format!(
                "Can not unlock an unprovisioned host {}.",
                h.mgmt_mac
            )),
            "{m}"
        );
    }

    #[test]
    fn reboot_reset_reinstall_and_power_need_a_locked_host_and_no_simplex() {
        let d = view(SystemMode::Duplex, vec![]);
        let w = unlocked(host("compute-0", Personality::Worker));
        assert_eq!(
            msg(decide(&w, Action::Reboot, &d)),
            "Can not 'Reboot' an 'unlocked' host compute-0; Please 'Lock' first"
        );
        assert!(msg(decide(&w, Action::PowerOn, &d)).contains("already Powered-on"));
        let l = host("compute-0", Personality::Worker);
        let s = view(SystemMode::Simplex, vec![]);
        assert_eq!(
            msg(decide(&l, Action::Reset, &s)),
            "Resetting a simplex system is not allowed."
        );
        let t = decide(&l, Action::Reboot, &d).unwrap();
        assert_eq!(t.command, Some(AgentCommand::Reboot));
        assert_eq!(t.host.task, "Rebooting");
        assert!(msg(decide(&t.host, Action::PowerOff, &d)).contains("busy"));
        // The agent reports back.
        assert!(complete(&t.host, AgentCommand::PowerOff, true).is_err());
        let done = complete(&t.host, AgentCommand::Reboot, true).unwrap();
        assert_eq!(done.host.task, "");
        let off = decide(&done.host, Action::PowerOff, &d).unwrap();
        let off = complete(&off.host, AgentCommand::PowerOff, true).unwrap();
        assert_eq!(off.host.availability, Availability::PowerOff);
        let mut offline = host("compute-0", Personality::Worker);
        offline.availability = Availability::Offline;
        assert!(msg(decide(&offline, Action::Reinstall, &d)).contains("without a provisioned"));
    }

    #[test]
    fn swact_rules() {
        let c0 = unlocked(host("controller-0", Personality::Controller));
        let w = unlocked(host("compute-0", Personality::Worker));
        let d = view(SystemMode::Duplex, vec![]);
        assert!(msg(decide(&w, Action::Swact, &d)).contains("non controller"));
        assert!(
            msg(decide(
                &c0,
                Action::Swact,
                &view(SystemMode::Simplex, vec![])
            ))
            .contains("simplex")
        );
        assert!(msg(decide(&c0, Action::Swact, &d)).contains("no standby"));
        let mut c1 = unlocked(host("controller-1", Personality::Controller));
        c1.availability = Availability::Degraded;
        let v = view(SystemMode::Duplex, vec![c1.clone()]);
        assert!(msg(decide(&c0, Action::Swact, &v)).contains("force-swact bypasses"));
        let t = decide(&c0, Action::ForceSwact, &v).unwrap();
        assert_eq!(t.new_active.as_deref(), Some("controller-1"));
        c1.availability = Availability::Available;
        let v = view(SystemMode::Duplex, vec![c1]);
        assert!(decide(&c0, Action::Swact, &v).is_ok());
        let standby = unlocked(host("controller-1", Personality::Controller));
        assert!(msg(decide(&standby, Action::Swact, &v)).contains("not the active controller"));
    }

    #[test]
    fn delete_needs_a_locked_host() {
        let d = view(SystemMode::Duplex, vec![]);
        let w = unlocked(host("compute-0", Personality::Worker));
        assert_eq!(
            check_delete(&w, &d).unwrap_err().to_string(),
            "Unable to complete action delete because Host compute-0 is in administrative state = unlocked"
        );
        assert!(check_delete(&host("compute-0", Personality::Worker), &d).is_ok());
        let c0 = host("controller-0", Personality::Controller);
        assert_eq!(
            check_delete(&c0, &view(SystemMode::Simplex, vec![]))
                .unwrap_err()
                .to_string(),
            "Deleting controller-0 on a simplex system is not allowed."
        );
    }

    #[test]
    fn a_duplex_system_keeps_its_active_and_its_last_controller() {
        let c0 = host("controller-0", Personality::Controller);
        let mut c1 = host("controller-1", Personality::Controller);
        c1.id = 2;
        // The active one (controller-0 in `view`), locked or not.
        let v = view(SystemMode::Duplex, vec![c1.clone()]);
        assert_eq!(
            check_delete(&c0, &v).unwrap_err().to_string(),
            "controller-0 : Rejected: Can not delete an active controller."
        );
        // The standby, while the active one stays.
        assert!(check_delete(&c1, &view(SystemMode::Duplex, vec![c0.clone()])).is_ok());
        // The only controller, though none is known to be active.
        let mut none_active = view(
            SystemMode::Duplex,
            vec![host("compute-0", Personality::Worker)],
        );
        none_active.active_controller = None;
        assert_eq!(
            check_delete(&c1, &none_active).unwrap_err().to_string(),
            "controller-1 : Rejected: Can not delete the last controller of the system."
        );
    }
}
