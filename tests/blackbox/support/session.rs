//! The per-process scratch directory and the watchdog that cleans it up.
//!
//! The first call to [`root`] creates `/tmp/hub-blackbox-XXXXXX` (when running as root:
//! `/tmp` so that the `postgres` OS user can reach the cluster's data directory inside it;
//! otherwise the usual temporary directory, which honours `TMPDIR`) and starts a detached
//! watchdog: `sh -c '<script>'` in its own process group (so a Ctrl-C in the terminal does
//! not reach it), ignoring SIGINT/SIGHUP, with its stdin being a pipe whose write end this
//! process keeps in a static and never closes. The kernel closes that pipe when this process
//! ends — normal exit, panic, SIGKILL alike — which ends the watchdog's `read`; it then
//!
//! 1. kills (SIGKILL) every child registered in `pids/` (`hub` processes spawned by
//!    [`super::spawn`] that were not reaped, e.g. because the test process was killed);
//! 2. runs `stop-pg.sh` when present (written by [`super::pg`] before starting the cluster:
//!    `pg_ctl stop -m immediate`, then SIGKILL to the postmaster as a last resort);
//! 3. `rm -rf`s the scratch directory.
//!
//! The pipe is close-on-exec, so no other child inherits it and keeps the watchdog waiting.
//! Should a watchdog itself be killed, the next test run removes directories whose
//! `owner.pid` process is gone (after stopping their cluster) — see [`sweep_stale`].

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Prefix of the scratch directories.
pub const PREFIX: &str = "hub-blackbox-";

struct Session {
    root: PathBuf,
    /// The write end of the watchdog's stdin: never written, never closed before exit.
    _watchdog: Mutex<ChildStdin>,
}

static SESSION: OnceLock<Session> = OnceLock::new();

const WATCHDOG: &str = r#"trap '' INT HUP PIPE
root=$1
read -r _ignored || :
for f in "$root"/pids/*; do
  [ -e "$f" ] || continue
  kill -9 "${f##*/}" 2>/dev/null || :
done
if [ -f "$root/stop-pg.sh" ]; then sh "$root/stop-pg.sh" >/dev/null 2>&1 || :; fi
rm -rf "$root"
"#;

/// The scratch directory of this test process (created, with its watchdog, on first use).
pub fn root() -> &'static Path {
    &SESSION
        .get_or_init(|| create().unwrap_or_else(|e| panic!("blackbox: scratch directory: {e}")))
        .root
}

/// A new temporary directory inside [`root`], removed when dropped (and at the latest by
/// the watchdog).
pub fn tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(root())
        .unwrap_or_else(|e| panic!("blackbox: temporary directory in {}: {e}", root().display()))
}

/// Whether this process runs as the root user (cached).
pub fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false)
    })
}

/// Records a child process for the watchdog to kill should this process die before
/// [`unregister_child`] is called for it.
pub fn register_child(pid: u32) {
    let _ = fs::write(root().join("pids").join(pid.to_string()), b"");
}

/// Forgets a child recorded with [`register_child`] (call after reaping it).
pub fn unregister_child(pid: u32) {
    let _ = fs::remove_file(root().join("pids").join(pid.to_string()));
}

/// Where scratch directories go.
fn base_dir() -> PathBuf {
    let tmp = Path::new("/tmp");
    if is_root() && tmp.is_dir() && tempfile::tempdir_in(tmp).is_ok() {
        // Under TMPDIR (say /root/tmp) the `postgres` user could not reach its data dir.
        tmp.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn create() -> io::Result<Session> {
    let base = base_dir();
    sweep_stale(&base);
    let root = tempfile::Builder::new()
        .prefix(PREFIX)
        .tempdir_in(&base)?
        .keep();
    // Traversable by the `postgres` user when we are root (tempfile creates it 0700).
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755))?;
    fs::create_dir(root.join("pids"))?;
    fs::write(root.join("owner.pid"), std::process::id().to_string())?;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("hub-blackbox-watchdog")
        .arg(&root)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("starting the cleanup watchdog: {e}")))?;
    let stdin = child.stdin.take().expect("piped stdin");
    // The `Child` is dropped without waiting: the watchdog outlives us and is reaped by init.
    Ok(Session {
        root,
        _watchdog: Mutex::new(stdin),
    })
}

/// Removes scratch directories left behind by test processes that are gone and whose
/// watchdog did not clean up (it was killed too). Only directories untouched for a minute
/// are considered, so that a watchdog still at work is left alone.
fn sweep_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Ok(pid) = fs::read_to_string(dir.join("owner.pid")) else {
            continue;
        };
        let pid = pid.trim();
        if pid.is_empty() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(60));
        if !old {
            continue;
        }
        let stop = dir.join("stop-pg.sh");
        if stop.is_file() {
            let _ = Command::new("/bin/sh")
                .arg(&stop)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
