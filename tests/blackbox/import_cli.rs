//! `hub import` and `hub importers list` through the command line, on every engine: real
//! XLSX, ODS-free CSV and broken files written by the tests, checked against the database.
//!
//! Every failing import must name the file (and the sheet, row and column where there is
//! one) and leave the database exactly as it was: [`fingerprint`] reads the row count of
//! every table the pipeline writes and the change counter.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;

use crate::support::{TestDb, engines, hub, hub_bare, output};

/// The tables an import writes, and the change counter.
const TABLES: [&str; 12] = [
    "sources",
    "organisations",
    "organisation_source_records",
    "organisation_identifiers",
    "record_links",
    "cluster_memberships",
    "firm_observations",
    "persons",
    "person_source_records",
    "affiliations",
    "import_runs",
    "import_row_errors",
];

fn fingerprint(db: &TestDb) -> String {
    db.fingerprint(&TABLES)
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.count(sql)
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn import(db: &TestDb, file: &Path, args: &[&str]) -> Run {
    let o = output(hub(db).arg("import").arg(file).args(args));
    Run {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn report(db: &TestDb, file: &Path, args: &[&str]) -> (bool, Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = import(db, file, &all);
    let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "--json output is JSON ({e}): {}\n{}",
            run.stdout, run.stderr
        )
    });
    (run.ok, json)
}

/// A firm list as agencies keep them: two title rows, a merged "Employees" header over
/// "Total" and "Female", numbers with thousands separators typed as text, dates as Excel
/// dates and as dd/mm/yyyy text, and empty rows at the end.
fn firm_workbook(path: &Path) {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Firms").unwrap();
    sheet
        .write(0, 0, "Sialkot surgical cluster: firm list")
        .unwrap();
    sheet
        .write(1, 0, "Compiled by the cluster team, March 2023")
        .unwrap();
    let merged = Format::new();
    sheet.merge_range(2, 4, 2, 5, "Employees", &merged).unwrap();
    for (col, header) in ["Survey ID", "Name of Unit", "District", "NTN No."]
        .iter()
        .enumerate()
    {
        sheet.write(2, col as u16, *header).unwrap();
    }
    sheet.write(3, 4, "Total").unwrap();
    sheet.write(3, 5, "Female").unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write(2, 6, "Registered").unwrap();
    let rows: [(&str, &str, &str, &str, &str, u32); 3] = [
        (
            "DS-1",
            "Abid Medi-Tech",
            "Sialkot",
            "1234567-1",
            "1,250",
            80,
        ),
        (
            "DS-2",
            "Crescent Surgical (Pvt) Ltd",
            "SIALKOT ",
            "",
            "35",
            4,
        ),
        ("DS-3", "Noor Instruments", " sialkot", "7654321-0", "12", 0),
    ];
    for (i, (id, name, district, ntn, total, female)) in rows.iter().enumerate() {
        let r = 4 + i as u32;
        sheet.write(r, 0, *id).unwrap();
        sheet.write(r, 1, *name).unwrap();
        sheet.write(r, 2, *district).unwrap();
        sheet.write(r, 3, *ntn).unwrap();
        sheet.write(r, 4, *total).unwrap();
        sheet.write(r, 5, *female).unwrap();
    }
    let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2019, 3, 15).unwrap();
    sheet.write_with_format(4, 6, &day, &date).unwrap();
    sheet.write(5, 6, "30/05/2017").unwrap();
    // Blank trailing rows with stray formatting.
    sheet.write_blank(20, 0, &date).unwrap();
    book.save(path).unwrap();
}

fn scratch(db: &TestDb, name: &str) -> PathBuf {
    db.data_path().join(name)
}

