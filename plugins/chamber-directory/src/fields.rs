//! The fields of a directory and of its members, the names each goes by, and a member as
//! read from either format ([`Member`]) before it becomes records.

/// A field of a member entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// The chamber's membership number: the key of the member's records.
    MembershipNo,
    /// The firm's name.
    Name,
    /// The firm's National Tax Number.
    Ntn,
    /// The chamber's trade group or sector of the firm, e.g. `Surgical Instruments`.
    Sector,
    /// The district the firm is in.
    District,
    /// The tehsil the firm is in.
    Tehsil,
    /// The postal address.
    Address,
    /// The firm's phone number (personal data when the firm is one person).
    Phone,
    /// The firm's e-mail address (personal data when the firm is one person).
    Email,
    /// The day the firm joined the chamber.
    MemberSince,
    /// The number of employees.
    Employees,
    /// The membership status, e.g. `active`.
    Status,
    /// Whether the firm exports.
    Exporter,
}

impl Field {
    /// The number of fields.
    pub const COUNT: usize = 13;

    /// Every field, in the order of the variants.
    pub const ALL: [Self; Self::COUNT] = [
        Self::MembershipNo,
        Self::Name,
        Self::Ntn,
        Self::Sector,
        Self::District,
        Self::Tehsil,
        Self::Address,
        Self::Phone,
        Self::Email,
        Self::MemberSince,
        Self::Employees,
        Self::Status,
        Self::Exporter,
    ];

    /// The field's name in messages, row errors and the documentation.
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.names()[0]
    }

    /// The key names the field is accepted under, in their normalised form (see
    /// [`normalise_key`]); the first is its own name.
    #[must_use]
    pub const fn names(self) -> &'static [&'static str] {
        match self {
            Self::MembershipNo => &[
                "membership_no",
                "membership_number",
                "member_no",
                "member_number",
                "membership_id",
                "no",
            ],
            Self::Name => &[
                "name",
                "firm_name",
                "company_name",
                "business_name",
                "firm",
                "company",
            ],
            Self::Ntn => &["ntn", "ntn_no", "ntn_number", "national_tax_number"],
            Self::Sector => &["sector", "trade_group", "business_sector", "industry"],
            Self::District => &["district", "city"],
            Self::Tehsil => &["tehsil", "tahsil"],
            Self::Address => &[
                "address",
                "postal_address",
                "office_address",
                "business_address",
            ],
            Self::Phone => &["phone", "phone_no", "telephone", "tel", "contact_no"],
            Self::Email => &["email", "e_mail", "email_address"],
            Self::MemberSince => &[
                "member_since",
                "membership_date",
                "date_of_membership",
                "joined_on",
                "joined",
            ],
            Self::Employees => &[
                "employees",
                "employees_total",
                "no_of_employees",
                "number_of_employees",
                "workers",
            ],
            Self::Status => &["status", "membership_status"],
            Self::Exporter => &["exporter", "is_exporter"],
        }
    }

    /// The record fields the field feeds, for the hub's column declaration
    /// ([`hub_plugin_sdk::Item::Columns`]).
    #[must_use]
    pub const fn records(self) -> &'static [&'static str] {
        match self {
            Self::MembershipNo => &[
                "organisation.source_key",
                "organisation.identifiers.chamber-membership",
                "cluster_membership.organisation_key",
            ],
            Self::Name => &["organisation.name"],
            Self::Ntn => &["organisation.identifiers.PK-NTN"],
            Self::Sector => &["cluster_membership.cluster"],
            Self::District => &["organisation.district"],
            Self::Tehsil => &["organisation.tehsil"],
            Self::Address => &["organisation.address"],
            Self::Phone => &["organisation.phone"],
            Self::Email => &["organisation.email"],
            Self::MemberSince => &["cluster_membership.valid_from"],
            Self::Employees => &["organisation.employees_total"],
            Self::Status => &["organisation.status"],
            Self::Exporter => &[],
        }
    }

    /// The field a key (a JSON key, an XML element or attribute name) names, if any.
    #[must_use]
    pub fn of_key(key: &str) -> Option<Self> {
        let key = normalise_key(key);
        Self::ALL
            .into_iter()
            .find(|f| f.names().contains(&key.as_str()))
    }

    /// The field's position in [`Field::ALL`].
    const fn index(self) -> usize {
        self as usize
    }
}

