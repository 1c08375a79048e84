//! Files bounded before they are expanded: values, lines and rows of CSV files, workbooks
//! that unpack or expand past the bound, and text files that mix encodings. The bounds are
//! set small for each test ([`limits::scoped`]); the real sizes are measured by
//! `tools/bench-hostile`.

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{Item, Record, Severity};

use super::importer_tests::{Files, import, records, row_errors};
use super::tests::stored_zip;
use super::*;
use crate::limits::{self, ReadLimits};

fn small(f: impl FnOnce()) {
    limits::scoped(
        ReadLimits {
            max_expanded_bytes: 1 << 20,
            max_rows_per_sheet: 1000,
            max_field_bytes: 100,
            max_line_bytes: 1000,
        },
        f,
    );
}

fn csv_rows(files: &Files, name: &str, bytes: &[u8]) -> Result<Vec<Row>, ReadError> {
    let path = files.write(name, bytes);
    let SpreadsheetFile::Csv(mut source) = open_file(&path, name, CsvOptions::default())? else {
        panic!("{name} should read as CSV");
    };
    std::iter::from_fn(|| source.next_row().transpose()).collect()
}

fn names(items: &[Item]) -> Vec<String> {
    records(items)
        .into_iter()
        .filter_map(|r| match r {
            Record::Organisation(o) => Some(o.name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_value_over_the_bound_is_a_row_error_and_the_other_rows_import() {
    small(|| {
        let files = Files::new();
        let long = "x".repeat(101);
        let csv = format!("Name,District\nAlpha,Lahore\n{long},Sialkot\nGamma,Multan\n");
        let path = files.write("firms.csv", csv.as_bytes());
        let items = import(&path, &Value::Null).unwrap();
        assert_eq!(names(&items), ["Alpha", "Gamma"]);
        let errors = row_errors(&items);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let error = errors[0];
        assert_eq!(error.code, RowProblem::VALUE_TOO_LONG);
        assert_eq!(error.source_ref.row, Some(3));
        assert_eq!(error.source_ref.column.as_deref(), Some("Name"));
        assert!(error.message.contains("101 bytes"), "{}", error.message);
        assert!(error.message.contains("import.max_field_bytes"));
        assert!(!error.message.contains(&long));

        // The same value in the header is a file error naming the row and the bound.
        let csv = format!("Name,{long}\nAlpha,Lahore\n");
        let path = files.write("header.csv", csv.as_bytes());
        let error = import(&path, &Value::Null).unwrap_err();
        assert_eq!(error.source_ref.as_ref().and_then(|r| r.row), Some(1));
        assert!(error.message.contains("import.max_field_bytes"), "{error}");
    });
}

#[test]
fn a_row_over_the_bound_is_skipped_unread_and_a_header_over_it_fails_the_file() {
    small(|| {
        let files = Files::new();
        // A header without a line end: the file is refused at row 1.
        let header = format!("Name,District,{}", "y,".repeat(5000));
        let path = files.write("header.csv", header.as_bytes());
        let error = import(&path, &Value::Null).unwrap_err();
        assert_eq!(error.source_ref.as_ref().and_then(|r| r.row), Some(1));
        assert!(error.message.contains("import.max_line_bytes"), "{error}");
        assert!(error.message.contains("1000 bytes"), "{error}");

        // A long row in the middle is a row error; the rows after it import.
        let csv = format!(
            "Name,District\nAlpha,Lahore\n{}\nGamma,Multan\n",
            "Beta,".repeat(300)
        );
        let path = files.write("middle.csv", csv.as_bytes());
        let items = import(&path, &Value::Null).unwrap();
        assert_eq!(names(&items), ["Alpha", "Gamma"]);
        let errors = row_errors(&items);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, RowProblem::ROW_TOO_LONG);
        assert_eq!(errors[0].source_ref.row, Some(3));

        // A runaway quote: cut at the row where it opens, the rest of the file with it.
        let mut csv = b"Name,District\nAlpha,Lahore\n\"Beta,Sialkot\n".to_vec();
        csv.extend("z\n".repeat(600).as_bytes());
        let rows = csv_rows(&files, "quote.csv", &csv).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].number, 3);
        assert_eq!(
            rows[2].problem.as_ref().unwrap().code,
            RowProblem::ROW_TOO_LONG
        );

        // A long quoted field followed by more rows: cut, the quote closed, rows go on.
        let csv = format!(
            "Name,Note\nAlpha,\"{}\"\nGamma,short\n",
            "note \n".repeat(300)
        );
        let rows = csv_rows(&files, "note.csv", csv.as_bytes()).unwrap();
        let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 303]);
        assert!(rows[1].problem.is_some());
        assert_eq!(rows[2].cell(0), &Cell::text("Gamma"));

        // Rows within the bound, however many; quoted line breaks count per record.
        let mut csv = b"Name,Note\n".to_vec();
        for i in 0..900 {
            csv.extend(format!("Firm {i},\"two\nlines\"\n").as_bytes());
        }
        let rows = csv_rows(&files, "many.csv", &csv).unwrap();
        assert_eq!(rows.len(), 901);
        assert_eq!(rows[900].number, 1800);
        assert!(rows.iter().all(|r| r.problem.is_none()));
    });
}

