//! What a sheet's rows become: the targets, their fields and the vocabularies of their
//! closed fields.
//!
//! A sheet is read as one [`Target`]. Each target has a fixed list of fields, named
//! `group.field` (`firm.name`, `person.cnic`, `value.target`, …); a mapping file feeds them
//! from columns or constants, and without a mapping the synonym table
//! ([`super::synonyms::SYNONYMS`]) finds them. `firm.id.<scheme>` is open-ended: it gives the
//! firm an identifier of any scheme, `firm.id.source:cdi-survey-2023` included.

use std::fmt;

use hub_plugin_sdk::{
    IndicatorScope, Modality, NetworkKind, NetworkRole, OrganisationKind, OrganisationStatus, Sex,
    ValueType,
};

/// What the rows of a sheet become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A firm list or survey: organisations, their observations per period and a contact
    /// person. Alias `firm_observations`.
    Firms,
    /// An attendance sheet: persons, their firms and their participations in an event.
    /// Alias `attendance`.
    Participants,
    /// A list of training events, with their courses and providers.
    TrainingEvents,
    /// A results framework: baseline, target and actual values of indicators.
    IndicatorValues,
    /// A list of SME networks.
    Networks,
    /// The member firms of SME networks.
    NetworkMembers,
    /// A programme definition's partner agencies (a sheet or file named `agencies`).
    Agencies,
    /// A programme definition's programmes (a sheet or file named `programmes`).
    Programmes,
    /// A programme definition's clusters (a sheet or file named `clusters`).
    Clusters,
}

impl Target {
    /// Every target, in the order detection prefers them when two tie.
    pub const ALL: [Self; 9] = [
        Self::Firms,
        Self::Participants,
        Self::TrainingEvents,
        Self::IndicatorValues,
        Self::Networks,
        Self::NetworkMembers,
        Self::Agencies,
        Self::Programmes,
        Self::Clusters,
    ];

    /// The targets of a programme definition, in the order their sheets are read: an
    /// agency before the programme that names it, a programme before its clusters, and
    /// all of them before the other sheets of the workbook, which name the clusters.
    /// Without a mapping a sheet (or a CSV file) is read as one of them only when its
    /// name says so (`clusters`, `Programmes`, `agency`), since their headers (Name,
    /// Code, Description) could be anything's.
    pub const DEFINITIONS: [Self; 3] = [Self::Agencies, Self::Programmes, Self::Clusters];

    /// Where the target's sheets come in the reading order (see [`Self::DEFINITIONS`]).
    #[must_use]
    pub fn reading_order(self) -> usize {
        Self::DEFINITIONS
            .iter()
            .position(|t| *t == self)
            .unwrap_or(Self::DEFINITIONS.len())
    }

    /// The definition target a sheet or file is named after: `programmes`, `Programme`,
    /// `program`, `clusters`, `agencies`, `partner agencies`.
    #[must_use]
    pub fn named_by(name: &str) -> Option<Self> {
        match fold(name).as_str() {
            "agencies" | "agency" | "partner agencies" => Some(Self::Agencies),
            "programmes" | "programme" | "programs" | "program" => Some(Self::Programmes),
            "clusters" | "cluster" => Some(Self::Clusters),
            _ => None,
        }
    }

