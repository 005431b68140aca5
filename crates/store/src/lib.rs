//! The storage layer: one small SQL interface ([`Conn`]) over three real backends
//! (SQLite, PostgreSQL, MariaDB/MySQL), chosen by a database URL; versioned
//! migrations applied at open; and the repository implementations of the domain
//! crates (e.g. [`fm::FmRepo`]).
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
pub mod fm;
pub mod identity;
pub mod inventory;
mod migrate;
pub use migrate::latest_version as schema_version;
mod pool;

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

impl Row {
    fn get(&self, i: usize) -> Result<&Value<'_>, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::decode(format!("column {i} missing")))
    }
    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.get(i)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            Value::Text(t) => t
                .parse()
                .map_err(|_| StoreError::decode(format!("column {i}: not an integer"))),
            Value::Null => Err(StoreError::decode(format!("column {i}: unexpected NULL"))),
        }
    }
    /// Column `i` as an optional integer.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.get(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.get(i)? {
            Value::Text(t) => Ok(t.to_string()),
            Value::Int(v) => Ok(v.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Null => Err(StoreError::decode(format!("column {i}: unexpected NULL"))),
        }
    }
    /// Column `i` as text, moved out of the row (the column is left empty).
    pub fn take_text(&mut self, i: usize) -> Result<String, StoreError> {
        match self.0.get_mut(i) {
            Some(Value::Text(t)) => Ok(std::mem::take(t).into_owned()),
            _ => self.text(i),
        }
    }
    /// Column `i` as borrowed text, `None` for NULL (other types are an error).
    pub fn opt_str(&self, i: usize) -> Result<Option<&str>, StoreError> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t)),
            _ => Err(StoreError::decode(format!("column {i}: not text"))),
        }
    }
    /// Column `i` as optional text.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.get(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    /// Column `i` as a boolean (integers: non-zero is true).
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.get(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            Value::Text(t) => Ok(t == "1" || t.eq_ignore_ascii_case("true")),
            Value::Null => Err(StoreError::decode(format!("column {i}: unexpected NULL"))),
        }
    }
}

/// What kind of failure a store error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A unique constraint was violated.
    Unique,
    /// A transient conflict (deadlock, serialisation failure, busy): retry the
    /// whole transaction.
    Retry,
    /// The connection is gone or could not be made.
    Connection,
    /// A row did not have the expected shape.
    Decode,
    /// Anything else the database reported.
    Other,
}

/// A storage failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    /// Kind.
    pub kind: ErrorKind,
    /// Human-readable detail (never contains bound values).
    pub message: String,
}

impl StoreError {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            kind,
            message: message.into(),
        }
    }
    fn decode(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, m)
    }
    /// A connection error.
    pub fn connection(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connection, m)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for StoreError {}

/// Errors that a transaction closure may return: they must carry store errors and
/// say whether a retry of the whole transaction could help.
pub trait TxError: From<StoreError> + Send + 'static {
    /// True for transient failures.
    fn is_retryable(&self) -> bool;
}

impl TxError for StoreError {
    fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retry
    }
}

impl From<StoreError> for starling_common::StorageFailure {
    fn from(e: StoreError) -> Self {
        starling_common::StorageFailure {
            retryable: e.kind == ErrorKind::Retry,
            message: e.to_string(),
        }
    }
}

/// Makes a domain error a transaction error: a store failure becomes its
/// `Storage` variant (retryable when the backend said so) and, when
/// `$unique` names one, a unique-key violation becomes a `Conflict` with that
/// message for the client.
macro_rules! domain_error {
    ($ty:ty, $unique:expr) => {
        impl From<$crate::StoreError> for $ty {
            fn from(e: $crate::StoreError) -> Self {
                let unique: Option<&str> = $unique;
                match unique {
                    Some(m) if e.kind == $crate::ErrorKind::Unique => Self::Conflict(m.into()),
                    _ => Self::Storage(e.into()),
                }
            }
        }
        impl $crate::TxError for $ty {
            fn is_retryable(&self) -> bool {
                matches!(self, Self::Storage(f) if f.retryable)
            }
        }
    };
}

domain_error!(
    starling_common::Error,
    Some("Conflict occurred attempting to store the record: a duplicate entry was found.")
);
domain_error!(
    starling_identity::Error,
    Some("Conflict occurred attempting to store the record: a duplicate entry was found.")
);

/// Runs a query and maps every row with `f`.
pub(crate) fn rows<T, E: From<StoreError>>(
    c: &mut dyn Conn,
    sql: &str,
    params: &[Value<'_>],
    f: fn(Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, E> {
    Ok(c.query(sql, params)?
        .into_iter()
        .map(f)
        .collect::<Result<_, _>>()?)
}

/// Runs a query and maps its first row with `f`, if there is one.
pub(crate) fn first<T, E: From<StoreError>>(
    c: &mut dyn Conn,
    sql: &str,
    params: &[Value<'_>],
    f: fn(Row) -> Result<T, StoreError>,
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
    fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, StoreError>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError>;
    /// Runs a query and hands each row to `f` as it is read, so a large result is
    /// never held whole; an error from `f` stops the query and is returned. The
    /// default reads every row first (network backends receive the result set whole
    /// anyway); SQLite steps its cursor.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.query(sql, params)?.into_iter().try_for_each(f)
    }
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
    pub fn parse(url: &str) -> Result<DbUrl, StoreError> {
        let bad = || {
            StoreError::new(
                ErrorKind::Other,
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
    /// Opens (creating if needed) the database at `url` and applies pending
    /// migrations.
    pub async fn open(url: &str, tuning: Tuning) -> Result<Db, StoreError> {
        Db::open_through(url, tuning, migrate::latest_version()).await
    }

    /// Like [`Db::open`], applying migrations only up to schema `version`:
    /// the database as an older release left it, for upgrade tests.
    pub async fn open_through(url: &str, tuning: Tuning, version: i64) -> Result<Db, StoreError> {
        let url = DbUrl::parse(url)?;
        let pools = tokio::task::spawn_blocking(move || pool::Pools::open(url, tuning))
            .await
            .map_err(|e| StoreError::connection(format!("open task failed: {e}")))??;
        let db = Db {
            inner: Arc::new(pools),
        };
        db.write(move |c| migrate::apply(c, version)).await?;
        Ok(db)
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
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
