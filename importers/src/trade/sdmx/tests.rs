//! Tests of the SDMX importers: sniffing, both CSV versions and label modes, both JSON
//! versions and forms, WITS, options, and the messages that are not trade statistics.

use std::path::{Path, PathBuf};

use hub_plugin_sdk::read_all;
use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    Flow, ImportError, Importer, Input, Item, LogLevel, RowError, TradeArea, TradeFlow,
};

use super::*;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Every item `importer` gives for a file holding `content`, or the import error.
fn read(
    importer: &mut dyn Importer,
    name: &str,
    content: &[u8],
    options: &Value,
) -> Result<Vec<Item>, ImportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    read_path(importer, &path, options)
}

fn read_path(
    importer: &mut dyn Importer,
    path: &Path,
    options: &Value,
) -> Result<Vec<Item>, ImportError> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    read_all(importer, Input::with_file_name(path, name), options, 3)
}

fn csv(content: &str) -> Result<Vec<Item>, ImportError> {
    read(
        &mut SdmxCsvImporter,
        "trade.csv",
        content.as_bytes(),
        &Value::Null,
    )
}

fn json_message(message: &Value, options: &Value) -> Result<Vec<Item>, ImportError> {
    let text = message.to_string();
    read(
        &mut SdmxJsonImporter,
        "trade.json",
        text.as_bytes(),
        options,
    )
}

fn flows(items: &[Item]) -> Vec<&TradeFlow> {
    items
        .iter()
        .filter_map(Item::as_record::<TradeFlow>)
        .collect()
}

fn errors(items: &[Item]) -> Vec<&RowError> {
    items.iter().filter_map(Item::as_row_error).collect()
}

fn warnings(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Log {
                level: LogLevel::Warn,
                message,
            } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}

/// A flow as one comparable line: reporter>partner flow classification:code period value
/// currency×10^mult {breakdown} flags.
fn line(f: &TradeFlow) -> String {
    let area = |a: &TradeArea| match a {
        TradeArea::Iso3(c) | TradeArea::ComtradeCode(c) | TradeArea::Name(c) => c.clone(),
    };
    let flow = match f.flow {
        Flow::Import => "M",
        Flow::Export => "X",
        Flow::ReExport => "RX",
        Flow::ReImport => "RM",
    };
    let mut text = format!(
        "{}>{} {flow} {}:{} {} {}{}e{}",
        area(&f.reporter),
        area(&f.partner),
        f.classification,
        f.commodity_code,
        f.period,
        f.value.map(|v| v.to_string()).unwrap_or_default(),
        f.currency
            .as_deref()
            .map(|c| format!(" {c} "))
            .unwrap_or_else(|| " ".into()),
        f.unit_multiplier
    );
    if !f.breakdown.is_empty() {
        text.push_str(&format!(" {:?}", f.breakdown));
    }
    if let Some(flags) = &f.flags {
        text.push_str(&format!(" flags={flags}"));
    }
    if f.is_value_estimated {
        text.push_str(" estimated");
    }
    text
}

fn lines(items: &[Item]) -> Vec<String> {
    flows(items).into_iter().map(line).collect()
}

// ---- Sniffing --------------------------------------------------------------------------

