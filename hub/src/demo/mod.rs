//! The demo dataset: `hub demo` starts with the four Punjab clusters, their firms,
//! networks, trainings, indicators, registry records and export statistics.
//!
//! [`load_demo`] imports the files of `hub/demo/` (embedded with `include_bytes!`, so the
//! binary works from any directory) one after another through their importers and the
//! import pipeline, exactly as `hub import` would, each an import run of its own and each
//! idempotent:
//!
//! 1. `clusters.toml`, the programme definition (importer `programme`): the programme, its
//!    lead, technical-assistance and funding agencies, and the clusters with their
//!    districts, ISIC classes and HS basket;
//! 2. the registry exports (`psic-punjab-*`, the units with the options of
//!    `hub/demo/mappings/psic_punjab_registered_units.toml`), so that the survey's firms
//!    link to the registry's units by unit number and NTN;
//! 3. the four workbooks (the spreadsheet importer with the mappings of
//!    `hub/demo/mappings/`) and the Comtrade file (`un-comtrade-v1`).
//!
//! Nothing is written around the pipeline: a new agency starts its own programme the same
//! way (README, "Start your own programme").
//!
//! # Decisions (what the demo files do not say)
//!
//! - **Sources and priority.** `psic-punjab` 10, `un-comtrade` 10, `cdi-survey-2023` 20,
//!   `cdi-networks` 30, `cdi-results` 30, `cdi-training` 40, `hub-curated` 50 (lower wins),
//!   given to the imports as configured sources ([`demo_sources`]), so each is created with
//!   its name, kind, publisher and priority by the first import that writes under it (the
//!   demo is loaded into a new database, where none exists yet).
//! - **Dates of observation** are in the mappings: the survey was fielded January to March
//!   2023 (observed on 31 March 2023; turnover and exports are figures of 2022, head counts
//!   and certifications of 2023); the registry export is as of 31 December 2024.
//!
//! The rules every import follows (linking, survivorship, cluster membership by activity,
//! persons by CNIC) are the pipeline's: see [`crate::import`].

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Context as _;
use hub_schema::domain::{CnicKey, SizeThresholds};
use sea_orm::DatabaseConnection;

use crate::config::{ImportSettings, SourceSettings};

#[cfg(test)]
mod tests;

/// The version of the bundled demo dataset. Bump it when the files in `hub/demo/` change.
pub const DEMO_VERSION: &str = "cdi-demo-2024.2";

/// The `hub_meta` key recording which demo dataset the database holds.
pub const META_KEY: &str = "demo_dataset";

/// The files of the demo dataset, in the order they are imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DemoFile {
    Clusters,
    Units,
    Survey,
    Allotments,
    Loans,
    Networks,
    Training,
    Indicators,
    Trade,
}

impl DemoFile {
    fn name(self) -> &'static str {
        match self {
            DemoFile::Clusters => "clusters.toml",
            DemoFile::Units => "psic_punjab_registered_units.csv",
            DemoFile::Survey => "firms_cdi_diagnostic_survey_2023.xlsx",
            DemoFile::Allotments => "psic_punjab_estate_allotments.csv",
            DemoFile::Loans => "psic_punjab_loans.csv",
            DemoFile::Networks => "sme_networks.xlsx",
            DemoFile::Training => "training_attendance_2022_2024.xlsx",
            DemoFile::Indicators => "cdi_results_framework.xlsx",
            DemoFile::Trade => "comtrade_pak_exports_2017_2024.csv",
        }
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            DemoFile::Clusters => include_bytes!("../../demo/clusters.toml"),
            DemoFile::Units => include_bytes!("../../demo/psic_punjab_registered_units.csv"),
            DemoFile::Survey => include_bytes!("../../demo/firms_cdi_diagnostic_survey_2023.xlsx"),
            DemoFile::Allotments => include_bytes!("../../demo/psic_punjab_estate_allotments.csv"),
            DemoFile::Loans => include_bytes!("../../demo/psic_punjab_loans.csv"),
            DemoFile::Networks => include_bytes!("../../demo/sme_networks.xlsx"),
            DemoFile::Training => include_bytes!("../../demo/training_attendance_2022_2024.xlsx"),
            DemoFile::Indicators => include_bytes!("../../demo/cdi_results_framework.xlsx"),
            DemoFile::Trade => include_bytes!("../../demo/comtrade_pak_exports_2017_2024.csv"),
        }
    }

    /// Every file, in import order: the programme definition first (everything else names
    /// its clusters), the registry before the survey that cites its units, the survey
    /// before the networks and attendance sheets that cite its firms.
    const ALL: [DemoFile; 9] = [
        DemoFile::Clusters,
        DemoFile::Units,
        DemoFile::Allotments,
        DemoFile::Loans,
        DemoFile::Survey,
        DemoFile::Networks,
        DemoFile::Training,
        DemoFile::Indicators,
        DemoFile::Trade,
    ];

    /// The mapping a file is imported with (`hub/demo/mappings/`), if it needs one.
    fn mapping(self) -> Option<&'static str> {
        Some(match self {
            DemoFile::Clusters => "source = \"hub-curated\"\n",
            DemoFile::Units => {
                include_str!("../../demo/mappings/psic_punjab_registered_units.toml")
            }
            DemoFile::Survey => {
                include_str!("../../demo/mappings/firms_cdi_diagnostic_survey_2023.toml")
            }
            DemoFile::Networks => include_str!("../../demo/mappings/sme_networks.toml"),
            DemoFile::Training => {
                include_str!("../../demo/mappings/training_attendance_2022_2024.toml")
            }
            DemoFile::Indicators => include_str!("../../demo/mappings/cdi_results_framework.toml"),
            _ => return None,
        })
    }
}

