//! The FM client every Starling service uses to raise and clear alarms.
//!
//! Mutations (set, clear, hierarchical clear, batches) travel in one ordered lane.
//! When FM cannot be reached in time, the request is appended to a durable spool
//! (a file, fsynced) and the caller gets [`Delivered::Queued`]; a background task
//! replays the spool in order until it is empty. No call blocks longer than
//! [`Config::call_timeout`]. Reads go straight to FM and fail fast when it is down.
//!
//! Replays are safe to repeat: a set is an upsert that writes nothing when
//! unchanged, and a clear of an absent alarm is a no-op.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use starling_common::TokenSource;
use starling_fm_types as wire;
use starling_wire::LooseBool;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Client settings.
#[derive(Clone)]
pub struct Config {
    /// FM endpoint, e.g. `http://127.0.0.1:18002`.
    pub base_url: String,
    /// Where the `X-Auth-Token` comes from (none: FM without identity).
    pub token: Option<Arc<dyn TokenSource>>,
    /// Longest a call may take, queueing included.
    pub call_timeout: Duration,
    /// Where the spool file lives (created if missing).
    pub spool_dir: PathBuf,
    /// Most requests the spool holds; beyond it calls fail with [`ClientError::QueueFull`].
    pub max_queued: usize,
    /// Longest pause between replay attempts.
    pub max_backoff: Duration,
    /// PEM bundle that verifies an https FM (the system's roots when absent).
    pub ca_pem: Option<Vec<u8>>,
}

impl Config {
    /// Defaults: 2 s calls, 10,000 queued requests, replay backoff up to 5 s.
    pub fn new(base_url: impl Into<String>, spool_dir: impl Into<PathBuf>) -> Self {
        Config {
            base_url: base_url.into(),
            token: None,
            call_timeout: Duration::from_secs(2),
            spool_dir: spool_dir.into(),
            max_queued: 10_000,
            max_backoff: Duration::from_secs(5),
            ca_pem: None,
        }
    }
}

/// Errors a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// FM refused the request (bad input); retrying will not help.
    #[error("FM rejected the request: {0}")]
    Rejected(String),
    /// FM could not be reached in time (reads only; mutations are queued).
    #[error("FM is unavailable: {0}")]
    Unavailable(String),
    /// The spool is full: the request was not recorded.
    #[error("the FM spool is full ({0} requests waiting)")]
    QueueFull(usize),
    /// The spool file could not be written: the request was not recorded.
    #[error("cannot write the FM spool: {0}")]
    Spool(String),
}

/// The outcome of a mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered<T> {
    /// FM applied it.
    Done(T),
    /// FM was unreachable; the request waits in the spool and will be replayed.
    Queued,
}

/// An alarm to raise (the fields of StarlingX's `Fault`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    /// `GGG.NNN`.
    pub alarm_id: String,
    /// Entity instance, e.g. `host=controller-0.port=eth0`.
    pub entity_instance_id: String,
    /// Entity type; derived from the instance id when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entity_type_id: String,
    /// critical, major, minor or warning.
    pub severity: String,
    /// Reason text.
    pub reason_text: String,
    /// X.733 event type.
    pub alarm_type: String,
    /// Probable cause.
    pub probable_cause: String,
    /// Repair action.
    #[serde(default)]
    pub proposed_repair_action: String,
    /// Service affecting.
    #[serde(default)]
    pub service_affecting: bool,
    /// Suppression allowed.
    #[serde(default)]
    pub suppression: bool,
    /// Masks suppression-allowed descendants while active.
    #[serde(default)]
    pub inhibit_alarms: bool,
    /// Event time (`YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC); FM's clock when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl Fault {
    /// The report to post with `state` (`set` or `log`).
    fn input(&self, state: &str) -> wire::AlarmInput {
        let yes = |b: bool| Some(LooseBool(b));
        wire::AlarmInput {
            alarm_id: Some(self.alarm_id.clone()),
            alarm_state: Some(state.into()),
            entity_type_id: (!self.entity_type_id.is_empty()).then(|| self.entity_type_id.clone()),
            entity_instance_id: Some(self.entity_instance_id.clone()),
            timestamp: self.timestamp.clone(),
            severity: Some(self.severity.clone()),
            reason_text: Some(self.reason_text.clone()),
            alarm_type: Some(self.alarm_type.clone()),
            probable_cause: Some(self.probable_cause.clone()),
            proposed_repair_action: Some(self.proposed_repair_action.clone()),
            service_affecting: yes(self.service_affecting),
            suppression: yes(self.suppression),
            inhibit_alarms: yes(self.inhibit_alarms),
            ..wire::AlarmInput::default()
        }
    }

    fn body(&self, state: &str) -> Value {
        serde_json::to_value(self.input(state)).unwrap_or(Value::Null)
    }
}

