//! Tests of the contract as a whole: the wire form of every record kind, manifests, and an
//! importer driven through the trait the way the hub drives one.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};

use serde_json::{Value, json};

use crate::*;

fn date(year: i32, month: u32, day: u32) -> Date {
    Date::from_ymd(year, month, day).expect("test dates exist")
}

fn attributes(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("attributes must be an object"),
    }
}

/// One record of every kind with every field filled, so that each field crosses the wire.
fn full_records() -> Vec<Record> {
    vec![
        Organisation {
            legal_form: Some("Sole proprietorship".into()),
            district: Some("Sialkot".into()),
            tehsil: Some("Sialkot".into()),
            address: Some("Small Industrial Estate, Sialkot".into()),
            phone: Some("052-1234567".into()),
            email: Some("info@example.pk".into()),
            industry_code: Some("3250".into()),
            industry_classification: Some("ISIC-R4".into()),
            founded_year: Some(1987),
            employees_total: Some(42),
            employees_female: Some(7),
            registered_on: Some(date(1990, 2, 28)),
            status: Some(OrganisationStatus::Active),
            observed_on: Some(date(2024, 3, 1)),
            identifiers: vec![
                IdentifierValue::new(schemes::NTN, "1234567-8"),
                IdentifierValue::new(schemes::CNIC, "35202-1234567-1"),
            ],
            clusters: vec!["sialkot-surgical".into()],
            attributes: attributes(json!({"Export markets": ["USA", "DE"], "CE marked": true})),
            ..Organisation::new("F-001", OrganisationKind::Firm, "Sialkot Surgical Works")
        }
        .into(),
        Person {
            full_name: Some("Ayesha Khan".into()),
            sex: Some(Sex::Female),
            birth_year: Some(1985),
            cnic: Some("35202-1234567-1".into()),
            phone: Some("0300-1234567".into()),
            email: Some("ayesha@example.pk".into()),
            district: Some("Lahore".into()),
            observed_on: Some(date(2023, 11, 5)),
            attributes: attributes(json!({"Education": "Graduate"})),
            ..Person::new("P-1032")
        }
        .into(),
        Affiliation {
            title: Some("Owner".into()),
            valid_from: Some(date(2010, 1, 1)),
            valid_to: Some(date(2024, 12, 31)),
            ..Affiliation::new("P-1032@F-001", "P-1032", "F-001", AffiliationRole::Owner)
        }
        .into(),
        ClusterMembership {
            valid_from: Some(date(2019, 7, 1)),
            valid_to: Some(date(2023, 6, 30)),
            ..ClusterMembership::new("F-001/sialkot-surgical", "sialkot-surgical", "F-001")
        }
        .into(),
        FirmObservation {
            employees_total: Some(42),
            employees_female: Some(7),
            turnover_pkr: Some(12_500_000.5),
            exports_usd: Some(310_000.0),
            certifications: vec!["ISO 13485".into(), "CE".into()],
            ..FirmObservation::new("F-001", "FY2017-18")
        }
        .into(),
        Network {
            cluster: Some("lahore-leather-footwear".into()),
            programme: Some("cdi-punjab".into()),
            lead_organisation_key: Some("F-007".into()),
            formed_on: Some(date(2020, 3, 15)),
            dissolved_on: Some(date(2024, 1, 31)),
            description: Some("Joint purchase of soles".into()),
            ..Network::new("N-3", "Lahore Shoe Makers Network", NetworkKind::Horizontal)
        }
        .into(),
        NetworkMember {
            role: Some(NetworkRole::Lead),
            joined_on: Some(date(2020, 3, 15)),
            left_on: Some(date(2022, 8, 1)),
            ..NetworkMember::new("N-3/F-007", "N-3", "F-007")
        }
        .into(),
        Course {
            code: Some("LEAN-101".into()),
            topic: Some("lean manufacturing".into()),
            hours: Some(16.5),
            provider_organisation_key: Some("BDS-2".into()),
            ..Course::new("C-1", "Lean manufacturing for SMEs")
        }
        .into(),
        TrainingEvent {
            course_key: Some("C-1".into()),
            code: Some("LEAN-101-2024-03".into()),
            provider_organisation_key: Some("BDS-2".into()),
            trainers: vec!["Trainer One".into(), "Trainer Two".into()],
            start_date: Some(date(2024, 3, 4)),
            end_date: Some(date(2024, 3, 5)),
            venue_district: Some("Sialkot".into()),
            venue: Some("SCCI hall".into()),
            cluster: Some("sialkot-surgical".into()),
            modality: Some(Modality::InPerson),
            ..TrainingEvent::new("EVT-7", "Lean manufacturing, Sialkot, March 2024")
        }
        .into(),
        Participation {
            person_key: Some("P-1032".into()),
            organisation_key: Some("F-001".into()),
            role: Some("owner".into()),
            sex: Some(Sex::Female),
            attendance_pct: Some(87.5),
            pre_score: Some(40.0),
            post_score: Some(72.25),
            completed: Some(true),
            certificate_number: Some("CERT-2024-0113".into()),
            ..Participation::new("EVT-7/P-1032", "EVT-7")
        }
        .into(),
        IndicatorValue {
            organisation_key: Some("F-001".into()),
            cluster: Some("sialkot-surgical".into()),
            programme: Some("cdi-punjab".into()),
            area: Some("Sialkot".into()),
            breakdown: Some("sex".into()),
            breakdown_value: Some("female".into()),
            note: Some("From the diagnostic study".into()),
            indicator_name: Some("Employment".into()),
            indicator_unit: Some("jobs".into()),
            ..IndicatorValue::new(
                "IV-1",
                "employment",
                IndicatorScope::Firm,
                "2023",
                ValueType::Baseline,
                7.0,
            )
        }
        .into(),
        IndustrialEstate {
            district: Some("Sialkot".into()),
            ..IndustrialEstate::new("SIE-SKT", "Small Industrial Estate Sialkot")
        }
        .into(),
        PlotAllotment {
            plot_area_sqm: Some(505.86),
            organisation_key: Some("F-001".into()),
            unit_number: Some("SKT-0042".into()),
            allotted_on: Some(date(1991, 5, 20)),
            ..PlotAllotment::new("SIE-SKT/42", "SIE-SKT", "42", AllotmentStatus::Allotted)
        }
        .into(),
        Loan {
            borrower_person_key: Some("P-1032".into()),
            organisation_key: Some("F-001".into()),
            unit_number: Some("SKT-0042".into()),
            amount_pkr: Some(300_000.0),
            sanctioned_on: Some(date(2021, 9, 1)),
            disbursed_on: Some(date(2021, 9, 20)),
            district: Some("Sialkot".into()),
            status: Some("disbursed".into()),
            ..Loan::new("L-2021-113", "Cluster Development Loan")
        }
        .into(),
        TradeFlow {
            breakdown: [("motCode".to_owned(), "1000".to_owned())].into(),
            value: Some(1_234.5),
            currency: Some("USD".into()),
            unit_multiplier: 3,
            value_usd: Some(1_234_500.0),
            net_weight_kg: Some(5_600.0),
            quantity: Some(12_000.0),
            quantity_unit: Some("u".into()),
            is_value_estimated: true,
            is_quantity_estimated: true,
            is_net_weight_estimated: true,
            flags: Some("provisional".into()),
            ..TradeFlow::new(
                TradeArea::ComtradeCode("586".into()),
                TradeArea::Iso3("USA".into()),
                Flow::Export,
                "H5",
                "901890",
                "2019",
            )
        }
        .into(),
        AdminArea {
            parent: Some(AdminAreaName {
                level: AdminLevel::Division,
                name: "Gujranwala".into(),
            }),
            former_parent: Some("Sialkot".into()),
            iso_code: Some("PK-PB".into()),
            valid_from: Some(date(2022, 1, 1)),
            valid_to: Some(date(2099, 12, 31)),
            synonyms: vec!["Wazirabad Distt.".into()],
            notes: Some("Notified in 2022; year precision".into()),
            ..AdminArea::new(AdminLevel::District, "Wazirabad")
        }
        .into(),
        Programme {
            description: Some("Cluster development in Punjab".into()),
            start_date: Some(date(2019, 7, 1)),
            end_date: Some(date(2025, 6, 30)),
            lead_organisation_key: Some("agency:psic".into()),
            technical_assistance_organisation_key: Some("agency:unido".into()),
            funder_organisation_key: Some("agency:world-bank".into()),
            ..Programme::new(
                "punjab-cdi",
                "Punjab Industrial Cluster Development Initiative",
            )
        }
        .into(),
        Cluster {
            programme: Some("punjab-cdi".into()),
            description: Some("Surgical instruments in Sialkot".into()),
            districts: vec!["Sialkot".into()],
            isic_classes: vec!["3250".into()],
            hs_revision: Some("HS2017".into()),
            hs_basket: vec!["9018".into(), "9021".into()],
            ..Cluster::new(
                "sialkot-surgical",
                "Sialkot Surgical Instruments Cluster",
                "Surgical instruments",
            )
        }
        .into(),
    ]
}

