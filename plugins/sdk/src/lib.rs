//! The importer contract of the Cluster Data Hub.
//!
//! The hub imports spreadsheets, registry exports and trade statistics into one unified
//! model. Each kind of file is read by an **importer**: a type implementing [`Importer`],
//! either built into the hub (spreadsheet, registry, trade statistics) or loaded at runtime
//! as a plugin. Both kinds implement the same trait and produce the same thing, a stream of
//! [`Item`]s:
//!
//! - [`Item::Record`]: a typed [`Record`] (an [`Organisation`], a [`Participation`], a
//!   [`TradeFlow`], …) with the [`SourceRef`] of the row it comes from;
//! - [`Item::RowError`]: a [`RowError`] for a row that could not become a record;
//! - [`Item::Log`]: a message for the import's log.
//!
//! The hub's import pipeline then validates every record, finds the source records it
//! already holds from earlier imports, links records to unified entities, and applies the
//! whole import in one transaction with provenance. An importer knows nothing of that: it
//! depends on this crate only (which depends on serde alone), never on the hub or a
//! database library.
//!
//! # Example
//!
//! A complete importer for a made-up "firm list" format, one firm per line as
//! `key|name|district|NTN`, used the way the hub uses it:
//!
//! ```
//! use std::fs::File;
//! use std::io::{BufRead, BufReader};
//!
//! use hub_plugin_sdk::serde_json::Value;
//! use hub_plugin_sdk::{
//!     Confidence, IdentifierValue, ImportError, Importer, ImporterManifest, Input, Item,
//!     IterStream, Organisation, OrganisationKind, RecordKind, RecordStream, RowError,
//!     SourceRef, codes, schemes, to_ndjson_line,
//! };
//!
//! /// Reads firm lists: one firm per line, `key|name|district|NTN`.
//! struct FirmListImporter;
//!
//! impl Importer for FirmListImporter {
//!     fn manifest(&self) -> ImporterManifest {
//!         ImporterManifest::new("example-firm-list", "Example firm list", "1.0.0")
//!             .with_extensions(["firms"])
//!             .with_emits([RecordKind::Organisation])
//!     }
//!
//!     fn sniff(&self, head: &[u8], file_name: &str) -> Confidence {
//!         let first_line = String::from_utf8_lossy(head).lines().next().map(str::to_owned);
//!         if first_line.is_some_and(|line| line.split('|').count() == 4) {
//!             Confidence::new(80)
//!         } else if self.manifest().inputs.matches_file_name(file_name) {
//!             Confidence::new(20)
//!         } else {
//!             Confidence::NONE
//!         }
//!     }
//!
//!     fn open(
//!         &mut self,
//!         input: Input,
//!         _options: &Value,
//!     ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
//!         // Read line by line: however large the file, only the current batch is held.
//!         let lines = BufReader::new(File::open(&input.path)?).lines();
//!         let items = lines.enumerate().map(move |(index, line)| {
//!             let source_ref = input.source_ref().with_row(index as u64 + 1);
//!             Ok(firm_line(source_ref, &line?))
//!         });
//!         Ok(Box::new(IterStream::new(items)))
//!     }
//! }
//!
//! /// Turns one line into a record, or into a row error that names the field, not the value.
//! fn firm_line(source_ref: SourceRef, line: &str) -> Item {
//!     let fields: Vec<&str> = line.split('|').map(str::trim).collect();
//!     let [key, name, district, ntn] = fields[..] else {
//!         let message = "A line must have four fields separated by |.";
//!         return RowError::error(source_ref, codes::INVALID_VALUE, message).into();
//!     };
//!     if name.is_empty() {
//!         return RowError::missing_required(source_ref, "name").into();
//!     }
//!     let mut firm = Organisation::new(key, OrganisationKind::Firm, name);
//!     firm.district = Some(district.to_owned()).filter(|d| !d.is_empty());
//!     if !ntn.is_empty() {
//!         // As written: the hub checks the NTN and reports a malformed one.
//!         firm.identifiers.push(IdentifierValue::new(schemes::NTN, ntn));
//!     }
//!     Item::record(source_ref, firm)
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::env::temp_dir().join(format!("hub-sdk-doc-{}.firms", std::process::id()));
//! std::fs::write(
//!     &path,
//!     "F-001|Sialkot Surgical Works|Sialkot|1234567-8\n\
//!      F-002|Lahore Auto Parts||\n\
//!      F-003||Lahore|\n",
//! )?;
//!
//! let mut importer = FirmListImporter;
//! let head = std::fs::read(&path)?;
//! assert_eq!(importer.sniff(&head, "firms.firms"), Confidence::new(80));
//!
//! let mut stream = importer.open(Input::with_file_name(&path, "firms.firms"), &Value::Null)?;
//! let mut lines = Vec::new();
//! while let Some(batch) = stream.next_batch(2)? {
//!     for item in &batch {
//!         lines.push(to_ndjson_line(item)?);
//!     }
//! }
//! drop(stream);
//! std::fs::remove_file(&path)?;
//!
//! assert_eq!(lines.len(), 3);
//! assert!(lines[0].starts_with(
//!     r#"{"kind":"record","source_ref":{"file":"firms.firms","sheet":null,"row":1,"column":null},"record":{"type":"organisation","source_key":"F-001","kind":"firm","name":"Sialkot Surgical Works","#
//! ));
//! assert!(lines[1].contains(r#""source_key":"F-002""#));
//! assert_eq!(
//!     lines[2],
//!     r#"{"kind":"row_error","source_ref":{"file":"firms.firms","sheet":null,"row":3,"column":null},"field":"name","code":"missing_required","message":"The field name is required but the row leaves it empty.","severity":"error"}"#
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # The rules
//!
//! - **Records, not SQL.** An importer reads its input and emits records. It never writes
//!   to the database or any other store, and it has no way to: the hub decides what a
//!   record becomes (a new row, an update, a link to an existing firm) and records the
//!   provenance. A plugin gets no shortcut past the hub's validation.
//! - **Raw values; the hub validates.** Identifiers, codes, periods, cluster slugs and
//!   place names are passed as the source wrote them, and the hub applies one set of rules
//!   to every source. The importer converts only what depends on its source's format:
//!   numbers, booleans, dates (see [`Date`]) and closed vocabularies. The
//!   [`records`](crate::records#how-to-fill-a-record) module says how to fill a record.
//! - **Personal values never in messages or logs.** Person names, CNICs, phone numbers and
//!   e-mail addresses go in their typed fields ([`Personal`], [`IdentifierValue`]) and
//!   nowhere else: not in a [`RowError`] message, an [`ImportError`], an [`Item::Log`], the
//!   plugin's own logging, or a record's `attributes`. Messages name the field and the row
//!   ("The field cnic must be …"), never the value. CNICs in particular are hashed by the
//!   hub; the plugin must not log them.
//! - **Stream.** [`RecordStream::next_batch`] hands over a batch at a time so that a file
//!   of millions of rows passes through a small, constant amount of memory. Read the input
//!   incrementally; never read a whole large CSV into memory.
//! - **Row errors, not failed files.** A bad row becomes a [`RowError`] and the stream goes
//!   on; an [`ImportError`] is for the file as a whole (it cannot be read, it is the wrong
//!   kind of file).
//! - **Stable keys.** Records carry a `source_key` that is the same every time the same
//!   source is imported, so a re-import updates what it wrote before instead of duplicating
//!   it.
//!
//! # The wire form
//!
//! Dynamic plugins cannot hand Rust values to the hub (Rust has no stable ABI), so each
//! batch crosses as NDJSON: one [`Item`] per line, tagged by `kind` (`record`, `row_error`,
//! `log`), records tagged by `type` ([`RecordKind::as_str`]). [`to_ndjson_line`] and
//! [`from_ndjson_line`] define it for both sides. Readers refuse unknown kinds, types and
//! fields, so nothing a plugin says is dropped silently; a manifest, by contrast, tolerates
//! unknown fields so the hub can always read the [`SDK_VERSION`] it was built with and
//! refuse a plugin it does not understand with a clear message.
//!
//! # Plugins
//!
//! A plugin is a `cdylib` crate depending on this one: it implements [`Importer`] and
//! exports it with one line, [`export_importer!`], which generates the C ABI table of the
//! [`abi`] module and catches every panic at the boundary. Nothing unsafe is written by the
//! plugin author. `plugins/README.md` in the hub's repository is the author's guide.

