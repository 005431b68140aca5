//! Data networks (`datanetworks`): the provider networks data interfaces
//! attach to — flat, vlan or vxlan, with an MTU and, for vxlan, its
//! endpoint parameters — checked as sysinv's datanetwork.py checks them,
//! with its messages.

use std::net::IpAddr;

use starling_common::Error;

use crate::repo::{ConfigRepo, Seq};

/// sysinv's MTU bounds (`validate_mtu`).
pub const MTU_MIN: i64 = 576;
pub const MTU_MAX: i64 = 9216;
/// The MTU a data network gets when none is given.
pub const DEFAULT_MTU: i64 = 1500;

/// A data network's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkType {
    Flat,
    Vlan,
    Vxlan,
}

impl NetworkType {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkType::Flat => "flat",
            NetworkType::Vlan => "vlan",
            NetworkType::Vxlan => "vxlan",
        }
    }

    pub fn parse(s: &str) -> Option<NetworkType> {
        [NetworkType::Flat, NetworkType::Vlan, NetworkType::Vxlan]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// A vxlan data network's endpoint parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vxlan {
    /// `dynamic` (learning over a multicast group) or `static`.
    pub mode: String,
    /// The multicast group (dynamic mode only).
    pub multicast_group: Option<IpAddr>,
    /// The UDP port.
    pub port_num: i64,
    pub ttl: i64,
}

/// A data network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataNetwork {
    /// Integer id (from a sequence, never reused).
    pub id: i64,
    pub uuid: String,
    /// Unique.
    pub name: String,
    pub network_type: NetworkType,
    pub description: String,
    pub mtu: i64,
    pub vxlan: Option<Vxlan>,
}

/// `datanetwork-add`'s fields, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewDataNetwork {
    pub name: Option<String>,
    pub network_type: Option<String>,
    pub description: Option<String>,
    pub mtu: Option<i64>,
    pub multicast_group: Option<String>,
    pub port_num: Option<i64>,
    pub ttl: Option<i64>,
    pub mode: Option<String>,
}

/// sysinv's `validate_mtu`.
pub fn check_mtu(mtu: i64) -> Result<(), Error> {
    if !(MTU_MIN..=MTU_MAX).contains(&mtu) {
        return Err(Error::invalid(format!(
            "MTU must be between {MTU_MIN} and {MTU_MAX} bytes."
        )));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.eq_ignore_ascii_case("none") {
        return Err(Error::invalid(format!(
            "DataNetwork name '{name}' is not allowed"
        )));
    }
    if name.is_empty()
        || name.len() > 255
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return Err(Error::invalid(format!(
            "DataNetwork name '{name}' is not allowed: name may only contain letters, numbers, underscores, periods and hyphens."
        )));
    }
    Ok(())
}

fn check_vxlan(n: &NewDataNetwork) -> Result<Vxlan, Error> {
    let mode = n.mode.clone().unwrap_or_else(|| "dynamic".into());
    if mode != "dynamic" && mode != "static" {
        return Err(Error::invalid(format!(
            "VxLan mode '{mode}' is not supported: dynamic or static"
        )));
    }
    let mut missing: Vec<&str> = Vec::new();
    if mode == "dynamic" && n.multicast_group.is_none() {
        missing.push("multicast_group");
    }
    if n.port_num.is_none() {
        missing.push("port_num");
    }
    if n.ttl.is_none() {
        missing.push("ttl");
    }
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "VxLan parameters '{missing:?}' are required for '{mode}' mode."
        )));
    }
    let multicast_group = match (&n.multicast_group, mode.as_str()) {
        (Some(_), "static") => {
            return Err(Error::invalid(
                "VxLan of mode static does not support multicast_group.",
            ));
        }
        (Some(g), _) => match g.parse::<IpAddr>() {
            Ok(a) if a.is_multicast() => Some(a),
            _ => {
                return Err(Error::invalid(format!(
                    "multicast group '{g}' is not a valid multicast ip address."
                )));
            }
        },
        (None, _) => None,
    };
    let port_num = n.port_num.unwrap_or_default();
    if !(1..=65535).contains(&port_num) {
        return Err(Error::invalid(format!(
            "VxLan port_num {port_num} is not valid: 1 to 65535"
        )));
    }
    let ttl = n.ttl.unwrap_or_default();
    if !(1..=255).contains(&ttl) {
        return Err(Error::invalid(format!(
            "VxLan ttl {ttl} is not valid: 1 to 255"
        )));
    }
    Ok(Vxlan {
        mode,
        multicast_group,
        port_num,
        ttl,
    })
}

