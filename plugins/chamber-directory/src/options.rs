//! The options of an import (the user's mapping file, which the hub passes as JSON) and
//! their JSON Schema.

use hub_plugin_sdk::serde_json::{Map, Value, json};
use hub_plugin_sdk::{Date, ImportError};

use crate::clusters::ClusterTable;
use crate::convert::parse_date;

/// The top-level keys the options may have.
const KEYS: [&str; 6] = [
    "source",
    "importer",
    "chamber_code",
    "published",
    "default_clusters",
    "sector_clusters",
];

/// The keys of one entry of `sector_clusters`.
const ENTRY_KEYS: [&str; 3] = ["sector", "district", "cluster"];

/// The checked options of one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The chamber's code, replacing the directory's own.
    pub chamber_code: Option<String>,
    /// The publication date, replacing the directory's own.
    pub published: Option<Date>,
    /// The sector and district → cluster table: the defaults (unless `default_clusters` is
    /// false) with the `sector_clusters` entries over them.
    pub clusters: ClusterTable,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            chamber_code: None,
            published: None,
            clusters: ClusterTable::defaults(),
        }
    }
}

impl Options {
    /// Reads and checks the options; `Null` gives the defaults.
    pub fn parse(value: &Value) -> Result<Self, ImportError> {
        let map = match value {
            Value::Null => return Ok(Self::default()),
            Value::Object(map) => map,
            _ => return Err(invalid("they must be a table (a JSON object)")),
        };
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(invalid(&format!(
                "{key} is not an option of chamber-directory (options: {})",
                KEYS.join(", ")
            )));
        }
        let chamber_code = match map.get("chamber_code") {
            None => None,
            Some(Value::String(code)) if !code.trim().is_empty() => Some(code.trim().to_owned()),
            Some(_) => {
                return Err(invalid(
                    "chamber_code must be non-empty text such as \"SCCI\"",
                ));
            }
        };
        let published = match map.get("published") {
            None => None,
            Some(value) => Some(date_option(value).ok_or_else(|| {
                invalid("published must be a date written YYYY-MM-DD or DD/MM/YYYY")
            })?),
        };
        let mut clusters = match map.get("default_clusters") {
            None | Some(Value::Bool(true)) => ClusterTable::defaults(),
            Some(Value::Bool(false)) => ClusterTable::empty(),
            Some(_) => return Err(invalid("default_clusters must be true or false")),
        };
        match map.get("sector_clusters") {
            None => {}
            Some(Value::Array(entries)) => {
                for (index, entry) in entries.iter().enumerate() {
                    let (sector, district, cluster) = cluster_entry(index + 1, entry)?;
                    clusters.set(sector, district, cluster);
                }
            }
            Some(_) => {
                return Err(invalid(
                    "sector_clusters must be a list of {sector, district, cluster} tables",
                ));
            }
        }
        Ok(Self {
            chamber_code,
            published,
            clusters,
        })
    }
}

/// Reads entry `number` (1-based) of `sector_clusters`: sector, district, cluster.
fn cluster_entry(number: usize, entry: &Value) -> Result<(&str, &str, &str), ImportError> {
    let fail = |what: &str| invalid(&format!("entry {number} of sector_clusters {what}"));
    let Value::Object(map) = entry else {
        return Err(fail("must be a table with sector, district and cluster"));
    };
    if let Some(key) = map.keys().find(|k| !ENTRY_KEYS.contains(&k.as_str())) {
        return Err(fail(&format!(
            "has the key {key}; its keys are sector, district and cluster"
        )));
    }
    let text = |key: &str, may_be_empty: bool| -> Result<&str, ImportError> {
        match entry_text(map, key) {
            Some(text) if may_be_empty || !text.trim().is_empty() => Ok(text),
            Some(_) => Err(fail(&format!("has an empty {key}"))),
            None => Err(fail(&format!("lacks the text {key}"))),
        }
    };
    Ok((
        text("sector", false)?,
        text("district", false)?,
        text("cluster", true)?,
    ))
}

fn entry_text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)?.as_str()
}

/// A date given as an option: text in ISO or day-first form, or a TOML date (which arrives
/// as `{"$__toml_private_datetime": "2024-03-01"}` once the mapping file is read into JSON).
fn date_option(value: &Value) -> Option<Date> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(map) if map.len() == 1 => map.values().next()?.as_str()?,
        _ => return None,
    };
    parse_date(text)
}

fn invalid(message: &str) -> ImportError {
    ImportError::new(format!(
        "the options of chamber-directory are not valid: {message}"
    ))
}

