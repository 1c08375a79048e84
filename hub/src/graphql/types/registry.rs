//! Registry records of the Punjab Small Industries Corporation: small industrial estates,
//! their plots and the plots' allotments to units, and loans.
//!
//! Each type is declared the same way: its object, its filter and order tables
//! ([`filter_input!`], [`order_input!`]), its base select and the [`Listing`] that the
//! generic list resolvers need. Protection: a loan's amount is a firm figure
//! ([`Protected::FirmFigures`]), unit numbers are firm identifiers
//! ([`Protected::FirmIdentifiers`]), and a borrower is a person ([`Protected::Persons`], with
//! their name personal data).

use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::NaiveDate;
use sea_orm::QueryResult;
use sea_orm::sea_query::{Alias, Expr, SelectStatement};

use super::firm::{FIRM_ROW, Firm, FirmFilter};
use super::training::Person;
use crate::graphql::connection::{
    FromRow, Listed, Listing, connection, load_row, nested_of, root_lists,
};
use crate::graphql::declare::{filter_input, order_input};
use crate::graphql::filter::{DateFilter, FloatFilter, IdFilter, IntFilter, StringFilter};
use crate::graphql::list::{KeyKind, SortKey, T, admin_area_name_sql, table_select};
use crate::graphql::policy::Protected;
use crate::graphql::{NodeContext as _, ids};

/// The global-id type name of industrial estates.
pub const ESTATE_TYPE: &str = "IndustrialEstate";
/// The global-id type name of plots.
pub const PLOT_TYPE: &str = "Plot";
/// The global-id type name of plot allotments.
pub const ALLOTMENT_TYPE: &str = "PlotAllotment";
/// The global-id type name of loans.
pub const LOAN_TYPE: &str = "Loan";

/// The code of the source with id `{a}.source_id`.
fn source_code_sql(a: &str) -> String {
    format!("(SELECT rs.code FROM sources rs WHERE rs.id = {a}.source_id)")
}

// ---- Industrial estates ------------------------------------------------------------------

/// A small industrial estate of the Punjab Small Industries Corporation.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct IndustrialEstate {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    pub name: String,
    /// The district's name.
    pub district: Option<String>,
    /// The code of the source that listed the estate.
    pub source: Option<String>,
}

impl FromRow for IndustrialEstate {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(IndustrialEstate {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            name: row.try_get_by("name")?,
            district: row.try_get_by("district_name")?,
            source: row.try_get_by("source_code")?,
        })
    }
}

#[ComplexObject]
impl IndustrialEstate {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(ESTATE_TYPE, self.row_id)
    }

    /// The estate's plots, by plot number unless ordered otherwise.
    async fn plots(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<PlotFilter>,
        order_by: Option<Vec<PlotOrder>>,
    ) -> Result<PlotConnection> {
        nested_of::<Plot>(
            ctx,
            plot_select,
            format!("{T}.estate_id"),
            self.row_id,
            first,
            after,
            filter.as_ref(),
            order_by.as_deref(),
        )
        .await
        .map(Into::into)
    }
}

connection!(
    IndustrialEstateConnection,
    IndustrialEstateEdge,
    IndustrialEstate,
    "A page of industrial estates."
);

/// `SELECT t.*, district name, source code FROM industrial_estates t`.
pub fn estate_select() -> SelectStatement {
    let mut q = table_select("industrial_estates");
    q.expr_as(
        Expr::cust(admin_area_name_sql(&format!("{T}.district_id"))),
        Alias::new("district_name"),
    )
    .expr_as(Expr::cust(source_code_sql(T)), Alias::new("source_code"));
    q
}

impl Listed for IndustrialEstate {
    fn select() -> SelectStatement {
        estate_select()
    }
}

impl Listing for IndustrialEstate {
    type Filter = IndustrialEstateFilter;
    type Order = IndustrialEstateOrder;

    fn default_order() -> Vec<SortKey> {
        vec![SortKey::asc("name", KeyKind::Text).not_null()]
    }
}

filter_input! {
    /// Filter on industrial estates.
    pub struct IndustrialEstateFilter {
        id: IdFilter => On::Id(ESTATE_TYPE),
        name: StringFilter => On::Column("name"),
        /// The district's name (any spelling the hub knows, for `eq`, `in`, …).
        district: StringFilter => On::AreaName("district_id"),
    }
}

order_input! {
    /// Fields industrial estates can be ordered by.
    pub enum IndustrialEstateOrderField;
    /// One key of an industrial-estate ordering.
    pub struct IndustrialEstateOrder {
        Name => (col("name"), Text, NotNull),
        Id => (col("id"), Int, NotNull),
    }
}

