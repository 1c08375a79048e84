//! Programmes: the cluster development programmes clusters, networks and indicators belong
//! to, with their partner agencies.

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::NaiveDate;
use hub_schema::entity::programmes;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{FromQueryResult as _, QueryResult};

use super::cluster::{
    ClusterConnection, ClusterFilter, ClusterOrder, cluster_list_select, cluster_sort,
};
use super::organisation::Organisation;
use crate::graphql::NodeContext as _;
use crate::graphql::connection::{
    FromRow, Listed, Listing, Nested, child_list, connection, load_row, root_lists,
};
use crate::graphql::declare::{filter_input, order_input};
use crate::graphql::filter::{IdFilter, StringFilter};
use crate::graphql::ids;
use crate::graphql::list::{KeyKind, SortKey, T, table_select};

/// The global-id type name of programmes.
pub const TYPE: &str = "Programme";

/// A cluster development programme, such as the Punjab Industrial Cluster Development
/// Initiative, defined by a programme file (`hub import programme.toml`).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Programme {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    /// Stable key, e.g. `punjab-cdi`.
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    #[graphql(skip)]
    pub lead_id: Option<i64>,
    #[graphql(skip)]
    pub technical_assistance_id: Option<i64>,
    #[graphql(skip)]
    pub funder_id: Option<i64>,
}

impl FromRow for Programme {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = programmes::Model::from_query_result(row, "")?;
        Ok(Programme {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            code: m.code,
            name: m.name,
            description: m.description,
            start_date: m.start_date,
            end_date: m.end_date,
            lead_id: m.lead_organisation_id,
            technical_assistance_id: m.technical_assistance_organisation_id,
            funder_id: m.funder_organisation_id,
        })
    }
}

#[ComplexObject]
impl Programme {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The lead (implementing) agency.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load_row::<Organisation>(ctx, self.lead_id).await
    }

    /// The agency giving technical assistance.
    async fn technical_assistance(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load_row::<Organisation>(ctx, self.technical_assistance_id).await
    }

    /// The funder.
    async fn funder(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load_row::<Organisation>(ctx, self.funder_id).await
    }

    /// The programme's clusters, by slug unless ordered otherwise.
    async fn clusters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ClusterFilter>,
        order_by: Option<Vec<ClusterOrder>>,
    ) -> Result<ClusterConnection> {
        let (page, total) = child_list(ctx, self.row_id, first, after, || {
            let mut select = cluster_list_select(ctx);
            if let Some(f) = &filter {
                select.cond_where(f.condition(T, ctx.level())?);
            }
            Ok(Nested::new(
                select,
                format!("{T}.programme_id"),
                cluster_sort(order_by.as_deref()),
            ))
        })
        .await?;
        Ok(ClusterConnection { page, total })
    }
}

connection!(
    ProgrammeConnection,
    ProgrammeEdge,
    Programme,
    "A page of programmes."
);

impl Listed for Programme {
    fn select() -> SelectStatement {
        table_select("programmes")
    }
}

impl Listing for Programme {
    type Filter = ProgrammeFilter;
    type Order = ProgrammeOrder;

    fn default_order() -> Vec<SortKey> {
        vec![SortKey::asc("code", KeyKind::Text).not_null()]
    }
}

filter_input! {
    /// Filter on programmes.
    pub struct ProgrammeFilter {
        id: IdFilter => On::Id(TYPE),
        code: StringFilter => On::Column("code"),
        name: StringFilter => On::Column("name"),
    }
}

order_input! {
    /// Fields programmes can be ordered by.
    pub enum ProgrammeOrderField;
    /// One key of a programme ordering.
    pub struct ProgrammeOrder {
        Code => (col("code"), Text, NotNull),
        Name => (col("name"), Text, NotNull),
        StartDate => (col("start_date"), Date),
        Id => (col("id"), Int, NotNull),
    }
}

root_lists! {
    /// Root fields of programmes.
    pub struct ProgrammeQuery {
        /// The programmes, by code unless ordered otherwise.
        programmes: Programme => ProgrammeConnection,
    }
}
