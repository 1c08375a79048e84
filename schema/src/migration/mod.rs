//! Migrations of the unified model: the same Rust code renders DDL for SQLite and
//! PostgreSQL, so both engines get identical schemas.
//!
//! Migrations are append-only: once released, a migration never changes; a later change to
//! the model is a new migration file listed after the others.

mod ddl;
mod m20261126_000001_unified_model;
mod m20261126_000002_content_hash;
mod m20261205_000003_figures_and_provenance;
mod m20261205_000004_list_indexes;
mod m20261206_000005_aggregate_indexes;
mod m20261206_000006_statistics_rollups;
mod m20261206_000007_totals_index;
mod m20261206_000008_cluster_trade_rollup;
mod m20261206_000009_access_control;
mod m20261207_000010_bi_views;
mod m20261208_000011_curation;
mod m20261208_000012_trade_flow_indexes;

pub use m20261207_000010_bi_views::{VIEWS as BI_VIEWS, definitions as bi_view_definitions};

/// The `hub_meta` key holding the change number at the last `ANALYZE` (the hub's
/// `db::analyze_if_grown` reads and writes it after every migration and import). A migration
/// that adds indexes deletes it, so that the analysis that follows covers them.
pub const ANALYZED_AT_KEY: &str = "analyzed_at_change";

use sea_orm_migration::prelude::*;

/// The names of all tables of the model, in creation order.
pub fn table_names() -> Vec<&'static str> {
    let mut names = m20261126_000001_unified_model::table_names();
    names.extend(
        m20261206_000006_statistics_rollups::tables()
            .iter()
            .chain(m20261206_000008_cluster_trade_rollup::tables().iter())
            .chain(m20261206_000009_access_control::tables().iter())
            .chain(m20261208_000011_curation::tables().iter())
            .map(|t| t.name()),
    );
    names
}

/// Runs the migrations of the unified model.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_unified_model::Migration),
            Box::new(m20261126_000002_content_hash::Migration),
            Box::new(m20261205_000003_figures_and_provenance::Migration),
            Box::new(m20261205_000004_list_indexes::Migration),
            Box::new(m20261206_000005_aggregate_indexes::Migration),
            Box::new(m20261206_000006_statistics_rollups::Migration),
            Box::new(m20261206_000007_totals_index::Migration),
            Box::new(m20261206_000008_cluster_trade_rollup::Migration),
            Box::new(m20261206_000009_access_control::Migration),
            Box::new(m20261207_000010_bi_views::Migration),
            Box::new(m20261208_000011_curation::Migration),
            Box::new(m20261208_000012_trade_flow_indexes::Migration),
        ]
    }
}
