//! Reference periods of statistics: calendar years, quarters, months and Pakistan's
//! fiscal years.
//!
//! Pakistan's fiscal year runs from 1 July to 30 June and is written with both years,
//! `FY2017-18`. It is a different period from the calendar year 2017, and the two must
//! never be added up or compared as if equal, so the kind of period is always kept. The
//! database stores a period as `(period_kind, period_start, period_end)`; see
//! [`Period::from_parts`].

use std::cmp::{Ordering, Reverse};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

/// The earliest year the hub accepts in a period.
pub const MIN_YEAR: i32 = 1900;
/// The latest year the hub accepts in a period.
pub const MAX_YEAR: i32 = 2100;

/// The kind of a period, as stored in the `period_kind` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeriodKind {
    /// A calendar year, January to December.
    Year,
    /// A calendar quarter.
    Quarter,
    /// A calendar month.
    Month,
    /// A Pakistan fiscal year, July to June.
    FiscalYear,
}

impl PeriodKind {
    /// All kinds.
    pub const ALL: [Self; 4] = [Self::Year, Self::Quarter, Self::Month, Self::FiscalYear];

    /// The stored code: `year`, `quarter`, `month` or `fiscal_year`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Year => "year",
            Self::Quarter => "quarter",
            Self::Month => "month",
            Self::FiscalYear => "fiscal_year",
        }
    }

    /// The name in words, for messages.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Year => "calendar year",
            Self::Quarter => "quarter",
            Self::Month => "month",
            Self::FiscalYear => "fiscal year",
        }
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeriodKind {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| PeriodError::UnknownKind(s.to_owned()))
    }
}

/// Why a period could not be parsed or built. Periods are not personal data, so the
/// messages repeat the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PeriodError {
    /// The value is empty.
    #[error(
        "The period is empty; expected a year (2017), a quarter (2017-Q1), a month (2017-03) \
         or a fiscal year (FY2017-18)."
    )]
    Empty,
    /// The value has none of the accepted forms.
    #[error(
        "\"{0}\" is not a period; expected a year such as 2017, a quarter such as 2017-Q1, a \
         month such as 2017-03, 201703 or 2017-M03, or a fiscal year such as FY2017-18."
    )]
    Unrecognised(String),
    /// The value is not in the canonical form written by `Display`.
    #[error(
        "\"{0}\" is not a period in canonical form; expected 2017, 2017-Q1, 2017-03 or \
         FY2017-18."
    )]
    NotCanonical(String),
    /// The year is outside 1900 to 2100.
    #[error("The year {0} is outside the supported range 1900 to 2100.")]
    YearOutOfRange(i32),
    /// The month is not 1 to 12.
    #[error("The month {0} does not exist; expected a month from 1 to 12.")]
    MonthOutOfRange(u32),
    /// The quarter is not 1 to 4.
    #[error("The quarter {0} does not exist; expected a quarter from 1 to 4.")]
    QuarterOutOfRange(u32),
    /// A fiscal year names two years that do not follow each other.
    #[error(
        "\"{0}\" names two years that do not follow each other; a fiscal year runs from July \
         of one year to June of the next and is written such as FY2017-18."
    )]
    FiscalNotConsecutive(String),
    /// A fiscal year is named by a single year.
    #[error(
        "\"{0}\" names a fiscal year by a single year, which is ambiguous because sources \
         differ on whether it is the starting or the ending year; write both years, such as \
         FY2017-18."
    )]
    FiscalSingleYear(String),
    /// `YYYY-NN` fits both a month and a fiscal year.
    #[error(
        "\"{value}\" could be a month or a fiscal year; write {year}-M{month:02} or \
         {year}{month:02} for the month, or FY{value} for the fiscal year."
    )]
    MonthOrFiscalYear {
        /// The value as given.
        value: String,
        /// Its year.
        year: i32,
        /// Its two-digit suffix read as a month.
        month: u32,
    },
    /// [`Period::parse_as`] found a period of another kind.
    #[error("\"{value}\" is not a {expected} but a {found}.", expected = .expected.label(), found = .found.label())]
    KindMismatch {
        /// The value as given.
        value: String,
        /// The kind that was asked for.
        expected: PeriodKind,
        /// The kind that was found.
        found: PeriodKind,
    },
    /// The kind code is unknown.
    #[error("\"{0}\" is not a period kind; expected year, quarter, month or fiscal_year.")]
    UnknownKind(String),
    /// [`Period::from_parts`] got a start date on which no period of that kind starts.
    #[error(
        "A {kind} cannot start on {start}; calendar years start on 1 January, quarters on the \
         first of January, April, July or October, months on the first of the month and \
         fiscal years on 1 July.",
        kind = .kind.label()
    )]
    StartNotAligned {
        /// The kind of period.
        kind: PeriodKind,
        /// The start date that was given.
        start: NaiveDate,
    },
    /// A Comtrade `refMonth` is neither a month nor 52.
    #[error(
        "The Comtrade refMonth {0} is not valid; expected 1 to 12 for a month or 52 for a \
         whole year."
    )]
    ComtradeMonth(u32),
}

