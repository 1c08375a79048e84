//! Tests of the registry importers on files written by the tests (CSV in several
//! encodings and delimiters, XLSX through rust_xlsxwriter) and on the demo exports of
//! `hub/demo/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hub_plugin_sdk::read_all;
use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    AffiliationRole, AllotmentStatus, Confidence, Date, IdentifierValue, ImportError, Importer,
    Input, Item, LogLevel, OrganisationKind, OrganisationStatus, Record, RecordKind, RowError,
    Severity, codes, schemes,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::*;
use crate::spreadsheet::SpreadsheetImporter;

/// A temporary folder holding the test's files.
struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn demo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../hub/demo")
        .join(name)
}

fn importer(id: &str) -> Box<dyn Importer> {
    importers()
        .into_iter()
        .find(|i| i.manifest().id == id)
        .unwrap()
}

/// Every item of a file, read in batches of 7 (small, to cross sheet and row boundaries).
fn import(id: &str, path: &Path, options: &Value) -> Result<Vec<Item>, ImportError> {
    read_all(&mut *importer(id), Input::new(path), options, 7)
}

fn open_error(id: &str, path: &Path, options: &Value) -> ImportError {
    match import(id, path, options) {
        Ok(_) => panic!("{} should not open as {id}", path.display()),
        Err(error) => error,
    }
}

fn records(items: &[Item]) -> Vec<&Record> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Record(r) => Some(&r.record),
            _ => None,
        })
        .collect()
}

fn row_errors(items: &[Item]) -> Vec<&RowError> {
    items.iter().filter_map(Item::as_row_error).collect()
}

fn counts(items: &[Item]) -> BTreeMap<RecordKind, usize> {
    let mut counts = BTreeMap::new();
    for record in records(items) {
        *counts.entry(record.kind()).or_default() += 1;
    }
    counts
}

fn logs(items: &[Item]) -> Vec<(LogLevel, &str)> {
    items.iter().filter_map(Item::as_log).collect()
}

fn columns(items: &[Item]) -> Vec<(Option<&str>, &BTreeMap<String, String>)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Columns { sheet, columns } => Some((sheet.as_deref(), columns)),
            _ => None,
        })
        .collect()
}

