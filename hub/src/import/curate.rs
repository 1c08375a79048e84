//! Curators' decisions on firms: the review queue (accept, reject), merging and splitting
//! firms, and curated values (a corrected field, an added identifier, a cluster
//! membership).
//!
//! Each decision is one transaction under the import writer (see `lock.rs`), recorded as
//! an import run of the importer `curation` under the source [`CURATION_SOURCE`], so that
//! every row it writes carries provenance and a change number like an import's rows, and
//! the change feed and datasets see it. Each decision is also written to
//! `curation_events` (who, when, before, after: the firm's history) and to the audit
//! trail.
//!
//! **Curated values** are a source record of [`CURATION_SOURCE`] linked to the firm (key
//! `firm:<id>`): survivorship ranks that source above every other
//! ([`CURATED_PRIORITY`]), so a curated value wins over every source, and
//! `Firm.sourceRecords` lists it beside the others with its provenance. A later import that
//! brings another value for a curated field does not change the firm; the difference waits
//! in the review queue as a `conflict` (see [`conflicts`]).
//!
//! **Merging** moves every source record, identifier, observation and reference (cluster
//! memberships, network memberships, participations, loans, allotments, indicator values,
//! affiliations, roles in programmes, networks, courses and events) of one firm to
//! another, marks the first `merged_into_id` and leaves a `merge` tombstone. **Splitting**
//! moves chosen source records out again: each to the firm it was linked to before a
//! merge (restored), the others together to a new firm, with what came from them: their
//! identifiers and observations (by record), the cluster memberships they stated (by
//! key), and the other references of their source when the firm keeps no other record of
//! that source. Links are never deleted: `record_links` keeps every link with its method,
//! status and who reverted it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ActiveModelTrait as _, ConnectionTrait as _, DatabaseConnection, DbErr, QueryResult, Set,
    Statement, Value,
};
use serde_json::{Value as Json, json};

use super::ImportEnv;
use super::linkage::STRONG_SCHEMES;
use super::prepare::{Ctx, Ident};
use super::records::OrgFields;
use super::sql::{content_hash, ids_by_seq, insert_rows, update_row};
use super::unify::{Layer as _, resurvive};
use super::{Prov, lock};

/// The source of curated values.
pub const CURATION_SOURCE: &str = "hub-curation";

/// The survivorship priority of [`CURATION_SOURCE`]: lower than any source may be given.
pub const CURATED_PRIORITY: i32 = i32::MIN / 2;

/// Why a decision was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CurationError {
    /// The request cannot be applied as asked (a firm not found, two values of one strong
    /// identifier scheme, a review already decided): nothing was written.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for CurationError {
    fn from(e: DbErr) -> Self {
        CurationError::Internal(e.into())
    }
}

fn refused<T>(message: impl Into<String>) -> Result<T, CurationError> {
    Err(CurationError::Refused(message.into()))
}

/// Fields of a firm a curator may correct (contact details are personal data and come
/// from sources only).
#[derive(Debug, Clone, Default)]
pub struct Correction {
    pub name: Option<String>,
    pub legal_form: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub status: Option<String>,
    pub industry_code: Option<String>,
    pub founded_year: Option<i32>,
    /// A district's name (or synonym).
    pub district: Option<String>,
    /// A tehsil's name, in the district given or the firm's district.
    pub tehsil: Option<String>,
    /// Curated fields to give back to the sources (`name`, `address`, …).
    pub clear: Vec<String>,
}

/// The fields a curator may set, as stored in `curation_events.field`.
pub const CURATED_FIELDS: [&str; 9] = [
    "name",
    "legal_form",
    "address",
    "website",
    "status",
    "industry_code",
    "founded_year",
    "district",
    "tehsil",
];

/// The statuses a firm may have.
const STATUSES: [&str; 4] = ["active", "closed", "inactive", "unknown"];

/// Applies curators' decisions.
pub struct Curator<'a> {
    pub db: &'a DatabaseConnection,
    pub env: ImportEnv<'a>,
    /// Who decides, as the audit trail names callers (`key:NAME`, `jwt:SUBJECT`).
    pub actor: String,
}

/// The outcome of a split: the firms the records went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Firms restored from an earlier merge.
    pub restored: Vec<i64>,
    /// The firm created for the records that had no firm before.
    pub created: Option<i64>,
}

