//! The spreadsheet importer: the [`Importer`] on top of the reading layer.

use std::collections::VecDeque;
use std::fmt::Write as _;

use hub_plugin_sdk::serde_json::{self, Value, json};
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, RecordKind,
    RecordStream,
};

use super::convert::Converter;
use super::delimited::{CsvOptions, detect_delimiter};
use super::header::Header;
use super::mapping::{Mapping, SheetEntry};
use super::plan::{Context, Rows, SheetPlan, detect, find_header, near_misses, plan_from_entry};
use super::targets::Target;
use super::{RowSource, SpreadsheetFile, Workbook, open_file};

/// The id of the spreadsheet importer, as `hub import --importer` names it.
pub const IMPORTER_ID: &str = "spreadsheet";

/// The record kinds the importer emits.
const EMITS: [RecordKind; 13] = [
    RecordKind::Organisation,
    RecordKind::Person,
    RecordKind::Affiliation,
    RecordKind::FirmObservation,
    RecordKind::Network,
    RecordKind::NetworkMember,
    RecordKind::Course,
    RecordKind::TrainingEvent,
    RecordKind::Participation,
    RecordKind::IndicatorValue,
    RecordKind::ClusterMembership,
    RecordKind::Programme,
    RecordKind::Cluster,
];

/// Imports CSV, TSV, XLSX, XLS and ODS files: firm lists and surveys, attendance sheets,
/// training events, results frameworks, networks and their members.
///
/// Its options are a mapping file converted to JSON, or `Null` to detect every sheet's
/// target and columns through the header synonyms (see the [module
/// documentation](super#the-spreadsheet-importer)).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpreadsheetImporter;

impl SpreadsheetImporter {
    /// The importer.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl Importer for SpreadsheetImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            IMPORTER_ID,
            "Spreadsheet (CSV, TSV, XLSX, XLS, ODS)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods"])
        .with_mime_types([
            "text/csv",
            "text/tab-separated-values",
            "text/plain",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-excel.sheet.macroEnabled.12",
            "application/vnd.ms-excel",
            "application/vnd.oasis.opendocument.spreadsheet",
        ])
        .with_emits(EMITS)
        .with_options_schema(options_schema())
    }

    fn sniff(&self, head: &[u8], file_name: &str) -> Confidence {
        sniff(head, file_name, &self.manifest())
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let mapping = Mapping::from_options(options)?;
        let opened = Opened::open(&input, mapping.as_ref())?;
        Ok(Box::new(SheetStream::new(opened)))
    }
}

/// Suggests a mapping file for `input`: the sheets, header rows, targets and columns that
/// reading it without a mapping would use, as editable TOML with comments (the header row
/// detected, the columns left out as commented-out lines `# "Some Column" = ""`, the sheets
/// left out and why). [`Importer::open`] accepts it back unchanged (once the hub has read
/// the TOML) and then gives the same records as without a mapping.
///
/// A file that reading without a mapping refuses (not a spreadsheet, no sheet the
/// synonyms recognise) gives the same [`ImportError`].
pub fn suggest_mapping(input: &Input) -> Result<String, ImportError> {
    let opened = Opened::open(input, None)?;
    Ok(write_suggestion(&opened))
}

// ---- Sniffing -------------------------------------------------------------------------

/// 40 for a ZIP (XLSX, ODS) or Compound File (XLS) signature, 30 for text whose first
/// lines split alike on one delimiter, 20 for a spreadsheet extension alone, else 0.
fn sniff(head: &[u8], file_name: &str, manifest: &ImporterManifest) -> Confidence {
    if head.starts_with(b"PK\x03\x04")
        || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
    {
        return Confidence::new(40);
    }
    if delimited_text(head) {
        return Confidence::new(30);
    }
    if manifest.inputs.matches_file_name(file_name) {
        return Confidence::new(20);
    }
    Confidence::NONE
}

