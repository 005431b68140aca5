//! The cloud's platform services: DNS (`idns`), NTP (`intp`) and the OAM
//! network (`iextoam`), one record each, checked as sysinv checks them
//! (api/controllers/v1/dns.py, ntp.py, network_oam.py) with its messages.

use std::net::IpAddr;

use starling_common::{Error, Timestamp};

/// At most this many DNS or NTP servers (sysinv's `MAX_S`).
pub const MAX_SERVERS: usize = 3;

/// The DNS record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dns {
    pub uuid: String,
    /// In the order given.
    pub nameservers: Vec<IpAddr>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// The NTP record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ntp {
    pub uuid: String,
    /// Addresses or host names, in the order given.
    pub ntpservers: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// The OAM network record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oam {
    pub uuid: String,
    pub subnet: Subnet,
    pub gateway_ip: Option<IpAddr>,
    pub floating_ip: IpAddr,
    pub c0_ip: Option<IpAddr>,
    pub c1_ip: Option<IpAddr>,
    pub start_ip: IpAddr,
    pub end_ip: IpAddr,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// An IP subnet, `address/prefix` with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    pub network: IpAddr,
    pub prefix: u8,
}

pub(crate) fn bits(a: IpAddr) -> (u128, u8) {
    match a {
        IpAddr::V4(v) => (u32::from(v) as u128, 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

pub(crate) fn from_bits(v: u128, width: u8) -> IpAddr {
    if width == 32 {
        IpAddr::V4(std::net::Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(v))
    }
}

impl Subnet {
    /// Reads `a.b.c.d/n` (or an IPv6 one). Host bits must be clear.
    pub fn parse(s: &str) -> Option<Subnet> {
        let (a, p) = s.trim().split_once('/')?;
        let network: IpAddr = a.parse().ok()?;
        let prefix: u8 = p.parse().ok()?;
        let (v, width) = bits(network);
        if prefix > width || v & !Self::mask(prefix, width) != 0 {
            return None;
        }
        Some(Subnet { network, prefix })
    }

    fn mask(prefix: u8, width: u8) -> u128 {
        let all = if width == 32 {
            u32::MAX as u128
        } else {
            u128::MAX
        };
        if prefix == 0 {
            0
        } else {
            all & (all << (width - prefix))
        }
    }

    /// IPv4 or IPv6.
    pub fn version(&self) -> u8 {
        if self.network.is_ipv4() { 4 } else { 6 }
    }

    pub(crate) fn width(&self) -> u8 {
        bits(self.network).1
    }

    /// How many addresses it holds (saturating at `u128::MAX` for ::/0).
    pub fn size(&self) -> u128 {
        let host_bits = u32::from(self.width() - self.prefix);
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }

    /// Its last address (IPv4's broadcast address).
    pub fn broadcast(&self) -> IpAddr {
        from_bits(bits(self.network).0 + (self.size() - 1), self.width())
    }

    /// Whether it shares any address with `other`.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.width() == other.width()
            && (self.contains(other.network) || other.contains(self.network))
    }

    /// Whether `a` is in it.
    pub fn contains(&self, a: IpAddr) -> bool {
        let (v, width) = bits(a);
        width == self.width() && v & Self::mask(self.prefix, width) == bits(self.network).0
    }

    /// Its first usable address (after the network address).
    pub fn first(&self) -> IpAddr {
        from_bits(bits(self.network).0 + 1, self.width())
    }

    /// Its last usable address (before the broadcast address).
    pub fn last(&self) -> IpAddr {
        let (v, width) = bits(self.network);
        let hosts = !Self::mask(self.prefix, width)
            & if width == 32 {
                u32::MAX as u128
            } else {
                u128::MAX
            };
        from_bits(v + hosts - 1, width)
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The nameservers of `dns-modify` (`nameservers=a,b,c`), checked against
/// the OAM network's IP version and the NTP servers (a server named by host
/// name needs a DNS server). `NC` (not configured) ends the list, as sysinv
/// reads it.
pub fn nameservers(csv: &str, oam: Option<&Oam>, ntp: &Ntp) -> Result<Vec<IpAddr>, Error> {
    let mut out = Vec::new();
    for n in csv.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if n == "NC" {
            break;
        }
        let a: IpAddr = n.parse().map_err(|_| {
            Error::invalid(format!(
                "Invalid DNS nameserver target address {n} Please configure a valid DNS address."
            ))
        })?;
        if let Some(o) = oam
            && o.subnet.version() != version(a)
        {
            return Err(Error::invalid(format!(
                "IP version mismatch: was expecting IPv{}, IPv{} received",
                o.subnet.version(),
                version(a)
            )));
        }
        out.push(a);
    }
    if out.is_empty() && ntp.ntpservers.iter().any(|s| s.parse::<IpAddr>().is_err()) {
        return Err(Error::invalid(
            "At least one DNS server must be used when any NTP server address is using FQDN. \
             Alternatively, use IPv4 or IPv6 for NTP server address and then delete DNS servers.",
        ));
    }
    if out.len() > MAX_SERVERS {
        return Err(Error::invalid(format!(
            "Maximum DNS nameservers supported: {MAX_SERVERS} but provided: {}. \
             Please configure a valid list of DNS nameservers.",
            out.len()
        )));
    }
    Ok(out)
}

fn version(a: IpAddr) -> u8 {
    if a.is_ipv4() { 4 } else { 6 }
}

/// A host name as sysinv's `is_valid_hostname` takes it: labels of
/// letters, digits and hyphens (not first or last), at most 63 each, 253
/// in all.
pub fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // An all-numeric name is an address gone wrong, not a host.
        && !s.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// The servers of `ntp-modify` (`ntpservers=a,b,c`): addresses, or host
/// names when a DNS server is configured. `NC` alone clears the list.
pub fn ntpservers(csv: &str, dns: &Dns) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut cleared = false;
    for n in csv.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if n == "NC" {
            cleared = true;
            continue;
        }
        if let Ok(a) = n.parse::<IpAddr>() {
            out.push(a.to_string());
        } else if is_hostname(n) {
            if dns.nameservers.is_empty() {
                return Err(Error::invalid(
                    "A DNS server must be configured prior to configuring any NTP server \
                     address as FQDN. Alternatively, specify the NTP server as an IP address",
                ));
            }
            out.push(n.to_ascii_lowercase());
        } else {
            return Err(Error::invalid(format!(
                "Invalid NTP server {n} Please configure a valid NTP IP address or hostname."
            )));
        }
    }
    if out.is_empty() && !cleared {
        return Err(Error::invalid("No NTP parameters provided."));
    }
    if out.len() > MAX_SERVERS {
        return Err(Error::invalid(format!(
            "Maximum NTP servers supported: {MAX_SERVERS} but provided: {}. \
             Please configure a valid list of NTP servers.",
            out.len()
        )));
    }
    Ok(out)
}

/// The OAM fields an operator sets (`oam-modify`), as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OamFields {
    pub oam_subnet: Option<String>,
    pub oam_gateway_ip: Option<String>,
    pub oam_floating_ip: Option<String>,
    pub oam_c0_ip: Option<String>,
    pub oam_c1_ip: Option<String>,
    pub oam_start_ip: Option<String>,
    pub oam_end_ip: Option<String>,
}

