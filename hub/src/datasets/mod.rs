//! Datasets for BI tools: `GET /datasets` (the catalog) and
//! `GET /datasets/{name}.{csv|ndjson|json|parquet}` (one dataset, streamed).
//!
//! **Same data, same rules.** A dataset reads a `bi_*` view (the SQL a BI tool reads), or
//! for `cluster_trade` the GraphQL API's own `Cluster.trade`; the caller is authenticated
//! as for `/graphql` (`Authorization: Bearer`, 401 for credentials that do not verify, the
//! role's rate), and the one policy decides: a dataset whose rows the role may not read
//! answers 403; columns the role may not see are left out of the file (asking for one
//! with `columns=` answers 403); rows are restricted to the caller's clusters; counts are
//! suppressed for small groups as `trainingStatistics` suppresses them.
//!
//! **Streamed.** Rows are read from the database as a stream and written into a buffer
//! that is sent whenever it holds 64 KiB, through a channel of a few chunks: a slow client
//! slows the query down instead of filling memory. Parquet holds one row group
//! (32,768 rows) at a time. `Accept-Encoding: gzip` compresses on the fly.
//!
//! **Incremental.** Every answer carries `X-Hub-Change`, the change number it reflects
//! (read before the rows: every row with a number up to it is committed and included, see
//! [`crate::changes`]). `?since=N` returns what changed after N: for row datasets the rows
//! whose `change_seq` is over N and a `_deleted` row for each row deleted or merged away;
//! for aggregates (snapshot datasets) everything when anything feeding them changed, and
//! nothing otherwise. `ETag` is made of the change number and the request (dataset,
//! format, parameters, the caller's role and scope), never of the body, so `If-None-Match`
//! answers 304 without reading a row.
//!
//! **Query parameters.** `columns=a,b`; `since=N`; `limit=N`; a filter per column:
//! `name=value` (a comma-separated list for any of them), `name_gte`, `name_gt`, `name_lte`,
//! `name_lt`; and a dataset's own filters (`cluster=` on firm datasets). Anything else
//! answers 400 naming what is accepted.

pub mod catalog;
pub mod write;

use std::collections::HashMap;
use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt as _;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, StreamTrait, Value,
};
use serde_json::{Value as Json, json};
use sha2::{Digest as _, Sha256};

use crate::graphql::errors;
use crate::graphql::http::Endpoint;
use crate::graphql::policy::{self, Protected};
use crate::graphql::principal::Principal;
use catalog::{Column, Dataset, Incremental, Shape, Ty};
use write::{Cell, Format, Layout};

/// The pool datasets stream from (see [`crate::db::connect_exports`]), and the catalog's
/// row counts as last counted.
#[derive(Debug)]
pub struct Exports {
    db: DatabaseConnection,
    /// By dataset (and variant) and the caller's clusters: the version counted at (see
    /// [`version`]) and what was counted. Counting a million trade flows takes a second,
    /// and the catalog is asked often and changes only with the data.
    counted: std::sync::Mutex<HashMap<CountKey, (String, Counted)>>,
}

/// A dataset (its title tells the variants apart) and the caller's clusters.
type CountKey = (&'static str, Option<Vec<i64>>);

/// A dataset's rows and last change as a caller sees them, and when that change was made.
#[derive(Debug, Clone, Default)]
struct Counted {
    rows: Option<i64>,
    last: Option<i64>,
    modified: Option<String>,
}

impl Exports {
    pub fn new(db: DatabaseConnection) -> Self {
        Exports {
            db,
            counted: Default::default(),
        }
    }

    /// The counts of `dataset` for `principal`'s clusters, counted again only when the
    /// data changed since.
    async fn counted(
        &self,
        dataset: &'static Dataset,
        principal: &Principal,
    ) -> anyhow::Result<Counted> {
        let key = (dataset.title, principal.clusters.clone());
        let version = version(&self.db, dataset).await?.tag;
        if let Some((at, counted)) = self.counted.lock().ok().and_then(|m| m.get(&key).cloned())
            && at == version
        {
            return Ok(counted);
        }
        let (rows, last) = counts(&self.db, dataset, principal).await?;
        let modified = match last {
            Some(seq) if seq > 0 => change_time(&self.db, seq).await?,
            _ => None,
        };
        let counted = Counted {
            rows,
            last,
            modified,
        };
        if let Ok(mut map) = self.counted.lock() {
            // Scoped keys are many at most; start again if they were not.
            if map.len() >= 4_096 {
                map.clear();
            }
            map.insert(key, (version, counted.clone()));
        }
        Ok(counted)
    }
}

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

/// The licence the catalog states for every dataset.
const LICENCE: &str = "As agreed between the programme and the partner agency; see the sources.";

/// Registers `/datasets` and `/datasets/{file}`; needs `web::Data<Endpoint>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/datasets")
            .wrap(actix_web::middleware::Compress::default())
            .route("", web::get().to(catalog_response))
            .route("/", web::get().to(catalog_response))
            .route("/{file}", web::get().to(dataset_response))
            .default_service(web::to(other_method)),
    );
}

/// An error in the GraphQL endpoint's JSON shape.
fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"errors": [errors::error(message, code)]}))
}

