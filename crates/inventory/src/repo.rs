//! The storage contract of inventory. The store crate implements
//! [`InventoryRepo`] in SQL for every backend; [`crate::ops`] runs over it
//! inside one transaction.

use crate::Error;
use crate::hardware::{HwKind, HwRow};
use crate::model::{Host, Personality, System};
use starling_common::Timestamp;

/// How a request names a host: StarlingX clients use the integer id or the
/// uuid; Starling's own CLI may also give the hostname.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRef {
    /// Integer id.
    Id(i64),
    /// uuid.
    Uuid(String),
    /// Host name.
    Name(String),
}

impl HostRef {
    /// Reads what a path segment means: digits are an id, a uuid is a uuid,
    /// anything else a hostname.
    pub fn parse(s: &str) -> HostRef {
        if !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && let Ok(id) = s.parse()
        {
            return HostRef::Id(id);
        }
        if starling_common::is_uuid(s) {
            return HostRef::Uuid(s.to_ascii_lowercase());
        }
        HostRef::Name(s.to_string())
    }
}

impl std::fmt::Display for HostRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostRef::Id(i) => write!(f, "{i}"),
            HostRef::Uuid(s) | HostRef::Name(s) => f.write_str(s),
        }
    }
}

/// A page of hosts, ordered by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostQuery {
    /// Only this personality.
    pub personality: Option<Personality>,
    /// Only hosts with an id greater than this (the marker's).
    pub after_id: Option<i64>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Storage for inventory records.
pub trait InventoryRepo {
    /// The system record, if bootstrapped.
    fn system(&mut self) -> Result<Option<System>, Error>;
    /// Stores the system record (the first time).
    fn insert_system(&mut self, s: &System) -> Result<(), Error>;
    /// Rewrites the system record.
    fn update_system(&mut self, s: &System) -> Result<(), Error>;

    /// A new host id, never used before (ids are not reused after deletes).
    fn next_host_id(&mut self) -> Result<i64, Error>;
    /// Hosts matching `q`, by id.
    fn hosts(&mut self, q: &HostQuery) -> Result<Vec<Host>, Error>;
    /// One host.
    fn host(&mut self, r: &HostRef) -> Result<Option<Host>, Error>;
    /// The host with this management MAC.
    fn host_by_mac(&mut self, mac: &str) -> Result<Option<Host>, Error>;
    /// Adds a host.
    fn insert_host(&mut self, h: &Host) -> Result<(), Error>;
    /// Rewrites a host (by id).
    fn update_host(&mut self, h: &Host) -> Result<(), Error>;
    /// Removes a host, all its hardware records and its agent's credential.
    fn delete_host(&mut self, id: i64) -> Result<(), Error>;

    /// When the host's agent was given its credential, if it holds one.
    fn agent_credential(&mut self, host_id: i64) -> Result<Option<Timestamp>, Error>;
    /// Gives the host's agent the credential of this hash (replacing any).
    fn set_agent_credential(
        &mut self,
        host_id: i64,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), Error>;
    /// Takes the host's agent credential away.
    fn clear_agent_credential(&mut self, host_id: i64) -> Result<(), Error>;
    /// The host whose agent holds the credential of this hash.
    fn host_of_agent_credential(&mut self, hash: &str) -> Result<Option<Host>, Error>;
    /// The host's BMC password, sealed, if one is set.
    fn bmc_secret(&mut self, host_id: i64) -> Result<Option<String>, Error>;
    /// Sets (`Some`, sealed) or removes the host's BMC password.
    fn set_bmc_secret(
        &mut self,
        host_id: i64,
        sealed: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Error>;
    /// The stored hash of a named secret (`agent-enrollment`).
    fn secret_hash(&mut self, name: &str) -> Result<Option<String>, Error>;
    /// Stores a named secret's hash (replacing any).
    fn set_secret_hash(&mut self, name: &str, hash: &str, now: Timestamp) -> Result<(), Error>;

    /// Hardware records of one kind of a host, in no particular order.
    fn hw(&mut self, host_id: i64, kind: HwKind) -> Result<Vec<HwRow>, Error>;
    /// One hardware record of any kind.
    fn hw_by_uuid(&mut self, uuid: &str) -> Result<Option<HwRow>, Error>;
    /// Adds a hardware record.
    fn insert_hw(&mut self, r: &HwRow) -> Result<(), Error>;
    /// Rewrites a hardware record (by uuid).
    fn update_hw(&mut self, r: &HwRow) -> Result<(), Error>;
    /// Removes a hardware record.
    fn delete_hw(&mut self, uuid: &str) -> Result<(), Error>;
}
