//! The GraphQL-over-HTTP endpoint: `POST /graphql` and `GET /graphql`, following the
//! GraphQL over HTTP specification (graphql.github.io/graphql-over-http), and GraphiQL for
//! browsers.
//!
//! **Requests.** `POST` takes a JSON body (`Content-Type: application/json`, UTF-8) with
//! `query`, and optionally `operationName`, `variables` and `extensions`, or a multipart
//! body with files (see "File uploads" below); any other body type is refused with 415.
//! `GET` takes the same parameters in the URL (`variables` and `extensions` JSON-encoded)
//! and never runs a mutation or subscription: those get 405 with `Allow: POST`. The document is parsed once here (to know the operation type) and handed
//! to the schema, which checks it against the limits of `[graphql]` (depth, cost).
//!
//! **Responses.** `Accept` chooses the media type: `application/graphql-response+json` or
//! `application/json` (also for `*/*`, `application/*` and a request without `Accept`);
//! anything else gets 406. With `application/graphql-response+json`, request errors
//! (body or parameters malformed, parse, validation and limit errors, variables that do not
//! coerce, unknown operation) answer 400 without `data`, and an executed request 200 even
//! with field errors. With `application/json` (the legacy type) every well-formed request
//! answers 200; only a request that is not well-formed (body not JSON, no `query`, ...)
//! answers 400. Every error carries `extensions.code` (see [`super::errors`]).
//!
//! **Credentials.** `Authorization: Bearer <API key or JWT>` (see [`crate::access`]) is
//! read before the body: credentials that do not verify answer 401 (`UNAUTHENTICATED`,
//! with `WWW-Authenticate: Bearer`), never the public view; no header is the public
//! caller.
//!
//! **Limits.** A plain (JSON) body over `graphql.max_body_bytes` answers 413 at once when
//! its `Content-Length` says so, and as soon as the limit is crossed otherwise, without
//! reading the rest; a multipart body has its own limit, `graphql.max_upload_bytes`. A
//! request running longer than `graphql.request_timeout_ms` is dropped and answers 504
//! (`TIMEOUT`); a body that takes longer than that (at least 10 s) to arrive answers 408
//! (`TIMEOUT`). Both apply to uploads too (the import runs within the request's time).
//!
//! **File uploads** (`importFile`) follow the GraphQL multipart request spec
//! (github.com/jaydenseric/graphql-multipart-request-spec): a `POST` with
//! `Content-Type: multipart/form-data` whose parts are `operations` (the JSON request, each
//! file variable `null`), `map` (a JSON object: file part name → paths such as
//! `["variables.file"]`), then the files. Multipart requests are POST only and:
//!
//! - must carry a non-empty `GraphQL-Require-Preflight` (e.g. `1`) or
//!   `Apollo-Require-Preflight` (e.g. `true`) header, else 400 (`BAD_REQUEST`). This is
//!   the protection against cross-site request forgery: `multipart/form-data` is a "simple"
//!   content type, which any web page can make a browser post to any address it can reach
//!   (an agency intranet included) without asking the server first; a custom header makes
//!   the browser send a CORS preflight first, which the hub does not grant, so the upload
//!   is never sent. Scripts, `curl` and Apollo or urql clients add the header themselves
//!   (Apollo's `Apollo-Require-Preflight` is accepted for that reason).
//! - are refused with 403 (`FORBIDDEN`) before their body is read unless the caller is a
//!   curator or admin.
//! - are read whole (within `graphql.max_upload_bytes`, 413 above it), then parsed by
//!   async-graphql's multipart reader; a malformed one (no `operations` or `map`, a map
//!   naming a missing part, a batch) answers 400 (`BAD_REQUEST`). Then the request runs
//!   like any other, with its files available to `importFile`.
//!
//! **GraphiQL.** A `GET /graphql` that prefers `text/html` (a browser) gets the GraphiQL
//! page; its scripts and styles are embedded in the binary and served from
//! `/graphql/assets/...` (no CDN: agency networks are often offline), with a content hash
//! in their URLs so they can be cached for a year.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::{OperationDefinition, OperationType, Selection};
use async_graphql::{BatchRequest, ParseRequestError, ServerError, UploadValue, Variables};
use sea_orm::DatabaseConnection;
use serde_json::Value as Json;

use super::errors::{self, Stage};
use super::policy::{self, Protected};
use super::principal::Principal;
use super::types::import_file::{ImportSetup, Uploads};
use super::{HubSchema, prepare_request};
use crate::access::Authenticator;
use crate::config::GraphqlSettings;
use crate::metrics::{self, Outcome};

/// What the endpoint shares between requests: the schema (built once), the database, the
/// limits and what imports need.
pub struct Endpoint {
    /// The schemas and limits of each role, indexed by [`role_index`].
    roles: Vec<RoleEndpoint>,
    db: DatabaseConnection,
    /// `[graphql]`: body sizes and time limits (the same for every role).
    settings: GraphqlSettings,
    /// Turns credentials into principals.
    access: Arc<Authenticator>,
    /// Parsed and validated documents (see [`super::cache`]).
    documents: super::cache::DocumentCache,
    /// The runtime requests seen for the first time execute on (see [`run`]): the hub's
    /// main multi-threaded runtime, so that parsing and validating a new document never
    /// holds an HTTP worker. `None` outside a Tokio runtime (the request then runs on the
    /// worker).
    runtime: Option<tokio::runtime::Handle>,
}

/// Why work run by [`Endpoint::limited`] gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It ran longer than its limit and was stopped.
    TimedOut,
    /// Its task failed (panicked); the log has why.
    Failed,
}

/// A keyed rate limiter: requests per minute per caller.
type Limiter = governor::RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    governor::clock::DefaultClock,
>;

/// What one role gets: the schema built with its limits (and without introspection when
/// its `introspection` is off), the same with the introspection depth, its limits, and
/// its rate limiter.
struct RoleEndpoint {
    schema: HubSchema,
    /// The same schema without the document checks, for documents that passed them before
    /// (see [`super::role_schema`]).
    kept: HubSchema,
    /// The role's schema as the cost reads it, recorded by its first validation with the
    /// extension (see [`super::document::SchemaShape`]).
    shape: Arc<super::document::SchemaShape>,
    /// The same schema with the depth limit raised to [`INTROSPECTION_MAX_DEPTH`], for
    /// introspection-only operations (see [`is_introspection`]).
    introspection: HubSchema,
    settings: GraphqlSettings,
    limiter: Option<Limiter>,
    /// `requests_per_minute` (0: no limiter).
    per_minute: u32,
}

