//! Versioned schema migrations, per component. Each service's store crate
//! owns a [`Schema`]: its component name and its migrations, written once with
//! dialect tokens. [`Db::open`](crate::Db::open) applies the pending ones of
//! the schemas it is given, in order, and records each as (component, version)
//! in `starling_migrations`; a concurrent opener waits on a database lock.
//!
//! Releases before schemas were per component kept one global list (versions
//! 1-6) in `starling_schema_migrations`. A migration names the global version
//! it had (`legacy`), so a database such a release left is taken over in place:
//! its applied versions are recorded for their components and never run again.
//! The old table is left as it was, read only.

use crate::{Conn, Dialect, StorageFailure, Value};

/// One migration of a component's schema: a version, a name and DDL
/// statements with dialect tokens (`{pk}`, `{s15}`/`{s36}`/`{s64}`/`{s255}`,
/// `{bool}`, `{text}`, `{opts}`).
#[derive(Debug)]
pub struct Migration {
    /// The version within its component, from 1, increasing.
    pub version: i64,
    /// The version it had in the single global list of the releases before
    /// per-component schemas, if it is that old.
    pub legacy: Option<i64>,
    /// What it does, for the log and the migrations table.
    pub name: &'static str,
    /// The statements, run in order.
    pub statements: &'static [&'static str],
}

/// A component's schema: its name and its migrations, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct Schema {
    /// The component's name, as recorded in `starling_migrations`.
    pub component: &'static str,
    /// Every migration, oldest first. Never edit a released one: add a new one.
    pub migrations: &'static [Migration],
}

impl Schema {
    /// A schema.
    pub const fn new(component: &'static str, migrations: &'static [Migration]) -> Self {
        Schema {
            component,
            migrations,
        }
    }

    /// The same schema with only the migrations up to and including
    /// `version`: the database as an older release left it, for upgrade tests.
    pub fn through(self, version: i64) -> Schema {
        let n = self
            .migrations
            .iter()
            .take_while(|m| m.version <= version)
            .count();
        Schema {
            component: self.component,
            migrations: &self.migrations[..n],
        }
    }

    /// The newest version this build knows.
    pub fn latest(&self) -> i64 {
        self.migrations.last().map_or(0, |m| m.version)
    }

