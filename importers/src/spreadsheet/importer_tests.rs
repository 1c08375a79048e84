//! Tests of the spreadsheet importer on real files: XLSX written with rust_xlsxwriter, ODS
//! assembled by hand, CSV; with and without mapping files; and bad inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hub_plugin_sdk::read_all;
use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    Affiliation, AffiliationRole, ClusterMembership, Confidence, Course, Date, FirmObservation,
    IdentifierValue, ImportError, Importer, IndicatorScope, IndicatorValue, Input, Item, LogLevel,
    Modality, Network, NetworkKind, NetworkMember, NetworkRole, Organisation, OrganisationKind,
    OrganisationStatus, Participation, Person, Record, RecordKind, RowError, Sex, TrainingEvent,
    ValueType, codes, schemes,
};
use rust_xlsxwriter::{ExcelDateTime, Format};

use super::*;

/// A temporary folder holding the test's files.
pub(super) struct Files(tempfile::TempDir);

impl Files {
    pub(super) fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    pub(super) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// A mapping file as the hub passes it: TOML read into JSON.
pub(super) fn mapping(text: &str) -> Value {
    toml::from_str(text).unwrap()
}

/// Every item of a file, read in batches of 100.
pub(super) fn import(path: &Path, options: &Value) -> Result<Vec<Item>, ImportError> {
    read_all(
        &mut SpreadsheetImporter::new(),
        Input::new(path),
        options,
        100,
    )
}

/// The error of opening a file.
pub(super) fn open_error(path: &Path, options: &Value) -> ImportError {
    let mut importer = SpreadsheetImporter::new();
    match importer.open(Input::new(path), options) {
        Ok(_) => panic!("{} should not open", path.display()),
        Err(error) => error,
    }
}

pub(super) fn records(items: &[Item]) -> Vec<&Record> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Record(r) => Some(&r.record),
            _ => None,
        })
        .collect()
}

pub(super) fn row_errors(items: &[Item]) -> Vec<&RowError> {
    items.iter().filter_map(Item::as_row_error).collect()
}

/// The number of records of each kind.
pub(super) fn counts(items: &[Item]) -> BTreeMap<RecordKind, usize> {
    let mut out = BTreeMap::new();
    for record in records(items) {
        *out.entry(record.kind()).or_default() += 1;
    }
    out
}

/// Items without the log lines, to compare two readings of a file.
pub(super) fn without_logs(items: Vec<Item>) -> Vec<Item> {
    items
        .into_iter()
        .filter(|item| !matches!(item, Item::Log { .. }))
        .collect()
}

macro_rules! of_kind {
    ($name:ident, $variant:ident, $ty:ty) => {
        fn $name(items: &[Item]) -> Vec<&$ty> {
            records(items)
                .into_iter()
                .filter_map(|r| match r {
                    Record::$variant(x) => Some(x),
                    _ => None,
                })
                .collect()
        }
    };
}

of_kind!(organisations, Organisation, Organisation);
of_kind!(persons, Person, Person);
of_kind!(affiliations, Affiliation, Affiliation);
of_kind!(observations, FirmObservation, FirmObservation);
of_kind!(memberships, ClusterMembership, ClusterMembership);
of_kind!(participations, Participation, Participation);
of_kind!(events, TrainingEvent, TrainingEvent);
of_kind!(courses, Course, Course);
of_kind!(values, IndicatorValue, IndicatorValue);
of_kind!(networks, Network, Network);
of_kind!(members, NetworkMember, NetworkMember);

