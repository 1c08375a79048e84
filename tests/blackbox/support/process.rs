//! The `hub` binary as a child process.

use std::io::{BufRead as _, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{TestDb, session};

/// The line a serving hub prints on stdout once its socket is bound, followed by its URL.
pub const LISTENING: &str = "hub: listening on ";

/// How long [`spawn`] waits for [`LISTENING`].
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`output`] lets a one-shot command run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Path of the `hub` binary under test.
pub fn hub_path() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_hub"))
}

/// The `hub` binary, without database configuration: `HUB__*` variables inherited from the
/// developer's environment removed, `HUB__LOG__FILTER=warn`, working directory the test
/// process's scratch directory (so no stray `./hub.toml` is picked up).
pub fn hub_bare() -> Command {
    let mut cmd = Command::new(hub_path());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HUB__") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HUB__LOG__FILTER", "warn")
        .current_dir(session::root())
        .stdin(Stdio::null());
    cmd
}

/// The `hub` binary configured for `db` ([`TestDb::env`]), plus `HUB__LOG__FILTER=warn`
/// and `HUB__SERVER__BIND=127.0.0.1:0`; working directory: the database's data directory.
/// Add the subcommand (`migrate`, `serve`, ...) and override whatever the test needs.
pub fn hub(db: &TestDb) -> Command {
    let mut cmd = hub_bare();
    cmd.envs(db.env())
        .env("HUB__SERVER__BIND", "127.0.0.1:0")
        .current_dir(db.data_path());
    cmd
}

/// Runs a one-shot command to completion (stdout and stderr captured), killing it and
/// panicking after [`COMMAND_TIMEOUT`].
pub fn output(cmd: &mut Command) -> Output {
    try_output(cmd, COMMAND_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// [`output`] with an explicit timeout, returning an error instead of panicking.
pub fn try_output(cmd: &mut Command, timeout: Duration) -> Result<Output, String> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("blackbox: spawning {cmd:?}: {e}"))?;
    session::register_child(child.id());
    let stdout = drain(child.stdout.take(), None, None);
    let stderr = drain(child.stderr.take(), None, None);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    session::unregister_child(child.id());
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(format!(
            "blackbox: {cmd:?} did not finish within {timeout:?}; killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&stdout).trim_end(),
            String::from_utf8_lossy(&stderr).trim_end()
        )),
    }
}

/// [`output`] with the child's peak resident memory in bytes (its `ru_maxrss`, as `wait4`
/// reports it when the child is reaped): how the memory bounds of imports are checked.
/// Killed and panicking after [`COMMAND_TIMEOUT`].
pub fn output_with_peak_rss(cmd: &mut Command) -> (Output, u64) {
    use std::os::unix::process::ExitStatusExt as _;
    use std::sync::atomic::{AtomicBool, Ordering};

    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which reports its memory as `wait` cannot"
    )]
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("blackbox: spawning {cmd:?}: {e}"));
    let id = child.id();
    session::register_child(id);
    let stdout = drain(child.stdout.take(), None, None);
    let stderr = drain(child.stderr.take(), None, None);
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (done, timed_out) = (done.clone(), timed_out.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + COMMAND_TIMEOUT;
            while !done.load(Ordering::Acquire) {
                if Instant::now() >= deadline {
                    timed_out.store(true, Ordering::Release);
                    let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let (status, peak) = wait4(id);
    done.store(true, Ordering::Release);
    let _ = watchdog.join();
    session::unregister_child(id);
    let output = Output {
        status: ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(
        !timed_out.load(Ordering::Acquire),
        "blackbox: {cmd:?} did not finish within {COMMAND_TIMEOUT:?}; killed\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output, peak)
}

/// Reaps the child `pid`: its raw wait status and its peak resident memory in bytes.
#[allow(
    unsafe_code,
    reason = "wait4 is the one call that gives a child's own peak memory; std has no wrapper"
)]
fn wait4(pid: u32) -> (i32, u64) {
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    let mut status = 0;
    // SAFETY: `rusage` is plain old data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is a child of this process that nothing else waits for (its
        // `Child` is never waited); both pointers are valid for writes for the call.
        let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::Interrupted,
            "blackbox: wait4: {error}"
        );
    }
    // Linux reports kilobytes.
    (status, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024)
}

/// Called with each line a child prints (without the line ending).
type LineHook = Box<dyn FnMut(&str) + Send>;

