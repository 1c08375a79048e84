//! What the Comtrade formats share: reading one row's values into a trade flow's fields
//! (numbers, booleans, periods, breakdowns) with row errors that name the column, the
//! header matching, sniffing, and the CSV record stream.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{Confidence, ImportError, Item, RecordStream, RowError, SourceRef, codes};

use crate::spreadsheet::{
    CsvOptions, CsvSource, Header, ReadError, RowSource, WithHeader, detect_delimiter,
    parse_number, utf16_without_bom,
};

/// One value of a row as the file gives it: CSV text, or a JSON scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    /// Text (every CSV cell; JSON strings).
    Text(&'a str),
    /// A JSON number.
    Number(f64),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON object or array where a scalar belongs.
    Nested,
}

/// A field of one row: its value (`None` when empty, null or absent) and the column (CSV
/// header as written, JSON key) it comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell<'a> {
    pub val: Option<Val<'a>>,
    pub column: &'a str,
}

/// Reads the fields of one row, collecting its row errors.
#[derive(Debug)]
pub(crate) struct RowReader {
    pub at: SourceRef,
    pub errors: Vec<RowError>,
}

impl RowReader {
    pub fn new(at: SourceRef) -> Self {
        Self {
            at,
            errors: Vec::new(),
        }
    }

    /// The place of one cell of the row.
    pub fn cell_ref(&self, column: &str) -> SourceRef {
        self.at.clone().with_column(column)
    }

    /// The value as text, trimmed; `None` when empty. Numbers are written without a
    /// trailing `.0` (`586`, not `586.0`).
    pub fn text(cell: Cell<'_>) -> Option<String> {
        match cell.val? {
            Val::Text(text) => Some(text.trim())
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            Val::Number(n) => Some(format_number(n)),
            Val::Bool(b) => Some(b.to_string()),
            Val::Nested => None,
        }
    }

    /// The value as text; a row error (`missing_required`) when it is empty.
    pub fn required(&mut self, cell: Cell<'_>, field: &str) -> Option<String> {
        let text = Self::text(cell);
        if text.is_none() {
            let at = self.cell_ref(cell.column);
            self.errors.push(RowError::missing_required(at, field));
        }
        text
    }

    /// The value as a number; empty is `None`, anything else that is not a number is an
    /// `invalid_number` row error naming the field and the column.
    pub fn number(&mut self, cell: Cell<'_>, field: &str) -> Option<f64> {
        let number = match cell.val? {
            Val::Number(n) => Some(n),
            Val::Text(text) if text.trim().is_empty() => return None,
            Val::Text(text) => parse_number(text),
            Val::Bool(_) | Val::Nested => None,
        };
        match number.filter(|n| n.is_finite()) {
            Some(n) => Some(n),
            None => {
                let at = self.cell_ref(cell.column);
                self.errors.push(RowError::invalid_number(at, field));
                None
            }
        }
    }

    /// The value as a boolean: `True`/`False`, `true`/`false`, `1`/`0` (and JSON booleans
    /// and numbers); empty is `false`, anything else an `invalid_value` row error.
    pub fn boolean(&mut self, cell: Cell<'_>, field: &str) -> bool {
        let value = match cell.val {
            None => Some(false),
            Some(Val::Bool(b)) => Some(b),
            Some(Val::Number(n)) if n == 0.0 || n == 1.0 => Some(n == 1.0),
            Some(Val::Text(text)) => match text.trim().to_ascii_lowercase().as_str() {
                "" | "false" | "0" => Some(false),
                "true" | "1" => Some(true),
                _ => None,
            },
            Some(Val::Number(_) | Val::Nested) => None,
        };
        value.unwrap_or_else(|| {
            let at = self.cell_ref(cell.column);
            self.errors.push(
                RowError::error(
                    at,
                    codes::INVALID_VALUE,
                    format!("The field {field} must be True or False (or 1 or 0)."),
                )
                .with_field(field),
            );
            false
        })
    }

