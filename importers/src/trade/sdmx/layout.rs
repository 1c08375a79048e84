//! From SDMX components to trade flows: the roles of components, the options, and the
//! conversion of one observation. Both SDMX formats end here: the CSV and JSON readers
//! only find each observation's component values.

use std::collections::{BTreeMap, HashSet};

use hub_plugin_sdk::serde_json::Value;
use hub_plugin_sdk::{
    Flow, ImportError, Item, LogLevel, RowError, SourceRef, TradeArea, TradeFlow, codes,
};

/// The classification WITS product codes are stored under: its product groups
/// (`64-67_Footwear`) and, unless `hs_classification` names their revision, its HS codes.
pub const WITS_PRODUCT_GROUPS: &str = "WITS-PRODUCT-GROUPS";

/// What a component (dimension, attribute or measure) gives a trade flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The reporting area.
    Reporter,
    /// The partner area.
    Partner,
    /// The direction (or an indicator whose codes say it, such as WITS's `XPRT-TRD-VL`).
    Flow,
    /// The commodity code.
    Product,
    /// The classification of the commodity code (e.g. `H5`).
    Classification,
    /// The period (`TIME_PERIOD`).
    Period,
    /// The observation's value (`OBS_VALUE`).
    Value,
    /// The power of ten of the value (`UNIT_MULT`).
    UnitMultiplier,
    /// The currency or unit of the value.
    Currency,
    /// The observation status (`OBS_STATUS`): `E` marks an estimate.
    Status,
    /// A further dimension the flow is broken down by.
    Breakdown,
    /// Read and ignored.
    Ignore,
}

/// The roles, their option names and the component ids that take them by default, in order
/// of preference (a message with both `FLOW` and `INDICATOR` takes its direction from
/// `FLOW`).
const ROLES: [(Role, &str, &[&str]); 12] = [
    (Role::Reporter, "reporter", &["REPORTER", "REF_AREA"]),
    (Role::Partner, "partner", &["PARTNER", "COUNTERPART_AREA"]),
    (Role::Flow, "flow", &["FLOW", "TRADE_FLOW", "INDICATOR"]),
    (
        Role::Product,
        "product",
        &["PRODUCT", "PRODUCTCODE", "COMMODITY", "CMD"],
    ),
    (
        Role::Classification,
        "classification",
        &["CLASSIFICATION", "PRODUCT_CLASSIFICATION"],
    ),
    (Role::Period, "period", &["TIME_PERIOD"]),
    (Role::Value, "value", &["OBS_VALUE"]),
    (Role::UnitMultiplier, "unit_multiplier", &["UNIT_MULT"]),
    (Role::Currency, "currency", &["CURRENCY", "UNIT_MEASURE"]),
    (Role::Status, "status", &["OBS_STATUS"]),
    (Role::Breakdown, "breakdown", &[]),
    (Role::Ignore, "ignore", &["FREQ"]),
];

impl Role {
    fn parse(word: &str) -> Option<Self> {
        let word = word.trim().to_ascii_lowercase();
        let word = if word == "time" || word == "time_period" {
            "period"
        } else {
            word.as_str()
        };
        ROLES
            .iter()
            .find(|(_, name, _)| *name == word)
            .map(|(role, ..)| *role)
    }

    fn defaults(self) -> &'static [&'static str] {
        ROLES
            .iter()
            .find(|(role, ..)| *role == self)
            .map_or(&[], |(_, _, ids)| ids)
    }

    fn names() -> String {
        ROLES
            .iter()
            .map(|(_, name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The role a component id takes when the options say nothing of it.
    fn default_of(id: &str) -> Option<Self> {
        ROLES
            .iter()
            .find(|(_, _, ids)| ids.contains(&id))
            .map(|(role, ..)| *role)
    }
}

/// Whether a component is a dimension, a measure or an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    /// A dimension: part of the observation's key.
    Dimension,
    /// A measure (`OBS_VALUE`).
    Measure,
    /// An attribute: a note on the observation, series or data set.
    Attribute,
}

/// A component of a message as the reader found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The component's id, upper case (`REPORTER`).
    pub id: String,
    /// Dimension, measure or attribute.
    pub kind: ComponentKind,
    /// How the user finds it in the file: the CSV column's header as written, or the id.
    pub label: String,
}

