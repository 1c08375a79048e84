//! Identifiers of firms and owners: NTN, CNIC, SECP and sales-tax registration numbers,
//! registry unit numbers and the schemes they belong to.
//!
//! Identifier cells in source files are typed by hand, stored as numbers by spreadsheets
//! and sometimes hold a value from the wrong column (a CNIC where an NTN was asked for).
//! Every parser here therefore strips spaces and dashes, checks only the shape that the
//! issuing authority publishes, and keeps leading zeros. Error messages never repeat the
//! offending value: any identifier column may contain a misplaced CNIC, which is personal
//! data, so a message names the field and the expected shape only.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Why an identifier or an identifier scheme could not be parsed.
///
/// No variant carries the offending value (see the module documentation), only the name
/// of the field (`what`) and a description of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentifierError {
    /// The scheme code is not one of the stable codes.
    #[error(
        "The identifier scheme is not known; expected one of PK-NTN, PK-CNIC, PK-SEC, PK-STRN, \
         psic-punjab-unit, chamber-membership, IATI-ORG or source:<source-id>."
    )]
    UnknownScheme,
    /// A `source:<source-id>` scheme has a missing or malformed source id.
    #[error(
        "The source identifier scheme must be written source:<source-id>, where the source id \
         is 1 to 64 letters, digits, dots, underscores or hyphens."
    )]
    InvalidSourceId,
    /// The value is empty after trimming.
    #[error("The {what} is empty; a value was expected.")]
    Empty {
        /// The kind of identifier that was expected.
        what: &'static str,
    },
    /// The value contains characters other than digits, spaces and dashes.
    #[error(
        "The {what} contains characters other than digits, spaces and dashes; expected {expected}."
    )]
    NotDigits {
        /// The kind of identifier that was expected.
        what: &'static str,
        /// The expected shape, in words.
        expected: &'static str,
    },
    /// The value has the wrong number of digits.
    #[error("The {what} has {found} digits; expected {expected}.")]
    WrongLength {
        /// The kind of identifier that was expected.
        what: &'static str,
        /// The expected shape, in words.
        expected: &'static str,
        /// How many digits the value has.
        found: usize,
    },
    /// The value consists of zeros only, which spreadsheets use as a placeholder.
    #[error("The {what} consists of zeros only, which is a placeholder and not a real number.")]
    AllZeros {
        /// The kind of identifier that was expected.
        what: &'static str,
    },
    /// A 13-digit value was given as an NTN: it is the CNIC of an individual.
    #[error(
        "The NTN has 13 digits, which makes it a CNIC (an individual's NTN is their CNIC); \
         it is personal data and must be parsed with parse_ntn or Cnic::parse and stored as a \
         keyed hash."
    )]
    NtnIsCnic,
    /// The first digit of a CNIC is not a province code.
    #[error(
        "The CNIC does not start with a province code; expected a first digit from 1 to 8 in \
         a 13-digit number written 12345-1234567-1."
    )]
    CnicProvince,
    /// A personal scheme was passed to [`Identifier::parse`].
    #[error(
        "PK-CNIC identifiers are personal data and cannot be stored as plain identifiers; \
         parse them with Cnic::parse and store the keyed hash and the masked form."
    )]
    PersonalScheme,
    /// A free-text identifier is too long.
    #[error("The {what} is {found} characters long; at most {max} characters are expected.")]
    TooLong {
        /// The kind of identifier that was expected.
        what: &'static str,
        /// The maximum number of characters.
        max: usize,
        /// How many characters the value has.
        found: usize,
    },
    /// A free-text identifier contains control characters.
    #[error("The {what} contains control characters; expected printable text.")]
    ControlCharacters {
        /// The kind of identifier that was expected.
        what: &'static str,
    },
    /// An IATI organisation identifier does not have the `PREFIX-id` shape.
    #[error(
        "The IATI organisation identifier must be a registration-agency prefix and an id \
         joined by a hyphen, without spaces, such as XM-DAC-41114."
    )]
    IatiShape,
}

/// The scheme an identifier belongs to, with the stable code stored in the database
/// (`organisation_identifiers.scheme`) and used by the API.
///
/// The codes follow the org-id.guide style for national registers (`PK-…`) where one
/// exists, so that identifiers can be exchanged with IATI data without translation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierScheme {
    /// National Tax Number issued by the Federal Board of Revenue (`PK-NTN`).
    Ntn,
    /// Computerised National Identity Card number issued by NADRA (`PK-CNIC`); personal.
    Cnic,
    /// Company registration number issued by the Securities and Exchange Commission of
    /// Pakistan (`PK-SEC`).
    Secp,
    /// Sales Tax Registration Number issued by the FBR (`PK-STRN`).
    Strn,
    /// Unit number in the registry of the Punjab Small Industries Corporation
    /// (`psic-punjab-unit`).
    PsicPunjabUnit,
    /// Membership number of a chamber of commerce and industry (`chamber-membership`).
    ChamberMembership,
    /// IATI organisation identifier (`IATI-ORG`), for donors and implementing agencies.
    IatiOrg,
    /// A source's own record id, written `source:<source-id>`; the string is the source id.
    ///
    /// Build it with [`IdentifierScheme::source`], which validates the source id.
    Source(String),
}

/// The maximum length of a source id in a `source:<source-id>` scheme.
const MAX_SOURCE_ID_LEN: usize = 64;

impl IdentifierScheme {
    /// The prefix of the code of [`IdentifierScheme::Source`] schemes.
    pub const SOURCE_PREFIX: &'static str = "source:";

    /// Builds the scheme of a source's own ids, checking that the source id is 1 to 64
    /// letters, digits, dots, underscores or hyphens, so the code `source:<id>` can be
    /// split again unambiguously.
    pub fn source(source_id: &str) -> Result<Self, IdentifierError> {
        let id = source_id.trim();
        let valid = !id.is_empty()
            && id.len() <= MAX_SOURCE_ID_LEN
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if valid {
            Ok(Self::Source(id.to_owned()))
        } else {
            Err(IdentifierError::InvalidSourceId)
        }
    }

