//! Relay connections over SQL with keyset cursors.
//!
//! A list is one `SELECT` with the caller's filter, an order that is always total (the
//! requested keys, `NULLS LAST`, then the id), and `LIMIT page + 1` to learn whether another
//! page follows. A cursor holds the sort-key values of its row, so the next page starts with
//! a `WHERE (keys) > (cursor)` condition instead of an `OFFSET` scan: deep pages cost what
//! the first page costs. `totalCount` runs its own `COUNT(*)` only when it is selected.
//!
//! Text sorts and compares in byte order on both engines (`COLLATE "C"` on PostgreSQL,
//! `BINARY` on SQLite), so SQLite and PostgreSQL return the same order.

use async_graphql::{Error, ErrorExtensions as _, Object};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait as _, Order, Query, SelectStatement, SimpleExpr, Value,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use serde_json::Value as Json;

use super::filter::OrderDirection;
use crate::config::GraphqlSettings;

/// The alias of the listed table in every list query.
pub const T: &str = "t";

/// `SELECT t.* FROM table t`: the base of a list over `table`, to which
/// computed columns, joins and conditions are added.
pub fn table_select(table: &str) -> SelectStatement {
    let mut q = Query::select();
    q.expr(Expr::cust(format!("{T}.*")))
        .from_as(Alias::new(table), Alias::new(T));
    q
}

/// What kind of values a sort key holds: decides how cursors encode and bind them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Int,
    Float,
    Date,
}

/// One sort key: a column of the listed table (or an expression over `t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// SQL over the alias `t`, e.g. `t.name`.
    pub sql: String,
    pub kind: KeyKind,
    pub descending: bool,
    /// Whether the key can be NULL. A key that cannot (a `NOT NULL` column) is ordered and
    /// compared without `NULLS LAST` and `IS NULL` terms: SQLite's ascending index order
    /// puts NULLs first, so `ASC NULLS LAST` would keep it from reading the list along an
    /// index, and on PostgreSQL `DESC NULLS LAST` would not match a plain `DESC` index.
    pub nullable: bool,
}

impl SortKey {
    pub fn asc(column: &str, kind: KeyKind) -> Self {
        SortKey {
            sql: format!("{T}.{column}"),
            kind,
            descending: false,
            nullable: true,
        }
    }

    pub fn desc(column: &str, kind: KeyKind) -> Self {
        SortKey {
            sql: format!("{T}.{column}"),
            kind,
            descending: true,
            nullable: true,
        }
    }

    /// The key of a `NOT NULL` column.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// `NULLS LAST` (or `FIRST`, for a page read backward) where the key can be NULL.
    pub fn nulls(&self, backward: bool) -> &'static str {
        match (self.nullable, backward) {
            (false, _) => "",
            (true, false) => " NULLS LAST",
            (true, true) => " NULLS FIRST",
        }
    }

    /// The expression as selected into a cursor: integers widened to 64 bits, so that
    /// `INTEGER` and `BIGINT` columns read alike on PostgreSQL.
    pub fn selected(&self) -> SimpleExpr {
        match self.kind {
            KeyKind::Int => Expr::cust(format!("CAST({} AS BIGINT)", self.sql)),
            _ => Expr::cust(self.sql.clone()),
        }
    }

    /// The expression as compared and sorted: text in byte order on both engines.
    fn expr(&self, backend: DbBackend) -> SimpleExpr {
        match (self.kind, backend) {
            (KeyKind::Text, DbBackend::Postgres) => {
                Expr::cust(format!("{} COLLATE \"C\"", self.sql))
            }
            _ => Expr::cust(self.sql.clone()),
        }
    }
}

/// The order of a list: the requested keys, then the id, which makes it total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    keys: Vec<SortKey>,
}

impl Sort {
    /// `keys` in the order the client wrote them, then `t.id` ascending (or descending when
    /// the last requested key is descending, so "newest first" pages read naturally).
    pub fn new(mut keys: Vec<SortKey>) -> Self {
        let descending = keys.last().is_some_and(|k| k.descending);
        keys.retain(|k| k.sql != format!("{T}.id"));
        keys.push(SortKey {
            sql: format!("{T}.id"),
            kind: KeyKind::Int,
            descending,
            nullable: false,
        });
        Sort { keys }
    }

    pub fn keys(&self) -> &[SortKey] {
        &self.keys
    }

    /// A short fingerprint of the key list, so a cursor made for another order is refused.
    fn fingerprint(&self) -> String {
        let mut h: u32 = 2166136261;
        for k in &self.keys {
            for b in k.sql.bytes().chain([k.descending as u8]) {
                h = (h ^ b as u32).wrapping_mul(16777619);
            }
        }
        format!("{h:08x}")
    }
}

