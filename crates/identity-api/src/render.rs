//! Keystone v3 JSON shapes of identity records.

use serde_json::{Value, json};
use starling_identity::{
    Assignment, Domain, Endpoint, Project, Role, Service, Target, TokenContext,
};

/// Keystone's timestamp format: `2026-11-21T12:00:00.000000Z`.
pub fn time(t: starling_common::Timestamp) -> String {
    format!("{}Z", t.to_naive_iso())
}

fn link(base: &str, path: &str, id: &str) -> Value {
    json!({"self": format!("{base}/v3/{path}/{id}")})
}

/// The `links` of a collection.
pub fn list_links(base: &str, path: &str) -> Value {
    json!({"self": format!("{base}/v3/{path}"), "previous": null, "next": null})
}

pub fn domain(base: &str, d: &Domain) -> Value {
    json!({
        "id": d.id, "name": d.name, "description": d.description, "enabled": d.enabled,
        "tags": [], "options": {}, "links": link(base, "domains", &d.id),
    })
}

pub fn project(base: &str, p: &Project) -> Value {
    json!({
        "id": p.id, "name": p.name, "domain_id": p.domain_id, "description": p.description,
        "enabled": p.enabled, "is_domain": false, "parent_id": p.domain_id, "tags": [],
        "options": {}, "links": link(base, "projects", &p.id),
    })
}

pub fn user(base: &str, u: &starling_identity::User) -> Value {
    let mut v = json!({
        "id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": u.enabled,
        "password_expires_at": null, "options": {}, "links": link(base, "users", &u.id),
    });
    if let Some(p) = &u.default_project_id {
        v["default_project_id"] = json!(p);
    }
    if !u.description.is_empty() {
        v["description"] = json!(u.description);
    }
    if !u.email.is_empty() {
        v["email"] = json!(u.email);
    }
    v
}

pub fn role(base: &str, r: &Role) -> Value {
    json!({
        "id": r.id, "name": r.name, "domain_id": null, "description": null, "options": {},
        "links": link(base, "roles", &r.id),
    })
}

pub fn service(base: &str, s: &Service) -> Value {
    json!({
        "id": s.id, "type": s.kind, "name": s.name, "description": s.description,
        "enabled": s.enabled, "links": link(base, "services", &s.id),
    })
}

pub fn endpoint(base: &str, e: &Endpoint) -> Value {
    json!({
        "id": e.id, "interface": e.interface.as_str(), "region": e.region,
        "region_id": e.region, "service_id": e.service_id, "url": e.url,
        "enabled": e.enabled, "links": link(base, "endpoints", &e.id),
    })
}

pub fn region(base: &str, id: &str) -> Value {
    json!({
        "id": id, "description": "", "parent_region_id": null,
        "links": link(base, "regions", id),
    })
}

/// A role assignment; `named` replaces its role, user and scope objects
/// with ones that carry names (`?include_names`).
pub fn assignment(base: &str, a: &Assignment, named: Option<(Value, Value, Value)>) -> Value {
    let (kind, target) = match &a.target {
        Target::Project(p) => ("projects", p),
        Target::Domain(d) => ("domains", d),
    };
    let scope_key = if kind == "projects" {
        "project"
    } else {
        "domain"
    };
    let mut v = json!({
        "role": {"id": a.role_id},
        "user": {"id": a.user_id},
        "scope": {scope_key: {"id": target}},
        "links": {"assignment": format!(
            "{base}/v3/{kind}/{target}/users/{}/roles/{}", a.user_id, a.role_id)},
    });
    if let Some((r, u, s)) = named {
        v["role"] = r;
        v["user"] = u;
        v["scope"] = json!({scope_key: s});
    }
    v
}

/// The catalog of a token body.
pub fn catalog(cat: &[(Service, Vec<Endpoint>)]) -> Value {
    Value::Array(
        cat.iter()
            .map(|(s, eps)| {
                json!({
                    "id": s.id, "type": s.kind, "name": s.name,
                    "endpoints": eps.iter().map(|e| json!({
                        "id": e.id, "interface": e.interface.as_str(), "region": e.region,
                        "region_id": e.region, "url": e.url,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// Keystone's token body.
pub fn token(
    ctx: &TokenContext,
    methods: &[&str],
    cat: Option<&[(Service, Vec<Endpoint>)]>,
) -> Value {
    let mut t = json!({
        "methods": methods,
        "user": {
            "id": ctx.user.id,
            "name": ctx.user.name,
            "domain": {"id": ctx.user_domain.id, "name": ctx.user_domain.name},
            "password_expires_at": null,
        },
        "audit_ids": [ctx.token.audit_id],
        "issued_at": time(ctx.token.issued_at),
        "expires_at": time(ctx.token.expires_at),
    });
    if let Some((p, d)) = &ctx.project {
        t["project"] = json!({
            "id": p.id, "name": p.name, "domain": {"id": d.id, "name": d.name},
        });
        t["is_domain"] = json!(false);
    }
    if let Some(d) = &ctx.domain {
        t["domain"] = json!({"id": d.id, "name": d.name});
    }
    if ctx.token.scope.is_some() {
        t["roles"] = Value::Array(
            ctx.roles
                .iter()
                .map(|r| json!({"id": r.id, "name": r.name}))
                .collect(),
        );
    }
    if let Some(c) = cat {
        t["catalog"] = catalog(c);
    }
    json!({ "token": t })
}
