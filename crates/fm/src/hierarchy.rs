//! Boundary-aware entity hierarchy: `host=controller-0` contains
//! `host=controller-0.port=eth0` but never `host=controller-01`.

/// True when `eid` is `prefix` itself or lies under it at a `.` boundary.
pub fn within(eid: &str, prefix: &str) -> bool {
    match eid.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest.starts_with('.'),
        None => false,
    }
}

/// `eid` and every boundary prefix of it, shortest first:
/// `a=1.b=2` → [`a=1`, `a=1.b=2`].
pub fn ancestors_or_self(eid: &str) -> Vec<String> {
    let mut out: Vec<String> = eid
        .match_indices('.')
        .map(|(i, _)| eid[..i].to_string())
        .filter(|p| !p.is_empty())
        .collect();
    out.push(eid.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_is_respected() {
        assert!(within("host=controller-0", "host=controller-0"));
        assert!(within("host=controller-0.port=eth0", "host=controller-0"));
        assert!(!within("host=controller-01", "host=controller-0"));
        assert!(!within("host=controller-01.port=eth0", "host=controller-0"));
        assert!(!within("host=controller", "host=controller-0"));
    }

    #[test]
    fn ancestors() {
        assert_eq!(
            ancestors_or_self("system=s.host=h.port=p"),
            vec!["system=s", "system=s.host=h", "system=s.host=h.port=p"]
        );
        assert_eq!(ancestors_or_self("host=h"), vec!["host=h"]);
    }
}
