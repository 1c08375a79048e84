//! The plugin host: importer plugins loaded from `plugins.dir`, checked before any call,
//! and run in a child process (the default) or in the hub's own process.
//!
//! # What happens to a library in the plugin folder
//!
//! 1. **Found**: every file directly in `plugins.dir` with the platform's library
//!    extension, in name order.
//! 2. **Pinned** (optional): when `plugins.allowed_sha256` is not empty, the library's
//!    SHA-256 must be in it.
//! 3. **Loaded and checked**, in the child (`process`) or here (`in-process`), before any
//!    of its functions is called: the library loads; it exports `hub_importer`; the
//!    table's ABI version is one this hub knows; the table is large enough; no function is
//!    null. Then its manifest is read and checked: it parses, its id is well-formed, it
//!    emits something, and its SDK version is one this hub understands.
//! 4. **Unique**: a plugin whose id is a built-in importer's, or another plugin's, is
//!    refused (all plugins sharing an id are refused: the hub cannot tell which one is
//!    meant).
//!
//! A refused plugin is reported (log, `hub importers list`, `hub plugins check`) with the
//! check that failed and what was expected; the hub runs on without it. An accepted plugin
//! is an importer like the built-in ones ([`PluginImporter`] implements the SDK's
//! `Importer`): `hub import --importer ID`, `importFile`, sniffing, and exactly the same
//! validation, linking and transaction.
//!
//! # Isolation
//!
//! - `process` (default): the hub never loads the library. Each call (describe, sniff) and
//!   each import starts `hub plugin-host --library PATH`, which loads it and answers over
//!   a pipe ([`wire`]). Every answer has a deadline (`plugins.timeout_ms`) and every
//!   frame a size limit (`plugins.max_batch_bytes`); a child that crashes, aborts,
//!   overflows its stack, hangs or floods is stopped and the import fails with the reason.
//!   The child gets a cleared environment (no database URL, no keys).
//! - `in-process`: the library is loaded into the hub once and never unloaded. Calls run
//!   on a thread of their own, so a hang fails the import after the timeout, but that
//!   thread cannot be stopped; a crash or abort of the plugin ends the hub. For plugins
//!   the operator trusts as much as the hub itself.

pub mod check;
mod child;
mod load;
mod process;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use hub_plugin_sdk::abi::{CallError, PluginTable};
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, Item, RecordStream, SDK_VERSION,
    scrub_values,
};
use sha2::{Digest as _, Sha256};

pub use child::main as plugin_host_main;
pub use process::hub_exe;

use crate::config::{Isolation, PluginSettings};
use process::ChildHost;
use wire::{Refusal, Request, tag};

/// The limits every plugin call runs under.
#[derive(Debug, Clone)]
pub struct Limits {
    pub timeout: Duration,
    pub max_batch_bytes: u64,
    pub max_output_bytes: u64,
    pub max_import: Duration,
}

impl Limits {
    pub fn of(settings: &PluginSettings) -> Self {
        Limits {
            timeout: Duration::from_millis(settings.timeout_ms.max(1)),
            max_batch_bytes: settings.max_batch_bytes.max(1),
            max_output_bytes: settings.max_output_bytes.max(1),
            max_import: Duration::from_millis(settings.max_import_ms.max(1)),
        }
    }
}

/// How the host reaches a plugin.
#[derive(Debug, Clone)]
pub enum Host {
    /// Children running this executable in plugin-host mode.
    Process {
        exe: PathBuf,
        /// Whether children write to the hub's stderr (`hub plugins check`) or to nowhere.
        show_stderr: bool,
    },
    /// Loaded into this process.
    InProcess,
}

impl Host {
    pub fn of(isolation: Isolation) -> Self {
        match isolation {
            Isolation::Process => Host::Process {
                exe: hub_exe(),
                show_stderr: false,
            },
            Isolation::InProcess => Host::InProcess,
        }
    }

