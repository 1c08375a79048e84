//! The demo dataset: `hub demo` starts with the four Punjab clusters, their firms,
//! networks, trainings, indicators, registry records and export statistics.
//!
//! [`load_demo`] loads the files of `hub/demo/` (embedded with `include_bytes!`, so the
//! binary works from any directory) in two steps, both idempotent:
//!
//! 1. **This module** writes what no importer reads: `clusters.toml`, the programme with
//!    its lead, technical-assistance and funding agencies, and the clusters with their
//!    districts, ISIC classes and HS basket. It is one transaction and one import run
//!    (importer `demo-seed`); every row takes its change number, run and source reference.
//! 2. **Every other file goes through its importer and the import pipeline**, each an
//!    import run of its own: the registry exports (`psic-punjab-*`, the units with the
//!    options of `hub/demo/mappings/psic_punjab_registered_units.toml`), the four workbooks
//!    (the spreadsheet importer with the mappings of `hub/demo/mappings/`) and the Comtrade
//!    file (`un-comtrade-v1`). The registry comes first, so that the survey's firms link to
//!    the registry's units by unit number and NTN.
//!
//! # Decisions (what the demo files do not say)
//!
//! - **Sources and priority.** `psic-punjab` 10, `un-comtrade` 10, `cdi-survey-2023` 20,
//!   `cdi-networks` 30, `cdi-results` 30, `cdi-training` 40, `hub-curated` 50 (lower wins);
//!   all are created first, so the priorities hold whatever the configuration.
//! - **Dates of observation** are in the mappings: the survey was fielded January to March
//!   2023 (observed on 31 March 2023; turnover and exports are figures of 2022, head counts
//!   and certifications of 2023); the registry export is as of 31 December 2024.
//! - **Agencies** are found again by their normalised name (see `agencies.rs`).
//!
//! The rules every import follows (linking, survivorship, cluster membership by activity,
//! persons by CNIC) are the pipeline's: see [`crate::import`].

use std::collections::{HashMap, VecDeque};
use std::fmt;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset};
use hub_schema::domain::{CnicKey, SizeThresholds};
use hub_schema::entity::{classifications, import_row_errors, import_runs, sources};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};
use sha2::{Digest as _, Sha256};

use crate::provenance::{Stamp, insert_chunked, now};
use crate::reference::AdminAreaIndex;

/// Builds an active model whose listed fields are `Set`, plus the provenance columns every
/// data table carries (import run, source reference, change number, timestamps) from a
/// [`Prov`]. Every row of one table sets the same columns, as multi-row inserts require.
macro_rules! row {
    ($entity:ident { $($field:ident : $value:expr),* $(,)? } @ $prov:expr) => {{
        let prov: $crate::seed::Prov = $prov;
        $entity::ActiveModel {
            $($field: sea_orm::ActiveValue::Set($value),)*
            import_run_id: sea_orm::ActiveValue::Set(Some(prov.run_id)),
            source_ref: sea_orm::ActiveValue::Set(Some(prov.source_ref)),
            change_seq: sea_orm::ActiveValue::Set(prov.seq),
            created_at: sea_orm::ActiveValue::Set(prov.at),
            updated_at: sea_orm::ActiveValue::Set(prov.at),
            ..Default::default()
        }
    }};
}

mod agencies;
mod clusters;
pub(crate) mod survivorship;
pub(crate) mod values;

#[cfg(test)]
mod tests;

/// The version of the bundled demo dataset. Bump it when the files in `hub/demo/` change.
pub const DEMO_VERSION: &str = "cdi-demo-2024.1";

/// The `hub_meta` key recording which demo dataset the database holds.
pub const META_KEY: &str = "demo_dataset";

/// The importer id of the import runs this loader records.
const IMPORTER_ID: &str = "demo-seed";

