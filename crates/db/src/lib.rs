//! The SQL engine: one small SQL interface ([`Conn`]) over three real backends
//! (SQLite, PostgreSQL, MariaDB/MySQL), chosen by a database URL; connection
//! pools; versioned per-component migrations applied at open ([`Schema`]);
//! column sets declared once ([`columns!`]). It knows no domain: each
//! service's store crate holds its repository and its schema. The `testing`
//! feature adds the backend harness the conformance suites run on.
//!
//! Architecture invariants:
//! - SQL is written once with `?` placeholders and a handful of dialect tokens in
//!   DDL; everything dialect-specific lives in [`Dialect`] and the backend modules.
//! - Each connection is owned by one worker thread; work is shipped to it as a
//!   closure that runs inside one transaction. Results are delivered only after the
//!   transaction commits, so an acknowledged write is durable.
//! - The SQLite writer commits groups of queued transactions together (each in its
//!   own savepoint), one fsync per group.
//! - Timestamps are stored as microseconds since the epoch (BIGINT) and strings
//!   compare bytewise on every backend, so ordering and paging agree everywhere.

mod backend;
mod columns;
mod migrate;
mod pool;
#[cfg(feature = "testing")]
pub mod testing;

pub use columns::{ColumnIndex, key_last};
pub use migrate::{Migration, Schema};

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

pub use pool::Tuning;

/// The SQLite writer checkpoints its write-ahead log once the log holds this
/// many pages (SQLite's own default is 1,000), so the log file stays about
/// 16 MB at most between checkpoints.
pub const WAL_CHECKPOINT_PAGES: u32 = 4000;

/// The SQL dialect of a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 (embedded, default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB or MySQL.
    Mysql,
}

impl Dialect {
    /// Short name for logs and test output.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mariadb",
        }
    }
}

/// A value bound to, or read from, a statement. Text borrows where it can:
/// binding a field of a domain value copies nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(Cow<'a, str>),
    /// A boolean.
    Bool(bool),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Cow::Borrowed(v))
    }
}
impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Cow::Owned(v))
    }
}
impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(Cow::Borrowed(v.as_str()))
    }
}
impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row(pub Vec<Value<'static>>);

impl ColumnIndex for usize {
    fn index(self) -> usize {
        self
    }
    fn name(self) -> &'static str {
        "(unnamed)"
    }
}

/// A decoding failure that names the column.
fn bad_column(c: impl ColumnIndex, what: &str) -> StorageFailure {
    StorageFailure::decode(format!("column {} ({}): {what}", c.index(), c.name()))
}

impl Row {
    fn get(&self, c: impl ColumnIndex) -> Result<&Value<'_>, StorageFailure> {
        self.0
            .get(c.index())
            .ok_or_else(|| bad_column(c, "missing"))
    }
    /// Column `c` as an integer.
    pub fn int(&self, c: impl ColumnIndex) -> Result<i64, StorageFailure> {
        match self.get(c)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            Value::Text(t) => t.parse().map_err(|_| bad_column(c, "not an integer")),
            Value::Null => Err(bad_column(c, "unexpected NULL")),
        }
    }
    /// Column `c` as an optional integer.
    pub fn opt_int(&self, c: impl ColumnIndex) -> Result<Option<i64>, StorageFailure> {
        match self.get(c)? {
            Value::Null => Ok(None),
            _ => self.int(c).map(Some),
        }
    }
    /// Column `c` as text.
    pub fn text(&self, c: impl ColumnIndex) -> Result<String, StorageFailure> {
        match self.get(c)? {
            Value::Text(t) => Ok(t.to_string()),
            Value::Int(v) => Ok(v.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Err(bad_column(c, "unexpected NULL")),
        }
    }
    /// Column `c` as text, moved out of the row (the column is left empty).
    pub fn take_text(&mut self, c: impl ColumnIndex) -> Result<String, StorageFailure> {
        match self.0.get_mut(c.index()) {
            Some(Value::Text(t)) => Ok(std::mem::take(t).into_owned()),
            _ => self.text(c),
        }
    }
    /// Column `c` as borrowed text, `None` for NULL (other types are an error).
    pub fn opt_str(&self, c: impl ColumnIndex) -> Result<Option<&str>, StorageFailure> {
        match self.get(c)? {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t)),
            _ => Err(bad_column(c, "not text")),
        }
    }
    /// Column `c` as optional text.
    pub fn opt_text(&self, c: impl ColumnIndex) -> Result<Option<String>, StorageFailure> {
        match self.get(c)? {
            Value::Null => Ok(None),
            _ => self.text(c).map(Some),
        }
    }
    /// Column `c` as optional text, moved out of the row.
    pub fn take_opt_text(&mut self, c: impl ColumnIndex) -> Result<Option<String>, StorageFailure> {
        match self.get(c)? {
            Value::Null => Ok(None),
            _ => self.take_text(c).map(Some),
        }
    }
    /// Column `c` as a boolean (integers: non-zero is true).
    pub fn bool(&self, c: impl ColumnIndex) -> Result<bool, StorageFailure> {
        match self.get(c)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            Value::Text(t) => Ok(t == "1" || t.eq_ignore_ascii_case("true")),
            Value::Null => Err(bad_column(c, "unexpected NULL")),
        }
    }
}

