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

/// `system modify`: replaces the attributes an operator may change after
/// install (name, description, contact, location, timezone), checked as
/// sysinv checks them; the type, mode and software version stay as the
/// first start set them. All the changes or none. `uuid` must name the
/// system (lower case).
pub fn modify_system(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
    changes: &[(String, Option<String>)],
    now: Timestamp,
) -> Result<System, Error> {
    let mut s = match repo.system()? {
        Some(s) if s.uuid == uuid => s,
        _ => {
            return Err(Error::not_found(format!(
                "System {uuid} could not be found."
            )));
        }
    };
    for (attr, value) in changes {
        let fixed = |what: &str| Error::invalid(format!("{what} field cannot be modified."));
        let field = match attr.as_str() {
            "software_version" => return Err(fixed("software_version")),
            "system_type" => return Err(fixed("system_type")),
            "system_mode" => {
                return Err(Error::invalid(
                    "system_mode is set at the first start (--system-mode) and cannot be modified.",
                ));
            }
            "name" => &mut s.name,
            "description" => &mut s.description,
            "contact" => &mut s.contact,
            "location" => &mut s.location,
            "timezone" => &mut s.timezone,
            other => {
                return Err(Error::invalid(format!(
                    "System attribute '{other}' cannot be modified: use name, description, contact, location or timezone"
                )));
            }
        };
        let v = value.as_deref().ok_or_else(|| {
            Error::invalid(format!("System attribute '{attr}' cannot be removed"))
        })?;
        if !v.is_ascii() {
            return Err(Error::invalid(
                "System values must not contain special characters.",
            ));
        }
        validate::text(attr, v, 255)?;
        if (attr == "name" || attr == "timezone") && v.trim().is_empty() {
            return Err(Error::invalid(format!("The system {attr} cannot be empty")));
        }
        *field = v.to_string();
    }
    s.updated_at = Some(now);
    repo.update_system(&s)?;
    Ok(s)
}

fn system(repo: &mut dyn InventoryRepo) -> Result<System, Error> {
    repo.system()?
        .ok_or_else(|| Error::invalid("The system has not been bootstrapped yet"))
}

/// The first controller, as StarlingX's bootstrap creates it (sysinv §2.2,
/// first controller creation): when the system has no controller yet, the
/// host with `mgmt_mac` becomes `hostname`, a controller, and the active
/// controller — a host its agent registered first is provisioned in place.
/// Unlike host-add this runs on simplex systems (it is how the only
/// controller comes to exist). Returns the host when it was made now, `None`
/// when a controller already exists.
pub fn bootstrap_controller(
    repo: &mut dyn InventoryRepo,
    hostname: &str,
    mgmt_mac: &str,
    boot_disk: Option<&str>,
    now: Timestamp,
) -> Result<Option<Host>, Error> {
    let mut sys = system(repo)?;
    let mac = validate::mac(mgmt_mac)?;
    validate::hostname(hostname, Personality::Controller)?;
    if let Some(d) = boot_disk {
        validate::device("boot_device", Some(d), d)?;
    }
    let controllers = repo.hosts(&HostQuery {
        personality: Some(Personality::Controller),
        ..HostQuery::default()
    })?;
    if !controllers.is_empty() {
        return Ok(None);
    }
    if let Some(other) = repo.host(&HostRef::Name(hostname.to_string()))?
        && other.mgmt_mac != mac
    {
        return Err(Error::invalid(format!(
            "Bootstrap Rejected: hostname {hostname} is held by the host with mgmt_mac {}",
            other.mgmt_mac
        )));
    }
    let (mut h, discovered) = match repo.host_by_mac(&mac)? {
        Some(d) if d.personality.is_some() => {
            return Err(Error::invalid(format!(
                "Bootstrap Rejected: mgmt_mac {mac} belongs to {} ({})",
                d.display_name(),
                d.personality.map(Personality::as_str).unwrap_or("")
            )));
        }
        Some(d) => (d, true),
        None => (
            Host::new(
                repo.next_host_id()?,
                starling_common::new_uuid(),
                mac.clone(),
                now,
            ),
            false,
        ),
    };
    h.hostname = Some(hostname.to_string());
    h.personality = Some(Personality::Controller);
    h.subfunctions = validate::subfunctions(Personality::Controller, sys.system_type);
    // It is installed already: it boots from, and its root is on, the disk
    // its root filesystem is on.
    if let Some(d) = boot_disk {
        h.boot_device = d.to_string();
        h.rootfs_device = d.to_string();
    }
    if discovered {
        h.updated_at = Some(now);
        repo.update_host(&h)?;
    } else {
        repo.insert_host(&h)?;
    }
    sys.active_controller = Some(hostname.to_string());
    sys.updated_at = Some(now);
    repo.update_system(&sys)?;
    Ok(Some(h))
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
    validate::takes_hosts(&sys)?;
    let c = validate::new_host(req)?;
    let same_name = repo.host(&HostRef::Name(c.hostname.clone()))?;
    let same_mac = repo.host_by_mac(&c.mgmt_mac)?;
    let discovered = validate::admit(&sys, &c, same_name.as_ref(), same_mac.as_ref())?;
    place_host(repo, sys.system_type, c, discovered.and(same_mac), now)
}

