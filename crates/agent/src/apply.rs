//! Applies the host's configuration document (`starling-config-types`'s
//! `HostDocument`) natively and idempotently: each step renders the
//! platform's real file under the configuration root and replaces it only
//! when its content differs (written beside it, synced, renamed over it).
//!
//! Steps: `dns` (`/etc/resolv.conf`), `hosts` (`/etc/hosts`), `sysctl`
//! (`/etc/sysctl.d/50-starling.conf`, told to the kernel at once on the
//! machine itself), `coredump` (systemd-coredump's drop-in), `cli`
//! (`/etc/profile.d/starling-cli.sh`), and, when
//! the document may be applied in full, `ntp` (chrony's configuration:
//! `/etc/chrony/chrony.conf` on Debian, `/etc/chrony.conf` elsewhere) and
//! `network` (the platform interfaces, [`crate::network`]: only with the
//! agent's `network` class). A
//! document applied in part (its reboot-required steps wait for the
//! host's unlock) is reported as its uuid without the reboot flag.

use std::io::Write;
use std::path::{Path, PathBuf};

use starling_config_types::{HostDocument, StepResult};

/// Where the agent applies configuration, and keeps what it applied.
#[derive(Clone, Debug)]
pub struct ApplySetup {
    /// The directory standing for `/` when writing (`/`: this machine).
    pub root: PathBuf,
    /// The file holding the configuration uuid last applied in full
    /// (StarlingX's `/etc/platform/.config_applied`).
    pub applied_file: PathBuf,
    /// How the host's interfaces are configured (a destructive class,
    /// off unless the agent is started with it).
    pub network: crate::network::NetworkSetup,
}

/// What an agent says it applied before it ever did: a fresh install.
pub const INSTALL: &str = "install";

const HEADER: &str =
    "# Written by starling-agent from the cloud's configuration: edits are replaced.\n";

/// The uuid `u` with its reboot flag (bit 127, the first hex digit's top
/// bit) cleared.
pub fn without_reboot(u: &str) -> String {
    let mut chars = u.chars();
    match chars.next().and_then(|c| c.to_digit(16)) {
        Some(d) => format!("{:x}{}", d & 0x7, chars.as_str()),
        None => u.to_string(),
    }
}

/// resolv.conf for `doc`.
pub fn resolv_conf(doc: &HostDocument) -> String {
    let mut s = String::from(HEADER);
    for n in &doc.nameservers {
        s.push_str(&format!("nameserver {n}\n"));
    }
    s
}

/// /etc/hosts for `doc`.
pub fn hosts_file(doc: &HostDocument) -> String {
    let mut s = String::from(HEADER);
    for e in &doc.hosts {
        s.push_str(&format!("{}\t{}\n", e.address, e.names.join(" ")));
    }
    s
}

/// chrony's configuration for `servers`.
pub fn chrony_conf(servers: &[String]) -> String {
    let mut s = String::from(HEADER);
    for n in servers {
        s.push_str(&format!("server {n} iburst\n"));
    }
    s.push_str(
        "driftfile /var/lib/chrony/chrony.drift\n\
         makestep 1.0 3\n\
         rtcsync\n",
    );
    s
}

/// `/etc/sysctl.d/50-starling.conf` for `doc` (`name = value` lines).
pub fn sysctl_conf(doc: &HostDocument) -> String {
    let mut s = String::from(HEADER);
    for p in &doc.sysctl {
        s.push_str(&format!("{} = {}\n", p.name, p.value));
    }
    s
}

/// systemd-coredump's drop-in for `doc`.
pub fn coredump_conf(doc: &HostDocument) -> String {
    let mut s = String::from(HEADER);
    s.push_str("[Coredump]\n");
    for p in &doc.coredump {
        s.push_str(&format!("{}={}\n", p.name, p.value));
    }
    s
}

/// `/etc/profile.d/starling-cli.sh` for `doc`: the CLIs' confirmations.
pub fn cli_profile(doc: &HostDocument) -> String {
    let mut s = String::from(HEADER);
    if let Some(on) = doc.cli_confirmations {
        s.push_str(&format!(
            "export CLI_CONFIRMATIONS={}\n",
            if on { "enabled" } else { "disabled" }
        ));
    }
    s
}

