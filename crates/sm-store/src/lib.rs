//! Service management's tables ([`SCHEMA`]): [`load`] reads what SM
//! manages into a checked [`Model`]; [`record`] writes what it found
//! (each service's and group's state, this node's assignments) for the
//! API and `sm-dump`; the `set_*` functions are `sm-configure`'s.
//!
//! SM keeps these tables in a database of its own on each controller (a
//! SQLite file by default): it must run before, and without, the
//! replicated database it manages.

use std::collections::BTreeMap;
use std::time::Duration;

use starling_common::{Error, Timestamp, new_uuid};
use starling_db::{Conn, Row, StorageFailure, Value, columns, first, rows};
use starling_sm::group::{Impact, ServiceState, Status};
use starling_sm::model::{
    ActionDef, ActionKind, DomainDef, DomainMember, InterfaceDef, Model, Parts, Plugin, ServiceDef,
};
use starling_sm::node::{GroupView, ServiceView, settled_str, status_str};
use starling_sm::schedule::Desired;

mod schema;
pub use schema::SCHEMA;

/// The domain every controller belongs to.
pub const DOMAIN: &str = "controller";

fn ms(r: &Row, c: impl starling_db::ColumnIndex) -> Result<Duration, StorageFailure> {
    Ok(Duration::from_millis(u64::try_from(r.int(c)?).unwrap_or(0)))
}

fn count(r: &Row, c: impl starling_db::ColumnIndex) -> Result<u32, StorageFailure> {
    Ok(u32::try_from(r.int(c)?).unwrap_or(0))
}

fn impact(s: &str) -> Option<Impact> {
    Some(match s {
        "none" => Impact::None,
        "minor" => Impact::Minor,
        "major" => Impact::Major,
        "critical" => Impact::Critical,
        _ => return None,
    })
}

/// A service state's name, as the tables hold it.
pub fn parse_state(s: &str) -> Option<ServiceState> {
    Some(match s {
        "enabled-active" => ServiceState::EnabledActive,
        "enabled-standby" => ServiceState::EnabledStandby,
        "disabled" => ServiceState::Disabled,
        _ => return None,
    })
}

columns! {
    mod domain ("d") {
        name, priority, preempt, hello_ms, dead_ms, wait_ms, exchange_ms, generation,
    }
}
columns! {
    mod iface ("i") {
        name, provisioned, device, address, port, peer_address, peer_port,
    }
}
columns! {
    mod member ("m") {
        group_name, n_active, m_standby, aggregate_name, active_only_if_active,
    }
}
columns! {
    mod group ("g") { name, auto_recover, fatal_error_reboot, failure_debounce_ms }
}
columns! {
    mod gmember ("gm") { group_name, service, impact }
}
columns! {
    mod service ("s") {
        name, max_failures, fail_countdown_interval_ms, max_action_failures,
    }
}
columns! {
    mod action ("a") {
        service, action_name, plugin_type, plugin_name, plugin_command, plugin_parameters,
        timeout_s, interval_s,
    }
}
columns! {
    mod dep ("x") { service, action_name, dependent, dependent_state }
}

