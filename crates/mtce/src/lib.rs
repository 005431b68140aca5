//! Host maintenance: the rules by which a controller decides, from the
//! heartbeat pulses its hosts answer, which host is well, degraded or
//! failed on each network (StarlingX's hbsAgent semantics, restated).
//!
//! Pure: no clock, no socket. The heartbeat engine (`starling-heartbeat`)
//! sends and collects the pulses and hands each period's answers here.

pub mod alarms;
pub mod heartbeat;

pub use heartbeat::{Change, Level, Monitor, Network, Thresholds};
