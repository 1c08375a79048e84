//! The C ABI through which the hub loads importer plugins, version 1.
//!
//! Rust has no stable ABI, so nothing Rust-shaped crosses between a plugin library and the
//! hub: only the `#[repr(C)]` structs of this module, `extern "C"` functions and bytes
//! (JSON and NDJSON). A plugin built by another compiler version therefore works; one built
//! against another ABI version is refused before any of its functions is called.
//!
//! Plugin authors never touch this module: they implement [`Importer`] and write one line,
//! [`export_importer!`](crate::export_importer), which generates the table below and
//! catches every panic at the boundary. The host side ([`PluginTable`], [`PluginSession`])
//! is here too, so that both ends of the contract are defined, and tested, in one place.
//!
//! # The contract
//!
//! A plugin library exports one symbol, [`ENTRY_SYMBOL`] (`hub_importer`): a function
//! taking nothing and returning a pointer to a static [`ImporterV1`] table. The table
//! starts with [`ImporterV1::abi_version`] and [`ImporterV1::struct_size`]; these two
//! fields never move, so a host can always read them and refuse with a clear message.
//! Then come the functions, each of which returns a status (see [`status`]):
//!
//! | function | does | output |
//! |---|---|---|
//! | `manifest(out)` | describes the importer | the [`ImporterManifest`](crate::ImporterManifest) as JSON |
//! | `sniff(head, file_name)` | confidence 0–100 that it reads the file | the return value |
//! | `open(path, file_name, options, session, out)` | opens the input | a session, or an error |
//! | `next_batch(session, max, out)` | the next items | NDJSON, one [`Item`](crate::Item) per line |
//! | `close(session)` | ends the session | — |
//! | `free_buf(buf)` | frees a buffer the plugin returned | — |
//!
//! Inputs are [`Bytes`], borrowed for the duration of the call. Outputs are [`OwnedBuf`]s,
//! allocated by the plugin's allocator and owned by it until the host hands them back
//! through `free_buf` (each library has its own allocator). Errors travel the same way:
//! status [`status::ERROR`] with an [`ImportError`] as JSON, [`status::PANIC`] with the
//! panic's message as text.
//!
//! # Versioning
//!
//! - [`ABI_VERSION`] changes when the table changes incompatibly (a function's signature
//!   or meaning). A host knows a set of ABI versions and refuses the others.
//! - Compatible additions (a new optional function) are appended to the table and raise
//!   its size, never its version: a host reads the functions that fit in `struct_size`.
//! - The [`SDK_VERSION`](crate::SDK_VERSION) in the manifest covers the record types: a
//!   host accepts plugins built against its own SDK version or an older compatible one
//!   (same major version; same minor version before 1.0), since a newer SDK may emit
//!   fields the host does not know.
//!
//! # Threads
//!
//! A session is used only by the thread that opened it (a [`RecordStream`] need not be
//! `Send`). `manifest` and `sniff` may be called from any thread, also while a session is
//! open: each call works on a fresh importer made by the factory, so importers need no
//! locking.

// The one module of the SDK with unsafe code: the ABI is raw pointers by nature. Every
// unsafe block states what it relies on.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;

use crate::importer::{Confidence, ImportError, Importer, Input, RecordStream};
use crate::ndjson::to_ndjson_batch;

/// The ABI version this SDK speaks.
pub const ABI_VERSION: u32 = 1;

/// The ABI versions a host built with this SDK loads.
pub const SUPPORTED_ABI_VERSIONS: &[u32] = &[ABI_VERSION];

/// The name of the one symbol a plugin library exports.
pub const ENTRY_SYMBOL: &str = "hub_importer";

/// The smallest table of ABI version 1: the header and the six functions.
pub const MIN_STRUCT_SIZE_V1: u32 = std::mem::size_of::<ImporterV1>() as u32;

/// The signature of the entry symbol.
pub type EntryFn = unsafe extern "C" fn() -> *const ImporterV1;

/// Status codes returned by the table's functions.
pub mod status {
    /// Success: the output holds the result.
    pub const OK: i32 = 0;
    /// `next_batch` only: the input is exhausted, the output is empty.
    pub const END: i32 = 1;
    /// The call failed: the output holds an [`ImportError`](crate::ImportError) as JSON.
    pub const ERROR: i32 = -1;
    /// The plugin panicked: the output holds the panic's message as text. The session,
    /// if any, is unusable from then on (its next call fails with [`BAD_CALL`]).
    pub const PANIC: i32 = -2;
    /// The call itself was wrong (a null pointer, a session after a panic): the output
    /// holds a message as text.
    pub const BAD_CALL: i32 = -3;
}