/// The files of the demo dataset, in the order their import runs are recorded.
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

    /// The file's place among [`DemoFile::SEEDED`], whose import runs this module keeps.
    ///
    /// # Panics
    ///
    /// Panics for an imported file: this module never writes under their runs.
    fn slot(self) -> usize {
        DemoFile::SEEDED
            .iter()
            .position(|f| *f == self)
            .expect("only seeded files have runs here")
    }

    /// The files this module writes itself; the others go through the import pipeline.
    const SEEDED: [DemoFile; 1] = [DemoFile::Clusters];

    /// The workbooks imported with the spreadsheet importer, in order: the survey links to
    /// the registry's units, the networks and the attendance sheets cite the survey.
    const IMPORTED: [DemoFile; 8] = [
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
            Ok(row.try_get::<i64>("", "n")? as usize)
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
/// first. Two steps: this module writes what no importer reads yet (the programme and its
/// clusters and agencies, the registry exports, the Comtrade file) in one transaction;
/// then the four workbooks go through the import pipeline and the spreadsheet importer
/// with the mappings of `hub/demo/mappings/`, each an import run of its own. Both steps
/// are idempotent, so a load interrupted between them completes when run again. A
/// database that holds another version of the demo dataset is refused, because the demo's
/// programme, clusters and records would collide with the older ones.
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
    if crate::db::meta_get(db, SEED_META_KEY).await?.as_deref() != Some(DEMO_VERSION) {
        seed(db).await?;
    }
    let settings = crate::config::ImportSettings::default();
    let importers = crate::import::Importers::builtin();
    let env = crate::import::ImportEnv {
        key,
        sizes,
        settings: &settings,
        importers: &importers,
    };
    let dir = tempfile::tempdir().context("a temporary folder for the demo workbooks")?;
    for file in DemoFile::IMPORTED {
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

/// The `hub_meta` key recording that the seeded part of the demo dataset is written.
const SEED_META_KEY: &str = "demo_seed";

/// Writes the part of the demo no importer reads yet, in one transaction.
async fn seed(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let mut ctx = Ctx::begin(&txn).await?;
    // Every demo source, with its priority, before any record is written under it.
    for spec in SOURCES {
        ctx.source(DemoFile::Clusters, spec.code).await?;
    }

    let defs = clusters::parse(&mut ctx)?;
    clusters::write(&mut ctx, &defs).await?;

    ctx.finish().await?;
    crate::db::meta_set(&txn, SEED_META_KEY, DEMO_VERSION).await?;
    txn.commit().await.context("committing the demo dataset")?;
    Ok(())
}

/// Provenance of one row: its import run, change number, source reference and time.
struct Prov {
    run_id: i64,
    seq: i64,
    source_ref: String,
    at: DateTime<FixedOffset>,
}

/// Where a record comes from: a demo file, a sheet of a workbook, a row (1-based, as a
/// spreadsheet or text editor shows it).
#[derive(Debug, Clone)]
struct Loc {
    file: DemoFile,
    sheet: Option<String>,
    row: u64,
}

impl Loc {
    fn new(file: DemoFile, sheet: Option<&str>, row: u64) -> Self {
        Loc {
            file,
            sheet: sheet.map(str::to_owned),
            row,
        }
    }

    /// `file!sheet!row`, or `file!row` for files without sheets.
    fn source_ref(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("{}!{sheet}!{}", self.file.name(), self.row),
            None => format!("{}!{}", self.file.name(), self.row),
        }
    }
}

/// A problem with one row: an error skips the row, a warning keeps it.
struct Issue {
    loc: Loc,
    severity: &'static str,
    column: &'static str,
    field: &'static str,
    code: &'static str,
    message: String,
}

/// One demo file's import run and what was written under it.
struct Run {
    stamp: Stamp,
    rows_read: usize,
    /// Rows written, which is the count of change numbers reserved.
    inserted: i64,
    /// Change numbers reserved but not used yet, as ranges `first..=last`.
    seqs: VecDeque<(i64, i64)>,
}

/// A source of the demo, by id.
#[derive(Debug, Clone, Copy)]
struct Source {
    id: i64,
}

/// A source the demo writes to, as it is created when the database lacks it.
struct SourceSpec {
    code: &'static str,
    name: &'static str,
    /// registry | survey | attendance | trade_statistics | curated
    kind: &'static str,
    publisher: Option<&'static str>,
    priority: i32,
    description: &'static str,
}

/// The sources of the demo.
const SOURCES: &[SourceSpec] = &[
    SourceSpec {
        code: "psic-punjab",
        name: "Punjab Small Industries Corporation registries",
        kind: "registry",
        publisher: Some("Punjab Small Industries Corporation"),
        priority: 10,
        description: "Registered units, small-industrial-estate plot allotments \
                      and loans of the Punjab Small Industries Corporation.",
    },
    SourceSpec {
        code: "cdi-survey-2023",
        name: "CDI diagnostic survey 2023",
        kind: "survey",
        publisher: Some("CDI cluster teams"),
        priority: 20,
        description: "The 2023 diagnostic survey of cluster firms by the Punjab \
                      Industrial Cluster Development Initiative.",
    },
    SourceSpec {
        code: "cdi-networks",
        name: "CDI SME networks",
        kind: "curated",
        publisher: Some("CDI cluster teams"),
        priority: 30,
        description: "SME networks and consortia formed by the CDI cluster teams, \
                      and their members.",
    },
    SourceSpec {
        code: "cdi-training",
        name: "CDI training attendance",
        kind: "attendance",
        publisher: Some("CDI cluster teams"),
        priority: 40,
        description: "Training events of the CDI and their attendance sheets.",
    },
    SourceSpec {
        code: "cdi-results",
        name: "CDI results framework",
        kind: "curated",
        publisher: Some("CDI cluster teams"),
        priority: 30,
        description: "Indicators of the CDI results framework: baselines, targets and actuals.",
    },
    SourceSpec {
        code: "un-comtrade",
        name: "UN Comtrade",
        kind: "trade_statistics",
        publisher: Some("UN Statistics Division"),
        priority: 10,
        description: "International merchandise trade statistics of UN Comtrade (API v1).",
    },
    SourceSpec {
        code: "hub-curated",
        name: "Hub curated reference",
        kind: "curated",
        publisher: None,
        priority: 50,
        description: "Programmes, clusters and agencies curated for the hub.",
    },
];

/// Everything the writers share: the transaction, the CNIC key, the import runs, the
/// sources and classifications by code, the admin-area matcher, issues and counts.
struct Ctx<'a> {
    txn: &'a DatabaseTransaction,
    at: DateTime<FixedOffset>,
    areas: AdminAreaIndex,
    runs: Vec<Run>,
    sources: HashMap<&'static str, Source>,
    classifications: HashMap<String, i64>,
    issues: Vec<Issue>,
    summary: DemoSummary,
}