    /// The name used in mapping files, e.g. `training_events`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Firms => "firms",
            Self::Participants => "participants",
            Self::TrainingEvents => "training_events",
            Self::IndicatorValues => "indicator_values",
            Self::Networks => "networks",
            Self::NetworkMembers => "network_members",
            Self::Agencies => "agencies",
            Self::Programmes => "programmes",
            Self::Clusters => "clusters",
        }
    }

    /// The target of a name or alias (`firm_observations`, `attendance`), ignoring case,
    /// surrounding blanks and `-` for `_`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        match name.as_str() {
            "firm_observations" => Some(Self::Firms),
            "attendance" => Some(Self::Participants),
            _ => Self::ALL.into_iter().find(|t| t.name() == name),
        }
    }

    /// The field groups of the target, in the order fields are listed.
    fn groups(self) -> &'static [&'static [FieldSpec]] {
        match self {
            Self::Firms => &[FIRM, MEMBERSHIP, OBSERVATION, CONTACT],
            Self::Participants => &[PARTICIPANT, FIRM],
            Self::TrainingEvents => &[EVENT],
            Self::IndicatorValues => &[INDICATOR],
            Self::Networks => &[NETWORK],
            Self::NetworkMembers => &[NETWORK_REF, FIRM, MEMBER],
            Self::Agencies => &[AGENCY],
            Self::Programmes => &[PROGRAMME],
            Self::Clusters => &[CLUSTER],
        }
    }

    /// The target's fixed fields (without the open-ended `firm.id.<scheme>`).
    pub fn fields(self) -> impl Iterator<Item = &'static FieldSpec> {
        self.groups().iter().flat_map(|group| group.iter())
    }

    /// Whether the target takes the firm fields, `firm.id.<scheme>` included.
    #[must_use]
    pub fn has_firm(self) -> bool {
        matches!(
            self,
            Self::Firms | Self::Participants | Self::NetworkMembers
        )
    }

    /// The kind of value of the field `name` in this target, or `None` when the target
    /// has no such field.
    #[must_use]
    pub fn field(self, name: &str) -> Option<FieldKind> {
        if let Some(scheme) = name.strip_prefix(FIRM_ID_PREFIX) {
            return (self.has_firm() && !scheme.trim().is_empty()).then_some(FieldKind::Text);
        }
        self.fields().find(|f| f.name == name).map(|f| f.kind)
    }

    /// The names of the target's fields, for messages and the options schema.
    #[must_use]
    pub fn field_names(self) -> Vec<String> {
        let mut names: Vec<String> = self.fields().map(|f| f.name.to_owned()).collect();
        if self.has_firm() {
            names.push(format!("{FIRM_ID_PREFIX}<scheme>"));
        }
        names
    }

    /// What the target needs: each inner list is a set of alternatives of which at least
    /// one field must be mapped (to a column or a constant).
    #[must_use]
    pub fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            Self::Firms => &[&["firm.name"]],
            Self::Participants => &[
                &["person.name", "person.cnic"],
                &["event.source_key", "event.title"],
            ],
            Self::TrainingEvents => &[
                &["event.code", "event.source_key"],
                &["event.title", "course.title"],
            ],
            Self::IndicatorValues => &[
                &["indicator.code"],
                &[
                    "value.baseline",
                    "value.target",
                    "value.actual",
                    "value.value",
                ],
            ],
            Self::Networks => &[&["network.name"], &["network.kind"]],
            Self::NetworkMembers => &[&["network.name", "network.source_key"], &["firm.name"]],
            Self::Agencies => &[&["agency.name"]],
            Self::Programmes => &[&["programme.code"], &["programme.name"]],
            Self::Clusters => &[&["cluster.slug"], &["cluster.name"], &["cluster.sector"]],
        }
    }

    /// What a sheet of this target is, for messages: "a firm list".
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Firms => "a firm list",
            Self::Participants => "an attendance sheet",
            Self::TrainingEvents => "a list of training events",
            Self::IndicatorValues => "a results framework",
            Self::Networks => "a list of networks",
            Self::NetworkMembers => "a list of network members",
            Self::Agencies => "a list of partner agencies",
            Self::Programmes => "a list of programmes",
            Self::Clusters => "a list of clusters",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The prefix of the open-ended identifier fields: `firm.id.PK-NTN`,
/// `firm.id.source:cdi-survey-2023`.
pub const FIRM_ID_PREFIX: &str = "firm.id.";

/// A field of a target.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The field's name, e.g. `firm.name`.
    pub name: &'static str,
    /// The kind of value it takes.
    pub kind: FieldKind,
}

