//! Pakistan Bureau of Statistics trade tables by commodity group (importer
//! `pk-pbs-trade`), and the bureau's groups mapped to clusters ([`groups`]).
//!
//! The bureau publishes exports and imports by its own commodity groups (knitwear,
//! readymade garments, bed wear, surgical instruments, footwear, …), monthly and by fiscal
//! year (July to June), in rupees (millions) and US dollars (thousands or millions), as
//! XLSX and CSV. The tables are not standardised; this importer reads the layout they
//! share:
//!
//! ```text
//! Pakistan Bureau of Statistics
//! Exports of selected commodities (provisional)
//! Commodity,Unit,July-June 2023-24 Quantity,July-June 2023-24 (Rs million),July-June 2023-24 (US$ million),July-June 2022-23 (US$ million),June 2024 (US$ thousand),% change
//! TEXTILE GROUP,,,,,,,
//! Knitwear,Th. Doz,151234,1455210.5,5102.3,5032.1,430250,1.4
//! Readymade Garments,Th. Doz,40125,1005311.2,3541.7,3401.9,301877,4.1
//! Others,,,,15.2,14.9,1200,
//! OTHER MANUFACTURES GROUP,,,,,,,
//! Surgical Goods & Medical Instruments,,,126100.4,441.9,425.3,38910,3.9
//! Footwear,Th. Pairs,-,60112.8,210.4,190.6,17502,10.4
//! Total,,,8650411.3,30645.0,27724.3,2531477,10.5
//! ```
//!
//! - **Sheets.** A CSV file is one table; in a workbook every sheet with a commodity header
//!   is one (others are left out with a log line). Title rows above the header are allowed.
//! - **Header.** The first of the first 30 rows with a commodity column (`Commodity`,
//!   `Commodities`, `Commodity Group`, `Description`, `Group`, `Items`). A second header row
//!   right below it (text only, nothing under the commodity column) completes the columns
//!   above it, e.g. `July-June 2023-24` spread over `Quantity`, `Rs million` and `US$
//!   million` (an empty cell of the first row takes the text to its left).
//! - **Value columns** name a **period** and a **currency** in their header (both rows):
//!   - periods: the fiscal year `July-June 2023-24`, `Jul-Jun 2023-24`, `FY2023-24`,
//!     `2023-24` → `FY2023-24`; a month `June 2024`, `Jun-2024`, `Jun-24` → `2024-06`; a
//!     calendar year `2023`. Cumulated parts of a fiscal year (`July-March 2023-24`) are
//!     no period the hub knows: left out with a log line;
//!   - currency: `US$`, `USD`, `$`, `dollar` → `USD`; `Rs`, `PKR`, `rupees` → `PKR`;
//!   - unit: `million` 6, `thousand`/`'000` 3, `billion` 9, `crore` 7, `lakh` 5, else 0;
//!   - `Quantity`/`Qty` columns of a period give the quantity, in the unit of the `Unit`
//!     column; `(P)` or `provisional` in a header flags its figures `provisional`;
//!   - shares, changes and growth (`%`) are left out, as are columns without a period or
//!     currency (with a log line when they name one of the two).
//! - **Rows.** Each row with a commodity name and at least one figure gives one trade flow
//!   per period. With both currencies for a period, `value` is the rupee figure (currency
//!   `PKR`, its multiplier) and `value_usd` the dollar figure in plain dollars; with one,
//!   that one is `value`. Empty cells, `-`, `..`, `n.a.` are no figure; other text is a row
//!   error `invalid_number` in its column. Rows without figures are headings: a heading
//!   ending in `group` is the group the following `Others` rows belong to.
//! - **Codes.** Reporter `PAK` and partner `WLD` (the world, ISO3 as WITS writes it),
//!   classification [`CLASSIFICATION`] (`PK-PBS-GROUPS`, created by the hub on first
//!   use), the commodity code the group name folded by [`group_code`]
//!   (`Readymade Garments` → `readymade-garments`); `Total` rows are `TOTAL`, and `Others`
//!   under a group heading `<group>-others` (`textile-group-others`), since every group
//!   has its own `Others`.
//! - **Direction** from the option `flow`, else from the title rows or the sheet's name
//!   (`export` or `import`, when they name one only), else exports, with a log line.
//! - **Source.** `pk-pbs` unless the user names another.
//!
//! Options (`--mapping FILE.toml`): `flow = "import"` (or `"export"`).
//!
//! # Groups and clusters
//!
//! [`GROUPS_CSV`] (`importers/src/trade/pbs_groups.csv`) lists the bureau's groups by
//! code, with the cluster (slug) each belongs to, or none: `knitwear` and
//! `readymade-garments` are `lahore-garments`, `surgical-goods-medical-instruments` (and
//! `surgical-instruments`) `sialkot-surgical`, `footwear`, `leather-footwear` and
//! `leather-garments` `lahore-leather-footwear`, `auto-parts-accessories` and
//! `motor-cycle-parts` `lahore-auto-parts`. Aggregates that mix clusters with other
//! places (`leather-manufactures`, `engineering-goods`) and groups of no CDI cluster (bed
//! wear, sports goods, leather gloves) have none. It is data, so that cluster trade can
//! include the bureau's figures without the code knowing the groups; [`groups`] reads it.

