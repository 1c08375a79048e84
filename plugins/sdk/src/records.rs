//! The records importers emit: one type per kind of data of the unified model.
//!
//! # How to fill a record
//!
//! - **Give what the source gives.** Almost every field is an `Option`; leave out what the
//!   source does not say rather than inventing a default. The fields that are not optional
//!   are the ones the model cannot do without (a name, a key, a period): when the source
//!   lacks one, emit a [`RowError`](crate::RowError) with the code
//!   [`codes::MISSING_REQUIRED`](crate::codes::MISSING_REQUIRED) instead of the record.
//! - **Raw text where the hub knows the rules.** Identifiers, classification and commodity
//!   codes, periods, cluster slugs, district and tehsil names and country names are passed
//!   as the source wrote them (trimmed of surrounding blanks at most). The hub normalises,
//!   validates and matches them against its reference data, the same way for every source.
//! - **Typed values where only the importer knows the format.** Numbers, booleans and
//!   dates ([`Date`]) are converted by the importer, which knows whether `1.234` is a
//!   thousand or one and whether `03/04/2019` is day-first. A cell that does not convert
//!   becomes a row error ([`codes::INVALID_NUMBER`](crate::codes::INVALID_NUMBER),
//!   [`codes::INVALID_DATE`](crate::codes::INVALID_DATE)). Numbers must be finite.
//! - **Closed vocabularies are enums** (the kind of an organisation, a trade flow's
//!   direction, an indicator's value type): the importer maps the source's words onto them
//!   and reports words it cannot map as [`codes::UNKNOWN_CODE`](crate::codes::UNKNOWN_CODE).
//!
//! # Keys and references
//!
//! `source_key` is the record's key within its source: the source's own id when it has one
//! (a registry unit number, a survey's firm id), otherwise a key built from the fields that
//! identify the record (e.g. `EVT-7/P-1032` for a participation). It must be stable: a
//! re-import of the same file or of a later version of it gives each record the same key,
//! which is how the hub finds its own rows again instead of duplicating them. Keys are
//! unique per record kind within a source.
//!
//! Fields named `…_key` (`organisation_key`, `person_key`, `event_key`, …) refer to the
//! `source_key` of another record of the same source; the hub resolves them. The record
//! referred to must either be emitted **before** the record that refers to it (in the same
//! input, earlier in the stream: a participation after its event, person and organisation; a
//! network member after its network and firm) or exist from an earlier import of the same
//! source. The hub resolves references in stream order, so a reference it cannot resolve
//! that way is a row error with the code
//! [`codes::UNKNOWN_REFERENCE`](crate::codes::UNKNOWN_REFERENCE). Clusters are referred to
//! by slug (`sialkot-surgical`) and programmes by code.
//!
//! Records of **another source** are referred to through identifiers: an [`Organisation`]
//! may carry an [`IdentifierValue`] of scheme `source:<source-code>` whose value is that
//! source's `source_key` for the same organisation, and the hub links the two records to
//! one organisation. For example, an attendance sheet (source `cdi-training`) that cites
//! each participant's firm by the diagnostic survey's `Survey ID` gives the firm the
//! identifier `source:cdi-survey-2023` = `DS23-0001`, and the firm of the training record
//! is the survey's firm.
//!
//! # Personal data
//!
//! Person names, CNICs, phone numbers and e-mail addresses are personal data. They are typed
//! [`Personal`] (or, for identifiers, [`IdentifierValue`], whose `Debug` hides CNICs), so
//! that printing a record with `{:?}` does not leak them. `attributes` maps must never hold
//! personal values: put them in the typed fields or leave them out.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::values::{Date, IdentifierValue, Personal};

/// One record of the unified model, tagged on the wire by its kind:
/// `{"type":"organisation", "source_key": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A source record of a firm, agency, BDS provider, association, chamber or donor.
    Organisation(Organisation),
    /// A source record of a person: an owner, a trainee, a borrower, a contact.
    Person(Person),
    /// A person's role in an organisation.
    Affiliation(Affiliation),
    /// A firm's membership of a cluster, with dates.
    ClusterMembership(ClusterMembership),
    /// A firm's figures for one period: employment, turnover, exports, certifications.
    FirmObservation(FirmObservation),
    /// A network or consortium of SMEs.
    Network(Network),
    /// An organisation's membership of a network.
    NetworkMember(NetworkMember),
    /// A training course.
    Course(Course),
    /// One delivery of a course, or a training without a course.
    TrainingEvent(TrainingEvent),
    /// A person's participation in a training event.
    Participation(Participation),
    /// A baseline, target or actual value of an indicator.
    IndicatorValue(IndicatorValue),
    /// A small industrial estate of the Punjab Small Industries Corporation.
    IndustrialEstate(IndustrialEstate),
    /// A plot of an industrial estate and its allotment.
    PlotAllotment(PlotAllotment),
    /// A loan to a unit or its owner.
    Loan(Loan),
    /// A trade flow from trade statistics.
    TradeFlow(TradeFlow),
    /// An administrative area: province, division, district, tehsil.
    AdminArea(AdminArea),
    /// A cluster development programme and its partner agencies (SDK 0.1.2).
    Programme(Programme),
    /// A cluster: its districts, industry classes and HS product basket (SDK 0.1.2).
    Cluster(Cluster),
}

