//! End-to-end: the real `fm`, `system` and `starling` binaries against real
//! APIs on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod system;

use std::process::Command;
use std::sync::Arc;

use std::time::Duration;

use serde_json::{Value, json};
use starling_auth::{LocalAuth, LocalIssuer, TokenCache};
use starling_common::{Clock, SystemClock};
use starling_db::{Db, Tuning};
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging};
use starling_identity::Interface;
use starling_identity::ops::{self, AuthSettings, BootstrapSpec, ServiceSpec};
use starling_identity::password;
use starling_identity_api::IdentityState;
use starling_identity_store::IdentityStore;
use starling_inventory::ops::{self as inv_ops, SystemSpec};
use starling_inventory::{SystemMode, SystemType};
use starling_inventory_api::InventoryState;
use starling_inventory_store::InventoryStore;

struct Server {
    url: String,
    identity: String,
    inventory: String,
    token: String,
    /// The CA (self-signed certificate) of a TLS server.
    ca: Option<std::path::PathBuf>,
    _rt: tokio::runtime::Runtime,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

const ADMIN_PW: &str = "Adm1n!pass";

/// FM and identity on 127.0.0.1, one SQLite store, tokens validated
/// in-process as in the all-in-one daemon.
fn server(paging: Paging) -> Server {
    server_with(paging, false)
}

/// The same, over HTTPS with a self-signed certificate when `tls`.
fn server_with(paging: Paging, tls: bool) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "starling_cli_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = tls.then(|| {
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        std::fs::write(dir.join("ca.pem"), ck.cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
        dir.join("ca.pem")
    });
    let tls_cfg = ca
        .as_ref()
        .map(|c| starling_http::tls::server_config(c, &c.with_file_name("key.pem")).unwrap());
    let scheme = if tls { "https" } else { "http" };
    let (url, identity, inventory) = rt.block_on(async {
        let db = Db::open(
            &format!("sqlite://{}/t.db", dir.display()),
            Tuning::default(),
            &[
                starling_fm_store::SCHEMA,
                starling_identity_store::SCHEMA,
                starling_inventory_store::SCHEMA,
            ],
        )
        .await
        .unwrap();
        let fm_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let id_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inv_l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inv_url = format!("{scheme}://{}", inv_l.local_addr().unwrap());
        let fm_url = format!("{scheme}://{}", fm_l.local_addr().unwrap());
        let id_url = format!("{scheme}://{}", id_l.local_addr().unwrap());
        let spec = BootstrapSpec {
            admin_user: "admin".into(),
            admin_password_hash: Some(password::hash(ADMIN_PW).unwrap()),
            region: "RegionOne".into(),
            service_users: vec!["sysinv".into()],
            services: vec![
                ServiceSpec {
                    kind: "faultmanagement".into(),
                    name: "fm".into(),
                    description: "FM".into(),
                    urls: Interface::ALL
                        .iter()
                        .map(|i| (*i, fm_url.clone()))
                        .collect(),
                },
                ServiceSpec {
                    kind: "platform".into(),
                    name: "sysinv".into(),
                    description: "Inventory".into(),
                    urls: Interface::ALL
                        .iter()
                        .map(|i| (*i, format!("{inv_url}/v1")))
                        .collect(),
                },
            ],
        };
        db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &spec, SystemClock.now()))
            .await
            .unwrap();
        let st = FmState {
            db: db.clone(),
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            paging,
            written: Default::default(),
        };
        let entries = starling_fm::catalogue::parse(starling_fm::catalogue::BUILTIN).unwrap();
        starling_fm_api::sync_catalogue(&st, entries).await.unwrap();
        let cache = Arc::new(TokenCache::new(Duration::from_secs(5), 100));
        let auth = Arc::new(LocalAuth::new(
            db.clone(),
            Arc::new(SystemClock),
            cache.clone(),
        ));
        let fm_app = starling_fm_api::router(st, auth.clone());
        // Inventory on the same store, reporting to this FM as sysinv.
        let sys = SystemSpec {
            name: "edge-1".into(),
            system_type: SystemType::Standard,
            system_mode: SystemMode::Duplex,
            software_version: "1.0".into(),
            region_name: "RegionOne".into(),
        };
        db.write(move |c| {
            inv_ops::ensure_system(&mut InventoryStore::new(c), &sys, SystemClock.now())
        })
        .await
        .unwrap();
        let mut fm_cfg = starling_fm_client::Config::new(fm_url.clone(), dir.join("spool"));
        fm_cfg.token = Some(Arc::new(LocalIssuer::new(
            db.clone(),
            Arc::new(SystemClock),
            "sysinv",
            AuthSettings::default(),
        )));
        fm_cfg.ca_pem = ca.as_ref().map(|c| std::fs::read(c).unwrap());
        // Service management beside inventory, its services run by an LSB
        // script over flag files (the real executor, nothing needing root).
        let sm_url = start_sm(&dir).await;
        let inv = InventoryState {
            db: db.clone(),
            clock: Arc::new(SystemClock),
            fm: Some(Arc::new(
                starling_fm_client::FmClient::open(fm_cfg).unwrap(),
            )),
            paging: starling_inventory_api::Paging::default(),
            commands: Default::default(),
            reports: Default::default(),
            maintenance: Default::default(),
            configuring: Default::default(),
            port_links: Default::default(),
            secrets: None,
            sm: Some(starling_sm_types::client::SmClient::new(&sm_url).unwrap()),
        };
        let inv_app = starling_inventory_api::router(inv, auth.clone());
        let ids = IdentityState::new(db, Arc::new(SystemClock), cache);
        let id_app = starling_identity_api::router(ids, auth);
        match tls_cfg {
            Some(cfg) => {
                let p = std::future::pending;
                tokio::spawn(starling_http::serve_tls(fm_l, cfg.clone(), fm_app, p()));
                tokio::spawn(starling_http::serve_tls(inv_l, cfg.clone(), inv_app, p()));
                tokio::spawn(starling_http::serve_tls(id_l, cfg, id_app, p()));
            }
            None => {
                tokio::spawn(starling_http::serve(fm_l, fm_app, std::future::pending()));
                tokio::spawn(starling_http::serve(inv_l, inv_app, std::future::pending()));
                tokio::spawn(starling_http::serve(id_l, id_app, std::future::pending()));
            }
        }
        (fm_url, id_url, inv_url)
    });
    let token = login(&identity, "admin", ADMIN_PW, ca.as_deref()).unwrap();
    Server {
        url,
        identity,
        inventory,
        token,
        ca,
        _rt: rt,
        dir,
    }
}

