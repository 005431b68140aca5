//! Identity rules over an [`IdentityRepo`]: bootstrap, login, token
//! validation and revocation, and the checks the CRUD operations share.
//!
//! Each function runs inside one storage transaction. Password hashing and
//! verification are not done here: they are deliberately slow, so callers do
//! them outside the transaction (see [`resolve_login`] / [`complete_login`]).

use starling_common::Timestamp;

use crate::model::*;
use crate::password::Lockout;
use crate::repo::IdentityRepo;
use crate::{Error, token};

/// A domain named by id or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainRef {
    /// By id.
    Id(String),
    /// By name.
    Name(String),
}

/// A user named by id, or by name within a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// By id.
    Id(String),
    /// By name in a domain.
    Name(String, DomainRef),
}

/// What a login asks to be scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeRef {
    /// A project by id.
    ProjectId(String),
    /// A project by name in a domain.
    ProjectName(String, DomainRef),
    /// A domain.
    Domain(DomainRef),
}

fn find_domain(repo: &mut dyn IdentityRepo, d: &DomainRef) -> Result<Option<Domain>, Error> {
    match d {
        DomainRef::Id(id) => repo.domain(id),
        DomainRef::Name(n) => repo.domain_by_name(n),
    }
}

fn find_user(repo: &mut dyn IdentityRepo, u: &UserRef) -> Result<Option<User>, Error> {
    match u {
        UserRef::Id(id) => repo.user(id),
        UserRef::Name(name, d) => match find_domain(repo, d)? {
            Some(dom) => repo.user_by_name(&dom.id, name),
            None => Ok(None),
        },
    }
}

/// The part of a login that reads: who the user is and the hash to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginCandidate {
    /// The user's id.
    pub user_id: String,
    /// The stored argon2id hash.
    pub password_hash: String,
}

/// First half of a password login: finds an enabled, not locked-out user with
/// a password. Every refusal is the same [`Error::Unauthorized`] to the client.
pub fn resolve_login(
    repo: &mut dyn IdentityRepo,
    who: &UserRef,
    now: Timestamp,
) -> Result<LoginCandidate, Error> {
    let user = find_user(repo, who)?.ok_or_else(|| Error::unauthorized("no such user"))?;
    let domain = repo
        .domain(&user.domain_id)?
        .ok_or_else(|| Error::unauthorized("the user's domain is gone"))?;
    if !user.enabled || !domain.enabled {
        return Err(Error::unauthorized(format!("user {} is disabled", user.id)));
    }
    if let Some(until) = user.locked_until
        && until > now
    {
        return Err(Error::unauthorized(format!(
            "user {} is locked out until {} after repeated failed logins",
            user.id,
            until.to_iso_utc()
        )));
    }
    let password_hash = user
        .password_hash
        .clone()
        .ok_or_else(|| Error::unauthorized(format!("user {} has no password", user.id)))?;
    Ok(LoginCandidate {
        user_id: user.id,
        password_hash,
    })
}

/// How a login ended. A failed login still commits (it counts towards the
/// lockout), so it is an `Ok` value the caller turns into a 401.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A new token: the bearer string (shown once) and what it stands for.
    Issued(String, Box<TokenContext>),
    /// Refused; the error says why (publicly and for the log).
    Refused(Error),
}

/// Token lifetime and lockout settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthSettings {
    /// Token lifetime in seconds (default one hour).
    pub token_ttl_secs: i64,
    /// Lockout after failed logins.
    pub lockout: Lockout,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            token_ttl_secs: 3600,
            lockout: Lockout::default(),
        }
    }
}

