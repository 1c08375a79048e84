//! Training: events (with their course, provider and cluster), participations and the
//! persons who took part.
//!
//! Persons are personal data: their names, CNIC (even the last four digits), phone and
//! e-mail are null unless the caller may see personal data, and so are the trainers of an
//! event. The keyed CNIC hash is never read. Personal fields cannot be filtered or sorted
//! on, since a filter on a name would tell whether the name is there.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::NaiveDate;
use hub_schema::entity::{participations, training_events};
use sea_orm::sea_query::{Alias, Expr, JoinType, Query, SelectStatement};
use sea_orm::{FromQueryResult as _, QueryResult};

use crate::graphql::connection::{
    FromRow, Listed, Nested, child_list, connection, load_row, root_list,
};
use crate::graphql::declare::{filter_input, order_input};
use crate::graphql::filter::{
    BooleanFilter, DateFilter, FloatFilter, IdFilter, IntFilter, StringFilter,
};
use crate::graphql::list::{KeyKind, PageArgs, Sort, SortKey, T, sort_of, table_select};
use crate::graphql::policy::Protected;
use crate::graphql::types::cluster::{Cluster, ClusterFilter};
use crate::graphql::types::firm::{FIRM_ROW, Firm, FirmFilter};
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of training events.
pub const TYPE: &str = "TrainingEvent";
/// The global-id type name of participations.
pub const PARTICIPATION_TYPE: &str = "Participation";
/// The global-id type name of persons.
pub const PERSON_TYPE: &str = "Person";

// ---- Training events -------------------------------------------------------------------

/// One run of a course: its dates, provider, venue and cluster, and who took part.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct TrainingEvent {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    /// The event code the source gave the event.
    pub code: Option<String>,
    pub title: String,
    /// The code of the course this event runs.
    pub course_code: Option<String>,
    /// The title of the course this event runs.
    pub course_title: Option<String>,
    /// The course topic.
    pub topic: Option<String>,
    /// The course length in hours.
    pub hours: Option<f64>,
    /// The name of the organisation that gave the training.
    pub provider: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// The name of the district where the event took place.
    pub venue_district: Option<String>,
    /// The venue as the source wrote it.
    pub venue: Option<String>,
    /// in_person, online or blended.
    pub modality: Option<String>,
    #[graphql(skip)]
    pub cluster_id: Option<i64>,
    #[graphql(skip)]
    pub trainers_value: Option<String>,
    #[graphql(skip)]
    pub source_id: Option<i64>,
}

impl FromRow for TrainingEvent {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("training_events", t, ids)
    }

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = training_events::Model::from_query_result(row, "")?;
        Ok(TrainingEvent {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            source_id: m.source_id,
            code: m.code,
            title: m.title,
            course_code: row.try_get_by("course_code")?,
            course_title: row.try_get_by("course_title")?,
            topic: row.try_get_by("course_topic")?,
            hours: row.try_get_by("course_hours")?,
            provider: row.try_get_by("provider_name")?,
            start_date: m.start_date,
            end_date: m.end_date,
            venue_district: row.try_get_by("venue_district_name")?,
            venue: m.venue,
            modality: m.modality,
            cluster_id: m.cluster_id,
            trainers_value: m.trainers,
        })
    }
}

#[ComplexObject]
impl TrainingEvent {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The cluster the event was organised for.
    async fn cluster(&self, ctx: &Context<'_>) -> Result<Option<Cluster>> {
        load_row::<Cluster>(ctx, self.cluster_id).await
    }

    /// The source the event was imported from: events of two sources never merge, so
    /// monthly files of one provider belong under one source (`--source`, or the plugin's
    /// `default_source`).
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<super::source::Source>> {
        load_row::<super::source::Source>(ctx, self.source_id).await
    }

    /// The trainers' names: personal data, null unless the caller may see personal data.
    async fn trainers(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.trainers_value)
    }

    /// Who took part, by id unless ordered otherwise.
    async fn participations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ParticipationFilter>,
        order_by: Option<Vec<ParticipationOrder>>,
    ) -> Result<ParticipationConnection> {
        child_participations(
            ctx,
            "t.training_event_id",
            self.row_id,
            first,
            after,
            filter,
            order_by,
        )
        .await
    }
}

impl Listed for TrainingEvent {
    fn select() -> SelectStatement {
        training_event_select()
    }
}

connection!(
    TrainingEventConnection,
    TrainingEventEdge,
    TrainingEvent,
    "A page of training events."
);

