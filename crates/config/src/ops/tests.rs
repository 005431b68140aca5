use super::*;

use crate::mem::Mem;

fn t(s: i64) -> Timestamp {
    Timestamp::from_micros(s * 1_000_000)
}

fn initial() -> Initial {
    Initial {
        nameservers: "8.8.8.8,8.8.4.4".into(),
        ntpservers: String::new(),
        oam: OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_gateway_ip: Some("10.10.10.1".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            oam_c0_ip: Some("10.10.10.3".into()),
            oam_c1_ip: Some("10.10.10.4".into()),
            ..OamFields::default()
        },
        networks: InitialNetworks::default(),
        simplex: false,
    }
}

fn host(uuid: &str, name: Option<&str>, personality: &str) -> HostFacts {
    HostFacts {
        uuid: uuid.into(),
        hostname: name.map(String::from),
        personality: name.map(|_| personality.to_string()),
        administrative: "unlocked".into(),
        configuring: false,
        subfunctions: None,
    }
}

fn cloud() -> (Mem, Vec<HostFacts>) {
    let mut m = Mem::default();
    ensure_records(&mut m, &initial(), t(0)).unwrap();
    let hosts = vec![
        host("c0", Some("controller-0"), "controller"),
        host("w0", Some("worker-0"), "worker"),
        host("new", None, ""),
    ];
    let (changed, fx) = follow(&mut m, &hosts, t(1)).unwrap();
    assert_eq!(changed.len(), 2, "the provisioned hosts only");
    assert!(fx.is_empty());
    (m, hosts)
}

/// The agent of `uuid` applies its document: all of it, or the runtime
/// part when the document says so.
fn apply(m: &mut Mem, hosts: &[HostFacts], uuid: &str) -> (Document, Vec<AlarmEffect>) {
    let f = hosts.iter().find(|h| h.uuid == uuid).unwrap();
    let d = document(m, f, &[]).unwrap();
    let applied = if d.full {
        d.config_uuid
    } else {
        d.config_uuid.with_reboot(false)
    };
    let r = Applied {
        config_uuid: applied.to_string(),
        steps: vec![StepResult {
            step: "dns".into(),
            ok: true,
            message: None,
        }],
    };
    let (_, fx) = report_applied(m, uuid, &r).unwrap();
    (d, fx)
}

