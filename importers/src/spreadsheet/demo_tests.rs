//! The demo files of `hub/demo/` read with their mappings of `hub/demo/mappings/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{Input, Item, OrganisationKind, Record, RecordKind, TrainingEvent, ValueType};

use super::importer_tests::{counts, import, mapping, records, row_errors, without_logs};
use super::*;

fn demo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../hub/demo")
        .join(name)
}

/// The demo file read with its mapping file.
fn import_demo(file: &str) -> Vec<Item> {
    let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    let text = std::fs::read_to_string(demo(&format!("mappings/{stem}.toml"))).unwrap();
    let items = import(&demo(file), &mapping(&text)).unwrap();
    assert_eq!(row_errors(&items), Vec::<&hub_plugin_sdk::RowError>::new());
    items
}

#[test]
fn the_survey_gives_260_firms_with_observations_and_contacts() {
    let items = import_demo("firms_cdi_diagnostic_survey_2023.xlsx");
    assert_eq!(
        counts(&items),
        BTreeMap::from([
            (RecordKind::Organisation, 260),
            (RecordKind::Person, 260),
            (RecordKind::Affiliation, 260),
            (RecordKind::ClusterMembership, 260),
            // Turnover and exports of 2022, head counts of 2023, for every firm.
            (RecordKind::FirmObservation, 520),
        ])
    );
    let mut periods = BTreeMap::<String, usize>::new();
    let mut text_turnovers = 0;
    for record in records(&items) {
        match record {
            Record::FirmObservation(o) => {
                *periods.entry(o.period.clone()).or_default() += 1;
                if o.period == "2022" {
                    assert!(o.turnover_pkr.is_some() && o.exports_usd.is_some());
                    assert_eq!(o.employees_total, None);
                    text_turnovers += 1;
                } else {
                    assert!(o.employees_total.is_some() && o.turnover_pkr.is_none());
                }
            }
            Record::Organisation(org) => {
                assert!(org.source_key.starts_with("DS23-"));
                assert_eq!(
                    org.observed_on.map(|d| d.to_string()).as_deref(),
                    Some("2023-03-31")
                );
            }
            _ => {}
        }
    }
    assert_eq!(text_turnovers, 260);
    assert_eq!(periods.len(), 2);
}

#[test]
fn the_training_workbook_gives_26_events_and_431_participations() {
    let items = import_demo("training_attendance_2022_2024.xlsx");
    let counted = counts(&items);
    assert_eq!(counted[&RecordKind::TrainingEvent], 26);
    assert_eq!(counted[&RecordKind::Participation], 431);
    assert_eq!(counted[&RecordKind::Person], 431);
    assert!(counted[&RecordKind::Course] >= 2);

    let mut events = BTreeSet::new();
    let mut agencies = BTreeSet::new();
    let mut survey_firms = 0;
    let mut completed = 0;
    for record in records(&items) {
        match record {
            Record::TrainingEvent(TrainingEvent { source_key, .. }) => {
                events.insert(source_key.clone());
            }
            Record::Participation(p) => {
                // Every participation refers to an event emitted before it.
                assert!(events.contains(&p.event_key), "{}", p.event_key);
                assert!(p.organisation_key.is_some());
                if p.completed == Some(true) {
                    assert!(p.certificate_number.is_some());
                    completed += 1;
                }
            }
            Record::Organisation(org) if org.kind == OrganisationKind::Agency => {
                agencies.insert(org.name.clone());
            }
            Record::Organisation(org) if org.kind == OrganisationKind::Firm => {
                assert!(org.source_key.starts_with("source:cdi-survey-2023:DS23-"));
                survey_firms += 1;
            }
            _ => {}
        }
    }
    assert!(completed > 300 && completed < 431, "{completed}");
    assert_eq!(
        agencies,
        BTreeSet::from([
            "Punjab Small Industries Corporation".to_owned(),
            "UNIDO".to_owned()
        ])
    );
    assert!(survey_firms > 100, "{survey_firms}");
}

#[test]
fn the_networks_workbook_gives_7_networks_and_60_members() {
    let items = import_demo("sme_networks.xlsx");
    let counted = counts(&items);
    assert_eq!(counted[&RecordKind::Network], 7);
    assert_eq!(counted[&RecordKind::NetworkMember], 60);
    let leads = records(&items)
        .iter()
        .filter(|r| {
            matches!(r, Record::NetworkMember(m) if m.role == Some(hub_plugin_sdk::NetworkRole::Lead))
        })
        .count();
    assert_eq!(leads, 7);
}

