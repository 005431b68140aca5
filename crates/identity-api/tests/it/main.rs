//! Identity API tests through the whole router (guard, in-process
//! validation with its cache, body limit) on a real SQLite store. Storage
//! semantics on every backend are covered by the identity-store crate's conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use starling_auth::{LocalAuth, TokenCache};
use starling_common::{ManualClock, Timestamp};
use starling_db::Db;
use starling_identity::ops::{self, BootstrapSpec, ServiceSpec};
use starling_identity::password::{self, Lockout};
use starling_identity::{Interface, ops::AuthSettings};
use starling_identity_api::{IdentityState, ROUTES, router};
use starling_identity_store::IdentityStore;
use starling_testkit::{self as testkit, TempDir};
use tower::ServiceExt;

const ADMIN_PW: &str = "Adm1n!pass";

struct TestApp {
    app: axum::Router,
    clock: ManualClock,
    _dir: TempDir,
}

async fn app_with(settings: AuthSettings) -> TestApp {
    app_parts(settings, None).await.0
}

/// The app over a fresh store; with `ready`, the bootstrap is left to the
/// caller (the returned closure runs it) and logins wait on `ready`.
async fn app_parts(
    settings: AuthSettings,
    ready: Option<tokio::sync::watch::Receiver<bool>>,
) -> (TestApp, Option<Db>) {
    let dir = TempDir::new("starling_idapi");
    let db = testkit::sqlite(&dir, "t.db", &[starling_identity_store::SCHEMA]).await;
    let clock = ManualClock::new(Timestamp::parse("2026-01-02T03:04:05").unwrap());
    let spec = BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some(password::hash(ADMIN_PW).unwrap()),
        region: "RegionOne".into(),
        service_users: vec![],
        services: vec![
            ServiceSpec {
                kind: "identity".into(),
                name: "keystone".into(),
                description: "Identity".into(),
                urls: Interface::ALL
                    .iter()
                    .map(|i| (*i, "http://127.0.0.1:5000".to_string()))
                    .collect(),
            },
            ServiceSpec {
                kind: "faultmanagement".into(),
                name: "fm".into(),
                description: "Fault management".into(),
                urls: Interface::ALL
                    .iter()
                    .map(|i| (*i, "http://127.0.0.1:18002".to_string()))
                    .collect(),
            },
        ],
    };
    let now = clock.now_ts();
    let deferred = ready.is_some();
    if !deferred {
        db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &spec, now))
            .await
            .unwrap();
    }
    let cache = Arc::new(TokenCache::new(Duration::from_secs(60), 100));
    let mut state = IdentityState::new(db.clone(), Arc::new(clock.clone()), cache.clone());
    state.settings = settings;
    state.ready = ready;
    let auth = Arc::new(LocalAuth::new(db.clone(), Arc::new(clock.clone()), cache));
    (
        TestApp {
            app: router(state, auth),
            clock,
            _dir: dir,
        },
        deferred.then_some(db),
    )
}

trait Now {
    fn now_ts(&self) -> Timestamp;
}
impl Now for ManualClock {
    fn now_ts(&self) -> Timestamp {
        starling_common::Clock::now(self)
    }
}

async fn app() -> TestApp {
    app_with(AuthSettings::default()).await
}

struct Answer {
    status: StatusCode,
    body: Value,
    subject: Option<String>,
    www: Option<String>,
}

impl TestApp {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        subject: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = testkit::request(method, uri);
        if let Some(t) = token {
            req = req.header("x-auth-token", t);
        }
        if let Some(s) = subject {
            req = req.header("x-subject-token", s);
        }
        let body = body.map(|b| b.to_string());
        let a = testkit::send(&self.app, req, body.as_deref()).await;
        Answer {
            status: a.status,
            subject: a.header("x-subject-token"),
            www: a.header("www-authenticate"),
            body: a.body,
        }
    }

    async fn login(&self, user: &str, pw: &str, project: Option<&str>) -> Answer {
        let mut body = json!({"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": "Default"}, "password": pw}}}}});
        if let Some(p) = project {
            body["auth"]["scope"] = json!({"project": {"name": p, "domain": {"name": "Default"}}});
        }
        self.call("POST", "/v3/auth/tokens", None, None, Some(body))
            .await
    }

    async fn admin(&self) -> String {
        let a = self.login("admin", ADMIN_PW, Some("admin")).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.subject.unwrap()
    }
}

