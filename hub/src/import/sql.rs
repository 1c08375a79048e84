//! The few SQL shapes the pipeline needs, built with sea-query for both engines: find rows
//! by source key, insert many rows with provenance, update one row, read ids back by
//! change number.
//!
//! Writes go through multi-row statements (the pipeline never writes row by row through
//! the ORM), each row with its own change number, so that the ids of freshly inserted rows
//! can be read back in one query by their change-number range.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};
use sha2::{Digest as _, Sha256};

use super::Prov;

/// Bound values per statement, below SQLite's limit of 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

/// The provenance columns every data row carries, in the order [`prov_values`] gives.
const PROV_COLUMNS: [&str; 5] = [
    "import_run_id",
    "source_ref",
    "change_seq",
    "created_at",
    "updated_at",
];

/// A hash of the values a record writes, to tell an unchanged re-import from an update.
/// It covers the values, not the provenance.
pub fn content_hash(values: &[Value], extra: &str) -> String {
    use std::fmt::Write as _;

    /// Feeds formatted text straight into the hasher, without a string per value.
    struct Feed(Sha256);
    impl std::fmt::Write for Feed {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.update(s.as_bytes());
            Ok(())
        }
    }
    let mut feed = Feed(Sha256::new());
    for value in values {
        // Writing into the hasher cannot fail.
        let _ = write!(feed, "{value:?}\u{1f}");
    }
    feed.0.update(extra.as_bytes());
    hex::encode(&feed.0.finalize()[..16])
}

fn prov_values(prov: &Prov, seq: i64) -> [Value; 5] {
    [
        Value::from(prov.run_id),
        Value::from(prov.source_ref.clone()),
        Value::from(seq),
        Value::from(prov.at),
        Value::from(prov.at),
    ]
}

/// Inserts rows into `table`: `columns` then the provenance columns. Each row takes the
/// change number given with it.
pub async fn insert_rows(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &[&str],
    rows: Vec<(Vec<Value>, Prov, i64)>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let per_row = columns.len() + PROV_COLUMNS.len();
    let chunk = (MAX_BINDS / per_row).max(1);
    let backend = db.get_database_backend();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = Query::insert();
        insert.into_table(Alias::new(table)).columns(
            columns
                .iter()
                .chain(PROV_COLUMNS.iter())
                .map(|c| Alias::new(*c)),
        );
        for (values, prov, seq) in rows.by_ref().take(chunk) {
            debug_assert_eq!(values.len(), columns.len(), "{table}: one value per column");
            let all: Vec<SimpleExpr> = values
                .into_iter()
                .chain(prov_values(&prov, seq))
                .map(SimpleExpr::from)
                .collect();
            insert.values_panic(all);
        }
        db.execute_raw(backend.build(&insert)).await?;
    }
    Ok(())
}

/// Updates one row: `columns` with `values`, and the provenance of the update (the run,
/// source reference, change number and `updated_at`; `created_at` is kept).
pub async fn update_row(
    db: &impl ConnectionTrait,
    table: &str,
    id: i64,
    columns: &[&str],
    values: Vec<Value>,
    prov: &Prov,
    seq: i64,
) -> Result<(), DbErr> {
    let mut update = Query::update();
    update.table(Alias::new(table));
    for (column, value) in columns.iter().zip(values) {
        update.value(Alias::new(*column), value);
    }
    update
        .value(Alias::new("import_run_id"), prov.run_id)
        .value(Alias::new("source_ref"), prov.source_ref.clone())
        .value(Alias::new("change_seq"), seq)
        .value(Alias::new("updated_at"), prov.at)
        .and_where(Expr::col(Alias::new("id")).eq(id));
    let backend = db.get_database_backend();
    db.execute_raw(backend.build(&update)).await?;
    Ok(())
}

/// Reads `id` and `extra` columns of the rows of `table` whose change numbers lie in
/// `first..=last`, keyed by change number: how freshly inserted rows get their ids.
pub async fn ids_by_seq(
    db: &impl ConnectionTrait,
    table: &str,
    first: i64,
    last: i64,
) -> Result<HashMap<i64, i64>, DbErr> {
    let mut select = Query::select();
    select
        .from(Alias::new(table))
        .columns([Alias::new("id"), Alias::new("change_seq")])
        .and_where(Expr::col(Alias::new("change_seq")).between(first, last));
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(backend.build(&select)).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get_by::<i64, _>("change_seq")?,
                r.try_get_by::<i64, _>("id")?,
            ))
        })
        .collect()
}

