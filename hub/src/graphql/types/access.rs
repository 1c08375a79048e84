//! Access administration over GraphQL: the caller's own view (`viewer`), API keys
//! (`apiKeys`, `createApiKey`, `revokeApiKey`) and the audit trail (`auditEvents`). Keys
//! and the audit trail need the admin role ([`Protected::Administration`]); the mutations
//! do what `hub keys create` and `hub keys revoke` do, through the same functions.

use async_graphql::{Context, Enum, Json, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use hub_schema::entity::{api_keys, audit_events};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};

use crate::access::keys;
use crate::graphql::list::{bad_input, internal};
use crate::graphql::policy::Protected;
use crate::graphql::principal::Role;
use crate::graphql::{NodeContext as _, principal_of, require};

/// The roles of the access model, least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "Role")]
pub enum RoleName {
    /// No credentials: reference data, clusters, programmes, published trade statistics,
    /// aggregates and the firm directory.
    Public,
    /// All non-personal data: firm identifiers and figures, loans, import runs.
    Analyst,
    /// An analyst's view, and imports and curation.
    Curator,
    /// Everything, and keys and the audit trail.
    Admin,
}

impl From<Role> for RoleName {
    fn from(role: Role) -> Self {
        match role {
            Role::Public => RoleName::Public,
            Role::Analyst => RoleName::Analyst,
            Role::Curator => RoleName::Curator,
            Role::Admin => RoleName::Admin,
        }
    }
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Self {
        match role {
            RoleName::Public => Role::Public,
            RoleName::Analyst => Role::Analyst,
            RoleName::Curator => Role::Curator,
            RoleName::Admin => Role::Admin,
        }
    }
}

/// Who the caller is, as the hub sees its credentials.
#[derive(Debug, Clone, SimpleObject)]
pub struct Viewer {
    pub role: RoleName,
    /// Whether personal data (person names, phones, e-mails, masked CNICs) is visible.
    pub pii: bool,
    /// How the audit trail names the caller: `key:NAME`, `jwt:SUBJECT` or `anonymous`.
    pub actor: String,
    /// The slugs of the clusters the caller is scoped to; `null`: every cluster.
    pub clusters: Option<Vec<String>>,
}

/// An API key (never the key itself: only its visible prefix).
#[derive(Debug, Clone, SimpleObject)]
pub struct ApiKey {
    pub name: String,
    /// The key's first characters (`hub_` and 8 more), to tell keys apart.
    pub prefix: String,
    pub role: RoleName,
    pub pii: bool,
    /// The slugs of the clusters the key is scoped to; `null`: every cluster.
    pub clusters: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    /// When the key stops working; none: until revoked.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `active`, `expired` or `revoked`.
    pub state: String,
}

impl From<api_keys::Model> for ApiKey {
    fn from(k: api_keys::Model) -> Self {
        let state = match keys::principal_of(&k, Utc::now()) {
            Ok(_) => "active",
            Err(keys::KeyDenied::Revoked(_)) => "revoked",
            Err(keys::KeyDenied::Expired(_)) => "expired",
            Err(_) => "invalid",
        };
        ApiKey {
            clusters: keys::scope_of(&k),
            role: Role::parse(&k.role).map_or(RoleName::Public, RoleName::from),
            state: state.to_owned(),
            name: k.name,
            prefix: k.prefix,
            pii: k.pii,
            created_at: k.created_at.to_utc(),
            expires_at: k.expires_at.map(|t| t.to_utc()),
            revoked_at: k.revoked_at.map(|t| t.to_utc()),
        }
    }
}

/// A key just created, with the key itself: shown this once.
#[derive(Debug, Clone, SimpleObject)]
pub struct CreatedApiKey {
    pub api_key: ApiKey,
    /// The key, for `Authorization: Bearer …`. Only its SHA-256 is stored.
    pub secret: String,
}

/// One event of the audit trail. Never personal data.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditEvent {
    /// Increases with every event; pass the last one seen as `before` for older events.
    pub sequence: i64,
    pub at: DateTime<Utc>,
    /// `import`, `key.created`, `key.revoked`, `auth.denied`, `access.denied`,
    /// `person.erased`.
    pub kind: String,
    /// `key:NAME`, `jwt:SUBJECT`, `cli`, `anonymous`...
    pub actor: String,
    /// Ids, counts and reasons of the event.
    pub detail: Option<Json<serde_json::Value>>,
}

