//! The config phase (issue 23's benchmark): a Standard duplex starlingd
//! with `--config-hosts` workers, each with a simulated agent that enrolls
//! with the controller's secret, long-polls its configuration document and
//! applies it with the real agent's code (`starling_agent::apply`, into a
//! directory of its own) before reporting it. Each round changes the DNS
//! servers and times the change to every host's report taken, and to
//! 250.001 gone from FM. Then, in process: the document's generation per
//! host over a store of 1,000 hosts, and one apply's CPU.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use starling_config_types::{ApplyReport, HostDocument};
use tokio::sync::mpsc;

use crate::Args;
use crate::inventory::{controller, hosts_file, mgmt_mac, pcts, thread_cpu_ns};

/// One simulated agent: enrolls, then applies every document it is given.
async fn agent(
    inv: Arc<str>,
    secret: Arc<str>,
    i: usize,
    root: PathBuf,
    done: mpsc::UnboundedSender<(usize, String)>,
) -> Result<()> {
    let http = reqwest::Client::new();
    let (uuid, credential) =
        crate::recovery::enroll(&http, &inv, &secret, &format!("compute-{i}"), &mgmt_mac(i))
            .await?;
    let mut applied = "install".to_string();
    loop {
        let r = http
            .get(format!(
                "{inv}/v1/agent/{uuid}/config?applied={applied}&wait=20"
            ))
            .header("x-auth-token", &credential)
            .send()
            .await?;
        if r.status() == reqwest::StatusCode::NO_CONTENT {
            continue;
        }
        ensure!(
            r.status().is_success(),
            "compute-{i}'s document: {}",
            r.status()
        );
        let doc: HostDocument = r.json().await?;
        let at = starling_agent::apply::ApplySetup {
            root: root.clone(),
            applied_file: root.join("applied"),
            network: Default::default(),
        };
        let (uuid_applied, steps) =
            tokio::task::spawn_blocking(move || starling_agent::apply::apply(&doc, &at)).await?;
        ensure!(steps.iter().all(|s| s.ok), "compute-{i}'s apply: {steps:?}");
        let report = ApplyReport {
            config_uuid: uuid_applied.clone(),
            steps,
        };
        let r = http
            .put(format!("{inv}/v1/agent/{uuid}/config"))
            .header("x-auth-token", &credential)
            .json(&report)
            .send()
            .await?;
        ensure!(
            r.status().is_success(),
            "compute-{i}'s report: {}",
            r.status()
        );
        applied = uuid_applied;
        if done.send((i, applied.clone())).is_err() {
            return Ok(());
        }
    }
}

/// 250.001 alarms raised now.
async fn out_of_date_alarms(fm: &str) -> Result<usize> {
    let v: Value = crate::client()
        .get(format!(
            "{fm}/v1/alarms?q.field=alarm_id&q.op=eq&q.value=250.001&q.type=string"
        ))
        .send()
        .await?
        .json()
        .await?;
    Ok(v["alarms"].as_array().map(Vec::len).unwrap_or(0))
}

/// Waits until every host of `n` reported a uuid other than the one it
/// reported before; returns when the last one did.
async fn all_applied(
    rx: &mut mpsc::UnboundedReceiver<(usize, String)>,
    n: usize,
    deadline: Duration,
) -> Result<()> {
    let mut seen = vec![false; n];
    let mut left = n;
    let end = tokio::time::Instant::now() + deadline;
    while left > 0 {
        let (i, _) = tokio::time::timeout_at(end, rx.recv())
            .await
            .with_context(|| format!("{left} hosts never applied"))?
            .context("the agents stopped")?;
        if !std::mem::replace(&mut seen[i], true) {
            left -= 1;
        }
    }
    Ok(())
}

