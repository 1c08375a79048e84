//! Tests of the bureau's tables: layout, periods, currencies, codes, the group → cluster
//! data and sniffing.

use std::path::{Path, PathBuf};

use hub_plugin_sdk::read_all;
use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    Flow, ImportError, Importer, Input, Item, LogLevel, RowError, TradeArea, TradeFlow,
};
use rust_xlsxwriter::{Format, Workbook};

use super::*;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/pbs/exports-by-commodity-2023-24.csv")
}

fn read_path(path: &Path, options: &Value) -> Result<Vec<Item>, ImportError> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    read_all(
        &mut PbsTradeImporter,
        Input::with_file_name(path, name),
        options,
        4,
    )
}

fn read_text(name: &str, text: &str, options: &Value) -> Result<Vec<Item>, ImportError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    read_path(&path, options)
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

fn logs(items: &[Item]) -> Vec<&str> {
    items
        .iter()
        .filter_map(Item::as_log)
        .map(|(_, message)| message)
        .collect()
}

/// `flow code period value currency×10^m [usd=…] [qty=… unit] [flags]`.
fn line(f: &TradeFlow) -> String {
    assert_eq!(f.reporter, TradeArea::Iso3("PAK".into()));
    assert_eq!(f.partner, TradeArea::Iso3("WLD".into()));
    assert_eq!(f.classification, "PK-PBS-GROUPS");
    let mut text = format!(
        "{} {} {}",
        match f.flow {
            Flow::Export => "X",
            Flow::Import => "M",
            _ => "?",
        },
        f.commodity_code,
        f.period
    );
    if let Some(v) = f.value {
        text.push_str(&format!(
            " {v} {}e{}",
            f.currency.as_deref().unwrap_or("?"),
            f.unit_multiplier
        ));
    }
    if let Some(usd) = f.value_usd {
        text.push_str(&format!(" usd={usd:.0}"));
    }
    if let Some(q) = f.quantity {
        text.push_str(&format!(
            " qty={q} {}",
            f.quantity_unit.as_deref().unwrap_or("?")
        ));
    }
    if let Some(flags) = &f.flags {
        text.push_str(&format!(" {flags}"));
    }
    text
}

#[test]
fn the_sample_table_gives_a_flow_per_group_and_period() {
    let items = read_path(&sample(), &Value::Null).unwrap();
    let lines: Vec<String> = flows(&items).into_iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "X knitwear FY2023-24 1455210.5 PKRe6 usd=5102300000 qty=151234 Th. Doz",
            "X knitwear FY2022-23 5032.1 USDe6",
            "X knitwear 2024-06 430250 USDe3",
            "X readymade-garments FY2023-24 1005311.2 PKRe6 usd=3541700000 qty=40125 Th. Doz",
            "X readymade-garments FY2022-23 3401.9 USDe6",
            "X readymade-garments 2024-06 301877 USDe3",
            "X textile-group-others FY2023-24 15.2 USDe6",
            "X textile-group-others FY2022-23 14.9 USDe6",
            "X textile-group-others 2024-06 1200 USDe3",
            "X surgical-goods-medical-instruments FY2023-24 126100.4 PKRe6 usd=441900000",
            "X surgical-goods-medical-instruments FY2022-23 425.3 USDe6",
            "X surgical-goods-medical-instruments 2024-06 38910 USDe3",
            "X footwear FY2023-24 60112.8 PKRe6 usd=210400000",
            "X footwear FY2022-23 190.6 USDe6",
            "X footwear 2024-06 17502 USDe3",
            "X other-manufactures-group-others FY2023-24 80.5 USDe6",
            "X other-manufactures-group-others FY2022-23 70.1 USDe6",
            "X other-manufactures-group-others 2024-06 6400 USDe3",
            "X TOTAL FY2023-24 8650411.3 PKRe6 usd=30645000000",
            "X TOTAL FY2022-23 27724.3 USDe6",
            "X TOTAL 2024-06 2531477 USDe3",
        ]
    );
    assert!(errors(&items).is_empty(), "{:?}", errors(&items));
    let logs = logs(&items);
    assert!(
        logs.iter()
            .any(|l| l.contains("July-March 2023-24 (US$ million)")
                && l.contains("cumulated part of a fiscal year")),
        "{logs:?}"
    );
    assert!(
        logs[0].contains("exports of 5 value column(s), header row 3"),
        "{logs:?}"
    );
    let Some(Item::Record(first)) = items.iter().find(|i| matches!(i, Item::Record(_))) else {
        unreachable!()
    };
    assert_eq!(
        first.source_ref.to_string(),
        "exports-by-commodity-2023-24.csv!R5"
    );
    assert!(items.iter().any(|i| matches!(
        i,
        Item::Columns { sheet: None, columns } if columns["trade_flow.commodity_code"] == "Commodity"
    )));
}

