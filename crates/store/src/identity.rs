//! [`IdentityRepo`] in SQL, for every backend.

use starling_common::Timestamp;
use starling_identity::repo::IdentityRepo;
use starling_identity::{
    Assignment, Domain, Endpoint, Error, Interface, Project, Role, Service, Target, TokenRecord,
    User,
};

use crate::{Conn, Row, StoreError, Value};

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

const DOMAIN: &str = "SELECT id, name, description, enabled FROM id_domain";
const PROJECT: &str = "SELECT id, name, domain_id, description, enabled FROM id_project";
const USER: &str = "SELECT id, name, domain_id, enabled, password_hash, default_project_id, \
     failed_logins, locked_until, description, email, created_at FROM id_user";
const ROLE: &str = "SELECT id, name FROM id_role";
const SERVICE: &str = "SELECT id, service_type, name, description, enabled FROM id_service";
const ENDPOINT: &str = "SELECT id, service_id, interface, region, url, enabled FROM id_endpoint";
const TOKEN: &str = "SELECT hash, user_id, scope_type, scope_id, issued_at, expires_at, audit_id, \
     revoked FROM id_token";

fn domain(mut r: Row) -> Result<Domain, StoreError> {
    Ok(Domain {
        id: r.take_text(0)?,
        name: r.take_text(1)?,
        description: r.take_text(2)?,
        enabled: r.bool(3)?,
    })
}

fn project(mut r: Row) -> Result<Project, StoreError> {
    Ok(Project {
        id: r.take_text(0)?,
        name: r.take_text(1)?,
        domain_id: r.take_text(2)?,
        description: r.take_text(3)?,
        enabled: r.bool(4)?,
    })
}

fn user(mut r: Row) -> Result<User, StoreError> {
    let password_hash = r.opt_text(4)?;
    let default_project_id = r.opt_text(5)?;
    Ok(User {
        id: r.take_text(0)?,
        name: r.take_text(1)?,
        domain_id: r.take_text(2)?,
        enabled: r.bool(3)?,
        password_hash,
        default_project_id,
        failed_logins: u32::try_from(r.int(6)?).unwrap_or(u32::MAX),
        locked_until: r.opt_int(7)?.map(Timestamp::from_micros),
        description: r.take_text(8)?,
        email: r.take_text(9)?,
        created_at: Timestamp::from_micros(r.int(10)?),
    })
}

fn role(mut r: Row) -> Result<Role, StoreError> {
    Ok(Role {
        id: r.take_text(0)?,
        name: r.take_text(1)?,
    })
}

fn service(mut r: Row) -> Result<Service, StoreError> {
    Ok(Service {
        id: r.take_text(0)?,
        kind: r.take_text(1)?,
        name: r.take_text(2)?,
        description: r.take_text(3)?,
        enabled: r.bool(4)?,
    })
}

fn endpoint(mut r: Row) -> Result<Endpoint, StoreError> {
    let iface = r.take_text(2)?;
    Ok(Endpoint {
        id: r.take_text(0)?,
        service_id: r.take_text(1)?,
        interface: Interface::parse(&iface).ok_or_else(|| {
            StoreError::decode(format!("stored interface '{iface}' is not valid"))
        })?,
        region: r.take_text(3)?,
        url: r.take_text(4)?,
        enabled: r.bool(5)?,
    })
}

