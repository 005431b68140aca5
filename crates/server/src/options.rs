//! `starlingd`'s options: the daemon's own, every service's (from the
//! list, each with its `--<name>-port`), the configuration file beneath
//! the `STARLING_*` variables and the flags, which of them a run accepts,
//! and `starlingd config show`.
//!
//! Precedence, lowest first: built-in defaults, the configuration file
//! (`--config`, `STARLING_CONFIG`, or `/etc/starling/starling.toml` when it
//! exists), `STARLING_*` variables, flags. The file's values become the
//! options' defaults before the command line is parsed, so clap applies
//! the rest of the order itself.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use starling_server::sm::SmArgs;
use starling_server::{AgentArgs, HostAgentArgs, RemoteAuthArgs, SERVICES, parse_duration};
use starling_service::Service;

/// Where the configuration file is looked for when none is named.
pub const DEFAULT_CONFIG: &str = "/etc/starling/starling.toml";

#[derive(Parser, Debug)]
#[command(
    name = "starlingd",
    version,
    about = "Starling edge-cloud control plane daemon"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub remote: RemoteAuthArgs,
    #[command(flatten)]
    pub fm_remote: FmRemoteArgs,
    #[command(flatten)]
    pub local: LocalAgentArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run fault management alone against --database-url.
    Fm,
    /// Run the inventory API alone against --database-url.
    Inventory,
    /// Run the host agent: discover this host's hardware and keep the
    /// controller's inventory of it up to date.
    Agent(Box<AgentArgs>),
    /// Run service management on a controller (StarlingX's SM): the
    /// service groups active or standby here; `dump` and `configure` read
    /// and change what it manages.
    Sm(Box<SmArgs>),
    /// The configuration starlingd runs with.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Print the effective configuration (TOML, secrets masked), each value
    /// with where it came from.
    Show,
}

/// The all-in-one's own host: bootstrapped as controller-0 and inventoried
/// by an agent running in the daemon (`[agent]` in the file).
#[derive(Args, Debug, Clone)]
pub struct LocalAgentArgs {
    /// Do not bootstrap this machine as controller-0 nor run its agent in
    /// the daemon (a controller elsewhere, or tests).
    #[arg(long, env = "STARLING_NO_LOCAL_AGENT")]
    pub no_local_agent: bool,
    #[command(flatten)]
    pub host: HostAgentArgs,
}

/// How services that raise alarms reach FM when it runs elsewhere.
#[derive(Args, Debug, Clone)]
pub struct FmRemoteArgs {
    /// FM, where host alarms and logs are reported (when FM is not run here).
    #[arg(
        long,
        env = "STARLING_FM_URL",
        default_value = "http://127.0.0.1:18002"
    )]
    pub fm_url: String,
    /// CA bundle (PEM) that verifies an https --fm-url.
    #[arg(long, env = "STARLING_FM_CACERT")]
    pub fm_cacert: Option<PathBuf>,
    /// Where reports wait while FM is unreachable (default: under the
    /// per-user data directory).
    #[arg(long, env = "STARLING_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,
}

