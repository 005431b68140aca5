//! Host agents' own credentials.
//!
//! A host's agent does not log in as a cloud user. It enrolls once with the
//! cloud's enrollment secret (`starling-enroll-…`, written to
//! `<data-dir>/agent-enrollment` at the first start), which lets it do one
//! thing: register. The registration's answer carries the host's own
//! credential (`starling-agent-…`, in the `X-Starling-Agent-Token` header,
//! shown once, stored as its SHA-256), and from then on the agent registers,
//! reports and polls commands with it — for its own host only, and for
//! nothing else of the API. A host enrolls once: the secret cannot take over
//! an enrolled host; a host deleted and added again, or reinstalled, enrolls
//! anew.
//!
//! [`AgentAuth`] recognises both kinds of token before the identity
//! authenticator sees a request; every other token goes to it unchanged, so
//! an operator's token works on the agent routes as it always did.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use starling_common::{Clock, Error};
use starling_db::Db;
use starling_http::{AUTH_REQUIRED, AgentScope, ApiError, Authenticator, BoxFuture, Principal};
use starling_inventory::hwops::{self, Registration};
use starling_inventory::repo::InventoryRepo;
use starling_inventory_store::InventoryStore;

/// A host agent's own credential begins so.
pub const CREDENTIAL_PREFIX: &str = "starling-agent-";
/// The cloud's enrollment secret begins so.
pub const ENROLLMENT_PREFIX: &str = "starling-enroll-";
/// The answer header a first registration carries the credential in.
pub const CREDENTIAL_HEADER: &str = "x-starling-agent-token";
/// The enrollment secret's file in the data directory.
pub const ENROLLMENT_FILE: &str = "agent-enrollment";
/// The enrollment secret's name among the stored secrets.
const ENROLLMENT: &str = "agent-enrollment";

/// The policies of the agent's routes: all a host credential passes.
pub const AGENT_POLICIES: [&str; 2] = [REGISTER_POLICY, "config_api:agent:modify"];
/// The registration's policy: all the enrollment secret passes.
pub const REGISTER_POLICY: &str = "config_api:agent:register";

/// A new secret: `prefix` and 32 random bytes in hex.
pub fn new_secret(prefix: &str) -> Result<String, Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| {
        Error::Storage(starling_common::StorageFailure::fatal(format!(
            "no randomness: {e}"
        )))
    })?;
    Ok(format!("{prefix}{}", hex(&b)))
}

/// What is stored of a secret.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Longest token a host credential or the enrollment secret may be.
const MAX_TOKEN: usize = 512;

/// The host whose agent holds `credential` (none for anything that is not
/// a host credential).
async fn host_of(db: &Db, credential: &str) -> Result<Option<starling_inventory::Host>, Error> {
    if !credential.starts_with(CREDENTIAL_PREFIX) || credential.len() > MAX_TOKEN {
        return Ok(None);
    }
    let h = hash(credential);
    db.read(move |c| InventoryStore::new(c).host_of_agent_credential(&h))
        .await
}

/// Inventory's authenticator: host credentials and the enrollment secret
/// checked against inventory's store, every other token by `inner`.
pub struct AgentAuth {
    pub inner: Arc<dyn Authenticator>,
    pub db: Db,
}

impl Authenticator for AgentAuth {
    fn authorize<'a>(
        &'a self,
        headers: &'a starling_http::HeaderMap,
        policy: &'a str,
    ) -> BoxFuture<'a, Result<Arc<Principal>, ApiError>> {
        let token = headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let Some(token) = token.filter(|t| {
            t.len() <= MAX_TOKEN
                && (t.starts_with(CREDENTIAL_PREFIX) || t.starts_with(ENROLLMENT_PREFIX))
        }) else {
            return self.inner.authorize(headers, policy);
        };
        Box::pin(async move {
            if token.starts_with(CREDENTIAL_PREFIX) {
                let host = host_of(&self.db, token).await.map_err(ApiError::from)?;
                let Some(host) = host else {
                    tracing::info!(target: "auth", "refused an agent credential no host holds");
                    return Err(ApiError::unauthorized(AUTH_REQUIRED));
                };
                if !AGENT_POLICIES.contains(&policy) {
                    return Err(ApiError::forbidden(format!(
                        "Policy doesn't allow {policy} to be performed."
                    )));
                }
                return Ok(Arc::new(Principal::host_agent(
                    &host.uuid,
                    &host.display_name(),
                )));
            }
            let stored = self
                .db
                .read(|c| InventoryStore::new(c).secret_hash(ENROLLMENT))
                .await
                .map_err(ApiError::from)?;
            if stored.as_deref() != Some(hash(token).as_str()) {
                tracing::info!(target: "auth", "refused an enrollment secret that is not this cloud's");
                return Err(ApiError::unauthorized(AUTH_REQUIRED));
            }
            if policy != REGISTER_POLICY {
                return Err(ApiError::forbidden(format!(
                    "Policy doesn't allow {policy} to be performed."
                )));
            }
            Ok(Arc::new(Principal {
                user_id: String::new(),
                user: "agent enrollment".into(),
                project: String::new(),
                project_domain_id: String::new(),
                roles: Vec::new(),
                agent: Some(AgentScope::Enrollment),
            }))
        })
    }
}