    /// Parses a stable scheme code; the fixed codes are matched without regard to case.
    pub fn parse(code: &str) -> Result<Self, IdentifierError> {
        let code = code.trim();
        if code.len() > Self::SOURCE_PREFIX.len()
            && code.is_char_boundary(Self::SOURCE_PREFIX.len())
            && code[..Self::SOURCE_PREFIX.len()].eq_ignore_ascii_case(Self::SOURCE_PREFIX)
        {
            return Self::source(&code[Self::SOURCE_PREFIX.len()..]);
        }
        if code.eq_ignore_ascii_case(Self::SOURCE_PREFIX.trim_end_matches(':'))
            || code.eq_ignore_ascii_case(Self::SOURCE_PREFIX)
        {
            return Err(IdentifierError::InvalidSourceId);
        }
        [
            Self::Ntn,
            Self::Cnic,
            Self::Secp,
            Self::Strn,
            Self::PsicPunjabUnit,
            Self::ChamberMembership,
            Self::IatiOrg,
        ]
        .into_iter()
        .find(|scheme| scheme.code().eq_ignore_ascii_case(code))
        .ok_or(IdentifierError::UnknownScheme)
    }

    /// The stable code of the scheme, as stored in the database.
    #[must_use]
    pub fn code(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::Ntn => "PK-NTN",
            Self::Cnic => "PK-CNIC",
            Self::Secp => "PK-SEC",
            Self::Strn => "PK-STRN",
            Self::PsicPunjabUnit => "psic-punjab-unit",
            Self::ChamberMembership => "chamber-membership",
            Self::IatiOrg => "IATI-ORG",
            Self::Source(id) => return Cow::Owned(format!("{}{id}", Self::SOURCE_PREFIX)),
        })
    }

    /// A short English name of the identifier, used in messages.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Ntn => NTN,
            Self::Cnic => CNIC,
            Self::Secp => SECP,
            Self::Strn => STRN,
            Self::PsicPunjabUnit => UNIT,
            Self::ChamberMembership => CHAMBER,
            Self::IatiOrg => IATI,
            Self::Source(_) => SOURCE_VALUE,
        }
    }

    /// Tells whether identifiers of this scheme are personal data, which the hub stores
    /// only as a keyed hash and a masked form. Only the CNIC is.
    #[must_use]
    pub fn is_personal(&self) -> bool {
        matches!(self, Self::Cnic)
    }

    /// Tells whether an identifier of this scheme identifies an organisation (a firm or an
    /// institution). A CNIC identifies the owner, not the firm: one person may own several
    /// firms, so a shared CNIC must never merge firms.
    #[must_use]
    pub fn identifies_firm(&self) -> bool {
        !self.is_personal()
    }

    /// Tells whether two records carrying the same identifier of this scheme are the same
    /// firm, so that they can be linked without review. This holds for identifiers issued
    /// once per firm by an authority (NTN, SECP, STRN, PSIC unit numbers), but not for
    /// chamber membership numbers (unique only within one chamber), IATI identifiers
    /// (which name donors and agencies, not firms) or a source's own ids.
    #[must_use]
    pub fn is_strong(&self) -> bool {
        matches!(
            self,
            Self::Ntn | Self::Secp | Self::Strn | Self::PsicPunjabUnit
        )
    }
}

impl fmt::Display for IdentifierScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl FromStr for IdentifierScheme {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// Names of the identifiers, used in error messages.
const NTN: &str = "NTN";
const CNIC: &str = "CNIC";
const SECP: &str = "SECP company registration number";
const STRN: &str = "sales tax registration number (STRN)";
const UNIT: &str = "PSIC Punjab registry unit number";
const CHAMBER: &str = "chamber membership number";
const IATI: &str = "IATI organisation identifier";
const SOURCE_VALUE: &str = "source's own identifier";

// Expected shapes, used in error messages.
const NTN_SHAPE: &str = "7 digits and a check digit, written 1234567-8 or 12345678";
const NTN_OR_CNIC_SHAPE: &str =
    "7 digits and a check digit written 1234567-8, or a 13-digit CNIC written 12345-1234567-1";
const CNIC_SHAPE: &str = "13 digits, written 12345-1234567-1";
const SECP_SHAPE: &str = "1 to 7 digits, such as 0086650";
const STRN_SHAPE: &str = "12 or 13 digits, such as 3277876175852";

/// Maps a digit in any of the scripts found in Pakistani files (ASCII, Arabic-Indic,
/// Extended Arabic-Indic as used for Urdu, full-width) to its ASCII form.
fn ascii_digit(c: char) -> Option<char> {
    let offset = match c {
        '0'..='9' => return Some(c),
        '\u{0660}'..='\u{0669}' => u32::from(c) - 0x0660,
        '\u{06F0}'..='\u{06F9}' => u32::from(c) - 0x06F0,
        '\u{FF10}'..='\u{FF19}' => u32::from(c) - 0xFF10,
        _ => return None,
    };
    char::from_digit(offset, 10)
}

/// Tells whether a character is a dash that people put between groups of digits.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// Keeps the digits of a value, dropping whitespace and dashes and rejecting anything
/// else; the result is never empty.
fn digits_of(
    raw: &str,
    what: &'static str,
    expected: &'static str,
) -> Result<String, IdentifierError> {
    let mut digits = String::with_capacity(raw.len());
    for c in raw.chars() {
        if let Some(d) = ascii_digit(c) {
            digits.push(d);
        } else if !(c.is_whitespace() || is_dash(c)) {
            return Err(IdentifierError::NotDigits { what, expected });
        }
    }
    if digits.is_empty() {
        return Err(IdentifierError::Empty { what });
    }
    Ok(digits)
}

/// Rejects values made of zeros only, which spreadsheets use for "no number".
fn reject_all_zeros(digits: &str, what: &'static str) -> Result<(), IdentifierError> {
    if digits.bytes().all(|b| b == b'0') {
        Err(IdentifierError::AllZeros { what })
    } else {
        Ok(())
    }
}

/// Trims a free-text identifier, collapses inner whitespace and checks its length and
/// characters; `uppercase` folds case for ids whose case carries no meaning.
fn free_text(
    raw: &str,
    what: &'static str,
    max: usize,
    uppercase: bool,
) -> Result<String, IdentifierError> {
    if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(IdentifierError::ControlCharacters { what });
    }
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let value = if uppercase {
        collapsed.to_uppercase()
    } else {
        collapsed
    };
    if value.is_empty() {
        return Err(IdentifierError::Empty { what });
    }
    let found = value.chars().count();
    if found > max {
        return Err(IdentifierError::TooLong { what, max, found });
    }
    Ok(value)
}

