//! `demo-gen`: the seeded generator of the Cluster Data Hub's bundled demo
//! dataset in `hub/demo/`.
//!
//! It invents a plausible but entirely synthetic picture of the Punjab
//! Industrial Cluster Development Initiative (CDI): four clusters (Sialkot
//! surgical instruments, Lahore garments, Lahore leather and footwear, Lahore
//! auto parts), about 300 firms seen through a 2023 diagnostic survey and the
//! Punjab Small Industries Corporation's registry (with estate plots and small
//! loans), SME networks, training events with attendance sheets, a results
//! framework and UN Comtrade-style export statistics. The files imitate the
//! layouts the real sources use, quirks included (title rows above headers,
//! numbers written as text, district names in assorted spellings, a UTF-8 BOM),
//! so that the importers can be exercised end to end.
//!
//! No real people or firms: names are random combinations of common Pakistani
//! given and family names and of generic firm-name parts; CNICs, NTNs, SECP
//! numbers and mobile numbers are random digits in the official shapes.
//! Codes and places are checked against `schema/reference/` (HS 2017/2022,
//! ISIC Rev.4, Comtrade areas, Punjab admin areas).
//!
//! The output is deterministic: the same `--seed` (default 2024) gives
//! byte-identical files, XLSX included (the workbooks carry a fixed creation
//! date). Each part draws from its own random stream derived from the seed, so
//! changing one generator leaves the others' output alone.
//!
//! ```text
//! cargo run -p demo-gen -- --out hub/demo [--seed 2024] [--reference schema/reference]
//! ```

mod clusters;
mod firms;
mod indicators;
mod names;
mod networks;
mod reference;
mod registry;
mod trade;
mod training;
mod util;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::names::People;
use crate::reference::Reference;

const USAGE: &str = "usage: demo-gen [--out DIR] [--seed N] [--reference DIR]\n\
  --out DIR        where to write the demo files (default hub/demo)\n\
  --seed N         random seed (default 2024)\n\
  --reference DIR  schema/reference tables to check codes against";

#[derive(Debug)]
struct Args {
    out: PathBuf,
    seed: u64,
    reference: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        out: PathBuf::from("hub/demo"),
        seed: 2024,
        reference: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schema/reference"
        )),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--seed" => args.seed = value()?.parse().context("--seed must be a number")?,
            "--reference" => args.reference = PathBuf::from(value()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(args)
}

/// An independent random stream per part, derived from the seed and a label.
fn stream(seed: u64, label: &str) -> StdRng {
    // FNV-1a over the label, mixed with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    StdRng::seed_from_u64(seed ^ h)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let reference = Reference::load(&args.reference)
        .with_context(|| format!("loading reference tables from {}", args.reference.display()))?;
    let summary = run(&args.out, args.seed, &reference)?;
    println!(
        "wrote demo data to {} (seed {})",
        args.out.display(),
        args.seed
    );
    for line in summary {
        println!("  {line}");
    }
    Ok(())
}