/// `datanetwork-add`: checked whole, then stored with the next id.
pub fn add(repo: &mut dyn ConfigRepo, n: &NewDataNetwork) -> Result<DataNetwork, Error> {
    let t = n
        .network_type
        .as_deref()
        .ok_or_else(|| Error::invalid("DataNetwork network_type is required."))?;
    let network_type = NetworkType::parse(t)
        .ok_or_else(|| Error::invalid(format!("DataNetwork type {t} is not supported")))?;
    let name = n
        .name
        .as_deref()
        .ok_or_else(|| Error::invalid("DataNetwork name is required."))?;
    check_name(name)?;
    let mtu = n.mtu.unwrap_or(DEFAULT_MTU);
    check_mtu(mtu)?;
    let vxlan = if network_type == NetworkType::Vxlan {
        Some(check_vxlan(n)?)
    } else {
        if n.multicast_group.is_some() || n.port_num.is_some() || n.ttl.is_some() {
            return Err(Error::invalid(format!(
                "multicast_group, port_num and ttl are VxLan parameters: not for a {t} data network"
            )));
        }
        None
    };
    if repo.datanetwork(name)?.is_some() {
        return Err(Error::conflict(format!(
            "DataNetwork of name {name} already exists."
        )));
    }
    let d = DataNetwork {
        id: repo.next_id(Seq::DataNetwork)?,
        uuid: starling_common::new_uuid(),
        name: name.to_string(),
        network_type,
        description: n.description.clone().unwrap_or_default(),
        mtu,
        vxlan,
    };
    repo.insert_datanetwork(&d)?;
    Ok(d)
}

/// The data network `key` names (uuid or name).
pub fn get(repo: &mut dyn ConfigRepo, key: &str) -> Result<DataNetwork, Error> {
    repo.datanetwork(key)?
        .ok_or_else(|| Error::not_found(format!("DataNetwork {key} could not be found.")))
}

/// `datanetwork-modify`: only the MTU and the description change (sysinv
/// names the attributes it refuses).
pub fn modify(
    repo: &mut dyn ConfigRepo,
    key: &str,
    changes: &[(String, Option<String>)],
) -> Result<DataNetwork, Error> {
    let mut d = get(repo, key)?;
    let refused: Vec<&str> = changes
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "mtu" && *k != "description")
        .collect();
    if !refused.is_empty() {
        return Err(Error::invalid(format!(
            "DataNetwork '{}' attributes '{}' may not be modified",
            d.uuid,
            refused.join(", ")
        )));
    }
    for (k, v) in changes {
        match k.as_str() {
            "mtu" => {
                let v = v.as_deref().unwrap_or("");
                let mtu: i64 = v
                    .parse()
                    .map_err(|_| Error::invalid(format!("Invalid mtu '{v}': a number of bytes")))?;
                check_mtu(mtu)?;
                for a in repo.interface_datanetworks()? {
                    if a.datanetwork_id != d.id {
                        continue;
                    }
                    if let Some(i) = repo.interface_by_id(a.interface_id)?
                        && i.imtu < mtu
                    {
                        return Err(Error::invalid(format!(
                            "The datanetwork MTU '{mtu}' must be smaller than assigned interface MTU '{}'.",
                            i.imtu
                        )));
                    }
                }
                d.mtu = mtu;
            }
            _ => d.description = v.clone().unwrap_or_default(),
        }
    }
    repo.update_datanetwork(&d)?;
    Ok(d)
}

/// `datanetwork-delete`: only one no interface uses.
pub fn delete(repo: &mut dyn ConfigRepo, key: &str) -> Result<DataNetwork, Error> {
    let d = get(repo, key)?;
    if repo
        .interface_datanetworks()?
        .iter()
        .any(|a| a.datanetwork_id == d.id)
    {
        return Err(Error::invalid(format!(
            "DataNetwork '{}' is still assigned to interfaces. Check interface-datanetwork.",
            d.uuid
        )));
    }
    repo.delete_datanetwork(d.id)?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, t: &str) -> NewDataNetwork {
        NewDataNetwork {
            name: Some(name.into()),
            network_type: Some(t.into()),
            ..NewDataNetwork::default()
        }
    }

    #[test]
    fn names_types_mtus_and_vxlan_parameters_are_checked() {
        let vx = |n: NewDataNetwork| check_vxlan(&n).map_err(|e| e.to_string());
        assert!(check_name("physnet0").is_ok());
        assert!(check_name("none").is_err());
        assert!(
            check_name("phys net")
                .unwrap_err()
                .to_string()
                .contains("may only contain")
        );
        assert!(check_mtu(575).is_err());
        assert!(check_mtu(9216).is_ok());
        assert!(
            check_mtu(9217)
                .unwrap_err()
                .to_string()
                .contains("between 576 and 9216")
        );
        let e = vx(new("v", "vxlan")).unwrap_err();
        assert!(e.contains("are required for 'dynamic' mode"), "{e}");
        let ok = vx(NewDataNetwork {
            multicast_group: Some("239.0.1.1".into()),
            port_num: Some(4789),
            ttl: Some(10),
            ..new("v", "vxlan")
        })
        .unwrap();
        assert_eq!(ok.mode, "dynamic");
        let e = vx(NewDataNetwork {
            multicast_group: Some("10.0.1.1".into()),
            port_num: Some(4789),
            ttl: Some(10),
            ..new("v", "vxlan")
        })
        .unwrap_err();
        assert!(e.contains("not a valid multicast ip address"), "{e}");
        let e = vx(NewDataNetwork {
            mode: Some("static".into()),
            multicast_group: Some("239.0.1.1".into()),
            port_num: Some(4789),
            ttl: Some(10),
            ..new("v", "vxlan")
        })
        .unwrap_err();
        assert!(e.contains("does not support multicast_group"), "{e}");
        let e = vx(NewDataNetwork {
            mode: Some("static".into()),
            port_num: Some(0),
            ttl: Some(10),
            ..new("v", "vxlan")
        })
        .unwrap_err();
        assert!(e.contains("port_num 0"), "{e}");
    }
}