/// A National Tax Number issued by the FBR: seven digits and a check digit, kept in the
/// canonical form `1234567-8`.
///
/// The FBR does not publish the check-digit algorithm, so only the shape is validated.
/// Leading zeros are significant and kept. Thirteen-digit "NTNs" are CNICs (individuals
/// use their CNIC as NTN) and are rejected here; use [`parse_ntn`] for columns that may
/// hold either.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ntn(String);

impl Ntn {
    /// Parses an NTN written `1234567-8` or `12345678`, with any spaces or dashes.
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let digits = digits_of(raw, NTN, NTN_SHAPE)?;
        match digits.len() {
            8 => Self::from_digits(&digits),
            13 => Err(IdentifierError::NtnIsCnic),
            found => Err(IdentifierError::WrongLength {
                what: NTN,
                expected: NTN_SHAPE,
                found,
            }),
        }
    }

    /// Builds an NTN from exactly eight ASCII digits.
    fn from_digits(digits: &str) -> Result<Self, IdentifierError> {
        reject_all_zeros(digits, NTN)?;
        Ok(Self(format!("{}-{}", &digits[..7], &digits[7..])))
    }

    /// The canonical form, `1234567-8`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The eight digits without the dash, `12345678`, as some registers store them.
    #[must_use]
    pub fn digits(&self) -> String {
        self.0.replace('-', "")
    }

    /// The check digit (the eighth digit).
    #[must_use]
    pub fn check_digit(&self) -> char {
        self.0.chars().last().unwrap_or('0')
    }
}

impl fmt::Display for Ntn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Ntn {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A CNIC number issued by NADRA: thirteen digits written `12345-1234567-1`.
///
/// A CNIC is personal data. This type therefore has no `Display`, no serde support and a
/// `Debug` that prints `Cnic(<redacted>)`, so the digits cannot reach a log line, an error
/// message or an API answer by accident. What may leave it is the keyed hash
/// ([`Cnic::keyed_hash`]), which links records of the same person without revealing the
/// number, and the masked form ([`Cnic::masked`]) that shows only the last four digits.
///
/// Only the shape is validated: thirteen digits whose first digit is a province code
/// from 1 to 8 (1 Khyber Pakhtunkhwa, 2 former FATA, 3 Punjab, 4 Sindh, 5 Balochistan,
/// 6 Islamabad, 7 Gilgit-Baltistan, 8 Azad Jammu and Kashmir). NADRA publishes no check
/// digit; the last digit encodes sex.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cnic(String);

impl Cnic {
    /// Parses a CNIC written `12345-1234567-1` or as 13 bare digits, with any spaces.
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let digits = digits_of(raw, CNIC, CNIC_SHAPE)?;
        Self::from_digits(digits)
    }

    /// Builds a CNIC from ASCII digits, checking the length and the province code.
    fn from_digits(digits: String) -> Result<Self, IdentifierError> {
        if digits.len() != 13 {
            return Err(IdentifierError::WrongLength {
                what: CNIC,
                expected: CNIC_SHAPE,
                found: digits.len(),
            });
        }
        if !matches!(digits.as_bytes()[0], b'1'..=b'8') {
            return Err(IdentifierError::CnicProvince);
        }
        Ok(Self(digits))
    }

    /// The last four digits, which the database keeps (`cnic_last4`) so that staff can
    /// confirm a match with the card holder without seeing the whole number.
    #[must_use]
    pub fn last4(&self) -> &str {
        &self.0[9..]
    }

    /// The number with all but the last four digits masked, keeping the dash layout:
    /// `*****-****567-8`.
    #[must_use]
    pub fn masked(&self) -> String {
        format!("*****-****{}-{}", &self.0[9..12], &self.0[12..])
    }

    /// The lowercase hexadecimal HMAC-SHA256 of the 13 digits under `key`.
    ///
    /// A plain hash would not protect a CNIC: the space of valid numbers is small enough
    /// to enumerate. A keyed hash can only be recomputed by whoever holds the key, and
    /// equal CNICs still give equal hashes, which is what record linkage needs.
    #[must_use]
    pub fn keyed_hash(&self, key: &CnicKey) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC-SHA256 accepts keys of any length");
        mac.update(self.0.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for Cnic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cnic(<redacted>)")
    }
}

impl FromStr for Cnic {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What an "NTN" column held: an NTN proper, or the CNIC that an individual uses as NTN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NtnOrCnic {
    /// An eight-digit NTN of a firm or an individual registered before CNIC-based NTNs.
    Ntn(Ntn),
    /// A thirteen-digit CNIC used as NTN; personal data.
    Cnic(Cnic),
}

/// Parses a value from an NTN column, which may hold an NTN (8 digits) or, for an
/// individual, a CNIC (13 digits); the caller must route a CNIC to the personal-data path.
pub fn parse_ntn(raw: &str) -> Result<NtnOrCnic, IdentifierError> {
    let digits = digits_of(raw, NTN, NTN_OR_CNIC_SHAPE)?;
    match digits.len() {
        8 => Ntn::from_digits(&digits).map(NtnOrCnic::Ntn),
        13 => Cnic::from_digits(digits).map(NtnOrCnic::Cnic),
        found => Err(IdentifierError::WrongLength {
            what: NTN,
            expected: NTN_OR_CNIC_SHAPE,
            found,
        }),
    }
}

/// Why a CNIC hash key could not be loaded. No variant carries any part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CnicKeyError {
    /// The key is not hexadecimal (or has an odd number of hex characters).
    #[error(
        "The CNIC hash key is not valid hexadecimal; expected at least 64 hex characters \
         (32 bytes)."
    )]
    NotHex,
    /// The key is shorter than 32 bytes.
    #[error(
        "The CNIC hash key has {bytes} bytes; at least 32 bytes (64 hex characters) are \
         expected."
    )]
    TooShort {
        /// The length of the key that was given, in bytes.
        bytes: usize,
    },
    /// Every byte of the key is the same, which means a placeholder, not a random key.
    #[error(
        "The CNIC hash key repeats a single byte value, which is a placeholder; expected at \
         least 32 random bytes."
    )]
    Degenerate,
}

