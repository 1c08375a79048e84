//! API keys: `hub keys create|list|revoke` and the admin mutations do the same through
//! these functions; every request presenting a key looks it up here.
//!
//! A key is `hub_`, 8 random characters (with `hub_`, the visible prefix that tells keys
//! apart), `_`, and 43 characters of a 256-bit random secret (base64url). Only the SHA-256
//! of the whole key is stored: a key is a long random secret, so a fast hash is as safe as a slow one
//! and costs microseconds on every request. The key is shown once, when it is made.
//!
//! A request looks its key up in the database (one indexed read) unless the same key was
//! looked up less than `access.key_cache_ms` ago ([`KeyCache`]). So a key created by any
//! process counts from the next request on; a key revoked through the instance that serves
//! the request (`revokeApiKey`) likewise, and one revoked by another process or instance
//! sharing the database (`hub keys revoke`) within `access.key_cache_ms` (2 s). Expiry is
//! checked on every request, cached or not.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use hub_schema::entity::api_keys;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, Set, TransactionTrait as _,
};
use sha2::{Digest as _, Sha256};

use super::audit;
use crate::graphql::principal::{Principal, Role};

/// The start of every key.
pub const KEY_START: &str = "hub_";

/// Why a key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyDenied {
    #[error("the API key is not known (it may have been mistyped or deleted)")]
    Unknown,
    #[error("the API key `{0}` was revoked")]
    Revoked(String),
    #[error("the API key `{0}` expired")]
    Expired(String),
    #[error("the API key `{0}` has a role this hub does not know")]
    BadRole(String),
}

/// What a new key grants.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub pii: bool,
    /// The slugs of the clusters the key is scoped to; empty: every cluster.
    pub clusters: Vec<String>,
    /// The end of the key's validity (exclusive).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key made: its row, and the key itself (shown once).
#[derive(Debug)]
pub struct Created {
    pub key: api_keys::Model,
    pub secret: String,
}

/// Problems with a key command, in words for the person who typed it.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "a key name is 1 to 64 letters, digits, `.`, `_` or `-` (it names the key in lists and the audit trail): {0:?}"
    )]
    BadName(String),
    #[error("a key named `{0}` exists already; revoke it or choose another name")]
    Exists(String),
    #[error("no key is named `{0}`")]
    NotFound(String),
    #[error("the expiry {0} is not in the future")]
    Past(String),
    #[error("no cluster has the slug `{0}` (see `{{ clusters {{ nodes {{ slug }} }} }}`)")]
    UnknownCluster(String),
    #[error(
        "a key is scoped to at most {} clusters; make it without --cluster to see every cluster",
        crate::graphql::declare::MAX_SCOPE_CLUSTERS
    )]
    TooManyClusters,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The end of a key's validity given as a date: keys work through that whole day (UTC),
/// and stop at the start of the next.
pub fn end_of(date: NaiveDate) -> DateTime<Utc> {
    date.succ_opt()
        .unwrap_or(date)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The SHA-256 of a key, as stored.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random key and its visible prefix.
fn generate() -> (String, String) {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 40];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let id: String = bytes[..8]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    let prefix = format!("{KEY_START}{id}");
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[8..]);
    (format!("{prefix}_{secret}"), prefix)
}

