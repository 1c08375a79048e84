//! Attendance workbooks as cluster offices keep them, on every engine: a notes sheet first,
//! the event in merged title rows with its dates beside "From" and "To" above the header,
//! sex and CNICs written every which way, and an "Organization / Unit" column. The sheet
//! creates its event, its participants' firms become firm records, and the mapping
//! `--suggest-mapping` proposes imports the same, unedited.

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;

use crate::support::{TestDb, engines, hub, import_json, output, spawn};

/// The participants: name, sex as written, CNIC as written, organisation (or none).
const PEOPLE: [(&str, &str, &str, &str); 5] = [
    ("Ayesha Bibi", "F", "35202-1234567-4", "Noor Instruments"),
    ("Bilal Ahmed", "Male", "3520212345683", "Abid Medi-Tech"),
    ("Sana Riaz", "female", "35202-1234569-0", "Noor Instruments"),
    ("Usman Ali", "M", "3520212345705", ""),
    (
        "Hira Khan",
        "Female",
        "35202 1234571 8",
        "Crescent Surgical",
    ),
];

fn attendance_workbook(path: &Path) {
    let mut book = Workbook::new();
    let notes = book.add_worksheet().set_name("Notes").unwrap();
    notes
        .write(0, 0, "Attendance sheets of the Sialkot cluster office.")
        .unwrap();
    notes
        .write(1, 0, "One sheet per training; keep the header on row 5.")
        .unwrap();
    let sheet = book.add_worksheet().set_name("Attendance").unwrap();
    let merged = Format::new();
    sheet
        .merge_range(
            0,
            0,
            0,
            5,
            "Lean Manufacturing for Surgical Instruments",
            &merged,
        )
        .unwrap();
    sheet
        .merge_range(1, 0, 1, 5, "Sialkot Chamber of Commerce, Sialkot", &merged)
        .unwrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write(2, 0, "From").unwrap();
    sheet
        .write_with_format(2, 1, ExcelDateTime::from_ymd(2024, 3, 12).unwrap(), &date)
        .unwrap();
    sheet.write(2, 2, "To").unwrap();
    sheet
        .write_with_format(2, 3, ExcelDateTime::from_ymd(2024, 3, 14).unwrap(), &date)
        .unwrap();
    for (c, header) in [
        "Sr. No.",
        "Name",
        "Sex",
        "CNIC",
        "Organization / Unit",
        "Signature",
    ]
    .iter()
    .enumerate()
    {
        sheet.write(4, c as u16, *header).unwrap();
    }
    for (i, (name, sex, cnic, org)) in PEOPLE.iter().enumerate() {
        let r = 5 + i as u32;
        sheet.write(r, 0, (i + 1) as u32).unwrap();
        sheet.write(r, 1, *name).unwrap();
        sheet.write(r, 2, *sex).unwrap();
        sheet.write(r, 3, *cnic).unwrap();
        if !org.is_empty() {
            sheet.write(r, 4, *org).unwrap();
        }
    }
    book.save(path).unwrap();
}

fn import(db: &TestDb, file: &Path, extra: &[&str]) -> (bool, Value) {
    import_json(db, file, extra)
}

/// What the database says the import made, computed from the raw tables.
fn made(db: &TestDb) -> String {
    let event = db.query_scalar(
        "SELECT e.title || ' | ' || e.start_date || ' | ' || e.end_date || ' | ' || \
         e.venue || ' | ' || e.source_key FROM training_events e",
    );
    let sexes = db.query(
        "SELECT p.sex || ':' || count(*) FROM participations x JOIN persons p \
         ON p.id = x.person_id GROUP BY p.sex ORDER BY p.sex",
    );
    let firms = db.query(
        "SELECT o.name FROM participations x JOIN organisations o ON o.id = x.organisation_id \
         GROUP BY o.name ORDER BY o.name",
    );
    format!(
        "{event}\n{}\n{}",
        sexes.trim().replace('\n', "; "),
        firms.trim().replace('\n', "; ")
    )
}

const EXPECTED: &str = "Lean Manufacturing for Surgical Instruments | 2024-03-12 | 2024-03-14 | \
     Sialkot Chamber of Commerce, Sialkot | lean-manufacturing-for-surgical-instruments/2024-03-12\n\
     female:3; male:2\n\
     Abid Medi-Tech; Crescent Surgical; Noor Instruments";