/// Inventory's hosts as the services started after it see them
/// (maintenance verifies its agents' credentials, lists the hosts and
/// reports what it observes of them).
pub struct InventoryHosts {
    pub st: crate::InventoryState,
}

fn summary(h: &starling_inventory::Host) -> starling_service::HostSummary {
    starling_service::HostSummary {
        id: h.id,
        uuid: h.uuid.clone(),
        hostname: h.hostname.clone(),
        personality: h.personality.map(|p| p.as_str().to_string()),
        subfunctions: (!h.subfunctions.is_empty()).then(|| h.subfunctions.clone()),
        administrative: h.administrative.as_str().to_string(),
        operational: h.operational.as_str().to_string(),
        availability: h.availability.as_str().to_string(),
        task: h.task.clone(),
        bmc: h.bm_type != starling_inventory::BmType::None && h.bm_ip.is_some(),
    }
}

impl starling_service::Hosts for InventoryHosts {
    fn agent(
        &self,
        credential: &str,
    ) -> BoxFuture<'_, Result<Option<starling_service::HostSummary>, String>> {
        let credential = credential.to_string();
        Box::pin(async move {
            let host = host_of(&self.st.db, &credential)
                .await
                .map_err(|e| e.to_string())?;
            Ok(host.as_ref().map(summary))
        })
    }

    fn host(
        &self,
        uuid: &str,
    ) -> BoxFuture<'_, Result<Option<starling_service::HostSummary>, String>> {
        let r = starling_inventory::repo::HostRef::Uuid(uuid.to_ascii_lowercase());
        Box::pin(async move {
            let h = self
                .st
                .db
                .read(move |c| InventoryStore::new(c).host(&r))
                .await
                .map_err(|e: Error| e.to_string())?;
            Ok(h.as_ref().map(summary))
        })
    }

    fn system(&self) -> BoxFuture<'_, Result<Option<starling_service::SystemSummary>, String>> {
        Box::pin(async move {
            let s = self
                .st
                .db
                .read(|c| InventoryStore::new(c).system())
                .await
                .map_err(|e: Error| e.to_string())?;
            Ok(s.map(|s| starling_service::SystemSummary {
                uuid: s.uuid,
                system_mode: s.system_mode.as_str().to_string(),
                system_type: s.system_type.as_str().to_string(),
            }))
        })
    }

    fn configured(
        &self,
        uuid: &str,
        marks: starling_service::ConfigMarks,
    ) -> BoxFuture<'_, Result<(), String>> {
        let uuid = uuid.to_string();
        Box::pin(async move {
            let m = [marks.target, marks.applied, marks.status, marks.failure];
            let maintained = self.st.maintained();
            let marked = self
                .st
                .write(move |repo, now| {
                    starling_inventory::ops::mark_config(repo, &uuid, m.clone(), maintained, now)
                })
                .await
                .map_err(|e| e.message)?;
            if marked.event.is_some() {
                let h = &marked.host;
                tracing::info!(host = %h.display_name(), administrative = h.administrative.as_str(), availability = h.availability.as_str(), "the configuration owed at the unlock decided it");
                self.st.report(h, marked.alarm, marked.event).await;
            }
            Ok(())
        })
    }

    fn ports(
        &self,
        uuid: &str,
        base: &str,
    ) -> BoxFuture<'_, Result<Option<Vec<serde_json::Value>>, String>> {
        let (uuid, base) = (uuid.to_string(), base.to_string());
        Box::pin(async move { crate::hardware::port_records(&self.st, &uuid, &base).await })
    }

    fn port_links(&self, links: starling_service::PortLinks) {
        let _ = self.st.port_links.set(links);
    }

    fn configuring(&self, bell: starling_service::ConfigBell) {
        let _ = self.st.configuring.set(bell);
    }

    fn all(&self) -> BoxFuture<'_, Result<Vec<starling_service::HostSummary>, String>> {
        Box::pin(async move {
            let hosts = self
                .st
                .db
                .read(|c| InventoryStore::new(c).hosts(&Default::default()))
                .await
                .map_err(|e: Error| e.to_string())?;
            Ok(hosts.iter().map(summary).collect())
        })
    }

    fn observe(
        &self,
        uuid: &str,
        health: starling_service::HostHealth,
        task: &str,
    ) -> BoxFuture<'_, Result<(), String>> {
        use starling_inventory::ops;
        let uuid = uuid.to_string();
        let task = task.to_string();
        Box::pin(async move {
            let (h, event) = self
                .st
                .write(move |repo, now| ops::maintain(repo, &uuid, health, &task, now))
                .await
                .map_err(|e| e.message)?;
            if event.is_some() {
                tracing::info!(host = %h.display_name(), availability = h.availability.as_str(), task = %h.task, "host state set by maintenance");
                self.st.report(&h, None, event).await;
            }
            Ok(())
        })
    }

    fn bmc(
        &self,
        uuid: &str,
    ) -> BoxFuture<'_, Result<Option<starling_service::BmcAccess>, String>> {
        let uuid = uuid.to_string();
        Box::pin(async move {
            let (h, sealed) = self
                .st
                .db
                .read(move |c| {
                    let mut repo = InventoryStore::new(c);
                    let h = starling_inventory::ops::host(
                        &mut repo,
                        &starling_inventory::repo::HostRef::Uuid(uuid.clone()),
                    )?;
                    let sealed = repo.bmc_secret(h.id)?;
                    Ok::<_, Error>((h, sealed))
                })
                .await
                .map_err(|e| e.to_string())?;
            let (Some(address), Some(username), Some(sealed)) = (h.bm_ip, h.bm_username, sealed)
            else {
                return Ok(None);
            };
            if h.bm_type == starling_inventory::BmType::None {
                return Ok(None);
            }
            let key = self
                .st
                .secrets
                .as_ref()
                .ok_or("no secret key to open the BMC password with")?;
            Ok(Some(starling_service::BmcAccess {
                bm_type: h.bm_type.as_str().to_string(),
                address,
                username,
                password: key.open(&sealed, &h.uuid)?,
            }))
        })
    }

    fn sensors(
        &self,
        uuid: &str,
        interval: std::time::Duration,
        readings: Vec<starling_service::SensorReading>,
    ) -> BoxFuture<'_, Result<Vec<(String, String)>, String>> {
        let r = starling_inventory::repo::HostRef::Uuid(uuid.to_string());
        Box::pin(async move {
            let (groups, sensors) = sensor_records(interval, &readings);
            let (sensors, groups) = self
                .st
                .write(move |repo, now| {
                    starling_inventory::hwops::record_sensors(repo, &r, &groups, &sensors, now)
                })
                .await
                .map_err(|e| e.message)?;
            Ok(actions(&sensors, &groups))
        })
    }

    fn maintained(&self, bmc: Arc<dyn starling_service::BmcCommands>) {
        let _ = self.st.maintenance.set(bmc);
    }

    fn complete(
        &self,
        uuid: &str,
        command: &str,
        ok: bool,
        message: Option<String>,
    ) -> BoxFuture<'_, Result<(), String>> {
        use starling_inventory::lifecycle::AgentCommand;
        use starling_inventory::ops;
        let uuid = uuid.to_string();
        let command = command.to_string();
        Box::pin(async move {
            let cmd = AgentCommand::parse(&command).ok_or(format!("no command {command}"))?;
            let r = starling_inventory::repo::HostRef::Uuid(uuid);
            let mut t = self
                .st
                .write(move |repo, now| ops::complete(repo, &r, cmd, ok, now))
                .await
                .map_err(|e| e.message)?;
            crate::commands::with_message(&mut t, ok, message.as_deref());
            self.st.carry_out(&t).await;
            Ok(())
        })
    }
}

