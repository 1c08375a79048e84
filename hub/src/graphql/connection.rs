//! Connection types and the batched loading of nested lists.
//!
//! Root lists run one query ([`super::list::fetch`]). A nested list (a cluster's firms, an
//! event's participations) is loaded for all parents of a level at once: the resolvers of
//! one level register the same [`ChildQuery`] with the request's [`ChildLoader`], which
//! runs one statement per chunk of parents in which each parent's page is its own
//! `ORDER BY … LIMIT` (a `LATERAL` join on PostgreSQL, `UNION ALL` arms on SQLite; see
//! [`per_parent`]). Each page is read along the list's order index and stops at its size:
//! no child is ranked or read beyond the page, whatever the number of children.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use async_graphql::Error;
use async_graphql::dataloader::Loader;
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait as _, PostgresQueryBuilder, Query, SelectStatement, SimpleExpr,
    SqliteQueryBuilder, Value, Values,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};
use serde_json::Value as Json;

use super::NodeContext as _;
use super::declare::RowFilter as _;
use super::list::{KeyKind, Page, PageArgs, PageOf, Sort, fetch, finish_page, internal, row_keys};

/// Declares `$conn` and `$edge` for node type `$node`: `edges { cursor node }`, `nodes`,
/// `pageInfo` and `totalCount` (computed only when selected).
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $doc:literal) => {
        #[doc = $doc]
        pub struct $conn {
            pub page: $crate::graphql::list::PageOf<$node>,
            pub total: $crate::graphql::connection::Total,
        }

        #[doc = concat!("An edge of a ", stringify!($conn), ".")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        impl
            From<(
                $crate::graphql::list::PageOf<$node>,
                $crate::graphql::connection::Total,
            )> for $conn
        {
            fn from(
                (page, total): (
                    $crate::graphql::list::PageOf<$node>,
                    $crate::graphql::connection::Total,
                ),
            ) -> Self {
                $conn { page, total }
            }
        }

        #[async_graphql::Object]
        #[doc = $doc]
        impl $conn {
            async fn edges(&self) -> Vec<$edge> {
                self.page
                    .items
                    .iter()
                    .map(|(c, n)| $edge {
                        cursor: c.encode(),
                        node: n.clone(),
                    })
                    .collect()
            }

            async fn nodes(&self) -> Vec<&$node> {
                self.page.items.iter().map(|(_, n)| n).collect()
            }

            async fn page_info(&self) -> &$crate::graphql::list::PageInfo {
                &self.page.page_info
            }

            /// The number of items in the whole filtered list, counted only when asked for.
            async fn total_count(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<i64> {
                self.total.get(ctx).await
            }
        }
    };
}
pub(crate) use connection;

/// How a connection's `totalCount` is found when selected.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // One per connection, never held in bulk.
pub enum Total {
    /// Count the rows of this filtered select.
    Query(SelectStatement),
    /// Count a parent's children, batched with its siblings.
    Child { spec: u64, parent: i64 },
    /// Rows the caller may not see: none.
    Hidden,
}

impl Total {
    pub async fn get(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i64> {
        match self {
            Total::Query(q) => {
                let db = ctx.data::<DatabaseConnection>()?;
                super::list::count(db, q).await
            }
            Total::Child { spec, parent } => {
                let loader = ctx.data::<async_graphql::dataloader::DataLoader<ChildLoader>>()?;
                let key = CountKey {
                    spec: *spec,
                    parent: *parent,
                };
                Ok(loader.load_one(key).await?.unwrap_or(0))
            }
            Total::Hidden => Ok(0),
        }
    }
}

/// A nested list for many parents: `select` reads the child table as `t`, joined as needed,
/// with the filter applied; `parent` says which rows belong to which parent.
#[derive(Debug, Clone)]
pub struct ChildQuery {
    pub select: SelectStatement,
    pub parent: ParentOf,
    pub sort: Sort,
    /// A forward page: nested lists take `first/after` only.
    pub page: Page,
    /// Whether every parent has only a few children (a firm's identifiers: one per scheme
    /// and value), so that they are read for all parents by one `IN` list in the parent's
    /// order and each page is cut in memory, instead of a top-N per parent. Only with a
    /// [`ParentOf::Column`].
    pub few_children: bool,
}

/// How the rows of a nested list belong to their parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentOf {
    /// A column of each row (SQL over `t` or a joined alias, e.g. `t.organisation_id`) holds
    /// its parent's id.
    Column(String),
    /// A row belongs to a parent when this condition holds, `{parent}` standing for the
    /// parent's id: an `EXISTS` over a link table (the firms of a cluster), which lists each
    /// row once however many links it has and lets the planner walk the list's order index.
    Condition(String),
}

