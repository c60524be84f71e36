//! `RawText`: a raw process output (log, `results/x.out`, TAP stream) that travels losslessly.
//!
//! Design choice (see docs/bundle-format.md, "Raw text"): an output that is valid UTF-8 is a plain
//! JSON string, which is what nearly every output is, so bundles stay readable and `jq`-friendly.
//! An output that is *not* valid UTF-8 (a `LATIN1` database, a binary dumped by `\copy`, a
//! truncated multi-byte character) is written as `{"encoding": "base64", "data": "..."}` with the
//! exact bytes. The cost: consumers that want text call [`RawText::to_string_lossy`] (or
//! [`RawText::as_str`], which returns `None` for the rare binary case) instead of reading a `String`.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A raw output captured from a process: text when it is valid UTF-8, exact bytes otherwise.
///
/// Invariant: the bytes form is used only for bytes that are not valid UTF-8, so two `RawText`s
/// are equal exactly when their bytes are equal.
///
/// ```
/// use pgfarm_model::RawText;
///
/// let text = RawText::from("ok 1 - works\n");
/// assert_eq!(text.as_str(), Some("ok 1 - works\n"));
/// assert_eq!(serde_json::to_string(&text).unwrap(), r#""ok 1 - works\n""#);
///
/// let latin1 = RawText::from_bytes(b"caf\xe9\n".to_vec());
/// assert_eq!(latin1.as_str(), None);
/// assert_eq!(latin1.to_string_lossy(), "caf\u{fffd}\n");
/// let json = serde_json::to_string(&latin1).unwrap();
/// assert_eq!(json, r#"{"encoding":"base64","data":"Y2Fm6Qo="}"#);
/// assert_eq!(serde_json::from_str::<RawText>(&json).unwrap(), latin1);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct RawText(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Utf8(String),
    /// Never valid UTF-8 (see the type's invariant).
    Bytes(Vec<u8>),
}

impl Default for Repr {
    fn default() -> Repr {
        Repr::Utf8(String::new())
    }
}

impl RawText {
    /// An empty output.
    pub fn new() -> RawText {
        RawText::default()
    }

    /// Wraps captured bytes, keeping them as text when they are valid UTF-8 (no copy is made).
    pub fn from_bytes(bytes: Vec<u8>) -> RawText {
        match String::from_utf8(bytes) {
            Ok(text) => RawText(Repr::Utf8(text)),
            Err(err) => RawText(Repr::Bytes(err.into_bytes())),
        }
    }

    /// The text, or `None` when the output is not valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Utf8(text) => Some(text),
            Repr::Bytes(_) => None,
        }
    }

    /// The text, with each invalid UTF-8 sequence replaced by U+FFFD (borrowed when valid).
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Utf8(text) => Cow::Borrowed(text),
            Repr::Bytes(bytes) => String::from_utf8_lossy(bytes),
        }
    }

    /// The exact bytes of the output.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Utf8(text) => text.as_bytes(),
            Repr::Bytes(bytes) => bytes,
        }
    }

    /// Consumes the output and returns its exact bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        match self.0 {
            Repr::Utf8(text) => text.into_bytes(),
            Repr::Bytes(bytes) => bytes,
        }
    }

    /// Whether the output is valid UTF-8 (and so travels as a plain JSON string).
    pub fn is_utf8(&self) -> bool {
        matches!(self.0, Repr::Utf8(_))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the output is empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }
}

impl fmt::Debug for RawText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Utf8(text) => fmt::Debug::fmt(text, f),
            Repr::Bytes(bytes) => {
                f.debug_tuple("Bytes").field(&String::from_utf8_lossy(bytes)).finish()
            }
        }
    }
}

impl From<String> for RawText {
    fn from(text: String) -> RawText {
        RawText(Repr::Utf8(text))
    }
}

impl From<&str> for RawText {
    fn from(text: &str) -> RawText {
        RawText(Repr::Utf8(text.to_owned()))
    }
}

impl From<Vec<u8>> for RawText {
    fn from(bytes: Vec<u8>) -> RawText {
        RawText::from_bytes(bytes)
    }
}