/// `starlingd sm` in process on its own SQLite file, every service an
/// LSB script over a flag file; its sm-api's URL.
async fn start_sm(dir: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("flag.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncase \"$1\" in\nstart) touch \"$SM_FLAG\" ;;\nstop) rm -f \"$SM_FLAG\" ;;\nstatus) [ -e \"$SM_FLAG\" ] && exit 0; exit 3 ;;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let url = format!("sqlite://{}", dir.join("sm.db").display());
    let db = starling_sm_api::open(&url).await.unwrap();
    let (s, d) = (script.display().to_string(), dir.to_path_buf());
    db.write(move |c| {
        for svc in ["management-ip", "oam-ip", "starling-api"] {
            starling_sm_store::set_plugin(c, svc, "exec", &s)?;
            starling_sm_store::set_instance(
                c,
                svc,
                &[("flag".into(), d.join(svc).display().to_string())],
            )?;
        }
        Ok::<_, starling_common::Error>(())
    })
    .await
    .unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cfg = starling_sm_api::Config {
        node: "controller-0".into(),
        database_url: url,
        run_dir: dir.join("sm-run"),
        listen,
        tick: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(5),
        key_file: dir.join("sm.key"),
        bmc_password_file: dir.join("bmc-password"),
        heartbeat_key_file: dir.join("heartbeat-key"),
        witness_port: 2106,
        alarms: None,
        auth: None,
    };
    tokio::spawn(starling_sm_api::run(cfg, std::future::pending()));
    format!("http://{listen}")
}

fn client(ca: Option<&std::path::Path>) -> reqwest::blocking::Client {
    let mut b = reqwest::blocking::Client::builder();
    if let Some(ca) = ca {
        let certs = reqwest::Certificate::from_pem_bundle(&std::fs::read(ca).unwrap()).unwrap();
        b = b.tls_certs_only(certs);
    }
    b.build().unwrap()
}

fn login(identity: &str, user: &str, pw: &str, ca: Option<&std::path::Path>) -> Option<String> {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": pw}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}});
    let resp = client(ca)
        .post(format!("{identity}/v3/auth/tokens"))
        .json(&body)
        .send()
        .unwrap();
    resp.headers()
        .get("x-subject-token")
        .map(|v| v.to_str().unwrap().to_string())
}

/// The fm binary with nothing of the caller's OS_* environment.
fn fm_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fm"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") || k == "FM_URL" {
            c.env_remove(k);
        }
    }
    c.env_remove("CLI_CONFIRMATIONS");
    c
}

