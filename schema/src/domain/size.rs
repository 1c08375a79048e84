//! Firm size classes (micro, small, medium, large) and the thresholds that assign them.
//!
//! Pakistan has used several definitions: by employees in surveys, by turnover in the SME
//! Policy 2021, by both in older SMEDA definitions. A size class without its basis cannot
//! be compared with another, so the hub stores the basis next to the class
//! (`organisations.size_basis`) and derives classes itself only from employee counts, with
//! configurable thresholds.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Why a size class, a basis or a set of thresholds is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// The size class is not one of the four names.
    #[error("\"{0}\" is not a size class; expected micro, small, medium or large.")]
    UnknownClass(String),
    /// The basis is not one of the two names.
    #[error("\"{0}\" is not a size basis; expected employees or turnover.")]
    UnknownBasis(String),
    /// The thresholds do not rise, or leave no room for micro firms.
    #[error(
        "The size thresholds must satisfy 2 <= small_from < medium_from < large_from so that \
         every class covers at least one value; got small_from {small_from}, medium_from \
         {medium_from} and large_from {large_from}."
    )]
    NotAscending {
        /// The lower bound of the small class.
        small_from: u32,
        /// The lower bound of the medium class.
        medium_from: u32,
        /// The lower bound of the large class.
        large_from: u32,
    },
}

/// The size class of a firm, ordered from smallest to largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SizeClass {
    /// A micro enterprise.
    Micro,
    /// A small enterprise.
    Small,
    /// A medium enterprise.
    Medium,
    /// A large enterprise.
    Large,
}

impl SizeClass {
    /// All classes, smallest first.
    pub const ALL: [Self; 4] = [Self::Micro, Self::Small, Self::Medium, Self::Large];

    /// The stored code: `micro`, `small`, `medium` or `large`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Micro => "micro",
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }

    /// Parses a class name, ignoring case and surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, SizeError> {
        let trimmed = raw.trim();
        Self::ALL
            .into_iter()
            .find(|class| class.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| SizeError::UnknownClass(trimmed.to_owned()))
    }
}

impl fmt::Display for SizeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SizeClass {
    type Err = SizeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What a size class was determined from. Kept explicit because a firm that is small by
/// employees may be medium by turnover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SizeBasis {
    /// The number of employees.
    Employees,
    /// Annual turnover.
    Turnover,
}

impl SizeBasis {
    /// The stored code: `employees` or `turnover`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Employees => "employees",
            Self::Turnover => "turnover",
        }
    }

    /// Parses a basis name, ignoring case and surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, SizeError> {
        let trimmed = raw.trim();
        [Self::Employees, Self::Turnover]
            .into_iter()
            .find(|basis| basis.as_str().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| SizeError::UnknownBasis(trimmed.to_owned()))
    }
}

impl fmt::Display for SizeBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SizeBasis {
    type Err = SizeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(SizeClass, SizeBasis);

/// Employee-count thresholds of the size classes, given as the lowest employee count of
/// the small, medium and large classes; micro firms have from 1 employee up to below
/// `small_from`.
///
/// The defaults are the common international convention (micro 1-9, small 10-49, medium
/// 50-249, large 250 and more). Deployments can override them in configuration; any field
/// left out keeps its default, and the values are checked to rise when they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "ThresholdsRepr", into = "ThresholdsRepr")]
pub struct SizeThresholds {
    small_from: u32,
    medium_from: u32,
    large_from: u32,
}

/// The configuration form of [`SizeThresholds`], validated on conversion.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ThresholdsRepr {
    small_from: u32,
    medium_from: u32,
    large_from: u32,
}

impl Default for ThresholdsRepr {
    fn default() -> Self {
        SizeThresholds::default().into()
    }
}

impl TryFrom<ThresholdsRepr> for SizeThresholds {
    type Error = SizeError;

    fn try_from(repr: ThresholdsRepr) -> Result<Self, Self::Error> {
        Self::new(repr.small_from, repr.medium_from, repr.large_from)
    }
}

impl From<SizeThresholds> for ThresholdsRepr {
    fn from(thresholds: SizeThresholds) -> Self {
        Self {
            small_from: thresholds.small_from,
            medium_from: thresholds.medium_from,
            large_from: thresholds.large_from,
        }
    }
}

impl Default for SizeThresholds {
    fn default() -> Self {
        Self {
            small_from: 10,
            medium_from: 50,
            large_from: 250,
        }
    }
}

impl SizeThresholds {
    /// Builds thresholds from the lowest employee counts of the small, medium and large
    /// classes, requiring `2 <= small_from < medium_from < large_from`.
    pub fn new(small_from: u32, medium_from: u32, large_from: u32) -> Result<Self, SizeError> {
        if 2 <= small_from && small_from < medium_from && medium_from < large_from {
            Ok(Self {
                small_from,
                medium_from,
                large_from,
            })
        } else {
            Err(SizeError::NotAscending {
                small_from,
                medium_from,
                large_from,
            })
        }
    }

    /// The lowest employee count of a small firm.
    #[must_use]
    pub fn small_from(&self) -> u32 {
        self.small_from
    }

    /// The lowest employee count of a medium firm.
    #[must_use]
    pub fn medium_from(&self) -> u32 {
        self.medium_from
    }

    /// The lowest employee count of a large firm.
    #[must_use]
    pub fn large_from(&self) -> u32 {
        self.large_from
    }