#[test]
fn each_importer_recognises_its_own_files_and_no_others() {
    let sample = |name: &str| std::fs::read(samples().join(name)).unwrap();
    let cases: Vec<(&str, Vec<u8>, u8, u8)> = vec![
        // (file name, head, sdmx-csv, sdmx-json)
        ("a.csv", sample("sdmx-csv-2x-example1.csv"), 95, 0),
        ("a.csv", sample("sdmx/trade-2x.csv"), 95, 0),
        ("a.csv", sample("sdmx/trade-1.0-semicolon.csv"), 95, 0),
        ("a.json", sample("sdmx-json-exr-flat.json"), 0, 95),
        ("a.json", sample("sdmx-json-exr-time-series.json"), 0, 95),
        ("a.json", sample("sdmx-json-exr-cross-section.json"), 0, 95),
        ("a.json", sample("sdmx/wits-tradestats-pak.json"), 0, 95),
        (
            "a.csv",
            b"\xEF\xBB\xBF\"STRUCTURE[;]\",\"STRUCTURE_ID\",ACTION\n".to_vec(),
            95,
            0,
        ),
        (
            "a.csv",
            b"dataflow;ref_area;obs_value\nX;PAK;1\n".to_vec(),
            95,
            0,
        ),
        (
            "a.csv",
            b"Survey ID,Name of Unit,District\nDS-1,Abid,Sialkot\n".to_vec(),
            0,
            0,
        ),
        ("a.csv", b"STRUCTURE,NAME\nx,y\n".to_vec(), 0, 0),
        ("a.csv", b"DATAFLOW\n".to_vec(), 0, 0),
        (
            "a.json",
            br#"{"elapsedTime": "0.1", "count": 1, "data": [{"refYear": 2022}]}"#.to_vec(),
            0,
            0,
        ),
        ("a.json", b"[1, 2, 3]".to_vec(), 0, 0),
        ("a.bin", vec![0xFF, 0x00, 0x12, 0x80, 0x7F], 0, 0),
        ("a.xlsx", b"PK\x03\x04rest".to_vec(), 0, 0),
        ("empty.csv", Vec::new(), 0, 0),
    ];
    for (name, head, csv, json) in cases {
        let head = &head[..head.len().min(8192)];
        assert_eq!(
            SdmxCsvImporter.sniff(head, name).percent(),
            csv,
            "sdmx-csv on {:?}",
            String::from_utf8_lossy(&head[..head.len().min(60)])
        );
        assert_eq!(
            SdmxJsonImporter.sniff(head, name).percent(),
            json,
            "sdmx-json on {:?}",
            String::from_utf8_lossy(&head[..head.len().min(60)])
        );
    }
}

#[test]
fn the_builtin_list_picks_the_sdmx_importers_for_sdmx_files() {
    for (file, expected) in [
        ("sdmx-csv-2x-example1.csv", "sdmx-csv"),
        ("sdmx/trade-2x.csv", "sdmx-csv"),
        ("sdmx-json-exr-flat.json", "sdmx-json"),
        ("sdmx/wits-tradestats-pak.json", "sdmx-json"),
    ] {
        let head = std::fs::read(samples().join(file)).unwrap();
        let head = &head[..head.len().min(8192)];
        let best = crate::builtin()
            .into_iter()
            .max_by_key(|i| i.sniff(head, file).percent())
            .unwrap();
        assert_eq!(best.manifest().id, expected, "{file}");
    }
}

// ---- Messages that are not trade statistics ---------------------------------------------

#[test]
fn the_bundled_exchange_rate_samples_are_refused_as_not_trade_statistics() {
    let cases: [(&str, &mut dyn Importer, &str); 4] = [
        (
            "sdmx-csv-2x-example1.csv",
            &mut SdmxCsvImporter,
            "Its dimensions are DIM_1, DIM_2, DIM_3",
        ),
        (
            "sdmx-json-exr-flat.json",
            &mut SdmxJsonImporter,
            "Its dimensions are FREQ, CURRENCY_DENOM, EXR_TYPE, EXR_SUFFIX, CURRENCY, TIME_PERIOD",
        ),
        (
            "sdmx-json-exr-time-series.json",
            &mut SdmxJsonImporter,
            "CURRENCY",
        ),
        (
            "sdmx-json-exr-cross-section.json",
            &mut SdmxJsonImporter,
            "CURRENCY",
        ),
    ];
    for (file, importer, dimensions) in cases {
        let error = read_path(importer, &samples().join(file), &Value::Null).unwrap_err();
        let message = error.message;
        assert!(
            message.starts_with("this SDMX message is not trade statistics: "),
            "{file}: {message}"
        );
        for needle in [
            "no dimension for the reporter (expected one of REPORTER, REF_AREA)",
            "no dimension for the partner (expected one of PARTNER, COUNTERPART_AREA)",
            "no dimension for the flow (expected one of FLOW, TRADE_FLOW, INDICATOR)",
            "no dimension for the product (expected one of PRODUCT, PRODUCTCODE, COMMODITY, CMD)",
            dimensions,
        ] {
            assert!(message.contains(needle), "{file}: {needle:?} in {message}");
        }
    }
}

