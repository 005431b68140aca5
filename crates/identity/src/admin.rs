//! The administrator's operations on identity records: create, change and
//! delete domains, projects, users, roles, grants, services and endpoints,
//! with the rules that keep a cloud reachable (the records bootstrap made and
//! an administrator's own account cannot be removed from under them).
//!
//! Passwords arrive here already hashed: hashing is slow and runs outside the
//! transaction, like login.

use crate::Error;
use crate::model::*;
use crate::repo::IdentityRepo;

/// Projects bootstrap creates in the Default domain; StarlingX's policies name
/// them, so they cannot be deleted, disabled or renamed.
pub const PROTECTED_PROJECTS: [&str; 2] = ["admin", "services"];

fn missing(what: &str, id: &str) -> Error {
    Error::not_found(format!("Could not find {what}: {id}."))
}

fn check_description(d: &str) -> Result<(), Error> {
    if d.len() > 65_535 {
        return Err(Error::invalid("The description is longer than 65535 bytes"));
    }
    Ok(())
}

/// A new domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewDomain {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Enabled.
    pub enabled: bool,
}

/// Changes to a domain; `None` keeps the field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Creates a domain.
pub fn create_domain(repo: &mut dyn IdentityRepo, d: NewDomain) -> Result<Domain, Error> {
    check_name("domain", &d.name)?;
    check_description(&d.description)?;
    if repo.domain_by_name(&d.name)?.is_some() {
        return Err(Error::conflict(format!(
            "Conflict occurred attempting to store domain - Duplicate entry found with name {}.",
            d.name
        )));
    }
    let dom = Domain {
        id: new_id()?,
        name: d.name,
        description: d.description,
        enabled: d.enabled,
    };
    repo.insert_domain(&dom)?;
    Ok(dom)
}

/// Changes a domain. The Default domain cannot be disabled or renamed.
pub fn update_domain(
    repo: &mut dyn IdentityRepo,
    id: &str,
    p: DomainPatch,
) -> Result<Domain, Error> {
    let mut d = repo.domain(id)?.ok_or_else(|| missing("domain", id))?;
    if let Some(name) = p.name {
        check_name("domain", &name)?;
        if name != d.name {
            if d.id == DEFAULT_DOMAIN_ID {
                return Err(Error::Forbidden(
                    "The Default domain cannot be renamed.".into(),
                ));
            }
            if repo.domain_by_name(&name)?.is_some() {
                return Err(Error::conflict(format!(
                    "Conflict occurred attempting to store domain - Duplicate entry found with name {name}."
                )));
            }
            d.name = name;
        }
    }
    if let Some(desc) = p.description {
        check_description(&desc)?;
        d.description = desc;
    }
    if let Some(e) = p.enabled {
        if !e && d.id == DEFAULT_DOMAIN_ID {
            return Err(Error::Forbidden(
                "The Default domain cannot be disabled.".into(),
            ));
        }
        d.enabled = e;
    }
    repo.update_domain(&d)?;
    Ok(d)
}

/// Deletes a domain: it must be disabled first (as in Keystone), must not be
/// the Default domain, and must hold no projects or users.
pub fn delete_domain(repo: &mut dyn IdentityRepo, id: &str) -> Result<(), Error> {
    let d = repo.domain(id)?.ok_or_else(|| missing("domain", id))?;
    if d.id == DEFAULT_DOMAIN_ID {
        return Err(Error::Forbidden(
            "The Default domain cannot be deleted.".into(),
        ));
    }
    if d.enabled {
        return Err(Error::Forbidden(
            "Cannot delete a domain that is enabled, please disable it first.".into(),
        ));
    }
    if !repo.projects(Some(id))?.is_empty() || !repo.users(Some(id))?.is_empty() {
        return Err(Error::conflict(format!(
            "Domain {} still holds projects or users; delete them first.",
            d.name
        )));
    }
    repo.delete_domain(id)
}

/// A new project.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewProject {
    /// Name, unique in its domain.
    pub name: String,
    /// Owning domain (Default when empty).
    pub domain_id: String,
    /// Free text.
    pub description: String,
    /// Enabled.
    pub enabled: bool,
}

/// Changes to a project.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

fn is_protected(p: &Project) -> bool {
    p.domain_id == DEFAULT_DOMAIN_ID && PROTECTED_PROJECTS.contains(&p.name.as_str())
}

