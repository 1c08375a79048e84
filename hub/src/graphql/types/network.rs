//! Networks and consortia of SMEs (horizontal, vertical, export consortium) and their
//! members.

use crate::graphql::NodeContext as _;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use hub_schema::entity::{network_members, networks};
use sea_orm::sea_query::{Alias, Condition, Expr, JoinType, SelectStatement};
use sea_orm::{FromQueryResult as _, QueryResult};

use super::cluster::{Cluster, ClusterFilter};
use super::firm::{FIRM_ROW, Firm, FirmFilter};
use super::organisation::Organisation;
use crate::graphql::connection::{
    FromRow, Listed, Nested, child_list, connection, load_row, root_list,
};
use crate::graphql::declare::{enum_filter_field, filter_input, order_input};
use crate::graphql::filter::{DateFilter, IdFilter, StringFilter, enum_condition};
use crate::graphql::ids;
use crate::graphql::list::{KeyKind, PageArgs, Sort, SortKey, T, sort_of, table_select};

/// The global-id type name of networks.
pub const TYPE: &str = "Network";

/// What a network is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NetworkKind {
    /// Firms of the same trade working together (joint purchasing, marketing).
    Horizontal,
    /// Firms along one value chain (suppliers and buyers).
    Vertical,
    /// Firms exporting together under one consortium.
    ExportConsortium,
}

impl NetworkKind {
    /// All kinds.
    pub const ALL: [Self; 3] = [Self::Horizontal, Self::Vertical, Self::ExportConsortium];

    /// The stored code (`horizontal`, `vertical`, `export_consortium`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Horizontal => "horizontal",
            Self::Vertical => "vertical",
            Self::ExportConsortium => "export_consortium",
        }
    }

    /// Reads the stored code; an unknown code is a database error.
    pub fn from_stored(s: &str) -> Result<Self, sea_orm::DbErr> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                sea_orm::DbErr::Custom(format!("unknown network kind {s:?} in the database"))
            })
    }
}

/// Filter on a network kind.
#[derive(Debug, Clone, Default, InputObject)]
pub struct NetworkKindFilter {
    pub eq: Option<NetworkKind>,
    pub ne: Option<NetworkKind>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<NetworkKind>>,
    pub not_in: Option<Vec<NetworkKind>>,
}

enum_filter_field!(NetworkKindFilter {
    eq,
    ne,
    r#in,
    not_in
});

impl NetworkKindFilter {
    /// The condition on the stored `kind` column `column`.
    pub fn condition(&self, column: &str) -> Condition {
        let codes = |v: &Vec<NetworkKind>| v.iter().map(|k| k.as_str()).collect();
        enum_condition(
            column,
            self.eq.map(NetworkKind::as_str),
            self.ne.map(NetworkKind::as_str),
            self.r#in.as_ref().map(codes),
            self.not_in.as_ref().map(codes),
        )
    }
}

// ---- Networks ------------------------------------------------------------------------------

/// A network or consortium of SMEs, usually formed by a cluster team.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Network {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    pub name: String,
    pub kind: NetworkKind,
    pub formed_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub description: Option<String>,
    #[graphql(skip)]
    pub cluster_id: Option<i64>,
    #[graphql(skip)]
    pub lead_id: Option<i64>,
}

impl FromRow for Network {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("networks", t, ids)
    }

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = networks::Model::from_query_result(row, "")?;
        Ok(Network {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            name: m.name,
            kind: NetworkKind::from_stored(&m.kind)?,
            formed_on: m.formed_on,
            dissolved_on: m.dissolved_on,
            description: m.description,
            cluster_id: m.cluster_id,
            lead_id: m.lead_organisation_id,
        })
    }
}

#[ComplexObject]
impl Network {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// The cluster the network belongs to.
    async fn cluster(&self, ctx: &Context<'_>) -> Result<Option<Cluster>> {
        load_row::<Cluster>(ctx, self.cluster_id).await
    }

    /// The lead firm.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        load_row::<Firm>(ctx, self.lead_id).await
    }

    /// The members: the lead first, then by firm name.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<NetworkMemberConnection> {
        let (page, total) = child_list(ctx, self.row_id, first, after, || {
            Ok(Nested::new(
                member_select(),
                format!("{T}.network_id"),
                member_sort(),
            ))
        })
        .await?;
        Ok(NetworkMemberConnection { page, total })
    }
}

impl Listed for Network {
    fn select() -> SelectStatement {
        network_select()
    }
}

connection!(
    NetworkConnection,
    NetworkEdge,
    Network,
    "A page of networks."
);

/// `SELECT t.* FROM networks t`, the base of every network list.
pub fn network_select() -> SelectStatement {
    table_select("networks")
}

