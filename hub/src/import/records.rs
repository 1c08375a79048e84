//! Each record kind: how it is validated and what it writes.
//!
//! [`prepare`] turns an importer's record into a [`Prepared`] row: text trimmed, codes and
//! places resolved against the reference data, identifiers parsed (CNICs hashed at once),
//! and references to other records of the source kept as [`Ref`]s, resolved at apply time.

use chrono::NaiveDate;
use hub_plugin_sdk::{
    AffiliationRole, AllotmentStatus, IndicatorScope, Modality, NetworkKind, NetworkRole,
    OrganisationKind, OrganisationStatus, Record, RecordKind, Sex, SourceRef, ValueType, codes,
};
use hub_schema::domain::{IdentifierScheme, Period, PsicCode, normalise_name};
use sea_orm::{DbErr, QueryResult, Value};

use super::Issues;
use super::prepare::{Ctx, Ident, date, text, unique};
use super::report::Issue;
use super::unify::{Layer, Pending, survivor};
use super::values::{display_text, legal_form};

/// The linking scheme of an institution's normalised name (see [`super::unify`]).
pub(crate) const INSTITUTION_NAME: &str = "institution-name";

/// A record ready to apply.
#[derive(Debug, Clone)]
pub(crate) enum Prepared {
    Organisation(Box<OrgRecord>),
    Person(Pending<PersonFields>),
    Observation(ObsRow),
    Keyed(KeyedRow),
    Trade(Box<super::trade::TradeRow>),
    /// A programme or a cluster.
    Definition(Box<super::definitions::Definition>),
}

impl Prepared {
    pub fn at(&self) -> &SourceRef {
        match self {
            Prepared::Organisation(o) => &o.pending.at,
            Prepared::Person(p) => &p.at,
            Prepared::Observation(o) => &o.at,
            Prepared::Keyed(k) => &k.at,
            Prepared::Trade(t) => &t.at,
            Prepared::Definition(d) => d.at(),
        }
    }

    /// The order in which kinds are applied: a record comes after those it refers to;
    /// records of one kind are applied together.
    pub fn order(&self) -> (u8, Option<RecordKind>) {
        match self {
            Prepared::Organisation(_) => (0, None),
            Prepared::Person(_) => (1, None),
            // After the agencies a programme names, before what names a cluster.
            Prepared::Definition(d) => (1, Some(d.kind())),
            Prepared::Keyed(k) => match k.kind {
                RecordKind::Course | RecordKind::IndustrialEstate => (2, Some(k.kind)),
                RecordKind::Network => (3, None),
                RecordKind::TrainingEvent => (4, None),
                kind => (5, Some(kind)),
            },
            Prepared::Observation(_) => (6, None),
            Prepared::Trade(_) => (7, None),
        }
    }
}

/// An organisation record with what hangs off it.
#[derive(Debug, Clone)]
pub(crate) struct OrgRecord {
    pub pending: Pending<OrgFields>,
    pub identifiers: Vec<Ident>,
    /// Clusters the source places the organisation in (or its activity and district do):
    /// slug and id.
    pub clusters: Vec<(String, i64)>,
    /// Since when it belongs to them: the observation, or the registration for clusters
    /// found by activity.
    pub membership_from: Option<NaiveDate>,
}

/// Another record of the same source referred to by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RefTarget {
    /// An organisation source record; resolves to its unified organisation.
    Organisation,
    /// A person source record; resolves to its unified person.
    Person,
    Network,
    Course,
    Event,
    Estate,
    /// A registry unit number, in any source: resolves to the organisation carrying it
    /// (`psic-punjab-unit` identifier). Optional: an unknown unit is a warning.
    UnitNumber,
}

impl RefTarget {
    /// The table holding the target, and the column giving the value to store.
    pub fn lookup(self) -> (&'static str, &'static str) {
        match self {
            RefTarget::Organisation => ("organisation_source_records", "organisation_id"),
            RefTarget::Person => ("person_source_records", "person_id"),
            RefTarget::Network => ("networks", "id"),
            RefTarget::Course => ("courses", "id"),
            RefTarget::Event => ("training_events", "id"),
            RefTarget::Estate => ("industrial_estates", "id"),
            RefTarget::UnitNumber => ("organisation_identifiers", "organisation_id"),
        }
    }
}

/// A reference to resolve into `column`.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub column: &'static str,
    pub target: RefTarget,
    pub key: String,
    pub field: &'static str,
}

/// A record of a simple source-keyed table.
#[derive(Debug, Clone)]
pub(crate) struct KeyedRow {
    pub kind: RecordKind,
    pub at: SourceRef,
    pub table: &'static str,
    pub key: String,
    pub columns: Vec<&'static str>,
    pub values: Vec<Value>,
    pub refs: Vec<Ref>,
}

impl KeyedRow {
    /// The content a repeated key is compared by within its file: the values as written
    /// and the keys its references name (not the rows they resolve to, which a check
    /// before writing cannot know yet), independent of the order they were set in.
    pub fn seen_hash(&self) -> String {
        let mut pairs: Vec<(&str, &Value)> = self
            .columns
            .iter()
            .copied()
            .zip(self.values.iter())
            .collect();
        pairs.sort_by_key(|(c, _)| *c);
        let values: Vec<Value> = pairs.into_iter().map(|(_, v)| v.clone()).collect();
        let mut refs: Vec<String> = self
            .refs
            .iter()
            .map(|r| format!("{}={:?}:{}", r.column, r.target, r.key))
            .collect();
        refs.sort();
        super::sql::content_hash(&values, &refs.join("|"))
    }

