//! `OrderedMap`: string keys to string values, kept in insertion order (pg_config output, settings).

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// String keys to string values in the order they were inserted; a JSON object on the wire.
///
/// Used where the order carries meaning for people (pg_config prints `BINDIR` first and
/// `VERSION` last). Keys are unique: [`OrderedMap::insert`] replaces in place, and a JSON object
/// with a repeated key is refused when read. Lookups are linear, which suits the few dozen
/// entries these maps hold.
///
/// ```
/// use pgfarm_model::OrderedMap;
///
/// let pg_config: OrderedMap = [("BINDIR", "/usr/lib/postgresql/17/bin"), ("VERSION", "PostgreSQL 17.2")]
///     .into_iter()
///     .collect();
/// assert_eq!(pg_config.get("VERSION"), Some("PostgreSQL 17.2"));
/// assert_eq!(
///     serde_json::to_string(&pg_config).unwrap(),
///     r#"{"BINDIR":"/usr/lib/postgresql/17/bin","VERSION":"PostgreSQL 17.2"}"#
/// );
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct OrderedMap {
    entries: Vec<(String, String)>,
}

impl OrderedMap {
    /// An empty map.
    pub fn new() -> OrderedMap {
        OrderedMap::default()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Sets `key` to `value`: a new key goes last, an existing key keeps its place.
    /// Returns the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => Some(std::mem::replace(old, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for OrderedMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for OrderedMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> OrderedMap {
        let mut map = OrderedMap::new();
        for (key, value) in iter {
            map.insert(key, value);
        }
        map
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for OrderedMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl IntoIterator for OrderedMap {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Serialize for OrderedMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderedMap, D::Error> {
        deserializer.deserialize_map(OrderedMapVisitor)
    }
}

struct OrderedMapVisitor;

impl<'de> Visitor<'de> for OrderedMapVisitor {
    type Value = OrderedMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<OrderedMap, A::Error> {
        let mut map = OrderedMap::new();
        while let Some((key, value)) = access.next_entry::<String, String>()? {
            if map.get(&key).is_some() {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            map.entries.push((key, value));
        }
        Ok(map)
    }
}

impl JsonSchema for OrderedMap {
    fn schema_name() -> Cow<'static, str> {
        "OrderedMap".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An object of string values whose key order is meaningful; keys are unique.",
            "type": "object",
            "additionalProperties": { "type": "string" }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_survives_a_json_round_trip() {
        let map: OrderedMap = [("z", "1"), ("a", "2"), ("m", "3")].into_iter().collect();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"z":"1","a":"2","m":"3"}"#);
        let back: OrderedMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["z", "a", "m"]);
    }

    #[test]
    fn insert_of_existing_key_keeps_its_place() {
        let mut map: OrderedMap = [("a", "1"), ("b", "2")].into_iter().collect();
        assert_eq!(map.insert("a", "3"), Some("1".to_owned()));
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
    }

    #[test]
    fn duplicate_key_is_refused_when_read() {
        let err = serde_json::from_str::<OrderedMap>(r#"{"a":"1","a":"2"}"#).unwrap_err();
        assert!(err.to_string().starts_with("duplicate key `a`"), "{err}");
    }

    #[test]
    fn non_string_value_is_refused() {
        assert!(serde_json::from_str::<OrderedMap>(r#"{"a":1}"#).is_err());
    }
}
