//! The PostgreSQL server the benchmark creates its databases on: one given by URL, or a
//! throwaway cluster started from the installed server binaries, as the black-box tests do
//! (`initdb` + `pg_ctl`, as the `postgres` OS user when running as root).
//!
//! The throwaway cluster keeps PostgreSQL's default durability settings (unlike the test
//! cluster, which turns `fsync` off): the pipeline and the floor run on the same server.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// A server to create benchmark databases on.
pub struct Server {
    /// A URL of the server's maintenance database, for `CREATE DATABASE`.
    admin_url: String,
    /// The `psql` to run.
    pub psql: PathBuf,
    /// `Some` when we started the cluster: stopped on drop.
    cluster: Option<Cluster>,
    /// `PostgreSQL 16.x`, for the report.
    pub version: String,
}

struct Cluster {
    stop: Command,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .stop
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Server {
    /// The server of `url` (any database on it; the benchmark creates its own).
    pub fn at_url(url: &str) -> anyhow::Result<Self> {
        let psql = bin_dir()
            .map(|d| d.join("psql"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let mut server = Server {
            admin_url: url.to_owned(),
            psql,
            cluster: None,
            version: String::new(),
        };
        server.version = server.query(url, "SELECT version()")?;
        Ok(server)
    }

    /// Starts a throwaway cluster under `dir` (which must exist); `None` when the
    /// PostgreSQL server binaries are not installed.
    pub fn throwaway(dir: &Path) -> anyhow::Result<Option<Self>> {
        let Some(bin) = bin_dir() else {
            return Ok(None);
        };
        let root = is_root();
        let pg_dir = dir.join("pg");
        if pg_dir.exists() {
            // A cluster kept by an earlier run (--keep): start afresh.
            fs::remove_dir_all(&pg_dir)?;
        }
        fs::create_dir_all(&pg_dir)?;
        let data = pg_dir.join("data");
        if root {
            // The server user must reach its directory.
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
            let status = Command::new("chown")
                .args(["postgres:", &pg_dir.to_string_lossy()])
                .status()
                .context("chown")?;
            if !status.success() {
                bail!(
                    "chown postgres {} failed (is there a postgres user?)",
                    pg_dir.display()
                );
            }
        }
        let data_s = data.to_string_lossy().into_owned();
        run_checked(
            as_server_user(&bin.join("initdb"), root)
                .args(["-D", &data_s, "-U", "postgres", "-A", "trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-sync"])
                .current_dir(&pg_dir),
            "initdb",
        )?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut conf = fs::read_to_string(data.join("postgresql.conf"))?;
        conf.push_str(&format!(
            "\n# bench-import\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = '{}'\nlog_min_messages = warning\n",
            pg_dir.to_string_lossy().replace('\'', "''")
        ));
        fs::write(data.join("postgresql.conf"), conf)?;

        let mut stop = as_server_user(&bin.join("pg_ctl"), root);
        stop.args(["stop", "-D", &data_s, "-m", "fast", "-w"]);
        // A watchdog stops the server if this process dies without dropping the cluster.
        let stop_line = format!(
            "{} stop -D '{}' -m fast -w",
            if root {
                format!("runuser -u postgres -- '{}'", bin.join("pg_ctl").display())
            } else {
                format!("'{}'", bin.join("pg_ctl").display())
            },
            data_s
        );
        let _ = Command::new("setsid")
            .args([
                "sh",
                "-c",
                &format!(
                    "while kill -0 {} 2>/dev/null; do sleep 1; done; {stop_line} >/dev/null 2>&1",
                    std::process::id()
                ),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let cluster = Cluster { stop };
        let log = pg_dir.join("postgres.log").to_string_lossy().into_owned();
        run_checked(
            as_server_user(&bin.join("pg_ctl"), root)
                .args(["start", "-D", &data_s, "-l", &log, "-w", "-t", "60"])
                .current_dir(&pg_dir),
            "pg_ctl start",
        )
        .with_context(|| fs::read_to_string(&log).unwrap_or_default())?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let mut server = Server {
            admin_url: url.clone(),
            psql: bin.join("psql"),
            cluster: Some(cluster),
            version: String::new(),
        };
        server.version = server.query(&url, "SELECT version()")?;
        Ok(Some(server))
    }

    /// Whether we started the server.
    pub fn is_throwaway(&self) -> bool {
        self.cluster.is_some()
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        with_database(&self.admin_url, name)
    }

    pub fn create_database(&self, name: &str) -> anyhow::Result<String> {
        self.query(&self.admin_url, &format!("CREATE DATABASE \"{name}\""))?;
        Ok(self.url(name))
    }

    pub fn drop_database(&self, name: &str) -> anyhow::Result<()> {
        self.query(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        )
        .map(drop)
    }

    /// Runs one statement with `psql` on `url`; its output, unaligned, without the final
    /// newline.
    pub fn query(&self, url: &str, sql: &str) -> anyhow::Result<String> {
        let out = self
            .psql_command(url)
            .args(["-A", "-t", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}", self.psql.display()))?;
        if !out.status.success() {
            bail!(
                "psql failed on {sql:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    /// `psql -X -q -v ON_ERROR_STOP=1 -d URL`.
    pub fn psql_command(&self, url: &str) -> Command {
        let mut cmd = Command::new(&self.psql);
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url])
            .env("PGCONNECT_TIMEOUT", "10");
        cmd
    }
}

/// `url` with its database replaced by `name`, query parameters kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

/// The newest `/usr/lib/postgresql/<v>/bin` with `initdb` and `pg_ctl`, else the directory
/// of `initdb` on `PATH`.
fn bin_dir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .or_else(|| std::env::split_paths(&std::env::var_os("PATH")?).find(|d| has(d)))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `program`, run as `postgres` through `runuser` when we are root (`initdb` refuses root).
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run_checked(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{what}: running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_of_a_url() {
        let cases = [
            ("postgres://u:p@h:5432/app", "postgres://u:p@h:5432/b1"),
            (
                "postgres://u@h/app?sslmode=disable",
                "postgres://u@h/b1?sslmode=disable",
            ),
            ("postgresql://h:5433", "postgresql://h:5433/b1"),
            (
                "postgres://h?sslmode=require",
                "postgres://h/b1?sslmode=require",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(super::with_database(url, "b1"), expected, "{url}");
        }
    }
}
