//! The inventory schema: its migrations, oldest first. Never edit a released
//! migration: add a new one. `legacy` is the version a migration had in the
//! single schema list of the releases before schemas were per component.

use starling_db::{Migration, Schema};

/// The inventory component's schema.
pub const SCHEMA: Schema = Schema::new("inventory", MIGRATIONS);

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        legacy: Some(4),
        name: "inventory: system and hosts",
        statements: &[
            "INSERT INTO starling_sequence (name, value) VALUES ('inv_host', 0)",
            "CREATE TABLE inv_system (
            uuid {s36} PRIMARY KEY,
            name {s255} NOT NULL,
            system_type {s15} NOT NULL,
            system_mode {s15} NOT NULL,
            description {text} NOT NULL,
            contact {text} NOT NULL,
            location {text} NOT NULL,
            timezone {s64} NOT NULL,
            software_version {s64} NOT NULL,
            region_name {s255} NOT NULL,
            active_controller {s255},
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE inv_host (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            hostname {s255} UNIQUE,
            personality {s15},
            subfunctions {s255} NOT NULL,
            mgmt_mac {s36} NOT NULL UNIQUE,
            mgmt_ip {s64},
            serialid {s255} NOT NULL,
            location {text} NOT NULL,
            bm_ip {s64},
            bm_type {s15} NOT NULL,
            bm_username {s64},
            boot_device {s255} NOT NULL,
            rootfs_device {s255} NOT NULL,
            console {s255} NOT NULL,
            install_output {s15} NOT NULL,
            administrative {s15} NOT NULL,
            operational {s15} NOT NULL,
            availability {s15} NOT NULL,
            invprovision {s15} NOT NULL,
            inv_state {s36} NOT NULL,
            task {s255} NOT NULL,
            ihost_action {s36} NOT NULL,
            uptime BIGINT NOT NULL,
            software_load {s64} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE INDEX inv_host_personality ON inv_host (personality, id)",
        ],
    },
    Migration {
        version: 2,
        legacy: Some(5),
        name: "inventory: hardware records and labels",
        statements: &[
            // One table for every record type: a host's records of a kind
            // are always read together, and the item's fields are StarlingX's
            // wire attributes, kept as JSON so a new attribute needs no
            // migration. The natural key makes re-reports idempotent.
            "CREATE TABLE inv_hw (
            uuid {s36} PRIMARY KEY,
            host_id BIGINT NOT NULL,
            kind {s15} NOT NULL,
            natural_key {s255} NOT NULL,
            body {text} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE UNIQUE INDEX inv_hw_key ON inv_hw (host_id, kind, natural_key)",
        ],
    },
    Migration {
        version: 3,
        legacy: None,
        name: "inventory: host agents' own credentials and the enrollment secret",
        statements: &[
            // Only hashes: the credential is shown once, to its agent.
            "CREATE TABLE inv_agent_credential (
            host_id BIGINT PRIMARY KEY,
            token_hash {s64} NOT NULL UNIQUE,
            issued_at BIGINT NOT NULL
        ){opts}",
            "CREATE TABLE inv_secret (
            name {s36} PRIMARY KEY,
            hash {s64} NOT NULL,
            set_at BIGINT NOT NULL
        ){opts}",
        ],
    },
    Migration {
        version: 4,
        legacy: None,
        name: "inventory: BMC passwords, sealed",
        statements: &[
            // Sealed (AES-256-GCM under the cloud's secret key, bound to
            // the host's uuid): never stored or shown in the clear.
            "CREATE TABLE inv_bmc_secret (
            host_id BIGINT PRIMARY KEY,
            sealed {text} NOT NULL,
            set_at BIGINT NOT NULL
        ){opts}",
        ],
    },
    Migration {
        version: 5,
        legacy: None,
        name: "inventory: configuration's marks on each host",
        statements: &[
            "ALTER TABLE inv_host ADD COLUMN config_target {s36}",
            "ALTER TABLE inv_host ADD COLUMN config_applied {s36}",
            "ALTER TABLE inv_host ADD COLUMN config_status {s64}",
            "ALTER TABLE inv_host ADD COLUMN config_failure {text}",
        ],
    },
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_is_well_formed() {
        assert_eq!(super::SCHEMA.check(), Ok(()));
        assert_eq!(super::SCHEMA.latest(), 5);
    }
}
