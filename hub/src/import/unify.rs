//! Two layers for organisations and persons: source records as each source said them,
//! linked to unified entities whose fields survive from the best source.
//!
//! For each batch, [`apply`] finds the records' own rows again by source key, links new
//! records to unified entities by their linking keys, writes records and entities with
//! multi-row inserts, and chooses every field of each touched entity again from all its
//! records ([`Layer::survive`]: source priority, lower wins; then the newer observation;
//! then the record read first). The choice is kept per field in the entity's
//! `survivorship` column (`{field: source_record_id}`), so every value can be traced.
//!
//! Linking keys:
//! - **organisations**: identifiers issued once per firm by an authority (registry unit
//!   number, NTN, SECP number, STRN) and citations of another source's record
//!   (`source:<code>` identifiers; every record also carries its own source key under its
//!   source's scheme, so that later sources can cite it). Never a CNIC: a CNIC identifies
//!   the owner, and one owner may hold several units. A firm record that no strong
//!   identifier links is scored by name, place, phone and address ([`super::linkage`]):
//!   it links above the upper threshold, waits in the review queue between the two.
//!   Institutions (agencies, donors, chambers, training providers) also link by their
//!   normalised name: they are few, curated, and named consistently.
//! - **persons**: the CNIC, as its keyed hash. Records without one stay persons of their
//!   own; names and phone numbers are too weak to link people without review.
//!
//! A record's link is decided when it is first imported. A changed record keeps its entity
//! (re-linking is a curator's decision); when its identifiers now point elsewhere, a
//! warning says so. Identifiers pointing at two different entities link the record to the
//! first (by strength) and leave a warning: merging entities is for a curator too.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use hub_plugin_sdk::{RecordKind, SourceRef};
use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait as _, Query};
use sea_orm::{ConnectionTrait as _, DbErr, QueryResult, Value};
use serde_json::json;

use super::linkage::{Candidate, Decision, Features, Firm, LinkIndex};
use super::prepare::{Ctx, Seen};
use super::report::Issue;
use super::sql::{content_hash, find_by_keys, ids_by_seq, insert_rows, update_row};
use super::survivorship::{Survivor, to_json};
use super::{Issues, Prov};

/// One kind of two-layer entity.
pub(crate) trait Layer: Sized + Clone + Send + Sync + 'static {
    const KIND: RecordKind;
    /// The table of source records.
    const RECORDS: &'static str;
    /// The table of unified entities.
    const UNIFIED: &'static str;
    /// The column of a source record naming its unified entity.
    const FK: &'static str;
    /// `entity_type` in `record_links`.
    const ENTITY: &'static str;
    /// The columns of a source record this layer writes, besides `source_id`,
    /// `source_key`, the entity column and `content_hash`.
    const RECORD_COLUMNS: &'static [&'static str];
    /// The columns of the unified entity chosen by survivorship (besides `survivorship`).
    const UNIFIED_COLUMNS: &'static [&'static str];

    /// The values of [`Layer::RECORD_COLUMNS`].
    fn record_values(&self) -> Vec<Value>;
    /// The part of [`Layer::record_values`] the content hash covers (all of it unless a
    /// layer keeps the hashes of records written before a column was added).
    fn hashed_values(values: &[Value]) -> &[Value] {
        values
    }
    /// Reads the [`Layer::RECORD_COLUMNS`] of a stored record.
    fn from_row(row: &QueryResult) -> Result<Self, DbErr>;
    /// When the source said it, for survivorship within one source.
    fn observed_on(&self) -> Option<NaiveDate>;
    /// What record linkage compares, for records that may link by score
    /// ([`super::linkage`]); `None` for records that link by strong identifiers only.
    fn linkage(&self) -> Option<Features> {
        None
    }
    /// The fields of `other` that disagree with a curated record `curated`: `(field,
    /// curated value, other value)`.
    fn conflicts_with(
        _curated: &Self,
        _other: &Self,
    ) -> Vec<(&'static str, serde_json::Value, serde_json::Value)> {
        Vec::new()
    }
    /// The values of [`Layer::UNIFIED_COLUMNS`] chosen from `ranked`, with the record
    /// (index into `ranked`'s input) each field came from.
    fn survive(ctx: &Ctx<'_>, records: &[(i32, &Self)])
    -> (Vec<Value>, Vec<(&'static str, usize)>);

    /// Whether the records carry the `erased_at` marker of `hub persons erase`.
    const ERASABLE: bool = false;
    /// Blanks the personal values of a record whose key was erased.
    fn erase(&mut self) {}
}

/// A record ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct Pending<L> {
    pub at: SourceRef,
    pub key: String,
    pub fields: L,
    /// Linking keys as `(scheme, value)`, strongest first.
    pub links: Vec<(String, String)>,
    /// What else the record's hash must cover (identifiers, clusters).
    pub extra: String,
}

/// What became of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Inserted,
    Updated,
    Unchanged,
}

