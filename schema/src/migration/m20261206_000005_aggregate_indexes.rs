//! An index for the aggregates: the `TOTAL` rows of trade flows (aggregate level 0) by
//! period, so that a reporter's total trade beside a cluster's trade is found without
//! reading every flow.
//!
//! Partial (`WHERE aggregate_level = 0`, on both engines): a plain index led by the level
//! would look selective to SQLite's planner without statistics and draw it away from the
//! HS indexes for "level 6 and heading 9018" (a first version did, and read a million
//! flows).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_trade_flows_totals_period_start";
/// The first version's index, dropped where a development database has it.
const FIRST_VERSION: &str = "ix_trade_flows_aggregate_level_period_start";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {FIRST_VERSION}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {NAME} ON trade_flows (period_start) \
             WHERE aggregate_level = 0"
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
