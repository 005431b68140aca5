//! IPMI over LAN through `ipmitool`, as StarlingX drives it: `chassis power
//! status|on|off|reset|cycle` and `sensor list`, each a run of the tool
//! with `-I lanplus -H ADDRESS -U USER -E` — the password in the child's
//! `IPMI_PASSWORD` environment variable, never on its command line — and a
//! timeout after which the run is killed.

use std::path::PathBuf;
use std::time::Duration;

use crate::{
    Acted, Action, Bmc, BmcError, BmcFuture, Power, Sensor, SensorGroup, SensorStatus, Thresholds,
};

/// How to reach one BMC over IPMI.
#[derive(Clone)]
pub struct IpmiConfig {
    /// The BMC's address (`bm_ip`).
    pub address: String,
    /// Its UDP port (IPMI's 623).
    pub port: u16,
    pub username: String,
    pub password: String,
    /// ipmitool's interface: `lanplus` (IPMI 2.0, StarlingX's) or `lan`.
    pub interface: String,
    /// The tool (`ipmitool`).
    pub tool: PathBuf,
    /// How long one run may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for IpmiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpmiConfig")
            .field("address", &self.address)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"…")
            .field("interface", &self.interface)
            .finish()
    }
}

/// A BMC spoken to with ipmitool.
#[derive(Debug, Clone)]
pub struct Ipmi {
    cfg: IpmiConfig,
}

impl Ipmi {
    pub fn new(cfg: IpmiConfig) -> Result<Ipmi, BmcError> {
        if !matches!(cfg.interface.as_str(), "lan" | "lanplus") {
            return Err(BmcError::Unsupported(format!(
                "IPMI interface {:?} (lan or lanplus)",
                cfg.interface
            )));
        }
        if cfg.address.is_empty() || cfg.address.starts_with('-') {
            return Err(BmcError::Protocol(format!(
                "{:?} is not a BMC address",
                cfg.address
            )));
        }
        Ok(Ipmi { cfg })
    }

    /// One run of the tool with `args`: its standard output.
    async fn run(&self, args: &[&str]) -> Result<String, BmcError> {
        let c = &self.cfg;
        let port = c.port.to_string();
        let mut cmd = tokio::process::Command::new(&c.tool);
        cmd.args(["-I", &c.interface, "-H", &c.address, "-p", &port])
            .args(["-U", &c.username, "-E", "-R", "1", "-N", "2"])
            .args(args)
            .env("IPMI_PASSWORD", &c.password)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| BmcError::Unreachable(format!("cannot run {}: {e}", c.tool.display())))?;
        let out = match tokio::time::timeout(c.timeout, child.wait_with_output()).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(BmcError::Unreachable(e.to_string())),
            Err(_) => {
                return Err(BmcError::Unreachable(format!(
                    "no answer within {} s",
                    c.timeout.as_secs()
                )));
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = stderr
            .lines()
            .chain(stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message")
            .to_string();
        let lower = said.to_lowercase();
        if lower.contains("password")
            || lower.contains("unauthorized")
            || lower.contains("rakp")
            || lower.contains("activate session")
        {
            return Err(BmcError::Refused {
                status: 401,
                message: said,
            });
        }
        if lower.contains("unable to establish") || lower.contains("timeout") {
            return Err(BmcError::Unreachable(said));
        }
        Err(BmcError::Protocol(said))
    }

    async fn power_now(&self) -> Result<Power, BmcError> {
        let out = self.run(&["chassis", "power", "status"]).await?;
        parse_power(&out)
            .ok_or_else(|| BmcError::Protocol(format!("power status {:?}", out.trim())))
    }

    async fn act_now(&self, action: Action) -> Result<Acted, BmcError> {
        let power = self.power_now().await?;
        let word = match (action, power) {
            (Action::On, Power::On) | (Action::Off, Power::Off) => {
                return Ok(Acted::AlreadySo(power));
            }
            (Action::On, _) => "on",
            (Action::Off, _) => "off",
            (Action::Reset, _) => "reset",
            (Action::Cycle, _) => "cycle",
        };
        self.run(&["chassis", "power", word]).await?;
        Ok(Acted::Sent(match action {
            Action::On => "chassis power on",
            Action::Off => "chassis power off",
            Action::Reset => "chassis power reset",
            Action::Cycle => "chassis power cycle",
        }))
    }

    async fn sensors_now(&self) -> Result<Vec<Sensor>, BmcError> {
        let out = self.run(&["sensor", "list"]).await?;
        Ok(parse_sensor_list(&out))
    }
}

/// `Chassis Power is on|off`.
pub fn parse_power(out: &str) -> Option<Power> {
    let line = out.lines().find(|l| l.contains("Chassis Power is"))?;
    match line.rsplit(' ').next()?.trim() {
        "on" => Some(Power::On),
        "off" => Some(Power::Off),
        _ => None,
    }
}

/// `ipmitool sensor list`: `NAME | READING | UNIT | STATUS | LNR | LCR |
/// LNC | UNC | UCR | UNR`, the analog temperatures, fans and voltages (the
/// discrete sensors are not StarlingX's sensor groups). Non-critical bounds
/// are minor, critical ones major, non-recoverable ones critical; a sensor
/// whose reading is `na` is offline.
pub fn parse_sensor_list(out: &str) -> Vec<Sensor> {
    let mut sensors = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        if f.len() < 10 {
            continue;
        }
        let (group, unit) = match f[2] {
            "degrees C" => (SensorGroup::Temperature, "degC"),
            "RPM" => (SensorGroup::Fan, "RPM"),
            "Volts" => (SensorGroup::Voltage, "V"),
            _ => continue,
        };
        let num = |s: &str| s.parse::<f64>().ok();
        let t = Thresholds {
            lower_critical: num(f[4]),
            lower_major: num(f[5]),
            lower_minor: num(f[6]),
            upper_minor: num(f[7]),
            upper_major: num(f[8]),
            upper_critical: num(f[9]),
        };
        let reading = num(f[1]);
        let status = match reading {
            None => SensorStatus::Offline,
            Some(r) => t.status_of(r),
        };
        sensors.push(Sensor {
            name: f[0].to_string(),
            group,
            reading,
            unit: unit.to_string(),
            thresholds: t,
            status,
        });
    }
    sensors
}