/// A field of the directory itself (the JSON object around the members, the attributes of
/// the XML root element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderField {
    /// The chamber's name.
    Chamber,
    /// The chamber's short code, e.g. `SCCI`.
    ChamberCode,
    /// The day the directory was published.
    Published,
    /// The members (JSON only: the array).
    Members,
}

impl HeaderField {
    /// Every header field.
    pub const ALL: [Self; 4] = [
        Self::Chamber,
        Self::ChamberCode,
        Self::Published,
        Self::Members,
    ];

    /// The key names the field is accepted under, normalised; the first is its own name.
    #[must_use]
    pub const fn names(self) -> &'static [&'static str] {
        match self {
            Self::Chamber => &["chamber", "chamber_name"],
            Self::ChamberCode => &["chamber_code", "code"],
            Self::Published => &["published", "published_on", "publication_date", "as_of"],
            Self::Members => &["members"],
        }
    }

    /// The field's own name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.names()[0]
    }

    /// The header field a key names, if any.
    #[must_use]
    pub fn of_key(key: &str) -> Option<Self> {
        let key = normalise_key(key);
        Self::ALL
            .into_iter()
            .find(|f| f.names().contains(&key.as_str()))
    }
}

/// A key as compared with the accepted names: trimmed, lower case, with spaces, hyphens
/// and dots turned into single underscores, so that `Membership No.`, `membership-no` and
/// `MEMBERSHIP_NO` are all `membership_no`.
#[must_use]
pub fn normalise_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.trim().chars() {
        let c = match c {
            ' ' | '\t' | '-' | '.' | '_' => '_',
            c => c.to_ascii_lowercase(),
        };
        if c != '_' || !out.ends_with('_') {
            out.push(c);
        }
    }
    out.trim_matches('_').to_owned()
}

/// Text as the records take it: trimmed, with runs of whitespace (line breaks included)
/// collapsed into one space; `None` when nothing is left.
#[must_use]
pub fn clean_text(text: &str) -> Option<String> {
    let cleaned = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!cleaned.is_empty()).then_some(cleaned)
}

/// The directory's own fields as read, before checking: raw text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The chamber's name as written.
    pub chamber: Option<String>,
    /// The chamber's code as written.
    pub chamber_code: Option<String>,
    /// The publication date as written.
    pub published: Option<String>,
}

impl Header {
    /// Records a header value under `field`; the first non-empty value of a field wins.
    pub fn set(&mut self, field: HeaderField, text: &str) {
        let slot = match field {
            HeaderField::Chamber => &mut self.chamber,
            HeaderField::ChamberCode => &mut self.chamber_code,
            HeaderField::Published => &mut self.published,
            HeaderField::Members => return,
        };
        if slot.is_none() {
            *slot = clean_text(text);
        }
    }
}

/// A value of a member: the key it was written under (for row errors' column) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Value {
    key: String,
    text: String,
}

/// One member entry as read from either format, before it becomes records: the text of
/// each field it gives, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// The member's 1-based position among the directory's members: the row of its records.
    pub position: u64,
    values: [Option<Value>; Field::COUNT],
    /// Fields whose value has a shape no field can take (a JSON array or object), with the
    /// key as written.
    malformed: Vec<(Field, String)>,
    /// Keys that name no field, as written, each once.
    unknown: Vec<String>,
    /// Set when the entry is not a set of fields at all (a JSON member that is a string or
    /// a number).
    shapeless: bool,
}

impl Member {
    /// An empty member at `position`.
    #[must_use]
    pub fn new(position: u64) -> Self {
        Self {
            position,
            ..Self::default()
        }
    }