    fn new(kind: RecordKind, at: &SourceRef, table: &'static str, key: &str) -> Self {
        KeyedRow {
            kind,
            at: at.clone(),
            table,
            key: key.trim().to_owned(),
            columns: Vec::new(),
            values: Vec::new(),
            refs: Vec::new(),
        }
    }

    fn set(&mut self, column: &'static str, value: impl Into<Value>) -> &mut Self {
        self.columns.push(column);
        self.values.push(value.into());
        self
    }

    /// A reference given by key (absent keys are no reference: the column stays empty).
    fn refer(
        &mut self,
        column: &'static str,
        target: RefTarget,
        key: Option<&str>,
        field: &'static str,
    ) -> &mut Self {
        match key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => self.refs.push(Ref {
                column,
                target,
                key: key.to_owned(),
                field,
            }),
            None => {
                self.set(column, Option::<i64>::None);
            }
        }
        self
    }
}

/// A firm observation: a firm's figures for a period.
#[derive(Debug, Clone)]
pub(crate) struct ObsRow {
    pub at: SourceRef,
    pub org_key: String,
    pub period: Period,
    pub values: Vec<Value>,
}

/// The figures of an observation, after the identity columns.
pub(crate) const OBS_COLUMNS: [&str; 5] = [
    "employees_total",
    "employees_female",
    "turnover_pkr",
    "exports_usd",
    "certifications",
];

// ---- Organisations -----------------------------------------------------------------------

/// An organisation source record's own columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgFields {
    pub kind: String,
    pub name: String,
    pub legal_form: Option<String>,
    pub district_text: Option<String>,
    pub tehsil_text: Option<String>,
    pub district_id: Option<i64>,
    pub tehsil_id: Option<i64>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub industry_code: Option<String>,
    pub founded_year: Option<i32>,
    pub employees_total: Option<i32>,
    pub employees_female: Option<i32>,
    pub registered_on: Option<NaiveDate>,
    pub status: Option<String>,
    pub observed_on: Option<NaiveDate>,
    pub attributes: Option<serde_json::Value>,
    pub website: Option<String>,
}

impl Layer for OrgFields {
    const KIND: RecordKind = RecordKind::Organisation;
    const RECORDS: &'static str = "organisation_source_records";
    const UNIFIED: &'static str = "organisations";
    const FK: &'static str = "organisation_id";
    const ENTITY: &'static str = "organisation";
    const RECORD_COLUMNS: &'static [&'static str] = &[
        "kind",
        "name",
        "name_key",
        "legal_form",
        "district_text",
        "tehsil_text",
        "district_id",
        "tehsil_id",
        "address",
        "phone",
        "email",
        "industry_code",
        "founded_year",
        "employees_total",
        "employees_female",
        "registered_on",
        "status",
        "observed_on",
        "attributes",
        "website",
    ];
    // The head counts and the size class are figures with a period: see
    // `super::figures`, which chooses them by the latest period, not by source.
    const UNIFIED_COLUMNS: &'static [&'static str] = &[
        "kind",
        "name",
        "name_key",
        "legal_form",
        "district_id",
        "tehsil_id",
        "address",
        "website",
        "phone",
        "email",
        "founded_year",
        "industry_code",
        "status",
    ];

    fn record_values(&self) -> Vec<Value> {
        vec![
            self.kind.clone().into(),
            self.name.clone().into(),
            normalise_name(&self.name).into(),
            self.legal_form.clone().into(),
            self.district_text.clone().into(),
            self.tehsil_text.clone().into(),
            self.district_id.into(),
            self.tehsil_id.into(),
            self.address.clone().into(),
            self.phone.clone().into(),
            self.email.clone().into(),
            self.industry_code.clone().into(),
            self.founded_year.into(),
            self.employees_total.into(),
            self.employees_female.into(),
            self.registered_on.into(),
            self.status.clone().into(),
            self.observed_on.into(),
            self.attributes.clone().into(),
            self.website.clone().into(),
        ]
    }

    fn hashed_values(values: &[Value]) -> &[Value] {
        // A record without a website hashes as it did before records had one, so that an
        // upgrade does not rewrite every record on its next import.
        match values.split_last() {
            Some((Value::String(None), rest)) => rest,
            _ => values,
        }
    }

    fn from_row(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(OrgFields {
            kind: r.try_get_by("kind")?,
            name: r.try_get_by("name")?,
            legal_form: r.try_get_by("legal_form")?,
            district_text: r.try_get_by("district_text")?,
            tehsil_text: r.try_get_by("tehsil_text")?,
            district_id: r.try_get_by("district_id")?,
            tehsil_id: r.try_get_by("tehsil_id")?,
            address: r.try_get_by("address")?,
            phone: r.try_get_by("phone")?,
            email: r.try_get_by("email")?,
            industry_code: r.try_get_by("industry_code")?,
            founded_year: r.try_get_by("founded_year")?,
            employees_total: r.try_get_by("employees_total")?,
            employees_female: r.try_get_by("employees_female")?,
            registered_on: r.try_get_by("registered_on")?,
            status: r.try_get_by("status")?,
            observed_on: r.try_get_by("observed_on")?,
            attributes: None,
            website: r.try_get_by("website")?,
        })
    }

    fn observed_on(&self) -> Option<NaiveDate> {
        self.observed_on
    }

    fn conflicts_with(
        curated: &Self,
        other: &Self,
    ) -> Vec<(&'static str, serde_json::Value, serde_json::Value)> {
        super::curate::conflicts(curated, other)
    }

    fn linkage(&self) -> Option<super::linkage::Features> {
        (self.kind == "firm").then(|| {
            super::linkage::Features::new(
                &self.name,
                self.district_id,
                self.tehsil_id,
                self.phone.as_deref(),
                self.address.as_deref(),
            )
        })
    }

    fn survive(
        _ctx: &Ctx<'_>,
        records: &[(i32, &Self)],
    ) -> (Vec<Value>, Vec<(&'static str, usize)>) {
        let mut s = survivor(records);
        // Providing training or services is a role an institution plays: an agency that
        // trains stays an agency, whichever source ranks first.
        let rank = |kind: &str| match kind {
            "agency" | "donor" | "chamber" | "association" => 0,
            "firm" => 1,
            _ => 2,
        };
        let best = records
            .iter()
            .map(|(_, r)| rank(&r.kind))
            .min()
            .unwrap_or(1);
        let kind = s
            .pick_where(
                "kind",
                |(_, r)| rank(&r.kind) == best,
                |(_, r)| Some(r.kind.clone()),
            )
            .unwrap_or_else(|| "firm".to_owned());
        // Firm names typed in capitals (as registry clerks do) are shown in title case;
        // institutions keep their names as written (UNIDO is not Unido).
        let name = s
            .pick("name", |(_, r)| {
                // A curated record that does not correct the name has none.
                if r.name.is_empty() {
                    return None;
                }
                Some(if r.kind == "firm" {
                    display_text(&r.name)
                } else {
                    r.name.clone()
                })
            })
            .unwrap_or_default();
        let district_id = s.pick("district_id", |(_, r)| r.district_id);
        let tehsil_id = s.pick_where(
            "tehsil_id",
            |(_, r)| r.district_id == district_id,
            |(_, r)| r.tehsil_id,
        );
        let legal_form = s.pick("legal_form", |(_, r)| r.legal_form.clone());
        let address = s.pick("address", |(_, r)| r.address.as_deref().map(display_text));
        let website = s.pick("website", |(_, r)| r.website.clone());
        let phone = s.pick("phone", |(_, r)| r.phone.clone());
        let email = s.pick("email", |(_, r)| r.email.clone());
        let founded_year = s.pick("founded_year", |(_, r)| r.founded_year);
        let industry_code = s.pick("industry_code", |(_, r)| r.industry_code.clone());
        // A firm no source calls otherwise is taken to be active: a source lists it.
        let status = s
            .pick("status", |(_, r)| r.status.clone())
            .unwrap_or_else(|| "active".to_owned());
        let values = vec![
            kind.into(),
            name.clone().into(),
            normalise_name(&name).into(),
            legal_form.into(),
            district_id.into(),
            tehsil_id.into(),
            address.into(),
            website.into(),
            phone.into(),
            email.into(),
            founded_year.into(),
            industry_code.into(),
            status.into(),
        ];
        (values, s.chosen().to_vec())
    }
}

