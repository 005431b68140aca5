//! Versioned schema migrations, written once with dialect tokens and applied in
//! order at open. Applied versions are recorded in `starling_schema_migrations`;
//! a concurrent opener waits on a database lock.

use crate::{Conn, Dialect, StoreError, Value};

/// One migration: a version, a name and DDL statements with tokens.
struct Migration {
    version: i64,
    name: &'static str,
    statements: &'static [&'static str],
}

/// Every migration, oldest first. Never edit a released one: add a new one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "fault management",
        statements: &[
            "CREATE TABLE starling_sequence (
            name {s64} PRIMARY KEY,
            value BIGINT NOT NULL
        ){opts}",
            "INSERT INTO starling_sequence (name, value) VALUES ('fm_alarm', 0), ('fm_event_log', 0), ('fm_event_suppression', 0)",
            "CREATE TABLE fm_event_suppression (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            alarm_id {s15} NOT NULL UNIQUE,
            description {text} NOT NULL,
            suppression_status {s15} NOT NULL,
            set_for_deletion {bool} NOT NULL,
            mgmt_affecting {s15} NOT NULL,
            degrade_affecting {s15} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE fm_alarm (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            alarm_id {s15} NOT NULL,
            entity_type_id {s255} NOT NULL,
            entity_instance_id {s255} NOT NULL,
            ts BIGINT NOT NULL,
            severity {s15} NOT NULL,
            reason_text {text} NOT NULL,
            alarm_type {s64} NOT NULL,
            probable_cause {s64} NOT NULL,
            proposed_repair_action {text} NOT NULL,
            service_affecting {bool} NOT NULL,
            suppression {bool} NOT NULL,
            inhibit_alarms {bool} NOT NULL,
            masked {bool} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT,
            UNIQUE (alarm_id, entity_instance_id)
        ){opts}",
            "CREATE INDEX fm_alarm_eid ON fm_alarm (entity_instance_id)",
            "CREATE INDEX fm_alarm_order ON fm_alarm (severity, entity_instance_id, id)",
            "CREATE TABLE fm_event_log (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            event_log_id {s15} NOT NULL,
            state {s15} NOT NULL,
            entity_type_id {s255} NOT NULL,
            entity_instance_id {s255} NOT NULL,
            ts BIGINT NOT NULL,
            severity {s15} NOT NULL,
            reason_text {text} NOT NULL,
            event_log_type {s64} NOT NULL,
            probable_cause {s64} NOT NULL,
            proposed_repair_action {text} NOT NULL,
            service_affecting {bool} NOT NULL,
            suppression {bool} NOT NULL,
            created_at BIGINT NOT NULL
        ){opts}",
            "CREATE INDEX fm_event_log_ts ON fm_event_log (ts, id)",
            "CREATE INDEX fm_event_log_eid_ts ON fm_event_log (entity_instance_id, ts, id)",
            "CREATE INDEX fm_event_log_elid_ts ON fm_event_log (event_log_id, ts, id)",
        ],
    },
    Migration {
        version: 2,
        name: "fault management notification outbox",
        statements: &[
            "INSERT INTO starling_sequence (name, value) VALUES ('fm_outbox', 0)",
            "CREATE TABLE fm_outbox (
            id {pk},
            payload {text} NOT NULL
        ){opts}",
        ],
    },
    Migration {
        version: 3,
        name: "identity",
        statements: &[
            "CREATE TABLE id_domain (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL UNIQUE,
            description {text} NOT NULL,
            enabled {bool} NOT NULL
        ){opts}",
            "CREATE TABLE id_project (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL,
            domain_id {s64} NOT NULL,
            description {text} NOT NULL,
            enabled {bool} NOT NULL,
            UNIQUE (domain_id, name)
        ){opts}",
            "CREATE TABLE id_user (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL,
            domain_id {s64} NOT NULL,
            enabled {bool} NOT NULL,
            password_hash {text},
            default_project_id {s64},
            failed_logins BIGINT NOT NULL,
            locked_until BIGINT,
            description {text} NOT NULL,
            email {s255} NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (domain_id, name)
        ){opts}",
            "CREATE TABLE id_role (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL UNIQUE
        ){opts}",
            "CREATE TABLE id_assignment (
            user_id {s64} NOT NULL,
            target_type {s15} NOT NULL,
            target_id {s64} NOT NULL,
            role_id {s64} NOT NULL,
            PRIMARY KEY (user_id, target_type, target_id, role_id)
        ){opts}",
            "CREATE INDEX id_assignment_target ON id_assignment (target_type, target_id)",
            "CREATE TABLE id_service (
            id {s64} PRIMARY KEY,
            service_type {s64} NOT NULL,
            name {s255} NOT NULL,
            description {text} NOT NULL,
            enabled {bool} NOT NULL
        ){opts}",
            "CREATE TABLE id_endpoint (
            id {s64} PRIMARY KEY,
            service_id {s64} NOT NULL,
            interface {s15} NOT NULL,
            region {s255} NOT NULL,
            url {text} NOT NULL,
            enabled {bool} NOT NULL
        ){opts}",
            "CREATE TABLE id_token (
            hash {s64} PRIMARY KEY,
            user_id {s64} NOT NULL,
            scope_type {s15},
            scope_id {s64},
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            audit_id {s64} NOT NULL,
            revoked {bool} NOT NULL
        ){opts}",
            "CREATE INDEX id_token_user ON id_token (user_id)",
            "CREATE INDEX id_token_expiry ON id_token (expires_at)",
        ],
    },
    Migration {
        version: 4,
        name: "inventory: system and hosts",
        statements: &[
            "INSERT INTO starling_sequence (name, value) VALUES ('inv_host', 0)",
            "CREATE TABLE inv_system (
            uuid {s36} PRIMARY KEY,
            name {s255} NOT NULL,
            system_type {s15} NOT NULL,
            system_mode {s15} NOT NULL,
            description {text} NOT NULL,
            contact {text} NOT NULL,
            location {text} NOT NULL,
            timezone {s64} NOT NULL,
            software_version {s64} NOT NULL,
            region_name {s255} NOT NULL,
            active_controller {s255},
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE inv_host (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            hostname {s255} UNIQUE,
            personality {s15},
            subfunctions {s255} NOT NULL,
            mgmt_mac {s36} NOT NULL UNIQUE,
            mgmt_ip {s64},
            serialid {s255} NOT NULL,
            location {text} NOT NULL,
            bm_ip {s64},
            bm_type {s15} NOT NULL,
            bm_username {s64},
            boot_device {s255} NOT NULL,
            rootfs_device {s255} NOT NULL,
            console {s255} NOT NULL,
            install_output {s15} NOT NULL,
            administrative {s15} NOT NULL,
            operational {s15} NOT NULL,
            availability {s15} NOT NULL,
            invprovision {s15} NOT NULL,
            inv_state {s36} NOT NULL,
            task {s255} NOT NULL,
            ihost_action {s36} NOT NULL,
            uptime BIGINT NOT NULL,
            software_load {s64} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE INDEX inv_host_personality ON inv_host (personality, id)",
        ],
    },
    Migration {
        version: 5,
        name: "inventory: hardware records and labels",
        statements: &[
            // One table for every record type: a host's records of a kind
            // are always read together, and the item's fields are StarlingX's
            // wire attributes, kept as JSON so a new attribute needs no
            // migration. The natural key makes re-reports idempotent.
            "CREATE TABLE inv_hw (
            uuid {s36} PRIMARY KEY,
            host_id BIGINT NOT NULL,
            kind {s15} NOT NULL,
            natural_key {s255} NOT NULL,
            body {text} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE UNIQUE INDEX inv_hw_key ON inv_hw (host_id, kind, natural_key)",
        ],
    },
    Migration {
        version: 6,
        name: "fault management: active alarms keyed by entity first",
        statements: &[
            // The unique key (entity_instance_id, alarm_id) serves the set's
            // lookup, the hierarchical clear's prefix range and the inhibitor
            // lookup, so the separate entity index goes: one B-tree fewer to
            // write on every set. A table-level UNIQUE cannot be altered in
            // SQLite, hence the rebuild (the same statements on every backend).
            "CREATE TABLE fm_alarm_v6 (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            alarm_id {s15} NOT NULL,
            entity_type_id {s255} NOT NULL,
            entity_instance_id {s255} NOT NULL,
            ts BIGINT NOT NULL,
            severity {s15} NOT NULL,
            reason_text {text} NOT NULL,
            alarm_type {s64} NOT NULL,
            probable_cause {s64} NOT NULL,
            proposed_repair_action {text} NOT NULL,
            service_affecting {bool} NOT NULL,
            suppression {bool} NOT NULL,
            inhibit_alarms {bool} NOT NULL,
            masked {bool} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT,
            UNIQUE (entity_instance_id, alarm_id)
        ){opts}",
            "INSERT INTO fm_alarm_v6 (id, uuid, alarm_id, entity_type_id, entity_instance_id, ts, \
             severity, reason_text, alarm_type, probable_cause, proposed_repair_action, \
             service_affecting, suppression, inhibit_alarms, masked, created_at, updated_at) \
             SELECT id, uuid, alarm_id, entity_type_id, entity_instance_id, ts, severity, \
             reason_text, alarm_type, probable_cause, proposed_repair_action, service_affecting, \
             suppression, inhibit_alarms, masked, created_at, updated_at FROM fm_alarm",
            "DROP TABLE fm_alarm",
            "ALTER TABLE fm_alarm_v6 RENAME TO fm_alarm",
            "CREATE INDEX fm_alarm_order ON fm_alarm (severity, entity_instance_id, id)",
        ],
    },
];

