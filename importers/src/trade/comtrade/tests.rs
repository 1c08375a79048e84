//! The Comtrade importers on small files written here, the demo file, and broken files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hub_plugin_sdk::read_all;
use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    Confidence, Flow, ImportError, Importer, Input, Item, Record, RowError, Severity, TradeArea,
    TradeFlow, codes,
};

use super::{LEGACY_ID, LegacyImporter, SOURCE, V1_ID, V1Importer, importers};
use crate::spreadsheet::SpreadsheetImporter;

const LEGACY_HEADER: &str = "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,\
Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,\
Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,Netweight (kg),Trade Value (US$),Flag";

const LEGACY35_HEADER: &str = "Classification,Year,Period,Period Desc.,Aggregate Level,\
Is Leaf Code,Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,\
Partner ISO,2nd Partner Code,2nd Partner,2nd Partner ISO,Customs Proc. Code,Customs,\
Mode of Transport Code,Mode of Transport,Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,\
Alt Qty Unit Code,Alt Qty Unit,Alt Qty,Netweight (kg),Gross weight (kg),Trade Value (US$),\
CIF Trade Value (US$),FOB Trade Value (US$),Flag";

const V1_HEADER: &str = "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,\
reporterISO,reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,\
partner2ISO,partner2Desc,classificationCode,classificationSearchCode,isOriginalClassification,\
cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,\
qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,\
isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,\
legacyEstimationFlag,isReported,isAggregate";

fn demo_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hub/demo/comtrade_pak_exports_2017_2024.csv")
}

fn write(dir: &tempfile::TempDir, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Every item of the file, read in small batches (so that batches end mid-file).
fn read(importer: &mut dyn Importer, path: &Path) -> Result<Vec<Item>, ImportError> {
    read_all(importer, Input::new(path), &Value::Null, 7)
}

fn legacy(path: &Path) -> Result<Vec<Item>, ImportError> {
    read(&mut LegacyImporter, path)
}

fn v1(path: &Path) -> Result<Vec<Item>, ImportError> {
    read(&mut V1Importer, path)
}

fn flows(items: &[Item]) -> Vec<&TradeFlow> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Record(r) => match &r.record {
                Record::TradeFlow(flow) => Some(flow),
                other => panic!("not a trade flow: {other:?}"),
            },
            _ => None,
        })
        .collect()
}

fn row_errors(items: &[Item]) -> Vec<&RowError> {
    items.iter().filter_map(Item::as_row_error).collect()
}

fn rows_of_records(items: &[Item]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Record(r) => r.source_ref.row,
            _ => None,
        })
        .collect()
}

fn columns(items: &[Item]) -> &BTreeMap<String, String> {
    items
        .iter()
        .find_map(|item| match item {
            Item::Columns {
                sheet: None,
                columns,
            } => Some(columns),
            _ => None,
        })
        .expect("a columns declaration")
}

fn area(code: &str) -> TradeArea {
    TradeArea::ComtradeCode(code.to_owned())
}

fn flow(
    reporter: &str,
    partner: &str,
    direction: Flow,
    class: &str,
    code: &str,
    period: &str,
    value: f64,
) -> TradeFlow {
    let mut f = TradeFlow::new(
        area(reporter),
        area(partner),
        direction,
        class,
        code,
        period,
    );
    f.value = Some(value);
    f.currency = Some("USD".to_owned());
    f
}

// ---- Manifests and sniffing -------------------------------------------------------------

#[test]
fn two_importers_of_the_un_comtrade_source() {
    let manifests: Vec<_> = importers().iter().map(|i| i.manifest()).collect();
    let ids: Vec<&str> = manifests.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, [LEGACY_ID, V1_ID]);
    assert_eq!(ids, ["un-comtrade-legacy", "un-comtrade-v1"]);
    for m in &manifests {
        assert_eq!(m.default_source.as_deref(), Some(SOURCE));
        assert_eq!(m.default_source.as_deref(), Some("un-comtrade"));
        assert_eq!(m.emits, [hub_plugin_sdk::RecordKind::TradeFlow]);
    }
}

