//! The identity API's OpenAPI document: generated from [`OPS`] (one
//! operation per route of `ROUTES`) and the schemas of
//! `starling-identity-types`, kept in `openapi.json` and served (without a
//! token: it is where clients start) at `/openapi.json`. A test regenerates
//! it and fails on any difference (`STARLING_UPDATE_OPENAPI=1` rewrites it).
//!
//! Keystone ignores query parameters it does not know; so does this
//! service: the lists below are what its filters read.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;
use starling_http::openapi::{
    DocInfo, HEALTH_OPS, Op, ParamKind, QueryParam, document, schemas_of,
};
use starling_identity_types as wire;

/// The document text, as generated.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document_route() -> Response {
    starling_http::json_bytes(StatusCode::OK, DOCUMENT)
}

use ParamKind::{Bool, Str};

const NAME: QueryParam = QueryParam::new("name", Str, "Only the one of this name");
const ENABLED: QueryParam = QueryParam::new(
    "enabled",
    Bool,
    "Only enabled (true) or disabled (false) ones",
);
const DOMAIN_ID: QueryParam = QueryParam::new("domain_id", Str, "Only those of this domain");

const OK: &str = "OK";
const CREATED: &str = "Created";
const DONE: &str = "Done";

/// The record routes of one collection: list, create, show, update,
/// delete.
macro_rules! crud {
    ($path:literal, $one:literal, $list:literal, $query:expr, $new:literal, $patch:literal, $body:literal, $noun:literal) => {
        [
            Op::new(
                Method::GET,
                $path,
                concat!("List ", $noun, "s"),
                $query,
                None,
                (200, OK, Some($list)),
                &[400],
            ),
            Op::new(
                Method::POST,
                $path,
                concat!("Create a ", $noun),
                &[],
                Some($new),
                (201, CREATED, Some($body)),
                &[400, 409, 413],
            ),
            Op::new(
                Method::GET,
                $one,
                concat!("Show a ", $noun),
                &[],
                None,
                (200, OK, Some($body)),
                &[404],
            ),
            Op::new(
                Method::PATCH,
                $one,
                concat!("Update a ", $noun),
                &[],
                Some($patch),
                (200, OK, Some($body)),
                &[400, 404, 409, 413],
            ),
            Op::new(
                Method::DELETE,
                $one,
                concat!("Delete a ", $noun),
                &[],
                None,
                (204, DONE, None),
                &[400, 404, 409],
            ),
        ]
    };
}

const DOMAINS: [Op; 5] = crud!(
    "/v3/domains",
    "/v3/domains/{id}",
    "DomainList",
    &[NAME, ENABLED],
    "NewDomainBody",
    "DomainPatchBody",
    "DomainBody",
    "domain"
);
const PROJECTS: [Op; 5] = crud!(
    "/v3/projects",
    "/v3/projects/{id}",
    "ProjectList",
    &[NAME, ENABLED, DOMAIN_ID],
    "NewProjectBody",
    "ProjectPatchBody",
    "ProjectBody",
    "project"
);
const USERS: [Op; 5] = crud!(
    "/v3/users",
    "/v3/users/{id}",
    "UserList",
    &[NAME, ENABLED, DOMAIN_ID],
    "NewUserBody",
    "UserPatchBody",
    "UserBody",
    "user"
);
const SERVICES: [Op; 5] = crud!(
    "/v3/services",
    "/v3/services/{id}",
    "ServiceList",
    &[
        QueryParam::new("type", Str, "Only those of this type"),
        NAME
    ],
    "NewServiceBody",
    "ServicePatchBody",
    "ServiceBody",
    "service"
);
const ENDPOINTS: [Op; 5] = crud!(
    "/v3/endpoints",
    "/v3/endpoints/{id}",
    "EndpointList",
    &[
        QueryParam::new("interface", Str, "public, internal or admin"),
        QueryParam::new("service_id", Str, "Only those of this service"),
        QueryParam::new(
            "region_id",
            Str,
            "Only those of this region (also `region`)"
        ),
    ],
    "NewEndpointBody",
    "EndpointPatchBody",
    "EndpointBody",
    "endpoint"
);

