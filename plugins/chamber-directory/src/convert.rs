//! From a member entry to records: an [`Organisation`], a [`ClusterMembership`] when the
//! member's sector and district have a cluster, and row errors naming fields, never values.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    ClusterMembership, Date, IdentifierValue, ImportError, Item, LogLevel, Organisation,
    OrganisationKind, OrganisationStatus, Personal, RowError, SourceRef, codes, schemes,
};

use crate::clusters::{ClusterTable, fold};
use crate::fields::{Field, Header, Member, clean_text};
use crate::options::Options;

/// The most distinct sector and district pairs without a cluster that the closing log line
/// lists; the count covers them all.
const MAX_LISTED_UNPLACED: usize = 10;

/// The most distinct pairs remembered, so that a directory of many sectors keeps memory
/// bounded.
const MAX_REMEMBERED_UNPLACED: usize = 1_000;

/// Turns member entries into items, with what the directory as a whole says (chamber code,
/// publication date) and the cluster table.
#[derive(Debug)]
pub struct Converter {
    file: String,
    chamber_code: String,
    observed_on: Option<Date>,
    clusters: ClusterTable,
    columns_declared: bool,
    members: u64,
    placed: u64,
    without_place: u64,
    /// Members whose sector and district have no cluster.
    unplaced: u64,
    /// Their sector and district pairs, as written, with counts (at most
    /// [`MAX_REMEMBERED_UNPLACED`] pairs).
    unplaced_pairs: BTreeMap<(String, String), u64>,
}

impl Converter {
    /// A converter for the directory `header` of the file the user knows as `file`, with
    /// the options applied over the header: the options' chamber code and publication date
    /// win over the directory's own.
    ///
    /// Fails when neither names a chamber code (membership numbers are unique only within a
    /// chamber) or when the directory's publication date does not read.
    pub fn new(file: &str, header: &Header, options: &Options) -> Result<Self, ImportError> {
        let at = || SourceRef::new(file);
        let chamber_code = options
            .chamber_code
            .as_deref()
            .or(header.chamber_code.as_deref())
            .and_then(clean_text)
            .map(|code| code.to_uppercase())
            .ok_or_else(|| {
                ImportError::at(
                    at(),
                    "the directory has no chamber_code; name the chamber with the option \
                     chamber_code (e.g. \"SCCI\"), which qualifies its membership numbers",
                )
            })?;
        let observed_on = match (options.published, header.published.as_deref()) {
            (Some(date), _) => Some(date),
            (None, Some(text)) => Some(parse_date(text).ok_or_else(|| {
                ImportError::at(
                    at(),
                    "the directory's published date must be written YYYY-MM-DD or DD/MM/YYYY \
                     (or give the option published)",
                )
            })?),
            (None, None) => None,
        };
        Ok(Self {
            file: file.to_owned(),
            chamber_code,
            observed_on,
            clusters: options.clusters.clone(),
            columns_declared: false,
            members: 0,
            placed: 0,
            without_place: 0,
            unplaced: 0,
            unplaced_pairs: BTreeMap::new(),
        })
    }

    /// The log line that opens the import: chamber, code, publication date.
    #[must_use]
    pub fn describe(&self, header: &Header) -> Item {
        let mut line = String::from("Chamber member directory");
        if let Some(chamber) = &header.chamber {
            let _ = write!(line, " of {chamber}");
        }
        let _ = write!(line, " (chamber code {})", self.chamber_code);
        match self.observed_on {
            Some(date) => {
                let _ = write!(line, ", published {date}.");
            }
            None => line.push_str(", without a publication date: observed_on is left out."),
        }
        Item::log(LogLevel::Info, line)
    }