    /// The size class of a firm with `employees` employees, or `None` for zero: sources
    /// write 0 for "not known" far more often than for a firm without any workers, so no
    /// class is derived from it.
    #[must_use]
    pub fn classify_by_employees(&self, employees: u32) -> Option<SizeClass> {
        match employees {
            0 => None,
            n if n < self.small_from => Some(SizeClass::Micro),
            n if n < self.medium_from => Some(SizeClass::Small),
            n if n < self.large_from => Some(SizeClass::Medium),
            _ => Some(SizeClass::Large),
        }
    }

    /// The employee range of a class, as inclusive lower bound and inclusive upper bound
    /// (`None` for the open-ended large class).
    #[must_use]
    pub fn employee_range(&self, class: SizeClass) -> (u32, Option<u32>) {
        match class {
            SizeClass::Micro => (1, Some(self.small_from - 1)),
            SizeClass::Small => (self.small_from, Some(self.medium_from - 1)),
            SizeClass::Medium => (self.medium_from, Some(self.large_from - 1)),
            SizeClass::Large => (self.large_from, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SizeClass::*;

    #[test]
    fn classify_with_defaults() {
        let thresholds = SizeThresholds::default();
        let check = |employees: u32, expected: Option<SizeClass>| {
            assert_eq!(
                thresholds.classify_by_employees(employees),
                expected,
                "{employees}"
            );
        };
        check(0, None);
        check(1, Some(Micro));
        check(9, Some(Micro));
        check(10, Some(Small));
        check(49, Some(Small));
        check(50, Some(Medium));
        check(249, Some(Medium));
        check(250, Some(Large));
        check(u32::MAX, Some(Large));
    }

    #[test]
    fn ranges_cover_every_count_once() {
        let thresholds = SizeThresholds::new(5, 20, 100).unwrap();
        for class in SizeClass::ALL {
            let (low, high) = thresholds.employee_range(class);
            assert_eq!(thresholds.classify_by_employees(low), Some(class));
            if let Some(high) = high {
                assert_eq!(thresholds.classify_by_employees(high), Some(class));
                assert_ne!(thresholds.classify_by_employees(high + 1), Some(class));
            }
        }
        assert_eq!(
            SizeThresholds::default().employee_range(Micro),
            (1, Some(9))
        );
        assert_eq!(SizeThresholds::default().employee_range(Large), (250, None));
    }

    #[test]
    fn thresholds_table() {
        let check = |small: u32, medium: u32, large: u32, ok: bool| {
            let got = SizeThresholds::new(small, medium, large);
            assert_eq!(got.is_ok(), ok, "{small} {medium} {large}");
            if let Err(error) = got {
                assert_eq!(
                    error,
                    SizeError::NotAscending {
                        small_from: small,
                        medium_from: medium,
                        large_from: large
                    }
                );
            }
        };
        check(10, 50, 250, true);
        check(2, 3, 4, true);
        check(1, 50, 250, false);
        check(0, 50, 250, false);
        check(10, 10, 250, false);
        check(10, 50, 50, false);
        check(50, 10, 250, false);
    }

    #[test]
    fn thresholds_from_configuration() {
        let check = |json: &str, expected: Option<SizeThresholds>| {
            let got = serde_json::from_str::<SizeThresholds>(json).ok();
            assert_eq!(got, expected, "{json}");
        };
        check("{}", Some(SizeThresholds::default()));
        check(
            r#"{"small_from": 11}"#,
            Some(SizeThresholds::new(11, 50, 250).unwrap()),
        );
        check(
            r#"{"small_from": 5, "medium_from": 20, "large_from": 100}"#,
            Some(SizeThresholds::new(5, 20, 100).unwrap()),
        );
        check(r#"{"small_from": 60}"#, None);
        check(r#"{"micro_to": 9}"#, None);
        check(r#"{"large_from": -1}"#, None);
        let error = serde_json::from_str::<SizeThresholds>(r#"{"medium_from": 300}"#).unwrap_err();
        assert!(error.to_string().contains("must satisfy"), "{error}");
        let json = serde_json::to_string(&SizeThresholds::default()).unwrap();
        assert_eq!(
            json,
            r#"{"small_from":10,"medium_from":50,"large_from":250}"#
        );
    }

    #[test]
    fn class_and_basis_names() {
        let check = |input: &str, expected: Result<SizeClass, SizeError>| {
            assert_eq!(SizeClass::parse(input), expected, "{input:?}");
        };
        check("micro", Ok(Micro));
        check(" Small ", Ok(Small));
        check("MEDIUM", Ok(Medium));
        check("large", Ok(Large));
        check("sme", Err(SizeError::UnknownClass("sme".into())));
        check("", Err(SizeError::UnknownClass(String::new())));
        for class in SizeClass::ALL {
            assert_eq!(class.to_string().parse::<SizeClass>(), Ok(class));
            assert_eq!(
                serde_json::to_string(&class).unwrap(),
                format!("\"{}\"", class.as_str())
            );
        }
        assert!(Micro < Small && Small < Medium && Medium < Large);
        assert_eq!(SizeBasis::parse("Employees"), Ok(SizeBasis::Employees));
        assert_eq!("turnover".parse::<SizeBasis>(), Ok(SizeBasis::Turnover));
        assert_eq!(
            SizeBasis::parse("assets"),
            Err(SizeError::UnknownBasis("assets".into()))
        );
        assert_eq!(
            serde_json::from_str::<SizeBasis>(r#""turnover""#).unwrap(),
            SizeBasis::Turnover
        );
    }

    #[test]
    fn messages_are_sentences() {
        let errors = [
            SizeError::UnknownClass("sme".into()),
            SizeError::UnknownBasis("assets".into()),
            SizeError::NotAscending {
                small_from: 10,
                medium_from: 5,
                large_from: 250,
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