impl ParentOf {
    /// The condition that a row belongs to the parent whose id is the SQL `parent`.
    fn condition(&self, parent: &str) -> String {
        match self {
            ParentOf::Column(column) => format!("{column} = {parent}"),
            ParentOf::Condition(template) => template.replace("{parent}", parent),
        }
    }
}

impl From<String> for ParentOf {
    fn from(column: String) -> Self {
        ParentOf::Column(column)
    }
}

impl From<&str> for ParentOf {
    fn from(column: &str) -> Self {
        ParentOf::Column(column.to_owned())
    }
}

/// A page of children of one parent, as loaded: sort keys and the raw row mapped by `N`.
pub struct ChildKey<N> {
    pub spec: u64,
    pub parent: i64,
    _node: PhantomData<fn() -> N>,
}

impl<N> ChildKey<N> {
    pub fn new(spec: u64, parent: i64) -> Self {
        ChildKey {
            spec,
            parent,
            _node: PhantomData,
        }
    }
}

impl<N> Clone for ChildKey<N> {
    fn clone(&self) -> Self {
        ChildKey::new(self.spec, self.parent)
    }
}
impl<N> PartialEq for ChildKey<N> {
    fn eq(&self, o: &Self) -> bool {
        self.spec == o.spec && self.parent == o.parent
    }
}
impl<N> Eq for ChildKey<N> {}
impl<N> Hash for ChildKey<N> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.spec.hash(h);
        self.parent.hash(h);
    }
}

/// The key of a batched child count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountKey {
    pub spec: u64,
    pub parent: i64,
}

/// Node types that can be read from a row of their table.
pub trait FromRow: Sized + Clone + Send + Sync + 'static {
    /// The class of data the rows themselves are (loans, observations, persons...): a
    /// caller the policy does not allow it gets no rows of this type from any entry
    /// point (root and nested lists are empty with `totalCount` 0, `node` and relations
    /// `null`). `None`: rows anyone may list (their fields may still be protected).
    const ROWS_NEED: Option<super::policy::Protected> = None;

    /// For a caller scoped to clusters (`ids`: their ids, comma-separated), the SQL
    /// condition over the alias `t` of the rows it may see: those reachable from its
    /// clusters. `None`: rows not tied to clusters (reference data, programmes, published
    /// trade statistics), which every scope sees.
    fn scope(_t: &str, _ids: &str) -> Option<String> {
        None
    }

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr>;
}

/// The firm (organisation) `org` is a member of one of the clusters `ids`.
pub fn in_clusters(org: &str, ids: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM cluster_memberships cm_s WHERE cm_s.organisation_id = {org} \
         AND cm_s.cluster_id IN ({ids}))"
    )
}

/// What a caller scoped to the clusters `ids` (SQL: `1, 2`, or `NULL` for none) may see of
/// the table `table` aliased `x`: the condition over `x` of the rows reachable from its
/// clusters, or `None` for tables not tied to clusters (reference data, programmes,
/// published trade statistics). The one definition of what a scope reaches: listed types
/// ([`FromRow::scope`]) and relation filters ([`super::declare::related`]) both use it.
pub fn table_scope(table: &str, x: &str, ids: &str) -> Option<String> {
    let member = |org: &str| in_clusters(org, ids);
    Some(match table {
        "clusters" => format!("{x}.id IN ({ids})"),
        // Firms of the clusters; organisations that are not firms (agencies, providers)
        // are the programme's, visible to every scope.
        "organisations" => format!("({x}.kind <> 'firm' OR {})", member(&format!("{x}.id"))),
        "organisation_identifiers"
        | "firm_observations"
        | "organisation_source_records"
        | "plot_allotments"
        | "loans" => member(&format!("{x}.organisation_id")),
        "networks" | "training_events" => format!("{x}.cluster_id IN ({ids})"),
        "network_members" => format!(
            "EXISTS (SELECT 1 FROM networks n_s WHERE n_s.id = {x}.network_id \
             AND n_s.cluster_id IN ({ids}))"
        ),
        "participations" => format!(
            "EXISTS (SELECT 1 FROM training_events e_s WHERE e_s.id = {x}.training_event_id \
             AND e_s.cluster_id IN ({ids}))"
        ),
        "persons" => format!(
            "(EXISTS (SELECT 1 FROM participations p_s JOIN training_events e_s \
             ON e_s.id = p_s.training_event_id WHERE p_s.person_id = {x}.id \
             AND e_s.cluster_id IN ({ids})) OR EXISTS (SELECT 1 FROM affiliations a_s \
             WHERE a_s.person_id = {x}.id AND {}) OR EXISTS (SELECT 1 FROM loans l_s \
             WHERE l_s.borrower_person_id = {x}.id AND {}))",
            member("a_s.organisation_id"),
            member("l_s.organisation_id")
        ),
        "indicator_values" => format!(
            "({x}.cluster_id IN ({ids}) OR ({x}.organisation_id IS NOT NULL AND {}))",
            member(&format!("{x}.organisation_id"))
        ),
        "import_runs" => format!(
            "(EXISTS (SELECT 1 FROM organisation_source_records r_s WHERE r_s.import_run_id = \
             {x}.id AND {}) OR EXISTS (SELECT 1 FROM training_events e_s WHERE \
             e_s.import_run_id = {x}.id AND e_s.cluster_id IN ({ids})))",
            member("r_s.organisation_id")
        ),
        "import_row_errors" => format!(
            "(EXISTS (SELECT 1 FROM organisation_source_records r_s WHERE r_s.import_run_id = \
             {x}.import_run_id AND {}) OR EXISTS (SELECT 1 FROM training_events e_s WHERE \
             e_s.import_run_id = {x}.import_run_id AND e_s.cluster_id IN ({ids})))",
            member("r_s.organisation_id")
        ),
        _ => return None,
    })
}