/// Bytes borrowed for the duration of one call: a pointer and a length. A null pointer
/// with length 0 is the empty slice.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Bytes {
    pub ptr: *const u8,
    pub len: usize,
}

impl Bytes {
    /// Borrows a slice.
    pub fn of(slice: &[u8]) -> Self {
        Self {
            ptr: slice.as_ptr(),
            len: slice.len(),
        }
    }

    /// The bytes as a slice.
    ///
    /// # Safety
    ///
    /// `ptr` must point to `len` readable bytes that stay valid and unchanged for `'a`, or
    /// be null (then `len` is ignored).
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees `len` readable bytes at `ptr` for `'a`.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// A buffer the plugin allocated and owns until the host passes it to `free_buf`: the
/// parts of a `Vec<u8>`.
#[repr(C)]
#[derive(Debug)]
pub struct OwnedBuf {
    pub ptr: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl OwnedBuf {
    /// No buffer; `free_buf` ignores it.
    pub const EMPTY: Self = Self {
        ptr: std::ptr::null_mut(),
        len: 0,
        cap: 0,
    };

    /// Hands a vector over, to be freed by [`OwnedBuf::into_vec`] in the same library.
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        Self {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
        }
    }

    /// Takes a buffer made by [`OwnedBuf::from_vec`] back.
    ///
    /// # Safety
    ///
    /// The buffer must come from [`OwnedBuf::from_vec`] in this same library (same
    /// allocator) and not have been taken back before.
    unsafe fn into_vec(self) -> Option<Vec<u8>> {
        if self.ptr.is_null() {
            return None;
        }
        // SAFETY: the parts are those of a Vec<u8> from this library's allocator, taken
        // back once (the caller's promise).
        Some(unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) })
    }
}

/// The first two fields of every table version: always readable, never moved.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TableHeader {
    pub abi_version: u32,
    pub struct_size: u32,
}