/// Every message the items carry: row errors and log lines.
fn messages(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::RowError(e) => Some(format!("{} {:?}", e.message, e.source_ref)),
            Item::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn date(text: &str) -> Option<Date> {
    Some(Date::parse_iso(text).unwrap())
}

fn sniff(id: &str, path: &Path) -> Confidence {
    let bytes = std::fs::read(path).unwrap();
    let head = &bytes[..bytes.len().min(8192)];
    let name = path.file_name().unwrap().to_string_lossy();
    importer(id).sniff(head, &name)
}

fn spreadsheet_sniff(path: &Path) -> Confidence {
    let bytes = std::fs::read(path).unwrap();
    let head = &bytes[..bytes.len().min(8192)];
    let name = path.file_name().unwrap().to_string_lossy();
    SpreadsheetImporter::new().sniff(head, &name)
}

const IDS: [&str; 3] = [UNITS_ID, ALLOTMENTS_ID, LOANS_ID];

// ---- Manifests ---------------------------------------------------------------------------

#[test]
fn the_importers_belong_to_the_corporations_source_and_come_first() {
    let ids: Vec<String> = importers().iter().map(|i| i.manifest().id).collect();
    assert_eq!(ids, IDS);
    let builtin: Vec<String> = crate::builtin()
        .iter()
        .take(3)
        .map(|i| i.manifest().id)
        .collect();
    assert_eq!(builtin, IDS);
    for importer in importers() {
        let manifest = importer.manifest();
        assert_eq!(manifest.default_source.as_deref(), Some("psic-punjab"));
        assert!(manifest.inputs.matches_file_name("export.xlsx"));
        assert!(manifest.inputs.matches_file_name("export.csv"));
        assert!(manifest.options_schema.is_some());
        assert!(
            !manifest.name.contains("PSIC"),
            "never a bare PSIC: {}",
            manifest.name
        );
    }
}

#[test]
fn layouts_give_each_header_variant_to_one_field() {
    for layout in [&units::UNITS, &allotments::ALLOTMENTS, &loans::LOANS] {
        let mut seen = BTreeMap::new();
        for field in layout.fields {
            for variant in field.variants {
                let folded = crate::spreadsheet::fold(variant);
                if let Some(other) = seen.insert(folded.clone(), field.name) {
                    panic!("{}: {folded:?} names {other} and {}", layout.id, field.name);
                }
            }
        }
        for name in layout.evidence {
            assert!(layout.index(name).is_some(), "{}: {name}", layout.id);
        }
    }
}

// ---- Units -------------------------------------------------------------------------------

/// A units export as a district office keeps it: two title lines, other headers, `;`
/// separated, Windows-1252.
fn units_csv(files: &Files) -> PathBuf {
    let text = "Punjab Small Industries Corporation\r\n\
                Registered Units as on 31-12-2024;;;\r\n\
                \r\n\
                Unit Number;Name of Unit;Proprietor;CNIC No.;NTN No.;Address;District;Tehsil;PSIC Code;No. of Workers;Date of Registration;Unit Status;Remarks\r\n\
                skt-00123;Caf\u{e9} Surgical Works;Owner One;34603-1234567-1;1234567-8;Small Industrial Estate, Sialkot;SIALKOT;Sialkot;32501 - Surgical instruments;1,250;15/03/2019;Functional;ok\r\n\
                LHR-00200;Ravi Auto Parts;;;3520212345671;Kot Lakhpat;Lahore;Lahore Cantt.;29301;;2020-07-01;Closed;\r\n\
                GRW-00300;Noor Cutlery;Owner Three;34101-7654321-2;;;Gujranwala;;25931;9;;Blacklisted;\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    files.write("units.csv", bytes)
}

#[test]
fn a_units_export_with_title_rows_and_header_variants_gives_firms_and_owners() {
    let files = Files::new();
    let path = units_csv(&files);
    let items = import(UNITS_ID, &path, &Value::Null).unwrap();
    assert_eq!(
        counts(&items),
        BTreeMap::from([
            (RecordKind::Organisation, 3),
            (RecordKind::FirmObservation, 1),
            (RecordKind::Person, 2),
            (RecordKind::Affiliation, 2),
        ])
    );
    let records = records(&items);
    let Record::Organisation(first) = records[0] else {
        panic!("{:?}", records[0]);
    };
    assert_eq!(first.source_key, "SKT-00123");
    assert_eq!(first.kind, OrganisationKind::Firm);
    assert_eq!(first.name, "Café Surgical Works");
    assert_eq!(first.district.as_deref(), Some("SIALKOT"));
    assert_eq!(first.tehsil.as_deref(), Some("Sialkot"));
    assert_eq!(
        first.address.as_deref(),
        Some("Small Industrial Estate, Sialkot")
    );
    assert_eq!(first.industry_code.as_deref(), Some("32501"));
    assert_eq!(first.industry_classification.as_deref(), Some("PK-PSIC-R4"));
    assert_eq!(first.employees_total, Some(1250));
    assert_eq!(first.registered_on, date("2019-03-15"));
    assert_eq!(first.status, Some(OrganisationStatus::Active));
    assert_eq!(first.observed_on, None);
    assert_eq!(
        first.identifiers,
        [
            IdentifierValue::new(schemes::PSIC_PUNJAB_UNIT, "skt-00123"),
            IdentifierValue::new(schemes::NTN, "1234567-8"),
        ]
    );
    assert!(first.clusters.is_empty());
    let Record::FirmObservation(observation) = records[1] else {
        panic!("{:?}", records[1]);
    };
    assert_eq!(
        (
            observation.organisation_key.as_str(),
            observation.period.as_str()
        ),
        ("SKT-00123", "2019")
    );
    assert_eq!(observation.employees_total, Some(1250));
    let Record::Person(owner) = records[2] else {
        panic!("{:?}", records[2]);
    };
    assert_eq!(owner.source_key, "SKT-00123/owner");
    assert_eq!(owner.full_name.as_ref().unwrap().expose(), "Owner One");
    assert_eq!(owner.cnic.as_ref().unwrap().expose(), "34603-1234567-1");
    let Record::Affiliation(affiliation) = records[3] else {
        panic!("{:?}", records[3]);
    };
    assert_eq!(
        (
            affiliation.person_key.as_str(),
            affiliation.organisation_key.as_str(),
            affiliation.role,
            affiliation.valid_from
        ),
        (
            "SKT-00123/owner",
            "SKT-00123",
            AffiliationRole::Owner,
            date("2019-03-15")
        )
    );

    // The second unit: a 13-digit NTN goes as written (the hub hashes it), no owner, no
    // head count and so no observation.
    let Record::Organisation(second) = records[4] else {
        panic!("{:?}", records[4]);
    };
    assert_eq!(second.source_key, "LHR-00200");
    assert_eq!(second.identifiers[1].scheme, schemes::NTN);
    assert_eq!(second.identifiers[1].value, "3520212345671");
    assert_eq!(second.status, Some(OrganisationStatus::Closed));
    assert_eq!(second.registered_on, date("2020-07-01"));
    assert!(matches!(records[5], Record::Organisation(o) if o.source_key == "GRW-00300"));

    // The third: an unknown status word is a warning, the unit is kept without it.
    let Record::Organisation(third) = records[5] else {
        unreachable!()
    };
    assert_eq!(third.status, None);
    let errors = row_errors(&items);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].severity, Severity::Warning);
    assert_eq!(errors[0].field.as_deref(), Some("status"));
    assert_eq!(
        errors[0].source_ref.to_string(),
        "units.csv!R7!C:Unit Status"
    );

    // Records carry their row; the columns are declared for the hub's own errors.
    let Item::Record(sourced) = items.iter().find(|i| matches!(i, Item::Record(_))).unwrap() else {
        unreachable!()
    };
    assert_eq!(sourced.source_ref.to_string(), "units.csv!R5");
    let declared = columns(&items);
    assert_eq!(declared.len(), 1);
    let (sheet, map) = declared[0];
    assert_eq!(sheet, None);
    for (field, column) in [
        ("organisation.district", "District"),
        ("organisation.tehsil", "Tehsil"),
        ("organisation.identifiers.PK-NTN", "NTN No."),
        ("organisation.identifiers.psic-punjab-unit", "Unit Number"),
        ("organisation.industry_code", "PSIC Code"),
        ("person.cnic", "CNIC No."),
        ("person.full_name", "Proprietor"),
        ("firm_observation.period", "Date of Registration"),
    ] {
        assert_eq!(map.get(field).map(String::as_str), Some(column), "{field}");
    }
    let log = logs(&items);
    assert!(
        log.iter()
            .any(|(_, m)| m.contains("header in row 4") && m.contains("not imported: Remarks")),
        "{log:?}"
    );
}