pub async fn run(a: &Args) -> Result<()> {
    let n = a.config_hosts;
    eprintln!(
        "config: {n} simulated agents, {} dns-modify rounds",
        a.config_rounds
    );
    let dir = a.work_dir.join("config");
    let (s, inv, _mtce, _c0) = controller(a, &dir).await?;
    let fm = s.base.clone();
    let r = crate::client()
        .post(format!("{inv}/v1/ihosts/bulk_add"))
        .header("content-type", "application/yaml")
        .body(hosts_file(n))
        .send()
        .await?;
    ensure!(r.status().is_success(), "bulk add: {}", r.text().await?);
    let secret: Arc<str> = Arc::from(std::fs::read_to_string(dir.join("agent-enrollment"))?.trim());
    let inv_arc: Arc<str> = Arc::from(inv.as_str());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut agents = tokio::task::JoinSet::new();
    for i in 0..n {
        let root = dir.join("roots").join(format!("compute-{i}"));
        agents.spawn(agent(inv_arc.clone(), secret.clone(), i, root, tx.clone()));
    }
    drop(tx);
    all_applied(&mut rx, n, Duration::from_secs(120)).await?;
    let dns: Value = crate::client()
        .get(format!("{inv}/v1/idns"))
        .send()
        .await?
        .json()
        .await?;
    let dns_uuid = dns["idnss"][0]["uuid"]
        .as_str()
        .context("no DNS record")?
        .to_string();
    let mut applied = Vec::new();
    let mut cleared = Vec::new();
    for round in 0..a.config_rounds {
        let servers = format!("192.0.2.{},192.0.2.{}", 1 + round % 100, 101 + round % 100);
        let t0 = Instant::now();
        let r = crate::client()
            .patch(format!("{inv}/v1/idns/{dns_uuid}"))
            .json(
                &json!([{"op": "replace", "path": "/nameservers", "value": servers},
                {"op": "replace", "path": "/action", "value": "apply"}]),
            )
            .send()
            .await?;
        ensure!(r.status().is_success(), "dns-modify: {}", r.text().await?);
        all_applied(&mut rx, n, Duration::from_secs(60)).await?;
        applied.push(t0.elapsed());
        // 250.001 raised by the change must be gone from FM.
        let end = Instant::now() + Duration::from_secs(30);
        while out_of_date_alarms(&fm).await? > 0 {
            ensure!(Instant::now() < end, "250.001 still raised after 30 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cleared.push(t0.elapsed());
        if let Some(Err(e)) = agents.try_join_next() {
            return Err(e.into());
        }
    }
    agents.abort_all();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (a50, a99) = pcts(applied.clone());
    let (c50, c99) = pcts(cleared.clone());
    println!(
        "| measurement ({n} simulated agents, starlingd release, SQLite, loopback) | p50 / max |"
    );
    println!("|---|---|");
    println!(
        "| dns-modify → every host's apply reported ({} rounds) | {:.0} / {:.0} ms |",
        applied.len(),
        ms(a50),
        ms(*applied.iter().max().unwrap_or(&a99))
    );
    println!(
        "| dns-modify → 250.001 cleared on every host (FM polled every 5 ms) | {:.0} / {:.0} ms |",
        ms(c50),
        ms(*cleared.iter().max().unwrap_or(&c99))
    );
    drop(s);
    generation(&dir).await?;
    apply_cpu(&dir)?;
    Ok(())
}

/// The document's generation per host, in process, over a SQLite store of
/// 1,000 tracked hosts (a read transaction each, as the API does).
async fn generation(dir: &Path) -> Result<()> {
    use starling_config::OamFields;
    use starling_config::ops::{self, HostFacts, Initial};
    use starling_config_store::{ConfigStore, SCHEMA};
    let n = 1000;
    let path = dir.join("generation.db");
    let _ = std::fs::remove_file(&path);
    let db = starling_db::Db::open(
        &format!("sqlite://{}", path.display()),
        starling_db::Tuning::default(),
        &[SCHEMA],
    )
    .await?;
    let facts: Vec<HostFacts> = (0..n)
        .map(|i| HostFacts {
            uuid: format!("00000000-0000-4000-8000-{i:012}"),
            hostname: Some(format!("compute-{i}")),
            personality: Some(if i < 2 { "controller" } else { "worker" }.into()),
            administrative: "unlocked".into(),
            configuring: false,
            subfunctions: None,
        })
        .collect();
    let init = Initial {
        nameservers: "8.8.8.8,8.8.4.4".into(),
        ntpservers: "10.0.0.1".into(),
        oam: OamFields {
            oam_subnet: Some("10.10.10.0/24".into()),
            oam_floating_ip: Some("10.10.10.2".into()),
            ..OamFields::default()
        },
        // Room for a thousand hosts' addresses.
        networks: starling_config::addressing::InitialNetworks {
            mgmt: "10.200.0.0/20".into(),
            cluster_host: "10.201.0.0/20".into(),
            ..Default::default()
        },
        simplex: false,
    };
    let all = facts.clone();
    let t0 = Instant::now();
    let short = db
        .write(move |c| {
            let mut r = ConfigStore::new(c);
            ops::ensure_records(&mut r, &init, starling_common::Timestamp::from_micros(0))?;
            let (changed, _) =
                ops::follow(&mut r, &all, starling_common::Timestamp::from_micros(0))?;
            Ok::<_, starling_common::Error>(changed.iter().filter(|h| h.failure.is_some()).count())
        })
        .await?;
    let follow = t0.elapsed();
    ensure!(short == 0, "{short} hosts were given no address");
    println!(
        "| {n} hosts tracked and given their management and cluster-host addresses (one transaction) | {:.0} ms |",
        follow.as_secs_f64() * 1e3
    );
    // Each host as StarlingX's install guide leaves it: two ports, the
    // management network on a VLAN over the first; and a few service
    // parameters every document carries.
    use starling_config::interface::{self, HostView, InterfaceFields, PortFacts};
    let ports_of = |i: usize| -> Vec<PortFacts> {
        (0..2)
            .map(|p| PortFacts {
                uuid: format!("00000000-0000-4000-9000-{:08}{p:04}", i),
                name: format!("eno{}", p + 1),
                mac: format!("02:00:{:02x}:{:02x}:00:{p:02x}", i / 256, i % 256),
                mtu: 1500,
                ..PortFacts::default()
            })
            .collect()
    };
    let locked: Vec<HostFacts> = facts
        .iter()
        .map(|f| HostFacts {
            administrative: "locked".into(),
            ..f.clone()
        })
        .collect();
    let t0 = Instant::now();
    db.write(move |c| {
        let mut r = ConfigStore::new(c);
        let now = starling_common::Timestamp::from_micros(0);
        let mgmt = starling_config::ConfigRepo::networks(&mut r)?
            .into_iter()
            .find(|n| n.net_type == "mgmt")
            .map(|n| n.uuid)
            .unwrap_or_default();
        for (i, f) in locked.iter().enumerate() {
            let ports = ports_of(i);
            interface::sync_ports(&mut r, &f.uuid, &ports, now)?;
            let v = HostView::load(&mut r, f, &ports, false)?;
            interface::add(
                &mut r,
                &v,
                &InterfaceFields {
                    ifname: Some("mgmt0".into()),
                    iftype: Some("vlan".into()),
                    ifclass: Some("platform".into()),
                    vlan_id: Some(10),
                    uses: Some(vec!["eno1".into()]),
                    ..InterfaceFields::default()
                },
                now,
            )?;
            let v = HostView::load(&mut r, f, &ports, false)?;
            interface::assign_network(&mut r, &v, &locked[..2], "mgmt0", &mgmt, now)?;
        }
        struct Any;
        impl starling_config::service_param::KernelParams for Any {
            fn probe(&self, _: &str) -> starling_config::service_param::KernelParam {
                starling_config::service_param::KernelParam::Writable
            }
        }
        starling_config::service_param::add(
            &mut r,
            "platform",
            Some("sysctl"),
            &[
                ("vm.swappiness".into(), "10".into()),
                ("net.ipv4.ip_forward".into(), "1".into()),
            ],
            &Any,
            now,
        )?;
        starling_config::service_param::add(
            &mut r,
            "dns",
            Some("host-record"),
            &[("r1".into(), "registry.local,10.0.0.9".into())],
            &Any,
            now,
        )?;
        Ok::<_, starling_common::Error>(())
    })
    .await?;
    println!(
        "| {n} hosts given a management VLAN over their first port, checked as sysinv checks it (one transaction) | {:.0} ms |",
        t0.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::with_capacity(n);
    for (i, f) in facts.into_iter().enumerate() {
        let ports = ports_of(i);
        let t0 = Instant::now();
        let d = db
            .read(move |c| ops::document(&mut ConfigStore::new(c), &f, &ports))
            .await?;
        times.push(t0.elapsed());
        ensure!(
            d.interfaces.len() == 2,
            "compute-{i}'s interfaces: {:?}",
            d.interfaces
        );
        std::hint::black_box(d);
    }
    let (p50, p99) = pcts(times);
    println!(
        "| a host's document generated, its interfaces and service parameters included (read transaction included; {n} hosts tracked) | {:.0} / {:.0} µs (p50 / p99) |",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    Ok(())
}

/// One agent apply's CPU: the files rendered, compared and (every other
/// time, the document alternating) written and synced.
fn apply_cpu(dir: &Path) -> Result<()> {
    let root = dir.join("apply-root");
    let doc = |k: usize| HostDocument {
        config_uuid: format!("01a2510b-5f63-71d2-9dc8-{k:012}"),
        full: true,
        hostname: "compute-0".into(),
        personality: "controller".into(),
        nameservers: vec![format!("192.0.2.{}", k % 2 + 1), "192.0.2.200".into()],
        ntpservers: Some(vec!["10.0.0.1".into()]),
        hosts: vec![starling_config_types::HostsEntry {
            address: "10.10.10.2".into(),
            names: vec!["oamcontroller".into()],
        }],
        interfaces: Vec::new(),
        sysctl: Vec::new(),
        coredump: Vec::new(),
        cli_confirmations: None,
    };
    let setup = starling_agent::apply::ApplySetup {
        root: root.clone(),
        applied_file: root.join("applied"),
        network: Default::default(),
    };
    let runs = 200;
    let cpu0 = thread_cpu_ns()?;
    let t0 = Instant::now();
    for k in 0..runs {
        let (_, steps) = starling_agent::apply::apply(&doc(k), &setup);
        ensure!(steps.iter().all(|s| s.ok), "{steps:?}");
    }
    let wall = t0.elapsed();
    let cpu = thread_cpu_ns()? - cpu0;
    println!(
        "| one agent apply (resolv.conf changed and synced; hosts, chrony, sysctl, coredump and CLI files compared) | {:.0} µs CPU, {:.2} ms wall |",
        cpu as f64 / runs as f64 / 1e3,
        wall.as_secs_f64() * 1e3 / runs as f64
    );
    Ok(())
}