/// The index of a role in [`Endpoint::roles`] (built in the order of `Role::ALL`, least
/// privileged first, which is the enum's order).
fn role_index(role: super::principal::Role) -> usize {
    role as usize
}

/// The depth limit of introspection-only operations. The standard introspection query
/// (GraphiQL's documentation explorer, code generators, Postman, ...) nests 14 deep through
/// its `TypeRef` fragment, deeper than `graphql.max_depth` (12) allows data queries to go.
/// Introspection resolves from the in-memory registry (no resolver, no database) and stays
/// under the complexity limit, so a fixed, somewhat larger limit is safe.
pub const INTROSPECTION_MAX_DEPTH: usize = 20;

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Builds the schemas of every role with its limits (`[graphql]` with
    /// `[access.roles.ROLE]` over them); `imports` serves `importFile`.
    pub fn new(
        db: DatabaseConnection,
        settings: &GraphqlSettings,
        imports: Arc<ImportSetup>,
        access: Arc<Authenticator>,
        roles: &crate::config::RoleLimitsByRole,
    ) -> Self {
        let roles = super::principal::Role::ALL
            .iter()
            .map(|role| {
                let limits = roles.of(*role);
                let own = settings.for_role(limits);
                let introspection_limits = GraphqlSettings {
                    max_depth: own.max_depth.max(INTROSPECTION_MAX_DEPTH),
                    ..own.clone()
                };
                // One store of kept answers for the role's schemas (never across roles).
                let shared = super::RoleShared::default();
                let introspection = limits.introspection;
                let schema = |limits: &GraphqlSettings, kept: bool| {
                    super::role_schema(
                        Some(db.clone()),
                        limits,
                        Some(imports.clone()),
                        introspection,
                        &shared,
                        kept,
                    )
                };
                RoleEndpoint {
                    schema: schema(&own, false),
                    kept: schema(&own, true),
                    introspection: schema(&introspection_limits, false),
                    shape: shared.shape.clone(),
                    settings: own,
                    limiter: std::num::NonZeroU32::new(limits.requests_per_minute)
                        .map(|n| Limiter::keyed(governor::Quota::per_minute(n))),
                    per_minute: limits.requests_per_minute,
                }
            })
            .collect();
        Endpoint {
            roles,
            db,
            settings: settings.clone(),
            access,
            documents: super::cache::DocumentCache::default(),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    fn role(&self, role: super::principal::Role) -> &RoleEndpoint {
        &self.roles[role_index(role)]
    }

    /// The caller of a request that is not GraphQL (the datasets): its principal, or the
    /// response refusing it (401 for credentials that do not verify, 429 over its rate), in
    /// the same JSON error shape as the GraphQL endpoint's.
    pub async fn caller(&self, req: &HttpRequest) -> Result<Principal, HttpResponse> {
        let principal = authenticate(req, self, Media::Json).await?;
        if let Some(refused) = rate_limited(req, self, &principal, Media::Json) {
            return Err(refused);
        }
        Ok(principal)
    }

    /// Who decides credentials and records refusals.
    pub fn access(&self) -> &Arc<Authenticator> {
        &self.access
    }

    /// The database the schemas read.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The hub's main multi-threaded runtime, where long work runs instead of the HTTP
    /// worker's thread (see the field's comment).
    pub fn runtime(&self) -> Option<&tokio::runtime::Handle> {
        self.runtime.as_ref()
    }

    /// Runs `query` with `variables` as `principal` through the schema of its role, with
    /// its limits and policy: how the datasets read what the GraphQL API computes
    /// (`Cluster.trade`) without a second query layer.
    pub async fn execute_as(
        &self,
        principal: &Principal,
        query: &str,
        variables: Json,
    ) -> async_graphql::Response {
        let role = self.role(principal.role);
        prepare_request(
            async_graphql::Request::new(query)
                .variables(Variables::from_json(variables))
                .data(self.access.clone()),
            &self.db,
            principal.clone(),
            &role.settings,
        )
        .execute(&role.schema)
        .await
    }

    /// Runs `work` on the main runtime (see [`Endpoint::runtime`]), never holding the
    /// HTTP worker, and stops it after `limit`: how `/graphql` requests and the pages run.
    pub async fn limited<F>(&self, limit: Duration, work: F) -> Result<F::Output, Stopped>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => {
                let mut task = runtime.spawn(work);
                match tokio::time::timeout(limit, &mut task).await {
                    Ok(Ok(output)) => Ok(output),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "request task failed");
                        Err(Stopped::Failed)
                    }
                    Err(_) => {
                        task.abort();
                        Err(Stopped::TimedOut)
                    }
                }
            }
            None => tokio::time::timeout(limit, work)
                .await
                .map_err(|_| Stopped::TimedOut),
        }
    }

    /// Runs `work` where it is polled (the HTTP worker), stopped after `limit`, a panic
    /// contained as in [`Endpoint::limited`]: for requests whose document was validated
    /// before (see [`run`]), which then skip two thread switches.
    async fn inline<F>(limit: Duration, work: F) -> Result<F::Output, Stopped>
    where
        F: std::future::Future,
    {
        use futures_util::FutureExt as _;
        match tokio::time::timeout(limit, std::panic::AssertUnwindSafe(work).catch_unwind()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(_)) => {
                tracing::error!("request task failed (panicked)");
                Err(Stopped::Failed)
            }
            Err(_) => Err(Stopped::TimedOut),
        }
    }

    /// [`Endpoint::execute_as`] as `/graphql` runs requests ([`Endpoint::limited`], under
    /// `graphql.request_timeout_ms`).
    pub async fn execute_limited(
        endpoint: &web::Data<Endpoint>,
        principal: Principal,
        query: String,
        variables: Json,
    ) -> Result<async_graphql::Response, Stopped> {
        let limit = Duration::from_millis(endpoint.settings.request_timeout_ms);
        let shared = endpoint.clone();
        let work = async move { shared.execute_as(&principal, &query, variables).await };
        endpoint.limited(limit, work).await
    }

    /// How long the caller must wait when it is over its role's rate, or `None`. The
    /// public is counted per client address, others per key or token subject.
    pub(crate) fn over_rate(
        &self,
        principal: &Principal,
        peer: Option<std::net::IpAddr>,
    ) -> Option<Duration> {
        let limiter = self.role(principal.role).limiter.as_ref()?;
        let key = match principal.role {
            super::principal::Role::Public => {
                format!(
                    "ip:{}",
                    peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
                )
            }
            _ => principal.actor.clone(),
        };
        // Forget callers idle long enough to be back at a full allowance.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        match limiter.check_key(&key) {
            Ok(()) => None,
            Err(not_until) => {
                use governor::clock::Clock as _;
                Some(not_until.wait_time_from(limiter.clock().now()))
            }
        }
    }
}