impl Component {
    /// A component whose label is its id.
    pub fn new(id: &str, kind: ComponentKind) -> Self {
        let id = id.trim().to_ascii_uppercase();
        Self {
            label: id.clone(),
            id,
            kind,
        }
    }
}

// ---- Options ---------------------------------------------------------------------------

/// Values that no component of the message gives, the same for every observation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constants {
    reporter: Option<String>,
    partner: Option<String>,
    flow: Option<Flow>,
    product: Option<String>,
    classification: Option<String>,
    currency: Option<String>,
    unit_multiplier: Option<i32>,
}

/// The options of both SDMX importers (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SdmxOptions {
    /// Component id (upper case) → role, before the defaults.
    dimensions: BTreeMap<String, Role>,
    /// Flow or indicator code (upper case) → direction; `None` skips the code.
    flows: BTreeMap<String, Option<Flow>>,
    constants: Constants,
    /// The HS revision of all-digit product codes (WITS messages mix them with groups).
    hs_classification: Option<String>,
}

/// The option keys; `source` and `importer` are the hub's and are ignored here.
const OPTION_KEYS: [&str; 4] = ["dimensions", "flows", "constants", "hs_classification"];

/// The keys of `constants`.
const CONSTANT_KEYS: [&str; 7] = [
    "reporter",
    "partner",
    "flow",
    "product",
    "classification",
    "currency",
    "unit_multiplier",
];

impl SdmxOptions {
    /// The role the options or the defaults give a component id (upper case).
    #[must_use]
    pub fn role_of(&self, id: &str) -> Option<Role> {
        self.dimensions
            .get(id)
            .copied()
            .or_else(|| Role::default_of(id))
    }

    /// Reads the options (`Null` for none). Unknown keys, roles and directions are errors
    /// that list what is valid.
    pub fn from_value(options: &Value) -> Result<Self, ImportError> {
        let mut parsed = Self::default();
        let object = match options {
            Value::Null => return Ok(parsed),
            Value::Object(object) => object,
            _ => return Err(option_error("the options must be an object")),
        };
        for (key, value) in object {
            match key.as_str() {
                "source" | "importer" => {}
                "dimensions" => {
                    for (id, role) in text_map(key, value)? {
                        let role = Role::parse(&role).ok_or_else(|| {
                            option_error(format!(
                                "dimensions.{id}: {role:?} is not a role; the roles are {}",
                                Role::names()
                            ))
                        })?;
                        parsed
                            .dimensions
                            .insert(id.trim().to_ascii_uppercase(), role);
                    }
                }
                "flows" => {
                    for (code, direction) in text_map(key, value)? {
                        let flow = if direction.trim().eq_ignore_ascii_case("skip") {
                            None
                        } else {
                            Some(parse_direction(&direction).ok_or_else(|| {
                                option_error(format!(
                                    "flows.{code}: {direction:?} is not a direction; write \
                                     import, export, re_export, re_import or skip"
                                ))
                            })?)
                        };
                        parsed.flows.insert(code.trim().to_ascii_uppercase(), flow);
                    }
                }
                "constants" => parsed.constants = constants(value)?,
                "hs_classification" => {
                    parsed.hs_classification = Some(text(key, value)?);
                }
                other => {
                    return Err(option_error(format!(
                        "unknown option {other:?}; the options are {}",
                        OPTION_KEYS.join(", ")
                    )));
                }
            }
        }
        Ok(parsed)
    }
}

fn option_error(message: impl Into<String>) -> ImportError {
    ImportError::new(format!("invalid SDMX options: {}", message.into()))
}

fn text(key: &str, value: &Value) -> Result<String, ImportError> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(option_error(format!("{key} must be a text"))),
    }
}

fn text_map(key: &str, value: &Value) -> Result<Vec<(String, String)>, ImportError> {
    let Value::Object(object) = value else {
        return Err(option_error(format!("{key} must be a table of id = value")));
    };
    object
        .iter()
        .map(|(k, v)| Ok((k.clone(), text(&format!("{key}.{k}"), v)?)))
        .collect()
}

