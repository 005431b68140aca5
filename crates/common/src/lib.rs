//! Shared foundations for every Starling crate: the injected [`Clock`], the UTC
//! [`Timestamp`] used in storage and on the wire, and small id helpers.
//!
//! This crate does no I/O beyond reading the system clock in [`SystemClock`], and it
//! knows nothing of HTTP, SQL or the command line.

pub mod alarm;
pub mod histogram;

/// What host maintenance observes of a host's health, in the words of
/// StarlingX's availability of an unlocked host: the one vocabulary
/// maintenance decides in, services pass along and inventory applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostHealth {
    /// In service, every heartbeat answers.
    Available,
    /// In service with a fault (a heartbeat degraded, or lost while several
    /// hosts are: the network is suspect).
    Degraded,
    /// Out of service: a heartbeat lost, recovery in progress.
    Failed,
    /// Being tested before it enters service (after an unlock or a reboot).
    Intest,
    /// Not answering after a reboot or reset: it is booting, or down.
    Offline,
}

impl HostHealth {
    /// StarlingX's availability word for it.
    pub fn availability(self) -> &'static str {
        match self {
            HostHealth::Available => "available",
            HostHealth::Degraded => "degraded",
            HostHealth::Failed => "failed",
            HostHealth::Intest => "intest",
            HostHealth::Offline => "offline",
        }
    }

    /// Whether the host is in service (operational `enabled`).
    pub fn enabled(self) -> bool {
        matches!(self, HostHealth::Available | HostHealth::Degraded)
    }

    /// The health of an availability word, if it is one maintenance
    /// decides.
    pub fn parse(s: &str) -> Option<HostHealth> {
        [
            HostHealth::Available,
            HostHealth::Degraded,
            HostHealth::Failed,
            HostHealth::Intest,
            HostHealth::Offline,
        ]
        .into_iter()
        .find(|h| h.availability() == s)
    }
}

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A point in time: microseconds since the Unix epoch, UTC.
///
/// Stored as a plain integer in every database backend, so ordering and range
/// queries are index-friendly and identical on SQLite, PostgreSQL and MariaDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A timestamp string that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid date '{0}' specified")]
pub struct InvalidTimestamp(pub String);

const MICROS: i64 = 1_000_000;

/// A timestamp displayed as `2016-05-12T12:11:10.405609` (see [`Timestamp::naive_iso`]).
#[derive(Clone, Copy, Debug)]
pub struct NaiveIso(Timestamp);

impl NaiveIso {
    /// The 26 ASCII bytes of the form, for years 0 to 9999 (any other year
    /// only through `Display`).
    pub fn bytes(&self) -> Option<[u8; 26]> {
        let d = self.0.datetime();
        let (year, month, day) = d.to_calendar_date();
        let (h, m, s, us) = d.to_hms_micro();
        let y = u32::try_from(year).ok().filter(|y| *y <= 9999)?;
        let mut b = *b"0000-00-00T00:00:00.000000";
        for (range, v) in [
            (0..4, y),
            (5..7, u32::from(u8::from(month))),
            (8..10, u32::from(day)),
            (11..13, u32::from(h)),
            (14..16, u32::from(m)),
            (17..19, u32::from(s)),
            (20..26, us),
        ] {
            let mut v = v;
            for c in b[range].iter_mut().rev() {
                *c = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        Some(b)
    }
}

impl fmt::Display for NaiveIso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.bytes() {
            Some(b) => f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?),
            None => {
                let d = self.0.datetime();
                let (year, month, day) = d.to_calendar_date();
                let (h, m, s, us) = d.to_hms_micro();
                let mo = u8::from(month);
                write!(f, "{year:04}-{mo:02}-{day:02}T{h:02}:{m:02}:{s:02}.{us:06}")
            }
        }
    }
}

/// A timestamp displayed as `2016-05-12T12:11:10.405609+00:00` (see [`Timestamp::iso_utc`]).
#[derive(Clone, Copy, Debug)]
pub struct IsoUtc(Timestamp);

impl fmt::Display for IsoUtc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+00:00", self.0.naive_iso())
    }
}

impl Timestamp {
    /// Builds a timestamp from microseconds since the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }

    /// Microseconds since the epoch.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// This timestamp moved by `us` microseconds (saturating).
    pub fn plus_micros(self, us: i64) -> Self {
        Timestamp(self.0.saturating_add(us))
    }