async fn other_method(req: HttpRequest) -> HttpResponse {
    if req.method() == actix_web::http::Method::GET {
        return refuse(
            StatusCode::NOT_FOUND,
            errors::NOT_FOUND,
            "No such address; `GET /datasets` lists the datasets.",
        );
    }
    let mut response = refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        errors::METHOD_NOT_ALLOWED,
        "Datasets are read with GET.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

/// What a dataset is for this caller: the per-person variant with the `pii` scope.
fn variant(dataset: &'static Dataset, principal: &Principal) -> &'static Dataset {
    match dataset.with_pii {
        Some(pii) if policy::allows(principal, Protected::PersonalData) => pii,
        _ => dataset,
    }
}

fn may_read(principal: &Principal, what: Option<Protected>) -> bool {
    what.is_none_or(|w| policy::allows(principal, w))
}

/// The caller's clusters as SQL, if it is scoped.
fn scope_ids(principal: &Principal) -> Option<String> {
    crate::graphql::connection::scope_ids(Some(principal))
}

// ---- The catalog -----------------------------------------------------------------------

async fn catalog_response(
    req: HttpRequest,
    endpoint: web::Data<Endpoint>,
    exports: web::Data<Exports>,
) -> HttpResponse {
    let principal = match endpoint.caller(&req).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    match catalog(&exports, &principal, &base_url(&req)).await {
        Ok((change, body)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(("X-Hub-Change", change.to_string()))
            .json(body),
        Err(e) => internal(&e),
    }
}

fn internal(e: &anyhow::Error) -> HttpResponse {
    tracing::error!(error = %e, "dataset request failed");
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        errors::INTERNAL_SERVER_ERROR,
        "Internal error; the server log has the details.",
    )
}

/// `scheme://host` of the request, for the catalog's download addresses.
fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// The catalog: every dataset, whatever the caller may read (with the role its rows need),
/// and for those it may read their row count and last change as the caller sees them.
async fn catalog(
    exports: &Exports,
    principal: &Principal,
    base: &str,
) -> anyhow::Result<(i64, Json)> {
    let db = &exports.db;
    let change = crate::changes::current(db).await?;
    let mut datasets = Vec::new();
    for dataset in catalog::ALL {
        let dataset = variant(dataset, principal);
        let readable = may_read(principal, dataset.rows_need);
        let Counted {
            rows,
            last,
            modified,
        } = if readable {
            exports.counted(dataset, principal).await?
        } else {
            Counted::default()
        };
        let columns: Vec<Json> = dataset
            .columns
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "type": c.ty.name(),
                    "description": c.description,
                    "role": c.needs.map_or(dataset_role(dataset), |w| w.least_role().name()),
                    "visible": readable && may_read(principal, c.needs),
                })
            })
            .collect();
        let distributions: Vec<Json> = Format::ALL
            .iter()
            .map(|f| {
                json!({
                    "format": f.extension(),
                    "mediaType": f.media_type().split(';').next().unwrap_or_default(),
                    "downloadURL": format!("{base}/datasets/{}.{}", dataset.name, f.extension()),
                })
            })
            .collect();
        datasets.push(json!({
            "identifier": dataset.name,
            "title": dataset.title,
            "description": dataset.description,
            "role": dataset_role(dataset),
            "readable": readable,
            "piiVariant": dataset.with_pii.map(|_| "with the pii scope: one row per participation, with names"),
            "columns": columns,
            "rowCount": rows,
            "changeSeq": last,
            "modified": modified,
            "incremental": match dataset.incremental {
                Incremental::Rows { .. } => "rows",
                Incremental::Snapshot { .. } => "snapshot",
            },
            "filters": filters_of(dataset),
            "distribution": distributions,
            "source": dataset.source,
            "license": LICENCE,
        }));
    }
    let modified = change_time(db, change).await?;
    Ok((
        change,
        json!({
            "title": "Cluster Data Hub datasets",
            "description": "Datasets of the unified model for BI tools: CSV, NDJSON, JSON and \
                            Parquet, streamed; `?since=N` for what changed after change number N.",
            "changeSeq": change,
            "modified": modified,
            "caller": {"role": principal.role.name(), "pii": principal.pii},
            "dataset": datasets,
        }),
    ))
}

/// The least role that reads the dataset's rows.
fn dataset_role(dataset: &Dataset) -> &'static str {
    dataset
        .rows_need
        .map_or("public", |w| w.least_role().name())
}

/// The query parameters a dataset accepts, in words.
fn filters_of(dataset: &Dataset) -> Json {
    let mut out: Vec<Json> = dataset
        .filters
        .iter()
        .map(|f| json!({"param": f.param, "description": f.description}))
        .collect();
    out.push(json!({
        "param": "<column>, <column>_gte, <column>_gt, <column>_lte, <column>_lt",
        "description": "Equal to (a comma-separated list: any of), or compared with, a value of the column.",
    }));
    Json::Array(out)
}

/// Rows and last change number of a dataset as the caller sees it.
async fn counts(
    db: &DatabaseConnection,
    dataset: &Dataset,
    principal: &Principal,
) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let from = match &dataset.shape {
        Shape::View { view, .. } | Shape::Suppressed { view, .. } => format!("FROM {view} d"),
        Shape::Query { from, .. } => (*from).to_owned(),
        Shape::ClusterTrade => return Ok((None, Some(feeds_changed(db, dataset).await?))),
    };
    let mut sql = format!("SELECT COUNT(*) AS n, MAX(d.change_seq) AS last {from}");
    if let (Some(ids), Some(rule)) = (scope_ids(principal), dataset.scope) {
        let _ = write!(sql, " WHERE {}", rule.condition(&ids));
    }
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    let Some(row) = row else {
        return Ok((Some(0), None));
    };
    Ok((crate::db::int(&row, "n")?, crate::db::int(&row, "last")?))
}

