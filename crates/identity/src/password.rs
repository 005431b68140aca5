//! Password rules and argon2id hashing.

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// OWASP's argon2id baseline: 19 MiB, two passes, one lane.
fn params() -> Result<Params, Error> {
    Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::invalid(format!("argon2 parameters: {e}")))
}

/// glibc's ceiling on its dynamic mmap threshold (32 MiB on 64-bit targets).
const MMAP_THRESHOLD_MAX: usize = 32 * 1024 * 1024;

/// The working memory of one hash. glibc serves a large allocation from a fresh
/// mapping and unmaps it on free, but then raises its mmap threshold to that size
/// (up to 32 MiB): argon2's own 19 MiB allocation was mapped once and, from the
/// second hash on, came from the heap and stayed resident for the life of the
/// process (+19.7 MB RSS after one login). Reserving above the ceiling keeps every
/// hash in a mapping of its own that is returned on drop; only the blocks the hash
/// uses are ever touched, so the rest is address space, not memory.
fn working_memory(blocks: usize) -> Vec<Block> {
    let mut v = Vec::with_capacity(blocks.max(MMAP_THRESHOLD_MAX / Block::SIZE + 1));
    v.resize(blocks, Block::default());
    v
}

/// Argon2's output for `pw` and `salt`, computed over [`working_memory`].
fn compute(argon: &Argon2<'_>, pw: &[u8], salt: Salt<'_>) -> password_hash::Result<Output> {
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let p = argon.params();
    let len = p.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut memory = working_memory(p.block_count());
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(pw, salt_bytes, out, &mut memory)
            .map_err(password_hash::Error::from)
    })
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
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params()?);
    let failed = |e: password_hash::Error| Error::invalid(format!("cannot hash the password: {e}"));
    let record = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(compute(&argon, pw.as_bytes(), salt.as_salt()).map_err(failed)?),
    };
    Ok(record.to_string())
}

/// True when `pw` matches the PHC string `phc` (any argon2 variant; the
/// parameters come from the string). A malformed hash never matches.
pub fn verify(phc: &str, pw: &str) -> bool {
    if pw.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(h.algorithm),
        Version::try_from(h.version.unwrap_or(0x13)),
        Params::try_from(&h),
        h.salt,
        &h.hash,
    ) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    // `Output`'s equality is constant-time.
    compute(&argon, pw.as_bytes(), salt).is_ok_and(|c| c == *expected)
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
    fn records_agree_with_the_argon2_crates_own_hasher() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Stored before the working memory was ours: argon2's own record verifies.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap())
            .hash_password(b"Secr3t!pw", &salt)
            .unwrap()
            .to_string();
        assert!(verify(&theirs, "Secr3t!pw"));
        assert!(!verify(&theirs, "Secr3t!pw."));
        // And ours verifies with the crate's verifier.
        let ours = hash("Secr3t!pw").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Secr3t!pw", &parsed)
                .is_ok()
        );
        // Other argon2 variants and parameters are read from the record.
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"Secr3t!pw", &salt)
        .unwrap()
        .to_string();
        assert!(verify(&argon2i, "Secr3t!pw"));
        assert!(!verify(&argon2i, "Secr3t!pW"));
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
