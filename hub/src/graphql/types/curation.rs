//! Curation over GraphQL: the review queue of record linkage (`matchReviews`), the
//! decisions on it (`acceptMatch`, `rejectMatch`), merging and splitting firms
//! (`mergeFirms`, `splitFirm`), curated values (`correctFirm`, `addFirmIdentifier`,
//! `setClusterMembership`), a firm's history (`Firm.history`) and how its records were linked
//! (`SourceRecord.links`).
//!
//! Decisions are for curators and admins (`FORBIDDEN` otherwise); the queue is for them
//! too. Every decision is applied by [`crate::import::curate`] in one transaction.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, QueryResult, Statement, Value};

use super::firm::Firm;
use super::firm_details::SourceRecord;
use super::import_file::ImportSetup;
use crate::graphql::connection::load_row;
use crate::graphql::list::{bad_input, internal};
use crate::graphql::policy::Protected;
use crate::graphql::{ids, principal_of, require};
use crate::import::curate::{Correction, CurationError, Curator};

/// The global-id type name of reviews.
pub const REVIEW_TYPE: &str = "MatchReview";

/// What a review asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReviewKind {
    /// Is this source record the candidate firm? (record linkage scored the pair between
    /// the thresholds).
    Match,
    /// A later import gave another value for a field a curator set: keep the curated value
    /// (reject) or take the source's (accept)?
    Conflict,
}

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReviewStatus {
    Pending,
    Accepted,
    Rejected,
    /// Answered by another decision (the record's other candidate was accepted).
    Superseded,
}

impl ReviewStatus {
    fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Accepted => "accepted",
            ReviewStatus::Rejected => "rejected",
            ReviewStatus::Superseded => "superseded",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "accepted" => ReviewStatus::Accepted,
            "rejected" => ReviewStatus::Rejected,
            "superseded" => ReviewStatus::Superseded,
            _ => ReviewStatus::Pending,
        }
    }
}

/// A pair waiting for (or decided by) a curator: a source record and a candidate firm,
/// with the score and the evidence of the comparison.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct MatchReview {
    #[graphql(skip)]
    pub row_id: i64,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    /// The match probability (0 to 1) record linkage gave the pair; 1 for a conflict.
    pub score: f64,
    /// How the pair compared, field by field (`name`: `exact`, `one_edit`, `close` or
    /// `different`; `district`, `tehsil`, `phone`, `address`: `agree`, `partial`,
    /// `disagree` or `missing`), the weights and match weight; for a conflict the field,
    /// the curated value and the source's. Levels only: never a phone number.
    pub evidence: Option<Json<serde_json::Value>>,
    /// Who decided (`key:NAME`, `jwt:SUBJECT`), when decided.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// When the pair was queued.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub record_id: i64,
    #[graphql(skip)]
    pub candidate_id: i64,
}

#[ComplexObject]
impl MatchReview {
    /// The global id, for `acceptMatch` and `rejectMatch`.
    async fn id(&self) -> ID {
        ids::encode(REVIEW_TYPE, self.row_id)
    }

    /// The source record in question, with its source and where it was read.
    async fn record(&self, ctx: &Context<'_>) -> Result<Option<SourceRecord>> {
        load_row::<SourceRecord>(ctx, Some(self.record_id)).await
    }

    /// The firm the record now belongs to (its own firm while the review is pending).
    async fn record_firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let firm = one_i64(
            db,
            "SELECT organisation_id AS id FROM organisation_source_records WHERE id = ?",
            self.record_id,
        )
        .await?;
        load_row::<Firm>(ctx, firm).await
    }

    /// The candidate firm (followed through merges), for a match; the firm whose curated
    /// value is in question, for a conflict.
    async fn candidate(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        let db = ctx.data::<DatabaseConnection>()?;
        let id = crate::import::curate::surviving(db, self.candidate_id)
            .await
            .map_err(internal)?;
        load_row::<Firm>(ctx, Some(id)).await
    }

    /// The candidate's record the best comparison was with.
    async fn candidate_record(&self, ctx: &Context<'_>) -> Result<Option<SourceRecord>> {
        let id = self
            .evidence
            .as_ref()
            .and_then(|e| e.0["candidate_record"].as_i64());
        load_row::<SourceRecord>(ctx, id).await
    }
}

