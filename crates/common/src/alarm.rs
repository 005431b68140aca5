//! Alarms raised as a consequence of a domain's decisions, and where they go.
//!
//! A domain that raises an alarm (inventory's locked host, tomorrow
//! maintenance's failed host) defines it once, as an [`AlarmDef`], and its
//! decisions return [`AlarmEffect`]s. Whoever carried the decision out — an
//! HTTP handler, an orchestrator, a maintenance loop — commits it, then hands
//! the effects to an [`AlarmSink`]: fault management in the same process
//! (all-in-one), or the FM client over HTTP (split deployments). So the same
//! alarm is raised the same way whoever decides it.

/// An alarm's or a customer log's definition: everything but where it is
/// and what its text says, in StarlingX's spellings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlarmDef {
    /// `GGG.NNN`, e.g. `200.001`.
    pub id: &'static str,
    /// The entity type, e.g. `host`.
    pub entity_type: &'static str,
    /// `critical`, `major`, `minor`, `warning`, or `not-applicable` (logs).
    pub severity: &'static str,
    /// X.733 event type, e.g. `operational-violation`.
    pub alarm_type: &'static str,
    /// Probable cause, e.g. `out-of-service`.
    pub probable_cause: &'static str,
    /// What the operator should do (empty for logs).
    pub repair: &'static str,
    /// Whether the alarm affects service.
    pub service_affecting: bool,
    /// Whether the operator may suppress it.
    pub suppression: bool,
}

impl AlarmDef {
    /// This alarm at `entity_instance_id`, saying `reason_text`.
    pub fn at(
        &'static self,
        entity_instance_id: impl Into<String>,
        reason_text: impl Into<String>,
    ) -> RaisedAlarm {
        RaisedAlarm {
            def: self,
            entity_instance_id: entity_instance_id.into(),
            reason_text: reason_text.into(),
        }
    }
}

/// One alarm (or log) of a definition, at an entity, with its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaisedAlarm {
    /// What it is.
    pub def: &'static AlarmDef,
    /// Where, e.g. `host=compute-0`.
    pub entity_instance_id: String,
    /// What it says.
    pub reason_text: String,
}

/// What a decision asks of fault management, carried out after it commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlarmEffect {
    /// Raise (or refresh) an alarm.
    Set(RaisedAlarm),
    /// Clear one alarm, if it is raised.
    Clear {
        /// Its id.
        alarm_id: &'static str,
        /// Where.
        entity_instance_id: String,
    },
    /// Clear every alarm at or under an entity (a host that went away).
    ClearAll {
        /// The entity, e.g. `host=compute-0`.
        entity_instance_id: String,
    },
    /// Write a customer log to the event log.
    Log(RaisedAlarm),
}

impl AlarmEffect {
    /// The alarm or log id it concerns (`*` for a clear of everything).
    pub fn alarm_id(&self) -> &'static str {
        match self {
            AlarmEffect::Set(a) | AlarmEffect::Log(a) => a.def.id,
            AlarmEffect::Clear { alarm_id, .. } => alarm_id,
            AlarmEffect::ClearAll { .. } => "*",
        }
    }
}

/// The future an [`AlarmSink`] returns: `Err` says why the effect could not
/// be handed over.
pub type SinkFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// Where alarm effects go. An implementation either applies the effect or
/// keeps it to deliver later (the HTTP client's spool); a caller logs an
/// error and goes on — the decision that caused the effect has committed.
pub trait AlarmSink: Send + Sync + 'static {
    /// Applies (or queues) one effect.
    fn send(&self, effect: AlarmEffect) -> SinkFuture<'_>;

    /// Effects queued for later delivery, for a sink that queues (FM's HTTP
    /// client and its spool); `None` for one that applies at once.
    fn spooled(&self) -> Option<usize> {
        None
    }
}

/// 200.021, the customer log of a host command (an operator's request
/// accepted, or one maintenance issued itself): raised by inventory and by
/// host maintenance, defined once.
pub static HOST_COMMAND_LOG: AlarmDef = AlarmDef {
    id: "200.021",
    entity_type: "host",
    severity: "not-applicable",
    alarm_type: "operational-violation",
    probable_cause: "unspecified-reason",
    repair: "",
    service_affecting: false,
    suppression: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    static LOCKED: AlarmDef = AlarmDef {
        id: "200.001",
        entity_type: "host",
        severity: "warning",
        alarm_type: "operational-violation",
        probable_cause: "out-of-service",
        repair: "Unlock it.",
        service_affecting: false,
        suppression: true,
    };

    #[test]
    fn an_alarm_of_a_definition_keeps_the_definition() {
        let a = LOCKED.at("host=compute-0", "compute-0 is locked");
        assert_eq!(a.def.id, "200.001");
        assert_eq!(a.entity_instance_id, "host=compute-0");
        assert_eq!(AlarmEffect::Set(a.clone()).alarm_id(), "200.001");
        assert_eq!(
            AlarmEffect::ClearAll {
                entity_instance_id: "host=x".into()
            }
            .alarm_id(),
            "*"
        );
    }
}
