//! The NDJSON form of items: one JSON object per line, as plugins hand batches to the hub.
//!
//! Built-in importers give the hub [`Item`]s directly; dynamic plugins serialise each batch
//! to NDJSON (the C ABI moves bytes, not Rust values) and the host parses it back. Both ends
//! use these functions, so the wire form is defined in one place.

use std::fmt;

use serde_json::Value;

use crate::item::Item;
use crate::records::RecordKind;

/// The `kind` tags an envelope can have.
const ITEM_KINDS: [&str; 3] = ["record", "row_error", "log"];

/// Serialises an item as one line of NDJSON, without the line break.
///
/// The text never contains a raw line break (JSON escapes them inside strings), so lines
/// can be joined with `\n`. Numbers must be finite: JSON has no NaN or infinity, and such
/// a value would arrive as `null`.
pub fn to_ndjson_line(item: &Item) -> Result<String, NdjsonError> {
    serde_json::to_string(item).map_err(|e| NdjsonError::Serialize {
        message: scrub(&e.to_string()),
    })
}

/// Serialises a batch of items as NDJSON: one line per item, each ending in `\n`.
pub fn to_ndjson_batch(items: &[Item]) -> Result<String, NdjsonError> {
    let mut out = String::new();
    for item in items {
        out.push_str(&to_ndjson_line(item)?);
        out.push('\n');
    }
    Ok(out)
}

/// Parses one line of NDJSON (a trailing `\n` or `\r\n` is ignored) into an item.
///
/// Unknown `kind`s and record `type`s are reported as such, so that the host can say "the
/// plugin emits records of an unknown type" rather than "bad JSON"; so are unknown fields,
/// so that nothing a plugin sends is dropped silently. The error never repeats a value
/// from the line: see [`NdjsonError`].
pub fn from_ndjson_line(line: &str) -> Result<Item, NdjsonError> {
    let line = line.trim_end_matches(['\n', '\r']);
    match serde_json::from_str::<Item>(line) {
        Ok(item) => Ok(item),
        Err(e) if e.is_syntax() || e.is_eof() || e.is_io() => Err(NdjsonError::Syntax {
            message: scrub(&e.to_string()),
        }),
        Err(e) => Err(unknown_tag(line).unwrap_or_else(|| NdjsonError::Invalid {
            message: scrub(&e.to_string()),
        })),
    }
}

/// Looks for an unknown `kind` or record `type` in a line that is valid JSON but not a
/// valid item, to report it by name.
fn unknown_tag(line: &str) -> Option<NdjsonError> {
    let value: Value = serde_json::from_str(line).ok()?;
    let kind = value.get("kind")?.as_str()?;
    if !ITEM_KINDS.contains(&kind) {
        return Some(NdjsonError::UnknownKind {
            kind: tag_name(kind),
        });
    }
    if kind != "record" {
        return None;
    }
    let record_type = value.get("record")?.get("type")?.as_str()?;
    if RecordKind::parse(record_type).is_some() {
        return None;
    }
    Some(NdjsonError::UnknownRecordType {
        record_type: tag_name(record_type),
    })
}

/// A tag as it may be shown: only when it looks like a type name, since a broken plugin
/// could put any value in that position.
fn tag_name(tag: &str) -> String {
    if looks_like_name(tag) {
        tag.to_owned()
    } else {
        "(not a type name)".to_owned()
    }
}