/// Checks the OAM network as it would become and builds it (`simplex`: the
/// controllers' own addresses are not checked, as sysinv skips them on a
/// simplex system). The start and end of the range default to the
/// subnet's first and last usable addresses.
pub fn oam(
    before: Option<&Oam>,
    f: &OamFields,
    simplex: bool,
    uuid: String,
    created_at: Timestamp,
) -> Result<Oam, Error> {
    let text = |v: &Option<String>, old: Option<String>| -> Option<String> {
        match v {
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(s.trim().to_string()),
            None => old,
        }
    };
    let subnet_text =
        text(&f.oam_subnet, before.map(|o| o.subnet.to_string())).ok_or_else(|| {
            Error::invalid("Invalid subnet oam_subnet None.Please configure a valid subnet")
        })?;
    let subnet = Subnet::parse(&subnet_text).ok_or_else(|| {
        Error::invalid(format!(
            "Invalid subnet oam_subnet {subnet_text}.Please configure a valid subnet"
        ))
    })?;
    // sysinv's is_valid_subnet: a network of at least 8 addresses (v4 /29).
    let host_bits = subnet.width() - subnet.prefix;
    if host_bits < 3 {
        return Err(Error::invalid(format!(
            "Invalid subnet oam_subnet {subnet}.Please check and configure a valid OAM Subnet."
        )));
    }
    let addr = |key: &str, v: Option<String>| -> Result<Option<IpAddr>, Error> {
        let Some(v) = v else { return Ok(None) };
        let a: IpAddr = v.parse().map_err(|_| {
            Error::invalid(format!(
                "Invalid address {v} in {key}. Please configure a valid IPv{} address",
                subnet.version()
            ))
        })?;
        if !subnet.contains(a) || a == subnet.network {
            return Err(Error::invalid(format!(
                "IP Address {a} is not in subnet: {subnet}. Please configure valid IPv{} address.",
                subnet.version()
            )));
        }
        Ok(Some(a))
    };
    let old = |g: fn(&Oam) -> Option<IpAddr>| before.and_then(g).map(|a| a.to_string());
    let gateway_ip = addr(
        "oam_gateway_ip",
        text(&f.oam_gateway_ip, old(|o| o.gateway_ip)),
    )?;
    let floating_ip = addr(
        "oam_floating_ip",
        text(&f.oam_floating_ip, old(|o| Some(o.floating_ip))),
    )?
    .ok_or_else(|| {
        Error::invalid(format!(
            "Invalid address None in oam_floating_ip. Please configure a valid IPv{} address",
            subnet.version()
        ))
    })?;
    let (c0_ip, c1_ip) = if simplex {
        (None, None)
    } else {
        (
            addr("oam_c0_ip", text(&f.oam_c0_ip, old(|o| o.c0_ip)))?,
            addr("oam_c1_ip", text(&f.oam_c1_ip, old(|o| o.c1_ip)))?,
        )
    };
    if c0_ip.is_some() && c0_ip == c1_ip {
        return Err(Error::invalid(format!(
            "Invalid address: oam_c0_ip={} and oam_c1_ip={} must be unique. ",
            shown(c0_ip),
            shown(c1_ip)
        )));
    }
    if gateway_ip.is_some() && (gateway_ip == c0_ip || gateway_ip == c1_ip) {
        return Err(Error::invalid(format!(
            "Invalid address: oam_c0_ip={}, oam_c1_ip={}, oam_gateway_ip={} must be unique.",
            shown(c0_ip),
            shown(c1_ip),
            shown(gateway_ip)
        )));
    }
    for (name, a) in [
        ("oam_floating_ip", Some(floating_ip)),
        ("oam_c0_ip", c0_ip),
        ("oam_c1_ip", c1_ip),
    ] {
        if a.is_some() && a == gateway_ip {
            return Err(Error::invalid(format!(
                "Invalid address: {name}={} and oam_gateway_ip={} must be unique.",
                shown(a),
                shown(gateway_ip)
            )));
        }
    }
    if Some(floating_ip) == c0_ip || Some(floating_ip) == c1_ip {
        return Err(Error::invalid(format!(
            "Invalid address: oam_floating_ip={floating_ip} must differ from the controllers' addresses."
        )));
    }
    // The range: given, kept while it fits the subnet, or the subnet's.
    let within = |key: &str, v: Option<String>, default: IpAddr| -> Result<IpAddr, Error> {
        match v {
            Some(s) => match s.parse::<IpAddr>() {
                Ok(a) if subnet.contains(a) => Ok(a),
                _ => Err(Error::invalid(format!(
                    "Invalid {key}={s}. Please configure a valid IP address"
                ))),
            },
            None => Ok(default),
        }
    };
    let keep = |g: fn(&Oam) -> IpAddr| {
        before
            .map(g)
            .filter(|a| subnet.contains(*a))
            .map(|a| a.to_string())
    };
    let start_ip = within(
        "oam_start_ip",
        text(&f.oam_start_ip, keep(|o| o.start_ip)),
        subnet.first(),
    )?;
    let end_ip = within(
        "oam_end_ip",
        text(&f.oam_end_ip, keep(|o| o.end_ip)),
        subnet.last(),
    )?;
    let in_range = |a: IpAddr| bits(a).0 >= bits(start_ip).0 && bits(a).0 <= bits(end_ip).0;
    if bits(start_ip).0 > bits(end_ip).0 {
        return Err(Error::invalid(format!(
            "Invalid oam_start_ip={start_ip}. Please configure a valid IP address"
        )));
    }
    if !in_range(floating_ip) {
        return Err(Error::invalid(format!(
            "Invalid oam_floating_ip={floating_ip}. Please configure a valid IP address in range"
        )));
    }
    for (key, a) in [("oam_c0_ip", c0_ip), ("oam_c1_ip", c1_ip)] {
        if let Some(a) = a
            && !in_range(a)
        {
            return Err(Error::invalid(format!(
                "Invalid {key}={a}. Please configure a valid IP address in range"
            )));
        }
    }
    Ok(Oam {
        uuid,
        subnet,
        gateway_ip,
        floating_ip,
        c0_ip,
        c1_ip,
        start_ip,
        end_ip,
        created_at,
        updated_at: before.map(|_| created_at),
    })
}

