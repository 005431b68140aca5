//! The client against a real FM API that goes down and comes back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use starling_common::SystemClock;
use starling_db::{Db, Tuning};
use starling_fm::ops::Limits;
use starling_fm_api::{FmState, Paging};
use starling_fm_client::{Config, Delivered, Fault, FmClient};
use starling_http::{Authenticator, OpenAccess};
use tokio::sync::oneshot;

struct Fm {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Fm {
    async fn start(addr: SocketAddr, db_url: &str) -> Fm {
        let db = Db::open(db_url, Tuning::default(), &[starling_fm_store::SCHEMA])
            .await
            .unwrap();
        Fm::start_on(addr, db, Arc::new(OpenAccess)).await
    }

    async fn start_on(addr: SocketAddr, db: Db, auth: Arc<dyn Authenticator>) -> Fm {
        let st = FmState {
            db,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            paging: Paging::default(),
            written: Default::default(),
        };
        let entries = starling_fm::catalogue::parse(starling_fm::catalogue::BUILTIN).unwrap();
        starling_fm_api::sync_catalogue(&st, entries).await.unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let app = starling_fm_api::router(st, auth);
        let task = tokio::spawn(async move {
            starling_http::serve(listener, app, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Fm {
            stop: Some(tx),
            task,
        }
    }
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.await.unwrap();
    }
}

fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], starling_testkit::free_port()))
}

fn fault(aid: &str, eid: &str, sev: &str) -> Fault {
    Fault {
        alarm_id: aid.into(),
        entity_instance_id: eid.into(),
        severity: sev.into(),
        reason_text: format!("{aid} on {eid}"),
        alarm_type: "equipment".into(),
        probable_cause: "unknown".into(),
        suppression: true,
        ..Fault::default()
    }
}

