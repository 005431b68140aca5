//! Wire shapes every StarlingX-compatible API shares, declared once for the
//! servers, the client crates and the CLIs: JSON-Patch operations, `links`,
//! the error envelope of the WSME-based services (FM, sysinv), StarlingX's
//! two timestamp forms and its loose booleans. Each derives `ToSchema`, so
//! the OpenAPI documents are generated from the same declarations.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub use starling_common::Timestamp;

/// StarlingX's timestamp forms, as `#[serde(with = …)]` modules over
/// [`Timestamp`]: written without an intermediate string, read with
/// [`Timestamp::parse`].
pub mod time {
    use serde::{Deserialize, Deserializer, Serializer};
    use starling_common::Timestamp;

    /// A timestamp serialized as one string from the bytes `NaiveIso`
    /// formats without the formatting machinery (serde's `collect_str`
    /// escapes each formatted piece on its own: a quarter of a 1,000-host
    /// list's serialization), with the zone when `zone`; years outside
    /// 0..=9999 go through `Display`.
    fn put<S: Serializer>(t: &Timestamp, zone: bool, s: S) -> Result<S::Ok, S::Error> {
        let Some(naive) = t.naive_iso().bytes() else {
            return if zone {
                s.collect_str(&t.iso_utc())
            } else {
                s.collect_str(&t.naive_iso())
            };
        };
        let mut text = [0u8; 32];
        text[..26].copy_from_slice(&naive);
        text[26..].copy_from_slice(b"+00:00");
        let len = if zone { 32 } else { 26 };
        let str = std::str::from_utf8(&text[..len]).map_err(serde::ser::Error::custom)?;
        s.serialize_str(str)
    }

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }

    /// The zone-less form of `timestamp` fields: `2026-01-02T03:04:05.678901`.
    pub mod naive {
        use super::*;
        pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
            put(t, false, s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
            parse(d)
        }
    }

    /// The form with an explicit zone of `created_at` and `updated_at`:
    /// `2026-01-02T03:04:05.678901+00:00`.
    pub mod utc {
        use super::*;
        pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
            put(t, true, s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
            parse(d)
        }
    }

    /// [`utc`], or `null`.
    pub mod utc_opt {
        use super::*;
        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => put(t, true, s),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            match <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? {
                Some(s) => Timestamp::parse(&s)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

/// A link of a resource's `links` array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Link<'a> {
    pub href: Cow<'a, str>,
    /// `self`, `bookmark` or `describedby`.
    pub rel: Cow<'a, str>,
    /// The media type of a `describedby` link.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<Cow<'a, str>>,
}

impl Link<'static> {
    /// A link without a media type.
    pub fn new(href: String, rel: &'static str) -> Self {
        Link {
            href: Cow::Owned(href),
            rel: Cow::Borrowed(rel),
            media_type: None,
        }
    }

    /// The `self` and `bookmark` links of `collection/id` under `base`.
    pub fn pair(base: &str, collection: &str, id: &str) -> Vec<Link<'static>> {
        vec![
            Link::new(format!("{base}/v1/{collection}/{id}"), "self"),
            Link::new(format!("{base}/{collection}/{id}"), "bookmark"),
        ]
    }
}

/// One JSON-Patch operation (RFC 6902 as StarlingX's APIs take it).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOp {
    /// add, replace or remove.
    pub op: String,
    /// `/attribute`.
    pub path: String,
    /// The new value (absent for remove).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    /// RFC 6902's `from` (not supported; refused when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A JSON-Patch document: its operations, in order (the body of StarlingX's
/// PATCH requests).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct JsonPatch(pub Vec<PatchOp>);

/// The error envelope of the WSME-based services (FM, sysinv):
/// `error_message` is itself JSON text, `{"faultcode", "faultstring",
/// "debuginfo"}`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// JSON text: `{"faultcode": "Client"|"Server", "faultstring": …, "debuginfo": null}`.
    pub error_message: String,
}

impl ErrorEnvelope {
    /// The `faultstring` inside, or the whole text when it is not that JSON.
    pub fn faultstring(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.error_message)
            .ok()
            .and_then(|v| v["faultstring"].as_str().map(str::to_string))
            .unwrap_or_else(|| self.error_message.clone())
    }
}

/// A boolean that also accepts StarlingX's string spellings (`"True"`,
/// `"false"`, …) where its clients send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LooseBool(pub bool);

impl<'de> Deserialize<'de> for LooseBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum B<'a> {
            B(bool),
            S(#[serde(borrow)] Cow<'a, str>),
        }
        match B::deserialize(d)? {
            B::B(b) => Ok(LooseBool(b)),
            B::S(s) => parse_bool(&s)
                .map(LooseBool)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid boolean '{s}'"))),
        }
    }
}

impl utoipa::PartialSchema for LooseBool {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)

            )
            .description(Some(
                "A boolean, or one spelled as StarlingX's clients send it (\"True\", \"false\", \"yes\", …).",
            ))
            .into()
    }
}

impl ToSchema for LooseBool {}

/// StarlingX's boolean spellings: true/false, 1/0, yes/no, on/off, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `"True"` or `"False"`, as StarlingX writes derived booleans.
pub fn true_false(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "time::naive")]
        a: Timestamp,
        #[serde(with = "time::utc")]
        b: Timestamp,
        #[serde(with = "time::utc_opt")]
        c: Option<Timestamp>,
    }

    #[test]
    fn timestamps_round_trip_in_both_forms() {
        let t = Timestamp::parse("2026-01-02T03:04:05.678901").unwrap();
        let v = T {
            a: t,
            b: t,
            c: None,
        };
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(
            s,
            r#"{"a":"2026-01-02T03:04:05.678901","b":"2026-01-02T03:04:05.678901+00:00","c":null}"#
        );
        assert_eq!(serde_json::from_str::<T>(&s).unwrap(), v);
        assert!(serde_json::from_str::<T>(r#"{"a":"soon","b":"x","c":null}"#).is_err());
    }

    #[test]
    fn loose_booleans_and_envelopes() {
        for (j, b) in [("true", true), ("\"True\"", true), ("\"off\"", false)] {
            assert_eq!(serde_json::from_str::<LooseBool>(j).unwrap(), LooseBool(b));
        }
        assert!(serde_json::from_str::<LooseBool>("\"maybe\"").is_err());
        let e = ErrorEnvelope {
            error_message: r#"{"faultcode": "Client", "faultstring": "Bad", "debuginfo": null}"#
                .into(),
        };
        assert_eq!(e.faultstring(), "Bad");
        let links = serde_json::to_string(&Link::pair("http://h", "alarms", "u")).unwrap();
        assert_eq!(
            links,
            r#"[{"href":"http://h/v1/alarms/u","rel":"self"},{"href":"http://h/alarms/u","rel":"bookmark"}]"#
        );
    }
}