fn date(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

/// A firm list as cluster teams compile it: a merged title, a note, a two-row header with
/// merged parents, turnover as text with separators, dates as date cells, Excel serials
/// and day-first text, an empty row, and formatted empty rows at the end.
fn firm_list_xlsx(files: &Files) -> PathBuf {
    let path = files.path("firm list.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let plain = Format::new();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = book.add_worksheet();
    sheet.set_name("Firm List").unwrap();
    sheet
        .merge_range(
            0,
            0,
            0,
            7,
            "Lahore Auto Parts Cluster - Firm List 2023",
            &plain,
        )
        .unwrap();
    sheet
        .write_string(1, 0, "Compiled by the cluster team")
        .unwrap();
    for (column, name) in [
        (0, "Name of Unit"),
        (1, "NTN No."),
        (2, "District"),
        (5, "Annual Turnover (PKR)"),
        (6, "Registration Date"),
        (7, "Year"),
    ] {
        sheet
            .merge_range(2, column, 3, column, name, &plain)
            .unwrap();
    }
    sheet.merge_range(2, 3, 2, 4, "Employees", &plain).unwrap();
    sheet.write_string(3, 3, "Total").unwrap();
    sheet.write_string(3, 4, "Female").unwrap();

    sheet
        .write_string(4, 0, "Ravi Auto Parts (Pvt) Ltd")
        .unwrap();
    sheet.write_string(4, 1, "1234567-8").unwrap();
    sheet.write_string(4, 2, "Lahore").unwrap();
    sheet.write_number(4, 3, 40).unwrap();
    sheet.write_number(4, 4, 5).unwrap();
    sheet.write_string(4, 5, "12,500,000").unwrap();
    let registered = ExcelDateTime::from_ymd(2019, 3, 12).unwrap();
    sheet
        .write_datetime_with_format(4, 6, &registered, &date_format)
        .unwrap();
    sheet.write_number(4, 7, 2023).unwrap();

    sheet.write_string(5, 0, "Crescent Engineering").unwrap();
    sheet.write_string(5, 2, " LAHORE").unwrap();
    sheet.write_string(5, 3, "1,200").unwrap();
    sheet.write_number(5, 4, 30).unwrap();
    sheet.write_number(5, 5, 9_800_000.5).unwrap();
    sheet.write_number(5, 6, 45_000).unwrap();
    sheet.write_number(5, 7, 2023).unwrap();

    // Row 7 is empty; row 8 has data; rows 9 to 12 hold only formatting.
    sheet.write_string(7, 0, "Star Works").unwrap();
    sheet.write_string(7, 2, "Sheikhupura").unwrap();
    sheet.write_number(7, 3, 12).unwrap();
    sheet.write_string(7, 6, "15/03/2023").unwrap();
    sheet.write_number(7, 7, 2023).unwrap();
    for row in 8..12 {
        sheet.write_blank(row, 0, &date_format).unwrap();
    }
    book.add_worksheet().set_name("Notes").unwrap();
    book.save(&path).unwrap();
    path
}

#[test]
fn a_firm_list_with_title_rows_and_a_merged_header_is_detected() {
    let files = Files::new();
    let path = firm_list_xlsx(&files);
    let items = import(&path, &Value::Null).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    assert_eq!(
        counts(&items),
        BTreeMap::from([
            (RecordKind::Organisation, 3),
            (RecordKind::FirmObservation, 3)
        ])
    );
    let logs: Vec<&str> = items
        .iter()
        .filter_map(|item| match item {
            Item::Log { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("the sheet Notes is not imported")),
        "{logs:?}"
    );
    assert!(
        logs.iter()
            .any(|l| l.contains("header in row 3, rows read as firms")),
        "{logs:?}"
    );

    let orgs = organisations(&items);
    let ravi = orgs[0];
    assert_eq!(ravi.source_key, "ntn:1234567-8");
    assert_eq!(ravi.kind, OrganisationKind::Firm);
    assert_eq!(ravi.name, "Ravi Auto Parts (Pvt) Ltd");
    assert_eq!(
        ravi.identifiers,
        [IdentifierValue::new(schemes::NTN, "1234567-8")]
    );
    assert_eq!(ravi.district.as_deref(), Some("Lahore"));
    assert_eq!(
        (ravi.employees_total, ravi.employees_female),
        (Some(40), Some(5))
    );
    assert_eq!(ravi.registered_on, Some(date(2019, 3, 12)));

    let crescent = orgs[1];
    assert_eq!(crescent.source_key, "name:crescent engineering|lahore");
    assert_eq!(crescent.district.as_deref(), Some("LAHORE"));
    assert_eq!(crescent.employees_total, Some(1200));
    assert_eq!(crescent.registered_on, Some(date(2023, 3, 15)));
    let star = orgs[2];
    assert_eq!(star.source_key, "name:star works|sheikhupura");
    assert_eq!(star.registered_on, Some(date(2023, 3, 15)));

    // The row numbers are the spreadsheet's, empty rows counted.
    let rows: Vec<Option<u64>> = items
        .iter()
        .filter_map(|item| match item {
            Item::Record(r) if r.record.kind() == RecordKind::Organisation => {
                Some(r.source_ref.row)
            }
            _ => None,
        })
        .collect();
    assert_eq!(rows, [Some(5), Some(6), Some(8)]);

    // The Year column is the observations' period; the head counts join them.
    let obs = observations(&items);
    assert_eq!(obs[0].organisation_key, "ntn:1234567-8");
    assert_eq!(obs[0].period, "2023");
    assert_eq!(obs[0].turnover_pkr, Some(12_500_000.0));
    assert_eq!(obs[0].employees_total, Some(40));
    assert_eq!(obs[1].turnover_pkr, Some(9_800_000.5));
    assert_eq!(
        (
            obs[2].employees_total,
            obs[2].employees_female,
            obs[2].turnover_pkr
        ),
        (Some(12), None, None)
    );
}

/// A CSV file written from lines.
fn csv(files: &Files, name: &str, lines: &[&str]) -> PathBuf {
    files.write(name, (lines.join("\r\n") + "\r\n").as_bytes())
}

#[test]
fn firms_via_a_mapping_with_observation_groups_and_a_contact() {
    let files = Files::new();
    let path = csv(
        &files,
        "survey.csv",
        &[
            "Diagnostic survey 2023",
            "Sr. No.;Survey ID;Name of Unit;Cluster;District;NTN No.;SECP Reg. No.;Registry Unit No.;Year Established;Total Employees;Female Employees;Annual Turnover (PKR);Exports (USD);Certifications;Contact Person;Phone;Status;Kind",
            "1;DS23-0001;Latif Surgical;sialkot-surgical;Sialkot;6060874-6;;;1989;5;0;9,700,000;31000;\"ISO 13485; CE\";Nasir Sandhu;0336-6279082;Active;",
            "2;DS23-0002;Tariq Surgical;sialkot-surgical, lahore-garments;Sialkot;;0063638;SKT-00612;2013;9;;25850000;0;;;;closed;",
            "3;DS23-0003;Sialkot Chamber;;Sialkot;;;;;;;;;;;;;chamber",
        ],
    );
    let options = mapping(
        r#"
        source = "cdi-survey-2023"
        importer = "spreadsheet"
        [csv]
        delimiter = ";"
        [[sheets]]
        target = "firm_observations"
        header_row = 2
        [sheets.columns]
        "Sr. No." = ""
        "survey id" = "firm.source_key"
        "NAME OF UNIT" = "firm.name"
        "Cluster" = "firm.cluster"
        "District" = "firm.district"
        "NTN No" = "firm.ntn"
        "SECP Reg. No." = "firm.secp"
        "Registry Unit No." = "firm.registry_unit"
        "Year Established" = "firm.founded_year"
        "Total Employees" = "firm.employees_total"
        "Female Employees" = "firm.employees_female"
        "Contact Person" = "contact.name"
        "Phone" = "contact.phone"
        "Status" = "firm.status"
        "Kind" = "firm.kind"
        [sheets.constants]
        "firm.observed_on" = "31/03/2023"
        "membership.valid_from" = "2023-03-31"
        [[sheets.observations]]
        period = "2022"
        turnover_pkr = "Annual Turnover (PKR)"
        exports_usd = "Exports (USD)"
        [[sheets.observations]]
        period = "2023"
        employees_total = "Total Employees"
        employees_female = "Female Employees"
        certifications = "Certifications"
        "#,
    );
    let items = import(&path, &options).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let orgs = organisations(&items);
    assert_eq!(orgs.len(), 3);
    let latif = orgs[0];
    assert_eq!(latif.source_key, "DS23-0001");
    assert_eq!(latif.founded_year, Some(1989));
    assert_eq!(latif.observed_on, Some(date(2023, 3, 31)));
    assert_eq!(latif.status, Some(OrganisationStatus::Active));
    assert!(latif.clusters.is_empty(), "dated memberships instead");
    let tariq = orgs[1];
    assert_eq!(
        tariq.identifiers,
        [
            IdentifierValue::new(schemes::SECP, "0063638"),
            IdentifierValue::new(schemes::PSIC_PUNJAB_UNIT, "SKT-00612"),
        ]
    );
    assert_eq!(tariq.status, Some(OrganisationStatus::Closed));
    assert_eq!(orgs[2].kind, OrganisationKind::Chamber);

    let clusters: Vec<(&str, &str)> = memberships(&items)
        .iter()
        .map(|m| (m.source_key.as_str(), m.cluster.as_str()))
        .collect();
    assert_eq!(
        clusters,
        [
            ("DS23-0001/sialkot-surgical", "sialkot-surgical"),
            ("DS23-0002/sialkot-surgical", "sialkot-surgical"),
            ("DS23-0002/lahore-garments", "lahore-garments"),
        ]
    );
    assert!(
        memberships(&items)
            .iter()
            .all(|m| m.valid_from == Some(date(2023, 3, 31)))
    );

    let obs = observations(&items);
    type Summary<'a> = (
        &'a str,
        &'a str,
        Option<u32>,
        Option<f64>,
        Option<f64>,
        usize,
    );
    let summary: Vec<Summary<'_>> = obs
        .iter()
        .map(|o| {
            (
                o.organisation_key.as_str(),
                o.period.as_str(),
                o.employees_total,
                o.turnover_pkr,
                o.exports_usd,
                o.certifications.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "DS23-0001",
                "2022",
                None,
                Some(9_700_000.0),
                Some(31_000.0),
                0
            ),
            ("DS23-0001", "2023", Some(5), None, None, 2),
            ("DS23-0002", "2022", None, Some(25_850_000.0), Some(0.0), 0),
            ("DS23-0002", "2023", Some(9), None, None, 0),
        ]
    );
    assert_eq!(obs[1].certifications, ["ISO 13485", "CE"]);

    // The contact person of the first firm, affiliated from the survey date.
    let people = persons(&items);
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].source_key, "DS23-0001/contact");
    assert_eq!(
        people[0].full_name.as_ref().map(|n| n.expose()),
        Some("Nasir Sandhu")
    );
    assert_eq!(
        people[0].phone.as_ref().map(|n| n.expose()),
        Some("0336-6279082")
    );
    let affiliation = affiliations(&items)[0];
    assert_eq!(affiliation.role, AffiliationRole::Contact);
    assert_eq!(affiliation.person_key, "DS23-0001/contact");
    assert_eq!(affiliation.organisation_key, "DS23-0001");
    assert_eq!(affiliation.valid_from, Some(date(2023, 3, 31)));

    // Each row's records come in reference order.
    let kinds: Vec<RecordKind> = records(&items)[..6].iter().map(|r| r.kind()).collect();
    assert_eq!(
        kinds,
        [
            RecordKind::Organisation,
            RecordKind::ClusterMembership,
            RecordKind::FirmObservation,
            RecordKind::FirmObservation,
            RecordKind::Person,
            RecordKind::Affiliation,
        ]
    );
}

