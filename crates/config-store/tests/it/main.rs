//! Configuration's stories on every backend: the first records, DNS, NTP
//! and OAM changes read back as written, hosts followed, targets minted
//! and applied, and a refused change leaving nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use starling_common::{Error, Timestamp};
use starling_config::ops::{self, Applied, HostFacts, Initial};
use starling_config::{ConfigRepo, OamFields, StepResult};
use starling_config_store::{ConfigStore, SCHEMA};
use starling_db::Db;
use starling_db::testing::each_backend;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + sec * 1_000_000)
}

fn initial() -> Initial {
    Initial {
        nameservers: "8.8.8.8,8.8.4.4".into(),
        ntpservers: "10.0.0.1".into(),
        oam: OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_gateway_ip: Some("10.10.10.1".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            oam_c0_ip: Some("10.10.10.3".into()),
            oam_c1_ip: Some("10.10.10.4".into()),
            ..OamFields::default()
        },
        networks: Default::default(),
        simplex: false,
    }
}

fn hosts() -> Vec<HostFacts> {
    let h = |u: &str, n: &str, p: &str| HostFacts {
        uuid: u.into(),
        hostname: Some(n.into()),
        personality: Some(p.into()),
        administrative: "unlocked".into(),
        configuring: false,
        subfunctions: None,
    };
    vec![
        h(
            "00000000-0000-4000-8000-000000000001",
            "controller-0",
            "controller",
        ),
        h("00000000-0000-4000-8000-000000000002", "worker-0", "worker"),
    ]
}

