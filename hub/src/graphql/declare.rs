//! Declaring a list type: its filter input and its order input from one table each.
//!
//! A filter is declared with [`filter_input!`]: one line per field, naming the field's
//! input type and what it filters ([`On`]: a column, an expression, an admin area's name,
//! the year of a date, a related row...). The macro writes the input type (with `and`,
//! `or` and `not`), its SQL condition and how it treats a row that is not there (see
//! [`FilterField::matches_absent`]). An order is declared with [`order_input!`]: one line
//! per key with its SQL and the kind of its values. A new list type is then a table of
//! fields, a table of keys and its resolvers (see `types/registry.rs` for one), not a page
//! of plumbing.
//!
//! Every operator becomes a bound parameter; nothing the client sends is pasted into SQL.

use async_graphql::Error;
use hub_schema::domain::normalise_name;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait as _, Query, SelectStatement, SimpleExpr, Value,
};

use super::filter::{
    BooleanFilter, ColumnFilter, DateFilter, FloatFilter, IdFilter, IntFilter, StringFilter,
};

/// What one field of a filter input filters, over the alias of the filtered table.
#[derive(Debug, Clone, Copy)]
pub enum On {
    /// A column of the table.
    Column(&'static str),
    /// An SQL expression over the table's alias.
    Sql(fn(&str) -> String),
    /// The global id of the row, of this type.
    Id(&'static str),
    /// The name of the admin area whose id is in this column. `eq`, `ne`, `in` and `notIn`
    /// ignore case and punctuation and accept every spelling the admin-area synonyms know
    /// (`KASUR`, `Kasur`); the other operators compare the name.
    AreaName(&'static str),
    /// The year a period starts in, from this date column: the calendar year, or the first
    /// year of a fiscal year (`FY2017-18` is 2017).
    YearOf(&'static str),
    /// The filter's input reads the table's alias itself (e.g. the HS code of a flow).
    Table,
    /// A code of a related table: `fk IN (SELECT x.id FROM table x WHERE x.column …)`.
    Lookup {
        table: &'static str,
        fk: &'static str,
        column: &'static str,
        alias: &'static str,
    },
    /// The row a foreign key points to: `EXISTS (SELECT 1 FROM table x WHERE x.id = fk
    /// AND extra AND …)`. A row whose (nullable) key is empty matches when the filter
    /// matches a row that is not there (`{slug: {isNull: true}}`).
    BelongsTo {
        table: &'static str,
        fk: &'static str,
        alias: &'static str,
        /// Further conditions on the related row, over `{x}` (its alias).
        extra: &'static str,
    },
    /// Rows of another table pointing at this one: `EXISTS (SELECT 1 FROM table x WHERE
    /// x.fk = id AND extra AND …)`. A row with none matches when the filter matches a row
    /// that is not there.
    HasMany {
        table: &'static str,
        fk: &'static str,
        alias: &'static str,
        extra: &'static str,
    },
    /// Rows of a table reached through a link table (`link.from = id`, `link.to = x.id`),
    /// e.g. a firm's clusters through its memberships. A row with no link matches when the
    /// filter matches a row that is not there.
    Through {
        link: &'static str,
        from: &'static str,
        to: &'static str,
        table: &'static str,
        alias: &'static str,
        extra: &'static str,
    },
}

/// Where a filter's condition is written: the nesting depth of its subqueries (which keeps
/// their aliases apart: `fc0`, `fc1`, …) and the engine the statement is for, where the
/// best form of a condition differs between them (see [`related`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub depth: usize,
    pub backend: sea_orm::DbBackend,
    /// The clusters of a scoped caller: a relation filter tests only the related rows the
    /// caller may see, so that it cannot learn about rows outside its scope.
    pub scope: Scope,
}

impl Level {
    /// The top level of a statement for `backend`.
    pub fn root(backend: sea_orm::DbBackend) -> Self {
        Level {
            depth: 0,
            backend,
            scope: Scope::default(),
        }
    }

    /// The same level for a caller scoped to `scope`.
    pub fn scoped(self, scope: Scope) -> Self {
        Level { scope, ..self }
    }
}

/// The most clusters a key or token may be scoped to.
pub const MAX_SCOPE_CLUSTERS: usize = 32;

/// The cluster ids of a scoped caller, kept inline so that [`Level`] stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    scoped: bool,
    len: u8,
    ids: [i64; MAX_SCOPE_CLUSTERS],
}

impl Scope {
    /// The scope of a caller's clusters (`None`: not scoped). More ids than
    /// [`MAX_SCOPE_CLUSTERS`] cannot be made (keys and tokens are refused); if they were,
    /// the scope would see nothing rather than too much.
    pub fn of(ids: Option<&[i64]>) -> Scope {
        let Some(ids) = ids else {
            return Scope::default();
        };
        let mut scope = Scope {
            scoped: true,
            ..Scope::default()
        };
        if ids.len() <= MAX_SCOPE_CLUSTERS {
            scope.ids[..ids.len()].copy_from_slice(ids);
            scope.len = ids.len() as u8;
        }
        scope
    }

    /// The ids as SQL (`1, 2`, or `NULL` for none), or `None` when not scoped.
    pub fn sql(&self) -> Option<String> {
        if !self.scoped {
            return None;
        }
        let ids = &self.ids[..usize::from(self.len)];
        Some(if ids.is_empty() {
            "NULL".to_owned()
        } else {
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// The condition over `x` of the rows of `table` this scope reaches, if any.
    fn condition(&self, table: &str, x: &str) -> Option<String> {
        super::connection::table_scope(table, x, &self.sql()?)
    }
}

impl std::ops::Add<usize> for Level {
    type Output = Level;
    fn add(self, n: usize) -> Level {
        Level {
            depth: self.depth + n,
            ..self
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.depth)
    }
}

/// A field of a filter input: its condition on what [`On`] names, and whether a row that
/// is not there (an empty foreign key, a firm in no cluster) matches it.
pub trait FilterField {
    /// The condition over the table aliased `a`; `level` keeps the aliases of nested
    /// subqueries apart.
    fn condition(&self, on: &On, a: &str, level: Level) -> Result<Condition, Error>;

    /// Whether a missing row matches: every field of a missing row is NULL, so `isNull:
    /// true` matches and any comparison does not (as in SQL); `not` turns the answer
    /// round. An empty filter matches everything.
    fn matches_absent(&self) -> bool;
}

/// The SQL of a scalar field over the alias `a`.
pub fn scalar_sql(on: &On, a: &str) -> Result<String, Error> {
    match on {
        On::Column(c) => Ok(format!("{a}.{c}")),
        On::Sql(f) => Ok(f(a)),
        On::AreaName(c) => Ok(super::list::admin_area_name_sql(&format!("{a}.{c}"))),
        _ => Err(super::list::internal(format!(
            "a scalar filter cannot filter {on:?}"
        ))),
    }
}

/// Whether any of these operators of a filter input is given.
macro_rules! any_given {
    ($f:expr; $($op:ident),+) => {
        false $(|| $f.$op.is_some())+
    };
}

/// Whether a NULL satisfies every operator given: only `isNull: true` (or nothing) does.
fn null_matches(other_operators: bool, is_null: Option<bool>) -> bool {
    !other_operators && is_null != Some(false)
}

/// `fk IN (SELECT x.id FROM table x WHERE condition on x.column)`.
fn lookup(
    filter: &impl ColumnFilter,
    table: &str,
    fk: &str,
    column: &str,
    alias: &str,
) -> Result<Condition, Error> {
    let mut sub = Query::select();
    sub.expr(Expr::cust(format!("{alias}.id")))
        .from_as(Alias::new(table), Alias::new(alias))
        .cond_where(filter.condition(&format!("{alias}.{column}"))?);
    Ok(Condition::all().add(Expr::cust(fk.to_owned()).in_subquery(sub)))
}

/// The ids of the admin areas called `name` in any spelling the hub knows.
fn areas_named(names: &[String], level: Level) -> SelectStatement {
    let keys: Vec<Value> = names
        .iter()
        .map(|n| Value::from(normalise_name(n)))
        .collect();
    let (n, s) = (format!("an{level}"), format!("as{level}"));
    let mut by_synonym = Query::select();
    by_synonym
        .expr(Expr::cust(format!("{s}.admin_area_id")))
        .from_as(Alias::new("admin_area_synonyms"), Alias::new(&s))
        .and_where(Expr::cust(format!("{s}.synonym_key")).is_in(keys.clone()));
    let mut q = Query::select();
    q.expr(Expr::cust(format!("{n}.id")))
        .from_as(Alias::new("admin_areas"), Alias::new(&n))
        .and_where(Expr::cust(format!("{n}.name_key")).is_in(keys))
        .union(sea_orm::sea_query::UnionType::All, by_synonym);
    q
}

impl StringFilter {
    /// The operators other than `isNull` that are given.
    fn has_comparisons(&self) -> bool {
        any_given!(self; eq, ne, r#in, not_in, lt, lte, gt, gte, contains, starts_with)
    }

    /// The condition on an admin area's name: the equality operators by the area's id,
    /// whatever the spelling; the others on the name.
    fn area_condition(&self, id_column: &str, level: Level) -> Result<Condition, Error> {
        let id = || Expr::cust(id_column.to_owned());
        let mut c = Condition::all();
        if let Some(v) = &self.eq {
            c = c.add(id().in_subquery(areas_named(std::slice::from_ref(v), level)));
        }
        if let Some(v) = &self.r#in {
            c = c.add(id().in_subquery(areas_named(v, level)));
        }
        if let Some(v) = &self.ne {
            c = c
                .add(id().is_not_null())
                .add(id().not_in_subquery(areas_named(std::slice::from_ref(v), level)));
        }
        if let Some(v) = &self.not_in {
            c = c
                .add(id().is_not_null())
                .add(id().not_in_subquery(areas_named(v, level)));
        }
        let rest = StringFilter {
            eq: None,
            ne: None,
            r#in: None,
            not_in: None,
            ..self.clone()
        };
        Ok(c.add(ColumnFilter::condition(
            &rest,
            &super::list::admin_area_name_sql(id_column),
        )?))
    }
}

impl FilterField for StringFilter {
    fn condition(&self, on: &On, a: &str, level: Level) -> Result<Condition, Error> {
        match on {
            On::AreaName(c) => self.area_condition(&format!("{a}.{c}"), level),
            On::Lookup {
                table,
                fk,
                column,
                alias,
            } => lookup(
                self,
                table,
                &format!("{a}.{fk}"),
                column,
                &format!("{alias}{level}"),
            ),
            on => ColumnFilter::condition(self, &scalar_sql(on, a)?),
        }
    }

    fn matches_absent(&self) -> bool {
        null_matches(self.has_comparisons(), self.is_null)
    }
}

impl FilterField for IntFilter {
    fn condition(&self, on: &On, a: &str, _level: Level) -> Result<Condition, Error> {
        match on {
            On::YearOf(c) => Ok(super::types::trade::year_condition(
                self,
                &format!("{a}.{c}"),
            )),
            on => ColumnFilter::condition(self, &scalar_sql(on, a)?),
        }
    }

    fn matches_absent(&self) -> bool {
        null_matches(
            any_given!(self; eq, ne, r#in, not_in, lt, lte, gt, gte),
            self.is_null,
        )
    }
}

/// [`FilterField`] for the scalar filters whose operators are the ordered ones.
macro_rules! ordered_filter_field {
    ($($filter:ty),+) => {$(
        impl FilterField for $filter {
            fn condition(&self, on: &On, a: &str, _level: $crate::graphql::declare::Level) -> Result<Condition, Error> {
                ColumnFilter::condition(self, &scalar_sql(on, a)?)
            }

            fn matches_absent(&self) -> bool {
                null_matches(
                    any_given!(self; eq, ne, r#in, not_in, lt, lte, gt, gte),
                    self.is_null,
                )
            }
        }
    )+};
}

ordered_filter_field!(FloatFilter, DateFilter);

impl FilterField for BooleanFilter {
    fn condition(&self, on: &On, a: &str, _level: Level) -> Result<Condition, Error> {
        ColumnFilter::condition(self, &scalar_sql(on, a)?)
    }

    fn matches_absent(&self) -> bool {
        null_matches(self.eq.is_some(), self.is_null)
    }
}

impl FilterField for IdFilter {
    fn condition(&self, on: &On, a: &str, _level: Level) -> Result<Condition, Error> {
        match on {
            On::Id(type_name) => self.condition_for(&format!("{a}.id"), type_name),
            other => Err(super::list::internal(format!(
                "an id filter cannot filter {other:?}"
            ))),
        }
    }

    fn matches_absent(&self) -> bool {
        null_matches(any_given!(self; eq, ne, r#in, not_in), self.is_null)
    }
}

/// A filter on a related row (the filter inputs [`filter_input!`] declares).
pub trait RowFilter {
    /// The condition over the table aliased `a`.
    fn row_condition(&self, a: &str, level: Level) -> Result<Condition, Error>;
    /// See [`FilterField::matches_absent`].
    fn row_matches_absent(&self) -> bool;
}

/// `column IN (ids)`, where `ids` selects the ids of the rows of a related table that match
/// a filter (not correlated with the outer row), found once per statement.
///
/// On PostgreSQL it is written `column = ANY(ARRAY(ids))`: an InitPlan, run before the
/// main plan, which the planner estimates as a short list of unknown values. Written as
/// `IN` (or as a join in an `EXISTS`) it becomes a semi-join to the related table, whose
/// estimate for a small table such as the clusters is far too low (36 firms of a cluster
/// where there are 3,700), and the planner then sorts every member of the cluster instead
/// of reading the firms along the name index until the page is full (ten times slower).
/// SQLite runs a non-correlated `IN` subquery once in any case.
fn in_ids(level: Level, column: String, ids: SelectStatement) -> SimpleExpr {
    match level.backend {
        sea_orm::DbBackend::Postgres => {
            let array = sea_orm::sea_query::Func::cust("ARRAY")
                .arg(SimpleExpr::SubQuery(None, Box::new(ids.into())));
            Expr::cust(column).eq(sea_orm::sea_query::Func::cust("ANY").arg(array))
        }
        _ => Expr::cust(column).in_subquery(ids),
    }
}

/// The condition of a row filter on the rows [`On`] relates to the table aliased `a`.
pub fn related<F: RowFilter>(f: &F, on: &On, a: &str, level: Level) -> Result<Condition, Error> {
    let absent = f.row_matches_absent();
    // The rows of `table` (aliased `x`) that meet `extra` and the filter.
    // A scoped caller's filter tests only the related rows it may see.
    let matching = |mut sub: SelectStatement,
                    table: &str,
                    x: &str,
                    extra: &str|
     -> Result<SelectStatement, Error> {
        if !extra.is_empty() {
            sub.and_where(Expr::cust(extra.replace("{x}", x)));
        }
        if let Some(scope) = level.scope.condition(table, x) {
            sub.and_where(Expr::cust(scope));
        }
        sub.cond_where(f.row_condition(x, level + 1)?);
        Ok(sub)
    };
    // The ids of the rows of `table` that meet `extra` and the filter.
    let ids = |table: &str, x: &str, extra: &str| -> Result<SelectStatement, Error> {
        let mut sub = Query::select();
        sub.expr(Expr::cust(format!("{x}.id")))
            .from_as(Alias::new(table), Alias::new(x));
        matching(sub, table, x, extra)
    };
    let (found, missing) = match *on {
        On::BelongsTo {
            table,
            fk,
            alias,
            extra,
        } => {
            let x = format!("{alias}{level}");
            // An empty key is not found (false, as `EXISTS` would say), never unknown:
            // `NULL IN (…)` is NULL, and `not` of it would match nothing.
            let found = Condition::all()
                .add(Expr::cust(format!("{a}.{fk}")).is_not_null())
                .add(in_ids(level, format!("{a}.{fk}"), ids(table, &x, extra)?));
            (
                SimpleExpr::from(found),
                Expr::cust(format!("{a}.{fk}")).is_null(),
            )
        }
        On::HasMany {
            table,
            fk,
            alias,
            extra,
        } => {
            let x = format!("{alias}{level}");
            let mut sub = Query::select();
            sub.expr(Expr::cust("1"))
                .from_as(Alias::new(table), Alias::new(&x))
                .and_where(Expr::cust(format!("{x}.{fk} = {a}.id")));
            let mut none = Query::select();
            none.expr(Expr::cust("1"))
                .from_as(Alias::new(table), Alias::new(format!("{x}n")))
                .and_where(Expr::cust(format!("{x}n.{fk} = {a}.id")));
            if !extra.is_empty() {
                none.and_where(Expr::cust(extra.replace("{x}", &format!("{x}n"))));
            }
            if let Some(scope) = level.scope.condition(table, &format!("{x}n")) {
                none.and_where(Expr::cust(scope));
            }
            (
                Expr::exists(matching(sub, table, &x, extra)?),
                Expr::exists(none).not(),
            )
        }
        On::Through {
            link,
            from,
            to,
            table,
            alias,
            extra,
        } => {
            let (l, x) = (format!("{alias}l{level}"), format!("{alias}{level}"));
            let mut sub = Query::select();
            sub.expr(Expr::cust("1"))
                .from_as(Alias::new(link), Alias::new(&l))
                .and_where(Expr::cust(format!("{l}.{from} = {a}.id")))
                .and_where(in_ids(level, format!("{l}.{to}"), ids(table, &x, extra)?));
            let mut none = Query::select();
            none.expr(Expr::cust("1"))
                .from_as(Alias::new(link), Alias::new(format!("{l}n")))
                .and_where(Expr::cust(format!("{l}n.{from} = {a}.id")));
            if let Some(scope) = level.scope.condition(table, &format!("{x}n")) {
                none.and_where(Expr::cust(format!(
                    "EXISTS (SELECT 1 FROM {table} {x}n WHERE {x}n.id = {l}n.{to} AND {scope})"
                )));
            }
            (Expr::exists(sub), Expr::exists(none).not())
        }
        other => {
            return Err(super::list::internal(format!(
                "a row filter cannot filter {other:?}"
            )));
        }
    };
    Ok(if absent {
        Condition::any().add(found).add(missing)
    } else {
        Condition::all().add(found)
    })
}

/// `and`, `or` and `not` of a declared filter, for [`RowFilter::row_matches_absent`].
pub fn composed_absent<F: RowFilter>(
    and: &Option<Vec<F>>,
    or: &Option<Vec<F>>,
    not: &Option<Box<F>>,
) -> bool {
    and.as_ref()
        .is_none_or(|l| l.iter().all(RowFilter::row_matches_absent))
        && or
            .as_ref()
            .is_none_or(|l| l.iter().any(RowFilter::row_matches_absent))
        && not.as_ref().is_none_or(|f| !f.row_matches_absent())
}

/// Declares a filter input: the struct (each field optional, then `and`, `or`, `not`),
/// its condition over an alias (`condition(a, level)`), and [`FilterField`] /
/// [`RowFilter`] so that other filters can filter through it.
///
/// ```text
/// filter_input! {
///     /// Filter on networks.
///     pub struct NetworkFilter {
///         id: IdFilter => On::Id(TYPE),
///         name: StringFilter => On::Column("name"),
///         /// Networks of a cluster matching this filter.
///         cluster: ClusterFilter => On::BelongsTo { table: "clusters", fk: "cluster_id", alias: "nc", extra: "" },
///     }
/// }
/// ```
macro_rules! filter_input {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty => $on:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, async_graphql::InputObject)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: Option<Box<$ty>>,
            )*
            pub and: Option<Vec<$name>>,
            pub or: Option<Vec<$name>>,
            pub not: Option<Box<$name>>,
        }

        impl $name {
            /// The condition over the table aliased `a`; `level` keeps the aliases of
            /// nested subqueries apart.
            #[allow(unused_imports)]
            pub fn condition(
                &self,
                a: &str,
                level: $crate::graphql::declare::Level,
            ) -> Result<sea_orm::sea_query::Condition, async_graphql::Error> {
                use $crate::graphql::declare::On;
                let mut c = sea_orm::sea_query::Condition::all();
                $(
                    if let Some(f) = &self.$field {
                        c = c.add($crate::graphql::declare::FilterField::condition(
                            &**f, &$on, a, level,
                        )?);
                    }
                )*
                $crate::graphql::filter::compose(c, &self.and, &self.or, &self.not, |f| {
                    f.condition(a, level)
                })
            }
        }

        impl $crate::graphql::declare::RowFilter for $name {
            fn row_condition(
                &self,
                a: &str,
                level: $crate::graphql::declare::Level,
            ) -> Result<sea_orm::sea_query::Condition, async_graphql::Error> {
                self.condition(a, level)
            }

            fn row_matches_absent(&self) -> bool {
                true $(&& self.$field.as_ref().is_none_or(|f| {
                    $crate::graphql::declare::FilterField::matches_absent(&**f)
                }))*
                    && $crate::graphql::declare::composed_absent(&self.and, &self.or, &self.not)
            }
        }

        impl $crate::graphql::declare::FilterField for $name {
            fn condition(
                &self,
                on: &$crate::graphql::declare::On,
                a: &str,
                level: $crate::graphql::declare::Level,
            ) -> Result<sea_orm::sea_query::Condition, async_graphql::Error> {
                $crate::graphql::declare::related(self, on, a, level)
            }

            fn matches_absent(&self) -> bool {
                $crate::graphql::declare::RowFilter::row_matches_absent(self)
            }
        }
    };
}
pub(crate) use filter_input;

/// [`FilterField`] for a filter on an enum column (`eq`, `in`, … of the stored codes): the
/// type's own `condition(column)` over the column [`On`] names; it has no `isNull`, so a
/// missing row matches only when no operator is given.
macro_rules! enum_filter_field {
    ($name:ty { $($op:ident),+ $(,)? }) => {
        impl $crate::graphql::declare::FilterField for $name {
            fn condition(
                &self,
                on: &$crate::graphql::declare::On,
                a: &str,
                _level: $crate::graphql::declare::Level,
            ) -> Result<sea_orm::sea_query::Condition, async_graphql::Error> {
                Ok(self.condition(&$crate::graphql::declare::scalar_sql(on, a)?))
            }

            fn matches_absent(&self) -> bool {
                true $(&& self.$op.is_none())+
            }
        }
    };
}
pub(crate) use enum_filter_field;

/// `{T}.column`: a sort key on a column of the listed table.
pub fn col(column: &str) -> String {
    format!("{}.{column}", super::list::T)
}

/// Declares an order input: the enum of its fields, the input (`field`, `direction`,
/// ascending by default) and its [`super::list::OrderInput`] keys, each an SQL expression
/// over the listed table's alias with the kind of its values, and `NotNull` for a key that
/// is never NULL (see [`super::list::SortKey::nullable`]).
///
/// ```text
/// order_input! {
///     /// Fields networks can be ordered by.
///     pub enum NetworkOrderField;
///     /// One key of a network ordering.
///     pub struct NetworkOrder {
///         Name => (col("name"), Text, NotNull),
///         Id => (col("id"), Int),
///     }
/// }
/// ```
macro_rules! order_input {
    (
        $(#[$emeta:meta])*
        pub enum $field_enum:ident;
        $(#[$smeta:meta])*
        pub struct $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident => ($sql:expr, $kind:ident $(, $not_null:ident)?)
            ),* $(,)?
        }
    ) => {
        $(#[$emeta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
        pub enum $field_enum {
            $(
                $(#[$vmeta])*
                $variant,
            )*
        }

        $(#[$smeta])*
        #[derive(Debug, Clone, Copy, async_graphql::InputObject)]
        pub struct $name {
            pub field: $field_enum,
            #[graphql(default_with = "crate::graphql::filter::OrderDirection::Asc")]
            pub direction: $crate::graphql::filter::OrderDirection,
        }

        impl $crate::graphql::list::OrderInput for $name {
            #[allow(unused_imports)]
            fn key(&self) -> (String, $crate::graphql::list::KeyKind) {
                use $crate::graphql::declare::col;
                match self.field {
                    $($field_enum::$variant => ($sql, $crate::graphql::list::KeyKind::$kind),)*
                }
            }

            fn direction(&self) -> $crate::graphql::filter::OrderDirection {
                self.direction
            }

            fn nullable(&self) -> bool {
                match self.field {
                    $($field_enum::$variant => $crate::graphql::declare::order_input!(@nullable $($not_null)?),)*
                }
            }
        }
    };
    (@nullable NotNull) => { false };
    (@nullable) => { true };
}
pub(crate) use order_input;

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    fn sql(c: Condition) -> String {
        let mut q = Query::select();
        q.expr(Expr::cust("1"))
            .from_as(Alias::new("organisations"), Alias::new("t"))
            .cond_where(c);
        DbBackend::Sqlite.build(&q).to_string()
    }

    #[test]
    fn absent_rows_match_is_null_only() {
        let null = StringFilter {
            is_null: Some(true),
            ..Default::default()
        };
        assert!(null.matches_absent());
        let not_null = StringFilter {
            is_null: Some(false),
            ..Default::default()
        };
        assert!(!not_null.matches_absent());
        let eq = StringFilter {
            eq: Some("x".into()),
            ..Default::default()
        };
        assert!(!eq.matches_absent());
        assert!(StringFilter::default().matches_absent());
    }

    #[test]
    fn area_names_compare_by_area_in_any_spelling() {
        let f = StringFilter {
            eq: Some("KASUR".into()),
            ..Default::default()
        };
        let s = sql(FilterField::condition(
            &f,
            &On::AreaName("district_id"),
            "t",
            Level::root(DbBackend::Sqlite),
        )
        .unwrap());
        assert!(s.contains("(an0.name_key) IN ('kasur')"), "{s}");
        assert!(s.contains("synonym_key"), "{s}");
        assert!(!s.contains("LOWER"), "{s}");
    }
}
