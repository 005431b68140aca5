//! Configuration's schema, oldest migration first (never edit a released
//! one: add another).

use starling_db::{Migration, Schema};

/// The config component's schema.
pub const SCHEMA: Schema = Schema::new("config", MIGRATIONS);

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        legacy: None,
        name: "config: DNS, NTP, OAM and each host's target and applied configuration",
        statements: &[
            "CREATE TABLE cfg_dns (
            uuid {s36} PRIMARY KEY,
            nameservers {s255} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE cfg_ntp (
            uuid {s36} PRIMARY KEY,
            ntpservers {text} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE cfg_oam (
            uuid {s36} PRIMARY KEY,
            subnet {s64} NOT NULL,
            gateway_ip {s64},
            floating_ip {s64} NOT NULL,
            c0_ip {s64},
            c1_ip {s64},
            start_ip {s64} NOT NULL,
            end_ip {s64} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE cfg_host (
            host_uuid {s36} PRIMARY KEY,
            hostname {s255} NOT NULL,
            target {s36} NOT NULL,
            applied {s36},
            failure {text},
            changed_at BIGINT NOT NULL
        ){opts}",
        ],
    },
    Migration {
        version: 2,
        legacy: None,
        name: "config: data networks",
        statements: &[
            "CREATE TABLE cfg_datanetwork (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            name {s255} NOT NULL UNIQUE,
            network_type {s15} NOT NULL,
            description {text} NOT NULL,
            mtu INTEGER NOT NULL,
            mode {s15},
            multicast_group {s64},
            port_num INTEGER,
            ttl INTEGER
        ){opts}",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_datanetwork', 0)",
        ],
    },
    Migration {
        version: 3,
        legacy: None,
        name: "config: platform networks, address pools and addresses (the OAM record moves into the oam network's pool; cfg_oam is read once to carry it over)",
        statements: &[
            "CREATE TABLE cfg_addrpool (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            name {s255} NOT NULL UNIQUE,
            network {s64} NOT NULL,
            prefix INTEGER NOT NULL,
            alloc_order {s15} NOT NULL,
            ranges {text} NOT NULL,
            floating_address_id BIGINT,
            controller0_address_id BIGINT,
            controller1_address_id BIGINT,
            gateway_address_id BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE cfg_address (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            name {s255} NOT NULL,
            address {s64} NOT NULL UNIQUE,
            prefix INTEGER NOT NULL,
            pool_id BIGINT,
            host_uuid {s36}
        ){opts}",
            "CREATE INDEX cfg_address_pool ON cfg_address (pool_id)",
            "CREATE INDEX cfg_address_host ON cfg_address (host_uuid)",
            "CREATE TABLE cfg_network (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            name {s255} NOT NULL,
            net_type {s36} NOT NULL UNIQUE,
            dynamic {bool} NOT NULL,
            pool_uuid {s36},
            primary_pool_family {s15}
        ){opts}",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_addrpool', 0)",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_address', 0)",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_network', 0)",
        ],
    },
    Migration {
        version: 4,
        legacy: None,
        name: "config: host interfaces, and the platform and data networks assigned to them",
        statements: &[
            // `uses` is the comma list of the lower interfaces' ids, in the
            // order given; a port serves one interface, a name one per host.
            "CREATE TABLE cfg_interface (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            host_uuid {s36} NOT NULL,
            ifname {s36} NOT NULL,
            iftype {s15} NOT NULL,
            ifclass {s36},
            imac {s36},
            imtu INTEGER NOT NULL,
            aemode {s36},
            txhashpolicy {s36},
            primary_reselect {s36},
            vlan_id INTEGER,
            uses {s255} NOT NULL,
            port_uuid {s36} UNIQUE,
            sriov_numvfs INTEGER NOT NULL,
            sriov_vf_driver {s36},
            ptp_role {s15} NOT NULL,
            max_tx_rate INTEGER,
            max_rx_rate INTEGER,
            ipv4_mode {s15},
            ipv6_mode {s15},
            ipv4_pool {s36},
            ipv6_pool {s36},
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE UNIQUE INDEX cfg_interface_name ON cfg_interface (host_uuid, ifname)",
            "CREATE TABLE cfg_interface_network (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            interface_id BIGINT NOT NULL,
            network_id BIGINT NOT NULL
        ){opts}",
            "CREATE UNIQUE INDEX cfg_interface_network_pair ON cfg_interface_network (interface_id, network_id)",
            "CREATE TABLE cfg_interface_datanetwork (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            interface_id BIGINT NOT NULL,
            datanetwork_id BIGINT NOT NULL
        ){opts}",
            "CREATE UNIQUE INDEX cfg_interface_datanetwork_pair ON cfg_interface_datanetwork (interface_id, datanetwork_id)",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_interface', 0)",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_interface_network', 0)",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_interface_datanetwork', 0)",
        ],
    },
    Migration {
        version: 5,
        legacy: None,
        name: "config: service parameters",
        statements: &[
            "CREATE TABLE cfg_service_parameter (
            id BIGINT PRIMARY KEY,
            uuid {s36} NOT NULL UNIQUE,
            service {s36} NOT NULL,
            section {s64} NOT NULL,
            name {s255} NOT NULL,
            value {text} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE UNIQUE INDEX cfg_service_parameter_key ON cfg_service_parameter (service, section, name)",
            "INSERT INTO starling_sequence (name, value) VALUES ('cfg_service_parameter', 0)",
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