#[test]
fn a_units_workbook_is_read_sheet_by_sheet() {
    let files = Files::new();
    let path = files.path("units.xlsx");
    let mut book = Workbook::new();
    let notes = book.add_worksheet().set_name("Notes").unwrap();
    notes.write(0, 0, "Extract of the unit register").unwrap();
    notes.write(1, 0, "Prepared by").unwrap();
    notes.write(1, 1, "the district office").unwrap();
    let dated = Format::new().set_num_format("dd/mm/yyyy");
    for (name, unit) in [("Sialkot", "SKT-00001"), ("Lahore", "LHR-00002")] {
        let sheet = book.add_worksheet().set_name(name).unwrap();
        sheet
            .write(0, 0, format!("Registered units: {name}"))
            .unwrap();
        let headers = [
            "Reg No",
            "Unit Name",
            "Owner Name",
            "CNIC",
            "Industry",
            "Employees",
            "Registration Date",
            "District",
        ];
        for (col, header) in headers.iter().enumerate() {
            sheet
                .write(2, u16::try_from(col).unwrap(), *header)
                .unwrap();
        }
        sheet.write(3, 0, unit).unwrap();
        sheet.write(3, 1, format!("{name} Works")).unwrap();
        sheet.write(3, 2, "Owner").unwrap();
        sheet.write(3, 3, "35202-1234567-1").unwrap();
        sheet.write(3, 4, 32501).unwrap();
        sheet.write(3, 5, 17).unwrap();
        let day = ExcelDateTime::from_ymd(2018, 3, 19).unwrap();
        sheet.write_with_format(3, 6, &day, &dated).unwrap();
        sheet.write(3, 7, name).unwrap();
    }
    book.save(&path).unwrap();

    // A workbook's first bytes are compressed: it is not recognised by sniffing.
    assert_eq!(sniff(UNITS_ID, &path), Confidence::NONE);

    let items = import(UNITS_ID, &path, &Value::Null).unwrap();
    assert_eq!(counts(&items)[&RecordKind::Organisation], 2);
    assert!(row_errors(&items).is_empty(), "{:?}", row_errors(&items));
    let sheets: Vec<Option<&str>> = columns(&items).iter().map(|(s, _)| *s).collect();
    assert_eq!(sheets, [Some("Sialkot"), Some("Lahore")]);
    assert!(
        logs(&items)
            .iter()
            .any(|(_, m)| m.contains("the sheet Notes of units.xlsx: not imported")),
        "{:?}",
        logs(&items)
    );
    let mut firms = Vec::new();
    for item in &items {
        if let Item::Record(r) = item
            && let Record::Organisation(o) = &r.record
        {
            firms.push((
                r.source_ref.to_string(),
                o.source_key.clone(),
                o.industry_code.clone(),
                o.employees_total,
                o.registered_on,
            ));
        }
    }
    assert_eq!(
        firms,
        [
            (
                "units.xlsx!Sialkot!R4".to_owned(),
                "SKT-00001".to_owned(),
                Some("32501".to_owned()),
                Some(17),
                date("2018-03-19")
            ),
            (
                "units.xlsx!Lahore!R4".to_owned(),
                "LHR-00002".to_owned(),
                Some("32501".to_owned()),
                Some(17),
                date("2018-03-19")
            ),
        ]
    );

    // One sheet by name.
    let items = import(UNITS_ID, &path, &json!({"sheet": "Lahore"})).unwrap();
    assert_eq!(counts(&items)[&RecordKind::Organisation], 1);
    let error = open_error(UNITS_ID, &path, &json!({"sheet": "Multan"}));
    assert!(
        error.message.contains("no sheet named \"Multan\"")
            && error.message.contains("Notes, Sialkot, Lahore"),
        "{error}"
    );
    // A workbook without the header at all names what is missing.
    let other = files.path("other.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Firms").unwrap();
    sheet.write(0, 0, "Survey ID").unwrap();
    sheet.write(0, 1, "Name of Unit").unwrap();
    sheet.write(1, 0, "DS-1").unwrap();
    sheet.write(1, 1, "Alpha").unwrap();
    book.save(&other).unwrap();
    let error = open_error(UNITS_ID, &other, &Value::Null);
    assert!(error.message.contains("missing column Unit No"), "{error}");
    assert_eq!(
        error.source_ref.map(|r| r.to_string()).as_deref(),
        Some("other.xlsx!Firms!R1")
    );
}

