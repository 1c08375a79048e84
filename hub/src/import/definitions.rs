//! Programme definitions: programmes and clusters, identified by their code and slug in
//! every source.
//!
//! A programme file (`clusters.toml`, or a workbook with `programmes`, `clusters` and
//! `agencies` sheets) goes through the pipeline like any file: each programme and cluster is
//! validated alone (codes, names, dates, districts, ISIC classes, the HS revision and
//! basket), a row with an error is rejected whole, and what passes is written with its
//! import run, source reference and change number. Its agencies are ordinary organisation
//! records, linked across sources by their normalised name like every institution.
//!
//! # Decisions
//!
//! - **Identity.** A programme is its code and a cluster its slug, whatever the source: a
//!   cluster is one thing the whole hub refers to (firm lists, networks, indicators and
//!   trainings name it), so a later definition of `sialkot-surgical`, from the same file
//!   edited or from another source, updates that cluster rather than adding a second one.
//! - **Sets are replaced.** The districts, ISIC classes and basket of a cluster are the ones
//!   its latest definition gives: an entry left out leaves the cluster, with a tombstone in
//!   the change feed. A cluster whose sets changed is itself updated (new change number),
//!   so "what changed since N" shows it.
//! - **Unchanged is unchanged.** A definition equal to the stored one writes nothing and
//!   takes no change number.
//! - **Errors, not warnings.** An unknown district, an invalid ISIC class or HS code, or a
//!   basket without its revision rejects the row: a cluster silently missing a district
//!   would silently miss its firms.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use hub_plugin_sdk::{Cluster, Programme, RecordKind, SourceRef, codes};
use hub_schema::domain::{Concordance, HsCode, HsRevision, ISIC4, IsicCode, IsicLevel};
use sea_orm::{ConnectionTrait as _, Statement, Value};
use sha2::{Digest as _, Sha256};

use super::Issues;
use super::prepare::{Ctx, Seen, date, text};
use super::records::Prepared;
use super::report::Issue;
use super::sql::find_by_keys;

/// A validated programme or cluster.
#[derive(Debug, Clone)]
pub(crate) enum Definition {
    Programme(ProgrammeRow),
    Cluster(ClusterRow),
}

impl Definition {
    pub fn at(&self) -> &SourceRef {
        match self {
            Definition::Programme(p) => &p.at,
            Definition::Cluster(c) => &c.at,
        }
    }

    pub fn kind(&self) -> RecordKind {
        match self {
            Definition::Programme(_) => RecordKind::Programme,
            Definition::Cluster(_) => RecordKind::Cluster,
        }
    }

    /// The code or slug.
    pub fn key(&self) -> &str {
        match self {
            Definition::Programme(p) => &p.code,
            Definition::Cluster(c) => &c.slug,
        }
    }

    /// The content a repeated code or slug is compared by within its file.
    pub fn seen_hash(&self) -> String {
        let text = match self {
            Definition::Programme(p) => format!("{:?}", (p.fields(), &p.agencies)),
            Definition::Cluster(c) => format!(
                "{:?}",
                (
                    &c.name,
                    &c.sector,
                    &c.description,
                    &c.programme,
                    &c.districts,
                    &c.isic_classes,
                    &c.basket
                )
            ),
        };
        hex::encode(Sha256::digest(text.as_bytes()))
    }

    /// The organisation records of the source a programme names: `(key, field)`.
    pub fn references(&self) -> Vec<(&str, &'static str)> {
        match self {
            Definition::Programme(p) => p
                .agencies
                .iter()
                .filter_map(|(column, key)| key.as_deref().map(|k| (k, field_of(column))))
                .collect(),
            Definition::Cluster(_) => Vec::new(),
        }
    }
}