    pub fn isolation(&self) -> Isolation {
        match self {
            Host::Process { .. } => Isolation::Process,
            Host::InProcess => Isolation::InProcess,
        }
    }
}

/// A plugin library that passed every check.
#[derive(Debug)]
pub struct PluginInfo {
    pub manifest: ImporterManifest,
    pub path: PathBuf,
    pub sha256: String,
    pub abi_version: u32,
    pub struct_size: u32,
    /// `plugin chamber-directory (libchamber_directory.so)`, for messages.
    pub label: String,
    /// Set once the plugin hung or crashed while sniffing: it is not asked again.
    pub sniff_disabled: AtomicBool,
}

/// An accepted plugin, usable as an importer.
#[derive(Debug, Clone)]
pub struct PluginImporter {
    info: Arc<PluginInfo>,
    backend: Backend,
    limits: Limits,
}

#[derive(Debug, Clone)]
enum Backend {
    InProcess(PluginTable),
    Process { exe: PathBuf, show_stderr: bool },
}

/// A library that was refused, and why.
#[derive(Debug, Clone)]
pub struct RefusedPlugin {
    pub path: PathBuf,
    pub refusal: Refusal,
}

impl std::fmt::Display for RefusedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "plugin {} refused: {}",
            file_name(&self.path),
            self.refusal
        )
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The plugins of a folder: accepted and refused.
#[derive(Debug, Default)]
pub struct Discovered {
    pub plugins: Vec<PluginImporter>,
    pub refused: Vec<RefusedPlugin>,
}

/// Points the process's stdout at stderr until dropped, for commands whose stdout is
/// meant for a program (`hub import --json`) while in-process plugins run: a plugin that
/// prints would otherwise corrupt it (a plugin in its own process cannot: its child does
/// the same).
#[derive(Debug)]
pub struct StdoutToStderr {
    #[cfg(unix)]
    saved: std::os::fd::OwnedFd,
}

impl StdoutToStderr {
    /// Redirects fd 1 to stderr; `None` where that is not possible.
    pub fn new() -> Option<Self> {
        #[cfg(unix)]
        {
            use std::io::Write as _;
            use std::os::fd::AsFd as _;
            let _ = std::io::stdout().flush();
            let saved = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
            rustix::stdio::dup2_stdout(std::io::stderr()).ok()?;
            Some(StdoutToStderr { saved })
        }
        #[cfg(not(unix))]
        None
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            let _ = rustix::stdio::dup2_stdout(&self.saved);
        }
    }
}

/// Finds, loads and checks the plugins in `settings.dir`. `taken_ids` are the built-in
/// importers' ids. A missing folder means no plugins.
pub fn discover(settings: &PluginSettings, host: &Host, taken_ids: &[String]) -> Discovered {
    let mut found = Discovered::default();
    let (accepted, refused) = inspect_folder(settings, host);
    found.refused = refused;
    for plugin in &accepted {
        let id = &plugin.info.manifest.id;
        let sharing: Vec<String> = accepted
            .iter()
            .filter(|other| &other.info.manifest.id == id)
            .map(|other| file_name(&other.info.path))
            .collect();
        let clash = if taken_ids.contains(id) {
            Some(format!(
                "the id {id:?} is a built-in importer's; plugin ids must be unique"
            ))
        } else if sharing.len() > 1 {
            Some(format!(
                "the id {id:?} is declared by {}; plugin ids must be unique, so none of them is \
                 loaded",
                sharing.join(" and ")
            ))
        } else {
            None
        };
        match clash {
            Some(message) => found.refused.push(RefusedPlugin {
                path: plugin.info.path.clone(),
                refusal: Refusal::new("id", message),
            }),
            None => found.plugins.push(plugin.clone()),
        }
    }
    for refused in &found.refused {
        tracing::warn!("{refused}");
    }
    for plugin in &found.plugins {
        tracing::info!(
            importer = %plugin.info.manifest.id,
            version = %plugin.info.manifest.version,
            file = %file_name(&plugin.info.path),
            isolation = host.isolation().name(),
            "loaded an importer plugin"
        );
    }
    found
}

