//! [`IdentityRepo`] in SQL, for every backend, and the identity schema
//! ([`SCHEMA`]).

use std::sync::LazyLock;

use starling_common::Timestamp;
use starling_identity::repo::IdentityRepo;
use starling_identity::{
    Assignment, Domain, Endpoint, Error, Interface, Project, Role, Service, Target, TokenRecord,
    User,
};

use starling_db::{Conn, Row, StorageFailure, Value, columns};

mod schema;
pub use schema::SCHEMA;

/// The identity repository over one transaction.
pub struct IdentityStore<'a> {
    c: &'a mut dyn Conn,
}

impl<'a> IdentityStore<'a> {
    /// Wraps a connection that is inside a transaction.
    pub fn new(c: &'a mut dyn Conn) -> Self {
        IdentityStore { c }
    }
}

columns! {
    /// A domain's columns (`id_domain d`).
    mod domain_c ("d") { id, name, description, enabled }
}
columns! {
    /// A project's columns (`id_project p`).
    mod project_c ("p") { id, name, domain_id, description, enabled }
}
columns! {
    /// A user's columns (`id_user u`).
    mod user_c ("u") {
        id, name, domain_id, enabled, password_hash, default_project_id, failed_logins,
        locked_until, description, email, created_at,
    }
}
columns! {
    /// A role's columns (`id_role r`).
    mod role_c ("r") { id, name }
}
columns! {
    /// A service's columns (`id_service s`).
    mod service_c ("s") { id, service_type, name, description, enabled }
}
columns! {
    /// An endpoint's columns (`id_endpoint e`).
    mod endpoint_c ("e") { id, service_id, interface, region, url, enabled }
}
columns! {
    /// A token record's columns (`id_token t`).
    mod token_c ("t") { hash, user_id, scope_type, scope_id, issued_at, expires_at, audit_id, revoked }
}
columns! {
    /// A role assignment's columns (`id_assignment a`).
    mod assignment_c ("a") { user_id, target_type, target_id, role_id }
}

/// `SELECT` of every column of a column set from its table.
macro_rules! select {
    ($cols:ident, $table:literal) => {
        LazyLock::new(|| format!("SELECT {} FROM {} {}", $cols::LIST, $table, $cols::ALIAS))
    };
}

static DOMAIN: LazyLock<String> = select!(domain_c, "id_domain");
static PROJECT: LazyLock<String> = select!(project_c, "id_project");
static USER: LazyLock<String> = select!(user_c, "id_user");
static ROLE: LazyLock<String> = select!(role_c, "id_role");
static SERVICE: LazyLock<String> = select!(service_c, "id_service");
static ENDPOINT: LazyLock<String> = select!(endpoint_c, "id_endpoint");
static TOKEN: LazyLock<String> = select!(token_c, "id_token");

fn domain(mut r: Row) -> Result<Domain, StorageFailure> {
    use domain_c as C;
    Ok(Domain {
        id: r.take_text(C::id)?,
        name: r.take_text(C::name)?,
        description: r.take_text(C::description)?,
        enabled: r.bool(C::enabled)?,
    })
}

fn project(mut r: Row) -> Result<Project, StorageFailure> {
    use project_c as C;
    Ok(Project {
        id: r.take_text(C::id)?,
        name: r.take_text(C::name)?,
        domain_id: r.take_text(C::domain_id)?,
        description: r.take_text(C::description)?,
        enabled: r.bool(C::enabled)?,
    })
}

fn user(mut r: Row) -> Result<User, StorageFailure> {
    use user_c as C;
    Ok(User {
        id: r.take_text(C::id)?,
        name: r.take_text(C::name)?,
        domain_id: r.take_text(C::domain_id)?,
        enabled: r.bool(C::enabled)?,
        password_hash: r.take_opt_text(C::password_hash)?,
        default_project_id: r.take_opt_text(C::default_project_id)?,
        failed_logins: u32::try_from(r.int(C::failed_logins)?).unwrap_or(u32::MAX),
        locked_until: r.opt_int(C::locked_until)?.map(Timestamp::from_micros),
        description: r.take_text(C::description)?,
        email: r.take_text(C::email)?,
        created_at: Timestamp::from_micros(r.int(C::created_at)?),
    })
}

