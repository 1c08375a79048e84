//! The datasets: what each holds, its columns, who may read it and how it is pulled
//! incrementally. Most read a `bi_*` view (see `hub_schema::migration::bi_view_definitions`),
//! so the SQL a BI tool reads and the files the hub serves are one definition.

use crate::graphql::policy::Protected;

/// A column's type, as the formats write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Real,
    Text,
    /// A date, `YYYY-MM-DD`.
    Date,
    Bool,
    /// A time with its offset, RFC 3339.
    Timestamp,
}

impl Ty {
    /// The type's name in the catalog.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "integer",
            Ty::Real => "number",
            Ty::Text => "string",
            Ty::Date => "date",
            Ty::Bool => "boolean",
            Ty::Timestamp => "datetime",
        }
    }
}

/// One column of a dataset.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: Ty,
    pub description: &'static str,
    /// What the column's values are, for the policy; `None`: whoever may read the rows.
    pub needs: Option<Protected>,
}

const fn col(name: &'static str, ty: Ty, description: &'static str) -> Column {
    Column {
        name,
        ty,
        description,
        needs: None,
    }
}

const fn guarded(
    name: &'static str,
    ty: Ty,
    needs: Protected,
    description: &'static str,
) -> Column {
    Column {
        name,
        ty,
        description,
        needs: Some(needs),
    }
}

/// How `?since=N` works for a dataset.
#[derive(Debug)]
pub enum Incremental {
    /// Rows keyed by `id` with their own change numbers: the rows whose `change_seq` is
    /// over N, and a tombstone (`_deleted`) for each row deleted or merged away after N
    /// (tombstones of these entity types).
    Rows { tombstones: &'static [&'static str] },
    /// Aggregates: the whole dataset when any row of these tables (or a tombstone of these
    /// entity types) changed after N, nothing otherwise. A client replaces what it holds.
    Snapshot {
        tables: &'static [&'static str],
        tombstones: &'static [&'static str],
    },
}

/// Where a dataset's rows come from.
#[derive(Debug)]
pub enum Shape {
    /// A `bi_*` view, rows ordered by `order`.
    View {
        view: &'static str,
        order: &'static str,
    },
    /// A view of counts whose small groups are withheld from callers without firm-level
    /// access (as the GraphQL statistics): `keys` identify a group, `firms` is its count of
    /// contributing firms, `measures` are withheld with it.
    Suppressed {
        view: &'static str,
        order: &'static str,
        keys: &'static [&'static str],
        firms: &'static str,
        measures: &'static [&'static str],
    },
    /// `Cluster.trade` of every cluster the caller sees, exports and imports by year and
    /// partner, read through the GraphQL API.
    ClusterTrade,
    /// The hub's own query (no view: it holds personal data), over `FROM … WHERE`.
    Query {
        from: &'static str,
        order: &'static str,
    },
}

/// A condition over the view's rows (`d`) that a query parameter adds, with `?` for the
/// value (or values, for a list).
#[derive(Debug)]
pub struct CustomFilter {
    pub param: &'static str,
    pub description: &'static str,
    /// SQL with `{values}` where the bound values go (`?, ?`).
    pub sql: &'static str,
}