#[test]
fn a_message_missing_only_the_partner_names_only_the_partner() {
    let error =
        csv("DATAFLOW,REPORTER,PRODUCT,FLOW,TIME_PERIOD,OBS_VALUE\nX:Y(1.0),PAK,61,X,2022,1\n")
            .unwrap_err();
    assert!(
        error.message.starts_with(
            "this SDMX message is not trade statistics: no dimension for the partner \
             (expected one of PARTNER, COUNTERPART_AREA). Its dimensions are REPORTER, \
             PRODUCT, FLOW, TIME_PERIOD."
        ),
        "{}",
        error.message
    );
}

// ---- SDMX-CSV --------------------------------------------------------------------------

#[test]
fn csv_1_0_with_semicolons_and_decimal_commas_imports() {
    let items = read_path(
        &mut SdmxCsvImporter,
        &samples().join("sdmx/trade-1.0-semicolon.csv"),
        &Value::Null,
    )
    .unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>DEU M ESTAT:DS-TRADE:61 2022 1234.5 USD e3",
            "PAK>DEU X ESTAT:DS-TRADE:62 2022-Q4 98.25 USD e3",
        ]
    );
    assert!(errors(&items).is_empty(), "{:?}", errors(&items));
    let Some(Item::Columns {
        sheet: None,
        columns,
    }) = items.iter().find(|i| matches!(i, Item::Columns { .. }))
    else {
        panic!("no columns declared: {items:?}");
    };
    assert_eq!(columns["trade_flow.reporter"], "REF_AREA");
    assert_eq!(columns["trade_flow.partner"], "COUNTERPART_AREA");
    assert_eq!(columns["trade_flow.commodity_code"], "COMMODITY");
    assert_eq!(columns["trade_flow.flow"], "TRADE_FLOW");
    assert_eq!(columns["trade_flow.period"], "TIME_PERIOD");
    assert_eq!(columns["trade_flow.value"], "OBS_VALUE");
    assert_eq!(columns["trade_flow.currency"], "UNIT_MEASURE");
    // The records carry their line.
    let Some(Item::Record(first)) = items.iter().find(|i| matches!(i, Item::Record(_))) else {
        unreachable!()
    };
    assert_eq!(first.source_ref.to_string(), "trade-1.0-semicolon.csv!R2");
}

#[test]
fn csv_2x_imports_with_classification_status_and_periods() {
    let items = read_path(
        &mut SdmxCsvImporter,
        &samples().join("sdmx/trade-2x.csv"),
        &Value::Null,
    )
    .unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>USA X H5:9018 2022 312.5 USD e6",
            "PAK>WLD X H5:9018 2022 410.25 USD e6 flags=E estimated",
            "PAK>WLD X H5:6403 2023-03 14.2 USD e6 flags=P",
        ]
    );
    assert!(errors(&items).is_empty());
}