#[test]
fn a_firm_workbook_imports_and_a_second_import_changes_nothing() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "firms 2023.xlsx");
        firm_workbook(&file);

        let (ok, first) = report(&db, &file, &["--source", "cdi-survey-test"]);
        assert!(ok, "{engine}: {first:#}");
        assert_eq!(first["status"], "applied", "{engine}: {first:#}");
        assert_eq!(first["rows_read"], 3, "{engine}");
        assert_eq!(first["by_kind"]["organisation"]["inserted"], 3, "{engine}");
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM organisations WHERE employees_total = 1250 \
                        AND employees_female = 80 AND name = 'Abid Medi-Tech'"
            ),
            1,
            "{engine}: thousand separators and the merged header"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM organisation_source_records \
                        WHERE district_id IS NOT NULL AND source_ref LIKE 'firms 2023.xlsx!Firms!R%'"
            ),
            3,
            "{engine}: districts as clerks write them, with the place of every record"
        );
        let run = first["run_id"].as_i64().unwrap();
        assert_eq!(
            db.query_scalar(&format!(
                "SELECT importer_id || ' ' || status || ' ' || inserted || ' ' || rows_read \
                 FROM import_runs WHERE id = {run}"
            )),
            format!("spreadsheet applied {} 3", first["totals"]["inserted"]),
            "{engine}"
        );
        let before = fingerprint(&db);

        let (ok, second) = report(&db, &file, &["--source", "cdi-survey-test"]);
        assert!(ok, "{engine}: {second:#}");
        assert_eq!(second["totals"]["inserted"], 0, "{engine}: {second:#}");
        assert_eq!(second["totals"]["updated"], 0, "{engine}: {second:#}");
        // The second run is recorded, and nothing else changed.
        let after = fingerprint(&db);
        let strip_runs = |f: &str| f.rsplitn(3, ',').nth(2).unwrap().to_owned();
        assert_eq!(strip_runs(&after), strip_runs(&before), "{engine}");

        // The human summary names the counts.
        let text = import(&db, &file, &["--source", "cdi-survey-test", "--dry-run"]);
        assert!(text.ok, "{engine}: {}", text.stderr);
        assert!(text.stdout.contains("dry run"), "{engine}: {}", text.stdout);
        assert!(
            text.stdout.contains("organisation"),
            "{engine}: {}",
            text.stdout
        );
    }
}

/// Each broken input: the file, what the error must mention, and the extra arguments.
fn broken_inputs(dir: &Path) -> Vec<(PathBuf, Vec<&'static str>, Vec<&'static str>)> {
    let mut cases = Vec::new();

    let corrupt = dir.join("corrupt.xlsx");
    let mut bytes = Vec::new();
    let good = dir.join("good.xlsx");
    firm_workbook(&good);
    bytes.extend_from_slice(&fs::read(&good).unwrap()[..600]);
    fs::write(&corrupt, bytes).unwrap();
    cases.push((corrupt, vec!["corrupt.xlsx"], vec![]));

    let protected = dir.join("protected.xlsx");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/blackbox/fixtures/password_protected.xlsx"),
        &protected,
    )
    .unwrap();
    cases.push((protected, vec!["protected.xlsx", "password"], vec![]));

    let empty = dir.join("empty.csv");
    fs::write(&empty, b"").unwrap();
    cases.push((empty, vec!["empty.csv", "empty"], vec![]));

    let pdf = dir.join("report.xlsx");
    fs::write(
        &pdf,
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    )
    .unwrap();
    cases.push((pdf, vec!["report.xlsx"], vec![]));

    let no_name = dir.join("no_name.csv");
    fs::write(
        &no_name,
        "Survey ID,District,NTN No.\nDS-1,Sialkot,1234567-1\n",
    )
    .unwrap();
    cases.push((no_name, vec!["no_name.csv", "name"], vec![]));

    let types = dir.join("types.csv");
    fs::write(
        &types,
        "Survey ID,Name of Unit,District,Total Employees\n\
         DS-1,Abid Medi-Tech,Sialkot,12\n\
         DS-2,Noor Instruments,Sialkot,twelve\n",
    )
    .unwrap();
    cases.push((types, vec!["types.csv", "R3", "Total Employees"], vec![]));

    let dups = dir.join("dups.csv");
    fs::write(
        &dups,
        "Survey ID,Name of Unit,District\n\
         DS-1,Abid Medi-Tech,Sialkot\n\
         DS-1,Noor Instruments,Sialkot\n",
    )
    .unwrap();
    cases.push((dups, vec!["dups.csv", "R3", "duplicate_key"], vec![]));

    let district = dir.join("district.csv");
    fs::write(
        &district,
        "Survey ID,Name of Unit,District\nDS-1,Abid Medi-Tech,Atlantis\n",
    )
    .unwrap();
    cases.push((district, vec!["district.csv", "R2", "Atlantis"], vec![]));

    let mapping = dir.join("wrong.toml");
    fs::write(
        &mapping,
        "[[sheets]]\ntarget = \"firms\"\n[sheets.columns]\n\"Firm Title\" = \"firm.name\"\n",
    )
    .unwrap();
    let mapped = dir.join("mapped.csv");
    fs::write(&mapped, "Survey ID,Name of Unit\nDS-1,Abid\n").unwrap();
    cases.push((
        mapped,
        vec!["mapped.csv", "Firm Title"],
        vec!["--mapping", "wrong.toml"],
    ));
    cases
}