    fn datetime(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// ISO-8601 without a zone, microsecond precision, as StarlingX serialises alarm
    /// timestamps: `2016-05-12T12:11:10.405609`.
    pub fn to_naive_iso(self) -> String {
        self.naive_iso().to_string()
    }

    /// [`Timestamp::to_naive_iso`] as a [`fmt::Display`] that formats without
    /// allocating (long lists write one per row).
    pub fn naive_iso(self) -> NaiveIso {
        NaiveIso(self)
    }

    /// ISO-8601 with an explicit `+00:00`, as StarlingX serialises `created_at`.
    pub fn to_iso_utc(self) -> String {
        self.iso_utc().to_string()
    }

    /// [`Timestamp::to_iso_utc`] as a [`fmt::Display`] that formats without allocating.
    pub fn iso_utc(self) -> IsoUtc {
        IsoUtc(self)
    }

    /// SNMP DateAndTime text as the StarlingX trap path writes it: `YYYY-MM-DD,HH:MM:SS.0,+0:0`.
    pub fn to_snmp_text(self) -> String {
        let d = self.datetime();
        format!(
            "{:04}-{:02}-{:02},{:02}:{:02}:{:02}.{},+0:0",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.microsecond() / 100_000
        )
    }

    /// Calendar fields (year, month, day, hour, minute, second, decisecond) in UTC.
    pub fn calendar(self) -> (i32, u8, u8, u8, u8, u8, u8) {
        let d = self.datetime();
        (
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            (d.microsecond() / 100_000) as u8,
        )
    }

    /// Parses the date forms StarlingX clients send and accept:
    /// `YYYY-MM-DD` or `YYYYMMDD`, optionally followed by `T` or a space and
    /// `HH:MM[:SS[.ffffff]]` (or `HHMMSS`), optionally followed by `Z`, `+HH:MM`,
    /// `-HH:MM` or `+HHMM`. A time without a zone is UTC.
    pub fn parse(input: &str) -> Result<Self, InvalidTimestamp> {
        parse_timestamp(input.trim()).ok_or_else(|| InvalidTimestamp(input.to_string()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_naive_iso())
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_timestamp(s: &str) -> Option<Timestamp> {
    // Split the date from the rest.
    let (date_part, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim_start()),
        None => (s, ""),
    };
    let (y, m, d) = if date_part.len() == 10 && date_part.as_bytes().get(4) == Some(&b'-') {
        let mut it = date_part.split('-');
        (
            digits(it.next()?)?,
            digits(it.next()?)?,
            digits(it.next()?)?,
        )
    } else if date_part.len() == 8 {
        (
            digits(&date_part[..4])?,
            digits(&date_part[4..6])?,
            digits(&date_part[6..])?,
        )
    } else {
        return None;
    };
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;

    // Zone suffix.
    let (clock, offset) = split_zone(rest)?;
    let (hh, mm, ss, micros) = if clock.is_empty() {
        (0, 0, 0, 0)
    } else {
        parse_clock(clock)?
    };
    let t = Time::from_hms_micro(
        u8::try_from(hh).ok()?,
        u8::try_from(mm).ok()?,
        u8::try_from(ss).ok()?,
        micros,
    )
    .ok()?;
    let odt = PrimitiveDateTime::new(date, t).assume_offset(offset);
    let us = odt.unix_timestamp_nanos() / 1000;
    Some(Timestamp(i64::try_from(us).ok()?))
}

fn split_zone(rest: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        return Some((clock.trim_end(), UtcOffset::UTC));
    }
    // A sign after the clock part (never at position 0: that is not a clock).
    if let Some(i) = rest.rfind(['+', '-']).filter(|&i| i > 0) {
        let sign: i32 = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
        let z = rest[i + 1..].replace(':', "");
        if z.len() != 4 && z.len() != 2 {
            return None;
        }
        let h = i32::try_from(digits(&z[..2])?).ok()?;
        let mi = if z.len() == 4 {
            i32::try_from(digits(&z[2..])?).ok()?
        } else {
            0
        };
        let secs = sign * (h * 3600 + mi * 60);
        return Some((
            rest[..i].trim_end(),
            UtcOffset::from_whole_seconds(secs).ok()?,
        ));
    }
    Some((rest, UtcOffset::UTC))
}

fn parse_clock(c: &str) -> Option<(u32, u32, u32, u32)> {
    let (hms, frac) = match c.split_once(['.', ',']) {
        Some((a, b)) => (a, Some(b)),
        None => (c, None),
    };
    let (h, m, s) = if hms.contains(':') {
        let parts: Vec<&str> = hms.split(':').collect();
        match parts.as_slice() {
            [h, m] => (digits(h)?, digits(m)?, 0),
            [h, m, s] => (digits(h)?, digits(m)?, digits(s)?),
            _ => return None,
        }
    } else if hms.len() == 6 {
        (digits(&hms[..2])?, digits(&hms[2..4])?, digits(&hms[4..])?)
    } else if hms.len() == 4 {
        (digits(&hms[..2])?, digits(&hms[2..])?, 0)
    } else {
        return None;
    };
    let micros = match frac {
        None => 0,
        Some(f) => {
            digits(f)?;
            let mut f6: String = f.chars().take(6).collect();
            while f6.len() < 6 {
                f6.push('0');
            }
            digits(&f6)?
        }
    };
    Some((h, m, s, micros))
}

/// Source of the current time. Every rule that depends on time takes a clock, so
/// tests control time instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock frozen at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start.micros())))
    }
    /// Moves the clock forward by `us` microseconds.
    pub fn advance_micros(&self, us: i64) {
        self.0.fetch_add(us, Ordering::SeqCst);
    }
    /// Moves the clock forward by whole seconds.
    pub fn advance_secs(&self, s: i64) {
        self.advance_micros(s * MICROS);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// A new UUID in its 36-character hyphenated form: version 7 (time-ordered, with
/// random bits), so the uuid indexes grow at one end instead of at random pages.
pub fn new_uuid() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// True when `s` is a 36-character hyphenated UUID.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// True for a PCI address, `dddd:bb:dd.f` in hex (the host agent reads
/// them from sysfs, inventory checks the ones reported).
pub fn is_pci_address(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[4] == b':'
        && b[7] == b':'
        && b[10] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10) || c.is_ascii_hexdigit())
}