/// The daemon's own options, wherever it runs services.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Configuration file (TOML); /etc/starling/starling.toml when present.
    #[arg(long, env = "STARLING_CONFIG")]
    pub config: Option<PathBuf>,
    /// The services to run (comma-separated: fm, identity, inventory); all
    /// of them by default.
    #[arg(long, env = "STARLING_SERVICES", value_delimiter = ',')]
    pub services: Vec<String>,
    /// sqlite://PATH, postgres://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB
    /// (the data directory's SQLite file by default; `fm` and `inventory`
    /// need it).
    #[arg(long, env = "STARLING_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Data directory (holds starling.db, the admin password, openrc, the
    /// spool).
    #[arg(long, env = "STARLING_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address the APIs listen on.
    #[arg(long, env = "STARLING_BIND", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Host name or address put in the service catalog's URLs; the bind
    /// address by default (the machine's host name when binding to all).
    #[arg(long, env = "STARLING_ADVERTISE_HOST")]
    pub advertise_host: Option<String>,
    /// System name: the system record's at first start; traps prefix entity
    /// ids with system=<name>.
    #[arg(long, env = "STARLING_SYSTEM_NAME")]
    pub system_name: Option<String>,
    /// Region name: the catalog's (RegionOne by default); traps prefix
    /// entity ids with region=<name>.
    #[arg(long, env = "STARLING_REGION_NAME")]
    pub region_name: Option<String>,
    /// Token lifetime.
    #[arg(long, env = "STARLING_TOKEN_TTL", default_value = "1h", value_parser = parse_duration)]
    pub token_ttl: std::time::Duration,
    /// How long a validated token is trusted without asking again (0 turns the
    /// cache off); a revocation elsewhere takes effect within this.
    #[arg(long, env = "STARLING_TOKEN_CACHE_TTL", default_value = "5s", value_parser = parse_cache_ttl)]
    pub token_cache_ttl: std::time::Duration,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "STARLING_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "STARLING_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a self-signed certificate generated into
    /// <data-dir>/tls; openrc points OS_CACERT at it.
    #[arg(long, env = "STARLING_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    pub tls_self_signed: bool,
    /// CA bundle that verifies the listeners' certificate, written into
    /// openrc as OS_CACERT (with --tls-cert).
    #[arg(long, env = "STARLING_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Log filter: a level (error, warn, info, debug, trace, off) and/or
    /// TARGET=LEVEL directives, comma-separated (e.g. info,starling_db=debug).
    #[arg(long, env = "STARLING_LOG", default_value = "info")]
    pub log: String,
    /// Log line format.
    #[arg(long, env = "STARLING_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: starling_server::LogFormat,
    /// Connections each listener holds at once; the next ones are closed.
    #[arg(long, env = "STARLING_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// How long a request head may take to arrive (and a kept-alive
    /// connection may sit idle).
    #[arg(long, env = "STARLING_HTTP_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_header_timeout: std::time::Duration,
    /// How long a request body may send nothing.
    #[arg(long, env = "STARLING_HTTP_BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub http_body_timeout: std::time::Duration,
    /// On SIGTERM or SIGINT, how long requests in flight may take to finish
    /// before the connections left are cut off (0: at once).
    #[arg(long, env = "STARLING_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_cache_ttl)]
    pub shutdown_grace: std::time::Duration,
}

/// A duration that may be zero (`0` turns a cache off).
pub fn parse_cache_ttl(s: &str) -> Result<std::time::Duration, String> {
    if s.trim().trim_end_matches(['s', 'm', 'h', 'd']) == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    parse_duration(s)
}

/// Whose an option is: where it may be given and where the file sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// The daemon's own (top level of the file).
    Common,
    /// Identity elsewhere: only where identity does not run (top level).
    RemoteAuth,
    /// FM elsewhere: only where FM does not run but a service using it does.
    FmRemote,
    /// The all-in-one's agent (`[agent]`): where inventory and identity run.
    LocalAgent,
    /// A service's (`[<name>]`), its port among them.
    Service(&'static str),
}

fn ids_of<T: Args>() -> Vec<String> {
    starling_service::args_of::<T>()
        .iter()
        .map(|a| a.get_id().to_string())
        .collect()
}

/// Every top-level option's owner.
fn owners() -> BTreeMap<String, Owner> {
    let mut o = BTreeMap::new();
    for id in ids_of::<Common>() {
        o.insert(id, Owner::Common);
    }
    for id in ids_of::<RemoteAuthArgs>() {
        o.insert(id, Owner::RemoteAuth);
    }
    for id in ids_of::<FmRemoteArgs>() {
        o.insert(id, Owner::FmRemote);
    }
    for id in ids_of::<LocalAgentArgs>() {
        o.insert(id, Owner::LocalAgent);
    }
    for s in SERVICES {
        o.insert(
            starling_service::port_option(s.name()),
            Owner::Service(s.name()),
        );
        for a in s.options() {
            o.insert(a.get_id().to_string(), Owner::Service(s.name()));
        }
    }
    o
}

