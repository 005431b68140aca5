//! `starlingd`: the multi-call Starling daemon.
//!
//! * `starlingd` (no subcommand): all-in-one — every service of the list
//!   (identity :5000, fault management :18002, inventory :6385) in one
//!   process, on embedded SQLite under `--data-dir`; tokens are validated
//!   in-process.
//! * `starlingd --services fm,inventory [--database-url URL]`: a subset of
//!   them; without identity, tokens are validated against `--auth-url`
//!   (Starling's identity or an external Keystone) or the identity tables of
//!   the same database, and alarms go to `--fm-url` when FM runs elsewhere.
//! * `starlingd fm --database-url URL`, `starlingd inventory --database-url
//!   URL`: one service alone, as before `--services` existed.
//! * `starlingd agent`: the host agent.
//! * `starlingd config show`: the effective configuration.
//!
//! Options come from the flags, `STARLING_*` variables and the TOML file
//! (`options`); each service's are accepted only where it runs.

mod bootstrap;
mod options;

use starling_server::{
    AGENT_HTTP_TIMEOUT, fm_client, http_client, identity_session, init_logging, shutdown, sm,
};

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use options::{Command, Common, LocalAgentArgs, Mode, Parsed};
use starling_auth::{LocalAuth, LocalIssuer, RemoteAuth, ServiceSession, TokenCache};
use starling_common::alarm::AlarmSink;
use starling_common::{Clock, SystemClock, TokenSource};
use starling_db::{Db, Tuning};
use starling_http::Authenticator;
use starling_identity_api::auth_settings;
use starling_inventory_api::InventoryState;
use starling_server::RemoteAuthArgs;
use starling_service::{Ctx, Endpoint, Service, Site, Started};

/// The host put in catalog URLs.
fn advertised_host(c: &Common) -> String {
    if let Some(h) = c.advertise_host.as_ref().filter(|h| !h.is_empty()) {
        return h.clone();
    }
    if c.bind.is_unspecified() {
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            let h = h.trim();
            if !h.is_empty() {
                return h.to_string();
            }
        }
        return "127.0.0.1".into();
    }
    match c.bind {
        IpAddr::V6(a) => format!("[{a}]"),
        IpAddr::V4(a) => a.to_string(),
    }
}

fn main() {
    let parsed = match options::parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("starlingd: {e:#}");
            std::process::exit(2);
        }
    };
    let common = &parsed.cli.common;
    if let Err(e) = init_logging(&common.log, common.log_format) {
        eprintln!("starlingd: {e:#}");
        std::process::exit(2);
    }
    // Every listener's connections share one descriptor table: the soft
    // limit (often 1,024) goes up to the hard one.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let mode = match options::mode(&parsed).and_then(|m| {
        options::check_applies(&parsed, &m)?;
        Ok(m)
    }) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("starlingd: {e:#}");
            std::process::exit(2);
        }
    };
    if let Some(Command::Config { .. }) = &parsed.cli.command {
        print!("{}", options::show(&parsed, &mode));
        return;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("starlingd")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starlingd: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    // Printed once, on stderr (where the log goes too).
    if let Err(e) = rt.block_on(run(parsed, mode)) {
        eprintln!("starlingd: {e:#}");
        std::process::exit(1);
    }
}

fn default_data_dir() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("starling"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/starling")),
        None => bail!("no data directory: set --data-dir or STARLING_DATA_DIR"),
    }
}

/// The data directory, created private: it holds the database (password
/// and token hashes), the admin password and keys.
fn data_dir(c: &Common) -> Result<PathBuf> {
    let dir = match &c.data_dir {
        Some(d) => d.clone(),
        None => default_data_dir()?,
    };
    starling_service::private_dir(&dir).context("cannot create the data directory")?;
    Ok(dir)
}

async fn open_db(url: &str) -> Result<Db> {
    Db::open(url, Tuning::default(), &starling_server::schemas())
        .await
        .with_context(|| format!("cannot open database {}", starling_db::redact_url(url)))
}

/// The port option of `service`.
fn port_of(p: &Parsed, service: &str) -> Result<u16> {
    p.matches
        .get_one::<u16>(&starling_service::port_option(service))
        .copied()
        .with_context(|| format!("no port option for service {service}"))
}

type Servers = tokio::task::JoinSet<std::io::Result<()>>;

