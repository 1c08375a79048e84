//! The **UN Comtrade legacy bulk CSV** (importer `un-comtrade-legacy`): the files of the
//! old Comtrade API and bulk downloads, one flow per line under a header of 22 columns,
//! or 35 in the variant with second partner, customs procedure, mode of transport,
//! alternative quantity, gross weight, CIF and FOB values.
//!
//! ```text
//! Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,Netweight (kg),Trade Value (US$),Flag
//! H5,2019,2019,2019,4,0,2,Export,586,Pakistan,PAK,842,USA,USA,9018,Medical instruments,1,No Quantity,,,359812345,0
//! H5,2019,201903,March 2019,6,1,1,Import,586,Pakistan,PAK,156,China,CHN,901890,Other instruments,8,Weight in kilograms,1200,1200,45000,6
//! ```
//!
//! The 35-column header reads `…,Partner ISO,2nd Partner Code,2nd Partner,2nd Partner
//! ISO,Customs Proc. Code,Customs,Mode of Transport Code,Mode of Transport,Commodity
//! Code,Commodity,Qty Unit Code,Qty Unit,Qty,Alt Qty Unit Code,Alt Qty Unit,Alt
//! Qty,Netweight (kg),Gross weight (kg),Trade Value (US$),CIF Trade Value (US$),FOB Trade
//! Value (US$),Flag`.
//!
//! Each line gives one [`TradeFlow`]:
//!
//! | column | field |
//! |---|---|
//! | `Reporter Code`, `Partner Code` | `reporter`, `partner`: [`TradeArea::ComtradeCode`] as written |
//! | `Trade Flow Code` | `flow`: 1 import, 2 export, 3 re-export, 4 re-import; other codes are `unknown_code` row errors |
//! | `Classification` | `classification` as written (`H0`…`H6`, `S1`…`S4`, `BEC`): the hub resolves it |
//! | `Commodity Code` | `commodity_code` as written (`TOTAL`, `61`, `9018`, …) |
//! | `Period`, else `Year` | `period`: `2019` for a year, `201903` becomes `2019-03` |
//! | `Trade Value (US$)` | `value`, currency `USD` |
//! | `Qty`, `Qty Unit` | `quantity`, `quantity_unit` (none for unit code 1, "No Quantity") |
//! | `Netweight (kg)` | `net_weight_kg` |
//! | `Flag` | `flags` as `legacyEstimationFlag=<flag>` (left out when 0), and the estimation booleans: bit 2 quantity, bit 4 net weight |
//! | `2nd Partner Code`, `Customs Proc. Code`, `Mode of Transport Code` | `breakdown` entries `partner2Code`, `customsCode`, `motCode`, only when not a total (empty, `0`, `C00`) |
//!
//! Headers are matched ignoring case, spacing and punctuation (`Trade Value (US$)` and
//! `TradeValueUS` are one column).
//!
//! [`TradeFlow`]: hub_plugin_sdk::TradeFlow
//! [`TradeArea::ComtradeCode`]: hub_plugin_sdk::TradeArea::ComtradeCode

use std::collections::BTreeMap;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Confidence, Flow, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, RecordKind,
    RecordStream, RowError, SourceRef, TradeArea, TradeFlow, codes,
};

use super::fields::{
    Cell, CsvFlows, Layout, RowReader, check_options, header_key, not_the_format, open_csv,
    period_code, sniff_header,
};
use super::{SOURCE, legacy_flag, v1};

/// The importer's id.
pub const LEGACY_ID: &str = "un-comtrade-legacy";

/// The format's name in messages.
const FORMAT: &str = "UN Comtrade legacy bulk CSV";

// The fields read, by index into `FIELDS`.
const CLASSIFICATION: usize = 0;
const YEAR: usize = 1;
const PERIOD: usize = 2;
const FLOW: usize = 3;
const REPORTER: usize = 4;
const PARTNER: usize = 5;
const COMMODITY: usize = 6;
const QTY_UNIT_CODE: usize = 7;
const QTY_UNIT: usize = 8;
const QTY: usize = 9;
const NET_WEIGHT: usize = 10;
const VALUE: usize = 11;
const FLAG: usize = 12;
const PARTNER2: usize = 13;
const CUSTOMS: usize = 14;
const MOT: usize = 15;

