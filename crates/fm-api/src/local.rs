//! The alarm sink of the all-in-one: other services' alarm effects applied
//! straight to FM's store, each in one transaction, as if they had been
//! posted to `/v1/alarms` (the same validation, the same rules, the same
//! notifications for the SNMP deliverer).

use starling_common::alarm::{AlarmEffect, AlarmSink, RaisedAlarm, SinkFuture};
use starling_fm::FaultInput;
use starling_fm::ops;

use crate::FmState;

/// FM in this process, as an [`AlarmSink`].
#[derive(Clone)]
pub struct LocalAlarms {
    st: FmState,
}

impl LocalAlarms {
    /// The sink over FM's state.
    pub fn new(st: FmState) -> Self {
        LocalAlarms { st }
    }
}

fn input(state: &str, a: &RaisedAlarm) -> FaultInput {
    FaultInput {
        alarm_state: Some(state.into()),
        alarm_id: Some(a.def.id.into()),
        entity_type_id: Some(a.def.entity_type.into()),
        entity_instance_id: Some(a.entity_instance_id.clone()),
        severity: Some(a.def.severity.into()),
        reason_text: Some(a.reason_text.clone()),
        alarm_type: Some(a.def.alarm_type.into()),
        probable_cause: Some(a.def.probable_cause.into()),
        proposed_repair_action: Some(a.def.repair.into()),
        service_affecting: Some(a.def.service_affecting),
        suppression: Some(a.def.suppression),
        inhibit_alarms: Some(false),
        ..FaultInput::default()
    }
}

impl AlarmSink for LocalAlarms {
    fn send(&self, effect: AlarmEffect) -> SinkFuture<'_> {
        Box::pin(async move {
            let limits = self.st.limits;
            let fault = match &effect {
                AlarmEffect::Set(a) => input("set", a),
                AlarmEffect::Log(a) => input("log", a),
                AlarmEffect::Clear {
                    alarm_id,
                    entity_instance_id,
                } => FaultInput {
                    alarm_state: Some("clear".into()),
                    alarm_id: Some((*alarm_id).into()),
                    entity_instance_id: Some(entity_instance_id.clone()),
                    ..FaultInput::default()
                },
                AlarmEffect::ClearAll { entity_instance_id } => {
                    let eid = entity_instance_id.clone();
                    return self
                        .st
                        .write(move |r, now| ops::clear_all(r, &eid, now, limits))
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                }
            };
            let fault = fault.validate().map_err(|e| e.to_string())?;
            self.st
                .write(move |r, now| ops::apply(r, &fault, now, limits))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
