//! The benchmark's input: a long-format CSV of firm observations (one row per firm and
//! year, grouped by firm) and the mapping file that imports it as the target `firms`.
//!
//! Deterministic: a fixed linear congruential generator, so the same row count always gives
//! the same bytes.

use std::io::{self, Write};

/// The header, as a firm list exported from a survey tool might have it.
pub const HEADER: &str = "Firm ID,Firm Name,District,NTN No.,Year,Total Employees,\
Female Employees,Annual Turnover (PKR),Exports (USD)";

/// Years observed per firm.
pub const YEARS: std::ops::RangeInclusive<u16> = 2015..=2024;

/// The mapping file for the spreadsheet importer (source `bench`).
pub const MAPPING: &str = r#"# Mapping of the benchmark's generated firm-observation CSV (tools/bench-import).
importer = "spreadsheet"
source = "bench"

[[sheets]]
target = "firms"

[sheets.columns]
"Firm ID" = "firm.source_key"
"Firm Name" = "firm.name"
"District" = "firm.district"
"NTN No." = "firm.ntn"
"Year" = "observation.period"
"Total Employees" = "observation.employees_total"
"Female Employees" = "observation.employees_female"
"Annual Turnover (PKR)" = "observation.turnover_pkr"
"Exports (USD)" = "observation.exports_usd"
"#;

/// Punjab districts as the bundled admin areas name them, the cluster districts first and
/// more often.
const DISTRICTS: [(&str, u32); 12] = [
    ("Sialkot", 20),
    ("Lahore", 20),
    ("Gujranwala", 10),
    ("Sheikhupura", 8),
    ("Kasur", 8),
    ("Faisalabad", 10),
    ("Multan", 6),
    ("Gujrat", 5),
    ("Sahiwal", 4),
    ("Okara", 3),
    ("Jhelum", 3),
    ("Narowal", 3),
];

const NAME_FIRST: [&str; 16] = [
    "Al-Noor",
    "Madina",
    "Pak",
    "Crescent",
    "Star",
    "Hilal",
    "Bismillah",
    "Ghani",
    "Punjab",
    "Royal",
    "Zam Zam",
    "Al-Fateh",
    "Shaheen",
    "Noor",
    "United",
    "Friends",
];
const NAME_TRADE: [&str; 10] = [
    "Surgical",
    "Garments",
    "Leather",
    "Auto Parts",
    "Textiles",
    "Instruments",
    "Footwear",
    "Engineering",
    "Sports",
    "Cutlery",
];
const NAME_FORM: [&str; 6] = [
    "Works",
    "Industries",
    "Enterprises",
    "(Pvt) Ltd",
    "Traders",
    "& Co",
];

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 32 random bits (the high half of the state).
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// The next 64 random bits (two steps).
    pub fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    /// Uniform in `lo..=hi` (the modulo bias is irrelevant here).
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.next_u32() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.next_u32() % 100 < percent
    }
}

fn weighted<'a>(rng: &mut Lcg, items: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.range(0, total - 1);
    for (item, weight) in items {
        if pick < *weight {
            return item;
        }
        pick -= weight;
    }
    items[0].0
}

/// An NTN (`NNNNNNN-N`) unique to firm number `firm`: 7919 is prime to 9,000,000, so the
/// seven digits differ for the first nine million firms.
pub fn ntn(firm: u64) -> String {
    let base = 1_000_000 + (firm * 7919) % 9_000_000;
    let check = base
        .to_string()
        .bytes()
        .map(|b| u64::from(b - b'0'))
        .sum::<u64>()
        % 10;
    format!("{base}-{check}")
}

/// Writes the header and `rows` data rows: `rows / 10` firms (one more, with fewer years,
/// when `rows` is not a multiple of 10), each with one row per year of [`YEARS`].
pub fn write_csv(out: &mut impl Write, rows: u64) -> io::Result<()> {
    let mut rng = Lcg::new(rows.wrapping_mul(31).wrapping_add(2024));
    writeln!(out, "{HEADER}")?;
    let mut written = 0u64;
    let mut firm = 0u64;
    let mut line = String::with_capacity(160);
    while written < rows {
        firm += 1;
        let name = format!(
            "{} {} {} {firm}",
            NAME_FIRST[rng.range(0, 15) as usize],
            NAME_TRADE[rng.range(0, 9) as usize],
            NAME_FORM[rng.range(0, 5) as usize],
        );
        let district = weighted(&mut rng, &DISTRICTS);
        let ntn = if rng.chance(70) {
            ntn(firm)
        } else {
            String::new()
        };
        let mut employees = rng.range(1, 500);
        let female_share = rng.range(0, 60);
        let turnover_per_head = rng.range(300_000, 3_000_000);
        let exporter = rng.chance(35);
        for year in YEARS {
            if written == rows {
                break;
            }
            // Head counts drift by up to ±10% a year, within 1..=500.
            let drift = rng.range(0, 20) as i64 - 10;
            employees = (employees as i64 + employees as i64 * drift / 100).clamp(1, 500) as u32;
            let female = (employees * female_share / 100).min(employees);
            let turnover = u64::from(employees) * u64::from(turnover_per_head)
                + u64::from(rng.range(0, 999_999));
            let exports = if exporter && rng.chance(80) {
                u64::from(rng.range(5_000, 2_000_000))
            } else {
                0
            };
            line.clear();
            use std::fmt::Write as _;
            let _ = writeln!(
                line,
                "F{firm:07},{name},{district},{ntn},{year},{employees},{female},{turnover},{exports}"
            );
            out.write_all(line.as_bytes())?;
            written += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(rows: u64) -> String {
        let mut out = Vec::new();
        write_csv(&mut out, rows).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_csv_is_deterministic_and_well_formed() {
        let text = generate(1_005);
        assert_eq!(text, generate(1_005), "same rows, same bytes");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(HEADER));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 1_005);
        let mut firms = std::collections::BTreeSet::new();
        let mut ntns = std::collections::BTreeSet::new();
        for row in &rows {
            assert_eq!(row.len(), 9, "{row:?}");
            let total: u32 = row[5].parse().unwrap();
            let female: u32 = row[6].parse().unwrap();
            assert!((1..=500).contains(&total), "{row:?}");
            assert!(female <= total, "{row:?}");
            let year: u16 = row[4].parse().unwrap();
            assert!(YEARS.contains(&year));
            row[7].parse::<u64>().unwrap();
            row[8].parse::<u64>().unwrap();
            if firms.insert(row[0]) && !row[3].is_empty() {
                assert!(ntns.insert(row[3]), "NTN repeated: {row:?}");
                let (seven, check) = row[3].split_once('-').unwrap();
                assert_eq!((seven.len(), check.len()), (7, 1));
            }
        }
        assert_eq!(firms.len(), 101, "100 firms of 10 years, one of 5");
        let with_ntn = ntns.len() as f64 / firms.len() as f64;
        assert!((0.55..0.85).contains(&with_ntn), "{with_ntn}");
        // Grouped by firm: a firm's rows are consecutive, years in order.
        assert_eq!(rows[0][4], "2015");
        assert_eq!(rows[9][4], "2024");
        assert_eq!(rows[0][0], rows[9][0]);
        assert_ne!(rows[9][0], rows[10][0]);
    }

    #[test]
    fn the_mapping_names_every_column() {
        for column in HEADER.split(',') {
            assert!(MAPPING.contains(&format!("\"{column}\" = ")), "{column}");
        }
    }
}
