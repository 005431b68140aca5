//! The OpenAPI document of the FM API, served at `/openapi.json`. A test checks
//! that it names every route of the router.

use axum::http::StatusCode;
use axum::response::Response;

/// The document text.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document() -> Response {
    starling_http::json_bytes(StatusCode::OK, DOCUMENT)
}