/// A programme ready to write; its agencies are keys of organisation records.
#[derive(Debug, Clone)]
pub(crate) struct ProgrammeRow {
    pub at: SourceRef,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// `(column, organisation key)` of the lead, technical-assistance and funding agencies.
    pub agencies: [(&'static str, Option<String>); 3],
}

impl ProgrammeRow {
    fn fields(&self) -> (&str, &Option<String>, Option<NaiveDate>, Option<NaiveDate>) {
        (
            &self.name,
            &self.description,
            self.start_date,
            self.end_date,
        )
    }
}

/// The record field a programme's agency column comes from, for messages.
fn field_of(column: &str) -> &'static str {
    match column {
        "lead_organisation_id" => "lead_organisation_key",
        "technical_assistance_organisation_id" => "technical_assistance_organisation_key",
        _ => "funder_organisation_key",
    }
}

/// A cluster ready to write.
#[derive(Debug, Clone)]
pub(crate) struct ClusterRow {
    pub at: SourceRef,
    pub slug: String,
    pub name: String,
    pub sector: String,
    pub description: Option<String>,
    pub programme: Option<String>,
    /// District ids, sorted.
    pub districts: BTreeSet<i64>,
    /// ISIC Rev.4 classes, sorted.
    pub isic_classes: BTreeSet<String>,
    /// The basket's revision and its codes with their level.
    pub basket: Option<(HsRevision, BTreeSet<(String, i32)>)>,
}

/// Whether `code` is a code or slug: lower-case ASCII letters and digits in words joined
/// by single dashes.
fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn check_code(issues: &mut Issues, at: &SourceRef, field: &str, code: &str, example: &str) -> bool {
    if code.is_empty() {
        issues.push(Issue::error(
            at,
            Some(field),
            codes::MISSING_REQUIRED,
            format!("The field {field} is required but the row leaves it empty."),
        ));
        return false;
    }
    if !valid_code(code) {
        issues.push(Issue::error(
            at,
            Some(field),
            codes::INVALID_VALUE,
            format!(
                "The {field} \"{code}\" must be lower-case letters and digits joined by \
                 dashes, such as {example}."
            ),
        ));
        return false;
    }
    true
}

fn required(issues: &mut Issues, at: &SourceRef, field: &str, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        issues.push(Issue::error(
            at,
            Some(field),
            codes::MISSING_REQUIRED,
            format!("The field {field} is required but the row leaves it empty."),
        ));
        return None;
    }
    Some(value.to_owned())
}

fn key(raw: Option<String>) -> Option<String> {
    text(&raw)
}

/// Validates a programme.
pub(crate) fn programme(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    p: Programme,
) -> Option<Vec<Prepared>> {
    let code = p.code.trim().to_owned();
    let code_ok = check_code(issues, at, "code", &code, "punjab-cdi");
    let name = required(issues, at, "name", &p.name);
    let start_date = p.start_date.and_then(date);
    let end_date = p.end_date.and_then(date);
    if let (Some(start), Some(end)) = (start_date, end_date)
        && end < start
    {
        issues.push(Issue::error(
            at,
            Some("end_date"),
            codes::INVALID_DATE,
            format!("The programme ends ({end}) before it starts ({start})."),
        ));
        return None;
    }
    let name = name?;
    if !code_ok {
        return None;
    }
    ctx.defined_programmes.insert(code.clone());
    Some(vec![Prepared::Definition(Box::new(Definition::Programme(
        ProgrammeRow {
            at: at.clone(),
            code,
            name,
            description: text(&p.description),
            start_date,
            end_date,
            agencies: [
                ("lead_organisation_id", key(p.lead_organisation_key)),
                (
                    "technical_assistance_organisation_id",
                    key(p.technical_assistance_organisation_key),
                ),
                ("funder_organisation_id", key(p.funder_organisation_key)),
            ],
        },
    )))])
}

