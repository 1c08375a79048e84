//! Spreadsheets: the reading layer, and the spreadsheet importer on top of it.
//!
//! # The reading layer
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
//! The reading layer only reads: it knows nothing of records, mappings or the database.
//!
//! # The spreadsheet importer
//!
//! [`SpreadsheetImporter`] (id `spreadsheet`) turns the rows into the SDK's records. Each
//! sheet (a CSV file is one sheet) is read as one **target**:
//!
//! | target | alias | a row gives |
//! |---|---|---|
//! | `firms` | `firm_observations` | an [`Organisation`], its [`FirmObservation`]s, a contact [`Person`] and [`Affiliation`] |
//! | `participants` | `attendance` | the sheet's own [`TrainingEvent`] (every row) when it gives its title, a [`Person`], the [`Organisation`] of their firm (once), a [`Participation`] |
//! | `training_events` | | a [`Course`] and a provider [`Organisation`] (once each), a [`TrainingEvent`] |
//! | `indicator_values` | | an [`IndicatorValue`] per value column that holds one |
//! | `networks` | | a [`Network`] |
//! | `network_members` | | the member's [`Organisation`] (once), a [`NetworkMember`] |
//! | `agencies` | | an agency's [`Organisation`] |
//! | `programmes` | | its agencies' [`Organisation`]s (once), a [`Programme`] |
//! | `clusters` | | a [`Cluster`] |
//!
//! The last three are a programme definition (see [`crate::programme`]): a sheet is read as
//! one of them only when its name (a CSV file's name) says so (`clusters`, `Programmes`,
//! `agency`), and their sheets are read first (agencies, programmes, clusters), whatever
//! their place in the workbook.
//!
//! The fields of each target are listed in [`Target::fields`] (`firm.name`,
//! `person.cnic`, `value.target`, …, and `firm.id.<scheme>` for an identifier of any scheme,
//! e.g. `firm.id.source:cdi-survey-2023` to cite another source's record). Records come in
//! the order the hub resolves references in: a row's records after the records they refer
//! to, a workbook's sheets in workbook order. Shared records (a participant's firm, a
//! course, a provider) are emitted once per import, the first time their key appears.
//!
//! **Without a mapping** (options `Null`), every sheet's header is found (below title
//! rows, merged parents included) and its columns are mapped through the synonym table
//! [`SYNONYMS`]; the sheet is read as the target whose required fields are found with the
//! most columns mapped (firms need `firm.name`; participants `person.name` or
//! `person.cnic` and an event column; training events an event code and a title;
//! indicator values `indicator.code` and a value column; networks `network.name` and
//! `network.kind`; network members a network and `firm.name`). Sheets that fit no target
//! are left out with a log line. Two rules complete the synonyms: in a firm list with a
//! contact person, the phone and e-mail columns are the contact's; and an attendance sheet
//! of a **workbook** without an event column takes the sheet's name as its event key
//! (workbooks keep one sheet per event, named by its code), as the mapping constant
//! `"event.source_key" = "{sheet}"` does, unless the sheet keeps its event above the
//! header: a date beside a `From` (`Start`, `Date From`, or a single `Date`) label and one
//! beside `To` in the title rows are the event's dates, text beside `Venue` its venue, the
//! first title row (a merged title) its title and the second, without a `Venue` label,
//! its venue. Then the sheet creates (or finds again) its event, keyed
//! `<folded title>/<start date>` (`lean-manufacturing/2024-03-12`) unless an
//! `event.source_key` is given, and every participant row names it. In an attendance
//! sheet a column feeds the event only when its header says so (`Event Title`, `Training
//! Date`): a plain `Title` or `Cluster` there is the participant's. [`suggest_mapping`]
//! writes what detection found as an editable mapping file, the event's cells as `{ cell
//! = "B3" }` constants; used unedited it imports the same.
//!
//! # The mapping file
//!
//! The hub reads a TOML file and passes it as JSON:
//!
//! ```toml
//! source = "cdi-survey-2023"     # read by the hub (as is `importer`); ignored here
//! [csv]                          # optional, CSV and TSV only
//! encoding = "windows-1252"      # utf-8 | utf-16le | utf-16be | windows-1252 | any WHATWG label
//! delimiter = ";"                # or "\t", "|", "tab", …
//!
//! [[sheets]]
//! sheet = "Firms"                # or pattern = "CDI-*" (glob: * and ?), or neither:
//!                                # a CSV file, or a workbook's first sheet
//! header_row = 4                 # optional, 1-based; detected otherwise
//! target = "firms"
//! baseline_once_per_series = true  # indicator_values only; the default
//!
//! [sheets.columns]               # header as written -> field; "" leaves a column out
//! "Survey ID" = "firm.source_key"
//! "Name of Unit" = "firm.name"
//!
//! [sheets.constants]             # field -> the same value on every row
//! "firm.observed_on" = "2023-03-31"
//! "event.source_key" = "{sheet}" # {sheet} and {file} are replaced by the names (a
//!                                # CSV file's {sheet} is its name without extension)
//! "event.title" = { cell = "A1" }      # the value of a cell above the header, read per
//! "event.start_date" = { cell = "B3" } # sheet: an attendance sheet's event
//!
//! [[sheets.observations]]        # firms only: the figures of one period
//! period = "2022"
//! turnover_pkr = "Annual Turnover (PKR)"
//! ```
//!
//! Headers are matched ignoring case, spacing and punctuation. A sheet matched by no
//! entry is left out with a log line; each sheet takes the first entry that matches it.
//! An entry without `[sheets.columns]` maps its columns through the synonyms; with it,
//! exactly the columns listed (the others are not imported), and a listed column the sheet
//! lacks is an error naming the file, sheet and column. Unknown keys, targets and fields,
//! a field fed twice, constants that do not read as their field's kind, sheets and
//! patterns that match no sheet are errors that list what is valid; so is a `{ cell }`
//! constant naming a cell that is empty, not above the header, or (for a date field) not a
//! date, with the cell's place.
//!
//! # Keys
//!
//! Keys are built from the row's values so that a re-import gives the same keys:
//!
//! - **Firms**: `firm.source_key` when mapped; otherwise a cited identifier
//!   (`firm.id.<scheme>`, written `<scheme>:<value>`), else `ntn:<NTN>`, `secp:<SECP
//!   number>`, `unit:<registry unit number>` (values as written, trimmed; never a value
//!   that may be a CNIC, such as a 13-digit "NTN"), else `name:<folded name>|<folded
//!   district>` in firm lists and `name:<folded name>` on attendance sheets and member
//!   lists. Folded: lower case, punctuation and spacing reduced to single spaces. A firm's
//!   contact person and affiliation are `<firm key>/contact`.
//! - **Participants**: person and participation `<event>/<serial>` (the `S#` column, else
//!   the row number); the sheet's own event `event.source_key`, else `<folded title with
//!   dashes>/<start date>`.
//! - **Training events**: `event.source_key`, else `event.code`; courses the course code,
//!   else `course:<folded title>`; providers `provider:<folded name>`.
//! - **Indicator values**: `<code>|<scope>:<cluster, programme, area or firm>|<breakdown>=<value>|<period>|<value type>`,
//!   with `total` for the breakdown part when there is none.
//! - **Networks**: `network.source_key`, else the folded name; **members**
//!   `<network key>/<firm key>`.
//!
//! A key that an earlier row already gave to a record of the same kind (two firms with one
//! survey ID) is a `duplicate_key` row error and the later row is skipped. The importer
//! keeps the keys it emitted (not the rows) for this.
//!
//! # Decisions
//!
//! - **Row errors.** A required field left empty is a `missing_required` row error and the
//!   row gives no record. A value that does not read as its field's kind (`invalid_number`,
//!   `invalid_date`, `unknown_code` for a word outside a vocabulary) is a row error naming
//!   the row, the column and the field, and the record goes on without the value. Messages
//!   name fields and columns, never values.
//! - **Observations.** A firm list row gives an observation per period: the
//!   `observation.*` fields for `observation.period` (a column or a constant; then
//!   `firm.employees_*` stand in for missing `observation.employees_*`), and one per
//!   `[[sheets.observations]]` group. Groups of one period are merged; an observation
//!   without figures is left out. Without any period, `observation.*` columns are not
//!   imported (the log says so).
//! - **Participants.** `completed` comes from `participation.completed` when mapped, else
//!   from the certificate number (issued on completion) when that column is mapped. A
//!   participant's firm is emitted when the row names it; `firm.kind` gives its kind, and
//!   `firm.kind_without_id` the kind of one the row gives no key or identifier for (the
//!   agency staff of the demo's attendance sheets have no Survey ID: `"agency"`).
//! - **Training events.** The title is `event.title`, else the course title. A course is
//!   emitted the first time its key appears, without a provider (the events name theirs).
//! - **Indicator values.** The scope is `value.scope`, else firm when an organisation key
//!   is given, else cluster, programme or area, whichever the row names first. A baseline
//!   repeated on every row of a series (indicator, scope, breakdown) is taken once, from
//!   the first row of the series that has one, for that row's period; set
//!   `baseline_once_per_series = false` to take every row's.
//! - **Networks.** The lead firm is the member whose role is `lead`; a network's
//!   `lead_organisation_key` is not set (its members come after it).
//! - **Streaming.** A CSV file is read row by row. A workbook's sheets are read one at a
//!   time: once when the file is opened, to plan every sheet (so that a wrong sheet or
//!   column fails before any record), and once more when its rows are streamed.
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
mod convert;
mod delimited;
mod encoding;
mod error;
mod header;
mod importer;
mod mapping;
mod number;
mod plan;
mod synonyms;
mod targets;
mod workbook;

