//! Validation against a Keystone-compatible identity endpoint, for a service
//! running alone: the service logs in with its own credentials and asks
//! `GET /v3/auth/tokens` about each caller's token (cached for a few seconds).

use std::sync::Arc;
use std::time::{Duration, Instant};

use starling_common::{Clock, Timestamp, TokenFuture, TokenSource};
use starling_http::{ApiError, Authenticator, BoxFuture, Principal};
use starling_identity::token;
use starling_identity_types as wire;
use tokio::sync::Mutex;

use crate::{AUTH_REQUIRED, TokenCache, bearer, decide};

/// The service's own account on the identity service.
#[derive(Clone)]
pub struct ServiceCredentials {
    /// Identity URL, with or without the trailing `/v3`.
    pub auth_url: String,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Project name (StarlingX: `services` or `admin`).
    pub project: String,
    /// The user's domain name.
    pub user_domain: String,
    /// The project's domain name.
    pub project_domain: String,
}

impl std::fmt::Debug for ServiceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCredentials")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("project", &self.project)
            .finish()
    }
}

/// The `…/v3` base of an identity URL.
pub fn v3_base(auth_url: &str) -> String {
    let u = auth_url.trim_end_matches('/');
    if u.ends_with("/v3") {
        u.to_string()
    } else {
        format!("{u}/v3")
    }
}

/// A service's own session with an identity service: logs in with its
/// credentials, keeps the token, and logs in again a minute before expiry
/// or when asked to (after a 401). Shared by [`RemoteAuth`] and by the
/// clients a service uses to call other services.
pub struct ServiceSession {
    http: reqwest::Client,
    base: String,
    creds: ServiceCredentials,
    clock: Arc<dyn Clock>,
    /// The token and when to renew it.
    own: TokenSlot,
}

impl ServiceSession {
    /// A session for `creds` through `http` (which carries the TLS trust).
    pub fn new(http: reqwest::Client, creds: ServiceCredentials, clock: Arc<dyn Clock>) -> Self {
        ServiceSession {
            base: v3_base(&creds.auth_url),
            http,
            creds,
            clock,
            own: TokenSlot::new(),
        }
    }

    /// The identity service's `…/v3` base.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Logs in (at start, so wrong credentials fail loudly).
    pub async fn login(&self) -> Result<(), String> {
        self.current(true).await.map(|_| ())
    }

    /// The session's token; a fresh one when `renew` or near expiry.
    pub async fn current(&self, renew: bool) -> Result<String, String> {
        self.own
            .get(renew, self.clock.as_ref(), || self.login_once())
            .await
    }

    /// One password login: the token and its expiry.
    async fn login_once(&self) -> Result<(String, Option<Timestamp>), String> {
        let body = wire::AuthRequest::password(
            &self.creds.username,
            &self.creds.user_domain,
            &self.creds.password,
            &self.creds.project,
            &self.creds.project_domain,
        );
        let resp = self
            .http
            .post(format!("{}/auth/tokens?nocatalog", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("identity service at {} unreachable: {e}", self.base))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!(
                "identity service at {} refused the service login: {status}",
                self.base
            ));
        }
        let t = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or("identity service answered a login without X-Subject-Token")?;
        let v: wire::TokenBody<'static> = resp
            .json()
            .await
            .map_err(|e| format!("identity service answered a login with no token body: {e}"))?;
        Ok((t, Timestamp::parse(&v.item.expires_at).ok()))
    }
}

/// A service's own token and when to renew it: fetched once, reused until a
/// minute before it expires (at once when the lifetime is shorter or
/// unknown) or until a renewal is asked for. One fetch at a time.
pub(crate) struct TokenSlot(Mutex<Option<(String, Instant)>>);

impl TokenSlot {
    pub(crate) fn new() -> Self {
        TokenSlot(Mutex::new(None))
    }

    /// The kept token, or a new one from `fetch` (the token and its expiry).
    pub(crate) async fn get<F>(
        &self,
        renew: bool,
        clock: &dyn Clock,
        fetch: impl FnOnce() -> F,
    ) -> Result<String, String>
    where
        F: std::future::Future<Output = Result<(String, Option<Timestamp>), String>>,
    {
        let mut slot = self.0.lock().await;
        if !renew
            && let Some((t, until)) = slot.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let (t, expires) = fetch().await?;
        let left = expires
            .map(|e| e.micros() - clock.now().micros() - 60_000_000)
            .unwrap_or(0);
        let until = Instant::now() + Duration::from_micros(u64::try_from(left).unwrap_or(0));
        *slot = Some((t.clone(), until));
        Ok(t)
    }
}

impl TokenSource for ServiceSession {
    fn token(&self, renew: bool) -> TokenFuture<'_> {
        Box::pin(self.current(renew))
    }
}

/// Validates tokens against a remote identity service.
pub struct RemoteAuth {
    session: Arc<ServiceSession>,
    cache: Arc<TokenCache>,
    clock: Arc<dyn Clock>,
}