// ---- Plots -------------------------------------------------------------------------------

/// A plot of an industrial estate.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Plot {
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub estate_id: i64,
    /// The plot's number within its estate, as the registry writes it.
    pub plot_number: String,
    /// Its area in square metres.
    pub area_sqm: Option<f64>,
}

impl FromRow for Plot {
    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(Plot {
            row_id: row.try_get_by("id")?,
            estate_id: row.try_get_by("estate_id")?,
            plot_number: row.try_get_by("plot_number")?,
            area_sqm: row.try_get_by("area_sqm")?,
        })
    }
}

#[ComplexObject]
impl Plot {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(PLOT_TYPE, self.row_id)
    }

    /// The estate.
    async fn estate(&self, ctx: &Context<'_>) -> Result<Option<IndustrialEstate>> {
        load_row::<IndustrialEstate>(ctx, Some(self.estate_id)).await
    }

    /// The plot's allotments, newest first unless ordered otherwise.
    async fn allotments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<PlotAllotmentFilter>,
        order_by: Option<Vec<PlotAllotmentOrder>>,
    ) -> Result<PlotAllotmentConnection> {
        nested_of::<PlotAllotment>(
            ctx,
            allotment_select,
            format!("{T}.plot_id"),
            self.row_id,
            first,
            after,
            filter.as_ref(),
            order_by.as_deref(),
        )
        .await
        .map(Into::into)
    }
}

connection!(PlotConnection, PlotEdge, Plot, "A page of plots.");

/// `SELECT t.* FROM plots t`.
pub fn plot_select() -> SelectStatement {
    table_select("plots")
}

impl Listed for Plot {
    fn select() -> SelectStatement {
        plot_select()
    }
}

impl Listing for Plot {
    type Filter = PlotFilter;
    type Order = PlotOrder;

    fn default_order() -> Vec<SortKey> {
        vec![SortKey::asc("plot_number", KeyKind::Text).not_null()]
    }
}

filter_input! {
    /// Filter on plots.
    pub struct PlotFilter {
        id: IdFilter => On::Id(PLOT_TYPE),
        plot_number: StringFilter => On::Column("plot_number"),
        area_sqm: FloatFilter => On::Column("area_sqm"),
        /// Plots of an estate matching this filter.
        estate: IndustrialEstateFilter => On::BelongsTo {
            table: "industrial_estates",
            fk: "estate_id",
            alias: "pe",
            extra: "",
        },
    }
}

order_input! {
    /// Fields plots can be ordered by.
    pub enum PlotOrderField;
    /// One key of a plot ordering.
    pub struct PlotOrder {
        PlotNumber => (col("plot_number"), Text, NotNull),
        AreaSqm => (col("area_sqm"), Float),
        Id => (col("id"), Int, NotNull),
    }
}

// ---- Plot allotments ---------------------------------------------------------------------

/// The allotment of a plot to a unit (firm), as the registry records it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct PlotAllotment {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub plot_id: i64,
    #[graphql(skip)]
    pub organisation_id: Option<i64>,
    #[graphql(skip)]
    pub unit_number_value: Option<String>,
    /// The number of the plot allotted.
    pub plot_number: String,
    /// The name of the plot's estate.
    pub estate: String,
    pub allotted_on: Option<NaiveDate>,
    /// `allotted`, `cancelled` or `vacant`.
    pub status: String,
    /// The code of the source.
    pub source: Option<String>,
}

impl FromRow for PlotAllotment {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("plot_allotments", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::FirmFigures);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(PlotAllotment {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            plot_id: row.try_get_by("plot_id")?,
            organisation_id: row.try_get_by("organisation_id")?,
            unit_number_value: row.try_get_by("unit_number")?,
            plot_number: row.try_get_by("plot_number")?,
            estate: row.try_get_by("estate_name")?,
            allotted_on: row.try_get_by("allotted_on")?,
            status: row.try_get_by("status")?,
            source: row.try_get_by("source_code")?,
        })
    }
}

#[ComplexObject]
impl PlotAllotment {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(ALLOTMENT_TYPE, self.row_id)
    }

    /// The registry's unit number of the allottee: a firm identifier.
    async fn unit_number(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::FirmIdentifiers, &self.unit_number_value)
    }

    /// The plot.
    async fn plot(&self, ctx: &Context<'_>) -> Result<Option<Plot>> {
        load_row::<Plot>(ctx, Some(self.plot_id)).await
    }

    /// The firm the plot is allotted to (null when the unit number names no firm the hub
    /// knows).
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        load_row::<Firm>(ctx, self.organisation_id).await
    }
}

connection!(
    PlotAllotmentConnection,
    PlotAllotmentEdge,
    PlotAllotment,
    "A page of plot allotments."
);