/// A source the demo writes to: code, name, kind, publisher, priority, description.
type SourceSpec = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    i32,
    &'static str,
);

/// The sources of the demo.
const SOURCES: &[SourceSpec] = &[
    (
        "psic-punjab",
        "Punjab Small Industries Corporation registries",
        "registry",
        Some("Punjab Small Industries Corporation"),
        10,
        "Registered units, small-industrial-estate plot allotments and loans of the Punjab \
         Small Industries Corporation.",
    ),
    (
        "cdi-survey-2023",
        "CDI diagnostic survey 2023",
        "survey",
        Some("CDI cluster teams"),
        20,
        "The 2023 diagnostic survey of cluster firms by the Punjab Industrial Cluster \
         Development Initiative.",
    ),
    (
        "cdi-networks",
        "CDI SME networks",
        "curated",
        Some("CDI cluster teams"),
        30,
        "SME networks and consortia formed by the CDI cluster teams, and their members.",
    ),
    (
        "cdi-training",
        "CDI training attendance",
        "attendance",
        Some("CDI cluster teams"),
        40,
        "Training events of the CDI and their attendance sheets.",
    ),
    (
        "cdi-results",
        "CDI results framework",
        "curated",
        Some("CDI cluster teams"),
        30,
        "Indicators of the CDI results framework: baselines, targets and actuals.",
    ),
    (
        "un-comtrade",
        "UN Comtrade",
        "trade_statistics",
        Some("UN Statistics Division"),
        10,
        "International merchandise trade statistics of UN Comtrade (API v1).",
    ),
    (
        "hub-curated",
        "Hub curated reference",
        "curated",
        None,
        50,
        "Programmes, clusters and agencies curated for the hub.",
    ),
];

/// Import settings with the demo's sources configured (a source `configured` defines
/// already keeps its settings).
pub fn demo_sources(configured: &ImportSettings) -> ImportSettings {
    let mut settings = configured.clone();
    let mut sources: BTreeMap<String, SourceSettings> = SOURCES
        .iter()
        .map(|(code, name, kind, publisher, priority, description)| {
            (
                (*code).to_owned(),
                SourceSettings {
                    name: Some((*name).to_owned()),
                    kind: Some((*kind).to_owned()),
                    priority: Some(*priority),
                    publisher: publisher.map(str::to_owned),
                    description: Some((*description).to_owned()),
                },
            )
        })
        .collect();
    sources.extend(configured.sources.clone());
    settings.sources = sources;
    settings
}

/// What a demo load wrote, per entity.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub sources: usize,
    pub programmes: usize,
    pub clusters: usize,
    /// Agencies, donors, chambers and training providers.
    pub agencies: usize,
    /// Unified organisations of kind `firm`.
    pub firms: usize,
    pub organisation_source_records: usize,
    pub organisation_identifiers: usize,
    pub persons: usize,
    pub person_source_records: usize,
    pub affiliations: usize,
    pub record_links: usize,
    pub cluster_memberships: usize,
    pub firm_observations: usize,
    pub industrial_estates: usize,
    pub plots: usize,
    pub plot_allotments: usize,
    pub loans: usize,
    pub networks: usize,
    pub network_members: usize,
    pub courses: usize,
    pub training_events: usize,
    pub participations: usize,
    pub indicators: usize,
    pub indicator_values: usize,
    pub trade_flows: usize,
    /// Import runs recorded (one per demo file).
    pub import_runs: usize,
    /// Rows skipped, with an `import_row_errors` row of severity `error`.
    pub row_errors: usize,
    /// Rows kept with a remark, with an `import_row_errors` row of severity `warning`.
    pub row_warnings: usize,
}