/// What kind of failure a [`StorageFailure`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// A unique constraint was violated.
    Unique,
    /// A transient conflict (deadlock, serialisation failure, busy): a retry
    /// of the whole transaction may succeed.
    Retry,
    /// The connection is gone or could not be made.
    Connection,
    /// A stored row did not have the expected shape.
    Decode,
    /// Anything else the database (or the operating system under it) reported.
    Other,
}

/// A failure below the domain: the store (or the operating system under it)
/// could not do what was asked. It is the storage engine's own error type, and
/// every domain error carries one in its `Storage` variant, so the engine maps
/// its failures in one place and the HTTP layer answers them in one way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage error ({kind:?}): {message}")]
pub struct StorageFailure {
    /// What kind of failure.
    pub kind: StorageKind,
    /// What failed, for the operator's log (never a bound value).
    pub message: String,
}

impl StorageFailure {
    /// A failure of `kind`.
    pub fn new(kind: StorageKind, message: impl Into<String>) -> Self {
        StorageFailure {
            kind,
            message: message.into(),
        }
    }
    /// A failure that a retry will not cure.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Other, message)
    }
    /// The connection is gone or could not be made.
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Connection, message)
    }
    /// A stored row did not have the expected shape.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(StorageKind::Decode, message)
    }
    /// A retry of the whole transaction may succeed (a serialisation failure
    /// or deadlock), as opposed to a fault that will repeat.
    pub fn is_retryable(&self) -> bool {
        self.kind == StorageKind::Retry
    }
}

/// What a client is told when a write hits a unique key.
pub const DUPLICATE_ENTRY: &str =
    "Conflict occurred attempting to store the record: a duplicate entry was found.";

/// An error a storage transaction may end with: it carries storage failures
/// and says whether a retry of the whole transaction could help. The engine
/// retries closures whose error says so.
pub trait TxError: From<StorageFailure> + Send + 'static {
    /// True for transient failures.
    fn is_retryable(&self) -> bool;
}

impl TxError for StorageFailure {
    fn is_retryable(&self) -> bool {
        StorageFailure::is_retryable(self)
    }
}

/// What can go wrong in a domain operation, by what the caller can do about
/// it. Fault management and inventory use it as is (identity adds its own
/// authentication failures); the HTTP layer maps it to StarlingX's envelope
/// in one place: 400, 404, 409, and 503/500 for storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is wrong or not allowed now; the message names the problem.
    #[error("{0}")]
    Invalid(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with existing state (a duplicate key).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (e.g. an agent speaking for another host).
    #[error("{0}")]
    Forbidden(String),
    /// The store failed (see [`StorageFailure`]).
    #[error(transparent)]
    Storage(StorageFailure),
}

impl From<StorageFailure> for Error {
    /// A unique-key violation is the client's conflict; anything else is a
    /// storage failure.
    fn from(f: StorageFailure) -> Self {
        match f.kind {
            StorageKind::Unique => Error::Conflict(DUPLICATE_ENTRY.into()),
            _ => Error::Storage(f),
        }
    }
}

