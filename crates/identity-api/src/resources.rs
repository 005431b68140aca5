//! Administration: domains, projects, users, roles, grants, role
//! assignments, services, endpoints and regions.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Extension, MatchedPath, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use starling_http::{Principal, QueryPairs, base_url};
use starling_identity::admin::{self, *};
use starling_identity::repo::IdentityRepo;
use starling_identity::{
    Assignment, Domain, Endpoint, Error, Interface, Project, Role, Service, Target, User, password,
};

use crate::body::{Fields, KsJson};
use crate::{IdentityState, KsError, json, render};
use starling_identity_types as wire;

/// A collection's `links`.
fn links(headers: &HeaderMap, path: &str) -> wire::ListLinks<'static> {
    render::list_links(&base_url(headers), path)
}

/// A record type of the API: its JSON key, how it is read and rendered.
pub trait Shown: Sized + Send + 'static {
    /// The envelope key and the noun of "Could not find …".
    const KEY: &'static str;
    /// Reads one by id.
    fn fetch(r: &mut dyn IdentityRepo, id: &str) -> Result<Option<Self>, Error>;
    /// Its answer, `{"<key>": record}`.
    type Body<'a>: serde::Serialize;
    /// Keystone's JSON.
    fn body<'a>(base: &str, v: &'a Self) -> Self::Body<'a>;
}

macro_rules! shown {
    ($t:ty, $key:literal, $fetch:ident, $body:ident, $render:path) => {
        impl Shown for $t {
            const KEY: &'static str = $key;
            type Body<'a> = wire::$body<'a>;
            fn fetch(r: &mut dyn IdentityRepo, id: &str) -> Result<Option<Self>, Error> {
                r.$fetch(id)
            }
            fn body<'a>(base: &str, v: &'a Self) -> Self::Body<'a> {
                wire::$body {
                    item: $render(base, v),
                }
            }
        }
    };
}

shown!(Domain, "domain", domain, DomainBody, render::domain);
shown!(Project, "project", project, ProjectBody, render::project);
shown!(User, "user", user, UserBody, render::user);
shown!(Role, "role", role, RoleBody, render::role);
shown!(Service, "service", service, ServiceBody, render::service);
shown!(
    Endpoint,
    "endpoint",
    endpoint,
    EndpointBody,
    render::endpoint
);

/// `{"<key>": record}` with `status`.
fn answer<T: Shown>(status: StatusCode, headers: &HeaderMap, v: &T) -> Response {
    json(status, &T::body(&base_url(headers), v))
}

/// `GET /v3/<kind>/{id}` of any record type.
pub async fn get_one<T: Shown>(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let i = id.clone();
    let v = st
        .read(move |r| T::fetch(r, &i))
        .await?
        .ok_or_else(|| missing(T::KEY, &id))?;
    Ok(answer(StatusCode::OK, &headers, &v))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn matches(filter: Option<&str>, v: &str) -> bool {
    filter.is_none_or(|f| f == v)
}

fn enabled_filter(q: &QueryPairs) -> Result<Option<bool>, KsError> {
    q.bool("enabled").map_err(KsError)
}

// ----- domains -----

pub async fn list_domains(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let en = enabled_filter(&q)?;
    let base = base_url(&headers);
    let rows = st.read(|r| r.domains()).await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|d| matches(q.last("name"), &d.name) && en.is_none_or(|e| e == d.enabled))
        .map(|d| render::domain(&base, d))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::DomainList {
            domains: items,
            links: links(&headers, "domains"),
        },
    ))
}

pub async fn create_domain(
    State(st): State<IdentityState>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("domain")?;
    let d = NewDomain {
        name: f.required("name")?,
        description: f.string("description")?.unwrap_or_default(),
        enabled: f.boolean("enabled")?.unwrap_or(true),
    };
    let d = st
        .admin_write(move |r, _| admin::create_domain(r, d.clone()))
        .await?;
    Ok(answer(StatusCode::CREATED, &headers, &d))
}

fn missing(what: &str, id: &str) -> KsError {
    KsError(starling_http::ApiError::not_found(format!(
        "Could not find {what}: {id}."
    )))
}

