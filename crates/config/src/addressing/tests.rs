use super::*;
use crate::mem::Mem;

fn t(s: i64) -> Timestamp {
    Timestamp::from_micros(s * 1_000_000)
}

fn fields(name: &str, network: &str, prefix: &str) -> PoolFields {
    PoolFields {
        name: Some(name.into()),
        network: Some(network.into()),
        prefix: Some(prefix.into()),
        ..PoolFields::default()
    }
}

fn ranges(r: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        r.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    )
}

fn err(r: Result<impl std::fmt::Debug, Error>) -> String {
    r.unwrap_err().to_string()
}

/// `network-add` of type `t` over pool `pool`.
fn attach(
    m: &mut Mem,
    t: &str,
    pool: &str,
    simplex: bool,
) -> Result<(Network, AddressPool), Error> {
    add_network(
        m,
        &NewNetwork {
            net_type: Some(t.into()),
            pool_uuid: Some(pool.into()),
            ..NewNetwork::default()
        },
        simplex,
    )
}

fn duplex() -> SystemFacts {
    SystemFacts {
        simplex: false,
        unlocked_controller: Some("controller-0".into()),
    }
}

/// The bootstrap networks of a duplex system.
fn cloud() -> Mem {
    let mut m = Mem::default();
    let init = InitialNetworks::default();
    for (ty, s) in [
        (MGMT, &init.mgmt),
        (CLUSTER_HOST, &init.cluster_host),
        (CLUSTER_POD, &init.cluster_pod),
    ] {
        ensure_network(&mut m, ty, s, false, t(0)).unwrap();
    }
    m
}