/// Whether a tag or key looks like a name a program would use (a letter first, then
/// letters, digits, `_`, `-`, `.`), as opposed to a value put in its place: a CNIC or a
/// phone number never starts with a letter.
fn looks_like_name(tag: &str) -> bool {
    tag.len() <= 64
        && tag.starts_with(|c: char| c.is_ascii_alphabetic())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// [`scrub`] for any message that may quote a value the way serde does, such as the
/// message of a panic on `unwrap()` of a parse error: quoted values are replaced by `…`.
pub fn scrub_values(message: &str) -> String {
    scrub(message)
}

/// Removes the values serde quotes in its messages (`invalid type: string "…"`,
/// `integer `…``, `unknown variant `…``), keeping field names, expected types and
/// positions. A plugin may put a CNIC where a number belongs; the message must still be
/// fit for a log.
fn scrub(message: &str) -> String {
    const VALUE_MARKERS: [&str; 5] = [
        "integer ",
        "floating point ",
        "character ",
        "boolean ",
        "variant ",
    ];
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"…\"");
                // Skip to the closing quote, past escaped characters.
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' if VALUE_MARKERS.iter().any(|m| out.ends_with(m)) => {
                out.push_str("`…`");
                for inner in chars.by_ref() {
                    if inner == '`' {
                        break;
                    }
                }
            }
            // A field name is kept when it looks like one: a plugin could use a value
            // (a CNIC) as a key.
            '`' if out.ends_with("field ") => {
                let name: String = chars.by_ref().take_while(|c| *c != '`').collect();
                if looks_like_name(&name) {
                    out.push('`');
                    out.push_str(&name);
                    out.push('`');
                } else {
                    out.push_str("`…`");
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Why a line is not an item, or an item could not be written.
///
/// Messages keep what helps to find the fault (the field, the expected type, the column in
/// the line) and drop every value taken from the line, since lines carry personal data and
/// these errors end up in logs. For the same reason the error does not expose the
/// underlying `serde_json` error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NdjsonError {
    /// The line is not a JSON value (or is cut short).
    Syntax {
        /// What is wrong and where, without the line's values.
        message: String,
    },
    /// The envelope's `kind` is not `record`, `row_error` or `log`.
    UnknownKind {
        /// The kind found, if it looks like a name.
        kind: String,
    },
    /// The record's `type` is not a [`RecordKind`].
    UnknownRecordType {
        /// The type found, if it looks like a name.
        record_type: String,
    },
    /// The line is JSON but not a valid item: a missing or unknown field, a value of the
    /// wrong type, an impossible date.
    Invalid {
        /// What is wrong and where, without the line's values.
        message: String,
    },
    /// The item could not be serialised.
    Serialize {
        /// What went wrong.
        message: String,
    },
}

impl fmt::Display for NdjsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { message } => write!(f, "not a JSON line: {message}"),
            Self::UnknownKind { kind } => write!(
                f,
                "unknown item kind {kind:?} (expected \"record\", \"row_error\" or \"log\")"
            ),
            Self::UnknownRecordType { record_type } => {
                write!(f, "unknown record type {record_type:?}")
            }
            Self::Invalid { message } => write!(f, "invalid item: {message}"),
            Self::Serialize { message } => write!(f, "cannot serialise the item: {message}"),
        }
    }
}

impl std::error::Error for NdjsonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_drops_values_and_keeps_names() {
        let cases = [
            (
                r#"invalid type: string "35202-1234567-1", expected u32 at line 1 column 80"#,
                r#"invalid type: string "…", expected u32 at line 1 column 80"#,
            ),
            (
                r#"invalid type: string "a \"quoted\" name", expected a map"#,
                r#"invalid type: string "…", expected a map"#,
            ),
            (
                "invalid type: integer `3520212345671`, expected a string",
                "invalid type: integer `…`, expected a string",
            ),
            (
                "invalid type: floating point `1.5`, expected u32",
                "invalid type: floating point `…`, expected u32",
            ),
            (
                "unknown variant `F`, expected one of `female`, `male`, `other`",
                "unknown variant `…`, expected one of `female`, `male`, `other`",
            ),
            (
                "unknown field `nmae`, expected `name`",
                "unknown field `nmae`, expected `name`",
            ),
            ("missing field `source_key`", "missing field `source_key`"),
            (
                "unknown field `35202-1234567-1`, expected `name`",
                "unknown field `…`, expected `name`",
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(scrub(message), expected);
        }
    }
}