#[test]
fn broken_files_get_a_clear_error_and_leave_the_database_unchanged() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let before = fingerprint(&db);
        for (file, needles, args) in broken_inputs(db.data_path()) {
            let run = import(&db, &file, &args);
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            assert!(!run.ok, "{engine} {name}: must fail\n{}", run.stdout);
            let message = format!("{}{}", run.stdout, run.stderr);
            for needle in needles {
                assert!(
                    message.contains(needle),
                    "{engine} {name}: the error should mention {needle:?}:\n{message}"
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

#[test]
fn a_large_csv_with_one_bad_row_near_its_end_is_refused_whole() {
    // About 100 MB: 20,000 rows of 5 KB (a long address), one bad NTN at row 19,990.
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "big.csv");
        let mut text = String::with_capacity(105 << 20);
        text.push_str("Survey ID,Name of Unit,District,NTN No.,Address\n");
        let address = "Small Industrial Estate, Sialkot ".repeat(160);
        for i in 1..=20_000u32 {
            let ntn = if i == 19_989 {
                "12".to_owned()
            } else {
                format!("{:07}-{}", i, i % 10)
            };
            writeln!(text, "B-{i},Firm {i},Sialkot,{ntn},\"{address}\"").unwrap();
        }
        fs::write(&file, &text).unwrap();
        drop(text);
        assert!(fs::metadata(&file).unwrap().len() > 100_000_000);
        let before = fingerprint(&db);
        let run = import(&db, &file, &[]);
        assert!(!run.ok, "{engine}: {}", run.stdout);
        assert!(
            run.stderr.contains("big.csv!R19990!C:NTN No.") && run.stderr.contains("PK-NTN"),
            "{engine}: names file, row and field:\n{}",
            run.stderr
        );
        assert_eq!(fingerprint(&db), before, "{engine}");
    }
}

#[test]
fn allow_partial_applies_the_valid_rows_and_records_the_rejected() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "partial.csv");
        fs::write(
            &file,
            "Survey ID,Name of Unit,District,NTN No.\n\
             P-1,Good One,Lahore,1234567-1\n\
             P-2,Bad NTN,Lahore,99\n\
             P-3,Good Two,Lahore,\n",
        )
        .unwrap();
        let (ok, refused) = report(&db, &file, &[]);
        assert!(!ok, "{engine}");
        assert_eq!(refused["status"], "failed", "{engine}");
        assert_eq!(refused["rejected"], 1, "{engine}");
        let issue = &refused["issues"][0];
        assert_eq!(issue["row"], 3, "{engine}: {issue}");
        assert_eq!(issue["column"], "NTN No.", "{engine}: {issue}");

        let (ok, partial) = report(&db, &file, &["--allow-partial"]);
        assert!(ok, "{engine}: {partial:#}");
        assert_eq!(partial["status"], "partial", "{engine}");
        assert_eq!(
            partial["by_kind"]["organisation"]["inserted"], 2,
            "{engine}"
        );
        let run = partial["run_id"].as_i64().unwrap();
        assert_eq!(
            db.query_scalar(&format!(
                "SELECT status || ' ' || rejected || ' ' || \
                 (SELECT row_number || ' ' || column_name FROM import_row_errors WHERE import_run_id = {run}) \
                 FROM import_runs WHERE id = {run}"
            )),
            "partial 1 3 NTN No.",
            "{engine}"
        );
        // The message names the field, never the value.
        assert!(
            !db.query("SELECT message FROM import_row_errors")
                .contains("99"),
            "{engine}"
        );
    }
}

