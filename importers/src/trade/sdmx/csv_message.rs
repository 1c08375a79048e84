//! SDMX-CSV data messages, versions 1.0 and 2.x (importer `sdmx-csv`).
//!
//! One observation per line. SDMX-CSV 1.0 starts with a `DATAFLOW` column holding
//! `AGENCY:ID(VERSION)`; 2.x with `STRUCTURE` (`dataflow`, `datastructure` or
//! `dataprovision`), `STRUCTURE_ID`, an optional `STRUCTURE_NAME`, `ACTION`, and optional
//! `SERIES_KEY` and `OBS_KEY` columns. Then come the dimensions, the measure `OBS_VALUE`
//! and the attributes:
//!
//! ```text
//! STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REPORTER,PARTNER,PRODUCT,FLOW,TIME_PERIOD,OBS_VALUE,UNIT_MULT,CURRENCY,CLASSIFICATION
//! dataflow,UNSD:DF_TRADE(1.0),I,A,PAK,USA,9018,X,2022,312.5,6,USD,H5
//! dataflow,UNSD:DF_TRADE(1.0),I,M,PAK,WLD,6403,X,2023-M03,14.2,6,USD,H5
//! ```
//!
//! - **Delimiter** from the header line: the character after the first column's term
//!   (`STRUCTURE[;]` declares a sub-field separator in brackets, skipped). With `;` a
//!   decimal comma is read too (`12,5`).
//! - **Labels.** `labels=id` (codes), `labels=both` (header and cells `ID: Name`: the ID is
//!   taken) and `labels=name` (announced by the `STRUCTURE_NAME` column: each component
//!   column is followed by a column of names, which is skipped). Header words in any case.
//! - **Columns**: the columns before `OBS_VALUE` are dimensions (further dimensions become
//!   the flow's breakdown), those after it attributes (only `UNIT_MULT`, `CURRENCY`,
//!   `UNIT_MEASURE`, `OBS_STATUS` and `CLASSIFICATION` are read; custom columns such as
//!   `UPDATED` are not).
//! - **Rows** are streamed one by one through the spreadsheet reading layer (encoding
//!   detected). `ACTION` `D` (delete) rows are skipped with a log line: the hub keeps a
//!   source's flows until they are imported again. An `OBS_VALUE` that is empty or `NaN`
//!   skips the observation; one that is not a number is a row error `invalid_number` in
//!   the column `OBS_VALUE`.
//!
//! What becomes of the columns is the business of [`super::layout`], shared with SDMX-JSON.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _};

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, RecordKind,
    RecordStream, SourceRef,
};

use super::layout::{
    Component, ComponentKind, Converter, Layout, Role, SdmxOptions, code_of, parse_obs_value,
};
use crate::spreadsheet::{
    CsvOptions, CsvSource, DecodingReader, Row, RowSource, TextEncoding, detect_encoding,
};

/// The id of the SDMX-CSV importer.
pub const IMPORTER_ID: &str = "sdmx-csv";

/// Reads SDMX-CSV 1.0 and 2.x data messages of trade statistics (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct SdmxCsvImporter;

impl Importer for SdmxCsvImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            IMPORTER_ID,
            "SDMX-CSV trade statistics (1.0 and 2.x)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(["csv"])
        .with_mime_types(["application/vnd.sdmx.data+csv", "text/csv"])
        .with_emits([RecordKind::TradeFlow])
        .with_options_schema(super::options_schema())
    }

    /// 95 for a first line whose first column is `DATAFLOW`, or `STRUCTURE` followed by
    /// `STRUCTURE_ID`; else 0.
    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        let text = decode_head(head);
        let Some(line) = text.lines().find(|l| !l.trim().is_empty()) else {
            return Confidence::NONE;
        };
        match header_delimiter(line) {
            Some((version, delimiter)) => {
                let fields: Vec<String> = split_line(line, delimiter);
                let ok = match version {
                    Version::V1 => fields.len() >= 3,
                    Version::V2 => fields
                        .get(1)
                        .is_some_and(|f| header_id(f) == "STRUCTURE_ID"),
                };
                if ok {
                    Confidence::new(95)
                } else {
                    Confidence::NONE
                }
            }
            None => Confidence::NONE,
        }
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = SdmxOptions::from_value(options)?;
        let encoding = detect_encoding(File::open(&input.path)?)?;
        let line = first_line(&input, encoding)?;
        let Some((version, delimiter)) = header_delimiter(&line) else {
            return Err(ImportError::at(
                SourceRef::row(input.file_name.clone(), 1),
                "this is not an SDMX-CSV message: its first column must be DATAFLOW \
                 (SDMX-CSV 1.0) or STRUCTURE (SDMX-CSV 2.x)",
            ));
        };
        let mut source = CsvSource::open(
            &input.path,
            &input.file_name,
            CsvOptions {
                // Examined again by the reader, which rejects the lines of a file that
                // mixes encodings.
                encoding: None,
                delimiter: Some(delimiter),
            },
        )?;
        let header = source
            .next_row()?
            .ok_or_else(|| ImportError::new(format!("{}: the file is empty", input.file_name)))?;
        header.readable(&input.file_name, None)?;
        let plan = Plan::read(&header, version, &options, &input.file_name)?;
        let layout = Layout::resolve(plan.components.clone(), &options)?;
        let mut pending = VecDeque::new();
        pending.push_back(Item::log(
            LogLevel::Info,
            format!(
                "SDMX-CSV {}, labels {}, delimiter {:?}: {} columns read as components",
                version.name(),
                plan.labels,
                char::from(delimiter),
                plan.components.len()
            ),
        ));
        pending.push_back(Item::columns(None, layout.columns()));
        Ok(Box::new(CsvStream {
            file: input.file_name,
            source,
            decimal_comma: delimiter == b';',
            converter: Converter::new(layout, options, false),
            plan,
            pending,
            deletions_logged: false,
            done: false,
        }))
    }
}