/// The time a request may take: uploads (imports) get `upload_timeout_ms`, others
/// `request_timeout_ms`.
fn time_limit(settings: &GraphqlSettings, upload: bool) -> u64 {
    if upload {
        settings.upload_timeout_ms
    } else {
        settings.request_timeout_ms
    }
}

/// Registers `/graphql` and `/graphql/assets/{file}`; needs `web::Data<Endpoint>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(post))
            .route(web::get().to(get))
            .default_service(web::to(other_method)),
    )
    .service(web::resource("/graphql/assets/{file}").route(web::get().to(asset)));
}

// ---------------------------------------------------------------------------------------
// Media types

/// The media types the endpoint answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    /// `application/json`: the legacy GraphQL response type.
    Json,
    /// `application/graphql-response+json`.
    GraphqlResponse,
    /// `text/html`: GraphiQL (GET only).
    Html,
}

impl Media {
    fn essence(self) -> (&'static str, &'static str) {
        match self {
            Media::Json => ("application", "json"),
            Media::GraphqlResponse => ("application", "graphql-response+json"),
            Media::Html => ("text", "html"),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Html => "text/html; charset=utf-8",
        }
    }
}

/// Chooses among `offers` (in the server's order of preference, which breaks ties) the
/// media type the `Accept` header ranks highest: by quality, then by how specifically it is
/// named (`type/sub` over `type/*` over `*/*`), then by its place in the header. No header
/// (or an empty one) means `application/json`. `None`: nothing offered is acceptable (406).
fn negotiate(accept: Option<&str>, offers: &[Media]) -> Option<Media> {
    let accept = accept.map(str::trim).filter(|a| !a.is_empty());
    let Some(accept) = accept else {
        return Some(Media::Json);
    };
    struct Range<'a> {
        ty: &'a str,
        sub: &'a str,
        q: f32,
    }
    let ranges: Vec<Range<'_>> = accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let (ty, sub) = parts.next()?.trim().split_once('/')?;
            let q = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, v)| {
                    v.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0)
                });
            Some(Range {
                ty: ty.trim(),
                sub: sub.trim(),
                q,
            })
        })
        .collect();
    // (quality, specificity, -position) of the best range matching each offer.
    let mut best: Option<(Media, (f32, u8, isize))> = None;
    for &offer in offers {
        let (ty, sub) = offer.essence();
        let matched = ranges
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let specificity = if r.ty == "*" && r.sub == "*" {
                    0
                } else if r.ty.eq_ignore_ascii_case(ty) && r.sub == "*" {
                    1
                } else if r.ty.eq_ignore_ascii_case(ty) && r.sub.eq_ignore_ascii_case(sub) {
                    2
                } else {
                    return None;
                };
                Some((specificity, i, r.q))
            })
            // The most specific range decides the quality (RFC 9110, 12.5.1).
            .max_by_key(|&(specificity, i, _)| (specificity, std::cmp::Reverse(i)));
        let Some((specificity, i, q)) = matched else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        let score = (q, specificity, -(i as isize));
        if best
            .as_ref()
            .is_none_or(|(_, b)| score.partial_cmp(b) == Some(std::cmp::Ordering::Greater))
        {
            best = Some((offer, score));
        }
    }
    best.map(|(m, _)| m)
}

fn accept_header(req: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

// ---------------------------------------------------------------------------------------
// Responses

/// A GraphQL response body. Serialized straight from async-graphql's values, which keep
/// the order of the selection (a `serde_json::Value` would sort the fields).
#[derive(serde::Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "Option::is_none")]
    extensions: Option<&'a std::collections::BTreeMap<String, async_graphql::Value>>,
}

/// A JSON answer, built where the request runs (on the main runtime, see
/// [`Endpoint::runtime`]) and turned into an HTTP response by the worker.
struct Reply {
    status: StatusCode,
    media: Media,
    body: Vec<u8>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Reply {
    fn json(status: StatusCode, media: Media, body: &Body<'_>) -> Self {
        Reply {
            status,
            media,
            body: serde_json::to_vec(body).unwrap_or_default(),
            headers: Vec::new(),
        }
    }

    fn into_response(self) -> HttpResponse {
        let mut builder = HttpResponseBuilder::new(self.status);
        builder
            .insert_header((header::CONTENT_TYPE, self.media.content_type()))
            .insert_header((header::VARY, "Accept"))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        for header in self.headers {
            builder.append_header(header);
        }
        builder.body(self.body)
    }
}

fn json_response(status: StatusCode, media: Media, body: &Body<'_>) -> HttpResponse {
    Reply::json(status, media, body).into_response()
}

fn errors_body(errors: &[ServerError]) -> Body<'_> {
    Body {
        data: None,
        errors,
        extensions: None,
    }
}

/// A request refused before it reached the schema.
fn refuse(
    status: StatusCode,
    media: Media,
    code: &str,
    message: impl Into<String>,
) -> HttpResponse {
    refuse_reply(status, media, code, message).into_response()
}

fn refuse_reply(status: StatusCode, media: Media, code: &str, message: impl Into<String>) -> Reply {
    metrics::graphql_request(Outcome::Rejected);
    Reply::json(status, media, &errors_body(&[errors::error(message, code)]))
}

/// A request that is not a well-formed GraphQL-over-HTTP request: 400 whatever the media
/// type.
fn bad_request(media: Media, message: impl Into<String>) -> HttpResponse {
    refuse(StatusCode::BAD_REQUEST, media, errors::BAD_REQUEST, message)
}

/// Request errors of a well-formed request (parse, validation, ...): no `data`; 400 with
/// `application/graphql-response+json`, 200 with `application/json`.
fn request_errors(media: Media, errors: Vec<ServerError>) -> Reply {
    metrics::graphql_request(Outcome::Error);
    let status = match media {
        Media::Json => StatusCode::OK,
        _ => StatusCode::BAD_REQUEST,
    };
    Reply::json(status, media, &errors_body(&errors))
}

// ---------------------------------------------------------------------------------------
// The request parameters

/// A well-formed GraphQL-over-HTTP request.
#[derive(Debug, Default)]
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Json>,
    extensions: Option<Json>,
}

