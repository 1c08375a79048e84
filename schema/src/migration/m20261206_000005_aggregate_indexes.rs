//! An index for the aggregates: trade flows by aggregate level and period, so that the
//! `TOTAL` rows (level 0) of a reporter's total trade, beside a cluster's trade, are found
//! without reading every flow.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_trade_flows_aggregate_level_period_start";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {NAME} ON trade_flows (aggregate_level, period_start)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {NAME}"))
            .await?;
        Ok(())
    }
}
