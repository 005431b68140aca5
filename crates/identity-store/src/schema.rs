//! The identity schema: its migrations, oldest first. Never edit a released
//! migration: add a new one. `legacy` is the version a migration had in the
//! single schema list of the releases before schemas were per component.

use starling_db::{Migration, Schema};

/// The identity component's schema.
pub const SCHEMA: Schema = Schema::new("identity", MIGRATIONS);

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    legacy: Some(3),
    name: "identity",
    statements: &[
        "CREATE TABLE id_domain (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL UNIQUE,
            description {text} NOT NULL,
            enabled {bool} NOT NULL
        ){opts}",
        "CREATE TABLE id_project (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL,
            domain_id {s64} NOT NULL,
            description {text} NOT NULL,
            enabled {bool} NOT NULL,
            UNIQUE (domain_id, name)
        ){opts}",
        "CREATE TABLE id_user (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL,
            domain_id {s64} NOT NULL,
            enabled {bool} NOT NULL,
            password_hash {text},
            default_project_id {s64},
            failed_logins BIGINT NOT NULL,
            locked_until BIGINT,
            description {text} NOT NULL,
            email {s255} NOT NULL,
            created_at BIGINT NOT NULL,
            UNIQUE (domain_id, name)
        ){opts}",
        "CREATE TABLE id_role (
            id {s64} PRIMARY KEY,
            name {s255} NOT NULL UNIQUE
        ){opts}",
        "CREATE TABLE id_assignment (
            user_id {s64} NOT NULL,
            target_type {s15} NOT NULL,
            target_id {s64} NOT NULL,
            role_id {s64} NOT NULL,
            PRIMARY KEY (user_id, target_type, target_id, role_id)
        ){opts}",
        "CREATE INDEX id_assignment_target ON id_assignment (target_type, target_id)",
        "CREATE TABLE id_service (
            id {s64} PRIMARY KEY,
            service_type {s64} NOT NULL,
            name {s255} NOT NULL,
            description {text} NOT NULL,
            enabled {bool} NOT NULL
        ){opts}",
        "CREATE TABLE id_endpoint (
            id {s64} PRIMARY KEY,
            service_id {s64} NOT NULL,
            interface {s15} NOT NULL,
            region {s255} NOT NULL,
            url {text} NOT NULL,
            enabled {bool} NOT NULL
        ){opts}",
        "CREATE TABLE id_token (
            hash {s64} PRIMARY KEY,
            user_id {s64} NOT NULL,
            scope_type {s15},
            scope_id {s64},
            issued_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            audit_id {s64} NOT NULL,
            revoked {bool} NOT NULL
        ){opts}",
        "CREATE INDEX id_token_user ON id_token (user_id)",
        "CREATE INDEX id_token_expiry ON id_token (expires_at)",
    ],
}];

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_is_well_formed() {
        assert_eq!(super::SCHEMA.check(), Ok(()));
        assert_eq!(super::SCHEMA.latest(), 1);
    }
}