mod table;

use std::collections::VecDeque;
use std::path::Path;

use hub_plugin_sdk::serde_json::{Value, json};
use hub_plugin_sdk::{
    Confidence, Flow, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, RecordKind,
    RecordStream, RowError, SourceRef, TradeArea, TradeFlow,
};

pub use table::{HeaderPeriod, group_code, header_currency, header_multiplier, header_period};
use table::{TablePlan, plan};

use crate::spreadsheet::{
    Cell, CsvOptions, HEADER_SEARCH_ROWS, Row, RowSource, SpreadsheetFile, open_file, parse_number,
};

/// The id of the importer.
pub const IMPORTER_ID: &str = "pk-pbs-trade";

/// The classification the bureau's commodity groups are stored under.
pub const CLASSIFICATION: &str = "PK-PBS-GROUPS";

/// The source of the bureau's figures when the user names none.
pub const DEFAULT_SOURCE: &str = "pk-pbs";

/// The bureau's commodity groups: `group_code,group_name,cluster` (the cluster's slug, or
/// empty), one group a line.
pub const GROUPS_CSV: &str = include_str!("../pbs_groups.csv");

/// The importers of this module: `pk-pbs-trade`.
#[must_use]
pub fn importers() -> Vec<Box<dyn Importer>> {
    vec![Box::new(PbsTradeImporter)]
}

/// One of the bureau's commodity groups and the cluster it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbsGroup {
    /// The code, as [`group_code`] makes it from the name.
    pub code: String,
    /// The name as the bureau writes it.
    pub name: String,
    /// The cluster's slug, e.g. `lahore-garments`, or `None`.
    pub cluster: Option<String>,
}

/// The groups of [`GROUPS_CSV`].
///
/// # Panics
///
/// Never for the embedded file, which the tests read.
#[must_use]
pub fn groups() -> Vec<PbsGroup> {
    let mut reader = csv::Reader::from_reader(GROUPS_CSV.as_bytes());
    reader
        .records()
        .map(|record| {
            let record = record.expect("pbs_groups.csv is valid CSV");
            let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
            PbsGroup {
                code: field(0),
                name: field(1),
                cluster: Some(field(2)).filter(|c| !c.is_empty()),
            }
        })
        .collect()
}

/// Reads the bureau's trade tables by commodity group (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct PbsTradeImporter;