#[test]
fn csv_2x_labels_both_in_any_case_take_the_ids() {
    let text = "structure;structure_id;action;FREQ: Frequency;Reporter: Reporter;\
                PARTNER: Partner;PRODUCT: Product;FLOW: Flow;TIME_PERIOD: Time;\
                OBS_VALUE: Value;UNIT_MULT: Unit multiplier\n\
                dataflow;UNSD:DF_TRADE(1.0): Trade by product;I;A: Annual;PAK: Pakistan;\
                WLD: World;61: Knitted apparel;X: Exports;2021;1 250,5;6: Millions\n\
                dataflow;UNSD:DF_TRADE(1.0): Trade by product;I;M: Monthly;PAK: Pakistan;\
                WLD: World;61: Knitted apparel;X: Exports;2021-M12;101,75;6: Millions\n\
                dataflow;UNSD:DF_TRADE(1.0): Trade by product;I;M: Monthly;PAK: Pakistan;\
                WLD: World;61: Knitted apparel;X: Exports;2011-12;7;6: Millions\n";
    let items = csv(text).unwrap();
    // `1 250,5` has a space inside: not a number SDMX writes.
    assert_eq!(
        lines(&items),
        [
            "PAK>WLD X UNSD:DF_TRADE:61 2021-12 101.75 e6",
            "PAK>WLD X UNSD:DF_TRADE:61 2011-M12 7 e6",
        ]
    );
    let errors = errors(&items);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "invalid_number");
    assert_eq!(
        errors[0].source_ref.to_string(),
        "trade.csv!R2!C:OBS_VALUE: Value"
    );
    let log = items.iter().find_map(|i| match i {
        Item::Log { message, .. } => Some(message.clone()),
        _ => None,
    });
    assert!(log.unwrap().contains("labels both, delimiter ';'"));
}

#[test]
fn csv_2x_labels_name_skips_the_label_columns() {
    let text = "STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,ACTION,SERIES_KEY,\
                REPORTER,Reporter,PARTNER,Partner,CMD,Commodity,FLOW,Flow,\
                TIME_PERIOD,Time period,OBS_VALUE,Observation value,CURRENCY,Currency\n\
                dataflow,UNSD:DF(1.0),Trade,I,PAK.USA.8708.M,PAK,Pakistan,USA,United States,\
                8708,Parts of motor vehicles,M,Imports,2023-Q2,2023-Q2,\"1,5\",,USD,US dollar\n\
                dataflow,UNSD:DF(1.0),Trade,R,PAK.USA.8708.X,PAK,Pakistan,USA,United States,\
                8708,Parts of motor vehicles,X,Exports,2023-Q2,2023-Q2,42,,USD,US dollar\n\
                dataflow,UNSD:DF(1.0),Trade,D,PAK.USA.8708.X,PAK,Pakistan,USA,United States,\
                8708,Parts of motor vehicles,X,Exports,2023-Q1,2023-Q1,-,,USD,US dollar\n";
    let items = csv(text).unwrap();
    assert_eq!(
        lines(&items),
        ["PAK>USA X UNSD:DF:8708 2023-Q2 42 USD e0"],
        "{items:#?}"
    );
    // A decimal comma is read only in semicolon files.
    let errors = errors(&items);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field.as_deref(), Some("value"));
    assert_eq!(errors[0].source_ref.column.as_deref(), Some("OBS_VALUE"));
    assert_eq!(errors[0].source_ref.row, Some(2));
    assert_eq!(warnings(&items).len(), 1, "deletions are logged once");
    assert!(warnings(&items)[0].contains("ACTION D"));
}