/// Expands dialect tokens in a DDL template.
fn expand(d: Dialect, template: &str) -> String {
    // Strings compare bytewise on every backend ("C" collation on PostgreSQL,
    // utf8mb4_bin on MariaDB), so range scans and paging agree everywhere.
    let (s, pk, boolean, text, opts) = match d {
        Dialect::Sqlite => ("VARCHAR({n})", "INTEGER PRIMARY KEY", "BOOLEAN", "TEXT", ""),
        Dialect::Postgres => (
            "VARCHAR({n}) COLLATE \"C\"",
            "BIGINT PRIMARY KEY",
            "BOOLEAN",
            "TEXT",
            "",
        ),
        Dialect::Mysql => (
            "VARCHAR({n})",
            "BIGINT PRIMARY KEY",
            "BOOLEAN",
            "TEXT",
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        ),
    };
    let mut out = template
        .replace("{pk}", pk)
        .replace("{bool}", boolean)
        .replace("{text}", text)
        .replace("{opts}", opts);
    for n in ["15", "36", "64", "255"] {
        out = out.replace(&format!("{{s{n}}}"), &s.replace("{n}", n));
    }
    out
}

fn lock(c: &mut dyn Conn) -> Result<(), StoreError> {
    match c.dialect() {
        // BEGIN IMMEDIATE already holds the write lock.
        Dialect::Sqlite => Ok(()),
        Dialect::Postgres => c
            .query("SELECT pg_advisory_xact_lock(7271828)::text", &[])
            .map(|_| ()),
        Dialect::Mysql => {
            let r = c.query("SELECT GET_LOCK('starling_migrate', 120)", &[])?;
            match r.first().map(|row| row.int(0)) {
                Some(Ok(1)) => Ok(()),
                _ => Err(StoreError::connection(
                    "timed out waiting for another process's migration",
                )),
            }
        }
    }
}