/// The secret key of the CNIC keyed hash ([`Cnic::keyed_hash`]).
///
/// Hashes made with different keys do not match, so a database must always be used with
/// the key it was filled with; [`CnicKey::fingerprint`] lets it record which key that was
/// without storing the key. `Debug` prints `CnicKey(<redacted>)`.
#[derive(Clone)]
pub struct CnicKey(Vec<u8>);

impl CnicKey {
    /// The minimum key length in bytes: the output size of SHA-256, below which the key
    /// would be the weakest part of the HMAC.
    pub const MIN_LEN: usize = 32;

    /// The domain-separation prefix of [`CnicKey::fingerprint`], so the fingerprint can
    /// never equal a hash computed for any other purpose.
    const FINGERPRINT_CONTEXT: &'static [u8] = b"cluster-data-hub/cnic-key/v1";

    /// Wraps raw key bytes, requiring at least 32 of them and not all equal.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, CnicKeyError> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(CnicKeyError::TooShort { bytes: bytes.len() });
        }
        if bytes.iter().all(|&b| b == bytes[0]) {
            return Err(CnicKeyError::Degenerate);
        }
        Ok(Self(bytes))
    }

    /// Decodes a key written as hexadecimal (at least 64 hex characters); surrounding
    /// whitespace, as left by editors and environment files, is ignored.
    pub fn from_hex(hex_key: &str) -> Result<Self, CnicKeyError> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| CnicKeyError::NotHex)?;
        Self::from_bytes(bytes)
    }

    /// The context of [`CnicKey::digest`], so a digest never equals a CNIC's keyed hash.
    const DIGEST_CONTEXT: &'static [u8] = b"cluster-data-hub/personal-key/v1\0";

    /// A keyed digest of personal text (the folded parts of a key an importer made with
    /// `hub_plugin_sdk::keys::personal_key`): 32 hex characters of HMAC-SHA256 under this
    /// key, over a context string and the text. Stable for one key, useless without it.
    #[must_use]
    pub fn digest(&self, text: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .expect("HMAC-SHA256 accepts keys of any length");
        mac.update(Self::DIGEST_CONTEXT);
        mac.update(text.as_bytes());
        let mut digest = hex::encode(mac.finalize().into_bytes());
        digest.truncate(32);
        digest
    }

    /// The first 16 hex characters of SHA-256 over the context string
    /// `cluster-data-hub/cnic-key/v1` followed by the key. The database stores it in
    /// `hub_meta`, and the hub refuses to start with a key of another fingerprint.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(Self::FINGERPRINT_CONTEXT);
        hasher.update(&self.0);
        let mut fingerprint = hex::encode(hasher.finalize());
        fingerprint.truncate(16);
        fingerprint
    }
}

impl fmt::Debug for CnicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CnicKey(<redacted>)")
    }
}

/// A company registration number issued by the SECP, kept as seven digits with leading
/// zeros (`0086650`).
///
/// Shorter digit strings (1 to 6 digits) are accepted and left-padded with zeros: these
/// numbers are very often stored as numbers in spreadsheets, which drops the leading
/// zeros, and padding restores the only number they can have been.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecpRegistrationNumber(String);

impl SecpRegistrationNumber {
    /// Parses a registration number of 1 to 7 digits, with any spaces or dashes.
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let digits = digits_of(raw, SECP, SECP_SHAPE)?;
        if digits.len() > 7 {
            return Err(IdentifierError::WrongLength {
                what: SECP,
                expected: SECP_SHAPE,
                found: digits.len(),
            });
        }
        reject_all_zeros(&digits, SECP)?;
        Ok(Self(format!("{digits:0>7}")))
    }

    /// The canonical seven digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecpRegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SecpRegistrationNumber {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A Sales Tax Registration Number issued by the FBR: 13 digits in the current form
/// (`3277876175852`), 12 in older registrations. The digits are kept as given, without
/// padding, because a 12-digit number is a valid old-form number and not a truncated one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Strn(String);

impl Strn {
    /// Parses an STRN of 12 or 13 digits, with any spaces or dashes
    /// (`32-77-8761-758-52` is accepted).
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        let digits = digits_of(raw, STRN, STRN_SHAPE)?;
        if !(12..=13).contains(&digits.len()) {
            return Err(IdentifierError::WrongLength {
                what: STRN,
                expected: STRN_SHAPE,
                found: digits.len(),
            });
        }
        reject_all_zeros(&digits, STRN)?;
        Ok(Self(digits))
    }

    /// The canonical digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Strn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Strn {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A unit number in the registry of the Punjab Small Industries Corporation
/// (`psic-punjab-unit`).
///
/// The registry's numbering is not published and has changed over time, so the value is
/// free text: trimmed, upper-cased (case carries no meaning in it, and typists vary) and
/// with inner whitespace collapsed, non-empty and at most 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryUnitNumber(String);

impl RegistryUnitNumber {
    /// The maximum length in characters.
    pub const MAX_LEN: usize = 32;

    /// Parses and normalises a unit number.
    pub fn parse(raw: &str) -> Result<Self, IdentifierError> {
        free_text(raw, UNIT, Self::MAX_LEN, true).map(Self)
    }

