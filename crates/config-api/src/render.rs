//! The domain's records as the wire shapes of `starling-config-types`.

use std::net::IpAddr;

use starling_config::{Dns, Document, Ntp, Oam};
use starling_config_types as wire;
use starling_config_types::Link;

/// A comma list, as sysinv stores and shows server lists.
pub(crate) fn csv(items: &[IpAddr]) -> String {
    items
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn links(base: &str, coll: &str, uuid: &str) -> Vec<Link<'static>> {
    vec![
        Link::new(format!("{base}/v1/{coll}/{uuid}"), "self"),
        Link::new(format!("{base}/{coll}/{uuid}"), "bookmark"),
    ]
}

pub(crate) fn dns(d: &Dns, system: &str, base: &str) -> wire::Dns {
    wire::Dns {
        action: None,
        created_at: d.created_at,
        isystem_uuid: system.to_string(),
        links: links(base, "idnss", &d.uuid),
        nameservers: csv(&d.nameservers),
        updated_at: d.updated_at,
        uuid: d.uuid.clone(),
    }
}

pub(crate) fn ntp(n: &Ntp, system: &str, base: &str) -> wire::Ntp {
    wire::Ntp {
        action: None,
        created_at: n.created_at,
        isystem_uuid: system.to_string(),
        links: links(base, "intps", &n.uuid),
        ntpservers: n.ntpservers.join(","),
        updated_at: n.updated_at,
        uuid: n.uuid.clone(),
    }
}

pub(crate) fn oam(o: &Oam, system: &str, base: &str) -> wire::Oam {
    let text = |a: Option<IpAddr>| a.map(|a| a.to_string());
    wire::Oam {
        action: None,
        created_at: o.created_at,
        isystem_uuid: system.to_string(),
        links: links(base, "iextoams", &o.uuid),
        oam_c0_ip: text(o.c0_ip),
        oam_c1_ip: text(o.c1_ip),
        oam_end_ip: o.end_ip.to_string(),
        oam_floating_ip: o.floating_ip.to_string(),
        oam_gateway_ip: text(o.gateway_ip),
        oam_start_ip: o.start_ip.to_string(),
        oam_subnet: o.subnet.to_string(),
        region_config: false,
        updated_at: o.updated_at,
        uuid: o.uuid.clone(),
    }
}

pub(crate) fn datanetwork(d: &starling_config::DataNetwork) -> wire::DataNetwork {
    let v = d.vxlan.as_ref();
    wire::DataNetwork {
        id: d.id,
        uuid: d.uuid.clone(),
        network_type: d.network_type.as_str().to_string(),
        name: d.name.clone(),
        description: d.description.clone(),
        mtu: d.mtu,
        multicast_group: v.and_then(|v| v.multicast_group).map(|a| a.to_string()),
        port_num: v.map(|v| v.port_num),
        ttl: v.map(|v| v.ttl),
        mode: v.map(|v| v.mode.clone()),
    }
}

pub(crate) fn document(d: &Document) -> wire::HostDocument {
    wire::HostDocument {
        config_uuid: d.config_uuid.to_string(),
        full: d.full,
        hostname: d.hostname.clone(),
        personality: d.personality.clone(),
        nameservers: d.nameservers.iter().map(|a| a.to_string()).collect(),
        ntpservers: d.ntpservers.clone(),
        hosts: d
            .hosts
            .iter()
            .map(|(a, names)| wire::HostsEntry {
                address: a.to_string(),
                names: names.clone(),
            })
            .collect(),
        interfaces: d
            .interfaces
            .iter()
            .map(|i| wire::NetworkInterface {
                name: i.name.clone(),
                iftype: i.kind.as_str().to_string(),
                mac: i.mac.clone(),
                mtu: i.mtu,
                vlan_id: i.vlan_id,
                lower: i.lower.clone(),
                aemode: i.aemode.clone(),
                txhashpolicy: i.txhashpolicy.clone(),
                primary_reselect: i.primary_reselect.clone(),
                networks: i.networks.clone(),
                addresses: i
                    .addresses
                    .iter()
                    .map(|(a, p)| format!("{a}/{p}"))
                    .collect(),
                gateway: i.gateway.map(|g| g.to_string()),
                sriov_numvfs: i.sriov_numvfs,
            })
            .collect(),
        sysctl: settings(&d.settings.sysctl),
        coredump: settings(&d.settings.coredump),
        cli_confirmations: d.settings.cli_confirmations,
    }
}

fn settings(v: &[(String, String)]) -> Vec<wire::Setting> {
    v.iter()
        .map(|(name, value)| wire::Setting {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}
