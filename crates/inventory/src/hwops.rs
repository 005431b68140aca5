//! Hardware over an [`InventoryRepo`]: agent registration and reports, the
//! per-host collections, and labels. Like [`crate::ops`], each function runs
//! inside one storage transaction, so a refused report or label request
//! leaves everything as it was.

use std::collections::BTreeSet;

use starling_common::Timestamp;

use crate::Error;
use crate::hardware::*;
use crate::lifecycle::{HostEvent, STATE_LOG};
use crate::model::*;
use crate::ops;
use crate::repo::{HostRef, InventoryRepo};

/// Every record of type `T` of a host, in listing order.
pub fn records_of<T: HwItem>(
    repo: &mut dyn InventoryRepo,
    host_id: i64,
) -> Result<Vec<Record<T>>, Error> {
    let mut v = repo
        .hw(host_id, T::KIND)?
        .into_iter()
        .map(Record::from_row)
        .collect::<Result<Vec<Record<T>>, Error>>()?;
    v.sort_by_key(|r| r.item.order());
    Ok(v)
}

/// Host `r` and its records of type `T`.
pub fn list<T: HwItem>(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
) -> Result<(Host, Vec<Record<T>>), Error> {
    let h = ops::host(repo, r)?;
    let v = records_of(repo, h.id)?;
    Ok((h, v))
}

/// One record of type `T` by uuid, and its host.
pub fn get<T: HwItem>(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
) -> Result<(Host, Record<T>), Error> {
    let missing = || Error::not_found(format!("{} {uuid} could not be found.", T::KIND.noun()));
    let row = repo
        .hw_by_uuid(&uuid.to_ascii_lowercase())?
        .filter(|r| r.kind == T::KIND)
        .ok_or_else(missing)?;
    let h = ops::host(repo, &HostRef::Id(row.host_id))?;
    Ok((h, Record::from_row(row)?))
}

/// An agent introducing itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The host's own name.
    pub hostname: String,
    /// MAC of its management port.
    pub mgmt_mac: String,
}

/// Finds the host an agent runs on, by management MAC; a host nobody added
/// appears as an unprovisioned host (no hostname, no personality) until the
/// operator provisions it with host-add or host-update. A MAC unknown under
/// a hostname that belongs to a host with another MAC is a contradiction.
pub fn register(
    repo: &mut dyn InventoryRepo,
    reg: &Registration,
    now: Timestamp,
) -> Result<(Host, bool), Error> {
    let mac = checked(reg)?;
    if let Some(h) = repo.host_by_mac(&mac)? {
        return Ok((h, false));
    }
    if let Some(h) = repo.host(&HostRef::Name(reg.hostname.clone()))? {
        return Err(Error::conflict(format!(
            "Host {} is provisioned with management MAC {}, but its agent reports {mac}",
            reg.hostname, h.mgmt_mac
        )));
    }
    let h = Host::new(repo.next_host_id()?, starling_common::new_uuid(), mac, now);
    repo.insert_host(&h)?;
    Ok((h, true))
}

/// The refusal of an agent that speaks for a host its credential is not for
/// (whether that host exists is not said).
pub const NOT_ITS_HOST: &str = "This agent's credential is for another host";

/// A first registration with the cloud's enrollment secret: the host is
/// registered as [`register`] does and its agent given the credential of
/// `hash` — unless its agent already holds one: a host enrolls once, and
/// again only after it is deleted and added again or reinstalled (so the
/// secret cannot take over an enrolled host).
pub fn enroll(
    repo: &mut dyn InventoryRepo,
    reg: &Registration,
    hash: &str,
    now: Timestamp,
) -> Result<(Host, bool), Error> {
    let (h, created) = register(repo, reg, now)?;
    if repo.agent_credential(h.id)?.is_some() {
        return Err(Error::conflict(format!(
            "The agent of {} is already enrolled; it enrolls again once the host is \
             reinstalled, or deleted and added again",
            h.display_name()
        )));
    }
    repo.set_agent_credential(h.id, hash, now)?;
    Ok((h, created))
}

/// Registers the host and gives its agent the credential of `hash` whether
/// or not it held one (the all-in-one's own agent, run in the daemon).
pub fn issue_credential(
    repo: &mut dyn InventoryRepo,
    reg: &Registration,
    hash: &str,
    now: Timestamp,
) -> Result<Host, Error> {
    let (h, _) = register(repo, reg, now)?;
    repo.set_agent_credential(h.id, hash, now)?;
    Ok(h)
}