/// Writes a host-add request that was checked and admitted: provisions the
/// `discovered` host in place, or adds a new one (locked-disabled-offline,
/// unprovisioned).
pub fn place_host(
    repo: &mut dyn InventoryRepo,
    system_type: SystemType,
    c: validate::CheckedHost,
    discovered: Option<Host>,
    now: Timestamp,
) -> Result<Host, Error> {
    let in_place = discovered.is_some();
    let mut h = match discovered {
        Some(d) => d,
        None => Host::new(
            repo.next_host_id()?,
            starling_common::new_uuid(),
            c.mgmt_mac.clone(),
            now,
        ),
    };
    apply_checked(&mut h, c, system_type);
    if in_place {
        h.updated_at = Some(now);
        repo.update_host(&h)?;
    } else {
        repo.insert_host(&h)?;
    }
    Ok(h)
}

/// Copies a checked request's fields onto a host record.
fn apply_checked(h: &mut Host, c: validate::CheckedHost, system_type: SystemType) {
    h.subfunctions = validate::subfunctions(c.personality, system_type);
    h.hostname = Some(c.hostname);
    h.personality = Some(c.personality);
    h.mgmt_mac = c.mgmt_mac;
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
}

/// Host attributes that only the system changes (states, counters, ids).
const READ_ONLY: &[&str] = &[
    "id",
    "uuid",
    "subfunctions",
    "administrative",
    "operational",
    "availability",
    "invprovision",
    "inv_state",
    "task",
    "ihost_action",
    "uptime",
    "software_load",
    "sw_version",
    "isystem_uuid",
    "created_at",
    "updated_at",
];