/// The kinds of [`Record`], as named in a manifest's `emits` and in the `type` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// [`Organisation`] records.
    Organisation,
    /// [`Person`] records.
    Person,
    /// [`Affiliation`] records.
    Affiliation,
    /// [`ClusterMembership`] records.
    ClusterMembership,
    /// [`FirmObservation`] records.
    FirmObservation,
    /// [`Network`] records.
    Network,
    /// [`NetworkMember`] records.
    NetworkMember,
    /// [`Course`] records.
    Course,
    /// [`TrainingEvent`] records.
    TrainingEvent,
    /// [`Participation`] records.
    Participation,
    /// [`IndicatorValue`] records.
    IndicatorValue,
    /// [`IndustrialEstate`] records.
    IndustrialEstate,
    /// [`PlotAllotment`] records.
    PlotAllotment,
    /// [`Loan`] records.
    Loan,
    /// [`TradeFlow`] records.
    TradeFlow,
    /// [`AdminArea`] records.
    AdminArea,
    /// [`Programme`] records.
    Programme,
    /// [`Cluster`] records.
    Cluster,
}

impl RecordKind {
    /// Every kind, in the order of the [`Record`] variants.
    pub const ALL: [Self; 18] = [
        Self::Organisation,
        Self::Person,
        Self::Affiliation,
        Self::ClusterMembership,
        Self::FirmObservation,
        Self::Network,
        Self::NetworkMember,
        Self::Course,
        Self::TrainingEvent,
        Self::Participation,
        Self::IndicatorValue,
        Self::IndustrialEstate,
        Self::PlotAllotment,
        Self::Loan,
        Self::TradeFlow,
        Self::AdminArea,
        Self::Programme,
        Self::Cluster,
    ];

    /// The stable name of the kind, as written in the `type` tag of a record and in a
    /// manifest, e.g. `training_event`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Person => "person",
            Self::Affiliation => "affiliation",
            Self::ClusterMembership => "cluster_membership",
            Self::FirmObservation => "firm_observation",
            Self::Network => "network",
            Self::NetworkMember => "network_member",
            Self::Course => "course",
            Self::TrainingEvent => "training_event",
            Self::Participation => "participation",
            Self::IndicatorValue => "indicator_value",
            Self::IndustrialEstate => "industrial_estate",
            Self::PlotAllotment => "plot_allotment",
            Self::Loan => "loan",
            Self::TradeFlow => "trade_flow",
            Self::AdminArea => "admin_area",
            Self::Programme => "programme",
            Self::Cluster => "cluster",
        }
    }

    /// The kind with the given stable name, or `None` for a name no kind has.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Record {
    /// The kind of this record.
    #[must_use]
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Organisation(_) => RecordKind::Organisation,
            Self::Person(_) => RecordKind::Person,
            Self::Affiliation(_) => RecordKind::Affiliation,
            Self::ClusterMembership(_) => RecordKind::ClusterMembership,
            Self::FirmObservation(_) => RecordKind::FirmObservation,
            Self::Network(_) => RecordKind::Network,
            Self::NetworkMember(_) => RecordKind::NetworkMember,
            Self::Course(_) => RecordKind::Course,
            Self::TrainingEvent(_) => RecordKind::TrainingEvent,
            Self::Participation(_) => RecordKind::Participation,
            Self::IndicatorValue(_) => RecordKind::IndicatorValue,
            Self::IndustrialEstate(_) => RecordKind::IndustrialEstate,
            Self::PlotAllotment(_) => RecordKind::PlotAllotment,
            Self::Loan(_) => RecordKind::Loan,
            Self::TradeFlow(_) => RecordKind::TradeFlow,
            Self::AdminArea(_) => RecordKind::AdminArea,
            Self::Programme(_) => RecordKind::Programme,
            Self::Cluster(_) => RecordKind::Cluster,
        }
    }

    /// The record's key within its source, for the kinds that have one. Firm observations
    /// are identified by organisation and period, trade flows by their dimensions and
    /// admin areas by level, name and parent, so they have none. A programme's key is its
    /// code and a cluster's its slug, which identify them in every source.
    #[must_use]
    pub fn source_key(&self) -> Option<&str> {
        match self {
            Self::Organisation(r) => Some(&r.source_key),
            Self::Person(r) => Some(&r.source_key),
            Self::Affiliation(r) => Some(&r.source_key),
            Self::ClusterMembership(r) => Some(&r.source_key),
            Self::Network(r) => Some(&r.source_key),
            Self::NetworkMember(r) => Some(&r.source_key),
            Self::Course(r) => Some(&r.source_key),
            Self::TrainingEvent(r) => Some(&r.source_key),
            Self::Participation(r) => Some(&r.source_key),
            Self::IndicatorValue(r) => Some(&r.source_key),
            Self::IndustrialEstate(r) => Some(&r.source_key),
            Self::PlotAllotment(r) => Some(&r.source_key),
            Self::Loan(r) => Some(&r.source_key),
            Self::Programme(r) => Some(&r.code),
            Self::Cluster(r) => Some(&r.slug),
            Self::FirmObservation(_) | Self::TradeFlow(_) | Self::AdminArea(_) => None,
        }
    }
}