/// A reference period.
///
/// Build periods with [`Period::parse`] or the checked constructors ([`Period::month`] and
/// the like). The variants are public so they can be matched; a period built by hand with
/// a month outside 1 to 12 or a quarter outside 1 to 4 makes [`Period::start`] and
/// [`Period::end`] panic.
///
/// Periods of different kinds are never equal, even when they cover the same months
/// (the calendar year 2017 is not `FY2017-18`, and not the four quarters of 2017). They
/// order chronologically by start, longer periods first when two start together
/// (`2017`, `2017-Q1`, `2017-01`, `2017-02`, ..., `FY2017-18`, `2017-Q3`, `2017-07`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar year.
    Year(i32),
    /// A calendar quarter, 1 to 4 (SDMX `2017-Q1`).
    Quarter {
        /// The calendar year.
        year: i32,
        /// The quarter, 1 to 4.
        quarter: u8,
    },
    /// A calendar month, 1 to 12.
    Month {
        /// The calendar year.
        year: i32,
        /// The month, 1 to 12.
        month: u8,
    },
    /// A Pakistan fiscal year named by the year it starts in: `FiscalYear(2017)` is
    /// `FY2017-18`, from 1 July 2017 to 30 June 2018.
    FiscalYear(i32),
}

/// Checks that a year is in the supported range.
fn check_year(year: i32) -> Result<i32, PeriodError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(year)
    } else {
        Err(PeriodError::YearOutOfRange(year))
    }
}

/// Reads a number written with ASCII digits only (no sign, no spaces).
fn number(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else {
        digits.parse().ok()
    }
}

/// Reads a four-digit year.
fn four_digit_year(digits: &str) -> Option<i32> {
    if digits.len() == 4 {
        number(digits).and_then(|n| i32::try_from(n).ok())
    } else {
        None
    }
}

impl Period {
    /// A calendar year, checked to be within 1900 to 2100.
    pub fn year(year: i32) -> Result<Self, PeriodError> {
        check_year(year).map(Self::Year)
    }

    /// A calendar quarter, checked.
    pub fn quarter(year: i32, quarter: u32) -> Result<Self, PeriodError> {
        let year = check_year(year)?;
        match u8::try_from(quarter) {
            Ok(q @ 1..=4) => Ok(Self::Quarter { year, quarter: q }),
            _ => Err(PeriodError::QuarterOutOfRange(quarter)),
        }
    }

    /// A calendar month, checked.
    pub fn month(year: i32, month: u32) -> Result<Self, PeriodError> {
        let year = check_year(year)?;
        match u8::try_from(month) {
            Ok(m @ 1..=12) => Ok(Self::Month { year, month: m }),
            _ => Err(PeriodError::MonthOutOfRange(month)),
        }
    }

    /// The fiscal year starting on 1 July of `start_year`, checked.
    pub fn fiscal_year(start_year: i32) -> Result<Self, PeriodError> {
        check_year(start_year).map(Self::FiscalYear)
    }

    /// The fiscal year that contains `date` (July to June).
    pub fn fiscal_year_containing(date: NaiveDate) -> Result<Self, PeriodError> {
        let start_year = if date.month() >= 7 {
            date.year()
        } else {
            date.year() - 1
        };
        Self::fiscal_year(start_year)
    }

