//! Text encodings of CSV and TSV files: detection, the user's override, and streaming
//! decoding to UTF-8.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use encoding_rs::{CoderResult, Decoder, Encoding};

/// The text encoding of a CSV or TSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16, little-endian (what Excel's "Unicode text" writes).
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// Windows-1252 (Western European; also read for ISO-8859-1, as browsers do).
    Windows1252,
    /// Another encoding known by a WHATWG label, such as `windows-1256` (Arabic script,
    /// used for Urdu). Only through an explicit override: never detected.
    Other(&'static Encoding),
}

impl TextEncoding {
    /// The `encoding_rs` encoding to decode with.
    #[must_use]
    pub fn encoding(self) -> &'static Encoding {
        match self {
            Self::Utf8 => encoding_rs::UTF_8,
            Self::Utf16Le => encoding_rs::UTF_16LE,
            Self::Utf16Be => encoding_rs::UTF_16BE,
            Self::Windows1252 => encoding_rs::WINDOWS_1252,
            Self::Other(encoding) => encoding,
        }
    }

    /// The encoding's canonical name, such as `UTF-8` or `windows-1252`.
    #[must_use]
    pub fn name(self) -> &'static str {
        self.encoding().name()
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses an encoding name as users and tools write it: `utf-8`, `utf8`, `utf-16le`,
/// `utf-16be`, `utf-16` (little-endian), `windows-1252`, `cp1252`, `latin1`,
/// `iso-8859-1`, and any other WHATWG label (case-insensitive).
impl FromStr for TextEncoding {
    type Err = String;

    fn from_str(label: &str) -> Result<Self, Self::Err> {
        let normalised = label.trim().to_ascii_lowercase();
        let label = match normalised.as_str() {
            "utf8" | "utf-8-sig" | "utf8-sig" => "utf-8",
            "utf16" | "utf16le" | "ucs-2" | "ucs2" => "utf-16le",
            "utf16be" => "utf-16be",
            "cp1252" | "win1252" | "latin-1" => "windows-1252",
            other => other,
        };
        let encoding = Encoding::for_label(label.as_bytes())
            .filter(|e| *e != encoding_rs::REPLACEMENT)
            .ok_or_else(|| format!("unknown text encoding {label:?}"))?;
        Ok(if encoding == encoding_rs::UTF_8 {
            Self::Utf8
        } else if encoding == encoding_rs::UTF_16LE {
            Self::Utf16Le
        } else if encoding == encoding_rs::UTF_16BE {
            Self::Utf16Be
        } else if encoding == encoding_rs::WINDOWS_1252 {
            Self::Windows1252
        } else {
            Self::Other(encoding)
        })
    }
}

/// Detects the encoding of a text file read from `reader`, from its start to its end:
/// [`examine_text`]'s encoding.
pub fn detect_encoding(reader: impl Read) -> io::Result<TextEncoding> {
    examine_text(reader).map(|evidence| evidence.encoding)
}

/// What a whole text file says about its encoding; see [`examine_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEvidence {
    /// The encoding to read the file with.
    pub encoding: TextEncoding,
    /// Set when the file mixes UTF-8 with bytes that are not UTF-8.
    pub mixed: Option<MixedLines>,
    /// At most how many lines the file has (LF, CRLF and CR end a line), when it was
    /// scanned (not for UTF-16).
    pub lines_at_most: Option<u64>,
}

/// The lines of a file that mixes encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedLines {
    /// How many lines are UTF-8 with a character beyond ASCII.
    pub utf8_lines: u64,
    /// How many lines hold bytes that are not UTF-8 (read as Windows-1252 when they are
    /// the majority).
    pub other_lines: u64,
    /// The lines (1-based; LF, CRLF and CR end a line) not written in the chosen encoding,
    /// sorted: the minority's. Reading them would garble them, so readers reject them.
    pub rejected: Vec<u64>,
}

/// The most lines of each encoding [`examine_text`] remembers in a mixed file; a file that
/// mixes them on more lines than that is refused.
const MAX_MIXED_LINES: usize = 1_000_000;

