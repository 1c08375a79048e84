//! The Punjab Small Industries Corporation's records: registered units,
//! industrial-estate plot allotments and small loans.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::clusters::CLUSTERS;
use crate::firms::{Firm, Size};
use crate::names::{Gender, People, Person};
use crate::util::{csv_writer, dmy, messy_district, pick, plus_days, random_date, weighted, ymd};

/// Unit number prefix of a district.
fn unit_prefix(district: &str) -> &'static str {
    match district {
        "Sialkot" => "SKT",
        "Gujranwala" => "GRW",
        "Sheikhupura" => "SKP",
        "Kasur" => "KSR",
        _ => "LHR",
    }
}

/// Gives registry firms a registration date, status, registered head count
/// and a unit number (`SKT-00123`) that grows with the registration date.
pub fn assign_units(rng: &mut StdRng, firms: &mut [Firm]) {
    for f in firms.iter_mut().filter(|f| f.in_registry) {
        let founded = ymd(f.year_established, 1, 1).max(ymd(2017, 1, 1));
        let latest = if f.survey_id.is_some() {
            ymd(2023, 3, 31)
        } else {
            ymd(2024, 6, 30)
        };
        f.registration_date = Some(random_date(rng, founded, latest.max(founded)));
        let statuses: [(&'static str, f64); 3] = if f.survey_id.is_some() {
            [("Active", 0.92), ("Inactive", 0.06), ("Closed", 0.02)]
        } else {
            [("Active", 0.65), ("Inactive", 0.2), ("Closed", 0.15)]
        };
        f.status = *weighted(rng, &statuses);
        if f.survey_id.is_some() {
            let factor = rng.random_range(0.6..1.1);
            f.registry_employees = ((f.employees as f64 * factor).round() as u32).max(1);
        }
    }
    let mut by_prefix: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in firms.iter().enumerate().filter(|(_, f)| f.in_registry) {
        by_prefix
            .entry(unit_prefix(f.district))
            .or_default()
            .push(i);
    }
    for (prefix, mut idx) in by_prefix {
        idx.sort_by_key(|&i| (firms[i].registration_date, i));
        let mut n: u32 = rng.random_range(100..400);
        for i in idx {
            n += rng.random_range(1..25);
            firms[i].unit_no = Some(format!("{prefix}-{n:05}"));
        }
    }
}

pub fn write_units(rng: &mut StdRng, out: &Path, firms: &[Firm]) -> Result<usize> {
    let mut w = csv_writer(&out.join("psic_punjab_registered_units.csv"), true, true)?;
    w.write_record([
        "Unit No",
        "Unit Name",
        "Owner Name",
        "Owner CNIC",
        "NTN",
        "Address",
        "District",
        "Tehsil",
        "Industry Code",
        "Employees",
        "Registration Date",
        "Status",
    ])?;
    let mut units: Vec<&Firm> = firms.iter().filter(|f| f.in_registry).collect();
    units.sort_by_key(|f| f.unit_no.clone());
    for f in &units {
        let owner = if rng.random_bool(0.4) {
            f.owner.name.to_uppercase()
        } else {
            f.owner.name.clone()
        };
        let address = if rng.random_bool(0.4) {
            f.address.to_uppercase()
        } else {
            f.address.clone()
        };
        let district = if rng.random_bool(0.6) {
            f.district.to_uppercase()
        } else {
            messy_district(rng, f.district)
        };
        w.write_record([
            f.unit_no.as_deref().unwrap_or_default(),
            &f.registry_name,
            &owner,
            &f.owner.cnic,
            f.ntn.as_deref().unwrap_or_default(),
            &address,
            &district,
            f.tehsil,
            f.psic,
            &f.registry_employees.to_string(),
            &dmy(f.registration_date.expect("registered")),
            f.status,
        ])?;
    }
    w.flush()?;
    Ok(units.len())
}

struct Estate {
    name: &'static str,
    district: &'static str,
    tehsil: &'static str,
    /// How the estate appears in an address.
    address: &'static str,
    blocks: &'static [&'static str],
    rows: usize,
}

