//! Reference data bundled with the hub, parsed from the CSV files in `schema/reference/`.
//!
//! The files are embedded in the binary so that `hub migrate` works from any directory.
//! Where they come from and under which licence: `schema/reference/README.md`.
//! Parsing here is pure; writing to the database is the application's job.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::{HsRevision, normalise_name, title_case};

const HS1992: &str = include_str!("../reference/hs1992.csv");
const HS1996: &str = include_str!("../reference/hs1996.csv");
const HS2002: &str = include_str!("../reference/hs2002.csv");
const HS2007: &str = include_str!("../reference/hs2007.csv");
const HS2012: &str = include_str!("../reference/hs2012.csv");
const HS2017: &str = include_str!("../reference/hs2017.csv");
const HS2022: &str = include_str!("../reference/hs2022.csv");
const HS_CONCORDANCE: &str = include_str!("../reference/hs_concordance.csv");
const HS_CONCORDANCE_1992_2012: &str = include_str!("../reference/hs_concordance_1992_2012.csv");
const ISIC: &str = include_str!("../reference/isic_rev4.csv");
const COMTRADE_AREAS: &str = include_str!("../reference/comtrade_areas.csv");
const ADMIN_AREAS: &str = include_str!("../reference/pakistan_admin_areas_raw.csv");
const PUNJAB_2022: &str = include_str!("../reference/punjab_districts_2022.csv");
const ADMIN_SYNONYMS: &str = include_str!("../reference/admin_area_synonyms.csv");

/// Bumped whenever a bundled file changes, so that `hub migrate` reloads them.
pub const VERSION: &str = "2026-12-05.1";

/// One bundled classification.
#[derive(Debug, Clone)]
pub struct Classification {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub revision_year: Option<i32>,
}

/// The classifications the hub knows from the start. Further ones (SITC, BEC, the Pakistan
/// Bureau of Statistics' commodity groups, WITS product groups) are created by the importers
/// that meet them.
pub fn classifications() -> Vec<Classification> {
    let mut all: Vec<Classification> = HsRevision::ALL
        .into_iter()
        .map(|r| Classification {
            code: r.classification_code(),
            name: hs_name(r),
            kind: "hs",
            revision_year: Some(r.year()),
        })
        .collect();
    all.extend([
        Classification {
            code: "ISIC-R4",
            name: "International Standard Industrial Classification, Rev.4",
            kind: "isic",
            revision_year: None,
        },
        Classification {
            code: "PK-PSIC-R4",
            name: "Pakistan Standard Industrial Classification Rev.4 (ISIC Rev.4 classes plus national sub-classes)",
            kind: "national_isic",
            revision_year: None,
        },
    ]);
    all
}

/// The display name of an HS revision's classification.
fn hs_name(revision: HsRevision) -> &'static str {
    match revision {
        HsRevision::Hs1992 => "Harmonized System 1992 (Comtrade H0)",
        HsRevision::Hs1996 => "Harmonized System 1996 (Comtrade H1)",
        HsRevision::Hs2002 => "Harmonized System 2002 (Comtrade H2)",
        HsRevision::Hs2007 => "Harmonized System 2007 (Comtrade H3)",
        HsRevision::Hs2012 => "Harmonized System 2012 (Comtrade H4)",
        HsRevision::Hs2017 => "Harmonized System 2017 (Comtrade H5)",
        HsRevision::Hs2022 => "Harmonized System 2022 (Comtrade H6)",
    }
}

/// A code of a classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub parent_code: Option<String>,
    pub level: i32,
    pub description: String,
    pub is_leaf: bool,
}

#[derive(Deserialize)]
struct HsRow {
    id: String,
    text: String,
    parent: String,
    #[serde(rename = "isLeaf")]
    is_leaf: u8,
    aggrlevel: i32,
}

/// The codes of one HS revision (`HS1992` to `HS2022`), `TOTAL` included.
pub fn hs_codes(classification: &str) -> Vec<Code> {
    let data = match classification {
        "HS1992" => HS1992,
        "HS1996" => HS1996,
        "HS2002" => HS2002,
        "HS2007" => HS2007,
        "HS2012" => HS2012,
        "HS2017" => HS2017,
        "HS2022" => HS2022,
        other => panic!("no bundled HS revision {other}"),
    };
    rows::<HsRow>(data)
        .map(|r| {
            // Texts repeat the code: "0101 - Live horses…"; keep the description only.
            let prefix = format!("{} - ", r.id);
            let description = r
                .text
                .strip_prefix(&prefix)
                .unwrap_or(&r.text)
                .trim()
                .to_owned();
            Code {
                parent_code: (r.parent != "#").then_some(r.parent),
                level: r.aggrlevel,
                description,
                is_leaf: r.is_leaf == 1,
                code: r.id,
            }
        })
        .collect()
}

