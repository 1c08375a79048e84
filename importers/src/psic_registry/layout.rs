//! What the three registry importers share: the layouts (fields and the header variants
//! that name them), finding and naming the header row, recognising an export from its
//! first bytes, and the options.

use std::collections::{BTreeMap, HashSet};

use hub_plugin_sdk::serde_json::{self, Value, json};
use hub_plugin_sdk::{Confidence, Date, ImportError};
use serde::Deserialize;

use crate::spreadsheet::{
    CsvOptions, Header, HeaderColumn, Row, TextEncoding, column_letter, detect_delimiter, fold,
    normalise_header, parse_text_date, utf16_without_bom,
};

/// One field of a layout: the columns that may feed it and the record fields it feeds.
#[derive(Debug)]
pub struct Field {
    /// The field's name, as the options' `columns` and row errors name it.
    pub name: &'static str,
    /// The headers recognised for it, compared folded (case, spacing and punctuation
    /// ignored); the first is the one the documentation and messages show.
    pub variants: &'static [&'static str],
    /// Whether a file without it is not this kind of export.
    pub required: bool,
    /// Whether a header may add words after a variant, such as a unit or a format
    /// (`Plot Area (sq ft)`, `Sanction Date (dd/mm/yyyy)`). Such matches are tried only
    /// after every field's exact matches.
    pub loose: bool,
    /// The record fields it feeds, as [`hub_plugin_sdk::Item::Columns`] names them.
    pub records: &'static [&'static str],
}

/// The layout of one kind of registry export.
#[derive(Debug)]
pub struct Layout {
    /// The importer's id.
    pub id: &'static str,
    /// What a row is, for log lines: `registered units`.
    pub rows: &'static str,
    /// The export, for messages: `registered-units export of the Punjab Small Industries
    /// Corporation`.
    pub what: &'static str,
    /// The fields, in the order of the documentation.
    pub fields: &'static [Field],
    /// For sniffing: besides the required fields, at least `min_evidence` of these must
    /// be found before the content counts as this export.
    pub evidence: &'static [&'static str],
    /// See `evidence`.
    pub min_evidence: usize,
    /// The options besides `sheet`, `header_row`, `columns` and `csv` that the importer
    /// takes.
    pub options: &'static [&'static str],
}

impl Layout {
    /// The position of the field named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The field names, for messages.
    pub fn field_names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
}

// ---- Resolving a header ------------------------------------------------------------------

/// A header row read as a layout: which column feeds which field.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// Per field of the layout, the 0-based column feeding it.
    pub columns: Vec<Option<usize>>,
    /// Headers the options map that the row does not have.
    pub missing_mapped: Vec<String>,
}

impl Resolution {
    /// The fields found.
    pub fn found(&self) -> usize {
        self.columns.iter().filter(|c| c.is_some()).count()
    }

    /// The required fields not found.
    pub fn missing_required<'l>(&self, layout: &'l Layout) -> Vec<&'l Field> {
        layout
            .fields
            .iter()
            .zip(&self.columns)
            .filter(|(f, c)| f.required && c.is_none())
            .map(|(f, _)| f)
            .collect()
    }

    /// Whether the header is this layout's: every required field and every mapped
    /// column found.
    pub fn complete(&self, layout: &Layout) -> bool {
        self.missing_mapped.is_empty() && self.missing_required(layout).is_empty()
    }
}