/// `SELECT t.*, course, provider and venue district FROM training_events t`, the base of
/// every training-event list.
pub fn training_event_select() -> SelectStatement {
    let mut q = table_select("training_events");
    q.expr_as(Expr::cust("t_course.code"), Alias::new("course_code"))
        .expr_as(Expr::cust("t_course.title"), Alias::new("course_title"))
        .expr_as(Expr::cust("t_course.topic"), Alias::new("course_topic"))
        .expr_as(Expr::cust("t_course.hours"), Alias::new("course_hours"))
        .expr_as(
            Expr::cust(provider_name_sql(T)),
            Alias::new("provider_name"),
        )
        .expr_as(
            Expr::cust(venue_district_sql(T)),
            Alias::new("venue_district_name"),
        )
        .join_as(
            JoinType::LeftJoin,
            Alias::new("courses"),
            Alias::new("t_course"),
            Expr::cust(format!("t_course.id = {T}.course_id")),
        );
    q
}

fn provider_name_sql(a: &str) -> String {
    format!("(SELECT po.name FROM organisations po WHERE po.id = {a}.provider_organisation_id)")
}

fn venue_district_sql(a: &str) -> String {
    crate::graphql::list::admin_area_name_sql(&format!("{a}.venue_district_id"))
}

fn course_sql(a: &str, column: &str) -> String {
    format!("(SELECT co.{column} FROM courses co WHERE co.id = {a}.course_id)")
}

order_input! {
    /// Fields training events can be ordered by.
    pub enum TrainingEventOrderField;
    /// One key of a training-event ordering.
    pub struct TrainingEventOrder {
        StartDate => (col("start_date"), Date),
        EndDate => (col("end_date"), Date),
        Title => (col("title"), Text, NotNull),
        Code => (col("code"), Text),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of a training-event list: the requested keys in their order, by start date
/// when none.
pub fn training_event_sort(order: Option<&[TrainingEventOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("start_date", KeyKind::Date)])
}

filter_input! {
    /// Filter on training events. Fields combine with AND; `and`, `or` and `not` compose
    /// filters. Trainers' names are personal data and cannot be filtered on.
    pub struct TrainingEventFilter {
        id: IdFilter => On::Id(TYPE),
        code: StringFilter => On::Column("code"),
        title: StringFilter => On::Column("title"),
        course_code: StringFilter => On::Sql(|a| course_sql(a, "code")),
        topic: StringFilter => On::Sql(|a| course_sql(a, "topic")),
        start_date: DateFilter => On::Column("start_date"),
        end_date: DateFilter => On::Column("end_date"),
        /// The year the event starts in.
        year: IntFilter => On::YearOf("start_date"),
        modality: StringFilter => On::Column("modality"),
        /// The name of the venue district.
        venue_district: StringFilter => On::AreaName("venue_district_id"),
        /// The name of the provider.
        provider: StringFilter => On::Sql(provider_name_sql),
        /// Events organised for a cluster matching this filter.
        cluster: ClusterFilter => On::BelongsTo {
            table: "clusters",
            fk: "cluster_id",
            alias: "c",
            extra: "",
        },
    }
}

// ---- Participations --------------------------------------------------------------------

/// One person's part in one training event, with the organisation they came from.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Participation {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    /// The participant's designation, as the attendance sheet gives it.
    pub role: Option<String>,
    /// female, male or other.
    pub sex: Option<String>,
    /// Share of sessions attended, in percent.
    pub attendance_pct: Option<f64>,
    pub pre_score: Option<f64>,
    pub post_score: Option<f64>,
    pub completed: Option<bool>,
    pub certificate_number: Option<String>,
    /// The name of the organisation the participant came from: a firm, or an agency or BDS
    /// provider when staff were trained.
    pub organisation_name: Option<String>,
    /// The kind of that organisation: firm, agency, bds_provider, …
    pub organisation_kind: Option<String>,
    #[graphql(skip)]
    pub event_id: i64,
    #[graphql(skip)]
    pub person_id: Option<i64>,
    #[graphql(skip)]
    pub organisation_id: Option<i64>,
}

