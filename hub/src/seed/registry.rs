//! The registries of the Punjab Small Industries Corporation (source `psic-punjab`):
//! registered units, small-industrial-estate plot allotments and loans.
//!
//! ```text
//! (lines wrapped here for reading)
//! Unit No,Unit Name,Owner Name,Owner CNIC,NTN,Address,District,Tehsil,Industry Code,
//!   Employees,Registration Date,Status
//! GRW-00330,FAZAL PRECISION ENGINEERING & CO.,…,…,8767525-4,"Plot No. C-59, …",GUJRANWALA,
//!   Gujranwala City,29302,220,19/03/2018,Active
//!
//! Estate,Plot No,Unit No,Allotment Date,Status
//! Small Industrial Estate Sialkot,A-1,SKT-00715,28/06/2022,Cancelled
//!
//! Loan No,Scheme,Borrower Name,Borrower CNIC,Unit No,Amount (PKR),Sanction Date,
//!   Disbursement Date,District
//! CIL-2019-001,Cottage Industry Loan,…,…,LHR-00489,130000,30/03/2019,28/05/2019,Lahore
//! ```
//!
//! The exports are UTF-8 with a byte-order mark, dates `dd/mm/yyyy`, district names in
//! assorted case. The industry code is a Pakistan Standard Industrial Classification Rev.4
//! code (`PK-PSIC-R4`). A unit's owner is a person, not an identifier of the unit.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike as _, NaiveDate};
use hub_schema::domain::{
    Cnic, IdentifierScheme, Period, PsicCode, RegistryUnitNumber, normalise_name, parse_ntn,
};
use hub_schema::entity::{industrial_estates, loans, plot_allotments, plots};
use sea_orm::ActiveModelTrait as _;
use serde_json::json;

use super::csvfile::CsvFile;
use super::firms::{ClusterClaim, FirmRecord, Firms, Ident, Observation};
use super::people::{AffiliationSpec, CnicRef, PersonRecord, Persons};
use super::values::{count, legal_form, parse_date, parse_number};
use super::{Ctx, DemoFile, Loc};
use crate::provenance::insert_chunked;

const SOURCE: &str = "psic-punjab";

/// The date of the registry export: the day the demo bundle was generated. The records are
/// observed on that day, but the head count in them is the one declared at registration
/// (`hub/demo/README.md`), so it is an observation of the registration year (of the export
/// year when the registration date is missing).
fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 12, 31).expect("a valid date")
}

/// A registered unit: the firm as the registry has it, and its owner.
pub(super) struct Unit {
    pub(super) firm: FirmRecord,
    pub(super) owner: Option<PersonRecord>,
}

/// Reads `psic_punjab_registered_units.csv`.
pub(super) fn parse_units(ctx: &mut Ctx<'_>) -> anyhow::Result<Vec<Unit>> {
    parse_units_from(ctx, DemoFile::Units.bytes())
}

