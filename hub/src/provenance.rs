//! Provenance of writes: every write belongs to an import run and takes change numbers.
//!
//! [`Stamp`] opens an import run inside the writing transaction, hands out change numbers
//! for the rows it writes, and closes the run with its counts. Because the run row is
//! written in the same transaction, a rolled-back import leaves no trace but the log line
//! the caller writes; a failed run that must stay visible is recorded by the caller in a
//! transaction of its own.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, Utc};
use hub_schema::entity::import_runs;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel,
};

use crate::changes::{self, SeqBlock};

/// The current time, as stored in timestamp columns.
pub fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

/// An open import run and the change numbers taken for it.
#[derive(Debug)]
pub struct Stamp {
    pub run_id: i64,
    first_seq: AtomicI64,
    last_seq: AtomicI64,
    /// (inserted, updated, unchanged) as the writer counted them.
    pub counts: (i64, i64, i64),
}

impl Stamp {
    /// Records a new import run (status `running`) inside `txn`.
    pub async fn begin(
        txn: &impl ConnectionTrait,
        importer_id: &str,
        importer_version: &str,
        file_name: Option<&str>,
    ) -> Result<Self, DbErr> {
        let run = import_runs::ActiveModel {
            importer_id: Set(importer_id.to_owned()),
            importer_version: Set(importer_version.to_owned()),
            file_name: Set(file_name.map(str::to_owned)),
            status: Set("running".into()),
            dry_run: Set(false),
            allow_partial: Set(false),
            started_at: Set(now()),
            rows_read: Set(0),
            inserted: Set(0),
            updated: Set(0),
            unchanged: Set(0),
            rejected: Set(0),
            warnings: Set(0),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(Stamp {
            run_id: run.id,
            first_seq: AtomicI64::new(0),
            last_seq: AtomicI64::new(0),
            counts: (0, 0, 0),
        })
    }

    /// Takes `count` change numbers for rows about to be written.
    pub async fn take(&self, txn: &impl ConnectionTrait, count: usize) -> Result<SeqBlock, DbErr> {
        let block = changes::take(txn, count as i64).await?;
        let _ = self
            .first_seq
            .compare_exchange(0, block.first, Ordering::SeqCst, Ordering::SeqCst);
        self.last_seq.fetch_max(block.last, Ordering::SeqCst);
        Ok(block)
    }

    /// Takes one change number.
    pub async fn next_seq(&self, txn: &impl ConnectionTrait) -> Result<i64, DbErr> {
        Ok(self.take(txn, 1).await?.first)
    }

    /// Marks the run applied, with its counts and the range of change numbers it took.
    pub async fn finish(&self, txn: &impl ConnectionTrait, rows_read: usize) -> Result<(), DbErr> {
        let first = self.first_seq.load(Ordering::SeqCst);
        let last = self.last_seq.load(Ordering::SeqCst);
        let (inserted, updated, unchanged) = self.counts;
        import_runs::ActiveModel {
            id: Set(self.run_id),
            status: Set("applied".into()),
            finished_at: Set(Some(now())),
            rows_read: Set(rows_read as i64),
            inserted: Set(inserted),
            updated: Set(updated),
            unchanged: Set(unchanged),
            first_change_seq: Set((first > 0).then_some(first)),
            last_change_seq: Set((last > 0).then_some(last)),
            ..Default::default()
        }
        .update(txn)
        .await?;
        Ok(())
    }
}

/// Inserts rows in multi-row statements of a size both engines accept (SQLite allows 32,766
/// bound values per statement). Returns the number of rows inserted.
pub async fn insert_chunked<A>(txn: &impl ConnectionTrait, rows: Vec<A>) -> Result<usize, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let total = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(500).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(total)
}
