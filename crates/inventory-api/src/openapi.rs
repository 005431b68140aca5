//! The OpenAPI document of the inventory API, served at `/openapi.json`.
//! A test checks that it names every route of [`crate::ROUTES`].

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The document text.
pub const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT,
    )
        .into_response()
}
