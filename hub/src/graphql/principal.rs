//! Who is asking: the principal every resolver and loader receives.
//!
//! [`crate::access`] makes it from the request's credentials (`Authorization: Bearer` with
//! an API key or a JWT); a request without credentials is [`Principal::public`].

use std::fmt;

/// Roles of the product brief, least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// No credentials: reference data, clusters, programmes, published trade statistics,
    /// aggregates and the firm directory.
    Public,
    /// All non-personal data: firm identifiers and figures, loans, import runs.
    Analyst,
    /// What an analyst sees, and imports and curation.
    Curator,
    /// Everything, and key management and the audit trail.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 4] = [Role::Public, Role::Analyst, Role::Curator, Role::Admin];

    /// The role's name in keys, tokens and the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Analyst => "analyst",
            Role::Curator => "curator",
            Role::Admin => "admin",
        }
    }

    /// The role of a name (`admin`, `curator`, `analyst`, `public`; case ignored).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The `pii` scope: may see personal data (person names, CNIC, phone, e-mail).
    pub pii: bool,
    /// Cluster ids the caller is scoped to; `None` means all clusters.
    pub clusters: Option<Vec<i64>>,
    /// Who the caller is, as the audit trail names it: `key:NAME`, `jwt:SUBJECT` or
    /// `anonymous`. Never personal data: a key's name is chosen by an admin, and a JWT's
    /// subject is the identity provider's opaque id.
    pub actor: String,
}

impl Principal {
    /// The caller without credentials.
    pub fn public() -> Self {
        Principal {
            role: Role::Public,
            pii: false,
            clusters: None,
            actor: "anonymous".into(),
        }
    }

    /// A principal of `role` without scopes (tests and in-process callers).
    pub fn with_role(role: Role) -> Self {
        Principal {
            role,
            pii: false,
            clusters: None,
            actor: format!("test:{role}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_listed_in_their_order_and_named_both_ways() {
        for (i, role) in Role::ALL.into_iter().enumerate() {
            assert_eq!(role as usize, i, "the endpoint indexes its roles so");
            assert_eq!(Role::parse(role.name()), Some(role));
        }
        assert!(Role::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Role::parse(" Curator "), Some(Role::Curator));
        assert_eq!(Role::parse("owner"), None);
    }
}
