//! The identity API's (Keystone v3) request and response shapes, declared
//! once: the server serializes them, clients read them, and the OpenAPI
//! document is generated from them.
//!
//! Keys are in alphabetical order, as Keystone-compatible answers have
//! always been written here: a response's bytes stay what they were.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A record's `links`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Links<'a> {
    #[serde(rename = "self")]
    pub href: Cow<'a, str>,
}

/// A collection's `links` (never paged: `next` and `previous` are null).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListLinks<'a> {
    pub next: Option<Cow<'a, str>>,
    pub previous: Option<Cow<'a, str>>,
    #[serde(rename = "self")]
    pub href: Cow<'a, str>,
}

/// Keystone's `options` (none are supported: always empty).
pub type Options = Map<String, Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Domain<'a> {
    pub description: Cow<'a, str>,
    pub enabled: bool,
    pub id: Cow<'a, str>,
    pub links: Links<'a>,
    pub name: Cow<'a, str>,
    #[schema(value_type = Object)]
    pub options: Options,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Project<'a> {
    pub description: Cow<'a, str>,
    pub domain_id: Cow<'a, str>,
    pub enabled: bool,
    pub id: Cow<'a, str>,
    /// Always false: projects acting as domains are not supported.
    pub is_domain: bool,
    pub links: Links<'a>,
    pub name: Cow<'a, str>,
    #[schema(value_type = Object)]
    pub options: Options,
    /// The domain: nested projects are not supported.
    pub parent_id: Cow<'a, str>,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_project_id: Option<Cow<'a, str>>,
    /// Absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
    pub domain_id: Cow<'a, str>,
    /// Absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Cow<'a, str>>,
    pub enabled: bool,
    pub id: Cow<'a, str>,
    pub links: Links<'a>,
    pub name: Cow<'a, str>,
    #[schema(value_type = Object)]
    pub options: Options,
    /// Always null: passwords do not expire.
    pub password_expires_at: Option<Cow<'a, str>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Role<'a> {
    /// Always null.
    pub description: Option<Cow<'a, str>>,
    /// Always null: roles are global.
    pub domain_id: Option<Cow<'a, str>>,
    pub id: Cow<'a, str>,
    pub links: Links<'a>,
    pub name: Cow<'a, str>,
    #[schema(value_type = Object)]
    pub options: Options,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Service<'a> {
    pub description: Cow<'a, str>,
    pub enabled: bool,
    pub id: Cow<'a, str>,
    pub links: Links<'a>,
    pub name: Cow<'a, str>,
    /// The service type clients look it up by (`faultmanagement`, `platform`, …).
    #[serde(rename = "type")]
    pub service_type: Cow<'a, str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Endpoint<'a> {
    pub enabled: bool,
    pub id: Cow<'a, str>,
    /// `public`, `internal` or `admin`.
    pub interface: Cow<'a, str>,
    pub links: Links<'a>,
    pub region: Cow<'a, str>,
    pub region_id: Cow<'a, str>,
    pub service_id: Cow<'a, str>,
    pub url: Cow<'a, str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Region<'a> {
    pub description: Cow<'a, str>,
    pub id: Cow<'a, str>,
    pub links: Links<'a>,
    /// Always null.
    pub parent_region_id: Option<Cow<'a, str>>,
}

/// An id with, where asked for (`include_names`), a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Named<'a> {
    /// The domain of a named user or project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainRef<'a>>,
    pub id: Cow<'a, str>,
    /// Present with `include_names` (null when the record is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Option<Cow<'a, str>>>,
}

/// A domain as names show it (either may be null when the domain is gone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DomainRef<'a> {
    pub id: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
}

/// The scope of an assignment: a project or a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssignmentScope<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Named<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<Named<'a>>,
}

/// The grant an assignment is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssignmentLinks<'a> {
    pub assignment: Cow<'a, str>,
}

/// A role assignment (`GET /v3/role_assignments`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Assignment<'a> {
    pub links: AssignmentLinks<'a>,
    pub role: Named<'a>,
    pub scope: AssignmentScope<'a>,
    pub user: Named<'a>,
}

