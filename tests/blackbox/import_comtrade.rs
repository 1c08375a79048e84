//! `hub import` of UN Comtrade files (API v1 CSV and JSON, legacy bulk CSV) on every
//! engine, checked against the database: the importer is picked by content, areas resolve
//! through the Comtrade area codes (842 is the USA, not M49's 840), a second overlapping
//! file updates instead of duplicating, an unlisted partner becomes an area of its own,
//! and an unknown reporter fails the file and leaves the database as it was.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{TestDb, engines, import_json};

/// The tables a trade import writes, and the change counter.
const TABLES: [&str; 7] = [
    "sources",
    "trade_flows",
    "countries",
    "comtrade_areas",
    "classifications",
    "import_runs",
    "import_row_errors",
];

fn fingerprint(db: &TestDb) -> String {
    db.fingerprint(&TABLES)
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.count(sql)
}

/// `hub import FILE --json` (the importer chosen by content), and whether it succeeded.
fn import(db: &TestDb, file: &Path) -> (bool, Value) {
    import_json(db, file, &[])
}

fn scratch(db: &TestDb, name: &str, content: &str) -> PathBuf {
    let path = db.data_path().join(name);
    fs::write(&path, content).unwrap();
    path
}

pub(crate) const V1_HEADER: &str = "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,\
reporterISO,reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,\
partner2ISO,partner2Desc,classificationCode,classificationSearchCode,isOriginalClassification,\
cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,\
qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,\
isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,\
legacyEstimationFlag,isReported,isAggregate";

/// An annual export row of the API v1 CSV layout.
fn v1_row(reporter: u32, partner: u32, cmd: &str, value: u64) -> String {
    format!(
        "C,A,20190101,2019,52,2019,{reporter},PAK,Pakistan,X,Export,{partner},,Partner,0,W00,\
         World,H5,HS,True,{cmd},Goods,4,0,C00,TOTAL CPC,0,0,TOTAL MOT,-1,N/A,,False,-1,N/A,,\
         False,,False,,False,,{value},{value},0,True,False\n"
    )
}

fn v1_csv(rows: &[String]) -> String {
    format!("{V1_HEADER}\n{}", rows.concat())
}

/// The ISO3 code stored for the partner of the 2019 export of `cmd` to the area stored
/// with the value `value`.
fn partner_iso3(db: &TestDb, cmd: &str, value: u64) -> String {
    db.query_scalar(&format!(
        "SELECT c.iso3 FROM trade_flows t JOIN countries c ON c.id = t.partner_id \
         WHERE t.commodity_code = '{cmd}' AND t.value_usd = {value}"
    ))
}

#[test]
fn v1_csv_flows_resolve_comtrade_areas_and_an_overlapping_file_updates_them() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let first = scratch(
            &db,
            "comtrade 2019.csv",
            &v1_csv(&[
                v1_row(586, 842, "9018", 100),
                v1_row(586, 156, "9018", 50),
                v1_row(586, 0, "TOTAL", 1000),
            ]),
        );
        let (ok, report) = import(&db, &first);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["status"], "applied", "{engine}: {report:#}");
        assert_eq!(report["importer"], "un-comtrade-v1", "{engine}");
        assert_eq!(report["source"], "un-comtrade", "{engine}");
        assert_eq!(report["by_kind"]["trade_flow"]["inserted"], 3, "{engine}");
        assert_eq!(
            partner_iso3(&db, "9018", 100),
            "USA",
            "{engine}: 842 is the USA"
        );
        assert_eq!(partner_iso3(&db, "9018", 50), "CHN", "{engine}");
        assert_eq!(
            db.query_scalar(
                "SELECT r.iso3 || ' ' || t.flow || ' ' || t.hs4 || ' ' || t.period_kind || ' ' \
                 || s.code FROM trade_flows t JOIN countries r ON r.id = t.reporter_id \
                 JOIN sources s ON s.id = t.source_id WHERE t.value_usd = 100"
            ),
            "PAK export 9018 year un-comtrade",
            "{engine}"
        );

        // An overlapping extract: one flow changed, one the same, one new.
        let second = scratch(
            &db,
            "comtrade 2019 revised.csv",
            &v1_csv(&[
                v1_row(586, 842, "9018", 120),
                v1_row(586, 156, "9018", 50),
                v1_row(586, 842, "6110", 7),
            ]),
        );
        let (ok, report) = import(&db, &second);
        assert!(ok, "{engine}: {report:#}");
        let counts = &report["by_kind"]["trade_flow"];
        assert_eq!(
            (
                &counts["inserted"],
                &counts["updated"],
                &counts["unchanged"]
            ),
            (&Value::from(1), &Value::from(1), &Value::from(1)),
            "{engine}: {report:#}"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM trade_flows"),
            4,
            "{engine}"
        );
        assert_eq!(partner_iso3(&db, "9018", 120), "USA", "{engine}: updated");
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM trade_flows WHERE value_usd = 100"
            ),
            0,
            "{engine}"
        );
    }
}

