//! What a Starling service is to the daemon that runs it. Each service's API
//! crate has one value implementing [`Service`] (`pub static SERVICE`), and
//! `starlingd` holds one list of them: the schemas it migrates, the catalog
//! the identity bootstrap writes and the service accounts it creates all come
//! from that list, so a service is added in one place.
//!
//! (Starting a service — its routes, background tasks and options — still
//! happens in `starlingd`; it moves behind this trait next.)

use starling_db::Schema;

/// A service's entry in the identity catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The service type clients look it up by (e.g. `faultmanagement`).
    pub service_type: &'static str,
    /// Its name in the catalog (e.g. `fm`).
    pub name: &'static str,
    /// Its description in the catalog.
    pub description: &'static str,
    /// Appended to the listener's base URL to make the endpoint (StarlingX's
    /// `system` client wants the platform endpoint to end in `/v1`).
    pub path: &'static str,
}

/// A service `starlingd` can run.
pub trait Service: Sync {
    /// Its name, as `starlingd` calls it (`fm`, `inventory`, …).
    fn name(&self) -> &'static str;
    /// Its catalog entry, if clients find it through the catalog.
    fn catalog(&self) -> Option<CatalogEntry>;
    /// Its schema, if it keeps anything in the database.
    fn schema(&self) -> Option<Schema>;
    /// The password-less account it calls other services as, if it does.
    fn service_account(&self) -> Option<&'static str>;
}

/// The schemas of `services`, in the list's order.
pub fn schemas(services: &[&dyn Service]) -> Vec<Schema> {
    services.iter().filter_map(|s| s.schema()).collect()
}

/// The service accounts of `services`, in the list's order.
pub fn service_accounts(services: &[&dyn Service]) -> Vec<&'static str> {
    services
        .iter()
        .filter_map(|s| s.service_account())
        .collect()
}

/// Checks a list of services: names, catalog types and catalog names each
/// appear once, and schema components are distinct. `starlingd` runs it in a
/// unit test over its list.
pub fn check(services: &[&dyn Service]) -> Result<(), String> {
    fn once<'a>(what: &str, items: impl Iterator<Item = &'a str>) -> Result<(), String> {
        let mut seen: Vec<&str> = Vec::new();
        for i in items {
            if seen.contains(&i) {
                return Err(format!("{what} '{i}' appears twice"));
            }
            seen.push(i);
        }
        Ok(())
    }
    once("service name", services.iter().map(|s| s.name()))?;
    let entries: Vec<CatalogEntry> = services.iter().filter_map(|s| s.catalog()).collect();
    once("catalog type", entries.iter().map(|e| e.service_type))?;
    once("catalog name", entries.iter().map(|e| e.name))?;
    let schemas = schemas(services);
    once("schema component", schemas.iter().map(|s| s.component))?;
    for s in &schemas {
        s.check()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(&'static str, &'static str);
    impl Service for Fake {
        fn name(&self) -> &'static str {
            self.0
        }
        fn catalog(&self) -> Option<CatalogEntry> {
            Some(CatalogEntry {
                service_type: self.1,
                name: self.0,
                description: "",
                path: "",
            })
        }
        fn schema(&self) -> Option<Schema> {
            None
        }
        fn service_account(&self) -> Option<&'static str> {
            (self.0 == "b").then_some("acct")
        }
    }

    #[test]
    fn a_list_is_checked_for_twice_used_names_and_types() {
        let (a, b, b2, c) = (
            Fake("a", "ta"),
            Fake("b", "tb"),
            Fake("b", "tx"),
            Fake("c", "ta"),
        );
        assert_eq!(check(&[&a, &b]), Ok(()));
        assert!(
            check(&[&a, &b, &b2])
                .unwrap_err()
                .contains("service name 'b'")
        );
        assert!(check(&[&a, &c]).unwrap_err().contains("catalog type 'ta'"));
        assert_eq!(service_accounts(&[&a, &b]), vec!["acct"]);
        assert!(schemas(&[&a, &b]).is_empty());
    }
}