/// The sensor groups StarlingX's hwmon would learn from a Redfish BMC, by
/// the kind of sensor: (group name, sensortype).
fn group_of(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "temperature" => ("server temperature", "temperature"),
        "fan" => ("server fans", "tachometer"),
        "voltage" => ("server voltage", "voltage"),
        _ => ("server misc", "misc"),
    }
}

/// A threshold as sysinv shows it (text).
fn bound(v: Option<f64>) -> Option<String> {
    v.map(|x| x.to_string())
}

/// Maintenance's readings as sensor groups and sensors (new records'
/// operator settings: not suppressed, every action `alarm`).
fn sensor_records(
    interval: std::time::Duration,
    readings: &[starling_service::SensorReading],
) -> (
    Vec<starling_inventory::hardware::SensorGroup>,
    Vec<starling_inventory::hardware::Sensor>,
) {
    use starling_inventory::hardware::{
        SENSOR_ACTIONS, SENSOR_ACTIONS_CRITICAL, Sensor, SensorGroup,
    };
    let secs = interval.as_secs() as i64;
    let mut groups: std::collections::BTreeMap<&str, SensorGroup> = Default::default();
    let mut sensors = Vec::with_capacity(readings.len());
    for r in readings {
        let (name, sensortype) = group_of(&r.kind);
        let g = groups.entry(name).or_insert_with(|| SensorGroup {
            sensorgroupname: name.into(),
            path: r.path.clone(),
            sensortype: sensortype.into(),
            datatype: "analog".into(),
            state: "enabled".into(),
            possible_states: Some("enabled,disabled".into()),
            audit_interval_group: secs,
            actions_critical_choices: SENSOR_ACTIONS_CRITICAL.into(),
            actions_major_choices: SENSOR_ACTIONS.into(),
            actions_minor_choices: SENSOR_ACTIONS.into(),
            actions_minor_group: "alarm".into(),
            actions_major_group: "alarm".into(),
            actions_critical_group: "alarm".into(),
            unit_base_group: Some(r.unit.clone()),
            ..SensorGroup::default()
        });
        if !g.sensors.is_empty() {
            g.sensors.push(',');
        }
        g.sensors.push_str(&r.name);
        let mut capabilities = serde_json::Map::new();
        if let Some(v) = r.reading {
            capabilities.insert("reading".into(), serde_json::json!(v));
        }
        sensors.push(Sensor {
            sensorname: r.name.clone(),
            path: r.path.clone(),
            sensortype: sensortype.into(),
            datatype: "analog".into(),
            status: r.status.clone(),
            state: "enabled".into(),
            actions_minor: "alarm".into(),
            actions_major: "alarm".into(),
            actions_critical: "alarm".into(),
            audit_interval: secs,
            capabilities,
            unit_base: Some(r.unit.clone()),
            t_minor_lower: bound(r.minor.0),
            t_minor_upper: bound(r.minor.1),
            t_major_lower: bound(r.major.0),
            t_major_upper: bound(r.major.1),
            t_critical_lower: bound(r.critical.0),
            t_critical_upper: bound(r.critical.1),
            sensorgroup: name.into(),
            ..Sensor::default()
        });
    }
    (groups.into_values().collect(), sensors)
}

