//! Host maintenance end to end: a starlingd (all-in-one, no local agent)
//! and hosts whose heartbeat responders run here — each enrolled with the
//! controller's enrollment secret, reported and registered with
//! maintenance as its agent would be, answering with the real
//! `starling-heartbeat` responder. A cut is one host's responder stopping
//! at a random phase of a period; measured: the time to its 200.004 alarm
//! in FM (the alarm's own timestamp, and as polling FM every 5 ms sees it)
//! and to `failed` in inventory (the host's `updated_at`), then, the
//! responder back, the time to its graceful return to service.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use starling_heartbeat::{Key, Responder};

use crate::heartbeat::{jitter, pcts};
use crate::{Args, Server, client, free_port};

/// A host simulated here: its uuid, its heartbeat key and responder.
pub struct Host {
    pub uuid: String,
    key: Key,
    at: SocketAddr,
    responder: Option<tokio::task::JoinHandle<()>>,
}

/// A host's first registration with the enrollment `secret`, as its agent
/// makes it: its uuid and its own credential.
pub async fn enroll(
    http: &reqwest::Client,
    inv: &str,
    secret: &str,
    hostname: &str,
    mac: &str,
) -> Result<(String, String)> {
    let r = http
        .post(format!("{inv}/v1/agent/register"))
        .header("x-auth-token", secret)
        .json(&json!({"hostname": hostname, "mgmt_mac": mac}))
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "{hostname} enrolls: {}",
        r.status()
    );
    let credential = r
        .headers()
        .get("x-starling-agent-token")
        .and_then(|v| v.to_str().ok())
        .context("no host credential in the first registration")?
        .to_string();
    let v: Value = r.json().await?;
    let uuid = v["uuid"]
        .as_str()
        .context("registration without uuid")?
        .to_string();
    Ok((uuid, credential))
}

impl Host {
    /// Adds `hostname` (`personality`, `mac`), enrolls it with `secret`,
    /// reports it inventoried, registers its responder with maintenance
    /// at `mtce` and starts it.
    pub async fn enroll(
        inv: &str,
        mtce: &str,
        secret: &str,
        hostname: &str,
        personality: &str,
        mac: &str,
        report: &Value,
    ) -> Result<Host> {
        let http = client();
        let r = http
            .post(format!("{inv}/v1/ihosts"))
            .json(&json!({"hostname": hostname, "personality": personality, "mgmt_mac": mac}))
            .send()
            .await?;
        ensure!(r.status().is_success(), "{hostname}: {}", r.text().await?);
        let (uuid, credential) = enroll(&http, inv, secret, hostname, mac).await?;
        let r = http
            .put(format!("{inv}/v1/agent/{uuid}/report"))
            .header("x-auth-token", &credential)
            .json(report)
            .send()
            .await?;
        ensure!(
            r.status().is_success(),
            "{hostname}'s report: {}",
            r.text().await?
        );
        let port = free_port()?;
        let at = SocketAddr::from(([127, 0, 0, 1], port));
        let r = http
            .put(format!("{mtce}/v1/agent/{uuid}/heartbeat"))
            .header("x-auth-token", &credential)
            .json(&json!({"port": port}))
            .send()
            .await?;
        ensure!(
            r.status().is_success(),
            "{hostname}'s responder: {}",
            r.text().await?
        );
        let cfg: Value = r.json().await?;
        let key = Key::from_hex(cfg["key"].as_str().context("no heartbeat key")?)
            .map_err(anyhow::Error::msg)?;
        let mut h = Host {
            uuid,
            key,
            at,
            responder: None,
        };
        h.answer(hostname).await?;
        Ok(h)
    }

    /// Its responder answers (again).
    pub async fn answer(&mut self, hostname: &str) -> Result<()> {
        let r = Responder::bind(self.at, self.key.clone(), &self.uuid)
            .await
            .with_context(|| format!("{hostname}'s responder on {}", self.at))?;
        self.responder = Some(tokio::spawn(r.run()));
        Ok(())
    }