/// When change number `seq` was written: the end of the import run that wrote it.
async fn change_time(db: &DatabaseConnection, seq: i64) -> anyhow::Result<Option<String>> {
    let backend = db.get_database_backend();
    let sql = crate::db::placeholders(
        backend,
        "SELECT finished_at FROM import_runs WHERE first_change_seq <= ? \
         AND last_change_seq >= ? ORDER BY id DESC LIMIT 1",
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [seq.into(), seq.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => timestamp(&r, 0, backend)?.map(|t| t.to_rfc3339()),
        None => None,
    })
}

/// The newest change number of what feeds a dataset: its tables' rows and tombstones.
async fn feeds_changed(db: &DatabaseConnection, dataset: &Dataset) -> anyhow::Result<i64> {
    let (tables, tombstones): (&[&str], &[&str]) = match dataset.incremental {
        Incremental::Snapshot { tables, tombstones } => (tables, tombstones),
        Incremental::Rows { tombstones } => (&[], tombstones),
    };
    let mut parts: Vec<String> = tables
        .iter()
        .map(|t| format!("SELECT MAX(change_seq) AS m FROM {t}"))
        .collect();
    if !tombstones.is_empty() {
        parts.push(format!(
            "SELECT MAX(change_seq) AS m FROM tombstones WHERE entity_type IN ({})",
            quoted(tombstones)
        ));
    }
    if parts.is_empty() {
        return Ok(0);
    }
    let sql = format!("SELECT MAX(m) AS m FROM ({}) f", parts.join(" UNION ALL "));
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    Ok(match row {
        Some(r) => crate::db::int(&r, "m")?.unwrap_or(0),
        None => 0,
    })
}

/// `'a', 'b'` of names written in this file (never of input).
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- One dataset -----------------------------------------------------------------------

/// A comparison a filter makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    In,
    Gte,
    Gt,
    Lte,
    Lt,
}

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::In => "IN",
            Op::Gte => ">=",
            Op::Gt => ">",
            Op::Lte => "<=",
            Op::Lt => "<",
        }
    }
}

/// A filter on a column, with its values typed as the column.
#[derive(Debug, Clone)]
struct Filter {
    column: &'static Column,
    op: Op,
    values: Vec<Cell<'static>>,
}

impl Filter {
    /// Whether a row's cell passes (for datasets filtered in memory).
    fn matches(&self, cell: &Cell<'_>) -> bool {
        let order = |v: &Cell| compare(cell, v);
        match self.op {
            Op::In => self
                .values
                .iter()
                .any(|v| order(v) == Some(std::cmp::Ordering::Equal)),
            Op::Gte => self
                .values
                .iter()
                .all(|v| order(v).is_some_and(|o| o.is_ge())),
            Op::Gt => self
                .values
                .iter()
                .all(|v| order(v).is_some_and(|o| o.is_gt())),
            Op::Lte => self
                .values
                .iter()
                .all(|v| order(v).is_some_and(|o| o.is_le())),
            Op::Lt => self
                .values
                .iter()
                .all(|v| order(v).is_some_and(|o| o.is_lt())),
        }
    }
}

