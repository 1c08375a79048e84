//! Tests that read real files: CSV in several encodings and delimiters, XLSX written with
//! rust_xlsxwriter, ODS assembled by hand, and files that are not spreadsheets.

use std::path::PathBuf;

use hub_plugin_sdk::Date;
use rust_xlsxwriter::{ExcelDateTime, Format};

use super::*;

/// A temporary folder holding the test's files.
struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn all_rows(source: &mut dyn RowSource) -> Vec<Row> {
    std::iter::from_fn(|| source.next_row().unwrap()).collect()
}

fn texts(row: &Row) -> Vec<String> {
    row.cells.iter().map(Cell::to_text).collect()
}

fn date(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

fn open_csv(files: &Files, name: &str, bytes: &[u8]) -> CsvSource {
    let path = files.write(name, bytes);
    match open_file(&path, name, CsvOptions::default()).unwrap() {
        SpreadsheetFile::Csv(source) => source,
        SpreadsheetFile::Workbook(_) => panic!("{name} should read as CSV"),
    }
}

#[test]
fn csv_in_utf8_keeps_true_row_numbers() {
    let files = Files::new();
    let text = "Firm list 2024\n\
                Name,District,Employees\n\
                \"Sialkot Surgical Works, Pvt\",Sialkot,\"12,500\"\n\
                \n\
                ,,\n\
                \"Multi\nline\",Lahore,7\n\
                Café Leather,Lahore,3\n\
                \n\
                ,\n";
    let mut source = open_csv(&files, "firms.csv", text.as_bytes());
    assert_eq!(source.encoding(), TextEncoding::Utf8);
    assert_eq!(source.delimiter(), b',');
    assert_eq!(source.sheet(), None);
    let rows = all_rows(&mut source);
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 3, 6, 8]);
    assert_eq!(
        texts(&rows[2]),
        ["Sialkot Surgical Works, Pvt", "Sialkot", "12,500"]
    );
    assert_eq!(rows[2].cell(2).as_number(), Some(12_500.0));
    assert_eq!(rows[3].cell(0), &Cell::Text("Multi\nline".to_owned()));
    assert_eq!(rows[4].cell(0).as_text(), Some("Café Leather"));
    assert_eq!(rows[4].cell(9), &Cell::Empty);

    let header = detect_header(&rows).unwrap();
    assert_eq!(header.row, 2);
    assert_eq!(header.columns[2].name, "Employees");

    // The same file read with its header: the data rows, then a cell error.
    let source = open_csv(&files, "firms.csv", text.as_bytes());
    let mut data = WithHeader::new(source).unwrap();
    assert_eq!(data.header().find("employees:"), Some(2));
    let numbers: Vec<u64> = all_rows(&mut data).iter().map(|r| r.number).collect();
    assert_eq!(numbers, [3, 6, 8]);
    assert_eq!(
        data.cell_error(8, 2, "the field employees_total must be a number.")
            .to_string(),
        "firms.csv, row 8, column C (Employees): the field employees_total must be a number."
    );
}

