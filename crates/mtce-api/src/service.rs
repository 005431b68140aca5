//! Host maintenance as a `starlingd` service: its options (the heartbeat's
//! period and key) and its start (the key made sure of, the heartbeat
//! started over inventory's hosts).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use starling_heartbeat::{Heartbeat, Key, PERIODS, Pulser};
use starling_http::BoxFuture;
use starling_mtce::{Network, Thresholds, Timers};
use starling_service::{CatalogEntry, Ctx, Service, Started, parse_duration};

use crate::MtceState;

/// Maintenance's options (`[mtce]` in the configuration file).
#[derive(clap::Args, Debug, Clone)]
pub struct MtceOptions {
    /// Time between heartbeat pulses, 100ms to 1s (StarlingX: 100 ms).
    #[arg(long, env = "STARLING_HEARTBEAT_PERIOD", default_value = "100ms", value_parser = parse_duration)]
    pub heartbeat_period: Duration,
    /// The cloud's heartbeat key (64 hex digits; generated when missing;
    /// default <data-dir>/heartbeat-key).
    #[arg(long, env = "STARLING_HEARTBEAT_KEY_FILE")]
    pub heartbeat_key_file: Option<PathBuf>,
    /// The controller's address on the cluster-host network: hosts that
    /// registered an address there are pulsed there too (200.009).
    #[arg(long, env = "STARLING_HEARTBEAT_CLUSTER_ADDRESS")]
    pub heartbeat_cluster_address: Option<std::net::IpAddr>,
    /// Heartbeat soak before a host enters service (StarlingX: 11s).
    #[arg(long, env = "STARLING_HEARTBEAT_SOAK", default_value = "11s", value_parser = parse_duration)]
    pub heartbeat_soak: Duration,
    /// Time a failed host has to answer again before it is rebooted
    /// (graceful recovery; StarlingX: 7s).
    #[arg(long, env = "STARLING_RECOVERY_WINDOW", default_value = "7s", value_parser = parse_duration)]
    pub recovery_window: Duration,
    /// Time a reboot request over one network waits for its
    /// acknowledgement before the next way is tried (StarlingX: 10s).
    #[arg(long, env = "STARLING_REBOOT_ACK_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub reboot_ack_timeout: Duration,
    /// Time from a host's failure to its BMC reset, for a crash dump to
    /// finish (StarlingX: 300s).
    #[arg(long, env = "STARLING_BMC_RESET_DELAY", default_value = "300s", value_parser = parse_duration)]
    pub bmc_reset_delay: Duration,
    /// Time a rebooted, reset or unlocked host has to answer its heartbeat
    /// (StarlingX: 720s for a worker).
    #[arg(long, env = "STARLING_BOOT_TIMEOUT", default_value = "720s", value_parser = parse_duration)]
    pub boot_timeout: Duration,
    /// Reset rounds (reboot requests, then the BMC) before recovery gives
    /// up until a lock and unlock (StarlingX: 2).
    #[arg(long, env = "STARLING_RESET_ROUNDS", default_value_t = 2)]
    pub reset_rounds: u32,
    /// Time between audits of the BMC sensors of every host with a BMC
    /// (StarlingX: 2 minutes).
    #[arg(long, env = "STARLING_SENSOR_INTERVAL", default_value = "120s", value_parser = parse_duration)]
    pub sensor_interval: Duration,
    /// The BMCs' Redfish scheme: https, or http (an emulator).
    #[arg(long, env = "STARLING_BMC_SCHEME", default_value = "https", value_parser = ["https", "http"])]
    pub bmc_scheme: String,
    /// The BMCs' Redfish port.
    #[arg(long, env = "STARLING_BMC_PORT", default_value_t = 443)]
    pub bmc_port: u16,
    /// CA certificates (PEM) that verify the BMCs' certificates (default:
    /// the system's roots).
    #[arg(long, env = "STARLING_BMC_CA_FILE")]
    pub bmc_ca_file: Option<PathBuf>,
    /// Accept any BMC certificate (self-signed ones): an explicit choice.
    #[arg(long, env = "STARLING_BMC_INSECURE")]
    pub bmc_insecure: bool,
    /// The IPMI BMCs' UDP port (bm_type=ipmi).
    #[arg(long, env = "STARLING_IPMI_PORT", default_value_t = 623)]
    pub ipmi_port: u16,
    /// ipmitool's interface to the IPMI BMCs: lanplus (IPMI 2.0), or lan.
    #[arg(long, env = "STARLING_IPMI_INTERFACE", default_value = "lanplus", value_parser = ["lanplus", "lan"])]
    pub ipmi_interface: String,
    /// The ipmitool program.
    #[arg(long, env = "STARLING_IPMITOOL", default_value = "ipmitool")]
    pub ipmitool: PathBuf,
}

/// The maintenance service, as `starlingd` lists it.
pub struct MtceService;

/// The maintenance service's entry in `starlingd`'s list of services.
pub static SERVICE: MtceService = MtceService;

