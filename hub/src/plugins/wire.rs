//! The plugin-host protocol between the hub and its `hub plugin-host` child, and the
//! parsing of plugins' NDJSON batches (shared by both isolation modes).
//!
//! The parent writes one request per line to the child's stdin, as JSON ([`Request`]). The
//! child answers each with frames on its stdout: a tag byte, a payload length (`u32`,
//! little-endian) and the payload. The child speaks only when asked, so the parent paces
//! it: at most one batch is in flight, and a slow database never fills a pipe buffer.
//!
//! | tag | payload | when |
//! |---|---|---|
//! | `H` | [`Hello`] as JSON | first, once the library is loaded and its table checked |
//! | `R` | [`Refusal`] as JSON | instead of `H`: the library cannot be used; the child exits |
//! | `M` | the manifest JSON, as the plugin wrote it | `describe` |
//! | `S` | one byte, the confidence | `sniff` |
//! | `O` | empty | `open` succeeded |
//! | `B` | NDJSON, as the plugin wrote it | `next` |
//! | `E` | empty | `next`: end of input |
//! | `F` | an `ImportError` as JSON | the importer failed |
//! | `P` | the panic message | the importer panicked |
//! | `X` | a message | the plugin broke the ABI |
//!
//! Batches pass through verbatim: the parent checks and parses them exactly as it parses an
//! in-process plugin's, with [`parse_batch`].

use std::io::{self, Read, Write};

use base64::Engine as _;
use hub_plugin_sdk::{Item, from_ndjson_line};
use serde::{Deserialize, Serialize};

/// A request from the parent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The manifest.
    Describe,
    /// The confidence for a file; `head` is base64.
    Sniff { head: String, file_name: String },
    /// Open a file with options (JSON text, empty for none). `path` is the path's bytes in
    /// base64, so that any file name the system allows reaches the plugin unchanged.
    Open {
        path: String,
        file_name: String,
        options: String,
    },
    /// The next batch of at most `max` items.
    Next { max: u32 },
}

impl Request {
    pub fn sniff(head: &[u8], file_name: &str) -> Self {
        Request::Sniff {
            head: base64::engine::general_purpose::STANDARD.encode(head),
            file_name: file_name.to_owned(),
        }
    }

    /// The bytes of a path, as the plugin receives them.
    pub fn path_bytes(path: &std::path::Path) -> Vec<u8> {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt as _;
            path.as_os_str().as_bytes().to_vec()
        }
        #[cfg(not(unix))]
        {
            path.to_string_lossy().into_owned().into_bytes()
        }
    }

    /// An `Open` request.
    pub fn open(path: &std::path::Path, file_name: &str, options: &str) -> Self {
        Request::Open {
            path: base64::engine::general_purpose::STANDARD.encode(Self::path_bytes(path)),
            file_name: file_name.to_owned(),
            options: options.to_owned(),
        }
    }

    /// Decodes base64 (a sniffed head, a path); empty when it is not base64.
    pub fn head(encoded: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_default()
    }
}

/// The child's greeting: the table it checked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Hello {
    pub abi_version: u32,
    pub struct_size: u32,
}

/// Why a library cannot be used: the check that failed and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The check, as named in the docs: `load`, `symbol`, `ABI version`, `table size`,
    /// `table functions`, `manifest`, `SDK version`, `id`, `sha256`, `timeout`, `crash`.
    pub check: String,
    /// What was found and what was expected.
    pub message: String,
}

impl Refusal {
    pub fn new(check: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal {
            check: check.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} check failed: {}", self.check, self.message)
    }
}

pub mod tag {
    pub const HELLO: u8 = b'H';
    pub const REFUSED: u8 = b'R';
    pub const MANIFEST: u8 = b'M';
    pub const SNIFF: u8 = b'S';
    pub const OPENED: u8 = b'O';
    pub const BATCH: u8 = b'B';
    pub const END: u8 = b'E';
    pub const FAILED: u8 = b'F';
    pub const PANICKED: u8 = b'P';
    pub const PROTOCOL: u8 = b'X';
}