/// Validates a cluster.
pub(crate) fn cluster(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    c: Cluster,
) -> Option<Vec<Prepared>> {
    let errors = issues.errors;
    let slug = c.slug.trim().to_owned();
    check_code(issues, at, "slug", &slug, "sialkot-surgical");
    let name = required(issues, at, "name", &c.name);
    let sector = required(issues, at, "sector", &c.sector);
    let programme = key(c.programme);
    if let Some(code) = &programme
        && !ctx.programmes.contains_key(code)
        && !ctx.defined_programmes.contains(code)
    {
        let mut known: Vec<&str> = ctx
            .programmes
            .keys()
            .chain(ctx.defined_programmes.iter())
            .map(String::as_str)
            .collect();
        known.sort_unstable();
        known.dedup();
        issues.push(Issue::error(
            at,
            Some("programme"),
            codes::UNKNOWN_CODE,
            format!(
                "\"{code}\" is not a programme code of this file or imported before; known \
                 programmes: {}.",
                if known.is_empty() {
                    "none yet".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    let mut districts = BTreeSet::new();
    for name in c
        .districts
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        if let Some(id) = ctx.district(issues, at, "districts", name, None) {
            districts.insert(id);
        }
    }
    let mut isic_classes = BTreeSet::new();
    for code in c
        .isic_classes
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        match IsicCode::parse(code) {
            // Firms join a cluster by their class: a section, division or group would
            // never match one.
            Ok(isic) if isic.level() != IsicLevel::Class => issues.push(Issue::error(
                at,
                Some("isic_classes"),
                "invalid_isic_code",
                format!(
                    "\"{}\" is an ISIC Rev.4 {}, not a class: a cluster lists the 4-digit \
                     classes its firms work in.",
                    isic.as_str(),
                    match isic.level() {
                        IsicLevel::Section => "section",
                        IsicLevel::Division => "division",
                        _ => "group",
                    }
                ),
            )),
            Ok(isic) => {
                isic_classes.insert(isic.as_str().to_owned());
            }
            Err(e) => issues.push(Issue::error(
                at,
                Some("isic_classes"),
                "invalid_isic_code",
                e.to_string(),
            )),
        }
    }
    let items: Vec<&str> = c
        .hs_basket
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .collect();
    let revision = match key(c.hs_revision).map(|r| HsRevision::parse(&r)) {
        Some(Ok(revision)) => Some(revision),
        Some(Err(e)) => {
            issues.push(Issue::error(
                at,
                Some("hs_revision"),
                "unknown_hs_revision",
                e.to_string(),
            ));
            None
        }
        None if !items.is_empty() => {
            issues.push(Issue::error(
                at,
                Some("hs_revision"),
                codes::MISSING_REQUIRED,
                "The basket's HS revision is required with a basket (HS2017, H5 or 2017): \
                 the same code means different products in different revisions."
                    .to_owned(),
            ));
            None
        }
        None => None,
    };
    let mut basket = BTreeSet::new();
    if let Some(revision) = revision {
        for item in items {
            match HsCode::parse(revision, item) {
                Ok(hs) if hs.is_total() => issues.push(Issue::error(
                    at,
                    Some("hs_basket"),
                    "invalid_hs_code",
                    "A basket lists chapters, headings or subheadings, not TOTAL.".to_owned(),
                )),
                Ok(hs) if !Concordance::bundled().knows(&hs) => issues.push(Issue::error(
                    at,
                    Some("hs_basket"),
                    "unknown_hs_code",
                    format!(
                        "{} is not a code of {}; the basket's codes must be of its revision.",
                        hs.as_str(),
                        revision.classification_code()
                    ),
                )),
                Ok(hs) => {
                    basket.insert((hs.as_str().to_owned(), i32::from(hs.level())));
                }
                Err(e) => issues.push(Issue::error(
                    at,
                    Some("hs_basket"),
                    "invalid_hs_code",
                    e.to_string(),
                )),
            }
        }
    }
    if issues.errors > errors {
        return None;
    }
    Some(vec![Prepared::Definition(Box::new(Definition::Cluster(
        ClusterRow {
            at: at.clone(),
            slug,
            name: name?,
            sector: sector?,
            description: text(&c.description),
            programme,
            districts,
            isic_classes,
            basket: revision.map(|r| (r, basket)),
        },
    )))])
}

// ---- Writing ---------------------------------------------------------------------------

/// Writes the programmes, then the clusters, of one batch (validated and checked).
pub(crate) async fn apply(
    ctx: &mut Ctx<'_>,
    rows: Vec<Definition>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    let mut programmes = Vec::new();
    let mut clusters = Vec::new();
    for row in rows {
        issues.kind = Some(row.kind());
        match ctx.seen(row.kind(), row.key(), &row.seen_hash()) {
            Seen::New => match row {
                Definition::Programme(p) => programmes.push(p),
                Definition::Cluster(c) => clusters.push(c),
            },
            Seen::Repeat => ctx.count(row.kind(), 0, 0, 1),
            Seen::Conflict => issues.push(Issue::error(
                row.at(),
                Some(if row.kind() == RecordKind::Programme {
                    "code"
                } else {
                    "slug"
                }),
                codes::DUPLICATE_KEY,
                format!(
                    "The {} {:?} was read before in this file with other values.",
                    row.kind(),
                    row.key()
                ),
            )),
        }
    }
    if !programmes.is_empty() {
        issues.kind = Some(RecordKind::Programme);
        write_programmes(ctx, programmes, issues).await?;
    }
    if !clusters.is_empty() {
        issues.kind = Some(RecordKind::Cluster);
        write_clusters(ctx, clusters, issues).await?;
    }
    ctx.reload_clusters().await?;
    Ok(())
}

/// One row of `table` by a text key: its id and the listed columns.
async fn stored(
    ctx: &Ctx<'_>,
    table: &str,
    key_column: &str,
    keys: Vec<String>,
    columns: &[&str],
) -> anyhow::Result<HashMap<String, (i64, Vec<Value>)>> {
    let mut wanted = vec![key_column, "id"];
    wanted.extend_from_slice(columns);
    let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
    let rows = find_by_keys(ctx.txn, table, None, key_column, &keys, &wanted).await?;
    let mut out = HashMap::new();
    for r in rows {
        let key: String = r.try_get_by(key_column)?;
        let id: i64 = r.try_get_by("id")?;
        let mut values = Vec::with_capacity(columns.len());
        for c in columns {
            values.push(read_value(&r, c)?);
        }
        out.insert(key, (id, values));
    }
    Ok(out)
}

/// A stored column as a [`Value`] of the type the rows to write carry, to compare them.
fn read_value(r: &sea_orm::QueryResult, column: &str) -> anyhow::Result<Value> {
    Ok(match column {
        "start_date" | "end_date" => Value::from(r.try_get_by::<Option<NaiveDate>, _>(column)?),
        c if c.ends_with("_id") => Value::from(r.try_get_by::<Option<i64>, _>(column)?),
        _ => Value::from(r.try_get_by::<Option<String>, _>(column)?),
    })
}

const PROGRAMME_COLUMNS: [&str; 8] = [
    "name",
    "description",
    "start_date",
    "end_date",
    "lead_organisation_id",
    "technical_assistance_organisation_id",
    "funder_organisation_id",
    "code",
];

async fn write_programmes(
    ctx: &mut Ctx<'_>,
    rows: Vec<ProgrammeRow>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    // The agencies: organisation records of this source, by key.
    let keys: BTreeSet<String> = rows
        .iter()
        .flat_map(|p| p.agencies.iter().filter_map(|(_, k)| k.clone()))
        .collect();
    let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
    let mut agencies: HashMap<String, Option<i64>> = HashMap::new();
    for r in find_by_keys(
        ctx.txn,
        "organisation_source_records",
        Some(ctx.source_id),
        "source_key",
        &keys,
        &["source_key", "organisation_id"],
    )
    .await?
    {
        agencies.insert(
            r.try_get_by("source_key")?,
            r.try_get_by("organisation_id")?,
        );
    }
    let stored = stored(
        ctx,
        "programmes",
        "code",
        rows.iter().map(|p| p.code.clone()).collect(),
        &PROGRAMME_COLUMNS[..7],
    )
    .await?;
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for p in rows {
        let mut values = vec![
            Value::from(p.name.clone()),
            Value::from(p.description.clone()),
            Value::from(p.start_date),
            Value::from(p.end_date),
        ];
        let mut ok = true;
        for (column, key) in &p.agencies {
            let id = match key {
                None => None,
                Some(k) => match agencies.get(k).copied().flatten() {
                    Some(id) => Some(id),
                    None => {
                        ok = false;
                        issues.push(Issue::error(
                            &p.at,
                            Some(field_of(column)),
                            codes::UNKNOWN_REFERENCE,
                            format!(
                                "The {} {k:?} is neither in this file (before this row) nor \
                                 imported earlier from this source.",
                                field_of(column)
                            ),
                        ));
                        None
                    }
                },
            };
            values.push(Value::from(id));
        }
        if !ok {
            continue;
        }
        match stored.get(&p.code) {
            None => {
                values.push(Value::from(p.code.clone()));
                new.push((values, p.at));
            }
            Some((_, old)) if *old == values => ctx.count(RecordKind::Programme, 0, 0, 1),
            Some((id, _)) => changed.push((*id, values, p.at)),
        }
    }
    ctx.insert_new(RecordKind::Programme, "programmes", &PROGRAMME_COLUMNS, new)
        .await?;
    ctx.update_changed(
        RecordKind::Programme,
        "programmes",
        &PROGRAMME_COLUMNS[..7],
        changed,
    )
    .await?;
    Ok(())
}

const CLUSTER_COLUMNS: [&str; 7] = [
    "name",
    "sector",
    "description",
    "programme_id",
    "hs_classification_id",
    "status",
    "slug",
];

/// The id of each classification by code.
async fn classification_ids(ctx: &Ctx<'_>) -> anyhow::Result<HashMap<String, i64>> {
    let backend = ctx.txn.get_database_backend();
    let rows = ctx
        .txn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, code FROM classifications",
        ))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        out.insert(
            r.try_get_by::<String, _>("code")?,
            r.try_get_by::<i64, _>("id")?,
        );
    }
    Ok(out)
}

