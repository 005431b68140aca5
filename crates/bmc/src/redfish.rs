//! The Redfish BMC client.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::{
    Acted, Action, Bmc, BmcError, BmcFuture, Power, Sensor, SensorGroup, SensorStatus, Thresholds,
};

/// How to reach one host's Redfish BMC.
#[derive(Clone)]
pub struct RedfishConfig {
    /// `https://10.0.0.5` or `http://host:8000` (no path).
    pub url: String,
    pub username: String,
    pub password: String,
    /// CA certificates (PEM) that verify the BMC's certificate; without
    /// them the system's roots do.
    pub ca_pem: Option<Vec<u8>>,
    /// Accept any certificate (a BMC's self-signed one); an operator's
    /// explicit choice.
    pub insecure: bool,
    /// The system's id under `/redfish/v1/Systems`; without it, the BMC's
    /// only system.
    pub system: Option<String>,
    /// Each request's time limit.
    pub timeout: Duration,
}

impl std::fmt::Debug for RedfishConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedfishConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"…")
            .field("insecure", &self.insecure)
            .field("system", &self.system)
            .finish()
    }
}

/// A Redfish BMC.
pub struct Redfish {
    http: reqwest::Client,
    base: String,
    username: String,
    password: String,
    system: Option<String>,
    /// The system's path, once found.
    path: Mutex<Option<String>>,
    /// The system's reset action as last read: its target and the reset
    /// types it allows (none listed: any). A reset or power cycle is then
    /// one request — a fence must not wait on reads first.
    reset: std::sync::Mutex<Option<ResetAction>>,
}

#[derive(Clone, Debug)]
struct ResetAction {
    target: String,
    allowed: Option<Vec<String>>,
}

impl ResetAction {
    fn of(path: &str, system: &Value) -> ResetAction {
        let reset = &system["Actions"]["#ComputerSystem.Reset"];
        ResetAction {
            target: reset["target"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{path}/Actions/ComputerSystem.Reset")),
            allowed: reset["ResetType@Redfish.AllowableValues"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                }),
        }
    }
}

impl std::fmt::Debug for Redfish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redfish").field("base", &self.base).finish()
    }
}