fn constants(value: &Value) -> Result<Constants, ImportError> {
    let mut constants = Constants::default();
    for (key, raw) in text_map("constants", value)? {
        match key.as_str() {
            "reporter" => constants.reporter = Some(raw),
            "partner" => constants.partner = Some(raw),
            "flow" => {
                constants.flow = Some(parse_direction(&raw).ok_or_else(|| {
                    option_error(format!(
                        "constants.flow: {raw:?} is not a direction; write import, export, \
                         re_export or re_import"
                    ))
                })?);
            }
            "product" => constants.product = Some(raw),
            "classification" => constants.classification = Some(raw),
            "currency" => constants.currency = Some(raw.to_ascii_uppercase()),
            "unit_multiplier" => {
                constants.unit_multiplier = Some(raw.parse().map_err(|_| {
                    option_error("constants.unit_multiplier must be a whole number")
                })?);
            }
            other => {
                return Err(option_error(format!(
                    "unknown constant {other:?}; the constants are {}",
                    CONSTANT_KEYS.join(", ")
                )));
            }
        }
    }
    Ok(constants)
}

fn parse_direction(word: &str) -> Option<Flow> {
    match word
        .trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_")
        .as_str()
    {
        "import" | "imports" => Some(Flow::Import),
        "export" | "exports" => Some(Flow::Export),
        "re_export" | "re_exports" => Some(Flow::ReExport),
        "re_import" | "re_imports" => Some(Flow::ReImport),
        _ => None,
    }
}

/// The direction of the codes that flow dimensions use by default: Comtrade's letters and
/// numbers, words, WITS's trade-value indicators and the IMF's Direction of Trade
/// indicators. Anything else (shares, quantities, tariffs) is skipped unless mapped.
fn default_flow(code: &str) -> Option<Flow> {
    match code {
        "M" | "1" | "IMP" | "IMPORT" | "IMPORTS" | "MPRT-TRD-VL" | "TMG_CIF_USD"
        | "TMG_FOB_USD" => Some(Flow::Import),
        "X" | "2" | "EXP" | "EXPORT" | "EXPORTS" | "XPRT-TRD-VL" | "TXG_FOB_USD" => {
            Some(Flow::Export)
        }
        "RX" | "3" | "RE_EXPORT" | "RE-EXPORT" | "REEXPORT" | "RE-EXPORTS" => Some(Flow::ReExport),
        "RM" | "4" | "RE_IMPORT" | "RE-IMPORT" | "REIMPORT" | "RE-IMPORTS" => Some(Flow::ReImport),
        _ => None,
    }
}

/// Units that measure quantities, not money: observations in them are skipped.
const QUANTITY_UNITS: [&str; 24] = [
    "KG",
    "KGM",
    "TNE",
    "T",
    "TON",
    "TONNES",
    "GRM",
    "G",
    "L",
    "LTR",
    "MTQ",
    "M3",
    "MTK",
    "M2",
    "MTR",
    "U",
    "NAR",
    "PCE",
    "NO",
    "NUMBER",
    "PURE_NUMB",
    "PCT",
    "PERCENT",
    "RATIO",
];

/// Dimension values that mean "all" or "not applicable": not a breakdown.
fn is_total_code(value: &str) -> bool {
    matches!(value, "_T" | "_Z" | "")
}

// ---- The layout ------------------------------------------------------------------------

/// Where a trade flow's field comes from.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    /// The component at this index.
    Component(usize),
    /// The same value for every observation (from the options).
    Constant(String),
    /// Nowhere.
    Missing,
}

/// How the components of one message structure make trade flows.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    components: Vec<Component>,
    reporter: Slot,
    partner: Slot,
    flow: Option<usize>,
    product: Slot,
    classification: Option<usize>,
    period: usize,
    value: usize,
    unit_multiplier: Option<usize>,
    currency: Option<usize>,
    status: Option<usize>,
    breakdown: Vec<usize>,
    /// The structure looks like WITS trade statistics (REPORTER, PARTNER, PRODUCTCODE and
    /// INDICATOR dimensions).
    wits_shape: bool,
}

