//! Firms: unified organisations of kind `firm`.

use async_graphql::{ComplexObject, Context, Enum, Error, ID, InputObject, Result, SimpleObject};
use hub_schema::entity::organisations;
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SelectStatement};
use sea_orm::{FromQueryResult as _, QueryResult};

use super::cluster::{
    ClusterConnection, ClusterFilter, ClusterOrder, cluster_select, cluster_sort,
};
use super::firm_details::{
    FirmObservationConnection, FirmObservationFilter, FirmObservationOrder, Identifier,
    SourceRecordConnection,
};
use super::indicator::{IndicatorValueConnection, IndicatorValueFilter, IndicatorValueOrder};
use super::network::{NetworkConnection, NetworkFilter, NetworkOrder};
use super::organisation::{district_name_sql, tehsil_name_sql};
use super::training::{ParticipationConnection, ParticipationFilter, ParticipationOrder};
use crate::graphql::connection::{FromRow, Listed, child_list, connection};
use crate::graphql::filter::{IdFilter, IntFilter, OrderDirection, StringFilter, compose, field};
use crate::graphql::list::{KeyKind, OrderInput, Sort, SortKey, T, sort_of, table_select};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of firms.
pub const TYPE: &str = "Firm";

/// A firm as the hub knows it: one unified entity, whatever number of sources described
/// it. Each field is taken from the source that ranks highest for it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Firm {
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
}

impl FromRow for Firm {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = organisations::Model::from_query_result(row, "")?;
        Ok(Firm {
            row_id: m.id,
            name: m.name,
            legal_form: m.legal_form,
            district: row.try_get("", "district_name")?,
            tehsil: row.try_get("", "tehsil_name")?,
            address: m.address,
            website: m.website,
            founded_year: m.founded_year,
            size_class: m.size_class,
            size_basis: m.size_basis,
            industry_code: m.industry_code,
            status: m.status,
            employees_total_value: m.employees_total,
            employees_female_value: m.employees_female,
            phone_value: m.phone,
            email_value: m.email,
        })
    }
}

#[ComplexObject]
impl Firm {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// Employees in total (firm-level figure).
    async fn employees_total(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_total_value)
    }

    /// Female employees (firm-level figure).
    async fn employees_female(&self, ctx: &Context<'_>) -> Option<i32> {
        ctx.reveal(Protected::FirmFigures, &self.employees_female_value)
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
    async fn identifiers(&self, ctx: &Context<'_>) -> Result<Vec<Identifier>> {
        super::firm_details::firm_identifiers(ctx, self.row_id).await
    }

    /// What each source said about the firm (every source's values stay visible).
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn source_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SourceRecordConnection> {
        super::firm_details::firm_source_records(ctx, self.row_id, first, after).await
    }

    /// Observations per period: employees, turnover, exports, certifications.
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<FirmObservationFilter>,
        order_by: Option<Vec<FirmObservationOrder>>,
    ) -> Result<FirmObservationConnection> {
        super::firm_details::firm_observations(ctx, self.row_id, first, after, filter, order_by)
            .await
    }

    /// The SME networks the firm is a member of.
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<NetworkFilter>,
        order_by: Option<Vec<NetworkOrder>>,
    ) -> Result<NetworkConnection> {
        super::network::firm_networks(ctx, self.row_id, first, after, filter, order_by).await
    }

    /// The firm's people in trainings (participations with this firm as organisation).
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn participations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ParticipationFilter>,
        order_by: Option<Vec<ParticipationOrder>>,
    ) -> Result<ParticipationConnection> {
        super::training::firm_participations(ctx, self.row_id, first, after, filter, order_by).await
    }

    /// Indicator values reported for the firm (firm-level figures).
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<IndicatorValueFilter>,
        order_by: Option<Vec<IndicatorValueOrder>>,
    ) -> Result<IndicatorValueConnection> {
        super::indicator::firm_indicator_values(ctx, self.row_id, first, after, filter, order_by)
            .await
    }

    /// The clusters the firm belongs to.
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn clusters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ClusterFilter>,
        order_by: Option<Vec<ClusterOrder>>,
    ) -> Result<ClusterConnection> {
        let mut select = cluster_select();
        join_memberships(&mut select, "cluster_id");
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, 0)?);
        }
        let sort = cluster_sort(order_by.as_deref());
        let (page, total) = child_list(
            ctx,
            select,
            "m.organisation_id",
            self.row_id,
            sort,
            first,
            after,
        )
        .await?;
        Ok(ClusterConnection { page, total })
    }
}

impl Listed for Firm {
    fn select() -> SelectStatement {
        firm_select()
    }
}

connection!(FirmConnection, FirmEdge, Firm, "A page of firms.");

/// Joins the list `select` (a cluster or firm list over `t`) to the memberships aliased
/// `m`, on `m.{column} = t.id`: `m.cluster_id` and `m.organisation_id` then name the parent
/// of each row. The memberships are `(cluster_id, organisation_id)` pairs with at least one
/// membership, once each: a firm reported as member by two sources is listed once.
pub fn join_memberships(select: &mut SelectStatement, column: &str) {
    let distinct = Query::select()
        .distinct()
        .column(Alias::new("cluster_id"))
        .column(Alias::new("organisation_id"))
        .from(Alias::new("cluster_memberships"))
        .to_owned();
    select.join_subquery(
        sea_orm::sea_query::JoinType::InnerJoin,
        distinct,
        Alias::new("m"),
        Expr::cust(format!("m.{column} = {T}.id")),
    );
}