// ---- Persons -----------------------------------------------------------------------------

/// A person source record's own columns. Everything but the district is personal data.
#[derive(Clone, Default)]
pub(crate) struct PersonFields {
    pub full_name: Option<String>,
    pub sex: Option<String>,
    pub cnic_hash: Option<String>,
    pub cnic_last4: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub district_text: Option<String>,
    pub observed_on: Option<NaiveDate>,
    pub attributes: Option<serde_json::Value>,
}

/// Personal values stay out of debug output (and so out of logs and panics).
impl std::fmt::Debug for PersonFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonFields").finish_non_exhaustive()
    }
}

impl Layer for PersonFields {
    const KIND: RecordKind = RecordKind::Person;
    const ERASABLE: bool = true;

    fn erase(&mut self) {
        self.full_name = None;
        self.cnic_hash = None;
        self.cnic_last4 = None;
        self.phone = None;
        self.email = None;
        self.attributes = None;
    }

    const RECORDS: &'static str = "person_source_records";
    const UNIFIED: &'static str = "persons";
    const FK: &'static str = "person_id";
    const ENTITY: &'static str = "person";
    const RECORD_COLUMNS: &'static [&'static str] = &[
        "full_name",
        "name_key",
        "sex",
        "cnic_hash",
        "cnic_last4",
        "phone",
        "email",
        "district_text",
        "observed_on",
        "attributes",
    ];
    const UNIFIED_COLUMNS: &'static [&'static str] = &[
        "full_name",
        "name_key",
        "sex",
        "cnic_hash",
        "cnic_last4",
        "phone",
        "email",
        "district_id",
    ];

    fn record_values(&self) -> Vec<Value> {
        vec![
            self.full_name.clone().into(),
            self.full_name.as_deref().map(normalise_name).into(),
            self.sex.clone().into(),
            self.cnic_hash.clone().into(),
            self.cnic_last4.clone().into(),
            self.phone.clone().into(),
            self.email.clone().into(),
            self.district_text.clone().into(),
            self.observed_on.into(),
            self.attributes.clone().into(),
        ]
    }

    fn from_row(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(PersonFields {
            full_name: r.try_get_by("full_name")?,
            sex: r.try_get_by("sex")?,
            cnic_hash: r.try_get_by("cnic_hash")?,
            cnic_last4: r.try_get_by("cnic_last4")?,
            phone: r.try_get_by("phone")?,
            email: r.try_get_by("email")?,
            district_text: r.try_get_by("district_text")?,
            observed_on: r.try_get_by("observed_on")?,
            attributes: None,
        })
    }

    fn observed_on(&self) -> Option<NaiveDate> {
        self.observed_on
    }

    fn survive(
        ctx: &Ctx<'_>,
        records: &[(i32, &Self)],
    ) -> (Vec<Value>, Vec<(&'static str, usize)>) {
        let mut s = survivor(records);
        let full_name = s.pick("full_name", |(_, r)| {
            r.full_name.as_deref().map(display_text)
        });
        let sex = s.pick("sex", |(_, r)| r.sex.clone());
        let cnic = s.pick("cnic_hash", |(_, r)| {
            r.cnic_hash.clone().zip(r.cnic_last4.clone())
        });
        let phone = s.pick("phone", |(_, r)| r.phone.clone());
        let email = s.pick("email", |(_, r)| r.email.clone());
        let district_id = s.pick("district_id", |(_, r)| {
            r.district_text
                .as_deref()
                .and_then(|d| ctx.areas.district(d, r.observed_on))
                .map(|d| d.id)
        });
        let values = vec![
            full_name.clone().into(),
            full_name.as_deref().map(normalise_name).into(),
            sex.into(),
            cnic.as_ref().map(|(h, _)| h.clone()).into(),
            cnic.map(|(_, l)| l).into(),
            phone.into(),
            email.into(),
            district_id.into(),
        ];
        (values, s.chosen().to_vec())
    }
}