impl Record {
    /// Every key field of the record, its own `source_key` and the `…_key` fields naming
    /// other records of the source, for code that rewrites keys (the hub digests keys made
    /// with [`crate::keys::personal_key`]). A programme's code and a cluster's slug are
    /// names, not keys, and are not listed.
    pub fn keys_mut(&mut self) -> Vec<&mut String> {
        fn some<'a>(keys: &mut Vec<&'a mut String>, key: &'a mut Option<String>) {
            if let Some(k) = key {
                keys.push(k);
            }
        }
        // No allocation for the kinds without keys (trade flows: millions a file).
        let mut keys: Vec<&mut String> = Vec::new();
        match self {
            Self::Organisation(r) => keys.push(&mut r.source_key),
            Self::Person(r) => keys.push(&mut r.source_key),
            Self::Affiliation(r) => {
                keys.extend([
                    &mut r.source_key,
                    &mut r.person_key,
                    &mut r.organisation_key,
                ]);
            }
            Self::ClusterMembership(r) => {
                keys.extend([&mut r.source_key, &mut r.organisation_key]);
            }
            Self::FirmObservation(r) => keys.push(&mut r.organisation_key),
            Self::Network(r) => {
                keys.push(&mut r.source_key);
                some(&mut keys, &mut r.lead_organisation_key);
            }
            Self::NetworkMember(r) => {
                keys.extend([
                    &mut r.source_key,
                    &mut r.network_key,
                    &mut r.organisation_key,
                ]);
            }
            Self::Course(r) => {
                keys.push(&mut r.source_key);
                some(&mut keys, &mut r.provider_organisation_key);
            }
            Self::TrainingEvent(r) => {
                keys.push(&mut r.source_key);
                some(&mut keys, &mut r.course_key);
                some(&mut keys, &mut r.provider_organisation_key);
            }
            Self::Participation(r) => {
                keys.extend([&mut r.source_key, &mut r.event_key]);
                some(&mut keys, &mut r.person_key);
                some(&mut keys, &mut r.organisation_key);
            }
            Self::IndicatorValue(r) => {
                keys.push(&mut r.source_key);
                some(&mut keys, &mut r.organisation_key);
            }
            Self::IndustrialEstate(r) => keys.push(&mut r.source_key),
            Self::PlotAllotment(r) => {
                keys.extend([&mut r.source_key, &mut r.estate_key]);
                some(&mut keys, &mut r.organisation_key);
            }
            Self::Loan(r) => {
                keys.push(&mut r.source_key);
                some(&mut keys, &mut r.borrower_person_key);
                some(&mut keys, &mut r.organisation_key);
            }
            Self::Programme(r) => {
                some(&mut keys, &mut r.lead_organisation_key);
                some(&mut keys, &mut r.technical_assistance_organisation_key);
                some(&mut keys, &mut r.funder_organisation_key);
            }
            Self::TradeFlow(_) | Self::AdminArea(_) | Self::Cluster(_) => {}
        }
        keys
    }
}

/// A type of record: one of [`Record`]'s variants, so that code reading records can ask for
/// one type, e.g. `item.as_record::<TradeFlow>()`.
pub trait RecordType: Into<Record> {
    /// The record, when it is of this type.
    fn of(record: &Record) -> Option<&Self>;
}

/// `From<SomeRecord> for Record` for every record type, so that `record.into()` works
/// wherever a [`Record`] is expected, and [`RecordType`] to get it back.
macro_rules! into_record {
    ($($ty:ident),* $(,)?) => {
        $(impl From<$ty> for Record {
            fn from(record: $ty) -> Self {
                Self::$ty(record)
            }
        }

        impl RecordType for $ty {
            fn of(record: &Record) -> Option<&Self> {
                match record {
                    Record::$ty(inner) => Some(inner),
                    _ => None,
                }
            }
        })*
    };
}

into_record!(
    Organisation,
    Person,
    Affiliation,
    ClusterMembership,
    FirmObservation,
    Network,
    NetworkMember,
    Course,
    TrainingEvent,
    Participation,
    IndicatorValue,
    IndustrialEstate,
    PlotAllotment,
    Loan,
    TradeFlow,
    AdminArea,
    Programme,
    Cluster,
);

// ---- Vocabularies ----------------------------------------------------------------------

/// What kind of organisation a source record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A firm (an SME unit, a manufacturer, an exporter).
    Firm,
    /// A business development services provider.
    BdsProvider,
    /// A trade or industry association.
    Association,
    /// A chamber of commerce and industry.
    Chamber,
    /// A government or international agency.
    Agency,
    /// A donor or funder.
    Donor,
    /// A training provider.
    TrainingProvider,
}

/// Whether an organisation is operating, as the source says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationStatus {
    /// Operating.
    Active,
    /// Closed down for good.
    Closed,
    /// Not operating at present.
    Inactive,
    /// The source has a status column but it says the status is not known.
    Unknown,
}

/// A person's sex as recorded by the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Another sex or gender the source records.
    Other,
}

/// A person's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AffiliationRole {
    /// An owner or proprietor.
    Owner,
    /// An employee.
    Staff,
    /// A contact person.
    Contact,
    /// The person who borrowed on the organisation's behalf.
    Borrower,
    /// A trainer working for the organisation.
    Trainer,
}

/// How a network of SMEs is organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    /// Firms making the same kind of product.
    Horizontal,
    /// Firms along one value chain.
    Vertical,
    /// Firms exporting together.
    ExportConsortium,
}

/// An organisation's role in a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkRole {
    /// The lead firm.
    Lead,
    /// A member.
    Member,
}

/// How a training event was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// In a room.
    InPerson,
    /// Online.
    Online,
    /// Partly in a room, partly online.
    Blended,
}

/// What an indicator value is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorScope {
    /// One firm (`organisation_key`).
    Firm,
    /// One cluster (`cluster`).
    Cluster,
    /// A whole programme (`programme`).
    Programme,
    /// An administrative area (`area`).
    Area,
}

/// Whether an indicator value is a baseline, a target or an achieved value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// The value before the intervention, usually from the diagnostic study.
    Baseline,
    /// The value aimed at for the period.
    Target,
    /// The value achieved in the period.
    Actual,
}

/// The state of a plot's allotment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllotmentStatus {
    /// Allotted to a unit.
    Allotted,
    /// The allotment was cancelled.
    Cancelled,
    /// Not allotted.
    Vacant,
}

