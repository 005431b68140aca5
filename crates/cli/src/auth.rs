//! How every Starling CLI authenticates, as StarlingX's do: the OS_*
//! variables (or their `--os-*` options) log in to the identity service and
//! the service's endpoint is found in the token's catalog; an explicit
//! service URL with `--os-auth-token` skips the login.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use starling_identity_types as wire;

use crate::{Client, Transport};

/// The OpenStack connection options (listed after a command's own).
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection options (OS_* variables)")]
pub struct AuthArgs {
    /// Identity endpoint, e.g. http://127.0.0.1:5000/v3.
    #[arg(
        id = "os_auth_url",
        long = "os-auth-url",
        env = "OS_AUTH_URL",
        global = true
    )]
    pub auth_url: Option<String>,
    /// User name.
    #[arg(
        id = "os_username",
        long = "os-username",
        env = "OS_USERNAME",
        global = true
    )]
    pub username: Option<String>,
    /// Password.
    #[arg(
        id = "os_password",
        long = "os-password",
        env = "OS_PASSWORD",
        global = true,
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// Project to scope the token to.
    #[arg(
        id = "os_project_name",
        long = "os-project-name",
        env = "OS_PROJECT_NAME",
        global = true
    )]
    pub project: Option<String>,
    /// The user's domain.
    #[arg(
        id = "os_user_domain_name",
        long = "os-user-domain-name",
        env = "OS_USER_DOMAIN_NAME",
        default_value = "Default",
        global = true
    )]
    pub user_domain: String,
    /// The project's domain.
    #[arg(
        id = "os_project_domain_name",
        long = "os-project-domain-name",
        env = "OS_PROJECT_DOMAIN_NAME",
        default_value = "Default",
        global = true
    )]
    pub project_domain: String,
    /// Region of the endpoint (may be left out when the catalog has one).
    #[arg(
        id = "os_region_name",
        long = "os-region-name",
        env = "OS_REGION_NAME",
        global = true
    )]
    pub region: Option<String>,
    /// Endpoint interface: public, internal or admin (OS_ENDPOINT_TYPE's
    /// publicURL/internalURL/adminURL also work).
    #[arg(
        id = "os_interface",
        long = "os-interface",
        visible_alias = "os-endpoint-type",
        env = "OS_INTERFACE",
        global = true
    )]
    pub interface: Option<String>,
    /// CA certificate bundle (PEM) to verify HTTPS endpoints with.
    #[arg(id = "os_cacert", long = "os-cacert", env = "OS_CACERT", global = true)]
    pub cacert: Option<std::path::PathBuf>,
    /// Do not verify HTTPS certificates (test systems only).
    #[arg(
        id = "insecure",
        short = 'k',
        long = "insecure",
        env = "OS_INSECURE",
        global = true
    )]
    pub insecure: bool,
    /// Print each request and its answer's status on stderr (never a
    /// token or a password).
    #[arg(id = "debug", long = "debug", global = true)]
    pub debug: bool,
    /// A token sent as X-Auth-Token; with a service URL, no login happens.
    #[arg(
        id = "os_auth_token",
        long = "os-auth-token",
        env = "OS_AUTH_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// A logged-in session: the token and the catalog it came with.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token.
    pub token: String,
    /// The token body (`token.catalog`, `token.user`, …).
    pub body: wire::TokenBody<'static>,
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

fn need<'a>(v: &'a Option<String>, what: &str) -> Result<&'a str> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("{what} is not set"))
}

impl AuthArgs {
    /// The transport these options ask for.
    pub fn transport(&self, timeout: Duration) -> Transport {
        Transport {
            timeout,
            cacert: self.cacert.clone().filter(|p| !p.as_os_str().is_empty()),
            insecure: self.insecure,
            debug: self.debug,
        }
    }

