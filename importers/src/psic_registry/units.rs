//! Registered (and census) units of the Punjab Small Industries Corporation: importer
//! `psic-punjab-units`.
//!
//! # The format
//!
//! A CSV (any delimiter and encoding the reading layer detects) or XLSX/XLS/ODS export,
//! one unit per row, the header row below any title rows. Columns are recognised by these
//! headers (case, spacing and punctuation ignored; **bold** fields are required):
//!
//! | field | headers |
//! |---|---|
//! | **`unit_number`** | `Unit No`, `Unit Number`, `Registration No`, `Registration Number`, `Reg No`, `Unit Reg No` |
//! | **`name`** | `Unit Name`, `Name of Unit`, `Name of the Unit`, `Name of Industrial Unit` |
//! | `owner_name` | `Owner Name`, `Owner`, `Proprietor`, `Proprietor Name`, `Name of Owner`, `Owner's Name`, `Name of Proprietor` |
//! | `owner_cnic` | `Owner CNIC`, `CNIC`, `CNIC No.`, `CNIC Number`, `Owner CNIC No`, `Proprietor CNIC`, `CNIC of Owner` |
//! | `ntn` | `NTN`, `NTN No.`, `NTN Number`, `National Tax Number` |
//! | `address` | `Address`, `Unit Address`, `Address of Unit`, `Postal Address` |
//! | `district` | `District`, `District Name` |
//! | `tehsil` | `Tehsil`, `Tehsil Name`, `Tahsil` |
//! | `industry_code` | `Industry Code`, `PSIC Code`, `Industry`, `PSIC Rev 4 Code`, `PSIC Rev.4`, `Industry Code (PSIC)`, `PSIC` |
//! | `employees` | `Employees`, `No. of Workers`, `Number of Workers`, `No. of Employees`, `Number of Employees`, `Workers`, `Total Employees`, `Employment` |
//! | `registered_on` | `Registration Date`, `Date of Registration`, `Reg Date`, `Registered On`, `Date Registered` |
//! | `updated_on` | `Last Updated`, `Updated On`, `Date of Last Update`, `Last Update`, `Update Date`, `Last Updated On` |
//! | `status` | `Status`, `Unit Status` |
//!
//! A sample (`hub/demo/psic_punjab_registered_units.csv`, personal values replaced):
//!
//! ```text
//! Unit No,Unit Name,Owner Name,Owner CNIC,NTN,Address,District,Tehsil,Industry Code,Employees,Registration Date,Status
//! GRW-00330,FAZAL PRECISION ENGINEERING & CO.,<owner>,<CNIC>,8767525-4,"Plot No. C-59, Small Industrial Estate, Gujranwala",GUJRANWALA,Gujranwala City,29302,220,19/03/2018,Active
//! ```
//!
//! # What a row gives
//!
//! 1. An [`Organisation`] of kind firm keyed by the unit number (upper case, spacing
//!    collapsed): name, address, district and tehsil as written (the hub matches them
//!    against the admin areas: an unknown district rejects the row, an unknown tehsil is
//!    a warning and the unit is kept at district level), the industry code under
//!    `PK-PSIC-R4`, the head count as `employees_total`, the registration date, the status,
//!    and the identifiers `psic-punjab-unit` (the unit number) and `PK-NTN` (as written;
//!    a 13-digit "NTN" is an individual's CNIC, which the hub hashes and never links
//!    by). The unit number and the NTN link the unit to the same firm in other sources;
//!    the owner's CNIC never does.
//! 2. A [`FirmObservation`] of the year of the last update (or, without one, of the
//!    registration) with the head count: the registry records the head count declared
//!    when the unit registered or updated its record, not today's.
//! 3. When the row names an owner (name or CNIC): a [`Person`] keyed `{unit}/owner` with
//!    the name and the CNIC as written (the hub validates and hashes it; an owner of two
//!    units is two person records of one person, and two firms), and an [`Affiliation`]
//!    of role owner from the registration date.
//!
//! # Decisions
//!
//! - **Observed on.** An export carries no extract date, and the latest registration
//!   date would understate it, so `observed_on` is the `extract_date` option when given
//!   and is left out otherwise. It dates the record's names and addresses, never its
//!   head count: a unit with neither an update nor a registration date keeps its head
//!   count on the unit, undated (the hub ranks it below every dated head count).
//! - **Industry code.** Passed as written (a number cell without its `.0`); a code followed
//!   by its description (`32501 - Surgical instruments`) gives the code. A cell without a
//!   code (a description only) is a warning and the unit is kept without one.
//! - **Status** words: `Active`/`Functional`/`Operational`/`Working`, `Inactive`/`Non
//!   functional`/`Dormant`/`Suspended`, `Closed`/`Shut down`/`De-registered`, `Unknown`;
//!   another word is a warning and the status is left out.
//! - **Clusters** are not derived here: which cluster a unit belongs to follows from its
//!   industry class and district and is the hub's decision.

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Affiliation, AffiliationRole, Confidence, Date, FirmObservation, IdentifierValue, ImportError,
    Importer, ImporterManifest, Input, Item, Organisation, OrganisationKind, OrganisationStatus,
    Person, Personal, RecordKind, RecordStream, codes, schemes,
};