async fn drained(c: &FmClient) {
    for _ in 0..200 {
        if c.queued() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("spool did not drain: {} left", c.queued());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_clears_and_reads_while_fm_is_up() {
    let tmp = starling_testkit::TempDir::new("starling_client_up");
    let dir = tmp.path();
    let addr = free_addr();
    let fm = Fm::start(addr, &format!("sqlite://{}/fm.db", dir.display())).await;
    let c = FmClient::open(Config::new(format!("http://{addr}"), dir.join("spool"))).unwrap();

    let Delivered::Done(u1) = c.set(&fault("100.101", "host=c0", "major")).await.unwrap() else {
        panic!("not delivered")
    };
    assert_eq!(
        c.set(&fault("100.101", "host=c0", "major")).await.unwrap(),
        Delivered::Done(u1.clone())
    );
    let got = c.get("100.101", "host=c0").await.unwrap().unwrap();
    assert_eq!((&*got.uuid, &*got.severity), (u1.as_str(), "major"));

    let Delivered::Done(uuids) = c
        .set_batch(&[
            fault("100.106", "host=c0.port=a", "major"),
            fault("100.106", "host=c01.port=a", "minor"),
        ])
        .await
        .unwrap()
    else {
        panic!("batch not delivered")
    };
    assert_eq!(uuids.len(), 2);
    assert_eq!(
        c.get_all("host=c0").await.unwrap().len(),
        2,
        "boundary-aware subtree"
    );
    assert_eq!(c.get_by_id("100.106").await.unwrap().len(), 2);

    assert_eq!(
        c.clear("100.101", "host=c0").await.unwrap(),
        Delivered::Done(true)
    );
    assert_eq!(
        c.clear("100.101", "host=c0").await.unwrap(),
        Delivered::Done(false)
    );
    assert_eq!(c.clear_all("host=c01").await.unwrap(), Delivered::Done(1));
    c.clear_batch(&[("100.106", "host=c0.port=a"), ("999.999", "host=none")])
        .await
        .unwrap();
    assert!(c.get_all("host=c0").await.unwrap().is_empty());

    let bad = fault("100.101", "host=c0", "loud");
    assert!(
        matches!(c.set(&bad).await, Err(starling_fm_client::ClientError::Rejected(m)) if m.contains("severity"))
    );
    fm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spools_while_fm_is_down_and_replays_in_order() {
    let tmp = starling_testkit::TempDir::new("starling_client_down");
    let dir = tmp.path();
    let addr = free_addr();
    let db_url = format!("sqlite://{}/fm.db", dir.display());
    let mut cfg = Config::new(format!("http://{addr}"), dir.join("spool"));
    cfg.call_timeout = Duration::from_millis(300);
    cfg.max_backoff = Duration::from_millis(200);
    let c = FmClient::open(cfg.clone()).unwrap();

    // FM is down: every mutation returns promptly, queued, in order.
    let started = std::time::Instant::now();
    assert_eq!(
        c.set(&fault("100.101", "host=a", "major")).await.unwrap(),
        Delivered::Queued
    );
    assert_eq!(
        c.clear("100.101", "host=a").await.unwrap(),
        Delivered::Queued
    );
    assert_eq!(
        c.set(&fault("100.101", "host=b", "critical"))
            .await
            .unwrap(),
        Delivered::Queued
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "callers are not held up"
    );
    assert!(
        c.get("100.101", "host=b").await.is_err(),
        "reads fail fast while down"
    );
    assert_eq!(c.queued(), 3);

    // The client process restarts: the spool is on disk.
    drop(c);
    let c = FmClient::open(cfg).unwrap();
    assert_eq!(c.queued(), 3);
    assert_eq!(
        c.set(&fault("200.001", "host=b", "warning")).await.unwrap(),
        Delivered::Queued,
        "order kept behind the spool"
    );

    let fm = Fm::start(addr, &db_url).await;
    drained(&c).await;
    let active: Vec<String> = c
        .get_by_id("100.101")
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.entity_instance_id.into_owned())
        .collect();
    assert_eq!(
        active,
        vec!["host=b"],
        "set a, clear a, set b replayed in order"
    );
    assert!(c.get("200.001", "host=b").await.unwrap().is_some());
    // Back to direct delivery.
    assert!(matches!(
        c.set(&fault("100.101", "host=c", "minor")).await.unwrap(),
        Delivered::Done(_)
    ));
    fm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_as_a_service_and_renews_a_refused_token() {
    use starling_auth::{LocalAuth, LocalIssuer, TokenCache};
    use starling_identity::ops::{self, AuthSettings, BootstrapSpec};
    use starling_identity_store::IdentityStore;

    let tmp = starling_testkit::TempDir::new("starling_client_token");
    let dir = tmp.path();
    let addr = free_addr();
    let db = Db::open(
        &format!("sqlite://{}/fm.db", dir.display()),
        Tuning::default(),
        &[starling_fm_store::SCHEMA, starling_identity_store::SCHEMA],
    )
    .await
    .unwrap();
    let spec = BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some(starling_identity::password::hash("Adm1n!pass").unwrap()),
        region: "RegionOne".into(),
        service_users: vec!["sysinv".into()],
        services: vec![],
    };
    let clock: Arc<dyn starling_common::Clock> = Arc::new(SystemClock);
    let now = clock.now();
    db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &spec, now))
        .await
        .unwrap();
    // No validation cache: a revocation is seen on the next request.
    let cache = Arc::new(TokenCache::new(Duration::ZERO, 10));
    let auth = Arc::new(LocalAuth::new(db.clone(), clock.clone(), cache));
    let fm = Fm::start_on(addr, db.clone(), auth).await;

    let issuer = Arc::new(LocalIssuer::new(
        db.clone(),
        clock.clone(),
        "sysinv",
        AuthSettings::default(),
    ));
    let mut cfg = Config::new(format!("http://{addr}"), dir.join("spool"));
    cfg.token = Some(issuer.clone());
    let c = FmClient::open(cfg).unwrap();
    assert!(matches!(
        c.set(&fault("200.001", "host=w-0", "warning"))
            .await
            .unwrap(),
        Delivered::Done(_)
    ));
    let mut log = fault("200.022", "host=w-0", "critical");
    log.reason_text = "w-0 is administratively locked".into();
    assert_eq!(c.log(&log).await.unwrap(), Delivered::Done(()));

    // The service's token is revoked behind its back: the next call is
    // refused once, the client takes a fresh token and the call goes through.
    let old = issuer.current(false).await.unwrap();
    let t = old.clone();
    db.write(move |c| ops::revoke(&mut IdentityStore::new(c), &t, now))
        .await
        .unwrap();
    assert_eq!(
        c.clear("200.001", "host=w-0").await.unwrap(),
        Delivered::Done(true)
    );
    assert_ne!(issuer.current(false).await.unwrap(), old);

    // Without a token, FM refuses the request itself.
    let anon = FmClient::open(Config::new(format!("http://{addr}"), dir.join("spool2"))).unwrap();
    assert!(matches!(
        anon.set(&fault("200.001", "host=w-1", "warning")).await,
        Err(starling_fm_client::ClientError::Rejected(_))
    ));
    fm.stop().await;
}
