//! The pipeline's rules, through a test importer that reads the SDK's wire form (one item
//! per line), on a migrated SQLite database with the reference data. The black-box tests
//! cover the same through the CLI on both engines, with real spreadsheets.

use std::io::{BufRead as _, BufReader};

use hub_plugin_sdk::{
    Confidence, IdentifierValue, ImportError, Importer, ImporterManifest, Input, Item, IterStream,
    Organisation, OrganisationKind, Person, Personal, RecordKind, RecordStream, SourceRef,
    from_ndjson_line, schemes, to_ndjson_line,
};
use hub_schema::domain::{CnicKey, SizeThresholds};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, Statement};

use super::*;
use crate::config::ImportSettings;

/// Reads items written with `to_ndjson_line`, one per line.
struct Lines;

impl Importer for Lines {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new("test-lines", "Test lines", "1.0.0")
            .with_extensions(["items"])
            .with_emits(RecordKind::ALL)
    }

    fn sniff(&self, _head: &[u8], file_name: &str) -> Confidence {
        if file_name.ends_with(".items") {
            Confidence::new(90)
        } else {
            Confidence::NONE
        }
    }

    fn open(
        &mut self,
        input: Input,
        _options: &serde_json::Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let lines = BufReader::new(std::fs::File::open(&input.path)?).lines();
        Ok(Box::new(IterStream::new(lines.map(|line| {
            from_ndjson_line(&line?).map_err(|e| ImportError::new(e.to_string()))
        }))))
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: DatabaseConnection,
    key: CnicKey,
    sizes: SizeThresholds,
    settings: ImportSettings,
    importers: Importers,
    files: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("i.sqlite").display()
    );
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(2);
    let db = Database::connect(options).await.unwrap();
    crate::db::migrate(&db).await.unwrap();
    crate::reference::load_bundled(&db).await.unwrap();
    let mut settings = ImportSettings {
        batch_size: 3,
        ..ImportSettings::default()
    };
    for (code, priority) in [("registry", 10), ("survey", 20), ("attendance", 40)] {
        settings.sources.insert(
            code.into(),
            crate::config::SourceSettings {
                name: None,
                kind: None,
                priority: Some(priority),
                publisher: None,
                description: None,
            },
        );
    }
    Fixture {
        _dir: dir,
        db,
        key: CnicKey::from_hex(&"0123456789abcdef".repeat(4)).unwrap(),
        sizes: SizeThresholds::default(),
        settings,
        importers: Importers::empty().with(|| Box::new(Lines)),
        files: tempfile::tempdir().unwrap(),
    }
}

impl Fixture {
    async fn import(
        &self,
        name: &str,
        source: &str,
        items: &[Item],
        partial: bool,
    ) -> ImportReport {
        self.run(name, source, items, partial, false).await
    }

    async fn run(
        &self,
        name: &str,
        source: &str,
        items: &[Item],
        allow_partial: bool,
        dry_run: bool,
    ) -> ImportReport {
        let path = self.files.path().join(name);
        let text: String = items
            .iter()
            .map(|i| to_ndjson_line(i).unwrap() + "\n")
            .collect();
        std::fs::write(&path, text).unwrap();
        let env = ImportEnv {
            key: &self.key,
            sizes: &self.sizes,
            settings: &self.settings,
            importers: &self.importers,
        };
        let request = ImportRequest {
            path,
            source: Some(source.into()),
            allow_partial,
            dry_run,
            ..ImportRequest::default()
        };
        run(&self.db, &env, request, &|_| {}).await.unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM ({sql}) AS t"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by("n").unwrap()
    }