#[test]
fn an_attendance_workbook_creates_its_event_and_the_participants_firms() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = db.data_path().join("attendance lean 2024.xlsx");
        attendance_workbook(&file);
        let (ok, report) = import(&db, &file, &["--source", "sialkot-office"]);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(
            report["by_kind"]["training_event"]["inserted"], 1,
            "{engine}"
        );
        assert_eq!(
            report["by_kind"]["participation"]["inserted"], 5,
            "{engine}"
        );
        assert_eq!(report["by_kind"]["person"]["inserted"], 5, "{engine}");
        assert_eq!(
            report["by_kind"]["organisation"]["inserted"], 3,
            "{engine}: {report:#}"
        );
        assert_eq!(made(&db), EXPECTED, "{engine}");
        // The firms are firm records of the sheet's source, keyed by their folded name and
        // left for unification (no identifier linked them to anything else).
        assert_eq!(
            db.count(
                "SELECT count(*) FROM organisation_source_records r JOIN sources s \
                 ON s.id = r.source_id WHERE s.code = 'sialkot-office' AND r.kind = 'firm'"
            ),
            3,
            "{engine}"
        );
        // CNICs with and without dashes are stored hashed: five people, five hashes.
        assert_eq!(
            db.count("SELECT count(DISTINCT cnic_hash) FROM persons WHERE cnic_hash IS NOT NULL"),
            5,
            "{engine}"
        );
        // Over GraphQL the event says which source it came from.
        let running = spawn({
            let mut c = hub(&db);
            c.arg("serve");
            c
        });
        let (status, body) = running.post_json(
            "/graphql",
            &serde_json::json!({"query": "{ trainingEvents { nodes { title startDate source { code } } } }"}),
        );
        assert_eq!(status, 200, "{engine}: {body:#}");
        let event = &body["data"]["trainingEvents"]["nodes"][0];
        assert_eq!(
            event["source"]["code"], "sialkot-office",
            "{engine}: {body:#}"
        );
        assert_eq!(event["startDate"], "2024-03-12", "{engine}");
        drop(running);
        // Again: nothing changes.
        let (ok, report) = import(&db, &file, &["--source", "sialkot-office"]);
        assert!(ok, "{engine}: {report:#}");
        assert_eq!(report["totals"]["inserted"], 0, "{engine}: {report:#}");
        assert_eq!(report["totals"]["updated"], 0, "{engine}: {report:#}");
    }
}

#[test]
fn the_suggested_mapping_names_the_event_cells_and_imports_unedited() {
    for engine in engines() {
        let db = TestDb::fresh(engine);
        let file = db.data_path().join("attendance.xlsx");
        attendance_workbook(&file);
        let o = output(hub(&db).arg("import").arg(&file).arg("--suggest-mapping"));
        assert!(o.status.success(), "{engine}");
        let mapping = String::from_utf8_lossy(&o.stdout).into_owned();
        for line in [
            r#""event.title" = { cell = "A1" }"#,
            r#""event.start_date" = { cell = "B3" }"#,
            r#""event.end_date" = { cell = "D3" }"#,
            r#""event.venue" = { cell = "A2" }"#,
            r#""Organization / Unit" = "firm.name""#,
            r#""Sex" = "person.sex""#,
        ] {
            assert!(
                mapping.contains(line),
                "{engine}: {line} missing in\n{mapping}"
            );
        }
        let path = db.data_path().join("attendance.toml");
        std::fs::write(&path, &mapping).unwrap();
        let (ok, report) = import(
            &db,
            &file,
            &[
                "--mapping",
                path.to_str().unwrap(),
                "--source",
                "sialkot-office",
            ],
        );
        assert!(ok, "{engine}: {report:#}\n{mapping}");
        assert_eq!(made(&db), EXPECTED, "{engine}");

        // A mapping naming a cell below the header, or an empty one, is refused with the
        // cell.
        let below = mapping.replace(r#"{ cell = "B3" }"#, r#"{ cell = "B7" }"#);
        std::fs::write(&path, &below).unwrap();
        let (ok, report) = import(&db, &file, &["--mapping", path.to_str().unwrap()]);
        assert!(!ok, "{engine}");
        let text = report.to_string();
        assert!(
            text.contains("B7") && text.contains("not above the header"),
            "{engine}: {text}"
        );
        let empty = mapping.replace(r#"{ cell = "B3" }"#, r#"{ cell = "F3" }"#);
        std::fs::write(&path, &empty).unwrap();
        let (ok, report) = import(&db, &file, &["--mapping", path.to_str().unwrap()]);
        assert!(!ok, "{engine}");
        assert!(report.to_string().contains("F3"), "{engine}: {report:#}");
    }
}
