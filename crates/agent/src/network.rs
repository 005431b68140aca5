//! The host's platform interfaces (the document's `interfaces`): brought up
//! with iproute2 — VLAN, bond and dummy devices made, members enslaved, MTU,
//! addresses and the default route set — idempotently, and written for the
//! host's own network stack to bring up at boot: ifupdown's
//! `/etc/network/interfaces.d/50-starling` where the host has
//! `/etc/network/interfaces`, systemd-networkd's `50-starling-*` units in
//! `/etc/systemd/network` otherwise.
//!
//! A destructive class: applied only when the agent is started with it
//! (`--apply-class network`); otherwise the step says so and changes
//! nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use starling_config_types::NetworkInterface;

use crate::apply::write_if_changed;

/// How the agent configures the host's interfaces.
#[derive(Clone, Debug, Default)]
pub struct NetworkSetup {
    /// Whether it may (the `network` class).
    pub enabled: bool,
    /// The network namespace standing for the host's network (`ip -n`);
    /// none: the host's own.
    pub netns: Option<String>,
}

const HEADER: &str =
    "# Written by starling-agent from the cloud's configuration: edits are replaced.\n";

/// The kernel's bonding mode of an AE mode.
fn bond_mode(aemode: Option<&str>) -> &'static str {
    match aemode {
        Some("balanced") => "balance-xor",
        Some("802.3ad") => "802.3ad",
        _ => "active-backup",
    }
}

/// The devices that are some bond's members, with their bond.
fn masters(ifs: &[NetworkInterface]) -> Vec<(String, String)> {
    ifs.iter()
        .filter(|i| i.iftype == "ae")
        .flat_map(|b| b.lower.iter().map(|m| (m.clone(), b.name.clone())))
        .collect()
}

fn split_address(a: &str) -> (&str, bool) {
    let ip = a.split('/').next().unwrap_or(a);
    (ip, ip.contains(':'))
}

/// ifupdown's stanzas for `ifs` (`/etc/network/interfaces.d/50-starling`).
pub fn render_ifupdown(ifs: &[NetworkInterface]) -> String {
    let mut s = String::from(HEADER);
    let bonds = masters(ifs);
    for i in ifs {
        s.push_str(&format!("\nauto {}\n", i.name));
        let (v4, v6): (Vec<&String>, Vec<&String>) =
            i.addresses.iter().partition(|a| !split_address(a).1);
        let method = if v4.is_empty() { "manual" } else { "static" };
        s.push_str(&format!("iface {} inet {method}\n", i.name));
        let mut opt = |k: &str, v: &str| s.push_str(&format!("    {k} {v}\n"));
        if let Some(a) = v4.first() {
            opt("address", a);
        }
        if let Some(g) = &i.gateway
            && !g.contains(':')
        {
            opt("gateway", g);
        }
        opt("mtu", &i.mtu.to_string());
        match i.iftype.as_str() {
            "vlan" => {
                if let Some(l) = i.lower.first() {
                    opt("vlan-raw-device", l);
                }
                if let Some(id) = i.vlan_id {
                    opt("vlan-id", &id.to_string());
                }
            }
            "ae" => {
                opt("bond-slaves", &i.lower.join(" "));
                opt("bond-mode", bond_mode(i.aemode.as_deref()));
                opt("bond-miimon", "100");
                if let Some(p) = &i.txhashpolicy {
                    opt("bond-xmit-hash-policy", p);
                }
                if let Some(p) = &i.primary_reselect {
                    opt("bond-primary-reselect", p);
                }
            }
            "virtual" => {
                opt(
                    "pre-up",
                    &format!("ip link add {} type dummy || true", i.name),
                );
            }
            _ => {}
        }
        if let Some((_, bond)) = bonds.iter().find(|(m, _)| *m == i.name) {
            opt("bond-master", bond);
        }
        for a in v4.iter().skip(1) {
            opt("up", &format!("ip addr add {a} dev {}", i.name));
        }
        for (n, a) in v6.iter().enumerate() {
            if n == 0 {
                s.push_str(&format!("iface {} inet6 static\n    address {a}\n", i.name));
                if let Some(g) = &i.gateway
                    && g.contains(':')
                {
                    s.push_str(&format!("    gateway {g}\n"));
                }
            } else {
                s.push_str(&format!("    up ip -6 addr add {a} dev {}\n", i.name));
            }
        }
    }
    s
}

