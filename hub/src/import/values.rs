//! Reading the loose text of agency files: names and addresses in capitals, legal forms.
//!
//! Agency exports write dates as `dd/mm/yyyy`, numbers with thousands separators, and
//! names in whatever case the clerk used. These helpers turn such text into values and
//! never fail loudly: `None` means "not readable", and the caller decides whether that is
//! a row error.

use hub_schema::domain::{normalise_name, title_case};

/// The text to show for a name or address: whitespace collapsed, a leading `M/S`
/// ("Messrs") dropped, and text typed entirely in capitals written in title case. Source
/// records keep the text as written; this is only for unified entities.
pub(crate) fn display_text(raw: &str) -> String {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = collapsed.to_lowercase();
    let without_messrs = ["m/s. ", "m/s ", "m/s.", "messrs. ", "messrs "]
        .iter()
        .find(|prefix| lower.starts_with(*prefix))
        .and_then(|prefix| collapsed.get(prefix.len()..))
        .map_or(collapsed.as_str(), str::trim_start);
    let has_letters = without_messrs.chars().any(char::is_alphabetic);
    if has_letters && !without_messrs.chars().any(char::is_lowercase) {
        title_case(without_messrs)
    } else {
        without_messrs.to_owned()
    }
}

/// The legal form a firm name declares through the suffix the Companies Act 2017 requires
/// of companies: `(SMC-Private) Limited` for single-member companies, `(Private) Limited`
/// for private companies, in their usual abbreviations. Other names say nothing reliable
/// (`& Co.` is used by partnerships and sole proprietors alike).
pub(crate) fn legal_form(name: &str) -> Option<&'static str> {
    let key = normalise_name(name);
    let private = ["pvt ltd", "pvt limited", "private ltd", "private limited"]
        .iter()
        .any(|suffix| key.ends_with(suffix));
    if private && key.split(' ').any(|word| word == "smc") {
        Some("single_member_company")
    } else if private {
        Some("private_limited")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        let check = |raw: &str, expected: &str| assert_eq!(display_text(raw), expected, "{raw}");
        check(
            "M/S AL NOOR SURGICAL (PVT.) LTD.",
            "Al Noor Surgical (Pvt.) Ltd.",
        );
        check("Al-Noor Surgical (Pvt) Ltd", "Al-Noor Surgical (Pvt) Ltd");
        check("HOUSE 45-B,  G.T. ROAD", "House 45-B, G.T. Road");
        check("m/s Star Works", "Star Works");
        check("123", "123");
    }

    #[test]
    fn legal_forms() {
        assert_eq!(
            legal_form("Ravi Surgical (Pvt) Ltd"),
            Some("private_limited")
        );
        assert_eq!(
            legal_form("RAVI SURGICAL (PRIVATE) LIMITED"),
            Some("private_limited")
        );
        assert_eq!(
            legal_form("Ravi (SMC-Pvt) Ltd"),
            Some("single_member_company")
        );
        assert_eq!(legal_form("Ravi Surgical & Co."), None);
        assert_eq!(legal_form("Ravi Surgical"), None);
    }
}
