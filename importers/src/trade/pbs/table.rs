//! The layout of a bureau table: its header, its value columns and their periods,
//! currencies and units, its direction, and the codes of its commodity groups.

use hub_plugin_sdk::{Flow, Item, LogLevel};

use crate::spreadsheet::{Cell, HEADER_SEARCH_ROWS, Row, normalise_header};

/// The header words of the commodity column, compared normalised and in lower case; the
/// first six name it unmistakably.
const COMMODITY_HEADERS: [&str; 11] = [
    "commodity",
    "commodities",
    "commodity group",
    "commodity groups",
    "commodity description",
    "major commodities",
    "description",
    "group",
    "groups",
    "item",
    "items",
];

/// The header words of the quantity-unit column.
const UNIT_HEADERS: [&str; 4] = ["unit", "units", "unit of quantity", "qty unit"];

/// The months, by their first three letters.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A period named by a column header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderPeriod {
    /// The fiscal year starting in July of the year: `July-June 2023-24`, `FY2023-24`,
    /// `2023-24`.
    Fiscal(i32),
    /// A month: `June 2024`, `Jun-24`.
    Month(i32, u32),
    /// A calendar year: `2023`.
    Year(i32),
    /// Part of a fiscal year, cumulated (`July-March 2023-24`): no period the hub knows.
    Partial,
}

impl HeaderPeriod {
    /// The period as the hub reads it: `FY2023-24`, `2024-06` (`2011-M12` where the short
    /// form could be read as a fiscal year), `2023`.
    #[must_use]
    pub fn canonical(self) -> Option<String> {
        match self {
            Self::Fiscal(y) => Some(format!("FY{y}-{:02}", (y + 1).rem_euclid(100))),
            Self::Month(y, m) => crate::trade::sdmx::normalise_period(&format!("{y}-M{m:02}")),
            Self::Year(y) => Some(y.to_string()),
            Self::Partial => None,
        }
    }
}

