//! A plugin written against the hub's C ABI by hand: no SDK, no dependencies, only the
//! table the ABI documents (`plugins/sdk/src/abi.rs`). It shows that the ABI is plain C —
//! a plugin could be written in any language — and lets the tests send the host any bytes.
//!
//! The plugin (id `raw-ndjson`) passes its input file through: each line is one item of
//! the hub's NDJSON wire form, returned as written, `max` lines per batch. Tests write
//! invalid JSON, invalid UTF-8 or records of unknown types into the file and watch the
//! host refuse them.
//!
//! Compiled with `rustc --cfg 'variant="…"'`, it breaks the contract instead:
//!
//! | variant | fault |
//! |---|---|
//! | `abi_v99` | the table says ABI version 99 |
//! | `short_table` | the table says it is 16 bytes long |
//! | `no_symbol` | no `hub_importer` symbol |
//! | `null_open` | the table's `open` is null |
//! | `bad_manifest` | the manifest is not JSON |
//! | `future_sdk` | the manifest says SDK 9.0.0 |
//! | `clash` | the id is `spreadsheet`, a built-in importer's |
//! | `bad_id` | the id is `Not An Id!` |
//!
//! Without the SDK there is no panic guard: nothing here may panic.

#![allow(unsafe_code)]
#![allow(clippy::missing_safety_doc)]

use std::ffi::c_void;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Bytes {
    ptr: *const u8,
    len: usize,
}

#[repr(C)]
pub struct OwnedBuf {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

type ManifestFn = unsafe extern "C" fn(*mut OwnedBuf) -> i32;
type SniffFn = unsafe extern "C" fn(Bytes, Bytes) -> i32;
type OpenFn = unsafe extern "C" fn(Bytes, Bytes, Bytes, *mut *mut c_void, *mut OwnedBuf) -> i32;
type NextBatchFn = unsafe extern "C" fn(*mut c_void, u32, *mut OwnedBuf) -> i32;
type CloseFn = unsafe extern "C" fn(*mut c_void);
type FreeBufFn = unsafe extern "C" fn(OwnedBuf);

/// ABI version 1's table, as `plugins/sdk/src/abi.rs` defines it.
#[repr(C)]
pub struct ImporterV1 {
    abi_version: u32,
    struct_size: u32,
    manifest: Option<ManifestFn>,
    sniff: Option<SniffFn>,
    open: Option<OpenFn>,
    next_batch: Option<NextBatchFn>,
    close: Option<CloseFn>,
    free_buf: Option<FreeBufFn>,
}

// SAFETY: the table holds only plain data and function pointers.
unsafe impl Sync for ImporterV1 {}

const ABI_VERSION: u32 = if cfg!(variant = "abi_v99") { 99 } else { 1 };
const STRUCT_SIZE: u32 = if cfg!(variant = "short_table") {
    16
} else {
    std::mem::size_of::<ImporterV1>() as u32
};

static TABLE: ImporterV1 = ImporterV1 {
    abi_version: ABI_VERSION,
    struct_size: STRUCT_SIZE,
    manifest: Some(manifest),
    sniff: Some(sniff),
    open: if cfg!(variant = "null_open") {
        None
    } else {
        Some(open)
    },
    next_batch: Some(next_batch),
    close: Some(close),
    free_buf: Some(free_buf),
};

/// The entry symbol.
#[cfg(not(variant = "no_symbol"))]
#[unsafe(no_mangle)]
pub extern "C" fn hub_importer() -> *const ImporterV1 {
    &TABLE
}

/// Something else to export, so that the library is a library without the entry symbol.
#[cfg(variant = "no_symbol")]
#[unsafe(no_mangle)]
pub extern "C" fn not_a_hub_importer() -> *const ImporterV1 {
    &TABLE
}

fn id() -> &'static str {
    if cfg!(variant = "clash") {
        "spreadsheet"
    } else if cfg!(variant = "bad_id") {
        "Not An Id!"
    } else {
        "raw-ndjson"
    }
}

