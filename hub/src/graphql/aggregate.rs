//! What every aggregate field shares (`tradeFlowsAggregate` first; the statistics of firms
//! and training follow the same conventions):
//!
//! - every argument is optional; no `groupBy` is one group over everything the filter
//!   selects;
//! - each group has a `keys` object with one nullable field per dimension, set for the
//!   dimensions asked;
//! - `having` takes the typed operators of filters on the measures
//!   (`having: {count: {gte: 5}, sumValueUsd: {gte: 1e6}}`);
//! - `orderBy` orders by measures or by the keys asked (keys ascending by default, NULLs
//!   last, text in byte order on both engines), `first` caps the groups returned
//!   ([`DEFAULT_GROUPS`], at most [`MAX_GROUPS`]) and `totalGroups` says how many there were;
//! - the groups come from one SQL statement (`GROUP BY … HAVING … ORDER BY … LIMIT`), so
//!   the cost model counts an aggregate once, whatever its number of groups (a field taking
//!   `groupBy` is not a list there, see [`super::document`]).

use async_graphql::Error;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Condition, Expr, JoinType, NullOrdering, Order, SelectStatement};

use super::filter::{ColumnFilter, OrderDirection};
use super::list::{bad_input, internal};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, QueryResult};

/// Groups returned when `first` is not given.
pub const DEFAULT_GROUPS: i32 = 1_000;
/// The most groups one answer returns.
pub const MAX_GROUPS: i32 = 10_000;

/// The number of groups to return for `first`.
pub fn group_limit(first: Option<i32>) -> Result<u64, Error> {
    match first {
        None => Ok(DEFAULT_GROUPS as u64),
        Some(n) if (0..=MAX_GROUPS).contains(&n) => Ok(n as u64),
        Some(n) => Err(bad_input(format!(
            "`first` is {n}: an aggregate returns 0 to {MAX_GROUPS} groups."
        ))),
    }
}

/// The SQL of the parts of a date column that period dimensions group by, per engine.
#[derive(Debug, Clone, Copy)]
pub struct DateParts {
    pub backend: DbBackend,
}

impl DateParts {
    /// The calendar year of `column`, as a 64-bit integer.
    pub fn year(self, column: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("CAST(EXTRACT(YEAR FROM {column}) AS BIGINT)"),
            _ => format!("CAST(strftime('%Y', {column}) AS INTEGER)"),
        }
    }

    /// The month (1-12) of `column`, as a 64-bit integer.
    pub fn month(self, column: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("CAST(EXTRACT(MONTH FROM {column}) AS BIGINT)"),
            _ => format!("CAST(strftime('%m', {column}) AS INTEGER)"),
        }
    }

    /// The quarter (1-4) of `column`.
    pub fn quarter(self, column: &str) -> String {
        format!("(({} - 1) / 3 + 1)", self.month(column))
    }

    /// The first calendar year of the Pakistan fiscal year (July-June) `column` falls in.
    pub fn fiscal_year(self, column: &str) -> String {
        format!(
            "({} - CASE WHEN {} < 7 THEN 1 ELSE 0 END)",
            self.year(column),
            self.month(column)
        )
    }

    /// `sql` as a text sort key in byte order on both engines.
    pub fn text_key(self, sql: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("{sql} COLLATE \"C\""),
            _ => sql.to_owned(),
        }
    }
}

/// Adds `filter` on the aggregate expression `measure_sql` to the `HAVING` of `select`.
pub fn having<F: ColumnFilter>(
    conditions: &mut Condition,
    filter: Option<&F>,
    measure_sql: &str,
) -> Result<(), Error> {
    if let Some(f) = filter {
        *conditions =
            std::mem::replace(conditions, Condition::all()).add(f.condition(measure_sql)?);
    }
    Ok(())
}

/// Orders `select` by `sql`, NULLs last whatever the direction.
pub fn order_by(select: &mut SelectStatement, sql: &str, direction: OrderDirection) {
    let order = match direction {
        OrderDirection::Asc => Order::Asc,
        OrderDirection::Desc => Order::Desc,
    };
    select.order_by_expr_with_nulls(Expr::cust(sql.to_owned()), order, NullOrdering::Last);
}

/// An aggregate's group count over the groups its `HAVING` keeps, on every row.
pub const TOTAL_GROUPS: &str = "COUNT(*) OVER ()";

