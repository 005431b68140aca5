//! `/v3/auth/*`: logins (password and token methods), validation, revocation,
//! and the caller's catalog and projects.

use std::sync::Arc;

use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use starling_http::{ApiError, Principal, QueryPairs, base_url};
use starling_identity::ops::{self, DomainRef, LoginOutcome, ScopeRef, UserRef};
use starling_identity::{Error, TokenContext, password, policy, token};
use starling_identity_types as wire;

use crate::body::KsJson;
use crate::{IdentityState, KsError, json, render};

fn bad(m: impl Into<String>) -> KsError {
    KsError::bad_request(m)
}

fn str_field<'a>(v: &'a Value, path: &str) -> Result<Option<&'a str>, KsError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(bad(format!(
            "Invalid input for field '{path}': a string is expected"
        ))),
    }
}

fn domain_ref(v: &Value, path: &str) -> Result<Option<DomainRef>, KsError> {
    if v.is_null() {
        return Ok(None);
    }
    if !v.is_object() {
        return Err(bad(format!(
            "Invalid input for field '{path}': an object is expected"
        )));
    }
    if let Some(id) = str_field(&v["id"], &format!("{path}.id"))? {
        return Ok(Some(DomainRef::Id(id.to_string())));
    }
    if let Some(n) = str_field(&v["name"], &format!("{path}.name"))? {
        return Ok(Some(DomainRef::Name(n.to_string())));
    }
    Err(bad(format!("'{path}' needs an id or a name")))
}

/// The scope a login asks for; `None` when it names none (or "unscoped").
fn scope_ref(v: &Value) -> Result<Option<ScopeRef>, KsError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s == "unscoped" => Ok(None),
        Value::Object(m) => {
            if m.contains_key("system") || m.contains_key("OS-TRUST:trust") {
                return Err(bad(
                    "System and trust scopes are not supported; scope to a project or a domain",
                ));
            }
            let p = &v["project"];
            if !p.is_null() {
                if !p.is_object() {
                    return Err(bad("Invalid input for field 'auth.scope.project'"));
                }
                if let Some(id) = str_field(&p["id"], "auth.scope.project.id")? {
                    return Ok(Some(ScopeRef::ProjectId(id.to_string())));
                }
                let name = str_field(&p["name"], "auth.scope.project.name")?
                    .ok_or_else(|| bad("'auth.scope.project' needs an id or a name"))?;
                let d =
                    domain_ref(&p["domain"], "auth.scope.project.domain")?.ok_or_else(|| {
                        bad("A project named in a scope needs its domain (id or name)")
                    })?;
                return Ok(Some(ScopeRef::ProjectName(name.to_string(), d)));
            }
            match domain_ref(&v["domain"], "auth.scope.domain")? {
                Some(d) => Ok(Some(ScopeRef::Domain(d))),
                None => Err(bad("'auth.scope' names neither a project nor a domain")),
            }
        }
        _ => Err(bad("Invalid input for field 'auth.scope'")),
    }
}

/// What a login body asks for.
enum Login {
    Password { user: UserRef, password: String },
    Token(String),
}

fn parse_login(v: &Value) -> Result<(Login, Option<ScopeRef>), KsError> {
    let auth = &v["auth"];
    if !auth.is_object() {
        return Err(bad("'auth' is a required property"));
    }
    let identity = &auth["identity"];
    let methods: Vec<&str> = identity["methods"]
        .as_array()
        .ok_or_else(|| bad("'auth.identity.methods' is a required property"))?
        .iter()
        .map(|m| {
            m.as_str()
                .ok_or_else(|| bad("Authentication methods are strings"))
        })
        .collect::<Result<_, _>>()?;
    let scope = scope_ref(&auth["scope"])?;
    let login = match methods.as_slice() {
        ["password"] => {
            let u = &identity["password"]["user"];
            if !u.is_object() {
                return Err(bad("'auth.identity.password.user' is a required property"));
            }
            let password = str_field(&u["password"], "auth.identity.password.user.password")?
                .ok_or_else(|| bad("'password' is a required property"))?
                .to_string();
            let user = if let Some(id) = str_field(&u["id"], "auth.identity.password.user.id")? {
                UserRef::Id(id.to_string())
            } else {
                let name = str_field(&u["name"], "auth.identity.password.user.name")?
                    .ok_or_else(|| bad("A user needs an id or a name"))?;
                let d = domain_ref(&u["domain"], "auth.identity.password.user.domain")?
                    .ok_or_else(|| bad("A user named by name needs its domain (id or name)"))?;
                UserRef::Name(name.to_string(), d)
            };
            Login::Password { user, password }
        }
        ["token"] => {
            let id = str_field(&identity["token"]["id"], "auth.identity.token.id")?
                .ok_or_else(|| bad("'auth.identity.token.id' is a required property"))?;
            Login::Token(id.to_string())
        }
        [] => return Err(bad("No authentication method given")),
        other => {
            return Err(bad(format!(
                "Unsupported authentication method(s) {other:?}: use password or token"
            )));
        }
    };
    Ok((login, scope))
}

fn wants_catalog(q: &QueryPairs) -> bool {
    // `?nocatalog` (any value, even empty) leaves the catalog out, as in Keystone.
    q.last("nocatalog").is_none()
}

async fn token_response(
    st: &IdentityState,
    status: StatusCode,
    bearer: &str,
    ctx: &TokenContext,
    methods: &[&str],
    with_catalog: bool,
) -> Result<Response, KsError> {
    let cat = if with_catalog {
        Some(st.read(|r| ops::catalog(r)).await?)
    } else {
        None
    };
    let mut resp = json(status, &render::token(ctx, methods, cat.as_deref()));
    let v = HeaderValue::from_str(bearer).map_err(|e| KsError(ApiError::internal(e)))?;
    resp.headers_mut().insert("x-subject-token", v);
    Ok(resp)
}