/// One record of every kind with only the required fields.
fn minimal_records() -> Vec<Record> {
    vec![
        Organisation::new("F-2", OrganisationKind::Chamber, "Sialkot Chamber").into(),
        Person::new("P-2").into(),
        Affiliation::new("A-2", "P-2", "F-2", AffiliationRole::Contact).into(),
        ClusterMembership::new("M-2", "lahore-garments", "F-2").into(),
        FirmObservation::new("F-2", "2017-03").into(),
        Network::new("N-2", "Export group", NetworkKind::ExportConsortium).into(),
        NetworkMember::new("NM-2", "N-2", "F-2").into(),
        Course::new("C-2", "Export marketing").into(),
        TrainingEvent::new("E-2", "Export marketing, Lahore").into(),
        Participation::new("E-2/3", "E-2").into(),
        IndicatorValue::new(
            "IV-2",
            "people_trained",
            IndicatorScope::Cluster,
            "FY2023-24",
            ValueType::Target,
            250.0,
        )
        .into(),
        IndustrialEstate::new("SIE-2", "Small Industrial Estate Gujranwala").into(),
        PlotAllotment::new("PL-2", "SIE-2", "17-A", AllotmentStatus::Vacant).into(),
        Loan::new("L-2", "Cottage industry loan").into(),
        TradeFlow::new(
            TradeArea::Name("Pakistan".into()),
            TradeArea::Iso3("WLD".into()),
            Flow::ReImport,
            "PBS-GROUPS",
            "surgical-instruments",
            "2024-01",
        )
        .into(),
        AdminArea::new(AdminLevel::Province, "Punjab").into(),
        Programme::new("kp-cdp", "KP Cluster Programme").into(),
        Cluster::new("peshawar-marble", "Peshawar Marble", "Marble and granite").into(),
    ]
}