// ---- Preparation -------------------------------------------------------------------------

fn opt_date(d: Option<hub_plugin_sdk::Date>) -> Option<NaiveDate> {
    d.and_then(date)
}

fn count(n: Option<u32>) -> Option<i32> {
    n.and_then(|n| i32::try_from(n).ok())
}

fn sex(s: Option<Sex>) -> Option<String> {
    s.map(|s| {
        match s {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
        }
        .to_owned()
    })
}

fn required(issues: &mut Issues, at: &SourceRef, field: &str, value: &str) -> bool {
    if value.trim().is_empty() {
        issues.push(Issue::error(
            at,
            Some(field),
            codes::MISSING_REQUIRED,
            format!("The field {field} is required but the row leaves it empty."),
        ));
        false
    } else {
        true
    }
}

/// Replaces every key an importer made from personal data
/// (`hub_plugin_sdk::keys::personal_key`), in every key field of the record (its own key
/// and those naming other records), with `pk:` and its keyed digest, before the record is
/// validated, compared, stored or named in a message.
fn digest_personal_keys(record: &mut Record, key: &hub_schema::domain::CnicKey) {
    for k in record.keys_mut() {
        if let Some(text) = hub_plugin_sdk::keys::personal_key_text(k) {
            *k = format!("pk:{}", key.digest(text));
        }
    }
}

