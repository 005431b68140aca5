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

pub mod redfish;

use std::future::Future;
use std::pin::Pin;

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
}
