//! Small value types shared by the records: calendar dates, personal text and identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A calendar date, written on the wire in ISO 8601 form `YYYY-MM-DD`.
///
/// Dates are the one kind of value an importer must convert before emitting it, because
/// only the importer knows how its source writes them: a day-first `12/03/2019` in one
/// spreadsheet, an Excel serial number in another, `20190312` in a registry export. The
/// hub cannot guess between `03/04/2019` as 3 April or 4 March, so the contract asks for
/// the unambiguous form. A cell that does not convert becomes a [`RowError`] with the code
/// [`codes::INVALID_DATE`] (see [`RowError::invalid_date`]) instead of a record field.
///
/// The type is a small validated value rather than a `chrono` date so that the SDK depends
/// on serde alone. Every `Date` names a day that exists (leap years included) in the years
/// 1000 to 9999; deserialising refuses anything else, so a date that reaches the hub is
/// always well formed.
///
/// [`RowError`]: crate::RowError
/// [`RowError::invalid_date`]: crate::RowError::invalid_date
/// [`codes::INVALID_DATE`]: crate::codes::INVALID_DATE
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    // Field order matters: the derived `Ord` compares year, then month, then day.
    year: u16,
    month: u8,
    day: u8,
}

/// Why a value is not a [`Date`]. The message never repeats the value, which may come from
/// a column holding personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// The text is not of the form `YYYY-MM-DD` (four, two and two digits).
    Shape,
    /// The year, month or day is out of range, or the day does not exist in that month.
    OutOfRange,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape => f.write_str("a date must be written YYYY-MM-DD"),
            Self::OutOfRange => f.write_str(
                "the date does not exist (year 1000-9999, month 1-12, a day of that month)",
            ),
        }
    }
}

impl std::error::Error for DateError {}

impl Date {
    /// Builds a date from its parts, checking that the day exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Self, DateError> {
        let year = u16::try_from(year)
            .ok()
            .filter(|y| (1000..=9999).contains(y))
            .ok_or(DateError::OutOfRange)?;
        let month = u8::try_from(month)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or(DateError::OutOfRange)?;
        let day = u8::try_from(day)
            .ok()
            .filter(|d| *d >= 1 && *d <= days_in_month(year, month))
            .ok_or(DateError::OutOfRange)?;
        Ok(Self { year, month, day })
    }

    /// Parses exactly the ISO 8601 calendar form `YYYY-MM-DD`, the form [`Date`] is written
    /// in. Importers convert their source's own forms themselves and call
    /// [`Date::from_ymd`].
    pub fn parse_iso(text: &str) -> Result<Self, DateError> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(DateError::Shape);
        }
        // The shape check guarantees ASCII digits, so these parses cannot fail.
        let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
        let year = i32::try_from(number(0..4)).unwrap_or(0);
        Self::from_ymd(year, number(5..7), number(8..10))
    }

    /// The year, 1000 to 9999.
    #[must_use]
    pub fn year(self) -> i32 {
        i32::from(self.year)
    }

    /// The month, 1 to 12.
    #[must_use]
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    /// The day of the month, 1 to 31.
    #[must_use]
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_iso(s)
    }
}

impl TryFrom<String> for Date {
    type Error = DateError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_iso(&value)
    }
}

impl From<Date> for String {
    fn from(date: Date) -> Self {
        date.to_string()
    }
}

/// Text that is personal data: a person's name, a CNIC, a phone number, an e-mail address.
///
/// It travels to the hub unchanged (serialised as a plain JSON string) because the hub must
/// see it to hash a CNIC, match a person or store a contact for readers with the `pii`
/// scope. What the type prevents is the accident on the way: its `Debug` prints
/// `Personal(<redacted>)` and it has no `Display`, so a `{:?}` of a record in a log line or
/// an error message cannot leak the value. Read it with [`Personal::expose`] only where the
/// value itself is needed.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Personal(String);

impl Personal {
    /// Wraps a personal value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Never pass it to a log, a message or an error.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value itself, by value. The same care applies as for [`Personal::expose`].
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Personal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personal(<redacted>)")
    }
}