/// An endpoint of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogEndpoint<'a> {
    pub id: Cow<'a, str>,
    pub interface: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub region_id: Cow<'a, str>,
    pub url: Cow<'a, str>,
}

/// A service of the catalog, with its endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogEntry<'a> {
    pub endpoints: Vec<CatalogEndpoint<'a>>,
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    #[serde(rename = "type")]
    pub service_type: Cow<'a, str>,
}

/// An id and a name (a token's domain, roles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdName<'a> {
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
}

/// A token's project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenProject<'a> {
    pub domain: IdName<'a>,
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
}

/// A token's user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenUser<'a> {
    pub domain: IdName<'a>,
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    /// Always null.
    pub password_expires_at: Option<Cow<'a, str>>,
}

/// A token (the body of `POST` and `GET /v3/auth/tokens`; the token
/// itself travels in `X-Subject-Token`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Token<'a> {
    pub audit_ids: Vec<Cow<'a, str>>,
    /// With the catalog (absent with `nocatalog`, and on unscoped tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<Vec<CatalogEntry<'a>>>,
    /// A domain-scoped token's domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<IdName<'a>>,
    /// Keystone's form: `2026-11-21T12:00:00.000000Z`.
    pub expires_at: Cow<'a, str>,
    /// Present (false) on project-scoped tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_domain: Option<bool>,
    pub issued_at: Cow<'a, str>,
    /// `password` or `token`.
    pub methods: Vec<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<TokenProject<'a>>,
    /// A scoped token's roles on its scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<IdName<'a>>>,
    pub user: TokenUser<'a>,
}

macro_rules! one {
    ($(#[$doc:meta])* $name:ident, $item:ident, $key:tt) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
        pub struct $name<'a> {
            #[serde(rename = $key)]
            pub item: $item<'a>,
        }
    };
}

one!(
    /// `{"token": …}`.
    TokenBody, Token, "token"
);
one!(
    /// `{"domain": …}`.
    DomainBody, Domain, "domain"
);
one!(
    /// `{"project": …}`.
    ProjectBody, Project, "project"
);
one!(
    /// `{"user": …}`.
    UserBody, User, "user"
);
one!(
    /// `{"role": …}`.
    RoleBody, Role, "role"
);
one!(
    /// `{"service": …}`.
    ServiceBody, Service, "service"
);
one!(
    /// `{"endpoint": …}`.
    EndpointBody, Endpoint, "endpoint"
);
one!(
    /// `{"region": …}`.
    RegionBody, Region, "region"
);

// Lists: the collection's key and `links`, in alphabetical order.

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DomainList<'a> {
    pub domains: Vec<Domain<'a>>,
    pub links: ListLinks<'a>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EndpointList<'a> {
    pub endpoints: Vec<Endpoint<'a>>,
    pub links: ListLinks<'a>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProjectList<'a> {
    pub links: ListLinks<'a>,
    pub projects: Vec<Project<'a>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserList<'a> {
    pub links: ListLinks<'a>,
    pub users: Vec<User<'a>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleList<'a> {
    pub links: ListLinks<'a>,
    pub roles: Vec<Role<'a>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceList<'a> {
    pub links: ListLinks<'a>,
    pub services: Vec<Service<'a>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegionList<'a> {
    pub links: ListLinks<'a>,
    pub regions: Vec<Region<'a>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssignmentList<'a> {
    pub links: ListLinks<'a>,
    pub role_assignments: Vec<Assignment<'a>>,
}

/// `GET /v3/auth/catalog`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogBody<'a> {
    pub catalog: Vec<CatalogEntry<'a>>,
    pub links: Links<'a>,
}

/// Keystone's error envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody<'a> {
    pub error: KeystoneError<'a>,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeystoneError<'a> {
    /// The HTTP status.
    pub code: u16,
    pub message: Cow<'a, str>,
    /// The status's reason phrase (`Not Found`, …).
    pub title: Cow<'a, str>,
}

/// A link of the version documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionLink<'a> {
    pub href: Cow<'a, str>,
    pub rel: Cow<'a, str>,
}

/// A media type of the version documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MediaType<'a> {
    pub base: Cow<'a, str>,
    #[serde(rename = "type")]
    pub media_type: Cow<'a, str>,
}

/// The v3 version document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Version<'a> {
    pub id: Cow<'a, str>,
    pub links: Vec<VersionLink<'a>>,
    #[serde(rename = "media-types")]
    pub media_types: Vec<MediaType<'a>>,
    pub status: Cow<'a, str>,
    pub updated: Cow<'a, str>,
}

/// `GET /v3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionBody<'a> {
    pub version: Version<'a>,
}

/// The versions of `GET /` (300 Multiple Choices).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Versions<'a> {
    pub values: Vec<Version<'a>>,
}