/// Writes the manifest as JSON to `out`.
pub type ManifestFn = unsafe extern "C" fn(out: *mut OwnedBuf) -> i32;
/// Returns a confidence from 0 to 100, or a negative status.
pub type SniffFn = unsafe extern "C" fn(head: Bytes, file_name: Bytes) -> i32;
/// Opens `path` (known to the user as `file_name`) with `options` (JSON, empty for none);
/// writes the session to `session`, or an error to `out`.
pub type OpenFn = unsafe extern "C" fn(
    path: Bytes,
    file_name: Bytes,
    options: Bytes,
    session: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32;
/// Writes the next batch of at most `max` items to `out` as NDJSON.
pub type NextBatchFn =
    unsafe extern "C" fn(session: *mut c_void, max: u32, out: *mut OwnedBuf) -> i32;
/// Ends a session and frees it.
pub type CloseFn = unsafe extern "C" fn(session: *mut c_void);
/// Frees a buffer the plugin returned.
pub type FreeBufFn = unsafe extern "C" fn(buf: OwnedBuf);

/// The table of ABI version 1, returned by the entry symbol.
///
/// Every function is an `Option` so that a host can refuse a table with a null entry
/// instead of calling it.
#[repr(C)]
#[derive(Debug)]
pub struct ImporterV1 {
    /// [`ABI_VERSION`] of the SDK that built the plugin.
    pub abi_version: u32,
    /// `size_of::<ImporterV1>()` of that SDK.
    pub struct_size: u32,
    pub manifest: Option<ManifestFn>,
    pub sniff: Option<SniffFn>,
    pub open: Option<OpenFn>,
    pub next_batch: Option<NextBatchFn>,
    pub close: Option<CloseFn>,
    pub free_buf: Option<FreeBufFn>,
}

/// Makes the importer a plugin exports; implemented by [`export_importer!`](crate::export_importer).
pub trait Factory {
    /// A fresh importer.
    fn make() -> Box<dyn Importer>;
}

impl ImporterV1 {
    /// The table of the importers `F` makes; what [`export_importer!`](crate::export_importer)
    /// exports.
    pub const fn of<F: Factory>() -> Self {
        Self {
            abi_version: ABI_VERSION,
            struct_size: MIN_STRUCT_SIZE_V1,
            manifest: Some(plugin_manifest::<F>),
            sniff: Some(plugin_sniff::<F>),
            open: Some(plugin_open::<F>),
            next_batch: Some(plugin_next_batch),
            close: Some(plugin_close),
            free_buf: Some(plugin_free_buf),
        }
    }
}

/// Exports an [`Importer`] as a plugin: generates the [`ENTRY_SYMBOL`] and its table.
///
/// The argument is an expression making a fresh importer (a unit struct's name will do);
/// it is evaluated for every manifest, sniff and session. Write it once, in a `cdylib`
/// crate:
///
/// ```
/// use hub_plugin_sdk::serde_json::Value;
/// use hub_plugin_sdk::{
///     Confidence, ImportError, Importer, ImporterManifest, Input, IterStream, RecordKind,
///     RecordStream,
/// };
///
/// #[derive(Default)]
/// struct ChamberDirectory;
///
/// impl Importer for ChamberDirectory {
///     fn manifest(&self) -> ImporterManifest {
///         ImporterManifest::new("chamber-directory", "Chamber directory", "1.0.0")
///             .with_emits([RecordKind::Organisation])
///     }
///
///     fn sniff(&self, _head: &[u8], _file_name: &str) -> Confidence {
///         Confidence::NONE
///     }
///
///     fn open(&mut self, _input: Input, _options: &Value)
///         -> Result<Box<dyn RecordStream + '_>, ImportError>
///     {
///         Ok(Box::new(IterStream::new(std::iter::empty())))
///     }
/// }
///
/// hub_plugin_sdk::export_importer!(ChamberDirectory);
/// ```
///
/// Every panic of the importer is caught at the boundary and reported to the hub as an
/// error of the plugin, never unwound into the host.
#[macro_export]
macro_rules! export_importer {
    ($make:expr) => {
        const _: () = {
            struct HubPluginFactory;

            impl $crate::abi::Factory for HubPluginFactory {
                fn make() -> ::std::boxed::Box<dyn $crate::Importer> {
                    ::std::boxed::Box::new($make)
                }
            }

            static HUB_IMPORTER_TABLE: $crate::abi::ImporterV1 =
                $crate::abi::ImporterV1::of::<HubPluginFactory>();

            /// The plugin's entry point: the table of its importer.
            #[unsafe(no_mangle)]
            pub extern "C" fn hub_importer() -> *const $crate::abi::ImporterV1 {
                &HUB_IMPORTER_TABLE
            }
        };
    };
}

// ---------------------------------------------------------------------------------------
// The plugin side: the functions the table points to.
// ---------------------------------------------------------------------------------------

thread_local! {
    /// Set while a guarded plugin call runs on this thread: its panics are caught and
    /// reported, not printed.
    static IN_GUARD: Cell<bool> = const { Cell::new(false) };
    /// The message of the last panic caught on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The longest panic message passed on.
const MAX_PANIC_MESSAGE: usize = 2_000;

/// Installs, once per library, a panic hook that records the message of a panic inside a
/// guarded call (instead of printing it to the host's stderr) and leaves other panics to
/// the previous hook.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_GUARD.with(Cell::get) {
                let payload = info.payload();
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                let mut message = match info.location() {
                    Some(at) => format!("{text} (at {}:{})", at.file(), at.line()),
                    None => text,
                };
                truncate(&mut message, MAX_PANIC_MESSAGE);
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(message));
            } else {
                previous(info);
            }
        }));
    });
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

/// What a guarded call produced.
enum Outcome<T> {
    Done(T),
    Failed(ImportError),
    Panicked(String),
}

