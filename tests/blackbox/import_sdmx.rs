//! `hub import` of trade statistics on every engine: a WITS SDMX-JSON response, SDMX-CSV
//! 1.0 and 2.x files, a table of the Pakistan Bureau of Statistics, and the SDMX
//! exchange-rate samples, which are no trade statistics and must leave the database as it
//! was. The files are the importers' samples (`importers/samples/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{TestDb, engines, hub, output};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../importers/samples")
        .join(name)
}

/// The change counter and the row counts of the tables a trade import writes.
fn fingerprint(db: &TestDb) -> String {
    let mut sql = String::from("SELECT (SELECT last_seq FROM change_counter)");
    for t in [
        "sources",
        "trade_flows",
        "classifications",
        "countries",
        "comtrade_areas",
        "import_runs",
        "import_row_errors",
    ] {
        write!(sql, " || ',' || (SELECT count(*) FROM {t})").unwrap();
    }
    db.query_scalar(&sql)
}

/// Runs `hub import FILE --json ARGS`: whether it succeeded, and its report.
fn import(db: &TestDb, file: &Path, args: &[&str]) -> (bool, Value, String) {
    let o = output(hub(db).arg("import").arg(file).arg("--json").args(args));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("--json output is JSON ({e}): {stdout}\n{stderr}"));
    (o.status.success(), report, stderr)
}

/// A single value of `sql`, which joins `trade_flows t` to its source `s`, partner `p`,
/// reporter `r` and classification `c`.
fn flow_value(db: &TestDb, what: &str, condition: &str) -> String {
    db.query_scalar(&format!(
        "SELECT {what} FROM trade_flows t \
         JOIN sources s ON s.id = t.source_id \
         JOIN countries p ON p.id = t.partner_id \
         JOIN countries r ON r.id = t.reporter_id \
         JOIN classifications c ON c.id = t.classification_id \
         WHERE {condition}"
    ))
}

#[test]
fn a_wits_response_imports_in_dollars_to_the_world_under_wits_product_groups() {
    let file = sample("sdmx/wits-tradestats-pak.json");
    for engine in engines() {
        let db = TestDb::fresh(engine);
        assert_eq!(
            db.query_scalar(
                "SELECT count(*) FROM classifications WHERE code = 'WITS-PRODUCT-GROUPS'"
            ),
            "0",
            "{engine}"
        );
        let (ok, report, stderr) = import(&db, &file, &["--source", "wits"]);
        assert!(ok, "{engine}: {report:#}\n{stderr}");
        assert_eq!(report["importer"], "sdmx-json", "{engine}");
        assert_eq!(report["source"], "wits", "{engine}");
        assert_eq!(
            report["by_kind"]["trade_flow"]["inserted"], 6,
            "{engine}: {report:#}"
        );
        assert_eq!(
            flow_value(&db, "count(*)", "s.code = 'wits' AND r.iso3 = 'PAK'"),
            "6",
            "{engine}"
        );
        // Thousands of dollars, kept as given next to plain dollars.
        assert_eq!(
            flow_value(
                &db,
                "CAST(ROUND(t.value_usd) AS BIGINT) || ' ' || t.original_value || ' ' || \
                 t.original_currency || ' ' || t.original_unit_multiplier || ' ' || \
                 t.period_kind || ' ' || c.kind",
                "t.commodity_code = '64-67_Footwear' AND t.flow = 'export' \
                 AND p.iso3 = 'W00' AND t.period_start = '2021-01-01' \
                 AND c.code = 'WITS-PRODUCT-GROUPS'"
            ),
            "150000500 150000.5 USD 3 year product_group",
            "{engine}"
        );
        assert_eq!(
            flow_value(
                &db,
                "count(*)",
                "t.commodity_code = 'TOTAL' AND t.aggregate_level = 0 AND p.iso3 = 'W00'"
            ),
            "2",
            "{engine}: WITS's all products are TOTAL"
        );
        assert_eq!(
            flow_value(&db, "count(*)", "p.iso3 = 'USA'"),
            "1",
            "{engine}"
        );
        assert_eq!(
            flow_value(
                &db,
                "CAST(ROUND(t.value_usd) AS BIGINT)",
                "t.flow = 'import' AND t.period_start = '2022-01-01'"
            ),
            "22000750",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar(
                "SELECT count(*) FROM classifications WHERE code = 'WITS-PRODUCT-GROUPS'"
            ),
            "1",
            "{engine}: created on first use"
        );

        // Again: nothing changes.
        let (ok, again, _) = import(&db, &file, &["--source", "wits"]);
        assert!(ok, "{engine}: {again:#}");
        assert_eq!(again["totals"]["inserted"], 0, "{engine}: {again:#}");
        assert_eq!(again["totals"]["updated"], 0, "{engine}: {again:#}");
    }
}