impl Layout {
    /// Gives each component its role and checks that the message is trade statistics: it
    /// needs a reporter, partner, flow and product (a component or a constant), a
    /// `TIME_PERIOD` and an `OBS_VALUE`.
    pub fn resolve(components: Vec<Component>, options: &SdmxOptions) -> Result<Self, ImportError> {
        let role_of = |c: &Component| -> Option<Role> {
            options
                .dimensions
                .get(&c.id)
                .copied()
                .or_else(|| Role::default_of(&c.id))
        };
        // For each role, the component chosen: an explicit mapping first, then the default
        // ids in order of preference.
        let choose = |role: Role| -> Option<usize> {
            let explicit = components
                .iter()
                .position(|c| options.dimensions.get(&c.id) == Some(&role));
            explicit.or_else(|| {
                role.defaults().iter().find_map(|id| {
                    components
                        .iter()
                        .position(|c| c.id == *id && !options.dimensions.contains_key(&c.id))
                })
            })
        };
        let chosen: Vec<(Role, Option<usize>)> = ROLES
            .iter()
            .map(|(role, ..)| *role)
            .filter(|role| !matches!(role, Role::Breakdown | Role::Ignore))
            .map(|role| (role, choose(role)))
            .collect();
        let get = |role: Role| {
            chosen
                .iter()
                .find(|(r, _)| *r == role)
                .and_then(|(_, i)| *i)
        };
        let slot = |role: Role, constant: &Option<String>| match (get(role), constant) {
            (Some(i), _) => Slot::Component(i),
            (None, Some(c)) => Slot::Constant(c.clone()),
            (None, None) => Slot::Missing,
        };
        let constants = &options.constants;
        let reporter = slot(Role::Reporter, &constants.reporter);
        let partner = slot(Role::Partner, &constants.partner);
        let product = slot(Role::Product, &constants.product);
        let flow = get(Role::Flow);

        let mut missing = Vec::new();
        for (role, what, present) in [
            (Role::Reporter, "reporter", reporter != Slot::Missing),
            (Role::Partner, "partner", partner != Slot::Missing),
            (
                Role::Flow,
                "flow",
                flow.is_some() || constants.flow.is_some(),
            ),
            (Role::Product, "product", product != Slot::Missing),
        ] {
            if !present {
                missing.push(format!(
                    "no dimension for the {what} (expected one of {})",
                    role.defaults().join(", ")
                ));
            }
        }
        let dimension_ids = || {
            let ids: Vec<&str> = components
                .iter()
                .filter(|c| c.kind == ComponentKind::Dimension)
                .map(|c| c.id.as_str())
                .collect();
            if ids.is_empty() {
                "none".to_owned()
            } else {
                ids.join(", ")
            }
        };
        if !missing.is_empty() {
            return Err(ImportError::new(format!(
                "this SDMX message is not trade statistics: {}. Its dimensions are {}. A \
                 message that holds trade flows under other names is read with the option \
                 `dimensions` mapping them to roles (e.g. {{\"dimensions\": {{\"REF_AREA\": \
                 \"reporter\"}}}}); reporter, partner and product may also be constants",
                missing.join("; "),
                dimension_ids()
            )));
        }
        let period = get(Role::Period).ok_or_else(|| {
            ImportError::new(format!(
                "this SDMX message has no TIME_PERIOD dimension (its dimensions are {}); map \
                 the dimension holding the period with the option dimensions = \
                 {{\"<ID>\": \"period\"}}",
                dimension_ids()
            ))
        })?;
        let value = get(Role::Value).ok_or_else(|| {
            ImportError::new(
                "this SDMX message has no OBS_VALUE measure: it holds no observation values \
                 (only attributes, or a deletion)",
            )
        })?;
        let used: HashSet<usize> = chosen.iter().filter_map(|(_, i)| *i).collect();
        let breakdown = components
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                !used.contains(i)
                    && match role_of(c) {
                        Some(Role::Ignore) => false,
                        Some(Role::Breakdown) => true,
                        _ => c.kind == ComponentKind::Dimension,
                    }
            })
            .map(|(i, _)| i)
            .collect();
        let has = |id: &str| components.iter().any(|c| c.id == id);
        let wits_shape =
            has("REPORTER") && has("PARTNER") && has("PRODUCTCODE") && has("INDICATOR");
        Ok(Self {
            reporter,
            partner,
            flow,
            product,
            classification: get(Role::Classification),
            period,
            value,
            unit_multiplier: get(Role::UnitMultiplier),
            currency: get(Role::Currency),
            status: get(Role::Status),
            breakdown,
            wits_shape,
            components,
        })
    }

    /// The components, in the order of the values given to [`Converter::convert`].
    #[must_use]
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The record fields and the components they come from, for [`Item::Columns`].
    #[must_use]
    pub fn columns(&self) -> BTreeMap<String, String> {
        let mut columns = BTreeMap::new();
        let mut put = |field: &str, index: Option<usize>| {
            if let Some(i) = index {
                columns.insert(
                    format!("trade_flow.{field}"),
                    self.components[i].label.clone(),
                );
            }
        };
        let slot = |s: &Slot| match s {
            Slot::Component(i) => Some(*i),
            _ => None,
        };
        put("reporter", slot(&self.reporter));
        put("partner", slot(&self.partner));
        put("flow", self.flow);
        put("commodity_code", slot(&self.product));
        put("classification", self.classification);
        put("period", Some(self.period));
        put("value", Some(self.value));
        put("unit_multiplier", self.unit_multiplier);
        put("currency", self.currency);
        columns
    }

    /// The index of the value component.
    #[must_use]
    pub fn value_index(&self) -> usize {
        self.value
    }
}

