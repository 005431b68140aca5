//! Inventory as a `starlingd` service: its options (the system's type and
//! mode at first start), and its start (the system record ensured, host
//! alarms handed to FM).

use std::sync::Arc;

use starling_http::BoxFuture;
use starling_inventory::ops::{self, SystemSpec};
use starling_inventory::{SystemMode, SystemType};
use starling_inventory_store::InventoryStore;
use starling_service::{CatalogEntry, Ctx, Service, Started};

use crate::InventoryState;

/// Inventory's options (`[inventory]` in the configuration file).
#[derive(clap::Args, Debug, Clone)]
pub struct InventoryOptions {
    /// System type at first start: All-in-one or Standard.
    #[arg(long, env = "STARLING_SYSTEM_TYPE", default_value = "All-in-one")]
    pub system_type: String,
    /// System mode at first start: simplex, duplex or duplex-direct (a
    /// simplex system takes no further hosts).
    #[arg(long, env = "STARLING_SYSTEM_MODE", default_value = "simplex")]
    pub system_mode: String,
    /// The file of the secret host agents enroll with (read, or generated
    /// when missing; default <data-dir>/agent-enrollment). A new secret in
    /// it replaces the old at the next start.
    #[arg(long, env = "STARLING_AGENT_ENROLLMENT_FILE")]
    pub agent_enrollment_file: Option<std::path::PathBuf>,
    /// The cloud's secret key, which seals the BMC passwords (64 hex
    /// digits, root-only; generated when missing; default
    /// <data-dir>/secret-key). Controllers sharing a database share it.
    #[arg(long, env = "STARLING_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
    /// Service management's API on this controller (`starlingd sm`),
    /// relayed as `/v1/servicegroup`, `/v1/servicenodes` and `/v1/services`.
    #[arg(long, env = "STARLING_SM_URL", default_value = "http://127.0.0.1:7777")]
    pub sm_url: String,
}

/// The inventory service, as `starlingd` lists it.
pub struct InventoryService;

/// The inventory service's entry in `starlingd`'s list of services.
pub static SERVICE: InventoryService = InventoryService;

impl Service for InventoryService {
    fn name(&self) -> &'static str {
        "inventory"
    }
    fn port(&self) -> Option<u16> {
        Some(crate::DEFAULT_PORT)
    }
    fn catalog(&self) -> Option<CatalogEntry> {
        Some(CatalogEntry {
            service_type: "platform",
            name: "sysinv",
            description: "Starling inventory",
            path: "/v1",
        })
    }
    fn schema(&self) -> Option<starling_db::Schema> {
        Some(starling_inventory_store::SCHEMA)
    }
    fn service_account(&self) -> Option<&'static str> {
        Some("sysinv")
    }
    fn uses(&self) -> &'static [&'static str] {
        &["fm"]
    }
    fn options(&self) -> Vec<clap::Arg> {
        starling_service::args_of::<InventoryOptions>()
    }
    fn start(&self, ctx: Ctx) -> BoxFuture<'static, Result<Started, String>> {
        Box::pin(start(ctx))
    }
}

async fn start(ctx: Ctx) -> Result<Started, String> {
    let o: InventoryOptions = ctx.options()?;
    let spec = SystemSpec {
        name: ctx
            .site
            .system_name
            .clone()
            .unwrap_or_else(|| "starling".into()),
        system_type: SystemType::parse(&o.system_type).map_err(|e| e.to_string())?,
        system_mode: SystemMode::parse(&o.system_mode).map_err(|e| e.to_string())?,
        software_version: env!("CARGO_PKG_VERSION").into(),
        region_name: ctx.site.region().into(),
    };
    let (wanted_type, wanted_mode) = (spec.system_type, spec.system_mode);
    let now = ctx.clock.now();
    let sys = ctx
        .db
        .write(move |conn| ops::ensure_system(&mut InventoryStore::new(conn), &spec, now))
        .await
        .map_err(|e| format!("inventory bootstrap failed: {e}"))?;
    // The type and mode are the first start's: a later start that names
    // others would otherwise be ignored without a word.
    let first_only = [
        (
            "system_type",
            "--system-type",
            wanted_type.as_str(),
            sys.system_type.as_str(),
        ),
        (
            "system_mode",
            "--system-mode",
            wanted_mode.as_str(),
            sys.system_mode.as_str(),
        ),
    ];
    for (id, flag, wanted, stored) in first_only {
        if ctx.given(id) && wanted != stored {
            return Err(format!(
                "{flag} {wanted} applies at the first start only: this system is already \
                 {stored}; remove the setting (or set it to {stored})"
            ));
        }
    }
    tracing::info!(system = %sys.name, mode = sys.system_mode.as_str(), "inventory system record ready");
    let enrollment = o
        .agent_enrollment_file
        .clone()
        .or_else(|| crate::agents::default_enrollment_file(ctx.data_dir.as_deref()));
    crate::agents::ensure_enrollment(&ctx.db, &ctx.clock, enrollment.as_deref()).await?;
    let secrets = match o
        .secret_key_file
        .clone()
        .or_else(|| ctx.data_dir.as_ref().map(|d| d.join("secret-key")))
    {
        Some(f) => Some(Arc::new(crate::sealed::SecretKey::load_or_generate(&f)?)),
        None => {
            tracing::warn!(
                "no secret key (no data directory and no --secret-key-file): BMC passwords are refused"
            );
            None
        }
    };
    let state = InventoryState {
        db: ctx.db.clone(),
        clock: ctx.clock.clone(),
        fm: ctx.alarms.clone(),
        paging: crate::Paging::default(),
        commands: Default::default(),
        reports: Default::default(),
        maintenance: Default::default(),
        configuring: Default::default(),
        port_links: Default::default(),
        secrets,
        sm: Some(starling_sm_types::client::SmClient::new(&o.sm_url)?),
    };
    Ok(Started {
        state: Some(Arc::new(state.clone())),
        hosts: Some(Arc::new(crate::agents::InventoryHosts {
            st: state.clone(),
        })),
        ..Started::serving(crate::router(state, ctx.auth))
    })
}
