//! Reading the JSON form: one object with the directory's fields and a `members` list.
//!
//! The document is parsed whole into a [`serde_json::Value`] straight from the file
//! (never holding the file's text besides), then the members are handed out one by one,
//! each freed once converted. A directory of 30,000 members is some 10 MB of JSON and a few
//! tens of MB parsed: acceptable for a directory, and it keeps the reading simple; the XML
//! form streams.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use hub_plugin_sdk::serde_json::{self, Value};
use hub_plugin_sdk::{ImportError, SourceRef};

use crate::fields::{Header, HeaderField, Member};
use crate::not_a_directory;
use crate::stream::{MemberSource, Read};

/// The UTF-8 byte order mark, which some exporters write and JSON parsers refuse.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The members of a JSON directory, handed out in order.
#[derive(Debug)]
pub struct JsonMembers {
    members: std::vec::IntoIter<Value>,
    position: u64,
}

/// Parses the JSON directory at `path` (known to the user as `file`): its header and its
/// members. A file that is not JSON is an error naming the line and column; JSON without a
/// `members` list is not a directory.
pub fn open(path: &Path, file: &str) -> Result<(Header, JsonMembers), ImportError> {
    let mut reader = BufReader::new(File::open(path)?);
    if reader.fill_buf()?.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    let value: Value = serde_json::from_reader(reader).map_err(|e| syntax_error(file, &e))?;
    let Value::Object(mut map) = value else {
        return Err(not_a_directory(
            file,
            "the JSON is not an object with a \"members\" list",
        ));
    };
    let members_key = map
        .keys()
        .find(|key| HeaderField::of_key(key) == Some(HeaderField::Members))
        .cloned();
    let members = match members_key.and_then(|key| map.remove(&key)) {
        Some(Value::Array(members)) => members,
        Some(_) => return Err(not_a_directory(file, "its \"members\" is not a list")),
        None => return Err(not_a_directory(file, "the JSON has no \"members\" list")),
    };
    let mut header = Header::default();
    for (key, value) in &map {
        if let (Some(field), Some(text)) = (HeaderField::of_key(key), scalar_text(value)) {
            header.set(field, &text);
        }
    }
    Ok((
        header,
        JsonMembers {
            members: members.into_iter(),
            position: 0,
        },
    ))
}

impl MemberSource for JsonMembers {
    fn next_member(&mut self) -> Option<Result<Read, ImportError>> {
        let value = self.members.next()?;
        self.position += 1;
        Some(Ok(Read::Member(Box::new(member_of(self.position, value)))))
    }
}

/// A member entry from its JSON value: the fields of an object, or a shapeless entry.
fn member_of(position: u64, value: Value) -> Member {
    let Value::Object(map) = value else {
        return Member::shapeless(position);
    };
    let mut member = Member::new(position);
    for (key, value) in map {
        match scalar_text(&value) {
            Some(text) => member.set(&key, &text),
            None if value.is_null() => member.set(&key, ""),
            None => member.set_malformed(&key),
        }
    }
    member
}

/// The text of a string, number or boolean; `None` for null, lists and objects.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The error for a file that does not parse as JSON, with the line and column but none of
/// the content. The parser's own descriptions of syntax errors (`expected ',' or '}'`,
/// `EOF while parsing a string`) quote no content and are kept.
fn syntax_error(file: &str, error: &serde_json::Error) -> ImportError {
    use serde_json::error::Category;
    let at = SourceRef::new(file);
    match error.classify() {
        Category::Io => ImportError::at(at, format!("cannot read the input: {error}")),
        Category::Syntax | Category::Eof => {
            let text = error.to_string();
            let detail = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(detail, _)| detail);
            ImportError::at(
                at,
                format!(
                    "the file is not valid JSON at line {}, column {}: {detail}",
                    error.line(),
                    error.column()
                ),
            )
        }
        Category::Data => ImportError::at(
            at,
            format!(
                "the file is not valid JSON at line {}, column {}: a value cannot be read",
                error.line(),
                error.column()
            ),
        ),
    }
}