#[test]
fn an_unlisted_partner_becomes_an_area_with_a_warning() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(
            &db,
            "nes.csv",
            &v1_csv(&[v1_row(586, 899, "61", 33), v1_row(586, 842, "61", 44)]),
        );
        let (ok, report) = import(&db, &file);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["status"], "applied", "{engine}");
        assert!(
            report["warnings"].as_u64().unwrap() >= 1,
            "{engine}: {report:#}"
        );
        assert!(
            report["issues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"] == "unlisted_partner" && i["row"] == 2),
            "{engine}: {report:#}"
        );
        assert_eq!(partner_iso3(&db, "61", 33), "C-899", "{engine}");
        assert_eq!(
            db.query_scalar("SELECT kind FROM countries WHERE iso3 = 'C-899'"),
            "special",
            "{engine}"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM trade_flows"),
            2,
            "{engine}"
        );
    }
}

#[test]
fn an_unknown_reporter_fails_the_file_and_changes_nothing() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let before = fingerprint(&db);
        let file = scratch(
            &db,
            "unknown reporter.csv",
            &v1_csv(&[v1_row(586, 842, "61", 1), v1_row(999, 842, "61", 2)]),
        );
        let (ok, report) = import(&db, &file);
        assert!(!ok, "{engine}: {report:#}");
        assert_eq!(report["status"], "failed", "{engine}");
        assert_eq!(report["importer"], "un-comtrade-v1", "{engine}");
        let issue = &report["issues"][0];
        assert_eq!(
            (&issue["row"], &issue["field"], &issue["column"]),
            (
                &Value::from(3),
                &Value::from("reporter"),
                &Value::from("reporterCode")
            ),
            "{engine}: the row, the field and the column declared by the importer: {report:#}"
        );
        assert!(
            issue["message"].as_str().unwrap().contains("999"),
            "{engine}: {issue}"
        );
        assert_eq!(fingerprint(&db), before, "{engine}: database unchanged");
    }
}

#[test]
fn v1_json_and_legacy_csv_files_import_too() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let element = |partner: u32, cmd: &str, period: &str, value: f64| {
            serde_json::json!({
                "typeCode": "C", "freqCode": if period.len() == 6 { "M" } else { "A" },
                "refYear": 2020, "period": period, "reporterCode": 586, "flowCode": "X",
                "partnerCode": partner, "partner2Code": 0, "classificationCode": "H5",
                "cmdCode": cmd, "customsCode": "C00", "mosCode": "0", "motCode": 0,
                "qtyUnitCode": -1, "qtyUnitAbbr": "N/A", "qty": null,
                "isQtyEstimated": false, "netWgt": null, "isNetWgtEstimated": false,
                "cifvalue": null, "fobvalue": value, "primaryValue": value,
                "legacyEstimationFlag": 0
            })
        };
        let answer = serde_json::json!({
            "elapsedTime": "0.31 secs",
            "count": 2,
            "data": [element(842, "9018", "2020", 500.0), element(156, "61", "202003", 25.5)],
            "error": ""
        });
        let file = scratch(&db, "comtrade answer.json", &answer.to_string());
        let (ok, report) = import(&db, &file);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["importer"], "un-comtrade-v1", "{engine}");
        assert_eq!(report["by_kind"]["trade_flow"]["inserted"], 2, "{engine}");
        assert_eq!(partner_iso3(&db, "9018", 500), "USA", "{engine}");
        assert_eq!(
            db.query_scalar(
                "SELECT period_kind || ' ' || period_start FROM trade_flows \
                 WHERE commodity_code = '61'"
            ),
            "month 2020-03-01",
            "{engine}"
        );

        let legacy = scratch(
            &db,
            "legacy bulk.csv",
            "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,\
             Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,\
             Partner,Partner ISO,Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,\
             Netweight (kg),Trade Value (US$),Flag\n\
             H5,2018,2018,2018,4,0,2,Export,586,Pakistan,PAK,842,USA,USA,9018,Instruments,1,\
             No Quantity,,,777,0\n\
             S3,2018,2018,2018,1,0,1,Import,586,Pakistan,PAK,156,China,CHN,8,Misc,8,\
             Weight in kilograms,10,10,888,0\n",
        );
        let (ok, report) = import(&db, &legacy);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["importer"], "un-comtrade-legacy", "{engine}");
        assert_eq!(report["source"], "un-comtrade", "{engine}");
        assert_eq!(report["by_kind"]["trade_flow"]["inserted"], 2, "{engine}");
        assert_eq!(partner_iso3(&db, "9018", 777), "USA", "{engine}");
        assert_eq!(
            db.query_scalar(
                "SELECT c.code || ' ' || t.flow || ' ' || t.quantity_unit FROM trade_flows t \
                 JOIN classifications c ON c.id = t.classification_id WHERE t.value_usd = 888"
            ),
            "S3 import Weight in kilograms",
            "{engine}: SITC stored under its own classification"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM trade_flows"),
            4,
            "{engine}"
        );
    }
}