    /// The log line that closes the import: how many members were read and placed in a
    /// cluster, and which sectors and districts had none (names of trades and places, never
    /// of firms).
    #[must_use]
    pub fn summary(&self) -> Item {
        if self.members == 0 {
            return Item::log(LogLevel::Warn, "The directory lists no members.");
        }
        let mut line = format!(
            "Read {} members; {} placed in a cluster",
            self.members, self.placed
        );
        if self.without_place > 0 {
            let _ = write!(
                line,
                "; {} without a sector or a district",
                self.without_place
            );
        }
        if self.unplaced > 0 {
            let total = self.unplaced;
            let mut pairs: Vec<(&(String, String), &u64)> = self.unplaced_pairs.iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let listed: Vec<String> = pairs
                .iter()
                .take(MAX_LISTED_UNPLACED)
                .map(|((sector, district), n)| format!("{sector} in {district} ({n})"))
                .collect();
            let _ = write!(
                line,
                "; {total} in a sector and district without a cluster (add them with the \
                 option sector_clusters): {}",
                listed.join(", ")
            );
            if pairs.len() > MAX_LISTED_UNPLACED {
                line.push_str(", …");
            }
        }
        line.push('.');
        Item::log(LogLevel::Info, line)
    }

    /// The items of one member: its records, then its row errors and warnings; only row
    /// errors when it lacks its membership number or name. Before the first member with
    /// fields, the column declaration of its keys.
    pub fn member(&mut self, member: &Member) -> Vec<Item> {
        self.members += 1;
        let at = SourceRef::row(self.file.clone(), member.position);
        let mut items = Vec::new();
        if !self.columns_declared && !member.is_shapeless() {
            self.columns_declared = true;
            items.push(columns(member));
        }
        if member.is_shapeless() {
            let message = "A member must be a set of fields (a JSON object), not a single value.";
            items.push(RowError::error(at, codes::INVALID_VALUE, message).into());
            return items;
        }
        let mut problems = malformed(member, &at);
        let number = required(member, Field::MembershipNo, &at, &mut problems);
        let name = required(member, Field::Name, &at, &mut problems);
        if let (Some(number), Some(name)) = (number, name) {
            let since = date(member, Field::MemberSince, &at, &mut problems);
            let firm = self.organisation(member, number, name, since, &at, &mut problems);
            let membership = self.cluster_membership(member, &firm, since);
            items.push(Item::record(at.clone(), firm));
            items.extend(membership.map(|m| Item::record(at, m)));
        }
        items.extend(problems.into_iter().map(Item::from));
        items
    }

    /// The member's organisation record.
    fn organisation(
        &self,
        member: &Member,
        number: &str,
        name: &str,
        since: Option<Date>,
        at: &SourceRef,
        problems: &mut Vec<RowError>,
    ) -> Organisation {
        let text = |field| member.get(field).map(str::to_owned);
        let mut firm = Organisation::new(number.to_uppercase(), OrganisationKind::Firm, name);
        firm.district = text(Field::District);
        firm.tehsil = text(Field::Tehsil);
        firm.address = text(Field::Address);
        firm.phone = member.get(Field::Phone).map(Personal::from);
        firm.email = member.get(Field::Email).map(Personal::from);
        firm.observed_on = self.observed_on;
        if let Some(ntn) = member.get(Field::Ntn) {
            // As written: the hub checks the NTN and reports a malformed one.
            firm.identifiers
                .push(IdentifierValue::new(schemes::NTN, ntn));
        }
        firm.identifiers.push(IdentifierValue::new(
            schemes::CHAMBER_MEMBERSHIP,
            qualified(&self.chamber_code, number),
        ));
        firm.employees_total = count(member, Field::Employees, at, problems);
        if let Some(word) = member.get(Field::Status) {
            let known = match parse_status(word) {
                StatusWord::Operating(status) => {
                    firm.status = Some(status);
                    true
                }
                StatusWord::MembershipOnly => true,
                StatusWord::Unknown => {
                    problems.push(unknown_status(member, at));
                    false
                }
            };
            // A word outside the vocabulary is not kept: free text in a status column may
            // say more than a status.
            if known {
                firm.attributes
                    .insert("membership_status".into(), word.into());
            }
        }
        if let Some(sector) = member.get(Field::Sector) {
            firm.attributes.insert("sector".into(), sector.into());
        }
        if let Some(exporter) = flag(member, Field::Exporter, at, problems) {
            firm.attributes
                .insert("exporter".into(), Value::Bool(exporter));
        }
        if let Some(since) = since {
            firm.attributes
                .insert("member_since".into(), since.to_string().into());
        }
        firm
    }

