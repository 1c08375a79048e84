//! Harmonized System (HS) revisions and product codes, as used in trade statistics.
//!
//! An HS code means nothing without its revision: codes are split, merged and renumbered
//! every five years, so the hub always carries the two together and converts between
//! revisions only through the concordance tables.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Why an HS revision or code could not be parsed. HS codes are not personal data, so the
/// messages repeat the offending value to help fixing the source file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HsError {
    /// The revision is not one of HS1992 to HS2022.
    #[error(
        "\"{0}\" is not a known HS revision; expected a Comtrade code H0 to H6, a name such as \
         HS2017 or HS17, or a year such as 2017 (revisions 1992, 1996, 2002, 2007, 2012, 2017, \
         2022)."
    )]
    UnknownRevision(String),
    /// The code is empty.
    #[error("The HS code is empty; expected 2, 4 or 6 digits, or TOTAL.")]
    Empty,
    /// The code contains characters other than digits, dots and spaces.
    #[error(
        "The HS code \"{0}\" contains characters other than digits, dots and spaces; expected \
         2, 4 or 6 digits such as 0101 or 9018.90, or TOTAL."
    )]
    NotDigits(String),
    /// The code has an odd number of digits.
    #[error(
        "The HS code \"{value}\" has {digits} digits; expected 2, 4 or 6 digits. If a leading \
         zero was lost (10121 for 010121), fix the source so the column is read as text: a \
         lost zero cannot be told apart from a missing digit."
    )]
    OddLength {
        /// The value as given.
        value: String,
        /// The number of digits after removing dots and spaces.
        digits: usize,
    },
    /// The code has more than six digits (a national tariff line).
    #[error(
        "The HS code \"{value}\" has {digits} digits; expected at most 6. National tariff \
         lines (such as 8-digit Pakistan Customs Tariff codes) must be cut to their 6-digit \
         HS subheading explicitly."
    )]
    TooLong {
        /// The value as given.
        value: String,
        /// The number of digits after removing dots and spaces.
        digits: usize,
    },
    /// The code is in chapter 00, which does not exist.
    #[error(
        "The HS code \"{0}\" is in chapter 00, which does not exist; chapters run from 01 to 99."
    )]
    ChapterZero(String),
    /// A combined `revision:code` string is malformed.
    #[error(
        "The product code \"{0}\" must be an HS revision and a code joined by a colon, such as \
         HS2017:901890."
    )]
    NotQualified(String),
}

/// A revision of the Harmonized System.
///
/// The order of the variants is chronological, so revisions compare by age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HsRevision {
    /// The first HS nomenclature (in force 1988 to 1995), which Comtrade names HS 1992,
    /// code `H0`.
    Hs1992,
    /// HS 1996, Comtrade `H1`.
    Hs1996,
    /// HS 2002, Comtrade `H2`.
    Hs2002,
    /// HS 2007, Comtrade `H3`.
    Hs2007,
    /// HS 2012, Comtrade `H4`.
    Hs2012,
    /// HS 2017, Comtrade `H5`.
    Hs2017,
    /// HS 2022, Comtrade `H6`.
    Hs2022,
}

impl HsRevision {
    /// All revisions, oldest first.
    pub const ALL: [Self; 7] = [
        Self::Hs1992,
        Self::Hs1996,
        Self::Hs2002,
        Self::Hs2007,
        Self::Hs2012,
        Self::Hs2017,
        Self::Hs2022,
    ];

