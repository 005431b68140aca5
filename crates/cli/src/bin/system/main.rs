//! `system`: the inventory CLI, with StarlingX's commands, options and
//! columns (cgtsclient). A host may be named by hostname, integer id or uuid;
//! the server resolves it (one request, never a scan of every host).

mod config;
mod hardware;
mod interface;
mod network;
mod params;
mod sm;

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use starling_cli::auth::AuthArgs;
use starling_cli::{Client, Out, OutLong, Table, as_wire, confirm, field, text};
use starling_inventory_types as wire;

#[derive(Parser, Debug)]
#[command(
    name = "system",
    version,
    about = "Starling inventory client (StarlingX-compatible)"
)]
struct Cli {
    /// Inventory API endpoint, e.g. http://127.0.0.1:6385 (with or without
    /// /v1); found in the service catalog (type platform) when not given.
    #[arg(long = "system-url", env = "SYSTEM_URL", global = true)]
    system_url: Option<String>,
    #[command(flatten)]
    auth: AuthArgs,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 600, global = true)]
    timeout: u64,
    #[command(subcommand)]
    cmd: Cmd,
}

/// host-add's options (cgtsclient's letters).
#[derive(clap::Args, Debug)]
struct AddArgs {
    /// Host name.
    #[arg(short = 'n', long)]
    hostname: Option<String>,
    /// controller, worker, storage or edgeworker.
    #[arg(short = 'p', long)]
    personality: Option<String>,
    /// Subfunctions (e.g. lowlatency).
    #[arg(short = 's', long)]
    subfunctions: Option<String>,
    /// Management MAC address.
    #[arg(short = 'm', long = "mgmt_mac")]
    mgmt_mac: Option<String>,
    /// Management IP address.
    #[arg(short = 'i', long = "mgmt_ip")]
    mgmt_ip: Option<String>,
    /// Board management controller address.
    #[arg(short = 'I', long = "bm_ip")]
    bm_ip: Option<String>,
    /// Board management type (none, dynamic, ipmi, redfish).
    #[arg(short = 'T', long = "bm_type")]
    bm_type: Option<String>,
    /// Board management user.
    #[arg(short = 'U', long = "bm_username")]
    bm_username: Option<String>,
    /// Board management password.
    #[arg(short = 'P', long = "bm_password")]
    bm_password: Option<String>,
    /// Install boot device.
    #[arg(short = 'b', long = "boot_device")]
    boot_device: Option<String>,
    /// Install root device.
    #[arg(short = 'r', long = "rootfs_device")]
    rootfs_device: Option<String>,
    /// Install output (text or graphical).
    #[arg(short = 'o', long = "install_output")]
    install_output: Option<String>,
    /// Console.
    #[arg(short = 'c', long)]
    console: Option<String>,
    /// Location text.
    #[arg(short = 'l', long)]
    location: Option<String>,
    #[command(flatten)]
    out: OutLong,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print a shell completion script (e.g. `. <(system completion bash)`).
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Show the system.
    Show {
        #[command(flatten)]
        out: Out,
    },
    /// Modify the system's attributes (name, description, contact,
    /// location, timezone).
    Modify {
        /// The system's name.
        #[arg(short = 'n', long)]
        name: Option<String>,
        /// Its description.
        #[arg(short = 'd', long)]
        description: Option<String>,
        /// Who to contact about it.
        #[arg(short = 'c', long)]
        contact: Option<String>,
        /// Where it is.
        #[arg(short = 'l', long)]
        location: Option<String>,
        /// Its timezone (e.g. UTC, Europe/Paris).
        #[arg(short = 't', long)]
        timezone: Option<String>,
        #[command(flatten)]
        out: OutLong,
    },
    /// List hosts.
    #[command(name = "host-list")]
    HostList {
        #[command(flatten)]
        out: Out,
    },
    /// Show a host.
    #[command(name = "host-show")]
    HostShow {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Add a host.
    #[command(name = "host-add")]
    HostAdd(Box<AddArgs>),
    /// Add every host of a hosts file (StarlingX XML, or YAML), or none.
    #[command(name = "host-bulk-add")]
    HostBulkAdd {
        /// The hosts file.
        hostsfile: std::path::PathBuf,
    },
    /// Write the provisioned hosts to a hosts file (StarlingX XML).
    #[command(name = "host-bulk-export")]
    HostBulkExport {
        /// Where to write it.
        #[arg(long, default_value = "hosts.xml")]
        filename: std::path::PathBuf,
    },
    /// Update host attributes (attribute=value ...).
    #[command(name = "host-update")]
    HostUpdate {
        /// Hostname, id or uuid.
        host: String,
        /// attribute=value pairs (an empty value removes the attribute).
        #[arg(required = true)]
        attributes: Vec<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Delete hosts.
    #[command(name = "host-delete")]
    HostDelete {
        /// Hostnames, ids or uuids.
        #[arg(required = true)]
        hosts: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Lock a host.
    #[command(name = "host-lock")]
    HostLock {
        /// Hostname, id or uuid.
        host: String,
        /// Force the lock.
        #[arg(short = 'f', long)]
        force: bool,
        #[command(flatten)]
        out: OutLong,
    },
    /// Unlock a host.
    #[command(name = "host-unlock")]
    HostUnlock {
        /// Hostname, id or uuid.
        host: String,
        /// Force the unlock.
        #[arg(short = 'f', long)]
        force: bool,
        #[command(flatten)]
        out: OutLong,
    },
    /// Reboot a locked host.
    #[command(name = "host-reboot")]
    HostReboot {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Reset a locked host.
    #[command(name = "host-reset")]
    HostReset {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Reinstall a locked host.
    #[command(name = "host-reinstall")]
    HostReinstall {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Power on a locked host.
    #[command(name = "host-power-on")]
    HostPowerOn {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Power off a locked host.
    #[command(name = "host-power-off")]
    HostPowerOff {
        /// Hostname, id or uuid.
        host: String,
        #[command(flatten)]
        out: Out,
    },
    /// Move the active controller's services to the other controller.
    #[command(name = "host-swact")]
    HostSwact {
        /// Hostname, id or uuid of the active controller.
        host: String,
        /// Force the swact.
        #[arg(short = 'f', long)]
        force: bool,
        #[command(flatten)]
        out: OutLong,
    },
    #[command(flatten)]
    Hardware(hardware::HwCmd),
    #[command(flatten)]
    Sm(sm::SmCmd),
    #[command(flatten)]
    Config(config::ConfigCmd),
    #[command(flatten)]
    Network(network::NetworkCmd),
    #[command(flatten)]
    Interface(interface::InterfaceCmd),
    #[command(flatten)]
    Param(params::ParamCmd),
}

fn main() {
    let cli = Cli::parse();
    starling_cli::finish("system", run(cli))
}

fn client(cli: &Cli) -> Result<Client> {
    cli.auth.client(
        "inventory",
        "platform",
        cli.system_url.as_deref(),
        "SYSTEM_URL (or --system-url)",
        &cli.auth.transport(Duration::from_secs(cli.timeout.max(1))),
    )
}

/// A host reference as a path segment.
fn host_path(host: &str) -> Result<String> {
    if host.is_empty()
        || host.contains(['/', '?', '#', '%'])
        || host.chars().any(char::is_whitespace)
    {
        bail!("invalid host '{host}': give a hostname, id or uuid");
    }
    Ok(format!("/v1/ihosts/{host}"))
}

/// host-list's columns (each the host field of that name).
const HOST_LIST_COLUMNS: &[&str] = &[
    "id",
    "hostname",
    "personality",
    "administrative",
    "operational",
    "availability",
];

/// host-show's fields, in cgtsclient's order; the optional ones only when set.
const HOST_FIELDS: &[&str] = &[
    "action",
    "administrative",
    "apparmor",
    "availability",
    "bm_ip",
    "bm_type",
    "bm_username",
    "boot_device",
    "capabilities",
    "clock_synchronization",
    "config_applied",
    "config_status",
    "config_target",
    "console",
    "created_at",
    "cstates_available",
    "device_image_update",
    "hostname",
    "hw_settle",
    "id",
    "install_output",
    "install_state",
    "install_state_info",
    "inv_state",
    "invprovision",
    "iscsi_initiator_name",
    "location",
    "max_cpu_mhz_allowed",
    "max_cpu_mhz_configured",
    "mgmt_ip",
    "mgmt_mac",
    "min_cpu_mhz_allowed",
    "nvme_host_id",
    "nvme_host_nqn",
    "operational",
    "personality",
    "reboot_needed",
    "reserved",
    "rootfs_device",
    "serialid",
    "sw_version",
    "task",
    "tboot",
    "ttys_dcd",
    "updated_at",
    "uptime",
    "uuid",
    "vim_progress_status",
];

/// An answer read as a host (an answer of another shape is an error).
fn host_of(v: Value) -> Result<Value> {
    as_wire::<wire::Host<'static>>(v, "a host")
}

fn show_host(h: &Value, out: &Out) -> Result<()> {
    let mut fields: Vec<(&str, Value)> = HOST_FIELDS.iter().map(|f| (*f, field(h, f))).collect();
    if text(h, "subfunctions") != text(h, "personality") {
        fields.push(("subfunctions", field(h, "subfunctions")));
        fields.push(("subfunction_avail", field(h, "subfunction_avail")));
        fields.push(("subfunction_oper", field(h, "subfunction_oper")));
    }
    if !h["peers"].is_null() {
        fields.push(("peers", field(h, "peers")));
    }
    // Starling's: why the last configuration apply failed.
    if !h["config_failure"].is_null() {
        fields.push(("config_failure", field(h, "config_failure")));
    }
    fields.sort_by_key(|(k, _)| *k);
    starling_cli::out(&Table::render_record(&fields, out)?)?;
    Ok(())
}

/// One JSON-Patch replace.
fn replace(attribute: &str, value: Value) -> wire::PatchOp {
    wire::PatchOp {
        op: "replace".into(),
        path: format!("/{attribute}"),
        value: Some(value),
        from: None,
    }
}

fn action(c: &Client, host: &str, verb: &str, out: &Out) -> Result<()> {
    let patch = wire::JsonPatch(vec![replace("action", json!(verb))]);
    let h = c.patch(&host_path(host)?, &serde_json::to_value(&patch)?)?;
    show_host(&host_of(h)?, out)
}

/// `attribute=value` pairs as a JSON-Patch (empty value: remove).
fn update_patch(attributes: &[String]) -> Result<Value> {
    let mut ops = Vec::new();
    for a in attributes {
        let Some((k, v)) = a.split_once('=') else {
            bail!("invalid attribute '{a}': expected attribute=value");
        };
        let k = k.trim();
        if k.is_empty() {
            bail!("invalid attribute '{a}': the name is empty");
        }
        ops.push(if v.is_empty() {
            json!({"op": "remove", "path": format!("/{k}")})
        } else if k == "location" {
            json!({"op": "replace", "path": "/location", "value": {"locn": v}})
        } else {
            json!({"op": "replace", "path": format!("/{k}"), "value": v})
        });
    }
    Ok(Value::Array(ops))
}

fn add_body(a: &AddArgs) -> wire::HostAdd {
    wire::HostAdd {
        hostname: a.hostname.clone(),
        personality: a.personality.clone(),
        subfunctions: a.subfunctions.clone(),
        mgmt_mac: a.mgmt_mac.clone(),
        mgmt_ip: a.mgmt_ip.clone(),
        bm_ip: a.bm_ip.clone(),
        bm_type: a.bm_type.clone(),
        bm_username: a.bm_username.clone(),
        bm_password: a.bm_password.clone(),
        boot_device: a.boot_device.clone(),
        rootfs_device: a.rootfs_device.clone(),
        install_output: a.install_output.clone(),
        console: a.console.clone(),
        location: a.location.clone().map(|locn| wire::Locn::Locn { locn }),
        serialid: None,
    }
}

fn bulk_add(c: &Client, path: &std::path::Path) -> Result<()> {
    let content =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hosts.xml".into());
    let Some(v) = c.post_file("/v1/ihosts/bulk_add", "file", &name, &content)? else {
        bail!("the inventory API answered host-bulk-add with nothing");
    };
    let v: wire::BulkAddResult = serde_json::from_value(v)
        .map_err(|e| anyhow::anyhow!("unexpected answer for host-bulk-add: {e}"))?;
    starling_cli::outln("Success:")?;
    if !v.success.is_empty() {
        starling_cli::outln(&v.success)?;
    }
    starling_cli::outln("Error:")?;
    if !v.error.is_empty() {
        starling_cli::outln(&v.error)?;
        bail!("some hosts were not added");
    }
    Ok(())
}

fn bulk_export(c: &Client, path: &std::path::Path) -> Result<()> {
    let v: wire::BulkExport = c.get_as("/v1/ihosts/bulk_export")?;
    let content = &v.content;
    // Written beside the target and renamed: an existing file is replaced
    // whole or not at all.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, content)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        })?;
    starling_cli::outln(format!(
        "Host configuration has been written to {}",
        path.display()
    ))?;
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    if let Cmd::Completion { shell } = cli.cmd {
        return starling_cli::completion(&mut <Cli as clap::CommandFactory>::command(), shell);
    }
    let c = client(&cli)?;
    match cli.cmd {
        // Answered before the client was made.
        Cmd::Completion { .. } => {}
        Cmd::Modify {
            name,
            description,
            contact,
            location,
            timezone,
            out,
        } => {
            let ops: Vec<wire::PatchOp> = [
                ("name", name),
                ("description", description),
                ("contact", contact),
                ("location", location),
                ("timezone", timezone),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| replace(k, json!(v))))
            .collect();
            if ops.is_empty() {
                bail!(
                    "system modify needs at least one of --name, --description, --contact, --location, --timezone"
                );
            }
            let v: wire::SystemList = c.get_as("/v1/isystems")?;
            let Some(sys) = v.isystems.first() else {
                bail!("the system has not been bootstrapped");
            };
            let s = c.patch(
                &format!("/v1/isystems/{}", sys.uuid),
                &serde_json::to_value(wire::JsonPatch(ops))?,
            )?;
            show_system(&as_wire::<wire::System>(s, "the system")?, &out.into())?;
        }
        Cmd::Show { out } => {
            let v: wire::SystemList = c.get_as("/v1/isystems")?;
            let Some(s) = v.isystems.first() else {
                bail!("the system has not been bootstrapped");
            };
            show_system(&serde_json::to_value(s)?, &out)?;
        }
        Cmd::HostList { out } => {
            // Each page read as brief hosts borrowing from its text: only
            // the columns shown are decoded.
            let mut t = Table::new(HOST_LIST_COLUMNS);
            c.each_page("/v1/ihosts", "ihosts", |items| {
                let hosts: Vec<wire::HostBrief<'_>> = serde_json::from_str(items).map_err(|e| {
                    anyhow::anyhow!("unexpected answer: 'ihosts' is not a list of hosts: {e}")
                })?;
                for h in hosts {
                    t.rows.push(vec![
                        json!(h.id),
                        json!(h.hostname),
                        json!(h.personality),
                        json!(h.administrative),
                        json!(h.operational),
                        json!(h.availability),
                    ]);
                }
                Ok(())
            })?;
            t.rows.sort_by_key(|r| r[0].as_i64().unwrap_or(i64::MAX));
            starling_cli::out(&t.render(&out)?)?;
        }
        Cmd::HostShow { host, out } => show_host(&host_of(c.get(&host_path(&host)?)?)?, &out)?,
        Cmd::HostAdd(a) => {
            // What is missing is the server's to say (a simplex system
            // refuses any host-add first, as sysinv does).
            let Some(h) = c.post("/v1/ihosts", &serde_json::to_value(add_body(&a))?)? else {
                bail!("the inventory API answered host-add without the host");
            };
            show_host(&host_of(h)?, &a.out.into())?;
        }
        Cmd::HostBulkAdd { hostsfile } => bulk_add(&c, &hostsfile)?,
        Cmd::HostBulkExport { filename } => bulk_export(&c, &filename)?,
        Cmd::HostUpdate {
            host,
            attributes,
            out,
        } => {
            let h = c.patch(&host_path(&host)?, &update_patch(&attributes)?)?;
            show_host(&host_of(h)?, &out)?;
        }
        Cmd::HostDelete { hosts, yes } => {
            confirm("host-delete", yes)?;
            for h in &hosts {
                c.delete(&host_path(h)?)?;
                starling_cli::outln(format!("Deleted host {h}"))?;
            }
        }
        Cmd::HostLock { host, force, out } => action(
            &c,
            &host,
            if force { "force-lock" } else { "lock" },
            &out.into(),
        )?,
        Cmd::HostUnlock { host, force, out } => action(
            &c,
            &host,
            if force { "force-unlock" } else { "unlock" },
            &out.into(),
        )?,
        Cmd::HostReboot { host, out } => action(&c, &host, "reboot", &out)?,
        Cmd::HostReset { host, out } => action(&c, &host, "reset", &out)?,
        Cmd::HostReinstall { host, out } => action(&c, &host, "reinstall", &out)?,
        Cmd::HostPowerOn { host, out } => action(&c, &host, "power-on", &out)?,
        Cmd::HostPowerOff { host, out } => action(&c, &host, "power-off", &out)?,
        Cmd::HostSwact { host, force, out } => action(
            &c,
            &host,
            if force { "force-swact" } else { "swact" },
            &out.into(),
        )?,
        Cmd::Hardware(cmd) => hardware::run(&c, cmd)?,
        Cmd::Sm(cmd) => sm::run(&c, cmd)?,
        Cmd::Config(cmd) => config::run(&c, cmd)?,
        Cmd::Network(cmd) => network::run(&c, cmd)?,
        Cmd::Interface(cmd) => interface::run(&c, cmd)?,
        Cmd::Param(cmd) => params::run(&c, cmd)?,
    }
    Ok(())
}

/// `system show`'s record of a system.
fn show_system(s: &Value, out: &Out) -> Result<()> {
    let mut fields: Vec<(&str, Value)> = [
        "contact",
        "created_at",
        "description",
        "location",
        "name",
        "region_name",
        "software_version",
        "system_mode",
        "system_type",
        "timezone",
        "updated_at",
        "uuid",
    ]
    .iter()
    .map(|f| (*f, field(s, f)))
    .collect();
    fields.push(("latitude", field(s, "latitude")));
    fields.push(("longitude", field(s, "longitude")));
    fields.push(("security_feature", field(s, "security_feature")));
    fields.push(("service_project_name", field(s, "service_project_name")));
    fields.sort_by_key(|(k, _)| *k);
    starling_cli::out(&Table::render_record(&fields, out)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn update_pairs_become_json_patch() {
        let p = update_patch(&["location=rack 5".into(), "serialid=".into()]).unwrap();
        assert_eq!(
            p,
            json!([
                {"op": "replace", "path": "/location", "value": {"locn": "rack 5"}},
                {"op": "remove", "path": "/serialid"},
            ])
        );
        assert!(update_patch(&["nothing".into()]).is_err());
        assert!(update_patch(&["=x".into()]).is_err());
        assert!(host_path("compute-0").is_ok());
        assert!(host_path("a/b").is_err());
        assert!(host_path("").is_err());
    }

    #[test]
    fn every_command_is_well_formed() {
        // clap's own checks (options unique per command, …), which it runs
        // only when a command is used.
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