#[test]
fn a_pools_subnet_ranges_and_addresses_are_checked_as_sysinv_checks_them() {
    let mut m = Mem::default();
    let add = |m: &mut Mem, f: PoolFields| add_pool(m, &f, t(0));
    assert_eq!(
        err(add(&mut m, fields("", "10.0.0.0", "24"))),
        "Name must not be an empty string"
    );
    let long = "n".repeat(256);
    assert!(err(add(&mut m, fields(&long, "10.0.0.0", "24"))).contains("at most 255"));
    assert!(err(add(&mut m, fields("a\u{0}b", "10.0.0.0", "24"))).contains("control"));
    assert_eq!(
        err(add(&mut m, fields("p", "10.0.0.0", "0"))),
        "Address prefix must be greater than 1"
    );
    assert_eq!(
        err(add(&mut m, fields("p", "10.0.0.1", "24"))),
        "Host bits must be zero"
    );
    assert_eq!(
        err(add(&mut m, fields("p", "10.0.0.0", "33"))),
        "Invalid IP address and prefix"
    );
    assert_eq!(
        err(add(&mut m, fields("p", "0.0.0.0", "8"))),
        "Network must not be null"
    );
    assert!(
        err(add(&mut m, fields("p", "10.0.0.0", "31"))).contains("at least size /30"),
        "a /31 is too small"
    );
    let e = err(add(
        &mut m,
        PoolFields {
            order: Some("lifo".into()),
            ..fields("p", "10.0.0.0", "24")
        },
    ));
    assert!(e.contains("must be one of: sequential, random"), "{e}");
    for (r, want) in [
        (
            ("10.0.1.1", "10.0.1.9"),
            "is not within network 10.0.0.0/24",
        ),
        (("10.0.0.9", "10.0.0.1"), "must be less than end address"),
        (("10.0.0.0", "10.0.0.9"), "cannot include network address"),
        (
            ("10.0.0.9", "10.0.0.255"),
            "cannot include broadcast address",
        ),
        (("fd00::1", "fd00::9"), "IP version must match"),
    ] {
        let e = err(add(
            &mut m,
            PoolFields {
                ranges: ranges(&[r]),
                ..fields("p", "10.0.0.0", "24")
            },
        ));
        assert!(e.contains(want), "{r:?}: {e}");
    }
    let e = err(add(
        &mut m,
        PoolFields {
            ranges: ranges(&[("10.0.0.1", "10.0.0.20"), ("10.0.0.10", "10.0.0.30")]),
            ..fields("p", "10.0.0.0", "24")
        },
    ));
    assert!(e.contains("already contained in range"), "{e}");
    let mut two = fields("p", "10.0.0.0", "24");
    two.ranges = ranges(&[("10.0.0.100", "10.0.0.200"), ("10.0.0.2", "10.0.0.20")]);
    two.slots[0] = Some("10.0.0.150".into());
    two.slots[1] = Some("10.0.0.150".into());
    let e = err(add(&mut m, two.clone()));
    assert_eq!(
        e,
        "controller0_address can not be the same as floating_address: 10.0.0.150"
    );
    two.slots[1] = Some("10.0.0.250".into());
    let e = err(add(&mut m, two.clone()));
    assert!(
        e.contains("is not in range: 10.0.0.2-10.0.0.20,10.0.0.100-10.0.0.200"),
        "{e}"
    );
    // In one range of two is enough (sysinv wants it in every range).
    two.slots[1] = Some("10.0.0.3".into());
    two.slots[3] = Some("10.0.0.1".into());
    let p = add(&mut m, two).unwrap();
    assert_eq!(p.order, Order::Random);
    assert_eq!(
        p.ranges[0],
        ("10.0.0.2".parse().unwrap(), "10.0.0.20".parse().unwrap()),
        "sorted"
    );
    assert_eq!(p.slot(Slot::Gateway), Some("10.0.0.1".parse().unwrap()));
    assert_eq!(m.addresses.len(), 3, "each named address is a row");
    assert!(m.addresses.iter().any(|a| a.name == "p-floating_address"));
    let e = err(add(&mut m, fields("p", "10.1.0.0", "24")));
    assert_eq!(e, "Address pool p already exists");
    // An address another pool holds.
    let mut q = fields("q", "10.0.0.0", "16");
    q.slots[0] = Some("10.0.0.3".into());
    let e = err(add(&mut m, q));
    assert!(
        e.contains("already assigned to the following address pool"),
        "{e}"
    );
    // Default range: the usable addresses.
    let v6 = add(&mut m, fields("v6", "fd00::", "64")).unwrap();
    assert_eq!(v6.ranges[0].0.to_string(), "fd00::1");
    assert_eq!(v6.ranges[0].1.to_string(), "fd00::ffff:ffff:ffff:fffe");
}

#[test]
fn bootstrap_networks_carry_the_controllers_addresses() {
    let mut m = cloud();
    let mgmt = pools_of_type(&mut m, MGMT).unwrap().remove(0);
    assert_eq!(mgmt.name, "management");
    assert_eq!(
        mgmt.slot(Slot::Floating).unwrap().to_string(),
        "192.168.204.2"
    );
    assert_eq!(
        mgmt.slot(Slot::Controller0).unwrap().to_string(),
        "192.168.204.3"
    );
    assert_eq!(
        mgmt.slot(Slot::Controller1).unwrap().to_string(),
        "192.168.204.4"
    );
    let names: Vec<&str> = m.addresses.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&"controller-mgmt"), "{names:?}");
    assert!(names.contains(&"controller-1-cluster-host"), "{names:?}");
    let pod = pools_of_type(&mut m, CLUSTER_POD).unwrap().remove(0);
    assert_eq!(
        pod.slots, [None; 4],
        "no controllers' addresses on the pod network"
    );
    let net = network_of_type(&mut m, MGMT).unwrap().unwrap();
    assert!(net.dynamic);
    assert_eq!(net.primary_pool_family.as_deref(), Some("IPv4"));
    // Again: nothing new.
    let before = (m.pools.len(), m.addresses.len());
    ensure_network(&mut m, MGMT, "10.9.0.0/24", false, t(1)).unwrap();
    assert_eq!((m.pools.len(), m.addresses.len()), before);
}

