//! The anchor beside SM's failover: Pacemaker 2.1 and Corosync 3.1
//! (Debian's packages) on the same two namespaces, BMCs and client
//! (`starling_testkit::pair`; SM configured there but never started),
//! with the same fault. Each controller runs `corosync` and `pacemakerd`
//! in a mount namespace of its own (its /etc/corosync, /var/lib/corosync,
//! /var/lib/pacemaker, /var/log/pacemaker and /run bound from its
//! directory); Corosync over knet on both networks (two rings), two-node
//! quorum; the resources are StarlingX's shape — a group of the floating
//! address (`ocf:heartbeat:IPaddr2`) and the API (`ocf:heartbeat:anything`
//! running the same Python HTTP server), fenced by `fence_ipmilan` through
//! each controller's IPMI BMC (whose power-off takes the controller down).
//! Measured per Corosync token timeout: crash of the active to the address
//! on the peer and to the API answering, as in the failover phase.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use starling_testkit::pair::{API_PORT, Dice, Profile, Rig};

use crate::Args;
use crate::failover::{Runs, binaries, crash_and_time, prerequisites};

/// Writes corosync.conf and the directories controller `i` runs from.
fn prepare(rig: &Rig, i: usize, token_ms: u32) -> Result<()> {
    let d = rig.ctl[i].dir.join("pcmk");
    for sub in [
        "etc-corosync",
        "lib-corosync",
        "lib-pacemaker",
        "log-pacemaker",
    ] {
        std::fs::create_dir_all(d.join(sub))?;
    }
    for sub in ["cib", "pengine", "blackbox", "cores"] {
        std::fs::create_dir_all(d.join("lib-pacemaker").join(sub))?;
    }
    let n = rig.n;
    let conf = format!(
        "totem {{\n  version: 2\n  cluster_name: starling-bench\n  transport: knet\n  token: {token_ms}\n  crypto_cipher: none\n  crypto_hash: none\n}}\n\
         nodelist {{\n  node {{\n    name: controller-0\n    nodeid: 1\n    ring0_addr: 10.{n}.1.10\n    ring1_addr: 10.{n}.2.10\n  }}\n  node {{\n    name: controller-1\n    nodeid: 2\n    ring0_addr: 10.{n}.1.11\n    ring1_addr: 10.{n}.2.11\n  }}\n}}\n\
         quorum {{\n  provider: corosync_votequorum\n  two_node: 1\n}}\n\
         logging {{\n  to_logfile: yes\n  logfile: /var/log/pacemaker/corosync.log\n  to_stderr: no\n  to_syslog: no\n  timestamp: on\n}}\n"
    );
    std::fs::write(d.join("etc-corosync/corosync.conf"), conf)?;
    let chown = Command::new("chown")
        .args(["-R", "hacluster:haclient"])
        .arg(d.join("lib-pacemaker"))
        .arg(d.join("log-pacemaker"))
        .status()?;
    ensure!(chown.success(), "chown hacluster:haclient");
    Ok(())
}

/// Starts Corosync and Pacemaker in controller `i`'s namespace.
fn start(rig: &Rig, i: usize) -> Result<()> {
    let d = rig.ctl[i].dir.join("pcmk");
    let d = d.display();
    let script = format!(
        "set -e\n\
         mount --bind {d}/etc-corosync /etc/corosync\n\
         mount --bind {d}/lib-corosync /var/lib/corosync\n\
         mount --bind {d}/lib-pacemaker /var/lib/pacemaker\n\
         mount --bind {d}/log-pacemaker /var/log/pacemaker\n\
         mount -t tmpfs tmpfs /run\n\
         mkdir -p -m 1755 /run/resource-agents /run/fence-agents\n\
         corosync -f >/dev/null 2>&1 &\n\
         sleep 0.5\n\
         exec pacemakerd -f >/dev/null 2>&1\n"
    );
    Command::new("ip")
        .args(["netns", "exec", &rig.ctl[i].ns])
        .args([
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("corosync and pacemakerd")?;
    Ok(())
}

/// Whether controller `i`'s Pacemaker sees both nodes online.
fn both_online(rig: &Rig, i: usize) -> bool {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &rig.ctl[i].ns,
            "crm_mon",
            "-1",
            "--output-as=xml",
        ])
        .output()
        .map(|o| {
            let x = String::from_utf8_lossy(&o.stdout);
            x.matches("online=\"true\"").count() == 2
        })
        .unwrap_or(false)
}