use std::io::Read;
use std::path::Path;

pub use cell::{Cell, excel_1904_serial_to_date, excel_serial_to_date, parse_text_date};
pub use delimited::{CsvOptions, CsvSource, DELIMITERS, detect_delimiter};
pub use encoding::{
    DecodingReader, MixedLines, TextEncoding, TextEvidence, detect_encoding, examine_text,
    utf16_without_bom,
};
pub use error::{ReadError, column_letter};
pub use header::{
    HEADER_SEARCH_ROWS, Header, HeaderColumn, WithHeader, detect_header, normalise_header,
};
pub use number::{NumberLocale, parse_number, parse_number_with};
pub use workbook::{SheetSource, Workbook, WorkbookKind};

pub use importer::{IMPORTER_ID, SpreadsheetImporter, suggest_mapping};
pub use mapping::{Mapping, ObservationField, ObservationGroup, Selector, SheetEntry, glob_match};
pub use synonyms::SYNONYMS;
pub use targets::{
    FIRM_ID_PREFIX, FieldKind, FieldSpec, Target, Vocabulary, fold, organisation_kind,
};

#[cfg(doc)]
use hub_plugin_sdk::{
    Affiliation, Cluster, Course, FirmObservation, IndicatorValue, Network, NetworkMember,
    Organisation, Participation, Person, Programme, TrainingEvent,
};

