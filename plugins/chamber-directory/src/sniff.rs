//! Recognising a directory from the first bytes of a file.

use hub_plugin_sdk::Confidence;

use crate::fields::{Field, HeaderField};

/// The confidence when the content shows a directory.
const CONTENT: Confidence = Confidence::new(85);

/// The confidence when only the extension fits.
const EXTENSION: Confidence = Confidence::new(15);

/// The most keys read from a JSON head.
const MAX_KEYS: usize = 1_000;

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How confident the importer is that a file starting with `head` is a directory: 85 when
/// the head is JSON with a `members` key and a membership-number key (any accepted
/// variant), or XML with a `<directory` root and a `<member` element; 15 when only the
/// extension fits (`extension_fits`); 0 otherwise. Never panics: any bytes are read as
/// (lossy) UTF-8, cut characters included.
#[must_use]
pub fn sniff(head: &[u8], extension_fits: bool) -> Confidence {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let start = text.trim_start();
    let shows_directory = if start.starts_with('{') {
        json_directory(start)
    } else if start.starts_with('<') {
        xml_directory(start)
    } else {
        false
    };
    if shows_directory {
        CONTENT
    } else if extension_fits {
        EXTENSION
    } else {
        Confidence::NONE
    }
}

/// Whether JSON text has a `members` key and a membership-number key.
fn json_directory(text: &str) -> bool {
    let keys = json_keys(text);
    let members = keys
        .iter()
        .any(|key| HeaderField::of_key(key) == Some(HeaderField::Members));
    let numbers = keys
        .iter()
        .any(|key| Field::of_key(key) == Some(Field::MembershipNo));
    members && numbers
}

/// The object keys of (possibly cut) JSON text: the strings followed by a colon.
fn json_keys(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() && keys.len() < MAX_KEYS {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if end >= bytes.len() {
            break;
        }
        // `start` and `end` are next to ASCII quotes: character boundaries.
        let string = text.get(start..end).unwrap_or_default();
        let after = bytes[end + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .copied();
        if after == Some(b':') {
            keys.push(string);
        }
        i = end + 1;
    }
    keys
}

/// Whether XML text has a `<directory` element and a `<member` element after it.
fn xml_directory(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let Some(root) = find_tag(&text, "directory") else {
        return false;
    };
    find_tag(&text[root..], "member").is_some()
}

/// The byte position of the first start tag `<name` (followed by a space, `>` or `/`).
fn find_tag(text: &str, name: &str) -> Option<usize> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(found) = text[from..].find(&open) {
        let at = from + found;
        let next = text[at + open.len()..].chars().next();
        if next.is_some_and(|c| c.is_ascii_whitespace() || c == '>' || c == '/') {
            return Some(at);
        }
        from = at + open.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_are_strings_before_colons() {
        let keys = json_keys(r#"{"a": "b:c", "d\"e" : 1, "members": [{"x":"#);
        assert_eq!(keys, ["a", "d\\\"e", "members", "x"]);
        assert!(json_keys(r#"{"cut"#).is_empty());
        assert!(json_keys(r#"{"a\"#).is_empty());
    }

    #[test]
    fn tags_need_a_delimiter() {
        assert_eq!(find_tag("<members><member>", "member"), Some(9));
        assert_eq!(find_tag("<directory/>", "directory"), Some(0));
        assert_eq!(find_tag("<directoryx>", "directory"), None);
        assert_eq!(find_tag("<member", "member"), None);
    }
}
