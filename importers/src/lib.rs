//! Built-in importers of the Cluster Data Hub.
//!
//! Each importer implements the SDK's [`Importer`] trait, the same contract dynamic plugins
//! implement, and produces records only: it never touches the database. The hub drives
//! them all the same way: [`builtin`] lists them, [`Importer::sniff`] picks one for a file,
//! [`Importer::open`] streams its items.
//!
//! - [`spreadsheet`]: CSV, TSV, XLSX, XLS and ODS files: firm lists and surveys,
//!   attendance sheets, training events, results frameworks, SME networks
//!   ([`spreadsheet::SpreadsheetImporter`], with mapping files and
//!   [`spreadsheet::suggest_mapping`]).

use hub_plugin_sdk::Importer;

pub mod spreadsheet;

/// The built-in importers, one of each. The registry and trade-statistics importers are
/// added here as they are written.
#[must_use]
pub fn builtin() -> Vec<Box<dyn Importer>> {
    vec![Box::new(spreadsheet::SpreadsheetImporter::new())]
}