    /// The normalised unit number.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegistryUnitNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RegistryUnitNumber {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

serde_via_str!(
    IdentifierScheme,
    Ntn,
    SecpRegistrationNumber,
    Strn,
    RegistryUnitNumber
);

/// The maximum length of a chamber membership number.
const MAX_CHAMBER_LEN: usize = 64;
/// The maximum length of an IATI organisation identifier.
const MAX_IATI_LEN: usize = 255;
/// The maximum length of a source's own identifier.
const MAX_SOURCE_VALUE_LEN: usize = 128;

/// A non-personal identifier of an organisation, normalised for its scheme, as stored in
/// `organisation_identifiers` (`scheme`, `value`).
///
/// Normalisation makes equal identifiers compare equal however they were typed, which is
/// what automatic linking on strong schemes relies on. CNICs never become an
/// `Identifier`: they go through [`Cnic`] and are stored hashed.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "IdentifierRepr", into = "IdentifierRepr")]
pub struct Identifier {
    scheme: IdentifierScheme,
    value: String,
}

/// The serialised form of an [`Identifier`], validated again when read back.
#[derive(serde::Serialize, serde::Deserialize)]
struct IdentifierRepr {
    scheme: IdentifierScheme,
    value: String,
}

impl TryFrom<IdentifierRepr> for Identifier {
    type Error = IdentifierError;

    fn try_from(repr: IdentifierRepr) -> Result<Self, Self::Error> {
        Self::parse(repr.scheme, &repr.value)
    }
}

impl From<Identifier> for IdentifierRepr {
    fn from(identifier: Identifier) -> Self {
        Self {
            scheme: identifier.scheme,
            value: identifier.value,
        }
    }
}

impl Identifier {
    /// Parses `raw` as an identifier of `scheme` and normalises it:
    ///
    /// - `PK-NTN`: canonical `1234567-8` (a 13-digit value is rejected as a CNIC);
    /// - `PK-SEC`: seven digits, left-padded with zeros;
    /// - `PK-STRN`: 12 or 13 digits;
    /// - `psic-punjab-unit` and `chamber-membership`: trimmed, upper-cased, inner
    ///   whitespace collapsed (at most 32 and 64 characters);
    /// - `IATI-ORG`: trimmed, no inner whitespace, `PREFIX-id` shape, case kept;
    /// - `source:<id>`: trimmed, inner whitespace collapsed, case kept (at most 128
    ///   characters);
    /// - `PK-CNIC`: always an error pointing to [`Cnic::parse`].
    pub fn parse(scheme: IdentifierScheme, raw: &str) -> Result<Self, IdentifierError> {
        let value = match &scheme {
            IdentifierScheme::Cnic => return Err(IdentifierError::PersonalScheme),
            IdentifierScheme::Ntn => Ntn::parse(raw)?.0,
            IdentifierScheme::Secp => SecpRegistrationNumber::parse(raw)?.0,
            IdentifierScheme::Strn => Strn::parse(raw)?.0,
            IdentifierScheme::PsicPunjabUnit => RegistryUnitNumber::parse(raw)?.0,
            IdentifierScheme::ChamberMembership => free_text(raw, CHAMBER, MAX_CHAMBER_LEN, true)?,
            IdentifierScheme::IatiOrg => parse_iati_org(raw)?,
            IdentifierScheme::Source(_) => {
                free_text(raw, SOURCE_VALUE, MAX_SOURCE_VALUE_LEN, false)?
            }
        };
        Ok(Self { scheme, value })
    }

    /// The scheme of the identifier.
    #[must_use]
    pub fn scheme(&self) -> &IdentifierScheme {
        &self.scheme
    }

    /// The normalised value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Splits the identifier into its scheme and value.
    #[must_use]
    pub fn into_parts(self) -> (IdentifierScheme, String) {
        (self.scheme, self.value)
    }
}

/// Writes `scheme:value`, for logs and messages (for example `PK-NTN:1234567-8`).
impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, self.value)
    }
}

impl From<Ntn> for Identifier {
    fn from(ntn: Ntn) -> Self {
        Self {
            scheme: IdentifierScheme::Ntn,
            value: ntn.0,
        }
    }
}

impl From<SecpRegistrationNumber> for Identifier {
    fn from(number: SecpRegistrationNumber) -> Self {
        Self {
            scheme: IdentifierScheme::Secp,
            value: number.0,
        }
    }
}

impl From<Strn> for Identifier {
    fn from(strn: Strn) -> Self {
        Self {
            scheme: IdentifierScheme::Strn,
            value: strn.0,
        }
    }
}

impl From<RegistryUnitNumber> for Identifier {
    fn from(unit: RegistryUnitNumber) -> Self {
        Self {
            scheme: IdentifierScheme::PsicPunjabUnit,
            value: unit.0,
        }
    }
}