impl Curator<'_> {
    /// Runs one decision in its own transaction and run; nothing is written when it fails.
    async fn run<T>(
        &self,
        what: &str,
        op: impl AsyncFnOnce(&mut Ctx<'_>, &str) -> Result<(T, Json), CurationError>,
    ) -> Result<T, CurationError> {
        let (txn, writer) = lock::begin(self.db, "curation").await?;
        let result: Result<T, CurationError> = async {
            let stamp =
                crate::provenance::Stamp::begin(&txn, "curation", env!("CARGO_PKG_VERSION"), None)
                    .await?;
            let mut ctx = Ctx::load(&txn, &self.env, stamp.run_id, CURATION_SOURCE).await?;
            let (out, detail) = op(&mut ctx, &self.actor).await?;
            ctx.refresh_figures().await?;
            let (first, last) = ctx.seq_range();
            hub_schema::entity::import_runs::ActiveModel {
                id: Set(stamp.run_id),
                status: Set("applied".into()),
                finished_at: Set(Some(crate::provenance::now())),
                triggered_by: Set(Some("graphql".into())),
                first_change_seq: Set(first),
                last_change_seq: Set(last),
                source_id: Set(Some(ctx.source_id)),
                ..Default::default()
            }
            .update(&txn)
            .await?;
            crate::access::audit::record(&txn, &format!("curation.{what}"), &self.actor, detail)
                .await?;
            crate::rollups::refresh(&txn).await?;
            Ok(out)
        }
        .await;
        let result = match result {
            Ok(out) => match txn.commit().await {
                Ok(()) => Ok(out),
                Err(e) => Err(e.into()),
            },
            Err(e) => {
                txn.rollback().await.ok();
                Err(e)
            }
        };
        writer.release(self.db).await;
        if result.is_ok() {
            tracing::info!(actor = %self.actor, decision = what, "curation applied");
        }
        result
    }

    /// Merges firm `from` into firm `into`.
    pub async fn merge_firms(&self, into: i64, from: i64) -> Result<(), CurationError> {
        self.run("merge", async |ctx, actor| {
            merge(ctx, actor, into, from, None).await?;
            Ok(((), json!({ "into": into, "from": from })))
        })
        .await
    }

    /// Moves the source records `records` out of `firm` (see the module documentation).
    pub async fn split_firm(&self, firm: i64, records: Vec<i64>) -> Result<Split, CurationError> {
        self.run("split", async |ctx, actor| {
            let split = split(ctx, actor, firm, &records).await?;
            let detail = json!({
                "firm": firm,
                "records": records,
                "restored": split.restored,
                "created": split.created,
            });
            Ok((split, detail))
        })
        .await
    }

    /// Accepts a pending review: the record's firm and the candidate are one firm (merged
    /// into the candidate); for a conflict, the source's value replaces the curated one.
    /// Returns the firm.
    pub async fn accept(&self, review: i64) -> Result<i64, CurationError> {
        self.run("accept", async |ctx, actor| {
            let firm = accept(ctx, actor, review).await?;
            Ok((firm, json!({ "review": review, "firm": firm })))
        })
        .await
    }

    /// Rejects a pending review: the pair is not one firm (remembered, never proposed
    /// again), or, for a conflict, the curated value stays.
    pub async fn reject(&self, review: i64) -> Result<(), CurationError> {
        self.run("reject", async |ctx, actor| {
            let r = pending_review(ctx, review).await?;
            decide_review(ctx, actor, review, "rejected").await?;
            let firm = record_firm(ctx, r.record).await?;
            event(
                ctx,
                actor,
                firm,
                "reject",
                r.field.as_deref(),
                json!({ "record": r.record, "candidate": r.candidate }),
                Json::Null,
                Some(review),
            )
            .await?;
            Ok(((), json!({ "review": review })))
        })
        .await
    }

    /// Corrects fields of a firm with curated values.
    pub async fn correct(&self, firm: i64, correction: Correction) -> Result<(), CurationError> {
        self.run("correct", async |ctx, actor| {
            correct(ctx, actor, firm, &correction).await?;
            Ok(((), json!({ "firm": firm })))
        })
        .await
    }

    /// Adds an identifier to a firm.
    pub async fn add_identifier(
        &self,
        firm: i64,
        scheme: &str,
        value: &str,
    ) -> Result<(), CurationError> {
        self.run("identifier", async |ctx, actor| {
            let scheme = add_identifier(ctx, actor, firm, scheme, value).await?;
            Ok(((), json!({ "firm": firm, "scheme": scheme })))
        })
        .await
    }

    /// Makes a firm a member of a cluster (by slug), or ends its membership.
    pub async fn set_membership(
        &self,
        firm: i64,
        cluster: &str,
        member: bool,
    ) -> Result<(), CurationError> {
        self.run("membership", async |ctx, actor| {
            set_membership(ctx, actor, firm, cluster, member).await?;
            Ok((
                (),
                json!({ "firm": firm, "cluster": cluster, "member": member }),
            ))
        })
        .await
    }
}

// ---- SQL helpers ----------------------------------------------------------------------------

async fn query(ctx: &Ctx<'_>, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
    let backend = ctx.txn.get_database_backend();
    ctx.txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, sql),
            values,
        ))
        .await
}

async fn execute(ctx: &Ctx<'_>, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    let backend = ctx.txn.get_database_backend();
    Ok(ctx
        .txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, sql),
            values,
        ))
        .await?
        .rows_affected())
}

async fn ids(ctx: &Ctx<'_>, sql: &str, values: Vec<Value>) -> Result<Vec<i64>, DbErr> {
    query(ctx, sql, values)
        .await?
        .iter()
        .map(|r| r.try_get_by::<i64, _>("id"))
        .collect()
}

fn at(ctx: &Ctx<'_>) -> DateTime<FixedOffset> {
    ctx.at
}

fn prov(ctx: &Ctx<'_>, what: &str) -> Prov {
    Prov {
        run_id: ctx.run_id,
        source_ref: format!("curation:{what}"),
        at: ctx.at,
    }
}

/// Points the rows `ids` of `table` at another organisation through `column`, each with
/// its own change number.
async fn repoint(
    ctx: &mut Ctx<'_>,
    table: &str,
    column: &str,
    ids: &[i64],
    to: i64,
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = ctx.seqs(ids.len()).await?;
    for (n, id) in ids.iter().enumerate() {
        execute(
            ctx,
            &format!(
                "UPDATE {table} SET {column} = ?, change_seq = ?, updated_at = ? WHERE id = ?"
            ),
            vec![
                to.into(),
                (first + n as i64).into(),
                at(ctx).into(),
                (*id).into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The references to an organisation besides its source records: (table, column, whether
/// the rows carry the source they came from).
const REFERENCES: [(&str, &str, bool); 16] = [
    ("cluster_memberships", "organisation_id", true),
    ("network_members", "organisation_id", true),
    ("networks", "lead_organisation_id", true),
    ("affiliations", "organisation_id", true),
    ("indicator_values", "organisation_id", true),
    ("participations", "organisation_id", true),
    ("plot_allotments", "organisation_id", true),
    ("loans", "organisation_id", true),
    ("interventions", "lead_organisation_id", true),
    ("courses", "provider_organisation_id", true),
    ("training_events", "provider_organisation_id", true),
    ("programmes", "lead_organisation_id", false),
    ("programmes", "funder_organisation_id", false),
    ("programmes", "technical_assistance_organisation_id", false),
    ("organisations", "merged_into_id", false),
    ("curation_events", "organisation_id", false),
];

// ---- Firms ----------------------------------------------------------------------------------

/// A firm that is not merged away, or the refusal naming why not.
async fn live_firm(ctx: &Ctx<'_>, id: i64) -> Result<(), CurationError> {
    let rows = query(
        ctx,
        "SELECT kind, merged_into_id FROM organisations WHERE id = ?",
        vec![id.into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return refused(format!("There is no firm {id}."));
    };
    let kind: String = row.try_get_by("kind")?;
    if kind != "firm" {
        return refused(format!(
            "Organisation {id} is a {kind}, not a firm: only firms are merged and split."
        ));
    }
    if let Some(into) = row.try_get_by::<Option<i64>, _>("merged_into_id")? {
        return refused(format!("Firm {id} was merged into firm {into}."));
    }
    Ok(())
}

/// The firm a firm was merged into, followed to the end.
/// Shared by the review queue's `candidate`, so that both follow merges alike.
pub async fn surviving(db: &impl sea_orm::ConnectionTrait, mut id: i64) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    for _ in 0..64 {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    "SELECT merged_into_id FROM organisations WHERE id = ?",
                ),
                [Value::from(id)],
            ))
            .await?;
        match row
            .map(|r| r.try_get_by::<Option<i64>, _>("merged_into_id"))
            .transpose()?
            .flatten()
        {
            Some(next) => id = next,
            None => break,
        }
    }
    Ok(id)
}

/// A firm's values of the strong identifier schemes.
async fn strong_identifiers(ctx: &Ctx<'_>, firm: i64) -> Result<Vec<(String, String)>, DbErr> {
    let schemes = STRONG_SCHEMES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = query(
        ctx,
        &format!(
            "SELECT DISTINCT scheme, value FROM organisation_identifiers WHERE organisation_id \
             = ? AND scheme IN ({schemes})"
        ),
        vec![firm.into()],
    )
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get_by("scheme")?, r.try_get_by("value")?)))
        .collect()
}