/// The clear of (alarm_id, entity_instance_id).
fn clear_input(alarm_id: &str, eid: &str) -> wire::AlarmInput {
    wire::AlarmInput {
        alarm_id: Some(alarm_id.into()),
        alarm_state: Some("clear".into()),
        entity_instance_id: Some(eid.into()),
        ..wire::AlarmInput::default()
    }
}

/// An answer read as the wire type `T`; `None` when it is not one.
fn read<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    T::deserialize(v).ok()
}

/// An active alarm as FM reports it (the FM API's own shape).
pub type Alarm = starling_fm_types::Alarm<'static>;

/// A mutation as stored in the spool.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    Set {
        fault: Fault,
    },
    Clear {
        alarm_id: String,
        entity_instance_id: String,
    },
    Log {
        fault: Fault,
    },
    ClearAll {
        entity_instance_id: String,
    },
    Batch {
        entries: Vec<Value>,
    },
}

/// Result of one attempt.
enum Sent {
    Ok(Value),
    /// FM answered 4xx: the request itself is wrong (404 for a clear included).
    Rejected(u16, String),
    /// Not reached, timed out or 5xx: try again later.
    Retry(String),
}

struct Spool {
    path: PathBuf,
    file: File,
    queue: VecDeque<Op>,
    /// Lines of the file already replayed.
    done_lines: usize,
}

/// The spool holds requests with their alarm texts: its directory is 0700
/// and its files 0600 (Unix), like the rest of a data directory.
fn private_dir(dir: &PathBuf) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens `path` for appending (created 0600; an existing file made 0600).
fn private_file(path: &PathBuf, append: bool) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true);
    if append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

impl Spool {
    fn open(dir: &PathBuf) -> Result<Spool, ClientError> {
        private_dir(dir).map_err(|e| ClientError::Spool(e.to_string()))?;
        let path = dir.join("fm-spool.jsonl");
        let done_path = dir.join("fm-spool.done");
        let done_lines: usize = std::fs::read_to_string(&done_path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let mut queue = VecDeque::new();
        if let Ok(f) = File::open(&path) {
            for (i, line) in BufReader::new(f).lines().enumerate() {
                let Ok(line) = line else { break };
                if i < done_lines || line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Op>(&line) {
                    Ok(op) => queue.push_back(op),
                    // A torn last line after a crash: the request was never acknowledged.
                    Err(e) => {
                        tracing::warn!(line = i, error = %e, "skipping unreadable spool line")
                    }
                }
            }
        }
        let file = private_file(&path, true).map_err(|e| ClientError::Spool(e.to_string()))?;
        let mut s = Spool {
            path,
            file,
            queue,
            done_lines,
        };
        if s.queue.is_empty() {
            s.reset()?;
        }
        Ok(s)
    }

    fn push(&mut self, op: Op, max: usize) -> Result<(), ClientError> {
        if self.queue.len() >= max {
            return Err(ClientError::QueueFull(self.queue.len()));
        }
        let mut line = serde_json::to_string(&op).map_err(|e| ClientError::Spool(e.to_string()))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| ClientError::Spool(e.to_string()))?;
        self.queue.push_back(op);
        Ok(())
    }

    fn pop(&mut self) -> Result<(), ClientError> {
        self.queue.pop_front();
        self.done_lines += 1;
        if self.queue.is_empty() {
            return self.reset();
        }
        private_file(&self.path.with_extension("done"), false)
            .and_then(|mut f| f.write_all(self.done_lines.to_string().as_bytes()))
            .map_err(|e| ClientError::Spool(e.to_string()))
    }