/// The direction of a trade flow, seen from the reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Imports (Comtrade flow code 1, `M`).
    Import,
    /// Exports (Comtrade flow code 2, `X`).
    Export,
    /// Re-exports (Comtrade flow code 3, `RX`).
    ReExport,
    /// Re-imports (Comtrade flow code 4, `RM`).
    ReImport,
}

/// A reporter or partner of a trade flow, as the source names it, with how it names it.
///
/// The hub maps all three to a country keyed by ISO3. Comtrade area codes are kept apart
/// from M49 on purpose: they differ for the USA (842, M49 840), France, India, Switzerland
/// and Norway, and mapping them as M49 would mislabel the clusters' largest markets.
/// On the wire: `{"scheme":"comtrade_code","value":"842"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "scheme",
    content = "value",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum TradeArea {
    /// A UN Comtrade area code as written, e.g. `586` (Pakistan), `0` (World).
    ComtradeCode(String),
    /// An ISO 3166-1 alpha-3 code or a publisher's three-letter area code such as WITS's
    /// `WLD` (World).
    Iso3(String),
    /// A country or area name, as in the Pakistan Bureau of Statistics' tables.
    Name(String),
}

/// A level of the administrative tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminLevel {
    /// A country.
    Country,
    /// A province, such as Punjab.
    Province,
    /// A division, such as Gujranwala.
    Division,
    /// A district, such as Sialkot.
    District,
    /// A tehsil, a subdivision of a district.
    Tehsil,
}

// ---- Organisations and persons ---------------------------------------------------------

/// A source record of an organisation: a firm, agency, BDS provider, association, chamber,
/// donor or training provider, exactly as one source describes it.
///
/// The hub keeps it as a source record and links it to a unified organisation by strong
/// identifiers (NTN, SECP number, registry unit number) or, above a strict score, by name
/// and place. A CNIC in `identifiers` (a sole proprietor's) identifies the owner, not the
/// firm, and never links two units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// The record's stable key within its source.
    pub source_key: String,
    /// What kind of organisation this is.
    pub kind: OrganisationKind,
    /// The name as written in the source.
    pub name: String,
    /// The legal form as written, e.g. `Sole proprietorship`, `(Pvt.) Ltd.`.
    pub legal_form: Option<String>,
    /// The district name as written; the hub matches it (synonyms, misspellings).
    pub district: Option<String>,
    /// The tehsil name as written; the hub matches it within the district.
    pub tehsil: Option<String>,
    /// The postal address as written.
    pub address: Option<String>,
    /// The organisation's website, as written (SDK 0.1.1).
    #[serde(default)]
    pub website: Option<String>,
    /// The organisation's phone number: personal data when the firm is one person.
    pub phone: Option<Personal>,
    /// The organisation's e-mail address: personal data when the firm is one person.
    pub email: Option<Personal>,
    /// The industry code as written, e.g. `3250` or `32501`.
    pub industry_code: Option<String>,
    /// The classification of `industry_code`, e.g. `ISIC-R4` or `PK-PSIC-R4` (never a bare
    /// "PSIC", which could mean the corporation).
    pub industry_classification: Option<String>,
    /// The year the organisation was founded.
    pub founded_year: Option<i32>,
    /// The number of employees, all sexes.
    pub employees_total: Option<u32>,
    /// The number of female employees.
    pub employees_female: Option<u32>,
    /// The date of registration with the source (e.g. the registry).
    pub registered_on: Option<Date>,
    /// Whether the organisation operates, as the source says.
    pub status: Option<OrganisationStatus>,
    /// When the source said all this (a survey date, a registry extract date). Within one
    /// source, a newer observation beats an older one.
    pub observed_on: Option<Date>,
    /// Identifiers as written, with their schemes. The hub validates them; CNIC values are
    /// hashed by the hub and must never be logged by the plugin.
    #[serde(default)]
    pub identifiers: Vec<IdentifierValue>,
    /// Slugs of the clusters the source places the organisation in, e.g.
    /// `sialkot-surgical`.
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Everything else the source says, under the source's own names (never personal
    /// values).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Organisation {
    /// An organisation record with the required fields and nothing else.
    pub fn new(
        source_key: impl Into<String>,
        kind: OrganisationKind,
        name: impl Into<String>,
    ) -> Self {
        Self {
            source_key: source_key.into(),
            kind,
            name: name.into(),
            legal_form: None,
            district: None,
            tehsil: None,
            address: None,
            website: None,
            phone: None,
            email: None,
            industry_code: None,
            industry_classification: None,
            founded_year: None,
            employees_total: None,
            employees_female: None,
            registered_on: None,
            status: None,
            observed_on: None,
            identifiers: Vec::new(),
            clusters: Vec::new(),
            attributes: Map::new(),
        }
    }
}

/// A source record of a person: an owner, a trainee, a trainer, a borrower, a contact.
///
/// Everything here except the district and dates is personal data: the hub shows it only
/// to readers with the `pii` scope, stores the CNIC only as a keyed hash and its last four
/// digits, and can erase the person. Plugins must never log these values or put them in
/// messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The record's stable key within its source. Do not use the CNIC or a phone number
    /// as the key: keys are stored in clear.
    pub source_key: String,
    /// The full name as written.
    pub full_name: Option<Personal>,
    /// The sex as recorded.
    pub sex: Option<Sex>,
    /// The year of birth.
    pub birth_year: Option<i32>,
    /// The CNIC as written; the hub validates and hashes it.
    pub cnic: Option<Personal>,
    /// The phone number as written.
    pub phone: Option<Personal>,
    /// The e-mail address as written.
    pub email: Option<Personal>,
    /// The district of residence as written.
    pub district: Option<String>,
    /// When the source said this.
    pub observed_on: Option<Date>,
    /// Anything else the source says that is not personal data.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Person {
    /// A person record with only its key.
    pub fn new(source_key: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            full_name: None,
            sex: None,
            birth_year: None,
            cnic: None,
            phone: None,
            email: None,
            district: None,
            observed_on: None,
            attributes: Map::new(),
        }
    }
}