    /// Parses a period as written in source files and query parameters:
    ///
    /// - years: `2017`;
    /// - quarters: `2017-Q1`, `2017Q1`, `2017 Q1`;
    /// - months: `2017-03`, `201703`, `2017-M03`, `2017M03`, `2017-M3`;
    /// - fiscal years: `FY2017-18`, `FY 2017-18`, `FY2017-2018`, `2017-18`, `2017/18`,
    ///   `2017-2018`.
    ///
    /// Case, spaces and the kind of dash are ignored. Two forms are refused rather than
    /// guessed: a fiscal year named by one year (`FY2018`: the starting or the ending
    /// year?), and `YYYY-NN` where `NN` is both a valid month and the next year (`2011-12`:
    /// December 2011 or FY2011-12?). [`Period::parse_as`] resolves the latter when the
    /// column is known to hold one kind.
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        Self::parse_inner(raw, None)
    }

    /// Parses a period that must be of `kind`, as for a column documented to hold, say,
    /// fiscal years; this also resolves the `2011-12` ambiguity in favour of `kind`.
    pub fn parse_as(raw: &str, kind: PeriodKind) -> Result<Self, PeriodError> {
        let period = Self::parse_inner(raw, Some(kind))?;
        if period.kind() == kind {
            Ok(period)
        } else {
            Err(PeriodError::KindMismatch {
                value: raw.trim().to_owned(),
                expected: kind,
                found: period.kind(),
            })
        }
    }

    /// Parses exactly the canonical form written by `Display` (`2017`, `2017-Q1`,
    /// `2017-03`, `FY2017-18`). In canonical form fiscal years always carry `FY`, so
    /// `2011-12` is December 2011 here; serde uses this parser, so every serialised
    /// period reads back unchanged.
    pub fn parse_canonical(raw: &str) -> Result<Self, PeriodError> {
        let not_canonical = || PeriodError::NotCanonical(raw.to_owned());
        let period = if let Some(rest) = raw.strip_prefix("FY") {
            Self::parse_inner(raw, Some(PeriodKind::FiscalYear))
                .ok()
                .filter(|_| rest.len() == 7)
        } else {
            match raw.len() {
                4 => Self::parse_inner(raw, Some(PeriodKind::Year)).ok(),
                7 if raw.as_bytes()[5] == b'Q' => {
                    Self::parse_inner(raw, Some(PeriodKind::Quarter)).ok()
                }
                7 => Self::parse_inner(raw, Some(PeriodKind::Month)).ok(),
                _ => None,
            }
        };
        period
            .filter(|p| p.to_string() == raw)
            .ok_or_else(not_canonical)
    }

    /// The parser behind [`Period::parse`] and [`Period::parse_as`]; `hint` decides the
    /// month-or-fiscal-year ambiguity.
    fn parse_inner(raw: &str, hint: Option<PeriodKind>) -> Result<Self, PeriodError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PeriodError::Empty);
        }
        let unrecognised = || PeriodError::Unrecognised(trimmed.to_owned());
        let compact: String = trimmed
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
                c => c.to_ascii_uppercase(),
            })
            .collect();
        if !compact.is_ascii() {
            return Err(unrecognised());
        }

        if let Some(rest) = compact.strip_prefix("FY") {
            let rest = rest.strip_prefix('-').unwrap_or(rest);
            if four_digit_year(rest).is_some() {
                return Err(PeriodError::FiscalSingleYear(trimmed.to_owned()));
            }
            let (first, second) = rest.split_once(['-', '/']).ok_or_else(unrecognised)?;
            let start = four_digit_year(first).ok_or_else(unrecognised)?;
            return Self::fiscal_from_pair(trimmed, start, second);
        }

        let (year, rest) = match compact.get(..4).and_then(four_digit_year) {
            Some(year) => (year, &compact[4..]),
            None => return Err(unrecognised()),
        };
        if rest.is_empty() {
            return Self::year(year);
        }
        if rest.len() == 2
            && let Some(month) = number(rest)
        {
            // YYYYMM: only a month is written this way.
            return Self::month(year, month);
        }
        let (separator, tail) = match rest.as_bytes()[0] {
            b'-' | b'/' => (Some(rest.as_bytes()[0]), &rest[1..]),
            _ => (None, rest),
        };
        if let Some(quarter) = tail.strip_prefix('Q') {
            if separator == Some(b'/') {
                return Err(unrecognised());
            }
            let quarter = number(quarter)
                .filter(|_| quarter.len() == 1)
                .ok_or_else(unrecognised)?;
            return Self::quarter(year, quarter);
        }
        if let Some(month) = tail.strip_prefix('M') {
            if separator == Some(b'/') || !(1..=2).contains(&month.len()) {
                return Err(unrecognised());
            }
            return Self::month(year, number(month).ok_or_else(unrecognised)?);
        }
        match (separator, tail.len()) {
            (Some(b'/'), 2 | 4) | (Some(b'-'), 4) => Self::fiscal_from_pair(trimmed, year, tail),
            (Some(b'-'), 2) => {
                let n = number(tail).ok_or_else(unrecognised)?;
                let is_next_year = i64::from(n) == i64::from(year + 1).rem_euclid(100);
                let is_month = (1..=12).contains(&n);
                match (is_month, is_next_year, hint) {
                    (true, true, Some(PeriodKind::FiscalYear)) | (false, true, _) => {
                        Self::fiscal_year(year)
                    }
                    (true, true, Some(PeriodKind::Month)) | (true, false, _) => {
                        Self::month(year, n)
                    }
                    (true, true, _) => Err(PeriodError::MonthOrFiscalYear {
                        value: trimmed.to_owned(),
                        year,
                        month: n,
                    }),
                    (false, false, _) if n > 12 => {
                        Err(PeriodError::FiscalNotConsecutive(trimmed.to_owned()))
                    }
                    (false, false, _) => Err(PeriodError::MonthOutOfRange(n)),
                }
            }
            _ => Err(unrecognised()),
        }
    }

    /// Builds the fiscal year starting in `start` from the written second year, which may
    /// have two digits (`18`) or four (`2018`) and must follow `start`.
    fn fiscal_from_pair(raw: &str, start: i32, second: &str) -> Result<Self, PeriodError> {
        let unrecognised = || PeriodError::Unrecognised(raw.to_owned());
        let consecutive = match second.len() {
            2 => number(second).map(|n| i64::from(n) == i64::from(start + 1).rem_euclid(100)),
            4 => four_digit_year(second).map(|end| end == start + 1),
            _ => None,
        }
        .ok_or_else(unrecognised)?;
        if consecutive {
            Self::fiscal_year(start)
        } else {
            Err(PeriodError::FiscalNotConsecutive(raw.to_owned()))
        }
    }

    /// Rebuilds a period from the database columns `period_kind` and `period_start`,
    /// checking that a period of that kind can start on that date.
    pub fn from_parts(kind: PeriodKind, start: NaiveDate) -> Result<Self, PeriodError> {
        let misaligned = || PeriodError::StartNotAligned { kind, start };
        if start.day() != 1 {
            return Err(misaligned());
        }
        let (year, month) = (start.year(), start.month());
        match kind {
            PeriodKind::Year if month == 1 => Self::year(year),
            PeriodKind::Quarter if month % 3 == 1 => Self::quarter(year, month.div_ceil(3)),
            PeriodKind::Month => Self::month(year, month),
            PeriodKind::FiscalYear if month == 7 => Self::fiscal_year(year),
            _ => Err(misaligned()),
        }
    }

    /// Builds the period of a UN Comtrade record from `refYear` and `refMonth`, where
    /// `refMonth` 52 marks annual data.
    pub fn from_comtrade(ref_year: i32, ref_month: u32) -> Result<Self, PeriodError> {
        match ref_month {
            52 => Self::year(ref_year),
            1..=12 => Self::month(ref_year, ref_month),
            other => Err(PeriodError::ComtradeMonth(other)),
        }
    }

    /// The kind of the period.
    #[must_use]
    pub fn kind(&self) -> PeriodKind {
        match self {
            Self::Year(_) => PeriodKind::Year,
            Self::Quarter { .. } => PeriodKind::Quarter,
            Self::Month { .. } => PeriodKind::Month,
            Self::FiscalYear(_) => PeriodKind::FiscalYear,
        }
    }

    /// The year and month the period starts in (the month may be out of range for a
    /// period built by hand), and its length in months.
    fn span(&self) -> (i32, i32, u32) {
        match *self {
            Self::Year(year) => (year, 1, 12),
            Self::Quarter { year, quarter } => (year, 3 * i32::from(quarter) - 2, 3),
            Self::Month { year, month } => (year, i32::from(month), 1),
            Self::FiscalYear(year) => (year, 7, 12),
        }
    }

    /// The first day of the period.
    ///
    /// # Panics
    ///
    /// Panics if the period was built by hand with a month or quarter out of range.
    #[must_use]
    pub fn start(&self) -> NaiveDate {
        let (year, month, _) = self.span();
        u32::try_from(month)
            .ok()
            .and_then(|month| NaiveDate::from_ymd_opt(year, month, 1))
            .expect("a period holds a valid year and month")
    }

    /// The last day of the period (inclusive).
    ///
    /// # Panics
    ///
    /// Panics if the period was built by hand with a month or quarter out of range.
    #[must_use]
    pub fn end(&self) -> NaiveDate {
        let (_, _, months) = self.span();
        self.start()
            .checked_add_months(chrono::Months::new(months))
            .and_then(|next| next.pred_opt())
            .expect("a period ends within the supported date range")
    }

    /// Tells whether `date` lies within the period.
    #[must_use]
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |p: &Self| {
            let (year, month, months) = p.span();
            (year, month, Reverse(months), p.kind())
        };
        key(self).cmp(&key(other))
    }
}