/// The cluster's configuration: the fencing devices, the address and the
/// API as a group.
fn configure(rig: &Rig, dir: &Path) -> Result<()> {
    let n = rig.n;
    let mut fences = String::new();
    for i in 0..2 {
        let (addr, port) = rig.ipmi_bmc(i).context("the rig's IPMI BMCs")?;
        fences.push_str(&format!(
            r#"<primitive id="fence-c{i}" class="stonith" type="fence_ipmilan">
  <instance_attributes id="fence-c{i}-ia">
    <nvpair id="fence-c{i}-ip" name="ip" value="{addr}"/>
    <nvpair id="fence-c{i}-port" name="ipport" value="{port}"/>
    <nvpair id="fence-c{i}-user" name="username" value="admin"/>
    <nvpair id="fence-c{i}-pass" name="password" value="{pw}"/>
    <nvpair id="fence-c{i}-lanplus" name="lanplus" value="0"/>
    <nvpair id="fence-c{i}-hosts" name="pcmk_host_list" value="controller-{i}"/>
    <nvpair id="fence-c{i}-method" name="method" value="cycle"/>
    <nvpair id="fence-c{i}-wait" name="power_wait" value="0"/>
  </instance_attributes>
  <operations><op id="fence-c{i}-mon" name="monitor" interval="60s"/></operations>
</primitive>
"#,
            pw = starling_testkit::ipmi::PASSWORD
        ));
    }
    let xml = format!(
        r#"<configuration>
<crm_config><cluster_property_set id="cib-bootstrap-options">
  <nvpair id="o-stonith" name="stonith-enabled" value="true"/>
  <nvpair id="o-recheck" name="cluster-recheck-interval" value="1min"/>
</cluster_property_set></crm_config>
<nodes/>
<resources>
<group id="api-group">
  <primitive id="floating-ip" class="ocf" provider="heartbeat" type="IPaddr2">
    <instance_attributes id="fip-ia">
      <nvpair id="fip-ip" name="ip" value="10.{n}.1.2"/>
      <nvpair id="fip-mask" name="cidr_netmask" value="24"/>
      <nvpair id="fip-nic" name="nic" value="mgmt0"/>
    </instance_attributes>
    <operations><op id="fip-mon" name="monitor" interval="1s"/></operations>
  </primitive>
  <primitive id="api" class="ocf" provider="heartbeat" type="anything">
    <instance_attributes id="api-ia">
      <nvpair id="api-bin" name="binfile" value="/usr/bin/python3"/>
      <nvpair id="api-opts" name="cmdline_options" value="-m http.server --bind 0.0.0.0 {API_PORT}"/>
    </instance_attributes>
    <operations><op id="api-mon" name="monitor" interval="1s"/></operations>
  </primitive>
</group>
{fences}</resources>
<constraints>
  <rsc_location id="l-fence-c0" rsc="fence-c0" node="controller-0" score="-INFINITY"/>
  <rsc_location id="l-fence-c1" rsc="fence-c1" node="controller-1" score="-INFINITY"/>
</constraints>
</configuration>
"#
    );
    let path = dir.join("cib-configuration.xml");
    std::fs::write(&path, xml)?;
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &rig.ctl[0].ns,
            "cibadmin",
            "--replace",
            "-o",
            "configuration",
            "--xml-file",
        ])
        .arg(&path)
        .output()?;
    ensure!(
        out.status.success(),
        "cibadmin --replace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn settle(rig: &Rig) -> Result<usize> {
    let limit = Duration::from_secs(120);
    Rig::within(limit, || both_online(rig, 0) && both_online(rig, 1))
        .context("Pacemaker never saw both nodes online")?;
    Rig::within(limit, || rig.holder().is_some() && rig.client_reaches())
        .context("Pacemaker never started the address and the API")?;
    rig.holder().context("no holder")
}

pub fn run(a: &Args) -> Result<()> {
    let fencing = prerequisites(a)?;
    if a.failover_bmc != "ipmi" {
        bail!("the Pacemaker phase fences through fence_ipmilan: --failover-bmc ipmi");
    }
    for p in [
        "corosync",
        "pacemakerd",
        "crm_mon",
        "cibadmin",
        "fence_ipmilan",
        "unshare",
    ] {
        ensure!(
            starling_testkit::pair::have(p) || Path::new("/usr/sbin").join(p).exists(),
            "{p} is needed (Debian: pacemaker, corosync, resource-agents, fence-agents)"
        );
    }
    let bins = binaries(a);
    let mut dice = Dice::new(a.seed ^ 0x9ace);
    println!(
        "### Failover, Pacemaker {} + Corosync {} on the same rig (fence_ipmilan, {} runs per token)\n",
        version("pacemakerd", &["--version"]),
        version("corosync", &["-v"]),
        a.failover_runs
    );
    println!(
        "| Corosync token (ms) | crash → address on the peer p50 / p99 / max | crash → API answering p50 / p99 / max | fenced |"
    );
    println!("|---|---|---|---|");
    for &token in &a.pacemaker_tokens {
        let mut rig = Rig::new(&bins, Profile::LAB, &fencing);
        for i in 0..2 {
            prepare(&rig, i, token)?;
            start(&rig, i)?;
        }
        Rig::within(Duration::from_secs(120), || both_online(&rig, 0))
            .context("Pacemaker never saw both nodes online")?;
        let dir = rig.ctl[0].dir.clone();
        configure(&rig, &dir)?;
        let mut times = Runs::default();
        let mut fenced = 0;
        for run in 0..a.failover_runs {
            let active = settle(&rig)?;
            std::thread::sleep(Duration::from_secs(1));
            let before = power_offs(&rig, active);
            let phase = Duration::from_millis(dice.range(0, 200));
            let t = crash_and_time(&mut rig, active, phase, API_PORT)?;
            // fence_ipmilan's reboot is a power off, then on.
            let t0 = Instant::now();
            while power_offs(&rig, active) == before && t0.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if power_offs(&rig, active) > before {
                fenced += 1;
            }
            times.record(&format!("pacemaker token {token}"), run, a.failover_runs, t);
            rig.power_on(active);
            start(&rig, active)?;
        }
        let (moved, answered) = times.cells();
        println!(
            "| {token} | {moved} | {answered} | {fenced} of {} |",
            a.failover_runs
        );
    }
    Ok(())
}

/// How often controller `i`'s IPMI BMC was told to power off.
fn power_offs(rig: &Rig, i: usize) -> usize {
    rig.ipmi_calls(i)
        .lines()
        .filter(|l| l.contains("power 0"))
        .count()
}

fn version(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout);
            s.split_whitespace()
                .map(|w| w.trim_matches(|c| c == '\'' || c == ','))
                .find(|w| w.contains('.') && w.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .unwrap_or("?")
                .to_string()
        })
        .unwrap_or_else(|_| "?".into())
}