#[test]
fn csv_missing_values_are_skipped_and_bad_cells_are_row_errors() {
    let text = "DATAFLOW,REPORTER,PARTNER,PRODUCT,FLOW,TIME_PERIOD,OBS_VALUE,UNIT_MULT,DETAIL\n\
                A:B(1),PAK,WLD,TOTAL,X,2022,NaN,,x\n\
                A:B(1),PAK,WLD,TOTAL,X,2022,,,x\n\
                A:B(1),PAK,WLD,TOTAL,X,2022,ten,,x\n\
                A:B(1),PAK,WLD,TOTAL,X,2022-W05,1,,x\n\
                A:B(1),PAK,WLD,TOTAL,X,2022,1,three,x\n\
                A:B(1),,WLD,TOTAL,X,2022,1,,x\n\
                A:B(1),PAK,WLD,TOTAL,SHARE,2022,1,,x\n\
                A:B(1),PAK,WLD,TOTAL,SHARE,2023,1,,x\n\
                A:B(1),PAK,WLD,_T,X,2023,5,2,x\n";
    let items = csv(text).unwrap();
    assert_eq!(lines(&items), ["PAK>WLD X A:B:TOTAL 2023 5 e2"]);
    let got: Vec<(u64, &str, &str, Option<&str>)> = errors(&items)
        .iter()
        .map(|e| {
            (
                e.source_ref.row.unwrap(),
                e.code.as_str(),
                e.source_ref.column.as_deref().unwrap(),
                e.field.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (4, "invalid_number", "OBS_VALUE", Some("value")),
            (5, "invalid_period", "TIME_PERIOD", Some("period")),
            (6, "invalid_number", "UNIT_MULT", Some("unit_multiplier")),
            (7, "missing_required", "REPORTER", Some("reporter")),
        ]
    );
    assert_eq!(warnings(&items).len(), 1, "one line per skipped code");
    assert!(warnings(&items)[0].starts_with("FLOW SHARE is not a trade value"));
}

#[test]
fn csv_further_dimensions_become_the_breakdown() {
    let text = "DATAFLOW,REPORTER,PARTNER,PRODUCT,FLOW,CUSTOMS,MOT,TIME_PERIOD,OBS_VALUE,UPDATED\n\
                A:B(1),PAK,USA,61,X,C01,_T,2022,5,2024-01-01\n\
                A:B(1),PAK,USA,61,X,_T,_Z,2022,9,2024-01-01\n";
    let items = csv(text).unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>USA X A:B:61 2022 5 e0 {\"CUSTOMS\": \"C01\"}",
            "PAK>USA X A:B:61 2022 9 e0",
        ]
    );
}

#[test]
fn csv_without_observation_values_or_in_another_shape_is_refused() {
    let no_value =
        csv("DATAFLOW,REPORTER,PARTNER,PRODUCT,FLOW,TIME_PERIOD,UNIT_MULT\nA,B,C,D,E,F,G\n")
            .unwrap_err();
    assert!(
        no_value.message.contains("no OBS_VALUE"),
        "{}",
        no_value.message
    );
    let not_2x = csv("STRUCTURE,DATAFLOW,REPORTER\nA,B,C\n").unwrap_err();
    assert!(
        not_2x.message.contains("STRUCTURE_ID"),
        "{}",
        not_2x.message
    );
    let other = csv("Survey ID,Name\nA,B\n").unwrap_err();
    assert!(other.message.contains("DATAFLOW"), "{}", other.message);
}

// ---- SDMX-JSON -------------------------------------------------------------------------

fn dim(id: &str, values: &[&str]) -> Value {
    json!({"id": id, "name": id.to_lowercase(), "values": values.iter().map(|v| json!({"id": v, "name": format!("{v} name")})).collect::<Vec<_>>()})
}