/// Validates one record. `None` when the record is rejected (the issue is recorded).
pub(crate) fn prepare(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: SourceRef,
    record: Record,
) -> Option<Vec<Prepared>> {
    let errors_before = issues.errors;
    issues.kind = Some(record.kind());
    let mut record = record;
    digest_personal_keys(&mut record, ctx.key);
    let prepared = match record {
        Record::Organisation(o) => organisation(ctx, issues, &at, o),
        Record::Person(p) => person(ctx, issues, &at, p),
        Record::FirmObservation(o) => observation(ctx, issues, &at, o),
        Record::Programme(p) => super::definitions::programme(ctx, issues, &at, p),
        Record::Cluster(c) => super::definitions::cluster(ctx, issues, &at, c),
        Record::Affiliation(a) => {
            let mut row =
                KeyedRow::new(RecordKind::Affiliation, &at, "affiliations", &a.source_key);
            let role = match a.role {
                AffiliationRole::Owner => "owner",
                AffiliationRole::Staff => "staff",
                AffiliationRole::Contact => "contact",
                AffiliationRole::Borrower => "borrower",
                AffiliationRole::Trainer => "trainer",
            };
            row.refer(
                "person_id",
                RefTarget::Person,
                Some(&a.person_key),
                "person_key",
            )
            .refer(
                "organisation_id",
                RefTarget::Organisation,
                Some(&a.organisation_key),
                "organisation_key",
            )
            .set("role", role)
            .set("title", text(&a.title))
            .set("valid_from", opt_date(a.valid_from))
            .set("valid_to", opt_date(a.valid_to));
            Some(vec![Prepared::Keyed(row)])
        }
        Record::ClusterMembership(m) => {
            let cluster = ctx.cluster(issues, &at, "cluster", &m.cluster);
            let mut row = KeyedRow::new(
                RecordKind::ClusterMembership,
                &at,
                "cluster_memberships",
                &m.source_key,
            );
            row.set("cluster_id", cluster)
                .refer(
                    "organisation_id",
                    RefTarget::Organisation,
                    Some(&m.organisation_key),
                    "organisation_key",
                )
                .set("valid_from", opt_date(m.valid_from))
                .set("valid_to", opt_date(m.valid_to));
            Some(vec![Prepared::Keyed(row)])
        }
        Record::Network(n) => {
            required(issues, &at, "name", &n.name);
            let cluster = n
                .cluster
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .and_then(|c| ctx.cluster(issues, &at, "cluster", c));
            let programme = n
                .programme
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .and_then(|c| ctx.programme(issues, &at, "programme", c));
            let kind = match n.kind {
                NetworkKind::Horizontal => "horizontal",
                NetworkKind::Vertical => "vertical",
                NetworkKind::ExportConsortium => "export_consortium",
            };
            let mut row = KeyedRow::new(RecordKind::Network, &at, "networks", &n.source_key);
            let name = n.name.trim().to_owned();
            row.set("name_key", normalise_name(&name))
                .set("name", name)
                .set("kind", kind)
                .set("cluster_id", cluster)
                .set("programme_id", programme)
                .refer(
                    "lead_organisation_id",
                    RefTarget::Organisation,
                    n.lead_organisation_key.as_deref(),
                    "lead_organisation_key",
                )
                .set("formed_on", opt_date(n.formed_on))
                .set("dissolved_on", opt_date(n.dissolved_on))
                .set("description", text(&n.description));
            Some(vec![Prepared::Keyed(row)])
        }
        Record::NetworkMember(m) => {
            let role = match m.role.unwrap_or(NetworkRole::Member) {
                NetworkRole::Lead => "lead",
                NetworkRole::Member => "member",
            };
            let mut row = KeyedRow::new(
                RecordKind::NetworkMember,
                &at,
                "network_members",
                &m.source_key,
            );
            row.refer(
                "network_id",
                RefTarget::Network,
                Some(&m.network_key),
                "network_key",
            )
            .refer(
                "organisation_id",
                RefTarget::Organisation,
                Some(&m.organisation_key),
                "organisation_key",
            )
            .set("role", role)
            .set("joined_on", opt_date(m.joined_on))
            .set("left_on", opt_date(m.left_on));
            Some(vec![Prepared::Keyed(row)])
        }
        Record::Course(c) => {
            required(issues, &at, "title", &c.title);
            let mut row = KeyedRow::new(RecordKind::Course, &at, "courses", &c.source_key);
            row.set("code", text(&c.code))
                .set("title", c.title.trim().to_owned())
                .set("topic", text(&c.topic))
                .set("hours", c.hours)
                .refer(
                    "provider_organisation_id",
                    RefTarget::Organisation,
                    c.provider_organisation_key.as_deref(),
                    "provider_organisation_key",
                );
            Some(vec![Prepared::Keyed(row)])
        }
        Record::TrainingEvent(e) => {
            required(issues, &at, "title", &e.title);
            let start = opt_date(e.start_date);
            let venue = e
                .venue_district
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .and_then(|d| ctx.district(issues, &at, "venue_district", d, start));
            let cluster = e
                .cluster
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .and_then(|c| ctx.cluster(issues, &at, "cluster", c));
            let trainers: Vec<&str> = e
                .trainers
                .iter()
                .map(|t| t.expose().trim())
                .filter(|t| !t.is_empty())
                .collect();
            let modality = e.modality.map(|m| match m {
                Modality::InPerson => "in_person",
                Modality::Online => "online",
                Modality::Blended => "blended",
            });
            let mut row = KeyedRow::new(
                RecordKind::TrainingEvent,
                &at,
                "training_events",
                &e.source_key,
            );
            row.refer(
                "course_id",
                RefTarget::Course,
                e.course_key.as_deref(),
                "course_key",
            )
            .set("code", text(&e.code))
            .set("title", e.title.trim().to_owned())
            .refer(
                "provider_organisation_id",
                RefTarget::Organisation,
                e.provider_organisation_key.as_deref(),
                "provider_organisation_key",
            )
            .set(
                "trainers",
                (!trainers.is_empty()).then(|| trainers.join("; ")),
            )
            .set("start_date", start)
            .set("end_date", opt_date(e.end_date))
            .set("venue_district_id", venue)
            .set("venue", text(&e.venue))
            .set("cluster_id", cluster)
            .set("modality", modality);
            Some(vec![Prepared::Keyed(row)])
        }
        Record::Participation(p) => {
            let mut row = KeyedRow::new(
                RecordKind::Participation,
                &at,
                "participations",
                &p.source_key,
            );
            for (field, value) in [
                ("attendance_pct", p.attendance_pct),
                ("pre_score", p.pre_score),
                ("post_score", p.post_score),
            ] {
                if value.is_some_and(|v| !(0.0..=100.0).contains(&v)) {
                    issues.push(Issue::error(
                        &at,
                        Some(field),
                        codes::INVALID_VALUE,
                        format!("The field {field} must be between 0 and 100."),
                    ));
                }
            }
            row.refer(
                "training_event_id",
                RefTarget::Event,
                Some(&p.event_key),
                "event_key",
            )
            .refer(
                "person_id",
                RefTarget::Person,
                p.person_key.as_deref(),
                "person_key",
            )
            .refer(
                "organisation_id",
                RefTarget::Organisation,
                p.organisation_key.as_deref(),
                "organisation_key",
            )
            .set("role", text(&p.role))
            .set("sex", sex(p.sex))
            .set("attendance_pct", p.attendance_pct)
            .set("pre_score", p.pre_score)
            .set("post_score", p.post_score)
            .set(
                "completed",
                p.completed.or(p
                    .certificate_number
                    .as_deref()
                    .is_some_and(|c| !c.trim().is_empty())
                    .then_some(true)),
            )
            .set("certificate_number", text(&p.certificate_number));
            Some(vec![Prepared::Keyed(row)])
        }
        Record::IndicatorValue(v) => indicator_value(ctx, issues, &at, v),
        Record::IndustrialEstate(e) => {
            required(issues, &at, "name", &e.name);
            let district = match e.district.as_deref().filter(|d| !d.trim().is_empty()) {
                Some(d) => ctx.district(issues, &at, "district", d, None),
                // Estates are named after their place ("Small Industrial Estate Sialkot",
                // "… Kot Lakhpat Lahore"): the one district named in the name, if exactly one.
                None => district_in_name(ctx, &e.name),
            };
            let mut row = KeyedRow::new(
                RecordKind::IndustrialEstate,
                &at,
                "industrial_estates",
                &e.source_key,
            );
            let name = e.name.trim().to_owned();
            row.set("name_key", normalise_name(&name))
                .set("name", name)
                .set("district_id", district);
            Some(vec![Prepared::Keyed(row)])
        }
        Record::PlotAllotment(a) => {
            required(issues, &at, "plot_number", &a.plot_number);
            let status = match a.status {
                AllotmentStatus::Allotted => "allotted",
                AllotmentStatus::Cancelled => "cancelled",
                AllotmentStatus::Vacant => "vacant",
            };
            let unit = unit_number(issues, &at, a.unit_number.as_deref());
            let mut row = KeyedRow::new(
                RecordKind::PlotAllotment,
                &at,
                "plot_allotments",
                &a.source_key,
            );
            row.refs.push(Ref {
                column: "@estate",
                target: RefTarget::Estate,
                key: a.estate_key.trim().to_owned(),
                field: "estate_key",
            });
            row.columns.push("@plot");
            row.values.push(
                serde_json::json!({"number": a.plot_number.trim(), "area_sqm": a.plot_area_sqm})
                    .into(),
            );
            organisation_of_unit(&mut row, a.organisation_key.as_deref(), unit.as_deref());
            row.set("unit_number", unit)
                .set("allotted_on", opt_date(a.allotted_on))
                .set("status", status);
            Some(vec![Prepared::Keyed(row)])
        }
        Record::Loan(l) => {
            required(issues, &at, "scheme", &l.scheme);
            if l.amount_pkr.is_some_and(|v| v < 0.0 || !v.is_finite()) {
                issues.push(Issue::error(
                    &at,
                    Some("amount_pkr"),
                    codes::INVALID_NUMBER,
                    "The amount must be a number of at least 0.".to_owned(),
                ));
            }
            let sanctioned = opt_date(l.sanctioned_on);
            let district = l
                .district
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .and_then(|d| ctx.district(issues, &at, "district", d, sanctioned));
            let unit = unit_number(issues, &at, l.unit_number.as_deref());
            let mut row = KeyedRow::new(RecordKind::Loan, &at, "loans", &l.source_key);
            row.set("scheme", l.scheme.trim().to_owned()).refer(
                "borrower_person_id",
                RefTarget::Person,
                l.borrower_person_key.as_deref(),
                "borrower_person_key",
            );
            organisation_of_unit(&mut row, l.organisation_key.as_deref(), unit.as_deref());
            row.set("unit_number", unit)
                .set("amount_pkr", l.amount_pkr)
                .set("sanctioned_on", sanctioned)
                .set("disbursed_on", opt_date(l.disbursed_on))
                .set("district_id", district)
                .set("status", text(&l.status));
            Some(vec![Prepared::Keyed(row)])
        }
        Record::TradeFlow(f) => super::trade::prepare(ctx, issues, &at, f),
        other @ Record::AdminArea(_) => {
            issues.push(Issue::error(
                &at,
                None,
                "unsupported_kind",
                format!(
                    "{} records are not imported by the pipeline yet.",
                    other.kind()
                ),
            ));
            None
        }
    };
    if issues.errors > errors_before {
        return None;
    }
    prepared
}

