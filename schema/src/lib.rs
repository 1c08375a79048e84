//! The unified model of the Cluster Data Hub.
//!
//! - [`migration`]: the schema, as migrations that run unchanged on SQLite and PostgreSQL;
//! - [`entity`]: sea-orm entities, one module per table;
//! - [`domain`]: validated domain types (identifiers, codes, periods, size classes), parsed
//!   once at the edge;
//! - [`reference`]: the reference data bundled with the hub (HS, ISIC, Comtrade areas,
//!   Pakistan's admin areas).
//!
//! This crate knows nothing of HTTP, GraphQL or importers.

pub mod domain;
pub mod entity;
pub mod migration;
pub mod reference;
