use std::collections::BTreeMap;

use super::*;

/// The contract kept in memory (the store crate's suite holds the SQL one
/// to the same stories on every backend).
#[derive(Default)]
struct Mem {
    dns: Option<Dns>,
    ntp: Option<Ntp>,
    oam: Option<Oam>,
    hosts: BTreeMap<String, HostConfig>,
    datanets: Vec<crate::DataNetwork>,
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
    fn oam(&mut self) -> Result<Option<Oam>, Error> {
        Ok(self.oam.clone())
    }
    fn put_oam(&mut self, o: &Oam) -> Result<(), Error> {
        self.oam = Some(o.clone());
        Ok(())
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
    fn next_datanetwork_id(&mut self) -> Result<i64, Error> {
        Ok(self.datanets.iter().map(|d| d.id).max().unwrap_or(0) + 1)
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
}

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
    let d = document(m, f).unwrap();
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
    assert_eq!(doc.ntpservers, None, "NTP is the controllers'");
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
    assert!(!document(&mut m, &hosts[0]).unwrap().full);
    // Its unlock waits for it: the whole document may be applied now.
    let mut unlocking = hosts.clone();
    unlocking[0].configuring = true;
    let (doc, fx) = apply(&mut m, &unlocking, "c0");
    assert!(doc.full);
    assert_eq!(sets(&fx), ["clear host=controller-0"]);
    assert!(!m.hosts["c0"].out_of_date());
    // Unlocked since: the document stays whole (never back to a part).
    assert!(document(&mut m, &hosts[0]).unwrap().full);
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
    let d = document(&mut m, &hosts[1]).unwrap();
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