#[test]
fn sniffing_recognises_each_layout_and_beats_the_spreadsheet_importer() {
    let json_head =
        r#"{"elapsedTime":"0.29 secs","count":1,"data":[{"typeCode":"C","freqCode":"A"}]}"#;
    let demo = std::fs::read(demo_file()).unwrap();
    let legacy = format!("{LEGACY_HEADER}\n");
    let legacy35 = format!("{LEGACY35_HEADER}\n");
    let lower = LEGACY_HEADER.to_lowercase();
    let semicolons = format!("\u{feff}{}\n", V1_HEADER.replace(',', ";").to_uppercase());
    let cases: [(&str, &[u8], u8, u8); 9] = [
        ("legacy.csv", legacy.as_bytes(), 95, 0),
        ("legacy35.csv", legacy35.as_bytes(), 95, 0),
        ("legacy-lower.csv", lower.as_bytes(), 95, 0),
        ("v1.csv", &demo[..8192], 0, 95),
        ("v1-semicolons.csv", semicolons.as_bytes(), 0, 95),
        ("v1.json", json_head.as_bytes(), 0, 90),
        (
            "firms.csv",
            b"Survey ID,Name of Unit,District\nDS-1,Abid,Sialkot\n",
            0,
            0,
        ),
        ("other.json", br#"{"data": [1, 2]}"#, 0, 0),
        ("random.bin", &[0x00, 0xFF, 0x10, 0x80, 0x7F, 0x00], 0, 0),
    ];
    let spreadsheet = SpreadsheetImporter::new();
    for (name, head, legacy_score, v1_score) in cases {
        assert_eq!(
            LegacyImporter.sniff(head, name),
            Confidence::new(legacy_score),
            "legacy on {name}"
        );
        assert_eq!(
            V1Importer.sniff(head, name),
            Confidence::new(v1_score),
            "v1 on {name}"
        );
        let ours = legacy_score.max(v1_score);
        if ours > 0 {
            assert!(
                spreadsheet.sniff(head, name).percent() < ours,
                "the spreadsheet importer must not win {name}"
            );
        }
    }
}

// ---- Legacy bulk CSV --------------------------------------------------------------------

#[test]
fn legacy_22_columns_give_flows_with_periods_flows_units_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "comtrade legacy.csv",
        format!(
            "{LEGACY_HEADER}\n\
             H5,2019,2019,2019,4,0,2,Export,586,Pakistan,PAK,842,USA,USA,9018,\"Instruments, medical\",1,No Quantity,,,359812345,0\n\
             H5,2019,201903,March 2019,6,1,1,Import,586,Pakistan,PAK,156,China,CHN,901890,Other,8,Weight in kilograms,1200,1150.5,45000,6\n\
             S3,2018,2018,2018,1,0,3,Re-Export,586,Pakistan,PAK,0,World,WLD,8,Misc,1,No Quantity,,,12.5,0\n\
             BEC,2018,201112,December 2011,1,0,4,Re-Import,586,Pakistan,PAK,899,Areas nes,,8,Misc,5,Number of items,40,,1E3,2\n"
        ),
    );
    let items = legacy(&path).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let got = flows(&items);
    assert_eq!(got.len(), 4);

    let export = flow(
        "586",
        "842",
        Flow::Export,
        "H5",
        "9018",
        "2019",
        359_812_345.0,
    );
    assert_eq!(got[0], &export, "annual, no quantity");

    let mut import = flow(
        "586",
        "156",
        Flow::Import,
        "H5",
        "901890",
        "2019-03",
        45_000.0,
    );
    import.quantity = Some(1200.0);
    import.quantity_unit = Some("Weight in kilograms".to_owned());
    import.net_weight_kg = Some(1150.5);
    import.is_quantity_estimated = true;
    import.is_net_weight_estimated = true;
    import.flags = Some("legacyEstimationFlag=6".to_owned());
    assert_eq!(got[1], &import, "monthly, with quantity and flag 6");

    assert_eq!(got[2].flow, Flow::ReExport);
    assert_eq!(got[2].classification, "S3", "SITC passed as written");
    assert_eq!(got[2].commodity_code, "8");
    assert_eq!(got[2].partner, area("0"));
    assert_eq!(got[3].flow, Flow::ReImport);
    assert_eq!(got[3].classification, "BEC");
    assert_eq!(got[3].period, "2011-M12", "not the ambiguous 2011-12");
    assert_eq!(got[3].partner, area("899"), "unlisted partners as written");
    assert_eq!(got[3].value, Some(1000.0));
    assert_eq!(got[3].net_weight_kg, None, "empty weight cells are None");
    assert!(got[3].is_quantity_estimated && !got[3].is_net_weight_estimated);
    assert!(
        got.iter()
            .all(|f| f.breakdown.is_empty() && f.unit_multiplier == 0)
    );
    assert_eq!(rows_of_records(&items), [2, 3, 4, 5]);

    let declared = columns(&items);
    assert_eq!(declared["trade_flow.reporter"], "Reporter Code");
    assert_eq!(declared["trade_flow.partner"], "Partner Code");
    assert_eq!(declared["trade_flow.commodity_code"], "Commodity Code");
    assert_eq!(declared["trade_flow.period"], "Period");
    assert_eq!(declared["trade_flow.value"], "Trade Value (US$)");
    assert_eq!(declared["trade_flow.net_weight_kg"], "Netweight (kg)");
}