/// The kind of value a field takes, which says how a cell or constant is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text as written (trimmed).
    Text,
    /// Text that is personal data (names, CNICs, phone numbers, e-mail addresses).
    Personal,
    /// A whole number of 0 or more (a head count).
    Count,
    /// A year, 1000 to 9999.
    Year,
    /// A number (thousand separators, currency marks and percent signs allowed).
    Number,
    /// A date: a date cell, an Excel serial, `dd/mm/yyyy` or `yyyy-mm-dd`.
    Date,
    /// Yes or no.
    Bool,
    /// A word of a closed vocabulary.
    Choice(Vocabulary),
}

impl FieldKind {
    /// Whether the value is personal data.
    #[must_use]
    pub fn is_personal(self) -> bool {
        self == Self::Personal
    }
}

/// The closed vocabularies of the choice fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// [`OrganisationKind`].
    OrganisationKind,
    /// [`OrganisationStatus`].
    OrganisationStatus,
    /// [`Sex`].
    Sex,
    /// [`Modality`].
    Modality,
    /// [`NetworkKind`].
    NetworkKind,
    /// [`NetworkRole`].
    NetworkRole,
    /// [`IndicatorScope`].
    Scope,
    /// [`ValueType`].
    ValueType,
}

impl Vocabulary {
    /// The words accepted, for messages.
    #[must_use]
    pub const fn expected(self) -> &'static str {
        match self {
            Self::OrganisationKind => {
                "firm, bds_provider, association, chamber, agency, donor or training_provider"
            }
            Self::OrganisationStatus => "active, inactive, closed or unknown",
            Self::Sex => "female, male (F, M) or other",
            Self::Modality => "in-person, online or blended",
            Self::NetworkKind => "horizontal, vertical or export consortium",
            Self::NetworkRole => "lead or member",
            Self::Scope => "firm, cluster, programme or area",
            Self::ValueType => "baseline, target or actual",
        }
    }

    /// Whether `text` is a word of the vocabulary.
    #[must_use]
    pub fn accepts(self, text: &str) -> bool {
        match self {
            Self::OrganisationKind => organisation_kind(text).is_some(),
            Self::OrganisationStatus => organisation_status(text).is_some(),
            Self::Sex => sex(text).is_some(),
            Self::Modality => modality(text).is_some(),
            Self::NetworkKind => network_kind(text).is_some(),
            Self::NetworkRole => network_role(text).is_some(),
            Self::Scope => scope(text).is_some(),
            Self::ValueType => value_type(text).is_some(),
        }
    }
}

const fn text(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Text,
    }
}

const fn personal(name: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Personal,
    }
}

const fn of(name: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, kind }
}

const fn choice(name: &'static str, vocabulary: Vocabulary) -> FieldSpec {
    FieldSpec {
        name,
        kind: FieldKind::Choice(vocabulary),
    }
}

/// A firm (or another organisation): in firm lists, attendance sheets and member lists.
const FIRM: &[FieldSpec] = &[
    text("firm.source_key"),
    text("firm.name"),
    choice("firm.kind", Vocabulary::OrganisationKind),
    choice("firm.kind_without_id", Vocabulary::OrganisationKind),
    text("firm.legal_form"),
    text("firm.district"),
    text("firm.tehsil"),
    text("firm.address"),
    text("firm.website"),
    personal("firm.phone"),
    personal("firm.email"),
    text("firm.industry_code"),
    text("firm.industry_classification"),
    of("firm.founded_year", FieldKind::Year),
    of("firm.registered_on", FieldKind::Date),
    choice("firm.status", Vocabulary::OrganisationStatus),
    of("firm.observed_on", FieldKind::Date),
    text("firm.ntn"),
    text("firm.secp"),
    text("firm.strn"),
    text("firm.registry_unit"),
    text("firm.chamber_membership"),
    text("firm.cluster"),
    of("firm.employees_total", FieldKind::Count),
    of("firm.employees_female", FieldKind::Count),
];

/// The dates of a firm list's cluster memberships: with either, each cluster of
/// `firm.cluster` becomes a dated [`hub_plugin_sdk::ClusterMembership`].
const MEMBERSHIP: &[FieldSpec] = &[
    of("membership.valid_from", FieldKind::Date),
    of("membership.valid_to", FieldKind::Date),
];