fn compare(a: &Cell<'_>, b: &Cell<'_>) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Cell::Int(x), Cell::Int(y)) => Some(x.cmp(y)),
        (Cell::Real(x), Cell::Real(y)) => x.partial_cmp(y),
        (Cell::Int(x), Cell::Real(y)) => (*x as f64).partial_cmp(y),
        (Cell::Real(x), Cell::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Cell::Text(x), Cell::Text(y)) => Some(x.cmp(y)),
        (Cell::Bool(x), Cell::Bool(y)) => Some(x.cmp(y)),
        (Cell::Date(x), Cell::Date(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// What a request asks of a dataset.
#[derive(Debug)]
struct Ask {
    columns: Vec<&'static Column>,
    since: Option<i64>,
    limit: Option<u64>,
    filters: Vec<Filter>,
    /// A dataset's own filters: the index in `Dataset::filters` and the values.
    custom: Vec<(usize, Vec<String>)>,
    /// The parameters, sorted, for the ETag.
    canonical: String,
}

/// A refusal of a request's parameters: status, code, message.
type Refusal = (StatusCode, &'static str, String);

fn bad(message: impl Into<String>) -> Refusal {
    (StatusCode::BAD_REQUEST, errors::BAD_REQUEST, message.into())
}

fn forbidden(message: impl Into<String>) -> Refusal {
    (StatusCode::FORBIDDEN, errors::FORBIDDEN, message.into())
}

/// Reads the query parameters of a request for `dataset`.
fn ask(dataset: &'static Dataset, principal: &Principal, query: &str) -> Result<Ask, Refusal> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| bad(format!("The query string cannot be read: {e}")))?
        .into_inner();
    let mut canonical: Vec<(String, String)> = pairs.clone();
    canonical.sort();
    let canonical = canonical
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut out = Ask {
        columns: Vec::new(),
        since: None,
        limit: None,
        filters: Vec::new(),
        custom: Vec::new(),
        canonical,
    };
    let mut chosen: Option<Vec<&'static Column>> = None;
    for (key, value) in pairs {
        match key.as_str() {
            "columns" => {
                let mut list = Vec::new();
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let column = dataset.column(name).ok_or_else(|| {
                        bad(format!(
                            "`{}` has no column `{name}`; its columns: {}.",
                            dataset.name,
                            names(dataset)
                        ))
                    })?;
                    if !may_read(principal, column.needs) {
                        return Err(forbidden(format!(
                            "The column `{name}` needs the {} role or higher; this caller has \
                             the {} role.",
                            column.needs.map_or("public", |w| w.least_role().name()),
                            principal.role
                        )));
                    }
                    if !list.iter().any(|c: &&Column| c.name == column.name) {
                        list.push(column);
                    }
                }
                if list.is_empty() {
                    return Err(bad("`columns` names no column."));
                }
                chosen = Some(list);
            }
            "since" => {
                let n: i64 = value.trim().parse().map_err(|_| {
                    bad(format!(
                        "`since` is a change number (an integer), not `{value}`."
                    ))
                })?;
                if n < 0 {
                    return Err(bad("`since` is a change number, 0 or more."));
                }
                out.since = Some(n);
            }
            "limit" => {
                out.limit =
                    Some(value.trim().parse().map_err(|_| {
                        bad(format!("`limit` is a number of rows, not `{value}`."))
                    })?);
            }
            other => {
                if let Some(i) = dataset.filters.iter().position(|f| f.param == other) {
                    let values: Vec<String> = value
                        .split(',')
                        .map(|v| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                        .collect();
                    if values.is_empty() {
                        return Err(bad(format!("`{other}` has no value.")));
                    }
                    out.custom.push((i, values));
                    continue;
                }
                let (name, op) = [
                    ("_gte", Op::Gte),
                    ("_gt", Op::Gt),
                    ("_lte", Op::Lte),
                    ("_lt", Op::Lt),
                ]
                .iter()
                .find_map(|(suffix, op)| {
                    other
                        .strip_suffix(suffix)
                        .filter(|base| dataset.column(base).is_some())
                        .map(|base| (base, *op))
                })
                .unwrap_or((other, Op::In));
                let Some(column) = dataset.column(name) else {
                    return Err(bad(format!(
                        "`{other}` is not a parameter of `{}`. Parameters: `columns`, `since`, \
                         `limit`, {}a column name (equal to; a comma-separated list for any \
                         of) or a column name with `_gte`, `_gt`, `_lte` or `_lt`. Columns: {}.",
                        dataset.name,
                        dataset
                            .filters
                            .iter()
                            .map(|f| format!("`{}`, ", f.param))
                            .collect::<String>(),
                        names(dataset)
                    )));
                };
                if !may_read(principal, column.needs) {
                    return Err(forbidden(format!(
                        "`{name}` cannot be filtered on by this caller: it reads data of the {} \
                         role (or higher).",
                        column.needs.map_or("public", |w| w.least_role().name())
                    )));
                }
                let raw: Vec<&str> = if op == Op::In {
                    value.split(',').map(str::trim).collect()
                } else {
                    vec![value.trim()]
                };
                let values = raw
                    .into_iter()
                    .map(|v| typed(column, v))
                    .collect::<Result<Vec<_>, _>>()?;
                out.filters.push(Filter { column, op, values });
            }
        }
    }
    out.columns = chosen.unwrap_or_else(|| {
        dataset
            .columns
            .iter()
            .filter(|c| may_read(principal, c.needs))
            .collect()
    });
    // Tombstones name their row by `id` and change number: a pull with `since` keeps both.
    if out.since.is_some() && matches!(dataset.incremental, Incremental::Rows { .. }) {
        for needed in ["id", "change_seq"] {
            if let Some(c) = dataset.column(needed)
                && !out.columns.iter().any(|x| x.name == needed)
            {
                out.columns.insert(0, c);
            }
        }
    }
    Ok(out)
}

fn names(dataset: &Dataset) -> String {
    dataset
        .columns
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter's value typed as its column.
fn typed(column: &Column, value: &str) -> Result<Cell<'static>, Refusal> {
    let wrong = |what: &str| bad(format!("`{}` takes {what}, not `{value}`.", column.name));
    Ok(match column.ty {
        Ty::Int => Cell::Int(value.parse().map_err(|_| wrong("an integer"))?),
        Ty::Real => Cell::Real(value.parse().map_err(|_| wrong("a number"))?),
        Ty::Text => Cell::Text(value.to_owned().into()),
        Ty::Bool => Cell::Bool(match value {
            "true" => true,
            "false" => false,
            _ => return Err(wrong("`true` or `false`")),
        }),
        Ty::Date => Cell::Date(
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map_err(|_| wrong("a date (YYYY-MM-DD)"))?,
        ),
        Ty::Timestamp => {
            return Err(bad(format!(
                "`{}` cannot be filtered on; use `since` for what changed.",
                column.name
            )));
        }
    })
}

/// A cell as a bound value for `backend`.
fn bound(cell: &Cell<'_>, backend: DbBackend) -> Value {
    match cell {
        Cell::Null => Value::String(None),
        Cell::Int(v) => (*v).into(),
        Cell::Real(v) => (*v).into(),
        Cell::Text(v) => v.to_string().into(),
        Cell::Bool(v) => (*v).into(),
        Cell::Date(d) => match backend {
            DbBackend::Postgres => (*d).into(),
            _ => d.format("%Y-%m-%d").to_string().into(),
        },
        Cell::Timestamp(t) => t.to_rfc3339().into(),
    }
}

/// The file name's dataset and format.
fn parse_file(file: &str) -> Option<(&'static Dataset, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    Some((Dataset::find(name)?, Format::of_extension(ext)?))
}

async fn dataset_response(
    req: HttpRequest,
    file: web::Path<String>,
    endpoint: web::Data<Endpoint>,
    exports: web::Data<Exports>,
) -> HttpResponse {
    let principal = match endpoint.caller(&req).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let Some((dataset, format)) = parse_file(&file) else {
        return refuse(
            StatusCode::NOT_FOUND,
            errors::NOT_FOUND,
            format!(
                "No dataset file `{file}`: ask for NAME.csv, NAME.ndjson, NAME.json or \
                 NAME.parquet, NAME one of {}; `GET /datasets` describes them.",
                catalog::ALL
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    let dataset = variant(dataset, &principal);
    if !may_read(&principal, dataset.rows_need) {
        endpoint
            .access()
            .record_denied(&principal, &format!("datasets/{}", dataset.name))
            .await;
        let role = dataset
            .rows_need
            .map_or("public", |w| w.least_role().name());
        return refuse(
            StatusCode::FORBIDDEN,
            errors::FORBIDDEN,
            format!(
                "The dataset `{}` needs the {role} role or higher; this caller has the {} role.",
                dataset.name, principal.role
            ),
        );
    }
    let ask = match ask(dataset, &principal, req.query_string()) {
        Ok(a) => a,
        Err((status, code, message)) => return refuse(status, code, message),
    };
    let threshold = i64::from(endpoint.access().min_group_firms());
    let suppressed = matches!(dataset.shape, Shape::Suppressed { .. })
        && !policy::allows(&principal, Protected::FirmFigures);
    if suppressed && (!ask.filters.is_empty() || !ask.custom.is_empty()) {
        return refuse(
            StatusCode::FORBIDDEN,
            errors::FORBIDDEN,
            format!(
                "`{}` cannot be filtered by this caller: its small groups are withheld from \
                 callers without firm-level access, and a filtered table is one nobody \
                 suppressed against. Read the whole table.",
                dataset.name
            ),
        );
    }
    let db = exports.db.clone();
    let version = match version(&db, dataset).await {
        Ok(v) => v,
        Err(e) => return internal(&e),
    };
    let etag = etag(dataset, format, &ask, &principal, threshold, &version.tag);
    if let Some(given) = req.headers().get(header::IF_NONE_MATCH)
        && given.to_str().is_ok_and(|g| {
            g.split(',')
                .any(|t| t.trim() == "*" || same_tag(t.trim(), &etag))
        })
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(("X-Hub-Change", version.change.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish();
    }
    let layout = Layout {
        columns: ask.columns.iter().map(|c| (c.name, c.ty)).collect(),
        deleted: ask.since.is_some() && matches!(dataset.incremental, Incremental::Rows { .. }),
    };
    let sink = match write::sink(format, layout) {
        Ok(s) => s,
        Err(e) => return internal(&e),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let job = Job {
        db,
        dataset,
        ask,
        principal: principal.clone(),
        threshold: suppressed.then_some(threshold),
        endpoint: endpoint.clone(),
        change: version.change,
    };
    let work = async move {
        if let Err(e) = job.run(sink, &tx).await {
            if e.is::<Gone>() {
                tracing::debug!(dataset = job.dataset.name, "dataset client went away");
                return;
            }
            tracing::error!(error = %e, dataset = job.dataset.name, "dataset stream failed");
            let _ = tx
                .send(Err(std::io::Error::other("the dataset stream failed")))
                .await;
        }
    };
    match endpoint.runtime() {
        Some(runtime) => drop(runtime.spawn(work)),
        None => drop(actix_web::rt::spawn(work)),
    }
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = HttpResponse::Ok();
    response
        .content_type(format.media_type())
        .insert_header((header::ETAG, etag))
        .insert_header(("X-Hub-Change", version.change.to_string()))
        .insert_header((
            "X-Hub-Incremental",
            match dataset.incremental {
                Incremental::Rows { .. } => "rows",
                Incremental::Snapshot { .. } => "snapshot",
            },
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "inline; filename=\"{}.{}\"",
                dataset.name,
                format.extension()
            ),
        ));
    response.streaming(body)
}

/// Whether an `If-None-Match` entity tag matches ours (weak comparison).
fn same_tag(given: &str, ours: &str) -> bool {
    let strip = |t: &str| t.trim_start_matches("W/").to_owned();
    strip(given) == strip(ours)
}

/// What the answer reflects: the change number, and the tag the ETag is made of.
struct Version {
    change: i64,
    tag: String,
}

/// The change number (and, for import runs, which take none when they write nothing, the
/// runs' count and ends).
async fn version(db: &DatabaseConnection, dataset: &Dataset) -> anyhow::Result<Version> {
    let change = crate::changes::current(db).await?;
    let mut tag = change.to_string();
    if dataset.name == catalog::IMPORT_RUNS.name {
        let backend = db.get_database_backend();
        if let Some(r) = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n, COUNT(finished_at) AS f FROM import_runs",
            ))
            .await?
        {
            let _ = write!(
                tag,
                ".{}.{}",
                crate::db::int(&r, "n")?.unwrap_or(0),
                crate::db::int(&r, "f")?.unwrap_or(0)
            );
        }
    }
    Ok(Version { change, tag })
}

/// `W/"<change>-<hash of the request>"`.
fn etag(
    dataset: &Dataset,
    format: Format,
    ask: &Ask,
    principal: &Principal,
    threshold: i64,
    version: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    h.update([0]);
    h.update(dataset.name);
    h.update([0]);
    h.update(format.extension());
    h.update([0]);
    h.update(&ask.canonical);
    h.update([0]);
    h.update(principal.role.name());
    h.update([u8::from(principal.pii)]);
    h.update(format!("{:?}", principal.clusters));
    h.update(threshold.to_le_bytes());
    h.update(version);
    let digest = hex::encode(&h.finalize()[..12]);
    format!("W/\"{version}-{digest}\"")
}

/// One dataset request's work, run beside the HTTP worker.
struct Job {
    db: DatabaseConnection,
    dataset: &'static Dataset,
    ask: Ask,
    principal: Principal,
    /// The small-group threshold, when counts are suppressed for this caller.
    threshold: Option<i64>,
    endpoint: web::Data<Endpoint>,
    change: i64,
}

/// The client closed the connection: the query stops, and nothing is wrong.
#[derive(Debug)]
struct Gone;

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the client went away")
    }
}

impl std::error::Error for Gone {}

type Tx = tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>;

/// Sends what the sink holds when it holds a chunk (or `all`). Errs when the client is
/// gone, which stops the query.
async fn drain(sink: &mut Box<dyn write::Sink>, tx: &Tx, all: bool) -> anyhow::Result<()> {
    if sink.buffered() >= CHUNK || (all && sink.buffered() > 0) {
        let bytes = sink.take();
        tx.send(Ok(bytes::Bytes::from(bytes)))
            .await
            .map_err(|_| anyhow::Error::new(Gone))?;
    }
    Ok(())
}

impl Job {
    async fn run(&self, mut sink: Box<dyn write::Sink>, tx: &Tx) -> anyhow::Result<()> {
        // Snapshot datasets answer nothing when nothing feeding them changed.
        let unchanged = match (self.ask.since, &self.dataset.incremental) {
            (Some(n), Incremental::Snapshot { .. }) => {
                feeds_changed(&self.db, self.dataset).await? <= n
            }
            _ => false,
        };
        if !unchanged {
            match &self.dataset.shape {
                Shape::View { .. } | Shape::Query { .. } => self.stream_rows(&mut sink, tx).await?,
                Shape::Suppressed { .. } => self.suppressed(&mut sink, tx).await?,
                Shape::ClusterTrade => self.cluster_trade(&mut sink, tx).await?,
            }
        }
        if let (Some(n), Incremental::Rows { tombstones }) =
            (self.ask.since, &self.dataset.incremental)
            && !tombstones.is_empty()
        {
            self.tombstones(&mut sink, tx, n, tombstones).await?;
        }
        sink.finish()?;
        drain(&mut sink, tx, true).await
    }

    /// The statement of the rows asked for: `columns` of `d`, filtered, scoped, ordered.
    fn statement(&self, columns: &[&Column], with_filters: bool) -> Statement {
        let backend = self.db.get_database_backend();
        let (from, order) = match &self.dataset.shape {
            Shape::View { view, order } | Shape::Suppressed { view, order, .. } => {
                (format!("FROM {view} d"), *order)
            }
            Shape::Query { from, order } => ((*from).to_owned(), *order),
            Shape::ClusterTrade => (String::new(), ""),
        };
        let mut sql = format!(
            "SELECT {} {from}",
            columns
                .iter()
                .map(|c| format!("d.{}", c.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut conditions = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if with_filters {
            for f in &self.ask.filters {
                let marks = vec!["?"; f.values.len()].join(", ");
                conditions.push(match f.op {
                    Op::In => format!("d.{} IN ({marks})", f.column.name),
                    op => format!("d.{} {} ?", f.column.name, op.sql()),
                });
                values.extend(f.values.iter().map(|v| bound(v, backend)));
            }
            for (i, list) in &self.ask.custom {
                let marks = vec!["?"; list.len()].join(", ");
                conditions.push(self.dataset.filters[*i].sql.replace("{values}", &marks));
                values.extend(list.iter().map(|v| Value::from(v.clone())));
            }
        }
        if let (Some(ids), Some(rule)) = (scope_ids(&self.principal), self.dataset.scope) {
            conditions.push(rule.condition(&ids));
        }
        if let (Some(n), Incremental::Rows { .. }) = (self.ask.since, &self.dataset.incremental) {
            conditions.push("d.change_seq > ?".to_owned());
            values.push(n.into());
        }
        if !conditions.is_empty() {
            let _ = write!(sql, " WHERE {}", conditions.join(" AND "));
        }
        let _ = write!(sql, " ORDER BY {order}");
        if let Some(n) = self.ask.limit {
            let _ = write!(sql, " LIMIT {n}");
        }
        Statement::from_sql_and_values(backend, crate::db::placeholders(backend, &sql), values)
    }

    /// Streams the rows of a view or query into the sink.
    async fn stream_rows(&self, sink: &mut Box<dyn write::Sink>, tx: &Tx) -> anyhow::Result<()> {
        let statement = self.statement(&self.ask.columns, true);
        let backend = self.db.get_database_backend();
        let types: Vec<Ty> = self.ask.columns.iter().map(|c| c.ty).collect();
        let mut rows = self.db.stream_raw(statement).await?;
        while let Some(row) = rows.next().await {
            let row = row?;
            let cells = types
                .iter()
                .enumerate()
                .map(|(i, ty)| cell(&row, i, *ty, backend))
                .collect::<anyhow::Result<Vec<_>>>()?;
            sink.row(&cells)?;
            drop(cells);
            drain(sink, tx, false).await?;
        }
        Ok(())
    }

    /// Reads a whole table of counts, withholds its small groups for callers without
    /// firm-level access, and writes the columns asked for.
    async fn suppressed(&self, sink: &mut Box<dyn write::Sink>, tx: &Tx) -> anyhow::Result<()> {
        let Shape::Suppressed {
            keys,
            firms,
            measures,
            ..
        } = &self.dataset.shape
        else {
            return Ok(());
        };
        // Every column but `withheld`, which is computed here.
        let all: Vec<&Column> = self
            .dataset
            .columns
            .iter()
            .filter(|c| c.name != "withheld")
            .collect();
        let backend = self.db.get_database_backend();
        let statement = self.statement(&all, true);
        let found = self.db.query_all_raw(statement).await?;
        let mut table: Vec<Vec<Cell>> = Vec::with_capacity(found.len());
        for row in &found {
            let mut cells = Vec::with_capacity(all.len() + 1);
            for (i, c) in all.iter().enumerate() {
                cells.push(cell(row, i, c.ty, backend)?);
            }
            cells.push(Cell::Bool(false));
            table.push(cells);
        }
        let index = |name: &str| all.iter().position(|c| c.name == name);
        if let Some(threshold) = self.threshold {
            let key_at: Vec<usize> = keys.iter().filter_map(|k| index(k)).collect();
            let firms_at = index(firms).ok_or_else(|| anyhow::anyhow!("no `{firms}` column"))?;
            let group_keys: Vec<Vec<String>> = table
                .iter()
                .map(|r| key_at.iter().map(|i| format!("{:?}", r[*i])).collect())
                .collect();
            let contributing: Vec<i64> = table
                .iter()
                .map(|r| match r[firms_at] {
                    Cell::Int(n) => n,
                    _ => 0,
                })
                .collect();
            let withheld =
                crate::graphql::suppress::withheld(&group_keys, &contributing, threshold);
            let measure_at: Vec<usize> = measures.iter().filter_map(|m| index(m)).collect();
            let flag = all.len();
            for (row, w) in table.iter_mut().zip(withheld) {
                if w {
                    for i in &measure_at {
                        row[*i] = Cell::Null;
                    }
                    row[flag] = Cell::Bool(true);
                }
            }
        }
        let pick: Vec<usize> = self
            .ask
            .columns
            .iter()
            .map(|c| index(c.name).unwrap_or(all.len()))
            .collect();
        for row in &table {
            let cells: Vec<Cell> = pick.iter().map(|i| row[*i].clone()).collect();
            sink.row(&cells)?;
            drain(sink, tx, false).await?;
        }
        Ok(())
    }

    /// `Cluster.trade` of each cluster the caller sees, exports and imports by year and
    /// partner, through the caller's GraphQL schema.
    async fn cluster_trade(&self, sink: &mut Box<dyn write::Sink>, tx: &Tx) -> anyhow::Result<()> {
        let mut slugs: Vec<String> = Vec::new();
        let mut after = Json::Null;
        loop {
            let page = self
                .endpoint
                .execute_as(
                    &self.principal,
                    "query($after: String) { clusters(first: 100, after: $after) { \
                     nodes { slug } pageInfo { hasNextPage endCursor } } }",
                    json!({ "after": after }),
                )
                .await;
            anyhow::ensure!(page.errors.is_empty(), "clusters: {:?}", page.errors);
            let data = page.data.into_json()?;
            let clusters = &data["clusters"];
            slugs.extend(
                clusters["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n["slug"].as_str().map(str::to_owned)),
            );
            if clusters["pageInfo"]["hasNextPage"].as_bool() != Some(true) {
                break;
            }
            after = clusters["pageInfo"]["endCursor"].clone();
        }
        let query = "query($slug: String!) { cluster(slug: $slug) { \
             export: trade(flow: EXPORT, groupBy: [YEAR, PARTNER]) { ...t } \
             import: trade(flow: IMPORT, groupBy: [YEAR, PARTNER]) { ...t } } } \
             fragment t on ClusterTrade { revision source groups { year partner valueUsd \
             flows reportedIn notPlacedValueUsd totalValueUsd shareOfTotal } }";
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let all = self.dataset.columns;
        for slug in slugs {
            let answer = self
                .endpoint
                .execute_as(&self.principal, query, json!({ "slug": slug }))
                .await;
            anyhow::ensure!(
                answer.errors.is_empty(),
                "cluster trade: {:?}",
                answer.errors
            );
            let data = answer.data.into_json()?;
            for flow in ["export", "import"] {
                let trade = &data["cluster"][flow];
                for g in trade["groups"].as_array().into_iter().flatten() {
                    let text = |v: &Json| {
                        v.as_str()
                            .map_or(Cell::Null, |s| Cell::Text(s.to_owned().into()))
                    };
                    let real = |v: &Json| v.as_f64().map_or(Cell::Null, Cell::Real);
                    let row: Vec<Cell> = all
                        .iter()
                        .map(|c| match c.name {
                            "cluster" => Cell::Text(slug.clone().into()),
                            "flow" => Cell::Text(flow.into()),
                            "year" => g["year"].as_i64().map_or(Cell::Null, Cell::Int),
                            "partner" => text(&g["partner"]),
                            "value_usd" => real(&g["valueUsd"]),
                            "flows" => g["flows"].as_i64().map_or(Cell::Null, Cell::Int),
                            "reported_in" => Cell::Text(
                                g["reportedIn"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(Json::as_str)
                                    .collect::<Vec<_>>()
                                    .join("; ")
                                    .into(),
                            ),
                            "not_placed_value_usd" => real(&g["notPlacedValueUsd"]),
                            "total_value_usd" => real(&g["totalValueUsd"]),
                            "share_of_total" => real(&g["shareOfTotal"]),
                            "revision" => text(&trade["revision"]),
                            "source" => text(&trade["source"]),
                            "change_seq" => Cell::Int(self.change),
                            _ => Cell::Null,
                        })
                        .collect();
                    rows.push(row);
                }
            }
        }
        let index = |name: &str| all.iter().position(|c| c.name == name);
        let filters: Vec<(usize, &Filter)> = self
            .ask
            .filters
            .iter()
            .filter_map(|f| index(f.column.name).map(|i| (i, f)))
            .collect();
        let pick: Vec<usize> = self
            .ask
            .columns
            .iter()
            .filter_map(|c| index(c.name))
            .collect();
        let mut written = 0u64;
        for row in rows {
            if !filters.iter().all(|(i, f)| f.matches(&row[*i])) {
                continue;
            }
            if self.ask.limit.is_some_and(|n| written >= n) {
                break;
            }
            let cells: Vec<Cell> = pick.iter().map(|i| row[*i].clone()).collect();
            sink.row(&cells)?;
            written += 1;
            drain(sink, tx, false).await?;
        }
        Ok(())
    }

    /// The rows deleted or merged away after `since`.
    async fn tombstones(
        &self,
        sink: &mut Box<dyn write::Sink>,
        tx: &Tx,
        since: i64,
        types: &[&str],
    ) -> anyhow::Result<()> {
        let backend = self.db.get_database_backend();
        let sql = crate::db::placeholders(
            backend,
            &format!(
                "SELECT entity_id, change_seq FROM tombstones WHERE entity_type IN ({}) \
                 AND change_seq > ? ORDER BY change_seq",
                quoted(types)
            ),
        );
        let mut rows = self
            .db
            .stream_raw(Statement::from_sql_and_values(backend, sql, [since.into()]))
            .await?;
        while let Some(row) = rows.next().await {
            let row = row?;
            let id: i64 = row.try_get_by_index(0)?;
            let change: i64 = row.try_get_by_index(1)?;
            sink.tombstone(id, change)?;
            drain(sink, tx, false).await?;
        }
        Ok(())
    }
}

/// Column `i` of `row` as a cell of type `ty`.
fn cell(row: &QueryResult, i: usize, ty: Ty, backend: DbBackend) -> anyhow::Result<Cell<'_>> {
    Ok(match ty {
        Ty::Int => row
            .try_get_by_index::<Option<i64>>(i)?
            .map_or(Cell::Null, Cell::Int),
        Ty::Real => match row.try_get_by_index::<Option<f64>>(i) {
            Ok(v) => v.map_or(Cell::Null, Cell::Real),
            // SQLite keeps a whole number in a REAL expression as an integer.
            Err(_) => row
                .try_get_by_index::<Option<i64>>(i)?
                .map_or(Cell::Null, |v| Cell::Real(v as f64)),
        },
        // SQLite stores dates and times as ISO 8601 text, which CSV and JSON write as it
        // is (Parquet reads it, see `write::Parquet`).
        Ty::Text | Ty::Date | Ty::Timestamp if backend != DbBackend::Postgres => text(row, i)?,
        Ty::Text => row
            .try_get_by_index::<Option<String>>(i)?
            .map_or(Cell::Null, |s| Cell::Text(s.into())),
        Ty::Bool => row
            .try_get_by_index::<Option<bool>>(i)?
            .map_or(Cell::Null, Cell::Bool),
        Ty::Date => row
            .try_get_by_index::<Option<NaiveDate>>(i)?
            .map_or(Cell::Null, Cell::Date),
        Ty::Timestamp => timestamp(row, i, backend)?.map_or(Cell::Null, Cell::Timestamp),
    })
}

/// A text column of a SQLite row, borrowed from the row (a million rows of text copied
/// into strings of their own cost a fifth of an export).
fn text(row: &QueryResult, i: usize) -> anyhow::Result<Cell<'_>> {
    use sea_orm::sqlx::Row as _;
    Ok(match row.try_as_sqlite_row() {
        Some(r) => r
            .try_get::<Option<&str>, _>(i)?
            .map_or(Cell::Null, |s| Cell::Text(s.into())),
        None => row
            .try_get_by_index::<Option<String>>(i)?
            .map_or(Cell::Null, |s| Cell::Text(s.into())),
    })
}

/// A timestamp column (text in ISO 8601 on SQLite).
fn timestamp(
    row: &QueryResult,
    i: usize,
    backend: DbBackend,
) -> anyhow::Result<Option<DateTime<chrono::FixedOffset>>> {
    Ok(match backend {
        DbBackend::Postgres => row
            .try_get_by_index::<Option<DateTime<Utc>>>(i)?
            .map(|t| t.fixed_offset()),
        _ => match row.try_get_by_index::<Option<String>>(i)? {
            None => None,
            Some(text) => Some(
                DateTime::parse_from_rfc3339(&text)
                    .map_err(|e| anyhow::anyhow!("a timestamp column holds `{text}`: {e}"))?,
            ),
        },
    })
}
