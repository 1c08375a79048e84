//! Opening a registry export (CSV or workbook), planning its sheets, and streaming its rows
//! through an importer's row conversion.

use std::collections::VecDeque;
use std::fmt::Write as _;

use hub_plugin_sdk::{
    Date, ImportError, Input, Item, LogLevel, RecordStream, RowError, Severity, SourceRef, codes,
};

use super::layout::{Layout, Options, Resolution, header_of, missing_message, resolve};
use crate::spreadsheet::{
    Cell, HEADER_SEARCH_ROWS, Header, ReadError, Row, RowSource, SpreadsheetFile, Workbook,
    open_file,
};

/// A sheet (or a CSV file) read as a layout: its header and the column of each field.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The file's name as the user knows it.
    pub file: String,
    /// The sheet, `None` for a CSV file.
    pub sheet: Option<String>,
    /// The header row.
    pub header: Header,
    /// The layout.
    pub layout: &'static Layout,
    columns: Vec<Option<usize>>,
}

impl Plan {
    /// The 0-based column feeding `field`, if the file has one.
    pub fn column(&self, field: &str) -> Option<usize> {
        let position = self.layout.index(field);
        debug_assert!(
            position.is_some(),
            "{field} is no field of {}",
            self.layout.id
        );
        self.columns[position?]
    }

    /// The column's header as written, or its letter when the header cell is empty.
    pub fn column_name(&self, index: usize) -> String {
        match self.header.columns.get(index) {
            Some(c) if !c.original.trim().is_empty() => c.original.trim().to_owned(),
            Some(c) => c.name.clone(),
            None => crate::spreadsheet::column_letter(index),
        }
    }

    /// The file or sheet, for messages: `units.csv` or `the sheet Units of units.xlsx`.
    pub fn place(&self) -> String {
        place(&self.file, self.sheet.as_deref())
    }

    /// A reference to the row `number` of this sheet.
    pub fn row_ref(&self, number: u64) -> SourceRef {
        let mut source_ref = SourceRef::new(self.file.clone()).with_row(number);
        source_ref.sheet.clone_from(&self.sheet);
        source_ref
    }

    /// Record field → column header, for [`Item::Columns`].
    fn record_columns(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (field, column) in self.layout.fields.iter().zip(&self.columns) {
            if let Some(index) = column {
                let name = self.column_name(*index);
                out.extend(
                    field
                        .records
                        .iter()
                        .map(|r| ((*r).to_owned(), name.clone())),
                );
            }
        }
        out
    }

    /// The log line that starts the sheet: header row, columns used and left out. Headers
    /// only, never values.
    fn describe(&self) -> String {
        let used: Vec<usize> = self.columns.iter().flatten().copied().collect();
        let mut line = format!(
            "{}: header in row {}, rows read as {}; columns used: ",
            self.place(),
            self.header.row,
            self.layout.rows
        );
        let pairs: Vec<String> = self
            .layout
            .fields
            .iter()
            .zip(&self.columns)
            .filter_map(|(f, c)| c.map(|c| format!("{} → {}", self.column_name(c), f.name)))
            .collect();
        line.push_str(&pairs.join(", "));
        let left_out: Vec<String> = self
            .header
            .columns
            .iter()
            .filter(|c| !c.original.trim().is_empty() && !used.contains(&c.index))
            .map(|c| self.column_name(c.index))
            .collect();
        if !left_out.is_empty() {
            let _ = write!(line, "; not imported: {}", left_out.join(", "));
        }
        line
    }
}

/// `units.csv`, or `the sheet Units of units.xlsx`.
pub fn place(file: &str, sheet: Option<&str>) -> String {
    match sheet {
        Some(sheet) => format!("the sheet {sheet} of {file}"),
        None => file.to_owned(),
    }
}

// ---- Rows --------------------------------------------------------------------------------

/// The data rows of a sheet: those read while looking for the header, then the rest.
pub struct Rows {
    source: Box<dyn RowSource + Send>,
    buffered: VecDeque<Row>,
    skip_through: u64,
}

impl Rows {
    fn next_row(&mut self) -> Result<Option<Row>, ReadError> {
        if let Some(row) = self.buffered.pop_front() {
            return Ok(Some(row));
        }
        loop {
            match self.source.next_row()? {
                Some(row) if row.number <= self.skip_through => {}
                other => return Ok(other),
            }
        }
    }
}

