//! CSV and TSV files: delimiter detection and a streaming row source.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::encoding::{DecodingReader, MixedLines, TextEncoding, examine_text};
use super::{Cell, ReadError, Row, RowProblem, RowSource, human_bytes};
use crate::limits::{self, ReadLimits};

/// The delimiters tried by detection, in order of preference when they tie.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many bytes of decoded text delimiter detection looks at.
const SAMPLE_BYTES: usize = 64 * 1024;

/// The most columns a row may have: a spreadsheet's (XFD). A CSV row with more is a
/// [`RowProblem`] and no cells are made of it.
pub const MAX_COLUMNS: usize = 16_384;

/// How many records of the sample delimiter detection compares.
const SAMPLE_RECORDS: usize = 30;

/// Options for reading a delimited text file; `None` means "detect".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The text encoding, overriding detection.
    pub encoding: Option<TextEncoding>,
    /// The delimiter byte, overriding detection (`b';'`, `b'\t'`, …).
    pub delimiter: Option<u8>,
}

/// Detects the delimiter of delimited text from its first lines.
///
/// Each candidate of [`DELIMITERS`] splits the first records (quotes respected, so a
/// comma inside `"Lahore, Punjab"` does not count). A candidate scores by how many of
/// those records have its most common field count, counting only field counts above
/// one; the highest score wins, then the larger field count, then the order of
/// [`DELIMITERS`]. Title lines with a single field do not disturb it. Text where no
/// candidate splits anything is read with a comma (one column).
#[must_use]
pub fn detect_delimiter(sample: &str) -> u8 {
    let mut best = (0usize, 0usize, b',');
    for delimiter in DELIMITERS {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(sample.as_bytes());
        let mut counts: Vec<usize> = Vec::new();
        for record in reader.records().take(SAMPLE_RECORDS) {
            let Ok(record) = record else { break };
            if record.iter().any(|f| !f.trim().is_empty()) {
                counts.push(record.len());
            }
        }
        let mut tally: Vec<(usize, usize)> = Vec::new();
        for count in counts.into_iter().filter(|c| *c > 1) {
            match tally.iter_mut().find(|(c, _)| *c == count) {
                Some((_, n)) => *n += 1,
                None => tally.push((count, 1)),
            }
        }
        if let Some(&(fields, score)) = tally.iter().max_by_key(|(c, n)| (*n, *c))
            && (score, fields) > (best.0, best.1)
        {
            best = (score, fields, delimiter);
        }
    }
    best.2
}

/// A CSV or TSV file read row by row.
///
/// The file is decoded to UTF-8 as it is read ([`DecodingReader`]) and parsed by the
/// `csv` crate, so only the current row and a few buffers are in memory, whatever the
/// file's size. Cells are [`Cell::Text`] or [`Cell::Empty`]. Row numbers are the line
/// numbers at which records start (a quoted field spanning lines makes the next record
/// start further down); empty lines are skipped but counted.
///
/// Reading is bounded ([`ReadLimits`], configured by the hub): a row longer than
/// `max_line_bytes` (a header without a line end, a runaway quote) is a file error raised
/// before the row is held in memory; more rows than `max_rows_per_sheet` are a file error;
/// a value longer than `max_field_bytes` makes its row a [`RowProblem`]. In a file that
/// mixes encodings (see [`examine_text`]) the lines not in the encoding read are
/// [`RowProblem`]s too, and [`CsvSource::encoding_warning`] says so for the whole file.
pub struct CsvSource {
    file: String,
    encoding: TextEncoding,
    delimiter: u8,
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: csv::StringRecord,
    limits: ReadLimits,
    mixed: Option<MixedLines>,
    /// The lines of records cut short for their length ([`LineEnds`]).
    cut: Arc<Mutex<VecDeque<u64>>>,
    /// Records read so far, empty ones included: the rows a spreadsheet tool would show.
    records: u64,
}