fn organisation(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    o: hub_plugin_sdk::Organisation,
) -> Option<Vec<Prepared>> {
    required(issues, at, "source_key", &o.source_key);
    required(issues, at, "name", &o.name);
    let observed_on = opt_date(o.observed_on);
    let district_text = text(&o.district);
    let tehsil_text = text(&o.tehsil);
    let district_id = district_text
        .as_deref()
        .and_then(|d| ctx.district(issues, at, "district", d, observed_on));
    let tehsil_id = match (district_id, tehsil_text.as_deref()) {
        (Some(d), Some(t)) => ctx.tehsil(issues, at, "tehsil", d, t),
        _ => None,
    };
    let industry_code = text(&o.industry_code);
    if let Some(code) = &industry_code
        && let Err(e) = PsicCode::parse(code)
    {
        issues.push(Issue::error(
            at,
            Some("industry_code"),
            codes::UNKNOWN_CODE,
            format!("The industry code is not an ISIC Rev.4 class or a PSIC Rev.4 sub-class: {e}."),
        ));
    }
    let mut identifiers = Vec::new();
    for id in &o.identifiers {
        if id.value.trim().is_empty() {
            continue;
        }
        let field = format!("identifiers.{}", id.scheme);
        match Ident::parse(ctx.key, &id.scheme, &id.value) {
            Ok(ident) => identifiers.push(ident),
            Err(message) => issues.push(Issue::error(
                at,
                Some(&field),
                codes::INVALID_IDENTIFIER,
                message,
            )),
        }
    }
    // The record's own key, citable by other sources as `source:<code>`.
    if let Ok(scheme) = IdentifierScheme::source(&ctx.source_code) {
        identifiers.push(Ident {
            scheme,
            value: o.source_key.trim().to_owned(),
            display: o.source_key.trim().to_owned(),
            hashed: false,
        });
    }
    let identifiers = unique(identifiers);
    let mut clusters = Vec::new();
    for slug in o.clusters.iter().filter(|s| !s.trim().is_empty()) {
        if let Some(id) = ctx.cluster(issues, at, "clusters", slug) {
            clusters.push((slug.trim().to_owned(), id));
        }
    }
    let mut clusters = unique(clusters);
    let mut membership_from = observed_on;
    // A firm no source places in a cluster belongs to the clusters whose industry classes
    // and districts cover its industry code and district (the registry's units), from its
    // registration; a closed unit to none.
    if clusters.is_empty()
        && o.kind == OrganisationKind::Firm
        && o.status != Some(OrganisationStatus::Closed)
        && let (Some(code), Some(district)) = (industry_code.as_deref(), district_id)
    {
        let class = code.get(..4).unwrap_or(code);
        clusters = ctx
            .cluster_scope
            .iter()
            .filter(|c| {
                c.isic_classes.iter().any(|k| k == class) && c.district_ids.contains(&district)
            })
            .map(|c| (c.slug.clone(), c.id))
            .collect();
        membership_from = opt_date(o.registered_on).or(observed_on);
    }
    let kind = match o.kind {
        OrganisationKind::Firm => "firm",
        OrganisationKind::BdsProvider => "bds_provider",
        OrganisationKind::Association => "association",
        OrganisationKind::Chamber => "chamber",
        OrganisationKind::Agency => "agency",
        OrganisationKind::Donor => "donor",
        OrganisationKind::TrainingProvider => "training_provider",
    };
    let status = o.status.map(|s| {
        match s {
            OrganisationStatus::Active => "active",
            OrganisationStatus::Closed => "closed",
            OrganisationStatus::Inactive => "inactive",
            OrganisationStatus::Unknown => "unknown",
        }
        .to_owned()
    });
    if let (Some(total), Some(female)) = (o.employees_total, o.employees_female)
        && female > total
    {
        issues.push(Issue::error(
            at,
            Some("employees_female"),
            codes::INVALID_VALUE,
            "The number of female employees is larger than the total.".to_owned(),
        ));
    }
    let name = o.name.trim().to_owned();
    let fields = OrgFields {
        kind: kind.to_owned(),
        legal_form: text(&o.legal_form).or_else(|| legal_form(&name).map(str::to_owned)),
        name,
        district_text,
        tehsil_text,
        district_id,
        tehsil_id,
        address: text(&o.address),
        website: text(&o.website),
        phone: o
            .phone
            .map(|p| p.expose().trim().to_owned())
            .filter(|p| !p.is_empty()),
        email: o
            .email
            .map(|p| p.expose().trim().to_owned())
            .filter(|p| !p.is_empty()),
        industry_code,
        founded_year: o.founded_year,
        employees_total: count(o.employees_total),
        employees_female: count(o.employees_female),
        registered_on: opt_date(o.registered_on),
        status,
        observed_on,
        attributes: (!o.attributes.is_empty()).then_some(serde_json::Value::Object(o.attributes)),
    };
    let mut links: Vec<&Ident> = identifiers.iter().filter(|i| i.links()).collect();
    links.sort_by_key(|i| i.strength());
    let mut links: Vec<(String, String)> = links
        .into_iter()
        .map(|i| (i.scheme.code().into_owned(), i.value.clone()))
        .collect();
    // Institutions (agencies, donors, chambers, providers) are few and curated: their
    // normalised name finds them again. Firms never link by name.
    if fields.kind != "firm" {
        links.push((INSTITUTION_NAME.to_owned(), normalise_name(&fields.name)));
    }
    let extra = format!(
        "{:?}|{:?}",
        identifiers
            .iter()
            .map(|i| (i.scheme.code(), &i.value))
            .collect::<Vec<_>>(),
        clusters
    );
    Some(vec![Prepared::Organisation(Box::new(OrgRecord {
        pending: Pending {
            at: at.clone(),
            key: o.source_key.trim().to_owned(),
            fields,
            links,
            extra,
        },
        identifiers,
        clusters,
        membership_from,
    }))])
}

