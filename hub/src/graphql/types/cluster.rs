//! Clusters and their product baskets.

use crate::graphql::NodeContext as _;
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use sea_orm::QueryResult;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};

use super::firm::{FirmConnection, FirmFilter, FirmOrder, firm_sort, through_memberships};
use super::indicator::{IndicatorValueConnection, IndicatorValueFilter, IndicatorValueOrder};
use super::network::{NetworkConnection, NetworkFilter, NetworkOrder};
use super::training::{TrainingEventConnection, TrainingEventFilter, TrainingEventOrder};
use crate::graphql::columns::{Column, Columns, optional_columns};
use crate::graphql::connection::{FromRow, Listed, Nested, child_list, connection};
use crate::graphql::declare::{filter_input, order_input};
use crate::graphql::filter::{IdFilter, IntFilter, StringFilter};
use crate::graphql::ids;
use crate::graphql::list::{KeyKind, Sort, SortKey, T, sort_of};

/// The global-id type name of clusters.
pub const TYPE: &str = "Cluster";

/// An industrial cluster: a sector in one or more districts, with its ISIC classes and an
/// HS product basket written in one HS revision.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Cluster {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
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
    /// The revisions the basket's items are written in (one, unless the basket is mixed).
    #[graphql(skip)]
    pub hs_basket_revisions: Vec<String>,
    /// ISIC Rev.4 classes.
    pub isic_classes: Vec<String>,
    /// The districts of the cluster.
    pub districts: Vec<String>,
    #[graphql(skip)]
    pub programme_id: Option<i64>,
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
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("clusters", t, ids)
    }

    /// Reads the columns of [`cluster_select`]: the lists it left out (its `__cols` says
    /// which it selected) are empty, the description and HS revision `None`.
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let cols = Columns::reader(row, OPTIONAL)?;
        Ok(Cluster {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            slug: row.try_get_by("slug")?,
            name: row.try_get_by("name")?,
            sector: row.try_get_by("sector")?,
            description: cols.get(Col::Description)?,
            status: row.try_get_by("status")?,
            hs_revision: cols.get(Col::HsRevision)?,
            hs_basket: split(cols.get(Col::HsBasket)?),
            hs_basket_revisions: {
                let mut r = split(cols.get(Col::HsBasketRevisions)?);
                r.dedup();
                r
            },
            isic_classes: split(cols.get(Col::IsicClasses)?),
            districts: split(cols.get(Col::DistrictNames)?),
            programme_id: row.try_get_by("programme_id")?,
        })
    }
}

#[ComplexObject]
impl Cluster {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The programme the cluster belongs to.
    async fn programme(&self, ctx: &Context<'_>) -> Result<Option<super::programme::Programme>> {
        crate::graphql::connection::load_row::<super::programme::Programme>(ctx, self.programme_id)
            .await
    }

    /// The trade of the cluster's HS basket by year (and partner with `groupBy: [YEAR,
    /// PARTNER]`), in the basket's revision: trade reported in any HS revision from 1992 to
    /// 2022 is placed through the concordance, and what cannot be placed (a code split
    /// across the basket's boundary) is listed beside the figure with its value, never
    /// shared out. One source, one period kind and one level of detail, as
    /// `tradeFlowsAggregate` adds them; with the share of the reporter's total trade where
    /// the source has `TOTAL` rows.
    #[allow(clippy::too_many_arguments)]
    async fn trade(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The years, e.g. `{gte: 2015}`.")] years: Option<IntFilter>,
        #[graphql(default_with = "super::trade::Flow::Export")] flow: super::trade::Flow,
        #[graphql(
            desc = "The reporter's ISO3 code.",
            default_with = "\"PAK\".to_owned()"
        )]
        reporter: String,
        #[graphql(desc = "Only trade with this partner (ISO3 code).")] partner: Option<String>,
        #[graphql(desc = "`[YEAR]` unless given; `[YEAR, PARTNER]` by partner too.")]
        group_by: Option<Vec<super::cluster_trade::ClusterTradeDimension>>,
    ) -> Result<super::cluster_trade::ClusterTrade> {
        let group_by = crate::graphql::aggregate::dimensions(group_by)?;
        Box::pin(super::cluster_trade::cluster_trade(
            ctx,
            self.row_id,
            (&self.hs_basket, &self.hs_basket_revisions),
            years,
            flow,
            reporter,
            partner,
            group_by,
        ))
        .await
    }

    /// The cluster's member firms (each firm once, whichever sources report it).
    async fn firms(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<FirmFilter>,
        order_by: Option<Vec<FirmOrder>>,
    ) -> Result<FirmConnection> {
        crate::graphql::check_arguments(ctx, crate::graphql::FIRM_PROTECTED_ARGUMENTS)?;
        let (page, total) = child_list(ctx, self.row_id, first, after, || {
            let mut select = super::firm::firm_list_select(ctx)?;
            if let Some(f) = &filter {
                select.cond_where(f.condition(T, ctx.level())?);
            }
            let sort = firm_sort(order_by.as_deref());
            Ok(Nested::new(
                select,
                through_memberships("organisation_id"),
                sort,
            ))
        })
        .await?;
        Ok(FirmConnection { page, total })
    }

    /// The SME networks formed in the cluster.
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
        cluster_select(Columns::all(OPTIONAL))
    }
}