/// The sensors whose alarm is not to be raised: suppressed (themselves or
/// their group), or whose group's action at their status is not `alarm`.
/// Each sensor's action at its status: `ignore` when it or its group is
/// suppressed, else its group's action at that severity (`alarm` for a
/// sensor that reads well, offline, or has no group).
fn actions(
    sensors: &[starling_inventory::hardware::Sensor],
    groups: &[starling_inventory::hardware::SensorGroup],
) -> Vec<(String, String)> {
    sensors
        .iter()
        .map(|s| {
            let g = groups.iter().find(|g| g.sensorgroupname == s.sensorgroup);
            let action = if s.suppress || g.is_some_and(|g| g.suppress) {
                "ignore"
            } else {
                g.map_or("alarm", |g| match s.status.as_str() {
                    "minor" => g.actions_minor_group.as_str(),
                    "major" => g.actions_major_group.as_str(),
                    "critical" => g.actions_critical_group.as_str(),
                    _ => "alarm",
                })
            };
            (s.sensorname.clone(), action.to_string())
        })
        .collect()
}

/// Makes sure the cloud has an enrollment secret. `file` (the data
/// directory's `agent-enrollment`, or `--agent-enrollment-file`) holds it:
/// when it exists its secret is the one (a new one replaces the stored one:
/// that is how it is changed); when it does not and none is stored, one is
/// generated into it (0600, written before its hash is stored, so a crash
/// cannot leave a secret nobody has). A stored secret whose file was removed
/// stays valid.
pub async fn ensure_enrollment(
    db: &Db,
    clock: &Arc<dyn Clock>,
    file: Option<&Path>,
) -> Result<(), String> {
    let stored = db
        .read(|c| InventoryStore::new(c).secret_hash(ENROLLMENT))
        .await
        .map_err(|e: Error| e.to_string())?;
    let secret = match file {
        Some(f) if f.exists() => {
            let s = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let s = s.trim().to_string();
            if !s.starts_with(ENROLLMENT_PREFIX) || s.len() < ENROLLMENT_PREFIX.len() + 32 {
                return Err(format!(
                    "{}: an enrollment secret is `{ENROLLMENT_PREFIX}` and at least 32 more \
                     characters (remove the file to have one generated)",
                    f.display()
                ));
            }
            s
        }
        Some(f) if stored.is_none() => {
            let s = new_secret(ENROLLMENT_PREFIX).map_err(|e| e.to_string())?;
            starling_service::write_private(f, &format!("{s}\n")).map_err(|e| e.to_string())?;
            tracing::info!(file = %f.display(), "generated the agents' enrollment secret");
            s
        }
        _ => {
            if stored.is_none() {
                tracing::warn!(
                    "no enrollment secret (no data directory and no --agent-enrollment-file): \
                     host agents cannot enroll"
                );
            }
            return Ok(());
        }
    };
    let h = hash(&secret);
    if stored.as_deref() == Some(h.as_str()) {
        return Ok(());
    }
    if stored.is_some() {
        tracing::info!("the agents' enrollment secret changed: the new one enrolls from now on");
    }
    let now = clock.now();
    db.write(move |c| InventoryStore::new(c).set_secret_hash(ENROLLMENT, &h, now))
        .await
        .map_err(|e: Error| e.to_string())
}

