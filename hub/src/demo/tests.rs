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
    QueryFilter,
};
use sea_orm_migration::MigratorTrait as _;

use super::{DemoFile, load_demo};

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
        let text = String::from_utf8_lossy(file.bytes());
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let index = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == column)
            .unwrap();
        cnics.extend(
            reader
                .records()
                .filter_map(|r| r.unwrap().get(index).map(str::to_owned))
                .filter(|c| !c.is_empty()),
        );
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
    // One run per file.
    assert_eq!(summary.import_runs, DemoFile::ALL.len());

    // Counts in the database agree with the summary.
    let firms = organisations::Entity::find()
        .filter(organisations::Column::Kind.eq("firm"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(firms as usize, summary.firms);
    let imported = import_runs::Entity::find()
        .filter(import_runs::Column::ImporterId.ne("reference"))
        .filter(import_runs::Column::ImporterId.ne("hub-figures"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        imported.len(),
        DemoFile::ALL.len(),
        "every file, through its importer"
    );
    assert!(
        imported
            .iter()
            .all(|r| r.status == "applied" && r.rejected == 0 && r.first_change_seq.is_some())
    );
    assert_eq!(
        imported
            .iter()
            .filter(|r| r.importer_id == "programme")
            .count(),
        1,
        "the programme definition has its importer"
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
