//! The cost of authentication: the latency a token check adds to a cheap FM
//! request (measured in-process through the whole router, so loopback noise
//! does not hide a microsecond figure), and the password login rate of a
//! real starlingd.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::Request;
use starling_auth::{LocalAuth, TokenCache};
use starling_common::{Clock, SystemClock};
use starling_db::{Db, Tuning};
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging};
use starling_http::{Authenticator, OpenAccess};
use starling_identity::ops::{
    self, AuthSettings, BootstrapSpec, DomainRef, LoginOutcome, ScopeRef, UserRef,
};
use starling_identity::password;
use starling_identity_store::IdentityStore;
use tower::ServiceExt;

/// p50 and p99 in microseconds of `n` sequential requests through `app`.
async fn through(app: &axum::Router, token: &str, n: usize) -> Result<(f64, f64)> {
    let mut d = Vec::with_capacity(n);
    for i in 0..n + n / 10 {
        let req = Request::builder()
            .uri("/v1/alarms/summary")
            .header("x-auth-token", token)
            .body(Body::empty())?;
        let t0 = Instant::now();
        let resp = app.clone().oneshot(req).await?;
        let el = t0.elapsed();
        anyhow::ensure!(resp.status().is_success(), "status {}", resp.status());
        // The first tenth warms caches and is not counted.
        if i >= n / 10 {
            d.push(el);
        }
    }
    d.sort();
    let pct = |p: f64| d[((d.len() as f64 * p) as usize).min(d.len() - 1)].as_secs_f64() * 1e6;
    Ok((pct(0.50), pct(0.99)))
}

/// Rows: (what, figure).
pub async fn overhead(work: &std::path::Path, n: usize) -> Result<Vec<(String, String)>> {
    let dir = work.join("auth");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let db = Db::open(
        &format!("sqlite://{}/a.db", dir.display()),
        Tuning::default(),
        &[starling_fm_store::SCHEMA, starling_identity_store::SCHEMA],
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = password::hash("Bench!pass1").map_err(|e| anyhow::anyhow!("{e}"))?;
    let spec = BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some(hash.clone()),
        region: "RegionOne".into(),
        service_users: vec![],
        services: vec![],
    };
    db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &spec, SystemClock.now()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let who = UserRef::Name("admin".into(), DomainRef::Name("Default".into()));
    let scope = ScopeRef::ProjectName("admin".into(), DomainRef::Name("Default".into()));
    let uid = db
        .read(move |c| ops::resolve_login(&mut IdentityStore::new(c), &who, SystemClock.now()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .user_id;
    let outcome = db
        .write(move |c| {
            ops::complete_login(
                &mut IdentityStore::new(c),
                &uid,
                true,
                Some(&scope),
                SystemClock.now(),
                AuthSettings::default(),
            )
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let LoginOutcome::Issued(token, _) = outcome else {
        anyhow::bail!("login refused");
    };
    let state = FmState {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        limits: Limits::default(),
        paging: Paging::default(),
        written: Default::default(),
    };
    let app = |auth: Arc<dyn Authenticator>| starling_fm_api::router(state.clone(), auth);
    let open = app(Arc::new(OpenAccess));
    let cached = app(Arc::new(LocalAuth::new(
        db.clone(),
        Arc::new(SystemClock),
        Arc::new(TokenCache::new(Duration::from_secs(3600), 1000)),
    )));
    let uncached = app(Arc::new(LocalAuth::new(
        db.clone(),
        Arc::new(SystemClock),
        Arc::new(TokenCache::new(Duration::ZERO, 1000)),
    )));
    let (o50, o99) = through(&open, &token, n).await.context("no auth")?;
    let (c50, c99) = through(&cached, &token, n).await.context("cached")?;
    let (u50, u99) = through(&uncached, &token, n).await.context("uncached")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![
        (
            "GET /v1/alarms/summary in-process, no authentication (µs)".into(),
            format!("p50 {o50:.1}, p99 {o99:.1}"),
        ),
        (
            "… with token validation, cache on (µs; added p50)".into(),
            format!("p50 {c50:.1}, p99 {c99:.1} (+{:.1})", c50 - o50),
        ),
        (
            "… with token validation, cache off (µs; added p50)".into(),
            format!("p50 {u50:.1}, p99 {u99:.1} (+{:.1})", u50 - o50),
        ),
    ])
}