#[test]
fn csv_encodings_and_delimiters_are_detected() {
    let files = Files::new();
    let expected = [
        vec!["Name", "District", "Date"],
        vec!["Pak Café", "Lahore", "15/03/2023"],
    ];
    let text = "Name;District;Date\r\nPak Café;Lahore;15/03/2023\r\n";

    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(text.as_bytes());
    let mut source = open_csv(&files, "bom.csv", &bom);
    assert_eq!(
        (source.encoding(), source.delimiter()),
        (TextEncoding::Utf8, b';')
    );
    let rows = all_rows(&mut source);
    assert_eq!(rows.iter().map(texts).collect::<Vec<_>>(), expected);
    assert_eq!(rows[1].cell(2).as_date(), Some(date(2023, 3, 15)));

    // UTF-16 without a byte-order mark is recognised by its zero bytes.
    let bare: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut source = open_csv(&files, "bare16.csv", &bare);
    assert_eq!(
        (source.encoding(), source.delimiter()),
        (TextEncoding::Utf16Le, b';')
    );
    assert_eq!(
        all_rows(&mut source).iter().map(texts).collect::<Vec<_>>(),
        expected
    );

    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        text.replace(';', "\t")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let mut source = open_csv(&files, "unicode.txt", &utf16);
    assert_eq!(
        (source.encoding(), source.delimiter()),
        (TextEncoding::Utf16Le, b'\t')
    );
    assert_eq!(
        all_rows(&mut source).iter().map(texts).collect::<Vec<_>>(),
        expected
    );

    let cp1252 = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    assert!(cp1252.contains(&0xE9));
    let mut source = open_csv(&files, "excel.csv", &cp1252);
    assert_eq!(
        (source.encoding(), source.delimiter()),
        (TextEncoding::Windows1252, b';')
    );
    assert_eq!(
        all_rows(&mut source).iter().map(texts).collect::<Vec<_>>(),
        expected
    );

    // The user's override wins over detection.
    let path = files.write("override.csv", "a|b;c\n1|2;3\n".as_bytes());
    let options = CsvOptions {
        encoding: Some("windows-1252".parse().unwrap()),
        delimiter: Some(b';'),
    };
    let mut source = CsvSource::open(&path, "override.csv", options).unwrap();
    assert_eq!(source.encoding(), TextEncoding::Windows1252);
    assert_eq!(texts(&source.next_row().unwrap().unwrap()), ["a|b", "c"]);
}

#[test]
fn crlf_line_numbers_stay_true() {
    let files = Files::new();
    let text = b"Title\r\n\r\nName;Note\r\n\"A\";\"two\r\nlines\"\r\nB;x\r\n\r\n";
    let mut source = open_csv(&files, "crlf.csv", text);
    let rows = all_rows(&mut source);
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 3, 4, 6]);
    assert_eq!(rows[2].cell(1).as_text(), Some("two\nlines"));
}

#[test]
fn a_large_csv_streams() {
    let files = Files::new();
    let mut text = String::from("Reporter,Partner,Value\n");
    for i in 0..100_000 {
        text.push_str(&format!("586,842,{i}\n"));
    }
    let mut source = open_csv(&files, "comtrade.csv", text.as_bytes());
    let mut count = 0;
    let mut last = None;
    while let Some(row) = source.next_row().unwrap() {
        count += 1;
        last = Some(row);
    }
    assert_eq!(count, 100_001);
    let last = last.unwrap();
    assert_eq!(last.number, 100_001);
    assert_eq!(last.cell(2).as_number(), Some(99_999.0));
}

