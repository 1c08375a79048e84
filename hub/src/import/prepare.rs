//! Validation: records as importers wrote them → rows ready to write, with the reference
//! data resolved (admin areas, clusters, programmes, indicators, classifications) and every
//! problem reported against the record's place in the file.
//!
//! References between records of the same source (`organisation_key`, `event_key`, …) are
//! resolved later, at apply time, because they may point at records of the same batch.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};

use chrono::{DateTime, FixedOffset, NaiveDate};
use hub_plugin_sdk::{Date, RecordKind, SourceRef, codes};
use hub_schema::domain::{
    Cnic, CnicKey, Identifier, IdentifierScheme, NtnOrCnic, Period, SizeThresholds, parse_ntn,
};
use hub_schema::entity::{
    cluster_activities, cluster_areas, clusters, indicators, programmes, sources,
};
use sea_orm::{DatabaseTransaction, EntityTrait as _};

use super::report::{Counts, Issue};
use super::{ImportEnv, Issues, Priorities, Prov};
use crate::reference::AdminAreaIndex;

/// Everything one import's batches share: the transaction, reference data, the source,
/// change numbers, counts, and the keys seen so far in the file.
pub(crate) struct Ctx<'a> {
    pub txn: &'a DatabaseTransaction,
    pub key: &'a CnicKey,
    pub sizes: &'a SizeThresholds,
    pub run_id: i64,
    pub at: DateTime<FixedOffset>,
    pub source_id: i64,
    pub source_code: String,
    pub priorities: Priorities,
    /// Source codes by id, for the provenance of figures.
    pub source_codes: HashMap<i64, String>,
    /// Organisations whose figures this batch may have changed (see [`Ctx::refresh_figures`]).
    pub figures_touched: HashSet<i64>,
    pub areas: AdminAreaIndex,
    pub clusters: HashMap<String, i64>,
    /// Each cluster's slug, ISIC classes and districts, to place firms by activity.
    pub cluster_scope: Vec<ClusterScope>,
    pub programmes: HashMap<String, i64>,
    /// Programme codes of this import validated so far (not written yet), which its
    /// clusters may name.
    pub defined_programmes: HashSet<String>,
    pub indicators: HashMap<String, i64>,
    pub counts: BTreeMap<RecordKind, Counts>,
    /// Indicators this import created (from values giving a name and unit).
    pub created_indicators: Vec<i64>,
    /// Areas and classifications for trade flows, read on the first one.
    pub trade: Option<super::trade::TradeRefs>,
    /// PostgreSQL: the rows written after which the tables are analysed again.
    next_analyze: u64,
    /// Keys read so far in this file: (kind, key) hash → content hash, 12 bytes a key, in
    /// [`SEEN_SHARDS`] maps so that growing one never holds two copies of them all: a
    /// file of a million rows keeps about 16 MB here.
    seen: Vec<HashMap<u64, u32>>,
    first_seq: Option<i64>,
    last_seq: Option<i64>,
    /// `[import.linkage]`.
    pub linkage: super::linkage::LinkageSettings,
    /// The firms' records by block, read on the first firm that needs it.
    pub link_index: Option<super::linkage::LinkIndex>,
    /// Stored organisation records this import changed, with their values before: the
    /// ones compared with curated values (a new record linking to a curated firm is not a
    /// conflict; a source changing its value under a curated one is).
    pub changed_before: HashMap<i64, Box<dyn std::any::Any + Send + Sync>>,
}

/// The number of maps the keys seen in a file are spread over.
const SEEN_SHARDS: usize = 96;

/// Rows written before the first `ANALYZE` on PostgreSQL (see [`Ctx::keep_statistics`]).
const FIRST_ANALYZE: u64 = 5_000;

/// What a cluster covers: industry classes in districts.
#[derive(Debug, Clone)]
pub(crate) struct ClusterScope {
    pub id: i64,
    pub slug: String,
    pub isic_classes: Vec<String>,
    pub district_ids: Vec<i64>,
}

