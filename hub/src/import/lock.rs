//! Imports write one at a time, and a second import waits for the first, saying which it
//! is, instead of failing with the engine's own error ("database is locked", a duplicate
//! key on `sources`).
//!
//! - **SQLite** has one writer anyway: the import's transaction begins `IMMEDIATE`, which
//!   takes the write lock at once (not at the first write, half-way through reading the
//!   file). While another import holds it, each attempt waits the busy timeout, then says
//!   who holds it and tries again.
//! - **PostgreSQL**: the transaction takes a transaction-scoped advisory lock
//!   (`pg_try_advisory_xact_lock`), released at commit or rollback, also when the
//!   process dies; several hub instances on one database therefore import one at a time.
//!
//! Who holds the writer is written down beside it so that a waiting import can name it:
//! in a file next to the SQLite database (`hub.sqlite.writer.json`), in `hub_meta` on
//! PostgreSQL. A marker left by a killed import is simply overwritten by the next.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait as _,
};
use serde::{Deserialize, Serialize};

/// The key of the advisory lock of imports on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x6875_625f_696d_706f; // "hub_impo"

/// The `hub_meta` key of the marker on PostgreSQL.
const META_KEY: &str = "import_writer";

/// How imports wait for each other, set once by the hub from its configuration.
#[derive(Debug, Clone, Default)]
pub struct LockSettings {
    /// The SQLite database file (the marker goes next to it); `None` on PostgreSQL.
    pub sqlite_file: Option<PathBuf>,
    /// How long an import waits for another before it gives up.
    pub wait: Option<Duration>,
}

static SETTINGS: RwLock<Option<LockSettings>> = RwLock::new(None);

/// Sets how imports of this process wait for each other.
pub fn configure(settings: LockSettings) {
    if let Ok(mut s) = SETTINGS.write() {
        *s = Some(settings);
    }
}

fn settings() -> LockSettings {
    SETTINGS
        .read()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_default()
}

/// The default wait when none is configured (`import.lock_wait_ms`).
const DEFAULT_WAIT: Duration = Duration::from_secs(600);

/// What an import holding the writer says of itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    /// The file being imported.
    pub file: String,
    /// Its import run, once it has one.
    pub run: Option<i64>,
    /// The process.
    pub pid: u32,
    /// When it took the writer (seconds since 1970, UTC).
    pub since: i64,
}

impl Holder {
    fn describe(&self) -> String {
        let held = (chrono::Utc::now().timestamp() - self.since).max(0);
        match self.run {
            Some(run) => format!(
                "another import, run {run} of {}, has held the writer for {held} s",
                self.file
            ),
            None => format!(
                "another import, of {}, has held the writer for {held} s",
                self.file
            ),
        }
    }
}

/// The writer, held by one import until [`Writer::release`].
#[derive(Debug)]
pub struct Writer {
    holder: Holder,
    marker: Option<PathBuf>,
}