fn unlock(c: &mut dyn Conn) -> Result<(), StoreError> {
    if c.dialect() == Dialect::Mysql {
        c.query("SELECT RELEASE_LOCK('starling_migrate')", &[])?;
    }
    Ok(())
}

/// Applies pending migrations up to and including `through`. Runs inside a
/// write transaction.
pub(crate) fn apply(c: &mut dyn Conn, through: i64) -> Result<(), StoreError> {
    lock(c)?;
    let r = apply_locked(c, through);
    let u = unlock(c);
    r.and(u)
}

fn apply_locked(c: &mut dyn Conn, through: i64) -> Result<(), StoreError> {
    c.exec(
        &expand(
            c.dialect(),
            "CREATE TABLE IF NOT EXISTS starling_schema_migrations (
                version BIGINT PRIMARY KEY,
                name {s255} NOT NULL,
                applied_at BIGINT NOT NULL
            ){opts}",
        ),
        &[],
    )?;
    let applied: Vec<i64> = c
        .query("SELECT version FROM starling_schema_migrations", &[])?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    let now = starling_common::Clock::now(&starling_common::SystemClock).micros();
    let pending = MIGRATIONS
        .iter()
        .filter(|m| m.version <= through && !applied.contains(&m.version));
    for m in pending {
        tracing::info!(version = m.version, name = m.name, "applying migration");
        for st in m.statements {
            c.exec(&expand(c.dialect(), st), &[])?;
        }
        c.exec(
            "INSERT INTO starling_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            &[Value::Int(m.version), m.name.into(), Value::Int(now)],
        )?;
    }
    Ok(())
}

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expand_per_dialect() {
        let t = "CREATE TABLE t (id {pk}, a {s36}, b {bool}){opts}";
        assert_eq!(
            expand(Dialect::Sqlite, t),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(36), b BOOLEAN)"
        );
        assert!(expand(Dialect::Postgres, t).contains("VARCHAR(36) COLLATE \"C\""));
        assert!(expand(Dialect::Mysql, t).ends_with("COLLATE=utf8mb4_bin"));
        for m in MIGRATIONS {
            for s in m.statements {
                for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
                    assert!(!expand(d, s).contains('{'), "unexpanded token in {s}");
                }
            }
        }
        assert_eq!(latest_version(), 6);
    }
}