    /// Empty: truncate the file and forget the replay position.
    fn reset(&mut self) -> Result<(), ClientError> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| ClientError::Spool(e.to_string()))?;
        self.done_lines = 0;
        let _ = std::fs::remove_file(self.path.with_extension("done"));
        Ok(())
    }
}

struct Inner {
    cfg: Config,
    http: reqwest::Client,
    /// The ordered lane: whoever holds it may send a mutation.
    lane: tokio::sync::Mutex<()>,
    spool: Mutex<Spool>,
    wake: Notify,
}

/// The FM client. Cheap to clone; one spool per `spool_dir`.
#[derive(Clone)]
pub struct FmClient {
    inner: Arc<Inner>,
}

impl FmClient {
    /// Opens the spool (replaying anything left from before) and starts the
    /// replay task. Must be called inside a tokio runtime.
    pub fn open(cfg: Config) -> Result<FmClient, ClientError> {
        let mut b = reqwest::Client::builder().connect_timeout(cfg.call_timeout);
        if let Some(pem) = &cfg.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ClientError::Rejected(format!("invalid CA bundle: {e}")))?;
            b = b.tls_certs_only(certs);
        } else if cfg.base_url.starts_with("http://") {
            // Plain HTTP (all-in-one, on loopback): no handshake will ever need
            // the system's trust store, and loading it parses every root
            // certificate (a quarter of the daemon's first start-up, outside
            // hashing). A redirect to https fails rather than trusting anything.
            b = b.tls_certs_only(std::iter::empty());
        }
        let http = b
            .build()
            .map_err(|e| ClientError::Unavailable(e.to_string()))?;
        let spool = Spool::open(&cfg.spool_dir)?;
        let inner = Arc::new(Inner {
            http,
            lane: tokio::sync::Mutex::new(()),
            spool: Mutex::new(spool),
            wake: Notify::new(),
            cfg,
        });
        tokio::spawn(replay(Arc::downgrade(&inner)));
        inner.wake.notify_one();
        Ok(FmClient { inner })
    }

    /// Requests waiting in the spool.
    pub fn queued(&self) -> usize {
        self.inner.spool.lock().map_or(0, |s| s.queue.len())
    }

    /// Raises or updates an alarm; returns its uuid.
    pub async fn set(&self, fault: &Fault) -> Result<Delivered<String>, ClientError> {
        let v = self
            .mutate(Op::Set {
                fault: fault.clone(),
            })
            .await?;
        Ok(map(v, |v| {
            read::<wire::UuidResult<'_>>(v)
                .and_then(|r| r.uuid)
                .map(|u| u.into_owned())
                .unwrap_or_default()
        }))
    }

    /// Clears an alarm (and the same alarm id under the entity); false when none was active.
    pub async fn clear(&self, alarm_id: &str, eid: &str) -> Result<Delivered<bool>, ClientError> {
        let v = self
            .mutate(Op::Clear {
                alarm_id: alarm_id.into(),
                entity_instance_id: eid.into(),
            })
            .await?;
        Ok(map(v, |v| !v.is_null()))
    }

    /// Writes a customer log (an event with no alarm) to the event log.
    pub async fn log(&self, fault: &Fault) -> Result<Delivered<()>, ClientError> {
        let v = self
            .mutate(Op::Log {
                fault: fault.clone(),
            })
            .await?;
        Ok(map(v, |_| ()))
    }

    /// Clears every alarm at or under `eid`; returns how many.
    pub async fn clear_all(&self, eid: &str) -> Result<Delivered<u64>, ClientError> {
        let v = self
            .mutate(Op::ClearAll {
                entity_instance_id: eid.into(),
            })
            .await?;
        Ok(map(v, |v| {
            read::<wire::Cleared>(v).map_or(0, |c| c.cleared)
        }))
    }

    /// Raises several alarms atomically; returns their uuids.
    pub async fn set_batch(&self, faults: &[Fault]) -> Result<Delivered<Vec<String>>, ClientError> {
        let entries = faults.iter().map(|f| f.body("set")).collect();
        let v = self.mutate(Op::Batch { entries }).await?;
        Ok(map(v, uuids))
    }

    /// Clears several (alarm_id, entity_instance_id) pairs atomically; absent ones are skipped.
    pub async fn clear_batch(&self, keys: &[(&str, &str)]) -> Result<Delivered<()>, ClientError> {
        let entries = keys
            .iter()
            .map(|(a, e)| serde_json::to_value(clear_input(a, e)).unwrap_or(Value::Null))
            .collect();
        let v = self.mutate(Op::Batch { entries }).await?;
        Ok(map(v, |_| ()))
    }

    /// The active alarm (alarm_id, eid), suppressed or not.
    pub async fn get(&self, alarm_id: &str, eid: &str) -> Result<Option<Alarm>, ClientError> {
        let q = query(&[("alarm_id", alarm_id), ("entity_instance_id", eid)], None);
        Ok(self.list(&q).await?.into_iter().next())
    }

    /// Every active alarm at or under `eid`.
    pub async fn get_all(&self, eid: &str) -> Result<Vec<Alarm>, ClientError> {
        self.list(&query(&[], Some(eid))).await
    }

    /// Every active alarm with this id.
    pub async fn get_by_id(&self, alarm_id: &str) -> Result<Vec<Alarm>, ClientError> {
        self.list(&query(&[("alarm_id", alarm_id)], None)).await
    }

    async fn list(&self, q: &str) -> Result<Vec<Alarm>, ClientError> {
        let mut out = Vec::new();
        let mut url = format!("{}/v1/alarms?{q}", self.base());
        loop {
            let req = self.inner.http.get(&url);
            let v = match send(&self.inner, req, self.inner.cfg.call_timeout).await {
                Sent::Ok(v) => v,
                Sent::Rejected(_, m) => return Err(ClientError::Rejected(m)),
                Sent::Retry(m) => return Err(ClientError::Unavailable(m)),
            };
            let page: wire::AlarmDetailList<'static> = serde_json::from_value(v)
                .map_err(|e| ClientError::Unavailable(format!("unexpected answer: {e}")))?;
            out.extend(page.alarms);
            match page.next.as_deref() {
                Some(n) => {
                    let rest = n.find("/v1/").map_or(n, |i| &n[i..]);
                    url = format!("{}{rest}", self.base());
                }
                None => return Ok(out),
            }
        }
    }

    fn base(&self) -> &str {
        self.inner.cfg.base_url.trim_end_matches('/')
    }

    async fn mutate(&self, op: Op) -> Result<Delivered<Value>, ClientError> {
        let inner = &self.inner;
        let deadline = Instant::now() + inner.cfg.call_timeout;
        // Wait for the lane, but never past the deadline.
        let guard = tokio::time::timeout_at(deadline, inner.lane.lock())
            .await
            .ok();
        let direct = guard.is_some() && self.queued() == 0;
        if direct {
            match attempt(
                inner,
                &op,
                deadline.saturating_duration_since(Instant::now()),
            )
            .await
            {
                Sent::Ok(v) => return Ok(Delivered::Done(v)),
                Sent::Rejected(404, _) if matches!(op, Op::Clear { .. }) => {
                    return Ok(Delivered::Done(Value::Null));
                }
                Sent::Rejected(_, m) => return Err(ClientError::Rejected(m)),
                Sent::Retry(why) => tracing::warn!(%why, "FM unreachable; request spooled"),
            }
        }
        self.enqueue(op)?;
        drop(guard);
        Ok(Delivered::Queued)
    }

    fn enqueue(&self, op: Op) -> Result<(), ClientError> {
        let max = self.inner.cfg.max_queued;
        self.inner
            .spool
            .lock()
            .map_err(|_| ClientError::Spool("spool lock poisoned".into()))?
            .push(op, max)?;
        self.inner.wake.notify_one();
        Ok(())
    }
}

