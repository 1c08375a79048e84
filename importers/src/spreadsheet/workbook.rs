//! XLSX, XLS and ODS workbooks through calamine.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use calamine::{Data, Dimensions, Ods, Range, Reader, Xls, Xlsx, open_workbook};
use hub_plugin_sdk::Date;

use super::{Cell, FileKind, ReadError, Row, RowSource, human_bytes, parse_text_date, sniff_file};
use crate::limits::{self, ReadLimits};

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
/// A sheet is read whole into memory when asked for (its rows are then passed on one by
/// one); large data comes as CSV, which is streamed. Reading is bounded before anything is
/// expanded ([`ReadLimits`], configured by the hub), because a small workbook can expand
/// enormously:
///
/// - XLSX and ODS are ZIP archives: opening one first unpacks every part into nothing,
///   counting, and refuses a workbook that unpacks to more than `max_expanded_bytes`
///   (a 2 MB file of 600 MB of cells) before calamine reads it.
/// - An XLSX sheet is read cell by cell (calamine's cell reader), keeping only the cells
///   that hold a value, sparse, with their cost counted against `max_expanded_bytes` and
///   their rows against `max_rows_per_sheet`; two cells at opposite corners cost two cells,
///   not a grid of 17 billion.
/// - ODS repeats rows and columns by attribute (`number-rows-repeated`), and calamine
///   builds every sheet's grid when it opens the file: the grids are measured from the
///   unpacked `content.xml` first, streaming, and a workbook whose grids would exceed the
///   bound is refused.
/// - XLS (Excel 97-2003) is not compressed; calamine builds its grids when it opens the
///   file, bounded by the format's own 65,536 rows by 256 columns. Its sheets are checked
///   against the bounds after opening.
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
        let limits = limits::current();
        if matches!(kind, WorkbookKind::Xlsx | WorkbookKind::Ods) {
            check_unpacked_size(path, file_name, &limits)?;
        }
        if kind == WorkbookKind::Ods {
            check_ods_grids(path, file_name, &limits)?;
        }
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
        let limits = limits::current();
        let mut budget = Budget::new(&self.file, name, &limits);
        let (grid, merges) = match &mut self.book {
            Book::Xlsx(b) => {
                let grid = xlsx_grid(b, &mut budget).map_err(|e| match e {
                    Failure::Bound(e) => e,
                    Failure::Read(e) => error(e),
                })?;
                let merges = b
                    .merge_cells_by_sheet_name(name)
                    .map_err(|e| error(e.to_string()))?;
                (grid, merges)
            }
            Book::Xls(b) => {
                let range = b.worksheet_range(name).map_err(|e| error(e.to_string()))?;
                let merges = b
                    .merge_cells_by_sheet_name(name)
                    .map_err(|e| error(e.to_string()))?;
                (grid_of_range(&range, &mut budget)?, merges)
            }
            Book::Ods(b) => {
                let range = b.worksheet_range(name).map_err(|e| error(e.to_string()))?;
                (grid_of_range(&range, &mut budget)?, Vec::new())
            }
        };
        SheetSource::new(&self.file, name, grid, &merges, &mut budget)
    }
}

/// Why reading a sheet stopped: a bound, or calamine's error.
enum Failure {
    Bound(ReadError),
    Read(String),
}

/// The memory a sheet may take while it is read, counted cell by cell.
struct Budget {
    file: String,
    sheet: String,
    left: u64,
    limits: ReadLimits,
}

impl Budget {
    fn new(file: &str, sheet: &str, limits: &ReadLimits) -> Self {
        Self {
            file: file.to_owned(),
            sheet: sheet.to_owned(),
            left: limits.max_expanded_bytes,
            limits: *limits,
        }
    }

    /// Counts `cells` more cells holding `text` bytes of text in all.
    fn charge(&mut self, cells: u64, text: u64) -> Result<(), ReadError> {
        let cost = cells * size_of::<Cell>() as u64 + text;
        match self.left.checked_sub(cost) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(ReadError::file(
                &self.file,
                format!(
                    "the sheet expands to more than {} in memory (import.max_expanded_bytes): \
                     split it, save it as CSV, or raise the limit",
                    human_bytes(self.limits.max_expanded_bytes)
                ),
            )
            .in_sheet(Some(&self.sheet))),
        }
    }

    /// Checks the 1-based `row` against `max_rows_per_sheet`.
    fn row(&self, row: u64) -> Result<(), ReadError> {
        if row <= self.limits.max_rows_per_sheet {
            return Ok(());
        }
        Err(ReadError::file(
            &self.file,
            format!(
                "the sheet has more than {} rows (import.max_rows_per_sheet): split it, or \
                 raise the limit",
                self.limits.max_rows_per_sheet
            ),
        )
        .in_sheet(Some(&self.sheet))
        .at_row(row))
    }
}