async fn write_clusters(
    ctx: &mut Ctx<'_>,
    rows: Vec<ClusterRow>,
    issues: &mut Issues,
) -> anyhow::Result<()> {
    let classifications = classification_ids(ctx).await?;
    let programme_ids: HashMap<String, i64> = stored(
        ctx,
        "programmes",
        "code",
        rows.iter().filter_map(|c| c.programme.clone()).collect(),
        &[],
    )
    .await?
    .into_iter()
    .map(|(code, (id, _))| (code, id))
    .collect();
    let slugs: Vec<String> = rows.iter().map(|c| c.slug.clone()).collect();
    let stored_rows = stored(
        ctx,
        "clusters",
        "slug",
        slugs.clone(),
        &CLUSTER_COLUMNS[..6],
    )
    .await?;
    let isic_id = classifications
        .get(ISIC4)
        .copied()
        .ok_or_else(|| anyhow::anyhow!("the ISIC Rev.4 reference list is not loaded"))?;

    // The sets each stored cluster has now.
    let ids: Vec<i64> = stored_rows.values().map(|(id, _)| *id).collect();
    let mut current = Sets::read(ctx, &ids).await?;

    let mut new = Vec::new();
    let mut changed = Vec::new();
    let mut wanted: Vec<(String, Want, SourceRef)> = Vec::new();
    for c in rows {
        // A programme of this file whose own row was rejected is not there: the cluster
        // would lose its programme, so it is rejected too.
        if let Some(code) = &c.programme
            && !programme_ids.contains_key(code)
        {
            issues.push(Issue::error(
                &c.at,
                Some("programme"),
                codes::UNKNOWN_REFERENCE,
                format!(
                    "The programme \"{code}\" was rejected in this file and is not imported \
                     earlier."
                ),
            ));
            continue;
        }
        let hs_classification_id = c
            .basket
            .as_ref()
            .and_then(|(r, _)| classifications.get(r.classification_code()).copied());
        let values = vec![
            Value::from(c.name.clone()),
            Value::from(c.sector.clone()),
            Value::from(c.description.clone()),
            Value::from(
                c.programme
                    .as_ref()
                    .and_then(|p| programme_ids.get(p).copied()),
            ),
            Value::from(hs_classification_id),
            Value::from("active".to_owned()),
        ];
        let want = Want {
            districts: c.districts.clone(),
            isic: c
                .isic_classes
                .iter()
                .map(|code| (isic_id, code.clone()))
                .collect(),
            products: c
                .basket
                .iter()
                .flat_map(|(_, items)| {
                    items.iter().map(move |(code, level)| {
                        (hs_classification_id.unwrap_or(0), code.clone(), *level)
                    })
                })
                .collect(),
        };
        match stored_rows.get(&c.slug) {
            None => {
                let mut values = values;
                values.push(Value::from(c.slug.clone()));
                new.push((values, c.at.clone()));
            }
            Some((id, old)) => {
                let sets_differ = current.differs(*id, &want);
                if *old != values || sets_differ {
                    changed.push((*id, values, c.at.clone()));
                } else {
                    ctx.count(RecordKind::Cluster, 0, 0, 1);
                }
            }
        }
        wanted.push((c.slug, want, c.at));
    }
    ctx.insert_new(RecordKind::Cluster, "clusters", &CLUSTER_COLUMNS, new)
        .await?;
    ctx.update_changed(
        RecordKind::Cluster,
        "clusters",
        &CLUSTER_COLUMNS[..6],
        changed,
    )
    .await?;

    // The sets, now that every cluster has its id.
    let ids: HashMap<String, i64> = stored(ctx, "clusters", "slug", slugs, &[])
        .await?
        .into_iter()
        .map(|(slug, (id, _))| (slug, id))
        .collect();
    for (slug, want, at) in wanted {
        let id = ids[&slug];
        current.replace(ctx, id, want, &at).await?;
    }
    Ok(())
}

