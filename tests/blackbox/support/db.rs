//! Throwaway databases: [`TestDb::fresh`] (migrated) and [`TestDb::empty`] (unmigrated).
//!
//! A fresh database is a copy of a per-process, per-engine template made once by running
//! `hub migrate` (so migrations run once per test binary, not once per test):
//!
//! * SQLite: the template is a data directory `<scratch>/sqlite-template-XXXX/` holding
//!   `hub.sqlite`; each fresh database is a new temporary directory into which the
//!   template directory's files are copied (`hub.sqlite`, a `-wal` file if the hub left one;
//!   never `-shm`, which SQLite rebuilds).
//! * PostgreSQL: the template is the database `hub_template` in the test cluster; each
//!   fresh database is `CREATE DATABASE t_<n> TEMPLATE hub_template`, dropped again
//!   (`WITH (FORCE)`) when the [`TestDb`] is dropped; files `hub migrate` left in the
//!   template's data directory (if any) are copied into the fresh data directory.
//!
//! All databases, SQLite copies included, use the same test-only CNIC key
//! [`TEST_CNIC_KEY`]: the hub records the key's fingerprint in the database and refuses to
//! open it with another key.
//!
//! Query helpers use the engines' command-line clients — `psql` (installed with the
//! PostgreSQL server) and `sqlite3` (the `sqlite3` package; `.ci/run` installs it) — so
//! that they read the database from outside, like any other client, and print text the
//! same way on both engines (`|` between columns, one row a line, NULL as empty).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Engine, pg, process, session};

/// The CNIC key every test database is configured with (test-only, 32 bytes in hex).
pub const TEST_CNIC_KEY: &str = "7e57c0de7e57c0de7e57c0de7e57c0de7e57c0de7e57c0de7e57c0de7e57c0de";

/// File name of the SQLite database inside a data directory (the hub's default).
pub const SQLITE_FILE: &str = "hub.sqlite";

/// Name of the PostgreSQL template database.
pub const PG_TEMPLATE: &str = "hub_template";

/// A database for one test, with its own data directory.
#[derive(Debug)]
pub struct TestDb {
    pub engine: Engine,
    /// Value of `HUB__DATABASE__URL`.
    pub url: String,
    /// Value of `HUB__DATA_DIR` (for SQLite, also where `hub.sqlite` lives).
    pub data_dir: tempfile::TempDir,
    /// PostgreSQL: the database name in the test cluster.
    pg_database: Option<String>,
}

static NEXT_DB: AtomicUsize = AtomicUsize::new(1);

impl TestDb {
    /// A migrated database with reference data: a copy of the engine's template (made with
    /// `hub migrate` on first use; panics with the hub's output if that fails).
    pub fn fresh(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                static TEMPLATE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
                let dir = TEMPLATE.get_or_init(make_sqlite_template);
                let dir = dir.as_ref().unwrap_or_else(|e| panic!("{e}"));
                TestDb::copy_of_sqlite(dir)
            }
            Engine::Postgres => {
                static TEMPLATE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
                let dir = TEMPLATE.get_or_init(make_pg_template);
                let dir = dir.as_ref().unwrap_or_else(|e| panic!("{e}"));
                let db = TestDb::copy_of_pg(PG_TEMPLATE);
                copy_dir(dir, db.data_dir.path()).unwrap_or_else(|e| {
                    panic!(
                        "blackbox: copying {} to {}: {e}",
                        dir.display(),
                        db.data_path().display()
                    )
                });
                db
            }
        }
    }

    /// A newly created, unmigrated database (SQLite: the file does not exist yet; the URL
    /// has `mode=rwc`, so the hub creates it).
    pub fn empty(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                let data_dir = session::tempdir("db-");
                TestDb {
                    engine,
                    url: sqlite_url(&data_dir.path().join(SQLITE_FILE)),
                    data_dir,
                    pg_database: None,
                }
            }
            Engine::Postgres => TestDb::new_pg(None),
        }
    }

    /// A copy of a SQLite template data directory (its regular files, except `*-shm`).
    pub fn copy_of_sqlite(template_dir: &Path) -> TestDb {
        let data_dir = session::tempdir("db-");
        copy_dir(template_dir, data_dir.path()).unwrap_or_else(|e| {
            panic!(
                "blackbox: copying {} to {}: {e}",
                template_dir.display(),
                data_dir.path().display()
            )
        });
        TestDb {
            engine: Engine::Sqlite,
            url: sqlite_url(&data_dir.path().join(SQLITE_FILE)),
            data_dir,
            pg_database: None,
        }
    }

    /// A new database in the test cluster created from template database `template`.
    pub fn copy_of_pg(template: &str) -> TestDb {
        TestDb::new_pg(Some(template))
    }

    fn new_pg(template: Option<&str>) -> TestDb {
        let cluster = pg::cluster();
        let name = format!("t_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
        cluster
            .create_database(&name, template)
            .unwrap_or_else(|e| panic!("blackbox: creating database {name}: {e}"));
        TestDb {
            engine: Engine::Postgres,
            url: cluster.url(&name),
            data_dir: session::tempdir("db-"),
            pg_database: Some(name),
        }
    }

    /// The hub's configuration for this database: `HUB__DATABASE__URL`, `HUB__DATA_DIR`,
    /// `HUB__SECURITY__CNIC_KEY`.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("HUB__DATABASE__URL".into(), self.url.clone()),
            (
                "HUB__DATA_DIR".into(),
                self.data_dir.path().to_string_lossy().into_owned(),
            ),
            ("HUB__SECURITY__CNIC_KEY".into(), TEST_CNIC_KEY.into()),
        ]
    }

    pub fn data_path(&self) -> &Path {
        self.data_dir.path()
    }

    /// SQLite: the database file (it may not exist yet for [`TestDb::empty`]).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.engine == Engine::Sqlite).then(|| self.data_dir.path().join(SQLITE_FILE))
    }

    /// PostgreSQL: the database's name in the test cluster.
    pub fn pg_database(&self) -> Option<&str> {
        self.pg_database.as_deref()
    }

    /// PostgreSQL only: runs `sql` with `psql` in this database (see
    /// [`pg::PgCluster::try_psql`] for the output format). Panics on SQL errors.
    pub fn psql(&self, sql: &str) -> String {
        let db = self
            .pg_database
            .as_deref()
            .unwrap_or_else(|| panic!("blackbox: TestDb::psql on a {} database", self.engine));
        pg::cluster().psql(db, sql)
    }

    /// Runs `sql` (one or more statements) with the engine's command-line client and
    /// returns the output of the last statement: one row a line, columns separated by `|`,
    /// NULL as an empty string, no trailing newline. Panics on errors. Values print the
    /// way each engine prints them (booleans: `t`/`f` on PostgreSQL, `1`/`0` on SQLite).
    pub fn query(&self, sql: &str) -> String {
        self.try_query(sql).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`query`](Self::query) returning errors (e.g. to check a table does not exist).
    pub fn try_query(&self, sql: &str) -> Result<String, String> {
        match &self.pg_database {
            Some(db) => pg::cluster().try_psql(db, sql),
            None => sqlite3(&self.data_dir.path().join(SQLITE_FILE), sql),
        }
    }

    /// The change counter and the row count of each of `tables`, as one string: equal
    /// before and after a command when it wrote nothing.
    pub fn fingerprint(&self, tables: &[&str]) -> String {
        let mut sql = String::from("SELECT (SELECT last_seq FROM change_counter)");
        for t in tables {
            sql.push_str(&format!(" || ',' || (SELECT count(*) FROM {t})"));
        }
        self.query_scalar(&sql)
    }

    /// A single integer, e.g. a `count(*)`.
    pub fn count(&self, sql: &str) -> i64 {
        self.query_scalar(sql)
            .parse()
            .unwrap_or_else(|e| panic!("blackbox: {sql:?} is not an integer: {e}"))
    }

    /// [`query`](Self::query) for a single value: panics when the output has more than
    /// one line. An empty string stands for NULL, `''` or no row at all.
    pub fn query_scalar(&self, sql: &str) -> String {
        let out = self.query(sql);
        assert!(
            !out.contains('\n'),
            "blackbox: query_scalar expected one row from {sql:?}, got {out:?}"
        );
        out
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(db) = &self.pg_database {
            // Best effort: the whole cluster goes away with the test process anyway.
            let _ = pg::cluster().drop_database(db);
        }
    }
}