/// A record applied: its row, its entity and what happened.
#[derive(Debug, Clone)]
pub(crate) struct Applied<L> {
    pub pending: Pending<L>,
    pub record_id: i64,
    pub entity_id: i64,
    pub state: State,
}

/// The content hash a record is found again by within its file (see
/// [`super::prepare::Ctx::seen`]): the hash of what it writes.
pub(crate) fn seen_hash<L: Layer>(p: &Pending<L>) -> String {
    content_hash(L::hashed_values(&p.fields.record_values()), &p.extra)
}

/// Applies a batch of records of one layer; rejected records get an issue and are left
/// out of the result.
pub(crate) async fn apply<L: Layer>(
    ctx: &mut Ctx<'_>,
    batch: Vec<Pending<L>>,
    issues: &mut Issues,
) -> anyhow::Result<Vec<Applied<L>>> {
    issues.kind = Some(L::KIND);
    // Keys read before in this file.
    let mut fresh = Vec::with_capacity(batch.len());
    for p in batch {
        let values = p.fields.record_values();
        let hash = content_hash(L::hashed_values(&values), &p.extra);
        match ctx.seen(L::KIND, &p.key, &hash) {
            Seen::New => fresh.push((p, values, hash)),
            Seen::Repeat => ctx.count(L::KIND, 0, 0, 1),
            Seen::Conflict => issues.push(Issue::error(
                &p.at,
                Some("source_key"),
                hub_plugin_sdk::codes::DUPLICATE_KEY,
                format!(
                    "The key {:?} of this {} was read before in this file with other values.",
                    p.key,
                    L::KIND
                ),
            )),
        }
    }
    if fresh.is_empty() {
        return Ok(Vec::new());
    }

    // Their stored rows.
    let keys: Vec<Value> = fresh
        .iter()
        .map(|(p, ..)| Value::from(p.key.clone()))
        .collect();
    let mut columns = vec!["id", "source_key", "content_hash", L::FK];
    if L::ERASABLE {
        columns.push("erased_at");
    }
    let rows = find_by_keys(
        ctx.txn,
        L::RECORDS,
        Some(ctx.source_id),
        "source_key",
        &keys,
        &columns,
    )
    .await?;
    let mut stored: HashMap<String, (i64, Option<String>, Option<i64>)> = HashMap::new();
    let mut erased: HashSet<String> = HashSet::new();
    for r in &rows {
        let key: String = r.try_get_by("source_key")?;
        // A timestamp is text on SQLite and `timestamptz` on PostgreSQL.
        let marked = || {
            r.try_get_by::<Option<String>, _>("erased_at")
                .ok()
                .flatten()
                .is_some()
                || r.try_get_by::<Option<chrono::DateTime<chrono::FixedOffset>>, _>("erased_at")
                    .ok()
                    .flatten()
                    .is_some()
        };
        if L::ERASABLE && marked() {
            erased.insert(key.clone());
        }
        stored.insert(
            key,
            (
                r.try_get_by("id")?,
                r.try_get_by("content_hash")?,
                r.try_get_by(L::FK)?,
            ),
        );
    }

    let mut applied = Vec::with_capacity(fresh.len());
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for (p, values, hash) in fresh {
        match stored.get(&p.key) {
            None => new.push((p, values, hash)),
            Some((id, old, entity)) => {
                let entity = entity.unwrap_or_default();
                if old.as_deref() == Some(hash.as_str()) {
                    ctx.count(L::KIND, 0, 0, 1);
                    applied.push(Applied {
                        pending: p,
                        record_id: *id,
                        entity_id: entity,
                        state: State::Unchanged,
                    });
                } else if erased.contains(&p.key) {
                    // An erased key (`hub persons erase`): the record is written without
                    // its personal values and links, under the hash of what the source
                    // sent, so the same file again is unchanged.
                    let mut p = p;
                    p.fields.erase();
                    p.links.clear();
                    let values = p.fields.record_values();
                    changed.push((p, values, hash, *id, entity));
                } else {
                    changed.push((p, values, hash, *id, entity));
                }
            }
        }
    }

    // Link the new records: stored entities first, then founders within the batch; by
    // strong identifiers, else (firms) by score.
    let wanted: HashSet<(&str, &str)> = new
        .iter()
        .flat_map(|(p, ..)| p.links.iter().map(|(s, v)| (s.as_str(), v.as_str())))
        .collect();
    let mut index: HashMap<(String, String), Target> = HashMap::new();
    for (scheme, value, entity) in stored_links::<L>(ctx, wanted).await? {
        index
            .entry((scheme, value))
            .or_insert(Target::Stored(entity));
    }
    // What linkage compares, read once per record (firms only; none when linking by score
    // is off).
    let mut features: Vec<Option<Features>> = if ctx.linkage.enabled {
        new.iter().map(|(p, ..)| p.fields.linkage()).collect()
    } else {
        vec![None; new.len()]
    };
    let scoring = features.iter().any(Option::is_some);
    if scoring && ctx.link_index.is_none() {
        ctx.link_index = Some(LinkIndex::load(ctx.txn).await?);
    }
    // The strong identifiers a changed record gives now are its firm's before anything of
    // this batch is scored: two values of one strong scheme never link.
    if let Some(links) = ctx.link_index.as_mut() {
        for (p, _, _, _, entity) in &changed {
            links.add_strong(Firm::Stored(*entity), &p.links);
        }
    }
    let index_from = ctx.link_index.as_ref().map_or(0, LinkIndex::len);
    let mut targets: Vec<(Target, How)> = Vec::with_capacity(new.len());
    let mut reviews: Vec<(usize, Target, Candidate)> = Vec::new();
    let mut founders = Vec::new();
    let mut indexed: Vec<usize> = Vec::new();
    for (i, (p, ..)) in new.iter().enumerate() {
        let matches: Vec<(&(String, String), Target)> = p
            .links
            .iter()
            .filter_map(|link| index.get(link).map(|t| (link, *t)))
            .collect();
        let features = features[i].take();
        let target = match matches.first() {
            Some(&((scheme, _), target)) => {
                if matches.iter().any(|(_, t)| *t != target) {
                    issues.push(Issue::warning(
                        &p.at,
                        Some("identifiers"),
                        "identifier_conflict",
                        format!(
                            "The record's identifiers point to two different {}s; it was \
                             linked by its {scheme} and nothing was merged: a curator decides.",
                            L::ENTITY
                        ),
                    ));
                }
                (target, How::Strong(scheme.clone()))
            }
            None => {
                let decision = match (&features, ctx.link_index.as_mut()) {
                    (Some(f), Some(links)) => links.decide(f, &p.links, &ctx.linkage),
                    _ => Decision::New,
                };
                match decision {
                    Decision::Link(firm, c) => (firm, How::Score(c)),
                    Decision::Review(candidates) => {
                        reviews.extend(candidates.into_iter().map(|(f, c)| (i, f, c)));
                        founders.push(i);
                        (Target::Founder(i), How::New)
                    }
                    Decision::New => {
                        founders.push(i);
                        (Target::Founder(i), How::New)
                    }
                }
            }
        };
        for link in &p.links {
            index.entry(link.clone()).or_insert(target.0);
        }
        if let (Some(f), Some(links)) = (features, ctx.link_index.as_mut()) {
            let started = std::time::Instant::now();
            links.add(target.0, None, f, &p.links);
            links.charge(started.elapsed());
            indexed.push(i);
        }
        targets.push(target);
    }

    // Unified entities for the founders, with values chosen from their batch records.
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, (target, _)) in targets.iter().enumerate() {
        if let Target::Founder(f) = target {
            members.entry(*f).or_default().push(i);
        }
    }
    let mut entity_of_founder: HashMap<usize, i64> = HashMap::new();
    let mut founder_choices = Vec::with_capacity(founders.len());
    if !founders.is_empty() {
        let first = ctx.seqs(founders.len()).await?;
        let mut rows = Vec::with_capacity(founders.len());
        for (n, &f) in founders.iter().enumerate() {
            let group = &members[&f];
            let ranked: Vec<(i32, &L)> = group
                .iter()
                .map(|&i| (ctx_priority(ctx), &new[i].0.fields))
                .collect();
            let (values, chosen) = L::survive(ctx, &ranked);
            let hash_input = values.clone();
            founder_choices.push((f, chosen, hash_input));
            rows.push((values, ctx.prov(&new[f].0.at), first + n as i64));
        }
        insert_rows(ctx.txn, L::UNIFIED, L::UNIFIED_COLUMNS, rows).await?;
        let ids = ids_by_seq(
            ctx.txn,
            L::UNIFIED,
            first,
            first + founders.len() as i64 - 1,
        )
        .await?;
        for (n, &f) in founders.iter().enumerate() {
            entity_of_founder.insert(f, ids[&(first + n as i64)]);
        }
    }
    let entity_of = |i: usize| match targets[i].0 {
        Target::Stored(id) => id,
        Target::Founder(f) => entity_of_founder[&f],
    };

    // The new records.
    let mut record_ids = Vec::with_capacity(new.len());
    if !new.is_empty() {
        let first = ctx.seqs(new.len()).await?;
        let columns = record_columns::<L>();
        let rows = new
            .iter()
            .enumerate()
            .map(|(i, (p, values, hash))| {
                let mut all = vec![
                    Value::from(ctx.source_id),
                    Value::from(p.key.clone()),
                    Value::from(entity_of(i)),
                    Value::from(hash.clone()),
                ];
                all.extend(values.iter().cloned());
                (all, ctx.prov(&p.at), first + i as i64)
            })
            .collect();
        insert_rows(ctx.txn, L::RECORDS, &columns, rows).await?;
        let ids = ids_by_seq(ctx.txn, L::RECORDS, first, first + new.len() as i64 - 1).await?;
        record_ids = (0..new.len()).map(|i| ids[&(first + i as i64)]).collect();
        ctx.count(L::KIND, new.len() as u64, 0, 0);

        // One link per new record, and the founders' survivorship with record ids.
        let first = ctx.seqs(new.len()).await?;
        let rows = new
            .iter()
            .enumerate()
            .map(|(i, (p, ..))| {
                let (method, rule, score, evidence) = match &targets[i].1 {
                    How::New => ("new", None, None, None),
                    How::Strong(scheme) => (
                        "strong_identifier",
                        Some(scheme.clone()),
                        None,
                        Some(json!({ "scheme": scheme })),
                    ),
                    How::Score(c) => (
                        "score",
                        Some("fellegi_sunter".to_owned()),
                        Some(c.scored.score),
                        Some(evidence_of(c)),
                    ),
                };
                (
                    vec![
                        Value::from(L::ENTITY),
                        Value::from(record_ids[i]),
                        Value::from(entity_of(i)),
                        Value::from(method),
                        Value::from(rule),
                        Value::from(score),
                        Value::from(evidence),
                        Value::from("active"),
                    ],
                    ctx.prov(&p.at),
                    first + i as i64,
                )
            })
            .collect();
        insert_rows(
            ctx.txn,
            "record_links",
            &[
                "entity_type",
                "source_record_id",
                "unified_id",
                "method",
                "rule",
                "score",
                "evidence",
                "status",
            ],
            rows,
        )
        .await?;
        for (i, (p, ..)) in new.iter().enumerate() {
            // `record_links` is the log of links (score and evidence, queryable as
            // `SourceRecord.links`); the trace line is for following an import live.
            if let How::Score(c) = &targets[i].1 {
                tracing::debug!(
                    source = %ctx.source_code,
                    key = %p.key,
                    firm = entity_of(i),
                    score = c.scored.score,
                    evidence = %c.scored.evidence(),
                    "linked by score"
                );
            }
        }
        // Pairs for a curator.
        if !reviews.is_empty() {
            let first = ctx.seqs(reviews.len()).await?;
            let rows = reviews
                .iter()
                .enumerate()
                .map(|(n, (i, firm, c))| {
                    let candidate = match firm {
                        Target::Stored(id) => *id,
                        Target::Founder(f) => entity_of_founder[f],
                    };
                    (
                        vec![
                            Value::from(L::ENTITY),
                            Value::from(record_ids[*i]),
                            Value::from(candidate),
                            Value::from(c.scored.score),
                            Value::from(evidence_of(c)),
                            Value::from("pending"),
                        ],
                        ctx.prov(&new[*i].0.at),
                        first + n as i64,
                    )
                })
                .collect();
            insert_rows(
                ctx.txn,
                "match_reviews",
                &[
                    "entity_type",
                    "source_record_id",
                    "candidate_id",
                    "score",
                    "evidence",
                    "status",
                ],
                rows,
            )
            .await?;
        }
        if let Some(links) = ctx.link_index.as_mut() {
            links.settle(&entity_of_founder);
            links.set_record_ids(index_from, indexed.iter().map(|&i| record_ids[i]));
        }
        let survivorship: Vec<(i64, serde_json::Value)> = founder_choices
            .iter()
            .map(|(f, chosen, values)| {
                let group = &members[f];
                let json = to_json(chosen, |k| record_ids[group[k]]);
                (entity_of_founder[f], with_hash(json, values))
            })
            .collect();
        set_survivorship(ctx, L::UNIFIED, survivorship).await?;
    }

    // Changed records: rewrite them; their entities are chosen again below.
    let mut touched: HashSet<i64> = HashSet::new();
    if !changed.is_empty() {
        // What the changed organisation records said before, to tell the fields a source
        // changed from those it keeps (see the conflicts in `resurvive`).
        if L::KIND == RecordKind::Organisation {
            let ids: Vec<Value> = changed.iter().map(|(.., id, _)| Value::from(*id)).collect();
            let mut columns = vec!["id"];
            columns.extend(L::RECORD_COLUMNS);
            for r in find_by_keys(ctx.txn, L::RECORDS, None, "id", &ids, &columns).await? {
                let id: i64 = r.try_get_by("id")?;
                ctx.changed_before.insert(id, Box::new(L::from_row(&r)?));
            }
        }
        let first = ctx.seqs(changed.len()).await?;
        let columns: Vec<&str> = ["content_hash"]
            .into_iter()
            .chain(L::RECORD_COLUMNS.iter().copied())
            .collect();
        for (n, (p, values, hash, id, entity)) in changed.iter().enumerate() {
            let mut all = vec![Value::from(hash.clone())];
            all.extend(values.iter().cloned());
            update_row(
                ctx.txn,
                L::RECORDS,
                *id,
                &columns,
                all,
                &ctx.prov(&p.at),
                first + n as i64,
            )
            .await?;
            touched.insert(*entity);
        }
        ctx.count(L::KIND, 0, changed.len() as u64, 0);
    }
    for (target, _) in &targets {
        if let Target::Stored(id) = target {
            touched.insert(*id);
        }
    }
    resurvive::<L>(ctx, touched).await?;

    for (i, (p, ..)) in new.into_iter().enumerate() {
        let entity_id = entity_of(i);
        applied.push(Applied {
            pending: p,
            record_id: record_ids[i],
            entity_id,
            state: State::Inserted,
        });
    }
    for (p, _, _, id, entity) in changed {
        applied.push(Applied {
            pending: p,
            record_id: id,
            entity_id: entity,
            state: State::Updated,
        });
    }
    Ok(applied)
}

