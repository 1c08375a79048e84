//! Domain types: identifiers, product and industry codes, periods and size classes.
//!
//! Raw input is parsed once, at the edge where it enters the hub (an importer reading a
//! spreadsheet cell, an API handler reading a query parameter), into the types of this
//! module. Everything behind that edge receives values that are already valid and in
//! canonical form, so no other layer re-checks shapes or re-normalises spellings, and a
//! value that could not be parsed is reported once, with a message that says what was
//! expected. Personal identifiers (the CNIC) have their own type that cannot be printed,
//! so that they cannot leak into logs, error messages or API answers by accident.

/// Implements serde's `Serialize` and `Deserialize` through `Display` and `FromStr`, so a
/// type travels as its canonical string and is validated again when it is read back.
macro_rules! serde_via_str {
    ($($ty:ty),+ $(,)?) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}

pub mod hs;
pub mod hs_convert;
pub mod identifiers;
pub mod isic;
pub mod period;
pub mod size;

pub use hs::{HsCode, HsError, HsRevision};
pub use hs_convert::{Basket, Concordance, NotConvertible, Placement};
pub use identifiers::{
    Cnic, CnicKey, CnicKeyError, Identifier, IdentifierError, IdentifierScheme, Ntn, NtnOrCnic,
    RegistryUnitNumber, SecpRegistrationNumber, Strn, parse_ntn,
};
pub use isic::{ISIC4, IsicCode, IsicError, IsicLevel, PK_PSIC_R4, PsicCode, isic_description};
pub use period::{Period, PeriodError, PeriodKind};
pub use size::{SizeBasis, SizeClass, SizeError, SizeThresholds};