/// Writes one frame.
pub fn write_frame(out: &mut impl Write, tag: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame above 4 GiB"))?;
    out.write_all(&[tag])?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(payload)?;
    out.flush()
}

/// What reading a frame found.
#[derive(Debug)]
pub enum FrameRead {
    Frame(u8, Vec<u8>),
    /// The stream ended between frames (the child exited).
    Closed,
    /// A frame longer than allowed; its payload was not read.
    TooLarge(u8, u64),
}

/// Reads one frame, refusing payloads above `max` bytes before allocating them.
pub fn read_frame(input: &mut impl Read, max: u64) -> io::Result<FrameRead> {
    let mut header = [0u8; 5];
    let mut filled = 0;
    while filled < header.len() {
        match input.read(&mut header[filled..])? {
            0 if filled == 0 => return Ok(FrameRead::Closed),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    let len = u64::from(u32::from_le_bytes([
        header[1], header[2], header[3], header[4],
    ]));
    if len > max {
        return Ok(FrameRead::TooLarge(header[0], len));
    }
    let mut payload = vec![0u8; len as usize];
    input.read_exact(&mut payload)?;
    Ok(FrameRead::Frame(header[0], payload))
}

/// Parses a plugin's batch: UTF-8, one item per line. Any fault makes the whole batch,
/// and with it the import, fail: a plugin whose output cannot be read cannot be trusted
/// with the rest of it. Messages name the line, never its content.
pub fn parse_batch(bytes: &[u8], batch: u64) -> Result<Vec<Item>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "batch {batch} is not valid UTF-8 (byte {} of the batch)",
            e.valid_up_to()
        )
    })?;
    let mut items = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = from_ndjson_line(line)
            .map_err(|e| format!("batch {batch}, line {}: {e}", index + 1))?;
        items.push(item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_large_payloads() {
        let mut buf = Vec::new();
        write_frame(&mut buf, tag::BATCH, b"abc").unwrap();
        write_frame(&mut buf, tag::END, b"").unwrap();
        let mut input = buf.as_slice();
        assert!(
            matches!(read_frame(&mut input, 10).unwrap(), FrameRead::Frame(b'B', p) if p == b"abc")
        );
        assert!(
            matches!(read_frame(&mut input, 10).unwrap(), FrameRead::Frame(b'E', p) if p.is_empty())
        );
        assert!(matches!(
            read_frame(&mut input, 10).unwrap(),
            FrameRead::Closed
        ));

        let mut big = Vec::new();
        write_frame(&mut big, tag::BATCH, &[b'x'; 100]).unwrap();
        assert!(matches!(
            read_frame(&mut big.as_slice(), 99).unwrap(),
            FrameRead::TooLarge(b'B', 100)
        ));
        assert!(read_frame(&mut &big[..3], 1000).is_err());
    }

    #[test]
    fn batches_are_checked_line_by_line_without_echoing_content() {
        let good = "{\"kind\":\"log\",\"level\":\"info\",\"message\":\"hi\"}\n\n";
        assert_eq!(parse_batch(good.as_bytes(), 1).unwrap().len(), 1);
        let error = parse_batch(b"{\"kind\":\"log\"\xff}", 2).unwrap_err();
        assert_eq!(error, "batch 2 is not valid UTF-8 (byte 13 of the batch)");
        let error = parse_batch(b"{\"kind\":\"log\",\"level\":\"info\",\"message\":\"x\"}\n{\"cnic\": \"35202-1234567-1\"", 3).unwrap_err();
        assert!(
            error.starts_with("batch 3, line 2: not a JSON line"),
            "{error}"
        );
        assert!(!error.contains("35202"), "{error}");
        let error = parse_batch(
            br#"{"kind":"record","source_ref":{"file":"a","sheet":null,"row":1,"column":null},"record":{"type":"spaceship"}}"#,
            4,
        )
        .unwrap_err();
        assert_eq!(error, "batch 4, line 1: unknown record type \"spaceship\"");
    }
}