/// The caller's clusters as SQL (`1, 2`; `NULL` for a scope of none), or `None` when it
/// is not scoped to clusters.
pub fn scope_ids(principal: Option<&super::principal::Principal>) -> Option<String> {
    super::declare::Scope::of(principal.and_then(|p| p.clusters.as_deref())).sql()
}

/// The scope condition of `N` for the request's caller (see [`FromRow::scope`]).
pub fn scope_of<N: FromRow>(ctx: &async_graphql::Context<'_>) -> Option<String> {
    let ids = scope_ids(ctx.data_opt::<super::principal::Principal>())?;
    N::scope(super::list::T, &ids)
}

/// Restricts `select` (the rows of `N` as `t`) to the caller's clusters, if scoped.
pub fn scoped<N: FromRow>(ctx: &async_graphql::Context<'_>, select: &mut SelectStatement) {
    if let Some(condition) = scope_of::<N>(ctx) {
        select.and_where(Expr::cust(condition));
    }
}

/// Whether the caller may see rows of `N` at all (see [`FromRow::ROWS_NEED`]).
pub fn rows_visible<N: FromRow>(ctx: &async_graphql::Context<'_>) -> bool {
    use super::NodeContext as _;
    N::ROWS_NEED.is_none_or(|what| ctx.allowed(what))
}

/// An empty page.
fn empty_page<N>() -> PageOf<N> {
    PageOf {
        items: Vec::new(),
        page_info: super::list::PageInfo {
            has_next_page: false,
            has_previous_page: false,
            start: None,
            end: None,
        },
    }
}

/// The per-request loader of nested lists.
pub struct ChildLoader {
    pub(crate) db: DatabaseConnection,
    specs: Mutex<HashMap<u64, Arc<ChildQuery>>>,
    /// The caller's clusters as SQL, when it is scoped (see [`scope_ids`]).
    pub(crate) scope: Option<String>,
}

impl ChildLoader {
    pub fn new(db: DatabaseConnection) -> Self {
        ChildLoader {
            db,
            specs: Mutex::new(HashMap::new()),
            scope: None,
        }
    }

    /// The loader of a caller scoped to clusters (`scope`: see [`scope_ids`]).
    pub fn scoped(mut self, scope: Option<String>) -> Self {
        self.scope = scope;
        self
    }

    /// Registers the query of a nested list field and returns its key. Siblings (the same
    /// field under every parent of a level) share one key: it is made from the field's
    /// position in the query document, which also fixes its arguments, so registering costs
    /// a hash, and the statement is built once per level (by the first parent; `build` is
    /// not called for its siblings), not once per parent.
    pub fn register(
        &self,
        key: u64,
        build: impl FnOnce() -> async_graphql::Result<ChildQuery>,
    ) -> async_graphql::Result<u64> {
        let mut specs = self.specs.lock().expect("loader lock");
        if let std::collections::hash_map::Entry::Vacant(e) = specs.entry(key) {
            e.insert(Arc::new(build()?));
        }
        Ok(key)
    }

    /// The key of the nested list field being resolved in `ctx`, for node type `N`.
    pub fn field_key<N: 'static>(ctx: &async_graphql::Context<'_>) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ctx.item.pos.line.hash(&mut h);
        ctx.item.pos.column.hash(&mut h);
        ctx.item.node.name.node.as_str().hash(&mut h);
        std::any::TypeId::of::<N>().hash(&mut h);
        h.finish()
    }

    fn spec(&self, spec: u64) -> Arc<ChildQuery> {
        self.specs.lock().expect("loader lock")[&spec].clone()
    }

    fn parents(keys: impl Iterator<Item = (u64, i64)>) -> HashMap<u64, Vec<i64>> {
        let mut by_spec: HashMap<u64, Vec<i64>> = HashMap::new();
        for (spec, parent) in keys {
            by_spec.entry(spec).or_default().push(parent);
        }
        by_spec
    }
}

