//! Input checks with StarlingX's rules: hostnames per personality, MAC and IP
//! addresses, board-management fields, and what host-add accepts.

use std::net::IpAddr;

use crate::Error;
use crate::model::*;

/// A MAC address in StarlingX's canonical form (lower-case, colons). Accepts
/// `:` or `-` separators in any case; refuses all-zero, broadcast and
/// multicast addresses, which no management port has.
pub fn mac(s: &str) -> Result<String, Error> {
    let bad = || Error::invalid(format!("Invalid MAC address '{s}'"));
    let parts: Vec<&str> = s.trim().split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut bytes = [0u8; 6];
    for (b, p) in bytes.iter_mut().zip(&parts) {
        if p.len() != 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if bytes == [0; 6] || bytes[0] & 1 == 1 {
        return Err(Error::invalid(format!(
            "Invalid MAC address '{s}': not a unicast address"
        )));
    }
    Ok(bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// An IPv4 or IPv6 address, in its canonical text.
pub fn ip(field: &str, s: &str) -> Result<String, Error> {
    s.trim()
        .parse::<IpAddr>()
        .map(|a| a.to_string())
        .map_err(|_| Error::invalid(format!("Invalid {field} '{s}': not an IP address")))
}

/// The hostname rules of each personality: controllers are `controller-0`
/// or `controller-1`, storage hosts `storage-<N>`, others use letters,
/// digits, `-`, `_` and `.` and may not take a controller or storage name.
pub fn hostname(name: &str, personality: Personality) -> Result<(), Error> {
    if name.is_empty() || name.len() > 255 {
        return Err(Error::invalid(format!(
            "Hostname '{name}' must be 1 to 255 characters"
        )));
    }
    match personality {
        Personality::Controller => {
            if name != "controller-0" && name != "controller-1" {
                return Err(Error::invalid(format!(
                    "Invalid hostname '{name}' for a controller: use controller-0 or controller-1"
                )));
            }
        }
        Personality::Storage => {
            let ok = name
                .strip_prefix("storage-")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return Err(Error::invalid(format!(
                    "Invalid hostname '{name}' for a storage host: use storage-<N>"
                )));
            }
        }
        Personality::Worker | Personality::Edgeworker => {
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(Error::invalid(format!(
                    "Invalid hostname '{name}': only letters, digits, '-', '_' and '.' are allowed"
                )));
            }
            if name.starts_with("controller-") || name.starts_with("storage") {
                return Err(Error::invalid(format!(
                    "Invalid hostname '{name}' for a {personality} host: controller and storage names are reserved"
                )));
            }
        }
    }
    Ok(())
}

/// Subfunctions for a personality on this system type (`controller,worker`
/// on All-in-one controllers).
pub fn subfunctions(personality: Personality, system_type: SystemType) -> String {
    match (personality, system_type) {
        (Personality::Controller, SystemType::AllInOne) => "controller,worker".into(),
        (p, _) => p.as_str().into(),
    }
}

/// Board-management user names: at most 16 characters, no whitespace.
pub fn bm_username(s: &str) -> Result<(), Error> {
    if s.is_empty() || s.chars().count() > 16 || s.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!(
            "Invalid bm_username '{s}': 1 to 16 characters without whitespace"
        )));
    }
    Ok(())
}

/// What host-add asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewHost {
    /// Host name.
    pub hostname: Option<String>,
    /// Personality (spelling checked here).
    pub personality: Option<String>,
    /// Management MAC.
    pub mgmt_mac: Option<String>,
    /// Management address.
    pub mgmt_ip: Option<String>,
    /// BMC address.
    pub bm_ip: Option<String>,
    /// BMC protocol.
    pub bm_type: Option<String>,
    /// BMC user.
    pub bm_username: Option<String>,
    /// Install boot device.
    pub boot_device: Option<String>,
    /// Install root device.
    pub rootfs_device: Option<String>,
    /// Console.
    pub console: Option<String>,
    /// `text` or `graphical`.
    pub install_output: Option<String>,
    /// Location text.
    pub location: Option<String>,
    /// Serial id.
    pub serialid: Option<String>,
}

