//! Firms: unified organisations of kind `firm`.

use async_graphql::{ComplexObject, Context, Error, ID, InputObject, Result, SimpleObject};
use sea_orm::QueryResult;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait as _, Query, SelectStatement, SimpleExpr,
};

use super::cluster::{
    ClusterConnection, ClusterFilter, ClusterOrder, cluster_list_select, cluster_sort,
};
use super::firm_details::{
    FirmObservationConnection, FirmObservationFilter, FirmObservationOrder, Identifier,
    SourceRecordConnection,
};
use super::indicator::{IndicatorValueConnection, IndicatorValueFilter, IndicatorValueOrder};
use super::network::{NetworkConnection, NetworkFilter, NetworkOrder};
use super::organisation::{district_name_sql, tehsil_name_sql};
use super::provenance::{FieldSource, FigureOrigin, FirmFigure, field_sources, figure_origin};
use super::registry::{
    LoanConnection, LoanFilter, LoanOrder, PlotAllotmentConnection, PlotAllotmentFilter,
    PlotAllotmentOrder,
};
use super::training::{ParticipationConnection, ParticipationFilter, ParticipationOrder};
use crate::graphql::columns::{Column, Columns, optional_columns};
use crate::graphql::connection::{FromRow, Listed, Nested, ParentOf, child_list, connection};
use crate::graphql::declare::{
    FilterField, Level, On, RowFilter, filter_input, order_input, related,
};
use crate::graphql::filter::{FloatFilter, IdFilter, IntFilter, StringFilter};
use crate::graphql::list::{KeyKind, Sort, SortKey, T, sort_of};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of firms.
pub const TYPE: &str = "Firm";

/// A firm as the hub knows it: one unified entity, whatever number of sources described
/// it. Its name, address and identifiers come from the source that ranks highest for each
/// (`fieldSources` says which); its figures (head counts, turnover, exports,
/// certifications) are those of the latest period that reports each (`…AsOf` says which
/// period and source), and the size class follows the head count.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Firm {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    pub name: String,
    pub legal_form: Option<String>,
    /// District name.
    pub district: Option<String>,
    /// Tehsil name.
    pub tehsil: Option<String>,
    pub address: Option<String>,
    pub website: Option<String>,
    pub founded_year: Option<i32>,
    /// Size class by `sizeBasis`: micro, small, medium, large.
    pub size_class: Option<String>,
    pub size_basis: Option<String>,
    /// Industry code (Pakistan Standard Industrial Classification Rev.4).
    pub industry_code: Option<String>,
    /// active, closed, inactive or unknown.
    pub status: String,
    #[graphql(skip)]
    pub employees_total_value: Option<i32>,
    #[graphql(skip)]
    pub employees_female_value: Option<i32>,
    #[graphql(skip)]
    pub phone_value: Option<String>,
    #[graphql(skip)]
    pub email_value: Option<String>,
    #[graphql(skip)]
    pub turnover_pkr_value: Option<f64>,
    #[graphql(skip)]
    pub exports_usd_value: Option<f64>,
    #[graphql(skip)]
    pub certifications_value: Option<String>,
    #[graphql(skip)]
    pub survivorship: Option<serde_json::Value>,
    #[graphql(skip)]
    pub figures: Option<serde_json::Value>,
    /// The identifiers the list read with the firm's row (see
    /// [`super::firm_details::read_identifiers_with_firms`]); `None` when it did not.
    #[graphql(skip)]
    pub identifiers_read: Option<Vec<Identifier>>,
}