/// Creates a project in an existing domain.
pub fn create_project(repo: &mut dyn IdentityRepo, p: NewProject) -> Result<Project, Error> {
    check_name("project", &p.name)?;
    check_description(&p.description)?;
    let domain_id = if p.domain_id.is_empty() {
        DEFAULT_DOMAIN_ID.to_string()
    } else {
        p.domain_id
    };
    if repo.domain(&domain_id)?.is_none() {
        return Err(Error::invalid(format!(
            "Could not find domain: {domain_id}."
        )));
    }
    if repo.project_by_name(&domain_id, &p.name)?.is_some() {
        return Err(Error::conflict(format!(
            "Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {}.",
            p.name
        )));
    }
    let proj = Project {
        id: new_id()?,
        name: p.name,
        domain_id,
        description: p.description,
        enabled: p.enabled,
    };
    repo.insert_project(&proj)?;
    Ok(proj)
}

/// Changes a project; bootstrap's admin and services projects keep their
/// names and stay enabled.
pub fn update_project(
    repo: &mut dyn IdentityRepo,
    id: &str,
    p: ProjectPatch,
) -> Result<Project, Error> {
    let mut proj = repo.project(id)?.ok_or_else(|| missing("project", id))?;
    if let Some(name) = p.name {
        check_name("project", &name)?;
        if name != proj.name {
            if is_protected(&proj) {
                return Err(Error::Forbidden(format!(
                    "Project {} is required by the platform and cannot be renamed.",
                    proj.name
                )));
            }
            if repo.project_by_name(&proj.domain_id, &name)?.is_some() {
                return Err(Error::conflict(format!(
                    "Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : {name}."
                )));
            }
            proj.name = name;
        }
    }
    if let Some(desc) = p.description {
        check_description(&desc)?;
        proj.description = desc;
    }
    if let Some(e) = p.enabled {
        if !e && is_protected(&proj) {
            return Err(Error::Forbidden(format!(
                "Project {} is required by the platform and cannot be disabled.",
                proj.name
            )));
        }
        proj.enabled = e;
    }
    repo.update_project(&proj)?;
    Ok(proj)
}

/// Deletes a project and the role assignments on it (its tokens stop
/// validating because the project is gone).
pub fn delete_project(repo: &mut dyn IdentityRepo, id: &str) -> Result<(), Error> {
    let p = repo.project(id)?.ok_or_else(|| missing("project", id))?;
    if is_protected(&p) {
        return Err(Error::Forbidden(format!(
            "Project {} is required by the platform and cannot be deleted.",
            p.name
        )));
    }
    repo.delete_project(id)
}

/// A new user; the password, if any, is already hashed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewUser {
    /// Name, unique in its domain.
    pub name: String,
    /// Owning domain (Default when empty).
    pub domain_id: String,
    /// argon2id hash.
    pub password_hash: Option<String>,
    /// Enabled.
    pub enabled: bool,
    /// Project used when a login names no scope.
    pub default_project_id: Option<String>,
    /// Free text.
    pub description: String,
    /// Email.
    pub email: String,
}

/// Changes to a user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPatch {
    /// New name.
    pub name: Option<String>,
    /// New password, hashed.
    pub password_hash: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New default project (`Some(None)` clears it).
    pub default_project_id: Option<Option<String>>,
    /// New description.
    pub description: Option<String>,
    /// New email.
    pub email: Option<String>,
}

fn check_default_project(repo: &mut dyn IdentityRepo, p: Option<&str>) -> Result<(), Error> {
    if let Some(p) = p
        && repo.project(p)?.is_none()
    {
        return Err(Error::invalid(format!("Could not find project: {p}.")));
    }
    Ok(())
}

/// Creates a user in an existing domain.
pub fn create_user(
    repo: &mut dyn IdentityRepo,
    u: NewUser,
    now: starling_common::Timestamp,
) -> Result<User, Error> {
    check_name("user", &u.name)?;
    check_description(&u.description)?;
    let domain_id = if u.domain_id.is_empty() {
        DEFAULT_DOMAIN_ID.to_string()
    } else {
        u.domain_id
    };
    if repo.domain(&domain_id)?.is_none() {
        return Err(Error::invalid(format!(
            "Could not find domain: {domain_id}."
        )));
    }
    check_default_project(repo, u.default_project_id.as_deref())?;
    if repo.user_by_name(&domain_id, &u.name)?.is_some() {
        return Err(Error::conflict(format!(
            "Conflict occurred attempting to store user - Duplicate entry found with name {} at domain ID {domain_id}.",
            u.name
        )));
    }
    let user = User {
        id: new_id()?,
        name: u.name,
        domain_id,
        enabled: u.enabled,
        password_hash: u.password_hash,
        default_project_id: u.default_project_id,
        failed_logins: 0,
        locked_until: None,
        description: u.description,
        email: u.email,
        created_at: now,
    };
    repo.insert_user(&user)?;
    Ok(user)
}