fn map<T>(d: Delivered<Value>, f: impl FnOnce(&Value) -> T) -> Delivered<T> {
    match d {
        Delivered::Done(v) => Delivered::Done(f(&v)),
        Delivered::Queued => Delivered::Queued,
    }
}

fn uuids(v: &Value) -> Vec<String> {
    read::<wire::BatchResults<'_>>(v)
        .map(|r| {
            r.results
                .into_iter()
                .filter_map(|x| x.uuid.map(|u| u.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn query(filters: &[(&str, &str)], within: Option<&str>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (f, _) in filters {
        s.append_pair("q.field", f);
    }
    for _ in filters {
        s.append_pair("q.op", "eq");
    }
    for (_, v) in filters {
        s.append_pair("q.value", v);
    }
    if let Some(w) = within {
        s.append_pair("within", w);
    }
    s.append_pair("include_suppress", "True");
    s.append_pair("expand", "True");
    s.finish()
}

async fn send(inner: &Inner, req: reqwest::RequestBuilder, timeout: Duration) -> Sent {
    if timeout.is_zero() {
        return Sent::Retry("no time left".into());
    }
    let deadline = Instant::now() + timeout;
    let Some(tokens) = &inner.cfg.token else {
        return send_once(req, timeout).await;
    };
    let mut renew = false;
    let mut req = req;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let token = match tokio::time::timeout(left, tokens.token(renew)).await {
            Ok(Ok(t)) => t,
            Ok(Err(why)) => return Sent::Retry(format!("no token for FM: {why}")),
            Err(_) => return Sent::Retry("timed out getting a token for FM".into()),
        };
        // Kept for one retry with a renewed token after a 401.
        let again = if renew { None } else { req.try_clone() };
        let left = deadline.saturating_duration_since(Instant::now());
        match send_once(req.header("X-Auth-Token", token), left).await {
            Sent::Rejected(401, m) => match again {
                Some(r) => {
                    req = r;
                    renew = true;
                }
                // Refused even when fresh: the service's account is wrong,
                // not the request. Keep it and retry later.
                None => return Sent::Retry(format!("FM refused the service token: {m}")),
            },
            other => return other,
        }
    }
}

async fn send_once(req: reqwest::RequestBuilder, timeout: Duration) -> Sent {
    if timeout.is_zero() {
        return Sent::Retry("no time left".into());
    }
    let resp = match tokio::time::timeout(timeout, req.timeout(timeout).send()).await {
        Err(_) => return Sent::Retry("timed out".into()),
        Ok(Err(e)) => return Sent::Retry(e.to_string()),
        Ok(Ok(r)) => r,
    };
    let status = resp.status();
    let text = match tokio::time::timeout(timeout, resp.text()).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Sent::Retry(e.to_string()),
        Err(_) => return Sent::Retry("timed out reading the answer".into()),
    };
    if status.is_success() {
        return Sent::Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
    }
    let msg = fault_string(&text).unwrap_or_else(|| status.to_string());
    if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
        Sent::Rejected(status.as_u16(), msg)
    } else {
        Sent::Retry(msg)
    }
}

fn fault_string(body: &str) -> Option<String> {
    let e: wire::ErrorEnvelope = serde_json::from_str(body).ok()?;
    let v: Value = serde_json::from_str(&e.error_message).ok()?;
    v["faultstring"].as_str().map(str::to_string)
}

async fn attempt(inner: &Inner, op: &Op, timeout: Duration) -> Sent {
    let base = inner.cfg.base_url.trim_end_matches('/');
    let req = match op {
        Op::Set { fault } => inner
            .http
            .post(format!("{base}/v1/alarms"))
            .json(&fault.body("set")),
        Op::Log { fault } => inner
            .http
            .post(format!("{base}/v1/alarms"))
            .json(&fault.body("log")),
        Op::Clear {
            alarm_id,
            entity_instance_id,
        } => inner
            .http
            .post(format!("{base}/v1/alarms"))
            .json(&clear_input(alarm_id, entity_instance_id)),
        Op::ClearAll { entity_instance_id } => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("entity_instance_id", entity_instance_id)
                .finish();
            inner.http.delete(format!("{base}/v1/alarms?{q}"))
        }
        Op::Batch { entries } => inner
            .http
            .post(format!("{base}/v1/alarms/batch"))
            .json(&json!({ "alarms": entries })),
    };
    send(inner, req, timeout).await
}

/// Replays the spool in order while the client lives.
async fn replay(weak: std::sync::Weak<Inner>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let head = inner
            .spool
            .lock()
            .ok()
            .and_then(|s| s.queue.front().cloned());
        let Some(op) = head else {
            // Only this task holds the client: it was dropped.
            if Arc::strong_count(&inner) == 1 {
                return;
            }
            tokio::select! {
                () = inner.wake.notified() => {},
                () = tokio::time::sleep(Duration::from_secs(1)) => {},
            }
            continue;
        };
        let lane = inner.lane.lock().await;
        let timeout = inner.cfg.call_timeout.max(Duration::from_secs(5));
        let done = match attempt(&inner, &op, timeout).await {
            Sent::Ok(_) => true,
            Sent::Rejected(code, m) => {
                // Replaying a wrong request cannot fix it: drop it, loudly.
                if code != 404 {
                    tracing::error!(status = code, error = %m, ?op, "FM rejected a spooled request; dropped");
                }
                true
            }
            Sent::Retry(why) => {
                tracing::debug!(%why, "FM still unreachable");
                false
            }
        };
        if done {
            if let Ok(mut s) = inner.spool.lock()
                && let Err(e) = s.pop()
            {
                tracing::error!(error = %e, "cannot record spool progress");
            }
            backoff = Duration::from_millis(100);
            drop(lane);
        } else {
            drop(lane);
            let max = inner.cfg.max_backoff;
            drop(inner);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(max);
        }
    }
}

