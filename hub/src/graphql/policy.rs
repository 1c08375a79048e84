//! The one policy function: may this principal see this class of field?
//!
//! Resolvers and loaders never decide access themselves; they classify what they are about
//! to return and ask [`allows`]. The access-control issue fills in this table (roles, the
//! `pii` scope, cluster scopes) without touching any resolver.

use super::principal::{Principal, Role};

/// Classes of protected data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// Person names, CNIC (even masked), phone numbers, e-mail addresses.
    PersonalData,
    /// Firm identifiers (NTN, SECP number, registry unit number, source ids).
    FirmIdentifiers,
    /// Firm-level figures: employees, turnover, exports, observations.
    FirmFigures,
    /// Import runs and their row errors.
    ImportRuns,
    /// Running imports (the `importFile` mutation). It is also off unless
    /// `import.graphql_uploads` is set.
    RunImports,
    /// That persons exist at all (their non-identifying fields such as sex): the `public`
    /// role sees no persons.
    Persons,
}

/// Whether `principal` may see data of class `what`.
pub fn allows(principal: &Principal, what: Protected) -> bool {
    match what {
        // Nobody sees personal data until access control with the `pii` scope exists:
        // the scope cannot be granted yet, and this arm already requires it.
        Protected::PersonalData => principal.pii && principal.role >= Role::Analyst,
        Protected::FirmIdentifiers | Protected::FirmFigures => principal.role >= Role::Analyst,
        Protected::ImportRuns => principal.role >= Role::Analyst,
        Protected::Persons => principal.role >= Role::Analyst,
        // Every request is the default analyst until API keys exist, so the switch
        // `import.graphql_uploads` (off by default) is the real gate today; the
        // access-control issue raises this to curators.
        Protected::RunImports => principal.role >= Role::Analyst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_denied_to_the_default_principal() {
        let p = Principal::default_for_request();
        assert!(!allows(&p, Protected::PersonalData));
        assert!(allows(&p, Protected::FirmFigures));
        let public = Principal {
            role: Role::Public,
            pii: false,
            clusters: None,
        };
        assert!(!allows(&public, Protected::FirmIdentifiers));
        assert!(!allows(&public, Protected::Persons));
        assert!(allows(&p, Protected::Persons));
    }
}
