//! Trade flows by HS code, flow and period: `(hsN, flow, period_start)` replaces
//! `(hsN, period_start)` for the 2-, 4- and 6-digit levels.
//!
//! A trade question names its products and, nearly always, its flow ("exports of HS 9018
//! from 2015 to 2020": the read benchmark's trade list, the aggregates by year, a cluster's
//! trade). With the flow outside the index every flow of the products and years was read
//! from the table and the other flows thrown away: for the benchmark's 1,000,000 flows the
//! trade list read 1,411 rows to keep 721. Measured on that data set, the statement alone:
//! SQLite 1.1 → 0.7 ms, PostgreSQL 0.75 → 0.61 ms of server CPU (pgbench). A question
//! without a flow still searches by the codes and filters the period inside the index; only
//! "by code, in period order" without a flow loses its order (a sort of the code's rows).
//! The number of indexes, and so the cost of an import, stays the same.
//!
//! The planner needs statistics of the new indexes (SQLite has none until `ANALYZE`): the
//! migration forgets when the database was last analysed ([`super::ANALYZED_AT_KEY`]), so
//! the analysis that follows every migration (`hub::db::analyze_if_grown`) runs again in
//! full.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The HS levels with an index each.
const LEVELS: [&str; 3] = ["hs2", "hs4", "hs6"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for level in LEVELS {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS ix_trade_flows_{level}_flow_period_start \
                 ON trade_flows ({level}, flow, period_start)"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS ix_trade_flows_{level}_period_start"
            ))
            .await?;
        }
        db.execute_unprepared(&format!(
            "DELETE FROM hub_meta WHERE key = '{}'",
            super::ANALYZED_AT_KEY
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for level in LEVELS {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS ix_trade_flows_{level}_period_start \
                 ON trade_flows ({level}, period_start)"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS ix_trade_flows_{level}_flow_period_start"
            ))
            .await?;
        }
        Ok(())
    }
}
