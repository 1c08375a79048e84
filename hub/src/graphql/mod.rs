//! The GraphQL API for partner agencies.
//!
//! - [`schema`]: the root query and the object types of the unified model, and the root
//!   mutation (`importFile`, see [`types::import_file`]);
//! - [`http`]: the GraphQL-over-HTTP endpoint (`POST`/`GET /graphql`, file uploads,
//!   GraphiQL);
//! - [`principal`] and [`policy`]: who is asking, and the one function every resolver asks
//!   before returning protected fields.
//!
//! Lists are Relay connections with keyset cursors, built by [`list`]; nested lists are
//! batched per level with their per-parent limit kept in SQL.

pub mod errors;
pub mod filter;
pub mod http;
pub mod ids;
pub mod list;
pub mod policy;
pub mod principal;
pub mod schema;
pub mod suppress;
pub mod types;

pub mod aggregate;
pub mod answers;
pub mod batches;
pub mod bounds;
pub mod cache;
pub mod columns;
pub mod connection;
pub mod declare;
pub mod document;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_import;
#[cfg(test)]
mod tests_orgs;
#[cfg(test)]
mod tests_trade;
#[cfg(test)]
mod tests_training;
pub mod values;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};
use sea_orm::DatabaseConnection;

use crate::config::GraphqlSettings;
pub use types::import_file::{ImportSetup, attach_uploads};

/// The hub's GraphQL schema.
pub type HubSchema = Schema<schema::QueryRoot, schema::MutationRoot, EmptySubscription>;

/// Builds the schema with the configured limits. The database connection and what
/// `importFile` needs are shared by all resolvers through the schema data; without
/// `imports`, `importFile` answers `FORBIDDEN` as when uploads are off.
pub fn build_schema(
    db: Option<DatabaseConnection>,
    limits: &GraphqlSettings,
    imports: Option<Arc<ImportSetup>>,
) -> HubSchema {
    build_schema_with(db, limits, imports, true)
}

/// [`build_schema`], answering introspection or not (`__schema` and `__type` are then
/// unknown fields; `__typename` stays).
pub fn build_schema_with(
    db: Option<DatabaseConnection>,
    limits: &GraphqlSettings,
    imports: Option<Arc<ImportSetup>>,
    introspection: bool,
) -> HubSchema {
    role_schema(
        db,
        limits,
        imports,
        introspection,
        &RoleShared::default(),
        false,
    )
}

/// What the schemas of one role share: the stores of kept answers (see [`answers`]), so
/// that an answer kept by a request on one of them serves the requests on the others, and
/// the schema's shape for the cost checked outside the schema ([`document::SchemaShape`]).
/// Never shared between roles: an answer is what its role may see.
#[derive(Debug, Clone, Default)]
pub struct RoleShared {
    cluster_trade: Arc<types::cluster_trade::Answers>,
    trade_aggregate: Arc<types::trade_aggregate::Answers>,
    pub shape: Arc<document::SchemaShape>,
}

/// A role's schema: the **checked** one (`kept` false), with the hub's document checks
/// ([`document::DocumentChecks`]: cost, bounds, kept validations, response order, error
/// codes), which every request runs on except those the **kept** one serves; or the kept
/// one, the same schema without the extension and with async-graphql's fast validation
/// (its limits, fragment cycles and upload rule only), for documents that passed every
/// check of the checked schema with the same limits before:
/// - without variables, after a pass without them ([`cache::Cached::validated`]):
///   nothing the checks look at has changed, so they are not run again;
/// - with variables, in a document of one operation, after a pass that gave every
///   variable ([`cache::Cached::passed_with_every_variable`]): the checks that read the
///   values run outside the schema, and a request whose values might not pass runs on the
///   checked schema instead (see `http::answer` and [`values`]).
///
/// The HTTP endpoint puts the kept schema's responses in order and codes their errors
/// itself ([`document::finish`]).
///
/// Why a second schema: async-graphql runs every field of a response through the chain of
/// extensions when there is one (a boxed future, a `ResolveInfo` with a registry lookup
/// and, for each list item, the list's type name formatted), even an extension that does
/// nothing per field. Measured on the benchmark's 50-firm cluster page (SQLite): 18-25% of
/// the hub's CPU per request under 16 connections, 14% of its instructions (see
/// ARCHITECTURE.md, "Per-field overhead").
pub fn role_schema(
    db: Option<DatabaseConnection>,
    limits: &GraphqlSettings,
    imports: Option<Arc<ImportSetup>>,
    introspection: bool,
    shared: &RoleShared,
    kept: bool,
) -> HubSchema {
    let builder = builder(db, limits, imports, introspection, shared);
    if kept {
        builder
            .validation_mode(async_graphql::ValidationMode::Fast)
            .finish()
    } else {
        builder.extension(document::DocumentChecks).finish()
    }
}