/// Parents per statement on PostgreSQL: they travel as one text parameter, comma-separated.
const PG_PARENTS_PER_STATEMENT: usize = 1_000;
/// Parents per statement on SQLite: one `UNION ALL` arm each, up to SQLite's 500 arms of a
/// compound select (so a level of up to 500 parents is one statement, as on PostgreSQL);
/// fewer when each arm binds many values (SQLite binds 32,766 at most).
const SQLITE_PARENTS_PER_STATEMENT: usize = 500;
const SQLITE_MAX_VALUES: usize = 32_000;

/// The parent a per-parent select is made for.
#[derive(Debug, Clone, Copy)]
enum ParentRef {
    /// The row `p` of the parents split by `string_to_table` (PostgreSQL's `LATERAL`).
    Lateral,
    /// This parent, as a bound value (an arm of SQLite's `UNION ALL`).
    Id(i64),
}

impl ParentRef {
    /// The condition that a row belongs to this parent.
    fn condition(self, of: &ParentOf) -> SimpleExpr {
        match self {
            ParentRef::Lateral => Expr::cust(of.condition("p.__parent")),
            ParentRef::Id(id) => Expr::cust_with_values(of.condition("?"), [id]),
        }
    }
}

/// One statement per chunk of parents, each parent's rows selected by `per_parent` (the
/// child select with the parent's condition applied) and limited to `limit` rows:
///
/// - PostgreSQL: `(SELECT CAST(s AS BIGINT) AS __parent FROM string_to_table($ids, ',')
///   AS s) AS p CROSS JOIN LATERAL (per_parent)`,
///   so each parent's page is its own index-driven `ORDER BY … LIMIT` (a top-N per parent,
///   never a ranking of every child), under one statement text whatever the number of
///   parents. The parents are a text split by `string_to_table` (PostgreSQL 14 and newer)
///   rather than `unnest` of an array: PostgreSQL estimates `unnest` of a known array at
///   its length, so with 4 parents each custom plan looked 2.5 times cheaper than the
///   generic plan (which assumes 10) and the prepared statement was planned again on every
///   run (`pg_prepared_statements`: 7 custom plans of 7). `string_to_table` is estimated
///   at the same 1,000 rows either way, so after PostgreSQL's five custom plans the
///   generic plan is kept (5 custom, then generic). Four clusters' firms replayed 2,000
///   times from one client: 1.44-1.60 ms a run planned each time, 1.28-1.34 ms generic.
/// - SQLite, which has no `LATERAL`: the same per-parent select once per parent, joined by
///   `UNION ALL`, each arm planned on its own. The arms are numbered in the text (`__arm`)
///   rather than given their parent as a value, so that the text depends only on the
///   number of parents and the compiled statement is reused (see [`with_limit`]).
///
/// Each statement comes with its parents: a row's parent is `__parent` on PostgreSQL and
/// the parent of arm `__arm` on SQLite ([`row_parent`]). A parent's rows come in the order
/// of its page:
///
/// - on PostgreSQL, the statement is ordered by parent, then by `order` (SQL over the
///   per-parent select's columns, aliased `x`; [`outer_order`]);
/// - on SQLite, each arm's rows come in the arm's own `ORDER BY … LIMIT`, one arm after
///   the other, with no order over the whole `UNION ALL`. SQLite runs a `UNION ALL`
///   without `ORDER BY` arm by arm (`multiSelect`, read in the bundled 3.51 source), and a
///   subquery with `LIMIT` keeps its `ORDER BY`: SQLite drops a subquery's `ORDER BY`
///   only when it has no `LIMIT`, and never flattens a `LIMIT` subquery into an arm of a
///   compound (restriction 15 of `flattenSubquery`), so each arm reads it as a co-routine
///   in its order. An
///   outer `ORDER BY "__arm", "__k0", …` sorted again what was already in order, through
///   a sorter, and needed every row to carry copies of its sort keys even when no cursor
///   was asked for: without both, four clusters with 25 firms each went from 5.13 to 4.39
///   million instructions a request (`bench-graphql --instructions`). Callers group the
///   rows by parent, so the arms' order does not matter, only the order within an arm,
///   which a black-box test compares with the same pages read at the root
///   (`graphql_query::nested_pages_are_the_pages_of_the_same_list_at_the_root`).
fn per_parent(
    backend: DbBackend,
    parents: &[i64],
    per_parent: impl Fn(ParentRef) -> SelectStatement,
    limit: Option<u64>,
    order: Option<&str>,
) -> Vec<(Statement, Vec<i64>)> {
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    match backend {
        DbBackend::Postgres => {
            let (sql, values) = per_parent(ParentRef::Lateral).build(PostgresQueryBuilder);
            let n = values.0.len() + 1;
            parents
                .chunks(PG_PARENTS_PER_STATEMENT)
                .map(|chunk| {
                    let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>();
                    let mut values = values.clone();
                    values.0.push(Value::String(Some(ids.join(","))));
                    let sql = format!(
                        "SELECT p.__parent AS \"__parent\", x.* \
                         FROM (SELECT CAST(s AS BIGINT) AS __parent \
                         FROM string_to_table(${n}, ',') AS s) AS p \
                         CROSS JOIN LATERAL ({sql}{limit}) AS x ORDER BY {}",
                        std::iter::once("p.__parent")
                            .chain(order)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    (
                        Statement::from_sql_and_values(backend, sql, values),
                        chunk.to_vec(),
                    )
                })
                .collect()
        }
        _ => {
            let arm = |parent: i64| per_parent(ParentRef::Id(parent)).build(SqliteQueryBuilder);
            let values_per_arm = parents.first().map_or(1, |p| arm(*p).1.0.len()).max(1);
            let per_statement =
                (SQLITE_MAX_VALUES / values_per_arm).clamp(1, SQLITE_PARENTS_PER_STATEMENT);
            parents
                .chunks(per_statement)
                .map(|chunk| {
                    let mut sql = String::new();
                    let mut values = Vec::new();
                    for (i, parent) in chunk.iter().enumerate() {
                        let (arm_sql, arm_values) = arm(*parent);
                        if i > 0 {
                            sql.push_str(" UNION ALL ");
                        }
                        sql.push_str(&format!(
                            "SELECT {i} AS \"__arm\", a.* FROM ({arm_sql}{limit}) AS a"
                        ));
                        values.extend(arm_values.0);
                    }
                    (
                        Statement::from_sql_and_values(backend, sql, Values(values)),
                        chunk.to_vec(),
                    )
                })
                .collect()
        }
    }
}

/// The parent of a row read by a statement of [`per_parent`] for `parents`.
fn row_parent(
    backend: DbBackend,
    row: &QueryResult,
    parents: &[i64],
) -> Result<i64, sea_orm::DbErr> {
    if backend == DbBackend::Postgres {
        return row.try_get_by("__parent");
    }
    let arm: i64 = row.try_get_by("__arm")?;
    usize::try_from(arm)
        .ok()
        .and_then(|i| parents.get(i).copied())
        .ok_or_else(|| sea_orm::DbErr::Custom(format!("no parent for arm {arm}")))
}

/// Loads one page of children for every parent of `parents`: a top-N per parent (see
/// [`per_parent`]), one statement per chunk of parents.
async fn load_pages(
    db: &DatabaseConnection,
    q: &ChildQuery,
    parents: &[i64],
) -> Result<Vec<(i64, Vec<Json>, QueryResult)>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    if q.few_children
        && let ParentOf::Column(column) = &q.parent
    {
        return load_few(db, q, column, parents).await;
    }
    let statements = per_parent(
        backend,
        parents,
        |parent| {
            let mut select = q.select.clone();
            select.and_where(parent.condition(&q.parent));
            // PostgreSQL's outer order reads the keys; SQLite's arms keep their own order.
            let keys = q.page.cursors || backend == DbBackend::Postgres;
            super::list::paginate(&mut select, &q.sort, &q.page, backend, keys);
            select
        },
        Some(q.page.limit + 1),
        (backend == DbBackend::Postgres)
            .then(|| outer_order(&q.sort))
            .as_deref(),
    );
    let mut out = Vec::new();
    for (statement, chunk) in statements {
        for row in db.query_all_raw(statement).await? {
            let parent = row_parent(backend, &row, &chunk)?;
            let keys = row_keys(&row, &q.sort, &q.page)?;
            out.push((parent, keys, row));
        }
    }
    Ok(out)
}