/// `POST /v3/auth/tokens`: a login. 201 with the token in `X-Subject-Token`.
pub async fn issue(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    body: KsJson,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let (login, scope) = parse_login(&body.0)?;
    let (outcome, method) = match login {
        Login::Password { user, password } => {
            st.bootstrapped().await?;
            let now = st.clock.now();
            let who = user.clone();
            let candidate = st
                .db
                .read(move |c| {
                    ops::resolve_login(
                        &mut starling_identity_store::IdentityStore::new(c),
                        &who,
                        now,
                    )
                })
                .await;
            let candidate = match candidate {
                Ok(c) => c,
                Err(e @ Error::Unauthorized { .. }) => {
                    // Same work as a wrong password: nothing to learn from timing.
                    st.hashing(move || password::verify_nothing(&password))
                        .await?;
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            };
            let hash = candidate.password_hash;
            let ok = st
                .hashing(move || password::verify(&hash, &password))
                .await?;
            let (uid, settings) = (candidate.user_id, st.settings);
            let outcome = st
                .write(move |r, now| {
                    ops::complete_login(r, &uid, ok, scope.as_ref(), now, settings)
                })
                .await?;
            (outcome, "password")
        }
        Login::Token(old) => {
            let outcome = st
                .write(move |r, now| ops::rescope(r, &old, scope.as_ref(), now))
                .await?;
            (outcome, "token")
        }
    };
    match outcome {
        LoginOutcome::Issued(bearer, ctx) => {
            tracing::info!(
                target: "audit",
                user = %ctx.user.name,
                project = ctx.project_name().unwrap_or("-"),
                audit_id = %ctx.token.audit_id,
                method,
                "token issued"
            );
            token_response(
                &st,
                StatusCode::CREATED,
                &bearer,
                &ctx,
                &[method],
                wants_catalog(&q),
            )
            .await
        }
        LoginOutcome::Refused(e) => Err(e.into()),
    }
}

fn subject(headers: &HeaderMap) -> Result<String, KsError> {
    let s = headers
        .get("x-subject-token")
        .ok_or_else(|| bad("X-Subject-Token is required"))?
        .to_str()
        .map_err(|_| bad("X-Subject-Token is not a valid token"))?
        .trim();
    if s.is_empty() || s.len() > token::MAX_TOKEN_LEN {
        return Err(KsError(ApiError::not_found("Could not find token.")));
    }
    Ok(s.to_string())
}

/// A caller may act on its own token; admins and services on any.
fn may_act(headers: &HeaderMap, who: &Principal, subject: &str) -> Result<(), KsError> {
    let own = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim() == subject);
    if own || policy::may_act_on_any_token(&who.roles, starling_auth::scope_of(who)) {
        Ok(())
    } else {
        Err(KsError(ApiError::forbidden(
            "You are not authorized to act on another user's token.",
        )))
    }
}

async fn validated(st: &IdentityState, subject: String) -> Result<TokenContext, KsError> {
    let now = st.clock.now();
    st.db
        .read(move |c| {
            ops::validate(
                &mut starling_identity_store::IdentityStore::new(c),
                &subject,
                now,
            )
        })
        .await
        .map_err(|e| match e {
            Error::Unauthorized { reason, .. } => {
                tracing::info!(target: "auth", %reason, "subject token not valid");
                KsError(ApiError::not_found("Could not find token."))
            }
            other => other.into(),
        })
}

/// `GET /v3/auth/tokens`: the subject token's body.
pub async fn validate(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let subject = subject(&headers)?;
    may_act(&headers, &who, &subject)?;
    let ctx = validated(&st, subject.clone()).await?;
    token_response(
        &st,
        StatusCode::OK,
        &subject,
        &ctx,
        &["password"],
        wants_catalog(&q),
    )
    .await
}

/// `HEAD /v3/auth/tokens`: 200 when the subject token is valid.
pub async fn check(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let subject = subject(&headers)?;
    may_act(&headers, &who, &subject)?;
    validated(&st, subject.clone()).await?;
    let mut resp = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&subject) {
        resp.headers_mut().insert("x-subject-token", v);
    }
    Ok(resp)
}

/// `DELETE /v3/auth/tokens`: revokes the subject token (204).
pub async fn revoke(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let subject = subject(&headers)?;
    may_act(&headers, &who, &subject)?;
    let s = subject.clone();
    st.write(move |r, now| ops::revoke(r, &s, now)).await?;
    st.cache.evict(&token::hash_of(&subject));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v3/auth/catalog`.
pub async fn catalog(
    State(st): State<IdentityState>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let cat = st.read(|r| ops::catalog(r)).await?;
    let base = base_url(&headers);
    Ok(json(
        StatusCode::OK,
        &wire::CatalogBody {
            catalog: render::catalog(&cat),
            links: wire::Links {
                href: format!("{base}/v3/auth/catalog").into(),
            },
        },
    ))
}

/// `GET /v3/auth/projects`: the projects the caller may scope to.
pub async fn projects(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let uid = who.user_id.clone();
    let ps = st
        .read(move |r| starling_identity::admin::projects_of(r, &uid))
        .await?;
    let base = base_url(&headers);
    Ok(json(
        StatusCode::OK,
        &wire::ProjectList {
            links: render::list_links(&base, "auth/projects"),
            projects: ps.iter().map(|p| render::project(&base, p)).collect(),
        },
    ))
}