#[test]
fn importers_are_listed_and_a_suggested_mapping_imports_the_same() {
    let list = output(hub_bare().args(["importers", "list"]));
    assert!(list.status.success());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("spreadsheet"), "{text}");
    assert!(text.contains("xlsx"), "{text}");

    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "firms.xlsx");
        firm_workbook(&file);
        let before = fingerprint(&db);
        let suggested = output(hub(&db).arg("import").arg(&file).arg("--suggest-mapping"));
        assert!(suggested.status.success(), "{engine}");
        let mapping = String::from_utf8_lossy(&suggested.stdout).into_owned();
        assert!(mapping.contains("Name of Unit"), "{engine}: {mapping}");
        let mapping_file = scratch(&db, "firms.mapping.toml");
        fs::write(&mapping_file, &mapping).unwrap();
        assert_eq!(
            fingerprint(&db),
            before,
            "{engine}: suggesting writes nothing"
        );

        let (ok, with_mapping) = report(
            &db,
            &file,
            &[
                "--mapping",
                mapping_file.to_str().unwrap(),
                "--source",
                "s1",
            ],
        );
        assert!(ok, "{engine}: {with_mapping:#}");
        let (ok, without) = report(&db, &file, &["--source", "s2"]);
        assert!(ok, "{engine}: {without:#}");
        assert_eq!(with_mapping["by_kind"], without["by_kind"], "{engine}");
        // The two sources' records of DS-1 and DS-3 share an NTN and are one firm each;
        // DS-2 has no identifier: its two records agree on name and place and link by
        // score (record linkage), so three firms in all.
        assert_eq!(
            count(&db, "SELECT count(*) FROM organisations"),
            3,
            "{engine}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM record_links WHERE method = 'score' AND status = 'active'"
            ),
            1,
            "{engine}"
        );
    }
}

#[test]
fn a_plain_name_column_is_suggested_as_the_firms_name_and_imports() {
    let engine = engines()[0];
    let db = TestDb::fresh(engine);
    let file = scratch(&db, "web_list.csv");
    fs::write(
        &file,
        "name,District,NTN No.\nAlpha Surgical,Sialkot,1234567-8\nBeta Instruments,Sialkot,\n",
    )
    .unwrap();
    let suggested = output(hub(&db).arg("import").arg(&file).arg("--suggest-mapping"));
    assert!(suggested.status.success(), "{engine}");
    let mapping = String::from_utf8_lossy(&suggested.stdout).into_owned();
    assert!(
        mapping.contains("\"name\" = \"firm.name\""),
        "{engine}: {mapping}"
    );
    let mapping_file = scratch(&db, "web_list.mapping.toml");
    fs::write(&mapping_file, &mapping).unwrap();
    let (ok, report) = report(
        &db,
        &file,
        &[
            "--mapping",
            mapping_file.to_str().unwrap(),
            "--source",
            "web",
        ],
    );
    assert!(ok, "{engine}: {report:#}");
    assert_eq!(
        db.query("SELECT name FROM organisations ORDER BY name"),
        "Alpha Surgical\nBeta Instruments",
        "{engine}"
    );
}

/// What reaches a log file is plain text a person reads: no colour codes when stderr is not
/// a terminal (nor with `NO_COLOR`), and no migrator chatter at the info level outside
/// `hub migrate`, while the import itself is still logged.
#[test]
fn logs_to_a_file_are_plain_text_without_migration_chatter() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = scratch(&db, "firms.xlsx");
        firm_workbook(&file);
        let o = output(
            hub(&db)
                .env("HUB__LOG__FILTER", "info")
                .arg("import")
                .arg(&file),
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{engine}: {stderr}");
        assert!(stderr.contains("import applied"), "{engine}: {stderr}");
        assert!(
            !stderr.contains('\u{1b}'),
            "{engine}: escape codes in {stderr:?}"
        );
        assert!(
            !stderr.to_lowercase().contains("pending migrations"),
            "{engine}: {stderr}"
        );
        let o = output(hub(&db).env("HUB__LOG__FILTER", "info").arg("migrate"));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{engine}");
        assert!(
            stdout.contains("database is up to date"),
            "{engine}: {stdout}"
        );
    }
}
