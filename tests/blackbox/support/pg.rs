//! A throwaway PostgreSQL cluster, started lazily once per test process.
//!
//! [`cluster`] runs `initdb` (trust authentication, superuser `postgres`, UTF8, C locale,
//! `--no-sync`) into `<scratch>/pg/data`, appends test settings to `postgresql.conf`
//! (`fsync`, `full_page_writes` and `synchronous_commit` off, `max_connections = 200`,
//! autovacuum off, listening on 127.0.0.1 only, Unix socket in `<scratch>/pg`), then
//! `pg_ctl start -w` on a free port (retried on another port if that one got taken).
//! When the test process runs as root, the server binaries run as the `postgres` OS user
//! (`runuser -u postgres --`, or `su` when `runuser` is missing): `initdb` refuses root.
//!
//! Before starting, `<scratch>/stop-pg.sh` is written; the scratch directory's watchdog
//! (see [`super::session`]) runs it when the test process exits, then removes the directory.
//!
//! Clients (`psql`) connect over TCP as `postgres` without a password.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::session;

/// Environment variable naming the directory of the PostgreSQL server binaries, overriding
/// the search of [`find_bin_dir`].
pub const PG_BIN_ENV: &str = "HUB_TEST_PG_BIN";

/// Settings appended to the cluster's `postgresql.conf`.
const SETTINGS: &str = "
# --- hub black-box tests ---
listen_addresses = '127.0.0.1'
fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 200
shared_buffers = 32MB
autovacuum = off
log_min_messages = warning
";

/// A running throwaway cluster. Superuser `postgres`, trust authentication.
#[derive(Debug)]
pub struct PgCluster {
    /// Directory of the server binaries.
    pub bin_dir: PathBuf,
    /// Always `127.0.0.1`.
    pub host: String,
    pub port: u16,
    /// The cluster's data directory.
    pub data_dir: PathBuf,
    /// `pg_ctl --version` output, e.g. `pg_ctl (PostgreSQL) 15.14`.
    pub version: String,
    /// `server_version_num`, e.g. 150014.
    pub version_num: u32,
    /// How long `initdb` + `pg_ctl start` took.
    pub startup: Duration,
}

/// Where PostgreSQL's server binaries are: `$HUB_TEST_PG_BIN` if set, else the first PATH
/// entry holding both `initdb` and `pg_ctl` (symlinks resolved, so that `psql` and
/// `postgres` are found next to them), else the newest `/usr/lib/postgresql/<v>/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os(PG_BIN_ENV).filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            return has_server_binaries(&dir).then_some(dir);
        }
        let on_path = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|dir| has_server_binaries(dir))
            .find_map(|dir| {
                let initdb = fs::canonicalize(dir.join("initdb")).ok()?;
                let real = initdb.parent()?.to_path_buf();
                Some(if has_server_binaries(&real) {
                    real
                } else {
                    dir
                })
            });
        on_path.or_else(|| {
            let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let version = name
                        .split('.')
                        .map(|part| part.parse::<u32>().ok())
                        .collect::<Option<Vec<_>>>()?;
                    let bin = entry.path().join("bin");
                    has_server_binaries(&bin).then_some((version, bin))
                })
                .collect();
            versions.sort();
            versions.pop().map(|(_, bin)| bin)
        })
    })
    .clone()
}

fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// The cluster of this test process, started on first use. Panics (in every caller) when
/// PostgreSQL is not installed or did not start; the message carries the tools' output.
pub fn cluster() -> &'static PgCluster {
    static CLUSTER: OnceLock<Result<PgCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(start) {
        Ok(cluster) => cluster,
        Err(message) => panic!("blackbox: PostgreSQL test cluster: {message}"),
    }
}