/// The header of a single row: each cell's text is a column's name.
pub fn header_of(row: &Row) -> Header {
    let columns = row
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            let original = cell.to_text();
            let name = if original.is_empty() {
                column_letter(index)
            } else {
                normalise_header(&original)
            };
            HeaderColumn {
                index,
                name,
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

/// Reads `header` as `layout`: first the columns the options map (`mapped`: header as
/// written → field, `None` to leave the column out), then, for each field not mapped, the
/// first column not yet taken whose folded name is one of the field's variants, variants
/// in order (so `Unit No` wins over `Registration No` when a file has both), and last,
/// for the loose fields still missing, a column whose folded name starts with a variant.
pub fn resolve(header: &Header, layout: &Layout, mapped: &[(String, Option<usize>)]) -> Resolution {
    let names: Vec<String> = header
        .columns
        .iter()
        .map(|c| {
            if c.original.trim().is_empty() {
                String::new()
            } else {
                fold(&c.original)
            }
        })
        .collect();
    let mut columns = vec![None; layout.fields.len()];
    let mut used = HashSet::new();
    let mut missing_mapped = Vec::new();
    let mut explicit = HashSet::new();
    for (wanted, field) in mapped {
        let wanted_folded = fold(wanted);
        match names
            .iter()
            .position(|n| !n.is_empty() && *n == wanted_folded)
        {
            Some(index) => {
                used.insert(index);
                if let Some(field) = field {
                    columns[*field] = Some(index);
                    explicit.insert(*field);
                }
            }
            None => missing_mapped.push(wanted.clone()),
        }
    }
    for loose in [false, true] {
        for (position, field) in layout.fields.iter().enumerate() {
            if explicit.contains(&position) || columns[position].is_some() {
                continue;
            }
            if loose && !field.loose {
                continue;
            }
            let found = field.variants.iter().find_map(|variant| {
                let variant = fold(variant);
                names.iter().enumerate().position(|(i, n)| {
                    !used.contains(&i)
                        && if loose {
                            n.strip_prefix(&variant).is_some_and(|r| r.starts_with(' '))
                        } else {
                            *n == variant
                        }
                })
            });
            if let Some(index) = found {
                used.insert(index);
                columns[position] = Some(index);
            }
        }
    }
    Resolution {
        columns,
        missing_mapped,
    }
}

/// The message for a header that lacks required columns: `this is not a … : missing
/// column Unit No (accepted headers: …)`.
pub fn missing_message(layout: &Layout, resolution: &Resolution) -> String {
    let mut parts: Vec<String> = resolution
        .missing_required(layout)
        .iter()
        .map(|f| {
            let accepted: Vec<String> = f.variants.iter().map(|v| format!("\"{v}\"")).collect();
            format!(
                "{} (accepted headers: {}; or map a column to {} in the options' columns)",
                f.variants[0],
                accepted.join(", "),
                f.name
            )
        })
        .collect();
    parts.extend(
        resolution
            .missing_mapped
            .iter()
            .map(|h| format!("{h} (named in the options' columns)")),
    );
    let noun = if parts.len() == 1 {
        "column"
    } else {
        "columns"
    };
    format!(
        "this is not a {}: missing {noun} {}",
        layout.what,
        parts.join("; ")
    )
}

// ---- Sniffing ----------------------------------------------------------------------------

/// How many records of the head are looked at for the header.
const SNIFF_RECORDS: usize = 30;

/// Recognises `layout` in the first bytes of a file: 85 to 95 (more for more of the
/// layout's columns) when a line of delimited text in the head has every required
/// column through the variants and enough of the evidence columns; 0 otherwise, and
/// always 0 for workbooks, whose first bytes are compressed.
pub fn sniff(head: &[u8], layout: &Layout) -> Confidence {
    let Some(text) = decode_head(head) else {
        return Confidence::NONE;
    };
    // Only complete lines: the head may end inside one (a head without a line end is a
    // file of one line).
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
    for (number, record) in reader.records().take(SNIFF_RECORDS).enumerate() {
        let Ok(record) = record else {
            return Confidence::NONE;
        };
        if record.len() < 2 {
            continue;
        }
        let row = Row::new(
            number as u64 + 1,
            record.iter().map(crate::spreadsheet::Cell::text).collect(),
        );
        let resolution = resolve(&header_of(&row), layout, &[]);
        if !resolution.complete(layout) {
            continue;
        }
        let evidence = layout
            .evidence
            .iter()
            .filter(|name| {
                layout
                    .index(name)
                    .is_some_and(|i| resolution.columns[i].is_some())
            })
            .count();
        if evidence < layout.min_evidence {
            continue;
        }
        let share = resolution.found() * 10 / layout.fields.len().max(1);
        return Confidence::new(85 + u8::try_from(share.min(10)).unwrap_or(10));
    }
    Confidence::NONE
}

/// The head decoded as text, or `None` when it is a workbook or other binary data.
fn decode_head(head: &[u8]) -> Option<String> {
    if head.starts_with(b"PK\x03\x04")
        || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
    {
        return None;
    }
    let encoding = match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, _)) => encoding,
        None => match utf16_without_bom(head) {
            Some(encoding) => encoding.encoding(),
            None if utf8_prefix(head) => encoding_rs::UTF_8,
            None => encoding_rs::WINDOWS_1252,
        },
    };
    let (text, _, _) = encoding.decode(head);
    let binary = text
        .chars()
        .any(|c| c == '\0' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')));
    (!binary).then(|| text.into_owned())
}

