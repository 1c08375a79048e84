//! A small vocabulary for writing table definitions that read like a schema.
//!
//! Migrations are written once, in Rust, and sea-query renders them for SQLite and
//! PostgreSQL: the same migration code runs on both engines. The vocabulary exists so that a
//! table of forty columns stays a list of forty lines, and so that the columns every data
//! table shares (provenance and the change sequence) are written in one place.

use sea_orm_migration::prelude::*;

/// A table under construction: its columns, foreign keys and indexes.
pub struct Table {
    name: &'static str,
    create: TableCreateStatement,
    indexes: Vec<IndexCreateStatement>,
}

/// Starts a table with a `BIGINT` auto-increment primary key named `id`.
pub fn table(name: &'static str) -> Table {
    let mut create = sea_orm_migration::prelude::Table::create();
    create.table(Alias::new(name)).col(
        ColumnDef::new(Alias::new("id"))
            .big_integer()
            .not_null()
            .auto_increment()
            .primary_key(),
    );
    Table {
        name,
        create,
        indexes: Vec::new(),
    }
}

/// Column kinds used by the model. `…Null` variants are nullable; the others are `NOT NULL`.
#[derive(Clone, Copy)]
pub enum Col {
    Text,
    TextNull,
    Int,
    IntNull,
    BigInt,
    BigIntNull,
    Real,
    RealNull,
    Bool,
    BoolNull,
    Date,
    DateNull,
    Timestamp,
    TimestampNull,
    JsonNull,
}

impl Table {
    /// Adds a plain column.
    pub fn col(mut self, name: &'static str, kind: Col) -> Self {
        let mut def = ColumnDef::new(Alias::new(name));
        match kind {
            Col::Text | Col::TextNull => def.text(),
            Col::Int | Col::IntNull => def.integer(),
            Col::BigInt | Col::BigIntNull => def.big_integer(),
            Col::Real | Col::RealNull => def.double(),
            Col::Bool | Col::BoolNull => def.boolean(),
            Col::Date | Col::DateNull => def.date(),
            Col::Timestamp | Col::TimestampNull => def.timestamp_with_time_zone(),
            Col::JsonNull => def.json_binary(),
        };
        match kind {
            Col::TextNull
            | Col::IntNull
            | Col::BigIntNull
            | Col::RealNull
            | Col::BoolNull
            | Col::DateNull
            | Col::TimestampNull
            | Col::JsonNull => def.null(),
            _ => def.not_null(),
        };
        self.create.col(def);
        self
    }

    /// Adds a `NOT NULL` column with a default value.
    pub fn col_default<V: Into<Expr>>(mut self, name: &'static str, kind: Col, value: V) -> Self {
        let mut def = ColumnDef::new(Alias::new(name));
        match kind {
            Col::Text => def.text(),
            Col::Int => def.integer(),
            Col::BigInt => def.big_integer(),
            Col::Real => def.double(),
            Col::Bool => def.boolean(),
            _ => unreachable!("defaults are only used on plain NOT NULL columns"),
        };
        def.not_null().default(value);
        self.create.col(def);
        self
    }

    /// Adds a `BIGINT` column referencing `target.id`. Deleting the target is refused while
    /// rows refer to it, except where `cascade` says the rows belong to the target.
    fn reference(
        mut self,
        name: &'static str,
        target: &'static str,
        null: bool,
        cascade: bool,
    ) -> Self {
        let mut def = ColumnDef::new(Alias::new(name));
        def.big_integer();
        if null {
            def.null();
        } else {
            def.not_null();
        }
        self.create.col(def);
        let mut fk = ForeignKey::create();
        fk.name(format!("fk_{}_{}", self.name, name))
            .from(Alias::new(self.name), Alias::new(name))
            .to(Alias::new(target), Alias::new("id"))
            .on_delete(if cascade {
                ForeignKeyAction::Cascade
            } else {
                ForeignKeyAction::Restrict
            });
        self.create.foreign_key(&mut fk);
        self
    }

    /// A required reference.
    pub fn refs(self, name: &'static str, target: &'static str) -> Self {
        self.reference(name, target, false, false)
    }

    /// An optional reference.
    pub fn refs_null(self, name: &'static str, target: &'static str) -> Self {
        self.reference(name, target, true, false)
    }

    /// A required reference to the row this row is part of: deleted with it.
    pub fn part_of(self, name: &'static str, target: &'static str) -> Self {
        self.reference(name, target, false, true)
    }

    /// The provenance and change-feed columns every data table carries: the import run that
    /// wrote or last changed the row, where in the source it came from (`file!sheet!row`),
    /// the change-sequence number of its last insert or update, and the usual timestamps.
    pub fn provenance(self) -> Self {
        let name = self.name;
        self.refs_null("import_run_id", "import_runs")
            .col("source_ref", Col::TextNull)
            .col_default("change_seq", Col::BigInt, 0)
            .col("created_at", Col::Timestamp)
            .col("updated_at", Col::Timestamp)
            .index(&["change_seq"])
            .named_index(&format!("ix_{name}_import_run"), &["import_run_id"], false)
    }

    /// The natural key of rows that come from one source file: `(source_id, source_key)`,
    /// unique, so a re-import finds its own rows again.
    pub fn source_key(self) -> Self {
        self.refs_null("source_id", "sources")
            .col("source_key", Col::TextNull)
            .unique(&["source_id", "source_key"])
    }

    fn named_index(mut self, name: &str, cols: &[&str], unique: bool) -> Self {
        let mut ix = Index::create();
        ix.name(name).table(Alias::new(self.name));
        for c in cols {
            ix.col(Alias::new(*c));
        }
        if unique {
            ix.unique();
        }
        self.indexes.push(ix);
        self
    }

    /// A non-unique index, named after the table and its columns.
    pub fn index(self, cols: &[&str]) -> Self {
        let name = format!("ix_{}_{}", self.name, cols.join("_"));
        self.named_index(&name, cols, false)
    }

    /// A unique index, named after the table and its columns.
    pub fn unique(self, cols: &[&str]) -> Self {
        let name = format!("ux_{}_{}", self.name, cols.join("_"));
        self.named_index(&name, cols, true)
    }

    /// Creates the table and its indexes.
    pub async fn create(self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager.create_table(self.create).await?;
        for ix in self.indexes {
            manager.create_index(ix).await?;
        }
        Ok(())
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Creates `tables` and their indexes, in order.
pub async fn create_all(manager: &SchemaManager<'_>, tables: Vec<Table>) -> Result<(), DbErr> {
    for t in tables {
        t.create(manager).await?;
    }
    Ok(())
}

/// Drops `tables`, the last first.
pub async fn drop_all(manager: &SchemaManager<'_>, tables: Vec<Table>) -> Result<(), DbErr> {
    for t in tables.into_iter().rev() {
        manager
            .drop_table(
                sea_orm_migration::prelude::Table::drop()
                    .table(Alias::new(t.name()))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
