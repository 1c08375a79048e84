//! Rollups of the firm and training statistics: every grouping of their dimensions
//! computed ahead, so that `firmStatistics` and `trainingStatistics` read a few stored rows
//! instead of counting every firm and participation at each request.
//!
//! Each table holds one row per group of every **grouping set** (`grouping`: a bit per
//! dimension grouped by, see `hub::rollups`); a key is `NULL` where the set does not group
//! by its dimension, or where the group's value is missing. Distinct counts (persons,
//! firms, events) are exact for the grouping set they are stored under, which is why each
//! set is stored rather than added up from the finest one.
//!
//! The rows are derived data: the transaction that changes what they count recomputes them
//! (imports, the figures upgrade, reference data), and `hub_meta.statistics_rollups` holds
//! the change number they reflect; a reader that finds another number counts live.

use sea_orm_migration::prelude::*;

use super::ddl::{Col, Table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The rollup tables.
pub(super) fn tables() -> Vec<Table> {
    vec![
        table("firm_statistics_rollup")
            .col("grouping", Col::Int)
            .col("cluster", Col::TextNull)
            .col("district", Col::TextNull)
            .col("tehsil", Col::TextNull)
            .col("size_class", Col::TextNull)
            .col("industry", Col::TextNull)
            .col("firms", Col::BigInt)
            .col("firms_with_employees", Col::BigInt)
            .col("employees", Col::BigIntNull)
            .col("female_employees", Col::BigIntNull)
            .col("both_female", Col::BigIntNull)
            .col("both_total", Col::BigIntNull)
            .col("earliest_start", Col::TextNull)
            .col("latest_end", Col::TextNull)
            .col("undated", Col::BigInt)
            .index(&["grouping"]),
        table("training_statistics_rollup")
            .col("grouping", Col::Int)
            .col("cluster", Col::TextNull)
            .col("year", Col::BigIntNull)
            .col("sex", Col::TextNull)
            .col("course", Col::TextNull)
            .col("provider", Col::TextNull)
            .col("participations", Col::BigInt)
            .col("persons", Col::BigInt)
            .col("firms", Col::BigInt)
            .col("events", Col::BigInt)
            .col("completed", Col::BigInt)
            .col("completion_recorded", Col::BigInt)
            .col("scored", Col::BigInt)
            .col("gain_sum", Col::RealNull)
            .index(&["grouping"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, tables()).await
    }
}
