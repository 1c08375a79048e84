//! Organisations: every unified organisation, whatever its kind (firms, agencies, donors,
//! BDS providers, associations, chambers, training providers).
//!
//! A firm is also listed here, as an `Organisation` of kind `FIRM` with its own global id;
//! the `Firm` type carries the firm-specific fields. Merged-away organisations
//! (`merged_into_id` set) are not listed.

use crate::graphql::NodeContext as _;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use hub_schema::entity::organisations;
use sea_orm::sea_query::{Alias, Condition, Expr, SelectStatement};
use sea_orm::{FromQueryResult as _, QueryResult};

use super::firm::Firm;
use super::firm_details::{
    Identifier, SourceRecordConnection, firm_identifiers, firm_source_records,
};
use crate::graphql::connection::{FromRow, Listed, connection, load_row, root_list};
use crate::graphql::declare::{enum_filter_field, filter_input, order_input};
use crate::graphql::filter::{IdFilter, StringFilter, enum_condition};
use crate::graphql::ids;
use crate::graphql::list::{KeyKind, PageArgs, Sort, SortKey, T, sort_of, table_select};

/// The global-id type name of organisations.
pub const TYPE: &str = "Organisation";

/// What an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrganisationKind {
    /// A firm (an SME of a cluster).
    Firm,
    /// A government or development agency (e.g. the Punjab Small Industries Corporation,
    /// UNIDO).
    Agency,
    /// A donor or funder (e.g. the World Bank).
    Donor,
    /// A business development services provider.
    BdsProvider,
    /// A trade or industry association.
    Association,
    /// A chamber of commerce and industry.
    Chamber,
    /// A training provider.
    TrainingProvider,
}

impl OrganisationKind {
    /// All kinds.
    pub const ALL: [Self; 7] = [
        Self::Firm,
        Self::Agency,
        Self::Donor,
        Self::BdsProvider,
        Self::Association,
        Self::Chamber,
        Self::TrainingProvider,
    ];

    /// The stored code (`firm`, `agency`, `donor`, `bds_provider`, `association`,
    /// `chamber`, `training_provider`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firm => "firm",
            Self::Agency => "agency",
            Self::Donor => "donor",
            Self::BdsProvider => "bds_provider",
            Self::Association => "association",
            Self::Chamber => "chamber",
            Self::TrainingProvider => "training_provider",
        }
    }

    /// Reads the stored code; an unknown code is a database error (the importers write
    /// only the codes above).
    pub fn from_stored(s: &str) -> Result<Self, sea_orm::DbErr> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                sea_orm::DbErr::Custom(format!("unknown organisation kind {s:?} in the database"))
            })
    }
}

/// Filter on an organisation kind.
#[derive(Debug, Clone, Default, InputObject)]
pub struct OrganisationKindFilter {
    pub eq: Option<OrganisationKind>,
    pub ne: Option<OrganisationKind>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<OrganisationKind>>,
    pub not_in: Option<Vec<OrganisationKind>>,
}

enum_filter_field!(OrganisationKindFilter {
    eq,
    ne,
    r#in,
    not_in
});

impl OrganisationKindFilter {
    /// The condition on the stored `kind` column `column`.
    pub fn condition(&self, column: &str) -> Condition {
        let codes = |v: &Vec<OrganisationKind>| v.iter().map(|k| k.as_str()).collect();
        enum_condition(
            column,
            self.eq.map(OrganisationKind::as_str),
            self.ne.map(OrganisationKind::as_str),
            self.r#in.as_ref().map(codes),
            self.not_in.as_ref().map(codes),
        )
    }
}

/// An organisation as the hub knows it: one unified entity, whatever number of sources
/// described it. Each field is taken from the source that ranks highest for it; every
/// source's own values stay visible in `sourceRecords`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Organisation {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    pub kind: OrganisationKind,
    pub name: String,
    /// District name.
    pub district: Option<String>,
    /// Tehsil name.
    pub tehsil: Option<String>,
    pub website: Option<String>,
    /// active, closed, inactive or unknown.
    pub status: String,
    #[graphql(skip)]
    pub survivorship: Option<serde_json::Value>,
    #[graphql(skip)]
    pub figures: Option<serde_json::Value>,
}