#[test]
fn an_xlsx_with_titles_merged_headers_dates_and_separators() {
    let files = Files::new();
    let path = files.0.path().join("survey.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let plain = Format::new();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = book.add_worksheet();
    sheet.set_name("Firms").unwrap();
    let title = "Punjab Industrial Cluster Development Initiative - Diagnostic Survey 2023";
    sheet.merge_range(0, 0, 0, 4, title, &plain).unwrap();
    sheet
        .merge_range(2, 0, 3, 0, "Name of Unit", &plain)
        .unwrap();
    sheet.merge_range(2, 1, 2, 2, "Employees", &plain).unwrap();
    sheet
        .merge_range(2, 3, 3, 3, "Registration  Date:", &plain)
        .unwrap();
    sheet
        .merge_range(2, 4, 3, 4, "Turnover (Rs.)", &plain)
        .unwrap();
    sheet.write_string(3, 1, "Male").unwrap();
    sheet.write_string(3, 2, "Female").unwrap();

    sheet.write_string(4, 0, "Sialkot Surgical Works").unwrap();
    sheet.write_number(4, 1, 12).unwrap();
    sheet.write_number(4, 2, 3).unwrap();
    let registered = ExcelDateTime::from_ymd(2019, 3, 12).unwrap();
    sheet
        .write_datetime_with_format(4, 3, &registered, &date_format)
        .unwrap();
    sheet.write_string(4, 4, "12,500,000").unwrap();

    sheet.write_string(5, 0, "Lahore Auto Parts").unwrap();
    sheet.write_number(5, 1, 40).unwrap();
    sheet.write_number(5, 2, 5).unwrap();
    sheet.write_string(5, 3, "15/03/2023").unwrap();
    sheet.write_number(5, 4, 1_250_000.5).unwrap();

    // Row 7 is empty; row 8 has data; rows 9 to 12 hold only formatting.
    sheet.write_string(7, 0, "Garment Makers").unwrap();
    sheet.write_string(7, 1, "1,200").unwrap();
    sheet.write_boolean(7, 2, false).unwrap();
    sheet.write_number(7, 3, 45_000).unwrap();
    sheet.write_string(7, 4, "(1,200)").unwrap();
    for row in 8..12 {
        sheet.write_blank(row, 0, &date_format).unwrap();
    }
    book.add_worksheet().set_name("Notes").unwrap();
    let offset = book.add_worksheet();
    offset.set_name("Offset").unwrap();
    offset.write_string(4, 2, "Code").unwrap();
    offset.write_string(4, 3, "Name").unwrap();
    offset.write_number(5, 2, 9018).unwrap();
    offset.write_string(5, 3, "Surgical instruments").unwrap();
    book.save(&path).unwrap();

    let SpreadsheetFile::Workbook(mut workbook) =
        open_file(&path, "survey.xlsx", CsvOptions::default()).unwrap()
    else {
        panic!("a workbook");
    };
    assert_eq!(workbook.kind(), WorkbookKind::Xlsx);
    assert_eq!(workbook.sheet_names(), ["Firms", "Notes", "Offset"]);
    let offset = all_rows(&mut workbook.sheet("Offset").unwrap());
    assert_eq!(offset[0].number, 5);
    assert_eq!(
        offset[1].cells,
        [
            Cell::Empty,
            Cell::Empty,
            Cell::Number(9018.0),
            Cell::text("Surgical instruments")
        ]
    );
    let mut sheet = workbook.sheet("Firms").unwrap();
    assert_eq!(sheet.sheet(), Some("Firms"));
    assert_eq!(sheet.file(), "survey.xlsx");
    let rows = all_rows(&mut sheet);
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 3, 4, 5, 6, 8]);

    let header = detect_header(&rows).unwrap();
    assert_eq!((header.row, header.last_row), (3, 4));
    let names: Vec<&str> = header.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Name of Unit",
            "Employees / Male",
            "Employees / Female",
            "Registration Date",
            "Turnover (Rs.)"
        ]
    );
    assert_eq!(header.columns[3].original, "Registration  Date:");

    let first = &rows[3];
    assert_eq!(first.cell(1), &Cell::Number(12.0));
    assert_eq!(first.cell(3), &Cell::Date(date(2019, 3, 12)));
    assert_eq!(first.cell(4).as_number(), Some(12_500_000.0));
    let second = &rows[4];
    assert_eq!(second.cell(3).as_date(), Some(date(2023, 3, 15)));
    assert_eq!(second.cell(4).as_number(), Some(1_250_000.5));
    let third = &rows[5];
    assert_eq!(third.cell(1).as_number(), Some(1200.0));
    assert_eq!(third.cell(2), &Cell::Bool(false));
    assert_eq!(third.cell(3).as_date(), Some(date(2023, 3, 15)));
    assert_eq!(third.cell(4).as_number(), Some(-1200.0));

    let mut notes = workbook.sheet("Notes").unwrap();
    assert_eq!(notes.next_row().unwrap(), None);
    let no_header = WithHeader::new(workbook.sheet("Notes").unwrap()).unwrap_err();
    assert_eq!(
        no_header.to_string(),
        "survey.xlsx, sheet Notes: the sheet holds no rows"
    );
    let firms = WithHeader::new(workbook.sheet("Firms").unwrap()).unwrap();
    assert_eq!(firms.header().last_row, 4);
    let error = firms.cell_error(12, 1, "not a number");
    assert_eq!(
        error.to_string(),
        "survey.xlsx, sheet Firms, row 12, column B (Employees / Male): not a number"
    );
    let missing = workbook.sheet("Loans").unwrap_err();
    assert_eq!(missing.sheet(), Some("Loans"));
    assert!(
        missing
            .to_string()
            .starts_with("survey.xlsx, sheet Loans: "),
        "{missing}"
    );
}

