//! Firms: the union of the 2023 diagnostic survey and the PSIC registry, and
//! the survey workbook `firms_cdi_diagnostic_survey_2023.xlsx`.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rust_xlsxwriter::Format;

use crate::clusters::{CLUSTERS, Cluster, Location, OTHER_TRADES};
use crate::names::{FAMILY, Gender, MALE_GIVEN, People, Person};
use crate::util::{
    header_format, log_uniform, messy_district, new_workbook, pick, round_to, thousands, weighted,
    weighted_index,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalForm {
    Sole,
    Partnership,
    PvtLtd,
    Smc,
}

impl LegalForm {
    pub fn is_company(self) -> bool {
        matches!(self, LegalForm::PvtLtd | LegalForm::Smc)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Size {
    Micro,
    Small,
    Medium,
    Large,
}

#[derive(Debug, Clone)]
pub struct Firm {
    /// Index into `CLUSTERS`; `None` for the few registry units of other trades.
    pub cluster: Option<usize>,
    pub psic: &'static str,
    /// The name without a legal-form suffix, e.g. `Al-Noor Surgical Works`.
    pub base_name: String,
    pub survey_name: String,
    pub registry_name: String,
    pub size: Size,
    pub district: &'static str,
    pub tehsil: &'static str,
    pub address: String,
    pub ntn: Option<String>,
    pub ntn_in_survey: bool,
    pub secp: Option<String>,
    pub year_established: i32,
    pub employees: u32,
    pub female: u32,
    pub turnover_pkr: u64,
    pub exports_usd: u64,
    pub certifications: String,
    pub owner: Person,
    pub contact: Person,
    pub contact_role: &'static str,
    pub survey_id: Option<String>,
    pub in_registry: bool,
    pub unit_no: Option<String>,
    pub registration_date: Option<NaiveDate>,
    pub status: &'static str,
    pub registry_employees: u32,
}

impl Firm {
    pub fn cluster_def(&self) -> Option<&'static Cluster> {
        self.cluster.map(|i| &CLUSTERS[i])
    }
}

const PREFIXES: &[&str] = &[
    "Al-Noor",
    "Crescent",
    "Ravi",
    "Indus",
    "Chenab",
    "Al-Madina",
    "Mehran",
    "Shalimar",
    "Iqbal",
    "Fazal",
    "Zam Zam",
    "Al-Rehman",
    "Star",
    "Royal",
    "Pak",
    "Golden",
    "Bismillah",
    "Sitara",
    "Kashmir",
    "Margalla",
    "Noor",
    "Rehmat",
    "Ghani",
    "Al-Hamd",
    "Anmol",
    "Everest",
    "Falcon",
    "Eagle",
    "Unique",
    "Prime",
    "Elite",
    "Nawab",
    "Taj",
    "Sunrise",
    "Al-Karim",
    "Friends",
    "National",
    "United",
    "Hilal",
    "Sufi",
    "New Lahore",
    "Punjab",
    "Jhelum",
    "Sutlej",
    "Al-Fateh",
    "Classic",
    "Modern",
    "Allied",
    "Paramount",
    "Zenith",
    "Al-Aziz",
    "Madni",
    "Shaheen",
    "Khyber",
];

const CONTACT_ROLES: &[&str] = &[
    "General Manager",
    "Manager Admin",
    "Export Manager",
    "Production Manager",
    "Director",
    "Accounts Officer",
];

fn pick_location<'a>(rng: &mut StdRng, locations: &'a [Location]) -> &'a Location {
    let w: Vec<f64> = locations.iter().map(|l| l.weight).collect();
    &locations[weighted_index(rng, &w)]
}

/// `45-B, Kashmir Road, Sialkot`
pub fn street_address(rng: &mut StdRng, loc: &Location) -> String {
    let locality = pick(rng, loc.localities);
    let number = match rng.random_range(0..4) {
        0 => format!("Plot {}", rng.random_range(1..120)),
        1 => format!(
            "{}-{}",
            rng.random_range(1..300),
            pick(rng, &["A", "B", "C", "D"])
        ),
        2 => format!("Street {}", rng.random_range(1..25)),
        _ => format!("House {}", rng.random_range(1..500)),
    };
    format!("{number}, {locality}, {}", loc.town)
}