/// Reads the parameters of a JSON body; `Err` is the message of a 400.
fn params_from_json(body: &[u8]) -> Result<Params, String> {
    let value: Json = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}."))?;
    let mut object = match value {
        Json::Object(o) => o,
        Json::Array(_) => {
            return Err("Batched requests (a JSON array) are not supported: send one request per HTTP request.".into());
        }
        _ => return Err("The request body must be a JSON object with a `query` string.".into()),
    };
    let query =
        match object.remove("query") {
            Some(Json::String(q)) => q,
            None | Some(Json::Null) => return Err(
                "The request has no `query`: the body must be a JSON object with a `query` string."
                    .into(),
            ),
            Some(_) => return Err("`query` must be a string.".into()),
        };
    let operation_name = match object.remove("operationName") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s),
        Some(_) => return Err("`operationName` must be a string.".into()),
    };
    Ok(Params {
        query,
        operation_name,
        variables: object_or_null(object.remove("variables"), "variables")?,
        extensions: object_or_null(object.remove("extensions"), "extensions")?,
    })
}

fn object_or_null(value: Option<Json>, name: &str) -> Result<Option<Json>, String> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(o @ Json::Object(_)) => Ok(Some(o)),
        Some(_) => Err(format!("`{name}` must be an object.")),
    }
}

/// Reads the parameters of a GET URL (`variables` and `extensions` JSON-encoded).
fn params_from_url(query_string: &str) -> Result<Params, String> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|e| format!("The URL parameters cannot be decoded: {e}."))?
        .into_inner();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let query = get("query").ok_or(
        "The request has no `query`: give the GraphQL document in the `query` URL parameter.",
    )?;
    let json = |name: &str| -> Result<Option<Json>, String> {
        match get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => {
                let value = serde_json::from_str(text)
                    .map_err(|e| format!("`{name}` must be a JSON-encoded object: {e}."))?;
                object_or_null(Some(value), name)
            }
        }
    };
    Ok(Params {
        query: query.to_owned(),
        // The spec: an empty `operationName` is the same as none.
        operation_name: get("operationName")
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        variables: json("variables")?,
        extensions: json("extensions")?,
    })
}

// ---------------------------------------------------------------------------------------
// Bodies

/// The kinds of POST body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    /// `application/json` (UTF-8): a plain GraphQL request.
    Json,
    /// `multipart/form-data`: a request with file uploads.
    Multipart,
}

fn body_kind(req: &HttpRequest) -> Option<BodyKind> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut parts = value.split(';');
    let essence = parts.next()?.trim();
    if essence.eq_ignore_ascii_case("application/json") {
        // Only UTF-8 (the spec's default when no charset is given).
        let charset_ok = parts
            .filter_map(|p| p.trim().split_once('='))
            .all(|(k, v)| {
                !k.trim().eq_ignore_ascii_case("charset")
                    || v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            });
        charset_ok.then_some(BodyKind::Json)
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        Some(BodyKind::Multipart)
    } else {
        None
    }
}

/// The largest body of each kind, and the setting it comes from: plain requests are
/// small; uploads get their own, much larger limit.
fn body_limit(kind: BodyKind, settings: &GraphqlSettings) -> (usize, &'static str) {
    match kind {
        BodyKind::Json => (settings.max_body_bytes, "graphql.max_body_bytes"),
        BodyKind::Multipart => (settings.max_upload_bytes, "graphql.max_upload_bytes"),
    }
}

/// The headers one of which (non-empty) a multipart request must carry: a browser sends
/// no cross-origin request with a custom header without a CORS preflight, which the hub
/// does not grant (see the module documentation).
const PREFLIGHT_HEADERS: [&str; 2] = ["graphql-require-preflight", "apollo-require-preflight"];

fn has_preflight_header(req: &HttpRequest) -> bool {
    PREFLIGHT_HEADERS.iter().any(|name| {
        req.headers()
            .get_all(*name)
            .any(|v| v.to_str().is_ok_and(|v| !v.trim().is_empty()))
    })
}

/// Why a multipart body was refused.
#[derive(Debug)]
enum MultipartError {
    /// A part is larger than the upload limit (413).
    TooLarge,
    /// Not a GraphQL multipart request (400).
    Malformed(String),
}

/// Reads a multipart body (GraphQL multipart request spec) into the request's parameters
/// and its files, in the order async-graphql numbers them (`#__graphql_file__:N` in the
/// variables they are mapped to).
async fn params_from_multipart(
    content_type: &str,
    body: &[u8],
    limit: usize,
) -> Result<(Params, Vec<UploadValue>), MultipartError> {
    // The body is already within `limit`; the per-part limit cannot be crossed. (async-
    // graphql 7.2 does not count files: `max_num_files` only multiplies the stream limit.)
    let options = MultipartOptions::default().max_file_size(limit);
    let malformed = |why: String| {
        MultipartError::Malformed(format!(
            "The multipart body is not a GraphQL multipart request (parts `operations`, \
             `map`, then the files): {why}."
        ))
    };
    let batch = async_graphql::http::receive_batch_body(Some(content_type), body, options)
        .await
        .map_err(|e| match e {
            ParseRequestError::PayloadTooLarge => MultipartError::TooLarge,
            ParseRequestError::InvalidMultipart(e) => malformed(e.to_string()),
            ParseRequestError::MissingOperatorsPart => {
                malformed("it has no `operations` part".into())
            }
            ParseRequestError::MissingMapPart => malformed("it has no `map` part".into()),
            ParseRequestError::InvalidFilesMap(e) => malformed(format!(
                "`map` is not a JSON object of file part names to arrays of paths ({e})"
            )),
            ParseRequestError::InvalidRequest(e) => malformed(format!(
                "`operations` is not a JSON object with a `query` string ({e})"
            )),
            ParseRequestError::MissingFiles => {
                malformed("`map` names a file part the request does not have".into())
            }
            e => malformed(e.to_string()),
        })?;
    let mut request = match batch {
        BatchRequest::Single(request) => request,
        BatchRequest::Batch(_) => {
            return Err(MultipartError::Malformed(
                "Batched requests (a JSON array in `operations`) are not supported: send one \
                 request per HTTP request."
                    .into(),
            ));
        }
    };
    if request.query.is_empty() {
        return Err(malformed(
            "`operations` has no `query`: it must be a JSON object with a `query` string".into(),
        ));
    }
    let uploads = std::mem::take(&mut request.uploads);
    let to_json = |value: async_graphql::Value| {
        value
            .into_json()
            .map_err(|e| malformed(format!("`operations` cannot be read ({e})")))
    };
    let variables = to_json(request.variables.into_value())?;
    let mut extensions = serde_json::Map::new();
    for (k, v) in request.extensions.0 {
        extensions.insert(k, to_json(v)?);
    }
    let params = Params {
        query: request.query,
        operation_name: request.operation_name.filter(|n| !n.is_empty()),
        variables: Some(variables).filter(|v| v.as_object().is_some_and(|o| !o.is_empty())),
        extensions: (!extensions.is_empty()).then_some(Json::Object(extensions)),
    };
    Ok((params, uploads))
}

