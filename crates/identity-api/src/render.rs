//! Identity records into their Keystone v3 wire shapes
//! (`starling-identity-types`).

use std::borrow::Cow;

use starling_identity::{
    Assignment, Domain, Endpoint, Project, Role, Service, Target, TokenContext,
};
use starling_identity_types as wire;

/// Keystone's timestamp format: `2026-11-21T12:00:00.000000Z`.
pub fn time(t: starling_common::Timestamp) -> String {
    format!("{}Z", t.to_naive_iso())
}

fn b(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

fn link(base: &str, path: &str, id: &str) -> wire::Links<'static> {
    wire::Links {
        href: Cow::Owned(format!("{base}/v3/{path}/{id}")),
    }
}

/// The `links` of a collection.
pub fn list_links(base: &str, path: &str) -> wire::ListLinks<'static> {
    wire::ListLinks {
        next: None,
        previous: None,
        href: Cow::Owned(format!("{base}/v3/{path}")),
    }
}

pub fn domain<'a>(base: &str, d: &'a Domain) -> wire::Domain<'a> {
    wire::Domain {
        description: b(&d.description),
        enabled: d.enabled,
        id: b(&d.id),
        links: link(base, "domains", &d.id),
        name: b(&d.name),
        options: wire::Options::new(),
        tags: Vec::new(),
    }
}

pub fn project<'a>(base: &str, p: &'a Project) -> wire::Project<'a> {
    wire::Project {
        description: b(&p.description),
        domain_id: b(&p.domain_id),
        enabled: p.enabled,
        id: b(&p.id),
        is_domain: false,
        links: link(base, "projects", &p.id),
        name: b(&p.name),
        options: wire::Options::new(),
        parent_id: b(&p.domain_id),
        tags: Vec::new(),
    }
}

pub fn user<'a>(base: &str, u: &'a starling_identity::User) -> wire::User<'a> {
    wire::User {
        default_project_id: u.default_project_id.as_deref().map(b),
        description: (!u.description.is_empty()).then(|| b(&u.description)),
        domain_id: b(&u.domain_id),
        email: (!u.email.is_empty()).then(|| b(&u.email)),
        enabled: u.enabled,
        id: b(&u.id),
        links: link(base, "users", &u.id),
        name: b(&u.name),
        options: wire::Options::new(),
        password_expires_at: None,
    }
}

pub fn role<'a>(base: &str, r: &'a Role) -> wire::Role<'a> {
    wire::Role {
        description: None,
        domain_id: None,
        id: b(&r.id),
        links: link(base, "roles", &r.id),
        name: b(&r.name),
        options: wire::Options::new(),
    }
}

pub fn service<'a>(base: &str, s: &'a Service) -> wire::Service<'a> {
    wire::Service {
        description: b(&s.description),
        enabled: s.enabled,
        id: b(&s.id),
        links: link(base, "services", &s.id),
        name: b(&s.name),
        service_type: b(&s.kind),
    }
}

pub fn endpoint<'a>(base: &str, e: &'a Endpoint) -> wire::Endpoint<'a> {
    wire::Endpoint {
        enabled: e.enabled,
        id: b(&e.id),
        interface: b(e.interface.as_str()),
        links: link(base, "endpoints", &e.id),
        region: b(&e.region),
        region_id: b(&e.region),
        service_id: b(&e.service_id),
        url: b(&e.url),
    }
}

pub fn region<'a>(base: &str, id: &'a str) -> wire::Region<'a> {
    wire::Region {
        description: b(""),
        id: b(id),
        links: link(base, "regions", id),
        parent_region_id: None,
    }
}

/// The named forms of an assignment's role, user and scope target
/// (`?include_names`).
pub type Names = (
    wire::Named<'static>,
    wire::Named<'static>,
    wire::Named<'static>,
);

/// A role assignment; `named` gives its role, user and scope target with
/// their names.
pub fn assignment<'a>(base: &str, a: &'a Assignment, named: Option<Names>) -> wire::Assignment<'a> {
    let (kind, target) = match &a.target {
        Target::Project(p) => ("projects", p),
        Target::Domain(d) => ("domains", d),
    };
    let id = |s: &'a str| wire::Named {
        domain: None,
        id: b(s),
        name: None,
    };
    let (role, user, on) = match named {
        Some((r, u, s)) => (r, u, s),
        None => (id(&a.role_id), id(&a.user_id), id(target)),
    };
    let scope = if kind == "projects" {
        wire::AssignmentScope {
            domain: None,
            project: Some(on),
        }
    } else {
        wire::AssignmentScope {
            domain: Some(on),
            project: None,
        }
    };
    wire::Assignment {
        links: wire::AssignmentLinks {
            assignment: Cow::Owned(format!(
                "{base}/v3/{kind}/{target}/users/{}/roles/{}",
                a.user_id, a.role_id
            )),
        },
        role,
        scope,
        user,
    }
}

/// The catalog of a token body.
pub fn catalog(cat: &[(Service, Vec<Endpoint>)]) -> Vec<wire::CatalogEntry<'_>> {
    cat.iter()
        .map(|(s, eps)| wire::CatalogEntry {
            endpoints: eps
                .iter()
                .map(|e| wire::CatalogEndpoint {
                    id: b(&e.id),
                    interface: b(e.interface.as_str()),
                    region: b(&e.region),
                    region_id: b(&e.region),
                    url: b(&e.url),
                })
                .collect(),
            id: b(&s.id),
            name: b(&s.name),
            service_type: b(&s.kind),
        })
        .collect()
}

fn id_name<'a>(id: &'a str, name: &'a str) -> wire::IdName<'a> {
    wire::IdName {
        id: b(id),
        name: b(name),
    }
}

/// Keystone's token body.
pub fn token<'a>(
    ctx: &'a TokenContext,
    methods: &[&'a str],
    cat: Option<&'a [(Service, Vec<Endpoint>)]>,
) -> wire::TokenBody<'a> {
    wire::TokenBody {
        item: wire::Token {
            audit_ids: vec![b(&ctx.token.audit_id)],
            catalog: cat.map(catalog),
            domain: ctx.domain.as_ref().map(|d| id_name(&d.id, &d.name)),
            expires_at: Cow::Owned(time(ctx.token.expires_at)),
            is_domain: ctx.project.as_ref().map(|_| false),
            issued_at: Cow::Owned(time(ctx.token.issued_at)),
            methods: methods.iter().map(|m| b(m)).collect(),
            project: ctx.project.as_ref().map(|(p, d)| wire::TokenProject {
                domain: id_name(&d.id, &d.name),
                id: b(&p.id),
                name: b(&p.name),
            }),
            roles: ctx
                .token
                .scope
                .is_some()
                .then(|| ctx.roles.iter().map(|r| id_name(&r.id, &r.name)).collect()),
            user: wire::TokenUser {
                domain: id_name(&ctx.user_domain.id, &ctx.user_domain.name),
                id: b(&ctx.user.id),
                name: b(&ctx.user.name),
                password_expires_at: None,
            },
        },
    }
}