/// The JSON Schema of the options, for the manifest.
#[must_use]
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Options of chamber-directory",
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "source": {"description": "Read by the hub: the source the import writes under, e.g. scci-directory. The importer has no default source: name one per chamber."},
            "importer": {"description": "Read by the hub: the importer the mapping is for."},
            "chamber_code": {
                "type": "string",
                "minLength": 1,
                "examples": ["SCCI", "LCCI"],
                "description": "The chamber's code, which qualifies the membership numbers (chamber-membership identifiers) so that they are unique across chambers. Replaces the directory's chamber_code; required when the directory has none."
            },
            "published": {
                "type": ["string", "object"],
                "examples": ["2024-03-01"],
                "description": "The day the directory was published (YYYY-MM-DD or DD/MM/YYYY, or a TOML date): the organisations' observed_on. Replaces the directory's published date."
            },
            "default_clusters": {
                "type": "boolean",
                "default": true,
                "description": "Whether to start from the built-in sector and district -> cluster table of the four demo clusters; false starts from an empty table."
            },
            "sector_clusters": {
                "type": "array",
                "description": "Entries added to the sector and district -> cluster table, replacing a built-in entry for the same sector and district. Sectors and districts are compared ignoring case, punctuation and & / and.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["sector", "district", "cluster"],
                    "properties": {
                        "sector": {"type": "string", "minLength": 1, "examples": ["Cutlery"]},
                        "district": {"type": "string", "minLength": 1, "examples": ["Gujranwala"]},
                        "cluster": {"type": "string", "examples": ["gujranwala-cutlery"], "description": "The cluster's slug; \"\" for no cluster."}
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_gives_the_defaults() {
        assert_eq!(Options::parse(&Value::Null).unwrap(), Options::default());
    }

    #[test]
    fn options_are_read() {
        let options = Options::parse(&json!({
            "source": "scci-directory",
            "importer": "chamber-directory",
            "chamber_code": " LCCI ",
            "published": {"$__toml_private_datetime": "2024-03-01"},
            "default_clusters": false,
            "sector_clusters": [
                {"sector": "Cutlery", "district": "Gujranwala", "cluster": "gujranwala-cutlery"},
                {"sector": "Garments", "district": "Lahore", "cluster": ""}
            ]
        }))
        .unwrap();
        assert_eq!(options.chamber_code.as_deref(), Some("LCCI"));
        assert_eq!(options.published, Date::from_ymd(2024, 3, 1).ok());
        assert_eq!(options.clusters.len(), 2);
        assert_eq!(
            options.clusters.cluster("Cutlery", "Gujranwala"),
            Some("gujranwala-cutlery")
        );
        assert_eq!(
            options.clusters.cluster("Surgical Instruments", "Sialkot"),
            None
        );
    }

    #[test]
    fn invalid_options_are_refused_with_the_reason() {
        let cases = [
            (json!([]), "they must be a table"),
            (
                json!({"sheet": "x"}),
                "sheet is not an option of chamber-directory",
            ),
            (
                json!({"chamber_code": ""}),
                "chamber_code must be non-empty text",
            ),
            (
                json!({"published": "March 2024"}),
                "published must be a date",
            ),
            (
                json!({"default_clusters": "no"}),
                "default_clusters must be true or false",
            ),
            (
                json!({"sector_clusters": {}}),
                "sector_clusters must be a list",
            ),
            (
                json!({"sector_clusters": [{"sector": "Cutlery", "cluster": "x"}]}),
                "entry 1 of sector_clusters lacks the text district",
            ),
            (
                json!({"sector_clusters": [{"sector": "A", "district": "B", "cluster": "c"}, {"sector": " ", "district": "B", "cluster": "c"}]}),
                "entry 2 of sector_clusters has an empty sector",
            ),
            (
                json!({"sector_clusters": [{"sector": "A", "district": "B", "slug": "c"}]}),
                "entry 1 of sector_clusters has the key slug",
            ),
            (
                json!({"sector_clusters": ["x"]}),
                "entry 1 of sector_clusters must be a table",
            ),
        ];
        for (value, expected) in cases {
            let error = Options::parse(&value).unwrap_err();
            assert!(
                error
                    .message
                    .starts_with("the options of chamber-directory are not valid: "),
                "{error}"
            );
            assert!(error.message.contains(expected), "{error} ≠ {expected}");
        }
    }

    #[test]
    fn the_schema_lists_every_option() {
        let schema = schema();
        let properties = schema["properties"].as_object().unwrap();
        let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}