/// The least time a request body is given to arrive.
const BODY_MIN_TIME: Duration = Duration::from_secs(10);

enum BodyError {
    TooLarge,
    Read(String),
}

/// Reads at most `limit` bytes: refuses at once when `Content-Length` is over the limit,
/// and stops reading as soon as a body without one crosses it.
async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, BodyError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(BodyError::Read(e.to_string())),
        Err(_) => Err(BodyError::TooLarge),
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

async fn post(
    req: HttpRequest,
    payload: web::Payload,
    endpoint: web::Data<Endpoint>,
) -> HttpResponse {
    let Some(media) = negotiate(
        accept_header(&req).as_deref(),
        &[Media::Json, Media::GraphqlResponse],
    ) else {
        return not_acceptable();
    };
    let principal = match authenticate(&req, &endpoint, media).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    if let Some(response) = rate_limited(&req, &endpoint, &principal, media) {
        return response;
    }
    let kind = match body_kind(&req) {
        Some(kind) => kind,
        None => {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                media,
                errors::UNSUPPORTED_MEDIA_TYPE,
                "The request body must be `application/json` (UTF-8): a JSON object with a `query` string; or `multipart/form-data` for file uploads (GraphQL multipart request spec).",
            );
        }
    };
    if kind == BodyKind::Multipart {
        if !has_preflight_header(&req) {
            return bad_request(
                media,
                "A multipart request (file upload) must carry the header `GraphQL-Require-Preflight: 1` (or `Apollo-Require-Preflight: true`). It protects against cross-site request forgery: web pages cannot send it to the hub without the hub's consent.",
            );
        }
        if !policy::allows(&principal, Protected::RunImports) {
            endpoint
                .access
                .record_denied(&principal, "file upload")
                .await;
            return refuse(
                StatusCode::FORBIDDEN,
                media,
                errors::FORBIDDEN,
                format!(
                    "File uploads (importFile) need the curator or admin role; this caller has \
                     the {} role. Present a key or token of such a role in `Authorization: \
                     Bearer …`.",
                    principal.role
                ),
            );
        }
    }
    let (limit, limit_key) = body_limit(kind, &endpoint.settings);
    // A body trickled in slowly must not hold a worker: it has the request's time limit,
    // at least BODY_MIN_TIME.
    let time = Duration::from_millis(time_limit(&endpoint.settings, kind == BodyKind::Multipart))
        .max(BODY_MIN_TIME);
    let body = match tokio::time::timeout(time, read_body(&req, payload, limit)).await {
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                media,
                errors::TIMEOUT,
                format!(
                    "The request body did not arrive within {} ms.",
                    time.as_millis()
                ),
            );
        }
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge)) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                errors::PAYLOAD_TOO_LARGE,
                format!("The request body is larger than {limit} bytes ({limit_key})."),
            );
        }
        Ok(Err(BodyError::Read(e))) => {
            return bad_request(media, format!("The request body could not be read: {e}."));
        }
    };
    match kind {
        BodyKind::Json => match params_from_json(&body) {
            Ok(params) => run(&endpoint, media, params, false, Vec::new(), principal).await,
            Err(message) => bad_request(media, message),
        },
        BodyKind::Multipart => {
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let parsed = params_from_multipart(content_type, &body, limit).await;
            drop(body);
            match parsed {
                Ok((params, uploads)) => {
                    run(&endpoint, media, params, false, uploads, principal).await
                }
                Err(MultipartError::TooLarge) => refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    media,
                    errors::PAYLOAD_TOO_LARGE,
                    format!("A part of the request is larger than {limit} bytes ({limit_key})."),
                ),
                Err(MultipartError::Malformed(message)) => bad_request(media, message),
            }
        }
    }
}

async fn get(req: HttpRequest, endpoint: web::Data<Endpoint>) -> HttpResponse {
    let offers = [Media::Json, Media::GraphqlResponse, Media::Html];
    let Some(media) = negotiate(accept_header(&req).as_deref(), &offers) else {
        return not_acceptable();
    };
    if media == Media::Html {
        return graphiql();
    }
    let principal = match authenticate(&req, &endpoint, media).await {
        Ok(principal) => principal,
        Err(response) => return response,
    };
    if let Some(response) = rate_limited(&req, &endpoint, &principal, media) {
        return response;
    }
    match params_from_url(req.query_string()) {
        Ok(params) => run(&endpoint, media, params, true, Vec::new(), principal).await,
        Err(message) => bad_request(media, message),
    }
}

/// The principal of the request's credentials, or the 401 that refuses them (recorded in
/// the audit trail). The answer names the problem (expired, revoked, unknown, bad
/// signature...) but never echoes the credential.
async fn authenticate(
    req: &HttpRequest,
    endpoint: &Endpoint,
    media: Media,
) -> Result<Principal, HttpResponse> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match endpoint.access.principal(header).await {
        Ok(principal) => Ok(principal),
        Err(refused) => {
            endpoint.access.record_refusal(&refused).await;
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                media,
                errors::UNAUTHENTICATED,
                refused.message,
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            Err(response)
        }
    }
}

/// The 429 of a caller over its role's rate (`access.roles.ROLE.requests_per_minute`),
/// with `Retry-After` in whole seconds.
fn rate_limited(
    req: &HttpRequest,
    endpoint: &Endpoint,
    principal: &Principal,
    media: Media,
) -> Option<HttpResponse> {
    let wait = endpoint.over_rate(principal, req.peer_addr().map(|a| a.ip()))?;
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = refuse(
        StatusCode::TOO_MANY_REQUESTS,
        media,
        errors::RATE_LIMITED,
        format!(
            "Too many requests: the {} role may send {} a minute (access.roles.{}.requests_per_minute, counted on each instance); retry in {seconds} s.",
            principal.role,
            endpoint.role(principal.role).per_minute,
            principal.role,
        ),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&seconds.to_string()).unwrap_or(HeaderValue::from_static("60")),
    );
    Some(response)
}

