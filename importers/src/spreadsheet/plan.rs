//! The plan of a sheet: where its header is, what its rows become and which column or
//! constant feeds each field; built from a `[[sheets]]` entry or detected from the header.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hub_plugin_sdk::{ImportError, SourceRef};

use super::header::{HEADER_SEARCH_ROWS, Header, HeaderColumn, detect_header, normalise_header};
use super::mapping::{CellRef, Constant, ObservationField, SheetEntry};
use super::synonyms::{detect_columns, synonyms_of};
use super::targets::{Target, fold};
use super::{ReadError, Row, RowSource, column_letter};

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    /// The cell of this 0-based column.
    Column(usize),
    /// A constant, `{sheet}` and `{file}` substituted.
    Constant(String),
}

/// An extra observation group with its columns found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGroup {
    /// The period as written.
    pub period: String,
    /// Figure → 0-based column.
    pub columns: Vec<(ObservationField, usize)>,
}

/// How one sheet (or a CSV file) is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetPlan {
    /// The file's name as the user knows it.
    pub file: String,
    /// The sheet, `None` for a CSV file.
    pub sheet: Option<String>,
    /// What the rows become.
    pub target: Target,
    /// The header found (or fixed by `header_row`).
    pub header: Header,
    /// Field → where its value comes from.
    pub fields: BTreeMap<String, FieldSource>,
    /// The constants as the mapping writes them (before substitution), for suggestions.
    pub constants: Vec<(String, Constant)>,
    /// The extra observation groups (firm lists).
    pub observations: Vec<PlannedGroup>,
    /// Whether a baseline repeated on every row of a series is taken once.
    pub baseline_once_per_series: bool,
    /// Remarks for the import's log (never values).
    pub notes: Vec<String>,
}

impl SheetPlan {
    /// The sheet for messages: `the sheet Firms of firms.xlsx`, or `firms.csv`.
    #[must_use]
    pub fn place(&self) -> String {
        place(&self.file, self.sheet.as_deref())
    }

    /// The column's header as written, or its letter when the header cell is empty.
    #[must_use]
    pub fn column_name(&self, index: usize) -> String {
        column_label(&self.header, index)
    }

    /// The 0-based columns feeding a field or an observation group.
    #[must_use]
    pub fn mapped_columns(&self) -> BTreeSet<usize> {
        let mut columns: BTreeSet<usize> = self
            .fields
            .values()
            .filter_map(|source| match source {
                FieldSource::Column(index) => Some(*index),
                FieldSource::Constant(_) => None,
            })
            .collect();
        for group in &self.observations {
            columns.extend(group.columns.iter().map(|(_, index)| *index));
        }
        columns
    }

    /// The field a column feeds, if any.
    #[must_use]
    pub fn field_of_column(&self, index: usize) -> Option<&str> {
        self.fields
            .iter()
            .find(|(_, source)| **source == FieldSource::Column(index))
            .map(|(field, _)| field.as_str())
    }

    /// Whether the field has a column or a constant.
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
}

/// `the sheet Firms of firms.xlsx`, or `firms.csv` for a CSV file.
#[must_use]
pub fn place(file: &str, sheet: Option<&str>) -> String {
    match sheet {
        Some(sheet) => format!("the sheet {sheet} of {file}"),
        None => file.to_owned(),
    }
}

/// A column's header as written (parent and sub-header joined), or its letter.
#[must_use]
pub fn column_label(header: &Header, index: usize) -> String {
    header
        .columns
        .get(index)
        .map(|c| c.original.trim())
        .filter(|o| !o.is_empty())
        .map_or_else(|| column_letter(index), str::to_owned)
}

/// The rows of a sheet below its header: the rows read while looking for the header, then
/// the rest of the source, one at a time.
pub struct Rows {
    /// The rows above the header (title rows, an event's dates), at most
    /// [`HEADER_SEARCH_ROWS`] of them: what `{ cell = "B3" }` constants read.
    pub above: Vec<Row>,
    source: Box<dyn RowSource + Send>,
    buffered: VecDeque<Row>,
    /// Rows up to this number (the header) are skipped.
    skip_through: u64,
}