impl Importer for PbsTradeImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            IMPORTER_ID,
            "Pakistan Bureau of Statistics trade by commodity group",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(["csv", "xlsx", "xls", "ods"])
        .with_emits([RecordKind::TradeFlow])
        .with_default_source(DEFAULT_SOURCE)
        .with_options_schema(json!({
            "type": "object",
            "properties": {
                "source": {"type": "string"},
                "importer": {"type": "string"},
                "flow": {"enum": ["export", "import"]}
            },
            "additionalProperties": false
        }))
    }

    /// 85 for text with a `Commodity` header (`Commodities`, `Commodity Group`) whose
    /// columns name periods and currencies, 70 when they name only one of the two; 45 for
    /// a workbook whose file name says `pbs` (its compressed content cannot be seen in the
    /// first bytes); else 0. The generic headers `Description`, `Group` and `Items` are
    /// read but not sniffed: firm lists have them too.
    fn sniff(&self, head: &[u8], file_name: &str) -> Confidence {
        let workbook = head.starts_with(b"PK\x03\x04")
            || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
        if workbook {
            let name = file_name.to_ascii_lowercase();
            return if name.contains("pbs") {
                Confidence::new(45)
            } else {
                Confidence::NONE
            };
        }
        if head.contains(&0) {
            return Confidence::NONE;
        }
        let text = String::from_utf8_lossy(head);
        // The last line may be cut.
        let complete = text.rfind('\n').map_or(&text[..], |end| &text[..end]);
        let delimiter = crate::spreadsheet::detect_delimiter(complete);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(complete.as_bytes());
        let rows: Vec<Row> = reader
            .records()
            .take(HEADER_SEARCH_ROWS + 2)
            .filter_map(Result::ok)
            .enumerate()
            .map(|(i, r)| Row::new(i as u64 + 1, r.iter().map(Cell::text).collect()))
            .collect();
        let Some(plan) = plan(&rows, None).filter(|p| p.strong_commodity_header) else {
            return Confidence::NONE;
        };
        let has_period = plan.names.iter().any(|n| header_period(n).is_some());
        let has_currency = plan.names.iter().any(|n| header_currency(n).is_some());
        match (has_period, has_currency) {
            (true, true) => Confidence::new(85),
            (true, false) | (false, true) => Confidence::new(70),
            (false, false) => Confidence::NONE,
        }
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let flow_option = flow_option(options)?;
        let stem = Path::new(&input.file_name)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut tables = VecDeque::new();
        let mut pending = VecDeque::new();
        match open_file(&input.path, &input.file_name, CsvOptions::default())? {
            SpreadsheetFile::Csv(source) => {
                if let Some(table) = Table::plan(Box::new(source), &stem, None, flow_option)? {
                    tables.push_back(table);
                }
            }
            SpreadsheetFile::Workbook(mut workbook) => {
                for name in workbook.sheet_names() {
                    let source = workbook.sheet(&name)?;
                    match Table::plan(Box::new(source), &name, Some(&name), flow_option)? {
                        Some(table) => tables.push_back(table),
                        None => pending.push_back(Item::log(
                            LogLevel::Info,
                            format!("sheet {name:?} has no commodity column: left out"),
                        )),
                    }
                }
            }
        }
        if tables.is_empty() {
            return Err(ImportError::new(format!(
                "{}: no table of the Pakistan Bureau of Statistics found: no row of the first \
                 {HEADER_SEARCH_ROWS} has a Commodity (or Commodity Group, Description) column",
                input.file_name
            )));
        }
        if tables.iter().all(|t| t.plan.values.is_empty()) {
            return Err(ImportError::new(format!(
                "{}: no column of the table names both a period (July-June 2023-24, FY2023-24, \
                 June 2024) and a currency (US$, Rs): there are no figures to import",
                input.file_name
            )));
        }
        Ok(Box::new(PbsStream {
            file: input.file_name,
            tables,
            pending,
        }))
    }
}

fn flow_option(options: &Value) -> Result<Option<Flow>, ImportError> {
    let object = match options {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(ImportError::new("the options must be an object")),
    };
    let mut flow = None;
    for (key, value) in object {
        match key.as_str() {
            "source" | "importer" => {}
            "flow" => {
                flow = Some(
                    match value.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("export" | "exports") => Flow::Export,
                        Some("import" | "imports") => Flow::Import,
                        _ => {
                            return Err(ImportError::new(
                                "the option flow must be \"export\" or \"import\"",
                            ));
                        }
                    },
                );
            }
            other => {
                return Err(ImportError::new(format!(
                    "unknown option {other:?}; the option is flow (\"export\" or \"import\")"
                )));
            }
        }
    }
    Ok(flow)
}