/// Finds the header of `source` as `layout`: the row the options name, or the first of
/// the first rows whose columns include every required field (so title rows above it are
/// skipped). Without one, the error names the columns missing from the row that comes
/// closest.
fn find_header(
    mut source: Box<dyn RowSource + Send>,
    layout: &'static Layout,
    options: &Options,
) -> Result<(Plan, Rows), ImportError> {
    let file = source.file().to_owned();
    let sheet = source.sheet().map(str::to_owned);
    let what = if sheet.is_some() { "sheet" } else { "file" };
    let at = |row: Option<u64>| {
        let mut source_ref = SourceRef::new(file.clone());
        source_ref.sheet.clone_from(&sheet);
        source_ref.row = row;
        source_ref
    };
    let mut rows: Vec<Row> = Vec::with_capacity(HEADER_SEARCH_ROWS + 1);
    let mut seen_any = false;
    while rows.len() < HEADER_SEARCH_ROWS {
        let Some(row) = source.next_row()? else { break };
        seen_any = true;
        if options.header_row.is_none_or(|wanted| row.number >= wanted) {
            rows.push(row);
            if options.header_row.is_some() {
                break;
            }
        }
    }
    if !seen_any {
        return Err(ImportError::at(at(None), format!("the {what} is empty")));
    }
    if let Some(wanted) = options.header_row
        && rows.first().is_none_or(|r| r.number != wanted)
    {
        return Err(ImportError::at(
            at(Some(wanted)),
            format!("row {wanted}, the header_row of the options, is empty"),
        ));
    }
    let mut best: Option<(usize, Resolution)> = None;
    for (i, row) in rows.iter().enumerate() {
        let resolution = resolve(&header_of(row), layout, &options.columns);
        if resolution.complete(layout) {
            row.readable(&file, sheet.as_deref())?;
            let header = header_of(row);
            let buffered = rows.split_off(i + 1).into();
            let plan = Plan {
                file,
                sheet,
                header,
                layout,
                columns: resolution.columns,
            };
            let rows = Rows {
                source,
                buffered,
                skip_through: plan.header.row,
            };
            return Ok((plan, rows));
        }
        if best
            .as_ref()
            .is_none_or(|(_, b)| resolution.found() > b.found())
        {
            best = Some((i, resolution));
        }
    }
    let Some((i, resolution)) = best else {
        return Err(ImportError::at(at(None), format!("the {what} is empty")));
    };
    let header_row = rows[i].number;
    Err(ImportError::at(
        at(Some(header_row)),
        missing_message(layout, &resolution),
    ))
}

// ---- Opening -----------------------------------------------------------------------------

/// A sheet to read: its plan, and for a CSV file its rows already below the header.
struct Job {
    plan: Plan,
    rows: Option<Rows>,
}

/// A file opened as `layout`: the plans of the sheets to read.
pub struct Opened {
    workbook: Option<Workbook>,
    jobs: Vec<Job>,
    skipped: Vec<String>,
    /// Warnings about the whole file (a CSV file that mixes encodings).
    warnings: Vec<hub_plugin_sdk::RowError>,
}

