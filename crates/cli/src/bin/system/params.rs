//! Service parameters (cgtsclient's `service-parameter-list`, `-show`,
//! `-add`, `-modify`, `-delete`, `-apply`), with its arguments and columns.

use anyhow::{Result, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use starling_cli::{Client, Out, Table, as_wire, field};
use starling_config_types as wire;

#[derive(Subcommand, Debug)]
pub(crate) enum ParamCmd {
    /// List Service parameters.
    #[command(name = "service-parameter-list")]
    List {
        /// Search by service name.
        #[arg(long)]
        service: Option<String>,
        /// Search by section name.
        #[arg(long)]
        section: Option<String>,
        /// Search by parameter name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Show Service parameter.
    #[command(name = "service-parameter-show")]
    Show {
        /// UUID of service parameter.
        uuid: String,
        #[command(flatten)]
        out: Out,
    },
    /// Add Service Parameter.
    #[command(name = "service-parameter-add")]
    Add {
        /// Name of service.
        service: String,
        /// Name of section.
        section: String,
        /// Service Parameter attributes to add (name=value).
        #[arg(required = true, num_args = 1..)]
        attributes: Vec<String>,
        /// Restrict resource update to hosts of given personality.
        #[arg(long)]
        personality: Option<String>,
        /// Custom resource to be updated.
        #[arg(long)]
        resource: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Modify Service Parameter attributes.
    #[command(name = "service-parameter-modify")]
    Modify {
        /// Name of service.
        service: String,
        /// Name of section.
        section: String,
        /// Service Parameter attributes to modify (name=value).
        #[arg(required = true, num_args = 1..)]
        attributes: Vec<String>,
        /// Restrict resource update to hosts of given personality.
        #[arg(long)]
        personality: Option<String>,
        /// Custom resource to be updated.
        #[arg(long)]
        resource: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Delete a Service Parameter.
    #[command(name = "service-parameter-delete")]
    Delete {
        /// UUID of service parameter.
        uuid: String,
    },
    /// Apply the Service Parameters.
    #[command(name = "service-parameter-apply")]
    Apply {
        /// Name of service.
        service: String,
        /// Name of section.
        #[arg(long)]
        section: Option<String>,
    },
}

const FIELDS: &[&str] = &[
    "uuid",
    "service",
    "section",
    "name",
    "value",
    "personality",
    "resource",
];

/// `name=value` pairs (cgtsclient's `extract_keypairs`).
fn pairs(attributes: &[String]) -> Result<Vec<(String, String)>> {
    attributes
        .iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("invalid attribute '{a}': expected name=value"),
        })
        .collect()
}

fn show(v: &Value, out: &Out) -> Result<()> {
    let fields: Vec<(&str, Value)> = FIELDS.iter().map(|f| (*f, field(v, f))).collect();
    starling_cli::out(&Table::render_record(&fields, out)?)
}

fn uuid_path(k: &str) -> Result<String> {
    Ok(format!(
        "/v1/service_parameter/{}",
        crate::network::key("service parameter", k)?
    ))
}

fn custom(personality: &Option<String>, resource: &Option<String>, n: usize) -> Result<()> {
    if n > 1 && (personality.is_some() || resource.is_some()) {
        bail!("Cannot specify multiple parameters with custom resource.");
    }
    Ok(())
}

pub(crate) fn run(c: &Client, cmd: ParamCmd) -> Result<()> {
    match cmd {
        ParamCmd::List {
            service,
            section,
            name,
            out,
        } => {
            let mut path = String::from("/v1/service_parameter");
            // cgtsclient sends its one filter as a q-list.
            let filter = [("service", service), ("section", section), ("name", name)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .next_back();
            if let Some((k, v)) = filter {
                let mut s = form_urlencoded::Serializer::new(String::new());
                s.append_pair("q.field", k);
                s.append_pair("q.op", "eq");
                s.append_pair("q.type", "");
                s.append_pair("q.value", &v);
                path = format!("{path}?{}", s.finish());
            }
            let v: wire::ServiceParameterList = c.get_as(&path)?;
            let mut t = Table::new(FIELDS);
            for p in &v.parameters {
                let v = serde_json::to_value(p)?;
                t.rows.push(FIELDS.iter().map(|f| field(&v, f)).collect());
            }
            starling_cli::out(&t.render(&out)?)
        }
        ParamCmd::Show { uuid, out } => {
            let v = c.get(&uuid_path(&uuid)?)?;
            show(
                &as_wire::<wire::ServiceParameter>(v, "a service parameter")?,
                &out,
            )
        }
        ParamCmd::Add {
            service,
            section,
            attributes,
            personality,
            resource,
            out,
        } => {
            let kv = pairs(&attributes)?;
            custom(&personality, &resource, kv.len())?;
            let params: serde_json::Map<String, Value> =
                kv.into_iter().map(|(k, v)| (k, json!(v))).collect();
            let body = json!({
                "service": service,
                "section": section,
                "personality": personality,
                "resource": resource,
                "parameters": params,
            });
            let Some(v) = c.post("/v1/service_parameter", &body)? else {
                bail!("the platform API answered service-parameter-add without the parameters");
            };
            let made: wire::ServiceParameterList =
                serde_json::from_value(as_wire::<wire::ServiceParameterList>(
                    v,
                    "service parameters",
                )?)?;
            for p in &made.parameters {
                let v = c.get(&uuid_path(&p.uuid)?)?;
                show(
                    &as_wire::<wire::ServiceParameter>(v, "a service parameter")?,
                    &out,
                )?;
            }
            Ok(())
        }
        ParamCmd::Modify {
            service,
            section,
            attributes,
            personality,
            resource,
            out,
        } => {
            let kv = pairs(&attributes)?;
            custom(&personality, &resource, kv.len())?;
            let all: wire::ServiceParameterList = c.get_as("/v1/service_parameter")?;
            for (name, value) in kv {
                let Some(p) = all
                    .parameters
                    .iter()
                    .find(|p| p.service == service && p.section == section && p.name == name)
                else {
                    bail!(
                        "Service Parameter not found: service {service}, section {section}, name {name}"
                    );
                };
                let mut patch = vec![
                    json!({"op": "replace", "path": "/name", "value": name}),
                    json!({"op": "replace", "path": "/value", "value": value}),
                ];
                if let Some(x) = &personality {
                    patch.push(json!({"op": "replace", "path": "/personality", "value": x}));
                }
                if let Some(x) = &resource {
                    patch.push(json!({"op": "replace", "path": "/resource", "value": x}));
                }
                let v = c.patch(&uuid_path(&p.uuid)?, &Value::Array(patch))?;
                show(
                    &as_wire::<wire::ServiceParameter>(v, "a service parameter")?,
                    &out,
                )?;
            }
            Ok(())
        }
        ParamCmd::Delete { uuid } => {
            c.delete(&uuid_path(&uuid)?)?;
            starling_cli::outln(format!("Deleted service parameter: {uuid}"))
        }
        ParamCmd::Apply { service, section } => {
            let body = json!({"service": service, "section": section});
            c.post("/v1/service_parameter/apply", &body)?;
            match section {
                Some(s) => starling_cli::outln(format!(
                    "Applying {service} service parameters for section {s}"
                )),
                None => starling_cli::outln(format!("Applying {service} service parameters")),
            }
        }
    }
}