/// What a cluster's sets should hold: districts, ISIC classes `(classification, code)` and
/// basket items `(classification, code, level)`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Want {
    districts: BTreeSet<i64>,
    isic: BTreeSet<(i64, String)>,
    products: BTreeSet<(i64, String, i32)>,
}

/// The stored sets of some clusters, each entry with its row id.
#[derive(Debug, Default)]
struct Sets {
    districts: HashMap<i64, HashMap<i64, i64>>,
    isic: HashMap<i64, HashMap<(i64, String), i64>>,
    products: HashMap<i64, HashMap<(i64, String, i32), i64>>,
}

impl Sets {
    async fn read(ctx: &Ctx<'_>, cluster_ids: &[i64]) -> anyhow::Result<Sets> {
        let mut sets = Sets::default();
        if cluster_ids.is_empty() {
            return Ok(sets);
        }
        let ids: Vec<Value> = cluster_ids.iter().map(|id| Value::from(*id)).collect();
        for r in find_by_keys(
            ctx.txn,
            "cluster_areas",
            None,
            "cluster_id",
            &ids,
            &["id", "cluster_id", "admin_area_id"],
        )
        .await?
        {
            sets.districts
                .entry(r.try_get_by("cluster_id")?)
                .or_default()
                .insert(r.try_get_by("admin_area_id")?, r.try_get_by("id")?);
        }
        for r in find_by_keys(
            ctx.txn,
            "cluster_activities",
            None,
            "cluster_id",
            &ids,
            &["id", "cluster_id", "classification_id", "code"],
        )
        .await?
        {
            sets.isic
                .entry(r.try_get_by("cluster_id")?)
                .or_default()
                .insert(
                    (r.try_get_by("classification_id")?, r.try_get_by("code")?),
                    r.try_get_by("id")?,
                );
        }
        for r in find_by_keys(
            ctx.txn,
            "cluster_products",
            None,
            "cluster_id",
            &ids,
            &["id", "cluster_id", "classification_id", "code", "level"],
        )
        .await?
        {
            sets.products
                .entry(r.try_get_by("cluster_id")?)
                .or_default()
                .insert(
                    (
                        r.try_get_by("classification_id")?,
                        r.try_get_by("code")?,
                        r.try_get_by("level")?,
                    ),
                    r.try_get_by("id")?,
                );
        }
        Ok(sets)
    }

