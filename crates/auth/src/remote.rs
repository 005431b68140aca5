//! Validation against a Keystone-compatible identity endpoint, for a service
//! running alone: the service logs in with its own credentials and asks
//! `GET /v3/auth/tokens` about each caller's token (cached for a few seconds).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use starling_common::{Clock, Timestamp};
use starling_http::{ApiError, Authenticator, BoxFuture, Principal};
use starling_identity::token;
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

/// Validates tokens against a remote identity service.
pub struct RemoteAuth {
    http: reqwest::Client,
    base: String,
    creds: ServiceCredentials,
    clock: Arc<dyn Clock>,
    cache: Arc<TokenCache>,
    /// The service's token and when to renew it.
    own: Mutex<Option<(String, Instant)>>,
}

impl RemoteAuth {
    /// A validator using `creds` through `http` (which carries the TLS trust).
    pub fn new(
        http: reqwest::Client,
        creds: ServiceCredentials,
        clock: Arc<dyn Clock>,
        cache: Arc<TokenCache>,
    ) -> Self {
        RemoteAuth {
            base: v3_base(&creds.auth_url),
            http,
            creds,
            clock,
            cache,
            own: Mutex::new(None),
        }
    }

    /// Logs the service in (at start, so wrong credentials fail loudly).
    pub async fn login(&self) -> Result<(), String> {
        self.service_token(true).await.map(|_| ())
    }

    async fn service_token(&self, renew: bool) -> Result<String, String> {
        let mut own = self.own.lock().await;
        if !renew
            && let Some((t, until)) = own.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.creds.username,
                "domain": {"name": self.creds.user_domain},
                "password": self.creds.password,
            }}},
            "scope": {"project": {"name": self.creds.project,
                                  "domain": {"name": self.creds.project_domain}}},
        }});
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
        let v: Value = resp
            .json()
            .await
            .map_err(|e| format!("identity service answered a login with bad JSON: {e}"))?;
        // Renew a minute before expiry (or at once when the lifetime is shorter).
        let left = v["token"]["expires_at"]
            .as_str()
            .and_then(|s| Timestamp::parse(s).ok())
            .map(|e| e.micros() - self.clock.now().micros() - 60_000_000)
            .unwrap_or(0);
        let until = Instant::now() + Duration::from_micros(u64::try_from(left).unwrap_or(0));
        *own = Some((t.clone(), until));
        Ok(t)
    }

    async fn ask(&self, service: &str, subject: &str) -> Result<reqwest::Response, ApiError> {
        self.http
            .get(format!("{}/auth/tokens?nocatalog", self.base))
            .header("x-auth-token", service)
            .header("x-subject-token", subject)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = %e, url = %self.base, "identity service unreachable");
                ApiError::unavailable("The identity service is unreachable; retry later")
            })
    }

    /// Validates `subject` (cache first).
    pub async fn principal(&self, subject: &str) -> Result<Principal, ApiError> {
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
        let v: Value = resp.json().await.map_err(|e| {
            tracing::error!(error = %e, "identity service answered a validation with bad JSON");
            ApiError::unavailable("The identity service failed; retry later")
        })?;
        let (p, expires) = parse_token(&v["token"]).ok_or_else(|| {
            tracing::error!("identity service answered a validation without a token body");
            ApiError::unavailable("The identity service failed; retry later")
        })?;
        self.cache.put(key, p.clone(), expires);
        Ok(p)
    }
}

/// The principal and expiry in a Keystone token body.
pub fn parse_token(t: &Value) -> Option<(Principal, Timestamp)> {
    let expires = Timestamp::parse(t["expires_at"].as_str()?).ok()?;
    let roles = t["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Some((
        Principal {
            user_id: t["user"]["id"].as_str()?.to_string(),
            user: t["user"]["name"].as_str()?.to_string(),
            project: t["project"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            roles,
        },
        expires,
    ))
}

impl Authenticator for RemoteAuth {
    fn authorize<'a>(
        &'a self,
        headers: &'a starling_http::HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Principal, ApiError>> {
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

    #[test]
    fn urls_and_token_bodies() {
        assert_eq!(v3_base("http://h:5000"), "http://h:5000/v3");
        assert_eq!(v3_base("http://h:5000/v3/"), "http://h:5000/v3");
        let t = json!({"expires_at": "2026-11-21T12:00:00.000000Z",
            "user": {"id": "u1", "name": "admin"},
            "project": {"name": "admin"},
            "roles": [{"id": "r", "name": "admin"}, {"id": "m", "name": "member"}]});
        let (p, e) = parse_token(&t).unwrap();
        assert_eq!(p.roles, vec!["admin", "member"]);
        assert_eq!(p.project, "admin");
        assert_eq!(e, Timestamp::parse("2026-11-21T12:00:00Z").unwrap());
        assert!(parse_token(&json!({"user": {}})).is_none());
    }
}
