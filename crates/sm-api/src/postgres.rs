//! The `postgres` executor: the cloud's database as a service SM runs,
//! PostgreSQL's own streaming replication between the controllers.
//!
//! - **enable** leaves a *standby*: a server in recovery that streams from
//!   the peer (`standby.signal`, `primary_conninfo` naming this controller
//!   as its `application_name`). With no data directory it is copied from
//!   the peer (`pg_basebackup`), or — only where the instance says
//!   `bootstrap=yes` and the peer has none to copy — made (`initdb` with
//!   data checksums) and started in recovery too. A data directory that
//!   was a primary rejoins: when the peer is a primary, `pg_rewind` takes
//!   it back to where the timelines forked (PostgreSQL recovers a crashed
//!   one first); when that fails it is set aside and copied afresh.
//! - **go-active** promotes it (`pg_ctl promote`), and names the peer in
//!   `synchronous_standby_names` while the peer streams (so an
//!   acknowledged commit is on both), asynchronous while it does not.
//! - **go-standby** stops the primary cleanly (its last WAL reaches the
//!   standby before it exits) and starts it again in recovery, streaming
//!   from the peer, which follows the new timeline once the peer promotes.
//! - **disable** stops it; the **audits** say stopped, standby (in
//!   recovery) or active — and, for a primary whose standby does not
//!   stream, impaired (its group degraded, 400.001, until the standby
//!   streams again).
//!
//! Instance parameters: `pgdata` (required), `bindir` (default: the
//! newest `/usr/lib/postgresql/*/bin`), `port` (5432), `peer` (the peer's
//! address), `peer_port` (its port, default `port`), `peer_node` (its name, its `application_name`), `node` (this
//! controller's name), `user` (the OS user PostgreSQL runs as: postgres),
//! `socket_dir` (/var/run/postgresql),
//! `bootstrap`, `sync` (`on`, the default: synchronous while the peer
//! streams; `off`: always asynchronous), `alone` (what the primary does
//! while its standby does not stream: `async`, the default, takes writes
//! on its own; `read-only` refuses them — new transactions are read-only,
//! and a commit already waiting for the standby waits on — so no
//! acknowledged commit is on one controller only), `password_file` (a file only its
//! owner reads, the same on both controllers: PostgreSQL's user then
//! authenticates to the peer with SCRAM — replication, copies, rewinds —
//! instead of the peer's address being trusted).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use starling_sm::group::ServiceState;
use starling_sm::model::{ActionKind, ServiceDef};
use starling_sm::node::Finding;
use tokio::process::Command;

struct Pg {
    bin: PathBuf,
    pgdata: PathBuf,
    port: String,
    peer: Option<String>,
    peer_port: String,
    peer_node: Option<String>,
    node: String,
    user: String,
    /// Where its Unix socket is (not the data directory: pg_rewind copies
    /// that, and a socket cannot be copied).
    socket_dir: String,
    bootstrap: bool,
    sync: bool,
    /// Writes refused while the standby does not stream (`alone=read-only`).
    read_only_alone: bool,
    /// The password the controllers' PostgreSQL user authenticates with
    /// over the network (from `password_file`); none: the peer's address
    /// is trusted.
    password: Option<String>,
}

/// The password in `path`: a file only its owner may read, one line with
/// no quote, backslash or space (it goes into a connection string).
fn password(path: &str) -> Result<String, String> {
    let text = crate::secret_file(Path::new(path)).map_err(|e| format!("password_file {e}"))?;
    let pw = text.trim();
    if pw.is_empty() {
        return Err(format!("password_file {path}: empty"));
    }
    if pw
        .chars()
        .any(|c| c == '\'' || c == '\\' || c.is_whitespace())
    {
        return Err(format!(
            "password_file {path}: the password may not hold a quote, a backslash or a space"
        ));
    }
    Ok(pw.to_string())
}

/// The newest PostgreSQL's binaries on this machine.
pub fn bindir() -> Option<PathBuf> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((n, bin))
        })
        .collect();
    v.sort();
    v.pop().map(|(_, b)| b)
}

