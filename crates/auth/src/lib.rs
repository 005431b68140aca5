//! Token authentication for every Starling API.
//!
//! Two [`Authenticator`]s for the HTTP guard:
//! - [`LocalAuth`]: validates tokens in-process against the identity tables
//!   (all-in-one, and the identity service itself);
//! - [`RemoteAuth`]: validates against a Keystone-compatible identity
//!   endpoint (Starling's own or an external Keystone) with service
//!   credentials, for a service running alone.
//!
//! Both keep successful validations in a [`TokenCache`] for a short time (a
//! few seconds by default), so a revocation takes effect everywhere within
//! that time; in-process revocations and identity changes also clear the
//! cache at once.
//!
//! Architecture invariants:
//! - the cache is keyed by the token's SHA-256, never by the token;
//! - refusals are never cached: a token that failed is asked about again;
//! - neither the token nor the reason a token was refused reaches the client
//!   (the reason is logged, the token never is).

mod remote;

use std::sync::Arc;

use starling_common::{Clock, TokenFuture, TokenSource};
use starling_db::Db;
use starling_http::{ApiError, Authenticator, BoxFuture, Principal};
use starling_identity::{Error, ops, policy, token};
use starling_identity_store::IdentityStore;

pub use remote::{RemoteAuth, ServiceCredentials, ServiceSession};
pub use starling_http::TokenCache;

/// The header a token arrives in.
pub const TOKEN_HEADER: &str = "x-auth-token";

pub use starling_http::AUTH_REQUIRED;

/// The token of a request: present, of sane length and visible ASCII.
pub fn bearer(headers: &starling_http::HeaderMap) -> Result<&str, ApiError> {
    let t = headers
        .get(TOKEN_HEADER)
        .ok_or_else(|| ApiError::unauthorized(AUTH_REQUIRED))?
        .to_str()
        .map_err(|_| ApiError::unauthorized(AUTH_REQUIRED))?
        .trim();
    if t.is_empty() || t.len() > token::MAX_TOKEN_LEN {
        return Err(ApiError::unauthorized(AUTH_REQUIRED));
    }
    Ok(t)
}

/// Checks `policy` for a caller (403 with oslo.policy's message).
/// The project a principal is scoped to, by name and domain id.
pub fn scope_of(p: &Principal) -> Option<policy::ProjectScope<'_>> {
    (!p.project.is_empty()).then(|| policy::ProjectScope {
        name: &p.project,
        domain_id: &p.project_domain_id,
    })
}

pub fn decide(p: &Principal, policy_name: &str) -> Result<(), ApiError> {
    if policy::allows(policy::rule_for(policy_name), &p.roles, scope_of(p)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "Policy doesn't allow {policy_name} to be performed."
        )))
    }
}

/// The principal a validated token stands for.
pub fn principal_of(ctx: &starling_identity::TokenContext) -> Principal {
    Principal {
        user_id: ctx.user.id.clone(),
        user: ctx.user.name.clone(),
        project: ctx.project_name().unwrap_or_default().to_string(),
        project_domain_id: ctx
            .project
            .as_ref()
            .map(|(_, d)| d.id.clone())
            .unwrap_or_default(),
        roles: ctx.role_names(),
        agent: None,
    }
}

/// Maps an identity failure during validation to the client's answer,
/// logging the reason of a refusal.
pub fn refusal(e: Error) -> ApiError {
    match e {
        Error::Unauthorized { public, reason } => {
            tracing::warn!(target: "auth", %reason, "token refused");
            ApiError::unauthorized(public)
        }
        Error::Storage(f) => f.into(),
        other => ApiError::unauthorized(other.to_string()),
    }
}

/// In-process validation against the identity tables of `db`.
pub struct LocalAuth {
    db: Db,
    clock: Arc<dyn Clock>,
    cache: Arc<TokenCache>,
}

impl LocalAuth {
    /// Validates against `db`, caching in `cache`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, cache: Arc<TokenCache>) -> Self {
        LocalAuth { db, clock, cache }
    }

    /// Validates `bearer` (cache first), returning who it stands for.
    pub async fn principal(&self, bearer: &str) -> Result<Arc<Principal>, ApiError> {
        let now = self.clock.now();
        let key = token::hash_of(bearer);
        if let Some(p) = self.cache.get(&key, now) {
            return Ok(p);
        }
        let t = bearer.to_string();
        let ctx = self
            .db
            .read(move |c| ops::validate(&mut IdentityStore::new(c), &t, now))
            .await
            .map_err(refusal)?;
        let p = Arc::new(principal_of(&ctx));
        self.cache.put(key, p.clone(), ctx.token.expires_at);
        Ok(p)
    }
}

impl Authenticator for LocalAuth {
    fn authorize<'a>(
        &'a self,
        headers: &'a starling_http::HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        Box::pin(async move {
            let p = self.principal(bearer(headers)?).await?;
            decide(&p, policy)?;
            Ok(p)
        })
    }
}

/// Tokens for a service account issued in-process (all-in-one): the
/// account has no password, so nothing secret is written anywhere; a real
/// token is stored and validated like any other, and renewed a minute
/// before it expires or after a 401.
pub struct LocalIssuer {
    db: Db,
    clock: Arc<dyn Clock>,
    user: String,
    settings: ops::AuthSettings,
    own: remote::TokenSlot,
}

impl LocalIssuer {
    /// Issues for the service account `user` (see
    /// [`ops::issue_for_service`]) with `settings`' token lifetime.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        user: impl Into<String>,
        settings: ops::AuthSettings,
    ) -> Self {
        LocalIssuer {
            db,
            clock,
            user: user.into(),
            settings,
            own: remote::TokenSlot::new(),
        }
    }

    /// The current token; a new one when `renew` or near expiry.
    pub async fn current(&self, renew: bool) -> Result<String, String> {
        self.own
            .get(renew, self.clock.as_ref(), || async {
                let (user, settings, now) = (self.user.clone(), self.settings, self.clock.now());
                let (bearer, ctx) = self
                    .db
                    .write(move |c| {
                        ops::issue_for_service(&mut IdentityStore::new(c), &user, now, settings)
                    })
                    .await
                    .map_err(|e| match e {
                        Error::Unauthorized { reason, .. } => reason,
                        other => other.to_string(),
                    })?;
                Ok((bearer, Some(ctx.token.expires_at)))
            })
            .await
    }
}

impl TokenSource for LocalIssuer {
    fn token(&self, renew: bool) -> TokenFuture<'_> {
        Box::pin(self.current(renew))
    }
}
