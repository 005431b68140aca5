//! The backend harness of the conformance suites (feature `testing`): a fresh
//! test database per backend, and one test body run against every backend:
//! SQLite always; PostgreSQL and MariaDB when their servers answer. `STARLING_REQUIRE_DB=1` (set by CI) turns an
//! absent server into a failure instead of a skip.
//!
//! Servers: `STARLING_TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432/postgres)
//! and `STARLING_TEST_MYSQL_URL` (default mysql://root@127.0.0.1:3306/).

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use mysql::prelude::Queryable;

use crate::{Db, Schema, Tuning};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn require() -> bool {
    std::env::var("STARLING_REQUIRE_DB").is_ok_and(|v| v == "1")
}

fn skip(backend: &str, why: &str) {
    if require() {
        panic!("{backend} suite required (STARLING_REQUIRE_DB=1) but unavailable: {why}");
    }
    eprintln!("SKIPPED {backend} conformance: {why} (set STARLING_REQUIRE_DB=1 to make this fail)");
}

/// A database created for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(c) = self.cleanup.take() {
            off_runtime(c);
        }
    }
}

/// The sync database clients must not run on an async runtime thread.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("admin thread panicked"))
}

pub fn sqlite_db() -> TestDb {
    let dir = std::env::temp_dir().join(unique("starling_it"));
    let path = dir.join("test.db");
    TestDb {
        url: format!("sqlite://{}", path.display()),
        cleanup: Some(Box::new(move || {
            let _ = std::fs::remove_dir_all(dir);
        })),
    }
}

pub fn postgres_db() -> Result<TestDb, String> {
    let admin = std::env::var("STARLING_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let schema = unique("st");
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).map_err(|e| e.to_string())?;
    c.batch_execute(&format!("CREATE SCHEMA {schema}"))
        .map_err(|e| e.to_string())?;
    let sep = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{sep}options=-c%20search_path%3D{schema}");
    Ok(TestDb {
        url,
        cleanup: Some(Box::new(move || {
            if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        })),
    })
}

pub fn mysql_db() -> Result<TestDb, String> {
    let admin = std::env::var("STARLING_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/".into());
    let name = unique("st");
    let opts = mysql::Opts::from_url(&admin).map_err(|e| e.to_string())?;
    let mut c = mysql::Conn::new(opts.clone()).map_err(|e| e.to_string())?;
    c.query_drop(format!("CREATE DATABASE {name}"))
        .map_err(|e| e.to_string())?;
    let after = admin.find("://").map_or(0, |i| i + 3);
    let base = match admin[after..].find('/') {
        Some(j) => admin[..after + j].to_string(),
        None => admin.clone(),
    };
    Ok(TestDb {
        url: format!("{base}/{name}"),
        cleanup: Some(Box::new(move || {
            if let Ok(mut c) = mysql::Conn::new(opts) {
                let _ = c.query_drop(format!("DROP DATABASE {name}"));
            }
        })),
    })
}

/// Another fresh database on the backend `databases` named `name`.
pub fn database(name: &str) -> TestDb {
    off_runtime(|| match name {
        "sqlite" => sqlite_db(),
        "postgres" => postgres_db().expect("postgres answered a moment ago"),
        _ => mysql_db().expect("mariadb answered a moment ago"),
    })
}

/// Every backend available here, each with a fresh database.
pub fn databases() -> Vec<(&'static str, TestDb)> {
    off_runtime(databases_now)
}

fn databases_now() -> Vec<(&'static str, TestDb)> {
    let mut out = vec![("sqlite", sqlite_db())];
    match postgres_db() {
        Ok(db) => out.push(("postgres", db)),
        Err(e) => skip("postgres", &e),
    }
    match mysql_db() {
        Ok(db) => out.push(("mariadb", db)),
        Err(e) => skip("mariadb", &e),
    }
    out
}

/// Small pools: the suite runs many tests in parallel on two cores.
pub fn tuning() -> Tuning {
    Tuning {
        writers: 2,
        readers: 2,
        ..Tuning::default()
    }
}

/// Runs `body` once per backend on a fresh database migrated to `schemas`,
/// naming the backend on failure.
pub async fn each_backend<F, Fut>(schemas: &[Schema], body: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    for (name, tdb) in databases() {
        eprintln!("-- backend {name}");
        let db = Db::open(&tdb.url, tuning(), schemas)
            .await
            .unwrap_or_else(|e| panic!("{name}: open failed: {e}"));
        body(db).await;
        drop(tdb);
    }
}

/// The shape of the database's schema, backend-neutral enough to compare two
/// databases of one backend: one line per column (table, name, type, null)
/// and per index (table, name, definition), sorted; the migration tables
/// themselves are left out.
pub async fn schema_of(db: &Db) -> Vec<String> {
    use crate::{Conn, Dialect, StorageFailure};
    fn lines(c: &mut dyn Conn, sql: &str) -> Result<Vec<String>, StorageFailure> {
        let rows = c.query(sql, &[])?;
        rows.into_iter()
            .map(|r| {
                let cells: Result<Vec<String>, StorageFailure> = (0..r.0.len())
                    .map(|i| Ok(r.opt_text(i)?.unwrap_or_default()))
                    .collect();
                Ok(cells?.join(" | "))
            })
            .collect()
    }
    let mut out = db
        .read(|c| {
            let queries: &[&str] = match c.dialect() {
                Dialect::Sqlite => &[
                    "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table'",
                    "SELECT tbl_name, name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index'",
                ],
                Dialect::Postgres => &[
                    "SELECT table_name::text, column_name::text, data_type::text, \
                     COALESCE(character_maximum_length, 0)::text, is_nullable::text, \
                     COALESCE(collation_name, '')::text \
                     FROM information_schema.columns WHERE table_schema = current_schema()",
                    "SELECT tablename::text, indexname::text, \
                     replace(indexdef, schemaname || '.', '')::text \
                     FROM pg_indexes WHERE schemaname = current_schema()",
                ],
                Dialect::Mysql => &[
                    "SELECT table_name, column_name, column_type, is_nullable, \
                     COALESCE(collation_name, '') \
                     FROM information_schema.columns WHERE table_schema = DATABASE()",
                    "SELECT table_name, index_name, CAST(seq_in_index AS CHAR), column_name, \
                     CAST(non_unique AS CHAR) \
                     FROM information_schema.statistics WHERE table_schema = DATABASE()",
                ],
            };
            let mut all = Vec::new();
            for q in queries {
                all.extend(lines(c, q)?);
            }
            Ok::<_, StorageFailure>(all)
        })
        .await
        .expect("reading the schema catalog");
    out.retain(|l| {
        !l.starts_with("starling_migrations") && !l.starts_with("starling_schema_migrations")
    });
    out.sort();
    out
}