/// Writes the canonical form: `2017`, `2017-Q1`, `2017-03` or `FY2017-18`.
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Year(year) => write!(f, "{year}"),
            Self::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Self::Month { year, month } => write!(f, "{year}-{month:02}"),
            Self::FiscalYear(year) => write!(f, "FY{year}-{:02}", (year + 1).rem_euclid(100)),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// Parses leniently, as [`Period::parse`] does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    /// Reads the canonical form only ([`Period::parse_canonical`]), so serialised periods
    /// always read back unchanged.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
        Self::parse_canonical(&raw).map_err(serde::de::Error::custom)
    }
}

serde_via_str!(PeriodKind);

#[cfg(test)]
mod tests {
    use super::*;
    use Period::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn month(year: i32, month: u8) -> Period {
        Month { year, month }
    }

    #[test]
    fn parse_table() {
        let check = |input: &str, expected: Result<Period, PeriodError>| {
            assert_eq!(Period::parse(input), expected, "input {input:?}");
        };
        let unrecognised = |s: &str| Err(PeriodError::Unrecognised(s.into()));
        check("2017", Ok(Year(2017)));
        check(" 2017 ", Ok(Year(2017)));
        check("2017-03", Ok(month(2017, 3)));
        check("201703", Ok(month(2017, 3)));
        check("2017-M03", Ok(month(2017, 3)));
        check("2017M03", Ok(month(2017, 3)));
        check("2017-m3", Ok(month(2017, 3)));
        check("2017-12", Ok(month(2017, 12)));
        check(
            "2017-Q1",
            Ok(Quarter {
                year: 2017,
                quarter: 1,
            }),
        );
        check(
            "2017q4",
            Ok(Quarter {
                year: 2017,
                quarter: 4,
            }),
        );
        check(
            "2017 Q2",
            Ok(Quarter {
                year: 2017,
                quarter: 2,
            }),
        );
        check("FY2017-18", Ok(FiscalYear(2017)));
        check("FY 2017-18", Ok(FiscalYear(2017)));
        check("fy2017-18", Ok(FiscalYear(2017)));
        check("FY-2017-18", Ok(FiscalYear(2017)));
        check("FY2017/18", Ok(FiscalYear(2017)));
        check("FY2017-2018", Ok(FiscalYear(2017)));
        check("FY2017–18", Ok(FiscalYear(2017)));
        check("2017-18", Ok(FiscalYear(2017)));
        check("2017 - 18", Ok(FiscalYear(2017)));
        check("2017/18", Ok(FiscalYear(2017)));
        check("2017-2018", Ok(FiscalYear(2017)));
        check("2099-00", Ok(FiscalYear(2099)));
        check("1999-00", Ok(FiscalYear(1999)));
        check("2012-13", Ok(FiscalYear(2012)));
        check("1900", Ok(Year(1900)));
        check("2100", Ok(Year(2100)));
        // Refused rather than guessed.
        check(
            "FY2018",
            Err(PeriodError::FiscalSingleYear("FY2018".into())),
        );
        check(
            "FY 2018",
            Err(PeriodError::FiscalSingleYear("FY 2018".into())),
        );
        check(
            "2011-12",
            Err(PeriodError::MonthOrFiscalYear {
                value: "2011-12".into(),
                year: 2011,
                month: 12,
            }),
        );
        check(
            "2000-01",
            Err(PeriodError::MonthOrFiscalYear {
                value: "2000-01".into(),
                year: 2000,
                month: 1,
            }),
        );
        // Out of range.
        check("1899", Err(PeriodError::YearOutOfRange(1899)));
        check("2101", Err(PeriodError::YearOutOfRange(2101)));
        check(
            "2017-13",
            Err(PeriodError::FiscalNotConsecutive("2017-13".into())),
        );
        check("2017-00", Err(PeriodError::MonthOutOfRange(0)));
        check("201713", Err(PeriodError::MonthOutOfRange(13)));
        check("2017-M13", Err(PeriodError::MonthOutOfRange(13)));
        check("2017-Q5", Err(PeriodError::QuarterOutOfRange(5)));
        check("2017-Q0", Err(PeriodError::QuarterOutOfRange(0)));
        check(
            "FY2017-19",
            Err(PeriodError::FiscalNotConsecutive("FY2017-19".into())),
        );
        check(
            "2017-19",
            Err(PeriodError::FiscalNotConsecutive("2017-19".into())),
        );
        check(
            "2017/2019",
            Err(PeriodError::FiscalNotConsecutive("2017/2019".into())),
        );
        check(
            "2017/03",
            Err(PeriodError::FiscalNotConsecutive("2017/03".into())),
        );
        check("FY2100-01", Ok(FiscalYear(2100)));
        check("FY2101-02", Err(PeriodError::YearOutOfRange(2101)));
        // Not periods at all.
        check("", Err(PeriodError::Empty));
        check("  ", Err(PeriodError::Empty));
        check("17", unrecognised("17"));
        check("FY17-18", unrecognised("FY17-18"));
        check("2017-03-01", unrecognised("2017-03-01"));
        check("2017-Q12", unrecognised("2017-Q12"));
        check("2017/Q1", unrecognised("2017/Q1"));
        check("2017-M", unrecognised("2017-M"));
        check("2017-M003", unrecognised("2017-M003"));
        check("March 2017", unrecognised("March 2017"));
        check("2017-1", unrecognised("2017-1"));
        check("٢٠١٧", unrecognised("٢٠١٧"));
        check("FY", unrecognised("FY"));
        check("+2017", unrecognised("+2017"));
    }