impl Service for MtceService {
    fn name(&self) -> &'static str {
        "mtce"
    }
    fn port(&self) -> Option<u16> {
        Some(crate::DEFAULT_PORT)
    }
    fn catalog(&self) -> Option<CatalogEntry> {
        None
    }
    fn schema(&self) -> Option<starling_db::Schema> {
        None
    }
    fn service_account(&self) -> Option<&'static str> {
        None
    }
    fn uses(&self) -> &'static [&'static str] {
        &["fm", "inventory"]
    }
    fn options(&self) -> Vec<clap::Arg> {
        starling_service::args_of::<MtceOptions>()
    }
    fn start(&self, ctx: Ctx) -> BoxFuture<'static, Result<Started, String>> {
        Box::pin(start(ctx))
    }
}

/// The heartbeat key of `file`, generated into it (0600) when missing.
fn key_of(file: &std::path::Path) -> Result<Key, String> {
    match std::fs::read_to_string(file) {
        Ok(s) => Key::from_hex(&s).map_err(|e| format!("{}: {e}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let k = Key::generate()?;
            starling_service::write_private(file, &format!("{}\n", k.to_hex()))
                .map_err(|e| e.to_string())?;
            tracing::info!(file = %file.display(), "generated the heartbeat key");
            Ok(k)
        }
        Err(e) => Err(format!("cannot read {}: {e}", file.display())),
    }
}

async fn start(ctx: Ctx) -> Result<Started, String> {
    let o: MtceOptions = ctx.options()?;
    if !PERIODS.contains(&o.heartbeat_period) {
        return Err(format!(
            "--heartbeat-period must be from 100ms to 1s, not {:?}",
            o.heartbeat_period
        ));
    }
    if o.sensor_interval < std::time::Duration::from_secs(1) {
        return Err(format!(
            "--sensor-interval must be at least 1s, not {:?}",
            o.sensor_interval
        ));
    }
    let hosts = ctx.hosts.clone().ok_or(
        "host maintenance runs beside inventory (in the same starlingd): its hosts and their \
         agents' credentials are inventory's",
    )?;
    let file = o
        .heartbeat_key_file
        .clone()
        .or_else(|| ctx.data_dir.as_ref().map(|d| d.join("heartbeat-key")))
        .ok_or("no --heartbeat-key-file and no data directory to keep the heartbeat key in")?;
    let key = key_of(&file)?;
    let pulser = Pulser::bind(
        Network::Mgmt,
        "0.0.0.0:0".parse().map_err(|e| format!("{e}"))?,
        key.clone(),
    )
    .await
    .map_err(|e| format!("cannot open the heartbeat socket: {e}"))?;
    let cluster = match o.heartbeat_cluster_address {
        Some(ip) => Some(
            Pulser::bind(
                Network::Cluster,
                std::net::SocketAddr::new(ip, 0),
                key.clone(),
            )
            .await
            .map_err(|e| format!("cannot open the heartbeat socket on {ip}: {e}"))?,
        ),
        None => None,
    };
    let hb = Heartbeat::new(pulser, cluster, o.heartbeat_period, Thresholds::default())
        .map_err(|e| e.to_string())?;
    let timers = Timers {
        soak: o.heartbeat_soak,
        recovery_window: o.recovery_window,
        reboot_ack: o.reboot_ack_timeout,
        bmc_reset_delay: o.bmc_reset_delay,
        boot_timeout: o.boot_timeout,
        reset_rounds: o.reset_rounds,
        ..Timers::default()
    };
    let ca_pem = match &o.bmc_ca_file {
        Some(f) => Some(std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?),
        None => None,
    };
    let bmc = crate::BmcReach {
        scheme: o.bmc_scheme.clone(),
        port: o.bmc_port,
        ca_pem,
        insecure: o.bmc_insecure,
        ipmi_port: o.ipmi_port,
        ipmi_interface: o.ipmi_interface.clone(),
        ipmitool: o.ipmitool.clone(),
    };
    // From now on an unlocked host is tested and enabled here, and the
    // reset and power actions of a host with a BMC are carried out here.
    hosts.maintained(Arc::new(crate::MtceBmc {
        hosts: hosts.clone(),
        reach: bmc.clone(),
    }));
    let state = MtceState {
        db: ctx.db.clone(),
        hosts,
        alarms: ctx.alarms.clone(),
        targets: Arc::new(Mutex::new(BTreeMap::new())),
        key,
        period: o.heartbeat_period,
        pulses: hb
            .stats(Network::Mgmt)
            .cloned()
            .ok_or("the heartbeat has no management pulser")?,
        levels: Arc::default(),
        timers,
        bmc,
        monitors: Arc::default(),
    };
    tracing::info!(period = ?o.heartbeat_period, "host heartbeat ready");
    Ok(Started {
        tasks: vec![
            Box::pin(crate::heartbeat(state.clone(), hb)),
            Box::pin(crate::sensor_audit(
                state.hosts.clone(),
                state.alarms.clone(),
                state.bmc.clone(),
                o.sensor_interval,
            )),
        ],
        ..Started::serving(crate::router(state))
    })
}
