//! Plot allotments on the small industrial estates of the Punjab Small Industries
//! Corporation: importer `psic-punjab-allotments`.
//!
//! # The format
//!
//! A CSV or XLSX/XLS/ODS export of the allotment register, one allotment (or vacant
//! plot) per row, the header row below any title rows. Columns are recognised by these
//! headers (case, spacing and punctuation ignored; **bold** fields are required):
//!
//! | field | headers |
//! |---|---|
//! | **`estate`** | `Estate`, `Industrial Estate`, `Estate Name`, `Small Industrial Estate`, `Name of Estate`, `Name of Industrial Estate` |
//! | **`plot_number`** | `Plot No`, `Plot Number`, `Plot` |
//! | **`unit_number`** | `Unit No`, `Unit Number`, `Registration No`, `Registration Number`, `Reg No`, `Allottee Unit No` |
//! | `allotted_on` | `Allotment Date`, `Date of Allotment`, `Allotted On`, `Date Allotted` (and these followed by more words, e.g. a date format) |
//! | `status` | `Status`, `Allotment Status`, `Plot Status` |
//! | `plot_area` | `Plot Area`, `Area`, `Plot Size`, and these followed by a unit: `Plot Area (sq ft)`, `Area (kanal)` |
//! | `district` | `District`, `District Name` |
//!
//! A sample (`hub/demo/psic_punjab_estate_allotments.csv`):
//!
//! ```text
//! Estate,Plot No,Unit No,Allotment Date,Status
//! Small Industrial Estate Sialkot,A-1,SKT-00715,28/06/2022,Cancelled
//! Small Industrial Estate Sialkot,A-1,SKT-00708,23/08/2023,Allotted
//! Small Industrial Estate Sialkot,A-7,,,Vacant
//! ```
//!
//! # What a row gives
//!
//! 1. The first time an estate appears in the import: an [`IndustrialEstate`] keyed by
//!    its folded name (`small industrial estate sialkot`), with the name as first written
//!    and the district of its first row when the file has a district column.
//! 2. A [`PlotAllotment`] keyed `{estate key}/{plot}/{allotment date}`, or
//!    `{estate key}/{plot}/{unit}` without a date, or `{estate key}/{plot}/vacant`
//!    without either (plot and unit in upper case): so a cancelled allotment and the later
//!    allotment of the same plot are two records, and a re-import finds both again. The
//!    unit number goes as written; the hub links the allotment to the firm holding that
//!    registry unit number, from any source (an unknown unit is a warning).
//!
//! # Decisions
//!
//! - **District.** An estate's district is left out unless the file has a district
//!   column: names such as `Small Industrial Estate Kot Lakhpat Lahore` do not always end
//!   with a district, and guessing one from a name could place an estate wrongly.
//! - **Status** words: `Allotted`/`Alloted`/`Occupied`/`In possession`,
//!   `Cancelled`/`Resumed`/`Surrendered`/`Revoked`, `Vacant`/`Available`/`Unallotted`.
//!   An empty status means allotted when the row names a unit and vacant otherwise; another
//!   word is a row error (the allotment cannot be stored without a status).
//! - **Plot area** is converted to square metres from the unit the header names (square
//!   metres, square feet, acres, kanal, marla) or the `plot_area_unit` option. A marla is
//!   the revenue marla of 272.25 square feet and a kanal 20 marla (8 kanal make an acre).
//!   A plot area column without a known unit is not imported, with a log line.

use std::collections::HashSet;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    AllotmentStatus, Confidence, ImportError, Importer, ImporterManifest, IndustrialEstate, Input,
    Item, LogLevel, PlotAllotment, RecordKind, RecordStream, codes,
};

use super::layout::{Field, Layout, Options, options_schema, sniff};
use super::stream::{Convert, Opened, Plan, RegistryStream, RowReader};
use super::units::unit_key;
use super::{EXTENSIONS, SOURCE};
use crate::spreadsheet::fold;

/// The id of the allotments importer.
pub const ALLOTMENTS_ID: &str = "psic-punjab-allotments";