/// Second half of a password login, after the hash was checked: records the
/// attempt (failures count towards a lockout), resolves the scope and issues
/// a token.
pub fn complete_login(
    repo: &mut dyn IdentityRepo,
    user_id: &str,
    password_ok: bool,
    scope: Option<&ScopeRef>,
    now: Timestamp,
    settings: AuthSettings,
) -> Result<LoginOutcome, Error> {
    let Some(mut user) = repo.user(user_id)? else {
        return Ok(LoginOutcome::Refused(Error::unauthorized(
            "user deleted during login",
        )));
    };
    if let Some(until) = user.locked_until
        && until > now
    {
        return Ok(LoginOutcome::Refused(Error::unauthorized(format!(
            "user {} is locked out",
            user.id
        ))));
    }
    if !password_ok {
        user.failed_logins = user.failed_logins.saturating_add(1);
        let lock = settings.lockout;
        let mut reason = format!("wrong password for user {}", user.id);
        if lock.max_failures > 0 && user.failed_logins >= lock.max_failures {
            user.locked_until = Some(now.plus_micros(lock.duration_secs.saturating_mul(1_000_000)));
            user.failed_logins = 0;
            reason = format!(
                "wrong password for user {}; locked out for {} s after {} failures",
                user.id, lock.duration_secs, lock.max_failures
            );
        }
        repo.update_user(&user)?;
        return Ok(LoginOutcome::Refused(Error::unauthorized(reason)));
    }
    if user.failed_logins != 0 || user.locked_until.is_some() {
        user.failed_logins = 0;
        user.locked_until = None;
        repo.update_user(&user)?;
    }
    let target = match resolve_scope(repo, &user, scope)? {
        Ok(t) => t,
        Err(e) => return Ok(LoginOutcome::Refused(e)),
    };
    let (bearer, hash) = token::generate()?;
    let rec = TokenRecord {
        hash,
        user_id: user.id.clone(),
        scope: target,
        issued_at: now,
        expires_at: now.plus_micros(settings.token_ttl_secs.max(1).saturating_mul(1_000_000)),
        audit_id: token::audit_id()?,
        revoked: false,
    };
    repo.insert_token(&rec)?;
    match context(repo, rec, now)? {
        Ok(ctx) => Ok(LoginOutcome::Issued(bearer, Box::new(ctx))),
        Err(e) => Ok(LoginOutcome::Refused(e)),
    }
}

/// A login with the token method: a valid token is exchanged for a new one
/// of the same user with `scope` (Keystone's rescoping). The new token
/// expires when the old one does, so rescoping never extends a session.
pub fn rescope(
    repo: &mut dyn IdentityRepo,
    bearer: &str,
    scope: Option<&ScopeRef>,
    now: Timestamp,
) -> Result<LoginOutcome, Error> {
    let old = match validate(repo, bearer, now) {
        Ok(ctx) => ctx,
        Err(e @ Error::Unauthorized { .. }) => return Ok(LoginOutcome::Refused(e)),
        Err(e) => return Err(e),
    };
    let target = match resolve_scope(repo, &old.user, scope)? {
        Ok(t) => t,
        Err(e) => return Ok(LoginOutcome::Refused(e)),
    };
    let (bearer, hash) = token::generate()?;
    let rec = TokenRecord {
        hash,
        user_id: old.user.id.clone(),
        scope: target,
        issued_at: now,
        expires_at: old.token.expires_at,
        audit_id: token::audit_id()?,
        revoked: false,
    };
    repo.insert_token(&rec)?;
    match context(repo, rec, now)? {
        Ok(ctx) => Ok(LoginOutcome::Issued(bearer, Box::new(ctx))),
        Err(e) => Ok(LoginOutcome::Refused(e)),
    }
}

/// The target a login asked for (or the user's default project), checked:
/// it exists, is enabled, and the user has a role on it. The inner `Err` is a
/// refusal to report as 401.
fn resolve_scope(
    repo: &mut dyn IdentityRepo,
    user: &User,
    scope: Option<&ScopeRef>,
) -> Result<Result<Option<Target>, Error>, Error> {
    let target = match scope {
        None => match &user.default_project_id {
            Some(p) if repo.project(p)?.is_some_and(|p| p.enabled) => Target::Project(p.clone()),
            _ => return Ok(Ok(None)),
        },
        Some(ScopeRef::ProjectId(id)) => match repo.project(id)? {
            Some(p) => Target::Project(p.id),
            None => return Ok(Err(Error::unauthorized(format!("no project {id}")))),
        },
        Some(ScopeRef::ProjectName(name, d)) => {
            let p = match find_domain(repo, d)? {
                Some(dom) => repo.project_by_name(&dom.id, name)?,
                None => None,
            };
            match p {
                Some(p) => Target::Project(p.id),
                None => return Ok(Err(Error::unauthorized(format!("no project {name}")))),
            }
        }
        Some(ScopeRef::Domain(d)) => match find_domain(repo, d)? {
            Some(dom) => Target::Domain(dom.id),
            None => return Ok(Err(Error::unauthorized("no such domain"))),
        },
    };
    if repo.roles_on(&user.id, &target)?.is_empty() {
        return Ok(Err(Error::unauthorized(format!(
            "user {} has no role on {target:?}",
            user.id
        ))));
    }
    Ok(Ok(Some(target)))
}