impl FromRow for Firm {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("organisations", t, ids)
    }

    /// Reads the columns of [`firm_select`]: those of [`FirmColumns`] it left out (its
    /// `__cols` says which it selected) are `None`.
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let cols = Columns::reader(row, OPTIONAL)?;
        Ok(Firm {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            name: row.try_get_by("name")?,
            legal_form: cols.get(Col::LegalForm)?,
            district: cols.get(Col::DistrictName)?,
            tehsil: cols.get(Col::TehsilName)?,
            address: cols.get(Col::Address)?,
            website: cols.get(Col::Website)?,
            founded_year: cols.get(Col::FoundedYear)?,
            size_class: cols.get(Col::SizeClass)?,
            size_basis: cols.get(Col::SizeBasis)?,
            industry_code: cols.get(Col::IndustryCode)?,
            status: row.try_get_by("status")?,
            employees_total_value: cols.get(Col::EmployeesTotal)?,
            employees_female_value: cols.get(Col::EmployeesFemale)?,
            phone_value: cols.get(Col::Phone)?,
            email_value: cols.get(Col::Email)?,
            turnover_pkr_value: cols.get(Col::TurnoverPkr)?,
            exports_usd_value: cols.get(Col::ExportsUsd)?,
            certifications_value: cols.get(Col::Certifications)?,
            survivorship: cols.get(Col::Survivorship)?,
            figures: cols.get(Col::Figures)?,
            identifiers_read: super::firm_details::identifiers_in_row(row)?,
        })
    }
}