/// The SDMX-CSV version, told by the first column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// `DATAFLOW` first.
    V1,
    /// `STRUCTURE` first.
    V2,
}

impl Version {
    fn name(self) -> &'static str {
        match self {
            Self::V1 => "1.0",
            Self::V2 => "2.x",
        }
    }
}

/// The first bytes of a file as text, for sniffing: UTF-8 or UTF-16 with a byte-order
/// mark, else UTF-8 with replacement characters.
fn decode_head(head: &[u8]) -> String {
    match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, bom)) => encoding.decode_without_bom_handling(&head[bom..]).0,
        None => match crate::spreadsheet::utf16_without_bom(head) {
            Some(encoding) => encoding.encoding().decode_without_bom_handling(head).0,
            None => String::from_utf8_lossy(head),
        },
    }
    .into_owned()
}

/// The first non-blank line of the file, decoded.
fn first_line(input: &Input, encoding: TextEncoding) -> Result<String, ImportError> {
    let decoded = DecodingReader::new(File::open(&input.path)?, encoding);
    let mut reader = BufReader::new(decoded.take(1 << 20));
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(ImportError::new(format!(
                "{}: the file is empty",
                input.file_name
            )));
        }
        let text = String::from_utf8_lossy(&line);
        if !text.trim().is_empty() {
            return Ok(text.into_owned());
        }
    }
}

/// The version and delimiter an SDMX-CSV header line declares: the first column is
/// `DATAFLOW` or `STRUCTURE` (in any case, maybe quoted, maybe with a `[;]` sub-field
/// separator or a `: Name` label), and the delimiter is the first `,`, `;`, tab or `|`
/// after it outside brackets and quotes.
fn header_delimiter(line: &str) -> Option<(Version, u8)> {
    let line = line.trim_start_matches('\u{feff}').trim_start();
    let unquoted = line.strip_prefix('"').unwrap_or(line);
    let upper: String = unquoted
        .chars()
        .take(9)
        .collect::<String>()
        .to_ascii_uppercase();
    let version = if upper.starts_with("STRUCTURE") {
        Version::V2
    } else if upper.starts_with("DATAFLOW") {
        Version::V1
    } else {
        return None;
    };
    let mut in_brackets = false;
    let mut in_quotes = line.starts_with('"');
    for (i, c) in line.char_indices() {
        if i == 0 && in_quotes {
            continue;
        }
        match c {
            '"' => in_quotes = !in_quotes,
            '[' if !in_quotes => in_brackets = true,
            ']' if !in_quotes => in_brackets = false,
            ',' | ';' | '\t' | '|' if !in_quotes && !in_brackets => {
                return Some((version, c as u8));
            }
            _ => {}
        }
    }
    None
}

/// The fields of one line (for sniffing only: the file itself is read by the `csv` crate).
fn split_line(line: &str, delimiter: u8) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line.as_bytes());
    reader
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A header cell's component id: the part before `: ` (labels `both`), upper case, without
/// a multi-value marker `[]` or sub-field separator `[;]`.
fn header_id(cell: &str) -> String {
    let id = code_of(cell.trim().trim_matches('"'));
    let id = id.split_once('[').map_or(id, |(id, _)| id);
    id.trim().to_ascii_uppercase()
}

/// Which columns are what.
#[derive(Debug, Clone)]
struct Plan {
    /// The column holding the dataflow (`DATAFLOW`, or `STRUCTURE_ID`).
    structure_column: usize,
    /// The `ACTION` column.
    action_column: Option<usize>,
    /// The components and, for each, its column.
    components: Vec<Component>,
    columns: Vec<usize>,
    /// The label mode, for the log.
    labels: &'static str,
}

