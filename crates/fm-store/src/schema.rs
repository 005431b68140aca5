//! The fault-management schema: its migrations, oldest first. Never edit a released
//! migration: add a new one. `legacy` is the version a migration had in the
//! single schema list of the releases before schemas were per component.

use starling_db::{Migration, Schema};

/// The fault-management component's schema.
pub const SCHEMA: Schema = Schema::new("fm", MIGRATIONS);

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        legacy: Some(1),
        name: "fault management",
        statements: &[
            "INSERT INTO starling_sequence (name, value) VALUES ('fm_alarm', 0), ('fm_event_log', 0), ('fm_event_suppression', 0)",
            "CREATE TABLE fm_event_suppression (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            alarm_id {s15} NOT NULL UNIQUE,
            description {text} NOT NULL,
            suppression_status {s15} NOT NULL,
            set_for_deletion {bool} NOT NULL,
            mgmt_affecting {s15} NOT NULL,
            degrade_affecting {s15} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT
        ){opts}",
            "CREATE TABLE fm_alarm (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            alarm_id {s15} NOT NULL,
            entity_type_id {s255} NOT NULL,
            entity_instance_id {s255} NOT NULL,
            ts BIGINT NOT NULL,
            severity {s15} NOT NULL,
            reason_text {text} NOT NULL,
            alarm_type {s64} NOT NULL,
            probable_cause {s64} NOT NULL,
            proposed_repair_action {text} NOT NULL,
            service_affecting {bool} NOT NULL,
            suppression {bool} NOT NULL,
            inhibit_alarms {bool} NOT NULL,
            masked {bool} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT,
            UNIQUE (alarm_id, entity_instance_id)
        ){opts}",
            "CREATE INDEX fm_alarm_eid ON fm_alarm (entity_instance_id)",
            "CREATE INDEX fm_alarm_order ON fm_alarm (severity, entity_instance_id, id)",
            "CREATE TABLE fm_event_log (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            event_log_id {s15} NOT NULL,
            state {s15} NOT NULL,
            entity_type_id {s255} NOT NULL,
            entity_instance_id {s255} NOT NULL,
            ts BIGINT NOT NULL,
            severity {s15} NOT NULL,
            reason_text {text} NOT NULL,
            event_log_type {s64} NOT NULL,
            probable_cause {s64} NOT NULL,
            proposed_repair_action {text} NOT NULL,
            service_affecting {bool} NOT NULL,
            suppression {bool} NOT NULL,
            created_at BIGINT NOT NULL
        ){opts}",
            "CREATE INDEX fm_event_log_ts ON fm_event_log (ts, id)",
            "CREATE INDEX fm_event_log_eid_ts ON fm_event_log (entity_instance_id, ts, id)",
            "CREATE INDEX fm_event_log_elid_ts ON fm_event_log (event_log_id, ts, id)",
        ],
    },
    Migration {
        version: 2,
        legacy: Some(2),
        name: "fault management notification outbox",
        statements: &[
            "INSERT INTO starling_sequence (name, value) VALUES ('fm_outbox', 0)",
            "CREATE TABLE fm_outbox (
            id {pk},
            payload {text} NOT NULL
        ){opts}",
        ],
    },
    Migration {
        version: 3,
        legacy: Some(6),
        name: "fault management: active alarms keyed by entity first",
        statements: &[
            // The unique key (entity_instance_id, alarm_id) serves the set's
            // lookup, the hierarchical clear's prefix range and the inhibitor
            // lookup, so the separate entity index goes: one B-tree fewer to
            // write on every set. A table-level UNIQUE cannot be altered in
            // SQLite, hence the rebuild (the same statements on every backend).
            "CREATE TABLE fm_alarm_v6 (
            id {pk},
            uuid {s36} NOT NULL UNIQUE,
            alarm_id {s15} NOT NULL,
            entity_type_id {s255} NOT NULL,
            entity_instance_id {s255} NOT NULL,
            ts BIGINT NOT NULL,
            severity {s15} NOT NULL,
            reason_text {text} NOT NULL,
            alarm_type {s64} NOT NULL,
            probable_cause {s64} NOT NULL,
            proposed_repair_action {text} NOT NULL,
            service_affecting {bool} NOT NULL,
            suppression {bool} NOT NULL,
            inhibit_alarms {bool} NOT NULL,
            masked {bool} NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT,
            UNIQUE (entity_instance_id, alarm_id)
        ){opts}",
            "INSERT INTO fm_alarm_v6 (id, uuid, alarm_id, entity_type_id, entity_instance_id, ts, \
             severity, reason_text, alarm_type, probable_cause, proposed_repair_action, \
             service_affecting, suppression, inhibit_alarms, masked, created_at, updated_at) \
             SELECT id, uuid, alarm_id, entity_type_id, entity_instance_id, ts, severity, \
             reason_text, alarm_type, probable_cause, proposed_repair_action, service_affecting, \
             suppression, inhibit_alarms, masked, created_at, updated_at FROM fm_alarm",
            "DROP TABLE fm_alarm",
            "ALTER TABLE fm_alarm_v6 RENAME TO fm_alarm",
            "CREATE INDEX fm_alarm_order ON fm_alarm (severity, entity_instance_id, id)",
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
