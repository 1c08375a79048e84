//! UN Comtrade trade statistics (source `un-comtrade`): two importers emitting
//! [`TradeFlow`] records.
//!
//! - [`legacy`]: `un-comtrade-legacy`, the **legacy bulk CSV** of 22 columns (or 35 with
//!   second partner, customs and transport), as the old API and bulk downloads wrote it.
//! - [`v1`]: `un-comtrade-v1`, the **API v1** answers, JSON `{elapsedTime, count, data:
//!   [...], error}` or CSV with the same fields (the demo's Comtrade file is one).
//!
//! Both stream: a CSV file is read row by row through the spreadsheet reading layer
//! (encoding and delimiter detected), a JSON file one element of `data` at a time; memory
//! does not grow with the file.
//!
//! # What the importers leave to the hub
//!
//! Values are passed as the source writes them where the hub knows the rules, so every
//! source is checked the same way:
//!
//! - **Areas** are [`TradeArea::ComtradeCode`]s as written. Comtrade area codes are not
//!   M49 (the USA is 842) and are effective-dated; the hub maps them through its Comtrade
//!   area list: an unknown reporter is a row error, an unlisted partner (areas n.e.s.,
//!   free zones, bunkers) becomes an area of its own with a warning.
//! - **Classifications** are passed as written (`H0`…`H6`, `S1`…`S4`, `BEC`, services'
//!   `EB02`…): the hub checks HS codes against their revision and stores other codes under
//!   their own classification.
//! - **Periods**: `2019` for a year, `2019-03` for a month (Comtrade's `201903`), written
//!   `2011-M12` for the twelve months that `YYYY-MM` would leave ambiguous with a fiscal
//!   year (`2011-12`).
//!
//! The importers convert what depends on the format: numbers (a text where a number
//! belongs is an `invalid_number` row error naming the column), booleans, flow codes
//! (closed vocabularies), and which further dimensions are totals.
//!
//! # Decisions
//!
//! - **No source keys.** A trade flow is identified by its dimensions (source, reporter,
//!   partner, flow, classification, code, period, breakdown), so a re-import of an
//!   overlapping extract updates the flows it shares instead of duplicating them.
//! - **One source, both formats.** Both importers default to the source `un-comtrade` and
//!   describe a flow the same way (the breakdown keys are the API's names `partner2Code`,
//!   `customsCode`, `motCode`, `mosCode`; the legacy `Flag` and the API's
//!   `legacyEstimationFlag` both become `flags` `legacyEstimationFlag=<n>`), so the same
//!   flow from a legacy file and an API file is one flow.
//! - **Breakdowns only when not totals**, so a plain total (World as second partner,
//!   customs `C00`, transport `0`) has an empty breakdown and is the same flow whichever
//!   layout it came in.
//! - **USD.** Comtrade's values are US dollars: `currency` is `USD` and the multiplier 0.
//! - Flows the hub does not keep (processing flows) and services: see [`v1`].
//!
//! [`TradeFlow`]: hub_plugin_sdk::TradeFlow
//! [`TradeArea::ComtradeCode`]: hub_plugin_sdk::TradeArea::ComtradeCode

mod fields;
mod json;
pub mod legacy;
pub mod v1;

#[cfg(test)]
mod tests;

use hub_plugin_sdk::Importer;

pub use legacy::{LEGACY_ID, LegacyImporter};
pub use v1::{V1_ID, V1Importer};

/// The source UN Comtrade's flows belong to unless the user names another.
pub const SOURCE: &str = "un-comtrade";

/// The importers of this module: the legacy bulk CSV and the API v1.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(LegacyImporter), Box::new(V1Importer)]
}

/// The legacy estimation flag as `flags`: `legacyEstimationFlag=<n>`, nothing for 0.
fn legacy_flag(flag: Option<String>) -> Option<String> {
    flag.filter(|f| f != "0")
        .map(|f| format!("legacyEstimationFlag={f}"))
}
