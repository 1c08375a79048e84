//! Storage: connecting to SQLite or PostgreSQL, migrating, and guarding the CNIC hash key.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use hub_schema::domain::CnicKey;
use hub_schema::migration::Migrator;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait as _,
};
use sea_orm_migration::MigratorTrait as _;
use secrecy::{ExposeSecret as _, SecretString};

use crate::config::{Engine, Settings};

/// Prepared statements kept per connection. The GraphQL layer's statements vary with the
/// query's shape (filters, orders, the number of parents of a nested list), so the cache
/// is larger than the driver's default of 100.
const STATEMENT_CACHE: usize = 512;

/// The key under which the fingerprint of the CNIC hash key is kept in `hub_meta`.
const CNIC_FINGERPRINT_KEY: &str = "cnic_key_fingerprint";

/// Opens a connection pool as configured. A SQLite file (and its folder) is created on first
/// use, in WAL mode with foreign keys enforced.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let engine = Engine::parse_url(&settings.database_url())?;
    let db = connect_pool(
        settings,
        settings.database.connections(engine),
        settings.database.sqlite_mmap_bytes,
    )
    .await?;
    // Once per process, on the main pool (the exports' pool is the same server).
    if engine == Engine::Postgres {
        require_postgres_version(&db).await?;
    }
    Ok(db)
}

/// The pool the datasets stream from (`database.export_connections`): a long export holds
/// its connection for as long as the client reads, and must never take the connections
/// GraphQL answers with. On SQLite its connections read without the memory map, so that an
/// export of any size leaves the hub's resident set as it was (the rows are read once, in
/// order: the map saves little there).
pub async fn connect_exports(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    connect_pool(settings, settings.database.export_connections.max(1), 0).await
}

async fn connect_pool(
    settings: &Settings,
    max_connections: u32,
    mmap_bytes: u64,
) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url();
    let engine = Engine::parse_url(&url)?;
    if engine == Engine::Sqlite
        && settings
            .database
            .url
            .as_ref()
            .is_none_or(|u| u.expose_secret().trim().is_empty())
    {
        crate::config::ensure_dir(&settings.data_dir)?;
    }
    if let Some(file) = settings.sqlite_file() {
        create_private(&file)?;
    }
    if engine == Engine::Postgres {
        reachable(&url).await?;
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(max_connections)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    // The pool pings a connection before handing it out by default: a round trip per
    // statement (to PostgreSQL, or to the SQLite connection's worker thread), measured
    // with `perf` as a visible part of a short request. A SQLite file does not hang up;
    // a PostgreSQL connection is pinged only after a minute idle, when a server, proxy
    // or firewall may have dropped it (a statement on a connection dropped sooner fails
    // with a connection error, and the pool replaces the connection).
    match engine {
        Engine::Sqlite => {
            options.test_before_acquire(false);
        }
        Engine::Postgres => {
            options.test_before_acquire_if_idle_for(Duration::from_secs(60));
        }
    }
    match engine {
        Engine::Sqlite => {
            let busy = Duration::from_millis(settings.database.sqlite_busy_timeout_ms);
            let cache_kib = settings.database.sqlite_cache_kib;
            options.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(busy)
                    .create_if_missing(true)
                    // Each connection's page cache, in KiB (a negative `cache_size`).
                    .pragma("cache_size", format!("-{cache_kib}"))
                    // Pages read through the shared file mapping, not copied into each
                    // connection's cache.
                    .pragma("mmap_size", mmap_bytes.to_string())
                    .pragma("temp_store", "memory")
                    // Statistics for the planner: a full `ANALYZE` after imports that
                    // grew the data (`analyze_if_grown`), never a sampled one (see there).
                    .statement_cache_capacity(STATEMENT_CACHE)
            });
        }
        Engine::Postgres => {
            // The hub's statements are short: PostgreSQL's JIT compiles any statement
            // whose estimated cost crosses `jit_above_cost` and pays milliseconds for it
            // on every run, more than such a statement takes (see ARCHITECTURE.md).
            let jit = if settings.database.postgres_jit {
                "on"
            } else {
                "off"
            };
            options.map_sqlx_postgres_opts(move |o| {
                o.options([("jit", jit)])
                    .statement_cache_capacity(STATEMENT_CACHE)
            });
        }
    }
    let mut db = Database::connect(options).await.map_err(|e| {
        // Driver errors may quote the URL: never its password.
        let text = e
            .to_string()
            .replace(&url, &crate::config::redact_url(&url));
        anyhow::anyhow!(
            "connecting to the {} database {}: {}",
            engine.name(),
            crate::config::redact_url(&url),
            redact_password(&text, &url)
        )
    })?;
    // One call per statement run through the pool (see `metrics`: `hub_sql_statements_total`).
    // With `hub::sql=debug` in the log filter each statement is logged with its time: the
    // SQL text only, whose values are placeholders, so no personal value reaches the log.
    db.set_metric_callback(|info| {
        crate::metrics::sql_statement();
        tracing::debug!(
            target: "hub::sql",
            micros = u64::try_from(info.elapsed.as_micros()).unwrap_or(u64::MAX),
            failed = info.failed,
            "{}",
            info.statement.sql
        );
    });
    Ok(db)
}

