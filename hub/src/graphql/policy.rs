//! The one policy function: may this principal see or do this class of thing?
//!
//! Resolvers, loaders and the HTTP endpoint never decide access themselves; they classify
//! what they are about to return or do and ask [`allows`]. The table below is the whole of
//! the role model (see README "Access for partner agencies").

use super::principal::{Principal, Role};

/// Classes of protected data and operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// Person names, CNIC (even masked), phone numbers, e-mail addresses: the `pii` scope
    /// on top of a role that sees persons.
    PersonalData,
    /// Firm identifiers (NTN, SECP number, registry unit number, source ids).
    FirmIdentifiers,
    /// Firm-level figures: employees, turnover, exports, observations, loan amounts.
    FirmFigures,
    /// Import runs and their row errors.
    ImportRuns,
    /// Running imports (`importFile`) and curation.
    RunImports,
    /// That persons exist at all (their non-identifying fields such as sex): the `public`
    /// role sees no persons.
    Persons,
    /// API keys (`apiKeys`, `createApiKey`, `revokeApiKey`) and the audit trail
    /// (`auditEvents`).
    Administration,
}

impl Protected {
    /// The least role that may see or do this (personal data also needs the `pii` scope).
    pub fn least_role(self) -> Role {
        match self {
            Protected::PersonalData
            | Protected::FirmIdentifiers
            | Protected::FirmFigures
            | Protected::ImportRuns
            | Protected::Persons => Role::Analyst,
            Protected::RunImports => Role::Curator,
            Protected::Administration => Role::Admin,
        }
    }
}

/// Whether `principal` may see data (or do operations) of class `what`.
pub fn allows(principal: &Principal, what: Protected) -> bool {
    let role = principal.role >= what.least_role();
    match what {
        Protected::PersonalData => role && principal.pii,
        _ => role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_what_the_brief_gives_it() {
        let all = [
            Protected::PersonalData,
            Protected::FirmIdentifiers,
            Protected::FirmFigures,
            Protected::ImportRuns,
            Protected::RunImports,
            Protected::Persons,
            Protected::Administration,
        ];
        let allowed = |p: &Principal| {
            all.iter()
                .filter(|w| allows(p, **w))
                .copied()
                .collect::<Vec<_>>()
        };
        assert!(allowed(&Principal::public()).is_empty());
        let analyst = Principal::with_role(Role::Analyst);
        assert_eq!(
            allowed(&analyst),
            [
                Protected::FirmIdentifiers,
                Protected::FirmFigures,
                Protected::ImportRuns,
                Protected::Persons
            ]
        );
        let curator = Principal::with_role(Role::Curator);
        assert!(allows(&curator, Protected::RunImports));
        assert!(!allows(&curator, Protected::Administration));
        assert!(!allows(&curator, Protected::PersonalData));
        let admin = Principal::with_role(Role::Admin);
        assert_eq!(
            allowed(&admin).len(),
            all.len() - 1,
            "no personal data without pii"
        );
        let pii = |role| Principal {
            pii: true,
            ..Principal::with_role(role)
        };
        assert!(allows(&pii(Role::Analyst), Protected::PersonalData));
        // The scope alone unlocks nothing for a role that sees no persons.
        assert!(!allows(&pii(Role::Public), Protected::PersonalData));
    }
}
