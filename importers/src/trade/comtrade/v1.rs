//! The **UN Comtrade API v1** (importer `un-comtrade-v1`): the answers of the Comtrade
//! data API (`comtradeapi.un.org/data/v1/get/…`), as JSON or as CSV with the same fields.
//!
//! JSON, streamed one element of `data` at a time however long the array is:
//!
//! ```json
//! {"elapsedTime": "0.42 secs", "count": 2, "data": [
//!   {"typeCode": "C", "freqCode": "A", "refYear": 2019, "refMonth": 52, "period": "2019",
//!    "reporterCode": 586, "flowCode": "X", "partnerCode": 842, "partner2Code": 0,
//!    "classificationCode": "H5", "cmdCode": "9018", "customsCode": "C00", "mosCode": "0",
//!    "motCode": 0, "qtyUnitCode": -1, "qtyUnitAbbr": "N/A", "qty": null,
//!    "isQtyEstimated": false, "netWgt": null, "isNetWgtEstimated": false,
//!    "cifvalue": null, "fobvalue": 359812345, "primaryValue": 359812345,
//!    "legacyEstimationFlag": 0, "isReported": true, "isAggregate": false},
//!   {"typeCode": "C", "freqCode": "M", "refYear": 2019, "refMonth": 3, "period": "201903",
//!    "reporterCode": 586, "flowCode": "M", "partnerCode": 156, "…": "…"}
//! ], "error": ""}
//! ```
//!
//! CSV, streamed row by row (the demo's `comtrade_pak_exports_2017_2024.csv` is one):
//!
//! ```text
//! typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,classificationCode,classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,legacyEstimationFlag,isReported,isAggregate
//! C,A,20170101,2017,52,2017,586,PAK,Pakistan,X,Export,0,W00,World,0,W00,World,H5,HS,True,61,Apparel and clothing accessories; knitted or crocheted,2,0,C00,TOTAL CPC,0,0,TOTAL MOT,-1,N/A,,False,-1,N/A,,False,,False,,False,,2375231160,2375231160,0,True,True
//! ```
//!
//! Field names are matched ignoring case (the API writes `cifvalue`, its documentation
//! `cifValue`); values may be null or empty. Each element or row gives one
//! [`TradeFlow`]:
//!
//! | field | record |
//! |---|---|
//! | `reporterCode`, `partnerCode` | `reporter`, `partner`: [`TradeArea::ComtradeCode`] as written |
//! | `flowCode` | `flow`: `M` import, `X` export, `RM` re-import, `RX` re-export |
//! | `classificationCode`, `cmdCode` | `classification`, `commodity_code` as written |
//! | `period`, else `refYear` and `refMonth` | `period`: `2019`, or `2019-03` for `201903`; `refMonth` 52 is the year |
//! | `primaryValue` | `value`, currency `USD` |
//! | `qty`, `qtyUnitAbbr` | `quantity`, `quantity_unit` (none for `qtyUnitCode` -1, N/A) |
//! | `netWgt` | `net_weight_kg` |
//! | `isQtyEstimated`, `isNetWgtEstimated` | the estimation booleans (`True`/`False`, `1`/`0`, JSON booleans) |
//! | `legacyEstimationFlag` | `flags` as `legacyEstimationFlag=<flag>`, left out when 0 |
//! | `partner2Code`, `customsCode`, `motCode`, `mosCode` | `breakdown`, only when not a total (`0`/`W00`, `C00`, `0`, `0`) |
//!
//! # Decisions
//!
//! - **Processing flows** (`MIP`, `XIP`, `MOP`, `XOP`) and the national flows `DX`
//!   (domestic exports) and `FM` (foreign imports) are parts of or views on the four flows
//!   the hub keeps; storing them as imports or exports would count goods twice. Their rows
//!   are skipped with an `unsupported_flow` **warning** (the import goes on). Any other
//!   flow code is an `unknown_code` error.
//! - **Services** (`typeCode` `S`) are kept: they come under their own classification
//!   (`EB02`, `EB10`, …), which the hub creates on first use, so they never mix with the HS
//!   codes of goods; their mode of supply (`mosCode`) is a breakdown when not a total.
//! - **JSON errors.** A non-empty `error` is an [`ImportError`] carrying the API's message,
//!   wherever it stands in the object; so is a JSON text that ends early (a truncated
//!   download) or is malformed, with its line and column. Elements read before are
//!   delivered first, but the hub applies nothing from a failed file.
//! - **Not the format.** A CSV header or the first `data` element without the key fields
//!   (`reporterCode`, `partnerCode`, `flowCode`, `classificationCode`, `cmdCode`,
//!   `primaryValue`, and `period` or `refYear`) is an [`ImportError`] naming what is missing.
//!
//! [`TradeFlow`]: hub_plugin_sdk::TradeFlow
//! [`TradeArea::ComtradeCode`]: hub_plugin_sdk::TradeArea::ComtradeCode

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Confidence, Flow, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, RecordKind,
    RecordStream, RowError, SourceRef, TradeArea, TradeFlow, codes,
};