    /// The member's cluster membership, when its sector and district have a cluster: from
    /// the day it joined the chamber (`since`), when the directory says.
    fn cluster_membership(
        &mut self,
        member: &Member,
        firm: &Organisation,
        since: Option<Date>,
    ) -> Option<ClusterMembership> {
        let (Some(sector), Some(district)) =
            (member.get(Field::Sector), member.get(Field::District))
        else {
            self.without_place += 1;
            return None;
        };
        let Some(cluster) = self.clusters.cluster(sector, district) else {
            self.note_unplaced(sector, district);
            return None;
        };
        self.placed += 1;
        let key = format!("{}/{cluster}", firm.source_key);
        let mut membership = ClusterMembership::new(key, cluster, firm.source_key.clone());
        membership.valid_from = since;
        Some(membership)
    }

    fn note_unplaced(&mut self, sector: &str, district: &str) {
        self.unplaced += 1;
        let key = (sector.to_owned(), district.to_owned());
        if let Some(count) = self.unplaced_pairs.get_mut(&key) {
            *count += 1;
        } else if self.unplaced_pairs.len() < MAX_REMEMBERED_UNPLACED {
            self.unplaced_pairs.insert(key, 1);
        }
    }
}

/// The column declaration of a member's keys: record field → key as written.
fn columns(member: &Member) -> Item {
    let pairs = Field::ALL.into_iter().flat_map(|field| {
        let key = member.key(field).map(str::to_owned);
        field
            .records()
            .iter()
            .filter_map(move |record| Some(((*record).to_owned(), key.clone()?)))
    });
    Item::columns(None, pairs)
}

/// Row errors for fields whose value is a list or a table: errors for the required fields,
/// warnings for the others (the member is imported without them).
fn malformed(member: &Member, at: &SourceRef) -> Vec<RowError> {
    member
        .malformed()
        .iter()
        .map(|(field, key)| {
            let message = format!(
                "The field {} must be text, a number or true/false, not a list or a table.",
                field.name()
            );
            let at = at.clone().with_column(key.clone());
            let error = if is_required(*field) {
                RowError::error(at, codes::INVALID_VALUE, message)
            } else {
                RowError::warning(at, codes::INVALID_VALUE, message)
            };
            error.with_field(field.name())
        })
        .collect()
}

fn is_required(field: Field) -> bool {
    matches!(field, Field::MembershipNo | Field::Name)
}

/// The value of a required field; when it is missing, a `missing_required` error (unless
/// the value was there but malformed, which is reported already).
fn required<'m>(
    member: &'m Member,
    field: Field,
    at: &SourceRef,
    problems: &mut Vec<RowError>,
) -> Option<&'m str> {
    let value = member.get(field);
    let reported = member.malformed().iter().any(|(f, _)| *f == field);
    if value.is_none() && !reported {
        problems.push(RowError::missing_required(at.clone(), field.name()));
    }
    value
}

/// Where a field's value is: the member's row, in the column of the key it was written
/// under.
fn at_field(member: &Member, field: Field, at: &SourceRef) -> SourceRef {
    match member.key(field) {
        Some(key) => at.clone().with_column(key),
        None => at.clone(),
    }
}

/// A warning about a field's value: the member is imported without it.
fn warn(member: &Member, field: Field, at: &SourceRef, code: &str, message: String) -> RowError {
    RowError::warning(at_field(member, field, at), code, message).with_field(field.name())
}