/// Reads what SM manages (the provisioned rows) and checks it.
pub fn load(c: &mut dyn Conn) -> Result<Model, Error> {
    let invalid = |m: String| Error::invalid(format!("the sm tables: {m}"));
    let d = c
        .query(
            &format!(
                "SELECT {} FROM sm_domain d WHERE d.name = ? AND d.provisioned = ?",
                domain::LIST
            ),
            &[DOMAIN.into(), true.into()],
        )?
        .into_iter()
        .next()
        .ok_or_else(|| invalid(format!("no provisioned domain {DOMAIN}")))?;
    let interfaces = rows::<_, Error>(
        c,
        &format!(
            "SELECT {} FROM sm_domain_interface i WHERE i.domain = ? ORDER BY i.name",
            iface::LIST
        ),
        &[DOMAIN.into()],
        |r| {
            Ok(InterfaceDef {
                name: r.text(iface::name)?,
                provisioned: r.bool(iface::provisioned)?,
                device: r.text(iface::device)?,
                address: r.text(iface::address)?,
                port: u16::try_from(r.int(iface::port)?).unwrap_or(0),
                peer_address: r.text(iface::peer_address)?,
                peer_port: u16::try_from(r.int(iface::peer_port)?).unwrap_or(0),
            })
        },
    )?;
    let members = rows::<_, Error>(
        c,
        &format!(
            "SELECT {} FROM sm_domain_member m WHERE m.domain = ? AND m.provisioned = ?
             ORDER BY m.group_name",
            member::LIST
        ),
        &[DOMAIN.into(), true.into()],
        |r| {
            Ok(DomainMember {
                group: r.text(member::group_name)?,
                n_active: usize::try_from(r.int(member::n_active)?).unwrap_or(0),
                m_standby: usize::try_from(r.int(member::m_standby)?).unwrap_or(0),
                aggregate: r.opt_text(member::aggregate_name)?,
                active_only_if_active: r.opt_text(member::active_only_if_active)?,
            })
        },
    )?;
    let priority = d.int(domain::priority)?;
    let domain = DomainDef {
        name: d.text(domain::name)?,
        priority: u8::try_from(priority)
            .map_err(|_| invalid(format!("domain priority {priority} is not 0-255")))?,
        preempt: d.bool(domain::preempt)?,
        hello: ms(&d, domain::hello_ms)?,
        dead: ms(&d, domain::dead_ms)?,
        wait: ms(&d, domain::wait_ms)?,
        exchange: ms(&d, domain::exchange_ms)?,
        generation: u64::try_from(d.int(domain::generation)?).unwrap_or(0),
        members,
        interfaces,
    };
    // The groups in the domain's order of members.
    let mut groups = rows::<_, Error>(
        c,
        &format!(
            "SELECT {} FROM sm_group g WHERE g.provisioned = ?",
            group::LIST
        ),
        &[true.into()],
        |r| {
            Ok((
                r.text(group::name)?,
                r.bool(group::auto_recover)?,
                r.bool(group::fatal_error_reboot)?,
                ms(&r, group::failure_debounce_ms)?,
            ))
        },
    )?;
    let order = |g: &str| domain.members.iter().position(|m| m.group == g);
    groups.sort_by_key(|g| (order(&g.0).unwrap_or(usize::MAX), g.0.clone()));
    let mut members = Vec::new();
    for r in c.query(
        &format!(
            "SELECT {} FROM sm_group_member gm WHERE gm.provisioned = ?
             ORDER BY gm.group_name, gm.service",
            gmember::LIST
        ),
        &[true.into()],
    )? {
        let i = r.text(gmember::impact)?;
        let svc = r.text(gmember::service)?;
        members.push((
            r.text(gmember::group_name)?,
            svc.clone(),
            impact(&i).ok_or_else(|| invalid(format!("service {svc}: impact {i}")))?,
        ));
    }
    let mut actions: BTreeMap<String, BTreeMap<ActionKind, ActionDef>> = BTreeMap::new();
    for r in c.query(&format!("SELECT {} FROM sm_action a", action::LIST), &[])? {
        let svc = r.text(action::service)?;
        let name = r.text(action::action_name)?;
        let kind = ActionKind::parse(&name)
            .ok_or_else(|| invalid(format!("service {svc}: unknown action {name}")))?;
        let secs = |c| {
            r.int(c)
                .map(|v| Duration::from_secs(u64::try_from(v).unwrap_or(0)))
        };
        actions.entry(svc).or_default().insert(
            kind,
            ActionDef {
                kind,
                plugin: Plugin {
                    kind: r.text(action::plugin_type)?,
                    name: r.text(action::plugin_name)?,
                    command: r.text(action::plugin_command)?,
                    parameters: r.text(action::plugin_parameters)?,
                },
                timeout: secs(action::timeout_s)?,
                interval: secs(action::interval_s)?,
            },
        );
    }
    let mut instances: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in c.query("SELECT service, param, value FROM sm_instance", &[])? {
        instances
            .entry(r.text(0usize)?)
            .or_default()
            .insert(r.text(1usize)?, r.text(2usize)?);
    }
    let mut services = Vec::new();
    for r in c.query(
        &format!(
            "SELECT {} FROM sm_service s WHERE s.provisioned = ? ORDER BY s.name",
            service::LIST
        ),
        &[true.into()],
    )? {
        let name = r.text(service::name)?;
        services.push(ServiceDef {
            max_failures: count(&r, service::max_failures)?,
            fail_countdown_interval: ms(&r, service::fail_countdown_interval_ms)?,
            max_action_failures: count(&r, service::max_action_failures)?,
            actions: actions.remove(&name).unwrap_or_default(),
            instance: instances.remove(&name).unwrap_or_default(),
            name,
        });
    }
    let mut dependencies = Vec::new();
    for r in c.query(
        &format!(
            "SELECT {} FROM sm_dependency x WHERE x.dependency_type = ?",
            dep::LIST
        ),
        &["action".into()],
    )? {
        let svc = r.text(dep::service)?;
        let a = r.text(dep::action_name)?;
        let st = r.text(dep::dependent_state)?;
        dependencies.push((
            svc.clone(),
            ActionKind::parse(&a)
                .ok_or_else(|| invalid(format!("a dependency of {svc}: unknown action {a}")))?,
            r.text(dep::dependent)?,
            parse_state(&st)
                .ok_or_else(|| invalid(format!("a dependency of {svc}: unknown state {st}")))?,
        ));
    }
    // A dependency on a service not provisioned is no dependency.
    dependencies.retain(|d| {
        services.iter().any(|s| s.name == d.0) && services.iter().any(|s| s.name == d.2)
    });
    let throttle = configuration(c, "ENABLING_THROTTLE")?
        .map(|v| {
            v.parse::<usize>()
                .map_err(|_| invalid(format!("ENABLING_THROTTLE {v} is not a count")))
        })
        .transpose()?
        .unwrap_or(2);
    Model::build(Parts {
        domain,
        groups,
        members,
        services,
        dependencies,
        throttle,
    })
    .map_err(invalid)
}

