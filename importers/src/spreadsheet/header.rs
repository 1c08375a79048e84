//! Finding the header row below title rows, and naming the columns.

use std::collections::VecDeque;

use super::{Cell, ReadError, Row, RowSource, column_letter};

/// How many rows from the top the header row is looked for in.
pub const HEADER_SEARCH_ROWS: usize = 30;

/// The header of a sheet: where it is and the names of its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The row number of the (first) header row.
    pub row: u64,
    /// The row number of the last header row: the same as `row`, or the sub-header row
    /// under merged parent headers. Data starts below it.
    pub last_row: u64,
    /// The columns, from column A on.
    pub columns: Vec<HeaderColumn>,
}

/// One column of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderColumn {
    /// The 0-based column index.
    pub index: usize,
    /// The normalised name (see [`normalise_header`]); the column letter when the header
    /// cell is empty.
    pub name: String,
    /// The name as written in the file (parent and child joined with ` / `); empty when
    /// the header cell is empty.
    pub original: String,
}

/// Normalises a header name: trims it, collapses runs of whitespace (line breaks inside
/// a cell included) to one space, and strips trailing `.` and `:` (`"Total  Employees:"`
/// becomes `"Total Employees"`). Case is kept.
#[must_use]
pub fn normalise_header(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.trim_end_matches(['.', ':', ' ']).to_owned()
}

fn non_empty(row: &Row) -> usize {
    row.cells.iter().filter(|c| !c.is_empty()).count()
}

fn text_cells(row: &Row) -> usize {
    row.cells
        .iter()
        .filter(|c| matches!(c, Cell::Text(_)))
        .count()
}

/// Tells whether a row looks like a header: at least two text cells, more text cells
/// than cells of other types, and at least two different values (a title merged across
/// the table's width repeats one value in every cell).
fn header_like(row: &Row) -> bool {
    let text = text_cells(row);
    let mut values = row.cells.iter().filter(|c| !c.is_empty());
    let first = values.next();
    let varied = values.any(|c| Some(c) != first);
    text >= 2 && text * 2 > non_empty(row) && varied
}

/// Tells whether a row has a run of two or more equal, adjacent, non-empty cells: the
/// trace of a merged cell filled across its span.
fn has_merged_run(row: &Row) -> bool {
    row.cells
        .windows(2)
        .any(|pair| !pair[0].is_empty() && pair[0] == pair[1])
}

/// Finds the header among the first rows of a sheet (the rows a [`super::RowSource`]
/// gave, empty rows already skipped).
///
/// The header row is the first of the first [`HEADER_SEARCH_ROWS`] rows that has at least
/// two text cells, more text cells than other cells, two different values, and a row after it with at least two
/// values (a data row). Title rows above it, which fill only their first cell ("Punjab
/// Industrial Cluster Development Initiative - Diagnostic Survey 2023") or repeat one
/// value across a merged title, are skipped.
///
/// **Two-row headers.** When the header row has merged cells (seen as a run of equal
/// adjacent cells, since merged cells are filled across their span) and the row right
/// below it is header-like too and has values under such a run, that row is a sub-header.
/// Each column is then named `Parent / Child` (`Employees / Male`, `Employees / Female`);
/// a column with only one of the two, or the same value in both (a cell merged down
/// over both rows), takes that one name.
///
/// Returns `None` when no row qualifies.
#[must_use]
pub fn detect_header(rows: &[Row]) -> Option<Header> {
    let search = &rows[..rows.len().min(HEADER_SEARCH_ROWS)];
    let at = search.iter().enumerate().position(|(i, row)| {
        header_like(row) && rows.get(i + 1).is_none_or(|next| non_empty(next) >= 2)
    })?;
    let parent = &rows[at];
    let child = rows.get(at + 1).filter(|child| {
        has_merged_run(parent)
            && header_like(child)
            && child.number == parent.number + 1
            && child
                .cells
                .iter()
                .all(|c| matches!(c, Cell::Text(_) | Cell::Empty))
            && rows.get(at + 2).is_some_and(|data| non_empty(data) >= 2)
    });
    let width = parent.cells.len().max(child.map_or(0, |c| c.cells.len()));
    let columns = (0..width)
        .map(|index| {
            let top = parent.cell(index).to_text();
            let below = child.map(|c| c.cell(index).to_text()).unwrap_or_default();
            let (original, name) = match (top.is_empty(), below.is_empty()) {
                (false, false) if normalise_header(&top) != normalise_header(&below) => (
                    format!("{top} / {below}"),
                    format!("{} / {}", normalise_header(&top), normalise_header(&below)),
                ),
                (false, _) => (top.clone(), normalise_header(&top)),
                (true, false) => (below.clone(), normalise_header(&below)),
                (true, true) => (String::new(), String::new()),
            };
            let name = if name.is_empty() {
                column_letter(index)
            } else {
                name
            };
            HeaderColumn {
                index,
                name,
                original,
            }
        })
        .collect();
    Some(Header {
        row: parent.number,
        last_row: child.map_or(parent.number, |c| c.number),
        columns,
    })
}