/// A dimension an aggregate groups by.
pub trait Dimension: Copy + PartialEq + std::fmt::Debug {
    /// The SQL expressions of its key (one, or two for a quarter or a month: the year and
    /// the number), over the aggregate's table `t` and the join of [`Self::join`].
    fn sql(self, parts: DateParts) -> Vec<String>;
    /// Whether the key is text (sorted in byte order).
    fn is_text(self) -> bool;
    /// The table it joins: (table, alias, join condition).
    fn join(self) -> Option<(&'static str, &'static str, String)>;
}

/// Adds the keys of `dims` to `select` (selected as `k{i}_{j}`, grouped by, their tables
/// joined once each) and returns the column names of each dimension's key.
pub fn group_by<D: Dimension>(
    select: &mut SelectStatement,
    dims: &[D],
    parts: DateParts,
) -> Vec<(D, Vec<String>)> {
    let mut joined: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        if let Some((table, alias, on)) = d.join()
            && !joined.contains(&alias)
        {
            select.join_as(
                JoinType::LeftJoin,
                Alias::new(table),
                Alias::new(alias),
                Expr::cust(on),
            );
            joined.push(alias);
        }
        let mut names = Vec::new();
        for (j, sql) in d.sql(parts).into_iter().enumerate() {
            let name = format!("k{i}_{j}");
            select.expr_as(Expr::cust(sql.clone()), Alias::new(&name));
            select.add_group_by([Expr::cust(sql)]);
            names.push(name);
        }
        out.push((*d, names));
    }
    out
}

/// Orders `select` by the key of `d`.
pub fn order_by_key<D: Dimension>(
    select: &mut SelectStatement,
    d: D,
    parts: DateParts,
    direction: OrderDirection,
) {
    for sql in d.sql(parts) {
        let sql = if d.is_text() {
            parts.text_key(&sql)
        } else {
            sql
        };
        order_by(select, &sql, direction);
    }
}

/// Orders the groups of `select` by `order` (a measure's SQL, or a dimension, which must be
/// grouped by; `field` names it in the refusal), then by every key ascending, so that the
/// order is total; caps them at `limit`; runs the statement. Returns its rows and
/// `totalGroups` (read from [`TOTAL_GROUPS`], selected as `m_total_groups`).
pub async fn run_groups<D: Dimension>(
    db: &DatabaseConnection,
    mut select: SelectStatement,
    dims: &[D],
    parts: DateParts,
    order: impl IntoIterator<Item = (Result<String, D>, OrderDirection, String)>,
    limit: u64,
) -> Result<(Vec<QueryResult>, i64), Error> {
    for (target, direction, field) in order {
        match target {
            Ok(measure) => order_by(&mut select, &measure, direction),
            Err(d) if dims.contains(&d) => order_by_key(&mut select, d, parts, direction),
            Err(_) => return Err(not_grouped(field)),
        }
    }
    for d in dims {
        order_by_key(&mut select, *d, parts, OrderDirection::Asc);
    }
    select.limit(limit);
    let rows = db.query_all(&select).await.map_err(internal)?;
    let total = match rows.first() {
        Some(r) => r.try_get_by::<i64, _>("m_total_groups").map_err(internal)?,
        None => 0,
    };
    Ok((rows, total))
}

/// Checks a `groupBy` list: each dimension at most once.
pub fn dimensions<D: Copy + PartialEq + std::fmt::Debug>(
    group_by: Option<Vec<D>>,
) -> Result<Vec<D>, Error> {
    let mut dims: Vec<D> = Vec::new();
    for d in group_by.unwrap_or_default() {
        if dims.contains(&d) {
            return Err(bad_input(format!("`groupBy` names {d:?} twice.")));
        }
        dims.push(d);
    }
    Ok(dims)
}

/// The refusal of an order by a key not grouped by.
fn not_grouped(field: String) -> Error {
    bad_input(format!(
        "`orderBy` names {field}, which `groupBy` does not: order by a measure or a key \
         grouped by."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_limits() {
        assert_eq!(group_limit(None).unwrap(), DEFAULT_GROUPS as u64);
        assert_eq!(group_limit(Some(0)).unwrap(), 0);
        assert_eq!(group_limit(Some(MAX_GROUPS)).unwrap(), MAX_GROUPS as u64);
        assert!(group_limit(Some(MAX_GROUPS + 1)).is_err());
        assert!(group_limit(Some(-1)).is_err());
    }
}
