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

/// True when a caller with `roles`, scoped to `project` (by name), passes
/// `rule`.
pub fn allows(rule: Rule, roles: &[String], project: Option<&str>) -> bool {
    let has = |r: &str| roles.iter().any(|x| x == r);
    let admin_project = matches!(project, Some("admin" | "services"));
    match rule {
        // Keystone's implied roles: admin ⊃ member ⊃ reader.
        Rule::Reader => ["reader", "operator", "configurator", "member", "admin"]
            .iter()
            .any(|r| has(r)),
        Rule::AdminOrConfigurator => (has("admin") || has("configurator")) && admin_project,
        Rule::IdentityAdmin => has("admin") && project == Some("admin"),
        Rule::AnyToken => true,
    }
}

/// May this caller validate or revoke tokens other than its own? Admins of
/// the admin or services project (StarlingX's service users) and holders of
/// Keystone's `service` role.
pub fn may_act_on_any_token(roles: &[String], project: Option<&str>) -> bool {
    let has = |r: &str| roles.iter().any(|x| x == r);
    has("service") || (has("admin") && matches!(project, Some("admin" | "services")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn starlingx_rules() {
        assert_eq!(rule_for("fm_api:alarm:get"), Rule::Reader);
        assert_eq!(rule_for("fm_api:alarm:create"), Rule::AdminOrConfigurator);
        assert_eq!(rule_for("something:new"), Rule::AdminOrConfigurator);
        let reader = v(&["reader"]);
        assert!(allows(Rule::Reader, &reader, Some("demo")));
        assert!(!allows(Rule::AdminOrConfigurator, &reader, Some("admin")));
        let conf = v(&["configurator"]);
        assert!(allows(Rule::AdminOrConfigurator, &conf, Some("services")));
        assert!(!allows(Rule::AdminOrConfigurator, &conf, Some("demo")));
        let admin = v(&["admin"]);
        assert!(allows(Rule::AdminOrConfigurator, &admin, Some("admin")));
        assert!(allows(Rule::Reader, &admin, None));
        assert!(!allows(Rule::IdentityAdmin, &admin, Some("services")));
        assert!(!allows(Rule::Reader, &[], Some("admin")));
        assert_eq!(rule_for("identity:validate_token"), Rule::AnyToken);
        assert_eq!(rule_for("identity:list_users"), Rule::IdentityAdmin);
        assert!(may_act_on_any_token(&admin, Some("services")));
        assert!(!may_act_on_any_token(&reader, Some("admin")));
    }
}