fn firm_name(
    rng: &mut StdRng,
    nouns: &[&str],
    owner: &Person,
    used: &mut HashSet<String>,
) -> String {
    loop {
        let noun = pick(rng, nouns);
        let family = owner.name.rsplit(' ').next().unwrap_or("Khan");
        let name = match rng.random_range(0..20) {
            0..=10 => format!("{} {noun}", pick(rng, PREFIXES)),
            11..=14 => format!("{family} {noun}"),
            15..=17 => format!("{} {noun}", pick(rng, MALE_GIVEN)),
            _ => format!("{} Brothers {noun}", pick(rng, FAMILY)),
        };
        if used.insert(name.to_lowercase()) {
            return name;
        }
    }
}

fn survey_suffix(rng: &mut StdRng, legal: LegalForm) -> &'static str {
    match legal {
        LegalForm::PvtLtd if rng.random_bool(0.75) => " (Pvt) Ltd",
        LegalForm::Smc if rng.random_bool(0.75) => " (SMC-Pvt) Ltd",
        LegalForm::Partnership if rng.random_bool(0.3) => " & Co.",
        _ => "",
    }
}

/// The registry clerk's spelling of a firm name.
fn registry_variant(rng: &mut StdRng, base: &str, legal: LegalForm) -> String {
    let mut n = base.to_string();
    if rng.random_bool(0.5) {
        n = n.replace('-', " ");
    }
    if rng.random_bool(0.4) {
        n = n.replace(" & ", " and ");
    }
    let suffix = match legal {
        LegalForm::PvtLtd => *pick(
            rng,
            &[
                " (Pvt) Ltd",
                " (PVT.) LTD.",
                " (Private) Limited",
                " (Pvt.) Limited",
            ],
        ),
        LegalForm::Smc => *pick(rng, &[" (SMC-Pvt) Ltd", " (SMC-Private) Limited"]),
        LegalForm::Partnership => *pick(rng, &["", " & Co."]),
        LegalForm::Sole => "",
    };
    n.push_str(suffix);
    if rng.random_bool(0.65) {
        n = n.to_uppercase();
    }
    if rng.random_bool(0.15) {
        n = format!("M/S {n}");
    }
    n
}

struct Draft<'a> {
    cluster: Option<usize>,
    psic: &'static str,
    loc: &'a Location,
    nouns: &'a [&'a str],
    size: Size,
}

fn sample_size(rng: &mut StdRng, in_survey: bool) -> Size {
    let tiers = if in_survey {
        [
            (Size::Micro, 0.40),
            (Size::Small, 0.45),
            (Size::Medium, 0.15),
        ]
    } else {
        [
            (Size::Micro, 0.55),
            (Size::Small, 0.38),
            (Size::Medium, 0.07),
        ]
    };
    *weighted(rng, &tiers)
}