#[test]
fn more_rows_than_the_bound_is_a_file_error() {
    small(|| {
        let files = Files::new();
        let mut csv = String::from("Name,District\n");
        for i in 0..999 {
            csv.push_str(&format!("Firm {i},Lahore\n"));
        }
        assert_eq!(
            csv_rows(&files, "full.csv", csv.as_bytes()).unwrap().len(),
            1000
        );
        csv.push_str("One more,Lahore\n");
        let error = csv_rows(&files, "over.csv", csv.as_bytes()).unwrap_err();
        assert_eq!(error.row(), Some(1001));
        assert!(error.message().contains("more than 1000 rows"), "{error}");
        assert!(error.message().contains("import.max_rows_per_sheet"));
    });
}

#[test]
fn a_file_that_mixes_encodings_rejects_the_other_lines_and_says_so() {
    let files = Files::new();
    // UTF-8 throughout except one Windows-1252 byte on the last of 5,001 rows.
    let mut csv = b"Name,District\n".to_vec();
    for i in 0..4999 {
        csv.extend(format!("Caf\u{e9} Works {i},Lahore\n").as_bytes());
    }
    csv.extend(b"Caf\xE9 Last,Sialkot\n");
    let path = files.write("mixed.csv", &csv);
    let items = import(&path, &Value::Null).unwrap();
    let read = names(&items);
    assert_eq!(read.len(), 4999);
    assert!(read.iter().all(|n| n.starts_with("Café Works ")), "garbled");
    let errors = row_errors(&items);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let warning = errors
        .iter()
        .find(|e| e.severity == Severity::Warning)
        .unwrap();
    assert_eq!(warning.code, RowProblem::MIXED_ENCODING);
    assert!(
        warning.message.contains("read as UTF-8"),
        "{}",
        warning.message
    );
    assert!(warning.message.contains("1 line(s)"), "{}", warning.message);
    let error = errors
        .iter()
        .find(|e| e.severity == Severity::Error)
        .unwrap();
    assert_eq!(error.code, RowProblem::MIXED_ENCODING);
    assert_eq!(error.source_ref.row, Some(5001));
    assert_eq!(error.source_ref.column.as_deref(), Some("Name"));

    // A Windows-1252 file stays Windows-1252, without a warning.
    let path = files.write("legacy.csv", b"Name,District\nCaf\xE9 Works,Lahore\n");
    let items = import(&path, &Value::Null).unwrap();
    assert_eq!(names(&items), ["Café Works"]);
    assert!(row_errors(&items).is_empty());
}

