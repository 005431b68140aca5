//! The rules of configuration over [`ConfigRepo`], each run inside one
//! store transaction: the records made sure of at start, DNS, NTP and OAM
//! changes (each minting new targets for the hosts it concerns), an
//! agent's report of what it applied, and the hosts followed as inventory
//! has them. Each returns the 250.001 changes it implies, for the caller
//! to hand to the alarm sink after the commit.

use std::net::IpAddr;

use starling_common::alarm::{AlarmDef, AlarmEffect};
use starling_common::{Error, Timestamp};

use crate::addressing::{
    self, AddressPool, AddressedHost, InitialNetworks, Network, NewNetwork, PoolChange, PoolFields,
    Slot, SystemFacts,
};
use crate::interface::{self, HostView, PortFacts};
use crate::platform::{self, Dns, Ntp, Oam, OamFields};
use crate::repo::ConfigRepo;
use crate::target::{ConfigUuid, HostConfig, INSTALL, StepResult};

/// 250.001, raised while a host has not applied its target configuration
/// (as sysinv's conductor raises it: major, operational, service
/// affecting).
pub static OUT_OF_DATE: AlarmDef = AlarmDef {
    id: "250.001",
    entity_type: "host",
    severity: "major",
    alarm_type: "operational-violation",
    probable_cause: "configuration-out-of-date",
    repair: "Lock and unlock the host, or wait for the runtime configuration to apply.",
    service_affecting: true,
    suppression: true,
};

/// A host as inventory has it, the facts configuration decides on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFacts {
    pub uuid: String,
    /// None until provisioned: such a host has no configuration yet.
    pub hostname: Option<String>,
    /// `controller`, `worker`, `storage`; None until provisioned.
    pub personality: Option<String>,
    /// `locked` or `unlocked`.
    pub administrative: String,
    /// Its unlock waits for the configuration it is owed (inventory's task
    /// `Configuring`): its document may be applied in full.
    pub configuring: bool,
    /// `controller,worker` on an all-in-one controller; None until
    /// provisioned (the personality stands for it).
    pub subfunctions: Option<String>,
}

impl HostFacts {
    fn provisioned(&self) -> Option<&str> {
        match (&self.hostname, &self.personality) {
            (Some(h), Some(_)) => Some(h),
            _ => None,
        }
    }

    fn is_controller(&self) -> bool {
        self.personality.as_deref() == Some("controller")
    }
}

/// What a change concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Every provisioned host.
    All,
    /// The controllers.
    Controllers,
}

/// The first values of the records, from the daemon's options (StarlingX's
/// bootstrap values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Initial {
    pub nameservers: String,
    pub ntpservers: String,
    pub oam: OamFields,
    pub networks: InitialNetworks,
    pub simplex: bool,
}