impl FromRow for Participation {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("participations", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::Persons);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = participations::Model::from_query_result(row, "")?;
        Ok(Participation {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            role: m.role,
            sex: m.sex,
            attendance_pct: m.attendance_pct,
            pre_score: m.pre_score,
            post_score: m.post_score,
            completed: m.completed,
            certificate_number: m.certificate_number,
            organisation_name: row.try_get_by("organisation_name")?,
            organisation_kind: row.try_get_by("organisation_kind")?,
            event_id: m.training_event_id,
            person_id: m.person_id,
            organisation_id: m.organisation_id,
        })
    }
}

#[ComplexObject]
impl Participation {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(PARTICIPATION_TYPE, self.row_id)
    }

    /// The training event.
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<TrainingEvent>> {
        load_row::<TrainingEvent>(ctx, Some(self.event_id)).await
    }

    /// The participant. Their identifying fields are personal data.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        if !ctx.allowed(Protected::Persons) {
            return Ok(None);
        }
        load_row::<Person>(ctx, self.person_id).await
    }

    /// The participant's firm; null when they came from an agency or BDS provider (see
    /// `organisationName`).
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        let id = self
            .organisation_id
            .filter(|_| self.organisation_kind.as_deref() == Some("firm"));
        load_row::<Firm>(ctx, id).await
    }
}

impl Listed for Participation {
    fn select() -> SelectStatement {
        participation_select()
    }
}

connection!(
    ParticipationConnection,
    ParticipationEdge,
    Participation,
    "A page of participations."
);

/// `SELECT t.*, organisation name and kind FROM participations t`, the base of every
/// participation list.
pub fn participation_select() -> SelectStatement {
    let mut q = table_select("participations");
    q.expr_as(Expr::cust("t_org.name"), Alias::new("organisation_name"))
        .expr_as(Expr::cust("t_org.kind"), Alias::new("organisation_kind"))
        .join_as(
            JoinType::LeftJoin,
            Alias::new("organisations"),
            Alias::new("t_org"),
            Expr::cust(format!("t_org.id = {T}.organisation_id")),
        );
    q
}

order_input! {
    /// Fields participations can be ordered by.
    pub enum ParticipationOrderField;
    /// One key of a participation ordering.
    pub struct ParticipationOrder {
        Id => (col("id"), Int, NotNull),
        AttendancePct => (col("attendance_pct"), Float),
        PreScore => (col("pre_score"), Float),
        PostScore => (col("post_score"), Float),
    }
}

/// The sort of a participation list: the requested keys in their order, by id when none.
pub fn participation_sort(order: Option<&[ParticipationOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("id", KeyKind::Int)])
}

filter_input! {
    /// Filter on participations. Fields combine with AND; `and`, `or` and `not` compose
    /// filters. Persons cannot be filtered on: a filter on a name would reveal it.
    pub struct ParticipationFilter {
        id: IdFilter => On::Id(PARTICIPATION_TYPE),
        role: StringFilter => On::Column("role"),
        sex: StringFilter => On::Column("sex"),
        completed: BooleanFilter => On::Column("completed"),
        attendance_pct: FloatFilter => On::Column("attendance_pct"),
        pre_score: FloatFilter => On::Column("pre_score"),
        post_score: FloatFilter => On::Column("post_score"),
        /// The kind of the participant's organisation: firm, agency, bds_provider, …
        organisation_kind: StringFilter => On::Sql(|a| {
            format!("(SELECT ok.kind FROM organisations ok WHERE ok.id = {a}.organisation_id)")
        }),
        /// Participations in a training event matching this filter.
        event: TrainingEventFilter => On::BelongsTo {
            table: "training_events",
            fk: "training_event_id",
            alias: "e",
            extra: "",
        },
        /// Participations of staff of a firm matching this filter.
        firm: FirmFilter => On::BelongsTo {
            table: "organisations",
            fk: "organisation_id",
            alias: "f",
            extra: FIRM_ROW,
        },
    }
}

// ---- Persons ---------------------------------------------------------------------------

/// A person who took part in training. Names, CNIC digits, phone and e-mail are personal
/// data: null unless the caller may see personal data.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Person {
    #[graphql(skip)]
    pub row_id: i64,
    /// female, male or other.
    pub sex: Option<String>,
    #[graphql(skip)]
    pub full_name_value: Option<String>,
    #[graphql(skip)]
    pub phone_value: Option<String>,
    #[graphql(skip)]
    pub email_value: Option<String>,
    #[graphql(skip)]
    pub cnic_last4_value: Option<String>,
}

