//! The error of the reading layer, naming the file, sheet, row and column.

use std::fmt;

use hub_plugin_sdk::{ImportError, SourceRef};

/// A failure to read a spreadsheet or text file, with the place it concerns.
///
/// Its [`Display`](fmt::Display) names the place the way a user finds it in their
/// spreadsheet tool: `firms.xlsx, sheet Firms, row 12, column D (Total Employees): …`.
/// Parts that are not known are left out, so an error about the whole file reads
/// `firms.xlsx: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(Box<Details>);

/// The parts of a [`ReadError`], boxed so that results stay small.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    file: String,
    sheet: Option<String>,
    row: Option<u64>,
    column: Option<usize>,
    column_name: Option<String>,
    message: String,
}

impl ReadError {
    /// An error about the file as a whole.
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self(Box::new(Details {
            file: file.into(),
            sheet: None,
            row: None,
            column: None,
            column_name: None,
            message: message.into(),
        }))
    }

    /// The file's name as the user knows it.
    #[must_use]
    pub fn file_name(&self) -> &str {
        &self.0.file
    }

    /// The worksheet, for workbooks.
    #[must_use]
    pub fn sheet(&self) -> Option<&str> {
        self.0.sheet.as_deref()
    }

    /// The 1-based row (or CSV line) number.
    #[must_use]
    pub fn row(&self) -> Option<u64> {
        self.0.row
    }

    /// The 0-based column index; shown as a letter (`A`, `B`, … `AA`).
    #[must_use]
    pub fn column(&self) -> Option<usize> {
        self.0.column
    }

    /// The column's header, when the header row is known.
    #[must_use]
    pub fn column_name(&self) -> Option<&str> {
        self.0.column_name.as_deref()
    }

    /// What went wrong, as a sentence for the user.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The same error within the named sheet.
    #[must_use]
    pub fn in_sheet(mut self, sheet: Option<&str>) -> Self {
        self.0.sheet = sheet.map(str::to_owned);
        self
    }

    /// The same error at the given 1-based row.
    #[must_use]
    pub fn at_row(mut self, row: u64) -> Self {
        self.0.row = Some(row);
        self
    }

    /// The same error at the given 0-based column, with its header when known.
    #[must_use]
    pub fn at_column(mut self, column: usize, name: Option<&str>) -> Self {
        self.0.column = Some(column);
        self.0.column_name = name.map(str::to_owned);
        self
    }

    /// The place of the error as the SDK's [`SourceRef`]; its column is the header when
    /// known and the column letter otherwise.
    #[must_use]
    pub fn source_ref(&self) -> SourceRef {
        let d = &self.0;
        SourceRef {
            file: d.file.clone(),
            sheet: d.sheet.clone(),
            row: d.row,
            column: d
                .column_name
                .clone()
                .or_else(|| d.column.map(column_letter)),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        f.write_str(&d.file)?;
        if let Some(sheet) = &d.sheet {
            write!(f, ", sheet {sheet}")?;
        }
        if let Some(row) = d.row {
            write!(f, ", row {row}")?;
        }
        if let Some(column) = d.column {
            write!(f, ", column {}", column_letter(column))?;
            if let Some(name) = &d.column_name {
                write!(f, " ({name})")?;
            }
        }
        write!(f, ": {}", d.message)
    }
}

impl std::error::Error for ReadError {}

/// A read error becomes the SDK's file-level [`ImportError`], keeping its place.
impl From<ReadError> for ImportError {
    fn from(error: ReadError) -> Self {
        ImportError::at(error.source_ref(), error.0.message)
    }
}

/// The spreadsheet letter of a 0-based column index: 0 is `A`, 25 is `Z`, 26 is `AA`.
#[must_use]
pub fn column_letter(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + u8::try_from(rem).unwrap_or(0));
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        let cases = [
            (0, "A"),
            (3, "D"),
            (25, "Z"),
            (26, "AA"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
        ];
        for (index, letter) in cases {
            assert_eq!(column_letter(index), letter);
        }
    }

    #[test]
    fn display_names_each_known_part() {
        let error = ReadError::file("firms.xlsx", "not a number")
            .in_sheet(Some("Firms"))
            .at_row(12)
            .at_column(3, Some("Total Employees"));
        assert_eq!(
            error.to_string(),
            "firms.xlsx, sheet Firms, row 12, column D (Total Employees): not a number"
        );
        assert_eq!(
            error.source_ref().to_string(),
            "firms.xlsx!Firms!R12!C:Total Employees"
        );
        assert_eq!(
            ReadError::file("a.csv", "empty").to_string(),
            "a.csv: empty"
        );
        let import: ImportError = ReadError::file("a.csv", "x")
            .at_row(2)
            .at_column(0, None)
            .into();
        assert_eq!(import.to_string(), "a.csv!R2!C:A: x");
    }
}