    fn differs(&self, cluster: i64, want: &Want) -> bool {
        fn keys<K: Clone + Ord>(m: Option<&HashMap<K, i64>>) -> BTreeSet<K> {
            m.map(|m| m.keys().cloned().collect()).unwrap_or_default()
        }
        keys(self.districts.get(&cluster)) != want.districts
            || keys(self.isic.get(&cluster)) != want.isic
            || keys(self.products.get(&cluster)) != want.products
    }

    /// Makes the stored sets of `cluster` what `want` says: inserts what is missing and
    /// deletes (with a tombstone) what is no longer there.
    async fn replace(
        &mut self,
        ctx: &mut Ctx<'_>,
        cluster: i64,
        want: Want,
        at: &SourceRef,
    ) -> anyhow::Result<()> {
        let districts = self.districts.remove(&cluster).unwrap_or_default();
        let isic = self.isic.remove(&cluster).unwrap_or_default();
        let products = self.products.remove(&cluster).unwrap_or_default();
        let area_rows: Vec<Vec<Value>> = want
            .districts
            .iter()
            .filter(|d| !districts.contains_key(d))
            .map(|d| vec![Value::from(cluster), Value::from(*d)])
            .collect();
        let isic_rows: Vec<Vec<Value>> = want
            .isic
            .iter()
            .filter(|k| !isic.contains_key(k))
            .map(|(class, code)| {
                vec![
                    Value::from(cluster),
                    Value::from(*class),
                    Value::from(code.clone()),
                ]
            })
            .collect();
        let product_rows: Vec<Vec<Value>> = want
            .products
            .iter()
            .filter(|k| !products.contains_key(k))
            .map(|(class, code, level)| {
                vec![
                    Value::from(cluster),
                    Value::from(*class),
                    Value::from(code.clone()),
                    Value::from(*level),
                ]
            })
            .collect();
        insert(
            ctx,
            "cluster_areas",
            &["cluster_id", "admin_area_id"],
            area_rows,
            at,
        )
        .await?;
        insert(
            ctx,
            "cluster_activities",
            &["cluster_id", "classification_id", "code"],
            isic_rows,
            at,
        )
        .await?;
        insert(
            ctx,
            "cluster_products",
            &["cluster_id", "classification_id", "code", "level"],
            product_rows,
            at,
        )
        .await?;
        let gone_areas: Vec<i64> = districts
            .iter()
            .filter(|(d, _)| !want.districts.contains(d))
            .map(|(_, id)| *id)
            .collect();
        let gone_isic: Vec<i64> = isic
            .iter()
            .filter(|(k, _)| !want.isic.contains(k))
            .map(|(_, id)| *id)
            .collect();
        let gone_products: Vec<i64> = products
            .iter()
            .filter(|(k, _)| !want.products.contains(k))
            .map(|(_, id)| *id)
            .collect();
        delete(ctx, "cluster_areas", "cluster_area", gone_areas).await?;
        delete(ctx, "cluster_activities", "cluster_activity", gone_isic).await?;
        delete(ctx, "cluster_products", "cluster_product", gone_products).await?;
        Ok(())
    }
}