/// Reads units from `bytes` in the layout of `psic_punjab_registered_units.csv`.
pub(super) fn parse_units_from(ctx: &mut Ctx<'_>, bytes: &[u8]) -> anyhow::Result<Vec<Unit>> {
    const FILE: DemoFile = DemoFile::Units;
    let csv = CsvFile::parse(
        bytes,
        FILE.name(),
        &[
            "Unit No",
            "Unit Name",
            "Owner CNIC",
            "NTN",
            "District",
            "Tehsil",
            "Industry Code",
        ],
    )?;
    ctx.read(FILE, csv.len());
    let mut seen = HashSet::new();
    let mut units = Vec::new();
    for (line, rec) in csv.records() {
        let loc = Loc::new(FILE, None, line);
        let Some(unit) = unit_number(ctx, &loc, rec.get("Unit No"), true) else {
            continue;
        };
        if !seen.insert(unit.clone()) {
            ctx.reject(
                &loc,
                "Unit No",
                "unit_number",
                "duplicate_key",
                "The unit number appears on an earlier row; the row is skipped.",
            );
            continue;
        }
        let Some(name) = rec.get("Unit Name") else {
            ctx.reject(
                &loc,
                "Unit Name",
                "name",
                "missing_value",
                "The unit name is empty; the row is skipped.",
            );
            continue;
        };
        let district_text = rec.get("District");
        let tehsil_text = rec.get("Tehsil");
        let Some((district_id, tehsil_id)) = ctx.place(
            &loc,
            ("District", district_text.as_deref()),
            ("Tehsil", tehsil_text.as_deref()),
            Some(as_of()),
        ) else {
            continue;
        };
        let mut identifiers = vec![Ident::plain(IdentifierScheme::PsicPunjabUnit, &unit)];
        if let Some(raw) = rec.get("NTN") {
            match parse_ntn(&raw) {
                Ok(parsed) => identifiers.push(Ident::ntn(parsed, ctx.key)),
                Err(e) => {
                    ctx.reject(
                        &loc,
                        "NTN",
                        "ntn",
                        "invalid_identifier",
                        format!("{e} The row is skipped."),
                    );
                    continue;
                }
            }
        }
        let industry_code = rec
            .get("Industry Code")
            .and_then(|raw| match PsicCode::parse(&raw) {
                Ok(code) => Some(code.as_str().to_owned()),
                Err(e) => {
                    ctx.warn(
                        &loc,
                        "Industry Code",
                        "industry_code",
                        "invalid_industry_code",
                        format!("{e} The unit is kept without it."),
                    );
                    None
                }
            });
        let employees = rec.get("Employees").and_then(|raw| {
            let n = parse_number(&raw).and_then(count);
            if n.is_none() {
                ctx.warn(
                    &loc,
                    "Employees",
                    "employees_total",
                    "invalid_number",
                    "The number of employees is not a whole number; it is left out.",
                );
            }
            n
        });
        let registered_on = rec.get("Registration Date").and_then(|raw| {
            let d = parse_date(&raw);
            if d.is_none() {
                ctx.warn(
                    &loc,
                    "Registration Date",
                    "registered_on",
                    "invalid_date",
                    "The registration date is not a date written dd/mm/yyyy; it is left out.",
                );
            }
            d
        });
        let status = match rec.get("Status").map(|s| s.to_lowercase()).as_deref() {
            Some("active") => Some("active"),
            Some("inactive") => Some("inactive"),
            Some("closed") => Some("closed"),
            None => None,
            Some(_) => {
                ctx.warn(
                    &loc,
                    "Status",
                    "status",
                    "unknown_status",
                    "The status is not Active, Inactive or Closed; it is recorded as unknown.",
                );
                Some("unknown")
            }
        };
        let owner_key = format!("owner:{unit}");
        let owner_name = rec.get("Owner Name");
        let owner_cnic = rec
            .get("Owner CNIC")
            .and_then(|raw| match Cnic::parse(&raw) {
                Ok(cnic) => Some(CnicRef::new(&cnic, ctx.key)),
                Err(e) => {
                    ctx.warn(
                        &loc,
                        "Owner CNIC",
                        "owner_cnic",
                        "invalid_identifier",
                        format!("{e} The owner is kept without it."),
                    );
                    None
                }
            });
        let owner = (owner_name.is_some() || owner_cnic.is_some()).then(|| PersonRecord {
            loc: loc.clone(),
            source: SOURCE,
            key: owner_key,
            full_name: owner_name,
            sex: None,
            cnic: owner_cnic,
            phone: None,
            observed_on: Some(as_of()),
            attributes: None,
        });
        let closed = status == Some("closed");
        units.push(Unit {
            firm: FirmRecord {
                loc: loc.clone(),
                source: SOURCE,
                key: unit,
                legal_form: legal_form(&name),
                name,
                district_text,
                tehsil_text,
                district_id: Some(district_id),
                tehsil_id,
                address: rec.get("Address"),
                industry_code,
                founded_year: None,
                employees_total: employees,
                employees_female: None,
                registered_on,
                status,
                observed_on: as_of(),
                attributes: None,
                identifiers,
                clusters: if closed {
                    ClusterClaim::None
                } else {
                    ClusterClaim::ByActivity
                },
                observations: employees
                    .map(|n| Observation {
                        period: Period::year(registered_on.unwrap_or(as_of()).year()).ok(),
                        employees_total: Some(n),
                        ..Observation::default()
                    })
                    .into_iter()
                    .collect(),
            },
            owner,
        });
    }
    Ok(units)
}

