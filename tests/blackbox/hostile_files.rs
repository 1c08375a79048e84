//! Hostile and unlucky files through `hub import`, on every engine: files bounded before
//! they are expanded (a workbook that unpacks past `import.max_expanded_bytes`, a sheet of
//! too many rows, a value and a line too long), and text files that mix encodings. Each is
//! refused (or its rows are) with a message naming the bound, within the memory bound,
//! leaving the database unchanged. The bounds are set small where the real sizes would
//! make the test slow; `tools/bench-hostile` measures the real sizes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{TestDb, engines, hub, output_with_peak_rss};

/// Every hostile file is refused within this peak resident memory of `hub import`.
const PEAK_RSS_BOUND: u64 = 512 << 20;

/// The tables an import writes, and the change counter.
const TABLES: [&str; 6] = [
    "sources",
    "organisations",
    "organisation_source_records",
    "organisation_identifiers",
    "import_runs",
    "import_row_errors",
];

fn scratch(db: &TestDb, name: &str) -> PathBuf {
    db.data_path().join(name)
}

/// Runs `hub import FILE --json ARGS` with the environment `env`: its report, its output
/// and its peak memory, checked against [`PEAK_RSS_BOUND`].
fn import(db: &TestDb, file: &Path, args: &[&str], env: &[(&str, &str)]) -> (Value, Output) {
    let mut cmd = hub(db);
    cmd.arg("import").arg(file).arg("--json").args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let (out, peak) = output_with_peak_rss(&mut cmd);
    assert!(
        peak < PEAK_RSS_BOUND,
        "{}: peak RSS {} MiB",
        file.display(),
        peak >> 20
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (report, out)
}

#[test]
fn a_workbook_that_unpacks_past_the_bound_is_refused_unread() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "firms.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_row(0, 0, ["Name of Unit", "District"]).unwrap();
        for row in 1..40_000u32 {
            sheet
                .write_row(
                    row,
                    0,
                    [format!("Sialkot Surgical Works {row}"), "Sialkot".into()],
                )
                .unwrap();
        }
        book.save(&file).unwrap();
        let before = db.fingerprint(&TABLES);
        let (report, out) = import(
            &db,
            &file,
            &[],
            &[("HUB__IMPORT__MAX_EXPANDED_BYTES", "2097152")],
        );
        assert!(!out.status.success(), "{engine}");
        assert_eq!(report["status"], "failed", "{engine}");
        let error = report["error"].as_str().unwrap();
        assert!(
            error.contains("unpacks to more than 2 MiB")
                && error.contains("import.max_expanded_bytes")
                && error.contains("firms.xlsx"),
            "{engine}: {error}"
        );
        assert_eq!(report["rows_read"], 0, "{engine}");
        assert_eq!(db.fingerprint(&TABLES), before, "{engine}");

        // Within the default bound the same workbook imports.
        let (report, out) = import(&db, &file, &["--dry-run"], &[]);
        assert!(out.status.success(), "{engine}: {report:#}");
        assert_eq!(report["rows_read"], 39_999, "{engine}");
    }
}

#[test]
fn a_sheet_of_too_many_rows_is_refused_naming_the_bound() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "firms.csv");
        let mut csv = String::from("Name of Unit,District\n");
        for row in 1..=120 {
            csv.push_str(&format!("Firm {row},Lahore\n"));
        }
        fs::write(&file, csv).unwrap();
        let before = db.fingerprint(&TABLES);
        let (report, out) = import(
            &db,
            &file,
            &[],
            &[("HUB__IMPORT__MAX_ROWS_PER_SHEET", "100")],
        );
        assert!(!out.status.success(), "{engine}");
        let error = report["error"].as_str().unwrap();
        assert!(
            error.contains("firms.csv!R101") && error.contains("more than 100 rows"),
            "{engine}: {error}"
        );
        assert!(error.contains("import.max_rows_per_sheet"), "{engine}");
        assert_eq!(db.fingerprint(&TABLES), before, "{engine}");
    }
}

