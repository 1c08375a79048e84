//! The mapping file: which sheets to read, as what, and which column feeds which field.
//!
//! Users write it in TOML; the hub parses it and passes it to
//! [`Importer::open`](hub_plugin_sdk::Importer::open) as JSON, where [`Mapping::from_options`]
//! reads and checks it. The format is described in the [module documentation of the
//! importer](super#the-mapping-file).

use std::collections::BTreeMap;

use hub_plugin_sdk::ImportError;
use hub_plugin_sdk::serde_json::{self, Value};
use serde::Deserialize;

use super::delimited::CsvOptions;
use super::encoding::TextEncoding;
use super::targets::{FieldKind, Target, fold};
use super::{parse_number, parse_text_date};

/// A checked mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// The CSV reading overrides of `[csv]`.
    pub csv: CsvOptions,
    /// The `[[sheets]]` entries, in file order.
    pub sheets: Vec<SheetEntry>,
}

/// Which sheets a `[[sheets]]` entry applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The sheet of this name (case is ignored).
    Name(String),
    /// The sheets whose names match this glob (`*` any run of characters, `?` one).
    Pattern(String),
    /// Neither given: the only "sheet" of a CSV file, or a workbook's first sheet.
    First,
}

/// One `[[sheets]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetEntry {
    /// Its position among the entries, from 1, for messages.
    pub number: usize,
    /// The sheets it applies to.
    pub selector: Selector,
    /// The 1-based header row, when the user fixes it.
    pub header_row: Option<u64>,
    /// What the rows become.
    pub target: Target,
    /// Header → field, in header order; `None` for a column left out (`""`). `None` as a
    /// whole when the entry has no `[sheets.columns]`: the synonyms map the columns.
    pub columns: Option<Vec<(String, Option<String>)>>,
    /// Field → constant value (text with `{sheet}` and `{file}` still to substitute, or a
    /// cell above the header).
    pub constants: Vec<(String, Constant)>,
    /// The extra observation groups of a firm list.
    pub observations: Vec<ObservationGroup>,
    /// Whether a baseline repeated on every row of a series is taken once (default).
    pub baseline_once_per_series: bool,
}

/// The value a `[sheets.constants]` entry gives its field on every row of the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constant {
    /// Text as written; `{sheet}` and `{file}` are replaced by the sheet's and the file's
    /// names.
    Text(String),
    /// The value of one cell above the header, read per sheet: `{ cell = "B3" }`. An
    /// attendance sheet keeps its event's title and dates there.
    Cell(CellRef),
}

/// A cell named the way a spreadsheet shows it, `B3`: column letters and a 1-based row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellRef {
    /// The 1-based row.
    pub row: u64,
    /// The 0-based column.
    pub column: usize,
}

impl CellRef {
    /// Reads `B3`, `aa12` (letters then digits); `None` for anything else.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let split = text.find(|c: char| c.is_ascii_digit())?;
        let (letters, digits) = text.split_at(split);
        if letters.is_empty()
            || letters.len() > 3
            || !letters.chars().all(|c| c.is_ascii_alphabetic())
        {
            return None;
        }
        let row: u64 = digits.parse().ok().filter(|r| *r > 0)?;
        let column = letters.bytes().fold(0usize, |n, b| {
            n * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1)
        }) - 1;
        Some(Self { row, column })
    }
}

impl std::fmt::Display for CellRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", super::column_letter(self.column), self.row)
    }
}

/// An extra observation group: the figures of one period, from the named columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationGroup {
    /// The period as written, e.g. `2022`.
    pub period: String,
    /// Observation field (`employees_total`, …) → header.
    pub columns: Vec<(ObservationField, String)>,
}

/// The figures of an observation group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObservationField {
    /// `employees_total`.
    EmployeesTotal,
    /// `employees_female`.
    EmployeesFemale,
    /// `turnover_pkr`.
    TurnoverPkr,
    /// `exports_usd`.
    ExportsUsd,
    /// `certifications`.
    Certifications,
}