/// One line of the HS concordance: `after` is the newer revision's code.
#[derive(Debug, Clone)]
pub struct Concordance {
    pub from_classification: &'static str,
    pub from_code: String,
    pub to_classification: &'static str,
    pub to_code: String,
    /// Cardinality after:before, as the file writes it.
    pub relationship: String,
}

#[derive(Deserialize)]
struct ConcordanceRow {
    code_after: String,
    code_before: String,
    relationship: String,
    adjustment: String,
}

/// The HS concordance between each revision and the next, from 1992→1996 to 2017→2022
/// (`hs_concordance_1992_2012.csv`, then `hs_concordance.csv`). The files' `999999`
/// placeholder rows are dropped.
pub fn hs_concordance() -> Vec<Concordance> {
    rows::<ConcordanceRow>(HS_CONCORDANCE_1992_2012)
        .chain(rows::<ConcordanceRow>(HS_CONCORDANCE))
        .filter(|r| r.code_after != "999999")
        .map(|r| {
            // "2017 to 2012": codes after are HS2017, codes before HS2012.
            let step = r.adjustment.trim();
            let revision = |year: &str| {
                HsRevision::parse(year)
                    .unwrap_or_else(|_| panic!("unknown concordance adjustment {step:?}"))
                    .classification_code()
            };
            let (to, from) = match step.split_once(" to ") {
                Some((after, before)) => (revision(after), revision(before)),
                None => panic!("unknown concordance adjustment {step:?}"),
            };
            Concordance {
                from_classification: from,
                from_code: r.code_before,
                to_classification: to,
                to_code: r.code_after,
                relationship: r.relationship,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct IsicRow {
    code: String,
    level: String,
    parent: String,
    description: String,
}

/// ISIC Rev.4: sections (level 1), divisions (2), groups (3), classes (4).
pub fn isic_codes() -> Vec<Code> {
    rows::<IsicRow>(ISIC)
        .map(|r| {
            let level = match r.level.as_str() {
                "section" => 1,
                "division" => 2,
                "group" => 3,
                "class" => 4,
                other => panic!("unknown ISIC level {other:?}"),
            };
            Code {
                parent_code: (!r.parent.is_empty()).then_some(r.parent),
                is_leaf: level == 4,
                level,
                description: r.description,
                code: r.code,
            }
        })
        .collect()
}

/// A UN Comtrade area code.
#[derive(Debug, Clone, Deserialize)]
pub struct ComtradeArea {
    pub code: i32,
    pub iso3: String,
    pub iso2: Option<String>,
    pub name: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub is_group: bool,
}

/// The Comtrade reporter areas plus 0 = World.
pub fn comtrade_areas() -> Vec<ComtradeArea> {
    rows::<ComtradeArea>(COMTRADE_AREAS)
        .map(|mut a| {
            a.iso2 = a.iso2.filter(|s| !s.is_empty());
            a
        })
        .collect()
}

/// One row of an admin-area list: a tehsil with its parents, or a district (no tehsil).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AdminAreaRow {
    pub province: String,
    pub division: String,
    pub district: String,
    #[serde(default)]
    pub tehsil: Option<String>,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// For a district notified out of another: the district it was part of.
    #[serde(default)]
    pub former_parent: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl AdminAreaRow {
    /// Trims and title-cases the names and drops empty optional cells.
    pub fn normalised(self) -> Self {
        let clean = |s: Option<String>| s.map(|s| title_case(&s)).filter(|s| !s.is_empty());
        AdminAreaRow {
            province: title_case(&self.province),
            division: title_case(&self.division),
            district: title_case(&self.district),
            tehsil: clean(self.tehsil),
            former_parent: clean(self.former_parent),
            notes: self
                .notes
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            ..self
        }
    }
}

/// Parses an admin-area list (`province,division,district,tehsil[,valid_from,valid_to,
/// former_parent,notes]`, a header row first). Names are normalised; a row with an empty
/// province, division or district is an error naming its line.
pub fn parse_admin_areas(data: &str) -> Result<Vec<AdminAreaRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data.as_bytes());
    let mut out = Vec::new();
    for (i, row) in reader.deserialize::<AdminAreaRow>().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| format!("line {line}: {e}"))?.normalised();
        for (column, value) in [
            ("province", &row.province),
            ("division", &row.division),
            ("district", &row.district),
        ] {
            if value.is_empty() {
                return Err(format!("line {line}, column {column}: the name is empty"));
            }
        }
        out.push(row);
    }
    Ok(out)
}

