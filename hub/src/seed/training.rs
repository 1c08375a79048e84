//! `training_attendance_2022_2024.xlsx`: training events and their attendance sheets
//! (source `cdi-training`).
//!
//! Sheet `Events`, header in row 1:
//!
//! ```text
//! Event Code | Course Code | Course Title | Topic | Hours | Provider | Trainers | Start Date |
//! End Date | Venue District | Cluster | Modality
//! ```
//!
//! then one sheet per event, named by its event code: title rows, then the header row
//!
//! ```text
//! S# | Participant Name | Gender | CNIC | Mobile | Firm / Organisation | Survey ID |
//! Designation | Attendance % | Pre-test | Post-test | Certificate No.
//! ```
//!
//! Participants are personal data. Each becomes a person record keyed by the keyed hash of
//! the CNIC, so that one person attending several events is one record and one person; a
//! participant's organisation at the time is the firm of the Survey ID, or the agency
//! named in `Firm / Organisation` when agency staff are trained.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use hub_schema::domain::{Cnic, normalise_name};
use hub_schema::entity::{courses, participations, training_events};
use sea_orm::ActiveModelTrait as _;

use super::clusters::Catalogue;
use super::firms::Firms;
use super::people::{CnicRef, PersonRecord, Persons};
use super::values::sex;
use super::xlsx::{Row, Workbook};
use super::{Ctx, DemoFile, Loc};
use crate::provenance::insert_chunked;

const FILE: DemoFile = DemoFile::Training;
const SOURCE: &str = "cdi-training";
const SURVEY_SOURCE: &str = "cdi-survey-2023";
const EVENTS: &str = "Events";

struct EventRow {
    loc: Loc,
    code: String,
    course_code: Option<String>,
    course_title: String,
    topic: Option<String>,
    hours: Option<f64>,
    provider: Option<String>,
    trainers: Option<String>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    venue_district_id: Option<i64>,
    cluster_id: Option<i64>,
    modality: Option<&'static str>,
}

struct AttendanceRow {
    loc: Loc,
    event_code: String,
    key: String,
    person_key: String,
    sex: Option<&'static str>,
    organisation: Option<String>,
    survey_id: Option<String>,
    designation: Option<String>,
    attendance: Option<f64>,
    pre: Option<f64>,
    post: Option<f64>,
    certificate: Option<String>,
}

/// The parsed training file.
pub(super) struct Training {
    events: Vec<EventRow>,
    attendance: Vec<AttendanceRow>,
    /// One record per participant (per CNIC hash), with the values of the latest sheet.
    pub(super) persons: Vec<PersonRecord>,
}