/// The only value of the `encoding` key of the bytes form.
const ENCODING_BASE64: &str = "base64";

impl Serialize for RawText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Utf8(text) => serializer.serialize_str(text),
            Repr::Bytes(bytes) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("encoding", ENCODING_BASE64)?;
                map.serialize_entry("data", &BASE64.encode(bytes))?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for RawText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawText, D::Error> {
        deserializer.deserialize_any(RawTextVisitor)
    }
}

struct RawTextVisitor;

impl<'de> Visitor<'de> for RawTextVisitor {
    type Value = RawText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a string or an object {"encoding": "base64", "data": "..."}"#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<RawText, E> {
        Ok(RawText::from(text))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<RawText, E> {
        Ok(RawText::from(text))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawText, A::Error> {
        let mut encoding: Option<String> = None;
        let mut data: Option<String> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "encoding" if encoding.is_some() => {
                    return Err(de::Error::duplicate_field("encoding"));
                }
                "data" if data.is_some() => return Err(de::Error::duplicate_field("data")),
                "encoding" => encoding = Some(map.next_value()?),
                "data" => data = Some(map.next_value()?),
                // Forward compatibility: unknown keys are ignored, as everywhere in the format.
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let encoding = encoding.ok_or_else(|| de::Error::missing_field("encoding"))?;
        if encoding != ENCODING_BASE64 {
            return Err(de::Error::invalid_value(
                de::Unexpected::Str(&encoding),
                &r#"the encoding "base64""#,
            ));
        }
        let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
        let bytes = BASE64
            .decode(data.as_bytes())
            .map_err(|err| de::Error::custom(format_args!("data is not valid base64: {err}")))?;
        // Normalise: bytes that happen to be UTF-8 become text, keeping the type's invariant.
        Ok(RawText::from_bytes(bytes))
    }
}

impl JsonSchema for RawText {
    fn schema_name() -> Cow<'static, str> {
        "RawText".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A raw output. Valid UTF-8 travels as a plain string; anything else as {\"encoding\": \"base64\", \"data\": <standard base64 with padding>} holding the exact bytes.",
            "oneOf": [
                { "type": "string" },
                {
                    "type": "object",
                    "required": ["encoding", "data"],
                    "properties": {
                        "encoding": { "const": "base64" },
                        "data": { "type": "string", "contentEncoding": "base64" }
                    }
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &RawText) -> RawText {
        let json = serde_json::to_string(text).expect("RawText serializes to JSON");
        serde_json::from_str(&json).expect("RawText reads back what it wrote")
    }

    #[test]
    fn utf8_output_is_a_plain_json_string() {
        let text = RawText::from("a\tb\n\u{e9}");
        assert_eq!(serde_json::to_string(&text).unwrap(), "\"a\\tb\\n\u{e9}\"");
        assert_eq!(round_trip(&text), text);
    }

    #[test]
    fn invalid_utf8_round_trips_byte_for_byte() {
        let bytes = vec![0xff, 0xfe, b'a', 0x00, 0xc3];
        let text = RawText::from_bytes(bytes.clone());
        assert!(!text.is_utf8());
        assert_eq!(round_trip(&text).into_bytes(), bytes);
    }

    #[test]
    fn base64_form_holding_utf8_is_normalised_to_text() {
        let text: RawText = serde_json::from_str(r#"{"encoding":"base64","data":"aGk="}"#).unwrap();
        assert_eq!(text, RawText::from("hi"));
    }

    #[test]
    fn unknown_encoding_is_refused() {
        let err = serde_json::from_str::<RawText>(r#"{"encoding":"hex","data":"00"}"#).unwrap_err();
        assert!(err.to_string().contains(r#"expected the encoding "base64""#), "{err}");
    }

    #[test]
    fn bad_base64_is_refused() {
        let err =
            serde_json::from_str::<RawText>(r#"{"encoding":"base64","data":"@@"}"#).unwrap_err();
        assert!(err.to_string().contains("data is not valid base64"), "{err}");
    }

    #[test]
    fn missing_data_is_refused() {
        let err = serde_json::from_str::<RawText>(r#"{"encoding":"base64"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `data`"), "{err}");
    }
}
