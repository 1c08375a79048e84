//! Typed cell values and the date forms the sources use.

use hub_plugin_sdk::Date;

use super::number::parse_number;

/// One cell of a row, typed as far as the file says.
///
/// CSV and TSV files have no types: their cells are [`Cell::Text`] (or [`Cell::Empty`]),
/// and [`Cell::as_number`] and [`Cell::as_date`] convert the text. Workbooks type their
/// cells: numbers, booleans and dates arrive typed. Text is trimmed of surrounding
/// whitespace, and a cell holding only whitespace is [`Cell::Empty`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Empty,
    /// Text, trimmed.
    Text(String),
    /// A number (integers included).
    Number(f64),
    /// A calendar date; a date-time keeps only its day.
    Date(Date),
    /// A boolean (`TRUE`/`FALSE` in a workbook).
    Bool(bool),
}

impl Cell {
    /// A text cell from `text` trimmed, or [`Cell::Empty`] when nothing is left.
    pub fn text(text: &str) -> Self {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            Self::Empty
        } else {
            Self::Text(trimmed.to_owned())
        }
    }

    /// Tells whether the cell holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// The bytes of text the cell holds (0 unless it is text).
    #[must_use]
    pub fn text_len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            _ => 0,
        }
    }

    /// The text of a text cell.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The cell as a number: a number cell, or a text cell that [`parse_number`] reads
    /// (thousand separators, currency prefixes, `(1,200)` negatives, percentages).
    #[must_use]
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(text) => parse_number(text),
            _ => None,
        }
    }

    /// The cell as a date.
    ///
    /// Accepts a date cell; a number, read as an Excel serial date of the 1900 date system
    /// (see [`excel_serial_to_date`]); and text in the forms `dd/mm/yyyy`, `d/m/yyyy`,
    /// `dd-mm-yyyy`, `dd.mm.yyyy` (always day first, as in Pakistan) and `yyyy-mm-dd`
    /// (optionally followed by a time, which is dropped), or a plain number in text.
    /// Two-digit years are refused: the century cannot be known.
    #[must_use]
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Self::Date(date) => Some(*date),
            Self::Number(n) => excel_serial_to_date(*n),
            Self::Text(text) => parse_text_date(text).or_else(|| {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(excel_serial_to_date)
            }),
            _ => None,
        }
    }

    /// The cell's value as text, as a header name or a label would use it: numbers
    /// without a trailing `.0`, dates in ISO form, booleans as `TRUE`/`FALSE`.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(text) => text.clone(),
            Self::Number(n) => format_number(*n),
            Self::Date(date) => date.to_string(),
            Self::Bool(true) => "TRUE".to_owned(),
            Self::Bool(false) => "FALSE".to_owned(),
        }
    }
}

/// Writes a number the way a spreadsheet shows it by default: integers without decimals.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// The largest serial Excel accepts, 9999-12-31.
const MAX_SERIAL: f64 = 2_958_465.0;

