//! Inventory: the system, its hosts and their lifecycle, named and checked
//! exactly as StarlingX's sysinv names and checks them.
//!
//! Architecture invariants:
//! - this crate knows nothing of HTTP, SQL or the command line; time and the
//!   cluster around a host come in as values from the caller;
//! - every state name on the wire is one of StarlingX's (`as_str`/`parse` are
//!   the only spellings); an unknown name is an error, never a default;
//! - an action is decided by [`lifecycle::decide`] from the host and a view
//!   of the cluster, and its whole effect (new states, task, the alarm to
//!   raise or clear, the event to log, the agent command to run) comes back
//!   as one value the service applies in one transaction.

pub mod alarms;
pub mod bulk;
pub mod hardware;
pub mod hwops;
pub mod lifecycle;
pub mod model;
pub mod ops;
pub mod repo;
pub mod validate;

pub use model::*;
pub use starling_common::StorageFailure;

/// Everything that can go wrong in inventory: the shared domain error.
pub use starling_common::Error;
