//! OpenAPI documents generated from a service's route table and its wire
//! types: each route's operation ([`Op`]: summary, query parameters, body,
//! answer, errors) is declared beside the route, its query parameters are
//! the very list the handler accepts ([`QueryPairs::only_params`]), and
//! the schemas come from the types crate's `ToSchema` derives, so the
//! document cannot drift from what is served or parsed.
//!
//! A service keeps its generated document as a snapshot file that it
//! serves; a test regenerates it and compares.

use axum::http::Method;
use serde_json::{Map, Value, json};

use crate::{ApiError, QueryPairs};

/// What a query parameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Str,
    /// Repeatable (`q.field=a&q.field=b`).
    Strs,
    Int,
    Bool,
}

/// A query parameter a route accepts.
#[derive(Clone, Copy, Debug)]
pub struct QueryParam {
    pub name: &'static str,
    pub kind: ParamKind,
    pub description: &'static str,
}

impl QueryParam {
    /// A parameter (for `const` tables).
    pub const fn new(name: &'static str, kind: ParamKind, description: &'static str) -> Self {
        QueryParam {
            name,
            kind,
            description,
        }
    }
}

impl QueryPairs {
    /// 400 naming the first parameter not among `params`.
    pub fn only_params(&self, params: &[QueryParam]) -> Result<(), ApiError> {
        match self
            .0
            .iter()
            .find(|(k, _)| !params.iter().any(|p| p.name == k.as_str()))
        {
            Some((k, _)) => Err(ApiError::bad_request(format!(
                "Unknown query parameter '{k}'"
            ))),
            None => Ok(()),
        }
    }
}

/// A route's operation in the document.
#[derive(Clone, Debug)]
pub struct Op {
    pub method: Method,
    /// As routed, with `{name}` path parameters.
    pub path: &'static str,
    pub summary: &'static str,
    pub query: &'static [QueryParam],
    /// The request body's schema, when it takes one.
    pub body: Option<&'static str>,
    /// The success status, its description and its body's schema (none for
    /// an empty answer; `"object"` for any JSON object).
    pub ok: (u16, &'static str, Option<&'static str>),
    /// Error statuses answered in the service's error envelope (400, 404, 409, …).
    pub errors: &'static [u16],
    /// Answers without a token.
    pub public: bool,
}

impl Op {
    /// An operation that needs a token.
    pub const fn new(
        method: Method,
        path: &'static str,
        summary: &'static str,
        query: &'static [QueryParam],
        body: Option<&'static str>,
        ok: (u16, &'static str, Option<&'static str>),
        errors: &'static [u16],
    ) -> Self {
        Op {
            method,
            path,
            summary,
            query,
            body,
            ok,
            errors,
            public: false,
        }
    }

    /// An operation that answers without a token.
    pub const fn public(
        method: Method,
        path: &'static str,
        summary: &'static str,
        body: Option<&'static str>,
        ok: (u16, &'static str, Option<&'static str>),
        errors: &'static [u16],
    ) -> Self {
        let mut op = Op::new(method, path, summary, &[], body, ok, errors);
        op.public = true;
        op
    }

    /// A document a GET answers without a token (`/`, `/v1`): `schema`, 200.
    pub const fn public_get(
        path: &'static str,
        summary: &'static str,
        schema: &'static str,
    ) -> Self {
        Op::public(
            Method::GET,
            path,
            summary,
            None,
            (200, "OK", Some(schema)),
            &[],
        )
    }
}

/// The schema name of a text answer (Prometheus' metrics).
pub const TEXT: &str = "text/plain";

/// The health routes and `/metrics`, which every service serves without a
/// token.
pub const HEALTH_OPS: [Op; 4] = [
    Op::public(
        Method::GET,
        "/metrics",
        "Prometheus metrics of this service (text format 0.0.4)",
        None,
        (200, "OK", Some(TEXT)),
        &[],
    ),
    Op::public(
        Method::GET,
        "/health",
        "Health: the database answers (503 naming what is down)",
        None,
        (200, "OK", Some("object")),
        &[],
    ),
    Op::public(
        Method::GET,
        "/health/live",
        "Liveness: the process answers (no dependency is asked)",
        None,
        (200, "OK", Some("object")),
        &[],
    ),
    Op::public(
        Method::GET,
        "/health/ready",
        "Readiness: the database answers and the service is ready (503 naming what is not)",
        None,
        (200, "OK", Some("object")),
        &[],
    ),
];

/// Holds a generated document to the snapshot a service serves: `Err`
/// with what to run when they differ. With `STARLING_UPDATE_OPENAPI` set
/// the snapshot at `file` is rewritten first (the next build serves it).
pub fn check_snapshot(doc: &Value, file: &str, served: &str) -> Result<(), String> {
    let generated = text(doc);
    if std::env::var_os("STARLING_UPDATE_OPENAPI").is_some() {
        std::fs::write(file, &generated).map_err(|e| format!("cannot write {file}: {e}"))?;
    }
    if generated == served {
        Ok(())
    } else {
        Err(format!(
            "{file} is not what the types and routes generate: run the tests with \
             STARLING_UPDATE_OPENAPI=1, and review the diff"
        ))
    }
}

/// The document's head.
#[derive(Clone, Copy, Debug)]
pub struct DocInfo {
    pub title: &'static str,
    pub description: &'static str,
    /// The schema of the service's error envelope.
    pub error_schema: &'static str,
    /// What the token is and where to get it.
    pub token: &'static str,
}

/// The schema of `T` and of every type it refers to, for [`document`].
pub fn schemas_of<T: utoipa::ToSchema>(out: &mut Vec<(String, Value)>) {
    let mut deps = Vec::new();
    T::schemas(&mut deps);
    out.push((T::name().into_owned(), to_value(&T::schema())));
    for (name, s) in deps {
        out.push((name, to_value(&s)));
    }
}