/// Reads the events and their attendance sheets.
pub(super) fn parse(ctx: &mut Ctx<'_>, catalogue: &Catalogue) -> anyhow::Result<Training> {
    let mut workbook = Workbook::open(FILE.bytes(), FILE.name())?;
    let sheet_names = workbook.sheet_names();
    let sheet = workbook.sheet(
        EVENTS,
        &["Event Code", "Course Title", "Provider", "Start Date"],
    )?;
    let mut events = Vec::new();
    let mut codes = HashSet::new();
    let mut rows_read = 0;
    for row in sheet.rows() {
        rows_read += 1;
        let loc = Loc::new(FILE, Some(EVENTS), row.number);
        if let Some(event) = event_row(ctx, catalogue, &row, loc, &mut codes) {
            events.push(event);
        }
    }

    let mut attendance = Vec::new();
    let mut latest: HashMap<String, PersonRecord> = HashMap::new();
    let mut others = Vec::new();
    for event in &events {
        if !sheet_names.contains(&event.code) {
            ctx.warn(
                &event.loc,
                "Event Code",
                "event_code",
                "missing_sheet",
                "No attendance sheet is named after the event; the event has no participants.",
            );
            continue;
        }
        let sheet = workbook.sheet(
            &event.code,
            &["Participant Name", "CNIC", "Survey ID", "Attendance %"],
        )?;
        let observed = event.end.or(event.start);
        let mut keys = HashSet::new();
        for row in sheet.rows() {
            rows_read += 1;
            let loc = Loc::new(FILE, Some(&event.code), row.number);
            let key = format!(
                "{}#{}",
                event.code,
                row.text("S#").unwrap_or_else(|| row.number.to_string())
            );
            if !keys.insert(key.clone()) {
                ctx.reject(
                    &loc,
                    "S#",
                    "source_key",
                    "duplicate_key",
                    "The serial number appears on an earlier row of the sheet; the row is skipped.",
                );
                continue;
            }
            let cnic = row.text("CNIC").and_then(|raw| match Cnic::parse(&raw) {
                Ok(cnic) => Some(CnicRef::new(&cnic, ctx.key)),
                Err(e) => {
                    ctx.warn(
                        &loc,
                        "CNIC",
                        "cnic",
                        "invalid_identifier",
                        format!("{e} The participant is kept as a person of their own."),
                    );
                    None
                }
            });
            let gender = row.text("Gender");
            let participant_sex = gender.as_deref().and_then(sex);
            if gender.is_some() && participant_sex.is_none() {
                ctx.warn(
                    &loc,
                    "Gender",
                    "sex",
                    "unknown_sex",
                    "The gender is not Female, Male, F or M; it is left out.",
                );
            }
            let person = PersonRecord {
                loc: loc.clone(),
                source: SOURCE,
                key: cnic
                    .as_ref()
                    .map_or_else(|| key.clone(), |c| c.hash.clone()),
                full_name: row.text("Participant Name"),
                sex: participant_sex,
                cnic,
                phone: row.text("Mobile"),
                observed_on: observed,
                attributes: None,
            };
            let person_key = person.key.clone();
            if person.cnic.is_some() {
                let newer = latest
                    .get(&person_key)
                    .is_none_or(|known| known.observed_on <= person.observed_on);
                if newer {
                    latest.insert(person_key.clone(), person);
                }
            } else {
                others.push(person);
            }
            let mut score = |column: &'static str, field: &'static str| {
                row.number(column).unwrap_or_else(|_| {
                    ctx.warn(
                        &loc,
                        column,
                        field,
                        "invalid_number",
                        "The value is not a number; it is left out.",
                    );
                    None
                })
            };
            let attendance_pct = score("Attendance %", "attendance_pct");
            let pre = score("Pre-test", "pre_score");
            let post = score("Post-test", "post_score");
            attendance.push(AttendanceRow {
                loc,
                event_code: event.code.clone(),
                key,
                person_key,
                sex: participant_sex,
                organisation: row.text("Firm / Organisation"),
                survey_id: row.text("Survey ID"),
                designation: row.text("Designation"),
                attendance: attendance_pct,
                pre,
                post,
                certificate: row.text("Certificate No."),
            });
        }
    }
    ctx.read(FILE, rows_read);
    let mut persons: Vec<PersonRecord> = latest.into_values().collect();
    persons.sort_by(|a, b| {
        a.loc
            .source_ref()
            .cmp(&b.loc.source_ref())
            .then(a.key.cmp(&b.key))
    });
    persons.extend(others);
    Ok(Training {
        events,
        attendance,
        persons,
    })
}