/// Everything a token stands for, checked now. The inner `Err` is why the
/// token is not (or no longer) valid.
fn context(
    repo: &mut dyn IdentityRepo,
    token: TokenRecord,
    now: Timestamp,
) -> Result<Result<TokenContext, Error>, Error> {
    if token.revoked {
        return Ok(Err(Error::unauthorized(format!(
            "token {} is revoked",
            token.audit_id
        ))));
    }
    if token.expires_at <= now {
        return Ok(Err(Error::unauthorized(format!(
            "token {} expired",
            token.audit_id
        ))));
    }
    let Some(user) = repo.user(&token.user_id)? else {
        return Ok(Err(Error::unauthorized("the token's user is gone")));
    };
    let Some(user_domain) = repo.domain(&user.domain_id)? else {
        return Ok(Err(Error::unauthorized("the token's user domain is gone")));
    };
    if !user.enabled || !user_domain.enabled {
        return Ok(Err(Error::unauthorized(format!(
            "user {} is disabled",
            user.id
        ))));
    }
    let (mut project, mut domain) = (None, None);
    match &token.scope {
        None => {}
        Some(Target::Project(id)) => {
            let p = repo.project(id)?.filter(|p| p.enabled);
            let d = match &p {
                Some(p) => repo.domain(&p.domain_id)?.filter(|d| d.enabled),
                None => None,
            };
            match (p, d) {
                (Some(p), Some(d)) => project = Some((p, d)),
                _ => {
                    return Ok(Err(Error::unauthorized(
                        "the token's project is gone or disabled",
                    )));
                }
            }
        }
        Some(Target::Domain(id)) => match repo.domain(id)?.filter(|d| d.enabled) {
            Some(d) => domain = Some(d),
            None => {
                return Ok(Err(Error::unauthorized(
                    "the token's domain is gone or disabled",
                )));
            }
        },
    }
    let mut roles = Vec::new();
    if let Some(t) = &token.scope {
        roles = repo.roles_on(&user.id, t)?;
        if roles.is_empty() {
            return Ok(Err(Error::unauthorized(
                "the user no longer has a role on the token's scope",
            )));
        }
    }
    Ok(Ok(TokenContext {
        token,
        user,
        user_domain,
        project,
        domain,
        roles,
    }))
}

/// Validates a bearer string: it must be a live, unrevoked token whose user,
/// domain and scope are still enabled.
pub fn validate(
    repo: &mut dyn IdentityRepo,
    bearer: &str,
    now: Timestamp,
) -> Result<TokenContext, Error> {
    if bearer.is_empty() || bearer.len() > token::MAX_TOKEN_LEN {
        return Err(Error::unauthorized("malformed token"));
    }
    let rec = repo
        .token(&token::hash_of(bearer))?
        .ok_or_else(|| Error::unauthorized("unknown token"))?;
    context(repo, rec, now)?
}

/// Revokes a token; 404 when it is not a live token.
pub fn revoke(repo: &mut dyn IdentityRepo, bearer: &str, now: Timestamp) -> Result<(), Error> {
    let h = token::hash_of(bearer);
    match repo.token(&h)? {
        Some(t) if !t.revoked && t.expires_at > now => {
            repo.revoke_token(&h)?;
            Ok(())
        }
        _ => Err(Error::not_found("Could not find token.")),
    }
}

