//! Numbers as people type them into spreadsheets.

/// How a source writes decimals.
///
/// The default, [`NumberLocale::DecimalPoint`], is Pakistan's and the English-speaking
/// world's: `12,500,000.50`. Some exports (SDMX from European agencies, spreadsheets
/// saved in a French or German locale) write `12.500.000,50`; the user says so with an
/// option, because `1,500` alone cannot tell the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberLocale {
    /// `.` is the decimal mark; `,` and spaces group thousands.
    #[default]
    DecimalPoint,
    /// `,` is the decimal mark; `.` and spaces group thousands.
    DecimalComma,
}

/// Currency marks stripped before or after a number, compared case-insensitively. Longer
/// marks come first so that `Rs.` is not read as `Rs` followed by a stray dot.
const CURRENCIES: &[&str] = &["US$", "USD", "PKR", "Rs.", "Rs", "₨", "$", "€", "£"];

/// Parses a number as written in a spreadsheet cell, with [`NumberLocale::DecimalPoint`].
///
/// Accepted: plain numbers (`1234`, `-12.5`, `1.5e3`); thousand separators as commas
/// (`12,500,000`, also the South Asian lakh grouping `12,50,000`) or spaces (`1 234`,
/// no-break spaces included); negatives in parentheses (`(1,200)`); a currency mark
/// before or after (`Rs. 1,200`, `PKR 5000`, `USD 12.5`, `$12`, `300 PKR`); a percent sign
/// (`75%` is 75, not 0.75: the field says whether it holds a percentage). Refused: empty
/// text, words, and ambiguous groupings such as `1,5` or `1,50` (a decimal comma is read
/// only with [`NumberLocale::DecimalComma`], see [`parse_number_with`]).
#[must_use]
pub fn parse_number(text: &str) -> Option<f64> {
    parse_number_with(text, NumberLocale::DecimalPoint)
}

/// Parses a number as [`parse_number`] does, with the given decimal mark.
#[must_use]
pub fn parse_number_with(text: &str, locale: NumberLocale) -> Option<f64> {
    let mut rest = text.trim();
    let mut negative = false;
    // Peel signs, parentheses, currency marks and a percent sign in any order.
    loop {
        let before = rest;
        if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            if negative {
                return None;
            }
            negative = true;
            rest = inner.trim();
        }
        if let Some(r) = rest.strip_prefix('-') {
            if negative {
                return None;
            }
            negative = true;
            rest = r.trim_start();
        } else if let Some(r) = rest.strip_prefix('+') {
            rest = r.trim_start();
        }
        if let Some(r) = rest.strip_suffix('%') {
            rest = r.trim_end();
        }
        for currency in CURRENCIES {
            if let Some(r) = strip_prefix_ci(rest, currency) {
                rest = r.trim_start();
            }
            if let Some(r) = strip_suffix_ci(rest, currency) {
                rest = r.trim_end();
            }
        }
        if rest == before {
            break;
        }
    }
    let (group, decimal) = match locale {
        NumberLocale::DecimalPoint => (',', '.'),
        NumberLocale::DecimalComma => ('.', ','),
    };
    let (integer, fraction) = match rest.split_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let integer = ungroup(integer, group)?;
    let mut plain = integer;
    if let Some(fraction) = fraction {
        // The fraction may carry an exponent (`1.5e3`); it has no separators.
        if fraction.is_empty() && plain.is_empty() {
            return None;
        }
        plain.push('.');
        plain.push_str(fraction);
    }
    let valid = !plain.is_empty()
        && plain.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && plain
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid {
        return None;
    }
    let value: f64 = plain.parse().ok()?;
    value
        .is_finite()
        .then_some(if negative { -value } else { value })
}

/// Removes thousand separators (`group` or spaces) from the integer part, checking that
/// they group digits in threes (or the lakh grouping of twos before the last three).
fn ungroup(integer: &str, group: char) -> Option<String> {
    let is_space = |c: char| matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}');
    if !integer.contains(|c: char| c == group || is_space(c)) {
        return Some(integer.to_owned());
    }
    let groups: Vec<&str> = integer.split(|c: char| c == group || is_space(c)).collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let (first, others) = groups.split_first()?;
    let (last, middle) = others.split_last()?;
    let ok = digits(first)
        && first.len() <= 3
        && digits(last)
        && last.len() == 3
        && middle
            .iter()
            .all(|g| digits(g) && (g.len() == 2 || g.len() == 3));
    ok.then(|| groups.concat())
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn strip_suffix_ci<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let start = text.len().checked_sub(suffix.len())?;
    let tail = text.get(start..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_people_write_them() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1234", Some(1234.0)),
            ("-12.5", Some(-12.5)),
            ("+7", Some(7.0)),
            ("1.5e3", Some(1500.0)),
            (".5", Some(0.5)),
            ("12,500,000", Some(12_500_000.0)),
            ("12,50,000", Some(1_250_000.0)),
            ("1,234.56", Some(1234.56)),
            ("1 234", Some(1234.0)),
            ("1\u{a0}234\u{a0}567", Some(1_234_567.0)),
            ("(1,200)", Some(-1200.0)),
            ("Rs. 1,200", Some(1200.0)),
            ("rs 300,000", Some(300_000.0)),
            ("PKR 5000", Some(5000.0)),
            ("USD 12.5", Some(12.5)),
            ("$12", Some(12.0)),
            ("-$12", Some(-12.0)),
            ("300 PKR", Some(300.0)),
            ("75%", Some(75.0)),
            (" 42 ", Some(42.0)),
            ("1,5", None),
            ("1,50", None),
            ("1,2345", None),
            (",500", None),
            ("12,", None),
            ("", None),
            ("-", None),
            ("abc", None),
            ("inf", None),
            ("NaN", None),
            ("12 apples", None),
            ("1.2.3", None),
            ("--5", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_number(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn decimal_comma_only_when_asked() {
        let comma = NumberLocale::DecimalComma;
        assert_eq!(parse_number_with("1,5", comma), Some(1.5));
        assert_eq!(parse_number_with("1.234,5", comma), Some(1234.5));
        assert_eq!(parse_number_with("12.500.000", comma), Some(12_500_000.0));
        assert_eq!(parse_number_with("1 234,25 €", comma), Some(1234.25));
        assert_eq!(parse_number("1.234,5"), None);
    }
}