/// Begins the transaction of an import of `file`, waiting for any import that holds the
/// writer; the log says (about every ten seconds) who holds it.
pub async fn begin(
    db: &DatabaseConnection,
    file: &str,
) -> anyhow::Result<(DatabaseTransaction, Writer)> {
    let settings = settings();
    let wait = settings.wait.unwrap_or(DEFAULT_WAIT);
    let started = Instant::now();
    let holder = Holder {
        file: file.to_owned(),
        run: None,
        pid: std::process::id(),
        since: chrono::Utc::now().timestamp(),
    };
    let backend = db.get_database_backend();
    let marker = match backend {
        DbBackend::Sqlite => settings.sqlite_file.as_ref().map(|f| {
            let mut name = f.clone().into_os_string();
            name.push(".writer.json");
            PathBuf::from(name)
        }),
        _ => None,
    };
    let mut last_said = None::<Instant>;
    // On SQLite an attempt blocks for the busy timeout: say at once who is writing.
    if let Some(other) = read_marker(db, marker.as_ref()).await
        && other.pid != std::process::id()
        && std::path::Path::new(&format!("/proc/{}", other.pid)).exists()
    {
        tracing::warn!(
            file,
            "{}; waiting for it (import.lock_wait_ms)",
            other.describe()
        );
        last_said = Some(Instant::now());
    }
    loop {
        let attempt = match backend {
            DbBackend::Postgres => {
                let txn = db.begin().await?;
                let row = txn
                    .query_one_raw(sea_orm::Statement::from_sql_and_values(
                        backend,
                        "SELECT pg_try_advisory_xact_lock($1) AS taken",
                        [PG_LOCK_KEY.into()],
                    ))
                    .await?;
                let taken = row.map(|r| r.try_get_by::<bool, _>("taken")).transpose()?;
                if taken == Some(true) {
                    Ok(txn)
                } else {
                    txn.rollback().await.ok();
                    Err(())
                }
            }
            _ => {
                let remaining = wait
                    .saturating_sub(started.elapsed())
                    .max(Duration::from_millis(100));
                let begin = db.begin_with_options(TransactionOptions {
                    isolation_level: None,
                    access_mode: None::<AccessMode>,
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                });
                match tokio::time::timeout(remaining, begin).await {
                    Ok(Ok(txn)) => Ok(txn),
                    Ok(Err(e)) if is_busy(&e) => Err(()),
                    Ok(Err(e)) => return Err(e.into()),
                    Err(_) => Err(()),
                }
            }
        };
        match attempt {
            Ok(txn) => {
                let writer = Writer { holder, marker };
                writer.mark(db).await;
                return Ok((txn, writer));
            }
            Err(()) => {
                let other = read_marker(db, marker.as_ref()).await;
                let who = other
                    .as_ref()
                    .map(Holder::describe)
                    .unwrap_or_else(|| "another import holds the writer".to_owned());
                if started.elapsed() >= wait {
                    anyhow::bail!(
                        "{who}; this import waited {} s for it and gave up \
                         (import.lock_wait_ms); try again when it has finished",
                        started.elapsed().as_secs()
                    );
                }
                if last_said.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    tracing::warn!(file, "{who}; waiting for it (import.lock_wait_ms)");
                    last_said = Some(Instant::now());
                }
                if backend == DbBackend::Postgres {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

/// Whether an error is SQLite's "the database is locked" (another writer).
fn is_busy(e: &sea_orm::DbErr) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("database is busy")
}

async fn read_marker(db: &DatabaseConnection, marker: Option<&PathBuf>) -> Option<Holder> {
    let text = match marker {
        Some(path) => std::fs::read_to_string(path).ok()?,
        None if db.get_database_backend() == DbBackend::Postgres => {
            crate::db::meta_get(db, META_KEY).await.ok()??
        }
        None => return None,
    };
    serde_json::from_str(&text).ok()
}

impl Writer {
    /// Notes the import's run, for the imports that wait.
    pub async fn set_run(&mut self, db: &DatabaseConnection, run: i64) {
        self.holder.run = Some(run);
        self.mark(db).await;
    }

    /// Writes who holds the writer (best effort: a waiting import only names it).
    async fn mark(&self, db: &DatabaseConnection) {
        let Ok(text) = serde_json::to_string(&self.holder) else {
            return;
        };
        match &self.marker {
            Some(path) => {
                let _ = std::fs::write(path, text);
            }
            // On PostgreSQL through another connection of the pool, outside the import's
            // transaction, so that waiting imports see it at once.
            None if db.get_database_backend() == DbBackend::Postgres => {
                let _ = crate::db::meta_set(db, META_KEY, &text).await;
            }
            None => {}
        }
    }

    /// Gives the writer up (after the transaction ended) and removes the marker.
    pub async fn release(self, db: &DatabaseConnection) {
        match &self.marker {
            Some(path) => {
                let _ = std::fs::remove_file(path);
            }
            None if db.get_database_backend() == DbBackend::Postgres => {
                let _ = db
                    .execute_raw(sea_orm::Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "DELETE FROM hub_meta WHERE key = $1",
                        [META_KEY.into()],
                    ))
                    .await;
            }
            None => {}
        }
    }
}