// ---- Conversion ------------------------------------------------------------------------

/// An observation's value as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObsValue {
    /// No value (empty, `NaN`, `null`): the observation is skipped.
    Missing,
    /// A finite number.
    Number(f64),
    /// Something else: a row error.
    Invalid,
}

/// Reads an observation value written as text: empty or `NaN` is missing; with a decimal
/// comma (semicolon-separated files) `12,5` is 12.5.
#[must_use]
pub fn parse_obs_value(text: &str, decimal_comma: bool) -> ObsValue {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("nan") {
        return ObsValue::Missing;
    }
    let owned;
    let text = if decimal_comma && text.contains(',') && !text.contains('.') {
        owned = text.replacen(',', ".", 1);
        owned.as_str()
    } else {
        text
    };
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && !text.eq_ignore_ascii_case("infinity") => ObsValue::Number(n),
        _ => ObsValue::Invalid,
    }
}

/// Writes an SDMX `TIME_PERIOD` in the hub's canonical form: `2017`, `2017-A1` → `2017`;
/// `2017-Q1`, `2017Q1` → `2017-Q1`; `2017-03`, `2017-M03`, `2017M3` → `2017-03`. A
/// month whose number is also the next year's last two digits (`2011-12`) is written
/// `2011-M12`, which the hub cannot mistake for the fiscal year 2011-12. Other forms (days,
/// weeks, semesters, time ranges) give `None`.
#[must_use]
pub fn normalise_period(raw: &str) -> Option<String> {
    let raw = raw.trim().to_ascii_uppercase();
    let year: i32 = raw.get(..4)?.parse().ok()?;
    if !(1000..=9999).contains(&year) {
        return None;
    }
    let rest = &raw[4..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let number = |s: &str, max: u32| -> Option<u32> {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
            .filter(|n| (1..=max).contains(n))
    };
    if rest.is_empty() || rest == "A1" || rest == "A" {
        return Some(year.to_string());
    }
    if let Some(q) = rest.strip_prefix('Q') {
        return number(q, 4).map(|q| format!("{year}-Q{q}"));
    }
    let month = match rest.strip_prefix('M') {
        Some(m) => number(m, 12)?,
        None if rest.len() == 2 && raw.as_bytes().get(4) == Some(&b'-') => number(rest, 12)?,
        None => return None,
    };
    let next_year = u32::try_from((year + 1).rem_euclid(100)).ok()?;
    Some(if month == next_year {
        format!("{year}-M{month:02}")
    } else {
        format!("{year}-{month:02}")
    })
}

/// Turns observations into trade flows with a [`Layout`], logging each skipped kind of
/// observation once.
#[derive(Debug)]
pub struct Converter {
    layout: Layout,
    options: SdmxOptions,
    /// The message says it is WITS's (sender, dataflow): WITS defaults apply.
    wits_message: bool,
    logged: HashSet<String>,
}

impl Converter {
    /// A converter for observations of `layout`; `wits_message` when the message's sender
    /// or dataflow names WITS.
    #[must_use]
    pub fn new(layout: Layout, options: SdmxOptions, wits_message: bool) -> Self {
        Self {
            layout,
            options,
            wits_message,
            logged: HashSet::new(),
        }
    }

    /// The layout.
    #[must_use]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Converts one observation: `cells` holds each component's value (codes, not labels;
    /// `""` when it has none) in the layout's order, `value` the observation value,
    /// `structure` the dataflow it belongs to (`AGENCY:ID(VERSION)`, when known). Pushes a
    /// record, a row error, or nothing (a missing value, a skipped indicator) and maybe a
    /// log line.
    pub fn convert(
        &mut self,
        cells: &[&str],
        value: ObsValue,
        structure: Option<&str>,
        at: &SourceRef,
        out: &mut Vec<Item>,
    ) {
        let Self {
            layout,
            options,
            wits_message,
            logged,
        } = self;
        let mut log_once = |key: String, message: &dyn Fn() -> String, out: &mut Vec<Item>| {
            if logged.insert(key) {
                out.push(Item::log(LogLevel::Warn, message()));
            }
        };
        let cell = |i: usize| cells.get(i).map_or("", |c| c.trim());
        let column = |i: usize| at.clone().with_column(layout.components[i].label.clone());
        let value = match value {
            ObsValue::Missing => return,
            ObsValue::Number(n) => n,
            ObsValue::Invalid => {
                out.push(RowError::invalid_number(column(layout.value), "value").into());
                return;
            }
        };
        let wits = *wits_message
            || layout.wits_shape
            || structure.is_some_and(|s| s.to_ascii_uppercase().contains("WITS"));

        // The direction; codes that are no trade value are skipped.
        let flow = match layout.flow {
            Some(i) => {
                let code = cell(i).to_ascii_uppercase();
                if code.is_empty() {
                    out.push(RowError::missing_required(column(i), "flow").into());
                    return;
                }
                let mapped = match options.flows.get(&code) {
                    // Skipped on purpose: no log line.
                    Some(None) => return,
                    Some(Some(flow)) => Some(*flow),
                    None => default_flow(&code),
                };
                match mapped {
                    Some(flow) => flow,
                    None => {
                        let id = layout.components[i].id.clone();
                        log_once(
                            format!("flow:{code}"),
                            &|| {
                                format!(
                                    "{id} {code} is not a trade value (import, export, \
                                     re-export or re-import): its observations are skipped. \
                                     Map it with the option flows if it is one."
                                )
                            },
                            out,
                        );
                        return;
                    }
                }
            }
            None => match options.constants.flow {
                Some(flow) => flow,
                None => return,
            },
        };

        // The currency; quantities are no trade value.
        let currency = layout
            .currency
            .map(|i| cell(i).to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .or_else(|| options.constants.currency.clone())
            .or_else(|| wits.then(|| "USD".to_owned()));
        if let Some(unit) = currency
            .as_deref()
            .filter(|unit| QUANTITY_UNITS.contains(unit))
        {
            let unit = unit.to_owned();
            log_once(
                format!("unit:{unit}"),
                &|| {
                    format!(
                        "observations measured in {unit} are quantities, not trade values: \
                         they are skipped"
                    )
                },
                out,
            );
            return;
        }

        let text_of = |slot: &Slot| match slot {
            Slot::Component(i) => cell(*i).to_owned(),
            Slot::Constant(c) => c.clone(),
            Slot::Missing => String::new(),
        };
        let required = |slot: &Slot, field: &str, out: &mut Vec<Item>| -> Option<String> {
            let text = text_of(slot);
            if text.is_empty() {
                let at = match slot {
                    Slot::Component(i) => column(*i),
                    _ => at.clone(),
                };
                out.push(RowError::missing_required(at, field).into());
                None
            } else {
                Some(text)
            }
        };
        let (Some(reporter), Some(partner), Some(product)) = (
            required(&layout.reporter, "reporter", out),
            required(&layout.partner, "partner", out),
            required(&layout.product, "commodity_code", out),
        ) else {
            return;
        };
        let raw_period = cell(layout.period);
        let Some(period) = normalise_period(raw_period) else {
            let error = if raw_period.is_empty() {
                RowError::missing_required(column(layout.period), "period")
            } else {
                RowError::error(
                    column(layout.period),
                    "invalid_period",
                    format!(
                        "The field period must be a year (2017), a quarter (2017-Q1) or a \
                         month (2017-03 or 2017-M03), not {raw_period:?}."
                    ),
                )
                .with_field("period")
            };
            out.push(error.into());
            return;
        };
        let unit_multiplier = match layout.unit_multiplier.map(cell).filter(|m| !m.is_empty()) {
            Some(text) => match text.parse::<i32>() {
                Ok(m) => m,
                Err(_) => {
                    let i = layout.unit_multiplier.unwrap_or(layout.value);
                    out.push(RowError::invalid_number(column(i), "unit_multiplier").into());
                    return;
                }
            },
            None => options
                .constants
                .unit_multiplier
                .unwrap_or(if wits { 3 } else { 0 }),
        };

        // The commodity code and its classification.
        let upper = product.to_ascii_uppercase();
        let product = if upper == "_T"
            || upper == "TOTAL"
            || (wits && matches!(upper.as_str(), "999999" | "ALL" | "ALLPRODUCTS"))
        {
            "TOTAL".to_owned()
        } else {
            product
        };
        let all_digits = product.bytes().all(|b| b.is_ascii_digit());
        let classification = match (
            options.hs_classification.as_deref().filter(|_| all_digits),
            layout.classification.map(cell).filter(|c| !c.is_empty()),
            options.constants.classification.as_deref(),
        ) {
            (Some(hs), ..) => Some(hs.to_owned()),
            (None, Some(c), _) | (None, None, Some(c)) => Some(c.to_owned()),
            (None, None, None) if wits => Some(WITS_PRODUCT_GROUPS.to_owned()),
            (None, None, None) => structure.map(dataflow_id).filter(|s| !s.is_empty()),
        };
        let Some(classification) = classification else {
            out.push(
                RowError::error(
                    at.clone(),
                    codes::MISSING_REQUIRED,
                    "The classification of the product codes is not known: the message \
                     names no dataflow; give it with the option constants.classification.",
                )
                .with_field("classification")
                .into(),
            );
            return;
        };

        let mut record = TradeFlow::new(
            TradeArea::Iso3(reporter),
            TradeArea::Iso3(partner),
            flow,
            classification,
            product,
            period,
        );
        record.value = Some(value);
        record.currency = currency;
        record.unit_multiplier = unit_multiplier;
        if let Some(status) = layout.status.map(cell).filter(|s| !s.is_empty()) {
            let status = status.to_ascii_uppercase();
            record.is_value_estimated = status == "E";
            if status != "A" {
                record.flags = Some(status);
            }
        }
        for &i in &layout.breakdown {
            let v = cell(i);
            if !is_total_code(v) {
                record
                    .breakdown
                    .insert(layout.components[i].id.clone(), v.to_owned());
            }
        }
        out.push(Item::record(at.clone(), record));
    }
}

/// `ESTAT:DS-045409(1.0)` → `ESTAT:DS-045409`: a dataflow without its version, the
/// classification of product codes no component or option names.
#[must_use]
pub fn dataflow_id(structure: &str) -> String {
    let id = structure
        .split_once(": ")
        .map_or(structure, |(id, _)| id)
        .trim();
    id.split_once('(')
        .map_or(id, |(id, _)| id)
        .trim()
        .to_owned()
}

/// The code of a cell written `ID: Name` (labels `both`), or the cell.
#[must_use]
pub fn code_of(cell: &str) -> &str {
    cell.split_once(": ").map_or(cell, |(id, _)| id).trim()
}