/// An exit code's meaning for an exec or systemd action (`plugin_name`
/// `*` stands for any): whether the action succeeded and, for an audit,
/// the state it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionResult {
    pub plugin_type: String,
    pub plugin_name: String,
    pub command: String,
    pub exit_code: i32,
    pub success: bool,
    pub state: Option<ServiceState>,
}

/// Every exit-code mapping.
pub fn action_results(c: &mut dyn Conn) -> Result<Vec<ActionResult>, Error> {
    rows(
        c,
        "SELECT plugin_type, plugin_name, plugin_command, exit_code, action_result, service_state
         FROM sm_action_result",
        &[],
        |r| {
            Ok(ActionResult {
                plugin_type: r.text(0usize)?,
                plugin_name: r.text(1usize)?,
                command: r.text(2usize)?,
                exit_code: i32::try_from(r.int(3usize)?).unwrap_or(-1),
                success: r.text(4usize)? == "success",
                state: parse_state(&r.text(5usize)?),
            })
        },
    )
}

/// A `CONFIGURATION` value.
pub fn configuration(c: &mut dyn Conn, name: &str) -> Result<Option<String>, Error> {
    first(
        c,
        "SELECT value FROM sm_configuration WHERE name = ?",
        &[name.into()],
        |r| r.text(0usize),
    )
}

pub fn set_configuration(c: &mut dyn Conn, name: &str, value: &str) -> Result<(), Error> {
    c.exec(
        "DELETE FROM sm_configuration WHERE name = ?",
        &[name.into()],
    )?;
    c.exec(
        "INSERT INTO sm_configuration (name, value) VALUES (?, ?)",
        &[name.into(), value.into()],
    )?;
    Ok(())
}

/// A heartbeat path's addresses (`sm-configure interface`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceConfig {
    pub device: String,
    pub address: String,
    pub port: u16,
    pub peer_address: String,
    pub peer_port: u16,
}

/// Provisions a domain interface with its addresses.
pub fn set_interface(c: &mut dyn Conn, name: &str, i: &InterfaceConfig) -> Result<(), Error> {
    known_interface(c, name)?;
    c.exec(
        "UPDATE sm_domain_interface SET provisioned = ?, device = ?, address = ?, port = ?,
         peer_address = ?, peer_port = ? WHERE domain = ? AND name = ?",
        &[
            true.into(),
            i.device.as_str().into(),
            i.address.as_str().into(),
            i64::from(i.port).into(),
            i.peer_address.as_str().into(),
            i64::from(i.peer_port).into(),
            DOMAIN.into(),
            name.into(),
        ],
    )?;
    Ok(())
}