    /// Parses a revision written as its Comtrade code (`H5`), its name (`HS2017`, `HS17`,
    /// `HS 2017`) or its year (`2017`), ignoring case, spaces, dashes and underscores.
    pub fn parse(raw: &str) -> Result<Self, HsError> {
        let compact: String = raw
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '_')))
            .collect::<String>()
            .to_ascii_uppercase();
        let by_year = |year: &str| Self::ALL.into_iter().find(|r| r.year().to_string() == year);
        let found = if let Some(rest) = compact.strip_prefix("HS") {
            match rest.len() {
                4 => by_year(rest),
                2 => Self::ALL
                    .into_iter()
                    .find(|r| r.year().to_string().ends_with(rest)),
                _ => None,
            }
        } else if compact.len() == 2 && compact.starts_with('H') {
            Self::ALL.into_iter().find(|r| r.comtrade_code() == compact)
        } else if compact.len() == 4 {
            by_year(&compact)
        } else {
            None
        };
        found.ok_or_else(|| HsError::UnknownRevision(raw.trim().to_owned()))
    }

    /// The Comtrade classification code, `H0` to `H6`.
    #[must_use]
    pub fn comtrade_code(self) -> &'static str {
        match self {
            Self::Hs1992 => "H0",
            Self::Hs1996 => "H1",
            Self::Hs2002 => "H2",
            Self::Hs2007 => "H3",
            Self::Hs2012 => "H4",
            Self::Hs2017 => "H5",
            Self::Hs2022 => "H6",
        }
    }

    /// The code of the classification in the hub's `classifications` table, such as
    /// `HS2017`; also the canonical display form.
    #[must_use]
    pub fn classification_code(self) -> &'static str {
        match self {
            Self::Hs1992 => "HS1992",
            Self::Hs1996 => "HS1996",
            Self::Hs2002 => "HS2002",
            Self::Hs2007 => "HS2007",
            Self::Hs2012 => "HS2012",
            Self::Hs2017 => "HS2017",
            Self::Hs2022 => "HS2022",
        }
    }

    /// The year in the revision's name: the year it entered into force, except for
    /// `Hs1992`, whose name is Comtrade's.
    #[must_use]
    pub fn year(self) -> i32 {
        match self {
            Self::Hs1992 => 1992,
            Self::Hs1996 => 1996,
            Self::Hs2002 => 2002,
            Self::Hs2007 => 2007,
            Self::Hs2012 => 2012,
            Self::Hs2017 => 2017,
            Self::Hs2022 => 2022,
        }
    }
}

impl fmt::Display for HsRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.classification_code())
    }
}

impl FromStr for HsRevision {
    type Err = HsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The code of the all-products total.
const TOTAL: &str = "TOTAL";

/// A product code of a given HS revision: a 2-digit chapter, a 4-digit heading, a 6-digit
/// subheading, or `TOTAL` for all products.
///
/// Leading zeros are part of the code (`0101`). Odd lengths are rejected rather than
/// repaired: a 5-digit cell may be a 6-digit code that lost its leading zero or a typing
/// error, and guessing would silently file trade under the wrong product.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "HsCodeRepr", into = "HsCodeRepr")]
pub struct HsCode {
    revision: HsRevision,
    code: String,
}

/// The serialised form of an [`HsCode`], validated again when read back.
#[derive(serde::Serialize, serde::Deserialize)]
struct HsCodeRepr {
    revision: HsRevision,
    code: String,
}

impl TryFrom<HsCodeRepr> for HsCode {
    type Error = HsError;

    fn try_from(repr: HsCodeRepr) -> Result<Self, Self::Error> {
        Self::parse(repr.revision, &repr.code)
    }
}

impl From<HsCode> for HsCodeRepr {
    fn from(code: HsCode) -> Self {
        Self {
            revision: code.revision,
            code: code.code,
        }
    }
}

impl HsCode {
    /// Parses a code of `revision`, removing dots and whitespace (`9018.90` becomes
    /// `901890`); `TOTAL` is accepted in any case.
    pub fn parse(revision: HsRevision, raw: &str) -> Result<Self, HsError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(HsError::Empty);
        }
        if trimmed.eq_ignore_ascii_case(TOTAL) {
            return Ok(Self::total(revision));
        }
        let mut code = String::with_capacity(6);
        for c in trimmed.chars() {
            if c.is_ascii_digit() {
                code.push(c);
            } else if !(c == '.' || c.is_whitespace()) {
                return Err(HsError::NotDigits(trimmed.to_owned()));
            }
        }
        match code.len() {
            0 => Err(HsError::NotDigits(trimmed.to_owned())),
            2 | 4 | 6 if code.starts_with("00") => Err(HsError::ChapterZero(trimmed.to_owned())),
            2 | 4 | 6 => Ok(Self { revision, code }),
            digits if digits > 6 => Err(HsError::TooLong {
                value: trimmed.to_owned(),
                digits,
            }),
            digits => Err(HsError::OddLength {
                value: trimmed.to_owned(),
                digits,
            }),
        }
    }

    /// The all-products total of `revision`.
    #[must_use]
    pub fn total(revision: HsRevision) -> Self {
        Self {
            revision,
            code: TOTAL.to_owned(),
        }
    }

    /// The revision the code belongs to.
    #[must_use]
    pub fn revision(&self) -> HsRevision {
        self.revision
    }

    /// The code: 2, 4 or 6 digits, or `TOTAL`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// Tells whether this is the all-products total.
    #[must_use]
    pub fn is_total(&self) -> bool {
        self.code == TOTAL
    }

    /// The level as stored in `classification_codes.level`: 0 for `TOTAL`, else the number
    /// of digits (2, 4 or 6).
    #[must_use]
    pub fn level(&self) -> u8 {
        if self.is_total() {
            0
        } else {
            // At most six digits, so the cast cannot truncate.
            self.code.len() as u8
        }
    }

    /// The first `digits` digits, if the code is at least that detailed.
    fn prefix(&self, digits: usize) -> Option<&str> {
        (!self.is_total() && self.code.len() >= digits).then(|| &self.code[..digits])
    }

    /// The 2-digit chapter (`hs2`), or `None` for `TOTAL`.
    #[must_use]
    pub fn chapter(&self) -> Option<&str> {
        self.prefix(2)
    }

    /// The 4-digit heading (`hs4`), or `None` for chapters and `TOTAL`.
    #[must_use]
    pub fn heading(&self) -> Option<&str> {
        self.prefix(4)
    }

    /// The 6-digit subheading (`hs6`), or `None` for less detailed codes.
    #[must_use]
    pub fn subheading(&self) -> Option<&str> {
        self.prefix(6)
    }

    /// Tells whether the code's digits start with `prefix`, as when selecting all
    /// subheadings of a heading. `TOTAL` starts with no prefix.
    #[must_use]
    pub fn starts_with(&self, prefix: &str) -> bool {
        !self.is_total() && self.code.starts_with(prefix)
    }

    /// The code one level up: the heading of a subheading, the chapter of a heading and
    /// `TOTAL` for a chapter; `None` for `TOTAL`.
    #[must_use]
    pub fn parent(&self) -> Option<Self> {
        let code = match self.code.len() {
            6 | 4 => self.code[..self.code.len() - 2].to_owned(),
            2 => TOTAL.to_owned(),
            _ => return None,
        };
        Some(Self {
            revision: self.revision,
            code,
        })
    }
}

