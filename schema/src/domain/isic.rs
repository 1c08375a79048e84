//! Industry codes: ISIC Rev.4 and Pakistan's national adaptation, PSIC Rev.4.
//!
//! The ISIC Rev.4 structure (21 sections, 88 divisions, 238 groups, 419 classes) is
//! bundled with the crate in `reference/isic_rev4.csv` and read once, on first use, so a
//! code is only accepted when it exists in the classification, not merely when it has the
//! right number of digits.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::LazyLock;

use thiserror::Error;

/// The classification code of ISIC Rev.4 in the hub's `classifications` table.
pub const ISIC4: &str = "ISIC-R4";

/// The classification code of the Pakistan Standard Industrial Classification Rev.4 in the
/// hub's `classifications` table.
pub const PK_PSIC_R4: &str = "PK-PSIC-R4";

/// The bundled ISIC Rev.4 structure: `code,level,section,parent,description`.
const ISIC_REV4_CSV: &str = include_str!("../../reference/isic_rev4.csv");

/// Why an ISIC or PSIC code could not be parsed. Industry codes are not personal data, so
/// the messages repeat the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IsicError {
    /// The code is empty.
    #[error(
        "The industry code is empty; expected an ISIC Rev.4 section letter A to U, or a \
         2-digit division, 3-digit group or 4-digit class."
    )]
    Empty,
    /// The code does not have the shape of an ISIC code.
    #[error(
        "\"{0}\" is not an ISIC Rev.4 code; expected a section letter A to U, or a 2-digit \
         division, 3-digit group or 4-digit class such as 1311."
    )]
    Malformed(String),
    /// The code has the right shape but does not exist in ISIC Rev.4.
    #[error(
        "\"{0}\" has the shape of an ISIC code but does not exist in ISIC Rev.4; codes of \
         other revisions (such as ISIC Rev.3.1) must be converted first."
    )]
    Unknown(String),
    /// The code does not have the shape of a PSIC code.
    #[error(
        "\"{0}\" is not a PSIC Rev.4 code; expected 4 to 7 digits whose first four digits \
         are an ISIC Rev.4 class, such as 1311 or 13111."
    )]
    PsicMalformed(String),
    /// The first four digits of a PSIC code are not an ISIC Rev.4 class.
    #[error(
        "The PSIC code \"{code}\" starts with {class}, which is not an ISIC Rev.4 class; PSIC \
         Rev.4 follows ISIC Rev.4 down to the 4-digit classes."
    )]
    PsicUnknownClass {
        /// The code as given.
        code: String,
        /// Its first four digits.
        class: String,
    },
}

/// The level of an ISIC code in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsicLevel {
    /// A section, written as a letter (`C` Manufacturing).
    Section,
    /// A division, 2 digits (`13` Manufacture of textiles).
    Division,
    /// A group, 3 digits (`131`).
    Group,
    /// A class, 4 digits (`1311`).
    Class,
}

impl IsicLevel {
    /// The name used in the bundled CSV file: `section`, `division`, `group`, `class`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Section => "section",
            Self::Division => "division",
            Self::Group => "group",
            Self::Class => "class",
        }
    }

    /// The depth stored in `classification_codes.level`: 1 for sections to 4 for classes
    /// (national sub-classes continue with 5 and more).
    #[must_use]
    pub fn depth(self) -> u8 {
        match self {
            Self::Section => 1,
            Self::Division => 2,
            Self::Group => 3,
            Self::Class => 4,
        }
    }

    fn from_csv(name: &str) -> Option<Self> {
        [Self::Section, Self::Division, Self::Group, Self::Class]
            .into_iter()
            .find(|level| level.as_str() == name)
    }
}

impl fmt::Display for IsicLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the bundled ISIC Rev.4 structure.
#[derive(Debug)]
struct Entry {
    code: String,
    level: IsicLevel,
    section: String,
    parent: Option<String>,
    description: String,
}

/// The ISIC Rev.4 structure in file order, with an index by code.
#[derive(Debug)]
struct Table {
    entries: Vec<Entry>,
    by_code: HashMap<String, usize>,
}