fn known_interface(c: &mut dyn Conn, name: &str) -> Result<(), Error> {
    let known: Option<String> = first::<_, Error>(
        c,
        "SELECT name FROM sm_domain_interface WHERE domain = ? AND name = ?",
        &[DOMAIN.into(), name.into()],
        |r| r.text(0usize),
    )?;
    known.map(|_| ()).ok_or_else(|| {
        Error::not_found(format!(
            "no interface {name} in domain {DOMAIN} (management-interface, cluster-host-interface, oam-interface)"
        ))
    })
}

/// Takes a domain interface out of use.
pub fn unset_interface(c: &mut dyn Conn, name: &str) -> Result<(), Error> {
    known_interface(c, name)?;
    c.exec(
        "UPDATE sm_domain_interface SET provisioned = ? WHERE domain = ? AND name = ?",
        &[false.into(), DOMAIN.into(), name.into()],
    )?;
    Ok(())
}

fn known_service(c: &mut dyn Conn, service: &str) -> Result<(), Error> {
    let known: Option<i64> = first::<_, Error>(
        c,
        "SELECT id FROM sm_service WHERE name = ?",
        &[service.into()],
        |r| r.int(0usize),
    )?;
    known
        .map(|_| ())
        .ok_or_else(|| Error::not_found(format!("no service {service}")))
}

/// Sets a service's instance parameters (`sm-configure
/// service_instance`), replacing the ones it had.
pub fn set_instance(
    c: &mut dyn Conn,
    service: &str,
    params: &[(String, String)],
) -> Result<(), Error> {
    known_service(c, service)?;
    c.exec(
        "DELETE FROM sm_instance WHERE service = ?",
        &[service.into()],
    )?;
    for (k, v) in params {
        c.exec(
            "INSERT INTO sm_instance (service, param, value) VALUES (?, ?, ?)",
            &[service.into(), k.as_str().into(), v.as_str().into()],
        )?;
    }
    Ok(())
}

/// Puts a service under SM's management, or takes it out (with its
/// membership of its group).
pub fn set_provisioned(c: &mut dyn Conn, service: &str, provisioned: bool) -> Result<(), Error> {
    known_service(c, service)?;
    c.exec(
        "UPDATE sm_service SET provisioned = ? WHERE name = ?",
        &[provisioned.into(), service.into()],
    )?;
    c.exec(
        "UPDATE sm_group_member SET provisioned = ? WHERE service = ?",
        &[provisioned.into(), service.into()],
    )?;
    Ok(())
}

/// Changes how a service's actions are carried out (every action of it:
/// the executor and its unit or script; each action's command goes back
/// to the executor's own for it).
pub fn set_plugin(
    c: &mut dyn Conn,
    service: &str,
    plugin_type: &str,
    plugin_name: &str,
) -> Result<(), Error> {
    known_service(c, service)?;
    c.exec(
        "UPDATE sm_action SET plugin_type = ?, plugin_name = ?, plugin_command = '',
         plugin_parameters = '' WHERE service = ?",
        &[plugin_type.into(), plugin_name.into(), service.into()],
    )?;
    Ok(())
}

/// Records the domain's generation (bumped by a takeover) and leader.
pub fn set_generation(c: &mut dyn Conn, generation: u64, leader: &str) -> Result<(), Error> {
    c.exec(
        "UPDATE sm_domain SET generation = ?, leader = ? WHERE name = ?",
        &[
            i64::try_from(generation).unwrap_or(i64::MAX).into(),
            leader.into(),
            DOMAIN.into(),
        ],
    )?;
    Ok(())
}

/// Sets the domain's priority and timers (ms).
pub fn set_domain(
    c: &mut dyn Conn,
    priority: Option<u8>,
    hello_ms: Option<u32>,
    dead_ms: Option<u32>,
    wait_ms: Option<u32>,
) -> Result<(), Error> {
    for (col, v) in [
        ("priority", priority.map(u32::from)),
        ("hello_ms", hello_ms),
        ("dead_ms", dead_ms),
        ("wait_ms", wait_ms),
    ] {
        if let Some(v) = v {
            c.exec(
                &format!("UPDATE sm_domain SET {col} = ? WHERE name = ?"),
                &[i64::from(v).into(), DOMAIN.into()],
            )?;
        }
    }
    Ok(())
}