/// A registration by an agent holding host `uuid`'s credential: that host,
/// found by the management MAC the agent reports; nothing is created.
pub fn register_own(
    repo: &mut dyn InventoryRepo,
    reg: &Registration,
    uuid: &str,
) -> Result<Host, Error> {
    let mac = checked(reg)?;
    match repo.host_by_mac(&mac)? {
        Some(h) if h.uuid == uuid => Ok(h),
        _ => Err(Error::forbidden(NOT_ITS_HOST)),
    }
}

/// Checks that an agent holding host `uuid`'s credential speaks for that
/// host (`r`, as the request's path names it).
pub fn own_host(repo: &mut dyn InventoryRepo, r: &HostRef, uuid: &str) -> Result<(), Error> {
    match repo.host(r)? {
        Some(h) if h.uuid == uuid => Ok(()),
        _ => Err(Error::forbidden(NOT_ITS_HOST)),
    }
}

/// A registration's management MAC, canonical, once its fields are checked.
fn checked(reg: &Registration) -> Result<String, Error> {
    let mac = crate::validate::mac(&reg.mgmt_mac)?;
    if reg.hostname.is_empty()
        || reg.hostname.len() > 255
        || !reg
            .hostname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Error::invalid(format!(
            "Invalid hostname '{}' in the agent's registration",
            reg.hostname
        )));
    }
    Ok(mac)
}

/// What a report changed.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOutcome {
    /// The host as it is now.
    pub host: Host,
    /// Per kind, what changed (kinds the report carried).
    pub changes: Vec<(HwKind, Delta)>,
    /// A state change to log (first contact of an offline host).
    pub event: Option<HostEvent>,
}

/// The keys of a section: the report's when it carries the section, else
/// the stored records'.
fn keys<T: HwItem, K: Ord>(
    repo: &mut dyn InventoryRepo,
    host_id: i64,
    reported: Option<&[T]>,
    key: impl Fn(&T) -> K,
) -> Result<BTreeSet<K>, Error> {
    Ok(match reported {
        Some(v) => v.iter().map(key).collect(),
        None => records_of::<T>(repo, host_id)?
            .iter()
            .map(|r| key(&r.item))
            .collect(),
    })
}

fn apply(repo: &mut dyn InventoryRepo, m: &Merge) -> Result<(), Error> {
    for uuid in &m.delete {
        repo.delete_hw(uuid)?;
    }
    for r in &m.update {
        repo.update_hw(r)?;
    }
    for r in &m.insert {
        repo.insert_hw(r)?;
    }
    Ok(())
}

fn merge_section<T: HwItem>(
    repo: &mut dyn InventoryRepo,
    host_id: i64,
    reported: Option<&[T]>,
    now: Timestamp,
    changes: &mut Vec<(HwKind, Delta)>,
) -> Result<(), Error> {
    let Some(reported) = reported else {
        return Ok(());
    };
    let stored = records_of::<T>(repo, host_id)?;
    let m = plan_merge(host_id, stored, reported, now)?;
    apply(repo, &m)?;
    changes.push((T::KIND, m.delta()));
    Ok(())
}

/// Takes an agent's report for host `r`: checks every section and the
/// references between them (against what is stored for sections the report
/// does not carry), then merges each carried section. A full report marks
/// the host inventoried; any report of an offline host brings it online.
pub fn report_hardware(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    report: &Report,
    now: Timestamp,
) -> Result<ReportOutcome, Error> {
    check_report(report)?;
    let host = ops::host(repo, r)?;
    let id = host.id;
    let known = Known {
        nodes: keys(repo, id, report.inodes.as_deref(), |n: &Node| n.numa_node)?,
        disks: keys(repo, id, report.idisks.as_deref(), Disk::key)?,
        ports: keys(repo, id, report.ports.as_deref(), |p: &Port| p.name.clone())?,
    };
    check_references(report, &known)?;
    // Sections that refer to others must not be left pointing at records a
    // report removed: a report that drops a node, disk or port must also
    // carry the sections on them.
    dangling(repo, id, report, &known)?;

    let mut changes = Vec::new();
    let cpus = report.icpus.clone().map(|mut c| {
        default_cpu_functions(&host, &mut c);
        c
    });
    merge_section(repo, id, report.inodes.as_deref(), now, &mut changes)?;
    merge_section(repo, id, cpus.as_deref(), now, &mut changes)?;
    merge_section(repo, id, report.imemorys.as_deref(), now, &mut changes)?;
    merge_section(repo, id, report.idisks.as_deref(), now, &mut changes)?;
    merge_section(repo, id, report.partitions.as_deref(), now, &mut changes)?;
    merge_section(repo, id, report.ports.as_deref(), now, &mut changes)?;
    merge_section(repo, id, report.pci_devices.as_deref(), now, &mut changes)?;
    merge_section(repo, id, report.lldp_agents.as_deref(), now, &mut changes)?;
    merge_section(
        repo,
        id,
        report.lldp_neighbours.as_deref(),
        now,
        &mut changes,
    )?;

    let mut h = host.clone();
    if let Some(u) = report.uptime {
        h.uptime = u;
    }
    if report.is_full() {
        h.inv_state = "inventoried".into();
    }
    let mut event = None;
    if h.availability == Availability::Offline && h.administrative == Administrative::Locked {
        // The agent answers: the host is up, and waits online for an
        // unlock. (An unlocked host offline is host maintenance's: it
        // tests the host before it is back in service.)
        h.availability = Availability::Online;
        event = Some(HostEvent {
            log: &STATE_LOG,
            text: format!("{} is now '{}'", h.display_name(), h.availability),
        });
    }
    if h != host {
        h.updated_at = Some(now);
        repo.update_host(&h)?;
    }
    Ok(ReportOutcome {
        host: h,
        changes,
        event,
    })
}