/// The resolvers that read the database box their futures (`Box::pin(…).await`):
/// async-graphql resolves every field of a firm through one `resolve_field` future, as
/// large as its largest branch, which it allocates and moves for each field of each firm
/// of a page; boxed, a nested list's state no longer sits in the future of `name`.
#[ComplexObject]
impl Firm {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// Employees in total, as of the latest period that reports them (firm-level figure;
    /// `employeesTotalAsOf` gives the period and source).
    async fn employees_total(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_total_value)
    }

    /// Where `employeesTotal` comes from: its period and source.
    async fn employees_total_as_of(&self, ctx: &Context<'_>) -> Option<FigureOrigin> {
        figure_origin(ctx, self.figures.as_ref(), FirmFigure::EmployeesTotal)
    }

    /// Female employees, as of the latest period that reports them (firm-level figure).
    async fn employees_female(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_female_value)
    }

    /// Where `employeesFemale` comes from: its period and source.
    async fn employees_female_as_of(&self, ctx: &Context<'_>) -> Option<FigureOrigin> {
        figure_origin(ctx, self.figures.as_ref(), FirmFigure::EmployeesFemale)
    }

    /// Annual turnover in Pakistani rupees, of the latest period that reports it
    /// (firm-level figure).
    async fn turnover_pkr(&self, ctx: &Context<'_>) -> Option<f64> {
        ctx.reveal(Protected::FirmFigures, &self.turnover_pkr_value)
    }

    /// Where `turnoverPkr` comes from: its period and source.
    async fn turnover_pkr_as_of(&self, ctx: &Context<'_>) -> Option<FigureOrigin> {
        figure_origin(ctx, self.figures.as_ref(), FirmFigure::TurnoverPkr)
    }

    /// Exports in US dollars, of the latest period that reports them (firm-level figure).
    async fn exports_usd(&self, ctx: &Context<'_>) -> Option<f64> {
        ctx.reveal(Protected::FirmFigures, &self.exports_usd_value)
    }

    /// Where `exportsUsd` comes from: its period and source.
    async fn exports_usd_as_of(&self, ctx: &Context<'_>) -> Option<FigureOrigin> {
        figure_origin(ctx, self.figures.as_ref(), FirmFigure::ExportsUsd)
    }

    /// Certifications held, as of the latest period that reports them (firm-level figure).
    async fn certifications(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::FirmFigures, &self.certifications_value)
    }

    /// Where `certifications` comes from: its period and source.
    async fn certifications_as_of(&self, ctx: &Context<'_>) -> Option<FigureOrigin> {
        figure_origin(ctx, self.figures.as_ref(), FirmFigure::Certifications)
    }

    /// Where each field comes from: the source record that won it (name, address,
    /// district, …: by source priority), or for a figure its latest observation. Fields
    /// the caller may not see are left out.
    async fn field_sources(&self, ctx: &Context<'_>) -> Vec<FieldSource> {
        field_sources(ctx, self.survivorship.as_ref(), self.figures.as_ref())
    }

    /// Contact phone: personal data, null unless the caller may see personal data.
    async fn phone(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.phone_value)
    }

    /// Contact e-mail: personal data, null unless the caller may see personal data.
    async fn email(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::PersonalData, &self.email_value)
    }

    /// The firm's identifiers (NTN, SECP number, STRN, registry unit number, source ids),
    /// each with the source that gave it. Empty unless the caller may see firm identifiers.
    async fn identifiers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only identifiers of this scheme, e.g. `PK-NTN`.")] scheme: Option<String>,
    ) -> Result<Vec<Identifier>> {
        // Read with the firm's row: the list checked that every `identifiers` under it asks
        // for this scheme, and that the caller may see them.
        if let Some(read) = &self.identifiers_read {
            return Ok(read.clone());
        }
        Box::pin(super::firm_details::firm_identifiers(
            ctx,
            self.row_id,
            scheme.as_deref(),
        ))
        .await
    }

    /// Curators' changes to the firm (corrections, identifiers, memberships, merges,
    /// splits, review decisions), oldest first; empty for roles below analyst.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<super::curation::CurationEvent>> {
        Box::pin(super::curation::history(ctx, self.row_id)).await
    }

    /// What each source said about the firm (every source's values stay visible, a
    /// curator's corrections among them as the source `hub-curation`).
    async fn source_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SourceRecordConnection> {
        Box::pin(super::firm_details::firm_source_records(
            ctx,
            self.row_id,
            first,
            after,
        ))
        .await
    }

    /// Observations per period: employees, turnover, exports, certifications.
    async fn observations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<FirmObservationFilter>,
        order_by: Option<Vec<FirmObservationOrder>>,
    ) -> Result<FirmObservationConnection> {
        Box::pin(super::firm_details::firm_observations(
            ctx,
            self.row_id,
            first,
            after,
            filter,
            order_by,
        ))
        .await
    }

    /// The SME networks the firm is a member of.
    async fn networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<NetworkFilter>,
        order_by: Option<Vec<NetworkOrder>>,
    ) -> Result<NetworkConnection> {
        Box::pin(super::network::firm_networks(
            ctx,
            self.row_id,
            first,
            after,
            filter,
            order_by,
        ))
        .await
    }

    /// The firm's people in trainings (participations with this firm as organisation).
    async fn participations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ParticipationFilter>,
        order_by: Option<Vec<ParticipationOrder>>,
    ) -> Result<ParticipationConnection> {
        Box::pin(super::training::firm_participations(
            ctx,
            self.row_id,
            first,
            after,
            filter,
            order_by,
        ))
        .await
    }

    /// Indicator values reported for the firm (firm-level figures).
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<IndicatorValueFilter>,
        order_by: Option<Vec<IndicatorValueOrder>>,
    ) -> Result<IndicatorValueConnection> {
        Box::pin(super::indicator::firm_indicator_values(
            ctx,
            self.row_id,
            first,
            after,
            filter,
            order_by,
        ))
        .await
    }

    /// The firm's loans from the registry (their amounts are firm figures).
    async fn loans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<LoanFilter>,
        order_by: Option<Vec<LoanOrder>>,
    ) -> Result<LoanConnection> {
        Box::pin(super::registry::firm_loans(
            ctx,
            self.row_id,
            first,
            after,
            filter,
            order_by,
        ))
        .await
    }

    /// The estate plots allotted to the firm, newest first.
    async fn plot_allotments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<PlotAllotmentFilter>,
        order_by: Option<Vec<PlotAllotmentOrder>>,
    ) -> Result<PlotAllotmentConnection> {
        Box::pin(super::registry::firm_allotments(
            ctx,
            self.row_id,
            first,
            after,
            filter,
            order_by,
        ))
        .await
    }

    /// The clusters the firm belongs to.
    async fn clusters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ClusterFilter>,
        order_by: Option<Vec<ClusterOrder>>,
    ) -> Result<ClusterConnection> {
        let (page, total) = Box::pin(child_list(ctx, self.row_id, first, after, || {
            let mut select = cluster_list_select(ctx);
            if let Some(f) = &filter {
                select.cond_where(f.condition(T, ctx.level())?);
            }
            let sort = cluster_sort(order_by.as_deref());
            Ok(Nested::new(select, through_memberships("cluster_id"), sort))
        }))
        .await?;
        Ok(ClusterConnection { page, total })
    }
}

