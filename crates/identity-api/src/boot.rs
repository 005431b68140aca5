//! The identity bootstrap's files in the data directory: where the admin
//! password comes from (`admin-password`), and `openrc`.

use std::path::{Path, PathBuf};

use starling_identity::password::{self, PasswordRules};

/// Name of the generated password file in the data directory.
pub const PASSWORD_FILE: &str = "admin-password";
/// Name of the credentials script in the data directory.
pub const OPENRC_FILE: &str = "openrc";

/// Where the admin password came from.
#[derive(Debug)]
pub enum AdminPassword {
    /// Configured (environment or a file the operator named).
    Configured(String),
    /// Read from, or generated into, `<data-dir>/admin-password`.
    File(String, PathBuf),
}

impl AdminPassword {
    /// The password.
    pub fn secret(&self) -> &str {
        match self {
            AdminPassword::Configured(p) | AdminPassword::File(p, _) => p,
        }
    }
}

/// The admin password: `STARLING_ADMIN_PASSWORD`, then `--admin-password-file`,
/// then `<data-dir>/admin-password`; generated into that file (0600) when
/// none exists. A configured password must pass the password rules.
pub fn admin_password(
    env: Option<String>,
    file: Option<&Path>,
    data_dir: Option<&Path>,
    rules: &PasswordRules,
) -> Result<AdminPassword, String> {
    let configured = match (env.filter(|p| !p.is_empty()), file) {
        (Some(p), _) => Some(p),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read the admin password file {}: {e}", f.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ),
        (None, None) => None,
    };
    if let Some(p) = configured {
        rules
            .check(&p)
            .map_err(|e| format!("the configured admin password is too weak: {e}"))?;
        return Ok(AdminPassword::Configured(p));
    }
    let Some(dir) = data_dir else {
        return Err(
            "no admin password: set STARLING_ADMIN_PASSWORD or --admin-password-file \
             (a service running alone has no data directory to generate one into)"
                .into(),
        );
    };
    let path = dir.join(PASSWORD_FILE);
    match std::fs::read_to_string(&path) {
        Ok(p) => {
            let p = p.trim_end_matches(['\n', '\r']).to_string();
            if p.is_empty() {
                return Err(format!("{} is empty", path.display()));
            }
            Ok(AdminPassword::File(p, path))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let p = password::generate().map_err(|e| e.to_string())?;
            starling_service::write_private(&path, &format!("{p}\n")).map_err(|e| e.to_string())?;
            tracing::info!(file = %path.display(), "generated the admin password");
            Ok(AdminPassword::File(p, path))
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What `openrc` points at.
pub struct Openrc<'a> {
    /// Identity URL ending in `/v3`.
    pub auth_url: &'a str,
    /// The admin's name.
    pub username: &'a str,
    /// Region of the catalog.
    pub region: &'a str,
    /// The password file, when the password is on disk.
    pub password_file: Option<&'a Path>,
    /// CA certificate to trust, when the listeners serve TLS.
    pub cacert: Option<&'a Path>,
}

/// The text of `openrc`, in the spirit of StarlingX's `/etc/platform/openrc`:
/// sourcing it sets the OS_* variables every Starling and OpenStack CLI reads.
/// The password is read from its file when sourced, never copied into openrc.
pub fn openrc(o: &Openrc<'_>) -> String {
    let mut s = String::from(
        "# Starling administrator credentials, written by starlingd.\n\
         # Use: . openrc   (then: fm alarm-list, openstack token issue, ...)\n",
    );
    let kv = [
        ("OS_AUTH_URL", o.auth_url),
        ("OS_USERNAME", o.username),
        ("OS_PROJECT_NAME", "admin"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_REGION_NAME", o.region),
        ("OS_INTERFACE", "internal"),
        ("OS_ENDPOINT_TYPE", "internalURL"),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_AUTH_TYPE", "password"),
    ];
    for (k, v) in kv {
        s.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    match o.password_file {
        Some(f) => s.push_str(&format!(
            "export OS_PASSWORD=\"$(cat {})\"\n",
            shell_quote(&f.display().to_string())
        )),
        None => s.push_str(
            "# OS_PASSWORD: the admin password was configured (STARLING_ADMIN_PASSWORD or\n\
             # --admin-password-file) and is not stored here; export it yourself.\n",
        ),
    }
    if let Some(c) = o.cacert {
        s.push_str(&format!(
            "export OS_CACERT={}\n",
            shell_quote(&c.display().to_string())
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_once_then_reused_and_private() {
        let dir = starling_testkit::TempDir::new("starling_boot");
        let d = dir.path().to_path_buf();
        std::fs::create_dir_all(&d).unwrap();
        let rules = PasswordRules::default();
        let a = admin_password(None, None, Some(&d), &rules).unwrap();
        let b = admin_password(None, None, Some(&d), &rules).unwrap();
        assert_eq!(a.secret(), b.secret());
        assert!(rules.check(a.secret()).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join(PASSWORD_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Configured wins, and must pass the rules.
        let c = admin_password(Some("Given!pw1".into()), None, Some(&d), &rules).unwrap();
        assert!(matches!(c, AdminPassword::Configured(ref p) if p == "Given!pw1"));
        assert!(admin_password(Some("weak".into()), None, Some(&d), &rules).is_err());
        assert!(admin_password(None, None, None, &rules).is_err());
    }

    #[test]
    fn openrc_reads_the_password_file_and_quotes() {
        let f = PathBuf::from("/data/it's/admin-password");
        let s = openrc(&Openrc {
            auth_url: "http://127.0.0.1:5000/v3",
            username: "admin",
            region: "RegionOne",
            password_file: Some(&f),
            cacert: None,
        });
        assert!(s.contains("export OS_AUTH_URL='http://127.0.0.1:5000/v3'\n"));
        assert!(s.contains("export OS_PASSWORD=\"$(cat '/data/it'\\''s/admin-password')\"\n"));
        assert!(s.contains("export OS_REGION_NAME='RegionOne'\n"));
    }
}