/// A registry unit number, canonical; an empty (when `required`) or malformed one is a
/// row error.
fn unit_number(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    raw: Option<String>,
    required: bool,
) -> Option<String> {
    match raw {
        None if required => {
            ctx.reject(
                loc,
                "Unit No",
                "unit_number",
                "missing_value",
                "The unit number is empty; the row is skipped.",
            );
            None
        }
        None => None,
        Some(raw) => match RegistryUnitNumber::parse(&raw) {
            Ok(unit) => Some(unit.as_str().to_owned()),
            Err(e) => {
                ctx.reject(
                    loc,
                    "Unit No",
                    "unit_number",
                    "invalid_identifier",
                    format!("{e} The row is skipped."),
                );
                None
            }
        },
    }
}

/// The owners of units are affiliated with the unit's firm from its registration.
pub(super) fn owner_affiliations(units: &[Unit], firms: &Firms) -> Vec<AffiliationSpec> {
    units
        .iter()
        .filter_map(|u| {
            let owner = u.owner.as_ref()?;
            Some(AffiliationSpec {
                loc: u.firm.loc.clone(),
                person: (SOURCE, owner.key.clone()),
                organisation_id: firms.organisation(SOURCE, &u.firm.key)?,
                role: "owner",
                title: None,
                valid_from: u.firm.registered_on,
                source: SOURCE,
                key: owner.key.clone(),
            })
        })
        .collect()
}

/// One row of the allotment register.
pub(super) struct Allotment {
    loc: Loc,
    estate: String,
    plot: String,
    unit: Option<String>,
    date: Option<NaiveDate>,
    status: &'static str,
}

/// Reads `psic_punjab_estate_allotments.csv`.
pub(super) fn parse_allotments(ctx: &mut Ctx<'_>) -> anyhow::Result<Vec<Allotment>> {
    const FILE: DemoFile = DemoFile::Allotments;
    let csv = CsvFile::parse(
        FILE.bytes(),
        FILE.name(),
        &["Estate", "Plot No", "Unit No", "Status"],
    )?;
    ctx.read(FILE, csv.len());
    let mut rows = Vec::new();
    for (line, rec) in csv.records() {
        let loc = Loc::new(FILE, None, line);
        let (Some(estate), Some(plot)) = (rec.get("Estate"), rec.get("Plot No")) else {
            ctx.reject(
                &loc,
                "Plot No",
                "plot_number",
                "missing_value",
                "The estate or plot number is empty; the row is skipped.",
            );
            continue;
        };
        let unit_raw = rec.get("Unit No");
        let has_unit = unit_raw.is_some();
        let unit = unit_number(ctx, &loc, unit_raw, false);
        if has_unit && unit.is_none() {
            continue;
        }
        let status = match rec.get("Status").map(|s| s.to_lowercase()).as_deref() {
            Some("allotted") => "allotted",
            Some("cancelled" | "canceled") => "cancelled",
            Some("vacant") => "vacant",
            None if unit.is_none() => "vacant",
            _ => {
                ctx.reject(
                    &loc,
                    "Status",
                    "status",
                    "unknown_status",
                    "The status is not Allotted, Cancelled or Vacant; the row is skipped.",
                );
                continue;
            }
        };
        let date = rec.get("Allotment Date").and_then(|raw| {
            let d = parse_date(&raw);
            if d.is_none() {
                ctx.warn(
                    &loc,
                    "Allotment Date",
                    "allotted_on",
                    "invalid_date",
                    "The allotment date is not a date written dd/mm/yyyy; it is left out.",
                );
            }
            d
        });
        rows.push(Allotment {
            loc,
            estate,
            plot,
            unit,
            date,
            status,
        });
    }
    Ok(rows)
}