pub mod abi;
pub mod importer;
pub mod item;
pub mod keys;
pub mod manifest;
pub mod ndjson;
pub mod records;
pub mod source_ref;
pub mod values;

/// The JSON library of the contract, re-exported so that importers use the same version
/// for options ([`serde_json::Value`]) and attributes ([`serde_json::Map`]).
pub use serde_json;

pub use importer::{
    Confidence, ImportError, Importer, Input, IterStream, RecordStream, RowItems, read_all,
};
pub use item::{Item, LogLevel, RowError, Severity, SourcedRecord, codes};
pub use manifest::{ImporterManifest, InputKinds, SDK_VERSION};
pub use ndjson::{NdjsonError, from_ndjson_line, scrub_values, to_ndjson_batch, to_ndjson_line};
pub use records::{
    AdminArea, AdminAreaName, AdminLevel, Affiliation, AffiliationRole, AllotmentStatus, Cluster,
    ClusterMembership, Course, FirmObservation, Flow, IndicatorScope, IndicatorValue,
    IndustrialEstate, Loan, Modality, Network, NetworkKind, NetworkMember, NetworkRole,
    Organisation, OrganisationKind, OrganisationStatus, Participation, Person, PlotAllotment,
    Programme, Record, RecordKind, RecordType, Sex, TradeArea, TradeFlow, TrainingEvent, ValueType,
};
pub use source_ref::SourceRef;
pub use values::{Date, DateError, IdentifierValue, Personal, schemes};

#[cfg(test)]
mod tests;

/// The author guide (`plugins/README.md`): its Rust snippets are compiled and run as tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod guide {}
