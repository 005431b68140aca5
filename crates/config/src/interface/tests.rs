use super::*;
use crate::addressing::InitialNetworks;
use crate::mem::Mem;
use crate::ops::HostFacts;

const HOST: &str = "11111111-1111-4111-8111-111111111111";

fn t(s: i64) -> Timestamp {
    Timestamp::from_micros((1_700_000_000 + s) * 1_000_000)
}

fn host(personality: &str, administrative: &str) -> HostFacts {
    HostFacts {
        uuid: HOST.into(),
        hostname: Some(if personality == "controller" {
            "controller-0".into()
        } else {
            "compute-0".into()
        }),
        personality: Some(personality.into()),
        administrative: administrative.into(),
        configuring: false,
        subfunctions: Some(if personality == "controller" {
            "controller,worker".into()
        } else {
            personality.into()
        }),
    }
}

fn port(n: u8, pci: &str, dev_id: i64, vfs: Option<i64>) -> PortFacts {
    PortFacts {
        uuid: format!("22222222-2222-4222-8222-0000000000{n:02}"),
        name: format!("enp0s{n}"),
        mac: format!("52:54:00:00:00:{n:02x}"),
        mtu: 1500,
        pciaddr: pci.into(),
        dev_id,
        sriov_totalvfs: vfs,
        driver: "ixgbe".into(),
        speed: Some(10_000),
        dpdksupport: true,
    }
}

fn ports() -> Vec<PortFacts> {
    vec![
        port(3, "0000:00:03.0", 0, None),
        port(4, "0000:00:04.0", 0, None),
        port(5, "0000:00:05.0", 0, Some(16)),
        port(6, "0000:00:06.0", 0, None),
    ]
}

struct World {
    repo: Mem,
    host: HostFacts,
    ports: Vec<PortFacts>,
    simplex: bool,
}

impl World {
    fn new(personality: &str) -> World {
        let mut repo = Mem::default();
        let ports = ports();
        sync_ports(&mut repo, HOST, &ports, t(0)).unwrap();
        World {
            repo,
            host: host(personality, "locked"),
            ports,
            simplex: false,
        }
    }

