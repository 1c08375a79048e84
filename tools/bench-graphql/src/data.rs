//! The benchmark's firm list: `firms` firms across the four clusters of the demo (by the
//! shares below), with a Punjab district of their cluster, an NTN for about 70% of them and
//! a head count. Deterministic: the same count always gives the same bytes.

use std::io::{self, Write};

use crate::generate::{self, Lcg};

/// The clusters (as `hub/demo/clusters.toml` defines them), their districts and their share of the firms.
pub const CLUSTERS: [(&str, &[&str], u32); 4] = [
    ("sialkot-surgical", &["Sialkot"], 36),
    ("lahore-garments", &["Lahore"], 28),
    (
        "lahore-leather-footwear",
        &["Lahore", "Sheikhupura", "Kasur"],
        20,
    ),
    (
        "lahore-auto-parts",
        &["Lahore", "Sheikhupura", "Gujranwala"],
        16,
    ),
];

const FIRST: [&str; 12] = [
    "Abid", "Ahmed", "Bilal", "Crescent", "Danish", "Fazal", "Ghani", "Hamid", "Iqbal", "Javed",
    "Kamran", "Latif",
];
const TRADE: [&str; 8] = [
    "Surgical",
    "Instruments",
    "Garments",
    "Textiles",
    "Leather",
    "Footwear",
    "Auto Parts",
    "Engineering",
];
const FORM: [&str; 4] = ["Works", "Industries", "(Pvt) Ltd", "& Co."];

/// Writes the header and `firms` rows.
pub fn write_firms(out: &mut impl Write, firms: u64) -> io::Result<()> {
    let mut rng = Lcg::new(firms.wrapping_mul(53).wrapping_add(10_000));
    writeln!(
        out,
        "Survey ID,Name of Unit,District,NTN No.,Cluster,Total Employees"
    )?;
    let total: u32 = CLUSTERS.iter().map(|c| c.2).sum();
    for firm in 1..=firms {
        let mut pick = rng.range(0, total - 1);
        let (slug, districts, _) = CLUSTERS
            .iter()
            .find(|(_, _, share)| {
                if pick < *share {
                    true
                } else {
                    pick -= share;
                    false
                }
            })
            .copied()
            .unwrap_or(CLUSTERS[0]);
        let district = districts[rng.range(0, districts.len() as u32 - 1) as usize];
        let name = format!(
            "{} {} {} {firm}",
            FIRST[rng.range(0, FIRST.len() as u32 - 1) as usize],
            TRADE[rng.range(0, TRADE.len() as u32 - 1) as usize],
            FORM[rng.range(0, FORM.len() as u32 - 1) as usize],
        );
        let ntn = if rng.chance(70) {
            generate::ntn(firm)
        } else {
            String::new()
        };
        let employees = rng.range(1, 400);
        writeln!(out, "B{firm:06},{name},{district},{ntn},{slug},{employees}")?;
    }
    Ok(())
}