/// The error text of a failed request, without the URL's secrets (there are
/// none: the password is only in a header) and cut short.
fn reason(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// A Redfish error body's message, or the start of the text.
fn message_of(text: &str) -> String {
    let v: Option<Value> = serde_json::from_str(text).ok();
    let m = v.as_ref().and_then(|v| {
        v["error"]["@Message.ExtendedInfo"][0]["Message"]
            .as_str()
            .or_else(|| v["error"]["message"].as_str())
            .map(str::to_string)
    });
    m.unwrap_or_else(|| text.chars().take(200).collect())
}

impl Redfish {
    pub fn new(cfg: RedfishConfig) -> Result<Redfish, BmcError> {
        let base = cfg.url.trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(BmcError::Protocol(format!(
                "a Redfish URL is http(s)://host[:port], not {base}"
            )));
        }
        let mut b = reqwest::Client::builder().timeout(cfg.timeout);
        if let Some(pem) = &cfg.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| BmcError::Protocol(format!("the BMC's CA bundle: {e}")))?;
            b = b.tls_certs_only(certs);
        }
        if cfg.insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        let http = b
            .build()
            .map_err(|e| BmcError::Protocol(format!("cannot build the HTTP client: {e}")))?;
        Ok(Redfish {
            http,
            base,
            username: cfg.username,
            password: cfg.password,
            system: cfg.system,
            path: Mutex::new(None),
            reset: std::sync::Mutex::new(None),
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(StatusCode, String), BmcError> {
        let resp = req
            .basic_auth(&self.username, Some(&self.password))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| BmcError::Unreachable(reason(&e)))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| BmcError::Unreachable(reason(&e)))?;
        Ok((status, text))
    }

    async fn get(&self, path: &str) -> Result<Value, BmcError> {
        let (status, text) = self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await?;
        if !status.is_success() {
            return Err(BmcError::Refused {
                status: status.as_u16(),
                message: message_of(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| BmcError::Protocol(format!("{path}: {e}")))
    }

    /// The system's path: the configured id's, or the BMC's only system.
    async fn system_path(&self) -> Result<String, BmcError> {
        let mut known = self.path.lock().await;
        if let Some(p) = known.as_ref() {
            return Ok(p.clone());
        }
        let path = match &self.system {
            Some(id) => format!("/redfish/v1/Systems/{id}"),
            None => {
                let systems = self.get("/redfish/v1/Systems").await?;
                let members: Vec<&str> = systems["Members"]
                    .as_array()
                    .map(|m| m.iter().filter_map(|s| s["@odata.id"].as_str()).collect())
                    .unwrap_or_default();
                match members.as_slice() {
                    [one] => one.to_string(),
                    [] => return Err(BmcError::Protocol("the BMC lists no system".into())),
                    several => {
                        return Err(BmcError::Protocol(format!(
                            "the BMC lists {} systems: name the host's (its id under /redfish/v1/Systems)",
                            several.len()
                        )));
                    }
                }
            }
        };
        *known = Some(path.clone());
        Ok(path)
    }

    async fn system(&self) -> Result<(String, Value), BmcError> {
        let path = self.system_path().await?;
        let v = self.get(&path).await?;
        if let Ok(mut r) = self.reset.lock() {
            *r = Some(ResetAction::of(&path, &v));
        }
        Ok((path, v))
    }

    fn power_of(system: &Value) -> Result<Power, BmcError> {
        let s = system["PowerState"].as_str().unwrap_or_default();
        Power::parse(s).ok_or_else(|| BmcError::Protocol(format!("PowerState '{s}'")))
    }

    async fn power_now(&self) -> Result<Power, BmcError> {
        let (_, system) = self.system().await?;
        Self::power_of(&system)
    }

    async fn act_now(&self, action: Action) -> Result<Acted, BmcError> {
        // A reset or power cycle does not depend on the power state: with
        // the reset action known (read at an earlier request), it is sent
        // at once.
        let known = match action {
            Action::Reset | Action::Cycle => self.reset.lock().ok().and_then(|r| r.clone()),
            Action::On | Action::Off => None,
        };
        let reset = match known {
            Some(r) => r,
            None => {
                let (path, system) = self.system().await?;
                let power = Self::power_of(&system)?;
                match (action, power) {
                    (Action::On, Power::On) | (Action::Off, Power::Off) => {
                        return Ok(Acted::AlreadySo(power));
                    }
                    _ => {}
                }
                ResetAction::of(&path, &system)
            }
        };
        let (target, allowed) = (reset.target, reset.allowed);
        let candidates: Vec<&'static str> = action
            .reset_types()
            .iter()
            .copied()
            .filter(|t| allowed.as_ref().is_none_or(|a| a.iter().any(|x| x == t)))
            .collect();
        if candidates.is_empty() {
            return Err(BmcError::Unsupported(format!(
                "{} needs one of {:?}; the BMC allows {:?}",
                action.as_str(),
                action.reset_types(),
                allowed.unwrap_or_default()
            )));
        }
        let mut last = String::new();
        for t in candidates {
            let req = self
                .http
                .post(format!("{}{target}", self.base))
                .json(&serde_json::json!({ "ResetType": t }));
            let (status, text) = self.send(req).await?;
            if status.is_success() {
                tracing::info!(bmc = %self.base, action = action.as_str(), reset_type = t, "BMC action sent");
                return Ok(Acted::Sent(t));
            }
            if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
                last = format!("{t}: {status}");
                continue;
            }
            return Err(BmcError::Refused {
                status: status.as_u16(),
                message: message_of(&text),
            });
        }
        Err(BmcError::Unsupported(format!(
            "{}: every reset type was refused ({last})",
            action.as_str()
        )))
    }
}

/// A Redfish sensor entry (a temperature, fan or voltage) read as a
/// [`Sensor`]; `reading_key` names its reading (`ReadingCelsius`, …).
fn sensor_of(v: &Value, group: SensorGroup, reading_key: &str, unit: &str) -> Option<Sensor> {
    let name = v["Name"].as_str()?.to_string();
    let f = |k: &str| v[k].as_f64();
    let thresholds = Thresholds {
        lower_minor: f("LowerThresholdNonCritical"),
        lower_major: f("LowerThresholdCritical"),
        lower_critical: f("LowerThresholdFatal"),
        upper_minor: f("UpperThresholdNonCritical"),
        upper_major: f("UpperThresholdCritical"),
        upper_critical: f("UpperThresholdFatal"),
    };
    let enabled = v["Status"]["State"].as_str().is_none_or(|s| s == "Enabled");
    let reading = f(reading_key).filter(|_| enabled);
    let status = match reading {
        None => SensorStatus::Offline,
        Some(r) => thresholds.status_of(r),
    };
    let unit = v["ReadingUnits"].as_str().unwrap_or(unit).to_string();
    Some(Sensor {
        name,
        group,
        reading,
        unit,
        thresholds,
        status,
    })
}

/// The sensors of a chassis' Thermal and Power documents.
fn sensors_of(thermal: Option<&Value>, power: Option<&Value>) -> Vec<Sensor> {
    let each = |doc: Option<&Value>, list: &str| -> Vec<Value> {
        doc.and_then(|d| d[list].as_array().cloned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for t in each(thermal, "Temperatures") {
        out.extend(sensor_of(
            &t,
            SensorGroup::Temperature,
            "ReadingCelsius",
            "degC",
        ));
    }
    for f in each(thermal, "Fans") {
        out.extend(sensor_of(&f, SensorGroup::Fan, "Reading", "RPM"));
    }
    for v in each(power, "Voltages") {
        out.extend(sensor_of(&v, SensorGroup::Voltage, "ReadingVolts", "V"));
    }
    out
}

impl Redfish {
    async fn sensors_now(&self) -> Result<Vec<Sensor>, BmcError> {
        let (_, system) = self.system().await?;
        let chassis = match system["Links"]["Chassis"][0]["@odata.id"].as_str() {
            Some(c) => c.to_string(),
            None => {
                let all = self.get("/redfish/v1/Chassis").await?;
                match all["Members"].as_array().map(Vec::as_slice) {
                    Some([one]) => one["@odata.id"]
                        .as_str()
                        .ok_or_else(|| BmcError::Protocol("a chassis without @odata.id".into()))?
                        .to_string(),
                    _ => {
                        return Err(BmcError::Protocol(
                            "the system names no chassis, and the BMC has not exactly one".into(),
                        ));
                    }
                }
            }
        };
        let c = self.get(&chassis).await?;
        let mut docs = [None, None];
        for (slot, key) in docs.iter_mut().zip(["Thermal", "Power"]) {
            if let Some(path) = c[key]["@odata.id"].as_str() {
                *slot = Some(self.get(path).await?);
            }
        }
        Ok(sensors_of(docs[0].as_ref(), docs[1].as_ref()))
    }
}

impl Bmc for Redfish {
    fn power(&self) -> BmcFuture<'_, Power> {
        Box::pin(self.power_now())
    }

    fn act(&self, action: Action) -> BmcFuture<'_, Acted> {
        Box::pin(self.act_now(action))
    }

    fn sensors(&self) -> BmcFuture<'_, Vec<Sensor>> {
        Box::pin(self.sensors_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_classed_by_the_most_severe_threshold_they_reach() {
        let thermal = serde_json::json!({
            "Temperatures": [
                {"Name": "cool", "ReadingCelsius": 30, "UpperThresholdNonCritical": 42,
                 "UpperThresholdCritical": 45, "UpperThresholdFatal": 48},
                {"Name": "warm", "ReadingCelsius": 43, "UpperThresholdNonCritical": 42,
                 "UpperThresholdCritical": 45, "UpperThresholdFatal": 48},
                {"Name": "hot", "ReadingCelsius": 46, "UpperThresholdNonCritical": 42,
                 "UpperThresholdCritical": 45, "UpperThresholdFatal": 48},
                {"Name": "burning", "ReadingCelsius": 48, "UpperThresholdNonCritical": 42,
                 "UpperThresholdCritical": 45, "UpperThresholdFatal": 48},
                {"Name": "off", "ReadingCelsius": 20, "Status": {"State": "Absent"}},
                {"ReadingCelsius": 20}
            ],
            "Fans": [{"Name": "slow", "Reading": 300, "LowerThresholdCritical": 500}]
        });
        let power = serde_json::json!({"Voltages": [{"Name": "12V", "ReadingVolts": 12.1,
            "LowerThresholdNonCritical": 11.5, "UpperThresholdNonCritical": 12.5}]});
        let got: Vec<(String, SensorStatus, String)> = sensors_of(Some(&thermal), Some(&power))
            .into_iter()
            .map(|s| (s.name, s.status, s.unit))
            .collect();
        let want = [
            ("cool", SensorStatus::Ok, "degC"),
            ("warm", SensorStatus::Minor, "degC"),
            ("hot", SensorStatus::Major, "degC"),
            ("burning", SensorStatus::Critical, "degC"),
            ("off", SensorStatus::Offline, "degC"),
            ("slow", SensorStatus::Major, "RPM"),
            ("12V", SensorStatus::Ok, "V"),
        ];
        let want: Vec<(String, SensorStatus, String)> = want
            .iter()
            .map(|(n, s, u)| (n.to_string(), *s, u.to_string()))
            .collect();
        assert_eq!(got, want, "a sensor without a name is skipped");
    }

    #[test]
    fn errors_are_read_from_redfish_bodies_and_secrets_stay_out_of_debug() {
        let body = r#"{"error": {"code": "Base.1.0.GeneralError", "message": "general",
            "@Message.ExtendedInfo": [{"Message": "The reset type is not supported."}]}}"#;
        assert_eq!(message_of(body), "The reset type is not supported.");
        assert_eq!(message_of(r#"{"error": {"message": "no"}}"#), "no");
        assert_eq!(message_of("plain"), "plain");
        let cfg = RedfishConfig {
            url: "https://bmc".into(),
            username: "root".into(),
            password: "s3cret".into(),
            ca_pem: None,
            insecure: false,
            system: None,
            timeout: Duration::from_secs(5),
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
        let r = Redfish::new(cfg.clone()).unwrap();
        assert!(!format!("{r:?}").contains("s3cret"));
        let bad = RedfishConfig {
            url: "bmc:443".into(),
            ..cfg
        };
        assert!(Redfish::new(bad).is_err());
    }
}
