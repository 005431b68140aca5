//! Bearer tokens: 32 random bytes, shown once as hex, stored as their SHA-256.

use sha2::{Digest, Sha256};

use crate::Error;
use crate::model::hex;

/// Longest token string a request may present (anything longer is not ours
/// and is rejected before hashing).
pub const MAX_TOKEN_LEN: usize = 512;

/// A new token: the bearer string and the hash to store.
pub fn generate() -> Result<(String, String), Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| {
        Error::Storage(starling_common::StorageFailure::fatal(format!(
            "no randomness: {e}"
        )))
    })?;
    let t = hex(&b);
    let h = hash_of(&t);
    Ok((t, h))
}

/// The stored form of a bearer string.
pub fn hash_of(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A random audit id (safe to log): 16 bytes, hex.
pub fn audit_id() -> Result<String, Error> {
    crate::model::new_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, ha) = generate().unwrap();
        let (b, _) = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(ha, hash_of(&a));
        assert_ne!(ha, a);
    }
}