/// Changes a user. A new password clears any lockout; a new password or
/// disabling the user revokes every token the user holds. `caller` (a user
/// id) cannot disable itself.
pub fn update_user(
    repo: &mut dyn IdentityRepo,
    id: &str,
    p: UserPatch,
    caller: &str,
) -> Result<User, Error> {
    let mut u = repo.user(id)?.ok_or_else(|| missing("user", id))?;
    let mut revoke = false;
    if let Some(name) = p.name {
        check_name("user", &name)?;
        if name != u.name {
            if repo.user_by_name(&u.domain_id, &name)?.is_some() {
                return Err(Error::conflict(format!(
                    "Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {}.",
                    u.domain_id
                )));
            }
            u.name = name;
        }
    }
    if let Some(h) = p.password_hash {
        u.password_hash = Some(h);
        u.failed_logins = 0;
        u.locked_until = None;
        revoke = true;
    }
    if let Some(e) = p.enabled {
        if !e && u.id == caller {
            return Err(Error::Forbidden("You cannot disable your own user.".into()));
        }
        revoke |= u.enabled && !e;
        u.enabled = e;
    }
    if let Some(dp) = p.default_project_id {
        check_default_project(repo, dp.as_deref())?;
        u.default_project_id = dp;
    }
    if let Some(d) = p.description {
        check_description(&d)?;
        u.description = d;
    }
    if let Some(e) = p.email {
        u.email = e;
    }
    repo.update_user(&u)?;
    if revoke {
        repo.revoke_user_tokens(&u.id)?;
    }
    Ok(u)
}

/// Deletes a user with its assignments and tokens; a caller cannot delete
/// itself.
pub fn delete_user(repo: &mut dyn IdentityRepo, id: &str, caller: &str) -> Result<(), Error> {
    let u = repo.user(id)?.ok_or_else(|| missing("user", id))?;
    if u.id == caller {
        return Err(Error::Forbidden("You cannot delete your own user.".into()));
    }
    repo.delete_user(id)
}

/// Creates a role.
pub fn create_role(repo: &mut dyn IdentityRepo, name: String) -> Result<Role, Error> {
    check_name("role", &name)?;
    if repo.role_by_name(&name)?.is_some() {
        return Err(Error::conflict(format!(
            "Conflict occurred attempting to store role - Duplicate entry found with name {name}."
        )));
    }
    let r = Role {
        id: new_id()?,
        name,
    };
    repo.insert_role(&r)?;
    Ok(r)
}

/// Deletes a role and its assignments; the roles StarlingX's policies name
/// cannot be deleted.
pub fn delete_role(repo: &mut dyn IdentityRepo, id: &str) -> Result<(), Error> {
    let r = repo.role(id)?.ok_or_else(|| missing("role", id))?;
    if BOOTSTRAP_ROLES.contains(&r.name.as_str()) {
        return Err(Error::Forbidden(format!(
            "Role {} is required by the platform's policies and cannot be deleted.",
            r.name
        )));
    }
    repo.delete_role(id)
}

fn check_target(repo: &mut dyn IdentityRepo, t: &Target) -> Result<(), Error> {
    match t {
        Target::Project(p) if repo.project(p)?.is_none() => Err(missing("project", p)),
        Target::Domain(d) if repo.domain(d)?.is_none() => Err(missing("domain", d)),
        _ => Ok(()),
    }
}

/// Checks that the role, user and target of an assignment exist.
pub fn check_assignment(repo: &mut dyn IdentityRepo, a: &Assignment) -> Result<(), Error> {
    if repo.role(&a.role_id)?.is_none() {
        return Err(missing("role", &a.role_id));
    }
    if repo.user(&a.user_id)?.is_none() {
        return Err(missing("user", &a.user_id));
    }
    check_target(repo, &a.target)
}

/// Checks that a user and a target exist (listing a user's roles there).
pub fn check_assignment_target(
    repo: &mut dyn IdentityRepo,
    user_id: &str,
    t: &Target,
) -> Result<(), Error> {
    if repo.user(user_id)?.is_none() {
        return Err(missing("user", user_id));
    }
    check_target(repo, t)
}

/// Grants a role (idempotent).
pub fn grant(repo: &mut dyn IdentityRepo, a: &Assignment) -> Result<(), Error> {
    check_assignment(repo, a)?;
    repo.grant(a)
}

/// Removes a grant; 404 when there is none. A caller cannot remove its own
/// admin role on project admin (the last way back in).
pub fn revoke_grant(
    repo: &mut dyn IdentityRepo,
    a: &Assignment,
    caller: &str,
) -> Result<(), Error> {
    check_assignment(repo, a)?;
    if a.user_id == caller
        && let Target::Project(p) = &a.target
        && repo
            .project(p)?
            .is_some_and(|p| p.domain_id == DEFAULT_DOMAIN_ID && p.name == "admin")
        && repo.role(&a.role_id)?.is_some_and(|r| r.name == "admin")
    {
        return Err(Error::Forbidden(
            "You cannot remove your own admin role on project admin.".into(),
        ));
    }
    if !repo.ungrant(a)? {
        return Err(Error::not_found(format!(
            "Could not find role assignment with role: {}, user or group: {}, project, domain, or system: {}.",
            a.role_id,
            a.user_id,
            match &a.target {
                Target::Project(x) | Target::Domain(x) => x,
            }
        )));
    }
    Ok(())
}