/// Whether `head` decodes as text whose first complete lines have the same number (two or
/// more) of fields on one delimiter.
fn delimited_text(head: &[u8]) -> bool {
    let encoding = match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, _)) => encoding,
        None => match super::utf16_without_bom(head) {
            Some(encoding) => encoding.encoding(),
            None if utf8_cut(head).is_some() => encoding_rs::UTF_8,
            None => encoding_rs::WINDOWS_1252,
        },
    };
    let (text, _, _) = encoding.decode(head);
    if text
        .chars()
        .any(|c| c == '\0' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')))
    {
        return false;
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') || trimmed.starts_with('{') {
        return false;
    }
    // Only complete lines: the head may end inside one.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => &text[..],
    };
    let delimiter = detect_delimiter(complete);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(complete.as_bytes());
    let mut counts: Vec<usize> = Vec::new();
    for record in reader.records().take(10) {
        let Ok(record) = record else { return false };
        if record.len() > 1 {
            counts.push(record.len());
        }
    }
    let Some(&last) = counts.last() else {
        return false;
    };
    counts.len() == 1 && complete.lines().filter(|l| !l.trim().is_empty()).count() == 1
        || counts.iter().filter(|c| **c == last).count() >= 2
}

/// For a head cut inside a UTF-8 character: the valid part, if the rest is a cut.
fn utf8_cut(head: &[u8]) -> Option<&str> {
    match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

// ---- Opening: the plans of the sheets ---------------------------------------------------

/// A sheet to read: its plan, and for a CSV file the rows already positioned below the
/// header.
struct Job {
    plan: SheetPlan,
    rows: Option<Rows>,
}

/// A file opened for import: the plans of its sheets, in file order.
struct Opened {
    file: String,
    /// The CSV reading parameters detected or given, for suggestions.
    csv: Option<(String, u8)>,
    workbook: Option<Workbook>,
    jobs: Vec<Job>,
    /// Sheets left out, with the reason.
    skipped: Vec<(String, String)>,
    /// Warnings about the whole file (a CSV file that mixes encodings).
    warnings: Vec<hub_plugin_sdk::RowError>,
}

impl Opened {
    /// Opens the file and plans each sheet, checking everything that can be checked
    /// before the rows are read: the sheets and columns the mapping names, what each
    /// target needs.
    fn open(input: &Input, mapping: Option<&Mapping>) -> Result<Self, ImportError> {
        let file = if input.file_name.is_empty() {
            Input::new(&input.path).file_name
        } else {
            input.file_name.clone()
        };
        let csv = mapping.map_or_else(CsvOptions::default, |m| m.csv);
        match open_file(&input.path, &file, csv)? {
            SpreadsheetFile::Csv(source) => {
                let parameters = (source.encoding().name().to_owned(), source.delimiter());
                let warnings = source
                    .encoding_warning()
                    .map(|message| {
                        hub_plugin_sdk::RowError::warning(
                            hub_plugin_sdk::SourceRef::new(file.clone()),
                            super::RowProblem::MIXED_ENCODING,
                            message,
                        )
                    })
                    .into_iter()
                    .collect();
                let entry = mapping.map(|m| {
                    m.sheets
                        .iter()
                        .find(|e| e.selector == super::mapping::Selector::First)
                        .unwrap_or(&m.sheets[0])
                });
                let (header, rows) =
                    find_header(Box::new(source), entry.and_then(|e| e.header_row))?;
                let ctx = Context {
                    file: &file,
                    sheet: None,
                    above: &rows.above,
                };
                let plan = match entry {
                    Some(entry) => plan_from_entry(entry, &header, ctx)?,
                    None => detect(&header, ctx).ok_or_else(|| unrecognised(&header, ctx))?,
                };
                Ok(Self {
                    file,
                    csv: Some(parameters),
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
                if let Some(mapping) = mapping {
                    check_sheets_exist(&file, &names, mapping)?;
                }
                let mut jobs = Vec::new();
                let mut skipped = Vec::new();
                for (index, name) in names.iter().enumerate() {
                    let entry = match mapping {
                        Some(m) => {
                            match m.sheets.iter().find(|e| e.selector.matches(name, index)) {
                                Some(entry) => Some(entry),
                                None => {
                                    skipped.push((
                                        name.clone(),
                                        "no [[sheets]] entry of the mapping names it".to_owned(),
                                    ));
                                    continue;
                                }
                            }
                        }
                        None => None,
                    };
                    match plan_sheet(&mut workbook, &file, name, entry)? {
                        Ok(plan) => jobs.push(Job { plan, rows: None }),
                        Err(reason) => skipped.push((name.clone(), reason)),
                    }
                }
                // A programme definition's sheets first, agencies before programmes before
                // clusters, whatever their order in the workbook: the other sheets name
                // its clusters (see `Target::DEFINITIONS`). The rest keep the file's order.
                jobs.sort_by_key(|job| job.plan.target.reading_order());
                if jobs.is_empty() {
                    let reasons: Vec<String> = skipped
                        .iter()
                        .map(|(sheet, reason)| format!("{sheet}: {reason}"))
                        .collect();
                    let message = if names.is_empty() {
                        "the workbook has no sheets".to_owned()
                    } else if mapping.is_some() {
                        format!(
                            "none of the sheets the mapping names can be read ({})",
                            reasons.join("; ")
                        )
                    } else {
                        format!(
                            "no sheet has a header the importer recognises; write a mapping \
                             file naming the target and columns of the sheets to import ({})",
                            reasons.join("; ")
                        )
                    };
                    return Err(ImportError::at(
                        hub_plugin_sdk::SourceRef::new(file),
                        message,
                    ));
                }
                Ok(Self {
                    file,
                    csv: None,
                    workbook: Some(workbook),
                    jobs,
                    skipped,
                    warnings: Vec::new(),
                })
            }
        }
    }
}

/// Every sheet a mapping names exists and every pattern matches a sheet.
fn check_sheets_exist(file: &str, names: &[String], mapping: &Mapping) -> Result<(), ImportError> {
    for entry in &mapping.sheets {
        if !names
            .iter()
            .enumerate()
            .any(|(i, name)| entry.selector.matches(name, i))
        {
            let what = match &entry.selector {
                super::mapping::Selector::Name(name) => format!("no sheet named \"{name}\""),
                super::mapping::Selector::Pattern(pattern) => {
                    format!("no sheet whose name matches \"{pattern}\"")
                }
                super::mapping::Selector::First => "no sheets".to_owned(),
            };
            return Err(ImportError::at(
                hub_plugin_sdk::SourceRef::new(file),
                format!(
                    "{file} has {what} ([[sheets]] number {} of the mapping); its sheets are: {}",
                    entry.number,
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Plans one sheet of a workbook: `Ok(Err(reason))` when it is left out (no mapping and
/// nothing recognisable, or a sheet matched by a pattern or taken as the first sheet that
/// cannot be read or holds no table). A sheet the mapping names by name must be readable.
fn plan_sheet(
    workbook: &mut Workbook,
    file: &str,
    name: &str,
    entry: Option<&SheetEntry>,
) -> Result<Result<SheetPlan, String>, ImportError> {
    let named = matches!(
        entry,
        Some(SheetEntry {
            selector: super::mapping::Selector::Name(_),
            ..
        })
    );
    let source = match workbook.sheet(name) {
        Ok(source) => source,
        Err(error) if named => return Err(error.into()),
        Err(error) => return Ok(Err(error.message().to_owned())),
    };
    let (header, rows) = match find_header(Box::new(source), entry.and_then(|e| e.header_row)) {
        Ok(found) => found,
        Err(error) if named => return Err(error.into()),
        Err(error) => return Ok(Err(error.message().to_owned())),
    };
    let ctx = Context {
        file,
        sheet: Some(name),
        above: &rows.above,
    };
    Ok(match entry {
        Some(entry) => Ok(plan_from_entry(entry, &header, ctx)?),
        None => detect(&header, ctx).ok_or_else(|| unrecognised(&header, ctx).message),
    })
}

/// The error for a header no target recognises.
fn unrecognised(header: &Header, ctx: Context<'_>) -> ImportError {
    let near = near_misses(header, ctx);
    let what = super::plan::place(ctx.file, ctx.sheet);
    let mut message = format!(
        "the header of {what} (row {}) matches none of the kinds of sheet the importer \
         reads without a mapping ({})",
        header.row,
        Target::ALL.map(Target::name).join(", ")
    );
    if !near.is_empty() {
        let _ = write!(message, ": {}", near.join("; "));
    }
    let mut source_ref = hub_plugin_sdk::SourceRef::new(ctx.file).with_row(header.row);
    source_ref.sheet = ctx.sheet.map(str::to_owned);
    ImportError::at(source_ref, message)
}

// ---- The stream -------------------------------------------------------------------------

/// The items of an opened file, sheet after sheet, row after row.
struct SheetStream {
    workbook: Option<Workbook>,
    jobs: VecDeque<Job>,
    active: Option<(SheetPlan, Rows)>,
    converter: Converter,
    pending: VecDeque<Item>,
    error: Option<ImportError>,
}

impl SheetStream {
    fn new(opened: Opened) -> Self {
        let mut pending = VecDeque::new();
        for (sheet, reason) in &opened.skipped {
            pending.push_back(Item::log(
                LogLevel::Info,
                format!(
                    "{}: the sheet {sheet} is not imported: {reason}",
                    opened.file
                ),
            ));
        }
        pending.extend(opened.warnings.into_iter().map(Item::RowError));
        Self {
            workbook: opened.workbook,
            jobs: opened.jobs.into(),
            active: None,
            converter: Converter::new(),
            pending,
            error: None,
        }
    }

    /// Starts the next sheet: its rows below the header, and its log lines.
    fn start(&mut self, job: Job) -> Result<(), ImportError> {
        let plan = job.plan;
        let rows = match (job.rows, &mut self.workbook, &plan.sheet) {
            (Some(rows), _, _) => rows,
            (None, Some(workbook), Some(sheet)) => {
                let source: Box<dyn RowSource + Send> = Box::new(workbook.sheet(sheet)?);
                Rows::below(source, plan.header.last_row)
            }
            _ => return Err(ImportError::new("internal error: a sheet without its rows")),
        };
        self.pending
            .push_back(Item::log(LogLevel::Info, describe_plan(&plan)));
        self.pending
            .push_back(Item::columns(plan.sheet.clone(), record_columns(&plan)));
        for note in &plan.notes {
            self.pending
                .push_back(Item::log(LogLevel::Warn, note.clone()));
        }
        self.active = Some((plan, rows));
        Ok(())
    }

    /// Reads until `max` items are pending or the file ends.
    fn fill(&mut self, max: usize) -> Result<(), ImportError> {
        while self.pending.len() < max {
            if let Some((plan, rows)) = &mut self.active {
                match rows.next_row().map_err(ImportError::from)? {
                    Some(row) => {
                        let items = self.converter.row(plan, &row);
                        self.pending.extend(items);
                    }
                    None => self.active = None,
                }
            } else if let Some(job) = self.jobs.pop_front() {
                self.start(job)?;
            } else {
                break;
            }
        }
        Ok(())
    }
}

impl RecordStream for SheetStream {
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

/// The log line that starts a sheet: header row, target, columns used and left out.
/// Headers only, never values.
/// Where the fields of the sheet's records come from, as the hub names them
/// (`organisation.identifiers.PK-NTN`, `firm_observation.period`): so that problems the hub
/// finds (a malformed NTN, an unknown district) name the column too.
fn record_columns(plan: &SheetPlan) -> Vec<(String, String)> {
    use super::plan::FieldSource;
    let mut out = Vec::new();
    for (field, source) in &plan.fields {
        let FieldSource::Column(index) = source else {
            continue;
        };
        let column = plan.column_name(*index);
        for path in record_paths(field) {
            out.push((path, column.clone()));
        }
    }
    for group in &plan.observations {
        for (figure, index) in &group.columns {
            out.push((
                format!("firm_observation.{}", figure.key()),
                plan.column_name(*index),
            ));
        }
    }
    out
}

/// The record fields an importer field feeds.
fn record_paths(field: &str) -> Vec<String> {
    let identifier = |scheme: &str| vec![format!("organisation.identifiers.{scheme}")];
    if let Some(scheme) = field.strip_prefix(super::targets::FIRM_ID_PREFIX) {
        return identifier(scheme);
    }
    match field {
        "firm.ntn" => return identifier("PK-NTN"),
        "firm.secp" => return identifier("PK-SEC"),
        "firm.strn" => return identifier("PK-STRN"),
        "firm.registry_unit" => return identifier("psic-punjab-unit"),
        "firm.chamber_membership" => return identifier("chamber-membership"),
        "firm.cluster" => {
            return vec![
                "organisation.clusters".into(),
                "cluster_membership.cluster".into(),
            ];
        }
        "firm.source_key" => {
            return vec![
                "organisation.source_key".into(),
                "firm_observation.organisation_key".into(),
                "participation.organisation_key".into(),
                "network_member.organisation_key".into(),
            ];
        }
        "event.source_key" | "event.code" => {
            return vec![
                "training_event.source_key".into(),
                "participation.event_key".into(),
            ];
        }
        "network.source_key" | "network.name" => {
            return vec!["network.name".into(), "network_member.network_key".into()];
        }
        "indicator.code" => return vec!["indicator_value.indicator".into()],
        "value.year" => return vec!["indicator_value.period".into()],
        "value.baseline" | "value.target" | "value.actual" => {
            return vec!["indicator_value.value".into()];
        }
        "agency.name" => return vec!["organisation.name".into()],
        "agency.kind" => return vec!["organisation.kind".into()],
        "agency.iati" => return identifier("IATI-ORG"),
        "agency.website" | "agency.district" | "agency.address" => {
            return vec![format!("organisation.{}", &field["agency.".len()..])];
        }
        "programme.lead" => return vec!["programme.lead_organisation_key".into()],
        "programme.technical_assistance" => {
            return vec!["programme.technical_assistance_organisation_key".into()];
        }
        "programme.funder" => return vec!["programme.funder_organisation_key".into()],
        _ => {}
    }
    let Some((prefix, rest)) = field.split_once('.') else {
        return Vec::new();
    };
    let rest = if rest == "name" && matches!(prefix, "person" | "contact") {
        "full_name"
    } else {
        rest
    };
    let kind = match prefix {
        "firm" => "organisation",
        "observation" => "firm_observation",
        "contact" | "person" => "person",
        "event" => "training_event",
        "course" => "course",
        "participation" => "participation",
        "value" => "indicator_value",
        "network" => "network",
        "member" => "network_member",
        "membership" => "cluster_membership",
        "programme" => "programme",
        "cluster" => "cluster",
        _ => return Vec::new(),
    };
    vec![format!("{kind}.{rest}")]
}

fn describe_plan(plan: &SheetPlan) -> String {
    let mapped = plan.mapped_columns();
    let named: Vec<usize> = plan
        .header
        .columns
        .iter()
        .filter(|c| !c.original.trim().is_empty())
        .map(|c| c.index)
        .collect();
    let left_out: Vec<String> = named
        .iter()
        .filter(|i| !mapped.contains(i))
        .map(|i| plan.column_name(*i))
        .collect();
    let mut line = format!(
        "{}: header in row {}, rows read as {} ({}), {} of {} columns used",
        plan.place(),
        plan.header.row,
        plan.target,
        plan.target.describe(),
        mapped.len(),
        named.len().max(mapped.len())
    );
    if !left_out.is_empty() {
        let _ = write!(line, "; not imported: {}", left_out.join(", "));
    }
    line
}

// ---- Suggestions ------------------------------------------------------------------------

/// A TOML string, escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The suggested mapping of an opened file.
fn write_suggestion(opened: &Opened) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Mapping for {} suggested by the spreadsheet importer {}.",
        opened.file.replace('\n', " "),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "# Check every line. On the right of each column is the field it feeds; \"\" leaves\n\
         # the column out. Constants give a field the same value on every row ({sheet} and\n\
         # {file} are replaced by the sheet's and the file's names).\n\n\
         # The source the import writes under, e.g. \"cdi-survey-2023\" (read by the hub).\n\
         # source = \"\"\n",
    );
    if let Some((encoding, delimiter)) = &opened.csv {
        let delimiter = char::from(*delimiter).to_string();
        let _ = write!(
            out,
            "\n# Detected; uncomment to fix them.\n# [csv]\n# encoding = {}\n# delimiter = {}\n",
            toml_string(&encoding.to_lowercase()),
            toml_string(&delimiter)
        );
    }
    for job in &opened.jobs {
        write_sheet(&mut out, &job.plan);
    }
    for (sheet, reason) in &opened.skipped {
        let _ = write!(
            out,
            "\n# The sheet {} is not imported: {}.\n",
            toml_string(sheet),
            reason.replace('\n', " ")
        );
    }
    out
}

fn write_sheet(out: &mut String, plan: &SheetPlan) {
    out.push_str("\n[[sheets]]\n");
    if let Some(sheet) = &plan.sheet {
        let _ = writeln!(out, "sheet = {}", toml_string(sheet));
    }
    let _ = writeln!(out, "target = {}", toml_string(plan.target.name()));
    if plan.header.last_row == plan.header.row {
        let _ = writeln!(
            out,
            "# header_row = {}  # detected; uncomment to fix it",
            plan.header.row
        );
    } else {
        let _ = writeln!(
            out,
            "# header_row = {}  # detected, with the sub-header of its merged cells in row {}",
            plan.header.row, plan.header.last_row
        );
    }
    out.push_str("\n[sheets.columns]\n");
    for column in &plan.header.columns {
        let original = column.original.trim();
        if original.is_empty() {
            continue;
        }
        match plan.field_of_column(column.index) {
            Some(field) => {
                let _ = writeln!(out, "{} = {}", toml_string(original), toml_string(field));
            }
            None => {
                let _ = writeln!(out, "# {} = \"\"", toml_string(original));
            }
        }
    }
    if !plan.constants.is_empty() {
        out.push_str("\n[sheets.constants]\n");
        for (field, value) in &plan.constants {
            let value = match value {
                super::mapping::Constant::Text(text) => toml_string(text),
                super::mapping::Constant::Cell(cell) => {
                    format!("{{ cell = \"{cell}\" }}  # read from the cell above the header")
                }
            };
            let _ = writeln!(out, "{} = {value}", toml_string(field));
        }
    }
}

// ---- The options schema -----------------------------------------------------------------

/// A JSON Schema of the mapping, as the hub receives it (TOML converted to JSON).
fn options_schema() -> Value {
    let mut targets: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    targets.extend(["firm_observations", "attendance"]);
    let fields: serde_json::Map<String, Value> = Target::ALL
        .iter()
        .map(|t| (t.name().to_owned(), json!(t.field_names())))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Spreadsheet mapping",
        "description": "Which sheets to read, as what target, and which column or constant feeds each field. Without options every sheet is detected through the header synonyms.",
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": {
            "source": {"description": "Read by the hub: the source the import writes under."},
            "importer": {"description": "Read by the hub: the importer the mapping is for."},
            "csv": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "encoding": {"type": "string", "examples": ["utf-8", "utf-16le", "utf-16be", "windows-1252"]},
                    "delimiter": {"type": "string", "examples": [",", ";", "\t", "|"]}
                }
            },
            "sheets": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["target"],
                    "properties": {
                        "sheet": {"type": "string", "description": "The sheet's name."},
                        "pattern": {"type": "string", "description": "A glob of sheet names (* and ?)."},
                        "header_row": {"type": "integer", "minimum": 1},
                        "target": {"type": "string", "examples": targets, "description": "One of the examples, in any case, with - or _; also firm_observations (firms) and attendance (participants)."},
                        "columns": {
                            "type": "object",
                            "description": "Header as written -> field; \"\" leaves the column out. Without it the synonyms map the columns.",
                            "additionalProperties": {"type": "string"}
                        },
                        "constants": {
                            "type": "object",
                            "description": "Field -> value for every row; {sheet} and {file} are substituted. { cell = \"B3\" } takes the value of a cell above the header.",
                            "additionalProperties": {
                                "anyOf": [
                                    {"type": ["string", "number", "boolean"]},
                                    {
                                        "type": "object",
                                        "required": ["cell"],
                                        "additionalProperties": false,
                                        "properties": {"cell": {"type": "string", "pattern": "^[A-Za-z]{1,3}[0-9]+$"}}
                                    }
                                ]
                            }
                        },
                        "observations": {
                            "type": "array",
                            "description": "Firms only: extra observation groups, each a period and the columns of its figures.",
                            "items": {
                                "type": "object",
                                "required": ["period"],
                                "additionalProperties": false,
                                "properties": {
                                    "period": {"type": ["string", "number"]},
                                    "employees_total": {"type": "string"},
                                    "employees_female": {"type": "string"},
                                    "turnover_pkr": {"type": "string"},
                                    "exports_usd": {"type": "string"},
                                    "certifications": {"type": "string"}
                                }
                            }
                        },
                        "baseline_once_per_series": {"type": "boolean", "default": true}
                    }
                }
            }
        },
        "x-fields": fields
    })
}