#[test]
fn json_1_0_series_with_attributes_imports() {
    let message = json!({
        "header": {"id": "T1", "sender": {"id": "UNSD"}},
        "structure": {
            "links": [{"rel": "dataflow", "urn": "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=UNSD:DF_TRADE(1.0)"}],
            "dimensions": {
                "dataSet": [dim("FREQ", &["A"]), dim("REPORTER", &["PAK"])],
                "series": [dim("PARTNER", &["WLD", "USA"]), dim("CMD", &["9018", "6403"]), dim("FLOW", &["M", "X"])],
                "observation": [dim("TIME_PERIOD", &["2021", "2022"])]
            },
            "attributes": {
                "dataSet": [dim("CLASSIFICATION", &["H5"])],
                "series": [dim("UNIT_MULT", &["0", "3", "6"]), {"id": "TITLE", "values": [{"value": "a title"}]}],
                "observation": [dim("OBS_STATUS", &["A", "E"])]
            }
        },
        "dataSets": [{
            "action": "Information",
            "series": {
                "0:0:1": {"attributes": [2, 0], "observations": {"0": [410.5, 0], "1": [420.25, 1]}},
                "1:1:1": {"attributes": [1, null], "observations": {"1": [12.5]}},
                "1:0:0": {"attributes": [0], "observations": {"0": [null, 0], "1": ["NaN"]}},
                "1:0:9": {"attributes": [0], "observations": {"0": [1]}},
                "0:1:0": {"attributes": [0], "observations": {"0": ["many"], "7": [1]}}
            }
        }]
    });
    let items = json_message(&message, &Value::Null).unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>WLD X H5:9018 2021 410.5 e6",
            "PAK>WLD X H5:9018 2022 420.25 e6 flags=E estimated",
            "PAK>USA X H5:6403 2022 12.5 e3",
        ]
    );
    // Sorted: whether `json!` keeps the keys' order depends on serde_json's features.
    let mut errors: Vec<String> = errors(&items)
        .iter()
        .map(|e| format!("{} {} {}", e.source_ref, e.code, e.message))
        .collect();
    errors.sort();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[0].starts_with("trade.json!dataset 1, series 0:1:0!R1!C:OBS_VALUE invalid_number"),
        "{}",
        errors[0]
    );
    assert!(errors[1].starts_with("trade.json!dataset 1, series 0:1:0!R2 invalid_value The observation key does not decode"), "{}", errors[1]);
    assert!(errors[2].starts_with("trade.json!dataset 1, series 1:0:9!R1 invalid_value The series key does not decode: the key \"1:0:9\" names position 9 of FLOW, which has only 2 values."), "{}", errors[2]);
}

#[test]
fn json_2x_flat_observations_import() {
    let message = json!({
        "meta": {"id": "T2", "sender": {"id": "ESTAT"}},
        "data": {
            "structures": [{
                "links": [{"rel": "dataflow", "href": "https://example.org/rest/dataflow/ESTAT/DS_TRADE/2.0"}],
                "dimensions": {
                    "dataSet": [dim("REPORTER", &["PAK"])],
                    "series": [],
                    "observation": [dim("PARTNER", &["WLD", "CHN"]), dim("PRODUCT", &["87", "8708"]), dim("INDICATOR", &["EXPORT", "IMPORT", "QUANTITY"]), dim("TIME_PERIOD", &["2023-Q1", "2023-M02"])]
                },
                "measures": {"observation": [{"id": "OBS_VALUE"}, {"id": "OBS_WEIGHT"}]},
                "attributes": {
                    "dataSet": [],
                    "series": [],
                    "observation": [dim("UNIT_MEASURE", &["USD", "KG"])]
                }
            }],
            "dataSets": [{
                "structure": 0,
                "observations": {
                    "0:1:0:0": [5.5, 99, 0],
                    "1:1:1:1": [7, null, 0],
                    "1:1:2:1": [800, null, 1],
                    "1:0:2:1": [900, null, 1]
                }
            }]
        },
        "errors": []
    });
    let items = json_message(&message, &Value::Null).unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>WLD X ESTAT:DS_TRADE:8708 2023-Q1 5.5 USD e0",
            "PAK>CHN M ESTAT:DS_TRADE:8708 2023-02 7 USD e0",
        ]
    );
    assert_eq!(warnings(&items).len(), 1, "{items:?}");
    assert!(warnings(&items)[0].contains("INDICATOR QUANTITY"));
    let Some(Item::Record(first)) = items.iter().find(|i| matches!(i, Item::Record(_))) else {
        unreachable!()
    };
    assert_eq!(first.source_ref.to_string(), "trade.json!dataset 1!R1");
}

