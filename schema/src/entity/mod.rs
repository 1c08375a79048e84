//! sea-orm entities, one module per table.
//!
//! Generated from a PostgreSQL database migrated with [`crate::migration`], then kept as
//! code: the migrations are the source of truth, and after a new migration the entities are
//! regenerated (see ARCHITECTURE.md, "Changing the model"):
//!
//! ```text
//! sea-orm-cli generate entity -u postgres://…/db -o schema/src/entity \
//!     --ignore-tables seaql_migrations --with-prelude all
//! ```
#![allow(clippy::all, missing_docs)] // Generated code keeps sea-orm-codegen's shapes.

pub mod prelude;

pub mod admin_area_synonyms;
pub mod admin_areas;
pub mod affiliations;
pub mod api_keys;
pub mod audit_events;
pub mod change_counter;
pub mod classification_codes;
pub mod classifications;
pub mod cluster_activities;
pub mod cluster_areas;
pub mod cluster_memberships;
pub mod cluster_products;
pub mod clusters;
pub mod code_concordances;
pub mod comtrade_areas;
pub mod countries;
pub mod courses;
pub mod firm_observations;
pub mod hub_meta;
pub mod import_row_errors;
pub mod import_runs;
pub mod indicator_values;
pub mod indicators;
pub mod industrial_estates;
pub mod interventions;
pub mod loans;
pub mod match_reviews;
pub mod network_members;
pub mod networks;
pub mod organisation_identifiers;
pub mod organisation_source_records;
pub mod organisations;
pub mod participations;
pub mod person_source_records;
pub mod persons;
pub mod plot_allotments;
pub mod plots;
pub mod programmes;
pub mod record_links;
pub mod sources;
pub mod tombstones;
pub mod trade_flows;
pub mod training_events;