async fn one_i64(db: &DatabaseConnection, sql: &str, id: i64) -> Result<Option<i64>> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(backend, sql),
            [Value::from(id)],
        ))
        .await
        .map_err(internal)?;
    Ok(match row {
        Some(r) => r.try_get_by::<Option<i64>, _>("id").map_err(internal)?,
        None => None,
    })
}

fn utc(row: &QueryResult, column: &str) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    // A timestamp is text on SQLite and `timestamptz` on PostgreSQL.
    if let Ok(v) = row.try_get_by::<Option<chrono::DateTime<chrono::FixedOffset>>, _>(column) {
        return Ok(v.map(|t| t.with_timezone(&Utc)));
    }
    let text: Option<String> = row.try_get_by(column)?;
    Ok(text
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc)))
}

const REVIEW_COLUMNS: &str = "id, kind, status, score, evidence, decided_by, decided_at, \
                              created_at, source_record_id, candidate_id";

fn review_of(row: &QueryResult) -> Result<MatchReview, sea_orm::DbErr> {
    let kind: String = row.try_get_by("kind")?;
    Ok(MatchReview {
        row_id: row.try_get_by("id")?,
        kind: if kind == "conflict" {
            ReviewKind::Conflict
        } else {
            ReviewKind::Match
        },
        status: ReviewStatus::parse(&row.try_get_by::<String, _>("status")?),
        score: row.try_get_by("score")?,
        evidence: row
            .try_get_by::<Option<serde_json::Value>, _>("evidence")?
            .map(Json),
        decided_by: row.try_get_by("decided_by")?,
        decided_at: utc(row, "decided_at")?,
        created_at: utc(row, "created_at")?.unwrap_or_default(),
        record_id: row.try_get_by("source_record_id")?,
        candidate_id: row.try_get_by("candidate_id")?,
    })
}

async fn review_by_id(db: &DatabaseConnection, id: i64) -> Result<MatchReview> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            crate::db::placeholders(
                backend,
                &format!("SELECT {REVIEW_COLUMNS} FROM match_reviews WHERE id = ?"),
            ),
            [Value::from(id)],
        ))
        .await
        .map_err(internal)?
        .ok_or_else(|| bad_input(format!("There is no review {id}.")))?;
    review_of(&row).map_err(internal)
}

/// A page of reviews, oldest first.
#[derive(Debug, Clone, SimpleObject)]
pub struct MatchReviewPage {
    pub nodes: Vec<MatchReview>,
    /// Reviews of this status and kind in all.
    pub total_count: i64,
    /// Pass the last node's id as `after` for the next page; null on the last page.
    pub end_cursor: Option<ID>,
}

/// One change a curator made to a firm.
#[derive(Debug, Clone, SimpleObject)]
pub struct CurationEvent {
    /// `correct`, `add_identifier`, `membership`, `merge`, `split`, `accept` or `reject`.
    pub action: String,
    /// The field corrected, the scheme added, the cluster's slug.
    pub field: Option<String>,
    /// The value before and after (for a merge or split, the firms and records moved).
    pub before: Option<Json<serde_json::Value>>,
    pub after: Option<Json<serde_json::Value>>,
    /// Who (`key:NAME`, `jwt:SUBJECT`): shown to curators and admins only (a JWT's
    /// subject may be a person's e-mail address); when.
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
    /// The review decided, when the change answered one.
    pub review: Option<ID>,
}