#[test]
fn a_wits_response_imports_in_thousands_of_dollars_under_wits_product_groups() {
    let path = samples().join("sdmx/wits-tradestats-pak.json");
    let items = read_path(&mut SdmxJsonImporter, &path, &Value::Null).unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>WLD X WITS-PRODUCT-GROUPS:64-67_Footwear 2021 150000.5 USD e3",
            "PAK>WLD X WITS-PRODUCT-GROUPS:64-67_Footwear 2022 162345.25 USD e3",
            "PAK>WLD X WITS-PRODUCT-GROUPS:TOTAL 2021 28800000 USD e3",
            "PAK>WLD X WITS-PRODUCT-GROUPS:TOTAL 2022 31000000 USD e3",
            "PAK>USA X WITS-PRODUCT-GROUPS:64-67_Footwear 2021 45000 USD e3",
            "PAK>WLD M WITS-PRODUCT-GROUPS:64-67_Footwear 2022 22000.75 USD e3",
        ]
    );
    assert!(errors(&items).is_empty());
    assert_eq!(
        warnings(&items),
        [
            "INDICATOR XPRT-PRTNR-SHR is not a trade value (import, export, re-export or \
          re-import): its observations are skipped. Map it with the option flows if it is one."
        ]
    );
}

#[test]
fn wits_hs_codes_take_the_stated_revision_and_groups_stay_groups() {
    let message = json!({
        "dataSets": [{"series": {
            "0:0:0:0": {"observations": {"0": [10]}},
            "0:0:1:0": {"observations": {"0": [20]}}
        }}],
        "structure": {"dimensions": {
            "series": [dim("REPORTER", &["PAK"]), dim("PARTNER", &["WLD"]), dim("PRODUCTCODE", &["610910", "Textiles"]), dim("INDICATOR", &["XPRT-TRD-VL"])],
            "observation": [dim("TIME_PERIOD", &["2020"])]
        }}
    });
    let items = json_message(&message, &Value::Null).unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>WLD X WITS-PRODUCT-GROUPS:610910 2020 10 USD e3",
            "PAK>WLD X WITS-PRODUCT-GROUPS:Textiles 2020 20 USD e3",
        ]
    );
    let items = json_message(
        &message,
        &json!({"hs_classification": "H0", "source": "wits"}),
    )
    .unwrap();
    assert_eq!(
        lines(&items),
        [
            "PAK>WLD X H0:610910 2020 10 USD e3",
            "PAK>WLD X WITS-PRODUCT-GROUPS:Textiles 2020 20 USD e3",
        ]
    );
}

#[test]
fn options_map_other_dimension_names_and_give_constants() {
    // An IMF Direction of Trade message: no product dimension.
    let message = json!({
        "data": {
            "structures": [{"dimensions": {
                "series": [dim("FREQ", &["A"]), dim("REF_AREA", &["PAK"]), dim("INDICATOR", &["TXG_FOB_USD", "TMG_CIF_USD"]), dim("COUNTERPART_AREA", &["USA"])],
                "observation": [dim("TIME_PERIOD", &["2022"])]
            }}],
            "dataSets": [{"series": {
                "0:0:0:0": {"observations": {"0": [5.4]}},
                "0:0:1:0": {"observations": {"0": [2.1]}}
            }}]
        }
    });
    let error = json_message(&message, &Value::Null).unwrap_err();
    assert!(
        error.message.contains("no dimension for the product")
            && !error.message.contains("no dimension for the partner"),
        "{}",
        error.message
    );
    let options = json!({
        "importer": "sdmx-json",
        "constants": {"product": "TOTAL", "classification": "IMF-DOTS", "unit_multiplier": 9, "currency": "usd"},
        "flows": {"TMG_CIF_USD": "skip"}
    });
    let items = json_message(&message, &options).unwrap();
    assert_eq!(lines(&items), ["PAK>USA X IMF-DOTS:TOTAL 2022 5.4 USD e9"]);
    assert!(
        warnings(&items).is_empty(),
        "a code skipped on purpose is not logged"
    );

    // Mapped dimensions win over the default ids.
    let message = json!({
        "structure": {"dimensions": {
            "series": [dim("DECLARANT", &["PAK"]), dim("PARTNER_AREA", &["WLD"]), dim("PRODUCT", &["61"]), dim("FLOW", &["1"]), dim("INDICATORS", &["VALUE"])],
            "observation": [dim("PERIOD", &["2022M05"])]
        }},
        "dataSets": [{"series": {"0:0:0:0:0": {"observations": {"0": [3]}}}}]
    });
    let options = json!({"dimensions": {"declarant": "reporter", "PARTNER_AREA": "partner", "PERIOD": "time", "INDICATORS": "ignore"}, "constants": {"classification": "CN8"}});
    let items = json_message(&message, &options).unwrap();
    assert_eq!(lines(&items), ["PAK>WLD M CN8:61 2022-05 3 e0"]);
}