#[test]
fn legacy_35_columns_break_down_only_what_is_not_a_total() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "legacy35.csv",
        format!(
            "{LEGACY35_HEADER}\n\
             H4,2016,2016,2016,2,0,1,Import,36,Australia,AUS,0,World,WLD,,,,,,,,01,Live animals,1,No Quantity,,,,,,,91128858,,,0\n\
             H4,2016,2016,2016,2,0,1,Import,36,Australia,AUS,0,World,WLD,0,World,WLD,C00,All,0,All,01,Live animals,1,No Quantity,,,,,,,91128858,,,0\n\
             H4,2016,2016,2016,2,0,2,Export,36,Australia,AUS,842,USA,USA,156,China,CHN,C01,Inward,1,Sea,01,Live animals,5,Number of items,12,,,,7,8,5000,5100,4900,0\n"
        ),
    );
    let items = legacy(&path).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let got = flows(&items);
    assert_eq!(got.len(), 3);
    assert!(got[0].breakdown.is_empty(), "empty cells are totals");
    assert!(got[1].breakdown.is_empty(), "0, C00 and 0 are totals");
    assert_eq!(got[0], got[1], "a total is the same flow in either form");
    assert_eq!(
        got[2].breakdown,
        BTreeMap::from([
            ("customsCode".to_owned(), "C01".to_owned()),
            ("motCode".to_owned(), "1".to_owned()),
            ("partner2Code".to_owned(), "156".to_owned()),
        ])
    );
    assert_eq!(
        got[2].value,
        Some(5000.0),
        "the trade value, not CIF or FOB"
    );
    assert_eq!(got[2].net_weight_kg, Some(7.0));
    assert_eq!(got[2].quantity, Some(12.0));
}

#[test]
fn legacy_bad_cells_are_row_errors_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "bad.csv",
        format!(
            "{LEGACY_HEADER}\n\
             H5,2019,2019,2019,4,0,2,Export,586,Pakistan,PAK,842,USA,USA,9018,x,1,,,,lots,0\n\
             H5,2019,2019,2019,4,0,7,Other,586,Pakistan,PAK,842,USA,USA,9018,x,1,,,,1,0\n\
             H5,2019,2019,2019,4,0,2,Export,,Pakistan,PAK,842,USA,USA,9018,x,1,,,,1,0\n\
             H5,2019,2019,2019,4,0,2,Export,586,Pakistan,PAK,842,USA,USA,9018,x,1,,,,2,0\n"
        ),
    );
    let items = legacy(&path).unwrap();
    let errors = row_errors(&items);
    let summary: Vec<(String, &str, Option<&str>)> = errors
        .iter()
        .map(|e| {
            (
                e.source_ref.to_string(),
                e.code.as_str(),
                e.field.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "bad.csv!R2!C:Trade Value (US$)".to_owned(),
                codes::INVALID_NUMBER,
                Some("value")
            ),
            (
                "bad.csv!R3!C:Trade Flow Code".to_owned(),
                codes::UNKNOWN_CODE,
                Some("flow")
            ),
            (
                "bad.csv!R4!C:Reporter Code".to_owned(),
                codes::MISSING_REQUIRED,
                Some("reporter")
            ),
        ]
    );
    assert!(errors.iter().all(|e| e.severity == Severity::Error));
    assert!(!errors[0].message.contains("lots"), "no values in messages");
    assert_eq!(
        rows_of_records(&items),
        [5],
        "rows with errors give no flow"
    );
}

