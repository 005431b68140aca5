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

/// Everything that can go wrong in fault management, by what the caller can do
/// about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the message names the problem.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing state (e.g. a uuid in use).
    #[error("{0}")]
    Conflict(String),
    /// The store failed (see [`StorageFailure`]).
    #[error(transparent)]
    Storage(#[from] StorageFailure),
}

impl Error {
    /// An [`Error::Invalid`].
    pub fn invalid(m: impl Into<String>) -> Self {
        Error::Invalid(m.into())
    }
    /// An [`Error::NotFound`].
    pub fn not_found(m: impl Into<String>) -> Self {
        Error::NotFound(m.into())
    }
    /// An [`Error::Conflict`].
    pub fn conflict(m: impl Into<String>) -> Self {
        Error::Conflict(m.into())
    }
}