#[test]
fn invalid_options_are_refused_with_what_is_valid() {
    let cases = [
        (
            json!({"dimension": {}}),
            "unknown option \"dimension\"; the options are dimensions, flows, constants, hs_classification",
        ),
        (
            json!({"dimensions": {"X": "exporter"}}),
            "\"exporter\" is not a role; the roles are reporter, partner",
        ),
        (
            json!({"flows": {"X": "out"}}),
            "write import, export, re_export, re_import or skip",
        ),
        (
            json!({"constants": {"unit": "6"}}),
            "unknown constant \"unit\"",
        ),
        (
            json!({"constants": {"unit_multiplier": "six"}}),
            "whole number",
        ),
        (json!([1]), "must be an object"),
    ];
    for (options, needle) in cases {
        let error = json_message(&json!({}), &options).unwrap_err();
        assert!(
            error.message.contains(needle),
            "{options}: {}",
            error.message
        );
    }
}

#[test]
fn broken_and_empty_json_messages_are_import_errors() {
    let full = std::fs::read(samples().join("sdmx/wits-tradestats-pak.json")).unwrap();
    let truncated = &full[..full.len() / 2];
    let error = read(&mut SdmxJsonImporter, "cut.json", truncated, &Value::Null).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(error.to_string().starts_with("cut.json!R"), "{error}");

    let error = read(
        &mut SdmxJsonImporter,
        "x.json",
        b"{\"dataSets\": [}",
        &Value::Null,
    )
    .unwrap_err();
    assert!(
        error.message.contains("not valid JSON"),
        "{}",
        error.message
    );

    let error = json_message(
        &json!({"meta": {}, "data": {"dataSets": []}, "errors": [{"code": 100, "title": "No results found"}]}),
        &Value::Null,
    )
    .unwrap_err();
    assert!(
        error.message.contains("No results found"),
        "{}",
        error.message
    );

    let error = json_message(&json!({"header": {}}), &Value::Null).unwrap_err();
    assert!(error.message.contains("no dataSets"), "{}", error.message);
}

// ---- Periods ---------------------------------------------------------------------------

#[test]
fn periods_are_written_in_the_hub_s_canonical_forms() {
    let cases = [
        ("2017", Some("2017")),
        ("2017-A1", Some("2017")),
        ("2017-Q1", Some("2017-Q1")),
        ("2017q4", Some("2017-Q4")),
        ("2017-03", Some("2017-03")),
        ("2017-M03", Some("2017-03")),
        ("2017M3", Some("2017-03")),
        (" 2017-M12 ", Some("2017-12")),
        ("2011-12", Some("2011-M12")),
        ("2011-M12", Some("2011-M12")),
        ("2017-Q5", None),
        ("2017-13", None),
        ("2017-03-01", None),
        ("2017-W05", None),
        ("2017-S1", None),
        ("2017-01-01/P1Y", None),
        ("17", None),
        ("", None),
        ("FY2017-18", None),
    ];
    for (raw, expected) in cases {
        assert_eq!(normalise_period(raw).as_deref(), expected, "{raw:?}");
    }
}