/// One loan of the loan register.
pub(super) struct Loan {
    loc: Loc,
    number: String,
    scheme: String,
    pub(super) borrower: Option<PersonRecord>,
    unit: Option<String>,
    amount: Option<f64>,
    sanctioned: Option<NaiveDate>,
    disbursed: Option<NaiveDate>,
    district_id: Option<i64>,
}

/// Reads `psic_punjab_loans.csv`.
pub(super) fn parse_loans(ctx: &mut Ctx<'_>) -> anyhow::Result<Vec<Loan>> {
    const FILE: DemoFile = DemoFile::Loans;
    let csv = CsvFile::parse(
        FILE.bytes(),
        FILE.name(),
        &[
            "Loan No",
            "Scheme",
            "Borrower CNIC",
            "Unit No",
            "Amount (PKR)",
        ],
    )?;
    ctx.read(FILE, csv.len());
    let mut seen = HashSet::new();
    let mut loans = Vec::new();
    for (line, rec) in csv.records() {
        let loc = Loc::new(FILE, None, line);
        let (Some(number), Some(scheme)) = (rec.get("Loan No"), rec.get("Scheme")) else {
            ctx.reject(
                &loc,
                "Loan No",
                "loan_number",
                "missing_value",
                "The loan number or scheme is empty; the row is skipped.",
            );
            continue;
        };
        if !seen.insert(number.clone()) {
            ctx.reject(
                &loc,
                "Loan No",
                "loan_number",
                "duplicate_key",
                "The loan number appears on an earlier row; the row is skipped.",
            );
            continue;
        }
        let unit_raw = rec.get("Unit No");
        let has_unit = unit_raw.is_some();
        let unit = unit_number(ctx, &loc, unit_raw, false);
        if has_unit && unit.is_none() {
            continue;
        }
        let district_id = match rec.get("District") {
            None => None,
            Some(d) => match ctx.place(&loc, ("District", Some(&d)), ("District", None), None) {
                Some((id, _)) => Some(id),
                None => continue,
            },
        };
        let mut date = |column: &'static str, field: &'static str| {
            rec.get(column).and_then(|raw| {
                let d = parse_date(&raw);
                if d.is_none() {
                    ctx.warn(
                        &loc,
                        column,
                        field,
                        "invalid_date",
                        "The date is not written dd/mm/yyyy; it is left out.",
                    );
                }
                d
            })
        };
        let sanctioned = date("Sanction Date", "sanctioned_on");
        let disbursed = date("Disbursement Date", "disbursed_on");
        let amount = rec.get("Amount (PKR)").and_then(|raw| {
            let n = parse_number(&raw);
            if n.is_none() {
                ctx.warn(
                    &loc,
                    "Amount (PKR)",
                    "amount_pkr",
                    "invalid_number",
                    "The amount is not a number; it is left out.",
                );
            }
            n
        });
        let borrower_cnic = rec
            .get("Borrower CNIC")
            .and_then(|raw| match Cnic::parse(&raw) {
                Ok(cnic) => Some(CnicRef::new(&cnic, ctx.key)),
                Err(e) => {
                    ctx.warn(
                        &loc,
                        "Borrower CNIC",
                        "borrower_cnic",
                        "invalid_identifier",
                        format!("{e} The borrower is kept without it."),
                    );
                    None
                }
            });
        let borrower_name = rec.get("Borrower Name");
        let borrower = (borrower_name.is_some() || borrower_cnic.is_some()).then(|| PersonRecord {
            loc: loc.clone(),
            source: SOURCE,
            key: format!("borrower:{number}"),
            full_name: borrower_name,
            sex: None,
            cnic: borrower_cnic,
            phone: None,
            observed_on: sanctioned,
            attributes: Some(json!({"loan_number": number})),
        });
        loans.push(Loan {
            loc,
            number,
            scheme,
            borrower,
            unit,
            amount,
            sanctioned,
            disbursed,
            district_id,
        });
    }
    Ok(loans)
}