impl Header {
    /// The name of the 0-based column, if the header has it.
    #[must_use]
    pub fn column_name(&self, index: usize) -> Option<&str> {
        self.columns.get(index).map(|c| c.name.as_str())
    }

    /// The 0-based index of the column whose normalised name equals `name`, ignoring case
    /// and differences of spacing and trailing punctuation.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<usize> {
        let wanted = normalise_header(name).to_lowercase();
        self.columns
            .iter()
            .position(|c| c.name.to_lowercase() == wanted)
    }
}

/// A row source with its header found: it yields the data rows below the header.
///
/// It reads the first [`HEADER_SEARCH_ROWS`] non-empty rows to find the header (see
/// [`detect_header`]), keeps the data rows among them, and then passes the source's rows
/// through one by one, so a streamed CSV file stays streamed.
#[derive(Debug)]
pub struct WithHeader<S> {
    source: S,
    header: Header,
    buffered: VecDeque<Row>,
}

impl<S: RowSource> WithHeader<S> {
    /// Finds the header of `source`. A source without a recognisable header row in its
    /// first rows (or with no rows at all) is an error naming the file and sheet.
    pub fn new(mut source: S) -> Result<Self, ReadError> {
        let mut rows = Vec::with_capacity(HEADER_SEARCH_ROWS + 2);
        // Two rows more than the search window, to see the rows after a late header.
        while rows.len() < HEADER_SEARCH_ROWS + 2 {
            match source.next_row()? {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        if detect_header(&rows).is_none() {
            // A row that could not be read is the likelier cause.
            for row in &rows {
                row.readable(source.file(), source.sheet())?;
            }
        }
        let header = detect_header(&rows).ok_or_else(|| {
            let message = if rows.is_empty() {
                "the sheet holds no rows".to_owned()
            } else {
                format!(
                    "no header row found in the first {HEADER_SEARCH_ROWS} rows: a header row \
                     has at least two column names above rows of data"
                )
            };
            ReadError::file(source.file(), message).in_sheet(source.sheet())
        })?;
        for row in rows.iter().filter(|r| r.number <= header.last_row) {
            row.readable(source.file(), source.sheet())?;
        }
        let buffered = rows
            .into_iter()
            .filter(|row| row.number > header.last_row)
            .collect();
        Ok(Self {
            source,
            header,
            buffered,
        })
    }

    /// The header found.
    #[must_use]
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// An error about one cell of a data row, naming the column by letter and header.
    #[must_use]
    pub fn cell_error(&self, row: u64, column: usize, message: impl Into<String>) -> ReadError {
        ReadError::file(self.source.file(), message)
            .in_sheet(self.source.sheet())
            .at_row(row)
            .at_column(column, self.header.column_name(column))
    }
}

impl<S: RowSource> RowSource for WithHeader<S> {
    fn file(&self) -> &str {
        self.source.file()
    }

    fn sheet(&self) -> Option<&str> {
        self.source.sheet()
    }

    fn next_row(&mut self) -> Result<Option<Row>, ReadError> {
        match self.buffered.pop_front() {
            Some(row) => Ok(Some(row)),
            None => self.source.next_row(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: u64, cells: &[&str]) -> Row {
        Row::new(
            number,
            cells
                .iter()
                .map(|c| {
                    c.parse::<f64>()
                        .map_or_else(|_| Cell::text(c), Cell::Number)
                })
                .collect(),
        )
    }

    #[test]
    fn header_names_are_normalised() {
        assert_eq!(
            normalise_header("  Total\n  Employees:  "),
            "Total Employees"
        );
        assert_eq!(normalise_header("No."), "No");
        assert_eq!(normalise_header("Name of Unit"), "Name of Unit");
    }

    #[test]
    fn the_header_is_found_below_title_rows() {
        let rows = [
            row(
                1,
                &["Punjab Industrial Cluster Development Initiative - Diagnostic Survey 2023"],
            ),
            row(2, &["Sialkot surgical cluster"]),
            row(4, &["Name of Unit", "District", "Total Employees:"]),
            row(5, &["Alpha Surgical", "Sialkot", "12"]),
        ];
        let header = detect_header(&rows).unwrap();
        assert_eq!((header.row, header.last_row), (4, 4));
        let names: Vec<_> = header.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Name of Unit", "District", "Total Employees"]);
        assert_eq!(header.columns[2].original, "Total Employees:");
        assert_eq!(detect_header(&rows[..1]), None);
    }

    #[test]
    fn merged_parents_name_their_children() {
        let rows = [
            row(3, &["Name", "Employees", "Employees", "District"]),
            row(4, &["Name", "Male", "Female", ""]),
            row(5, &["Alpha", "10", "2", "Lahore"]),
        ];
        let header = detect_header(&rows).unwrap();
        assert_eq!((header.row, header.last_row), (3, 4));
        let names: Vec<_> = header.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["Name", "Employees / Male", "Employees / Female", "District"]
        );

        // Without a merge, a text row under the header is data.
        let plain = [row(1, &["Name", "District"]), row(2, &["Alpha", "Lahore"])];
        assert_eq!(detect_header(&plain).unwrap().last_row, 1);
    }
}
