//! The spreadsheet reading layer: files in, typed rows with their place out.
//!
//! It reads
//!
//! - **CSV and TSV** (and other delimited text: `;` and `|` too), streamed row by row
//!   through a small buffer however large the file is, with the encoding (UTF-8 with or
//!   without a byte-order mark, UTF-16, else Windows-1252) and the delimiter detected
//!   unless the user names them ([`CsvSource`], [`CsvOptions`], [`detect_encoding`],
//!   [`detect_delimiter`]);
//! - **XLSX, XLS and ODS** workbooks through calamine, a sheet at a time
//!   ([`Workbook`], [`SheetSource`]).
//!
//! Both give a [`RowSource`]: rows of typed [`Cell`]s with their 1-based row number as
//! the user's tool shows it. Rows holding nothing are skipped (in the middle and at the
//! end) without renumbering the others. On top of it, [`detect_header`] finds the header
//! row below title rows and names the columns (merged parent headers included),
//! [`WithHeader`] reads a source's data rows below it, and
//! [`parse_number`] and [`Cell::as_date`] read numbers and dates as people type them.
//! Failures are [`ReadError`]s naming the file, sheet, row and column.
//!
//! This layer only reads: it knows nothing of records, mappings or the database.
//!
//! # Example
//!
//! A Windows-1252 CSV export with a title line, read with its header:
//!
//! ```
//! use hub_importers::spreadsheet::{CsvOptions, RowSource, SpreadsheetFile, WithHeader, open_file};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::env::temp_dir().join(format!("hub-spreadsheet-doc-{}.csv", std::process::id()));
//! std::fs::write(
//!     &path,
//!     b"Cluster Development Initiative - Firm list\r\n\
//!       Name of Unit;District;Total Employees;Registered\r\n\
//!       Caf\xE9 Leather;Lahore;1,250;15/03/2023\r\n",
//! )?;
//! let SpreadsheetFile::Csv(source) = open_file(&path, "firms.csv", CsvOptions::default())? else {
//!     unreachable!("a text file reads as CSV");
//! };
//! let mut rows = WithHeader::new(source)?;
//! assert_eq!(rows.header().row, 2);
//! let employees = rows.header().find("total employees").unwrap();
//! let registered = rows.header().find("Registered").unwrap();
//!
//! let row = rows.next_row()?.unwrap();
//! assert_eq!(row.number, 3);
//! assert_eq!(row.cell(0).as_text(), Some("Café Leather"));
//! assert_eq!(row.cell(employees).as_number(), Some(1250.0));
//! assert_eq!(row.cell(registered).as_date().map(|d| d.to_string()).as_deref(), Some("2023-03-15"));
//! assert!(rows.next_row()?.is_none());
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

mod cell;
mod delimited;
mod encoding;
mod error;
mod header;
mod number;
mod workbook;

use std::io::Read;
use std::path::Path;

pub use cell::{Cell, excel_1904_serial_to_date, excel_serial_to_date, parse_text_date};
pub use delimited::{CsvOptions, CsvSource, DELIMITERS, detect_delimiter};
pub use encoding::{DecodingReader, TextEncoding, detect_encoding, utf16_without_bom};
pub use error::{ReadError, column_letter};
pub use header::{
    HEADER_SEARCH_ROWS, Header, HeaderColumn, WithHeader, detect_header, normalise_header,
};
pub use number::{NumberLocale, parse_number, parse_number_with};
pub use workbook::{SheetSource, Workbook, WorkbookKind};

/// One non-empty row of a sheet or CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The 1-based row number as the user's tool shows it (the CSV line number).
    pub number: u64,
    /// The cells from column A on; trailing cells may be missing rather than empty.
    pub cells: Vec<Cell>,
}

impl Row {
    /// The cell at the 0-based `column`, [`Cell::Empty`] beyond the end of the row.
    #[must_use]
    pub fn cell(&self, column: usize) -> &Cell {
        self.cells.get(column).unwrap_or(&Cell::Empty)
    }
}

/// A source of rows: a CSV file or one sheet of a workbook.
pub trait RowSource {
    /// The file's name as the user knows it.
    fn file(&self) -> &str;

    /// The sheet's name, or `None` for a CSV file.
    fn sheet(&self) -> Option<&str>;