/// systemd-networkd's units for `ifs`: (file name, content), `.netdev`
/// for the devices it makes, `.network` for each interface.
pub fn render_networkd(ifs: &[NetworkInterface]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bonds = masters(ifs);
    for i in ifs {
        let mut netdev = String::new();
        match i.iftype.as_str() {
            "vlan" => netdev = format!("[VLAN]\nId={}\n", i.vlan_id.unwrap_or_default()),
            "ae" => {
                netdev = format!(
                    "[Bond]\nMode={}\nMIIMonitorSec=100ms\n",
                    bond_mode(i.aemode.as_deref())
                );
                if let Some(p) = &i.txhashpolicy {
                    netdev.push_str(&format!("TransmitHashPolicy={p}\n"));
                }
                if let Some(p) = &i.primary_reselect {
                    netdev.push_str(&format!("PrimaryReselectPolicy={p}\n"));
                }
            }
            _ => {}
        }
        let kind = match i.iftype.as_str() {
            "vlan" => Some("vlan"),
            "ae" => Some("bond"),
            "virtual" => Some("dummy"),
            _ => None,
        };
        if let Some(kind) = kind {
            out.push((
                format!("50-starling-{}.netdev", i.name),
                format!(
                    "{HEADER}[NetDev]\nName={}\nKind={kind}\nMTUBytes={}\n\n{netdev}",
                    i.name, i.mtu
                ),
            ));
        }
        let mut net = format!(
            "{HEADER}[Match]\nName={}\n\n[Link]\nMTUBytes={}\n\n[Network]\n",
            i.name, i.mtu
        );
        if i.addresses.is_empty() {
            net.push_str("LinkLocalAddressing=no\n");
        }
        for a in &i.addresses {
            net.push_str(&format!("Address={a}\n"));
        }
        if let Some(g) = &i.gateway {
            net.push_str(&format!("Gateway={g}\n"));
        }
        for u in ifs
            .iter()
            .filter(|u| u.iftype == "vlan" && u.lower.first() == Some(&i.name))
        {
            net.push_str(&format!("VLAN={}\n", u.name));
        }
        if let Some((_, bond)) = bonds.iter().find(|(m, _)| *m == i.name) {
            net.push_str(&format!("Bond={bond}\n"));
        }
        out.push((format!("50-starling-{}.network", i.name), net));
    }
    out
}

/// Writes `ifs` for the host's network stack under `root`: the files
/// written or removed.
pub fn persist(root: &Path, ifs: &[NetworkInterface]) -> std::io::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    if root.join("etc/network/interfaces").exists() {
        let path = root.join("etc/network/interfaces.d/50-starling");
        if write_if_changed(&path, &render_ifupdown(ifs))? {
            changed.push(path);
        }
        return Ok(changed);
    }
    let dir = root.join("etc/systemd/network");
    let units = render_networkd(ifs);
    let keep: BTreeSet<&str> = units.iter().map(|(n, _)| n.as_str()).collect();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("50-starling-") && !keep.contains(name.as_str()) {
                std::fs::remove_file(e.path())?;
                changed.push(e.path());
            }
        }
    }
    for (name, content) in &units {
        let path = dir.join(name);
        if write_if_changed(&path, content)? {
            changed.push(path);
        }
    }
    Ok(changed)
}

/// Sets each SR-IOV port's virtual function count through sysfs under
/// `root` (`/sys/class/net/<port>/device/sriov_numvfs`; the kernel takes
/// a new count only from zero): what it changed, or why it stopped.
pub fn set_vfs(root: &Path, ifs: &[NetworkInterface]) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    for i in ifs {
        let Some(want) = i.sriov_numvfs else { continue };
        let path = root.join(format!("sys/class/net/{}/device/sriov_numvfs", i.name));
        let have = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: no SR-IOV device here ({}: {e})",
                i.name,
                path.display()
            )
        })?;
        let have: i64 = have.trim().parse().unwrap_or(-1);
        if have == want {
            continue;
        }
        let write = |n: i64| {
            std::fs::write(&path, format!("{n}\n"))
                .map_err(|e| format!("{}: {}: {e}", i.name, path.display()))
        };
        if have != 0 {
            write(0)?;
        }
        write(want)?;
        done.push(format!("{}: {want} virtual functions", i.name));
    }
    Ok(done)
}

