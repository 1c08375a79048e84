//! Columns a node type reads only when a selected field needs them.
//!
//! The database copies every column of every row it returns, and the driver decodes it
//! (on SQLite each value is copied out of the statement and allocated on its own), so a
//! page of 50 firms that asks for names should read no addresses, figures or provenance,
//! and 100 trade flows asked for their value should read no weights, flags or country
//! names. A node type lists its optional columns in a table of [`Column`]s; its list
//! resolvers read the selection set (async-graphql's look-ahead) into a [`Columns`] set,
//! add those columns to the select, and the select carries the set as `__cols` so that
//! the type's `from_row` knows which columns are there (the others are `None`).

use async_graphql::{Context, Lookahead};
use sea_orm::QueryResult;
use sea_orm::sea_query::{Alias, Expr, SelectStatement};

use super::list::T;

/// An optional column: its name in the select, its SQL (a column of `t` when `None`),
/// and the GraphQL fields of the node that read it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub sql: Option<fn() -> String>,
    pub fields: &'static [&'static str],
}

impl Column {
    /// A column of the node's own table (`t.<name>`), read by `fields`.
    pub const fn own(name: &'static str, fields: &'static [&'static str]) -> Self {
        Column {
            name,
            sql: None,
            fields,
        }
    }

    /// A computed column (a joined table's column, a lookup), read by `fields`.
    pub const fn computed(
        name: &'static str,
        sql: fn() -> String,
        fields: &'static [&'static str],
    ) -> Self {
        Column {
            name,
            sql: Some(sql),
            fields,
        }
    }

    fn sql(&self) -> String {
        match self.sql {
            Some(sql) => sql(),
            None => format!("{T}.{}", self.name),
        }
    }
}

/// The set of a table's optional columns a query reads, by their index in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns(u64);

impl Columns {
    /// Every column of `table`, where the selection is not known (a node loaded by id).
    /// A table has at most 62 columns, so that the set is a positive 64-bit integer.
    pub const fn all(table: &[Column]) -> Self {
        assert!(table.len() < 63, "at most 62 optional columns");
        Columns((1 << table.len()) - 1)
    }

    /// What the nodes of the list field being resolved need (`nodes`, `edges { node }`).
    pub fn of_list(ctx: &Context<'_>, table: &[Column]) -> Self {
        let look = ctx.look_ahead();
        let nodes = Self::of(&look.field("nodes"), table);
        let edges = Self::of(&look.field("edges").field("node"), table);
        Columns(nodes.0 | edges.0)
    }

    /// What the node field being resolved needs.
    pub fn of_field(ctx: &Context<'_>, table: &[Column]) -> Self {
        Self::of(&ctx.look_ahead(), table)
    }

    /// The columns whose fields `node` selects.
    pub fn of(node: &Lookahead<'_>, table: &[Column]) -> Self {
        Columns(
            table
                .iter()
                .enumerate()
                .filter(|(_, c)| c.fields.iter().any(|f| node.field(f).exists()))
                .fold(0, |bits, (i, _)| bits | (1 << i)),
        )
    }

    /// Whether the column of index `i` is read.
    pub fn has(self, i: usize) -> bool {
        i < 64 && self.0 & (1 << i) != 0
    }

    /// Adds the columns of the set to `select`, and the set itself as `__cols`.
    pub fn add_to(self, select: &mut SelectStatement, table: &[Column]) {
        for (i, column) in table.iter().enumerate() {
            if self.has(i) {
                select.expr_as(Expr::cust(column.sql()), Alias::new(column.name));
            }
        }
        select.expr_as(
            Expr::cust(format!("CAST({} AS BIGINT)", self.0)),
            Alias::new("__cols"),
        );
    }

    /// The set a row of a select made by [`Columns::add_to`] carries.
    pub fn of_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        let bits: i64 = row.try_get_by("__cols")?;
        u64::try_from(bits)
            .map(Columns)
            .map_err(|e| sea_orm::DbErr::Custom(format!("__cols {bits}: {e}")))
    }

    /// A reader of the optional columns of `table` in `row` (whose `__cols` says which
    /// it has).
    pub fn reader<'a>(
        row: &'a QueryResult,
        table: &'a [Column],
    ) -> Result<Reader<'a>, sea_orm::DbErr> {
        Ok(Reader {
            row,
            table,
            cols: Self::of_row(row)?,
        })
    }
}

/// Reads a row's optional columns by their index in the table (see [`optional_columns`]).
pub struct Reader<'a> {
    row: &'a QueryResult,
    table: &'a [Column],
    cols: Columns,
}

impl Reader<'_> {
    /// The value of the column `col`; `None` when the select left it out (or it is NULL).
    pub fn get<V: sea_orm::TryGetable>(
        &self,
        col: impl Into<usize>,
    ) -> Result<Option<V>, sea_orm::DbErr> {
        let i = col.into();
        if self.cols.has(i) {
            self.row.try_get_by::<Option<V>, _>(self.table[i].name)
        } else {
            Ok(None)
        }
    }
}

/// Declares a node type's optional columns once: an enum naming each and the table of
/// [`Column`]s in the same order, so that an index never names another column.
macro_rules! optional_columns {
    ($(#[$meta:meta])* enum $enum:ident in $table:ident { $($name:ident => $column:expr,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        enum $enum {
            $($name,)*
        }

        impl From<$enum> for usize {
            fn from(col: $enum) -> usize {
                col as usize
            }
        }

        /// The optional columns (see [`crate::graphql::columns`]), indexed by the enum.
        const $table: &[$crate::graphql::columns::Column] = &[$($column,)*];
    };
}
pub(crate) use optional_columns;

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: [Column; 3] = [
        Column::own("a", &["a"]),
        Column::own("b", &["b", "bb"]),
        Column::computed("c", || "1 + 1".to_owned(), &["c"]),
    ];

    #[test]
    fn a_set_selects_its_columns_and_carries_itself() {
        let set = Columns(0b101);
        assert!(set.has(0) && !set.has(1) && set.has(2) && !set.has(64));
        let mut select = sea_orm::sea_query::Query::select();
        select.from_as(Alias::new("x"), Alias::new(T));
        set.add_to(&mut select, &TABLE);
        let sql = select.to_string(sea_orm::sea_query::SqliteQueryBuilder);
        assert!(sql.contains("t.a AS \"a\""), "{sql}");
        assert!(!sql.contains("\"b\""), "{sql}");
        assert!(sql.contains("1 + 1 AS \"c\""), "{sql}");
        assert!(sql.contains("CAST(5 AS BIGINT) AS \"__cols\""), "{sql}");
        assert_eq!(Columns::all(&TABLE), Columns(0b111));
    }
}
