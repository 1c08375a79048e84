//! Rows to records: what each target makes of one row.
//!
//! A row gives its records in the order the hub needs them (a record before the records
//! that refer to it) and its row errors before them. A value that does not read as its
//! field's kind is a row error naming the row, the column and the field, and the record
//! goes on without it; a missing required field is a row error and the row gives no
//! record. Messages never contain a cell's value.

use std::collections::HashSet;

use hub_plugin_sdk::{
    Affiliation, AffiliationRole, Cluster, ClusterMembership, Course, Date, FirmObservation,
    IdentifierValue, IndicatorScope, IndicatorValue, Item, Network, NetworkMember, Organisation,
    OrganisationKind, Participation, Person, Personal, Programme, Record, RecordKind, RowError,
    SourceRef, TrainingEvent, ValueType, codes, schemes,
};

use super::cell::Cell;
use super::mapping::ObservationField;
use super::plan::{FieldSource, SheetPlan};
use super::targets::{self, FIRM_ID_PREFIX, Target, Vocabulary, fold};
use super::{Row, parse_number, parse_text_date};

/// Turns rows into items, remembering across sheets the keys it emitted.
#[derive(Debug, Default)]
pub struct Converter {
    /// The keys emitted, per kind: to emit shared records (a participant's firm, a
    /// course, a provider) once, and to report duplicate keys.
    emitted: HashSet<(RecordKind, String)>,
    /// The indicator series whose baseline was taken.
    baselines: HashSet<String>,
    /// The agencies of a programme definition by key, as first given (by the agencies
    /// sheet, or by the first programme naming them): programme rows repeat them with
    /// this content.
    agencies: std::collections::HashMap<String, Organisation>,
}

impl Converter {
    /// A converter that has emitted nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The items of one data row of a sheet read by `plan`.
    pub fn row(&mut self, plan: &SheetPlan, row: &Row) -> Vec<Item> {
        if let Some(error) =
            row.problem_error(&plan.file, plan.sheet.as_deref(), |c| plan.column_name(c))
        {
            return vec![Item::RowError(error)];
        }
        let mut cells = Cells::new(plan, row);
        let records = match plan.target {
            Target::Firms => self.firm_row(&mut cells),
            Target::Participants => self.participant_row(&mut cells),
            Target::TrainingEvents => self.event_row(&mut cells),
            Target::IndicatorValues => self.indicator_row(&mut cells),
            Target::Networks => self.network_row(&mut cells),
            Target::NetworkMembers => self.member_row(&mut cells),
            Target::Agencies => self.agency_row(&mut cells),
            Target::Programmes => self.programme_row(&mut cells),
            Target::Clusters => self.cluster_row(&mut cells),
        };
        let source_ref = cells.row_ref();
        let mut items = cells.errors;
        items.extend(
            records
                .into_iter()
                .map(|record| Item::record(source_ref.clone(), record)),
        );
        items
    }

    /// Records the key; `false` when it was emitted before.
    fn first(&mut self, kind: RecordKind, key: &str) -> bool {
        self.emitted.insert((kind, key.to_owned()))
    }

    /// Whether the key was emitted before, without recording it.
    fn seen(&self, kind: RecordKind, key: &str) -> bool {
        self.emitted.contains(&(kind, key.to_owned()))
    }

    /// Reports a key already emitted by an earlier row.
    fn duplicate(cells: &mut Cells<'_>, what: &str, field: &str) {
        let error = RowError::error(
            cells.field_ref(field),
            codes::DUPLICATE_KEY,
            format!(
                "An earlier row of this import gives {what} the same key (from {field}); the \
                 row is skipped."
            ),
        )
        .with_field(field);
        cells.errors.push(error.into());
    }