impl NewHost {
    /// The field behind a wire attribute name (`hostname`, `mgmt_mac`, …), or
    /// `None` when the name is not a host-add attribute.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "hostname" => &mut self.hostname,
            "personality" => &mut self.personality,
            "mgmt_mac" => &mut self.mgmt_mac,
            "mgmt_ip" => &mut self.mgmt_ip,
            "bm_ip" => &mut self.bm_ip,
            "bm_type" => &mut self.bm_type,
            "bm_username" => &mut self.bm_username,
            "boot_device" => &mut self.boot_device,
            "rootfs_device" => &mut self.rootfs_device,
            "console" => &mut self.console,
            "install_output" => &mut self.install_output,
            "location" => &mut self.location,
            "serialid" => &mut self.serialid,
            _ => return None,
        })
    }

    /// A host-add request from wire attributes (`name`, value; `None` for
    /// null), as a POST body or a hosts file entry carries them. Attributes
    /// Starling does not keep are accepted at their default only; an unknown
    /// attribute is refused by name.
    pub fn from_attributes<'a>(
        attrs: impl IntoIterator<Item = (&'a str, Option<String>)>,
    ) -> Result<NewHost, Error> {
        let mut n = NewHost::default();
        for (k, v) in attrs {
            if let Some(slot) = n.field_mut(k) {
                *slot = v;
                continue;
            }
            match k {
                // Only the subfunctions the personality implies (lowlatency
                // comes with the kernel work).
                "subfunctions" => {
                    if let Some(s) = &v
                        && s.split(',').any(|f| f.trim() == "lowlatency")
                    {
                        return Err(Error::invalid(
                            "subfunction lowlatency is not supported yet",
                        ));
                    }
                }
                "bm_password" => {
                    return Err(Error::invalid(
                        "bm_password is not accepted at host-add: set it with host-update once the host is added",
                    ));
                }
                "power_on" => {
                    if v.as_deref().is_some_and(|v| v != "false") {
                        return Err(Error::invalid(
                            "power_on is not supported yet: Starling powers hosts on through their BMC once host maintenance lands",
                        ));
                    }
                }
                other if default_only(other, v.as_deref())? => {}
                other => {
                    return Err(Error::invalid(format!(
                        "Unknown attribute for argument host: {other}"
                    )));
                }
            }
        }
        Ok(n)
    }
}

/// StarlingX host attributes Starling does not manage yet: accepted at
/// their default value only, so scripts and hosts files that carry the
/// defaults keep working and nothing else is silently dropped.
const DEFAULT_ONLY: &[(&str, &str)] = &[
    ("hw_settle", "0"),
    ("ttys_dcd", "false"),
    ("clock_synchronization", "ntp"),
    ("tboot", ""),
    ("vsc_controllers", ""),
    ("action", "none"),
    ("apparmor", "disabled"),
];

/// True when `name` is an attribute Starling accepts at its default only
/// and `value` is that default (or absent); an other value is refused.
/// False when `name` is not such an attribute.
pub fn default_only(name: &str, value: Option<&str>) -> Result<bool, Error> {
    let Some((_, default)) = DEFAULT_ONLY.iter().find(|(n, _)| *n == name) else {
        return Ok(false);
    };
    match value {
        Some(v) if !v.eq_ignore_ascii_case(default) => Err(Error::invalid(format!(
            "{name} '{v}' is not supported yet; only '{default}' is"
        ))),
        _ => Ok(true),
    }
}

/// A host-add request after its fields were checked on their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedHost {
    /// Host name.
    pub hostname: String,
    /// Personality.
    pub personality: Personality,
    /// Canonical MAC.
    pub mgmt_mac: String,
    /// Management address.
    pub mgmt_ip: Option<String>,
    /// BMC address.
    pub bm_ip: Option<String>,
    /// BMC protocol.
    pub bm_type: BmType,
    /// BMC user.
    pub bm_username: Option<String>,
    /// Install boot device.
    pub boot_device: String,
    /// Install root device.
    pub rootfs_device: String,
    /// Console.
    pub console: String,
    /// Install output.
    pub install_output: String,
    /// Location.
    pub location: String,
    /// Serial id.
    pub serialid: String,
}