use super::fields::{
    Cell, CsvFlows, Layout, RowReader, check_options, head_text, header_key, month_period,
    not_the_format, open_csv, period_code, sniff_header,
};
use super::{SOURCE, json, legacy, legacy_flag};

/// The importer's id.
pub const V1_ID: &str = "un-comtrade-v1";

/// The format's name in messages.
pub(crate) const FORMAT: &str = "UN Comtrade API v1";

// The fields read, by index into `FIELDS`.
pub(crate) const FREQ: usize = 0;
pub(crate) const REF_YEAR: usize = 1;
pub(crate) const REF_MONTH: usize = 2;
pub(crate) const PERIOD: usize = 3;
pub(crate) const REPORTER: usize = 4;
pub(crate) const FLOW: usize = 5;
pub(crate) const PARTNER: usize = 6;
pub(crate) const PARTNER2: usize = 7;
pub(crate) const CLASSIFICATION: usize = 8;
pub(crate) const CMD: usize = 9;
pub(crate) const CUSTOMS: usize = 10;
pub(crate) const MOS: usize = 11;
pub(crate) const MOT: usize = 12;
pub(crate) const QTY_UNIT_CODE: usize = 13;
pub(crate) const QTY_UNIT: usize = 14;
pub(crate) const QTY: usize = 15;
pub(crate) const QTY_ESTIMATED: usize = 16;
pub(crate) const NET_WEIGHT: usize = 17;
pub(crate) const NET_WEIGHT_ESTIMATED: usize = 18;
pub(crate) const VALUE: usize = 19;
pub(crate) const LEGACY_FLAG: usize = 20;

/// The fields read, as the API names them.
pub(crate) const FIELDS: [&str; 21] = [
    "freqCode",
    "refYear",
    "refMonth",
    "period",
    "reporterCode",
    "flowCode",
    "partnerCode",
    "partner2Code",
    "classificationCode",
    "cmdCode",
    "customsCode",
    "mosCode",
    "motCode",
    "qtyUnitCode",
    "qtyUnitAbbr",
    "qty",
    "isQtyEstimated",
    "netWgt",
    "isNetWgtEstimated",
    "primaryValue",
    "legacyEstimationFlag",
];

/// The fields a file must have, besides a period (`period` or `refYear`).
pub(crate) const REQUIRED: [usize; 6] = [REPORTER, PARTNER, FLOW, CLASSIFICATION, CMD, VALUE];

/// The header columns that identify the CSV form when sniffing.
const SIGNATURE: [&str; 5] = [
    "refyear",
    "reportercode",
    "flowcode",
    "cmdcode",
    "primaryvalue",
];

/// Record field of each column, for `Item::Columns`.
const COLUMNS: [(usize, &str); 13] = [
    (REPORTER, "reporter"),
    (PARTNER, "partner"),
    (FLOW, "flow"),
    (CLASSIFICATION, "classification"),
    (CMD, "commodity_code"),
    (PERIOD, "period"),
    (VALUE, "value"),
    (QTY, "quantity"),
    (QTY_UNIT, "quantity_unit"),
    (NET_WEIGHT, "net_weight_kg"),
    (QTY_ESTIMATED, "is_quantity_estimated"),
    (NET_WEIGHT_ESTIMATED, "is_net_weight_estimated"),
    (LEGACY_FLAG, "flags"),
];

/// The flows the hub does not keep, skipped with a warning.
const SKIPPED_FLOWS: [(&str, &str); 6] = [
    ("MIP", "imports for inward processing"),
    ("XIP", "exports after inward processing"),
    ("MOP", "imports after outward processing"),
    ("XOP", "exports for outward processing"),
    ("DX", "domestic exports"),
    ("FM", "foreign imports"),
];

/// Reads UN Comtrade API v1 answers, JSON or CSV; see the [module documentation](self).
#[derive(Debug, Clone, Copy, Default)]
pub struct V1Importer;

impl Importer for V1Importer {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            V1_ID,
            "UN Comtrade API v1 (JSON or CSV)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(["json", "csv"])
        .with_mime_types(["application/json", "text/csv"])
        .with_emits([RecordKind::TradeFlow])
        .with_default_source(SOURCE)
    }

    /// 90 for a JSON object with `data` and `elapsedTime` or `count`; 95 for a CSV header
    /// with `refYear`, `reporterCode`, `flowCode`, `cmdCode` and `primaryValue`; else 0.
    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        if starts_like_json(head) {
            let text = head_text(head).to_ascii_lowercase();
            let api = text.contains("\"data\"")
                && (text.contains("\"elapsedtime\"") || text.contains("\"count\""));
            return if api {
                Confidence::new(90)
            } else {
                Confidence::NONE
            };
        }
        sniff_header(head, &SIGNATURE)
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        check_options(options, V1_ID)?;
        let mut head = Vec::with_capacity(512);
        File::open(&input.path)?.take(512).read_to_end(&mut head)?;
        if starts_like_json(&head) {
            return Ok(Box::new(json::JsonFlows::open(&input)?));
        }
        open_csv_form(&input)
    }
}

