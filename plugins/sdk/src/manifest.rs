//! What an importer says about itself before it is given a file.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::records::RecordKind;

/// The version of this SDK, which every manifest carries so that the hub can refuse an
/// importer built against an SDK it does not understand, with a message saying which
/// version it found and which it expected.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// An importer's description of itself: identity, the files it reads, the records it
/// emits and the options it takes.
///
/// The hub reads it before anything else (for plugins, before the first call that touches
/// a file) to list importers, pick one for a file, check compatibility and validate options.
///
/// Unlike records, a manifest tolerates fields this SDK version does not know: the host
/// must be able to read the `sdk_version` of a newer plugin in order to refuse it with a
/// clear message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImporterManifest {
    /// A stable id, unique among the hub's importers: lower-case letters, digits, `-` and
    /// `.`, e.g. `psic-punjab-registry`. Users pass it to `hub import --importer`, and import
    /// runs record it.
    pub id: String,
    /// A name for people, e.g. `Punjab Small Industries Corporation registry export`.
    pub name: String,
    /// The importer's own version (semantic versioning), recorded with every import run.
    pub version: String,
    /// The SDK version the importer was built against; [`ImporterManifest::new`] fills in
    /// [`SDK_VERSION`].
    pub sdk_version: String,
    /// The kinds of files the importer reads.
    #[serde(default)]
    pub inputs: InputKinds,
    /// The kinds of records it may emit. The hub refuses records of other kinds.
    #[serde(default)]
    pub emits: Vec<RecordKind>,
    /// A JSON Schema of the options [`crate::Importer::open`] accepts, or `None` when it
    /// takes none.
    #[serde(default)]
    pub options_schema: Option<Value>,
    /// The source the records belong to when the user names none, for importers of one
    /// publisher's files (`psic-punjab`, `un-comtrade`). `None` for general formats such
    /// as spreadsheets, whose source the user names.
    #[serde(default)]
    pub default_source: Option<String>,
}

impl ImporterManifest {
    /// A manifest with its identity and the current [`SDK_VERSION`], reading no file kinds
    /// and emitting nothing yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            sdk_version: SDK_VERSION.to_owned(),
            inputs: InputKinds::default(),
            emits: Vec::new(),
            options_schema: None,
            default_source: None,
        }
    }

    /// The same manifest, with the source its records belong to by default.
    #[must_use]
    pub fn with_default_source(mut self, source: impl Into<String>) -> Self {
        self.default_source = Some(source.into());
        self
    }

    /// The same manifest, reading files with these extensions (without the dot).
    #[must_use]
    pub fn with_extensions<S: Into<String>>(
        mut self,
        extensions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.inputs
            .extensions
            .extend(extensions.into_iter().map(Into::into));
        self
    }

    /// The same manifest, reading files of these MIME types.
    #[must_use]
    pub fn with_mime_types<S: Into<String>>(
        mut self,
        mime_types: impl IntoIterator<Item = S>,
    ) -> Self {
        self.inputs
            .mime_types
            .extend(mime_types.into_iter().map(Into::into));
        self
    }

    /// The same manifest, emitting these kinds of records.
    #[must_use]
    pub fn with_emits(mut self, kinds: impl IntoIterator<Item = RecordKind>) -> Self {
        self.emits.extend(kinds);
        self
    }

    /// The same manifest, with a JSON Schema of its options.
    #[must_use]
    pub fn with_options_schema(mut self, schema: Value) -> Self {
        self.options_schema = Some(schema);
        self
    }
}

/// The kinds of files an importer reads, used to offer it for a file before sniffing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputKinds {
    /// File name extensions without the leading dot, lower case: `csv`, `xlsx`, `tar.gz`.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// MIME types, e.g. `text/csv`, for uploads that come with one.
    #[serde(default)]
    pub mime_types: Vec<String>,
}

impl InputKinds {
    /// Tells whether the file name ends with one of the extensions, ignoring case.
    #[must_use]
    pub fn matches_file_name(&self, file_name: &str) -> bool {
        let name = file_name.to_ascii_lowercase();
        self.extensions.iter().any(|ext| {
            let ext = ext.trim_start_matches('.').to_ascii_lowercase();
            !ext.is_empty()
                && name.len() > ext.len() + 1
                && name.ends_with(&ext)
                && name[..name.len() - ext.len()].ends_with('.')
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_match_whole_suffixes_in_any_case() {
        let inputs = InputKinds {
            extensions: vec!["csv".into(), ".xlsx".into(), "tar.gz".into()],
            mime_types: vec![],
        };
        let cases = [
            ("firms.csv", true),
            ("FIRMS.CSV", true),
            ("book.xlsx", true),
            ("dump.tar.gz", true),
            ("notcsv", false),
            ("csv", false),
            (".csv", false),
            ("firms.tsv", false),
            ("book.xls", false),
        ];
        for (name, expected) in cases {
            assert_eq!(inputs.matches_file_name(name), expected, "{name}");
        }
    }
}