fn to_value<S: serde::Serialize>(s: &S) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

fn schema_ref(name: &str) -> Value {
    if name == "object" {
        return json!({"type": "object"});
    }
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn param(p: &QueryParam) -> Value {
    let schema = match p.kind {
        ParamKind::Str => json!({"type": "string"}),
        ParamKind::Strs => json!({"type": "array", "items": {"type": "string"}}),
        ParamKind::Int => json!({"type": "integer"}),
        ParamKind::Bool => json!({"type": "boolean"}),
    };
    let mut v = json!({"name": p.name, "in": "query", "required": false, "schema": schema,
        "description": p.description});
    if p.kind == ParamKind::Strs {
        v["style"] = json!("form");
        v["explode"] = json!(true);
    }
    v
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "uuid" || name.ends_with("_uuid") {
                json!({"type": "string", "format": "uuid"})
            } else {
                json!({"type": "string"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        404 => "Not found",
        409 => "Conflict",
        413 => "Too large",
        503 => "Not available yet",
        _ => "Error",
    }
}

/// The OpenAPI 3.1 document of `ops`, with `schemas` as its components.
pub fn document(info: &DocInfo, ops: &[Op], schemas: Vec<(String, Value)>) -> Value {
    let mut paths = Map::new();
    for op in ops {
        let mut o = json!({"summary": op.summary});
        let mut params: Vec<Value> = path_params(op.path);
        params.extend(op.query.iter().map(param));
        if !params.is_empty() {
            o["parameters"] = Value::Array(params);
        }
        if let Some(b) = op.body {
            o["requestBody"] = json!({"required": true,
                "content": {"application/json": {"schema": schema_ref(b)}}});
        }
        let mut responses = Map::new();
        let (status, description, schema) = op.ok;
        let mut ok = json!({ "description": description });
        match schema {
            Some(TEXT) => ok["content"] = json!({TEXT: {"schema": {"type": "string"}}}),
            Some(s) => ok["content"] = json!({"application/json": {"schema": schema_ref(s)}}),
            None => {}
        }
        responses.insert(status.to_string(), ok);
        for e in op.errors {
            responses.insert(
                e.to_string(),
                json!({"description": format!("{}, in the error envelope", reason(*e)),
                    "content": {"application/json": {"schema": schema_ref(info.error_schema)}}}),
            );
        }
        if op.public {
            o["security"] = json!([]);
        } else {
            responses.insert(
                "401".into(),
                json!({"description": "Missing, invalid, expired or revoked token"}),
            );
            responses.insert("403".into(), json!({"description": "Refused by policy"}));
        }
        o["responses"] = Value::Object(responses);
        let item = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        item[op.method.as_str().to_ascii_lowercase()] = o;
    }
    let mut components = Map::new();
    for (name, s) in schemas {
        components.insert(name, s);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": info.title, "version": "v1", "description": info.description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                "description": info.token}},
        },
        "security": [{"token": []}],
    })
}

/// The document as its snapshot file holds it: pretty, keys sorted, one
/// trailing newline.
pub fn text(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}

/// Every `(method, path)` the document names.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (p, item) in paths {
            if let Some(item) = item.as_object() {
                for m in item.keys() {
                    out.push((m.to_ascii_uppercase(), p.clone()));
                }
            }
        }
    }
    out.sort();
    out
}

/// Every `(method, path)` of a route table, sorted as [`operations`] lists
/// a document's (the tests hold the two equal).
pub fn route_operations(routes: &[(Method, &str, Option<&str>)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = routes
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    out.sort();
    out
}

/// Every `$ref` of the document that names no component.
pub fn dangling_refs(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, doc: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let name = r.trim_start_matches("#/components/schemas/");
                    if doc["components"]["schemas"].get(name).is_none() {
                        out.push(r.clone());
                    }
                }
                m.values().for_each(|x| walk(x, doc, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, doc, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &[QueryParam] = &[QueryParam {
        name: "limit",
        kind: ParamKind::Int,
        description: "Page size",
    }];

    #[test]
    fn a_document_names_its_routes_parameters_and_errors() {
        let ops = [
            Op {
                method: Method::GET,
                path: "/v1/things/{uuid}",
                summary: "Show a thing",
                query: Q,
                body: None,
                ok: (200, "The thing", Some("Thing")),
                errors: &[404],
                public: false,
            },
            Op {
                method: Method::GET,
                path: "/",
                summary: "Versions",
                query: &[],
                body: None,
                ok: (200, "Versions", Some("object")),
                errors: &[],
                public: true,
            },
        ];
        let info = DocInfo {
            title: "T",
            description: "D",
            error_schema: "Error",
            token: "tok",
        };
        let doc = document(
            &info,
            &ops,
            vec![("Error".into(), json!({"type": "object"}))],
        );
        assert_eq!(
            operations(&doc),
            [
                ("GET".to_string(), "/".to_string()),
                ("GET".to_string(), "/v1/things/{uuid}".to_string())
            ]
        );
        let show = &doc["paths"]["/v1/things/{uuid}"]["get"];
        assert_eq!(show["parameters"][0]["in"], "path");
        assert_eq!(show["parameters"][1]["name"], "limit");
        assert!(show["responses"]["401"].is_object());
        assert!(doc["paths"]["/"]["get"]["responses"]["401"].is_null());
        assert_eq!(dangling_refs(&doc), ["#/components/schemas/Thing"]);
        let q = QueryPairs::parse(Some("limit=1&bogus=2"));
        assert!(q.only_params(Q).is_err());
        assert!(QueryPairs::parse(Some("limit=1")).only_params(Q).is_ok());
    }
}