/// The full command: the derive's, every service's options and ports, the
/// run options global so they may follow `fm` or `inventory`.
/// `owners` is [`owners`]'s table.
fn command_with(owners: &BTreeMap<String, Owner>) -> clap::Command {
    let mut cmd = Cli::command();
    for s in SERVICES {
        if let Some(port) = s.port() {
            let name = s.name();
            cmd = cmd.arg(
                clap::Arg::new(starling_service::port_option(name))
                    .long(format!("{name}-port"))
                    .env(format!(
                        "STARLING_{}_PORT",
                        name.to_uppercase().replace('-', "_")
                    ))
                    .value_parser(clap::value_parser!(u16))
                    .default_value(port.to_string())
                    .help(format!("Port of the {name} API.")),
            );
        }
        cmd = cmd.args(s.options());
    }
    cmd.mut_args(|a| {
        let owner = owners.get(a.get_id().as_str()).copied();
        let heading = match owner {
            Some(Owner::Service(s)) => Some(format!("Options of {s} (where it runs)")),
            Some(Owner::RemoteAuth) => {
                Some("Identity elsewhere (where identity does not run)".to_string())
            }
            Some(Owner::FmRemote) => Some("FM elsewhere (where fm does not run)".to_string()),
            Some(Owner::LocalAgent) => {
                Some("The all-in-one's agent (beside inventory and identity)".to_string())
            }
            Some(Owner::Common) | None => None,
        };
        let global = !matches!(owner, Some(Owner::LocalAgent) | None);
        match heading {
            Some(h) => a.global(global).help_heading(h),
            None => a.global(global),
        }
    })
}

/// What `starlingd` was asked: the options and where each came from.
pub struct Parsed {
    pub cli: Cli,
    /// The top-level matches (every global option's value is here).
    pub matches: ArgMatches,
    /// Option ids the operator gave (flag, variable or file).
    pub given: BTreeSet<String>,
    /// The configuration file read, if any, and the ids it set (with
    /// their keys in the file).
    pub file: Option<(PathBuf, BTreeMap<String, String>)>,
    /// The command parsed (its options' names and variables, for messages).
    cmd: clap::Command,
    /// Every top-level option's owner.
    owners: BTreeMap<String, Owner>,
}

/// Parses the process's arguments over the configuration file; exits with
/// clap's message on a usage error.
pub fn parse() -> Result<Parsed> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    parse_from(argv, std::env::var_os("STARLING_CONFIG"))
}