fn event_row(
    ctx: &mut Ctx<'_>,
    catalogue: &Catalogue,
    row: &Row<'_>,
    loc: Loc,
    codes: &mut HashSet<String>,
) -> Option<EventRow> {
    let Some(code) = row.text("Event Code") else {
        ctx.reject(
            &loc,
            "Event Code",
            "code",
            "missing_value",
            "The event code is empty; the row is skipped.",
        );
        return None;
    };
    if !codes.insert(code.clone()) {
        ctx.reject(
            &loc,
            "Event Code",
            "code",
            "duplicate_key",
            "The event code appears on an earlier row; the row is skipped.",
        );
        return None;
    }
    let Some(course_title) = row.text("Course Title") else {
        ctx.reject(
            &loc,
            "Course Title",
            "title",
            "missing_value",
            "The course title is empty; the row is skipped.",
        );
        return None;
    };
    let mut date = |column: &'static str, field: &'static str| {
        row.date(column).unwrap_or_else(|_| {
            ctx.warn(
                &loc,
                column,
                field,
                "invalid_date",
                "The date is not readable; it is left out.",
            );
            None
        })
    };
    let start = date("Start Date", "start_date");
    let end = date("End Date", "end_date");
    let hours = row.number("Hours").unwrap_or_else(|_| {
        ctx.warn(
            &loc,
            "Hours",
            "hours",
            "invalid_number",
            "The hours are not a number; they are left out.",
        );
        None
    });
    // An unknown venue district does not make the event's attendance unusable: the event
    // is kept without it.
    let venue_district_id = row.text("Venue District").and_then(|name| {
        let found = ctx.areas.district(&name, start).map(|d| d.id);
        if found.is_none() {
            ctx.warn(
                &loc,
                "Venue District",
                "venue_district",
                "unknown_district",
                format!(
                    "\"{name}\" is not a known district; the event is kept without a venue \
                     district."
                ),
            );
        }
        found
    });
    let cluster_id = row.text("Cluster").and_then(|slug| {
        let found = catalogue.clusters.get(&slug).map(|c| c.id);
        if found.is_none() {
            ctx.warn(
                &loc,
                "Cluster",
                "cluster",
                "unknown_cluster",
                "The cluster is not one of the clusters of clusters.toml; the \
                 event is kept without one.",
            );
        }
        found
    });
    let modality = row.text("Modality").and_then(|m| {
        let found = match normalise_name(&m).as_str() {
            "in person" | "face to face" | "classroom" => Some("in_person"),
            "online" | "virtual" => Some("online"),
            "blended" | "hybrid" => Some("blended"),
            _ => None,
        };
        if found.is_none() {
            ctx.warn(
                &loc,
                "Modality",
                "modality",
                "unknown_modality",
                "The modality is not in-person, online or blended; it is left out.",
            );
        }
        found
    });
    Some(EventRow {
        code,
        course_code: row.text("Course Code"),
        course_title,
        topic: row.text("Topic"),
        hours,
        provider: row.text("Provider"),
        trainers: row.text("Trainers"),
        start,
        end,
        venue_district_id,
        cluster_id,
        modality,
        loc,
    })
}

/// The kind of a training provider not known as an agency yet.
fn provider_kind(name: &str) -> &'static str {
    if normalise_name(name).split(' ').any(|w| w == "chamber") {
        "chamber"
    } else {
        "training_provider"
    }
}