/// Inserts rows of a cluster's set, each with its change number (counted with the
/// cluster, not on their own).
async fn insert(
    ctx: &mut Ctx<'_>,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    at: &SourceRef,
) -> anyhow::Result<()> {
    let rows = rows
        .into_iter()
        .map(|values| (values, at.clone()))
        .collect();
    ctx.write_new(table, columns, rows).await?;
    Ok(())
}

/// Deletes rows of a cluster's set, leaving a tombstone for each in the change feed.
async fn delete(
    ctx: &mut Ctx<'_>,
    table: &str,
    entity_type: &str,
    ids: Vec<i64>,
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = ctx.seqs(ids.len()).await?;
    let backend = ctx.txn.get_database_backend();
    for (i, id) in ids.iter().enumerate() {
        ctx.txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "INSERT INTO tombstones (change_seq, entity_type, entity_id, op, \
                     import_run_id, occurred_at) VALUES (?, ?, ?, 'delete', ?, ?)",
                ),
                [
                    Value::from(first + i as i64),
                    Value::from(entity_type.to_owned()),
                    Value::from(*id),
                    Value::from(ctx.run_id),
                    Value::from(ctx.at),
                ],
            ))
            .await?;
        ctx.txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(backend, &format!("DELETE FROM {table} WHERE id = ?")),
                [Value::from(*id)],
            ))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::valid_code;

    #[test]
    fn codes_are_lower_case_words_joined_by_dashes() {
        for ok in ["punjab-cdi", "sialkot-surgical", "a", "kp-2024"] {
            assert!(valid_code(ok), "{ok}");
        }
        for bad in [
            "",
            "Sialkot-Surgical",
            "sialkot_surgical",
            "-a",
            "a-",
            "a--b",
            "a b",
            "ç",
        ] {
            assert!(!valid_code(bad), "{bad}");
        }
    }
}
