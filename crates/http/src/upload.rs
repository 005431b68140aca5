//! File uploads as StarlingX's clients send them: a `multipart/form-data`
//! body whose form field `file` holds the file (cgtsclient's name for every
//! upload), or, for scripts with curl, the file as the whole body.

use axum::extract::{FromRequest, Request};
use axum::http::header;

use crate::ApiError;

/// The uploaded file's bytes. Every failure (no field `file`, a broken
/// multipart body, an oversized body) is a 400/413 in the envelope.
pub struct FileUpload(pub Vec<u8>);

/// The form field StarlingX's clients put the file in.
pub const FILE_FIELD: &str = "file";

impl<S: Send + Sync> FromRequest<S> for FileUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = crate::body_bytes(req, state).await?;
        let file = match content_type.as_deref() {
            Some(ct) if mime(ct) == "multipart/form-data" => {
                form_field(ct, &bytes, FILE_FIELD)?.to_vec()
            }
            _ => bytes.to_vec(),
        };
        if file.is_empty() {
            return Err(ApiError::bad_request("The uploaded file is empty"));
        }
        Ok(FileUpload(file))
    }
}

fn mime(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A parameter of a header value (`boundary=…`, `name="…"`), unquoted.
fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let v = v.trim();
        Some(
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v),
        )
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The content of form field `field` of a `multipart/form-data` body
/// (RFC 7578): the parts are walked between `--boundary` delimiters and the
/// first part whose Content-Disposition names `field` is returned.
pub fn form_field<'a>(
    content_type: &str,
    body: &'a [u8],
    field: &str,
) -> Result<&'a [u8], ApiError> {
    let bad = |m: &str| ApiError::bad_request(format!("Invalid multipart body: {m}"));
    let boundary = param(content_type, "boundary")
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| bad("the Content-Type names no boundary"))?;
    let delimiter = format!("--{boundary}");
    let next_part = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0)
        .ok_or_else(|| bad("the boundary does not occur in the body"))?
        + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            break;
        }
        // Transport padding may follow the delimiter, then CRLF.
        let line_end = find(body, b"\r\n", at).ok_or_else(|| bad("a part has no headers"))?;
        let head_start = line_end + 2;
        let head_end =
            find(body, b"\r\n\r\n", head_start).ok_or_else(|| bad("a part's headers never end"))?;
        let content_start = head_end + 4;
        let content_end = find(body, next_part.as_bytes(), head_end + 2)
            .ok_or_else(|| bad("the closing boundary is missing"))?;
        let content = body.get(content_start..content_end).unwrap_or_default();
        let headers = std::str::from_utf8(&body[head_start..head_end])
            .map_err(|_| bad("part headers are not text"))?;
        let named = headers.split("\r\n").any(|h| {
            h.split_once(':').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("content-disposition")
                    && param(v, "name") == Some(field)
            })
        });
        if named {
            return Ok(content);
        }
        at = content_end + next_part.len();
    }
    Err(ApiError::bad_request(format!(
        "The upload has no form field '{field}'"
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const CT: &str = "multipart/form-data; boundary=\"xYzZY\"";

    fn body(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, content) in parts {
            b.extend_from_slice(
                format!("--xYzZY\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"hosts.xml\"\r\nContent-Type: application/xml\r\n\r\n{content}\r\n").as_bytes(),
            );
        }
        b.extend_from_slice(b"--xYzZY--\r\n");
        b
    }

    #[test]
    fn the_named_field_is_found_among_others() {
        let b = body(&[("other", "x"), ("file", "<hosts>\r\n</hosts>")]);
        assert_eq!(form_field(CT, &b, "file").unwrap(), b"<hosts>\r\n</hosts>");
        assert_eq!(form_field(CT, &b, "other").unwrap(), b"x");
        let e = form_field(CT, &b, "nope").unwrap_err();
        assert!(e.message.contains("no form field 'nope'"), "{e:?}");
    }

    #[test]
    fn broken_bodies_are_refused_not_guessed() {
        let good = body(&[("file", "data")]);
        let cases: [(&str, &[u8], &str); 4] = [
            ("multipart/form-data", &good, "names no boundary"),
            (
                "multipart/form-data; boundary=other",
                &good,
                "does not occur",
            ),
            (
                CT,
                b"--xYzZY\r\nContent-Disposition: form-data; name=\"file\"",
                "never end",
            ),
            (
                CT,
                b"--xYzZY\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ndata",
                "closing boundary",
            ),
        ];
        for (ct, b, want) in cases {
            let e = form_field(ct, b, "file").unwrap_err();
            assert!(e.message.contains(want), "{want}: {e:?}");
        }
    }
}