/// Whether `head` is UTF-8, possibly cut inside its last character.
fn utf8_prefix(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

// ---- Options -----------------------------------------------------------------------------

/// The options as the hub passes them (a mapping file read from TOML), before checking.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    /// Read by the hub.
    #[serde(rename = "source")]
    _source: Option<Value>,
    /// Read by the hub.
    #[serde(rename = "importer")]
    _importer: Option<Value>,
    sheet: Option<String>,
    header_row: Option<u64>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    extract_date: Option<Value>,
    plot_area_unit: Option<String>,
    csv: Option<RawCsv>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCsv {
    encoding: Option<String>,
    delimiter: Option<String>,
}

/// The checked options of one import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The sheet to read; every sheet that has the layout's header when `None`.
    pub sheet: Option<String>,
    /// The 1-based row of the header; searched for when `None`.
    pub header_row: Option<u64>,
    /// Header as written → field position in the layout, `None` to leave it out.
    pub columns: Vec<(String, Option<usize>)>,
    /// The day the registry was extracted (units only).
    pub extract_date: Option<Date>,
    /// The unit of the plot area column, as written (allotments only).
    pub plot_area_unit: Option<String>,
    /// CSV reading overrides.
    pub csv: CsvOptions,
}

/// The top-level keys every registry importer accepts.
const COMMON_KEYS: [&str; 6] = [
    "source",
    "importer",
    "sheet",
    "header_row",
    "columns",
    "csv",
];

impl Options {
    /// Reads and checks the options of `layout`'s importer; `Null` gives the defaults.
    pub fn parse(value: &Value, layout: &Layout) -> Result<Self, ImportError> {
        let keys: Vec<&str> = COMMON_KEYS.iter().chain(layout.options).copied().collect();
        let invalid = |message: String| {
            ImportError::new(format!(
                "the options of {} are not valid: {message}",
                layout.id
            ))
        };
        if value.is_null() {
            return Ok(Self::default());
        }
        let raw: RawOptions = serde_json::from_value(value.clone())
            .map_err(|e| invalid(format!("{e} (keys: {})", keys.join(", "))))?;
        let not_here = |key: &str| {
            invalid(format!(
                "{key} is not an option of {} (keys: {})",
                layout.id,
                keys.join(", ")
            ))
        };
        if raw.extract_date.is_some() && !layout.options.contains(&"extract_date") {
            return Err(not_here("extract_date"));
        }
        if raw.plot_area_unit.is_some() && !layout.options.contains(&"plot_area_unit") {
            return Err(not_here("plot_area_unit"));
        }
        if raw.header_row == Some(0) {
            return Err(invalid("header_row counts from 1".to_owned()));
        }
        let mut columns = Vec::new();
        let mut fed = BTreeMap::new();
        for (header, field) in raw.columns {
            let field = field.trim();
            if field.is_empty() {
                columns.push((header, None));
                continue;
            }
            let Some(position) = layout.index(field) else {
                return Err(invalid(format!(
                    "columns: the column \"{header}\" is mapped to \"{field}\", which is no \
                     field of {}; its fields are: {}",
                    layout.id,
                    layout.field_names().join(", ")
                )));
            };
            if let Some(other) = fed.insert(position, header.clone()) {
                return Err(invalid(format!(
                    "columns: the field {field} is fed by two columns, \"{other}\" and \
                     \"{header}\""
                )));
            }
            columns.push((header, Some(position)));
        }
        let extract_date = match raw.extract_date {
            None => None,
            Some(value) => Some(date_option(&value).ok_or_else(|| {
                invalid("extract_date must be a date written YYYY-MM-DD or dd/mm/yyyy".to_owned())
            })?),
        };
        let mut csv = CsvOptions::default();
        if let Some(raw_csv) = raw.csv {
            if let Some(encoding) = raw_csv.encoding {
                csv.encoding = Some(encoding.parse::<TextEncoding>().map_err(|e| {
                    invalid(format!(
                        "csv.encoding: {e}; use utf-8, utf-16le, utf-16be or windows-1252"
                    ))
                })?);
            }
            if let Some(delimiter) = raw_csv.delimiter {
                csv.delimiter = Some(match delimiter.as_str() {
                    "\\t" | "tab" | "TAB" => b'\t',
                    d if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
                    _ => {
                        return Err(invalid(
                            "csv.delimiter must be one character such as \",\", \";\", \"|\" \
                             or \"\\t\""
                                .to_owned(),
                        ));
                    }
                });
            }
        }
        Ok(Self {
            sheet: raw.sheet,
            header_row: raw.header_row,
            columns,
            extract_date,
            plot_area_unit: raw.plot_area_unit,
            csv,
        })
    }
}