/// The history of a firm's curation, oldest first (analysts and above).
pub async fn history(ctx: &Context<'_>, firm: i64) -> Result<Vec<CurationEvent>> {
    if !ctx_allowed(ctx, Protected::ImportRuns) {
        return Ok(Vec::new());
    }
    let curator_sees = ctx_allowed(ctx, Protected::RunImports);
    let rows = rows_of(
        ctx,
        "SELECT action, field, before_value, after_value, actor, created_at, review_id FROM \
         curation_events WHERE organisation_id = ? ORDER BY id",
        firm,
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CurationEvent {
                action: r.try_get_by("action")?,
                field: r.try_get_by("field")?,
                before: r
                    .try_get_by::<Option<serde_json::Value>, _>("before_value")?
                    .map(Json),
                after: r
                    .try_get_by::<Option<serde_json::Value>, _>("after_value")?
                    .map(Json),
                actor: curator_sees
                    .then(|| r.try_get_by::<String, _>("actor"))
                    .transpose()?,
                at: utc(r, "created_at")?.unwrap_or_default(),
                review: r
                    .try_get_by::<Option<i64>, _>("review_id")?
                    .map(|id| ids::encode(REVIEW_TYPE, id)),
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(internal)
}

/// How a source record came to its firm.
#[derive(Debug, Clone, SimpleObject)]
pub struct RecordLink {
    /// `strong_identifier`, `score`, `manual` or `new` (the record founded the firm).
    pub method: String,
    /// The scheme that linked it, `fellegi_sunter`, or the curator's action (`merge`,
    /// `split`, `curation`).
    pub rule: Option<String>,
    /// The match probability of a link by score.
    pub score: Option<f64>,
    pub evidence: Option<Json<serde_json::Value>>,
    /// `active` or `reverted`.
    pub status: String,
    /// The curator who made or reverted it: shown to curators and admins only.
    pub decided_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Every link a source record has had, oldest first (analysts and above).
pub async fn links(ctx: &Context<'_>, record: i64) -> Result<Vec<RecordLink>> {
    if !ctx_allowed(ctx, Protected::ImportRuns) {
        return Ok(Vec::new());
    }
    let curator_sees = ctx_allowed(ctx, Protected::RunImports);
    let rows = rows_of(
        ctx,
        "SELECT method, rule, score, evidence, status, decided_by, created_at FROM \
         record_links WHERE entity_type = 'organisation' AND source_record_id = ? ORDER BY id",
        record,
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RecordLink {
                method: r.try_get_by("method")?,
                rule: r.try_get_by("rule")?,
                score: r.try_get_by("score")?,
                evidence: r
                    .try_get_by::<Option<serde_json::Value>, _>("evidence")?
                    .map(Json),
                status: r.try_get_by("status")?,
                decided_by: if curator_sees {
                    r.try_get_by("decided_by")?
                } else {
                    None
                },
                created_at: utc(r, "created_at")?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(internal)
}

/// The rows of a statement with one id parameter.
async fn rows_of(ctx: &Context<'_>, sql: &str, id: i64) -> Result<Vec<QueryResult>> {
    let db = ctx.data::<DatabaseConnection>()?;
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        crate::db::placeholders(backend, sql),
        [Value::from(id)],
    ))
    .await
    .map_err(internal)
}

fn ctx_allowed(ctx: &Context<'_>, what: Protected) -> bool {
    use crate::graphql::NodeContext as _;
    ctx.allowed(what)
}

/// Root fields of curation.
#[derive(Debug, Default)]
pub struct CurationQuery;

#[Object]
impl CurationQuery {
    /// The review queue: pairs record linkage could not decide, and conflicts of later
    /// imports with curated values; oldest first. Curators and admins only.
    async fn match_reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ReviewStatus::Pending")] status: ReviewStatus,
        kind: Option<ReviewKind>,
        #[graphql(default = 50, desc = "At most 500.")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<ID>,
    ) -> Result<MatchReviewPage> {
        require(ctx, Protected::RunImports, "matchReviews").await?;
        let db = ctx.data::<DatabaseConnection>()?;
        let backend = db.get_database_backend();
        let first = first.clamp(0, 500) as i64;
        let after = match &after {
            Some(id) => ids::decode_as(id, REVIEW_TYPE)?,
            None => 0,
        };
        let mut filter = "entity_type = 'organisation' AND status = ?".to_owned();
        let mut values = vec![Value::from(status.as_str())];
        if let Some(kind) = kind {
            filter.push_str(" AND kind = ?");
            values.push(Value::from(match kind {
                ReviewKind::Match => "match",
                ReviewKind::Conflict => "conflict",
            }));
        }
        let total = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    &format!("SELECT COUNT(*) AS n FROM match_reviews WHERE {filter}"),
                ),
                values.clone(),
            ))
            .await
            .map_err(internal)?
            .map(|r| r.try_get_by::<i64, _>("n"))
            .transpose()
            .map_err(internal)?
            .unwrap_or(0);
        let mut page_values = values;
        page_values.push(Value::from(after));
        page_values.push(Value::from(first + 1));
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                crate::db::placeholders(
                    backend,
                    &format!(
                        "SELECT {REVIEW_COLUMNS} FROM match_reviews WHERE {filter} AND id > ? \
                         ORDER BY id LIMIT ?"
                    ),
                ),
                page_values,
            ))
            .await
            .map_err(internal)?;
        let mut nodes = rows
            .iter()
            .map(review_of)
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        let more = nodes.len() as i64 > first;
        nodes.truncate(first as usize);
        let end_cursor = more
            .then(|| nodes.last().map(|n| ids::encode(REVIEW_TYPE, n.row_id)))
            .flatten();
        Ok(MatchReviewPage {
            nodes,
            total_count: total,
            end_cursor,
        })
    }
}