/// A person's role in an organisation: owner, staff, contact, borrower, trainer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Affiliation {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The `source_key` of the [`Person`].
    pub person_key: String,
    /// The `source_key` of the [`Organisation`].
    pub organisation_key: String,
    /// The person's role.
    pub role: AffiliationRole,
    /// A job title as written, e.g. `Production Manager`.
    pub title: Option<String>,
    /// Since when the role holds.
    pub valid_from: Option<Date>,
    /// Until when the role held.
    pub valid_to: Option<Date>,
}

impl Affiliation {
    /// An affiliation with the required fields.
    pub fn new(
        source_key: impl Into<String>,
        person_key: impl Into<String>,
        organisation_key: impl Into<String>,
        role: AffiliationRole,
    ) -> Self {
        Self {
            source_key: source_key.into(),
            person_key: person_key.into(),
            organisation_key: organisation_key.into(),
            role,
            title: None,
            valid_from: None,
            valid_to: None,
        }
    }
}

// ---- Clusters and firms ----------------------------------------------------------------

/// A firm's membership of a cluster over a time span. Use it when the source dates the
/// membership; an undated membership can be given as [`Organisation::clusters`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterMembership {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The cluster's slug, e.g. `lahore-auto-parts`.
    pub cluster: String,
    /// The `source_key` of the [`Organisation`].
    pub organisation_key: String,
    /// Since when the firm belongs to the cluster.
    pub valid_from: Option<Date>,
    /// Until when it belonged.
    pub valid_to: Option<Date>,
}

impl ClusterMembership {
    /// An undated membership.
    pub fn new(
        source_key: impl Into<String>,
        cluster: impl Into<String>,
        organisation_key: impl Into<String>,
    ) -> Self {
        Self {
            source_key: source_key.into(),
            cluster: cluster.into(),
            organisation_key: organisation_key.into(),
            valid_from: None,
            valid_to: None,
        }
    }
}

/// A firm's figures for one period, as a survey or a diagnostic study reports them.
///
/// It is identified by the organisation and the period: a second observation of the same
/// firm and period from the same source replaces the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmObservation {
    /// The `source_key` of the [`Organisation`].
    pub organisation_key: String,
    /// The period as written: `2023`, `2023-Q1`, `2017-03`, `FY2017-18`. Write the canonical
    /// form when the column's kind of period is known: the hub refuses ambiguous forms such
    /// as `2011-12` (December 2011 or the fiscal year 2011-12?).
    pub period: String,
    /// The number of employees, all sexes.
    pub employees_total: Option<u32>,
    /// The number of female employees.
    pub employees_female: Option<u32>,
    /// Turnover in Pakistani rupees.
    pub turnover_pkr: Option<f64>,
    /// Exports in US dollars.
    pub exports_usd: Option<f64>,
    /// Certifications held, as written, e.g. `ISO 13485`, `CE`.
    #[serde(default)]
    pub certifications: Vec<String>,
}

impl FirmObservation {
    /// An observation with no figures yet.
    pub fn new(organisation_key: impl Into<String>, period: impl Into<String>) -> Self {
        Self {
            organisation_key: organisation_key.into(),
            period: period.into(),
            employees_total: None,
            employees_female: None,
            turnover_pkr: None,
            exports_usd: None,
            certifications: Vec::new(),
        }
    }
}

// ---- Networks --------------------------------------------------------------------------

/// A network or consortium of SMEs formed in a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The network's name.
    pub name: String,
    /// How the network is organised.
    pub kind: NetworkKind,
    /// The cluster's slug.
    pub cluster: Option<String>,
    /// The programme's code.
    pub programme: Option<String>,
    /// The `source_key` of the lead [`Organisation`].
    pub lead_organisation_key: Option<String>,
    /// When the network was formed.
    pub formed_on: Option<Date>,
    /// When it was dissolved.
    pub dissolved_on: Option<Date>,
    /// A description as written.
    pub description: Option<String>,
}

impl Network {
    /// A network with the required fields.
    pub fn new(source_key: impl Into<String>, name: impl Into<String>, kind: NetworkKind) -> Self {
        Self {
            source_key: source_key.into(),
            name: name.into(),
            kind,
            cluster: None,
            programme: None,
            lead_organisation_key: None,
            formed_on: None,
            dissolved_on: None,
            description: None,
        }
    }
}

/// An organisation's membership of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkMember {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The `source_key` of the [`Network`].
    pub network_key: String,
    /// The `source_key` of the member [`Organisation`].
    pub organisation_key: String,
    /// The member's role; the hub assumes [`NetworkRole::Member`] when absent.
    pub role: Option<NetworkRole>,
    /// When the organisation joined.
    pub joined_on: Option<Date>,
    /// When it left.
    pub left_on: Option<Date>,
}

impl NetworkMember {
    /// A membership with the required fields.
    pub fn new(
        source_key: impl Into<String>,
        network_key: impl Into<String>,
        organisation_key: impl Into<String>,
    ) -> Self {
        Self {
            source_key: source_key.into(),
            network_key: network_key.into(),
            organisation_key: organisation_key.into(),
            role: None,
            joined_on: None,
            left_on: None,
        }
    }
}

// ---- Training --------------------------------------------------------------------------