/// A date given as an option: text in ISO or day-first form, or a TOML date (which
/// arrives as `{"$__toml_private_datetime": "2024-12-31"}` once read into JSON).
fn date_option(value: &Value) -> Option<Date> {
    let text = match value {
        Value::String(text) => text.as_str(),
        Value::Object(map) if map.len() == 1 => map.values().next()?.as_str()?,
        _ => return None,
    };
    parse_text_date(text)
}

/// The JSON Schema of a layout's options.
pub fn options_schema(layout: &Layout) -> Value {
    let fields: Vec<&str> = layout.field_names();
    let mut properties = json!({
        "source": {"description": "Read by the hub: the source the import writes under (psic-punjab by default)."},
        "importer": {"description": "Read by the hub: the importer the mapping is for."},
        "sheet": {"type": "string", "description": "The sheet of a workbook to read; without it every sheet with the export's header is read."},
        "header_row": {"type": "integer", "minimum": 1, "description": "The 1-based row of the header; found below title rows when omitted."},
        "columns": {
            "type": "object",
            "description": "Header as written -> field, for columns the header variants miss; \"\" leaves a column out. The other fields are still found through the variants.",
            "additionalProperties": {"enum": fields.iter().copied().chain([""]).collect::<Vec<_>>()}
        },
        "csv": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "encoding": {"type": "string", "examples": ["utf-8", "utf-16le", "windows-1252"]},
                "delimiter": {"type": "string", "examples": [",", ";", "\t", "|"]}
            }
        }
    });
    if layout.options.contains(&"extract_date") {
        properties["extract_date"] = json!({
            "type": "string",
            "description": "The day the registry was extracted: the units' observed_on, and the period of the head count of units without a registration date."
        });
    }
    if layout.options.contains(&"plot_area_unit") {
        properties["plot_area_unit"] = json!({
            "enum": ["sqm", "sqft", "acre", "kanal", "marla"],
            "description": "The unit of the plot area column when its header names none (a marla is 272.25 square feet, a kanal 20 marla)."
        });
    }
    let variants: serde_json::Map<String, Value> = layout
        .fields
        .iter()
        .map(|f| {
            (
                f.name.to_owned(),
                json!({"required": f.required, "headers": f.variants}),
            )
        })
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Options of {}", layout.id),
        "type": ["object", "null"],
        "additionalProperties": false,
        "properties": properties,
        "x-fields": variants
    })
}