// ---- API v1 CSV -------------------------------------------------------------------------

#[test]
fn the_demo_file_reads_4280_flows_without_row_errors() {
    let items = v1(&demo_file()).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let got = flows(&items);
    assert_eq!(got.len(), 4280);
    assert!(
        got.iter()
            .all(|f| f.reporter == area("586") && f.flow == Flow::Export)
    );
    assert!(
        got.iter()
            .all(|f| f.breakdown.is_empty() && f.flags.is_none())
    );
    assert!(got.iter().all(|f| f.currency.as_deref() == Some("USD")));
    let first = got[0];
    assert_eq!(
        (
            first.partner.clone(),
            first.classification.as_str(),
            first.commodity_code.as_str(),
            first.period.as_str(),
            first.value
        ),
        (area("0"), "H5", "TOTAL", "2017", Some(21_882_667_720.0))
    );
    let years: std::collections::BTreeSet<&str> = got.iter().map(|f| f.period.as_str()).collect();
    assert_eq!(
        years.into_iter().collect::<Vec<_>>(),
        [
            "2017", "2018", "2019", "2020", "2021", "2022", "2023", "2024"
        ]
    );
    let declared = columns(&items);
    assert_eq!(declared["trade_flow.reporter"], "reporterCode");
    assert_eq!(declared["trade_flow.partner"], "partnerCode");
    assert_eq!(declared["trade_flow.commodity_code"], "cmdCode");
    assert_eq!(declared["trade_flow.period"], "period");
    assert_eq!(declared["trade_flow.value"], "primaryValue");
}

/// A v1 CSV row from its values, in [`V1_HEADER`] order for the columns that matter.
#[allow(clippy::too_many_arguments)]
fn v1_row(
    type_code: &str,
    period: &str,
    reporter: &str,
    flow: &str,
    partner: &str,
    partner2: &str,
    class: &str,
    cmd: &str,
    customs: &str,
    mos: &str,
    mot: &str,
    qty_unit: (&str, &str),
    qty: &str,
    qty_estimated: &str,
    net_weight: &str,
    net_weight_estimated: &str,
    value: &str,
    legacy_flag: &str,
) -> String {
    let year = &period[..4];
    let month = if period.len() == 6 {
        &period[4..]
    } else {
        "52"
    };
    let freq = if period.len() == 6 { "M" } else { "A" };
    format!(
        "{type_code},{freq},{year}0101,{year},{month},{period},{reporter},PAK,Pakistan,{flow},desc,\
         {partner},ISO,desc,{partner2},ISO,desc,{class},HS,True,{cmd},desc,2,0,{customs},desc,{mos},\
         {mot},desc,{},{},{qty},{qty_estimated},-1,N/A,,False,{net_weight},{net_weight_estimated},,\
         False,,{value},{value},{legacy_flag},True,False\n",
        qty_unit.0, qty_unit.1
    )
}