/// host-update: attribute changes on host `r`, each `(attribute, value)`
/// with `None` for a removal. The host as it would become is checked as a
/// whole, exactly as host-add checks a new one; a discovered host given a
/// hostname and personality is provisioned in place. Identity changes
/// (hostname, management MAC) need a locked host and stay unique; a
/// provisioned host keeps its personality.
pub fn update_host(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    changes: &[(String, Option<String>)],
    now: Timestamp,
) -> Result<Host, Error> {
    let sys = system(repo)?;
    let h = host(repo, r)?;
    let mut req = NewHost {
        hostname: h.hostname.clone(),
        personality: h.personality.map(|p| p.as_str().to_string()),
        mgmt_mac: Some(h.mgmt_mac.clone()),
        mgmt_ip: h.mgmt_ip.clone(),
        bm_ip: h.bm_ip.clone(),
        bm_type: Some(h.bm_type.as_str().to_string()),
        bm_username: h.bm_username.clone(),
        boot_device: Some(h.boot_device.clone()),
        rootfs_device: Some(h.rootfs_device.clone()),
        console: Some(h.console.clone()),
        install_output: Some(h.install_output.clone()),
        location: Some(h.location.clone()),
        serialid: Some(h.serialid.clone()),
    };
    for (attr, value) in changes {
        let Some(slot) = req.field_mut(attr) else {
            return Err(if READ_ONLY.contains(&attr.as_str()) {
                Error::invalid(format!(
                    "The host attribute '{attr}' cannot be changed with host-update"
                ))
            } else {
                Error::invalid(format!("Unknown attribute for argument host: {attr}"))
            });
        };
        *slot = value.clone();
    }
    // Removing the BMC type means none (not the add-time default).
    if req.bm_type.is_none() {
        req.bm_type = Some(BmType::None.as_str().to_string());
    }
    let name = h.display_name().to_string();
    let provisioned = h.is_provisioned_record();
    if provisioned && req.personality.as_deref() != h.personality.map(Personality::as_str) {
        return Err(Error::invalid(format!(
            "Host-update Rejected: the personality of {name} cannot change once it is provisioned; delete and re-add the host"
        )));
    }
    let c = validate::new_host(&req).map_err(|e| match e {
        Error::Invalid(m) => Error::Invalid(m.replace("Host-add Rejected", "Host-update Rejected")),
        other => other,
    })?;
    let renamed = h.hostname.as_deref() != Some(c.hostname.as_str());
    let new_mac = h.mgmt_mac != c.mgmt_mac;
    if provisioned && (renamed || new_mac) && h.administrative != Administrative::Locked {
        return Err(Error::invalid(format!(
            "Host-update Rejected: {name} must be locked to change its hostname or management MAC"
        )));
    }
    if renamed && repo.host(&HostRef::Name(c.hostname.clone()))?.is_some() {
        return Err(Error::invalid(format!(
            "Host-update Rejected: Hostname {} already exists",
            c.hostname
        )));
    }
    if new_mac && repo.host_by_mac(&c.mgmt_mac)?.is_some() {
        return Err(Error::invalid(format!(
            "Host-update Rejected: host with mgmt_mac {} already exists",
            c.mgmt_mac
        )));
    }
    if !provisioned && sys.system_mode == SystemMode::Simplex {
        return Err(Error::invalid(
            "Adding a host on a simplex system is not allowed.",
        ));
    }
    let mut n = h.clone();
    apply_checked(&mut n, c, sys.system_type);
    if n != h {
        n.updated_at = Some(now);
        repo.update_host(&n)?;
    }
    Ok(n)
}

/// The order of a host list (`sort_key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostSort {
    /// By id (StarlingX's default).
    Id,
    /// By hostname (unprovisioned hosts first).
    Hostname,
    /// By personality.
    Personality,
    /// By administrative state.
    Administrative,
    /// By operational state.
    Operational,
    /// By availability.
    Availability,
    /// By creation time.
    CreatedAt,
}

impl HostSort {
    /// Parses a `sort_key`.
    pub fn parse(s: &str) -> Result<HostSort, Error> {
        Ok(match s {
            "id" => HostSort::Id,
            "hostname" => HostSort::Hostname,
            "personality" => HostSort::Personality,
            "administrative" => HostSort::Administrative,
            "operational" => HostSort::Operational,
            "availability" => HostSort::Availability,
            "created_at" => HostSort::CreatedAt,
            other => {
                return Err(Error::invalid(format!(
                    "Invalid sort_key '{other}': expected id, hostname, personality, administrative, operational, availability or created_at"
                )));
            }
        })
    }
}

/// One page of a host list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostPage {
    /// The hosts of the page.
    pub hosts: Vec<Host>,
    /// More hosts follow this page.
    pub more: bool,
}

