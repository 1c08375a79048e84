//! Clusters and their product baskets.

use async_graphql::{ComplexObject, Context, Enum, Error, ID, InputObject, Result, SimpleObject};
use hub_schema::entity::clusters;
use sea_orm::sea_query::{Alias, Condition, Expr, SelectStatement};
use sea_orm::{FromQueryResult as _, QueryResult};

use super::firm::{
    FirmConnection, FirmFilter, FirmOrder, firm_select, firm_sort, join_memberships,
};
use super::indicator::{IndicatorValueConnection, IndicatorValueFilter, IndicatorValueOrder};
use super::network::{NetworkConnection, NetworkFilter, NetworkOrder};
use super::training::{TrainingEventConnection, TrainingEventFilter, TrainingEventOrder};
use crate::graphql::connection::{FromRow, Listed, child_list, connection};
use crate::graphql::filter::{IdFilter, OrderDirection, StringFilter, compose, field};
use crate::graphql::ids;
use crate::graphql::list::{KeyKind, OrderInput, Sort, SortKey, T, sort_of, table_select};

/// The global-id type name of clusters.
pub const TYPE: &str = "Cluster";

/// An industrial cluster: a sector in one or more districts, with its ISIC classes and an
/// HS product basket written in one HS revision.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Cluster {
    #[graphql(skip)]
    pub row_id: i64,
    /// Stable key, e.g. `sialkot-surgical`.
    pub slug: String,
    pub name: String,
    pub sector: String,
    pub description: Option<String>,
    pub status: String,
    /// The HS revision of the basket, e.g. `HS2017`.
    pub hs_revision: Option<String>,
    /// Chapters, headings or subheadings of the basket.
    pub hs_basket: Vec<String>,
    /// ISIC Rev.4 classes.
    pub isic_classes: Vec<String>,
    /// The districts of the cluster.
    pub districts: Vec<String>,
}

/// `|`-separated lists as aggregated by [`cluster_select`].
fn split(s: Option<String>) -> Vec<String> {
    let mut v: Vec<String> = s
        .unwrap_or_default()
        .split('|')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

impl FromRow for Cluster {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = clusters::Model::from_query_result(row, "")?;
        Ok(Cluster {
            row_id: m.id,
            slug: m.slug,
            name: m.name,
            sector: m.sector,
            description: m.description,
            status: m.status,
            hs_revision: row.try_get("", "hs_revision")?,
            hs_basket: split(row.try_get("", "hs_basket")?),
            isic_classes: split(row.try_get("", "isic_classes")?),
            districts: split(row.try_get("", "district_names")?),
        })
    }
}

#[ComplexObject]
impl Cluster {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The cluster's member firms (each firm once, whichever sources report it).
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn firms(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<FirmFilter>,
        order_by: Option<Vec<FirmOrder>>,
    ) -> Result<FirmConnection> {
        let mut select = firm_select();
        join_memberships(&mut select, "organisation_id");
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, 0)?);
        }
        let sort = firm_sort(order_by.as_deref());
        let (page, total) =
            child_list(ctx, select, "m.cluster_id", self.row_id, sort, first, after).await?;
        Ok(FirmConnection { page, total })
    }

    /// The SME networks formed in the cluster.
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<NetworkFilter>,
        order_by: Option<Vec<NetworkOrder>>,
    ) -> Result<NetworkConnection> {
        super::network::cluster_networks(ctx, self.row_id, first, after, filter, order_by).await
    }

    /// Training events held for the cluster.
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn training_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<TrainingEventFilter>,
        order_by: Option<Vec<TrainingEventOrder>>,
    ) -> Result<TrainingEventConnection> {
        super::training::cluster_training_events(ctx, self.row_id, first, after, filter, order_by)
            .await
    }

    /// Indicator values reported for the cluster (baseline, target, actual per period).
    #[graphql(complexity = "crate::graphql::list::page_cost(first, None) * child_complexity + 1")]
    async fn indicator_values(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<IndicatorValueFilter>,
        order_by: Option<Vec<IndicatorValueOrder>>,
    ) -> Result<IndicatorValueConnection> {
        super::indicator::cluster_indicator_values(ctx, self.row_id, first, after, filter, order_by)
            .await
    }
}