use super::layout::{Field, Layout, Options, options_schema, sniff};
use super::stream::{Convert, Opened, RegistryStream, RowReader};
use super::{EXTENSIONS, SOURCE};
use crate::spreadsheet::fold;

/// The id of the units importer.
pub const UNITS_ID: &str = "psic-punjab-units";

/// The classification of the registry's industry codes: Pakistan Standard Industrial
/// Classification Rev.4.
pub const INDUSTRY_CLASSIFICATION: &str = "PK-PSIC-R4";

/// The layout of a registered-units export.
pub static UNITS: Layout = Layout {
    id: UNITS_ID,
    rows: "registered units",
    what: "registered-units export of the Punjab Small Industries Corporation",
    fields: &[
        Field {
            name: "unit_number",
            variants: &[
                "Unit No",
                "Unit Number",
                "Registration No",
                "Registration Number",
                "Reg No",
                "Unit Reg No",
            ],
            required: true,
            loose: false,
            records: &[
                "organisation.source_key",
                "organisation.identifiers.psic-punjab-unit",
                "firm_observation.organisation_key",
                "person.source_key",
                "affiliation.source_key",
                "affiliation.organisation_key",
            ],
        },
        Field {
            name: "name",
            variants: &[
                "Unit Name",
                "Name of Unit",
                "Name of the Unit",
                "Name of Industrial Unit",
            ],
            required: true,
            loose: false,
            records: &["organisation.name"],
        },
        Field {
            name: "owner_name",
            variants: &[
                "Owner Name",
                "Owner",
                "Proprietor",
                "Proprietor Name",
                "Name of Owner",
                "Owner's Name",
                "Name of Proprietor",
            ],
            required: false,
            loose: false,
            records: &["person.full_name"],
        },
        Field {
            name: "owner_cnic",
            variants: &[
                "Owner CNIC",
                "CNIC",
                "CNIC No.",
                "CNIC Number",
                "Owner CNIC No",
                "Proprietor CNIC",
                "CNIC of Owner",
            ],
            required: false,
            loose: false,
            records: &["person.cnic"],
        },
        Field {
            name: "ntn",
            variants: &["NTN", "NTN No.", "NTN Number", "National Tax Number"],
            required: false,
            loose: false,
            records: &["organisation.identifiers.PK-NTN"],
        },
        Field {
            name: "address",
            variants: &[
                "Address",
                "Unit Address",
                "Address of Unit",
                "Postal Address",
            ],
            required: false,
            loose: false,
            records: &["organisation.address"],
        },
        Field {
            name: "district",
            variants: &["District", "District Name"],
            required: false,
            loose: false,
            records: &["organisation.district"],
        },
        Field {
            name: "tehsil",
            variants: &["Tehsil", "Tehsil Name", "Tahsil"],
            required: false,
            loose: false,
            records: &["organisation.tehsil"],
        },
        Field {
            name: "industry_code",
            variants: &[
                "Industry Code",
                "PSIC Code",
                "Industry",
                "PSIC Rev 4 Code",
                "PSIC Rev.4",
                "Industry Code (PSIC)",
                "PSIC",
            ],
            required: false,
            loose: false,
            records: &["organisation.industry_code"],
        },
        Field {
            name: "employees",
            variants: &[
                "Employees",
                "No. of Workers",
                "Number of Workers",
                "No. of Employees",
                "Number of Employees",
                "Workers",
                "Total Employees",
                "Employment",
            ],
            required: false,
            loose: true,
            records: &[
                "organisation.employees_total",
                "firm_observation.employees_total",
            ],
        },
        Field {
            name: "registered_on",
            variants: &[
                "Registration Date",
                "Date of Registration",
                "Reg Date",
                "Registered On",
                "Date Registered",
            ],
            required: false,
            loose: true,
            records: &[
                "organisation.registered_on",
                "firm_observation.period",
                "affiliation.valid_from",
            ],
        },
        Field {
            name: "updated_on",
            variants: &[
                "Last Updated",
                "Updated On",
                "Date of Last Update",
                "Last Update",
                "Update Date",
                "Last Updated On",
            ],
            required: false,
            loose: true,
            records: &["firm_observation.period"],
        },
        Field {
            name: "status",
            variants: &["Status", "Unit Status"],
            required: false,
            loose: false,
            records: &["organisation.status"],
        },
    ],
    evidence: &["owner_name", "owner_cnic", "industry_code", "registered_on"],
    min_evidence: 2,
    options: &["extract_date"],
};

