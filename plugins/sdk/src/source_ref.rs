//! Where in the input a record or a row error comes from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A position in an input file: the file, and as far as the source has them a sheet, a row
/// and a column.
///
/// Every record and every row error carries one, so that a user can find the cell a value
/// came from, and the hub stores it as provenance (the `source_ref` column of every data
/// row and the file, sheet, row and column of `import_row_errors`).
///
/// - `file` is the input's file name as the user knows it ([`crate::Input::file_name`]),
///   not a temporary path.
/// - `sheet` names a part of the file: a worksheet of a workbook, a dataset or series of an
///   SDMX message. Files with one part leave it `None`.
/// - `row` is 1-based and counts as the user's tool does: the spreadsheet row number or the
///   CSV line number, header included (the first data row under a header is row 2); in a
///   JSON array, the element's position counted from 1.
/// - `column` is the column's header as written in the file, or its letter when the file
///   has no header row. Records usually leave it `None` (they span the row); row errors
///   about one cell set it.
///
/// # Display
///
/// The parts are joined with `!`, the row marked `R` and the column `C:`, so that a missing
/// sheet cannot be mistaken for a row:
///
/// ```
/// # use hub_plugin_sdk::SourceRef;
/// let cell = SourceRef::cell("firms.xlsx", "Firms", 12, "Name of Unit");
/// assert_eq!(cell.to_string(), "firms.xlsx!Firms!R12!C:Name of Unit");
/// assert_eq!(SourceRef::row("units.csv", 7).to_string(), "units.csv!R7");
/// assert_eq!(SourceRef::new("flows.json").to_string(), "flows.json");
/// ```
///
/// The form is for people to read; it is not parsed back. Programs use the fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    /// The input's file name.
    pub file: String,
    /// The worksheet or other named part of the file, if it has several.
    pub sheet: Option<String>,
    /// The 1-based row or line number, header included.
    pub row: Option<u64>,
    /// The column header (or letter) of the cell concerned.
    pub column: Option<String>,
}

impl SourceRef {
    /// A reference to a whole file, e.g. for a file-level error.
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            sheet: None,
            row: None,
            column: None,
        }
    }

    /// A reference to a row of a file with a single part, such as a CSV line.
    pub fn row(file: impl Into<String>, row: u64) -> Self {
        Self::new(file).with_row(row)
    }

    /// A reference to one cell of a worksheet.
    pub fn cell(
        file: impl Into<String>,
        sheet: impl Into<String>,
        row: u64,
        column: impl Into<String>,
    ) -> Self {
        Self::new(file)
            .with_sheet(sheet)
            .with_row(row)
            .with_column(column)
    }

    /// The same reference within the named sheet.
    #[must_use]
    pub fn with_sheet(mut self, sheet: impl Into<String>) -> Self {
        self.sheet = Some(sheet.into());
        self
    }

    /// The same reference at the given 1-based row.
    #[must_use]
    pub fn with_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// The same reference narrowed to one column, as a row error about one cell needs.
    #[must_use]
    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, "!{sheet}")?;
        }
        if let Some(row) = self.row {
            write!(f, "!R{row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, "!C:{column}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_marks_each_part() {
        let cases = [
            (SourceRef::new("a.csv"), "a.csv"),
            (SourceRef::row("a.csv", 2), "a.csv!R2"),
            (SourceRef::new("a.csv").with_column("NTN"), "a.csv!C:NTN"),
            (SourceRef::new("b.xlsx").with_sheet("2019"), "b.xlsx!2019"),
            (
                SourceRef::new("b.xlsx").with_sheet("2019").with_row(5),
                "b.xlsx!2019!R5",
            ),
            (
                SourceRef::cell("b.xlsx", "Firms", 12, "Name of Unit"),
                "b.xlsx!Firms!R12!C:Name of Unit",
            ),
        ];
        for (source_ref, expected) in cases {
            assert_eq!(source_ref.to_string(), expected);
        }
    }
}