    /// An entry at `position` that is not a set of fields (e.g. a JSON string where an
    /// object is expected).
    #[must_use]
    pub fn shapeless(position: u64) -> Self {
        Self {
            shapeless: true,
            ..Self::new(position)
        }
    }

    /// Records the value `text` of `key`: the field the key names gets it unless an earlier
    /// key already gave it a value; a key naming no field is remembered as unknown. Empty
    /// text counts as no value.
    pub fn set(&mut self, key: &str, text: &str) {
        let Some(field) = Field::of_key(key) else {
            self.note_unknown(key);
            return;
        };
        let slot = &mut self.values[field.index()];
        if slot.is_none()
            && let Some(text) = clean_text(text)
        {
            *slot = Some(Value {
                key: key.trim().to_owned(),
                text,
            });
        }
    }

    /// Records that `key` holds a value of a shape no field takes (a list, a table).
    pub fn set_malformed(&mut self, key: &str) {
        match Field::of_key(key) {
            Some(field) => self.malformed.push((field, key.trim().to_owned())),
            None => self.note_unknown(key),
        }
    }

    fn note_unknown(&mut self, key: &str) {
        let key = key.trim();
        if !key.is_empty() && !self.unknown.iter().any(|k| k == key) {
            self.unknown.push(key.to_owned());
        }
    }

    /// The field's text (trimmed, whitespace collapsed), if the entry gives one.
    #[must_use]
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field.index()].as_ref().map(|v| v.text.as_str())
    }

    /// The key the field's value was written under, if the entry gives one.
    #[must_use]
    pub fn key(&self, field: Field) -> Option<&str> {
        self.values[field.index()].as_ref().map(|v| v.key.as_str())
    }

    /// The fields with a value of the wrong shape, with their keys as written.
    #[must_use]
    pub fn malformed(&self) -> &[(Field, String)] {
        &self.malformed
    }

    /// The keys that name no field, as written.
    #[must_use]
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown
    }

    /// Whether the entry is not a set of fields at all.
    #[must_use]
    pub fn is_shapeless(&self) -> bool {
        self.shapeless
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_compared_normalised() {
        let cases = [
            ("membership_no", Some(Field::MembershipNo)),
            ("Membership No.", Some(Field::MembershipNo)),
            ("MEMBER-NUMBER", Some(Field::MembershipNo)),
            ("NTN No", Some(Field::Ntn)),
            ("ntn_no", Some(Field::Ntn)),
            (" E-Mail ", Some(Field::Email)),
            ("Member Since", Some(Field::MemberSince)),
            ("fax", None),
            ("", None),
        ];
        for (key, expected) in cases {
            assert_eq!(Field::of_key(key), expected, "{key}");
        }
        assert_eq!(
            HeaderField::of_key("Chamber Code"),
            Some(HeaderField::ChamberCode)
        );
        assert_eq!(normalise_key("__a  b__"), "a_b");
    }

    #[test]
    fn every_field_is_named_once() {
        let mut names: Vec<&str> = Field::ALL.iter().flat_map(|f| f.names()).copied().collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for (i, field) in Field::ALL.into_iter().enumerate() {
            assert_eq!(field.index(), i);
            assert_eq!(Field::of_key(field.name()), Some(field));
        }
    }

    #[test]
    fn the_first_non_empty_value_wins() {
        let mut member = Member::new(1);
        member.set("member_no", "  ");
        member.set("Membership  No", " SCCI-1 \n 2 ");
        member.set("membership_no", "SCCI-9");
        member.set("fax", "x");
        member.set("fax", "y");
        member.set_malformed("ntn");
        assert_eq!(member.get(Field::MembershipNo), Some("SCCI-1 2"));
        assert_eq!(member.key(Field::MembershipNo), Some("Membership  No"));
        assert_eq!(member.unknown_keys(), ["fax"]);
        assert_eq!(member.malformed(), [(Field::Ntn, "ntn".to_owned())]);
        assert_eq!(member.get(Field::Ntn), None);
    }
}