/// Checks the shape of an IATI organisation identifier: a registration-agency prefix and
/// an id joined by a hyphen (`XM-DAC-41114`, `GB-COH-01234567`), without whitespace.
/// The case is kept because IATI identifiers are compared exactly.
fn parse_iati_org(raw: &str) -> Result<String, IdentifierError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(IdentifierError::Empty { what: IATI });
    }
    let found = value.chars().count();
    if found > MAX_IATI_LEN {
        return Err(IdentifierError::TooLong {
            what: IATI,
            max: MAX_IATI_LEN,
            found,
        });
    }
    let well_formed = !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && value
            .split_once('-')
            .is_some_and(|(prefix, id)| !prefix.is_empty() && !id.is_empty());
    if well_formed {
        Ok(value.to_owned())
    } else {
        Err(IdentifierError::IatiShape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CNIC-shaped number used only in tests (not a real person's number).
    const TEST_CNIC: &str = "35202-1234567-8";

    fn key() -> CnicKey {
        CnicKey::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
            .unwrap()
    }

    #[test]
    fn scheme_codes() {
        let check = |input: &str, expected: Result<IdentifierScheme, IdentifierError>| {
            assert_eq!(IdentifierScheme::parse(input), expected, "input {input:?}");
        };
        use IdentifierScheme as S;
        check("PK-NTN", Ok(S::Ntn));
        check("pk-ntn", Ok(S::Ntn));
        check(" PK-CNIC ", Ok(S::Cnic));
        check("PK-SEC", Ok(S::Secp));
        check("PK-STRN", Ok(S::Strn));
        check("psic-punjab-unit", Ok(S::PsicPunjabUnit));
        check("chamber-membership", Ok(S::ChamberMembership));
        check("IATI-ORG", Ok(S::IatiOrg));
        check("source:psic-2019", Ok(S::Source("psic-2019".into())));
        check(
            "SOURCE:Chamber_LCCI.v2",
            Ok(S::Source("Chamber_LCCI.v2".into())),
        );
        check("source:", Err(IdentifierError::InvalidSourceId));
        check("source", Err(IdentifierError::InvalidSourceId));
        check("source:has space", Err(IdentifierError::InvalidSourceId));
        check("source:a:b", Err(IdentifierError::InvalidSourceId));
        check("NTN", Err(IdentifierError::UnknownScheme));
        check("", Err(IdentifierError::UnknownScheme));
        check("sourcé:x", Err(IdentifierError::UnknownScheme));

        for scheme in [
            S::Ntn,
            S::Cnic,
            S::Secp,
            S::Strn,
            S::PsicPunjabUnit,
            S::ChamberMembership,
            S::IatiOrg,
            S::Source("x".into()),
        ] {
            assert_eq!(
                IdentifierScheme::parse(&scheme.to_string()),
                Ok(scheme.clone())
            );
        }
    }

    #[test]
    fn scheme_properties() {
        use IdentifierScheme as S;
        // (scheme, personal, identifies firm, strong)
        let table = [
            (S::Ntn, false, true, true),
            (S::Cnic, true, false, false),
            (S::Secp, false, true, true),
            (S::Strn, false, true, true),
            (S::PsicPunjabUnit, false, true, true),
            (S::ChamberMembership, false, true, false),
            (S::IatiOrg, false, true, false),
            (S::Source("psic".into()), false, true, false),
        ];
        for (scheme, personal, firm, strong) in table {
            assert_eq!(scheme.is_personal(), personal, "{scheme}");
            assert_eq!(scheme.identifies_firm(), firm, "{scheme}");
            assert_eq!(scheme.is_strong(), strong, "{scheme}");
        }
    }

    #[test]
    fn ntn_table() {
        let check = |input: &str, expected: Result<&str, IdentifierError>| {
            let got = Ntn::parse(input);
            assert_eq!(
                got.as_ref().map(Ntn::as_str),
                expected.as_ref().map(|s| *s),
                "input {input:?}"
            );
        };
        check("1234567-8", Ok("1234567-8"));
        check("12345678", Ok("1234567-8"));
        check(" 1234567 - 8 ", Ok("1234567-8"));
        check("0123456-7", Ok("0123456-7"));
        check("1 2 3 4 5 6 7 8", Ok("1234567-8"));
        check("۱۲۳۴۵۶۷-۸", Ok("1234567-8"));
        check("1234567–8", Ok("1234567-8"));
        check("", Err(IdentifierError::Empty { what: NTN }));
        check(" - ", Err(IdentifierError::Empty { what: NTN }));
        check(
            "1234567",
            Err(IdentifierError::WrongLength {
                what: NTN,
                expected: NTN_SHAPE,
                found: 7,
            }),
        );
        check(
            "123456789",
            Err(IdentifierError::WrongLength {
                what: NTN,
                expected: NTN_SHAPE,
                found: 9,
            }),
        );
        check(
            "1234567.8",
            Err(IdentifierError::NotDigits {
                what: NTN,
                expected: NTN_SHAPE,
            }),
        );
        check(
            "A234567-8",
            Err(IdentifierError::NotDigits {
                what: NTN,
                expected: NTN_SHAPE,
            }),
        );
        check("0000000-0", Err(IdentifierError::AllZeros { what: NTN }));
        check(TEST_CNIC, Err(IdentifierError::NtnIsCnic));

        let ntn = Ntn::parse("12345678").unwrap();
        assert_eq!(ntn.to_string(), "1234567-8");
        assert_eq!(ntn.digits(), "12345678");
        assert_eq!(ntn.check_digit(), '8');
    }

    #[test]
    fn parse_ntn_table() {
        assert_eq!(
            parse_ntn("1234567-8"),
            Ok(NtnOrCnic::Ntn(Ntn("1234567-8".into())))
        );
        match parse_ntn(TEST_CNIC) {
            Ok(NtnOrCnic::Cnic(cnic)) => assert_eq!(cnic.last4(), "5678"),
            other => panic!("expected a CNIC, got {other:?}"),
        }
        assert_eq!(
            parse_ntn("95202-1234567-8"),
            Err(IdentifierError::CnicProvince)
        );
        assert_eq!(
            parse_ntn("123456789"),
            Err(IdentifierError::WrongLength {
                what: NTN,
                expected: NTN_OR_CNIC_SHAPE,
                found: 9
            })
        );
        assert_eq!(
            parse_ntn("n/a"),
            Err(IdentifierError::NotDigits {
                what: NTN,
                expected: NTN_OR_CNIC_SHAPE
            })
        );
    }

    #[test]
    fn cnic_table() {
        let check = |input: &str, expected: Result<&str, IdentifierError>| {
            let got = Cnic::parse(input);
            assert_eq!(
                got.map(|cnic| cnic.masked()),
                expected.map(str::to_owned),
                "input {input:?}"
            );
        };
        check("35202-1234567-8", Ok("*****-****567-8"));
        check("3520212345678", Ok("*****-****567-8"));
        check(" 35202 1234567 8 ", Ok("*****-****567-8"));
        check("12101-0000001-1", Ok("*****-****001-1"));
        check("71101-1234567-3", Ok("*****-****567-3"));
        check("81302-1234567-1", Ok("*****-****567-1"));
        check("05202-1234567-8", Err(IdentifierError::CnicProvince));
        check("95202-1234567-8", Err(IdentifierError::CnicProvince));
        check(
            "35202-123456-8",
            Err(IdentifierError::WrongLength {
                what: CNIC,
                expected: CNIC_SHAPE,
                found: 12,
            }),
        );
        check(
            "35202-12345678-8",
            Err(IdentifierError::WrongLength {
                what: CNIC,
                expected: CNIC_SHAPE,
                found: 14,
            }),
        );
        check(
            "35202/1234567/8",
            Err(IdentifierError::NotDigits {
                what: CNIC,
                expected: CNIC_SHAPE,
            }),
        );
        check("", Err(IdentifierError::Empty { what: CNIC }));
    }

    #[test]
    fn cnic_never_shows_its_digits() {
        let cnic = Cnic::parse(TEST_CNIC).unwrap();
        assert_eq!(format!("{cnic:?}"), "Cnic(<redacted>)");
        assert_eq!(
            format!("{:?}", NtnOrCnic::Cnic(cnic.clone())),
            "Cnic(Cnic(<redacted>))"
        );
        assert_eq!(cnic.last4(), "5678");
        // Error messages name the field and the shape, never the value.
        // The digits below appear in no example of the messages.
        for bad in ["42101-765432-9", "92101-7654321-9", "42101x7654321-9"] {
            let message = Cnic::parse(bad).unwrap_err().to_string();
            assert!(!message.contains("42101"), "{message}");
            assert!(!message.contains("765432"), "{message}");
            assert!(message.ends_with('.'), "{message}");
        }
        for message in [
            Ntn::parse("42101-7654321-9").unwrap_err().to_string(),
            Strn::parse("42101-76543-9").unwrap_err().to_string(),
            SecpRegistrationNumber::parse("42101-7654321-9")
                .unwrap_err()
                .to_string(),
            Identifier::parse(IdentifierScheme::Cnic, "42101-7654321-9")
                .unwrap_err()
                .to_string(),
        ] {
            assert!(!message.contains("42101"), "{message}");
            assert!(!message.contains("765432"), "{message}");
        }
    }

    #[test]
    fn cnic_keyed_hash() {
        let a = Cnic::parse("35202-1234567-8").unwrap();
        let b = Cnic::parse("3520212345678").unwrap();
        let c = Cnic::parse("35202-1234567-9").unwrap();
        let hash = a.keyed_hash(&key());
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(hash, b.keyed_hash(&key()));
        assert_ne!(hash, c.keyed_hash(&key()));
        let other_key =
            CnicKey::from_bytes(vec![7u8; 31].into_iter().chain([8u8]).collect::<Vec<_>>())
                .unwrap();
        assert_ne!(hash, a.keyed_hash(&other_key));
        // Independently computed: HMAC-SHA256(key = 00..1f, "3520212345678").
        let mut mac = Hmac::<Sha256>::new_from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap();
        mac.update(b"3520212345678");
        assert_eq!(hash, hex::encode(mac.finalize().into_bytes()));
    }

    #[test]
    fn cnic_key_table() {
        let check = |input: &str, expected: Result<(), CnicKeyError>| {
            assert_eq!(
                CnicKey::from_hex(input).map(|_| ()),
                expected,
                "input {input:?}"
            );
        };
        let good = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        check(good, Ok(()));
        check(&format!("  {}\n", good.to_uppercase()), Ok(()));
        check(&format!("{good}2021"), Ok(()));
        check(&good[..62], Err(CnicKeyError::TooShort { bytes: 31 }));
        check(&good[..63], Err(CnicKeyError::NotHex));
        check(&good.replace('a', "g"), Err(CnicKeyError::NotHex));
        check(&"00".repeat(32), Err(CnicKeyError::Degenerate));
        check(&"ab".repeat(40), Err(CnicKeyError::Degenerate));
        check("", Err(CnicKeyError::TooShort { bytes: 0 }));

        let key = key();
        assert_eq!(format!("{key:?}"), "CnicKey(<redacted>)");
        let fingerprint = key.fingerprint();
        assert_eq!(fingerprint.len(), 16);
        let mut hasher = Sha256::new();
        hasher.update(b"cluster-data-hub/cnic-key/v1");
        hasher.update((0u8..32).collect::<Vec<_>>());
        assert_eq!(fingerprint, hex::encode(hasher.finalize())[..16]);
        assert_ne!(
            fingerprint,
            CnicKey::from_hex(&format!("{good}00"))
                .unwrap()
                .fingerprint()
        );
    }

    #[test]
    fn secp_table() {
        let check = |input: &str, expected: Result<&str, IdentifierError>| {
            let got = SecpRegistrationNumber::parse(input);
            assert_eq!(
                got.as_ref().map(SecpRegistrationNumber::as_str),
                expected.as_ref().map(|s| *s),
                "input {input:?}"
            );
        };
        check("0086650", Ok("0086650"));
        check("86650", Ok("0086650"));
        check(" 0086 650 ", Ok("0086650"));
        check("1", Ok("0000001"));
        check("1234567", Ok("1234567"));
        check(
            "12345678",
            Err(IdentifierError::WrongLength {
                what: SECP,
                expected: SECP_SHAPE,
                found: 8,
            }),
        );
        check(
            "86650.0",
            Err(IdentifierError::NotDigits {
                what: SECP,
                expected: SECP_SHAPE,
            }),
        );
        check(
            "K-86650",
            Err(IdentifierError::NotDigits {
                what: SECP,
                expected: SECP_SHAPE,
            }),
        );
        check("0", Err(IdentifierError::AllZeros { what: SECP }));
        check("  ", Err(IdentifierError::Empty { what: SECP }));
    }

    #[test]
    fn strn_table() {
        let check = |input: &str, expected: Result<&str, IdentifierError>| {
            let got = Strn::parse(input);
            assert_eq!(
                got.as_ref().map(Strn::as_str),
                expected.as_ref().map(|s| *s),
                "input {input:?}"
            );
        };
        check("3277876175852", Ok("3277876175852"));
        check("32-77-8761-758-52", Ok("3277876175852"));
        check("0304999999937", Ok("0304999999937"));
        check("030499999993", Ok("030499999993"));
        check(
            "32778761758",
            Err(IdentifierError::WrongLength {
                what: STRN,
                expected: STRN_SHAPE,
                found: 11,
            }),
        );
        check(
            "32778761758521",
            Err(IdentifierError::WrongLength {
                what: STRN,
                expected: STRN_SHAPE,
                found: 14,
            }),
        );
        check(
            "STRN 3277876175852",
            Err(IdentifierError::NotDigits {
                what: STRN,
                expected: STRN_SHAPE,
            }),
        );
        check(
            "0000000000000",
            Err(IdentifierError::AllZeros { what: STRN }),
        );
    }

    #[test]
    fn registry_unit_table() {
        let check = |input: &str, expected: Result<&str, IdentifierError>| {
            let got = RegistryUnitNumber::parse(input);
            assert_eq!(
                got.as_ref().map(RegistryUnitNumber::as_str),
                expected.as_ref().map(|s| *s),
                "input {input:?}"
            );
        };
        check("  skt/ 1234  a ", Ok("SKT/ 1234 A"));
        check("GRW-0042", Ok("GRW-0042"));
        check(&"x".repeat(32), Ok(&"X".repeat(32)));
        check(
            &"x".repeat(33),
            Err(IdentifierError::TooLong {
                what: UNIT,
                max: 32,
                found: 33,
            }),
        );
        check(" \t ", Err(IdentifierError::Empty { what: UNIT }));
        check(
            "A\u{0}B",
            Err(IdentifierError::ControlCharacters { what: UNIT }),
        );
    }

    #[test]
    fn identifier_table() {
        use IdentifierScheme as S;
        let check =
            |scheme: IdentifierScheme, input: &str, expected: Result<&str, IdentifierError>| {
                let got = Identifier::parse(scheme.clone(), input);
                assert_eq!(
                    got.as_ref().map(Identifier::value),
                    expected.as_ref().map(|s| *s),
                    "{scheme} {input:?}"
                );
                if let Ok(identifier) = got {
                    assert_eq!(identifier.scheme(), &scheme);
                }
            };
        check(S::Ntn, "12345678", Ok("1234567-8"));
        check(S::Ntn, TEST_CNIC, Err(IdentifierError::NtnIsCnic));
        check(S::Cnic, TEST_CNIC, Err(IdentifierError::PersonalScheme));
        check(S::Secp, "86650", Ok("0086650"));
        check(S::Strn, "3277876175852", Ok("3277876175852"));
        check(S::PsicPunjabUnit, " skt 12 ", Ok("SKT 12"));
        check(S::ChamberMembership, " sccI / 12 ", Ok("SCCI / 12"));
        check(
            S::ChamberMembership,
            &"1".repeat(65),
            Err(IdentifierError::TooLong {
                what: CHAMBER,
                max: 64,
                found: 65,
            }),
        );
        check(S::IatiOrg, " XM-DAC-41114 ", Ok("XM-DAC-41114"));
        check(S::IatiOrg, "GB-COH-01234567", Ok("GB-COH-01234567"));
        check(S::IatiOrg, "XM DAC 41114", Err(IdentifierError::IatiShape));
        check(S::IatiOrg, "41114", Err(IdentifierError::IatiShape));
        check(S::IatiOrg, "-41114", Err(IdentifierError::IatiShape));
        check(S::IatiOrg, "", Err(IdentifierError::Empty { what: IATI }));
        check(S::Source("psic".into()), "  Row 12  b ", Ok("Row 12 b"));
        check(
            S::Source("psic".into()),
            "",
            Err(IdentifierError::Empty { what: SOURCE_VALUE }),
        );
    }

    #[test]
    fn identifier_display_and_serde() {
        let ntn: Identifier = Ntn::parse("12345678").unwrap().into();
        assert_eq!(ntn.to_string(), "PK-NTN:1234567-8");
        let json = serde_json::to_string(&ntn).unwrap();
        assert_eq!(json, r#"{"scheme":"PK-NTN","value":"1234567-8"}"#);
        assert_eq!(serde_json::from_str::<Identifier>(&json).unwrap(), ntn);
        // Deserialising validates and normalises.
        let parsed: Identifier =
            serde_json::from_str(r#"{"scheme":"PK-SEC","value":"86650"}"#).unwrap();
        assert_eq!(parsed.value(), "0086650");
        assert!(serde_json::from_str::<Identifier>(r#"{"scheme":"PK-CNIC","value":"x"}"#).is_err());
        assert!(serde_json::from_str::<Identifier>(r#"{"scheme":"PK-NTN","value":"12"}"#).is_err());
        let source =
            Identifier::parse(IdentifierScheme::source("psic-2019").unwrap(), "A1").unwrap();
        assert_eq!(
            serde_json::to_string(&source).unwrap(),
            r#"{"scheme":"source:psic-2019","value":"A1"}"#
        );
        assert_eq!(
            serde_json::to_string(&Ntn::parse("12345678").unwrap()).unwrap(),
            r#""1234567-8""#
        );
        assert_eq!(
            serde_json::from_str::<SecpRegistrationNumber>(r#""86650""#)
                .unwrap()
                .as_str(),
            "0086650"
        );
    }

    #[test]
    fn messages_are_sentences() {
        let errors = [
            IdentifierError::UnknownScheme,
            IdentifierError::InvalidSourceId,
            IdentifierError::Empty { what: NTN },
            IdentifierError::NotDigits {
                what: STRN,
                expected: STRN_SHAPE,
            },
            IdentifierError::WrongLength {
                what: SECP,
                expected: SECP_SHAPE,
                found: 9,
            },
            IdentifierError::AllZeros { what: NTN },
            IdentifierError::NtnIsCnic,
            IdentifierError::CnicProvince,
            IdentifierError::PersonalScheme,
            IdentifierError::TooLong {
                what: UNIT,
                max: 32,
                found: 40,
            },
            IdentifierError::ControlCharacters { what: UNIT },
            IdentifierError::IatiShape,
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with(|c: char| c.is_uppercase()), "{message}");
            assert!(message.ends_with('.'), "{message}");
        }
    }
}
