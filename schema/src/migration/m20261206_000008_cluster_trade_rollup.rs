//! The rollup of `Cluster.trade`: per cluster, the flows of every code that may hold its
//! basket's trade (in every HS revision), grouped by source, period kind, aggregate level,
//! flow, reporter, partner, calendar year, classification and code at the basket's level of
//! detail (and the coarser codes above it), in columns named as those of `trade_flows`. `Cluster.trade` places each code through the concordance when it reads them;
//! the rollup only spares it reading a million flows for a few hundred groups.
//!
//! Derived data, recomputed and stamped like the statistics rollups (`hub::rollups`).

use sea_orm_migration::prelude::*;

use super::ddl::{Col, Table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(super) fn tables() -> Vec<Table> {
    vec![
        table("cluster_trade_rollup")
            .col("cluster_id", Col::BigInt)
            .col("source_id", Col::BigInt)
            .col("period_kind", Col::Text)
            .col("aggregate_level", Col::Int)
            .col("flow", Col::Text)
            .col("reporter_id", Col::BigInt)
            .col("partner_id", Col::BigInt)
            // The first day of the calendar year (the flows' own column names, so that
            // the conditions written for trade flows read the rollup as they are).
            .col("period_start", Col::Date)
            .col("classification_id", Col::BigInt)
            .col("hs2", Col::TextNull)
            .col("hs4", Col::TextNull)
            .col("hs6", Col::TextNull)
            // Always empty: broken-down rows are never added.
            .col("breakdown_key", Col::Text)
            .col("flows", Col::BigInt)
            .col("value_usd", Col::RealNull)
            .index(&["cluster_id", "flow", "source_id"]),
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