impl Listed for Cluster {
    fn select() -> SelectStatement {
        cluster_select()
    }
}

connection!(
    ClusterConnection,
    ClusterEdge,
    Cluster,
    "A page of clusters."
);

/// `SELECT t.*, basket and areas FROM clusters t`, the base of every cluster list.
pub fn cluster_select() -> SelectStatement {
    let mut q = table_select("clusters");
    q.expr_as(
        Expr::cust(format!(
            "(SELECT c.code FROM classifications c WHERE c.id = {T}.hs_classification_id)"
        )),
        Alias::new("hs_revision"),
    )
    .expr_as(
        Expr::cust(list_sql("cluster_products p", "p.code", "p.cluster_id")),
        Alias::new("hs_basket"),
    )
    .expr_as(
        Expr::cust(list_sql("cluster_activities p", "p.code", "p.cluster_id")),
        Alias::new("isic_classes"),
    )
    .expr_as(
        Expr::cust(list_sql(
            "cluster_areas p JOIN admin_areas a ON a.id = p.admin_area_id",
            "a.name",
            "p.cluster_id",
        )),
        Alias::new("district_names"),
    );
    q
}

/// A `|`-joined list of `value` over the rows of `from` belonging to the cluster `t`.
/// `string_agg` exists on PostgreSQL and on SQLite since 3.44 (the bundled SQLite is newer).
fn list_sql(from: &str, value: &str, parent: &str) -> String {
    format!("(SELECT string_agg({value}, '|') FROM {from} WHERE {parent} = {T}.id)")
}

/// Fields clusters can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ClusterOrderField {
    Slug,
    Name,
    Sector,
    Id,
}

/// One key of a cluster ordering.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct ClusterOrder {
    pub field: ClusterOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl OrderInput for ClusterOrder {
    fn key(&self) -> (String, KeyKind) {
        let (col, kind) = match self.field {
            ClusterOrderField::Slug => ("slug", KeyKind::Text),
            ClusterOrderField::Name => ("name", KeyKind::Text),
            ClusterOrderField::Sector => ("sector", KeyKind::Text),
            ClusterOrderField::Id => ("id", KeyKind::Int),
        };
        (format!("{T}.{col}"), kind)
    }

    fn direction(&self) -> OrderDirection {
        self.direction
    }
}

/// The sort of a cluster list, by slug when none is requested.
pub fn cluster_sort(order: Option<&[ClusterOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("slug", KeyKind::Text)])
}

/// Filter on clusters.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ClusterFilter {
    pub id: Option<IdFilter>,
    pub slug: Option<StringFilter>,
    pub name: Option<StringFilter>,
    pub sector: Option<StringFilter>,
    pub and: Option<Vec<ClusterFilter>>,
    pub or: Option<Vec<ClusterFilter>>,
    pub not: Option<Box<ClusterFilter>>,
}

impl ClusterFilter {
    /// The condition on the cluster table aliased `a`. `level` is unused until clusters get
    /// relation filters; the signature is the one every filter has.
    #[allow(clippy::only_used_in_recursion)]
    pub fn condition(&self, a: &str, level: usize) -> Result<Condition, Error> {
        let col = |c: &str| format!("{a}.{c}");
        let mut c = Condition::all();
        if let Some(f) = &self.id {
            c = c.add(f.condition_for(&col("id"), TYPE)?);
        }
        c = field(c, &self.slug, &col("slug"))?;
        c = field(c, &self.name, &col("name"))?;
        c = field(c, &self.sector, &col("sector"))?;
        compose(c, &self.and, &self.or, &self.not, |f| f.condition(a, level))
    }
}