/// The oldest PostgreSQL server the hub's SQL runs on, as `server_version_num`: 14, for
/// `string_to_table` (see `graphql::connection::per_parent`).
const MIN_POSTGRES_VERSION: i64 = 140_000;

/// Refuses a PostgreSQL server older than [`MIN_POSTGRES_VERSION`], naming its version, so
/// that an old server fails at start-up rather than on the first nested list.
async fn require_postgres_version(db: &DatabaseConnection) -> anyhow::Result<()> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT CAST(current_setting('server_version_num') AS BIGINT) AS num, \
             current_setting('server_version') AS version",
        ))
        .await
        .context("reading the PostgreSQL server's version")?
        .context("the PostgreSQL server gave no version")?;
    let num: i64 = row.try_get_by("num")?;
    if num < MIN_POSTGRES_VERSION {
        let version: String = row.try_get_by("version")?;
        bail!("the PostgreSQL server is version {version}: the hub needs PostgreSQL 14 or newer");
    }
    Ok(())
}

/// Creates the SQLite file readable and writable by the hub's user only (it holds personal
/// data); SQLite gives its journal and WAL files the same permissions. An existing file is
/// left as it is.
fn create_private(file: &std::path::Path) -> anyhow::Result<()> {
    if file.exists() {
        return Ok(());
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::config::ensure_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the database {}", file.display())),
    }
}

/// Whether PostgreSQL's host and port answer at all: the connection pool retries a refused
/// connection until its timeout and then says only "pool timed out", so the cause (refused,
/// unknown host) is found first, in a few seconds.
async fn reachable(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url.split_once("://").map(|(_, r)| r) else {
        return Ok(());
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() || host_port.starts_with('%') {
        return Ok(()); // a socket path: the driver says what is wrong.
    }
    let target = if host_port.starts_with('[')
        || host_port
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(target.clone()),
    )
    .await;
    match attempt {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => anyhow::bail!(
            "cannot reach PostgreSQL at {target} ({}): {e}",
            crate::config::redact_url(url)
        ),
        Err(_) => anyhow::bail!(
            "cannot reach PostgreSQL at {target} ({}): no answer within 5 s",
            crate::config::redact_url(url)
        ),
    }
}

/// `text` with the password of `url` replaced, wherever it appears.
fn redact_password(text: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, r)| r.split(['/', '?']).next())
        .and_then(|auth| auth.rsplit_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => text.replace(p, "[redacted]"),
        None => text.to_owned(),
    }
}

/// Applies pending migrations and logs each one applied. Idempotent; when nothing is
/// pending it says so at debug level only (the migrator's own chatter is kept below info by
/// [`crate::telemetry`]).
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let pending = Migrator::get_pending_migrations(db)
        .await
        .context("reading the applied migrations")?;
    if pending.is_empty() {
        tracing::debug!("no pending migrations");
        return Ok(());
    }
    let names: Vec<String> = pending.iter().map(|m| m.name().to_owned()).collect();
    Migrator::up(db, None)
        .await
        .context("applying migrations")?;
    tracing::info!(
        count = names.len(),
        migrations = %names.join(", "),
        "applied migrations"
    );
    Ok(())
}