/// One table being read: its rows and its plan.
struct Table {
    source: Box<dyn RowSource + Send>,
    buffered: VecDeque<Row>,
    plan: TablePlan,
    sheet: Option<String>,
    flow: Flow,
    /// The group heading the rows are under.
    group: Option<String>,
    started: bool,
}

impl Table {
    /// Reads the first rows of `source` and plans it; `None` when it has no commodity
    /// column.
    fn plan(
        mut source: Box<dyn RowSource + Send>,
        title_hint: &str,
        sheet: Option<&str>,
        flow_option: Option<Flow>,
    ) -> Result<Option<Self>, ImportError> {
        let mut rows = Vec::with_capacity(HEADER_SEARCH_ROWS + 2);
        while rows.len() < HEADER_SEARCH_ROWS + 2 {
            match source.next_row()? {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        let Some(mut plan) = plan(&rows, Some(title_hint)) else {
            return Ok(None);
        };
        let flow = match (flow_option, plan.flow_from_title) {
            (Some(flow), _) | (None, Some(flow)) => flow,
            (None, None) => {
                plan.logs.push(Item::log(
                    LogLevel::Warn,
                    format!(
                        "{}: the title names neither exports nor imports: read as exports \
                         (the option flow says otherwise)",
                        sheet.unwrap_or("the table")
                    ),
                ));
                Flow::Export
            }
        };
        for row in rows.iter().filter(|r| r.number <= plan.last_header_row) {
            row.readable(source.file(), sheet)?;
        }
        let buffered = rows
            .into_iter()
            .filter(|r| r.number > plan.last_header_row)
            .collect();
        Ok(Some(Self {
            source,
            buffered,
            plan,
            sheet: sheet.map(str::to_owned),
            flow,
            group: None,
            started: false,
        }))
    }

    fn next_row(&mut self) -> Result<Option<Row>, ImportError> {
        match self.buffered.pop_front() {
            Some(row) => Ok(Some(row)),
            None => Ok(self.source.next_row()?),
        }
    }

    /// The items of one data row.
    fn row(&mut self, file: &str, row: &Row, out: &mut Vec<Item>) {
        if let Some(error) = row.problem_error(
            file,
            self.sheet.as_deref(),
            crate::spreadsheet::column_letter,
        ) {
            out.push(Item::RowError(error));
            return;
        }
        let Some(name) = (match row.cell(self.plan.commodity_column) {
            Cell::Text(t) => Some(t.clone()),
            _ => None,
        }) else {
            return;
        };
        let at = SourceRef {
            file: file.to_owned(),
            sheet: self.sheet.clone(),
            row: Some(row.number),
            column: None,
        };
        let mut errors = Vec::new();
        let mut figures: Vec<Option<f64>> = Vec::with_capacity(self.plan.values.len());
        for value in &self.plan.values {
            let cell = row.cell(value.column);
            figures.push(match figure(cell) {
                Ok(v) => v,
                Err(()) => {
                    let field = match value.currency {
                        Some("USD") if self.pkr_for(&value.period) => "value_usd",
                        Some(_) => "value",
                        None => "quantity",
                    };
                    errors.push(RowError::invalid_number(
                        at.clone().with_column(value.header.clone()),
                        field,
                    ));
                    None
                }
            });
        }
        let mut code = group_code(&name);
        if code.ends_with("group") {
            self.group = Some(code.clone());
        }
        if figures.iter().all(Option::is_none) && errors.is_empty() {
            // A heading (or a note): no figures.
            return;
        }
        out.extend(errors.into_iter().map(Item::from));
        if code.is_empty() {
            return;
        }
        if matches!(code.as_str(), "others" | "other" | "other-items")
            && let Some(group) = &self.group
        {
            code = format!("{group}-{code}");
        }
        let unit = self
            .plan
            .unit_column
            .and_then(|c| row.cell(c).as_text().map(str::to_owned));
        // One flow per period, in the order of the header.
        let mut periods: Vec<&str> = Vec::new();
        for value in &self.plan.values {
            if !periods.contains(&value.period.as_str()) {
                periods.push(&value.period);
            }
        }
        for period in periods {
            let mut usd = None;
            let mut pkr = None;
            let mut quantity = None;
            let mut provisional = false;
            for (value, figure) in self.plan.values.iter().zip(&figures) {
                if value.period != period {
                    continue;
                }
                let Some(figure) = *figure else { continue };
                provisional |= value.provisional;
                match value.currency {
                    Some("USD") => usd = Some((figure, value.multiplier)),
                    Some(_) => pkr = Some((figure, value.multiplier)),
                    None => quantity = Some(figure),
                }
            }
            if usd.is_none() && pkr.is_none() && quantity.is_none() {
                continue;
            }
            let mut flow = TradeFlow::new(
                TradeArea::Iso3("PAK".into()),
                TradeArea::Iso3("WLD".into()),
                self.flow,
                CLASSIFICATION,
                code.clone(),
                period,
            );
            match (pkr, usd) {
                (Some((rupees, m)), usd) => {
                    flow.value = Some(rupees);
                    flow.currency = Some("PKR".into());
                    flow.unit_multiplier = m;
                    flow.value_usd = usd.map(|(d, m)| d * 10f64.powi(m));
                }
                (None, Some((dollars, m))) => {
                    flow.value = Some(dollars);
                    flow.currency = Some("USD".into());
                    flow.unit_multiplier = m;
                }
                (None, None) => {}
            }
            if let Some(q) = quantity {
                flow.quantity = Some(q);
                flow.quantity_unit.clone_from(&unit);
            }
            if provisional {
                flow.flags = Some("provisional".into());
            }
            out.push(Item::record(at.clone(), flow));
        }
    }

    /// Whether the period has a rupee column too (its dollar figure is then `value_usd`).
    fn pkr_for(&self, period: &str) -> bool {
        self.plan
            .values
            .iter()
            .any(|v| v.period == period && v.currency == Some("PKR"))
    }
}

/// A cell as a figure: `Ok(None)` for no figure (empty, `-`, `..`, `n.a.`).
fn figure(cell: &Cell) -> Result<Option<f64>, ()> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) if n.is_finite() => Ok(Some(*n)),
        Cell::Text(t) => {
            let t = t.trim();
            let lower = t.to_lowercase();
            if matches!(
                lower.as_str(),
                "-" | "–" | "—" | ".." | "..." | "…" | "n.a" | "n.a." | "na" | "nil" | "n/a"
            ) {
                return Ok(None);
            }
            parse_number(t)
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or(())
        }
        _ => Err(()),
    }
}