fn build(rng: &mut StdRng, people: &mut People, used: &mut HashSet<String>, d: Draft) -> Firm {
    let c = d.cluster.map(|i| &CLUSTERS[i]);
    let employees = match d.size {
        Size::Micro => log_uniform(rng, 2, 9),
        Size::Small => log_uniform(rng, 10, 49),
        Size::Medium => log_uniform(rng, 50, 249),
        Size::Large => log_uniform(rng, 260, 900),
    };
    let year_established = match d.size {
        Size::Large | Size::Medium => rng.random_range(1965..=2010),
        Size::Small => rng.random_range(1975..=2018),
        Size::Micro => rng.random_range(1988..=2022),
    };
    let legal = {
        let w = match d.size {
            Size::Large | Size::Medium => [0.05, 0.1, 0.8, 0.05],
            Size::Small => [0.4, 0.2, 0.35, 0.05],
            Size::Micro => [0.68, 0.2, 0.08, 0.04],
        };
        [
            LegalForm::Sole,
            LegalForm::Partnership,
            LegalForm::PvtLtd,
            LegalForm::Smc,
        ][weighted_index(rng, &w)]
    };
    let woman_owner = rng.random_bool(if d.cluster == Some(1) { 0.1 } else { 0.03 });
    let owner = people.person(
        rng,
        if woman_owner {
            Gender::Female
        } else {
            Gender::Male
        },
        d.loc.district,
    );
    let (contact, contact_role) = if rng.random_bool(0.55) {
        (
            owner.clone(),
            if legal.is_company() { "CEO" } else { "Owner" },
        )
    } else {
        let g = if rng.random_bool(0.1) {
            Gender::Female
        } else {
            Gender::Male
        };
        (
            people.person(rng, g, d.loc.district),
            *pick(rng, CONTACT_ROLES),
        )
    };
    let base_name = firm_name(rng, d.nouns, &owner, used);
    let survey_name = format!("{base_name}{}", survey_suffix(rng, legal));
    let registry_name = registry_variant(rng, &base_name, legal);

    let has_ntn = rng.random_bool(match (legal.is_company(), legal, d.size) {
        (true, _, _) => 0.97,
        (_, _, Size::Large | Size::Medium) => 0.9,
        (_, LegalForm::Partnership, _) => 0.8,
        (_, _, Size::Small) => 0.75,
        _ => 0.55,
    });
    let ntn = has_ntn.then(|| people.ntn(rng));
    let ntn_in_survey = has_ntn && rng.random_bool(0.94);
    let secp =
        (rng.random_bool(if legal.is_company() { 0.92 } else { 0.03 })).then(|| people.secp(rng));

    let (female_share, no_women, export_prob, tpw, certs) = match c {
        Some(c) => (
            c.female_share,
            c.no_women,
            c.export_prob,
            c.turnover_per_worker,
            c.certs,
        ),
        None => (
            (0.02, 0.2),
            0.5,
            0.5,
            (1_000_000.0, 2_500_000.0),
            &[("", 1.0)][..],
        ),
    };
    let female = if rng.random_bool(no_women) && d.size < Size::Medium {
        0
    } else {
        let share = rng.random_range(female_share.0..female_share.1);
        ((employees as f64 * share).round() as u32).min(employees)
    };
    let per_worker = rng.random_range(tpw.0..tpw.1);
    let step = if employees < 10 { 50_000.0 } else { 100_000.0 };
    let turnover_pkr = round_to(employees as f64 * per_worker, step).max(300_000);
    let exporter = rng.random_bool(match d.size {
        Size::Micro => export_prob * 0.5,
        _ => (export_prob * 1.2).min(0.97),
    });
    let exports_usd = if exporter {
        let share = rng.random_range(0.3..0.95);
        round_to(turnover_pkr as f64 * share / 250.0, 1000.0)
    } else {
        0
    };
    let certifications = if exporter {
        weighted(rng, certs).to_string()
    } else if d.size >= Size::Small && rng.random_bool(0.1) {
        "ISO 9001".to_string()
    } else {
        String::new()
    };
    let address = street_address(rng, d.loc);
    Firm {
        cluster: d.cluster,
        psic: d.psic,
        base_name,
        survey_name,
        registry_name,
        size: d.size,
        district: d.loc.district,
        tehsil: d.loc.tehsil,
        address,
        ntn,
        ntn_in_survey,
        secp,
        year_established,
        employees,
        female,
        turnover_pkr,
        exports_usd,
        certifications,
        owner,
        contact,
        contact_role,
        survey_id: None,
        in_registry: false,
        unit_no: None,
        registration_date: None,
        status: "Active",
        registry_employees: employees,
    }
}

/// Generates all firms: survey firms of each cluster first (in survey order),
/// then registry-only units.
pub fn generate(rng: &mut StdRng, people: &mut People) -> Vec<Firm> {
    let mut used = HashSet::new();
    let mut survey = Vec::new();
    let mut registry_only = Vec::new();
    // One large firm in three of the four clusters.
    let large_in = [Some(0usize), Some(1), None, Some(3)];
    for (ci, c) in CLUSTERS.iter().enumerate() {
        let mut in_reg: Vec<bool> = (0..c.survey_firms)
            .map(|i| i < c.survey_in_registry)
            .collect();
        in_reg.shuffle(rng);
        let large_at = large_in[ci].map(|_| rng.random_range(0..c.survey_firms));
        for (k, reg) in in_reg.into_iter().enumerate() {
            let size = if Some(k) == large_at {
                Size::Large
            } else {
                sample_size(rng, true)
            };
            let psic = *weighted(rng, c.psic);
            let loc = pick_location(rng, c.locations);
            let mut f = build(
                rng,
                people,
                &mut used,
                Draft {
                    cluster: Some(ci),
                    psic,
                    loc,
                    nouns: c.nouns,
                    size,
                },
            );
            f.in_registry = reg;
            survey.push(f);
        }
        for _ in 0..c.registry_only {
            let size = sample_size(rng, false);
            let psic = *weighted(rng, c.psic);
            let loc = pick_location(rng, c.locations);
            let mut f = build(
                rng,
                people,
                &mut used,
                Draft {
                    cluster: Some(ci),
                    psic,
                    loc,
                    nouns: c.nouns,
                    size,
                },
            );
            f.in_registry = true;
            registry_only.push(f);
        }
    }
    for o in OTHER_TRADES {
        let size = sample_size(rng, false);
        let mut f = build(
            rng,
            people,
            &mut used,
            Draft {
                cluster: None,
                psic: o.psic,
                loc: &o.location,
                nouns: o.nouns,
                size,
            },
        );
        f.in_registry = true;
        registry_only.push(f);
    }
    for (i, f) in survey.iter_mut().enumerate() {
        f.survey_id = Some(format!("DS23-{:04}", i + 1));
    }
    // Three owners own a second, registry-only unit in the same district.
    let mut owners_used: HashSet<usize> = HashSet::new();
    let mut clusters_done = HashSet::new();
    for r in registry_only.iter_mut() {
        if r.cluster.is_none() || r.cluster == Some(2) || clusters_done.contains(&r.cluster) {
            continue;
        }
        let found = survey.iter().enumerate().position(|(i, s)| {
            !owners_used.contains(&i)
                && s.in_registry
                && s.cluster == r.cluster
                && s.district == r.district
                && s.owner.gender == Gender::Male
        });
        if let Some(i) = found {
            owners_used.insert(i);
            clusters_done.insert(r.cluster);
            r.owner = survey[i].owner.clone();
            r.contact = survey[i].owner.clone();
        }
    }
    survey.extend(registry_only);
    survey
}

