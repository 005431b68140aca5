//! The executors that carry SM's actions out, chosen by each action's
//! `plugin_type`:
//!
//! - `ip`: a floating address (`address` A/PREFIX and `device` from the
//!   service's instance): `enable` puts it on the device and announces it
//!   with gratuitous ARP (arping, so neighbours stop sending to the old
//!   holder at once), `disable` takes it off, the audits look for it;
//! - `systemd`: a unit (`plugin_name`): `systemctl start`/`stop`, audited
//!   with `systemctl is-active`;
//! - `exec`: an LSB-style script (`plugin_name`) called with `start`,
//!   `stop`, `promote`, `demote` or `status` (or the action's
//!   `plugin_command`), the instance's parameters in its environment as
//!   `SM_<NAME>`; exit codes read through the action-results table;
//! - `process`: a long-running command (`command` from the instance) that
//!   SM starts and stops itself, as systemd would: `enable` is done when
//!   the process runs (and, with `ready` HOST:PORT, accepts connections),
//!   `disable` sends SIGTERM and, after the action's timeout less a second,
//!   SIGKILL. Its pid is kept in a file, so an SM restarted finds it.
//!
//! Each returns `Ok(None)` for an action done, `Ok(Some(state))` for an
//! audit's finding, or `Err` with the reason.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use starling_sm::group::ServiceState;
use starling_sm::model::{ActionDef, ActionKind, ServiceDef};
use starling_sm::node::Finding;
use starling_sm_store::ActionResult;
use tokio::process::Command;

/// What the executors need besides the action.
pub struct Executors {
    /// The exit-code tables.
    pub results: Vec<ActionResult>,
    /// Where `process` services' pid files go.
    pub run_dir: PathBuf,
    /// `arping` (iputils), for gratuitous ARP; none: addresses are raised
    /// without an announcement (and a warning).
    pub arping: Option<PathBuf>,
    children: Mutex<HashMap<String, u32>>,
}

/// The first program of `name` on PATH (or the usual sbin directories).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn param<'a>(def: &'a ServiceDef, key: &str) -> Result<&'a str, String> {
    def.instance
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            format!(
                "service {}: no `{key}` instance parameter (sm-configure service-instance {} {key}=…)",
                def.name, def.name
            )
        })
}