async fn other_method() -> HttpResponse {
    let mut response = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        Media::Json,
        errors::METHOD_NOT_ALLOWED,
        "GraphQL requests are POST (or GET for queries).",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

fn not_acceptable() -> HttpResponse {
    refuse(
        StatusCode::NOT_ACCEPTABLE,
        Media::Json,
        errors::NOT_ACCEPTABLE,
        "The endpoint answers `application/graphql-response+json` or `application/json` (and `text/html`, GraphiQL, to GET); `Accept` allows none of them.",
    )
}

/// Whether an operation is a query of introspection fields only (`__schema`, `__type`,
/// `__typename` at its root).
fn is_introspection(op: &OperationDefinition) -> bool {
    op.ty == OperationType::Query
        && op
            .selection_set
            .node
            .items
            .iter()
            .all(|item| match &item.node {
                Selection::Field(field) => field.node.name.node.starts_with("__"),
                _ => false,
            })
}

/// Runs a well-formed request; `uploads` are the files of a multipart request. It runs
/// under the request's time limit, so that neither a slow document nor a slow query holds
/// the HTTP worker, which keeps answering `/healthz` and the other requests:
///
/// - on the HTTP worker itself when its document is kept (parsed before) and passed
///   validation: the common case of a client asking its few documents again. Its
///   statements wait without holding the worker, and it skips the hand-over to another
///   thread and back (measured with `perf`: thread switches were a large part of a short
///   request's CPU). The workers' stacks are as large as the runtime's
///   ([`crate::cli::grow_thread_stacks`]);
/// - otherwise on the main runtime (see [`Endpoint::runtime`]): a document seen for the
///   first time, whose parsing and validation may take long, never holds the worker.
async fn run(
    endpoint: &web::Data<Endpoint>,
    media: Media,
    params: Params,
    via_get: bool,
    uploads: Vec<UploadValue>,
    principal: Principal,
) -> HttpResponse {
    let upload = !uploads.is_empty();
    let timeout_ms = time_limit(&endpoint.settings, upload);
    let key = if upload {
        "graphql.upload_timeout_ms"
    } else {
        "graphql.request_timeout_ms"
    };
    let limit = Duration::from_millis(timeout_ms);
    let kept = endpoint.documents.get(&params.query);
    let shallow =
        !upload && endpoint.runtime.is_some() && kept.as_ref().is_some_and(|c| c.depth().is_some());
    metrics::graphql_execution(shallow);
    let outcome = if shallow {
        Endpoint::inline(
            limit,
            answer(endpoint, media, params, via_get, uploads, principal, kept),
        )
        .await
    } else {
        let shared = endpoint.clone();
        let work =
            async move { answer(&shared, media, params, via_get, uploads, principal, kept).await };
        endpoint.limited(limit, work).await
    };
    let reply = match outcome {
        Ok(reply) => Some(reply),
        Err(Stopped::TimedOut) => None,
        Err(Stopped::Failed) => {
            metrics::graphql_request(Outcome::Error);
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                &errors_body(&[errors::error(
                    "Internal error; the server log has the details.",
                    errors::INTERNAL_SERVER_ERROR,
                )]),
            );
        }
    };
    match reply {
        Some(reply) => reply.into_response(),
        None => {
            tracing::warn!(timeout_ms, "GraphQL request timed out");
            metrics::graphql_request(Outcome::Error);
            let message =
                format!("The request took longer than {timeout_ms} ms ({key}) and was stopped.");
            json_response(
                StatusCode::GATEWAY_TIMEOUT,
                media,
                &errors_body(&[errors::error(message, errors::TIMEOUT)]),
            )
        }
    }
}

/// Parses, checks and executes a well-formed request.
async fn answer(
    endpoint: &Endpoint,
    media: Media,
    params: Params,
    via_get: bool,
    uploads: Vec<UploadValue>,
    principal: Principal,
    kept: Option<Arc<super::cache::Cached>>,
) -> Reply {
    let cached = match kept {
        Some(cached) => cached,
        None => match endpoint
            .documents
            .get_or_parse(&params.query, errors::parse_document)
        {
            Ok(cached) => cached,
            Err(e) => return request_errors(media, vec![e]),
        },
    };
    let doc = &*cached.doc;
    let selected = errors::selected_operation(doc, params.operation_name.as_deref());
    let introspection = selected.is_some_and(|op| is_introspection(&op.node));
    if via_get
        && let Some(ty @ (OperationType::Mutation | OperationType::Subscription)) =
            selected.map(|op| op.node.ty)
    {
        let kind = if ty == OperationType::Mutation {
            "Mutations"
        } else {
            "Subscriptions"
        };
        let mut reply = refuse_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            errors::METHOD_NOT_ALLOWED,
            format!("{kind} are not allowed over GET; use POST."),
        );
        reply
            .headers
            .push((header::ALLOW, HeaderValue::from_static("POST")));
        return reply;
    }

    let variables = params
        .variables
        .map(Variables::from_json)
        .unwrap_or_default();
    let missing = errors::missing_variables(doc, params.operation_name.as_deref(), &variables);
    if !missing.is_empty() {
        return request_errors(media, missing);
    }
    let role = endpoint.role(principal.role);
    let operation = params.operation_name.as_deref();
    let checked = variables.is_empty() && cached.validated(principal.role, operation).is_some();
    // The document's size and its arguments, before the schema sees it: async-graphql's
    // parse stage walks every fragment where it is spread (its recursion-depth and
    // directive checks), which takes exponential time on fragments that spread each other
    // twice. The schema's extension checks the same for requests that come another way.
    if !checked && let Err(e) = super::bounds::check(doc, &variables, &role.settings) {
        return request_errors(media, vec![e]);
    }
    // How the request is checked (see `super::role_schema`):
    // - a document that passed every check of this role's schema before, without
    //   variables, runs on the kept schema: none run again;
    // - one that passed before in a request that gave every variable, and comes with
    //   variables, runs on the kept schema too when it has one operation and the checks
    //   that read the values pass here: its bounds (above), its arguments with the
    //   values put in (as async-graphql's validation would find them, see
    //   `super::values`) and its cost with these values; otherwise on the checked
    //   schema, whose errors, in their order, are those of every first request;
    // - every other request runs on the checked schema.
    // The operation must exist: validation passes a document whatever operation the
    // request names, and async-graphql reports an unknown one after it, as a request
    // error. The kept schema's responses are finished here as the extension would have
    // finished them.
    let runs_as_before = !introspection && uploads.is_empty();
    let checks = match selected {
        Some(_) if checked && runs_as_before => metrics::Checks::Kept,
        Some(op)
            if !variables.is_empty()
                && runs_as_before
                && cached.passed_with_every_variable(principal.role, operation)
                && role.shape.get().is_some_and(|(registry, sizes)| {
                    super::values::fit(registry, doc, &op.node, &variables)
                        && super::document::check_cost(
                            registry,
                            sizes,
                            doc,
                            &variables,
                            &role.settings,
                        )
                        .is_ok()
                }) =>
        {
            metrics::Checks::Values
        }
        _ => metrics::Checks::Run,
    };
    metrics::graphql_checks(checks);
    let mut request = async_graphql::Request::new(params.query).variables(variables);
    if let Some(name) = &params.operation_name {
        request = request.operation_name(name.clone());
    }
    if let Some(Json::Object(extensions)) = params.extensions {
        for (k, v) in extensions {
            if let Ok(v) = async_graphql::Value::from_json(v) {
                request.extensions.0.insert(k, v);
            }
        }
    }
    request.set_parsed_query(doc.clone());
    let stage = Stage::default();
    if checks == metrics::Checks::Run {
        // What the extension reads: the stage it marks, the kept document and the
        // operation name its validations are kept under.
        request =
            request
                .data(stage.clone())
                .data(cached.clone())
                .data(super::document::OperationName(
                    params.operation_name.clone(),
                ));
    }
    let mut prepared = prepare_request(
        request.data(Uploads(uploads)).data(endpoint.access.clone()),
        &endpoint.db,
        principal,
        &role.settings,
    );
    let response = if introspection {
        prepared.request = prepared.request.only_introspection();
        prepared.execute(&role.introspection).await
    } else {
        match checks {
            // Nothing can stop such a request before it executes: its parse is kept, the
            // fast validation checks only what the full one passed (the same limits, the
            // same operation name, values of their types), and the operation it names
            // exists.
            metrics::Checks::Kept | metrics::Checks::Values => {
                super::document::finish(prepared.execute(&role.kept).await, doc, operation)
            }
            metrics::Checks::Run => prepared.execute(&role.schema).await,
        }
    };
    if checks == metrics::Checks::Run && !stage.executed() {
        return request_errors(media, errors::tag_request_errors(response.errors));
    }

    metrics::graphql_request(if response.errors.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Error
    });
    let body = Body {
        data: Some(&response.data),
        errors: &response.errors,
        extensions: (!response.extensions.is_empty()).then_some(&response.extensions),
    };
    let mut reply = Reply::json(StatusCode::OK, media, &body);
    for (name, value) in response.http_headers.iter() {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            reply.headers.push((name, value));
        }
    }
    reply
}