/// Reads `pipe` to its end in a thread; returns everything read. Each complete line is also
/// appended to `shared` and offered to `on_line`.
fn drain<R: Read + Send + 'static>(
    pipe: Option<R>,
    shared: Option<Arc<Mutex<String>>>,
    mut on_line: Option<LineHook>,
) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let Some(pipe) = pipe else {
            return all;
        };
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    all.extend_from_slice(&line);
                    let text = String::from_utf8_lossy(&line);
                    if let Some(shared) = &shared {
                        shared
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push_str(&text);
                    }
                    if let Some(on_line) = on_line.as_mut() {
                        on_line(text.trim_end_matches(['\r', '\n']));
                    }
                }
            }
        }
        all
    })
}

/// A serving `hub` (or any command printing [`LISTENING`]), killed when dropped.
pub struct RunningHub {
    /// `http://127.0.0.1:PORT`, as printed by the hub (no trailing slash).
    pub base_url: String,
    child: Child,
    exit: Option<ExitStatus>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<Vec<u8>>>,
    agent: ureq::Agent,
    /// The credential [`RunningHub::get`] and [`RunningHub::post_text`] present
    /// (`Authorization: Bearer …`); none: the public caller.
    bearer: Option<String>,
}

impl std::fmt::Debug for RunningHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningHub")
            .field("base_url", &self.base_url)
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

/// Spawns `cmd` (stdout and stderr piped) and waits up to [`STARTUP_TIMEOUT`] for its
/// `hub: listening on http://...` line. Panics, with the child's output, when it exits or
/// times out first.
pub fn spawn(cmd: Command) -> RunningHub {
    spawn_with_timeout(cmd, STARTUP_TIMEOUT)
}

/// [`spawn`] with an explicit startup timeout.
pub fn spawn_with_timeout(mut cmd: Command, timeout: Duration) -> RunningHub {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("blackbox: spawning {cmd:?}: {e}"));
    session::register_child(child.id());
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel::<String>();
    let mut tx = Some(tx);
    let on_line = Box::new(move |line: &str| {
        if let Some(rest) = line.find(LISTENING).map(|i| &line[i + LISTENING.len()..])
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(rest.trim().trim_end_matches('/').to_string());
        }
    });
    let readers = vec![
        drain(child.stdout.take(), Some(stdout.clone()), Some(on_line)),
        drain(child.stderr.take(), Some(stderr.clone()), None),
    ];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut hub = RunningHub {
        base_url: String::new(),
        child,
        exit: None,
        stdout,
        stderr,
        readers,
        agent,
        bearer: None,
    };
    let deadline = Instant::now() + timeout;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(url) => {
                hub.base_url = url;
                return hub;
            }
            Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                if let Ok(Some(status)) = hub.child.try_wait() {
                    hub.exit = Some(status);
                    let problem = format!("exited ({status}) before printing `{LISTENING}...`");
                    hub.fail(&cmd, &problem);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                let problem = format!("printed no `{LISTENING}...` within {timeout:?}; killed");
                hub.fail(&cmd, &problem);
            }
            Err(RecvTimeoutError::Disconnected) => {
                // Stdout closed without the line: the child exited (or closed stdout).
                let status = hub.wait_for_exit(Duration::from_secs(10));
                let problem = match status {
                    Some(status) => format!("exited ({status}) before printing `{LISTENING}...`"),
                    None => format!("closed stdout before printing `{LISTENING}...`; killed"),
                };
                hub.fail(&cmd, &problem);
            }
        }
    }
}

impl RunningHub {
    /// Presents `key` (an API key or a JWT) on every request of [`RunningHub::get`] and
    /// [`RunningHub::post_text`] from now on.
    pub fn with_bearer(mut self, key: &str) -> Self {
        self.bearer = Some(key.to_owned());
        self
    }

    /// The `Authorization` header value of the hub's credential, if any.
    pub fn bearer(&self) -> Option<String> {
        self.bearer.as_ref().map(|k| format!("Bearer {k}"))
    }