/// A page of hosts with `personality`, ordered by `sort` (ties by id) in
/// `desc`ending or ascending order, after the host `marker` (a uuid), at
/// most `limit`. A cluster holds at most a few thousand hosts, so the order
/// is applied to the filtered set here, identically on every backend.
pub fn list_hosts(
    repo: &mut dyn InventoryRepo,
    personality: Option<Personality>,
    sort: HostSort,
    desc: bool,
    marker: Option<&str>,
    limit: usize,
) -> Result<HostPage, Error> {
    let mut all = repo.hosts(&HostQuery {
        personality,
        ..HostQuery::default()
    })?;
    let key = |h: &Host| -> (String, i64) {
        let k = match sort {
            HostSort::Id => String::new(),
            HostSort::Hostname => h.hostname.clone().unwrap_or_default(),
            HostSort::Personality => h.personality.map(|p| p.as_str()).unwrap_or("").into(),
            HostSort::Administrative => h.administrative.as_str().into(),
            HostSort::Operational => h.operational.as_str().into(),
            HostSort::Availability => h.availability.as_str().into(),
            HostSort::CreatedAt => format!("{:020}", h.created_at.micros()),
        };
        (k, h.id)
    };
    all.sort_by_cached_key(key);
    if desc {
        all.reverse();
    }
    let start = match marker {
        Some(m) => {
            all.iter()
                .position(|h| h.uuid == m)
                .ok_or_else(|| Error::invalid(format!("Invalid marker: host {m} not found")))?
                + 1
        }
        None => 0,
    };
    // Every host is at hand: `more` is exact, so a client never follows a
    // `next` link to an empty page.
    let more = all.len().saturating_sub(start) > limit;
    let hosts: Vec<Host> = all.into_iter().skip(start).take(limit).collect();
    Ok(HostPage { hosts, more })
}

/// What the rest of the cluster looks like to an action on `host`.
pub fn view(
    repo: &mut dyn InventoryRepo,
    host: &Host,
    maintained: bool,
) -> Result<ClusterView, Error> {
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
        maintained,
    })
}

/// Decides and applies `action` on host `r` (`maintained`: host
/// maintenance runs and enables unlocked hosts); returns the whole effect
/// for the caller to finish outside the transaction (alarm, agent command).
pub fn act(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    action: Action,
    maintained: bool,
    now: Timestamp,
) -> Result<Transition, Error> {
    let h = host(repo, r)?;
    let v = view(repo, &h, maintained)?;
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

/// Whether `action` on host `r` would be allowed now, and the host:
/// [`act`]'s decision without its writes (for an action another service
/// carries out first: a swact goes to service management).
pub fn check(
    repo: &mut dyn InventoryRepo,
    r: &HostRef,
    action: Action,
    maintained: bool,
) -> Result<Host, Error> {
    let h = host(repo, r)?;
    let v = view(repo, &h, maintained)?;
    lifecycle::decide(&h, action, &v)?;
    Ok(h)
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
    // A reinstalled host's agent starts anew, without its credential: it
    // enrolls again.
    if command == AgentCommand::Reinstall && ok {
        repo.clear_agent_credential(h.id)?;
    }
    Ok(t)
}

/// Sets (`Some`: already sealed by the caller) or removes host `h`'s BMC
/// password. A password needs a provisioned BMC type; a host whose BMC
/// type is none keeps none.
pub fn set_bmc_password(
    repo: &mut dyn InventoryRepo,
    h: &Host,
    sealed: Option<&str>,
    now: Timestamp,
) -> Result<(), Error> {
    if sealed.is_some() && h.bm_type == BmType::None {
        return Err(Error::invalid(format!(
            "bm_password needs a board management controller: set bm_type, bm_ip and bm_username of {} with it",
            h.display_name()
        )));
    }
    repo.set_bmc_secret(h.id, sealed, now)
}

/// What host maintenance observes of a host's health.
pub use starling_common::HostHealth as Health;

/// What configuration's new marks did to a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marked {
    /// The host as it became.
    pub host: Host,
    /// Whether anything was written.
    pub written: bool,
    /// The locked-host alarm's change (an unlock undone).
    pub alarm: Option<lifecycle::AlarmChange>,
    /// The state change to log.
    pub event: Option<lifecycle::HostEvent>,
}