#[test]
fn participants_via_a_mapping() {
    let files = Files::new();
    let path = csv(
        &files,
        "attendance.csv",
        &[
            "Event,S#,Participant Name,Gender,CNIC,Mobile,Firm / Organisation,Survey ID,Designation,Attendance %,Pre-test,Post-test,Certificate No.",
            "EVT-1,1,Ayesha Khan,F,35202-1234567-2,0300-1234567,Ravi Garments,DS23-0151,Owner,100,40,72,EVT-1/001",
            "EVT-1,2,Bilal Ahmed,male,35202-7654321-1,,Ravi Garments (Pvt) Ltd,DS23-0151,Supervisor,80%,,,",
            "EVT-1,3,Nadia Virk,Female,35202-3788686-8,,UNIDO,,Project Assistant,100,41,69,EVT-1/002",
            "EVT-2,1,Ayesha Khan,F,35202-1234567-2,,Ravi Garments,DS23-0151,Owner,100,50,80,EVT-2/001",
        ],
    );
    let options = mapping(
        r#"
        [[sheets]]
        target = "attendance"
        [sheets.columns]
        "Event" = "event.source_key"
        "S#" = "participation.serial"
        "Participant Name" = "person.name"
        "Gender" = "person.sex"
        "CNIC" = "person.cnic"
        "Mobile" = "person.phone"
        "Firm / Organisation" = "firm.name"
        "Survey ID" = "firm.id.source:cdi-survey-2023"
        "Designation" = "participation.role"
        "Attendance %" = "participation.attendance_pct"
        "Pre-test" = "participation.pre_score"
        "Post-test" = "participation.post_score"
        "Certificate No." = "participation.certificate_number"
        [sheets.constants]
        "firm.kind_without_id" = "agency"
        "#,
    );
    let items = import(&path, &options).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let people = persons(&items);
    let keys: Vec<&str> = people.iter().map(|p| p.source_key.as_str()).collect();
    assert_eq!(keys, ["EVT-1/1", "EVT-1/2", "EVT-1/3", "EVT-2/1"]);
    assert_eq!(people[0].sex, Some(Sex::Female));
    assert_eq!(people[1].sex, Some(Sex::Male));
    assert_eq!(
        people[0].cnic.as_ref().map(|c| c.expose()),
        Some("35202-1234567-2")
    );

    // The firm is emitted once, with the key of the survey ID it cites; the agency staff
    // member's organisation has no identifier and is an agency.
    let orgs = organisations(&items);
    assert_eq!(orgs.len(), 2);
    assert_eq!(orgs[0].source_key, "source:cdi-survey-2023:DS23-0151");
    assert_eq!(orgs[0].name, "Ravi Garments");
    assert_eq!(
        orgs[0].identifiers,
        [IdentifierValue::new("source:cdi-survey-2023", "DS23-0151")]
    );
    assert_eq!(orgs[0].kind, OrganisationKind::Firm);
    assert_eq!(orgs[1].source_key, "name:unido");
    assert_eq!(orgs[1].kind, OrganisationKind::Agency);

    let parts = participations(&items);
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0].source_key, "EVT-1/1");
    assert_eq!(parts[0].event_key, "EVT-1");
    assert_eq!(parts[0].person_key.as_deref(), Some("EVT-1/1"));
    assert_eq!(
        parts[1].organisation_key.as_deref(),
        Some("source:cdi-survey-2023:DS23-0151")
    );
    assert_eq!(parts[2].organisation_key.as_deref(), Some("name:unido"));
    assert_eq!(parts[0].completed, Some(true));
    assert_eq!(parts[1].completed, Some(false));
    assert_eq!(parts[1].attendance_pct, Some(80.0));
    assert_eq!(parts[1].pre_score, None);
    assert_eq!(parts[0].post_score, Some(72.0));
    assert_eq!(parts[0].role.as_deref(), Some("Owner"));
    assert_eq!(parts[0].sex, Some(Sex::Female));
    assert_eq!(parts[0].certificate_number.as_deref(), Some("EVT-1/001"));
}