pub(crate) fn device(field: &str, v: Option<&str>, default: &str) -> Result<String, Error> {
    let v = v.unwrap_or(default);
    if !v.starts_with("/dev/") || v.len() > 255 || v.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!(
            "Invalid {field} '{v}': a /dev/ path is expected"
        )));
    }
    Ok(v.to_string())
}

/// Checks a host-add request's own fields (everything that does not depend
/// on other hosts).
/// A free-text field: at most `max` characters and no control characters
/// (NUL, tab, newline, …), which PostgreSQL refuses in text and no
/// operator means in a location or a label; a 400 naming the field.
pub fn text(field: &str, v: &str, max: usize) -> Result<(), Error> {
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "Invalid {field}: control characters (tab, newline, NUL, …) are not allowed"
        )));
    }
    if v.chars().count() > max {
        return Err(Error::invalid(format!(
            "Invalid {field}: longer than {max} characters"
        )));
    }
    Ok(())
}

/// `r`'s value, or `None` with its problem noted.
fn keep<T>(problems: &mut Vec<String>, r: Result<T, Error>) -> Option<T> {
    r.map_err(|e| problems.push(e.to_string())).ok()
}

/// Checks a host-add request, naming every problem it has (joined with
/// "; "), not only the first.
pub fn new_host(req: &NewHost) -> Result<CheckedHost, Error> {
    let mut problems: Vec<String> = Vec::new();
    let personality: Option<Personality> = keep(
        &mut problems,
        req.personality
            .as_deref()
            .ok_or_else(|| Error::invalid("Host-add Rejected: personality is required"))
            .and_then(Personality::parse),
    );
    let name: Option<String> = keep(
        &mut problems,
        req.hostname
            .clone()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::invalid("Host-add Rejected: hostname is required")),
    );
    if let (Some(n), Some(p)) = (&name, personality) {
        keep(&mut problems, hostname(n, p));
    }
    let mgmt_mac: Option<String> = keep(
        &mut problems,
        req.mgmt_mac
            .as_deref()
            .ok_or_else(|| Error::invalid("Host-add Rejected: mgmt_mac is required"))
            .and_then(mac),
    );
    let mgmt_ip: Option<String> = keep(
        &mut problems,
        req.mgmt_ip.as_deref().map(|s| ip("mgmt_ip", s)).transpose(),
    )
    .flatten();
    let bm_ip: Option<String> = keep(
        &mut problems,
        req.bm_ip
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| ip("bm_ip", s))
            .transpose(),
    )
    .flatten();
    // Whether an address was given, valid or not (an invalid one is a
    // problem of its own, not also a missing one).
    let bm_ip_given = req.bm_ip.as_deref().is_some_and(|s| !s.is_empty());
    let bm_user = req.bm_username.clone().filter(|s| !s.is_empty());
    if let Some(u) = &bm_user {
        keep(&mut problems, bm_username(u));
    }
    let bm_type: Option<BmType> = keep(
        &mut problems,
        match req.bm_type.as_deref() {
            Some(t) => BmType::parse(t),
            // StarlingX: dynamic when an address and a user are given.
            None if bm_ip_given && bm_user.is_some() => Ok(BmType::Dynamic),
            None => Ok(BmType::None),
        },
    );
    match bm_type {
        Some(BmType::None) if bm_ip.is_some() || bm_user.is_some() => {
            keep(
                &mut problems,
                Err::<(), _>(Error::invalid(
                    "Host-add Rejected: bm_type none does not take bm_ip or bm_username",
                )),
            );
        }
        Some(t) if t != BmType::None && (!bm_ip_given || bm_user.is_none()) => {
            keep(
                &mut problems,
                Err::<(), _>(Error::invalid(format!(
                    "Host-add Rejected: bm_type {t} needs bm_ip and bm_username"
                ))),
            );
        }
        _ => {}
    }
    for (field, v) in [
        ("console", &req.console),
        ("location", &req.location),
        ("serialid", &req.serialid),
    ] {
        if let Some(v) = v {
            keep(&mut problems, text(field, v, 255));
        }
    }
    let install_output = req.install_output.clone().unwrap_or_else(|| "text".into());
    if install_output != "text" && install_output != "graphical" {
        keep(
            &mut problems,
            Err::<(), _>(Error::invalid(format!(
                "Invalid install_output '{install_output}': expected text or graphical"
            ))),
        );
    }
    let boot_device: Option<String> = keep(
        &mut problems,
        device("boot_device", req.boot_device.as_deref(), "/dev/sda"),
    );
    let rootfs_device: Option<String> = keep(
        &mut problems,
        device("rootfs_device", req.rootfs_device.as_deref(), "/dev/sda"),
    );
    match (
        personality,
        name,
        mgmt_mac,
        bm_type,
        boot_device,
        rootfs_device,
    ) {
        (
            Some(personality),
            Some(hostname),
            Some(mgmt_mac),
            Some(bm_type),
            Some(boot_device),
            Some(rootfs_device),
        ) if problems.is_empty() => Ok(CheckedHost {
            hostname,
            personality,
            mgmt_mac,
            mgmt_ip,
            bm_ip,
            bm_type,
            bm_username: bm_user,
            boot_device,
            rootfs_device,
            console: req.console.clone().unwrap_or_else(|| "ttyS0,115200".into()),
            install_output,
            location: req.location.clone().unwrap_or_default(),
            serialid: req.serialid.clone().unwrap_or_default(),
        }),
        _ => Err(Error::invalid(problems.join("; "))),
    }
}