impl Rows {
    /// The rows of `source` below row `skip_through`.
    pub fn below(source: Box<dyn RowSource + Send>, skip_through: u64) -> Self {
        Self {
            above: Vec::new(),
            source,
            buffered: VecDeque::new(),
            skip_through,
        }
    }

    /// The next data row, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<Row>, ReadError> {
        loop {
            let row = match self.buffered.pop_front() {
                Some(row) => Some(row),
                None => self.source.next_row()?,
            };
            match row {
                Some(row) if row.number <= self.skip_through => {}
                other => return Ok(other),
            }
        }
    }
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("file", &self.source.file())
            .field("sheet", &self.source.sheet())
            .finish_non_exhaustive()
    }
}

/// Finds the header of `source`: detected among the first [`HEADER_SEARCH_ROWS`] rows
/// (below title rows, merged parent headers included), or at `header_row` when the
/// mapping fixes it. Returns the header and the rows below it.
pub fn find_header(
    mut source: Box<dyn RowSource + Send>,
    header_row: Option<u64>,
) -> Result<(Header, Rows), ReadError> {
    let file = source.file().to_owned();
    let sheet = source.sheet().map(str::to_owned);
    let error = |message: String| ReadError::file(&file, message).in_sheet(sheet.as_deref());
    let what = if sheet.is_some() { "sheet" } else { "file" };
    let mut rows: Vec<Row> = Vec::with_capacity(HEADER_SEARCH_ROWS + 2);
    let mut above: Vec<Row> = Vec::new();
    let mut seen_any = false;
    match header_row {
        Some(wanted) => {
            // Keep the header row and the two rows after it (a sub-header, a data row).
            while rows.len() < 3 {
                let Some(row) = source.next_row()? else { break };
                seen_any = true;
                if row.number >= wanted {
                    rows.push(row);
                } else if above.len() < HEADER_SEARCH_ROWS {
                    above.push(row);
                }
            }
        }
        None => {
            while rows.len() < HEADER_SEARCH_ROWS + 2 {
                let Some(row) = source.next_row()? else { break };
                rows.push(row);
            }
            seen_any = !rows.is_empty();
        }
    }
    if !seen_any {
        return Err(error(format!("the {what} is empty")));
    }
    let header = match header_row {
        Some(wanted) => {
            if rows.first().is_none_or(|r| r.number != wanted) {
                return Err(error(format!(
                    "the {what} has no header row: row {wanted}, the header_row of the mapping, \
                     is empty"
                )));
            }
            match detect_header(&rows) {
                Some(found) if found.row == wanted => found,
                _ => single_row_header(&rows[0]),
            }
        }
        None => match detect_header(&rows) {
            Some(header) => Some(header),
            None => {
                // A row that could not be read is the likelier cause.
                for row in &rows {
                    row.readable(&file, sheet.as_deref())?;
                }
                None
            }
        }
        .ok_or_else(|| {
            error(format!(
                "the {what} has no header row: none of its first {HEADER_SEARCH_ROWS} rows has \
                 at least two column names above a row of data (set header_row in a mapping \
                 to name it)"
            ))
        })?,
    };
    let last = header.last_row;
    for row in rows.iter().filter(|r| r.number <= last) {
        row.readable(&file, sheet.as_deref())?;
    }
    let first = header.row;
    let (before, rest): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|r| r.number < first);
    above.extend(before);
    let buffered = rest.into_iter().filter(|r| r.number > last).collect();
    Ok((
        header,
        Rows {
            above,
            source,
            buffered,
            skip_through: last,
        },
    ))
}

/// A header made of one row as it is.
fn single_row_header(row: &Row) -> Header {
    let columns = row
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            let original = cell.to_text();
            let name = normalise_header(&original);
            HeaderColumn {
                index,
                name: if name.is_empty() {
                    column_letter(index)
                } else {
                    name
                },
                original,
            }
        })
        .collect();
    Header {
        row: row.number,
        last_row: row.number,
        columns,
    }
}

