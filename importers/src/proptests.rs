//! Property tests of the readers hostile files reach first: the CSV reader (any bytes read
//! without a panic, within the bounds, at true row numbers; well-formed CSV reads back
//! exactly) and the spreadsheet planner (any header and rows plan and convert, or fail with
//! an error naming the file, never a panic).
//!
//! Each runs for a time budget rather than a number of cases: `HUB_PROPTEST_SECONDS`
//! (default 3; CI runs 20 s each), as the hub's own property tests do. Failures are
//! kept, shrunk, in `importers/src/proptests.proptest-regressions` and replayed first on
//! every later run: that file is the corpus.

use crate::proptest_support;
use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{Input, Item, read_all};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::limits::{self, ReadLimits};
use crate::spreadsheet::{
    CsvOptions, RowSource, SYNONYMS, SpreadsheetFile, SpreadsheetImporter, open_file,
};

/// Runs `test` on values of `strategy` for the time budget, replaying this file's
/// stored failures first.
fn run_for<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    proptest_support::run_for(file!(), strategy, test);
}

const BOUNDS: ReadLimits = ReadLimits {
    max_expanded_bytes: 1 << 20,
    max_rows_per_sheet: 200,
    max_field_bytes: 40,
    max_line_bytes: 120,
};

/// Pieces of text files as they come: fields, delimiters, quotes, every kind of line end,
/// bytes that are not UTF-8, a byte-order mark.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ]{0,12}".prop_map(String::into_bytes),
        2 => prop_oneof![Just(b",".to_vec()), Just(b";".to_vec()), Just(b"\t".to_vec()), Just(b"|".to_vec())],
        2 => prop_oneof![Just(b"\n".to_vec()), Just(b"\r\n".to_vec()), Just(b"\r".to_vec())],
        1 => prop_oneof![Just(b"\"".to_vec()), Just(b"\"\"".to_vec())],
        1 => prop_oneof![Just("é".as_bytes().to_vec()), Just(b"\xE9".to_vec()), Just(b"\xC3".to_vec()), Just("ٹ".as_bytes().to_vec())],
        1 => prop_oneof![Just(b"\xEF\xBB\xBF".to_vec()), Just(b"\0".to_vec()), Just(b"\xFF\xFE".to_vec())],
        1 => (1usize..200).prop_map(|n| vec![b'x'; n]),
    ]
}

fn text_file() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(piece(), 0..120).prop_map(|pieces| pieces.concat())
}

#[test]
fn any_text_file_reads_within_the_bounds_or_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.csv");
    run_for(text_file(), |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        limits::scoped(BOUNDS, || {
            let Ok(SpreadsheetFile::Csv(mut source)) =
                open_file(&path, "input.csv", CsvOptions::default())
            else {
                return Ok(());
            };
            let mut last = 0;
            let mut rows = 0;
            loop {
                let row = match source.next_row() {
                    Ok(Some(row)) => row,
                    Ok(None) => break,
                    Err(error) => {
                        prop_assert_eq!(error.file_name(), "input.csv");
                        break;
                    }
                };
                rows += 1;
                prop_assert!(
                    row.number > last,
                    "rows in order: {} after {}",
                    row.number,
                    last
                );
                last = row.number;
                for cell in &row.cells {
                    prop_assert!(cell.text_len() <= BOUNDS.max_field_bytes);
                }
                let total: usize = row
                    .cells
                    .iter()
                    .map(crate::spreadsheet::Cell::text_len)
                    .sum();
                prop_assert!(total <= BOUNDS.max_line_bytes + 1, "{total} bytes in a row");
            }
            prop_assert!(rows <= BOUNDS.max_rows_per_sheet);
            Ok(())
        })
    });
}

/// Well-formed CSV of plain text: rows of fields that may hold delimiters, quotes and line
/// breaks.
fn table() -> impl Strategy<Value = Vec<Vec<String>>> {
    let field = prop_oneof![
        4 => "[a-zA-Z0-9]([a-zA-Z0-9 ]{0,8}[a-zA-Z0-9])?",
        1 => Just("Lahore, Punjab".to_owned()),
        1 => Just("5\" pipe".to_owned()),
        1 => Just("two\nlines".to_owned()),
        1 => Just("Café ٹ".to_owned()),
    ];
    proptest::collection::vec(proptest::collection::vec(field, 3), 1..40)
}

#[test]
fn well_formed_csv_reads_back_exactly_at_its_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.csv");
    run_for((table(), any::<bool>()), |(rows, crlf)| {
        let mut writer = csv::WriterBuilder::new()
            .terminator(if crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        let mut lines = Vec::new();
        let mut line = 1u64;
        for row in &rows {
            lines.push(line);
            writer.write_record(row).unwrap();
            line += 1 + row
                .iter()
                .map(|f| f.matches('\n').count() as u64)
                .sum::<u64>();
        }
        let bytes = writer.into_inner().unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let Ok(SpreadsheetFile::Csv(mut source)) = open_file(
            &path,
            "table.csv",
            CsvOptions {
                encoding: None,
                delimiter: Some(b','),
            },
        ) else {
            return Err(TestCaseError::fail("a well-formed file did not open"));
        };
        for (row, line) in rows.iter().zip(&lines) {
            let read = source.next_row().unwrap().unwrap();
            prop_assert_eq!(read.number, *line);
            prop_assert!(read.problem.is_none());
            let texts: Vec<String> = read
                .cells
                .iter()
                .map(crate::spreadsheet::Cell::to_text)
                .collect();
            let expected: Vec<String> = row.iter().map(|f| f.replace("\r\n", "\n")).collect();
            prop_assert_eq!(texts, expected);
        }
        prop_assert!(source.next_row().unwrap().is_none());
        Ok(())
    });
}

/// A header cell: a known synonym of some field, or anything.
fn header_cell() -> impl Strategy<Value = String> {
    let known: Vec<String> = SYNONYMS
        .iter()
        .flat_map(|(_, names)| names.iter().map(|n| (*n).to_owned()))
        .collect();
    prop_oneof![
        3 => proptest::sample::select(known),
        1 => "[a-zA-Z #()./-]{0,16}",
        1 => Just(String::new()),
    ]
}

fn value_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z ]{0,10}",
        "[0-9]{1,9}",
        "[0-9]{7}-[0-9]",
        Just("2023-03-31".to_owned()),
        Just("31/03/2023".to_owned()),
        Just("1,234.5".to_owned()),
        Just("Lahore".to_owned()),
        Just("sialkot-surgical".to_owned()),
        Just("F".to_owned()),
        Just(String::new()),
    ]
}

#[test]
fn any_sheet_plans_and_converts_or_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.csv");
    let sheet = (1usize..8).prop_flat_map(|width| {
        (
            proptest::collection::vec(header_cell(), width),
            proptest::collection::vec(proptest::collection::vec(value_cell(), width), 0..12),
        )
    });
    run_for(sheet, |(header, rows)| {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&header).unwrap();
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
        let result = read_all(
            &mut SpreadsheetImporter::new(),
            Input::new(&path),
            &Value::Null,
            50,
        );
        match result {
            Ok(items) => {
                let last = rows.len() as u64 + 1;
                for item in &items {
                    if let Item::RowError(error) = item {
                        prop_assert_eq!(&error.source_ref.file, "sheet.csv");
                        prop_assert!(error.source_ref.row.is_none_or(|r| (2..=last).contains(&r)));
                    }
                }
            }
            Err(error) => {
                let text = error.to_string();
                prop_assert!(text.contains("sheet.csv"), "{}", text);
            }
        }
        Ok(())
    });
}