/// Connects to a database that must exist already: a SQLite file that is missing is an
/// error naming it and the command that creates it, never silently created.
pub async fn connect_existing(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if let Some(file) = settings.sqlite_file().filter(|f| !f.exists()) {
        bail!(
            "the database {} does not exist; create it with `hub migrate` (or point \
             `database.url` at an existing one)",
            file.display()
        );
    }
    connect(settings).await
}

/// Refuses a database that lacks migrations of this version of the hub: `hub serve` does
/// not migrate (several instances may share one database; `hub migrate` is the one step that
/// changes its schema), and serving an older schema would fail on the first query that
/// reads a new column, or read lists without their indexes.
pub async fn check_migrated(db: &DatabaseConnection) -> anyhow::Result<()> {
    let pending = Migrator::get_pending_migrations(db)
        .await
        .context("reading the applied migrations")?;
    if pending.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = pending.iter().map(|m| m.name()).collect();
    bail!(
        "the database lacks {} migration(s) of this hub version ({}); run `hub migrate` first",
        names.len(),
        names.join(", ")
    )
}

/// Returns the CNIC hash key: the configured one, or on SQLite the one generated into the
/// data dir on first run. PostgreSQL has no fallback: several instances share the database,
/// so they must share a configured key.
pub fn cnic_key(settings: &Settings, engine: Engine) -> anyhow::Result<CnicKey> {
    configured_or_file_key(settings, engine, true)
}

/// The CNIC hash key of an existing database: like [`cnic_key`], but a missing key file is
/// an error rather than generated. Commands that only read or check (`hub serve`, `hub
/// plugins check`) never create a key, since a new key belongs with a new database.
pub fn existing_cnic_key(settings: &Settings, engine: Engine) -> anyhow::Result<CnicKey> {
    configured_or_file_key(settings, engine, false)
}

fn configured_or_file_key(
    settings: &Settings,
    engine: Engine,
    generate: bool,
) -> anyhow::Result<CnicKey> {
    if let Some(key) = settings
        .security
        .cnic_key
        .as_ref()
        .filter(|k| !k.expose_secret().trim().is_empty())
    {
        return CnicKey::from_hex(key.expose_secret().trim())
            .map_err(|e| anyhow::anyhow!("security.cnic_key is not a valid key: {e}"));
    }
    match engine {
        Engine::Postgres => bail!(
            "security.cnic_key must be configured on PostgreSQL (HUB__SECURITY__CNIC_KEY, at least 64 hex \
             characters): every hub instance sharing the database must use the same key"
        ),
        Engine::Sqlite => key_file(&settings.data_dir, generate),
    }
}

/// Reads `data_dir/cnic.key`, generating a random key there first if there is none and
/// `generate` allows it.
fn key_file(data_dir: &Path, generate: bool) -> anyhow::Result<CnicKey> {
    let path = data_dir.join("cnic.key");
    if !path.exists() && !generate {
        bail!(
            "the CNIC key file {} does not exist; the database was not made by `hub migrate` \
             with this data directory (set `data_dir` or `security.cnic_key`)",
            path.display()
        );
    }
    if !path.exists() {
        crate::config::ensure_dir(data_dir)?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| anyhow::anyhow!("no randomness for the CNIC key: {e}"))?;
        let hex = SecretString::from(hex::encode(bytes));
        write_private(&path, hex.expose_secret())?;
        tracing::info!(path = %path.display(), "generated a new CNIC hash key");
    }
    let text = SecretString::from(
        std::fs::read_to_string(&path)
            .with_context(|| format!("reading the CNIC key file {}", path.display()))?,
    );
    CnicKey::from_hex(text.expose_secret().trim())
        .map_err(|e| anyhow::anyhow!("the CNIC key file {} is not valid: {e}", path.display()))
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content).with_context(|| format!("creating {}", path.display()))
}

