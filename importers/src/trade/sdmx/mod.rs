//! SDMX trade statistics: SDMX-CSV ([`csv_message`], importer `sdmx-csv`) and SDMX-JSON
//! ([`json_message`], importer `sdmx-json`), versions 1.0 and 2.x, WITS responses among
//! them.
//!
//! SDMX is a container, not a trade format: a message holds observations keyed by the
//! dimensions its structure defines, and exchange rates, national accounts and trade flows
//! all travel the same way. Both importers read a message structurally (every form, every
//! label mode) and then decide, from its dimensions, whether it holds trade flows. A message
//! that does not, such as the ECB exchange-rate examples in `importers/samples/`, is refused
//! as a whole with an import error naming what is missing:
//!
//! ```text
//! this SDMX message is not trade statistics: no dimension for the reporter (expected one
//! of REPORTER, REF_AREA); no dimension for the partner (expected one of PARTNER,
//! COUNTERPART_AREA); … Its dimensions are FREQ, CURRENCY, CURRENCY_DENOM, EXR_TYPE, …
//! ```
//!
//! # From dimensions to trade flows
//!
//! Each component (dimension, measure, attribute) takes a **role** by its id, unless the
//! option `dimensions` gives it another:
//!
//! | role | ids by default (first found wins) | becomes |
//! |---|---|---|
//! | `reporter` | `REPORTER`, `REF_AREA` | [`TradeFlow::reporter`], as an ISO3 code |
//! | `partner` | `PARTNER`, `COUNTERPART_AREA` | [`TradeFlow::partner`], ISO3 (`WLD` is the world) |
//! | `flow` | `FLOW`, `TRADE_FLOW`, `INDICATOR` | [`TradeFlow::flow`], through the codes below |
//! | `product` | `PRODUCT`, `PRODUCTCODE`, `COMMODITY`, `CMD` | [`TradeFlow::commodity_code`] |
//! | `classification` | `CLASSIFICATION`, `PRODUCT_CLASSIFICATION` | [`TradeFlow::classification`] |
//! | `period` | `TIME_PERIOD` | [`TradeFlow::period`], canonical (`2017`, `2017-Q1`, `2017-03`) |
//! | `value` | `OBS_VALUE` | [`TradeFlow::value`] |
//! | `unit_multiplier` | `UNIT_MULT` | [`TradeFlow::unit_multiplier`] |
//! | `currency` | `CURRENCY`, `UNIT_MEASURE` | [`TradeFlow::currency`] |
//! | `status` | `OBS_STATUS` | [`TradeFlow::flags`] (`E` also sets `is_value_estimated`) |
//! | `ignore` | `FREQ` | nothing (the period says it) |
//! | `breakdown` | every other dimension | [`TradeFlow::breakdown`], by dimension id; `_T` and `_Z` (total, not applicable) are left out |
//!
//! Other attributes and measures are not read. A message needs a reporter, a partner, a
//! flow and a product (a dimension, or a constant from the options), a `TIME_PERIOD` and
//! an `OBS_VALUE`; it is "not trade statistics" otherwise.
//!
//! **Flow codes** (case ignored): `M`, `1`, `IMP`, `IMPORT(S)`, WITS's `MPRT-TRD-VL` and the
//! IMF's `TMG_CIF_USD`/`TMG_FOB_USD` are imports; `X`, `2`, `EXP`, `EXPORT(S)`,
//! `XPRT-TRD-VL`, `TXG_FOB_USD` exports; `RX`, `3`, `RE_EXPORT` re-exports; `RM`, `4`,
//! `RE_IMPORT` re-imports. **Any other code is skipped with one log line per code**: WITS's
//! trade-statistics dataflow mixes trade values with shares (`XPRT-PRTNR-SHR`), counts of
//! products and partners, growth rates and indices, which are no trade flow and would be
//! wrong as one. The option `flows` maps further codes (or skips known ones).
//!
//! # Decisions
//!
//! - **WITS.** A message is taken for WITS's when its header, dataflow or structure name
//!   says `WITS`, or its dimensions are WITS's (`REPORTER`, `PARTNER`, `PRODUCTCODE`,
//!   `INDICATOR`). Then values are in **thousands of US dollars** (`unit_multiplier` 3,
//!   currency `USD`) unless `UNIT_MULT` or a currency component says otherwise, and product
//!   codes go under the classification [`WITS_PRODUCT_GROUPS`] (`WITS-PRODUCT-GROUPS`,
//!   created by the hub on first use). That holds for WITS's HS codes too (`610910`): WITS
//!   keeps product groups and HS codes in one code list without naming the HS revision,
//!   and guessing one would put codes under the wrong revision. The option
//!   `hs_classification` (e.g. `"H0"`) names the revision of the all-digit codes when the
//!   user knows it; the groups stay under `WITS-PRODUCT-GROUPS`.
//! - **Totals.** Product `_T` and `TOTAL` (and in WITS messages `999999`, `Total`, `all`)
//!   become `TOTAL`, the hub's code for all products.
//! - **Classification** of other messages: the `classification` component, else the
//!   constant, else the dataflow without its version (`ESTAT:DS-045409`): the codes of a
//!   dataflow's product code list, stored as such rather than guessed to be HS.
//! - **Areas** are passed as ISO3 codes ([`TradeArea::Iso3`]); the hub resolves them and
//!   `WLD`. Two-letter codes (Eurostat, the IMF) are reported by the hub as unknown areas.
//! - **Values.** An empty, `NaN` or `null` `OBS_VALUE` skips the observation (SDMX's way of
//!   saying "no value"); any other non-number is a row error `invalid_number` in the
//!   `OBS_VALUE` column. Observations whose unit is a quantity (`KG`, `TNE`, `PCE`, `PCT`…)
//!   are skipped with a log line.
//! - **Periods.** `2017`, `2017-A1`, `2017-Q1`, `2017-03`, `2017-M03` are accepted; days,
//!   weeks, semesters and time ranges are row errors (`invalid_period`): the hub has no
//!   such periods. December of a year whose next year ends in 12 (`2011-12`) is written
//!   `2011-M12`, since the hub reads `2011-12` as ambiguous with the fiscal year 2011-12.
//! - **Source.** Neither importer names a default source: an SDMX file may come from any
//!   publisher. Name it, e.g. `hub import trade.json --source wits`, else the hub uses
//!   `file-<name>`.
//!
//! # Options
//!
//! For messages the defaults miss. With `hub import --mapping FILE.toml` (or as JSON
//! through the API); every key is optional:
//!
//! ```toml
//! importer = "sdmx-json"          # read by the hub
//! source = "imf-dots"             # read by the hub
//! hs_classification = "H0"        # the HS revision of all-digit product codes
//! [dimensions]                    # component id -> role (see the table above)
//! REF_AREA = "reporter"
//! COUNTERPART_AREA = "partner"
//! INDICATOR = "flow"
//! SECTOR = "breakdown"
//! UNIT = "ignore"
//! [flows]                         # flow or indicator code -> import | export | re_export | re_import | skip
//! "TXG_FOB_USD" = "export"
//! "MPRT-TRD-VL" = "import"
//! [constants]                     # what no component gives, the same for every observation
//! product = "TOTAL"
//! classification = "DOTS"
//! currency = "USD"
//! unit_multiplier = 6             # also: reporter, partner, flow
//! ```
//!
//! Unknown keys, roles and directions are import errors that list the valid ones.

