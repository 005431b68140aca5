//! [`InventoryRepo`] in SQL, for every backend.

use starling_common::Timestamp;
use starling_inventory::hardware::{HwKind, HwRow};
use starling_inventory::repo::{HostQuery, HostRef, InventoryRepo};
use starling_inventory::{
    Administrative, Availability, BmType, Error, Host, InvProvision, Operational, Personality,
    System, SystemMode, SystemType,
};

use crate::{Conn, Row, StoreError, Value};

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

const SYSTEM: &str = "SELECT uuid, name, system_type, system_mode, description, contact, location, \
     timezone, software_version, region_name, active_controller, created_at, updated_at FROM inv_system";

const HOST_COLS: &str = "id, uuid, hostname, personality, subfunctions, mgmt_mac, mgmt_ip, \
     serialid, location, bm_ip, bm_type, bm_username, boot_device, rootfs_device, console, \
     install_output, administrative, operational, availability, invprovision, inv_state, task, \
     ihost_action, uptime, software_load, created_at, updated_at";

fn parsed<T>(r: Result<T, Error>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::decode(format!("stored value is not valid: {e}")))
}

fn system(mut r: Row) -> Result<System, StoreError> {
    let system_type = parsed(SystemType::parse(&r.take_text(2)?))?;
    let system_mode = parsed(SystemMode::parse(&r.take_text(3)?))?;
    Ok(System {
        uuid: r.take_text(0)?,
        name: r.take_text(1)?,
        system_type,
        system_mode,
        description: r.take_text(4)?,
        contact: r.take_text(5)?,
        location: r.take_text(6)?,
        timezone: r.take_text(7)?,
        software_version: r.take_text(8)?,
        region_name: r.take_text(9)?,
        active_controller: r.opt_text(10)?,
        created_at: Timestamp::from_micros(r.int(11)?),
        updated_at: r.opt_int(12)?.map(Timestamp::from_micros),
    })
}

fn host(mut r: Row) -> Result<Host, StoreError> {
    let personality = match r.opt_str(3)? {
        Some(p) => Some(parsed(Personality::parse(p))?),
        None => None,
    };
    Ok(Host {
        id: r.int(0)?,
        uuid: r.take_text(1)?,
        hostname: r.opt_text(2)?,
        personality,
        subfunctions: r.take_text(4)?,
        mgmt_mac: r.take_text(5)?,
        mgmt_ip: r.opt_text(6)?,
        serialid: r.take_text(7)?,
        location: r.take_text(8)?,
        bm_ip: r.opt_text(9)?,
        bm_type: parsed(BmType::parse(&r.take_text(10)?))?,
        bm_username: r.opt_text(11)?,
        boot_device: r.take_text(12)?,
        rootfs_device: r.take_text(13)?,
        console: r.take_text(14)?,
        install_output: r.take_text(15)?,
        administrative: parsed(Administrative::parse(&r.take_text(16)?))?,
        operational: parsed(Operational::parse(&r.take_text(17)?))?,
        availability: parsed(Availability::parse(&r.take_text(18)?))?,
        invprovision: parsed(InvProvision::parse(&r.take_text(19)?))?,
        inv_state: r.take_text(20)?,
        task: r.take_text(21)?,
        ihost_action: r.take_text(22)?,
        uptime: r.int(23)?,
        software_load: r.take_text(24)?,
        created_at: Timestamp::from_micros(r.int(25)?),
        updated_at: r.opt_int(26)?.map(Timestamp::from_micros),
    })
}

const HW_COLS: &str = "uuid, host_id, kind, natural_key, body, created_at, updated_at";

fn hw_row(mut r: Row) -> Result<HwRow, StoreError> {
    let kind = r.take_text(2)?;
    let kind = HwKind::parse(&kind)
        .ok_or_else(|| StoreError::decode(format!("unknown hardware kind '{kind}'")))?;
    Ok(HwRow {
        uuid: r.take_text(0)?,
        host_id: r.int(1)?,
        kind,
        natural_key: r.take_text(3)?,
        body: r.take_text(4)?,
        created_at: Timestamp::from_micros(r.int(5)?),
        updated_at: r.opt_int(6)?.map(Timestamp::from_micros),
    })
}

fn opt(s: Option<&str>) -> Value<'_> {
    s.map_or(Value::Null, Value::from)
}

fn ts(t: Option<Timestamp>) -> Value<'static> {
    t.map_or(Value::Null, |t| Value::Int(t.micros()))
}