order_input! {
    /// Fields networks can be ordered by.
    pub enum NetworkOrderField;
    /// One key of a network ordering.
    pub struct NetworkOrder {
        Name => (col("name"), Text, NotNull),
        FormedOn => (col("formed_on"), Date),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of a network list: the requested keys in their order, by name when none.
pub fn network_sort(order: Option<&[NetworkOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("name", KeyKind::Text).not_null()])
}

filter_input! {
    /// Filter on networks. Fields combine with AND; `and`, `or` and `not` compose filters.
    pub struct NetworkFilter {
        id: IdFilter => On::Id(TYPE),
        name: StringFilter => On::Column("name"),
        kind: NetworkKindFilter => On::Column("kind"),
        formed_on: DateFilter => On::Column("formed_on"),
        /// Networks of a cluster matching this filter.
        cluster: ClusterFilter => On::BelongsTo {
            table: "clusters",
            fk: "cluster_id",
            alias: "nc",
            extra: "",
        },
        /// Networks with a member firm matching this filter.
        member: FirmFilter => On::Through {
            link: "network_members",
            from: "network_id",
            to: "organisation_id",
            table: "organisations",
            alias: "nm",
            extra: FIRM_ROW,
        },
    }
}

/// The networks of the cluster `cluster_id`, by name unless ordered otherwise, batched with
/// the other parents of the same level.
pub async fn cluster_networks(
    ctx: &Context<'_>,
    cluster_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<NetworkFilter>,
    order_by: Option<Vec<NetworkOrder>>,
) -> Result<NetworkConnection> {
    child_networks(
        ctx,
        network_select,
        format!("{T}.cluster_id"),
        cluster_id,
        first,
        after,
        filter,
        order_by,
    )
    .await
}

/// The networks the firm (organisation) `firm_id` is a member of, by name unless ordered
/// otherwise, batched with the other parents of the same level.
pub async fn firm_networks(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<NetworkFilter>,
    order_by: Option<Vec<NetworkOrder>>,
) -> Result<NetworkConnection> {
    let select = || {
        let mut select = network_select();
        // One membership per (network, organisation): the join lists each network once.
        select.join_as(
            JoinType::InnerJoin,
            Alias::new("network_members"),
            Alias::new("pm"),
            Expr::cust(format!("pm.network_id = {T}.id")),
        );
        select
    };
    child_networks(
        ctx,
        select,
        "pm.organisation_id".to_owned(),
        firm_id,
        first,
        after,
        filter,
        order_by,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn child_networks(
    ctx: &Context<'_>,
    select: impl FnOnce() -> SelectStatement,
    parent_sql: String,
    parent: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<NetworkFilter>,
    order_by: Option<Vec<NetworkOrder>>,
) -> Result<NetworkConnection> {
    let (page, total) = child_list(ctx, parent, first, after, || {
        let mut select = select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = network_sort(order_by.as_deref());
        Ok(Nested::new(select, parent_sql, sort))
    })
    .await?;
    Ok(NetworkConnection { page, total })
}

// ---- Members -------------------------------------------------------------------------------

/// A member of a network: a firm, its role, and when it joined and left.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct NetworkMember {
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub network_id: i64,
    #[graphql(skip)]
    pub organisation_id: i64,
    /// `lead` or `member`.
    pub role: String,
    pub joined_on: Option<NaiveDate>,
    pub left_on: Option<NaiveDate>,
}

impl FromRow for NetworkMember {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("network_members", t, ids)
    }

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = network_members::Model::from_query_result(row, "")?;
        Ok(NetworkMember {
            row_id: m.id,
            network_id: m.network_id,
            organisation_id: m.organisation_id,
            role: m.role,
            joined_on: m.joined_on,
            left_on: m.left_on,
        })
    }
}

#[ComplexObject]
impl NetworkMember {
    /// The member firm (null when the member is not a firm).
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        load_row::<Firm>(ctx, Some(self.organisation_id)).await
    }

    /// The member as an organisation, whatever its kind.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load_row::<Organisation>(ctx, Some(self.organisation_id)).await
    }

    /// The network.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        load_row::<Network>(ctx, Some(self.network_id)).await
    }
}

connection!(
    NetworkMemberConnection,
    NetworkMemberEdge,
    NetworkMember,
    "A page of network members."
);

/// `SELECT t.* FROM network_members t`, the base of member lists.
pub fn member_select() -> SelectStatement {
    table_select("network_members")
}

/// Members by role (`lead` before `member`), then by the member's name.
fn member_sort() -> Sort {
    Sort::new(vec![
        SortKey::asc("role", KeyKind::Text),
        SortKey {
            sql: format!(
                "(SELECT mo.name FROM organisations mo WHERE mo.id = {T}.organisation_id)"
            ),
            kind: KeyKind::Text,
            descending: false,
            nullable: true,
        },
    ])
}

// ---- Root ----------------------------------------------------------------------------------

/// Root fields of networks.
#[derive(Debug, Default)]
pub struct NetworkQuery;

#[Object]
impl NetworkQuery {
    /// Networks and consortia of SMEs, by name unless ordered otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<NetworkFilter>,
        order_by: Option<Vec<NetworkOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<NetworkConnection> {
        let mut select = network_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = network_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(NetworkConnection { page, total })
    }
}