fn sets(fx: &[AlarmEffect]) -> Vec<String> {
    fx.iter()
        .map(|e| match e {
            AlarmEffect::Set(a) => format!("set {} {}", a.entity_instance_id, a.reason_text),
            AlarmEffect::Clear {
                entity_instance_id, ..
            } => format!("clear {entity_instance_id}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn the_first_records_are_the_bootstrap_values_and_kept_afterwards() {
    let (mut m, _) = cloud();
    let d = dns(&mut m).unwrap();
    assert_eq!(d.nameservers.len(), 2);
    let mut other = initial();
    other.nameservers = "1.1.1.1".into();
    ensure_records(&mut m, &other, t(5)).unwrap();
    assert_eq!(
        dns(&mut m).unwrap(),
        d,
        "a later start keeps what is stored"
    );
    let mut bad = initial();
    bad.oam.oam_subnet = Some("nonsense".into());
    let e = ensure_records(&mut Mem::default(), &bad, t(0)).unwrap_err();
    assert!(e.to_string().contains("the first OAM network"), "{e}");
}

#[test]
fn a_runtime_change_is_out_of_date_until_applied_then_clean() {
    let (mut m, hosts) = cloud();
    // First applies: no alarm ever raised.
    for u in ["c0", "w0"] {
        let (d, fx) = apply(&mut m, &hosts, u);
        assert!(d.full);
        assert!(fx.is_empty());
    }
    let uuid = dns(&mut m).unwrap().uuid;
    let (d, _, fx) = modify_dns(&mut m, &uuid, "1.1.1.1", &hosts, t(10)).unwrap();
    assert_eq!(d.nameservers, ["1.1.1.1".parse::<IpAddr>().unwrap()]);
    let s = sets(&fx);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(s[0].starts_with(
        "set host=controller-0 controller-0 Configuration is out-of-date. (applied: "
    ));
    for u in ["c0", "w0"] {
        let h = m.hosts[u].clone();
        assert!(h.out_of_date());
        assert!(!h.target.reboot());
    }
    let (doc, fx) = apply(&mut m, &hosts, "w0");
    assert_eq!(doc.nameservers, d.nameservers);
    assert_eq!(
        doc.ntpservers.unwrap(),
        ["192.168.204.3", "192.168.204.4"],
        "the other hosts follow the controllers"
    );
    assert_eq!(sets(&fx), ["clear host=worker-0"]);
    assert!(!m.hosts["w0"].out_of_date());
    // A wrong uuid is sysinv's 404; bad input writes nothing.
    let e = modify_dns(&mut m, "nope", "1.1.1.1", &hosts, t(11)).unwrap_err();
    assert!(matches!(e, Error::NotFound(_)));
    let before = m.hosts.clone();
    assert!(modify_dns(&mut m, &uuid, "1.1.1.1,x", &hosts, t(11)).is_err());
    assert_eq!(m.hosts, before);
}

#[test]
fn ntp_needs_the_controllers_locked_and_unlocked() {
    let (mut m, hosts) = cloud();
    for u in ["c0", "w0"] {
        apply(&mut m, &hosts, u);
    }
    let uuid = ntp(&mut m).unwrap().uuid;
    let (_, _, fx) = modify_ntp(&mut m, &uuid, "0.pool.ntp.org,10.0.0.1", &hosts, t(10)).unwrap();
    assert_eq!(sets(&fx).len(), 1, "the controller only: {:?}", sets(&fx));
    assert!(m.hosts["c0"].target.reboot());
    assert!(!m.hosts["w0"].out_of_date());
    // The agent may apply the runtime part only, and stays out of date.
    let (doc, fx) = apply(&mut m, &hosts, "c0");
    assert!(!doc.full);
    assert_eq!(doc.ntpservers.unwrap(), ["0.pool.ntp.org", "10.0.0.1"]);
    // Still raised, its reason naming what it applied now.
    let s = sets(&fx);
    assert_eq!(s.len(), 1);
    assert!(
        s[0].contains(&format!(
            "(applied: {} target",
            m.hosts["c0"].target.with_reboot(false)
        )),
        "{s:?}"
    );
    assert!(m.hosts["c0"].out_of_date());
    // A runtime change meanwhile keeps the reboot owed.
    let dns_uuid = dns(&mut m).unwrap().uuid;
    modify_dns(&mut m, &dns_uuid, "9.9.9.9", &hosts, t(12)).unwrap();
    assert!(m.hosts["c0"].target.reboot());
    assert!(!document(&mut m, &hosts[0], &[]).unwrap().full);
    // Its unlock waits for it: the whole document may be applied now.
    let mut unlocking = hosts.clone();
    unlocking[0].configuring = true;
    let (doc, fx) = apply(&mut m, &unlocking, "c0");
    assert!(doc.full);
    assert_eq!(sets(&fx), ["clear host=controller-0"]);
    assert!(!m.hosts["c0"].out_of_date());
    // Unlocked since: the document stays whole (never back to a part).
    assert!(document(&mut m, &hosts[0], &[]).unwrap().full);
}

#[test]
fn a_failed_step_keeps_the_host_out_of_date_with_its_reason() {
    let (mut m, hosts) = cloud();
    apply(&mut m, &hosts, "w0");
    let uuid = dns(&mut m).unwrap().uuid;
    modify_dns(&mut m, &uuid, "1.1.1.1", &hosts, t(10)).unwrap();
    let target = m.hosts["w0"].target;
    let r = Applied {
        config_uuid: target.to_string(),
        steps: vec![
            StepResult {
                step: "dns".into(),
                ok: true,
                message: None,
            },
            StepResult {
                step: "hosts".into(),
                ok: false,
                message: Some("/etc/hosts: read-only file system\nmore".into()),
            },
        ],
    };
    let (h, fx) = report_applied(&mut m, "w0", &r).unwrap();
    assert!(h.out_of_date());
    assert_eq!(
        h.failure.as_deref(),
        Some("hosts: /etc/hosts: read-only file system")
    );
    assert!(sets(&fx)[0].ends_with("Apply failed: hosts: /etc/hosts: read-only file system"));
    let (_, fx) = apply(&mut m, &hosts, "w0");
    assert_eq!(sets(&fx), ["clear host=worker-0"]);
    assert_eq!(m.hosts["w0"].failure, None);
    let bad = Applied {
        config_uuid: "yesterday".into(),
        steps: vec![],
    };
    assert!(matches!(
        report_applied(&mut m, "w0", &bad),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        report_applied(&mut m, "new", &bad),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn hosts_are_followed_as_inventory_has_them() {
    let (mut m, mut hosts) = cloud();
    apply(&mut m, &hosts, "w0");
    let uuid = dns(&mut m).unwrap().uuid;
    modify_dns(&mut m, &uuid, "1.1.1.1", &hosts, t(10)).unwrap();
    // Renamed: the alarm moves.
    hosts[1].hostname = Some("compute-7".into());
    let (changed, fx) = follow(&mut m, &hosts, t(11)).unwrap();
    assert_eq!(changed.len(), 1);
    let s = sets(&fx);
    assert_eq!(s[0], "clear host=worker-0");
    assert!(s[1].starts_with("set host=compute-7 compute-7 Configuration"));
    // Gone: forgotten, its alarm cleared.
    hosts.remove(1);
    let (_, fx) = follow(&mut m, &hosts, t(12)).unwrap();
    assert_eq!(sets(&fx), ["clear host=compute-7"]);
    assert!(!m.hosts.contains_key("w0"));
    // Provisioned later: tracked then.
    hosts[1].hostname = Some("worker-1".into());
    hosts[1].personality = Some("worker".into());
    let (changed, _) = follow(&mut m, &hosts, t(13)).unwrap();
    assert_eq!(changed[0].hostname, "worker-1");
    assert_eq!(follow(&mut m, &hosts, t(14)).unwrap().0, vec![]);
}

#[test]
fn the_oam_network_changes_every_hosts_file() {
    let (mut m, hosts) = cloud();
    let o = oam(&mut m).unwrap();
    let f = OamFields {
        oam_floating_ip: Some("10.10.10.9".into()),
        ..OamFields::default()
    };
    let (after, _, _) = modify_oam(&mut m, &o.uuid, &f, false, &hosts, t(3)).unwrap();
    assert_eq!(after.created_at, o.created_at);
    let d = document(&mut m, &hosts[1], &[]).unwrap();
    assert!(d.hosts.contains(&(
        "10.10.10.9".parse().unwrap(),
        vec!["oamcontroller".to_string()]
    )));
    let v6 = OamFields {
        oam_subnet: Some("fd00::/64".into()),
        oam_floating_ip: Some("fd00::2".into()),
        oam_gateway_ip: Some("fd00::1".into()),
        oam_c0_ip: Some("fd00::3".into()),
        oam_c1_ip: Some("fd00::4".into()),
        ..OamFields::default()
    };
    let e = modify_oam(&mut m, &o.uuid, &v6, false, &hosts, t(4)).unwrap_err();
    assert!(e.to_string().contains("IP version mismatch"), "{e}");
}

#[test]
fn hosts_files_name_the_controllers_and_the_host_itself() {
    let (mut m, hosts) = cloud();
    let names = |d: &Document| -> Vec<(String, String)> {
        d.hosts
            .iter()
            .flat_map(|(a, n)| n.iter().map(move |n| (n.clone(), a.to_string())))
            .collect()
    };
    let w = names(&document(&mut m, &hosts[1], &[]).unwrap());
    for want in [
        ("controller", "192.168.204.2"),
        ("controller-0", "192.168.204.3"),
        ("controller-1", "192.168.204.4"),
        ("pxecontroller", "169.254.202.2"),
        ("oamcontroller", "10.10.10.2"),
        ("controller-cluster-host", "192.168.206.2"),
        ("controller-0-cluster-host", "192.168.206.3"),
    ] {
        assert!(
            w.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {w:?}"
        );
    }
    let own = w
        .iter()
        .find(|(n, _)| n == "worker-0")
        .expect("its own name");
    let own_ch = w.iter().find(|(n, _)| n == "worker-0-cluster-host");
    assert!(own.1.starts_with("192.168.204."), "{own:?}");
    assert!(own_ch.is_some_and(|(_, a)| a.starts_with("192.168.206.")));
    let c = names(&document(&mut m, &hosts[0], &[]).unwrap());
    assert!(
        !c.iter()
            .any(|(n, _)| n == "controller-0-mgmt" || n == "worker-0")
    );
}

#[test]
fn an_earlier_releases_oam_record_becomes_the_oam_pool_with_its_uuid() {
    let mut m = Mem::default();
    let old = platform::oam(
        None,
        &OamFields {
            oam_subnet: Some("10.20.0.0/24".into()),
            oam_floating_ip: Some("10.20.0.5".into()),
            oam_c0_ip: Some("10.20.0.6".into()),
            oam_c1_ip: Some("10.20.0.7".into()),
            oam_gateway_ip: Some("10.20.0.1".into()),
            ..OamFields::default()
        },
        false,
        "3a1c2b9e-0000-4000-8000-000000000001".into(),
        t(0),
    )
    .unwrap();
    m.oam = Some(old.clone());
    // A host that release tracked, current.
    let mut h = HostConfig::new("w0", "worker-0", t(0));
    h.applied = Some(h.target.to_string());
    m.hosts.insert("w0".into(), h.clone());
    let fx = ensure_records(&mut m, &initial(), t(5)).unwrap();
    assert!(
        m.hosts["w0"].out_of_date(),
        "its document changed: a new target"
    );
    assert!(
        matches!(&fx[..], [AlarmEffect::Set(a)] if a.entity_instance_id == "host=worker-0"),
        "{fx:?}"
    );
    assert!(!m.hosts["w0"].target.reboot());
    ensure_records(&mut m, &initial(), t(6)).unwrap();
    let again = m.hosts["w0"].target;
    assert_eq!(ensure_records(&mut m, &initial(), t(7)).unwrap(), []);
    assert_eq!(m.hosts["w0"].target, again, "once only");
    let now = oam(&mut m).unwrap();
    assert_eq!(now, old, "kept whole, uuid and all");
    let p = addressing::oam_pool(&mut m).unwrap().unwrap();
    assert_eq!(p.uuid, old.uuid);
    assert!(
        m.addresses
            .iter()
            .any(|a| a.name == "controller-gateway-oam")
    );
}

#[test]
fn a_management_pool_change_asks_every_host_for_a_lock_and_unlock() {
    let (mut m, mut hosts) = cloud();
    for h in &mut hosts {
        h.administrative = "locked".into();
    }
    let mgmt = addressing::pools_of_type(&mut m, addressing::MGMT)
        .unwrap()
        .remove(0);
    let mut f = PoolFields::default();
    f.slots[3] = Some("192.168.204.1".into());
    let e = modify_pool(&mut m, &mgmt.uuid, &f, false, &hosts, t(3)).unwrap_err();
    assert!(e.to_string().contains("read-only"), "duplex: {e}");
    let (c, changed, _) = modify_pool(&mut m, &mgmt.uuid, &f, true, &hosts, t(3)).unwrap();
    assert_eq!(
        c.pool.slot(Slot::Gateway).unwrap().to_string(),
        "192.168.204.1"
    );
    assert_eq!(changed.len(), 2);
    assert!(changed.iter().all(|h| h.target.reboot()));
    // A pool of no network concerns no host.
    let free = addressing::add_pool(
        &mut m,
        &PoolFields {
            name: Some("spare".into()),
            network: Some("10.50.0.0".into()),
            prefix: Some("24".into()),
            ..PoolFields::default()
        },
        t(4),
    )
    .unwrap();
    let (_, changed, _) = modify_pool(
        &mut m,
        &free.uuid,
        &PoolFields {
            order: Some("sequential".into()),
            ..PoolFields::default()
        },
        false,
        &hosts,
        t(5),
    )
    .unwrap();
    assert!(changed.is_empty());
}