/// The layout of an allotment register.
pub static ALLOTMENTS: Layout = Layout {
    id: ALLOTMENTS_ID,
    rows: "plot allotments",
    what: "plot-allotment export of the Punjab Small Industries Corporation",
    fields: &[
        Field {
            name: "estate",
            variants: &[
                "Estate",
                "Industrial Estate",
                "Estate Name",
                "Small Industrial Estate",
                "Name of Estate",
                "Name of Industrial Estate",
            ],
            required: true,
            loose: false,
            records: &[
                "industrial_estate.source_key",
                "industrial_estate.name",
                "plot_allotment.estate_key",
            ],
        },
        Field {
            name: "plot_number",
            variants: &["Plot No", "Plot Number", "Plot"],
            required: true,
            loose: false,
            records: &["plot_allotment.plot_number", "plot_allotment.source_key"],
        },
        Field {
            name: "unit_number",
            variants: &[
                "Unit No",
                "Unit Number",
                "Registration No",
                "Registration Number",
                "Reg No",
                "Allottee Unit No",
            ],
            required: true,
            loose: false,
            records: &["plot_allotment.unit_number"],
        },
        Field {
            name: "allotted_on",
            variants: &[
                "Allotment Date",
                "Date of Allotment",
                "Allotted On",
                "Date Allotted",
            ],
            required: false,
            loose: true,
            records: &["plot_allotment.allotted_on"],
        },
        Field {
            name: "status",
            variants: &["Status", "Allotment Status", "Plot Status"],
            required: false,
            loose: false,
            records: &["plot_allotment.status"],
        },
        Field {
            name: "plot_area",
            variants: &["Plot Area", "Area", "Plot Size"],
            required: false,
            loose: true,
            records: &["plot_allotment.plot_area_sqm"],
        },
        Field {
            name: "district",
            variants: &["District", "District Name"],
            required: false,
            loose: false,
            records: &["industrial_estate.district"],
        },
    ],
    evidence: &[],
    min_evidence: 0,
    options: &["plot_area_unit"],
};

/// Imports plot-allotment exports of the Punjab Small Industries Corporation (see the
/// [module documentation](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllotmentsImporter;

impl AllotmentsImporter {
    /// The importer.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl Importer for AllotmentsImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            ALLOTMENTS_ID,
            "Punjab Small Industries Corporation: small-industrial-estate plot allotments (CSV, XLSX)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(EXTENSIONS)
        .with_emits([RecordKind::IndustrialEstate, RecordKind::PlotAllotment])
        .with_options_schema(options_schema(&ALLOTMENTS))
        .with_default_source(SOURCE)
    }

    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        sniff(head, &ALLOTMENTS)
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = Options::parse(options, &ALLOTMENTS)?;
        let unit = match options.plot_area_unit.as_deref() {
            None => None,
            Some(text) => Some(AreaUnit::parse(text).ok_or_else(|| {
                ImportError::new(format!(
                    "the options of {ALLOTMENTS_ID} are not valid: plot_area_unit must be \
                     sqm, sqft, acre, kanal or marla"
                ))
            })?),
        };
        let opened = Opened::open(&input, &ALLOTMENTS, &options)?;
        Ok(Box::new(RegistryStream::new(
            opened,
            Allotments {
                unit,
                factor: None,
                estates: HashSet::new(),
            },
        )))
    }
}

/// A unit of area of plot sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaUnit {
    /// Square metres.
    SquareMetre,
    /// Square feet.
    SquareFoot,
    /// Acres (43,560 square feet).
    Acre,
    /// Kanal: 20 marla, an eighth of an acre.
    Kanal,
    /// The revenue marla of 272.25 square feet.
    Marla,
}

impl AreaUnit {
    /// The unit a header or an option names, if any: `sq m`, `sqm`, `m2`, `square metres`;
    /// `sq ft`, `sqft`, `sft`, `square feet`; `acre(s)`; `kanal(s)`; `marla(s)`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let folded = format!(" {} ", fold(text));
        const WORDS: [(&str, AreaUnit); 15] = [
            (" sq m ", AreaUnit::SquareMetre),
            (" sqm ", AreaUnit::SquareMetre),
            (" m2 ", AreaUnit::SquareMetre),
            (" m² ", AreaUnit::SquareMetre),
            (" square met", AreaUnit::SquareMetre),
            (" sq met", AreaUnit::SquareMetre),
            (" sq mtr", AreaUnit::SquareMetre),
            (" sq ft ", AreaUnit::SquareFoot),
            (" sqft ", AreaUnit::SquareFoot),
            (" sft ", AreaUnit::SquareFoot),
            (" square f", AreaUnit::SquareFoot),
            (" sq feet ", AreaUnit::SquareFoot),
            (" acre", AreaUnit::Acre),
            (" kanal", AreaUnit::Kanal),
            (" marla", AreaUnit::Marla),
        ];
        WORDS
            .iter()
            .find(|(word, _)| folded.contains(word))
            .map(|(_, unit)| *unit)
    }

    /// Square metres per unit.
    #[must_use]
    pub fn square_metres(self) -> f64 {
        const SQUARE_FOOT: f64 = 0.092_903_04;
        match self {
            Self::SquareMetre => 1.0,
            Self::SquareFoot => SQUARE_FOOT,
            Self::Acre => 43_560.0 * SQUARE_FOOT,
            Self::Kanal => 20.0 * 272.25 * SQUARE_FOOT,
            Self::Marla => 272.25 * SQUARE_FOOT,
        }
    }
}

/// The rows of an allotment register.
struct Allotments {
    /// The unit of the plot area given by the options.
    unit: Option<AreaUnit>,
    /// Square metres per unit of the current sheet's plot area column, when it is read.
    factor: Option<f64>,
    /// The estates emitted so far, by key.
    estates: HashSet<String>,
}