#[test]
fn v1_csv_rows_become_flows_with_breakdowns_units_and_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{V1_HEADER}\n");
    let none = ("-1", "N/A");
    text.push_str(&v1_row(
        "C",
        "2019",
        "586",
        "X",
        "842",
        "0",
        "H5",
        "9018",
        "C00",
        "0",
        "0",
        none,
        "",
        "False",
        "",
        "False",
        "359812345",
        "0",
    ));
    text.push_str(&v1_row(
        "C",
        "201903",
        "586",
        "M",
        "156",
        "W00",
        "H5",
        "901890",
        "C00",
        "0",
        "0",
        ("8", "kg"),
        "1200",
        "1",
        "1150.5",
        "true",
        "45000",
        "4",
    ));
    text.push_str(&v1_row(
        "C", "2019", "586", "RX", "842", "156", "H5", "61", "C01", "0", "1", none, "", "0", "",
        "FALSE", "10", "0",
    ));
    text.push_str(&v1_row(
        "C", "2019", "586", "MIP", "842", "0", "H5", "61", "C00", "0", "0", none, "", "False", "",
        "False", "10", "0",
    ));
    text.push_str(&v1_row(
        "S", "2019", "586", "X", "0", "0", "EB02", "SI", "C00", "3", "0", none, "", "False", "",
        "False", "77", "0",
    ));
    text.push_str(&v1_row(
        "C", "2019", "586", "RM", "899", "0", "H5", "61", "C00", "0", "0", none, "", "False", "",
        "False", "5", "0",
    ));
    let path = write(&dir, "v1.csv", &text);
    let items = v1(&path).unwrap();

    let errors = row_errors(&items);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].severity,
        Severity::Warning,
        "processing flows are skipped"
    );
    assert_eq!(errors[0].code, "unsupported_flow");
    assert_eq!(errors[0].source_ref.to_string(), "v1.csv!R5!C:flowCode");

    let got = flows(&items);
    assert_eq!(got.len(), 5);
    assert_eq!(rows_of_records(&items), [2, 3, 4, 6, 7]);
    assert_eq!(
        got[0],
        &flow(
            "586",
            "842",
            Flow::Export,
            "H5",
            "9018",
            "2019",
            359_812_345.0
        ),
        "an annual total: no unit for qtyUnitCode -1, no breakdown, no flags"
    );
    let mut monthly = flow(
        "586",
        "156",
        Flow::Import,
        "H5",
        "901890",
        "2019-03",
        45_000.0,
    );
    monthly.quantity = Some(1200.0);
    monthly.quantity_unit = Some("kg".to_owned());
    monthly.net_weight_kg = Some(1150.5);
    monthly.is_quantity_estimated = true;
    monthly.is_net_weight_estimated = true;
    monthly.flags = Some("legacyEstimationFlag=4".to_owned());
    assert_eq!(got[1], &monthly, "W00 as second partner is a total");
    assert_eq!(got[2].flow, Flow::ReExport);
    assert_eq!(
        got[2].breakdown,
        BTreeMap::from([
            ("customsCode".to_owned(), "C01".to_owned()),
            ("motCode".to_owned(), "1".to_owned()),
            ("partner2Code".to_owned(), "156".to_owned()),
        ])
    );
    assert_eq!(
        (
            got[3].classification.as_str(),
            got[3].commodity_code.as_str()
        ),
        ("EB02", "SI"),
        "services under their own classification"
    );
    assert_eq!(
        got[3].breakdown,
        BTreeMap::from([("mosCode".to_owned(), "3".to_owned())])
    );
    assert_eq!(got[4].flow, Flow::ReImport);
    assert_eq!(got[4].partner, area("899"));
}

#[test]
fn v1_csv_names_match_ignoring_case_and_periods_come_from_ref_year_and_month() {
    let dir = tempfile::tempdir().unwrap();
    // Semicolons, a byte-order mark, other capitals, no `period` column.
    let path = write(
        &dir,
        "extract.csv",
        "\u{feff}FreqCode;RefYear;RefMonth;ReporterCode;FlowCode;PartnerCode;ClassificationCode;\
         CmdCode;QtyUnitCode;QtyUnitAbbr;Qty;IsQtyEstimated;NetWgt;cifValue;PRIMARYVALUE\n\
         M;2020;7;586;X;842;H5;6110;5;u;12;1;3.5;;1.5e3\n\
         A;2020;52;586;X;842;H5;6110;-1;N/A;;0;;;99\n\
         M;2011;12;586;X;842;H5;6110;-1;N/A;;0;;;99\n",
    );
    let items = v1(&path).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let got = flows(&items);
    let periods: Vec<&str> = got.iter().map(|f| f.period.as_str()).collect();
    assert_eq!(periods, ["2020-07", "2020", "2011-M12"]);
    assert_eq!(got[0].value, Some(1500.0));
    assert_eq!(got[0].quantity_unit.as_deref(), Some("u"));
    assert!(got[0].is_quantity_estimated);
    let declared = columns(&items);
    assert_eq!(declared["trade_flow.value"], "PRIMARYVALUE");
    assert_eq!(declared["trade_flow.period"], "RefYear");
}

