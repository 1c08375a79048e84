//! Reading the demo workbooks: sheets found by name, header rows found by their headers,
//! cells read as text, numbers or dates.
//!
//! Agency workbooks put title rows above the header row and mix cell types (a turnover
//! typed as text with thousands separators next to one stored as a number), so columns are
//! located by header name, never by position, and every accessor accepts both forms.

use std::collections::HashMap;
use std::io::Cursor;

use anyhow::Context as _;
use calamine::{Data, Range, Reader as _, Xlsx, open_workbook_from_rs};
use chrono::NaiveDate;

use super::values::{parse_date, parse_number};

/// How many rows above the header row a sheet may have (titles, notes).
const MAX_TITLE_ROWS: usize = 10;

/// A workbook read from embedded bytes.
pub(super) struct Workbook {
    inner: Xlsx<Cursor<&'static [u8]>>,
    file: &'static str,
}

impl Workbook {
    pub(super) fn open(bytes: &'static [u8], file: &'static str) -> anyhow::Result<Self> {
        let inner = open_workbook_from_rs(Cursor::new(bytes))
            .with_context(|| format!("{file}: not a readable XLSX workbook"))?;
        Ok(Workbook { inner, file })
    }

    pub(super) fn sheet_names(&self) -> Vec<String> {
        self.inner.sheet_names()
    }

    /// Reads a sheet whose header row holds all of `headers` (compared without regard to
    /// case and spacing), within the first rows of the sheet.
    pub(super) fn sheet(&mut self, name: &str, headers: &[&str]) -> anyhow::Result<Sheet> {
        let range = self
            .inner
            .worksheet_range(name)
            .with_context(|| format!("{}: no sheet named {name}", self.file))?;
        let wanted: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        for (i, cells) in range.rows().take(MAX_TITLE_ROWS).enumerate() {
            let columns: HashMap<String, usize> = cells
                .iter()
                .enumerate()
                .filter_map(|(c, cell)| cell_text(cell).map(|t| (header_key(&t), c)))
                .collect();
            if wanted.iter().all(|h| columns.contains_key(h)) {
                let first_row = range.start().map_or(0, |(r, _)| r as usize);
                return Ok(Sheet {
                    name: name.to_owned(),
                    range,
                    header_index: i,
                    first_row,
                    columns,
                });
            }
        }
        anyhow::bail!(
            "{}!{name}: no header row with the columns {}",
            self.file,
            headers.join(", ")
        )
    }
}

/// A sheet with a located header row.
pub(super) struct Sheet {
    pub(super) name: String,
    range: Range<Data>,
    /// The header row, relative to the start of the used range.
    header_index: usize,
    /// The absolute (0-based) row where the used range starts.
    first_row: usize,
    columns: HashMap<String, usize>,
}

impl Sheet {
    /// The data rows below the header row, skipping rows without any value.
    pub(super) fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.range
            .rows()
            .enumerate()
            .skip(self.header_index + 1)
            .filter(|(_, cells)| cells.iter().any(|c| cell_text(c).is_some()))
            .map(|(i, cells)| Row {
                number: (self.first_row + i + 1) as u64,
                cells,
                columns: &self.columns,
            })
    }
}

/// One data row of a sheet.
pub(super) struct Row<'a> {
    /// The row number as a spreadsheet shows it (1-based).
    pub(super) number: u64,
    cells: &'a [Data],
    columns: &'a HashMap<String, usize>,
}

/// A cell that holds something other than the expected kind of value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unreadable;

impl Row<'_> {
    fn cell(&self, header: &str) -> &Data {
        self.columns
            .get(&header_key(header))
            .and_then(|&c| self.cells.get(c))
            .unwrap_or(&Data::Empty)
    }

    /// The cell as trimmed text; numbers are written without a fraction when whole.
    pub(super) fn text(&self, header: &str) -> Option<String> {
        cell_text(self.cell(header))
    }

    /// The cell as a number: a numeric cell, or text such as `12,500,000`.
    pub(super) fn number(&self, header: &str) -> Result<Option<f64>, Unreadable> {
        match self.cell(header) {
            Data::Int(n) => Ok(Some(*n as f64)),
            Data::Float(n) => Ok(Some(*n)),
            Data::String(s) if s.trim().is_empty() => Ok(None),
            Data::String(s) => parse_number(s).map(Some).ok_or(Unreadable),
            Data::Empty => Ok(None),
            _ => Err(Unreadable),
        }
    }

    /// The cell as a date: a date cell, an Excel serial number, or text `dd/mm/yyyy`.
    pub(super) fn date(&self, header: &str) -> Result<Option<NaiveDate>, Unreadable> {
        match self.cell(header) {
            Data::DateTime(dt) => {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
                    .map(Some)
                    .ok_or(Unreadable)
            }
            Data::Float(serial) => excel_serial(*serial).map(Some).ok_or(Unreadable),
            Data::Int(serial) => excel_serial(*serial as f64).map(Some).ok_or(Unreadable),
            Data::DateTimeIso(s) => s.get(..10).and_then(parse_date).map(Some).ok_or(Unreadable),
            Data::String(s) if s.trim().is_empty() => Ok(None),
            Data::String(s) => parse_date(s).map(Some).ok_or(Unreadable),
            Data::Empty => Ok(None),
            _ => Err(Unreadable),
        }
    }
}

/// Headers compared without regard to case and spacing.
fn header_key(header: &str) -> String {
    header
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A cell as trimmed text, `None` when empty.
fn cell_text(cell: &Data) -> Option<String> {
    let text = match cell {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) => s.trim().to_owned(),
        Data::Float(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
        Data::Float(n) => n.to_string(),
        Data::Int(n) => n.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    };
    (!text.is_empty()).then_some(text)
}

/// The date of an Excel serial number (1900 date system; serials after February 1900, so
/// the leap-year bug of 1900 does not matter).
fn excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(serial as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials() {
        assert_eq!(excel_serial(45_000.0), NaiveDate::from_ymd_opt(2023, 3, 15));
        assert_eq!(
            excel_serial(45_000.75),
            NaiveDate::from_ymd_opt(2023, 3, 15)
        );
        assert_eq!(excel_serial(-1.0), None);
    }

    #[test]
    fn headers_and_cells() {
        assert_eq!(
            header_key("  Annual  Turnover (PKR) "),
            "annual turnover (pkr)"
        );
        assert_eq!(
            cell_text(&Data::Float(7216769.0)).as_deref(),
            Some("7216769")
        );
        assert_eq!(cell_text(&Data::Float(2.5)).as_deref(), Some("2.5"));
        assert_eq!(cell_text(&Data::String("  ".into())), None);
    }
}
