//! Registries of the Punjab Small Industries Corporation (source `psic-punjab`).
//!
//! The corporation keeps registers of small industrial units, of the plots on its small
//! industrial estates and of its loans, and exports them as CSV or Excel files whose
//! layout is not published. Three importers read them, each recognising its export by the
//! columns of its header row:
//!
//! | importer | module | reads | emits |
//! |---|---|---|---|
//! | `psic-punjab-units` | [`units`] | registered and census units | [`Organisation`], [`FirmObservation`], owner [`Person`] and [`Affiliation`] |
//! | `psic-punjab-allotments` | [`allotments`] | plot allotments on the small industrial estates | [`IndustrialEstate`], [`PlotAllotment`] |
//! | `psic-punjab-loans` | [`loans`] | loans | borrower [`Person`], [`Loan`] |
//!
//! Each module documents the columns it expects, the header variants it accepts and a
//! sample. All three write under the source `psic-punjab` unless the user names another,
//! and read through the spreadsheet reading layer ([`crate::spreadsheet`]): CSV and TSV
//! with the encoding and delimiter detected, XLSX, XLS and ODS workbooks, the header row
//! found below title rows, numbers with thousand separators, dates as Excel dates or
//! `dd/mm/yyyy`.
//!
//! # Recognising an export
//!
//! [`Importer::sniff`] gives 85 to 95 when a line of the file's first bytes has the
//! required columns of its layout (through the header variants) and enough of its typical
//! columns (the units need two of owner name, owner CNIC, industry code and registration
//! date; the loans two of borrower name, borrower CNIC, amount and the dates); otherwise
//! 0, so that other files go to the spreadsheet importer (20 to 40). Workbooks are
//! compressed, so their header cannot be seen in the first bytes: an XLSX export is read
//! by naming the importer (`hub import units.xlsx --importer psic-punjab-units`, or
//! `importer = "psic-punjab-units"` in the mapping file).
//!
//! A file that lacks a required column is refused whole: `this is not a
//! registered-units export of the Punjab Small Industries Corporation: missing column
//! Unit Name (accepted headers: "Unit Name", "Name of Unit", …)`.
//!
//! # The mapping file (options)
//!
//! For layouts the variants miss, a mapping file (TOML, which the hub passes as JSON)
//! names the columns:
//!
//! ```toml
//! importer = "psic-punjab-units"  # read by the hub: the importer to use
//! source = "psic-punjab"          # read by the hub: the source to write under
//! sheet = "Registered Units"      # a workbook's sheet; else every sheet with the header
//! header_row = 3                  # 1-based; found below title rows when omitted
//! extract_date = 2024-12-31       # units only: the day of the extract (observed_on)
//! # plot_area_unit = "kanal"      # allotments only: sqm, sqft, acre, kanal, marla
//!
//! [columns]                       # header as written -> field; "" leaves a column out
//! "Regd. Unit Code" = "unit_number"
//! "Title of Unit" = "name"
//! "Remarks" = ""
//!
//! [csv]                           # optional, CSV only
//! encoding = "windows-1252"
//! delimiter = ";"
//! ```
//!
//! The fields are those of each module's table (`unit_number`, `name`, `owner_name`,
//! `owner_cnic`, `ntn`, `address`, `district`, `tehsil`, `industry_code`, `employees`,
//! `registered_on`, `status` for units; `estate`, `plot_number`, `unit_number`,
//! `allotted_on`, `status`, `plot_area`, `district` for allotments; `loan_number`,
//! `scheme`, `borrower_name`, `borrower_cnic`, `unit_number`, `amount_pkr`,
//! `sanctioned_on`, `disbursed_on`, `district`, `status` for loans). The columns listed
//! are taken as given; the other fields are still found through the variants. A listed
//! column the file lacks, an unknown field, a field fed twice and an option of another
//! importer are errors.
//!
//! # Decisions shared by the three
//!
//! - **Raw values, typed where the format decides.** Identifiers (unit numbers, NTNs,
//!   CNICs), industry codes, district and tehsil names go to the hub as written, which
//!   validates and matches them the same way for every source: a malformed NTN or CNIC
//!   and an unknown district reject the row; an unknown tehsil of a known district is a
//!   warning and the record is kept at district level. Numbers and dates are converted
//!   here.
//! - **Personal data.** Owners and borrowers are [`Person`]s: names and CNICs travel only
//!   in their typed fields, never in a message or a log line (which name columns and
//!   fields, never values). Units link to firms by unit number or NTN, never by an
//!   owner's CNIC; persons link by CNIC.
//! - **Row errors.** An empty required field, a number or date that does not read, or a
//!   word outside a closed vocabulary that a record cannot do without is a row error
//!   naming the row, the column and the field; the row then gives no record (the hub
//!   would reject it whole anyway). Before each sheet's rows the importer declares which
//!   column feeds which record field ([`Item::Columns`]), so the hub's own errors name the
//!   column too.
//! - **Keys** are stable across exports: the unit number (upper case), the loan number,
//!   an estate's folded name, an allotment's estate, plot and date; so a re-import finds
//!   every record again and changes nothing.
//!
//! # Example
//!
//! ```
//! use hub_importers::psic_registry::UnitsImporter;
//! use hub_plugin_sdk::serde_json::Value;
//! use hub_plugin_sdk::{Importer, Input, Item, Record};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let path = std::env::temp_dir().join(format!("hub-psic-doc-{}.csv", std::process::id()));
//! std::fs::write(
//!     &path,
//!     "Registered Units - Punjab Small Industries Corporation\n\
//!      Unit Number,Name of Unit,Proprietor,CNIC No.,Industry Code,No. of Workers,Date of Registration,District\n\
//!      skt-00123,Alpha Surgical,Owner Name,35202-1234567-1,32501,12,15/03/2019,Sialkot\n",
//! )?;
//! let importer = UnitsImporter::new();
//! assert!(importer.sniff(&std::fs::read(&path)?, "units.csv").percent() >= 85);
//!
//! let mut importer = importer;
//! let mut stream = importer.open(Input::with_file_name(&path, "units.csv"), &Value::Null)?;
//! let mut kinds = Vec::new();
//! while let Some(batch) = stream.next_batch(100)? {
//!     for item in batch {
//!         if let Item::Record(r) = item {
//!             kinds.push(r.record.kind().as_str());
//!             if let Record::Organisation(firm) = &r.record {
//!                 assert_eq!(firm.source_key, "SKT-00123");
//!                 assert_eq!(firm.industry_classification.as_deref(), Some("PK-PSIC-R4"));
//!                 assert_eq!(r.source_ref.to_string(), "units.csv!R3");
//!             }
//!         }
//!     }
//! }
//! assert_eq!(kinds, ["organisation", "firm_observation", "person", "affiliation"]);
//! # drop(stream);
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

pub mod allotments;
mod layout;
pub mod loans;
mod stream;
pub mod units;

use hub_plugin_sdk::Importer;
#[cfg(doc)]
use hub_plugin_sdk::{
    Affiliation, FirmObservation, IndustrialEstate, Item, Loan, Organisation, Person, PlotAllotment,
};

pub use allotments::{ALLOTMENTS_ID, AllotmentsImporter, AreaUnit};
pub use loans::{LOANS_ID, LoansImporter};
pub use units::{INDUSTRY_CLASSIFICATION, UNITS_ID, UnitsImporter};

/// The source the registries' records belong to unless the user names another.
pub const SOURCE: &str = "psic-punjab";

/// The file name extensions the registry importers read.
const EXTENSIONS: [&str; 7] = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods"];

/// The registry importers: units, allotments, loans.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![
        Box::new(UnitsImporter::new()),
        Box::new(AllotmentsImporter::new()),
        Box::new(LoansImporter::new()),
    ]
}

#[cfg(test)]
mod tests;