/// The rows of an XLSX sheet that hold a value, read cell by cell and bounded as they
/// are read: `(1-based row, cells from column A)`.
fn xlsx_grid(
    book: &mut Xlsx<BufReader<File>>,
    budget: &mut Budget,
) -> Result<BTreeMap<u64, Vec<Cell>>, Failure> {
    let mut reader = book
        .worksheet_cells_reader(&budget.sheet.clone())
        .map_err(|e| Failure::Read(e.to_string()))?;
    let mut grid: BTreeMap<u64, Vec<Cell>> = BTreeMap::new();
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| Failure::Read(e.to_string()))?
    {
        let (row, column) = cell.get_position();
        let value = cell_from_data(&Data::from(cell.get_value().clone()));
        if value.is_empty() {
            continue;
        }
        let row = u64::from(row) + 1;
        budget.row(row).map_err(Failure::Bound)?;
        let cells = grid.entry(row).or_default();
        let column = column as usize;
        if cells.len() <= column {
            budget
                .charge((column + 1 - cells.len()) as u64, 0)
                .map_err(Failure::Bound)?;
            cells.resize(column + 1, Cell::Empty);
        }
        budget
            .charge(0, value.text_len() as u64)
            .map_err(Failure::Bound)?;
        cells[column] = value;
    }
    Ok(grid)
}

/// The rows of a sheet calamine read whole (XLS, ODS), checked against the bounds first.
fn grid_of_range(
    range: &Range<Data>,
    budget: &mut Budget,
) -> Result<BTreeMap<u64, Vec<Cell>>, ReadError> {
    let Some((start_row, start_col)) = range.start() else {
        return Ok(BTreeMap::new());
    };
    let (height, width) = range.get_size();
    budget.row(u64::from(start_row) + height as u64)?;
    let lead = usize::try_from(start_col).unwrap_or(0);
    budget.charge((height as u64) * (lead + width) as u64, 0)?;
    let mut grid = BTreeMap::new();
    for (i, cells) in range.rows().enumerate() {
        let mut row = vec![Cell::Empty; lead];
        row.extend(cells.iter().map(cell_from_data));
        let text: usize = row.iter().map(Cell::text_len).sum();
        budget.charge(0, text as u64)?;
        grid.insert(u64::from(start_row) + i as u64 + 1, row);
    }
    Ok(grid)
}

/// Unpacks every part of a ZIP-based workbook (XLSX, ODS) into nothing, counting, and
/// refuses one that unpacks to more than `max_expanded_bytes`. The sizes the archive
/// declares are not trusted. An archive that cannot be read is left to calamine, whose
/// error names the problem.
fn check_unpacked_size(path: &Path, file_name: &str, limits: &ReadLimits) -> Result<(), ReadError> {
    let Ok(file) = File::open(path) else {
        return Ok(());
    };
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let limit = limits.max_expanded_bytes;
    let mut total = 0u64;
    for index in 0..zip.len() {
        let Ok(mut part) = zip.by_index(index) else {
            return Ok(());
        };
        let name = part.name().unwrap_or_default().into_owned();
        let Ok(n) = std::io::copy(
            &mut (&mut part).take(limit - total + 1),
            &mut std::io::sink(),
        ) else {
            return Ok(());
        };
        total += n;
        if total > limit {
            return Err(ReadError::file(
                file_name,
                format!(
                    "the workbook unpacks to more than {} (import.max_expanded_bytes; its part \
                     {name} alone to {} or more): split it, save it as CSV, or raise the limit",
                    human_bytes(limit),
                    human_bytes(n)
                ),
            ));
        }
    }
    Ok(())
}

