//! Service parameters (`service_parameter`): named values per (service,
//! section, name), checked against a schema as sysinv's
//! service_parameter.py checks them, with its messages. Starling's schema
//! holds the sections whose values its hosts apply: `platform sysctl`
//! (kernel parameters, `/etc/sysctl.d`), `platform coredump`
//! (systemd-coredump's limits), `platform client` (`cli_confirmations`)
//! and `dns host-record` (host names every host resolves). Each change is
//! applied to every host at runtime.

use std::net::IpAddr;

use starling_common::{Error, Timestamp};

use crate::repo::{ConfigRepo, Seq};

/// The longest value (sysinv's `SERVICE_PARAMETER_MAX_LENGTH`).
pub const MAX_LENGTH: usize = 4096;

/// A service parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceParameter {
    pub id: i64,
    pub uuid: String,
    pub service: String,
    pub section: String,
    pub name: String,
    pub value: String,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// What the controller's kernel says of a sysctl name (its `/proc/sys`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelParam {
    /// Readable and writable.
    Writable,
    ReadOnly,
    WriteOnly,
    /// Not there; the closest name beside it, if any.
    Missing(Option<String>),
}

/// How the controller's kernel parameters are looked up (the API reads
/// `/proc/sys`).
pub trait KernelParams {
    fn probe(&self, name: &str) -> KernelParam;
}

/// Kernel parameters sysinv never lets a service parameter set (its
/// `protected_kernel_parameters`: overridden by kubelet, or unsafe).
pub const PROTECTED_SYSCTL: &[&str] = &[
    "vm.panic_on_oom",
    "vm.overcommit_memory",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "kernel.sysrq",
    "kernel.modules_disabled",
    "kernel.hostname",
    "kernel.ctrl-alt-del",
];

/// The names of a section: given ones, or any (`*`).
#[derive(Clone, Copy, Debug)]
enum Names {
    Any,
    These(&'static [&'static str]),
}

/// A section of the schema.
#[derive(Clone, Copy, Debug)]
struct Section {
    service: &'static str,
    section: &'static str,
    names: Names,
}

const SCHEMA: &[Section] = &[
    Section {
        service: "platform",
        section: "sysctl",
        names: Names::Any,
    },
    Section {
        service: "platform",
        section: "coredump",
        names: Names::These(&[
            "process_size_max",
            "external_size_max",
            "max_use",
            "keep_free",
        ]),
    },
    Section {
        service: "platform",
        section: "client",
        names: Names::These(&["cli_confirmations"]),
    },
    Section {
        service: "dns",
        section: "host-record",
        names: Names::Any,
    },
];

/// The services of the schema.
pub fn services() -> Vec<&'static str> {
    let mut v: Vec<&str> = SCHEMA.iter().map(|s| s.service).collect();
    v.dedup();
    v
}

fn section_of(service: &str, section: &str) -> Option<&'static Section> {
    SCHEMA
        .iter()
        .find(|s| s.service == service && s.section == section)
}

/// The service a request names, as sysinv's `_get_service` checks it.
pub fn check_service(service: Option<&str>) -> Result<&str, Error> {
    let s = service
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("Unspecified service name"))?;
    if !SCHEMA.iter().any(|x| x.service == s) {
        return Err(Error::invalid(format!("Invalid service name {s}.")));
    }
    Ok(s)
}

/// A size as systemd and sysinv's `_byte_transform` write one (`0`, or a
/// number and one of B K M G T P E); its bytes.
fn bytes(name: &str, v: &str) -> Result<f64, Error> {
    let bad = || Error::invalid(format!("Parameter '{name}' has invalid value format."));
    if v == "0" {
        return Ok(0.0);
    }
    let unit = v.chars().last().ok_or_else(bad)?;
    let power = "BKMGTPE".find(unit).ok_or_else(bad)?;
    let number = &v[..v.len() - 1];
    let digits_ok = !number.is_empty()
        && number.split('.').count() <= 2
        && number
            .trim_start_matches('-')
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !digits_ok {
        return Err(bad());
    }
    let n: f64 = number.parse().map_err(|_| bad())?;
    Ok(n * 1024f64.powi(power as i32))
}

