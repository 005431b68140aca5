//! The daemon's own files in the data directory: the database file, made
//! private before SQLite opens it, and the self-signed certificate.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use starling_service::{private_dir, write_private};

/// The SQLite database file `path` (and its `-wal` and `-shm` files, when
/// present) made 0600 before it is opened, so that SQLite — which gives
/// those files the database file's mode — never creates a readable one:
/// it holds password and token hashes.
pub fn private_db_file(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", path.display()));
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot protect {}", p.display()))?;
            }
        }
    }
    Ok(())
}

/// The self-signed certificate and key in `<data-dir>/tls`, generated on
/// first use for `names` (DNS names or IP addresses) and reused after; both
/// are written 0600. Returns (certificate, key) paths.
pub fn self_signed(data_dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf)> {
    let dir = data_dir.join("tls");
    let (cert, key) = (dir.join("starling.crt"), dir.join("starling.key"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    private_dir(&dir)?;
    let ck = rcgen::generate_simple_self_signed(names.to_vec())
        .context("cannot generate a self-signed certificate")?;
    write_private(&key, &ck.signing_key.serialize_pem())?;
    write_private(&cert, &ck.cert.pem())?;
    tracing::info!(certificate = %cert.display(), ?names, "generated a self-signed certificate");
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn self_signed_certificate_is_generated_once() {
        let dir = starling_testkit::TempDir::new("starling_tls");
        let d = dir.path().to_path_buf();
        std::fs::create_dir_all(&d).unwrap();
        let names = vec!["ctl-0".to_string(), "127.0.0.1".to_string()];
        let (c1, k1) = self_signed(&d, &names).unwrap();
        let first = std::fs::read(&c1).unwrap();
        let (c2, k2) = self_signed(&d, &names).unwrap();
        assert_eq!((c1.clone(), k1.clone()), (c2, k2));
        assert_eq!(
            std::fs::read(&c1).unwrap(),
            first,
            "reused, not regenerated"
        );
        assert!(
            String::from_utf8(first)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        // The pair makes a working TLS identity.
        assert!(starling_http::tls::server_config(&c1, &k1).is_ok());
        // A mismatched or malformed pair is refused with the file named.
        std::fs::write(d.join("bad.key"), "not a key").unwrap();
        let e = starling_http::tls::server_config(&c1, &d.join("bad.key")).unwrap_err();
        assert!(e.contains("bad.key"), "{e}");
    }
}
