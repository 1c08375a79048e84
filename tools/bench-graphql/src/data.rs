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

/// The cluster that the point `pick` (0 to the sum of the shares − 1) falls in, each
/// cluster taking as many points as its share.
fn pick_cluster(mut pick: u32) -> (&'static str, &'static [&'static str], u32) {
    CLUSTERS
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
        .unwrap_or(CLUSTERS[0])
}

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
        let (slug, districts, _) = pick_cluster(rng.range(0, total - 1));
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

/// The mapping of the trainings file: one row per participation, its event on the row.
pub const TRAININGS_MAPPING: &str = r#"importer = "spreadsheet"
source = "bench-training"

[[sheets]]
sheet = "trainings"
target = "participants"

[sheets.columns]
"Event Code" = "event.source_key"
"Event Title" = "event.title"
"Start Date" = "event.start_date"
"End Date" = "event.end_date"
"Cluster" = "event.cluster"
"Provider" = "event.provider"
"Participant Name" = "person.name"
"Gender" = "person.sex"
"CNIC" = "person.cnic"
"Survey ID" = "firm.id.source:bench-firms"
"Pre-test" = "participation.pre_score"
"Post-test" = "participation.post_score"
"Certificate No." = "participation.certificate_number"
"#;

const COURSES: [&str; 6] = [
    "Quality management",
    "Export marketing",
    "Lean manufacturing",
    "Occupational safety",
    "Product design",
    "Financial literacy",
];
const PROVIDERS: [&str; 4] = ["UNIDO", "PSIC", "TEVTA", "SMEDA"];

/// Writes `participations` rows over `events` training events (2019-2024, in the four
/// clusters by their shares), by about `participations / 1.6` people (a person takes part
/// in 1.6 events on average; one in five is a woman), each from one of the `firms` firms
/// of [`write_firms`] (linked by its Survey ID); about 80% with both test scores and 85%
/// completed (with a certificate).
pub fn write_trainings(
    out: &mut impl Write,
    events: u64,
    participations: u64,
    firms: u64,
) -> io::Result<()> {
    let mut rng = Lcg::new(participations.wrapping_mul(31).wrapping_add(events));
    writeln!(
        out,
        "Event Code,Event Title,Start Date,End Date,Cluster,Provider,Participant Name,Gender,\
         CNIC,Survey ID,Pre-test,Post-test,Certificate No."
    )?;
    let total: u32 = CLUSTERS.iter().map(|c| c.2).sum();
    let people = (participations * 10 / 16).max(1) as u32;
    let event_rows: Vec<String> = (1..=events.max(1))
        .map(|e| {
            let slug = pick_cluster(rng.range(0, total - 1)).0;
            let year = 2019 + rng.range(0, 5);
            let month = 1 + rng.range(0, 11);
            let day = 1 + rng.range(0, 24);
            format!(
                "BT-{e:05},{} {e},{year}-{month:02}-{day:02},{year}-{month:02}-{:02},{slug},{}",
                COURSES[rng.range(0, COURSES.len() as u32 - 1) as usize],
                day + 2,
                PROVIDERS[rng.range(0, PROVIDERS.len() as u32 - 1) as usize],
            )
        })
        .collect();
    let mut taken = std::collections::HashSet::new();
    let mut written = 0;
    while written < participations {
        let index = rng.range(0, event_rows.len() as u32 - 1);
        let person = rng.range(1, people);
        // A person takes part in an event once.
        if !taken.insert((index, person)) {
            continue;
        }
        written += 1;
        let event = &event_rows[index as usize];
        let female = person.is_multiple_of(5);
        // CNIC: the last digit is even for women, odd for men.
        let last = (person % 4) * 2 + u32::from(!female);
        let firm = 1 + u64::from(person) % firms.max(1);
        let (pre, post) = if rng.chance(80) {
            let pre = rng.range(20, 70);
            (pre.to_string(), (pre + rng.range(0, 30)).to_string())
        } else {
            (String::new(), String::new())
        };
        let certificate = if rng.chance(85) {
            format!("CERT-{}", rng.next_u32() % 10_000_000)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{event},Participant {person},{},35202-{person:07}-{last},B{firm:06},{pre},{post},{certificate}",
            if female { "female" } else { "male" },
        )?;
    }
    Ok(())
}
