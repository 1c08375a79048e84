//! `hub persons erase ID`: a person's personal data removed from the unified person and
//! every source record of it, in one transaction, recorded in the audit trail.
//!
//! What goes: names (and their keys), CNIC hashes and last digits, phones, e-mails, birth
//! years, a record's free attributes, survivorship notes. What stays: the rows themselves,
//! with sex and district, so anonymous counts (people trained by sex, participations)
//! stay true. Persons merged into the erased one are erased with it.
//!
//! The source records keep their `(source, key)` and content hash, and are marked
//! `erased_at`: re-importing the same file finds each record unchanged and writes
//! nothing, and a changed record of an erased key is written without its personal values
//! (see `import::unify`). Nothing brings the data back but a new record under a new key.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait as _};

use super::audit;

/// What an erasure changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The person asked for, and the persons merged into it.
    pub persons: Vec<i64>,
    pub source_records: u64,
}

/// Why an erasure could not be done.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("no person has the id {0}")]
    NotFound(String),
    #[error(
        "{0:?} is not a person's id: give the number of `hub` lists or the GraphQL `Person.id`"
    )]
    BadId(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The row id of a person given as a number or as its GraphQL global id.
pub fn person_row(id: &str) -> Result<i64, EraseError> {
    let id = id.trim();
    if let Ok(n) = id.parse::<i64>() {
        return Ok(n);
    }
    match crate::graphql::ids::decode(&async_graphql::ID(id.to_owned())) {
        Ok((kind, row)) if kind == crate::graphql::types::training::PERSON_TYPE => Ok(row),
        _ => Err(EraseError::BadId(id.to_owned())),
    }
}

fn stmt(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(backend, crate::db::placeholders(backend, sql), values)
}

/// Erases the personal data of the person `id` (see the module documentation).
pub async fn erase(db: &DatabaseConnection, id: i64, actor: &str) -> Result<Erased, EraseError> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(stmt(
            backend,
            "SELECT id FROM persons WHERE id = ? OR merged_into_id = ? ORDER BY id",
            vec![id.into(), id.into()],
        ))
        .await?;
    let persons: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get_by::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
    if !persons.contains(&id) {
        return Err(EraseError::NotFound(id.to_string()));
    }
    let list = persons
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let now = Utc::now().fixed_offset();
    let seq = crate::changes::take(&txn, 1).await?.first;
    txn.execute_raw(stmt(
        backend,
        &format!(
            "UPDATE persons SET full_name = NULL, name_key = NULL, cnic_hash = NULL, \
             cnic_last4 = NULL, phone = NULL, email = NULL, birth_year = NULL, \
             survivorship = NULL, erased_at = ?, updated_at = ?, change_seq = ? \
             WHERE id IN ({list})"
        ),
        vec![now.into(), now.into(), seq.into()],
    ))
    .await?;
    let records = txn
        .execute_raw(stmt(
            backend,
            &format!(
                "UPDATE person_source_records SET full_name = NULL, name_key = NULL, \
                 cnic_hash = NULL, cnic_last4 = NULL, phone = NULL, email = NULL, \
                 attributes = NULL, erased_at = ?, updated_at = ?, change_seq = ? \
                 WHERE person_id IN ({list})"
            ),
            vec![now.into(), now.into(), seq.into()],
        ))
        .await?
        .rows_affected();
    // Link decisions keep their method and rule, not what they compared.
    txn.execute_raw(stmt(
        backend,
        &format!(
            "UPDATE record_links SET evidence = NULL WHERE entity_type = 'person' \
             AND unified_id IN ({list})"
        ),
        vec![],
    ))
    .await?;
    audit::record(
        &txn,
        audit::kind::PERSON_ERASED,
        actor,
        serde_json::json!({ "persons": persons, "sourceRecords": records }),
    )
    .await?;
    txn.commit().await?;
    Ok(Erased {
        persons,
        source_records: records,
    })
}
