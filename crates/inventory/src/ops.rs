//! Inventory rules over an [`InventoryRepo`]: the system record, host-add,
//! actions and their completion, and delete. Each function runs inside one
//! storage transaction; what must happen outside it (FM alarms, the agent's
//! command) comes back in the [`Transition`].

use starling_common::Timestamp;

use crate::Error;
use crate::lifecycle::{self, AgentCommand, ClusterView, Transition};
use crate::model::*;
use crate::repo::{HostQuery, HostRef, InventoryRepo};
use crate::validate::{self, NewHost};

/// What the system record starts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemSpec {
    /// Name.
    pub name: String,
    /// All-in-one or Standard.
    pub system_type: SystemType,
    /// Simplex, duplex or duplex-direct.
    pub system_mode: SystemMode,
    /// Software version.
    pub software_version: String,
    /// Region.
    pub region_name: String,
}

/// The system record, created from `spec` the first time; later starts keep
/// what is stored (an operator may have changed it).
pub fn ensure_system(
    repo: &mut dyn InventoryRepo,
    spec: &SystemSpec,
    now: Timestamp,
) -> Result<System, Error> {
    if let Some(s) = repo.system()? {
        return Ok(s);
    }
    let s = System {
        uuid: starling_common::new_uuid(),
        name: spec.name.clone(),
        system_type: spec.system_type,
        system_mode: spec.system_mode,
        description: String::new(),
        contact: String::new(),
        location: String::new(),
        timezone: "UTC".into(),
        software_version: spec.software_version.clone(),
        region_name: spec.region_name.clone(),
        active_controller: None,
        created_at: now,
        updated_at: None,
    };
    repo.insert_system(&s)?;
    Ok(s)
}

fn system(repo: &mut dyn InventoryRepo) -> Result<System, Error> {
    repo.system()?
        .ok_or_else(|| Error::invalid("The system has not been bootstrapped yet"))
}

/// The host `r`, or a 404 naming it.
pub fn host(repo: &mut dyn InventoryRepo, r: &HostRef) -> Result<Host, Error> {
    repo.host(r)?
        .ok_or_else(|| Error::not_found(format!("Host not found: {r}")))
}

/// host-add: checks the request on its own, then against the system and the
/// hosts holding its hostname or MAC; provisions a discovered host in place
/// or adds a new one (locked-disabled-offline, unprovisioned).
pub fn add_host(
    repo: &mut dyn InventoryRepo,
    req: &NewHost,
    now: Timestamp,
) -> Result<Host, Error> {
    let sys = system(repo)?;
    let c = validate::new_host(req)?;
    let same_name = repo.host(&HostRef::Name(c.hostname.clone()))?;
    let same_mac = repo.host_by_mac(&c.mgmt_mac)?;
    let discovered = validate::admit(&sys, &c, same_name.as_ref(), same_mac.as_ref())?;
    let mut h = match (discovered, same_mac) {
        (Some(_), Some(d)) => d,
        _ => Host::new(
            repo.next_host_id()?,
            starling_common::new_uuid(),
            c.mgmt_mac.clone(),
            now,
        ),
    };
    h.subfunctions = validate::subfunctions(c.personality, sys.system_type);
    h.hostname = Some(c.hostname);
    h.personality = Some(c.personality);
    h.mgmt_ip = c.mgmt_ip;
    h.bm_ip = c.bm_ip;
    h.bm_type = c.bm_type;
    h.bm_username = c.bm_username;
    h.boot_device = c.boot_device;
    h.rootfs_device = c.rootfs_device;
    h.console = c.console;
    h.install_output = c.install_output;
    h.location = c.location;
    h.serialid = c.serialid;
    if discovered.is_some() {
        h.updated_at = Some(now);
        repo.update_host(&h)?;
    } else {
        repo.insert_host(&h)?;
    }
    Ok(h)
}

/// What the rest of the cluster looks like to an action on `host`.
pub fn view(repo: &mut dyn InventoryRepo, host: &Host) -> Result<ClusterView, Error> {
    let sys = system(repo)?;
    let peers = repo
        .hosts(&HostQuery {
            personality: Some(Personality::Controller),
            ..HostQuery::default()
        })?
        .into_iter()
        .filter(|h| h.id != host.id)
        .collect();
    Ok(ClusterView {
        system_mode: sys.system_mode,
        active_controller: sys.active_controller,
        peers,
    })
}

/// Decides and applies `action` on host `r`; returns the whole effect for the
/// caller to finish outside the transaction (alarm, agent command).
pub fn act(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    action: Action,
    now: Timestamp,
) -> Result<Transition, Error> {
    let h = host(repo, r)?;
    let v = view(repo, &h)?;
    let mut t = lifecycle::decide(&h, action, &v)?;
    if t.host != h {
        t.host.updated_at = Some(now);
        repo.update_host(&t.host)?;
    }
    if let Some(active) = &t.new_active {
        let mut sys = system(repo)?;
        sys.active_controller = Some(active.clone());
        sys.updated_at = Some(now);
        repo.update_system(&sys)?;
    }
    Ok(t)
}

/// The agent finished (or failed) `command` on host `r`.
pub fn complete(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    command: AgentCommand,
    ok: bool,
    now: Timestamp,
) -> Result<Transition, Error> {
    let h = host(repo, r)?;
    let mut t = lifecycle::complete(&h, command, ok)?;
    t.host.updated_at = Some(now);
    repo.update_host(&t.host)?;
    Ok(t)
}

/// Deletes host `r` when StarlingX would allow it; returns what was deleted.
pub fn delete_host(repo: &mut dyn InventoryRepo, r: &HostRef) -> Result<Host, Error> {
    let h = host(repo, r)?;
    let v = view(repo, &h)?;
    lifecycle::check_delete(&h, &v)?;
    repo.delete_host(h.id)?;
    Ok(h)
}