impl Table {
    fn get(&'static self, code: &str) -> Option<&'static Entry> {
        self.by_code.get(code).map(|&index| &self.entries[index])
    }
}

/// A row of the CSV file as read by the `csv` crate.
#[derive(serde::Deserialize)]
struct CsvRow {
    code: String,
    level: String,
    section: String,
    parent: String,
    description: String,
}

/// Reads and checks the ISIC structure: every level name is known, every code has the
/// shape of its level, codes are unique and every parent precedes its children.
fn load_table(csv_text: &str) -> Result<Table, String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let mut entries = Vec::new();
    let mut by_code = HashMap::new();
    for (index, row) in reader.deserialize::<CsvRow>().enumerate() {
        let line = index + 2;
        let row = row.map_err(|e| format!("line {line}: {e}"))?;
        let level = IsicLevel::from_csv(&row.level)
            .ok_or_else(|| format!("line {line}: unknown level {:?}", row.level))?;
        let shape_ok = match level {
            IsicLevel::Section => {
                row.code.len() == 1 && row.code.bytes().all(|b| b.is_ascii_uppercase())
            }
            _ => {
                row.code.len() == usize::from(level.depth())
                    && row.code.bytes().all(|b| b.is_ascii_digit())
            }
        };
        if !shape_ok {
            return Err(format!(
                "line {line}: code {:?} does not fit level {level}",
                row.code
            ));
        }
        let parent = (!row.parent.is_empty()).then_some(row.parent);
        match (&parent, level) {
            (None, IsicLevel::Section) => {}
            (Some(parent), level) if level != IsicLevel::Section => {
                if !by_code.contains_key(parent) {
                    return Err(format!(
                        "line {line}: parent {parent:?} is not defined before"
                    ));
                }
            }
            _ => return Err(format!("line {line}: only sections have no parent")),
        }
        if by_code.insert(row.code.clone(), entries.len()).is_some() {
            return Err(format!("line {line}: duplicate code {:?}", row.code));
        }
        entries.push(Entry {
            code: row.code,
            level,
            section: row.section,
            parent,
            description: row.description,
        });
    }
    Ok(Table { entries, by_code })
}

/// The bundled ISIC Rev.4 structure, parsed on first use.
static ISIC_TABLE: LazyLock<Table> = LazyLock::new(|| {
    load_table(ISIC_REV4_CSV)
        .unwrap_or_else(|e| panic!("the bundled reference/isic_rev4.csv is invalid: {e}"))
});

/// The English description of an ISIC Rev.4 section, division, group or class, or `None`
/// if `code` is not one (national PSIC sub-classes have no bundled description).
#[must_use]
pub fn isic_description(code: &str) -> Option<&'static str> {
    ISIC_TABLE
        .get(code.trim())
        .map(|entry| entry.description.as_str())
}

/// A code that exists in ISIC Rev.4: a section letter, a 2-digit division, a 3-digit group
/// or a 4-digit class.
///
/// The value refers into the bundled classification, so it is cheap to copy and its
/// description and parents are always available.
#[derive(Clone, Copy)]
pub struct IsicCode(&'static Entry);

impl IsicCode {
    /// Parses a code, accepting a section letter in either case and ignoring surrounding
    /// whitespace. Codes must be read as text: a class such as `0111` stored as a number
    /// becomes `111`, which is a different (and here unknown) code.
    pub fn parse(raw: &str) -> Result<Self, IsicError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IsicError::Empty);
        }
        let is_section = trimmed.len() == 1 && trimmed.bytes().all(|b| b.is_ascii_alphabetic());
        let is_numeric =
            (2..=4).contains(&trimmed.len()) && trimmed.bytes().all(|b| b.is_ascii_digit());
        if !(is_section || is_numeric) {
            return Err(IsicError::Malformed(trimmed.to_owned()));
        }
        let code = trimmed.to_ascii_uppercase();
        ISIC_TABLE
            .get(&code)
            .map(Self)
            .ok_or(IsicError::Unknown(code))
    }

    /// Every code of ISIC Rev.4 in the order of the classification (each section followed
    /// by its divisions, groups and classes), for seeding the `classification_codes` table.
    pub fn all() -> impl Iterator<Item = Self> {
        ISIC_TABLE.entries.iter().map(Self)
    }

    /// The code: a section letter or 2 to 4 digits.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        &self.0.code
    }

    /// The level of the code.
    #[must_use]
    pub fn level(&self) -> IsicLevel {
        self.0.level
    }

    /// The section the code belongs to (itself for a section).
    #[must_use]
    pub fn section(&self) -> Self {
        ISIC_TABLE.get(&self.0.section).map_or(*self, Self)
    }

    /// The code one level up, or `None` for a section.
    #[must_use]
    pub fn parent(&self) -> Option<Self> {
        self.0
            .parent
            .as_deref()
            .and_then(|parent| ISIC_TABLE.get(parent))
            .map(Self)
    }

    /// The English description from the classification.
    #[must_use]
    pub fn description(&self) -> &'static str {
        &self.0.description
    }
}