/// A node's states, as SM's node table holds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRow {
    pub id: i64,
    pub name: String,
    pub administrative_state: String,
    pub operational_state: String,
    pub availability_status: String,
    pub ready_state: String,
}

columns! {
    mod node ("n") {
        id, name, administrative_state, operational_state, availability_status, ready_state,
    }
}

fn node_row(r: Row) -> Result<NodeRow, StorageFailure> {
    Ok(NodeRow {
        id: r.int(node::id)?,
        name: r.text(node::name)?,
        administrative_state: r.text(node::administrative_state)?,
        operational_state: r.text(node::operational_state)?,
        availability_status: r.text(node::availability_status)?,
        ready_state: r.text(node::ready_state)?,
    })
}

/// Records a node's states (the id is kept, or the next one given).
pub fn set_node(
    c: &mut dyn Conn,
    name: &str,
    admin: &str,
    oper: &str,
    avail: &str,
    ready: &str,
    at: Timestamp,
) -> Result<(), Error> {
    // Whether the row exists is asked, not read from the update's count:
    // MariaDB counts the rows an update changed, not those it matched.
    if node(c, name)?.is_some() {
        c.exec(
            "UPDATE sm_node SET administrative_state = ?, operational_state = ?,
             availability_status = ?, ready_state = ?, updated_at = ? WHERE name = ?",
            &[
                admin.into(),
                oper.into(),
                avail.into(),
                ready.into(),
                at.micros().into(),
                name.into(),
            ],
        )?;
    } else {
        let id: i64 = first::<_, Error>(
            c,
            "SELECT COALESCE(MAX(id), 0) + 1 FROM sm_node",
            &[],
            |r| r.int(0usize),
        )?
        .unwrap_or(1);
        c.exec(
            "INSERT INTO sm_node (id, name, administrative_state, operational_state,
             availability_status, ready_state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                id.into(),
                name.into(),
                admin.into(),
                oper.into(),
                avail.into(),
                ready.into(),
                at.micros().into(),
            ],
        )?;
    }
    Ok(())
}

pub fn nodes(c: &mut dyn Conn) -> Result<Vec<NodeRow>, Error> {
    rows(
        c,
        &format!("SELECT {} FROM sm_node n ORDER BY n.name", node::LIST),
        &[],
        node_row,
    )
}

/// A node by name or id.
pub fn node(c: &mut dyn Conn, key: &str) -> Result<Option<NodeRow>, Error> {
    let id = key.parse::<i64>().ok();
    first(
        c,
        &format!(
            "SELECT {} FROM sm_node n WHERE n.name = ? OR n.id = ?",
            node::LIST
        ),
        &[key.into(), id.into()],
        node_row,
    )
}

/// A service's recorded state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRow {
    pub id: i64,
    pub name: String,
    pub group: Option<String>,
    pub desired_state: String,
    pub state: String,
    pub status: String,
    pub condition: String,
    pub reason: String,
}

columns! {
    mod svc ("s") { id, name, desired_state, state, status, status_condition, reason }
}

fn service_row(r: Row) -> Result<ServiceRow, StorageFailure> {
    Ok(ServiceRow {
        id: r.int(svc::id)?,
        name: r.text(svc::name)?,
        group: r.opt_text(svc::COUNT)?,
        desired_state: r.text(svc::desired_state)?,
        state: r.text(svc::state)?,
        status: r.text(svc::status)?,
        condition: r.text(svc::status_condition)?,
        reason: r.text(svc::reason)?,
    })
}

fn services_sql(filter: &str) -> String {
    format!(
        "SELECT {}, gm.group_name FROM sm_service s
         LEFT JOIN sm_group_member gm ON gm.service = s.name
         WHERE s.provisioned = ? {filter} ORDER BY s.name",
        svc::LIST
    )
}

pub fn services(c: &mut dyn Conn) -> Result<Vec<ServiceRow>, Error> {
    rows(c, &services_sql(""), &[true.into()], service_row)
}

/// A service by id or name.
pub fn service(c: &mut dyn Conn, key: &str) -> Result<Option<ServiceRow>, Error> {
    let id = key.parse::<i64>().ok();
    first(
        c,
        &services_sql("AND (s.name = ? OR s.id = ?)"),
        &[true.into(), key.into(), id.into()],
        service_row,
    )
}