/// The scheme in which two sets of identifiers hold different values, if any.
fn strong_conflict(a: &[(String, String)], b: &[(String, String)]) -> Option<String> {
    STRONG_SCHEMES.iter().find_map(|scheme| {
        let of = |set: &[(String, String)]| -> HashSet<String> {
            set.iter()
                .filter(|(s, _)| s == scheme)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let (va, vb) = (of(a), of(b));
        (!va.is_empty() && !vb.is_empty() && va != vb).then(|| (*scheme).to_owned())
    })
}

fn scheme_label(scheme: &str) -> String {
    hub_schema::domain::IdentifierScheme::parse(scheme)
        .map(|s| s.label().to_owned())
        .unwrap_or_else(|_| scheme.to_owned())
}

/// Records an entry of a firm's history.
#[allow(clippy::too_many_arguments)]
async fn event(
    ctx: &mut Ctx<'_>,
    actor: &str,
    firm: i64,
    action: &str,
    field: Option<&str>,
    before: Json,
    after: Json,
    review: Option<i64>,
) -> anyhow::Result<()> {
    let seq = ctx.seqs(1).await?;
    let p = prov(ctx, action);
    insert_rows(
        ctx.txn,
        "curation_events",
        &[
            "organisation_id",
            "action",
            "field",
            "before_value",
            "after_value",
            "actor",
            "review_id",
        ],
        vec![(
            vec![
                firm.into(),
                action.into(),
                field.map(str::to_owned).into(),
                (!before.is_null()).then_some(before).into(),
                (!after.is_null()).then_some(after).into(),
                actor.into(),
                review.into(),
            ],
            p,
            seq,
        )],
    )
    .await?;
    Ok(())
}

/// Moves source records to another firm: each keeps its history of links (the active one
/// reverted, a manual one added).
async fn move_records(
    ctx: &mut Ctx<'_>,
    actor: &str,
    records: &[(i64, i64)],
    to: i64,
    rule: &str,
) -> anyhow::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let first = ctx.seqs(records.len() * 3).await?;
    let mut links = Vec::with_capacity(records.len());
    for (n, (record, from)) in records.iter().enumerate() {
        execute(
            ctx,
            "UPDATE organisation_source_records SET organisation_id = ?, change_seq = ?, \
             updated_at = ? WHERE id = ?",
            vec![
                to.into(),
                (first + n as i64).into(),
                at(ctx).into(),
                (*record).into(),
            ],
        )
        .await?;
        execute(
            ctx,
            "UPDATE record_links SET status = 'reverted', reverted_at = ?, decided_by = ?, \
             change_seq = ?, updated_at = ? WHERE entity_type = 'organisation' AND \
             source_record_id = ? AND status = 'active'",
            vec![
                at(ctx).into(),
                actor.into(),
                (first + (2 * records.len() + n) as i64).into(),
                at(ctx).into(),
                (*record).into(),
            ],
        )
        .await?;
        links.push((
            vec![
                Value::from("organisation"),
                Value::from(*record),
                Value::from(to),
                Value::from("manual"),
                Value::from(rule),
                Value::from(Some(json!({ "from": from }))),
                Value::from("active"),
                Value::from(actor),
            ],
            prov(ctx, rule),
            first + (records.len() + n) as i64,
        ));
    }
    insert_rows(
        ctx.txn,
        "record_links",
        &[
            "entity_type",
            "source_record_id",
            "unified_id",
            "method",
            "rule",
            "evidence",
            "status",
            "decided_by",
        ],
        links,
    )
    .await?;
    Ok(())
}

