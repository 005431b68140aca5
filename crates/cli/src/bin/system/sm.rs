//! Service management's commands (cgtsclient's `servicegroup-*`,
//! `servicenode-*`, `service-*`): the service groups' assignments to the
//! controllers, the controllers as SM sees them, and the services SM
//! runs, with cgtsclient's columns (a state shows its status after a
//! dash, `active-failed`).

use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::Value;
use starling_cli::{Client, Out, Table};
use starling_sm_types::{SmNode, SmNodes, SmService, SmServiceGroup, SmServiceGroups, SmServices};

#[derive(Subcommand, Debug)]
pub(crate) enum SmCmd {
    /// List the service groups on each controller.
    #[command(name = "servicegroup-list")]
    GroupList {
        #[command(flatten)]
        out: Out,
    },
    /// Show a service group's assignment to a controller.
    #[command(name = "servicegroup-show")]
    GroupShow {
        /// The assignment's uuid.
        uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// List the controllers as service management sees them.
    #[command(name = "servicenode-list")]
    NodeList {
        #[command(flatten)]
        out: Out,
    },
    /// Show a controller as service management sees it.
    #[command(name = "servicenode-show")]
    NodeShow {
        /// Name or id.
        node: String,
        #[command(flatten)]
        out: Out,
    },
    /// List the services on the active controller.
    #[command(name = "service-list")]
    ServiceList {
        #[command(flatten)]
        out: Out,
    },
    /// Show a service.
    #[command(name = "service-show")]
    ServiceShow {
        /// Id or name.
        service: String,
        #[command(flatten)]
        out: Out,
    },
}

/// A state with its status, as cgtsclient shows it.
fn state(state: &str, status: &str) -> Value {
    if status.is_empty() {
        state.into()
    } else {
        format!("{state}-{status}").into()
    }
}

fn segment(key: &str) -> Result<&str> {
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        bail!("{key:?} is not a name, id or uuid");
    }
    Ok(key)
}

fn group_row(g: &SmServiceGroup) -> Vec<Value> {
    vec![
        g.uuid.clone().into(),
        g.service_group_name.clone().into(),
        g.node_name.clone().into(),
        state(&g.state, &g.status),
    ]
}

fn node_row(n: &SmNode) -> Vec<Value> {
    vec![
        n.id.into(),
        n.name.clone().into(),
        n.administrative_state.clone().into(),
        n.operational_state.clone().into(),
        n.availability_status.clone().into(),
        n.ready_state.clone().into(),
    ]
}

fn service_row(s: &SmService) -> Vec<Value> {
    vec![
        s.id.into(),
        s.name.clone().into(),
        s.node_name.clone().unwrap_or_default().into(),
        state(&s.state, &s.status),
    ]
}

fn table(heads: &[&str], rows: Vec<Vec<Value>>, out: &Out) -> Result<()> {
    let mut t = Table::new(heads);
    t.rows = rows;
    starling_cli::out(&t.render(out)?)?;
    Ok(())
}

fn record(heads: &[&str], row: Vec<Value>, out: &Out) -> Result<()> {
    let fields: Vec<(&str, Value)> = heads.iter().copied().zip(row).collect();
    starling_cli::out(&Table::render_record(&fields, out)?)?;
    Ok(())
}

const GROUP: &[&str] = &["uuid", "service_group_name", "hostname", "state"];
const NODE_LIST: &[&str] = &[
    "id",
    "name",
    "administrative",
    "operational",
    "availability",
    "ready_state",
];
const NODE_SHOW: &[&str] = &[
    "id",
    "name",
    "administrative_state",
    "operational_state",
    "availability_status",
    "ready_state",
];
const SERVICE: &[&str] = &["id", "service_name", "hostname", "state"];

pub(crate) fn run(c: &Client, cmd: SmCmd) -> Result<()> {
    match cmd {
        SmCmd::GroupList { out } => {
            let mut groups = c
                .get_as::<SmServiceGroups>("/v1/servicegroup")?
                .sm_servicegroup;
            groups.sort_by(|a, b| {
                (&a.service_group_name, &a.node_name).cmp(&(&b.service_group_name, &b.node_name))
            });
            table(GROUP, groups.iter().map(group_row).collect(), &out)
        }
        SmCmd::GroupShow { uuid, out } => {
            let g: SmServiceGroup = c.get_as(&format!("/v1/servicegroup/{}", segment(&uuid)?))?;
            record(GROUP, group_row(&g), &out)
        }
        SmCmd::NodeList { out } => {
            let mut nodes = c.get_as::<SmNodes>("/v1/servicenodes")?.nodes;
            nodes.sort_by(|a, b| a.name.cmp(&b.name));
            table(NODE_LIST, nodes.iter().map(node_row).collect(), &out)
        }
        SmCmd::NodeShow { node, out } => {
            let n: SmNode = c.get_as(&format!("/v1/servicenodes/{}", segment(&node)?))?;
            record(NODE_SHOW, node_row(&n), &out)
        }
        SmCmd::ServiceList { out } => {
            let mut services: Vec<SmService> = c
                .get_as::<SmServices>("/v1/services")?
                .services
                .into_iter()
                .filter(|s| s.state != "initial")
                .collect();
            services.sort_by(|a, b| a.name.cmp(&b.name));
            table(SERVICE, services.iter().map(service_row).collect(), &out)
        }
        SmCmd::ServiceShow { service, out } => {
            let s: SmService = c.get_as(&format!("/v1/services/{}", segment(&service)?))?;
            record(SERVICE, service_row(&s), &out)
        }
    }
}