/// Borrowers are affiliated with the unit their loan is for.
pub(super) fn borrower_affiliations(loans: &[Loan], firms: &Firms) -> Vec<AffiliationSpec> {
    loans
        .iter()
        .filter_map(|l| {
            let borrower = l.borrower.as_ref()?;
            let unit = l.unit.as_deref()?;
            Some(AffiliationSpec {
                loc: l.loc.clone(),
                person: (SOURCE, borrower.key.clone()),
                organisation_id: firms.by_identifier(&IdentifierScheme::PsicPunjabUnit, unit)?,
                role: "borrower",
                title: None,
                valid_from: l.sanctioned,
                source: SOURCE,
                key: borrower.key.clone(),
            })
        })
        .collect()
}

/// Writes estates, plots, allotments and loans.
pub(super) async fn write(
    ctx: &mut Ctx<'_>,
    firms: &Firms,
    persons: &Persons,
    allotments: Vec<Allotment>,
    loans: Vec<Loan>,
) -> anyhow::Result<()> {
    write_allotments(ctx, firms, allotments).await?;
    write_loans(ctx, firms, persons, loans).await
}

async fn write_allotments(
    ctx: &mut Ctx<'_>,
    firms: &Firms,
    allotments: Vec<Allotment>,
) -> anyhow::Result<()> {
    const FILE: DemoFile = DemoFile::Allotments;
    if allotments.is_empty() {
        return Ok(());
    }
    let source_id = ctx.source(FILE, SOURCE).await?.id;

    // Estates, in order of appearance; the district is read from the estate's name.
    let mut estates: Vec<(String, &Loc)> = Vec::new();
    for a in &allotments {
        if !estates
            .iter()
            .any(|(name, _)| normalise_name(name) == normalise_name(&a.estate))
        {
            estates.push((a.estate.clone(), &a.loc));
        }
    }
    ctx.reserve(FILE, estates.len()).await?;
    let mut estate_ids = HashMap::new();
    for (name, loc) in estates {
        let district_id = district_in_name(ctx, &name);
        if district_id.is_none() {
            ctx.warn(
                loc,
                "Estate",
                "district",
                "unknown_district",
                "The estate's name names no known district; the estate is kept without one.",
            );
        }
        let key = normalise_name(&name);
        let model = row!(industrial_estates {
            name: name.clone(),
            name_key: key.clone(),
            district_id: district_id,
            source_id: Some(source_id),
            source_key: Some(format!("estate:{key}")),
        } @ ctx.prov(FILE, loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.industrial_estates += 1;
        estate_ids.insert(key, model.id);
    }

    // Plots, once per estate and number.
    let mut plot_ids: HashMap<(i64, String), i64> = HashMap::new();
    let mut new_plots: Vec<(i64, String, Loc)> = Vec::new();
    for a in &allotments {
        let estate_id = estate_ids[&normalise_name(&a.estate)];
        let key = (estate_id, a.plot.clone());
        if !new_plots.iter().any(|(e, p, _)| (*e, p.clone()) == key) {
            new_plots.push((estate_id, a.plot.clone(), a.loc.clone()));
        }
    }
    ctx.reserve(FILE, new_plots.len()).await?;
    for (estate_id, plot, loc) in new_plots {
        let model = row!(plots {
            estate_id: estate_id,
            plot_number: plot.clone(),
            area_sqm: None,
        } @ ctx.prov(FILE, loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.plots += 1;
        plot_ids.insert((estate_id, plot), model.id);
    }

    let mut keys = HashSet::new();
    let mut kept = Vec::new();
    for a in allotments {
        let estate_key = normalise_name(&a.estate);
        let key = format!(
            "{estate_key}|{}|{}|{}",
            a.plot,
            a.unit.as_deref().unwrap_or("vacant"),
            a.date.map(|d| d.to_string()).unwrap_or_default()
        );
        if !keys.insert(key.clone()) {
            ctx.reject(
                &a.loc,
                "Plot No",
                "plot_number",
                "duplicate_row",
                "The same allotment appears on an earlier row; the row is skipped.",
            );
            continue;
        }
        let organisation_id = a
            .unit
            .as_deref()
            .and_then(|u| firms.by_identifier(&IdentifierScheme::PsicPunjabUnit, u));
        if a.unit.is_some() && organisation_id.is_none() {
            ctx.warn(
                &a.loc,
                "Unit No",
                "unit_number",
                "unknown_unit",
                "The unit number is not in the unit register; the allotment \
                 is kept without a firm.",
            );
        }
        let plot_id = plot_ids[&(estate_ids[&estate_key], a.plot.clone())];
        kept.push((a, key, plot_id, organisation_id));
    }
    ctx.reserve(FILE, kept.len()).await?;
    let rows: Vec<_> = kept
        .into_iter()
        .map(|(a, key, plot_id, organisation_id)| {
            row!(plot_allotments {
                plot_id: plot_id,
                organisation_id: organisation_id,
                unit_number: a.unit,
                allotted_on: a.date,
                status: a.status.to_owned(),
                source_id: Some(source_id),
                source_key: Some(key),
            } @ ctx.prov(FILE, a.loc.source_ref()))
        })
        .collect();
    ctx.summary.plot_allotments += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}

/// The district a name ends with, as in "Small Industrial Estate Kot Lakhpat Lahore".
fn district_in_name(ctx: &Ctx<'_>, name: &str) -> Option<i64> {
    let words: Vec<&str> = name.split_whitespace().collect();
    (0..words.len()).find_map(|k| {
        ctx.areas
            .district(&words[k..].join(" "), None)
            .map(|d| d.id)
    })
}

async fn write_loans(
    ctx: &mut Ctx<'_>,
    firms: &Firms,
    persons: &Persons,
    loans: Vec<Loan>,
) -> anyhow::Result<()> {
    const FILE: DemoFile = DemoFile::Loans;
    if loans.is_empty() {
        return Ok(());
    }
    let source_id = ctx.source(FILE, SOURCE).await?.id;
    let mut rows = Vec::with_capacity(loans.len());
    let mut resolved = Vec::with_capacity(loans.len());
    for l in loans {
        let organisation_id = l
            .unit
            .as_deref()
            .and_then(|u| firms.by_identifier(&IdentifierScheme::PsicPunjabUnit, u));
        if l.unit.is_some() && organisation_id.is_none() {
            ctx.warn(
                &l.loc,
                "Unit No",
                "unit_number",
                "unknown_unit",
                "The unit number is not in the unit register; the loan is kept without a firm.",
            );
        }
        let borrower = l
            .borrower
            .as_ref()
            .and_then(|b| persons.person(SOURCE, &b.key));
        resolved.push((l, organisation_id, borrower));
    }
    ctx.reserve(FILE, resolved.len()).await?;
    for (l, organisation_id, borrower) in resolved {
        rows.push(row!(loans {
            scheme: l.scheme,
            borrower_person_id: borrower,
            organisation_id: organisation_id,
            unit_number: l.unit,
            amount_pkr: l.amount,
            sanctioned_on: l.sanctioned,
            disbursed_on: l.disbursed,
            district_id: l.district_id,
            status: Some(if l.disbursed.is_some() { "disbursed" } else { "sanctioned" }.to_owned()),
            source_id: Some(source_id),
            source_key: Some(l.number),
        } @ ctx.prov(FILE, l.loc.source_ref())));
    }
    ctx.summary.loans += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}