/// Runs `f`, catching its panic.
fn guarded<T>(f: impl FnOnce() -> Result<T, ImportError>) -> Outcome<T> {
    install_panic_hook();
    // A panic raised by `resume_unwind` skips the hook: never report an older message.
    LAST_PANIC.with(|last| last.borrow_mut().take());
    let was = IN_GUARD.with(|g| g.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.with(|g| g.set(was));
    match result {
        Ok(Ok(value)) => Outcome::Done(value),
        Ok(Err(error)) => Outcome::Failed(error),
        Err(payload) => {
            // Dropping a payload runs foreign code that may panic again, outside any guard.
            std::mem::forget(payload);
            Outcome::Panicked(
                LAST_PANIC
                    .with(|last| last.borrow_mut().take())
                    .unwrap_or_else(|| "a panic without a message".to_owned()),
            )
        }
    }
}

/// Writes `bytes` to `out` when it is not null.
///
/// # Safety
///
/// `out` must be null or valid for a write.
unsafe fn write_out(out: *mut OwnedBuf, bytes: Vec<u8>) {
    if !out.is_null() {
        // SAFETY: `out` is valid for a write (the caller's promise).
        unsafe { out.write(OwnedBuf::from_vec(bytes)) };
    }
}

/// Reports an outcome through `out` and the status; the value, when done, through `done`.
///
/// # Safety
///
/// `out` must be null or valid for a write.
unsafe fn report<T>(out: *mut OwnedBuf, outcome: Outcome<T>, done: impl FnOnce(T) -> i32) -> i32 {
    match outcome {
        Outcome::Done(value) => done(value),
        Outcome::Failed(error) => {
            let json = serde_json::to_vec(&error).unwrap_or_default();
            // SAFETY: forwarded from the caller.
            unsafe { write_out(out, json) };
            status::ERROR
        }
        Outcome::Panicked(message) => {
            // SAFETY: forwarded from the caller.
            unsafe { write_out(out, message.into_bytes()) };
            status::PANIC
        }
    }
}

unsafe extern "C" fn plugin_manifest<F: Factory>(out: *mut OwnedBuf) -> i32 {
    let outcome = guarded(|| {
        serde_json::to_vec(&F::make().manifest())
            .map_err(|e| ImportError::new(format!("cannot serialise the manifest: {e}")))
    });
    // SAFETY: the host passes a writable `out`.
    unsafe {
        report(out, outcome, |json| {
            write_out(out, json);
            status::OK
        })
    }
}

unsafe extern "C" fn plugin_sniff<F: Factory>(head: Bytes, file_name: Bytes) -> i32 {
    // SAFETY: the host passes slices valid for the call.
    let (head, file_name) = unsafe { (head.as_slice(), file_name.as_slice()) };
    let file_name = String::from_utf8_lossy(file_name);
    match guarded(|| Ok(F::make().sniff(head, &file_name))) {
        Outcome::Done(confidence) => i32::from(confidence.percent()),
        Outcome::Failed(_) => status::ERROR,
        Outcome::Panicked(_) => status::PANIC,
    }
}

/// A plugin's open input: the importer and the stream borrowing it.
struct Session {
    /// Declared first so that it is dropped first: it borrows `importer`.
    stream: Option<Box<dyn RecordStream>>,
    /// Owned through a raw pointer because `stream` borrows it; freed in `Drop`.
    importer: *mut dyn Importer,
    /// Set by a panic: the session's state is unknown, so it refuses further calls.
    poisoned: bool,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stream = None;
        // SAFETY: `importer` came from `Box::into_raw` in `plugin_open` and the only
        // borrow of it, the stream, is gone.
        drop(unsafe { Box::from_raw(self.importer) });
    }
}

