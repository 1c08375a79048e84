//! Typed filter inputs: one input type per scalar type with its operators, composed per
//! object type with `and / or / not` and through relations (see the object types).
//!
//! Every operator becomes a bound parameter in SQL; nothing the client sends is pasted
//! into a statement. `contains` and `startsWith` are case-insensitive on both engines
//! (`LOWER(column) LIKE LOWER(pattern)` with `%`/`_` escaped).

use async_graphql::{Enum, Error, ID, InputObject};
use chrono::NaiveDate;
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait as _, LikeExpr, Query, SimpleExpr, Value,
};

use super::ids;
use super::list::bad_input;

/// Builds a condition on one column from a filter input.
pub trait ColumnFilter {
    fn condition(&self, column: &str) -> Result<Condition, Error>;
}

fn col(column: &str) -> SimpleExpr {
    Expr::cust(column.to_owned())
}

/// Adds the comparison operators shared by every ordered scalar.
#[allow(clippy::too_many_arguments)] // One parameter per operator, named as in the schema.
fn ordered<T: Clone + Into<Value>>(
    mut c: Condition,
    column: &str,
    eq: &Option<T>,
    ne: &Option<T>,
    r#in: &Option<Vec<T>>,
    not_in: &Option<Vec<T>>,
    lt: &Option<T>,
    lte: &Option<T>,
    gt: &Option<T>,
    gte: &Option<T>,
    is_null: &Option<bool>,
) -> Condition {
    if let Some(v) = eq {
        c = c.add(col(column).eq(v.clone()));
    }
    if let Some(v) = ne {
        // `ne` keeps NULLs out, as SQL does, and says so in the schema.
        c = c.add(col(column).ne(v.clone()));
    }
    if let Some(v) = r#in {
        c = c.add(col(column).is_in(v.iter().cloned().map(Into::<Value>::into)));
    }
    if let Some(v) = not_in {
        c = c.add(col(column).is_not_in(v.iter().cloned().map(Into::<Value>::into)));
    }
    if let Some(v) = lt {
        c = c.add(col(column).lt(v.clone()));
    }
    if let Some(v) = lte {
        c = c.add(col(column).lte(v.clone()));
    }
    if let Some(v) = gt {
        c = c.add(col(column).gt(v.clone()));
    }
    if let Some(v) = gte {
        c = c.add(col(column).gte(v.clone()));
    }
    if let Some(null) = is_null {
        c = c.add(if *null {
            col(column).is_null()
        } else {
            col(column).is_not_null()
        });
    }
    c
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A case-insensitive `LIKE` on a column (the pattern is lower-cased and escaped by the caller).
pub fn ilike(column: &str, pattern: String) -> SimpleExpr {
    Expr::cust(format!("LOWER({column})")).like(LikeExpr::new(pattern).escape('\\'))
}

/// Operators on a text field. `ne`, `notIn`, `lt`… exclude NULLs, as in SQL; use `isNull`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct StringFilter {
    pub eq: Option<String>,
    pub ne: Option<String>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<String>>,
    pub not_in: Option<Vec<String>>,
    pub lt: Option<String>,
    pub lte: Option<String>,
    pub gt: Option<String>,
    pub gte: Option<String>,
    pub is_null: Option<bool>,
    /// Case-insensitive substring.
    pub contains: Option<String>,
    /// Case-insensitive prefix.
    pub starts_with: Option<String>,
}

impl ColumnFilter for StringFilter {
    fn condition(&self, column: &str) -> Result<Condition, Error> {
        let mut c = ordered(
            Condition::all(),
            column,
            &self.eq,
            &self.ne,
            &self.r#in,
            &self.not_in,
            &self.lt,
            &self.lte,
            &self.gt,
            &self.gte,
            &self.is_null,
        );
        if let Some(s) = &self.contains {
            c = c.add(ilike(column, format!("%{}%", like_escape(s))));
        }
        if let Some(s) = &self.starts_with {
            c = c.add(ilike(column, format!("{}%", like_escape(s))));
        }
        Ok(c)
    }
}

/// Operators on an integer field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct IntFilter {
    pub eq: Option<i64>,
    pub ne: Option<i64>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<i64>>,
    pub not_in: Option<Vec<i64>>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub is_null: Option<bool>,
}

/// Operators on a decimal field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct FloatFilter {
    pub eq: Option<f64>,
    pub ne: Option<f64>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<f64>>,
    pub not_in: Option<Vec<f64>>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub is_null: Option<bool>,
}

/// Operators on a date field (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, InputObject)]
pub struct DateFilter {
    pub eq: Option<NaiveDate>,
    pub ne: Option<NaiveDate>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<NaiveDate>>,
    pub not_in: Option<Vec<NaiveDate>>,
    pub lt: Option<NaiveDate>,
    pub lte: Option<NaiveDate>,
    pub gt: Option<NaiveDate>,
    pub gte: Option<NaiveDate>,
    pub is_null: Option<bool>,
}