#[test]
fn hosts_are_given_addresses_renamed_and_taken_back() {
    let mut m = cloud();
    let hosts = |names: &[(&str, &str)]| -> Vec<AddressedHost> {
        names
            .iter()
            .map(|(u, h)| AddressedHost {
                uuid: u.to_string(),
                hostname: h.to_string(),
            })
            .collect()
    };
    let all = hosts(&[
        ("c0", "controller-0"),
        ("w0", "worker-0"),
        ("w1", "worker-1"),
    ]);
    let (changed, short) = follow_hosts(&mut m, &all).unwrap();
    assert!(changed);
    assert!(short.is_empty());
    let w0 = host_address(&mut m, &all[1], MGMT).unwrap().unwrap();
    let w1 = host_address(&mut m, &all[2], MGMT).unwrap().unwrap();
    assert_ne!(w0, w1);
    let mgmt = pools_of_type(&mut m, MGMT).unwrap().remove(0);
    for a in [w0, w1] {
        assert!(mgmt.in_ranges(a), "{a}");
        assert!(
            mgmt.slots.iter().flatten().all(|(_, s)| *s != a),
            "{a} is a controller's"
        );
    }
    assert_eq!(
        host_address(&mut m, &all[0], MGMT).unwrap(),
        mgmt.slot(Slot::Controller0),
        "controller-0's is the pool's"
    );
    assert!(
        host_address(&mut m, &all[1], CLUSTER_HOST)
            .unwrap()
            .is_some()
    );
    // Again: the same addresses.
    let (changed, _) = follow_hosts(&mut m, &all).unwrap();
    assert!(!changed);
    assert_eq!(host_address(&mut m, &all[1], MGMT).unwrap(), Some(w0));
    // Renamed, then gone.
    let renamed = hosts(&[("c0", "controller-0"), ("w0", "compute-0")]);
    follow_hosts(&mut m, &renamed).unwrap();
    assert!(m.addresses.iter().any(|a| a.name == "compute-0-mgmt"));
    assert!(!m.addresses.iter().any(|a| a.name.starts_with("worker-")));
    assert_eq!(host_address(&mut m, &renamed[1], MGMT).unwrap(), Some(w0));
}

#[test]
fn a_small_pool_runs_out_and_says_so() {
    let mut m = Mem::default();
    let mut f = fields("tiny", "10.5.0.0", "29");
    f.ranges = ranges(&[("10.5.0.2", "10.5.0.6")]);
    f.order = Some("sequential".into());
    let p = add_pool(&mut m, &f, t(0)).unwrap();
    attach(&mut m, MGMT, &p.uuid, false).unwrap();
    let p = pool(&mut m, &p.uuid).unwrap();
    let got: Vec<String> = [Slot::Floating, Slot::Controller0, Slot::Controller1]
        .iter()
        .map(|s| p.slot(*s).unwrap().to_string())
        .collect();
    assert_eq!(got, ["10.5.0.2", "10.5.0.3", "10.5.0.4"], "lowest first");
    let hosts: Vec<AddressedHost> = (0..3)
        .map(|i| AddressedHost {
            uuid: format!("w{i}"),
            hostname: format!("worker-{i}"),
        })
        .collect();
    let (_, short) = follow_hosts(&mut m, &hosts).unwrap();
    assert_eq!(short.len(), 1, "two free addresses for three hosts");
    assert_eq!(short[0].1, "Address pool tiny has no available addresses");
    let given: Vec<String> = m
        .addresses
        .iter()
        .filter(|a| a.host_uuid.is_some())
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(given, ["10.5.0.5", "10.5.0.6"]);
}