const ESTATES: &[Estate] = &[
    Estate {
        name: "Small Industrial Estate Sialkot",
        district: "Sialkot",
        tehsil: "Sialkot",
        address: "Small Industrial Estate, Sialkot",
        blocks: &["A", "B"],
        rows: 16,
    },
    Estate {
        name: "Small Industrial Estate Gujranwala",
        district: "Gujranwala",
        tehsil: "Gujranwala City",
        address: "Small Industrial Estate, Gujranwala",
        blocks: &["C"],
        rows: 8,
    },
    Estate {
        name: "Small Industrial Estate Kot Lakhpat Lahore",
        district: "Lahore",
        tehsil: "Model Town",
        address: "Small Industrial Estate Kot Lakhpat, Lahore",
        blocks: &[""],
        rows: 16,
    },
];

#[derive(Debug)]
pub struct Allotment {
    pub estate: &'static str,
    pub plot: String,
    pub unit_no: Option<String>,
    pub date: Option<NaiveDate>,
    pub status: &'static str,
}

/// Allots estate plots to registry units; an allotted unit's address (and
/// tehsil) becomes the plot when the allotment predates the 2023 survey.
pub fn allot_plots(rng: &mut StdRng, firms: &mut [Firm]) -> Vec<Allotment> {
    let mut rows = Vec::new();
    let mut used: HashSet<usize> = HashSet::new();
    let end = ymd(2024, 6, 30);
    for e in ESTATES {
        let mut candidates: Vec<usize> = firms
            .iter()
            .enumerate()
            .filter(|(_, f)| f.in_registry && f.district == e.district && f.status != "Closed")
            .map(|(i, _)| i)
            .collect();
        candidates.shuffle(rng);
        let mut plots = HashSet::new();
        let mut count = 0;
        let mut estate_rows = Vec::new();
        while count < e.rows {
            let plot = loop {
                let block = pick(rng, e.blocks);
                let p = if block.is_empty() {
                    rng.random_range(1..180).to_string()
                } else {
                    format!("{block}-{}", rng.random_range(1..60))
                };
                if plots.insert(p.clone()) {
                    break p;
                }
            };
            let roll = rng.random_range(0..100);
            let next = |c: &mut Vec<usize>, used: &mut HashSet<usize>| {
                let i = c.pop()?;
                used.insert(i);
                Some(i)
            };
            if roll < 14 || candidates.is_empty() {
                estate_rows.push(Allotment {
                    estate: e.name,
                    plot,
                    unit_no: None,
                    date: None,
                    status: "Vacant",
                });
                count += 1;
                continue;
            }
            let mut from = ymd(2017, 1, 1);
            if roll < 30 && count + 2 <= e.rows && candidates.len() >= 2 {
                let a = next(&mut candidates, &mut used).expect("two candidates");
                let start = firms[a].registration_date.expect("registered").max(from);
                let d1 = random_date(rng, start, start.max(ymd(2022, 6, 30)));
                estate_rows.push(Allotment {
                    estate: e.name,
                    plot: plot.clone(),
                    unit_no: firms[a].unit_no.clone(),
                    date: Some(d1),
                    status: "Cancelled",
                });
                count += 1;
                from = plus_days(d1, 60);
            }
            let b = next(&mut candidates, &mut used).expect("a candidate");
            let start = firms[b].registration_date.expect("registered").max(from);
            let d = random_date(rng, start, start.max(end));
            let f = &mut firms[b];
            estate_rows.push(Allotment {
                estate: e.name,
                plot: plot.clone(),
                unit_no: f.unit_no.clone(),
                date: Some(d),
                status: "Allotted",
            });
            count += 1;
            if f.survey_id.is_none() || d <= ymd(2023, 3, 31) {
                f.tehsil = e.tehsil;
                f.address = format!("Plot No. {plot}, {}", e.address);
            }
        }
        estate_rows.sort_by(|a, b| {
            let key = |p: &str| {
                let (blk, n) = p.rsplit_once('-').unwrap_or(("", p));
                (blk.to_string(), n.parse::<u32>().unwrap_or(0))
            };
            key(&a.plot).cmp(&key(&b.plot)).then(a.date.cmp(&b.date))
        });
        rows.extend(estate_rows);
    }
    rows
}

