//! LLDP from lldpd (sysinv §6): the local agents (`lldpcli -f json0 show
//! interfaces details`) and the neighbours they hear (`… show neighbors
//! details`), as StarlingX's `lldp_agents` and `lldp_neighbours` with the
//! TLVs flattened into attributes. When lldpd does not run, the host has no
//! LLDP to report (the sections are empty, as StarlingX shows a host
//! without lldpd).

use std::process::{Command, Stdio};

use serde_json::Value;
use starling_inventory_types::hardware::{LldpAgent, LldpNeighbour};

/// The first element of `v[key]` (lldpd's json0 wraps every value in a list).
fn first<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key)?.get(0)
}

/// `v[key][0].value` as text.
fn value(v: &Value, key: &str) -> Option<String> {
    let x = first(v, key)?.get("value")?;
    match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Every `v[key][*].value`, joined with commas.
fn values(v: &Value, key: &str) -> Option<String> {
    let all: Vec<&str> = v
        .get(key)?
        .as_array()?
        .iter()
        .filter_map(|x| x.get("value")?.as_str())
        .collect();
    (!all.is_empty()).then(|| all.join(","))
}

/// The TLVs both records carry, from an interface entry.
struct Tlvs {
    chassis_id: Option<String>,
    port_identifier: Option<String>,
    port_description: Option<String>,
    ttl: Option<u32>,
    system_name: Option<String>,
    system_description: Option<String>,
    system_capabilities: Option<String>,
    management_address: Option<String>,
    dot1_port_vid: Option<String>,
    dot3_max_frame: Option<String>,
}

/// A record of type `$t` with its own fields and the TLVs of `$tlv`.
macro_rules! with_tlvs {
    ($t:ident { $($f:ident: $v:expr),* $(,)? }, $tlv:expr) => {{
        let t = $tlv;
        $t {
            $($f: $v,)*
            chassis_id: t.chassis_id,
            port_identifier: t.port_identifier,
            port_description: t.port_description,
            ttl: t.ttl,
            system_name: t.system_name,
            system_description: t.system_description,
            system_capabilities: t.system_capabilities,
            management_address: t.management_address,
            dot1_port_vid: t.dot1_port_vid,
            dot3_max_frame: t.dot3_max_frame,
            ..$t::default()
        }
    }};
}

fn tlvs(i: &Value) -> Tlvs {
    let null = Value::Null;
    let chassis = first(i, "chassis").unwrap_or(&null);
    let port = first(i, "port").unwrap_or(&null);
    let ttl = value(port, "ttl")
        .or_else(|| {
            first(i, "ttl")
                .and_then(|t| t.get("ttl"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .and_then(|t| t.parse().ok());
    let caps: Vec<String> = chassis
        .get("capability")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|c| c.get("enabled").and_then(Value::as_bool) == Some(true))
                .filter_map(|c| c.get("type")?.as_str())
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    Tlvs {
        chassis_id: value(chassis, "id"),
        port_identifier: value(port, "id"),
        port_description: value(port, "descr"),
        ttl,
        system_name: value(chassis, "name"),
        system_description: value(chassis, "descr"),
        system_capabilities: (!caps.is_empty()).then(|| caps.join(",")),
        management_address: values(chassis, "mgmt-ip"),
        dot1_port_vid: first(i, "vlan")
            .filter(|v| v.get("pvid").and_then(Value::as_bool) == Some(true))
            .and_then(|v| v.get("vlan-id"))
            .and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or(v.as_u64().map(|n| n.to_string()))
            }),
        dot3_max_frame: value(port, "mfs"),
    }
}

/// The interface entries of a json0 document (none when lldpd knows none).
fn interfaces(doc: &Value) -> Vec<&Value> {
    doc.get("lldp")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| l.get("interface")?.as_array())
        .flatten()
        .filter(|i| i.get("name").and_then(Value::as_str).is_some())
        .collect()
}

/// lldpd's status words as sysinv stores them.
fn status(s: &str) -> String {
    let (rx, tx) = match s {
        "RX and TX" => (true, true),
        "RX only" => (true, false),
        "TX only" => (false, true),
        _ => (false, false),
    };
    let w = |b: bool| if b { "enabled" } else { "disabled" };
    format!("rx={},tx={}", w(rx), w(tx))
}

/// The local agents of `show interfaces details`.
pub fn parse_agents(json: &str) -> Result<Vec<LldpAgent>, String> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| format!("lldpcli answered no JSON: {e}"))?;
    Ok(interfaces(&doc)
        .into_iter()
        .map(|i| {
            with_tlvs!(
                LldpAgent {
                    port_name: i["name"].as_str().unwrap_or_default().to_string(),
                    status: status(value(i, "status").as_deref().unwrap_or("")),
                },
                tlvs(i)
            )
        })
        .collect())
}

/// The neighbours of `show neighbors details`; the MSAP is the neighbour's
/// chassis id and port id, as sysinv keys them.
pub fn parse_neighbours(json: &str) -> Result<Vec<LldpNeighbour>, String> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| format!("lldpcli answered no JSON: {e}"))?;
    Ok(interfaces(&doc)
        .into_iter()
        .filter_map(|i| {
            let t = tlvs(i);
            let msap = format!(
                "{},{}",
                t.chassis_id.as_deref()?,
                t.port_identifier.as_deref()?
            );
            Some(with_tlvs!(
                LldpNeighbour {
                    port_name: i["name"].as_str().unwrap_or_default().to_string(),
                    msap: msap,
                },
                t
            ))
        })
        .collect())
}

fn lldpcli(cmd: &[String], what: &[&str]) -> Option<String> {
    let (program, args) = cmd.split_first()?;
    let out = Command::new(program)
        .args(args)
        .args(["-f", "json0"])
        .args(what)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Asks lldpd through `cmd` (`lldpcli`, with options such as `-u SOCKET`).
/// `None` when lldpd does not answer (not installed, not running).
pub fn read(cmd: &[String]) -> Option<(Vec<LldpAgent>, Vec<LldpNeighbour>)> {
    let agents = lldpcli(cmd, &["show", "interfaces", "details"])?;
    let neighbours = lldpcli(cmd, &["show", "neighbors", "details"])?;
    match (parse_agents(&agents), parse_neighbours(&neighbours)) {
        (Ok(a), Ok(n)) => Some((a, n)),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "cannot read lldpd's answer");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/lldp")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn captured_lldpd_answers() {
        let n = parse_neighbours(&fixture("neighbors.json")).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].port_name, "vla");
        assert_eq!(n[0].msap, "06:72:bc:81:bd:1f,06:72:bc:81:bd:1f");
        assert_eq!(n[0].port_description.as_deref(), Some("vlb"));
        assert_eq!(n[0].ttl, Some(120));
        assert_eq!(n[0].system_capabilities.as_deref(), Some("station"));
        assert!(n[0].management_address.is_some());
        let a = parse_agents(&fixture("interfaces.json")).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].port_name, "vla");
        assert_eq!(a[0].status, "rx=enabled,tx=enabled");
        assert_eq!(a[0].ttl, Some(120));
    }

    #[test]
    fn nothing_heard_and_strangers() {
        assert!(parse_neighbours("{\"lldp\": [{}]}").unwrap().is_empty());
        assert!(parse_neighbours("{}").unwrap().is_empty());
        assert!(parse_agents("not json").is_err());
        assert_eq!(status("disabled"), "rx=disabled,tx=disabled");
        assert_eq!(status("TX only"), "rx=disabled,tx=enabled");
        assert!(read(&["/nonexistent/lldpcli".to_string()]).is_none());
    }
}