/// Where the enrollment secret is kept by default.
pub fn default_enrollment_file(data_dir: Option<&Path>) -> Option<PathBuf> {
    data_dir.map(|d| d.join(ENROLLMENT_FILE))
}

/// Registers the host of this management MAC (this machine, in the
/// all-in-one) and gives its agent a new credential, replacing any: the
/// credential the daemon's own agent runs with.
pub async fn issue_local_credential(
    st: &crate::InventoryState,
    hostname: &str,
    mgmt_mac: &str,
) -> Result<String, ApiError> {
    let secret = new_secret(CREDENTIAL_PREFIX)?;
    let h = hash(&secret);
    let reg = Registration {
        hostname: hostname.to_string(),
        mgmt_mac: mgmt_mac.to_string(),
    };
    st.write(move |repo, now| hwops::issue_credential(repo, &reg, &h, now))
        .await?;
    Ok(secret)
}

/// Checks, in the request's transaction, that an agent with a host
/// credential speaks for its own host; any other caller passes.
pub(crate) fn check_own(
    repo: &mut dyn InventoryRepo,
    scope: Option<&AgentScope>,
    r: &starling_inventory::repo::HostRef,
) -> Result<(), Error> {
    match scope {
        Some(AgentScope::Host(uuid)) => hwops::own_host(repo, r, uuid),
        Some(AgentScope::Enrollment) => Err(Error::forbidden(hwops::NOT_ITS_HOST)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_stored_hashed() {
        let a = new_secret(CREDENTIAL_PREFIX).unwrap();
        let b = new_secret(CREDENTIAL_PREFIX).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(CREDENTIAL_PREFIX));
        assert_eq!(a.len(), CREDENTIAL_PREFIX.len() + 64);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
