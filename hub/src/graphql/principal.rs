//! Who is asking: the principal every resolver and loader receives.
//!
//! Until the access-control issue brings API keys, every request gets the same principal:
//! role `analyst` without the `pii` scope (all non-personal data), so personal fields are
//! denied to everyone. That issue only changes how a request's principal is made.

/// Roles of the product brief, least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Public,
    Analyst,
    Curator,
    Admin,
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The `pii` scope: may see personal data (person names, CNIC, phone, e-mail).
    pub pii: bool,
    /// Cluster ids the key is scoped to; `None` means all clusters.
    pub clusters: Option<Vec<i64>>,
}

impl Principal {
    /// The principal of every request until API keys exist.
    pub fn default_for_request() -> Self {
        Principal {
            role: Role::Analyst,
            pii: false,
            clusters: None,
        }
    }
}