pub use starling_common::{StorageFailure, StorageKind, TxError};

/// Runs a query and maps every row with `f`.
pub fn rows<T, E: From<StorageFailure>>(
    c: &mut dyn Conn,
    sql: &str,
    params: &[Value<'_>],
    f: fn(Row) -> Result<T, StorageFailure>,
) -> Result<Vec<T>, E> {
    Ok(c.query(sql, params)?
        .into_iter()
        .map(f)
        .collect::<Result<_, _>>()?)
}

/// Runs a query and maps its first row with `f`, if there is one.
pub fn first<T, E: From<StorageFailure>>(
    c: &mut dyn Conn,
    sql: &str,
    params: &[Value<'_>],
    f: fn(Row) -> Result<T, StorageFailure>,
) -> Result<Option<T>, E> {
    Ok(c.query(sql, params)?
        .into_iter()
        .next()
        .map(f)
        .transpose()?)
}

/// A connection inside a transaction. Statements use `?` placeholders.
pub trait Conn {
    /// The backend's dialect.
    fn dialect(&self) -> Dialect;
    /// Runs a statement; returns the number of affected rows.
    fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StorageFailure>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StorageFailure>;
    /// Runs a query and hands each row to `f` as it is read, so a large result is
    /// never held whole; an error from `f` stops the query and is returned. The
    /// default reads every row first (network backends receive the result set whole
    /// anyway); SQLite steps its cursor.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(Row) -> Result<(), StorageFailure>,
    ) -> Result<(), StorageFailure> {
        self.query(sql, params)?.into_iter().try_for_each(f)
    }
}

/// A snapshot of a database's pools (see [`Db::stats`]).
#[derive(Clone, Debug)]
pub struct StoreStats {
    /// Read-write transactions submitted and not finished (queued or running).
    pub writes_outstanding: usize,
    /// Read-only transactions submitted and not finished.
    pub reads_outstanding: usize,
    /// Commits of read-write transactions (SQLite: one per group).
    pub commits: starling_common::histogram::Histogram,
}

/// An open database: a writer pool and a reader pool of connection threads.
#[derive(Clone)]
pub struct Db {
    inner: Arc<pool::Pools>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.inner.dialect)
            .finish()
    }
}

/// A parsed database URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbUrl {
    /// `sqlite://PATH` or `sqlite:PATH` (a file; created if missing).
    Sqlite(std::path::PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// `mysql://…` or `mariadb://…`.
    Mysql(String),
}

