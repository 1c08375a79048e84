//! Black-box tests of the `hub` binary: each test runs the real executable
//! (`CARGO_BIN_EXE_hub`) as a child process against a throwaway database and talks to it
//! through its command line, its HTTP API and the database, never through the crate's
//! Rust API.
//!
//! Layout: `support/` is the shared harness (engines, throwaway SQLite/PostgreSQL
//! databases, spawning the hub; see its module docs), `support_selftest.rs` tests the
//! harness itself, and one module per area of the hub holds the tests proper. Tests that
//! touch the database run once per engine in `support::engines()`: SQLite always,
//! PostgreSQL when its server binaries are installed (a throwaway cluster is started by the
//! test process; `HUB_TEST_REQUIRE_PG=1` makes its absence a failure, as in CI).
//!
//! Run: `cargo test -p hub --test blackbox` (or `cargo test --workspace`).

mod access;
mod datasets;
mod foundation;
mod graphql_aggregates;
mod graphql_answers;
mod graphql_figures;
mod graphql_http;
mod graphql_import;
mod graphql_query;
mod hostile_files;
mod hostile_operations;
mod hostile_requests;
mod import_attendance;
mod import_cli;
mod import_comtrade;
mod import_partial;
mod import_programme;
mod import_registry;
mod import_sdmx;
mod linkage;
mod pages;
mod plugins;
mod support;
mod support_selftest;
