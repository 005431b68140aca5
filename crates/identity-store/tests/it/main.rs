//! Identity stories on every backend: bootstrap, login, validation,
//! revocation, lockout, role changes and the catalog.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The backend harness, every story on a database migrated to this crate's schema.
mod harness {
    pub async fn each_backend<F, Fut>(body: F)
    where
        F: Fn(starling_db::Db) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        starling_db::testing::each_backend(&[starling_identity_store::SCHEMA], body).await
    }
}

use starling_common::Timestamp;
use starling_db::Db;
use starling_identity::ops::{
    self, AuthSettings, BootstrapSpec, DomainRef, LoginOutcome, ScopeRef, ServiceSpec, UserRef,
};
use starling_identity::password::{self, Lockout};
use starling_identity::repo::IdentityRepo;
use starling_identity::{Assignment, Error, Interface, Target, TokenContext};
use starling_identity_store::IdentityStore;

use crate::harness::each_backend;

const T0: i64 = 1_700_000_000_000_000;

fn ts(sec: i64) -> Timestamp {
    Timestamp::from_micros(T0 + sec * 1_000_000)
}

fn spec(hash: &str, fm_url: &str) -> BootstrapSpec {
    BootstrapSpec {
        admin_user: "admin".into(),
        admin_password_hash: Some(hash.into()),
        region: "RegionOne".into(),
        service_users: vec![],
        services: vec![ServiceSpec {
            kind: "faultmanagement".into(),
            name: "fm".into(),
            description: "Fault management".into(),
            urls: Interface::ALL
                .iter()
                .map(|i| (*i, fm_url.to_string()))
                .collect(),
        }],
    }
}

async fn bootstrap(db: &Db, hash: &str, url: &str) -> bool {
    let s = spec(hash, url);
    db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &s, ts(0)))
        .await
        .unwrap()
}

fn admin_scope() -> ScopeRef {
    ScopeRef::ProjectName("admin".into(), DomainRef::Name("Default".into()))
}

/// The full login: read, verify outside any transaction, write.
async fn login(
    db: &Db,
    user: &str,
    pw: &str,
    at: Timestamp,
    s: AuthSettings,
) -> Result<(String, TokenContext), Error> {
    let who = UserRef::Name(user.into(), DomainRef::Id("default".into()));
    let cand = db
        .read(move |c| ops::resolve_login(&mut IdentityStore::new(c), &who, at))
        .await?;
    let ok = password::verify(&cand.password_hash, pw);
    let scope = admin_scope();
    let uid = cand.user_id.clone();
    match db
        .write(move |c| {
            ops::complete_login(&mut IdentityStore::new(c), &uid, ok, Some(&scope), at, s)
        })
        .await?
    {
        LoginOutcome::Issued(t, ctx) => Ok((t, *ctx)),
        LoginOutcome::Refused(e) => Err(e),
    }
}

async fn validate(db: &Db, token: &str, at: Timestamp) -> Result<TokenContext, Error> {
    let t = token.to_string();
    db.read(move |c| ops::validate(&mut IdentityStore::new(c), &t, at))
        .await
}

