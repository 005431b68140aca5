//! host-bulk-add and host-bulk-export through the router: the file as
//! cgtsclient uploads it (multipart, field `file`) or as the body; refused
//! until a controller is in service; every problem of a refused file named
//! in sysinv's 200 `{"success", "error"}` answer, nothing added; added hosts
//! locked with 200.001 raised and the add logged; the export fed back adds
//! them again.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use starling_http::Authenticator;
use starling_http::OpenAccess;
use starling_inventory::SystemMode;
use starling_inventory_api::Paging;
use std::sync::Arc;
use tower::ServiceExt;

use crate::{TestApp, app, app_with, eventually, fault};

const BOUNDARY: &str = "e1b2c3d4e5f60718";

impl TestApp {
    async fn upload(&self, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method("POST")
            .uri("/v1/ihosts/bulk_add")
            .header("host", "inv.test:6385")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// As python-requests posts `files={'file': (name, fh)}`.
    async fn bulk_add(&self, file: &str) -> (StatusCode, Value) {
        let mut b = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hosts.xml\"\r\n\r\n"
        )
        .into_bytes();
        b.extend_from_slice(file.as_bytes());
        b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.upload(&format!("multipart/form-data; boundary={BOUNDARY}"), b)
            .await
    }
}

fn host(name: &str, personality: &str, mac: &str) -> String {
    format!(
        "  <host>\n    <hostname>{name}</hostname>\n    <personality>{personality}</personality>\n    <mgmt_mac>{mac}</mgmt_mac>\n  </host>\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_add_and_export_round_trip() {
    let auth: Arc<dyn Authenticator> = Arc::new(OpenAccess);
    let t = app_with(SystemMode::Duplex, true, auth, Paging::default()).await;
    let fm = t.fm.as_ref().unwrap();
    t.controller_in_service().await;
    let file = format!(
        "<?xml version=\"1.0\"?>\n<hosts>\n{}{}{}</hosts>\n",
        host("worker-0", "worker", "08:00:27:00:00:10"),
        host("worker-1", "worker", "08:00:27:00:00:11"),
        host("storage-0", "storage", "08:00:27:00:00:12"),
    );
    let (s, v) = t.bulk_add(&file).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], "worker-0\nworker-1\nstorage-0");
    assert_eq!(v["error"], "");
    let list = t.get("/v1/ihosts?personality=worker").await;
    let hosts = list["ihosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert!(hosts.iter().all(|h| h["administrative"] == "locked"));
    eventually("three locked alarms", || async {
        fm.alarms().await.len() == 3
    })
    .await;
    let logs = fm.logs().await;
    assert!(
        logs.iter()
            .any(|l| l == "200.021 worker-1 'add' request (bulk)"),
        "{logs:#?}"
    );

    let export = t.get("/v1/ihosts/bulk_export").await;
    let xml = export["content"].as_str().unwrap();
    let storage = xml.find("storage-0").unwrap();
    let worker = xml.find("worker-0").unwrap();
    assert!(storage < worker, "storage before workers: {xml}");

    // Feeding it back to a system holding them: each named, none added
    // twice; sysinv's answer, 200 with the error beside an empty success.
    let (s, v) = t.bulk_add(xml).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["success"], "");
    let f = v["error"].as_str().unwrap();
    for h in ["(storage-0)", "(worker-0)", "(worker-1)"] {
        assert!(f.contains(&format!("{h}: Host-add Rejected")), "{f}");
    }

    // Delete them; the export adds them back, here as a plain XML body.
    for h in ["worker-0", "worker-1", "storage-0"] {
        let (s, _) = t.call("DELETE", &format!("/v1/ihosts/{h}"), None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    let (s, v) = t.upload("application/xml", xml.as_bytes().to_vec()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["error"], "", "{v}");
    // (The active controller's entry updates it: added first, then it.)
    assert_eq!(
        v["success"], "storage-0\nworker-0\nworker-1\ncontroller-0",
        "{v}"
    );
}

#[tokio::test]
async fn refused_files_are_named_and_add_nothing() {
    let t = app().await;
    // Nothing is added until a controller is in service, as sysinv.
    let one = format!(
        "<hosts>{}</hosts>",
        host("worker-0", "worker", "08:00:27:00:00:10")
    );
    let (s, v) = t.bulk_add(&one).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["success"].as_str(), v["error"].as_str()),
        (
            Some(""),
            Some(
                "Bulk_add requires enabled controller. Please unlock controller-0, wait for it to enable and then retry."
            )
        )
    );
    t.controller_in_service().await;
    let cases: Vec<(String, &str)> = vec![
        ("<hosts><host>".into(), "malformed XML"),
        ("hosts: [".into(), "neither XML nor valid YAML"),
        (
            format!(
                "<hosts>{}{}</hosts>",
                host("worker-0", "worker", "08:00:27:00:00:10"),
                host("worker-0", "worker", "08:00:27:00:00:11")
            ),
            "host 2 (worker-0): hostname worker-0 is also given to host 1",
        ),
        (
            "- {hostname: worker-0, personality: worker, mgmt_mac: '08:00:27:00:00:10'}\n- {hostname: 'bad name', personality: worker, mgmt_mac: 'zz'}\n".into(),
            "host 2 (bad name)",
        ),
        // Every problem of an entry, not only the first.
        (
            "- {hostname: 'bad name', personality: worker, mgmt_mac: 'zz'}\n".into(),
            "Invalid hostname 'bad name'",
        ),
        (
            "- {hostname: 'bad name', personality: worker, mgmt_mac: 'zz'}\n".into(),
            "'zz'",
        ),
        (
            "- {hostname: worker-0, personality: worker, mgmt_mac: '08:00:27:00:00:10', power_on: true}\n".into(),
            "power_on is not supported yet",
        ),
        (
            "- {hostname: worker-0, personality: worker, mgmt_mac: '08:00:27:00:00:10', bm_password: x}\n".into(),
            "bm_password is not accepted",
        ),
    ];
    for (file, want) in cases {
        let (s, v) = t.bulk_add(&file).await;
        assert_eq!(s, StatusCode::OK, "{file}: {v}");
        assert_eq!(v["success"], "", "{file}: {v}");
        let f = v["error"].as_str().unwrap();
        assert!(f.contains(want), "{file}: {f}");
    }
    // Not a hosts file at all.
    let (s, v) = t.upload("application/xml", vec![0xff, 0xfe, 0x00]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["error"].as_str().unwrap().contains("not UTF-8"), "{v}");
    let (s, v) = t
        .upload(
            "multipart/form-data; boundary=abc",
            b"--abc\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--abc--\r\n"
                .to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(fault(&v).contains("no form field 'file'"), "{v}");
    assert_eq!(
        t.get("/v1/ihosts").await["ihosts"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing but the controller"
    );

    // A simplex system takes no hosts by file either.
    let sx = app_with(
        SystemMode::Simplex,
        false,
        Arc::new(OpenAccess),
        Paging::default(),
    )
    .await;
    let (s, v) = sx
        .bulk_add(&format!(
            "<hosts>{}</hosts>",
            host("worker-0", "worker", "08:00:27:00:00:10")
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["error"], "Bulk add on a simplex system is not allowed.");
}