impl std::fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSource")
            .field("file", &self.file)
            .field("encoding", &self.encoding)
            .field("delimiter", &char::from(self.delimiter))
            .finish_non_exhaustive()
    }
}

impl CsvSource {
    /// Opens the delimited file at `path`, known to the user as `file_name`, detecting
    /// what `options` leave open. An empty file (or one holding only whitespace) is an
    /// error.
    ///
    /// Detecting the encoding reads the file once from start to end (see
    /// [`detect_encoding`](super::detect_encoding)) before it is read for its rows; both passes stream. The
    /// delimiter is detected from the first 64 KiB of decoded text, which are then read
    /// again from memory.
    pub fn open(path: &Path, file_name: &str, options: CsvOptions) -> Result<Self, ReadError> {
        let io_error =
            |e: std::io::Error| ReadError::file(file_name, format!("cannot read the file: {e}"));
        let limits = limits::current();
        let (encoding, mixed, lines_at_most) = match options.encoding {
            Some(encoding) => (encoding, None, None),
            None => {
                let evidence = examine_text(File::open(path).map_err(io_error)?).map_err(|e| {
                    ReadError::file(file_name, e.to_string().replace("the file ", ""))
                })?;
                (evidence.encoding, evidence.mixed, evidence.lines_at_most)
            }
        };
        let mut decoded = DecodingReader::new(File::open(path).map_err(io_error)?, encoding);
        let mut sample = Vec::with_capacity(SAMPLE_BYTES);
        (&mut decoded)
            .take(SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(io_error)?;
        // The decoder writes whole characters only, so the sample is valid UTF-8 unless the
        // 64 KiB cut falls inside one; drop such a partial character.
        let text = match std::str::from_utf8(&sample) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or_default(),
        };
        if text.trim().is_empty() {
            return Err(ReadError::file(file_name, "the file is empty"));
        }
        let delimiter = options.delimiter.unwrap_or_else(|| detect_delimiter(text));
        // A file of more lines than the bound on rows may hold more rows: count them before
        // anything is imported, rather than refuse after a million rows were validated.
        if lines_at_most.is_some_and(|n| n > limits.max_rows_per_sheet) {
            check_row_count(path, file_name, encoding, delimiter, &limits)?;
        }
        let cut = Arc::new(Mutex::new(VecDeque::new()));
        let input: Box<dyn Read + Send> = Box::new(LineEnds::new(
            Cursor::new(sample).chain(decoded),
            delimiter,
            limits.max_line_bytes,
            cut.clone(),
        ));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(input);
        Ok(Self {
            file: file_name.to_owned(),
            encoding,
            delimiter,
            reader,
            record: csv::StringRecord::new(),
            limits,
            mixed,
            cut,
            records: 0,
        })
    }

    /// A sentence for the import's report when the file mixes encodings: how many lines
    /// are in each and that the other encoding's lines are rejected.
    #[must_use]
    pub fn encoding_warning(&self) -> Option<String> {
        let mixed = self.mixed.as_ref()?;
        let (read, other) = match self.encoding {
            TextEncoding::Utf8 => ("UTF-8", "another encoding (not UTF-8)"),
            _ => ("Windows-1252", "UTF-8"),
        };
        let (majority, minority) = match self.encoding {
            TextEncoding::Utf8 => (mixed.utf8_lines, mixed.other_lines),
            _ => (mixed.other_lines, mixed.utf8_lines),
        };
        Some(format!(
            "The file mixes encodings: it is read as {read} (the encoding of {majority} of its \
             lines that are not plain ASCII), and its {minority} line(s) in {other} are \
             rejected rather than garbled. Save the file in one encoding (UTF-8) and import it \
             again, or name its encoding in a mapping ([csv] encoding)."
        ))
    }