/// `GET /`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionsBody<'a> {
    pub versions: Versions<'a>,
}

// Requests.

macro_rules! wrap {
    ($(#[$doc:meta])* $name:ident, $item:ident, $key:tt) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            #[serde(rename = $key)]
            pub item: $item,
        }
    };
}

/// `POST /v3/auth/tokens`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuthRequest {
    pub auth: Auth,
}

impl AuthRequest {
    /// A password login scoped to a project, user and project by name in
    /// domains by name (what the CLIs and services send).
    pub fn password(
        user: &str,
        user_domain: &str,
        password: &str,
        project: &str,
        project_domain: &str,
    ) -> Self {
        let by_name = |n: &str| {
            Some(DomainSel {
                id: None,
                name: Some(n.to_string()),
            })
        };
        AuthRequest {
            auth: Auth {
                identity: AuthIdentity {
                    methods: vec!["password".into()],
                    password: Some(PasswordAuth {
                        user: PasswordUser {
                            domain: by_name(user_domain),
                            id: None,
                            name: Some(user.to_string()),
                            password: password.to_string(),
                        },
                    }),
                    token: None,
                },
                scope: Some(Scope {
                    domain: None,
                    project: Some(ProjectSel {
                        domain: by_name(project_domain),
                        id: None,
                        name: Some(project.to_string()),
                    }),
                }),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Auth {
    pub identity: AuthIdentity,
    /// Unscoped without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuthIdentity {
    /// `password` or `token`.
    pub methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenAuth>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordAuth {
    pub user: PasswordUser,
}

/// A user by id, or by name in a domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainSel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub password: String,
}

/// A domain by id or by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DomainSel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenAuth {
    pub id: String,
}

/// A project by id, or by name in a domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectSel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainSel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What a token is scoped to: a project or a domain (`system` is refused).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainSel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectSel>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewDomain {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// True when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// The fields to change; absent ones keep their value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DomainPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewProject {
    pub name: String,
    /// The Default domain when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Only false: projects acting as domains are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_domain: Option<bool>,
    /// Only the project's domain: nested projects are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewUser {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    /// Without one the user cannot log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// null removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_project_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewRole {
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewService {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServicePatch {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewEndpoint {
    pub service_id: String,
    /// `public`, `internal` or `admin`.
    pub interface: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// Keystone's older name for `region_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EndpointPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

wrap!(NewDomainBody, NewDomain, "domain");
wrap!(DomainPatchBody, DomainPatch, "domain");
wrap!(NewProjectBody, NewProject, "project");
wrap!(ProjectPatchBody, ProjectPatch, "project");
wrap!(NewUserBody, NewUser, "user");
wrap!(UserPatchBody, UserPatch, "user");
wrap!(NewRoleBody, NewRole, "role");
wrap!(NewServiceBody, NewService, "service");
wrap!(ServicePatchBody, ServicePatch, "service");
wrap!(NewEndpointBody, NewEndpoint, "endpoint");
wrap!(EndpointPatchBody, EndpointPatch, "endpoint");