/// Normalises a name for matching, so that spellings which differ only in case,
/// punctuation or spacing produce the same key (stored in the `name_key` columns).
///
/// The key is Unicode-lowercased, `&` becomes the word `and`, and whitespace is collapsed
/// and trimmed. Punctuation is handled in two ways, because removing all of it would glue
/// words together (`Al-Noor` would become `alnoor` while `Al Noor` stays two words):
///
/// - periods and apostrophes are removed, because they sit inside abbreviations and
///   words (`D.G. Khan` becomes `dg khan`, `Ali's` becomes `alis`);
/// - all other punctuation and symbols (hyphens, slashes, commas, brackets, Urdu/Arabic
///   punctuation such as `،` and `۔`) separate words and become a space.
///
/// Invisible formatting characters and combining marks (for example Urdu diacritics) are
/// removed, so that a name typed with and without them matches.
///
/// The key is for matching only; it is never shown to users.
#[must_use]
pub fn normalise_name(name: &str) -> String {
    let mut spaced = String::with_capacity(name.len());
    for c in name.chars() {
        if c == '&' {
            spaced.push_str(" and ");
        } else if c.is_alphanumeric() {
            spaced.extend(c.to_lowercase());
        } else if c.is_whitespace() || is_word_separator(c) {
            spaced.push(' ');
        }
        // Everything else (periods, apostrophes, format characters, combining marks) is
        // dropped without a trace.
    }
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tells whether a non-alphanumeric character separates words (becomes a space) in
/// [`normalise_name`], as opposed to being dropped.
fn is_word_separator(c: char) -> bool {
    match c {
        '.' | '\'' | '`' | '\u{2018}'..='\u{201B}' | '\u{00B4}' => false,
        // Zero-width spaces and joiners and other invisible format characters.
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{00AD}' => false,
        // The General Punctuation block (dashes, bullets, ellipsis, ...).
        '\u{2010}'..='\u{205F}' => true,
        // Arabic comma, semicolon, question mark, Urdu full stop.
        '\u{060C}' | '\u{061B}' | '\u{061F}' | '\u{06D4}' => true,
        c if c.is_ascii_punctuation() => true,
        // Other symbols (currency, maths, dingbats) separate words too; combining marks
        // and other invisible characters are dropped.
        c => is_symbol(c),
    }
}

/// Approximates "symbol" characters without the Unicode general-category tables, which
/// the standard library does not expose: Latin-1 symbols and the symbol blocks.
fn is_symbol(c: char) -> bool {
    matches!(c,
        '\u{00A1}'..='\u{00BF}'
        | '\u{00D7}'
        | '\u{00F7}'
        | '\u{20A0}'..='\u{20CF}'
        | '\u{2100}'..='\u{2BFF}'
        | '\u{3000}'..='\u{303F}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF01}'..='\u{FF0F}'
        | '\u{FF1A}'..='\u{FF20}')
        && c != '\u{00AD}'
        && c != '\u{00B4}'
}

/// Words kept in lower case by [`title_case`] unless they start the name, as in
/// "Azad Jammu and Kashmir" or "Gulberg of Lahore".
const TITLE_CASE_SMALL_WORDS: [&str; 2] = ["and", "of"];

/// Writes an administrative-area name (province, division, district, tehsil) in title
/// case, so that names typed in capitals or in lower case display the same way:
/// `"  dera ghazi KHAN "` becomes `"Dera Ghazi Khan"`.
///
/// Whitespace is trimmed and collapsed. A letter is capitalised when it starts a word or
/// follows a period, hyphen, bracket or slash, so initials and compounds stay readable
/// (`d.g. khan` → `D.G. Khan`, `GULSHAN-E-IQBAL` → `Gulshan-E-Iqbal`); a letter after an
/// apostrophe or a digit stays lower case (`18TH` → `18th`). The words "and" and "of" stay
/// lower case except at the start. Acronyms without periods (`AJK`) cannot be told apart
/// from names typed in capitals and become `Ajk`; alias tables map those.
#[must_use]
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (index, word) in name.split_whitespace().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        let lower = word.to_lowercase();
        if index > 0 && TITLE_CASE_SMALL_WORDS.contains(&lower.as_str()) {
            out.push_str(&lower);
            continue;
        }
        let mut previous: Option<char> = None;
        for c in lower.chars() {
            let starts_part = match previous {
                None => true,
                Some(p) => !(p.is_alphanumeric() || matches!(p, '\'' | '\u{2019}' | '`')),
            };
            if starts_part && c.is_alphabetic() {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            previous = Some(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_name_table() {
        let check = |input: &str, expected: &str| {
            assert_eq!(normalise_name(input), expected, "input {input:?}");
        };
        check(
            "  Al-Noor   Textiles (Pvt.) Ltd. ",
            "al noor textiles pvt ltd",
        );
        check("Al Noor Textiles Pvt Ltd", "al noor textiles pvt ltd");
        check("Ali & Sons", "ali and sons");
        check("Ali&Sons", "ali and sons");
        check("D.G. Khan", "dg khan");
        check("Ali's Surgical", "alis surgical");
        check("Ali’s Surgical", "alis surgical");
        check("SIALKOT\tSURGICAL\nWORKS", "sialkot surgical works");
        check("Sports/Goods, Ltd", "sports goods ltd");
        check("Karachi – East", "karachi east");
        check("Sialkot\u{00A0}Tannery", "sialkot tannery");
        check("ÉCOLE Ünïcode", "école ünïcode");
        check("سیالکوٹ، پاکستان", "سیالکوٹ پاکستان");
        check("Zero\u{200B}Width", "zerowidth");
        check("Price 100$ Co", "price 100 co");
        check("", "");
        check("  ...  ", "");
    }

    #[test]
    fn title_case_table() {
        let check = |input: &str, expected: &str| {
            assert_eq!(title_case(input), expected, "input {input:?}");
        };
        check("  dera ghazi KHAN ", "Dera Ghazi Khan");
        check("D.G. Khan", "D.G. Khan");
        check("d.g. khan", "D.G. Khan");
        check("D.I.KHAN", "D.I.Khan");
        check(
            "GULSHAN-E-IQBAL Sub-Division",
            "Gulshan-E-Iqbal Sub-Division",
        );
        check("azad jammu AND kashmir", "Azad Jammu and Kashmir");
        check("and of", "And of");
        check("BAJAUR (AT KHAR BAJAUR)", "Bajaur (At Khar Bajaur)");
        check("Babuzai(swat)", "Babuzai(Swat)");
        check("daggar/buner", "Daggar/Buner");
        check("18-HAZARI", "18-Hazari");
        check("18TH street", "18th Street");
        check("o'neill", "O'neill");
        check("toba   tek\tsingh", "Toba Tek Singh");
        check("", "");
    }
}
