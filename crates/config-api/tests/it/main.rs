//! Configuration's routes on the platform API beside the real inventory
//! (its hosts, its agents' credentials, host-show's marks): DNS, NTP and
//! OAM as sysinv answers them, bad input refused with nothing written,
//! each host's document and its agent's report, 250.001 raised and
//! cleared through the alarm sink, and the long poll woken by a change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use starling_common::alarm::{AlarmEffect, AlarmSink, SinkFuture};
use starling_common::{Clock, SystemClock};
use starling_config::Initial;
use starling_config::OamFields;
use starling_config_api::ConfigState;
use starling_config_store::ConfigStore;
use starling_http::OpenAccess;
use starling_inventory::ops::{self as inv_ops, SystemSpec};
use starling_inventory::repo::InventoryRepo;
use starling_inventory::validate::NewHost;
use starling_inventory::{SystemMode, SystemType};
use starling_inventory_api::InventoryState;
use starling_inventory_store::InventoryStore;
use starling_testkit::{self as testkit, TempDir, faultstring};

/// FM as a recorder of the effects handed to it.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl AlarmSink for Recorder {
    fn send(&self, effect: AlarmEffect) -> SinkFuture<'_> {
        let line = match &effect {
            AlarmEffect::Set(a) => format!(
                "set {} {} {}",
                a.def.id, a.entity_instance_id, a.reason_text
            ),
            AlarmEffect::Clear {
                alarm_id,
                entity_instance_id,
            } => format!("clear {alarm_id} {entity_instance_id}"),
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push(line);
        Box::pin(std::future::ready(Ok(())))
    }
}

struct Lab {
    _dir: TempDir,
    db: starling_db::Db,
    app: axum::Router,
    fm: Arc<Recorder>,
    /// controller-0's uuid and its agent's credential.
    c0: (String, String),
    /// worker-0's uuid and its agent's credential.
    w0: (String, String),
}

async fn lab() -> Lab {
    let dir = TempDir::new("starling_configapi");
    let db = testkit::sqlite(
        &dir,
        "cfg.db",
        &[
            starling_inventory_store::SCHEMA,
            starling_config_store::SCHEMA,
        ],
    )
    .await;
    let spec = SystemSpec {
        name: "edge-1".into(),
        system_type: SystemType::Standard,
        system_mode: SystemMode::Duplex,
        software_version: "1.0".into(),
        region_name: "RegionOne".into(),
    };
    db.write(move |c| {
        let mut r = InventoryStore::new(c);
        inv_ops::ensure_system(&mut r, &spec, SystemClock.now())?;
        inv_ops::add_host(
            &mut r,
            &NewHost {
                hostname: Some("worker-0".into()),
                personality: Some("worker".into()),
                mgmt_mac: Some("08:00:27:00:00:02".into()),
                ..NewHost::default()
            },
            SystemClock.now(),
        )
    })
    .await
    .unwrap();
    let inv = InventoryState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        fm: None,
        paging: Default::default(),
        commands: Default::default(),
        reports: Default::default(),
        maintenance: Default::default(),
        configuring: Default::default(),
        port_links: Default::default(),
        secrets: None,
        sm: None,
    };
    let c0 = starling_inventory_api::bootstrap_controller(
        &inv,
        "controller-0",
        "08:00:27:00:00:01",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let c0_cred = starling_inventory_api::agents::issue_local_credential(
        &inv,
        "controller-0",
        "08:00:27:00:00:01",
    )
    .await
    .unwrap();
    let w0_cred = starling_inventory_api::agents::issue_local_credential(
        &inv,
        "worker-0",
        "08:00:27:00:00:02",
    )
    .await
    .unwrap();
    let w0 = db
        .read(|c| {
            InventoryStore::new(c).host(&starling_inventory::repo::HostRef::Name("worker-0".into()))
        })
        .await
        .unwrap()
        .unwrap();
    let init = Initial {
        nameservers: "8.8.8.8".into(),
        ntpservers: String::new(),
        oam: OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_gateway_ip: Some("10.10.10.1".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            oam_c0_ip: Some("10.10.10.3".into()),
            oam_c1_ip: Some("10.10.10.4".into()),
            ..OamFields::default()
        },
        networks: Default::default(),
        simplex: false,
    };
    db.write(move |c| {
        starling_config::ops::ensure_records(&mut ConfigStore::new(c), &init, SystemClock.now())
    })
    .await
    .unwrap();
    let fm = Arc::new(Recorder::default());
    let hosts: Arc<dyn starling_service::Hosts> =
        Arc::new(starling_inventory_api::agents::InventoryHosts { st: inv.clone() });
    let cfg = ConfigState::new(db.clone(), Arc::new(SystemClock), hosts, Some(fm.clone()));
    let app = starling_config_api::router(cfg, Arc::new(OpenAccess))
        .merge(starling_inventory_api::router(inv, Arc::new(OpenAccess)));
    Lab {
        _dir: dir,
        db,
        app,
        fm,
        c0: (c0.uuid, c0_cred),
        w0: (w0.uuid, w0_cred),
    }
}

