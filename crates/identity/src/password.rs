//! Password rules and argon2id hashing.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::Error;

/// What a new password must satisfy. The defaults are StarlingX's: at least
/// seven characters with an upper-case letter, a lower-case letter, a digit and
/// a special character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordRules {
    /// Fewest characters.
    pub min_length: usize,
    /// Needs an upper-case letter.
    pub upper: bool,
    /// Needs a lower-case letter.
    pub lower: bool,
    /// Needs a digit.
    pub digit: bool,
    /// Needs a character that is none of the above.
    pub special: bool,
}

impl Default for PasswordRules {
    fn default() -> Self {
        PasswordRules {
            min_length: 7,
            upper: true,
            lower: true,
            digit: true,
            special: true,
        }
    }
}

/// Longest accepted password (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 4096;

impl PasswordRules {
    /// Checks `pw`, naming every rule it breaks.
    pub fn check(&self, pw: &str) -> Result<(), Error> {
        let mut missing = Vec::new();
        if pw.chars().count() < self.min_length {
            missing.push(format!("at least {} characters", self.min_length));
        }
        if pw.len() > MAX_PASSWORD_BYTES {
            missing.push(format!("at most {MAX_PASSWORD_BYTES} bytes"));
        }
        if self.upper && !pw.chars().any(char::is_uppercase) {
            missing.push("an upper-case letter".into());
        }
        if self.lower && !pw.chars().any(char::is_lowercase) {
            missing.push("a lower-case letter".into());
        }
        if self.digit && !pw.chars().any(|c| c.is_ascii_digit()) {
            missing.push("a digit".into());
        }
        if self.special
            && !pw
                .chars()
                .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
        {
            missing.push("a special character".into());
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "The password does not meet the password requirements: it needs {}",
                missing.join(", ")
            )))
        }
    }
}

fn hasher() -> Result<Argon2<'static>, Error> {
    // OWASP's argon2id baseline: 19 MiB, two passes, one lane.
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::invalid(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `pw` with argon2id and a random salt; returns the PHC string.
pub fn hash(pw: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| {
        Error::Storage(starling_common::StorageFailure::fatal(format!(
            "no randomness: {e}"
        )))
    })?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::invalid(e.to_string()))?;
    Ok(hasher()?
        .hash_password(pw.as_bytes(), &salt)
        .map_err(|e| Error::invalid(format!("cannot hash the password: {e}")))?
        .to_string())
}

/// True when `pw` matches the PHC string `phc` (any argon2 variant; the
/// parameters come from the string). A malformed hash never matches.
pub fn verify(phc: &str, pw: &str) -> bool {
    if pw.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match (PasswordHash::new(phc), hasher()) {
        (Ok(h), Ok(a)) => a.verify_password(pw.as_bytes(), &h).is_ok(),
        _ => false,
    }
}

/// Takes as long as a [`verify`] against a real hash and always fails, so a
/// login naming an unknown, disabled or locked-out user takes as long as one
/// with a wrong password (nothing to learn from timing).
pub fn verify_nothing(pw: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(h) = DUMMY.get_or_init(|| hash("Not-a-real-passw0rd").ok()) {
        let _ = verify(h, pw);
    }
}

/// A password that satisfies the default rules, for bootstrap when none is
/// configured: 20 random characters with every class present.
pub fn generate() -> Result<String, Error> {
    const SETS: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"!#%+-.=@^_",
    ];
    let mut r = [0u8; 20];
    getrandom::fill(&mut r).map_err(|e| {
        Error::Storage(starling_common::StorageFailure::fatal(format!(
            "no randomness: {e}"
        )))
    })?;
    let mut out = String::with_capacity(20);
    for (i, b) in r.iter().enumerate() {
        // The first four characters cover every class; the rest draw from all.
        let set = SETS[if i < 4 { i } else { usize::from(*b) % 4 }];
        out.push(char::from(set[usize::from(*b) % set.len()]));
    }
    Ok(out)
}

/// When repeated failures lock a user out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lockout {
    /// Consecutive failures that lock the user; 0 turns lockout off.
    pub max_failures: u32,
    /// How long the lock lasts, in seconds.
    pub duration_secs: i64,
}

impl Default for Lockout {
    /// StarlingX's: five failures lock the user for 30 minutes.
    fn default() -> Self {
        Lockout {
            max_failures: 5,
            duration_secs: 1800,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_what_is_missing() {
        let r = PasswordRules::default();
        assert!(r.check("Passw0rd!").is_ok());
        let e = r.check("short").unwrap_err().to_string();
        assert!(e.contains("at least 7 characters"), "{e}");
        assert!(e.contains("upper-case"), "{e}");
        assert!(e.contains("digit"), "{e}");
        assert!(e.contains("special"), "{e}");
        assert!(!e.contains("lower-case"), "{e}");
    }

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash("Secr3t!pw").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, "Secr3t!pw"));
        assert!(!verify(&h, "Secr3t!pW"));
        assert!(!verify("not a hash", "Secr3t!pw"));
        assert_ne!(h, hash("Secr3t!pw").unwrap(), "salted");
    }

    #[test]
    fn generated_passwords_pass_the_default_rules() {
        for _ in 0..50 {
            let p = generate().unwrap();
            PasswordRules::default().check(&p).unwrap();
            assert_eq!(p.len(), 20);
        }
    }
}
