//! Files a service keeps in the data directory: readable by their owner
//! only (they hold passwords, keys and hashes).

use std::io::{self, Write};
use std::path::Path;

fn with_path(what: &str, path: &Path) -> impl FnOnce(io::Error) -> io::Error {
    let what = format!("{what} {}", path.display());
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// Writes `text` to `path` readable by the owner only (0600 on Unix),
/// atomically: a temporary file synced and renamed into place. Errors name
/// the file.
pub fn write_private(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(with_path("cannot create", &tmp))?;
    #[cfg(unix)]
    {
        // An existing temporary file keeps its mode: set it again.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(with_path("cannot protect", &tmp))?;
    }
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(with_path("cannot write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(with_path("cannot write", path))
}

/// A directory only its owner may enter (0700 on Unix), created if missing.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir).map_err(with_path("cannot create", dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(with_path("cannot protect", dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn private_files_and_directories_are_the_owners_alone() {
        let d = std::env::temp_dir().join(format!("starling_files_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        private_dir(&d.join("sub")).unwrap();
        let f = d.join("sub").join("secret");
        write_private(&f, "one").unwrap();
        write_private(&f, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&f), 0o600);
            assert_eq!(mode(&d.join("sub")), 0o700);
        }
        let e = write_private(&d.join("missing").join("x"), "").unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
