//! Secrets inventory keeps for other services (a host's BMC password),
//! sealed: AES-256-GCM under the cloud's secret key, bound to what they
//! belong to (the host's uuid, as associated data), so a sealed value is
//! useless without the key and cannot be moved to another host. The key is
//! a root-only file (`<data-dir>/secret-key`, or `--secret-key-file`),
//! never in the database: a database dump or replica reveals no password.
//! Controllers sharing a database share the file.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// The prefix of this format's sealed values.
const V1: &str = "v1:";

/// The cloud's secret key.
pub struct SecretKey(LessSafeKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl SecretKey {
    /// The key of 32 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<SecretKey, String> {
        let k = UnboundKey::new(&AES_256_GCM, b)
            .map_err(|_| "a secret key is 32 bytes (64 hexadecimal digits)".to_string())?;
        Ok(SecretKey(LessSafeKey::new(k)))
    }

    /// The key in `file` (64 hex digits), generated into it (0600) when
    /// the file does not exist.
    pub fn load_or_generate(file: &Path) -> Result<SecretKey, String> {
        match std::fs::read_to_string(file) {
            Ok(s) => unhex(s.trim())
                .filter(|b| b.len() == 32)
                .ok_or_else(|| format!("{}: a secret key is 64 hexadecimal digits", file.display()))
                .and_then(|b| SecretKey::from_bytes(&b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut b = [0u8; 32];
                getrandom::fill(&mut b).map_err(|e| format!("no randomness: {e}"))?;
                starling_service::write_private(file, &format!("{}\n", hex(&b)))
                    .map_err(|e| e.to_string())?;
                tracing::info!(file = %file.display(), "generated the cloud's secret key");
                SecretKey::from_bytes(&b)
            }
            Err(e) => Err(format!("cannot read {}: {e}", file.display())),
        }
    }

    /// `secret` sealed for `owner` (a fresh random nonce each time).
    pub fn seal(&self, secret: &str, owner: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| format!("no randomness: {e}"))?;
        let mut data = secret.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut data,
            )
            .map_err(|_| "cannot seal the secret".to_string())?;
        Ok(format!("{V1}{}{}", hex(&nonce), hex(&data)))
    }

    /// The secret `sealed` for `owner`: refused when another key sealed
    /// it, for another owner, or it was altered.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<String, String> {
        let refused = || {
            "the stored secret cannot be opened with this cloud's secret key (another key sealed it, or it was altered)".to_string()
        };
        let b = sealed
            .strip_prefix(V1)
            .and_then(unhex)
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(refused)?;
        let (nonce, data) = b.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut data = data.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut data)
            .map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_owner() {
        let dir = std::env::temp_dir().join(format!("starling-sealed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret-key");
        let _ = std::fs::remove_file(&file);
        let k = SecretKey::load_or_generate(&file).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let s = k.seal("Bmc-pass!1", "host-a").unwrap();
        assert!(!s.contains("Bmc-pass"));
        assert_ne!(s, k.seal("Bmc-pass!1", "host-a").unwrap(), "fresh nonce");
        assert_eq!(k.open(&s, "host-a").unwrap(), "Bmc-pass!1");
        // The same file gives the same key.
        let again = SecretKey::load_or_generate(&file).unwrap();
        assert_eq!(again.open(&s, "host-a").unwrap(), "Bmc-pass!1");
        assert!(k.open(&s, "host-b").is_err(), "bound to its owner");
        let other = SecretKey::from_bytes(&[7; 32]).unwrap();
        assert!(other.open(&s, "host-a").is_err());
        let mut altered = s.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
        assert!(
            k.open(&String::from_utf8(altered).unwrap(), "host-a")
                .is_err()
        );
        assert!(k.open("v1:zz", "host-a").is_err());
        assert!(k.open("", "host-a").is_err());
        std::fs::write(&file, "short").unwrap();
        assert!(SecretKey::load_or_generate(&file).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