/// Reads the period a header names, if any.
#[must_use]
pub fn header_period(text: &str) -> Option<HeaderPeriod> {
    let lower = text.to_lowercase();
    let bytes = lower.as_bytes();
    // Month words, in order.
    let months: Vec<u32> = words(&lower)
        .filter_map(|w| {
            let w = w.trim_end_matches('.');
            (w.len() >= 3 && w.bytes().all(|b| b.is_ascii_alphabetic()))
                .then(|| {
                    MONTHS.iter().position(|m| {
                        w.starts_with(m) && (w.len() == 3 || full_month(w, m) || w == "sept")
                    })
                })
                .flatten()
                .map(|i| i as u32 + 1)
        })
        .collect();
    // Numbers with their byte ranges.
    let mut numbers: Vec<(usize, usize, &str)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            // `'000` (thousands) is a unit, not a year.
            if &lower[start..i] != "000" {
                numbers.push((start, i, &lower[start..i]));
            }
        } else {
            i += 1;
        }
    }
    // A fiscal year: a four-digit year, a dash or slash, the next year in two or four digits.
    for pair in numbers.windows(2) {
        let ((_, end, first), (start, _, second)) = (pair[0], pair[1]);
        let between = lower[end..start].trim();
        if first.len() != 4 || !matches!(between, "-" | "/" | "–" | "—") {
            continue;
        }
        let Ok(year) = first.parse::<i32>() else {
            continue;
        };
        let next = second.parse::<i32>().ok();
        let follows = match second.len() {
            2 => next == Some((year + 1).rem_euclid(100)),
            4 => next == Some(year + 1),
            _ => false,
        };
        if !follows {
            continue;
        }
        return Some(match months.as_slice() {
            [] | [7, 6] => HeaderPeriod::Fiscal(year),
            [7, _] => HeaderPeriod::Partial,
            [m] => HeaderPeriod::Month(if *m >= 7 { year } else { year + 1 }, *m),
            _ => HeaderPeriod::Partial,
        });
    }
    let years: Vec<i32> = numbers
        .iter()
        .filter(|(_, _, n)| n.len() == 4)
        .filter_map(|(_, _, n)| n.parse().ok())
        .filter(|y| (1900..=2200).contains(y))
        .collect();
    match (months.as_slice(), years.as_slice()) {
        ([m], [y]) => Some(HeaderPeriod::Month(*y, *m)),
        ([], [y]) if numbers.len() == 1 => Some(HeaderPeriod::Year(*y)),
        ([_, _, ..], [_]) => Some(HeaderPeriod::Partial),
        ([m], []) => {
            // `Jun-24`: a month and a two-digit year.
            let short: Vec<&str> = numbers
                .iter()
                .filter(|(_, _, n)| n.len() == 2)
                .map(|(_, _, n)| *n)
                .collect();
            match short.as_slice() {
                [yy] => yy
                    .parse::<i32>()
                    .ok()
                    .map(|yy| HeaderPeriod::Month(2000 + yy, *m)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn full_month(word: &str, prefix: &str) -> bool {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL.iter().any(|f| f.starts_with(prefix) && *f == word)
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric() && c != '$' && c != '.')
        .filter(|w| !w.is_empty())
}

/// The currency a header names: US dollars or Pakistani rupees.
#[must_use]
pub fn header_currency(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = words(&lower).map(|w| w.trim_end_matches('.')).collect();
    if lower.contains("us$")
        || lower.contains('$')
        || tokens
            .iter()
            .any(|t| matches!(*t, "usd" | "dollar" | "dollars"))
    {
        Some("USD")
    } else if tokens
        .iter()
        .any(|t| matches!(*t, "rs" | "pkr" | "rupee" | "rupees" | "rs.") || t.starts_with("rs."))
    {
        Some("PKR")
    } else {
        None
    }
}

/// The power of ten a header names: million 6, thousand (`000`) 3, billion 9, crore 7,
/// lakh 5; else 0.
#[must_use]
pub fn header_multiplier(text: &str) -> i32 {
    let lower = text.to_lowercase();
    for token in words(&lower).map(|w| w.trim_end_matches('.')) {
        match token {
            "million" | "millions" | "mln" | "mn" | "m" => return 6,
            "thousand" | "thousands" | "000" | "th" => return 3,
            "billion" | "billions" | "bn" => return 9,
            "crore" | "crores" => return 7,
            "lakh" | "lakhs" | "lac" => return 5,
            _ => {}
        }
    }
    0
}

/// The code of a commodity group: its name folded to lower-case words joined by `-`, with
/// list numbering (`1.`, `(ii)`, `A.`), footnote marks (`*`, `(P)`) and `&`/`and` left
/// out and hyphens inside words dropped (`Ready-made` is `readymade`). Totals are `TOTAL`.
/// `Readymade Garments` → `readymade-garments`, `Surgical Goods & Medical Instruments` →
/// `surgical-goods-medical-instruments`.
#[must_use]
pub fn group_code(name: &str) -> String {
    let mut text = name.trim().to_lowercase();
    // List numbering.
    let mut stripped = true;
    while stripped {
        stripped = false;
        let candidate = text.trim_start();
        let inner = candidate.strip_prefix('(').unwrap_or(candidate);
        if let Some(end) = inner.find(['.', ')'])
            && end > 0
            && end <= 4
            && inner[..end].chars().all(|c| c.is_ascii_alphanumeric())
            && inner[end + 1..].starts_with(char::is_whitespace)
            && (inner[..end].len() == 1
                || inner[..end].chars().all(|c| c.is_ascii_digit())
                || inner[..end].chars().all(|c| "ivxlc".contains(c)))
        {
            text = inner[end + 1..].trim_start().to_owned();
            stripped = true;
        }
    }
    // Short parenthesised footnote marks: `(P)`, `(a)`, `(R)`.
    let mut cleaned = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('(') {
        let close = rest[open..].find(')').map(|c| open + c);
        match close {
            Some(close) if close - open <= 4 => {
                cleaned.push_str(&rest[..open]);
                rest = &rest[close + 1..];
            }
            _ => {
                cleaned.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    cleaned.push_str(rest);
    let chars: Vec<char> = cleaned.chars().collect();
    let mut folded = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let joins_letters = (c == '-' || c == '\'' || c == '’')
            && i > 0
            && chars[i - 1].is_alphabetic()
            && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
        if joins_letters {
            continue;
        }
        folded.push(if c.is_alphanumeric() { c } else { ' ' });
    }
    let words: Vec<&str> = folded.split_whitespace().filter(|w| *w != "and").collect();
    let code = words.join("-");
    if code == "total"
        || code == "grand-total"
        || code.starts_with("total-exports")
        || code.starts_with("total-imports")
    {
        "TOTAL".to_owned()
    } else {
        code
    }
}

/// What a value column holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueColumn {
    /// The 0-based column.
    pub column: usize,
    /// The header as written, for row errors.
    pub header: String,
    /// The period, canonical.
    pub period: String,
    /// `USD`, `PKR`, or `None` for a quantity column.
    pub currency: Option<&'static str>,
    /// The power of ten of the values.
    pub multiplier: i32,
    /// The header marks the figures provisional (`(P)`, `provisional`).
    pub provisional: bool,
}

/// How a sheet is read.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    /// The row number of the last header row; data start below it.
    pub last_header_row: u64,
    /// The commodity column and its header.
    pub commodity_column: usize,
    pub commodity_header: String,
    /// The quantity-unit column.
    pub unit_column: Option<usize>,
    /// The value and quantity columns, in the sheet's order.
    pub values: Vec<ValueColumn>,
    /// The direction the title or the sheet's name says, if it says one.
    pub flow_from_title: Option<Flow>,
    /// What the plan left out, for the log.
    pub logs: Vec<Item>,
    /// Each column's name (both header rows), `""` for none.
    pub names: Vec<String>,
    /// The commodity column's header is one of the unmistakable ones (`Commodity`…).
    pub strong_commodity_header: bool,
}

fn text_of(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn is_commodity_header(cell: &Cell) -> bool {
    cell.as_text()
        .is_some_and(|t| COMMODITY_HEADERS.contains(&normalise_header(t).to_lowercase().as_str()))
}

/// The direction a text names: exports or imports, when it names one of them only.
#[must_use]
pub fn flow_in(text: &str) -> Option<Flow> {
    let lower = text.to_lowercase();
    match (lower.contains("export"), lower.contains("import")) {
        (true, false) => Some(Flow::Export),
        (false, true) => Some(Flow::Import),
        _ => None,
    }
}

/// Plans a sheet from its first rows: `None` when no row of the first
/// [`HEADER_SEARCH_ROWS`] has a commodity header.
#[must_use]
pub fn plan(rows: &[Row], sheet: Option<&str>) -> Option<TablePlan> {
    let search = &rows[..rows.len().min(HEADER_SEARCH_ROWS)];
    let at = search
        .iter()
        .position(|r| r.cells.iter().any(is_commodity_header))?;
    let header = &rows[at];
    let commodity_column = header.cells.iter().position(is_commodity_header)?;
    // A sub-header: the next row, with no commodity and text only (`Quantity`, `US$
    // million` under a period merged across them).
    let sub = rows.get(at + 1).filter(|next| {
        next.cell(commodity_column).is_empty()
            && next.cells.iter().any(|c| matches!(c, Cell::Text(_)))
            && next
                .cells
                .iter()
                .all(|c| matches!(c, Cell::Text(_) | Cell::Empty))
    });
    let width = header.cells.len().max(sub.map_or(0, |s| s.cells.len()));
    let mut parent = String::new();
    let mut names = Vec::with_capacity(width);
    for column in 0..width {
        let top = text_of(header.cell(column));
        if !top.is_empty() || sub.is_none() || column <= commodity_column {
            parent = top;
        }
        let below = sub.map(|s| text_of(s.cell(column))).unwrap_or_default();
        let name = match (parent.is_empty(), below.is_empty()) {
            (false, false) if normalise_header(&parent) != normalise_header(&below) => {
                format!(
                    "{} / {}",
                    normalise_header(&parent),
                    normalise_header(&below)
                )
            }
            (false, _) => normalise_header(&parent),
            (true, false) => normalise_header(&below),
            (true, true) => String::new(),
        };
        names.push(name);
    }
    let title: String = rows[..at]
        .iter()
        .flat_map(|r| r.cells.iter().map(text_of))
        .chain(sheet.map(str::to_owned))
        .collect::<Vec<_>>()
        .join(" ");
    let mut logs = Vec::new();
    let mut values = Vec::new();
    let mut unit_column = None;
    for (column, name) in names.iter().enumerate() {
        if column == commodity_column || name.is_empty() {
            continue;
        }
        let lower = name.to_lowercase();
        if UNIT_HEADERS.contains(&lower.as_str()) {
            unit_column = Some(column);
            continue;
        }
        let period = header_period(name);
        let currency = header_currency(name);
        let quantity = lower.contains("quantity") || lower.split_whitespace().any(|w| w == "qty");
        let skip = |why: &str| {
            Item::log(
                LogLevel::Info,
                format!("column {name:?} is not imported: {why}"),
            )
        };
        if ["%", "share", "change", "growth", "percent"]
            .iter()
            .any(|w| lower.contains(w))
        {
            if period.is_some() || currency.is_some() {
                logs.push(skip("shares and changes are no trade values"));
            }
            continue;
        }
        let canonical = match period {
            Some(HeaderPeriod::Partial) => {
                logs.push(skip(
                    "a cumulated part of a fiscal year (July to a month other than June) is \
                     no period the hub knows",
                ));
                continue;
            }
            Some(p) => p.canonical(),
            None => None,
        };
        let Some(canonical) = canonical else {
            if currency.is_some() || quantity {
                logs.push(skip("its header names no period"));
            }
            continue;
        };
        if currency.is_none() && !quantity {
            logs.push(skip(
                "its header names no currency (US$, Rs) and is no quantity",
            ));
            continue;
        }
        let provisional = lower.contains("provisional")
            || lower.contains("(p)")
            || lower.split_whitespace().any(|w| w == "p");
        values.push(ValueColumn {
            column,
            header: name.clone(),
            period: canonical,
            currency: if quantity { None } else { currency },
            multiplier: if quantity { 0 } else { header_multiplier(name) },
            provisional,
        });
    }
    let commodity_header = normalise_header(&text_of(header.cell(commodity_column)));
    let strong_commodity_header =
        COMMODITY_HEADERS[..6].contains(&commodity_header.to_lowercase().as_str());
    Some(TablePlan {
        last_header_row: sub.map_or(header.number, |s| s.number),
        commodity_column,
        commodity_header,
        unit_column,
        values,
        flow_from_title: flow_in(&title),
        logs,
        names,
        strong_commodity_header,
    })
}