    /// The problem of the record starting at line `number` when it was cut short.
    fn cut_problem(&self, number: u64) -> Option<Box<RowProblem>> {
        let mut cut = self.cut.lock().ok()?;
        while cut.front().is_some_and(|line| *line < number) {
            cut.pop_front();
        }
        if cut.front() != Some(&number) {
            return None;
        }
        cut.pop_front();
        Some(Box::new(RowProblem {
            column: None,
            code: RowProblem::ROW_TOO_LONG,
            message: format!(
                "The row is longer than {}, the longest row read (import.max_line_bytes), and \
                 was not read: a line end may be missing, or a quote not closed.",
                human_bytes(self.limits.max_line_bytes as u64)
            ),
        }))
    }

    /// The problem of a record read from lines `first..=last`, when one of them is in the
    /// other encoding of a mixed file.
    fn encoding_problem(&self, first: u64, last: u64) -> Option<Box<RowProblem>> {
        let mixed = self.mixed.as_ref()?;
        let at = mixed.rejected.partition_point(|line| *line < first);
        if mixed.rejected.get(at).is_none_or(|line| *line > last) {
            return None;
        }
        let utf8 = self.encoding == TextEncoding::Utf8;
        let column = self.record.iter().position(|field| {
            if utf8 {
                field.contains('\u{FFFD}')
            } else {
                !field.is_ascii()
            }
        });
        let message = if utf8 {
            "The row is not UTF-8 like the rest of the file (another encoding, such as \
             Windows-1252, on this line), so it is not read rather than garbled: save the file \
             as UTF-8 and import it again."
        } else {
            "The row is UTF-8 while most of the file is Windows-1252, so it is not read rather \
             than garbled: save the file in one encoding (UTF-8) and import it again."
        };
        Some(Box::new(RowProblem {
            column,
            code: RowProblem::MIXED_ENCODING,
            message: message.to_owned(),
        }))
    }

    /// The encoding the file is read with.
    #[must_use]
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// The delimiter the file is read with.
    #[must_use]
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }
}

/// Counts the records of a delimited file, streaming, and refuses one with more than
/// `max_rows_per_sheet`, naming the first row over the bound.
fn check_row_count(
    path: &Path,
    file_name: &str,
    encoding: TextEncoding,
    delimiter: u8,
    limits: &ReadLimits,
) -> Result<(), ReadError> {
    let io_error =
        |e: std::io::Error| ReadError::file(file_name, format!("cannot read the file: {e}"));
    let decoded = DecodingReader::new(File::open(path).map_err(io_error)?, encoding);
    let input = LineEnds::new(decoded, delimiter, limits.max_line_bytes, Arc::default());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut count = 0u64;
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        count += 1;
        if count > limits.max_rows_per_sheet {
            let line = record.position().map_or(count, csv::Position::line);
            return Err(too_many_rows(file_name, limits).at_row(line));
        }
    }
    Ok(())
}

/// The error of a file of more rows than `max_rows_per_sheet`.
fn too_many_rows(file_name: &str, limits: &ReadLimits) -> ReadError {
    ReadError::file(
        file_name,
        format!(
            "the file has more than {} rows (import.max_rows_per_sheet): split it, or raise \
             the limit",
            limits.max_rows_per_sheet
        ),
    )
}