impl FromRow for Person {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("persons", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::Persons);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(Person {
            row_id: row.try_get_by("id")?,
            sex: row.try_get_by("sex")?,
            full_name_value: row.try_get_by("full_name")?,
            phone_value: row.try_get_by("phone")?,
            email_value: row.try_get_by("email")?,
            cnic_last4_value: row.try_get_by("cnic_last4")?,
        })
    }
}

#[ComplexObject]
impl Person {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(PERSON_TYPE, self.row_id)
    }

    /// Full name: personal data.
    async fn full_name(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.full_name_value)
    }

    /// Phone number: personal data.
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.phone_value)
    }

    /// E-mail address: personal data.
    async fn email(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.email_value)
    }

    /// The last four digits of the CNIC: personal data. The CNIC itself is never stored.
    async fn cnic_last4(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.cnic_last4_value)
    }

    /// The trainings the person took part in, by id unless ordered otherwise.
    async fn participations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ParticipationFilter>,
        order_by: Option<Vec<ParticipationOrder>>,
    ) -> Result<ParticipationConnection> {
        child_participations(
            ctx,
            "t.person_id",
            self.row_id,
            first,
            after,
            filter,
            order_by,
        )
        .await
    }
}

impl Listed for Person {
    fn select() -> SelectStatement {
        person_select()
    }
}

/// `SELECT` the displayable columns of persons aliased `t` (never the CNIC hash). Merged-away
/// persons are not listed.
pub fn person_select() -> SelectStatement {
    let mut q = Query::select();
    for c in ["id", "full_name", "sex", "cnic_last4", "phone", "email"] {
        q.expr_as(Expr::cust(format!("{T}.{c}")), Alias::new(c));
    }
    q.from_as(Alias::new("persons"), Alias::new(T))
        .and_where(Expr::cust(format!("{T}.merged_into_id IS NULL")));
    q
}

// ---- Nested lists, for this module and for clusters and firms ---------------------------

/// The participations whose `parent_sql` (over `t`, e.g. `t.person_id`) is `parent`,
/// batched with the same list of sibling parents.
async fn child_participations(
    ctx: &Context<'_>,
    parent_sql: &str,
    parent: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<ParticipationFilter>,
    order_by: Option<Vec<ParticipationOrder>>,
) -> Result<ParticipationConnection> {
    let (page, total) = child_list(ctx, parent, first, after, || {
        let mut select = participation_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = participation_sort(order_by.as_deref());
        Ok(Nested::new(select, parent_sql, sort))
    })
    .await?;
    Ok(ParticipationConnection { page, total })
}

/// The training events of cluster `cluster_id` (for a `trainingEvents` field on
/// [`Cluster`]), batched with the other clusters of the same level.
pub async fn cluster_training_events(
    ctx: &Context<'_>,
    cluster_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<TrainingEventFilter>,
    order_by: Option<Vec<TrainingEventOrder>>,
) -> Result<TrainingEventConnection> {
    let (page, total) = child_list(ctx, cluster_id, first, after, || {
        let mut select = training_event_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = training_event_sort(order_by.as_deref());
        Ok(Nested::new(select, format!("{T}.cluster_id"), sort))
    })
    .await?;
    Ok(TrainingEventConnection { page, total })
}

/// The participations of staff of firm `firm_id` (for a `participations` field on
/// [`Firm`]), batched with the other firms of the same level.
pub async fn firm_participations(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<ParticipationFilter>,
    order_by: Option<Vec<ParticipationOrder>>,
) -> Result<ParticipationConnection> {
    child_participations(
        ctx,
        "t.organisation_id",
        firm_id,
        first,
        after,
        filter,
        order_by,
    )
    .await
}

// ---- Root fields -----------------------------------------------------------------------

/// Root fields of the training area.
#[derive(Debug, Default)]
pub struct TrainingQuery;

#[async_graphql::Object]
impl TrainingQuery {
    /// Training events, by start date unless ordered otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn training_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<TrainingEventFilter>,
        order_by: Option<Vec<TrainingEventOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<TrainingEventConnection> {
        let mut select = training_event_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = training_event_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(TrainingEventConnection { page, total })
    }

    /// Participations in training events, by id unless ordered otherwise. For the
    /// participations of one cluster's events, filter with `event: {cluster: {slug: …}}`.
    #[allow(clippy::too_many_arguments)]
    async fn participations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ParticipationFilter>,
        order_by: Option<Vec<ParticipationOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<ParticipationConnection> {
        let mut select = participation_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = participation_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(ParticipationConnection { page, total })
    }
}