/// Every column of a host but the id, in [`HOST_COLS`] order.
fn host_values(h: &Host) -> Vec<Value<'_>> {
    vec![
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
        Value::Int(h.created_at.micros()),
        ts(h.updated_at),
    ]
}

fn system_values(s: &System) -> Vec<Value<'_>> {
    vec![
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
        crate::first(self.c, SYSTEM, &[], system)
    }
    fn insert_system(&mut self, s: &System) -> Result<(), Error> {
        let mut v = vec![Value::from(s.uuid.as_str())];
        v.extend(system_values(s));
        self.c.exec(
            "INSERT INTO inv_system (uuid, name, system_type, system_mode, description, contact, \
             location, timezone, software_version, region_name, active_controller, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &v,
        )?;
        Ok(())
    }
    fn update_system(&mut self, s: &System) -> Result<(), Error> {
        let mut v = system_values(s);
        v.push(s.uuid.as_str().into());
        self.c.exec(
            "UPDATE inv_system SET name = ?, system_type = ?, system_mode = ?, description = ?, \
             contact = ?, location = ?, timezone = ?, software_version = ?, region_name = ?, \
             active_controller = ?, created_at = ?, updated_at = ? WHERE uuid = ?",
            &v,
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
            "SELECT value FROM starling_sequence WHERE name = 'inv_host'",
            &[],
        )?;
        match r.first() {
            Some(row) => Ok(row.int(0)?),
            None => Err(Error::Storage(starling_common::StorageFailure::fatal(
                "sequence inv_host missing",
            ))),
        }
    }
    fn hosts(&mut self, q: &HostQuery) -> Result<Vec<Host>, Error> {
        let mut sql = format!("SELECT {HOST_COLS} FROM inv_host WHERE 1 = 1");
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
        crate::rows(self.c, &sql, &params, host)
    }
    fn host(&mut self, r: &HostRef) -> Result<Option<Host>, Error> {
        let (col, v): (&str, Value<'_>) = match r {
            HostRef::Id(i) => ("id", Value::Int(*i)),
            HostRef::Uuid(u) => ("uuid", u.as_str().into()),
            HostRef::Name(n) => ("hostname", n.as_str().into()),
        };
        crate::first(
            self.c,
            &format!("SELECT {HOST_COLS} FROM inv_host WHERE {col} = ?"),
            &[v],
            host,
        )
    }
    fn host_by_mac(&mut self, mac: &str) -> Result<Option<Host>, Error> {
        crate::first(
            self.c,
            &format!("SELECT {HOST_COLS} FROM inv_host WHERE mgmt_mac = ?"),
            &[mac.into()],
            host,
        )
    }
    fn insert_host(&mut self, h: &Host) -> Result<(), Error> {
        let mut v = vec![Value::Int(h.id)];
        v.extend(host_values(h));
        let marks = vec!["?"; v.len()].join(", ");
        self.c.exec(
            &format!("INSERT INTO inv_host ({HOST_COLS}) VALUES ({marks})"),
            &v,
        )?;
        Ok(())
    }
    fn update_host(&mut self, h: &Host) -> Result<(), Error> {
        let sets = HOST_COLS
            .split(',')
            .map(str::trim)
            .skip(1)
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut v = host_values(h);
        v.push(Value::Int(h.id));
        // (MariaDB counts changed rows, not matched ones: callers read the
        // host in the same transaction, so no row count is checked here.)
        self.c
            .exec(&format!("UPDATE inv_host SET {sets} WHERE id = ?"), &v)?;
        Ok(())
    }
    fn delete_host(&mut self, id: i64) -> Result<(), Error> {
        self.c
            .exec("DELETE FROM inv_hw WHERE host_id = ?", &[Value::Int(id)])?;
        self.c
            .exec("DELETE FROM inv_host WHERE id = ?", &[Value::Int(id)])?;
        Ok(())
    }

    fn hw(&mut self, host_id: i64, kind: HwKind) -> Result<Vec<HwRow>, Error> {
        crate::rows(
            self.c,
            &format!("SELECT {HW_COLS} FROM inv_hw WHERE host_id = ? AND kind = ?"),
            &[Value::Int(host_id), kind.as_str().into()],
            hw_row,
        )
    }
    fn hw_by_uuid(&mut self, uuid: &str) -> Result<Option<HwRow>, Error> {
        crate::first(
            self.c,
            &format!("SELECT {HW_COLS} FROM inv_hw WHERE uuid = ?"),
            &[uuid.into()],
            hw_row,
        )
    }
    fn insert_hw(&mut self, r: &HwRow) -> Result<(), Error> {
        self.c.exec(
            &format!("INSERT INTO inv_hw ({HW_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
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
