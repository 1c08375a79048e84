//! Indexes that let the planner read the common lists along their order and stop at the
//! page size, instead of sorting every matching row.
//!
//! - Firms (and every organisation list) by name: `(kind, name, id)`, with the name in
//!   byte order on PostgreSQL (`COLLATE "C"`, the collation lists sort and compare in), so
//!   "the first 50 firms of a cluster by name" walks the index and checks each firm's
//!   membership until the page is full.
//! - Firms by head count, largest first: `(kind, employees_total DESC NULLS LAST, id
//!   DESC)` on PostgreSQL; SQLite reads its ascending `(kind, employees_total, id)`
//!   backwards, which is the same order (NULLs sort first there, so last when read back).
//! - A firm's identifiers of one scheme: `(organisation_id, scheme, value)` replaces the
//!   index on `organisation_id` alone, which it covers. Without it SQLite, knowing nothing
//!   of the data, may pick `(scheme, value)` and read every NTN to find one firm's.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(name, PostgreSQL definition, SQLite definition)` of the indexes this migration adds.
const INDEXES: [(&str, &str, &str); 3] = [
    (
        "ix_organisations_kind_name_id",
        r#"organisations (kind, name COLLATE "C", id)"#,
        "organisations (kind, name, id)",
    ),
    (
        "ix_organisations_kind_employees_id",
        "organisations (kind, employees_total DESC NULLS LAST, id DESC)",
        "organisations (kind, employees_total, id)",
    ),
    (
        "ix_organisation_identifiers_organisation_scheme_value",
        "organisation_identifiers (organisation_id, scheme, value)",
        "organisation_identifiers (organisation_id, scheme, value)",
    ),
];

/// The index the last one replaces.
const REPLACED: (&str, &str) = (
    "ix_organisation_identifiers_organisation_id",
    "organisation_identifiers (organisation_id)",
);

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        for (name, pg, sqlite) in INDEXES {
            let on = if postgres { pg } else { sqlite };
            db.execute_unprepared(&format!("CREATE INDEX IF NOT EXISTS {name} ON {on}"))
                .await?;
        }
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {}", REPLACED.0))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {} ON {}",
            REPLACED.0, REPLACED.1
        ))
        .await?;
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
