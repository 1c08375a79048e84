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

use std::path::PathBuf;

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
    clusters::check(&reference)?;
    std::fs::create_dir_all(&args.out)?;
    let out = args.out.as_path();
    let seed = args.seed;
    let mut people = People::default();

    clusters::write_toml(out)?;

    let mut rng = stream(seed, "firms");
    let mut firms = firms::generate(&mut rng, &mut people);
    let mut rng = stream(seed, "registry");
    registry::assign_units(&mut rng, &mut firms);
    let allotments = registry::allot_plots(&mut rng, &mut firms);
    for f in &firms {
        let c = f.cluster_def().map(|c| c.locations);
        if let Some(locs) = c {
            debug_assert!(locs.iter().any(|l| l.district == f.district));
        }
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
    let trade_rows = trade::write(&mut stream(seed, "trade"), out, &reference)?;

    let attendance: usize = events.iter().map(|e| e.participants.len()).sum();
    println!("wrote demo data to {} (seed {seed})", out.display());
    println!(
        "  clusters.toml: 1 programme, {} clusters",
        clusters::CLUSTERS.len()
    );
    println!("  firms_cdi_diagnostic_survey_2023.xlsx: {survey_rows} firms");
    println!("  psic_punjab_registered_units.csv: {units} units");
    println!(
        "  psic_punjab_estate_allotments.csv: {} rows",
        allotments.len()
    );
    println!("  psic_punjab_loans.csv: {loans} loans");
    println!(
        "  sme_networks.xlsx: {} networks, {members} memberships",
        networks.len()
    );
    println!(
        "  training_attendance_2022_2024.xlsx: {} events, {attendance} attendance rows",
        events.len()
    );
    println!("  cdi_results_framework.xlsx: {indicator_rows} indicator rows");
    println!("  comtrade_pak_exports_2017_2024.csv: {trade_rows} rows");
    Ok(())
}
