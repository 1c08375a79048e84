//! JWTs from an agency's identity provider, verified with `jsonwebtoken` (see
//! `[access.jwt]` in the configuration).
//!
//! Accepted algorithms: HS256 (the configured shared secret), RS256 and ES256 (configured
//! public keys, from PEM files or a JWKS document). A token's `alg` picks the kind of key
//! that may verify it, so a token cannot choose its own verification: `alg: none` is not an
//! algorithm here, and an HS256 token is never checked against a public key (the classic
//! "HS256 signed with the RS256 public key" forgery). `exp` is required and `nbf` checked
//! when present; `iss` and `aud` are required when configured.
//!
//! The role comes from the configured role claim (a role name, or an array of names of
//! which the highest known counts); a token without a known role is refused, never read
//! as public. The `pii` scope comes from the scope claim, the clusters the caller is scoped
//! to from the clusters claim (slugs; absent: every cluster).

use std::path::Path;

use anyhow::Context as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value as Json};

use crate::config::JwtSettings;
use crate::graphql::principal::{Principal, Role};

/// Verifies JWTs with the configured keys.
pub struct Verifier {
    hs256: Option<DecodingKey>,
    /// RSA and EC public keys, with their `kid` when a JWKS names it.
    public: Vec<(Option<String>, DecodingKey)>,
    settings: JwtSettings,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("hs256", &self.hs256.is_some())
            .field("public_keys", &self.public.len())
            .finish_non_exhaustive()
    }
}

fn pem_key(path: &Path) -> anyhow::Result<DecodingKey> {
    let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    DecodingKey::from_rsa_pem(&pem)
        .or_else(|_| DecodingKey::from_ec_pem(&pem))
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: not a PEM RSA or EC public key ({e}); access.jwt.public_key_files takes \
                 `-----BEGIN PUBLIC KEY-----` files",
                path.display()
            )
        })
}

fn jwks_keys(path: &Path) -> anyhow::Result<Vec<(Option<String>, DecodingKey)>> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let set: JwkSet = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a JWKS document", path.display()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        // Public keys only: a shared secret belongs in `hs256_secret`, not in a document
        // that may be copied around as public.
        if !matches!(
            jwk.algorithm,
            AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_)
        ) {
            continue;
        }
        let key = DecodingKey::from_jwk(jwk).with_context(|| {
            format!(
                "{}: key {:?} cannot be used",
                path.display(),
                jwk.common.key_id
            )
        })?;
        keys.push((jwk.common.key_id.clone(), key));
    }
    anyhow::ensure!(
        !keys.is_empty(),
        "{}: the JWKS document holds no RSA or EC public key",
        path.display()
    );
    Ok(keys)
}

impl Verifier {
    /// The verifier of the configured keys; `None` when no key is configured (JWTs are
    /// then refused as unknown credentials).
    pub fn from_settings(settings: &JwtSettings) -> anyhow::Result<Option<Self>> {
        let hs256 = settings
            .hs256_secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes().to_vec())
            .filter(|s| !s.is_empty());
        if let Some(secret) = &hs256 {
            anyhow::ensure!(
                secret.len() >= 32,
                "access.jwt.hs256_secret must be at least 32 bytes (RFC 7518: a key of the \
                 hash's size)"
            );
        }
        let mut public = Vec::new();
        for path in &settings.public_key_files {
            public.push((None, pem_key(path)?));
        }
        if let Some(path) = settings
            .jwks_file
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            public.extend(jwks_keys(path)?);
        }
        if hs256.is_none() && public.is_empty() {
            return Ok(None);
        }
        let hs256 = match hs256 {
            Some(secret) => Some(DecodingKey::from_secret(&secret)?),
            None => None,
        };
        Ok(Some(Verifier {
            hs256,
            public,
            settings: settings.clone(),
        }))
    }

    /// The principal of a token and the slugs of the clusters it is scoped to (`None`:
    /// every cluster), or why it is refused (a sentence for the 401).
    pub fn verify(&self, token: &str) -> Result<(Principal, Option<Vec<String>>), String> {
        let header = decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::Json(_) => {
                "the token's header names no accepted algorithm (HS256, RS256, ES256)".to_owned()
            }
            _ => format!("the token is not a well-formed JWT ({e})"),
        })?;
        let candidates: Vec<&DecodingKey> = match header.alg {
            Algorithm::HS256 => self.hs256.iter().collect(),
            Algorithm::RS256 | Algorithm::ES256 => self
                .public
                .iter()
                .filter(|(kid, key)| {
                    key.family() == header.alg.family()
                        && (kid.is_none() || header.kid.is_none() || *kid == header.kid)
                })
                .map(|(_, key)| key)
                .collect(),
            other => {
                return Err(format!(
                    "the token's algorithm {other:?} is not accepted (HS256, RS256, ES256)"
                ));
            }
        };
        if candidates.is_empty() {
            return Err(format!(
                "no key is configured to verify {:?} tokens{}",
                header.alg,
                header
                    .kid
                    .as_deref()
                    .map(|k| format!(" with kid {k:?}"))
                    .unwrap_or_default()
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.settings.leeway_seconds;
        validation.validate_nbf = true;
        validation.validate_exp = true;
        let mut required = vec!["exp"];
        if self.settings.issuer.is_empty() {
            validation.iss = None;
        } else {
            validation.set_issuer(&[&self.settings.issuer]);
            required.push("iss");
        }
        if self.settings.audience.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&[&self.settings.audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        let mut last = None;
        for key in candidates {
            match decode::<Map<String, Json>>(token, key, &validation) {
                Ok(data) => return self.principal(&data.claims),
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => last = Some(e),
                Err(e) => return Err(describe(e.kind())),
            }
        }
        Err(last.map_or_else(
            || "the token's signature does not verify".to_owned(),
            |e| describe(e.kind()),
        ))
    }

    fn principal(
        &self,
        claims: &Map<String, Json>,
    ) -> Result<(Principal, Option<Vec<String>>), String> {
        let names = |claim: &str| -> Vec<String> {
            match claims.get(claim) {
                Some(Json::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
                Some(Json::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let role_claim = &self.settings.role_claim;
        let role = names(role_claim)
            .iter()
            .filter_map(|n| Role::parse(n))
            .max()
            .ok_or_else(|| {
                format!(
                    "the token names no known role (admin, curator, analyst, public) in its \
                     `{role_claim}` claim"
                )
            })?;
        let pii = names(&self.settings.scope_claim)
            .iter()
            .any(|s| s.eq_ignore_ascii_case("pii"));
        let subject: String = claims
            .get(&self.settings.subject_claim)
            .and_then(Json::as_str)
            .unwrap_or("unknown")
            .chars()
            .filter(|c| !c.is_control())
            .take(128)
            .collect();
        let clusters = claims
            .contains_key(&self.settings.clusters_claim)
            .then(|| names(&self.settings.clusters_claim));
        Ok((
            Principal {
                role,
                pii,
                clusters: None,
                actor: format!("jwt:{subject}"),
            },
            clusters,
        ))
    }
}

/// Why a token was refused, in words.
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired (exp)".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not the configured one".into(),
        ErrorKind::InvalidAudience => "the token's audience (aud) is not the configured one".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match the key".into(),
        other => format!("the token cannot be read ({other:?})"),
    }
}
