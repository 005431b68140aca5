//! Board management controllers: what host maintenance (and fencing, for
//! service management) asks of a host's BMC — its power state, and power
//! on, off, reset and cycle — behind one trait, [`Bmc`].
//!
//! [`Redfish`] speaks Redfish natively (StarlingX shells out to
//! redfishtool): the system's `PowerState`, and the
//! `#ComputerSystem.Reset` action with a reset type the BMC says it allows,
//! falling back to the next allowed one when the BMC answers 404 or 405.
//! Power is queried before every action, so powering on a host that is on
//! (or off one that is off) sends nothing. The password travels only in
//! the `Authorization` header: never in a URL, a log line or an error.
//!
//! [`Ipmi`] drives `ipmitool` over LAN as StarlingX does (`chassis power
//! …`, `sensor list`), with the password in the child's environment
//! (`-E`), never on its command line.

pub mod ipmi;
pub mod redfish;

use std::future::Future;
use std::pin::Pin;

pub use ipmi::{Ipmi, IpmiConfig};
pub use redfish::{Redfish, RedfishConfig};

/// A system's power state, as Redfish names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    On,
    Off,
    PoweringOn,
    PoweringOff,
}

impl Power {
    /// Redfish's `PowerState` value.
    pub fn parse(s: &str) -> Option<Power> {
        match s {
            "On" => Some(Power::On),
            "Off" => Some(Power::Off),
            "PoweringOn" => Some(Power::PoweringOn),
            "PoweringOff" => Some(Power::PoweringOff),
            _ => None,
        }
    }
}

/// What maintenance asks a BMC to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    On,
    Off,
    Reset,
    Cycle,
}

impl Action {
    /// The Redfish reset types that carry the action out, preferred first
    /// (forced ones first: maintenance resets a host because it stopped
    /// answering, when a graceful request would not be heard).
    pub fn reset_types(self) -> &'static [&'static str] {
        match self {
            Action::On => &["On", "ForceOn"],
            Action::Off => &["ForceOff", "GracefulShutdown"],
            Action::Reset => &["ForceRestart", "GracefulRestart"],
            Action::Cycle => &["PowerCycle"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::On => "power-on",
            Action::Off => "power-off",
            Action::Reset => "reset",
            Action::Cycle => "power-cycle",
        }
    }
}

/// What an action came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acted {
    /// Sent, with this reset type; the BMC carries it out in its own time.
    Sent(&'static str),
    /// Nothing to do: the power was already so.
    AlreadySo(Power),
}

/// Why a BMC did not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BmcError {
    /// No answer (connection, TLS or timeout).
    Unreachable(String),
    /// The BMC answered with an error status (401: wrong credentials).
    Refused { status: u16, message: String },
    /// The BMC does not offer the action.
    Unsupported(String),
    /// An answer that is not the Redfish expected.
    Protocol(String),
}

impl std::fmt::Display for BmcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BmcError::Unreachable(m) => write!(f, "the BMC cannot be reached: {m}"),
            BmcError::Refused { status, message } => {
                write!(f, "the BMC refused the request ({status}): {message}")
            }
            BmcError::Unsupported(m) => write!(f, "the BMC does not support it: {m}"),
            BmcError::Protocol(m) => write!(f, "unexpected answer from the BMC: {m}"),
        }
    }
}

impl std::error::Error for BmcError {}

/// What a BMC call returns.
pub type BmcFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BmcError>> + Send + 'a>>;

/// A host's board management controller.
pub trait Bmc: Send + Sync {
    /// The host's power state now.
    fn power(&self) -> BmcFuture<'_, Power>;
    /// Carries `action` out (the power is queried first).
    fn act(&self, action: Action) -> BmcFuture<'_, Acted>;
    /// The board's sensors now (temperatures, fans, voltages).
    fn sensors(&self) -> BmcFuture<'_, Vec<Sensor>>;
}

/// A sensor's group, as StarlingX's sensor groups name the kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SensorGroup {
    Temperature,
    Fan,
    Voltage,
}

impl SensorGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            SensorGroup::Temperature => "temperature",
            SensorGroup::Fan => "fan",
            SensorGroup::Voltage => "voltage",
        }
    }
}

/// How a reading stands against its thresholds, in StarlingX's sensor
/// status words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SensorStatus {
    Ok,
    /// Past a non-critical threshold.
    Minor,
    /// Past a critical threshold.
    Major,
    /// Past a fatal threshold.
    Critical,
    /// Not reading (absent, disabled).
    Offline,
}

impl SensorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SensorStatus::Ok => "ok",
            SensorStatus::Minor => "minor",
            SensorStatus::Major => "major",
            SensorStatus::Critical => "critical",
            SensorStatus::Offline => "offline",
        }
    }
}

/// Lower and upper bounds at each severity (any may be absent).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Thresholds {
    pub lower_minor: Option<f64>,
    pub lower_major: Option<f64>,
    pub lower_critical: Option<f64>,
    pub upper_minor: Option<f64>,
    pub upper_major: Option<f64>,
    pub upper_critical: Option<f64>,
}

impl Thresholds {
    /// Where `reading` stands: the most severe bound it reaches.
    pub fn status_of(&self, reading: f64) -> SensorStatus {
        let past = |lower: Option<f64>, upper: Option<f64>| {
            lower.is_some_and(|l| reading <= l) || upper.is_some_and(|u| reading >= u)
        };
        if past(self.lower_critical, self.upper_critical) {
            SensorStatus::Critical
        } else if past(self.lower_major, self.upper_major) {
            SensorStatus::Major
        } else if past(self.lower_minor, self.upper_minor) {
            SensorStatus::Minor
        } else {
            SensorStatus::Ok
        }
    }
}

/// One sensor reading.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensor {
    pub name: String,
    pub group: SensorGroup,
    /// The reading, when the sensor reads.
    pub reading: Option<f64>,
    /// `degC`, `RPM`, `V`.
    pub unit: String,
    pub thresholds: Thresholds,
    pub status: SensorStatus,
}
