//! The registry exports of the Punjab Small Industries Corporation through `hub import`,
//! on every engine: units, plot allotments and loans written by the test, picked by their
//! content (no `--importer`), checked against the database.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{TestDb, engines, hub, output};

/// The tables a registry import writes, and the change counter.
const TABLES: [&str; 14] = [
    "organisations",
    "organisation_source_records",
    "organisation_identifiers",
    "firm_observations",
    "persons",
    "person_source_records",
    "affiliations",
    "industrial_estates",
    "plots",
    "plot_allotments",
    "loans",
    "import_runs",
    "import_row_errors",
    "sources",
];

fn fingerprint(db: &TestDb) -> String {
    db.fingerprint(&TABLES)
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.count(sql)
}

/// `hub import FILE --json ARGS`: whether it succeeded, and the report.
fn report(db: &TestDb, file: &Path, args: &[&str]) -> (bool, Value) {
    let o = output(hub(db).arg("import").arg(file).arg("--json").args(args));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "--json output is JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.success(), json)
}

fn write(db: &TestDb, name: &str, text: &str) -> PathBuf {
    let path = db.data_path().join(name);
    fs::write(&path, text).unwrap();
    path
}

const UNITS_HEADER: &str = "Unit No,Unit Name,Owner Name,Owner CNIC,NTN,Address,District,\
                            Tehsil,Industry Code,Employees,Registration Date,Status\n";

/// Four units: one with the NTN of a survey firm, two with one owner, one in a tehsil the
/// admin areas do not know.
const UNITS: &str = "\
SKT-00001,ALPHA SURGICAL WORKS,Rukhsana Bibi,34603-2345678-2,1234567-8,Small Industrial Estate,SIALKOT,Sialkot,32501,12,15/03/2019,Active\n\
SKT-00002,Beta Instruments,Rukhsana Bibi,34603-2345678-2,,Daska Road,Sialkot,Sambrial,32501,30,01/02/2020,Active\n\
LHR-00003,Gamma Auto Parts,Tariq Mehmood,35202-8765432-1,7654321-0,Kot Lakhpat,LAHORE,Atlantis Town,29301,8,05/06/2021,Inactive\n";

/// A unit in a district that does not exist.
const UNKNOWN_DISTRICT: &str = "\
LHR-00004,Delta Leather,Nasir Ali,35202-1122334-5,,,Atlantis,,15201,5,01/01/2022,Active\n";

const ALLOTMENTS: &str = "\
Estate,Plot No,Unit No,Allotment Date,Status\n\
Small Industrial Estate Sialkot,A-1,SKT-00001,01/02/2020,Allotted\n\
Small Industrial Estate Sialkot,A-2,,,Vacant\n\
Small Industrial Estate Kot Lakhpat Lahore,137,LHR-00003,05/06/2021,Allotted\n";

const LOANS: &str = "\
Loan No,Scheme,Borrower Name,Borrower CNIC,Unit No,Amount (PKR),Sanction Date,Disbursement Date,District\n\
CDL-2021-001,Cluster Development Loan,Rukhsana Bibi,34603-2345678-2,SKT-00002,\"250,000\",30/03/2021,28/05/2021,Sialkot\n\
CIL-2022-001,Cottage Industry Loan,Shahid Iqbal,35202-5566778-9,,50000,01/01/2022,,Lahore\n";

/// The personal values of the files above, which no output may show.
const PERSONAL: [&str; 10] = [
    "Rukhsana", "Tariq", "Nasir", "Shahid", "2345678", "8765432", "1122334", "5566778", "Bibi",
    "Mehmood",
];

fn assert_no_personal_values(db: &TestDb, what: &str, text: &str) {
    for value in PERSONAL {
        assert!(
            !text.contains(value),
            "{what}: a personal value in:\n{text}"
        );
    }
    let stored = db.query("SELECT message FROM import_row_errors");
    for value in PERSONAL {
        assert!(
            !stored.contains(value),
            "{what}: a personal value in:\n{stored}"
        );
    }
}

