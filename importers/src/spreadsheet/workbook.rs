//! XLSX, XLS and ODS workbooks through calamine.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, Dimensions, Ods, Range, Reader, Xls, Xlsx, open_workbook};
use hub_plugin_sdk::Date;

use super::{Cell, FileKind, ReadError, Row, RowSource, parse_text_date, sniff_file};

/// The workbook formats read through calamine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkbookKind {
    /// Office Open XML (Excel 2007 and later), `.xlsx`.
    Xlsx,
    /// The binary Excel format of Excel 97–2003, `.xls`.
    Xls,
    /// OpenDocument spreadsheet (LibreOffice), `.ods`.
    Ods,
}

impl WorkbookKind {
    /// The format's usual name, such as `XLSX`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Xlsx => "XLSX",
            Self::Xls => "XLS",
            Self::Ods => "ODS",
        }
    }
}

enum Book {
    Xlsx(Xlsx<BufReader<File>>),
    Xls(Xls<BufReader<File>>),
    Ods(Ods<BufReader<File>>),
}

/// An open workbook.
///
/// calamine reads a sheet whole into memory when asked for it (workbooks are compressed
/// XML or binary records that cannot be streamed cell by cell through its API); that is
/// fine for workbooks, which Excel limits to about a million rows and which in practice
/// are far smaller. Large data comes as CSV, which is streamed.
pub struct Workbook {
    file: String,
    kind: WorkbookKind,
    book: Book,
}

impl std::fmt::Debug for Workbook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbook")
            .field("file", &self.file)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Workbook {
    /// Opens the workbook at `path`, known to the user as `file_name`; the format is
    /// told by the file's first bytes (see [`sniff_file`]).
    ///
    /// A password-protected workbook, a damaged one, or a file that is no workbook give
    /// an error naming the file: "… is password-protected", "… is not a valid XLSX file: …".
    pub fn open(path: &Path, file_name: &str) -> Result<Self, ReadError> {
        let kind = match sniff_file(path, file_name)? {
            FileKind::Workbook(kind) => kind,
            FileKind::Text => {
                return Err(ReadError::file(
                    file_name,
                    "the file is text (CSV or TSV), not a workbook",
                ));
            }
        };
        let protected = || {
            ReadError::file(
                file_name,
                "the workbook is password-protected: remove the password in the spreadsheet \
                 tool and import it again",
            )
        };
        let invalid = |error: &dyn std::fmt::Display| {
            ReadError::file(
                file_name,
                format!("the file is not a valid {} file: {error}", kind.name()),
            )
        };
        let book = match kind {
            WorkbookKind::Xlsx => match open_workbook::<Xlsx<_>, _>(path) {
                Ok(book) => Book::Xlsx(book),
                Err(calamine::XlsxError::Password) => return Err(protected()),
                Err(error) => return Err(invalid(&error)),
            },
            WorkbookKind::Xls => match open_workbook::<Xls<_>, _>(path) {
                Ok(book) => Book::Xls(book),
                Err(calamine::XlsError::Password) => return Err(protected()),
                // Office encrypts a protected XLSX into a Compound File, like an XLS.
                Err(error) => match open_workbook::<Xlsx<_>, _>(path) {
                    Err(calamine::XlsxError::Password) => return Err(protected()),
                    _ => return Err(invalid(&error)),
                },
            },
            WorkbookKind::Ods => match open_workbook::<Ods<_>, _>(path) {
                Ok(book) => Book::Ods(book),
                Err(calamine::OdsError::Password) => return Err(protected()),
                Err(error) => return Err(invalid(&error)),
            },
        };
        Ok(Self {
            file: file_name.to_owned(),
            kind,
            book,
        })
    }

    /// The workbook's format.
    #[must_use]
    pub fn kind(&self) -> WorkbookKind {
        self.kind
    }

    /// The names of the sheets, in workbook order.
    #[must_use]
    pub fn sheet_names(&self) -> Vec<String> {
        match &self.book {
            Book::Xlsx(b) => b.sheet_names(),
            Book::Xls(b) => b.sheet_names(),
            Book::Ods(b) => b.sheet_names(),
        }
    }

    /// Reads the named sheet into a [`SheetSource`].
    ///
    /// Merged cells (XLSX and XLS; calamine does not report them for ODS) are filled:
    /// every cell of a merged region gets the value of its top-left cell, so a header
    /// merged over three columns names all three, and a district merged down five rows
    /// applies to all five.
    pub fn sheet(&mut self, name: &str) -> Result<SheetSource, ReadError> {
        let error = |message: String| {
            ReadError::file(&self.file, format!("cannot read the sheet: {message}"))
                .in_sheet(Some(name))
        };
        let (range, merges) = match &mut self.book {
            Book::Xlsx(b) => {
                let range = b.worksheet_range(name).map_err(|e| error(e.to_string()))?;
                let merges = b
                    .merge_cells_by_sheet_name(name)
                    .map_err(|e| error(e.to_string()))?;
                (range, merges)
            }
            Book::Xls(b) => {
                let range = b.worksheet_range(name).map_err(|e| error(e.to_string()))?;
                let merges = b
                    .merge_cells_by_sheet_name(name)
                    .map_err(|e| error(e.to_string()))?;
                (range, merges)
            }
            Book::Ods(b) => (
                b.worksheet_range(name).map_err(|e| error(e.to_string()))?,
                Vec::new(),
            ),
        };
        Ok(SheetSource::new(&self.file, name, &range, &merges))
    }
}