impl PartialEq for IsicCode {
    fn eq(&self, other: &Self) -> bool {
        self.0.code == other.0.code
    }
}

impl Eq for IsicCode {}

impl Hash for IsicCode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.code.hash(state);
    }
}

impl PartialOrd for IsicCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IsicCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.code.cmp(&other.0.code)
    }
}

impl fmt::Debug for IsicCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IsicCode").field(&self.0.code).finish()
    }
}

impl fmt::Display for IsicCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.code)
    }
}

impl FromStr for IsicCode {
    type Err = IsicError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A code of the Pakistan Standard Industrial Classification Rev.4 (`PK-PSIC-R4`).
///
/// PSIC Rev.4 is identical to ISIC Rev.4 down to the 4-digit classes and adds national
/// sub-classes of 5 to 7 digits below them. A code is accepted when it has 4 to 7 digits
/// and its first four digits are an existing ISIC Rev.4 class; the national sub-classes
/// themselves are not bundled, so their existence is not checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PsicCode(String);

impl PsicCode {
    /// Parses a code of 4 to 7 digits, ignoring surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, IsicError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IsicError::Empty);
        }
        if !(4..=7).contains(&trimmed.len()) || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IsicError::PsicMalformed(trimmed.to_owned()));
        }
        let class = &trimmed[..4];
        match ISIC_TABLE.get(class) {
            Some(entry) if entry.level == IsicLevel::Class => Ok(Self(trimmed.to_owned())),
            _ => Err(IsicError::PsicUnknownClass {
                code: trimmed.to_owned(),
                class: class.to_owned(),
            }),
        }
    }

    /// The code, 4 to 7 digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISIC Rev.4 class the code belongs to (its first four digits).
    #[must_use]
    pub fn isic_class(&self) -> IsicCode {
        IsicCode::parse(&self.0[..4]).expect("a PsicCode always starts with an existing ISIC class")
    }

    /// Tells whether the code is a national sub-class (5 to 7 digits) rather than an ISIC
    /// class.
    #[must_use]
    pub fn is_sub_class(&self) -> bool {
        self.0.len() > 4
    }

    /// The depth stored in `classification_codes.level`: the number of digits (4 to 7).
    #[must_use]
    pub fn depth(&self) -> u8 {
        // Four to seven digits, so the cast cannot truncate.
        self.0.len() as u8
    }
}