#[test]
fn the_next_free_address_skips_what_is_taken_without_walking_the_range() {
    let p = AddressPool {
        id: 1,
        uuid: "u".into(),
        name: "p".into(),
        network: "fd00::".parse().unwrap(),
        prefix: 64,
        order: Order::Sequential,
        ranges: vec![(
            "fd00::1".parse().unwrap(),
            "fd00::ffff:ffff:ffff:fffe".parse().unwrap(),
        )],
        slots: [None; 4],
        created_at: t(0),
        updated_at: None,
    };
    let used: Vec<u128> = [1u128, 2, 4]
        .iter()
        .map(|x| bits("fd00::".parse().unwrap()).0 + x)
        .collect();
    assert_eq!(
        next_free(&p, &used, Order::Sequential, "")
            .unwrap()
            .to_string(),
        "fd00::3"
    );
    for seed in ["a", "b", "worker-7-mgmt"] {
        let a = next_free(&p, &used, Order::Random, seed).unwrap();
        assert!(p.in_ranges(a) && !used.contains(&bits(a).0), "{a}");
    }
    // Two ranges, the first full.
    let mut q = p.clone();
    q.ranges = vec![
        ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap()),
        ("fd00::10".parse().unwrap(), "fd00::11".parse().unwrap()),
    ];
    assert_eq!(
        next_free(&q, &used, Order::Sequential, "")
            .unwrap()
            .to_string(),
        "fd00::10"
    );
}

#[test]
fn network_pools_are_read_only_but_oam_and_overlaps_are_refused() {
    let mut m = cloud();
    let mgmt = pools_of_type(&mut m, MGMT).unwrap().remove(0);
    let e = err(modify_pool(
        &mut m,
        &mgmt.uuid,
        &PoolFields {
            order: Some("sequential".into()),
            ..PoolFields::default()
        },
        &duplex(),
        t(1),
    ));
    assert_eq!(
        e,
        "Address pool is read-only and cannot be modified or removed"
    );
    // A simplex system's management pool, its controller locked.
    let locked = SystemFacts {
        simplex: true,
        unlocked_controller: None,
    };
    let mut g = PoolFields::default();
    g.slots[3] = Some("192.168.204.1".into());
    let c = modify_pool(&mut m, &mgmt.uuid, &g, &locked, t(1)).unwrap();
    assert_eq!(c.network.unwrap().net_type, MGMT);
    assert!(
        m.addresses
            .iter()
            .any(|a| a.name == "controller-gateway-mgmt")
    );
    let unlocked = SystemFacts {
        simplex: true,
        unlocked_controller: Some("controller-0".into()),
    };
    let e = err(modify_pool(&mut m, &mgmt.uuid, &g, &unlocked, t(1)));
    assert!(
        e.contains("Host controller-0 is in administrative state = unlocked"),
        "{e}"
    );
    // Required addresses stay.
    let mut clear = PoolFields::default();
    clear.slots[0] = Some("none".into());
    let e = err(modify_pool(&mut m, &mgmt.uuid, &clear, &locked, t(1)));
    assert_eq!(e, "The field must not be empty: floating_address");
    // A free pool may not become a network's over another's addresses.
    let p = add_pool(&mut m, &fields("other", "192.168.204.0", "25"), t(2)).unwrap();
    let e = err(attach(&mut m, "storage", &p.uuid, false));
    assert!(
        e.starts_with("Address pool 192.168.204.0/25 overlaps with: 'management'"),
        "{e}"
    );
    assert!(e.ends_with("assigned to mgmt network"), "{e}");
    // Pod and host networks may overlap.
    let p = add_pool(&mut m, &fields("svc", "192.168.206.0", "25"), t(2)).unwrap();
    attach(&mut m, CLUSTER_SERVICE, &p.uuid, false).unwrap();
    let e = err(attach(&mut m, CLUSTER_SERVICE, &p.uuid, false));
    assert_eq!(e, "Network of type cluster-service already exists.");
    let e = err(delete_pool(&mut m, &mgmt.uuid));
    assert!(e.contains("primary for the following network: mgmt"), "{e}");
    let mgmt_net = network_of_type(&mut m, MGMT).unwrap().unwrap();
    let e = err(delete_network(&mut m, &mgmt_net.uuid, &duplex()));
    assert!(e.contains("after initial configuration completion"), "{e}");
}