impl Listed for Firm {
    fn select() -> SelectStatement {
        firm_select(FirmColumns::ALL)
    }
}

/// A firm looked up by one of its identifiers (a canonical value of a firm scheme).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ByIdentifier {
    pub scheme: String,
    pub value: String,
}

/// Lookups by identifier are batched like nested lists: every `firmByIdentifier` of a
/// request's level (2,000 aliases of it included) is one statement per scheme. Where an
/// identifier names two firms (a conflict a curator resolves), the first created wins.
impl async_graphql::dataloader::Loader<ByIdentifier> for crate::graphql::connection::ChildLoader {
    type Value = Firm;
    type Error = Error;

    async fn load(
        &self,
        keys: &[ByIdentifier],
    ) -> Result<std::collections::HashMap<ByIdentifier, Firm>, Error> {
        use sea_orm::ConnectionTrait as _;
        let mut by_scheme: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for k in keys {
            by_scheme.entry(&k.scheme).or_default().push(&k.value);
        }
        let mut out = std::collections::HashMap::new();
        for (scheme, values) in by_scheme {
            let mut select = firm_select(FirmColumns::ALL);
            select
                .join_as(
                    sea_orm::sea_query::JoinType::InnerJoin,
                    Alias::new("organisation_identifiers"),
                    Alias::new("bi"),
                    Expr::cust(format!("bi.organisation_id = {T}.id")),
                )
                .expr_as(Expr::cust("bi.value"), Alias::new("__identifier"))
                .and_where(Expr::cust("bi.is_hashed = false"))
                .and_where(Expr::cust("bi.scheme").eq(scheme))
                .and_where(Expr::cust("bi.value").is_in(values.iter().map(|v| (*v).to_owned())))
                .order_by_expr(
                    Expr::cust(format!("{T}.id")),
                    sea_orm::sea_query::Order::Asc,
                );
            if let Some(ids) = &self.scope {
                select.and_where(Expr::cust(crate::graphql::connection::in_clusters(
                    &format!("{T}.id"),
                    ids,
                )));
            }
            let rows = self
                .db
                .query_all(&select)
                .await
                .map_err(crate::graphql::list::internal)?;
            for row in rows {
                let value: String = row
                    .try_get_by("__identifier")
                    .map_err(crate::graphql::list::internal)?;
                let key = ByIdentifier {
                    scheme: scheme.to_owned(),
                    value,
                };
                if let std::collections::hash_map::Entry::Vacant(slot) = out.entry(key) {
                    slot.insert(Firm::from_row(&row).map_err(crate::graphql::list::internal)?);
                }
            }
        }
        Ok(out)
    }
}

connection!(FirmConnection, FirmEdge, Firm, "A page of firms.");

/// How the rows of a cluster or firm list (over `t`) belong to a parent through the
/// memberships: `member: "organisation_id"` lists a cluster's firms, `"cluster_id"` a firm's
/// clusters. An `EXISTS`, so a firm reported as member by two sources is listed once, and
/// the list is read along its order index, checking membership row by row.
pub fn through_memberships(member: &str) -> ParentOf {
    let parent = if member == "organisation_id" {
        "cluster_id"
    } else {
        "organisation_id"
    };
    ParentOf::Condition(format!(
        "EXISTS (SELECT 1 FROM cluster_memberships m WHERE m.{member} = {T}.id AND m.{parent} = {{parent}})"
    ))
}

/// The columns of `organisations` every [`Firm`] reads: its id, change number, name and
/// status (the fields that are never null); the others are [`FirmColumns`].
const FIRM_COLUMNS: [&str; 4] = ["id", "change_seq", "name", "status"];

/// The fields of a firm that read its provenance (the survivorship and figures JSON).
const PROVENANCE_FIELDS: &[&str] = &[
    "fieldSources",
    "employeesTotalAsOf",
    "employeesFemaleAsOf",
    "turnoverPkrAsOf",
    "exportsUsdAsOf",
    "certificationsAsOf",
];