fn unauthorized(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Unauthorized { public, reason }) => {
            assert_eq!(public, "The request you have made requires authentication.");
            reason
        }
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn bootstrap_login_validate_revoke() {
    let hash = password::hash("Adm1n!pass").unwrap();
    each_backend(|db| {
        let hash = hash.clone();
        async move {
            // Without a hash (the caller found an admin), an empty store is refused
            // and nothing is written.
            let mut s = spec("", "http://127.0.0.1:18002");
            s.admin_password_hash = None;
            let e = db
                .write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &s, ts(0)))
                .await
                .unwrap_err();
            assert!(e.to_string().contains("does not exist"), "{e}");
            let domains = db
                .read(|c| IdentityStore::new(c).domain(starling_identity::DEFAULT_DOMAIN_ID))
                .await
                .unwrap();
            assert!(domains.is_none(), "rolled back");
            assert!(bootstrap(&db, &hash, "http://127.0.0.1:18002").await);
            // Idempotent; a later start moves the endpoint, not the password.
            assert!(!bootstrap(&db, "other", "http://10.0.0.1:18002").await);
            let mut s = spec("", "http://10.0.0.1:18002");
            s.admin_password_hash = None;
            let again = db.write(move |c| ops::bootstrap(&mut IdentityStore::new(c), &s, ts(0)));
            assert!(
                !again.await.unwrap(),
                "no hash needed once the admin exists"
            );
            let (token, ctx) = login(&db, "admin", "Adm1n!pass", ts(1), AuthSettings::default())
                .await
                .unwrap();
            assert_eq!(ctx.project_name(), Some("admin"));
            assert_eq!(ctx.role_names(), vec!["admin"]);
            assert_eq!(ctx.user_domain.name, "Default");
            let v = validate(&db, &token, ts(2)).await.unwrap();
            assert_eq!(v.user.name, "admin");
            // Expiry (one hour by default).
            assert!(unauthorized(validate(&db, &token, ts(3601)).await).contains("expired"));
            // Revocation.
            let t = token.clone();
            db.write(move |c| ops::revoke(&mut IdentityStore::new(c), &t, ts(3)))
                .await
                .unwrap();
            assert!(unauthorized(validate(&db, &token, ts(4)).await).contains("revoked"));
            assert!(unauthorized(validate(&db, "nonsense", ts(4)).await).contains("unknown"));
            // The catalog has the moved endpoint, once per interface.
            let cat = db
                .read(|c| ops::catalog(&mut IdentityStore::new(c)))
                .await
                .unwrap();
            assert_eq!(cat.len(), 1);
            assert_eq!(cat[0].0.kind, "faultmanagement");
            assert_eq!(cat[0].1.len(), 3);
            assert!(cat[0].1.iter().all(|e| e.url == "http://10.0.0.1:18002"));
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_passwords_lock_the_user_out_and_success_resets() {
    let hash = password::hash("Adm1n!pass").unwrap();
    each_backend(|db| {
        let hash = hash.clone();
        async move {
            bootstrap(&db, &hash, "http://127.0.0.1:18002").await;
            let s = AuthSettings {
                lockout: Lockout {
                    max_failures: 3,
                    duration_secs: 60,
                },
                ..AuthSettings::default()
            };
            // Two failures, then a success resets the count.
            for _ in 0..2 {
                let r = login(&db, "admin", "wrong", ts(1), s).await;
                assert!(unauthorized(r).contains("wrong password"));
            }
            login(&db, "admin", "Adm1n!pass", ts(2), s).await.unwrap();
            for _ in 0..2 {
                login(&db, "admin", "wrong", ts(3), s).await.unwrap_err();
            }
            // The third consecutive failure locks.
            let r = login(&db, "admin", "wrong", ts(4), s).await;
            assert!(unauthorized(r).contains("locked out for 60 s"));
            // Even the right password is refused while locked…
            let r = login(&db, "admin", "Adm1n!pass", ts(30), s).await;
            assert!(unauthorized(r).contains("locked out until"));
            // …and accepted after the lock expires.
            login(&db, "admin", "Adm1n!pass", ts(65), s).await.unwrap();
            // An unknown user looks the same to the client.
            let r = login(&db, "nobody", "Adm1n!pass", ts(66), s).await;
            assert!(unauthorized(r).contains("no such user"));
        }
    })
    .await;
}

#[tokio::test]
async fn roles_are_read_at_validation() {
    let hash = password::hash("Adm1n!pass").unwrap();
    each_backend(|db| {
        let hash = hash.clone();
        async move {
            bootstrap(&db, &hash, "http://127.0.0.1:18002").await;
            let (token, ctx) = login(&db, "admin", "Adm1n!pass", ts(1), AuthSettings::default())
                .await
                .unwrap();
            let project = ctx.project.clone().unwrap().0.id;
            let uid = ctx.user.id.clone();
            // Grant reader too: the same token now carries both roles.
            let (p, u) = (project.clone(), uid.clone());
            db.write(move |c| {
                let mut r = IdentityStore::new(c);
                let reader = r.role_by_name("reader")?.unwrap();
                r.grant(&Assignment {
                    role_id: reader.id.clone(),
                    user_id: u.clone(),
                    target: Target::Project(p.clone()),
                })?;
                // Granting twice changes nothing.
                r.grant(&Assignment {
                    role_id: reader.id,
                    user_id: u.clone(),
                    target: Target::Project(p.clone()),
                })
            })
            .await
            .unwrap();
            assert_eq!(
                validate(&db, &token, ts(2)).await.unwrap().role_names(),
                vec!["admin", "reader"]
            );
            // Remove every role on the project: the token stops validating.
            let (p, u) = (project.clone(), uid.clone());
            db.write(move |c| {
                let mut r = IdentityStore::new(c);
                for a in r.assignments(Some(&u), Some(&Target::Project(p.clone())), None)? {
                    assert!(r.ungrant(&a)?);
                }
                Ok::<_, Error>(())
            })
            .await
            .unwrap();
            assert!(
                unauthorized(validate(&db, &token, ts(3)).await).contains("no longer has a role")
            );
            // And a new login to that project is refused.
            let r = login(&db, "admin", "Adm1n!pass", ts(4), AuthSettings::default()).await;
            assert!(unauthorized(r).contains("has no role"));
        }
    })
    .await;
}

#[tokio::test]
async fn names_are_unique_per_domain() {
    each_backend(|db| async move {
        bootstrap(&db, "x", "http://127.0.0.1:18002").await;
        let r = db
            .write(|c| {
                let mut r = IdentityStore::new(c);
                let admin = r.project_by_name("default", "admin")?.unwrap();
                r.insert_project(&starling_identity::Project {
                    id: starling_identity::new_id()?,
                    ..admin
                })
            })
            .await;
        assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}");
    })
    .await;
}

#[tokio::test]
async fn deletes_take_their_assignments_and_tokens_along() {
    use starling_identity::admin::{self, NewProject, NewUser};
    let hash = password::hash("Us3r!pass").unwrap();
    each_backend(|db| {
        let hash = hash.clone();
        async move {
            bootstrap(&db, &hash, "http://127.0.0.1:18002").await;
            let h = hash.clone();
            let (uid, pid, rid) = db
                .write(move |c| {
                    let mut r = IdentityStore::new(c);
                    let u = admin::create_user(
                        &mut r,
                        NewUser {
                            name: "op".into(),
                            password_hash: Some(h.clone()),
                            enabled: true,
                            ..NewUser::default()
                        },
                        ts(0),
                    )?;
                    let p = admin::create_project(
                        &mut r,
                        NewProject {
                            name: "demo".into(),
                            enabled: true,
                            ..NewProject::default()
                        },
                    )?;
                    let role = admin::create_role(&mut r, "auditor".into())?;
                    for role_id in [role.id.clone(), r.role_by_name("reader")?.unwrap().id] {
                        admin::grant(
                            &mut r,
                            &Assignment {
                                role_id,
                                user_id: u.id.clone(),
                                target: Target::Project(p.id.clone()),
                            },
                        )?;
                    }
                    Ok::<_, Error>((u.id, p.id, role.id))
                })
                .await
                .unwrap();
            let count = |db: &Db, u: String| {
                let db = db.clone();
                async move {
                    db.read(move |c| {
                        IdentityStore::new(c)
                            .assignments(Some(&u), None, None)
                            .map(|v| v.len())
                    })
                    .await
                    .unwrap()
                }
            };
            assert_eq!(count(&db, uid.clone()).await, 2);
            // Deleting a role removes its grants.
            let r = rid.clone();
            db.write(move |c| admin::delete_role(&mut IdentityStore::new(c), &r))
                .await
                .unwrap();
            assert_eq!(count(&db, uid.clone()).await, 1);
            // Deleting the project removes the grants on it.
            let p = pid.clone();
            db.write(move |c| admin::delete_project(&mut IdentityStore::new(c), &p))
                .await
                .unwrap();
            assert_eq!(count(&db, uid.clone()).await, 0);
            // Deleting a user removes its tokens; a user cannot delete itself.
            let u = uid.clone();
            let e = db
                .write(move |c| admin::delete_user(&mut IdentityStore::new(c), &u, &u))
                .await;
            assert!(matches!(e, Err(Error::Forbidden(_))));
            let u = uid.clone();
            db.write(move |c| admin::delete_user(&mut IdentityStore::new(c), &u, "someone"))
                .await
                .unwrap();
            let u = uid.clone();
            let left = db
                .read(move |c| IdentityStore::new(c).user(&u))
                .await
                .unwrap();
            assert!(left.is_none());
            // The platform's projects, roles and domain stay.
            let e = db
                .write(|c| {
                    let mut r = IdentityStore::new(c);
                    let p = r.project_by_name("default", "services")?.unwrap();
                    admin::delete_project(&mut r, &p.id)
                })
                .await;
            assert!(matches!(e, Err(Error::Forbidden(_))));
            let e = db
                .write(|c| admin::delete_domain(&mut IdentityStore::new(c), "default"))
                .await;
            assert!(matches!(e, Err(Error::Forbidden(_))));
        }
    })
    .await;
}