    /// Adds `key=value` to a breakdown unless the value is empty or one of `totals`
    /// (compared ignoring case).
    pub fn breakdown(
        breakdown: &mut BTreeMap<String, String>,
        key: &str,
        cell: Cell<'_>,
        totals: &[&str],
    ) {
        if let Some(value) = Self::text(cell)
            && !totals.iter().any(|t| t.eq_ignore_ascii_case(&value))
        {
            breakdown.insert(key.to_owned(), value);
        }
    }

    /// The items of the row: its errors, then the flow when there are none.
    pub fn finish(self, flow: Option<hub_plugin_sdk::TradeFlow>, out: &mut Vec<Item>) {
        let clean = self.errors.is_empty();
        out.extend(self.errors.into_iter().map(Item::from));
        if clean && let Some(flow) = flow {
            out.push(Item::record(self.at, flow));
        }
    }
}

/// Writes a number as Comtrade does: integers without decimals.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// A Comtrade period code as the hub reads it: `2019` stays, `201903` becomes `2019-03`;
/// anything else is passed as written for the hub to judge.
///
/// `YYYY-MM` where `MM` is also the next year's last two digits (`2011-12`) would read as
/// a fiscal year or a month, and the hub refuses to guess; those months are written
/// `2011-M12`, which is a month only.
pub(crate) fn period_code(code: &str) -> String {
    let code = code.trim();
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    if digits
        && code.len() == 6
        && let (Ok(year), Ok(month)) = (code[..4].parse::<i32>(), code[4..].parse::<u32>())
        && (1..=12).contains(&month)
    {
        return month_period(year, month);
    }
    code.to_owned()
}

/// A month as `2019-03`, or `2011-M12` when `2011-12` could be a fiscal year.
pub(crate) fn month_period(year: i32, month: u32) -> String {
    let next_year = i64::from(year + 1).rem_euclid(100);
    if i64::from(month) == next_year {
        format!("{year}-M{month:02}")
    } else {
        format!("{year}-{month:02}")
    }
}

/// A header name reduced to lower-case letters and digits, so that `Trade Value (US$)`,
/// `TradeValueUS` and `trade value us` match, and `cifValue` matches `cifvalue`.
pub(crate) fn header_key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The first bytes of a file as text: UTF-8 (with or without a byte-order mark), UTF-16,
/// else Windows-1252.
pub(crate) fn head_text(head: &[u8]) -> String {
    let encoding = match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, _)) => encoding,
        None => match utf16_without_bom(head) {
            Some(encoding) => encoding.encoding(),
            None if std::str::from_utf8(head).is_ok()
                || std::str::from_utf8(head).is_err_and(|e| e.error_len().is_none()) =>
            {
                encoding_rs::UTF_8
            }
            None => encoding_rs::WINDOWS_1252,
        },
    };
    encoding.decode(head).0.into_owned()
}

/// Whether one of the first lines of `head` is a delimited header holding every one of
/// `wanted` (as [`header_key`]s).
pub(crate) fn head_has_header(head: &[u8], wanted: &[&str]) -> bool {
    let text = head_text(head);
    if text.contains('\0') {
        return false;
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(5)
        .collect();
    let delimiter = detect_delimiter(&lines.join("\n"));
    lines.iter().any(|line| {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(line.as_bytes());
        let Some(Ok(record)) = reader.records().next() else {
            return false;
        };
        let keys: Vec<String> = record.iter().map(header_key).collect();
        wanted.iter().all(|w| keys.iter().any(|k| k == w))
    })
}

/// The confidence for a CSV header holding `wanted`: 95, else 0.
pub(crate) fn sniff_header(head: &[u8], wanted: &[&str]) -> Confidence {
    if head_has_header(head, wanted) {
        Confidence::new(95)
    } else {
        Confidence::NONE
    }
}

/// Refuses options: the Comtrade importers take none. A mapping file's `source` and
/// `importer`, which the hub reads, are let through.
pub(crate) fn check_options(options: &Value, importer: &str) -> Result<(), ImportError> {
    match options {
        Value::Null => Ok(()),
        Value::Object(map) if map.keys().all(|k| k == "source" || k == "importer") => Ok(()),
        _ => Err(ImportError::new(format!(
            "the importer {importer} takes no options or mapping file (its columns are fixed)"
        ))),
    }
}

/// The columns of a format found in a header: the column index of each field, and the
/// header as written (the field's own name when the column is absent).
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub index: Vec<Option<usize>>,
    pub written: Vec<String>,
}

