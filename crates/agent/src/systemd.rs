//! The systemd notification protocol (`sd_notify`): a daemon of a
//! `Type=notify` unit says `READY=1`, `STOPPING=1`, or `WATCHDOG=1` (its
//! unit's `WatchdogSec=`) as a datagram to `$NOTIFY_SOCKET` — a path, or an
//! abstract socket written `@name`.

use std::time::Duration;

/// Sends `state` to `$NOTIFY_SOCKET`: `Ok(false)` when there is none (not
/// run by systemd).
pub fn notify(state: &str) -> std::io::Result<bool> {
    Notifier::from_env().notify(state)
}

/// Where notifications go.
#[derive(Clone, Debug, Default)]
pub struct Notifier {
    socket: Option<std::ffi::OsString>,
}

impl Notifier {
    /// `$NOTIFY_SOCKET`'s (none when unset or empty).
    pub fn from_env() -> Notifier {
        Notifier {
            socket: std::env::var_os("NOTIFY_SOCKET").filter(|p| !p.is_empty()),
        }
    }

    /// The socket at `path` (`@name`: an abstract one).
    pub fn to(path: impl Into<std::ffi::OsString>) -> Notifier {
        Notifier {
            socket: Some(path.into()),
        }
    }

    /// Sends `state`: `Ok(false)` when there is no socket.
    pub fn notify(&self, state: &str) -> std::io::Result<bool> {
        let Some(path) = &self.socket else {
            return Ok(false);
        };
        let sock = std::os::unix::net::UnixDatagram::unbound()?;
        let path = path.to_string_lossy();
        match path.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
                sock.send_to_addr(state.as_bytes(), &addr)?;
            }
            None => {
                sock.send_to(state.as_bytes(), path.as_ref())?;
            }
        }
        Ok(true)
    }
}

/// The watchdog period systemd expects notifications within
/// (`$WATCHDOG_USEC`, for this process when `$WATCHDOG_PID` names one):
/// `None` when the unit has no watchdog.
pub fn watchdog() -> Option<Duration> {
    watchdog_of(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// [`watchdog`] from the variables' values and this process's id.
fn watchdog_of(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(me)
    {
        return None;
    }
    let usec: u64 = usec?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_watchdog_period_is_this_processs_only() {
        let s30 = Some(Duration::from_secs(30));
        assert_eq!(watchdog_of(Some("30000000"), None, 7), s30);
        assert_eq!(watchdog_of(Some("30000000"), Some("7"), 7), s30);
        assert_eq!(watchdog_of(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_of(Some("0"), None, 7), None);
        assert_eq!(watchdog_of(Some("soon"), None, 7), None);
        assert_eq!(watchdog_of(None, None, 7), None);
    }

    #[test]
    fn notifications_reach_the_socket() {
        let dir = std::env::temp_dir().join(format!("starling-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sock");
        let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        assert!(Notifier::to(path.as_os_str()).notify("READY=1").unwrap());
        let mut buf = [0u8; 16];
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        assert!(!Notifier::default().notify("READY=1").unwrap());
        let name = format!("starling-test-{}", std::process::id());
        let abs = {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap()
        };
        let sock = std::os::unix::net::UnixDatagram::bind_addr(&abs).unwrap();
        assert!(
            Notifier::to(format!("@{name}"))
                .notify("WATCHDOG=1")
                .unwrap()
        );
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