#[test]
fn a_free_pool_changes_and_keeps_its_hosts_addresses_inside() {
    let mut m = Mem::default();
    let mut f = fields("p", "10.7.0.0", "24");
    f.ranges = ranges(&[("10.7.0.10", "10.7.0.100")]);
    let p = add_pool(&mut m, &f, t(0)).unwrap();
    attach(&mut m, "storage", &p.uuid, true).unwrap();
    // Storage is not host-addressed here: give one by hand, as an
    // interface would be.
    let id = m.addresses.iter().map(|a| a.id).max().unwrap() + 1;
    m.addresses.push(Address {
        id,
        uuid: "a".into(),
        name: "worker-0-storage".into(),
        address: "10.7.0.50".parse().unwrap(),
        prefix: 24,
        pool_id: Some(p.id),
        host_uuid: Some("w0".into()),
    });
    let sx = SystemFacts {
        simplex: true,
        unlocked_controller: None,
    };
    let e = err(modify_pool(
        &mut m,
        &p.uuid,
        &PoolFields {
            ranges: ranges(&[("10.7.0.10", "10.7.0.40")]),
            ..PoolFields::default()
        },
        &sx,
        t(1),
    ));
    assert!(
        e.contains("excludes addresses that have already been allocated: 10.7.0.50/24"),
        "{e}"
    );
    let c = modify_pool(
        &mut m,
        &p.uuid,
        &PoolFields {
            name: Some("storage-pool".into()),
            ranges: ranges(&[("10.7.0.10", "10.7.0.60")]),
            ..PoolFields::default()
        },
        &sx,
        t(1),
    )
    .unwrap();
    assert_eq!(c.pool.name, "storage-pool");
    assert_eq!(c.pool.updated_at, Some(t(1)));
    // Deleting a pool takes its addresses.
    let free = add_pool(&mut m, &fields("free", "10.8.0.0", "24"), t(2)).unwrap();
    let mut s = PoolFields::default();
    s.slots[0] = Some("10.8.0.9".into());
    modify_pool(&mut m, &free.uuid, &s, &duplex(), t(3)).unwrap();
    assert!(
        m.addresses
            .iter()
            .any(|a| a.name == "free-floating_address")
    );
    delete_pool(&mut m, &free.uuid).unwrap();
    assert!(!m.addresses.iter().any(|a| a.name.starts_with("free-")));
    assert!(pool(&mut m, &free.uuid).is_err());
}

#[test]
fn two_named_addresses_may_trade_places_in_one_change() {
    let mut m = Mem::default();
    let mut f = fields("p", "10.9.0.0", "24");
    f.slots[1] = Some("10.9.0.3".into());
    f.slots[2] = Some("10.9.0.4".into());
    let p = add_pool(&mut m, &f, t(0)).unwrap();
    let mut swap = PoolFields::default();
    swap.slots[1] = Some("10.9.0.4".into());
    swap.slots[2] = Some("10.9.0.3".into());
    let c = modify_pool(&mut m, &p.uuid, &swap, &duplex(), t(1)).unwrap();
    assert_eq!(
        c.pool.slot(Slot::Controller0).unwrap().to_string(),
        "10.9.0.4"
    );
    assert_eq!(
        c.pool.slot(Slot::Controller1).unwrap().to_string(),
        "10.9.0.3"
    );
    assert_eq!(m.addresses.len(), 2, "no row left behind");
    assert_eq!(pool(&mut m, &p.uuid).unwrap(), c.pool);
    // But not onto an address a kept one holds.
    let mut onto = PoolFields::default();
    onto.slots[0] = Some("10.9.0.4".into());
    let e = err(modify_pool(&mut m, &p.uuid, &onto, &duplex(), t(2)));
    assert_eq!(
        e,
        "controller0_address can not be the same as floating_address: 10.9.0.4"
    );
}
