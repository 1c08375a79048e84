//! What a record stream yields: records with their source reference, row errors and logs.

use serde::{Deserialize, Serialize};

use crate::records::Record;
use crate::source_ref::SourceRef;

/// A record together with where in the input it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcedRecord {
    /// Where the record comes from; the hub stores it as the row's provenance.
    pub source_ref: SourceRef,
    /// The record.
    pub record: Record,
}

impl SourcedRecord {
    /// Wraps any record type with its source reference.
    pub fn new(source_ref: SourceRef, record: impl Into<Record>) -> Self {
        Self {
            source_ref,
            record: record.into(),
        }
    }
}

/// How serious a row error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The row (or the value) could not be imported. Unless the user allows a partial
    /// import, the hub applies nothing from a file with errors.
    Error,
    /// The row was imported, but something in it deserves a look (a value dropped as
    /// implausible, a column ignored).
    Warning,
}

/// The stable machine codes of row errors. Clients and reports group errors by code, so a
/// code never changes meaning; the message is for people and may be reworded.
///
/// Importers use these where they fit and may add their own in the same `snake_case` style.
/// The hub reports the same codes when it validates records.
pub mod codes {
    /// A field the record needs is empty or missing.
    pub const MISSING_REQUIRED: &str = "missing_required";
    /// An identifier does not have the shape its scheme requires.
    pub const INVALID_IDENTIFIER: &str = "invalid_identifier";
    /// A cell that should hold a number does not.
    pub const INVALID_NUMBER: &str = "invalid_number";
    /// A cell that should hold a date does not, or the date does not exist.
    pub const INVALID_DATE: &str = "invalid_date";
    /// A value is of the right type but not acceptable (out of range, inconsistent).
    pub const INVALID_VALUE: &str = "invalid_value";
    /// A code or word is not in its vocabulary or reference list.
    pub const UNKNOWN_CODE: &str = "unknown_code";
    /// A `…_key` refers to no record of the source.
    pub const UNKNOWN_REFERENCE: &str = "unknown_reference";
    /// Two records of the same kind have the same key.
    pub const DUPLICATE_KEY: &str = "duplicate_key";
}

/// A problem with one row (or one cell) of the input, reported instead of (or besides) a
/// record, so that one bad row does not fail the whole file.
///
/// **Rule:** the message names the field and says what was expected; it never contains a
/// personal value (a name, a CNIC, a phone number, an e-mail address), because row errors
/// are stored, listed in reports and shown to users without the `pii` scope. Quote a value
/// only when it is certainly not personal, such as an unknown commodity code; when unsure,
/// do not. The constructors [`RowError::missing_required`], [`RowError::invalid_number`]
/// and [`RowError::invalid_date`] write messages that follow the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowError {
    /// Where the problem is; set the column when it concerns one cell.
    pub source_ref: SourceRef,
    /// The record field concerned, by its name in the record (e.g. `employees_total`), or
    /// the identifier scheme (e.g. `PK-NTN`).
    pub field: Option<String>,
    /// A stable machine code, one of [`codes`] where one fits.
    pub code: String,
    /// A sentence for people, following the rule above.
    pub message: String,
    /// Whether the row was dropped or only flagged.
    pub severity: Severity,
}

impl RowError {
    /// A row error of the given severity.
    pub fn new(
        severity: Severity,
        source_ref: SourceRef,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            source_ref,
            field: None,
            code: code.into(),
            message: message.into(),
            severity,
        }
    }

    /// A row error of severity [`Severity::Error`].
    pub fn error(
        source_ref: SourceRef,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, source_ref, code, message)
    }

    /// A row error of severity [`Severity::Warning`].
    pub fn warning(
        source_ref: SourceRef,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, source_ref, code, message)
    }

    /// The same error, about the named field.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The error for a required field the row leaves empty.
    pub fn missing_required(source_ref: SourceRef, field: &str) -> Self {
        Self::error(
            source_ref,
            codes::MISSING_REQUIRED,
            format!("The field {field} is required but the row leaves it empty."),
        )
        .with_field(field)
    }

    /// The error for a cell that should hold a number and does not.
    pub fn invalid_number(source_ref: SourceRef, field: &str) -> Self {
        Self::error(
            source_ref,
            codes::INVALID_NUMBER,
            format!("The field {field} must be a number."),
        )
        .with_field(field)
    }

    /// The error for a cell that should hold a date and does not (or names a day that does
    /// not exist).
    pub fn invalid_date(source_ref: SourceRef, field: &str) -> Self {
        Self::error(
            source_ref,
            codes::INVALID_DATE,
            format!("The field {field} must be a date that exists."),
        )
        .with_field(field)
    }
}