fn person(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    p: hub_plugin_sdk::Person,
) -> Option<Vec<Prepared>> {
    required(issues, at, "source_key", &p.source_key);
    let cnic = match p
        .cnic
        .as_ref()
        .map(|c| c.expose().trim())
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(raw) => match hub_schema::domain::Cnic::parse(raw) {
            Ok(c) => Some((c.keyed_hash(ctx.key), c.last4().to_owned())),
            // A person stays a person without a readable CNIC: a registry's unit or loan is
            // not lost to a clerk's typo in its owner's CNIC.
            Err(_) => {
                issues.push(Issue::warning(
                    at,
                    Some("cnic"),
                    codes::INVALID_IDENTIFIER,
                    "The CNIC is not 13 digits in the form 12345-1234567-1; the person is kept \
                     without it."
                        .to_owned(),
                ));
                None
            }
        },
    };
    let fields = PersonFields {
        full_name: p
            .full_name
            .map(|n| n.expose().trim().to_owned())
            .filter(|n| !n.is_empty()),
        sex: sex(p.sex),
        cnic_hash: cnic.as_ref().map(|(h, _)| h.clone()),
        cnic_last4: cnic.as_ref().map(|(_, l)| l.clone()),
        phone: p
            .phone
            .map(|v| v.expose().trim().to_owned())
            .filter(|v| !v.is_empty()),
        email: p
            .email
            .map(|v| v.expose().trim().to_owned())
            .filter(|v| !v.is_empty()),
        district_text: text(&p.district),
        observed_on: opt_date(p.observed_on),
        attributes: (!p.attributes.is_empty()).then_some(serde_json::Value::Object(p.attributes)),
    };
    let links = cnic
        .map(|(hash, _)| vec![("PK-CNIC".to_owned(), hash)])
        .unwrap_or_default();
    Some(vec![Prepared::Person(Pending {
        at: at.clone(),
        key: p.source_key.trim().to_owned(),
        fields,
        links,
        extra: String::new(),
    })])
}

fn observation(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    o: hub_plugin_sdk::FirmObservation,
) -> Option<Vec<Prepared>> {
    required(issues, at, "organisation_key", &o.organisation_key);
    let period = ctx.period(issues, at, "period", &o.period)?;
    if let (Some(total), Some(female)) = (o.employees_total, o.employees_female)
        && female > total
    {
        issues.push(Issue::error(
            at,
            Some("employees_female"),
            codes::INVALID_VALUE,
            "The number of female employees is larger than the total.".to_owned(),
        ));
    }
    for (field, value) in [
        ("turnover_pkr", o.turnover_pkr),
        ("exports_usd", o.exports_usd),
    ] {
        if value.is_some_and(|v| v < 0.0 || !v.is_finite()) {
            issues.push(Issue::error(
                at,
                Some(field),
                codes::INVALID_NUMBER,
                format!("The field {field} must be a number of at least 0."),
            ));
        }
    }
    let certifications: Vec<&str> = o
        .certifications
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    Some(vec![Prepared::Observation(ObsRow {
        at: at.clone(),
        org_key: o.organisation_key.trim().to_owned(),
        period,
        values: vec![
            count(o.employees_total).into(),
            count(o.employees_female).into(),
            o.turnover_pkr.into(),
            o.exports_usd.into(),
            (!certifications.is_empty())
                .then(|| certifications.join("; "))
                .into(),
        ],
    })])
}