impl Lab {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = testkit::request(method, uri).header("host", "ctl.test:6385");
        if let Some(t) = token {
            req = req.header("x-auth-token", t);
        }
        let body = body.map(|b| b.to_string());
        let a = testkit::send(&self.app, req, body.as_deref()).await;
        (a.status, a.body)
    }

    async fn get(&self, uri: &str) -> Value {
        let (s, v) = self.call("GET", uri, None, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {v}");
        v
    }

    async fn patch(&self, uri: &str, path: &str, value: &str) -> (StatusCode, Value) {
        self.call(
            "PATCH",
            uri,
            None,
            Some(json!([{"op": "replace", "path": path, "value": value}, {"op": "replace", "path": "/action", "value": "apply"}])),
        )
        .await
    }

    async fn host(&self, name: &str) -> Value {
        self.get(&format!("/v1/ihosts/{name}")).await
    }

    /// ntp-modify.
    async fn ntp(&self, servers: &str) {
        let nu = self.get("/v1/intp").await["intps"][0]["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, v) = self
            .patch(&format!("/v1/intp/{nu}"), "/ntpservers", servers)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    /// controller-0's `verb` (lock, unlock).
    async fn action(&self, verb: &str) -> Value {
        let (s, v) = self
            .call(
                "PATCH",
                "/v1/ihosts/controller-0",
                None,
                Some(json!([{"op": "replace", "path": "/action", "value": verb}])),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{verb}: {v}");
        v
    }

    fn alarms(&self) -> Vec<String> {
        std::mem::take(&mut *self.fm.0.lock().unwrap())
    }

    /// The agent of `who` asks for its document.
    async fn document(
        &self,
        who: &(String, String),
        applied: &str,
        wait: u64,
    ) -> (StatusCode, Value) {
        self.call(
            "GET",
            &format!("/v1/agent/{}/config?applied={applied}&wait={wait}", who.0),
            Some(&who.1),
            None,
        )
        .await
    }

    /// The agent of `who` applies its document (all of it when it may).
    async fn apply(&self, who: &(String, String)) -> Value {
        let (s, doc) = self.document(who, "install", 0).await;
        assert_eq!(s, StatusCode::OK, "{doc}");
        let mut uuid = doc["config_uuid"].as_str().unwrap().to_string();
        if !doc["full"].as_bool().unwrap() {
            uuid = starling_agent_like_clear(&uuid);
        }
        let (s, v) = self
            .call(
                "PUT",
                &format!("/v1/agent/{}/config", who.0),
                Some(&who.1),
                Some(json!({"config_uuid": uuid, "steps": [{"step": "dns", "ok": true}]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

/// The reboot flag cleared, as an agent reports a document applied in part.
fn starling_agent_like_clear(u: &str) -> String {
    let d = u[..1]
        .parse::<u8>()
        .map(|d| d & 7)
        .unwrap_or_else(|_| u8::from_str_radix(&u[..1], 16).unwrap() & 7);
    format!("{d:x}{}", &u[1..])
}

#[tokio::test]
async fn dns_ntp_and_oam_are_sysinv_records() {
    let l = lab().await;
    let list = l.get("/v1/idns").await;
    let d = &list["idnss"][0];
    assert_eq!(d["nameservers"], "8.8.8.8");
    let uuid = d["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        d["links"][0]["href"],
        format!("http://ctl.test:6385/v1/idnss/{uuid}")
    );
    let system = l.get("/v1/isystems").await;
    assert_eq!(d["isystem_uuid"], system["isystems"][0]["uuid"]);
    assert_eq!(l.get(&format!("/v1/idns/{uuid}")).await, *d);
    let (s, v) = l
        .patch(
            &format!("/v1/idns/{uuid}"),
            "/nameservers",
            "1.1.1.1,1.0.0.1",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["nameservers"], "1.1.1.1,1.0.0.1");
    assert!(v["updated_at"].is_string());
    // NTP and OAM.
    let n = l.get("/v1/intp").await["intps"][0].clone();
    assert_eq!(n["ntpservers"], "");
    let nu = n["uuid"].as_str().unwrap().to_string();
    let (s, v) = l
        .patch(&format!("/v1/intp/{nu}"), "/ntpservers", "0.pool.ntp.org")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let o = l.get("/v1/iextoam").await["iextoams"][0].clone();
    assert_eq!(o["oam_subnet"], "10.10.10.0/24");
    assert_eq!(o["oam_c0_ip"], "10.10.10.3");
    assert_eq!(o["region_config"], false);
    let ou = o["uuid"].as_str().unwrap().to_string();
    let (s, v) = l
        .patch(
            &format!("/v1/iextoam/{ou}"),
            "/oam_floating_ip",
            "10.10.10.20",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["oam_floating_ip"], "10.10.10.20");
    assert_eq!(v["oam_gateway_ip"], "10.10.10.1");
}

#[tokio::test]
async fn bad_input_is_refused_with_nothing_written() {
    let l = lab().await;
    let d = l.get("/v1/idns").await["idnss"][0].clone();
    let uuid = d["uuid"].as_str().unwrap().to_string();
    let target = l.host("worker-0").await["config_target"].clone();
    for (path, value, says) in [
        (
            "/nameservers",
            "1.1.1.1,resolver",
            "Invalid DNS nameserver target address resolver",
        ),
        (
            "/nameservers",
            "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4",
            "Maximum DNS nameservers supported: 3",
        ),
        ("/nameservers", "fd00::53", "IP version mismatch"),
        ("/uuid", "x", "can not be modified"),
        ("/colour", "x", "Unknown attribute"),
    ] {
        let (s, v) = l.patch(&format!("/v1/idns/{uuid}"), path, value).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}={value}: {v}");
        assert!(
            faultstring(&v).contains(says),
            "{path}={value}: {}",
            faultstring(&v)
        );
    }
    let (s, v) = l
        .patch(
            "/v1/idns/00000000-0000-4000-8000-000000000000",
            "/nameservers",
            "1.1.1.1",
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(l.get("/v1/idns").await["idnss"][0], d, "nothing written");
    assert_eq!(
        l.host("worker-0").await["config_target"],
        target,
        "no target minted"
    );
    let o = l.get("/v1/iextoam").await["iextoams"][0].clone();
    let ou = o["uuid"].as_str().unwrap();
    let (s, v) = l
        .patch(&format!("/v1/iextoam/{ou}"), "/oam_c1_ip", "10.10.10.3")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(faultstring(&v).contains("must be unique"), "{v}");
    let (s, v) = l
        .patch(&format!("/v1/iextoam/{ou}"), "/oam_subnet", "10.10.10.0/30")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(faultstring(&v).contains("valid OAM Subnet"), "{v}");
    assert_eq!(l.get("/v1/iextoam").await["iextoams"][0], o);
    assert!(l.alarms().is_empty());
}

#[tokio::test]
async fn hosts_apply_their_documents_and_250_001_follows() {
    let l = lab().await;
    // First exchanges: each agent applies what it is given, no alarm.
    let state = l.apply(&l.w0).await;
    assert_eq!(state["config_status"], Value::Null, "{state}");
    l.apply(&l.c0).await;
    assert!(l.alarms().is_empty());
    let w = l.host("worker-0").await;
    assert_eq!(w["config_applied"], w["config_target"]);
    assert_eq!(w["config_status"], Value::Null);
    // Nothing new: 204 at once without waiting.
    let applied = w["config_applied"].as_str().unwrap().to_string();
    let (s, _) = l.document(&l.w0, &applied, 0).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A DNS change: every host out of date, 250.001 raised, host-show says so.
    let uuid = l.get("/v1/idns").await["idnss"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = l
        .patch(&format!("/v1/idns/{uuid}"), "/nameservers", "9.9.9.9")
        .await;
    assert_eq!(s, StatusCode::OK);
    let raised = l.alarms();
    assert_eq!(raised.len(), 2, "{raised:?}");
    assert!(raised.iter().any(|a| a.starts_with(
        "set 250.001 host=worker-0 worker-0 Configuration is out-of-date. (applied: "
    )));
    let w = l.host("worker-0").await;
    assert_eq!(w["config_status"], "Config out-of-date");
    assert_ne!(w["config_applied"], w["config_target"]);
    let (s, doc) = l.document(&l.w0, &applied, 0).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["nameservers"], json!(["9.9.9.9"]));
    assert_eq!(
        doc["ntpservers"],
        json!(["192.168.204.3", "192.168.204.4"]),
        "the cloud's NTP servers are the controllers'"
    );
    assert!(
        doc["hosts"]
            .as_array()
            .unwrap()
            .contains(&json!({"address": "10.10.10.2", "names": ["oamcontroller"]}))
    );
    l.apply(&l.w0).await;
    assert_eq!(l.alarms(), ["clear 250.001 host=worker-0"]);
    assert_eq!(l.host("worker-0").await["config_status"], Value::Null);
    // An agent speaks only for its own host.
    let (s, _) = l
        .document(&(l.c0.0.clone(), l.w0.1.clone()), "install", 0)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = l
        .call(
            "GET",
            &format!("/v1/agent/{}/config", l.w0.0),
            Some("not-a-credential"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A failed step: out of date, its reason in host-show and the alarm.
    let target = l.host("controller-0").await["config_target"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = l
        .call(
            "PUT",
            &format!("/v1/agent/{}/config", l.c0.0),
            Some(&l.c0.1),
            Some(json!({"config_uuid": target, "steps": [{"step": "hosts", "ok": false, "message": "/etc/hosts: read-only file system"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = l.host("controller-0").await;
    assert_eq!(
        c["config_failure"],
        "hosts: /etc/hosts: read-only file system"
    );
    assert_eq!(c["config_status"], "Config out-of-date");
    assert!(l.alarms()[0].ends_with("Apply failed: hosts: /etc/hosts: read-only file system"));
    let (s, v) = l
        .call(
            "PUT",
            &format!("/v1/agent/{}/config", l.c0.0),
            Some(&l.c0.1),
            Some(json!({"config_uuid": "later", "steps": []})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn ntp_waits_for_the_unlock_and_a_poll_wakes_on_a_change() {
    let l = lab().await;
    // An agent's first word may be what it applied before (here, nothing
    // yet): its host is tracked from then on.
    let (s, v) = l
        .call(
            "PUT",
            &format!("/v1/agent/{}/config", l.w0.0),
            Some(&l.w0.1),
            Some(json!({"config_uuid": "install", "steps": []})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["config_applied"], "install");
    l.apply(&l.w0).await;
    l.apply(&l.c0).await;
    let applied = l.host("controller-0").await["config_applied"]
        .as_str()
        .unwrap()
        .to_string();
    // A poll with nothing new waits; a change answers it.
    let app = l.app.clone();
    let (uuid, cred) = l.c0.clone();
    let a = applied.clone();
    let poll = tokio::spawn(async move {
        let req = testkit::request(
            "GET",
            &format!("/v1/agent/{uuid}/config?applied={a}&wait=20"),
        )
        .header("x-auth-token", cred);
        let start = std::time::Instant::now();
        let ans = testkit::send(&app, req, None).await;
        (ans.status, ans.body, start.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let nu = l.get("/v1/intp").await["intps"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = l
        .patch(&format!("/v1/intp/{nu}"), "/ntpservers", "10.0.0.1")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, doc, took) = poll.await.unwrap();
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert!(
        took < Duration::from_secs(10),
        "woken by the change, not the timeout: {took:?}"
    );
    // Reboot-required: the agent may apply the runtime part only.
    assert_eq!(doc["full"], false);
    assert_eq!(doc["ntpservers"], json!(["10.0.0.1"]));
    let target = doc["config_uuid"].as_str().unwrap();
    assert!(
        u8::from_str_radix(&target[..1], 16).unwrap() >= 8,
        "bit 127 set: {target}"
    );
    l.apply(&l.c0).await;
    let c = l.host("controller-0").await;
    assert_eq!(
        c["config_status"], "Config out-of-date",
        "until the lock and unlock"
    );
    assert!(
        l.alarms()
            .iter()
            .any(|a| a.starts_with("set 250.001 host=controller-0"))
    );
    // Its runtime part applied: nothing new for the agent until then.
    let (s, _) = l
        .document(&l.c0, c["config_applied"].as_str().unwrap(), 0)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // The worker is not concerned.
    assert_eq!(l.host("worker-0").await["config_status"], Value::Null);
}

#[tokio::test]
async fn an_unlock_applies_the_configuration_it_is_owed_first() {
    let l = lab().await;
    l.apply(&l.c0).await;
    // controller-0 inventoried and online, as its agent's report makes it.
    l.db.write(|c| {
        let mut r = InventoryStore::new(c);
        let mut h = r
            .host(&starling_inventory::repo::HostRef::Name(
                "controller-0".into(),
            ))?
            .expect("controller-0");
        h.availability = starling_inventory::Availability::Online;
        h.inv_state = "inventoried".into();
        r.update_host(&h)
    })
    .await
    .unwrap();
    l.ntp("10.0.0.1").await;
    // The agent applies what it may (the runtime part) and waits.
    l.apply(&l.c0).await;
    let applied = l.host("controller-0").await["config_applied"]
        .as_str()
        .unwrap()
        .to_string();

    // An unlock whose apply fails is undone, the reason kept.
    let h = l.action("unlock").await;
    assert_eq!(
        (
            &h["administrative"],
            &h["operational"],
            &h["availability"],
            &h["task"]
        ),
        (
            &json!("unlocked"),
            &json!("disabled"),
            &json!("intest"),
            &json!("Configuring")
        )
    );
    let (s, doc) = l.document(&l.c0, &applied, 0).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["full"], true, "the whole document, NTP included");
    assert_eq!(doc["ntpservers"], json!(["10.0.0.1"]));
    let (s, _) = l
        .call(
            "PUT",
            &format!("/v1/agent/{}/config", l.c0.0),
            Some(&l.c0.1),
            Some(json!({"config_uuid": doc["config_uuid"], "steps": [{"step": "ntp", "ok": false, "message": "/etc/chrony/chrony.conf: read-only file system"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let h = l.host("controller-0").await;
    assert_eq!(
        (&h["administrative"], &h["availability"], &h["task"]),
        (&json!("locked"), &json!("online"), &Value::Null),
        "{h}"
    );
    assert_eq!(
        h["config_failure"],
        "ntp: /etc/chrony/chrony.conf: read-only file system"
    );
    assert_eq!(h["config_status"], "Config out-of-date");
    // Locked again, the agent has nothing new to apply.
    let (s, _) = l.document(&l.c0, &applied, 0).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Unlocked again: the waiting agent is woken at once, applies it all,
    // and the host goes on to service with 250.001 cleared.
    let poll = {
        let app = l.app.clone();
        let (uuid, cred) = l.c0.clone();
        tokio::spawn(async move {
            let req = testkit::request(
                "GET",
                &format!("/v1/agent/{uuid}/config?applied={applied}&wait=20"),
            )
            .header("x-auth-token", cred);
            let start = std::time::Instant::now();
            let ans = testkit::send(&app, req, None).await;
            (ans.status, ans.body, start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(l.action("unlock").await["task"], "Configuring");
    let (s, doc, took) = poll.await.unwrap();
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert!(
        took < Duration::from_secs(10),
        "woken by the unlock: {took:?}"
    );
    assert_eq!(doc["full"], true);
    let (s, v) = l
        .call(
            "PUT",
            &format!("/v1/agent/{}/config", l.c0.0),
            Some(&l.c0.1),
            Some(
                json!({"config_uuid": doc["config_uuid"], "steps": [{"step": "ntp", "ok": true}]}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let h = l.host("controller-0").await;
    assert_eq!(
        (
            &h["operational"],
            &h["availability"],
            &h["config_status"],
            &h["config_failure"]
        ),
        (
            &json!("enabled"),
            &json!("available"),
            &Value::Null,
            &Value::Null
        ),
        "{h}"
    );
    assert!(
        l.alarms()
            .iter()
            .any(|a| a == "clear 250.001 host=controller-0")
    );
    // In service, what it applied whole stands: nothing new to apply.
    let (s, v) = l
        .document(&l.c0, doc["config_uuid"].as_str().unwrap(), 0)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
}

#[tokio::test]
async fn data_networks_as_sysinv_has_them() {
    let l = lab().await;
    let (s, d) = l
        .call(
            "POST",
            "/v1/datanetworks",
            None,
            Some(json!({"name": "physnet0", "network_type": "vlan", "mtu": 1500})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["id"], 1);
    assert_eq!(d["network_type"], "vlan");
    assert!(
        d.get("multicast_group").is_none(),
        "vxlan fields for vxlan only: {d}"
    );
    assert_eq!(l.get("/v1/datanetworks/physnet0").await, d);
    let uuid = d["uuid"].as_str().unwrap();
    assert_eq!(l.get(&format!("/v1/datanetworks/{uuid}")).await, d);
    assert_eq!(l.get("/v1/datanetworks").await["datanetworks"], json!([d]));
    // Bad input: 400 naming the problem, nothing written.
    for (body, says) in [
        (
            json!({"name": "physnet1", "network_type": "gre"}),
            "DataNetwork type gre is not supported",
        ),
        (
            json!({"name": "physnet1", "network_type": "flat", "mtu": 20000}),
            "MTU must be between 576 and 9216 bytes.",
        ),
        (
            json!({"name": "bad name", "network_type": "flat"}),
            "may only contain",
        ),
        (
            json!({"name": "vx", "network_type": "vxlan", "mode": "static"}),
            "are required for 'static' mode",
        ),
        (
            json!({"name": "physnet1", "network_type": "flat", "colour": "red"}),
            "colour",
        ),
    ] {
        let (s, v) = l
            .call("POST", "/v1/datanetworks", None, Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert!(
            faultstring(&v).contains(says),
            "{body}: {}",
            faultstring(&v)
        );
    }
    let (s, v) = l
        .call(
            "POST",
            "/v1/datanetworks",
            None,
            Some(json!({"name": "physnet0", "network_type": "flat"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(faultstring(&v).contains("DataNetwork of name physnet0 already exists."));
    assert_eq!(
        l.get("/v1/datanetworks").await["datanetworks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Modify and delete.
    let (s, v) = l
        .call(
            "PATCH",
            "/v1/datanetworks/physnet0",
            None,
            Some(json!([{"op": "replace", "path": "/mtu", "value": 9000}])),
        )
        .await;
    assert_eq!((s, &v["mtu"]), (StatusCode::OK, &json!(9000)), "{v}");
    let (s, v) = l
        .call(
            "PATCH",
            "/v1/datanetworks/physnet0",
            None,
            Some(json!([{"op": "replace", "path": "/network_type", "value": "flat"}])),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        faultstring(&v).contains("attributes 'network_type' may not be modified"),
        "{v}"
    );
    let (s, _) = l
        .call("DELETE", "/v1/datanetworks/physnet0", None, None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = l.call("GET", "/v1/datanetworks/physnet0", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(faultstring(&v).contains("DataNetwork physnet0 could not be found."));
}

#[tokio::test]
async fn address_pools_and_networks_as_sysinv_has_them() {
    let l = lab().await;
    let pools = l.get("/v1/addrpools").await["addrpools"].clone();
    let names: Vec<&str> = pools
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "oam",
            "management",
            "pxeboot",
            "cluster-host-subnet",
            "cluster-pod-subnet",
            "cluster-service-subnet",
            "multicast-subnet"
        ]
    );
    let mgmt = &pools[1];
    assert_eq!(mgmt["network"], "192.168.204.0");
    assert_eq!(mgmt["prefix"], 24);
    assert_eq!(mgmt["family"], 4);
    assert_eq!(mgmt["order"], "random");
    assert_eq!(
        mgmt["ranges"],
        json!([["192.168.204.2", "192.168.204.254"]])
    );
    assert_eq!(mgmt["floating_address"], "192.168.204.2");
    assert!(mgmt["floating_address_id"].is_i64());
    assert_eq!(mgmt["gateway_address"], Value::Null);
    // The OAM record is the oam network's pool.
    let oam = l.get("/v1/iextoam").await["iextoams"][0].clone();
    assert_eq!(oam["uuid"], pools[0]["uuid"]);
    assert_eq!(pools[0]["gateway_address"], "10.10.10.1");
    // Filtered by network type.
    let of = l.get("/v1/addrpools?network_type=mgmt").await;
    assert_eq!(of["addrpools"], json!([mgmt.clone()]));
    let nets = l.get("/v1/networks").await["networks"].clone();
    assert_eq!(nets[1]["type"], "mgmt");
    assert_eq!(nets[1]["pool_uuid"], mgmt["uuid"]);
    assert_eq!(nets[1]["dynamic"], true);
    assert_eq!(nets[1]["primary_pool_family"], "IPv4");
    let id = nets[1]["id"].as_i64().unwrap();
    assert_eq!(l.get(&format!("/v1/networks/{id}")).await, nets[1]);
    let nu = nets[1]["uuid"].as_str().unwrap();
    assert_eq!(l.get(&format!("/v1/networks/{nu}")).await, nets[1]);
    // worker-0's hosts file names it, on the management network.
    let (s, doc) = l.document(&l.w0, "install", 0).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    let entry = |name: &str| {
        doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["names"] == json!([name]))
            .map(|e| e["address"].as_str().unwrap().to_string())
    };
    assert_eq!(entry("controller").as_deref(), Some("192.168.204.2"));
    assert!(entry("worker-0").unwrap().starts_with("192.168.204."));
    assert_eq!(
        doc["ntpservers"],
        json!(["192.168.204.3", "192.168.204.4"]),
        "the other hosts keep time by the controllers"
    );

    // addrpool-add as cgtsclient sends it (the prefix as text).
    let add = json!({"name": "spare", "network": "10.60.0.0", "prefix": "24",
        "ranges": [["10.60.0.100", "10.60.0.199"], ["10.60.0.10", "10.60.0.19"]],
        "floating_address": "10.60.0.10", "gateway_address": "10.60.0.1"});
    let (s, p) = l.call("POST", "/v1/addrpools", None, Some(add)).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["ranges"][0], json!(["10.60.0.10", "10.60.0.19"]));
    let pu = p["uuid"].as_str().unwrap().to_string();
    assert_eq!(l.get(&format!("/v1/addrpools/{pu}")).await, p);
    // Bad input: the reason, nothing written.
    for (body, status, says) in [
        (
            json!({"name": "x", "network": "10.61.0.1", "prefix": 24}),
            StatusCode::BAD_REQUEST,
            "Host bits must be zero",
        ),
        (
            json!({"name": "x", "network": "10.61.0.0", "prefix": "twenty"}),
            StatusCode::BAD_REQUEST,
            "Invalid prefix",
        ),
        (
            json!({"name": "x", "network": "10.61.0.0", "prefix": 24, "ranges": [["10.61.0.5"]]}),
            StatusCode::BAD_REQUEST,
            "a [start, end] pair",
        ),
        (
            json!({"name": "x", "network": "10.61.0.0", "prefix": 24, "ranges": [["10.61.0.9", "10.61.0.5"]]}),
            StatusCode::CONFLICT,
            "must be less than end address",
        ),
        (
            json!({"name": "spare", "network": "10.61.0.0", "prefix": 24}),
            StatusCode::CONFLICT,
            "Address pool spare already exists",
        ),
        (
            json!({"name": "x", "network": "10.61.0.0", "prefix": 24, "floating_address": "10.60.0.10"}),
            StatusCode::BAD_REQUEST,
            "is not in subnet",
        ),
        (
            json!({"name": "x", "network": "10.61.0.0", "prefix": 24, "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
    ] {
        let (s, v) = l
            .call("POST", "/v1/addrpools", None, Some(body.clone()))
            .await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(
            faultstring(&v).contains(says),
            "{body}: {}",
            faultstring(&v)
        );
    }
    assert_eq!(
        l.get("/v1/addrpools").await["addrpools"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    // addrpool-modify: ranges as pairs, an address cleared with "none".
    let (s, v) = l
        .call(
            "PATCH",
            &format!("/v1/addrpools/{pu}"),
            None,
            Some(json!([
                {"op": "replace", "path": "/ranges", "value": [["10.60.0.10", "10.60.0.50"]]},
                {"op": "replace", "path": "/gateway_address", "value": "none"},
                {"op": "replace", "path": "/order", "value": "sequential"}
            ])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["gateway_address"], Value::Null);
    assert_eq!(v["gateway_address_id"], Value::Null);
    assert_eq!(v["order"], "sequential");
    for (patch, says) in [
        (
            json!([{"op": "replace", "path": "/family", "value": 6}]),
            "'/family' is a read-only attribute",
        ),
        (
            json!([{"op": "remove", "path": "/gateway_address"}]),
            "Attributes cannot be added or removed",
        ),
        (
            json!([{"op": "replace", "path": "/ranges", "value": "10.60.0.1-10.60.0.9"}]),
            "Invalid ranges",
        ),
    ] {
        let (s, v) = l
            .call(
                "PATCH",
                &format!("/v1/addrpools/{pu}"),
                None,
                Some(patch.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{patch}: {v}");
        assert!(
            faultstring(&v).contains(says),
            "{patch}: {}",
            faultstring(&v)
        );
    }
    // The management pool of an installed duplex system is read-only.
    let mu = mgmt["uuid"].as_str().unwrap();
    let (s, v) = l
        .call(
            "PATCH",
            &format!("/v1/addrpools/{mu}"),
            None,
            Some(json!([{"op": "replace", "path": "/gateway_address", "value": "192.168.204.1"}])),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        faultstring(&v),
        "Address pool is read-only and cannot be modified or removed"
    );
    // network-add over the spare pool (overlapping none), as cgtsclient
    // sends it; a second of its type is refused.
    let body = json!({"name": "storage", "type": "storage", "dynamic": "false", "pool_uuid": pu});
    let (s, n) = l
        .call("POST", "/v1/networks", None, Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::OK, "{n}");
    assert_eq!(n["type"], "storage");
    assert_eq!(n["dynamic"], false);
    let p = l.get(&format!("/v1/addrpools/{pu}")).await;
    assert!(
        p["controller0_address"].is_string(),
        "allocated for storage: {p}"
    );
    let (s, v) = l.call("POST", "/v1/networks", None, Some(body)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(faultstring(&v), "Network of type storage already exists.");
    let (s, v) = l
        .call("DELETE", &format!("/v1/addrpools/{pu}"), None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(faultstring(&v).contains("primary for the following network: storage"));
    let nu = n["uuid"].as_str().unwrap();
    let (s, v) = l
        .call("DELETE", &format!("/v1/networks/{nu}"), None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(faultstring(&v).contains("after initial configuration completion"));
    // A free pool goes.
    let (s, p2) = l
        .call(
            "POST",
            "/v1/addrpools",
            None,
            Some(json!({"name": "spare2", "network": "fd00:60::", "prefix": 64})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p2}");
    assert_eq!(p2["family"], 6);
    let u2 = p2["uuid"].as_str().unwrap();
    let (s, _) = l
        .call("DELETE", &format!("/v1/addrpools/{u2}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = l
        .call("GET", &format!("/v1/addrpools/{u2}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(faultstring(&v), format!("Address pool {u2} not found"));
}

#[tokio::test]
async fn interfaces_and_their_networks_as_sysinv_has_them() {
    let l = lab().await;
    let port = |name: &str, n: u8, vfs: u32| {
        json!({"name": name, "pciaddr": format!("0000:3b:00.{n}"), "pclass": "Ethernet controller",
               "pvendor": "Intel Corporation", "pdevice": "Ethernet Controller XXV710",
               "numa_node": 0, "driver": "i40e", "mac": format!("3c:fd:fe:00:00:0{n}"),
               "mtu": 1500, "speed": 25000, "sriov_totalvfs": vfs, "dpdksupport": true})
    };
    let report = json!({"inodes": [{"numa_node": 0}], "ports": [port("eno1", 1, 0), port("eno2", 2, 0), port("eno3", 3, 8)], "uptime": 5});
    let (s, out) = l
        .call(
            "PUT",
            "/v1/agent/worker-0/report",
            Some(&l.w0.1),
            Some(report),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    let w0 = l.host("worker-0").await;
    let id = w0["id"].as_i64().unwrap();

    // Each port has its ethernet interface, made by the system.
    let list = l.get("/v1/ihosts/worker-0/iinterfaces").await;
    let parsed: starling_config_types::InterfaceList =
        serde_json::from_value(list.clone()).unwrap();
    assert_eq!(parsed.iinterfaces.len(), 3);
    let eno1 = list["iinterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ifname"] == "eno1")
        .unwrap()
        .clone();
    assert_eq!(eno1["iftype"], "ethernet");
    assert_eq!(eno1["ifclass"], Value::Null);
    assert_eq!(eno1["imac"], "3c:fd:fe:00:00:01");
    assert_eq!(eno1["forihostid"], id);
    assert_eq!(eno1["uses"], json!([]));
    assert!(
        eno1.get("ports").is_none() && eno1.get("ipv4_mode").is_none(),
        "{eno1}"
    );
    let eno1_uuid = eno1["uuid"].as_str().unwrap().to_string();
    // By uuid and id too; and the interface's port as inventory shows it.
    assert_eq!(l.get(&format!("/v1/ihosts/{id}/iinterfaces")).await, list);
    let ports = l.get(&format!("/v1/iinterfaces/{eno1_uuid}/ports")).await;
    assert_eq!(ports["ports"].as_array().unwrap().len(), 1);
    assert_eq!(ports["ports"][0]["name"], "eno1");
    assert_eq!(ports["ports"][0]["dpdksupport"], true);
    assert_eq!(ports["ports"][0]["interface_uuid"], eno1_uuid.as_str());
    // Inventory's own port records name it too (configuration tells it).
    let listed = l.get("/v1/ihosts/worker-0/ports").await;
    let p1 = listed["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "eno1")
        .unwrap()
        .clone();
    assert_eq!(p1["interface_uuid"], eno1_uuid.as_str());
    let pu = p1["uuid"].as_str().unwrap();
    assert_eq!(
        l.get(&format!("/v1/ethernet_ports/{pu}")).await["interface_uuid"],
        eno1_uuid.as_str()
    );

    // host-if-add as cgtsclient sends it: numbers as text.
    let w0u = l.w0.0.clone();
    let add = |body: Value| {
        let l = &l;
        async move { l.call("POST", "/v1/iinterfaces", None, Some(body)).await }
    };
    let (s, v) = add(
        json!({"ihost_uuid": w0u, "ifname": "vlan100", "iftype": "vlan",
                            "ifclass": "platform", "vlan_id": "100", "imtu": "1500",
                            "uses": ["eno1"], "ports": null}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["vlan_id"].as_i64(), &v["uses"]),
        (Some(100), &json!(["eno1"]))
    );
    assert_eq!(v["imac"], "3c:fd:fe:00:00:01");
    assert_eq!(
        v["ipv4_mode"],
        Value::Null,
        "shown for a platform interface: {v}"
    );
    assert!(
        v["ports"][0]["href"].as_str().unwrap().ends_with("/ports"),
        "{v}"
    );
    let vlan = v["uuid"].as_str().unwrap().to_string();
    assert_eq!(
        l.get(&format!("/v1/iinterfaces/{eno1_uuid}")).await["used_by"],
        json!(["vlan100"])
    );
    let count = |l: &Lab| {
        let db = l.db.clone();
        let u = l.w0.0.clone();
        async move {
            db.read(move |c| {
                starling_config::ConfigRepo::interfaces_of(&mut ConfigStore::new(c), &u)
            })
            .await
            .unwrap()
            .len()
        }
    };
    // Bad input: named, nothing written.
    for (body, want) in [
        (
            json!({"ihost_uuid": w0u, "ifname": "vlan9", "iftype": "vlan", "vlan_id": "5000", "uses": ["eno1"]}),
            "VLAN id must be between 1 and 4094.",
        ),
        (
            json!({"ihost_uuid": w0u, "ifname": "vlan9", "iftype": "vlan", "vlan_id": "ten", "uses": ["eno1"]}),
            "Invalid value for vlan_id",
        ),
        (
            json!({"ihost_uuid": w0u, "ifname": "bond0", "iftype": "ae", "aemode": "balanced",
                   "ifclass": "platform", "uses": ["eno2", "eno3"]}),
            "require a valid Tx Hash Policy",
        ),
        (
            json!({"ihost_uuid": w0u, "ifname": "big", "iftype": "vlan", "vlan_id": 7,
                   "imtu": 9000, "ifclass": "platform", "uses": ["eno2"]}),
            "cannot be larger than MTU of underlying interface (1500)",
        ),
        (
            json!({"ihost_uuid": w0u, "ifname": "x", "iftype": "vlan", "vlan_id": 7, "ovs_access": "true", "uses": ["eno2"]}),
            "ovs_access",
        ),
    ] {
        let (s, v) = add(body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert!(faultstring(&v).contains(want), "{want}: {v}");
    }
    assert_eq!(count(&l).await, 4);
    // An unlocked host's interfaces stay as they are.
    l.db.write(|c| {
        let mut r = InventoryStore::new(c);
        let mut h = r
            .host(&starling_inventory::repo::HostRef::Name(
                "controller-0".into(),
            ))?
            .expect("controller-0");
        h.administrative = starling_inventory::Administrative::Unlocked;
        r.update_host(&h)
    })
    .await
    .unwrap();
    let (s, v) = add(
        json!({"ihost_uuid": "controller-0", "ifname": "v0", "iftype": "virtual",
                            "ifclass": "platform"}),
    )
    .await;
    assert_eq!(
        (s, faultstring(&v)),
        (StatusCode::BAD_REQUEST, "Host must be locked.".to_string())
    );

    // host-if-modify: a class, and numbers as text; the host owes a reboot.
    let eno3 = l.get("/v1/ihosts/worker-0/iinterfaces").await["iinterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ifname"] == "eno3")
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = l
        .call(
            "PATCH",
            &format!("/v1/iinterfaces/{eno3}"),
            None,
            Some(
                json!([{"op": "replace", "path": "/ifclass", "value": "pci-sriov"},
                        {"op": "replace", "path": "/sriov_numvfs", "value": "4"},
                        {"op": "replace", "path": "/sriov_vf_driver", "value": "vfio"}]),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["ifclass"], &v["sriov_numvfs"]),
        (&json!("pci-sriov"), &json!(4))
    );
    assert!(
        v.get("ipv4_mode").is_none(),
        "no addresses on a pci-sriov interface: {v}"
    );
    let (s, v) = l
        .patch(&format!("/v1/iinterfaces/{eno3}"), "/sriov_numvfs", "9")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(faultstring(&v).contains("a maximum of 8 VFs"), "{v}");
    let w = l.w0.0.clone();
    let target =
        l.db.read(move |c| starling_config::ConfigRepo::host(&mut ConfigStore::new(c), &w))
            .await
            .unwrap()
            .unwrap()
            .target;
    assert!(target.reboot(), "interfaces are configured at the unlock");

    // interface-network-assign / -list / -show / -remove.
    let mgmt = l.get("/v1/networks").await["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "mgmt")
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, a) = l
        .call(
            "POST",
            "/v1/interface_networks",
            None,
            Some(json!({"interface_uuid": vlan, "network_uuid": mgmt})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (&a["network_type"], &a["ifname"], &a["forihostid"]),
        (&json!("mgmt"), &json!("vlan100"), &json!(id))
    );
    let au = a["uuid"].as_str().unwrap().to_string();
    assert_eq!(l.get(&format!("/v1/interface_networks/{au}")).await, a);
    assert_eq!(
        l.get("/v1/ihosts/worker-0/interface_networks").await["interface_networks"],
        json!([a.clone()])
    );
    assert_eq!(
        l.get(&format!("/v1/iinterfaces/{vlan}/interface_networks"))
            .await["interface_networks"],
        json!([a.clone()])
    );
    // The worker's document brings its platform interfaces up, lower ones
    // first, with its management address.
    let (s, doc) = l.document(&l.w0, "install", 0).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    let ifs = doc["interfaces"].as_array().unwrap();
    assert_eq!(ifs.len(), 3, "{doc}");
    assert_eq!(
        (&ifs[0]["name"], &ifs[0]["type"]),
        (&json!("eno1"), &json!("ethernet"))
    );
    assert_eq!(ifs[0]["mac"], "3c:fd:fe:00:00:01");
    // The SR-IOV port, with its VF count.
    assert_eq!(
        (&ifs[1]["name"], &ifs[1]["sriov_numvfs"]),
        (&json!("eno3"), &json!(4))
    );
    let ifs = &ifs[1..];
    assert_eq!(
        (&ifs[1]["name"], &ifs[1]["vlan_id"]),
        (&json!("vlan100"), &json!(100))
    );
    assert_eq!(ifs[1]["lower"], json!(["eno1"]));
    assert_eq!(ifs[1]["networks"], json!(["mgmt"]));
    let w = l.w0.0.clone();
    let mine = l
        .db
        .read(move |c| starling_config::ConfigRepo::addresses_of_host(&mut ConfigStore::new(c), &w))
        .await
        .unwrap();
    let addr = mine
        .iter()
        .find(|a| a.name == "worker-0-mgmt")
        .unwrap_or_else(|| panic!("{mine:?} {doc}"))
        .address;
    assert_eq!(ifs[1]["addresses"], json!([format!("{addr}/24")]));
    let (s, v) = l
        .call(
            "POST",
            "/v1/interface_networks",
            None,
            Some(json!({"interface_uuid": eno1_uuid, "network_uuid": mgmt})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        faultstring(&v).contains("'mgmt' network type is already provisioned"),
        "{v}"
    );
    let (s, _) = l
        .call(
            "DELETE",
            &format!("/v1/interface_networks/{au}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = l
        .call("GET", &format!("/v1/interface_networks/{au}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // interface-datanetwork-assign / -remove; a data network in use stays.
    let (s, d) = l
        .call(
            "POST",
            "/v1/datanetworks",
            None,
            Some(json!({"name": "physnet0", "network_type": "flat"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let eno2 = l.get("/v1/ihosts/worker-0/iinterfaces").await["iinterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ifname"] == "eno2")
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, a) = l
        .call(
            "POST",
            "/v1/interface_datanetworks",
            None,
            Some(json!({"interface_uuid": eno2, "datanetwork_uuid": d["uuid"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(
        (&a["datanetwork_name"], &a["network_type"]),
        (&json!("physnet0"), &json!("flat"))
    );
    assert_eq!(
        l.get(&format!("/v1/iinterfaces/{eno2}")).await["ifclass"],
        "data"
    );
    let (s, v) = l
        .call("DELETE", "/v1/datanetworks/physnet0", None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        faultstring(&v).contains("still assigned to interfaces"),
        "{v}"
    );
    let au = a["uuid"].as_str().unwrap();
    assert_eq!(
        l.get("/v1/ihosts/worker-0/interface_datanetworks").await["interface_datanetworks"][0]["uuid"],
        au
    );
    let (s, _) = l
        .call(
            "DELETE",
            &format!("/v1/interface_datanetworks/{au}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // host-if-delete: never a port's own interface.
    let (s, v) = l
        .call(
            "DELETE",
            &format!("/v1/iinterfaces/{eno1_uuid}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        faultstring(&v).contains("system created ethernet interface"),
        "{v}"
    );
    let (s, _) = l
        .call("DELETE", &format!("/v1/iinterfaces/{vlan}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(count(&l).await, 3);
    let (s, _) = l
        .call("GET", &format!("/v1/iinterfaces/{vlan}"), None, None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
