//! Access control: API keys, the audit trail, and erasure markers on person source records.
//!
//! - `api_keys`: one row per key. The secret itself is never stored: `secret_hash` is the
//!   SHA-256 of the whole key (hex), looked up on every request; `prefix` is the key's
//!   short visible start (`hub_` and 8 characters) that `hub keys list` shows to tell keys
//!   apart. `clusters` is a JSON array of cluster slugs (`NULL`: every cluster).
//! - `audit_events`: imports, key creation and revocation, denied attempts, erasures. The
//!   `detail` object never holds personal data (ids and counts, never names or values).
//! - `person_source_records.erased_at`: set by `hub persons erase`; a re-import of the
//!   same source key finds the marker and writes no personal data again.

use sea_orm_migration::prelude::*;

use super::ddl::{Col, Table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(super) fn tables() -> Vec<Table> {
    vec![
        table("api_keys")
            .col("name", Col::Text)
            .col("prefix", Col::Text)
            .col("secret_hash", Col::Text)
            .col("role", Col::Text)
            .col("pii", Col::Bool)
            .col("clusters", Col::JsonNull)
            .col("expires_at", Col::TimestampNull)
            .col("created_at", Col::Timestamp)
            .col("revoked_at", Col::TimestampNull)
            .unique(&["name"])
            .unique(&["secret_hash"]),
        table("audit_events")
            .col("at", Col::Timestamp)
            // `import`, `key.created`, `key.revoked`, `auth.denied`, `access.denied`,
            // `person.erased`.
            .col("kind", Col::Text)
            // Who: `key:NAME`, `jwt:SUBJECT`, `cli`, or `anonymous`.
            .col("actor", Col::Text)
            .col("detail", Col::JsonNull)
            .index(&["at"])
            .index(&["kind", "at"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await?;
        manager
            .alter_table(
                sea_orm_migration::prelude::Table::alter()
                    .table(Alias::new("person_source_records"))
                    .add_column(
                        ColumnDef::new(Alias::new("erased_at"))
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                sea_orm_migration::prelude::Table::alter()
                    .table(Alias::new("person_source_records"))
                    .drop_column(Alias::new("erased_at"))
                    .to_owned(),
            )
            .await?;
        drop_all(manager, tables()).await
    }
}