pub async fn update_domain(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("domain")?;
    let p = DomainPatch {
        name: f.string("name")?,
        description: f.string("description")?,
        enabled: f.boolean("enabled")?,
    };
    let d = st
        .admin_write(move |r, _| admin::update_domain(r, &id, p.clone()))
        .await?;
    Ok(answer(StatusCode::OK, &headers, &d))
}

pub async fn delete_domain(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<Response, KsError> {
    st.admin_write(move |r, _| admin::delete_domain(r, &id))
        .await?;
    Ok(no_content())
}

// ----- projects -----

pub async fn list_projects(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let en = enabled_filter(&q)?;
    let dom = q.last("domain_id").map(str::to_string);
    let base = base_url(&headers);
    let rows = st.read(move |r| r.projects(dom.as_deref())).await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|p| matches(q.last("name"), &p.name) && en.is_none_or(|e| e == p.enabled))
        .map(|p| render::project(&base, p))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::ProjectList {
            links: links(&headers, "projects"),
            projects: items,
        },
    ))
}

pub async fn create_project(
    State(st): State<IdentityState>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("project")?;
    if f.boolean("is_domain")? == Some(true) {
        return Err(KsError::bad_request(
            "Projects acting as domains are not supported; create a domain",
        ));
    }
    let domain_id = f.string("domain_id")?.unwrap_or_default();
    if let Some(parent) = f.string("parent_id")?
        && parent != domain_id
        && !domain_id.is_empty()
    {
        return Err(KsError::bad_request(
            "Nested projects are not supported: parent_id must be the project's domain",
        ));
    }
    let p = NewProject {
        name: f.required("name")?,
        domain_id,
        description: f.string("description")?.unwrap_or_default(),
        enabled: f.boolean("enabled")?.unwrap_or(true),
    };
    let p = st
        .admin_write(move |r, _| admin::create_project(r, p.clone()))
        .await?;
    Ok(answer(StatusCode::CREATED, &headers, &p))
}

pub async fn update_project(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("project")?;
    let p = ProjectPatch {
        name: f.string("name")?,
        description: f.string("description")?,
        enabled: f.boolean("enabled")?,
    };
    let p = st
        .admin_write(move |r, _| admin::update_project(r, &id, p.clone()))
        .await?;
    Ok(answer(StatusCode::OK, &headers, &p))
}

pub async fn delete_project(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<Response, KsError> {
    st.admin_write(move |r, _| admin::delete_project(r, &id))
        .await?;
    Ok(no_content())
}

// ----- users -----

pub async fn list_users(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let en = enabled_filter(&q)?;
    let dom = q.last("domain_id").map(str::to_string);
    let base = base_url(&headers);
    let rows = st.read(move |r| r.users(dom.as_deref())).await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|u| matches(q.last("name"), &u.name) && en.is_none_or(|e| e == u.enabled))
        .map(|u| render::user(&base, u))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::UserList {
            links: links(&headers, "users"),
            users: items,
        },
    ))
}

/// Checks a new password against the rules and hashes it off the workers.
async fn new_password(st: &IdentityState, f: &Fields) -> Result<Option<String>, KsError> {
    match f.string("password")? {
        None => Ok(None),
        Some(pw) => {
            st.password_rules.check(&pw)?;
            let h = st.hashing(move || password::hash(&pw)).await??;
            Ok(Some(h))
        }
    }
}

pub async fn create_user(
    State(st): State<IdentityState>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("user")?;
    f.unsupported(&["federated"])?;
    let name = f.required("name")?;
    let u = NewUser {
        name,
        domain_id: f.string("domain_id")?.unwrap_or_default(),
        password_hash: None,
        enabled: f.boolean("enabled")?.unwrap_or(true),
        default_project_id: f.string("default_project_id")?,
        description: f.string("description")?.unwrap_or_default(),
        email: f.string("email")?.unwrap_or_default(),
    };
    let u = NewUser {
        password_hash: new_password(&st, &f).await?,
        ..u
    };
    let u = st
        .admin_write(move |r, now| admin::create_user(r, u.clone(), now))
        .await?;
    Ok(answer(StatusCode::CREATED, &headers, &u))
}

