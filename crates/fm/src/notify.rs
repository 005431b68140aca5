//! Notifications (SNMP traps and, later, other receivers) decided by the rules and
//! written to the outbox in the same transaction as the change that caused them.

use serde::{Deserialize, Serialize};

/// One notification, in the order it must be delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// An alarm was raised or changed (trap chosen by severity).
    Set {
        /// The alarm's uuid.
        uuid: String,
        /// Alarm id.
        alarm_id: String,
        /// Entity instance id.
        entity_instance_id: String,
        /// Event time, µs since the epoch.
        timestamp: i64,
        /// Severity rank (warning 1 … critical 4).
        severity: u8,
        /// Reason text.
        reason_text: String,
        /// Event type.
        alarm_type: String,
        /// Probable cause.
        probable_cause: String,
        /// Repair action.
        proposed_repair_action: String,
        /// Service affecting.
        service_affecting: bool,
        /// Suppression allowed.
        suppression: bool,
    },
    /// An alarm was cleared.
    Clear {
        /// The clear record's uuid.
        uuid: String,
        /// Alarm id.
        alarm_id: String,
        /// Entity instance id.
        entity_instance_id: String,
        /// Clear time.
        timestamp: i64,
        /// Reason text of the cleared alarm.
        reason_text: String,
    },
    /// Everything under an entity was cleared.
    HierarchicalClear {
        /// The record's uuid.
        uuid: String,
        /// The prefix.
        entity_instance_id: String,
        /// Clear time.
        timestamp: i64,
    },
    /// A customer log.
    Message {
        /// The log record's uuid.
        uuid: String,
        /// Log id.
        event_id: String,
        /// Entity instance id.
        entity_instance_id: String,
        /// Event time.
        timestamp: i64,
        /// Severity rank (0 … 4).
        severity: u8,
        /// Reason text.
        reason_text: String,
        /// Event type.
        event_type: String,
        /// Probable cause.
        probable_cause: String,
        /// Service affecting.
        service_affecting: bool,
    },
    /// Suppression changed: managers should re-walk the tables.
    WarmStart,
}

impl Notification {
    /// Storage text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// From storage text.
    pub fn decode(s: &str) -> Option<Notification> {
        serde_json::from_str(s).ok()
    }
}