/// Finds rows of `table` by `key_column IN keys` (and `source_id = source_id` when given),
/// selecting `columns`. Keys are looked up in chunks.
pub async fn find_by_keys(
    db: &impl ConnectionTrait,
    table: &str,
    source_id: Option<i64>,
    key_column: &str,
    keys: &[Value],
    columns: &[&str],
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    for chunk in keys.chunks(MAX_BINDS / 2) {
        let mut select = Query::select();
        select
            .from(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .and_where(Expr::col(Alias::new(key_column)).is_in(chunk.iter().cloned()));
        if let Some(source_id) = source_id {
            select.and_where(Expr::col(Alias::new("source_id")).eq(source_id));
        }
        out.extend(db.query_all_raw(backend.build(&select)).await?);
    }
    Ok(out)
}

/// The organisation source records of one source with these keys: key → (record id,
/// organisation id).
pub async fn org_records<'k>(
    db: &impl ConnectionTrait,
    source_id: i64,
    keys: impl IntoIterator<Item = &'k str>,
) -> Result<HashMap<String, (i64, i64)>, DbErr> {
    let keys: std::collections::HashSet<&str> = keys.into_iter().collect();
    let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
    let found = find_by_keys(
        db,
        "organisation_source_records",
        Some(source_id),
        "source_key",
        &keys,
        &["id", "source_key", "organisation_id"],
    )
    .await?;
    let mut records = HashMap::with_capacity(found.len());
    for r in &found {
        let org: Option<i64> = r.try_get_by("organisation_id")?;
        records.insert(
            r.try_get_by("source_key")?,
            (r.try_get_by("id")?, org.unwrap_or_default()),
        );
    }
    Ok(records)
}

/// The stored state of a keyed row: its id and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub hash: Option<String>,
}

/// Finds rows of a source-keyed table by `(source_id, source_key)`.
pub async fn stored_by_key(
    db: &impl ConnectionTrait,
    table: &str,
    source_id: i64,
    keys: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, Stored>, DbErr> {
    let keys: Vec<Value> = keys.into_iter().map(Value::from).collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = find_by_keys(
        db,
        table,
        Some(source_id),
        "source_key",
        &keys,
        &["id", "source_key", "content_hash"],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get_by::<String, _>("source_key")?,
                Stored {
                    id: r.try_get_by("id")?,
                    hash: r.try_get_by("content_hash")?,
                },
            ))
        })
        .collect()
}

/// Finds `organisation_identifiers` rows by scheme and value, through the `(scheme, value)`
/// index (a lookup by value alone would scan the table: the cost of every batch would grow
/// with everything imported before). Returns `(scheme, value, organisation_id)` of the rows
/// linked to an organisation.
pub async fn identifiers(
    db: &impl ConnectionTrait,
    pairs: &[(String, String)],
) -> Result<Vec<(String, String, i64)>, DbErr> {
    let backend = db.get_database_backend();
    let mut by_scheme: HashMap<&str, Vec<Value>> = HashMap::new();
    for (scheme, value) in pairs {
        by_scheme
            .entry(scheme.as_str())
            .or_default()
            .push(Value::from(value.clone()));
    }
    let mut out = Vec::new();
    for (scheme, values) in by_scheme {
        for chunk in values.chunks(MAX_BINDS / 2) {
            let mut select = Query::select();
            select
                .from(Alias::new("organisation_identifiers"))
                .columns([Alias::new("value"), Alias::new("organisation_id")])
                .and_where(Expr::col(Alias::new("scheme")).eq(scheme))
                .and_where(Expr::col(Alias::new("value")).is_in(chunk.iter().cloned()))
                .and_where(Expr::col(Alias::new("organisation_id")).is_not_null());
            for r in db.query_all_raw(backend.build(&select)).await? {
                out.push((
                    scheme.to_owned(),
                    r.try_get_by::<String, _>("value")?,
                    r.try_get_by::<i64, _>("organisation_id")?,
                ));
            }
        }
    }
    Ok(out)
}