/// A group's assignment to a node (sysinv's `servicegroup`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentRow {
    pub id: i64,
    pub uuid: String,
    pub domain: String,
    pub node_name: String,
    pub group_name: String,
    pub desired_state: String,
    pub state: String,
    pub status: String,
    pub condition: String,
}

columns! {
    mod sda ("a") {
        id, uuid, domain, node_name, group_name, desired_state, state, status, status_condition,
    }
}

fn assignment_row(r: Row) -> Result<AssignmentRow, StorageFailure> {
    Ok(AssignmentRow {
        id: r.int(sda::id)?,
        uuid: r.text(sda::uuid)?,
        domain: r.text(sda::domain)?,
        node_name: r.text(sda::node_name)?,
        group_name: r.text(sda::group_name)?,
        desired_state: r.text(sda::desired_state)?,
        state: r.text(sda::state)?,
        status: r.text(sda::status)?,
        condition: r.text(sda::status_condition)?,
    })
}

pub fn assignments(c: &mut dyn Conn) -> Result<Vec<AssignmentRow>, Error> {
    rows(
        c,
        &format!(
            "SELECT {} FROM sm_assignment a ORDER BY a.group_name, a.node_name",
            sda::LIST
        ),
        &[],
        assignment_row,
    )
}

pub fn assignment(c: &mut dyn Conn, uuid: &str) -> Result<Option<AssignmentRow>, Error> {
    first(
        c,
        &format!("SELECT {} FROM sm_assignment a WHERE a.uuid = ?", sda::LIST),
        &[uuid.into()],
        assignment_row,
    )
}

fn desired_str(d: Desired) -> &'static str {
    match d {
        Desired::Active => "active",
        Desired::Standby => "standby",
        Desired::Disabled => "disabled",
    }
}

/// What a node's SM found: its groups and services now.
pub struct Snapshot<'a> {
    pub node: &'a str,
    pub groups: &'a [GroupView],
    pub services: &'a [ServiceView],
    pub at: Timestamp,
}

/// Records a node's groups (its assignments) and, for this node, its
/// services. Rows that did not change are not written.
pub fn record(c: &mut dyn Conn, s: &Snapshot<'_>) -> Result<(), Error> {
    for g in s.groups {
        let values: [Value<'_>; 4] = [
            desired_str(g.desired).into(),
            g.state.into(),
            status_str(g.status).into(),
            g.condition.as_str().into(),
        ];
        let exists: Option<i64> = first::<_, Error>(
            c,
            "SELECT id FROM sm_assignment WHERE node_name = ? AND group_name = ?",
            &[s.node.into(), g.name.as_str().into()],
            |r| r.int(0usize),
        )?;
        if exists.is_some() {
            c.exec(
                "UPDATE sm_assignment SET desired_state = ?, state = ?, status = ?,
             status_condition = ?, updated_at = ? WHERE node_name = ? AND group_name = ?",
                &[
                    values[0].clone(),
                    values[1].clone(),
                    values[2].clone(),
                    values[3].clone(),
                    s.at.micros().into(),
                    s.node.into(),
                    g.name.as_str().into(),
                ],
            )?;
        } else {
            let id: i64 = first::<_, Error>(
                c,
                "SELECT COALESCE(MAX(id), 0) + 1 FROM sm_assignment",
                &[],
                |r| r.int(0usize),
            )?
            .unwrap_or(1);
            let [a, b, cc, d] = values;
            c.exec(
                "INSERT INTO sm_assignment (id, uuid, domain, node_name, group_name,
                 desired_state, state, status, status_condition, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    id.into(),
                    new_uuid().into(),
                    DOMAIN.into(),
                    s.node.into(),
                    g.name.as_str().into(),
                    a,
                    b,
                    cc,
                    d,
                    s.at.micros().into(),
                ],
            )?;
        }
    }
    for v in s.services {
        c.exec(
            "UPDATE sm_service SET desired_state = ?, state = ?, status = ?,
             status_condition = ?, reason = ? WHERE name = ?",
            &[
                settled_str(v.desired).into(),
                v.state.into(),
                status_str(v.status).into(),
                v.condition.as_str().into(),
                v.reason.as_str().into(),
                v.name.as_str().into(),
            ],
        )?;
    }
    Ok(())
}

/// Whether a status string is a failure (for the alarms).
pub fn is_failed(status: &str) -> bool {
    status == status_str(Status::Failed)
}
