//! The three drivers behind [`Conn`]: rusqlite, postgres and mysql (all
//! synchronous; each connection lives on its own worker thread).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{Conn, DbUrl, Dialect, Row, StorageFailure, StorageKind, Value};

/// A connection a worker can drive transactions on.
pub(crate) trait Backend: Send {
    fn as_conn(&mut self) -> &mut dyn Conn;
    fn begin(&mut self, read_only: bool) -> Result<(), StorageFailure>;
    fn commit(&mut self) -> Result<(), StorageFailure>;
    fn rollback(&mut self) -> Result<(), StorageFailure>;
    /// The connection is unusable and must be replaced.
    fn is_broken(&self) -> bool;
}

/// Makes new connections for a pool.
pub(crate) trait Opener: Send + Sync {
    fn open(&self) -> Result<Box<dyn Backend>, StorageFailure>;
}

pub(crate) type Openers = (Dialect, Arc<dyn Opener>, Arc<dyn Opener>);

pub(crate) fn openers(url: &DbUrl) -> Result<Openers, StorageFailure> {
    Ok(match url {
        DbUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StorageFailure::connection(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            (
                Dialect::Sqlite,
                Arc::new(SqliteOpener {
                    path: path.clone(),
                    read_only: false,
                }),
                Arc::new(SqliteOpener {
                    path: path.clone(),
                    read_only: true,
                }),
            )
        }
        DbUrl::Postgres(u) => {
            let cfg: postgres::Config = u
                .parse()
                .map_err(|e| StorageFailure::connection(format!("bad PostgreSQL URL: {e}")))?;
            let o: Arc<dyn Opener> = Arc::new(PgOpener { cfg });
            (Dialect::Postgres, o.clone(), o)
        }
        DbUrl::Mysql(u) => {
            let opts = mysql::Opts::from_url(u)
                .map_err(|e| StorageFailure::connection(format!("bad MySQL URL: {e}")))?;
            let o: Arc<dyn Opener> = Arc::new(MyOpener { opts });
            (Dialect::Mysql, o.clone(), o)
        }
    })
}

// ---------------------------------------------------------------------------
// SQLite

struct SqliteOpener {
    path: PathBuf,
    read_only: bool,
}

struct SqliteConn {
    c: rusqlite::Connection,
}

fn sqlite_err(e: rusqlite::Error) -> StorageFailure {
    use rusqlite::ErrorCode as C;
    let kind = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            C::ConstraintViolation => StorageKind::Unique,
            C::DatabaseBusy | C::DatabaseLocked => StorageKind::Retry,
            C::CannotOpen | C::NotADatabase => StorageKind::Connection,
            _ => StorageKind::Other,
        },
        _ => StorageKind::Other,
    };
    StorageFailure::new(kind, e.to_string())
}

/// Stored text as a `String`; bytes that are not UTF-8 (written by something
/// other than Starling) are replaced rather than failing the whole read.
fn text_of(t: &[u8]) -> String {
    match std::str::from_utf8(t) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(t).into_owned(),
    }
}

impl Opener for SqliteOpener {
    fn open(&self) -> Result<Box<dyn Backend>, StorageFailure> {
        let c = rusqlite::Connection::open(&self.path).map_err(|e| {
            StorageFailure::connection(format!("cannot open {}: {e}", self.path.display()))
        })?;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite_err)?;
        // WAL: readers never block the writer; FULL: every commit is on disk.
        // temp_store=MEMORY: the writer's per-job savepoints (group commit) each
        // journal the pages they touch in a statement journal, which otherwise is
        // a temporary file created, written (two pwrites per page) and deleted
        // for every group.
        let mut pragmas = String::from(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
             PRAGMA temp_store=MEMORY;",
        );
        if self.read_only {
            pragmas.push_str(" PRAGMA query_only=ON;");
        } else {
            // The writer checkpoints the WAL into the database file itself, and
            // while it does every queued request waits: a checkpoint copies each
            // page changed since the last one and syncs the database file.
            // Every 4,000 pages instead of SQLite's 1,000, the pages that every
            // commit touches (B-tree right edges, interior nodes) are copied once
            // per 4,000 frames, not four times, and the file is synced a quarter
            // as often: +7% single-alarm sets/s with 16 clients (BENCHMARKS.md,
            // session 12). Checkpoints must still come regularly: a WAL that is
            // never restarted grows on every commit, and a sync that must also
            // journal the file's new size costs more than the checkpoints saved.
            pragmas.push_str(&format!(
                " PRAGMA wal_autocheckpoint={};",
                crate::WAL_CHECKPOINT_PAGES
            ));
        }
        c.execute_batch(&pragmas).map_err(sqlite_err)?;
        // Plans must not depend on bound values: otherwise SQLite re-prepares
        // a cached statement whenever a range bound changes (its STAT4 build
        // marks such parameters), which costs more than the query itself.
        c.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(sqlite_err)?;
        c.set_prepared_statement_cache_capacity(128);
        Ok(Box::new(SqliteConn { c }))
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        })
    }
}