/// A [`Read`] adapter between the decoded text and the `csv` crate that keeps its line
/// numbers true.
///
/// The `csv` crate skips empty lines and then reports the next record at the line of the
/// first skipped one, counts a CRLF line end late, and does not count a CR alone (the line
/// end of old Mac files) at all. So this adapter turns every line end, CRLF or CR, into LF
/// (also inside quoted fields, as spreadsheet tools store line breaks; [`examine_text`]
/// counts lines the same way) and writes the delimiter into each empty line outside quotes,
/// making it a record of empty fields, which [`CsvSource`] skips but counts. It follows
/// quoting as the `csv` crate does: a `"` opens a quoted field only at the start of a
/// field, and `""` inside one is an escaped quote.
struct LineEnds<R> {
    inner: R,
    delimiter: u8,
    /// The longest record passed on, in bytes: the rest of a longer one is skipped, the
    /// record is cut short and its line noted in `cut`.
    max_record: usize,
    /// The bytes of the current record so far, and the line it started on.
    record_len: usize,
    record_line: u64,
    line: u64,
    /// Skipping the rest of a record over `max_record`, and whether a line feed was
    /// passed on since.
    skipping: bool,
    skipped_line: bool,
    /// The lines at which the records cut short start, in order; read by [`CsvSource`].
    cut: Arc<Mutex<VecDeque<u64>>>,
    raw: Box<[u8]>,
    out: Vec<u8>,
    out_pos: usize,
    pending_cr: bool,
    at_line_start: bool,
    at_field_start: bool,
    in_quotes: bool,
    quote_pending: bool,
}

impl<R: Read> LineEnds<R> {
    fn new(inner: R, delimiter: u8, max_record: usize, cut: Arc<Mutex<VecDeque<u64>>>) -> Self {
        Self {
            inner,
            delimiter,
            max_record,
            record_len: 0,
            record_line: 1,
            line: 1,
            skipping: false,
            skipped_line: false,
            cut,
            raw: vec![0; 16 * 1024].into_boxed_slice(),
            out: Vec::with_capacity(32 * 1024),
            out_pos: 0,
            pending_cr: false,
            at_line_start: true,
            at_field_start: true,
            in_quotes: false,
            quote_pending: false,
        }
    }

    /// Passes one byte of LF-normalised text on, padding empty lines.
    fn push(&mut self, byte: u8) {
        if byte == b'\n' {
            self.line += 1;
        }
        self.record_len += 1;
        if !self.skipping && self.record_len > self.max_record {
            // Cut the record here: close an open quoted field (unless its closing quote
            // may just have come), skip to the record's end, and note the line.
            if self.in_quotes && !self.quote_pending {
                self.out.push(b'"');
            }
            self.skipping = true;
            if let Ok(mut cut) = self.cut.lock() {
                cut.push_back(self.record_line);
            }
        }
        if self.skipping {
            let kept = self.out.len();
            self.pass(byte);
            self.out.truncate(kept);
            if byte == b'\n' {
                // The first line feed ends the cut record; each further one (inside the
                // skipped quoted field) is an empty record, skipped but counted, so that
                // the line numbers of the rows after it stay true.
                if std::mem::replace(&mut self.skipped_line, true) {
                    self.out.push(self.delimiter);
                }
                self.out.push(b'\n');
                if self.at_line_start {
                    self.skipping = false;
                    self.skipped_line = false;
                }
            }
            return;
        }
        self.pass(byte);
    }