#[test]
fn a_value_or_row_over_the_bound_is_a_row_error_and_a_header_over_it_fails_the_file() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        // A 1 MiB firm name among good rows (the default bound is 64 KiB), and a 5 MiB row
        // (the default line bound is 4 MiB).
        let file = scratch(&db, "firms.csv");
        let long = "N".repeat(1 << 20);
        let row = "x,".repeat(5 << 19);
        fs::write(
            &file,
            format!(
                "Name of Unit,District\nAlpha Surgical,Sialkot\n{long},Sialkot\n{row}\nGamma Surgical,Sialkot\n"
            ),
        )
        .unwrap();
        let before = db.fingerprint(&TABLES);
        let (report, out) = import(&db, &file, &[], &[]);
        assert!(!out.status.success(), "{engine}");
        assert_eq!(report["status"], "failed", "{engine}");
        assert_eq!(report["rejected"], 2, "{engine}");
        let issues = report["issues"].as_array().unwrap();
        let value = &issues[0];
        assert_eq!(value["row"], 3, "{engine}: {value}");
        assert_eq!(value["column"], "Name of Unit", "{engine}");
        assert_eq!(value["code"], "value_too_long", "{engine}");
        let message = value["message"].as_str().unwrap();
        assert!(
            message.contains("1 MiB") && message.contains("import.max_field_bytes"),
            "{engine}: {message}"
        );
        assert!(
            !message.contains("NNNN"),
            "{engine}: the value is not quoted"
        );
        assert_eq!(issues[1]["row"], 4, "{engine}");
        assert_eq!(issues[1]["code"], "row_too_long", "{engine}");
        assert_eq!(db.fingerprint(&TABLES), before, "{engine}");

        // With --allow-partial the two good rows are applied, and nothing of the others.
        let (report, out) = import(&db, &file, &["--allow-partial"], &[]);
        assert!(out.status.success(), "{engine}: {report:#}");
        assert_eq!(
            db.query("SELECT name FROM organisations ORDER BY name"),
            "Alpha Surgical\nGamma Surgical",
            "{engine}"
        );
        assert!(
            db.count("SELECT max(length(name)) FROM organisations") < 100,
            "{engine}"
        );

        // A 50 MB header without a line end: the file is refused at row 1, unread.
        let header = scratch(&db, "header.csv");
        let mut big = Vec::with_capacity(50 << 20);
        while big.len() < 50 << 20 {
            big.extend_from_slice(b"Name of Unit,District,");
        }
        fs::write(&header, &big).unwrap();
        let before = db.fingerprint(&TABLES);
        let (report, out) = import(&db, &header, &[], &[]);
        assert!(!out.status.success(), "{engine}");
        let error = report["error"].as_str().unwrap();
        assert!(
            error.contains("header.csv!R1:")
                && error.contains("the header row cannot be read")
                && error.contains("import.max_line_bytes"),
            "{engine}: {error}"
        );
        assert_eq!(db.fingerprint(&TABLES), before, "{engine}");
    }
}

#[test]
fn a_file_that_mixes_encodings_is_not_garbled() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        // UTF-8 except one Windows-1252 byte on the last of 5,001 rows.
        let file = scratch(&db, "firms.csv");
        let mut csv = b"Name of Unit,District\n".to_vec();
        for i in 1..5000 {
            csv.extend(format!("Caf\u{e9} Works {i},Lahore\n").as_bytes());
        }
        csv.extend(b"Caf\xE9 Last,Lahore\n");
        fs::write(&file, &csv).unwrap();
        let before = db.fingerprint(&TABLES);
        let (report, out) = import(&db, &file, &[], &[]);
        assert!(!out.status.success(), "{engine}");
        assert_eq!(report["rejected"], 1, "{engine}");
        assert_eq!(report["warnings"], 1, "{engine}");
        let issues = report["issues"].as_array().unwrap();
        let warning = issues.iter().find(|i| i["severity"] == "warning").unwrap();
        assert_eq!(warning["code"], "mixed_encoding", "{engine}");
        assert!(
            warning["message"]
                .as_str()
                .unwrap()
                .contains("mixes encodings"),
            "{engine}: {warning}"
        );
        let error = issues.iter().find(|i| i["severity"] == "error").unwrap();
        assert_eq!(error["row"], 5001, "{engine}: {error}");
        assert_eq!(error["code"], "mixed_encoding", "{engine}");
        assert_eq!(db.fingerprint(&TABLES), before, "{engine}");

        let (report, out) = import(&db, &file, &["--allow-partial"], &[]);
        assert!(out.status.success(), "{engine}: {report:#}");
        assert_eq!(
            db.count("SELECT count(*) FROM organisations WHERE name LIKE 'Café Works %'"),
            4999,
            "{engine}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM organisations WHERE name LIKE '%Ã%'"),
            0,
            "{engine}: garbled names"
        );
        assert_eq!(db.count("SELECT count(*) FROM organisations"), 4999);
    }
}