#[test]
fn bad_cells_are_row_errors_naming_row_column_and_field() {
    let files = Files::new();
    let path = files.write(
        "bad.csv",
        "Unit No,Unit Name,Owner Name,Owner CNIC,Industry Code,Employees,Registration Date,Status\n\
         SKT-1,Alpha,Secret Person,34603-1111111-1,32501,twelve,15/03/2019,Active\n\
         SKT-2,Beta,Secret Person,34603-1111111-1,32501,12,31/02/2019,Active\n\
         ,Gamma,Secret Person,34603-1111111-1,32501,12,15/03/2019,Active\n\
         SKT-4,,Secret Person,34603-1111111-1,Surgical instruments,-3,15/03/2019,Active\n\
         SKT-5,Epsilon,Secret Person,34603-1111111-1,Surgical instruments,3,15/03/2019,Active\n",
    );
    let items = import(UNITS_ID, &path, &Value::Null).unwrap();
    let found: Vec<(String, Option<&str>, &str, Severity)> = row_errors(&items)
        .iter()
        .map(|e| {
            (
                e.source_ref.to_string(),
                e.field.as_deref(),
                e.code.as_str(),
                e.severity,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "bad.csv!R2!C:Employees".to_owned(),
                Some("employees"),
                codes::INVALID_NUMBER,
                Severity::Error
            ),
            (
                "bad.csv!R3!C:Registration Date".to_owned(),
                Some("registered_on"),
                codes::INVALID_DATE,
                Severity::Error
            ),
            (
                "bad.csv!R4!C:Unit No".to_owned(),
                Some("unit_number"),
                codes::MISSING_REQUIRED,
                Severity::Error
            ),
            (
                "bad.csv!R5!C:Unit Name".to_owned(),
                Some("name"),
                codes::MISSING_REQUIRED,
                Severity::Error
            ),
            (
                "bad.csv!R5!C:Industry Code".to_owned(),
                Some("industry_code"),
                codes::UNKNOWN_CODE,
                Severity::Warning
            ),
            (
                "bad.csv!R5!C:Employees".to_owned(),
                Some("employees"),
                codes::INVALID_NUMBER,
                Severity::Error
            ),
            (
                "bad.csv!R6!C:Industry Code".to_owned(),
                Some("industry_code"),
                codes::UNKNOWN_CODE,
                Severity::Warning
            ),
        ]
    );
    // Rows with errors give no records; the row with a warning only is kept.
    let keys: Vec<&str> = records(&items)
        .iter()
        .filter_map(|r| match r {
            Record::Organisation(o) => Some(o.source_key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["SKT-5"]);
    for message in messages(&items) {
        assert!(
            !message.contains("Secret") && !message.contains("1111111"),
            "{message}"
        );
    }
}

#[test]
fn the_options_map_other_headers_name_the_header_row_and_date_the_extract() {
    let files = Files::new();
    let path = files.write(
        "odd.csv",
        "Registered units\n\
         Regd. Unit Code,Title of Unit,Owner CNIC,Industry Code,Employees,Registration Date,Last Updated,Remarks\n\
         a-1,Alpha,34603-1234567-1,32501,4,,,x\n\
         a-2,Beta,34603-1234567-1,32501,5,02/01/2017,,y\n\
         a-3,Gamma,34603-1234567-1,32501,7,02/01/2017,15/06/2021,z\n",
    );
    // The variants miss the unit number and the name.
    let error = open_error(UNITS_ID, &path, &Value::Null);
    assert!(
        error.message.starts_with(
            "this is not a registered-units export of the Punjab Small Industries \
             Corporation: missing columns Unit No (accepted headers: \"Unit No\", \
             \"Unit Number\", \"Registration No\""
        ) && error
            .message
            .contains("Unit Name (accepted headers: \"Unit Name\", \"Name of Unit\""),
        "{error}"
    );
    assert_eq!(
        error.source_ref.map(|r| r.to_string()).as_deref(),
        Some("odd.csv!R2")
    );

    let mapping: Value = toml::from_str(
        r#"
        importer = "psic-punjab-units"
        source = "psic-punjab"
        header_row = 2
        extract_date = 2024-12-31
        [columns]
        "Regd. Unit Code" = "unit_number"
        "title of unit" = "name"
        "Remarks" = ""
        "#,
    )
    .unwrap();
    let items = import(UNITS_ID, &path, &mapping).unwrap();
    assert!(row_errors(&items).is_empty(), "{:?}", row_errors(&items));
    let observations: Vec<(&str, &str)> = records(&items)
        .iter()
        .filter_map(|r| match r {
            Record::FirmObservation(o) => Some((o.organisation_key.as_str(), o.period.as_str())),
            _ => None,
        })
        .collect();
    // The registry records a head count at registration: without a registration date
    // the head count stays on the unit, undated (never at the extract date).
    // A unit updated since registration: its head count is of the update.
    assert_eq!(observations, [("A-2", "2017"), ("A-3", "2021")]);
    let undated: Vec<Option<u32>> = records(&items)
        .iter()
        .filter_map(|r| match r {
            Record::Organisation(o) => Some(o.employees_total),
            _ => None,
        })
        .collect();
    assert_eq!(undated, [Some(4), Some(5), Some(7)]);
    for record in records(&items) {
        match record {
            Record::Organisation(o) => assert_eq!(o.observed_on, date("2024-12-31")),
            Record::Person(p) => assert_eq!(p.observed_on, date("2024-12-31")),
            _ => {}
        }
    }

    // Problems with the options are named.
    let cases = [
        (
            json!({"columns": {"Regd. Unit Code": "unit_no"}}),
            "which is no field",
        ),
        (
            json!({"columns": {"Regd. Unit Code": "unit_number", "Title of Unit": "unit_number"}}),
            "fed by two columns",
        ),
        (
            json!({"plot_area_unit": "kanal"}),
            "plot_area_unit is not an option",
        ),
        (
            json!({"extract_date": "yesterday"}),
            "extract_date must be a date",
        ),
        (json!({"header_row": 0}), "header_row counts from 1"),
        (json!({"sheets": []}), "unknown field `sheets`"),
        (json!({"csv": {"delimiter": ";;"}}), "csv.delimiter"),
    ];
    for (options, needle) in cases {
        let error = open_error(UNITS_ID, &path, &options);
        assert!(error.message.contains(needle), "{options}: {error}");
    }
    let error = open_error(
        UNITS_ID,
        &path,
        &json!({"columns": {"Unit Code": "unit_number", "Title of Unit": "name"}}),
    );
    assert!(
        error
            .message
            .contains("Unit Code (named in the options' columns)"),
        "{error}"
    );
    let error = open_error(UNITS_ID, &path, &json!({"header_row": 6}));
    assert!(error.message.contains("row 6"), "{error}");
}

#[test]
fn a_wrong_file_is_refused_naming_the_missing_column_and_its_variants() {
    let loans = demo("psic_punjab_loans.csv");
    let error = open_error(UNITS_ID, &loans, &Value::Null);
    assert!(
        error.message.contains(
            "this is not a registered-units export of the Punjab Small Industries \
             Corporation: missing column Unit Name (accepted headers: \"Unit Name\", \
             \"Name of Unit\""
        ),
        "{error}"
    );
    assert_eq!(
        error.source_ref.map(|r| r.to_string()).as_deref(),
        Some("psic_punjab_loans.csv!R1")
    );
    let units = demo("psic_punjab_registered_units.csv");
    let error = open_error(ALLOTMENTS_ID, &units, &Value::Null);
    assert!(
        error.message.contains("plot-allotment export")
            && error.message.contains(
                "missing columns Estate (accepted headers: \"Estate\", \"Industrial Estate\""
            )
            && error.message.contains("Plot No (accepted headers"),
        "{error}"
    );
    let error = open_error(LOANS_ID, &units, &Value::Null);
    assert!(
        error.message.contains("loan export") && error.message.contains("missing columns Loan No"),
        "{error}"
    );
    // Not a spreadsheet at all: the reading layer says so.
    let files = Files::new();
    let pdf = files.write("units.csv", b"%PDF-1.7\n\x00\x01binary");
    let error = open_error(UNITS_ID, &pdf, &Value::Null);
    assert!(error.message.contains("not a spreadsheet"), "{error}");
}

// ---- Sniffing ----------------------------------------------------------------------------

#[test]
fn each_export_is_recognised_by_its_own_importer_only() {
    let files = Files::new();
    let exports = [
        (UNITS_ID, demo("psic_punjab_registered_units.csv")),
        (ALLOTMENTS_ID, demo("psic_punjab_estate_allotments.csv")),
        (LOANS_ID, demo("psic_punjab_loans.csv")),
        (UNITS_ID, units_csv(&files)),
    ];
    for (owner, path) in &exports {
        let spreadsheet = spreadsheet_sniff(path);
        for id in IDS {
            let confidence = sniff(id, path);
            if id == *owner {
                assert!(
                    (85..=95).contains(&confidence.percent()),
                    "{id} on {}: {confidence}",
                    path.display()
                );
                assert!(
                    confidence > spreadsheet,
                    "{id}: {confidence} vs {spreadsheet}"
                );
            } else {
                assert_eq!(confidence, Confidence::NONE, "{id} on {}", path.display());
            }
        }
    }
    // More of the layout's columns, more confidence (the demo's export has every column
    // but the date of the last update).
    assert_eq!(sniff(UNITS_ID, &exports[0].1), Confidence::new(94));
    let few = files.write(
        "few.csv",
        "Unit No,Unit Name,Owner Name,Industry Code\nSKT-1,Alpha,X,32501\n",
    );
    assert_eq!(sniff(UNITS_ID, &few), Confidence::new(88));

    // Other files: a firm list, a survey with a registry unit column, a units list with
    // too little of a registry, random bytes, a workbook.
    let firm_list = files.write(
        "firms.csv",
        "Survey ID,Name of Unit,District,NTN No.,Registry Unit No.,Total Employees\n\
         DS-1,Alpha,Sialkot,1234567-8,SKT-00123,12\n",
    );
    let thin = files.write(
        "thin.csv",
        "Unit No,Unit Name,District\nSKT-1,Alpha,Sialkot\n",
    );
    let noise = files.write("noise.bin", [0u8, 159, 146, 150, 1, 2, 3]);
    let survey = demo("firms_cdi_diagnostic_survey_2023.xlsx");
    for path in [&firm_list, &thin, &noise, &survey] {
        for id in IDS {
            assert_eq!(
                sniff(id, path),
                Confidence::NONE,
                "{id} on {}",
                path.display()
            );
        }
    }
    assert!(spreadsheet_sniff(&firm_list) > Confidence::NONE);
    // Never a panic on a head cut anywhere, in any encoding.
    let bytes = std::fs::read(&exports[0].1).unwrap();
    for cut in [0, 1, 2, 3, 57, 100, 1000] {
        for id in IDS {
            let _ = importer(id).sniff(&bytes[..cut.min(bytes.len())], "x.csv");
        }
    }
}

#[test]
fn utf16_exports_and_title_rows_are_sniffed() {
    let files = Files::new();
    let text = "PSIC Loan Ledger 2024\r\n\r\nCase No\tScheme\tBorrower\tCNIC\tAmount (Rs)\tDate of Sanction\r\nCIL-1\tCottage Industry Loan\tX\t35202-1234567-1\t150,000\t01/02/2020\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let path = files.write("ledger.txt", bytes);
    assert!(sniff(LOANS_ID, &path) >= Confidence::new(85));
    let items = import(LOANS_ID, &path, &Value::Null).unwrap();
    assert!(row_errors(&items).is_empty(), "{:?}", row_errors(&items));
    let Some(Record::Loan(loan)) = records(&items)
        .into_iter()
        .find(|r| r.kind() == RecordKind::Loan)
    else {
        panic!("no loan");
    };
    assert_eq!(loan.amount_pkr, Some(150_000.0));
    assert_eq!(loan.status.as_deref(), Some("sanctioned"));
}

// ---- Allotments --------------------------------------------------------------------------

#[test]
fn allotments_give_each_estate_once_and_keep_cancelled_allotments_apart() {
    let files = Files::new();
    let path = files.write(
        "plots.csv",
        "Small Industrial Estates - Plot Register\n\
         Industrial Estate,Plot Number,Unit No,Date of Allotment,Allotment Status,Plot Area (Kanal),District\n\
         \"Small Industrial Estate, Sialkot\",A-1,SKT-00715,28/06/2022,Cancelled,2,Sialkot\n\
         Small Industrial Estate Sialkot,a-1,SKT-00708,23/08/2023,Alloted,2,Sialkot\n\
         Small Industrial Estate Sialkot,A-7,,,,1.5,Sialkot\n\
         Small Industrial Estate Kot Lakhpat Lahore,137,LHR-00489,,,,Lahore\n\
         Small Industrial Estate Kot Lakhpat Lahore,138,LHR-00490,01/01/2020,Disputed,,Lahore\n\
         Small Industrial Estate Kot Lakhpat Lahore,139,LHR-00491,32/01/2020,Allotted,big,Lahore\n",
    );
    assert!(sniff(ALLOTMENTS_ID, &path) >= Confidence::new(85));
    let items = import(ALLOTMENTS_ID, &path, &Value::Null).unwrap();
    assert_eq!(
        counts(&items),
        BTreeMap::from([
            (RecordKind::IndustrialEstate, 2),
            (RecordKind::PlotAllotment, 4),
        ])
    );
    let mut estates = Vec::new();
    let mut allotments = Vec::new();
    for record in records(&items) {
        match record {
            Record::IndustrialEstate(e) => {
                estates.push((e.source_key.clone(), e.name.clone(), e.district.clone()));
            }
            Record::PlotAllotment(a) => allotments.push((
                a.source_key.clone(),
                a.estate_key.clone(),
                a.plot_number.clone(),
                a.status,
                a.unit_number.clone(),
                a.allotted_on,
                a.plot_area_sqm.map(|m| (m * 100.0).round() / 100.0),
            )),
            _ => {}
        }
    }
    assert_eq!(
        estates,
        [
            (
                "small industrial estate sialkot".to_owned(),
                "Small Industrial Estate, Sialkot".to_owned(),
                Some("Sialkot".to_owned())
            ),
            (
                "small industrial estate kot lakhpat lahore".to_owned(),
                "Small Industrial Estate Kot Lakhpat Lahore".to_owned(),
                Some("Lahore".to_owned())
            ),
        ]
    );
    let sialkot = "small industrial estate sialkot";
    let lahore = "small industrial estate kot lakhpat lahore";
    assert_eq!(
        allotments,
        [
            (
                format!("{sialkot}/A-1/2022-06-28"),
                sialkot.to_owned(),
                "A-1".to_owned(),
                AllotmentStatus::Cancelled,
                Some("SKT-00715".to_owned()),
                date("2022-06-28"),
                Some(1011.71)
            ),
            (
                format!("{sialkot}/A-1/2023-08-23"),
                sialkot.to_owned(),
                "a-1".to_owned(),
                AllotmentStatus::Allotted,
                Some("SKT-00708".to_owned()),
                date("2023-08-23"),
                Some(1011.71)
            ),
            (
                format!("{sialkot}/A-7/vacant"),
                sialkot.to_owned(),
                "A-7".to_owned(),
                AllotmentStatus::Vacant,
                None,
                None,
                Some(758.79)
            ),
            (
                format!("{lahore}/137/LHR-00489"),
                lahore.to_owned(),
                "137".to_owned(),
                AllotmentStatus::Allotted,
                Some("LHR-00489".to_owned()),
                None,
                None
            ),
        ]
    );
    let found: Vec<(String, &str)> = row_errors(&items)
        .iter()
        .map(|e| (e.source_ref.to_string(), e.code.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "plots.csv!R7!C:Allotment Status".to_owned(),
                codes::UNKNOWN_CODE
            ),
            (
                "plots.csv!R8!C:Date of Allotment".to_owned(),
                codes::INVALID_DATE
            ),
            (
                "plots.csv!R8!C:Plot Area (Kanal)".to_owned(),
                codes::INVALID_NUMBER
            ),
        ]
    );
    let (_, declared) = columns(&items)[0];
    assert_eq!(declared["plot_allotment.unit_number"], "Unit No");
    assert_eq!(declared["industrial_estate.district"], "District");
}

#[test]
fn a_plot_area_without_a_unit_is_left_out_unless_the_options_name_one() {
    let files = Files::new();
    let path = files.write(
        "plots.csv",
        "Estate,Plot No,Unit No,Plot Area\nSIE Sialkot,A-1,SKT-1,100\n",
    );
    let items = import(ALLOTMENTS_ID, &path, &Value::Null).unwrap();
    assert!(
        logs(&items)
            .iter()
            .any(|(level, m)| *level == LogLevel::Warn
                && m.contains("the column Plot Area names no unit")),
        "{:?}",
        logs(&items)
    );
    let area = |items: &[Item]| {
        records(items).iter().find_map(|r| match r {
            Record::PlotAllotment(a) => Some(a.plot_area_sqm),
            _ => None,
        })
    };
    assert_eq!(area(&items), Some(None));
    let items = import(ALLOTMENTS_ID, &path, &json!({"plot_area_unit": "sqft"})).unwrap();
    let square_metres = area(&items).flatten().map(|a| (a * 1e6).round() / 1e6);
    assert_eq!(square_metres, Some(9.290_304));
    let error = open_error(ALLOTMENTS_ID, &path, &json!({"plot_area_unit": "bigha"}));
    assert!(error.message.contains("plot_area_unit must be"), "{error}");
    let error = open_error(ALLOTMENTS_ID, &path, &json!({"extract_date": "2024-01-01"}));
    assert!(
        error.message.contains("extract_date is not an option"),
        "{error}"
    );
}

// ---- Loans -------------------------------------------------------------------------------

#[test]
fn loans_give_borrowers_and_a_status_from_the_dates() {
    let files = Files::new();
    let path = files.write(
        "loans.csv",
        "Loan Number,Loan Scheme,Name of Borrower,Borrower CNIC,Unit Number,Loan Amount,Sanction Date (dd/mm/yyyy),Date of Disbursement,District\n\
         CDL-2021-003,Cluster Development Loan,Zainab Qureshi,35202-7265567-3,LHR-00489,\"Rs. 250,000\",30/03/2021,28/05/2021,Lahore\n\
         CIL-2024-001,Cottage Industry Loan,,,,150000,22/01/2024,,GUJRANWALA\n\
         CIL-2024-002,Cottage Industry Loan,Imran Butt,,,lots,22/01/2024,,Kasur\n\
         CIL-2024-003,,Sana Malik,,,10000,,,Kasur\n",
    );
    assert!(sniff(LOANS_ID, &path) >= Confidence::new(85));
    let items = import(LOANS_ID, &path, &Value::Null).unwrap();
    assert_eq!(
        counts(&items),
        BTreeMap::from([(RecordKind::Person, 1), (RecordKind::Loan, 2)])
    );
    let records = records(&items);
    let Record::Person(borrower) = records[0] else {
        panic!("{:?}", records[0]);
    };
    assert_eq!(borrower.source_key, "CDL-2021-003/borrower");
    assert_eq!(
        borrower.full_name.as_ref().unwrap().expose(),
        "Zainab Qureshi"
    );
    assert_eq!(borrower.cnic.as_ref().unwrap().expose(), "35202-7265567-3");
    assert_eq!(borrower.observed_on, date("2021-03-30"));
    let Record::Loan(loan) = records[1] else {
        panic!("{:?}", records[1]);
    };
    assert_eq!(loan.source_key, "CDL-2021-003");
    assert_eq!(loan.scheme, "Cluster Development Loan");
    assert_eq!(
        loan.borrower_person_key.as_deref(),
        Some("CDL-2021-003/borrower")
    );
    assert_eq!(loan.organisation_key, None);
    assert_eq!(loan.unit_number.as_deref(), Some("LHR-00489"));
    assert_eq!(loan.amount_pkr, Some(250_000.0));
    assert_eq!(
        (loan.sanctioned_on, loan.disbursed_on),
        (date("2021-03-30"), date("2021-05-28"))
    );
    assert_eq!(loan.district.as_deref(), Some("Lahore"));
    assert_eq!(loan.status.as_deref(), Some("disbursed"));
    let Record::Loan(pending) = records[2] else {
        panic!("{:?}", records[2]);
    };
    assert_eq!(pending.borrower_person_key, None);
    assert_eq!(pending.status.as_deref(), Some("sanctioned"));
    assert_eq!(pending.district.as_deref(), Some("GUJRANWALA"));

    let found: Vec<(String, Option<&str>, &str)> = row_errors(&items)
        .iter()
        .map(|e| {
            (
                e.source_ref.to_string(),
                e.field.as_deref(),
                e.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "loans.csv!R4!C:Loan Amount".to_owned(),
                Some("amount_pkr"),
                codes::INVALID_NUMBER
            ),
            (
                "loans.csv!R5!C:Loan Scheme".to_owned(),
                Some("scheme"),
                codes::MISSING_REQUIRED
            ),
        ]
    );
    for message in messages(&items) {
        for value in ["Zainab", "Imran", "Sana", "7265567"] {
            assert!(!message.contains(value), "{message}");
        }
    }
    let (_, declared) = columns(&items)[0];
    assert_eq!(declared["loan.district"], "District");
    assert_eq!(declared["loan.unit_number"], "Unit Number");
    assert_eq!(declared["person.cnic"], "Borrower CNIC");
    assert_eq!(declared["loan.sanctioned_on"], "Sanction Date (dd/mm/yyyy)");
}

// ---- The demo exports --------------------------------------------------------------------

/// The personal values of a demo file: the cells of its name and CNIC columns.
fn personal_values(path: &Path, headers: &[&str]) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let wanted: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| headers.contains(&h.trim_start_matches('\u{feff}')))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(wanted.len(), headers.len());
    let mut values = BTreeSet::new();
    for record in reader.records() {
        let record = record.unwrap();
        for &i in &wanted {
            let value = record[i].trim();
            if !value.is_empty() {
                values.insert(value.to_owned());
                // Its digits alone too, and the name's words.
                values.insert(value.replace('-', ""));
            }
        }
    }
    values
}