/// Corrected values of a firm's fields; a field left out keeps its value.
#[derive(Debug, Clone, InputObject)]
pub struct FirmCorrection {
    pub name: Option<String>,
    pub legal_form: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    /// `active`, `closed`, `inactive` or `unknown`.
    pub status: Option<String>,
    /// An ISIC Rev.4 class or PSIC sub-class.
    pub industry_code: Option<String>,
    pub founded_year: Option<i32>,
    /// A district's name (or a known synonym).
    pub district: Option<String>,
    /// A tehsil's name, in the district given or the firm's district.
    pub tehsil: Option<String>,
    /// Curated fields to give back to the sources (`name`, `legal_form`, `address`,
    /// `website`, `status`, `industry_code`, `founded_year`, `district`, `tehsil`).
    #[graphql(default)]
    pub clear: Vec<String>,
}

/// The firms a split left.
#[derive(Debug, Clone, SimpleObject)]
pub struct SplitResult {
    /// The firm split.
    pub firm: Option<Firm>,
    /// Firms restored from an earlier merge, each with its records back.
    pub restored: Vec<Firm>,
    /// The new firm of the records that had no firm before.
    pub created: Option<Firm>,
}

/// Curators' decisions.
#[derive(Debug, Default)]
pub struct CurationMutation;

