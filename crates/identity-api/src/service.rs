//! Identity as a `starlingd` service: its options (password rules,
//! lockout, the admin password's file), and its start: the records every
//! start makes sure of (the Default domain, projects, roles, the admin and
//! the service accounts, the catalog of the services this process runs),
//! `openrc` in the data directory, and the expired-token purge.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use starling_common::Clock;
use starling_db::Db;
use starling_http::BoxFuture;
use starling_identity::Interface;
use starling_identity::ops::{self, AuthSettings, BootstrapSpec, ServiceSpec};
use starling_identity::password::{Lockout, PasswordRules};
use starling_identity::repo::IdentityRepo;
use starling_identity_store::IdentityStore;
use starling_service::{CatalogEntry, Ctx, Service, Started, Task, parse_duration};

use crate::{IdentityState, boot};

/// Identity's options (`[identity]` in the configuration file).
#[derive(clap::Args, Debug, Clone)]
pub struct IdentityOptions {
    /// Failed logins that lock a user out (0: never).
    #[arg(long, env = "STARLING_LOCKOUT_FAILURES", default_value_t = 5)]
    pub lockout_failures: u32,
    /// How long a lockout lasts.
    #[arg(long, env = "STARLING_LOCKOUT_DURATION", default_value = "30m", value_parser = parse_duration)]
    pub lockout_duration: Duration,
    /// Fewest characters in a password.
    #[arg(long, env = "STARLING_PASSWORD_MIN_LENGTH", default_value_t = 7)]
    pub password_min_length: usize,
    /// Character classes a password needs: any of upper,lower,digit,special, or none.
    #[arg(
        long,
        env = "STARLING_PASSWORD_CLASSES",
        default_value = "upper,lower,digit,special"
    )]
    pub password_classes: String,
    /// File holding the admin password for the first start (the password may
    /// also come from STARLING_ADMIN_PASSWORD); generated into
    /// <data-dir>/admin-password when neither is given.
    #[arg(long, env = "STARLING_ADMIN_PASSWORD_FILE")]
    pub admin_password_file: Option<PathBuf>,
}

impl IdentityOptions {
    /// The password rules these options name.
    pub fn password_rules(&self) -> Result<PasswordRules, String> {
        let mut r = PasswordRules {
            min_length: self.password_min_length,
            upper: false,
            lower: false,
            digit: false,
            special: false,
        };
        for class in self.password_classes.split(',').map(str::trim) {
            match class {
                "upper" => r.upper = true,
                "lower" => r.lower = true,
                "digit" => r.digit = true,
                "special" => r.special = true,
                "none" | "" => {}
                other => {
                    return Err(format!(
                        "unknown password class '{other}': use upper, lower, digit, special or none"
                    ));
                }
            }
        }
        Ok(r)
    }
}

/// The identity service, as `starlingd` lists it.
pub struct IdentityService;

/// The identity service's entry in `starlingd`'s list of services.
pub static SERVICE: IdentityService = IdentityService;

impl Service for IdentityService {
    fn name(&self) -> &'static str {
        "identity"
    }
    fn port(&self) -> Option<u16> {
        Some(crate::DEFAULT_PORT)
    }
    fn catalog(&self) -> Option<CatalogEntry> {
        Some(CatalogEntry {
            service_type: "identity",
            name: "keystone",
            description: "Starling identity service",
            path: "",
        })
    }
    fn schema(&self) -> Option<starling_db::Schema> {
        Some(starling_identity_store::SCHEMA)
    }
    fn service_account(&self) -> Option<&'static str> {
        None
    }
    fn options(&self) -> Vec<clap::Arg> {
        starling_service::args_of::<IdentityOptions>()
    }
    fn start(&self, ctx: Ctx) -> BoxFuture<'static, Result<Started, String>> {
        Box::pin(start(ctx))
    }
}

/// The name of the administrator every start makes sure of.
pub const ADMIN: &str = "admin";

/// Token lifetimes and lockout from the daemon's token lifetime and these
/// options.
pub fn auth_settings(token_ttl: Duration, lockout: Option<&IdentityOptions>) -> AuthSettings {
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let mut s = AuthSettings {
        token_ttl_secs: secs(token_ttl),
        ..AuthSettings::default()
    };
    if let Some(o) = lockout {
        s.lockout = Lockout {
            max_failures: o.lockout_failures,
            duration_secs: secs(o.lockout_duration),
        };
    }
    s
}