/// `sqlite://<path>?mode=rwc`.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Runs `sql` against the SQLite file `path` with the `sqlite3` CLI.
pub fn sqlite3(path: &Path, sql: &str) -> Result<String, String> {
    let mut cmd = Command::new("sqlite3");
    cmd.args(["-batch", "-bail", "-noheader", "-list", "-nullvalue", ""])
        .args(["-cmd", ".timeout 10000"])
        .arg(path)
        .arg(sql)
        .stdin(Stdio::null());
    let out = cmd.output().map_err(|e| {
        format!(
            "blackbox: running the sqlite3 CLI ({e}); install it (Debian: apt-get install sqlite3)"
        )
    })?;
    if out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.ends_with('\n') {
            text.pop();
        }
        Ok(text)
    } else {
        Err(format!(
            "sqlite3 {} failed ({}) on:\n{sql}\n--- stderr ---\n{}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Copies the regular files and directories of `from` into `to` (which exists), skipping
/// SQLite's `*-shm` files.
pub fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() && !name.to_string_lossy().ends_with("-shm") {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Runs `hub migrate` with `env`; the error carries the hub's output.
fn migrate(env: &[(String, String)], cwd: &Path) -> Result<(), String> {
    let mut cmd = process::hub_bare();
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .arg("migrate");
    let out = process::try_output(&mut cmd, process::COMMAND_TIMEOUT)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`hub migrate` failed ({}): {cmd:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim_end(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

fn make_sqlite_template() -> Result<PathBuf, String> {
    let dir = session::tempdir("sqlite-template-").keep();
    let file = dir.join(SQLITE_FILE);
    let env = [
        ("HUB__DATABASE__URL".to_string(), sqlite_url(&file)),
        (
            "HUB__DATA_DIR".to_string(),
            dir.to_string_lossy().into_owned(),
        ),
        (
            "HUB__SECURITY__CNIC_KEY".to_string(),
            TEST_CNIC_KEY.to_string(),
        ),
    ];
    migrate(&env, &dir).map_err(|e| format!("blackbox: SQLite template: {e}"))?;
    if !file.is_file() {
        return Err(format!(
            "blackbox: SQLite template: `hub migrate` exited successfully but created no {}",
            file.display()
        ));
    }
    Ok(dir)
}

fn make_pg_template() -> Result<PathBuf, String> {
    let cluster = pg::cluster();
    cluster
        .create_database(PG_TEMPLATE, None)
        .map_err(|e| format!("blackbox: PostgreSQL template: {e}"))?;
    let dir = session::tempdir("pg-template-").keep();
    let env = [
        ("HUB__DATABASE__URL".to_string(), cluster.url(PG_TEMPLATE)),
        (
            "HUB__DATA_DIR".to_string(),
            dir.to_string_lossy().into_owned(),
        ),
        (
            "HUB__SECURITY__CNIC_KEY".to_string(),
            TEST_CNIC_KEY.to_string(),
        ),
    ];
    migrate(&env, &dir).map_err(|e| format!("blackbox: PostgreSQL template: {e}"))?;
    Ok(dir)
}
