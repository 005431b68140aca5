//! System configuration as a `starlingd` service: its options (the first
//! start's DNS, NTP, OAM and platform network values, StarlingX's bootstrap
//! defaults) and its
//! start (the records made sure of, the follower of inventory's hosts).
//! Its routes are served on inventory's listener, the platform API.

use std::time::Duration;

use starling_config::{Initial, OamFields};
use starling_config_store::ConfigStore;
use starling_http::BoxFuture;
use starling_service::{CatalogEntry, Ctx, Service, Started, parse_duration};

use crate::ConfigState;

/// Configuration's options (`[config]` in the configuration file). The
/// DNS, NTP, OAM and network values apply at the first start; later starts keep
/// what is stored (`system dns-modify`, `ntp-modify`, `oam-modify` change
/// it).
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigOptions {
    /// The first DNS servers (comma list, at most 3).
    #[arg(long, env = "STARLING_DNS_SERVERS", default_value = "8.8.8.8,8.8.4.4")]
    pub dns_servers: String,
    /// The first NTP servers (comma list, at most 3; none by default).
    #[arg(long, env = "STARLING_NTP_SERVERS", default_value = "")]
    pub ntp_servers: String,
    /// The OAM subnet at the first start.
    #[arg(long, env = "STARLING_OAM_SUBNET", default_value = "10.10.10.0/24")]
    pub oam_subnet: String,
    /// The OAM gateway at the first start.
    #[arg(long, env = "STARLING_OAM_GATEWAY_IP", default_value = "10.10.10.1")]
    pub oam_gateway_ip: String,
    /// The OAM floating address at the first start.
    #[arg(long, env = "STARLING_OAM_FLOATING_IP", default_value = "10.10.10.2")]
    pub oam_floating_ip: String,
    /// controller-0's OAM address at the first start (not kept on simplex).
    #[arg(long, env = "STARLING_OAM_C0_IP", default_value = "10.10.10.3")]
    pub oam_c0_ip: String,
    /// controller-1's OAM address at the first start (not kept on simplex).
    #[arg(long, env = "STARLING_OAM_C1_IP", default_value = "10.10.10.4")]
    pub oam_c1_ip: String,
    /// The management subnet at the first start (its pool's second
    /// address is the controllers' floating one, then controller-0's and
    /// controller-1's).
    #[arg(long, env = "STARLING_MGMT_SUBNET", default_value = "192.168.204.0/24")]
    pub mgmt_subnet: String,
    /// The cluster-host subnet at the first start.
    #[arg(
        long,
        env = "STARLING_CLUSTER_HOST_SUBNET",
        default_value = "192.168.206.0/24"
    )]
    pub cluster_host_subnet: String,
    /// The Kubernetes pod subnet at the first start.
    #[arg(
        long,
        env = "STARLING_CLUSTER_POD_SUBNET",
        default_value = "172.16.0.0/16"
    )]
    pub cluster_pod_subnet: String,
    /// The Kubernetes service subnet at the first start.
    #[arg(
        long,
        env = "STARLING_CLUSTER_SERVICE_SUBNET",
        default_value = "10.96.0.0/12"
    )]
    pub cluster_service_subnet: String,
    /// The pxeboot subnet at the first start.
    #[arg(
        long,
        env = "STARLING_PXEBOOT_SUBNET",
        default_value = "169.254.202.0/24"
    )]
    pub pxeboot_subnet: String,
    /// The management multicast subnet at the first start.
    #[arg(
        long,
        env = "STARLING_MULTICAST_SUBNET",
        default_value = "239.1.1.0/28"
    )]
    pub multicast_subnet: String,
    /// Time between looks at inventory's hosts (new, renamed, removed).
    #[arg(long, env = "STARLING_CONFIG_FOLLOW_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    pub config_follow_interval: Duration,
}

/// The configuration service, as `starlingd` lists it.
pub struct ConfigService;

/// The configuration service's entry in `starlingd`'s list of services.
pub static SERVICE: ConfigService = ConfigService;

impl Service for ConfigService {
    fn name(&self) -> &'static str {
        "config"
    }
    fn port(&self) -> Option<u16> {
        None
    }
    fn served_by(&self) -> Option<&'static str> {
        Some("inventory")
    }
    fn catalog(&self) -> Option<CatalogEntry> {
        None
    }
    fn schema(&self) -> Option<starling_db::Schema> {
        Some(starling_config_store::SCHEMA)
    }
    fn service_account(&self) -> Option<&'static str> {
        Some("sysinv")
    }
    fn uses(&self) -> &'static [&'static str] {
        &["fm", "inventory"]
    }
    fn options(&self) -> Vec<clap::Arg> {
        starling_service::args_of::<ConfigOptions>()
    }
    fn start(&self, ctx: Ctx) -> BoxFuture<'static, Result<Started, String>> {
        Box::pin(start(ctx))
    }
}

async fn start(ctx: Ctx) -> Result<Started, String> {
    let o: ConfigOptions = ctx.options()?;
    let hosts = ctx
        .hosts
        .clone()
        .ok_or("configuration runs beside inventory (its routes are the platform API's)")?;
    let simplex = hosts
        .system()
        .await?
        .is_some_and(|s| s.system_mode == "simplex");
    let init = Initial {
        nameservers: o.dns_servers.clone(),
        ntpservers: o.ntp_servers.clone(),
        oam: OamFields {
            oam_subnet: Some(o.oam_subnet.clone()),
            oam_gateway_ip: Some(o.oam_gateway_ip.clone()),
            oam_floating_ip: Some(o.oam_floating_ip.clone()),
            oam_c0_ip: Some(o.oam_c0_ip.clone()),
            oam_c1_ip: Some(o.oam_c1_ip.clone()),
            oam_start_ip: None,
            oam_end_ip: None,
        },
        networks: starling_config::addressing::InitialNetworks {
            mgmt: o.mgmt_subnet.clone(),
            cluster_host: o.cluster_host_subnet.clone(),
            cluster_pod: o.cluster_pod_subnet.clone(),
            cluster_service: o.cluster_service_subnet.clone(),
            pxeboot: o.pxeboot_subnet.clone(),
            multicast: o.multicast_subnet.clone(),
        },
        simplex,
    };
    let clock = ctx.clock.clone();
    let fx = ctx
        .db
        .write(move |c| {
            starling_config::ops::ensure_records(&mut ConfigStore::new(c), &init, clock.now())
        })
        .await
        .map_err(|e| e.to_string())?;
    let state = ConfigState::new(ctx.db.clone(), ctx.clock.clone(), hosts, ctx.alarms.clone());
    // Hosts an earlier release tracked were given new targets.
    state.committed(fx, &[]).await;
    let follower = state.clone();
    let interval = o.config_follow_interval;
    let task: starling_service::Task = Box::pin(async move {
        let mut all = true;
        let mut n: u64 = 0;
        loop {
            if let Err(e) = follower.follow(all).await {
                tracing::warn!(error = %e.message, "cannot follow inventory's hosts");
            }
            n += 1;
            // Every host's marks are pushed again now and then (a push that
            // failed is repaired).
            all = n.is_multiple_of(30);
            tokio::time::sleep(interval).await;
        }
    });
    Ok(Started {
        router: Some(crate::router(state, ctx.auth)),
        tasks: vec![task],
        ..Started::default()
    })
}