/// One non-empty row of a sheet or CSV file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The 1-based row number as the user's tool shows it (the CSV line number).
    pub number: u64,
    /// The cells from column A on; trailing cells may be missing rather than empty.
    pub cells: Vec<Cell>,
    /// Why the row cannot be read as written, when it cannot: a value over
    /// [`ReadLimits::max_field_bytes`](crate::limits::ReadLimits), text that is not in the
    /// file's encoding. The cell concerned is left empty; a consumer reports the problem
    /// as a row error ([`RowProblem::row_error`]) and takes nothing from the row, and a
    /// header row with a problem is a file error ([`Row::readable`]).
    pub problem: Option<Box<RowProblem>>,
}

impl Row {
    /// A row without a problem.
    #[must_use]
    pub fn new(number: u64, cells: Vec<Cell>) -> Self {
        Self {
            number,
            cells,
            problem: None,
        }
    }

    /// The cell at the 0-based `column`, [`Cell::Empty`] beyond the end of the row.
    #[must_use]
    pub fn cell(&self, column: usize) -> &Cell {
        self.cells.get(column).unwrap_or(&Cell::Empty)
    }

    /// Empties the cells longer than the configured bound
    /// ([`ReadLimits::max_field_bytes`](crate::limits::ReadLimits)), recording the first as
    /// the row's problem. Every reader calls it on each row it reads.
    pub fn bound_cells(&mut self, max_field_bytes: usize) {
        for (column, cell) in self.cells.iter_mut().enumerate() {
            let Cell::Text(text) = cell else { continue };
            if text.len() <= max_field_bytes {
                continue;
            }
            let len = text.len();
            *cell = Cell::Empty;
            if self.problem.is_none() {
                self.problem = Some(Box::new(RowProblem {
                    column: Some(column),
                    code: RowProblem::VALUE_TOO_LONG,
                    message: format!(
                        "The value is {} long, over the limit of {} for one value \
                         (import.max_field_bytes).",
                        human_bytes(len as u64),
                        human_bytes(max_field_bytes as u64)
                    ),
                }));
            }
        }
    }