impl Pg {
    fn of(def: &ServiceDef) -> Result<Pg, String> {
        let p = |k: &str| def.instance.get(k).filter(|v| !v.is_empty()).cloned();
        let pgdata = p("pgdata").ok_or_else(|| {
            format!(
                "service {}: no `pgdata` instance parameter (sm configure service-instance {} pgdata=…)",
                def.name, def.name
            )
        })?;
        let bin = match p("bindir") {
            Some(b) => PathBuf::from(b),
            None => bindir().ok_or("no PostgreSQL under /usr/lib/postgresql (bindir=…)")?,
        };
        Ok(Pg {
            bin,
            pgdata: PathBuf::from(pgdata),
            port: p("port").unwrap_or_else(|| "5432".into()),
            peer_port: p("peer_port")
                .or_else(|| p("port"))
                .unwrap_or_else(|| "5432".into()),
            peer: p("peer"),
            peer_node: p("peer_node"),
            node: p("node").unwrap_or_else(|| "controller".into()),
            user: p("user").unwrap_or_else(|| "postgres".into()),
            socket_dir: p("socket_dir").unwrap_or_else(|| "/var/run/postgresql".into()),
            bootstrap: p("bootstrap").as_deref() == Some("yes"),
            sync: p("sync").as_deref() != Some("off"),
            read_only_alone: match p("alone").as_deref() {
                None | Some("async") => false,
                Some("read-only") => true,
                Some(other) => {
                    return Err(format!(
                        "service {}: alone={other:?}: async or read-only",
                        def.name
                    ));
                }
            },
            password: p("password_file").map(|f| password(&f)).transpose()?,
        })
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    /// Runs `args` as PostgreSQL's user: its exit code, stdout, stderr.
    async fn run<S: AsRef<str>>(&self, args: &[S]) -> Result<(i32, String, String), String> {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let args = args.as_slice();
        let as_root = rustix::process::geteuid().is_root();
        let mut cmd = if as_root && self.user != "root" {
            let mut c = Command::new("runuser");
            c.args(["-u", &self.user, "--"]).args(args);
            c
        } else {
            let mut c = Command::new(args[0]);
            c.args(&args[1..]);
            c
        };
        if let Some(pw) = &self.password {
            // Read by the peer's server only; never on a command line.
            cmd.env("PGPASSWORD", pw);
        }
        // SM's own sessions write (ALTER SYSTEM) even while the server
        // refuses its clients' writes (`alone=read-only`).
        cmd.env("PGOPTIONS", "-c default_transaction_read_only=off");
        let out = cmd
            .stdin(Stdio::null())
            .current_dir("/")
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("{}: {e}", args[0]))?;
        Ok((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }

    async fn must<S: AsRef<str>>(&self, args: &[S]) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let args = args.as_slice();
        let (code, out, err) = self.run(args).await?;
        if code != 0 {
            let what = args
                .first()
                .map(|a| a.rsplit('/').next().unwrap_or(a))
                .unwrap_or("");
            return Err(format!(
                "{what} {}: exit {code}: {err}",
                args.get(1).unwrap_or(&"")
            ));
        }
        Ok(out)
    }

    fn pgdata(&self) -> String {
        self.pgdata.display().to_string()
    }

    fn has_data(&self) -> bool {
        self.pgdata.join("PG_VERSION").exists()
    }

    fn is_standby_dir(&self) -> bool {
        self.pgdata.join("standby.signal").exists()
    }

    async fn running(&self) -> Result<bool, String> {
        if !self.has_data() {
            return Ok(false);
        }
        let (code, _, err) = self
            .run(&[&self.tool("pg_ctl"), "status", "-D", &self.pgdata()])
            .await?;
        match code {
            0 => Ok(true),
            3 | 4 => Ok(false),
            _ => Err(format!("pg_ctl status: exit {code}: {err}")),
        }
    }

    /// A query on this server, over its socket, as PostgreSQL's user.
    async fn sql_local(&self, q: &str) -> Result<String, String> {
        self.must(&self.psql(&self.socket_dir, &self.port, q)).await
    }

    /// psql's arguments for one query to `host` (an address or a socket
    /// directory) at `port`, unaligned, tuples only.
    fn psql(&self, host: &str, port: &str, q: &str) -> Vec<String> {
        [
            self.tool("psql").as_str(),
            "-X",
            "-A",
            "-t",
            "-h",
            host,
            "-p",
            port,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            q,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    }

    /// Whether the peer answers as a primary.
    async fn peer_is_primary(&self) -> bool {
        let Some(peer) = &self.peer else {
            return false;
        };
        matches!(
            self.run(&self.psql(peer, &self.peer_port, "SELECT pg_is_in_recovery()"))
                .await,
            Ok((0, ref out, _)) if out == "f"
        )
    }

    async fn peer_answers(&self) -> bool {
        let Some(peer) = &self.peer else {
            return false;
        };
        matches!(
            self.run(&[
                &self.tool("pg_isready"),
                "-h",
                peer,
                "-p",
                &self.peer_port,
                "-t",
                "2"
            ])
            .await,
            Ok((0, _, _))
        )
    }

    fn conninfo(&self) -> Option<String> {
        self.peer.as_ref().map(|peer| {
            let mut c = format!(
                "host={peer} port={} user=postgres application_name={} connect_timeout=2",
                self.peer_port, self.node
            );
            if let Some(pw) = &self.password {
                c.push_str(&format!(" password={pw}"));
            }
            c
        })
    }

    /// Writes (as PostgreSQL's user) what makes the data directory a
    /// standby of the peer.
    async fn configure_standby(&self) -> Result<(), String> {
        let conninfo = self.conninfo().unwrap_or_default();
        let auto = self.pgdata.join("postgresql.auto.conf");
        let mut text: String = std::fs::read_to_string(&auto)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("primary_conninfo"))
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&format!("primary_conninfo = '{conninfo}'\n"));
        self.write_file(&auto, &text).await?;
        self.allow_peer().await?;
        self.write_file(&self.pgdata.join("standby.signal"), "")
            .await
    }