/// The children of `parents` (few each) in one statement, `column IN (parents)` ordered by
/// parent then the list's order, each parent's page cut at its size here.
async fn load_few(
    db: &DatabaseConnection,
    q: &ChildQuery,
    column: &str,
    parents: &[i64],
) -> Result<Vec<(i64, Vec<Json>, QueryResult)>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let mut select = q.select.clone();
    select
        .and_where(Expr::cust(column.to_owned()).is_in(parents.iter().copied()))
        .expr_as(
            Expr::cust(format!("CAST({column} AS BIGINT)")),
            Alias::new("__parent"),
        )
        .order_by_expr(
            Expr::cust(column.to_owned()),
            sea_orm::sea_query::Order::Asc,
        );
    super::list::paginate(&mut select, &q.sort, &q.page, backend, q.page.cursors);
    let mut out: Vec<(i64, Vec<Json>, QueryResult)> = Vec::new();
    let mut current: Option<(i64, u64)> = None;
    for row in db.query_all(&select).await? {
        let parent: i64 = row.try_get_by("__parent")?;
        let seen = match current {
            Some((p, n)) if p == parent => n,
            _ => 0,
        };
        current = Some((parent, seen + 1));
        // One beyond the page tells that another page follows.
        if seen <= q.page.limit {
            let keys = row_keys(&row, &q.sort, &q.page)?;
            out.push((parent, keys, row));
        }
    }
    Ok(out)
}