/// Loads and checks every library of `settings.dir` (every check but uniqueness).
pub fn inspect_folder(
    settings: &PluginSettings,
    host: &Host,
) -> (Vec<PluginImporter>, Vec<RefusedPlugin>) {
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    let entries = match std::fs::read_dir(&settings.dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (accepted, refused),
        Err(e) => {
            tracing::warn!(dir = %settings.dir.display(), "cannot read the plugin folder: {e}");
            return (accepted, refused);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| is_library(path))
        .collect();
    paths.sort();
    let limits = Limits::of(settings);
    for path in paths {
        match inspect(&path, &settings.allowed_sha256, host, &limits) {
            Ok(plugin) => accepted.push(plugin),
            Err(refusal) => refused.push(RefusedPlugin { path, refusal }),
        }
    }
    (accepted, refused)
}

/// Whether the file looks like a shared library of this platform.
fn is_library(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|ext| ext == std::env::consts::DLL_EXTENSION)
        && !file_name(path).starts_with('.')
}

/// Loads and checks one library (every check but uniqueness).
pub fn inspect(
    path: &Path,
    allowed_sha256: &[String],
    host: &Host,
    limits: &Limits,
) -> Result<PluginImporter, Refusal> {
    let bytes = std::fs::read(path)
        .map_err(|e| Refusal::new("load", format!("cannot read the library: {e}")))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    drop(bytes);
    if !allowed_sha256.is_empty()
        && !allowed_sha256
            .iter()
            .any(|allowed| allowed.trim().eq_ignore_ascii_case(&sha256))
    {
        return Err(Refusal::new(
            "sha256",
            format!(
                "the library's SHA-256 is {sha256}, which plugins.allowed_sha256 does not list"
            ),
        ));
    }
    let (backend, hello, manifest_json) = match host {
        Host::InProcess => {
            // Loading runs the library's initialisers: under the timeout too.
            let owned = path.to_owned();
            let table = call_with_timeout(limits.timeout, move || load::load(&owned))
                .map_err(|e| Refusal::new(e.check(), format!("{e}{}", e.aftermath())))??;
            let json = call_with_timeout(limits.timeout, move || table.manifest_json())
                .map_err(|e| Refusal::new(e.check(), e.to_string()))?
                .map_err(|e| Refusal::new("manifest", format!("reading it failed: {e}")))?;
            let hello = wire::Hello {
                abi_version: table.header.abi_version,
                struct_size: table.header.struct_size,
            };
            (Backend::InProcess(table), hello, json)
        }
        Host::Process { exe, show_stderr } => {
            let (mut child, hello) =
                ChildHost::start(exe, path, limits, *show_stderr).map_err(|e| {
                    e.unwrap_or_else(|f| Refusal::new(f.check(), format!("{f}{}", f.aftermath())))
                })?;
            let json = match child.request(&Request::Describe) {
                Ok((tag::MANIFEST, json)) => json,
                Ok((other, payload)) => {
                    return Err(Refusal::new(
                        "manifest",
                        format!("reading it failed: {}", answer_error(other, &payload)),
                    ));
                }
                Err(failure) => {
                    let message = format!("{failure}{}", failure.aftermath());
                    return Err(Refusal::new(failure.check(), message));
                }
            };
            let backend = Backend::Process {
                exe: exe.clone(),
                show_stderr: *show_stderr,
            };
            (backend, hello, json)
        }
    };
    let manifest = check_manifest(&manifest_json)?;
    let label = format!("plugin {} ({})", manifest.id, file_name(path));
    Ok(PluginImporter {
        info: Arc::new(PluginInfo {
            manifest,
            path: path.to_owned(),
            sha256,
            abi_version: hello.abi_version,
            struct_size: hello.struct_size,
            label,
            sniff_disabled: AtomicBool::new(false),
        }),
        backend,
        limits: limits.clone(),
    })
}

