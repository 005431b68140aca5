//! The Starling host agent: discovers the host's hardware from /proc and
//! /sys (sysinv §6) and keeps inventory up to date — it registers by
//! hostname and management MAC, reports everything once, then audits
//! periodically and sends only the sections that changed; it also carries
//! out the host actions the controller hands it (reboot, reset, power…)
//! through the operator's command, and reports how they went. It monitors
//! the host's processes (StarlingX's pmond) and its resources (CPU, memory,
//! file systems and links: StarlingX's collectd thresholds), and feeds
//! systemd's watchdog.
//!
//! Architecture invariants:
//! - discovery reads only through a [`root::Root`], so every parser runs the
//!   same on the live machine and on a fixture tree captured from another;
//! - discovery never fails on a missing or unreadable attribute (hardware
//!   and kernels differ): it reports what it can, and only a contradiction
//!   it cannot resolve is an error;
//! - the agent speaks Starling's own protocol (`/v1/agent/...` of the
//!   inventory API); the server checks every report, so the agent holds no
//!   inventory rules of its own.

pub mod action;
pub mod apply;
pub mod cpu;
pub mod credential;
pub mod discover;
pub mod disk;
pub mod lldp;
pub mod memory;
pub mod network;
pub mod pci;
pub mod pmon;
pub mod resmon;
pub mod root;
pub mod run;
pub mod systemd;

pub use discover::{Identity, changes, identity, report};
pub use root::Root;