/// A training course, delivered in one or more [`TrainingEvent`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The course's code as written.
    pub code: Option<String>,
    /// The course's title.
    pub title: String,
    /// The topic, e.g. `lean manufacturing`.
    pub topic: Option<String>,
    /// The length in hours.
    pub hours: Option<f64>,
    /// The `source_key` of the providing [`Organisation`].
    pub provider_organisation_key: Option<String>,
}

impl Course {
    /// A course with only its key and title.
    pub fn new(source_key: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            code: None,
            title: title.into(),
            topic: None,
            hours: None,
            provider_organisation_key: None,
        }
    }
}

/// One delivery of a training: dates, place, provider, trainers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingEvent {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The `source_key` of the [`Course`] delivered, if any.
    pub course_key: Option<String>,
    /// The event's code as written.
    pub code: Option<String>,
    /// The event's title.
    pub title: String,
    /// The `source_key` of the providing [`Organisation`].
    pub provider_organisation_key: Option<String>,
    /// The trainers' names: personal data.
    #[serde(default)]
    pub trainers: Vec<Personal>,
    /// The first day.
    pub start_date: Option<Date>,
    /// The last day.
    pub end_date: Option<Date>,
    /// The district of the venue as written.
    pub venue_district: Option<String>,
    /// The venue as written.
    pub venue: Option<String>,
    /// The cluster's slug.
    pub cluster: Option<String>,
    /// How the training was delivered.
    pub modality: Option<Modality>,
}

impl TrainingEvent {
    /// A training event with only its key and title.
    pub fn new(source_key: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            course_key: None,
            code: None,
            title: title.into(),
            provider_organisation_key: None,
            trainers: Vec::new(),
            start_date: None,
            end_date: None,
            venue_district: None,
            venue: None,
            cluster: None,
            modality: None,
        }
    }
}

/// A person's participation in a training event, as an attendance sheet records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participation {
    /// The record's stable key within its source, e.g. `{event}/{person}`.
    pub source_key: String,
    /// The `source_key` of the [`TrainingEvent`].
    pub event_key: String,
    /// The `source_key` of the [`Person`], when the sheet names the participant.
    pub person_key: Option<String>,
    /// The `source_key` of the [`Organisation`] the participant came from at the time: a
    /// firm, or an agency or BDS provider when staff were trained.
    pub organisation_key: Option<String>,
    /// The participant's role as written, e.g. `owner`, `supervisor`, `cluster team`.
    pub role: Option<String>,
    /// The participant's sex as recorded on the sheet (it feeds the "trained by sex"
    /// indicators even when no person record is kept).
    pub sex: Option<Sex>,
    /// Attendance in percent, 0 to 100.
    pub attendance_pct: Option<f64>,
    /// The pre-test score.
    pub pre_score: Option<f64>,
    /// The post-test score.
    pub post_score: Option<f64>,
    /// Whether the participant completed the training.
    pub completed: Option<bool>,
    /// The certificate's number as written.
    pub certificate_number: Option<String>,
}

impl Participation {
    /// A participation with only its key and event.
    pub fn new(source_key: impl Into<String>, event_key: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            event_key: event_key.into(),
            person_key: None,
            organisation_key: None,
            role: None,
            sex: None,
            attendance_pct: None,
            pre_score: None,
            post_score: None,
            completed: None,
            certificate_number: None,
        }
    }
}

// ---- Indicators ------------------------------------------------------------------------

/// A baseline, target or actual value of an indicator for one period and scope.
///
/// The scope says which of `organisation_key`, `cluster`, `programme` and `area` names what
/// the value is about; the hub checks that it is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValue {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The indicator's code, e.g. `firms_supported`.
    pub indicator: String,
    /// What the value is about.
    pub scope: IndicatorScope,
    /// The `source_key` of the [`Organisation`], for firm scope.
    pub organisation_key: Option<String>,
    /// The cluster's slug, for cluster scope (and optionally to place a firm's value).
    pub cluster: Option<String>,
    /// The programme's code, for programme scope.
    pub programme: Option<String>,
    /// The admin area's name as written, for area scope.
    pub area: Option<String>,
    /// The period as written (see [`FirmObservation::period`]).
    pub period: String,
    /// Baseline, target or actual.
    pub value_type: ValueType,
    /// The value, in the indicator's unit.
    pub value: f64,
    /// The breakdown dimension, e.g. `sex`.
    pub breakdown: Option<String>,
    /// The breakdown's value, e.g. `female`.
    pub breakdown_value: Option<String>,
    /// A note as written.
    pub note: Option<String>,
    /// The indicator's name, e.g. `Firms receiving CDI support (cumulative)`. Together with
    /// `indicator_unit` it lets the hub create an indicator it does not know yet; without
    /// them an unknown indicator code is a row error. For a known indicator they are
    /// compared with what the hub holds and otherwise ignored.
    #[serde(default)]
    pub indicator_name: Option<String>,
    /// The indicator's unit as written, e.g. `firms`, `USD`, `jobs` (see `indicator_name`).
    #[serde(default)]
    pub indicator_unit: Option<String>,
}

impl IndicatorValue {
    /// A value without breakdown, note or indicator name and unit; set the field matching
    /// `scope`.
    pub fn new(
        source_key: impl Into<String>,
        indicator: impl Into<String>,
        scope: IndicatorScope,
        period: impl Into<String>,
        value_type: ValueType,
        value: f64,
    ) -> Self {
        Self {
            source_key: source_key.into(),
            indicator: indicator.into(),
            scope,
            organisation_key: None,
            cluster: None,
            programme: None,
            area: None,
            period: period.into(),
            value_type,
            value,
            breakdown: None,
            breakdown_value: None,
            note: None,
            indicator_name: None,
            indicator_unit: None,
        }
    }
}