#[test]
fn training_events_via_a_mapping() {
    let files = Files::new();
    let path = files.write(
        "events.tsv",
        "Event Code\tCourse Code\tCourse Title\tHours\tProvider\tTrainers\tStart Date\tEnd Date\tVenue District\tCluster\tModality\n\
         EVT-1\tFIN-101\tFinancial Management\t12\tPunjab Small Industries Corporation\tRizwan Arshad; Salman Rana\t09/05/2022\t11/05/2022\tSialkot\tsialkot-surgical\tblended\n\
         EVT-2\tFIN-101\tFinancial Management\t12\tPunjab Small Industries Corporation\t\t2022-08-20\t22/08/2022\tLahore\t\tface to face\n\
         EVT-3\t\tExport Marketing\t\tUNIDO\t\t\t\t\t\tby pigeon\n"
            .as_bytes(),
    );
    let options = mapping(
        r#"
        [[sheets]]
        target = "training_events"
        [sheets.columns]
        "Event Code" = "event.code"
        "Course Code" = "course.code"
        "Course Title" = "course.title"
        "Hours" = "course.hours"
        "Provider" = "event.provider"
        "Trainers" = "event.trainers"
        "Start Date" = "event.start_date"
        "End Date" = "event.end_date"
        "Venue District" = "event.venue_district"
        "Cluster" = "event.cluster"
        "Modality" = "event.modality"
        "#,
    );
    let items = import(&path, &options).unwrap();
    // The unknown modality is a row error; the event is kept without it.
    let errors = row_errors(&items);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, codes::UNKNOWN_CODE);
    assert_eq!(errors[0].field.as_deref(), Some("event.modality"));
    assert_eq!(errors[0].source_ref.row, Some(4));
    assert_eq!(errors[0].source_ref.column.as_deref(), Some("Modality"));

    let course_keys: Vec<&str> = courses(&items)
        .iter()
        .map(|c| c.source_key.as_str())
        .collect();
    assert_eq!(course_keys, ["FIN-101", "course:export marketing"]);
    assert_eq!(courses(&items)[0].hours, Some(12.0));
    let orgs = organisations(&items);
    let providers: Vec<(&str, OrganisationKind)> = orgs
        .iter()
        .map(|o| (o.source_key.as_str(), o.kind))
        .collect();
    assert_eq!(
        providers,
        [
            (
                "provider:punjab small industries corporation",
                OrganisationKind::TrainingProvider
            ),
            ("provider:unido", OrganisationKind::TrainingProvider),
        ]
    );
    let evts = events(&items);
    assert_eq!(evts.len(), 3);
    assert_eq!(evts[0].source_key, "EVT-1");
    assert_eq!(evts[0].code.as_deref(), Some("EVT-1"));
    assert_eq!(evts[0].title, "Financial Management");
    assert_eq!(evts[0].course_key.as_deref(), Some("FIN-101"));
    assert_eq!(
        evts[0].provider_organisation_key.as_deref(),
        Some("provider:punjab small industries corporation")
    );
    let trainers: Vec<&str> = evts[0].trainers.iter().map(|t| t.expose()).collect();
    assert_eq!(trainers, ["Rizwan Arshad", "Salman Rana"]);
    assert_eq!(evts[0].start_date, Some(date(2022, 5, 9)));
    assert_eq!(evts[1].start_date, Some(date(2022, 8, 20)));
    assert_eq!(evts[0].modality, Some(Modality::Blended));
    assert_eq!(evts[1].modality, Some(Modality::InPerson));
    assert_eq!(evts[2].modality, None);
    assert_eq!(evts[1].cluster, None);
}