fn path_of(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

unsafe extern "C" fn plugin_open<F: Factory>(
    path: Bytes,
    file_name: Bytes,
    options: Bytes,
    session: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32 {
    if session.is_null() {
        // SAFETY: the host passes a writable `out` or null.
        unsafe { write_out(out, b"open: the session pointer is null".to_vec()) };
        return status::BAD_CALL;
    }
    // SAFETY: the host passes slices valid for the call.
    let (path, file_name, options) =
        unsafe { (path.as_slice(), file_name.as_slice(), options.as_slice()) };
    let input = Input::with_file_name(path_of(path), String::from_utf8_lossy(file_name));
    let outcome = guarded(|| {
        let options: serde_json::Value = if options.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(options)
                .map_err(|e| ImportError::new(format!("the options are not JSON: {e}")))?
        };
        let importer = Box::into_raw(F::make());
        // SAFETY: `importer` is a live allocation that the session owns from here on; the
        // stream's borrow of it ends before it is freed (see `Session::drop`).
        let opened = unsafe { (*importer).open(input, &options) };
        match opened {
            Ok(stream) => Ok(Box::new(Session {
                stream: Some(stream),
                importer,
                poisoned: false,
            })),
            Err(error) => {
                // SAFETY: nothing borrows the importer any more.
                drop(unsafe { Box::from_raw(importer) });
                Err(error)
            }
        }
    });
    // SAFETY: `out` and `session` are writable (checked above / the host's promise).
    unsafe {
        report(out, outcome, |opened| {
            session.write(Box::into_raw(opened).cast::<c_void>());
            status::OK
        })
    }
}

unsafe extern "C" fn plugin_next_batch(session: *mut c_void, max: u32, out: *mut OwnedBuf) -> i32 {
    if session.is_null() {
        // SAFETY: the host passes a writable `out` or null.
        unsafe { write_out(out, b"next_batch: the session is null".to_vec()) };
        return status::BAD_CALL;
    }
    // SAFETY: a non-null session comes from `plugin_open` and is used by one thread at a
    // time until `plugin_close` (the host's promise).
    let session = unsafe { &mut *session.cast::<Session>() };
    if session.poisoned {
        // SAFETY: as above.
        unsafe { write_out(out, b"next_batch: the session panicked before".to_vec()) };
        return status::BAD_CALL;
    }
    let Some(stream) = session.stream.as_mut() else {
        return status::END;
    };
    let outcome = guarded(|| match stream.next_batch(max.max(1) as usize)? {
        Some(items) => to_ndjson_batch(&items)
            .map(|text| Some(text.into_bytes()))
            .map_err(|e| ImportError::new(e.to_string())),
        None => Ok(None),
    });
    if let Outcome::Panicked(_) = outcome {
        session.poisoned = true;
    }
    // SAFETY: the host passes a writable `out`.
    unsafe {
        report(out, outcome, |batch| match batch {
            Some(bytes) => {
                write_out(out, bytes);
                status::OK
            }
            None => status::END,
        })
    }
}

unsafe extern "C" fn plugin_close(session: *mut c_void) {
    if session.is_null() {
        return;
    }
    // SAFETY: the session comes from `plugin_open` and is closed once (the host's promise).
    let session = unsafe { Box::from_raw(session.cast::<Session>()) };
    // A panic in the importer's destructor must not unwind into the host. After a panic
    // the importer's state is unknown: leak it rather than run its destructor.
    if session.poisoned {
        std::mem::forget(session);
        return;
    }
    let _ = guarded(move || {
        drop(session);
        Ok(())
    });
}

unsafe extern "C" fn plugin_free_buf(buf: OwnedBuf) {
    // SAFETY: the host returns each buffer this library made, once.
    drop(unsafe { buf.into_vec() });
}

// ---------------------------------------------------------------------------------------
// The host side: a checked table and safe calls.
// ---------------------------------------------------------------------------------------

/// Why a host refuses a table before calling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableRefusal {
    /// The entry symbol returned null.
    NullTable,
    /// An ABI version this host does not know.
    AbiVersion { found: u32 },
    /// A table smaller than version 1's.
    StructSize { found: u32 },
    /// A required function is null.
    MissingFunction { name: &'static str },
}

impl TableRefusal {
    /// The name of the check that failed.
    pub fn check(&self) -> &'static str {
        match self {
            Self::NullTable => "entry table",
            Self::AbiVersion { .. } => "ABI version",
            Self::StructSize { .. } => "table size",
            Self::MissingFunction { .. } => "table functions",
        }
    }
}

impl fmt::Display for TableRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NullTable => write!(f, "{ENTRY_SYMBOL}() returned a null table"),
            Self::AbiVersion { found } => write!(
                f,
                "the plugin was built for ABI version {found}; this hub loads ABI version {}",
                SUPPORTED_ABI_VERSIONS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::StructSize { found } => write!(
                f,
                "the plugin's table is {found} bytes; ABI version {ABI_VERSION} needs at least \
                 {MIN_STRUCT_SIZE_V1}"
            ),
            Self::MissingFunction { name } => {
                write!(
                    f,
                    "the plugin's table has no {name} function (null pointer)"
                )
            }
        }
    }
}

impl std::error::Error for TableRefusal {}

/// Why a call into a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The importer reported an error (a file-level [`ImportError`]).
    Failed(ImportError),
    /// The importer panicked; the message is the panic's.
    Panicked(String),
    /// The plugin broke the protocol: an unknown status, an unreadable error.
    Protocol(String),
    /// A batch larger than the host accepts: its size in bytes. It was handed back to the
    /// plugin without being copied.
    TooLarge(u64),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(error) => write!(f, "{error}"),
            Self::Panicked(message) => write!(f, "the plugin panicked: {message}"),
            Self::Protocol(message) => write!(f, "the plugin broke the ABI: {message}"),
            Self::TooLarge(len) => write!(f, "the plugin returned a batch of {len} bytes"),
        }
    }
}

impl std::error::Error for CallError {}

/// A checked ABI version 1 table, with safe calls.
#[derive(Debug, Clone, Copy)]
pub struct PluginTable {
    manifest: ManifestFn,
    sniff: SniffFn,
    open: OpenFn,
    next_batch: NextBatchFn,
    close: CloseFn,
    free_buf: FreeBufFn,
    /// The header as read, for reports.
    pub header: TableHeader,
}