// ---- Registry records of the Punjab Small Industries Corporation ------------------------

/// A small industrial estate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndustrialEstate {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The estate's name.
    pub name: String,
    /// The district name as written.
    pub district: Option<String>,
}

impl IndustrialEstate {
    /// An estate with its key and name.
    pub fn new(source_key: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            name: name.into(),
            district: None,
        }
    }
}

/// A plot of an industrial estate and its allotment. The hub creates the plot from the
/// estate and plot number the first time it sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlotAllotment {
    /// The record's stable key within its source.
    pub source_key: String,
    /// The `source_key` of the [`IndustrialEstate`].
    pub estate_key: String,
    /// The plot number as written.
    pub plot_number: String,
    /// The plot's area in square metres (convert kanal or marla in the importer).
    pub plot_area_sqm: Option<f64>,
    /// The state of the allotment.
    pub status: AllotmentStatus,
    /// The `source_key` of the allottee [`Organisation`].
    pub organisation_key: Option<String>,
    /// The allottee's registry unit number as written.
    pub unit_number: Option<String>,
    /// The date of allotment.
    pub allotted_on: Option<Date>,
}

impl PlotAllotment {
    /// An allotment with the required fields.
    pub fn new(
        source_key: impl Into<String>,
        estate_key: impl Into<String>,
        plot_number: impl Into<String>,
        status: AllotmentStatus,
    ) -> Self {
        Self {
            source_key: source_key.into(),
            estate_key: estate_key.into(),
            plot_number: plot_number.into(),
            plot_area_sqm: None,
            status,
            organisation_key: None,
            unit_number: None,
            allotted_on: None,
        }
    }
}

/// A loan under a scheme of the Punjab Small Industries Corporation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Loan {
    /// The record's stable key within its source, e.g. the loan case number.
    pub source_key: String,
    /// The loan scheme as written, e.g. `Cluster Development Loan`.
    pub scheme: String,
    /// The `source_key` of the borrowing [`Person`].
    pub borrower_person_key: Option<String>,
    /// The `source_key` of the borrowing unit's [`Organisation`].
    pub organisation_key: Option<String>,
    /// The unit's registry number as written.
    pub unit_number: Option<String>,
    /// The amount in Pakistani rupees.
    pub amount_pkr: Option<f64>,
    /// When the loan was sanctioned.
    pub sanctioned_on: Option<Date>,
    /// When it was disbursed.
    pub disbursed_on: Option<Date>,
    /// The district name as written.
    pub district: Option<String>,
    /// The loan's status as written, e.g. `disbursed`, `recovered`.
    pub status: Option<String>,
}

impl Loan {
    /// A loan with only its key and scheme.
    pub fn new(source_key: impl Into<String>, scheme: impl Into<String>) -> Self {
        Self {
            source_key: source_key.into(),
            scheme: scheme.into(),
            borrower_person_key: None,
            organisation_key: None,
            unit_number: None,
            amount_pkr: None,
            sanctioned_on: None,
            disbursed_on: None,
            district: None,
            status: None,
        }
    }
}

// ---- Trade -----------------------------------------------------------------------------

/// A trade flow from trade statistics (UN Comtrade, WITS/SDMX, the Pakistan Bureau of
/// Statistics).
///
/// It is identified by its dimensions (reporter, partner, flow, classification, commodity,
/// period, breakdown) together with the import's source: the same flow reported by Comtrade
/// and by WITS stays two flows, and aggregates never add them up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradeFlow {
    /// The reporting area.
    pub reporter: TradeArea,
    /// The partner area (World included).
    pub partner: TradeArea,
    /// The direction, seen from the reporter.
    pub flow: Flow,
    /// The classification as the source names it: `H5`, `S3`, `BEC`, `HS2017`, or a
    /// publisher's own commodity groups. The code is stored under it: not every file is HS.
    pub classification: String,
    /// The commodity code as written: `TOTAL`, `61`, `9018`, `870829`, a group code.
    pub commodity_code: String,
    /// The period as written (see [`FirmObservation::period`]); calendar and fiscal years
    /// stay different kinds of period.
    pub period: String,
    /// Further dimensions when the flow is not a total over them (second partner, customs
    /// procedure, mode of transport), by the source's dimension names. Empty for totals.
    #[serde(default)]
    pub breakdown: BTreeMap<String, String>,
    /// The value as the source gives it, before the unit multiplier.
    pub value: Option<f64>,
    /// The currency of `value`, e.g. `USD`, `PKR`.
    pub currency: Option<String>,
    /// The power of ten `value` is expressed in: the value is `value × 10^unit_multiplier`
    /// (3 for WITS's thousands of dollars, 6 for millions). Usually 0.
    #[serde(default)]
    pub unit_multiplier: i32,
    /// The value in plain US dollars, when the source states one besides a `value` in
    /// another currency (the bureau's tables give rupees and dollars). Leave it out when
    /// `currency` is `USD`: the hub derives it.
    pub value_usd: Option<f64>,
    /// The net weight in kilograms.
    pub net_weight_kg: Option<f64>,
    /// The quantity in `quantity_unit`.
    pub quantity: Option<f64>,
    /// The unit of `quantity` as written, e.g. `kg`, `u` (units), `pairs`.
    pub quantity_unit: Option<String>,
    /// Whether the source marks the value as estimated.
    #[serde(default)]
    pub is_value_estimated: bool,
    /// Whether the source marks the quantity as estimated.
    #[serde(default)]
    pub is_quantity_estimated: bool,
    /// Whether the source marks the net weight as estimated.
    #[serde(default)]
    pub is_net_weight_estimated: bool,
    /// Any other flags as written (e.g. Comtrade's `Flag` column, provisional marks).
    pub flags: Option<String>,
}

