//! The configuration contract kept in memory, for the domain's unit tests
//! (the store crate's suite holds the SQL one to the same stories on
//! every backend). Unique keys are kept as the schema keeps them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use starling_common::Error;

use crate::addressing::{AddressPool, Network};
use crate::interface::{Interface, InterfaceDataNetwork, InterfaceNetwork};
use crate::repo::ConfigRepo;
use crate::{Dns, HostConfig, Ntp, Oam};

#[derive(Default)]
pub(crate) struct Mem {
    pub dns: Option<Dns>,
    pub ntp: Option<Ntp>,
    pub oam: Option<Oam>,
    pub hosts: BTreeMap<String, HostConfig>,
    datanets: Vec<crate::DataNetwork>,
    pub pools: Vec<AddressPool>,
    pub addresses: Vec<crate::addressing::Address>,
    networks: Vec<Network>,
    pub interfaces: Vec<Interface>,
    ifnets: Vec<InterfaceNetwork>,
    ifdns: Vec<InterfaceDataNetwork>,
    params: Vec<crate::service_param::ServiceParameter>,
    seq: BTreeMap<String, i64>,
}

impl ConfigRepo for Mem {
    fn dns(&mut self) -> Result<Option<Dns>, Error> {
        Ok(self.dns.clone())
    }
    fn put_dns(&mut self, d: &Dns) -> Result<(), Error> {
        self.dns = Some(d.clone());
        Ok(())
    }
    fn ntp(&mut self) -> Result<Option<Ntp>, Error> {
        Ok(self.ntp.clone())
    }
    fn put_ntp(&mut self, n: &Ntp) -> Result<(), Error> {
        self.ntp = Some(n.clone());
        Ok(())
    }
    fn legacy_oam(&mut self) -> Result<Option<Oam>, Error> {
        Ok(self.oam.clone())
    }
    fn host(&mut self, u: &str) -> Result<Option<HostConfig>, Error> {
        Ok(self.hosts.get(u).cloned())
    }
    fn hosts(&mut self) -> Result<Vec<HostConfig>, Error> {
        Ok(self.hosts.values().cloned().collect())
    }
    fn put_host(&mut self, h: &HostConfig) -> Result<(), Error> {
        self.hosts.insert(h.host_uuid.clone(), h.clone());
        Ok(())
    }
    fn delete_host(&mut self, u: &str) -> Result<(), Error> {
        self.hosts.remove(u);
        Ok(())
    }
    fn datanetworks(&mut self) -> Result<Vec<crate::DataNetwork>, Error> {
        Ok(self.datanets.clone())
    }
    fn datanetwork(&mut self, key: &str) -> Result<Option<crate::DataNetwork>, Error> {
        Ok(self
            .datanets
            .iter()
            .find(|d| d.uuid == key || d.name == key)
            .cloned())
    }
    fn next_id(&mut self, seq: crate::Seq) -> Result<i64, Error> {
        let v = self.seq.entry(format!("{seq:?}")).or_default();
        *v += 1;
        Ok(*v)
    }
    fn insert_datanetwork(&mut self, d: &crate::DataNetwork) -> Result<(), Error> {
        self.datanets.push(d.clone());
        Ok(())
    }
    fn update_datanetwork(&mut self, d: &crate::DataNetwork) -> Result<(), Error> {
        for x in self.datanets.iter_mut().filter(|x| x.id == d.id) {
            *x = d.clone();
        }
        Ok(())
    }
    fn delete_datanetwork(&mut self, id: i64) -> Result<(), Error> {
        self.datanets.retain(|d| d.id != id);
        Ok(())
    }
    fn pools(&mut self) -> Result<Vec<AddressPool>, Error> {
        Ok(self.pools.clone())
    }
    fn pool(&mut self, uuid: &str) -> Result<Option<AddressPool>, Error> {
        Ok(self.pools.iter().find(|p| p.uuid == uuid).cloned())
    }
    fn insert_pool(&mut self, p: &AddressPool) -> Result<(), Error> {
        if self
            .pools
            .iter()
            .any(|x| x.name == p.name || x.uuid == p.uuid)
        {
            return Err(Error::conflict("unique pool"));
        }
        self.pools.push(p.clone());
        Ok(())
    }
    fn update_pool(&mut self, p: &AddressPool) -> Result<(), Error> {
        for x in self.pools.iter_mut().filter(|x| x.id == p.id) {
            *x = p.clone();
        }
        Ok(())
    }
    fn delete_pool(&mut self, id: i64) -> Result<(), Error> {
        self.pools.retain(|p| p.id != id);
        Ok(())
    }
    fn addresses(&mut self) -> Result<Vec<crate::addressing::Address>, Error> {
        Ok(self.addresses.clone())
    }
    fn addresses_in(&mut self, pool: i64) -> Result<Vec<crate::addressing::Address>, Error> {
        Ok(self
            .addresses
            .iter()
            .filter(|a| a.pool_id == Some(pool))
            .cloned()
            .collect())
    }
    fn addresses_of_host(&mut self, host: &str) -> Result<Vec<crate::addressing::Address>, Error> {
        Ok(self
            .addresses
            .iter()
            .filter(|a| a.host_uuid.as_deref() == Some(host))
            .cloned()
            .collect())
    }
    fn address(&mut self, id: i64) -> Result<Option<crate::addressing::Address>, Error> {
        Ok(self.addresses.iter().find(|a| a.id == id).cloned())
    }
    fn address_at(&mut self, a: IpAddr) -> Result<Option<crate::addressing::Address>, Error> {
        Ok(self.addresses.iter().find(|x| x.address == a).cloned())
    }
    fn insert_address(&mut self, a: &crate::addressing::Address) -> Result<(), Error> {
        if self.addresses.iter().any(|x| x.address == a.address) {
            return Err(Error::conflict(format!("unique address {}", a.address)));
        }
        self.addresses.push(a.clone());
        Ok(())
    }
    fn update_address(&mut self, a: &crate::addressing::Address) -> Result<(), Error> {
        if self
            .addresses
            .iter()
            .any(|x| x.address == a.address && x.id != a.id)
        {
            return Err(Error::conflict(format!("unique address {}", a.address)));
        }
        for x in self.addresses.iter_mut().filter(|x| x.id == a.id) {
            *x = a.clone();
        }
        Ok(())
    }
    fn delete_address(&mut self, id: i64) -> Result<(), Error> {
        self.addresses.retain(|a| a.id != id);
        Ok(())
    }
    fn networks(&mut self) -> Result<Vec<Network>, Error> {
        Ok(self.networks.clone())
    }
    fn insert_network(&mut self, n: &Network) -> Result<(), Error> {
        self.networks.push(n.clone());
        Ok(())
    }
    fn delete_network(&mut self, id: i64) -> Result<(), Error> {
        self.networks.retain(|n| n.id != id);
        Ok(())
    }
    fn interfaces_of(&mut self, host_uuid: &str) -> Result<Vec<Interface>, Error> {
        Ok(self
            .interfaces
            .iter()
            .filter(|i| i.host_uuid == host_uuid)
            .cloned()
            .collect())
    }
    fn interface(&mut self, uuid: &str) -> Result<Option<Interface>, Error> {
        Ok(self.interfaces.iter().find(|i| i.uuid == uuid).cloned())
    }
    fn interface_by_id(&mut self, id: i64) -> Result<Option<Interface>, Error> {
        Ok(self.interfaces.iter().find(|i| i.id == id).cloned())
    }
    fn insert_interface(&mut self, i: &Interface) -> Result<(), Error> {
        let taken = self.interfaces.iter().any(|x| {
            x.uuid == i.uuid
                || (x.host_uuid == i.host_uuid && x.ifname == i.ifname)
                || (x.port_uuid.is_some() && x.port_uuid == i.port_uuid)
        });
        if taken {
            return Err(Error::conflict("interface taken"));
        }
        self.interfaces.push(i.clone());
        Ok(())
    }
    fn update_interface(&mut self, i: &Interface) -> Result<(), Error> {
        for x in self.interfaces.iter_mut().filter(|x| x.id == i.id) {
            *x = i.clone();
        }
        Ok(())
    }
    fn delete_interface(&mut self, id: i64) -> Result<(), Error> {
        self.interfaces.retain(|x| x.id != id);
        Ok(())
    }
    fn interface_networks(&mut self) -> Result<Vec<InterfaceNetwork>, Error> {
        Ok(self.ifnets.clone())
    }
    fn interface_networks_of(&mut self, host_uuid: &str) -> Result<Vec<InterfaceNetwork>, Error> {
        let mine: Vec<i64> = self
            .interfaces
            .iter()
            .filter(|i| i.host_uuid == host_uuid)
            .map(|i| i.id)
            .collect();
        Ok(self
            .ifnets
            .iter()
            .filter(|a| mine.contains(&a.interface_id))
            .cloned()
            .collect())
    }
    fn insert_interface_network(&mut self, a: &InterfaceNetwork) -> Result<(), Error> {
        self.ifnets.push(a.clone());
        Ok(())
    }
    fn delete_interface_network(&mut self, id: i64) -> Result<(), Error> {
        self.ifnets.retain(|x| x.id != id);
        Ok(())
    }
    fn interface_datanetworks(&mut self) -> Result<Vec<InterfaceDataNetwork>, Error> {
        Ok(self.ifdns.clone())
    }
    fn interface_datanetworks_of(
        &mut self,
        host_uuid: &str,
    ) -> Result<Vec<InterfaceDataNetwork>, Error> {
        let mine: Vec<i64> = self
            .interfaces
            .iter()
            .filter(|i| i.host_uuid == host_uuid)
            .map(|i| i.id)
            .collect();
        Ok(self
            .ifdns
            .iter()
            .filter(|a| mine.contains(&a.interface_id))
            .cloned()
            .collect())
    }
    fn insert_interface_datanetwork(&mut self, a: &InterfaceDataNetwork) -> Result<(), Error> {
        self.ifdns.push(a.clone());
        Ok(())
    }
    fn delete_interface_datanetwork(&mut self, id: i64) -> Result<(), Error> {
        self.ifdns.retain(|x| x.id != id);
        Ok(())
    }
    fn service_parameters(&mut self) -> Result<Vec<crate::service_param::ServiceParameter>, Error> {
        Ok(self.params.clone())
    }
    fn insert_service_parameter(
        &mut self,
        p: &crate::service_param::ServiceParameter,
    ) -> Result<(), Error> {
        self.params.push(p.clone());
        Ok(())
    }
    fn update_service_parameter(
        &mut self,
        p: &crate::service_param::ServiceParameter,
    ) -> Result<(), Error> {
        for x in self.params.iter_mut().filter(|x| x.id == p.id) {
            *x = p.clone();
        }
        Ok(())
    }
    fn delete_service_parameter(&mut self, id: i64) -> Result<(), Error> {
        self.params.retain(|x| x.id != id);
        Ok(())
    }
}