    /// Checks the schema's shape: versions 1, 2, 3… in order, legacy versions
    /// distinct, every token expands on every dialect. Each store crate runs
    /// it in a unit test.
    pub fn check(&self) -> Result<(), String> {
        let mut legacy = Vec::new();
        for (i, m) in self.migrations.iter().enumerate() {
            let want = i64::try_from(i).map_err(|e| e.to_string())? + 1;
            if m.version != want {
                return Err(format!(
                    "{}: migration '{}' has version {}, expected {want}",
                    self.component, m.name, m.version
                ));
            }
            if let Some(l) = m.legacy {
                if legacy.contains(&l) {
                    return Err(format!(
                        "{}: legacy version {l} claimed twice",
                        self.component
                    ));
                }
                legacy.push(l);
            }
            for st in m.statements {
                for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
                    if expand(d, st).contains('{') {
                        return Err(format!(
                            "{} v{}: unexpanded token in {st}",
                            self.component, m.version
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Expands dialect tokens in a DDL template.
fn expand(d: Dialect, template: &str) -> String {
    // Strings compare bytewise on every backend ("C" collation on PostgreSQL,
    // utf8mb4_nopad_bin on MariaDB), so range scans and paging agree
    // everywhere and no two keys collide: MariaDB's utf8mb4_bin pads, so
    // 'ws' and 'ws ' would be the same key there.
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
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin",
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

fn lock(c: &mut dyn Conn) -> Result<(), StorageFailure> {
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
                _ => Err(StorageFailure::connection(
                    "timed out waiting for another process's migration",
                )),
            }
        }
    }
}

fn unlock(c: &mut dyn Conn) -> Result<(), StorageFailure> {
    if c.dialect() == Dialect::Mysql {
        c.query("SELECT RELEASE_LOCK('starling_migrate')", &[])?;
    }
    Ok(())
}

/// Applies the pending migrations of `schemas`, in order. Runs inside a
/// write transaction.
pub(crate) fn apply(c: &mut dyn Conn, schemas: &[Schema]) -> Result<(), StorageFailure> {
    lock(c)?;
    let r = apply_locked(c, schemas);
    let u = unlock(c);
    r.and(u)
}

/// The engine's own tables: the migration record and the id sequences some
/// components draw from.
const ENGINE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS starling_migrations (
        component {s64} NOT NULL,
        version BIGINT NOT NULL,
        name {s255} NOT NULL,
        applied_at BIGINT NOT NULL,
        PRIMARY KEY (component, version)
    ){opts}",
    "CREATE TABLE IF NOT EXISTS starling_sequence (
        name {s64} PRIMARY KEY,
        value BIGINT NOT NULL
    ){opts}",
];

const LEGACY_TABLE: &str = "starling_schema_migrations";

crate::columns! {
    /// A row of the single-list releases' migration table (`l`).
    mod legacy_c ("l") { version, applied_at }
}
crate::columns! {
    /// A row of `starling_migrations` (`m`) as the runner reads it.
    mod applied_c ("m") { component, version }
}

/// MariaDB: converts every table of the database still in a padding
/// collation (the releases before no-pad tables were made `utf8mb4_bin`) to
/// `utf8mb4_nopad_bin`, columns included. Once done, nothing is left to
/// convert and this is one catalog query. Converting never makes two keys
/// collide: keys equal without padding were equal with it.
fn unpad(c: &mut dyn Conn) -> Result<(), StorageFailure> {
    collate_tables(c, "utf8mb4_nopad_bin")
}

/// MariaDB: converts every table of the database not yet in `collation`
/// (columns included) to it.
fn collate_tables(c: &mut dyn Conn, collation: &str) -> Result<(), StorageFailure> {
    let tables = c.query(
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' \
         AND table_collation <> ?",
        &[collation.into()],
    )?;
    for mut t in tables {
        let name = t.take_text(0)?;
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StorageFailure::fatal(format!(
                "cannot convert table '{name}' to {collation}: not a Starling table name"
            )));
        }
        tracing::info!(table = %name, %collation, "converting the table's collation");
        c.exec(
            &format!("ALTER TABLE {name} CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}"),
            &[],
        )?;
    }
    Ok(())
}

/// True when `table` exists in the database (the current schema on PostgreSQL).
fn table_exists(c: &mut dyn Conn, table: &str) -> Result<bool, StorageFailure> {
    let sql = match c.dialect() {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
        Dialect::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = ?"
        }
        Dialect::Mysql => {
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = ?"
        }
    };
    Ok(!c.query(sql, &[table.into()])?.is_empty())
}

fn apply_locked(c: &mut dyn Conn, schemas: &[Schema]) -> Result<(), StorageFailure> {
    for st in ENGINE {
        c.exec(&expand(c.dialect(), st), &[])?;
    }
    if c.dialect() == Dialect::Mysql {
        unpad(c)?;
    }
    // (global version, applied_at) of a pre-split release's database.
    let legacy: Vec<(i64, i64)> = if table_exists(c, LEGACY_TABLE)? {
        c.query(
            &format!("SELECT {} FROM {LEGACY_TABLE} l", legacy_c::LIST),
            &[],
        )?
        .iter()
        .map(|r| Ok((r.int(legacy_c::version)?, r.int(legacy_c::applied_at)?)))
        .collect::<Result<_, StorageFailure>>()?
    } else {
        Vec::new()
    };
    let applied: Vec<(String, i64)> = c
        .query(
            &format!("SELECT {} FROM starling_migrations m", applied_c::LIST),
            &[],
        )?
        .into_iter()
        .map(|mut r| {
            Ok((
                r.take_text(applied_c::component)?,
                r.int(applied_c::version)?,
            ))
        })
        .collect::<Result<_, StorageFailure>>()?;
    let now = starling_common::Clock::now(&starling_common::SystemClock).micros();
    for schema in schemas {
        for m in schema.migrations {
            if applied
                .iter()
                .any(|(comp, v)| comp == schema.component && *v == m.version)
            {
                continue;
            }
            let taken_over = m
                .legacy
                .and_then(|l| legacy.iter().find(|(v, _)| *v == l))
                .map(|(_, at)| *at);
            match taken_over {
                Some(at) => {
                    tracing::info!(
                        component = schema.component,
                        version = m.version,
                        name = m.name,
                        "recording a migration an earlier release applied"
                    );
                    record(c, schema.component, m, at)?;
                }
                None => {
                    tracing::info!(
                        component = schema.component,
                        version = m.version,
                        name = m.name,
                        "applying migration"
                    );
                    for st in m.statements {
                        c.exec(&expand(c.dialect(), st), &[])?;
                    }
                    record(c, schema.component, m, now)?;
                }
            }
        }
    }
    Ok(())
}