impl<'a> Ctx<'a> {
    /// Opens one import run per demo file and reads the reference data the loader needs.
    async fn begin(txn: &'a DatabaseTransaction) -> anyhow::Result<Ctx<'a>> {
        let mut runs = Vec::new();
        for file in DemoFile::SEEDED {
            let stamp = Stamp::begin(txn, IMPORTER_ID, DEMO_VERSION, Some(file.name())).await?;
            runs.push(Run {
                stamp,
                rows_read: 0,
                inserted: 0,
                seqs: VecDeque::new(),
            });
        }
        let classifications: HashMap<String, i64> = classifications::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|c| (c.code, c.id))
            .collect();
        anyhow::ensure!(
            classifications.contains_key("HS2017"),
            "the reference data is not loaded; load it before the demo dataset"
        );
        let areas = AdminAreaIndex::load(txn).await?;
        Ok(Ctx {
            txn,
            at: now(),
            areas,
            runs,
            sources: HashMap::new(),
            classifications,
            issues: Vec::new(),
            summary: DemoSummary {
                import_runs: DemoFile::SEEDED.len(),
                ..DemoSummary::default()
            },
        })
    }

    fn run(&mut self, file: DemoFile) -> &mut Run {
        &mut self.runs[file.slot()]
    }

    /// Counts the data rows read from a file.
    fn read(&mut self, file: DemoFile, rows: usize) {
        self.run(file).rows_read += rows;
    }

    /// Reserves change numbers for `count` rows about to be written under `file`'s run, in
    /// one block (numbers are never taken row by row: see [`crate::changes`]).
    async fn reserve(&mut self, file: DemoFile, count: usize) -> anyhow::Result<()> {
        if count == 0 {
            return Ok(());
        }
        let block = self.runs[file.slot()].stamp.take(self.txn, count).await?;
        let run = self.run(file);
        run.seqs.push_back((block.first, block.last));
        run.inserted += count as i64;
        Ok(())
    }

    /// The provenance of the next row written under `file`'s run, using a reserved number.
    ///
    /// # Panics
    ///
    /// Panics when no number was reserved: that is a bug in this module, not bad input.
    fn prov(&mut self, file: DemoFile, source_ref: impl Into<String>) -> Prov {
        let at = self.at;
        let run = self.run(file);
        let (first, last) = run
            .seqs
            .pop_front()
            .expect("change numbers are reserved before rows are built");
        if first < last {
            run.seqs.push_front((first + 1, last));
        }
        Prov {
            run_id: run.stamp.run_id,
            seq: first,
            source_ref: source_ref.into(),
            at,
        }
    }