impl TxError for Error {
    fn is_retryable(&self) -> bool {
        matches!(self, Error::Storage(f) if f.is_retryable())
    }
}

impl Error {
    /// An [`Error::Invalid`].
    pub fn invalid(m: impl Into<String>) -> Self {
        Error::Invalid(m.into())
    }
    /// An [`Error::NotFound`].
    pub fn not_found(m: impl Into<String>) -> Self {
        Error::NotFound(m.into())
    }
    /// An [`Error::Conflict`].
    pub fn conflict(m: impl Into<String>) -> Self {
        Error::Conflict(m.into())
    }

    pub fn forbidden(m: impl Into<String>) -> Self {
        Error::Forbidden(m.into())
    }
}

/// The future a [`TokenSource`] returns.
pub type TokenFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + 'a>>;

/// Where a Starling service gets its own token for calling another service:
/// a fixed token, a login with service credentials against an identity
/// endpoint, or (all-in-one) an in-process issue. Implementations renew
/// before expiry and on demand.
pub trait TokenSource: Send + Sync + 'static {
    /// A token to send as `X-Auth-Token`. `renew` asks for a fresh one (the
    /// last was refused with a 401). The error says why none is available.
    fn token(&self, renew: bool) -> TokenFuture<'_>;
}

/// A token given on the command line or in the environment; never renewed.
pub struct StaticToken(pub String);

impl TokenSource for StaticToken {
    fn token(&self, _renew: bool) -> TokenFuture<'_> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expect: &str) {
        let ts = Timestamp::parse(input).expect("parses");
        assert_eq!(ts.to_naive_iso(), expect, "input {input:?}");
    }

    #[test]
    fn parses_starlingx_forms() {
        check("2016-05-12T12:11:10.405609", "2016-05-12T12:11:10.405609");
        check("2016-05-12 12:11:10.405609", "2016-05-12T12:11:10.405609");
        check("2016-05-12 12:11:10", "2016-05-12T12:11:10.000000");
        check("20160131 10:23:45", "2016-01-31T10:23:45.000000");
        check("20171225", "2017-12-25T00:00:00.000000");
        check("2017-12-25", "2017-12-25T00:00:00.000000");
        check("2016-05-12T12:11:10Z", "2016-05-12T12:11:10.000000");
        check("2016-05-12T12:11:10+02:00", "2016-05-12T10:11:10.000000");
        check("2016-05-12T12:11:10.5-0130", "2016-05-12T13:41:10.500000");
        check("2016-05-12T12:11", "2016-05-12T12:11:00.000000");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2016-13-01",
            "2016-02-30",
            "2016-05-12T25:00",
            "2016-05-12T12:1x",
            "2016-05-12T12:11:10+5",
            "201605",
            "2016-05-12T12:11:10.abc",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats() {
        let t = Timestamp::parse("2020-01-02T03:04:05.678901").unwrap();
        assert_eq!(t.to_iso_utc(), "2020-01-02T03:04:05.678901+00:00");
        assert_eq!(t.to_snmp_text(), "2020-01-02,03:04:05.6,+0:0");
        assert_eq!(Timestamp::parse(&t.to_naive_iso()).unwrap(), t);
    }

    #[test]
    fn naive_iso_matches_the_formatted_form_everywhere() {
        let reference = |t: Timestamp| {
            let d = t.datetime();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute(),
                d.second(),
                d.microsecond()
            )
        };
        let year = 365 * 24 * 3600 * MICROS;
        let mut samples = vec![0, 1, -1, 999_999, i64::MAX, i64::MIN, 8_000 * year];
        samples.extend([-1971 * year, -1969 * year, -1975 * year, -12_000 * year]);
        // A deterministic walk over four thousand years, odd microseconds included.
        let mut us: i64 = -1_970 * year;
        while us < 2_100 * year {
            samples.push(us);
            us += 3_333 * 24 * 3600 * MICROS + 7_777_777;
        }
        for us in samples {
            let t = Timestamp::from_micros(us);
            assert_eq!(t.to_naive_iso(), reference(t), "{us} µs");
        }
        assert_eq!(
            Timestamp::from_micros(0).to_naive_iso(),
            "1970-01-01T00:00:00.000000"
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_micros(10));
        assert_eq!(c.now().micros(), 10);
        c.advance_secs(2);
        assert_eq!(c.now().micros(), 2_000_010);
    }

    #[test]
    fn uuids() {
        assert!(is_uuid(&new_uuid()));
        assert!(!is_uuid("not-a-uuid"));
    }
}