/// Imports registered-unit exports of the Punjab Small Industries Corporation (see the
/// [module documentation](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitsImporter;

impl UnitsImporter {
    /// The importer.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl Importer for UnitsImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            UNITS_ID,
            "Punjab Small Industries Corporation: registered units (CSV, XLSX)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(EXTENSIONS)
        .with_emits([
            RecordKind::Organisation,
            RecordKind::FirmObservation,
            RecordKind::Person,
            RecordKind::Affiliation,
        ])
        .with_options_schema(options_schema(&UNITS))
        .with_default_source(SOURCE)
    }

    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        sniff(head, &UNITS)
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = Options::parse(options, &UNITS)?;
        let opened = Opened::open(&input, &UNITS, &options)?;
        Ok(Box::new(RegistryStream::new(
            opened,
            Units {
                extract_date: options.extract_date,
            },
        )))
    }
}

/// The key of a unit: its number in upper case with spacing collapsed, so that a later
/// export typing it otherwise finds the same record.
pub fn unit_key(unit: &str) -> String {
    unit.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// The rows of a units export.
struct Units {
    extract_date: Option<Date>,
}

impl Convert for Units {
    fn row(&mut self, r: &mut RowReader<'_>) -> Vec<Item> {
        let unit = r.required("unit_number");
        let name = r.required("name");
        let owner_name = r.text("owner_name");
        let owner_cnic = r.text("owner_cnic");
        let ntn = r.text("ntn");
        let industry_code = r.text("industry_code").and_then(|text| {
            let code = industry_code(&text);
            if code.is_none() {
                r.warn(
                    "industry_code",
                    codes::UNKNOWN_CODE,
                    "The industry code holds no code (a Pakistan Standard Industrial \
                     Classification Rev.4 class or sub-class); the unit is kept without it.",
                );
            }
            code
        });
        let employees = r.count("employees");
        let registered_on = r.date("registered_on");
        let updated_on = r.date("updated_on");
        let status = r.text("status").and_then(|text| {
            let status = unit_status(&text);
            if status.is_none() {
                r.warn(
                    "status",
                    codes::UNKNOWN_CODE,
                    "The status is not Active, Inactive, Closed or Unknown (or a word for \
                     one of them); it is left out.",
                );
            }
            status
        });
        let (Some(unit), Some(name)) = (unit, name) else {
            return Vec::new();
        };
        if r.failed() {
            return Vec::new();
        }
        let at = r.at();
        let key = unit_key(&unit);
        let mut firm = Organisation::new(&key, OrganisationKind::Firm, name);
        firm.address = r.text("address");
        firm.district = r.text("district");
        firm.tehsil = r.text("tehsil");
        if let Some(code) = industry_code {
            firm.industry_code = Some(code);
            firm.industry_classification = Some(INDUSTRY_CLASSIFICATION.to_owned());
        }
        firm.employees_total = employees;
        firm.registered_on = registered_on;
        firm.status = status;
        firm.observed_on = self.extract_date;
        firm.identifiers
            .push(IdentifierValue::new(schemes::PSIC_PUNJAB_UNIT, unit));
        if let Some(ntn) = ntn {
            firm.identifiers
                .push(IdentifierValue::new(schemes::NTN, ntn));
        }
        let mut items = vec![Item::record(at.clone(), firm)];
        // The registry records a head count when a unit registers or updates its record:
        // that is its date, never the extract's.
        let year = updated_on.or(registered_on).map(Date::year);
        if let (Some(employees), Some(year)) = (employees, year) {
            let mut observation = FirmObservation::new(&key, year.to_string());
            observation.employees_total = Some(employees);
            items.push(Item::record(at.clone(), observation));
        }
        if owner_name.is_some() || owner_cnic.is_some() {
            let person_key = format!("{key}/owner");
            let mut owner = Person::new(&person_key);
            owner.full_name = owner_name.map(Personal::new);
            owner.cnic = owner_cnic.map(Personal::new);
            owner.observed_on = self.extract_date;
            items.push(Item::record(at.clone(), owner));
            let mut affiliation =
                Affiliation::new(&person_key, &person_key, &key, AffiliationRole::Owner);
            affiliation.valid_from = registered_on;
            items.push(Item::record(at, affiliation));
        }
        items
    }
}

/// The code of an industry-code cell: the text as written, or the leading digits when a
/// description follows them; `None` when the cell holds no code at all.
fn industry_code(text: &str) -> Option<String> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest = &text[digits..];
    if rest.chars().any(char::is_alphabetic) {
        Some(text[..digits].to_owned())
    } else {
        Some(text.to_owned())
    }
}

