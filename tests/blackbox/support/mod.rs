//! Shared support for the black-box tests: database engines, throwaway databases and the
//! `hub` binary as a child process.
//!
//! * [`engines`] lists the engines to test against (SQLite always, PostgreSQL when its
//!   server binaries are installed; `HUB_TEST_REQUIRE_PG=1` turns "not installed" into a
//!   failure instead of a skip, which is what CI does).
//! * [`TestDb::fresh`] hands out a migrated database (a copy of a per-process template made
//!   once per engine with `hub migrate`), [`TestDb::empty`] an unmigrated one.
//! * [`hub`] builds a `hub` command configured for a [`TestDb`]; [`spawn`] runs a serving
//!   command and waits for its `hub: listening on ...` line; [`output`] runs a one-shot
//!   command with a timeout.
//!
//! Everything a test process creates on disk lives under one scratch directory
//! (`/tmp/hub-blackbox-XXXXXX`, see [`session`]); the PostgreSQL cluster is started by the
//! test process itself (see [`pg`]). A detached watchdog stops the cluster, kills leftover
//! `hub` children and removes the scratch directory when the test process exits, however
//! it exits (Rust statics are never dropped, so this cannot be done from a destructor).

// A shared library for many test modules: not every module uses every helper.
#![allow(dead_code)]

pub mod db;
pub mod pg;
pub mod plugins;
pub mod process;
pub mod session;

use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

// Re-exported for the test modules; not all of them are used by every build of the crate.
#[allow(unused_imports)]
pub use db::{TEST_CNIC_KEY, TestDb};
#[allow(unused_imports)]
pub use process::{
    RunningHub, create_key, demo, demo_as_analyst, demo_as_analyst_with, hub, hub_bare, hub_path,
    import_json, output, output_with_peak_rss, spawn, spawn_with_timeout,
};

/// A database engine the hub supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Lower-case name, handy in assertion messages: `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Environment variable that makes a missing PostgreSQL a test failure instead of a skip.
pub const REQUIRE_PG_ENV: &str = "HUB_TEST_REQUIRE_PG";

/// The engines to run black-box tests against: SQLite always, then PostgreSQL when its
/// server binaries (`initdb`, `pg_ctl`) are found (see [`pg::find_bin_dir`]).
///
/// Prints the choice once per test process to stderr (uncaptured). Panics when PostgreSQL
/// is missing and `HUB_TEST_REQUIRE_PG=1`.
pub fn engines() -> Vec<Engine> {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES
        .get_or_init(|| {
            let bin_dir = pg::find_bin_dir();
            let require = std::env::var(REQUIRE_PG_ENV).is_ok_and(|v| v.trim() == "1");
            match decide_engines(bin_dir.as_ref(), require) {
                Ok(engines) => {
                    let line = match &bin_dir {
                        Some(dir) => {
                            format!("blackbox: engines: sqlite, postgres ({})", dir.display())
                        }
                        None => format!(
                            "blackbox: engines: sqlite (postgres skipped: no initdb/pg_ctl \
                             on PATH or in /usr/lib/postgresql/*/bin; set {REQUIRE_PG_ENV}=1 \
                             to make this an error)"
                        ),
                    };
                    note(&line);
                    engines
                }
                Err(message) => panic!("{message}"),
            }
        })
        .clone()
}

/// The pure decision behind [`engines`]: `bin_dir` is where PostgreSQL's server binaries
/// were found, `require` whether `HUB_TEST_REQUIRE_PG=1`.
pub fn decide_engines(bin_dir: Option<&PathBuf>, require: bool) -> Result<Vec<Engine>, String> {
    match (bin_dir, require) {
        (Some(_), _) => Ok(vec![Engine::Sqlite, Engine::Postgres]),
        (None, false) => Ok(vec![Engine::Sqlite]),
        (None, true) => Err(format!(
            "blackbox: {REQUIRE_PG_ENV}=1 but the PostgreSQL server binaries (initdb, pg_ctl) \
             were found neither on PATH nor in /usr/lib/postgresql/*/bin; install the \
             `postgresql` package (Debian) or point HUB_TEST_PG_BIN at the directory \
             holding initdb"
        )),
    }
}

/// Writes one line straight to the process's stderr, bypassing the test harness's output
/// capture, so that it shows up once per run even when all tests pass.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