/// Measures the grids calamine would build for an ODS workbook, from its `content.xml`,
/// streaming: per table, the rows up to the last one holding a value (repeats counted)
/// times the widest such row (repeats counted), at calamine's cost per cell (a value and a
/// formula). Refuses the workbook when they exceed `max_expanded_bytes` or a table has more
/// than `max_rows_per_sheet` rows holding values.
fn check_ods_grids(path: &Path, file_name: &str, limits: &ReadLimits) -> Result<(), ReadError> {
    use quick_xml::events::{BytesStart, Event};

    /// A value and a formula per cell, as calamine keeps them.
    const CELL_COST: u64 = (size_of::<Data>() + size_of::<String>()) as u64;

    fn repeat(e: &BytesStart<'_>, name: &str) -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| a.value.trim().parse().ok())
            .unwrap_or(1)
    }
    fn has_value(e: &BytesStart<'_>) -> bool {
        e.attributes()
            .flatten()
            .any(|a| a.key.as_ref() == "office:value-type")
    }

    let Ok(file) = File::open(path) else {
        return Ok(());
    };
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let Ok(content) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let refuse = |what: String| {
        ReadError::file(
            file_name,
            format!("{what}: split it, save it as CSV, or raise the limit"),
        )
    };
    let (mut total, mut rows, mut used_rows, mut width) = (0u64, 0u64, 0u64, 0u64);
    let (mut row_repeat, mut column, mut row_width) = (1u64, 0u64, 0u64);
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(e) | Event::Empty(e) if matches!(e.name().into_inner(), "table:table") => {
                total += used_rows.saturating_mul(width);
                (rows, used_rows, width) = (0, 0, 0);
            }
            Event::Start(e) if e.name().into_inner() == "table:table-row" => {
                row_repeat = repeat(&e, "table:number-rows-repeated");
                (column, row_width) = (0, 0);
            }
            Event::Empty(e) if e.name().into_inner() == "table:table-row" => {
                rows = rows.saturating_add(repeat(&e, "table:number-rows-repeated"));
            }
            Event::End(e) if e.name().into_inner() == "table:table-row" => {
                rows = rows.saturating_add(row_repeat);
                if row_width > 0 {
                    used_rows = rows;
                    width = width.max(row_width);
                    if used_rows > limits.max_rows_per_sheet {
                        return Err(refuse(format!(
                            "a sheet of the workbook has more than {} rows \
                             (import.max_rows_per_sheet)",
                            limits.max_rows_per_sheet
                        )));
                    }
                }
            }
            Event::Start(e) | Event::Empty(e)
                if matches!(
                    e.name().into_inner(),
                    "table:table-cell" | "table:covered-table-cell"
                ) =>
            {
                column = column.saturating_add(repeat(&e, "table:number-columns-repeated"));
                if has_value(&e) {
                    row_width = column;
                }
            }
            _ => {}
        }
        let grid = total.saturating_add(used_rows.saturating_mul(width));
        if grid.saturating_mul(CELL_COST) > limits.max_expanded_bytes {
            return Err(refuse(format!(
                "the workbook's sheets expand to more than {} in memory \
                 (import.max_expanded_bytes)",
                human_bytes(limits.max_expanded_bytes)
            )));
        }
        buf.clear();
    }
    Ok(())
}

/// One sheet of a workbook, read row by row from memory.
#[derive(Debug, Clone)]
pub struct SheetSource {
    file: String,
    sheet: String,
    rows: std::vec::IntoIter<Row>,
}

impl SheetSource {
    fn new(
        file: &str,
        sheet: &str,
        mut grid: BTreeMap<u64, Vec<Cell>>,
        merges: &[Dimensions],
        budget: &mut Budget,
    ) -> Result<Self, ReadError> {
        for merge in merges {
            fill_merge(&mut grid, merge, budget)?;
        }
        let max_field_bytes = budget.limits.max_field_bytes;
        let rows: Vec<Row> = grid
            .into_iter()
            .filter_map(|(number, mut cells)| {
                while cells.last().is_some_and(Cell::is_empty) {
                    cells.pop();
                }
                let mut row = Row::new(number, cells);
                row.bound_cells(max_field_bytes);
                (!row.cells.is_empty()).then_some(row)
            })
            .collect();
        Ok(Self {
            file: file.to_owned(),
            sheet: sheet.to_owned(),
            rows: rows.into_iter(),
        })
    }
}

/// Copies the top-left value of a merged region into its other cells, the rows of the
/// region that hold nothing else included; the cells it adds are counted.
fn fill_merge(
    grid: &mut BTreeMap<u64, Vec<Cell>>,
    merge: &Dimensions,
    budget: &mut Budget,
) -> Result<(), ReadError> {
    let (top, bottom) = (u64::from(merge.start.0) + 1, u64::from(merge.end.0) + 1);
    let (left, right) = (merge.start.1 as usize, merge.end.1 as usize);
    let Some(value) = grid.get(&top).and_then(|r| r.get(left)).cloned() else {
        return Ok(());
    };
    if value.is_empty() || bottom < top || right < left {
        return Ok(());
    }
    for number in top..=bottom {
        budget.row(number)?;
        let row = grid.entry(number).or_default();
        if row.len() <= right {
            budget.charge((right + 1 - row.len()) as u64, 0)?;
            row.resize(right + 1, Cell::Empty);
        }
        for cell in &mut row[left..=right] {
            if cell.is_empty() {
                budget.charge(0, value.text_len() as u64)?;
                *cell = value.clone();
            }
        }
    }
    Ok(())
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
