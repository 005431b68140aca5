//! [`InventoryRepo`] in SQL, for every backend.

use starling_common::Timestamp;
use starling_inventory::hardware::{HwKind, HwRow};
use starling_inventory::repo::{HostQuery, HostRef, InventoryRepo};
use starling_inventory::{
    Administrative, Availability, BmType, Error, Host, InvProvision, Operational, Personality,
    System, SystemMode, SystemType,
};

use starling_db::{Conn, Row, StorageFailure, Value, columns};

mod schema;
pub use schema::SCHEMA;

/// The inventory repository over one transaction.
pub struct InventoryStore<'a> {
    c: &'a mut dyn Conn,
}

impl<'a> InventoryStore<'a> {
    /// Wraps a connection that is inside a transaction.
    pub fn new(c: &'a mut dyn Conn) -> Self {
        InventoryStore { c }
    }
}

columns! {
    /// The system record's columns (`inv_system y`); the key `uuid` first.
    mod system_c ("y") {
        uuid, name, system_type, system_mode, description, contact, location, timezone,
        software_version, region_name, active_controller, created_at, updated_at,
    }
}
columns! {
    /// A host's columns (`inv_host h`); the key `id` first.
    mod host_c ("h") {
        id, uuid, hostname, personality, subfunctions, mgmt_mac, mgmt_ip, serialid, location,
        bm_ip, bm_type, bm_username, boot_device, rootfs_device, console, install_output,
        administrative, operational, availability, invprovision, inv_state, task, ihost_action,
        uptime, software_load, config_target, config_applied, config_status, config_failure,
        created_at, updated_at,
    }
}
columns! {
    /// A sequence's value (`starling_sequence q`).
    mod sequence_c ("q") { value }
}
columns! {
    /// An agent credential's columns (`inv_agent_credential a`).
    mod credential_c ("a") { host_id, token_hash, issued_at }
}
columns! {
    /// A named secret's columns (`inv_secret x`).
    mod secret_c ("x") { name, hash, set_at }
}
columns! {
    /// A hardware record's columns (`inv_hw w`).
    mod hw_c ("w") { uuid, host_id, kind, natural_key, body, created_at, updated_at }
}

fn parsed<T>(r: Result<T, Error>) -> Result<T, StorageFailure> {
    r.map_err(|e| StorageFailure::decode(format!("stored value is not valid: {e}")))
}