#[test]
fn registry_exports_link_to_firms_and_persons_and_reimport_unchanged() {
    for engine in engines() {
        let db = TestDb::fresh(engine);

        // A survey firm with the NTN of the first unit, under another source.
        let survey = write(
            &db,
            "survey.csv",
            "Survey ID,Name of Unit,District,NTN No.\nDS-1,Alpha Surgical Works,Sialkot,1234567-8\n",
        );
        let (ok, first) = report(&db, &survey, &["--source", "s1"]);
        assert!(ok, "{engine}: {first:#}");
        assert_eq!(first["importer"], "spreadsheet", "{engine}");

        // An unknown district rejects its row, and without --allow-partial nothing is
        // written.
        let before = fingerprint(&db);
        let bad = write(
            &db,
            "units_bad.csv",
            &format!("{UNITS_HEADER}{UNITS}{UNKNOWN_DISTRICT}"),
        );
        let (ok, refused) = report(&db, &bad, &[]);
        assert!(!ok, "{engine}: {refused:#}");
        assert_eq!(refused["importer"], "psic-punjab-units", "{engine}");
        assert_eq!(refused["source"], "psic-punjab", "{engine}");
        assert_eq!(refused["status"], "failed", "{engine}");
        assert_eq!(refused["rejected"], 1, "{engine}: {refused:#}");
        let issue = refused["issues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["severity"] == "error")
            .unwrap();
        assert_eq!(
            (
                &issue["row"],
                &issue["column"],
                &issue["field"],
                &issue["code"]
            ),
            (
                &Value::from(5),
                &Value::from("District"),
                &Value::from("district"),
                &Value::from("unknown_district")
            ),
            "{engine}: {issue}"
        );
        assert_eq!(fingerprint(&db), before, "{engine}: database unchanged");
        assert_no_personal_values(&db, "refused", &refused.to_string());

        // With --allow-partial the other units are applied.
        let (_, partial) = report(&db, &bad, &["--allow-partial", "--dry-run"]);
        assert_eq!(partial["status"], "dry_run", "{engine}: {partial:#}");
        assert_eq!(partial["rejected"], 1, "{engine}: {partial:#}");
        assert_eq!(
            partial["by_kind"]["organisation"]["inserted"], 3,
            "{engine}"
        );
        assert_eq!(
            fingerprint(&db),
            before,
            "{engine}: a dry run writes nothing"
        );

        // The clean file: three units, an unknown tehsil kept at district level.
        let units = write(&db, "units.csv", &format!("{UNITS_HEADER}{UNITS}"));
        let (ok, applied) = report(&db, &units, &[]);
        assert!(ok, "{engine}: {applied:#}");
        assert_eq!(applied["status"], "applied", "{engine}");
        assert_eq!(applied["importer"], "psic-punjab-units", "{engine}");
        assert_eq!(
            applied["by_kind"]["organisation"]["inserted"], 3,
            "{engine}"
        );
        assert_eq!(applied["warnings"], 1, "{engine}: {applied:#}");
        let warning = &applied["issues"][0];
        assert_eq!(
            (&warning["row"], &warning["column"], &warning["code"]),
            (
                &Value::from(4),
                &Value::from("Tehsil"),
                &Value::from("unknown_tehsil")
            ),
            "{engine}: {warning}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM organisation_source_records WHERE source_key = \
                 'LHR-00003' AND district_id IS NOT NULL AND tehsil_id IS NULL"
            ),
            1,
            "{engine}: kept at district level"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM organisation_source_records \
                 WHERE source_key = 'SKT-00002' AND tehsil_id IS NOT NULL"
            ),
            1,
            "{engine}: a known tehsil"
        );
        // The unit with the survey firm's NTN is that firm; the owner of two units is one
        // person of two firms.
        assert_eq!(
            count(
                &db,
                "SELECT count(DISTINCT organisation_id) FROM organisation_source_records \
                 WHERE source_key IN ('DS-1', 'SKT-00001')"
            ),
            1,
            "{engine}: linked by NTN"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM organisations"),
            3,
            "{engine}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(DISTINCT organisation_id) FROM organisation_source_records \
                 WHERE source_key IN ('SKT-00001', 'SKT-00002')"
            ),
            2,
            "{engine}: a shared owner never merges two units"
        );
        assert_eq!(count(&db, "SELECT count(*) FROM persons"), 2, "{engine}");
        assert_eq!(
            count(&db, "SELECT count(*) FROM person_source_records"),
            3,
            "{engine}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM affiliations WHERE role = 'owner'"
            ),
            3,
            "{engine}"
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM firm_observations"),
            3,
            "{engine}: the head counts at registration"
        );
        assert_no_personal_values(&db, "units", &applied.to_string());

        // Allotments and loans cite the units by number.
        let allotments = write(&db, "allotments.csv", ALLOTMENTS);
        let (ok, placed) = report(&db, &allotments, &[]);
        assert!(ok, "{engine}: {placed:#}");
        assert_eq!(placed["importer"], "psic-punjab-allotments", "{engine}");
        assert_eq!(placed["source"], "psic-punjab", "{engine}");
        assert_eq!(
            count(&db, "SELECT count(*) FROM industrial_estates"),
            2,
            "{engine}"
        );
        assert_eq!(count(&db, "SELECT count(*) FROM plots"), 3, "{engine}");
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM plot_allotments WHERE organisation_id IS NOT NULL"
            ),
            2,
            "{engine}: linked to the firms"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM plot_allotments a JOIN organisation_source_records r \
                 ON r.organisation_id = a.organisation_id \
                 WHERE a.unit_number = 'SKT-00001' AND r.source_key = 'DS-1'"
            ),
            1,
            "{engine}: the allotment is the survey firm's"
        );

        let loans = write(&db, "loans.csv", LOANS);
        let (ok, lent) = report(&db, &loans, &[]);
        assert!(ok, "{engine}: {lent:#}");
        assert_eq!(lent["importer"], "psic-punjab-loans", "{engine}");
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM loans WHERE organisation_id IS NOT NULL \
                 AND status = 'disbursed' AND amount_pkr = 250000"
            ),
            1,
            "{engine}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM loans WHERE organisation_id IS NULL \
                 AND status = 'sanctioned' AND district_id IS NOT NULL"
            ),
            1,
            "{engine}"
        );
        // The borrower is the owner, by CNIC.
        assert_eq!(
            count(
                &db,
                "SELECT count(DISTINCT person_id) FROM person_source_records WHERE source_key \
                 IN ('SKT-00001/owner', 'SKT-00002/owner', 'CDL-2021-001/borrower')"
            ),
            1,
            "{engine}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM loans l JOIN person_source_records p \
                 ON p.person_id = l.borrower_person_id WHERE p.source_key = 'SKT-00002/owner'"
            ),
            1,
            "{engine}"
        );
        assert_eq!(count(&db, "SELECT count(*) FROM persons"), 3, "{engine}");
        assert_no_personal_values(&db, "loans", &lent.to_string());

        // Re-importing every file changes nothing.
        for file in [&units, &allotments, &loans] {
            let (ok, again) = report(&db, file, &[]);
            assert!(ok, "{engine}: {again:#}");
            assert_eq!(again["totals"]["inserted"], 0, "{engine}: {again:#}");
            assert_eq!(again["totals"]["updated"], 0, "{engine}: {again:#}");
        }
    }
}

#[test]
fn a_registry_export_missing_a_column_is_refused_naming_it() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let before = fingerprint(&db);
        // A units export without the unit name, named explicitly.
        let file = write(
            &db,
            "units.csv",
            "Unit No,Owner Name,Owner CNIC,Industry Code\nSKT-1,Zahid Hussain,34603-1234567-1,32501\n",
        );
        let o = output(
            hub(&db)
                .arg("import")
                .arg(&file)
                .args(["--importer", "psic-punjab-units"]),
        );
        assert!(!o.status.success(), "{engine}");
        let stderr = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            stderr.contains("units.csv")
                && stderr.contains("missing column Unit Name")
                && stderr.contains("Name of Unit"),
            "{engine}: {stderr}"
        );
        assert!(!stderr.contains("Zahid"), "{engine}: {stderr}");
        assert_eq!(fingerprint(&db), before, "{engine}: database unchanged");
    }
}