fn output(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

impl Server {
    fn raise(&self, aid: &str, eid: &str, sev: &str) -> String {
        let url = format!("{}/v1/alarms", self.url);
        let body = json!({"alarm_id": aid, "alarm_state": "set", "entity_instance_id": eid,
            "severity": sev, "alarm_type": "equipment", "probable_cause": "unknown",
            "reason_text": format!("{aid} on {eid}")});
        let resp = client(self.ca.as_deref())
            .post(&url)
            .header("x-auth-token", &self.token)
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success());
        let v: Value = resp.json().unwrap();
        v["uuid"].as_str().unwrap().to_string()
    }

    /// fm with FM_URL and a token, as StarlingX's token mode.
    fn fm(&self, args: &[&str]) -> (i32, String, String) {
        output(
            fm_command()
                .args(args)
                .env("FM_URL", &self.url)
                .env("OS_AUTH_TOKEN", &self.token),
        )
    }

    /// fm logging in with the OS_* variables of an openrc.
    fn fm_openrc(&self, user: &str, pw: &str, args: &[&str]) -> (i32, String, String) {
        output(
            fm_command()
                .args(args)
                .env("OS_AUTH_URL", format!("{}/v3", self.identity))
                .env("OS_USERNAME", user)
                .env("OS_PASSWORD", pw)
                .env("OS_PROJECT_NAME", "admin")
                .env("OS_USER_DOMAIN_NAME", "Default")
                .env("OS_PROJECT_DOMAIN_NAME", "Default")
                .env("OS_REGION_NAME", "RegionOne")
                .env("OS_INTERFACE", "internal"),
        )
    }

    fn fm_ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.fm(args);
        assert_eq!(code, 0, "fm {args:?}: {err}");
        out
    }

    fn fm_json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        serde_json::from_str(&self.fm_ok(&a)).unwrap()
    }
}