/// A firm's figures for a period.
const OBSERVATION: &[FieldSpec] = &[
    text("observation.period"),
    of("observation.employees_total", FieldKind::Count),
    of("observation.employees_female", FieldKind::Count),
    of("observation.turnover_pkr", FieldKind::Number),
    of("observation.exports_usd", FieldKind::Number),
    text("observation.certifications"),
];

/// A firm's contact person.
const CONTACT: &[FieldSpec] = &[
    personal("contact.name"),
    personal("contact.phone"),
    personal("contact.email"),
    personal("contact.cnic"),
    choice("contact.sex", Vocabulary::Sex),
    text("contact.title"),
];

/// A participant of a training event, and the event itself when the sheet gives it (in
/// constants or cells above the header): then the sheet creates or finds its event.
const PARTICIPANT: &[FieldSpec] = &[
    text("event.source_key"),
    text("event.title"),
    of("event.start_date", FieldKind::Date),
    of("event.end_date", FieldKind::Date),
    text("event.venue"),
    text("event.venue_district"),
    text("event.cluster"),
    text("event.provider"),
    choice("event.modality", Vocabulary::Modality),
    text("participation.serial"),
    personal("person.name"),
    choice("person.sex", Vocabulary::Sex),
    personal("person.cnic"),
    personal("person.phone"),
    personal("person.email"),
    text("participation.role"),
    of("participation.attendance_pct", FieldKind::Number),
    of("participation.pre_score", FieldKind::Number),
    of("participation.post_score", FieldKind::Number),
    text("participation.certificate_number"),
    of("participation.completed", FieldKind::Bool),
];

/// A training event, its course and its provider.
const EVENT: &[FieldSpec] = &[
    text("event.code"),
    text("event.source_key"),
    text("event.title"),
    text("course.code"),
    text("course.title"),
    text("course.topic"),
    of("course.hours", FieldKind::Number),
    text("event.provider"),
    personal("event.trainers"),
    of("event.start_date", FieldKind::Date),
    of("event.end_date", FieldKind::Date),
    text("event.venue_district"),
    text("event.venue"),
    text("event.cluster"),
    choice("event.modality", Vocabulary::Modality),
];

/// An indicator value.
const INDICATOR: &[FieldSpec] = &[
    text("indicator.code"),
    text("indicator.name"),
    text("indicator.unit"),
    text("value.cluster"),
    text("value.programme"),
    text("value.area"),
    text("value.organisation_key"),
    choice("value.scope", Vocabulary::Scope),
    text("value.period"),
    of("value.year", FieldKind::Year),
    text("value.breakdown"),
    text("value.breakdown_value"),
    text("value.note"),
    of("value.baseline", FieldKind::Number),
    of("value.target", FieldKind::Number),
    of("value.actual", FieldKind::Number),
    of("value.value", FieldKind::Number),
    choice("value.value_type", Vocabulary::ValueType),
];

/// A network.
const NETWORK: &[FieldSpec] = &[
    text("network.source_key"),
    text("network.name"),
    choice("network.kind", Vocabulary::NetworkKind),
    text("network.cluster"),
    text("network.programme"),
    of("network.formed_on", FieldKind::Date),
    of("network.dissolved_on", FieldKind::Date),
    text("network.description"),
];

/// A partner agency of a programme definition.
const AGENCY: &[FieldSpec] = &[
    text("agency.name"),
    choice("agency.kind", Vocabulary::OrganisationKind),
    text("agency.iati"),
    text("agency.website"),
    text("agency.district"),
    text("agency.address"),
];

/// A programme: its agencies are named by name.
const PROGRAMME: &[FieldSpec] = &[
    text("programme.code"),
    text("programme.name"),
    text("programme.description"),
    of("programme.start_date", FieldKind::Date),
    of("programme.end_date", FieldKind::Date),
    text("programme.lead"),
    text("programme.technical_assistance"),
    text("programme.funder"),
];