/// Parses and checks a manifest: JSON, a well-formed id, a name and version, something
/// emitted, a compatible SDK version.
pub fn check_manifest(json: &[u8]) -> Result<ImporterManifest, Refusal> {
    let manifest: ImporterManifest = serde_json::from_slice(json).map_err(|e| {
        Refusal::new(
            "manifest",
            format!("the manifest is not a valid importer manifest (JSON): {e}"),
        )
    })?;
    let id_ok = !manifest.id.is_empty()
        && manifest.id.len() <= 64
        && manifest
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !id_ok {
        return Err(Refusal::new(
            "manifest",
            format!(
                "the id {:?} is not an importer id (1 to 64 lower-case letters, digits, - and .)",
                manifest.id
            ),
        ));
    }
    if manifest.name.trim().is_empty() || manifest.version.trim().is_empty() {
        return Err(Refusal::new(
            "manifest",
            "the manifest lacks a name or a version",
        ));
    }
    if manifest.emits.is_empty() {
        return Err(Refusal::new(
            "manifest",
            "the manifest declares no record kinds it emits",
        ));
    }
    sdk_compatible(&manifest.sdk_version, SDK_VERSION)
        .map_err(|message| Refusal::new("SDK version", message))?;
    Ok(manifest)
}

/// Whether a plugin built against SDK `plugin` runs on a host built with SDK `host`: same
/// major version (same minor before 1.0), and not newer than the host, whose record types
/// would lack what a newer SDK emits.
pub fn sdk_compatible(plugin: &str, host: &str) -> Result<(), String> {
    fn parse(version: &str) -> Option<(u64, u64, u64)> {
        let core = version.trim().split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some((major, minor, patch))
    }
    let expected = match parse(host) {
        Some((0, minor, _)) => format!("0.{minor}.0 to {host}"),
        Some((major, _, _)) => format!("{major}.0.0 to {host}"),
        None => host.to_owned(),
    };
    let refuse = || {
        Err(format!(
            "the plugin was built with SDK {plugin:?}; this hub (SDK {host}) loads plugins built \
             with SDK {expected}"
        ))
    };
    let (Some(p), Some(h)) = (parse(plugin), parse(host)) else {
        return refuse();
    };
    let same_series = p.0 == h.0 && (h.0 > 0 || p.1 == h.1);
    if same_series && p <= h {
        Ok(())
    } else {
        refuse()
    }
}

/// A child's answer that is not the one expected, as the call error it stands for.
fn answer_error(tag: u8, payload: &[u8]) -> CallError {
    match tag {
        tag::FAILED => match serde_json::from_slice::<ImportError>(payload) {
            Ok(e) => CallError::Failed(e),
            Err(_) => CallError::Protocol("an error that is not an ImportError".into()),
        },
        tag::PANICKED => CallError::Panicked(String::from_utf8_lossy(payload).into_owned()),
        tag::PROTOCOL => CallError::Protocol(String::from_utf8_lossy(payload).into_owned()),
        other => CallError::Protocol(format!("an unexpected answer {:?}", other as char)),
    }
}

/// Why an in-process call did not return.
#[derive(Debug)]
enum Stalled {
    Timeout(Duration),
    Thread(String),
}

impl Stalled {
    /// What the host did about it, to end a message with.
    fn aftermath(&self) -> &'static str {
        match self {
            Stalled::Timeout(_) => {
                "; in-process plugins cannot be stopped, so its thread is left behind"
            }
            Stalled::Thread(_) => "",
        }
    }

    fn check(&self) -> &'static str {
        match self {
            Stalled::Timeout(_) => "timeout",
            Stalled::Thread(_) => "crash",
        }
    }
}

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stalled::Timeout(limit) => write!(
                f,
                "did not answer within {} ms (plugins.timeout_ms)",
                limit.as_millis()
            ),
            Stalled::Thread(e) => write!(f, "cannot start a thread for it: {e}"),
        }
    }
}