async fn start(ctx: Ctx) -> Result<Started, String> {
    let o: IdentityOptions = ctx.options()?;
    let rules = o.password_rules()?;
    let pw = boot::admin_password(
        std::env::var("STARLING_ADMIN_PASSWORD").ok(),
        o.admin_password_file.as_deref(),
        ctx.data_dir.as_deref(),
        &rules,
    )?;
    let admin_exists = ctx
        .db
        .read(|conn| {
            IdentityStore::new(conn).user_by_name(starling_identity::DEFAULT_DOMAIN_ID, ADMIN)
        })
        .await
        .map_err(|e| format!("cannot read the identity tables: {e}"))?
        .is_some();
    // On a first start the admin's password hash (argon2, tens of
    // milliseconds, more than the rest of the start-up) is made on a
    // blocking thread while the daemon starts serving.
    let hash = (!admin_exists).then(|| {
        let secret = pw.secret().to_string();
        tokio::task::spawn_blocking(move || starling_identity::password::hash(&secret))
    });
    let spec = BootstrapSpec {
        admin_user: ADMIN.into(),
        admin_password_hash: None,
        region: ctx.site.region().into(),
        service_users: ctx.service_accounts.iter().map(|a| a.to_string()).collect(),
        services: ctx
            .endpoints
            .iter()
            .map(|e| ServiceSpec {
                kind: e.entry.service_type.into(),
                name: e.entry.name.into(),
                description: e.entry.description.into(),
                urls: Interface::ALL.iter().map(|i| (*i, e.url.clone())).collect(),
            })
            .collect(),
    };
    if let Some(dir) = &ctx.data_dir {
        write_openrc(&ctx, dir, &pw)?;
    }
    let mut st = IdentityState::new(ctx.db.clone(), ctx.clock.clone(), ctx.token_cache.clone());
    st.settings = auth_settings(ctx.token_ttl, Some(&o));
    st.password_rules = rules;
    spawn_token_purge(ctx.db.clone(), ctx.clock.clone());
    let hashing = hash.is_some();
    let boot = bootstrap(ctx.db.clone(), spec, hash, ctx.clock.clone());
    // While the hash is made, logins wait for the accounts; a bootstrap
    // that fails stops the daemon as it would have before serving.
    let mut tasks: Vec<Task> = Vec::new();
    let mut ready = None;
    if hashing {
        let (tx, rx) = tokio::sync::watch::channel(false);
        st.ready = Some(rx.clone());
        tasks.push(Box::pin(async move {
            boot.await?;
            let _ = tx.send(true);
            Ok(())
        }));
        ready = Some(rx);
    } else {
        boot.await?;
    }
    Ok(Started {
        tasks,
        ready,
        ..Started::serving(crate::router(st, ctx.auth))
    })
}

/// The admin's password hash, being computed on a blocking thread.
type AdminHash = tokio::task::JoinHandle<Result<String, starling_identity::Error>>;

/// Writes the records (with the admin account when its hash is given).
fn bootstrap(
    db: Db,
    mut spec: BootstrapSpec,
    hash: Option<AdminHash>,
    clock: Arc<dyn Clock>,
) -> Task {
    Box::pin(async move {
        if let Some(h) = hash {
            spec.admin_password_hash = Some(
                h.await
                    .map_err(|e| format!("hashing failed: {e}"))?
                    .map_err(|e| e.to_string())?,
            );
        }
        let now = clock.now();
        let created = db
            .write(move |conn| ops::bootstrap(&mut IdentityStore::new(conn), &spec, now))
            .await
            .map_err(|e| format!("identity bootstrap failed: {e}"))?;
        if created {
            tracing::info!("identity bootstrapped: user admin in project admin");
        }
        Ok(())
    })
}

/// `openrc` (the admin's credentials for the CLIs) in the data directory.
fn write_openrc(ctx: &Ctx, dir: &std::path::Path, pw: &boot::AdminPassword) -> Result<(), String> {
    let identity_url = ctx
        .endpoints
        .iter()
        .find(|e| e.entry.service_type == "identity")
        .map(|e| e.url.clone())
        .ok_or("identity has no endpoint")?;
    let password_file = match pw {
        boot::AdminPassword::File(_, f) => Some(f.as_path()),
        boot::AdminPassword::Configured(_) => None,
    };
    let rc = boot::openrc(&boot::Openrc {
        auth_url: &format!("{identity_url}/v3"),
        username: ADMIN,
        region: ctx.site.region(),
        password_file,
        cacert: ctx.tls_ca.as_deref(),
    });
    let rc_path = dir.join(boot::OPENRC_FILE);
    starling_service::write_private(&rc_path, &rc).map_err(|e| e.to_string())?;
    tracing::info!(openrc = %rc_path.display(), "credentials: source this file to use the CLIs");
    Ok(())
}

/// Deletes expired tokens every ten minutes.
fn spawn_token_purge(db: Db, clock: Arc<dyn Clock>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let now = clock.now();
            match db
                .write(move |c| IdentityStore::new(c).purge_tokens(now))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired tokens purged"),
                Err(e) => tracing::warn!(error = %e, "token purge failed"),
            }
        }
    });
}