async fn merge(
    ctx: &mut Ctx<'_>,
    actor: &str,
    into: i64,
    from: i64,
    review: Option<i64>,
) -> Result<(), CurationError> {
    if into == from {
        return refused("A firm cannot be merged into itself.");
    }
    live_firm(ctx, into).await?;
    live_firm(ctx, from).await?;
    let (a, b) = (
        strong_identifiers(ctx, into).await?,
        strong_identifiers(ctx, from).await?,
    );
    if let Some(scheme) = strong_conflict(&a, &b) {
        return refused(format!(
            "Firms {into} and {from} hold different values of the {}: two values of one \
             identifier scheme are never one firm. Nothing was merged.",
            scheme_label(&scheme)
        ));
    }
    // Source records, identifiers and observations.
    let records: Vec<(i64, i64)> = ids(
        ctx,
        "SELECT id FROM organisation_source_records WHERE organisation_id = ? ORDER BY id",
        vec![from.into()],
    )
    .await?
    .into_iter()
    .map(|r| (r, from))
    .collect();
    move_records(ctx, actor, &records, into, "merge").await?;
    for table in ["organisation_identifiers", "firm_observations"] {
        let rows = ids(
            ctx,
            &format!("SELECT id FROM {table} WHERE organisation_id = ? ORDER BY id"),
            vec![from.into()],
        )
        .await?;
        repoint(ctx, table, "organisation_id", &rows, into).await?;
    }
    // A network both firms belong to keeps one membership, the surviving firm's.
    let doubled = ids(
        ctx,
        "SELECT id FROM network_members WHERE organisation_id = ? AND network_id IN \
         (SELECT network_id FROM network_members WHERE organisation_id = ?) ORDER BY id",
        vec![from.into(), into.into()],
    )
    .await?;
    delete_rows(ctx, "network_members", "network_member", &doubled).await?;
    for (table, column, _) in REFERENCES {
        let rows = ids(
            ctx,
            &format!("SELECT id FROM {table} WHERE {column} = ? ORDER BY id"),
            vec![from.into()],
        )
        .await?;
        repoint(ctx, table, column, &rows, into).await?;
    }
    // The firm merged away, and its tombstone.
    let first = ctx.seqs(2).await?;
    execute(
        ctx,
        "UPDATE organisations SET merged_into_id = ?, change_seq = ?, updated_at = ?, \
         import_run_id = ?, source_ref = 'curation:merge' WHERE id = ?",
        vec![
            into.into(),
            first.into(),
            at(ctx).into(),
            ctx.run_id.into(),
            from.into(),
        ],
    )
    .await?;
    tombstone(ctx, first + 1, "organisation", from, "merge", Some(into)).await?;
    // Reviews: pairs with the merged firm now name the survivor; pairs that the merge
    // answered are accepted.
    let moved = ids(
        ctx,
        "SELECT id FROM match_reviews WHERE candidate_id = ? AND status = 'pending' ORDER BY id",
        vec![from.into()],
    )
    .await?;
    repoint(ctx, "match_reviews", "candidate_id", &moved, into).await?;
    let answered = ids(
        ctx,
        "SELECT id FROM match_reviews WHERE status = 'pending' AND kind = 'match' AND \
         candidate_id = ? AND source_record_id IN (SELECT id FROM organisation_source_records \
         WHERE organisation_id = ?)",
        vec![into.into(), into.into()],
    )
    .await?;
    for id in answered {
        if Some(id) != review {
            decide_review(ctx, actor, id, "accepted").await?;
        }
    }
    resurvive::<OrgFields>(ctx, HashSet::from([into])).await?;
    ctx.figures_touched.insert(into);
    let moved: Vec<i64> = records.iter().map(|(r, _)| *r).collect();
    event(
        ctx,
        actor,
        into,
        "merge",
        None,
        json!({ "firm": from }),
        json!({ "firm": into, "records": moved }),
        review,
    )
    .await?;
    Ok(())
}

async fn tombstone(
    ctx: &Ctx<'_>,
    seq: i64,
    entity: &str,
    id: i64,
    op: &str,
    merged_into: Option<i64>,
) -> Result<(), DbErr> {
    execute(
        ctx,
        "INSERT INTO tombstones (change_seq, entity_type, entity_id, op, merged_into_id, \
         import_run_id, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            seq.into(),
            entity.into(),
            id.into(),
            op.into(),
            merged_into.into(),
            ctx.run_id.into(),
            at(ctx).into(),
        ],
    )
    .await
    .map(|_| ())
}

async fn delete_rows(
    ctx: &mut Ctx<'_>,
    table: &str,
    entity: &str,
    ids: &[i64],
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = ctx.seqs(ids.len()).await?;
    for (n, id) in ids.iter().enumerate() {
        execute(
            ctx,
            &format!("DELETE FROM {table} WHERE id = ?"),
            vec![(*id).into()],
        )
        .await?;
        tombstone(ctx, first + n as i64, entity, *id, "delete", None).await?;
    }
    Ok(())
}

/// A source record: its firm, source and key.
struct RecordRow {
    id: i64,
    firm: i64,
    source_id: i64,
    key: String,
}

async fn records_of(ctx: &Ctx<'_>, firm: i64) -> Result<Vec<RecordRow>, DbErr> {
    query(
        ctx,
        "SELECT id, organisation_id, source_id, source_key FROM organisation_source_records \
         WHERE organisation_id = ? ORDER BY id",
        vec![firm.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(RecordRow {
            id: r.try_get_by("id")?,
            firm: r.try_get_by("organisation_id")?,
            source_id: r.try_get_by("source_id")?,
            key: r.try_get_by("source_key")?,
        })
    })
    .collect()
}

async fn record_firm(ctx: &Ctx<'_>, record: i64) -> Result<i64, CurationError> {
    let rows = query(
        ctx,
        "SELECT organisation_id FROM organisation_source_records WHERE id = ?",
        vec![record.into()],
    )
    .await?;
    match rows.first() {
        Some(r) => Ok(r.try_get_by("organisation_id")?),
        None => refused(format!("There is no source record {record}.")),
    }
}