/// Writes the DNS, NTP and OAM records and the platform networks the first
/// start needs (later starts keep what is stored). Returns the 250.001
/// changes of the hosts an earlier release tracked, whose documents the
/// networks change.
pub fn ensure_records(
    repo: &mut dyn ConfigRepo,
    init: &Initial,
    now: Timestamp,
) -> Result<Vec<AlarmEffect>, Error> {
    let empty_ntp = Ntp {
        uuid: starling_common::new_uuid(),
        ntpservers: Vec::new(),
        created_at: now,
        updated_at: None,
    };
    let oam = match addressing::oam_pool(repo)? {
        Some(p) => addressing::oam_view(&p),
        None => {
            // An earlier release's record, or the first start's.
            let o = match repo.legacy_oam()? {
                Some(o) => o,
                None => platform::oam(
                    None,
                    &init.oam,
                    init.simplex,
                    starling_common::new_uuid(),
                    now,
                )
                .map_err(|e| Error::invalid(format!("the first OAM network: {e}")))?,
            };
            addressing::create_oam(repo, &o, init.simplex)?;
            o
        }
    };
    let n = &init.networks;
    let mut made = false;
    for (t, subnet) in [
        (addressing::MGMT, &n.mgmt),
        (addressing::PXEBOOT, &n.pxeboot),
        (addressing::CLUSTER_HOST, &n.cluster_host),
        (addressing::CLUSTER_POD, &n.cluster_pod),
        (addressing::CLUSTER_SERVICE, &n.cluster_service),
        (addressing::MULTICAST, &n.multicast),
    ] {
        made |= addressing::ensure_network(repo, t, subnet, init.simplex, now)?;
    }
    // Hosts an earlier release tracked: their documents now name the
    // controllers' addresses, so each is given a new (runtime) target.
    let mut fx = Vec::new();
    if made {
        for before in repo.hosts()? {
            let mut h = before.clone();
            h.retarget(false, now);
            repo.put_host(&h)?;
            fx.extend(alarm_change(Some(&before), &h));
        }
    }
    let dns = match repo.dns()? {
        Some(d) => d,
        None => {
            let d = Dns {
                uuid: starling_common::new_uuid(),
                nameservers: platform::nameservers(&init.nameservers, Some(&oam), &empty_ntp)
                    .map_err(|e| Error::invalid(format!("the first DNS servers: {e}")))?,
                created_at: now,
                updated_at: None,
            };
            repo.put_dns(&d)?;
            d
        }
    };
    if repo.ntp()?.is_none() {
        let servers = if init.ntpservers.trim().is_empty() {
            Vec::new()
        } else {
            platform::ntpservers(&init.ntpservers, &dns)
                .map_err(|e| Error::invalid(format!("the first NTP servers: {e}")))?
        };
        repo.put_ntp(&Ntp {
            ntpservers: servers,
            ..empty_ntp
        })?;
    }
    Ok(fx)
}

fn need<T>(r: Option<T>, what: &str) -> Result<T, Error> {
    r.ok_or_else(|| Error::not_found(format!("{what} could not be found.")))
}

/// The record `uuid` names, or 404 as sysinv answers it.
fn named<T>(r: Option<T>, uuid: &str, of: fn(&T) -> &str, what: &str) -> Result<T, Error> {
    match r {
        Some(r) if of(&r) == uuid => Ok(r),
        _ => Err(Error::not_found(format!(
            "{what} {uuid} could not be found."
        ))),
    }
}

/// The DNS record.
pub fn dns(repo: &mut dyn ConfigRepo) -> Result<Dns, Error> {
    need(repo.dns()?, "DNS")
}

/// The NTP record.
pub fn ntp(repo: &mut dyn ConfigRepo) -> Result<Ntp, Error> {
    need(repo.ntp()?, "NTP")
}

/// The OAM network record.
pub fn oam(repo: &mut dyn ConfigRepo) -> Result<Oam, Error> {
    need(
        addressing::oam_pool(repo)?.map(|p| addressing::oam_view(&p)),
        "OAM network",
    )
}