fn system(mut r: Row) -> Result<System, StorageFailure> {
    use system_c as C;
    Ok(System {
        system_type: parsed(SystemType::parse(&r.take_text(C::system_type)?))?,
        system_mode: parsed(SystemMode::parse(&r.take_text(C::system_mode)?))?,
        uuid: r.take_text(C::uuid)?,
        name: r.take_text(C::name)?,
        description: r.take_text(C::description)?,
        contact: r.take_text(C::contact)?,
        location: r.take_text(C::location)?,
        timezone: r.take_text(C::timezone)?,
        software_version: r.take_text(C::software_version)?,
        region_name: r.take_text(C::region_name)?,
        active_controller: r.take_opt_text(C::active_controller)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn host(mut r: Row) -> Result<Host, StorageFailure> {
    use host_c as C;
    let personality = match r.opt_str(C::personality)? {
        Some(p) => Some(parsed(Personality::parse(p))?),
        None => None,
    };
    Ok(Host {
        personality,
        id: r.int(C::id)?,
        uuid: r.take_text(C::uuid)?,
        hostname: r.take_opt_text(C::hostname)?,
        subfunctions: r.take_text(C::subfunctions)?,
        mgmt_mac: r.take_text(C::mgmt_mac)?,
        mgmt_ip: r.take_opt_text(C::mgmt_ip)?,
        serialid: r.take_text(C::serialid)?,
        location: r.take_text(C::location)?,
        bm_ip: r.take_opt_text(C::bm_ip)?,
        bm_type: parsed(BmType::parse(&r.take_text(C::bm_type)?))?,
        bm_username: r.take_opt_text(C::bm_username)?,
        boot_device: r.take_text(C::boot_device)?,
        rootfs_device: r.take_text(C::rootfs_device)?,
        console: r.take_text(C::console)?,
        install_output: r.take_text(C::install_output)?,
        administrative: parsed(Administrative::parse(&r.take_text(C::administrative)?))?,
        operational: parsed(Operational::parse(&r.take_text(C::operational)?))?,
        availability: parsed(Availability::parse(&r.take_text(C::availability)?))?,
        invprovision: parsed(InvProvision::parse(&r.take_text(C::invprovision)?))?,
        inv_state: r.take_text(C::inv_state)?,
        task: r.take_text(C::task)?,
        ihost_action: r.take_text(C::ihost_action)?,
        uptime: r.int(C::uptime)?,
        software_load: r.take_text(C::software_load)?,
        config_target: r.take_opt_text(C::config_target)?,
        config_applied: r.take_opt_text(C::config_applied)?,
        config_status: r.take_opt_text(C::config_status)?,
        config_failure: r.take_opt_text(C::config_failure)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn hw_row(mut r: Row) -> Result<HwRow, StorageFailure> {
    use hw_c as C;
    let kind = r.take_text(C::kind)?;
    let kind = HwKind::parse(&kind)
        .ok_or_else(|| StorageFailure::decode(format!("unknown hardware kind '{kind}'")))?;
    Ok(HwRow {
        kind,
        uuid: r.take_text(C::uuid)?,
        host_id: r.int(C::host_id)?,
        natural_key: r.take_text(C::natural_key)?,
        body: r.take_text(C::body)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
        updated_at: r.opt_int(C::updated_at)?.map(Timestamp::from_micros),
    })
}

fn opt(s: Option<&str>) -> Value<'_> {
    s.map_or(Value::Null, Value::from)
}

fn ts(t: Option<Timestamp>) -> Value<'static> {
    t.map_or(Value::Null, |t| Value::Int(t.micros()))
}

/// A host's values in [`host_c`]'s order (the key `id` first).
fn host_values(h: &Host) -> Vec<Value<'_>> {
    vec![
        Value::Int(h.id),
        h.uuid.as_str().into(),
        opt(h.hostname.as_deref()),
        opt(h.personality.map(Personality::as_str)),
        h.subfunctions.as_str().into(),
        h.mgmt_mac.as_str().into(),
        opt(h.mgmt_ip.as_deref()),
        h.serialid.as_str().into(),
        h.location.as_str().into(),
        opt(h.bm_ip.as_deref()),
        h.bm_type.as_str().into(),
        opt(h.bm_username.as_deref()),
        h.boot_device.as_str().into(),
        h.rootfs_device.as_str().into(),
        h.console.as_str().into(),
        h.install_output.as_str().into(),
        h.administrative.as_str().into(),
        h.operational.as_str().into(),
        h.availability.as_str().into(),
        h.invprovision.as_str().into(),
        h.inv_state.as_str().into(),
        h.task.as_str().into(),
        h.ihost_action.as_str().into(),
        Value::Int(h.uptime),
        h.software_load.as_str().into(),
        opt(h.config_target.as_deref()),
        opt(h.config_applied.as_deref()),
        opt(h.config_status.as_deref()),
        opt(h.config_failure.as_deref()),
        Value::Int(h.created_at.micros()),
        ts(h.updated_at),
    ]
}

/// The system's values in [`system_c`]'s order (the key `uuid` first).
fn system_values(s: &System) -> Vec<Value<'_>> {
    vec![
        s.uuid.as_str().into(),
        s.name.as_str().into(),
        s.system_type.as_str().into(),
        s.system_mode.as_str().into(),
        s.description.as_str().into(),
        s.contact.as_str().into(),
        s.location.as_str().into(),
        s.timezone.as_str().into(),
        s.software_version.as_str().into(),
        s.region_name.as_str().into(),
        opt(s.active_controller.as_deref()),
        Value::Int(s.created_at.micros()),
        ts(s.updated_at),
    ]
}

impl InventoryRepo for InventoryStore<'_> {
    fn system(&mut self) -> Result<Option<System>, Error> {
        starling_db::first(
            self.c,
            &format!("SELECT {} FROM inv_system y", system_c::LIST),
            &[],
            system,
        )
    }
    fn insert_system(&mut self, s: &System) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO inv_system ({}) VALUES ({})",
                system_c::NAMES,
                system_c::PLACEHOLDERS
            ),
            &system_values(s),
        )?;
        Ok(())
    }
    fn update_system(&mut self, s: &System) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "UPDATE inv_system SET {} WHERE uuid = ?",
                system_c::SET_REST
            ),
            &starling_db::key_last(system_values(s)),
        )?;
        Ok(())
    }

    fn next_host_id(&mut self) -> Result<i64, Error> {
        // A sequence row on every backend: host ids are never reused, even
        // after the highest is deleted (clients address hosts by id).
        self.c.exec(
            "UPDATE starling_sequence SET value = value + 1 WHERE name = 'inv_host'",
            &[],
        )?;
        let r = self.c.query(
            &format!(
                "SELECT {} FROM starling_sequence q WHERE name = 'inv_host'",
                sequence_c::LIST
            ),
            &[],
        )?;
        match r.first() {
            Some(row) => Ok(row.int(sequence_c::value)?),
            None => Err(Error::Storage(starling_common::StorageFailure::fatal(
                "sequence inv_host missing",
            ))),
        }
    }
    fn hosts(&mut self, q: &HostQuery) -> Result<Vec<Host>, Error> {
        let mut sql = format!("SELECT {} FROM inv_host h WHERE 1 = 1", host_c::LIST);
        let mut params = Vec::new();
        if let Some(p) = q.personality {
            sql.push_str(" AND personality = ?");
            params.push(p.as_str().into());
        }
        if let Some(a) = q.after_id {
            sql.push_str(" AND id > ?");
            params.push(Value::Int(a));
        }
        sql.push_str(" ORDER BY id");
        if let Some(l) = q.limit {
            sql.push_str(&format!(" LIMIT {l}"));
        }
        starling_db::rows(self.c, &sql, &params, host)
    }
    fn host(&mut self, r: &HostRef) -> Result<Option<Host>, Error> {
        let (col, v): (&str, Value<'_>) = match r {
            HostRef::Id(i) => ("id", Value::Int(*i)),
            HostRef::Uuid(u) => ("uuid", u.as_str().into()),
            HostRef::Name(n) => ("hostname", n.as_str().into()),
        };
        starling_db::first(
            self.c,
            &format!("SELECT {} FROM inv_host h WHERE {col} = ?", host_c::LIST),
            &[v],
            host,
        )
    }
    fn host_by_mac(&mut self, mac: &str) -> Result<Option<Host>, Error> {
        starling_db::first(
            self.c,
            &format!("SELECT {} FROM inv_host h WHERE mgmt_mac = ?", host_c::LIST),
            &[mac.into()],
            host,
        )
    }
    fn insert_host(&mut self, h: &Host) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO inv_host ({}) VALUES ({})",
                host_c::NAMES,
                host_c::PLACEHOLDERS
            ),
            &host_values(h),
        )?;
        Ok(())
    }
    fn update_host(&mut self, h: &Host) -> Result<(), Error> {
        // (MariaDB counts changed rows, not matched ones: callers read the
        // host in the same transaction, so no row count is checked here.)
        self.c.exec(
            &format!("UPDATE inv_host SET {} WHERE id = ?", host_c::SET_REST),
            &starling_db::key_last(host_values(h)),
        )?;
        Ok(())
    }
    fn delete_host(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM inv_hw WHERE host_id = ?", &[Value::Int(id)])?;
        self.clear_agent_credential(id)?;
        self.set_bmc_secret(id, None, Timestamp::from_micros(0))?;
        self.c
            .exec("DELETE FROM inv_host WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }

    fn agent_credential(&mut self, host_id: i64) -> Result<Option<Timestamp>, Error> {
        starling_db::first(
            self.c,
            &format!(
                "SELECT {} FROM inv_agent_credential a WHERE host_id = ?",
                credential_c::LIST
            ),
            &[Value::Int(host_id)],
            |r| Ok(Timestamp::from_micros(r.int(credential_c::issued_at)?)),
        )
    }
    fn set_agent_credential(
        &mut self,
        host_id: i64,
        hash: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.clear_agent_credential(host_id)?;
        self.c.exec(
            "INSERT INTO inv_agent_credential (host_id, token_hash, issued_at) VALUES (?, ?, ?)",
            &[Value::Int(host_id), hash.into(), Value::Int(now.micros())],
        )?;
        Ok(())
    }
    fn bmc_secret(&mut self, host_id: i64) -> Result<Option<String>, Error> {
        starling_db::first(
            self.c,
            "SELECT sealed FROM inv_bmc_secret WHERE host_id = ?",
            &[Value::Int(host_id)],
            |r| r.text(0),
        )
    }
    fn set_bmc_secret(
        &mut self,
        host_id: i64,
        sealed: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM inv_bmc_secret WHERE host_id = ?",
            &[Value::Int(host_id)],
        )?;
        if let Some(sealed) = sealed {
            self.c.exec(
                "INSERT INTO inv_bmc_secret (host_id, sealed, set_at) VALUES (?, ?, ?)",
                &[Value::Int(host_id), sealed.into(), Value::Int(now.micros())],
            )?;
        }
        Ok(())
    }
    fn clear_agent_credential(&mut self, host_id: i64) -> Result<(), Error> {
        self.c.exec(
            "DELETE FROM inv_agent_credential WHERE host_id = ?",
            &[Value::Int(host_id)],
        )?;
        Ok(())
    }
    fn host_of_agent_credential(&mut self, hash: &str) -> Result<Option<Host>, Error> {
        starling_db::first(
            self.c,
            &format!(
                "SELECT {} FROM inv_host h JOIN inv_agent_credential a ON a.host_id = h.id \
                 WHERE a.token_hash = ?",
                host_c::LIST
            ),
            &[hash.into()],
            host,
        )
    }
    fn secret_hash(&mut self, name: &str) -> Result<Option<String>, Error> {
        starling_db::first(
            self.c,
            &format!("SELECT {} FROM inv_secret x WHERE name = ?", secret_c::LIST),
            &[name.into()],
            |r| r.text(secret_c::hash),
        )
    }
    fn set_secret_hash(&mut self, name: &str, hash: &str, now: Timestamp) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM inv_secret WHERE name = ?", &[name.into()])?;
        self.c.exec(
            "INSERT INTO inv_secret (name, hash, set_at) VALUES (?, ?, ?)",
            &[name.into(), hash.into(), Value::Int(now.micros())],
        )?;
        Ok(())
    }

    fn hw(&mut self, host_id: i64, kind: HwKind) -> Result<Vec<HwRow>, Error> {
        starling_db::rows(
            self.c,
            &format!(
                "SELECT {} FROM inv_hw w WHERE host_id = ? AND kind = ?",
                hw_c::LIST
            ),
            &[Value::Int(host_id), kind.as_str().into()],
            hw_row,
        )
    }
    fn hw_by_uuid(&mut self, uuid: &str) -> Result<Option<HwRow>, Error> {
        starling_db::first(
            self.c,
            &format!("SELECT {} FROM inv_hw w WHERE uuid = ?", hw_c::LIST),
            &[uuid.into()],
            hw_row,
        )
    }
    fn insert_hw(&mut self, r: &HwRow) -> Result<(), Error> {
        self.c.exec(
            &format!(
                "INSERT INTO inv_hw ({}) VALUES ({})",
                hw_c::NAMES,
                hw_c::PLACEHOLDERS
            ),
            &[
                r.uuid.as_str().into(),
                Value::Int(r.host_id),
                r.kind.as_str().into(),
                r.natural_key.as_str().into(),
                r.body.as_str().into(),
                Value::Int(r.created_at.micros()),
                ts(r.updated_at),
            ],
        )?;
        Ok(())
    }
    fn update_hw(&mut self, r: &HwRow) -> Result<(), Error> {
        self.c.exec(
            "UPDATE inv_hw SET natural_key = ?, body = ?, updated_at = ? WHERE uuid = ?",
            &[
                r.natural_key.as_str().into(),
                r.body.as_str().into(),
                ts(r.updated_at),
                r.uuid.as_str().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_hw(&mut self, uuid: &str) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM inv_hw WHERE uuid = ?", &[uuid.into()])?;
        Ok(())
    }
}