#[test]
fn sdmx_csv_files_import_with_hs_codes_periods_and_decimal_commas() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let (ok, report, stderr) =
            import(&db, &sample("sdmx/trade-2x.csv"), &["--source", "un-sdmx"]);
        assert!(ok, "{engine}: {report:#}\n{stderr}");
        assert_eq!(report["importer"], "sdmx-csv", "{engine}");
        assert_eq!(
            report["by_kind"]["trade_flow"]["inserted"], 3,
            "{engine}: {report:#}"
        );
        assert_eq!(
            flow_value(
                &db,
                "CAST(ROUND(t.value_usd) AS BIGINT) || ' ' || t.hs4 || ' ' || c.code",
                "s.code = 'un-sdmx' AND p.iso3 = 'USA'"
            ),
            "312500000 9018 HS2017",
            "{engine}"
        );
        assert_eq!(
            flow_value(
                &db,
                "count(*)",
                "t.is_value_estimated AND t.flags = 'E' AND p.iso3 = 'W00'"
            ),
            "1",
            "{engine}"
        );
        assert_eq!(
            flow_value(
                &db,
                "t.period_kind || ' ' || t.period_start || ' ' || t.hs4",
                "t.commodity_code = '6403'"
            ),
            "month 2023-03-01 6403",
            "{engine}"
        );

        let (ok, report, stderr) = import(
            &db,
            &sample("sdmx/trade-1.0-semicolon.csv"),
            &["--source", "estat-sdmx"],
        );
        assert!(ok, "{engine}: {report:#}\n{stderr}");
        assert_eq!(
            report["by_kind"]["trade_flow"]["inserted"], 2,
            "{engine}: {report:#}"
        );
        assert_eq!(
            flow_value(
                &db,
                "CAST(ROUND(t.value_usd) AS BIGINT) || ' ' || t.flow || ' ' || c.code",
                "s.code = 'estat-sdmx' AND t.commodity_code = '61'"
            ),
            "1234500 import ESTAT:DS-TRADE",
            "{engine}"
        );
    }
}

#[test]
fn the_hub_s_own_errors_name_the_sdmx_column() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = db.data_path().join("iso2.csv");
        std::fs::write(
            &file,
            "DATAFLOW,REF_AREA,COUNTERPART_AREA,PRODUCT,FLOW,TIME_PERIOD,OBS_VALUE\n\
             IMF:DOT(1.0),QQ,US,TOTAL,X,2022,5\n",
        )
        .unwrap();
        let before = fingerprint(&db);
        let (ok, report, _) = import(&db, &file, &["--source", "imf"]);
        assert!(!ok, "{engine}: {report:#}");
        let issue = &report["issues"][0];
        assert_eq!(issue["row"], 2, "{engine}: {issue}");
        assert_eq!(issue["field"], "reporter", "{engine}: {issue}");
        assert_eq!(issue["column"], "REF_AREA", "{engine}: {issue}");
        assert_eq!(fingerprint(&db), before, "{engine}");
    }
}

#[test]
fn a_bureau_table_imports_fiscal_years_under_its_own_groups() {
    let file = sample("pbs/exports-by-commodity-2023-24.csv");
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let (ok, report, stderr) = import(&db, &file, &[]);
        assert!(ok, "{engine}: {report:#}\n{stderr}");
        assert_eq!(report["importer"], "pk-pbs-trade", "{engine}");
        assert_eq!(report["source"], "pk-pbs", "{engine}");
        assert_eq!(
            report["by_kind"]["trade_flow"]["inserted"], 21,
            "{engine}: {report:#}"
        );
        assert_eq!(
            flow_value(
                &db,
                "count(*)",
                "c.code = 'PK-PBS-GROUPS' AND t.period_kind = 'fiscal_year' \
                 AND r.iso3 = 'PAK' AND p.iso3 = 'W00' AND t.flow = 'export'"
            ),
            "14",
            "{engine}"
        );
        assert_eq!(
            flow_value(
                &db,
                "t.period_start || ' ' || t.period_end || ' ' || \
                 CAST(ROUND(t.value_usd) AS BIGINT) || ' ' || t.original_value || ' ' || \
                 t.original_currency || ' ' || t.original_unit_multiplier || ' ' || \
                 CAST(t.quantity AS BIGINT) || ' ' || t.quantity_unit",
                "t.commodity_code = 'knitwear' AND t.period_kind = 'fiscal_year' \
                 AND t.period_start = '2023-07-01'"
            ),
            "2023-07-01 2024-06-30 5102300000 1455210.5 PKR 6 151234 Th. Doz",
            "{engine}"
        );
        assert_eq!(
            flow_value(
                &db,
                "t.period_kind || ' ' || CAST(ROUND(t.value_usd) AS BIGINT)",
                "t.commodity_code = 'surgical-goods-medical-instruments' \
                 AND t.period_start = '2024-06-01'"
            ),
            "month 38910000",
            "{engine}"
        );
        assert_eq!(
            flow_value(&db, "count(*)", "t.commodity_code = 'TOTAL'"),
            "3",
            "{engine}"
        );
        assert_eq!(
            db.query_scalar("SELECT count(*) FROM classifications WHERE code = 'PK-PBS-GROUPS'"),
            "1",
            "{engine}"
        );
    }
}

#[test]
fn the_exchange_rate_samples_are_refused_as_no_trade_statistics() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let before = fingerprint(&db);
        for name in [
            "sdmx-csv-2x-example1.csv",
            "sdmx-json-exr-flat.json",
            "sdmx-json-exr-time-series.json",
            "sdmx-json-exr-cross-section.json",
        ] {
            let (ok, report, stderr) = import(&db, &sample(name), &["--source", "ecb"]);
            assert!(!ok, "{engine} {name}: must fail: {report:#}");
            assert_eq!(report["status"], "failed", "{engine} {name}");
            let error = report["error"].as_str().unwrap_or_default();
            for needle in [
                name,
                "this SDMX message is not trade statistics",
                "no dimension for the partner (expected one of PARTNER, COUNTERPART_AREA)",
            ] {
                assert!(
                    error.contains(needle),
                    "{engine} {name}: {needle:?} in {error}\n{stderr}"
                );
            }
            assert_eq!(
                fingerprint(&db),
                before,
                "{engine} {name}: database unchanged"
            );
        }
    }
}