impl ObservationField {
    /// The key in a `[[sheets.observations]]` table.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::EmployeesTotal => "employees_total",
            Self::EmployeesFemale => "employees_female",
            Self::TurnoverPkr => "turnover_pkr",
            Self::ExportsUsd => "exports_usd",
            Self::Certifications => "certifications",
        }
    }

    /// The same figure as a field name, for messages: `observation.turnover_pkr`.
    #[must_use]
    pub fn field(self) -> String {
        format!("observation.{}", self.key())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    /// Read by the hub: the importer the mapping is for.
    #[serde(default)]
    #[expect(dead_code, reason = "the hub's key, accepted and ignored")]
    importer: Option<Value>,
    /// Read by the hub: the source the import writes under.
    #[serde(default)]
    #[expect(dead_code, reason = "the hub's key, accepted and ignored")]
    source: Option<Value>,
    #[serde(default)]
    csv: Option<RawCsv>,
    #[serde(default)]
    sheets: Vec<RawSheet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCsv {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    delimiter: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSheet {
    #[serde(default)]
    sheet: Option<String>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    header_row: Option<u64>,
    target: String,
    #[serde(default)]
    columns: Option<BTreeMap<String, String>>,
    #[serde(default)]
    constants: BTreeMap<String, Value>,
    #[serde(default)]
    observations: Vec<BTreeMap<String, Value>>,
    #[serde(default)]
    baseline_once_per_series: Option<bool>,
}

impl Mapping {
    /// Reads the options of [`Importer::open`](hub_plugin_sdk::Importer::open): `Null` is
    /// no mapping (`None`), an object is a mapping file converted to JSON. Unknown keys,
    /// targets and fields, constants that do not read as their field's kind and other
    /// mistakes are an [`ImportError`] that lists what is valid.
    pub fn from_options(options: &Value) -> Result<Option<Self>, ImportError> {
        if options.is_null() {
            return Ok(None);
        }
        if !options.is_object() {
            return Err(invalid(
                "the options must be a mapping (a table of keys), not a single value",
            ));
        }
        let raw: RawMapping = serde_json::from_value(options.clone())
            .map_err(|e| invalid(format!("{e} (top-level keys: source, importer, csv, sheets; sheet keys: sheet, pattern, header_row, target, columns, constants, observations, baseline_once_per_series)")))?;
        let mut csv = CsvOptions::default();
        if let Some(raw_csv) = raw.csv {
            if let Some(encoding) = raw_csv.encoding {
                let parsed = encoding.parse::<TextEncoding>().map_err(|e| {
                    invalid(format!(
                        "[csv] encoding: {e}; use utf-8, utf-16le, utf-16be or windows-1252"
                    ))
                })?;
                csv.encoding = Some(parsed);
            }
            if let Some(delimiter) = raw_csv.delimiter {
                csv.delimiter = Some(parse_delimiter(&delimiter)?);
            }
        }
        let sheets = raw
            .sheets
            .into_iter()
            .enumerate()
            .map(|(i, sheet)| sheet_entry(i + 1, sheet))
            .collect::<Result<Vec<_>, _>>()?;
        if sheets.is_empty() {
            return Err(invalid(
                "the mapping lists no [[sheets]]: add one per sheet to import, with its target",
            ));
        }
        Ok(Some(Self { csv, sheets }))
    }
}

fn invalid(message: impl std::fmt::Display) -> ImportError {
    ImportError::new(format!("the mapping is invalid: {message}"))
}

fn parse_delimiter(text: &str) -> Result<u8, ImportError> {
    let byte = match text.to_ascii_lowercase().as_str() {
        "tab" | "\\t" => b'\t',
        "comma" => b',',
        "semicolon" => b';',
        "pipe" => b'|',
        other => match other.as_bytes() {
            [b] if b.is_ascii() && !b.is_ascii_alphanumeric() && *b != b'"' && *b != b'\n' => *b,
            _ => {
                return Err(invalid(format!(
                    "[csv] delimiter must be one character such as \",\", \";\", \"|\" or \"\\t\" \
                     (or comma, semicolon, tab, pipe), not {text:?}"
                )));
            }
        },
    };
    Ok(byte)
}

fn sheet_entry(number: usize, raw: RawSheet) -> Result<SheetEntry, ImportError> {
    let place = match (&raw.sheet, &raw.pattern) {
        (Some(sheet), _) => format!("[[sheets]] number {number} (sheet {sheet:?})"),
        (None, Some(pattern)) => format!("[[sheets]] number {number} (pattern {pattern:?})"),
        (None, None) => format!("[[sheets]] number {number}"),
    };
    let error = |message: String| invalid(format!("{place}: {message}"));
    let selector = match (raw.sheet, raw.pattern) {
        (Some(_), Some(_)) => {
            return Err(error(
                "give either sheet (a name) or pattern (a glob), not both".into(),
            ));
        }
        (Some(name), None) if !name.trim().is_empty() => Selector::Name(name.trim().to_owned()),
        (None, Some(pattern)) if !pattern.trim().is_empty() => {
            Selector::Pattern(pattern.trim().to_owned())
        }
        (None, None) => Selector::First,
        _ => return Err(error("the sheet name or pattern is empty".into())),
    };
    let target = Target::parse(&raw.target).ok_or_else(|| {
        error(format!(
            "unknown target {:?}: the targets are {}",
            raw.target,
            Target::ALL.map(Target::name).join(", ")
        ))
    })?;
    if raw.header_row == Some(0) {
        return Err(error(
            "header_row counts from 1, as the spreadsheet shows rows".into(),
        ));
    }
    let check_field = |field: &str, what: String| -> Result<FieldKind, ImportError> {
        target.field(field).ok_or_else(|| {
            error(format!(
                "unknown field {field:?} ({what}) for the target {target}: its fields are {}",
                target.field_names().join(", ")
            ))
        })
    };
    let columns = match raw.columns {
        None => None,
        Some(columns) => {
            let mut out = Vec::with_capacity(columns.len());
            let mut fed: BTreeMap<String, String> = BTreeMap::new();
            for (header, field) in columns {
                let field = field.trim().to_owned();
                if field.is_empty() {
                    out.push((header, None));
                    continue;
                }
                check_field(&field, format!("column {header:?}"))?;
                if let Some(other) = fed.insert(field.clone(), header.clone()) {
                    return Err(error(format!(
                        "the field {field} is fed by two columns, {other:?} and {header:?}: \
                         map one of them to \"\""
                    )));
                }
                out.push((header, Some(field)));
            }
            Some(out)
        }
    };
    let mut constants = Vec::with_capacity(raw.constants.len());
    for (field, value) in raw.constants {
        let kind = check_field(&field, "constant".to_owned())?;
        if let Some(columns) = &columns
            && let Some((header, _)) = columns
                .iter()
                .find(|(_, f)| f.as_deref() == Some(field.as_str()))
        {
            return Err(error(format!(
                "the field {field} is given both a column ({header:?}) and a constant"
            )));
        }
        let text = match value {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Object(table) => {
                let cell = table
                    .get("cell")
                    .and_then(Value::as_str)
                    .filter(|_| table.len() == 1)
                    .and_then(CellRef::parse)
                    .ok_or_else(|| {
                        error(format!(
                            "the constant for {field} must be text, a number, true/false or \
                             {{ cell = \"B3\" }} (a cell above the header)"
                        ))
                    })?;
                constants.push((field, Constant::Cell(cell)));
                continue;
            }
            _ => {
                return Err(error(format!(
                    "the constant for {field} must be text, a number, true/false or \
                     {{ cell = \"B3\" }} (a cell above the header)"
                )));
            }
        };
        check_constant(&field, kind, &text).map_err(&error)?;
        constants.push((field, Constant::Text(text)));
    }
    let mut observations = Vec::with_capacity(raw.observations.len());
    if !raw.observations.is_empty() && target != Target::Firms {
        return Err(error(format!(
            "[[sheets.observations]] is for the target firms, not {target}"
        )));
    }
    for (i, group) in raw.observations.into_iter().enumerate() {
        observations.push(
            observation_group(group)
                .map_err(|m| error(format!("[[sheets.observations]] number {}: {m}", i + 1)))?,
        );
    }
    Ok(SheetEntry {
        number,
        selector,
        header_row: raw.header_row,
        target,
        columns,
        constants,
        observations,
        baseline_once_per_series: raw.baseline_once_per_series.unwrap_or(true),
    })
}

/// Checks that a constant reads as its field's kind. The message never repeats the
/// value, which may be personal.
fn check_constant(field: &str, kind: FieldKind, text: &str) -> Result<(), String> {
    // Substitutions are known only per sheet; they are text.
    if text.contains("{sheet}") || text.contains("{file}") {
        return match kind {
            FieldKind::Text | FieldKind::Personal => Ok(()),
            _ => Err(format!(
                "the constant for {field} cannot use {{sheet}} or {{file}}: it is not text"
            )),
        };
    }
    let ok = match kind {
        FieldKind::Text | FieldKind::Personal => !text.trim().is_empty(),
        FieldKind::Count => parse_number(text).is_some_and(|n| n >= 0.0 && n.fract() == 0.0),
        FieldKind::Year => {
            parse_number(text).is_some_and(|n| n.fract() == 0.0 && (1000.0..=9999.0).contains(&n))
        }
        FieldKind::Number => parse_number(text).is_some(),
        FieldKind::Date => parse_text_date(text).is_some(),
        FieldKind::Bool => super::targets::boolean(text).is_some(),
        FieldKind::Choice(vocabulary) => vocabulary.accepts(text),
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        FieldKind::Text | FieldKind::Personal => "some text".to_owned(),
        FieldKind::Count => "a whole number of 0 or more".to_owned(),
        FieldKind::Year => "a year".to_owned(),
        FieldKind::Number => "a number".to_owned(),
        FieldKind::Date => "a date, written YYYY-MM-DD or dd/mm/yyyy".to_owned(),
        FieldKind::Bool => "yes or no (true, false)".to_owned(),
        FieldKind::Choice(vocabulary) => format!("one of {}", vocabulary.expected()),
    };
    Err(format!("the constant for {field} must be {expected}"))
}

fn observation_group(group: BTreeMap<String, Value>) -> Result<ObservationGroup, String> {
    let mut period = None;
    let mut columns = Vec::new();
    for (key, value) in group {
        let text = match value {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            _ => return Err(format!("{key} must be text")),
        };
        let field = match key.as_str() {
            "period" => {
                period = Some(text);
                continue;
            }
            "employees_total" => ObservationField::EmployeesTotal,
            "employees_female" => ObservationField::EmployeesFemale,
            "turnover_pkr" => ObservationField::TurnoverPkr,
            "exports_usd" => ObservationField::ExportsUsd,
            "certifications" => ObservationField::Certifications,
            other => {
                return Err(format!(
                    "unknown key {other:?}: the keys are period, employees_total, \
                     employees_female, turnover_pkr, exports_usd and certifications \
                     (each naming a column)"
                ));
            }
        };
        if fold(&text).is_empty() {
            return Err(format!("{key} must name a column"));
        }
        columns.push((field, text));
    }
    let period = period
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| "the group needs a period, e.g. period = \"2022\"".to_owned())?;
    if columns.is_empty() {
        return Err("the group names no column".to_owned());
    }
    columns.sort();
    Ok(ObservationGroup { period, columns })
}

/// Whether `name` matches the glob `pattern` (`*` any run of characters, `?` one),
/// ignoring case.
#[must_use]
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    // Iterative matching with backtracking to the last star.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

impl Selector {
    /// Whether the selector names the sheet `name`, the `index`-th (0-based) of its file.
    #[must_use]
    pub fn matches(&self, name: &str, index: usize) -> bool {
        match self {
            Self::Name(wanted) => wanted.to_lowercase() == name.trim().to_lowercase(),
            Self::Pattern(pattern) => glob_match(pattern, name.trim()),
            Self::First => index == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use hub_plugin_sdk::serde_json::json;

    use super::*;

    #[test]
    fn globs_match_like_shells() {
        let cases = [
            ("CDI-*", "CDI-TR-2022-01", true),
            ("cdi-*", "CDI-TR-2022-01", true),
            ("CDI-*", "Events", false),
            ("*-01", "CDI-TR-2022-01", true),
            ("CDI-TR-????-01", "CDI-TR-2022-01", true),
            ("*", "", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("Firms", "Firms", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(glob_match(pattern, name), expected, "{pattern} {name}");
        }
    }

    #[test]
    fn a_mapping_reads_and_checks_its_parts() {
        let mapping = Mapping::from_options(&json!({
            "source": "cdi-survey-2023",
            "importer": "spreadsheet",
            "csv": {"encoding": "windows-1252", "delimiter": ";"},
            "sheets": [{
                "sheet": "Firms",
                "header_row": 4,
                "target": "firms",
                "columns": {"Survey ID": "firm.source_key", "Sr. No.": ""},
                "constants": {"firm.observed_on": "2023-03-31", "firm.founded_year": 1990},
                "observations": [{"period": 2022, "turnover_pkr": "Annual Turnover (PKR)"}]
            }]
        }))
        .unwrap()
        .unwrap();
        assert_eq!(mapping.csv.delimiter, Some(b';'));
        assert_eq!(mapping.csv.encoding, Some(TextEncoding::Windows1252));
        let sheet = &mapping.sheets[0];
        assert_eq!(sheet.selector, Selector::Name("Firms".into()));
        assert_eq!(sheet.header_row, Some(4));
        assert_eq!(sheet.observations[0].period, "2022");
        assert_eq!(
            sheet.columns.as_deref().unwrap()[0],
            ("Sr. No.".to_owned(), None)
        );
        assert_eq!(Mapping::from_options(&Value::Null).unwrap(), None);

        let error = |options: Value| Mapping::from_options(&options).unwrap_err().message;
        let message = error(json!({"sheets": [{"target": "firm"}]}));
        assert!(message.contains("unknown target \"firm\""), "{message}");
        assert!(message.contains("firms, participants"), "{message}");
        let message = error(json!({"sheets": [{"target": "firms", "columns": {"A": "firm.nme"}}]}));
        assert!(message.contains("unknown field \"firm.nme\""), "{message}");
        assert!(message.contains("firm.name"), "{message}");
        let message = error(
            json!({"sheets": [{"target": "firms", "constants": {"firm.observed_on": "soon"}}]}),
        );
        assert!(message.contains("must be a date"), "{message}");
        let message = error(json!({"sheets": [{"target": "firms", "colums": {}}]}));
        assert!(message.contains("colums"), "{message}");
        let message = error(json!({"sheets": []}));
        assert!(message.contains("no [[sheets]]"), "{message}");
        let message = error(json!({"csv": {"delimiter": ";;"}, "sheets": [{"target": "firms"}]}));
        assert!(message.contains("delimiter"), "{message}");
        let message = error(
            json!({"sheets": [{"target": "networks", "observations": [{"period": "2022", "exports_usd": "X"}]}]}),
        );
        assert!(message.contains("for the target firms"), "{message}");
        let message = error(
            json!({"sheets": [{"target": "firms", "columns": {"A": "firm.name", "B": "firm.name"}}]}),
        );
        assert!(message.contains("two columns"), "{message}");
        let message = error(json!("firms"));
        assert!(message.contains("must be a mapping"), "{message}");
    }
}