/// A cluster: its districts, ISIC classes and basket are lists in one cell, separated by
/// commas, semicolons or line breaks.
const CLUSTER: &[FieldSpec] = &[
    text("cluster.slug"),
    text("cluster.name"),
    text("cluster.sector"),
    text("cluster.programme"),
    text("cluster.description"),
    text("cluster.districts"),
    text("cluster.isic_classes"),
    text("cluster.hs_revision"),
    text("cluster.hs_basket"),
];

/// The network a member row belongs to.
const NETWORK_REF: &[FieldSpec] = &[text("network.source_key"), text("network.name")];

/// A firm's membership of a network.
const MEMBER: &[FieldSpec] = &[
    choice("member.role", Vocabulary::NetworkRole),
    of("member.joined_on", FieldKind::Date),
    of("member.left_on", FieldKind::Date),
];

/// Folds text for comparison: lower case, every run of characters other than letters and
/// digits (spaces, punctuation, `#`, `%`, brackets) one space, trimmed. `"NTN No."` and
/// `"ntn  no"` fold alike, as do `"Annual Turnover (PKR)"` and `"annual turnover pkr"`.
///
/// Header names, the words of vocabularies and the names in built keys (`name:…`) are
/// compared folded.
#[must_use]
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// The kind of organisation a word names.
#[must_use]
pub fn organisation_kind(text: &str) -> Option<OrganisationKind> {
    Some(match fold(text).as_str() {
        "firm" | "company" | "enterprise" | "unit" | "sme" => OrganisationKind::Firm,
        "bds provider" | "bds" | "bdsp" | "business development services provider" => {
            OrganisationKind::BdsProvider
        }
        "association" | "trade association" | "industry association" => {
            OrganisationKind::Association
        }
        "chamber" | "chamber of commerce" | "chamber of commerce and industry" => {
            OrganisationKind::Chamber
        }
        "agency" | "government agency" | "government" => OrganisationKind::Agency,
        "donor" | "funder" => OrganisationKind::Donor,
        "training provider" | "training institute" => OrganisationKind::TrainingProvider,
        _ => return None,
    })
}

/// The status of an organisation a word names.
#[must_use]
pub fn organisation_status(text: &str) -> Option<OrganisationStatus> {
    Some(match fold(text).as_str() {
        "active" | "operational" | "working" | "functional" | "running" => {
            OrganisationStatus::Active
        }
        "closed" | "closed down" | "shut down" | "defunct" => OrganisationStatus::Closed,
        "inactive" | "non operational" | "not operational" | "dormant" | "suspended" => {
            OrganisationStatus::Inactive
        }
        "unknown" | "not known" | "n a" => OrganisationStatus::Unknown,
        _ => return None,
    })
}

/// A sex as sheets record it: `Female`, `F`, `Male`, `M`, …
#[must_use]
pub fn sex(text: &str) -> Option<Sex> {
    Some(match fold(text).as_str() {
        "f" | "female" | "woman" | "w" => Sex::Female,
        "m" | "male" | "man" => Sex::Male,
        "other" | "x" | "transgender" | "third gender" => Sex::Other,
        _ => return None,
    })
}

/// How a training was delivered.
#[must_use]
pub fn modality(text: &str) -> Option<Modality> {
    Some(match fold(text).as_str() {
        "in person" | "inperson" | "face to face" | "classroom" | "on site" | "onsite" => {
            Modality::InPerson
        }
        "online" | "virtual" | "remote" => Modality::Online,
        "blended" | "hybrid" | "mixed" => Modality::Blended,
        _ => return None,
    })
}

/// How a network is organised.
#[must_use]
pub fn network_kind(text: &str) -> Option<NetworkKind> {
    Some(match fold(text).as_str() {
        "horizontal" => NetworkKind::Horizontal,
        "vertical" => NetworkKind::Vertical,
        "export consortium" | "consortium" | "export group" => NetworkKind::ExportConsortium,
        _ => return None,
    })
}