/// Comtrade serves each year in the HS revision current then: a 2010 answer is H3 (HS 2007)
/// and a 1995 one H0 (HS 1992). Both import whole, in the API's JSON and the legacy bulk
/// CSV, and their codes are stored under their own revision with chapter, heading and
/// subheading filled.
#[test]
fn history_before_2012_imports_whole_in_the_revision_of_its_year() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let element = |year: u32, classification: &str, partner: u32, cmd: &str, value: f64| {
            serde_json::json!({
                "typeCode": "C", "freqCode": "A", "refYear": year, "period": year.to_string(),
                "reporterCode": 586, "flowCode": "X", "partnerCode": partner,
                "partner2Code": 0, "classificationCode": classification, "cmdCode": cmd,
                "customsCode": "C00", "mosCode": "0", "motCode": 0, "qtyUnitCode": -1,
                "qtyUnitAbbr": "N/A", "qty": null, "isQtyEstimated": false, "netWgt": null,
                "isNetWgtEstimated": false, "cifvalue": null, "fobvalue": value,
                "primaryValue": value, "legacyEstimationFlag": 0
            })
        };
        for (year, classification, name) in [(2010, "H3", "2010 H3"), (1995, "H0", "1995 H0")] {
            let data = vec![
                element(year, classification, 842, "9018", 1000.0 + f64::from(year)),
                element(year, classification, 842, "901890", 600.0 + f64::from(year)),
                element(year, classification, 276, "901831", 300.0 + f64::from(year)),
                element(year, classification, 0, "TOTAL", 9000.0 + f64::from(year)),
            ];
            let answer = serde_json::json!({
                "elapsedTime": "0.2 secs", "count": data.len(), "data": data, "error": ""
            });
            let file = scratch(&db, &format!("comtrade {name}.json"), &answer.to_string());
            let (ok, report) = import(&db, &file);
            assert!(ok, "{engine} {name}: {report:#}");
            assert_eq!(report["status"], "applied", "{engine} {name}: {report:#}");
            assert_eq!(
                report["by_kind"]["trade_flow"]["inserted"], 4,
                "{engine} {name}: {report:#}"
            );
        }
        let legacy = scratch(
            &db,
            "legacy 2007, 1996 and 1993.csv",
            "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,\
             Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,\
             Partner,Partner ISO,Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,\
             Netweight (kg),Trade Value (US$),Flag\n\
             H3,2007,2007,2007,6,1,2,Export,586,Pakistan,PAK,842,USA,USA,901890,Instruments,1,\
             No Quantity,,,2007,0\n\
             H3,2008,2008,2008,6,1,2,Export,586,Pakistan,PAK,826,United Kingdom,GBR,620111,\
             Overcoats,1,No Quantity,,,2008,0\n\
             H1,1996,1996,1996,6,1,2,Export,586,Pakistan,PAK,842,USA,USA,901819,Instruments,1,\
             No Quantity,,,1996,0\n\
             H0,1993,1993,1993,4,0,2,Export,586,Pakistan,PAK,276,Germany,DEU,9018,Instruments,1,\
             No Quantity,,,1993,0\n",
        );
        let (ok, report) = import(&db, &legacy);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["importer"], "un-comtrade-legacy", "{engine}");
        assert_eq!(report["by_kind"]["trade_flow"]["inserted"], 4, "{engine}");

        // Each flow keeps the revision it was reported in, with its code's parts.
        let flow = |value: u64| {
            db.query_scalar(&format!(
                "SELECT c.code || ' ' || t.period_start || ' ' || t.commodity_code || ' ' || \
                 coalesce(t.hs2, '-') || ' ' || coalesce(t.hs4, '-') || ' ' || \
                 coalesce(t.hs6, '-') FROM trade_flows t \
                 JOIN classifications c ON c.id = t.classification_id WHERE t.value_usd = {value}"
            ))
        };
        assert_eq!(flow(3010), "HS2007 2010-01-01 9018 90 9018 -", "{engine}");
        assert_eq!(
            flow(2610),
            "HS2007 2010-01-01 901890 90 9018 901890",
            "{engine}"
        );
        assert_eq!(
            flow(2295),
            "HS1992 1995-01-01 901831 90 9018 901831",
            "{engine}"
        );
        assert_eq!(flow(10995), "HS1992 1995-01-01 TOTAL - - -", "{engine}");
        assert_eq!(
            flow(2007),
            "HS2007 2007-01-01 901890 90 9018 901890",
            "{engine}"
        );
        assert_eq!(
            flow(1996),
            "HS1996 1996-01-01 901819 90 9018 901819",
            "{engine}"
        );
        assert_eq!(flow(1993), "HS1992 1993-01-01 9018 90 9018 -", "{engine}");
        assert_eq!(
            count(&db, "SELECT count(*) FROM trade_flows"),
            12,
            "{engine}"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM import_row_errors"),
            0,
            "{engine}"
        );
    }
}