/// Refuses a report that removes a node, disk or port while a stored
/// section it does not carry still refers to it.
fn dangling(
    repo: &mut dyn InventoryRepo,
    id: i64,
    report: &Report,
    known: &Known,
) -> Result<(), Error> {
    let gone = |what: &str, name: String, by: &str| {
        Err(Error::invalid(format!(
            "The report removes {what} {name}, which stored {by} still refer to; report them too"
        )))
    };
    if report.inodes.is_some() {
        if report.icpus.is_none() {
            for c in records_of::<Cpu>(repo, id)? {
                if !known.nodes.contains(&c.item.numa_node) {
                    return gone("NUMA node", c.item.numa_node.to_string(), "CPUs");
                }
            }
        }
        if report.imemorys.is_none() {
            for m in records_of::<Memory>(repo, id)? {
                if !known.nodes.contains(&m.item.numa_node) {
                    return gone("NUMA node", m.item.numa_node.to_string(), "memory records");
                }
            }
        }
    }
    if report.idisks.is_some() && report.partitions.is_none() {
        for p in records_of::<Partition>(repo, id)? {
            if !known.disks.contains(&p.item.disk_path) {
                return gone("disk", p.item.disk_path, "partitions");
            }
        }
    }
    if report.ports.is_some() {
        if report.lldp_agents.is_none() {
            for a in records_of::<LldpAgent>(repo, id)? {
                if !known.ports.contains(&a.item.port_name) {
                    return gone("port", a.item.port_name, "LLDP agents");
                }
            }
        }
        if report.lldp_neighbours.is_none() {
            for n in records_of::<LldpNeighbour>(repo, id)? {
                if !known.ports.contains(&n.item.port_name) {
                    return gone("port", n.item.port_name, "LLDP neighbours");
                }
            }
        }
    }
    Ok(())
}

fn label_lock_check(h: &Host, key: &str) -> Result<(), Error> {
    if Label::needs_lock(key) && h.administrative != Administrative::Locked {
        return Err(Error::invalid(format!(
            "Host {} must be locked to change label {key}",
            h.display_name()
        )));
    }
    Ok(())
}

/// host-label-assign: sets every `(key, value)` on host `r`, all or none. An
/// existing key is replaced only with `overwrite`.
pub fn assign_labels(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    labels: &[(String, String)],
    overwrite: bool,
    now: Timestamp,
) -> Result<(Host, Vec<Record<Label>>), Error> {
    let h = ops::host(repo, r)?;
    let mut stored: Vec<Record<Label>> = records_of(repo, h.id)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (k, v) in labels {
        let item = Label {
            label_key: k.clone(),
            label_value: v.clone(),
        };
        item.check().map_err(Error::invalid)?;
        if !seen.insert(k.clone()) {
            return Err(Error::invalid(format!("Label {k} is given twice")));
        }
        match stored.iter_mut().find(|s| s.item.label_key == *k) {
            Some(s) if s.item.label_value == *v => out.push(s.clone()),
            Some(_) if !overwrite => {
                return Err(Error::invalid(format!(
                    "Label {k} already exists on host {}; use overwrite to change its value",
                    h.display_name()
                )));
            }
            Some(s) => {
                label_lock_check(&h, k)?;
                s.item = item;
                s.updated_at = Some(now);
                repo.update_hw(&s.to_row()?)?;
                out.push(s.clone());
            }
            None => {
                label_lock_check(&h, k)?;
                let rec = Record {
                    uuid: starling_common::new_uuid(),
                    host_id: h.id,
                    created_at: now,
                    updated_at: None,
                    item,
                };
                repo.insert_hw(&rec.to_row()?)?;
                out.push(rec);
            }
        }
    }
    Ok((h, out))
}