fn target_of(kind: Option<&str>, id: Option<String>) -> Result<Option<Target>, StoreError> {
    match (kind, id) {
        (None, _) => Ok(None),
        (Some("project"), Some(id)) => Ok(Some(Target::Project(id))),
        (Some("domain"), Some(id)) => Ok(Some(Target::Domain(id))),
        (Some(k), _) => Err(StoreError::decode(format!(
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

fn token(mut r: Row) -> Result<TokenRecord, StoreError> {
    let id = r.opt_text(3)?;
    let scope = target_of(r.opt_str(2)?, id)?;
    Ok(TokenRecord {
        hash: r.take_text(0)?,
        user_id: r.take_text(1)?,
        scope,
        issued_at: Timestamp::from_micros(r.int(4)?),
        expires_at: Timestamp::from_micros(r.int(5)?),
        audit_id: r.take_text(6)?,
        revoked: r.bool(7)?,
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
        crate::rows(self.c, &format!("{DOMAIN} ORDER BY name"), &[], domain)
    }
    fn domain(&mut self, id: &str) -> Result<Option<Domain>, Error> {
        crate::first(
            self.c,
            &format!("{DOMAIN} WHERE id = ?"),
            &[id.into()],
            domain,
        )
    }
    fn domain_by_name(&mut self, name: &str) -> Result<Option<Domain>, Error> {
        crate::first(
            self.c,
            &format!("{DOMAIN} WHERE name = ?"),
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
            Some(d) => crate::rows(
                self.c,
                &format!("{PROJECT} WHERE domain_id = ? ORDER BY name"),
                &[d.into()],
                project,
            ),
            None => crate::rows(
                self.c,
                &format!("{PROJECT} ORDER BY name, id"),
                &[],
                project,
            ),
        }
    }
    fn project(&mut self, id: &str) -> Result<Option<Project>, Error> {
        crate::first(
            self.c,
            &format!("{PROJECT} WHERE id = ?"),
            &[id.into()],
            project,
        )
    }
    fn project_by_name(&mut self, domain_id: &str, name: &str) -> Result<Option<Project>, Error> {
        crate::first(
            self.c,
            &format!("{PROJECT} WHERE domain_id = ? AND name = ?"),
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
            Some(d) => crate::rows(
                self.c,
                &format!("{USER} WHERE domain_id = ? ORDER BY name"),
                &[d.into()],
                user,
            ),
            None => crate::rows(self.c, &format!("{USER} ORDER BY name, id"), &[], user),
        }
    }
    fn user(&mut self, id: &str) -> Result<Option<User>, Error> {
        crate::first(self.c, &format!("{USER} WHERE id = ?"), &[id.into()], user)
    }
    fn user_by_name(&mut self, domain_id: &str, name: &str) -> Result<Option<User>, Error> {
        crate::first(
            self.c,
            &format!("{USER} WHERE domain_id = ? AND name = ?"),
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
        crate::rows(self.c, &format!("{ROLE} ORDER BY name"), &[], role)
    }
    fn role(&mut self, id: &str) -> Result<Option<Role>, Error> {
        crate::first(self.c, &format!("{ROLE} WHERE id = ?"), &[id.into()], role)
    }
    fn role_by_name(&mut self, name: &str) -> Result<Option<Role>, Error> {
        crate::first(
            self.c,
            &format!("{ROLE} WHERE name = ?"),
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
        let mut sql = String::from(
            "SELECT user_id, target_type, target_id, role_id FROM id_assignment WHERE 1 = 1",
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
        crate::rows(self.c, &sql, &params, |mut r| {
            let id = r.opt_text(2)?;
            let target = target_of(r.opt_str(1)?, id)?
                .ok_or_else(|| StoreError::decode("assignment without a target"))?;
            Ok(Assignment {
                user_id: r.take_text(0)?,
                target,
                role_id: r.take_text(3)?,
            })
        })
    }
    fn roles_on(&mut self, user_id: &str, target: &Target) -> Result<Vec<Role>, Error> {
        let (k, id) = target_cols(target);
        crate::rows(
            self.c,
            "SELECT r.id, r.name FROM id_assignment a JOIN id_role r ON r.id = a.role_id \
             WHERE a.user_id = ? AND a.target_type = ? AND a.target_id = ? ORDER BY r.name",
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
        crate::rows(
            self.c,
            &format!("{SERVICE} ORDER BY service_type, name, id"),
            &[],
            service,
        )
    }
    fn service(&mut self, id: &str) -> Result<Option<Service>, Error> {
        crate::first(
            self.c,
            &format!("{SERVICE} WHERE id = ?"),
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
        crate::rows(
            self.c,
            &format!("{ENDPOINT} ORDER BY service_id, region, interface, id"),
            &[],
            endpoint,
        )
    }
    fn endpoint(&mut self, id: &str) -> Result<Option<Endpoint>, Error> {
        crate::first(
            self.c,
            &format!("{ENDPOINT} WHERE id = ?"),
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
        crate::first(
            self.c,
            &format!("{TOKEN} WHERE hash = ?"),
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