    #[test]
    fn parse_as_resolves_ambiguity() {
        let check = |input: &str, kind: PeriodKind, expected: Result<Period, PeriodError>| {
            assert_eq!(
                Period::parse_as(input, kind),
                expected,
                "input {input:?} as {kind}"
            );
        };
        check("2011-12", PeriodKind::FiscalYear, Ok(FiscalYear(2011)));
        check("2011-12", PeriodKind::Month, Ok(month(2011, 12)));
        check("2017-18", PeriodKind::FiscalYear, Ok(FiscalYear(2017)));
        check("2017", PeriodKind::Year, Ok(Year(2017)));
        check(
            "2017",
            PeriodKind::FiscalYear,
            Err(PeriodError::KindMismatch {
                value: "2017".into(),
                expected: PeriodKind::FiscalYear,
                found: PeriodKind::Year,
            }),
        );
        check(
            "2017-18",
            PeriodKind::Month,
            Err(PeriodError::KindMismatch {
                value: "2017-18".into(),
                expected: PeriodKind::Month,
                found: PeriodKind::FiscalYear,
            }),
        );
        check(
            "2011-12",
            PeriodKind::Quarter,
            Err(PeriodError::MonthOrFiscalYear {
                value: "2011-12".into(),
                year: 2011,
                month: 12,
            }),
        );
    }