/// Runs a program to the end; its exit code, what it printed and what it
/// said on stderr.
async fn run3(program: &str, args: &[&str]) -> Result<(i32, String, String), String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("{program}: {e}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

/// Runs a program to the end; its exit code and what it said on stderr.
async fn output(program: &str, args: &[&str]) -> Result<(i32, String), String> {
    run3(program, args).await.map(|(code, _, err)| (code, err))
}

impl Executors {
    pub fn new(results: Vec<ActionResult>, run_dir: PathBuf) -> Executors {
        Executors {
            results,
            run_dir,
            arping: which("arping"),
            children: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `action` of `def` (the caller bounds it by its timeout).
    pub async fn run(
        &self,
        def: &ServiceDef,
        action: &ActionDef,
    ) -> Result<Option<Finding>, String> {
        let found = match action.plugin.kind.as_str() {
            "ip" => self.ip(def, action.kind).await,
            "systemd" => self.systemd(action).await,
            "exec" => self.exec(def, action).await,
            "process" => self.process(def, action).await,
            "postgres" => return crate::postgres::run(def, action.kind).await,
            other => Err(format!(
                "service {}: no executor of plugin type {other:?} (ip, systemd, exec, process, postgres)",
                def.name
            )),
        };
        found.map(|f| f.map(Finding::from))
    }

    async fn ip(&self, def: &ServiceDef, kind: ActionKind) -> Result<Option<ServiceState>, String> {
        let address = param(def, "address")?;
        let device = param(def, "device")?;
        let (ip, _) = address
            .split_once('/')
            .ok_or_else(|| format!("service {}: address {address} has no /prefix", def.name))?;
        let held = || async {
            let (code, text, err) = run3("ip", &["-o", "addr", "show", "dev", device]).await?;
            if code != 0 {
                // No such device: the address is not held.
                tracing::debug!(device, error = %err, "ip addr show");
                return Ok::<bool, String>(false);
            }
            Ok(text
                .split_whitespace()
                .any(|w| w.split('/').next() == Some(ip)))
        };
        match kind {
            ActionKind::AuditEnabled | ActionKind::AuditDisabled => Ok(Some(if held().await? {
                ServiceState::EnabledActive
            } else {
                ServiceState::Disabled
            })),
            ActionKind::Enable | ActionKind::GoActive => {
                let (code, err) =
                    output("ip", &["addr", "replace", address, "dev", device]).await?;
                if code != 0 {
                    return Err(format!("ip addr replace {address} dev {device}: {err}"));
                }
                if ip.contains(':') {
                    // IPv6: the kernel's unsolicited neighbour advertisement
                    // follows duplicate address detection.
                    return Ok(None);
                }
                match &self.arping {
                    Some(arping) => {
                        // The address is up once `ip` says so; arping lingers
                        // a second after its announcement, which the
                        // takeover must not wait for.
                        let arping = arping.to_string_lossy().into_owned();
                        let (address, device, ip) =
                            (address.to_string(), device.to_string(), ip.to_string());
                        tokio::spawn(async move {
                            match output(&arping, &["-U", "-c", "1", "-I", &device, &ip]).await {
                                Ok((0, _)) => {}
                                Ok((_, err)) | Err(err) => {
                                    tracing::warn!(address, device, error = %err, "gratuitous ARP failed")
                                }
                            }
                        });
                    }
                    None => tracing::warn!(
                        address,
                        "no arping (iputils-arping): neighbours learn the address's move only when their ARP entry expires"
                    ),
                }
                Ok(None)
            }
            ActionKind::Disable | ActionKind::GoStandby => {
                if !held().await? {
                    return Ok(None);
                }
                let (code, err) = output("ip", &["addr", "del", address, "dev", device]).await?;
                if code != 0 && held().await? {
                    return Err(format!("ip addr del {address} dev {device}: {err}"));
                }
                Ok(None)
            }
        }
    }

    /// The state an exit code means, by the action-results table.
    fn mapped(&self, kind: &str, name: &str, command: &str, code: i32) -> Option<&ActionResult> {
        let matching = |r: &&ActionResult| {
            r.plugin_type == kind && r.command == command && r.exit_code == code
        };
        self.results
            .iter()
            .filter(matching)
            .find(|r| r.plugin_name == name)
            .or_else(|| {
                self.results
                    .iter()
                    .filter(matching)
                    .find(|r| r.plugin_name == "*")
            })
    }

    async fn systemd(&self, action: &ActionDef) -> Result<Option<ServiceState>, String> {
        let unit = action.plugin.name.as_str();
        let verb = match action.kind {
            ActionKind::Enable | ActionKind::GoActive => "start",
            ActionKind::Disable | ActionKind::GoStandby => "stop",
            ActionKind::AuditEnabled | ActionKind::AuditDisabled => "is-active",
        };
        let args: Vec<&str> = if verb == "is-active" {
            vec!["is-active", "--quiet", unit]
        } else {
            vec![verb, unit]
        };
        let (code, err) = output("systemctl", &args).await?;
        if verb == "is-active" {
            return match self.mapped("systemd", unit, "is-active", code) {
                Some(r) => Ok(r.state),
                None => Err(format!("systemctl is-active {unit}: exit {code} {err}")),
            };
        }
        if code == 0 {
            Ok(None)
        } else {
            Err(format!("systemctl {verb} {unit}: exit {code}: {err}"))
        }
    }

    async fn exec(
        &self,
        def: &ServiceDef,
        action: &ActionDef,
    ) -> Result<Option<ServiceState>, String> {
        let script = action.plugin.name.as_str();
        let verb = if action.plugin.command.is_empty() {
            match action.kind {
                ActionKind::Enable => "start",
                ActionKind::Disable => "stop",
                ActionKind::GoActive => "promote",
                ActionKind::GoStandby => "demote",
                ActionKind::AuditEnabled | ActionKind::AuditDisabled => "status",
            }
        } else {
            action.plugin.command.as_str()
        };
        let mut cmd = Command::new(script);
        cmd.arg(verb).stdin(Stdio::null()).kill_on_drop(true);
        for p in action.plugin.parameters.split_whitespace() {
            cmd.arg(p);
        }
        for (k, v) in &def.instance {
            cmd.env(
                format!("SM_{}", k.to_ascii_uppercase().replace('-', "_")),
                v,
            );
        }
        let out = cmd
            .output()
            .await
            .map_err(|e| format!("{script} {verb}: {e}"))?;
        let code = out.status.code().unwrap_or(-1);
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        match self.mapped("exec", script, verb, code) {
            Some(r) if r.success => Ok(if action.kind.is_audit() {
                r.state
            } else {
                None
            }),
            _ if !action.kind.is_audit() && code == 0 => Ok(None),
            _ => Err(format!("{script} {verb}: exit {code}: {err}")),
        }
    }

    fn pid_file(&self, service: &str) -> PathBuf {
        self.run_dir.join(format!("{service}.pid"))
    }

    /// The running process of a `process` service, if any: the child SM
    /// started, or the one its pid file names.
    fn running_pid(&self, service: &str) -> Option<u32> {
        let known = self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(service)
            .copied();
        let pid = known.or_else(|| {
            std::fs::read_to_string(self.pid_file(service))
                .ok()
                .and_then(|s| s.trim().parse().ok())
        })?;
        alive(pid).then_some(pid)
    }

    async fn process(
        &self,
        def: &ServiceDef,
        action: &ActionDef,
    ) -> Result<Option<ServiceState>, String> {
        match action.kind {
            ActionKind::AuditEnabled | ActionKind::AuditDisabled => {
                Ok(Some(if self.running_pid(&def.name).is_some() {
                    ServiceState::EnabledActive
                } else {
                    ServiceState::Disabled
                }))
            }
            ActionKind::Enable | ActionKind::GoActive => {
                let pid = match self.running_pid(&def.name) {
                    Some(pid) => pid,
                    None => self.spawn(def)?,
                };
                if let Some(ready) = def.instance.get("ready").filter(|r| !r.is_empty()) {
                    loop {
                        if tokio::net::TcpStream::connect(ready.as_str()).await.is_ok() {
                            break;
                        }
                        if !alive(pid) {
                            return Err(format!(
                                "{} exited before it accepted connections on {ready}",
                                def.name
                            ));
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                Ok(None)
            }
            ActionKind::Disable | ActionKind::GoStandby => {
                let Some(pid) = self.running_pid(&def.name) else {
                    return Ok(None);
                };
                signal(pid, rustix::process::Signal::TERM);
                let grace = action.timeout.saturating_sub(Duration::from_secs(1));
                let deadline = tokio::time::Instant::now() + grace;
                while alive(pid) && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                if alive(pid) {
                    tracing::warn!(service = %def.name, pid, "did not stop on SIGTERM: killed");
                    signal(pid, rustix::process::Signal::KILL);
                }
                self.children
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&def.name);
                let _ = std::fs::remove_file(self.pid_file(&def.name));
                Ok(None)
            }
        }
    }

    fn spawn(&self, def: &ServiceDef) -> Result<u32, String> {
        let command = param(def, "command")?;
        let mut child = std::process::Command::new("/bin/sh");
        child
            .arg("-c")
            .arg(format!("exec {command}"))
            .stdin(Stdio::null())
            .process_group(0);
        for (k, v) in &def.instance {
            child.env(
                format!("SM_{}", k.to_ascii_uppercase().replace('-', "_")),
                v,
            );
        }
        use std::os::unix::process::CommandExt;
        let mut child = child
            .spawn()
            .map_err(|e| format!("{}: cannot start {command}: {e}", def.name))?;
        let pid = child.id();
        // Reaped by a thread of its own, so it never lingers as a zombie
        // (which would still look alive).
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(def.name.clone(), pid);
        if let Err(e) = std::fs::write(self.pid_file(&def.name), format!("{pid}\n")) {
            tracing::warn!(service = %def.name, error = %e, "cannot write the pid file");
        }
        tracing::info!(service = %def.name, pid, "started");
        Ok(pid)
    }
}

fn alive(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    if rustix::process::test_kill_process(p).is_err() {
        return false;
    }
    // A zombie answers the signal test; its state says it is gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state != "Z"),
        Err(_) => false,
    }
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(p) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        // The process group first (what the command started), then the
        // process itself.
        let _ = rustix::process::kill_process_group(p, sig);
        let _ = rustix::process::kill_process(p, sig);
    }
}