/// Creates a key and records it in the audit trail, in one transaction.
pub async fn create(
    db: &DatabaseConnection,
    new: &NewKey,
    actor: &str,
) -> Result<Created, KeyError> {
    if !valid_name(&new.name) {
        return Err(KeyError::BadName(new.name.clone()));
    }
    let now = Utc::now();
    if let Some(at) = new.expires_at
        && at <= now
    {
        return Err(KeyError::Past(at.to_rfc3339()));
    }
    let txn = db.begin().await?;
    if api_keys::Entity::find()
        .filter(api_keys::Column::Name.eq(&new.name))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(KeyError::Exists(new.name.clone()));
    }
    let mut clusters = new.clusters.clone();
    clusters.sort();
    clusters.dedup();
    if clusters.len() > crate::graphql::declare::MAX_SCOPE_CLUSTERS {
        return Err(KeyError::TooManyClusters);
    }
    let known = cluster_ids(&txn, &clusters).await?;
    if let Some(unknown) = clusters
        .iter()
        .find(|slug| !known.iter().any(|(s, _)| s == *slug))
    {
        return Err(KeyError::UnknownCluster(unknown.clone()));
    }
    let (secret, prefix) = generate();
    let key = api_keys::ActiveModel {
        name: Set(new.name.clone()),
        prefix: Set(prefix.clone()),
        secret_hash: Set(hash(&secret)),
        role: Set(new.role.name().to_owned()),
        pii: Set(new.pii),
        clusters: Set((!clusters.is_empty()).then(|| serde_json::json!(clusters))),
        expires_at: Set(new.expires_at.map(|t| t.fixed_offset())),
        created_at: Set(now.fixed_offset()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        audit::kind::KEY_CREATED,
        actor,
        serde_json::json!({
            "key": new.name,
            "prefix": prefix,
            "role": new.role.name(),
            "pii": new.pii,
            "clusters": (!clusters.is_empty()).then_some(&clusters),
            "expiresAt": new.expires_at.map(|t| t.to_rfc3339()),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(Created { key, secret })
}

/// Every key, oldest first.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<api_keys::Model>, sea_orm::DbErr> {
    api_keys::Entity::find()
        .order_by_asc(api_keys::Column::Id)
        .all(db)
        .await
}

/// Revokes the key named `name` (recorded in the audit trail); `Ok(false)` when it was
/// revoked already.
pub async fn revoke(
    db: &DatabaseConnection,
    name: &str,
    actor: &str,
) -> Result<(api_keys::Model, bool), KeyError> {
    let txn = db.begin().await?;
    let Some(key) = api_keys::Entity::find()
        .filter(api_keys::Column::Name.eq(name))
        .one(&txn)
        .await?
    else {
        return Err(KeyError::NotFound(name.to_owned()));
    };
    if key.revoked_at.is_some() {
        return Ok((key, false));
    }
    let mut active: api_keys::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now().fixed_offset()));
    let key = active.update(&txn).await?;
    audit::record(
        &txn,
        audit::kind::KEY_REVOKED,
        actor,
        serde_json::json!({ "key": key.name, "prefix": key.prefix }),
    )
    .await?;
    txn.commit().await?;
    Ok((key, true))
}

/// Keys accepted recently, by the hash of the key: what spares a request its key's lookup
/// (see the module's comment). Only accepted keys are kept, with their expiry, which is
/// checked again on every use; at most [`KeyCache::MAX_KEYS`] of them.
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Accepted>>,
}

/// A key accepted at `at`.
#[derive(Debug, Clone)]
struct Accepted {
    at: Instant,
    expires_at: Option<DateTime<Utc>>,
    principal: Principal,
}

impl KeyCache {
    /// The most keys kept: beyond them, the oldest half is forgotten.
    pub const MAX_KEYS: usize = 4_096;

    /// Keeps accepted keys for `ttl` (zero: none kept).
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The principal of the key with this hash, when it was accepted less than the time to
    /// live ago and has not expired by `now`.
    fn get(&self, hashed: &str, now: DateTime<Utc>) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries.lock().ok()?;
        let entry = entries.get(hashed)?;
        if entry.at.elapsed() < self.ttl && entry.expires_at.is_none_or(|at| at > now) {
            return Some(entry.principal.clone());
        }
        entries.remove(hashed);
        None
    }

    fn put(&self, hashed: String, expires_at: Option<DateTime<Utc>>, principal: &Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= Self::MAX_KEYS {
            let ttl = self.ttl;
            entries.retain(|_, e| e.at.elapsed() < ttl);
            if entries.len() >= Self::MAX_KEYS {
                let mut ages: Vec<Instant> = entries.values().map(|e| e.at).collect();
                ages.sort_unstable();
                let median = ages[ages.len() / 2];
                entries.retain(|_, e| e.at > median);
            }
        }
        entries.insert(
            hashed,
            Accepted {
                at: Instant::now(),
                expires_at,
                principal: principal.clone(),
            },
        );
    }

    /// Forgets every key: after a revocation through this instance.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The principal of a presented key: from `cache` when it holds the key, else read (and
/// then kept in `cache` when accepted).
pub async fn principal(
    db: &impl ConnectionTrait,
    cache: &KeyCache,
    presented: &str,
) -> Result<Result<Principal, KeyDenied>, sea_orm::DbErr> {
    let hashed = hash(presented);
    let now = Utc::now();
    if let Some(principal) = cache.get(&hashed, now) {
        return Ok(Ok(principal));
    }
    let Some(key) = api_keys::Entity::find()
        .filter(api_keys::Column::SecretHash.eq(hashed.as_str()))
        .one(db)
        .await?
    else {
        return Ok(Err(KeyDenied::Unknown));
    };
    let mut principal = match principal_of(&key, now) {
        Ok(p) => p,
        Err(denied) => return Ok(Err(denied)),
    };
    if let Some(slugs) = scope_of(&key) {
        principal.clusters = Some(
            cluster_ids(db, &slugs)
                .await?
                .into_iter()
                .map(|(_, id)| id)
                .collect(),
        );
    }
    cache.put(
        hashed,
        key.expires_at.map(|at| at.with_timezone(&Utc)),
        &principal,
    );
    Ok(Ok(principal))
}