/// What a caller scoped to clusters sees of a dataset's rows (`d`).
#[derive(Debug, Clone, Copy)]
pub enum ScopeRule {
    /// A condition with `{ids}` for the caller's cluster ids.
    Sql(&'static str),
    /// Rows of firms (this column of `d`, a firm's id) that are members of the clusters:
    /// the GraphQL API's membership rule ([`crate::graphql::connection::in_clusters`]).
    Firm(&'static str),
    /// The rows of `d.id` that the GraphQL API's rule for this table reaches
    /// ([`crate::graphql::connection::table_scope`]).
    Table(&'static str),
}

impl ScopeRule {
    /// The condition for the cluster ids `ids` (SQL: `1, 2`, or `NULL` for none).
    pub fn condition(self, ids: &str) -> String {
        match self {
            ScopeRule::Sql(sql) => sql.replace("{ids}", ids),
            ScopeRule::Firm(column) => crate::graphql::connection::in_clusters(column, ids),
            ScopeRule::Table(table) => crate::graphql::connection::table_scope(table, "d", ids)
                .unwrap_or_else(|| "1 = 0".to_owned()),
        }
    }
}

/// One dataset.
#[derive(Debug)]
pub struct Dataset {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The class of data its rows are (`None`: public).
    pub rows_need: Option<Protected>,
    pub shape: Shape,
    pub columns: &'static [Column],
    pub incremental: Incremental,
    /// Restricts rows to clusters (`{ids}`: the caller's cluster ids), over `d`; `None`
    /// when rows are not tied to clusters.
    pub scope: Option<ScopeRule>,
    pub filters: &'static [CustomFilter],
    /// Which sources feed it, in words.
    pub source: &'static str,
    /// The same dataset for callers with the `pii` scope (person-level rows).
    pub with_pii: Option<&'static Dataset>,
}

impl Dataset {
    /// The dataset called `name`.
    pub fn find(name: &str) -> Option<&'static Dataset> {
        ALL.iter().copied().find(|d| d.name == name)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The view it reads, if any.
    pub fn view(&self) -> Option<&'static str> {
        match self.shape {
            Shape::View { view, .. } | Shape::Suppressed { view, .. } => Some(view),
            _ => None,
        }
    }
}

/// Every dataset, in the catalog's order.
pub static ALL: [&Dataset; 9] = [
    &FIRMS,
    &FIRM_OBSERVATIONS,
    &CLUSTER_INDICATORS,
    &TRAINING_PARTICIPATION,
    &TRAINING_STATISTICS,
    &TRADE_FLOWS,
    &CLUSTER_TRADE,
    &LOANS,
    &IMPORT_RUNS,
];

const IN_FIRM_CLUSTER: &str = "EXISTS (SELECT 1 FROM cluster_memberships cm_f JOIN clusters c_f \
     ON c_f.id = cm_f.cluster_id WHERE cm_f.organisation_id = d.firm_id AND c_f.slug IN ({values}))";

const CLUSTER_OF_FIRM: CustomFilter = CustomFilter {
    param: "cluster",
    description: "Firms of these clusters (slugs, comma-separated).",
    sql: IN_FIRM_CLUSTER,
};

const SCOPE_BY_SLUG: &str = "d.cluster IN (SELECT slug FROM clusters WHERE id IN ({ids}))";

const CHANGE: Column = col(
    "change_seq",
    Ty::Int,
    "The change number of the newest row feeding this one (see `?since=`).",
);

const PERIOD_KIND: Column = col(
    "period_kind",
    Ty::Text,
    "year, fiscal_year, quarter or month.",
);
const PERIOD_START: Column = col("period_start", Ty::Date, "First day of the period.");
const PERIOD_END: Column = col("period_end", Ty::Date, "Last day of the period.");
const YEAR: Column = col("year", Ty::Int, "The calendar year the period starts in.");
const UPDATED_AT: Column = col("updated_at", Ty::Timestamp, "When the row last changed.");

pub static FIRMS: Dataset = Dataset {
    name: "firms",
    title: "Firms",
    description: "Every firm of the unified model, flattened: its clusters, district, tehsil, \
                  size class and industry, its identifiers, and its current figures with the \
                  period and source each comes from (the latest period that reports it).",
    rows_need: None,
    shape: Shape::View {
        view: "bi_firms",
        order: "d.id",
    },
    columns: &[
        col(
            "id",
            Ty::Int,
            "The firm's number (GraphQL id: base64url of `Firm:<id>`).",
        ),
        col(
            "name",
            Ty::Text,
            "The firm's name, chosen by source priority.",
        ),
        col(
            "legal_form",
            Ty::Text,
            "Legal form, e.g. `sole_proprietorship`.",
        ),
        col(
            "clusters",
            Ty::Text,
            "The clusters it is a member of (slugs, `; `-separated).",
        ),
        col("district", Ty::Text, "District."),
        col("tehsil", Ty::Text, "Tehsil."),
        col(
            "size_class",
            Ty::Text,
            "Size class from the current head count.",
        ),
        col("industry_code", Ty::Text, "ISIC Rev.4 / PSIC class."),
        col("status", Ty::Text, "active, closed, inactive or unknown."),
        col("founded_year", Ty::Int, "Year founded."),
        col("website", Ty::Text, "Website."),
        guarded(
            "ntn",
            Ty::Text,
            Protected::FirmIdentifiers,
            "National Tax Number(s).",
        ),
        guarded(
            "secp_number",
            Ty::Text,
            Protected::FirmIdentifiers,
            "SECP company number(s).",
        ),
        guarded(
            "registry_unit_number",
            Ty::Text,
            Protected::FirmIdentifiers,
            "Punjab Small Industries Corporation registry unit number(s).",
        ),
        guarded(
            "employees_total",
            Ty::Int,
            Protected::FirmFigures,
            "Current head count.",
        ),
        guarded(
            "employees_female",
            Ty::Int,
            Protected::FirmFigures,
            "Current female head count.",
        ),
        guarded(
            "employees_period",
            Ty::Text,
            Protected::FirmFigures,
            "The period of the current head count, e.g. `2023` or `FY2022-23`.",
        ),
        guarded(
            "employees_source",
            Ty::Text,
            Protected::FirmFigures,
            "The source of the current head count.",
        ),
        guarded(
            "turnover_pkr",
            Ty::Real,
            Protected::FirmFigures,
            "Current turnover (PKR).",
        ),
        guarded(
            "turnover_period",
            Ty::Text,
            Protected::FirmFigures,
            "The period of the current turnover.",
        ),
        guarded(
            "exports_usd",
            Ty::Real,
            Protected::FirmFigures,
            "Current exports (USD).",
        ),
        guarded(
            "exports_period",
            Ty::Text,
            Protected::FirmFigures,
            "The period of the current exports.",
        ),
        guarded(
            "certifications",
            Ty::Text,
            Protected::FirmFigures,
            "Current certifications.",
        ),
        CHANGE,
        col(
            "updated_at",
            Ty::Timestamp,
            "When the firm's row last changed.",
        ),
    ],
    incremental: Incremental::Rows {
        tombstones: &["organisation"],
    },
    scope: Some(ScopeRule::Firm("d.id")),
    filters: &[CustomFilter {
        param: "cluster",
        description: "Firms of these clusters (slugs, comma-separated).",
        sql: "EXISTS (SELECT 1 FROM cluster_memberships cm_f JOIN clusters c_f \
              ON c_f.id = cm_f.cluster_id WHERE cm_f.organisation_id = d.id \
              AND c_f.slug IN ({values}))",
    }],
    source: "Every source that reports firms: registries, surveys, attendance sheets, firm lists.",
    with_pii: None,
};

pub static FIRM_OBSERVATIONS: Dataset = Dataset {
    name: "firm_observations",
    title: "Firm observations",
    description: "Every figure a source reported for a firm, with its period: head counts, \
                  turnover, exports, certifications. The history behind the firms' current \
                  figures.",
    rows_need: Some(Protected::FirmFigures),
    shape: Shape::View {
        view: "bi_firm_observations",
        order: "d.id",
    },
    columns: &[
        col("id", Ty::Int, "The observation's number."),
        col("firm_id", Ty::Int, "The firm (`firms.id`)."),
        col("firm_name", Ty::Text, "The firm's name."),
        col("source", Ty::Text, "The source that reported it."),
        PERIOD_KIND,
        PERIOD_START,
        PERIOD_END,
        YEAR,
        col("employees_total", Ty::Int, "Head count."),
        col("employees_female", Ty::Int, "Female head count."),
        col("turnover_pkr", Ty::Real, "Turnover (PKR)."),
        col("exports_usd", Ty::Real, "Exports (USD)."),
        col("certifications", Ty::Text, "Certifications."),
        CHANGE,
        UPDATED_AT,
    ],
    incremental: Incremental::Rows {
        tombstones: &["firm_observation"],
    },
    scope: Some(ScopeRule::Firm("d.firm_id")),
    filters: &[CLUSTER_OF_FIRM],
    source: "Surveys and registries that report firm figures by period.",
    with_pii: None,
};

pub static CLUSTER_INDICATORS: Dataset = Dataset {
    name: "cluster_indicators",
    title: "Results framework: cluster and programme indicators",
    description: "Indicators of the results framework per cluster (or programme), period and \
                  breakdown, with baseline, target and actual side by side.",
    rows_need: None,
    shape: Shape::View {
        view: "bi_cluster_indicators",
        order: "d.indicator, d.scope, d.cluster, d.programme, d.period_start, d.breakdown, \
                d.breakdown_value",
    },
    columns: &[
        col("indicator", Ty::Text, "The indicator's code."),
        col("indicator_name", Ty::Text, "The indicator's name."),
        col("unit", Ty::Text, "Unit of the values."),
        col("scope", Ty::Text, "cluster or programme."),
        col("cluster", Ty::Text, "The cluster's slug (cluster level)."),
        col(
            "programme",
            Ty::Text,
            "The programme's code (programme level).",
        ),
        PERIOD_KIND,
        PERIOD_START,
        PERIOD_END,
        YEAR,
        col("breakdown", Ty::Text, "Breakdown dimension, e.g. `sex`."),
        col(
            "breakdown_value",
            Ty::Text,
            "Breakdown value, e.g. `female`.",
        ),
        col("baseline", Ty::Real, "Baseline value for the period."),
        col("target", Ty::Real, "Target value for the period."),
        col("actual", Ty::Real, "Actual value for the period."),
        CHANGE,
    ],
    incremental: Incremental::Snapshot {
        tables: &["indicator_values", "indicators"],
        tombstones: &["indicator_value"],
    },
    scope: Some(ScopeRule::Sql(SCOPE_BY_SLUG)),
    filters: &[],
    source: "The programme's results framework.",
    with_pii: None,
};

pub static TRAINING_PARTICIPATION: Dataset = Dataset {
    name: "training_participation",
    title: "Training participation",
    description: "Participation in training events, as counts by event and sex (persons \
                  counted once); callers with the `pii` scope get one row per participation \
                  with the person's name instead. Counts of events with fewer contributing \
                  firms than `access.min_group_firms` are withheld from callers without \
                  firm-level access.",
    rows_need: None,
    shape: Shape::Suppressed {
        view: "bi_training_participation",
        order: "d.start_date, d.event_id, d.sex",
        keys: &["event_id", "sex"],
        firms: "firms",
        measures: &["participations", "persons", "completed"],
    },
    columns: &[
        col("event_id", Ty::Int, "The training event's number."),
        col("event_code", Ty::Text, "The event's code."),
        col("event_title", Ty::Text, "The event's title."),
        col("cluster", Ty::Text, "The event's cluster (slug)."),
        col("course", Ty::Text, "The course."),
        col("provider", Ty::Text, "The training provider."),
        col("start_date", Ty::Date, "First day of the event."),
        col("end_date", Ty::Date, "Last day of the event."),
        col("year", Ty::Int, "The calendar year the event starts in."),
        col("sex", Ty::Text, "female, male or other (as recorded)."),
        col("participations", Ty::Int, "Participations."),
        col(
            "persons",
            Ty::Int,
            "Distinct persons (a merged person once).",
        ),
        col(
            "firms",
            Ty::Int,
            "Distinct firms (and agencies) of the participants.",
        ),
        col(
            "completed",
            Ty::Int,
            "Participations recorded as completed.",
        ),
        CHANGE,
        col(
            "withheld",
            Ty::Bool,
            "Whether the counts were withheld (small-group suppression).",
        ),
    ],
    incremental: Incremental::Snapshot {
        tables: &["participations", "training_events", "persons"],
        tombstones: &["participation", "training_event"],
    },
    scope: Some(ScopeRule::Sql(SCOPE_BY_SLUG)),
    filters: &[],
    source: "Training attendance sheets.",
    with_pii: Some(&TRAINING_PARTICIPANTS),
};

/// `training_participation` for callers with the `pii` scope.
pub static TRAINING_PARTICIPANTS: Dataset = Dataset {
    name: "training_participation",
    title: "Training participation (with persons)",
    description: "One row per participation, with the person's name: the `pii` scope only.",
    rows_need: Some(Protected::PersonalData),
    shape: Shape::Query {
        from: "FROM (SELECT p.id AS id, e.id AS event_id, e.code AS event_code, \
               e.title AS event_title, c.slug AS cluster, e.start_date AS start_date, \
               p.person_id AS person_id, pe.full_name AS person_name, p.sex AS sex, \
               p.organisation_id AS firm_id, o.name AS firm_name, p.role AS role, \
               p.attendance_pct AS attendance_pct, p.pre_score AS pre_score, \
               p.post_score AS post_score, p.completed AS completed, \
               p.change_seq AS change_seq, e.cluster_id AS cluster_id \
               FROM participations p \
               JOIN training_events e ON e.id = p.training_event_id \
               LEFT JOIN persons pe ON pe.id = p.person_id \
               LEFT JOIN clusters c ON c.id = e.cluster_id \
               LEFT JOIN organisations o ON o.id = p.organisation_id) d",
        order: "d.id",
    },
    columns: &[
        col("id", Ty::Int, "The participation's number."),
        col("event_id", Ty::Int, "The training event's number."),
        col("event_code", Ty::Text, "The event's code."),
        col("event_title", Ty::Text, "The event's title."),
        col("cluster", Ty::Text, "The event's cluster (slug)."),
        col("start_date", Ty::Date, "First day of the event."),
        col("person_id", Ty::Int, "The person's number."),
        col(
            "person_name",
            Ty::Text,
            "The person's name (personal data).",
        ),
        col("sex", Ty::Text, "female, male or other (as recorded)."),
        col("firm_id", Ty::Int, "The participant's firm (or agency)."),
        col("firm_name", Ty::Text, "Its name."),
        col("role", Ty::Text, "The participant's role."),
        col("attendance_pct", Ty::Real, "Attendance (%)."),
        col("pre_score", Ty::Real, "Score before the training."),
        col("post_score", Ty::Real, "Score after the training."),
        col(
            "completed",
            Ty::Bool,
            "Whether the participant completed it.",
        ),
        CHANGE,
    ],
    incremental: Incremental::Rows {
        tombstones: &["participation"],
    },
    scope: Some(ScopeRule::Sql("d.cluster_id IN ({ids})")),
    filters: &[],
    source: "Training attendance sheets.",
    with_pii: None,
};

pub static TRAINING_STATISTICS: Dataset = Dataset {
    name: "training_statistics",
    title: "Training statistics",
    description: "`trainingStatistics` by cluster, year and sex: participations, distinct \
                  persons and firms reached, completion rate and mean score gain. Groups with \
                  fewer contributing firms than `access.min_group_firms` are withheld from \
                  callers without firm-level access.",
    rows_need: None,
    shape: Shape::Suppressed {
        view: "bi_training_statistics",
        order: "d.cluster, d.year, d.sex",
        keys: &["cluster", "year", "sex"],
        firms: "firms",
        measures: &[
            "participations",
            "persons",
            "completed",
            "completion_rate",
            "scored",
            "mean_score_gain",
        ],
    },
    columns: &[
        col("cluster", Ty::Text, "The events' cluster (slug)."),
        col("year", Ty::Int, "The calendar year the events start in."),
        col("sex", Ty::Text, "female, male or other (as recorded)."),
        col("participations", Ty::Int, "Participations."),
        col(
            "persons",
            Ty::Int,
            "Distinct persons (a merged person once).",
        ),
        col("firms", Ty::Int, "Distinct firms (and agencies) reached."),
        col("events", Ty::Int, "Distinct events."),
        col(
            "completed",
            Ty::Int,
            "Participations recorded as completed.",
        ),
        col(
            "completion_rate",
            Ty::Real,
            "Completed over participations whose completion is recorded.",
        ),
        col("scored", Ty::Int, "Participations with both scores."),
        col(
            "mean_score_gain",
            Ty::Real,
            "Mean of post − pre score over those with both.",
        ),
        CHANGE,
        col(
            "withheld",
            Ty::Bool,
            "Whether the figures were withheld (small-group suppression).",
        ),
    ],
    incremental: Incremental::Snapshot {
        tables: &["participations", "training_events", "persons"],
        tombstones: &["participation", "training_event"],
    },
    scope: Some(ScopeRule::Sql(SCOPE_BY_SLUG)),
    filters: &[],
    source: "Training attendance sheets.",
    with_pii: None,
};

pub static TRADE_FLOWS: Dataset = Dataset {
    name: "trade_flows",
    title: "Trade flows",
    description: "Every trade flow as its source reported it (UN Comtrade, SDMX/WITS, \
                  Pakistan Bureau of Statistics): reporter, partner, flow, commodity code and \
                  its HS levels, period, value in USD, weight and quantity. Partner `W00` \
                  rows are the world totals reported beside the partner rows: never add them \
                  to those.",
    rows_need: None,
    shape: Shape::View {
        view: "bi_trade_flows",
        order: "d.id",
    },
    columns: &[
        col("id", Ty::Int, "The flow's number."),
        col(
            "source",
            Ty::Text,
            "The source (one source per sum: sources overlap).",
        ),
        col("reporter", Ty::Text, "Reporter (ISO3)."),
        col(
            "partner",
            Ty::Text,
            "Partner (ISO3; `W00` is the world total).",
        ),
        col("flow", Ty::Text, "export, import, re_export or re_import."),
        col(
            "classification",
            Ty::Text,
            "Classification of the code, e.g. `HS2017`.",
        ),
        col(
            "commodity_code",
            Ty::Text,
            "The code as reported (`TOTAL` for all commodities).",
        ),
        col("hs2", Ty::Text, "HS chapter."),
        col("hs4", Ty::Text, "HS heading."),
        col("hs6", Ty::Text, "HS subheading."),
        col(
            "aggregate_level",
            Ty::Int,
            "Digits of the code (0 for `TOTAL`).",
        ),
        PERIOD_KIND,
        PERIOD_START,
        PERIOD_END,
        YEAR,
        col(
            "breakdown_key",
            Ty::Text,
            "Further dimensions (empty for the usual totals).",
        ),
        col("value_usd", Ty::Real, "Value (USD)."),
        col("net_weight_kg", Ty::Real, "Net weight (kg)."),
        col("quantity", Ty::Real, "Quantity."),
        col("quantity_unit", Ty::Text, "Unit of the quantity."),
        col("original_value", Ty::Real, "Value as reported."),
        col(
            "original_currency",
            Ty::Text,
            "Currency of the reported value.",
        ),
        col(
            "is_value_estimated",
            Ty::Bool,
            "Whether the source estimated the value.",
        ),
        col("flags", Ty::Text, "The source's flags."),
        CHANGE,
        UPDATED_AT,
    ],
    incremental: Incremental::Rows {
        tombstones: &["trade_flow"],
    },
    scope: None,
    filters: &[],
    source: "Trade statistics: UN Comtrade, SDMX/WITS, Pakistan Bureau of Statistics.",
    with_pii: None,
};

pub static CLUSTER_TRADE: Dataset = Dataset {
    name: "cluster_trade",
    title: "Cluster trade",
    description: "`Cluster.trade` of every cluster, exports and imports by year and partner: \
                  the cluster's HS basket with trade reported in any revision from 1992 to \
                  2022 placed through the concordance; what could not be placed beside it.",
    rows_need: None,
    shape: Shape::ClusterTrade,
    columns: &[
        col("cluster", Ty::Text, "The cluster (slug)."),
        col("flow", Ty::Text, "export or import."),
        col("year", Ty::Int, "Calendar year."),
        col("partner", Ty::Text, "Partner (ISO3)."),
        col(
            "value_usd",
            Ty::Real,
            "The basket's trade (USD): the flows placed in it.",
        ),
        col("flows", Ty::Int, "Flows added."),
        col(
            "reported_in",
            Ty::Text,
            "Classifications the flows were reported in.",
        ),
        col(
            "not_placed_value_usd",
            Ty::Real,
            "Trade that could not be placed in the basket (not in `value_usd`).",
        ),
        col(
            "total_value_usd",
            Ty::Real,
            "The reporter's total trade with the partner that year, same source.",
        ),
        col("share_of_total", Ty::Real, "value_usd / total_value_usd."),
        col("revision", Ty::Text, "The basket's HS revision."),
        col("source", Ty::Text, "The source whose flows are added."),
        CHANGE,
    ],
    incremental: Incremental::Snapshot {
        tables: &["trade_flows", "cluster_products", "clusters"],
        tombstones: &["cluster_product"],
    },
    scope: None,
    filters: &[],
    source: "Trade statistics and the clusters' HS baskets.",
    with_pii: None,
};

pub static LOANS: Dataset = Dataset {
    name: "loans",
    title: "Loans",
    description: "Loans of the Punjab Small Industries Corporation's schemes to firms (the \
                  borrower's person is left out).",
    rows_need: Some(Protected::FirmFigures),
    shape: Shape::View {
        view: "bi_loans",
        order: "d.id",
    },
    columns: &[
        col("id", Ty::Int, "The loan's number."),
        col("source", Ty::Text, "The registry it comes from."),
        col("scheme", Ty::Text, "The loan scheme."),
        col("firm_id", Ty::Int, "The firm (`firms.id`)."),
        col("firm_name", Ty::Text, "The firm's name."),
        col("unit_number", Ty::Text, "Registry unit number."),
        col("amount_pkr", Ty::Real, "Amount (PKR)."),
        col("sanctioned_on", Ty::Date, "Sanction date."),
        col("disbursed_on", Ty::Date, "Disbursement date."),
        col("year", Ty::Int, "Year of sanction (or disbursement)."),
        col("district", Ty::Text, "District."),
        col("status", Ty::Text, "Status."),
        CHANGE,
        UPDATED_AT,
    ],
    incremental: Incremental::Rows {
        tombstones: &["loan"],
    },
    scope: Some(ScopeRule::Firm("d.firm_id")),
    filters: &[CLUSTER_OF_FIRM],
    source: "Punjab Small Industries Corporation registries.",
    with_pii: None,
};

pub static IMPORT_RUNS: Dataset = Dataset {
    name: "import_runs",
    title: "Import runs",
    description: "Every import: importer, source, file, status, counts and the range of \
                  change numbers it wrote. A run that wrote nothing (failed, dry run) has no \
                  change number and appears in full pulls only.",
    rows_need: Some(Protected::ImportRuns),
    shape: Shape::View {
        view: "bi_import_runs",
        order: "d.id",
    },
    columns: &[
        col("id", Ty::Int, "The run's number."),
        col("importer", Ty::Text, "Importer id."),
        col("importer_version", Ty::Text, "Importer version."),
        col("source", Ty::Text, "The source it wrote under."),
        col("file_name", Ty::Text, "File name."),
        col("file_sha256", Ty::Text, "SHA-256 of the file."),
        col("file_size", Ty::Int, "File size (bytes)."),
        col(
            "status",
            Ty::Text,
            "running, applied, partial, failed or dry_run.",
        ),
        col("dry_run", Ty::Bool, "Whether it was a dry run."),
        col("started_at", Ty::Timestamp, "Start."),
        col("finished_at", Ty::Timestamp, "End."),
        col("rows_read", Ty::Int, "Rows read."),
        col("inserted", Ty::Int, "Rows inserted."),
        col("updated", Ty::Int, "Rows updated."),
        col("unchanged", Ty::Int, "Rows unchanged."),
        col("rejected", Ty::Int, "Rows rejected."),
        col("warnings", Ty::Int, "Warnings."),
        col("first_change_seq", Ty::Int, "First change number written."),
        col("last_change_seq", Ty::Int, "Last change number written."),
        CHANGE,
    ],
    incremental: Incremental::Rows { tombstones: &[] },
    scope: Some(ScopeRule::Table("import_runs")),
    filters: &[],
    source: "The hub's import log.",
    with_pii: None,
};