/// iproute2 in the namespace standing for the host's network.
struct Ip<'a> {
    netns: Option<&'a str>,
    /// What it did, for the log.
    done: Vec<String>,
}

impl Ip<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        if let Some(ns) = self.netns {
            c.args(["-n", ns]);
        }
        c.args(args);
        c
    }

    /// Runs `ip ARGS`; its error's first line on failure.
    fn run(&mut self, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| format!("ip: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "ip {}: {}",
                args.join(" "),
                err.lines().next().unwrap_or("failed").trim()
            ));
        }
        self.done.push(format!("ip {}", args.join(" ")));
        Ok(())
    }

    /// `ip -j -d ARGS` read as JSON.
    fn read(&self, args: &[&str]) -> Result<Vec<Value>, String> {
        let mut full = vec!["-j", "-d"];
        full.extend_from_slice(args);
        let out = self
            .command(&full)
            .output()
            .map_err(|e| format!("ip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ip {}: {}",
                full.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .map_err(|e| format!("ip {}: unreadable answer: {e}", full.join(" ")))
    }
}

/// A device's current state.
fn link<'a>(links: &'a [Value], name: &str) -> Option<&'a Value> {
    links.iter().find(|l| l["ifname"] == name)
}

fn kind(l: &Value) -> &str {
    l["linkinfo"]["info_kind"].as_str().unwrap_or("")
}