#[test]
fn alarm_list_has_starlingx_columns_in_every_format() {
    let s = server(Paging::default());
    let u = s.raise("100.101", "host=controller-0", "major");
    s.raise("100.114", "host=controller-0.ntp=1.2.3.4", "minor");
    let table = s.fm_ok(&[
        "alarm-list",
        "--uuid",
        "--mgmt_affecting",
        "--degrade_affecting",
    ]);
    let header = table.lines().nth(1).unwrap();
    for col in [
        "UUID",
        "Alarm ID",
        "Reason Text",
        "Entity ID",
        "Severity",
        "Management Affecting",
        "Degrade Affecting",
        "Time Stamp",
    ] {
        assert!(header.contains(col), "{col} missing in {header}");
    }
    assert!(table.contains(&u));
    let j = s.fm_json(&["alarm-list", "-q", "alarm_id=100.114"]);
    assert_eq!(j.as_array().unwrap().len(), 1);
    assert_eq!(j[0]["Entity ID"], "host=controller-0.ntp=1.2.3.4");
    let y = s.fm_ok(&["alarm-list", "--format", "yaml"]);
    assert!(y.contains("Alarm ID:"), "{y}");
    let show = s.fm_json(&["alarm-show", &u]);
    assert_eq!(show["alarm_state"], "set");
    assert_eq!(show["mgmt_affecting"], "True");
    // JSON and YAML keep types: counts are numbers, flags booleans.
    assert!(show["service_affecting"].is_boolean(), "{show}");
    let sum = s.fm_json(&["alarm-summary"]);
    assert_eq!(sum[0]["Major Alarms"], 1);
    assert_eq!(sum[0]["Minor Alarms"], 1);
    let y = s.fm_ok(&["alarm-summary", "-f", "yaml"]);
    assert!(y.contains("Major Alarms: 1\n"), "{y}");
    // cliff's -f/--format and -c/--column, value and csv.
    let v = s.fm_ok(&[
        "alarm-list",
        "-q",
        "alarm_id=100.114",
        "-f",
        "value",
        "-c",
        "Severity",
        "-c",
        "Entity ID",
    ]);
    assert_eq!(v, "host=controller-0.ntp=1.2.3.4 minor\n");
    let csv = s.fm_ok(&["alarm-summary", "-f", "csv"]);
    assert_eq!(
        csv,
        "\"Critical Alarms\",\"Major Alarms\",\"Minor Alarms\",\"Warnings\"\n0,1,1,0\n"
    );
    let one = s.fm_ok(&["alarm-show", &u, "-f", "value", "-c", "alarm_id"]);
    assert_eq!(one, "100.101\n");
    let (code, _, err) = s.fm(&["alarm-list", "-c", "Nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("No recognized column names in [\"Nope\"]"),
        "{err}"
    );
    // An 80-column terminal: every line fits, and an entity id breaks at
    // its separators, never inside a name.
    s.raise(
        "100.104",
        "host=controller-0.filesystem=/var/lib/docker-distribution",
        "major",
    );
    let (code, table, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("FM_URL", &s.url)
            .env("OS_AUTH_TOKEN", &s.token)
            .env("COLUMNS", "80"),
    );
    assert_eq!(code, 0, "{err}");
    for line in table.lines() {
        assert!(line.chars().count() <= 80, "{line:?}\n{table}");
    }
    assert!(
        !table.contains("controller-\n") && !table.contains("contro "),
        "{table}"
    );
    assert!(table.contains(" controller-0."), "{table}");
}

#[test]
fn alarm_list_follows_pages_without_truncating() {
    let s = server(Paging {
        default_limit: 3,
        max_limit: 3,
    });
    for i in 0..8 {
        s.raise("100.101", &format!("host=h{i}"), "major");
    }
    assert_eq!(s.fm_json(&["alarm-list"]).as_array().unwrap().len(), 8);
    assert_eq!(
        s.fm_json(&["event-list", "--nopaging"])
            .as_array()
            .unwrap()
            .len(),
        8
    );
    assert_eq!(
        s.fm_json(&["event-list", "-l", "2"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn suppress_unsuppress_and_errors() {
    let s = server(Paging::default());
    s.raise("100.101", "host=a", "major");
    let out = s.fm_ok(&["event-suppress", "--alarm_id", "100.101"]);
    assert!(out.contains("Alarm ID: 100.101 suppressed."), "{out}");
    assert!(s.fm_json(&["alarm-list"]).as_array().unwrap().is_empty());
    let all = s.fm_json(&["alarm-list", "--include_suppress"]);
    assert_eq!(all[0]["Alarm ID"], "S(100.101)");
    let listed = s.fm_json(&["event-suppress-list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        s.fm_json(&["event-suppress-list", "--include-unsuppressed"])
            .as_array()
            .unwrap()
            .len()
            > 10
    );

    // Unknown ids: an error and nothing changed.
    let (code, _, err) = s.fm(&["event-unsuppress", "--alarm_id", "100.101,999.999"]);
    assert_eq!(code, 1);
    assert!(err.contains("999.999") && err.lines().count() == 1, "{err}");
    assert_eq!(
        s.fm_json(&["event-suppress-list"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    s.fm_ok(&["event-unsuppress-all"]);
    assert!(
        s.fm_json(&["event-suppress-list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.fm_json(&["alarm-list"]).as_array().unwrap().len(), 1);

    let ev = s.fm_json(&["event-list", "--alarms", "--uuid"]);
    let uuid = ev[0]["UUID"].as_str().unwrap().to_string();
    assert_eq!(s.fm_json(&["event-show", &uuid])["state"], "set");
}

#[test]
fn delete_and_bad_input_give_one_line_and_nonzero_exit() {
    let s = server(Paging::default());
    let u = s.raise("100.101", "host=a", "major");
    assert!(s.fm_ok(&["alarm-delete", &u, "--yes"]).contains("deleted"));
    let ev = s.fm_json(&["event-list"]);
    assert_eq!(ev[0]["State"], "clear");

    for (args, expect) in [
        (vec!["alarm-show", &u], "Alarm not found"),
        (vec!["alarm-delete", &u], "could not be deleted"),
        (vec!["alarm-show", "xyz"], "not a uuid"),
        (
            vec!["event-list", "-q", "start=yesterday"],
            "Invalid date 'yesterday' specified",
        ),
        (
            vec!["alarm-list", "-q", "colour=red"],
            "Unknown filter field",
        ),
        (vec!["alarm-list", "-q", "severity!=major"], "only eq"),
    ] {
        let (code, out, err) = s.fm(&args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }

    let (code, _, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("FM_URL", "http://127.0.0.1:9")
            .env("OS_AUTH_TOKEN", "x"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot reach the FM API") && err.lines().count() == 1,
        "{err}"
    );
    let (code, _, err) = output(fm_command().args(["alarm-list"]));
    assert_eq!(code, 1);
    assert!(err.contains("FM_URL") && err.contains("OS_"), "{err}");
}

#[test]
fn fm_logs_in_with_openrc_variables_and_finds_fm_in_the_catalog() {
    let s = server(Paging::default());
    let u = s.raise("100.101", "host=a", "major");
    // Login, catalog lookup (type faultmanagement, internal, RegionOne).
    let (code, out, err) = s.fm_openrc("admin", ADMIN_PW, &["alarm-list", "--uuid"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&u), "{out}");

    // StarlingX's global options: -k, --os-endpoint-type; --debug shows the
    // requests and their statuses, never a secret.
    let (code, out, err) = s.fm_openrc(
        "admin",
        ADMIN_PW,
        &[
            "-k",
            "--os-endpoint-type",
            "internalURL",
            "--debug",
            "alarm-list",
            "--uuid",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&u), "{out}");
    assert!(
        err.contains("/v3/auth/tokens") && err.contains("/v1/alarms"),
        "{err}"
    );
    assert!(err.contains("-> 201") && err.contains("-> 200"), "{err}");
    assert!(!err.contains(ADMIN_PW), "the password reached stderr");

    // A wrong password: one line, non-zero, not saying which part was wrong.
    let (code, _, err) = s.fm_openrc("admin", "Wrong!pass1", &["alarm-list"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("refused the login"), "{err}");

    // No token at all: the server's 401, with a hint.
    let (code, _, err) = output(fm_command().args(["alarm-list"]).env("FM_URL", &s.url));
    assert_eq!(code, 1);
    assert!(err.contains("requires authentication"), "{err}");
    assert!(err.contains("openrc"), "{err}");

    // A revoked token stops working.
    let t = login(&s.identity, "admin", ADMIN_PW, None).unwrap();
    let resp = reqwest::blocking::Client::new()
        .delete(format!("{}/v3/auth/tokens", s.identity))
        .header("x-auth-token", &s.token)
        .header("x-subject-token", &t)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (code, _, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("FM_URL", &s.url)
            .env("OS_AUTH_TOKEN", &t),
    );
    assert_eq!(code, 1, "revoked token accepted");
    assert!(err.contains("requires authentication"), "{err}");

    // A region the catalog does not have.
    let (code, _, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("OS_AUTH_URL", &s.identity)
            .env("OS_USERNAME", "admin")
            .env("OS_PASSWORD", ADMIN_PW)
            .env("OS_PROJECT_NAME", "admin")
            .env("OS_REGION_NAME", "Elsewhere"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("region Elsewhere"), "{err}");
}

fn starling(s: &Server, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_starling"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OS_") {
            c.env_remove(k);
        }
    }
    c.args(args)
        .env("OS_AUTH_URL", format!("{}/v3", s.identity))
        .env("OS_USERNAME", "admin")
        .env("OS_PASSWORD", ADMIN_PW)
        .env("OS_PROJECT_NAME", "admin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn starling_cli_manages_users_projects_and_roles() {
    let s = server(Paging::default());
    let ok = |args: &[&str], stdin: Option<&str>| {
        let (code, out, err) = starling(&s, args, stdin);
        assert_eq!(code, 0, "starling {args:?}: {err}");
        out
    };
    let tok: Value = serde_json::from_str(&ok(&["token", "issue", "-f", "json"], None)).unwrap();
    assert_eq!(tok["id"].as_str().unwrap().len(), 64);
    let cat: Value = serde_json::from_str(&ok(&["catalog", "list", "-f", "json"], None)).unwrap();
    assert_eq!(cat[0]["Type"], "faultmanagement");

    ok(
        &["project", "create", "demo", "--description", "Demo"],
        None,
    );
    let u: Value = serde_json::from_str(&ok(
        &[
            "user",
            "create",
            "viewer",
            "--password-prompt",
            "--project",
            "demo",
            "-f",
            "json",
        ],
        Some("V1ewer!pw\n"),
    ))
    .unwrap();
    assert_eq!(u["name"], "viewer");
    ok(
        &[
            "role",
            "add",
            "--user",
            "viewer",
            "--project",
            "demo",
            "reader",
        ],
        None,
    );
    let a: Value = serde_json::from_str(&ok(
        &[
            "role",
            "assignment",
            "list",
            "--user",
            "viewer",
            "--names",
            "-f",
            "json",
        ],
        None,
    ))
    .unwrap();
    let a = &a[0];
    let y = ok(
        &["role", "assignment", "list", "--names", "-f", "yaml"],
        None,
    );
    assert!(y.contains("Role: reader"), "{y}");
    assert_eq!(a["Role"], "reader");
    assert_eq!(a["Project"], "demo@Default");

    // The new user reads FM through its own login and catalog lookup, and may not write.
    let (code, _, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("OS_AUTH_URL", &s.identity)
            .env("OS_USERNAME", "viewer")
            .env("OS_PASSWORD", "V1ewer!pw")
            .env("OS_PROJECT_NAME", "demo"),
    );
    assert_eq!(code, 0, "{err}");
    let u = s.raise("100.101", "host=v", "major");
    let (code, _, err) = output(
        fm_command()
            .args(["alarm-delete", &u, "--yes"])
            .env("OS_AUTH_URL", &s.identity)
            .env("OS_USERNAME", "viewer")
            .env("OS_PASSWORD", "V1ewer!pw")
            .env("OS_PROJECT_NAME", "demo"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("Policy doesn't allow fm_api:alarm:delete"),
        "{err}"
    );

    // Errors: one line, non-zero.
    let (code, _, err) = starling(&s, &["user", "show", "nobody"], None);
    assert_eq!(code, 1);
    assert!(err.contains("no user with name or id 'nobody'"), "{err}");
    let (code, _, err) = starling(&s, &["user", "create", "weak", "--password", "abc"], None);
    assert_eq!(code, 1);
    assert!(err.contains("at least 7 characters"), "{err}");
    let (code, _, err) = starling(&s, &["project", "delete", "admin"], None);
    assert_eq!(code, 1);
    assert!(err.contains("required by the platform"), "{err}");

    ok(
        &[
            "role",
            "remove",
            "--user",
            "viewer",
            "--project",
            "demo",
            "reader",
        ],
        None,
    );
    ok(&["user", "delete", "viewer"], None);
    let users: Value = serde_json::from_str(&ok(&["user", "list", "-f", "json"], None)).unwrap();
    let mut names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["admin", "sysinv"], "viewer is gone");
}

#[test]
fn fm_verifies_https_against_os_cacert_or_takes_insecure() {
    let s = server_with(Paging::default(), true);
    let ca = s.ca.clone().unwrap();
    let u = s.raise("100.101", "host=tls", "major");
    // Login and catalog over HTTPS, verified against OS_CACERT.
    let (code, out, err) = output(
        fm_command()
            .args(["alarm-list", "--uuid"])
            .env("OS_AUTH_URL", format!("{}/v3", s.identity))
            .env("OS_USERNAME", "admin")
            .env("OS_PASSWORD", ADMIN_PW)
            .env("OS_PROJECT_NAME", "admin")
            .env("OS_CACERT", &ca),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&u));
    // Without the CA the certificate is not trusted: one line, non-zero.
    let (code, _, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("FM_URL", &s.url)
            .env("OS_AUTH_TOKEN", &s.token),
    );
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach the FM API"), "{err}");
    assert!(err.contains("certificate"), "names the TLS problem: {err}");
    // --insecure skips verification.
    let (code, out, err) = output(
        fm_command()
            .args(["alarm-list", "--uuid", "--insecure"])
            .env("FM_URL", &s.url)
            .env("OS_AUTH_TOKEN", &s.token),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&u));
    // A CA file that is not a certificate is a clear error.
    let (code, _, err) = output(
        fm_command()
            .args(["alarm-list"])
            .env("FM_URL", &s.url)
            .env("OS_AUTH_TOKEN", &s.token)
            .env("OS_CACERT", "/nonexistent/ca.pem"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("cannot read the CA certificate"), "{err}");
}

/// Runs `c` with its standard output a pipe whose reader is gone before
/// anything is written (as `fm alarm-list | head -0`); returns the status and
/// standard error.
fn with_closed_stdout(c: &mut Command) -> (i32, String) {
    use std::process::Stdio;
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A reader that went away ends the CLIs quietly with status 0, as a Unix
/// filter does (`system host-list | head -1`); before, they panicked (101).
#[test]
fn a_closed_pipe_ends_the_clis_quietly() {
    let s = server(Paging::default());
    s.raise("100.101", "host=controller-0", "major");
    for args in [
        &["alarm-list"][..],
        &["alarm-list", "--format", "json"],
        &["event-list"],
    ] {
        let (code, err) = with_closed_stdout(
            fm_command()
                .args(args)
                .env("FM_URL", &s.url)
                .env("OS_AUTH_TOKEN", &s.token),
        );
        assert_eq!((code, err.as_str()), (0, ""), "fm {args:?}");
    }
    let (code, err) = with_closed_stdout(
        system::system_command()
            .args(["host-list"])
            .env("SYSTEM_URL", format!("{}/v1", s.inventory))
            .env("OS_AUTH_TOKEN", &s.token),
    );
    assert_eq!((code, err.as_str()), (0, ""), "system host-list");
    // A real error is still one line and status 1.
    let (code, err) = with_closed_stdout(
        fm_command()
            .args(["alarm-show", "no-such-alarm"])
            .env("FM_URL", &s.url)
            .env("OS_AUTH_TOKEN", &s.token),
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Completion scripts, and each command's own options before the shared
/// connection options in its help.
#[test]
fn completion_scripts_and_help_order() {
    for (bin, shell, word) in [
        ("fm", "bash", "alarm-list"),
        ("system", "zsh", "host-list"),
        ("starling", "fish", "token"),
    ] {
        let exe = std::path::Path::new(env!("CARGO_BIN_EXE_fm")).with_file_name(bin);
        let (code, out, err) = output(Command::new(&exe).args(["completion", shell]));
        assert_eq!(code, 0, "{bin}: {err}");
        assert!(out.contains(word), "{bin} {shell}: {out}");
    }
    let (code, out, _) = output(fm_command().args(["alarm-list", "--help"]));
    assert_eq!(code, 0);
    let own = out.find("--uuid").unwrap();
    let shared = out.find("Connection options").unwrap();
    assert!(
        own < shared && shared < out.find("--os-auth-url").unwrap(),
        "{out}"
    );
}
