//! The machine as files: every discovery reads through a [`Root`], so the
//! same code runs on `/` and on a fixture tree captured from another machine.

use std::path::{Component, Path, PathBuf};

/// A directory standing for `/`.
#[derive(Clone, Debug)]
pub struct Root(PathBuf);

impl Root {
    /// `dir` stands for `/`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root(dir.into())
    }

    /// The live machine.
    pub fn live() -> Self {
        Root(PathBuf::from("/"))
    }

    /// Where an absolute machine path lives under this root.
    pub fn path(&self, p: impl AsRef<Path>) -> PathBuf {
        let p = p.as_ref();
        self.0.join(p.strip_prefix("/").unwrap_or(p))
    }

    /// A file's text, trimmed; `None` when it cannot be read (absent, or a
    /// sysfs attribute the device does not support).
    pub fn read(&self, p: impl AsRef<Path>) -> Option<String> {
        std::fs::read_to_string(self.path(p))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// A file's text parsed as a number (decimal, or hex with `0x`).
    pub fn num(&self, p: impl AsRef<Path>) -> Option<i64> {
        let s = self.read(p)?;
        match s.strip_prefix("0x") {
            Some(h) => i64::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        }
    }

    /// Names in a directory, sorted; empty when it cannot be read.
    pub fn list(&self, p: impl AsRef<Path>) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path(p))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Whether a path exists.
    pub fn exists(&self, p: impl AsRef<Path>) -> bool {
        self.path(p).exists()
    }

    /// Where a symbolic link at machine path `p` points, as a machine path
    /// (resolved against the link's directory, `..` folded; not followed
    /// further). `None` when `p` is not a link.
    pub fn link(&self, p: impl AsRef<Path>) -> Option<PathBuf> {
        let p = p.as_ref();
        let target = std::fs::read_link(self.path(p)).ok()?;
        let joined = if target.is_absolute() {
            target
        } else {
            p.parent().unwrap_or(Path::new("/")).join(target)
        };
        let mut out = PathBuf::from("/");
        for c in joined.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(n) => out.push(n),
                _ => {}
            }
        }
        Some(out)
    }

    /// The last name of a link's target (a driver's name, a device's).
    pub fn link_name(&self, p: impl AsRef<Path>) -> Option<String> {
        self.link(p)?
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
    }

    /// Resolves every link along a machine path (as the kernel would for
    /// sysfs), within the root.
    pub fn resolve(&self, p: impl AsRef<Path>) -> PathBuf {
        fn push_rev(pending: &mut Vec<PathBuf>, p: &Path) {
            for c in p.components().rev() {
                match c {
                    Component::Normal(n) => pending.push(PathBuf::from(n)),
                    Component::ParentDir => pending.push(PathBuf::from("..")),
                    _ => {}
                }
            }
        }
        let mut pending = Vec::new();
        push_rev(&mut pending, p.as_ref());
        let mut out = PathBuf::from("/");
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            if c == Path::new("..") {
                out.pop();
                continue;
            }
            let next = out.join(&c);
            match self.link(&next) {
                // The target is already a folded machine path.
                Some(t) if hops < 40 => {
                    hops += 1;
                    out = PathBuf::from("/");
                    push_rev(&mut pending, &t);
                }
                _ => out = next,
            }
        }
        out
    }
}

/// Parses a kernel CPU list (`0-3,8,10-11`).
pub fn cpulist(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let bad = || format!("invalid CPU list '{s}'");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                );
                if b < a || b - a > 65_536 {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(cpulist("0-3,8,10-11\n").unwrap(), [0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(cpulist("").unwrap(), Vec::<u32>::new());
        assert!(cpulist("3-1").is_err());
        assert!(cpulist("a").is_err());
    }

    #[test]
    fn links_resolve_inside_the_root() {
        let d = std::env::temp_dir().join(format!("starling-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0"))
            .unwrap();
        std::fs::create_dir_all(d.join("sys/class/net")).unwrap();
        std::os::unix::fs::symlink(
            "../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0",
            d.join("sys/class/net/eth0"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "../../../virtio2",
            d.join("sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0/device"),
        )
        .unwrap();
        let r = Root::new(&d);
        assert_eq!(
            r.link("/sys/class/net/eth0").unwrap(),
            PathBuf::from("/sys/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0")
        );
        assert_eq!(
            r.resolve("/sys/class/net/eth0/device"),
            PathBuf::from("/sys/devices/pci0000:00/0000:00:03.0/virtio2")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
