//! Each service's `/metrics`, scraped by a real Prometheus (Debian's
//! `prometheus`): every target up, and the HTTP series of identity, FM and
//! inventory queryable through Prometheus' own API, histograms included.
//!
//! Without the `prometheus` binary the test says so and passes, unless
//! STARLING_REQUIRE_PROMETHEUS is set (CI), which makes that a failure.

use super::*;

const PASSWORD: &str = "Metr1cs!pw";

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn prometheus_binary() -> Option<PathBuf> {
    ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// `host:port` of a base URL.
fn target(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

#[test]
fn prometheus_scrapes_every_service() {
    let Some(bin) = prometheus_binary() else {
        assert!(
            std::env::var_os("STARLING_REQUIRE_PROMETHEUS").is_none(),
            "STARLING_REQUIRE_PROMETHEUS is set but prometheus is not installed"
        );
        eprintln!("SKIPPED: prometheus is not installed (Debian package prometheus)");
        return;
    };
    let s = all_in_one(
        &[("STARLING_ADMIN_PASSWORD", PASSWORD)],
        &["--system-mode", "duplex"],
    );
    let token = login(&s.identity, "admin", PASSWORD).expect("the admin logs in");
    // An alarm, and a host whose agent reports.
    let post = |url: String, body: Value| {
        let r = http()
            .post(url)
            .header("x-auth-token", &token)
            .json(&body)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
    };
    post(
        format!("{}/v1/alarms", s.fm),
        json!({"alarm_id": "100.101", "alarm_state": "set", "entity_instance_id": "host=compute-0",
               "severity": "major", "alarm_type": "equipment", "probable_cause": "unknown",
               "reason_text": "CPU threshold exceeded"}),
    );
    post(
        format!("{}/v1/ihosts", s.inventory),
        json!({"hostname": "compute-0", "personality": "worker", "mgmt_mac": "02:00:00:00:0a:01"}),
    );
    let r = http()
        .put(format!("{}/v1/agent/compute-0/report", s.inventory))
        .header("x-auth-token", &token)
        .json(&json!({"uptime": 42}))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
    // Some traffic of each kind: answered, refused, unrouted.
    assert_eq!(get(&format!("{}/v1/alarms", s.fm), Some(&token)).0, 200);
    assert_eq!(
        get(&format!("{}/v1/ihosts", s.inventory), Some(&token)).0,
        200
    );
    assert_eq!(get(&format!("{}/v1/alarms", s.fm), None).0, 401);
    assert_eq!(get(&format!("{}/no/such/path", s.fm), Some(&token)).0, 404);

    // The text itself, without a token.
    let r = http().get(format!("{}/metrics", s.fm)).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = r.text().unwrap();
    assert!(
        text.contains(
            "starling_http_requests_total{service=\"fm\",route=\"/v1/alarms\",method=\"GET\",status=\"401\"} 1\n"
        ),
        "{text}"
    );
    assert!(text.contains("route=\"(unmatched)\""), "{text}");
    assert!(
        !text.contains("service=\"inventory\""),
        "each port its own service's series"
    );

    let dir = tmpdir();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: starling\n    static_configs:\n      - targets: ['{}', '{}', '{}']\n",
            target(&s.identity),
            target(&s.fm),
            target(&s.inventory)
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts");
    let _p = Prometheus(child);
    let query = |q: &str| -> Vec<Value> {
        // The query as a form body (Prometheus takes POST).
        let body: String = q
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let r = http()
            .post(format!("http://127.0.0.1:{port}/api/v1/query"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("query={body}"))
            .send();
        match r.ok().and_then(|r| r.json::<Value>().ok()) {
            Some(v) => v["data"]["result"].as_array().cloned().unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let services = loop {
        let up = query("up == 1");
        let mut services = query("sum by (service) (starling_http_requests_total)")
            .iter()
            .filter_map(|r| r["metric"]["service"].as_str().map(str::to_string))
            .collect::<Vec<_>>();
        services.sort();
        if up.len() == 3 && services == ["fm", "identity", "inventory"] {
            break services;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape the three services in 60 s: up {up:?}, services {services:?}; its log: {}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(services, ["fm", "identity", "inventory"]);
    // The histogram is one Prometheus reads: a quantile of the ihosts list.
    let q = query(
        "histogram_quantile(0.5, sum by (le) (starling_http_request_duration_seconds_bucket{service=\"inventory\",route=\"/v1/ihosts\"}))",
    );
    assert_eq!(q.len(), 1, "{q:?}");
    let refused = query("starling_http_requests_total{service=\"fm\",status=\"401\"}");
    assert_eq!(refused.len(), 1, "{refused:?}");
    // The services' own gauges: alarms by severity, the agents.
    let major = query("starling_fm_active_alarms{severity=\"major\"}");
    assert_eq!(major.len(), 1, "{major:?}");
    assert_eq!(major[0]["value"][1], "1", "{major:?}");
    let age = query("starling_inventory_agent_last_report_age_seconds{host=\"compute-0\"}");
    assert_eq!(age.len(), 1, "{age:?}");
    assert_eq!(query("starling_inventory_agents_connected").len(), 1);
    // The store's series: what is outstanding per pool, the commits' times.
    assert_eq!(
        query("starling_store_queue_depth").len(),
        6,
        "two pools a service"
    );
    let commits = query("starling_store_commit_seconds_count > 0");
    assert_eq!(commits.len(), 3, "{commits:?}");
    let q = query("histogram_quantile(0.99, starling_store_commit_seconds_bucket)");
    assert_eq!(q.len(), 3, "{q:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