/// The columns read, as the format's header writes them.
const FIELDS: [&str; 16] = [
    "Classification",
    "Year",
    "Period",
    "Trade Flow Code",
    "Reporter Code",
    "Partner Code",
    "Commodity Code",
    "Qty Unit Code",
    "Qty Unit",
    "Qty",
    "Netweight (kg)",
    "Trade Value (US$)",
    "Flag",
    "2nd Partner Code",
    "Customs Proc. Code",
    "Mode of Transport Code",
];

/// The columns a file must have (a period from `Period` or `Year`).
const REQUIRED: [usize; 6] = [CLASSIFICATION, FLOW, REPORTER, PARTNER, COMMODITY, VALUE];

/// The columns that identify the format when sniffing: the base header's key columns.
const SIGNATURE: [&str; 8] = [
    "classification",
    "year",
    "period",
    "tradeflowcode",
    "reportercode",
    "partnercode",
    "commoditycode",
    "tradevalueus",
];

/// Record field of each column, for `Item::Columns`.
const COLUMNS: [(usize, &str); 11] = [
    (REPORTER, "reporter"),
    (PARTNER, "partner"),
    (FLOW, "flow"),
    (CLASSIFICATION, "classification"),
    (COMMODITY, "commodity_code"),
    (PERIOD, "period"),
    (VALUE, "value"),
    (QTY, "quantity"),
    (QTY_UNIT, "quantity_unit"),
    (NET_WEIGHT, "net_weight_kg"),
    (FLAG, "flags"),
];

/// Reads UN Comtrade legacy bulk CSV files; see the [module documentation](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct LegacyImporter;

impl Importer for LegacyImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(LEGACY_ID, FORMAT, env!("CARGO_PKG_VERSION"))
            .with_extensions(["csv"])
            .with_mime_types(["text/csv"])
            .with_emits([RecordKind::TradeFlow])
            .with_default_source(SOURCE)
    }

    /// 95 for a header with the legacy columns (22 or 35), else 0.
    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        sniff_header(head, &SIGNATURE)
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        check_options(options, LEGACY_ID)?;
        let required: Vec<&str> = REQUIRED.iter().map(|i| FIELDS[*i]).collect();
        let rows = open_csv(&input.path, &input.file_name, FORMAT, &required)?;
        let layout = Layout::find(rows.header(), &FIELDS);
        let mut missing: Vec<&str> = Vec::new();
        if !layout.has(PERIOD) && !layout.has(YEAR) {
            missing.push(FIELDS[PERIOD]);
        }
        missing.extend(
            REQUIRED
                .iter()
                .filter(|i| !layout.has(**i))
                .map(|i| FIELDS[*i]),
        );
        if !missing.is_empty() {
            let mut error = not_the_format(FORMAT, &missing, "column");
            let keys: Vec<String> = rows
                .header()
                .columns
                .iter()
                .map(|c| header_key(&c.original))
                .collect();
            if v1::is_v1_header(&keys) {
                error.message.push_str(
                    " (it is a UN Comtrade API v1 file: import it with --importer un-comtrade-v1)",
                );
            }
            error.source_ref = Some(SourceRef::row(&input.file_name, rows.header().row));
            return Err(error);
        }
        let variant = if layout.has(PARTNER2) || layout.has(CUSTOMS) || layout.has(MOT) {
            "with partner 2, customs and transport columns"
        } else {
            "22 columns"
        };
        let mut columns = layout.clone();
        if !layout.has(PERIOD) {
            columns.index[PERIOD] = layout.index[YEAR];
            columns.written[PERIOD].clone_from(&layout.written[YEAR]);
        }
        let first = vec![
            Item::log(LogLevel::Info, format!("{FORMAT} ({variant})")),
            columns.columns_item(&COLUMNS),
        ];
        Ok(Box::new(CsvFlows::new(rows, layout, convert, first)))
    }
}

/// Whether the header names (as [`header_key`]s) are the legacy header's.
#[must_use]
pub(crate) fn is_legacy_header(keys: &[String]) -> bool {
    SIGNATURE.iter().all(|s| keys.iter().any(|k| k == s))
}