impl Layout {
    /// Finds each of `fields` (names as the format's documentation writes them) in the
    /// header, by [`header_key`].
    pub fn find(header: &Header, fields: &[&str]) -> Self {
        let keys: Vec<String> = header
            .columns
            .iter()
            .map(|c| {
                header_key(if c.original.is_empty() {
                    &c.name
                } else {
                    &c.original
                })
            })
            .collect();
        let mut index = Vec::with_capacity(fields.len());
        let mut written = Vec::with_capacity(fields.len());
        for field in fields {
            let key = header_key(field);
            let found = keys.iter().position(|k| *k == key);
            index.push(found);
            written.push(found.map_or_else(
                || (*field).to_owned(),
                |i| {
                    let c = &header.columns[i];
                    if c.original.is_empty() {
                        c.name.clone()
                    } else {
                        c.original.trim().to_owned()
                    }
                },
            ));
        }
        Self { index, written }
    }

    /// Whether the field at `i` has a column.
    pub fn has(&self, i: usize) -> bool {
        self.index[i].is_some()
    }

    /// The `Item::Columns` declaration: `trade_flow.<record field>` → the header, for the
    /// pairs (field index, record field) whose column the file has.
    pub fn columns_item(&self, pairs: &[(usize, &str)]) -> Item {
        Item::columns(
            None,
            pairs
                .iter()
                .filter(|(i, _)| self.has(*i))
                .map(|(i, field)| (format!("trade_flow.{field}"), self.written[*i].clone())),
        )
    }
}

/// The error for a file that is not of the format: `this is not a <format> file: missing
/// column(s) …`.
pub(crate) fn not_the_format(format: &str, missing: &[&str], what: &str) -> ImportError {
    let plural = if missing.len() == 1 { "" } else { "s" };
    ImportError::new(format!(
        "this is not a {format} file: missing {what}{plural} {}",
        missing.join(", ")
    ))
}

/// Opens a CSV file through the spreadsheet reading layer (encoding and delimiter
/// detected, streamed) and finds its header; a file without a header row is not of the
/// format, and says which columns it lacks.
pub(crate) fn open_csv(
    path: &Path,
    file_name: &str,
    format: &str,
    required: &[&str],
) -> Result<WithHeader<CsvSource>, ImportError> {
    let source = CsvSource::open(path, file_name, CsvOptions::default())?;
    WithHeader::new(source).map_err(|e: ReadError| {
        if e.message().contains("no header row") {
            let mut error = not_the_format(format, required, "column");
            error.source_ref = Some(SourceRef::new(file_name));
            error
        } else {
            e.into()
        }
    })
}