/// `dns-modify`: new nameservers for every host (a runtime change).
/// Each of these changes returns the record, the hosts it retargeted and
/// their 250.001 changes.
pub fn modify_dns(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    csv: &str,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<(Dns, Vec<HostConfig>, Vec<AlarmEffect>), Error> {
    let before = named(repo.dns()?, uuid, |d| &d.uuid, "DNS")?;
    let ntp = ntp(repo)?;
    let oam = addressing::oam_pool(repo)?.map(|p| addressing::oam_view(&p));
    let nameservers = platform::nameservers(csv, oam.as_ref(), &ntp)?;
    let after = Dns {
        nameservers,
        updated_at: Some(now),
        ..before
    };
    repo.put_dns(&after)?;
    let (changed, fx) = retarget(repo, hosts, Scope::All, false, now)?;
    Ok((after, changed, fx))
}

/// `ntp-modify`: new servers for the controllers, which must be locked and
/// unlocked to take them (sysinv's reboot-required NTP change).
pub fn modify_ntp(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    csv: &str,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<(Ntp, Vec<HostConfig>, Vec<AlarmEffect>), Error> {
    let before = named(repo.ntp()?, uuid, |n| &n.uuid, "NTP")?;
    let dns = dns(repo)?;
    let ntpservers = platform::ntpservers(csv, &dns)?;
    let after = Ntp {
        ntpservers,
        updated_at: Some(now),
        ..before
    };
    repo.put_ntp(&after)?;
    let (changed, fx) = retarget(repo, hosts, Scope::Controllers, true, now)?;
    Ok((after, changed, fx))
}

/// `oam-modify`: the OAM network as it becomes, for every host (a runtime
/// change: its hosts file names `oamcontroller`).
pub fn modify_oam(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    fields: &OamFields,
    simplex: bool,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<(Oam, Vec<HostConfig>, Vec<AlarmEffect>), Error> {
    let before = named(
        addressing::oam_pool(repo)?.map(|p| addressing::oam_view(&p)),
        uuid,
        |o| &o.uuid,
        "OAM network",
    )?;
    let mut after = platform::oam(Some(&before), fields, simplex, before.uuid.clone(), now)?;
    after.created_at = before.created_at;
    after.updated_at = Some(now);
    let dns = dns(repo)?;
    if let Some(a) = dns.nameservers.first()
        && a.is_ipv4() != after.subnet.network.is_ipv4()
    {
        return Err(Error::invalid(format!(
            "IP version mismatch: the DNS servers are IPv{}, the OAM subnet IPv{}",
            if a.is_ipv4() { 4 } else { 6 },
            after.subnet.version()
        )));
    }
    addressing::write_oam(repo, &after)?;
    let (changed, fx) = retarget(repo, hosts, Scope::All, false, now)?;
    Ok((after, changed, fx))
}

/// Whether 250.001 is up for `h`: out of date once its agent reported
/// applying something (a host whose agent never answered is maintenance's
/// concern, not configuration's).
fn raised(h: &HostConfig) -> bool {
    h.applied.is_some() && h.out_of_date()
}

fn reason(h: &HostConfig) -> String {
    let mut r = format!(
        "{} Configuration is out-of-date. (applied: {} target: {})",
        h.hostname,
        h.applied.as_deref().unwrap_or("None"),
        h.target
    );
    if let Some(f) = &h.failure {
        r.push_str(&format!(" Apply failed: {f}"));
    }
    r
}

fn entity(hostname: &str) -> String {
    format!("host={hostname}")
}

/// The 250.001 change from `before` to `after` (the same host).
fn alarm_change(before: Option<&HostConfig>, after: &HostConfig) -> Option<AlarmEffect> {
    let was = before.filter(|b| raised(b));
    if raised(after) {
        if was.map(reason) == Some(reason(after))
            && was.map(|b| &b.hostname) == Some(&after.hostname)
        {
            return None;
        }
        return Some(AlarmEffect::Set(
            OUT_OF_DATE.at(entity(&after.hostname), reason(after)),
        ));
    }
    was.map(|b| AlarmEffect::Clear {
        alarm_id: OUT_OF_DATE.id,
        entity_instance_id: entity(&b.hostname),
    })
}

/// New targets for the provisioned hosts in `scope`.
fn retarget(
    repo: &mut dyn ConfigRepo,
    hosts: &[HostFacts],
    scope: Scope,
    reboot: bool,
    now: Timestamp,
) -> Result<(Vec<HostConfig>, Vec<AlarmEffect>), Error> {
    let (mut changed, mut fx) = (Vec::new(), Vec::new());
    for f in hosts {
        let Some(name) = f.provisioned() else {
            continue;
        };
        if scope == Scope::Controllers && !f.is_controller() {
            continue;
        }
        let before = repo.host(&f.uuid)?;
        let mut h = before
            .clone()
            .unwrap_or_else(|| HostConfig::new(&f.uuid, name, now));
        h.hostname = name.to_string();
        h.retarget(reboot, now);
        repo.put_host(&h)?;
        fx.extend(alarm_change(before.as_ref(), &h));
        changed.push(h);
    }
    Ok((changed, fx))
}

/// Follows inventory's hosts: a provisioned host starts being tracked (a
/// first target), a renamed one carries its alarm to its new name, one
/// gone (or no longer provisioned) is forgotten and its alarm cleared.
/// Returns the hosts whose state changed, with the alarm changes.
pub fn follow(
    repo: &mut dyn ConfigRepo,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<(Vec<HostConfig>, Vec<AlarmEffect>), Error> {
    let mut fx = Vec::new();
    let mut changed = Vec::new();
    let tracked = repo.hosts()?;
    for t in &tracked {
        let still = hosts
            .iter()
            .find(|f| f.uuid == t.host_uuid)
            .and_then(|f| f.provisioned());
        match still {
            None => {
                repo.delete_host(&t.host_uuid)?;
                interface::forget_host(repo, &t.host_uuid)?;
                if raised(t) {
                    fx.push(AlarmEffect::Clear {
                        alarm_id: OUT_OF_DATE.id,
                        entity_instance_id: entity(&t.hostname),
                    });
                }
            }
            Some(name) if name != t.hostname => {
                let mut h = t.clone();
                h.hostname = name.to_string();
                repo.put_host(&h)?;
                if raised(t) {
                    fx.push(AlarmEffect::Clear {
                        alarm_id: OUT_OF_DATE.id,
                        entity_instance_id: entity(&t.hostname),
                    });
                }
                fx.extend(alarm_change(None, &h));
                changed.push(h);
            }
            Some(_) => {}
        }
    }
    for f in hosts {
        let Some(name) = f.provisioned() else {
            continue;
        };
        if tracked.iter().any(|t| t.host_uuid == f.uuid) {
            continue;
        }
        let h = HostConfig::new(&f.uuid, name, now);
        repo.put_host(&h)?;
        changed.push(h);
    }
    // Each host's addresses; a host its pool has no address for says so
    // in its configuration's failure until one is free.
    let (_, short) = addressing::follow_hosts(repo, &addressed(hosts))?;
    for t in repo.hosts()? {
        let why = short
            .iter()
            .find(|(u, _)| *u == t.host_uuid)
            .map(|(_, w)| w);
        let was = t
            .failure
            .as_deref()
            .is_some_and(|f| f.starts_with(NO_ADDRESS));
        let now_failure = why.map(|w| format!("{NO_ADDRESS}{w}"));
        if (was && now_failure.as_deref() != t.failure.as_deref())
            || (!was && now_failure.is_some())
        {
            let mut h = t.clone();
            h.failure = now_failure;
            repo.put_host(&h)?;
            changed.retain(|c| c.host_uuid != h.host_uuid);
            changed.push(h);
        }
    }
    Ok((changed, fx))
}

/// How a host's configuration failure starts while it has no address.
const NO_ADDRESS: &str = "addresses: ";

fn addressed(hosts: &[HostFacts]) -> Vec<AddressedHost> {
    hosts
        .iter()
        .filter_map(|f| {
            f.provisioned().map(|name| AddressedHost {
                uuid: f.uuid.clone(),
                hostname: name.to_string(),
            })
        })
        .collect()
}

/// The system as the addressing rules see it.
pub fn system_facts(hosts: &[HostFacts], simplex: bool) -> SystemFacts {
    SystemFacts {
        simplex,
        unlocked_controller: hosts
            .iter()
            .find(|h| h.is_controller() && h.administrative == "unlocked")
            .and_then(|h| h.hostname.clone()),
    }
}

/// What a change to a network of type `t` asks of the hosts: none, a
/// runtime apply (false), or a lock and unlock (true).
fn network_effect(t: Option<&str>) -> Option<bool> {
    match t {
        Some(addressing::OAM) => Some(false),
        Some(addressing::MGMT | addressing::CLUSTER_HOST | addressing::PXEBOOT) => Some(true),
        _ => None,
    }
}

type Changed<T> = (T, Vec<HostConfig>, Vec<AlarmEffect>);

fn follow_network(
    repo: &mut dyn ConfigRepo,
    t: Option<&str>,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<(Vec<HostConfig>, Vec<AlarmEffect>), Error> {
    match network_effect(t) {
        None => Ok((Vec::new(), Vec::new())),
        Some(reboot) => retarget(repo, hosts, Scope::All, reboot, now),
    }
}

/// `addrpool-modify`, with the configuration of the hosts its network
/// reaches.
pub fn modify_pool(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    f: &PoolFields,
    simplex: bool,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<Changed<PoolChange>, Error> {
    let c = addressing::modify_pool(repo, uuid, f, &system_facts(hosts, simplex), now)?;
    let t = c.network.as_ref().map(|n| n.net_type.clone());
    let (changed, fx) = follow_network(repo, t.as_deref(), hosts, now)?;
    Ok((c, changed, fx))
}

/// `addrpool-delete` (a network's pool takes its network with it, where
/// sysinv allows that at all).
pub fn delete_pool(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<Changed<AddressPool>, Error> {
    let c = addressing::delete_pool(repo, uuid)?;
    let t = c.network.as_ref().map(|n| n.net_type.as_str());
    let (changed, fx) = follow_network(repo, t, hosts, now)?;
    Ok((c.pool, changed, fx))
}

/// `network-add`: the hosts are given their addresses on it at once.
pub fn add_network(
    repo: &mut dyn ConfigRepo,
    n: &NewNetwork,
    simplex: bool,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<Changed<Network>, Error> {
    let (net, _) = addressing::add_network(repo, n, simplex)?;
    let (mut changed, mut fx) = follow(repo, hosts, now)?;
    let (c, f) = follow_network(repo, Some(&net.net_type), hosts, now)?;
    changed.retain(|h| !c.iter().any(|x| x.host_uuid == h.host_uuid));
    changed.extend(c);
    fx.extend(f);
    Ok((net, changed, fx))
}

/// `network-delete`.
pub fn delete_network(
    repo: &mut dyn ConfigRepo,
    key: &str,
    simplex: bool,
    hosts: &[HostFacts],
    now: Timestamp,
) -> Result<Changed<Network>, Error> {
    let net = addressing::delete_network(repo, key, &system_facts(hosts, simplex))?;
    let (changed, fx) = follow_network(repo, Some(&net.net_type), hosts, now)?;
    Ok((net, changed, fx))
}

/// A change to host `host`'s interfaces: inventory's hosts followed (the
/// host's addresses given) and its ports' ethernet interfaces made first,
/// then `op` over the host's view; the host is given a new target
/// (reboot-required when `reboot`: interfaces are configured at the
/// unlock).
#[allow(clippy::too_many_arguments)]
pub fn on_interfaces<T>(
    repo: &mut dyn ConfigRepo,
    host: &HostFacts,
    hosts: &[HostFacts],
    ports: &[PortFacts],
    simplex: bool,
    reboot: bool,
    now: Timestamp,
    op: impl FnOnce(&mut dyn ConfigRepo, &HostView<'_>) -> Result<T, Error>,
) -> Result<Changed<T>, Error> {
    let (mut changed, mut fx) = follow(repo, hosts, now)?;
    interface::sync_ports(repo, &host.uuid, ports, now)?;
    let view = HostView::load(repo, host, ports, simplex)?;
    let out = op(repo, &view)?;
    let (c, f) = retarget(repo, std::slice::from_ref(host), Scope::All, reboot, now)?;
    changed.retain(|h| !c.iter().any(|x| x.host_uuid == h.host_uuid));
    changed.extend(c);
    fx.extend(f);
    Ok((out, changed, fx))
}

/// A change to the service parameters (`op`): every provisioned host is
/// given a new target, applied at runtime.
pub fn on_parameters<T>(
    repo: &mut dyn ConfigRepo,
    hosts: &[HostFacts],
    now: Timestamp,
    op: impl FnOnce(&mut dyn ConfigRepo) -> Result<T, Error>,
) -> Result<Changed<T>, Error> {
    let out = op(repo)?;
    let (changed, fx) = retarget(repo, hosts, Scope::All, false, now)?;
    Ok((out, changed, fx))
}

/// What an agent reports after an apply: the uuid it applied and each
/// step's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub config_uuid: String,
    pub steps: Vec<StepResult>,
}

/// An agent's report for its host. Every step applied: the host's applied
/// configuration is the uuid reported. A step failed: what it applied
/// before stands, and the failure is kept (one line) until an apply
/// succeeds.
pub fn report_applied(
    repo: &mut dyn ConfigRepo,
    host_uuid: &str,
    report: &Applied,
) -> Result<(HostConfig, Vec<AlarmEffect>), Error> {
    let before = repo.host(host_uuid)?.ok_or_else(|| {
        Error::not_found(format!(
            "Host {host_uuid} has no configuration: it is not provisioned"
        ))
    })?;
    if report.config_uuid != INSTALL && ConfigUuid::parse(&report.config_uuid).is_none() {
        return Err(Error::invalid(format!(
            "Invalid config_uuid '{}': a uuid or '{INSTALL}'",
            report.config_uuid
        )));
    }
    let mut h = before.clone();
    match report.steps.iter().find(|s| !s.ok) {
        None => {
            h.applied = Some(report.config_uuid.to_ascii_lowercase());
            h.failure = None;
        }
        Some(s) => {
            let why = s.message.as_deref().unwrap_or("failed");
            let line: String = why
                .lines()
                .next()
                .unwrap_or("failed")
                .chars()
                .take(200)
                .collect();
            h.failure = Some(format!("{}: {line}", s.step));
            if h.applied.is_none() {
                h.applied = Some(INSTALL.into());
            }
        }
    }
    repo.put_host(&h)?;
    let fx = alarm_change(Some(&before), &h).into_iter().collect();
    Ok((h, fx))
}

/// The hosts-file entries of a host: the loopback names, and StarlingX's
/// names for the controllers' addresses — `controller`, `controller-0`
/// and `controller-1` (management), `pxecontroller` (pxeboot),
/// `oamcontroller` (OAM), `controller[-N]-cluster-host` — and, on any other
/// host, its own name on the management and cluster-host networks.
pub fn hosts_entries(
    repo: &mut dyn ConfigRepo,
    pools: &[(String, AddressPool)],
    host: &AddressedHost,
) -> Result<Vec<(IpAddr, Vec<String>)>, Error> {
    let mut out = vec![
        (
            IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            vec!["localhost".into()],
        ),
        (
            IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            vec![
                "localhost".into(),
                "ip6-localhost".into(),
                "ip6-loopback".into(),
            ],
        ),
    ];
    let named: &[(&str, Slot, &str)] = &[
        (addressing::MGMT, Slot::Floating, "controller"),
        (addressing::MGMT, Slot::Controller0, "controller-0"),
        (addressing::MGMT, Slot::Controller1, "controller-1"),
        (addressing::PXEBOOT, Slot::Floating, "pxecontroller"),
        (addressing::OAM, Slot::Floating, "oamcontroller"),
        (
            addressing::CLUSTER_HOST,
            Slot::Floating,
            "controller-cluster-host",
        ),
        (
            addressing::CLUSTER_HOST,
            Slot::Controller0,
            "controller-0-cluster-host",
        ),
        (
            addressing::CLUSTER_HOST,
            Slot::Controller1,
            "controller-1-cluster-host",
        ),
    ];
    let pool = |t: &str| pools.iter().find(|(pt, _)| pt == t).map(|(_, p)| p);
    for (t, slot, name) in named {
        if let Some(a) = pool(t).and_then(|p| p.slot(*slot)) {
            out.push((a, vec![(*name).to_string()]));
        }
    }
    if !addressing::is_controller_name(&host.hostname) {
        for (t, name) in [
            (addressing::MGMT, host.hostname.clone()),
            (
                addressing::CLUSTER_HOST,
                format!("{}-cluster-host", host.hostname),
            ),
        ] {
            if let Some(p) = pool(t)
                && let Some(a) = addressing::host_address_in(repo, p, host)?
            {
                out.push((a, vec![name]));
            }
        }
    }
    Ok(out)
}

/// The time servers of a host that is not a controller: the controllers'
/// management addresses (as StarlingX's other hosts follow them).
fn controller_time_servers(pools: &[(String, AddressPool)]) -> Vec<String> {
    let Some((_, p)) = pools.iter().find(|(t, _)| t == addressing::MGMT) else {
        return Vec::new();
    };
    let mut out: Vec<String> = [Slot::Controller0, Slot::Controller1]
        .into_iter()
        .filter_map(|s| p.slot(s))
        .map(|a| a.to_string())
        .collect();
    if out.is_empty()
        && let Some(f) = p.slot(Slot::Floating)
    {
        out.push(f.to_string());
    }
    out
}

/// A host's configuration document: everything it should run, versioned by
/// its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The target this document is.
    pub config_uuid: ConfigUuid,
    pub hostname: String,
    pub personality: String,
    /// Whether the reboot-required parts may be applied now (a host that
    /// never applied anything, one being unlocked, or a target that needs
    /// no lock and unlock);
    /// otherwise the agent applies the runtime parts and reports the target
    /// without its reboot flag.
    pub full: bool,
    /// resolv.conf's servers (runtime).
    pub nameservers: Vec<IpAddr>,
    /// chrony's servers (reboot-required): the cloud's NTP servers on a
    /// controller, the controllers on any other host.
    pub ntpservers: Option<Vec<String>>,
    /// /etc/hosts (runtime).
    pub hosts: Vec<(IpAddr, Vec<String>)>,
    /// The platform interfaces (reboot-required: configured at the unlock).
    pub interfaces: Vec<interface::NetIf>,
    /// What the service parameters ask of every host (runtime; their DNS
    /// host records are in `hosts`).
    pub settings: crate::service_param::HostSettings,
}

/// Host `host`'s document (`ports`: its ports as inventory has them).
pub fn document(
    repo: &mut dyn ConfigRepo,
    facts: &HostFacts,
    ports: &[PortFacts],
) -> Result<Document, Error> {
    let h = repo.host(&facts.uuid)?.ok_or_else(|| {
        Error::not_found(format!(
            "Host {} has no configuration: it is not provisioned",
            facts.uuid
        ))
    })?;
    let fresh = matches!(h.applied.as_deref(), None | Some(INSTALL));
    // Applied whole already (its unlock took it): never back to a part.
    let whole = h.applied.as_deref() == Some(h.target.to_string().as_str());
    let dns = dns(repo)?;
    let ntp = ntp(repo)?;
    let me = AddressedHost {
        uuid: h.host_uuid.clone(),
        hostname: h.hostname.clone(),
    };
    let pools = addressing::network_pools(repo)?;
    let hosts = hosts_entries(repo, &pools, &me)?;
    let interfaces = interface::network_config(repo, &me, ports, &pools)?;
    let settings = crate::service_param::host_settings(&repo.service_parameters()?);
    let mut hosts = hosts;
    hosts.extend(settings.host_records.iter().cloned());
    let ntpservers = if facts.is_controller() {
        ntp.ntpservers
    } else {
        controller_time_servers(&pools)
    };
    Ok(Document {
        config_uuid: h.target,
        hostname: h.hostname.clone(),
        personality: facts.personality.clone().unwrap_or_default(),
        full: fresh || whole || facts.configuring || !h.target.reboot(),
        nameservers: dns.nameservers,
        ntpservers: Some(ntpservers),
        hosts,
        interfaces,
        settings,
    })
}

#[cfg(test)]
mod tests;
