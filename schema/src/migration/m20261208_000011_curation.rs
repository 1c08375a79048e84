//! Curation: the history of curators' changes to firms, and conflicts in the review queue.
//!
//! - `curation_events`: one row per change a curator made to a firm (a corrected field, an
//!   identifier added, a cluster membership set, a merge, a split, a match accepted or
//!   rejected), with who, when, the value before and after. Listed as the firm's history.
//!   Values are firm facts (names, addresses, identifiers, ids), never personal data:
//!   contact details are not curated here.
//! - `match_reviews.kind`: `match` (is this record this firm?) or `conflict` (a later import
//!   gave another value for a field a curator set).

use sea_orm_migration::prelude::*;

use super::ddl::{Col, Table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(super) fn tables() -> Vec<Table> {
    vec![
        table("curation_events")
            .refs_null("organisation_id", "organisations")
            // correct | add_identifier | membership | merge | split | accept | reject
            .col("action", Col::Text)
            .col("field", Col::TextNull)
            .col("before_value", Col::JsonNull)
            .col("after_value", Col::JsonNull)
            .col("actor", Col::Text)
            .col("review_id", Col::BigIntNull)
            .provenance()
            .index(&["organisation_id"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await?;
        manager
            .alter_table(
                sea_orm_migration::prelude::Table::alter()
                    .table(Alias::new("match_reviews"))
                    .add_column(
                        ColumnDef::new(Alias::new("kind"))
                            .text()
                            .not_null()
                            .default("match"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_match_reviews_candidate")
                    .table(Alias::new("match_reviews"))
                    .col(Alias::new("candidate_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_match_reviews_candidate")
                    .table(Alias::new("match_reviews"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                sea_orm_migration::prelude::Table::alter()
                    .table(Alias::new("match_reviews"))
                    .drop_column(Alias::new("kind"))
                    .to_owned(),
            )
            .await?;
        drop_all(manager, tables()).await
    }
}