async fn setup(db: &Db) {
    db.write(|c| {
        let mut r = ConfigStore::new(c);
        ops::ensure_records(&mut r, &initial(), ts(0))?;
        ops::follow(&mut r, &hosts(), ts(1)).map(|_| ())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn records_are_written_once_and_read_back() {
    each_backend(&[SCHEMA], |db| async move {
        setup(&db).await;
        let (d, n, o) = db
            .read(|c| {
                let mut r = ConfigStore::new(c);
                Ok::<_, Error>((ops::dns(&mut r)?, ops::ntp(&mut r)?, ops::oam(&mut r)?))
            })
            .await
            .unwrap();
        assert_eq!(d.nameservers.len(), 2);
        assert_eq!(d.created_at, ts(0));
        assert_eq!(n.ntpservers, ["10.0.0.1"]);
        assert_eq!(o.subnet.to_string(), "10.10.10.0/24");
        assert_eq!(o.c1_ip.unwrap().to_string(), "10.10.10.4");
        assert_eq!(o.end_ip.to_string(), "10.10.10.254");
        // Changes read back as written, IPv6 included.
        let uuid = o.uuid.clone();
        let (o2, _, _) = db
            .write(move |c| {
                let f = OamFields {
                    oam_subnet: Some("fd00:10::/64".into()),
                    oam_gateway_ip: Some("".into()),
                    oam_floating_ip: Some("fd00:10::2".into()),
                    oam_c0_ip: Some("fd00:10::3".into()),
                    oam_c1_ip: Some("fd00:10::4".into()),
                    ..OamFields::default()
                };
                // The DNS servers must be of the OAM network's family first.
                let mut r = ConfigStore::new(c);
                let d = ops::dns(&mut r)?;
                ops::modify_dns(&mut r, &d.uuid, "NC", &[], ts(2))?;
                ops::modify_oam(&mut r, &uuid, &f, false, &hosts(), ts(3))
            })
            .await
            .unwrap();
        let back = db
            .read(|c| ops::oam(&mut ConfigStore::new(c)))
            .await
            .unwrap();
        assert_eq!(back, o2);
        assert_eq!(back.gateway_ip, None);
        assert_eq!(back.updated_at, Some(ts(3)));
        let again = db
            .write(|c| {
                let mut r = ConfigStore::new(c);
                ops::ensure_records(&mut r, &initial(), ts(9))?;
                ops::oam(&mut r)
            })
            .await
            .unwrap();
        assert_eq!(again, o2, "a later start keeps what is stored");
    })
    .await;
}

#[tokio::test]
async fn targets_are_minted_applied_and_a_refused_change_writes_nothing() {
    each_backend(&[SCHEMA], |db| async move {
        setup(&db).await;
        let all = db.read(|c| ConfigStore::new(c).hosts()).await.unwrap();
        assert_eq!(all.len(), 2);
        // Each agent applies its first document.
        for f in hosts() {
            db.write(move |c| {
                let mut r = ConfigStore::new(c);
                let d = ops::document(&mut r, &f, &[])?;
                let rep = Applied {
                    config_uuid: d.config_uuid.to_string(),
                    steps: vec![],
                };
                ops::report_applied(&mut r, &f.uuid, &rep)
            })
            .await
            .unwrap();
        }
        let (fx, before) = db
            .write(|c| {
                let mut r = ConfigStore::new(c);
                let n = ops::ntp(&mut r)?;
                let (_, _, fx) = ops::modify_ntp(&mut r, &n.uuid, "10.0.0.2", &hosts(), ts(5))?;
                Ok::<_, Error>((fx, r.hosts()?))
            })
            .await
            .unwrap();
        assert_eq!(fx.len(), 1, "the controller's 250.001");
        let c0 = before
            .iter()
            .find(|h| h.hostname == "controller-0")
            .unwrap();
        assert!(c0.target.reboot() && c0.out_of_date());
        // A refused change leaves every record and target as it was.
        let refused = db
            .write(|c| {
                let mut r = ConfigStore::new(c);
                let d = ops::dns(&mut r)?;
                ops::modify_dns(&mut r, &d.uuid, "8.8.8.8,not-an-address", &hosts(), ts(6))
            })
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("Invalid DNS nameserver"),
            "{refused}"
        );
        let after = db.read(|c| ConfigStore::new(c).hosts()).await.unwrap();
        assert_eq!(after, before);
        // A failed step is kept with the host.
        let w0 = hosts()[1].clone();
        let failed = db
            .write(move |c| {
                let mut r = ConfigStore::new(c);
                let d = ops::document(&mut r, &w0, &[])?;
                let rep = Applied {
                    config_uuid: d.config_uuid.to_string(),
                    steps: vec![StepResult {
                        step: "hosts".into(),
                        ok: false,
                        message: Some("read-only file system".into()),
                    }],
                };
                ops::report_applied(&mut r, &w0.uuid, &rep).map(|(h, _)| h)
            })
            .await
            .unwrap();
        let back = db
            .read(move |c| ConfigStore::new(c).host(&failed.host_uuid))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back.failure.as_deref(),
            Some("hosts: read-only file system")
        );
        // Forgotten with its host.
        db.write(|c| ops::follow(&mut ConfigStore::new(c), &hosts()[..1], ts(7)))
            .await
            .unwrap();
        assert_eq!(
            db.read(|c| ConfigStore::new(c).hosts())
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn data_networks_are_added_found_modified_and_deleted() {
    use starling_config::NewDataNetwork;
    use starling_config::datanet;
    each_backend(&[SCHEMA], |db| async move {
        let add = |n: NewDataNetwork| {
            let db = db.clone();
            async move {
                db.write(move |c| datanet::add(&mut ConfigStore::new(c), &n))
                    .await
            }
        };
        let flat = add(NewDataNetwork {
            name: Some("physnet0".into()),
            network_type: Some("flat".into()),
            ..NewDataNetwork::default()
        })
        .await
        .unwrap();
        assert_eq!((flat.id, flat.mtu, flat.vxlan.is_none()), (1, 1500, true));
        let vx = add(NewDataNetwork {
            name: Some("vx0".into()),
            network_type: Some("vxlan".into()),
            mtu: Some(1450),
            multicast_group: Some("239.0.1.1".into()),
            port_num: Some(4789),
            ttl: Some(10),
            description: Some("overlay".into()),
            ..NewDataNetwork::default()
        })
        .await
        .unwrap();
        // Found by uuid (any case) or name, read back as written.
        let upper = vx.uuid.to_ascii_uppercase();
        let by_uuid = db
            .read(move |c| datanet::get(&mut ConfigStore::new(c), &upper))
            .await
            .unwrap();
        assert_eq!(by_uuid, vx);
        let by_name = db
            .read(|c| datanet::get(&mut ConfigStore::new(c), "vx0"))
            .await
            .unwrap();
        assert_eq!(
            by_name.vxlan.unwrap().multicast_group.unwrap().to_string(),
            "239.0.1.1"
        );
        // A second of the same name is a conflict; nothing written.
        let e = add(NewDataNetwork {
            name: Some("physnet0".into()),
            network_type: Some("vlan".into()),
            ..NewDataNetwork::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{e}");
        // Modify: MTU and description only.
        let m = db
            .write(|c| {
                datanet::modify(
                    &mut ConfigStore::new(c),
                    "physnet0",
                    &[
                        ("mtu".into(), Some("9000".into())),
                        ("description".into(), Some("d".into())),
                    ],
                )
            })
            .await
            .unwrap();
        assert_eq!((m.mtu, m.description.as_str()), (9000, "d"));
        let e = db
            .write(|c| {
                datanet::modify(
                    &mut ConfigStore::new(c),
                    "physnet0",
                    &[("name".into(), Some("x".into()))],
                )
            })
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("attributes 'name' may not be modified"),
            "{e}"
        );
        // Deleted; ids are never reused.
        db.write(|c| datanet::delete(&mut ConfigStore::new(c), "vx0"))
            .await
            .unwrap();
        let again = add(NewDataNetwork {
            name: Some("vx0".into()),
            network_type: Some("vlan".into()),
            ..NewDataNetwork::default()
        })
        .await
        .unwrap();
        assert_eq!(again.id, 3);
        let all = db
            .read(|c| ConfigStore::new(c).datanetworks())
            .await
            .unwrap();
        let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["physnet0", "vx0"]);
    })
    .await;
}

#[tokio::test]
async fn networks_pools_and_addresses_read_back_and_addresses_are_unique() {
    use starling_config::addressing::{self, MGMT, PoolFields, Slot};
    each_backend(&[SCHEMA], |db| async move {
        setup(&db).await;
        let (pools, nets, addrs) = db
            .read(|c| {
                let mut r = ConfigStore::new(c);
                Ok::<_, Error>((r.pools()?, r.networks()?, r.addresses()?))
            })
            .await
            .unwrap();
        let types: Vec<&str> = nets.iter().map(|n| n.net_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "oam",
                "mgmt",
                "pxeboot",
                "cluster-host",
                "cluster-pod",
                "cluster-service",
                "multicast"
            ]
        );
        assert_eq!(pools.len(), 7);
        let mgmt = pools.iter().find(|p| p.name == "management").unwrap();
        assert_eq!(
            mgmt.slot(Slot::Controller1).unwrap().to_string(),
            "192.168.204.4"
        );
        // One by one, as the lists have them.
        for p in &pools {
            let u = p.uuid.to_ascii_uppercase();
            let one = db
                .read(move |c| ConfigStore::new(c).pool(&u))
                .await
                .unwrap();
            assert_eq!(one.as_ref(), Some(p));
        }
        // worker-0 has its management and cluster-host addresses.
        let mine: Vec<&str> = addrs
            .iter()
            .filter(|a| a.host_uuid.as_deref() == Some("00000000-0000-4000-8000-000000000002"))
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(mine.len(), 2, "{mine:?}");
        assert!(mine.contains(&"worker-0-mgmt") && mine.contains(&"worker-0-cluster-host"));
        let by_host = db
            .read(|c| ConfigStore::new(c).addresses_of_host("00000000-0000-4000-8000-000000000002"))
            .await
            .unwrap();
        let by_host: Vec<&str> = by_host.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(by_host, mine, "found by host as in the list");
        // A free pool: added, changed (IPv6, two ranges), deleted.
        let p = db
            .write(|c| {
                let mut r = ConfigStore::new(c);
                let mut f = PoolFields {
                    name: Some("spare".into()),
                    network: Some("fd00:77::".into()),
                    prefix: Some("64".into()),
                    order: Some("sequential".into()),
                    ranges: Some(vec![
                        ("fd00:77::100".into(), "fd00:77::1ff".into()),
                        ("fd00:77::10".into(), "fd00:77::1f".into()),
                    ]),
                    ..PoolFields::default()
                };
                f.slots[0] = Some("fd00:77::10".into());
                f.slots[3] = Some("fd00:77::1".into());
                addressing::add_pool(&mut r, &f, ts(5))
            })
            .await
            .unwrap();
        let u = p.uuid.clone();
        let back = db
            .read(move |c| ConfigStore::new(c).pool(&u))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back, p);
        assert_eq!(back.ranges[0].0.to_string(), "fd00:77::10");
        let u = p.uuid.clone();
        let sys = addressing::SystemFacts {
            simplex: false,
            unlocked_controller: None,
        };
        let sys2 = sys.clone();
        let changed = db
            .write(move |c| {
                let sys = sys2.clone();
                let mut f = PoolFields::default();
                f.slots[0] = Some("fd00:77::11".into());
                f.slots[3] = Some("none".into());
                addressing::modify_pool(&mut ConfigStore::new(c), &u, &f, &sys, ts(6))
            })
            .await
            .unwrap();
        assert_eq!(changed.pool.slot(Slot::Gateway), None);
        assert_eq!(changed.pool.updated_at, Some(ts(6)));
        // An address twice is refused by the store itself: nothing written.
        let n = db
            .read(|c| ConfigStore::new(c).addresses().map(|a| a.len()))
            .await
            .unwrap();
        let e = db
            .write(|c| {
                let mut r = ConfigStore::new(c);
                let id = r.next_id(starling_config::Seq::Address)?;
                let mut a = r.addresses()?.remove(0);
                a.id = id;
                a.uuid = "00000000-0000-4000-8000-0000000000aa".into();
                r.insert_address(&a)
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(_) | Error::Storage(_)), "{e}");
        let after = db
            .read(|c| ConfigStore::new(c).addresses().map(|a| a.len()))
            .await
            .unwrap();
        assert_eq!(after, n);
        let u = p.uuid.clone();
        db.write(move |c| addressing::delete_pool(&mut ConfigStore::new(c), &u))
            .await
            .unwrap();
        let left = db.read(|c| ConfigStore::new(c).addresses()).await.unwrap();
        assert_eq!(
            left.len(),
            n - 1,
            "the spare pool's floating address went with it"
        );
        let mgmt_net = db
            .read(|c| addressing::network_of_type(&mut ConfigStore::new(c), MGMT))
            .await
            .unwrap()
            .unwrap();
        assert!(mgmt_net.dynamic);
        assert_eq!(mgmt_net.primary_pool_family.as_deref(), Some("IPv4"));
    })
    .await;
}

#[tokio::test]
async fn an_earlier_releases_oam_row_becomes_the_oam_pool() {
    each_backend(&[SCHEMA], |db| async move {
        db.write(|c| {
            c.exec(
                "INSERT INTO cfg_oam (uuid, subnet, gateway_ip, floating_ip, c0_ip, c1_ip, \
                 start_ip, end_ip, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    "0aa00000-0000-4000-8000-000000000001".into(),
                    "10.30.0.0/24".into(),
                    "10.30.0.1".into(),
                    "10.30.0.2".into(),
                    "10.30.0.3".into(),
                    "10.30.0.4".into(),
                    "10.30.0.2".into(),
                    "10.30.0.200".into(),
                    starling_db::Value::Int(ts(0).micros()),
                    starling_db::Value::Null,
                ],
            )?;
            Ok::<_, Error>(())
        })
        .await
        .unwrap();
        setup(&db).await;
        let o = db
            .read(|c| ops::oam(&mut ConfigStore::new(c)))
            .await
            .unwrap();
        assert_eq!(o.uuid, "0aa00000-0000-4000-8000-000000000001");
        assert_eq!(o.subnet.to_string(), "10.30.0.0/24");
        assert_eq!(o.end_ip.to_string(), "10.30.0.200");
        assert_eq!(o.gateway_ip.unwrap().to_string(), "10.30.0.1");
    })
    .await;
}

#[tokio::test]
async fn interfaces_and_their_networks_read_back_and_ports_serve_one_interface() {
    use starling_config::interface::{self, HostView, IfType, InterfaceFields, PortFacts};
    use starling_config::{NewDataNetwork, datanet};
    each_backend(&[SCHEMA], |db| async move {
        setup(&db).await;
        let mut worker = hosts()[1].clone();
        worker.administrative = "locked".into();
        worker.subfunctions = Some("worker".into());
        let ports: Vec<PortFacts> = (3..6)
            .map(|n| PortFacts {
                uuid: format!("22222222-2222-4222-8222-00000000000{n}"),
                name: format!("enp0s{n}"),
                mac: format!("52:54:00:00:00:0{n}"),
                mtu: 1500,
                pciaddr: format!("0000:00:0{n}.0"),
                driver: "virtio_net".into(),
                ..PortFacts::default()
            })
            .collect();
        type Op = std::sync::Arc<
            dyn Fn(&mut dyn ConfigRepo, &HostView<'_>) -> Result<interface::Interface, Error>
                + Send
                + Sync,
        >;
        let change = |f: Op| {
            let (db, worker, ports) = (db.clone(), worker.clone(), ports.clone());
            async move {
                db.write(move |c| {
                    let f = f.clone();
                    ops::on_interfaces(
                        &mut ConfigStore::new(c),
                        &worker,
                        &[hosts()[0].clone(), worker.clone()],
                        &ports,
                        false,
                        true,
                        ts(5),
                        move |r, v| f(r, v),
                    )
                    .map(|(i, _, _)| i)
                })
                .await
            }
        };
        let vlan = change(std::sync::Arc::new(|r, v| {
            interface::add(
                r,
                v,
                &InterfaceFields {
                    ifname: Some("data10".into()),
                    iftype: Some("vlan".into()),
                    ifclass: Some("data".into()),
                    vlan_id: Some(10),
                    imtu: Some(1400),
                    uses: Some(vec!["enp0s3".into()]),
                    ..InterfaceFields::default()
                },
                ts(5),
            )
        }))
        .await
        .unwrap();
        let bond = change(std::sync::Arc::new(|r, v| {
            interface::add(
                r,
                v,
                &InterfaceFields {
                    ifname: Some("bond0".into()),
                    iftype: Some("ae".into()),
                    ifclass: Some("platform".into()),
                    aemode: Some("802.3ad".into()),
                    txhashpolicy: Some("layer3+4".into()),
                    imtu: Some(9000),
                    uses: Some(vec!["enp0s4".into(), "enp0s5".into()]),
                    ..InterfaceFields::default()
                },
                ts(5),
            )
        }))
        .await
        .unwrap();
        let uuid = worker.uuid.clone();
        let all = db
            .read(move |c| ConfigStore::new(c).interfaces_of(&uuid))
            .await
            .unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all.iter().find(|i| i.ifname == "data10"), Some(&vlan));
        assert_eq!(all.iter().find(|i| i.ifname == "bond0"), Some(&bond));
        let eth = all.iter().find(|i| i.ifname == "enp0s4").unwrap().clone();
        assert_eq!((eth.iftype, eth.imtu), (IfType::Ethernet, 9000));
        assert_eq!(bond.uses.len(), 2);
        // The worker's host is given a reboot-required target.
        let uuid = worker.uuid.clone();
        let h = db
            .read(move |c| ConfigStore::new(c).host(&uuid))
            .await
            .unwrap()
            .unwrap();
        assert!(h.target.reboot());
        // The store keeps a port to one interface and a name to one per
        // host, with nothing written when refused.
        for (port, name) in [(eth.port_uuid.clone(), "other"), (None, "bond0")] {
            let mut dup = eth.clone();
            dup.id = 99;
            dup.uuid = "33333333-3333-4333-8333-333333333333".into();
            dup.ifname = name.into();
            dup.port_uuid = port;
            let e = db
                .write(move |c| ConfigStore::new(c).insert_interface(&dup))
                .await
                .unwrap_err();
            assert!(matches!(e, Error::Conflict(_) | Error::Storage(_)), "{e}");
            let again = db
                .read(|c| ConfigStore::new(c).interface_by_id(99))
                .await
                .unwrap();
            assert_eq!(again, None);
        }
        // Assignments read back, and go with their interface.
        db.write(|c| {
            datanet::add(
                &mut ConfigStore::new(c),
                &NewDataNetwork {
                    name: Some("physnet0".into()),
                    network_type: Some("flat".into()),
                    mtu: Some(1400),
                    ..NewDataNetwork::default()
                },
            )
        })
        .await
        .unwrap();
        change(std::sync::Arc::new(|r, v| {
            interface::assign_datanetwork(r, v, "data10", "physnet0", ts(6))?;
            let mgmt = r
                .networks()?
                .into_iter()
                .find(|n| n.net_type == "mgmt")
                .unwrap();
            let hosts = hosts();
            interface::assign_network(r, v, &hosts, "bond0", &mgmt.uuid, ts(6))?;
            Ok(v.find("bond0").unwrap().clone())
        }))
        .await
        .unwrap();
        let (nets, dns) = db
            .read(|c| {
                let mut r = ConfigStore::new(c);
                Ok::<_, Error>((r.interface_networks()?, r.interface_datanetworks()?))
            })
            .await
            .unwrap();
        assert_eq!(nets.len(), 1);
        assert_eq!(nets[0].interface_id, bond.id);
        assert_eq!(dns.len(), 1);
        assert_eq!(dns[0].interface_id, vlan.id);
        // A host's own, found through its interfaces.
        let (w, c) = (worker.uuid.clone(), hosts()[0].uuid.clone());
        let (wn, wd, cn) = db
            .read(move |c2| {
                let mut r = ConfigStore::new(c2);
                Ok::<_, Error>((
                    r.interface_networks_of(&w)?,
                    r.interface_datanetworks_of(&w)?,
                    r.interface_networks_of(&c)?,
                ))
            })
            .await
            .unwrap();
        assert_eq!((wn, wd, cn), (nets.clone(), dns.clone(), Vec::new()));
        change(std::sync::Arc::new(|r, v| {
            interface::delete(r, v, "data10", ts(7))
        }))
        .await
        .unwrap();
        let dns = db
            .read(|c| ConfigStore::new(c).interface_datanetworks())
            .await
            .unwrap();
        assert!(dns.is_empty());
        // The host gone, its interfaces go.
        db.write(|c| ops::follow(&mut ConfigStore::new(c), &hosts()[..1], ts(8)).map(|_| ()))
            .await
            .unwrap();
        let uuid = worker.uuid.clone();
        let all = db
            .read(move |c| {
                let mut r = ConfigStore::new(c);
                Ok::<_, Error>((r.interfaces_of(&uuid)?, r.interface_networks()?))
            })
            .await
            .unwrap();
        assert_eq!(all, (Vec::new(), Vec::new()));
    })
    .await;
}

#[tokio::test]
async fn service_parameters_read_back_and_are_unique_per_section() {
    use starling_config::service_param::{self, KernelParam, KernelParams};
    struct Kernel;
    impl KernelParams for Kernel {
        fn probe(&self, _: &str) -> KernelParam {
            KernelParam::Writable
        }
    }
    each_backend(&[SCHEMA], |db| async move {
        let add = |section: &'static str, kv: Vec<(&str, String)>| {
            let db = db.clone();
            let kv: Vec<(String, String)> =
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            async move {
                db.write(move |c| {
                    service_param::add(
                        &mut ConfigStore::new(c),
                        if section == "host-record" {
                            "dns"
                        } else {
                            "platform"
                        },
                        Some(section),
                        &kv,
                        &Kernel,
                        ts(1),
                    )
                })
                .await
            }
        };
        let made = add(
            "sysctl",
            vec![
                ("vm.swappiness", "10".into()),
                ("net.ipv4.ip_forward", "1".into()),
            ],
        )
        .await
        .unwrap();
        let long = format!("{}.example,10.0.0.9", "a".repeat(4000));
        let e = add("host-record", vec![("r1", long)]).await.unwrap_err();
        assert!(e.to_string().contains("invalid domain name"), "{e}");
        add(
            "host-record",
            vec![("r1", "registry.local,10.0.0.9".into())],
        )
        .await
        .unwrap();
        let all = db
            .read(|c| ConfigStore::new(c).service_parameters())
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], made[0]);
        // The store keeps (service, section, name) unique: nothing written.
        let mut dup = made[0].clone();
        dup.id = 99;
        dup.uuid = "44444444-4444-4444-8444-444444444444".into();
        let e = db
            .write(move |c| ConfigStore::new(c).insert_service_parameter(&dup))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Conflict(_) | Error::Storage(_)), "{e}");
        let uuid = made[0].uuid.clone();
        let m = db
            .write(move |c| {
                service_param::modify(
                    &mut ConfigStore::new(c),
                    &uuid,
                    None,
                    Some("20"),
                    &Kernel,
                    ts(2),
                )
            })
            .await
            .unwrap();
        let uuid = made[1].uuid.clone();
        db.write(move |c| service_param::delete(&mut ConfigStore::new(c), &uuid))
            .await
            .unwrap();
        let all = db
            .read(|c| ConfigStore::new(c).service_parameters())
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], m);
        assert_eq!(all[0].updated_at, Some(ts(2)));
    })
    .await;
}