fn record(c: &mut dyn Conn, component: &str, m: &Migration, at: i64) -> Result<(), StorageFailure> {
    c.exec(
        "INSERT INTO starling_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
        &[
            component.into(),
            Value::Int(m.version),
            m.name.into(),
            Value::Int(at),
        ],
    )?;
    Ok(())
}

/// Builds the database a release before per-component schemas left: the
/// global migration table and every migration with a legacy version up to
/// `through`, run in the global order those releases ran them. For upgrade
/// tests.
#[cfg(feature = "testing")]
pub(crate) fn apply_legacy(
    c: &mut dyn Conn,
    schemas: &[Schema],
    through: i64,
) -> Result<(), StorageFailure> {
    c.exec(
        &expand(
            c.dialect(),
            "CREATE TABLE starling_schema_migrations (
                version BIGINT PRIMARY KEY,
                name {s255} NOT NULL,
                applied_at BIGINT NOT NULL
            ){opts}",
        ),
        &[],
    )?;
    let mut all: Vec<(i64, &Migration)> = schemas
        .iter()
        .flat_map(|s| s.migrations.iter())
        .filter_map(|m| m.legacy.map(|l| (l, m)))
        .filter(|(l, _)| *l <= through)
        .collect();
    all.sort_by_key(|(l, _)| *l);
    if all.first().is_some_and(|(l, _)| *l == 1) {
        // Global migration 1 created the sequence table.
        c.exec(
            &expand(c.dialect(), ENGINE[1]).replace(" IF NOT EXISTS", ""),
            &[],
        )?;
    }
    for (l, m) in all {
        for st in m.statements {
            c.exec(&expand(c.dialect(), st), &[])?;
        }
        c.exec(
            "INSERT INTO starling_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            &[
                Value::Int(l),
                m.name.into(),
                Value::Int(1_700_000_000_000_000 + l),
            ],
        )?;
    }
    if c.dialect() == Dialect::Mysql {
        // Those releases made MariaDB's tables in a padding collation.
        collate_tables(c, "utf8mb4_bin")?;
    }
    Ok(())
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
        assert!(expand(Dialect::Mysql, t).ends_with("COLLATE=utf8mb4_nopad_bin"));
        let engine = Schema::new(
            "engine",
            &[Migration {
                version: 1,
                legacy: None,
                name: "engine",
                statements: ENGINE,
            }],
        );
        assert_eq!(engine.check(), Ok(()));
    }

    #[test]
    fn a_schema_check_finds_gaps_twice_claimed_legacy_versions_and_bad_tokens() {
        const fn m(version: i64, legacy: Option<i64>, st: &'static [&'static str]) -> Migration {
            Migration {
                version,
                legacy,
                name: "m",
                statements: st,
            }
        }
        const GAP: &[Migration] = &[m(1, None, &[]), m(3, None, &[])];
        const TWICE: &[Migration] = &[m(1, Some(2), &[]), m(2, Some(2), &[])];
        const TOKEN: &[Migration] = &[m(1, None, &["CREATE TABLE t (a {s99})"])];
        const GOOD: &[Migration] = &[
            m(1, Some(4), &["CREATE TABLE t (a {s36})"]),
            m(2, None, &[]),
        ];
        assert!(
            Schema::new("x", GAP)
                .check()
                .unwrap_err()
                .contains("expected 2")
        );
        assert!(
            Schema::new("x", TWICE)
                .check()
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            Schema::new("x", TOKEN)
                .check()
                .unwrap_err()
                .contains("unexpanded")
        );
        assert_eq!(Schema::new("x", GOOD).check(), Ok(()));
        assert_eq!(Schema::new("x", GOOD).through(1).latest(), 1);
        assert_eq!(Schema::new("x", GOOD).through(0).migrations.len(), 0);
    }
}
