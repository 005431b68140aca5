//! The system configuration domain (StarlingX sysinv's configuration half):
//! the cloud's DNS, NTP and OAM records with sysinv's checks
//! ([`platform`]), each host's target and applied configuration with the
//! reboot-required flag ([`target`]), the rules over the storage contract
//! ([`ops`], [`repo`]) — every change mints targets for the hosts it
//! concerns and returns the 250.001 changes — and each host's document,
//! the typed configuration its agent applies.
//!
//! Knows nothing of HTTP, SQL or clap; reads no clock.

pub mod addressing;
pub mod datanet;
pub mod interface;
#[cfg(test)]
mod mem;
pub mod ops;
pub mod platform;
pub mod repo;
pub mod service_param;
pub mod target;

pub use datanet::{DataNetwork, NetworkType, NewDataNetwork};
pub use ops::{Applied, Document, HostFacts, Initial, OUT_OF_DATE};
pub use platform::{Dns, Ntp, Oam, OamFields, Subnet};
pub use repo::{ConfigRepo, Seq};
pub use starling_common::Error;
pub use target::{ConfigUuid, HostConfig, StepResult};
