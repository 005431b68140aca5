//! Runs one test body against every backend: SQLite always; PostgreSQL and
//! MariaDB when their servers answer. `STARLING_REQUIRE_DB=1` (set by CI) turns an
//! absent server into a failure instead of a skip.
//!
//! Servers: `STARLING_TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432/postgres)
//! and `STARLING_TEST_MYSQL_URL` (default mysql://root@127.0.0.1:3306/).

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use mysql::prelude::Queryable;
use starling_store::{Db, Tuning};

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

/// Runs `body` once per backend, naming the backend on failure.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    for (name, tdb) in databases() {
        eprintln!("-- backend {name}");
        let db = Db::open(&tdb.url, tuning())
            .await
            .unwrap_or_else(|e| panic!("{name}: open failed: {e}"));
        body(db).await;
        drop(tdb);
    }
}