/// Configuration's marks on host `uuid` (its target, what it applied, its
/// status and last failure), shown by host-show. Writes nothing when they
/// are what the host shows already. A host unlocking with configuration
/// owed (task `Configuring`) goes on when the marks say it applied it —
/// tested by maintenance when it runs (`maintained`), enabled otherwise —
/// and is locked again, the failure logged, when they say the apply
/// failed.
pub fn mark_config(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
    marks: [Option<String>; 4],
    maintained: bool,
    now: Timestamp,
) -> Result<Marked, Error> {
    let mut h = host(repo, &HostRef::Uuid(uuid.to_string()))?;
    let [target, applied, status, failure] = marks;
    if (
        &h.config_target,
        &h.config_applied,
        &h.config_status,
        &h.config_failure,
    ) == (&target, &applied, &status, &failure)
    {
        return Ok(Marked {
            host: h,
            written: false,
            alarm: None,
            event: None,
        });
    }
    h.config_target = target;
    h.config_applied = applied;
    h.config_status = status;
    h.config_failure = failure;
    h.updated_at = Some(now);
    let (mut alarm, mut event) = (None, None);
    if h.administrative == Administrative::Unlocked && h.task == lifecycle::CONFIGURING {
        let name = h.display_name().into_owned();
        if h.config_applied.is_some() && h.config_applied == h.config_target {
            if maintained {
                h.task = "Testing".into();
            } else {
                h.operational = Operational::Enabled;
                h.availability = Availability::Available;
                h.task.clear();
            }
            event = Some(lifecycle::HostEvent {
                log: &crate::alarms::STATE_LOG,
                text: format!("{name} applied its configuration"),
            });
        } else if let Some(f) = &h.config_failure {
            let text =
                format!("{name} could not apply its configuration ({f}): it is locked again");
            h.administrative = Administrative::Locked;
            h.operational = Operational::Disabled;
            h.availability = Availability::Online;
            h.task.clear();
            alarm = Some(lifecycle::AlarmChange::RaiseLocked);
            event = Some(lifecycle::HostEvent {
                log: &crate::alarms::STATE_LOG,
                text,
            });
        }
    }
    repo.update_host(&h)?;
    Ok(Marked {
        host: h,
        written: true,
        alarm,
        event,
    })
}

/// Host maintenance's decision on unlocked host `uuid`: its availability
/// (the operational state follows: enabled when in service) and task, as
/// StarlingX shows them. A locked host is left as it is (a lock raced the
/// decision; the lock wins). Returns the host and, when its availability
/// changed, the state change to log.
pub fn maintain(
    repo: &mut dyn InventoryRepo,
    uuid: &str,
    health: Health,
    task: &str,
    now: Timestamp,
) -> Result<(Host, Option<lifecycle::HostEvent>), Error> {
    let mut h = host(repo, &HostRef::Uuid(uuid.to_string()))?;
    // A host applying the configuration its unlock was owed is
    // configuration's until it has (see `mark_config`).
    if h.administrative != Administrative::Unlocked || h.task == lifecycle::CONFIGURING {
        return Ok((h, None));
    }
    let operational = if health.enabled() {
        Operational::Enabled
    } else {
        Operational::Disabled
    };
    let availability = Availability::parse(health.availability())?;
    if (h.operational, h.availability, h.task.as_str()) == (operational, availability, task) {
        return Ok((h, None));
    }
    let changed = h.availability != availability;
    h.operational = operational;
    h.availability = availability;
    h.task = task.to_string();
    h.updated_at = Some(now);
    repo.update_host(&h)?;
    let event = changed.then(|| lifecycle::HostEvent {
        log: &crate::alarms::STATE_LOG,
        text: format!("{} is now '{}'", h.display_name(), h.availability),
    });
    Ok((h, event))
}

/// Deletes host `r` when StarlingX would allow it; returns what was deleted.
pub fn delete_host(repo: &mut dyn InventoryRepo, r: &HostRef) -> Result<Host, Error> {
    let h = host(repo, r)?;
    let v = view(repo, &h, false)?;
    lifecycle::check_delete(&h, &v)?;
    repo.delete_host(h.id)?;
    Ok(h)
}