/// The order of a page's rows over the sort-key columns `__k0, …` of the per-parent
/// select aliased `x` (PostgreSQL's statement of [`per_parent`]).
fn outer_order(sort: &Sort) -> String {
    sort.keys()
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let collate = if k.kind == KeyKind::Text {
                " COLLATE \"C\""
            } else {
                ""
            };
            format!(
                "x.\"__k{i}\"{collate} {}{}",
                if k.descending { "DESC" } else { "ASC" },
                k.nulls(false)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl<N: FromRow> Loader<ChildKey<N>> for ChildLoader {
    type Value = PageOf<N>;
    type Error = Error;

    async fn load(&self, keys: &[ChildKey<N>]) -> Result<HashMap<ChildKey<N>, PageOf<N>>, Error> {
        let mut out = HashMap::new();
        for (spec, parents) in ChildLoader::parents(keys.iter().map(|k| (k.spec, k.parent))) {
            let q = self.spec(spec);
            let rows = load_pages(&self.db, &q, &parents).await.map_err(internal)?;
            let mut grouped: HashMap<i64, Vec<(Vec<Json>, N)>> = HashMap::new();
            for (parent, k, row) in rows {
                grouped
                    .entry(parent)
                    .or_default()
                    .push((k, N::from_row(&row).map_err(internal)?));
            }
            for parent in parents {
                let rows = grouped.remove(&parent).unwrap_or_default();
                out.insert(
                    ChildKey::new(spec, parent),
                    finish_page(rows, &q.sort, &q.page),
                );
            }
        }
        Ok(out)
    }
}

impl Loader<CountKey> for ChildLoader {
    type Value = i64;
    type Error = Error;

    async fn load(&self, keys: &[CountKey]) -> Result<HashMap<CountKey, i64>, Error> {
        let mut out = HashMap::new();
        for (spec, parents) in ChildLoader::parents(keys.iter().map(|k| (k.spec, k.parent))) {
            let q = self.spec(spec);
            let statements = per_parent(
                self.db.get_database_backend(),
                &parents,
                |parent| {
                    let mut inner = q.select.clone();
                    inner.and_where(parent.condition(&q.parent));
                    Query::select()
                        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
                        .from_subquery(inner, Alias::new("c"))
                        .to_owned()
                },
                None,
                None,
            );
            let mut counts: HashMap<i64, i64> = HashMap::new();
            for (statement, chunk) in statements {
                for row in self.db.query_all_raw(statement).await.map_err(internal)? {
                    counts.insert(
                        row_parent(self.db.get_database_backend(), &row, &chunk)
                            .map_err(internal)?,
                        row.try_get_by("n").map_err(internal)?,
                    );
                }
            }
            for parent in parents {
                out.insert(
                    CountKey { spec, parent },
                    counts.get(&parent).copied().unwrap_or(0),
                );
            }
        }
        Ok(out)
    }
}

/// Loads the page of children of `parent` that `build` describes, batched with its
/// siblings; `build` runs once per level of siblings (see [`ChildLoader::register`]).
pub async fn child_page<N: FromRow>(
    ctx: &async_graphql::Context<'_>,
    parent: i64,
    build: impl FnOnce() -> async_graphql::Result<ChildQuery>,
) -> async_graphql::Result<(PageOf<N>, Total)> {
    if !rows_visible::<N>(ctx) {
        return Ok((empty_page(), Total::Hidden));
    }
    let loader = ctx.data::<async_graphql::dataloader::DataLoader<ChildLoader>>()?;
    // The scope is added once per level, when its statement is built (not per parent).
    let spec = loader
        .loader()
        .register(ChildLoader::field_key::<N>(ctx), || {
            let mut query = build()?;
            if let Some(condition) = scope_of::<N>(ctx) {
                query.select.and_where(Expr::cust(condition));
            }
            Ok(query)
        })?;
    let page = loader
        .load_one(ChildKey::<N>::new(spec, parent))
        .await?
        .unwrap_or_else(empty_page);
    Ok((page, Total::Child { spec, parent }))
}

/// What a nested list reads: `select` reads the child table as `t` with the filter
/// applied, `parent` says which rows belong to which parent, `sort` orders each page.
pub struct Nested {
    pub select: SelectStatement,
    pub parent: ParentOf,
    pub sort: Sort,
}

impl Nested {
    pub fn new(select: SelectStatement, parent: impl Into<ParentOf>, sort: Sort) -> Self {
        Nested {
            select,
            parent: parent.into(),
            sort,
        }
    }
}

/// Loads the page of children of `parent` that `first` and `after` ask for, of the nested
/// list `build` describes. Batched with the siblings of `parent`, like [`child_page`]: the
/// statement is built once per level, so `build` does the per-field work (the filter, the
/// order, the columns selected) and the per-parent cost is a hash and a map lookup.
pub async fn child_list<N: FromRow>(
    ctx: &async_graphql::Context<'_>,
    parent: i64,
    first: Option<i32>,
    after: Option<String>,
    build: impl FnOnce() -> async_graphql::Result<Nested>,
) -> async_graphql::Result<(PageOf<N>, Total)> {
    child_page(ctx, parent, || {
        let Nested {
            select,
            parent,
            sort,
        } = build()?;
        let mut page = PageArgs {
            first,
            after,
            ..Default::default()
        }
        .validate(&sort, ctx.limits())?;
        page.cursors = super::list::cursors_asked(ctx);
        Ok(ChildQuery {
            select,
            parent,
            sort,
            page,
            few_children: false,
        })
    })
    .await
}

/// Loads the page of a root list that `args` ask for: `select` reads the listed table as
/// `t` with the filter applied. Its `totalCount` counts the rows of `select` when selected.
pub async fn root_list<N: FromRow>(
    ctx: &async_graphql::Context<'_>,
    select: SelectStatement,
    sort: Sort,
    args: PageArgs,
) -> async_graphql::Result<(PageOf<N>, Total)> {
    let mut page = args.validate(&sort, ctx.limits())?;
    page.cursors = super::list::cursors_asked(ctx);
    if !rows_visible::<N>(ctx) {
        return Ok((empty_page(), Total::Hidden));
    }
    let mut select = select;
    scoped::<N>(ctx, &mut select);
    if let Some(change) = args.changed_since {
        if change < 0 {
            return Err(super::list::bad_input(
                "`changedSince` is a change number, 0 or more.",
            ));
        }
        select.and_where(Expr::cust(format!(
            "{}.change_seq > {change}",
            super::list::T
        )));
    }
    let db = ctx.data::<DatabaseConnection>()?;
    let page = fetch(db, select.clone(), &sort, &page, N::from_row).await?;
    Ok((page, Total::Query(select)))
}

/// Reads at most one row of `select` as `N`.
pub async fn one<N: FromRow>(
    db: &DatabaseConnection,
    select: SelectStatement,
) -> async_graphql::Result<Option<N>> {
    let row = db.query_one(&select).await.map_err(internal)?;
    row.map(|r| N::from_row(&r)).transpose().map_err(internal)
}

/// Node types with a base select (the table aliased `t`, and whatever computed columns the
/// type reads), so that single rows can be loaded by id in batches.
pub trait Listed: FromRow {
    fn select() -> SelectStatement;
}

/// A node type listed with a declared filter and order (see [`super::declare`]): what the
/// generic list resolvers [`list_of`] and [`nested_of`] need.
pub trait Listing: Listed {
    /// The type's filter input.
    type Filter: super::declare::RowFilter + Sync;
    /// The type's order input.
    type Order: super::list::OrderInput + Sync;
    /// The order of a list when the client asks for none (the id always ends it).
    fn default_order() -> Vec<super::list::SortKey>;
}

/// A root list of `N`: `select` (usually `N::select()`, perhaps with a condition of its
/// own) with the client's filter, order and page.
pub async fn list_of<N: Listing>(
    ctx: &async_graphql::Context<'_>,
    mut select: SelectStatement,
    filter: Option<&N::Filter>,
    order_by: Option<&[N::Order]>,
    args: PageArgs,
) -> async_graphql::Result<(PageOf<N>, Total)> {
    // A firm (or organisation) filter nested in this list's filter reads no more than the
    // caller may see.
    super::check_arguments(ctx, super::FIRM_PROTECTED_ARGUMENTS)?;
    if let Some(f) = filter {
        select.cond_where(f.row_condition(super::list::T, ctx.level())?);
    }
    let sort = super::list::sort_of(order_by, N::default_order());
    root_list(ctx, select, sort, args).await
}

/// A nested list of `N` under the parent `parent`: `select` (built by the closure, once
/// per level) reads the children as `t` (joined as needed), `parent_of` says which rows
/// belong to which parent. Batched with the siblings of `parent`, like [`child_list`].
#[allow(clippy::too_many_arguments)]
pub async fn nested_of<N: Listing>(
    ctx: &async_graphql::Context<'_>,
    select: impl FnOnce() -> SelectStatement,
    parent_of: impl Into<ParentOf>,
    parent: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<&N::Filter>,
    order_by: Option<&[N::Order]>,
) -> async_graphql::Result<(PageOf<N>, Total)> {
    super::check_arguments(ctx, super::FIRM_PROTECTED_ARGUMENTS)?;
    child_list(ctx, parent, first, after, || {
        let mut select = select();
        if let Some(f) = filter {
            select.cond_where(f.row_condition(super::list::T, ctx.level())?);
        }
        let sort = super::list::sort_of(order_by, N::default_order());
        Ok(Nested::new(select, parent_of, sort))
    })
    .await
}

/// Declares a root query object whose fields are lists of [`Listing`] types: each field
/// takes `first/after/last/before`, the type's filter and order, and returns its
/// connection, through [`list_of`].
///
/// ```text
/// root_lists! {
///     /// Root fields of the registry records.
///     pub struct RegistryQuery {
///         /// Loans to units, the most recently sanctioned first.
///         loans: Loan => LoanConnection,
///     }
/// }
/// ```
macro_rules! root_lists {
    (
        $(#[$qmeta:meta])*
        pub struct $query:ident {
            $(
                $(#[$meta:meta])*
                $field:ident : $node:ty => $conn:ty
            ),* $(,)?
        }
    ) => {
        $(#[$qmeta])*
        #[derive(Debug, Default)]
        pub struct $query;

        #[async_graphql::Object]
        impl $query {
            $(
                $(#[$meta])*
                #[allow(clippy::too_many_arguments)]
                async fn $field(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    first: Option<i32>,
                    after: Option<String>,
                    last: Option<i32>,
                    before: Option<String>,
                    filter: Option<<$node as $crate::graphql::connection::Listing>::Filter>,
                    order_by: Option<Vec<<$node as $crate::graphql::connection::Listing>::Order>>,
                    #[graphql(desc = "Only the rows written after this change number (their `changeSeq` is larger): an incremental pull, see README \"Use it from your BI tool\".")]
                    changed_since: Option<i64>,
                ) -> async_graphql::Result<$conn> {
                    let args = $crate::graphql::list::PageArgs::new(first, after, last, before)
                        .changed_since(changed_since);
                    $crate::graphql::connection::list_of::<$node>(
                        ctx,
                        <$node as $crate::graphql::connection::Listed>::select(),
                        filter.as_ref(),
                        order_by.as_deref(),
                        args,
                    )
                    .await
                    .map(Into::into)
                }
            )*
        }
    };
}
pub(crate) use root_lists;

/// The key of a batched by-id load of a node of type `N`.
pub struct RowKey<N> {
    pub id: i64,
    _node: PhantomData<fn() -> N>,
}

impl<N> RowKey<N> {
    pub fn new(id: i64) -> Self {
        RowKey {
            id,
            _node: PhantomData,
        }
    }
}

impl<N> Clone for RowKey<N> {
    fn clone(&self) -> Self {
        RowKey::new(self.id)
    }
}
impl<N> PartialEq for RowKey<N> {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id
    }
}
impl<N> Eq for RowKey<N> {}
impl<N> Hash for RowKey<N> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl<N: Listed> Loader<RowKey<N>> for ChildLoader {
    type Value = N;
    type Error = Error;

    async fn load(&self, keys: &[RowKey<N>]) -> Result<HashMap<RowKey<N>, N>, Error> {
        let mut select = N::select();
        select.and_where(
            Expr::cust(format!("{}.id", super::list::T)).is_in(keys.iter().map(|k| k.id)),
        );
        if let Some(condition) = self
            .scope
            .as_deref()
            .and_then(|ids| N::scope(super::list::T, ids))
        {
            select.and_where(Expr::cust(condition));
        }
        select.expr_as(
            Expr::cust(format!("{}.id", super::list::T)),
            Alias::new("__id"),
        );
        let rows = self.db.query_all(&select).await.map_err(internal)?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get_by("__id").map_err(internal)?;
            out.insert(RowKey::new(id), N::from_row(&row).map_err(internal)?);
        }
        Ok(out)
    }
}

/// Loads the node `id` of type `N` (a belongs-to relation), batched with its siblings.
pub async fn load_row<N: Listed>(
    ctx: &async_graphql::Context<'_>,
    id: Option<i64>,
) -> async_graphql::Result<Option<N>> {
    let Some(id) = id else { return Ok(None) };
    if !rows_visible::<N>(ctx) {
        return Ok(None);
    }
    let loader = ctx.data::<async_graphql::dataloader::DataLoader<ChildLoader>>()?;
    loader.load_one(RowKey::<N>::new(id)).await
}