/// A simplex system takes no further hosts: sysinv says so before it
/// looks at anything else of a host-add.
pub fn takes_hosts(system: &System) -> Result<(), Error> {
    if system.system_mode == SystemMode::Simplex {
        return Err(Error::invalid(
            "Adding a host on a simplex system is not allowed.",
        ));
    }
    Ok(())
}

/// Checks a checked host-add request against the system and the hosts that
/// hold its hostname and its MAC (if any): simplex systems take no more
/// hosts, hostnames and MACs are unique, and a discovered host with the MAC
/// but no hostname or personality is provisioned in place. Returns the id of
/// that discovered host, if any.
pub fn admit(
    system: &System,
    req: &CheckedHost,
    same_name: Option<&Host>,
    same_mac: Option<&Host>,
) -> Result<Option<i64>, Error> {
    takes_hosts(system)?;
    if same_name.is_some() {
        return Err(Error::invalid(format!(
            "Host-add Rejected: Hostname {} already exists",
            req.hostname
        )));
    }
    match same_mac {
        Some(h) if h.hostname.is_some() || h.personality.is_some() => Err(Error::invalid(format!(
            "Host-add Rejected: host with mgmt_mac {} already exists",
            req.mgmt_mac
        ))),
        Some(h) => Ok(Some(h.id)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn macs_are_canonical_and_unicast() {
        assert_eq!(mac("08:00:27:AB:cd:EF").unwrap(), "08:00:27:ab:cd:ef");
        assert_eq!(mac("08-00-27-ab-cd-ef").unwrap(), "08:00:27:ab:cd:ef");
        for bad in [
            "08:00:27:ab:cd",
            "08:00:27:ab:cd:ef:01",
            "0g:00:27:ab:cd:ef",
            "00:00:00:00:00:00",
            "ff:ff:ff:ff:ff:ff",
            "01:00:5e:00:00:01",
            "8:00:27:ab:cd:ef",
            "",
        ] {
            assert!(mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostnames_follow_the_personality() {
        use Personality::*;
        assert!(hostname("controller-1", Controller).is_ok());
        assert!(hostname("controller-2", Controller).is_err());
        assert!(hostname("storage-12", Storage).is_ok());
        assert!(hostname("storage-", Storage).is_err());
        assert!(hostname("storage-a", Storage).is_err());
        assert!(hostname("compute-0", Worker).is_ok());
        assert!(hostname("edge_1.site", Edgeworker).is_ok());
        assert!(hostname("controller-0", Worker).is_err());
        assert!(hostname("storagebox", Worker).is_err());
        assert!(hostname("bad name", Worker).is_err());
        assert!(hostname(&"a".repeat(256), Worker).is_err());
    }

    fn req() -> NewHost {
        NewHost {
            hostname: Some("compute-0".into()),
            personality: Some("worker".into()),
            mgmt_mac: Some("08:00:27:00:00:01".into()),
            ..NewHost::default()
        }
    }

    #[test]
    fn a_request_with_several_problems_names_each() {
        let r = NewHost {
            hostname: None,
            personality: Some("router".into()),
            mgmt_mac: Some("not-a-mac".into()),
            install_output: Some("braille".into()),
            ..NewHost::default()
        };
        let e = new_host(&r).unwrap_err().to_string();
        for part in [
            "personality",
            "hostname is required",
            "not-a-mac",
            "install_output 'braille'",
        ] {
            assert!(e.contains(part), "{part} missing from: {e}");
        }
        assert_eq!(e.matches("; ").count(), 3, "{e}");
        // One problem reads as before.
        let mut one = req();
        one.mgmt_mac = Some("not-a-mac".into());
        assert!(!new_host(&one).unwrap_err().to_string().contains("; "));
    }

    #[test]
    fn free_text_has_no_control_characters() {
        assert!(text("location", "rack 4, row 2 – Zürich", 255).is_ok());
        for bad in ["a\tb", "a\nb", "a\u{0}b", "\u{7f}"] {
            let e = text("location", bad, 255).unwrap_err().to_string();
            assert!(e.contains("Invalid location: control characters"), "{e}");
        }
        assert!(text("serialid", &"x".repeat(256), 255).is_err());
        let mut r = req();
        r.location = Some("rack\n1".into());
        assert!(new_host(&r).unwrap_err().to_string().contains("location"));
    }

    #[test]
    fn host_add_fields() {
        let c = new_host(&req()).unwrap();
        assert_eq!(c.bm_type, BmType::None);
        assert_eq!(c.boot_device, "/dev/sda");
        let mut r = req();
        r.bm_ip = Some("10.0.0.9".into());
        r.bm_username = Some("root".into());
        assert_eq!(new_host(&r).unwrap().bm_type, BmType::Dynamic);
        for (f, v) in [
            ("personality", None),
            ("personality", Some("router")),
            ("mgmt_mac", Some("nope")),
            ("mgmt_ip", Some("10.0.0.300")),
            ("hostname", Some("bad host")),
        ] {
            let mut r = req();
            let v = v.map(str::to_string);
            match f {
                "personality" => r.personality = v,
                "mgmt_mac" => r.mgmt_mac = v,
                "mgmt_ip" => r.mgmt_ip = v,
                _ => r.hostname = v,
            }
            assert!(new_host(&r).is_err(), "{f}");
        }
        let mut r = req();
        r.bm_type = Some("redfish".into());
        assert!(new_host(&r).is_err(), "redfish needs an address and a user");
    }

    fn system(mode: SystemMode) -> System {
        System {
            uuid: "u".into(),
            name: "s".into(),
            system_type: SystemType::Standard,
            system_mode: mode,
            description: String::new(),
            contact: String::new(),
            location: String::new(),
            timezone: "UTC".into(),
            software_version: "1".into(),
            region_name: "RegionOne".into(),
            active_controller: Some("controller-0".into()),
            created_at: starling_common::Timestamp::from_micros(0),
            updated_at: None,
        }
    }

    #[test]
    fn admission_against_the_system_and_other_hosts() {
        let c = new_host(&req()).unwrap();
        let e = admit(&system(SystemMode::Simplex), &c, None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Adding a host on a simplex system is not allowed."
        );
        let sys = system(SystemMode::Duplex);
        assert_eq!(admit(&sys, &c, None, None).unwrap(), None);
        let t0 = starling_common::Timestamp::from_micros(0);
        let mut other = Host::new(7, "u7".into(), "08:00:27:00:00:01".into(), t0);
        // A discovered host with the MAC: provisioned in place.
        assert_eq!(admit(&sys, &c, None, Some(&other)).unwrap(), Some(7));
        other.hostname = Some("compute-9".into());
        let e = admit(&sys, &c, None, Some(&other)).unwrap_err();
        assert!(e.to_string().contains("mgmt_mac"));
        let e = admit(&sys, &c, Some(&other), None).unwrap_err();
        assert!(e.to_string().contains("Hostname compute-0 already exists"));
    }
}