/// Whether the header names (as [`header_key`]s) are the API v1 CSV header's.
#[must_use]
pub(crate) fn is_v1_header(keys: &[String]) -> bool {
    SIGNATURE.iter().all(|s| keys.iter().any(|k| k == s))
}

/// Whether the text starts with `{` (after a byte-order mark and blanks).
fn starts_like_json(head: &[u8]) -> bool {
    head_text(head)
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .starts_with('{')
}

/// The names of the required fields a file lacks, given which fields it has.
pub(crate) fn missing_fields(has: impl Fn(usize) -> bool) -> Vec<&'static str> {
    let mut missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|i| !has(**i))
        .map(|i| FIELDS[*i])
        .collect();
    if !has(PERIOD) && !has(REF_YEAR) {
        missing.push("period (or refYear)");
    }
    missing
}

fn open_csv_form(input: &Input) -> Result<Box<dyn RecordStream + 'static>, ImportError> {
    let required: Vec<&str> = REQUIRED.iter().map(|i| FIELDS[*i]).collect();
    let rows = open_csv(&input.path, &input.file_name, FORMAT, &required)?;
    let layout = Layout::find(rows.header(), &FIELDS);
    let missing = missing_fields(|i| layout.has(i));
    if !missing.is_empty() {
        let mut error = not_the_format(FORMAT, &missing, "column");
        let keys: Vec<String> = rows
            .header()
            .columns
            .iter()
            .map(|c| header_key(&c.original))
            .collect();
        if legacy::is_legacy_header(&keys) {
            error.message.push_str(
                " (it is a UN Comtrade legacy bulk CSV file: import it with \
                 --importer un-comtrade-legacy)",
            );
        }
        error.source_ref = Some(SourceRef::row(&input.file_name, rows.header().row));
        return Err(error);
    }
    let mut columns = layout.clone();
    if !layout.has(PERIOD) {
        columns.index[PERIOD] = layout.index[REF_YEAR];
        columns.written[PERIOD].clone_from(&layout.written[REF_YEAR]);
    }
    let first = vec![
        Item::log(
            LogLevel::Info,
            format!("{FORMAT} CSV, {} columns", rows.header().columns.len()),
        ),
        columns.columns_item(&COLUMNS),
    ];
    Ok(Box::new(CsvFlows::new(rows, layout, convert, first)))
}

/// One element or row (its fields in [`FIELDS`] order) as a flow, a skipped row's
/// warning, or its row errors.
pub(crate) fn convert(cells: &[Cell<'_>], at: SourceRef, out: &mut Vec<Item>) {
    let mut row = RowReader::new(at);
    let flow = match row.required(cells[FLOW], "flow") {
        Some(code) => match flow_of(&code) {
            FlowCode::Kept(flow) => Some(flow),
            FlowCode::Skipped(what) => {
                let at = row.cell_ref(cells[FLOW].column);
                out.push(
                    RowError::warning(
                        at,
                        "unsupported_flow",
                        format!(
                            "The flow {} ({what}) is not one of the flows the hub keeps \
                             (import, export, re-import, re-export); the row is skipped.",
                            code.to_ascii_uppercase()
                        ),
                    )
                    .with_field("flow")
                    .into(),
                );
                return;
            }
            FlowCode::Unknown => {
                let at = row.cell_ref(cells[FLOW].column);
                row.errors.push(
                    RowError::error(
                        at,
                        codes::UNKNOWN_CODE,
                        format!(
                            "The flow code {code} is not M, X, RM or RX (nor a processing \
                             flow)."
                        ),
                    )
                    .with_field("flow"),
                );
                None
            }
        },
        None => None,
    };
    let reporter = row.required(cells[REPORTER], "reporter");
    let partner = row.required(cells[PARTNER], "partner");
    let classification = row.required(cells[CLASSIFICATION], "classification");
    let commodity = row.required(cells[CMD], "commodity_code");
    let period = period(&mut row, cells);
    let value = row.number(cells[VALUE], "value");
    let quantity = row.number(cells[QTY], "quantity");
    let net_weight = row.number(cells[NET_WEIGHT], "net_weight_kg");
    let quantity_estimated = row.boolean(cells[QTY_ESTIMATED], "is_quantity_estimated");
    let net_weight_estimated = row.boolean(cells[NET_WEIGHT_ESTIMATED], "is_net_weight_estimated");
    let no_unit = RowReader::text(cells[QTY_UNIT_CODE]).as_deref() == Some("-1");
    let quantity_unit =
        RowReader::text(cells[QTY_UNIT]).filter(|u| !no_unit && !u.eq_ignore_ascii_case("N/A"));
    let mut breakdown = BTreeMap::new();
    RowReader::breakdown(
        &mut breakdown,
        "partner2Code",
        cells[PARTNER2],
        &["0", "W00"],
    );
    RowReader::breakdown(&mut breakdown, "customsCode", cells[CUSTOMS], &["C00"]);
    RowReader::breakdown(&mut breakdown, "motCode", cells[MOT], &["0"]);
    RowReader::breakdown(&mut breakdown, "mosCode", cells[MOS], &["0"]);

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
            f.is_quantity_estimated = quantity_estimated;
            f.is_net_weight_estimated = net_weight_estimated;
            f.flags = legacy_flag(RowReader::text(cells[LEGACY_FLAG]));
            Some(f)
        }
        _ => None,
    };
    row.finish(flow, out);
}

