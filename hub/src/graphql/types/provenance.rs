//! Where each value of a firm comes from: the source record that won each field
//! (survivorship, by source priority) and the observation of each current figure (by
//! latest period; see `crate::import::figures`).
//!
//! Both are read from what the pipeline stored on the organisation (`survivorship` and
//! `figures`), so answering costs no query; the records and observations named are loaded
//! only when selected, batched per level.

use async_graphql::{ComplexObject, Context, Enum, Result, SimpleObject};
use chrono::NaiveDate;
use serde_json::Value as Json;

use super::firm_details::{FirmObservation, SourceRecord};
use super::trade::PeriodKind;
use crate::graphql::NodeContext as _;
use crate::graphql::connection::load_row;
use crate::graphql::policy::Protected;

/// The figures of a firm that change over time, each the value of its latest period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FirmFigure {
    EmployeesTotal,
    EmployeesFemale,
    TurnoverPkr,
    ExportsUsd,
    Certifications,
}

impl FirmFigure {
    /// Every figure, in the order `Firm.fieldSources` lists them.
    pub const ALL: [Self; 5] = [
        Self::EmployeesTotal,
        Self::EmployeesFemale,
        Self::TurnoverPkr,
        Self::ExportsUsd,
        Self::Certifications,
    ];

    /// The key in the stored `figures`.
    pub fn key(self) -> &'static str {
        match self {
            Self::EmployeesTotal => "employees_total",
            Self::EmployeesFemale => "employees_female",
            Self::TurnoverPkr => "turnover_pkr",
            Self::ExportsUsd => "exports_usd",
            Self::Certifications => "certifications",
        }
    }

    /// The field of `Firm` it fills.
    pub fn field(self) -> &'static str {
        match self {
            Self::EmployeesTotal => "employeesTotal",
            Self::EmployeesFemale => "employeesFemale",
            Self::TurnoverPkr => "turnoverPkr",
            Self::ExportsUsd => "exportsUsd",
            Self::Certifications => "certifications",
        }
    }
}

/// Where a firm's current figure comes from: the observation of its latest period, or, for
/// a figure no observation gives (a head count on a firm list without a period), the
/// source record that gave it undated.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct FigureOrigin {
    /// The period of the figure: `2023`, `2023-Q1`, `2023-03`, `FY2022-23`; null for an
    /// undated figure.
    pub period: Option<String>,
    pub period_kind: Option<PeriodKind>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// The code of the source that reported it.
    pub source: Option<String>,
    /// For an undated figure: when its source said it (a survey date, an extract date).
    pub observed_on: Option<NaiveDate>,
    /// Whether the figure has no period (it ranks below every figure that has one).
    pub undated: bool,
    #[graphql(skip)]
    pub observation_id: Option<i64>,
    #[graphql(skip)]
    pub record_id: Option<i64>,
}

impl FigureOrigin {
    /// Reads one entry of the stored `figures`.
    pub fn from_json(j: &Json) -> Option<Self> {
        let date = |k: &str| {
            j.get(k)
                .and_then(Json::as_str)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        let text = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
        let observation_id = j.get("observation").and_then(Json::as_i64);
        let record_id = j.get("record").and_then(Json::as_i64);
        if observation_id.is_none() && record_id.is_none() {
            return None;
        }
        Some(FigureOrigin {
            period: text("period"),
            period_kind: text("period_kind").and_then(|k| PeriodKind::from_stored(&k).ok()),
            period_start: date("period_start"),
            period_end: date("period_end"),
            source: text("source"),
            observed_on: date("observed_on"),
            undated: observation_id.is_none(),
            observation_id,
            record_id,
        })
    }
}

#[ComplexObject]
impl FigureOrigin {
    /// The observation the figure was taken from.
    async fn observation(&self, ctx: &Context<'_>) -> Result<Option<FirmObservation>> {
        load_row::<FirmObservation>(ctx, self.observation_id).await
    }

    /// The source record that gave the undated figure.
    async fn source_record(&self, ctx: &Context<'_>) -> Result<Option<SourceRecord>> {
        load_row::<SourceRecord>(ctx, self.record_id).await
    }
}

/// Which source gave one field of a unified organisation.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct FieldSource {
    /// The field, as `Firm` names it: `name`, `district`, `address`, `employeesTotal`, …
    pub field: String,
    /// For a figure: the observation (or undated record) it was taken from.
    pub figure: Option<FigureOrigin>,
    #[graphql(skip)]
    pub record_id: Option<i64>,
}

#[ComplexObject]
impl FieldSource {
    /// The code of the source the value came from.
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        if let Some(f) = &self.figure {
            return Ok(f.source.clone());
        }
        Ok(load_row::<SourceRecord>(ctx, self.record_id)
            .await?
            .map(|r| r.source))
    }

    /// The source record that gave the value (for a figure: the record of its source for
    /// the firm, when the figure is undated).
    async fn source_record(&self, ctx: &Context<'_>) -> Result<Option<SourceRecord>> {
        let id = self
            .record_id
            .or_else(|| self.figure.as_ref().and_then(|f| f.record_id));
        load_row::<SourceRecord>(ctx, id).await
    }
}

/// The fields chosen by survivorship, as stored (`survivorship` keys) and as `Firm` names
/// them, with the class of data each reveals the presence of.
const SURVIVING: [(&str, &str, Option<Protected>); 12] = [
    ("kind", "kind", None),
    ("name", "name", None),
    ("legal_form", "legalForm", None),
    ("district_id", "district", None),
    ("tehsil_id", "tehsil", None),
    ("address", "address", None),
    ("website", "website", None),
    ("phone", "phone", Some(Protected::PersonalData)),
    ("email", "email", Some(Protected::PersonalData)),
    ("founded_year", "foundedYear", None),
    ("industry_code", "industryCode", None),
    ("status", "status", None),
];

/// The sources of an organisation's fields, from its stored `survivorship` and `figures`:
/// every field the caller may see, in the order of the type's fields; figures only for
/// callers who may see firm figures (the size class follows the head count).
pub fn field_sources(
    ctx: &Context<'_>,
    survivorship: Option<&Json>,
    figures: Option<&Json>,
) -> Vec<FieldSource> {
    let mut out = Vec::new();
    for (key, field, class) in SURVIVING {
        if class.is_some_and(|c| !ctx.allowed(c)) {
            continue;
        }
        if let Some(id) = survivorship.and_then(|s| s.get(key)).and_then(Json::as_i64) {
            out.push(FieldSource {
                field: field.to_owned(),
                figure: None,
                record_id: Some(id),
            });
        }
    }
    if ctx.allowed(Protected::FirmFigures) {
        for f in FirmFigure::ALL {
            let Some(origin) = figures
                .and_then(|j| j.get(f.key()))
                .and_then(FigureOrigin::from_json)
            else {
                continue;
            };
            if f == FirmFigure::EmployeesTotal {
                out.push(FieldSource {
                    field: "sizeClass".to_owned(),
                    figure: Some(origin.clone()),
                    record_id: None,
                });
            }
            out.push(FieldSource {
                field: f.field().to_owned(),
                figure: Some(origin),
                record_id: None,
            });
        }
    }
    out
}

/// The origin of one current figure, for callers who may see firm figures.
pub fn figure_origin(
    ctx: &Context<'_>,
    figures: Option<&Json>,
    f: FirmFigure,
) -> Option<FigureOrigin> {
    if !ctx.allowed(Protected::FirmFigures) {
        return None;
    }
    figures
        .and_then(|j| j.get(f.key()))
        .and_then(FigureOrigin::from_json)
}