    /// PostgreSQL's user's uid (`-u`) or gid (`-g`).
    async fn id(&self, flag: &str) -> Option<u32> {
        let o = Command::new("id")
            .args([flag, &self.user])
            .output()
            .await
            .ok()?;
        String::from_utf8_lossy(&o.stdout).trim().parse().ok()
    }

    /// Gives `path` to PostgreSQL's user (when SM runs as root).
    async fn own(&self, path: &Path) -> Result<(), String> {
        if rustix::process::geteuid().is_root() && self.user != "root" {
            let (uid, gid) = (self.id("-u").await, self.id("-g").await);
            std::os::unix::fs::chown(path, uid, gid)
                .map_err(|e| format!("chown {}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// Writes a file in the data directory, owned by PostgreSQL's user.
    async fn write_file(&self, path: &Path, text: &str) -> Result<(), String> {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        self.own(path).await
    }

    async fn start(&self) -> Result<(), String> {
        let log = self.pgdata.join("starling-sm-postgres.log");
        let started = self
            .must(&[
                &self.tool("pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                &self.pgdata(),
                "-l",
                &log.display().to_string(),
                "-o",
                &format!("-p {} -k {}", self.port, self.socket_dir),
            ])
            .await;
        started.map(|_| ()).map_err(|e| {
            // What PostgreSQL said is the reason.
            let said = std::fs::read_to_string(&log)
                .unwrap_or_else(|e| format!("(no log: {}: {e})", log.display()));
            let serious: Vec<&str> = said
                .lines()
                .filter(|l| l.contains("FATAL") || l.contains("PANIC") || l.contains("ERROR"))
                .collect();
            let tail: Vec<&str> = if serious.is_empty() {
                said.lines()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            } else {
                serious
                    .into_iter()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            };
            format!("{e}: {}", tail.join(" | "))
        })
    }

    async fn stop(&self) -> Result<(), String> {
        if !self.running().await? {
            return Ok(());
        }
        self.must(&[
            &self.tool("pg_ctl"),
            "stop",
            "-w",
            "-m",
            "fast",
            "-t",
            "60",
            "-D",
            &self.pgdata(),
        ])
        .await
        .map(|_| ())
    }

    /// A new cluster, in recovery until it is promoted.
    async fn initdb(&self) -> Result<(), String> {
        let mut args = vec![
            self.tool("initdb"),
            "--data-checksums".into(),
            "-U".into(),
            "postgres".into(),
            "-A".into(),
            "trust".into(),
            "-D".into(),
            self.pgdata(),
        ];
        // With a password, the cluster has it from the start: the peer
        // copies it before anyone promotes it. The file sits beside the
        // data directory (initdb wants that empty), its owner's only.
        let pwfile = PathBuf::from(format!("{}.pwfile", self.pgdata()));
        if let Some(pw) = &self.password {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&pwfile)
                .and_then(|mut f| f.write_all(format!("{pw}\n").as_bytes()))
                .map_err(|e| format!("{}: {e}", pwfile.display()))?;
            self.own(&pwfile).await?;
            args.push(format!("--pwfile={}", pwfile.display()));
        }
        let made = self.must(&args).await;
        let _ = std::fs::remove_file(&pwfile);
        made?;
        let conf = "listen_addresses = '*'\nwal_level = replica\nhot_standby = on\nwal_keep_size = '256MB'\nwal_log_hints = on\nrecovery_target_timeline = 'latest'\n";
        let path = self.pgdata.join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(conf);
        self.write_file(&path, &text).await?;
        self.allow_peer().await
    }

    /// Lets the peer in (replication and queries, as PostgreSQL's user):
    /// after initdb, and again whenever the data directory came from the
    /// peer (a copy or a rewind brings the peer's pg_hba.conf, which lets
    /// in the peer's peer — this controller — not the peer).
    async fn allow_peer(&self) -> Result<(), String> {
        let Some(peer) = &self.peer else {
            return Ok(());
        };
        let hba = self.pgdata.join("pg_hba.conf");
        let old = std::fs::read_to_string(&hba).unwrap_or_default();
        let net = if peer.contains(':') { "128" } else { "32" };
        // With a password the peer authenticates (SCRAM); without, its
        // address is trusted. Any other line for the peer goes: the first
        // line that matches decides.
        let method = if self.password.is_some() {
            "scram-sha-256"
        } else {
            "trust"
        };
        let want = [
            format!("host replication postgres {peer}/{net} {method}"),
            format!("host all postgres {peer}/{net} {method}"),
        ];
        let for_peer = |l: &str| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 5 && w[0] == "host" && w[2] == "postgres" && w[3] == format!("{peer}/{net}")
        };
        let mut text: String = old
            .lines()
            .filter(|l| !for_peer(l) || want.iter().any(|w| w == l.trim()))
            .map(|l| format!("{l}\n"))
            .collect();
        for line in &want {
            if !text.lines().any(|l| l.trim() == line) {
                text.push_str(line);
                text.push('\n');
            }
        }
        if text != old {
            self.write_file(&hba, &text).await?;
        }
        Ok(())
    }

    /// A copy of the peer's cluster, a standby of it.
    async fn basebackup(&self) -> Result<(), String> {
        let peer = self
            .peer
            .as_deref()
            .ok_or("no `peer` to copy the database from")?;
        self.must(&[
            &self.tool("pg_basebackup"),
            "-h",
            peer,
            "-p",
            &self.peer_port,
            "-U",
            "postgres",
            "-D",
            &self.pgdata(),
            "-X",
            "stream",
            "-c",
            "fast",
        ])
        .await?;
        Ok(())
    }

    /// The data directory set aside (never deleted: an operator may want
    /// it), so a fresh copy can be made.
    fn set_aside(&self) -> Result<(), String> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let to = PathBuf::from(format!("{}.old-{stamp}", self.pgdata()));
        std::fs::rename(&self.pgdata, &to).map_err(|e| format!("{}: {e}", to.display()))?;
        tracing::warn!(moved_to = %to.display(), "the database's old data directory is set aside");
        Ok(())
    }

    /// Makes the data directory, mode 0700, PostgreSQL's user's (for
    /// initdb or pg_basebackup to fill).
    async fn make_dir(&self) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = &self.pgdata;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        self.own(dir).await
    }

    async fn enable(&self) -> Result<(), String> {
        if self.running().await? {
            if self.is_standby_dir() {
                return Ok(());
            }
            self.stop().await?;
        }
        if !self.has_data() {
            if self.bootstrap && !self.peer_answers().await {
                self.make_dir().await?;
                self.initdb().await?;
            } else {
                if self.peer.is_none() {
                    return Err(format!(
                        "no database in {} and no peer to copy it from: set bootstrap=yes on the controller that starts the cloud",
                        self.pgdata()
                    ));
                }
                // The copy waits for the peer's database (bounded by the
                // action's timeout).
                while !self.peer_answers().await {
                    tracing::info!(peer = ?self.peer, "waiting for the peer's database to copy it");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                self.make_dir().await?;
                self.basebackup().await?;
            }
        } else if !self.is_standby_dir() && self.peer_is_primary().await {
            // It was a primary, and the peer is one now: back to where the
            // timelines forked. A peer just promoted names its new timeline
            // in its control file only at its next checkpoint, and
            // pg_rewind reads it there: a checkpoint first.
            let peer = self.peer.as_deref().unwrap_or("");
            if let Err(e) = self
                .must(&self.psql(peer, &self.peer_port, "CHECKPOINT"))
                .await
            {
                tracing::warn!(error = %e, "a checkpoint on the peer before pg_rewind failed");
            }
            let source = format!(
                "host={} port={} user=postgres dbname=postgres",
                self.peer.as_deref().unwrap_or(""),
                self.peer_port
            );
            let rewound = self
                .must(&[
                    &self.tool("pg_rewind"),
                    "--target-pgdata",
                    &self.pgdata(),
                    "--source-server",
                    &source,
                ])
                .await;
            if let Err(e) = rewound {
                tracing::warn!(error = %e, "pg_rewind failed: copying the database afresh");
                self.set_aside()?;
                self.make_dir().await?;
                self.basebackup().await?;
            }
        }
        self.configure_standby().await?;
        self.start().await
    }

    async fn go_active(&self) -> Result<(), String> {
        if !self.running().await? {
            self.enable().await?;
        }
        let in_recovery = self.sql_local("SELECT pg_is_in_recovery()").await?;
        if in_recovery == "t" {
            if self.read_only_alone {
                // No write until the peer streams from this new primary.
                self.hold_writes(true).await?;
            } else {
                // Promoted asynchronous: no write may wait on a standby
                // that is gone (the audit makes it synchronous once the
                // peer streams).
                self.set_synchronous(None).await?;
            }
            self.must(&[
                &self.tool("pg_ctl"),
                "promote",
                "-w",
                "-t",
                "60",
                "-D",
                &self.pgdata(),
            ])
            .await?;
        }
        if let Some(pw) = &self.password {
            // The peer authenticates with it (replicated to the standby
            // with everything else). The statement goes through a file in
            // the private data directory, never a command line.
            let file = self.pgdata.join("starling-sm-role.sql");
            self.write_file(&file, &format!("ALTER ROLE postgres PASSWORD '{pw}';\n"))
                .await?;
            let set = self
                .must(&[
                    self.tool("psql").as_str(),
                    "-X",
                    "-q",
                    "-h",
                    &self.socket_dir,
                    "-p",
                    &self.port,
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-f",
                    &file.display().to_string(),
                ])
                .await;
            let _ = std::fs::remove_file(&file);
            set?;
        }
        let _ = self.sync_standby().await;
        Ok(())
    }

    /// Names `standby` in `synchronous_standby_names`, or none (takes
    /// effect at the next reload).
    async fn set_synchronous(&self, standby: Option<&str>) -> Result<(), String> {
        let names = standby.map_or(String::new(), |s| {
            format!("\"{}\"", s.replace(['\'', '"'], ""))
        });
        self.sql_local(&format!(
            "ALTER SYSTEM SET synchronous_standby_names = '{names}'"
        ))
        .await
        .map(|_| ())
    }

    /// Refuses new writes (every new transaction read-only, the standby
    /// named synchronous so a commit already under way waits for it), or
    /// takes them again.
    async fn hold_writes(&self, hold: bool) -> Result<(), String> {
        // As the configuration says (SM's own sessions are never
        // read-only: SHOW would say off).
        let held = self
            .sql_local(
                "SELECT count(*) FROM pg_file_settings WHERE name = 'default_transaction_read_only' AND setting = 'on'",
            )
            .await?;
        if (held != "0") == hold {
            return Ok(());
        }
        if hold {
            if let Some(peer) = &self.peer_node {
                self.set_synchronous(Some(peer)).await?;
            }
            self.sql_local("ALTER SYSTEM SET default_transaction_read_only = on")
                .await?;
        } else {
            self.sql_local("ALTER SYSTEM RESET default_transaction_read_only")
                .await?;
        }
        self.sql_local("SELECT pg_reload_conf()").await?;
        if hold {
            tracing::warn!(
                "the standby database does not stream: the primary refuses writes (alone=read-only)"
            );
        } else {
            tracing::info!("the standby database streams: the primary takes writes again");
        }
        Ok(())
    }

    /// Synchronous with the peer while it streams, asynchronous otherwise
    /// (a primary whose standby is gone does not stop taking writes) — or,
    /// with `alone=read-only`, refusing writes while it does not stream.
    /// Returns why the primary is impaired: its standby does not stream.
    async fn sync_standby(&self) -> Option<String> {
        let peer = self.peer_node.clone()?;
        let streaming = self
            .sql_local(&format!(
                "SELECT count(*) FROM pg_stat_replication WHERE application_name = '{}' AND state = 'streaming'",
                peer.replace('\'', "")
            ))
            .await
            .is_ok_and(|n| n == "1");
        let impaired = (!streaming).then(|| {
            format!(
                "its standby ({peer}) does not stream: {}",
                if self.read_only_alone {
                    "writes refused"
                } else {
                    "replicating asynchronously"
                }
            )
        });
        if self.read_only_alone {
            if let Err(e) = self.hold_writes(!streaming).await {
                tracing::warn!(error = %e, "cannot hold or release the primary's writes");
            }
            if !streaming {
                // Held: the peer stays named.
                return impaired;
            }
        }
        if !self.sync {
            return impaired;
        }
        let want = if streaming {
            peer.replace(['\'', '"'], "")
        } else {
            String::new()
        };
        let now = self
            .sql_local("SHOW synchronous_standby_names")
            .await
            .unwrap_or_default();
        if now.trim_matches('"') != want {
            match self
                .set_synchronous(Some(want.as_str()).filter(|w| !w.is_empty()))
                .await
            {
                Ok(_) => {
                    let _ = self.sql_local("SELECT pg_reload_conf()").await;
                    if streaming {
                        tracing::info!(standby = %peer, "the database replicates synchronously");
                    } else {
                        tracing::warn!(standby = %peer, "the standby database does not stream: replicating asynchronously");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot set synchronous_standby_names"),
            }
        }
        impaired
    }

    async fn go_standby(&self) -> Result<(), String> {
        self.stop().await?;
        self.configure_standby().await?;
        self.start().await
    }

    async fn audit(&self) -> Result<Finding, String> {
        if !self.running().await? {
            return Ok(ServiceState::Disabled.into());
        }
        match self.sql_local("SELECT pg_is_in_recovery()").await?.as_str() {
            "t" => Ok(ServiceState::EnabledStandby.into()),
            "f" => Ok(Finding {
                state: ServiceState::EnabledActive,
                impaired: self.sync_standby().await,
            }),
            other => Err(format!("pg_is_in_recovery() said {other:?}")),
        }
    }
}

/// Runs `kind` of the `postgres` service `def`.
pub async fn run(def: &ServiceDef, kind: ActionKind) -> Result<Option<Finding>, String> {
    let pg = Pg::of(def)?;
    match kind {
        ActionKind::AuditEnabled | ActionKind::AuditDisabled => pg.audit().await.map(Some),
        ActionKind::Enable => pg.enable().await.map(|()| None),
        ActionKind::GoActive => pg.go_active().await.map(|()| None),
        ActionKind::GoStandby => pg.go_standby().await.map(|()| None),
        ActionKind::Disable => pg.stop().await.map(|()| None),
    }
}
