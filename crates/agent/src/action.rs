//! Carrying out a host action (reboot, reset, reinstall, power-on,
//! power-off) through the operator's command: the program is run with the
//! action as its one argument (`<program> reboot`), with `STARLING_ACTION`
//! and `STARLING_HOST_UUID` in its environment, and must finish within the
//! timeout. Starling ships no default: what "reset" means on a board (a
//! sysrq, a BMC call, a relay) is the operator's, and a host whose agent was
//! given no command refuses every action rather than guessing.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Longest message the agent sends about a failure (the tail of stderr).
const MESSAGE_CHARS: usize = 400;

/// Runs `program action` and says how it went: `Ok` when it exited 0, else
/// a one-line reason.
pub async fn carry_out(
    program: Option<&Path>,
    action: &str,
    host_uuid: &str,
    timeout: Duration,
) -> Result<(), String> {
    let Some(program) = program else {
        return Err(
            "no action command is configured on this host (starlingd agent --action-command)"
                .into(),
        );
    };
    let child = tokio::process::Command::new(program)
        .arg(action)
        .env("STARLING_ACTION", action)
        .env("STARLING_HOST_UUID", host_uuid)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(r) => r.map_err(|e| format!("{} failed: {e}", program.display()))?,
        // Dropping the future kills the child (kill_on_drop).
        Err(_) => {
            return Err(format!(
                "{} {action} did not finish within {}s and was stopped",
                program.display(),
                timeout.as_secs()
            ));
        }
    };
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut why = format!("{} {action} exited with {}", program.display(), out.status);
    if !last.is_empty() {
        why.push_str(": ");
        let cut: String = last.chars().take(MESSAGE_CHARS).collect();
        why.push_str(&cut);
        if cut.len() < last.len() {
            why.push('…');
        }
    }
    Err(why)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("action.sh");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[tokio::test]
    async fn outcomes_of_the_operators_command() {
        let dir = std::env::temp_dir().join(format!("starling-action-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = Duration::from_secs(5);

        let none = carry_out(None, "reboot", "u", t).await.unwrap_err();
        assert!(none.contains("no action command is configured"), "{none}");

        let log = dir.join("ran");
        let ok = script(
            &dir,
            &format!(
                "echo \"$1 $STARLING_ACTION $STARLING_HOST_UUID\" > {}",
                log.display()
            ),
        );
        carry_out(Some(&ok), "reset", "h-1", t).await.unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "reset reset h-1\n");

        let bad = script(
            &dir,
            "echo starting >&2; echo 'BMC unreachable' >&2; exit 3",
        );
        let e = carry_out(Some(&bad), "power-off", "h-1", t)
            .await
            .unwrap_err();
        assert!(
            e.contains("exit status: 3") && e.ends_with("BMC unreachable"),
            "{e}"
        );

        let slow = script(&dir, "sleep 30");
        let e = carry_out(Some(&slow), "reboot", "h-1", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(e.contains("did not finish within"), "{e}");

        let e = carry_out(Some(&dir.join("missing")), "reboot", "h-1", t)
            .await
            .unwrap_err();
        assert!(e.contains("cannot run"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
