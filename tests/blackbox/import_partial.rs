//! A rejected row leaves nothing behind, on every engine: with `--allow-partial`, a row
//! rejected for a reference to a record the file never defined, or for a key repeated with
//! other content, writes none of its records (persons, firms, courses, providers), and
//! reports count only what was written, problems in row order.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{TestDb, engines, import_json};

fn write(db: &TestDb, name: &str, text: &str) -> PathBuf {
    let path = db.data_path().join(name);
    fs::write(&path, text).unwrap();
    path
}

/// `hub import FILE --json ARGS`: whether it succeeded, and the report.
fn import(db: &TestDb, file: &Path, args: &[&str]) -> (bool, Value) {
    import_json(db, file, args)
}

const EVENTS_MAPPING: &str = r#"
source = "t-src"
[[sheets]]
target = "training_events"
[sheets.columns]
"Event Code" = "event.code"
"Course Code" = "course.code"
"Course Title" = "course.title"
"Provider" = "event.provider"
"Start Date" = "event.start_date"
"#;

const PARTICIPANTS_MAPPING: &str = r#"
source = "t-src"
[[sheets]]
target = "participants"
[sheets.columns]
"Event Code" = "event.source_key"
"S#" = "participation.serial"
"Participant Name" = "person.name"
"CNIC" = "person.cnic"
"Gender" = "person.sex"
"Firm / Organisation" = "firm.name"
"#;

fn counts(db: &TestDb) -> Vec<i64> {
    [
        "persons",
        "person_source_records",
        "organisations",
        "organisation_source_records",
        "participations",
        "courses",
        "training_events",
    ]
    .iter()
    .map(|t| db.count(&format!("SELECT count(*) FROM {t}")))
    .collect()
}

#[test]
fn rows_rejected_for_unknown_references_write_nothing() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let events_map = write(&db, "events.toml", EVENTS_MAPPING);
        let events = write(
            &db,
            "events.csv",
            "Event Code,Course Code,Course Title,Provider,Start Date\n\
             EV-1,C-1,Costing for SMEs,Alpha Trainers,2023-02-01\n",
        );
        let (ok, _) = import(&db, &events, &["--mapping", events_map.to_str().unwrap()]);
        assert!(ok, "{engine}");

        let map = write(&db, "participants.toml", PARTICIPANTS_MAPPING);
        // Rows 3 and 5 name an event the source never defined: their persons and firms
        // must not be written.
        let file = write(
            &db,
            "participants.csv",
            "Event Code,S#,Participant Name,CNIC,Gender,Firm / Organisation\n\
             EV-1,1,Amina Bibi,35202-1234567-2,F,Rafiq Textiles\n\
             EV-404,2,Bilal Ahmed,35202-2345678-1,M,Lost Firm One\n\
             EV-1,3,Sana Iqbal,35202-3456789-4,F,Rafiq Textiles\n\
             EV-405,4,Usman Ali,35202-4567890-3,M,Lost Firm Two\n",
        );
        let before = counts(&db);
        let fingerprint =
            db.fingerprint(&["persons", "organisations", "participations", "import_runs"]);

        // Without --allow-partial: nothing written, and the report counts nothing written.
        let (ok, failed) = import(&db, &file, &["--mapping", map.to_str().unwrap()]);
        assert!(!ok, "{engine}");
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["rejected"], 2, "{engine}: {failed:#}");
        assert_eq!(failed["totals"]["inserted"], 0, "{engine}: {failed:#}");
        assert_eq!(
            db.fingerprint(&["persons", "organisations", "participations", "import_runs"]),
            fingerprint
        );

        // A dry run counts what the valid rows would write, never the rejected rows'.
        let (_, dry) = import(
            &db,
            &file,
            &[
                "--mapping",
                map.to_str().unwrap(),
                "--dry-run",
                "--allow-partial",
            ],
        );
        assert_eq!(dry["status"], "dry_run", "{engine}: {dry:#}");
        assert_eq!(dry["by_kind"]["person"]["inserted"], 2, "{engine}: {dry:#}");
        assert_eq!(dry["by_kind"]["participation"]["inserted"], 2);
        assert_eq!(dry["by_kind"]["organisation"]["inserted"], 1, "{dry:#}");

        let (ok, partial) = import(
            &db,
            &file,
            &["--mapping", map.to_str().unwrap(), "--allow-partial"],
        );
        assert!(ok, "{engine}: {partial:#}");
        assert_eq!(partial["status"], "partial");
        assert_eq!(partial["rejected"], 2);
        // Row errors in row order, naming the field.
        let rows: Vec<i64> = partial["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["row"].as_i64().unwrap())
            .collect();
        assert_eq!(rows, [3, 5], "{engine}: {partial:#}");
        assert!(
            partial["issues"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["field"] == "event_key" && i["code"] == "unknown_reference"),
            "{partial:#}"
        );
        let after = counts(&db);
        // Two persons, their two source records, one firm with its record, two
        // participations; no course or event.
        let grown: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        assert_eq!(grown, [2, 2, 1, 1, 2, 0, 0], "{engine}");
        assert_eq!(
            partial["totals"]["inserted"].as_i64().unwrap(),
            2 + 1 + 2,
            "{engine}"
        );
        for lost in ["Lost Firm One", "Lost Firm Two"] {
            assert_eq!(
                db.count(&format!(
                    "SELECT count(*) FROM organisation_source_records WHERE name = '{lost}'"
                )),
                0,
                "{engine}: {lost}"
            );
        }
        // The stored row errors are in row order too.
        let run = partial["run_id"].as_i64().unwrap();
        assert_eq!(
            db.query(&format!(
                "SELECT row_number FROM import_row_errors WHERE import_run_id = {run} ORDER BY id"
            )),
            "3\n5"
        );
    }
}

#[test]
fn a_key_repeated_with_other_content_writes_nothing_of_its_row() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let map = write(&db, "events.toml", EVENTS_MAPPING);
        // Row 3 repeats EV-1 with another course and provider: neither may be written.
        let file = write(
            &db,
            "events.csv",
            "Event Code,Course Code,Course Title,Provider,Start Date\n\
             EV-1,C-1,Costing for SMEs,Alpha Trainers,2023-02-01\n\
             EV-1,C-2,Export Marketing,Beta Trainers,2023-03-01\n\
             EV-2,C-1,Costing for SMEs,Alpha Trainers,2023-04-01\n",
        );
        let (ok, report) = import(
            &db,
            &file,
            &["--mapping", map.to_str().unwrap(), "--allow-partial"],
        );
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["rejected"], 1, "{engine}: {report:#}");
        assert_eq!(report["issues"][0]["row"], 3);
        assert_eq!(report["issues"][0]["code"], "duplicate_key");
        assert_eq!(
            db.count("SELECT count(*) FROM training_events"),
            2,
            "{engine}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM courses WHERE code = 'C-2'"),
            0,
            "{engine}"
        );
        assert_eq!(
            db.count(
                "SELECT count(*) FROM organisation_source_records WHERE name = 'Beta Trainers'"
            ),
            0,
            "{engine}"
        );
        assert_eq!(
            db.count("SELECT count(*) FROM organisations WHERE name = 'Beta Trainers'"),
            0,
            "{engine}"
        );
        // What the report counts is what is there.
        assert_eq!(report["by_kind"]["training_event"]["inserted"], 2);
        assert_eq!(report["by_kind"]["course"]["inserted"], 1, "{report:#}");
    }
}
