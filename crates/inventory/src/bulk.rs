//! host-bulk-add and host-bulk-export: StarlingX's hosts file (XML, §2.3),
//! also accepted as YAML.
//!
//! A file is first read for its shape only ([`parse`]: well-formed, a list of
//! hosts, each a flat set of attributes named once). [`bulk_add`] then checks
//! every entry — its attributes, the rules of host-add, the system, the hosts
//! already there and the other entries of the file — and adds nothing unless
//! every entry passes; every problem found is named with its entry.

use starling_common::Timestamp;

use crate::Error;
use crate::model::*;
use crate::ops;
use crate::repo::{HostQuery, HostRef, InventoryRepo};
use crate::validate::{self, NewHost};

/// One host of a hosts file: its position (1-based) and its attributes in
/// file order, `None` for an empty value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkEntry {
    /// Position in the file, from 1.
    pub index: usize,
    /// `(attribute, value)` pairs.
    pub attrs: Vec<(String, Option<String>)>,
}

impl BulkEntry {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// How errors name the entry: its position and, when it has one, its
    /// hostname (a file may repeat a hostname; the position tells them apart).
    pub fn label(&self) -> String {
        match self.attr("hostname") {
            Some(h) => format!("host {} ({h})", self.index),
            None => format!("host {}", self.index),
        }
    }
}

/// Reads a hosts file: XML when it starts with `<`, YAML otherwise. Only the
/// shape is checked here (what each attribute says is [`bulk_add`]'s).
pub fn parse(content: &str) -> Result<Vec<BulkEntry>, Error> {
    let body = content.trim_start_matches('\u{feff}').trim_start();
    let entries = if body.starts_with('<') {
        parse_xml(body)?
    } else {
        parse_yaml(body)?
    };
    if entries.is_empty() {
        return Err(Error::invalid("Invalid hosts file: it lists no host"));
    }
    Ok(entries)
}