/// `SELECT t.*, plot number, estate name, source code FROM plot_allotments t`.
pub fn allotment_select() -> SelectStatement {
    let mut q = table_select("plot_allotments");
    q.expr_as(
        Expr::cust(format!(
            "(SELECT ap.plot_number FROM plots ap WHERE ap.id = {T}.plot_id)"
        )),
        Alias::new("plot_number"),
    )
    .expr_as(
        Expr::cust(format!(
            "(SELECT ae.name FROM plots ap JOIN industrial_estates ae ON ae.id = ap.estate_id \
             WHERE ap.id = {T}.plot_id)"
        )),
        Alias::new("estate_name"),
    )
    .expr_as(Expr::cust(source_code_sql(T)), Alias::new("source_code"));
    q
}

impl Listed for PlotAllotment {
    fn select() -> SelectStatement {
        allotment_select()
    }
}

impl Listing for PlotAllotment {
    type Filter = PlotAllotmentFilter;
    type Order = PlotAllotmentOrder;

    fn default_order() -> Vec<SortKey> {
        vec![SortKey::desc("allotted_on", KeyKind::Date)]
    }
}

filter_input! {
    /// Filter on plot allotments.
    pub struct PlotAllotmentFilter {
        id: IdFilter => On::Id(ALLOTMENT_TYPE),
        /// `allotted`, `cancelled` or `vacant`.
        status: StringFilter => On::Column("status"),
        allotted_on: DateFilter => On::Column("allotted_on"),
        /// The year of the allotment.
        year: IntFilter => On::YearOf("allotted_on"),
        /// The registry's unit number as written in canonical form.
        unit_number: StringFilter => On::Column("unit_number"),
        /// Allotments of a plot matching this filter (its number, its estate).
        plot: PlotFilter => On::BelongsTo {
            table: "plots",
            fk: "plot_id",
            alias: "ap",
            extra: "",
        },
        /// Allotments to a firm matching this filter.
        firm: FirmFilter => On::BelongsTo {
            table: "organisations",
            fk: "organisation_id",
            alias: "af",
            extra: FIRM_ROW,
        },
    }
}

order_input! {
    /// Fields plot allotments can be ordered by.
    pub enum PlotAllotmentOrderField;
    /// One key of a plot-allotment ordering.
    pub struct PlotAllotmentOrder {
        AllottedOn => (col("allotted_on"), Date),
        Status => (col("status"), Text),
        Id => (col("id"), Int, NotNull),
    }
}

// ---- Loans -------------------------------------------------------------------------------

/// A loan of the Punjab Small Industries Corporation to a unit (firm) and its borrower.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Loan {
    /// The change number of this row's last write (see `changedSince` and the change feed in
    /// README "Use it from your BI tool").
    pub change_seq: i64,
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub organisation_id: Option<i64>,
    #[graphql(skip)]
    pub borrower_id: Option<i64>,
    #[graphql(skip)]
    pub unit_number_value: Option<String>,
    #[graphql(skip)]
    pub amount_value: Option<f64>,
    /// The lending scheme, as the registry names it.
    pub scheme: String,
    pub sanctioned_on: Option<NaiveDate>,
    pub disbursed_on: Option<NaiveDate>,
    /// The district's name.
    pub district: Option<String>,
    /// The loan's status as the registry writes it (`disbursed`, `repaid`, …).
    pub status: Option<String>,
    /// The code of the source.
    pub source: Option<String>,
}

impl FromRow for Loan {
    fn scope(t: &str, ids: &str) -> Option<String> {
        crate::graphql::connection::table_scope("loans", t, ids)
    }

    const ROWS_NEED: Option<Protected> = Some(Protected::FirmFigures);

    fn from_row(row: &QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(Loan {
            change_seq: row.try_get_by("change_seq")?,
            row_id: row.try_get_by("id")?,
            organisation_id: row.try_get_by("organisation_id")?,
            borrower_id: row.try_get_by("borrower_person_id")?,
            unit_number_value: row.try_get_by("unit_number")?,
            amount_value: row.try_get_by("amount_pkr")?,
            scheme: row.try_get_by("scheme")?,
            sanctioned_on: row.try_get_by("sanctioned_on")?,
            disbursed_on: row.try_get_by("disbursed_on")?,
            district: row.try_get_by("district_name")?,
            status: row.try_get_by("status")?,
            source: row.try_get_by("source_code")?,
        })
    }
}

#[ComplexObject]
impl Loan {
    /// The global id.
    pub async fn id(&self) -> ID {
        ids::encode(LOAN_TYPE, self.row_id)
    }