impl PluginTable {
    /// Checks the table an entry symbol returned: ABI version, size and functions. Reads
    /// the header before the rest, so that a shorter table is never read past its end.
    ///
    /// # Safety
    ///
    /// `table` must be null or point to a table that stays valid and unchanged for as long
    /// as the returned value and its sessions are used: the library must stay loaded
    /// (hosts never unload plugin libraries). Its functions must follow this module's
    /// contract; a plugin that does not (its code crashes) cannot be made safe by any
    /// check, which is what running plugins in a child process is for.
    pub unsafe fn from_raw(table: *const ImporterV1) -> Result<Self, TableRefusal> {
        if table.is_null() {
            return Err(TableRefusal::NullTable);
        }
        // SAFETY: every table version starts with the header (the caller's promise).
        let header = unsafe { table.cast::<TableHeader>().read() };
        if !SUPPORTED_ABI_VERSIONS.contains(&header.abi_version) {
            return Err(TableRefusal::AbiVersion {
                found: header.abi_version,
            });
        }
        if header.struct_size < MIN_STRUCT_SIZE_V1 {
            return Err(TableRefusal::StructSize {
                found: header.struct_size,
            });
        }
        // SAFETY: the table is at least as large as `ImporterV1` (checked above).
        let table = unsafe { &*table };
        let missing = |name| TableRefusal::MissingFunction { name };
        Ok(Self {
            manifest: table.manifest.ok_or_else(|| missing("manifest"))?,
            sniff: table.sniff.ok_or_else(|| missing("sniff"))?,
            open: table.open.ok_or_else(|| missing("open"))?,
            next_batch: table.next_batch.ok_or_else(|| missing("next_batch"))?,
            close: table.close.ok_or_else(|| missing("close"))?,
            free_buf: table.free_buf.ok_or_else(|| missing("free_buf"))?,
            header,
        })
    }

    /// Copies a plugin buffer and hands it back to the plugin.
    fn take(&self, buf: OwnedBuf) -> Vec<u8> {
        if buf.ptr.is_null() {
            return Vec::new();
        }
        // SAFETY: a non-null buffer from the plugin holds `len` initialised bytes.
        let bytes = unsafe { std::slice::from_raw_parts(buf.ptr, buf.len) }.to_vec();
        // SAFETY: returned once, to the library that made it.
        unsafe { (self.free_buf)(buf) };
        bytes
    }

    /// The error a failed call left in `out`.
    fn error(&self, code: i32, out: OwnedBuf) -> CallError {
        let bytes = self.take(out);
        match code {
            status::ERROR => match serde_json::from_slice::<ImportError>(&bytes) {
                Ok(error) => CallError::Failed(error),
                Err(_) => CallError::Protocol("an error that is not an ImportError".into()),
            },
            status::PANIC => CallError::Panicked(String::from_utf8_lossy(&bytes).into_owned()),
            status::BAD_CALL => CallError::Protocol(String::from_utf8_lossy(&bytes).into_owned()),
            other => CallError::Protocol(format!("unknown status {other}")),
        }
    }

    /// The manifest, as the JSON bytes the plugin wrote.
    pub fn manifest_json(&self) -> Result<Vec<u8>, CallError> {
        let mut out = OwnedBuf::EMPTY;
        // SAFETY: `out` is writable; the table is valid (see `from_raw`).
        let code = unsafe { (self.manifest)(&mut out) };
        match code {
            status::OK => Ok(self.take(out)),
            code => Err(self.error(code, out)),
        }
    }

    /// The plugin's confidence that it reads this file.
    pub fn sniff(&self, head: &[u8], file_name: &str) -> Result<Confidence, CallError> {
        // SAFETY: the slices outlive the call; the table is valid.
        let code = unsafe { (self.sniff)(Bytes::of(head), Bytes::of(file_name.as_bytes())) };
        match code {
            0..=100 => Ok(Confidence::new(code as u8)),
            101.. => Err(CallError::Protocol(format!(
                "sniff returned {code}, above 100"
            ))),
            status::PANIC => Err(CallError::Panicked("in sniff".into())),
            code => Err(CallError::Protocol(format!("sniff returned status {code}"))),
        }
    }