impl From<&starling_common::alarm::RaisedAlarm> for Fault {
    fn from(a: &starling_common::alarm::RaisedAlarm) -> Self {
        Fault {
            alarm_id: a.def.id.into(),
            entity_instance_id: a.entity_instance_id.clone(),
            entity_type_id: a.def.entity_type.into(),
            severity: a.def.severity.into(),
            reason_text: a.reason_text.clone(),
            alarm_type: a.def.alarm_type.into(),
            probable_cause: a.def.probable_cause.into(),
            proposed_repair_action: a.def.repair.into(),
            service_affecting: a.def.service_affecting,
            suppression: a.def.suppression,
            inhibit_alarms: false,
            timestamp: None,
        }
    }
}

/// The alarm sink of a split deployment: every effect goes to FM over HTTP,
/// or into the spool while FM is away (so `Ok` means delivered or queued).
impl starling_common::alarm::AlarmSink for FmClient {
    fn send(
        &self,
        effect: starling_common::alarm::AlarmEffect,
    ) -> starling_common::alarm::SinkFuture<'_> {
        use starling_common::alarm::AlarmEffect as E;
        Box::pin(async move {
            let r = match &effect {
                E::Set(a) => self.set(&Fault::from(a)).await.map(|_| ()),
                E::Clear {
                    alarm_id,
                    entity_instance_id,
                } => self.clear(alarm_id, entity_instance_id).await.map(|_| ()),
                E::ClearAll { entity_instance_id } => {
                    self.clear_all(entity_instance_id).await.map(|_| ())
                }
                E::Log(a) => self.log(&Fault::from(a)).await.map(|_| ()),
            };
            r.map_err(|e| e.to_string())
        })
    }

    fn spooled(&self) -> Option<usize> {
        Some(self.queued())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("starling_spool_{name}_{}", std::process::id()))
    }

    #[test]
    fn spool_survives_reopen_and_skips_replayed_lines() {
        let dir = tmp("reopen");
        let _ = std::fs::remove_dir_all(&dir);
        let mut s = Spool::open(&dir).unwrap();
        for i in 0..3 {
            s.push(
                Op::ClearAll {
                    entity_instance_id: format!("host=h{i}"),
                },
                10,
            )
            .unwrap();
        }
        s.pop().unwrap();
        drop(s);
        let mut s = Spool::open(&dir).unwrap();
        assert_eq!(s.queue.len(), 2);
        assert_eq!(
            s.queue[0],
            Op::ClearAll {
                entity_instance_id: "host=h1".into()
            }
        );
        assert!(matches!(
            s.push(
                Op::ClearAll {
                    entity_instance_id: "x".into()
                },
                2
            ),
            Err(ClientError::QueueFull(2))
        ));
        s.pop().unwrap();
        s.pop().unwrap();
        assert_eq!(
            std::fs::metadata(dir.join("fm-spool.jsonl")).unwrap().len(),
            0,
            "drained spool is truncated"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn torn_lines_are_skipped() {
        let dir = tmp("torn");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("fm-spool.jsonl"),
            "{\"op\":\"clear_all\",\"entity_instance_id\":\"host=a\"}\n{\"op\":\"cle",
        )
        .unwrap();
        let s = Spool::open(&dir).unwrap();
        assert_eq!(s.queue.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