/// Turns one row's cells into its items.
pub(crate) type ConvertRow = fn(&[Cell<'_>], SourceRef, &mut Vec<Item>);

/// A CSV file's trade flows, read row by row: only the current row and the items of the
/// current batch are in memory.
pub(crate) struct CsvFlows {
    rows: WithHeader<CsvSource>,
    layout: Layout,
    convert: ConvertRow,
    pending: VecDeque<Item>,
    error: Option<ImportError>,
    done: bool,
}

impl CsvFlows {
    /// A stream that starts with `first` (the columns declaration, logs) and then gives
    /// each data row's items.
    pub fn new(
        rows: WithHeader<CsvSource>,
        layout: Layout,
        convert: ConvertRow,
        first: Vec<Item>,
    ) -> Self {
        Self {
            rows,
            layout,
            convert,
            pending: first.into(),
            error: None,
            done: false,
        }
    }

    /// Reads the next data row into `pending`; `false` at the end or on an error.
    fn read_row(&mut self) -> bool {
        let row = match self.rows.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return false,
            Err(e) => {
                self.error = Some(e.into());
                return false;
            }
        };
        let cells: Vec<Cell<'_>> = self
            .layout
            .index
            .iter()
            .zip(&self.layout.written)
            .map(|(index, written)| Cell {
                val: index.and_then(|i| row.cell(i).as_text()).map(Val::Text),
                column: written,
            })
            .collect();
        let at = SourceRef::row(self.rows.file(), row.number);
        if let Some(error) = row.problem_error(self.rows.file(), None, |c| {
            self.rows
                .header()
                .column_name(c)
                .map_or_else(|| crate::spreadsheet::column_letter(c), str::to_owned)
        }) {
            self.pending.push_back(Item::RowError(error));
            return true;
        }
        let mut items = Vec::with_capacity(1);
        (self.convert)(&cells, at, &mut items);
        self.pending.extend(items);
        true
    }
}

impl RecordStream for CsvFlows {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(1024));
        while batch.len() < max {
            if let Some(item) = self.pending.pop_front() {
                batch.push(item);
            } else if self.done || !self.read_row() {
                self.done = true;
                break;
            }
        }
        if batch.is_empty() {
            return match self.error.take() {
                Some(error) => Err(error),
                None => Ok(None),
            };
        }
        Ok(Some(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_years_or_months_the_hub_reads_one_way() {
        let cases = [
            ("2019", "2019"),
            ("201903", "2019-03"),
            (" 201712 ", "2017-12"),
            ("201112", "2011-M12"),
            ("200001", "2000-M01"),
            ("201913", "201913"),
            ("2019-03", "2019-03"),
            ("", ""),
        ];
        for (code, expected) in cases {
            assert_eq!(period_code(code), expected, "{code:?}");
        }
    }

    #[test]
    fn header_keys_ignore_case_spacing_and_punctuation() {
        assert_eq!(header_key("Trade Value (US$)"), "tradevalueus");
        assert_eq!(header_key("TradeValueUS"), "tradevalueus");
        assert_eq!(header_key("cifValue"), header_key("cifvalue"));
        assert_eq!(header_key("Customs Proc. Code"), "customsproccode");
    }

    #[test]
    fn booleans_and_numbers_as_comtrade_writes_them() {
        let mut reader = RowReader::new(SourceRef::row("f.csv", 2));
        let cell = |text| Cell {
            val: Some(Val::Text(text)),
            column: "col",
        };
        for (text, expected) in [("True", true), ("false", false), ("1", true), ("0", false)] {
            assert_eq!(reader.boolean(cell(text), "flag"), expected, "{text}");
        }
        assert!(reader.boolean(
            Cell {
                val: Some(Val::Bool(true)),
                column: "c"
            },
            "flag"
        ));
        assert!(reader.errors.is_empty());
        assert!(!reader.boolean(cell("maybe"), "flag"));
        assert_eq!(reader.number(cell("1.5E3"), "value"), Some(1500.0));
        assert_eq!(reader.number(cell(" "), "value"), None);
        assert_eq!(reader.errors.len(), 1);
        assert_eq!(reader.number(cell("n/a"), "value"), None);
        let codes: Vec<_> = reader.errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, [codes::INVALID_VALUE, codes::INVALID_NUMBER]);
        assert_eq!(
            reader.errors[1].source_ref.to_string(),
            "f.csv!R2!C:col",
            "the error names the column"
        );
        assert_eq!(format_number(586.0), "586");
        assert_eq!(format_number(1.25), "1.25");
    }
}