pub async fn update_user(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("user")?;
    let p = UserPatch {
        name: f.string("name")?,
        password_hash: None,
        enabled: f.boolean("enabled")?,
        default_project_id: f.nullable("default_project_id")?,
        description: f.string("description")?,
        email: f.string("email")?,
    };
    let p = UserPatch {
        password_hash: new_password(&st, &f).await?,
        ..p
    };
    let caller = who.user_id.clone();
    let u = st
        .admin_write(move |r, _| admin::update_user(r, &id, p.clone(), &caller))
        .await?;
    Ok(answer(StatusCode::OK, &headers, &u))
}

pub async fn delete_user(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    Path(id): Path<String>,
) -> Result<Response, KsError> {
    let caller = who.user_id.clone();
    st.admin_write(move |r, _| admin::delete_user(r, &id, &caller))
        .await?;
    Ok(no_content())
}

// ----- roles -----

pub async fn list_roles(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let base = base_url(&headers);
    let rows = st.read(|r| r.roles()).await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|r| matches(q.last("name"), &r.name))
        .map(|r| render::role(&base, r))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::RoleList {
            links: links(&headers, "roles"),
            roles: items,
        },
    ))
}

pub async fn create_role(
    State(st): State<IdentityState>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("role")?;
    f.unsupported(&["domain_id"])?;
    let name = f.required("name")?;
    let r = st
        .admin_write(move |r, _| admin::create_role(r, name.clone()))
        .await?;
    Ok(answer(StatusCode::CREATED, &headers, &r))
}