    async fn text(&self, sql: &str) -> Vec<String> {
        let rows = self
            .db
            .query_all_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap();
        rows.iter()
            .map(|r| {
                r.try_get_by::<Option<String>, _>("v")
                    .unwrap()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Every row of every data table, as one number per table, to prove nothing changed.
    async fn fingerprint(&self) -> Vec<i64> {
        let mut counts = Vec::new();
        for table in hub_schema::migration::table_names() {
            counts.push(self.count(&format!("SELECT id FROM {table}")).await);
        }
        counts.push(crate::changes::current(&self.db).await.unwrap());
        counts
    }
}

fn at(row: u64) -> SourceRef {
    SourceRef::row("firms.items", row)
}

fn firm(row: u64, key: &str, name: &str, ntn: Option<&str>) -> Item {
    let mut o = Organisation::new(key, OrganisationKind::Firm, name);
    o.district = Some("Sialkot".into());
    o.employees_total = Some(12);
    if let Some(ntn) = ntn {
        o.identifiers.push(IdentifierValue::new(schemes::NTN, ntn));
    }
    Item::record(at(row), o)
}

fn observation(row: u64, key: &str, period: &str, employees: u32) -> Item {
    let mut o = hub_plugin_sdk::FirmObservation::new(key, period);
    o.employees_total = Some(employees);
    Item::record(at(row), o)
}

#[tokio::test]
async fn a_second_import_of_the_same_file_changes_nothing() {
    let f = fixture().await;
    let items = [
        firm(2, "F-1", "Abid Medi-Tech", Some("1234567-1")),
        observation(2, "F-1", "2023", 12),
        firm(3, "F-2", "Crescent Surgical", None),
        observation(3, "F-2", "2023", 40),
        observation(4, "F-2", "2024", 44),
    ];
    let first = f.import("firms.items", "survey", &items, false).await;
    assert_eq!(first.status, RunStatus::Applied, "{first}");
    assert_eq!(first.rows_read, 3);
    assert_eq!(first.by_kind["organisation"].inserted, 2);
    assert_eq!(first.by_kind["firm_observation"].inserted, 3);
    let seq = crate::changes::current(&f.db).await.unwrap();

    let second = f.import("firms.items", "survey", &items, false).await;
    assert_eq!(second.status, RunStatus::Applied, "{second}");
    assert_eq!((second.totals.inserted, second.totals.updated), (0, 0));
    assert_eq!(second.totals.unchanged, 5);
    assert_eq!(
        crate::changes::current(&f.db).await.unwrap(),
        seq,
        "no change numbers"
    );
    assert_eq!(f.count("SELECT id FROM organisations").await, 2);

    // A changed figure is one update, and the run records its counts and file hash.
    let mut changed = items.to_vec();
    changed[4] = observation(4, "F-2", "2024", 45);
    let third = f.import("firms.items", "survey", &changed, false).await;
    assert_eq!(
        (
            third.totals.inserted,
            third.totals.updated,
            third.totals.unchanged
        ),
        (0, 1, 4)
    );
    let run = third.run_id.unwrap();
    assert_eq!(
        f.text(&format!(
            "SELECT status || ' ' || updated || ' ' || rows_read || ' ' || length(file_sha256) AS v \
             FROM import_runs WHERE id = {run}"
        ))
        .await,
        ["applied 1 3 64"]
    );
    assert_eq!(
        f.count(&format!(
            "SELECT id FROM firm_observations WHERE import_run_id = {run} AND employees_total = 45 \
             AND source_ref = 'firms.items!R4'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn strong_identifiers_link_sources_and_the_best_source_wins() {
    let f = fixture().await;
    let survey = [firm(2, "DS-1", "Abid Medi-Tech", Some("1234567-1"))];
    f.import("survey.items", "survey", &survey, false).await;
    let mut unit = Organisation::new("SKT-1", OrganisationKind::Firm, "ABID MEDI TECH (PVT) LTD");
    unit.district = Some("SIALKOT".into());
    unit.identifiers
        .push(IdentifierValue::new(schemes::NTN, "12345671"));
    unit.identifiers
        .push(IdentifierValue::new(schemes::PSIC_PUNJAB_UNIT, "skt-1"));
    let registry = f
        .import(
            "registry.items",
            "registry",
            &[Item::record(at(2), unit)],
            false,
        )
        .await;
    assert_eq!(registry.status, RunStatus::Applied, "{registry}");
    assert_eq!(f.count("SELECT id FROM organisations").await, 1, "one firm");
    assert_eq!(
        f.count("SELECT id FROM organisation_source_records").await,
        2
    );
    // The registry (priority 10) gives the name, in title case.
    assert_eq!(
        f.text("SELECT name AS v FROM organisations").await,
        ["Abid Medi Tech (Pvt) Ltd"]
    );
    assert_eq!(
        f.text("SELECT method || ':' || coalesce(rule, '') AS v FROM record_links ORDER BY id")
            .await,
        ["new:", "strong_identifier:PK-NTN"]
    );
}

#[tokio::test]
async fn a_shared_owner_cnic_never_links_two_units() {
    let f = fixture().await;
    let cnic = "35202-1234567-1";
    let items = [
        firm(2, "U-1", "Unit One", Some(cnic)),
        firm(3, "U-2", "Unit Two", Some(cnic)),
    ];
    let report = f.import("units.items", "registry", &items, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(f.count("SELECT id FROM organisations").await, 2);
    // Stored hashed and masked, never in clear.
    assert_eq!(
        f.text(
            "SELECT DISTINCT display AS v FROM organisation_identifiers WHERE scheme = 'PK-CNIC'"
        )
        .await,
        ["*****-****567-1"]
    );
    assert_eq!(
        f.count("SELECT id FROM organisation_identifiers WHERE value LIKE '%1234567%'")
            .await,
        0
    );
}

#[tokio::test]
async fn bad_rows_fail_the_import_and_leave_the_database_unchanged() {
    let f = fixture().await;
    let before = f.fingerprint().await;
    let items = [
        firm(2, "F-1", "Good Firm", Some("1234567-1")),
        firm(3, "F-2", "Bad Firm", Some("12")),
        observation(4, "F-9", "2023", 3),
        observation(5, "F-1", "2011-12", 3),
    ];
    let report = f.import("bad.items", "survey", &items, false).await;
    assert_eq!(report.status, RunStatus::Failed, "{report}");
    assert!(!report.succeeded());
    assert_eq!(report.rejected, 3);
    let fields: Vec<_> = report
        .issues
        .iter()
        .map(|i| (i.row, i.field.clone().unwrap_or_default(), i.code.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                Some(3),
                "identifiers.PK-NTN".into(),
                "invalid_identifier".into()
            ),
            (
                Some(4),
                "organisation_key".into(),
                "unknown_reference".into()
            ),
            (Some(5), "period".into(), "invalid_period".into()),
        ]
    );
    assert!(
        report
            .error
            .as_deref()
            .unwrap()
            .contains("3 of 4 rows have errors")
    );
    assert_eq!(
        f.fingerprint().await,
        before,
        "nothing written, not even the run"
    );

    // With --allow-partial the good row is applied and the rejected ones recorded.
    let partial = f.import("bad.items", "survey", &items, true).await;
    assert_eq!(partial.status, RunStatus::Partial, "{partial}");
    assert!(partial.succeeded());
    assert_eq!(partial.by_kind["organisation"].inserted, 1);
    let run = partial.run_id.unwrap();
    assert_eq!(
        f.text(&format!(
            "SELECT file || '!' || row_number || ' ' || field AS v FROM import_row_errors \
             WHERE import_run_id = {run} ORDER BY row_number"
        ))
        .await,
        [
            "firms.items!3 identifiers.PK-NTN",
            "firms.items!4 organisation_key",
            "firms.items!5 period"
        ]
    );
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let f = fixture().await;
    let before = f.fingerprint().await;
    let items = [
        firm(2, "F-1", "Firm", None),
        observation(2, "F-1", "2023", 3),
    ];
    let report = f.run("dry.items", "survey", &items, false, true).await;
    assert_eq!(report.status, RunStatus::DryRun, "{report}");
    assert!(report.succeeded());
    assert_eq!(report.totals.inserted, 2);
    assert_eq!(report.run_id, None);
    assert_eq!(f.fingerprint().await, before);
}

#[tokio::test]
async fn duplicated_keys_within_a_file() {
    let f = fixture().await;
    // The same firm repeated with the same values (a long-format file) is read once.
    let same = [
        firm(2, "F-1", "Firm", None),
        observation(2, "F-1", "2023", 3),
        firm(3, "F-1", "Firm", None),
        observation(3, "F-1", "2024", 4),
    ];
    let report = f.import("long.items", "survey", &same, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(report.by_kind["organisation"].inserted, 1);
    // The same key with other values, or the same firm and period twice, is an error.
    let conflicting = [
        firm(2, "F-7", "Firm", None),
        firm(5, "F-7", "Other Name", None),
        observation(6, "F-7", "2023", 3),
        observation(7, "F-7", "2023", 5),
    ];
    let before = f.fingerprint().await;
    let report = f.import("dups.items", "survey", &conflicting, false).await;
    assert_eq!(report.status, RunStatus::Failed, "{report}");
    let codes: Vec<_> = report
        .issues
        .iter()
        .map(|i| (i.row, i.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [(Some(5), "duplicate_key"), (Some(7), "duplicate_key")]
    );
    assert_eq!(f.fingerprint().await, before);
}

#[tokio::test]
async fn persons_link_by_cnic_and_citations_link_firms_across_sources() {
    let f = fixture().await;
    f.import(
        "survey.items",
        "survey",
        &[firm(2, "DS23-0001", "Abid Medi-Tech", None)],
        false,
    )
    .await;
    // An attendance sheet cites the survey's id; two rows name the same person by CNIC.
    let mut cited = Organisation::new("DS23-0001", OrganisationKind::Firm, "Abid Meditech");
    cited
        .identifiers
        .push(IdentifierValue::new("source:survey", "DS23-0001"));
    let person = |key: &str, name: &str| {
        let mut p = Person::new(key);
        p.full_name = Some(Personal::new(name));
        p.cnic = Some(Personal::new("34603-7654321-2"));
        p
    };
    let items = [
        Item::record(at(2), cited),
        Item::record(at(2), person("E1/1", "Ayesha Khan")),
        Item::record(at(3), person("E2/4", "AYESHA KHAN")),
    ];
    let report = f
        .import("attendance.items", "attendance", &items, false)
        .await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(f.count("SELECT id FROM organisations").await, 1);
    assert_eq!(f.count("SELECT id FROM persons").await, 1);
    assert_eq!(f.count("SELECT id FROM person_source_records").await, 2);
    assert_eq!(
        f.count(
            "SELECT id FROM persons WHERE cnic_last4 = '3212' AND cnic_hash NOT LIKE '%7654321%'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn registry_estates_plots_and_loans() {
    use hub_plugin_sdk::{AllotmentStatus, IndustrialEstate, Loan, PlotAllotment};
    let f = fixture().await;
    let mut unit = Organisation::new("SKT-00012", OrganisationKind::Firm, "ABID MEDI TECH");
    unit.identifiers
        .push(IdentifierValue::new(schemes::PSIC_PUNJAB_UNIT, "SKT-00012"));
    let mut estate = IndustrialEstate::new("sie-sialkot", "Small Industrial Estate Sialkot");
    estate.district = Some("Sialkot".into());
    let mut allotted =
        PlotAllotment::new("A-12/1", "sie-sialkot", "A-12", AllotmentStatus::Allotted);
    allotted.unit_number = Some("skt-00012".into());
    let mut cancelled =
        PlotAllotment::new("A-12/0", "sie-sialkot", "A-12", AllotmentStatus::Cancelled);
    cancelled.unit_number = Some("SKT-99999".into());
    let mut loan = Loan::new("CDL-2021-003", "Cluster Development Loan");
    loan.unit_number = Some("SKT-00012".into());
    loan.amount_pkr = Some(150_000.0);
    loan.district = Some("Sialkot".into());
    let items = [
        Item::record(at(2), unit),
        Item::record(at(3), estate),
        Item::record(at(4), allotted),
        Item::record(at(5), cancelled),
        Item::record(at(6), loan),
    ];
    let report = f.import("registry.items", "registry", &items, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(
        f.text("SELECT estate_id || ' ' || plot_number || ' ' || source_ref AS v FROM plots")
            .await,
        ["1 A-12 firms.items!R4"],
        "one plot, two allotments"
    );
    assert_eq!(
        f.count(
            "SELECT a.id FROM plot_allotments a JOIN organisation_identifiers i \
             ON i.organisation_id = a.organisation_id AND i.value = 'SKT-00012' \
             AND i.scheme = 'psic-punjab-unit' \
             WHERE a.status = 'allotted'"
        )
        .await,
        1
    );
    assert_eq!(
        f.count("SELECT id FROM loans WHERE organisation_id IS NOT NULL AND amount_pkr = 150000")
            .await,
        1
    );
    // The unknown unit is a warning; the allotment is kept without its firm.
    assert_eq!(report.warnings, 1, "{report}");
    assert_eq!(report.issues[0].code, "unknown_unit");
    let again = f.import("registry.items", "registry", &items, false).await;
    assert_eq!(
        (again.totals.inserted, again.totals.updated),
        (0, 0),
        "{again}"
    );
}

#[tokio::test]
async fn trade_flows_by_comtrade_codes_with_an_unlisted_partner() {
    use hub_plugin_sdk::{Flow, TradeArea, TradeFlow};
    let f = fixture().await;
    let flow = |row: u64, partner: &str, code: &str, class: &str, value: f64| {
        let mut t = TradeFlow::new(
            TradeArea::ComtradeCode("586".into()),
            TradeArea::ComtradeCode(partner.into()),
            Flow::Export,
            class,
            code,
            "2019",
        );
        t.value = Some(value);
        t.currency = Some("USD".into());
        Item::record(SourceRef::row("trade.items", row), t)
    };
    let items = [
        flow(2, "842", "901890", "H5", 1000.0),
        flow(3, "899", "901890", "H5", 20.0),
        flow(4, "0", "6", "S3", 5.0),
    ];
    let report = f.import("trade.items", "un-comtrade", &items, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(report.by_kind["trade_flow"].inserted, 3);
    assert_eq!(report.warnings, 1);
    assert_eq!(report.issues[0].code, "unlisted_partner");
    // Comtrade 842 is the USA (M49 840).
    assert_eq!(
        f.text(
            "SELECT c.iso3 || ' ' || t.hs4 || ' ' || t.value_usd AS v FROM trade_flows t \
             JOIN countries c ON c.id = t.partner_id WHERE t.commodity_code = '901890' ORDER BY c.iso3"
        )
        .await,
        ["C-899 9018 20.0", "USA 9018 1000.0"]
    );
    assert_eq!(
        f.count("SELECT id FROM classifications WHERE code = 'S3' AND kind = 'sitc'")
            .await,
        1
    );
    // An overlapping extract updates, never duplicates.
    let update = [flow(2, "842", "901890", "H5", 1100.0)];
    let second = f
        .import("trade-2.items", "un-comtrade", &update, false)
        .await;
    assert_eq!(second.by_kind["trade_flow"].updated, 1, "{second}");
    assert_eq!(f.count("SELECT id FROM trade_flows").await, 3);

    // An unknown reporter is a row error.
    let mut bad = TradeFlow::new(
        TradeArea::ComtradeCode("1".into()),
        TradeArea::ComtradeCode("0".into()),
        Flow::Import,
        "H5",
        "9018",
        "2019",
    );
    bad.value = Some(1.0);
    let report = f
        .import(
            "bad.items",
            "un-comtrade",
            &[Item::record(at(2), bad)],
            false,
        )
        .await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(report.issues[0].field.as_deref(), Some("reporter"));
}

#[tokio::test]
async fn records_without_a_row_stream_and_one_row_cannot_hold_the_whole_file() {
    let f = fixture().await;
    // Records without a row number belong to no row: they are applied batch by batch.
    let rowless: Vec<Item> = (1..=5)
        .map(|n| {
            let mut o = Organisation::new(format!("R-{n}"), OrganisationKind::Firm, "Rowless");
            o.district = Some("Sialkot".into());
            Item::record(SourceRef::new("firms.items"), o)
        })
        .collect();
    let report = f.import("rowless.items", "rowless", &rowless, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(report.totals.inserted, 5, "{report}");

    // A row's items are held together until the row ends, so one row may not grow without
    // bound: the import fails instead of holding the file in memory.
    let one_row: Vec<Item> = (0..=MAX_ROW_ITEMS)
        .map(|_| Item::from(hub_plugin_sdk::RowError::missing_required(at(7), "name")))
        .collect();
    let report = f.import("one-row.items", "one-row", &one_row, false).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(
        report.error.as_deref(),
        Some(
            "one-row.items: row 7 gave more than 10000 items; the items of one row are \
             applied together, so a row may not hold more"
        )
    );
}

#[tokio::test]
async fn keys_made_from_personal_data_are_digested_before_anything_sees_them() {
    use hub_plugin_sdk::keys::personal_key;
    use hub_plugin_sdk::{Participation, TrainingEvent};
    let f = fixture().await;
    let person_key = |name: &str, phone: &str| personal_key("EVT-1", &[name, phone]);
    let person = |name: &str, phone: &str| {
        let mut p = Person::new(person_key(name, phone));
        p.full_name = Some(Personal::new(name));
        p.phone = Some(Personal::new(phone));
        p
    };
    let participation = |name: &str, phone: &str| {
        let mut x = Participation::new(personal_key("EVT-1/p", &[name, phone]), "EVT-1");
        x.person_key = Some(person_key(name, phone));
        x
    };
    let items = vec![
        Item::record(at(1), TrainingEvent::new("EVT-1", "Export marketing")),
        Item::record(at(2), person("Ayesha Bibi", "0300-1234567")),
        Item::record(at(2), participation("Ayesha Bibi", "0300-1234567")),
        Item::record(at(3), person("Bilal Ahmed", "0301-7654321")),
        Item::record(at(3), participation("Bilal Ahmed", "0301-7654321")),
    ];
    let report = f.import("export.items", "provider", &items, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(f.count("SELECT id FROM participations").await, 2);
    let keys = f
        .text(
            "SELECT source_key AS v FROM person_source_records UNION ALL \
             SELECT source_key AS v FROM participations",
        )
        .await;
    assert_eq!(keys.len(), 4);
    for key in &keys {
        assert!(key.starts_with("pk:") && key.len() == 35, "{key}");
        for clear in ["ayesha", "bibi", "0300", "1234567"] {
            assert!(!key.contains(clear), "{key}");
        }
    }
    // The same data, typed differently, is the same key: no new person or participation.
    let mut again = items.clone();
    again[1] = Item::record(at(2), person("AYESHA  BIBI", "0300 1234567"));
    let report = f.import("export.items", "provider", &again, false).await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(report.totals.inserted, 0, "{report}");
    // An organisation keyed by personal data (a sole proprietor's name and phone) is found
    // through every field that names it.
    let owner_key = personal_key("sole", &["Rafiq Khan", "0345-9999999"]);
    let mut shop = Organisation::new(owner_key.clone(), OrganisationKind::Firm, "Rafiq Surgical");
    shop.district = Some("Sialkot".into());
    let mut figures = hub_plugin_sdk::FirmObservation::new(owner_key, "2023");
    figures.employees_total = Some(4);
    let report = f
        .import(
            "shops.items",
            "provider",
            &[Item::record(at(1), shop), Item::record(at(1), figures)],
            false,
        )
        .await;
    assert_eq!(report.status, RunStatus::Applied, "{report}");
    assert_eq!(
        f.count("SELECT id FROM organisation_source_records WHERE source_key LIKE 'pk:%'")
            .await,
        1
    );
    // A reference to nobody names the digest, never the name.
    let orphan = vec![Item::record(
        at(4),
        participation("Sana Riaz", "0302-1111111"),
    )];
    let report = f.import("export.items", "provider", &orphan, false).await;
    assert_ne!(report.status, RunStatus::Applied);
    let text = report.to_string();
    assert!(text.contains("pk:"), "{text}");
    assert!(!text.contains("sana") && !text.contains("Sana"), "{text}");
}