impl fmt::Display for PsicCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PsicCode {
    type Err = IsicError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(IsicCode, PsicCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_is_complete() {
        let count = |level| IsicCode::all().filter(|c| c.level() == level).count();
        assert_eq!(count(IsicLevel::Section), 21);
        assert_eq!(count(IsicLevel::Division), 88);
        assert_eq!(count(IsicLevel::Group), 238);
        assert_eq!(count(IsicLevel::Class), 419);
        for code in IsicCode::all() {
            assert!(!code.description().is_empty(), "{code}");
            assert_eq!(code.section().level(), IsicLevel::Section, "{code}");
            match code.parent() {
                None => assert_eq!(code.level(), IsicLevel::Section),
                Some(parent) => {
                    assert_eq!(parent.level().depth() + 1, code.level().depth(), "{code}");
                    assert_eq!(parent.section(), code.section(), "{code}");
                    if parent.level() != IsicLevel::Section {
                        assert!(code.as_str().starts_with(parent.as_str()), "{code}");
                    }
                }
            }
        }
    }

    #[test]
    fn loader_rejects_broken_files() {
        let header = "code,level,section,parent,description\n";
        let check = |body: &str, ok: bool| {
            assert_eq!(load_table(&format!("{header}{body}")).is_ok(), ok, "{body}");
        };
        check("A,section,A,,Agriculture\n01,division,A,A,Crops\n", true);
        check("A,sector,A,,Agriculture\n", false);
        check("A,section,A,,Agriculture\n011,division,A,A,Crops\n", false);
        check("01,division,A,A,Crops\n", false);
        check("A,section,A,,Agriculture\nA,section,A,,Again\n", false);
        check("A,section,A,X,Agriculture\n", false);
    }

    #[test]
    fn isic_table() {
        let check = |input: &str, expected: Result<(&str, IsicLevel), IsicError>| {
            let got = IsicCode::parse(input).map(|c| (c.as_str(), c.level()));
            assert_eq!(got, expected, "input {input:?}");
        };
        check("C", Ok(("C", IsicLevel::Section)));
        check(" c ", Ok(("C", IsicLevel::Section)));
        check("13", Ok(("13", IsicLevel::Division)));
        check("131", Ok(("131", IsicLevel::Group)));
        check("1311", Ok(("1311", IsicLevel::Class)));
        check("0111", Ok(("0111", IsicLevel::Class)));
        check("3250", Ok(("3250", IsicLevel::Class)));
        check("", Err(IsicError::Empty));
        check("  ", Err(IsicError::Empty));
        check("Z", Err(IsicError::Unknown("Z".into())));
        check("00", Err(IsicError::Unknown("00".into())));
        check("1319", Err(IsicError::Unknown("1319".into())));
        check("111", Err(IsicError::Unknown("111".into())));
        check("1", Err(IsicError::Malformed("1".into())));
        check("13111", Err(IsicError::Malformed("13111".into())));
        check("C13", Err(IsicError::Malformed("C13".into())));
        check("13.11", Err(IsicError::Malformed("13.11".into())));
        check("AB", Err(IsicError::Malformed("AB".into())));
    }

    #[test]
    fn isic_navigation() {
        let class = IsicCode::parse("1311").unwrap();
        assert_eq!(
            class.description(),
            "Preparation and spinning of textile fibres"
        );
        let group = class.parent().unwrap();
        assert_eq!(group.as_str(), "131");
        let division = group.parent().unwrap();
        assert_eq!(division.as_str(), "13");
        let section = division.parent().unwrap();
        assert_eq!(section.as_str(), "C");
        assert_eq!(section.parent(), None);
        assert_eq!(class.section(), section);
        assert_eq!(section.section(), section);
        assert_eq!(format!("{class:?}"), r#"IsicCode("1311")"#);
        assert_eq!(isic_description("C"), Some("Manufacturing"));
        assert_eq!(
            isic_description(" 1311 "),
            Some("Preparation and spinning of textile fibres")
        );
        assert_eq!(isic_description("13111"), None);
        assert_eq!(IsicCode::all().next().map(|c| c.as_str()), Some("A"));
        assert_eq!(serde_json::to_string(&class).unwrap(), r#""1311""#);
        assert_eq!(
            serde_json::from_str::<IsicCode>(r#""1311""#).unwrap(),
            class
        );
        assert!(serde_json::from_str::<IsicCode>(r#""1319""#).is_err());
    }

    #[test]
    fn psic_table() {
        let check = |input: &str, expected: Result<(&str, &str), IsicError>| {
            let got = PsicCode::parse(input);
            let got = got.as_ref().map(|c| (c.as_str(), c.isic_class().as_str()));
            assert_eq!(
                got,
                expected.as_ref().map(|&(a, b)| (a, b)),
                "input {input:?}"
            );
        };
        check("1311", Ok(("1311", "1311")));
        check("13111", Ok(("13111", "1311")));
        check(" 1311234 ", Ok(("1311234", "1311")));
        check("0111", Ok(("0111", "0111")));
        check("", Err(IsicError::Empty));
        check("131", Err(IsicError::PsicMalformed("131".into())));
        check("13112345", Err(IsicError::PsicMalformed("13112345".into())));
        check("1311a", Err(IsicError::PsicMalformed("1311a".into())));
        check("C1311", Err(IsicError::PsicMalformed("C1311".into())));
        check(
            "13191",
            Err(IsicError::PsicUnknownClass {
                code: "13191".into(),
                class: "1319".into(),
            }),
        );
        check(
            "1110",
            Err(IsicError::PsicUnknownClass {
                code: "1110".into(),
                class: "1110".into(),
            }),
        );

        let sub_class = PsicCode::parse("13111").unwrap();
        assert!(sub_class.is_sub_class());
        assert_eq!(sub_class.depth(), 5);
        assert!(!PsicCode::parse("1311").unwrap().is_sub_class());
        assert_eq!(serde_json::to_string(&sub_class).unwrap(), r#""13111""#);
        assert_eq!(ISIC4, "ISIC-R4");
        assert_eq!(PK_PSIC_R4, "PK-PSIC-R4");
    }

    #[test]
    fn messages_are_sentences() {
        let errors = [
            IsicError::Empty,
            IsicError::Malformed("x".into()),
            IsicError::Unknown("1319".into()),
            IsicError::PsicMalformed("131".into()),
            IsicError::PsicUnknownClass {
                code: "13191".into(),
                class: "1319".into(),
            },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(
                message.starts_with(|c: char| c.is_uppercase() || c == '"'),
                "{message}"
            );
            assert!(message.ends_with('.'), "{message}");
        }
    }
}
