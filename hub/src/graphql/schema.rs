//! The root query and the root mutation.

use crate::graphql::NodeContext as _;
use async_graphql::{Context, ID, MergedObject, Object, Result};
use sea_orm::DatabaseConnection;
use sea_orm::sea_query::{Expr, ExprTrait as _};

use super::connection::{one, root_list, root_lists};
use super::ids;
use super::list::{PageArgs, T, bad_input};
use super::types::Node;
use super::types::access::{AccessMutation, AccessQuery};
use super::types::cluster::{
    Cluster, ClusterConnection, ClusterFilter, ClusterOrder, cluster_field_select,
    cluster_list_select, cluster_sort,
};
use super::types::curation::{CurationMutation, CurationQuery};
use super::types::firm::{
    self, Firm, FirmConnection, FirmFilter, FirmOrder, firm_select, firm_sort, search_condition,
};
use super::types::firm_details::{FirmObservation, FirmObservationConnection};
use super::types::import_file::ImportMutation;
use super::types::import_run::ImportRunQuery;
use super::types::indicator::IndicatorQuery;
use super::types::indicator::{IndicatorValue, IndicatorValueConnection};
use super::types::network::NetworkQuery;
use super::types::organisation::OrganisationQuery;
use super::types::programme::ProgrammeQuery;
use super::types::registry::RegistryQuery;
use super::types::source::SourceQuery;
use super::types::statistics::StatisticsQuery;
use super::types::trade::TradeQuery;
use super::types::training::TrainingQuery;

/// Read access to the unified model: the root fields of each area, merged.
#[derive(Default, MergedObject)]
pub struct QueryRoot(
    CoreQuery,
    ProgrammeQuery,
    TrainingQuery,
    TradeQuery,
    IndicatorQuery,
    OrganisationQuery,
    NetworkQuery,
    RegistryQuery,
    FigureQuery,
    StatisticsQuery,
    SourceQuery,
    ImportRunQuery,
    AccessQuery,
    CurationQuery,
);

root_lists! {
    /// Root lists of figures, so that a report needs no nested pages.
    pub struct FigureQuery {
        /// Firm observations of every firm and source (head counts, turnover, exports,
        /// certifications per period), by period unless ordered otherwise. The figures are
        /// firm figures.
        firm_observations: FirmObservation => FirmObservationConnection,
        /// Indicator values of every indicator and scope (firm, cluster, programme, area),
        /// by indicator code and period unless ordered otherwise: a results framework in one
        /// list. Firm-level values are firm figures.
        indicator_values: IndicatorValue => IndicatorValueConnection,
    }
}

/// Writes: importing files and curation (curators and admins), keys (admins).
#[derive(Default, MergedObject)]
pub struct MutationRoot(ImportMutation, CurationMutation, AccessMutation);

/// Root fields of clusters, firms and global ids.
#[derive(Debug, Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// Clusters, by slug unless ordered otherwise.
    #[allow(clippy::too_many_arguments)]
    async fn clusters(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ClusterFilter>,
        order_by: Option<Vec<ClusterOrder>>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<ClusterConnection> {
        let mut select = cluster_list_select(ctx);
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        let sort = cluster_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(ClusterConnection { page, total })
    }

    /// One cluster by its slug.
    async fn cluster(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Cluster>> {
        let mut select = cluster_field_select(ctx);
        select.and_where(Expr::cust(format!("{T}.slug")).eq(slug));
        super::connection::scoped::<Cluster>(ctx, &mut select);
        one(ctx.data::<DatabaseConnection>()?, select).await
    }

    /// Firms, by name unless ordered otherwise. `search` matches words of the name, ignoring
    /// case, punctuation and extra spaces.
    #[allow(clippy::too_many_arguments)]
    async fn firms(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<FirmFilter>,
        order_by: Option<Vec<FirmOrder>>,
        search: Option<String>,
        #[graphql(
            desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\"."
        )]
        changed_since: Option<i64>,
    ) -> Result<FirmConnection> {
        super::check_arguments(ctx, super::FIRM_PROTECTED_ARGUMENTS)?;
        let mut select = firm::firm_list_select(ctx)?;
        if let Some(f) = &filter {
            select.cond_where(f.condition(T, ctx.level())?);
        }
        if let Some(s) = &search {
            select.cond_where(search_condition(T, s));
        }
        let sort = firm_sort(order_by.as_deref());
        let args = PageArgs {
            first,
            after,
            last,
            before,
            changed_since,
        };
        let (page, total) = root_list(ctx, select, sort, args).await?;
        Ok(FirmConnection { page, total })
    }

    /// One firm by its global id.
    async fn firm(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Firm>> {
        let row = ids::decode_as(&id, firm::TYPE)?;
        let mut select = firm_select(firm::FirmColumns::of_field(ctx));
        select.and_where(Expr::cust(format!("{T}.id")).eq(row));
        super::connection::scoped::<Firm>(ctx, &mut select);
        one(ctx.data::<DatabaseConnection>()?, select).await
    }

    /// One firm by an identifier: `PK-NTN` (`1234567-8`), `PK-SEC`, `PK-STRN`,
    /// `psic-punjab-unit` or `source:<source id>`. A CNIC identifies an owner, not a firm,
    /// and is refused. `null` for callers who may not see firm identifiers (the public):
    /// a lookup by identifier would tell them which firm holds it.
    async fn firm_by_identifier(
        &self,
        ctx: &Context<'_>,
        scheme: String,
        value: String,
    ) -> Result<Option<Firm>> {
        use hub_schema::domain::{Identifier, IdentifierScheme};
        let scheme = IdentifierScheme::parse(&scheme).map_err(|e| bad_input(e.to_string()))?;
        if !scheme.identifies_firm() {
            return Err(bad_input(format!(
                "{} identifies a person, not a firm; look firms up by NTN, SECP number, STRN, registry unit number or source id.",
                scheme.code()
            )));
        }
        let id = Identifier::parse(scheme, &value).map_err(|e| bad_input(e.to_string()))?;
        if !ctx.allowed(super::policy::Protected::FirmIdentifiers) {
            return Ok(None);
        }
        let loader =
            ctx.data::<async_graphql::dataloader::DataLoader<super::connection::ChildLoader>>()?;
        loader
            .load_one(firm::ByIdentifier {
                scheme: id.scheme().code().into_owned(),
                value: id.value().to_owned(),
            })
            .await
    }

    /// Any object by its global id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let (type_name, row) = ids::decode(&id)?;
        super::types::load_node(ctx, &type_name, row).await
    }
}