/// The longest a sniff may take, whatever `plugins.timeout_ms` says.
const SNIFF_TIMEOUT: Duration = Duration::from_secs(5);

/// Plugin threads get a main thread's stack.
const PLUGIN_STACK: usize = 8 << 20;

/// Runs an in-process call on a thread of its own and waits for it at most `timeout`.
fn call_with_timeout<T: Send + 'static>(
    timeout: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stalled> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("plugin-call".into())
        .stack_size(PLUGIN_STACK)
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| Stalled::Thread(e.to_string()))?;
    rx.recv_timeout(timeout)
        .map_err(|_| Stalled::Timeout(timeout))
}

impl PluginImporter {
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    pub fn isolation(&self) -> Isolation {
        match self.backend {
            Backend::InProcess(_) => Isolation::InProcess,
            Backend::Process { .. } => Isolation::Process,
        }
    }

    /// The plugin's confidence for a file. `Err` says what went wrong and whether the
    /// plugin itself stalled or crashed (rather than panicking on this file).
    pub(crate) fn sniff_checked(
        &self,
        head: &[u8],
        file_name: &str,
    ) -> Result<Confidence, (String, bool)> {
        // A sniff reads a few kilobytes: it gets less time than a batch.
        let limits = Limits {
            timeout: self.limits.timeout.min(SNIFF_TIMEOUT),
            ..self.limits.clone()
        };
        match &self.backend {
            Backend::InProcess(table) => {
                let table = *table;
                let (head, file_name) = (head.to_vec(), file_name.to_owned());
                call_with_timeout(limits.timeout, move || table.sniff(&head, &file_name))
                    .map_err(|e| (format!("{e}{}", e.aftermath()), true))?
                    .map_err(|e| (e.to_string(), false))
            }
            Backend::Process { exe, show_stderr } => {
                let (mut child, _) = ChildHost::start(exe, &self.info.path, &limits, *show_stderr)
                    .map_err(|e| match e {
                        Ok(refusal) => (refusal.to_string(), true),
                        Err(failure) => (format!("{failure}{}", failure.aftermath()), true),
                    })?;
                match child.request(&Request::sniff(head, file_name)) {
                    Ok((tag::SNIFF, payload)) if payload.len() == 1 => {
                        Ok(Confidence::new(payload[0]))
                    }
                    Ok((other, payload)) => Err((answer_error(other, &payload).to_string(), false)),
                    Err(failure) => Err((format!("{failure}{}", failure.aftermath()), true)),
                }
            }
        }
    }
}

impl Importer for PluginImporter {
    fn manifest(&self) -> ImporterManifest {
        self.info.manifest.clone()
    }

    /// A plugin that fails to sniff is not confident: logged, and the file goes to another
    /// importer or to `--importer`. One that hangs or crashes while sniffing is not asked
    /// to sniff again until the hub restarts, so that it cannot slow every import down; it
    /// stays available by its id.
    fn sniff(&self, head: &[u8], file_name: &str) -> Confidence {
        if self.info.sniff_disabled.load(Ordering::Relaxed) {
            return Confidence::NONE;
        }
        match self.sniff_checked(head, file_name) {
            Ok(confidence) => confidence,
            Err((e, stalled)) => {
                if stalled {
                    self.info.sniff_disabled.store(true, Ordering::Relaxed);
                    tracing::warn!(
                        "{} failed to sniff a file: {e}; it is not asked to sniff again until \
                         the hub restarts (name it with --importer)",
                        self.info.label
                    );
                } else {
                    tracing::warn!("{} failed to sniff a file: {e}", self.info.label);
                }
                Confidence::NONE
            }
        }
    }

