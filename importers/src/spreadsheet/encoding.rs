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

/// Detects the encoding of a text file read from `reader`, from its start to its end.
///
/// A byte-order mark decides (UTF-8, UTF-16LE, UTF-16BE). Without one, text whose first
/// kilobytes have zero bytes in every other position (ASCII written as UTF-16) is
/// UTF-16 of that byte order. Otherwise the whole input
/// is checked for valid UTF-8, chunk by chunk so that a large file is never held in
/// memory; valid UTF-8 (plain ASCII included) is UTF-8, and anything else is read as
/// Windows-1252, the encoding of spreadsheets saved as "CSV" by Excel on Western Windows.
/// The reader is consumed: reopen or rewind the file before decoding it.
pub fn detect_encoding(mut reader: impl Read) -> io::Result<TextEncoding> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut filled = read_up_to(&mut reader, &mut buffer)?;
    if let Some((encoding, _)) = Encoding::for_bom(&buffer[..filled]) {
        return Ok(if encoding == encoding_rs::UTF_8 {
            TextEncoding::Utf8
        } else if encoding == encoding_rs::UTF_16LE {
            TextEncoding::Utf16Le
        } else {
            TextEncoding::Utf16Be
        });
    }
    if let Some(encoding) = utf16_without_bom(&buffer[..filled]) {
        return Ok(encoding);
    }
    // The bytes of an incomplete UTF-8 sequence at the end of a chunk carry over.
    let mut carried = 0;
    loop {
        let len = carried + filled;
        let at_end = filled == 0 || len < buffer.len();
        match std::str::from_utf8(&buffer[..len]) {
            Ok(_) => carried = 0,
            Err(error) if error.error_len().is_none() && !at_end => {
                let valid = error.valid_up_to();
                buffer.copy_within(valid..len, 0);
                carried = len - valid;
            }
            Err(_) => return Ok(TextEncoding::Windows1252),
        }
        if at_end {
            return Ok(TextEncoding::Utf8);
        }
        filled = read_up_to(&mut reader, &mut buffer[carried..])?;
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
        assert_eq!(detect(&large), TextEncoding::Windows1252);
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
