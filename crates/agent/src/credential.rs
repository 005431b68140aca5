//! The host's own credential: got once by enrolling with the cloud's
//! enrollment secret, kept in a file only root reads, and sent on every
//! exchange with the controller. A credential the controller refuses (the
//! host was deleted and added again, or reinstalled) is forgotten, and the
//! agent enrolls again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The answer header a first registration carries the credential in.
pub const HEADER: &str = "x-starling-agent-token";

/// An enrolled (or enrolling) host's credentials.
pub struct Enrollment {
    /// The cloud's enrollment secret; without it the agent runs with the
    /// credential it holds and cannot enroll again.
    secret: Option<String>,
    /// Where the credential is kept.
    file: PathBuf,
    held: Mutex<Option<String>>,
}

impl Enrollment {
    /// Reads the credential `file` holds, if any. Neither a secret nor a
    /// credential is an error: the agent could never speak.
    pub fn open(secret: Option<String>, file: PathBuf) -> Result<Enrollment, String> {
        let held = match std::fs::read_to_string(&file) {
            Ok(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let secret = secret
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if held.is_none() && secret.is_none() {
            return Err(format!(
                "no credential in {} and no enrollment secret (STARLING_AGENT_ENROLLMENT) to get one",
                file.display()
            ));
        }
        Ok(Enrollment {
            secret,
            file,
            held: Mutex::new(held),
        })
    }

    /// The credential held now.
    pub fn credential(&self) -> Option<String> {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The enrollment secret, for a first registration.
    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    /// Keeps a new credential: written (0600, whole or not at all) before
    /// it is used.
    pub fn store(&self, credential: &str) -> Result<(), String> {
        write_private(&self.file, credential)
            .map_err(|e| format!("cannot keep the credential in {}: {e}", self.file.display()))?;
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(credential.to_string());
        Ok(())
    }

    /// Forgets a credential the controller refused.
    pub fn forget(&self) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if let Err(e) = std::fs::remove_file(&self.file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %self.file.display(), error = %e, "cannot remove the refused credential");
        }
    }
}

/// Writes `text` to `path` readable by its owner only: a temporary file
/// beside it, synced, then renamed over it.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("new");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(format!("{text}\n").as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("starling-cred-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_credential_is_kept_privately_and_forgotten_when_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("keep");
        let file = d.join("state").join("credential");
        assert!(
            Enrollment::open(None, file.clone()).is_err(),
            "nothing to speak with"
        );
        let e = Enrollment::open(Some(" starling-enroll-x \n".into()), file.clone()).unwrap();
        assert_eq!(e.secret(), Some("starling-enroll-x"));
        assert_eq!(e.credential(), None);
        e.store("starling-agent-1").unwrap();
        assert_eq!(e.credential().as_deref(), Some("starling-agent-1"));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A restart reads it back, with or without the secret.
        let again = Enrollment::open(None, file.clone()).unwrap();
        assert_eq!(again.credential().as_deref(), Some("starling-agent-1"));
        again.forget();
        assert_eq!(again.credential(), None);
        assert!(!file.exists());
        let _ = std::fs::remove_dir_all(&d);
    }
}