    /// Logs in with the password method, scoped to the project.
    pub fn login(&self, transport: &Transport) -> Result<Session> {
        let auth_url = need(&self.auth_url, "OS_AUTH_URL (or --os-auth-url)")?;
        let user = need(&self.username, "OS_USERNAME (or --os-username)")?;
        let password = need(&self.password, "OS_PASSWORD (or --os-password)")?;
        let project = need(&self.project, "OS_PROJECT_NAME (or --os-project-name)")?;
        let base = v3_base(auth_url);
        let http = crate::http_client(transport, &base)?;
        let body = wire::AuthRequest::password(
            user,
            &self.user_domain,
            password,
            project,
            &self.project_domain,
        );
        if transport.debug {
            eprintln!("POST {base}/auth/tokens");
        }
        let resp = http
            .post(format!("{base}/auth/tokens"))
            .json(&body)
            .send()
            .map_err(|e| {
                anyhow!(
                    "cannot reach the identity service at {base}: {}",
                    crate::why(&e)
                )
            })?;
        let status = resp.status();
        if transport.debug {
            eprintln!("  -> {status}");
        }
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp
            .text()
            .map_err(|e| anyhow!("cannot read the identity service's answer: {e}"))?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            bail!(
                "the identity service refused the login of {user} to project {project} \
                 (wrong user, password or project, or the user is locked out)"
            );
        }
        if !status.is_success() {
            bail!("login failed: {}", keystone_error(status, &text));
        }
        let token = token.context("the identity service answered without X-Subject-Token")?;
        let body: wire::TokenBody<'static> = serde_json::from_str(&text).map_err(|e| {
            anyhow!("the identity service answered something that is not a token: {e}")
        })?;
        Ok(Session { token, body })
    }

    /// The interface to pick endpoints by.
    pub fn interface(&self) -> Result<&'static str> {
        let i = self
            .interface
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| std::env::var("OS_ENDPOINT_TYPE").ok())
            .unwrap_or_else(|| "public".into());
        Ok(match i.as_str() {
            "public" | "publicURL" => "public",
            "internal" | "internalURL" => "internal",
            "admin" | "adminURL" => "admin",
            other => bail!("invalid interface '{other}': use public, internal or admin"),
        })
    }

    /// A client for one service: `explicit` (a URL option or variable) with
    /// `--os-auth-token` uses them as they are; otherwise this logs in and,
    /// without `explicit`, finds the endpoint of `service_type` in the catalog.
    pub fn client(
        &self,
        label: &'static str,
        service_type: &str,
        explicit: Option<&str>,
        url_hint: &str,
        transport: &Transport,
    ) -> Result<Client> {
        let explicit = explicit.filter(|u| !u.is_empty());
        let token = self.token.clone().filter(|t| !t.is_empty());
        let logging_in = self.auth_url.as_deref().is_some_and(|u| !u.is_empty());
        match (explicit, token) {
            (Some(url), Some(t)) => Client::new(label, url, Some(t), transport),
            (Some(url), None) if !logging_in => Client::new(label, url, None, transport),
            (explicit, _) => {
                if !logging_in {
                    bail!(
                        "no {label} endpoint: set the OS_* variables (source openrc), \
                         or {url_hint} with --os-auth-token"
                    );
                }
                let s = self.login(transport)?;
                let url = match explicit {
                    Some(u) => u.to_string(),
                    None => endpoint(
                        &s.body.item,
                        service_type,
                        self.region.as_deref(),
                        self.interface()?,
                    )?,
                };
                Client::new(label, &url, Some(s.token), transport)
            }
        }
    }
}