/// A member's role in a network.
#[must_use]
pub fn network_role(text: &str) -> Option<NetworkRole> {
    Some(match fold(text).as_str() {
        "lead" | "lead firm" | "leader" => NetworkRole::Lead,
        "member" | "member firm" => NetworkRole::Member,
        _ => return None,
    })
}

/// What an indicator value is about.
#[must_use]
pub fn scope(text: &str) -> Option<IndicatorScope> {
    Some(match fold(text).as_str() {
        "firm" | "organisation" | "organization" => IndicatorScope::Firm,
        "cluster" => IndicatorScope::Cluster,
        "programme" | "program" => IndicatorScope::Programme,
        "area" | "district" | "province" => IndicatorScope::Area,
        _ => return None,
    })
}

/// Baseline, target or actual.
#[must_use]
pub fn value_type(text: &str) -> Option<ValueType> {
    Some(match fold(text).as_str() {
        "baseline" => ValueType::Baseline,
        "target" => ValueType::Target,
        "actual" | "achieved" | "achievement" => ValueType::Actual,
        _ => return None,
    })
}

/// Yes or no, as sheets write it.
#[must_use]
pub fn boolean(text: &str) -> Option<bool> {
    Some(match fold(text).as_str() {
        "yes" | "y" | "true" | "1" | "completed" | "complete" | "done" | "passed" => true,
        "no" | "n" | "false" | "0" | "not completed" | "incomplete" | "dropped out" | "dropped"
        | "failed" => false,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_spacing_and_punctuation() {
        let cases = [
            ("NTN No.", "ntn no"),
            ("  Annual Turnover (PKR) ", "annual turnover pkr"),
            ("S#", "s"),
            ("Attendance %", "attendance"),
            ("Pre-test", "pre test"),
            ("Firm / Organisation", "firm organisation"),
            ("E-mail", "e mail"),
            ("Café", "café"),
            ("", ""),
            ("#", ""),
        ];
        for (text, folded) in cases {
            assert_eq!(fold(text), folded, "{text}");
        }
    }

    #[test]
    fn targets_parse_with_aliases_and_know_their_fields() {
        assert_eq!(Target::parse("Firm_Observations"), Some(Target::Firms));
        assert_eq!(Target::parse("attendance"), Some(Target::Participants));
        assert_eq!(
            Target::parse("training-events"),
            Some(Target::TrainingEvents)
        );
        assert_eq!(Target::parse("firm"), None);
        assert_eq!(Target::Firms.field("firm.name"), Some(FieldKind::Text));
        assert_eq!(
            Target::Participants.field("firm.id.source:cdi-survey-2023"),
            Some(FieldKind::Text)
        );
        assert_eq!(Target::Networks.field("firm.id.PK-NTN"), None);
        assert_eq!(Target::Firms.field("firm.id."), None);
        assert_eq!(Target::Firms.field("person.name"), None);
        assert!(
            Target::Participants
                .field("person.cnic")
                .unwrap()
                .is_personal()
        );
        for target in Target::ALL {
            for alternatives in target.required() {
                for field in *alternatives {
                    assert!(target.field(field).is_some(), "{target}: {field}");
                }
            }
        }
    }

    #[test]
    fn vocabularies_read_the_words_sheets_use() {
        assert_eq!(sex(" F"), Some(Sex::Female));
        assert_eq!(sex("MALE"), Some(Sex::Male));
        assert_eq!(sex("x y"), None);
        assert_eq!(modality("in-person"), Some(Modality::InPerson));
        assert_eq!(
            network_kind("export consortium"),
            Some(NetworkKind::ExportConsortium)
        );
        assert_eq!(
            organisation_kind("training_provider"),
            Some(OrganisationKind::TrainingProvider)
        );
        assert_eq!(
            organisation_status("Active"),
            Some(OrganisationStatus::Active)
        );
        assert_eq!(value_type("Achieved"), Some(ValueType::Actual));
        assert_eq!(boolean("Yes"), Some(true));
        assert_eq!(boolean("maybe"), None);
        for vocabulary in [Vocabulary::Sex, Vocabulary::Scope] {
            assert!(!vocabulary.accepts("nonsense"));
        }
    }
}