/// A host name as sysinv's `is_valid_dns_hostname` takes one.
fn dns_name_ok(n: &str) -> bool {
    let n = n.strip_suffix('.').unwrap_or(n);
    !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The value check of (section, name).
fn check_value(
    sec: &Section,
    name: &str,
    value: &str,
    kernel: &dyn KernelParams,
) -> Result<(), Error> {
    match (sec.service, sec.section) {
        ("platform", "sysctl") => {
            let shown = format!("Parameter '{name}={value}'");
            if PROTECTED_SYSCTL.contains(&name) {
                return Err(Error::invalid(format!(
                    "{shown} cannot be modified. It may not persist or is unsafe to modify."
                )));
            }
            let plain = !name.is_empty()
                && !name.starts_with('.')
                && !name.ends_with('.')
                && !name.contains("..")
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            let probe = if plain {
                kernel.probe(name)
            } else {
                KernelParam::Missing(None)
            };
            match probe {
                KernelParam::Writable => {}
                KernelParam::ReadOnly => {
                    return Err(Error::invalid(format!(
                        "{shown} cannot be modified. It is read-only."
                    )));
                }
                KernelParam::WriteOnly => {
                    return Err(Error::invalid(format!(
                        "{shown} cannot be read. It is write-only."
                    )));
                }
                KernelParam::Missing(near) => {
                    let hint = near
                        .map(|n| format!("Did you mean '{n}'?"))
                        .unwrap_or_default();
                    return Err(Error::invalid(format!("{shown} is not supported. {hint}")));
                }
            }
            if value.contains(['\n', '\r']) {
                return Err(Error::invalid(format!(
                    "{shown} cannot be written: one line is expected"
                )));
            }
        }
        ("platform", "coredump") => {
            let min = if name == "keep_free" { "1G" } else { "0" };
            if bytes(name, value)? < bytes(name, min)? {
                return Err(Error::invalid(format!(
                    "Parameter '{name}' must be greater than or equal to {min}."
                )));
            }
        }
        ("platform", "client") if value != "enabled" && value != "disabled" => {
            return Err(Error::invalid(format!(
                "Parameter '{name}' value must be either 'disabled' or 'enabled'"
            )));
        }
        ("dns", "host-record") => {
            let (mut ip, mut host) = (false, false);
            for r in value.split(',').map(str::trim) {
                if r.parse::<u32>().is_ok() {
                    continue;
                }
                if r.parse::<IpAddr>().is_ok() {
                    ip = true;
                } else {
                    if !dns_name_ok(r) {
                        return Err(Error::invalid(format!(
                            "Parameter '{name}' includes an invalid domain name '{r}'."
                        )));
                    }
                    host = true;
                }
            }
            if !ip || !host {
                return Err(Error::invalid(format!(
                    "Parameter '{name}' must contain valid ip address and host name."
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// sysinv's `_check_parameter_syntax`.
fn check(
    service: &str,
    section: &str,
    name: &str,
    value: &str,
    kernel: &dyn KernelParams,
) -> Result<(), Error> {
    let sec = section_of(service, section)
        .ok_or_else(|| Error::invalid(format!("Invalid service section {section}.")))?;
    let known = match sec.names {
        Names::Any => !name.is_empty(),
        Names::These(n) => n.contains(&name),
    };
    if !known {
        return Err(Error::invalid(format!(
            "The parameter name {name} is invalid for service {service} section {section}"
        )));
    }
    if value.is_empty() {
        return Err(Error::invalid("The service parameter value is mandatory"));
    }
    if value.len() > MAX_LENGTH {
        return Err(Error::invalid(format!(
            "The service parameter value is restricted to at most {MAX_LENGTH} characters."
        )));
    }
    if name.len() > 255 {
        return Err(Error::invalid(
            "The service parameter name is restricted to at most 255 characters.",
        ));
    }
    check_value(sec, name, value, kernel)
}

/// sysinv's `_check_duplicate_value` for DNS host records: the same set of
/// names and addresses twice.
fn check_duplicate_record(
    all: &[ServiceParameter],
    service: &str,
    section: &str,
    name: &str,
    value: &str,
    except: Option<i64>,
) -> Result<(), Error> {
    if service != "dns" || section != "host-record" {
        return Ok(());
    }
    let set = |v: &str| {
        let mut s: Vec<String> = v.split(',').map(|x| x.trim().to_string()).collect();
        s.sort();
        s.dedup();
        s
    };
    let mine = set(value);
    if all.iter().any(|p| {
        Some(p.id) != except
            && p.service == service
            && p.section == section
            && set(&p.value) == mine
    }) {
        return Err(Error::conflict(format!(
            "Service parameter add failed: Value already exists: service={service} section={section} name={name} value={value}"
        )));
    }
    Ok(())
}

/// `service-parameter-add`: every (name, value) checked, none already
/// there, then all stored.
pub fn add(
    repo: &mut dyn ConfigRepo,
    service: &str,
    section: Option<&str>,
    parameters: &[(String, String)],
    kernel: &dyn KernelParams,
    now: Timestamp,
) -> Result<Vec<ServiceParameter>, Error> {
    let section = section
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("Unspecified section name."))?;
    if section_of(service, section).is_none() {
        return Err(Error::invalid(format!(
            "Invalid service section {section}."
        )));
    }
    if parameters.is_empty() {
        return Err(Error::invalid("Unspecified parameters."));
    }
    let mut all = repo.service_parameters()?;
    let mut made = Vec::new();
    for (name, value) in parameters {
        check(service, section, name, value, kernel)?;
        if all
            .iter()
            .any(|p| p.service == service && p.section == section && p.name == *name)
        {
            return Err(Error::conflict(format!(
                "Service parameter add failed: Parameter already exists: service={service} section={section} name={name}"
            )));
        }
        check_duplicate_record(&all, service, section, name, value, None)?;
        let p = ServiceParameter {
            id: repo.next_id(Seq::ServiceParameter)?,
            uuid: starling_common::new_uuid(),
            service: service.to_string(),
            section: section.to_string(),
            name: name.clone(),
            value: value.clone(),
            created_at: now,
            updated_at: None,
        };
        all.push(p.clone());
        made.push(p);
    }
    for p in &made {
        repo.insert_service_parameter(p)?;
    }
    Ok(made)
}

/// The parameter of this uuid.
pub fn get(repo: &mut dyn ConfigRepo, uuid: &str) -> Result<ServiceParameter, Error> {
    repo.service_parameters()?
        .into_iter()
        .find(|p| p.uuid.eq_ignore_ascii_case(uuid))
        .ok_or_else(|| Error::not_found(format!("Service parameter {uuid} could not be found.")))
}

/// `service-parameter-modify`: a new value (and, as cgtsclient sends it, the
/// same name), checked as an add is.
pub fn modify(
    repo: &mut dyn ConfigRepo,
    uuid: &str,
    name: Option<&str>,
    value: Option<&str>,
    kernel: &dyn KernelParams,
    now: Timestamp,
) -> Result<ServiceParameter, Error> {
    let mut p = get(repo, uuid)?;
    if let Some(n) = name
        && n != p.name
    {
        return Err(Error::invalid(format!(
            "The name of service parameter {} cannot be changed ({} to {n}): delete it and add one",
            p.uuid, p.name
        )));
    }
    let Some(value) = value else {
        return Err(Error::invalid("The service parameter value is mandatory"));
    };
    check(&p.service, &p.section, &p.name, value, kernel)?;
    let all = repo.service_parameters()?;
    check_duplicate_record(&all, &p.service, &p.section, &p.name, value, Some(p.id))?;
    p.value = value.to_string();
    p.updated_at = Some(now);
    repo.update_service_parameter(&p)?;
    Ok(p)
}

/// `service-parameter-delete`.
pub fn delete(repo: &mut dyn ConfigRepo, uuid: &str) -> Result<ServiceParameter, Error> {
    let p = get(repo, uuid)?;
    repo.delete_service_parameter(p.id)?;
    Ok(p)
}

/// `service-parameter-apply`'s checks: a service of the schema, a section
/// of it when one is named.
pub fn check_apply<'a>(service: Option<&'a str>, section: Option<&str>) -> Result<&'a str, Error> {
    let service = check_service(service)?;
    if let Some(s) = section
        && section_of(service, s).is_none()
    {
        return Err(Error::invalid(format!("Invalid service section {s}.")));
    }
    Ok(service)
}

/// What the parameters ask of every host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// Kernel parameters, by name.
    pub sysctl: Vec<(String, String)>,
    /// systemd-coredump's limits, by its key (`ProcessSizeMax`, …).
    pub coredump: Vec<(String, String)>,
    /// The CLIs ask before destructive commands.
    pub cli_confirmations: Option<bool>,
    /// Extra host names: an address and its names.
    pub host_records: Vec<(IpAddr, Vec<String>)>,
}

/// The settings every host applies, from the parameters.
pub fn host_settings(all: &[ServiceParameter]) -> HostSettings {
    let mut s = HostSettings::default();
    let mut sorted: Vec<&ServiceParameter> = all.iter().collect();
    sorted.sort_by(|a, b| (&a.section, &a.name).cmp(&(&b.section, &b.name)));
    for p in sorted {
        match (p.service.as_str(), p.section.as_str()) {
            ("platform", "sysctl") => s.sysctl.push((p.name.clone(), p.value.clone())),
            ("platform", "coredump") => {
                let key = match p.name.as_str() {
                    "process_size_max" => "ProcessSizeMax",
                    "external_size_max" => "ExternalSizeMax",
                    "max_use" => "MaxUse",
                    _ => "KeepFree",
                };
                s.coredump.push((key.to_string(), p.value.clone()));
            }
            ("platform", "client") => s.cli_confirmations = Some(p.value == "enabled"),
            ("dns", "host-record") => {
                let parts: Vec<&str> = p.value.split(',').map(str::trim).collect();
                let names: Vec<String> = parts
                    .iter()
                    .filter(|r| r.parse::<IpAddr>().is_err() && r.parse::<u32>().is_err())
                    .map(|r| r.to_string())
                    .collect();
                for a in parts.iter().filter_map(|r| r.parse::<IpAddr>().ok()) {
                    s.host_records.push((a, names.clone()));
                }
            }
            _ => {}
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::Mem;

    struct Kernel;

    impl KernelParams for Kernel {
        fn probe(&self, name: &str) -> KernelParam {
            match name {
                "net.ipv4.ip_forward" | "vm.swappiness" | "kernel.panic" => KernelParam::Writable,
                "kernel.osrelease" => KernelParam::ReadOnly,
                "vm.compact_memory" => KernelParam::WriteOnly,
                "vm.swapiness" => KernelParam::Missing(Some("vm.swappiness".into())),
                _ => KernelParam::Missing(None),
            }
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(s * 1_000_000)
    }

    fn add1(
        m: &mut Mem,
        service: &str,
        section: &str,
        n: &str,
        v: &str,
    ) -> Result<ServiceParameter, String> {
        add(
            m,
            service,
            Some(section),
            &[(n.into(), v.into())],
            &Kernel,
            t(1),
        )
        .map(|mut v| v.remove(0))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn parameters_are_checked_against_the_schema() {
        let mut m = Mem::default();
        for (svc, sec, n, v, want) in [
            (
                "platform",
                "nosuch",
                "x",
                "1",
                "Invalid service section nosuch.",
            ),
            (
                "platform",
                "coredump",
                "size",
                "1G",
                "The parameter name size is invalid for service platform section coredump",
            ),
            (
                "platform",
                "coredump",
                "max_use",
                "",
                "The service parameter value is mandatory",
            ),
            (
                "platform",
                "coredump",
                "max_use",
                "12X",
                "Parameter 'max_use' has invalid value format.",
            ),
            (
                "platform",
                "coredump",
                "keep_free",
                "512M",
                "Parameter 'keep_free' must be greater than or equal to 1G.",
            ),
            (
                "platform",
                "client",
                "cli_confirmations",
                "yes",
                "value must be either 'disabled' or 'enabled'",
            ),
            (
                "platform",
                "sysctl",
                "kernel.panic",
                "1",
                "cannot be modified. It may not persist or is unsafe",
            ),
            (
                "platform",
                "sysctl",
                "kernel.osrelease",
                "1",
                "cannot be modified. It is read-only.",
            ),
            (
                "platform",
                "sysctl",
                "vm.compact_memory",
                "1",
                "cannot be read. It is write-only.",
            ),
            (
                "platform",
                "sysctl",
                "vm.swapiness",
                "1",
                "is not supported. Did you mean 'vm.swappiness'?",
            ),
            (
                "platform",
                "sysctl",
                "../etc/passwd",
                "1",
                "is not supported.",
            ),
            (
                "dns",
                "host-record",
                "r1",
                "10.0.0.1",
                "must contain valid ip address and host name",
            ),
            (
                "dns",
                "host-record",
                "r1",
                "bad_name,10.0.0.1",
                "invalid domain name 'bad_name'",
            ),
        ] {
            let e = add1(&mut m, svc, sec, n, v).unwrap_err();
            assert!(e.contains(want), "{svc} {sec} {n}={v}: {e}");
        }
        assert!(
            m.service_parameters().unwrap().is_empty(),
            "nothing written"
        );
        assert_eq!(
            check_service(Some("nova")).unwrap_err().to_string(),
            "Invalid service name nova."
        );
        assert_eq!(
            check_service(None).unwrap_err().to_string(),
            "Unspecified service name"
        );
        let big = "x".repeat(MAX_LENGTH + 1);
        let e = add1(&mut m, "platform", "sysctl", "vm.swappiness", &big).unwrap_err();
        assert!(e.contains("at most 4096 characters"), "{e}");
    }

    #[test]
    fn a_parameter_is_added_once_modified_and_deleted() {
        let mut m = Mem::default();
        let p = add1(&mut m, "platform", "sysctl", "vm.swappiness", "10").unwrap();
        let e = add1(&mut m, "platform", "sysctl", "vm.swappiness", "20").unwrap_err();
        assert!(
            e.contains(
                "Parameter already exists: service=platform section=sysctl name=vm.swappiness"
            ),
            "{e}"
        );
        // A batch is all or nothing.
        let e = add(
            &mut m,
            "platform",
            Some("coredump"),
            &[
                ("max_use".into(), "2G".into()),
                ("keep_free".into(), "1M".into()),
            ],
            &Kernel,
            t(2),
        )
        .unwrap_err();
        assert!(e.to_string().contains("keep_free"), "{e}");
        assert_eq!(m.service_parameters().unwrap().len(), 1);
        let up = modify(
            &mut m,
            &p.uuid,
            Some("vm.swappiness"),
            Some("30"),
            &Kernel,
            t(3),
        )
        .unwrap();
        assert_eq!((up.value.as_str(), up.updated_at), ("30", Some(t(3))));
        let e = modify(&mut m, &p.uuid, Some("vm.other"), Some("1"), &Kernel, t(3)).unwrap_err();
        assert!(e.to_string().contains("cannot be changed"), "{e}");
        add1(
            &mut m,
            "dns",
            "host-record",
            "r1",
            "registry.local,10.0.0.9",
        )
        .unwrap();
        let e = add1(
            &mut m,
            "dns",
            "host-record",
            "r2",
            "10.0.0.9, registry.local",
        )
        .unwrap_err();
        assert!(e.contains("Value already exists"), "{e}");
        delete(&mut m, &p.uuid).unwrap();
        assert!(get(&mut m, &p.uuid).is_err());
    }

    #[test]
    fn hosts_settings_come_from_the_parameters() {
        let mut m = Mem::default();
        add1(&mut m, "platform", "sysctl", "vm.swappiness", "10").unwrap();
        add1(&mut m, "platform", "sysctl", "net.ipv4.ip_forward", "1").unwrap();
        add1(&mut m, "platform", "coredump", "keep_free", "2G").unwrap();
        add1(&mut m, "platform", "client", "cli_confirmations", "enabled").unwrap();
        add1(
            &mut m,
            "dns",
            "host-record",
            "r1",
            "registry.local,reg,10.0.0.9,fd00::9",
        )
        .unwrap();
        let s = host_settings(&m.service_parameters().unwrap());
        assert_eq!(
            s.sysctl,
            [
                ("net.ipv4.ip_forward".to_string(), "1".to_string()),
                ("vm.swappiness".to_string(), "10".to_string())
            ]
        );
        assert_eq!(s.coredump, [("KeepFree".to_string(), "2G".to_string())]);
        assert_eq!(s.cli_confirmations, Some(true));
        let names = vec!["registry.local".to_string(), "reg".to_string()];
        assert_eq!(
            s.host_records,
            [
                ("10.0.0.9".parse().unwrap(), names.clone()),
                ("fd00::9".parse().unwrap(), names)
            ]
        );
    }
}