/// Writes `firms_cdi_diagnostic_survey_2023.xlsx`.
pub fn write_survey(rng: &mut StdRng, out: &Path, firms: &[Firm]) -> Result<()> {
    let mut wb = new_workbook("Punjab CDI Diagnostic Survey 2023")?;
    let ws = wb.add_worksheet();
    ws.set_name("Firms")?;
    let bold = header_format();
    let num = Format::new().set_num_format("#,##0");
    ws.write_string_with_format(
        0,
        0,
        "Punjab Industrial Cluster Development Initiative - Diagnostic Survey 2023",
        &bold,
    )?;
    ws.write_string(1, 0, "Source: CDI cluster teams, field survey Jan-Mar 2023")?;
    let headers = [
        "Sr. No.",
        "Survey ID",
        "Name of Unit",
        "Cluster",
        "District",
        "Tehsil",
        "Address",
        "NTN No.",
        "SECP Reg. No.",
        "Registry Unit No.",
        "Year Established",
        "Total Employees",
        "Female Employees",
        "Annual Turnover (PKR)",
        "Exports (USD)",
        "Certifications",
        "Contact Person",
        "Phone",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    let widths = [
        7, 11, 40, 24, 13, 15, 50, 12, 13, 15, 10, 10, 10, 18, 14, 26, 26, 14,
    ];
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let surveyed = firms.iter().filter(|f| f.survey_id.is_some());
    for (row, f) in (4u32..).zip(surveyed) {
        let c = f.cluster_def().expect("survey firms belong to a cluster");
        ws.write_number(row, 0, (row - 3) as f64)?;
        ws.write_string(row, 1, f.survey_id.as_deref().unwrap_or_default())?;
        ws.write_string(row, 2, &f.survey_name)?;
        ws.write_string(row, 3, c.slug)?;
        ws.write_string(row, 4, messy_district(rng, f.district))?;
        ws.write_string(row, 5, f.tehsil)?;
        ws.write_string(row, 6, &f.address)?;
        if let (Some(ntn), true) = (&f.ntn, f.ntn_in_survey) {
            ws.write_string(row, 7, ntn)?;
        }
        if let Some(secp) = &f.secp {
            ws.write_string(row, 8, secp)?;
        }
        if let Some(unit) = &f.unit_no {
            ws.write_string(row, 9, unit)?;
        }
        ws.write_number(row, 10, f.year_established as f64)?;
        ws.write_number(row, 11, f.employees as f64)?;
        ws.write_number(row, 12, f.female as f64)?;
        if rng.random_bool(0.2) {
            ws.write_string(row, 13, thousands(f.turnover_pkr))?;
        } else {
            ws.write_number_with_format(row, 13, f.turnover_pkr as f64, &num)?;
        }
        ws.write_number_with_format(row, 14, f.exports_usd as f64, &num)?;
        if !f.certifications.is_empty() {
            ws.write_string(row, 15, &f.certifications)?;
        }
        ws.write_string(row, 16, &f.contact.name)?;
        ws.write_string(row, 17, &f.contact.mobile)?;
    }
    ws.set_freeze_panes(4, 0)?;
    wb.save(out.join("firms_cdi_diagnostic_survey_2023.xlsx"))?;
    Ok(())
}