#[test]
fn v1_bad_values_are_row_errors_and_unknown_reporters_pass_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = format!("{V1_HEADER}\n");
    let none = ("-1", "N/A");
    text.push_str(&v1_row(
        "C", "2019", "586", "X", "842", "0", "H5", "61", "C00", "0", "0", none, "a dozen", "False",
        "", "False", "1.2.5", "0",
    ));
    text.push_str(&v1_row(
        "C", "2019", "586", "Q", "842", "0", "H5", "61", "C00", "0", "0", none, "", "maybe", "",
        "False", "1", "0",
    ));
    text.push_str(&v1_row(
        "C", "2019", "999", "X", "842", "0", "H5", "61", "C00", "0", "0", none, "", "False", "",
        "False", "1", "0",
    ));
    text.push_str(&v1_row(
        "C", "2019", "PAKISTAN", "X", "842", "0", "H5", "61", "C00", "0", "0", none, "", "False",
        "", "False", "1", "0",
    ));
    let path = write(&dir, "bad.csv", &text);
    let items = v1(&path).unwrap();
    let summary: Vec<(String, &str, Option<&str>)> = row_errors(&items)
        .iter()
        .map(|e| {
            (
                e.source_ref.to_string(),
                e.code.as_str(),
                e.field.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "bad.csv!R2!C:primaryValue".to_owned(),
                codes::INVALID_NUMBER,
                Some("value")
            ),
            (
                "bad.csv!R2!C:qty".to_owned(),
                codes::INVALID_NUMBER,
                Some("quantity")
            ),
            (
                "bad.csv!R3!C:flowCode".to_owned(),
                codes::UNKNOWN_CODE,
                Some("flow")
            ),
            (
                "bad.csv!R3!C:isQtyEstimated".to_owned(),
                codes::INVALID_VALUE,
                Some("is_quantity_estimated")
            ),
        ]
    );
    // The hub knows the Comtrade areas: the importer passes the codes on as written.
    let got = flows(&items);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].reporter, area("999"));
    assert_eq!(got[1].reporter, area("PAKISTAN"));
}

// ---- API v1 JSON ------------------------------------------------------------------------

fn record(overrides: &Value) -> Value {
    let mut base: Value = hub_plugin_sdk::serde_json::from_str(
        r#"{
        "typeCode": "C", "freqCode": "A", "refPeriodId": 20190101, "refYear": 2019,
        "refMonth": 52, "period": "2019", "reporterCode": 586, "reporterISO": "PAK",
        "reporterDesc": "Pakistan", "flowCode": "X", "flowDesc": "Export", "partnerCode": 842,
        "partnerISO": "USA", "partnerDesc": "USA", "partner2Code": 0, "partner2ISO": "W00",
        "partner2Desc": "World", "classificationCode": "H5", "classificationSearchCode": "HS",
        "isOriginalClassification": true, "cmdCode": "9018", "cmdDesc": "Instruments",
        "aggrLevel": 4, "isLeaf": false, "customsCode": "C00", "customsDesc": "TOTAL CPC",
        "mosCode": "0", "motCode": 0, "motDesc": "TOTAL MOT", "qtyUnitCode": -1,
        "qtyUnitAbbr": "N/A", "qty": null, "isQtyEstimated": false, "altQtyUnitCode": -1,
        "altQtyUnitAbbr": "N/A", "altQty": null, "isAltQtyEstimated": false, "netWgt": null,
        "isNetWgtEstimated": false, "grossWgt": null, "isGrossWgtEstimated": false,
        "cifvalue": null, "fobvalue": 359812345.0, "primaryValue": 359812345.0,
        "legacyEstimationFlag": 0, "isReported": true, "isAggregate": false
    }"#,
    )
    .unwrap();
    for (k, v) in overrides.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