    fn pass(&mut self, byte: u8) {
        if self.in_quotes {
            if !std::mem::take(&mut self.quote_pending) {
                self.quote_pending = byte == b'"';
                self.out.push(byte);
                return;
            }
            if byte == b'"' {
                // An escaped quote: still inside the field.
                self.out.push(byte);
                return;
            }
            self.in_quotes = false;
        }
        match byte {
            b'\n' => {
                if self.at_line_start {
                    self.out.push(self.delimiter);
                }
                self.at_line_start = true;
                self.at_field_start = true;
                self.record_len = 0;
                self.record_line = self.line;
            }
            b'"' if self.at_field_start => {
                self.in_quotes = true;
                self.at_line_start = false;
                self.at_field_start = false;
            }
            _ => {
                self.at_line_start = false;
                self.at_field_start = byte == self.delimiter;
            }
        }
        self.out.push(byte);
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                if !std::mem::take(&mut self.pending_cr) {
                    return Ok(0);
                }
                self.push(b'\n');
                break;
            }
            for index in 0..n {
                let byte = self.raw[index];
                if std::mem::take(&mut self.pending_cr) && byte != b'\n' {
                    self.push(b'\n');
                }
                if byte == b'\r' {
                    self.pending_cr = true;
                } else {
                    self.push(byte);
                }
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

impl RowSource for CsvSource {
    fn file(&self) -> &str {
        &self.file
    }

    fn sheet(&self) -> Option<&str> {
        None
    }

    fn next_row(&mut self) -> Result<Option<Row>, ReadError> {
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| {
                let line = e.position().map(csv::Position::line);
                let error = ReadError::file(&self.file, format!("cannot read the file: {e}"));
                match line {
                    Some(line) => error.at_row(line),
                    None => error,
                }
            })?;
            if !more {
                return Ok(None);
            }
            self.records += 1;
            let number = self.record.position().map_or(0, csv::Position::line);
            if self.records > self.limits.max_rows_per_sheet {
                return Err(too_many_rows(&self.file, &self.limits).at_row(number));
            }
            let cut = self.cut_problem(number);
            if self.record.len() > MAX_COLUMNS {
                // Cells are not made of it: two million empty fields fit in 4 MiB.
                let mut row = Row::new(number, Vec::new());
                row.problem = cut.or_else(|| {
                    Some(Box::new(RowProblem {
                        column: None,
                        code: RowProblem::ROW_TOO_LONG,
                        message: format!(
                            "The row has {} columns, more than the {MAX_COLUMNS} a sheet can \
                             have, and was not read.",
                            self.record.len()
                        ),
                    }))
                });
                return Ok(Some(row));
            }
            let cells: Vec<Cell> = self.record.iter().map(Cell::text).collect();
            if cells.iter().all(Cell::is_empty) {
                continue;
            }
            let last = number
                + self
                    .record
                    .iter()
                    .map(|f| f.bytes().filter(|b| *b == b'\n').count() as u64)
                    .sum::<u64>();
            let mut row = Row::new(number, cells);
            row.problem = cut.or_else(|| self.encoding_problem(number, last));
            row.bound_cells(self.limits.max_field_bytes);
            return Ok(Some(row));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_ends(input: &str) -> String {
        let mut out = String::new();
        LineEnds::new(input.as_bytes(), b';', usize::MAX, Arc::default())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn line_ends_become_lf_and_empty_lines_records() {
        let mut input = "a".repeat(16 * 1024 - 1);
        input.push_str("\r\nb\rc\r\n\r");
        // CRLF and CR alike become LF; the last CR ends an empty line.
        let expected = format!("{}\nb\nc\n;\n", "a".repeat(16 * 1024 - 1));
        assert_eq!(line_ends(&input), expected);
        assert_eq!(line_ends("\na\n\n\nb\n"), ";\na\n;\n;\nb\n");
        assert_eq!(
            line_ends("\"x\n\ny\";\"q\"\"\n\n\"\n\n5\" pipe\n\nz"),
            "\"x\n\ny\";\"q\"\"\n\n\"\n;\n5\" pipe\n;\nz"
        );
    }

    #[test]
    fn delimiters_are_detected_with_quotes_respected() {
        let cases: &[(&str, u8)] = &[
            ("a,b,c\n1,2,3\n", b','),
            ("a;b;c\n1,5;2,5;3\n4;5;6\n", b';'),
            ("a\tb\n\"x, y\"\t2\n", b'\t'),
            ("a|b|c\n1|2|3\n", b'|'),
            ("\"Lahore, Punjab\";2\n\"Sialkot, Punjab\";3\nx;4\n", b';'),
            (
                "Punjab Industrial Cluster Development Initiative - Diagnostic Survey 2023\n\nName,District,Employees\nA,Lahore,12\nB,Sialkot,30\n",
                b',',
            ),
            ("name,desc\nA,x;y\nB,z\n", b','),
            ("one column\nonly\n", b','),
        ];
        for (sample, expected) in cases {
            assert_eq!(
                char::from(detect_delimiter(sample)),
                char::from(*expected),
                "{sample:?}"
            );
        }
    }
}