fn role(mut r: Row) -> Result<Role, StorageFailure> {
    Ok(Role {
        id: r.take_text(role_c::id)?,
        name: r.take_text(role_c::name)?,
    })
}

fn service(mut r: Row) -> Result<Service, StorageFailure> {
    use service_c as C;
    Ok(Service {
        id: r.take_text(C::id)?,
        kind: r.take_text(C::service_type)?,
        name: r.take_text(C::name)?,
        description: r.take_text(C::description)?,
        enabled: r.bool(C::enabled)?,
    })
}

fn endpoint(mut r: Row) -> Result<Endpoint, StorageFailure> {
    use endpoint_c as C;
    let iface = r.take_text(C::interface)?;
    Ok(Endpoint {
        interface: Interface::parse(&iface).ok_or_else(|| {
            StorageFailure::decode(format!("stored interface '{iface}' is not valid"))
        })?,
        id: r.take_text(C::id)?,
        service_id: r.take_text(C::service_id)?,
        region: r.take_text(C::region)?,
        url: r.take_text(C::url)?,
        enabled: r.bool(C::enabled)?,
    })
}

fn target_of(kind: Option<&str>, id: Option<String>) -> Result<Option<Target>, StorageFailure> {
    match (kind, id) {
        (None, _) => Ok(None),
        (Some("project"), Some(id)) => Ok(Some(Target::Project(id))),
        (Some("domain"), Some(id)) => Ok(Some(Target::Domain(id))),
        (Some(k), _) => Err(StorageFailure::decode(format!(
            "stored target type '{k}' is not valid"
        ))),
    }
}

fn target_cols(t: &Target) -> (&'static str, &str) {
    match t {
        Target::Project(id) => ("project", id),
        Target::Domain(id) => ("domain", id),
    }
}

fn token(mut r: Row) -> Result<TokenRecord, StorageFailure> {
    use token_c as C;
    let id = r.take_opt_text(C::scope_id)?;
    Ok(TokenRecord {
        scope: target_of(r.opt_str(C::scope_type)?, id)?,
        hash: r.take_text(C::hash)?,
        user_id: r.take_text(C::user_id)?,
        issued_at: Timestamp::from_micros(r.int(C::issued_at)?),
        expires_at: Timestamp::from_micros(r.int(C::expires_at)?),
        audit_id: r.take_text(C::audit_id)?,
        revoked: r.bool(C::revoked)?,
    })
}

fn opt(s: &Option<String>) -> Value<'_> {
    match s {
        Some(v) => v.as_str().into(),
        None => Value::Null,
    }
}

impl IdentityStore<'_> {
    fn exec(&mut self, sql: &str, params: &[Value<'_>]) -> Result<u64, Error> {
        Ok(self.c.exec(sql, params)?)
    }
}

