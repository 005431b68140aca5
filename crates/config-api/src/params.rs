//! Service parameters: sysinv's `/v1/service_parameter` (list with
//! `q.field`/`q.value` filters on service, section and name; add, show,
//! PATCH, delete) and `/v1/service_parameter/apply`. Every change gives
//! every provisioned host a new target, applied at runtime; `platform
//! sysctl` names are checked against the controller's own `/proc/sys`.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use starling_config::ops;
use starling_config::service_param::{self, KernelParam, KernelParams, ServiceParameter};
use starling_config_types::{self as wire, Link};
use starling_http::openapi::{ParamKind, QueryParam};
use starling_http::{ApiError, ApiJson, PatchOp, QueryPairs, base_url, json};

use crate::ConfigState;

pub(crate) const LIST_PARAMS: &[QueryParam] = &[
    QueryParam::new(
        "q.field",
        ParamKind::Str,
        "service, section or name (repeat, with q.value)",
    ),
    QueryParam::new("q.op", ParamKind::Str, "eq (the only one)"),
    QueryParam::new("q.type", ParamKind::Str, "ignored"),
    QueryParam::new("q.value", ParamKind::Str, "the value q.field must have"),
];

/// The controller's kernel parameters, read under `/proc/sys`.
pub(crate) struct ProcSys(pub PathBuf);

impl KernelParams for ProcSys {
    fn probe(&self, name: &str) -> KernelParam {
        let path = self.0.join(name.replace('.', "/"));
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                use std::os::unix::fs::PermissionsExt;
                let mode = m.permissions().mode();
                match (mode & 0o400 != 0, mode & 0o200 != 0) {
                    (false, _) => KernelParam::WriteOnly,
                    (true, false) => KernelParam::ReadOnly,
                    (true, true) => KernelParam::Writable,
                }
            }
            _ => KernelParam::Missing(near(&path, &self.0)),
        }
    }
}

/// Edit distance (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest parameter beside `path` (as a dotted name), if one is close.
fn near(path: &Path, base: &Path) -> Option<String> {
    let dir = path.parent()?;
    let want = path.file_name()?.to_string_lossy().into_owned();
    let best = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .map(|n| (distance(&want, &n), n))
        .filter(|(d, _)| *d <= want.len().div_ceil(3).max(1))
        .min()?;
    let rel = dir.join(best.1);
    let rel = rel.strip_prefix(base).ok()?;
    Some(rel.to_string_lossy().replace('/', "."))
}

fn kernel() -> ProcSys {
    ProcSys(PathBuf::from("/proc/sys"))
}

fn record(p: &ServiceParameter, base: &str, show: bool) -> wire::ServiceParameter {
    wire::ServiceParameter {
        id: show.then_some(p.id),
        links: Link::pair(base, "parameters", &p.uuid),
        name: p.name.clone(),
        personality: None,
        resource: None,
        section: p.section.clone(),
        service: p.service.clone(),
        uuid: p.uuid.clone(),
        value: p.value.clone(),
    }
}

/// The list's `q` filters: (field, value) pairs, `eq` only.
fn filters(q: &QueryPairs) -> Result<Vec<(String, String)>, ApiError> {
    let (fields, values, ops) = (q.all("q.field"), q.all("q.value"), q.all("q.op"));
    if fields.len() != values.len() {
        return Err(ApiError::bad_request(
            "q.field and q.value must be given the same number of times",
        ));
    }
    if let Some(op) = ops.iter().find(|o| !o.is_empty() && **o != "eq") {
        return Err(ApiError::bad_request(format!(
            "Invalid q.op '{op}': only eq is supported"
        )));
    }
    let mut out = Vec::new();
    for (f, v) in fields.into_iter().zip(values) {
        if !["service", "section", "name"].contains(&f) {
            return Err(ApiError::bad_request(format!(
                "Invalid q.field '{f}': service, section or name"
            )));
        }
        out.push((f.to_string(), v.to_string()));
    }
    Ok(out)
}

pub(crate) async fn list(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = QueryPairs::parse(raw.as_deref());
    q.only(&["q.field", "q.op", "q.type", "q.value"])?;
    let f = filters(&q)?;
    let mut all = st
        .read(|r| starling_config::ConfigRepo::service_parameters(r))
        .await?;
    all.retain(|p| {
        f.iter().all(|(k, v)| match k.as_str() {
            "service" => p.service == *v,
            "section" => p.section == *v,
            _ => p.name == *v,
        })
    });
    all.sort_by(|a, b| (&a.section, &a.name).cmp(&(&b.section, &b.name)));
    let base = base_url(&headers);
    Ok(json(
        StatusCode::OK,
        &wire::ServiceParameterList {
            parameters: all.iter().map(|p| record(p, &base, false)).collect(),
        },
    ))
}