    /// The row error reporting the row's problem, if it has one, at `file` and `sheet`,
    /// naming the column through `column_name` (its header; [`column_letter`] when none).
    #[must_use]
    pub fn problem_error(
        &self,
        file: &str,
        sheet: Option<&str>,
        column_name: impl FnOnce(usize) -> String,
    ) -> Option<hub_plugin_sdk::RowError> {
        let problem = self.problem.as_deref()?;
        let mut at = hub_plugin_sdk::SourceRef::new(file).with_row(self.number);
        at.sheet = sheet.map(str::to_owned);
        Some(problem.row_error(at, column_name))
    }

    /// The row, or a file error when it has a problem: for the rows a header is read from,
    /// which cannot be skipped like a data row.
    pub fn readable(&self, file: &str, sheet: Option<&str>) -> Result<(), ReadError> {
        match &self.problem {
            None => Ok(()),
            Some(problem) => {
                let error = ReadError::file(
                    file,
                    format!("the header row cannot be read: {}", problem.message),
                )
                .in_sheet(sheet)
                .at_row(self.number);
                Err(match problem.column {
                    Some(column) => error.at_column(column, None),
                    None => error,
                })
            }
        }
    }
}

/// Why a row cannot be read as written; see [`Row::problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The 0-based column concerned, when one is.
    pub column: Option<usize>,
    /// A stable code: [`RowProblem::VALUE_TOO_LONG`], [`RowProblem::ROW_TOO_LONG`] or
    /// [`RowProblem::MIXED_ENCODING`].
    pub code: &'static str,
    /// What is wrong, in sentences for people, without the consequence (a row error adds
    /// that the row is skipped); it never quotes the row's values.
    pub message: String,
}

impl RowProblem {
    /// A value longer than `import.max_field_bytes`.
    pub const VALUE_TOO_LONG: &'static str = "value_too_long";
    /// A row longer than `import.max_line_bytes`, skipped unread.
    pub const ROW_TOO_LONG: &'static str = "row_too_long";
    /// Text in another encoding than the rest of the file.
    pub const MIXED_ENCODING: &'static str = "mixed_encoding";

    /// The row error reporting the problem at `at` (the row's place), naming the column
    /// through `column_name` (its header, or its letter).
    #[must_use]
    pub fn row_error(
        &self,
        at: hub_plugin_sdk::SourceRef,
        column_name: impl FnOnce(usize) -> String,
    ) -> hub_plugin_sdk::RowError {
        let at = match self.column {
            Some(column) => at.with_column(column_name(column)),
            None => at,
        };
        hub_plugin_sdk::RowError::error(
            at,
            self.code,
            format!("{} The row is skipped.", self.message),
        )
    }
}

/// A byte count as people read it: `512 bytes`, `64 KiB`, `4.0 MiB`, `1.5 GiB`.
#[must_use]
pub fn human_bytes(n: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let f = n as f64;
    if n < 1024 {
        format!("{n} bytes")
    } else if n < 1 << 20 {
        if n.is_multiple_of(1024) {
            format!("{} KiB", n / 1024)
        } else {
            format!("{:.1} KiB", f / 1024.0)
        }
    } else if n < 1 << 30 {
        if n.is_multiple_of(1 << 20) {
            format!("{} MiB", n >> 20)
        } else {
            format!("{:.1} MiB", f / f64::from(1u32 << 20))
        }
    } else {
        format!("{:.1} GiB", f / f64::from(1u32 << 30))
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

#[cfg(test)]
mod importer_tests;

#[cfg(test)]
mod demo_tests;

#[cfg(test)]
mod bounds_tests;