impl IdentityRepo for IdentityStore<'_> {
    fn domains(&mut self) -> Result<Vec<Domain>, Error> {
        starling_db::rows(self.c, &format!("{} ORDER BY name", *DOMAIN), &[], domain)
    }
    fn domain(&mut self, id: &str) -> Result<Option<Domain>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE id = ?", *DOMAIN),
            &[id.into()],
            domain,
        )
    }
    fn domain_by_name(&mut self, name: &str) -> Result<Option<Domain>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE name = ?", *DOMAIN),
            &[name.into()],
            domain,
        )
    }
    fn insert_domain(&mut self, d: &Domain) -> Result<(), Error> {
        self.exec(
            "INSERT INTO id_domain (id, name, description, enabled) VALUES (?, ?, ?, ?)",
            &[
                d.id.as_str().into(),
                d.name.as_str().into(),
                d.description.as_str().into(),
                d.enabled.into(),
            ],
        )?;
        Ok(())
    }
    fn update_domain(&mut self, d: &Domain) -> Result<(), Error> {
        self.exec(
            "UPDATE id_domain SET name = ?, description = ?, enabled = ? WHERE id = ?",
            &[
                d.name.as_str().into(),
                d.description.as_str().into(),
                d.enabled.into(),
                d.id.as_str().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_domain(&mut self, id: &str) -> Result<(), Error> {
        self.exec("DELETE FROM id_domain WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    fn projects(&mut self, domain_id: Option<&str>) -> Result<Vec<Project>, Error> {
        match domain_id {
            Some(d) => starling_db::rows(
                self.c,
                &format!("{} WHERE domain_id = ? ORDER BY name", *PROJECT),
                &[d.into()],
                project,
            ),
            None => starling_db::rows(
                self.c,
                &format!("{} ORDER BY name, id", *PROJECT),
                &[],
                project,
            ),
        }
    }
    fn project(&mut self, id: &str) -> Result<Option<Project>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE id = ?", *PROJECT),
            &[id.into()],
            project,
        )
    }
    fn project_by_name(&mut self, domain_id: &str, name: &str) -> Result<Option<Project>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE domain_id = ? AND name = ?", *PROJECT),
            &[domain_id.into(), name.into()],
            project,
        )
    }
    fn insert_project(&mut self, p: &Project) -> Result<(), Error> {
        self.exec(
            "INSERT INTO id_project (id, name, domain_id, description, enabled) VALUES (?, ?, ?, ?, ?)",
            &[
                p.id.as_str().into(),
                p.name.as_str().into(),
                p.domain_id.as_str().into(),
                p.description.as_str().into(),
                p.enabled.into(),
            ],
        )?;
        Ok(())
    }
    fn update_project(&mut self, p: &Project) -> Result<(), Error> {
        self.exec(
            "UPDATE id_project SET name = ?, description = ?, enabled = ? WHERE id = ?",
            &[
                p.name.as_str().into(),
                p.description.as_str().into(),
                p.enabled.into(),
                p.id.as_str().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_project(&mut self, id: &str) -> Result<(), Error> {
        self.exec(
            "DELETE FROM id_assignment WHERE target_type = 'project' AND target_id = ?",
            &[id.into()],
        )?;
        self.exec("DELETE FROM id_project WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    fn users(&mut self, domain_id: Option<&str>) -> Result<Vec<User>, Error> {
        match domain_id {
            Some(d) => starling_db::rows(
                self.c,
                &format!("{} WHERE domain_id = ? ORDER BY name", *USER),
                &[d.into()],
                user,
            ),
            None => starling_db::rows(self.c, &format!("{} ORDER BY name, id", *USER), &[], user),
        }
    }
    fn user(&mut self, id: &str) -> Result<Option<User>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE id = ?", *USER),
            &[id.into()],
            user,
        )
    }
    fn user_by_name(&mut self, domain_id: &str, name: &str) -> Result<Option<User>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE domain_id = ? AND name = ?", *USER),
            &[domain_id.into(), name.into()],
            user,
        )
    }
    fn insert_user(&mut self, u: &User) -> Result<(), Error> {
        self.exec(
            "INSERT INTO id_user (id, name, domain_id, enabled, password_hash, default_project_id, \
             failed_logins, locked_until, description, email, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                u.id.as_str().into(),
                u.name.as_str().into(),
                u.domain_id.as_str().into(),
                u.enabled.into(),
                opt(&u.password_hash),
                opt(&u.default_project_id),
                Value::Int(i64::from(u.failed_logins)),
                u.locked_until
                    .map_or(Value::Null, |t| Value::Int(t.micros())),
                u.description.as_str().into(),
                u.email.as_str().into(),
                Value::Int(u.created_at.micros()),
            ],
        )?;
        Ok(())
    }
    fn update_user(&mut self, u: &User) -> Result<(), Error> {
        self.exec(
            "UPDATE id_user SET name = ?, enabled = ?, password_hash = ?, default_project_id = ?, \
             failed_logins = ?, locked_until = ?, description = ?, email = ? WHERE id = ?",
            &[
                u.name.as_str().into(),
                u.enabled.into(),
                opt(&u.password_hash),
                opt(&u.default_project_id),
                Value::Int(i64::from(u.failed_logins)),
                u.locked_until
                    .map_or(Value::Null, |t| Value::Int(t.micros())),
                u.description.as_str().into(),
                u.email.as_str().into(),
                u.id.as_str().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_user(&mut self, id: &str) -> Result<(), Error> {
        self.exec("DELETE FROM id_assignment WHERE user_id = ?", &[id.into()])?;
        self.exec("DELETE FROM id_token WHERE user_id = ?", &[id.into()])?;
        self.exec("DELETE FROM id_user WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    fn roles(&mut self) -> Result<Vec<Role>, Error> {
        starling_db::rows(self.c, &format!("{} ORDER BY name", *ROLE), &[], role)
    }
    fn role(&mut self, id: &str) -> Result<Option<Role>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE id = ?", *ROLE),
            &[id.into()],
            role,
        )
    }
    fn role_by_name(&mut self, name: &str) -> Result<Option<Role>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE name = ?", *ROLE),
            &[name.into()],
            role,
        )
    }
    fn insert_role(&mut self, r: &Role) -> Result<(), Error> {
        self.exec(
            "INSERT INTO id_role (id, name) VALUES (?, ?)",
            &[r.id.as_str().into(), r.name.as_str().into()],
        )?;
        Ok(())
    }
    fn delete_role(&mut self, id: &str) -> Result<(), Error> {
        self.exec("DELETE FROM id_assignment WHERE role_id = ?", &[id.into()])?;
        self.exec("DELETE FROM id_role WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    fn assignments(
        &mut self,
        user_id: Option<&str>,
        target: Option<&Target>,
        role_id: Option<&str>,
    ) -> Result<Vec<Assignment>, Error> {
        let mut sql = format!(
            "SELECT {} FROM id_assignment a WHERE 1 = 1",
            assignment_c::LIST
        );
        let mut params: Vec<Value<'_>> = Vec::new();
        if let Some(u) = user_id {
            sql.push_str(" AND user_id = ?");
            params.push(u.into());
        }
        if let Some(t) = target {
            let (k, id) = target_cols(t);
            sql.push_str(" AND target_type = ? AND target_id = ?");
            params.push(k.into());
            params.push(id.into());
        }
        if let Some(r) = role_id {
            sql.push_str(" AND role_id = ?");
            params.push(r.into());
        }
        sql.push_str(" ORDER BY user_id, target_type, target_id, role_id");
        starling_db::rows(self.c, &sql, &params, |mut r| {
            use assignment_c as C;
            let id = r.take_opt_text(C::target_id)?;
            let target = target_of(r.opt_str(C::target_type)?, id)?
                .ok_or_else(|| StorageFailure::decode("assignment without a target"))?;
            Ok(Assignment {
                user_id: r.take_text(C::user_id)?,
                target,
                role_id: r.take_text(C::role_id)?,
            })
        })
    }
    fn roles_on(&mut self, user_id: &str, target: &Target) -> Result<Vec<Role>, Error> {
        let (k, id) = target_cols(target);
        starling_db::rows(
            self.c,
            &format!(
                "SELECT {} FROM id_assignment a JOIN id_role r ON r.id = a.role_id \
                 WHERE a.user_id = ? AND a.target_type = ? AND a.target_id = ? ORDER BY r.name",
                role_c::LIST
            ),
            &[user_id.into(), k.into(), id.into()],
            role,
        )
    }
    fn grant(&mut self, a: &Assignment) -> Result<(), Error> {
        let (k, id) = target_cols(&a.target);
        let exists = !self
            .c
            .query(
                "SELECT 1 FROM id_assignment WHERE user_id = ? AND target_type = ? AND target_id = ? AND role_id = ?",
                &[a.user_id.as_str().into(), k.into(), id.into(), a.role_id.as_str().into()],
            )?
            .is_empty();
        if !exists {
            self.exec(
                "INSERT INTO id_assignment (user_id, target_type, target_id, role_id) VALUES (?, ?, ?, ?)",
                &[a.user_id.as_str().into(), k.into(), id.into(), a.role_id.as_str().into()],
            )?;
        }
        Ok(())
    }
    fn ungrant(&mut self, a: &Assignment) -> Result<bool, Error> {
        let (k, id) = target_cols(&a.target);
        Ok(self.exec(
            "DELETE FROM id_assignment WHERE user_id = ? AND target_type = ? AND target_id = ? AND role_id = ?",
            &[a.user_id.as_str().into(), k.into(), id.into(), a.role_id.as_str().into()],
        )? > 0)
    }

    fn services(&mut self) -> Result<Vec<Service>, Error> {
        starling_db::rows(
            self.c,
            &format!("{} ORDER BY service_type, name, id", *SERVICE),
            &[],
            service,
        )
    }
    fn service(&mut self, id: &str) -> Result<Option<Service>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE id = ?", *SERVICE),
            &[id.into()],
            service,
        )
    }
    fn insert_service(&mut self, s: &Service) -> Result<(), Error> {
        self.exec(
            "INSERT INTO id_service (id, service_type, name, description, enabled) VALUES (?, ?, ?, ?, ?)",
            &[
                s.id.as_str().into(),
                s.kind.as_str().into(),
                s.name.as_str().into(),
                s.description.as_str().into(),
                s.enabled.into(),
            ],
        )?;
        Ok(())
    }
    fn update_service(&mut self, s: &Service) -> Result<(), Error> {
        self.exec(
            "UPDATE id_service SET service_type = ?, name = ?, description = ?, enabled = ? WHERE id = ?",
            &[
                s.kind.as_str().into(),
                s.name.as_str().into(),
                s.description.as_str().into(),
                s.enabled.into(),
                s.id.as_str().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_service(&mut self, id: &str) -> Result<(), Error> {
        self.exec("DELETE FROM id_endpoint WHERE service_id = ?", &[id.into()])?;
        self.exec("DELETE FROM id_service WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    fn endpoints(&mut self) -> Result<Vec<Endpoint>, Error> {
        starling_db::rows(
            self.c,
            &format!("{} ORDER BY service_id, region, interface, id", *ENDPOINT),
            &[],
            endpoint,
        )
    }
    fn endpoint(&mut self, id: &str) -> Result<Option<Endpoint>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE id = ?", *ENDPOINT),
            &[id.into()],
            endpoint,
        )
    }
    fn insert_endpoint(&mut self, e: &Endpoint) -> Result<(), Error> {
        self.exec(
            "INSERT INTO id_endpoint (id, service_id, interface, region, url, enabled) VALUES (?, ?, ?, ?, ?, ?)",
            &[
                e.id.as_str().into(),
                e.service_id.as_str().into(),
                e.interface.as_str().into(),
                e.region.as_str().into(),
                e.url.as_str().into(),
                e.enabled.into(),
            ],
        )?;
        Ok(())
    }
    fn update_endpoint(&mut self, e: &Endpoint) -> Result<(), Error> {
        self.exec(
            "UPDATE id_endpoint SET service_id = ?, interface = ?, region = ?, url = ?, enabled = ? WHERE id = ?",
            &[
                e.service_id.as_str().into(),
                e.interface.as_str().into(),
                e.region.as_str().into(),
                e.url.as_str().into(),
                e.enabled.into(),
                e.id.as_str().into(),
            ],
        )?;
        Ok(())
    }
    fn delete_endpoint(&mut self, id: &str) -> Result<(), Error> {
        self.exec("DELETE FROM id_endpoint WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    fn insert_token(&mut self, t: &TokenRecord) -> Result<(), Error> {
        let (kind, id) = match &t.scope {
            Some(s) => {
                let (k, id) = target_cols(s);
                (Value::from(k), Value::from(id))
            }
            None => (Value::Null, Value::Null),
        };
        self.exec(
            "INSERT INTO id_token (hash, user_id, scope_type, scope_id, issued_at, expires_at, audit_id, revoked) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                t.hash.as_str().into(),
                t.user_id.as_str().into(),
                kind,
                id,
                Value::Int(t.issued_at.micros()),
                Value::Int(t.expires_at.micros()),
                t.audit_id.as_str().into(),
                t.revoked.into(),
            ],
        )?;
        Ok(())
    }
    fn token(&mut self, hash: &str) -> Result<Option<TokenRecord>, Error> {
        starling_db::first(
            self.c,
            &format!("{} WHERE hash = ?", *TOKEN),
            &[hash.into()],
            token,
        )
    }
    fn revoke_token(&mut self, hash: &str) -> Result<bool, Error> {
        Ok(self.exec(
            "UPDATE id_token SET revoked = ? WHERE hash = ?",
            &[true.into(), hash.into()],
        )? > 0)
    }
    fn revoke_user_tokens(&mut self, user_id: &str) -> Result<u64, Error> {
        self.exec(
            "UPDATE id_token SET revoked = ? WHERE user_id = ? AND revoked = ?",
            &[true.into(), user_id.into(), false.into()],
        )
    }
    fn purge_tokens(&mut self, t: Timestamp) -> Result<u64, Error> {
        self.exec(
            "DELETE FROM id_token WHERE expires_at < ?",
            &[Value::Int(t.micros())],
        )
    }
}
