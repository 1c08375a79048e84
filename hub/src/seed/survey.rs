//! `firms_cdi_diagnostic_survey_2023.xlsx`, sheet `Firms`: the CDI diagnostic survey of
//! cluster firms (source `cdi-survey-2023`).
//!
//! Three title rows, then the header row:
//!
//! ```text
//! Sr. No. | Survey ID | Name of Unit | Cluster | District | Tehsil | Address | NTN No. |
//! SECP Reg. No. | Registry Unit No. | Year Established | Total Employees | Female Employees |
//! Annual Turnover (PKR) | Exports (USD) | Certifications | Contact Person | Phone
//! ```
//!
//! The turnover is a number or text with thousands separators. The contact person and
//! phone are personal data: they become a person affiliated with the firm as `contact`.

use std::collections::HashSet;

use chrono::NaiveDate;
use hub_schema::domain::{
    IdentifierScheme, Period, RegistryUnitNumber, SecpRegistrationNumber, parse_ntn,
};
use serde_json::{Map, Value, json};

use super::clusters::Catalogue;
use super::firms::{ClusterClaim, FirmRecord, Firms, Ident, Observation};
use super::people::{AffiliationSpec, PersonRecord};
use super::values::{count, legal_form};
use super::xlsx::Workbook;
use super::{Ctx, DemoFile, Loc};

const FILE: DemoFile = DemoFile::Survey;
const SOURCE: &str = "cdi-survey-2023";
const SHEET: &str = "Firms";

/// The end of the survey's field work (January to March 2023): the date its records are
/// observed on and its cluster memberships start.
fn survey_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 3, 31).expect("a valid date")
}

/// The year the survey's annual figures (turnover, exports) refer to: the last complete
/// year before the survey.
const ANNUAL_FIGURES_YEAR: i32 = 2022;

/// The year of the survey's head counts and certifications: the state at the survey.
const STATE_YEAR: i32 = 2023;

/// A surveyed firm and its contact person.
pub(super) struct Surveyed {
    pub(super) firm: FirmRecord,
    pub(super) contact: Option<PersonRecord>,
}

/// Reads the survey.
pub(super) fn parse(ctx: &mut Ctx<'_>, catalogue: &Catalogue) -> anyhow::Result<Vec<Surveyed>> {
    let mut workbook = Workbook::open(FILE.bytes(), FILE.name())?;
    let sheet = workbook.sheet(SHEET, &["Survey ID", "Name of Unit", "Cluster", "District"])?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut rows_read = 0;
    for row in sheet.rows() {
        rows_read += 1;
        let loc = Loc::new(FILE, Some(SHEET), row.number);
        let Some(survey_id) = row.text("Survey ID") else {
            ctx.reject(
                &loc,
                "Survey ID",
                "source_key",
                "missing_value",
                "The survey ID is empty; the row is skipped.",
            );
            continue;
        };
        if !seen.insert(survey_id.clone()) {
            ctx.reject(
                &loc,
                "Survey ID",
                "source_key",
                "duplicate_key",
                "The survey ID appears on an earlier row; the row is skipped.",
            );
            continue;
        }
        let Some(name) = row.text("Name of Unit") else {
            ctx.reject(
                &loc,
                "Name of Unit",
                "name",
                "missing_value",
                "The name of the unit is empty; the row is skipped.",
            );
            continue;
        };
        let district_text = row.text("District");
        let tehsil_text = row.text("Tehsil");
        let Some((district_id, tehsil_id)) = ctx.place(
            &loc,
            ("District", district_text.as_deref()),
            ("Tehsil", tehsil_text.as_deref()),
            Some(survey_date()),
        ) else {
            continue;
        };

        let Some(identifiers) = identifiers(ctx, &loc, &row, &survey_id) else {
            continue;
        };

        let cluster = row.text("Cluster");
        let clusters = match &cluster {
            Some(slug) if catalogue.clusters.contains_key(slug) => {
                ClusterClaim::Named(slug.clone())
            }
            Some(_) => {
                ctx.warn(
                    &loc,
                    "Cluster",
                    "cluster",
                    "unknown_cluster",
                    "The cluster is not one of the clusters of clusters.toml; the \
                     firm is kept without a membership.",
                );
                ClusterClaim::None
            }
            None => ClusterClaim::None,
        };
        let mut whole = |column: &'static str, field: &'static str| -> Option<i32> {
            match row.number(column) {
                Ok(n) => n.and_then(|n| {
                    let c = count(n);
                    if c.is_none() {
                        ctx.warn(
                            &loc,
                            column,
                            field,
                            "invalid_number",
                            "The value is not a whole number; it is left out.",
                        );
                    }
                    c
                }),
                Err(_) => {
                    ctx.warn(
                        &loc,
                        column,
                        field,
                        "invalid_number",
                        "The value is not a number; it is left out.",
                    );
                    None
                }
            }
        };
        let founded_year = whole("Year Established", "founded_year");
        let employees_total = whole("Total Employees", "employees_total");
        let employees_female = whole("Female Employees", "employees_female");
        let mut amount = |column: &'static str, field: &'static str| -> Option<f64> {
            row.number(column).unwrap_or_else(|_| {
                ctx.warn(
                    &loc,
                    column,
                    field,
                    "invalid_number",
                    "The value is not a number; it is left out.",
                );
                None
            })
        };
        let turnover = amount("Annual Turnover (PKR)", "turnover_pkr");
        let exports = amount("Exports (USD)", "exports_usd");
        let certifications = row.text("Certifications");

        let mut attributes = Map::new();
        if let Some(sr) = row.text("Sr. No.") {
            attributes.insert("sr_no".into(), Value::from(sr));
        }
        if let Some(slug) = &cluster {
            attributes.insert("cluster".into(), Value::from(slug.clone()));
        }
        if let Some(t) = turnover {
            attributes.insert("annual_turnover_pkr".into(), json!(t));
        }
        if let Some(e) = exports {
            attributes.insert("exports_usd".into(), json!(e));
        }
        if let Some(c) = &certifications {
            attributes.insert("certifications".into(), Value::from(c.clone()));
        }

        let contact_name = row.text("Contact Person");
        let phone = row.text("Phone");
        let contact = (contact_name.is_some() || phone.is_some()).then(|| PersonRecord {
            loc: loc.clone(),
            source: SOURCE,
            key: format!("contact:{survey_id}"),
            full_name: contact_name,
            sex: None,
            cnic: None,
            phone,
            observed_on: Some(survey_date()),
            attributes: None,
        });

        out.push(Surveyed {
            firm: FirmRecord {
                loc: loc.clone(),
                source: SOURCE,
                key: survey_id,
                legal_form: legal_form(&name),
                name,
                district_text,
                tehsil_text,
                district_id: Some(district_id),
                tehsil_id,
                address: row.text("Address"),
                industry_code: None,
                founded_year,
                employees_total,
                employees_female,
                registered_on: None,
                status: None,
                observed_on: survey_date(),
                attributes: Some(Value::Object(attributes)),
                identifiers,
                clusters,
                observations: vec![
                    Observation {
                        period: Period::year(ANNUAL_FIGURES_YEAR).ok(),
                        turnover_pkr: turnover,
                        exports_usd: exports,
                        ..Observation::default()
                    },
                    Observation {
                        period: Period::year(STATE_YEAR).ok(),
                        employees_total,
                        employees_female,
                        certifications,
                        ..Observation::default()
                    },
                ],
            },
            contact,
        });
    }
    ctx.read(FILE, rows_read);
    Ok(out)
}