    /// Opens an input. `options` is JSON, or empty for none.
    pub fn open(
        &self,
        path: &[u8],
        file_name: &str,
        options: &[u8],
    ) -> Result<PluginSession, CallError> {
        let mut session: *mut c_void = std::ptr::null_mut();
        let mut out = OwnedBuf::EMPTY;
        // SAFETY: the slices outlive the call, `session` and `out` are writable.
        let code = unsafe {
            (self.open)(
                Bytes::of(path),
                Bytes::of(file_name.as_bytes()),
                Bytes::of(options),
                &mut session,
                &mut out,
            )
        };
        match code {
            status::OK if !session.is_null() => {
                self.take(out);
                Ok(PluginSession {
                    table: *self,
                    session,
                })
            }
            status::OK => Err(CallError::Protocol(
                "open succeeded without a session".into(),
            )),
            code => Err(self.error(code, out)),
        }
    }
}

/// An open input of a plugin; closed when dropped.
#[derive(Debug)]
pub struct PluginSession {
    table: PluginTable,
    session: *mut c_void,
}

impl PluginSession {
    /// The next batch of at most `max` items as NDJSON bytes (unchecked: the host parses
    /// them), or `None` at the end of the input. A batch above `max_bytes` is refused
    /// before it is copied.
    pub fn next_batch(&mut self, max: u32, max_bytes: u64) -> Result<Option<Vec<u8>>, CallError> {
        let mut out = OwnedBuf::EMPTY;
        // SAFETY: the session is live (closed only on drop) and used by this thread only.
        let code = unsafe { (self.table.next_batch)(self.session, max, &mut out) };
        match code {
            status::OK if out.len as u64 > max_bytes => {
                let len = out.len as u64;
                // SAFETY: returned once, to the library that made it.
                unsafe { (self.table.free_buf)(out) };
                Err(CallError::TooLarge(len))
            }
            status::OK => Ok(Some(self.table.take(out))),
            status::END => {
                self.table.take(out);
                Ok(None)
            }
            code => Err(self.table.error(code, out)),
        }
    }
}

impl Drop for PluginSession {
    fn drop(&mut self) {
        // SAFETY: the session came from `open` and is closed once.
        unsafe { (self.table.close)(self.session) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Item, LogLevel};
    use crate::manifest::ImporterManifest;
    use crate::ndjson::from_ndjson_line;
    use crate::{IterStream, RecordKind};

    /// An importer whose behaviour is chosen by the file name it opens.
    #[derive(Default)]
    struct Scripted;

    impl Importer for Scripted {
        fn manifest(&self) -> ImporterManifest {
            ImporterManifest::new("scripted", "Scripted", "1.2.3")
                .with_extensions(["txt"])
                .with_emits([RecordKind::Organisation])
        }

        fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
            if head == b"boom" {
                panic!("sniff exploded");
            }
            Confidence::new(head.len().min(100) as u8)
        }

        fn open(
            &mut self,
            input: Input,
            options: &serde_json::Value,
        ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
            let count = options.get("count").and_then(|c| c.as_u64()).unwrap_or(3);
            match input.file_name.as_str() {
                "panic-open" => panic!("cannot open {}", "this"),
                "error-open" => Err(ImportError::new("not my kind of file")),
                "panic-next" => Ok(Box::new(IterStream::new((0..).map(|n| {
                    if n == 2 {
                        panic!("row {n} exploded");
                    }
                    Ok(Item::log(LogLevel::Info, format!("row {n}")))
                })))),
                _ => {
                    Ok(Box::new(IterStream::new((0..count).map(|n| {
                        Ok(Item::log(LogLevel::Info, format!("row {n}")))
                    }))))
                }
            }
        }
    }

    struct ScriptedFactory;

    impl Factory for ScriptedFactory {
        fn make() -> Box<dyn Importer> {
            Box::new(Scripted)
        }
    }

    static TABLE: ImporterV1 = ImporterV1::of::<ScriptedFactory>();

    fn table() -> PluginTable {
        // SAFETY: a static table of this crate.
        unsafe { PluginTable::from_raw(&TABLE) }.unwrap()
    }

    fn lines(batch: &[u8]) -> Vec<Item> {
        std::str::from_utf8(batch)
            .unwrap()
            .lines()
            .map(|line| from_ndjson_line(line).unwrap())
            .collect()
    }