#[test]
fn a_workbook_with_a_two_row_header_reads_its_import_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pbs imports.xlsx");
    let mut book = Workbook::new();
    let notes = book.add_worksheet().set_name("Notes").unwrap();
    notes.write(0, 0, "Figures are provisional").unwrap();
    let sheet = book.add_worksheet().set_name("Table 2").unwrap();
    sheet.write(0, 0, "Imports by commodity group").unwrap();
    sheet.write(1, 0, "Commodity Group").unwrap();
    let merged = Format::new();
    sheet
        .merge_range(1, 1, 1, 2, "FY 2023-24 (P)", &merged)
        .unwrap();
    sheet
        .merge_range(1, 3, 1, 4, "June, 2024", &merged)
        .unwrap();
    for (col, text) in [
        (1, "Rs. Million"),
        (2, "US$ '000"),
        (3, "PKR mn"),
        (4, "USD 000"),
    ] {
        sheet.write(2, col, text).unwrap();
    }
    sheet.write(3, 0, "1. Auto Parts & Accessories").unwrap();
    sheet.write(3, 1, 1200.5).unwrap();
    sheet.write(3, 2, 4300).unwrap();
    sheet.write(3, 3, "n.a.").unwrap();
    sheet.write(3, 4, 390).unwrap();
    sheet.write(4, 0, "2. Motor Cycle Parts").unwrap();
    sheet.write(4, 1, "twelve").unwrap();
    sheet.write(4, 2, 80).unwrap();
    book.save(&path).unwrap();

    let items = read_path(&path, &Value::Null).unwrap();
    let lines: Vec<String> = flows(&items).into_iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "M auto-parts-accessories FY2023-24 1200.5 PKRe6 usd=4300000 provisional",
            "M auto-parts-accessories 2024-06 390 USDe3",
            "M motor-cycle-parts FY2023-24 80 USDe3 provisional",
        ]
    );
    let errors = errors(&items);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].source_ref.to_string(),
        "pbs imports.xlsx!Table 2!R5!C:FY 2023-24 (P) / Rs. Million"
    );
    assert_eq!(errors[0].code, "invalid_number");
    assert!(logs(&items).iter().any(|l| l.contains("\"Notes\"")));

    // The option wins over the title.
    let items = read_path(&path, &json!({"flow": "export", "source": "pk-pbs"})).unwrap();
    assert!(flows(&items).iter().all(|f| f.flow == Flow::Export));
}

#[test]
fn without_a_direction_in_the_title_the_table_is_read_as_exports() {
    let text = "Commodity,2022-23 (US$ million)\nFootwear,12.5\n";
    let items = read_text("table.csv", text, &Value::Null).unwrap();
    assert_eq!(
        flows(&items).into_iter().map(line).collect::<Vec<_>>(),
        ["X footwear FY2022-23 12.5 USDe6"]
    );
    assert!(items.iter().any(|i| matches!(
        i,
        Item::Log { level: LogLevel::Warn, message } if message.contains("read as exports")
    )));
    let items = read_text("table.csv", text, &json!({"flow": "import"})).unwrap();
    assert_eq!(flows(&items)[0].flow, Flow::Import);
}

#[test]
fn files_without_a_table_and_bad_options_are_refused() {
    let error = read_text("firms.csv", "Name,District\nA,Lahore\n", &Value::Null).unwrap_err();
    assert!(error.message.contains("Commodity"), "{}", error.message);
    let error = read_text("t.csv", "Commodity,Remarks\nFootwear,x\n", &Value::Null).unwrap_err();
    assert!(error.message.contains("period"), "{}", error.message);
    let error = read_path(&sample(), &json!({"flow": "sideways"})).unwrap_err();
    assert!(error.message.contains("export"), "{}", error.message);
    let error = read_path(&sample(), &json!({"direction": "import"})).unwrap_err();
    assert!(
        error.message.contains("unknown option"),
        "{}",
        error.message
    );
}

#[test]
fn header_periods_currencies_and_units_read_as_the_bureau_writes_them() {
    let cases: &[(&str, Option<&str>, Option<&str>, i32)] = &[
        (
            "July-June 2023-24 (US$ million)",
            Some("FY2023-24"),
            Some("USD"),
            6,
        ),
        (
            "Jul-Jun 2023-24 Rs. Million",
            Some("FY2023-24"),
            Some("PKR"),
            6,
        ),
        ("FY2023-24 USD", Some("FY2023-24"), Some("USD"), 0),
        (
            "2023-2024 (Rupees in million)",
            Some("FY2023-24"),
            Some("PKR"),
            6,
        ),
        ("2011-12 PKR mln", Some("FY2011-12"), Some("PKR"), 6),
        ("June 2024 (US$ thousand)", Some("2024-06"), Some("USD"), 3),
        ("Jun-24 $ 000", Some("2024-06"), Some("USD"), 3),
        (
            "December, 2011 (US$ '000)",
            Some("2011-M12"),
            Some("USD"),
            3,
        ),
        ("Sept 2023 Rs", Some("2023-09"), Some("PKR"), 0),
        ("2023 (US$ billion)", Some("2023"), Some("USD"), 9),
        ("July-March 2023-24 (US$ million)", None, Some("USD"), 6),
        ("Quantity", None, None, 0),
        ("Unit", None, None, 0),
        ("Remarks on marketing", None, None, 0),
        ("Value in crore rupees", None, Some("PKR"), 7),
    ];
    for (header, period, currency, multiplier) in cases {
        assert_eq!(
            header_period(header)
                .and_then(HeaderPeriod::canonical)
                .as_deref(),
            *period,
            "{header}"
        );
        assert_eq!(header_currency(header), *currency, "{header}");
        assert_eq!(header_multiplier(header), *multiplier, "{header}");
    }
    assert_eq!(
        header_period("July-March 2023-24"),
        Some(HeaderPeriod::Partial)
    );
}