impl Bmc for Ipmi {
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn power_and_sensors_are_read() {
        assert_eq!(parse_power("Chassis Power is on\n"), Some(Power::On));
        assert_eq!(parse_power("Chassis Power is off\n"), Some(Power::Off));
        assert_eq!(parse_power("Error\n"), None);
        let list = "\
CPU Temp         | 71.000     | degrees C  | nc    | 0.000     | 5.000     | 10.000    | 70.000    | 85.000    | 95.000
System Temp      | 30.000     | degrees C  | ok    | -9.000    | -7.000    | -5.000    | 80.000    | 85.000    | 90.000
FAN1             | na         | RPM        | na    | na        | 300.000   | 500.000   | na        | na        | na
12V              | 12.192     | Volts      | ok    | 10.173    | 10.299    | 10.740    | 12.945    | 13.260    | 13.386
Chassis Intru    | 0x0        | discrete   | 0x0000| na        | na        | na        | na        | na        | na
";
        let s = parse_sensor_list(list);
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[0].name, "CPU Temp");
        assert_eq!(s[0].group, SensorGroup::Temperature);
        assert_eq!(
            s[0].status,
            SensorStatus::Minor,
            "71 past the upper non-critical 70"
        );
        assert_eq!(s[0].thresholds.upper_critical, Some(95.0));
        assert_eq!(s[1].status, SensorStatus::Ok);
        assert_eq!(s[2].status, SensorStatus::Offline);
        assert_eq!(s[2].reading, None);
        assert_eq!(s[3].unit, "V");
        assert_eq!(s[3].reading, Some(12.192));
    }

    #[test]
    fn bad_settings_are_refused_and_the_password_never_shown() {
        let cfg = IpmiConfig {
            address: "-oProxyCommand=x".into(),
            port: 623,
            username: "admin".into(),
            password: "s3cret".into(),
            interface: "lanplus".into(),
            tool: "ipmitool".into(),
            timeout: Duration::from_secs(5),
        };
        assert!(Ipmi::new(cfg.clone()).is_err());
        assert!(
            Ipmi::new(IpmiConfig {
                interface: "open".into(),
                address: "10.0.0.1".into(),
                ..cfg.clone()
            })
            .is_err()
        );
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }
}