async fn split(
    ctx: &mut Ctx<'_>,
    actor: &str,
    firm: i64,
    chosen: &[i64],
) -> Result<Split, CurationError> {
    live_firm(ctx, firm).await?;
    if chosen.is_empty() {
        return refused("Name the source records to split off the firm.");
    }
    let all = records_of(ctx, firm).await?;
    let chosen: HashSet<i64> = chosen.iter().copied().collect();
    for id in &chosen {
        if !all.iter().any(|r| r.id == *id) {
            return refused(format!(
                "Source record {id} is not a record of firm {firm}: split names records \
                 of the firm."
            ));
        }
    }
    // Curated values are no source of their own: a firm keeps a record of a source, and
    // a new firm needs one.
    let curated = ctx.source_id;
    if all
        .iter()
        .filter(|r| r.source_id != curated)
        .all(|r| chosen.contains(&r.id))
    {
        return refused(
            "A firm keeps at least one of its records from a source: to move them all, \
             merge the firm instead.",
        );
    }
    if all
        .iter()
        .filter(|r| chosen.contains(&r.id))
        .all(|r| r.source_id == curated)
    {
        return refused("Curated values alone are no firm: split off records of a source.");
    }
    // Where each record goes: the firm it was linked to before, when that firm was merged
    // into this one; else one new firm for them all.
    let mut restore: HashMap<i64, Vec<&RecordRow>> = HashMap::new();
    let mut fresh: Vec<&RecordRow> = Vec::new();
    for r in all.iter().filter(|r| chosen.contains(&r.id)) {
        let before = query(
            ctx,
            "SELECT unified_id FROM record_links WHERE entity_type = 'organisation' AND \
             source_record_id = ? AND status = 'reverted' AND unified_id <> ? ORDER BY id DESC",
            vec![r.id.into(), firm.into()],
        )
        .await?;
        let mut target = None;
        for b in &before {
            let old: i64 = b.try_get_by("unified_id")?;
            let merged = query(
                ctx,
                "SELECT merged_into_id FROM organisations WHERE id = ?",
                vec![old.into()],
            )
            .await?;
            let into = merged
                .first()
                .map(|m| m.try_get_by::<Option<i64>, _>("merged_into_id"))
                .transpose()?
                .flatten();
            if into.is_some() && surviving(ctx.txn, old).await? == firm {
                target = Some(old);
                break;
            }
        }
        match target {
            Some(old) => restore.entry(old).or_default().push(r),
            None => fresh.push(r),
        }
    }
    let mut out = Split {
        restored: restore.keys().copied().collect(),
        created: None,
    };
    out.restored.sort_unstable();
    let mut moves: Vec<(i64, Vec<&RecordRow>)> = Vec::new();
    for old in &out.restored {
        let seq = ctx.seqs(1).await?;
        execute(
            ctx,
            "UPDATE organisations SET merged_into_id = NULL, change_seq = ?, updated_at = ?, \
             import_run_id = ?, source_ref = 'curation:split' WHERE id = ?",
            vec![seq.into(), at(ctx).into(), ctx.run_id.into(), (*old).into()],
        )
        .await?;
        // The merge's tombstone goes: a client that pulled since before the merge gets the
        // firm's row (its change number is new), one that applied the tombstone gets the
        // row again; a tombstone kept would be sent after the row and delete it again.
        execute(
            ctx,
            "DELETE FROM tombstones WHERE entity_type = 'organisation' AND entity_id = ? AND \
             op = 'merge'",
            vec![(*old).into()],
        )
        .await?;
        moves.push((*old, restore.remove(old).unwrap_or_default()));
    }
    if !fresh.is_empty() {
        let created = new_firm(ctx, fresh.iter().map(|r| r.id).collect()).await?;
        out.created = Some(created);
        moves.push((created, fresh));
    }
    // What stays: the sources of the records the firm keeps.
    let kept_sources: HashSet<i64> = all
        .iter()
        .filter(|r| !chosen.contains(&r.id))
        .map(|r| r.source_id)
        .collect();
    let mut touched = HashSet::from([firm]);
    for (to, records) in &moves {
        let pairs: Vec<(i64, i64)> = records.iter().map(|r| (r.id, r.firm)).collect();
        move_records(ctx, actor, &pairs, *to, "split").await?;
        for r in records {
            for table in ["organisation_identifiers", "firm_observations"] {
                let rows = ids(
                    ctx,
                    &format!(
                        "SELECT id FROM {table} WHERE organisation_id = ? AND \
                         source_record_id = ? ORDER BY id"
                    ),
                    vec![firm.into(), r.id.into()],
                )
                .await?;
                repoint(ctx, table, "organisation_id", &rows, *to).await?;
            }
            // The cluster memberships the record stated (`{key}#{slug}`).
            let prefix = format!("{}#", r.key);
            let mut stated = Vec::new();
            for m in query(
                ctx,
                "SELECT id, source_key FROM cluster_memberships WHERE organisation_id = ? AND \
                 source_id = ? ORDER BY id",
                vec![firm.into(), r.source_id.into()],
            )
            .await?
            {
                let key: Option<String> = m.try_get_by("source_key")?;
                if key.is_some_and(|k| k.starts_with(&prefix)) {
                    stated.push(m.try_get_by::<i64, _>("id")?);
                }
            }
            repoint(ctx, "cluster_memberships", "organisation_id", &stated, *to).await?;
            // Other rows of the record's source, when no record of that source stays.
            if !kept_sources.contains(&r.source_id) {
                for (table, column, sourced) in REFERENCES {
                    if !sourced {
                        continue;
                    }
                    let rows = ids(
                        ctx,
                        &format!(
                            "SELECT id FROM {table} WHERE {column} = ? AND source_id = ? \
                             ORDER BY id"
                        ),
                        vec![firm.into(), r.source_id.into()],
                    )
                    .await?;
                    repoint(ctx, table, column, &rows, *to).await?;
                }
            }
        }
        touched.insert(*to);
    }
    resurvive::<OrgFields>(ctx, touched.clone()).await?;
    ctx.figures_touched.extend(touched.iter().copied());
    let moved: Vec<i64> = chosen.iter().copied().collect();
    event(
        ctx,
        actor,
        firm,
        "split",
        None,
        json!({ "firm": firm, "records": moved }),
        json!({ "restored": out.restored, "created": out.created }),
        None,
    )
    .await?;
    for (to, records) in &moves {
        let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
        event(
            ctx,
            actor,
            *to,
            "split",
            None,
            json!({ "firm": firm }),
            json!({ "firm": to, "records": ids }),
            None,
        )
        .await?;
    }
    Ok(out)
}

/// A firm for these records, with its fields chosen from them.
async fn new_firm(ctx: &mut Ctx<'_>, records: Vec<i64>) -> anyhow::Result<i64> {
    let values: Vec<Value> = records.iter().map(|r| Value::from(*r)).collect();
    let mut columns = vec!["id", "source_id"];
    columns.extend(OrgFields::RECORD_COLUMNS);
    let rows = super::sql::find_by_keys(
        ctx.txn,
        "organisation_source_records",
        None,
        "id",
        &values,
        &columns,
    )
    .await?;
    let mut loaded = Vec::new();
    for r in &rows {
        let source: i64 = r.try_get_by("source_id")?;
        let priority = ctx.priorities.get(&source).copied().unwrap_or(100);
        loaded.push((priority, OrgFields::from_row(r)?));
    }
    let ranked: Vec<(i32, &OrgFields)> = loaded.iter().map(|(p, f)| (*p, f)).collect();
    let (values, _) = OrgFields::survive(ctx, &ranked);
    let seq = ctx.seqs(1).await?;
    insert_rows(
        ctx.txn,
        "organisations",
        OrgFields::UNIFIED_COLUMNS,
        vec![(values, prov(ctx, "split"), seq)],
    )
    .await?;
    Ok(ids_by_seq(ctx.txn, "organisations", seq, seq).await?[&seq])
}

// ---- Reviews --------------------------------------------------------------------------------

struct Review {
    record: i64,
    candidate: i64,
    kind: String,
    field: Option<String>,
}