/// The period: `period` (`2019`, `201903`), else `refYear` with `refMonth` (52 or empty:
/// the year) or `freqCode` A.
fn period(row: &mut RowReader, cells: &[Cell<'_>]) -> Option<String> {
    if let Some(code) = RowReader::text(cells[PERIOD]) {
        return Some(period_code(&code));
    }
    let Some(year) = RowReader::text(cells[REF_YEAR]) else {
        let at = row.cell_ref(cells[PERIOD].column);
        row.errors.push(RowError::missing_required(at, "period"));
        return None;
    };
    let annual = RowReader::text(cells[FREQ]).is_some_and(|f| f.eq_ignore_ascii_case("A"));
    match RowReader::text(cells[REF_MONTH]).as_deref() {
        None | Some("52") => Some(year),
        Some(_) if annual => Some(year),
        Some(month) => match (year.parse::<i32>(), month.parse::<u32>()) {
            (Ok(y), Ok(m)) if (1..=12).contains(&m) => Some(month_period(y, m)),
            _ => {
                let at = row.cell_ref(cells[REF_MONTH].column);
                row.errors.push(
                    RowError::error(
                        at,
                        "invalid_period",
                        "refYear and refMonth do not give a year (refMonth 52) or a month \
                         (1 to 12).",
                    )
                    .with_field("period"),
                );
                None
            }
        },
    }
}

/// What a `flowCode` is to the hub.
#[derive(Debug, PartialEq)]
enum FlowCode {
    Kept(Flow),
    Skipped(&'static str),
    Unknown,
}

fn flow_of(code: &str) -> FlowCode {
    let code = code.trim().to_ascii_uppercase();
    match code.as_str() {
        "M" => FlowCode::Kept(Flow::Import),
        "X" => FlowCode::Kept(Flow::Export),
        "RM" => FlowCode::Kept(Flow::ReImport),
        "RX" => FlowCode::Kept(Flow::ReExport),
        _ => SKIPPED_FLOWS
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(FlowCode::Unknown, |(_, what)| FlowCode::Skipped(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_codes() {
        assert_eq!(flow_of("X"), FlowCode::Kept(Flow::Export));
        assert_eq!(flow_of("m"), FlowCode::Kept(Flow::Import));
        assert_eq!(flow_of("RM"), FlowCode::Kept(Flow::ReImport));
        assert_eq!(flow_of("rx"), FlowCode::Kept(Flow::ReExport));
        assert!(matches!(flow_of("MIP"), FlowCode::Skipped(_)));
        assert!(matches!(flow_of("xop"), FlowCode::Skipped(_)));
        assert_eq!(flow_of("2"), FlowCode::Unknown);
    }

    #[test]
    fn sniffing_tells_json_from_csv() {
        let importer = V1Importer;
        let json = br#"{"elapsedTime":"0.1 secs","count":1,"data":[{"typeCode":"C"}]}"#;
        assert_eq!(importer.sniff(json, "a.json"), Confidence::new(90));
        assert_eq!(
            importer.sniff(b"\xEF\xBB\xBF {\n \"count\": 0, \"data\": []", "a.json"),
            Confidence::new(90)
        );
        assert_eq!(
            importer.sniff(br#"{"data": []}"#, "a.json"),
            Confidence::NONE
        );
        assert_eq!(
            importer.sniff(br#"{"statusCode": 401, "message": "x"}"#, "a.json"),
            Confidence::NONE
        );
        assert_eq!(importer.sniff(b"", "a.csv"), Confidence::NONE);
        assert_eq!(
            importer.sniff(&[0xFF, 0x00, 0x13], "a.csv"),
            Confidence::NONE
        );
    }
}