/// Records the key's fingerprint in a new database, and refuses a database created with
/// another key: CNIC hashes made with two keys would never match each other.
pub async fn check_cnic_key(db: &DatabaseConnection, key: &CnicKey) -> anyhow::Result<()> {
    let fingerprint = key.fingerprint();
    match meta_get(db, CNIC_FINGERPRINT_KEY).await? {
        Some(stored) if stored == fingerprint => Ok(()),
        Some(stored) => bail!(
            "the configured CNIC hash key (fingerprint {fingerprint}) is not the key this database was created \
             with (fingerprint {stored}); configure the original key"
        ),
        None => meta_set(db, CNIC_FINGERPRINT_KEY, &fingerprint).await,
    }
}

/// Reads a value of `hub_meta`.
pub async fn meta_get(db: &impl ConnectionTrait, key: &str) -> anyhow::Result<Option<String>> {
    let backend = db.get_database_backend();
    let stmt = Statement::from_sql_and_values(
        backend,
        placeholders(backend, "SELECT value FROM hub_meta WHERE key = ?"),
        [key.into()],
    );
    let row = db.query_one_raw(stmt).await?;
    Ok(match row {
        Some(row) => Some(row.try_get_by::<String, _>("value")?),
        None => None,
    })
}

/// Writes a value of `hub_meta`.
pub async fn meta_set(db: &impl ConnectionTrait, key: &str, value: &str) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    let stmt = Statement::from_sql_and_values(
        backend,
        placeholders(
            backend,
            "INSERT INTO hub_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ),
        [key.into(), value.into()],
    );
    db.execute_raw(stmt).await?;
    Ok(())
}

/// An integer column or expression of `r` as a 64-bit integer, whichever width or type the
/// engine returned it in: PostgreSQL returns `integer` columns as 32 bits, counts and sums
/// of them as `bigint`, sums of `bigint` as `numeric` (read through `f64`); SQLite always
/// as a 64-bit integer.
pub fn int(r: &sea_orm::QueryResult, name: &str) -> Result<Option<i64>, sea_orm::DbErr> {
    match r.try_get_by::<Option<i64>, _>(name) {
        Ok(v) => Ok(v),
        Err(wide) => match r.try_get_by::<Option<i32>, _>(name) {
            Ok(v) => Ok(v.map(i64::from)),
            Err(_) => match r.try_get_by::<Option<f64>, _>(name) {
                Ok(v) => Ok(v.map(|v| v.round() as i64)),
                Err(_) => Err(wide),
            },
        },
    }
}

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL.
pub fn placeholders(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Checks that the database answers, for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.ping().await.context("database ping")?;
    Ok(())
}

/// Whether a SQLite statement returns a row.
async fn any_row(db: &impl ConnectionTrait, sql: &str) -> anyhow::Result<bool> {
    Ok(db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await?
        .is_some())
}

/// Whether SQLite keeps the samples of `ANALYZE` (`sqlite_stat4`): the table exists
/// (`tables_only`), or it also holds rows.
async fn has_samples(db: &impl ConnectionTrait, tables_only: bool) -> anyhow::Result<bool> {
    let table = any_row(
        db,
        "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat4'",
    )
    .await?;
    if !table || tables_only {
        return Ok(table);
    }
    any_row(db, "SELECT 1 AS x FROM sqlite_stat4 LIMIT 1").await
}

/// The `hub_meta` key holding the change number at the last `ANALYZE`.
const ANALYZED_KEY: &str = hub_schema::migration::ANALYZED_AT_KEY;