/// Examines a text file read from `reader`, from its start to its end, for its encoding.
///
/// A UTF-16 byte-order mark decides. Without one, text whose first kilobytes have zero
/// bytes in every other position (ASCII written as UTF-16) is UTF-16 of that byte order.
/// Otherwise every line is checked, streaming (a large file is never held in memory): a
/// line is ASCII, UTF-8 (valid, with a character beyond ASCII), or other (bytes that are
/// not UTF-8). A file without other lines is UTF-8 (plain ASCII included); a file without
/// UTF-8 lines is Windows-1252, the encoding of spreadsheets saved as "CSV" by Excel on
/// Western Windows. A file with both **mixes encodings**: it is read in the encoding of
/// most of its lines (UTF-8 on a tie, and always when a UTF-8 byte-order mark says so),
/// and the lines of the other are listed in [`TextEvidence::mixed`] so that they are
/// rejected rather than garbled. The reader is consumed: reopen or rewind the file before
/// decoding it.
pub fn examine_text(mut reader: impl Read) -> io::Result<TextEvidence> {
    let mut buffer = vec![0u8; 64 * 1024];
    let filled = read_up_to(&mut reader, &mut buffer)?;
    let bom = Encoding::for_bom(&buffer[..filled]);
    if let Some((encoding, _)) = bom
        && encoding != encoding_rs::UTF_8
    {
        let encoding = if encoding == encoding_rs::UTF_16LE {
            TextEncoding::Utf16Le
        } else {
            TextEncoding::Utf16Be
        };
        return Ok(TextEvidence {
            encoding,
            mixed: None,
            lines_at_most: None,
        });
    }
    if bom.is_none()
        && let Some(encoding) = utf16_without_bom(&buffer[..filled])
    {
        return Ok(TextEvidence {
            encoding,
            mixed: None,
            lines_at_most: None,
        });
    }
    let mut scan = LineScan::default();
    let mut filled = filled;
    while filled > 0 {
        scan.feed(&buffer[..filled]);
        filled = read_up_to(&mut reader, &mut buffer)?;
    }
    scan.finish();
    let bom = bom.is_some();
    if scan.other_lines == 0 {
        return Ok(TextEvidence {
            encoding: TextEncoding::Utf8,
            mixed: None,
            lines_at_most: Some(scan.line),
        });
    }
    if scan.utf8_lines == 0 && !bom {
        return Ok(TextEvidence {
            encoding: TextEncoding::Windows1252,
            mixed: None,
            lines_at_most: Some(scan.line),
        });
    }
    let (encoding, rejected, complete) = if bom || scan.utf8_lines >= scan.other_lines {
        (TextEncoding::Utf8, scan.other, scan.other_complete)
    } else {
        (TextEncoding::Windows1252, scan.utf8, scan.utf8_complete)
    };
    if !complete {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the file mixes encodings on too many lines ({} lines of UTF-8, {} lines of \
                 another encoding): save it in one encoding (UTF-8) and import it again",
                scan.utf8_lines, scan.other_lines
            ),
        ));
    }
    Ok(TextEvidence {
        encoding,
        lines_at_most: Some(scan.line),
        mixed: Some(MixedLines {
            utf8_lines: scan.utf8_lines,
            other_lines: scan.other_lines,
            rejected,
        }),
    })
}

/// Classifies the lines of a text, chunk by chunk. Lines end with LF, CRLF or CR, as the
/// CSV reader counts them; neither byte occurs inside a UTF-8 sequence, so lines are
/// checked independently; the bytes of a character split across two chunks carry over.
#[derive(Debug)]
struct LineScan {
    line: u64,
    multibyte: bool,
    invalid: bool,
    carry: [u8; 4],
    carry_len: usize,
    utf8_lines: u64,
    other_lines: u64,
    utf8: Vec<u64>,
    other: Vec<u64>,
    utf8_complete: bool,
    other_complete: bool,
    /// The last chunk ended with a CR: a LF starting the next one is the same line end.
    after_cr: bool,
}

