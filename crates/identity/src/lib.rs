//! Identity: domains, projects, users, roles and their assignments, opaque
//! bearer tokens, the service catalog, and StarlingX's policy rules.
//!
//! Architecture invariants:
//! - this crate knows nothing of HTTP, SQL or the command line; storage is
//!   reached only through [`repo::IdentityRepo`] and time only through values
//!   the caller passes in;
//! - a password is never stored or logged, only its argon2id hash, and password
//!   checks happen outside any storage transaction (they are slow on purpose);
//! - a token is never stored, only its SHA-256; the roles a token carries are
//!   read from the current assignments at validation, so removing a role takes
//!   effect without revoking tokens;
//! - authentication failures say nothing about which part was wrong; the
//!   reason is kept apart for the log ([`Error::Unauthorized`]).

pub mod admin;
pub mod model;
pub mod ops;
pub mod password;
pub mod policy;
pub mod repo;
pub mod token;

pub use model::*;
pub use starling_common::StorageFailure;

/// Everything that can go wrong in identity, by what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the message names the problem.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing state (a name in use).
    #[error("{0}")]
    Conflict(String),
    /// Authentication failed. `public` is what the client is told (never which
    /// of user or password was wrong); `reason` is for the log only.
    #[error("{public}")]
    Unauthorized {
        /// The message for the client.
        public: String,
        /// Why, for the operator's log.
        reason: String,
    },
    /// The caller is known but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The store failed (see [`StorageFailure`]).
    #[error(transparent)]
    Storage(StorageFailure),
}

impl From<StorageFailure> for Error {
    /// A unique-key violation is the client's conflict; anything else is a
    /// storage failure.
    fn from(f: StorageFailure) -> Self {
        match f.kind {
            starling_common::StorageKind::Unique => {
                Error::Conflict(starling_common::DUPLICATE_ENTRY.into())
            }
            _ => Error::Storage(f),
        }
    }
}

impl starling_common::TxError for Error {
    fn is_retryable(&self) -> bool {
        matches!(self, Error::Storage(f) if f.is_retryable())
    }
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
    /// An [`Error::Unauthorized`] with the standard public message.
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Error::Unauthorized {
            public: "The request you have made requires authentication.".into(),
            reason: reason.into(),
        }
    }
}