// ---------------------------------------------------------------------------------------
// GraphiQL

/// A file embedded in the binary: GraphiQL's under `/graphql/assets/`, the pages' under
/// `/assets/` (see [`crate::pages`]).
pub(crate) struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// The first 12 hex digits of an asset's SHA-256: its version in URLs.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(bytes)[..6])
}

/// The asset `file` of `assets`, cached for a year (its URL carries its hash), or 404.
pub(crate) fn serve_asset(assets: &[Asset], file: &str) -> HttpResponse {
    match assets.iter().find(|a| a.name == file) {
        Some(asset) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, asset.content_type))
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(asset.bytes),
        None => HttpResponse::NotFound()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body("no such asset\n"),
    }
}

/// GraphiQL 3.9.0 and React 18.3.1 (UMD builds, unchanged from their npm packages; see
/// `hub/assets/graphiql/README.md`) and our start-up script and style.
const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "hub-graphiql.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/hub-graphiql.js"),
    },
    Asset {
        name: "hub-graphiql.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/hub-graphiql.css"),
    },
];

const GRAPHIQL_TEMPLATE: &str = include_str!("../../assets/graphiql.html");

/// What the GraphiQL page may load: only the hub's own files, and requests only to the hub.
const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The GraphiQL page: the template with each `{{file}}` replaced by the file's URL,
/// relative to `/graphql` and carrying a hash of its content (`?v=`), so a new hub version
/// is never served stale files from a browser cache.
fn graphiql_page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        ASSETS
            .iter()
            .fold(GRAPHIQL_TEMPLATE.to_owned(), |page, asset| {
                let hash = content_hash(asset.bytes);
                page.replace(
                    &format!("{{{{{}}}}}", asset.name),
                    &format!("graphql/assets/{}?v={hash}", asset.name),
                )
            })
    })
}

fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, Media::Html.content_type()))
        .insert_header((header::VARY, "Accept"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, GRAPHIQL_CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(graphiql_page())
}

async fn asset(file: web::Path<String>) -> HttpResponse {
    serve_asset(ASSETS, &file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::types::ExecutableDocument;

    const GRJ: Media = Media::GraphqlResponse;
    const POST: &[Media] = &[Media::Json, Media::GraphqlResponse];
    const GET: &[Media] = &[Media::Json, Media::GraphqlResponse, Media::Html];

    #[test]
    fn accept_negotiation() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        for (accept, offers, expected) in [
            (None, POST, Some(Media::Json)),
            (Some(""), POST, Some(Media::Json)),
            (Some("*/*"), POST, Some(Media::Json)),
            (Some("application/*"), POST, Some(Media::Json)),
            (Some("application/json"), POST, Some(Media::Json)),
            (Some("application/graphql-response+json"), POST, Some(GRJ)),
            (
                Some(
                    "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
                ),
                POST,
                Some(GRJ),
            ),
            (
                Some("application/json, application/graphql-response+json"),
                POST,
                Some(Media::Json),
            ),
            (
                Some("application/json;q=0.5, application/graphql-response+json"),
                POST,
                Some(GRJ),
            ),
            (
                Some("application/graphql-response+json;q=0, */*"),
                POST,
                Some(Media::Json),
            ),
            (
                Some("*/*, application/graphql-response+json"),
                POST,
                Some(GRJ),
            ),
            (Some("APPLICATION/JSON"), POST, Some(Media::Json)),
            (Some("text/html"), POST, None),
            (Some("application/xml"), POST, None),
            (Some("application/json;q=0"), POST, None),
            (Some("garbage"), POST, None),
            (Some(browser), GET, Some(Media::Html)),
            (Some(browser), POST, Some(Media::Json)),
            (Some("*/*"), GET, Some(Media::Json)),
            (Some("text/html"), GET, Some(Media::Html)),
            (Some("text/*"), GET, Some(Media::Html)),
        ] {
            assert_eq!(negotiate(accept, offers), expected, "{accept:?}");
        }
    }

    #[test]
    fn json_bodies() {
        assert_eq!(
            params_from_json(br#"{"query":"{a}"}"#).unwrap().query,
            "{a}"
        );
        let p = params_from_json(
            br#"{"query":"query Q($x:Int){a}","operationName":"Q","variables":{"x":1},"extensions":null}"#,
        )
        .unwrap();
        assert_eq!(p.operation_name.as_deref(), Some("Q"));
        assert_eq!(p.variables, Some(serde_json::json!({"x": 1})));
        for bad in [
            &b"NONSENSE"[..],
            br#"{"query":"#,
            br#"{"qeury":"{a}"}"#,
            br#"{"query":null}"#,
            br#"{"query":1}"#,
            br#"{"query":"{a}","variables":[7]}"#,
            br#"{"query":"{a}","operationName":3}"#,
            br#"{"query":"{a}","extensions":"x"}"#,
            br#"[{"query":"{a}"}]"#,
            br#""{a}""#,
        ] {
            assert!(
                params_from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn url_parameters() {
        let p = params_from_url(
            "query=query(%24x%3AInt)%7Ba%7D&variables=%7B%22x%22%3A1%7D&operationName=",
        )
        .unwrap();
        assert_eq!(p.query, "query($x:Int){a}");
        assert_eq!(p.variables, Some(serde_json::json!({"x": 1})));
        assert_eq!(p.operation_name, None);
        assert!(params_from_url("").is_err());
        assert!(params_from_url("variables=%7B%7D").is_err());
        assert!(params_from_url("query=%7Ba%7D&variables=%5B1%5D").is_err());
        assert!(params_from_url("query=%7Ba%7D&variables=nope").is_err());
    }

    #[test]
    fn the_operation_type_comes_from_the_selected_operation() {
        let doc = |q: &str| async_graphql::parser::parse_query(q).unwrap();
        let ty = |d: &ExecutableDocument, name: Option<&str>| {
            errors::selected_operation(d, name).map(|op| op.node.ty)
        };
        let d = doc("query A { a } mutation B { b }");
        assert_eq!(ty(&d, Some("A")), Some(OperationType::Query));
        assert_eq!(ty(&d, Some("B")), Some(OperationType::Mutation));
        assert_eq!(ty(&d, None), None);
        assert_eq!(
            ty(&doc("mutation { x }"), None),
            Some(OperationType::Mutation)
        );
        assert_eq!(
            ty(&doc("subscription S { x }"), None),
            Some(OperationType::Subscription)
        );
        assert_eq!(ty(&doc("{ x }"), Some("X")), None);
    }

    #[test]
    fn introspection_only_operations() {
        let op = |q: &str| {
            let doc = async_graphql::parser::parse_query(q).unwrap();
            is_introspection(&errors::selected_operation(&doc, None).unwrap().node)
        };
        assert!(op(
            "query IntrospectionQuery { __schema { types { name } } }"
        ));
        assert!(op("{ __typename __type(name: \"Query\") { name } }"));
        assert!(!op(
            "{ __schema { types { name } } clusters { totalCount } }"
        ));
        assert!(!op("{ ... on QueryRoot { __typename } }"));
        assert!(!op("mutation { __typename }"));
    }

    /// A multipart body with these parts: (name, file name, content).
    fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, Vec<u8>) {
        let boundary = "----hub-test-boundary";
        let mut body = Vec::new();
        for (name, file_name, content) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file_name {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(content.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }

    fn parse_multipart(
        parts: &[(&str, Option<&str>, &str)],
        limit: usize,
    ) -> Result<(Params, Vec<UploadValue>), MultipartError> {
        let (content_type, body) = multipart(parts);
        block_on(params_from_multipart(&content_type, &body, limit))
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn multipart_requests() {
        let operations = r#"{"query":"mutation($f: Upload!) { importFile(file: $f) { status } }","variables":{"f":null,"n":1}}"#;
        let (params, uploads) = parse_multipart(
            &[
                ("operations", None, operations),
                ("map", None, r#"{"0":["variables.f"]}"#),
                ("0", Some("firms.csv"), "a,b\n1,2\n"),
            ],
            1 << 20,
        )
        .unwrap();
        assert!(params.query.starts_with("mutation"));
        assert_eq!(
            params.variables,
            Some(serde_json::json!({"f": "#__graphql_file__:0", "n": 1}))
        );
        assert_eq!(uploads.len(), 1);
        assert_eq!(uploads[0].filename, "firms.csv");
        assert_eq!(uploads[0].size().unwrap(), 8);

        let malformed = |parts: &[(&str, Option<&str>, &str)]| match parse_multipart(parts, 1 << 20)
        {
            Err(MultipartError::Malformed(m)) => m,
            other => panic!("{parts:?}: {other:?}", other = other.map(|(p, _)| p.query)),
        };
        let map = ("map", None, r#"{"0":["variables.f"]}"#);
        let file = ("0", Some("firms.csv"), "a,b\n");
        assert!(malformed(&[map, file]).contains("operations"));
        assert!(malformed(&[("operations", None, operations), file]).contains("map"));
        assert!(malformed(&[("operations", None, operations), map]).contains("file part"));
        assert!(malformed(&[("operations", None, "nope"), map, file]).contains("operations"));
        assert!(
            malformed(&[("operations", None, &format!("[{operations}]")), map, file])
                .contains("Batched")
        );
        assert!(
            malformed(&[("operations", None, r#"{"variables":{}}"#), map, file]).contains("query")
        );
        assert!(
            malformed(&[("operations", None, operations), ("map", None, "[]"), file])
                .contains("map")
        );
        assert!(matches!(
            parse_multipart(
                &[
                    ("operations", None, operations),
                    map,
                    ("0", Some("big.csv"), &"x".repeat(100))
                ],
                64
            ),
            Err(MultipartError::TooLarge)
        ));
        let (_, body) = multipart(&[("operations", None, operations)]);
        assert!(matches!(
            block_on(params_from_multipart("multipart/form-data", &body, 1 << 20)),
            Err(MultipartError::Malformed(_))
        ));
    }

    #[test]
    fn the_page_references_every_asset_by_a_hashed_url() {
        let page = graphiql_page();
        assert!(!page.contains("{{"), "{page}");
        for asset in ASSETS {
            assert!(
                page.contains(&format!("graphql/assets/{}?v=", asset.name)),
                "{}",
                asset.name
            );
        }
    }
}