/// The status a word of the registry means.
fn unit_status(text: &str) -> Option<OrganisationStatus> {
    Some(match fold(text).as_str() {
        "active" | "functional" | "operational" | "working" | "running" | "in operation" => {
            OrganisationStatus::Active
        }
        "inactive" | "in active" | "non functional" | "nonfunctional" | "non operational"
        | "not working" | "dormant" | "suspended" | "idle" => OrganisationStatus::Inactive,
        "closed" | "close" | "shut" | "shut down" | "shutdown" | "closed down"
        | "de registered" | "deregistered" | "wound up" => OrganisationStatus::Closed,
        "unknown" | "not known" | "n a" | "na" => OrganisationStatus::Unknown,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn industry_codes_are_taken_from_their_cell() {
        let cases = [
            ("32501", Some("32501")),
            ("32501 - Manufacture of surgical instruments", Some("32501")),
            ("3250.1", Some("3250.1")),
            ("Surgical instruments", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(industry_code(text).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn status_words_map_to_statuses() {
        let cases = [
            ("Active", Some(OrganisationStatus::Active)),
            ("NON-FUNCTIONAL", Some(OrganisationStatus::Inactive)),
            ("Closed", Some(OrganisationStatus::Closed)),
            ("De-registered", Some(OrganisationStatus::Closed)),
            ("N/A", Some(OrganisationStatus::Unknown)),
            ("Blacklisted", None),
        ];
        for (text, expected) in cases {
            assert_eq!(unit_status(text), expected, "{text}");
        }
    }

    #[test]
    fn unit_keys_are_upper_case_with_single_spaces() {
        assert_eq!(unit_key(" skt-00123 "), "SKT-00123");
        assert_eq!(unit_key("LHR  00489"), "LHR 00489");
    }
}