    fn run<T>(
        &mut self,
        op: impl FnOnce(&mut dyn ConfigRepo, &HostView<'_>) -> Result<T, Error>,
    ) -> Result<T, String> {
        let v = HostView::load(&mut self.repo, &self.host, &self.ports, self.simplex)
            .map_err(|e| e.to_string())?;
        op(&mut self.repo, &v).map_err(|e| e.to_string())
    }

    fn add(&mut self, f: InterfaceFields) -> Result<Interface, String> {
        self.run(|r, v| add(r, v, &f, t(1)))
    }

    fn modify(&mut self, key: &str, f: InterfaceFields) -> Result<Interface, String> {
        self.run(|r, v| modify(r, v, key, &f, t(2)))
    }

    fn delete(&mut self, key: &str) -> Result<Interface, String> {
        self.run(|r, v| delete(r, v, key, t(3)))
    }

    fn get(&mut self, name: &str) -> Interface {
        self.repo
            .interfaces_of(HOST)
            .unwrap()
            .into_iter()
            .find(|i| i.ifname == name)
            .unwrap()
    }

    fn networks(&mut self) {
        let n = InitialNetworks {
            mgmt: "192.168.204.0/24".into(),
            cluster_host: "192.168.206.0/24".into(),
            cluster_pod: "172.16.0.0/16".into(),
            cluster_service: "10.96.0.0/12".into(),
            pxeboot: "169.254.202.0/24".into(),
            multicast: "239.1.1.0/28".into(),
        };
        for (ty, s) in [
            (addressing::MGMT, &n.mgmt),
            (addressing::CLUSTER_HOST, &n.cluster_host),
            (addressing::PXEBOOT, &n.pxeboot),
        ] {
            addressing::ensure_network(&mut self.repo, ty, s, true, t(0)).unwrap();
        }
    }

    fn assign(&mut self, ifname: &str, net_type: &str) -> Result<InterfaceNetwork, String> {
        let net = self
            .repo
            .networks()
            .unwrap()
            .into_iter()
            .find(|n| n.net_type == net_type)
            .unwrap();
        let hosts = vec![self.host.clone()];
        self.run(|r, v| assign_network(r, v, &hosts, ifname, &net.uuid, t(4)))
    }
}

fn vlan(name: &str, lower: &str, id: i64, class: &str) -> InterfaceFields {
    InterfaceFields {
        ifname: Some(name.into()),
        iftype: Some("vlan".into()),
        ifclass: Some(class.into()),
        vlan_id: Some(id),
        uses: Some(vec![lower.into()]),
        ..InterfaceFields::default()
    }
}

fn ae(name: &str, members: &[&str], mode: &str, class: &str) -> InterfaceFields {
    InterfaceFields {
        ifname: Some(name.into()),
        iftype: Some("ae".into()),
        ifclass: Some(class.into()),
        aemode: Some(mode.into()),
        uses: Some(members.iter().map(|m| m.to_string()).collect()),
        ..InterfaceFields::default()
    }
}

#[test]
fn every_port_gets_one_ethernet_interface_the_operator_cannot_delete() {
    let mut w = World::new("worker");
    let all = w.repo.interfaces_of(HOST).unwrap();
    assert_eq!(all.len(), 4);
    let e = w.get("enp0s3");
    assert_eq!(e.iftype, IfType::Ethernet);
    assert_eq!(e.ifclass, None);
    assert_eq!(e.imac.as_deref(), Some("52:54:00:00:00:03"));
    assert_eq!(e.port_uuid.as_deref(), Some(w.ports[0].uuid.as_str()));
    assert!(e.system_made());
    // Again: nothing new.
    assert_eq!(sync_ports(&mut w.repo, HOST, &w.ports, t(1)).unwrap(), 0);
    assert!(!ports_unsynced(&mut w.repo, HOST, &w.ports).unwrap());
    let e = w.delete("enp0s3").unwrap_err();
    assert!(
        e.contains("Cannot delete a system created ethernet interface"),
        "{e}"
    );
    // Renamed, it stays the port's.
    w.modify(
        "enp0s3",
        InterfaceFields {
            ifname: Some("mgmt0".into()),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    assert_eq!(sync_ports(&mut w.repo, HOST, &w.ports, t(1)).unwrap(), 0);
    // A port's name is only its own interface's.
    let e = w
        .modify(
            "enp0s4",
            InterfaceFields {
                ifname: Some("enp0s6".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(
        e.contains("Port name can be used as interface name only"),
        "{e}"
    );
    forget_host(&mut w.repo, HOST).unwrap();
    assert!(w.repo.interfaces_of(HOST).unwrap().is_empty());
}

#[test]
fn names_are_lower_case_short_plain_and_unique() {
    let mut w = World::new("worker");
    for (name, want) in [
        ("Data0", "must be in lower case"),
        ("averyveryverylongname", "greater than 15"),
        ("data$0", "Cannot use '$'"),
        ("enp0s4", "Port name can be used as interface name only"),
    ] {
        let e = w
            .modify(
                "enp0s3",
                InterfaceFields {
                    ifname: Some(name.into()),
                    ..InterfaceFields::default()
                },
            )
            .unwrap_err();
        assert!(e.contains(want), "{name}: {e}");
    }
    let e = w.add(vlan("vlan:1", "enp0s3", 10, "platform")).unwrap_err();
    assert!(e.contains("special characters in vlan"), "{e}");
    w.add(vlan("vlan10", "enp0s3", 10, "platform")).unwrap();
    let e = w.add(vlan("vlan10", "enp0s4", 11, "platform")).unwrap_err();
    assert!(e.contains("Interface Name vlan10 must be unique."), "{e}");
}

#[test]
fn interfaces_change_only_on_a_locked_host() {
    let mut w = World::new("worker");
    w.host.administrative = "unlocked".into();
    let e = w.add(vlan("vlan10", "enp0s3", 10, "platform")).unwrap_err();
    assert_eq!(e, "Host must be locked.");
    let e = w
        .modify(
            "enp0s3",
            InterfaceFields {
                imtu: Some(9000),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert_eq!(e, "Host must be locked.");
    assert!(w.repo.interfaces_of(HOST).unwrap().len() == 4);
    // A platform interface's rate limits change at runtime.
    w.host.administrative = "locked".into();
    w.modify(
        "enp0s3",
        InterfaceFields {
            ifclass: Some("platform".into()),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    w.host.administrative = "unlocked".into();
    let f = InterfaceFields {
        max_tx_rate: Some(100),
        ..InterfaceFields::default()
    };
    assert!(!needs_reboot(&f));
    assert_eq!(w.modify("enp0s3", f).unwrap().max_tx_rate, Some(100));
}

#[test]
fn vlans_follow_sysinv_rules() {
    let mut w = World::new("worker");
    let v = w.add(vlan("vlan10", "enp0s3", 10, "platform")).unwrap();
    assert_eq!(v.uses, vec![w.get("enp0s3").id]);
    assert_eq!(v.imac.as_deref(), Some("52:54:00:00:00:03"));
    assert_eq!(v.imtu, DEFAULT_MTU);
    for (f, want) in [
        (vlan("vlan0", "enp0s3", 0, "platform"), "between 1 and 4094"),
        (
            vlan("vlan5000", "enp0s3", 5000, "platform"),
            "between 1 and 4094",
        ),
        (
            vlan("vlan11", "vlan10", 11, "platform"),
            "over existing VLAN",
        ),
        (
            vlan("other10", "enp0s3", 10, "data"),
            "already in use on interface enp0s3",
        ),
        (
            vlan("p10", "enp0s4", 10, "platform"),
            "already in use on another platform",
        ),
        (
            vlan("ghost", "eth9", 12, "platform"),
            "eth9 could not be found",
        ),
        (
            InterfaceFields {
                vlan_id: None,
                ..vlan("novlan", "enp0s3", 1, "platform")
            },
            "VLAN id must be specified.",
        ),
    ] {
        let e = w.add(f).unwrap_err();
        assert!(e.contains(want), "{e} (wanted {want})");
    }
    // Its lower interface gets a class: a data VLAN cannot sit over it.
    w.modify(
        "enp0s3",
        InterfaceFields {
            ifclass: Some("platform".into()),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    let e = w.add(vlan("d20", "enp0s3", 20, "data")).unwrap_err();
    assert!(
        e.contains("Data VLAN interface cannot be created over a platform"),
        "{e}"
    );
    // MTU: never above the lower's; the lower never below an upper's.
    let e = w
        .modify(
            "vlan10",
            InterfaceFields {
                imtu: Some(9000),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(
        e.contains("cannot be larger than MTU of underlying interface (1500)"),
        "{e}"
    );
    w.modify(
        "enp0s3",
        InterfaceFields {
            imtu: Some(9000),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    w.modify(
        "vlan10",
        InterfaceFields {
            imtu: Some(9000),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    let e = w
        .modify(
            "enp0s3",
            InterfaceFields {
                imtu: Some(1500),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(
        e.contains("cannot be smaller than the interface MTU (9000)"),
        "{e}"
    );
    let e = w
        .modify(
            "enp0s3",
            InterfaceFields {
                imtu: Some(100),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(e.contains("between 576 and 9216"), "{e}");
    // In use: not deleted.
    let e = w
        .modify(
            "enp0s3",
            InterfaceFields {
                ifclass: Some("data".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(e.contains("being used by [\"vlan10\"]"), "{e}");
    w.delete("vlan10").unwrap();
    assert!(w.repo.interfaces_of(HOST).unwrap().len() == 4);
}

#[test]
fn aggregated_interfaces_follow_sysinv_rules() {
    let mut w = World::new("worker");
    let e = w
        .add(ae("bond0", &["enp0s3", "enp0s4"], "balanced", "platform"))
        .unwrap_err();
    assert!(e.contains("require a valid Tx Hash Policy"), "{e}");
    let e = w
        .add(InterfaceFields {
            txhashpolicy: Some("layer2".into()),
            ..ae("bond0", &["enp0s3", "enp0s4"], "active_standby", "platform")
        })
        .unwrap_err();
    assert!(e.contains("should not specify a Tx Hash Policy"), "{e}");
    let e = w
        .add(ae("bond0", &["enp0s3", "enp0s4"], "active_standby", "none"))
        .unwrap_err();
    assert!(e.contains("must be 'platform' or 'data'"), "{e}");
    let e = w
        .add(InterfaceFields {
            txhashpolicy: Some("layer3+4".into()),
            ..ae("bond0", &["enp0s3", "enp0s4"], "802.3ad", "data")
        })
        .unwrap_err();
    assert!(e.contains("Tx Hash Policy of 'layer2'"), "{e}");
    let e = w
        .add(ae("enp0s6", &["enp0s3"], "active_standby", "platform"))
        .unwrap_err();
    assert!(
        e.contains("must not be the same as an existing port name"),
        "{e}"
    );
    let b = w
        .add(InterfaceFields {
            imtu: Some(9000),
            primary_reselect: Some("better".into()),
            ..ae("bond0", &["enp0s3", "enp0s4"], "active_standby", "platform")
        })
        .unwrap();
    assert_eq!(b.imac.as_deref(), Some("52:54:00:00:00:03"));
    // Members take the bond's MTU, and may not take a class.
    assert_eq!(w.get("enp0s4").imtu, 9000);
    let e = w
        .modify(
            "enp0s4",
            InterfaceFields {
                ifclass: Some("platform".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(e.contains("as an 'aggregated ethernet' interface"), "{e}");
    let e = w
        .add(ae("bond1", &["enp0s4"], "active_standby", "platform"))
        .unwrap_err();
    assert!(
        e.contains("already used by another 'aggregated ethernet' interface 'bond0'"),
        "{e}"
    );
    // A member with a class cannot join.
    w.modify(
        "enp0s6",
        InterfaceFields {
            ifclass: Some("platform".into()),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    let e = w
        .add(ae("bond1", &["enp0s6"], "active_standby", "platform"))
        .unwrap_err();
    assert!(
        e.contains("must have the interface class set to 'none' or 'pci-sriov'"),
        "{e}"
    );
    // A member leaves: its MTU is the default again.
    w.modify(
        "bond0",
        InterfaceFields {
            uses: Some(vec!["enp0s3".into()]),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    assert_eq!(w.get("enp0s4").imtu, DEFAULT_MTU);
    assert_eq!(w.get("enp0s3").imtu, 9000);
    w.delete("bond0").unwrap();
    assert_eq!(w.get("enp0s3").imtu, DEFAULT_MTU);
}

#[test]
fn ports_serve_one_interface() {
    let mut w = World::new("worker");
    let e = w
        .add(InterfaceFields {
            ifname: Some("eth9".into()),
            iftype: Some("ethernet".into()),
            ports: Some(vec!["enp0s3".into()]),
            ..InterfaceFields::default()
        })
        .unwrap_err();
    let owner = w.get("enp0s3").uuid;
    assert!(
        e.contains(&format!(
            "Another interface {owner} is already using this port"
        )),
        "{e}"
    );
    let e = w
        .add(InterfaceFields {
            ifname: Some("eth9".into()),
            iftype: Some("ethernet".into()),
            ports: Some(vec!["enp0s3".into(), "enp0s4".into()]),
            ..InterfaceFields::default()
        })
        .unwrap_err();
    assert!(e.contains("For Ethernet, select a single port."), "{e}");
    let e = w
        .add(InterfaceFields {
            ifname: Some("eth9".into()),
            iftype: Some("ethernet".into()),
            ports: Some(vec!["enp9s9".into()]),
            ..InterfaceFields::default()
        })
        .unwrap_err();
    assert!(e.contains("Port enp9s9 does not exist."), "{e}");
}

#[test]
fn sriov_and_vf_interfaces_count_their_functions() {
    let mut w = World::new("worker");
    let sriov = |n: i64| InterfaceFields {
        ifclass: Some("pci-sriov".into()),
        sriov_numvfs: Some(n),
        ..InterfaceFields::default()
    };
    let e = w.modify("enp0s3", sriov(4)).unwrap_err();
    assert!(
        e.contains("SR-IOV can't be configured on this interface"),
        "{e}"
    );
    let e = w.modify("enp0s5", sriov(32)).unwrap_err();
    assert!(e.contains("a maximum of 16 VFs"), "{e}");
    let e = w
        .modify(
            "enp0s5",
            InterfaceFields {
                ifclass: Some("pci-sriov".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(e.contains("must be > 0"), "{e}");
    w.modify("enp0s5", sriov(8)).unwrap();
    let vf = |name: &str, n: i64| InterfaceFields {
        ifname: Some(name.into()),
        iftype: Some("vf".into()),
        ifclass: Some("pci-sriov".into()),
        sriov_numvfs: Some(n),
        uses: Some(vec!["enp0s5".into()]),
        ..InterfaceFields::default()
    };
    w.add(vf("vf0", 4)).unwrap();
    let e = w.add(vf("vf1", 4)).unwrap_err();
    assert!(e.contains("available VFs (3)"), "{e}");
    w.add(vf("vf1", 3)).unwrap();
    // The PF keeps more VFs than its VF interfaces use.
    let e = w.modify("enp0s5", sriov(7)).unwrap_err();
    assert!(
        e.contains("must be greater than the number of consumed VFs"),
        "{e}"
    );
    let e = w
        .modify(
            "enp0s5",
            InterfaceFields {
                ifclass: Some("data".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(e.contains("used by VF interface"), "{e}");
    let e = w
        .add(InterfaceFields {
            max_tx_rate: Some(2_000),
            ..vf("vf2", 0)
        })
        .unwrap_err();
    assert!(e.contains("must be > 0"), "{e}");
    let e = w
        .add(InterfaceFields {
            sriov_numvfs: Some(1),
            ..vlan("v5", "enp0s6", 5, "pci-sriov")
        })
        .unwrap_err();
    assert!(
        e.contains("only valid on Ethernet and VF interfaces"),
        "{e}"
    );
}

#[test]
fn data_interfaces_need_a_worker() {
    let mut w = World::new("storage");
    let e = w
        .modify(
            "enp0s3",
            InterfaceFields {
                ifclass: Some("data".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(
        e.contains("only supported on nodes supporting worker functions"),
        "{e}"
    );
    let mut w = World::new("controller");
    let d = w
        .modify(
            "enp0s3",
            InterfaceFields {
                ifclass: Some("data".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap();
    assert_eq!(d.ipv4_mode.as_deref(), Some("disabled"));
    let back = w
        .modify(
            "enp0s3",
            InterfaceFields {
                ifclass: Some("none".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap();
    assert_eq!((back.ifclass, back.ipv4_mode), (None, None));
}

#[test]
fn platform_networks_are_assigned_as_sysinv_assigns_them() {
    let mut w = World::new("controller");
    w.networks();
    let a = w.assign("enp0s3", addressing::MGMT).unwrap();
    let e = w.get("enp0s3");
    assert_eq!(a.interface_id, e.id);
    assert_eq!(e.ifclass, Some(IfClass::Platform));
    assert_eq!(e.ipv4_mode.as_deref(), Some("static"));
    let err = w.assign("enp0s3", addressing::MGMT).unwrap_err();
    assert!(err.contains("already exists"), "{err}");
    let err = w.assign("enp0s4", addressing::MGMT).unwrap_err();
    assert!(
        err.contains("'mgmt' network type is already provisioned on this node"),
        "{err}"
    );
    let err = w.assign("enp0s3", addressing::PXEBOOT).unwrap_err();
    assert!(
        err.contains("already assigned with a different network"),
        "{err}"
    );
    w.assign("enp0s4", addressing::PXEBOOT).unwrap();
    let err = w.assign("enp0s4", addressing::CLUSTER_HOST).unwrap_err();
    assert!(err.contains("cannot contain additional networks"), "{err}");
    w.assign("enp0s3", addressing::CLUSTER_HOST).unwrap();
    // A class without platform networks first.
    let err = w
        .modify(
            "enp0s3",
            InterfaceFields {
                ifclass: Some("none".into()),
                ..InterfaceFields::default()
            },
        )
        .unwrap_err();
    assert!(
        err.contains("remove them first (interface-network-remove)"),
        "{err}"
    );
    // A data interface takes none.
    w.modify(
        "enp0s6",
        InterfaceFields {
            ifclass: Some("data".into()),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    let err = w.assign("enp0s6", addressing::CLUSTER_HOST).unwrap_err();
    assert!(
        err.contains("class 'data' cannot assign platform networks"),
        "{err}"
    );
    // Deleting an interface takes its assignments.
    let pxe = w
        .repo
        .interface_networks()
        .unwrap()
        .into_iter()
        .find(|a| a.interface_id == w.get("enp0s4").id)
        .unwrap();
    w.repo.delete_interface_network(pxe.id).unwrap();
    let v = w.add(vlan("pxe9", "enp0s5", 9, "platform")).unwrap();
    w.assign("pxe9", addressing::PXEBOOT).unwrap();
    assert_eq!(w.repo.interface_networks().unwrap().len(), 3);
    w.delete("pxe9").unwrap();
    let left = w.repo.interface_networks().unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|a| a.interface_id != v.id));
}

#[test]
fn oam_is_a_controller_network_and_cluster_host_needs_the_controller_first() {
    let mut w = World::new("worker");
    w.networks();
    let err = w.assign("enp0s3", addressing::CLUSTER_HOST).unwrap_err();
    assert!(
        err.contains("does not have associated cluster-host interface on controller"),
        "{err}"
    );
    let oam = crate::platform::oam(
        None,
        &crate::platform::OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_gateway_ip: Some("10.10.10.1".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            ..Default::default()
        },
        true,
        "33333333-3333-4333-8333-333333333333".into(),
        t(0),
    )
    .unwrap();
    addressing::create_oam(&mut w.repo, &oam, true).unwrap();
    let err = w.assign("enp0s4", addressing::OAM).unwrap_err();
    assert!(err.contains("only supported on controller nodes"), "{err}");
}

#[test]
fn data_networks_are_assigned_as_sysinv_assigns_them() {
    let mut w = World::new("worker");
    let dn = |r: &mut Mem, name: &str, ty: &str, mtu: i64| {
        datanet::add(
            r,
            &datanet::NewDataNetwork {
                name: Some(name.into()),
                network_type: Some(ty.into()),
                mtu: Some(mtu),
                multicast_group: (ty == "vxlan").then(|| "239.0.0.1".into()),
                port_num: (ty == "vxlan").then_some(4789),
                ttl: (ty == "vxlan").then_some(10),
                ..Default::default()
            },
        )
        .unwrap()
    };
    dn(&mut w.repo, "physnet0", "vlan", 1500);
    dn(&mut w.repo, "physnet1", "flat", 1500);
    dn(&mut w.repo, "overlay", "vxlan", 1500);
    let assign = |w: &mut World, i: &str, d: &str| {
        let (i, d) = (i.to_string(), d.to_string());
        w.run(move |r, v| assign_datanetwork(r, v, &i, &d, t(5)))
    };
    w.host.administrative = "unlocked".into();
    let e = assign(&mut w, "enp0s3", "physnet0").unwrap_err();
    assert!(
        e.contains("Operation Rejected: Host 'compute-0' is adminstrative 'unlocked'"),
        "{e}"
    );
    w.host.administrative = "locked".into();
    assign(&mut w, "enp0s3", "physnet0").unwrap();
    assert_eq!(w.get("enp0s3").ifclass, Some(IfClass::Data));
    let e = assign(&mut w, "enp0s3", "physnet0").unwrap_err();
    assert!(
        e.contains("assignment with Data Network 'physnet0' already exists"),
        "{e}"
    );
    let e = assign(&mut w, "enp0s4", "physnet0").unwrap_err();
    assert!(
        e.contains("Data interface enp0s3 is already attached to this Data Network: physnet0."),
        "{e}"
    );
    // VXLAN asks for its overhead above the data network's MTU.
    let e = assign(&mut w, "enp0s3", "overlay").unwrap_err();
    assert!(
        e.contains("The interface MTU 1500 must be larger than the '1500' datanetwork MTU"),
        "{e}"
    );
    w.add(vlan("data100", "enp0s4", 100, "data")).unwrap();
    let e = assign(&mut w, "data100", "physnet0").unwrap_err();
    assert!(
        e.contains("VLAN based data network 'physnet0' cannot be assigned to a VLAN"),
        "{e}"
    );
    assign(&mut w, "data100", "physnet1").unwrap();
    // The data network's MTU stays within its interfaces'; it is not
    // deleted while assigned.
    let e = datanet::modify(
        &mut w.repo,
        "physnet0",
        &[("mtu".into(), Some("9000".into()))],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("must be smaller than assigned interface MTU '1500'"),
        "{e}"
    );
    let e = datanet::delete(&mut w.repo, "physnet1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("is still assigned to interfaces"), "{e}");
    // The interface goes, and its assignment with it.
    w.delete("data100").unwrap();
    datanet::delete(&mut w.repo, "physnet1").unwrap();
    // A platform interface takes no data network.
    w.modify(
        "enp0s6",
        InterfaceFields {
            ifclass: Some("platform".into()),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    let e = assign(&mut w, "enp0s6", "overlay").unwrap_err();
    assert!(
        e.contains("class 'platform' cannot assign datanetworks"),
        "{e}"
    );
}

#[test]
fn a_hosts_network_configuration_is_its_platform_interfaces_lower_ones_first() {
    let mut w = World::new("controller");
    w.networks();
    let oam = crate::platform::oam(
        None,
        &crate::platform::OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_gateway_ip: Some("10.10.10.1".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            ..Default::default()
        },
        true,
        "33333333-3333-4333-8333-333333333333".into(),
        t(0),
    )
    .unwrap();
    addressing::create_oam(&mut w.repo, &oam, true).unwrap();
    // Nothing platform yet: nothing to bring up.
    let me = addressing::AddressedHost {
        uuid: HOST.into(),
        hostname: "controller-0".into(),
    };
    let pools = addressing::network_pools(&mut w.repo).unwrap();
    assert_eq!(
        network_config(&mut w.repo, &me, &w.ports, &pools).unwrap(),
        Vec::new()
    );
    w.add(InterfaceFields {
        imtu: Some(9000),
        ..ae("bond0", &["enp0s5", "enp0s6"], "active_standby", "platform")
    })
    .unwrap();
    w.add(InterfaceFields {
        ifname: Some("mgmt0".into()),
        iftype: Some("vlan".into()),
        ifclass: Some("platform".into()),
        vlan_id: Some(10),
        uses: Some(vec!["bond0".into()]),
        ..InterfaceFields::default()
    })
    .unwrap();
    w.assign("mgmt0", addressing::MGMT).unwrap();
    w.assign("enp0s3", addressing::OAM).unwrap();
    let pools = addressing::network_pools(&mut w.repo).unwrap();
    let got = network_config(&mut w.repo, &me, &w.ports, &pools).unwrap();
    let names: Vec<&str> = got.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["enp0s3", "enp0s5", "enp0s6", "bond0", "mgmt0"]);
    let oam_if = &got[0];
    assert_eq!(oam_if.kind, IfType::Ethernet);
    assert_eq!(oam_if.mac.as_deref(), Some("52:54:00:00:00:03"));
    assert_eq!(oam_if.networks, ["oam"]);
    // Simplex: controller-0's OAM address is the floating one.
    assert_eq!(oam_if.addresses, [("10.10.10.2".parse().unwrap(), 24)]);
    assert_eq!(oam_if.gateway, Some("10.10.10.1".parse().unwrap()));
    let member = &got[1];
    assert_eq!((member.mtu, member.addresses.len()), (9000, 0));
    let bond = &got[3];
    assert_eq!(bond.lower, ["enp0s5", "enp0s6"]);
    assert_eq!(bond.aemode.as_deref(), Some("active_standby"));
    let mgmt = &got[4];
    assert_eq!((mgmt.kind, mgmt.vlan_id), (IfType::Vlan, Some(10)));
    assert_eq!(mgmt.lower, ["bond0"]);
    let c0 = pools
        .iter()
        .find(|(t, _)| t == addressing::MGMT)
        .unwrap()
        .1
        .slot(addressing::Slot::Controller0)
        .unwrap();
    assert_eq!(mgmt.addresses, [(c0, 24)]);
    assert_eq!(mgmt.gateway, None, "a controller's default route is OAM's");
}

#[test]
fn sriov_ports_are_in_the_network_configuration_with_their_vf_count() {
    let mut w = World::new("worker");
    w.modify(
        "enp0s5",
        InterfaceFields {
            ifclass: Some("pci-sriov".into()),
            sriov_numvfs: Some(4),
            ..InterfaceFields::default()
        },
    )
    .unwrap();
    let me = addressing::AddressedHost {
        uuid: HOST.into(),
        hostname: "compute-0".into(),
    };
    let got = network_config(&mut w.repo, &me, &w.ports, &[]).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].name.as_str(), got[0].sriov_numvfs),
        ("enp0s5", Some(4))
    );
    assert!(got[0].addresses.is_empty());
}
