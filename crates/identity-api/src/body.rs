//! Request bodies: Keystone wraps each in one named object
//! (`{"user": {...}}`) whose fields are read here with clear 400s for wrong
//! types. Attributes Keystone would store as "extra" are accepted and
//! ignored (docs/compatibility.md).

use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};
use starling_http::ApiJson;

use crate::KsError;

/// A JSON body in Keystone's envelope.
pub struct KsJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for KsJson {
    type Rejection = KsError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        ApiJson::<Value>::from_request(req, state)
            .await
            .map(|ApiJson(v)| KsJson(v))
            .map_err(KsError)
    }
}

/// The fields of the object under `key`.
pub struct Fields {
    key: &'static str,
    map: Map<String, Value>,
}

impl KsJson {
    /// The object under `key` (`{"user": {...}}` → the user's fields).
    pub fn object(self, key: &'static str) -> Result<Fields, KsError> {
        match self.0 {
            Value::Object(mut outer) => match outer.remove(key) {
                Some(Value::Object(map)) => Ok(Fields { key, map }),
                Some(_) => Err(KsError::bad_request(format!(
                    "Invalid input for field '{key}': an object is expected"
                ))),
                None => Err(KsError::bad_request(format!(
                    "'{key}' is a required property"
                ))),
            },
            _ => Err(KsError::bad_request("A JSON object is expected")),
        }
    }
}

impl Fields {
    fn bad(&self, field: &str, what: &str) -> KsError {
        KsError::bad_request(format!(
            "Invalid input for field '{}.{field}': {what} is expected",
            self.key
        ))
    }

    /// A string field, absent or null as `None`.
    pub fn string(&self, field: &str) -> Result<Option<String>, KsError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.bad(field, "a string")),
        }
    }

    /// A required string field.
    pub fn required(&self, field: &str) -> Result<String, KsError> {
        self.string(field)?.ok_or_else(|| {
            KsError::bad_request(format!(
                "'{field}' is a required property of '{}'",
                self.key
            ))
        })
    }

    /// A string field that may be set to null: absent `None`, null `Some(None)`.
    pub fn nullable(&self, field: &str) -> Result<Option<Option<String>>, KsError> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(self.bad(field, "a string or null")),
        }
    }

    /// A boolean field.
    pub fn boolean(&self, field: &str) -> Result<Option<bool>, KsError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.bad(field, "a boolean")),
        }
    }

    /// Refuses fields Starling cannot honour (rather than ignoring them and
    /// doing something other than asked).
    pub fn unsupported(&self, fields: &[&str]) -> Result<(), KsError> {
        for f in fields {
            if self.map.get(*f).is_some_and(|v| !v.is_null()) {
                return Err(KsError::bad_request(format!(
                    "'{}.{f}' is not supported by this identity service",
                    self.key
                )));
            }
        }
        Ok(())
    }
}