impl DemoSummary {
    /// Counts what the database holds (everything, not only what the demo wrote: the demo
    /// is loaded into a new database). Import runs count the demo's own: the seeded files'
    /// and the workbooks' runs, not the reference data's.
    pub async fn count(db: &DatabaseConnection) -> anyhow::Result<Self> {
        use sea_orm::{ConnectionTrait as _, Statement};
        let backend = db.get_database_backend();
        let n = async |sql: &str| -> anyhow::Result<usize> {
            let row = db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!("SELECT COUNT(*) AS n FROM {sql}"),
                ))
                .await?
                .context("a count returns a row")?;
            Ok(row.try_get_by::<i64, _>("n")? as usize)
        };
        Ok(DemoSummary {
            sources: n("sources").await?,
            programmes: n("programmes").await?,
            clusters: n("clusters").await?,
            agencies: n("organisations WHERE kind <> 'firm'").await?,
            firms: n("organisations WHERE kind = 'firm'").await?,
            organisation_source_records: n("organisation_source_records").await?,
            organisation_identifiers: n("organisation_identifiers").await?,
            persons: n("persons").await?,
            person_source_records: n("person_source_records").await?,
            affiliations: n("affiliations").await?,
            record_links: n("record_links").await?,
            cluster_memberships: n("cluster_memberships").await?,
            firm_observations: n("firm_observations").await?,
            industrial_estates: n("industrial_estates").await?,
            plots: n("plots").await?,
            plot_allotments: n("plot_allotments").await?,
            loans: n("loans").await?,
            networks: n("networks").await?,
            network_members: n("network_members").await?,
            courses: n("courses").await?,
            training_events: n("training_events").await?,
            participations: n("participations").await?,
            indicators: n("indicators").await?,
            indicator_values: n("indicator_values").await?,
            trade_flows: n("trade_flows").await?,
            import_runs: n("import_runs WHERE importer_id <> 'reference'").await?,
            row_errors: n("import_row_errors WHERE severity = 'error'").await?,
            row_warnings: n("import_row_errors WHERE severity = 'warning'").await?,
        })
    }

    /// The counts with their labels, in the order of the summary.
    pub fn entries(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("sources", self.sources),
            ("programmes", self.programmes),
            ("clusters", self.clusters),
            ("agencies and providers", self.agencies),
            ("firms", self.firms),
            (
                "organisation source records",
                self.organisation_source_records,
            ),
            ("organisation identifiers", self.organisation_identifiers),
            ("persons", self.persons),
            ("person source records", self.person_source_records),
            ("affiliations", self.affiliations),
            ("record links", self.record_links),
            ("cluster memberships", self.cluster_memberships),
            ("firm observations", self.firm_observations),
            ("industrial estates", self.industrial_estates),
            ("plots", self.plots),
            ("plot allotments", self.plot_allotments),
            ("loans", self.loans),
            ("networks", self.networks),
            ("network members", self.network_members),
            ("courses", self.courses),
            ("training events", self.training_events),
            ("participations", self.participations),
            ("indicators", self.indicators),
            ("indicator values", self.indicator_values),
            ("trade flows", self.trade_flows),
            ("import runs", self.import_runs),
            ("row errors", self.row_errors),
            ("row warnings", self.row_warnings),
        ]
    }
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (label, count)) in self.entries().into_iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{label:<29} {count:>6}")?;
        }
        Ok(())
    }
}

/// Loads the bundled demo dataset unless this version is loaded already (then `None`).
///
/// Reference data (classifications, countries, Comtrade areas, admin areas) must be loaded
/// first. Every file goes through its importer and the import pipeline, each an import run
/// of its own (see the module docs). Each import is idempotent, so a load interrupted
/// between two files completes when run again. A database that holds another version of
/// the demo dataset is refused, because the demo's programme, clusters and records would
/// collide with the older ones.
pub async fn load_demo(
    db: &DatabaseConnection,
    key: &CnicKey,
    sizes: &SizeThresholds,
) -> anyhow::Result<Option<DemoSummary>> {
    match crate::db::meta_get(db, META_KEY).await?.as_deref() {
        Some(DEMO_VERSION) => return Ok(None),
        Some(other) => anyhow::bail!(
            "the database holds demo dataset {other}, not {DEMO_VERSION}; \
             create a new database to load this one"
        ),
        None => {}
    }
    let settings = demo_sources(&ImportSettings::default());
    let importers = crate::import::Importers::builtin();
    let env = crate::import::ImportEnv {
        key,
        sizes,
        settings: &settings,
        importers: &importers,
    };
    let dir = tempfile::tempdir().context("a temporary folder for the demo files")?;
    for file in DemoFile::ALL {
        let path = dir.path().join(file.name());
        std::fs::write(&path, file.bytes())?;
        let mapping = file
            .mapping()
            .map(toml::from_str::<serde_json::Value>)
            .transpose()
            .with_context(|| format!("the demo mapping of {}", file.name()))?;
        let request = crate::import::ImportRequest {
            path,
            mapping,
            triggered_by: Some("demo".into()),
            actor: None,
            ..Default::default()
        };
        let report = crate::import::run(db, &env, request, &|_| {}).await?;
        anyhow::ensure!(
            report.status == crate::import::RunStatus::Applied,
            "the demo file {} did not import:\n{report}",
            file.name()
        );
    }
    crate::db::meta_set(db, META_KEY, DEMO_VERSION).await?;
    Ok(Some(DemoSummary::count(db).await?))
}