/// An `*Order` input: one key of a list's order as the client wrote it.
pub trait OrderInput {
    /// The SQL of the key (over the alias `t`) and the kind of its values.
    fn key(&self) -> (String, KeyKind);
    /// Whether the key can be NULL (see [`SortKey::nullable`]).
    fn nullable(&self) -> bool {
        true
    }
    /// The direction the client asked for.
    fn direction(&self) -> OrderDirection;
}

/// The sort of a list: the keys of `order` in the order the client wrote them, or `default`
/// when no key is given (no `orderBy`, or an empty one).
pub fn sort_of<O: OrderInput>(order: Option<&[O]>, default: Vec<SortKey>) -> Sort {
    let keys = match order {
        Some(o) if !o.is_empty() => o
            .iter()
            .map(|o| {
                let (sql, kind) = o.key();
                SortKey {
                    sql,
                    kind,
                    descending: o.direction() == OrderDirection::Desc,
                    nullable: o.nullable(),
                }
            })
            .collect(),
        _ => default,
    };
    Sort::new(keys)
}

/// `first/after/last/before` as the client gave them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// `changedSince`: only the rows written after this change number (root lists).
    pub changed_since: Option<i64>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: u64,
    pub backward: bool,
    pub after: Option<Vec<Json>>,
    pub before: Option<Vec<Json>>,
    /// Whether the page's cursors are asked for ([`cursors_asked`]). When they are not,
    /// the rows carry no copies of their sort keys (`__k0, …`) and none is decoded: most
    /// clients ask for `nodes` and `hasNextPage` only.
    pub cursors: bool,
}

/// Whether the connection field being resolved selects a cursor: `edges { cursor }` or
/// `pageInfo { startCursor endCursor }` (through fragments too; async-graphql's
/// look-ahead).
pub fn cursors_asked(ctx: &async_graphql::Context<'_>) -> bool {
    let look = ctx.look_ahead();
    let info = look.field("pageInfo");
    look.field("edges").field("cursor").exists()
        || info.field("startCursor").exists()
        || info.field("endCursor").exists()
}

/// A client error with `extensions.code = "BAD_USER_INPUT"`.
pub fn bad_input(message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
}

impl PageArgs {
    /// The page arguments of a root list field.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        PageArgs {
            first,
            after,
            last,
            before,
            changed_since: None,
        }
    }

    /// With `changedSince`.
    pub fn changed_since(mut self, change: Option<i64>) -> Self {
        self.changed_since = change;
        self
    }

    /// Checks the page size against the limits and decodes the cursors for `sort`.
    pub fn validate(&self, sort: &Sort, limits: &GraphqlSettings) -> Result<Page, Error> {
        if self.first.is_some() && self.last.is_some() {
            return Err(bad_input("Give either `first` or `last`, not both."));
        }
        let requested = self.first.or(self.last);
        if let Some(n) = requested
            && (n < 0 || n as u32 > limits.max_page_size)
        {
            return Err(bad_input(format!(
                "The page size must be between 0 and {}; ask for further pages with `after`.",
                limits.max_page_size
            )));
        }
        let limit = requested
            .map(|n| n as u64)
            .unwrap_or(limits.default_page_size as u64);
        let decode = |c: &Option<String>| c.as_deref().map(|c| decode_cursor(c, sort)).transpose();
        Ok(Page {
            limit,
            backward: self.last.is_some(),
            after: decode(&self.after)?,
            before: decode(&self.before)?,
            cursors: true,
        })
    }
}

fn decode_cursor(cursor: &str, sort: &Sort) -> Result<Vec<Json>, Error> {
    let invalid =
        || bad_input("The cursor is not valid for this list and order; start again without it.");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let value: Json = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let arr = value.as_array().ok_or_else(invalid)?;
    let (fp, values) = arr.split_first().ok_or_else(invalid)?;
    if fp.as_str() != Some(&sort.fingerprint()) || values.len() != sort.keys.len() {
        return Err(invalid());
    }
    for (v, k) in values.iter().zip(&sort.keys) {
        let ok = match k.kind {
            _ if v.is_null() => true,
            KeyKind::Text => v.is_string(),
            KeyKind::Int => v.is_i64(),
            KeyKind::Float => v.is_number(),
            KeyKind::Date => v
                .as_str()
                .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        };
        if !ok {
            return Err(invalid());
        }
    }
    Ok(values.to_vec())
}

fn encode_cursor(fingerprint: &str, values: &[Json]) -> String {
    let mut arr = vec![Json::String(fingerprint.to_owned())];
    arr.extend_from_slice(values);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Json::Array(arr)).expect("JSON array serialises"))
}

/// An item's cursor, encoded when it is asked for (`edges { cursor }`): most clients ask
/// for `nodes`, and encoding every item's cursor was measured at 2% of a list's CPU.
#[derive(Debug, Clone)]
pub struct Cursor {
    /// The order's fingerprint, shared by the items of a page.
    fingerprint: std::sync::Arc<str>,
    /// The item's sort-key values.
    values: Vec<Json>,
}