/// One sheet of a workbook, read row by row from memory.
#[derive(Debug, Clone)]
pub struct SheetSource {
    file: String,
    sheet: String,
    rows: std::vec::IntoIter<Row>,
}

impl SheetSource {
    fn new(file: &str, sheet: &str, range: &Range<Data>, merges: &[Dimensions]) -> Self {
        let (start_row, start_col) = range.start().unwrap_or((0, 0));
        let lead = usize::try_from(start_col).unwrap_or(0);
        let mut grid: Vec<(u64, Vec<Cell>)> = range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                let mut row = vec![Cell::Empty; lead];
                row.extend(cells.iter().map(cell_from_data));
                (u64::from(start_row) + i as u64 + 1, row)
            })
            .collect();
        for merge in merges {
            fill_merge(&mut grid, u64::from(start_row), merge);
        }
        let rows: Vec<Row> = grid
            .into_iter()
            .filter_map(|(number, mut cells)| {
                while cells.last().is_some_and(Cell::is_empty) {
                    cells.pop();
                }
                (!cells.is_empty()).then_some(Row { number, cells })
            })
            .collect();
        Self {
            file: file.to_owned(),
            sheet: sheet.to_owned(),
            rows: rows.into_iter(),
        }
    }
}

/// Copies the top-left value of a merged region into its other cells.
fn fill_merge(grid: &mut [(u64, Vec<Cell>)], start_row: u64, merge: &Dimensions) {
    let index = |row: u32| usize::try_from(u64::from(row).checked_sub(start_row)?).ok();
    let (Some(top), Some(bottom)) = (index(merge.start.0), index(merge.end.0)) else {
        return;
    };
    let (left, right) = (merge.start.1 as usize, merge.end.1 as usize);
    let Some(value) = grid.get(top).and_then(|(_, r)| r.get(left)).cloned() else {
        return;
    };
    if value.is_empty() {
        return;
    }
    for (_, row) in grid.iter_mut().take(bottom + 1).skip(top) {
        if row.len() <= right {
            row.resize(right + 1, Cell::Empty);
        }
        for cell in &mut row[left..=right] {
            if cell.is_empty() {
                *cell = value.clone();
            }
        }
    }
}

/// Maps a calamine value to a [`Cell`].
///
/// Dates (cells with a date format in XLSX and XLS, date cells in ODS) become
/// [`Cell::Date`], dropping the time of day; times of day without a date and durations
/// stay numbers (fractions of a day); formula errors such as `#N/A` become their text,
/// so that reading them as a number fails with the cell's place.
fn cell_from_data(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        #[expect(
            clippy::cast_precision_loss,
            reason = "spreadsheet integers fit an f64"
        )]
        Data::Int(n) => Cell::Number(*n as f64),
        Data::Float(n) => Cell::Number(*n),
        Data::String(text) => Cell::text(text),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => {
            if dt.is_datetime() && dt.as_f64() >= 1.0 {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                Date::from_ymd(i32::from(y), u32::from(m), u32::from(d))
                    .map_or(Cell::Number(dt.as_f64()), Cell::Date)
            } else {
                Cell::Number(dt.as_f64())
            }
        }
        Data::DateTimeIso(text) => {
            parse_text_date(text).map_or_else(|| Cell::text(text), Cell::Date)
        }
        Data::DurationIso(text) => Cell::text(text),
        Data::Error(error) => Cell::Text(error.to_string()),
    }
}

impl RowSource for SheetSource {
    fn file(&self) -> &str {
        &self.file
    }

    fn sheet(&self) -> Option<&str> {
        Some(&self.sheet)
    }

    fn next_row(&mut self) -> Result<Option<Row>, ReadError> {
        Ok(self.rows.next())
    }
}