impl RemoteAuth {
    /// A validator that asks with `session`'s token.
    pub fn new(
        session: Arc<ServiceSession>,
        clock: Arc<dyn Clock>,
        cache: Arc<TokenCache>,
    ) -> Self {
        RemoteAuth {
            session,
            cache,
            clock,
        }
    }

    /// The service's session (for its own calls to other services).
    pub fn session(&self) -> Arc<ServiceSession> {
        self.session.clone()
    }

    async fn service_token(&self, renew: bool) -> Result<String, String> {
        self.session.current(renew).await
    }

    async fn ask(&self, service: &str, subject: &str) -> Result<reqwest::Response, ApiError> {
        self.session
            .http
            .get(format!("{}/auth/tokens?nocatalog", self.session.base))
            .header("x-auth-token", service)
            .header("x-subject-token", subject)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, url = %self.session.base, "identity service unreachable");
                ApiError::unavailable("The identity service is unreachable; retry later")
            })
    }

    /// Validates `subject` (cache first).
    pub async fn principal(&self, subject: &str) -> Result<Arc<Principal>, ApiError> {
        let now = self.clock.now();
        let key = token::hash_of(subject);
        if let Some(p) = self.cache.get(&key, now) {
            return Ok(p);
        }
        let unavailable = |e: String| {
            tracing::error!(error = %e, "service login failed");
            ApiError::unavailable("The identity service refused this service; retry later")
        };
        let mut resp = self
            .ask(
                &self.service_token(false).await.map_err(unavailable)?,
                subject,
            )
            .await?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            // Our own token expired or was revoked: log in again once.
            let fresh = self.service_token(true).await.map_err(unavailable)?;
            resp = self.ask(&fresh, subject).await?;
        }
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::UNAUTHORIZED {
            tracing::warn!(target: "auth", reason = "refused by the identity service", "token refused");
            return Err(ApiError::unauthorized(AUTH_REQUIRED));
        }
        if !status.is_success() {
            tracing::error!(%status, "identity service failed a validation");
            return Err(ApiError::unavailable(
                "The identity service failed; retry later",
            ));
        }
        let v: wire::TokenBody<'static> = resp.json().await.map_err(|e| {
            tracing::error!(error = %e, "identity service answered a validation without a token body");
            ApiError::unavailable("The identity service failed; retry later")
        })?;
        let (p, expires) = parse_token(&v.item).ok_or_else(|| {
            tracing::error!("identity service answered a validation with a bad expiry");
            ApiError::unavailable("The identity service failed; retry later")
        })?;
        let p = Arc::new(p);
        self.cache.put(key, p.clone(), expires);
        Ok(p)
    }
}

/// The principal and expiry of a Keystone token.
pub fn parse_token(t: &wire::Token<'_>) -> Option<(Principal, Timestamp)> {
    let expires = Timestamp::parse(&t.expires_at).ok()?;
    Some((
        Principal {
            user_id: t.user.id.to_string(),
            user: t.user.name.to_string(),
            project: t
                .project
                .as_ref()
                .map(|p| p.name.to_string())
                .unwrap_or_default(),
            project_domain_id: t
                .project
                .as_ref()
                .map(|p| p.domain.id.to_string())
                .unwrap_or_default(),
            roles: t
                .roles
                .iter()
                .flatten()
                .map(|r| r.name.to_string())
                .collect(),
            agent: None,
        },
        expires,
    ))
}

impl Authenticator for RemoteAuth {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_and_token_bodies() {
        assert_eq!(v3_base("http://h:5000"), "http://h:5000/v3");
        assert_eq!(v3_base("http://h:5000/v3/"), "http://h:5000/v3");
        // A token body as Keystone answers it (fields Starling does not
        // read, such as the roles' domain_id, are ignored).
        let t = json!({"token": {"methods": ["password"], "audit_ids": ["a"],
            "issued_at": "2026-11-21T11:00:00.000000Z",
            "expires_at": "2026-11-21T12:00:00.000000Z",
            "user": {"id": "u1", "name": "admin", "password_expires_at": null,
                     "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p", "name": "admin", "domain": {"id": "default", "name": "Default"}},
            "is_domain": false,
            "roles": [{"id": "r", "name": "admin", "domain_id": null}, {"id": "m", "name": "member"}]}});
        let body: wire::TokenBody<'_> = serde_json::from_value(t.clone()).unwrap();
        let (p, e) = parse_token(&body.item).unwrap();
        assert_eq!(p.roles, vec!["admin", "member"]);
        assert_eq!(p.project, "admin");
        assert_eq!(e, Timestamp::parse("2026-11-21T12:00:00Z").unwrap());
        let mut bad = t;
        bad["token"]["expires_at"] = json!("soon");
        let body: wire::TokenBody<'_> = serde_json::from_value(bad).unwrap();
        assert!(parse_token(&body.item).is_none());
        let login = serde_json::to_value(wire::AuthRequest::password(
            "u", "Default", "pw", "admin", "Default",
        ))
        .unwrap();
        assert_eq!(
            login,
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "u", "domain": {"name": "Default"}, "password": "pw"}}},
                "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
        );
    }
}