impl DbUrl {
    /// Parses a URL; the error names the accepted schemes.
    pub fn parse(url: &str) -> Result<DbUrl, StorageFailure> {
        let bad = || {
            StorageFailure::new(
                StorageKind::Other,
                format!(
                    "unsupported database URL '{}': use sqlite://PATH, postgres://… or mysql://…",
                    redact_url(url)
                ),
            )
        };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(DbUrl::Sqlite(path.into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("mariadb://") {
            return Ok(DbUrl::Mysql(format!("mysql://{rest}")));
        }
        if url.starts_with("mysql://") {
            return Ok(DbUrl::Mysql(url.to_string()));
        }
        Err(bad())
    }
}

/// A URL with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((cred, host)) = rest.split_once('@')
        && let Some((user, _)) = cred.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

impl Db {
    /// Opens (creating if needed) the database at `url` and applies the
    /// pending migrations of `schemas` (each service's store crate has one),
    /// in order.
    pub async fn open(url: &str, tuning: Tuning, schemas: &[Schema]) -> Result<Db, StorageFailure> {
        let db = Db::connect(url, tuning).await?;
        let schemas = schemas.to_vec();
        db.write(move |c| migrate::apply(c, &schemas)).await?;
        Ok(db)
    }

    /// Opens the database at `url` without migrating it.
    async fn connect(url: &str, tuning: Tuning) -> Result<Db, StorageFailure> {
        let url = DbUrl::parse(url)?;
        let pools = tokio::task::spawn_blocking(move || pool::Pools::open(url, tuning))
            .await
            .map_err(|e| StorageFailure::connection(format!("open task failed: {e}")))??;
        Ok(Db {
            inner: Arc::new(pools),
        })
    }

    /// Opens the database at `url` and builds in it the schema a release
    /// before per-component schemas left (the global migrations up to
    /// `through`, recorded the old way), for upgrade tests.
    #[cfg(feature = "testing")]
    pub async fn open_legacy(
        url: &str,
        tuning: Tuning,
        schemas: &[Schema],
        through: i64,
    ) -> Result<Db, StorageFailure> {
        let db = Db::connect(url, tuning).await?;
        let schemas = schemas.to_vec();
        db.write(move |c| migrate::apply_legacy(c, &schemas, through))
            .await?;
        Ok(db)
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// What the store's metrics show now: transactions waiting or running in
    /// each pool, and the time of every read-write commit so far.
    pub fn stats(&self) -> StoreStats {
        use std::sync::atomic::Ordering;
        StoreStats {
            writes_outstanding: self.inner.writer.stats.outstanding.load(Ordering::Relaxed),
            reads_outstanding: self.inner.reader.stats.outstanding.load(Ordering::Relaxed),
            commits: self
                .inner
                .writer
                .stats
                .commits
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    /// Runs `f` in a read-write transaction on a writer connection and returns its
    /// result once the transaction has committed. `f` may run more than once when
    /// the backend reports a transient conflict.
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Conn) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        self.inner.writer.run(f).await
    }

    /// Runs `f` in a read-only transaction (a consistent snapshot) on a reader
    /// connection.
    pub async fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Conn) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        self.inner.reader.run(f).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            DbUrl::parse("sqlite:///var/lib/x.db").unwrap(),
            DbUrl::Sqlite("/var/lib/x.db".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:rel.db").unwrap(),
            DbUrl::Sqlite("rel.db".into())
        );
        assert!(matches!(
            DbUrl::parse("postgresql://u@h/db").unwrap(),
            DbUrl::Postgres(_)
        ));
        assert_eq!(
            DbUrl::parse("mariadb://root@h/db").unwrap(),
            DbUrl::Mysql("mysql://root@h/db".into())
        );
        let e = DbUrl::parse("oracle://u:secret@h/db").unwrap_err();
        assert!(!e.message.contains("secret"), "{e}");
        assert!(DbUrl::parse("sqlite:").is_err());
    }

    #[test]
    fn redacts() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn row_getters_convert_and_name_the_column() {
        let r = Row(vec![Value::Int(1), Value::Null, Value::Text("7".into())]);
        assert!(r.bool(0).unwrap());
        assert_eq!(r.opt_text(1).unwrap(), None);
        assert_eq!(r.int(2).unwrap(), 7);
        assert!(r.text(1).unwrap_err().message.contains("column 1"));
        assert!(r.int(9).is_err());
    }
}
