//! Stable keys for records a source identifies only by personal data.
//!
//! Every record needs a `source_key` that is the same on every import of the same data
//! (see [`crate::records`]). An export with an id column has one. A training provider's
//! attendance export often has none: the participant is known by a name, a phone number,
//! perhaps a CNIC, none of which may be stored or logged in clear as a key, and the row
//! number changes when a row is added above. [`personal_key`] is the answer:
//!
//! ```
//! use hub_plugin_sdk::keys::personal_key;
//!
//! // The person of an attendance line, within its event: name and phone as written.
//! let key = personal_key("EVT-2024-017", &["Ayesha  Bibi", "0300-1234567"]);
//! // Case, spacing and punctuation do not matter; the parts' order does.
//! assert_eq!(key, personal_key("EVT-2024-017", &["ayesha bibi", "03001234567"]));
//! assert_ne!(key, personal_key("EVT-2024-018", &["Ayesha Bibi", "0300-1234567"]));
//! ```
//!
//! The key is a marker the hub recognises: **before anything is stored, compared or
//! logged**, the hub replaces it with `pk:` and a keyed digest (HMAC-SHA256 under the
//! hub's secret CNIC key) of the scope and the folded parts. The same parts give the same
//! key on every import, in every plugin, and nobody without the hub's key can recover the
//! name or phone from it. Use it wherever a key field names such a record: the person's
//! `source_key`, and the `person_key` of the participation or affiliation that refers to it
//! (call it with the same scope and parts). Do not print a record holding one before the
//! hub has it: until then the marker carries the folded parts.
//!
//! Choose parts that tell two people apart within the scope (name and phone; name and
//! firm), and a scope in which they are unique (the event, the list). Two people the
//! parts cannot tell apart become one person of the source; the hub's linking never joins
//! persons by name across sources.

/// The marker that starts a key the hub digests (see the module docs). It cannot occur in
/// text a source gives, since it holds control characters.
pub const PERSONAL_KEY_MARKER: &str = "\u{1}personal-key\u{1}";

/// A stable key made from personal data, digested by the hub (see the module docs):
/// `scope` is where the parts are unique (an event's key), `parts` identify the record
/// within it. Each part is folded (letters and digits kept, lower case, everything else
/// dropped) so that `Ayesha  Bibi` and `ayesha bibi` give the same key.
#[must_use]
pub fn personal_key(scope: &str, parts: &[&str]) -> String {
    let mut key = String::from(PERSONAL_KEY_MARKER);
    key.push_str(scope.trim());
    for part in parts {
        key.push('\u{1f}');
        key.extend(
            part.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase),
        );
    }
    key
}

/// The folded text of a key made by [`personal_key`] (what the hub digests), or `None` for
/// any other key.
#[must_use]
pub fn personal_key_text(key: &str) -> Option<&str> {
    key.strip_prefix(PERSONAL_KEY_MARKER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_their_parts_and_keep_scope_and_order() {
        let a = personal_key("E-1", &["Muhammad Ali", "0300 1234567"]);
        assert_eq!(a, personal_key("E-1", &["MUHAMMAD-ALI", "(0300)1234567"]));
        assert_ne!(a, personal_key("E-1", &["0300 1234567", "Muhammad Ali"]));
        assert_ne!(a, personal_key("E-2", &["Muhammad Ali", "0300 1234567"]));
        // Parts do not run into each other.
        assert_ne!(
            personal_key("E", &["ab", "c"]),
            personal_key("E", &["a", "bc"])
        );
        assert_eq!(
            personal_key_text(&a),
            Some("E-1\u{1f}muhammadali\u{1f}03001234567")
        );
        assert_eq!(personal_key_text("EVT-1/7"), None);
    }
}