fn answer(records: &[Value], error: &str) -> String {
    json!({"elapsedTime": "0.42 secs", "count": records.len(), "data": records, "error": error})
        .to_string()
}

#[test]
fn v1_json_elements_become_flows() {
    let dir = tempfile::tempdir().unwrap();
    let mut monthly = record(&json!({
        "freqCode": "M", "refMonth": 3, "period": "201903", "flowCode": "M", "partnerCode": 156,
        "cmdCode": "901890", "qtyUnitCode": 8, "qtyUnitAbbr": "kg", "qty": 1200,
        "isQtyEstimated": true, "netWgt": 1150.5, "isNetWgtEstimated": "True",
        "primaryValue": 45000, "legacyEstimationFlag": 6, "motCode": 1
    }));
    // Keys in other capitals, as published field lists write them.
    let map = monthly.as_object_mut().unwrap();
    let value = map.remove("primaryValue").unwrap();
    map.insert("PrimaryValue".into(), value);
    let cmd = map.remove("cmdCode").unwrap();
    map.insert("CMDCODE".into(), cmd);
    map.insert("cifValue".into(), Value::Null);
    let nulls = record(&json!({"primaryValue": null, "fobvalue": null, "partnerCode": 899}));
    let text = answer(&[record(&json!({})), monthly, nulls], "");
    let path = write(&dir, "answer.json", format!("\u{feff}{text}"));

    assert_eq!(
        V1Importer.sniff(text.as_bytes(), "answer.json"),
        Confidence::new(90)
    );
    let items = v1(&path).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let got = flows(&items);
    assert_eq!(got.len(), 3);
    assert_eq!(
        rows_of_records(&items),
        [1, 2, 3],
        "elements counted from 1"
    );
    assert_eq!(
        got[0],
        &flow(
            "586",
            "842",
            Flow::Export,
            "H5",
            "9018",
            "2019",
            359_812_345.0
        )
    );
    let mut expected = flow(
        "586",
        "156",
        Flow::Import,
        "H5",
        "901890",
        "2019-03",
        45_000.0,
    );
    expected.quantity = Some(1200.0);
    expected.quantity_unit = Some("kg".to_owned());
    expected.net_weight_kg = Some(1150.5);
    expected.is_quantity_estimated = true;
    expected.is_net_weight_estimated = true;
    expected.flags = Some("legacyEstimationFlag=6".to_owned());
    expected.breakdown = BTreeMap::from([("motCode".to_owned(), "1".to_owned())]);
    assert_eq!(got[1], &expected);
    assert_eq!(got[2].value, None, "a null value");
    assert_eq!(got[2].partner, area("899"));
}

#[test]
fn v1_json_errors_fail_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let fails = |name: &str, text: &str| -> String {
        let path = write(&dir, name, text);
        v1(&path).expect_err(name).to_string()
    };

    let api = fails(
        "error.json",
        &answer(&[], "Invalid parameter: reporterCode 9999 does not exist"),
    );
    assert!(
        api.contains("Invalid parameter: reporterCode 9999 does not exist"),
        "{api}"
    );
    let early = fails(
        "early.json",
        r#"{"error": "Too many requests", "data": [{"reporterCode": 586}]}"#,
    );
    assert!(early.contains("Too many requests"), "{early}");
    let gateway = fails(
        "gateway.json",
        r#"{"statusCode": 401, "message": "Access denied due to invalid subscription key."}"#,
    );
    assert!(gateway.contains("Access denied"), "{gateway}");

    let no_data = fails("no-data.json", r#"{"elapsedTime": 1, "count": 0}"#);
    assert!(
        no_data.contains("this is not a UN Comtrade API v1 file: missing field data"),
        "{no_data}"
    );
    let other_shape = fails("array.json", "[1, 2, 3]");
    assert!(
        other_shape.contains("not a UN Comtrade API v1 file"),
        "{other_shape}"
    );

    let mut incomplete = record(&json!({}));
    let map = incomplete.as_object_mut().unwrap();
    map.remove("reporterCode");
    map.remove("cmdCode");
    let missing = fails("missing.json", &answer(&[incomplete], ""));
    assert!(
        missing.contains(
            "this is not a UN Comtrade API v1 file: missing fields reporterCode, cmdCode"
        ),
        "{missing}"
    );

    let text = answer(&[record(&json!({})), record(&json!({}))], "");
    let short = fails("short.json", &text[..text.len() / 2]);
    assert!(short.contains("truncated"), "{short}");
    let malformed = fails("malformed.json", &text.replacen(':', "=", 3));
    assert!(malformed.contains("malformed"), "{malformed}");
}