connection!(
    ClusterConnection,
    ClusterEdge,
    Cluster,
    "A page of clusters."
);

/// The columns every cluster select reads.
const CLUSTER_COLUMNS: [&str; 7] = [
    "id",
    "change_seq",
    "slug",
    "name",
    "sector",
    "status",
    "programme_id",
];

optional_columns! {
    /// A cluster's optional columns, in the order of `OPTIONAL`: its description and the
    /// lists aggregated from its basket, classes and areas (a subquery each).
    enum Col in OPTIONAL {
        Description => Column::own("description", &["description"]),
        HsRevision => Column::computed("hs_revision", hs_revision_sql, &["hsRevision"]),
        HsBasket => Column::computed(
            "hs_basket",
            || list_sql("cluster_products p", "p.code", "p.cluster_id"),
            &["hsBasket", "trade"],
        ),
        HsBasketRevisions => Column::computed(
            "hs_basket_revisions",
            || list_sql(
                "cluster_products p JOIN classifications pc ON pc.id = p.classification_id",
                "pc.code",
                "p.cluster_id",
            ),
            &["trade"],
        ),
        IsicClasses => Column::computed(
            "isic_classes",
            || list_sql("cluster_activities p", "p.code", "p.cluster_id"),
            &["isicClasses"],
        ),
        DistrictNames => Column::computed(
            "district_names",
            || list_sql(
                "cluster_areas p JOIN admin_areas a ON a.id = p.admin_area_id",
                "a.name",
                "p.cluster_id",
            ),
            &["districts"],
        ),
    }
}

/// The select of a cluster list field (root `clusters`, `Firm.clusters`,
/// `Programme.clusters`): the optional columns its nodes' selection needs (a list asked for
/// slugs and firms aggregates no basket, classes or districts).
pub fn cluster_list_select(ctx: &Context<'_>) -> SelectStatement {
    cluster_select(Columns::of_list(ctx, OPTIONAL))
}

/// The select of a field returning one cluster (`cluster(slug:)`): what its selection needs.
pub fn cluster_field_select(ctx: &Context<'_>) -> SelectStatement {
    cluster_select(Columns::of_field(ctx, OPTIONAL))
}

/// `SELECT <cluster columns> FROM clusters t`, the base of every cluster list, with the
/// optional columns `columns` asks for.
fn cluster_select(columns: Columns) -> SelectStatement {
    let mut q = Query::select();
    q.from_as(Alias::new("clusters"), Alias::new(T));
    for c in CLUSTER_COLUMNS {
        q.expr(Expr::cust(format!("{T}.{c}")));
    }
    columns.add_to(&mut q, OPTIONAL);
    q
}

/// The code of the basket's HS revision.
fn hs_revision_sql() -> String {
    format!("(SELECT c.code FROM classifications c WHERE c.id = {T}.hs_classification_id)")
}

/// A `|`-joined list of `value` over the rows of `from` belonging to the cluster `t`.
/// `string_agg` exists on PostgreSQL and on SQLite since 3.44 (the bundled SQLite is newer).
fn list_sql(from: &str, value: &str, parent: &str) -> String {
    format!("(SELECT string_agg({value}, '|') FROM {from} WHERE {parent} = {T}.id)")
}

order_input! {
    /// Fields clusters can be ordered by.
    pub enum ClusterOrderField;
    /// One key of a cluster ordering.
    pub struct ClusterOrder {
        Slug => (col("slug"), Text, NotNull),
        Name => (col("name"), Text, NotNull),
        Sector => (col("sector"), Text),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of a cluster list, by slug when none is requested.
pub fn cluster_sort(order: Option<&[ClusterOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("slug", KeyKind::Text).not_null()])
}

filter_input! {
    /// Filter on clusters.
    pub struct ClusterFilter {
        id: IdFilter => On::Id(TYPE),
        slug: StringFilter => On::Column("slug"),
        name: StringFilter => On::Column("name"),
        sector: StringFilter => On::Column("sector"),
    }
}