fn assert_no_personal_values(items: &[Item], personal: &BTreeSet<String>) {
    for message in messages(items) {
        for value in personal {
            assert!(
                !message.contains(value.as_str()),
                "a personal value in: {message}"
            );
        }
    }
}

#[test]
fn the_demo_units_give_120_firms_without_row_errors() {
    let path = demo("psic_punjab_registered_units.csv");
    let items = import(UNITS_ID, &path, &Value::Null).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let counted = counts(&items);
    assert_eq!(counted[&RecordKind::Organisation], 120);
    assert_eq!(counted[&RecordKind::FirmObservation], 120);
    assert_eq!(counted[&RecordKind::Person], 120);
    assert_eq!(counted[&RecordKind::Affiliation], 120);
    let mut keys = BTreeSet::new();
    let mut cnics = BTreeMap::<String, usize>::new();
    for record in records(&items) {
        match record {
            Record::Organisation(o) => {
                assert!(keys.insert(o.source_key.clone()), "{}", o.source_key);
                assert_eq!(o.identifiers[0].scheme, schemes::PSIC_PUNJAB_UNIT);
                assert!(o.industry_code.is_some() && o.district.is_some());
                assert!(o.registered_on.is_some() && o.status.is_some());
            }
            Record::Person(p) => {
                *cnics
                    .entry(p.cnic.as_ref().unwrap().expose().to_owned())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    // Three owners hold two units each: six person records of three persons.
    assert_eq!(cnics.values().filter(|n| **n == 2).count(), 3);
    assert_no_personal_values(
        &items,
        &personal_values(&path, &["Owner Name", "Owner CNIC"]),
    );
}

#[test]
fn the_demo_allotments_give_40_allotments_on_3_estates() {
    let path = demo("psic_punjab_estate_allotments.csv");
    let items = import(ALLOTMENTS_ID, &path, &Value::Null).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    assert_eq!(
        counts(&items),
        BTreeMap::from([
            (RecordKind::IndustrialEstate, 3),
            (RecordKind::PlotAllotment, 40),
        ])
    );
    let mut statuses = BTreeMap::<String, usize>::new();
    let mut keys = BTreeSet::new();
    for record in records(&items) {
        if let Record::PlotAllotment(a) = record {
            *statuses.entry(format!("{:?}", a.status)).or_default() += 1;
            assert!(keys.insert(a.source_key.clone()), "{}", a.source_key);
        }
    }
    assert_eq!(
        statuses,
        BTreeMap::from([
            ("Allotted".to_owned(), 26),
            ("Cancelled".to_owned(), 4),
            ("Vacant".to_owned(), 10)
        ])
    );
}

#[test]
fn the_demo_loans_give_50_loans_and_their_borrowers() {
    let path = demo("psic_punjab_loans.csv");
    let items = import(LOANS_ID, &path, &Value::Null).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    assert_eq!(
        counts(&items),
        BTreeMap::from([(RecordKind::Person, 50), (RecordKind::Loan, 50)])
    );
    let mut without_unit = 0;
    let mut sanctioned = 0;
    for record in records(&items) {
        if let Record::Loan(l) = record {
            assert!(
                l.amount_pkr
                    .is_some_and(|a| (30_000.0..=300_000.0).contains(&a))
            );
            without_unit += usize::from(l.unit_number.is_none());
            sanctioned += usize::from(l.status.as_deref() == Some("sanctioned"));
        }
    }
    assert_eq!((without_unit, sanctioned), (5, 4));
    assert_no_personal_values(
        &items,
        &personal_values(&path, &["Borrower Name", "Borrower CNIC"]),
    );
}