impl Cursor {
    /// The opaque cursor string.
    pub fn encode(&self) -> String {
        encode_cursor(&self.fingerprint, &self.values)
    }
}

fn bind(kind: KeyKind, v: &Json) -> Value {
    match kind {
        KeyKind::Text => Value::String(v.as_str().map(|s| s.to_owned())),
        KeyKind::Int => Value::BigInt(v.as_i64()),
        KeyKind::Float => Value::Double(v.as_f64()),
        KeyKind::Date => Value::ChronoDate(
            v.as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()),
        ),
    }
}

/// `(keys) > cursor` in the sort's order (`after`), or `<` (`before`), with NULLS LAST.
pub(crate) fn keyset(sort: &Sort, cursor: &[Json], after: bool, backend: DbBackend) -> Condition {
    let mut any = Condition::any();
    for i in 0..sort.keys.len() {
        let mut all = Condition::all();
        for (k, v) in sort.keys[..i].iter().zip(cursor) {
            all = all.add(if v.is_null() {
                Expr::cust(k.sql.clone()).is_null()
            } else {
                k.expr(backend).eq(Expr::val(bind(k.kind, v)))
            });
        }
        let (k, v) = (&sort.keys[i], &cursor[i]);
        let e = k.expr(backend);
        let step: Option<Condition> = match (v.is_null(), after) {
            // After a NULL (which sorts last) nothing differs in this key.
            (true, true) => None,
            // Before a NULL: every non-NULL value.
            (true, false) => Some(Condition::all().add(Expr::cust(k.sql.clone()).is_not_null())),
            (false, true) => {
                let val = Expr::val(bind(k.kind, v));
                let cmp = if k.descending { e.lt(val) } else { e.gt(val) };
                Some(if k.nullable {
                    Condition::any()
                        .add(cmp)
                        .add(Expr::cust(k.sql.clone()).is_null())
                } else {
                    Condition::all().add(cmp)
                })
            }
            (false, false) => {
                let val = Expr::val(bind(k.kind, v));
                Some(Condition::all().add(if k.descending { e.gt(val) } else { e.lt(val) }))
            }
        };
        if let Some(step) = step {
            any = any.add(all.add(step));
        }
    }
    if any.is_empty() {
        // No row is after a cursor whose every key is NULL but the id: impossible (ids are
        // never NULL), yet keep the condition well-formed.
        Condition::all().add(Expr::cust("1 = 0"))
    } else {
        any
    }
}

/// Adds the order and keyset condition of `page` to `select`, and, when `keys`, selects
/// the sort keys as `__k0, __k1, …` (for cursors, [`row_keys`], or an outer order). The
/// limit is added to the SQL text by [`with_limit`].
pub fn paginate(
    select: &mut SelectStatement,
    sort: &Sort,
    page: &Page,
    backend: DbBackend,
    keys: bool,
) {
    if keys {
        for (i, k) in sort.keys.iter().enumerate() {
            select.expr_as(k.selected(), Alias::new(format!("__k{i}")));
        }
    }
    if let Some(after) = &page.after {
        select.cond_where(keyset(sort, after, true, backend));
    }
    if let Some(before) = &page.before {
        select.cond_where(keyset(sort, before, false, backend));
    }
    for k in &sort.keys {
        // Backward pages read in reverse and are turned around afterwards.
        let descending = k.descending != page.backward;
        let order = if descending { Order::Desc } else { Order::Asc };
        if !k.nullable {
            select.order_by_expr(k.expr(backend), order);
        } else if page.backward {
            select.order_by_expr_with_nulls(
                k.expr(backend),
                order,
                sea_orm::sea_query::NullOrdering::First,
            );
        } else {
            select.order_by_expr_with_nulls(
                k.expr(backend),
                order,
                sea_orm::sea_query::NullOrdering::Last,
            );
        }
    }
}

/// The statement of `select` with `LIMIT n` written into its text, not bound.
///
/// SQLite (since 3.46) notes a bound `LIMIT` among the values its plan depends on, and a
/// statement any such value is bound to again is compiled afresh on its next run: with a
/// bound limit every list would be compiled on every request (and in a statement of more
/// than 31 values, rebinding any value past the 31st does the same). A page size is a
/// small integer, so the statement text varies only with it and stays in the statement
/// cache.
pub fn with_limit(backend: DbBackend, select: &SelectStatement, limit: u64) -> Statement {
    let mut statement = backend.build(select);
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    statement
}

