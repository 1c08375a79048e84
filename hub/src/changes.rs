//! The change feed: one sequence of change numbers, handed out in commit order.
//!
//! Every insert, update, merge and delete of a data row stores the next number in the row's
//! `change_seq` column (deletes and merges in a tombstone), so that a client can ask for
//! "everything changed since N" and miss nothing. Numbers come from the single row of
//! `change_counter`, taken with an `UPDATE … RETURNING` inside the writing transaction: on
//! PostgreSQL the row lock is held until commit, so a later transaction cannot commit a
//! smaller number after a larger one became visible; SQLite has one writer at a time anyway.
//! The price is that writing transactions are serialised, which suits imports (few, large
//! transactions) and is the reason why numbers are taken in blocks, never row by row.

use sea_orm::{ConnectionTrait, DbErr, Statement};

/// A block of change numbers taken inside one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqBlock {
    /// The first number of the block.
    pub first: i64,
    /// The last number of the block.
    pub last: i64,
}

/// Takes `count` (at least 1) consecutive change numbers. Call it inside the transaction that
/// writes the rows: the numbers are only taken if that transaction commits.
pub async fn take(txn: &impl ConnectionTrait, count: i64) -> Result<SeqBlock, DbErr> {
    let count = count.max(1);
    let backend = txn.get_database_backend();
    let sql = crate::db::placeholders(
        backend,
        "UPDATE change_counter SET last_seq = last_seq + ? WHERE id = 1 RETURNING last_seq",
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [count.into()]))
        .await?
        .ok_or_else(|| {
            DbErr::RecordNotFound("change_counter has no row; run `hub migrate`".into())
        })?;
    let last: i64 = row.try_get_by("last_seq")?;
    Ok(SeqBlock {
        first: last - count + 1,
        last,
    })
}

/// The last change number handed out (0 on a new database).
pub async fn current(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT last_seq FROM change_counter WHERE id = 1",
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get_by("last_seq")?,
        None => 0,
    })
}
