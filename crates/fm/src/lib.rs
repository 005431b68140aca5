//! Fault management domain: alarms, the event log, per-id suppression,
//! hierarchical inhibition (masking) and the alarm catalogue.
//!
//! Architecture invariant: this crate holds the rules and knows nothing of HTTP,
//! SQL or the command line. Storage is reached only through [`repo::FaultRepo`],
//! and time only through values the caller passes in.

pub mod catalogue;
pub mod hierarchy;
pub mod model;
pub mod notify;
pub mod ops;
pub mod repo;

pub use model::*;
pub use starling_common::StorageFailure;

/// Everything that can go wrong in fault management: the shared domain error.
pub use starling_common::Error;