/// One Starling service to list in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Service type.
    pub kind: String,
    /// Service name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// URL per interface.
    pub urls: Vec<(Interface, String)>,
}

/// What bootstrap ensures exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapSpec {
    /// The admin user's name (`admin`).
    pub admin_user: String,
    /// The admin's argon2id hash, used only when the user is created. `None`
    /// when the caller found the user already there (hashing costs ~25 ms of CPU
    /// and 19 MiB, on every start otherwise): bootstrap then refuses to create it.
    pub admin_password_hash: Option<String>,
    /// The region the endpoints belong to.
    pub region: String,
    /// The services running in this process, with their URLs.
    pub services: Vec<ServiceSpec>,
    /// Accounts of services that call other services in-process (StarlingX:
    /// `sysinv`, `mtce`, …): created without a password (they cannot log in
    /// over the wire) with role admin on project services; tokens are issued
    /// to them by [`issue_for_service`].
    pub service_users: Vec<String>,
}

/// Ensures the Default domain, the admin and services projects, the
/// bootstrap roles, the admin user with role admin on project admin, and the
/// catalog entries of `spec.services` (URLs follow the configuration on every
/// start). Idempotent; returns true when it created the admin user.
pub fn bootstrap(
    repo: &mut dyn IdentityRepo,
    spec: &BootstrapSpec,
    now: Timestamp,
) -> Result<bool, Error> {
    if spec.admin_password_hash.is_none()
        && repo
            .user_by_name(DEFAULT_DOMAIN_ID, &spec.admin_user)?
            .is_none()
    {
        return Err(Error::invalid(format!(
            "the bootstrap user {} does not exist and no password hash was given to create it",
            spec.admin_user
        )));
    }
    if repo.domain(DEFAULT_DOMAIN_ID)?.is_none() {
        repo.insert_domain(&Domain {
            id: DEFAULT_DOMAIN_ID.into(),
            name: DEFAULT_DOMAIN_NAME.into(),
            description: "The default domain".into(),
            enabled: true,
        })?;
    }
    let mut project_ids = Vec::new();
    for name in ["admin", "services"] {
        let p = match repo.project_by_name(DEFAULT_DOMAIN_ID, name)? {
            Some(p) => p,
            None => {
                let p = Project {
                    id: new_id()?,
                    name: name.into(),
                    domain_id: DEFAULT_DOMAIN_ID.into(),
                    description: format!("Bootstrap project {name}"),
                    enabled: true,
                };
                repo.insert_project(&p)?;
                p
            }
        };
        project_ids.push(p.id);
    }
    let mut admin_role = String::new();
    for name in BOOTSTRAP_ROLES {
        let r = match repo.role_by_name(name)? {
            Some(r) => r,
            None => {
                let r = Role {
                    id: new_id()?,
                    name: name.into(),
                };
                repo.insert_role(&r)?;
                r
            }
        };
        if name == "admin" {
            admin_role = r.id;
        }
    }
    let (admin, created) = ensure_user(
        repo,
        NewAccount {
            name: &spec.admin_user,
            password_hash: spec.admin_password_hash.clone(),
            default_project: project_ids.first().cloned(),
            description: "Bootstrap administrator".into(),
        },
        now,
    )?;
    if let Some(admin_project) = project_ids.first() {
        repo.grant(&Assignment {
            role_id: admin_role.clone(),
            user_id: admin.id.clone(),
            target: Target::Project(admin_project.clone()),
        })?;
    }
    repo.grant(&Assignment {
        role_id: admin_role.clone(),
        user_id: admin.id,
        target: Target::Domain(DEFAULT_DOMAIN_ID.into()),
    })?;
    if let Some(services_project) = project_ids.get(1) {
        for name in &spec.service_users {
            let (u, _) = ensure_user(
                repo,
                NewAccount {
                    name,
                    password_hash: None,
                    default_project: Some(services_project.clone()),
                    description: format!("Service account of {name}"),
                },
                now,
            )?;
            repo.grant(&Assignment {
                role_id: admin_role.clone(),
                user_id: u.id,
                target: Target::Project(services_project.clone()),
            })?;
        }
    }
    sync_catalog(repo, &spec.region, &spec.services)?;
    Ok(created)
}