/// The clusters by slug, what each covers, and the programmes by code.
async fn load_clusters(
    txn: &DatabaseTransaction,
) -> anyhow::Result<(
    HashMap<String, i64>,
    Vec<ClusterScope>,
    HashMap<String, i64>,
)> {
    let all = clusters::Entity::find().all(txn).await?;
    let clusters: HashMap<String, i64> = all.iter().map(|c| (c.slug.clone(), c.id)).collect();
    let mut scope: HashMap<i64, ClusterScope> = all
        .into_iter()
        .map(|c| {
            (
                c.id,
                ClusterScope {
                    id: c.id,
                    slug: c.slug,
                    isic_classes: Vec::new(),
                    district_ids: Vec::new(),
                },
            )
        })
        .collect();
    for a in cluster_activities::Entity::find().all(txn).await? {
        if let Some(c) = scope.get_mut(&a.cluster_id) {
            c.isic_classes.push(a.code);
        }
    }
    for a in cluster_areas::Entity::find().all(txn).await? {
        if let Some(c) = scope.get_mut(&a.cluster_id) {
            c.district_ids.push(a.admin_area_id);
        }
    }
    let mut cluster_scope: Vec<ClusterScope> = scope.into_values().collect();
    cluster_scope.sort_by(|a, b| a.slug.cmp(&b.slug));
    let programmes = programmes::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.code, p.id))
        .collect();
    Ok((clusters, cluster_scope, programmes))
}

/// Whether a key was read before in this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// First time.
    New,
    /// Read before with the same content: nothing more to do.
    Repeat,
    /// Read before with other content: a duplicate key.
    Conflict,
}