fn kinds(records: &[Record]) -> BTreeSet<RecordKind> {
    records.iter().map(Record::kind).collect()
}

#[test]
fn the_samples_cover_every_record_kind() {
    let all: BTreeSet<RecordKind> = RecordKind::ALL.into_iter().collect();
    assert_eq!(kinds(&full_records()), all);
    assert_eq!(kinds(&minimal_records()), all);
}

#[test]
fn every_record_kind_round_trips_through_ndjson() {
    let source_ref = SourceRef::cell("survey 2024.xlsx", "Firms", 12, "Name of Unit");
    for record in full_records().into_iter().chain(minimal_records()) {
        let kind = record.kind();
        let item = Item::record(source_ref.clone(), record);
        let line = to_ndjson_line(&item).unwrap();
        assert!(!line.contains('\n'), "{kind}: {line}");

        let json: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["kind"], "record", "{kind}");
        assert_eq!(json["record"]["type"], kind.as_str(), "{kind}");
        assert_eq!(json["source_ref"]["row"], 12, "{kind}");

        assert_eq!(from_ndjson_line(&line).unwrap(), item, "{kind}");
        assert_eq!(
            from_ndjson_line(&format!("{line}\r\n")).unwrap(),
            item,
            "{kind}"
        );
    }
}

#[test]
fn record_kind_names_match_the_type_tags() {
    for kind in RecordKind::ALL {
        assert_eq!(RecordKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert_eq!(RecordKind::parse("widget"), None);
}

#[test]
fn source_keys_are_reported_for_the_kinds_that_have_them() {
    let without: BTreeSet<RecordKind> = [
        RecordKind::FirmObservation,
        RecordKind::TradeFlow,
        RecordKind::AdminArea,
    ]
    .into();
    for record in full_records() {
        assert_eq!(
            record.source_key().is_none(),
            without.contains(&record.kind()),
            "{}",
            record.kind()
        );
    }
}

#[test]
fn absent_optional_fields_read_as_empty() {
    let cases = [
        (
            r#"{"kind":"record","source_ref":{"file":"a.csv"},"record":{"type":"person","source_key":"P-1"}}"#,
            Item::record(SourceRef::new("a.csv"), Person::new("P-1")),
        ),
        (
            r#"{"kind":"record","source_ref":{"file":"a.csv","row":4},"record":{"type":"organisation","source_key":"F-1","kind":"firm","name":"A"}}"#,
            Item::record(
                SourceRef::row("a.csv", 4),
                Organisation::new("F-1", OrganisationKind::Firm, "A"),
            ),
        ),
        (
            r#"{"kind":"record","source_ref":{"file":"c.csv"},"record":{"type":"trade_flow","reporter":{"scheme":"comtrade_code","value":"586"},"partner":{"scheme":"comtrade_code","value":"842"},"flow":"export","classification":"H5","commodity_code":"9018","period":"2019"}}"#,
            Item::record(
                SourceRef::new("c.csv"),
                TradeFlow::new(
                    TradeArea::ComtradeCode("586".into()),
                    TradeArea::ComtradeCode("842".into()),
                    Flow::Export,
                    "H5",
                    "9018",
                    "2019",
                ),
            ),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(from_ndjson_line(line).unwrap(), expected, "{line}");
    }
}

#[test]
fn row_errors_and_logs_have_a_fixed_wire_form() {
    let cases = [
        (
            Item::from(RowError::invalid_number(
                SourceRef::cell("f.xlsx", "Firms", 9, "Employees"),
                "employees_total",
            )),
            r#"{"kind":"row_error","source_ref":{"file":"f.xlsx","sheet":"Firms","row":9,"column":"Employees"},"field":"employees_total","code":"invalid_number","message":"The field employees_total must be a number.","severity":"error"}"#,
        ),
        (
            Item::from(RowError::warning(
                SourceRef::row("u.csv", 3),
                codes::UNKNOWN_CODE,
                "The column Remarks is not mapped and was ignored.",
            )),
            r#"{"kind":"row_error","source_ref":{"file":"u.csv","sheet":null,"row":3,"column":null},"field":null,"code":"unknown_code","message":"The column Remarks is not mapped and was ignored.","severity":"warning"}"#,
        ),
        (
            Item::log(
                LogLevel::Info,
                "Detected the Comtrade bulk layout with 22 columns.",
            ),
            r#"{"kind":"log","level":"info","message":"Detected the Comtrade bulk layout with 22 columns."}"#,
        ),
        (
            Item::log(LogLevel::Warn, "line one\nline two"),
            r#"{"kind":"log","level":"warn","message":"line one\nline two"}"#,
        ),
    ];
    for (item, line) in cases {
        assert_eq!(to_ndjson_line(&item).unwrap(), line);
        assert_eq!(from_ndjson_line(line).unwrap(), item);
    }
}

#[test]
fn a_batch_is_one_line_per_item() {
    let mut items: Vec<Item> = full_records()
        .into_iter()
        .enumerate()
        .map(|(i, record)| Item::record(SourceRef::row("b.csv", i as u64 + 2), record))
        .collect();
    items.push(RowError::missing_required(SourceRef::row("b.csv", 99), "name").into());
    items.push(Item::log(LogLevel::Debug, "done"));

    let text = to_ndjson_batch(&items).unwrap();
    assert!(text.ends_with('\n'));
    let parsed: Vec<Item> = text.lines().map(|l| from_ndjson_line(l).unwrap()).collect();
    assert_eq!(parsed, items);
}

#[test]
fn bad_lines_are_refused_with_errors_that_name_the_problem() {
    let organisation = r#""source_ref":{"file":"a.csv"},"record":{"type":"organisation","source_key":"F-1","kind":"firm","name":"A""#;
    type Check = fn(&NdjsonError) -> bool;
    let cases: &[(String, Check)] = &[
        ("".into(), |e| matches!(e, NdjsonError::Syntax { .. })),
        (r#"{"kind":"record","#.into(), |e| matches!(e, NdjsonError::Syntax { .. })),
        ("not json".into(), |e| matches!(e, NdjsonError::Syntax { .. })),
        (
            r#"{"kind":"state","cursor":3}"#.into(),
            |e| matches!(e, NdjsonError::UnknownKind { kind } if kind == "state"),
        ),
        (
            r#"{"kind":"record","source_ref":{"file":"a.csv"},"record":{"type":"widget"}}"#.into(),
            |e| matches!(e, NdjsonError::UnknownRecordType { record_type } if record_type == "widget"),
        ),
        (
            r#"{"kind":"record","source_ref":{"file":"a.csv"},"record":{"type":"35202-1234567-1 x"}}"#.into(),
            |e| matches!(e, NdjsonError::UnknownRecordType { record_type } if record_type == "(not a type name)"),
        ),
        (
            format!(r#"{{"kind":"record",{organisation},"nmae":"typo"}}}}"#),
            |e| matches!(e, NdjsonError::Invalid { message } if message.contains("nmae")),
        ),
        (
            format!(r#"{{"kind":"record",{organisation}}},"extra":1}}"#),
            |e| matches!(e, NdjsonError::Invalid { message } if message.contains("extra")),
        ),
        (
            format!(r#"{{"kind":"record",{organisation},"registered_on":"12/03/2019"}}}}"#),
            |e| matches!(e, NdjsonError::Invalid { message } if message.contains("YYYY-MM-DD")),
        ),
        (
            r#"{"kind":"record","source_ref":{"file":"a.csv"},"record":{"type":"person"}}"#.into(),
            |e| matches!(e, NdjsonError::Invalid { message } if message.contains("source_key")),
        ),
        (
            r#"{"kind":"record","source_ref":{"file":"c.csv"},"record":{"type":"trade_flow","reporter":{"scheme":"iso3","value":"PAK","name":"Pakistan"},"partner":{"scheme":"iso3","value":"USA"},"flow":"export","classification":"H5","commodity_code":"9018","period":"2019"}}"#.into(),
            |e| matches!(e, NdjsonError::Invalid { .. }),
        ),
        (
            r#"{"kind":"log","level":"info","message":"m","extra":1}"#.into(),
            |e| matches!(e, NdjsonError::Invalid { message } if message.contains("extra")),
        ),
        (
            r#"{"kind":"row_error","source_ref":{"file":"a.csv"},"code":"x","message":"m","severity":"fatal"}"#.into(),
            |e| matches!(e, NdjsonError::Invalid { .. }),
        ),
    ];
    for (line, expected) in cases {
        let error = from_ndjson_line(line).unwrap_err();
        assert!(expected(&error), "{line}: {error:?}");
    }
}

#[test]
fn errors_about_bad_lines_never_repeat_values() {
    let organisation = r#""kind":"record","source_ref":{"file":"a.csv"},"record":{"type":"organisation","source_key":"F-1","kind":"firm","name":"A""#;
    let person = r#""kind":"record","source_ref":{"file":"a.csv"},"record":{"type":"person","source_key":"P-1""#;
    let lines = [
        format!(r#"{{{organisation},"employees_total":"35202-1234567-1"}}}}"#),
        format!(r#"{{{organisation},"employees_total":3520212345671.5}}}}"#),
        format!(r#"{{{organisation},"name":3520212345671}}}}"#),
        format!(r#"{{{person},"sex":"35202-1234567-1"}}}}"#),
        format!(r#"{{{person},"cnic":["35202-1234567-1"]}}}}"#),
    ];
    for line in &lines {
        let error = from_ndjson_line(line).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("35202") && !shown.contains("3520212345671"),
            "{shown}"
        );
    }
}

#[test]
fn personal_values_stay_out_of_debug_output() {
    for record in full_records() {
        let shown = format!("{record:?}");
        for secret in [
            "Ayesha",
            "35202-1234567-1",
            "0300-1234567",
            "052-1234567",
            "@example.pk",
            "Trainer One",
        ] {
            assert!(!shown.contains(secret), "{}: {shown}", record.kind());
        }
    }
}

#[test]
fn manifests_round_trip_and_carry_the_sdk_version() {
    let manifest = ImporterManifest::new("comtrade-bulk", "UN Comtrade bulk CSV", "0.3.1")
        .with_extensions(["csv", "zip"])
        .with_mime_types(["text/csv"])
        .with_emits([RecordKind::TradeFlow])
        .with_options_schema(json!({
            "type": "object",
            "properties": {"source": {"type": "string"}},
            "additionalProperties": false
        }));
    assert_eq!(manifest.sdk_version, env!("CARGO_PKG_VERSION"));

    let text = serde_json::to_string(&manifest).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["emits"], json!(["trade_flow"]));
    assert_eq!(json["inputs"]["extensions"], json!(["csv", "zip"]));
    assert_eq!(
        serde_json::from_str::<ImporterManifest>(&text).unwrap(),
        manifest
    );

    // A newer SDK's manifest still reads, so the host can report its version.
    let newer = r#"{"id":"x","name":"X","version":"1.0.0","sdk_version":"9.0.0","licence":"MIT"}"#;
    let read: ImporterManifest = serde_json::from_str(newer).unwrap();
    assert_eq!(read.sdk_version, "9.0.0");
    assert!(read.emits.is_empty() && read.options_schema.is_none());
}

// ---- An importer used through the trait ------------------------------------------------

/// The crate documentation's example importer: one firm per line, `key|name|district|NTN`.
struct FirmListImporter;

impl Importer for FirmListImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new("example-firm-list", "Example firm list", "1.0.0")
            .with_extensions(["firms"])
            .with_emits([RecordKind::Organisation])
    }

    fn sniff(&self, head: &[u8], file_name: &str) -> Confidence {
        let first_line = String::from_utf8_lossy(head)
            .lines()
            .next()
            .map(str::to_owned);
        if first_line.is_some_and(|line| line.split('|').count() == 4) {
            Confidence::new(80)
        } else if self.manifest().inputs.matches_file_name(file_name) {
            Confidence::new(20)
        } else {
            Confidence::NONE
        }
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        if !options.is_null() {
            return Err(ImportError::new("This importer takes no options."));
        }
        let lines = BufReader::new(File::open(&input.path)?).lines();
        let items = lines.enumerate().map(move |(index, line)| {
            let source_ref = input.source_ref().with_row(index as u64 + 1);
            Ok(firm_line(source_ref, &line?))
        });
        Ok(Box::new(IterStream::new(items)))
    }
}

fn firm_line(source_ref: SourceRef, line: &str) -> Item {
    let fields: Vec<&str> = line.split('|').map(str::trim).collect();
    let [key, name, district, ntn] = fields[..] else {
        let message = "A line must have four fields separated by |.";
        return RowError::error(source_ref, codes::INVALID_VALUE, message).into();
    };
    if name.is_empty() {
        return RowError::missing_required(source_ref, "name").into();
    }
    let mut firm = Organisation::new(key, OrganisationKind::Firm, name);
    firm.district = Some(district.to_owned()).filter(|d| !d.is_empty());
    if !ntn.is_empty() {
        firm.identifiers
            .push(IdentifierValue::new(schemes::NTN, ntn));
    }
    Item::record(source_ref, firm)
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("hub-sdk-test-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn an_importer_works_through_the_trait_object() {
    let mut importer: Box<dyn Importer> = Box::new(FirmListImporter);
    let manifest = importer.manifest();
    assert_eq!(manifest.sdk_version, SDK_VERSION);

    let sniffs = [
        (&b"F-1|A|Sialkot|1234567-8\n"[..], "upload.bin", 80),
        (&b"key,name\n"[..], "list.FIRMS", 20),
        (&b"\xff\xfe\x00garbage"[..], "photo.jpg", 0),
        (&b""[..], "empty.txt", 0),
    ];
    for (head, name, expected) in sniffs {
        assert_eq!(importer.sniff(head, name).percent(), expected, "{name}");
    }

    let file = TempFile::new(
        "firms.txt",
        "F-001|Sialkot Surgical Works|Sialkot|1234567-8\n\
         F-002|Lahore Auto Parts||\n\
         F-003||Lahore|\n\
         F-004|only two\n",
    );
    let input = Input::with_file_name(&file.0, "firms.firms");
    let mut stream = importer.open(input, &Value::Null).unwrap();
    let mut batches = Vec::new();
    while let Some(batch) = stream.next_batch(3).unwrap() {
        assert!(!batch.is_empty() && batch.len() <= 3);
        batches.push(batch);
    }
    drop(stream);
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1]);

    let items: Vec<Item> = batches.into_iter().flatten().collect();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in items {
        match item {
            Item::Record(r) => records.push(r),
            Item::RowError(e) => errors.push(e),
            Item::Log { .. } | Item::Columns { .. } => {}
        }
    }
    assert!(
        records
            .iter()
            .all(|r| manifest.emits.contains(&r.record.kind()))
    );
    let keys: Vec<_> = records
        .iter()
        .filter_map(|r| r.record.source_key())
        .collect();
    assert_eq!(keys, ["F-001", "F-002"]);
    assert_eq!(records[0].source_ref.to_string(), "firms.firms!R1");
    let Record::Organisation(first) = &records[0].record else {
        panic!("an organisation");
    };
    assert_eq!(
        first.identifiers,
        [IdentifierValue::new("PK-NTN", "1234567-8")]
    );

    let codes: Vec<_> = errors
        .iter()
        .map(|e| (e.source_ref.row, e.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [(Some(3), "missing_required"), (Some(4), "invalid_value")]
    );
    assert_eq!(errors[0].field.as_deref(), Some("name"));

    let missing = importer
        .open(Input::new(file.0.with_extension("missing")), &Value::Null)
        .err()
        .unwrap();
    assert!(
        missing.message.starts_with("cannot read the input"),
        "{missing}"
    );
    let options = importer
        .open(Input::new(&file.0), &json!({"x": 1}))
        .err()
        .unwrap();
    assert_eq!(options.to_string(), "This importer takes no options.");
}

#[test]
fn keys_mut_reaches_every_key_field() {
    for mut record in full_records() {
        let kind = record.kind();
        for key in record.keys_mut() {
            *key = "rewritten".to_owned();
        }
        let json = serde_json::to_value(&record).unwrap();
        let object = json.as_object().unwrap();
        for (field, value) in object {
            if field == "source_key" || field.ends_with("_key") {
                assert!(
                    value.is_null() || value == "rewritten",
                    "{kind}: {field} = {value} was not reached"
                );
            }
        }
    }
}
