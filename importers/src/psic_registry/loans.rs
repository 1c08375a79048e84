//! Loans of the Punjab Small Industries Corporation (cottage-industry, cluster-development
//! and other schemes): importer `psic-punjab-loans`.
//!
//! # The format
//!
//! A CSV or XLSX/XLS/ODS export of the loan ledger, one loan per row, the header row below
//! any title rows. Columns are recognised by these headers (case, spacing and punctuation
//! ignored; **bold** fields are required):
//!
//! | field | headers |
//! |---|---|
//! | **`loan_number`** | `Loan No`, `Loan Number`, `Case No`, `Case Number`, `Loan Case No`, `Loan ID` |
//! | **`scheme`** | `Scheme`, `Loan Scheme`, `Scheme Name`, `Name of Scheme` |
//! | `borrower_name` | `Borrower Name`, `Borrower`, `Name of Borrower`, `Applicant Name`, `Name of Applicant` |
//! | `borrower_cnic` | `Borrower CNIC`, `CNIC`, `CNIC No.`, `CNIC Number`, `Borrower CNIC No`, `Applicant CNIC` |
//! | `unit_number` | `Unit No`, `Unit Number`, `Registration No`, `Registration Number`, `Reg No` |
//! | `amount_pkr` | `Amount (PKR)`, `Loan Amount`, `Amount`, `Amount (Rs)`, `Amount in PKR`, `Amount in Rs`, `Loan Amount (PKR)`, `Loan Amount (Rs)`, `Sanctioned Amount`, `Amount Sanctioned` |
//! | `sanctioned_on` | `Sanction Date`, `Date of Sanction`, `Sanctioned On`, `Date Sanctioned`, `Sanctioned Date` (and these followed by more words) |
//! | `disbursed_on` | `Disbursement Date`, `Date of Disbursement`, `Disbursed On`, `Date Disbursed`, `Disbursed Date` (and these followed by more words) |
//! | `district` | `District`, `District Name` |
//! | `status` | `Status`, `Loan Status` |
//!
//! A sample (`hub/demo/psic_punjab_loans.csv`, personal values replaced):
//!
//! ```text
//! Loan No,Scheme,Borrower Name,Borrower CNIC,Unit No,Amount (PKR),Sanction Date,Disbursement Date,District
//! CIL-2019-001,Cottage Industry Loan,<borrower>,<CNIC>,LHR-00489,130000,30/03/2019,28/05/2019,Lahore
//! CIL-2018-001,Cottage Industry Loan,<borrower>,<CNIC>,,150000,22/01/2018,10/02/2018,GUJRANWALA
//! ```
//!
//! # What a row gives
//!
//! 1. When the row names a borrower (name or CNIC): a [`Person`] keyed
//!    `{loan number}/borrower`, with the name and the CNIC as written (the hub validates
//!    and hashes it, and links the borrower to the same person elsewhere, such as the
//!    owner of a registered unit, by that hash only), observed on the sanction date.
//! 2. A [`Loan`] keyed by the loan number: the scheme, the borrower, the unit number as
//!    written (the hub links the loan to the firm holding that registry unit number, from
//!    any source; an unknown unit is a warning), the amount in rupees, the dates, the
//!    district as written (an unknown district rejects the row) and the status.
//!
//! # Decisions
//!
//! - **Status**: the `status` cell as written when the row has one; otherwise
//!   `disbursed` when the row has a disbursement date, `sanctioned` when it has only a
//!   sanction date, and none without either.
//! - **Amounts** are rupees: thousand separators and a `Rs.`/`PKR` mark are read; a cell
//!   that is no number is a row error.
//! - **No borrower affiliation** is emitted: the loan itself ties the borrower to the unit,
//!   and an affiliation would have to cite the unit's record of this source, making a loan
//!   of a unit missing from the units export an error instead of a warning.

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, Item, Loan, Person, Personal,
    RecordKind, RecordStream,
};

use super::layout::{Field, Layout, Options, options_schema, sniff};
use super::stream::{Convert, Opened, RegistryStream, RowReader};
use super::{EXTENSIONS, SOURCE};

/// The id of the loans importer.
pub const LOANS_ID: &str = "psic-punjab-loans";