/// The identifiers of a survey row: NTN (or the CNIC a 13-digit NTN is), SECP number,
/// registry unit number, and the Survey ID as the survey's own id. A malformed one is a
/// row error (`None`).
fn identifiers(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    row: &super::xlsx::Row<'_>,
    survey_id: &str,
) -> Option<Vec<Ident>> {
    let mut ids = vec![Ident::plain(
        IdentifierScheme::source(SOURCE).expect("a valid source id"),
        survey_id,
    )];
    if let Some(raw) = row.text("NTN No.") {
        match parse_ntn(&raw) {
            Ok(parsed) => ids.push(Ident::ntn(parsed, ctx.key)),
            Err(e) => {
                ctx.reject(
                    loc,
                    "NTN No.",
                    "ntn",
                    "invalid_identifier",
                    format!("{e} The row is skipped."),
                );
                return None;
            }
        }
    }
    if let Some(raw) = row.text("SECP Reg. No.") {
        match SecpRegistrationNumber::parse(&raw) {
            Ok(secp) => ids.push(Ident::plain(IdentifierScheme::Secp, secp.as_str())),
            Err(e) => {
                ctx.reject(
                    loc,
                    "SECP Reg. No.",
                    "secp",
                    "invalid_identifier",
                    format!("{e} The row is skipped."),
                );
                return None;
            }
        }
    }
    if let Some(raw) = row.text("Registry Unit No.") {
        match RegistryUnitNumber::parse(&raw) {
            Ok(unit) => ids.push(Ident::plain(
                IdentifierScheme::PsicPunjabUnit,
                unit.as_str(),
            )),
            Err(e) => {
                ctx.reject(
                    loc,
                    "Registry Unit No.",
                    "unit_number",
                    "invalid_identifier",
                    format!("{e} The row is skipped."),
                );
                return None;
            }
        }
    }
    Some(ids)
}

/// Survey contacts are affiliated with their firm as `contact` from the survey date.
pub(super) fn contact_affiliations(surveyed: &[Surveyed], firms: &Firms) -> Vec<AffiliationSpec> {
    surveyed
        .iter()
        .filter_map(|s| {
            let contact = s.contact.as_ref()?;
            Some(AffiliationSpec {
                loc: s.firm.loc.clone(),
                person: (SOURCE, contact.key.clone()),
                organisation_id: firms.organisation(SOURCE, &s.firm.key)?,
                role: "contact",
                title: None,
                valid_from: Some(survey_date()),
                source: SOURCE,
                key: contact.key.clone(),
            })
        })
        .collect()
}
