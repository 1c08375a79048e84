//! Small shared helpers: random picks, dates, number formatting, writers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

/// A calendar date; panics only on an impossible literal date in this crate's code.
pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid literal date")
}

/// `dd/mm/yyyy`, the way the Punjab agencies write dates.
pub fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A uniformly random day in `[from, to]`.
pub fn random_date(rng: &mut StdRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    from + Days::new(rng.random_range(0..=span))
}

/// Adds whole days.
pub fn plus_days(d: NaiveDate, n: u64) -> NaiveDate {
    d + Days::new(n)
}

/// An Excel date for a chrono date.
pub fn excel_date(d: NaiveDate) -> Result<ExcelDateTime> {
    Ok(ExcelDateTime::from_ymd(
        d.year() as u16,
        d.month() as u8,
        d.day() as u8,
    )?)
}

/// Picks an index with probability proportional to its weight.
pub fn weighted_index(rng: &mut StdRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random_range(0.0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Picks an item from `(item, weight)` pairs.
pub fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, f64)]) -> &'a T {
    let weights: Vec<f64> = items.iter().map(|(_, w)| *w).collect();
    &items[weighted_index(rng, &weights)].0
}

/// Picks one element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A log-uniform integer in `[lo, hi]`: many small values, few large ones.
pub fn log_uniform(rng: &mut StdRng, lo: u32, hi: u32) -> u32 {
    let (a, b) = ((lo as f64).ln(), (hi as f64 + 0.999).ln());
    (rng.random_range(a..b).exp().floor() as u32).clamp(lo, hi)
}

/// Rounds to the nearest multiple of `step`.
pub fn round_to(x: f64, step: f64) -> u64 {
    ((x / step).round() * step).max(0.0) as u64
}

/// `12500000` -> `12,500,000`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Writes a district name the way agency clerks do: mostly as is, sometimes
/// in capitals, lower case or with a stray space.
pub fn messy_district(rng: &mut StdRng, name: &str) -> String {
    match rng.random_range(0..20) {
        0..=10 => name.to_string(),
        11..=14 => name.to_uppercase(),
        15..=16 => format!("{} ", name.to_lowercase()),
        17..=18 => format!("{name} "),
        _ => format!(" {}", name.to_uppercase()),
    }
}

/// A new workbook whose document properties carry a fixed creation date, so
/// that the same seed gives byte-identical files.
pub fn new_workbook(title: &str) -> Result<Workbook> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2024, 12, 31)?.and_hms(9, 0, 0)?;
    let props = DocProperties::new()
        .set_title(title)
        .set_author("Cluster Data Hub demo-gen (synthetic data)")
        .set_comment("Synthetic demo data: no real firms or people.")
        .set_creation_datetime(&created);
    wb.set_properties(&props);
    Ok(wb)
}

/// Bold header format.
pub fn header_format() -> Format {
    Format::new().set_bold()
}

/// `dd/mm/yyyy` date cell format.
pub fn date_format() -> Format {
    Format::new().set_num_format("dd/mm/yyyy")
}

/// A CSV writer. `bom` starts the file with a UTF-8 byte order mark and
/// `crlf` ends lines with CRLF, as Windows agency exports do; otherwise plain
/// UTF-8 with LF.
pub fn csv_writer(path: &Path, bom: bool, crlf: bool) -> Result<csv::Writer<BufWriter<File>>> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = BufWriter::new(file);
    if bom {
        out.write_all("\u{feff}".as_bytes())?;
    }
    let mut builder = csv::WriterBuilder::new();
    if crlf {
        builder.terminator(csv::Terminator::CRLF);
    }
    Ok(builder.from_writer(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_500_000), "12,500,000");
    }
}
