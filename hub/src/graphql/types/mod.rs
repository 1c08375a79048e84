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