    /// A firm list row: the organisation, its observations, its contact person.
    fn firm_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let Some((org, key_field)) = firm(cells, true) else {
            cells.missing("firm.name");
            return Vec::new();
        };
        // A firm list in long form repeats the firm on every row of its figures (one row
        // per year): the firm is emitted again and the hub reads a repeated key with the
        // same values once, and reports one with other values as a duplicate. So no key
        // is kept here, whatever the size of the file.
        let _ = key_field;
        let mut records = Vec::new();
        let mut org = org;
        let memberships = memberships(cells, &mut org);
        let observations = observations(cells, &org);
        let contact = contact(cells, &org);
        records.push(org.into());
        records.extend(memberships.into_iter().map(Record::from));
        records.extend(observations.into_iter().map(Record::from));
        if let Some((person, affiliation)) = contact {
            records.push(person.into());
            records.push(affiliation.into());
        }
        records
    }

    /// An attendance row: the person, their firm (once per import), the participation.
    fn participant_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        // The sheet's own event, when it gives its title (a constant or a cell above the
        // header): emitted with every row, so that a rejected row does not take the event
        // (and every later row) with it; the hub reads the repeats once.
        let own_event = self.sheet_event(cells);
        let Some(event) = cells
            .text("event.source_key")
            .or_else(|| own_event.as_ref().map(|e| e.0.clone()))
        else {
            cells.missing("event.source_key");
            return Vec::new();
        };
        let name = cells.personal("person.name");
        let cnic = cells.personal("person.cnic");
        if name.is_none() && cnic.is_none() {
            cells.missing(if cells.plan.has("person.name") {
                "person.name"
            } else {
                "person.cnic"
            });
            return Vec::new();
        }
        let serial = cells
            .text("participation.serial")
            .unwrap_or_else(|| cells.row.number.to_string());
        let key = format!("{event}/{serial}");
        if self.seen(RecordKind::Participation, &key) {
            let field = if cells.plan.has("participation.serial") {
                "participation.serial"
            } else {
                "event.source_key"
            };
            Self::duplicate(cells, "a participant", field);
            return Vec::new();
        }
        self.first(RecordKind::Participation, &key);
        self.first(RecordKind::Person, &key);
        let sex = cells.choice("person.sex", Vocabulary::Sex, targets::sex);
        let person = Person {
            full_name: name,
            sex,
            cnic,
            phone: cells.personal("person.phone"),
            email: cells.personal("person.email"),
            ..Person::new(key.clone())
        };
        let mut records: Vec<Record> = own_event.map(|(_, r)| r).unwrap_or_default();
        records.push(person.into());
        let organisation = firm(cells, false).map(|(org, _)| org);
        let organisation_key = organisation.as_ref().map(|o| o.source_key.clone());
        if let Some(org) = organisation
            && self.first(RecordKind::Organisation, &org.source_key)
        {
            records.push(org.into());
        }
        let certificate_number = cells.text("participation.certificate_number");
        let completed = if cells.plan.has("participation.completed") {
            cells.boolean("participation.completed")
        } else if cells.plan.has("participation.certificate_number") {
            // Certificates are issued on completion; attendance alone does not say.
            Some(certificate_number.is_some())
        } else {
            None
        };
        records.push(
            Participation {
                person_key: Some(key.clone()),
                organisation_key,
                role: cells.text("participation.role"),
                sex,
                attendance_pct: cells.number("participation.attendance_pct"),
                pre_score: cells.number("participation.pre_score"),
                post_score: cells.number("participation.post_score"),
                completed,
                certificate_number,
                ..Participation::new(key, event)
            }
            .into(),
        );
        records
    }

    /// The event an attendance sheet gives itself (`event.title`, from a constant or a cell
    /// above the header): its key (`event.source_key`, else the title and start date
    /// folded, `basic-export-marketing/2024-03-12`) and its records (the provider, the
    /// event). `None` when the sheet names no title.
    fn sheet_event(&mut self, cells: &mut Cells<'_>) -> Option<(String, Vec<Record>)> {
        let title = cells.text("event.title")?;
        let start_date = cells.date("event.start_date");
        let key = cells.text("event.source_key").unwrap_or_else(|| {
            let start = start_date.map_or_else(|| "undated".to_owned(), |d| d.to_string());
            format!("{}/{start}", fold(&title).replace(' ', "-"))
        });
        let mut records = Vec::new();
        let provider_organisation_key = cells.text("event.provider").map(|provider| {
            let key = format!("provider:{}", fold(&provider));
            self.first(RecordKind::Organisation, &key);
            records.push(
                Organisation::new(key.clone(), OrganisationKind::TrainingProvider, provider).into(),
            );
            key
        });
        records.push(
            TrainingEvent {
                provider_organisation_key,
                start_date,
                end_date: cells.date("event.end_date"),
                venue_district: cells.text("event.venue_district"),
                venue: cells.text("event.venue"),
                cluster: cells.text("event.cluster"),
                modality: cells.choice("event.modality", Vocabulary::Modality, targets::modality),
                ..TrainingEvent::new(key.clone(), title)
            }
            .into(),
        );
        Some((key, records))
    }

    /// A training event row: its course and provider (once per import), the event.
    fn event_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let code = cells.text("event.code");
        let Some(key) = cells.text("event.source_key").or_else(|| code.clone()) else {
            cells.missing(if cells.plan.has("event.code") {
                "event.code"
            } else {
                "event.source_key"
            });
            return Vec::new();
        };
        let course_title = cells.text("course.title");
        let Some(title) = cells.text("event.title").or_else(|| course_title.clone()) else {
            cells.missing(if cells.plan.has("event.title") {
                "event.title"
            } else {
                "course.title"
            });
            return Vec::new();
        };
        if self.seen(RecordKind::TrainingEvent, &key) {
            let field = if cells.plan.has("event.source_key") {
                "event.source_key"
            } else {
                "event.code"
            };
            Self::duplicate(cells, "an event", field);
            return Vec::new();
        }
        self.first(RecordKind::TrainingEvent, &key);
        let mut records = Vec::new();
        let course_code = cells.text("course.code");
        let course_key = match (&course_code, &course_title) {
            (Some(code), _) => Some(code.clone()),
            (None, Some(title)) => Some(format!("course:{}", fold(title))),
            (None, None) => None,
        };
        if let Some(course_key) = &course_key
            && self.first(RecordKind::Course, course_key)
        {
            records.push(
                Course {
                    code: course_code.clone(),
                    topic: cells.text("course.topic"),
                    hours: cells.number("course.hours"),
                    ..Course::new(
                        course_key.clone(),
                        course_title.clone().unwrap_or_else(|| title.clone()),
                    )
                }
                .into(),
            );
        }
        let provider_key = cells.text("event.provider").map(|provider| {
            let provider_key = format!("provider:{}", fold(&provider));
            if self.first(RecordKind::Organisation, &provider_key) {
                records.push(
                    Organisation::new(
                        provider_key.clone(),
                        OrganisationKind::TrainingProvider,
                        provider,
                    )
                    .into(),
                );
            }
            provider_key
        });
        let trainers = cells
            .personal("event.trainers")
            .map(|all| split(all.expose(), &[';']).map(Personal::new).collect())
            .unwrap_or_default();
        records.push(
            TrainingEvent {
                course_key,
                code,
                provider_organisation_key: provider_key,
                trainers,
                start_date: cells.date("event.start_date"),
                end_date: cells.date("event.end_date"),
                venue_district: cells.text("event.venue_district"),
                venue: cells.text("event.venue"),
                cluster: cells.text("event.cluster"),
                modality: cells.choice("event.modality", Vocabulary::Modality, targets::modality),
                ..TrainingEvent::new(key, title)
            }
            .into(),
        );
        records
    }

    /// A results-framework row: one value per value column that holds one.
    fn indicator_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let Some(code) = cells.text("indicator.code") else {
            cells.missing("indicator.code");
            return Vec::new();
        };
        let organisation_key = cells.text("value.organisation_key");
        let cluster = cells.text("value.cluster");
        let programme = cells.text("value.programme");
        let area = cells.text("value.area");
        let scope = if cells.plan.has("value.scope") {
            match cells.choice("value.scope", Vocabulary::Scope, targets::scope) {
                Some(scope) => scope,
                None => {
                    if cells.text("value.scope").is_none() {
                        cells.missing("value.scope");
                    }
                    return Vec::new();
                }
            }
        } else if organisation_key.is_some() {
            IndicatorScope::Firm
        } else if cluster.is_some() {
            IndicatorScope::Cluster
        } else if programme.is_some() {
            IndicatorScope::Programme
        } else {
            IndicatorScope::Area
        };
        let (scope_name, scope_field, scope_value) = match scope {
            IndicatorScope::Firm => ("firm", "value.organisation_key", &organisation_key),
            IndicatorScope::Cluster => ("cluster", "value.cluster", &cluster),
            IndicatorScope::Programme => ("programme", "value.programme", &programme),
            IndicatorScope::Area => ("area", "value.area", &area),
        };
        let Some(scope_value) = scope_value.clone() else {
            let field = if cells.plan.has(scope_field) || !cells.plan.has("value.cluster") {
                scope_field
            } else {
                "value.cluster"
            };
            let error = RowError::error(
                cells.field_ref(field),
                codes::MISSING_REQUIRED,
                "The row names no firm, cluster, programme or area the value is about; the row \
                 is skipped.",
            )
            .with_field(field);
            cells.errors.push(error.into());
            return Vec::new();
        };
        let period = if cells.plan.has("value.year") {
            cells.year("value.year").map(|y| y.to_string())
        } else {
            cells.text("value.period")
        };
        let Some(period) = period else {
            if !cells.failed_field(if cells.plan.has("value.year") {
                "value.year"
            } else {
                "value.period"
            }) {
                cells.missing(if cells.plan.has("value.year") {
                    "value.year"
                } else {
                    "value.period"
                });
            }
            return Vec::new();
        };
        let breakdown = cells.text("value.breakdown");
        let breakdown_value = cells.text("value.breakdown_value");
        let breakdown_key = match (&breakdown, &breakdown_value) {
            (None, None) => "total".to_owned(),
            (b, v) => format!(
                "{}={}",
                b.as_deref().unwrap_or_default(),
                v.as_deref().unwrap_or_default()
            ),
        };
        let series = format!("{code}|{scope_name}:{scope_value}|{breakdown_key}");
        let mut values: Vec<(ValueType, f64)> = Vec::new();
        if let Some(baseline) = cells.number("value.baseline") {
            let first =
                !cells.plan.baseline_once_per_series || self.baselines.insert(series.clone());
            if first {
                values.push((ValueType::Baseline, baseline));
            }
        }
        if let Some(target) = cells.number("value.target") {
            values.push((ValueType::Target, target));
        }
        if let Some(actual) = cells.number("value.actual") {
            values.push((ValueType::Actual, actual));
        }
        if let Some(value) = cells.number("value.value") {
            match cells.choice(
                "value.value_type",
                Vocabulary::ValueType,
                targets::value_type,
            ) {
                Some(value_type) => values.push((value_type, value)),
                None => {
                    if cells.text("value.value_type").is_none() {
                        cells.missing("value.value_type");
                    }
                }
            }
        }
        let indicator_name = cells.text("indicator.name");
        let indicator_unit = cells.text("indicator.unit");
        let note = cells.text("value.note");
        let mut records = Vec::new();
        for (value_type, value) in values {
            let type_name = match value_type {
                ValueType::Baseline => "baseline",
                ValueType::Target => "target",
                ValueType::Actual => "actual",
            };
            let key = format!("{series}|{period}|{type_name}");
            if !self.first(RecordKind::IndicatorValue, &key) {
                Self::duplicate(cells, "an indicator value", "indicator.code");
                continue;
            }
            records.push(
                IndicatorValue {
                    organisation_key: organisation_key.clone(),
                    cluster: cluster.clone(),
                    programme: programme.clone(),
                    area: area.clone(),
                    breakdown: breakdown.clone(),
                    breakdown_value: breakdown_value.clone(),
                    note: note.clone(),
                    indicator_name: indicator_name.clone(),
                    indicator_unit: indicator_unit.clone(),
                    ..IndicatorValue::new(
                        key,
                        code.clone(),
                        scope,
                        period.clone(),
                        value_type,
                        value,
                    )
                }
                .into(),
            );
        }
        records
    }

    /// A network row.
    fn network_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let Some(name) = cells.text("network.name") else {
            cells.missing("network.name");
            return Vec::new();
        };
        let key = cells
            .text("network.source_key")
            .unwrap_or_else(|| fold(&name));
        let Some(kind) = cells.choice(
            "network.kind",
            Vocabulary::NetworkKind,
            targets::network_kind,
        ) else {
            if cells.text("network.kind").is_none() {
                cells.missing("network.kind");
            }
            return Vec::new();
        };
        if !self.first(RecordKind::Network, &key) {
            let field = if cells.plan.has("network.source_key") {
                "network.source_key"
            } else {
                "network.name"
            };
            Self::duplicate(cells, "a network", field);
            return Vec::new();
        }
        vec![
            Network {
                cluster: cells.text("network.cluster"),
                programme: cells.text("network.programme"),
                formed_on: cells.date("network.formed_on"),
                dissolved_on: cells.date("network.dissolved_on"),
                description: cells.text("network.description"),
                ..Network::new(key, name, kind)
            }
            .into(),
        ]
    }

    /// A partner agency row of a programme definition: the agency's organisation, keyed
    /// by its name ([`crate::programme::agency_key`]).
    fn agency_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let Some(name) = cells.text("agency.name") else {
            cells.missing("agency.name");
            return Vec::new();
        };
        let kind = if cells.text("agency.kind").is_some() {
            match cells.choice(
                "agency.kind",
                Vocabulary::OrganisationKind,
                targets::organisation_kind,
            ) {
                Some(kind) => kind,
                None => return Vec::new(),
            }
        } else {
            OrganisationKind::Agency
        };
        let key = crate::programme::agency_key(&name);
        if !self.first(RecordKind::Organisation, &key) {
            Self::duplicate(cells, "an agency", "agency.name");
            return Vec::new();
        }
        let mut org = Organisation::new(key.clone(), kind, name);
        org.website = cells.text("agency.website");
        org.district = cells.text("agency.district");
        org.address = cells.text("agency.address");
        if let Some(iati) = cells.text("agency.iati") {
            org.identifiers
                .push(IdentifierValue::new(schemes::IATI_ORG, iati));
        }
        self.agencies.insert(key, org.clone());
        vec![org.into()]
    }

    /// A programme row: its agencies (each once per import, unless an agencies sheet gave
    /// it before), then the programme.
    fn programme_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let code = cells.text("programme.code");
        let name = cells.text("programme.name");
        if code.is_none() {
            cells.missing("programme.code");
        }
        if name.is_none() {
            cells.missing("programme.name");
        }
        let (Some(code), Some(name)) = (code, name) else {
            return Vec::new();
        };
        if !self.first(RecordKind::Programme, &code) {
            Self::duplicate(cells, "a programme", "programme.code");
            return Vec::new();
        }
        // Each agency the row names, repeated on every row with the content it was first
        // given: one rejected programme row never orphans another's agency.
        let mut records = Vec::new();
        let mut agency = |field: &str, kind: OrganisationKind| -> Option<String> {
            let name = cells.text(field)?;
            let key = crate::programme::agency_key(&name);
            let org = self
                .agencies
                .entry(key.clone())
                .or_insert_with(|| Organisation::new(key.clone(), kind, name));
            records.push(org.clone().into());
            Some(key)
        };
        let lead = agency("programme.lead", OrganisationKind::Agency);
        let assistance = agency("programme.technical_assistance", OrganisationKind::Agency);
        let funder = agency("programme.funder", OrganisationKind::Donor);
        let mut programme = Programme::new(code, name);
        programme.lead_organisation_key = lead;
        programme.technical_assistance_organisation_key = assistance;
        programme.funder_organisation_key = funder;
        programme.description = cells.text("programme.description");
        programme.start_date = cells.date("programme.start_date");
        programme.end_date = cells.date("programme.end_date");
        records.push(programme.into());
        records
    }

    /// A cluster row: lists in one cell are split on commas, semicolons and line breaks.
    fn cluster_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let fields = ["cluster.slug", "cluster.name", "cluster.sector"];
        let values: Vec<Option<String>> = fields.iter().map(|f| cells.text(f)).collect();
        for (field, value) in fields.iter().zip(&values) {
            if value.is_none() {
                cells.missing(field);
            }
        }
        let [Some(slug), Some(name), Some(sector)] =
            <[Option<String>; 3]>::try_from(values).unwrap_or([None, None, None])
        else {
            return Vec::new();
        };
        if !self.first(RecordKind::Cluster, &slug) {
            Self::duplicate(cells, "a cluster", "cluster.slug");
            return Vec::new();
        }
        let list = |field: &str| -> Vec<String> {
            cells
                .text(field)
                .map(|text| {
                    text.split([',', ';', '\n'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut cluster = Cluster::new(slug, name, sector);
        cluster.districts = list("cluster.districts");
        cluster.isic_classes = list("cluster.isic_classes");
        cluster.hs_basket = list("cluster.hs_basket");
        cluster.hs_revision = cells.text("cluster.hs_revision");
        cluster.programme = cells.text("cluster.programme");
        cluster.description = cells.text("cluster.description");
        vec![cluster.into()]
    }

    /// A network member row: the firm (once per import), the membership.
    fn member_row(&mut self, cells: &mut Cells<'_>) -> Vec<Record> {
        let Some(network_key) = cells
            .text("network.source_key")
            .or_else(|| cells.text("network.name").map(|name| fold(&name)))
        else {
            cells.missing(if cells.plan.has("network.source_key") {
                "network.source_key"
            } else {
                "network.name"
            });
            return Vec::new();
        };
        let Some((org, key_field)) = firm(cells, false) else {
            cells.missing("firm.name");
            return Vec::new();
        };
        let key = format!("{network_key}/{}", org.source_key);
        if self.seen(RecordKind::NetworkMember, &key) {
            Self::duplicate(cells, "a network member", key_field);
            return Vec::new();
        }
        self.first(RecordKind::NetworkMember, &key);
        let mut records = Vec::new();
        let organisation_key = org.source_key.clone();
        if self.first(RecordKind::Organisation, &org.source_key) {
            records.push(org.into());
        }
        records.push(
            NetworkMember {
                role: cells.choice(
                    "member.role",
                    Vocabulary::NetworkRole,
                    targets::network_role,
                ),
                joined_on: cells.date("member.joined_on"),
                left_on: cells.date("member.left_on"),
                ..NetworkMember::new(key, network_key, organisation_key)
            }
            .into(),
        );
        records
    }
}

/// The identifier fields and their schemes, in the order of [`IdentifierValue`]s.
const IDENTIFIERS: [(&str, &str); 5] = [
    ("firm.ntn", schemes::NTN),
    ("firm.secp", schemes::SECP),
    ("firm.strn", schemes::STRN),
    ("firm.registry_unit", schemes::PSIC_PUNJAB_UNIT),
    ("firm.chamber_membership", schemes::CHAMBER_MEMBERSHIP),
];

/// The prefix of a key built from an identifier of `scheme`.
fn key_prefix(scheme: &str) -> String {
    if scheme.eq_ignore_ascii_case(schemes::NTN) {
        "ntn".to_owned()
    } else if scheme.eq_ignore_ascii_case(schemes::SECP) {
        "secp".to_owned()
    } else if scheme.eq_ignore_ascii_case(schemes::PSIC_PUNJAB_UNIT) {
        "unit".to_owned()
    } else {
        scheme.to_owned()
    }
}

/// The firm of a row (`None` without a name), with the field its key comes from.
///
/// The key is, in this order: `firm.source_key`; a key built from a cited identifier
/// (`firm.id.<scheme>` in field order, written `<scheme>:<value>`), the NTN (`ntn:…`), the
/// SECP number (`secp:…`) or the registry unit number (`unit:…`), as written and trimmed,
/// never from a value that may be a CNIC; else `name:<folded name>`, followed in a firm
/// list by `|<folded district>`.
fn firm(cells: &mut Cells<'_>, firm_list: bool) -> Option<(Organisation, &'static str)> {
    let name = cells.text("firm.name")?;
    let mut identifiers = Vec::new();
    let mut candidates: Vec<(String, &'static str)> = Vec::new();
    let cited: Vec<String> = cells
        .plan
        .fields
        .keys()
        .filter(|f| f.starts_with(FIRM_ID_PREFIX))
        .cloned()
        .collect();
    for field in &cited {
        let scheme = field[FIRM_ID_PREFIX.len()..].trim();
        if let Some(value) = cells.text(field) {
            let id = IdentifierValue::new(scheme, value);
            if !id.may_be_personal() {
                candidates.push((format!("{}:{}", key_prefix(scheme), id.value), "firm.id"));
            }
            identifiers.push(id);
        }
    }
    let mut own = Vec::new();
    for (field, scheme) in IDENTIFIERS {
        if let Some(value) = cells.text(field) {
            let id = IdentifierValue::new(scheme, value);
            if !id.may_be_personal() && field != "firm.strn" && field != "firm.chamber_membership" {
                candidates.push((format!("{}:{}", key_prefix(scheme), id.value), field));
            }
            own.push(id);
        }
    }
    own.extend(identifiers);
    let identifiers = own;
    let source_key = cells.text("firm.source_key");
    let has_id = source_key.is_some() || !identifiers.is_empty();
    let (key, key_field) = match source_key {
        Some(key) => (key, "firm.source_key"),
        None => candidates.into_iter().next().unwrap_or_else(|| {
            let mut key = format!("name:{}", fold(&name));
            if firm_list {
                key.push('|');
                key.push_str(
                    &cells
                        .text("firm.district")
                        .map(|d| fold(&d))
                        .unwrap_or_default(),
                );
            }
            (key, "firm.name")
        }),
    };
    let kind = cells
        .choice(
            "firm.kind",
            Vocabulary::OrganisationKind,
            targets::organisation_kind,
        )
        .or_else(|| {
            (!has_id)
                .then(|| {
                    cells.choice(
                        "firm.kind_without_id",
                        Vocabulary::OrganisationKind,
                        targets::organisation_kind,
                    )
                })
                .flatten()
        })
        .unwrap_or(OrganisationKind::Firm);
    let clusters = cells
        .text("firm.cluster")
        .map(|all| split(&all, &[';', ',']).collect())
        .unwrap_or_default();
    let org = Organisation {
        legal_form: cells.text("firm.legal_form"),
        district: cells.text("firm.district"),
        tehsil: cells.text("firm.tehsil"),
        address: cells.text("firm.address"),
        website: cells.text("firm.website"),
        phone: cells.personal("firm.phone"),
        email: cells.personal("firm.email"),
        industry_code: cells.text("firm.industry_code"),
        industry_classification: cells.text("firm.industry_classification"),
        founded_year: cells.year("firm.founded_year"),
        employees_total: cells.count("firm.employees_total"),
        employees_female: cells.count("firm.employees_female"),
        registered_on: cells.date("firm.registered_on"),
        status: cells.choice(
            "firm.status",
            Vocabulary::OrganisationStatus,
            targets::organisation_status,
        ),
        observed_on: cells.date("firm.observed_on"),
        identifiers,
        clusters,
        ..Organisation::new(key, kind, name)
    };
    Some((org, key_field))
}

/// The dated cluster memberships of a firm list row, when `membership.valid_from` or
/// `membership.valid_to` is mapped: each cluster of the organisation becomes a
/// [`ClusterMembership`] keyed `<firm key>/<cluster>` (and leaves `clusters`).
fn memberships(cells: &mut Cells<'_>, org: &mut Organisation) -> Vec<ClusterMembership> {
    if !cells.plan.has("membership.valid_from") && !cells.plan.has("membership.valid_to") {
        return Vec::new();
    }
    let valid_from = cells.date("membership.valid_from");
    let valid_to = cells.date("membership.valid_to");
    std::mem::take(&mut org.clusters)
        .into_iter()
        .map(|cluster| ClusterMembership {
            valid_from,
            valid_to,
            ..ClusterMembership::new(
                format!("{}/{cluster}", org.source_key),
                cluster,
                org.source_key.clone(),
            )
        })
        .collect()
}

/// The observations of a firm list row: the `observation.*` fields for
/// `observation.period` (taking `firm.employees_*` when no `observation.employees_*` is
/// mapped), and each `[[sheets.observations]]` group; figures for one period are merged.
/// An observation without any figure is left out.
fn observations(cells: &mut Cells<'_>, org: &Organisation) -> Vec<FirmObservation> {
    let mut out: Vec<FirmObservation> = Vec::new();
    if let Some(period) = cells.text("observation.period") {
        let mut observation = FirmObservation::new(org.source_key.clone(), period);
        observation.employees_total = if cells.plan.has("observation.employees_total") {
            cells.count("observation.employees_total")
        } else {
            org.employees_total
        };
        observation.employees_female = if cells.plan.has("observation.employees_female") {
            cells.count("observation.employees_female")
        } else {
            org.employees_female
        };
        observation.turnover_pkr = cells.number("observation.turnover_pkr");
        observation.exports_usd = cells.number("observation.exports_usd");
        observation.certifications = cells
            .text("observation.certifications")
            .map(|all| split(&all, &[';']).collect())
            .unwrap_or_default();
        out.push(observation);
    }
    let plan = cells.plan;
    for group in &plan.observations {
        let index = match out.iter().position(|o| o.period == group.period) {
            Some(index) => index,
            None => {
                out.push(FirmObservation::new(
                    org.source_key.clone(),
                    group.period.clone(),
                ));
                out.len() - 1
            }
        };
        for (field, column) in &group.columns {
            let label = field.field();
            let Some(raw) = cells.column(*column) else {
                continue;
            };
            match field {
                ObservationField::EmployeesTotal => {
                    if let Some(n) = cells.count_raw(raw, &label) {
                        out[index].employees_total = Some(n);
                    }
                }
                ObservationField::EmployeesFemale => {
                    if let Some(n) = cells.count_raw(raw, &label) {
                        out[index].employees_female = Some(n);
                    }
                }
                ObservationField::TurnoverPkr => {
                    if let Some(n) = cells.number_raw(raw, &label) {
                        out[index].turnover_pkr = Some(n);
                    }
                }
                ObservationField::ExportsUsd => {
                    if let Some(n) = cells.number_raw(raw, &label) {
                        out[index].exports_usd = Some(n);
                    }
                }
                ObservationField::Certifications => {
                    if let Some(text) = raw.text() {
                        out[index].certifications = split(&text, &[';']).collect();
                    }
                }
            }
        }
    }
    out.retain(|o| {
        o.employees_total.is_some()
            || o.employees_female.is_some()
            || o.turnover_pkr.is_some()
            || o.exports_usd.is_some()
            || !o.certifications.is_empty()
    });
    out
}

/// The contact person of a firm list row and their affiliation, when the row names one.
fn contact(cells: &mut Cells<'_>, org: &Organisation) -> Option<(Person, Affiliation)> {
    let name = cells.personal("contact.name");
    let cnic = cells.personal("contact.cnic");
    if name.is_none() && cnic.is_none() {
        return None;
    }
    let key = format!("{}/contact", org.source_key);
    let person = Person {
        full_name: name,
        cnic,
        phone: cells.personal("contact.phone"),
        email: cells.personal("contact.email"),
        sex: cells.choice("contact.sex", Vocabulary::Sex, targets::sex),
        observed_on: org.observed_on,
        ..Person::new(key.clone())
    };
    let affiliation = Affiliation {
        title: cells.text("contact.title"),
        valid_from: org.observed_on,
        ..Affiliation::new(
            key.clone(),
            key,
            org.source_key.clone(),
            AffiliationRole::Contact,
        )
    };
    Some((person, affiliation))
}

/// The trimmed, non-empty parts of `text` between the separators.
fn split<'t>(text: &'t str, separators: &'t [char]) -> impl Iterator<Item = String> + 't {
    text.split(separators)
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
}

/// A value as the row gives it: a non-empty cell of a column, or a constant.
#[derive(Debug, Clone, Copy)]
enum Raw<'a> {
    Cell(&'a Cell, usize),
    Constant(&'a str),
}

impl Raw<'_> {
    fn text(self) -> Option<String> {
        let text = match self {
            Raw::Cell(cell, _) => cell.to_text(),
            Raw::Constant(text) => text.to_owned(),
        };
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn number(self) -> Option<f64> {
        match self {
            Raw::Cell(cell, _) => cell.as_number(),
            Raw::Constant(text) => parse_number(text),
        }
    }
}

/// The cells of one row as the plan reads them, collecting row errors.
struct Cells<'a> {
    plan: &'a SheetPlan,
    row: &'a Row,
    errors: Vec<Item>,
    /// Columns already reported, so that a column read twice is reported once.
    failed: HashSet<usize>,
}

impl<'a> Cells<'a> {
    fn new(plan: &'a SheetPlan, row: &'a Row) -> Self {
        Self {
            plan,
            row,
            errors: Vec::new(),
            failed: HashSet::new(),
        }
    }

    fn row_ref(&self) -> SourceRef {
        let mut source_ref = SourceRef::new(self.plan.file.clone()).with_row(self.row.number);
        source_ref.sheet.clone_from(&self.plan.sheet);
        source_ref
    }

    /// The row's reference, narrowed to the field's column when a column feeds it.
    fn field_ref(&self, field: &str) -> SourceRef {
        match self.plan.fields.get(field) {
            Some(FieldSource::Column(index)) => {
                self.row_ref().with_column(self.plan.column_name(*index))
            }
            _ => self.row_ref(),
        }
    }

    fn column(&self, index: usize) -> Option<Raw<'a>> {
        let cell = self.row.cell(index);
        (!cell.is_empty()).then_some(Raw::Cell(cell, index))
    }

    fn raw(&self, field: &str) -> Option<Raw<'a>> {
        match self.plan.fields.get(field)? {
            FieldSource::Column(index) => self.column(*index),
            FieldSource::Constant(text) => Some(Raw::Constant(text)),
        }
    }

    fn text(&self, field: &str) -> Option<String> {
        self.raw(field).and_then(Raw::text)
    }

    fn personal(&self, field: &str) -> Option<Personal> {
        self.text(field).map(Personal::new)
    }

    /// Whether the field's column was reported already in this row.
    fn failed_field(&self, field: &str) -> bool {
        matches!(self.plan.fields.get(field), Some(FieldSource::Column(i)) if self.failed.contains(i))
    }

    /// Reports a value that does not read, once per column.
    fn fail(&mut self, raw: Raw<'_>, error: impl FnOnce(SourceRef) -> RowError) {
        let source_ref = match raw {
            Raw::Cell(_, index) => {
                if !self.failed.insert(index) {
                    return;
                }
                self.row_ref().with_column(self.plan.column_name(index))
            }
            Raw::Constant(_) => self.row_ref(),
        };
        self.errors.push(error(source_ref).into());
    }

    fn missing(&mut self, field: &str) {
        let error = RowError::missing_required(self.field_ref(field), field);
        self.errors.push(error.into());
    }

    fn number(&mut self, field: &str) -> Option<f64> {
        let raw = self.raw(field)?;
        self.number_raw(raw, field)
    }

    fn number_raw(&mut self, raw: Raw<'_>, field: &str) -> Option<f64> {
        let value = raw.number();
        if value.is_none() {
            self.fail(raw, |r| RowError::invalid_number(r, field));
        }
        value
    }

    fn count(&mut self, field: &str) -> Option<u32> {
        let raw = self.raw(field)?;
        self.count_raw(raw, field)
    }

    fn count_raw(&mut self, raw: Raw<'_>, field: &str) -> Option<u32> {
        let value = self.number_raw(raw, field)?;
        let whole = value >= 0.0 && value.fract() == 0.0 && value <= f64::from(u32::MAX);
        if !whole {
            self.fail(raw, |r| {
                RowError::error(
                    r,
                    codes::INVALID_NUMBER,
                    format!("The field {field} must be a whole number of 0 or more."),
                )
                .with_field(field)
            });
            return None;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a whole number within u32 above"
        )]
        Some(value as u32)
    }

    fn year(&mut self, field: &str) -> Option<i32> {
        let raw = self.raw(field)?;
        if let Raw::Cell(Cell::Date(date), _) = raw {
            return Some(date.year());
        }
        let value = self.number_raw(raw, field)?;
        if value.fract() != 0.0 || !(1000.0..=9999.0).contains(&value) {
            self.fail(raw, |r| {
                RowError::error(
                    r,
                    codes::INVALID_NUMBER,
                    format!("The field {field} must be a year of four digits."),
                )
                .with_field(field)
            });
            return None;
        }
        #[expect(
            clippy::cast_possible_truncation,
            reason = "checked to be a whole number from 1000 to 9999 above"
        )]
        Some(value as i32)
    }

    fn date(&mut self, field: &str) -> Option<Date> {
        let raw = self.raw(field)?;
        let value = match raw {
            Raw::Cell(cell, _) => cell.as_date(),
            Raw::Constant(text) => parse_text_date(text),
        };
        if value.is_none() {
            self.fail(raw, |r| RowError::invalid_date(r, field));
        }
        value
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        let raw = self.raw(field)?;
        let value = match raw {
            Raw::Cell(Cell::Bool(b), _) => Some(*b),
            Raw::Cell(Cell::Number(n), _) if *n == 0.0 || *n == 1.0 => Some(*n == 1.0),
            other => other.text().and_then(|t| targets::boolean(&t)),
        };
        if value.is_none() {
            self.fail(raw, |r| {
                RowError::error(
                    r,
                    codes::INVALID_VALUE,
                    format!("The field {field} must be yes or no."),
                )
                .with_field(field)
            });
        }
        value
    }

    fn choice<T>(
        &mut self,
        field: &str,
        vocabulary: Vocabulary,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = self.raw(field)?;
        let value = raw.text().and_then(|t| parse(&t));
        if value.is_none() {
            self.fail(raw, |r| {
                RowError::error(
                    r,
                    codes::UNKNOWN_CODE,
                    format!(
                        "The field {field} must be one of {}.",
                        vocabulary.expected()
                    ),
                )
                .with_field(field)
            });
        }
        value
    }
}