/// The layout of a loan ledger.
pub static LOANS: Layout = Layout {
    id: LOANS_ID,
    rows: "loans",
    what: "loan export of the Punjab Small Industries Corporation",
    fields: &[
        Field {
            name: "loan_number",
            variants: &[
                "Loan No",
                "Loan Number",
                "Case No",
                "Case Number",
                "Loan Case No",
                "Loan ID",
            ],
            required: true,
            loose: false,
            records: &[
                "loan.source_key",
                "loan.borrower_person_key",
                "person.source_key",
            ],
        },
        Field {
            name: "scheme",
            variants: &["Scheme", "Loan Scheme", "Scheme Name", "Name of Scheme"],
            required: true,
            loose: false,
            records: &["loan.scheme"],
        },
        Field {
            name: "borrower_name",
            variants: &[
                "Borrower Name",
                "Borrower",
                "Name of Borrower",
                "Applicant Name",
                "Name of Applicant",
            ],
            required: false,
            loose: false,
            records: &["person.full_name"],
        },
        Field {
            name: "borrower_cnic",
            variants: &[
                "Borrower CNIC",
                "CNIC",
                "CNIC No.",
                "CNIC Number",
                "Borrower CNIC No",
                "Applicant CNIC",
            ],
            required: false,
            loose: false,
            records: &["person.cnic"],
        },
        Field {
            name: "unit_number",
            variants: &[
                "Unit No",
                "Unit Number",
                "Registration No",
                "Registration Number",
                "Reg No",
            ],
            required: false,
            loose: false,
            records: &["loan.unit_number"],
        },
        Field {
            name: "amount_pkr",
            variants: &[
                "Amount (PKR)",
                "Loan Amount",
                "Amount",
                "Amount (Rs)",
                "Amount in PKR",
                "Amount in Rs",
                "Loan Amount (PKR)",
                "Loan Amount (Rs)",
                "Sanctioned Amount",
                "Amount Sanctioned",
            ],
            required: false,
            loose: false,
            records: &["loan.amount_pkr"],
        },
        Field {
            name: "sanctioned_on",
            variants: &[
                "Sanction Date",
                "Date of Sanction",
                "Sanctioned On",
                "Date Sanctioned",
                "Sanctioned Date",
            ],
            required: false,
            loose: true,
            records: &["loan.sanctioned_on", "person.observed_on"],
        },
        Field {
            name: "disbursed_on",
            variants: &[
                "Disbursement Date",
                "Date of Disbursement",
                "Disbursed On",
                "Date Disbursed",
                "Disbursed Date",
            ],
            required: false,
            loose: true,
            records: &["loan.disbursed_on"],
        },
        Field {
            name: "district",
            variants: &["District", "District Name"],
            required: false,
            loose: false,
            records: &["loan.district"],
        },
        Field {
            name: "status",
            variants: &["Status", "Loan Status"],
            required: false,
            loose: false,
            records: &["loan.status"],
        },
    ],
    evidence: &[
        "borrower_name",
        "borrower_cnic",
        "amount_pkr",
        "sanctioned_on",
        "disbursed_on",
    ],
    min_evidence: 2,
    options: &[],
};

/// Imports loan exports of the Punjab Small Industries Corporation (see the [module
/// documentation](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct LoansImporter;

impl LoansImporter {
    /// The importer.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl Importer for LoansImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            LOANS_ID,
            "Punjab Small Industries Corporation: loans (CSV, XLSX)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(EXTENSIONS)
        .with_emits([RecordKind::Person, RecordKind::Loan])
        .with_options_schema(options_schema(&LOANS))
        .with_default_source(SOURCE)
    }

    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        sniff(head, &LOANS)
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = Options::parse(options, &LOANS)?;
        let opened = Opened::open(&input, &LOANS, &options)?;
        Ok(Box::new(RegistryStream::new(opened, Loans)))
    }
}

/// The rows of a loan ledger.
struct Loans;

impl Convert for Loans {
    fn row(&mut self, r: &mut RowReader<'_>) -> Vec<Item> {
        let number = r.required("loan_number");
        let scheme = r.required("scheme");
        let borrower_name = r.text("borrower_name");
        let borrower_cnic = r.text("borrower_cnic");
        let amount = r.number("amount_pkr");
        let sanctioned_on = r.date("sanctioned_on");
        let disbursed_on = r.date("disbursed_on");
        let (Some(number), Some(scheme)) = (number, scheme) else {
            return Vec::new();
        };
        if r.failed() {
            return Vec::new();
        }
        let at = r.at();
        let mut items = Vec::new();
        let mut loan = Loan::new(&number, scheme);
        if borrower_name.is_some() || borrower_cnic.is_some() {
            let key = format!("{number}/borrower");
            let mut borrower = Person::new(&key);
            borrower.full_name = borrower_name.map(Personal::new);
            borrower.cnic = borrower_cnic.map(Personal::new);
            borrower.observed_on = sanctioned_on;
            items.push(Item::record(at.clone(), borrower));
            loan.borrower_person_key = Some(key);
        }
        loan.unit_number = r.text("unit_number");
        loan.amount_pkr = amount;
        loan.sanctioned_on = sanctioned_on;
        loan.disbursed_on = disbursed_on;
        loan.district = r.text("district");
        loan.status = r.text("status").or_else(|| {
            if disbursed_on.is_some() {
                Some("disbursed".to_owned())
            } else {
                sanctioned_on.map(|_| "sanctioned".to_owned())
            }
        });
        items.push(Item::record(at, loan));
        items
    }
}