/// A minimal XLSX of one sheet whose `<sheetData>` and `<mergeCells>` are given.
fn xlsx(sheet_data: &str, merges: &str) -> Vec<u8> {
    let content_types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Firms" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let workbook_rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData>{merges}</worksheet>"#
    );
    stored_zip(&[
        ("[Content_Types].xml", content_types.as_bytes()),
        ("_rels/.rels", rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}

fn inline(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

#[test]
fn a_workbook_that_unpacks_past_the_bound_is_refused_before_it_is_read() {
    let files = Files::new();
    let rows: String = (1..=20_000)
        .map(|r| {
            format!(
                r#"<row r="{r}">{}{}</row>"#,
                inline(&format!("A{r}"), "Sialkot Surgical Works"),
                inline(&format!("B{r}"), "Sialkot")
            )
        })
        .collect();
    let path = files.write("big.xlsx", &xlsx(&rows, ""));
    assert!(Workbook::open(&path, "big.xlsx").is_ok());
    small(|| {
        let error = Workbook::open(&path, "big.xlsx").unwrap_err();
        assert_eq!(error.row(), None);
        assert!(
            error.message().contains("unpacks to more than 1 MiB"),
            "{error}"
        );
        assert!(error.message().contains("import.max_expanded_bytes"));
        assert!(error.message().contains("xl/worksheets/sheet1.xml"));
    });
}

#[test]
fn workbook_cells_cost_what_they_hold_not_the_grid_they_span() {
    let files = Files::new();
    // Two cells at opposite corners of the largest sheet Excel allows.
    let data = format!(
        r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
        inline("A1", "Name"),
        inline("XFD1048576", "far")
    );
    let path = files.write("corners.xlsx", &xlsx(&data, ""));
    let mut book = Workbook::open(&path, "corners.xlsx").unwrap();
    let rows: Vec<Row> = {
        let mut sheet = book.sheet("Firms").unwrap();
        std::iter::from_fn(|| sheet.next_row().unwrap()).collect()
    };
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].number, 1_048_576);
    assert_eq!(rows[1].cell(16_383), &Cell::text("far"));

    // A merged region of 26 million cells copies its value into every one: refused.
    let data = format!(r#"<row r="1">{}</row>"#, inline("A1", "Lahore"));
    let path = files.write(
        "merged.xlsx",
        &xlsx(
            &data,
            r#"<mergeCells count="1"><mergeCell ref="A1:Z1000000"/></mergeCells>"#,
        ),
    );
    let mut book = Workbook::open(&path, "merged.xlsx").unwrap();
    let error = book.sheet("Firms").unwrap_err();
    assert!(
        error
            .message()
            .contains("expands to more than 256 MiB in memory"),
        "{error}"
    );
    assert_eq!(error.sheet(), Some("Firms"));

    // A row past the bound on rows.
    small(|| {
        let data = format!(r#"<row r="1001">{}</row>"#, inline("A1001", "x"));
        let path = files.write("low.xlsx", &xlsx(&data, ""));
        let mut book = Workbook::open(&path, "low.xlsx").unwrap();
        let error = book.sheet("Firms").unwrap_err();
        assert_eq!(error.row(), Some(1001));
        assert!(
            error.message().contains("import.max_rows_per_sheet"),
            "{error}"
        );
    });
}

#[test]
fn an_ods_whose_repeats_expand_past_the_bound_is_refused_before_calamine_reads_it() {
    let files = Files::new();
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>
<table:table table:name="Bomb">
<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="string" table:number-columns-repeated="1000"><text:p>x</text:p></table:table-cell></table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>"#;
    let bytes = stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ]);
    let path = files.write("bomb.ods", &bytes);
    let error = Workbook::open(&path, "bomb.ods").unwrap_err();
    assert!(
        error.message().contains("expand to more than 256 MiB"),
        "{error}"
    );
    // Trailing empty repeats, as LibreOffice writes them, cost nothing.
    let fine = content.replace(
        r#"table:number-rows-repeated="1000000"><table:table-cell office:value-type="string" table:number-columns-repeated="1000"><text:p>x</text:p></table:table-cell></table:table-row>"#,
        r#"><table:table-cell office:value-type="string"><text:p>Name</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#,
    );
    assert_ne!(fine, content);
    let bytes = stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", fine.as_bytes()),
    ]);
    let path = files.write("fine.ods", &bytes);
    let mut book = Workbook::open(&path, "fine.ods").unwrap();
    let mut sheet = book.sheet("Bomb").unwrap();
    assert_eq!(
        sheet.next_row().unwrap().unwrap().cell(0),
        &Cell::text("Name")
    );
    assert_eq!(sheet.next_row().unwrap(), None);
}

#[test]
fn old_mac_line_ends_number_rows_like_any_other() {
    let files = Files::new();
    let rows = csv_rows(
        &files,
        "mac.csv",
        b"Name;District\rAlpha;Lahore\r\rGamma;\"Multan\rcity\"\rDelta;x",
    )
    .unwrap();
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 4, 6]);
    assert_eq!(rows[2].cell(1), &Cell::text("Multan\ncity"));
}

#[test]
fn a_row_of_more_columns_than_a_sheet_has_is_not_made_into_cells() {
    let files = Files::new();
    let mut csv = b"Name,District\nAlpha,Lahore\n".to_vec();
    csv.extend(",".repeat(20_000).as_bytes());
    csv.extend(b"\nGamma,Multan\n");
    let rows = csv_rows(&files, "wide.csv", &csv).unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[2].number, 3);
    assert!(rows[2].cells.is_empty());
    let problem = rows[2].problem.as_ref().unwrap();
    assert_eq!(problem.code, RowProblem::ROW_TOO_LONG);
    assert!(
        problem.message.contains("20001 columns"),
        "{}",
        problem.message
    );
    assert_eq!(rows[3].cell(0), &Cell::text("Gamma"));
}