/// Reads the sort-key values of a row selected by [`paginate`], for its cursor: none when
/// the page's cursors are not asked for (the row then carries none).
pub fn row_keys(row: &QueryResult, sort: &Sort, page: &Page) -> Result<Vec<Json>, sea_orm::DbErr> {
    if !page.cursors {
        return Ok(Vec::new());
    }
    sort.keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let col = format!("__k{i}");
            Ok(match k.kind {
                KeyKind::Text => row
                    .try_get_by::<Option<String>, _>(col.as_str())?
                    .map(Json::String)
                    .unwrap_or(Json::Null),
                KeyKind::Int => row
                    .try_get_by::<Option<i64>, _>(col.as_str())?
                    .map(Json::from)
                    .unwrap_or(Json::Null),
                KeyKind::Float => row
                    .try_get_by::<Option<f64>, _>(col.as_str())?
                    .map(Json::from)
                    .unwrap_or(Json::Null),
                KeyKind::Date => row
                    .try_get_by::<Option<NaiveDate>, _>(col.as_str())?
                    .map(|d| Json::String(d.format("%Y-%m-%d").to_string()))
                    .unwrap_or(Json::Null),
            })
        })
        .collect()
}

/// The name of the admin area whose id is in `id_column` (SQL over any alias), as a
/// correlated sub-select: one primary-key lookup per row, usable in selects, filters and
/// sort keys alike. The sub-select's own alias shadows nothing the caller can name.
pub fn admin_area_name_sql(id_column: &str) -> String {
    format!("(SELECT area_.name FROM admin_areas area_ WHERE area_.id = {id_column})")
}

/// `pageInfo` of a connection: its cursors are encoded when asked for.
#[derive(Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start: Option<Cursor>,
    pub end: Option<Cursor>,
}

/// `pageInfo` of a connection.
#[Object]
impl PageInfo {
    async fn has_next_page(&self) -> bool {
        self.has_next_page
    }

    async fn has_previous_page(&self) -> bool {
        self.has_previous_page
    }

    async fn start_cursor(&self) -> Option<String> {
        self.start.as_ref().map(Cursor::encode)
    }

    async fn end_cursor(&self) -> Option<String> {
        self.end.as_ref().map(Cursor::encode)
    }
}

/// One page of rows with their cursors.
#[derive(Debug, Clone)]
pub struct PageOf<N> {
    pub items: Vec<(Cursor, N)>,
    pub page_info: PageInfo,
}

/// Turns the fetched rows (`limit + 1` at most, in query order) into a page.
pub fn finish_page<N>(mut rows: Vec<(Vec<Json>, N)>, sort: &Sort, page: &Page) -> PageOf<N> {
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if page.backward {
        rows.reverse();
    }
    let fingerprint: std::sync::Arc<str> = sort.fingerprint().into();
    let items: Vec<(Cursor, N)> = rows
        .into_iter()
        .map(|(values, n)| {
            let cursor = Cursor {
                fingerprint: fingerprint.clone(),
                values,
            };
            (cursor, n)
        })
        .collect();
    let page_info = PageInfo {
        has_next_page: if page.backward {
            page.before.is_some()
        } else {
            more
        },
        has_previous_page: if page.backward {
            more
        } else {
            page.after.is_some()
        },
        start: items.first().map(|(c, _)| c.clone()),
        end: items.last().map(|(c, _)| c.clone()),
    };
    PageOf { items, page_info }
}

/// Runs a list query: `base` selects from the table aliased `t` with the filter applied;
/// `map` turns a row into a node.
pub async fn fetch<N>(
    db: &impl ConnectionTrait,
    mut base: SelectStatement,
    sort: &Sort,
    page: &Page,
    map: impl Fn(&QueryResult) -> Result<N, sea_orm::DbErr>,
) -> Result<PageOf<N>, Error> {
    let backend = db.get_database_backend();
    paginate(&mut base, sort, page, backend, page.cursors);
    let rows = db
        .query_all_raw(with_limit(backend, &base, page.limit + 1))
        .await
        .map_err(internal)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push((
            row_keys(row, sort, page).map_err(internal)?,
            map(row).map_err(internal)?,
        ));
    }
    Ok(finish_page(out, sort, page))
}

/// Counts the rows of `base` (filter applied, no order or limit).
pub async fn count(db: &impl ConnectionTrait, base: &SelectStatement) -> Result<i64, Error> {
    let mut q = Query::select();
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(base.clone(), Alias::new("c"));
    let row = db.query_one(&q).await.map_err(internal)?;
    Ok(match row {
        Some(r) => r.try_get_by::<i64, _>("n").map_err(internal)?,
        None => 0,
    })
}

/// An internal error: logged with its cause, reported without it.
pub fn internal(e: impl std::fmt::Display) -> Error {
    tracing::error!(error = %e, "GraphQL resolver failed");
    Error::new("Internal error; the server log has the details.")
        .extend_with(|_, x| x.set("code", "INTERNAL_SERVER_ERROR"))
}
