//! The `TOTAL` rows of trade flows (aggregate level 0) indexed by reporter, flow and period,
//! replacing the partial index on the period alone
//! (`m20261206_000005_aggregate_indexes`).
//!
//! SQLite uses a partial index only where the query constrains its leading column: on the
//! period alone, a reporter's total trade (which asks for a reporter and a flow, not a
//! period) was read through `(reporter_id, flow, period_start)` over every flow of the
//! reporter instead of the few `TOTAL` rows. Led by the reporter and the flow, the partial
//! index answers that question by a search on both engines.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_trade_flows_totals_reporter_id_flow_period_start";
const REPLACED: &str = "ix_trade_flows_totals_period_start";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {REPLACED}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {NAME} ON trade_flows (reporter_id, flow, period_start) \
             WHERE aggregate_level = 0"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {NAME}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {REPLACED} ON trade_flows (period_start) \
             WHERE aggregate_level = 0"
        ))
        .await?;
        Ok(())
    }
}
