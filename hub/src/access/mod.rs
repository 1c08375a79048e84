//! Access for partner agencies: who is calling, and the audit trail.
//!
//! A request presents `Authorization: Bearer <credential>`: an API key ([`keys`]) or a JWT
//! from the configured identity provider ([`jwt`]). [`Authenticator::principal`] turns it
//! into the request's [`Principal`]; what the principal may see is decided by
//! [`crate::graphql::policy`] alone. No credentials means the `public` role; credentials
//! that do not verify are refused (401), never read as public.

pub mod audit;
pub mod erase;
pub mod jwt;
pub mod keys;

use sea_orm::DatabaseConnection;

use crate::config::AccessSettings;
use crate::graphql::principal::Principal;

/// Why credentials were refused: a sentence for the 401, and a short reason for the audit
/// trail (never the credential itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    /// Who the credential claimed to be, when known (`key:NAME`), else `anonymous`.
    pub actor: String,
    pub reason: &'static str,
}

/// Turns a request's credentials into its principal.
#[derive(Debug)]
pub struct Authenticator {
    db: DatabaseConnection,
    jwt: Option<jwt::Verifier>,
    denials: audit::Denials,
    min_group_firms: u32,
    /// API keys accepted recently (`access.key_cache_ms`).
    keys: keys::KeyCache,
}

impl Authenticator {
    /// Reads the identity-provider keys of the configuration (an unreadable key file is an
    /// error at start-up, not a 401 later).
    pub fn new(db: DatabaseConnection, settings: &AccessSettings) -> anyhow::Result<Self> {
        Ok(Authenticator {
            db,
            jwt: jwt::Verifier::from_settings(&settings.jwt)?,
            denials: audit::Denials::default(),
            min_group_firms: settings.min_group_firms.max(1),
            keys: keys::KeyCache::new(std::time::Duration::from_millis(settings.key_cache_ms)),
        })
    }

    /// `access.min_group_firms` (at least 1).
    pub fn min_group_firms(&self) -> u32 {
        self.min_group_firms
    }

    /// The principal of an `Authorization` header value (`None`: no header).
    pub async fn principal(&self, authorization: Option<&[u8]>) -> Result<Principal, Refused> {
        let Some(value) = authorization else {
            return Ok(Principal::public());
        };
        let refused = |reason: &'static str, actor: String, message: String| Refused {
            message,
            actor,
            reason,
        };
        let text = std::str::from_utf8(value).unwrap_or_default().trim();
        let credential = match text.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => {
                return Err(refused(
                    "malformed",
                    "anonymous".into(),
                    "The Authorization header must be `Bearer <API key or JWT>`.".into(),
                ));
            }
        };
        if credential.starts_with(keys::KEY_START) {
            return match keys::principal(&self.db, &self.keys, credential).await {
                Ok(Ok(principal)) => Ok(principal),
                Ok(Err(denied)) => {
                    let (reason, actor) = match &denied {
                        keys::KeyDenied::Unknown => ("unknown key", "anonymous".to_owned()),
                        keys::KeyDenied::Revoked(n) => ("revoked key", format!("key:{n}")),
                        keys::KeyDenied::Expired(n) => ("expired key", format!("key:{n}")),
                        keys::KeyDenied::BadRole(n) => {
                            ("key with an unknown role", format!("key:{n}"))
                        }
                    };
                    Err(refused(reason, actor, format!("Refused: {denied}.")))
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not look an API key up");
                    Err(refused(
                        "key lookup failed",
                        "anonymous".into(),
                        "The API key could not be checked; try again.".into(),
                    ))
                }
            };
        }
        if credential.split('.').count() == 3 {
            return match &self.jwt {
                Some(verifier) => match verifier.verify(credential) {
                    Err(why) => Err(refused(
                        "bad token",
                        "anonymous".into(),
                        format!("Refused: {why}."),
                    )),
                    Ok((principal, None)) => Ok(principal),
                    Ok((_, Some(slugs)))
                        if slugs.len() > crate::graphql::declare::MAX_SCOPE_CLUSTERS =>
                    {
                        Err(refused(
                            "bad token",
                            "anonymous".into(),
                            format!(
                                "Refused: the token names more than {} clusters.",
                                crate::graphql::declare::MAX_SCOPE_CLUSTERS
                            ),
                        ))
                    }
                    Ok((mut principal, Some(slugs))) => {
                        match keys::cluster_ids(&self.db, &slugs).await {
                            Ok(ids) => {
                                principal.clusters =
                                    Some(ids.into_iter().map(|(_, id)| id).collect());
                                Ok(principal)
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "could not read a token's clusters");
                                Err(refused(
                                    "cluster lookup failed",
                                    "anonymous".into(),
                                    "The token's clusters could not be checked; try again.".into(),
                                ))
                            }
                        }
                    }
                },
                None => Err(refused(
                    "token without identity provider",
                    "anonymous".into(),
                    "Refused: this hub accepts no JWTs (no identity provider is configured in [access.jwt]).".into(),
                )),
            };
        }
        Err(refused(
            "malformed",
            "anonymous".into(),
            "Refused: the bearer credential is neither an API key (`hub_…`) nor a JWT.".into(),
        ))
    }

    /// Forgets the API keys accepted so far: after a key was revoked through this instance,
    /// so that the next request reads its key again.
    pub fn forget_keys(&self) {
        self.keys.clear();
    }

    /// Records a refusal in the audit trail (coalesced, see [`audit::Denials`]).
    pub async fn record_refusal(&self, refused: &Refused) {
        self.denials
            .record(
                &self.db,
                audit::kind::AUTH_DENIED,
                &refused.actor,
                refused.reason,
            )
            .await;
    }

    /// Records an operation the caller's role does not allow (coalesced likewise).
    pub async fn record_denied(&self, principal: &Principal, what: &str) {
        self.denials
            .record(&self.db, audit::kind::ACCESS_DENIED, &principal.actor, what)
            .await;
    }
}
