//! `starling-sm`: service management alone, for the controllers of a
//! duplex cloud. The same as `starlingd sm` (same options and variables),
//! linked without the API services so it stays small: it runs beside them
//! on each controller.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use starling_common::SystemClock;
use starling_server::sm::{self, SmArgs};
use starling_server::{LogFormat, RemoteAuthArgs, init_logging, parse_duration, shutdown};

#[derive(Parser, Debug)]
#[command(
    name = "starling-sm",
    version,
    about = "Starling service management: runs this controller's service groups active or standby with its peer"
)]
struct Cli {
    #[command(flatten)]
    sm: SmArgs,
    /// Data directory (SM keeps its own under <data-dir>/sm).
    #[arg(long, env = "STARLING_DATA_DIR", default_value = "/var/lib/starling")]
    data_dir: PathBuf,
    /// How SM logs in to report its alarms and check swact tokens
    /// (password in STARLING_AUTH_PASSWORD).
    #[command(flatten)]
    remote: RemoteAuthArgs,
    /// FM, where SM's alarms are reported (the floating management
    /// address in a duplex).
    #[arg(
        long,
        env = "STARLING_FM_URL",
        default_value = "http://127.0.0.1:18002"
    )]
    fm_url: String,
    /// CA bundle (PEM) that verifies an https --fm-url.
    #[arg(long, env = "STARLING_FM_CACERT")]
    fm_cacert: Option<PathBuf>,
    /// Where alarms wait while FM is unreachable (default <sm-dir>/spool).
    #[arg(long, env = "STARLING_SPOOL_DIR")]
    spool_dir: Option<PathBuf>,
    /// Log filter (e.g. info, or info,starling_sm_api=debug).
    #[arg(long, env = "STARLING_LOG", default_value = "info")]
    log: String,
    /// Log line format.
    #[arg(long, env = "STARLING_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// After the stop signal, how long the groups have to be disabled
    /// beyond --sm-shutdown-timeout before SM is cut off.
    #[arg(long, env = "STARLING_SHUTDOWN_GRACE", default_value = "5s", value_parser = parse_duration)]
    shutdown_grace: Duration,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = init_logging(&cli.log, cli.log_format) {
        eprintln!("starling-sm: {e:#}");
        std::process::exit(2);
    }
    // SM's work is a tick every 100 ms and a few actions at a time.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("starling-sm")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starling-sm: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let run = async {
        if let Err(e) = starling_service::private_dir(&cli.data_dir) {
            anyhow::bail!("cannot create the data directory: {e}");
        }
        if let Some(action) = &cli.sm.action {
            return sm::command(&cli.sm, action, &cli.data_dir).await;
        }
        let mut cfg = sm::config(&cli.sm, &cli.data_dir)?;
        sm::attach(
            &mut cfg,
            &cli.sm,
            &cli.data_dir,
            &cli.remote,
            sm::FmTarget {
                url: &cli.fm_url,
                cacert: cli.fm_cacert.as_deref(),
                spool_dir: cli.spool_dir.as_deref(),
            },
            Arc::new(SystemClock),
        )
        .await?;
        let limit = cfg.shutdown_timeout + cli.shutdown_grace;
        starling_server::sd_notify("READY=1");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(starling_sm_api::run(cfg, async move {
            let _ = rx.await;
        }));
        tokio::pin!(task);
        tokio::select! {
            r = &mut task => return r?.map_err(anyhow::Error::msg),
            () = shutdown() => {}
        }
        starling_server::sd_notify("STOPPING=1");
        let _ = tx.send(());
        match tokio::time::timeout(limit, task).await {
            Ok(r) => r?.map_err(anyhow::Error::msg),
            Err(_) => anyhow::bail!("the service groups were not disabled within {limit:?}"),
        }
    };
    if let Err(e) = rt.block_on(run) {
        eprintln!("starling-sm: {e:#}");
        std::process::exit(1);
    }
}
