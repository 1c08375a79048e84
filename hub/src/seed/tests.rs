//! Loads the demo into a fresh SQLite database (and into PostgreSQL when
//! `HUB_SEED_TEST_PG_URL` names an empty database) and checks what the brief promises.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use hub_schema::domain::{CnicKey, SizeThresholds};
use hub_schema::entity::{
    affiliations, countries, import_runs, organisation_identifiers, organisation_source_records,
    organisations, participations, person_source_records, persons, record_links, sources,
    trade_flows,
};
use sea_orm::{
    ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait as _,
};
use sea_orm_migration::MigratorTrait as _;

use super::csvfile::CsvFile;
use super::{Ctx, DemoFile, load_demo, registry};

fn key() -> CnicKey {
    CnicKey::from_bytes((1u8..=32).collect::<Vec<_>>()).unwrap()
}

async fn prepare(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(2);
    options.map_sqlx_sqlite_opts(|o| o.foreign_keys(true));
    let db = Database::connect(options).await.unwrap();
    hub_schema::migration::Migrator::up(&db, None)
        .await
        .unwrap();
    crate::reference::load_bundled(&db).await.unwrap();
    db
}

/// Every CNIC written in the demo files, with and without dashes.
fn demo_cnics() -> Vec<String> {
    let mut cnics = Vec::new();
    for (file, column) in [
        (DemoFile::Units, "Owner CNIC"),
        (DemoFile::Loans, "Borrower CNIC"),
    ] {
        let csv = CsvFile::parse(file.bytes(), file.name(), &[column]).unwrap();
        cnics.extend(csv.records().filter_map(|(_, r)| r.get(column)));
    }
    // Every cell of the attendance sheets shaped like a CNIC (12345-1234567-1).
    use calamine::{DataType as _, Reader as _, open_workbook_from_rs};
    let mut workbook: calamine::Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(DemoFile::Training.bytes())).unwrap();
    let is_cnic = |s: &str| {
        let parts: Vec<&str> = s.split('-').collect();
        parts.len() == 3
            && [5, 7, 1] == [parts[0].len(), parts[1].len(), parts[2].len()]
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    };
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).unwrap();
        cnics.extend(
            range
                .cells()
                .filter_map(|(_, _, cell)| cell.get_string().map(str::to_owned))
                .filter(|s: &String| is_cnic(s)),
        );
    }
    let digits: Vec<String> = cnics.iter().map(|c| c.replace('-', "")).collect();
    cnics.extend(digits);
    cnics
}