/// Writes providers, courses, events and participations.
pub(super) async fn write(
    ctx: &mut Ctx<'_>,
    catalogue: &mut Catalogue,
    firms: &Firms,
    persons: &Persons,
    training: Training,
) -> anyhow::Result<()> {
    let source_id = ctx.source(FILE, SOURCE).await?.id;

    let mut providers: HashMap<String, i64> = HashMap::new();
    for e in &training.events {
        if let Some(name) = &e.provider
            && !providers.contains_key(name)
        {
            let id = catalogue
                .agencies
                .ensure(
                    ctx,
                    FILE,
                    SOURCE,
                    name,
                    provider_kind(name),
                    &e.loc.source_ref(),
                )
                .await?;
            providers.insert(name.clone(), id);
        }
    }

    // Courses, once per course code; a course keeps a provider only if every event of it
    // had the same one.
    let mut course_keys: Vec<(String, &EventRow)> = Vec::new();
    let mut course_providers: HashMap<String, HashSet<Option<i64>>> = HashMap::new();
    for e in &training.events {
        let key = e
            .course_code
            .clone()
            .unwrap_or_else(|| normalise_name(&e.course_title));
        let provider = e.provider.as_ref().map(|p| providers[p]);
        course_providers
            .entry(key.clone())
            .or_default()
            .insert(provider);
        if !course_keys.iter().any(|(k, _)| *k == key) {
            course_keys.push((key, e));
        }
    }
    ctx.reserve(FILE, course_keys.len()).await?;
    let mut course_ids = HashMap::new();
    for (key, e) in course_keys {
        let provider = match course_providers[&key].iter().collect::<Vec<_>>()[..] {
            [only] => *only,
            _ => None,
        };
        let model = row!(courses {
            code: e.course_code.clone(),
            title: e.course_title.clone(),
            topic: e.topic.clone(),
            hours: e.hours,
            provider_organisation_id: provider,
            source_id: Some(source_id),
            source_key: Some(format!("course:{key}")),
        } @ ctx.prov(FILE, e.loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.courses += 1;
        course_ids.insert(key, model.id);
    }

    ctx.reserve(FILE, training.events.len()).await?;
    let mut event_ids = HashMap::new();
    for e in &training.events {
        let key = e
            .course_code
            .clone()
            .unwrap_or_else(|| normalise_name(&e.course_title));
        let model = row!(training_events {
            course_id: course_ids.get(&key).copied(),
            code: Some(e.code.clone()),
            title: e.course_title.clone(),
            provider_organisation_id: e.provider.as_ref().map(|p| providers[p]),
            trainers: e.trainers.clone(),
            start_date: e.start,
            end_date: e.end,
            venue_district_id: e.venue_district_id,
            venue: None,
            cluster_id: e.cluster_id,
            intervention_id: None,
            modality: e.modality.map(str::to_owned),
            source_id: Some(source_id),
            source_key: Some(e.code.clone()),
        } @ ctx.prov(FILE, e.loc.source_ref()))
        .insert(ctx.txn)
        .await?;
        ctx.summary.training_events += 1;
        event_ids.insert(e.code.clone(), model.id);
    }

    let mut resolved = Vec::with_capacity(training.attendance.len());
    for a in training.attendance {
        let by_survey = a
            .survey_id
            .as_deref()
            .and_then(|id| firms.organisation(SURVEY_SOURCE, id));
        if a.survey_id.is_some() && by_survey.is_none() {
            ctx.warn(
                &a.loc,
                "Survey ID",
                "organisation",
                "unknown_firm",
                "The Survey ID is not that of a surveyed firm; the \
                 participation is kept without a firm.",
            );
        }
        let organisation_id = by_survey.or_else(|| {
            let agency = a
                .organisation
                .as_deref()
                .and_then(|o| catalogue.agencies.find(o));
            if a.survey_id.is_none() && agency.is_none() {
                ctx.warn(
                    &a.loc,
                    "Firm / Organisation",
                    "organisation",
                    "unknown_organisation",
                    "The participant has no Survey ID and the organisation is not \
                     a known agency; the participation is kept without one.",
                );
            }
            agency
        });
        resolved.push((a, organisation_id));
    }
    ctx.reserve(FILE, resolved.len()).await?;
    let rows: Vec<_> = resolved
        .into_iter()
        .map(|(a, organisation_id)| {
            row!(participations {
                training_event_id: event_ids[&a.event_code],
                person_id: persons.person(SOURCE, &a.person_key),
                organisation_id: organisation_id,
                role: a.designation,
                sex: a.sex.map(str::to_owned),
                attendance_pct: a.attendance,
                pre_score: a.pre,
                post_score: a.post,
                completed: Some(a.certificate.is_some()),
                certificate_number: a.certificate,
                source_id: Some(source_id),
                source_key: Some(a.key),
            } @ ctx.prov(FILE, a.loc.source_ref()))
        })
        .collect();
    ctx.summary.participations += insert_chunked(ctx.txn, rows).await?;
    Ok(())
}