/// What every schema of a role is built from.
fn builder(
    db: Option<DatabaseConnection>,
    limits: &GraphqlSettings,
    imports: Option<Arc<ImportSetup>>,
    introspection: bool,
    shared: &RoleShared,
) -> async_graphql::SchemaBuilder<schema::QueryRoot, schema::MutationRoot, EmptySubscription> {
    let mut builder = Schema::build(
        schema::QueryRoot::default(),
        schema::MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.max_depth)
    .limit_recursive_depth(limits.max_depth.max(32))
    .limit_directives(32)
    .data(limits.clone())
    .data(shared.cluster_trade.clone())
    .data(shared.trade_aggregate.clone())
    .data(shared.shape.clone());
    if !introspection {
        builder = builder.disable_introspection();
    }
    if let Some(db) = db {
        builder = builder.data(db);
    }
    if let Some(imports) = imports {
        builder = builder.data(imports);
    }
    builder
}

/// The SDL of the schema, as `hub schema` prints it and `hub/schema.graphql` holds it.
pub fn sdl() -> String {
    build_schema(None, &GraphqlSettings::default(), None).sdl()
}

/// What resolvers ask of the request context: the limits, and the policy for the caller.
pub trait NodeContext {
    /// The configured GraphQL limits.
    fn limits(&self) -> &GraphqlSettings;
    /// Whether the caller may see data of this class (see [`policy::allows`]).
    fn allowed(&self, what: policy::Protected) -> bool;
    /// The top level of a filter's condition for the request's database.
    fn level(&self) -> declare::Level;

    /// `value` when the caller may see data of this class, otherwise `None`.
    fn reveal<V: Clone>(&self, what: policy::Protected, value: &Option<V>) -> Option<V> {
        if self.allowed(what) {
            value.clone()
        } else {
            None
        }
    }
}

impl NodeContext for async_graphql::Context<'_> {
    fn limits(&self) -> &GraphqlSettings {
        self.data_unchecked::<GraphqlSettings>()
    }

    fn level(&self) -> declare::Level {
        declare::Level::root(
            self.data_opt::<DatabaseConnection>()
                .map_or(sea_orm::DbBackend::Sqlite, |db| db.get_database_backend()),
        )
        .scoped(declare::Scope::of(
            self.data_opt::<principal::Principal>()
                .and_then(|p| p.clusters.as_deref()),
        ))
    }

    fn allowed(&self, what: policy::Protected) -> bool {
        // A request without a principal is treated as the least privileged caller.
        match self.data_opt::<principal::Principal>() {
            Some(p) => policy::allows(p, what),
            None => policy::allows(&principal::Principal::public(), what),
        }
    }
}

/// The caller of the request (the public caller when the request carries none).
pub fn principal_of(ctx: &async_graphql::Context<'_>) -> principal::Principal {
    ctx.data_opt::<principal::Principal>()
        .cloned()
        .unwrap_or_else(principal::Principal::public)
}

/// Refuses an operation the caller's role does not allow, with `FORBIDDEN` naming the
/// role it needs, and records the attempt in the audit trail (coalesced, see
/// [`crate::access::audit::Denials`]). `doing` names the operation (`importFile`), never
/// data.
pub async fn require(
    ctx: &async_graphql::Context<'_>,
    what: policy::Protected,
    doing: &str,
) -> async_graphql::Result<()> {
    if ctx.allowed(what) {
        return Ok(());
    }
    let principal = principal_of(ctx);
    if let Some(access) = ctx.data_opt::<Arc<crate::access::Authenticator>>() {
        access.record_denied(&principal, doing).await;
    }
    let role = what.least_role();
    Err(types::import_run::forbidden(format!(
        "`{doing}` needs the {role} role{}; this caller has the {} role.",
        if role == principal::Role::Admin {
            ""
        } else {
            " or higher"
        },
        principal.role
    )))
}