pub async fn delete_role(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<Response, KsError> {
    st.admin_write(move |r, _| admin::delete_role(r, &id))
        .await?;
    Ok(no_content())
}

// ----- grants -----

fn target_of(path: &MatchedPath, id: String) -> Target {
    if path.as_str().starts_with("/v3/domains/") {
        Target::Domain(id)
    } else {
        Target::Project(id)
    }
}

pub async fn list_grants(
    State(st): State<IdentityState>,
    mp: MatchedPath,
    Path((id, user)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let target = target_of(&mp, id);
    let base = base_url(&headers);
    let roles = st
        .read(move |r| {
            admin::check_assignment_target(r, &user, &target)?;
            r.roles_on(&user, &target)
        })
        .await?;
    Ok(json(
        StatusCode::OK,
        &wire::RoleList {
            links: links(&headers, "roles"),
            roles: roles.iter().map(|r| render::role(&base, r)).collect(),
        },
    ))
}

pub async fn check_grant(
    State(st): State<IdentityState>,
    mp: MatchedPath,
    Path((id, user, role)): Path<(String, String, String)>,
) -> Result<Response, KsError> {
    let a = Assignment {
        role_id: role,
        user_id: user,
        target: target_of(&mp, id),
    };
    let held = st
        .read(move |r| {
            admin::check_assignment(r, &a)?;
            Ok(!r
                .assignments(Some(&a.user_id), Some(&a.target), Some(&a.role_id))?
                .is_empty())
        })
        .await?;
    if held {
        Ok(no_content())
    } else {
        Err(KsError(starling_http::ApiError::not_found(
            "Could not find role assignment.",
        )))
    }
}

pub async fn grant(
    State(st): State<IdentityState>,
    mp: MatchedPath,
    Path((id, user, role)): Path<(String, String, String)>,
) -> Result<Response, KsError> {
    let a = Assignment {
        role_id: role,
        user_id: user,
        target: target_of(&mp, id),
    };
    st.admin_write(move |r, _| admin::grant(r, &a)).await?;
    Ok(no_content())
}

pub async fn revoke_grant(
    State(st): State<IdentityState>,
    Extension(who): Extension<Arc<Principal>>,
    mp: MatchedPath,
    Path((id, user, role)): Path<(String, String, String)>,
) -> Result<Response, KsError> {
    let a = Assignment {
        role_id: role,
        user_id: user,
        target: target_of(&mp, id),
    };
    let caller = who.user_id.clone();
    st.admin_write(move |r, _| admin::revoke_grant(r, &a, &caller))
        .await?;
    Ok(no_content())
}

/// `GET /v3/role_assignments` with Keystone's filters (`user.id`,
/// `role.id`, `scope.project.id`, `scope.domain.id`, `include_names`).
pub async fn list_assignments(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let user = q.last("user.id").map(str::to_string);
    let role = q.last("role.id").map(str::to_string);
    let target = match (q.last("scope.project.id"), q.last("scope.domain.id")) {
        (Some(p), None) => Some(Target::Project(p.to_string())),
        (None, Some(d)) => Some(Target::Domain(d.to_string())),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(KsError::bad_request(
                "Filter by scope.project.id or scope.domain.id, not both",
            ));
        }
    };
    if q.last("group.id").is_some() {
        return Err(KsError::bad_request("Groups are not supported"));
    }
    // `?include_names` alone means true, as in Keystone.
    let names = q.last("include_names") == Some("")
        || q.bool("include_names").map_err(KsError)?.unwrap_or(false);
    let base = base_url(&headers);
    type Names = Vec<render::Names>;
    let (list_, named): (Vec<Assignment>, Names) = st
        .read(move |r| {
            let list = r.assignments(user.as_deref(), target.as_ref(), role.as_deref())?;
            let mut named = Vec::new();
            if names {
                for a in &list {
                    let role = r.role(&a.role_id)?;
                    let user = r.user(&a.user_id)?;
                    let udom = match &user {
                        Some(u) => r.domain(&u.domain_id)?,
                        None => None,
                    };
                    let own = |s: String| Cow::Owned::<'static, str>(s);
                    let scope = match &a.target {
                        Target::Project(p) => match r.project(p)? {
                            Some(p) => {
                                let d = r.domain(&p.domain_id)?;
                                wire::Named {
                                    domain: Some(wire::DomainRef {
                                        id: Some(own(p.domain_id.clone())),
                                        name: d.map(|d| own(d.name)),
                                    }),
                                    id: own(p.id),
                                    name: Some(Some(own(p.name))),
                                }
                            }
                            None => wire::Named {
                                domain: None,
                                id: own(p.clone()),
                                name: None,
                            },
                        },
                        Target::Domain(d) => wire::Named {
                            domain: None,
                            id: own(d.clone()),
                            name: Some(r.domain(d)?.map(|d| own(d.name))),
                        },
                    };
                    named.push((
                        wire::Named {
                            domain: None,
                            id: own(a.role_id.clone()),
                            name: Some(role.map(|r| own(r.name))),
                        },
                        wire::Named {
                            domain: Some(wire::DomainRef {
                                id: udom.as_ref().map(|d| own(d.id.clone())),
                                name: udom.map(|d| own(d.name)),
                            }),
                            id: own(a.user_id.clone()),
                            name: Some(user.map(|u| own(u.name))),
                        },
                        scope,
                    ));
                }
            }
            Ok((list, named))
        })
        .await?;
    let mut named = named.into_iter();
    let items = list_
        .iter()
        .map(|a| render::assignment(&base, a, if names { named.next() } else { None }))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::AssignmentList {
            links: links(&headers, "role_assignments"),
            role_assignments: items,
        },
    ))
}

// ----- services -----

pub async fn list_services(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let base = base_url(&headers);
    let rows = st.read(|r| r.services()).await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|s| matches(q.last("type"), &s.kind) && matches(q.last("name"), &s.name))
        .map(|s| render::service(&base, s))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::ServiceList {
            links: links(&headers, "services"),
            services: items,
        },
    ))
}

pub async fn create_service(
    State(st): State<IdentityState>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("service")?;
    let s = NewService {
        kind: f.required("type")?,
        name: f.string("name")?.unwrap_or_default(),
        description: f.string("description")?.unwrap_or_default(),
        enabled: f.boolean("enabled")?.unwrap_or(true),
    };
    let s = st
        .admin_write(move |r, _| admin::create_service(r, s.clone()))
        .await?;
    Ok(answer(StatusCode::CREATED, &headers, &s))
}

pub async fn update_service(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("service")?;
    let p = ServicePatch {
        kind: f.string("type")?,
        name: f.string("name")?,
        description: f.string("description")?,
        enabled: f.boolean("enabled")?,
    };
    let s = st
        .admin_write(move |r, _| admin::update_service(r, &id, p.clone()))
        .await?;
    Ok(answer(StatusCode::OK, &headers, &s))
}