/// The level of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something looks wrong but the import goes on.
    Warn,
    /// Progress worth telling the user, e.g. the detected layout.
    Info,
    /// Details for whoever debugs the importer.
    Debug,
    /// Finer details still.
    Trace,
}

/// One item of a record stream. Serialised, it is one NDJSON envelope, tagged by `kind`:
///
/// ```text
/// {"kind":"record","source_ref":{"file":"firms.csv","sheet":null,"row":2,"column":null},"record":{"type":"organisation","source_key":"F-001",…}}
/// {"kind":"row_error","source_ref":{…},"field":"employees_total","code":"invalid_number","message":"…","severity":"error"}
/// {"kind":"log","level":"info","message":"…"}
/// ```
///
/// See [`to_ndjson_line`](crate::to_ndjson_line) and
/// [`from_ndjson_line`](crate::from_ndjson_line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[expect(
    clippy::large_enum_variant,
    reason = "records are nearly all of a stream's items: boxing them would add an \
              allocation per record to save space only on the rare errors and logs"
)]
pub enum Item {
    /// A record.
    Record(SourcedRecord),
    /// A problem with a row.
    RowError(RowError),
    /// A message for the import's log. Like row errors, it never contains personal values.
    Log {
        /// How important the message is.
        level: LogLevel,
        /// The message.
        message: String,
    },
    /// Where the fields of the records that follow come from, for the rows of `sheet` (of
    /// the whole file when `None`): record field → the column's header as the user sees
    /// it. Fields are written `{record type}.{field}` (`organisation.district`,
    /// `firm_observation.period`), identifiers `organisation.identifiers.{scheme}`
    /// (`organisation.identifiers.PK-NTN`).
    ///
    /// Optional. The hub validates identifiers, codes, periods and places itself; with this
    /// declaration its row errors name the column as well as the field. Send it once per
    /// sheet, before the sheet's records.
    Columns {
        /// The sheet the declaration is for.
        sheet: Option<String>,
        /// Record field → column header.
        columns: std::collections::BTreeMap<String, String>,
    },
}

impl Item {
    /// A record item.
    pub fn record(source_ref: SourceRef, record: impl Into<Record>) -> Self {
        Self::Record(SourcedRecord::new(source_ref, record))
    }

    /// A log item.
    pub fn log(level: LogLevel, message: impl Into<String>) -> Self {
        Self::Log {
            level,
            message: message.into(),
        }
    }

    /// The record, when the item is a record of type `T`:
    /// `items.iter().filter_map(Item::as_record::<TradeFlow>)`.
    pub fn as_record<T: crate::records::RecordType>(&self) -> Option<&T> {
        match self {
            Self::Record(sourced) => T::of(&sourced.record),
            _ => None,
        }
    }

    /// The row error, when the item is one.
    pub fn as_row_error(&self) -> Option<&RowError> {
        match self {
            Self::RowError(error) => Some(error),
            _ => None,
        }
    }

    /// The level and message, when the item is a log line.
    pub fn as_log(&self) -> Option<(LogLevel, &str)> {
        match self {
            Self::Log { level, message } => Some((*level, message.as_str())),
            _ => None,
        }
    }
}

impl Item {
    /// A declaration of the columns the fields of `sheet`'s records come from.
    pub fn columns(
        sheet: Option<String>,
        columns: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self::Columns {
            sheet,
            columns: columns.into_iter().collect(),
        }
    }
}

impl From<SourcedRecord> for Item {
    fn from(record: SourcedRecord) -> Self {
        Self::Record(record)
    }
}

impl From<RowError> for Item {
    fn from(error: RowError) -> Self {
        Self::RowError(error)
    }
}