    #[test]
    fn canonical_form_round_trips() {
        // (period, canonical text, kind, start, end)
        let table = [
            (
                Year(2017),
                "2017",
                PeriodKind::Year,
                date(2017, 1, 1),
                date(2017, 12, 31),
            ),
            (
                Quarter {
                    year: 2017,
                    quarter: 1,
                },
                "2017-Q1",
                PeriodKind::Quarter,
                date(2017, 1, 1),
                date(2017, 3, 31),
            ),
            (
                Quarter {
                    year: 2016,
                    quarter: 4,
                },
                "2016-Q4",
                PeriodKind::Quarter,
                date(2016, 10, 1),
                date(2016, 12, 31),
            ),
            (
                month(2017, 3),
                "2017-03",
                PeriodKind::Month,
                date(2017, 3, 1),
                date(2017, 3, 31),
            ),
            (
                month(2016, 2),
                "2016-02",
                PeriodKind::Month,
                date(2016, 2, 1),
                date(2016, 2, 29),
            ),
            (
                month(2011, 12),
                "2011-12",
                PeriodKind::Month,
                date(2011, 12, 1),
                date(2011, 12, 31),
            ),
            (
                FiscalYear(2017),
                "FY2017-18",
                PeriodKind::FiscalYear,
                date(2017, 7, 1),
                date(2018, 6, 30),
            ),
            (
                FiscalYear(1999),
                "FY1999-00",
                PeriodKind::FiscalYear,
                date(1999, 7, 1),
                date(2000, 6, 30),
            ),
            (
                FiscalYear(2008),
                "FY2008-09",
                PeriodKind::FiscalYear,
                date(2008, 7, 1),
                date(2009, 6, 30),
            ),
        ];
        for (period, text, kind, start, end) in table {
            assert_eq!(period.to_string(), text);
            assert_eq!(period.kind(), kind, "{text}");
            assert_eq!(period.start(), start, "{text}");
            assert_eq!(period.end(), end, "{text}");
            assert_eq!(Period::parse_canonical(text), Ok(period), "{text}");
            assert_eq!(Period::from_parts(kind, start), Ok(period), "{text}");
            let json = serde_json::to_string(&period).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), period);
            if text != "2011-12" {
                assert_eq!(text.parse::<Period>(), Ok(period), "{text}");
            }
        }
        for text in [
            "201703",
            "2017-M03",
            "FY 2017-18",
            "2017-18",
            "2017-3",
            " 2017",
            "FY2017-2018",
            "2017q1",
        ] {
            assert_eq!(
                Period::parse_canonical(text),
                Err(PeriodError::NotCanonical(text.into())),
                "{text}"
            );
        }
        assert!(serde_json::from_str::<Period>(r#""2017-18""#).is_err());
    }

    #[test]
    fn kinds_never_compare_equal() {
        assert_ne!(Year(2017), FiscalYear(2017));
        assert_ne!(Year(2018), FiscalYear(2017));
        assert_ne!(Year(2017).cmp(&FiscalYear(2017)), Ordering::Equal);
        let mut periods = [
            FiscalYear(2017),
            month(2017, 7),
            Quarter {
                year: 2017,
                quarter: 3,
            },
            month(2017, 1),
            Quarter {
                year: 2017,
                quarter: 1,
            },
            Year(2017),
            FiscalYear(2016),
            Year(2018),
        ];
        periods.sort();
        let texts: Vec<String> = periods.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "FY2016-17",
                "2017",
                "2017-Q1",
                "2017-01",
                "FY2017-18",
                "2017-Q3",
                "2017-07",
                "2018"
            ]
        );
    }

    #[test]
    fn from_parts_table() {
        let check = |kind: PeriodKind, start: NaiveDate, expected: Result<Period, PeriodError>| {
            assert_eq!(Period::from_parts(kind, start), expected, "{kind} {start}");
        };
        let misaligned = |kind, start| Err(PeriodError::StartNotAligned { kind, start });
        check(PeriodKind::Year, date(2017, 1, 1), Ok(Year(2017)));
        check(
            PeriodKind::Year,
            date(2017, 7, 1),
            misaligned(PeriodKind::Year, date(2017, 7, 1)),
        );
        check(
            PeriodKind::Quarter,
            date(2017, 10, 1),
            Ok(Quarter {
                year: 2017,
                quarter: 4,
            }),
        );
        check(
            PeriodKind::Quarter,
            date(2017, 2, 1),
            misaligned(PeriodKind::Quarter, date(2017, 2, 1)),
        );
        check(PeriodKind::Month, date(2017, 2, 1), Ok(month(2017, 2)));
        check(
            PeriodKind::Month,
            date(2017, 2, 2),
            misaligned(PeriodKind::Month, date(2017, 2, 2)),
        );
        check(
            PeriodKind::FiscalYear,
            date(2017, 7, 1),
            Ok(FiscalYear(2017)),
        );
        check(
            PeriodKind::FiscalYear,
            date(2017, 1, 1),
            misaligned(PeriodKind::FiscalYear, date(2017, 1, 1)),
        );
        check(
            PeriodKind::Year,
            date(1850, 1, 1),
            Err(PeriodError::YearOutOfRange(1850)),
        );
    }

    #[test]
    fn comtrade_table() {
        let check = |year: i32, month_: u32, expected: Result<Period, PeriodError>| {
            assert_eq!(
                Period::from_comtrade(year, month_),
                expected,
                "{year} {month_}"
            );
        };
        check(2017, 52, Ok(Year(2017)));
        check(2017, 1, Ok(month(2017, 1)));
        check(2017, 12, Ok(month(2017, 12)));
        check(2017, 0, Err(PeriodError::ComtradeMonth(0)));
        check(2017, 13, Err(PeriodError::ComtradeMonth(13)));
        check(1800, 52, Err(PeriodError::YearOutOfRange(1800)));
    }

    #[test]
    fn constructors_and_helpers() {
        assert_eq!(
            Period::quarter(2017, 5),
            Err(PeriodError::QuarterOutOfRange(5))
        );
        assert_eq!(
            Period::quarter(2017, 256),
            Err(PeriodError::QuarterOutOfRange(256))
        );
        assert_eq!(Period::month(2017, 0), Err(PeriodError::MonthOutOfRange(0)));
        assert_eq!(
            Period::fiscal_year(2101),
            Err(PeriodError::YearOutOfRange(2101))
        );
        assert_eq!(
            Period::fiscal_year_containing(date(2018, 6, 30)),
            Ok(FiscalYear(2017))
        );
        assert_eq!(
            Period::fiscal_year_containing(date(2018, 7, 1)),
            Ok(FiscalYear(2018))
        );
        assert!(FiscalYear(2017).contains(date(2018, 1, 15)));
        assert!(!FiscalYear(2017).contains(date(2017, 6, 30)));
        for kind in PeriodKind::ALL {
            assert_eq!(kind.as_str().parse::<PeriodKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(PeriodKind::FiscalYear.as_str(), "fiscal_year");
        assert_eq!(
            "FISCAL_YEAR".parse::<PeriodKind>(),
            Ok(PeriodKind::FiscalYear)
        );
        assert_eq!(
            "annual".parse::<PeriodKind>(),
            Err(PeriodError::UnknownKind("annual".into()))
        );
    }

    #[test]
    fn messages_are_sentences() {
        let errors = [
            PeriodError::Empty,
            PeriodError::Unrecognised("x".into()),
            PeriodError::NotCanonical("x".into()),
            PeriodError::YearOutOfRange(1800),
            PeriodError::MonthOutOfRange(13),
            PeriodError::QuarterOutOfRange(5),
            PeriodError::FiscalNotConsecutive("2017-19".into()),
            PeriodError::FiscalSingleYear("FY2018".into()),
            PeriodError::MonthOrFiscalYear {
                value: "2011-12".into(),
                year: 2011,
                month: 12,
            },
            PeriodError::KindMismatch {
                value: "2017".into(),
                expected: PeriodKind::FiscalYear,
                found: PeriodKind::Year,
            },
            PeriodError::UnknownKind("annual".into()),
            PeriodError::StartNotAligned {
                kind: PeriodKind::Year,
                start: date(2017, 7, 1),
            },
            PeriodError::ComtradeMonth(13),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(
                message.starts_with(|c: char| c.is_uppercase() || c == '"'),
                "{message}"
            );
            assert!(message.ends_with('.'), "{message}");
        }
        assert_eq!(
            PeriodError::MonthOrFiscalYear {
                value: "2011-12".into(),
                year: 2011,
                month: 12
            }
            .to_string(),
            "\"2011-12\" could be a month or a fiscal year; write 2011-M12 or 201112 for the \
             month, or FY2011-12 for the fiscal year."
        );
    }
}