/// A new catalog service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewService {
    /// Service type.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Enabled.
    pub enabled: bool,
}

/// Changes to a service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServicePatch {
    /// New type.
    pub kind: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// Creates a service.
pub fn create_service(repo: &mut dyn IdentityRepo, s: NewService) -> Result<Service, Error> {
    check_name("service type", &s.kind)?;
    if !s.name.is_empty() {
        check_name("service", &s.name)?;
    }
    check_description(&s.description)?;
    let svc = Service {
        id: new_id()?,
        kind: s.kind,
        name: s.name,
        description: s.description,
        enabled: s.enabled,
    };
    repo.insert_service(&svc)?;
    Ok(svc)
}

/// Changes a service.
pub fn update_service(
    repo: &mut dyn IdentityRepo,
    id: &str,
    p: ServicePatch,
) -> Result<Service, Error> {
    let mut s = repo.service(id)?.ok_or_else(|| missing("service", id))?;
    if let Some(k) = p.kind {
        check_name("service type", &k)?;
        s.kind = k;
    }
    if let Some(n) = p.name {
        if !n.is_empty() {
            check_name("service", &n)?;
        }
        s.name = n;
    }
    if let Some(d) = p.description {
        check_description(&d)?;
        s.description = d;
    }
    if let Some(e) = p.enabled {
        s.enabled = e;
    }
    repo.update_service(&s)?;
    Ok(s)
}

/// Deletes a service and its endpoints.
pub fn delete_service(repo: &mut dyn IdentityRepo, id: &str) -> Result<(), Error> {
    repo.service(id)?.ok_or_else(|| missing("service", id))?;
    repo.delete_service(id)
}

/// A new endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEndpoint {
    /// The service.
    pub service_id: String,
    /// Interface.
    pub interface: Interface,
    /// Region.
    pub region: String,
    /// URL.
    pub url: String,
    /// Enabled.
    pub enabled: bool,
}

/// Changes to an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointPatch {
    /// New interface.
    pub interface: Option<Interface>,
    /// New region.
    pub region: Option<String>,
    /// New URL.
    pub url: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

fn check_url(url: &str) -> Result<(), Error> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "Invalid endpoint URL '{url}': an http:// or https:// URL is expected"
        )))
    }
}

/// Creates an endpoint of an existing service.
pub fn create_endpoint(repo: &mut dyn IdentityRepo, e: NewEndpoint) -> Result<Endpoint, Error> {
    if repo.service(&e.service_id)?.is_none() {
        return Err(Error::invalid(format!(
            "Could not find service: {}.",
            e.service_id
        )));
    }
    check_url(&e.url)?;
    check_name("region", &e.region)?;
    let ep = Endpoint {
        id: new_id()?,
        service_id: e.service_id,
        interface: e.interface,
        region: e.region,
        url: e.url,
        enabled: e.enabled,
    };
    repo.insert_endpoint(&ep)?;
    Ok(ep)
}

/// Changes an endpoint.
pub fn update_endpoint(
    repo: &mut dyn IdentityRepo,
    id: &str,
    p: EndpointPatch,
) -> Result<Endpoint, Error> {
    let mut e = repo.endpoint(id)?.ok_or_else(|| missing("endpoint", id))?;
    if let Some(i) = p.interface {
        e.interface = i;
    }
    if let Some(r) = p.region {
        check_name("region", &r)?;
        e.region = r;
    }
    if let Some(u) = p.url {
        check_url(&u)?;
        e.url = u;
    }
    if let Some(en) = p.enabled {
        e.enabled = en;
    }
    repo.update_endpoint(&e)?;
    Ok(e)
}

/// Deletes an endpoint.
pub fn delete_endpoint(repo: &mut dyn IdentityRepo, id: &str) -> Result<(), Error> {
    repo.endpoint(id)?.ok_or_else(|| missing("endpoint", id))?;
    repo.delete_endpoint(id)
}

/// The projects a user holds a role on (`GET /v3/auth/projects`).
pub fn projects_of(repo: &mut dyn IdentityRepo, user_id: &str) -> Result<Vec<Project>, Error> {
    let mut out: Vec<Project> = Vec::new();
    for a in repo.assignments(Some(user_id), None, None)? {
        if let Target::Project(p) = &a.target
            && !out.iter().any(|x| &x.id == p)
            && let Some(p) = repo.project(p)?
            && p.enabled
        {
            out.push(p);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