pub(crate) async fn show(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    UrlPath(uuid): UrlPath<String>,
) -> Result<Response, ApiError> {
    let p = st.read(move |r| service_param::get(r, &uuid)).await?;
    Ok(json(StatusCode::OK, &record(&p, &base_url(&headers), true)))
}

/// A change to the parameters, committed with every host's new target.
async fn change<T: Send + 'static>(
    st: &ConfigState,
    op: impl Fn(
        &mut dyn starling_config::ConfigRepo,
        starling_common::Timestamp,
    ) -> Result<T, starling_config::Error>
    + Send
    + Sync
    + 'static,
) -> Result<T, ApiError> {
    let facts = st.facts().await?;
    let op = std::sync::Arc::new(op);
    let (out, changed, fx) = st
        .write(move |r, now| {
            let op = op.clone();
            ops::on_parameters(r, &facts, now, move |r| op(r, now))
        })
        .await?;
    st.committed(fx, &changed).await;
    Ok(out)
}

fn no_custom_resource(
    personality: &Option<String>,
    resource: &Option<String>,
) -> Result<(), ApiError> {
    if personality.is_some() || resource.is_some() {
        return Err(ApiError::bad_request(
            "Custom resources (personality, resource) are not supported: Starling applies no puppet resources",
        ));
    }
    Ok(())
}

pub(crate) async fn add(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    ApiJson(a): ApiJson<wire::ServiceParameterAdd>,
) -> Result<Response, ApiError> {
    no_custom_resource(&a.personality, &a.resource)?;
    let service = service_param::check_service(a.service.as_deref())
        .map_err(ApiError::from)?
        .to_string();
    let section = a.section.clone();
    let params: Vec<(String, String)> = a.parameters.unwrap_or_default().into_iter().collect();
    let made = change(&st, move |r, now| {
        service_param::add(r, &service, section.as_deref(), &params, &kernel(), now)
    })
    .await?;
    for p in &made {
        tracing::info!(service = %p.service, section = %p.section, name = %p.name, "service parameter added");
    }
    let base = base_url(&headers);
    Ok(json(
        StatusCode::OK,
        &wire::ServiceParameterList {
            parameters: made.iter().map(|p| record(p, &base, false)).collect(),
        },
    ))
}

pub(crate) async fn modify(
    State(st): State<ConfigState>,
    headers: HeaderMap,
    UrlPath(uuid): UrlPath<String>,
    ApiJson(patch): ApiJson<Vec<PatchOp>>,
) -> Result<Response, ApiError> {
    let (mut name, mut value) = (None, None);
    let (mut personality, mut resource) = (None, None);
    for (path, v) in starling_http::check_patch(&patch)? {
        let text = match v {
            Some(Value::String(s)) => Some(s),
            None | Some(Value::Null) => None,
            Some(other) => Some(other.to_string()),
        };
        match path.as_str() {
            "name" => name = text,
            "value" => value = text,
            "personality" => personality = text,
            "resource" => resource = text,
            "uuid" | "id" | "service" | "section" => {
                return Err(ApiError::bad_request(format!(
                    "'/{path}' is a read-only attribute and can not be updated"
                )));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unknown attribute for argument: {other}"
                )));
            }
        }
    }
    no_custom_resource(&personality, &resource)?;
    let p = change(&st, move |r, now| {
        service_param::modify(r, &uuid, name.as_deref(), value.as_deref(), &kernel(), now)
    })
    .await?;
    tracing::info!(service = %p.service, section = %p.section, name = %p.name, "service parameter changed");
    Ok(json(StatusCode::OK, &record(&p, &base_url(&headers), true)))
}

pub(crate) async fn delete(
    State(st): State<ConfigState>,
    UrlPath(uuid): UrlPath<String>,
) -> Result<Response, ApiError> {
    let p = change(&st, move |r, _| service_param::delete(r, &uuid)).await?;
    tracing::info!(service = %p.service, section = %p.section, name = %p.name, "service parameter deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn apply(
    State(st): State<ConfigState>,
    ApiJson(a): ApiJson<wire::ServiceParameterApply>,
) -> Result<Response, ApiError> {
    let service = service_param::check_apply(a.service.as_deref(), a.section.as_deref())
        .map_err(ApiError::from)?
        .to_string();
    change(&st, |_, _| Ok(())).await?;
    tracing::info!(service = %service, section = ?a.section, "service parameters applied");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_parameters_are_read_under_proc_sys() {
        let k = kernel();
        assert_eq!(k.probe("vm.swappiness"), KernelParam::Writable);
        assert_eq!(k.probe("kernel.osrelease"), KernelParam::ReadOnly);
        assert_eq!(
            k.probe("vm.swapiness"),
            KernelParam::Missing(Some("vm.swappiness".into()))
        );
        assert_eq!(
            k.probe("vm.no_such_thing_at_all"),
            KernelParam::Missing(None)
        );
        assert_eq!(distance("swapiness", "swappiness"), 1);
    }
}
