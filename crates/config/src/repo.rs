//! The storage contract of configuration. The store crate implements
//! [`ConfigRepo`] in SQL for every backend; [`crate::ops`] runs over it
//! inside one transaction.

use starling_common::Error;

use crate::datanet::DataNetwork;
use crate::platform::{Dns, Ntp, Oam};
use crate::target::HostConfig;

/// Storage for configuration records.
pub trait ConfigRepo {
    /// The DNS record, once written.
    fn dns(&mut self) -> Result<Option<Dns>, Error>;
    /// Writes the DNS record (there is one).
    fn put_dns(&mut self, d: &Dns) -> Result<(), Error>;
    /// The NTP record, once written.
    fn ntp(&mut self) -> Result<Option<Ntp>, Error>;
    /// Writes the NTP record (there is one).
    fn put_ntp(&mut self, n: &Ntp) -> Result<(), Error>;
    /// The OAM network record, once written.
    fn oam(&mut self) -> Result<Option<Oam>, Error>;
    /// Writes the OAM network record (there is one).
    fn put_oam(&mut self, o: &Oam) -> Result<(), Error>;
    /// One host's configuration state.
    fn host(&mut self, host_uuid: &str) -> Result<Option<HostConfig>, Error>;
    /// Every tracked host's, by host uuid.
    fn hosts(&mut self) -> Result<Vec<HostConfig>, Error>;
    /// Writes a host's configuration state.
    fn put_host(&mut self, h: &HostConfig) -> Result<(), Error>;
    /// Stops tracking a host.
    fn delete_host(&mut self, host_uuid: &str) -> Result<(), Error>;
    /// Every data network, by id.
    fn datanetworks(&mut self) -> Result<Vec<DataNetwork>, Error>;
    /// The data network of this uuid or name.
    fn datanetwork(&mut self, key: &str) -> Result<Option<DataNetwork>, Error>;
    /// The next data network id (never reused).
    fn next_datanetwork_id(&mut self) -> Result<i64, Error>;
    fn insert_datanetwork(&mut self, d: &DataNetwork) -> Result<(), Error>;
    fn update_datanetwork(&mut self, d: &DataNetwork) -> Result<(), Error>;
    fn delete_datanetwork(&mut self, id: i64) -> Result<(), Error>;
}