/// Refreshes the planner's statistics (`ANALYZE`) when the data grew by a tenth (and at
/// least 1,000 changes) since the last time, or was never analysed. Returns whether it ran.
///
/// Why: SQLite has no statistics until `ANALYZE` runs, and without them it takes any
/// index whose leading columns are all constrained by `=` as the most selective. Over a
/// million trade flows of one source and one reporter it then read every flow through the
/// unique key `(source_id, reporter_id, …)` instead of the 1,400 of two HS headings through
/// `(hs4, period_start)`: 870 ms instead of 12 ms for a cluster's trade. A sampled analysis
/// (`analysis_limit`, `PRAGMA optimize`) reads the first rows of each index, where one
/// source and one reporter look selective (401 rows each instead of a million), and chose
/// the same plan, so the analysis is full (0.7 s per million flows on two cores).
/// PostgreSQL's autovacuum analyses on its own, but only a minute or so after a large
/// import; running it at once costs a sample of 30,000 rows per table.
///
/// On SQLite the analysis keeps the averages (`sqlite_stat1`) and drops the samples
/// (`sqlite_stat4`, which SQLite builds when compiled with `SQLITE_ENABLE_STAT4`, as the
/// bundled library is). With samples SQLite prepares a statement again each time a value
/// bound to an indexed column changes, to estimate with that value: 6% of the CPU of a
/// 50-firm cluster page under load went to preparing statements again, measured with
/// `perf`, and every plan of the benchmark stayed the same without them. A database
/// analysed with samples by an earlier version is analysed again.
pub async fn analyze_if_grown(db: &DatabaseConnection) -> anyhow::Result<bool> {
    let now = crate::changes::current(db).await?;
    let last = meta_get(db, ANALYZED_KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok());
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    let due = match last {
        None => now > 0,
        Some(last) => now - last >= (last / 10).max(1_000),
    } || (sqlite && has_samples(db, false).await?);
    if !due {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    if sqlite {
        // One transaction on one connection: `ANALYZE` creates `sqlite_stat4` on its
        // first run, and the connections that reload their statistics after it never see
        // the samples.
        let txn = db.begin().await?;
        txn.execute_unprepared("PRAGMA analysis_limit = 0").await?;
        txn.execute_unprepared("ANALYZE").await?;
        if has_samples(&txn, true).await? {
            txn.execute_unprepared("DELETE FROM sqlite_stat4").await?;
        }
        txn.commit().await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    meta_set(db, ANALYZED_KEY, &now.to_string()).await?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "planner statistics refreshed (ANALYZE)"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's imports analysed the database: SQLite keeps the averages of the analysis
    /// and none of its samples (see [`analyze_if_grown`]); analysing again keeps it so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_analysis_keeps_averages_and_no_samples() {
        let db = crate::graphql::test_support::shared_db().await;
        let check = || async {
            assert!(
                any_row(db, "SELECT 1 AS x FROM sqlite_stat1 LIMIT 1")
                    .await
                    .unwrap(),
                "the averages are kept"
            );
            assert!(
                has_samples(db, true).await.unwrap(),
                "the bundled SQLite keeps samples unless told not to"
            );
            assert!(!has_samples(db, false).await.unwrap(), "no samples");
        };
        check().await;
        db.execute_unprepared(&format!(
            "DELETE FROM hub_meta WHERE key = '{ANALYZED_KEY}'"
        ))
        .await
        .unwrap();
        assert!(analyze_if_grown(db).await.unwrap(), "analysed again");
        check().await;
    }

    /// A database analysed before the migration that put the flow into the trade flows' HS
    /// indexes is analysed again right after it, as `hub migrate` runs them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_trade_index_migration_has_the_database_analysed_again() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("m.sqlite").display()
        );
        let db = Database::connect(url).await.unwrap();
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261208_000012_trade_flow_indexes")
            .expect("the migration is listed");
        Migrator::up(&db, Some(before as u32)).await.unwrap();
        db.execute_unprepared("UPDATE change_counter SET last_seq = 5000")
            .await
            .unwrap();
        assert_eq!(crate::changes::current(&db).await.unwrap(), 5000);
        assert!(analyze_if_grown(&db).await.unwrap(), "the first analysis");
        assert!(!analyze_if_grown(&db).await.unwrap(), "nothing grew since");
        migrate(&db).await.unwrap();
        assert!(
            any_row(
                &db,
                "SELECT 1 AS x FROM sqlite_master WHERE name = 'ix_trade_flows_hs4_flow_period_start'"
            )
            .await
            .unwrap()
        );
        assert!(
            analyze_if_grown(&db).await.unwrap(),
            "analysed again after the migration"
        );
    }
}
