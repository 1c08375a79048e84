//! Content hashes on every row an import writes from a source record.
//!
//! A re-import must tell "unchanged" from "updated" without comparing every column of
//! every row: the pipeline hashes the values it would write for a record (not the
//! provenance columns) and keeps the hash in `content_hash`. A record whose hash equals the
//! stored one is unchanged and is not written again, so a second import of the same file
//! takes no change numbers and reports 0 inserted, 0 updated.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows are written from source records.
pub const TABLES: [&str; 16] = [
    "organisation_source_records",
    "person_source_records",
    "affiliations",
    "cluster_memberships",
    "networks",
    "network_members",
    "interventions",
    "indicator_values",
    "firm_observations",
    "courses",
    "training_events",
    "participations",
    "industrial_estates",
    "plot_allotments",
    "loans",
    "trade_flows",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(ColumnDef::new(Alias::new("content_hash")).text().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new("content_hash"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
