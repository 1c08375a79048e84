//! Turns the bundled HS concordance into numbers at build time (`hs_convert.bin` in
//! `OUT_DIR`), so that the server never parses the concordance's CSV files: parsing them at
//! run time cost about 12 MB of allocations and 6 MB of the binary's pages in the server's
//! resident set, for tables of about 1 MB (see `src/domain/hs_convert.rs`).
//!
//! The file is a sequence of little-endian `u32`s:
//! - the number of concordance steps, then per step: the year of the revision before, the
//!   year of the revision after, the number of pairs and the pairs (subheading before,
//!   subheading after), as the CSV files list them, without the `999999` placeholders and
//!   without codes that are not six digits;
//! - the number of revisions, then per revision: its year, the number of its subheadings
//!   and the subheadings (six-digit codes), sorted.
//!
//! A unit test (`hs_convert::tests::the_built_concordance_is_the_csv_files`) compares the
//! result with the concordance read from the CSV files by the `csv` crate.

use std::collections::BTreeMap;
use std::path::Path;

const CONCORDANCES: [&str; 2] = [
    "reference/hs_concordance_1992_2012.csv",
    "reference/hs_concordance.csv",
];
const REVISIONS: [u32; 7] = [1992, 1996, 2002, 2007, 2012, 2017, 2022];

fn main() {
    let mut steps: BTreeMap<(u32, u32), Vec<(u32, u32)>> = BTreeMap::new();
    for file in CONCORDANCES {
        println!("cargo::rerun-if-changed={file}");
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut lines = text.lines();
        let header = lines.next().map(fields);
        assert_eq!(
            header,
            Some(vec![
                "code_after",
                "code_before",
                "relationship",
                "adjustment"
            ]),
            "{file}: unexpected header"
        );
        for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let row = fields(line);
            let [after, before, _, adjustment] = row[..] else {
                panic!("{file}:{}: expected 4 fields", n + 2);
            };
            if after == "999999" {
                continue;
            }
            // "2017 to 2012": codes after are HS2017, codes before HS2012.
            let (year_after, year_before) = adjustment
                .split_once(" to ")
                .and_then(|(a, b)| Some((year(a)?, year(b)?)))
                .unwrap_or_else(|| panic!("{file}:{}: adjustment {adjustment:?}", n + 2));
            if let (Some(b), Some(a)) = (number(before), number(after)) {
                steps
                    .entry((year_before, year_after))
                    .or_default()
                    .push((b, a));
            }
        }
    }
    let mut out: Vec<u32> = vec![steps.len() as u32];
    for ((before, after), pairs) in &steps {
        out.extend([*before, *after, pairs.len() as u32]);
        out.extend(pairs.iter().flat_map(|(b, a)| [*b, *a]));
    }
    out.push(REVISIONS.len() as u32);
    for revision in REVISIONS {
        let file = format!("reference/hs{revision}.csv");
        println!("cargo::rerun-if-changed={file}");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        // The code is each record's first field, `id`; the files have no line breaks in
        // fields (the unit test compares the result with the files read by the csv crate).
        let mut lines = text.lines();
        let header = lines.next().map(fields);
        assert_eq!(
            header.as_ref().and_then(|h| h.first()),
            Some(&"id"),
            "{file}: the first column is not `id`"
        );
        let mut subs: Vec<u32> = lines
            .filter_map(|line| number(fields(line).first()?))
            .collect();
        subs.sort_unstable();
        subs.dedup();
        out.extend([revision, subs.len() as u32]);
        out.extend(subs);
    }
    let bytes: Vec<u8> = out.iter().flat_map(|w| w.to_le_bytes()).collect();
    let dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&dir).join("hs_convert.bin"), bytes).expect("writing hs_convert.bin");
}

/// The fields of a CSV line without quoted commas, trimmed and unquoted.
fn fields(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| f.trim().trim_matches('"').trim())
        .collect()
}

fn year(text: &str) -> Option<u32> {
    let y = text.trim().parse().ok()?;
    REVISIONS.contains(&y).then_some(y)
}

/// A subheading (six digits) as a number.
fn number(code: &str) -> Option<u32> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        code.parse().ok()
    } else {
        None
    }
}