impl Conn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StorageFailure> {
        if params.is_empty() && sql.contains(';') {
            // Several statements (migrations): no statement cache.
            return self.c.execute_batch(sql).map(|_| 0).map_err(sqlite_err);
        }
        let mut st = self.c.prepare_cached(sql).map_err(sqlite_err)?;
        st.execute(rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(sqlite_err)
    }
    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StorageFailure> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(Row) -> Result<(), StorageFailure>,
    ) -> Result<(), StorageFailure> {
        use rusqlite::types::ValueRef;
        let mut st = self.c.prepare_cached(sql).map_err(sqlite_err)?;
        let n = st.column_count();
        let mut rows = st
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(sqlite_err)?;
        while let Some(r) = rows.next().map_err(sqlite_err)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i).map_err(sqlite_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(f) => Value::from(f.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => Value::from(text_of(t)),
                });
            }
            f(Row(vals))?;
        }
        Ok(())
    }
}

impl SqliteConn {
    /// Runs a transaction-control statement from the statement cache: the
    /// writer begins and commits every group, and parsing them each time showed.
    fn control(&mut self, sql: &str) -> Result<(), StorageFailure> {
        let mut st = self.c.prepare_cached(sql).map_err(sqlite_err)?;
        st.execute([]).map(|_| ()).map_err(sqlite_err)
    }
}

impl Backend for SqliteConn {
    fn as_conn(&mut self) -> &mut dyn Conn {
        self
    }
    fn begin(&mut self, read_only: bool) -> Result<(), StorageFailure> {
        let sql = if read_only {
            "BEGIN DEFERRED"
        } else {
            "BEGIN IMMEDIATE"
        };
        self.control(sql)
    }
    fn commit(&mut self) -> Result<(), StorageFailure> {
        self.control("COMMIT")
    }
    fn rollback(&mut self) -> Result<(), StorageFailure> {
        if self.c.is_autocommit() {
            return Ok(());
        }
        self.control("ROLLBACK")
    }
    fn is_broken(&self) -> bool {
        false
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL

struct PgOpener {
    cfg: postgres::Config,
}

struct PgConn {
    c: postgres::Client,
    stmts: HashMap<String, postgres::Statement>,
}

fn pg_err(e: postgres::Error) -> StorageFailure {
    use postgres::error::SqlState;
    let kind = match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StorageKind::Unique,
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            StorageKind::Retry
        }
        Some(_) => StorageKind::Other,
        None if e.is_closed() => StorageKind::Connection,
        None => StorageKind::Connection,
    };
    let msg = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    StorageFailure::new(kind, msg)
}

impl Opener for PgOpener {
    fn open(&self) -> Result<Box<dyn Backend>, StorageFailure> {
        let c = self.cfg.connect(postgres::NoTls).map_err(|e| {
            StorageFailure::connection(format!("cannot connect to PostgreSQL: {e}"))
        })?;
        Ok(Box::new(PgConn {
            c,
            stmts: HashMap::new(),
        }))
    }
}

/// Rewrites `?` placeholders as `$1, $2, …` (our SQL never has `?` in literals).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

impl postgres::types::ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Bool(b) => match *ty {
                Type::INT8 => i64::from(*b).to_sql(ty, out),
                Type::INT4 => i32::from(*b).to_sql(ty, out),
                _ => b.to_sql(ty, out),
            },
            Value::Text(t) => t.as_ref().to_sql(ty, out),
        }
    }
    fn accepts(_ty: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

impl PgConn {
    fn stmt(&mut self, sql: &str) -> Result<postgres::Statement, StorageFailure> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.c.prepare(&numbered(sql)).map_err(pg_err)?;
        if self.stmts.len() > 512 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

impl Conn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StorageFailure> {
        if params.is_empty() && !sql.contains('?') {
            return self.c.batch_execute(sql).map(|_| 0).map_err(pg_err);
        }
        let st = self.stmt(sql)?;
        let p: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        self.c.execute(&st, &p).map_err(pg_err)
    }
    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StorageFailure> {
        use postgres::types::Type;
        let st = self.stmt(sql)?;
        let p: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let rows = self.c.query(&st, &p).map_err(pg_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let v = match *col.type_() {
                    Type::INT8 => r.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
                    Type::INT4 => r
                        .try_get::<_, Option<i32>>(i)
                        .map(|v| v.map(|x| Value::Int(x.into()))),
                    Type::INT2 => r
                        .try_get::<_, Option<i16>>(i)
                        .map(|v| v.map(|x| Value::Int(x.into()))),
                    Type::BOOL => r.try_get::<_, Option<bool>>(i).map(|v| v.map(Value::Bool)),
                    _ => r
                        .try_get::<_, Option<String>>(i)
                        .map(|v| v.map(Value::from)),
                }
                .map_err(|e| StorageFailure::new(StorageKind::Decode, e.to_string()))?;
                vals.push(v.unwrap_or(Value::Null));
            }
            out.push(Row(vals));
        }
        Ok(out)
    }
}