    /// `base_url` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The HTTP agent (4xx/5xx are not errors, no proxy, 60 s timeout).
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET `path`: status and body text. Panics on transport errors.
    pub fn get(&self, path: &str) -> (u16, String) {
        let url = self.url(path);
        let mut request = self.agent.get(&url);
        if let Some(auth) = self.bearer() {
            request = request.header("Authorization", &auth);
        }
        let mut response = request
            .call()
            .unwrap_or_else(|e| panic!("blackbox: GET {url}: {e}"));
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("blackbox: GET {url}: reading the body: {e}"));
        (status, body)
    }

    /// The SQL statements the hub has run so far (`hub_sql_statements_total` of
    /// `/metrics`).
    pub fn sql_statements(&self) -> u64 {
        let (status, text) = self.get("/metrics");
        assert_eq!(status, 200, "blackbox: GET /metrics: {text}");
        text.lines()
            .find_map(|l| l.strip_prefix("hub_sql_statements_total "))
            .expect("hub_sql_statements_total in /metrics")
            .trim()
            .parse()
            .expect("a count of statements")
    }

    /// GET `path`, body parsed as JSON (an empty body is `null`).
    pub fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.get(path);
        (status, parse_json("GET", &self.url(path), status, &body))
    }

    /// POST `body` as JSON to `path`: status and the response body parsed as JSON (an
    /// empty body is `null`; a body that is not JSON panics, showing it).
    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let (status, text) = self.post_text(path, body);
        (status, parse_json("POST", &self.url(path), status, &text))
    }

    /// POST `body` as JSON to `path`: status and the response body as sent (e.g. to read
    /// the order of its keys, which a `serde_json::Value` does not keep).
    pub fn post_text(&self, path: &str, body: &serde_json::Value) -> (u16, String) {
        let url = self.url(path);
        let mut request = self.agent.post(&url);
        if let Some(auth) = self.bearer() {
            request = request.header("Authorization", &auth);
        }
        let mut response = request
            .send_json(body)
            .unwrap_or_else(|e| panic!("blackbox: POST {url}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("blackbox: POST {url}: reading the body: {e}"));
        (status, text)
    }

    /// Everything the child printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Everything the child printed on stderr so far (the log, at `HUB__LOG__FILTER`).
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the child has exited (without waiting).
    pub fn has_exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Sends SIGTERM and waits up to `timeout` for the child to exit (then SIGKILL).
    /// Returns the exit status, `None` when it had to be killed.
    pub fn terminate(mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.has_exited().is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
        }
        self.wait_for_exit(timeout)
    }

    /// Waits up to `timeout` for the child to exit on its own; kills it after that.
    fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.has_exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        None
    }

    fn kill(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
    }

    /// Kills the child, collects its output and panics with it.
    fn fail(&mut self, cmd: &Command, problem: &str) -> ! {
        self.kill();
        // Give the readers a moment to reach the end of the pipes.
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "blackbox: {cmd:?} {problem}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout().trim_end(),
            self.stderr().trim_end()
        );
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        self.kill();
        session::unregister_child(self.child.id());
        if std::thread::panicking() && !self.base_url.is_empty() {
            // Shown with the failing test's output.
            eprintln!(
                "--- hub {} stderr ---\n{}\n--- end of hub stderr ---",
                self.base_url,
                self.stderr().trim_end()
            );
        }
    }
}

fn parse_json(method: &str, url: &str, status: u16, body: &str) -> serde_json::Value {
    if body.trim().is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_str(body).unwrap_or_else(|e| {
        panic!("blackbox: {method} {url}: status {status}, body is not JSON ({e}):\n{body}")
    })
}

/// `hub import FILE --json ARGS` on `db`: whether it succeeded (exit status 0), and its
/// JSON report (printed whatever happens); panics with the output when there is none.
pub fn import_json(db: &TestDb, file: &Path, args: &[&str]) -> (bool, serde_json::Value) {
    let o = output(hub(db).arg("import").arg(file).arg("--json").args(args));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.success(), report)
}

/// Creates an API key with `hub keys create --name NAME --role ROLE [extra…]` and returns
/// the key: the last word the command prints.
pub fn create_key(db: &TestDb, name: &str, role: &str, extra: &[&str]) -> String {
    let out = output(
        hub(db)
            .args(["keys", "create", "--name", name, "--role", role])
            .args(extra),
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "hub keys create: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .split_whitespace()
        .last()
        .unwrap_or_else(|| panic!("hub keys create printed nothing"))
        .to_owned()
}

/// `hub demo` on a fresh empty database of `engine`, listening (the public caller).
pub fn demo(engine: super::Engine) -> (TestDb, RunningHub) {
    demo_with(engine, &[])
}

/// [`demo`] with the settings `env` (`HUB__…` variables) on top of the defaults.
pub fn demo_with(engine: super::Engine, env: &[(&str, &str)]) -> (TestDb, RunningHub) {
    let db = TestDb::empty(engine);
    let mut cmd = hub(&db);
    cmd.arg("demo").envs(env.iter().copied());
    let running = spawn(cmd);
    (db, running)
}

/// [`demo`], asked as an analyst (a key made for the test): the view in which figures and
/// identifiers are not suppressed.
pub fn demo_as_analyst(engine: super::Engine) -> (TestDb, RunningHub) {
    demo_as_analyst_with(engine, &[])
}

/// [`demo_as_analyst`] with the settings `env` on top of the defaults.
pub fn demo_as_analyst_with(engine: super::Engine, env: &[(&str, &str)]) -> (TestDb, RunningHub) {
    let (db, running) = demo_with(engine, env);
    let key = create_key(&db, "analyst", "analyst", &[]);
    (db, running.with_bearer(&key))
}