const GRANT_PATHS: [(&str, &str); 2] = [
    (
        "/v3/projects/{id}/users/{user}/roles",
        "/v3/projects/{id}/users/{user}/roles/{role}",
    ),
    (
        "/v3/domains/{id}/users/{user}/roles",
        "/v3/domains/{id}/users/{user}/roles/{role}",
    ),
];

const fn grants(list: &'static str, one: &'static str, on: &'static str) -> [Op; 4] {
    let _ = on;
    [
        Op::new(
            Method::GET,
            list,
            "List a user's roles on the target",
            &[],
            None,
            (200, OK, Some("RoleList")),
            &[404],
        ),
        Op::new(
            Method::GET,
            one,
            "Check a grant (204 when it exists)",
            &[],
            None,
            (204, "Granted", None),
            &[404],
        ),
        Op::new(
            Method::PUT,
            one,
            "Grant a role",
            &[],
            None,
            (204, DONE, None),
            &[404],
        ),
        Op::new(
            Method::DELETE,
            one,
            "Revoke a grant",
            &[],
            None,
            (204, DONE, None),
            &[404],
        ),
    ]
}

const PROJECT_GRANTS: [Op; 4] = grants(GRANT_PATHS[0].0, GRANT_PATHS[0].1, "project");
const DOMAIN_GRANTS: [Op; 4] = grants(GRANT_PATHS[1].0, GRANT_PATHS[1].1, "domain");

const OTHERS: &[Op] = &[
    Op::public(
        Method::GET,
        "/",
        "API versions (300 Multiple Choices)",
        None,
        (300, "The versions", Some("VersionsBody")),
        &[],
    ),
    Op::public(
        Method::GET,
        "/openapi.json",
        "This document",
        None,
        (200, "OpenAPI document", Some("object")),
        &[],
    ),
    Op::public(
        Method::GET,
        "/v3",
        "Version v3",
        None,
        (200, OK, Some("VersionBody")),
        &[],
    ),
    Op::public(
        Method::GET,
        "/v3/",
        "Version v3",
        None,
        (200, OK, Some("VersionBody")),
        &[],
    ),
    Op::public(
        Method::POST,
        "/v3/auth/tokens",
        "Log in (password) or rescope (token); the token is in X-Subject-Token",
        Some("AuthRequest"),
        (201, "A token", Some("TokenBody")),
        &[400, 401, 413, 503],
    ),
    Op::new(
        Method::GET,
        "/v3/auth/tokens",
        "Validate the token in X-Subject-Token",
        &[QueryParam::new("nocatalog", Str, "Leave the catalog out")],
        None,
        (200, OK, Some("TokenBody")),
        &[404],
    ),
    Op::new(
        Method::HEAD,
        "/v3/auth/tokens",
        "Check the token in X-Subject-Token",
        &[],
        None,
        (200, "Valid", None),
        &[404],
    ),
    Op::new(
        Method::DELETE,
        "/v3/auth/tokens",
        "Revoke the token in X-Subject-Token",
        &[],
        None,
        (204, DONE, None),
        &[404],
    ),
    Op::new(
        Method::GET,
        "/v3/auth/catalog",
        "The service catalog",
        &[],
        None,
        (200, OK, Some("CatalogBody")),
        &[],
    ),
    Op::new(
        Method::GET,
        "/v3/auth/projects",
        "The projects the caller may scope to",
        &[],
        None,
        (200, OK, Some("ProjectList")),
        &[],
    ),
    Op::new(
        Method::GET,
        "/v3/roles",
        "List roles",
        &[NAME],
        None,
        (200, OK, Some("RoleList")),
        &[400],
    ),
    Op::new(
        Method::POST,
        "/v3/roles",
        "Create a role",
        &[],
        Some("NewRoleBody"),
        (201, CREATED, Some("RoleBody")),
        &[400, 409, 413],
    ),
    Op::new(
        Method::GET,
        "/v3/roles/{id}",
        "Show a role",
        &[],
        None,
        (200, OK, Some("RoleBody")),
        &[404],
    ),
    Op::new(
        Method::DELETE,
        "/v3/roles/{id}",
        "Delete a role",
        &[],
        None,
        (204, DONE, None),
        &[404, 409],
    ),
    Op::new(
        Method::GET,
        "/v3/role_assignments",
        "List role assignments",
        &[
            QueryParam::new("user.id", Str, "Only this user's"),
            QueryParam::new("role.id", Str, "Only of this role"),
            QueryParam::new("scope.project.id", Str, "Only on this project"),
            QueryParam::new("scope.domain.id", Str, "Only on this domain"),
            QueryParam::new(
                "include_names",
                Bool,
                "Give the names of roles, users and targets",
            ),
        ],
        None,
        (200, OK, Some("AssignmentList")),
        &[400],
    ),
    Op::new(
        Method::GET,
        "/v3/regions",
        "List regions",
        &[],
        None,
        (200, OK, Some("RegionList")),
        &[],
    ),
    Op::new(
        Method::GET,
        "/v3/regions/{id}",
        "Show a region",
        &[],
        None,
        (200, OK, Some("RegionBody")),
        &[404],
    ),
];