fn shown(a: Option<IpAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|| "None".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ntp(servers: &[&str]) -> Ntp {
        Ntp {
            uuid: "n".into(),
            ntpservers: servers.iter().map(|s| s.to_string()).collect(),
            created_at: Timestamp::from_micros(0),
            updated_at: None,
        }
    }

    fn dns(servers: &[&str]) -> Dns {
        Dns {
            uuid: "d".into(),
            nameservers: servers.iter().map(|s| s.parse().unwrap()).collect(),
            created_at: Timestamp::from_micros(0),
            updated_at: None,
        }
    }

    fn msg(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn subnets_are_read_and_measured() {
        let s = Subnet::parse("10.10.10.0/24").unwrap();
        assert!(s.contains("10.10.10.7".parse().unwrap()));
        assert!(!s.contains("10.10.11.7".parse().unwrap()));
        assert!(!s.contains("fd00::1".parse().unwrap()));
        assert_eq!(s.first().to_string(), "10.10.10.1");
        assert_eq!(s.last().to_string(), "10.10.10.254");
        assert_eq!(Subnet::parse("10.10.10.1/24"), None, "host bits set");
        assert_eq!(Subnet::parse("10.10.10.0/33"), None);
        let v6 = Subnet::parse("fd00:1::/64").unwrap();
        assert_eq!(v6.version(), 6);
        assert_eq!(v6.first().to_string(), "fd00:1::1");
        assert_eq!(
            Subnet::parse("0.0.0.0/0").unwrap().last().to_string(),
            "255.255.255.254"
        );
    }

    #[test]
    fn nameservers_are_addresses_three_at_most_of_the_oam_family() {
        let none = ntp(&[]);
        assert_eq!(
            nameservers("8.8.8.8, 8.8.4.4", None, &none).unwrap().len(),
            2
        );
        assert!(
            msg(nameservers("8.8.8.8,dns.example", None, &none).unwrap_err())
                .contains("Invalid DNS nameserver target address dns.example")
        );
        assert!(
            msg(nameservers("1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4", None, &none).unwrap_err())
                .contains("Maximum DNS nameservers supported: 3 but provided: 4")
        );
        assert_eq!(
            nameservers("NC", None, &none).unwrap(),
            Vec::<IpAddr>::new()
        );
        let fqdn = ntp(&["pool.ntp.org"]);
        assert!(msg(nameservers("", None, &fqdn).unwrap_err()).contains("At least one DNS server"));
        let o = oam(
            None,
            &fields("10.10.10.0/24", "10.10.10.2"),
            true,
            "o".into(),
            Timestamp::from_micros(0),
        )
        .unwrap();
        assert!(
            msg(nameservers("fd00::53", Some(&o), &none).unwrap_err())
                .contains("IP version mismatch: was expecting IPv4, IPv6 received")
        );
    }

    #[test]
    fn ntp_servers_by_name_need_dns() {
        assert_eq!(
            ntpservers("0.pool.ntp.org,10.0.0.1", &dns(&["8.8.8.8"])).unwrap(),
            ["0.pool.ntp.org", "10.0.0.1"]
        );
        assert!(
            msg(ntpservers("0.pool.ntp.org", &dns(&[])).unwrap_err())
                .contains("A DNS server must be configured prior")
        );
        assert!(
            msg(ntpservers("bad_name!", &dns(&["8.8.8.8"])).unwrap_err())
                .contains("Invalid NTP server bad_name!")
        );
        assert!(
            msg(ntpservers("", &dns(&[])).unwrap_err()).contains("No NTP parameters provided.")
        );
        assert!(ntpservers("NC", &dns(&[])).unwrap().is_empty());
        assert!(
            msg(ntpservers("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", &dns(&[])).unwrap_err())
                .contains("Maximum NTP servers supported: 3 but provided: 4")
        );
    }

    fn fields(subnet: &str, floating: &str) -> OamFields {
        OamFields {
            oam_subnet: Some(subnet.into()),
            oam_floating_ip: Some(floating.into()),
            ..OamFields::default()
        }
    }

    #[test]
    fn the_oam_network_holds_its_addresses_in_its_subnet_and_range() {
        let t = Timestamp::from_micros(0);
        let mut f = fields("10.10.10.0/24", "10.10.10.2");
        f.oam_gateway_ip = Some("10.10.10.1".into());
        f.oam_c0_ip = Some("10.10.10.3".into());
        f.oam_c1_ip = Some("10.10.10.4".into());
        let o = oam(None, &f, false, "o".into(), t).unwrap();
        assert_eq!(o.start_ip.to_string(), "10.10.10.1");
        assert_eq!(o.end_ip.to_string(), "10.10.10.254");
        // A partial change keeps the rest.
        let g = OamFields {
            oam_floating_ip: Some("10.10.10.20".into()),
            ..OamFields::default()
        };
        let o2 = oam(Some(&o), &g, false, "o".into(), t).unwrap();
        assert_eq!(o2.c0_ip, o.c0_ip);
        assert_eq!(o2.floating_ip.to_string(), "10.10.10.20");
        let bad = |g: OamFields| msg(oam(Some(&o), &g, false, "o".into(), t).unwrap_err());
        assert!(
            bad(OamFields {
                oam_c1_ip: Some("10.10.10.3".into()),
                ..OamFields::default()
            })
            .contains("must be unique")
        );
        assert!(
            bad(OamFields {
                oam_c0_ip: Some("10.10.11.3".into()),
                ..OamFields::default()
            })
            .contains("is not in subnet")
        );
        assert!(
            bad(OamFields {
                oam_floating_ip: Some("nope".into()),
                ..OamFields::default()
            })
            .contains("Invalid address nope in oam_floating_ip")
        );
        assert!(
            bad(OamFields {
                oam_subnet: Some("10.10.10.0/30".into()),
                ..OamFields::default()
            })
            .contains("valid OAM Subnet")
        );
        assert!(
            bad(OamFields {
                oam_subnet: Some("10.10.10.1/24".into()),
                ..OamFields::default()
            })
            .contains("Invalid subnet oam_subnet 10.10.10.1/24")
        );
        assert!(
            bad(OamFields {
                oam_start_ip: Some("10.10.10.10".into()),
                ..OamFields::default()
            })
            .contains(
                "Invalid oam_floating_ip=10.10.10.2. Please configure a valid IP address in range"
            )
        );
        // A new subnet moves everything at once; the old range does not stay.
        let moved = OamFields {
            oam_subnet: Some("192.168.1.0/24".into()),
            oam_gateway_ip: Some("192.168.1.1".into()),
            oam_floating_ip: Some("192.168.1.2".into()),
            oam_c0_ip: Some("192.168.1.3".into()),
            oam_c1_ip: Some("192.168.1.4".into()),
            ..OamFields::default()
        };
        let o3 = oam(Some(&o), &moved, false, "o".into(), t).unwrap();
        assert_eq!(o3.start_ip.to_string(), "192.168.1.1");
        // Simplex: the controllers' own addresses are not kept.
        let s = oam(None, &f, true, "o".into(), t).unwrap();
        assert_eq!((s.c0_ip, s.c1_ip), (None, None));
    }
}