impl Opened {
    /// Opens the file and finds the header of each sheet to read, so that a file of the
    /// wrong kind fails before any record.
    ///
    /// A CSV file is one sheet. In a workbook, the sheet the options name, or else every
    /// sheet whose header has the layout's required columns (the others are left out with a
    /// log line); a workbook where no sheet has them is an error naming the missing
    /// columns.
    pub fn open(
        input: &Input,
        layout: &'static Layout,
        options: &Options,
    ) -> Result<Self, ImportError> {
        let file = if input.file_name.is_empty() {
            Input::new(&input.path).file_name
        } else {
            input.file_name.clone()
        };
        match open_file(&input.path, &file, options.csv)? {
            SpreadsheetFile::Csv(source) => {
                let warnings = source
                    .encoding_warning()
                    .map(|message| {
                        hub_plugin_sdk::RowError::warning(
                            SourceRef::new(file.clone()),
                            crate::spreadsheet::RowProblem::MIXED_ENCODING,
                            message,
                        )
                    })
                    .into_iter()
                    .collect();
                let (plan, rows) = find_header(Box::new(source), layout, options)?;
                Ok(Self {
                    workbook: None,
                    jobs: vec![Job {
                        plan,
                        rows: Some(rows),
                    }],
                    skipped: Vec::new(),
                    warnings,
                })
            }
            SpreadsheetFile::Workbook(mut workbook) => {
                let names = workbook.sheet_names();
                if let Some(wanted) = &options.sheet {
                    if !names.contains(wanted) {
                        return Err(ImportError::at(
                            SourceRef::new(file.clone()),
                            format!(
                                "{file} has no sheet named \"{wanted}\" (the sheet of the \
                                 options); its sheets are: {}",
                                names.join(", ")
                            ),
                        ));
                    }
                    let source = workbook.sheet(wanted)?;
                    let (plan, _) = find_header(Box::new(source), layout, options)?;
                    return Ok(Self {
                        workbook: Some(workbook),
                        jobs: vec![Job { plan, rows: None }],
                        skipped: Vec::new(),
                        warnings: Vec::new(),
                    });
                }
                let mut jobs = Vec::new();
                let mut failures = Vec::new();
                for name in &names {
                    let found = workbook
                        .sheet(name)
                        .map_err(ImportError::from)
                        .and_then(|source| find_header(Box::new(source), layout, options));
                    match found {
                        Ok((plan, _)) => jobs.push(Job { plan, rows: None }),
                        Err(error) => failures.push((name.clone(), error)),
                    }
                }
                if jobs.is_empty() {
                    return Err(match failures.len() {
                        0 => ImportError::at(SourceRef::new(file), "the workbook has no sheets"),
                        1 => failures.remove(0).1,
                        _ => {
                            let reasons: Vec<String> = failures
                                .iter()
                                .map(|(sheet, e)| format!("sheet {sheet}: {}", e.message))
                                .collect();
                            ImportError::at(
                                SourceRef::new(file),
                                format!("no sheet is a {}: {}", layout.what, reasons.join("; ")),
                            )
                        }
                    });
                }
                let skipped = failures
                    .into_iter()
                    .map(|(sheet, e)| {
                        format!(
                            "{}: not imported: {}",
                            place(&file, Some(&sheet)),
                            e.message
                        )
                    })
                    .collect();
                Ok(Self {
                    workbook: Some(workbook),
                    jobs,
                    skipped,
                    warnings: Vec::new(),
                })
            }
        }
    }
}

// ---- Rows into items ---------------------------------------------------------------------

/// An importer's conversion of rows into items.
pub trait Convert: Send {
    /// Called before the first row of each sheet, after its log line and column
    /// declaration; may add log lines.
    fn start(&mut self, _plan: &Plan, _out: &mut Vec<Item>) {}

    /// The records of one row, read through `reader`. Read every value first; when
    /// `reader.failed()`, return no records (the row's errors are emitted instead, and
    /// the hub would reject the row whole anyway).
    fn row(&mut self, reader: &mut RowReader<'_>) -> Vec<Item>;
}

/// One data row, read field by field; problems are collected as row errors naming the
/// row, the column and the field, never the value.
pub struct RowReader<'a> {
    plan: &'a Plan,
    row: &'a Row,
    problems: Vec<RowError>,
}

impl<'a> RowReader<'a> {
    fn new(plan: &'a Plan, row: &'a Row) -> Self {
        Self {
            plan,
            row,
            problems: Vec::new(),
        }
    }

    /// The reference of the whole row, for records.
    pub fn at(&self) -> SourceRef {
        self.plan.row_ref(self.row.number)
    }

    /// The reference of the field's cell (of the row when no column feeds it).
    pub fn at_field(&self, field: &str) -> SourceRef {
        match self.plan.column(field) {
            Some(index) => self.at().with_column(self.plan.column_name(index)),
            None => self.at(),
        }
    }

