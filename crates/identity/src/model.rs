//! Identity records, named and shaped as Keystone v3 names them.

use starling_common::Timestamp;

/// The id of the domain created at bootstrap, as in Keystone.
pub const DEFAULT_DOMAIN_ID: &str = "default";
/// Its name.
pub const DEFAULT_DOMAIN_NAME: &str = "Default";
/// The roles StarlingX's policies name, created at bootstrap.
pub const BOOTSTRAP_ROLES: [&str; 5] = ["admin", "member", "reader", "operator", "configurator"];

/// A new Keystone-style id: 32 lowercase hex digits.
pub fn new_id() -> Result<String, crate::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        crate::Error::Storage(starling_common::StorageFailure::fatal(format!(
            "no randomness: {e}"
        )))
    })?;
    Ok(hex(&b))
}

/// Lowercase hex of `b`.
pub fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(D[usize::from(x >> 4)]));
        s.push(char::from(D[usize::from(x & 15)]));
    }
    s
}

/// A domain: a namespace of users and projects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Disabled domains' users and projects cannot authenticate.
    pub enabled: bool,
}

/// A project (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// Id.
    pub id: String,
    /// Name, unique within its domain.
    pub name: String,
    /// Owning domain.
    pub domain_id: String,
    /// Free text.
    pub description: String,
    /// Disabled projects cannot be scoped to.
    pub enabled: bool,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: String,
    /// Name, unique within its domain.
    pub name: String,
    /// Owning domain.
    pub domain_id: String,
    /// Disabled users cannot authenticate and their tokens stop validating.
    pub enabled: bool,
    /// argon2id PHC string; `None`: the user cannot log in with a password.
    pub password_hash: Option<String>,
    /// Project used when a login names no scope.
    pub default_project_id: Option<String>,
    /// Failed logins since the last success.
    pub failed_logins: u32,
    /// Set while the user is locked out.
    pub locked_until: Option<Timestamp>,
    /// Free text.
    pub description: String,
    /// Email, as Keystone carries it.
    pub email: String,
    /// When the user was created.
    pub created_at: Timestamp,
}

/// A role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
}

/// What a role is granted on, or what a token is scoped to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A project, by id.
    Project(String),
    /// A domain, by id.
    Domain(String),
}

/// One role granted to one user on one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The role's id.
    pub role_id: String,
    /// The user's id.
    pub user_id: String,
    /// Where it applies.
    pub target: Target,
}

/// Which URL of a service an endpoint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interface {
    /// For clients outside the cloud (OAM).
    Public,
    /// For services inside the cloud.
    Internal,
    /// For administrators.
    Admin,
}

impl Interface {
    /// All three, in Keystone's order.
    pub const ALL: [Interface; 3] = [Interface::Public, Interface::Internal, Interface::Admin];
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
    /// Parses `public|internal|admin`, and the `publicURL` forms clients send.
    pub fn parse(s: &str) -> Option<Interface> {
        match s {
            "public" | "publicURL" => Some(Interface::Public),
            "internal" | "internalURL" => Some(Interface::Internal),
            "admin" | "adminURL" => Some(Interface::Admin),
            _ => None,
        }
    }
}

/// A service in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Id.
    pub id: String,
    /// Service type (`identity`, `faultmanagement`, `platform`, …).
    pub kind: String,
    /// Name (`keystone`, `fm`, `sysinv`, …).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Disabled services are left out of the catalog.
    pub enabled: bool,
}

/// One URL of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Id.
    pub id: String,
    /// The service's id.
    pub service_id: String,
    /// Which URL this is.
    pub interface: Interface,
    /// Region name.
    pub region: String,
    /// The URL.
    pub url: String,
    /// Disabled endpoints are left out of the catalog.
    pub enabled: bool,
}

/// A stored token: the hash of the bearer string, never the string itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    pub hash: String,
    /// Whose token it is.
    pub user_id: String,
    /// What it is scoped to; `None`: unscoped.
    pub scope: Option<Target>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops being valid.
    pub expires_at: Timestamp,
    /// Keystone's audit id (random, safe to log).
    pub audit_id: String,
    /// Revoked tokens are kept until they expire, so revocation is checked.
    pub revoked: bool,
}

/// What a valid token stands for, resolved at validation time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenContext {
    /// The token's record.
    pub token: TokenRecord,
    /// Its user.
    pub user: User,
    /// The user's domain.
    pub user_domain: Domain,
    /// The scoped project and its domain, when project-scoped.
    pub project: Option<(Project, Domain)>,
    /// The scoped domain, when domain-scoped.
    pub domain: Option<Domain>,
    /// The user's roles on the scope (empty when unscoped).
    pub roles: Vec<Role>,
}

impl TokenContext {
    /// Role names, for policy checks.
    pub fn role_names(&self) -> Vec<String> {
        self.roles.iter().map(|r| r.name.clone()).collect()
    }
    /// The scoped project's name, if any.
    pub fn project_name(&self) -> Option<&str> {
        self.project.as_ref().map(|(p, _)| p.name.as_str())
    }
}

/// Names are what operators type: 1 to 255 characters, no control characters,
/// not blank.
pub fn check_name(what: &str, name: &str) -> Result<(), crate::Error> {
    if name.trim().is_empty() {
        return Err(crate::Error::invalid(format!(
            "The {what} name must not be empty"
        )));
    }
    if name.chars().count() > 255 {
        return Err(crate::Error::invalid(format!(
            "The {what} name is longer than 255 characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(crate::Error::invalid(format!(
            "The {what} name contains control characters"
        )));
    }
    Ok(())
}