/// Where a new record links: an entity stored before this batch, or the one founded by the
/// batch's new record at an index.
type Target = Firm;

/// How a new record was linked.
#[derive(Debug, Clone)]
enum How {
    /// It founded its entity.
    New,
    /// By an identifier of this scheme.
    Strong(String),
    /// By score ([`super::linkage`]).
    Score(Candidate),
}

/// The evidence stored with a link or a review: the levels and weights, and the record the
/// best comparison was with.
fn evidence_of(c: &Candidate) -> serde_json::Value {
    let mut evidence = c.scored.evidence();
    if let Some(map) = evidence.as_object_mut() {
        map.insert(
            "probability_among_candidates".into(),
            ((c.posterior * 1000.0).round() / 1000.0).into(),
        );
        if let Some(id) = c.record_id {
            map.insert("candidate_record".into(), id.into());
        }
    }
    evidence
}

/// The priority of the import's source.
fn ctx_priority(ctx: &Ctx<'_>) -> i32 {
    ctx.priorities.get(&ctx.source_id).copied().unwrap_or(100)
}

fn record_columns<L: Layer>() -> Vec<&'static str> {
    ["source_id", "source_key", L::FK, "content_hash"]
        .into_iter()
        .chain(L::RECORD_COLUMNS.iter().copied())
        .collect()
}