optional_columns! {
    /// A firm's optional columns, in the order of `OPTIONAL`.
    enum Col in OPTIONAL {
        LegalForm => Column::own("legal_form", &["legalForm"]),
        Address => Column::own("address", &["address"]),
        Website => Column::own("website", &["website"]),
        FoundedYear => Column::own("founded_year", &["foundedYear"]),
        SizeClass => Column::own("size_class", &["sizeClass"]),
        SizeBasis => Column::own("size_basis", &["sizeBasis"]),
        IndustryCode => Column::own("industry_code", &["industryCode"]),
        EmployeesTotal => Column::own("employees_total", &["employeesTotal"]),
        EmployeesFemale => Column::own("employees_female", &["employeesFemale"]),
        Phone => Column::own("phone", &["phone"]),
        Email => Column::own("email", &["email"]),
        TurnoverPkr => Column::own("turnover_pkr", &["turnoverPkr"]),
        ExportsUsd => Column::own("exports_usd", &["exportsUsd"]),
        Certifications => Column::own("certifications", &["certifications"]),
        DistrictName => Column::computed("district_name", || district_name_sql(T), &["district"]),
        TehsilName => Column::computed("tehsil_name", || tehsil_name_sql(T), &["tehsil"]),
        Survivorship => Column::own("survivorship", PROVENANCE_FIELDS),
        Figures => Column::own("figures", PROVENANCE_FIELDS),
    }
}

/// Which of a firm's optional columns a query reads: those its selected fields need (a
/// page of 50 firms that asks for names reads no addresses, figures or provenance, nor
/// looks up area names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmColumns(Columns);

impl FirmColumns {
    /// Everything, where the selection is not known (a firm loaded by id for `node`).
    pub const ALL: FirmColumns = FirmColumns(Columns::all(OPTIONAL));

    /// What the firms of the list field being resolved need (`nodes`, `edges { node }`).
    pub fn of_list(ctx: &Context<'_>) -> Self {
        FirmColumns(Columns::of_list(ctx, OPTIONAL))
    }

    /// What the firm field being resolved needs.
    pub fn of_field(ctx: &Context<'_>) -> Self {
        FirmColumns(Columns::of_field(ctx, OPTIONAL))
    }
}

/// The select of a firm list field (`firms`, `Cluster.firms`): the columns its nodes'
/// selection needs, and their identifiers when that saves a statement (see
/// [`super::firm_details::read_identifiers_with_firms`]).
pub fn firm_list_select(ctx: &Context<'_>) -> Result<SelectStatement> {
    Ok(firm_select_with(
        FirmColumns::of_list(ctx),
        super::firm_details::read_identifiers_with_firms(ctx)?,
    ))
}

/// `SELECT <firm columns> FROM organisations t WHERE t.kind = 'firm'`, the base of every
/// firm list, with the optional columns that `columns` asks for (the district and tehsil
/// names are a lookup each). Merged-away firms are not listed.
pub fn firm_select(columns: FirmColumns) -> SelectStatement {
    firm_select_with(columns, super::firm_details::identifiers_not_read())
}

/// [`firm_select`] with `identifiers` as its `__identifiers` column.
fn firm_select_with(columns: FirmColumns, identifiers: SimpleExpr) -> SelectStatement {
    let mut q = Query::select();
    q.from_as(Alias::new("organisations"), Alias::new(T));
    for c in FIRM_COLUMNS {
        q.expr(Expr::cust(format!("{T}.{c}")));
    }
    columns.0.add_to(&mut q, OPTIONAL);
    q.expr_as(
        identifiers,
        Alias::new(super::firm_details::IDENTIFIERS_COLUMN),
    );
    q.and_where(Expr::cust(format!("{T}.kind = 'firm'")))
        .and_where(Expr::cust(format!("{T}.merged_into_id IS NULL")));
    q
}