pub fn write_allotments(out: &Path, rows: &[Allotment]) -> Result<()> {
    let mut w = csv_writer(&out.join("psic_punjab_estate_allotments.csv"), false, true)?;
    w.write_record(["Estate", "Plot No", "Unit No", "Allotment Date", "Status"])?;
    for a in rows {
        w.write_record([
            a.estate,
            &a.plot,
            a.unit_no.as_deref().unwrap_or_default(),
            &a.date.map(dmy).unwrap_or_default(),
            a.status,
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[derive(Debug)]
struct Loan {
    scheme: &'static str,
    borrower: Person,
    unit_no: Option<String>,
    amount: u64,
    sanctioned: NaiveDate,
    disbursed: Option<NaiveDate>,
    district: &'static str,
}

const CDL: &str = "Cluster Development Loan";
const CIL: &str = "Cottage Industry Loan";

/// Writes `psic_punjab_loans.csv`; returns the number of loans.
pub fn write_loans(
    rng: &mut StdRng,
    people: &mut People,
    out: &Path,
    firms: &[Firm],
) -> Result<usize> {
    let eligible: Vec<&Firm> = firms
        .iter()
        .filter(|f| f.in_registry && f.size <= Size::Small && f.status != "Closed")
        .collect();
    let mut loans = Vec::new();
    let mut taken = HashSet::new();
    while loans.len() < 45 {
        let f = *pick(rng, &eligible);
        let scheme = if f.cluster.is_some() && rng.random_bool(0.6) {
            CDL
        } else {
            CIL
        };
        if !taken.insert((f.unit_no.clone(), scheme)) {
            continue;
        }
        let start = f
            .registration_date
            .expect("registered")
            .max(ymd(2018, 1, 1));
        let sanctioned = random_date(rng, start, start.max(ymd(2024, 11, 30)));
        loans.push(Loan {
            scheme,
            borrower: f.owner.clone(),
            unit_no: f.unit_no.clone(),
            amount: loan_amount(rng, scheme),
            sanctioned,
            disbursed: None,
            district: f.district,
        });
    }
    // Cottage borrowers without a registered unit.
    for _ in 0..5 {
        let c = pick(rng, CLUSTERS);
        let district = *pick(rng, c.districts);
        let g = if rng.random_bool(0.4) {
            Gender::Female
        } else {
            Gender::Male
        };
        loans.push(Loan {
            scheme: CIL,
            borrower: people.person(rng, g, district),
            unit_no: None,
            amount: loan_amount(rng, CIL),
            sanctioned: random_date(rng, ymd(2018, 1, 1), ymd(2024, 11, 30)),
            disbursed: None,
            district,
        });
    }
    loans.sort_by_key(|l| l.sanctioned);
    let n = loans.len();
    for (i, l) in loans.iter_mut().enumerate() {
        // The last few sanctions are still awaiting disbursement.
        if i < n - 4 {
            let d = plus_days(l.sanctioned, rng.random_range(7..60));
            l.disbursed = Some(d.min(ymd(2024, 12, 31)));
        }
    }
    let mut w = csv_writer(&out.join("psic_punjab_loans.csv"), false, true)?;
    w.write_record([
        "Loan No",
        "Scheme",
        "Borrower Name",
        "Borrower CNIC",
        "Unit No",
        "Amount (PKR)",
        "Sanction Date",
        "Disbursement Date",
        "District",
    ])?;
    let mut serial: BTreeMap<(&str, i32), u32> = BTreeMap::new();
    for l in &loans {
        use chrono::Datelike;
        let abbr = if l.scheme == CDL { "CDL" } else { "CIL" };
        let year = l.sanctioned.year();
        let s = serial.entry((abbr, year)).or_insert(0);
        *s += 1;
        let name = if rng.random_bool(0.3) {
            l.borrower.name.to_uppercase()
        } else {
            l.borrower.name.clone()
        };
        w.write_record([
            &format!("{abbr}-{year}-{s:03}"),
            l.scheme,
            &name,
            &l.borrower.cnic,
            l.unit_no.as_deref().unwrap_or_default(),
            &l.amount.to_string(),
            &dmy(l.sanctioned),
            &l.disbursed.map(dmy).unwrap_or_default(),
            &messy_district(rng, l.district),
        ])?;
    }
    w.flush()?;
    Ok(n)
}

fn loan_amount(rng: &mut StdRng, scheme: &str) -> u64 {
    let (lo, hi) = if scheme == CDL { (10, 30) } else { (3, 15) };
    rng.random_range(lo..=hi) * 10_000
}