pub async fn delete_service(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<Response, KsError> {
    st.admin_write(move |r, _| admin::delete_service(r, &id))
        .await?;
    Ok(no_content())
}

// ----- endpoints -----

fn interface(f: &Fields) -> Result<Option<Interface>, KsError> {
    match f.string("interface")? {
        None => Ok(None),
        Some(s) => Interface::parse(&s).map(Some).ok_or_else(|| {
            KsError::bad_request(format!(
                "Invalid interface '{s}': expected public, internal or admin"
            ))
        }),
    }
}

/// `region_id`, or the older `region`.
fn region(f: &Fields) -> Result<Option<String>, KsError> {
    Ok(f.string("region_id")?.or(f.string("region")?))
}

pub async fn list_endpoints(
    State(st): State<IdentityState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let q = QueryPairs::parse(q.as_deref());
    let iface = match q.last("interface") {
        None => None,
        Some(s) => Some(Interface::parse(s).ok_or_else(|| {
            KsError::bad_request(format!(
                "Invalid interface '{s}': expected public, internal or admin"
            ))
        })?),
    };
    let region = q.last("region_id").or(q.last("region"));
    let base = base_url(&headers);
    let rows = st.read(|r| r.endpoints()).await?;
    let items: Vec<_> = rows
        .iter()
        .filter(|e| {
            matches(q.last("service_id"), &e.service_id)
                && matches(region, &e.region)
                && iface.is_none_or(|i| i == e.interface)
        })
        .map(|e| render::endpoint(&base, e))
        .collect();
    Ok(json(
        StatusCode::OK,
        &wire::EndpointList {
            endpoints: items,
            links: links(&headers, "endpoints"),
        },
    ))
}

pub async fn create_endpoint(
    State(st): State<IdentityState>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("endpoint")?;
    let e = NewEndpoint {
        service_id: f.required("service_id")?,
        interface: interface(&f)?
            .ok_or_else(|| KsError::bad_request("'interface' is a required property"))?,
        region: region(&f)?.unwrap_or_else(|| "RegionOne".into()),
        url: f.required("url")?,
        enabled: f.boolean("enabled")?.unwrap_or(true),
    };
    let e = st
        .admin_write(move |r, _| admin::create_endpoint(r, e.clone()))
        .await?;
    Ok(answer(StatusCode::CREATED, &headers, &e))
}

pub async fn update_endpoint(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: KsJson,
) -> Result<Response, KsError> {
    let f = body.object("endpoint")?;
    f.unsupported(&["service_id"])?;
    let p = EndpointPatch {
        interface: interface(&f)?,
        region: region(&f)?,
        url: f.string("url")?,
        enabled: f.boolean("enabled")?,
    };
    let e = st
        .admin_write(move |r, _| admin::update_endpoint(r, &id, p.clone()))
        .await?;
    Ok(answer(StatusCode::OK, &headers, &e))
}

pub async fn delete_endpoint(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
) -> Result<Response, KsError> {
    st.admin_write(move |r, _| admin::delete_endpoint(r, &id))
        .await?;
    Ok(no_content())
}

// ----- regions (the regions endpoints name) -----

async fn regions(st: &IdentityState) -> Result<Vec<String>, KsError> {
    let mut rs: Vec<String> = st
        .read(|r| r.endpoints())
        .await?
        .into_iter()
        .map(|e| e.region)
        .collect();
    rs.sort();
    rs.dedup();
    Ok(rs)
}

pub async fn list_regions(
    State(st): State<IdentityState>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    let base = base_url(&headers);
    let rows = regions(&st).await?;
    let items: Vec<_> = rows.iter().map(|r| render::region(&base, r)).collect();
    Ok(json(
        StatusCode::OK,
        &wire::RegionList {
            links: links(&headers, "regions"),
            regions: items,
        },
    ))
}

pub async fn get_region(
    State(st): State<IdentityState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, KsError> {
    if !regions(&st).await?.contains(&id) {
        return Err(missing("region", &id));
    }
    Ok(json(
        StatusCode::OK,
        &wire::RegionBody {
            item: render::region(&base_url(&headers), &id),
        },
    ))
}