/// Root fields of access administration.
#[derive(Debug, Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// The caller, as its credentials make it (any role).
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let p = principal_of(ctx);
        let clusters = match &p.clusters {
            None => None,
            Some(ids) => {
                use hub_schema::entity::clusters;
                let db = ctx.data::<DatabaseConnection>()?;
                let mut slugs: Vec<String> = clusters::Entity::find()
                    .filter(clusters::Column::Id.is_in(ids.iter().copied()))
                    .all(db)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .map(|c| c.slug)
                    .collect();
                slugs.sort();
                Some(slugs)
            }
        };
        Ok(Viewer {
            role: p.role.into(),
            pii: p.pii,
            actor: p.actor,
            clusters,
        })
    }

    /// Every API key, oldest first (admin).
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<ApiKey>> {
        require(ctx, Protected::Administration, "apiKeys").await?;
        let db = ctx.data::<DatabaseConnection>()?;
        let all = keys::list(db).await.map_err(internal)?;
        Ok(all.into_iter().map(ApiKey::from).collect())
    }

    /// The audit trail, newest first (admin): at most `first` events (up to the page
    /// limit) older than `before`, of one `kind` and `actor` when given.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        before: Option<i64>,
        kind: Option<String>,
        actor: Option<String>,
    ) -> Result<Vec<AuditEvent>> {
        require(ctx, Protected::Administration, "auditEvents").await?;
        let max = ctx.limits().max_page_size;
        let first = u32::try_from(first)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| bad_input(format!("`first` must be between 0 and {max}.")))?;
        let db = ctx.data::<DatabaseConnection>()?;
        let mut query = audit_events::Entity::find();
        if let Some(before) = before {
            query = query.filter(audit_events::Column::Id.lt(before));
        }
        if let Some(kind) = kind {
            query = query.filter(audit_events::Column::Kind.eq(kind));
        }
        if let Some(actor) = actor {
            query = query.filter(audit_events::Column::Actor.eq(actor));
        }
        let rows = query
            .order_by_desc(audit_events::Column::Id)
            .limit(u64::from(first))
            .all(db)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|e| AuditEvent {
                sequence: e.id,
                at: e.at.to_utc(),
                kind: e.kind,
                actor: e.actor,
                detail: e.detail.map(Json),
            })
            .collect())
    }
}

/// Mutations of access administration (admin).
#[derive(Debug, Default)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Creates an API key, as `hub keys create` does; the answer holds the key itself,
    /// shown this once.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Letters, digits, `.`, `_`, `-`: names the key in lists and the audit trail."
        )]
        name: String,
        role: RoleName,
        #[graphql(default = false, desc = "Grant the `pii` scope.")] pii: bool,
        #[graphql(desc = "Scope the key to these clusters (slugs); none: every cluster.")]
        clusters: Option<Vec<String>>,
        #[graphql(desc = "The last day (UTC) the key works; none: until revoked.")] expires: Option<
            NaiveDate,
        >,
    ) -> Result<CreatedApiKey> {
        require(ctx, Protected::Administration, "createApiKey").await?;
        let db = ctx.data::<DatabaseConnection>()?;
        let new = keys::NewKey {
            name,
            role: role.into(),
            pii,
            clusters: clusters.unwrap_or_default(),
            expires_at: expires.map(keys::end_of),
        };
        let created = keys::create(db, &new, &principal_of(ctx).actor)
            .await
            .map_err(key_error)?;
        Ok(CreatedApiKey {
            api_key: created.key.into(),
            secret: created.secret,
        })
    }

    /// Revokes the key named `name`, as `hub keys revoke` does: requests presenting it are
    /// refused from then on (by this instance from the next request; by other instances
    /// sharing the database within `access.key_cache_ms`). Revoking a revoked key changes
    /// nothing.
    async fn revoke_api_key(&self, ctx: &Context<'_>, name: String) -> Result<ApiKey> {
        require(ctx, Protected::Administration, "revokeApiKey").await?;
        let db = ctx.data::<DatabaseConnection>()?;
        let (key, _) = keys::revoke(db, &name, &principal_of(ctx).actor)
            .await
            .map_err(key_error)?;
        if let Some(access) = ctx.data_opt::<std::sync::Arc<crate::access::Authenticator>>() {
            access.forget_keys();
        }
        Ok(key.into())
    }
}

fn key_error(e: keys::KeyError) -> async_graphql::Error {
    match e {
        keys::KeyError::Db(e) => internal(e),
        other => bad_input(other.to_string()),
    }
}