    /// The id of a classification by code (`HS2017`, `ISIC-R4`...).
    fn classification(&self, code: &str) -> anyhow::Result<i64> {
        self.classifications.get(code).copied().with_context(|| {
            format!("classification {code} is missing; load the reference data first")
        })
    }

    /// The source of this code, created (under `file`'s run) if the database lacks it.
    async fn source(&mut self, file: DemoFile, code: &'static str) -> anyhow::Result<Source> {
        if let Some(source) = self.sources.get(code) {
            return Ok(*source);
        }
        let existing = sources::Entity::find()
            .filter(sources::Column::Code.eq(code))
            .one(self.txn)
            .await?;
        let source = match existing {
            Some(m) => Source { id: m.id },
            None => {
                let spec = SOURCES
                    .iter()
                    .find(|s| s.code == code)
                    .with_context(|| format!("source {code} is not one of the demo's sources"))?;
                self.reserve(file, 1).await?;
                let prov = self.prov(file, format!("{}!source:{code}", file.name()));
                let model = row!(sources {
                    code: code.to_owned(),
                    name: spec.name.to_owned(),
                    kind: spec.kind.to_owned(),
                    publisher: spec.publisher.map(str::to_owned),
                    priority: spec.priority,
                    description: Some(spec.description.to_owned()),
                } @ prov)
                .insert(self.txn)
                .await?;
                self.summary.sources += 1;
                Source { id: model.id }
            }
        };
        self.sources.insert(code, source);
        Ok(source)
    }

    /// Records a warning: the row is kept. `message` must not contain personal values.
    fn warn(
        &mut self,
        loc: &Loc,
        column: &'static str,
        field: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.issue(loc, "warning", column, field, code, message.into());
    }

    fn issue(
        &mut self,
        loc: &Loc,
        severity: &'static str,
        column: &'static str,
        field: &'static str,
        code: &'static str,
        message: String,
    ) {
        self.issues.push(Issue {
            loc: loc.clone(),
            severity,
            column,
            field,
            code,
            message,
        });
    }

    /// Writes the row errors, closes every import run with its counts and returns the
    /// summary.
    async fn finish(mut self) -> anyhow::Result<DemoSummary> {
        let mut rejected = [0i64; DemoFile::SEEDED.len()];
        let mut warnings = [0i64; DemoFile::SEEDED.len()];
        let mut rows = Vec::with_capacity(self.issues.len());
        for issue in std::mem::take(&mut self.issues) {
            let i = issue.loc.file.slot();
            if issue.severity == "error" {
                rejected[i] += 1;
                self.summary.row_errors += 1;
            } else {
                warnings[i] += 1;
                self.summary.row_warnings += 1;
            }
            rows.push(import_row_errors::ActiveModel {
                import_run_id: Set(self.runs[i].stamp.run_id),
                severity: Set(issue.severity.to_owned()),
                file: Set(Some(issue.loc.file.name().to_owned())),
                sheet: Set(issue.loc.sheet),
                row_number: Set(Some(issue.loc.row as i64)),
                column_name: Set(Some(issue.column.to_owned())),
                field: Set(Some(issue.field.to_owned())),
                code: Set(issue.code.to_owned()),
                message: Set(issue.message),
                ..Default::default()
            });
        }
        insert_chunked(self.txn, rows).await?;
        for ((i, run), file) in self.runs.iter_mut().enumerate().zip(DemoFile::SEEDED) {
            debug_assert!(run.seqs.is_empty(), "every reserved change number is used");
            run.stamp.counts = (run.inserted, 0, 0);
            run.stamp.finish(self.txn, run.rows_read).await?;
            import_runs::ActiveModel {
                id: Set(run.stamp.run_id),
                file_sha256: Set(Some(hex::encode(Sha256::digest(file.bytes())))),
                file_size: Set(Some(file.bytes().len() as i64)),
                rejected: Set(rejected[i]),
                warnings: Set(warnings[i]),
                status: Set(if rejected[i] > 0 {
                    "partial"
                } else {
                    "applied"
                }
                .into()),
                ..Default::default()
            }
            .update(self.txn)
            .await?;
        }
        Ok(self.summary)
    }
}