impl Convert for Allotments {
    fn start(&mut self, plan: &Plan, out: &mut Vec<Item>) {
        self.factor = None;
        let Some(column) = plan.column("plot_area") else {
            return;
        };
        let name = plan.column_name(column);
        match self.unit.or_else(|| AreaUnit::parse(&name)) {
            Some(unit) => self.factor = Some(unit.square_metres()),
            None => out.push(Item::log(
                LogLevel::Warn,
                format!(
                    "{}: the column {name} names no unit of area (square metres, square feet, \
                     acres, kanal or marla), so it is not imported; name the unit in the \
                     header, e.g. \"Plot Area (sq ft)\", or with the plot_area_unit option",
                    plan.place()
                ),
            )),
        }
    }

    fn row(&mut self, r: &mut RowReader<'_>) -> Vec<Item> {
        let estate = r.required("estate");
        let plot = r.required("plot_number");
        let unit = r.text("unit_number");
        let allotted_on = r.date("allotted_on");
        let area = match self.factor {
            Some(factor) => r.number("plot_area").and_then(|n| {
                if n < 0.0 {
                    r.error(
                        "plot_area",
                        codes::INVALID_NUMBER,
                        "The field plot_area must be a number of 0 or more.",
                    );
                    None
                } else {
                    Some(n * factor)
                }
            }),
            None => None,
        };
        let status = match r.text("status") {
            Some(text) => {
                let status = allotment_status(&text);
                if status.is_none() {
                    r.error(
                        "status",
                        codes::UNKNOWN_CODE,
                        "The field status must be Allotted, Cancelled or Vacant (or a word \
                         for one of them).",
                    );
                }
                status
            }
            None if unit.is_some() => Some(AllotmentStatus::Allotted),
            None => Some(AllotmentStatus::Vacant),
        };
        let (Some(estate), Some(plot), Some(status)) = (estate, plot, status) else {
            return Vec::new();
        };
        if r.failed() {
            return Vec::new();
        }
        let at = r.at();
        let estate_key = fold(&estate);
        let mut items = Vec::new();
        if self.estates.insert(estate_key.clone()) {
            let mut record = IndustrialEstate::new(&estate_key, estate);
            record.district = r.text("district");
            items.push(Item::record(at.clone(), record));
        }
        let last = match (&allotted_on, &unit) {
            (Some(date), _) => date.to_string(),
            (None, Some(unit)) => unit_key(unit),
            (None, None) => "vacant".to_owned(),
        };
        let key = format!("{estate_key}/{}/{last}", plot.to_uppercase());
        let mut allotment = PlotAllotment::new(key, &estate_key, plot, status);
        allotment.unit_number = unit;
        allotment.allotted_on = allotted_on;
        allotment.plot_area_sqm = area;
        items.push(Item::record(at, allotment));
        items
    }
}

/// The status a word of the register means.
fn allotment_status(text: &str) -> Option<AllotmentStatus> {
    Some(match fold(text).as_str() {
        "allotted" | "alloted" | "allocated" | "occupied" | "in possession" | "possession"
        | "possession given" => AllotmentStatus::Allotted,
        "cancelled" | "canceled" | "cancel" | "cancellation" | "resumed" | "surrendered"
        | "revoked" => AllotmentStatus::Cancelled,
        "vacant" | "available" | "unallotted" | "un allotted" | "not allotted" | "free"
        | "empty" => AllotmentStatus::Vacant,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_units_are_read_from_headers() {
        let cases = [
            ("Plot Area (sq m)", Some(AreaUnit::SquareMetre)),
            ("Plot Area (m2)", Some(AreaUnit::SquareMetre)),
            ("Area in Square Metres", Some(AreaUnit::SquareMetre)),
            ("Plot Area (Sq. Ft.)", Some(AreaUnit::SquareFoot)),
            ("Plot Size (sft)", Some(AreaUnit::SquareFoot)),
            ("Area (Acres)", Some(AreaUnit::Acre)),
            ("Area (Kanal)", Some(AreaUnit::Kanal)),
            ("Plot Area (Marla)", Some(AreaUnit::Marla)),
            ("Plot Area", None),
            ("Area", None),
        ];
        for (text, expected) in cases {
            assert_eq!(AreaUnit::parse(text), expected, "{text}");
        }
        assert!((AreaUnit::Kanal.square_metres() - 505.857_052_8).abs() < 1e-6);
        assert!(
            (AreaUnit::Acre.square_metres() - 8.0 * AreaUnit::Kanal.square_metres()).abs() < 1e-6
        );
    }

    #[test]
    fn status_words_map_to_statuses() {
        let cases = [
            ("Allotted", Some(AllotmentStatus::Allotted)),
            ("ALLOTED", Some(AllotmentStatus::Allotted)),
            ("Cancelled", Some(AllotmentStatus::Cancelled)),
            ("canceled", Some(AllotmentStatus::Cancelled)),
            ("Un-allotted", Some(AllotmentStatus::Vacant)),
            ("Vacant", Some(AllotmentStatus::Vacant)),
            ("Disputed", None),
        ];
        for (text, expected) in cases {
            assert_eq!(allotment_status(text), expected, "{text}");
        }
    }
}
