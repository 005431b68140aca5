//! Host maintenance: the rules by which a controller decides, from the
//! heartbeat pulses its hosts answer, which host is well, degraded or
//! failed on each network (StarlingX's hbsAgent semantics, restated), and
//! what it does about a failed one: graceful recovery, then the reset
//! progression (mtcAgent's handlers, restated); and the rules of each
//! host's process monitor (pmond's, restated) with what its findings mean
//! for the host.
//!
//! Pure: no clock, no socket. The heartbeat engine (`starling-heartbeat`)
//! sends and collects the pulses and hands each period's answers here; the
//! maintenance service gives each host's machine the time.

pub mod alarms;
pub mod heartbeat;
pub mod host;
pub mod monitors;
pub mod process;
pub mod resource;
pub mod sensors;

pub use heartbeat::{Change, Level, Monitor, Network, Thresholds};
pub use host::{Action, HostFsm, Phase, Seen, Timers};
