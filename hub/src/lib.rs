//! The Cluster Data Hub application: storage set-up, reference and demo data, the HTTP
//! server, and the `hub` command line (the binary in `main.rs` only calls [`cli::run`]).
//!
//! Only this crate knows HTTP and GraphQL; the model lives in `hub-schema`, the importer
//! contract in `hub-plugin-sdk`.

pub mod access;
pub mod changes;
pub mod cli;
pub mod config;
pub mod datasets;
pub mod db;
pub mod demo;
pub mod graphql;
pub mod import;
pub mod metrics;
pub mod pages;
pub mod plugins;
#[cfg(test)]
mod proptests;
pub mod provenance;
pub mod reference;
pub mod rollups;
pub mod server;
pub mod telemetry;