/// The `sysctl` step: the file, and on the machine itself (root `/`) the
/// kernel told at once, as systemd-sysctl tells it at boot.
fn sysctl_step(doc: &HostDocument, root: &Path) -> StepResult {
    let path = root.join("etc/sysctl.d/50-starling.conf");
    let mut r = step("sysctl", &path, &sysctl_conf(doc));
    if r.ok && root == Path::new("/") && !doc.sysctl.is_empty() {
        match std::process::Command::new("sysctl")
            .arg("-p")
            .arg(&path)
            .output()
        {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                r.ok = false;
                r.message = Some(format!(
                    "sysctl -p {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .next()
                        .unwrap_or("failed")
                ));
            }
            Err(e) => {
                r.ok = false;
                r.message = Some(format!("sysctl: {e}"));
            }
        }
    }
    r
}

/// Where chrony's configuration lives on the host under `root`.
pub fn chrony_path(root: &Path) -> PathBuf {
    if root.join("etc/debian_version").exists() {
        root.join("etc/chrony/chrony.conf")
    } else {
        root.join("etc/chrony.conf")
    }
}

/// Replaces `path` with `content` unless it holds exactly that already.
/// True when written.
pub fn write_if_changed(path: &Path, content: &str) -> std::io::Result<bool> {
    if std::fs::read(path).ok().as_deref() == Some(content.as_bytes()) {
        return Ok(false);
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other(format!("{}: no directory", path.display())))?;
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.starling-new"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()?;
    drop(f);
    // Readable by every process that resolves names or reads the clock's
    // configuration.
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(true)
}

fn step(name: &str, path: &Path, content: &str) -> StepResult {
    match write_if_changed(path, content) {
        Ok(written) => {
            if written {
                tracing::info!(step = name, file = %path.display(), "configuration written");
            }
            StepResult {
                step: name.into(),
                ok: true,
                message: None,
            }
        }
        Err(e) => StepResult {
            step: name.into(),
            ok: false,
            message: Some(format!("{}: {e}", path.display())),
        },
    }
}

/// The `network` step: the interfaces written for the host's network
/// stack and brought up, when the agent's class allows it.
fn network_step(doc: &HostDocument, setup: &ApplySetup) -> StepResult {
    let result = |ok: bool, message: Option<String>| StepResult {
        step: "network".into(),
        ok,
        message,
    };
    if !setup.network.enabled {
        tracing::info!(
            interfaces = doc.interfaces.len(),
            "the host's interfaces are left as they are: the agent's network class is off"
        );
        return result(
            true,
            Some("not applied: the agent's network class is off (--apply-class network)".into()),
        );
    }
    if let Err(e) = crate::network::persist(&setup.root, &doc.interfaces) {
        return result(false, Some(format!("writing the interfaces: {e}")));
    }
    match crate::network::set_vfs(&setup.root, &doc.interfaces) {
        Ok(done) => {
            for d in &done {
                tracing::info!(change = %d, "SR-IOV configured");
            }
        }
        Err(e) => return result(false, Some(e)),
    }
    match crate::network::bring_up(&doc.interfaces, setup.network.netns.as_deref()) {
        Ok(done) => {
            for d in &done {
                tracing::info!(command = %d, "interface configured");
            }
            result(true, None)
        }
        Err(e) => result(false, Some(e)),
    }
}

/// Applies `doc` as `setup` says: the uuid to report (the document's, or
/// it without the reboot flag when applied in part) and each step's
/// result.
pub fn apply(doc: &HostDocument, setup: &ApplySetup) -> (String, Vec<StepResult>) {
    let root = setup.root.as_path();
    let mut steps = vec![
        step("dns", &root.join("etc/resolv.conf"), &resolv_conf(doc)),
        step("hosts", &root.join("etc/hosts"), &hosts_file(doc)),
        sysctl_step(doc, root),
        step(
            "coredump",
            &root.join("etc/systemd/coredump.conf.d/50-starling.conf"),
            &coredump_conf(doc),
        ),
        step(
            "cli",
            &root.join("etc/profile.d/starling-cli.sh"),
            &cli_profile(doc),
        ),
    ];
    if doc.full
        && let Some(servers) = &doc.ntpservers
    {
        steps.push(step("ntp", &chrony_path(root), &chrony_conf(servers)));
    }
    if doc.full && !doc.interfaces.is_empty() {
        steps.push(network_step(doc, setup));
    }
    let uuid = if doc.full {
        doc.config_uuid.clone()
    } else {
        without_reboot(&doc.config_uuid)
    };
    (uuid, steps)
}