/// Brings `ifs` up (lower interfaces first): the commands it ran, or why
/// it stopped.
pub fn bring_up(ifs: &[NetworkInterface], netns: Option<&str>) -> Result<Vec<String>, String> {
    let mut ip = Ip {
        netns,
        done: Vec::new(),
    };
    let bonds = masters(ifs);
    for i in ifs {
        let links = ip.read(&["link", "show"])?;
        let want_kind = match i.iftype.as_str() {
            "vlan" => "vlan",
            "ae" => "bond",
            "virtual" => "dummy",
            _ => "",
        };
        let current = link(&links, &i.name);
        // A made device of another shape is made again.
        let stale = current.is_some_and(|l| {
            !want_kind.is_empty()
                && (kind(l) != want_kind
                    || (want_kind == "vlan"
                        && (l["linkinfo"]["info_data"]["id"].as_i64() != i.vlan_id
                            || l["link"].as_str() != i.lower.first().map(String::as_str)))
                    || (want_kind == "bond"
                        && l["linkinfo"]["info_data"]["mode"].as_str()
                            != Some(bond_mode(i.aemode.as_deref()))))
        });
        if stale {
            ip.run(&["link", "del", &i.name])?;
        }
        if current.is_none() || stale {
            match i.iftype.as_str() {
                "vlan" => {
                    let lower = i
                        .lower
                        .first()
                        .ok_or_else(|| format!("{}: a VLAN without its lower device", i.name))?;
                    let id = i.vlan_id.unwrap_or_default().to_string();
                    ip.run(&[
                        "link", "add", "link", lower, "name", &i.name, "type", "vlan", "id", &id,
                    ])?;
                }
                "ae" => {
                    let mut args = vec![
                        "link",
                        "add",
                        &i.name,
                        "type",
                        "bond",
                        "mode",
                        bond_mode(i.aemode.as_deref()),
                        "miimon",
                        "100",
                    ];
                    if let Some(p) = &i.txhashpolicy {
                        args.extend(["xmit_hash_policy", p.as_str()]);
                    }
                    if let Some(p) = &i.primary_reselect {
                        args.extend(["primary_reselect", p.as_str()]);
                    }
                    ip.run(&args)?;
                }
                "virtual" => ip.run(&["link", "add", &i.name, "type", "dummy"])?,
                _ => {
                    return Err(format!(
                        "{}: no such device on this host{}",
                        i.name,
                        i.mac
                            .as_deref()
                            .map(|m| format!(" (port {m})"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        let links = ip.read(&["link", "show"])?;
        let l = link(&links, &i.name).ok_or_else(|| format!("{}: not made", i.name))?;
        // A bond's member: enslaved (down first, as the kernel asks).
        if let Some((_, bond)) = bonds.iter().find(|(m, _)| *m == i.name) {
            if l["master"].as_str() != Some(bond.as_str()) {
                ip.run(&["link", "set", &i.name, "down"])?;
                ip.run(&["link", "set", &i.name, "master", bond])?;
            }
            ip.run(&["link", "set", &i.name, "up"])?;
            continue;
        }
        if l["mtu"].as_i64() != Some(i.mtu) {
            ip.run(&["link", "set", &i.name, "mtu", &i.mtu.to_string()])?;
        }
        let up = l["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "UP"));
        if !up {
            ip.run(&["link", "set", &i.name, "up"])?;
        }
        // Its global addresses become exactly the document's.
        let addrs = ip.read(&["addr", "show", "dev", &i.name])?;
        let have: Vec<String> = addrs
            .first()
            .and_then(|a| a["addr_info"].as_array())
            .map(|infos| {
                infos
                    .iter()
                    .filter(|x| x["scope"] == "global")
                    .filter_map(|x| {
                        Some(format!(
                            "{}/{}",
                            x["local"].as_str()?,
                            x["prefixlen"].as_i64()?
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // Stale ones first: deleting a subnet's primary address takes its
        // secondaries with it.
        for a in &have {
            if !i.addresses.contains(a) {
                ip.run(&["addr", "del", a, "dev", &i.name])?;
            }
        }
        for a in &i.addresses {
            if !have.contains(a) {
                ip.run(&["addr", "add", a, "dev", &i.name])?;
            }
        }
        if let Some(g) = &i.gateway {
            let family = if g.contains(':') { "-6" } else { "-4" };
            let routes = ip.read(&[family, "route", "show", "default"])?;
            let there = routes
                .iter()
                .any(|r| r["gateway"].as_str() == Some(g.as_str()) && r["dev"] == i.name.as_str());
            if !there {
                ip.run(&[
                    family, "route", "replace", "default", "via", g, "dev", &i.name,
                ])?;
            }
        }
    }
    Ok(ip.done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, kind: &str) -> NetworkInterface {
        NetworkInterface {
            name: name.into(),
            iftype: kind.into(),
            mac: None,
            mtu: 9000,
            vlan_id: None,
            lower: Vec::new(),
            aemode: None,
            txhashpolicy: None,
            primary_reselect: None,
            networks: Vec::new(),
            addresses: Vec::new(),
            gateway: None,
            sriov_numvfs: None,
        }
    }

    fn bonded_vlan() -> Vec<NetworkInterface> {
        let mut bond = iface("bond0", "ae");
        bond.lower = vec!["eno1".into(), "eno2".into()];
        bond.aemode = Some("802.3ad".into());
        bond.txhashpolicy = Some("layer3+4".into());
        let mut v = iface("mgmt0", "vlan");
        v.vlan_id = Some(10);
        v.lower = vec!["bond0".into()];
        v.mtu = 1500;
        v.addresses = vec!["192.168.204.3/24".into(), "fd00::3/64".into()];
        v.gateway = Some("192.168.204.1".into());
        vec![
            iface("eno1", "ethernet"),
            iface("eno2", "ethernet"),
            bond,
            v,
        ]
    }

    #[test]
    fn ifupdown_stanzas_name_members_bonds_and_vlans() {
        let s = render_ifupdown(&bonded_vlan());
        assert!(s.starts_with(HEADER));
        assert!(
            s.contains("auto eno1\niface eno1 inet manual\n    mtu 9000\n    bond-master bond0\n"),
            "{s}"
        );
        assert!(
            s.contains("iface bond0 inet manual\n    mtu 9000\n    bond-slaves eno1 eno2\n    bond-mode 802.3ad\n    bond-miimon 100\n    bond-xmit-hash-policy layer3+4\n"),
            "{s}"
        );
        assert!(
            s.contains("iface mgmt0 inet static\n    address 192.168.204.3/24\n    gateway 192.168.204.1\n    mtu 1500\n    vlan-raw-device bond0\n    vlan-id 10\n"),
            "{s}"
        );
        assert!(
            s.contains("iface mgmt0 inet6 static\n    address fd00::3/64\n"),
            "{s}"
        );
    }

    #[test]
    fn networkd_units_make_the_devices_and_bind_them() {
        let units = render_networkd(&bonded_vlan());
        let names: Vec<&str> = units.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "50-starling-eno1.network",
                "50-starling-eno2.network",
                "50-starling-bond0.netdev",
                "50-starling-bond0.network",
                "50-starling-mgmt0.netdev",
                "50-starling-mgmt0.network"
            ]
        );
        let unit = |n: &str| units.iter().find(|(x, _)| x == n).unwrap().1.clone();
        assert!(unit("50-starling-eno1.network").contains(
            "Name=eno1\n\n[Link]\nMTUBytes=9000\n\n[Network]\nLinkLocalAddressing=no\nBond=bond0\n"
        ));
        assert!(unit("50-starling-bond0.netdev").contains("Kind=bond\nMTUBytes=9000\n\n[Bond]\nMode=802.3ad\nMIIMonitorSec=100ms\nTransmitHashPolicy=layer3+4\n"));
        assert!(unit("50-starling-bond0.network").contains("VLAN=mgmt0\n"));
        assert!(
            unit("50-starling-mgmt0.netdev")
                .contains("Kind=vlan\nMTUBytes=1500\n\n[VLAN]\nId=10\n")
        );
        let m = unit("50-starling-mgmt0.network");
        assert!(
            m.contains("Address=192.168.204.3/24\nAddress=fd00::3/64\nGateway=192.168.204.1\n"),
            "{m}"
        );
    }

    #[test]
    fn stale_networkd_units_are_removed_and_ifupdown_hosts_get_one_file() {
        let root = std::env::temp_dir().join(format!("starling-netunits-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let ifs = bonded_vlan();
        let written = persist(&root, &ifs).unwrap();
        assert_eq!(written.len(), 6);
        assert!(persist(&root, &ifs).unwrap().is_empty(), "nothing changed");
        // The bond and VLAN gone: their four units removed, the members'
        // two rewritten (no longer bonded).
        let gone = persist(&root, &ifs[..2]).unwrap();
        assert_eq!(gone.len(), 6, "{gone:?}");
        assert!(
            !root
                .join("etc/systemd/network/50-starling-bond0.netdev")
                .exists()
        );
        let eno1 =
            std::fs::read_to_string(root.join("etc/systemd/network/50-starling-eno1.network"))
                .unwrap();
        assert!(!eno1.contains("Bond="), "{eno1}");
        std::fs::create_dir_all(root.join("etc/network")).unwrap();
        std::fs::write(root.join("etc/network/interfaces"), "").unwrap();
        let w = persist(&root, &ifs).unwrap();
        assert_eq!(w, [root.join("etc/network/interfaces.d/50-starling")]);
        let _ = std::fs::remove_dir_all(&root);
    }
}

#[cfg(test)]
mod vf_tests {
    use super::*;

    #[test]
    fn vf_counts_are_written_from_zero_once() {
        let root = std::env::temp_dir().join(format!("starling-vfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dev = root.join("sys/class/net/eno3/device");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(dev.join("sriov_numvfs"), "2\n").unwrap();
        let mut pf = NetworkInterface {
            name: "eno3".into(),
            iftype: "ethernet".into(),
            mac: None,
            mtu: 1500,
            vlan_id: None,
            lower: Vec::new(),
            aemode: None,
            txhashpolicy: None,
            primary_reselect: None,
            networks: Vec::new(),
            addresses: Vec::new(),
            gateway: None,
            sriov_numvfs: Some(4),
        };
        let done = set_vfs(&root, std::slice::from_ref(&pf)).unwrap();
        assert_eq!(done, ["eno3: 4 virtual functions"]);
        assert_eq!(
            std::fs::read_to_string(dev.join("sriov_numvfs")).unwrap(),
            "4\n"
        );
        assert!(
            set_vfs(&root, std::slice::from_ref(&pf))
                .unwrap()
                .is_empty()
        );
        pf.name = "eno9".into();
        let e = set_vfs(&root, &[pf]).unwrap_err();
        assert!(e.starts_with("eno9: no SR-IOV device here"), "{e}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