/// Converts an Excel serial date of the 1900 date system to a date, dropping the time
/// of day (the fraction).
///
/// Serial 1 is 1900-01-01. Excel counts a 29 February 1900 that never existed (serial
/// 60, kept for compatibility with Lotus 1-2-3): serial 60 gives `None`, and serials from
/// 61 on are shifted back by that day, so 61 is 1900-03-01. Serials below 1 or above
/// 2958465 (9999-12-31) give `None`.
#[must_use]
pub fn excel_serial_to_date(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(1.0..MAX_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    // The range check above keeps the value well within i64.
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    let whole = serial.floor() as i64;
    let days_since_1899_12_31 = match whole {
        60 => return None,
        ..60 => whole,
        _ => whole - 1,
    };
    // 1899-12-31 is 25568 days before 1970-01-01.
    date_from_unix_days(days_since_1899_12_31 - 25_568)
}

/// Converts an Excel serial date of the 1904 date system (old Mac workbooks), where
/// serial 0 is 1904-01-01 and there is no leap-year bug.
#[must_use]
pub fn excel_1904_serial_to_date(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(0.0..MAX_SERIAL - 1462.0 + 1.0).contains(&serial) {
        return None;
    }
    #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
    let whole = serial.floor() as i64;
    // 1904-01-01 is 24107 days before 1970-01-01.
    date_from_unix_days(whole - 24_107)
}

/// The civil date `days` days after 1970-01-01 (Howard Hinnant's algorithm).
fn date_from_unix_days(days: i64) -> Option<Date> {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date::from_ymd(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )
    .ok()
}

/// Parses the text date forms listed at [`Cell::as_date`].
#[must_use]
pub fn parse_text_date(text: &str) -> Option<Date> {
    let text = text.trim();
    // An ISO date-time: keep the date.
    let text = match text.find(['T', ' ']) {
        Some(10) => &text[..10],
        _ => text,
    };
    let separator = text.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let parts: Vec<&str> = text.split(separator).collect();
    let [a, b, c] = parts[..] else {
        return None;
    };
    if !parts
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (year, month, day) = if a.len() == 4 && b.len() <= 2 && c.len() <= 2 {
        (a, b, c)
    } else if c.len() == 4 && a.len() <= 2 && b.len() <= 2 {
        (c, b, a)
    } else {
        return None;
    };
    Date::from_ymd(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        Some(Date::from_ymd(y, m, d).unwrap())
    }

    #[test]
    fn excel_serials_follow_the_1900_system_and_its_bug() {
        assert_eq!(excel_serial_to_date(1.0), ymd(1900, 1, 1));
        assert_eq!(excel_serial_to_date(59.0), ymd(1900, 2, 28));
        assert_eq!(excel_serial_to_date(60.0), None);
        assert_eq!(excel_serial_to_date(61.0), ymd(1900, 3, 1));
        assert_eq!(excel_serial_to_date(45_000.0), ymd(2023, 3, 15));
        assert_eq!(excel_serial_to_date(45_000.75), ymd(2023, 3, 15));
        assert_eq!(excel_serial_to_date(2_958_465.0), ymd(9999, 12, 31));
        assert_eq!(excel_serial_to_date(0.0), None);
        assert_eq!(excel_serial_to_date(-3.0), None);
        assert_eq!(excel_serial_to_date(f64::NAN), None);
        assert_eq!(excel_1904_serial_to_date(0.0), ymd(1904, 1, 1));
        assert_eq!(excel_1904_serial_to_date(43_538.0), ymd(2023, 3, 15));
    }

    #[test]
    fn text_dates_are_day_first_or_iso() {
        let cases = [
            ("15/03/2023", ymd(2023, 3, 15)),
            ("5/3/2023", ymd(2023, 3, 5)),
            ("15-03-2023", ymd(2023, 3, 15)),
            ("15.03.2023", ymd(2023, 3, 15)),
            ("2023-03-15", ymd(2023, 3, 15)),
            ("2023-03-15T10:30:00", ymd(2023, 3, 15)),
            ("2023-03-15 10:30", ymd(2023, 3, 15)),
            (" 01/07/2017 ", ymd(2017, 7, 1)),
            ("31/04/2023", None),
            ("29/02/2023", None),
            ("15/03/23", None),
            ("03/15/2023", None),
            ("15/03", None),
            ("hello", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_text_date(text), expected, "{text}");
        }
    }

    #[test]
    fn cells_convert_to_dates_and_numbers() {
        assert_eq!(Cell::text("15/03/2023").as_date(), ymd(2023, 3, 15));
        assert_eq!(Cell::text("45000").as_date(), ymd(2023, 3, 15));
        assert_eq!(Cell::Number(45_000.0).as_date(), ymd(2023, 3, 15));
        assert_eq!(Cell::Bool(true).as_date(), None);
        assert_eq!(Cell::text("12,500,000").as_number(), Some(12_500_000.0));
        assert_eq!(Cell::text("  "), Cell::Empty);
        assert_eq!(Cell::Number(12.0).to_text(), "12");
        assert_eq!(Cell::Number(1.5).to_text(), "1.5");
    }
}