/// Writes `revision:code`, such as `HS2017:901890`; [`FromStr`] reads the same form.
impl fmt::Display for HsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.revision, self.code)
    }
}

impl FromStr for HsCode {
    type Err = HsError;

    /// Parses `revision:code`, such as `HS2017:9018.90` or `H5:901890`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (revision, code) = s
            .split_once(':')
            .ok_or_else(|| HsError::NotQualified(s.trim().to_owned()))?;
        Self::parse(HsRevision::parse(revision)?, code)
    }
}

serde_via_str!(HsRevision);

#[cfg(test)]
mod tests {
    use super::*;
    use HsRevision::*;

    #[test]
    fn revision_table() {
        let check = |input: &str, expected: Option<HsRevision>| {
            assert_eq!(
                HsRevision::parse(input),
                expected.ok_or_else(|| HsError::UnknownRevision(input.trim().to_owned())),
                "input {input:?}"
            );
        };
        check("H0", Some(Hs1992));
        check("H1", Some(Hs1996));
        check("h2", Some(Hs2002));
        check("H3", Some(Hs2007));
        check("H4", Some(Hs2012));
        check("H5", Some(Hs2017));
        check("H6", Some(Hs2022));
        check("HS2017", Some(Hs2017));
        check("hs 2017", Some(Hs2017));
        check("HS-2012", Some(Hs2012));
        check("HS17", Some(Hs2017));
        check("HS92", Some(Hs1992));
        check("HS02", Some(Hs2002));
        check("HS07", Some(Hs2007));
        check("2017", Some(Hs2017));
        check(" 2022 ", Some(Hs2022));
        check("1996", Some(Hs1996));
        check("H7", None);
        check("HS2018", None);
        check("HS18", None);
        check("2018", None);
        check("17", None);
        check("HS", None);
        check("", None);
        check("HS2017X", None);
    }