fn password_login(user: &str, pw: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": {"name": "Default"}, "password": pw}}}}})
}

fn message(a: &Answer) -> String {
    a.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn discovery_documents_are_anonymous() {
    let t = app().await;
    let a = t.call("GET", "/", None, None, None).await;
    assert_eq!(a.status, StatusCode::MULTIPLE_CHOICES);
    assert_eq!(a.body["versions"]["values"][0]["id"], "v3.14");
    let a = t.call("GET", "/v3", None, None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["version"]["status"], "stable");
    assert!(
        a.body["version"]["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/v3/")
    );
}

#[tokio::test]
async fn password_login_issues_a_scoped_token_with_the_catalog() {
    let t = app().await;
    let a = t.login("admin", ADMIN_PW, Some("admin")).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let token = a.subject.clone().unwrap();
    assert_eq!(token.len(), 64);
    let tk = &a.body["token"];
    assert_eq!(tk["methods"], json!(["password"]));
    assert_eq!(tk["user"]["name"], "admin");
    assert_eq!(tk["user"]["domain"]["name"], "Default");
    assert_eq!(tk["project"]["name"], "admin");
    assert_eq!(tk["project"]["domain"]["id"], "default");
    assert_eq!(tk["roles"][0]["name"], "admin");
    assert_eq!(tk["expires_at"], "2026-01-02T04:04:05.000000Z");
    let cat = tk["catalog"].as_array().unwrap();
    let fm = cat.iter().find(|s| s["type"] == "faultmanagement").unwrap();
    assert_eq!(fm["endpoints"].as_array().unwrap().len(), 3);
    assert_eq!(fm["endpoints"][0]["region_id"], "RegionOne");
    assert_eq!(fm["endpoints"][0]["url"], "http://127.0.0.1:18002");

    // ?nocatalog leaves it out; a domain scope has no project.
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": "admin", "domain": {"id": "default"}, "password": ADMIN_PW}}},
        "scope": {"domain": {"name": "Default"}}}});
    let a = t
        .call("POST", "/v3/auth/tokens?nocatalog", None, None, Some(body))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert!(a.body["token"].get("catalog").is_none());
    assert_eq!(a.body["token"]["domain"]["name"], "Default");
    assert!(a.body["token"].get("project").is_none());

    // No scope: the user's default project.
    let a = t.login("admin", ADMIN_PW, None).await;
    assert_eq!(a.body["token"]["project"]["name"], "admin");

    // Rescoping with the token method keeps the expiry.
    t.clock.advance_secs(60);
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
        "scope": {"project": {"name": "services", "domain": {"id": "default"}}}}});
    let a = t
        .call("POST", "/v3/auth/tokens", None, None, Some(body))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "no role on services");
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
        "scope": {"domain": {"id": "default"}}}});
    let a = t
        .call("POST", "/v3/auth/tokens", None, None, Some(body))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["token"]["methods"], json!(["token"]));
    assert_eq!(a.body["token"]["expires_at"], "2026-01-02T04:04:05.000000Z");
}

#[tokio::test]
async fn refusals_never_say_which_part_was_wrong() {
    let t = app().await;
    let wrong_pw = t.login("admin", "Wrong!pass1", Some("admin")).await;
    let no_user = t.login("nobody", ADMIN_PW, Some("admin")).await;
    let no_project = t.login("admin", ADMIN_PW, Some("nowhere")).await;
    for a in [&wrong_pw, &no_user, &no_project] {
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.body["error"]["code"], 401);
        assert_eq!(a.body["error"]["title"], "Unauthorized");
        assert_eq!(
            message(a),
            "The request you have made requires authentication."
        );
        assert!(a.www.as_deref().unwrap().starts_with("Keystone uri="));
        assert!(a.subject.is_none());
    }
}