#[test]
fn indicator_values_via_a_mapping() {
    let files = Files::new();
    let path = csv(
        &files,
        "results.csv",
        &[
            "Indicator Code,Indicator,Unit,Cluster,Breakdown,Breakdown Value,Year,Baseline,Target,Actual",
            "CDI-4,People trained,persons,lahore-garments,sex,female,2021,0,,0",
            "CDI-4,People trained,persons,lahore-garments,sex,female,2022,0,20,23",
            "CDI-4,People trained,persons,,,,2021,5,,5",
            "CDI-4,People trained,persons,,,,2022,5,40,n/a",
        ],
    );
    let options = mapping(
        r#"
        [[sheets]]
        target = "indicator_values"
        [sheets.columns]
        "Indicator Code" = "indicator.code"
        "Indicator" = "indicator.name"
        "Unit" = "indicator.unit"
        "Cluster" = "value.cluster"
        "Breakdown" = "value.breakdown"
        "Breakdown Value" = "value.breakdown_value"
        "Year" = "value.year"
        "Baseline" = "value.baseline"
        "Target" = "value.target"
        "Actual" = "value.actual"
        [sheets.constants]
        "value.programme" = "punjab-cdi"
        "#,
    );
    let items = import(&path, &options).unwrap();
    let errors = row_errors(&items);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, codes::INVALID_NUMBER);
    assert_eq!(errors[0].field.as_deref(), Some("value.actual"));
    assert_eq!(errors[0].source_ref.row, Some(5));
    assert_eq!(errors[0].source_ref.column.as_deref(), Some("Actual"));

    let keys: Vec<&str> = values(&items)
        .iter()
        .map(|v| v.source_key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "CDI-4|cluster:lahore-garments|sex=female|2021|baseline",
            "CDI-4|cluster:lahore-garments|sex=female|2021|actual",
            "CDI-4|cluster:lahore-garments|sex=female|2022|target",
            "CDI-4|cluster:lahore-garments|sex=female|2022|actual",
            "CDI-4|programme:punjab-cdi|total|2021|baseline",
            "CDI-4|programme:punjab-cdi|total|2021|actual",
            "CDI-4|programme:punjab-cdi|total|2022|target",
        ]
    );
    let first = values(&items)[0];
    assert_eq!(first.scope, IndicatorScope::Cluster);
    assert_eq!(first.value_type, ValueType::Baseline);
    assert_eq!(first.period, "2021");
    assert_eq!(first.indicator_name.as_deref(), Some("People trained"));
    assert_eq!(first.indicator_unit.as_deref(), Some("persons"));
    assert_eq!(first.breakdown.as_deref(), Some("sex"));
    let programme = values(&items)[4];
    assert_eq!(programme.scope, IndicatorScope::Programme);
    assert_eq!(programme.value, 5.0);

    // A long sheet of one value per row, with its type in a column and a scope given.
    let path = csv(
        &files,
        "long.csv",
        &[
            "Code,Scope,Area,Period,Value Type,Value,Note",
            "DLI-3,area,Sialkot,FY2022-23,target,10,first tranche",
            "DLI-3,area,Sialkot,FY2022-23,actual,12,",
            "DLI-3,area,,FY2022-23,actual,12,",
        ],
    );
    let long = mapping(
        r#"
        [[sheets]]
        target = "indicator_values"
        [sheets.columns]
        "Code" = "indicator.code"
        "Scope" = "value.scope"
        "Area" = "value.area"
        "Period" = "value.period"
        "Value Type" = "value.value_type"
        "Value" = "value.value"
        "Note" = "value.note"
        "#,
    );
    let items = import(&path, &long).unwrap();
    let vals = values(&items);
    assert_eq!(vals.len(), 2);
    assert_eq!(
        vals[0].source_key,
        "DLI-3|area:Sialkot|total|FY2022-23|target"
    );
    assert_eq!(vals[0].note.as_deref(), Some("first tranche"));
    assert_eq!(vals[1].value_type, ValueType::Actual);
    let errors = row_errors(&items);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, codes::MISSING_REQUIRED);
    assert_eq!(errors[0].field.as_deref(), Some("value.area"));
}

#[test]
fn networks_and_members_via_a_mapping() {
    let files = Files::new();
    let path = files.path("networks.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = book.add_worksheet();
    sheet.set_name("Networks").unwrap();
    for (column, name) in ["Network", "Type", "Cluster", "Formed On"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, column as u16, *name).unwrap();
    }
    sheet
        .write_string(1, 0, "Sialkot Exporters Consortium")
        .unwrap();
    sheet.write_string(1, 1, "export consortium").unwrap();
    sheet.write_string(1, 2, "sialkot-surgical").unwrap();
    let formed = ExcelDateTime::from_ymd(2020, 4, 1).unwrap();
    sheet
        .write_datetime_with_format(1, 3, &formed, &date_format)
        .unwrap();
    sheet.write_string(2, 0, "Lahore Knitwear Network").unwrap();
    sheet.write_string(2, 1, "Horizontal").unwrap();
    let members = book.add_worksheet();
    members.set_name("Members").unwrap();
    for (column, name) in [
        "Network",
        "Survey ID",
        "Member Firm",
        "NTN No.",
        "Role",
        "Joined On",
    ]
    .iter()
    .enumerate()
    {
        members.write_string(0, column as u16, *name).unwrap();
    }
    let rows = [
        [
            "Sialkot Exporters Consortium",
            "DS23-0042",
            "Mehran Dental (Pvt) Ltd",
            "6008006-3",
            "lead",
            "01/04/2020",
        ],
        [
            "Sialkot Exporters Consortium",
            "",
            "Jhelum Surgical",
            "2171188-7",
            "member",
            "",
        ],
        [
            "Lahore Knitwear Network",
            "DS23-0042",
            "Mehran Dental",
            "",
            "Member",
            "2022-02-13",
        ],
        ["Lahore Knitwear Network", "", "", "", "member", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                members
                    .write_string(r as u32 + 1, c as u16, *value)
                    .unwrap();
            }
        }
    }
    book.save(&path).unwrap();
    let options = mapping(
        r#"
        [[sheets]]
        sheet = "networks"
        target = "networks"
        [sheets.constants]
        "network.programme" = "punjab-cdi"
        [[sheets]]
        sheet = "Members"
        target = "network_members"
        [sheets.columns]
        "Network" = "network.name"
        "Survey ID" = "firm.id.source:cdi-survey-2023"
        "Member Firm" = "firm.name"
        "NTN No." = "firm.ntn"
        "Role" = "member.role"
        "Joined On" = "member.joined_on"
        "#,
    );
    let items = import(&path, &options).unwrap();
    let nets = networks(&items);
    assert_eq!(nets.len(), 2);
    assert_eq!(nets[0].source_key, "sialkot exporters consortium");
    assert_eq!(nets[0].kind, NetworkKind::ExportConsortium);
    assert_eq!(nets[0].formed_on, Some(date(2020, 4, 1)));
    assert_eq!(nets[0].programme.as_deref(), Some("punjab-cdi"));
    assert_eq!(nets[1].kind, NetworkKind::Horizontal);

    let orgs = organisations(&items);
    let keys: Vec<&str> = orgs.iter().map(|o| o.source_key.as_str()).collect();
    assert_eq!(
        keys,
        ["source:cdi-survey-2023:DS23-0042", "ntn:2171188-7"],
        "a firm in two networks is emitted once"
    );
    let mems = members_of(&items);
    let summary: Vec<(&str, &str, Option<NetworkRole>, Option<Date>)> = mems
        .iter()
        .map(|m| {
            (
                m.source_key.as_str(),
                m.network_key.as_str(),
                m.role,
                m.joined_on,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "sialkot exporters consortium/source:cdi-survey-2023:DS23-0042",
                "sialkot exporters consortium",
                Some(NetworkRole::Lead),
                Some(date(2020, 4, 1))
            ),
            (
                "sialkot exporters consortium/ntn:2171188-7",
                "sialkot exporters consortium",
                Some(NetworkRole::Member),
                None
            ),
            (
                "lahore knitwear network/source:cdi-survey-2023:DS23-0042",
                "lahore knitwear network",
                Some(NetworkRole::Member),
                Some(date(2022, 2, 13))
            ),
        ]
    );
    let errors = row_errors(&items);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field.as_deref(), Some("firm.name"));
    assert_eq!(errors[0].source_ref.sheet.as_deref(), Some("Members"));
    assert_eq!(errors[0].source_ref.row, Some(5));
    assert_eq!(errors[0].source_ref.column.as_deref(), Some("Member Firm"));
}