impl PgCluster {
    /// Connection URL of database `db` for the hub (`postgres://postgres@127.0.0.1:PORT/db`).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@{}:{}/{db}", self.host, self.port)
    }

    /// Runs `sql` with `psql` in database `db` (`-X -q -A -t -v ON_ERROR_STOP=1`: unaligned,
    /// tuples only, `|` between columns); returns stdout without its final newline, or the
    /// error with psql's stderr.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new(self.psql_path());
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &self.host,
        ])
        .args([
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-c",
            sql,
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGOPTIONS")
        .env_remove("PGSERVICE")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::null());
        let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
        if out.status.success() {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.ends_with('\n') {
                text.pop();
            }
            Ok(text)
        } else {
            Err(format!(
                "psql -d {db} failed ({}) on:\n{sql}\n--- stderr ---\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            ))
        }
    }

    /// [`try_psql`](Self::try_psql), panicking on error.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.try_psql(db, sql).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `CREATE DATABASE name [TEMPLATE template]`, retried for a few seconds while the
    /// template still has sessions (a client that just disconnected). Copies use
    /// `STRATEGY FILE_COPY` on PostgreSQL 15+: with `fsync = off` its checkpoints are cheap,
    /// and it was 1.3–3 times faster than the default `WAL_LOG` in a test with 80 tables.
    pub fn create_database(&self, name: &str, template: Option<&str>) -> Result<(), String> {
        let sql = match template {
            Some(t) if self.version_num >= 150_000 => format!(
                "CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
                ident(name),
                ident(t)
            ),
            Some(t) => format!("CREATE DATABASE {} TEMPLATE {}", ident(name), ident(t)),
            None => format!("CREATE DATABASE {}", ident(name)),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.try_psql("postgres", &sql) {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.contains("being accessed by other users") && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `DROP DATABASE IF EXISTS name WITH (FORCE)` (terminates its sessions).
    pub fn drop_database(&self, name: &str) -> Result<(), String> {
        self.try_psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(name)),
        )
        .map(drop)
    }

    fn psql_path(&self) -> PathBuf {
        let next_to_initdb = self.bin_dir.join("psql");
        if next_to_initdb.is_file() {
            next_to_initdb
        } else {
            PathBuf::from("psql")
        }
    }
}

/// A double-quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted shell word.
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The OS user the server runs as when we are root.
fn server_user() -> &'static str {
    static USER: OnceLock<&'static str> = OnceLock::new();
    USER.get_or_init(|| {
        let exists = |user: &str| {
            Command::new("id")
                .arg("-u")
                .arg(user)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if exists("postgres") {
            "postgres"
        } else {
            "nobody"
        }
    })
}

fn id_of(flag: &str, user: &str) -> Result<u32, String> {
    let out = Command::new("id")
        .args([flag, user])
        .output()
        .map_err(|e| format!("id {flag} {user}: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("id {flag} {user}: unexpected output {:?}", out.stdout))
}

fn runuser() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("runuser"))
        .find(|p| p.is_file())
}

/// `program args...`, run as the server user when we are root: the command itself and the
/// equivalent shell line (for `stop-pg.sh`).
fn server_command(program: &Path, args: &[String]) -> (Command, String) {
    let program = program.to_string_lossy().into_owned();
    let plain = std::iter::once(&program)
        .chain(args)
        .map(|w| sh_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    if !session::is_root() {
        let mut cmd = Command::new(&program);
        cmd.args(args);
        return (cmd, plain);
    }
    let user = server_user();
    if let Some(runuser) = runuser() {
        let mut cmd = Command::new(&runuser);
        cmd.args(["-u", user, "--", &program]).args(args);
        let line = format!(
            "{} -u {user} -- {plain}",
            sh_quote(&runuser.to_string_lossy())
        );
        (cmd, line)
    } else {
        let mut cmd = Command::new("su");
        cmd.args(["-s", "/bin/sh", user, "-c", &plain]);
        let line = format!("su -s /bin/sh {user} -c {}", sh_quote(&plain));
        (cmd, line)
    }
}

fn run(mut cmd: Command, what: &str) -> Result<Output, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: running {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({}): {cmd:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim_end(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn start() -> Result<PgCluster, String> {
    let started = Instant::now();
    let bin_dir = find_bin_dir().ok_or_else(|| {
        "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin"
            .to_string()
    })?;
    let root = session::root();
    let dir = root.join("pg");
    fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if session::is_root() {
        let user = server_user();
        let (uid, gid) = (id_of("-u", user)?, id_of("-g", user)?);
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {user} {}: {e}", dir.display()))?;
    }
    let data_dir = dir.join("data");
    let data = data_dir.to_string_lossy().into_owned();
    let log = dir.join("postgres.log");

    // Written first: from now on the watchdog stops whatever got started.
    let (_, stop) = server_command(
        &bin_dir.join("pg_ctl"),
        &["stop", "-D", &data, "-m", "immediate", "-w", "-t", "10"].map(String::from),
    );
    let stop_script = format!(
        "{stop} || {{ pid=$(head -n 1 {pidfile} 2>/dev/null) && [ -n \"$pid\" ] && kill -9 \"$pid\"; }}\n",
        pidfile = sh_quote(&data_dir.join("postmaster.pid").to_string_lossy())
    );
    fs::write(root.join("stop-pg.sh"), stop_script)
        .map_err(|e| format!("writing stop-pg.sh: {e}"))?;

    let initdb_args = [
        "-D",
        &data,
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]
    .map(String::from);
    let (mut initdb, _) = server_command(&bin_dir.join("initdb"), &initdb_args);
    initdb.current_dir(&dir);
    run(initdb, "initdb")?;

    let conf = data_dir.join("postgresql.conf");
    let mut text =
        fs::read_to_string(&conf).map_err(|e| format!("reading {}: {e}", conf.display()))?;
    text.push_str(SETTINGS);
    text.push_str(&format!(
        "unix_socket_directories = '{}'\n",
        dir.to_string_lossy().replace('\'', "''")
    ));
    fs::write(&conf, text).map_err(|e| format!("writing {}: {e}", conf.display()))?;

    let mut attempt = 0;
    let port = loop {
        attempt += 1;
        let port = free_port()?;
        let args = [
            "start",
            "-D",
            &data,
            "-l",
            &log.to_string_lossy(),
            "-w",
            "-t",
            "60",
            "-o",
            &format!("-p {port}"),
        ]
        .map(String::from);
        let (mut pg_ctl, _) = server_command(&bin_dir.join("pg_ctl"), &args);
        pg_ctl.current_dir(&dir);
        match run(pg_ctl, "pg_ctl start") {
            Ok(_) => break port,
            Err(e) => {
                let log_text = fs::read_to_string(&log).unwrap_or_default();
                let port_taken =
                    log_text.contains("could not bind") || log_text.contains("already in use");
                if port_taken && attempt < 5 {
                    continue;
                }
                return Err(format!("{e}\n--- {} ---\n{log_text}", log.display()));
            }
        }
    };

    let version = Command::new(bin_dir.join("pg_ctl"))
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut cluster = PgCluster {
        bin_dir,
        host: "127.0.0.1".to_string(),
        port,
        data_dir,
        version,
        version_num: 0,
        startup: Duration::ZERO,
    };
    let version_num = cluster.try_psql("postgres", "SHOW server_version_num")?;
    cluster.version_num = version_num
        .trim()
        .parse()
        .map_err(|_| format!("unexpected server_version_num {version_num:?}"))?;
    cluster.startup = started.elapsed();
    super::note(&format!(
        "blackbox: {} started on {}:{} in {:.2?} (data: {})",
        cluster.version,
        cluster.host,
        cluster.port,
        cluster.startup,
        cluster.data_dir.display()
    ));
    Ok(cluster)
}