async fn pending_review(ctx: &Ctx<'_>, id: i64) -> Result<Review, CurationError> {
    let rows = query(
        ctx,
        "SELECT source_record_id, candidate_id, status, kind, evidence FROM match_reviews \
         WHERE id = ? AND entity_type = 'organisation'",
        vec![id.into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return refused(format!("There is no review {id}."));
    };
    let status: String = row.try_get_by("status")?;
    if status != "pending" {
        return refused(format!("Review {id} was decided already: {status}."));
    }
    let evidence: Option<Json> = row.try_get_by("evidence")?;
    Ok(Review {
        record: row.try_get_by("source_record_id")?,
        candidate: row.try_get_by("candidate_id")?,
        kind: row.try_get_by("kind")?,
        field: evidence
            .as_ref()
            .and_then(|e| e["field"].as_str())
            .map(str::to_owned),
    })
}

async fn decide_review(
    ctx: &mut Ctx<'_>,
    actor: &str,
    id: i64,
    status: &str,
) -> anyhow::Result<()> {
    let seq = ctx.seqs(1).await?;
    execute(
        ctx,
        "UPDATE match_reviews SET status = ?, decided_by = ?, decided_at = ?, change_seq = ?, \
         updated_at = ? WHERE id = ?",
        vec![
            status.into(),
            actor.into(),
            at(ctx).into(),
            seq.into(),
            at(ctx).into(),
            id.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn accept(ctx: &mut Ctx<'_>, actor: &str, id: i64) -> Result<i64, CurationError> {
    let r = pending_review(ctx, id).await?;
    let firm = record_firm(ctx, r.record).await?;
    if r.kind == "conflict" {
        // The source's value replaces the curated one: the curated field is given back.
        let field = r.field.clone().unwrap_or_default();
        correct(
            ctx,
            actor,
            firm,
            &Correction {
                clear: vec![field],
                ..Default::default()
            },
        )
        .await?;
        decide_review(ctx, actor, id, "accepted").await?;
        return Ok(firm);
    }
    let candidate = surviving(ctx.txn, r.candidate).await?;
    if firm != candidate {
        merge(ctx, actor, candidate, firm, Some(id)).await?;
    }
    decide_review(ctx, actor, id, "accepted").await?;
    // The record's other candidates are answered by this one.
    let others = ids(
        ctx,
        "SELECT id FROM match_reviews WHERE source_record_id = ? AND status = 'pending' AND \
         kind = 'match' AND id <> ?",
        vec![r.record.into(), id.into()],
    )
    .await?;
    for other in others {
        decide_review(ctx, actor, other, "superseded").await?;
    }
    event(
        ctx,
        actor,
        candidate,
        "accept",
        None,
        json!({ "record": r.record, "firm": firm }),
        json!({ "firm": candidate }),
        Some(id),
    )
    .await?;
    Ok(candidate)
}

// ---- Curated values -------------------------------------------------------------------------

/// The firm's curated record (created when missing): its id and fields.
async fn curated_record(
    ctx: &mut Ctx<'_>,
    firm: i64,
    create: bool,
) -> anyhow::Result<Option<(i64, OrgFields)>> {
    let mut columns = vec!["id"];
    columns.extend(OrgFields::RECORD_COLUMNS);
    let rows = query(
        ctx,
        &format!(
            "SELECT {} FROM organisation_source_records WHERE organisation_id = ? AND \
             source_id = ? ORDER BY id",
            columns.join(", ")
        ),
        vec![firm.into(), ctx.source_id.into()],
    )
    .await?;
    if let Some(r) = rows.last() {
        return Ok(Some((r.try_get_by("id")?, OrgFields::from_row(r)?)));
    }
    if !create {
        return Ok(None);
    }
    let fields = OrgFields {
        kind: "firm".into(),
        name: String::new(),
        ..OrgFields::default()
    };
    let first = ctx.seqs(2).await?;
    // Unique for good: a firm's curated record may move with a merge and the firm come
    // back with a split.
    let key = format!("firm:{firm}:{first}");
    let values = fields.record_values();
    let hash = content_hash(&values, "");
    let mut all = vec![
        Value::from(ctx.source_id),
        Value::from(key),
        Value::from(firm),
        Value::from(hash),
    ];
    all.extend(values);
    let mut record_columns = vec!["source_id", "source_key", "organisation_id", "content_hash"];
    record_columns.extend(OrgFields::RECORD_COLUMNS);
    insert_rows(
        ctx.txn,
        "organisation_source_records",
        &record_columns,
        vec![(all, prov(ctx, "correct"), first)],
    )
    .await?;
    let id = ids_by_seq(ctx.txn, "organisation_source_records", first, first).await?[&first];
    insert_rows(
        ctx.txn,
        "record_links",
        &[
            "entity_type",
            "source_record_id",
            "unified_id",
            "method",
            "rule",
            "status",
        ],
        vec![(
            vec![
                "organisation".into(),
                id.into(),
                firm.into(),
                "manual".into(),
                "curation".into(),
                "active".into(),
            ],
            prov(ctx, "correct"),
            first + 1,
        )],
    )
    .await?;
    Ok(Some((id, fields)))
}

/// The firm's values of the curated fields, as JSON by field.
async fn firm_values(ctx: &Ctx<'_>, firm: i64) -> Result<HashMap<&'static str, Json>, DbErr> {
    let rows = query(
        ctx,
        "SELECT o.name, o.legal_form, o.address, o.website, o.status, o.industry_code, \
         o.founded_year, d.name AS district, t.name AS tehsil FROM organisations o LEFT JOIN \
         admin_areas d ON d.id = o.district_id LEFT JOIN admin_areas t ON t.id = o.tehsil_id \
         WHERE o.id = ?",
        vec![firm.into()],
    )
    .await?;
    let mut out = HashMap::new();
    if let Some(r) = rows.first() {
        for field in CURATED_FIELDS {
            let value = if field == "founded_year" {
                r.try_get_by::<Option<i32>, _>(field)?.map(Json::from)
            } else {
                r.try_get_by::<Option<String>, _>(field)?.map(Json::from)
            };
            out.insert(field, value.unwrap_or(Json::Null));
        }
    }
    Ok(out)
}

async fn correct(
    ctx: &mut Ctx<'_>,
    actor: &str,
    firm: i64,
    c: &Correction,
) -> Result<(), CurationError> {
    live_firm(ctx, firm).await?;
    for field in &c.clear {
        if !CURATED_FIELDS.contains(&field.as_str()) {
            return refused(format!(
                "{field:?} is not a curated field; they are: {}.",
                CURATED_FIELDS.join(", ")
            ));
        }
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(status) = text(&c.status)
        && !STATUSES.contains(&status.as_str())
    {
        return refused(format!(
            "{status:?} is not a status of a firm; it is one of {}.",
            STATUSES.join(", ")
        ));
    }
    if let Some(code) = text(&c.industry_code)
        && let Err(e) = hub_schema::domain::PsicCode::parse(&code)
    {
        return refused(format!("{code:?} is not an industry code: {e}"));
    }
    let before = firm_values(ctx, firm).await?;
    let Some((record, mut fields)) = curated_record(ctx, firm, true).await? else {
        return refused("The curated record could not be written.");
    };
    if let Some(name) = text(&c.name) {
        fields.name = name;
    }
    if let Some(v) = text(&c.legal_form) {
        fields.legal_form = Some(v);
    }
    if let Some(v) = text(&c.address) {
        fields.address = Some(v);
    }
    if let Some(v) = text(&c.website) {
        fields.website = Some(v);
    }
    if let Some(v) = text(&c.status) {
        fields.status = Some(v);
    }
    if let Some(v) = text(&c.industry_code) {
        fields.industry_code = Some(v);
    }
    if let Some(y) = c.founded_year {
        if !(1800..=2100).contains(&y) {
            return refused(format!("{y} is not a year a firm was founded in."));
        }
        fields.founded_year = Some(y);
    }
    if let Some(d) = text(&c.district) {
        let Some(area) = ctx.areas.district(&d, None) else {
            return refused(format!(
                "{d:?} is not a district of Pakistan the hub knows."
            ));
        };
        fields.district_id = Some(area.id);
        fields.district_text = Some(area.name.clone());
        if text(&c.tehsil).is_none() {
            fields.tehsil_id = None;
            fields.tehsil_text = None;
        }
    }
    if let Some(t) = text(&c.tehsil) {
        let district = match fields.district_id {
            Some(d) => d,
            None => {
                let rows = query(
                    ctx,
                    "SELECT district_id FROM organisations WHERE id = ?",
                    vec![firm.into()],
                )
                .await?;
                match rows
                    .first()
                    .map(|r| r.try_get_by::<Option<i64>, _>("district_id"))
                    .transpose()?
                    .flatten()
                {
                    Some(d) => d,
                    None => return refused("Give the district with the tehsil."),
                }
            }
        };
        let Some(area) = ctx.areas.tehsil(district, &t) else {
            return refused(format!("{t:?} is not a tehsil of that district."));
        };
        fields.tehsil_id = Some(area.id);
        fields.tehsil_text = Some(area.name.clone());
        if fields.district_id.is_none() {
            fields.district_id = Some(district);
        }
    }
    for field in &c.clear {
        match field.as_str() {
            "name" => fields.name = String::new(),
            "legal_form" => fields.legal_form = None,
            "address" => fields.address = None,
            "website" => fields.website = None,
            "status" => fields.status = None,
            "industry_code" => fields.industry_code = None,
            "founded_year" => fields.founded_year = None,
            "district" => {
                fields.district_id = None;
                fields.district_text = None;
                fields.tehsil_id = None;
                fields.tehsil_text = None;
            }
            "tehsil" => {
                fields.tehsil_id = None;
                fields.tehsil_text = None;
            }
            _ => {}
        }
    }
    fields.observed_on = Some(ctx.at.date_naive());
    let values = fields.record_values();
    let hash = content_hash(&values, "");
    let mut all = vec![Value::from(hash)];
    all.extend(values);
    let mut columns = vec!["content_hash"];
    columns.extend(OrgFields::RECORD_COLUMNS);
    let seq = ctx.seqs(1).await?;
    update_row(
        ctx.txn,
        "organisation_source_records",
        record,
        &columns,
        all,
        &prov(ctx, "correct"),
        seq,
    )
    .await?;
    resurvive::<OrgFields>(ctx, HashSet::from([firm])).await?;
    let after = firm_values(ctx, firm).await?;
    for field in CURATED_FIELDS {
        if before.get(field) != after.get(field) {
            event(
                ctx,
                actor,
                firm,
                "correct",
                Some(field),
                before.get(field).cloned().unwrap_or(Json::Null),
                after.get(field).cloned().unwrap_or(Json::Null),
                None,
            )
            .await?;
        }
    }
    Ok(())
}

async fn add_identifier(
    ctx: &mut Ctx<'_>,
    actor: &str,
    firm: i64,
    scheme: &str,
    raw: &str,
) -> Result<String, CurationError> {
    live_firm(ctx, firm).await?;
    let ident = Ident::parse(ctx.key, scheme, raw).map_err(CurationError::Refused)?;
    if ident.hashed {
        return refused(
            "A CNIC identifies a person, not a firm: it is not added to firms by curation.",
        );
    }
    let code = ident.scheme.code().into_owned();
    let label = ident.scheme.label();
    let held = strong_identifiers(ctx, firm).await?;
    if let Some(scheme) = strong_conflict(&held, &[(code.clone(), ident.value.clone())]) {
        return refused(format!(
            "Firm {firm} holds another value of the {}: a firm has one.",
            scheme_label(&scheme)
        ));
    }
    let others = query(
        ctx,
        "SELECT DISTINCT organisation_id FROM organisation_identifiers WHERE scheme = ? AND \
         value = ? AND organisation_id IS NOT NULL",
        vec![code.clone().into(), ident.value.clone().into()],
    )
    .await?;
    for r in &others {
        let other: i64 = r.try_get_by("organisation_id")?;
        if other == firm {
            return refused(format!("Firm {firm} holds this {label} already."));
        }
        if ident.links() {
            return refused(format!(
                "Firm {other} holds this {label}: if both are one firm, merge them."
            ));
        }
    }
    let Some((record, _)) = curated_record(ctx, firm, true).await? else {
        return refused("The curated record could not be written.");
    };
    let seq = ctx.seqs(1).await?;
    insert_rows(
        ctx.txn,
        "organisation_identifiers",
        &[
            "organisation_id",
            "source_record_id",
            "scheme",
            "value",
            "display",
            "is_hashed",
        ],
        vec![(
            vec![
                firm.into(),
                record.into(),
                code.clone().into(),
                ident.value.clone().into(),
                ident.display.clone().into(),
                false.into(),
            ],
            prov(ctx, "identifier"),
            seq,
        )],
    )
    .await?;
    event(
        ctx,
        actor,
        firm,
        "add_identifier",
        Some(&code),
        Json::Null,
        json!(ident.display),
        None,
    )
    .await?;
    Ok(code)
}

async fn set_membership(
    ctx: &mut Ctx<'_>,
    actor: &str,
    firm: i64,
    slug: &str,
    member: bool,
) -> Result<(), CurationError> {
    live_firm(ctx, firm).await?;
    let Some(&cluster) = ctx.clusters.get(slug) else {
        return refused(format!("There is no cluster {slug:?}."));
    };
    let current = ids(
        ctx,
        "SELECT id FROM cluster_memberships WHERE organisation_id = ? AND cluster_id = ? \
         ORDER BY id",
        vec![firm.into(), cluster.into()],
    )
    .await?;
    if member != current.is_empty() {
        return refused(if member {
            format!("Firm {firm} is a member of {slug} already.")
        } else {
            format!("Firm {firm} is not a member of {slug}.")
        });
    }
    if member {
        let seq = ctx.seqs(1).await?;
        insert_rows(
            ctx.txn,
            "cluster_memberships",
            &[
                "cluster_id",
                "organisation_id",
                "valid_from",
                "source_id",
                "source_key",
            ],
            vec![(
                vec![
                    cluster.into(),
                    firm.into(),
                    Some(ctx.at.date_naive()).into(),
                    ctx.source_id.into(),
                    format!("firm:{firm}:{seq}#{slug}").into(),
                ],
                prov(ctx, "membership"),
                seq,
            )],
        )
        .await?;
    } else {
        delete_rows(ctx, "cluster_memberships", "cluster_membership", &current).await?;
    }
    event(
        ctx,
        actor,
        firm,
        "membership",
        Some(slug),
        json!(!member),
        json!(member),
        None,
    )
    .await?;
    Ok(())
}

// ---- Conflicts with later imports -----------------------------------------------------------

/// The curated fields a record of another source gives another value for: `(field,
/// curated value, source value)`.
pub(crate) fn conflicts(curated: &OrgFields, other: &OrgFields) -> Vec<(&'static str, Json, Json)> {
    let mut out = Vec::new();
    let norm = |s: &str| hub_schema::domain::normalise_name(s);
    let mut text = |field: &'static str, c: &Option<String>, o: &Option<String>| {
        if let (Some(c), Some(o)) = (c, o)
            && norm(c) != norm(o)
        {
            out.push((field, json!(c), json!(o)));
        }
    };
    let name = (!curated.name.is_empty()).then(|| curated.name.clone());
    text("name", &name, &Some(other.name.clone()));
    text("legal_form", &curated.legal_form, &other.legal_form);
    text("address", &curated.address, &other.address);
    text("website", &curated.website, &other.website);
    text("status", &curated.status, &other.status);
    text(
        "industry_code",
        &curated.industry_code,
        &other.industry_code,
    );
    if let (Some(c), Some(o)) = (curated.founded_year, other.founded_year)
        && c != o
    {
        out.push(("founded_year", json!(c), json!(o)));
    }
    if let (Some(c), Some(o)) = (curated.district_id, other.district_id)
        && c != o
    {
        out.push((
            "district",
            json!(curated.district_text),
            json!(other.district_text),
        ));
    }
    if let (Some(c), Some(o)) = (curated.tehsil_id, other.tehsil_id)
        && c != o
    {
        out.push((
            "tehsil",
            json!(curated.tehsil_text),
            json!(other.tehsil_text),
        ));
    }
    out
}

/// Used by `unify::resurvive`: queues a conflict for each difference `(record, field,
/// curated value, source value)` of a record this import wrote with the firm's curated
/// values, unless the same difference was queued before.
pub(crate) async fn queue_conflicts(
    ctx: &mut Ctx<'_>,
    firm: i64,
    found: Vec<(i64, &'static str, Json, Json)>,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (record, field, mine, theirs) in found {
        let evidence = json!({ "field": field, "curated": mine, "source": theirs });
        let known = query(
            ctx,
            "SELECT evidence FROM match_reviews WHERE source_record_id = ? AND kind = \
             'conflict'",
            vec![record.into()],
        )
        .await?;
        let seen = known.iter().any(|r| {
            r.try_get_by::<Option<Json>, _>("evidence")
                .ok()
                .flatten()
                .is_some_and(|e| e == evidence)
        });
        if !seen {
            rows.push((record, evidence));
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let first = ctx.seqs(rows.len()).await?;
    let p = prov(ctx, "conflict");
    insert_rows(
        ctx.txn,
        "match_reviews",
        &[
            "entity_type",
            "kind",
            "source_record_id",
            "candidate_id",
            "score",
            "evidence",
            "status",
        ],
        rows.into_iter()
            .enumerate()
            .map(|(n, (record, evidence))| {
                (
                    vec![
                        "organisation".into(),
                        "conflict".into(),
                        record.into(),
                        firm.into(),
                        1.0f64.into(),
                        Some(evidence).into(),
                        "pending".into(),
                    ],
                    p.clone(),
                    first + n as i64,
                )
            })
            .collect(),
    )
    .await?;
    Ok(())
}

/// The (firm, cluster slug) pairs a curator took out of a cluster (`setClusterMembership`
/// with `member: false`, not undone since): an import does not put them back silently.
pub(crate) async fn removed_memberships(
    ctx: &Ctx<'_>,
    firms: &[i64],
) -> anyhow::Result<HashSet<(i64, String)>> {
    let ids: Vec<Value> = firms.iter().map(|f| Value::from(*f)).collect();
    let rows = super::sql::find_by_keys(
        ctx.txn,
        "curation_events",
        None,
        "organisation_id",
        &ids,
        &["id", "organisation_id", "action", "field", "after_value"],
    )
    .await?;
    let mut latest: HashMap<(i64, String), (i64, bool)> = HashMap::new();
    for r in &rows {
        if r.try_get_by::<String, _>("action")? != "membership" {
            continue;
        }
        let Some(slug) = r.try_get_by::<Option<String>, _>("field")? else {
            continue;
        };
        let id: i64 = r.try_get_by("id")?;
        let member = r
            .try_get_by::<Option<Json>, _>("after_value")?
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let entry = latest
            .entry((r.try_get_by("organisation_id")?, slug))
            .or_insert((id, member));
        if id >= entry.0 {
            *entry = (id, member);
        }
    }
    Ok(latest
        .into_iter()
        .filter(|(_, (_, member))| !member)
        .map(|(pair, _)| pair)
        .collect())
}