/// Implements [`ColumnFilter`] for the filter inputs whose operators are exactly those of
/// [`ordered`].
macro_rules! ordered_column_filter {
    ($($filter:ty),+) => {$(
        impl ColumnFilter for $filter {
            fn condition(&self, column: &str) -> Result<Condition, Error> {
                Ok(ordered(
                    Condition::all(),
                    column,
                    &self.eq,
                    &self.ne,
                    &self.r#in,
                    &self.not_in,
                    &self.lt,
                    &self.lte,
                    &self.gt,
                    &self.gte,
                    &self.is_null,
                ))
            }
        }
    )+};
}

ordered_column_filter!(IntFilter, FloatFilter, DateFilter);

/// Operators on a boolean field.
#[derive(Debug, Clone, Default, InputObject)]
pub struct BooleanFilter {
    pub eq: Option<bool>,
    pub is_null: Option<bool>,
}

impl ColumnFilter for BooleanFilter {
    fn condition(&self, column: &str) -> Result<Condition, Error> {
        let mut c = Condition::all();
        if let Some(v) = self.eq {
            c = c.add(col(column).eq(v));
        }
        if let Some(null) = self.is_null {
            c = c.add(if null {
                col(column).is_null()
            } else {
                col(column).is_not_null()
            });
        }
        Ok(c)
    }
}

/// Operators on a global id, for the type named `type_name`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct IdFilter {
    pub eq: Option<ID>,
    pub ne: Option<ID>,
    #[graphql(name = "in")]
    pub r#in: Option<Vec<ID>>,
    pub not_in: Option<Vec<ID>>,
    pub is_null: Option<bool>,
}

impl IdFilter {
    /// The condition on `column`, decoding ids of type `type_name`.
    pub fn condition_for(&self, column: &str, type_name: &str) -> Result<Condition, Error> {
        let one = |id: &ID| ids::decode_as(id, type_name);
        let many = |v: &Vec<ID>| v.iter().map(one).collect::<Result<Vec<i64>, Error>>();
        let none: Option<i64> = None;
        Ok(ordered(
            Condition::all(),
            column,
            &self.eq.as_ref().map(one).transpose()?,
            &self.ne.as_ref().map(one).transpose()?,
            &self.r#in.as_ref().map(many).transpose()?,
            &self.not_in.as_ref().map(many).transpose()?,
            &none,
            &none,
            &none,
            &none,
            &self.is_null,
        ))
    }
}

/// `eq / ne / in / notIn` on a text column holding the stored codes of an enum.
pub fn enum_condition(
    column: &str,
    eq: Option<&'static str>,
    ne: Option<&'static str>,
    r#in: Option<Vec<&'static str>>,
    not_in: Option<Vec<&'static str>>,
) -> Condition {
    let mut c = Condition::all();
    if let Some(v) = eq {
        c = c.add(col(column).eq(v));
    }
    if let Some(v) = ne {
        c = c.add(col(column).ne(v));
    }
    if let Some(v) = r#in {
        c = c.add(col(column).is_in(v));
    }
    if let Some(v) = not_in {
        c = c.add(col(column).is_not_in(v));
    }
    c
}

/// `EXISTS (SELECT 1 FROM table alias WHERE alias.id = fk AND condition)`: whether the row
/// of `table` that the foreign key `fk` points to matches `condition`, written over `alias`.
pub fn exists_related(table: &str, alias: &str, fk: &str, condition: Condition) -> SimpleExpr {
    let mut sub = Query::select();
    sub.expr(Expr::cust("1"))
        .from_as(Alias::new(table), Alias::new(alias))
        .and_where(Expr::cust(format!("{alias}.id = {fk}")))
        .cond_where(condition);
    Expr::exists(sub)
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrderDirection {
    Asc,
    Desc,
}

/// Adds `and / or / not` of nested filters of the same type to `c`.
pub fn compose<F>(
    mut c: Condition,
    and: &Option<Vec<F>>,
    or: &Option<Vec<F>>,
    not: &Option<Box<F>>,
    each: impl Fn(&F) -> Result<Condition, Error>,
) -> Result<Condition, Error> {
    if let Some(list) = and {
        for f in list {
            c = c.add(each(f)?);
        }
    }
    if let Some(list) = or {
        if list.is_empty() {
            return Err(bad_input("`or` needs at least one filter."));
        }
        let mut any = Condition::any();
        for f in list {
            any = any.add(each(f)?);
        }
        c = c.add(any);
    }
    if let Some(f) = not {
        c = c.add(each(f)?.not());
    }
    Ok(c)
}

/// Adds a column filter when present.
pub fn field<F: ColumnFilter>(
    c: Condition,
    filter: &Option<F>,
    column: &str,
) -> Result<Condition, Error> {
    Ok(match filter {
        Some(f) => c.add(f.condition(column)?),
        None => c,
    })
}
