//! Service management's schema, oldest migration first (never edit a
//! released one: add another). The first creates the tables after
//! StarlingX SM's (`create_sm_db.sql`), named and typed for every
//! backend; the second seeds what a controller runs: the `controller`
//! domain with StarlingX's timers, its three heartbeat interfaces
//! (unprovisioned until `sm-configure` gives their addresses), the
//! floating OAM and management addresses and the API services.

use starling_db::{Migration, Schema};

/// The sm component's schema.
pub const SCHEMA: Schema = Schema::new("sm", MIGRATIONS);

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        legacy: None,
        name: "sm tables",
        statements: &[
            "CREATE TABLE sm_domain (
                name {s64} PRIMARY KEY,
                provisioned {bool} NOT NULL,
                orchestration {s36} NOT NULL,
                priority INTEGER NOT NULL,
                preempt {bool} NOT NULL,
                hello_ms INTEGER NOT NULL,
                dead_ms INTEGER NOT NULL,
                wait_ms INTEGER NOT NULL,
                exchange_ms INTEGER NOT NULL,
                split_brain_recovery {s36} NOT NULL,
                generation BIGINT NOT NULL,
                leader {s64},
                state {s36} NOT NULL
            ){opts}",
            "CREATE TABLE sm_domain_interface (
                domain {s64} NOT NULL,
                name {s64} NOT NULL,
                provisioned {bool} NOT NULL,
                path_type {s36} NOT NULL,
                auth_type {s36} NOT NULL,
                device {s64} NOT NULL,
                address {s64} NOT NULL,
                port INTEGER NOT NULL,
                peer_address {s64} NOT NULL,
                peer_port INTEGER NOT NULL,
                connect_type {s15} NOT NULL,
                state {s36} NOT NULL,
                PRIMARY KEY (domain, name)
            ){opts}",
            "CREATE TABLE sm_domain_member (
                domain {s64} NOT NULL,
                group_name {s64} NOT NULL,
                provisioned {bool} NOT NULL,
                redundancy_model {s15} NOT NULL,
                n_active INTEGER NOT NULL,
                m_standby INTEGER NOT NULL,
                aggregate_name {s64},
                active_only_if_active {s64},
                PRIMARY KEY (domain, group_name)
            ){opts}",
            "CREATE TABLE sm_group (
                name {s64} PRIMARY KEY,
                provisioned {bool} NOT NULL,
                auto_recover {bool} NOT NULL,
                core {bool} NOT NULL,
                failure_debounce_ms BIGINT NOT NULL,
                fatal_error_reboot {bool} NOT NULL
            ){opts}",
            "CREATE TABLE sm_group_member (
                group_name {s64} NOT NULL,
                service {s64} NOT NULL,
                provisioned {bool} NOT NULL,
                impact {s15} NOT NULL,
                PRIMARY KEY (group_name, service)
            ){opts}",
            "CREATE TABLE sm_service (
                id {pk},
                name {s64} NOT NULL UNIQUE,
                provisioned {bool} NOT NULL,
                desired_state {s36} NOT NULL,
                state {s36} NOT NULL,
                status {s36} NOT NULL,
                status_condition {s36} NOT NULL,
                reason {text} NOT NULL,
                max_failures INTEGER NOT NULL,
                fail_countdown INTEGER NOT NULL,
                fail_countdown_interval_ms BIGINT NOT NULL,
                max_action_failures INTEGER NOT NULL,
                max_transition_failures INTEGER NOT NULL,
                pid_file {s255} NOT NULL
            ){opts}",
            "CREATE TABLE sm_dependency (
                dependency_type {s15} NOT NULL,
                service {s64} NOT NULL,
                action_name {s15} NOT NULL,
                dependent {s64} NOT NULL,
                dependent_state {s36} NOT NULL,
                PRIMARY KEY (dependency_type, service, action_name, dependent)
            ){opts}",
            "CREATE TABLE sm_action (
                service {s64} NOT NULL,
                action_name {s15} NOT NULL,
                plugin_type {s36} NOT NULL,
                plugin_name {s255} NOT NULL,
                plugin_command {s255} NOT NULL,
                plugin_parameters {text} NOT NULL,
                max_failure_retries INTEGER NOT NULL,
                timeout_s INTEGER NOT NULL,
                interval_s INTEGER NOT NULL,
                PRIMARY KEY (service, action_name)
            ){opts}",
            "CREATE TABLE sm_action_result (
                plugin_type {s36} NOT NULL,
                plugin_name {s255} NOT NULL,
                plugin_command {s64} NOT NULL,
                exit_code INTEGER NOT NULL,
                action_result {s15} NOT NULL,
                service_state {s36} NOT NULL,
                PRIMARY KEY (plugin_type, plugin_name, plugin_command, exit_code)
            ){opts}",
            "CREATE TABLE sm_instance (
                service {s64} NOT NULL,
                param {s64} NOT NULL,
                value {text} NOT NULL,
                PRIMARY KEY (service, param)
            ){opts}",
            "CREATE TABLE sm_node (
                id {pk},
                name {s64} NOT NULL UNIQUE,
                administrative_state {s36} NOT NULL,
                operational_state {s36} NOT NULL,
                availability_status {s36} NOT NULL,
                ready_state {s36} NOT NULL,
                updated_at BIGINT NOT NULL
            ){opts}",
            "CREATE TABLE sm_assignment (
                id {pk},
                uuid {s36} NOT NULL UNIQUE,
                domain {s64} NOT NULL,
                node_name {s64} NOT NULL,
                group_name {s64} NOT NULL,
                desired_state {s36} NOT NULL,
                state {s36} NOT NULL,
                status {s36} NOT NULL,
                status_condition {s36} NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (node_name, group_name)
            ){opts}",
            "CREATE TABLE sm_configuration (
                name {s64} PRIMARY KEY,
                value {s255} NOT NULL
            ){opts}",
        ],
    },
    Migration {
        version: 2,
        legacy: None,
        name: "sm seed: the controller domain, its interfaces, the floating addresses and the API",
        statements: &[
            // StarlingX's controller domain: priority 230, hello 200 ms,
            // dead 800 ms, wait 5 s, exchange 2 s, no preemption.
            "INSERT INTO sm_domain VALUES ('controller', TRUE, 'regional', 230, FALSE,
                200, 800, 5000, 2000, 'select-best-active', 0, NULL, 'initial')",
            // Every path authenticated (the key is a root-only file, not a
            // column); each provisioned once sm-configure gives it its
            // addresses.
            "INSERT INTO sm_domain_interface VALUES
                ('controller', 'management-interface', FALSE, 'secondary', 'hmac-sha512', '', '', 2222, '', 2222, 'tor', 'unknown'),
                ('controller', 'cluster-host-interface', FALSE, 'secondary', 'hmac-sha512', '', '', 2223, '', 2223, 'tor', 'unknown'),
                ('controller', 'oam-interface', FALSE, 'secondary', 'hmac-sha512', '', '', 2224, '', 2224, 'tor', 'unknown')",
            "INSERT INTO sm_domain_member VALUES
                ('controller', 'oam-services', TRUE, 'N + M', 1, 1, 'controller-aggregate', NULL),
                ('controller', 'controller-services', TRUE, 'N + M', 1, 1, 'controller-aggregate', NULL)",
            "INSERT INTO sm_group VALUES
                ('oam-services', TRUE, TRUE, TRUE, 300000, FALSE),
                ('controller-services', TRUE, TRUE, TRUE, 300000, TRUE)",
            "INSERT INTO sm_group_member VALUES
                ('oam-services', 'oam-ip', TRUE, 'critical'),
                ('controller-services', 'management-ip', TRUE, 'critical'),
                ('controller-services', 'starling-api', TRUE, 'critical')",
            "INSERT INTO sm_service VALUES
                (1, 'oam-ip', TRUE, 'initial', 'initial', '', '', '', 2, 1, 90000, 4, 16, ''),
                (2, 'management-ip', TRUE, 'initial', 'initial', '', '', '', 2, 1, 90000, 4, 16, ''),
                (3, 'starling-api', TRUE, 'initial', 'initial', '', '', '', 2, 1, 90000, 4, 16, '')",
            // The API starts after the management address and stops
            // before it goes.
            "INSERT INTO sm_dependency VALUES
                ('action', 'starling-api', 'enable', 'management-ip', 'enabled-active'),
                ('action', 'management-ip', 'disable', 'starling-api', 'disabled')",
            "INSERT INTO sm_action VALUES
                ('oam-ip', 'enable', 'ip', 'oam-ip', '', '', 2, 20, 0),
                ('oam-ip', 'disable', 'ip', 'oam-ip', '', '', 2, 20, 0),
                ('oam-ip', 'audit-enabled', 'ip', 'oam-ip', '', '', 2, 5, 5),
                ('oam-ip', 'audit-disabled', 'ip', 'oam-ip', '', '', 2, 5, 5),
                ('management-ip', 'enable', 'ip', 'management-ip', '', '', 2, 20, 0),
                ('management-ip', 'disable', 'ip', 'management-ip', '', '', 2, 20, 0),
                ('management-ip', 'audit-enabled', 'ip', 'management-ip', '', '', 2, 5, 5),
                ('management-ip', 'audit-disabled', 'ip', 'management-ip', '', '', 2, 5, 5),
                ('starling-api', 'enable', 'systemd', 'starlingd.service', '', '', 2, 60, 0),
                ('starling-api', 'disable', 'systemd', 'starlingd.service', '', '', 2, 60, 0),
                ('starling-api', 'audit-enabled', 'systemd', 'starlingd.service', '', '', 2, 10, 5),
                ('starling-api', 'audit-disabled', 'systemd', 'starlingd.service', '', '', 2, 10, 20)",
            // An LSB script's exit codes (exec plugins): status 0 is
            // running, 1-3 stopped; start and stop succeed on 0.
            "INSERT INTO sm_action_result VALUES
                ('exec', '*', 'status', 0, 'success', 'enabled-active'),
                ('exec', '*', 'status', 1, 'success', 'disabled'),
                ('exec', '*', 'status', 2, 'success', 'disabled'),
                ('exec', '*', 'status', 3, 'success', 'disabled'),
                ('exec', '*', 'start', 0, 'success', 'enabled-active'),
                ('exec', '*', 'stop', 0, 'success', 'disabled'),
                ('systemd', '*', 'is-active', 0, 'success', 'enabled-active'),
                ('systemd', '*', 'is-active', 3, 'success', 'disabled'),
                ('systemd', '*', 'is-active', 4, 'success', 'disabled')",
            "INSERT INTO sm_configuration VALUES ('ENABLING_THROTTLE', '2')",
        ],
    },
    Migration {
        version: 3,
        legacy: None,
        name: "sm seed: the database primary (unprovisioned until configured)",
        statements: &[
            // A duplex cloud's database: a PostgreSQL primary on the
            // active controller, streaming to a standby on the other. The
            // API starts once it is primary; it is demoted once the API
            // has stopped.
            "INSERT INTO sm_service VALUES
                (4, 'postgres', FALSE, 'initial', 'initial', '', '', '', 2, 1, 90000, 4, 16, '')",
            "INSERT INTO sm_group_member VALUES
                ('controller-services', 'postgres', FALSE, 'critical')",
            "INSERT INTO sm_dependency VALUES
                ('action', 'starling-api', 'enable', 'postgres', 'enabled-active'),
                ('action', 'postgres', 'go-standby', 'starling-api', 'disabled'),
                ('action', 'postgres', 'disable', 'starling-api', 'disabled')",
            "INSERT INTO sm_action VALUES
                ('postgres', 'enable', 'postgres', 'postgres', '', '', 2, 300, 0),
                ('postgres', 'disable', 'postgres', 'postgres', '', '', 2, 90, 0),
                ('postgres', 'go-active', 'postgres', 'postgres', '', '', 2, 90, 0),
                ('postgres', 'go-standby', 'postgres', 'postgres', '', '', 2, 180, 0),
                ('postgres', 'audit-enabled', 'postgres', 'postgres', '', '', 2, 20, 5),
                ('postgres', 'audit-disabled', 'postgres', 'postgres', '', '', 2, 20, 10)",
        ],
    },
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_schema_is_well_formed() {
        assert_eq!(super::SCHEMA.check(), Ok(()));
        assert_eq!(super::SCHEMA.latest(), 3);
    }
}
