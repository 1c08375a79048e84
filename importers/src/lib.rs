//! Built-in importers of the Cluster Data Hub.
//!
//! Each importer implements the SDK's [`Importer`] trait, the same contract dynamic plugins
//! implement, and produces records only: it never touches the database. The hub drives
//! them all the same way: [`builtin`] lists them, [`Importer::sniff`] picks one for a file,
//! [`Importer::open`] streams its items.
//!
//! - [`psic_registry`]: the Punjab Small Industries Corporation's exports of registered
//!   units, estate plot allotments and loans;
//! - [`trade::comtrade`]: UN Comtrade legacy bulk CSV and API v1 (JSON and CSV);
//! - [`trade::sdmx`]: SDMX-CSV and SDMX-JSON trade messages, WITS trade stats among them;
//! - [`trade::pbs`]: the Pakistan Bureau of Statistics' commodity-group tables;
//! - [`programme`]: programme definitions in TOML (programmes, clusters, agencies);
//! - [`spreadsheet`]: CSV, TSV, XLSX, XLS and ODS files: firm lists and surveys,
//!   attendance sheets, training events, results frameworks, SME networks
//!   ([`spreadsheet::SpreadsheetImporter`], with mapping files and
//!   [`spreadsheet::suggest_mapping`]).

use hub_plugin_sdk::Importer;

pub mod limits;
pub mod programme;
#[cfg(any(test, feature = "proptest-support"))]
pub mod proptest_support;
pub mod psic_registry;
pub mod spreadsheet;
pub mod trade;

/// The built-in importers, one of each, specialised ones first (on equal confidence the
/// first wins).
#[must_use]
pub fn builtin() -> Vec<Box<dyn Importer>> {
    let mut importers: Vec<Box<dyn Importer>> = Vec::new();
    importers.extend(psic_registry::importers());
    importers.extend(trade::comtrade::importers());
    importers.extend(trade::sdmx::importers());
    importers.extend(trade::pbs::importers());
    importers.extend(programme::importers());
    importers.push(Box::new(spreadsheet::SpreadsheetImporter::new()));
    importers
}

#[cfg(test)]
mod proptests;
