//! The GraphQL-over-HTTP endpoint (being written).