/// The one district whose name (or synonym) appears in `name` as whole words.
fn district_in_name(ctx: &Ctx<'_>, name: &str) -> Option<i64> {
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = std::collections::BTreeSet::new();
    for len in 1..=3 {
        for window in words.windows(len) {
            if let Some(d) = ctx.areas.district(&window.join(" "), None) {
                found.insert(d.id);
            }
        }
    }
    (found.len() == 1)
        .then(|| found.into_iter().next())
        .flatten()
}

/// A registry unit number as written, normalised; a malformed one is an error.
fn unit_number(issues: &mut Issues, at: &SourceRef, raw: Option<&str>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|u| !u.is_empty())?;
    match hub_schema::domain::Identifier::parse(IdentifierScheme::PsicPunjabUnit, raw) {
        Ok(id) => Some(id.value().to_owned()),
        Err(e) => {
            issues.push(Issue::error(
                at,
                Some("unit_number"),
                codes::INVALID_IDENTIFIER,
                format!(
                    "The registry unit number is not valid: {}.",
                    e.to_string().trim_end_matches('.')
                ),
            ));
            None
        }
    }
}

/// The organisation a registry record is about: by its record key when given, else by the
/// unit number (an optional reference: a unit the hub does not know is a warning).
fn organisation_of_unit(row: &mut KeyedRow, key: Option<&str>, unit: Option<&str>) {
    if key.is_some_and(|k| !k.trim().is_empty()) {
        row.refer(
            "organisation_id",
            RefTarget::Organisation,
            key,
            "organisation_key",
        );
    } else {
        row.refer(
            "organisation_id",
            RefTarget::UnitNumber,
            unit,
            "unit_number",
        );
    }
}

fn indicator_value(
    ctx: &mut Ctx<'_>,
    issues: &mut Issues,
    at: &SourceRef,
    v: hub_plugin_sdk::IndicatorValue,
) -> Option<Vec<Prepared>> {
    required(issues, at, "indicator", &v.indicator);
    let code = v.indicator.trim().to_owned();
    let period = ctx.period(issues, at, "period", &v.period)?;
    if !v.value.is_finite() {
        issues.push(Issue::error(
            at,
            Some("value"),
            codes::INVALID_NUMBER,
            "The value must be a finite number.".to_owned(),
        ));
    }
    let scope = match v.scope {
        IndicatorScope::Firm => "firm",
        IndicatorScope::Cluster => "cluster",
        IndicatorScope::Programme => "programme",
        IndicatorScope::Area => "area",
    };
    let cluster = v
        .cluster
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .and_then(|c| ctx.cluster(issues, at, "cluster", c));
    let programme = v
        .programme
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .and_then(|c| ctx.programme(issues, at, "programme", c));
    let area = v
        .area
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .and_then(|a| ctx.district(issues, at, "area", a, Some(period.start())));
    let scope_given = match v.scope {
        IndicatorScope::Firm => v
            .organisation_key
            .as_deref()
            .is_some_and(|k| !k.trim().is_empty()),
        IndicatorScope::Cluster => v.cluster.as_deref().is_some_and(|k| !k.trim().is_empty()),
        IndicatorScope::Programme => v.programme.as_deref().is_some_and(|k| !k.trim().is_empty()),
        IndicatorScope::Area => v.area.as_deref().is_some_and(|k| !k.trim().is_empty()),
    };
    if !scope_given {
        let field = match v.scope {
            IndicatorScope::Firm => "organisation_key",
            IndicatorScope::Cluster => "cluster",
            IndicatorScope::Programme => "programme",
            IndicatorScope::Area => "area",
        };
        issues.push(Issue::error(
            at,
            Some(field),
            codes::MISSING_REQUIRED,
            format!("A value of {scope} scope needs its {field}."),
        ));
    }
    let value_type = match v.value_type {
        ValueType::Baseline => "baseline",
        ValueType::Target => "target",
        ValueType::Actual => "actual",
    };
    let mut row = KeyedRow::new(
        RecordKind::IndicatorValue,
        at,
        "indicator_values",
        &v.source_key,
    );
    let indicator = ctx.indicators.get(&code).copied();
    match indicator {
        Some(id) => {
            row.set("indicator_id", id);
        }
        None => {
            let name = text(&v.indicator_name);
            let unit = text(&v.indicator_unit);
            if name.is_none() || unit.is_none() {
                issues.push(Issue::error(
                    at,
                    Some("indicator"),
                    codes::UNKNOWN_CODE,
                    format!(
                        "\"{code}\" is not a known indicator; give its name and unit to create it."
                    ),
                ));
                return None;
            }
            // Created when the batch is applied.
            row.set("indicator_id", Option::<i64>::None);
            row.columns.push("@indicator");
            row.values
                .push(serde_json::json!({"code": code, "name": name, "unit": unit}).into());
        }
    }
    row.set("scope", scope)
        .refer(
            "organisation_id",
            RefTarget::Organisation,
            v.organisation_key.as_deref(),
            "organisation_key",
        )
        .set("cluster_id", cluster)
        .set("programme_id", programme)
        .set("admin_area_id", area)
        .set("period_kind", period.kind().as_str())
        .set("period_start", period.start())
        .set("period_end", period.end())
        .set("value_type", value_type)
        .set("value", v.value)
        .set("breakdown", text(&v.breakdown))
        .set("breakdown_value", text(&v.breakdown_value))
        .set("note", text(&v.note));
    Some(vec![Prepared::Keyed(row)])
}
