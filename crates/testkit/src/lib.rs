//! The test kit every service's tests share, so each API crate's tests hold
//! only what is particular to that service:
//!
//! - [`backends`]: a fresh test database per backend (SQLite always,
//!   PostgreSQL and MariaDB when they answer or `STARLING_REQUIRE_DB=1`) and
//!   one test body run on each;
//! - [`TempDir`] and [`sqlite`]: a store of its own for a test app;
//! - [`send`] and [`request`]: one request through a whole router (guard,
//!   limits, extractors), the answer's status, headers and JSON body;
//! - [`sushy`]: a real Redfish BMC (sushy-tools' emulator);
//! - [`faultstring`] and [`keystone_message`]: what StarlingX's and
//!   Keystone's error envelopes say;
//! - [`ManualClock`]: time that moves only when a test moves it;
//! - [`free_port`]: a loopback port nobody listens on.
//!
//! A dev-dependency only: nothing here runs in production.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod ipmi;
pub mod pair;
pub mod sushy;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
pub use starling_common::ManualClock;
pub use starling_db::testing as backends;
use starling_db::{Db, Schema, Tuning};
use tower::ServiceExt;

static N: AtomicU32 = AtomicU32::new(0);

/// A directory of its own under the system's temporary directory, removed
/// (with everything in it) when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, unique directory name starting with `prefix` (created by
    /// whoever first writes into it).
    pub fn new(prefix: &str) -> TempDir {
        TempDir(std::env::temp_dir().join(format!(
            "{prefix}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        )))
    }
    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A SQLite store in `dir` migrated to `schemas`, with small pools (the
/// suites run many tests at once on two cores).
pub async fn sqlite(dir: &TempDir, file: &str, schemas: &[Schema]) -> Db {
    Db::open(
        &format!("sqlite://{}/{file}", dir.path().display()),
        Tuning {
            readers: 2,
            ..Tuning::default()
        },
        schemas,
    )
    .await
    .expect("opening the test store")
}

/// A request with a JSON body (or none), as the StarlingX clients send them.
pub fn request(method: &str, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
}

/// What a router answered.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when empty).
    pub body: Value,
}

impl Answer {
    /// A header's value, if it is there.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("a text header").to_string())
    }
}

/// Sends `req` with `body` through `app` and reads the whole answer; a body
/// that is not JSON fails the test, quoting it.
pub async fn send(
    app: &axum::Router,
    req: axum::http::request::Builder,
    body: Option<&str>,
) -> Answer {
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("a well-formed request");
    let resp = app.clone().oneshot(req).await.expect("the router answers");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("a whole body")
        .to_bytes();
    let text = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    let body = if bytes.is_empty() {
        Value::Null
    } else if text {
        // Prometheus' metrics: the text as a string.
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// Calls each `(method, path)` operation of a service's document on `app`
/// (path parameters replaced as `params` say; a body `{}` where one is
/// taken) and fails on any the router does not route: a 405, or the
/// router's own 404 rather than a handler's.
pub async fn assert_routed(app: &axum::Router, ops: &[(String, String)], params: &[(&str, &str)]) {
    for (m, p) in ops {
        let path = params
            .iter()
            .fold(p.clone(), |path, (from, to)| path.replace(from, to));
        let body = matches!(m.as_str(), "POST" | "PUT" | "PATCH").then_some("{}");
        let a = send(app, request(m, &path), body).await;
        assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}");
        if a.status == StatusCode::NOT_FOUND {
            assert!(
                !faultstring(&a.body).starts_with("The resource could not be found"),
                "{m} {p} is not routed: {}",
                a.body
            );
        }
    }
}

/// The faultstring inside StarlingX's double-encoded error envelope
/// (`{"error_message": "{\"faultstring\": …}"}`).
#[track_caller]
pub fn faultstring(v: &Value) -> String {
    let inner: Value = serde_json::from_str(
        v["error_message"]
            .as_str()
            .unwrap_or_else(|| panic!("not StarlingX's envelope: {v}")),
    )
    .expect("the envelope's inner document is JSON");
    inner["faultstring"]
        .as_str()
        .expect("a faultstring")
        .to_string()
}

/// The message of Keystone's error envelope (`{"error": {"message": …}}`).
#[track_caller]
pub fn keystone_message(v: &Value) -> String {
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not Keystone's envelope: {v}"))
        .to_string()
}

/// A loopback port free at the time of asking.
///
/// Ports come from 20000–31999, below Linux's ephemeral range
/// (32768–60999): a port the kernel handed out as free could be taken, before
/// the test binds it, as the source port of some test's own outgoing
/// connection (a flood test opens dozens), and the daemon would fail to
/// listen. Each call of a process takes the next port of its own sequence.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let start = (std::process::id() % 600) * 20;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = u16::try_from(FIRST + (start + n) % SPAN).unwrap_or(0);
        // Free for TCP and UDP alike (a heartbeat responder listens on UDP).
        if port != 0
            && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The agent's resource monitor with every threshold off: a host in a
/// test does not alarm on the test machine's own load.
pub const QUIET_RESOURCES: [&str; 6] = [
    "--cpu-threshold",
    "off",
    "--memory-threshold",
    "off",
    "--filesystem-threshold",
    "off",
];

/// Where, in the agent's fixture tree, its management port lives.
pub const FIXTURE_ETH0: &str = "sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0";

/// A host's root for its agent (`--root`) at `root`: a copy of the agent's
/// fixture tree (a small virtio machine) telling `hostname` and, for its
/// management port, `mac`.
pub fn host_root(root: &std::path::Path, hostname: &str, mac: &str) {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent/fixtures/vm-virtio-1node");
    let _ = std::fs::remove_dir_all(root);
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(&fixture)
        .arg(root)
        .status()
        .expect("cp");
    assert!(st.success(), "copying the agent's fixture");
    for f in ["proc/sys/kernel/hostname", "etc/hostname"] {
        std::fs::write(root.join(f), format!("{hostname}\n")).expect("the fixture's hostname");
    }
    std::fs::write(root.join(FIXTURE_ETH0).join("address"), format!("{mac}\n"))
        .expect("the fixture's MAC");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_read() {
        let v = serde_json::json!({"error_message": "{\"faultstring\": \"no\", \"faultcode\": \"Client\"}"});
        assert_eq!(faultstring(&v), "no");
        let k = serde_json::json!({"error": {"code": 401, "message": "who?"}});
        assert_eq!(keystone_message(&k), "who?");
    }

    #[test]
    fn temp_dirs_are_unique_and_removed() {
        let a = TempDir::new("kit");
        let b = TempDir::new("kit");
        assert_ne!(a.path(), b.path());
        std::fs::create_dir_all(a.path()).unwrap();
        let p = a.path().to_path_buf();
        drop(a);
        assert!(!p.exists());
    }
}