/// Removes label `uuid`; returns its host and what was removed.
pub fn remove_label(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
) -> Result<(Host, Record<Label>), Error> {
    let (h, rec) = get::<Label>(repo, uuid)?;
    label_lock_check(&h, &rec.item.label_key)?;
    repo.delete_hw(&rec.uuid)?;
    Ok((h, rec))
}

/// Host maintenance's reading of host `r`'s BMC sensors: `groups` and
/// `sensors` replace what is stored of them (records of unchanged names
/// keep their uuid and the operator's settings: suppression, actions,
/// audit interval). Returns the sensors and groups as stored.
pub fn record_sensors(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    groups: &[SensorGroup],
    sensors: &[Sensor],
    now: Timestamp,
) -> Result<(Vec<Sensor>, Vec<SensorGroup>), Error> {
    let h = crate::ops::host(repo, r)?;
    for g in groups {
        g.check().map_err(Error::invalid)?;
    }
    let names: BTreeSet<&str> = groups.iter().map(|g| g.sensorgroupname.as_str()).collect();
    for s in sensors {
        s.check().map_err(Error::invalid)?;
        if !names.contains(s.sensorgroup.as_str()) {
            return Err(Error::invalid(format!(
                "sensor {} names an unknown group {}",
                s.sensorname, s.sensorgroup
            )));
        }
    }
    let mut changes = Vec::new();
    merge_section(repo, h.id, Some(groups), now, &mut changes)?;
    merge_section(repo, h.id, Some(sensors), now, &mut changes)?;
    Ok((
        records_of::<Sensor>(repo, h.id)?
            .into_iter()
            .map(|r| r.item)
            .collect(),
        records_of::<SensorGroup>(repo, h.id)?
            .into_iter()
            .map(|r| r.item)
            .collect(),
    ))
}

/// A boolean as sysinv's PATCH takes it (`True`, `false`, …).
fn flag(attr: &str, v: &str) -> Result<bool, Error> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(format!(
            "Invalid {attr} '{v}': expected True or False"
        ))),
    }
}

/// host-sensor-modify: the operator's settings of the sensor `uuid`
/// (`suppress`); anything else is maintenance's and refused by name.
pub fn modify_sensor(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
    changes: &[(String, String)],
    now: Timestamp,
) -> Result<(Host, Record<Sensor>), Error> {
    let (h, mut rec) = get::<Sensor>(repo, uuid)?;
    for (attr, v) in changes {
        match attr.as_str() {
            "suppress" => rec.item.suppress = flag(attr, v)?,
            _ => {
                return Err(Error::invalid(format!(
                    "The sensor attribute '{attr}' cannot be changed: only suppress is the operator's"
                )));
            }
        }
    }
    rec.updated_at = Some(now);
    repo.update_hw(&rec.to_row()?)?;
    Ok((h, rec))
}

/// host-sensorgroup-modify: the operator's settings of the sensor group
/// `uuid` (`suppress`, `actions_minor_group`, `actions_major_group`,
/// `actions_critical_group` among the group's choices,
/// `audit_interval_group` in seconds); anything else is refused by name.
pub fn modify_sensorgroup(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
    changes: &[(String, String)],
    now: Timestamp,
) -> Result<(Host, Record<SensorGroup>), Error> {
    let (h, mut rec) = get::<SensorGroup>(repo, uuid)?;
    let g = &mut rec.item;
    for (attr, v) in changes {
        let choice = |choices: &str| {
            if choices.split(',').any(|c| c == v) {
                Ok(v.clone())
            } else {
                Err(Error::invalid(format!(
                    "Invalid {attr} '{v}': expected one of {choices}"
                )))
            }
        };
        match attr.as_str() {
            "suppress" => g.suppress = flag(attr, v)?,
            "actions_minor_group" => g.actions_minor_group = choice(&g.actions_minor_choices)?,
            "actions_major_group" => g.actions_major_group = choice(&g.actions_major_choices)?,
            "actions_critical_group" => {
                g.actions_critical_group = choice(&g.actions_critical_choices)?
            }
            "audit_interval_group" => {
                g.audit_interval_group = v
                    .parse::<i64>()
                    .ok()
                    .filter(|s| (10..=86_400).contains(s))
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "Invalid audit_interval_group '{v}': whole seconds from 10 to 86400"
                        ))
                    })?
            }
            _ => {
                return Err(Error::invalid(format!(
                    "The sensor group attribute '{attr}' cannot be changed: suppress, actions_minor_group, actions_major_group, actions_critical_group and audit_interval_group are the operator's"
                )));
            }
        }
    }
    rec.updated_at = Some(now);
    repo.update_hw(&rec.to_row()?)?;
    Ok((h, rec))
}