    #[test]
    fn revision_codes() {
        // (revision, Comtrade code, classification code, year)
        let table = [
            (Hs1992, "H0", "HS1992", 1992),
            (Hs1996, "H1", "HS1996", 1996),
            (Hs2002, "H2", "HS2002", 2002),
            (Hs2007, "H3", "HS2007", 2007),
            (Hs2012, "H4", "HS2012", 2012),
            (Hs2017, "H5", "HS2017", 2017),
            (Hs2022, "H6", "HS2022", 2022),
        ];
        for (revision, comtrade, classification, year) in table {
            assert_eq!(revision.comtrade_code(), comtrade);
            assert_eq!(revision.classification_code(), classification);
            assert_eq!(revision.to_string(), classification);
            assert_eq!(revision.year(), year);
            assert_eq!(HsRevision::parse(comtrade), Ok(revision));
            assert_eq!(HsRevision::parse(classification), Ok(revision));
        }
        assert!(Hs2012 < Hs2017);
        assert_eq!(serde_json::to_string(&Hs2017).unwrap(), r#""HS2017""#);
        assert_eq!(
            serde_json::from_str::<HsRevision>(r#""H5""#).unwrap(),
            Hs2017
        );
    }

    #[test]
    fn code_table() {
        let check = |input: &str, expected: Result<&str, HsError>| {
            let got = HsCode::parse(Hs2017, input);
            assert_eq!(
                got.as_ref().map(HsCode::as_str),
                expected.as_ref().map(|s| *s),
                "input {input:?}"
            );
        };
        let odd = |value: &str, digits| HsError::OddLength {
            value: value.into(),
            digits,
        };
        check("01", Ok("01"));
        check("0101", Ok("0101"));
        check("010121", Ok("010121"));
        check("9018.90", Ok("901890"));
        check(" 9018 90 ", Ok("901890"));
        check("90.18.90", Ok("901890"));
        check("99", Ok("99"));
        check("TOTAL", Ok("TOTAL"));
        check("total", Ok("TOTAL"));
        check("", Err(HsError::Empty));
        check("   ", Err(HsError::Empty));
        check("1", Err(odd("1", 1)));
        check("101", Err(odd("101", 3)));
        check("10121", Err(odd("10121", 5)));
        check("9018.9", Err(odd("9018.9", 5)));
        check(
            "90189000",
            Err(HsError::TooLong {
                value: "90189000".into(),
                digits: 8,
            }),
        );
        check("9018-90", Err(HsError::NotDigits("9018-90".into())));
        check("AG6", Err(HsError::NotDigits("AG6".into())));
        check("..", Err(HsError::NotDigits("..".into())));
        check("00", Err(HsError::ChapterZero("00".into())));
        check("0012", Err(HsError::ChapterZero("0012".into())));
    }

    #[test]
    fn code_accessors() {
        let check = |code: &str,
                     level: u8,
                     chapter: Option<&str>,
                     heading: Option<&str>,
                     subheading: Option<&str>,
                     parent: Option<&str>| {
            let hs = HsCode::parse(Hs2022, code).unwrap();
            assert_eq!(hs.level(), level, "{code}");
            assert_eq!(hs.chapter(), chapter, "{code}");
            assert_eq!(hs.heading(), heading, "{code}");
            assert_eq!(hs.subheading(), subheading, "{code}");
            assert_eq!(hs.parent().as_ref().map(HsCode::as_str), parent, "{code}");
            assert_eq!(hs.is_total(), level == 0);
            assert_eq!(hs.revision(), Hs2022);
        };
        check("TOTAL", 0, None, None, None, None);
        check("09", 2, Some("09"), None, None, Some("TOTAL"));
        check("0901", 4, Some("09"), Some("0901"), None, Some("09"));
        check(
            "090111",
            6,
            Some("09"),
            Some("0901"),
            Some("090111"),
            Some("0901"),
        );
        let hs = HsCode::parse(Hs2017, "901890").unwrap();
        for (prefix, expected) in [
            ("90", true),
            ("9018", true),
            ("901890", true),
            ("9019", false),
            ("", true),
        ] {
            assert_eq!(hs.starts_with(prefix), expected, "{prefix}");
        }
        assert!(!HsCode::total(Hs2017).starts_with(""));
        assert!(!HsCode::total(Hs2017).starts_with("T"));
    }

    #[test]
    fn code_display_and_serde() {
        let hs = HsCode::parse(Hs2017, "9018.90").unwrap();
        assert_eq!(hs.to_string(), "HS2017:901890");
        assert_eq!("HS2017:901890".parse::<HsCode>(), Ok(hs.clone()));
        assert_eq!("H5: 9018.90".parse::<HsCode>(), Ok(hs.clone()));
        assert_eq!(
            "901890".parse::<HsCode>(),
            Err(HsError::NotQualified("901890".into()))
        );
        assert!("HS2018:901890".parse::<HsCode>().is_err());
        let json = serde_json::to_string(&hs).unwrap();
        assert_eq!(json, r#"{"revision":"HS2017","code":"901890"}"#);
        assert_eq!(serde_json::from_str::<HsCode>(&json).unwrap(), hs);
        assert!(serde_json::from_str::<HsCode>(r#"{"revision":"H5","code":"10121"}"#).is_err());
        // Codes of different revisions are different codes.
        assert_ne!(HsCode::parse(Hs2012, "901890").unwrap(), hs);
    }

    #[test]
    fn messages_are_sentences() {
        let errors = [
            HsError::UnknownRevision("HS2018".into()),
            HsError::Empty,
            HsError::NotDigits("x".into()),
            HsError::OddLength {
                value: "10121".into(),
                digits: 5,
            },
            HsError::TooLong {
                value: "90189000".into(),
                digits: 8,
            },
            HsError::ChapterZero("00".into()),
            HsError::NotQualified("901890".into()),
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