pub mod csv_message;
pub mod json_message;
pub mod layout;

use hub_plugin_sdk::Importer;
use hub_plugin_sdk::serde_json::{Value, json};

pub use csv_message::SdmxCsvImporter;
pub use json_message::SdmxJsonImporter;
pub use layout::{WITS_PRODUCT_GROUPS, normalise_period};

#[cfg(doc)]
use hub_plugin_sdk::{TradeArea, TradeFlow};

/// The importers of this module: `sdmx-csv` and `sdmx-json`.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(SdmxCsvImporter), Box::new(SdmxJsonImporter)]
}

/// The JSON Schema of the options both importers take.
fn options_schema() -> Value {
    let roles = [
        "reporter",
        "partner",
        "flow",
        "product",
        "classification",
        "period",
        "value",
        "unit_multiplier",
        "currency",
        "status",
        "breakdown",
        "ignore",
    ];
    json!({
        "type": "object",
        "properties": {
            "source": {"type": "string"},
            "importer": {"type": "string"},
            "hs_classification": {"type": "string"},
            "dimensions": {
                "type": "object",
                "additionalProperties": {"enum": roles}
            },
            "flows": {
                "type": "object",
                "additionalProperties": {"enum": ["import", "export", "re_export", "re_import", "skip"]}
            },
            "constants": {
                "type": "object",
                "properties": {
                    "reporter": {"type": "string"},
                    "partner": {"type": "string"},
                    "flow": {"enum": ["import", "export", "re_export", "re_import"]},
                    "product": {"type": "string"},
                    "classification": {"type": "string"},
                    "currency": {"type": "string"},
                    "unit_multiplier": {"type": "integer"}
                },
                "additionalProperties": false
            }
        },
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests;