    /// Its responder stops (the socket closed when this returns).
    pub async fn cut(&mut self) {
        if let Some(t) = self.responder.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Unlocks `host` and waits until maintenance has it in service.
pub async fn unlock_and_enable(inv: &str, host: &str) -> Result<()> {
    let http = client();
    let r = http
        .patch(format!("{inv}/v1/ihosts/{host}"))
        .json(&json!([{"op": "replace", "path": "/action", "value": "unlock"}]))
        .send()
        .await?;
    ensure!(
        r.status().is_success(),
        "{host}'s unlock: {}",
        r.text().await?
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: Value = http
            .get(format!("{inv}/v1/ihosts/{host}"))
            .send()
            .await?
            .json()
            .await?;
        if v["operational"] == "enabled" && v["availability"] == "available" {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{host} never enabled: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `host`'s 200.004 among FM's active alarms: its timestamp (FM's clock
/// when it took the alarm), in microseconds since the epoch.
async fn failed_alarm(fm: &str, host: &str) -> Result<Option<i64>> {
    let v: Value = client()
        .get(format!("{fm}/v1/alarms"))
        .send()
        .await?
        .json()
        .await?;
    let entity = format!("host={host}");
    let Some(a) = v["alarms"].as_array().and_then(|a| {
        a.iter()
            .find(|x| x["alarm_id"] == "200.004" && x["entity_instance_id"] == entity.as_str())
    }) else {
        return Ok(None);
    };
    let ts = a["timestamp"].as_str().unwrap_or_default();
    let at = starling_common::Timestamp::parse(ts)
        .map_err(|e| anyhow::anyhow!("the alarm's timestamp {ts:?}: {e}"))?;
    Ok(Some(at.micros()))
}

/// `host`'s availability, and when inventory last changed it (its
/// `updated_at`, microseconds since the epoch).
async fn availability(inv: &str, host: &str) -> Result<(String, i64)> {
    let v: Value = client()
        .get(format!("{inv}/v1/ihosts/{host}"))
        .send()
        .await?
        .json()
        .await?;
    let at = v["updated_at"]
        .as_str()
        .and_then(|t| starling_common::Timestamp::parse(t).ok())
        .map_or(0, |t| t.micros());
    Ok((v["availability"].as_str().unwrap_or("").to_string(), at))
}

/// Now, in microseconds since the epoch (the servers' clock too).
fn unix_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// One cut's figures.
#[derive(Clone, Copy, Debug)]
struct Cut {
    /// Cut → the 200.004 alarm's timestamp in FM.
    alarm: Duration,
    /// Cut → inventory's change of the host to failed (its `updated_at`).
    failed: Duration,
    /// Cut → the alarm seen by polling FM (every 5 ms).
    alarm_polled: Duration,
    /// Back → in service with the alarm cleared (polled).
    back: Duration,
}

/// One period: a starlingd, controller-0 and compute-0 in service, then
/// `runs` cuts of compute-0.
async fn at_period(a: &Args, period_ms: u64) -> Result<Vec<Cut>> {
    let dir = a.work_dir.join(format!("recovery-{period_ms}"));
    let (inv_port, mtce_port) = (free_port()?, free_port()?);
    let period = format!("{period_ms}ms");
    let s: Server = crate::starling_with(
        a,
        &dir,
        &[
            "--system-mode",
            "duplex",
            "--system-type",
            "Standard",
            "--inventory-port",
            &inv_port.to_string(),
            "--mtce-port",
            &mtce_port.to_string(),
            "--heartbeat-period",
            &period,
            "--heartbeat-soak",
            "1s",
            // Every cut is a graceful recovery: the responder comes back
            // well within the window.
            "--recovery-window",
            "60s",
        ],
    )
    .await?;
    let (fm, inv, mtce) = (
        s.base.clone(),
        format!("http://127.0.0.1:{inv_port}"),
        format!("http://127.0.0.1:{mtce_port}"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(format!("{inv}/health")).await.is_err() {
        ensure!(Instant::now() < deadline, "inventory never answered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secret = std::fs::read_to_string(dir.join("agent-enrollment"))?
        .trim()
        .to_string();
    let report = crate::inventory::server_report(1);
    let mut c0 = Host::enroll(
        &inv,
        &mtce,
        &secret,
        "controller-0",
        "controller",
        "02:cc:00:00:00:01",
        &report,
    )
    .await?;
    unlock_and_enable(&inv, "controller-0").await?;
    let mut w = Host::enroll(
        &inv,
        &mtce,
        &secret,
        "compute-0",
        "worker",
        "02:cc:00:00:00:02",
        &report,
    )
    .await?;
    unlock_and_enable(&inv, "compute-0").await?;
    let step = Duration::from_millis(5);
    let mut out = Vec::new();
    for _ in 0..a.hb_runs {
        // A cut at a random phase of the period.
        tokio::time::sleep(Duration::from_millis(period_ms).mul_f64(jitter())).await;
        w.cut().await;
        let t0 = Instant::now();
        let cut_at = unix_micros();
        let since = |at: i64| Duration::from_micros(at.saturating_sub(cut_at).max(0) as u64);
        let (mut alarm, mut failed, mut polled) = (None, None, None);
        while alarm.is_none() || failed.is_none() {
            if alarm.is_none()
                && let Some(at) = failed_alarm(&fm, "compute-0").await?
            {
                alarm = Some(since(at));
                polled = Some(t0.elapsed());
            }
            if failed.is_none() {
                let (avail, at) = availability(&inv, "compute-0").await?;
                if avail == "failed" {
                    failed = Some(since(at));
                }
            }
            ensure!(
                t0.elapsed() < Duration::from_secs(60),
                "compute-0 never failed"
            );
            tokio::time::sleep(step).await;
        }
        w.answer("compute-0").await?;
        let t1 = Instant::now();
        loop {
            if availability(&inv, "compute-0").await?.0 == "available"
                && failed_alarm(&fm, "compute-0").await?.is_none()
            {
                break;
            }
            ensure!(
                t1.elapsed() < Duration::from_secs(120),
                "compute-0 never came back"
            );
            tokio::time::sleep(step).await;
        }
        out.push(Cut {
            alarm: alarm.unwrap_or_default(),
            failed: failed.unwrap_or_default(),
            alarm_polled: polled.unwrap_or_default(),
            back: t1.elapsed(),
        });
    }
    c0.cut().await;
    drop(s);
    Ok(out)
}

pub async fn run(a: &Args) -> Result<()> {
    eprintln!("recovery: cut → 200.004 → graceful recovery, end to end");
    println!("| measurement (starlingd, SQLite, loopback) | p50 / p99 |");
    println!("|---|---|");
    for ms in &a.hb_periods {
        let runs = at_period(a, *ms).await?;
        let n = runs.len();
        let ms_of = |d: Duration| d.as_secs_f64() * 1e3;
        let rows = [
            (
                "cut → 200.004 in FM (the alarm's timestamp)",
                runs.iter().map(|r| r.alarm).collect::<Vec<_>>(),
            ),
            (
                "cut → `failed` in inventory (the host's updated_at)",
                runs.iter().map(|r| r.failed).collect(),
            ),
            (
                "cut → 200.004 seen by polling FM every 5 ms",
                runs.iter().map(|r| r.alarm_polled).collect(),
            ),
            (
                "back → in service, 200.004 cleared (soak 1 s; polled)",
                runs.iter().map(|r| r.back).collect(),
            ),
        ];
        for (what, v) in rows {
            let (p50, p99) = pcts(v);
            println!(
                "| period {ms} ms, {n} cuts: {what} | {:.0} / {:.0} ms |",
                ms_of(p50),
                ms_of(p99)
            );
        }
    }
    Ok(())
}