/// Every operation, one per route of `ROUTES`.
pub fn operations() -> Vec<Op> {
    let mut ops: Vec<Op> = HEALTH_OPS.iter().chain(OTHERS).cloned().collect();
    for set in [&DOMAINS, &PROJECTS, &USERS, &SERVICES, &ENDPOINTS] {
        ops.extend_from_slice(set);
    }
    ops.extend_from_slice(&PROJECT_GRANTS);
    ops.extend_from_slice(&DOMAIN_GRANTS);
    ops
}

/// The document, generated.
pub fn generate() -> Value {
    let mut s = Vec::new();
    schemas_of::<wire::VersionsBody<'static>>(&mut s);
    schemas_of::<wire::VersionBody<'static>>(&mut s);
    schemas_of::<wire::AuthRequest>(&mut s);
    schemas_of::<wire::TokenBody<'static>>(&mut s);
    schemas_of::<wire::CatalogBody<'static>>(&mut s);
    schemas_of::<wire::DomainList<'static>>(&mut s);
    schemas_of::<wire::DomainBody<'static>>(&mut s);
    schemas_of::<wire::NewDomainBody>(&mut s);
    schemas_of::<wire::DomainPatchBody>(&mut s);
    schemas_of::<wire::ProjectList<'static>>(&mut s);
    schemas_of::<wire::ProjectBody<'static>>(&mut s);
    schemas_of::<wire::NewProjectBody>(&mut s);
    schemas_of::<wire::ProjectPatchBody>(&mut s);
    schemas_of::<wire::UserList<'static>>(&mut s);
    schemas_of::<wire::UserBody<'static>>(&mut s);
    schemas_of::<wire::NewUserBody>(&mut s);
    schemas_of::<wire::UserPatchBody>(&mut s);
    schemas_of::<wire::RoleList<'static>>(&mut s);
    schemas_of::<wire::RoleBody<'static>>(&mut s);
    schemas_of::<wire::NewRoleBody>(&mut s);
    schemas_of::<wire::AssignmentList<'static>>(&mut s);
    schemas_of::<wire::ServiceList<'static>>(&mut s);
    schemas_of::<wire::ServiceBody<'static>>(&mut s);
    schemas_of::<wire::NewServiceBody>(&mut s);
    schemas_of::<wire::ServicePatchBody>(&mut s);
    schemas_of::<wire::EndpointList<'static>>(&mut s);
    schemas_of::<wire::EndpointBody<'static>>(&mut s);
    schemas_of::<wire::NewEndpointBody>(&mut s);
    schemas_of::<wire::EndpointPatchBody>(&mut s);
    schemas_of::<wire::RegionList<'static>>(&mut s);
    schemas_of::<wire::RegionBody<'static>>(&mut s);
    schemas_of::<wire::ErrorBody<'static>>(&mut s);
    document(
        &DocInfo {
            title: "Starling Identity API",
            description: "Keystone v3 compatible: tokens, the service catalog, domains, projects, users, roles and their grants, services, endpoints, regions. Differences are listed in docs/compatibility.md.",
            error_schema: "ErrorBody",
            token: "A token from POST /v3/auth/tokens (its X-Subject-Token header).",
        },
        &operations(),
        s,
    )
}