impl FromRow for Organisation {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("organisations", t, ids)
    }

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let m = organisations::Model::from_query_result(row, "")?;
        Ok(Organisation {
            change_seq: row.try_get_by("change_seq")?,
            row_id: m.id,
            kind: OrganisationKind::from_stored(&m.kind)?,
            name: m.name,
            district: row.try_get_by("district_name")?,
            tehsil: row.try_get_by("tehsil_name")?,
            website: m.website,
            status: m.status,
            survivorship: m.survivorship,
            figures: m.figures,
        })
    }
}

#[ComplexObject]
impl Organisation {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(TYPE, self.row_id)
    }

    /// Identifiers (NTN, SECP number, registry unit number, IATI id, source ids), each with
    /// the source that gave it; empty unless the caller may see identifiers. Personal
    /// identifiers (a proprietor's CNIC) appear only, masked, to callers who may see
    /// personal data.
    async fn identifiers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only identifiers of this scheme, e.g. `PK-NTN`.")] scheme: Option<String>,
    ) -> Result<Vec<Identifier>> {
        firm_identifiers(ctx, self.row_id, scheme.as_deref()).await
    }

    /// Where each field comes from: the source record that won it (by source priority),
    /// or for a figure its latest observation. Fields the caller may not see are left out.
    async fn field_sources(&self, ctx: &Context<'_>) -> Vec<super::provenance::FieldSource> {
        super::provenance::field_sources(ctx, self.survivorship.as_ref(), self.figures.as_ref())
    }

    /// The same organisation as a firm, with the firm's fields, when it is one.
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        load_row::<Firm>(
            ctx,
            (self.kind == OrganisationKind::Firm).then_some(self.row_id),
        )
        .await
    }

    /// The organisation as each source described it, best source first.
    async fn source_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<SourceRecordConnection> {
        firm_source_records(ctx, self.row_id, first, after).await
    }
}

impl Listed for Organisation {
    fn select() -> SelectStatement {
        organisation_select()
    }
}

connection!(
    OrganisationConnection,
    OrganisationEdge,
    Organisation,
    "A page of organisations."
);

/// `SELECT t.*, district and tehsil names FROM organisations t`, the base of every
/// organisation list. Merged-away organisations are not listed.
pub fn organisation_select() -> SelectStatement {
    let mut q = table_select("organisations");
    q.expr_as(
        Expr::cust(district_name_sql(T)),
        Alias::new("district_name"),
    )
    .expr_as(Expr::cust(tehsil_name_sql(T)), Alias::new("tehsil_name"))
    .and_where(Expr::cust(format!("{T}.merged_into_id IS NULL")));
    q
}

/// The district name of the organisation aliased `a`.
pub fn district_name_sql(a: &str) -> String {
    crate::graphql::list::admin_area_name_sql(&format!("{a}.district_id"))
}

/// The tehsil name of the organisation aliased `a`.
pub fn tehsil_name_sql(a: &str) -> String {
    crate::graphql::list::admin_area_name_sql(&format!("{a}.tehsil_id"))
}

order_input! {
    /// Fields organisations can be ordered by.
    pub enum OrganisationOrderField;
    /// One key of an organisation ordering.
    pub struct OrganisationOrder {
        Name => (col("name"), Text, NotNull),
        Kind => (col("kind"), Text, NotNull),
        Id => (col("id"), Int, NotNull),
    }
}

/// The sort of an organisation list: the requested keys in their order, by name when none.
pub fn organisation_sort(order: Option<&[OrganisationOrder]>) -> Sort {
    sort_of(order, vec![SortKey::asc("name", KeyKind::Text).not_null()])
}

filter_input! {
    /// Filter on organisations. Fields combine with AND; `and`, `or` and `not` compose filters.
    pub struct OrganisationFilter {
        id: IdFilter => On::Id(TYPE),
        kind: OrganisationKindFilter => On::Column("kind"),
        name: StringFilter => On::Column("name"),
        /// The district name.
        district: StringFilter => On::AreaName("district_id"),
    }
}

/// Root fields of organisations.
#[derive(Debug, Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// All organisations (firms, agencies, donors, BDS providers, associations, chambers,
    /// training providers), by name unless ordered otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<OrganisationFilter>,
        order_by: Option<Vec<OrganisationOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<OrganisationConnection> {
        let mut select = organisation_select();
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = organisation_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(OrganisationConnection { page, total })
    }
}