    /// The amount in Pakistani rupees: a firm figure.
    async fn amount_pkr(&self, ctx: &Context<'_>) -> Option<f64> {
        ctx.reveal(Protected::FirmFigures, &self.amount_value)
    }

    /// The registry's unit number of the borrowing unit: a firm identifier.
    async fn unit_number(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.reveal(Protected::FirmIdentifiers, &self.unit_number_value)
    }

    /// The borrowing firm (null when the unit number names no firm the hub knows).
    async fn firm(&self, ctx: &Context<'_>) -> Result<Option<Firm>> {
        load_row::<Firm>(ctx, self.organisation_id).await
    }

    /// The borrower, a person: their identifying fields are personal data.
    async fn borrower(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        if !ctx.allowed(Protected::Persons) {
            return Ok(None);
        }
        load_row::<Person>(ctx, self.borrower_id).await
    }
}

connection!(LoanConnection, LoanEdge, Loan, "A page of loans.");

/// `SELECT t.*, district name, source code FROM loans t`.
pub fn loan_select() -> SelectStatement {
    let mut q = table_select("loans");
    q.expr_as(
        Expr::cust(admin_area_name_sql(&format!("{T}.district_id"))),
        Alias::new("district_name"),
    )
    .expr_as(Expr::cust(source_code_sql(T)), Alias::new("source_code"));
    q
}

impl Listed for Loan {
    fn select() -> SelectStatement {
        loan_select()
    }
}

impl Listing for Loan {
    type Filter = LoanFilter;
    type Order = LoanOrder;

    fn default_order() -> Vec<SortKey> {
        vec![SortKey::desc("sanctioned_on", KeyKind::Date)]
    }
}

filter_input! {
    /// Filter on loans. There is no filter on the amount: it is a firm figure.
    pub struct LoanFilter {
        id: IdFilter => On::Id(LOAN_TYPE),
        scheme: StringFilter => On::Column("scheme"),
        status: StringFilter => On::Column("status"),
        /// The district's name (any spelling the hub knows, for `eq`, `in`, …).
        district: StringFilter => On::AreaName("district_id"),
        sanctioned_on: DateFilter => On::Column("sanctioned_on"),
        disbursed_on: DateFilter => On::Column("disbursed_on"),
        /// The year the loan was sanctioned.
        year: IntFilter => On::YearOf("sanctioned_on"),
        /// The registry's unit number as written in canonical form.
        unit_number: StringFilter => On::Column("unit_number"),
        /// Loans to a firm matching this filter.
        firm: FirmFilter => On::BelongsTo {
            table: "organisations",
            fk: "organisation_id",
            alias: "lf",
            extra: FIRM_ROW,
        },
    }
}

order_input! {
    /// Fields loans can be ordered by.
    pub enum LoanOrderField;
    /// One key of a loan ordering.
    pub struct LoanOrder {
        SanctionedOn => (col("sanctioned_on"), Date),
        DisbursedOn => (col("disbursed_on"), Date),
        Scheme => (col("scheme"), Text),
        Id => (col("id"), Int, NotNull),
    }
}

// ---- Nested lists of firms ---------------------------------------------------------------

/// The plot allotments of the firm `firm_id`, batched with the other firms of the level.
pub async fn firm_allotments(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<PlotAllotmentFilter>,
    order_by: Option<Vec<PlotAllotmentOrder>>,
) -> Result<PlotAllotmentConnection> {
    nested_of::<PlotAllotment>(
        ctx,
        allotment_select,
        format!("{T}.organisation_id"),
        firm_id,
        first,
        after,
        filter.as_ref(),
        order_by.as_deref(),
    )
    .await
    .map(Into::into)
}

/// The loans of the firm `firm_id`, batched with the other firms of the level.
pub async fn firm_loans(
    ctx: &Context<'_>,
    firm_id: i64,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<LoanFilter>,
    order_by: Option<Vec<LoanOrder>>,
) -> Result<LoanConnection> {
    nested_of::<Loan>(
        ctx,
        loan_select,
        format!("{T}.organisation_id"),
        firm_id,
        first,
        after,
        filter.as_ref(),
        order_by.as_deref(),
    )
    .await
    .map(Into::into)
}

// ---- Root --------------------------------------------------------------------------------

root_lists! {
    /// Root fields of the registry records.
    pub struct RegistryQuery {
        /// Small industrial estates, by name unless ordered otherwise.
        industrial_estates: IndustrialEstate => IndustrialEstateConnection,
        /// Allotments of estate plots to units, newest first unless ordered otherwise.
        plot_allotments: PlotAllotment => PlotAllotmentConnection,
        /// Loans to units, the most recently sanctioned first unless ordered otherwise.
        loans: Loan => LoanConnection,
    }
}