/// CRC-32 (IEEE), for the hand-made ZIP archives below.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A ZIP archive of uncompressed entries, enough for an ODS file.
pub(super) fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let size = u32::try_from(data.len()).unwrap();
        let name_len = u16::try_from(name.len()).unwrap();
        let crc = crc32(data);
        out.extend(0x0403_4b50u32.to_le_bytes());
        for half in [20u16, 0, 0, 0, 0x21] {
            out.extend(half.to_le_bytes());
        }
        for word in [crc, size, size] {
            out.extend(word.to_le_bytes());
        }
        out.extend(name_len.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(*data);

        central.extend(0x0201_4b50u32.to_le_bytes());
        for half in [20u16, 20, 0, 0, 0, 0x21] {
            central.extend(half.to_le_bytes());
        }
        for word in [crc, size, size] {
            central.extend(word.to_le_bytes());
        }
        for half in [name_len, 0, 0, 0, 0] {
            central.extend(half.to_le_bytes());
        }
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let central_offset = u32::try_from(out.len()).unwrap();
    let central_size = u32::try_from(central.len()).unwrap();
    let count = u16::try_from(entries.len()).unwrap();
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    for half in [0u16, 0, count, count] {
        out.extend(half.to_le_bytes());
    }
    out.extend(central_size.to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn ods(encrypted: bool) -> Vec<u8> {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>
<table:table table:name="Training">
<table:table-row><table:table-cell office:value-type="string"><text:p>Attendance sheet</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Participant</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Date</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Score</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="3"/></table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>Participant 1</text:p></table:table-cell><table:table-cell office:value-type="date" office:date-value="2023-03-15"><text:p>15/03/2023</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="75"><text:p>75</text:p></table:table-cell></table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>"#;
    let encryption = if encrypted {
        r#"<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>"#
    } else {
        ""
    };
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{encryption}</manifest:file-entry></manifest:manifest>"#
    );
    stored_zip(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("META-INF/manifest.xml", manifest.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

#[test]
fn an_ods_reads_and_a_protected_one_says_so() {
    let files = Files::new();
    let path = files.write("attendance.ods", &ods(false));
    let mut workbook = Workbook::open(&path, "attendance.ods").unwrap();
    assert_eq!(workbook.kind(), WorkbookKind::Ods);
    assert_eq!(workbook.sheet_names(), ["Training"]);
    let rows = all_rows(&mut workbook.sheet("Training").unwrap());
    let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 5]);
    assert_eq!(detect_header(&rows).unwrap().row, 2);
    assert_eq!(rows[2].cell(1), &Cell::Date(date(2023, 3, 15)));
    assert_eq!(rows[2].cell(2), &Cell::Number(75.0));

    // The ZIP signature and the mimetype say ODS even under another name.
    let renamed = files.write("attendance.bin", &ods(false));
    assert_eq!(
        sniff_file(&renamed, "attendance.bin").unwrap(),
        FileKind::Workbook(WorkbookKind::Ods)
    );

    let protected = files.write("protected.ods", &ods(true));
    let error = Workbook::open(&protected, "protected.ods").unwrap_err();
    assert_eq!(
        error.to_string(),
        "protected.ods: the workbook is password-protected: remove the password in the \
         spreadsheet tool and import it again"
    );
}

/// The smallest Compound File that Office would write for a password-protected XLSX: a
/// FAT sector and a directory holding the root and an `EncryptedPackage` stream.
fn encrypted_xlsx() -> Vec<u8> {
    const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    let mut put16 = |at: usize, v: u16| header[at..at + 2].copy_from_slice(&v.to_le_bytes());
    put16(24, 0x3E);
    put16(26, 3);
    put16(28, 0xFFFE);
    put16(30, 9);
    put16(32, 6);
    let mut put32 = |at: usize, v: u32| header[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put32(44, 1); // one FAT sector
    put32(48, 1); // the directory starts at sector 1
    put32(56, 4096);
    put32(60, END_OF_CHAIN);
    put32(68, END_OF_CHAIN);
    put32(76, 0); // the FAT is sector 0
    for at in (80..512).step_by(4) {
        put32(at, FREE);
    }
    let mut fat: Vec<u8> = [0xFFFF_FFFD, END_OF_CHAIN]
        .into_iter()
        .chain(std::iter::repeat_n(FREE, 126))
        .flat_map(u32::to_le_bytes)
        .collect();
    let mut directory = vec![0u8; 512];
    for (slot, name) in ["Root Entry", "EncryptedPackage"].into_iter().enumerate() {
        let entry = &mut directory[slot * 128..(slot + 1) * 128];
        let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        entry[..utf16.len()].copy_from_slice(&utf16);
        entry[64..66].copy_from_slice(&u16::try_from(utf16.len() + 2).unwrap().to_le_bytes());
        entry[66] = if slot == 0 { 5 } else { 2 };
        entry[116..120].copy_from_slice(&END_OF_CHAIN.to_le_bytes());
    }
    header.append(&mut fat);
    header.append(&mut directory);
    header
}

#[test]
fn a_password_protected_xlsx_says_so() {
    let files = Files::new();
    for name in ["protected.xlsx", "protected.xls"] {
        let path = files.write(name, &encrypted_xlsx());
        let error = open_file(&path, name, CsvOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{name}: the workbook is password-protected: remove the password in the \
                 spreadsheet tool and import it again"
            )
        );
    }
}

#[test]
fn bad_files_get_clear_errors() {
    let files = Files::new();
    let open = |name: &str, bytes: &[u8]| {
        let path = files.write(name, bytes);
        open_file(&path, name, CsvOptions::default())
            .unwrap_err()
            .to_string()
    };
    let random: Vec<u8> = (0..2000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let corrupt = open("firms.xlsx", &random);
    assert!(
        corrupt.starts_with("firms.xlsx: the file is not a valid XLSX file: "),
        "{corrupt}"
    );

    // A ZIP archive that is no workbook.
    let zip = stored_zip(&[("readme.txt", b"hello")]);
    let not_xlsx = open("firms.xlsx", &zip);
    assert!(
        not_xlsx.starts_with("firms.xlsx: the file is not a valid XLSX file: "),
        "{not_xlsx}"
    );

    assert_eq!(open("empty.csv", b""), "empty.csv: the file is empty");
    assert_eq!(
        open("blank.xlsx", b"\n  \n"),
        "blank.xlsx: the file is empty"
    );
    let pdf = open("report.pdf", b"%PDF-1.7\n\x00\x01binary");
    assert_eq!(
        pdf,
        "report.pdf: the file is not a spreadsheet (CSV, TSV, XLSX, XLS or ODS): it holds a PDF document"
    );
    let text_as_xlsx = open("list.xlsx", b"Name,District\nA,Lahore\n");
    assert!(
        text_as_xlsx.contains("not a valid XLSX file: it is not a ZIP archive but text"),
        "{text_as_xlsx}"
    );
    let html = open(
        "units.xls",
        b"<html><table><tr><td>Unit</td></tr></table></html>",
    );
    assert!(
        html.starts_with("units.xls: the file is not a spreadsheet but an HTML"),
        "{html}"
    );
    let binary_xls = open("units.xls", &random);
    assert!(
        binary_xls.contains("not a valid XLS file: it is not an Excel 97-2003"),
        "{binary_xls}"
    );

    // Delimited text exported under an `.xls` name reads as text.
    let tsv = files.write("units.xls", b"Unit\tDistrict\nU-1\tLahore\n");
    let SpreadsheetFile::Csv(mut source) =
        open_file(&tsv, "units.xls", CsvOptions::default()).unwrap()
    else {
        panic!("text");
    };
    assert_eq!(source.delimiter(), b'\t');
    assert_eq!(all_rows(&mut source).len(), 2);

    let path = files.write("list.csv", b"Name,District\n");
    assert!(
        Workbook::open(&path, "list.csv")
            .unwrap_err()
            .to_string()
            .contains("not a workbook")
    );
}