/// Stored `(scheme, value, entity)` for the linking values wanted.
async fn stored_links<L: Layer>(
    ctx: &Ctx<'_>,
    wanted: HashSet<(&str, &str)>,
) -> anyhow::Result<Vec<(String, String, i64)>> {
    let institution = super::records::INSTITUTION_NAME;
    let names: Vec<Value> = wanted
        .iter()
        .filter(|(scheme, _)| *scheme == institution)
        .map(|(_, v)| Value::from(*v))
        .collect();
    let pairs: Vec<(String, String)> = wanted
        .iter()
        .filter(|(scheme, _)| *scheme != institution)
        .map(|(s, v)| ((*s).to_owned(), (*v).to_owned()))
        .collect();
    if pairs.is_empty() && names.is_empty() {
        return Ok(Vec::new());
    }
    if L::KIND == RecordKind::Person {
        let values: Vec<Value> = pairs.iter().map(|(_, v)| Value::from(v.clone())).collect();
        let rows = find_by_keys(
            ctx.txn,
            "persons",
            None,
            "cnic_hash",
            &values,
            &["id", "cnic_hash"],
        )
        .await?;
        return rows
            .iter()
            .map(|r| {
                Ok((
                    "PK-CNIC".to_owned(),
                    r.try_get_by::<String, _>("cnic_hash")?,
                    r.try_get_by::<i64, _>("id")?,
                ))
            })
            .collect();
    }
    let mut out = super::sql::identifiers(ctx.txn, &pairs).await?;
    let institutions = if names.is_empty() {
        Vec::new()
    } else {
        find_by_keys(
            ctx.txn,
            "organisations",
            None,
            "name_key",
            &names,
            &["id", "kind", "name_key"],
        )
        .await?
    };
    for r in &institutions {
        if r.try_get_by::<String, _>("kind")? != "firm" {
            out.push((
                super::records::INSTITUTION_NAME.to_owned(),
                r.try_get_by("name_key")?,
                r.try_get_by("id")?,
            ));
        }
    }
    Ok(out)
}