impl Backend for PgConn {
    fn as_conn(&mut self) -> &mut dyn Conn {
        self
    }
    fn begin(&mut self, read_only: bool) -> Result<(), StorageFailure> {
        let sql = if read_only {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN"
        };
        self.c.batch_execute(sql).map_err(pg_err)
    }
    fn commit(&mut self) -> Result<(), StorageFailure> {
        self.c.batch_execute("COMMIT").map_err(pg_err)
    }
    fn rollback(&mut self) -> Result<(), StorageFailure> {
        self.c.batch_execute("ROLLBACK").map_err(pg_err)
    }
    fn is_broken(&self) -> bool {
        self.c.is_closed()
    }
}

// ---------------------------------------------------------------------------
// MariaDB / MySQL

struct MyOpener {
    opts: mysql::Opts,
}

struct MyConn {
    c: mysql::Conn,
    broken: bool,
}

fn my_err(e: mysql::Error) -> StorageFailure {
    let kind = match &e {
        mysql::Error::MySqlError(m) => match m.code {
            1062 => StorageKind::Unique,
            1213 | 1205 => StorageKind::Retry,
            _ => StorageKind::Other,
        },
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) => StorageKind::Connection,
        _ => StorageKind::Other,
    };
    StorageFailure::new(kind, e.to_string())
}

impl Opener for MyOpener {
    fn open(&self) -> Result<Box<dyn Backend>, StorageFailure> {
        let opts = mysql::OptsBuilder::from_opts(self.opts.clone())
            .stmt_cache_size(Some(256))
            .init(vec![
                "SET NAMES utf8mb4 COLLATE utf8mb4_nopad_bin",
                // Strict: over-long or invalid values are errors, never truncated.
                "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION'",
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            ]);
        let c = mysql::Conn::new(opts)
            .map_err(|e| StorageFailure::connection(format!("cannot connect to MariaDB: {e}")))?;
        Ok(Box::new(MyConn { c, broken: false }))
    }
}

fn my_value(v: &Value<'_>) -> mysql::Value {
    match v {
        Value::Null => mysql::Value::NULL,
        Value::Int(i) => mysql::Value::Int(*i),
        Value::Bool(b) => mysql::Value::Int(i64::from(*b)),
        Value::Text(t) => mysql::Value::Bytes(t.as_bytes().to_vec()),
    }
}

impl MyConn {
    fn check<T>(&mut self, r: Result<T, mysql::Error>) -> Result<T, StorageFailure> {
        r.map_err(|e| {
            let e = my_err(e);
            if e.kind == StorageKind::Connection {
                self.broken = true;
            }
            e
        })
    }
}

impl Conn for MyConn {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }
    fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StorageFailure> {
        use mysql::prelude::Queryable;
        if params.is_empty() && !sql.contains('?') {
            let r = self.c.query_drop(sql);
            self.check(r)?;
            return Ok(self.c.affected_rows());
        }
        let p = mysql::Params::Positional(params.iter().map(my_value).collect());
        let r = self.c.exec_drop(sql, p);
        self.check(r)?;
        Ok(self.c.affected_rows())
    }
    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StorageFailure> {
        use mysql::prelude::Queryable;
        let p = if params.is_empty() {
            mysql::Params::Empty
        } else {
            mysql::Params::Positional(params.iter().map(my_value).collect())
        };
        let r = self.c.exec::<mysql::Row, _, _>(sql, p);
        let rows = self.check(r)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let vals = r
                .unwrap()
                .into_iter()
                .map(|v| match v {
                    mysql::Value::NULL => Value::Null,
                    mysql::Value::Int(i) => Value::Int(i),
                    mysql::Value::UInt(u) => Value::Int(i64::try_from(u).unwrap_or(i64::MAX)),
                    mysql::Value::Bytes(b) => Value::from(
                        String::from_utf8(b)
                            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    ),
                    other => Value::from(format!("{other:?}")),
                })
                .collect();
            out.push(Row(vals));
        }
        Ok(out)
    }
}

impl Backend for MyConn {
    fn as_conn(&mut self) -> &mut dyn Conn {
        self
    }
    fn begin(&mut self, read_only: bool) -> Result<(), StorageFailure> {
        if read_only {
            // One snapshot for every statement of the read.
            self.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &[])?;
            self.exec("START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT", &[])
                .map(|_| ())
        } else {
            self.exec("START TRANSACTION", &[]).map(|_| ())
        }
    }
    fn commit(&mut self) -> Result<(), StorageFailure> {
        self.exec("COMMIT", &[]).map(|_| ())
    }
    fn rollback(&mut self) -> Result<(), StorageFailure> {
        self.exec("ROLLBACK", &[]).map(|_| ())
    }
    fn is_broken(&self) -> bool {
        self.broken
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders() {
        assert_eq!(
            super::numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }
}