/// Runs one curator's decision: refused below curator (`FORBIDDEN`); a refusal of the
/// decision itself is `BAD_USER_INPUT`.
async fn decide<T>(
    ctx: &Context<'_>,
    doing: &str,
    op: impl AsyncFnOnce(&Curator<'_>) -> Result<T, CurationError>,
) -> Result<T> {
    require(ctx, Protected::RunImports, doing).await?;
    let setup = ctx
        .data_opt::<Arc<ImportSetup>>()
        .cloned()
        .ok_or_else(|| internal("This server is not set up to curate."))?;
    let curator = Curator {
        db: ctx.data::<DatabaseConnection>()?,
        env: setup.env(),
        actor: principal_of(ctx).actor,
    };
    op(&curator).await.map_err(curation_error)
}

fn curation_error(e: CurationError) -> async_graphql::Error {
    match e {
        CurationError::Refused(message) => bad_input(message),
        CurationError::Internal(e) => internal(e),
    }
}

fn firm_id(id: &ID) -> Result<i64> {
    ids::decode_as(id, super::firm::TYPE)
}

async fn firm(ctx: &Context<'_>, id: i64) -> Result<Firm> {
    load_row::<Firm>(ctx, Some(id))
        .await?
        .ok_or_else(|| bad_input(format!("Firm {id} cannot be read after the change.")))
}

#[Object]
impl CurationMutation {
    /// Accepts a pending review. A match: the record's firm is merged into the candidate
    /// (the candidate is returned). A conflict: the curated value is given back and the
    /// source's value counts again.
    async fn accept_match(&self, ctx: &Context<'_>, id: ID) -> Result<MatchReview> {
        let review = ids::decode_as(&id, REVIEW_TYPE)?;
        let db = ctx.data::<DatabaseConnection>()?;
        decide(ctx, "acceptMatch", async |c| c.accept(review).await).await?;
        review_by_id(db, review).await
    }

    /// Rejects a pending review. A match: the record and the candidate are different
    /// firms; the pair is remembered and not proposed again. A conflict: the curated value
    /// stays.
    async fn reject_match(&self, ctx: &Context<'_>, id: ID) -> Result<MatchReview> {
        let review = ids::decode_as(&id, REVIEW_TYPE)?;
        let db = ctx.data::<DatabaseConnection>()?;
        decide(ctx, "rejectMatch", async |c| c.reject(review).await).await?;
        review_by_id(db, review).await
    }

    /// Merges firm `from` into firm `into`: its source records, identifiers, figures and
    /// every reference move; `from` is merged away (a tombstone in the change feed).
    /// Refused when the firms hold different values of one strong identifier scheme (NTN,
    /// registry unit number, SECP, STRN).
    async fn merge_firms(&self, ctx: &Context<'_>, into: ID, from: ID) -> Result<Firm> {
        let (into, from) = (firm_id(&into)?, firm_id(&from)?);
        decide(ctx, "mergeFirms", async |c| c.merge_firms(into, from).await).await?;
        firm(ctx, into).await
    }

    /// Splits source records off a firm: each record goes back to the firm it belonged to
    /// before a merge (restored), the others together to a new firm, with the
    /// identifiers, figures and references that came from them.
    async fn split_firm(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "Ids of the firm's source records (`Firm.sourceRecords`).")]
        source_records: Vec<ID>,
    ) -> Result<SplitResult> {
        let firm_row = firm_id(&id)?;
        let records = source_records
            .iter()
            .map(|r| ids::decode_as(r, super::firm_details::SOURCE_RECORD_TYPE))
            .collect::<Result<Vec<_>>>()?;
        let split = decide(ctx, "splitFirm", async |c| {
            c.split_firm(firm_row, records).await
        })
        .await?;
        let mut restored = Vec::new();
        for id in split.restored {
            restored.push(firm(ctx, id).await?);
        }
        let created = match split.created {
            Some(id) => Some(firm(ctx, id).await?),
            None => None,
        };
        Ok(SplitResult {
            firm: load_row::<Firm>(ctx, Some(firm_row)).await?,
            restored,
            created,
        })
    }

    /// Corrects fields of a firm. The values are curated: they outrank every source, and a
    /// later import with other values puts a conflict in the review queue instead of
    /// changing the firm. Each change is in the firm's history.
    async fn correct_firm(&self, ctx: &Context<'_>, id: ID, set: FirmCorrection) -> Result<Firm> {
        let firm_row = firm_id(&id)?;
        let correction = Correction {
            name: set.name,
            legal_form: set.legal_form,
            address: set.address,
            website: set.website,
            status: set.status,
            industry_code: set.industry_code,
            founded_year: set.founded_year,
            district: set.district,
            tehsil: set.tehsil,
            clear: set.clear,
        };
        decide(ctx, "correctFirm", async |c| {
            c.correct(firm_row, correction).await
        })
        .await?;
        firm(ctx, firm_row).await
    }

    /// Adds an identifier (scheme `PK-NTN`, `PK-SEC`, `PK-STRN`, `psic-punjab-unit`,
    /// `chamber-membership`, …) to a firm, as a curated value. Refused when the firm holds
    /// another value of the scheme, or another firm holds this one (merge them instead).
    async fn add_firm_identifier(
        &self,
        ctx: &Context<'_>,
        id: ID,
        scheme: String,
        value: String,
    ) -> Result<Firm> {
        let firm_row = firm_id(&id)?;
        decide(ctx, "addFirmIdentifier", async |c| {
            c.add_identifier(firm_row, &scheme, &value).await
        })
        .await?;
        firm(ctx, firm_row).await
    }

    /// Makes a firm a member of a cluster (by slug), or (`member: false`) ends every
    /// membership of the firm in the cluster.
    async fn set_cluster_membership(
        &self,
        ctx: &Context<'_>,
        id: ID,
        cluster: String,
        member: bool,
    ) -> Result<Firm> {
        let firm_row = firm_id(&id)?;
        decide(ctx, "setClusterMembership", async |c| {
            c.set_membership(firm_row, &cluster, member).await
        })
        .await?;
        firm(ctx, firm_row).await
    }
}