    /// The next row that holds at least one value, or `Ok(None)` at the end.
    fn next_row(&mut self) -> Result<Option<Row>, ReadError>;
}

/// The kinds of file the layer tells apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Delimited text.
    Text,
    /// A workbook of the given kind.
    Workbook(WorkbookKind),
}

/// Decides how to read a file from its first bytes and its name.
///
/// A ZIP archive is an XLSX workbook, or an ODS one when the name ends in `.ods` or the
/// archive says so; a Compound File (OLE2) is an XLS workbook, or a password-protected
/// XLSX (Office encrypts those into a Compound File; [`Workbook::open`] tells which);
/// text is CSV, also under an `.xls` name (web applications export delimited text so)
/// but not under `.xlsx` or `.ods`. Anything else (an empty file, a PDF, an image, an HTML page, other binary data, text
/// under an `.xlsx` name) is an error naming the file.
pub fn sniff_file(path: &Path, file_name: &str) -> Result<FileKind, ReadError> {
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| ReadError::file(file_name, format!("cannot read the file: {e}")))?;
    let extension = Path::new(file_name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::file(file_name, "the file is empty"));
    }
    if head.starts_with(b"PK\x03\x04") {
        let ods = extension == "ods"
            || head
                .windows(46)
                .any(|w| w == b"application/vnd.oasis.opendocument.spreadsheet");
        return Ok(FileKind::Workbook(if ods {
            WorkbookKind::Ods
        } else {
            WorkbookKind::Xlsx
        }));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An XLS workbook, or an encrypted XLSX: `Workbook::open` tells them apart.
        return Ok(FileKind::Workbook(WorkbookKind::Xls));
    }
    let utf16 = head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || encoding::utf16_without_bom(&head).is_some();
    let binary = head
        .iter()
        .any(|b| *b == 0 || (*b < 0x20 && !b"\t\n\r\x0c\x1a".contains(b)));
    let text = !binary || utf16;
    let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let start = &start[start.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    if text && start.starts_with(b"<") {
        return Err(ReadError::file(
            file_name,
            "the file is not a spreadsheet but an HTML or XML document (web applications \
             often export those under a spreadsheet's name): open it in a spreadsheet tool \
             and save it as XLSX or CSV",
        ));
    }
    let workbook_extension = matches!(extension.as_str(), "xlsx" | "xlsm" | "xls" | "ods");
    // Web applications export delimited text as `.xls`; Excel opens it, and so does this.
    if workbook_extension && !(text && extension == "xls") {
        let expected = if extension == "xls" {
            "an Excel 97-2003 (Compound File) document"
        } else {
            "a ZIP archive"
        };
        let found = if binary { "other binary data" } else { "text" };
        return Err(ReadError::file(
            file_name,
            format!(
                "the file is not a valid {} file: it is not {expected} but {found}; \
                 it may be damaged or of another format",
                extension.to_ascii_uppercase()
            ),
        ));
    }
    if binary && !utf16 {
        let what = if head.starts_with(b"%PDF") {
            "a PDF document"
        } else if head.starts_with(b"\x89PNG") || head.starts_with(b"\xFF\xD8\xFF") {
            "an image"
        } else {
            "binary data"
        };
        return Err(ReadError::file(
            file_name,
            format!("the file is not a spreadsheet (CSV, TSV, XLSX, XLS or ODS): it holds {what}"),
        ));
    }
    Ok(FileKind::Text)
}

/// An opened spreadsheet file: a CSV or TSV file (one row source) or a workbook (a row
/// source per sheet).
#[derive(Debug)]
pub enum SpreadsheetFile {
    /// A delimited text file.
    Csv(CsvSource),
    /// A workbook.
    Workbook(Workbook),
}

/// Opens the file at `path`, known to the user as `file_name`, as CSV or as a workbook
/// according to its content (see [`sniff_file`]). `csv` applies to text files only.
pub fn open_file(
    path: &Path,
    file_name: &str,
    csv: CsvOptions,
) -> Result<SpreadsheetFile, ReadError> {
    match sniff_file(path, file_name)? {
        FileKind::Text => CsvSource::open(path, file_name, csv).map(SpreadsheetFile::Csv),
        FileKind::Workbook(_) => Workbook::open(path, file_name).map(SpreadsheetFile::Workbook),
    }
}

#[cfg(test)]
mod tests;
