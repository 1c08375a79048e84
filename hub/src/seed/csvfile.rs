//! Reading the demo CSV files: UTF-8 with or without a byte-order mark, columns found by
//! header name without regard to case (Comtrade's published field lists and its API differ
//! in case, `cifValue` against `cifvalue`).

use std::collections::HashMap;

use anyhow::Context as _;
use csv::StringRecord;

use super::values::non_empty;

/// A parsed CSV file: the header index and the records with their line numbers.
pub(super) struct CsvFile {
    columns: HashMap<String, usize>,
    records: Vec<(u64, StringRecord)>,
}

impl CsvFile {
    /// Parses a whole file, requiring the given headers.
    pub(super) fn parse(bytes: &[u8], file: &str, required: &[&str]) -> anyhow::Result<Self> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let columns: HashMap<String, usize> = reader
            .headers()
            .with_context(|| format!("{file}: no header line"))?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_lowercase(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|h| !columns.contains_key(&h.to_lowercase()))
            .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "{file}: the columns {} are missing",
            missing.join(", ")
        );
        let mut records = Vec::new();
        for record in reader.records() {
            let record = record.with_context(|| format!("{file}: not valid CSV"))?;
            let line = record.position().map_or(0, csv::Position::line);
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            records.push((line, record));
        }
        Ok(CsvFile { columns, records })
    }

    /// The records and their line numbers.
    pub(super) fn records(&self) -> impl Iterator<Item = (u64, Record<'_>)> {
        self.records.iter().map(|(line, record)| {
            (
                *line,
                Record {
                    columns: &self.columns,
                    record,
                },
            )
        })
    }

    pub(super) fn len(&self) -> usize {
        self.records.len()
    }
}

/// One CSV record, read by header name.
pub(super) struct Record<'a> {
    columns: &'a HashMap<String, usize>,
    record: &'a StringRecord,
}

impl Record<'_> {
    /// The field under this header, trimmed; `None` when empty or absent.
    pub(super) fn get(&self, header: &str) -> Option<String> {
        self.columns
            .get(&header.to_lowercase())
            .and_then(|&i| self.record.get(i))
            .and_then(non_empty)
    }
}