/// The results framework has 164 rows: 41 series (indicator, scope, breakdown) of four
/// years, 2021 to 2024. Each series gives one baseline (its first row's: the sheet
/// repeats it on every row), three targets (2021 has none) and four actuals:
/// 41 × (1 + 3 + 4) = 328 values.
#[test]
fn the_results_framework_gives_328_values_from_164_rows() {
    let items = import_demo("cdi_results_framework.xlsx");
    let mut by_type = BTreeMap::<&str, usize>::new();
    let mut series = BTreeSet::new();
    for record in records(&items) {
        let Record::IndicatorValue(v) = record else {
            panic!("only indicator values: {:?}", record.kind())
        };
        let name = match v.value_type {
            ValueType::Baseline => "baseline",
            ValueType::Target => "target",
            ValueType::Actual => "actual",
        };
        *by_type.entry(name).or_default() += 1;
        let (series_key, _) = v
            .source_key
            .split_at(v.source_key.match_indices('|').nth(2).unwrap().0);
        series.insert(series_key.to_owned());
        if v.cluster.is_none() {
            assert_eq!(v.scope, hub_plugin_sdk::IndicatorScope::Programme);
            assert_eq!(v.programme.as_deref(), Some("punjab-cdi"));
        }
        assert!(v.indicator_name.is_some() && v.indicator_unit.is_some());
        if v.value_type == ValueType::Baseline {
            assert_eq!(v.period, "2021");
        }
    }
    assert_eq!(series.len(), 41);
    assert_eq!(
        by_type,
        BTreeMap::from([("actual", 164), ("baseline", 41), ("target", 123)])
    );

    // The arithmetic holds for the sheet as it is: 164 data rows, a target on every row
    // but 2021's, an actual on every row.
    let mut book = Workbook::open(&demo("cdi_results_framework.xlsx"), "results").unwrap();
    let mut sheet = WithHeader::new(book.sheet("Indicators").unwrap()).unwrap();
    let (year, target, actual) = (
        sheet.header().find("Year").unwrap(),
        sheet.header().find("Target").unwrap(),
        sheet.header().find("Actual").unwrap(),
    );
    let (mut rows, mut targets, mut actuals) = (0, 0, 0);
    while let Some(row) = sheet.next_row().unwrap() {
        rows += 1;
        targets += usize::from(!row.cell(target).is_empty());
        actuals += usize::from(!row.cell(actual).is_empty());
        if row.cell(year).as_number() == Some(2021.0) {
            assert!(row.cell(target).is_empty());
        }
    }
    assert_eq!((rows, targets, actuals), (164, 123, 164));
}

#[test]
fn suggested_mappings_of_the_demo_workbooks_read_like_no_mapping() {
    for file in [
        "firms_cdi_diagnostic_survey_2023.xlsx",
        "training_attendance_2022_2024.xlsx",
        "sme_networks.xlsx",
        "cdi_results_framework.xlsx",
    ] {
        let path = demo(file);
        let detected = import(&path, &Value::Null).unwrap();
        let suggestion = suggest_mapping(&Input::new(&path)).unwrap();
        let mapped = import(&path, &mapping(&suggestion)).unwrap();
        assert!(!records(&detected).is_empty(), "{file}");
        assert_eq!(without_logs(mapped), without_logs(detected), "{file}");
    }
    // Without a mapping, the training workbook reads the same events and attendance.
    let items = import(&demo("training_attendance_2022_2024.xlsx"), &Value::Null).unwrap();
    assert_eq!(counts(&items)[&RecordKind::Participation], 431);
    assert_eq!(counts(&items)[&RecordKind::TrainingEvent], 26);
}

#[test]
fn the_registry_and_trade_files_do_not_crash() {
    // Made for the registry and trade importers: read without a mapping, the registry's
    // unit list is a firm list; the others have no firm name and are refused.
    let units = import(&demo("psic_punjab_registered_units.csv"), &Value::Null).unwrap();
    assert_eq!(counts(&units)[&RecordKind::Organisation], 120);
    for file in [
        "psic_punjab_estate_allotments.csv",
        "psic_punjab_loans.csv",
        "comtrade_pak_exports_2017_2024.csv",
    ] {
        if let Err(error) = import(&demo(file), &Value::Null) {
            assert!(!error.message.is_empty(), "{file}");
        }
        let _ = suggest_mapping(&Input::new(demo(file)));
    }
}