/// `SELECT t.*, district and tehsil names FROM organisations t WHERE t.kind = 'firm'`, the
/// base of every firm list. Merged-away firms are not listed.
pub fn firm_select() -> SelectStatement {
    let mut q = table_select("organisations");
    q.expr_as(
        Expr::cust(district_name_sql(T)),
        Alias::new("district_name"),
    )
    .expr_as(Expr::cust(tehsil_name_sql(T)), Alias::new("tehsil_name"))
    .and_where(Expr::cust(format!("{T}.kind = 'firm'")))
    .and_where(Expr::cust(format!("{T}.merged_into_id IS NULL")));
    q
}

/// Fields firms can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FirmOrderField {
    Name,
    District,
    FoundedYear,
    EmployeesTotal,
    EmployeesFemale,
    SizeClass,
    Id,
}

/// One key of a firm ordering.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct FirmOrder {
    pub field: FirmOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl OrderInput for FirmOrder {
    fn key(&self) -> (String, KeyKind) {
        match self.field {
            FirmOrderField::Name => (format!("{T}.name"), KeyKind::Text),
            FirmOrderField::District => (district_name_sql(T), KeyKind::Text),
            FirmOrderField::FoundedYear => (format!("{T}.founded_year"), KeyKind::Int),
            FirmOrderField::EmployeesTotal => (format!("{T}.employees_total"), KeyKind::Int),
            FirmOrderField::EmployeesFemale => (format!("{T}.employees_female"), KeyKind::Int),
            FirmOrderField::SizeClass => (format!("{T}.size_class"), KeyKind::Text),
            FirmOrderField::Id => (format!("{T}.id"), KeyKind::Int),
        }
    }

    fn direction(&self) -> OrderDirection {
        self.direction
    }
}

/// The sort of a firm list: the requested keys in their order, by name when none.
pub fn firm_sort(order: Option<&[FirmOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("name", KeyKind::Text)])
}

/// Filter on firms. Fields combine with AND; `and`, `or` and `not` compose filters.
#[derive(Debug, Clone, Default, InputObject)]
pub struct FirmFilter {
    pub id: Option<IdFilter>,
    pub name: Option<StringFilter>,
    pub district: Option<StringFilter>,
    pub tehsil: Option<StringFilter>,
    pub legal_form: Option<StringFilter>,
    pub size_class: Option<StringFilter>,
    pub status: Option<StringFilter>,
    pub industry_code: Option<StringFilter>,
    pub founded_year: Option<IntFilter>,
    pub employees_total: Option<IntFilter>,
    pub employees_female: Option<IntFilter>,
    /// Firms that belong to a cluster matching this filter.
    pub cluster: Option<ClusterFilter>,
    /// Firms with an identifier matching this filter.
    pub identifier: Option<IdentifierFilter>,
    pub and: Option<Vec<FirmFilter>>,
    pub or: Option<Vec<FirmFilter>>,
    pub not: Option<Box<FirmFilter>>,
}

/// Filter on identifiers: scheme (`PK-NTN`, `PK-SEC`, `PK-STRN`, `psic-punjab-unit`,
/// `source:<source>`) and value as written in canonical form.
#[derive(Debug, Clone, Default, InputObject)]
pub struct IdentifierFilter {
    pub scheme: Option<StringFilter>,
    pub value: Option<StringFilter>,
}

impl FirmFilter {
    /// The condition on the firm table aliased `a`; `level` keeps nested aliases apart.
    pub fn condition(&self, a: &str, level: usize) -> Result<Condition, Error> {
        let col = |c: &str| format!("{a}.{c}");
        let mut c = Condition::all();
        if let Some(f) = &self.id {
            c = c.add(f.condition_for(&col("id"), TYPE)?);
        }
        c = field(c, &self.name, &col("name"))?;
        c = field(c, &self.district, &district_name_sql(a))?;
        c = field(c, &self.tehsil, &tehsil_name_sql(a))?;
        c = field(c, &self.legal_form, &col("legal_form"))?;
        c = field(c, &self.size_class, &col("size_class"))?;
        c = field(c, &self.status, &col("status"))?;
        c = field(c, &self.industry_code, &col("industry_code"))?;
        c = field(c, &self.founded_year, &col("founded_year"))?;
        c = field(c, &self.employees_total, &col("employees_total"))?;
        c = field(c, &self.employees_female, &col("employees_female"))?;
        if let Some(f) = &self.cluster {
            let m = format!("m{level}");
            let k = format!("k{level}");
            let mut sub = Query::select();
            sub.expr(Expr::cust("1"))
                .from_as(Alias::new("cluster_memberships"), Alias::new(&m))
                .join_as(
                    sea_orm::sea_query::JoinType::InnerJoin,
                    Alias::new("clusters"),
                    Alias::new(&k),
                    Expr::cust(format!("{k}.id = {m}.cluster_id")),
                )
                .and_where(Expr::cust(format!("{m}.organisation_id = {a}.id")))
                .cond_where(f.condition(&k, level + 1)?);
            c = c.add(Expr::exists(sub));
        }
        if let Some(f) = &self.identifier {
            let i = format!("i{level}");
            let mut sub = Query::select();
            sub.expr(Expr::cust("1"))
                .from_as(Alias::new("organisation_identifiers"), Alias::new(&i))
                .and_where(Expr::cust(format!("{i}.organisation_id = {a}.id")))
                // Personal identifiers (a proprietor's CNIC) never match a filter.
                .and_where(Expr::cust(format!("{i}.is_hashed = false")));
            let mut cond = Condition::all();
            cond = field(cond, &f.scheme, &format!("{i}.scheme"))?;
            cond = field(cond, &f.value, &format!("{i}.value"))?;
            sub.cond_where(cond);
            c = c.add(Expr::exists(sub));
        }
        compose(c, &self.and, &self.or, &self.not, |f| f.condition(a, level))
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
