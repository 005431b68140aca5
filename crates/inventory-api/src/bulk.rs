//! host-bulk-add (`POST /v1/ihosts/bulk_add`, the hosts file as the form
//! field `file` or as the body) and host-bulk-export
//! (`GET /v1/ihosts/bulk_export` → `{"content": "<hosts …>"}`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use starling_http::upload::FileUpload;
use starling_http::{ApiError, json};
use starling_inventory::alarms::COMMAND_LOG;
use starling_inventory::bulk;
use starling_inventory::lifecycle::{AlarmChange, HostEvent};
use starling_inventory_types::{BulkAddResult, BulkExport};

use crate::InventoryState;

/// Adds every host of the file or none. As sysinv, the answer is 200 with
/// `{"success": "<hostnames, one per line>", "error": "<why>"}` whatever
/// happened, and StarlingX's `system` prints both: a file that does not
/// parse, any entry that fails a check (each problem named), a simplex
/// system or no unlocked-enabled controller yet is an `error` and adds
/// nothing. Only a failure of Starling itself (the store) is an HTTP error.
pub(crate) async fn bulk_add(
    State(st): State<InventoryState>,
    FileUpload(file): FileUpload,
) -> Result<Response, ApiError> {
    let refused = |message: String| {
        json(
            StatusCode::OK,
            &BulkAddResult {
                error: message,
                success: String::new(),
            },
        )
    };
    let Ok(text) = String::from_utf8(file) else {
        return Ok(refused(
            "No hosts have been added, invalid hosts file: it is not UTF-8 text".into(),
        ));
    };
    let entries = match bulk::parse(&text) {
        Ok(e) => e,
        Err(e) => return Ok(refused(e.to_string())),
    };
    let out = match st
        .write(move |r, now| bulk::bulk_add(r, &entries, now))
        .await
    {
        Ok(out) => out,
        Err(e) if e.status.is_client_error() => return Ok(refused(e.message)),
        Err(e) => return Err(e),
    };
    // Added hosts are locked: each carries the locked alarm until unlocked.
    for h in &out.added {
        st.report(
            h,
            Some(AlarmChange::RaiseLocked),
            Some(HostEvent {
                log: &COMMAND_LOG,
                text: format!("{} 'add' request (bulk)", h.display_name()),
            }),
        )
        .await;
    }
    let names: Vec<std::borrow::Cow<'_, str>> = out
        .added
        .iter()
        .chain(&out.updated)
        .map(|h| h.display_name())
        .collect();
    Ok(json(
        StatusCode::OK,
        &BulkAddResult {
            error: String::new(),
            success: names.join("\n"),
        },
    ))
}

/// The provisioned hosts as a StarlingX hosts file.
pub(crate) async fn bulk_export(State(st): State<InventoryState>) -> Result<Response, ApiError> {
    let content = st.read(|r| bulk::export(r)).await?;
    Ok(json(StatusCode::OK, &BulkExport { content }))
}