    #[test]
    fn a_session_streams_batches_through_the_table() {
        let table = table();
        assert_eq!(table.header.abi_version, ABI_VERSION);
        let manifest: ImporterManifest =
            serde_json::from_slice(&table.manifest_json().unwrap()).unwrap();
        assert_eq!(manifest.id, "scripted");
        assert_eq!(manifest.sdk_version, crate::SDK_VERSION);
        assert_eq!(table.sniff(b"abcd", "a.txt").unwrap(), Confidence::new(4));

        let mut session = table.open(b"/nowhere/ok", "ok", br#"{"count":5}"#).unwrap();
        let first = lines(&session.next_batch(2, u64::MAX).unwrap().unwrap());
        assert_eq!(
            first,
            [
                Item::log(LogLevel::Info, "row 0"),
                Item::log(LogLevel::Info, "row 1")
            ]
        );
        // Too large: refused without a copy; the session goes on.
        assert!(matches!(session.next_batch(1, 10), Err(CallError::TooLarge(len)) if len > 10));
        assert_eq!(
            lines(&session.next_batch(10, u64::MAX).unwrap().unwrap()).len(),
            2
        );
        assert_eq!(session.next_batch(10, u64::MAX).unwrap(), None);
        drop(session);

        // No options at all.
        let mut session = table.open(b"/nowhere/ok", "ok", b"").unwrap();
        assert_eq!(
            lines(&session.next_batch(0, u64::MAX).unwrap().unwrap()).len(),
            1
        );
    }

    #[test]
    fn errors_and_panics_come_back_as_values() {
        let table = table();
        match table.open(b"/x", "error-open", b"") {
            Err(CallError::Failed(error)) => assert_eq!(error.message, "not my kind of file"),
            other => panic!("expected an import error, got {other:?}"),
        }
        match table.open(b"/x", "panic-open", b"") {
            Err(CallError::Panicked(message)) => {
                assert!(message.starts_with("cannot open this (at "), "{message}");
                assert!(message.contains("abi.rs:"), "{message}");
            }
            other => panic!("expected a panic, got {other:?}"),
        }
        match table.open(b"/x", "ok", b"{not json") {
            Err(CallError::Failed(error)) => {
                assert!(
                    error.message.starts_with("the options are not JSON"),
                    "{error}"
                )
            }
            other => panic!("expected an options error, got {other:?}"),
        }
        assert!(matches!(
            table.sniff(b"boom", "a"),
            Err(CallError::Panicked(_))
        ));

        let mut session = table.open(b"/x", "panic-next", b"").unwrap();
        assert_eq!(
            lines(&session.next_batch(2, u64::MAX).unwrap().unwrap()).len(),
            2
        );
        match session.next_batch(2, u64::MAX) {
            Err(CallError::Panicked(message)) => assert!(message.starts_with("row 2 exploded")),
            other => panic!("expected a panic, got {other:?}"),
        }
        // The session refuses to go on after a panic.
        assert!(matches!(
            session.next_batch(2, u64::MAX),
            Err(CallError::Protocol(_))
        ));
    }

    #[test]
    fn hosts_refuse_tables_they_cannot_call() {
        let refuse = |table: ImporterV1| {
            // SAFETY: a local table, valid for the call.
            unsafe { PluginTable::from_raw(&table) }.unwrap_err()
        };
        let wrong_version = ImporterV1 {
            abi_version: 2,
            ..ImporterV1::of::<ScriptedFactory>()
        };
        let refusal = refuse(wrong_version);
        assert_eq!(refusal.check(), "ABI version");
        assert_eq!(
            refusal.to_string(),
            "the plugin was built for ABI version 2; this hub loads ABI version 1"
        );
        let short = ImporterV1 {
            struct_size: 8,
            ..ImporterV1::of::<ScriptedFactory>()
        };
        assert_eq!(refuse(short), TableRefusal::StructSize { found: 8 });
        let no_open = ImporterV1 {
            open: None,
            ..ImporterV1::of::<ScriptedFactory>()
        };
        assert_eq!(
            refuse(no_open),
            TableRefusal::MissingFunction { name: "open" }
        );
        // SAFETY: null is allowed.
        let null = unsafe { PluginTable::from_raw(std::ptr::null()) };
        assert_eq!(null.unwrap_err(), TableRefusal::NullTable);
    }

    // The macro, as a plugin writes it; its symbol is linked into this test binary.
    crate::export_importer!(Scripted);

    unsafe extern "C" {
        fn hub_importer() -> *const ImporterV1;
    }

    #[test]
    fn the_macro_exports_the_entry_symbol() {
        // SAFETY: the symbol the macro above generated.
        let table = unsafe { PluginTable::from_raw(hub_importer()) }.unwrap();
        let manifest: ImporterManifest =
            serde_json::from_slice(&table.manifest_json().unwrap()).unwrap();
        assert_eq!(manifest.version, "1.2.3");
    }
}
