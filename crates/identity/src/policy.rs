//! StarlingX's policy rules (oslo.policy), evaluated on a caller's roles and
//! project.

/// A rule a policy name maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `reader_or_operator_or_configurator`: role reader, operator,
    /// configurator, or (as the roles imply) admin or member.
    Reader,
    /// `admin_or_configurator`: role admin or configurator, in project admin
    /// or services.
    AdminOrConfigurator,
    /// `admin_required` on the identity API: role admin in project admin.
    IdentityAdmin,
    /// Any valid token; the handler then decides (a token may always validate
    /// or revoke itself; an admin or service may act on any token).
    AnyToken,
}

/// Identity policies any valid token passes (the handler checks the subject).
pub const SELF_SERVICE: [&str; 5] = [
    "identity:validate_token",
    "identity:check_token",
    "identity:revoke_token",
    "identity:get_auth_catalog",
    "identity:get_auth_projects",
];

/// The rule behind a policy name. Names ending in `:get` (and identity's
/// `:list`/`:get`) read; every other name changes something and needs
/// `admin_or_configurator`, so a route with an unknown name is never more open
/// than a write.
pub fn rule_for(policy: &str) -> Rule {
    if SELF_SERVICE.contains(&policy) {
        return Rule::AnyToken;
    }
    if policy.starts_with("identity:") {
        return Rule::IdentityAdmin;
    }
    if policy.ends_with(":get") || policy.ends_with(":list") {
        Rule::Reader
    } else {
        Rule::AdminOrConfigurator
    }
}

/// The project a token is scoped to: its name and its domain's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectScope<'a> {
    pub name: &'a str,
    pub domain_id: &'a str,
}

impl ProjectScope<'_> {
    /// The bootstrap's project `name` in the Default domain (a project of
    /// that name in another domain is not it).
    fn is(&self, name: &str) -> bool {
        self.name == name && self.domain_id == crate::DEFAULT_DOMAIN_ID
    }

    /// The bootstrap's admin or services project.
    fn is_admin_or_services(&self) -> bool {
        self.is("admin") || self.is("services")
    }
}

/// True when a caller with `roles`, scoped to `project`, passes `rule`.
pub fn allows(rule: Rule, roles: &[String], project: Option<ProjectScope<'_>>) -> bool {
    let has = |r: &str| roles.iter().any(|x| x == r);
    let admin_project = project.is_some_and(|p| p.is_admin_or_services());
    match rule {
        // Keystone's implied roles: admin ⊃ member ⊃ reader.
        Rule::Reader => ["reader", "operator", "configurator", "member", "admin"]
            .iter()
            .any(|r| has(r)),
        Rule::AdminOrConfigurator => (has("admin") || has("configurator")) && admin_project,
        Rule::IdentityAdmin => has("admin") && project.is_some_and(|p| p.is("admin")),
        Rule::AnyToken => true,
    }
}

/// May this caller validate or revoke tokens other than its own? Admins of
/// the admin or services project (StarlingX's service users) and holders of
/// Keystone's `service` role.
pub fn may_act_on_any_token(roles: &[String], project: Option<ProjectScope<'_>>) -> bool {
    let has = |r: &str| roles.iter().any(|x| x == r);
    has("service") || (has("admin") && project.is_some_and(|p| p.is_admin_or_services()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    /// A project of the Default domain.
    fn d(name: &str) -> Option<ProjectScope<'_>> {
        Some(ProjectScope {
            name,
            domain_id: crate::DEFAULT_DOMAIN_ID,
        })
    }

    #[test]
    fn starlingx_rules() {
        assert_eq!(rule_for("fm_api:alarm:get"), Rule::Reader);
        assert_eq!(rule_for("fm_api:alarm:create"), Rule::AdminOrConfigurator);
        assert_eq!(rule_for("something:new"), Rule::AdminOrConfigurator);
        let reader = v(&["reader"]);
        assert!(allows(Rule::Reader, &reader, d("demo")));
        assert!(!allows(Rule::AdminOrConfigurator, &reader, d("admin")));
        let conf = v(&["configurator"]);
        assert!(allows(Rule::AdminOrConfigurator, &conf, d("services")));
        assert!(!allows(Rule::AdminOrConfigurator, &conf, d("demo")));
        let admin = v(&["admin"]);
        assert!(allows(Rule::AdminOrConfigurator, &admin, d("admin")));
        assert!(allows(Rule::Reader, &admin, None));
        assert!(!allows(Rule::IdentityAdmin, &admin, d("services")));
        assert!(!allows(Rule::Reader, &[], d("admin")));
        assert_eq!(rule_for("identity:validate_token"), Rule::AnyToken);
        assert_eq!(rule_for("identity:list_users"), Rule::IdentityAdmin);
        assert!(may_act_on_any_token(&admin, d("services")));
        assert!(!may_act_on_any_token(&reader, d("admin")));
        // A project named admin or services in another domain is not the
        // bootstrap's: it grants nothing of theirs.
        let elsewhere = |name| {
            Some(ProjectScope {
                name,
                domain_id: "d-other",
            })
        };
        assert!(!allows(
            Rule::AdminOrConfigurator,
            &admin,
            elsewhere("admin")
        ));
        assert!(!allows(
            Rule::AdminOrConfigurator,
            &conf,
            elsewhere("services")
        ));
        assert!(!allows(Rule::IdentityAdmin, &admin, elsewhere("admin")));
        assert!(!may_act_on_any_token(&admin, elsewhere("services")));
        assert!(allows(Rule::Reader, &admin, elsewhere("admin")));
    }
}