/// The URL of `service_type` in a token body's catalog, for `interface` in
/// `region` (any region when the service has endpoints in one only).
pub fn endpoint(
    token: &wire::Token<'_>,
    service_type: &str,
    region: Option<&str>,
    interface: &str,
) -> Result<String> {
    let catalog = token
        .catalog
        .as_ref()
        .ok_or_else(|| anyhow!("the token has no service catalog"))?;
    let svc = catalog
        .iter()
        .find(|s| s.service_type == service_type)
        .ok_or_else(|| anyhow!("the service catalog has no '{service_type}' service"))?;
    let eps: Vec<&wire::CatalogEndpoint<'_>> = svc
        .endpoints
        .iter()
        .filter(|e| e.interface == interface)
        .collect();
    let region_of = |e: &wire::CatalogEndpoint<'_>| {
        if e.region_id.is_empty() {
            e.region.to_string()
        } else {
            e.region_id.to_string()
        }
    };
    let chosen: Vec<&wire::CatalogEndpoint<'_>> = match region.filter(|r| !r.is_empty()) {
        Some(r) => eps.into_iter().filter(|e| region_of(e) == r).collect(),
        None => {
            let mut regions: Vec<String> = eps.iter().map(|e| region_of(e)).collect();
            regions.sort();
            regions.dedup();
            if regions.len() > 1 {
                bail!(
                    "'{service_type}' has {interface} endpoints in regions {}: set OS_REGION_NAME",
                    regions.join(", ")
                );
            }
            eps
        }
    };
    chosen.first().map(|e| e.url.to_string()).ok_or_else(|| {
        anyhow!(
            "no {interface} endpoint of '{service_type}'{} in the service catalog",
            region
                .map(|r| format!(" in region {r}"))
                .unwrap_or_default()
        )
    })
}

/// The message of a Keystone error answer.
pub fn keystone_error(status: reqwest::StatusCode, body: &str) -> String {
    serde_json::from_str::<wire::ErrorBody<'_>>(body)
        .map(|e| e.error.message.into_owned())
        .unwrap_or_else(|_| crate::error_text(status, body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn body() -> wire::TokenBody<'static> {
        let ep = |i: &str, r: &str, u: &str| json!({"id": "e", "interface": i, "region_id": r, "region": r, "url": u});
        serde_json::from_value(json!({"token": {
            "audit_ids": ["a"], "methods": ["password"],
            "issued_at": "2026-11-21T11:00:00.000000Z", "expires_at": "2026-11-21T12:00:00.000000Z",
            "user": {"id": "u", "name": "admin", "password_expires_at": null,
                     "domain": {"id": "default", "name": "Default"}},
            "catalog": [
            {"type": "faultmanagement", "id": "s1", "name": "fm", "endpoints": [
                ep("public", "RegionOne", "http://a:18002"),
                ep("internal", "RegionOne", "http://i:18002"),
                ep("public", "RegionTwo", "http://b:18002")]},
            {"type": "identity", "id": "s2", "name": "keystone", "endpoints": [
                ep("public", "RegionOne", "http://a:5000")]}]}}))
        .unwrap()
    }

    #[test]
    fn catalog_lookup_by_type_region_and_interface() {
        let b = body().item;
        assert_eq!(
            endpoint(&b, "faultmanagement", Some("RegionTwo"), "public").unwrap(),
            "http://b:18002"
        );
        assert_eq!(
            endpoint(&b, "faultmanagement", Some("RegionOne"), "internal").unwrap(),
            "http://i:18002"
        );
        // One region: no need to name it. Two: say so.
        assert_eq!(
            endpoint(&b, "faultmanagement", None, "internal").unwrap(),
            "http://i:18002"
        );
        assert!(
            endpoint(&b, "faultmanagement", None, "public")
                .unwrap_err()
                .to_string()
                .contains("OS_REGION_NAME")
        );
        assert_eq!(
            endpoint(&b, "identity", None, "public").unwrap(),
            "http://a:5000"
        );
        assert!(endpoint(&b, "platform", None, "public").is_err());
        assert!(endpoint(&b, "faultmanagement", Some("RegionThree"), "public").is_err());
        assert_eq!(v3_base("http://h:5000/"), "http://h:5000/v3");
    }
}