/// [`parse`] over `argv`, with `env_config` standing for `STARLING_CONFIG`.
pub fn parse_from(argv: Vec<OsString>, env_config: Option<OsString>) -> Result<Parsed> {
    let owners = owners();
    let mut cmd = command_with(&owners);
    let file = match config_path(&argv, env_config) {
        Some((path, named)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (c, set) = apply_file(cmd, &owners, &path, &text)?;
                cmd = c;
                Some((path, set))
            }
            Err(e) if !named && e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", path.display()));
            }
        },
        None => None,
    };
    let matches = match cmd.try_get_matches_from_mut(argv.clone()) {
        Ok(m) => m,
        Err(e) => {
            // A value the command line alone parses was the file's.
            if let Some((path, set)) = &file
                && command_with(&owners).try_get_matches_from(argv).is_ok()
            {
                let msg = e.to_string();
                let first = msg.lines().next().unwrap_or_default();
                let keys: Vec<&str> = set.values().map(String::as_str).collect();
                bail!(
                    "{}: {} (the file sets {})",
                    path.display(),
                    first.trim_start_matches("error: "),
                    keys.join(", ")
                );
            }
            e.exit()
        }
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut given: BTreeSet<String> = all_ids(&matches)
        .into_iter()
        .filter(|id| {
            matches!(
                source(&matches, id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        })
        .collect();
    if let Some((_, set)) = &file {
        given.extend(set.keys().cloned());
    }
    Ok(Parsed {
        cli,
        matches,
        given,
        file,
        cmd,
        owners,
    })
}

/// Whether `m` has a value for `id` (asking `m` of an id it does not know
/// panics in debug builds).
fn has(m: &ArgMatches, id: &str) -> bool {
    m.ids().any(|i| i.as_str() == id)
}

/// The value source of `id` in `m` itself (none when it has no value).
fn top_source(m: &ArgMatches, id: &str) -> Option<ValueSource> {
    has(m, id).then(|| m.value_source(id)).flatten()
}

/// The value source of `id` in `m` or in its subcommand's matches (none
/// when it has no value).
fn source(m: &ArgMatches, id: &str) -> Option<ValueSource> {
    top_source(m, id).or_else(|| m.subcommand().and_then(|(_, sub)| top_source(sub, id)))
}

fn all_ids(m: &ArgMatches) -> Vec<String> {
    let mut ids: Vec<String> = m.ids().map(|i| i.to_string()).collect();
    if let Some((_, sub)) = m.subcommand() {
        ids.extend(sub.ids().map(|i| i.to_string()));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The configuration file to read, and whether it was named (a named file
/// must exist; the default is read when present).
fn config_path(argv: &[OsString], env: Option<OsString>) -> Option<(PathBuf, bool)> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(|p| (PathBuf::from(p), true));
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some((PathBuf::from(p), true));
        }
    }
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    Some((PathBuf::from(DEFAULT_CONFIG), false))
}

/// The strings a TOML value stands for as option values.
fn values_of(v: &toml::Value) -> Result<Vec<String>, String> {
    match v {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Integer(i) => Ok(vec![i.to_string()]),
        toml::Value::Float(f) => Ok(vec![f.to_string()]),
        toml::Value::Boolean(b) => Ok(vec![b.to_string()]),
        toml::Value::Datetime(d) => Ok(vec![d.to_string()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                toml::Value::Array(_) | toml::Value::Table(_) => {
                    Err("a list may hold only strings, numbers and booleans".to_string())
                }
                other => values_of(other).map(|mut v| v.remove(0)),
            })
            .collect(),
        toml::Value::Table(_) => Err("a table is not a value".into()),
    }
}

/// The file's values made the options' defaults. Keys are option names
/// with `_` or `-`; top level for the daemon's own, `[<service>]` for a
/// service's (`port` is its `--<service>-port`), `[agent]` for the agent's.
fn apply_file(
    mut cmd: clap::Command,
    owners: &BTreeMap<String, Owner>,
    path: &Path,
    text: &str,
) -> Result<(clap::Command, BTreeMap<String, String>)> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("{}: {}", path.display(), e.message()))?;
    let mut set = BTreeMap::new();
    let mut settings: Vec<(String, String, &toml::Value)> = Vec::new();
    for (key, value) in &doc {
        match value {
            toml::Value::Table(section) => {
                let known = key == "agent" || SERVICES.iter().any(|s| s.name() == key);
                if !known {
                    bail!(
                        "{}: unknown section [{key}]: use [agent] or a service's name ({})",
                        path.display(),
                        SERVICES
                            .iter()
                            .map(|s| s.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                for (k, v) in section {
                    let id = if k == "port" && key != "agent" {
                        starling_service::port_option(key)
                    } else {
                        k.replace('-', "_")
                    };
                    settings.push((format!("{key}.{k}"), id, v));
                }
            }
            v => settings.push((key.clone(), key.replace('-', "_"), v)),
        }
    }
    for (name, id, value) in settings {
        let section = name.split_once('.').map(|(s, _)| s);
        let owner = owners.get(&id).copied();
        let agent_sub = cmd
            .find_subcommand("agent")
            .is_some_and(|a| a.get_arguments().any(|x| x.get_id() == id.as_str()));
        let belongs = match (section, owner) {
            (None, Some(Owner::Common | Owner::RemoteAuth | Owner::FmRemote)) => id != "config",
            (Some("agent"), Some(Owner::LocalAgent)) => true,
            (Some("agent"), _) => agent_sub && owner.is_none(),
            (Some(s), Some(Owner::Service(o))) => s == o,
            _ => false,
        };
        if !belongs {
            bail!("{}: unknown setting {name}", path.display());
        }
        let values =
            values_of(value).map_err(|e| anyhow::anyhow!("{}: {name}: {e}", path.display()))?;
        let one = |arg: &clap::Arg| -> Result<()> {
            let many = matches!(arg.get_action(), ArgAction::Append)
                || arg.get_value_delimiter().is_some();
            if values.len() != 1 && !many {
                bail!("{}: {name} takes one value", path.display());
            }
            Ok(())
        };
        // The values themselves are parsed with the command line, where a
        // bad one is reported as the file's (`parse_from`).
        if let Some(arg) = cmd.get_arguments().find(|a| a.get_id() == id.as_str()) {
            one(arg)?;
        }
        if cmd.get_arguments().any(|a| a.get_id() == id.as_str()) {
            let vs = values.clone();
            cmd = cmd.mut_arg(&id, |a| a.default_values(vs));
        }
        if agent_sub && section == Some("agent") {
            if let Some(arg) = cmd
                .find_subcommand("agent")
                .and_then(|sub| sub.get_arguments().find(|a| a.get_id() == id.as_str()))
            {
                one(arg)?;
            }
            let vs = values.clone();
            cmd = cmd.mut_subcommand("agent", |s| s.mut_arg(&id, |a| a.default_values(vs)));
        }
        set.insert(id, name);
    }
    Ok((cmd, set))
}

/// What a run is: the services it starts, or the agent.
pub enum Mode {
    Run(Vec<&'static dyn Service>),
    Agent,
    /// Service management (its run, dump or configure).
    Sm,
}

impl Mode {
    fn runs(&self, name: &str) -> bool {
        matches!(self, Mode::Run(s) if s.iter().any(|x| x.name() == name))
    }
    fn uses_remote_fm(&self) -> bool {
        match self {
            Mode::Run(s) => !self.runs("fm") && s.iter().any(|x| x.uses().contains(&"fm")),
            Mode::Agent | Mode::Sm => false,
        }
    }
    /// The names run, for messages.
    fn describe(&self) -> String {
        match self {
            Mode::Run(s) => s.iter().map(|x| x.name()).collect::<Vec<_>>().join(", "),
            Mode::Agent => "the agent".into(),
            Mode::Sm => "service management".into(),
        }
    }
}

/// The run `p` asks for.
pub fn mode(p: &Parsed) -> Result<Mode> {
    let named = |names: &[String]| -> Result<Vec<&'static dyn Service>> {
        for n in names {
            if !SERVICES.iter().any(|s| s.name() == n.trim()) {
                bail!(
                    "unknown service '{n}' in --services: use {}",
                    SERVICES
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let run: Vec<&'static dyn Service> = SERVICES
            .iter()
            .copied()
            .filter(|s| names.iter().any(|n| n.trim() == s.name()))
            .collect();
        for s in &run {
            if let Some(host) = s.served_by()
                && !run.iter().any(|o| o.name() == host)
            {
                bail!(
                    "{} is served on {host}'s listener: run it with {host} (--services {},{host})",
                    s.name(),
                    s.name()
                );
            }
        }
        Ok(run)
    };
    let services: Vec<String> = p
        .cli
        .common
        .services
        .iter()
        .filter(|s| !s.trim().is_empty())
        .cloned()
        .collect();
    let one = |name: &str| -> Result<Mode> {
        if !services.is_empty() {
            bail!("starlingd {name} runs {name} alone: --services does not apply");
        }
        if p.cli.common.database_url.is_none() {
            bail!("starlingd {name} needs --database-url (or STARLING_DATABASE_URL)");
        }
        named(&[name.to_string()]).map(Mode::Run)
    };
    match &p.cli.command {
        Some(Command::Fm) => one("fm"),
        Some(Command::Inventory) => one("inventory"),
        Some(Command::Agent(_)) => Ok(Mode::Agent),
        Some(Command::Sm(_)) if !services.is_empty() => {
            bail!("starlingd sm runs service management alone: --services does not apply")
        }
        Some(Command::Sm(_)) => Ok(Mode::Sm),
        None | Some(Command::Config { .. }) if services.is_empty() => {
            Ok(Mode::Run(SERVICES.to_vec()))
        }
        None | Some(Command::Config { .. }) => named(&services).map(Mode::Run),
    }
}

/// Why option `id` does not apply to `mode`, if it does not.
fn not_applying(id: &str, owner: Owner, mode: &Mode) -> Option<String> {
    match (owner, mode) {
        (Owner::Common, Mode::Agent) => {
            (!matches!(id, "log" | "log_format" | "config" | "shutdown_grace"))
                .then(|| "it is a controller's option, and the agent runs no service".into())
        }
        (Owner::Common, Mode::Sm) => (!matches!(
            id,
            "log" | "log_format" | "config" | "shutdown_grace" | "data_dir"
        ))
        .then(|| "service management runs no API service".into()),
        (Owner::Common, Mode::Run(_)) => None,
        // Service management logs in to report its alarms to FM.
        (Owner::RemoteAuth, Mode::Sm) | (Owner::FmRemote, Mode::Sm) => None,
        (Owner::RemoteAuth, Mode::Agent) => None,
        (Owner::RemoteAuth, Mode::Run(_)) => mode
            .runs("identity")
            .then(|| "identity runs in this process".into()),
        (Owner::FmRemote, _) => (!mode.uses_remote_fm()).then(|| {
            if mode.runs("fm") {
                "fm runs in this process".into()
            } else {
                format!("no service run here ({}) reports to fm", mode.describe())
            }
        }),
        (Owner::LocalAgent, _) => (!(mode.runs("inventory") && mode.runs("identity")))
            .then(|| "the local agent runs only beside inventory and identity".into()),
        (Owner::Service(s), _) => (!mode.runs(s)).then(|| {
            format!(
                "it is an option of {s}, which this starlingd does not run (it runs {})",
                mode.describe()
            )
        }),
    }
}

/// Refuses a flag that `mode` would ignore; a variable it would ignore is
/// logged (one environment file may serve several units).
pub fn check_applies(p: &Parsed, mode: &Mode) -> Result<()> {
    for (id, owner) in &p.owners {
        let (id, owner) = (id.clone(), *owner);
        let Some(why) = not_applying(&id, owner, mode) else {
            continue;
        };
        let arg = p.cmd.get_arguments().find(|a| a.get_id() == id.as_str());
        // The top level's matches: global values given after a subcommand
        // are there too, and the agent's own options (some share the local
        // agent's ids) are not.
        match top_source(&p.matches, &id) {
            Some(ValueSource::CommandLine) => {
                let flag = arg
                    .and_then(|a| a.get_long())
                    .map(|l| format!("--{l}"))
                    .unwrap_or(id.clone());
                bail!("{flag} does not apply here: {why}");
            }
            Some(ValueSource::EnvVariable) => {
                let var = arg
                    .and_then(|a| a.get_env())
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or(id.clone());
                tracing::warn!("{var} is set but does not apply here ({why}): ignored");
            }
            _ => {}
        }
    }
    Ok(())
}

/// A value as `config show` prints it, secrets masked: a database URL's
/// password, an SNMP community.
fn shown(id: &str, raw: &str) -> String {
    match id {
        "database_url" => starling_db::redact_url(raw),
        "trap_dest" => match raw.split_once('/') {
            Some((addr, _)) => format!("{addr}/****"),
            None => raw.to_string(),
        },
        _ => raw.to_string(),
    }
}

fn toml_value(raw: &str, action: &ArgAction) -> String {
    if matches!(action, ArgAction::SetTrue | ArgAction::SetFalse)
        || (!raw.is_empty() && raw.len() < 19 && raw.bytes().all(|b| b.is_ascii_digit()))
    {
        return raw.to_string();
    }
    let mut s = String::from("\"");
    for c in raw.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if c.is_control() => s.push_str(&format!("\\u{:04X}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The effective configuration of `mode`, as a TOML document that
/// `--config` reads back: every option that applies, with where its value
/// came from.
pub fn show(p: &Parsed, mode: &Mode) -> String {
    // A fresh command lists the options in their declared order (the
    // parsed one moved those the file set to its end).
    let owners = &p.owners;
    let cmd = &command_with(owners);
    let from_file: BTreeSet<String> = p
        .file
        .as_ref()
        .map(|(_, s)| s.keys().cloned().collect())
        .unwrap_or_default();
    let mut out = String::from(
        "# starlingd's effective configuration: built-in defaults, then the file,\n\
         # then STARLING_* variables, then flags. Secrets are masked.\n",
    );
    match &p.file {
        Some((path, _)) => out.push_str(&format!("# file: {}\n", path.display())),
        None => out.push_str(&format!("# file: none ({DEFAULT_CONFIG} is absent)\n")),
    }
    let line = |out: &mut String, key: &str, arg: &clap::Arg| {
        let id = arg.get_id().as_str();
        let origin = match source(&p.matches, id) {
            Some(ValueSource::CommandLine) => "flag".to_string(),
            Some(ValueSource::EnvVariable) => arg
                .get_env()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_else(|| "environment".into()),
            Some(ValueSource::DefaultValue) if from_file.contains(id) => "file".into(),
            Some(ValueSource::DefaultValue) => "default".into(),
            _ => String::new(),
        };
        let raw: Vec<String> = has(&p.matches, id)
            .then(|| p.matches.get_raw(id))
            .flatten()
            .map(|vs| vs.map(|v| shown(id, &v.to_string_lossy())).collect())
            .unwrap_or_default();
        let many =
            matches!(arg.get_action(), ArgAction::Append) || arg.get_value_delimiter().is_some();
        if raw.is_empty() {
            out.push_str(&format!("# {key} =   (not set)\n"));
        } else if many {
            let items: Vec<String> = raw.iter().map(|v| toml_value(v, &ArgAction::Set)).collect();
            out.push_str(&format!("{key} = [{}]   # {origin}\n", items.join(", ")));
        } else {
            out.push_str(&format!(
                "{key} = {}   # {origin}\n",
                toml_value(&raw[0], arg.get_action())
            ));
        }
    };
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(owner) = owners.get(id).copied() else {
            continue;
        };
        if matches!(owner, Owner::Common | Owner::RemoteAuth | Owner::FmRemote)
            && id != "config"
            && not_applying(id, owner, mode).is_none()
        {
            line(&mut out, id, arg);
        }
    }
    if let Mode::Run(services) = mode {
        for s in services {
            out.push_str(&format!("\n[{}]\n", s.name()));
            let port = starling_service::port_option(s.name());
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if owners.get(id) == Some(&Owner::Service(s.name())) {
                    line(&mut out, if id == port { "port" } else { id }, arg);
                }
            }
        }
        if not_applying("no_local_agent", Owner::LocalAgent, mode).is_none() {
            out.push_str("\n[agent]\n");
            for arg in cmd.get_arguments() {
                if owners.get(arg.get_id().as_str()) == Some(&Owner::LocalAgent) {
                    line(&mut out, arg.get_id().as_str(), arg);
                }
            }
        }
    }
    for var in [
        "STARLING_ADMIN_PASSWORD",
        "STARLING_AUTH_PASSWORD",
        "STARLING_AGENT_TOKEN",
    ] {
        if std::env::var_os(var).is_some() {
            out.push_str(&format!("# {var} is set (not shown)\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            std::time::Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            parse_duration("90").unwrap(),
            std::time::Duration::from_secs(90)
        );
        assert_eq!(
            parse_duration("100ms").unwrap(),
            std::time::Duration::from_millis(100)
        );
        assert!(parse_duration("0ms").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_cache_ttl("0").unwrap(), std::time::Duration::ZERO);
        assert_eq!(
            parse_cache_ttl("5s").unwrap(),
            std::time::Duration::from_secs(5)
        );
    }

    #[test]
    fn the_command_is_well_formed() {
        command_with(&owners()).debug_assert();
    }
}