fn members_of(items: &[Item]) -> Vec<&NetworkMember> {
    members(items)
}

/// An ODS workbook with one attendance sheet per event, named by the event's code.
fn attendance_ods() -> Vec<u8> {
    let cell = |text: &str| {
        format!(
            r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
        )
    };
    let number = |n: u32| {
        format!(
            r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
        )
    };
    let row = |cells: Vec<String>| format!("<table:table-row>{}</table:table-row>", cells.concat());
    let sheet = |name: &str, people: &[(u32, &str, &str, &str)]| {
        let mut rows = vec![
            row(vec![cell(&format!("Attendance Sheet - {name}"))]),
            row(vec![
                cell("S#"),
                cell("Participant Name"),
                cell("Gender"),
                cell("CNIC"),
                cell("Firm"),
                cell("Certificate No."),
            ]),
        ];
        for (serial, person, sex, certificate) in people {
            rows.push(row(vec![
                number(*serial),
                cell(person),
                cell(sex),
                cell("35202-1234567-1"),
                cell("Ravi Garments"),
                if certificate.is_empty() {
                    "<table:table-cell/>".to_owned()
                } else {
                    cell(certificate)
                },
            ]));
        }
        format!(
            r#"<table:table table:name="{name}">{}</table:table>"#,
            rows.concat()
        )
    };
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>{}{}</office:spreadsheet></office:body></office:document-content>"#,
        sheet(
            "EVT-1",
            &[
                (1, "Participant One", "M", "C-1"),
                (2, "Participant Two", "F", "")
            ]
        ),
        sheet("EVT-2", &[(1, "Participant Three", "Female", "C-7")]),
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    super::tests::stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

#[test]
fn an_ods_of_attendance_sheets_takes_the_event_from_the_sheet_names() {
    let files = Files::new();
    let path = files.write("attendance.ods", &attendance_ods());
    let items = import(&path, &Value::Null).unwrap();
    assert_eq!(row_errors(&items), Vec::<&RowError>::new());
    let parts = participations(&items);
    let summary: Vec<(&str, &str, Option<bool>)> = parts
        .iter()
        .map(|p| (p.source_key.as_str(), p.event_key.as_str(), p.completed))
        .collect();
    assert_eq!(
        summary,
        [
            ("EVT-1/1", "EVT-1", Some(true)),
            ("EVT-1/2", "EVT-1", Some(false)),
            ("EVT-2/1", "EVT-2", Some(true)),
        ]
    );
    assert_eq!(organisations(&items).len(), 1);
    assert_eq!(organisations(&items)[0].source_key, "name:ravi garments");
    assert_eq!(persons(&items)[2].sex, Some(Sex::Female));

    // The suggested mapping says so, and reads the same.
    let suggestion = suggest_mapping(&Input::new(&path)).unwrap();
    assert!(
        suggestion.contains("\"event.source_key\" = \"{sheet}\""),
        "{suggestion}"
    );
    let again = import(&path, &mapping(&suggestion)).unwrap();
    assert_eq!(without_logs(again), without_logs(items));
}

#[test]
fn suggested_mappings_read_like_no_mapping() {
    let files = Files::new();
    let path = firm_list_xlsx(&files);
    let suggestion = suggest_mapping(&Input::new(&path)).unwrap();
    for line in [
        "sheet = \"Firm List\"",
        "target = \"firms\"",
        "# header_row = 3  # detected, with the sub-header of its merged cells in row 4",
        "\"Employees / Total\" = \"firm.employees_total\"",
        "\"Year\" = \"observation.period\"",
        "# The sheet \"Notes\" is not imported: the sheet is empty.",
    ] {
        assert!(suggestion.contains(line), "{line}\n{suggestion}");
    }
    let detected = import(&path, &Value::Null).unwrap();
    let mapped = import(&path, &mapping(&suggestion)).unwrap();
    assert_eq!(without_logs(mapped), without_logs(detected));

    // A CSV file with unmapped columns lists them commented out.
    let path = csv(
        &files,
        "firms.csv",
        &[
            "Firm Name,Remarks,NTN,Employees",
            "Alpha Surgical,\"good, \"\"big\"\" firm\",1234567-8,12",
            "Beta Leather,,,7",
        ],
    );
    let suggestion = suggest_mapping(&Input::new(&path)).unwrap();
    assert!(suggestion.contains("# \"Remarks\" = \"\""), "{suggestion}");
    assert!(suggestion.contains("# delimiter = \",\""), "{suggestion}");
    assert!(!suggestion.contains("sheet ="), "{suggestion}");
    let detected = import(&path, &Value::Null).unwrap();
    assert_eq!(counts(&detected)[&RecordKind::Organisation], 2);
    let mapped = import(&path, &mapping(&suggestion)).unwrap();
    assert_eq!(without_logs(mapped), without_logs(detected));
}

#[test]
fn a_large_csv_streams_in_batches() {
    let files = Files::new();
    let path = files.path("units.csv");
    let mut text = String::from("Unit No,Unit Name,District,Employees\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "SKT-{i:05},Unit {i},Sialkot,\"1,{:03}\"\n",
            i % 1000
        ));
    }
    std::fs::write(&path, text).unwrap();
    let mut importer = SpreadsheetImporter::new();
    let mut stream = importer.open(Input::new(&path), &Value::Null).unwrap();
    let mut sizes = Vec::new();
    let mut orgs = 0;
    let mut last_row = 0;
    while let Some(batch) = stream.next_batch(100).unwrap() {
        sizes.push(batch.len());
        for item in batch {
            match item {
                Item::Record(r) => {
                    orgs += 1;
                    last_row = r.source_ref.row.unwrap();
                    let Record::Organisation(org) = r.record else {
                        panic!("only firms")
                    };
                    assert!(org.employees_total.is_some_and(|n| n >= 1000));
                }
                Item::Log { level, .. } => assert_eq!(level, LogLevel::Info),
                Item::Columns { .. } => {}
                Item::RowError(e) => panic!("{e:?}"),
            }
        }
    }
    assert_eq!(orgs, 5000);
    assert_eq!(last_row, 5001);
    assert!(
        sizes.len() >= 50 && sizes.iter().all(|s| *s <= 100),
        "{sizes:?}"
    );
    assert_eq!(stream.next_batch(100).unwrap(), None);
}