/// The field's value as a whole number of 0 or more; otherwise a warning.
fn count(
    member: &Member,
    field: Field,
    at: &SourceRef,
    problems: &mut Vec<RowError>,
) -> Option<u32> {
    let text = member.get(field)?;
    let value = parse_count(text);
    if value.is_none() {
        let message = format!(
            "The field {} must be a whole number of 0 or more; the member is imported without it.",
            field.name()
        );
        problems.push(warn(member, field, at, codes::INVALID_NUMBER, message));
    }
    value
}

/// The field's value as a date; otherwise a warning.
fn date(
    member: &Member,
    field: Field,
    at: &SourceRef,
    problems: &mut Vec<RowError>,
) -> Option<Date> {
    let text = member.get(field)?;
    let value = parse_date(text);
    if value.is_none() {
        let message = format!(
            "The field {} must be a date that exists, written YYYY-MM-DD or DD/MM/YYYY; the \
             member is imported without it.",
            field.name()
        );
        problems.push(warn(member, field, at, codes::INVALID_DATE, message));
    }
    value
}

/// The field's value as yes or no; otherwise a warning.
fn flag(
    member: &Member,
    field: Field,
    at: &SourceRef,
    problems: &mut Vec<RowError>,
) -> Option<bool> {
    let text = member.get(field)?;
    let value = parse_flag(text);
    if value.is_none() {
        let message = format!(
            "The field {} must be true or false (yes/no, y/n, 1/0); the member is imported \
             without it.",
            field.name()
        );
        problems.push(warn(member, field, at, codes::INVALID_VALUE, message));
    }
    value
}

/// The warning for a status word outside the vocabulary: the organisation is imported
/// without a status (and the word, which may be free text, is not quoted).
fn unknown_status(member: &Member, at: &SourceRef) -> RowError {
    let message = "The field status holds a word that is not a known membership status \
                   (active, inactive, dormant, closed, lapsed, suspended, cancelled, \
                   unknown, …); the organisation is imported without a status.";
    warn(
        member,
        Field::Status,
        at,
        codes::UNKNOWN_CODE,
        message.into(),
    )
}

/// The membership number qualified with the chamber's code, so that it is unique across
/// chambers: `SCCI/01234` for `01234`. A number that already starts with the code and a
/// separator (`SCCI-01234`, `SCCI/01234`) is qualified as it is.
#[must_use]
pub fn qualified(chamber_code: &str, number: &str) -> String {
    let upper = number.to_uppercase();
    let already = upper
        .strip_prefix(chamber_code)
        .and_then(|rest| rest.chars().next())
        .is_some_and(|next| !next.is_alphanumeric());
    if already {
        number.to_owned()
    } else {
        format!("{chamber_code}/{number}")
    }
}

/// Reads a date written `YYYY-MM-DD` (with or without a time after it), `YYYY/MM/DD`, or
/// day first `DD/MM/YYYY`, `DD-MM-YYYY`, `DD.MM.YYYY`, as Pakistani registers write dates.
#[must_use]
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let day = text.split(['T', ' ']).next().unwrap_or(text);
    if let Ok(date) = Date::parse_iso(day) {
        return Some(date);
    }
    let parts: Vec<&str> = day.split(['/', '-', '.']).collect();
    let [a, b, c] = parts[..] else {
        return None;
    };
    let number = |part: &str, width: std::ops::RangeInclusive<usize>| {
        (width.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a, 4..=4)?, number(b, 1..=2)?, number(c, 1..=2)?)
    } else {
        (number(c, 4..=4)?, number(b, 1..=2)?, number(a, 1..=2)?)
    };
    Date::from_ymd(i32::try_from(year).ok()?, month, day).ok()
}

/// Reads a whole number of 0 or more: `45`, `1,200`, `45.0`.
#[must_use]
pub fn parse_count(text: &str) -> Option<u32> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    let whole_ok = !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = fraction.bytes().all(|b| b == b'0');
    if whole_ok && fraction_ok {
        whole.parse().ok()
    } else {
        None
    }
}