/// The uuid last applied in full, or [`INSTALL`].
pub fn last_applied(file: &Path) -> String {
    std::fs::read_to_string(file)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| INSTALL.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_config_types::HostsEntry;

    fn doc(full: bool) -> HostDocument {
        HostDocument {
            config_uuid: "8f0e0d0c-0b0a-4908-8706-050403020100".into(),
            full,
            hostname: "controller-0".into(),
            personality: "controller".into(),
            nameservers: vec!["8.8.8.8".into(), "fd00::53".into()],
            ntpservers: Some(vec!["0.pool.ntp.org".into()]),
            hosts: vec![HostsEntry {
                address: "10.10.10.2".into(),
                names: vec!["oamcontroller".into()],
            }],
            interfaces: Vec::new(),
            sysctl: Vec::new(),
            coredump: Vec::new(),
            cli_confirmations: None,
        }
    }

    fn setup(root: &Path) -> ApplySetup {
        ApplySetup {
            root: root.to_path_buf(),
            applied_file: root.join("applied"),
            network: Default::default(),
        }
    }

    #[test]
    fn the_reboot_flag_is_cleared_from_the_first_digit() {
        assert_eq!(
            without_reboot("8f0e0d0c-0b0a-4908-8706-050403020100"),
            "0f0e0d0c-0b0a-4908-8706-050403020100"
        );
        assert_eq!(without_reboot("f1"), "71");
        assert_eq!(without_reboot("31"), "31");
    }

    #[test]
    fn service_parameters_render_as_their_files() {
        use starling_config_types::Setting;
        let set = |n: &str, v: &str| Setting {
            name: n.into(),
            value: v.into(),
        };
        let mut d = doc(true);
        assert_eq!(sysctl_conf(&d), HEADER);
        assert_eq!(cli_profile(&d), HEADER);
        d.sysctl = vec![set("net.ipv4.ip_forward", "1"), set("vm.swappiness", "10")];
        d.coredump = vec![set("ProcessSizeMax", "2G"), set("KeepFree", "1G")];
        d.cli_confirmations = Some(true);
        assert!(sysctl_conf(&d).ends_with("net.ipv4.ip_forward = 1\nvm.swappiness = 10\n"));
        assert!(coredump_conf(&d).ends_with("[Coredump]\nProcessSizeMax=2G\nKeepFree=1G\n"));
        assert!(cli_profile(&d).ends_with("export CLI_CONFIRMATIONS=enabled\n"));
        // The shell takes the profile as written.
        let dir = std::env::temp_dir().join(format!("starling-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (_, steps) = apply(&d, &setup(&dir));
        assert!(steps.iter().all(|s| s.ok), "{steps:?}");
        let profile = dir.join("etc/profile.d/starling-cli.sh");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                ". '{}'; echo \"$CLI_CONFIRMATIONS\"",
                profile.display()
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "enabled\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_are_written_once_and_only_the_runtime_part_when_partial() {
        let dir = std::env::temp_dir().join(format!("starling-apply-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/debian_version"), "13.0\n").unwrap();
        let (uuid, steps) = apply(&doc(false), &setup(&dir));
        assert_eq!(uuid, "0f0e0d0c-0b0a-4908-8706-050403020100");
        let names: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
        assert_eq!(
            names,
            ["dns", "hosts", "sysctl", "coredump", "cli"],
            "NTP waits for the unlock"
        );
        assert!(steps.iter().all(|s| s.ok));
        let resolv = std::fs::read_to_string(dir.join("etc/resolv.conf")).unwrap();
        assert!(
            resolv.ends_with("nameserver 8.8.8.8\nnameserver fd00::53\n"),
            "{resolv}"
        );
        assert!(!dir.join("etc/chrony/chrony.conf").exists());
        let (uuid, steps) = apply(&doc(true), &setup(&dir));
        assert_eq!(uuid, doc(true).config_uuid);
        assert_eq!(steps.len(), 6);
        let chrony = std::fs::read_to_string(dir.join("etc/chrony/chrony.conf")).unwrap();
        assert!(chrony.contains("server 0.pool.ntp.org iburst\n"));
        // Idempotent: the same content is not written again.
        assert!(!write_if_changed(&dir.join("etc/hosts"), &hosts_file(&doc(true))).unwrap());
        // A step that cannot write says why, and the others still run.
        std::fs::remove_file(dir.join("etc/hosts")).unwrap();
        std::fs::create_dir(dir.join("etc/hosts")).unwrap();
        let (_, steps) = apply(&doc(true), &setup(&dir));
        let failed: Vec<_> = steps.iter().filter(|s| !s.ok).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].step, "hosts");
        assert!(failed[0].message.as_deref().unwrap().contains("etc/hosts"));
        assert_eq!(last_applied(&dir.join("nothing")), INSTALL);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Whether a test that needs `what` runs: it is there, or skipped
    /// (saying so) unless `require` is set (CI sets it).
    fn needs(what: &str, present: bool, require: &str) -> bool {
        if present {
            return true;
        }
        assert!(
            std::env::var_os(require).is_none(),
            "{what} is required ({require} is set)"
        );
        eprintln!("SKIPPED: {what} is not here (install it; .ci/run does)");
        false
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("starling-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        dir
    }

    #[test]
    fn chronyd_itself_reads_the_rendered_configuration() {
        let chronyd = Path::new("/usr/sbin/chronyd");
        if !needs("chronyd", chronyd.exists(), "STARLING_REQUIRE_CHRONYD") {
            return;
        }
        let dir = scratch("chrony");
        let (_, steps) = apply(&doc(true), &setup(&dir));
        assert!(steps.iter().all(|s| s.ok), "{steps:?}");
        let file = chrony_path(&dir);
        // -p: parse the file and print it, without running.
        let o = std::process::Command::new(chronyd)
            .args(["-p", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success(),
            "chronyd refused {}: {err}",
            file.display()
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("server 0.pool.ntp.org iburst"), "{out}");
        // It refuses what it cannot read, so the check above can fail.
        std::fs::write(&file, "server 10.0.0.1 iburst\nnot-a-directive 1\n").unwrap();
        let o = std::process::Command::new(chronyd)
            .args(["-p", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(!o.status.success());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A DNS server of a few lines: every A question answered 192.0.2.7.
    const RESPONDER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    end = 12
    while q[end] != 0:
        end += q[end] + 1
    question = q[12:end + 5]
    qtype = q[end + 1:end + 3]
    answers = b"\x00\x01" if qtype == b"\x00\x01" else b"\x00\x00"
    head = q[:2] + b"\x81\x80\x00\x01" + answers + b"\x00\x00\x00\x00"
    body = question
    if qtype == b"\x00\x01":
        body += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([192, 0, 2, 7])
    s.sendto(head + body, peer)
"#;

    #[test]
    fn the_system_resolver_asks_the_rendered_nameservers() {
        // In a network and mount namespace of its own: loopback up, the
        // rendered resolv.conf bind-mounted over /etc/resolv.conf, a DNS
        // server on 127.0.0.1, and glibc's resolver (getent) asking it.
        let root = rustix::process::geteuid().is_root();
        if !needs("root (unshare, mount)", root, "STARLING_REQUIRE_NETNS") {
            return;
        }
        let dir = scratch("resolv");
        let mut d = doc(true);
        d.nameservers = vec!["127.0.0.1".into()];
        let (_, steps) = apply(&d, &setup(&dir));
        assert!(steps.iter().all(|s| s.ok), "{steps:?}");
        std::fs::write(dir.join("responder.py"), RESPONDER).unwrap();
        let script = format!(
            "ip link set lo up && mount --bind {resolv} /etc/resolv.conf && \
             mount --bind {hosts} /etc/hosts && \
             {{ python3 {py} > {dir}/ready 2>&1 < /dev/null & }} && P=$! && \
             for i in $(seq 50); do grep -q ready {dir}/ready && break; sleep 0.1; done; \
             timeout 10 getent hosts cloud.example.test; R=$?; kill $P; exit $R",
            resolv = dir.join("etc/resolv.conf").display(),
            hosts = dir.join("etc/hosts").display(),
            py = dir.join("responder.py").display(),
            dir = dir.display(),
        );
        let o = std::process::Command::new("unshare")
            .args([
                "--net",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                &script,
            ])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.starts_with("192.0.2.7"), "{out}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_system_resolver_reads_the_rendered_hosts_file() {
        // The rendered file bind-mounted over /etc/hosts in a mount
        // namespace of its own, read by glibc through getent (root).
        let root = rustix::process::geteuid().is_root();
        if !needs("root (unshare, mount)", root, "STARLING_REQUIRE_NETNS") {
            return;
        }
        let dir = scratch("hosts");
        let (_, steps) = apply(&doc(true), &setup(&dir));
        assert!(steps.iter().all(|s| s.ok), "{steps:?}");
        let hosts = dir.join("etc/hosts");
        let script = format!(
            "mount --bind {} /etc/hosts && getent hosts oamcontroller",
            hosts.display()
        );
        let o = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            out.split_whitespace().collect::<Vec<_>>(),
            ["10.10.10.2", "oamcontroller"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
