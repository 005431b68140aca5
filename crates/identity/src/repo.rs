//! The storage contract of identity. The store crate implements
//! [`IdentityRepo`] in SQL for every backend; [`crate::ops`] runs over it inside
//! one transaction.

use starling_common::Timestamp;

use crate::Error;
use crate::model::{
    Assignment, Domain, Endpoint, Project, Role, Service, Target, TokenRecord, User,
};

/// Storage for identity records. Lookups by name are exact (bytewise).
pub trait IdentityRepo {
    /// Every domain, by name.
    fn domains(&mut self) -> Result<Vec<Domain>, Error>;
    /// One domain by id.
    fn domain(&mut self, id: &str) -> Result<Option<Domain>, Error>;
    /// One domain by name.
    fn domain_by_name(&mut self, name: &str) -> Result<Option<Domain>, Error>;
    /// Adds a domain.
    fn insert_domain(&mut self, d: &Domain) -> Result<(), Error>;
    /// Rewrites a domain (by id).
    fn update_domain(&mut self, d: &Domain) -> Result<(), Error>;
    /// Removes a domain.
    fn delete_domain(&mut self, id: &str) -> Result<(), Error>;

    /// Projects, optionally of one domain, by name.
    fn projects(&mut self, domain_id: Option<&str>) -> Result<Vec<Project>, Error>;
    /// One project by id.
    fn project(&mut self, id: &str) -> Result<Option<Project>, Error>;
    /// One project by domain and name.
    fn project_by_name(&mut self, domain_id: &str, name: &str) -> Result<Option<Project>, Error>;
    /// Adds a project.
    fn insert_project(&mut self, p: &Project) -> Result<(), Error>;
    /// Rewrites a project (by id).
    fn update_project(&mut self, p: &Project) -> Result<(), Error>;
    /// Removes a project and the assignments on it.
    fn delete_project(&mut self, id: &str) -> Result<(), Error>;

    /// Users, optionally of one domain, by name.
    fn users(&mut self, domain_id: Option<&str>) -> Result<Vec<User>, Error>;
    /// One user by id.
    fn user(&mut self, id: &str) -> Result<Option<User>, Error>;
    /// One user by domain and name.
    fn user_by_name(&mut self, domain_id: &str, name: &str) -> Result<Option<User>, Error>;
    /// Adds a user.
    fn insert_user(&mut self, u: &User) -> Result<(), Error>;
    /// Rewrites a user (by id), including its lockout counters.
    fn update_user(&mut self, u: &User) -> Result<(), Error>;
    /// Removes a user, its assignments and its tokens.
    fn delete_user(&mut self, id: &str) -> Result<(), Error>;

    /// Every role, by name.
    fn roles(&mut self) -> Result<Vec<Role>, Error>;
    /// One role by id.
    fn role(&mut self, id: &str) -> Result<Option<Role>, Error>;
    /// One role by name.
    fn role_by_name(&mut self, name: &str) -> Result<Option<Role>, Error>;
    /// Adds a role.
    fn insert_role(&mut self, r: &Role) -> Result<(), Error>;
    /// Removes a role and its assignments.
    fn delete_role(&mut self, id: &str) -> Result<(), Error>;

    /// Assignments matching every filter given.
    fn assignments(
        &mut self,
        user_id: Option<&str>,
        target: Option<&Target>,
        role_id: Option<&str>,
    ) -> Result<Vec<Assignment>, Error>;
    /// The roles `user_id` holds on `target`, by name (one query: this is on
    /// every token validation).
    fn roles_on(&mut self, user_id: &str, target: &Target) -> Result<Vec<Role>, Error>;
    /// Adds an assignment; adding one that exists changes nothing.
    fn grant(&mut self, a: &Assignment) -> Result<(), Error>;
    /// Removes an assignment; false when there was none.
    fn ungrant(&mut self, a: &Assignment) -> Result<bool, Error>;

    /// Every service.
    fn services(&mut self) -> Result<Vec<Service>, Error>;
    /// One service by id.
    fn service(&mut self, id: &str) -> Result<Option<Service>, Error>;
    /// Adds a service.
    fn insert_service(&mut self, s: &Service) -> Result<(), Error>;
    /// Rewrites a service (by id).
    fn update_service(&mut self, s: &Service) -> Result<(), Error>;
    /// Removes a service.
    fn delete_service(&mut self, id: &str) -> Result<(), Error>;

    /// Every endpoint.
    fn endpoints(&mut self) -> Result<Vec<Endpoint>, Error>;
    /// One endpoint by id.
    fn endpoint(&mut self, id: &str) -> Result<Option<Endpoint>, Error>;
    /// Adds an endpoint.
    fn insert_endpoint(&mut self, e: &Endpoint) -> Result<(), Error>;
    /// Rewrites an endpoint (by id).
    fn update_endpoint(&mut self, e: &Endpoint) -> Result<(), Error>;
    /// Removes an endpoint.
    fn delete_endpoint(&mut self, id: &str) -> Result<(), Error>;

    /// Stores a new token.
    fn insert_token(&mut self, t: &TokenRecord) -> Result<(), Error>;
    /// A token by its hash.
    fn token(&mut self, hash: &str) -> Result<Option<TokenRecord>, Error>;
    /// Marks a token revoked; false when there is no such token.
    fn revoke_token(&mut self, hash: &str) -> Result<bool, Error>;
    /// Revokes every token of a user; returns how many.
    fn revoke_user_tokens(&mut self, user_id: &str) -> Result<u64, Error>;
    /// Deletes tokens that expired before `t`; returns how many.
    fn purge_tokens(&mut self, t: Timestamp) -> Result<u64, Error>;
}