/// Pakistan's admin areas as bundled: the raw list (Punjab before 2022) followed by the
/// Punjab districts notified since 2022, which record their former parent district.
pub fn admin_areas() -> Vec<AdminAreaRow> {
    let mut all = parse_admin_areas(ADMIN_AREAS).expect("bundled admin areas parse");
    all.extend(parse_admin_areas(PUNJAB_2022).expect("bundled Punjab 2022 districts parse"));
    all
}

/// A synonym of an admin area's name, e.g. "D.G. Khan" for Dera Ghazi Khan.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminSynonym {
    pub level: String,
    pub name: String,
    pub synonym: String,
}

/// The bundled synonyms.
pub fn admin_area_synonyms() -> Vec<AdminSynonym> {
    rows::<AdminSynonym>(ADMIN_SYNONYMS).collect()
}

/// The key under which admin-area names are matched.
pub fn name_key(name: &str) -> String {
    normalise_name(name)
}

fn rows<T: for<'de> Deserialize<'de>>(data: &'static str) -> impl Iterator<Item = T> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(data.as_bytes())
        .into_deserialize::<T>()
        .map(|r| r.expect("bundled reference file parses"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs_revisions_have_their_codes() {
        let hs17 = hs_codes("HS2017");
        let find = |c: &str| hs17.iter().find(|x| x.code == c).cloned();
        let h = find("9018").expect("9018 in HS2017");
        assert_eq!(h.level, 4);
        assert_eq!(h.parent_code.as_deref(), Some("90"));
        assert!(!h.description.starts_with("9018"));
        assert_eq!(find("TOTAL").unwrap().parent_code, None);
        assert!(hs_codes("HS2022").iter().any(|c| c.code == "870822"));
        assert!(!hs_codes("HS2017").iter().any(|c| c.code == "870822"));
        // The older revisions: 382530 (clinical waste) appeared in HS2002.
        assert!(hs_codes("HS2002").iter().any(|c| c.code == "382530"));
        assert!(!hs_codes("HS1996").iter().any(|c| c.code == "382530"));
        for revision in HsRevision::ALL {
            let codes = hs_codes(revision.classification_code());
            assert!(codes.len() > 6000, "{revision}: {}", codes.len());
            assert!(codes.iter().any(|c| c.code == "TOTAL"), "{revision}");
        }
    }

    #[test]
    fn concordance_directions() {
        let c = hs_concordance();
        let split = c
            .iter()
            .find(|x| x.to_code == "870822" && x.from_classification == "HS2017")
            .expect("870822 comes from HS2017 870829");
        assert_eq!(split.from_code, "870829");
        assert_eq!(split.to_classification, "HS2022");
        assert!(
            c.iter()
                .all(|x| x.from_code.len() == 6 && x.to_code.len() == 6)
        );
        // Six steps, each from one revision to the next.
        let steps: std::collections::BTreeSet<(&str, &str)> = c
            .iter()
            .map(|x| (x.from_classification, x.to_classification))
            .collect();
        let expected: std::collections::BTreeSet<(&str, &str)> = HsRevision::ALL
            .windows(2)
            .map(|w| (w[0].classification_code(), w[1].classification_code()))
            .collect();
        assert_eq!(steps, expected);
    }

    #[test]
    fn isic_and_comtrade() {
        let isic = isic_codes();
        assert_eq!(isic.iter().filter(|c| c.level == 4).count(), 419);
        let areas = comtrade_areas();
        let usa = areas.iter().find(|a| a.iso3 == "USA").unwrap();
        assert_eq!(usa.code, 842);
        assert!(areas.iter().any(|a| a.code == 588 && a.iso3 == "PAK"));
    }

    #[test]
    fn admin_areas_are_normalised_and_include_new_districts() {
        let areas = admin_areas();
        assert!(
            areas
                .iter()
                .all(|a| a.district == title_case(&a.district) && !a.district.ends_with(' '))
        );
        for d in ["Wazirabad", "Murree", "Talagang", "Kot Addu", "Taunsa"] {
            let row = areas
                .iter()
                .find(|a| a.district == d)
                .unwrap_or_else(|| panic!("{d} missing"));
            assert!(row.former_parent.is_some(), "{d} records its former parent");
            assert!(row.valid_from.is_some(), "{d} is effective-dated");
        }
        let punjab: std::collections::BTreeSet<_> = areas
            .iter()
            .filter(|a| a.province == "Punjab" && a.valid_from.is_none())
            .map(|a| a.district.clone())
            .collect();
        assert_eq!(punjab.len(), 36, "Punjab had 36 districts before 2022");
    }

    #[test]
    fn bad_admin_area_rows_name_their_line() {
        let err =
            parse_admin_areas("province,division,district,tehsil\nPunjab,Lahore,,Lahore City\n")
                .unwrap_err();
        assert!(err.contains("line 2") && err.contains("district"), "{err}");
    }
}