impl TradeFlow {
    /// A flow with its dimensions and no figures yet.
    pub fn new(
        reporter: TradeArea,
        partner: TradeArea,
        flow: Flow,
        classification: impl Into<String>,
        commodity_code: impl Into<String>,
        period: impl Into<String>,
    ) -> Self {
        Self {
            reporter,
            partner,
            flow,
            classification: classification.into(),
            commodity_code: commodity_code.into(),
            period: period.into(),
            breakdown: BTreeMap::new(),
            value: None,
            currency: None,
            unit_multiplier: 0,
            value_usd: None,
            net_weight_kg: None,
            quantity: None,
            quantity_unit: None,
            is_value_estimated: false,
            is_quantity_estimated: false,
            is_net_weight_estimated: false,
            flags: None,
        }
    }
}

// ---- Reference -------------------------------------------------------------------------

/// An administrative area, for importers of official lists of areas.
///
/// Areas are effective-dated (Punjab had 36 districts until 2022 and 41 since); an area
/// notified out of another names the area it was part of in `former_parent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminArea {
    /// The area's level.
    pub level: AdminLevel,
    /// The official name.
    pub name: String,
    /// The area it belongs to, one or more levels up.
    pub parent: Option<AdminAreaName>,
    /// The name of the area it was split from (same level as its parent).
    pub former_parent: Option<String>,
    /// An ISO 3166-2 code, e.g. `PK-PB`.
    pub iso_code: Option<String>,
    /// When the area came into being (its notification).
    pub valid_from: Option<Date>,
    /// When it ceased to exist.
    pub valid_to: Option<Date>,
    /// Other spellings the sources use, e.g. `D.G. Khan` for Dera Ghazi Khan.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// A note as written.
    pub notes: Option<String>,
}

/// An admin area named by level and name, as the parent of another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminAreaName {
    /// The level of the named area.
    pub level: AdminLevel,
    /// The name as written.
    pub name: String,
}

impl AdminArea {
    /// An area with only its level and name.
    pub fn new(level: AdminLevel, name: impl Into<String>) -> Self {
        Self {
            level,
            name: name.into(),
            parent: None,
            former_parent: None,
            iso_code: None,
            valid_from: None,
            valid_to: None,
            synonyms: Vec::new(),
            notes: None,
        }
    }
}

// ---- Programme definitions ---------------------------------------------------------------

/// A cluster development programme, such as the Punjab Industrial Cluster Development
/// Initiative: what the clusters, networks and indicators of a programme belong to.
///
/// Programmes and clusters are identified by their code and slug in **every** source: a
/// programme file imported again (or a later version of it, from any source) updates the
/// programme of that code. Its partner agencies are [`Organisation`] records of the same
/// source (kind `agency` or `donor`), emitted before the programme and referred to by
/// `source_key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    /// The programme's code, e.g. `punjab-cdi`: lower-case letters, digits and dashes.
    pub code: String,
    /// The programme's name.
    pub name: String,
    /// A description as written.
    pub description: Option<String>,
    /// When the programme started.
    pub start_date: Option<Date>,
    /// When it ends or ended.
    pub end_date: Option<Date>,
    /// The `source_key` of the lead (implementing) agency's [`Organisation`].
    pub lead_organisation_key: Option<String>,
    /// The `source_key` of the technical-assistance agency's [`Organisation`].
    pub technical_assistance_organisation_key: Option<String>,
    /// The `source_key` of the funder's [`Organisation`].
    pub funder_organisation_key: Option<String>,
}

impl Programme {
    /// A programme with the required fields.
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            name: name.into(),
            description: None,
            start_date: None,
            end_date: None,
            lead_organisation_key: None,
            technical_assistance_organisation_key: None,
            funder_organisation_key: None,
        }
    }
}

/// A cluster: firms of some industry classes in some districts, with the HS products its
/// exports are counted by.
///
/// Identified by its slug in every source (see [`Programme`]). A re-import replaces the
/// cluster's districts, ISIC classes and basket with the ones given: a district or code
/// left out of a later version leaves the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster's slug, e.g. `sialkot-surgical`: lower-case letters, digits and dashes.
    pub slug: String,
    /// The cluster's name.
    pub name: String,
    /// The sector, e.g. `Surgical and medical instruments`.
    pub sector: String,
    /// The code of the programme it belongs to, from this input or imported before.
    pub programme: Option<String>,
    /// A description as written.
    pub description: Option<String>,
    /// District names as written; the hub matches them like any district.
    #[serde(default)]
    pub districts: Vec<String>,
    /// ISIC Rev.4 classes (4 digits) the cluster's firms work in.
    #[serde(default)]
    pub isic_classes: Vec<String>,
    /// The HS revision the basket is written in, as written (`HS2017`, `H5`, `2017`);
    /// required with a basket.
    pub hs_revision: Option<String>,
    /// HS chapters, headings or subheadings of the cluster's products, as written.
    #[serde(default)]
    pub hs_basket: Vec<String>,
}

impl Cluster {
    /// A cluster with the required fields.
    pub fn new(
        slug: impl Into<String>,
        name: impl Into<String>,
        sector: impl Into<String>,
    ) -> Self {
        Self {
            slug: slug.into(),
            name: name.into(),
            sector: sector.into(),
            programme: None,
            description: None,
            districts: Vec::new(),
            isic_classes: Vec::new(),
            hs_revision: None,
            hs_basket: Vec::new(),
        }
    }
}