/// Sets `survivorship` of freshly inserted entities, many per statement.
async fn set_survivorship(
    ctx: &Ctx<'_>,
    table: &str,
    rows: Vec<(i64, serde_json::Value)>,
) -> Result<(), DbErr> {
    let backend = ctx.txn.get_database_backend();
    for chunk in rows.chunks(500) {
        let mut case = CaseStatement::new();
        for (id, json) in chunk {
            case = case.case(Expr::col(Alias::new("id")).eq(*id), Expr::val(json.clone()));
        }
        let mut update = Query::update();
        update
            .table(Alias::new(table))
            .value(Alias::new("survivorship"), case)
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().map(|(id, _)| *id)));
        ctx.txn.execute_raw(backend.build(&update)).await?;
    }
    Ok(())
}

/// Chooses every field of these stored entities again from all their records, and updates
/// the ones whose values changed (each update takes a change number).
pub(crate) async fn resurvive<L: Layer>(
    ctx: &mut Ctx<'_>,
    entities: HashSet<i64>,
) -> anyhow::Result<()> {
    if entities.is_empty() {
        return Ok(());
    }
    let ids: Vec<Value> = entities.iter().map(|id| Value::from(*id)).collect();
    let mut columns = vec!["id", "source_id", L::FK];
    columns.extend(L::RECORD_COLUMNS);
    let rows = find_by_keys(ctx.txn, L::RECORDS, None, L::FK, &ids, &columns).await?;
    let mut by_entity: HashMap<i64, Vec<(i64, i32, L)>> = HashMap::new();
    for r in &rows {
        let entity: i64 = r.try_get_by(L::FK)?;
        let source_id: i64 = r.try_get_by("source_id")?;
        let priority = ctx.priorities.get(&source_id).copied().unwrap_or(100);
        let id: i64 = r.try_get_by("id")?;
        by_entity
            .entry(entity)
            .or_default()
            .push((id, priority, L::from_row(r)?));
    }
    // A curated value that a record this import changed disagrees with: a conflict for a
    // curator.
    for (entity, records) in &by_entity {
        let Some((_, _, curated)) = records
            .iter()
            .find(|(_, p, _)| *p == super::curate::CURATED_PRIORITY)
        else {
            continue;
        };
        let mut found = Vec::new();
        for (id, p, l) in records {
            if *p == super::curate::CURATED_PRIORITY {
                continue;
            }
            let Some(before) = ctx
                .changed_before
                .get(id)
                .and_then(|b| b.downcast_ref::<L>())
            else {
                continue;
            };
            // Only a value the source changed: one it already gave is known to differ.
            let known = L::conflicts_with(curated, before);
            for (f, mine, theirs) in L::conflicts_with(curated, l) {
                if !known.iter().any(|(k, _, old)| *k == f && *old == theirs) {
                    found.push((*id, f, mine, theirs));
                }
            }
        }
        if !found.is_empty() {
            super::curate::queue_conflicts(ctx, *entity, found).await?;
        }
    }
    let current = find_by_keys(
        ctx.txn,
        L::UNIFIED,
        None,
        "id",
        &ids,
        &["id", "survivorship"],
    )
    .await?;
    let mut current_choice: HashMap<i64, Option<serde_json::Value>> = HashMap::new();
    for r in &current {
        current_choice.insert(r.try_get_by("id")?, r.try_get_by("survivorship")?);
    }
    let mut updates = Vec::new();
    let mut sorted: Vec<i64> = entities.into_iter().collect();
    sorted.sort_unstable();
    for entity in sorted {
        let Some(records) = by_entity.get_mut(&entity) else {
            continue;
        };
        records.sort_by_key(|(id, ..)| *id);
        let ranked: Vec<(i32, &L)> = records.iter().map(|(_, p, l)| (*p, l)).collect();
        let (values, chosen) = L::survive(ctx, &ranked);
        let json = with_hash(to_json(&chosen, |k| records[k].0), &values);
        let before = current_choice.get(&entity).cloned().flatten();
        if before.as_ref() != Some(&json) {
            updates.push((entity, values, json));
        }
    }
    if updates.is_empty() {
        return Ok(());
    }
    let first = ctx.seqs(updates.len()).await?;
    let mut columns: Vec<&str> = L::UNIFIED_COLUMNS.to_vec();
    columns.push("survivorship");
    for (n, (entity, mut values, json)) in updates.into_iter().enumerate() {
        values.push(Value::from(json));
        let prov = Prov {
            run_id: ctx.run_id,
            source_ref: format!("survivorship:{}", L::ENTITY),
            at: ctx.at,
        };
        update_row(
            ctx.txn,
            L::UNIFIED,
            entity,
            &columns,
            values,
            &prov,
            first + n as i64,
        )
        .await?;
    }
    Ok(())
}

/// The survivorship map with a hash of the values chosen under `_hash`, so that a later
/// batch can tell whether the entity's values change without reading and comparing them
/// column by column (the engines return integers and dates in different types).
fn with_hash(mut json: serde_json::Value, values: &[Value]) -> serde_json::Value {
    let hash = content_hash(values, &json.to_string());
    if let Some(map) = json.as_object_mut() {
        map.insert("_hash".into(), hash.into());
    }
    json
}

/// Ranks records for survivorship: best source priority, then newer observation, then
/// the record read first.
pub(crate) fn survivor<'r, L: Layer>(records: &'r [(i32, &'r L)]) -> Survivor<'r, (i32, &'r L)> {
    Survivor::new(records.iter().enumerate(), |(priority, l)| {
        (*priority, l.observed_on())
    })
}