/// The column of `header` a mapping's header text names: compared folded (case, spacing
/// and punctuation ignored), or by letter for a column without a header.
fn find_column(header: &Header, text: &str) -> Option<usize> {
    let wanted = fold(text);
    if wanted.is_empty() {
        return None;
    }
    header
        .columns
        .iter()
        .find(|c| fold(&c.name) == wanted || fold(&c.original) == wanted)
        .map(|c| c.index)
}

/// The header's column names, for messages.
fn header_names(header: &Header) -> String {
    header
        .columns
        .iter()
        .filter(|c| !c.original.trim().is_empty())
        .map(|c| c.original.trim().replace('\n', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces `{sheet}` and `{file}` in a constant. A CSV file's `{sheet}` is its name
/// without the extension.
fn substitute(text: &str, file: &str, sheet: Option<&str>) -> String {
    let stem = std::path::Path::new(file)
        .file_stem()
        .map_or_else(|| file.to_owned(), |s| s.to_string_lossy().into_owned());
    text.replace("{sheet}", sheet.unwrap_or(&stem))
        .replace("{file}", file)
}

/// The context a plan is built in.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The file's name.
    pub file: &'a str,
    /// The sheet, `None` for CSV.
    pub sheet: Option<&'a str>,
    /// The rows above the header, which `{ cell = "B3" }` constants read.
    pub above: &'a [Row],
}

impl Context<'_> {
    /// The text of a cell above the header, `None` when it is empty or not above it.
    #[must_use]
    pub fn cell_text(&self, cell: CellRef) -> Option<String> {
        let row = self.above.iter().find(|r| r.number == cell.row)?;
        let text = row.cell(cell.column).to_text();
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// Where a constant's value comes from, `None` for a cell with nothing in it.
    fn source_of(&self, constant: &Constant) -> Option<FieldSource> {
        match constant {
            Constant::Text(text) => Some(FieldSource::Constant(substitute(
                text, self.file, self.sheet,
            ))),
            Constant::Cell(cell) => self.cell_text(*cell).map(FieldSource::Constant),
        }
    }
}

/// The constant an attendance sheet of a workbook takes for its event when it has no event
/// column: the sheet's name (workbooks keep one sheet per event, named by its code).
pub const SHEET_EVENT: (&str, &str) = ("event.source_key", "{sheet}");

/// The event of an attendance sheet kept above its header, as cell constants: a date beside
/// a `From` (`Start`, `Date From`) label is `event.start_date`, one beside `To` (`End`,
/// `Date To`) `event.end_date`, one beside `Date` both when there is no `From`; text beside
/// `Venue` is `event.venue`; the first title row's text (a merged title, filled across its
/// span) is `event.title`, and the second's, without a `Venue` label, `event.venue`. Nothing when no date is found: a sheet without its event above
/// the header keeps naming it by the sheet.
fn event_cells(ctx: Context<'_>) -> Vec<(String, Constant)> {
    // A date cell, or text that reads as a date; not a bare number, which a cell constant
    // would read back as text ("45363").
    let is_date = |row: &Row, column: usize| match row.cell(column) {
        super::Cell::Date(_) => true,
        super::Cell::Text(text) => super::parse_text_date(text.trim()).is_some(),
        _ => false,
    };
    // The next non-empty cell to the right of a label.
    let beside =
        |row: &Row, column: usize| (column + 1..row.cells.len()).find(|c| !row.cell(*c).is_empty());
    let mut out: Vec<(String, Constant)> = Vec::new();
    let mut labels: Vec<(u64, usize)> = Vec::new();
    let mut single_date = None;
    for row in ctx.above {
        for (column, cell) in row.cells.iter().enumerate() {
            let label = fold(&cell.to_text());
            let field = match label.as_str() {
                "from" | "start" | "start date" | "date from" | "starts" | "from date" => {
                    "event.start_date"
                }
                "to" | "end" | "end date" | "date to" | "ends" | "to date" | "till" | "until" => {
                    "event.end_date"
                }
                "date" | "dated" | "event date" | "training date" => "date",
                "venue" | "place" | "location" => "event.venue",
                _ => continue,
            };
            let Some(value) = beside(row, column) else {
                continue;
            };
            let cell = CellRef {
                row: row.number,
                column: value,
            };
            labels.push((row.number, column));
            match field {
                "event.venue" if !is_date(row, value) => {
                    out.push((field.to_owned(), Constant::Cell(cell)));
                }
                "date" if is_date(row, value) => {
                    single_date.get_or_insert(cell);
                }
                "event.venue" | "date" => {}
                _ if is_date(row, value) && !out.iter().any(|(f, _)| f == field) => {
                    out.push((field.to_owned(), Constant::Cell(cell)));
                }
                _ => {}
            }
        }
    }
    if !out.iter().any(|(f, _)| f == "event.start_date")
        && let Some(cell) = single_date
    {
        out.push(("event.start_date".to_owned(), Constant::Cell(cell)));
        out.push(("event.end_date".to_owned(), Constant::Cell(cell)));
    }
    if !out.iter().any(|(f, _)| f == "event.start_date") {
        return Vec::new();
    }
    // The title rows: the first text of each row above the header that holds no label
    // used above. The first is the title; the second, without a `Venue` label, the venue.
    let mut titles = ctx.above.iter().filter_map(|row| {
        let column = row.cells.iter().position(|c| !c.is_empty())?;
        let text = row.cell(column).to_text();
        (!labels.iter().any(|(r, _)| *r == row.number)
            && !text.trim().is_empty()
            && !is_date(row, column))
        .then_some(CellRef {
            row: row.number,
            column,
        })
    });
    if let Some(cell) = titles.next() {
        out.insert(0, ("event.title".to_owned(), Constant::Cell(cell)));
        if !out.iter().any(|(f, _)| f == "event.venue")
            && let Some(cell) = titles.next()
        {
            out.push(("event.venue".to_owned(), Constant::Cell(cell)));
        }
    }
    out
}

/// A plan for `target` from the synonyms alone, or `None` when the header lacks a field
/// the target needs.
#[must_use]
pub fn detected_plan(target: Target, header: &Header, ctx: Context<'_>) -> Option<SheetPlan> {
    let plan = synonym_plan(target, header, ctx, &[], &[], true);
    missing_required(&plan).is_none().then_some(plan)
}

/// The plan of `target` from the synonyms, with `constants` overriding columns.
fn synonym_plan(
    target: Target,
    header: &Header,
    ctx: Context<'_>,
    constants: &[(String, Constant)],
    observations: &[PlannedGroup],
    baseline_once_per_series: bool,
) -> SheetPlan {
    let mut fields: BTreeMap<String, FieldSource> = detect_columns(target, header)
        .into_iter()
        .map(|(index, field)| (field.to_owned(), FieldSource::Column(index)))
        .collect();
    let mut written = constants.to_vec();
    if target == Target::Participants && !fields.contains_key(SHEET_EVENT.0) {
        // An attendance sheet with its event above the header: the title and dates in
        // cells of the title rows.
        if constants.is_empty() && !fields.contains_key("event.title") {
            written.extend(event_cells(ctx));
        }
        let titled =
            fields.contains_key("event.title") || written.iter().any(|(f, _)| f == "event.title");
        if ctx.sheet.is_some() && !titled && !written.iter().any(|(f, _)| f == SHEET_EVENT.0) {
            written.push((
                SHEET_EVENT.0.to_owned(),
                Constant::Text(SHEET_EVENT.1.to_owned()),
            ));
        }
    }
    for (field, value) in &written {
        if let Some(source) = ctx.source_of(value) {
            fields.insert(field.clone(), source);
        }
    }
    finish(
        SheetPlan {
            file: ctx.file.to_owned(),
            sheet: ctx.sheet.map(str::to_owned),
            target,
            header: header.clone(),
            fields,
            constants: written,
            observations: observations.to_vec(),
            baseline_once_per_series,
            notes: Vec::new(),
        },
        observations.is_empty(),
    )
}

/// Adds the notes every plan gets.
fn finish(mut plan: SheetPlan, no_groups: bool) -> SheetPlan {
    if plan.target == Target::Firms && no_groups && !plan.has("observation.period") {
        let figures: Vec<&str> = plan
            .fields
            .keys()
            .filter(|f| f.starts_with("observation.") && *f != "observation.period")
            .map(String::as_str)
            .collect();
        if !figures.is_empty() {
            plan.notes.push(format!(
                "{}: {} have no period (no observation.period column or constant and no \
                 [[sheets.observations]]), so no observations are imported from them",
                plan.place(),
                figures.join(", ")
            ));
        }
    }
    plan
}

/// The first set of alternatives of the target's requirements that the plan does not
/// meet.
fn missing_required(plan: &SheetPlan) -> Option<&'static [&'static str]> {
    plan.target
        .required()
        .iter()
        .find(|alternatives| !alternatives.iter().any(|f| plan.has(f)))
        .copied()
}

/// What a required field is, for messages.
fn describe(field: &str) -> &str {
    match field {
        "firm.name" => "the firm's name",
        "person.name" => "the participant's name",
        "person.cnic" => "the participant's CNIC",
        "event.source_key" | "event.code" => "the event code",
        "event.title" => "the event's title",
        "course.title" => "the course title",
        "indicator.code" => "the indicator code",
        "value.baseline" | "value.target" | "value.actual" | "value.value" => "a value",
        "network.name" | "network.source_key" => "the network",
        "network.kind" => "the network's type",
        other => other,
    }
}

/// Builds the plan of a sheet from its `[[sheets]]` entry, checking that every column the
/// entry names exists and that the target gets what it needs.
pub fn plan_from_entry(
    entry: &SheetEntry,
    header: &Header,
    ctx: Context<'_>,
) -> Result<SheetPlan, ImportError> {
    let where_ = place(ctx.file, ctx.sheet);
    let header_ref = || {
        let mut r = SourceRef::new(ctx.file).with_row(header.row);
        r.sheet = ctx.sheet.map(str::to_owned);
        r
    };
    for (field, constant) in &entry.constants {
        let Constant::Cell(cell) = constant else {
            continue;
        };
        let at = {
            let mut r = SourceRef::new(ctx.file)
                .with_row(cell.row)
                .with_column(cell.to_string());
            r.sheet = ctx.sheet.map(str::to_owned);
            r
        };
        if cell.row >= header.row {
            return Err(ImportError::at(
                at,
                format!(
                    "the cell {cell} the mapping names for {field} is not above the header \
                     of {where_} (row {}): cells below it are rows of data",
                    header.row
                ),
            ));
        }
        let Some(text) = ctx.cell_text(*cell) else {
            return Err(ImportError::at(
                at,
                format!("the cell {cell} the mapping names for {field} is empty in {where_}"),
            ));
        };
        if entry.target.field(field) == Some(super::targets::FieldKind::Date)
            && super::parse_text_date(&text).is_none()
        {
            return Err(ImportError::at(
                at,
                format!(
                    "the cell {cell} the mapping names for {field} is not a date (a date \
                     cell, dd/mm/yyyy or yyyy-mm-dd)"
                ),
            ));
        }
    }
    let no_column = |text: &str, what: String| {
        ImportError::at(
            header_ref(),
            format!(
                "{where_} has no column \"{text}\" ({what}); its header (row {}) reads: {}",
                header.row,
                header_names(header)
            ),
        )
    };
    let mut observations = Vec::with_capacity(entry.observations.len());
    for group in &entry.observations {
        let mut columns = Vec::with_capacity(group.columns.len());
        for (field, text) in &group.columns {
            let index = find_column(header, text).ok_or_else(|| {
                no_column(
                    text,
                    format!(
                        "mapped to {} for the period {}",
                        field.field(),
                        group.period
                    ),
                )
            })?;
            columns.push((*field, index));
        }
        observations.push(PlannedGroup {
            period: group.period.clone(),
            columns,
        });
    }
    let plan = match &entry.columns {
        None => synonym_plan(
            entry.target,
            header,
            ctx,
            &entry.constants,
            &observations,
            entry.baseline_once_per_series,
        ),
        Some(columns) => {
            let mut fields = BTreeMap::new();
            for (text, field) in columns {
                let Some(field) = field else { continue };
                let index = find_column(header, text)
                    .ok_or_else(|| no_column(text, format!("mapped to {field}")))?;
                fields.insert(field.clone(), FieldSource::Column(index));
            }
            for (field, value) in &entry.constants {
                if let Some(source) = ctx.source_of(value) {
                    fields.insert(field.clone(), source);
                }
            }
            finish(
                SheetPlan {
                    file: ctx.file.to_owned(),
                    sheet: ctx.sheet.map(str::to_owned),
                    target: entry.target,
                    header: header.clone(),
                    fields,
                    constants: entry.constants.clone(),
                    observations,
                    baseline_once_per_series: entry.baseline_once_per_series,
                    notes: Vec::new(),
                },
                entry.observations.is_empty(),
            )
        }
    };
    if let Some(alternatives) = missing_required(&plan) {
        let names = alternatives.join(" or ");
        let message = if entry.columns.is_some() {
            format!(
                "the mapping of {where_} gives no column or constant for {names}, which the \
                 target {} needs",
                entry.target
            )
        } else {
            let expected: Vec<&str> = alternatives
                .iter()
                .flat_map(|f| synonyms_of(f).iter().copied())
                .collect();
            format!(
                "{where_} has no column for {} ({names}): expected one of {}",
                describe(alternatives[0]),
                expected.join(", ")
            )
        };
        return Err(ImportError::at(header_ref(), message));
    }
    if plan.has("value.value") != plan.has("value.value_type") {
        return Err(ImportError::at(
            header_ref(),
            format!("the mapping of {where_} must give value.value and value.value_type together"),
        ));
    }
    if plan.has("value.period") && plan.has("value.year") {
        return Err(ImportError::at(
            header_ref(),
            format!("the mapping of {where_} gives both value.period and value.year: keep one"),
        ));
    }
    Ok(plan)
}

/// Detects what a sheet is from its header: the target whose required fields the
/// synonyms find, with the most columns mapped (ties go to the earlier target of
/// [`Target::ALL`]).
#[must_use]
pub fn detect(header: &Header, ctx: Context<'_>) -> Option<SheetPlan> {
    // A sheet (or a CSV file) named after a programme-definition target is that target.
    let stem = std::path::Path::new(ctx.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    if let Some(target) = ctx
        .sheet
        .map(str::to_owned)
        .or(stem)
        .and_then(|n| Target::named_by(&n))
    {
        return detected_plan(target, header, ctx);
    }
    let mut best: Option<(usize, SheetPlan)> = None;
    for target in Target::ALL
        .into_iter()
        .filter(|t| !Target::DEFINITIONS.contains(t))
    {
        if let Some(plan) = detected_plan(target, header, ctx) {
            let score = plan.mapped_columns().len();
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, plan));
            }
        }
    }
    best.map(|(_, plan)| plan)
}

/// Which targets a header almost fits, for the message about a sheet that fits none.
#[must_use]
pub fn near_misses(header: &Header, ctx: Context<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let stem = std::path::Path::new(ctx.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    let named = ctx
        .sheet
        .map(str::to_owned)
        .or(stem)
        .and_then(|n| Target::named_by(&n));
    for target in Target::ALL
        .into_iter()
        .filter(|t| named.map_or(!Target::DEFINITIONS.contains(t), |n| n == *t))
    {
        let plan = synonym_plan(target, header, ctx, &[], &[], true);
        if plan.mapped_columns().len() >= 2
            && let Some(alternatives) = missing_required(&plan)
        {
            out.push(format!(
                "as {} it lacks a column for {} (expected one of {})",
                target.describe(),
                describe(alternatives[0]),
                alternatives
                    .iter()
                    .flat_map(|f| synonyms_of(f).iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out
}