order_input! {
    /// Fields firms can be ordered by.
    pub enum FirmOrderField;
    /// One key of a firm ordering.
    pub struct FirmOrder {
        Name => (col("name"), Text, NotNull),
        District => (district_name_sql(T), Text),
        FoundedYear => (col("founded_year"), Int),
        EmployeesTotal => (col("employees_total"), Int),
        EmployeesFemale => (col("employees_female"), Int),
        TurnoverPkr => (col("turnover_pkr"), Float),
        ExportsUsd => (col("exports_usd"), Float),
        SizeClass => (col("size_class"), Text),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of a firm list: the requested keys in their order, by name when none.
pub fn firm_sort(order: Option<&[FirmOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("name", KeyKind::Text).not_null()])
}

/// The conditions a related organisation must meet to be a firm (`{x}` is its alias):
/// kind `firm`, not merged away.
pub const FIRM_ROW: &str = "{x}.kind = 'firm' AND {x}.merged_into_id IS NULL";

filter_input! {
    /// Filter on firms. Fields combine with AND; `and`, `or` and `not` compose filters.
    pub struct FirmFilter {
        id: IdFilter => On::Id(TYPE),
        name: StringFilter => On::Column("name"),
        district: StringFilter => On::AreaName("district_id"),
        tehsil: StringFilter => On::AreaName("tehsil_id"),
        legal_form: StringFilter => On::Column("legal_form"),
        size_class: StringFilter => On::Column("size_class"),
        status: StringFilter => On::Column("status"),
        industry_code: StringFilter => On::Column("industry_code"),
        founded_year: IntFilter => On::Column("founded_year"),
        employees_total: IntFilter => On::Column("employees_total"),
        employees_female: IntFilter => On::Column("employees_female"),
        turnover_pkr: FloatFilter => On::Column("turnover_pkr"),
        exports_usd: FloatFilter => On::Column("exports_usd"),
        /// Firms that belong to a cluster matching this filter.
        cluster: ClusterFilter => On::Through {
            link: "cluster_memberships",
            from: "organisation_id",
            to: "cluster_id",
            table: "clusters",
            alias: "fc",
            extra: "",
        },
        /// Firms with an identifier matching this filter.
        identifier: IdentifierFilter => On::HasMany {
            table: "organisation_identifiers",
            fk: "organisation_id",
            alias: "fi",
            // Personal identifiers (a proprietor's CNIC) never match a filter.
            extra: "{x}.is_hashed = false",
        },
    }
}

/// Filter on identifiers: scheme (`PK-NTN`, `PK-SEC`, `PK-STRN`, `psic-punjab-unit`,
/// `source:<source>`) and value as written in canonical form.
#[derive(Debug, Clone, Default, InputObject)]
pub struct IdentifierFilter {
    pub scheme: Option<StringFilter>,
    pub value: Option<StringFilter>,
}

impl RowFilter for IdentifierFilter {
    fn row_condition(&self, a: &str, level: Level) -> Result<Condition, Error> {
        let mut c = Condition::all();
        for (f, column) in [(&self.scheme, "scheme"), (&self.value, "value")] {
            if let Some(f) = f {
                c = c.add(FilterField::condition(f, &On::Column(column), a, level)?);
            }
        }
        Ok(c)
    }

    fn row_matches_absent(&self) -> bool {
        [&self.scheme, &self.value]
            .into_iter()
            .all(|f| f.as_ref().is_none_or(FilterField::matches_absent))
    }
}

impl FilterField for IdentifierFilter {
    fn condition(&self, on: &On, a: &str, level: Level) -> Result<Condition, Error> {
        related(self, on, a, level)
    }

    fn matches_absent(&self) -> bool {
        self.row_matches_absent()
    }
}

/// Adds the firm-name search: case, punctuation and extra spaces do not matter, because
/// the search text is normalised like the stored `name_key`.
pub fn search_condition(a: &str, search: &str) -> Condition {
    let key = hub_schema::domain::normalise_name(search);
    let mut c = Condition::all();
    for word in key.split_whitespace() {
        c = c.add(crate::graphql::filter::ilike(
            &format!("{a}.name_key"),
            format!("%{}%", word.replace(['%', '_', '\\'], "")),
        ));
    }
    c
}