impl From<String> for Personal {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Personal {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// The stable codes of the identifier schemes the hub knows, for
/// [`IdentifierValue::scheme`]. A source's own record ids use `source:<source-id>`.
pub mod schemes {
    /// National Tax Number of the Federal Board of Revenue, `1234567-8`. A 13-digit "NTN"
    /// is an individual's CNIC and is handled as one.
    pub const NTN: &str = "PK-NTN";
    /// Computerised National Identity Card number, `NNNNN-NNNNNNN-N`: personal data.
    pub const CNIC: &str = "PK-CNIC";
    /// Company registration number of the Securities and Exchange Commission of Pakistan.
    pub const SECP: &str = "PK-SEC";
    /// Sales Tax Registration Number.
    pub const STRN: &str = "PK-STRN";
    /// Unit number in the registry of the Punjab Small Industries Corporation.
    pub const PSIC_PUNJAB_UNIT: &str = "psic-punjab-unit";
    /// Membership number of a chamber of commerce and industry.
    pub const CHAMBER_MEMBERSHIP: &str = "chamber-membership";
    /// IATI organisation identifier, such as UNIDO's `XM-DAC-41123`.
    pub const IATI_ORG: &str = "IATI-ORG";
    /// The prefix of a source's own record ids, e.g. `source:psic-punjab`.
    pub const SOURCE_PREFIX: &str = "source:";
}

/// An identifier exactly as the source wrote it, with the code of its scheme.
///
/// The importer does not normalise or check the value: the hub strips spaces and dashes,
/// checks the shape for the scheme, turns a malformed value into a row error, and stores a
/// CNIC only as a keyed hash. So a plugin needs no secret and no validation rules, and every
/// source is held to the same ones.
///
/// A CNIC value is personal data: plugins must never log it or put it in a message. The
/// `Debug` output of this type hides the value whenever it may be a CNIC (see
/// [`IdentifierValue::may_be_personal`]).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierValue {
    /// The scheme's code, one of [`schemes`] or `source:<source-id>`.
    pub scheme: String,
    /// The value as written in the source, untouched.
    pub value: String,
}

impl IdentifierValue {
    /// An identifier of `scheme` with the raw `value`.
    pub fn new(scheme: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            value: value.into(),
        }
    }

    /// Tells whether the value may be a CNIC and so personal: either its scheme is
    /// [`schemes::CNIC`], or it holds exactly 13 digits, as an individual's "NTN" (which is
    /// their CNIC) or a CNIC typed into the wrong column does.
    #[must_use]
    pub fn may_be_personal(&self) -> bool {
        self.scheme.trim().eq_ignore_ascii_case(schemes::CNIC)
            || self.value.chars().filter(char::is_ascii_digit).count() == 13
    }
}

impl fmt::Debug for IdentifierValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("IdentifierValue");
        s.field("scheme", &self.scheme);
        if self.may_be_personal() {
            s.field("value", &format_args!("<redacted>"));
        } else {
            s.field("value", &self.value);
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_only_existing_days_in_iso_form() {
        type Ymd = (i32, u32, u32);
        let cases: &[(&str, Result<Ymd, DateError>)] = &[
            ("2019-03-12", Ok((2019, 3, 12))),
            ("2024-02-29", Ok((2024, 2, 29))),
            ("2000-02-29", Ok((2000, 2, 29))),
            ("1900-02-29", Err(DateError::OutOfRange)),
            ("2023-02-29", Err(DateError::OutOfRange)),
            ("2023-04-31", Err(DateError::OutOfRange)),
            ("2023-13-01", Err(DateError::OutOfRange)),
            ("2023-00-10", Err(DateError::OutOfRange)),
            ("0999-01-01", Err(DateError::OutOfRange)),
            ("12/03/2019", Err(DateError::Shape)),
            ("2019-3-12", Err(DateError::Shape)),
            ("20190312", Err(DateError::Shape)),
            ("2019-03-12T00:00", Err(DateError::Shape)),
            ("２０19-03-12", Err(DateError::Shape)),
            ("", Err(DateError::Shape)),
        ];
        for (text, expected) in cases {
            let parsed = Date::parse_iso(text).map(|d| (d.year(), d.month(), d.day()));
            assert_eq!(&parsed, expected, "{text}");
            if let Ok(date) = Date::parse_iso(text) {
                assert_eq!(date.to_string(), *text);
            }
        }
    }

    #[test]
    fn dates_serialise_as_iso_text_and_refuse_other_forms() {
        let date = Date::from_ymd(2017, 7, 1).unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), r#""2017-07-01""#);
        assert_eq!(
            serde_json::from_str::<Date>(r#""2017-07-01""#).unwrap(),
            date
        );
        let err = serde_json::from_str::<Date>(r#""01/07/2017""#).unwrap_err();
        assert!(!err.to_string().contains("01/07"), "{err}");
        assert!(Date::from_ymd(2017, 6, 30).unwrap() < date);
    }

    #[test]
    fn personal_values_do_not_show_in_debug_output() {
        let name = Personal::new("Ayesha Khan");
        assert_eq!(format!("{name:?}"), "Personal(<redacted>)");
        assert_eq!(name.expose(), "Ayesha Khan");
        assert_eq!(serde_json::to_string(&name).unwrap(), r#""Ayesha Khan""#);

        let cases = [
            (schemes::CNIC, "35202-1234567-1", true),
            ("pk-cnic", "anything", true),
            (schemes::NTN, "3520212345671", true),
            (schemes::NTN, "1234567-8", false),
            (schemes::SECP, "0086650", false),
        ];
        for (scheme, value, personal) in cases {
            let id = IdentifierValue::new(scheme, value);
            assert_eq!(id.may_be_personal(), personal, "{scheme}");
            assert_eq!(format!("{id:?}").contains(value), !personal, "{scheme}");
        }
    }
}