#[test]
fn wrong_values_are_row_errors_naming_row_column_and_field_but_no_value() {
    let files = Files::new();
    let path = csv(
        &files,
        "firms.csv",
        &[
            "Name of Unit,District,Total Employees,Registration Date,Status,Year Established",
            "Alpha Surgical,Sialkot,many,31/02/2023,Sleeping,1987",
            ",Lahore,3,,,",
            "Gamma Works,Kasur,-2,2023-01-05,active,87",
        ],
    );
    let items = import(&path, &Value::Null).unwrap();
    let errors = row_errors(&items);
    let summary: Vec<(u64, &str, &str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e.source_ref.row.unwrap(),
                e.source_ref.column.as_deref().unwrap(),
                e.field.as_deref().unwrap(),
                e.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                2,
                "Total Employees",
                "firm.employees_total",
                codes::INVALID_NUMBER
            ),
            (
                2,
                "Registration Date",
                "firm.registered_on",
                codes::INVALID_DATE
            ),
            (2, "Status", "firm.status", codes::UNKNOWN_CODE),
            (3, "Name of Unit", "firm.name", codes::MISSING_REQUIRED),
            (
                4,
                "Year Established",
                "firm.founded_year",
                codes::INVALID_NUMBER
            ),
            (
                4,
                "Total Employees",
                "firm.employees_total",
                codes::INVALID_NUMBER
            ),
        ]
    );
    for error in &errors {
        for value in ["many", "31/02/2023", "Sleeping", "-2", "87"] {
            assert!(!error.message.contains(value), "{}", error.message);
        }
        assert_eq!(error.source_ref.file, "firms.csv");
    }
    // The records go on without the values that did not read.
    let orgs = organisations(&items);
    assert_eq!(orgs.len(), 2);
    assert_eq!(orgs[0].employees_total, None);
    assert_eq!(orgs[0].founded_year, Some(1987));
    assert_eq!(orgs[1].registered_on, Some(date(2023, 1, 5)));

    // Personal values never reach messages or logs: a participant without name or CNIC,
    // a sex that is no sex, a duplicate serial.
    let path = csv(
        &files,
        "attendance.csv",
        &[
            "Event Code,S#,Participant Name,Gender,CNIC,Mobile",
            "E-1,1,Secret Person,Unknown,35202-1234567-1,0300-7654321",
            "E-1,2,,,,0300-1111111",
            "E-1,1,Secret Person,M,35202-1234567-1,0300-7654321",
        ],
    );
    let items = import(&path, &Value::Null).unwrap();
    let errors = row_errors(&items);
    let codes_found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.code.as_str(), e.field.as_deref().unwrap()))
        .collect();
    assert_eq!(
        codes_found,
        [
            (codes::UNKNOWN_CODE, "person.sex"),
            (codes::MISSING_REQUIRED, "person.name"),
            (codes::DUPLICATE_KEY, "participation.serial"),
        ]
    );
    for item in &items {
        let text = match item {
            Item::RowError(e) => e.message.clone(),
            Item::Log { message, .. } => message.clone(),
            // Column headers, never cell values.
            Item::Columns { columns, .. } => format!("{columns:?}"),
            Item::Record(_) => continue,
        };
        for secret in ["Secret", "35202", "0300", "Unknown"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
    assert_eq!(persons(&items).len(), 1);
}

#[test]
fn bad_files_and_bad_mappings_are_import_errors() {
    let files = Files::new();
    let message = |path: &Path, options: &Value| open_error(path, options).to_string();

    let empty = files.write("empty.csv", b"");
    assert_eq!(
        message(&empty, &Value::Null),
        "empty.csv: the file is empty"
    );
    let title = files.write("title.csv", b"Firm list 2024\n\n");
    let error = message(&title, &Value::Null);
    assert!(
        error.starts_with("title.csv: the file has no header row"),
        "{error}"
    );

    let random: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let garbage = files.write("firms.xlsx", &random);
    let error = message(&garbage, &Value::Null);
    assert!(
        error.starts_with("firms.xlsx: the file is not a valid XLSX file"),
        "{error}"
    );
    let zip = files.write(
        "broken.xlsx",
        b"PK\x03\x04 this is not really a zip archive",
    );
    let error = message(&zip, &Value::Null);
    assert!(
        error.starts_with("broken.xlsx: the file is not a valid XLSX file"),
        "{error}"
    );

    // A mapped column the sheet lacks: the file, the sheet and the column are named.
    let survey = firm_list_xlsx(&files);
    let options = mapping(
        r#"
        [[sheets]]
        sheet = "Firm List"
        target = "firms"
        [sheets.columns]
        "Name of Firm" = "firm.name"
        "#,
    );
    let error = open_error(&survey, &options);
    assert!(
        error.message.starts_with(
            "the sheet Firm List of firm list.xlsx has no column \"Name of Firm\" (mapped to \
             firm.name); its header (row 3) reads: Name of Unit, NTN No., District, Employees / \
             Total"
        ),
        "{error}"
    );
    assert_eq!(
        error.source_ref.as_ref().unwrap().sheet.as_deref(),
        Some("Firm List")
    );

    // Without columns, the synonyms must find what the target needs.
    let path = csv(&files, "units.csv", &["Unit No,District", "SKT-1,Sialkot"]);
    let options = mapping("[[sheets]]\ntarget = \"firms\"\n");
    let error = message(&path, &options);
    assert!(
        error.contains(
            "units.csv has no column for the firm's name (firm.name): expected one of Name of \
             Unit, Unit Name, Firm Name, Firm, Company"
        ),
        "{error}"
    );
    // A column given neither a column nor a constant for a required field.
    let options = mapping(
        "[[sheets]]\ntarget = \"firms\"\n[sheets.columns]\n\"Unit No\" = \"firm.registry_unit\"\n",
    );
    let error = message(&path, &options);
    assert!(
        error.contains("gives no column or constant for firm.name, which the target firms needs"),
        "{error}"
    );
    // Nothing recognisable without a mapping.
    let error = message(&path, &Value::Null);
    assert!(
        error.contains("matches none of the kinds of sheet") && error.contains("firm's name"),
        "{error}"
    );

    // Unknown fields and targets list the valid ones.
    let options =
        mapping("[[sheets]]\ntarget = \"firms\"\n[sheets.columns]\n\"Unit No\" = \"firm.unit\"\n");
    let error = message(&path, &options);
    assert!(
        error.contains("unknown field \"firm.unit\"") && error.contains("firm.registry_unit"),
        "{error}"
    );
    let error = message(&path, &mapping("[[sheets]]\ntarget = \"loans\"\n"));
    assert!(
        error.contains("the targets are firms, participants"),
        "{error}"
    );

    // Sheets named in the mapping must exist.
    let options = mapping("[[sheets]]\nsheet = \"Firms\"\ntarget = \"firms\"\n");
    let error = message(&survey, &options);
    assert!(
        error.contains("firm list.xlsx has no sheet named \"Firms\"")
            && error.contains("its sheets are: Firm List, Notes"),
        "{error}"
    );
    let options = mapping("[[sheets]]\npattern = \"CDI-*\"\ntarget = \"participants\"\n");
    let error = message(&survey, &options);
    assert!(
        error.contains("no sheet whose name matches \"CDI-*\""),
        "{error}"
    );
    // An empty sheet named in the mapping has no header.
    let options = mapping("[[sheets]]\nsheet = \"Notes\"\ntarget = \"firms\"\n");
    let error = message(&survey, &options);
    assert!(error.contains("Notes: the sheet is empty"), "{error}");

    // A sheet the mapping does not name is left out, with a log line.
    let options = mapping("[[sheets]]\nsheet = \"Firm List\"\ntarget = \"firms\"\n");
    let items = import(&survey, &options).unwrap();
    assert!(items.iter().any(|i| matches!(
        i,
        Item::Log { message, .. } if message.contains("the sheet Notes is not imported: no [[sheets]] entry")
    )));
    assert_eq!(organisations(&items).len(), 3);
}

#[test]
fn the_manifest_and_sniffing() {
    let importer = SpreadsheetImporter::new();
    let manifest = importer.manifest();
    assert_eq!(manifest.id, "spreadsheet");
    assert_eq!(manifest.name, "Spreadsheet (CSV, TSV, XLSX, XLS, ODS)");
    assert_eq!(manifest.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest.inputs.extensions,
        ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods"]
    );
    assert_eq!(manifest.emits.len(), 13);
    assert!(manifest.emits.contains(&RecordKind::Cluster));
    assert!(manifest.emits.contains(&RecordKind::ClusterMembership));
    let schema = manifest.options_schema.unwrap();
    assert_eq!(
        schema["properties"]["sheets"]["items"]["properties"]["target"]["examples"][0],
        json!("firms")
    );
    // The general importer comes last: specialised ones win ties.
    let builtin = crate::builtin();
    let ids: Vec<String> = builtin.iter().map(|i| i.manifest().id).collect();
    assert_eq!(
        ids.last().map(String::as_str),
        Some("spreadsheet"),
        "{ids:?}"
    );
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "importer ids are unique: {ids:?}");

    let cases: &[(&[u8], &str, u8)] = &[
        (b"PK\x03\x04rest", "book.bin", 40),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", "book.xls", 40),
        (
            b"Name,District\nAlpha,Lahore\nBeta,Kasur\n",
            "firms.dat",
            30,
        ),
        (
            b"Title line\nName;District\nAlpha;Lahore\nBeta;Kas",
            "x",
            30,
        ),
        (b"\xEF\xBB\xBFName\tDistrict\r\nAlpha\tLahore\r\n", "a", 30),
        (b"just some words\nwithout any delimiter\n", "notes.txt", 20),
        (b"just some words\nwithout any delimiter\n", "notes.md", 0),
        (b"<html><body>a,b\nc,d\n</body></html>", "export.xls", 20),
        (b"%PDF-1.4\x00\x01\x02", "report.pdf", 0),
        (b"", "empty.csv", 20),
        (b"", "empty", 0),
        (b"\xFF\xFE", "x.csv", 20),
        (b"\xFF", "x", 0),
    ];
    for (head, name, expected) in cases {
        assert_eq!(
            importer.sniff(head, name),
            Confidence::new(*expected),
            "{name}: {:?}",
            String::from_utf8_lossy(head)
        );
    }
    // Any bytes at all: no panic.
    let mut state = 12_345u32;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (state >> 16) as u8
            })
            .collect();
        let _ = importer.sniff(&bytes, "random.csv");
    }
}

#[test]
fn a_windows_1252_csv_with_encoding_and_delimiter_in_the_mapping() {
    let files = Files::new();
    // Windows-1252 bytes, declared in the mapping.
    let path = files.write(
        "firms.csv",
        b"Firm Name|District\r\nCaf\xE9 Leather|Lahore\r\n",
    );
    let options = mapping(
        "[csv]\nencoding = \"windows-1252\"\ndelimiter = \"|\"\n[[sheets]]\ntarget = \"firms\"\n",
    );
    let items = import(&path, &options).unwrap();
    assert_eq!(organisations(&items)[0].name, "Café Leather");
    assert_eq!(
        organisations(&items)[0].source_key,
        "name:café leather|lahore"
    );
}