/// Reads yes or no: `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0`.
#[must_use]
pub fn parse_flag(text: &str) -> Option<bool> {
    match fold(text).as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// What a membership status word says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWord {
    /// The word says whether the firm operates.
    Operating(OrganisationStatus),
    /// The word is about the membership only (lapsed, suspended, …): no status.
    MembershipOnly,
    /// The word is outside the vocabulary.
    Unknown,
}

/// Reads a membership status word (see the crate documentation for the vocabulary).
#[must_use]
pub fn parse_status(word: &str) -> StatusWord {
    let status = match fold(word).as_str() {
        "active" | "current" | "regular" | "operational" | "functional" | "working" => {
            OrganisationStatus::Active
        }
        "inactive" | "dormant" | "non functional" | "not functional" | "non operational" => {
            OrganisationStatus::Inactive
        }
        "closed" | "ceased" | "business closed" | "wound up" | "shut down" => {
            OrganisationStatus::Closed
        }
        "unknown" | "not known" | "n a" => OrganisationStatus::Unknown,
        "lapsed" | "expired" | "suspended" | "cancelled" | "canceled" | "defaulter"
        | "resigned" | "terminated" | "struck off" | "not renewed" => {
            return StatusWord::MembershipOnly;
        }
        _ => return StatusWord::Unknown,
    };
    StatusWord::Operating(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        Date::from_ymd(y, m, d).ok()
    }

    #[test]
    fn dates_read_iso_and_day_first() {
        let cases = [
            ("2005-07-01", ymd(2005, 7, 1)),
            ("2005-07-01T00:00:00", ymd(2005, 7, 1)),
            ("2005/7/1", ymd(2005, 7, 1)),
            ("01/07/2005", ymd(2005, 7, 1)),
            ("1-7-2005", ymd(2005, 7, 1)),
            ("01.07.2005", ymd(2005, 7, 1)),
            ("31/02/2005", None),
            ("07/2005", None),
            ("2005", None),
            ("July 2005", None),
            ("", None),
            ("١/٧/٢٠٠٥", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text), expected, "{text}");
        }
    }

    #[test]
    fn counts_flags_and_statuses() {
        assert_eq!(parse_count("45"), Some(45));
        assert_eq!(parse_count("1,200"), Some(1200));
        assert_eq!(parse_count("45.0"), Some(45));
        assert_eq!(parse_count("45.5"), None);
        assert_eq!(parse_count("-3"), None);
        assert_eq!(parse_count("about 40"), None);
        assert_eq!(parse_count("99999999999"), None);
        assert_eq!(parse_flag(" Yes "), Some(true));
        assert_eq!(parse_flag("0"), Some(false));
        assert_eq!(parse_flag("maybe"), None);
        let operating = StatusWord::Operating;
        assert_eq!(
            parse_status("Active"),
            operating(OrganisationStatus::Active)
        );
        assert_eq!(
            parse_status("Non-Functional"),
            operating(OrganisationStatus::Inactive)
        );
        assert_eq!(parse_status("lapsed"), StatusWord::MembershipOnly);
        assert_eq!(parse_status("N/A"), operating(OrganisationStatus::Unknown));
        assert_eq!(parse_status("platinum"), StatusWord::Unknown);
    }

    #[test]
    fn membership_numbers_are_qualified_once() {
        assert_eq!(qualified("SCCI", "SCCI-01234"), "SCCI-01234");
        assert_eq!(qualified("SCCI", "scci/01234"), "scci/01234");
        assert_eq!(qualified("SCCI", "01234"), "SCCI/01234");
        assert_eq!(qualified("SCCI", "SCCI01234"), "SCCI/SCCI01234");
        assert_eq!(qualified("LCCI", "SCCI-01234"), "LCCI/SCCI-01234");
        assert_eq!(qualified("SCCI", "SCCI"), "SCCI/SCCI");
    }
}