async fn run(p: Parsed, mode: Mode) -> Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop_seen = stop_rx.clone();
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut servers = Servers::new();
    match (&p.cli.command, mode) {
        (Some(Command::Agent(a)), _) => {
            let cfg = starling_server::agent_config(a, &p.cli.remote, clock.clone()).await?;
            starling_server::sd_notify("READY=1");
            let stop = stopped();
            servers.spawn(async move {
                starling_agent::run::run(cfg, stop).await;
                Ok(())
            });
        }
        (_, Mode::Run(services)) => {
            run_services(&p, &services, clock, &mut servers, &stopped).await?;
        }
        (Some(Command::Sm(a)), _) => {
            let dir = data_dir(&p.cli.common)?;
            if let Some(action) = &a.action {
                return sm::command(a, action, &dir).await;
            }
            let mut cfg = sm::config(a, &dir)?;
            // SM's alarms go to FM (behind the floating address in a
            // duplex), spooled while it is away, as this service account.
            let r = &p.cli.fm_remote;
            sm::attach(
                &mut cfg,
                a,
                &dir,
                &p.cli.remote,
                sm::FmTarget {
                    url: &r.fm_url,
                    cacert: r.fm_cacert.as_deref(),
                    spool_dir: r.spool_dir.as_deref(),
                },
                clock.clone(),
            )
            .await?;
            let stop = stopped();
            starling_server::sd_notify("READY=1");
            servers.spawn(async move {
                starling_sm_api::run(cfg, stop)
                    .await
                    .map_err(std::io::Error::other)
            });
        }
        (_, Mode::Agent) => bail!("the agent runs as `starlingd agent`"),
        (_, Mode::Sm) => bail!("service management runs as `starlingd sm`"),
    }
    tokio::spawn(async move {
        shutdown().await;
        starling_server::sd_notify("STOPPING=1");
        let _ = stop_tx.send(true);
    });
    // After the signal, requests in flight have the grace period to finish;
    // then whatever is left (a client holding a half-sent request) is cut off.
    let mut grace = p.cli.common.shutdown_grace;
    if let Some(Command::Sm(a)) = &p.cli.command {
        // Service management disables its groups on the way out.
        grace = grace.max(a.sm_shutdown_timeout + Duration::from_secs(5));
    }
    let over = async move {
        let _ = stop_seen.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::pin!(over);
    loop {
        tokio::select! {
            r = servers.join_next() => match r {
                Some(r) => r.context("server task failed")?.context("server failed")?,
                None => break,
            },
            () = &mut over => {
                tracing::warn!(
                    tasks = servers.len(),
                    grace_s = grace.as_secs_f64(),
                    "shutdown grace period over: cutting off what is left"
                );
                servers.abort_all();
                break;
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Starts `services` in the list's order, each given what it needs, then
/// serves their APIs; the all-in-one's own host agent comes last.
async fn run_services<F, Fut>(
    p: &Parsed,
    services: &[&'static dyn Service],
    clock: Arc<dyn Clock>,
    servers: &mut Servers,
    stopped: &F,
) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let c = &p.cli.common;
    let runs = |name: &str| services.iter().any(|s| s.name() == name);
    let limits = starling_http::serve::Limits {
        max_connections: c.max_connections,
        header_read_timeout: c.http_header_timeout,
        body_idle_timeout: c.http_body_timeout,
    };
    // `fm` and `inventory` alone keep to their database unless a data
    // directory is named; every other run has one.
    let alone = matches!(p.cli.command, Some(Command::Fm | Command::Inventory));
    let dir = if alone && c.data_dir.is_none() {
        None
    } else {
        Some(data_dir(c)?)
    };
    let url = match (&c.database_url, &dir) {
        (Some(u), _) => u.clone(),
        (None, Some(d)) => {
            let file = d.join("starling.db");
            bootstrap::private_db_file(&file)?;
            format!("sqlite://{}", file.display())
        }
        (None, None) => bail!("no database: set --database-url or --data-dir"),
    };
    let db = open_db(&url).await?;
    let tls = tls_config(c, dir.as_deref())?;
    let cache = Arc::new(TokenCache::new(
        c.token_cache_ttl,
        TokenCache::DEFAULT_CAPACITY,
    ));
    let (auth, session): (Arc<dyn Authenticator>, _) = if runs("identity") {
        (
            Arc::new(LocalAuth::new(db.clone(), clock.clone(), cache.clone())),
            None,
        )
    } else {
        service_auth(&p.cli.remote, &db, clock.clone(), cache.clone()).await?
    };
    let mut endpoints = Vec::new();
    for s in services {
        if let (Some(entry), Some(_)) = (s.catalog(), s.port()) {
            let url = format!(
                "{}{}",
                service_url(c, tls.as_ref(), port_of(p, s.name())?),
                entry.path
            );
            endpoints.push(Endpoint { entry, url });
        }
    }
    let base = Ctx {
        db: db.clone(),
        clock: clock.clone(),
        auth,
        token_cache: cache,
        token_ttl: c.token_ttl,
        options: p.matches.clone(),
        given: Arc::new(p.given.clone()),
        site: Site {
            system_name: c.system_name.clone(),
            region_name: c.region_name.clone(),
        },
        data_dir: dir.clone(),
        tls_ca: tls.as_ref().and_then(|t| t.ca.clone()),
        endpoints,
        service_accounts: starling_service::service_accounts(services),
        tokens: None,
        alarms: None,
        hosts: None,
    };
    // An account's tokens: the identity service's session when there is
    // one, issued in-process from the database otherwise.
    let tokens_of = |account: &str| -> Arc<dyn TokenSource> {
        match &session {
            Some(s) => s.clone(),
            None => Arc::new(LocalIssuer::new(
                db.clone(),
                clock.clone(),
                account,
                auth_settings(c.token_ttl, None),
            )),
        }
    };
    let mut offered: Option<Arc<dyn AlarmSink>> = None;
    let mut offered_hosts: Option<Arc<dyn starling_service::Hosts>> = None;
    let mut started: Vec<(&'static dyn Service, Started)> = Vec::new();
    for s in services {
        let tokens = s.service_account().map(tokens_of);
        let alarms = if s.uses().contains(&"fm") {
            Some(fm_for(
                p,
                s.name(),
                offered.as_ref(),
                tokens.clone(),
                tls.as_ref(),
                dir.as_deref(),
            )?)
        } else {
            None
        };
        let hosts = if s.uses().contains(&"inventory") {
            offered_hosts.clone()
        } else {
            None
        };
        let ctx = Ctx {
            tokens,
            alarms,
            hosts,
            ..base.clone()
        };
        let st = s.start(ctx).await.map_err(|e| anyhow::anyhow!(e))?;
        if st.alarms.is_some() {
            offered = st.alarms.clone();
        }
        if st.hosts.is_some() {
            offered_hosts = st.hosts.clone();
        }
        started.push((*s, st));
    }
    // A service served by another's listener (configuration's routes on
    // inventory's platform API) has its routes merged into that router.
    let mut guests: Vec<(&'static str, &'static str, axum::Router)> = Vec::new();
    for (s, st) in started.iter_mut() {
        if let Some(host) = s.served_by()
            && let Some(app) = st.router.take()
        {
            guests.push((s.name(), host, app));
        }
    }
    for (name, host, app) in guests {
        let Some((_, st)) = started.iter_mut().find(|(s, _)| s.name() == host) else {
            bail!("{name} is served by {host}'s listener: run {host} with it");
        };
        let Some(base) = st.router.take() else {
            bail!("{name} is served by {host}'s listener, and {host} serves nothing");
        };
        st.router = Some(app.merge(base));
    }
    let mut ready = Vec::new();
    let mut inventory: Option<Arc<InventoryState>> = None;
    for (s, st) in started {
        for task in st.tasks {
            servers.spawn(async move { task.await.map_err(std::io::Error::other) });
        }
        ready.extend(st.ready);
        if let Some(state) = st.state
            && let Ok(i) = state.downcast::<InventoryState>()
        {
            inventory = Some(i);
        }
        if let Some(app) = st.router {
            let listener = listen(c.bind, port_of(p, s.name())?, s.name(), &url).await?;
            servers.spawn(serve(listener, app, tls.as_ref(), stopped(), limits));
        }
    }
    // Listening, and ready once every service says so (identity's first
    // records): systemd's Type=notify start completes then.
    let waits = ready.clone();
    tokio::spawn(async move {
        for mut r in waits {
            if r.wait_for(|done| *done).await.is_err() {
                return;
            }
        }
        starling_server::sd_notify("READY=1");
    });
    let local = &p.cli.local;
    if runs("identity")
        && !local.no_local_agent
        && let Some(inventory) = inventory
    {
        // A machine whose management MAC cannot be told (no PCI network
        // port, e.g. some containers) still runs Starling; it just has no
        // local host until one is named.
        let inventory_url = service_url(c, tls.as_ref(), port_of(p, "inventory")?);
        let mtce_url = if runs("mtce") {
            Some(service_url(c, tls.as_ref(), port_of(p, "mtce")?))
        } else {
            None
        };
        match local_agent(
            local,
            &inventory,
            inventory_url,
            mtce_url,
            tls.as_ref(),
            dir.as_deref(),
        )
        .await
        {
            Ok(cfg) => {
                let stop = stopped();
                servers.spawn(async move {
                    // It reports once every service serves.
                    for mut r in ready {
                        if r.wait_for(|done| *done).await.is_err() {
                            return Ok(());
                        }
                    }
                    starling_agent::run::run(cfg, stop).await;
                    Ok(())
                });
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "no local host agent"),
        }
    }
    Ok(())
}

/// Where service `name` raises alarms: FM in this process when it runs
/// here (an earlier all-in-one's spool is replayed to it), FM's HTTP client
/// to `--fm-url` otherwise.
fn fm_for(
    p: &Parsed,
    name: &str,
    local: Option<&Arc<dyn AlarmSink>>,
    tokens: Option<Arc<dyn TokenSource>>,
    tls: Option<&Tls>,
    dir: Option<&Path>,
) -> Result<Arc<dyn AlarmSink>> {
    let c = &p.cli.common;
    if let Some(fm) = local {
        if let Some(dir) = dir {
            starling_service::private_dir(&dir.join("spool"))?;
            drain_old_spool(fm_client(
                &service_url(c, tls, port_of(p, "fm")?),
                tokens,
                tls.and_then(|t| t.ca.as_deref()),
                dir.join("spool").join(name),
            )?);
        }
        return Ok(fm.clone());
    }
    let r = &p.cli.fm_remote;
    let spool = match &r.spool_dir {
        Some(d) => d.clone(),
        None => match dir {
            Some(d) => d.join("spool").join(name),
            None => default_data_dir()?.join("spool").join(name),
        },
    };
    let client = fm_client(&r.fm_url, tokens, r.fm_cacert.as_deref(), spool)?;
    tracing::info!(fm_url = %r.fm_url, queued = client.queued(), service = name, "alarms are reported to FM");
    Ok(Arc::new(client))
}

/// How a service running alone validates tokens, and its own session with
/// the identity service when it has one.
async fn service_auth(
    remote: &RemoteAuthArgs,
    db: &Db,
    clock: Arc<dyn Clock>,
    cache: Arc<TokenCache>,
) -> Result<(Arc<dyn Authenticator>, Option<Arc<ServiceSession>>)> {
    let Some(session) = identity_session(remote, clock.clone()).await? else {
        tracing::info!("no --auth-url: validating tokens against this database's identity tables");
        return Ok((Arc::new(LocalAuth::new(db.clone(), clock, cache)), None));
    };
    tracing::info!(auth_url = %session.base(), "validating tokens against the identity service");
    let ra = RemoteAuth::new(session.clone(), clock, cache);
    Ok((Arc::new(ra), Some(session)))
}

/// Reports an all-in-one of an earlier release queued in its spool (it sent
/// them to FM over loopback) are still delivered: the client replays them
/// once FM answers, and goes when the spool is empty.
fn drain_old_spool(client: starling_fm_client::FmClient) {
    let n = client.queued();
    if n == 0 {
        return;
    }
    tracing::info!(queued = n, "replaying reports an earlier start left for FM");
    tokio::spawn(async move {
        while client.queued() > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tracing::info!("the earlier start's reports reached FM");
    });
}

/// The all-in-one's own host: controller-0 bootstrapped from this machine's
/// management MAC, and the agent that inventories it through the local
/// inventory API with the host's own agent credential, issued anew at each
/// start (it speaks for this host only, as every host's agent does).
async fn local_agent(
    a: &LocalAgentArgs,
    inventory: &InventoryState,
    inventory_url: String,
    mtce_url: Option<String>,
    tls: Option<&Tls>,
    dir: Option<&Path>,
) -> Result<starling_agent::run::Config> {
    let root = starling_agent::Root::new(Path::new("/"));
    let (r, i) = (root.clone(), a.host.mgmt_interface.clone());
    let id = tokio::task::spawn_blocking(move || starling_agent::identity(&r, i.as_deref()))
        .await
        .context("local discovery stopped")?
        .map_err(|e| anyhow::anyhow!("cannot tell this machine's management MAC (--mgmt-interface, or --no-local-agent): {e}"))?;
    match starling_inventory_api::bootstrap_controller(
        inventory,
        "controller-0",
        &id.mgmt_mac,
        id.boot_disk.as_deref(),
    )
    .await
    {
        Ok(Some(h)) => {
            tracing::info!(mac = %h.mgmt_mac, "this machine is bootstrapped as controller-0")
        }
        Ok(None) => {}
        Err(e) => bail!(
            "cannot bootstrap this machine as controller-0: {}",
            e.message
        ),
    }
    let credential = starling_inventory_api::agents::issue_local_credential(
        inventory,
        &id.hostname,
        &id.mgmt_mac,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot give this host's agent its credential: {}",
            e.message
        )
    })?;
    let ca = tls.and_then(|t| t.ca.as_deref());
    let mut cfg = a.host.config(
        root,
        inventory_url,
        starling_agent::run::Auth::Token(Arc::new(starling_common::StaticToken(credential))),
        http_client(ca, AGENT_HTTP_TIMEOUT)?,
        Duration::from_secs(60),
    );
    // Its configuration is written under the data directory unless the
    // operator names the machine's own root.
    cfg.configure = match (&a.host.config_root, dir) {
        (Some(root), _) => Some(root.clone()),
        (None, Some(d)) => Some(d.join("host-root")),
        (None, None) => None,
    }
    .map(|root| starling_agent::apply::ApplySetup {
        applied_file: root.join("etc/platform/.config_applied"),
        root,
        network: a.host.network_setup(),
    });
    if let (Some(c), Some(d)) = (&mut cfg.configure, dir)
        && c.root == Path::new("/")
    {
        c.applied_file = d.join("config-applied");
    }
    cfg.heartbeat = mtce_url.map(|mtce_url| starling_agent::run::HeartbeatSetup {
        mtce_url,
        port: a.host.heartbeat_port,
        cluster_address: a.host.cluster_address,
    });
    Ok(cfg)
}

/// The URL of one of this process's own services.
fn service_url(c: &Common, tls: Option<&Tls>, port: u16) -> String {
    let scheme = if tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{}:{port}", advertised_host(c))
}

/// The listeners' TLS: certificate files, a self-signed certificate in the
/// data directory, or none.
struct Tls {
    config: Arc<tokio_rustls::rustls::ServerConfig>,
    /// The CA to put in openrc as OS_CACERT.
    ca: Option<PathBuf>,
}

fn tls_config(c: &Common, data_dir: Option<&std::path::Path>) -> Result<Option<Tls>> {
    let (cert, key, ca) = match (&c.tls_cert, &c.tls_key, c.tls_self_signed) {
        (Some(cert), Some(key), _) => (cert.clone(), key.clone(), c.tls_ca.clone()),
        (_, _, true) => {
            let dir = data_dir.context(
                "--tls-self-signed needs the all-in-one data directory; a service running \
                 alone takes --tls-cert and --tls-key",
            )?;
            let (cert, key) = bootstrap::self_signed(dir, &tls_names(c))?;
            (cert.clone(), key, Some(cert))
        }
        _ => return Ok(None),
    };
    let config = starling_http::tls::server_config(&cert, &key).map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!(certificate = %cert.display(), "listeners serve HTTPS");
    Ok(Some(Tls { config, ca }))
}

/// The names a generated certificate is valid for.
fn tls_names(c: &Common) -> Vec<String> {
    let mut names = vec![
        advertised_host(c).trim_matches(['[', ']']).to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
    ];
    if !c.bind.is_unspecified() {
        names.push(c.bind.to_string());
    }
    names.sort();
    names.dedup();
    names
}

fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<&Tls>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    limits: starling_http::serve::Limits,
) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static {
    let config = tls.map(|t| t.config.clone());
    starling_http::serve::run(listener, config, app, stop, limits)
}

async fn listen(
    bind: IpAddr,
    port: u16,
    service: &str,
    url: &str,
) -> Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(bind, port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({service})"))?;
    let local = listener.local_addr().context("no local address")?;
    tracing::info!(service, %local, database = %starling_db::redact_url(url), "listening");
    Ok(listener)
}