    fn open(
        &mut self,
        input: Input,
        options: &serde_json::Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = if options.is_null() {
            String::new()
        } else {
            options.to_string()
        };
        let path = Request::path_bytes(&input.path);
        let raw: Box<dyn RawStream> = match &self.backend {
            Backend::InProcess(table) => Box::new(ThreadStream::open(
                *table,
                path,
                input.file_name,
                options,
                &self.info.label,
                &self.limits,
            )?),
            Backend::Process { exe, show_stderr } => Box::new(ChildStream::open(
                exe,
                &self.info,
                &self.limits,
                *show_stderr,
                Request::open(&input.path, &input.file_name, &options),
            )?),
        };
        Ok(Box::new(PluginStream {
            raw,
            label: self.info.label.clone(),
            limits: self.limits.clone(),
            batches: 0,
            output: 0,
            failed: None,
            started: std::time::Instant::now(),
        }))
    }
}

/// A plugin's batches as raw NDJSON bytes.
trait RawStream {
    fn next_raw(&mut self, max: u32) -> Result<Option<Vec<u8>>, ImportError>;
}

/// The items of a plugin session: sizes checked, NDJSON parsed, exactly as for either
/// isolation mode.
struct PluginStream {
    raw: Box<dyn RawStream>,
    label: String,
    limits: Limits,
    batches: u64,
    output: u64,
    /// The error that ended the stream: every later call returns it again, so that no
    /// caller can mistake a failed stream for a finished one.
    failed: Option<ImportError>,
    /// When the file was opened, for `plugins.max_import_ms`.
    started: std::time::Instant,
}

impl RecordStream for PluginStream {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let batch = self.next_checked(max);
        if let Err(error) = &batch {
            self.failed = Some(error.clone());
        }
        batch
    }
}

impl PluginStream {
    fn next_checked(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = u32::try_from(max.max(1)).unwrap_or(u32::MAX);
        let Some(bytes) = self.raw.next_raw(max)? else {
            return Ok(None);
        };
        self.batches += 1;
        let len = bytes.len() as u64;
        if len > self.limits.max_batch_bytes {
            return Err(ImportError::new(format!(
                "{} returned a batch of {len} bytes, above plugins.max_batch_bytes ({})",
                self.label, self.limits.max_batch_bytes
            )));
        }
        self.output += len;
        if self.started.elapsed() > self.limits.max_import {
            return Err(ImportError::new(format!(
                "{} was still reading after {} ms (plugins.max_import_ms); the import was \
                 stopped",
                self.label,
                self.limits.max_import.as_millis()
            )));
        }
        if self.output > self.limits.max_output_bytes {
            return Err(ImportError::new(format!(
                "{} produced more than plugins.max_output_bytes ({} bytes) for one file; the \
                 import was stopped",
                self.label, self.limits.max_output_bytes
            )));
        }
        let items = wire::parse_batch(&bytes, self.batches).map_err(|e| {
            ImportError::new(format!(
                "{} returned output the hub cannot read: {e}",
                self.label
            ))
        })?;
        if items.is_empty() {
            return Err(ImportError::new(format!(
                "{} returned an empty batch (batch {}); a batch holds at least one item",
                self.label, self.batches
            )));
        }
        Ok(Some(items))
    }
}

/// An import's error for a failed call.
fn call_error(label: &str, during: &str, error: CallError) -> ImportError {
    match error {
        CallError::Failed(e) => e,
        // A panic's message is often a parse error's, quoting the value it choked on.
        CallError::Panicked(message) => ImportError::new(format!(
            "{label} panicked while {during}: {}",
            scrub_values(&message)
        )),
        CallError::Protocol(message) => ImportError::new(format!(
            "{label} broke the ABI while {during}: {}",
            scrub_values(&message)
        )),
        CallError::TooLarge(len) => ImportError::new(format!(
            "{label} returned a batch of {len} bytes, above plugins.max_batch_bytes"
        )),
    }
}