#[test]
fn group_names_fold_into_stable_codes() {
    let cases = [
        ("Knitwear", "knitwear"),
        ("Readymade Garments", "readymade-garments"),
        ("Ready-made garments", "readymade-garments"),
        ("READYMADE GARMENTS*", "readymade-garments"),
        (
            "Surgical Goods & Medical Instruments",
            "surgical-goods-medical-instruments",
        ),
        (
            "Surgical goods and medical instruments (P)",
            "surgical-goods-medical-instruments",
        ),
        ("(ii) Footwear", "footwear"),
        ("1. Knitwear", "knitwear"),
        ("A. Food Group", "food-group"),
        ("Tents, Canvas & Tarpaulin", "tents-canvas-tarpaulin"),
        (
            "Made-up Articles (Excl. Towels & Bedwear)",
            "madeup-articles-excl-towels-bedwear",
        ),
        ("Total", "TOTAL"),
        ("Grand Total", "TOTAL"),
        ("Total Exports", "TOTAL"),
        ("Men's Garments", "mens-garments"),
    ];
    for (name, code) in cases {
        assert_eq!(group_code(name), code, "{name}");
    }
}

#[test]
fn the_group_to_cluster_data_names_only_the_four_clusters() {
    const CLUSTERS: [&str; 4] = [
        "sialkot-surgical",
        "lahore-garments",
        "lahore-leather-footwear",
        "lahore-auto-parts",
    ];
    assert!(GROUPS_CSV.starts_with("group_code,group_name,cluster\n"));
    let groups = groups();
    assert!(groups.len() > 20);
    let mut codes = std::collections::HashSet::new();
    for group in &groups {
        if let Some(cluster) = &group.cluster {
            assert!(CLUSTERS.contains(&cluster.as_str()), "{group:?}");
        }
        assert!(codes.insert(group.code.clone()), "duplicate {group:?}");
        assert_eq!(group_code(&group.name), group.code, "{group:?}");
    }
    let cluster_of = |code: &str| {
        groups
            .iter()
            .find(|g| g.code == code)
            .and_then(|g| g.cluster.clone())
    };
    assert_eq!(cluster_of("knitwear").as_deref(), Some("lahore-garments"));
    assert_eq!(
        cluster_of("readymade-garments").as_deref(),
        Some("lahore-garments")
    );
    assert_eq!(
        cluster_of("surgical-instruments").as_deref(),
        Some("sialkot-surgical")
    );
    assert_eq!(
        cluster_of("footwear").as_deref(),
        Some("lahore-leather-footwear")
    );
    assert_eq!(
        cluster_of("auto-parts-accessories").as_deref(),
        Some("lahore-auto-parts")
    );
    for cluster in CLUSTERS {
        assert!(
            groups.iter().any(|g| g.cluster.as_deref() == Some(cluster)),
            "{cluster} has a group"
        );
    }
}

#[test]
fn sniffing_recognises_bureau_tables_only() {
    let sample = std::fs::read(sample()).unwrap();
    let cases: Vec<(&str, Vec<u8>, u8)> = vec![
        ("t.csv", sample.clone(), 85),
        (
            "t.csv",
            b"Commodity,Unit,Quantity 2023-24\nKnitwear,Doz,12\n".to_vec(),
            70,
        ),
        ("t.csv", b"Commodity,Exporter\nKnitwear,A\n".to_vec(), 0),
        (
            "t.csv",
            b"Group,Turnover 2022 (Rs million)\nA,12\n".to_vec(),
            0,
        ),
        (
            "t.csv",
            b"Survey ID,Name of Unit,District\nDS-1,A,Sialkot\n".to_vec(),
            0,
        ),
        ("t.csv", b"DATAFLOW,REPORTER,PARTNER\nA,B,C\n".to_vec(), 0),
        ("pbs_exports.xlsx", b"PK\x03\x04...".to_vec(), 45),
        ("firms.xlsx", b"PK\x03\x04...".to_vec(), 0),
        ("t.bin", vec![0, 1, 2, 3], 0),
        ("t.json", br#"{"dataSets": []}"#.to_vec(), 0),
    ];
    for (name, head, expected) in cases {
        assert_eq!(
            PbsTradeImporter.sniff(&head, name).percent(),
            expected,
            "{name} {:?}",
            String::from_utf8_lossy(&head[..head.len().min(40)])
        );
    }
    let best = crate::builtin()
        .into_iter()
        .max_by_key(|i| i.sniff(&sample, "exports.csv").percent())
        .unwrap();
    assert_eq!(best.manifest().id, IMPORTER_ID);
}
