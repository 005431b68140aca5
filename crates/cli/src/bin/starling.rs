//! `starling`: Starling's own administration CLI. Today: identity, with the
//! `openstack` command set's names, options and columns (`user`, `project`,
//! `role`, `token`, `catalog`, `service`, `endpoint`).

use std::io::BufRead;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use starling_cli::auth::{AuthArgs, v3_base};
use starling_cli::{Client, Out, Table, field, text};
use starling_identity_types as ks;

#[derive(Parser, Debug)]
#[command(name = "starling", version, about = "Starling administration client")]
struct Cli {
    #[command(flatten)]
    auth: AuthArgs,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 60, global = true)]
    timeout: u64,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Print a shell completion script (e.g. `. <(starling completion bash)`).
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// The service catalog of your token.
    #[command(subcommand)]
    Catalog(ListOnly),
    /// Users.
    #[command(subcommand)]
    User(UserCmd),
    /// Projects.
    #[command(subcommand)]
    Project(ProjectCmd),
    /// Roles and role assignments.
    #[command(subcommand)]
    Role(RoleCmd),
    /// Catalog services.
    #[command(subcommand)]
    Service(ServiceCmd),
    /// Catalog endpoints.
    #[command(subcommand)]
    Endpoint(EndpointCmd),
}

#[derive(Subcommand, Debug)]
enum ServiceCmd {
    /// List services.
    List(Out),
    /// Add a service to the catalog.
    Create {
        /// Service type (faultmanagement, platform, …).
        #[arg(name = "TYPE")]
        kind: String,
        /// Name.
        #[arg(long)]
        name: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Remove services (and their endpoints).
    Delete {
        /// Service ids, names or types.
        #[arg(required = true)]
        services: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum EndpointCmd {
    /// List endpoints.
    List(Out),
    /// Add an endpoint: SERVICE INTERFACE URL.
    Create {
        /// Service (id, name or type).
        service: String,
        /// public, internal or admin.
        interface: String,
        /// URL.
        url: String,
        /// Region.
        #[arg(long, default_value = "RegionOne")]
        region: String,
        #[command(flatten)]
        out: Out,
    },
    /// Remove endpoints by id.
    Delete {
        /// Endpoint ids.
        #[arg(required = true)]
        endpoints: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ListOnly {
    /// List.
    List(Out),
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Log in and print the new token.
    Issue(Out),
    /// Revoke a token.
    Revoke {
        /// The token.
        token: String,
    },
}

#[derive(Args, Debug)]
struct Secret {
    /// The password (visible to other local users in the process list; prefer
    /// --password-prompt).
    #[arg(long)]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_prompt: bool,
}

impl Secret {
    fn get(&self) -> Result<Option<String>> {
        if self.password_prompt {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let pw = line.trim_end_matches(['\n', '\r']).to_string();
            if pw.is_empty() {
                bail!("no password on standard input");
            }
            return Ok(Some(pw));
        }
        Ok(self.password.clone())
    }
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// List users.
    List {
        /// Only users of this domain (name or id).
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Show a user (name or id).
    Show {
        /// User.
        user: String,
        #[command(flatten)]
        out: Out,
    },
    /// Create a user.
    Create {
        /// Name.
        name: String,
        /// Domain (name or id; Default when absent).
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        secret: Secret,
        /// Default project (name or id).
        #[arg(long)]
        project: Option<String>,
        /// Email.
        #[arg(long)]
        email: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        out: Out,
    },
    /// Change a user.
    Set {
        /// User (name or id).
        user: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        secret: Secret,
        /// New email.
        #[arg(long)]
        email: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// Enable.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable (revokes its tokens).
        #[arg(long)]
        disable: bool,
    },
    /// Delete users.
    Delete {
        /// Users (names or ids).
        #[arg(required = true)]
        users: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ProjectCmd {
    /// List projects.
    List(Out),
    /// Show a project (name or id).
    Show {
        /// Project.
        project: String,
        #[command(flatten)]
        out: Out,
    },
    /// Create a project.
    Create {
        /// Name.
        name: String,
        /// Domain (name or id; Default when absent).
        #[arg(long)]
        domain: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Create it disabled.
        #[arg(long)]
        disable: bool,
        #[command(flatten)]
        out: Out,
    },
    /// Change a project.
    Set {
        /// Project (name or id).
        project: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// Enable.
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Disable.
        #[arg(long)]
        disable: bool,
    },
    /// Delete projects.
    Delete {
        /// Projects (names or ids).
        #[arg(required = true)]
        projects: Vec<String>,
    },
}

#[derive(Args, Debug)]
struct Grant {
    /// Role (name or id).
    role: String,
    /// User (name or id).
    #[arg(long, required = true)]
    user: String,
    /// On this project (name or id).
    #[arg(long, conflicts_with = "domain", required_unless_present = "domain")]
    project: Option<String>,
    /// On this domain (name or id).
    #[arg(long)]
    domain: Option<String>,
}

#[derive(Subcommand, Debug)]
enum RoleCmd {
    /// List roles.
    List(Out),
    /// Create a role.
    Create {
        /// Name.
        name: String,
        #[command(flatten)]
        out: Out,
    },
    /// Delete roles.
    Delete {
        /// Roles (names or ids).
        #[arg(required = true)]
        roles: Vec<String>,
    },
    /// Grant a role to a user on a project or domain.
    Add(Grant),
    /// Remove a role from a user on a project or domain.
    Remove(Grant),
    /// Role assignments.
    #[command(subcommand)]
    Assignment(AssignmentCmd),
}

#[derive(Subcommand, Debug)]
enum AssignmentCmd {
    /// List role assignments.
    List {
        /// Only this user's (name or id).
        #[arg(long)]
        user: Option<String>,
        /// Only on this project (name or id).
        #[arg(long)]
        project: Option<String>,
        /// Only of this role (name or id).
        #[arg(long)]
        role: Option<String>,
        /// Show names instead of ids.
        #[arg(long)]
        names: bool,
        #[command(flatten)]
        out: Out,
    },
}

fn main() {
    let cli = Cli::parse();
    starling_cli::finish("starling", run(cli))
}

/// A client of the identity API, logged in (or with --os-auth-token).
fn identity(cli: &Cli) -> Result<Client> {
    let t = cli.auth.transport(Duration::from_secs(cli.timeout.max(1)));
    let Some(url) = cli.auth.auth_url.as_deref().filter(|u| !u.is_empty()) else {
        bail!("OS_AUTH_URL (or --os-auth-url) is not set: source openrc");
    };
    let base = v3_base(url);
    match cli.auth.token.clone().filter(|t| !t.is_empty()) {
        Some(tok) => Client::new("identity", &base, Some(tok), &t),
        None => {
            let s = cli.auth.login(&t)?;
            Client::new("identity", &base, Some(s.token), &t)
        }
    }
}

/// Resolves a name or id on the server: `GET /kind/x`, else `?name=x`.
fn resolve(c: &Client, kind: &str, key: &str, x: &str) -> Result<Value> {
    if let Ok(v) = c.get(&format!("/{kind}/{}", enc(x))) {
        return Ok(v[key].clone());
    }
    let list = c.get(&format!("/{kind}?name={}", enc(x)))?;
    let items = list[kind].as_array().cloned().unwrap_or_default();
    match items.len() {
        0 => bail!("no {key} with name or id '{x}'"),
        1 => Ok(items[0].clone()),
        n => bail!("{n} {kind} are named '{x}': give the id"),
    }
}

/// A service by id, else by name or type (filtered by the server).
fn service_id(c: &Client, x: &str) -> Result<String> {
    if let Ok(v) = c.get(&format!("/services/{}", enc(x))) {
        return Ok(text(&v["service"], "id"));
    }
    for filter in ["name", "type"] {
        let list = c.get(&format!("/services?{filter}={}", enc(x)))?;
        let items = list["services"].as_array().cloned().unwrap_or_default();
        match items.len() {
            0 => continue,
            1 => return Ok(text(&items[0], "id")),
            n => bail!("{n} services match '{x}': give the id"),
        }
    }
    bail!("no service with id, name or type '{x}'")
}

fn id_of(c: &Client, kind: &str, key: &str, x: &str) -> Result<String> {
    Ok(text(&resolve(c, kind, key, x)?, "id"))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn domain_id(c: &Client, d: Option<&str>) -> Result<Option<String>> {
    d.map(|d| id_of(c, "domains", "domain", d)).transpose()
}

fn show(v: &Value, fields: &[&str], out: Out) -> Result<()> {
    let rec: Vec<(&str, Value)> = fields.iter().map(|f| (*f, field(v, f))).collect();
    starling_cli::out(&Table::render_record(&rec, &out)?)?;
    Ok(())
}

fn list(items: &[Value], cols: &[(&str, &str)], out: Out) -> Result<()> {
    let mut t = Table::new(&cols.iter().map(|(c, _)| *c).collect::<Vec<_>>());
    for v in items {
        t.rows.push(cols.iter().map(|(_, k)| field(v, k)).collect());
    }
    starling_cli::out(&t.render(&out)?)?;
    Ok(())
}

/// A wire value as the key-based renderers read it.
fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    Ok(serde_json::to_value(v)?)
}

/// Wire records as the key-based renderers read them.
fn values<T: serde::Serialize>(items: &[T]) -> Result<Vec<Value>> {
    items.iter().map(to_value).collect()
}

/// A create's answer, read as its wire type.
fn answer<T: serde::de::DeserializeOwned>(v: Option<Value>) -> Result<T> {
    let v = v.context("empty answer")?;
    serde_json::from_value(v).map_err(|e| anyhow::anyhow!("unexpected answer: {e}"))
}

/// Resolves each name or id of `kind` on the server and deletes it.
fn delete_each(c: &Client, kind: &str, key: &str, names: &[String]) -> Result<()> {
    for n in names {
        let id = id_of(c, kind, key, n)?;
        c.delete(&format!("/{kind}/{id}"))?;
    }
    Ok(())
}

fn enabled(enable: bool, disable: bool) -> Option<bool> {
    match (enable, disable) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

const USER_FIELDS: [&str; 7] = [
    "id",
    "name",
    "domain_id",
    "enabled",
    "default_project_id",
    "email",
    "description",
];
const PROJECT_FIELDS: [&str; 5] = ["id", "name", "domain_id", "enabled", "description"];

fn run(cli: Cli) -> Result<()> {
    if let Cmd::Completion { shell } = cli.cmd {
        return starling_cli::completion(&mut <Cli as clap::CommandFactory>::command(), shell);
    }
    let c = identity(&cli)?;
    match cli.cmd {
        // Answered before the client was made.
        Cmd::Completion { .. } => {}
        Cmd::Token(TokenCmd::Issue(out)) => {
            let s = cli
                .auth
                .login(&cli.auth.transport(Duration::from_secs(cli.timeout.max(1))))?;
            let t = &s.body.item;
            let rec = [
                ("expires", json!(t.expires_at.to_string())),
                ("id", json!(s.token)),
                (
                    "project_id",
                    json!(t.project.as_ref().map(|p| p.id.to_string())),
                ),
                ("user_id", json!(t.user.id.to_string())),
            ];
            starling_cli::out(&Table::render_record(&rec, &out)?)?;
        }
        Cmd::Token(TokenCmd::Revoke { token }) => {
            c.delete_with("/auth/tokens", &[("X-Subject-Token", &token)])?;
        }
        Cmd::Catalog(ListOnly::List(out)) => {
            let v: ks::CatalogBody<'static> = c.get_as("/auth/catalog")?;
            let items: Vec<Value> = v
                .catalog
                .iter()
                .map(|s| {
                    let eps: Vec<String> = s
                        .endpoints
                        .iter()
                        .map(|e| format!("{}\n  {}: {}", e.region_id, e.interface, e.url))
                        .collect();
                    json!({"name": s.name, "type": s.service_type, "endpoints": eps.join("\n")})
                })
                .collect();
            list(
                &items,
                &[
                    ("Name", "name"),
                    ("Type", "type"),
                    ("Endpoints", "endpoints"),
                ],
                out,
            )?;
        }
        Cmd::Service(ServiceCmd::Create {
            kind,
            name,
            description,
            out,
        }) => {
            let body = ks::NewServiceBody {
                item: ks::NewService {
                    service_type: kind,
                    name,
                    description,
                    enabled: None,
                },
            };
            let v: ks::ServiceBody<'static> = answer(c.post("/services", &to_value(&body)?)?)?;
            show(
                &to_value(&v.item)?,
                &["id", "name", "type", "description", "enabled"],
                out,
            )?;
        }
        Cmd::Service(ServiceCmd::Delete { services }) => {
            for s in services {
                let id = service_id(&c, &s)?;
                c.delete(&format!("/services/{id}"))?;
            }
        }
        Cmd::Endpoint(EndpointCmd::Create {
            service,
            interface,
            url,
            region,
            out,
        }) => {
            let body = ks::NewEndpointBody {
                item: ks::NewEndpoint {
                    service_id: service_id(&c, &service)?,
                    interface,
                    url,
                    region_id: Some(region),
                    region: None,
                    enabled: None,
                },
            };
            let v: ks::EndpointBody<'static> = answer(c.post("/endpoints", &to_value(&body)?)?)?;
            show(
                &to_value(&v.item)?,
                &[
                    "id",
                    "service_id",
                    "interface",
                    "region_id",
                    "url",
                    "enabled",
                ],
                out,
            )?;
        }
        Cmd::Endpoint(EndpointCmd::Delete { endpoints }) => {
            for e in endpoints {
                c.delete(&format!("/endpoints/{}", enc(&e)))?;
            }
        }
        Cmd::Service(ServiceCmd::List(out)) => {
            let v: ks::ServiceList<'static> = c.get_as("/services")?;
            list(
                &values(&v.services)?,
                &[("ID", "id"), ("Name", "name"), ("Type", "type")],
                out,
            )?;
        }
        Cmd::Endpoint(EndpointCmd::List(out)) => {
            let services: ks::ServiceList<'static> = c.get_as("/services")?;
            let name_of = |sid: &str| {
                services
                    .services
                    .iter()
                    .find(|s| s.id == sid)
                    .map(|s| (s.name.to_string(), s.service_type.to_string()))
                    .unwrap_or_default()
            };
            let v: ks::EndpointList<'static> = c.get_as("/endpoints")?;
            let mut items = Vec::new();
            for e in &v.endpoints {
                let (n, t) = name_of(&e.service_id);
                let mut e = to_value(e)?;
                e["service_name"] = json!(n);
                e["service_type"] = json!(t);
                items.push(e);
            }
            list(
                &items,
                &[
                    ("ID", "id"),
                    ("Region", "region_id"),
                    ("Service Name", "service_name"),
                    ("Service Type", "service_type"),
                    ("Enabled", "enabled"),
                    ("Interface", "interface"),
                    ("URL", "url"),
                ],
                out,
            )?;
        }
        Cmd::User(u) => user(&c, u)?,
        Cmd::Project(p) => project(&c, p)?,
        Cmd::Role(r) => role(&c, r)?,
    }
    Ok(())
}

fn user(c: &Client, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::List { domain, out } => {
            let q = match domain_id(c, domain.as_deref())? {
                Some(d) => format!("/users?domain_id={}", enc(&d)),
                None => "/users".into(),
            };
            let v: ks::UserList<'static> = c.get_as(&q)?;
            list(&values(&v.users)?, &[("ID", "id"), ("Name", "name")], out)
        }
        UserCmd::Show { user, out } => {
            show(&resolve(c, "users", "user", &user)?, &USER_FIELDS, out)
        }
        UserCmd::Create {
            name,
            domain,
            secret,
            project,
            email,
            description,
            disable,
            out,
        } => {
            let body = ks::NewUserBody {
                item: ks::NewUser {
                    name,
                    domain_id: domain_id(c, domain.as_deref())?,
                    password: secret.get()?,
                    enabled: Some(!disable),
                    default_project_id: project
                        .map(|p| id_of(c, "projects", "project", &p))
                        .transpose()?,
                    description,
                    email,
                },
            };
            let v: ks::UserBody<'static> = answer(c.post("/users", &to_value(&body)?)?)?;
            show(&to_value(&v.item)?, &USER_FIELDS, out)
        }
        UserCmd::Set {
            user,
            name,
            secret,
            email,
            description,
            enable,
            disable,
        } => {
            let id = id_of(c, "users", "user", &user)?;
            let body = ks::UserPatchBody {
                item: ks::UserPatch {
                    name,
                    password: secret.get()?,
                    enabled: enabled(enable, disable),
                    default_project_id: None,
                    description,
                    email,
                },
            };
            c.patch(&format!("/users/{id}"), &to_value(&body)?)?;
            Ok(())
        }
        UserCmd::Delete { users } => delete_each(c, "users", "user", &users),
    }
}

fn project(c: &Client, cmd: ProjectCmd) -> Result<()> {
    match cmd {
        ProjectCmd::List(out) => {
            let v: ks::ProjectList<'static> = c.get_as("/projects")?;
            list(
                &values(&v.projects)?,
                &[("ID", "id"), ("Name", "name")],
                out,
            )
        }
        ProjectCmd::Show { project, out } => show(
            &resolve(c, "projects", "project", &project)?,
            &PROJECT_FIELDS,
            out,
        ),
        ProjectCmd::Create {
            name,
            domain,
            description,
            disable,
            out,
        } => {
            let body = ks::NewProjectBody {
                item: ks::NewProject {
                    name,
                    domain_id: domain_id(c, domain.as_deref())?,
                    description,
                    enabled: Some(!disable),
                    ..ks::NewProject::default()
                },
            };
            let v: ks::ProjectBody<'static> = answer(c.post("/projects", &to_value(&body)?)?)?;
            show(&to_value(&v.item)?, &PROJECT_FIELDS, out)
        }
        ProjectCmd::Set {
            project,
            name,
            description,
            enable,
            disable,
        } => {
            let id = id_of(c, "projects", "project", &project)?;
            let body = ks::ProjectPatchBody {
                item: ks::ProjectPatch {
                    name,
                    description,
                    enabled: enabled(enable, disable),
                },
            };
            c.patch(&format!("/projects/{id}"), &to_value(&body)?)?;
            Ok(())
        }
        ProjectCmd::Delete { projects } => delete_each(c, "projects", "project", &projects),
    }
}

fn grant_path(c: &Client, g: &Grant) -> Result<String> {
    let role = id_of(c, "roles", "role", &g.role)?;
    let user = id_of(c, "users", "user", &g.user)?;
    Ok(match (&g.project, &g.domain) {
        (Some(p), _) => format!(
            "/projects/{}/users/{user}/roles/{role}",
            id_of(c, "projects", "project", p)?
        ),
        (None, Some(d)) => format!(
            "/domains/{}/users/{user}/roles/{role}",
            id_of(c, "domains", "domain", d)?
        ),
        (None, None) => bail!("give --project or --domain"),
    })
}

fn role(c: &Client, cmd: RoleCmd) -> Result<()> {
    match cmd {
        RoleCmd::List(out) => {
            let v: ks::RoleList<'static> = c.get_as("/roles")?;
            list(&values(&v.roles)?, &[("ID", "id"), ("Name", "name")], out)
        }
        RoleCmd::Create { name, out } => {
            let body = ks::NewRoleBody {
                item: ks::NewRole { name },
            };
            let v: ks::RoleBody<'static> = answer(c.post("/roles", &to_value(&body)?)?)?;
            show(&to_value(&v.item)?, &["id", "name"], out)
        }
        RoleCmd::Delete { roles } => delete_each(c, "roles", "role", &roles),
        RoleCmd::Add(g) => c.put(&grant_path(c, &g)?),
        RoleCmd::Remove(g) => c.delete(&grant_path(c, &g)?),
        RoleCmd::Assignment(AssignmentCmd::List {
            user,
            project,
            role,
            names,
            out,
        }) => {
            let mut q = form_urlencoded::Serializer::new(String::new());
            if let Some(u) = user {
                q.append_pair("user.id", &id_of(c, "users", "user", &u)?);
            }
            if let Some(p) = project {
                q.append_pair("scope.project.id", &id_of(c, "projects", "project", &p)?);
            }
            if let Some(r) = role {
                q.append_pair("role.id", &id_of(c, "roles", "role", &r)?);
            }
            if names {
                q.append_pair("include_names", "true");
            }
            let v: ks::AssignmentList<'static> =
                c.get_as(&format!("/role_assignments?{}", q.finish()))?;
            let key = if names { "name" } else { "id" };
            let items: Vec<Value> = values(&v.role_assignments)?
                .iter()
                .map(|a| {
                    let scope = |k: &str| {
                        let s = &a["scope"][k];
                        if s.is_null() {
                            String::new()
                        } else if names {
                            format!("{}@{}", text(s, "name"), text(&s["domain"], "name"))
                        } else {
                            text(s, "id")
                        }
                    };
                    let user = if names {
                        format!(
                            "{}@{}",
                            text(&a["user"], "name"),
                            text(&a["user"]["domain"], "name")
                        )
                    } else {
                        text(&a["user"], "id")
                    };
                    let domain = if names {
                        text(&a["scope"]["domain"], "name")
                    } else {
                        text(&a["scope"]["domain"], "id")
                    };
                    json!({"role": text(&a["role"], key), "user": user,
                           "project": scope("project"), "domain": domain})
                })
                .collect();
            list(
                &items,
                &[
                    ("Role", "role"),
                    ("User", "user"),
                    ("Project", "project"),
                    ("Domain", "domain"),
                ],
                out,
            )
        }
    }
}