#[test]
fn a_truncated_long_json_delivers_what_it_read_then_fails() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<Value> = (0..2000)
        .map(|i| record(&json!({"cmdCode": format!("{:02}", 1 + i % 97), "period": format!("{}", 1990 + i / 97)})))
        .collect();
    let text = answer(&records, "");
    let path = write(&dir, "long.json", &text[..text.len() - 1000]);

    let mut importer = V1Importer;
    let mut stream = importer.open(Input::new(&path), &Value::Null).unwrap();
    let mut read = 0;
    let error = loop {
        match stream.next_batch(100) {
            Ok(Some(batch)) => read += flows(&batch).len(),
            Ok(None) => panic!("a truncated file must fail"),
            Err(e) => break e,
        }
    };
    assert!(read > 1000 && read < 2000, "{read}");
    assert!(error.message.contains("truncated"), "{error}");
    assert!(error.message.contains("line 1 column"), "{error}");
    drop(stream);

    // Complete, the same file streams every element, and an abandoned stream stops.
    let whole = write(&dir, "whole.json", &text);
    assert_eq!(flows(&v1(&whole).unwrap()).len(), 2000);
    let mut stream = importer.open(Input::new(&whole), &Value::Null).unwrap();
    assert_eq!(stream.next_batch(10).unwrap().unwrap().len(), 10);
    drop(stream);
}

// ---- Wrong files ------------------------------------------------------------------------

#[test]
fn files_of_another_format_say_what_they_lack() {
    let dir = tempfile::tempdir().unwrap();
    let legacy_file = write(&dir, "legacy.csv", format!("{LEGACY_HEADER}\nH5,2019\n"));
    let firms = write(
        &dir,
        "firms.csv",
        "Survey ID,Name of Unit,District\nDS-1,Abid,Sialkot\n",
    );
    let empty = write(&dir, "empty.csv", "");
    let one_column = write(&dir, "one.csv", "hello\nworld\n");

    let error = legacy(&demo_file()).unwrap_err().to_string();
    assert!(
        error.contains(
            "this is not a UN Comtrade legacy bulk CSV file: missing columns Classification, \
             Trade Flow Code, Commodity Code, Trade Value (US$)"
        ) && error.contains("--importer un-comtrade-v1"),
        "{error}"
    );
    let error = v1(&legacy_file).unwrap_err().to_string();
    assert!(
        error.contains(
            "this is not a UN Comtrade API v1 file: missing columns flowCode, \
             classificationCode, cmdCode, primaryValue"
        ) && error.contains("--importer un-comtrade-legacy"),
        "{error}"
    );
    let error = legacy(&firms).unwrap_err().to_string();
    assert!(
        error.contains("missing columns Period, Classification"),
        "{error}"
    );
    let error = v1(&firms).unwrap_err().to_string();
    assert!(error.contains("not a UN Comtrade API v1 file"), "{error}");
    assert!(legacy(&empty).unwrap_err().to_string().contains("empty"));
    let error = v1(&one_column).unwrap_err().to_string();
    assert!(
        error.contains("not a UN Comtrade API v1 file: missing columns"),
        "{error}"
    );

    let options = json!({"sheets": []});
    let error = V1Importer
        .open(Input::new(demo_file()), &options)
        .err()
        .unwrap();
    assert!(error.message.contains("takes no options"), "{error}");
    assert!(
        LegacyImporter
            .open(Input::new(&legacy_file), &json!({"source": "comtrade-2"}))
            .is_ok(),
        "a mapping's source is the hub's business"
    );
}