/// One line as a flow, or its row errors.
fn convert(cells: &[Cell<'_>], at: SourceRef, out: &mut Vec<Item>) {
    let mut row = RowReader::new(at);
    let reporter = row.required(cells[REPORTER], "reporter");
    let partner = row.required(cells[PARTNER], "partner");
    let classification = row.required(cells[CLASSIFICATION], "classification");
    let commodity = row.required(cells[COMMODITY], "commodity_code");
    let period = match RowReader::text(cells[PERIOD]).or_else(|| RowReader::text(cells[YEAR])) {
        Some(code) => Some(period_code(&code)),
        None => {
            let at = row.cell_ref(cells[PERIOD].column);
            row.errors.push(RowError::missing_required(at, "period"));
            None
        }
    };
    let flow = match row.required(cells[FLOW], "flow") {
        Some(code) => match flow(&code) {
            Some(flow) => Some(flow),
            None => {
                let at = row.cell_ref(cells[FLOW].column);
                row.errors.push(
                    RowError::error(
                        at,
                        codes::UNKNOWN_CODE,
                        format!(
                            "The trade flow code {code} is not 1 (import), 2 (export), \
                             3 (re-export) or 4 (re-import)."
                        ),
                    )
                    .with_field("flow"),
                );
                None
            }
        },
        None => None,
    };
    let value = row.number(cells[VALUE], "value");
    let quantity = row.number(cells[QTY], "quantity");
    let net_weight = row.number(cells[NET_WEIGHT], "net_weight_kg");
    let no_quantity = RowReader::text(cells[QTY_UNIT_CODE]).as_deref() == Some("1");
    let quantity_unit = RowReader::text(cells[QTY_UNIT])
        .filter(|u| !no_quantity && !u.eq_ignore_ascii_case("No Quantity"));
    let flag = RowReader::text(cells[FLAG]);
    let bits = flag.as_deref().and_then(|f| f.parse::<u32>().ok());
    let mut breakdown = BTreeMap::new();
    RowReader::breakdown(&mut breakdown, "partner2Code", cells[PARTNER2], &["0"]);
    RowReader::breakdown(&mut breakdown, "customsCode", cells[CUSTOMS], &["C00"]);
    RowReader::breakdown(&mut breakdown, "motCode", cells[MOT], &["0"]);

    let flow = match (reporter, partner, flow, classification, commodity, period) {
        (Some(reporter), Some(partner), Some(flow), Some(class), Some(code), Some(period)) => {
            let mut f = TradeFlow::new(
                TradeArea::ComtradeCode(reporter),
                TradeArea::ComtradeCode(partner),
                flow,
                class,
                code,
                period,
            );
            f.breakdown = breakdown;
            f.value = value;
            f.currency = Some("USD".to_owned());
            f.quantity = quantity;
            f.quantity_unit = quantity_unit;
            f.net_weight_kg = net_weight;
            f.is_quantity_estimated = bits.is_some_and(|b| b & 2 != 0);
            f.is_net_weight_estimated = bits.is_some_and(|b| b & 4 != 0);
            f.flags = legacy_flag(flag);
            Some(f)
        }
        _ => None,
    };
    row.finish(flow, out);
}

/// The legacy trade flow codes.
fn flow(code: &str) -> Option<Flow> {
    match code.trim() {
        "1" => Some(Flow::Import),
        "2" => Some(Flow::Export),
        "3" => Some(Flow::ReExport),
        "4" => Some(Flow::ReImport),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_flow_codes() {
        assert_eq!(flow("1"), Some(Flow::Import));
        assert_eq!(flow(" 2 "), Some(Flow::Export));
        assert_eq!(flow("3"), Some(Flow::ReExport));
        assert_eq!(flow("4"), Some(Flow::ReImport));
        assert_eq!(flow("5"), None);
        assert_eq!(flow("X"), None);
    }

    #[test]
    fn the_signature_is_the_base_header() {
        let keys: Vec<String> = FIELDS.iter().map(|f| header_key(f)).collect();
        assert!(is_legacy_header(&keys));
        assert!(!is_legacy_header(&keys[1..]));
    }
}