/// Generates every demo file into `out`; returns one summary line per file.
fn run(out: &Path, seed: u64, reference: &Reference) -> Result<Vec<String>> {
    clusters::check(reference)?;
    std::fs::create_dir_all(out)?;
    let mut people = People::default();

    clusters::write_toml(out)?;

    let mut rng = stream(seed, "firms");
    let mut firms = firms::generate(&mut rng, &mut people);
    let mut rng = stream(seed, "registry");
    registry::assign_units(&mut rng, &mut firms);
    let allotments = registry::allot_plots(&mut rng, &mut firms);
    for f in &firms {
        reference.check_place(f.district, f.tehsil)?;
        reference.check_psic(f.psic)?;
    }

    let survey_rows = firms.iter().filter(|f| f.survey_id.is_some()).count();
    firms::write_survey(&mut stream(seed, "survey"), out, &firms)?;
    let units = registry::write_units(&mut stream(seed, "units"), out, &firms)?;
    registry::write_allotments(out, &allotments)?;
    let loans = registry::write_loans(&mut stream(seed, "loans"), &mut people, out, &firms)?;

    let networks = networks::generate(&mut stream(seed, "networks"), &firms);
    let members = networks::write(out, &networks, &firms)?;

    let events = training::generate(&mut stream(seed, "training"), &mut people, &firms);
    training::write(&mut stream(seed, "attendance"), out, &events)?;

    let indicator_rows = indicators::generate(
        &mut stream(seed, "indicators"),
        out,
        &firms,
        &networks,
        &events,
    )?;
    let trade_rows = trade::write(&mut stream(seed, "trade"), out, reference)?;

    let attendance: usize = events.iter().map(|e| e.participants.len()).sum();
    Ok(vec![
        format!(
            "clusters.toml: 1 programme, {} clusters",
            clusters::CLUSTERS.len()
        ),
        format!("firms_cdi_diagnostic_survey_2023.xlsx: {survey_rows} firms"),
        format!("psic_punjab_registered_units.csv: {units} units"),
        format!(
            "psic_punjab_estate_allotments.csv: {} rows",
            allotments.len()
        ),
        format!("psic_punjab_loans.csv: {loans} loans"),
        format!(
            "sme_networks.xlsx: {} networks, {members} memberships",
            networks.len()
        ),
        format!(
            "training_attendance_2022_2024.xlsx: {} events, {attendance} attendance rows",
            events.len()
        ),
        format!("cdi_results_framework.xlsx: {indicator_rows} indicator rows"),
        format!("comtrade_pak_exports_2017_2024.csv: {trade_rows} rows"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn reference() -> Reference {
        Reference::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schema/reference"
        )))
        .expect("reference tables")
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("demo-gen-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(path).expect("csv");
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let headers = rdr.headers().expect("headers").clone();
        rdr.records()
            .map(|r| {
                let r = r.expect("record");
                headers
                    .iter()
                    .map(String::from)
                    .zip(r.iter().map(String::from))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn same_seed_gives_identical_files_and_consistent_data() {
        let reference = reference();
        let (a, b) = (scratch("a"), scratch("b"));
        run(&a, 2024, &reference).unwrap();
        run(&b, 2024, &reference).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&a)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names.len(), 9);
        for name in &names {
            let (x, y) = (
                std::fs::read(a.join(name)).unwrap(),
                std::fs::read(b.join(name)).unwrap(),
            );
            assert!(x == y, "{name:?} differs between two runs");
        }

        let units_raw = std::fs::read(a.join("psic_punjab_registered_units.csv")).unwrap();
        assert!(units_raw.starts_with("\u{feff}Unit No,".as_bytes()));
        let units = read_csv(&a.join("psic_punjab_registered_units.csv"));
        assert_eq!(units.len(), 120);
        let unit_nos: HashSet<&str> = units.iter().map(|u| u["Unit No"].as_str()).collect();
        assert_eq!(unit_nos.len(), 120);
        let mut owners: HashMap<&str, usize> = HashMap::new();
        for u in &units {
            *owners.entry(u["Owner CNIC"].as_str()).or_default() += 1;
        }
        assert!((2..=3).contains(&owners.values().filter(|&&n| n == 2).count()));

        for a_row in read_csv(&a.join("psic_punjab_estate_allotments.csv")) {
            let unit = a_row["Unit No"].as_str();
            assert_eq!(unit.is_empty(), a_row["Status"] == "Vacant");
            assert!(unit.is_empty() || unit_nos.contains(unit));
        }
        for l in read_csv(&a.join("psic_punjab_loans.csv")) {
            let amount: u64 = l["Amount (PKR)"].parse().unwrap();
            assert!(amount <= 300_000);
            assert!(l["Unit No"].is_empty() || unit_nos.contains(l["Unit No"].as_str()));
        }

        let trade = read_csv(&a.join("comtrade_pak_exports_2017_2024.csv"));
        let mut world: HashMap<(String, String), u64> = HashMap::new();
        let mut partners: HashMap<(String, String), u64> = HashMap::new();
        for r in &trade {
            let key = (r["refYear"].clone(), r["cmdCode"].clone());
            let v: u64 = r["primaryValue"].parse().unwrap();
            if r["partnerCode"] == "0" {
                world.insert(key, v);
            } else {
                *partners.entry(key).or_default() += v;
            }
            let class = if r["refYear"].as_str() >= "2022" {
                "H6"
            } else {
                "H5"
            };
            assert_eq!(r["classificationCode"], class);
            if r["cmdCode"] != "TOTAL" {
                reference.hs_code(class, &r["cmdCode"]).unwrap();
            }
        }
        for (key, sum) in partners {
            assert!(world[&key] > sum, "World below the partner sum for {key:?}");
        }

        for dir in [a, b] {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
