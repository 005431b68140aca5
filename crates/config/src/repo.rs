//! The storage contract of configuration. The store crate implements
//! [`ConfigRepo`] in SQL for every backend; [`crate::ops`] runs over it
//! inside one transaction.

use std::net::IpAddr;

use starling_common::Error;

use crate::addressing::{Address, AddressPool, Network};
use crate::datanet::DataNetwork;
use crate::interface::{Interface, InterfaceDataNetwork, InterfaceNetwork};
use crate::platform::{Dns, Ntp, Oam};
use crate::service_param::ServiceParameter;
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
    /// The OAM record as the first releases kept it (before the OAM
    /// network's pool held it); read once, to carry it over.
    fn legacy_oam(&mut self) -> Result<Option<Oam>, Error>;
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
    /// The next id of `seq` (never reused).
    fn next_id(&mut self, seq: Seq) -> Result<i64, Error>;
    fn insert_datanetwork(&mut self, d: &DataNetwork) -> Result<(), Error>;
    fn update_datanetwork(&mut self, d: &DataNetwork) -> Result<(), Error>;
    fn delete_datanetwork(&mut self, id: i64) -> Result<(), Error>;
    /// Every address pool, by id, with its named addresses.
    fn pools(&mut self) -> Result<Vec<AddressPool>, Error>;
    /// The pool of this uuid.
    fn pool(&mut self, uuid: &str) -> Result<Option<AddressPool>, Error>;
    fn insert_pool(&mut self, p: &AddressPool) -> Result<(), Error>;
    fn update_pool(&mut self, p: &AddressPool) -> Result<(), Error>;
    fn delete_pool(&mut self, id: i64) -> Result<(), Error>;
    /// Every address, by id.
    fn addresses(&mut self) -> Result<Vec<Address>, Error>;
    /// The addresses of pool `pool_id`, by id.
    fn addresses_in(&mut self, pool_id: i64) -> Result<Vec<Address>, Error>;
    /// The addresses given to host `host_uuid`.
    fn addresses_of_host(&mut self, host_uuid: &str) -> Result<Vec<Address>, Error>;
    /// The address of this id.
    fn address(&mut self, id: i64) -> Result<Option<Address>, Error>;
    /// The address row holding `a` (addresses are unique).
    fn address_at(&mut self, a: IpAddr) -> Result<Option<Address>, Error>;
    fn insert_address(&mut self, a: &Address) -> Result<(), Error>;
    fn update_address(&mut self, a: &Address) -> Result<(), Error>;
    fn delete_address(&mut self, id: i64) -> Result<(), Error>;
    /// Every network, by id.
    fn networks(&mut self) -> Result<Vec<Network>, Error>;
    fn insert_network(&mut self, n: &Network) -> Result<(), Error>;
    fn delete_network(&mut self, id: i64) -> Result<(), Error>;
    /// The interfaces of host `host_uuid`, by id.
    fn interfaces_of(&mut self, host_uuid: &str) -> Result<Vec<Interface>, Error>;
    /// The interface of this uuid.
    fn interface(&mut self, uuid: &str) -> Result<Option<Interface>, Error>;
    /// The interface of this id.
    fn interface_by_id(&mut self, id: i64) -> Result<Option<Interface>, Error>;
    fn insert_interface(&mut self, i: &Interface) -> Result<(), Error>;
    fn update_interface(&mut self, i: &Interface) -> Result<(), Error>;
    fn delete_interface(&mut self, id: i64) -> Result<(), Error>;
    /// Every platform network assignment, by id.
    fn interface_networks(&mut self) -> Result<Vec<InterfaceNetwork>, Error>;
    /// The platform network assignments of host `host_uuid`'s interfaces.
    fn interface_networks_of(&mut self, host_uuid: &str) -> Result<Vec<InterfaceNetwork>, Error>;
    fn insert_interface_network(&mut self, a: &InterfaceNetwork) -> Result<(), Error>;
    fn delete_interface_network(&mut self, id: i64) -> Result<(), Error>;
    /// Every data network assignment, by id.
    fn interface_datanetworks(&mut self) -> Result<Vec<InterfaceDataNetwork>, Error>;
    /// The data network assignments of host `host_uuid`'s interfaces.
    fn interface_datanetworks_of(
        &mut self,
        host_uuid: &str,
    ) -> Result<Vec<InterfaceDataNetwork>, Error>;
    fn insert_interface_datanetwork(&mut self, a: &InterfaceDataNetwork) -> Result<(), Error>;
    fn delete_interface_datanetwork(&mut self, id: i64) -> Result<(), Error>;
    /// Every service parameter, by id.
    fn service_parameters(&mut self) -> Result<Vec<ServiceParameter>, Error>;
    fn insert_service_parameter(&mut self, p: &ServiceParameter) -> Result<(), Error>;
    fn update_service_parameter(&mut self, p: &ServiceParameter) -> Result<(), Error>;
    fn delete_service_parameter(&mut self, id: i64) -> Result<(), Error>;
}

/// The id sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seq {
    DataNetwork,
    AddressPool,
    Address,
    Network,
    Interface,
    InterfaceNetwork,
    InterfaceDataNetwork,
    ServiceParameter,
}