impl<'a> Ctx<'a> {
    /// Reads the reference data and the source (created if missing).
    pub async fn load(
        txn: &'a DatabaseTransaction,
        env: &ImportEnv<'a>,
        run_id: i64,
        source_code: &str,
    ) -> anyhow::Result<Ctx<'a>> {
        let at = crate::provenance::now();
        let prov = Prov {
            run_id,
            source_ref: format!("source:{source_code}"),
            at,
        };
        let (source_id, _) = super::ensure_source(txn, env.settings, source_code, &prov).await?;
        let mut priorities = HashMap::new();
        let mut source_codes = HashMap::new();
        for s in sources::Entity::find().all(txn).await? {
            priorities.insert(s.id, s.priority);
            source_codes.insert(s.id, s.code);
        }
        let (clusters, cluster_scope, programmes) = load_clusters(txn).await?;
        let indicators = indicators::Entity::find()
            .all(txn)
            .await?
            .into_iter()
            .map(|i| (i.code, i.id))
            .collect();
        Ok(Ctx {
            txn,
            key: env.key,
            sizes: env.sizes,
            run_id,
            at,
            source_id,
            source_code: source_code.to_owned(),
            priorities,
            source_codes,
            figures_touched: HashSet::new(),
            areas: AdminAreaIndex::load(txn).await?,
            clusters,
            cluster_scope,
            programmes,
            defined_programmes: HashSet::new(),
            indicators,
            counts: BTreeMap::new(),
            created_indicators: Vec::new(),
            trade: None,
            next_analyze: FIRST_ANALYZE,
            seen: vec![HashMap::new(); SEEN_SHARDS],
            first_seq: None,
            last_seq: None,
            linkage: env.settings.linkage.clone(),
            link_index: None,
            changed_before: HashMap::new(),
        })
    }

    /// Reads the clusters and programmes again, after this import wrote some.
    pub async fn reload_clusters(&mut self) -> anyhow::Result<()> {
        (self.clusters, self.cluster_scope, self.programmes) = load_clusters(self.txn).await?;
        Ok(())
    }

    /// The provenance of a row written from the record at `at`.
    pub fn prov(&self, at: &SourceRef) -> Prov {
        Prov {
            run_id: self.run_id,
            source_ref: at.to_string(),
            at: self.at,
        }
    }

    /// Chooses again the current figures of the organisations this batch touched (their
    /// records or observations), and writes those that changed.
    pub async fn refresh_figures(&mut self) -> anyhow::Result<()> {
        let ids = std::mem::take(&mut self.figures_touched);
        let rules = super::figures::Rules {
            sizes: self.sizes,
            priorities: &self.priorities,
            source_codes: &self.source_codes,
        };
        let updates = super::figures::plan(self.txn, &rules, &ids).await?;
        if updates.is_empty() {
            return Ok(());
        }
        let first = self.seqs(updates.len()).await?;
        let prov = Prov {
            run_id: self.run_id,
            source_ref: "figures:organisation".to_owned(),
            at: self.at,
        };
        super::figures::write(self.txn, updates, &prov, first).await
    }

    /// Takes `count` change numbers (none when 0) and returns the first.
    pub async fn seqs(&mut self, count: usize) -> anyhow::Result<i64> {
        if count == 0 {
            return Ok(0);
        }
        let block = crate::changes::take(self.txn, count as i64).await?;
        self.first_seq.get_or_insert(block.first);
        self.last_seq = Some(block.last);
        Ok(block.first)
    }

    /// The range of change numbers this import took.
    pub fn seq_range(&self) -> (Option<i64>, Option<i64>) {
        (self.first_seq, self.last_seq)
    }

    /// Inserts new rows of `kind` into `table` (`columns`, then the provenance), each with
    /// its own change number, and counts them.
    pub async fn insert_new(
        &mut self,
        kind: RecordKind,
        table: &str,
        columns: &[&str],
        rows: Vec<(Vec<sea_orm::Value>, SourceRef)>,
    ) -> anyhow::Result<()> {
        let count = self.write_new(table, columns, rows).await?;
        self.count(kind, count as u64, 0, 0);
        Ok(())
    }

    /// Inserts rows into `table` (`columns`, then the provenance), each with its own change
    /// number, without counting them (rows that belong to a counted record, such as a
    /// cluster's districts). Returns how many.
    pub async fn write_new(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<(Vec<sea_orm::Value>, SourceRef)>,
    ) -> anyhow::Result<usize> {
        if rows.is_empty() {
            return Ok(0);
        }
        let count = rows.len();
        let first = self.seqs(count).await?;
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, (values, at))| (values, self.prov(&at), first + i as i64))
            .collect();
        super::sql::insert_rows(self.txn, table, columns, rows).await?;
        Ok(count)
    }

    /// Rewrites changed rows of `kind` in `table` by id, each with its own change number,
    /// and counts them.
    pub async fn update_changed(
        &mut self,
        kind: RecordKind,
        table: &str,
        columns: &[&str],
        rows: Vec<(i64, Vec<sea_orm::Value>, SourceRef)>,
    ) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let count = rows.len();
        let first = self.seqs(count).await?;
        for (n, (id, values, at)) in rows.into_iter().enumerate() {
            let prov = self.prov(&at);
            super::sql::update_row(
                self.txn,
                table,
                id,
                columns,
                values,
                &prov,
                first + n as i64,
            )
            .await?;
        }
        self.count(kind, 0, count as u64, 0);
        Ok(())
    }

    /// Whether a key was read before in this file with this content, without noting it.
    pub fn seen_peek(&self, kind: RecordKind, key: &str, hash: &str) -> Seen {
        let mut hasher = DefaultHasher::new();
        (kind.as_str(), key).hash(&mut hasher);
        let key_hash = hasher.finish();
        let content = u32::from_str_radix(&hash[..8.min(hash.len())], 16).unwrap_or_default();
        match self.seen[(key_hash % SEEN_SHARDS as u64) as usize].get(&key_hash) {
            None => Seen::New,
            Some(first) if *first == content => Seen::Repeat,
            Some(_) => Seen::Conflict,
        }
    }

    /// Notes a key read in this file with its content hash.
    pub fn seen(&mut self, kind: RecordKind, key: &str, hash: &str) -> Seen {
        let mut hasher = DefaultHasher::new();
        (kind.as_str(), key).hash(&mut hasher);
        let key_hash = hasher.finish();
        let content = u32::from_str_radix(&hash[..8.min(hash.len())], 16).unwrap_or_default();
        let shard = &mut self.seen[(key_hash % SEEN_SHARDS as u64) as usize];
        match shard.entry(key_hash) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(content);
                Seen::New
            }
            // The first content stays: later rows are compared with it.
            std::collections::hash_map::Entry::Occupied(first) if *first.get() == content => {
                Seen::Repeat
            }
            std::collections::hash_map::Entry::Occupied(_) => Seen::Conflict,
        }
    }

    /// Counts a record of `kind`.
    pub fn count(&mut self, kind: RecordKind, inserted: u64, updated: u64, unchanged: u64) {
        self.counts.entry(kind).or_default().add(Counts {
            inserted,
            updated,
            unchanged,
        });
    }

    /// PostgreSQL plans the lookups of a batch from the tables' statistics, which a large
    /// import outgrows inside its own transaction (autovacuum cannot see uncommitted rows):
    /// a table believed empty is scanned whole for every key lookup, and an import slows
    /// from thousands of rows a second to a few. So the tables an import writes are
    /// analysed again (`ANALYZE` counts the transaction's own rows) each time the rows
    /// written double: about twenty times for a billion rows.
    pub async fn keep_statistics(&mut self) -> anyhow::Result<()> {
        use sea_orm::ConnectionTrait as _;
        if self.txn.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let written: u64 = self.counts.values().map(|c| c.inserted).sum();
        if written < self.next_analyze {
            return Ok(());
        }
        self.next_analyze = written.saturating_mul(2);
        self.txn
            .execute_unprepared(
                "ANALYZE organisation_source_records, organisation_identifiers, organisations, \
                 record_links, firm_observations, person_source_records, persons, \
                 cluster_memberships, participations, indicator_values, trade_flows",
            )
            .await?;
        Ok(())
    }

    /// Done: nothing to flush today; kept so that writers buffering across batches have a
    /// place to finish.
    pub async fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    // ---- Validation helpers: each reports its problem and returns None -----------------

    /// The district named `name` valid on `on`; an unknown one is an error.
    pub fn district(
        &self,
        issues: &mut Issues,
        at: &SourceRef,
        field: &str,
        name: &str,
        on: Option<NaiveDate>,
    ) -> Option<i64> {
        match self.areas.district(name, on) {
            Some(d) => Some(d.id),
            None => {
                issues.push(Issue::error(
                    at,
                    Some(field),
                    "unknown_district",
                    format!("\"{}\" is not a known district.", name.trim()),
                ));
                None
            }
        }
    }

    /// The tehsil named `name` in the district; an unknown one is a warning and the record
    /// is kept at district level.
    pub fn tehsil(
        &self,
        issues: &mut Issues,
        at: &SourceRef,
        field: &str,
        district_id: i64,
        name: &str,
    ) -> Option<i64> {
        let found = self.areas.tehsil(district_id, name).map(|t| t.id);
        if found.is_none() {
            issues.push(Issue::warning(
                at,
                Some(field),
                "unknown_tehsil",
                format!(
                    "\"{}\" is not a known tehsil of the district; the record is kept at \
                     district level.",
                    name.trim()
                ),
            ));
        }
        found
    }

    /// The cluster with this slug; an unknown one is an error.
    pub fn cluster(
        &self,
        issues: &mut Issues,
        at: &SourceRef,
        field: &str,
        slug: &str,
    ) -> Option<i64> {
        let slug = slug.trim();
        let found = self.clusters.get(slug).copied();
        if found.is_none() {
            let mut known: Vec<&str> = self.clusters.keys().map(String::as_str).collect();
            known.sort_unstable();
            issues.push(Issue::error(
                at,
                Some(field),
                codes::UNKNOWN_CODE,
                format!(
                    "\"{slug}\" is not a cluster slug; known clusters: {}.",
                    if known.is_empty() {
                        "none yet".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        found
    }

    /// The programme with this code; an unknown one is an error.
    pub fn programme(
        &self,
        issues: &mut Issues,
        at: &SourceRef,
        field: &str,
        code: &str,
    ) -> Option<i64> {
        let found = self.programmes.get(code.trim()).copied();
        if found.is_none() {
            issues.push(Issue::error(
                at,
                Some(field),
                codes::UNKNOWN_CODE,
                format!("\"{}\" is not a programme code.", code.trim()),
            ));
        }
        found
    }

    /// A period as written; ambiguous or malformed ones are errors.
    pub fn period(
        &self,
        issues: &mut Issues,
        at: &SourceRef,
        field: &str,
        raw: &str,
    ) -> Option<Period> {
        match Period::parse(raw) {
            Ok(p) => Some(p),
            Err(e) => {
                issues.push(Issue::error(
                    at,
                    Some(field),
                    "invalid_period",
                    format!("The field {field} is not a period: {e}."),
                ));
                None
            }
        }
    }
}

/// A date of the SDK as stored.
pub(crate) fn date(d: Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year(), d.month(), d.day())
}

/// An identifier ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Ident {
    pub scheme: IdentifierScheme,
    /// The canonical value, or the keyed hash for a CNIC.
    pub value: String,
    /// The value as shown: canonical, or masked for a CNIC.
    pub display: String,
    pub hashed: bool,
}

impl Ident {
    /// Whether two records sharing this identifier are the same organisation: identifiers
    /// issued once per firm by an authority, and citations of a source's record. Never a
    /// CNIC (it identifies the owner, and one owner may hold several units).
    pub fn links(&self) -> bool {
        !self.hashed
            && (self.scheme.is_strong() && self.scheme.identifies_firm()
                || matches!(self.scheme, IdentifierScheme::Source(_)))
    }

    /// The order in which identifiers are tried: the registry's own number first.
    pub fn strength(&self) -> u8 {
        match self.scheme {
            IdentifierScheme::PsicPunjabUnit => 0,
            IdentifierScheme::Ntn => 1,
            IdentifierScheme::Secp => 2,
            IdentifierScheme::Strn => 3,
            _ => 4,
        }
    }

    /// Parses an identifier as written. A 13-digit "NTN" is a CNIC: kept hashed, never
    /// linking. Messages name the scheme, never a CNIC's value.
    pub fn parse(key: &CnicKey, scheme: &str, raw: &str) -> Result<Self, String> {
        let scheme = IdentifierScheme::parse(scheme)
            .map_err(|e| format!("{scheme:?} is not an identifier scheme: {e}"))?;
        let cnic = |c: Cnic| Ident {
            scheme: IdentifierScheme::Cnic,
            value: c.keyed_hash(key),
            display: c.masked(),
            hashed: true,
        };
        match scheme {
            IdentifierScheme::Cnic => Cnic::parse(raw)
                .map(cnic)
                .map_err(|_| "The CNIC is not 13 digits in the form 12345-1234567-1.".to_owned()),
            IdentifierScheme::Ntn => match parse_ntn(raw) {
                Ok(NtnOrCnic::Ntn(n)) => Ok(Ident {
                    scheme,
                    value: n.as_str().to_owned(),
                    display: n.as_str().to_owned(),
                    hashed: false,
                }),
                Ok(NtnOrCnic::Cnic(c)) => Ok(cnic(c)),
                Err(e) => Err(sentence(format!("The NTN is not valid: {e}"))),
            },
            scheme => {
                let label = scheme.label();
                Identifier::parse(scheme, raw)
                    .map(|id| {
                        let (scheme, value) = id.into_parts();
                        Ident {
                            scheme,
                            display: value.clone(),
                            value,
                            hashed: false,
                        }
                    })
                    .map_err(|e| sentence(format!("The {label} is not valid: {e}")))
            }
        }
    }
}

/// Trims a text field; empty means absent.
pub(crate) fn text(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The set of clusters of a record, deduplicated, in order.
pub(crate) fn unique<T: Clone + Eq + std::hash::Hash>(items: Vec<T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

/// Ends a message with one full stop, whether or not the error it quotes ends with one.
fn sentence(mut text: String) -> String {
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}
