//! Current figures with their period, and provenance a user can see.
//!
//! - `organisations` gains the current value of every figure that changes over time
//!   (`turnover_pkr`, `exports_usd`, `certifications`, beside the head counts it has) and
//!   `figures`: for each, the observation (or, for an undated figure, the source record)
//!   it was taken from, with its source and period. A firm's current figure is the one of
//!   its latest period; source priority only breaks ties within one period.
//! - `organisation_source_records` gains `website`, so that every field a source gives a
//!   firm stays visible on the source's record.
//! - `import_runs` gains `source_id`: the source an import wrote under.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, column, kind)` of the columns this migration adds.
const COLUMNS: [(&str, &str, Kind); 6] = [
    ("organisations", "turnover_pkr", Kind::Double),
    ("organisations", "exports_usd", Kind::Double),
    ("organisations", "certifications", Kind::Text),
    ("organisations", "figures", Kind::Json),
    ("organisation_source_records", "website", Kind::Text),
    ("import_runs", "source_id", Kind::BigInt),
];

#[derive(Clone, Copy)]
enum Kind {
    Double,
    Text,
    Json,
    BigInt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, kind) in COLUMNS {
            let mut def = ColumnDef::new(Alias::new(column));
            match kind {
                Kind::Double => def.double(),
                Kind::Text => def.text(),
                Kind::Json => def.json_binary(),
                Kind::BigInt => def.big_integer(),
            };
            def.null();
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(def)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_import_runs_source_id")
                    .table(Alias::new("import_runs"))
                    .col(Alias::new("source_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_import_runs_source_id")
                    .table(Alias::new("import_runs"))
                    .to_owned(),
            )
            .await?;
        for (table, column, _) in COLUMNS.into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