impl Plan {
    fn read(
        header: &Row,
        version: Version,
        options: &SdmxOptions,
        file: &str,
    ) -> Result<Self, ImportError> {
        let cells: Vec<String> = header
            .cells
            .iter()
            .map(|c| c.as_text().unwrap_or_default().to_owned())
            .collect();
        let ids: Vec<String> = cells.iter().map(|c| header_id(c)).collect();
        let id = |i: usize| ids.get(i).map_or("", String::as_str);
        let mut next = 1;
        let structure_column = match version {
            Version::V1 => 0,
            Version::V2 => {
                if id(1) != "STRUCTURE_ID" {
                    return Err(ImportError::at(
                        SourceRef::row(file, header.number).with_column(column_name(&cells, 1)),
                        "this is not an SDMX-CSV 2.x message: the second column must be \
                         STRUCTURE_ID",
                    ));
                }
                next = 2;
                1
            }
        };
        let mut name_mode = false;
        if id(next) == "STRUCTURE_NAME" {
            name_mode = true;
            next += 1;
        }
        let mut action_column = None;
        if id(next) == "ACTION" {
            action_column = Some(next);
            next += 1;
        }
        while matches!(id(next), "SERIES_KEY" | "OBS_KEY") {
            next += 1;
        }
        let both = cells[next.min(cells.len())..]
            .iter()
            .any(|c| c.contains(": "));
        let mut components = Vec::new();
        let mut columns = Vec::new();
        let mut kind = ComponentKind::Dimension;
        let mut index = next;
        while index < cells.len() {
            let component_id = id(index).to_owned();
            if !component_id.is_empty() {
                let this_kind = if options.role_of(&component_id) == Some(Role::Value) {
                    ComponentKind::Measure
                } else {
                    kind
                };
                if this_kind == ComponentKind::Measure {
                    kind = ComponentKind::Attribute;
                }
                components.push(Component {
                    id: component_id,
                    kind: this_kind,
                    label: cells[index].trim().to_owned(),
                });
                columns.push(index);
            }
            index += if name_mode { 2 } else { 1 };
        }
        let labels = if name_mode {
            "name"
        } else if both {
            "both"
        } else {
            "id"
        };
        Ok(Self {
            structure_column,
            action_column,
            components,
            columns,
            labels,
        })
    }
}

fn column_name(cells: &[String], index: usize) -> String {
    cells
        .get(index)
        .filter(|c| !c.is_empty())
        .cloned()
        .unwrap_or_else(|| crate::spreadsheet::column_letter(index))
}

/// The rows of an SDMX-CSV message, converted as they are read.
struct CsvStream {
    file: String,
    source: CsvSource,
    decimal_comma: bool,
    converter: Converter,
    plan: Plan,
    pending: VecDeque<Item>,
    deletions_logged: bool,
    done: bool,
}

impl CsvStream {
    /// Converts one data row into items.
    fn row(&mut self, row: &Row, out: &mut Vec<Item>) {
        if let Some(error) = row.problem_error(&self.file, None, crate::spreadsheet::column_letter)
        {
            out.push(Item::RowError(error));
            return;
        }
        let text = |column: usize| row.cell(column).as_text().unwrap_or("");
        if let Some(action) = self.plan.action_column
            && code_of(text(action)).eq_ignore_ascii_case("D")
        {
            if !std::mem::replace(&mut self.deletions_logged, true) {
                out.push(Item::log(
                    LogLevel::Warn,
                    "rows with ACTION D (delete) are skipped: the hub keeps a source's \
                     trade flows until the source is imported again",
                ));
            }
            return;
        }
        let value_index = self.converter.layout().value_index();
        let cells: Vec<&str> = self
            .plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, &column)| {
                if i == value_index {
                    text(column)
                } else {
                    code_of(text(column))
                }
            })
            .collect();
        let value = parse_obs_value(cells[value_index], self.decimal_comma);
        let structure = code_of(text(self.plan.structure_column));
        let at = SourceRef::row(self.file.clone(), row.number);
        self.converter.convert(
            &cells,
            value,
            Some(structure).filter(|s| !s.is_empty()),
            &at,
            out,
        );
    }
}

impl RecordStream for CsvStream {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(1024));
        let mut out = Vec::new();
        while batch.len() < max {
            if let Some(item) = self.pending.pop_front() {
                batch.push(item);
                continue;
            }
            if self.done {
                break;
            }
            match self.source.next_row()? {
                Some(row) => {
                    self.row(&row, &mut out);
                    self.pending.extend(out.drain(..));
                }
                None => self.done = true,
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}