/// The cluster slugs a key is scoped to (`None`: every cluster).
pub fn scope_of(key: &api_keys::Model) -> Option<Vec<String>> {
    let list = key.clusters.as_ref()?.as_array()?;
    Some(
        list.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

/// The ids of the clusters with these slugs, as (slug, id); unknown slugs are left out
/// (a scope naming only unknown clusters sees nothing).
pub async fn cluster_ids(
    db: &impl ConnectionTrait,
    slugs: &[String],
) -> Result<Vec<(String, i64)>, sea_orm::DbErr> {
    use hub_schema::entity::clusters;
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(clusters::Entity::find()
        .filter(clusters::Column::Slug.is_in(slugs.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect())
}

/// What a stored key grants at `now`.
pub fn principal_of(key: &api_keys::Model, now: DateTime<Utc>) -> Result<Principal, KeyDenied> {
    if key.revoked_at.is_some() {
        return Err(KeyDenied::Revoked(key.name.clone()));
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(KeyDenied::Expired(key.name.clone()));
    }
    let role = Role::parse(&key.role).ok_or_else(|| KeyDenied::BadRole(key.name.clone()))?;
    Ok(Principal {
        role,
        pii: key.pii,
        clusters: None,
        actor: format!("key:{}", key.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_carry_their_prefix() {
        let (a, pa) = generate();
        let (b, _) = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("{pa}_")));
        assert_eq!(pa.len(), KEY_START.len() + 8);
        // 256 bits of secret after the prefix.
        assert_eq!(a.len() - pa.len() - 1, 43);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn names_and_expiry_dates_are_read_as_documented() {
        assert!(valid_name("ministry-of-industries_2027.q1"));
        assert!(!valid_name(""));
        assert!(!valid_name("two words"));
        assert!(!valid_name(&"x".repeat(65)));
        let end = end_of(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap());
        assert_eq!(end.to_rfc3339(), "2027-02-01T00:00:00+00:00");
    }

    fn analyst(name: &str) -> Principal {
        Principal {
            role: Role::Analyst,
            pii: false,
            clusters: Some(vec![3]),
            actor: format!("key:{name}"),
        }
    }

    #[test]
    fn the_key_cache_keeps_accepted_keys_for_its_time_and_until_they_expire() {
        let now = Utc::now();
        let cache = KeyCache::new(Duration::from_secs(60));
        assert_eq!(cache.get("a", now), None);
        cache.put("a".into(), None, &analyst("a"));
        assert_eq!(cache.get("a", now), Some(analyst("a")));
        assert_eq!(cache.get("b", now), None);
        // Expiry is checked on every use: a key past its end is not answered from the cache.
        let end = now + chrono::Duration::seconds(30);
        cache.put("b".into(), Some(end), &analyst("b"));
        assert_eq!(cache.get("b", now), Some(analyst("b")));
        assert_eq!(cache.get("b", end), None);
        assert_eq!(cache.get("b", now), None, "an expired key is forgotten");
        // A revocation through this instance forgets every key.
        cache.clear();
        assert_eq!(cache.get("a", now), None);

        // Past its time to live a key is read again; with none, nothing is kept.
        let short = KeyCache::new(Duration::from_millis(1));
        short.put("a".into(), None, &analyst("a"));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(short.get("a", now), None);
        let off = KeyCache::new(Duration::ZERO);
        off.put("a".into(), None, &analyst("a"));
        assert_eq!(off.get("a", now), None);

        // Bounded: past the limit the oldest half goes, the newest key stays.
        let full = KeyCache::new(Duration::from_secs(60));
        for i in 0..=KeyCache::MAX_KEYS {
            full.put(format!("k{i}"), None, &analyst("x"));
        }
        let kept = full.entries.lock().unwrap().len();
        assert!(kept <= KeyCache::MAX_KEYS / 2 + 1, "{kept}");
        assert!(full.get(&format!("k{}", KeyCache::MAX_KEYS), now).is_some());
    }
}