async fn check_demo(db: &DatabaseConnection) {
    let started = Instant::now();
    let summary = load_demo(db, &key(), &SizeThresholds::default())
        .await
        .unwrap()
        .expect("a first load writes the demo");
    eprintln!("{summary}\nloaded in {:?}", started.elapsed());

    assert!((250..=350).contains(&summary.firms), "{summary:?}");
    assert!(summary.training_events >= 20);
    assert!((6..=8).contains(&summary.networks));
    assert!(summary.trade_flows > 4000);
    assert_eq!(summary.clusters, 4);
    assert_eq!(summary.row_errors, 0, "the demo files have no bad rows");
    assert_eq!(summary.import_runs, 9);

    // Counts in the database agree with the summary.
    let firms = organisations::Entity::find()
        .filter(organisations::Column::Kind.eq("firm"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(firms as usize, summary.firms);
    let runs = import_runs::Entity::find()
        .filter(import_runs::Column::ImporterId.eq("demo-seed"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(runs.len(), 5, "the seeded files");
    let imported = import_runs::Entity::find()
        .filter(import_runs::Column::ImporterId.eq("spreadsheet"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(imported.len(), 4, "the workbooks, through the importer");
    assert!(
        imported
            .iter()
            .all(|r| r.status == "applied" && r.rejected == 0)
    );
    assert!(
        runs.iter()
            .all(|r| r.status == "applied" && r.first_change_seq.is_some())
    );

    // The USA (Comtrade area 842) is a partner.
    let usa = countries::Entity::find()
        .filter(countries::Column::Iso3.eq("USA"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let to_usa = trade_flows::Entity::find()
        .filter(trade_flows::Column::PartnerId.eq(usa.id))
        .count(db)
        .await
        .unwrap();
    assert!(to_usa > 0);

    // No CNIC digits anywhere: CNIC identifiers hold hashes and masks only.
    let identifiers = organisation_identifiers::Entity::find()
        .all(db)
        .await
        .unwrap();
    for id in identifiers.iter().filter(|i| i.scheme == "PK-CNIC") {
        assert!(id.is_hashed && id.value.len() == 64);
        assert!(id.display.starts_with("*****-****"));
    }
    let mut dump = format!("{identifiers:?}");
    dump.push_str(&format!(
        "{:?}",
        persons::Entity::find().all(db).await.unwrap()
    ));
    dump.push_str(&format!(
        "{:?}",
        person_source_records::Entity::find().all(db).await.unwrap()
    ));
    dump.push_str(&format!(
        "{:?}",
        organisation_source_records::Entity::find()
            .all(db)
            .await
            .unwrap()
    ));
    let cnics = demo_cnics();
    assert!(cnics.len() > 100);
    for cnic in &cnics {
        assert!(!dump.contains(cnic.as_str()), "a CNIC was stored in clear");
    }

    // The same person attending twice is one person.
    let parts = participations::Entity::find().all(db).await.unwrap();
    let mut per_person: HashMap<i64, HashSet<i64>> = HashMap::new();
    for p in &parts {
        per_person
            .entry(p.person_id.unwrap())
            .or_default()
            .insert(p.training_event_id);
    }
    assert!(per_person.values().any(|events| events.len() >= 2));
    // One person per CNIC: as many persons attended as the sheets have distinct CNICs.
    let training = sources::Entity::find()
        .filter(sources::Column::Code.eq("cdi-training"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let trainees: HashSet<String> = person_source_records::Entity::find()
        .filter(person_source_records::Column::SourceId.eq(training.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.cnic_hash.expect("every trainee has a CNIC"))
        .collect();
    assert_eq!(per_person.len(), trainees.len());

    // An owner of two units is one person affiliated with two firms.
    let owners = affiliations::Entity::find()
        .filter(affiliations::Column::Role.eq("owner"))
        .all(db)
        .await
        .unwrap();
    let mut firms_of: HashMap<i64, HashSet<i64>> = HashMap::new();
    for a in &owners {
        firms_of
            .entry(a.person_id)
            .or_default()
            .insert(a.organisation_id);
    }
    assert!(firms_of.values().any(|f| f.len() == 2));

    // Every source record is linked, and the survey and registry overlap.
    let links = record_links::Entity::find()
        .filter(record_links::Column::EntityType.eq("organisation"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(links.len(), summary.organisation_source_records);
    assert!(links.iter().any(|l| l.method == "strong_identifier"));
    let unprovenanced = organisations::Entity::find()
        .filter(organisations::Column::ChangeSeq.eq(0))
        .count(db)
        .await
        .unwrap();
    assert_eq!(unprovenanced, 0);

    // A second load does nothing.
    assert!(
        load_demo(db, &key(), &SizeThresholds::default())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_the_demo_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("demo.sqlite").display()
    );
    let db = prepare(&url).await;
    check_demo(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_are_reported_without_personal_values() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bad.sqlite").display()
    );
    let db = prepare(&url).await;
    let txn = db.begin().await.unwrap();
    let (key, sizes) = (key(), SizeThresholds::default());
    let mut ctx = Ctx::begin(&txn, &key, &sizes).await.unwrap();
    let csv = "\u{feff}Unit No,Unit Name,Owner Name,Owner CNIC,NTN,Address,District,Tehsil,\
               Industry Code,Employees,Registration Date,Status\n\
               LHR-1,Good,Ali Khan,35202-9876501-1,1234567-8,x,LAHORE ,Model Town,14101,12,01/02/2020,Active\n\
               LHR-2,Unknown district,Ali Khan,35202-9876501-1,,x,Atlantis,,14101,12,01/02/2020,Active\n\
               LHR-3,Bad NTN,Ali Khan,35202-9876501-1,35202-98765,x,Lahore,,14101,12,01/02/2020,Active\n\
               LHR-4,CNIC as NTN,Bilal Ahmed,3520276543219,3520276543219,x,Lahore,Nowhere,14101,x,01/02/2020,Active\n\
               LHR-5,Bad owner CNIC,Bilal Ahmed,3520-76543,,x,Lahore,,14101,3,2020-02-30,Active\n";
    let units = registry::parse_units_from(&mut ctx, csv.as_bytes()).unwrap();

    let keys: Vec<&str> = units.iter().map(|u| u.firm.key.as_str()).collect();
    assert_eq!(keys, ["LHR-1", "LHR-4", "LHR-5"]);
    let issues: Vec<(&str, u64, &str, &str)> = ctx
        .issues
        .iter()
        .map(|i| (i.severity, i.loc.row, i.column, i.code))
        .collect();
    assert_eq!(
        issues,
        [
            ("error", 3, "District", "unknown_district"),
            ("error", 4, "NTN", "invalid_identifier"),
            ("warning", 5, "Tehsil", "unknown_tehsil"),
            ("warning", 5, "Employees", "invalid_number"),
            ("warning", 6, "Registration Date", "invalid_date"),
            ("warning", 6, "Owner CNIC", "invalid_identifier"),
        ]
    );
    for issue in &ctx.issues {
        for personal in ["35202", "98765", "76543", "3520-"] {
            assert!(!issue.message.contains(personal), "{}", issue.message);
        }
    }
    // A 13-digit NTN is a CNIC: hashed and masked, and it does not link firms.
    let cnic_as_ntn = &units[1].firm.identifiers[1];
    assert_eq!(cnic_as_ntn.scheme.code(), "PK-CNIC");
    assert!(cnic_as_ntn.hashed && cnic_as_ntn.value.len() == 64);
    assert_eq!(cnic_as_ntn.display, "*****-****321-9");
    assert!(units[2].owner.as_ref().unwrap().cnic.is_none());
}
