//! Process isolation, the parent's side: one `hub plugin-host` child per plugin call
//! (a manifest, a sniff) or per import, driven over pipes with a timeout on every answer
//! and a size limit on every frame. A crash, abort, stack overflow or hang of the plugin
//! ends the child; the parent reports it and goes on.

use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Limits;
use super::wire::{FrameRead, Hello, Refusal, Request, read_frame, tag};

/// Environment variables a child keeps; everything else (database URL, CNIC key, tokens)
/// is cleared, since the child runs foreign code.
const KEPT_ENV: &[&str] = &[
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "RUST_BACKTRACE",
];

/// A running `hub plugin-host` child.
pub struct ChildHost {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: mpsc::Receiver<std::io::Result<FrameRead>>,
    timeout: Duration,
    max_batch_bytes: u64,
}

/// Why a child did not answer as expected.
#[derive(Debug)]
pub enum ChildFailure {
    /// No answer within the timeout; the child was stopped.
    Timeout(Duration),
    /// A frame above the batch limit; the child was stopped.
    TooLarge(u64, u64),
    /// The child ended: how.
    Ended(String),
    /// The pipe failed.
    Io(String),
}

impl std::fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChildFailure::Timeout(limit) => write!(
                f,
                "did not answer within {} ms (plugins.timeout_ms)",
                limit.as_millis()
            ),
            ChildFailure::TooLarge(len, max) => write!(
                f,
                "sent {len} bytes at once, above plugins.max_batch_bytes ({max})"
            ),
            ChildFailure::Ended(how) => write!(f, "crashed: its process {how}"),
            ChildFailure::Io(e) => write!(f, "cannot talk to its process: {e}"),
        }
    }
}

impl ChildFailure {
    /// What the host did about it, to end a message with.
    pub fn aftermath(&self) -> &'static str {
        match self {
            ChildFailure::Timeout(_) | ChildFailure::TooLarge(..) => "; its process was stopped",
            ChildFailure::Ended(_) | ChildFailure::Io(_) => "",
        }
    }

    /// The check a refusal at load time names.
    pub fn check(&self) -> &'static str {
        match self {
            ChildFailure::Timeout(_) => "timeout",
            ChildFailure::TooLarge(..) => "output size",
            ChildFailure::Ended(_) | ChildFailure::Io(_) => "crash",
        }
    }
}

impl ChildHost {
    /// Starts a child for the library and waits for its greeting. `Err(Ok(refusal))` when
    /// the child refused the library, `Err(Err(failure))` when it did not get that far.
    pub fn start(
        exe: &Path,
        library: &Path,
        limits: &Limits,
        show_stderr: bool,
    ) -> Result<(ChildHost, Hello), Result<Refusal, ChildFailure>> {
        let mut command = Command::new(exe);
        command
            .arg("plugin-host")
            .arg("--library")
            .arg(library)
            .env_clear()
            .envs(
                KEPT_ENV
                    .iter()
                    .filter_map(|k| std::env::var_os(k).map(|v| (k, v))),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if show_stderr {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        // A process group of its own, so that stopping the child also stops whatever it
        // started (a converter, a forked helper holding the pipe open).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|e| {
            Err(ChildFailure::Io(format!(
                "cannot start {} plugin-host: {e}",
                exe.display()
            )))
        })?;
        let stdin = child.stdin.take();
        let Some(stdout) = child.stdout.take() else {
            kill(&mut child);
            return Err(Err(ChildFailure::Io("no stdout".into())));
        };
        // One frame in flight at most: the pipe itself pushes back on a child that writes
        // more than it was asked for.
        let (tx, frames) = mpsc::sync_channel(1);
        let max = limits.max_batch_bytes;
        let reader = std::thread::Builder::new()
            .name("plugin-pipe".into())
            .spawn(move || {
                let mut stdout = BufReader::with_capacity(1 << 16, stdout);
                loop {
                    let read = read_frame(&mut stdout, max);
                    let last = !matches!(read, Ok(FrameRead::Frame(..)));
                    if tx.send(read).is_err() || last {
                        return;
                    }
                }
            });
        if let Err(e) = reader {
            kill(&mut child);
            return Err(Err(ChildFailure::Io(e.to_string())));
        }
        let mut host = ChildHost {
            child,
            stdin,
            frames,
            timeout: limits.timeout,
            max_batch_bytes: max,
        };
        match host.receive() {
            Ok((tag::HELLO, payload)) => match serde_json::from_slice::<Hello>(&payload) {
                Ok(hello) => Ok((host, hello)),
                Err(e) => Err(Err(ChildFailure::Io(format!("unreadable greeting: {e}")))),
            },
            Ok((tag::REFUSED, payload)) => Err(Ok(serde_json::from_slice(&payload)
                .unwrap_or_else(|_| Refusal::new("load", "refused without a reason")))),
            Ok((other, _)) => Err(Err(ChildFailure::Io(format!(
                "unexpected frame {:?} before the greeting",
                other as char
            )))),
            Err(failure) => Err(Err(failure)),
        }
    }

    /// Sends a request and waits for its answer: a tag and a payload.
    pub fn request(&mut self, request: &Request) -> Result<(u8, Vec<u8>), ChildFailure> {
        let mut line = serde_json::to_vec(request).map_err(|e| ChildFailure::Io(e.to_string()))?;
        line.push(b'\n');
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(&line).and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if sent.is_err() {
            // The child is gone: say how.
            return Err(self.ended());
        }
        self.receive()
    }

    fn receive(&mut self) -> Result<(u8, Vec<u8>), ChildFailure> {
        match self.frames.recv_timeout(self.timeout) {
            Ok(Ok(FrameRead::Frame(tag, payload))) => Ok((tag, payload)),
            Ok(Ok(FrameRead::TooLarge(_, len))) => {
                self.stop();
                Err(ChildFailure::TooLarge(len, self.max_batch_bytes))
            }
            Ok(Ok(FrameRead::Closed)) | Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(self.ended())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                self.stop();
                Err(ChildFailure::Timeout(self.timeout))
            }
        }
    }

    /// The child's end, once its output closed: waits briefly for its status.
    fn ended(&mut self) -> ChildFailure {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return ChildFailure::Ended(describe_exit(status)),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    self.stop();
                    return ChildFailure::Ended("closed its output without exiting".into());
                }
                Err(e) => return ChildFailure::Io(e.to_string()),
            }
        }
    }

    /// Kills the child (and its process group) and reaps it.
    fn stop(&mut self) {
        self.stdin = None;
        kill(&mut self.child);
    }
}

impl Drop for ChildHost {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills a child with everything in its process group, and reaps it.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        let group = rustix::process::Pid::from_child(child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// How a child process ended, for messages: `was killed by signal 11 (SIGSEGV, segmentation
/// fault)`, `exited with status 101`.
pub fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => " (SIGILL, illegal instruction)",
                6 => {
                    " (SIGABRT, aborted: a panic=abort build, std::process::abort or a stack overflow)"
                }
                7 => " (SIGBUS, bus error)",
                8 => " (SIGFPE, arithmetic error)",
                9 => " (SIGKILL, killed)",
                11 => " (SIGSEGV, segmentation fault)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".to_owned(),
    }
}

/// The executable a child runs: this `hub` binary. On Linux `/proc/self/exe`, which
/// stays this binary even when an upgrade replaces the file on disk.
pub fn hub_exe() -> PathBuf {
    let this = Path::new("/proc/self/exe");
    if cfg!(target_os = "linux") && this.exists() {
        return this.to_owned();
    }
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("hub"))
}
