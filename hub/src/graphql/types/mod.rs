//! The object types of the unified model, one module per type with its filter and order
//! inputs and its relations.

pub mod access;
pub mod cluster;
pub mod cluster_trade;
pub mod curation;
pub mod firm;
pub mod firm_details;
pub mod import_file;
pub mod import_run;
pub mod indicator;
pub mod network;
pub mod organisation;
pub mod programme;
pub mod provenance;
pub mod registry;
pub mod results;
pub mod source;
pub mod statistics;
pub mod trade;
pub mod trade_aggregate;
pub mod training;

use async_graphql::Interface;

use crate::graphql::NodeContext as _;

/// Anything with a global id, fetchable with `node(id)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID"))]
pub enum Node {
    Cluster(cluster::Cluster),
    Programme(programme::Programme),
    Firm(firm::Firm),
    Organisation(organisation::Organisation),
    FirmObservation(firm_details::FirmObservation),
    SourceRecord(firm_details::SourceRecord),
    Network(network::Network),
    ImportRun(import_run::ImportRun),
    TradeFlow(trade::TradeFlow),
    Indicator(indicator::Indicator),
    IndicatorValue(indicator::IndicatorValue),
    TrainingEvent(training::TrainingEvent),
    Participation(training::Participation),
    Person(training::Person),
    IndustrialEstate(registry::IndustrialEstate),
    Plot(registry::Plot),
    PlotAllotment(registry::PlotAllotment),
    Loan(registry::Loan),
    Source(source::Source),
}

/// Loads the node of type `type_name` with row id `id`, batched with other lookups of the
/// same request. Unknown types give `None`, like unknown ids.
pub async fn load_node(
    ctx: &async_graphql::Context<'_>,
    type_name: &str,
    id: i64,
) -> async_graphql::Result<Option<Node>> {
    use crate::graphql::connection::load_row;
    Ok(match type_name {
        cluster::TYPE => load_row::<cluster::Cluster>(ctx, Some(id))
            .await?
            .map(Node::Cluster),
        programme::TYPE => load_row::<programme::Programme>(ctx, Some(id))
            .await?
            .map(Node::Programme),
        firm::TYPE => load_row::<firm::Firm>(ctx, Some(id)).await?.map(Node::Firm),
        organisation::TYPE => load_row::<organisation::Organisation>(ctx, Some(id))
            .await?
            .map(Node::Organisation),
        firm_details::OBSERVATION_TYPE => load_row::<firm_details::FirmObservation>(ctx, Some(id))
            .await?
            .map(Node::FirmObservation),
        firm_details::SOURCE_RECORD_TYPE => load_row::<firm_details::SourceRecord>(ctx, Some(id))
            .await?
            .map(Node::SourceRecord),
        network::TYPE => load_row::<network::Network>(ctx, Some(id))
            .await?
            .map(Node::Network),
        import_run::TYPE => import_run::load_import_run(ctx, id)
            .await?
            .map(Node::ImportRun),
        trade::TYPE => load_row::<trade::TradeFlow>(ctx, Some(id))
            .await?
            .map(Node::TradeFlow),
        indicator::TYPE => load_row::<indicator::Indicator>(ctx, Some(id))
            .await?
            .map(Node::Indicator),
        indicator::VALUE_TYPE => load_row::<indicator::IndicatorValue>(ctx, Some(id))
            .await?
            .map(Node::IndicatorValue),
        training::TYPE => load_row::<training::TrainingEvent>(ctx, Some(id))
            .await?
            .map(Node::TrainingEvent),
        training::PARTICIPATION_TYPE => load_row::<training::Participation>(ctx, Some(id))
            .await?
            .map(Node::Participation),
        training::PERSON_TYPE if !ctx.allowed(crate::graphql::policy::Protected::Persons) => None,
        training::PERSON_TYPE => load_row::<training::Person>(ctx, Some(id))
            .await?
            .map(Node::Person),
        registry::ESTATE_TYPE => load_row::<registry::IndustrialEstate>(ctx, Some(id))
            .await?
            .map(Node::IndustrialEstate),
        registry::PLOT_TYPE => load_row::<registry::Plot>(ctx, Some(id))
            .await?
            .map(Node::Plot),
        registry::ALLOTMENT_TYPE => load_row::<registry::PlotAllotment>(ctx, Some(id))
            .await?
            .map(Node::PlotAllotment),
        registry::LOAN_TYPE => load_row::<registry::Loan>(ctx, Some(id))
            .await?
            .map(Node::Loan),
        source::TYPE => load_row::<source::Source>(ctx, Some(id))
            .await?
            .map(Node::Source),
        _ => None,
    })
}