/// Refuses a list's `filter` or `orderBy` that reads data the caller may not see: no
/// filtering or sorting on a field that answers `null` to the caller, which would show
/// what the `null` hides. `fields` are the filter keys and order values (as the schema
/// spells them) of protected data, with their class; relations nested in a filter are
/// walked too. Variables are read as bound (an order value given in the variables is a
/// string).
pub fn check_arguments(
    ctx: &async_graphql::Context<'_>,
    fields: &[(&str, policy::Protected)],
) -> async_graphql::Result<()> {
    /// `names`: strings are enum values too (in `orderBy`: an enum given in the
    /// variables arrives as a string, since JSON has no enums).
    fn walk<'a>(
        value: &'a async_graphql::Value,
        names: bool,
        fields: &[(&str, policy::Protected)],
        found: &mut Vec<(&'a str, policy::Protected)>,
    ) {
        fn name<'a>(
            name: &'a str,
            fields: &[(&str, policy::Protected)],
            found: &mut Vec<(&'a str, policy::Protected)>,
        ) {
            if let Some((_, what)) = fields.iter().find(|(n, _)| *n == name) {
                found.push((name, *what));
            }
        }
        match value {
            async_graphql::Value::Object(map) => {
                for (key, v) in map {
                    name(key.as_str(), fields, found);
                    walk(v, names, fields, found);
                }
            }
            async_graphql::Value::List(items) => {
                for v in items {
                    walk(v, names, fields, found);
                }
            }
            async_graphql::Value::Enum(value) => name(value.as_str(), fields, found),
            async_graphql::Value::String(value) if names => name(value.as_str(), fields, found),
            _ => {}
        }
    }
    // A caller that sees every class named has nothing to be refused: the arguments are
    // not read again (this runs for every list).
    if fields.iter().all(|(_, what)| ctx.allowed(*what)) {
        return Ok(());
    }
    let arguments = ctx.field().arguments()?;
    let mut found = Vec::new();
    for (name, value) in &arguments {
        if matches!(name.as_str(), "filter" | "orderBy") {
            walk(value, name.as_str() == "orderBy", fields, &mut found);
        }
    }
    match found.into_iter().find(|(_, what)| !ctx.allowed(*what)) {
        None => Ok(()),
        Some((field, what)) => Err(types::import_run::forbidden(format!(
            "`{field}` cannot be filtered or sorted on by this caller: it reads data of the \
             {} role (or higher), which this caller does not see.",
            what.least_role()
        ))),
    }
}

/// The filter keys and order values of firms that read firm figures or identifiers.
pub const FIRM_PROTECTED_ARGUMENTS: &[(&str, policy::Protected)] = &[
    ("employeesTotal", policy::Protected::FirmFigures),
    ("employeesFemale", policy::Protected::FirmFigures),
    ("turnoverPkr", policy::Protected::FirmFigures),
    ("exportsUsd", policy::Protected::FirmFigures),
    ("identifier", policy::Protected::FirmIdentifiers),
    ("EMPLOYEES_TOTAL", policy::Protected::FirmFigures),
    ("EMPLOYEES_FEMALE", policy::Protected::FirmFigures),
    ("TURNOVER_PKR", policy::Protected::FirmFigures),
    ("EXPORTS_USD", policy::Protected::FirmFigures),
];

/// A request with what it needs attached (see [`prepare_request`]), and the batches of its
/// loader, which its execution must run through: [`Prepared::execute`].
#[derive(Debug)]
pub struct Prepared {
    pub request: async_graphql::Request,
    batches: batches::Batches,
}

impl Prepared {
    /// Executes the request on `schema`, running its loader's batches in its own task
    /// ([`batches::Batches::run`]).
    pub async fn execute(self, schema: &impl async_graphql::Executor) -> async_graphql::Response {
        self.batches.run(schema.execute(self.request)).await
    }
}

/// Attaches what one request needs: the caller's principal and a fresh loader for nested
/// lists (loaders cache per request only), whose batches the request's own task runs.
pub fn prepare_request(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    principal: principal::Principal,
    limits: &GraphqlSettings,
) -> Prepared {
    let scope = connection::scope_ids(Some(&principal));
    let batches = batches::Batches::default();
    let request = request.data(principal).data(
        async_graphql::dataloader::DataLoader::new(
            connection::ChildLoader::new(db.clone()).scoped(scope),
            batches.spawner(),
        )
        .delay(std::time::Duration::from_millis(limits.batch_window_ms)),
    );
    Prepared { request, batches }
}