    /// The field's cell, when a column feeds it and the cell holds a value.
    pub fn cell(&self, field: &str) -> Option<&'a Cell> {
        let cell = self.row.cell(self.plan.column(field)?);
        (!cell.is_empty()).then_some(cell)
    }

    /// The field's value as text, trimmed, with runs of whitespace collapsed.
    pub fn text(&self, field: &str) -> Option<String> {
        let text = self.cell(field)?.to_text();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    }

    /// The field's value as text; an empty cell is a `missing_required` error.
    pub fn required(&mut self, field: &str) -> Option<String> {
        let text = self.text(field);
        if text.is_none() {
            self.problems
                .push(RowError::missing_required(self.at_field(field), field));
        }
        text
    }

    /// The field's value as a number (thousand separators and currency marks allowed).
    pub fn number(&mut self, field: &str) -> Option<f64> {
        let cell = self.cell(field)?;
        let value = cell.as_number().filter(|n| n.is_finite());
        if value.is_none() {
            self.problems
                .push(RowError::invalid_number(self.at_field(field), field));
        }
        value
    }

    /// The field's value as a whole number of 0 or more.
    pub fn count(&mut self, field: &str) -> Option<u32> {
        let value = self.number(field)?;
        if !(value >= 0.0 && value.fract() == 0.0 && value <= f64::from(u32::MAX)) {
            self.error(
                field,
                codes::INVALID_NUMBER,
                format!("The field {field} must be a whole number of 0 or more."),
            );
            return None;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a whole number within u32 above"
        )]
        Some(value as u32)
    }

    /// The field's value as a date: a date cell, an Excel serial, `dd/mm/yyyy` or
    /// `yyyy-mm-dd` text.
    pub fn date(&mut self, field: &str) -> Option<Date> {
        let cell = self.cell(field)?;
        let value = cell.as_date();
        if value.is_none() {
            self.problems
                .push(RowError::invalid_date(self.at_field(field), field));
        }
        value
    }

    /// Reports an error about the field's cell.
    pub fn error(&mut self, field: &str, code: &str, message: impl Into<String>) {
        let error = RowError::error(self.at_field(field), code, message).with_field(field);
        self.problems.push(error);
    }

    /// Reports a warning about the field's cell: the row is imported.
    pub fn warn(&mut self, field: &str, code: &str, message: impl Into<String>) {
        let warning = RowError::warning(self.at_field(field), code, message).with_field(field);
        self.problems.push(warning);
    }

    /// Whether the row has an error (warnings do not count).
    pub fn failed(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// The items of an opened file, sheet after sheet, row after row.
pub struct RegistryStream<C> {
    workbook: Option<Workbook>,
    jobs: VecDeque<Job>,
    active: Option<(Plan, Rows)>,
    convert: C,
    pending: VecDeque<Item>,
    error: Option<ImportError>,
}

impl<C: Convert> RegistryStream<C> {
    /// The stream of `opened`, converting rows with `convert`.
    pub fn new(opened: Opened, convert: C) -> Self {
        let pending = opened
            .warnings
            .into_iter()
            .map(Item::RowError)
            .chain(
                opened
                    .skipped
                    .into_iter()
                    .map(|line| Item::log(LogLevel::Info, line)),
            )
            .collect();
        Self {
            workbook: opened.workbook,
            jobs: opened.jobs.into(),
            active: None,
            convert,
            pending,
            error: None,
        }
    }

    fn start(&mut self, job: Job) -> Result<(), ImportError> {
        let plan = job.plan;
        let rows = match (job.rows, &mut self.workbook, &plan.sheet) {
            (Some(rows), _, _) => rows,
            (None, Some(workbook), Some(sheet)) => Rows {
                source: Box::new(workbook.sheet(sheet)?),
                buffered: VecDeque::new(),
                skip_through: plan.header.row,
            },
            _ => return Err(ImportError::new("internal error: a sheet without its rows")),
        };
        self.pending
            .push_back(Item::log(LogLevel::Info, plan.describe()));
        self.pending
            .push_back(Item::columns(plan.sheet.clone(), plan.record_columns()));
        let mut notes = Vec::new();
        self.convert.start(&plan, &mut notes);
        self.pending.extend(notes);
        self.active = Some((plan, rows));
        Ok(())
    }

    fn fill(&mut self, max: usize) -> Result<(), ImportError> {
        while self.pending.len() < max {
            let Some((plan, rows)) = &mut self.active else {
                match self.jobs.pop_front() {
                    Some(job) => {
                        self.start(job)?;
                        continue;
                    }
                    None => break,
                }
            };
            match rows.next_row()? {
                Some(row) => {
                    if let Some(error) = row
                        .problem_error(&plan.file, plan.sheet.as_deref(), |c| plan.column_name(c))
                    {
                        self.pending.push_back(Item::RowError(error));
                        continue;
                    }
                    let mut reader = RowReader::new(plan, &row);
                    let records = self.convert.row(&mut reader);
                    if !reader.failed() {
                        self.pending.extend(records);
                    }
                    self.pending
                        .extend(reader.problems.into_iter().map(Item::RowError));
                }
                None => self.active = None,
            }
        }
        Ok(())
    }
}

impl<C: Convert> RecordStream for RegistryStream<C> {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = max.max(1);
        if self.pending.is_empty()
            && let Some(error) = self.error.take()
        {
            return Err(error);
        }
        if self.error.is_none()
            && let Err(error) = self.fill(max)
        {
            self.jobs.clear();
            self.active = None;
            if self.pending.is_empty() {
                return Err(error);
            }
            self.error = Some(error);
        }
        let take = self.pending.len().min(max);
        if take == 0 {
            return Ok(None);
        }
        Ok(Some(self.pending.drain(..take).collect()))
    }
}