fn sdk_version() -> &'static str {
    if cfg!(variant = "future_sdk") {
        "9.0.0"
    } else {
        // Written against the SDK of this workspace.
        env!("CARGO_PKG_VERSION")
    }
}

/// The bytes of a borrowed input; null (with any length) is the empty slice, as the ABI
/// says.
fn slice<'a>(bytes: Bytes) -> &'a [u8] {
    if bytes.ptr.is_null() || bytes.len == 0 {
        &[]
    } else {
        // SAFETY: the host passes `len` readable bytes, valid for the call.
        unsafe { std::slice::from_raw_parts(bytes.ptr, bytes.len) }
    }
}

fn give(out: *mut OwnedBuf, bytes: Vec<u8>) {
    if out.is_null() {
        return;
    }
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    // SAFETY: the host passes a writable `out`.
    unsafe {
        out.write(OwnedBuf {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
        })
    };
}

unsafe extern "C" fn manifest(out: *mut OwnedBuf) -> i32 {
    let json = if cfg!(variant = "bad_manifest") {
        "{\"id\": \"raw-bad\", \"name\": ".to_owned()
    } else {
        format!(
            "{{\"id\":\"{}\",\"name\":\"NDJSON passthrough (raw ABI)\",\"version\":\"1.0.0\",\
             \"sdk_version\":\"{}\",\"inputs\":{{\"extensions\":[\"ndjson\"],\"mime_types\":[]}},\
             \"emits\":[\"organisation\",\"cluster_membership\",\"person\"]}}",
            id(),
            sdk_version()
        )
    };
    give(out, json.into_bytes());
    0
}

unsafe extern "C" fn sniff(_head: Bytes, file_name: Bytes) -> i32 {
    if slice(file_name).ends_with(b".ndjson") {
        30
    } else {
        0
    }
}

/// An open input: its lines, and how far the host has read.
struct Session {
    lines: Vec<Vec<u8>>,
    next: usize,
}

unsafe extern "C" fn open(
    path: Bytes,
    _file_name: Bytes,
    _options: Bytes,
    session: *mut *mut c_void,
    out: *mut OwnedBuf,
) -> i32 {
    if session.is_null() {
        return -3;
    }
    let path = String::from_utf8_lossy(slice(path)).into_owned();
    match std::fs::read(&path) {
        Ok(content) => {
            let lines = content
                .split(|b| *b == b'\n')
                .filter(|line| !line.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            let opened = Box::new(Session { lines, next: 0 });
            // SAFETY: the host passes a writable `session`.
            unsafe { session.write(Box::into_raw(opened).cast()) };
            0
        }
        Err(e) => {
            let message = format!(
                "{{\"message\":\"cannot read the input: {}\",\"source_ref\":null}}",
                e.kind()
            );
            give(out, message.into_bytes());
            -1
        }
    }
}

unsafe extern "C" fn next_batch(session: *mut c_void, max: u32, out: *mut OwnedBuf) -> i32 {
    if session.is_null() {
        return -3;
    }
    // SAFETY: the session comes from `open`.
    let session = unsafe { &mut *session.cast::<Session>() };
    if session.next >= session.lines.len() {
        return 1;
    }
    let end = (session.next + max.max(1) as usize).min(session.lines.len());
    let mut batch = Vec::new();
    for line in &session.lines[session.next..end] {
        batch.extend_from_slice(line);
        batch.push(b'\n');
    }
    session.next = end;
    give(out, batch);
    0
}

unsafe extern "C" fn close(session: *mut c_void) {
    if !session.is_null() {
        // SAFETY: the session comes from `open` and is closed once.
        drop(unsafe { Box::from_raw(session.cast::<Session>()) });
    }
}

unsafe extern "C" fn free_buf(buf: OwnedBuf) {
    if !buf.ptr.is_null() {
        // SAFETY: the buffer comes from `give`, returned once.
        drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.cap) });
    }
}
