//! The object types of the unified model, one module per type with its filter and order
//! inputs and its relations.

pub mod cluster;
pub mod firm;

use async_graphql::Interface;

/// Anything with a global id, fetchable with `node(id)`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "async_graphql::ID"))]
pub enum Node {
    Cluster(cluster::Cluster),
    Firm(firm::Firm),
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
        firm::TYPE => load_row::<firm::Firm>(ctx, Some(id)).await?.map(Node::Firm),
        _ => None,
    })
}