/// In-process: the session lives on a thread of its own, which answers requests for
/// batches; the stream waits for each answer at most the timeout.
struct ThreadStream {
    requests: Option<mpsc::Sender<u32>>,
    answers: mpsc::Receiver<Result<Option<Vec<u8>>, CallError>>,
    label: String,
    timeout: Duration,
    max_bytes: u64,
}

impl ThreadStream {
    fn open(
        table: PluginTable,
        path: Vec<u8>,
        file_name: String,
        options: String,
        label: &str,
        limits: &Limits,
    ) -> Result<Self, ImportError> {
        let (timeout, max_bytes) = (limits.timeout, limits.max_batch_bytes);
        let (requests, wanted) = mpsc::channel::<u32>();
        let (answer, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name("plugin-session".into())
            .stack_size(PLUGIN_STACK)
            .spawn(move || {
                let mut session = match table.open(&path, &file_name, options.as_bytes()) {
                    Ok(session) => {
                        if answer.send(Ok(None)).is_err() {
                            return;
                        }
                        session
                    }
                    Err(e) => {
                        let _ = answer.send(Err(e));
                        return;
                    }
                };
                for max in wanted {
                    let batch = session.next_batch(max, max_bytes);
                    let last = !matches!(batch, Ok(Some(_)));
                    if answer.send(batch).is_err() || last {
                        return;
                    }
                }
            })
            .map_err(|e| ImportError::new(format!("cannot start a thread for {label}: {e}")))?;
        let stream = ThreadStream {
            requests: Some(requests),
            answers,
            label: label.to_owned(),
            timeout,
            max_bytes,
        };
        match stream.answers.recv_timeout(timeout) {
            Ok(Ok(_)) => Ok(stream),
            Ok(Err(e)) => Err(call_error(label, "opening the file", e)),
            Err(_) => {
                let stalled = Stalled::Timeout(timeout);
                Err(ImportError::new(format!(
                    "{label} {stalled} while opening the file{}",
                    stalled.aftermath()
                )))
            }
        }
    }
}

impl RawStream for ThreadStream {
    fn next_raw(&mut self, max: u32) -> Result<Option<Vec<u8>>, ImportError> {
        let stalled = |label: &str, timeout| {
            let stalled = Stalled::Timeout(timeout);
            ImportError::new(format!(
                "{label} {stalled} while reading the file{}",
                stalled.aftermath()
            ))
        };
        let Some(requests) = &self.requests else {
            return Ok(None);
        };
        if requests.send(max).is_err() {
            return Err(ImportError::new(format!(
                "{} stopped answering",
                self.label
            )));
        }
        match self.answers.recv_timeout(self.timeout) {
            Ok(Ok(Some(batch))) => Ok(Some(batch)),
            Ok(Ok(None)) => {
                self.requests = None;
                Ok(None)
            }
            Ok(Err(CallError::TooLarge(len))) => {
                self.requests = None;
                Err(ImportError::new(format!(
                    "{} returned a batch of {len} bytes, above plugins.max_batch_bytes ({})",
                    self.label, self.max_bytes
                )))
            }
            Ok(Err(e)) => {
                self.requests = None;
                Err(call_error(&self.label, "reading the file", e))
            }
            Err(_) => {
                self.requests = None;
                Err(stalled(&self.label, self.timeout))
            }
        }
    }
}

/// Process isolation: one child for the whole import.
struct ChildStream {
    child: Option<ChildHost>,
    label: String,
}

impl ChildStream {
    fn open(
        exe: &Path,
        info: &PluginInfo,
        limits: &Limits,
        show_stderr: bool,
        open: Request,
    ) -> Result<Self, ImportError> {
        let label = &info.label;
        let (mut child, _) =
            ChildHost::start(exe, &info.path, limits, show_stderr).map_err(|e| {
                ImportError::new(match e {
                    Ok(refusal) => format!("{label} cannot be loaded any more: {refusal}"),
                    Err(failure) => {
                        format!("{label} {failure} while loading{}", failure.aftermath())
                    }
                })
            })?;
        match child.request(&open) {
            Ok((tag::OPENED, _)) => Ok(ChildStream {
                child: Some(child),
                label: label.clone(),
            }),
            Ok((other, payload)) => Err(call_error(
                label,
                "opening the file",
                answer_error(other, &payload),
            )),
            Err(failure) => Err(ImportError::new(format!(
                "{label} {failure} while opening the file{}",
                failure.aftermath()
            ))),
        }
    }
}

impl RawStream for ChildStream {
    fn next_raw(&mut self, max: u32) -> Result<Option<Vec<u8>>, ImportError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let answer = child.request(&Request::Next { max });
        let label = &self.label;
        match answer {
            Ok((tag::BATCH, batch)) => Ok(Some(batch)),
            Ok((tag::END, _)) => {
                self.child = None;
                Ok(None)
            }
            Ok((other, payload)) => {
                self.child = None;
                Err(call_error(
                    label,
                    "reading the file",
                    answer_error(other, &payload),
                ))
            }
            Err(failure) => {
                self.child = None;
                Err(ImportError::new(format!(
                    "{label} {failure} while reading the file{}",
                    failure.aftermath()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_versions_are_compatible_within_a_series_and_never_newer() {
        assert!(sdk_compatible("0.1.0", "0.1.0").is_ok());
        assert!(sdk_compatible("0.1.0", "0.1.7").is_ok());
        assert!(sdk_compatible("1.2.0", "1.4.1").is_ok());
        assert!(sdk_compatible("1.0.0-rc.1", "1.0.0").is_ok());
        let newer = sdk_compatible("1.5.0", "1.4.1").unwrap_err();
        assert_eq!(
            newer,
            "the plugin was built with SDK \"1.5.0\"; this hub (SDK 1.4.1) loads plugins built \
             with SDK 1.0.0 to 1.4.1"
        );
        // Newer by a patch release: its records may carry fields this hub lacks.
        assert!(sdk_compatible("0.1.7", "0.1.0").is_err());
        assert!(sdk_compatible("1.4.2", "1.4.1").is_err());
        assert!(sdk_compatible("0.2.0", "0.1.0").is_err());
        assert!(sdk_compatible("0.0.9", "0.1.0").is_err());
        assert!(sdk_compatible("2.0.0", "1.4.1").is_err());
        let garbage = sdk_compatible("latest", "0.1.0").unwrap_err();
        assert!(garbage.ends_with("with SDK 0.1.0 to 0.1.0"), "{garbage}");
    }

    #[test]
    fn manifests_are_checked_before_use() {
        let manifest = |value: serde_json::Value| check_manifest(value.to_string().as_bytes());
        let good = serde_json::json!({
            "id": "chamber-directory", "name": "Chamber", "version": "1.0.0",
            "sdk_version": SDK_VERSION, "emits": ["organisation"],
            "a_field_from_the_future": true,
        });
        assert_eq!(manifest(good.clone()).unwrap().id, "chamber-directory");
        let refused = |patch: serde_json::Value| {
            let mut value = good.clone();
            for (key, field) in patch.as_object().unwrap() {
                value[key] = field.clone();
            }
            manifest(value).unwrap_err()
        };
        assert_eq!(
            refused(serde_json::json!({"id": "Chamber Directory"})).check,
            "manifest"
        );
        assert_eq!(refused(serde_json::json!({"id": ""})).check, "manifest");
        assert_eq!(refused(serde_json::json!({"emits": []})).check, "manifest");
        assert_eq!(
            refused(serde_json::json!({"emits": ["spaceship"]})).check,
            "manifest"
        );
        assert_eq!(refused(serde_json::json!({"name": " "})).check, "manifest");
        assert_eq!(
            refused(serde_json::json!({"sdk_version": "7.0.0"})).check,
            "SDK version"
        );
        assert_eq!(check_manifest(b"{\"id\":").unwrap_err().check, "manifest");
    }
}