/// A bootstrap account: created in the Default domain when missing, left as
/// it is when present (an operator may have changed it).
struct NewAccount<'a> {
    name: &'a str,
    password_hash: Option<String>,
    default_project: Option<String>,
    description: String,
}

/// The account `a`, and whether it was created now.
fn ensure_user(
    repo: &mut dyn IdentityRepo,
    a: NewAccount<'_>,
    now: Timestamp,
) -> Result<(User, bool), Error> {
    if let Some(u) = repo.user_by_name(DEFAULT_DOMAIN_ID, a.name)? {
        return Ok((u, false));
    }
    let u = User {
        id: new_id()?,
        name: a.name.to_string(),
        domain_id: DEFAULT_DOMAIN_ID.into(),
        enabled: true,
        password_hash: a.password_hash,
        default_project_id: a.default_project,
        failed_logins: 0,
        locked_until: None,
        description: a.description,
        email: String::new(),
        created_at: now,
    };
    repo.insert_user(&u)?;
    Ok((u, true))
}

/// Issues a token to the service account `name`, scoped to project
/// services, without a password: only code running in the identity
/// service's process (all-in-one) may call this. A disabled or deleted
/// account is refused like a login.
pub fn issue_for_service(
    repo: &mut dyn IdentityRepo,
    name: &str,
    now: Timestamp,
    settings: AuthSettings,
) -> Result<(String, TokenContext), Error> {
    let domain = DomainRef::Id(DEFAULT_DOMAIN_ID.into());
    let user = find_user(repo, &UserRef::Name(name.into(), domain.clone()))?
        .filter(|u| u.enabled)
        .ok_or_else(|| Error::unauthorized(format!("no enabled service account {name}")))?;
    let scope = ScopeRef::ProjectName("services".into(), domain);
    match complete_login(repo, &user.id, true, Some(&scope), now, settings)? {
        LoginOutcome::Issued(bearer, ctx) => Ok((bearer, *ctx)),
        LoginOutcome::Refused(e) => Err(e),
    }
}

/// Makes the catalog list `services` in `region` with exactly these URLs;
/// other services and regions are left alone.
pub fn sync_catalog(
    repo: &mut dyn IdentityRepo,
    region: &str,
    services: &[ServiceSpec],
) -> Result<(), Error> {
    let existing = repo.services()?;
    let endpoints = repo.endpoints()?;
    for spec in services {
        let svc = match existing
            .iter()
            .find(|s| s.kind == spec.kind && s.name == spec.name)
        {
            Some(s) => s.clone(),
            None => {
                let s = Service {
                    id: new_id()?,
                    kind: spec.kind.clone(),
                    name: spec.name.clone(),
                    description: spec.description.clone(),
                    enabled: true,
                };
                repo.insert_service(&s)?;
                s
            }
        };
        for (iface, url) in &spec.urls {
            let mine = endpoints
                .iter()
                .find(|e| e.service_id == svc.id && e.interface == *iface && e.region == region);
            match mine {
                Some(e) if e.url == *url => {}
                Some(e) => repo.update_endpoint(&Endpoint {
                    url: url.clone(),
                    ..e.clone()
                })?,
                None => repo.insert_endpoint(&Endpoint {
                    id: new_id()?,
                    service_id: svc.id.clone(),
                    interface: *iface,
                    region: region.into(),
                    url: url.clone(),
                    enabled: true,
                })?,
            }
        }
    }
    Ok(())
}

/// The catalog: every enabled service with its enabled endpoints.
pub fn catalog(repo: &mut dyn IdentityRepo) -> Result<Vec<(Service, Vec<Endpoint>)>, Error> {
    let endpoints = repo.endpoints()?;
    let mut out = Vec::new();
    for s in repo.services()?.into_iter().filter(|s| s.enabled) {
        let eps: Vec<Endpoint> = endpoints
            .iter()
            .filter(|e| e.service_id == s.id && e.enabled)
            .cloned()
            .collect();
        out.push((s, eps));
    }
    Ok(out)
}