impl Default for LineScan {
    fn default() -> Self {
        Self {
            line: 1,
            multibyte: false,
            invalid: false,
            carry: [0; 4],
            carry_len: 0,
            utf8_lines: 0,
            other_lines: 0,
            utf8: Vec::new(),
            other: Vec::new(),
            utf8_complete: true,
            other_complete: true,
            after_cr: false,
        }
    }
}

impl LineScan {
    fn feed(&mut self, mut bytes: &[u8]) {
        if std::mem::take(&mut self.after_cr) && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        while !bytes.is_empty() {
            match bytes.iter().position(|b| matches!(b, b'\n' | b'\r')) {
                Some(at) => {
                    self.scan(&bytes[..at], true);
                    self.end_line();
                    let crlf = bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n');
                    self.after_cr = bytes[at] == b'\r' && at + 1 == bytes.len();
                    bytes = &bytes[at + 1 + usize::from(crlf)..];
                }
                None => {
                    self.scan(bytes, false);
                    bytes = &[];
                }
            }
        }
    }

    /// Checks a piece of the current line; `ends_line` when a line feed follows it.
    fn scan(&mut self, mut segment: &[u8], ends_line: bool) {
        if self.carry_len > 0 {
            let need = utf8_sequence_len(self.carry[0]);
            let take = (need - self.carry_len).min(segment.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&segment[..take]);
            segment = &segment[take..];
            if self.carry_len + take < need {
                if ends_line {
                    self.invalid = true;
                    self.carry_len = 0;
                } else {
                    self.carry_len += take;
                }
                return;
            }
            if std::str::from_utf8(&self.carry[..need]).is_ok() {
                self.multibyte = true;
            } else {
                self.invalid = true;
            }
            self.carry_len = 0;
        }
        let mut at = 0;
        loop {
            match std::str::from_utf8(&segment[at..]) {
                Ok(text) => {
                    self.multibyte |= !text.is_ascii();
                    return;
                }
                Err(error) => {
                    let valid = error.valid_up_to();
                    self.multibyte |= !segment[at..at + valid].is_ascii();
                    if let Some(len) = error.error_len() {
                        self.invalid = true;
                        at += valid + len;
                        continue;
                    }
                    let rest = &segment[at + valid..];
                    if ends_line {
                        self.invalid = true;
                    } else {
                        self.carry[..rest.len()].copy_from_slice(rest);
                        self.carry_len = rest.len();
                    }
                    return;
                }
            }
        }
    }

    fn end_line(&mut self) {
        if self.invalid {
            self.other_lines += 1;
            if self.other.len() < MAX_MIXED_LINES {
                self.other.push(self.line);
            } else {
                self.other_complete = false;
            }
        } else if self.multibyte {
            self.utf8_lines += 1;
            if self.utf8.len() < MAX_MIXED_LINES {
                self.utf8.push(self.line);
            } else {
                self.utf8_complete = false;
            }
        }
        self.line += 1;
        self.multibyte = false;
        self.invalid = false;
    }

    fn finish(&mut self) {
        if self.carry_len > 0 {
            self.invalid = true;
            self.carry_len = 0;
        }
        if self.invalid || self.multibyte {
            self.end_line();
        }
    }
}

/// The length of the UTF-8 sequence a byte that cannot stand alone starts (at least 2).
fn utf8_sequence_len(lead: u8) -> usize {
    match lead {
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 2,
    }
}