fn parse_xml(text: &str) -> Result<Vec<BulkEntry>, Error> {
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| Error::invalid(format!("Invalid hosts file: malformed XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "hosts" {
        return Err(Error::invalid(format!(
            "Invalid hosts file: the root element is <{}>, <hosts> is expected",
            root.tag_name().name()
        )));
    }
    let mut out = Vec::new();
    for node in root.children().filter(roxmltree::Node::is_element) {
        let index = out.len() + 1;
        if node.tag_name().name() != "host" {
            return Err(Error::invalid(format!(
                "Invalid hosts file: <{}> under <hosts> (line {}): only <host> elements are expected",
                node.tag_name().name(),
                doc.text_pos_at(node.range().start).row
            )));
        }
        let mut attrs: Vec<(String, Option<String>)> = Vec::new();
        for field in node.children().filter(roxmltree::Node::is_element) {
            let name = field.tag_name().name();
            if field.children().any(|c| c.is_element()) {
                return Err(Error::invalid(format!(
                    "Invalid hosts file: host {index}: <{name}> must hold text, not elements"
                )));
            }
            if attrs.iter().any(|(k, _)| k == name) {
                return Err(Error::invalid(format!(
                    "Invalid hosts file: host {index}: <{name}> is given twice"
                )));
            }
            let value: String = field
                .children()
                .filter_map(|c| c.text())
                .collect::<String>()
                .trim()
                .to_string();
            let value = match (name, value.is_empty()) {
                // StarlingX: an empty <power_on/> means power it on.
                ("power_on", true) => Some("true".to_string()),
                (_, true) => None,
                (_, false) => Some(value),
            };
            attrs.push((name.to_string(), value));
        }
        out.push(BulkEntry { index, attrs });
    }
    Ok(out)
}

fn yaml_text(v: &yaml_serde::Value) -> Option<Option<String>> {
    use yaml_serde::Value;
    match v {
        Value::Null => Some(None),
        Value::String(s) if s.trim().is_empty() => Some(None),
        Value::String(s) => Some(Some(s.trim().to_string())),
        Value::Number(n) => Some(Some(n.to_string())),
        Value::Bool(b) => Some(Some(b.to_string())),
        _ => None,
    }
}

fn parse_yaml(text: &str) -> Result<Vec<BulkEntry>, Error> {
    use yaml_serde::Value;
    let root: Value = yaml_serde::from_str(text).map_err(|e| {
        Error::invalid(format!(
            "Invalid hosts file: neither XML nor valid YAML: {e}"
        ))
    })?;
    let list = match root {
        Value::Sequence(items) => items,
        Value::Mapping(mut m) if m.len() == 1 => match m.remove("hosts") {
            Some(Value::Sequence(items)) => items,
            _ => {
                return Err(Error::invalid(
                    "Invalid hosts file: 'hosts' must be a list of hosts",
                ));
            }
        },
        _ => {
            return Err(Error::invalid(
                "Invalid hosts file: a list of hosts, or a mapping with a 'hosts' list, is expected",
            ));
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let index = i + 1;
        let Value::Mapping(m) = item else {
            return Err(Error::invalid(format!(
                "Invalid hosts file: host {index} is not a mapping of attributes"
            )));
        };
        let mut attrs = Vec::with_capacity(m.len());
        for (k, v) in m {
            let Value::String(name) = k else {
                return Err(Error::invalid(format!(
                    "Invalid hosts file: host {index}: attribute names must be text"
                )));
            };
            let value = yaml_text(v).ok_or_else(|| {
                Error::invalid(format!(
                    "Invalid hosts file: host {index}: {name} must be a single value"
                ))
            })?;
            attrs.push((name.clone(), value));
        }
        out.push(BulkEntry { index, attrs });
    }
    Ok(out)
}

/// What a bulk add did, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Hosts added, or discovered hosts provisioned in place.
    pub added: Vec<Host>,
    /// The active controller, whose entry may only set its BMC attributes
    /// (as StarlingX: a file exported from the system can be fed back).
    pub updated: Vec<Host>,
}

/// The BMC attributes an entry for the active controller may set.
const BM_ATTRIBUTES: &[&str] = &["bm_ip", "bm_type", "bm_username"];

enum Plan {
    /// Checked and admitted; the discovered host to provision, if any.
    Add(Box<(validate::CheckedHost, Option<Host>)>),
    PatchController(HostRef, Vec<(String, Option<String>)>),
}

/// host-bulk-add: every entry is checked against everything (its own
/// attributes, the system, the hosts already there, the file's other
/// entries) before any is added; one problem anywhere adds nothing, and the
/// error names every problem with its entry. Runs in the caller's
/// transaction, so the adds that follow the checks are all-or-nothing too.
pub fn bulk_add(
    repo: &mut dyn InventoryRepo,
    entries: &[BulkEntry],
    now: Timestamp,
) -> Result<BulkOutcome, Error> {
    let sys = repo
        .system()?
        .ok_or_else(|| Error::invalid("The system has not been bootstrapped yet"))?;
    if sys.system_mode == SystemMode::Simplex {
        return Err(Error::invalid(
            "Bulk add on a simplex system is not allowed.",
        ));
    }
    // Hosts are added for a controller to manage: one must be in service.
    let controllers = repo.hosts(&HostQuery {
        personality: Some(Personality::Controller),
        ..HostQuery::default()
    })?;
    if !controllers.iter().any(|c| {
        c.administrative == Administrative::Unlocked && c.operational == Operational::Enabled
    }) {
        return Err(Error::invalid(
            "Bulk_add requires enabled controller. Please unlock controller-0, wait for it to enable and then retry.",
        ));
    }
    let mut problems = Vec::new();
    let mut plans = Vec::with_capacity(entries.len());
    let mut names: Vec<(String, usize)> = Vec::new();
    let mut macs: Vec<(String, usize)> = Vec::new();
    for e in entries {
        match plan_entry(repo, &sys, e, &mut names, &mut macs) {
            Ok(p) => plans.push(p),
            Err(m) => problems.push(format!("{}: {m}", e.label())),
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid(format!(
            "Host-bulk-add Rejected, no host was added: {}",
            problems.join("; ")
        )));
    }
    let mut out = BulkOutcome::default();
    for p in plans {
        match p {
            Plan::Add(add) => {
                let (c, discovered) = *add;
                out.added
                    .push(ops::place_host(repo, sys.system_type, c, discovered, now)?)
            }
            Plan::PatchController(r, changes) => {
                out.updated.push(ops::update_host(repo, &r, &changes, now)?)
            }
        }
    }
    Ok(out)
}

/// Checks one entry; `names` and `macs` hold what earlier entries claimed.
fn plan_entry(
    repo: &mut dyn InventoryRepo,
    sys: &System,
    e: &BulkEntry,
    names: &mut Vec<(String, usize)>,
    macs: &mut Vec<(String, usize)>,
) -> Result<Plan, String> {
    let mut attrs = Vec::with_capacity(e.attrs.len());
    for (k, v) in &e.attrs {
        match k.as_str() {
            // A host runs the system's version; a file written for another
            // release is refused rather than half-applied.
            "sw_version" => {
                if let Some(v) = v
                    && *v != sys.software_version
                {
                    return Err(format!(
                        "sw_version {v} is not the system's ({})",
                        sys.software_version
                    ));
                }
            }
            _ => attrs.push((k.as_str(), v.clone())),
        }
    }
    let req = NewHost::from_attributes(attrs.iter().cloned()).map_err(|e| e.to_string())?;
    let c = validate::new_host(&req).map_err(|e| e.to_string())?;
    if let Some((_, i)) = names.iter().find(|(n, _)| *n == c.hostname) {
        return Err(format!("hostname {} is also given to host {i}", c.hostname));
    }
    if let Some((_, i)) = macs.iter().find(|(m, _)| *m == c.mgmt_mac) {
        return Err(format!("mgmt_mac {} is also given to host {i}", c.mgmt_mac));
    }
    names.push((c.hostname.clone(), e.index));
    macs.push((c.mgmt_mac.clone(), e.index));
    let same_mac = repo.host_by_mac(&c.mgmt_mac).map_err(|e| e.to_string())?;
    if let Some(h) = &same_mac
        && h.hostname.is_some()
        && h.hostname == sys.active_controller
    {
        if h.hostname.as_deref() != Some(c.hostname.as_str()) {
            return Err(format!(
                "mgmt_mac {} belongs to the active controller {}",
                c.mgmt_mac,
                h.display_name()
            ));
        }
        let changes = e
            .attrs
            .iter()
            .filter(|(k, _)| BM_ATTRIBUTES.contains(&k.as_str()))
            .cloned()
            .collect();
        return Ok(Plan::PatchController(HostRef::Id(h.id), changes));
    }
    let same_name = repo
        .host(&HostRef::Name(c.hostname.clone()))
        .map_err(|e| e.to_string())?;
    let discovered = validate::admit(sys, &c, same_name.as_ref(), same_mac.as_ref())
        .map_err(|e| e.to_string())?;
    Ok(Plan::Add(Box::new((c, discovered.and(same_mac)))))
}

fn personality_rank(p: Option<Personality>) -> u8 {
    match p {
        Some(Personality::Controller) => 0,
        Some(Personality::Storage) => 1,
        Some(Personality::Worker) => 2,
        Some(Personality::Edgeworker) => 3,
        None => 4,
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// host-bulk-export: the provisioned hosts as a StarlingX hosts file,
/// controllers first, then storage, then workers, each group by hostname. A
/// discovered host without a hostname is left out (it could not be added
/// back). Feeding the file back to [`bulk_add`] on an empty system of the
/// same version adds the same hosts.
pub fn export(repo: &mut dyn InventoryRepo) -> Result<String, Error> {
    let sys = repo
        .system()?
        .ok_or_else(|| Error::invalid("The system has not been bootstrapped yet"))?;
    let mut hosts: Vec<Host> = repo
        .hosts(&HostQuery::default())?
        .into_iter()
        .filter(Host::is_provisioned_record)
        .collect();
    hosts.sort_by(|a, b| {
        (personality_rank(a.personality), &a.hostname)
            .cmp(&(personality_rank(b.personality), &b.hostname))
    });
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<hosts version=\"{}\">\n",
        escape(&sys.software_version)
    ));
    for h in &hosts {
        let mut fields: Vec<(&str, String)> = vec![
            ("hostname", h.display_name().to_string()),
            (
                "personality",
                h.personality.map(Personality::as_str).unwrap_or("").into(),
            ),
            ("subfunctions", h.subfunctions.clone()),
            ("mgmt_mac", h.mgmt_mac.clone()),
        ];
        if let Some(ip) = &h.mgmt_ip {
            fields.push(("mgmt_ip", ip.clone()));
        }
        if h.bm_type != BmType::None {
            fields.push(("bm_type", h.bm_type.as_str().into()));
        }
        if let Some(ip) = &h.bm_ip {
            fields.push(("bm_ip", ip.clone()));
        }
        if let Some(u) = &h.bm_username {
            fields.push(("bm_username", u.clone()));
        }
        fields.extend([
            ("boot_device", h.boot_device.clone()),
            ("rootfs_device", h.rootfs_device.clone()),
            ("install_output", h.install_output.clone()),
            ("console", h.console.clone()),
        ]);
        if !h.location.is_empty() {
            fields.push(("location", h.location.clone()));
        }
        x.push_str("  <host>\n");
        for (k, v) in fields {
            x.push_str(&format!("    <{k}>{}</{k}>\n", escape(&v)));
        }
        x.push_str("    <!-- <power_on /> -->\n");
        x.push_str("  </host>\n");
    }
    x.push_str("</hosts>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<hosts>
  <!-- the first worker -->
  <host>
    <hostname>worker-0</hostname>
    <personality>worker</personality>
    <mgmt_mac>08:00:27:00:00:10</mgmt_mac>
    <location>rack 3 &amp; 4</location>
    <power_on/>
  </host>
  <host>
    <personality>storage</personality>
    <bm_ip></bm_ip>
  </host>
</hosts>
"#;

    #[test]
    fn xml_entries_keep_their_order_and_empty_elements() {
        let e = parse(XML).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].index, 1);
        assert_eq!(e[0].attr("hostname"), Some("worker-0"));
        assert_eq!(e[0].attr("location"), Some("rack 3 & 4"));
        assert_eq!(
            e[0].attr("power_on"),
            Some("true"),
            "empty power_on is true"
        );
        assert_eq!(e[0].label(), "host 1 (worker-0)");
        assert_eq!(e[1].attrs[1], ("bm_ip".to_string(), None));
        assert_eq!(e[1].label(), "host 2");
    }

    #[test]
    fn yaml_is_a_list_or_a_hosts_mapping() {
        let a = parse("hosts:\n  - hostname: worker-0\n    personality: worker\n    mgmt_mac: 08:00:27:00:00:10\n    hw_settle: 0\n").unwrap();
        let b = parse("- {hostname: worker-0, personality: worker, mgmt_mac: '08:00:27:00:00:10', hw_settle: 0}\n").unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].attr("hw_settle"), Some("0"));
    }

    #[test]
    fn malformed_files_are_named() {
        let cases = [
            ("<hosts><host><hostname>x</host></hosts>", "malformed XML"),
            ("<systems/>", "root element is <systems>"),
            ("<hosts><node/></hosts>", "<node> under <hosts>"),
            (
                "<hosts><host><bm><ip>1</ip></bm></host></hosts>",
                "host 1: <bm> must hold text",
            ),
            (
                "<hosts><host><hostname>a</hostname><hostname>b</hostname></host></hosts>",
                "<hostname> is given twice",
            ),
            ("<hosts></hosts>", "lists no host"),
            ("hosts: [", "neither XML nor valid YAML"),
            ("hostname: worker-0", "'hosts' must be a list"),
            ("- [1, 2]", "host 1 is not a mapping"),
            ("- {hostname: {a: b}}", "hostname must be a single value"),
            ("42", "a list of hosts"),
        ];
        for (doc, want) in cases {
            let e = parse(doc).unwrap_err().to_string();
            assert!(e.contains(want), "{doc:?}: {e}");
        }
    }

    #[test]
    fn entity_expansion_is_bounded() {
        // A billion-laughs document is refused, not expanded.
        let mut doc = String::from(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE hosts [\n<!ENTITY a \"aaaaaaaaaa\">\n",
        );
        let mut prev = 'a';
        for c in 'b'..='k' {
            doc.push_str(&format!(
                "<!ENTITY {c} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
            prev = c;
        }
        doc.push_str("]>\n<hosts><host><location>&k;</location></host></hosts>");
        let e = parse(&doc).unwrap_err().to_string();
        assert!(e.contains("malformed XML"), "{e}");
    }

    #[test]
    fn export_escapes_text() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