#[tokio::test]
async fn malformed_login_bodies_are_400() {
    let t = app().await;
    let bad = [
        json!({}),
        json!({"auth": "x"}),
        json!({"auth": {"identity": {"methods": "password"}}}),
        json!({"auth": {"identity": {"methods": []}}}),
        json!({"auth": {"identity": {"methods": ["totp"]}}}),
        json!({"auth": {"identity": {"methods": ["password"]}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "x"}}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 5, "domain": {"id": "default"}, "password": "x"}}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "x"}}},
               "scope": {"system": {"all": true}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": "x"}}},
               "scope": {"project": {"name": "admin"}}}}),
    ];
    for b in bad {
        let a = t
            .call("POST", "/v3/auth/tokens", None, None, Some(b.clone()))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{b} → {}", a.body);
        assert_eq!(a.body["error"]["code"], 400);
    }
    // Not JSON at all.
    let req = Request::builder()
        .method("POST")
        .uri("/v3/auth/tokens")
        .body(Body::from("{auth"))
        .unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Oversized.
    let huge = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "x".repeat(200_000)}}}}});
    let a = t
        .call("POST", "/v3/auth/tokens", None, None, Some(huge))
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A huge token is refused without a lookup.
    let a = t
        .call("GET", "/v3/users", Some(&"a".repeat(10_000)), None, None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn lockout_after_repeated_failures() {
    let t = app_with(AuthSettings {
        token_ttl_secs: 3600,
        lockout: Lockout {
            max_failures: 2,
            duration_secs: 300,
        },
    })
    .await;
    for _ in 0..2 {
        let a = t.login("admin", "Wrong!pass1", Some("admin")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = t.login("admin", ADMIN_PW, Some("admin")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "locked out");
    assert_eq!(
        message(&a),
        "The request you have made requires authentication."
    );
    t.clock.advance_secs(301);
    let a = t.login("admin", ADMIN_PW, Some("admin")).await;
    assert_eq!(a.status, StatusCode::CREATED, "lockout over");
}

#[tokio::test]
async fn validate_check_and_revoke() {
    let t = app().await;
    let admin = t.admin().await;
    let other = t.admin().await;
    // Validate another token as admin, and one's own.
    let a = t
        .call("GET", "/v3/auth/tokens", Some(&admin), Some(&other), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.subject.as_deref(), Some(other.as_str()));
    assert_eq!(a.body["token"]["user"]["name"], "admin");
    let a = t
        .call("HEAD", "/v3/auth/tokens", Some(&other), Some(&other), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = t
        .call(
            "GET",
            "/v3/auth/tokens",
            Some(&admin),
            Some("nonsense"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = t
        .call("GET", "/v3/auth/tokens", Some(&admin), None, None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Revoke: 204, then the token is gone at once (the cache is evicted).
    let a = t.call("GET", "/v3/users", Some(&other), None, None).await;
    assert_eq!(a.status, StatusCode::OK, "cached as valid");
    let a = t
        .call(
            "DELETE",
            "/v3/auth/tokens",
            Some(&admin),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = t.call("GET", "/v3/users", Some(&other), None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = t
        .call("GET", "/v3/auth/tokens", Some(&admin), Some(&other), None)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = t
        .call(
            "DELETE",
            "/v3/auth/tokens",
            Some(&admin),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Expiry.
    t.clock.advance_secs(3601);
    let a = t.call("GET", "/v3/users", Some(&admin), None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_projects_and_roles_for_admins() {
    let t = app().await;
    let admin = t.admin().await;
    let post = |path: &'static str, body: Value| {
        let admin = admin.clone();
        let t = &t;
        async move { t.call("POST", path, Some(&admin), None, Some(body)).await }
    };
    // Password rules.
    let a = post(
        "/v3/users",
        json!({"user": {"name": "op", "password": "short"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(message(&a).contains("at least 7 characters"), "{}", a.body);
    let a = post(
        "/v3/users",
        json!({"user": {"name": "op", "password": "Op3rator!", "domain_id": "default",
                        "email": "op@example.com", "extra": "ignored"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let op_id = a.body["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(a.body["user"]["email"], "op@example.com");
    assert!(a.body["user"].get("password").is_none());
    let a = post(
        "/v3/users",
        json!({"user": {"name": "op", "password": "Op3rator!"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let a = post("/v3/projects", json!({"project": {"name": "demo"}})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let demo = a.body["project"]["id"].as_str().unwrap().to_string();
    assert_eq!(a.body["project"]["domain_id"], "default");

    // No role yet: no scoped login.
    let a = t.login("op", "Op3rator!", Some("demo")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let roles = t
        .call("GET", "/v3/roles?name=reader", Some(&admin), None, None)
        .await;
    let reader = roles.body["roles"][0]["id"].as_str().unwrap().to_string();
    let grant = format!("/v3/projects/{demo}/users/{op_id}/roles/{reader}");
    let a = t.call("PUT", &grant, Some(&admin), None, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = t.call("HEAD", &grant, Some(&admin), None, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = t
        .call(
            "GET",
            &format!("/v3/role_assignments?user.id={op_id}&include_names"),
            Some(&admin),
            None,
            None,
        )
        .await;
    let ra = &a.body["role_assignments"][0];
    assert_eq!(ra["role"]["name"], "reader");
    assert_eq!(ra["scope"]["project"]["name"], "demo");
    assert_eq!(ra["user"]["name"], "op");

    let a = t.login("op", "Op3rator!", Some("demo")).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let op = a.subject.unwrap();
    assert_eq!(a.body["token"]["roles"][0]["name"], "reader");
    // A reader is not an identity admin.
    let a = t.call("GET", "/v3/users", Some(&op), None, None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        message(&a),
        "Policy doesn't allow identity:list_users to be performed."
    );
    // But sees its own projects and the catalog.
    let a = t
        .call("GET", "/v3/auth/projects", Some(&op), None, None)
        .await;
    assert_eq!(a.body["projects"][0]["name"], "demo");
    let a = t
        .call("GET", "/v3/auth/catalog", Some(&op), None, None)
        .await;
    assert_eq!(a.body["catalog"].as_array().unwrap().len(), 2);
    // And may not validate the admin's token.
    let a = t
        .call("GET", "/v3/auth/tokens", Some(&op), Some(&admin), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Removing the role ends the token's use at once.
    let a = t.call("DELETE", &grant, Some(&admin), None, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = t
        .call("GET", "/v3/auth/projects", Some(&op), None, None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = t.call("DELETE", &grant, Some(&admin), None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // A password change revokes the user's tokens; the old password fails.
    t.call("PUT", &grant, Some(&admin), None, None).await;
    let tok = t
        .login("op", "Op3rator!", Some("demo"))
        .await
        .subject
        .unwrap();
    let a = t
        .call(
            "PATCH",
            &format!("/v3/users/{op_id}"),
            Some(&admin),
            None,
            Some(json!({"user": {"password": "N3w!passw"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = t
        .call("GET", "/v3/auth/projects", Some(&tok), None, None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        t.login("op", "Op3rator!", Some("demo")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.login("op", "N3w!passw", Some("demo")).await.status,
        StatusCode::CREATED
    );

    // The platform's own records are protected; deleting others works.
    let admin_user = t
        .call("GET", "/v3/users?name=admin", Some(&admin), None, None)
        .await;
    let admin_id = admin_user.body["users"][0]["id"].as_str().unwrap();
    let a = t
        .call(
            "DELETE",
            &format!("/v3/users/{admin_id}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let projects = t
        .call("GET", "/v3/projects?name=admin", Some(&admin), None, None)
        .await;
    let admin_proj = projects.body["projects"][0]["id"].as_str().unwrap();
    let a = t
        .call(
            "DELETE",
            &format!("/v3/projects/{admin_proj}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = t
        .call(
            "DELETE",
            &format!("/v3/roles/{reader}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = t
        .call(
            "DELETE",
            &format!("/v3/users/{op_id}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = t
        .call(
            "GET",
            &format!("/v3/role_assignments?user.id={op_id}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.body["role_assignments"], json!([]));
    let a = t
        .call(
            "PATCH",
            &format!("/v3/users/{op_id}"),
            Some(&admin),
            None,
            Some(json!({"user": {"enabled": "yes"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn catalog_administration() {
    let t = app().await;
    let admin = t.admin().await;
    let a = t
        .call(
            "POST",
            "/v3/services",
            Some(&admin),
            None,
            Some(json!({"service": {"type": "platform", "name": "sysinv"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let sid = a.body["service"]["id"].as_str().unwrap().to_string();
    let a = t
        .call(
            "POST",
            "/v3/endpoints",
            Some(&admin),
            None,
            Some(
                json!({"endpoint": {"service_id": sid, "interface": "internal",
                "region_id": "RegionTwo", "url": "http://10.0.0.2:6385/v1"}}),
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let eid = a.body["endpoint"]["id"].as_str().unwrap().to_string();
    for bad in [
        json!({"endpoint": {"service_id": sid, "interface": "sideways", "url": "http://x"}}),
        json!({"endpoint": {"service_id": sid, "interface": "public", "url": "ftp://x"}}),
        json!({"endpoint": {"service_id": "nope", "interface": "public", "url": "http://x"}}),
    ] {
        let a = t
            .call("POST", "/v3/endpoints", Some(&admin), None, Some(bad))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    }
    let a = t
        .call(
            "GET",
            &format!("/v3/endpoints?service_id={sid}&interface=internal"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.body["endpoints"].as_array().unwrap().len(), 1);
    let a = t.call("GET", "/v3/regions", Some(&admin), None, None).await;
    let regions: Vec<&str> = a.body["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(regions, vec!["RegionOne", "RegionTwo"]);
    let a = t
        .call(
            "PATCH",
            &format!("/v3/endpoints/{eid}"),
            Some(&admin),
            None,
            Some(json!({"endpoint": {"url": "http://10.0.0.3:6385/v1"}})),
        )
        .await;
    assert_eq!(a.body["endpoint"]["url"], "http://10.0.0.3:6385/v1");
    let a = t
        .call(
            "DELETE",
            &format!("/v3/services/{sid}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = t
        .call(
            "GET",
            &format!("/v3/endpoints/{eid}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "endpoints go with it");
}

#[tokio::test]
async fn every_route_is_guarded() {
    let t = app().await;
    for (method, path, policy) in ROUTES {
        let uri = path
            .replace("{id}", "x")
            .replace("{user}", "u")
            .replace("{role}", "r");
        let body = matches!(method.as_str(), "POST" | "PATCH").then(|| json!({}));
        let a = t.call(method.as_str(), &uri, None, None, body).await;
        match policy {
            Some(_) => assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} answered without a token"
            ),
            None => assert_ne!(a.status, StatusCode::UNAUTHORIZED, "{method} {path}"),
        }
    }
    let a = t.call("GET", "/v3/nothing", None, None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

/// A method a path lacks is 405 with `Allow` in Keystone's envelope.
#[tokio::test]
async fn a_method_the_path_lacks_is_405_with_allow() {
    let t = app().await;
    let admin = t.admin().await;
    let a = t
        .call("PATCH", "/v3/roles/x", Some(&admin), None, Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{}", a.body);
    assert_eq!(a.body["error"]["code"], 405, "{}", a.body);
    let r = testkit::send(&t.app, testkit::request("OPTIONS", "/v3/auth/tokens"), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.header("allow").as_deref(),
        Some("GET, HEAD, POST, DELETE")
    );
}

/// The served document is the generated one, and it names exactly the
/// routes: every route of the table is an operation of the document and
/// every operation is routed (an admin's call is never the router's
/// fallback nor 405).
#[tokio::test]
async fn the_document_is_generated_and_names_exactly_the_routes() {
    use starling_http::openapi::{check_snapshot, dangling_refs, operations, route_operations};
    let doc = starling_identity_api::openapi::generate();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if let Err(e) = check_snapshot(&doc, file, starling_identity_api::openapi::DOCUMENT) {
        panic!("{e}");
    }
    assert_eq!(operations(&doc), route_operations(ROUTES));
    assert_eq!(dangling_refs(&doc), Vec::<String>::new());
    let nullable = &doc["components"]["schemas"]["User"]["properties"]["password_expires_at"];
    assert_eq!(nullable["type"], json!(["string", "null"]), "{nullable}");
    let t = app().await;
    let admin = t.admin().await;
    for (m, p) in operations(&doc) {
        let uri = p
            .replace("{id}", "x")
            .replace("{user}", "u")
            .replace("{role}", "r");
        let body = matches!(m.as_str(), "POST" | "PATCH").then(|| json!({}));
        let a = t.call(&m, &uri, Some(&admin), None, body).await;
        assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {p}");
        let message = a.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.starts_with("The resource could not be found"),
            "{m} {p} is not routed: {}",
            a.body
        );
    }
    let served = t.call("GET", "/openapi.json", None, None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, doc);
}

/// A first start serves before its accounts exist (the admin's password is
/// hashed beside serving): a login that arrives meanwhile waits and then
/// succeeds; if the accounts can never be made, it is refused as unavailable.
#[tokio::test]
async fn a_login_before_the_bootstrap_waits_for_it() {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (t, db) = app_parts(AuthSettings::default(), Some(rx)).await;
    let db = db.unwrap();
    let app = t.app.clone();
    let login = tokio::spawn(async move {
        let req = Request::builder()
            .method("POST")
            .uri("/v3/auth/tokens")
            .header("content-type", "application/json")
            .body(Body::from(password_login("admin", ADMIN_PW).to_string()))
            .unwrap();
        app.oneshot(req).await.unwrap().status()
    });
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert!(!login.is_finished(), "a login must wait for the bootstrap");
    // Alive and its database up, not ready: the health endpoints say which.
    let h = t.call("GET", "/health", None, None, None).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    assert_eq!(h.body["checks"]["database"], "ok");
    let r = t.call("GET", "/health/ready", None, None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(
        r.body["checks"]["bootstrap"],
        "the first records are still being written"
    );
    assert_eq!(
        t.call("GET", "/health/live", None, None, None).await.status,
        StatusCode::OK
    );
    let spec = BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some(password::hash(ADMIN_PW).unwrap()),
        region: "RegionOne".into(),
        service_users: vec![],
        services: vec![],
    };
    let now = t.clock.now_ts();
    db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &spec, now))
        .await
        .unwrap();
    tx.send(true).unwrap();
    assert_eq!(login.await.unwrap(), StatusCode::CREATED);
    let r = t.call("GET", "/health/ready", None, None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let (tx, rx) = tokio::sync::watch::channel(false);
    let (t, _db) = app_parts(AuthSettings::default(), Some(rx)).await;
    drop(tx); // the bootstrap failed
    let a = t
        .call(
            "POST",
            "/v3/auth/tokens",
            None,
            None,
            Some(password_login("admin", ADMIN_PW)),
        )
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
}

/// The admin and services projects are the bootstrap's, in the Default
/// domain: an admin of a project named admin in another domain is no
/// cloud admin (StarlingX matched the name in any domain).
#[tokio::test]
async fn an_admin_project_of_another_domain_grants_nothing() {
    let t = app().await;
    let admin = t.admin().await;
    let post = |path: &'static str, body: Value| {
        let admin = admin.clone();
        let t = &t;
        async move { t.call("POST", path, Some(&admin), None, Some(body)).await }
    };
    let dom = post("/v3/domains", json!({"domain": {"name": "other"}})).await;
    assert_eq!(dom.status, StatusCode::CREATED, "{}", dom.body);
    let did = dom.body["domain"]["id"].as_str().unwrap().to_string();
    let proj = post(
        "/v3/projects",
        json!({"project": {"name": "admin", "domain_id": did}}),
    )
    .await;
    assert_eq!(proj.status, StatusCode::CREATED, "{}", proj.body);
    let pid = proj.body["project"]["id"].as_str().unwrap().to_string();
    let user = post(
        "/v3/users",
        json!({"user": {"name": "op", "domain_id": did, "password": "Other!pass1"}}),
    )
    .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    let uid = user.body["user"]["id"].as_str().unwrap().to_string();
    let roles = t
        .call("GET", "/v3/roles?name=admin", Some(&admin), None, None)
        .await;
    let rid = roles.body["roles"][0]["id"].as_str().unwrap().to_string();
    let g = t
        .call(
            "PUT",
            &format!("/v3/projects/{pid}/users/{uid}/roles/{rid}"),
            Some(&admin),
            None,
            None,
        )
        .await;
    assert_eq!(g.status, StatusCode::NO_CONTENT, "{}", g.body);
    let login = t
        .call(
            "POST",
            "/v3/auth/tokens",
            None,
            None,
            Some(
                json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "op", "domain": {"name": "other"}, "password": "Other!pass1"}}},
                "scope": {"project": {"name": "admin", "domain": {"name": "other"}}}}}),
            ),
        )
        .await;
    assert_eq!(login.status, StatusCode::CREATED, "{}", login.body);
    let op = login.subject.unwrap();
    // An identity admin's write, and another user's token: both refused.
    let a = t
        .call(
            "POST",
            "/v3/users",
            Some(&op),
            None,
            Some(json!({"user": {"name": "sneak", "password": "Sn3ak!pass"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = t
        .call("GET", "/v3/auth/tokens", Some(&op), Some(&admin), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    // Its own token it may still validate.
    let a = t
        .call("GET", "/v3/auth/tokens", Some(&op), Some(&op), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}