/// Recognises UTF-16 without a byte-order mark from its first bytes: mostly-ASCII text in
/// UTF-16 has a zero in at least 40% of the bytes of one parity and in under 10% of the
/// others. Text that is mostly not Latin script needs a byte-order mark.
#[must_use]
pub fn utf16_without_bom(head: &[u8]) -> Option<TextEncoding> {
    let head = &head[..head.len().min(4096) & !1];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    // A few zeros in the "wrong" half come from characters such as U+0600 (Urdu).
    if even * 10 < pairs && odd * 10 >= pairs * 4 {
        Some(TextEncoding::Utf16Le)
    } else if odd * 10 < pairs && even * 10 >= pairs * 4 {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

/// Fills `buffer` as far as the input allows, returning how many bytes were read.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A [`Read`] adapter that decodes its input from a [`TextEncoding`] to UTF-8 bytes, a
/// buffer at a time, so that a file of any size streams through a few kilobytes.
///
/// A byte-order mark matching the encoding is removed. Malformed input becomes the
/// replacement character U+FFFD rather than an error, as spreadsheet tools do.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    input_start: usize,
    input_end: usize,
    input_done: bool,
    output: Box<[u8]>,
    output_start: usize,
    output_end: usize,
    finished: bool,
}

impl<R: Read> DecodingReader<R> {
    /// Decodes `inner` from `encoding`.
    pub fn new(inner: R, encoding: TextEncoding) -> Self {
        Self {
            inner,
            decoder: encoding.encoding().new_decoder_with_bom_removal(),
            input: vec![0; 16 * 1024].into_boxed_slice(),
            input_start: 0,
            input_end: 0,
            input_done: false,
            output: vec![0; 32 * 1024].into_boxed_slice(),
            output_start: 0,
            output_end: 0,
            finished: false,
        }
    }

    /// Decodes more input into the empty output buffer; returns false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        loop {
            if self.finished {
                return Ok(false);
            }
            if self.input_start == self.input_end && !self.input_done {
                self.input_start = 0;
                self.input_end = read_up_to(&mut self.inner, &mut self.input)?;
                self.input_done = self.input_end == 0;
            }
            let last = self.input_done;
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.input_start..self.input_end],
                &mut self.output,
                last,
            );
            self.input_start += read;
            self.output_start = 0;
            self.output_end = written;
            if last && result == CoderResult::InputEmpty {
                self.finished = true;
            }
            if written > 0 {
                return Ok(true);
            }
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.output_start == self.output_end && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.output_end - self.output_start);
        buf[..n].copy_from_slice(&self.output[self.output_start..self.output_start + n]);
        self.output_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], encoding: TextEncoding) -> String {
        let mut text = String::new();
        DecodingReader::new(bytes, encoding)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut bytes = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn detection_follows_bom_then_utf8_validity() {
        let detect = |bytes: &[u8]| detect_encoding(bytes).unwrap();
        assert_eq!(detect(b"\xEF\xBB\xBFa,b"), TextEncoding::Utf8);
        assert_eq!(detect(&utf16le("a,b", true)), TextEncoding::Utf16Le);
        assert_eq!(detect(b"\xFE\xFF\x00a"), TextEncoding::Utf16Be);
        assert_eq!(detect("Café,Sialkot".as_bytes()), TextEncoding::Utf8);
        assert_eq!(detect(b"Caf\xE9,Sialkot"), TextEncoding::Windows1252);
        assert_eq!(detect(b""), TextEncoding::Utf8);
        assert_eq!(
            detect(&utf16le("Name\tDistrict\r\n", false)),
            TextEncoding::Utf16Le
        );
        let be: Vec<u8> = "Name,District"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(detect(&be), TextEncoding::Utf16Be);

        // A UTF-8 character split across chunks is still valid; a bad byte late in a large
        // file still counts.
        let mut large = "a".repeat(64 * 1024 - 1).into_bytes();
        large.extend("é,ok\n".as_bytes());
        assert_eq!(detect(&large), TextEncoding::Utf8);
        large.extend(b"x".repeat(200_000));
        large.push(0xE9);
        // One line of each: a tie, read as UTF-8, the other line rejected.
        assert_eq!(detect(&large), TextEncoding::Utf8);
        assert_eq!(
            examine_text(&large[..]).unwrap().mixed.unwrap().rejected,
            [2]
        );
    }

    #[test]
    fn a_file_that_mixes_encodings_is_read_in_its_majority_and_names_the_other_lines() {
        // UTF-8 with one Windows-1252 byte on the last of 5,001 lines.
        let mut bytes = b"Name,City\n".to_vec();
        for i in 0..4999 {
            bytes.extend(format!("Caf\u{e9} Works {i},Sialkot\n").as_bytes());
        }
        bytes.extend(b"Caf\xE9 Works,Lahore");
        let evidence = examine_text(&bytes[..]).unwrap();
        assert_eq!(evidence.encoding, TextEncoding::Utf8);
        let mixed = evidence.mixed.unwrap();
        assert_eq!((mixed.utf8_lines, mixed.other_lines), (4999, 1));
        assert_eq!(mixed.rejected, [5001]);

        // Mostly Windows-1252 with two UTF-8 lines: read as Windows-1252, those two rejected.
        let mut bytes = b"Name\r\n".to_vec();
        for _ in 0..10 {
            bytes.extend(b"Caf\xE9\r\n");
        }
        bytes.extend("Caf\u{e9}\r\n\r\nNa\u{ef}ve\r\n".as_bytes());
        let evidence = examine_text(&bytes[..]).unwrap();
        assert_eq!(evidence.encoding, TextEncoding::Windows1252);
        assert_eq!(evidence.mixed.unwrap().rejected, [12, 14]);

        // A UTF-8 byte-order mark says UTF-8 whatever the majority.
        let mut bytes = b"\xEF\xBB\xBFName\n".to_vec();
        bytes.extend(b"Caf\xE9\nCaf\xE9\n");
        let evidence = examine_text(&bytes[..]).unwrap();
        assert_eq!(evidence.encoding, TextEncoding::Utf8);
        assert_eq!(evidence.mixed.unwrap().rejected, [2, 3]);

        // Pure files are not mixed; a character split across chunks is one character.
        for pure in [
            "Café\nNaïve\n".as_bytes(),
            b"Caf\xE9\nNa\xEFve\n",
            b"plain\n",
        ] {
            assert_eq!(examine_text(pure).unwrap().mixed, None);
        }
        let mut split = vec![b'a'; 64 * 1024 - 1];
        split.extend("é\n".as_bytes());
        let mut scan = LineScan::default();
        scan.feed(&split[..64 * 1024]);
        scan.feed(&split[64 * 1024..]);
        scan.finish();
        assert_eq!((scan.utf8_lines, scan.other_lines), (1, 0));
    }

    #[test]
    fn decoding_streams_to_utf8_and_drops_the_bom() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b", TextEncoding::Utf8), "a,b");
        assert_eq!(
            decode(&utf16le("Café;ٹ", true), TextEncoding::Utf16Le),
            "Café;ٹ"
        );
        assert_eq!(decode(b"Caf\xE9", TextEncoding::Windows1252), "Café");
        let long = "Sialkot Surgical Works,€1200\n".repeat(5000);
        let bytes = encoding_rs::WINDOWS_1252.encode(&long).0;
        assert_eq!(decode(&bytes, TextEncoding::Windows1252), long);
        assert_eq!(decode(&utf16le(&long, false), TextEncoding::Utf16Le), long);
    }

    #[test]
    fn encodings_parse_from_labels() {
        let cases = [
            ("utf-8", TextEncoding::Utf8),
            ("UTF8", TextEncoding::Utf8),
            ("utf-16le", TextEncoding::Utf16Le),
            ("utf-16", TextEncoding::Utf16Le),
            ("UTF-16BE", TextEncoding::Utf16Be),
            ("windows-1252", TextEncoding::Windows1252),
            ("cp1252", TextEncoding::Windows1252),
            ("latin1", TextEncoding::Windows1252),
            ("iso-8859-1", TextEncoding::Windows1252),
        ];
        for (label, expected) in cases {
            assert_eq!(label.parse::<TextEncoding>(), Ok(expected), "{label}");
        }
        assert_eq!(
            "windows-1256".parse::<TextEncoding>().unwrap().name(),
            "windows-1256"
        );
        assert!("klingon".parse::<TextEncoding>().is_err());
    }
}