/// The tables of a file, read one after the other.
struct PbsStream {
    file: String,
    tables: VecDeque<Table>,
    pending: VecDeque<Item>,
}

impl RecordStream for PbsStream {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(1024));
        let mut out = Vec::new();
        while batch.len() < max {
            if let Some(item) = self.pending.pop_front() {
                batch.push(item);
                continue;
            }
            let Some(table) = self.tables.front_mut() else {
                break;
            };
            if !table.started {
                table.started = true;
                let p = &table.plan;
                self.pending.push_back(Item::log(
                    LogLevel::Info,
                    format!(
                        "{}: {} of {} value column(s), header row {}",
                        table.sheet.as_deref().unwrap_or(&self.file),
                        match table.flow {
                            Flow::Import => "imports",
                            _ => "exports",
                        },
                        p.values.len(),
                        p.last_header_row
                    ),
                ));
                self.pending.extend(p.logs.iter().cloned());
                let columns = [(
                    "trade_flow.commodity_code".to_owned(),
                    p.commodity_header.clone(),
                )];
                self.pending
                    .push_back(Item::columns(table.sheet.clone(), columns));
                continue;
            }
            match table.next_row()? {
                Some(row) => {
                    table.row(&self.file, &row, &mut out);
                    self.pending.extend(out.drain(..));
                }
                None => {
                    self.tables.pop_front();
                }
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

#[cfg(test)]
mod tests;
