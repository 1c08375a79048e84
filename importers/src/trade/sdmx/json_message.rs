//! SDMX-JSON data messages, versions 1.0 and 2.x (importer `sdmx-json`), WITS trade
//! statistics among them.
//!
//! SDMX-JSON 1.0 puts the structure next to the data sets; 2.x puts both under `data`
//! and lets each data set name its structure by position:
//!
//! ```text
//! {"header": {…}, "structure": {"dimensions": {…}, "attributes": {…}}, "dataSets": [{…}]}
//! {"meta": {…}, "data": {"structures": [{…}], "dataSets": [{"structure": 0, …}]}, "errors": []}
//! ```
//!
//! A WITS trade-statistics response (dataflow `DF_WITS_TradeStats_Trade`), in the series
//! form: the key `"0:0:0:0:1"` gives, for each series dimension in order, the **position**
//! of its value in the structure's value list; the observation key `"0"` does the same for
//! the observation dimension (`TIME_PERIOD`); an observation is `[value, attribute
//! positions…]`. Values are thousands of US dollars:
//!
//! ```text
//! {"header": {"sender": {"id": "WITS"}},
//!  "dataSets": [{"series": {"0:0:0:0:1": {"attributes": [], "observations": {"0": [4420.5]}}}}],
//!  "structure": {"dimensions": {
//!    "series": [{"id": "FREQ", "values": [{"id": "A"}]}, {"id": "REPORTER", "values": [{"id": "PAK"}]},
//!               {"id": "PARTNER", "values": [{"id": "WLD"}]},
//!               {"id": "PRODUCTCODE", "values": [{"id": "64-67_Footwear"}]},
//!               {"id": "INDICATOR", "values": [{"id": "MPRT-TRD-VL"}, {"id": "XPRT-TRD-VL"}]}],
//!    "observation": [{"id": "TIME_PERIOD", "values": [{"id": "2022"}]}]}}}
//! ```
//!
//! - **Forms.** The series form (`series` → `observations`) and the flat form
//!   (`observations` keyed by all non-data-set dimensions) are both read, in 1.0 and 2.x.
//!   Data-set-level dimensions and attributes have their single value (or `default`).
//!   Series and observation attributes are positions into their value lists too; `null` is
//!   no value. With several measures (2.x `measures`), the one of role `value`
//!   (`OBS_VALUE`) is read.
//! - **Reading.** The message is parsed whole (SDMX-JSON 1.0, WITS's, may put the structure
//!   after the data), each observation kept as a small array; the items are then produced a
//!   series at a time. Truncated or invalid JSON is an import error naming the line and
//!   column. A message with `errors` and no data (WITS's "no records found") is an import
//!   error quoting them.
//! - **Places.** Records and row errors name the data set and series as their sheet
//!   (`dataset 1, series 0:0:0:0:1`) and the observation's position in it as their row.
//! - **Values.** `null`, `"NaN"` and `""` skip the observation; any other non-number is a
//!   row error `invalid_number` in the column `OBS_VALUE`.
//!
//! What becomes of the components is the business of [`super::layout`], shared with
//! SDMX-CSV.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::BufReader;

use hub_plugin_sdk::serde_json::{self, Value};
use hub_plugin_sdk::{
    Confidence, ImportError, Importer, ImporterManifest, Input, Item, LogLevel, RecordKind,
    RecordStream, RowError, SourceRef, codes,
};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de};

use super::layout::{
    Component, ComponentKind, Converter, Layout, ObsValue, Role, SdmxOptions, parse_obs_value,
};

/// The id of the SDMX-JSON importer.
pub const IMPORTER_ID: &str = "sdmx-json";

/// Reads SDMX-JSON 1.0 and 2.x data messages of trade statistics (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct SdmxJsonImporter;

impl Importer for SdmxJsonImporter {
    fn manifest(&self) -> ImporterManifest {
        ImporterManifest::new(
            IMPORTER_ID,
            "SDMX-JSON trade statistics (1.0 and 2.x, WITS)",
            env!("CARGO_PKG_VERSION"),
        )
        .with_extensions(["json"])
        .with_mime_types(["application/vnd.sdmx.data+json", "application/json"])
        .with_emits([RecordKind::TradeFlow])
        .with_options_schema(super::options_schema())
    }

    /// 95 for a JSON object naming `dataSets`, or a `structure`/`structures` with
    /// `dimensions` (in 2.x the structures come first and may fill the first kilobytes);
    /// else 0.
    fn sniff(&self, head: &[u8], _file_name: &str) -> Confidence {
        let text = String::from_utf8_lossy(head);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if !text.starts_with('{') {
            return Confidence::NONE;
        }
        let data_sets = text.contains("\"dataSets\"");
        let structure = (text.contains("\"structure\"") || text.contains("\"structures\""))
            && text.contains("\"dimensions\"");
        if data_sets || structure {
            Confidence::new(95)
        } else {
            Confidence::NONE
        }
    }

    fn open(
        &mut self,
        input: Input,
        options: &Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
        let options = SdmxOptions::from_value(options)?;
        let file = File::open(&input.path)?;
        let message: Message =
            serde_json::from_reader(BufReader::new(file)).map_err(|e| json_error(&input, &e))?;
        Ok(Box::new(JsonStream::new(
            input.file_name,
            message,
            &options,
        )?))
    }
}

fn json_error(input: &Input, e: &serde_json::Error) -> ImportError {
    let at = SourceRef::row(input.file_name.clone(), e.line() as u64);
    let message = match e.classify() {
        serde_json::error::Category::Eof => format!(
            "the SDMX-JSON message is truncated: the JSON ends at line {}, column {} before \
             it is complete",
            e.line(),
            e.column()
        ),
        serde_json::error::Category::Syntax => {
            format!("the file is not valid JSON: {e}")
        }
        serde_json::error::Category::Data => {
            format!("the file is not an SDMX-JSON data message: {e}")
        }
        serde_json::error::Category::Io => format!("cannot read the file: {e}"),
    };
    ImportError::at(at, message)
}

// ---- The message, as parsed ------------------------------------------------------------

/// An SDMX-JSON message of either version; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    header: Option<Value>,
    #[serde(default)]
    meta: Option<Value>,
    /// 1.0.
    #[serde(default)]
    structure: Option<Structure>,
    /// 1.0.
    #[serde(default, rename = "dataSets", alias = "datasets")]
    data_sets: Option<Vec<DataSet>>,
    /// 2.x.
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
}

/// The `data` of a 2.x message.
#[derive(Debug, Deserialize)]
struct Data {
    #[serde(default)]
    structures: Option<Vec<Structure>>,
    #[serde(default)]
    structure: Option<Structure>,
    #[serde(default, rename = "dataSets", alias = "datasets")]
    data_sets: Option<Vec<DataSet>>,
}

#[derive(Debug, Deserialize)]
struct Structure {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    links: Option<Vec<Link>>,
    #[serde(default)]
    dimensions: Option<Groups>,
    #[serde(default)]
    attributes: Option<Groups>,
    #[serde(default)]
    measures: Option<Groups>,
}

/// Components by attachment level.
#[derive(Debug, Default, Deserialize)]
struct Groups {
    #[serde(default, rename = "dataSet", alias = "dataset")]
    data_set: Option<Vec<ComponentDef>>,
    #[serde(default)]
    series: Option<Vec<ComponentDef>>,
    #[serde(default)]
    observation: Option<Vec<ComponentDef>>,
    #[serde(default, rename = "dimensionGroup")]
    dimension_group: Option<Vec<ComponentDef>>,
}

#[derive(Debug, Deserialize)]
struct ComponentDef {
    id: String,
    #[serde(default)]
    values: Option<Vec<Value>>,
    #[serde(default)]
    default: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Link {
    #[serde(default)]
    href: Option<Value>,
    #[serde(default)]
    urn: Option<Value>,
    #[serde(default)]
    rel: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct DataSet {
    #[serde(default)]
    structure: Option<Value>,
    #[serde(default)]
    links: Option<Vec<Link>>,
    #[serde(default)]
    attributes: Option<Vec<Value>>,
    #[serde(default)]
    series: Option<Entries<SeriesData>>,
    #[serde(default)]
    observations: Option<Entries<Vec<Value>>>,
}

#[derive(Debug, Deserialize)]
struct SeriesData {
    #[serde(default)]
    attributes: Option<Vec<Value>>,
    #[serde(default)]
    observations: Option<Entries<Vec<Value>>>,
}

/// A JSON object's entries in file order (keys are series and observation keys).
#[derive(Debug)]
struct Entries<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object keyed by SDMX keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some((key, value)) = map.next_entry::<String, T>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Entries(Vec::new()))
            }
        }
        deserializer.deserialize_any(EntriesVisitor(std::marker::PhantomData))
    }
}

/// The component definitions of one attachment level.
fn list(group: &Option<Vec<ComponentDef>>) -> Vec<&ComponentDef> {
    group.as_deref().unwrap_or(&[]).iter().collect()
}

/// The text of a component value: `{"id": "PAK"}`, `{"value": "…"}`, or a bare value.
fn value_text(value: &Value) -> String {
    match value {
        Value::Object(object) => object
            .get("id")
            .or_else(|| object.get("value"))
            .map(value_text)
            .unwrap_or_default(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) => String::new(),
    }
}

/// `…Dataflow=WBG_WITS:DF_WITS_TradeStats_Trade(1.0)` or `…/dataflow/ECB/EXR/1.0` →
/// `AGENCY:ID(VERSION)`.
fn dataflow_of(links: &[Link]) -> Option<String> {
    links.iter().find_map(|link| {
        let rel = link.rel.as_ref().and_then(Value::as_str).unwrap_or("");
        if !rel.eq_ignore_ascii_case("dataflow") {
            return None;
        }
        if let Some(urn) = link.urn.as_ref().and_then(Value::as_str)
            && let Some((_, id)) = urn.split_once('=')
        {
            return Some(id.to_owned());
        }
        let href = link.href.as_ref().and_then(Value::as_str)?;
        let parts: Vec<&str> = href.trim_end_matches('/').rsplit('/').take(3).collect();
        match parts.as_slice() {
            [version, id, agency] => Some(format!("{agency}:{id}({version})")),
            _ => None,
        }
    })
}

// ---- A structure, prepared -------------------------------------------------------------

/// The codes of one structure, with its components flattened in the layout's order:
/// data-set, series and observation dimensions, measures, then data-set, series and
/// observation attributes.
#[derive(Debug)]
struct Codes {
    /// Each component's id.
    ids: Vec<String>,
    /// Each component's values (codes), by their position in the structure.
    values: Vec<Vec<String>>,
    /// Each component's default.
    defaults: Vec<Option<String>>,
    /// Component indices by group.
    dataset_dims: Vec<usize>,
    series_dims: Vec<usize>,
    obs_dims: Vec<usize>,
    measure_count: usize,
    /// The position of the value among the observation's measures.
    value_measure: usize,
    dataset_attrs: Vec<usize>,
    series_attrs: Vec<usize>,
    obs_attrs: Vec<usize>,
}

/// One structure of the message, ready to convert its observations.
#[derive(Debug)]
struct Prepared {
    converter: Converter,
    codes: Codes,
    dataflow: Option<String>,
}

impl Prepared {
    fn new(
        structure: &Structure,
        options: &SdmxOptions,
        wits_message: bool,
    ) -> Result<(Self, Vec<Item>), ImportError> {
        let dimensions = structure.dimensions.as_ref().ok_or_else(|| {
            ImportError::new(
                "the file is not an SDMX-JSON data message: its structure has no dimensions",
            )
        })?;
        let no_groups = Groups::default();
        let attributes = structure.attributes.as_ref().unwrap_or(&no_groups);
        let mut components = Vec::new();
        let mut values = Vec::new();
        let mut defaults = Vec::new();
        let mut push = |def: &ComponentDef, kind: ComponentKind| -> usize {
            components.push(Component::new(&def.id, kind));
            values.push(
                def.values
                    .as_deref()
                    .unwrap_or(&[])
                    .iter()
                    .map(value_text)
                    .collect(),
            );
            defaults.push(def.default.as_ref().map(value_text));
            components.len() - 1
        };
        let mut group = |defs: Vec<&ComponentDef>, kind| -> Vec<usize> {
            defs.into_iter().map(|d| push(d, kind)).collect()
        };
        let dataset_dims = group(list(&dimensions.data_set), ComponentKind::Dimension);
        let series_dims = group(list(&dimensions.series), ComponentKind::Dimension);
        let obs_dims = group(list(&dimensions.observation), ComponentKind::Dimension);
        let mut measures: Vec<&ComponentDef> = structure
            .measures
            .as_ref()
            .map(|m| list(&m.observation))
            .unwrap_or_default();
        let synthetic = ComponentDef {
            id: "OBS_VALUE".into(),
            values: None,
            default: None,
        };
        if measures.is_empty() {
            measures.push(&synthetic);
        }
        let value_measure = measures
            .iter()
            .position(|m| options.role_of(&m.id.trim().to_ascii_uppercase()) == Some(Role::Value))
            .unwrap_or(0);
        let measure_count = group(measures, ComponentKind::Measure).len();
        let dataset_attrs = group(list(&attributes.data_set), ComponentKind::Attribute);
        let series_attrs = group(list(&attributes.series), ComponentKind::Attribute);
        let obs_attrs = group(list(&attributes.observation), ComponentKind::Attribute);
        let mut logs = Vec::new();
        let group_attrs: Vec<&str> = list(&attributes.dimension_group)
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        if !group_attrs.is_empty() {
            logs.push(Item::log(
                LogLevel::Warn,
                format!(
                    "attributes attached to dimension groups are not read: {}",
                    group_attrs.join(", ")
                ),
            ));
        }
        let ids = components.iter().map(|c| c.id.clone()).collect();
        let layout = Layout::resolve(components, options)?;
        let dataflow = dataflow_of(structure.links.as_deref().unwrap_or(&[]));
        let name = structure.name.as_ref().map(value_text).unwrap_or_default();
        let wits = wits_message
            || dataflow
                .as_deref()
                .is_some_and(|d| d.to_ascii_uppercase().contains("WITS"))
            || name.to_ascii_uppercase().contains("WITS");
        Ok((
            Self {
                converter: Converter::new(layout, options.clone(), wits),
                codes: Codes {
                    ids,
                    values,
                    defaults,
                    dataset_dims,
                    series_dims,
                    obs_dims,
                    measure_count,
                    value_measure,
                    dataset_attrs,
                    series_attrs,
                    obs_attrs,
                },
                dataflow,
            },
            logs,
        ))
    }
}

impl Codes {
    /// The code at `position` of component `index`, or `None` when the position is out of
    /// range.
    fn code(&self, index: usize, position: usize) -> Option<&str> {
        self.values[index].get(position).map(String::as_str)
    }

    /// The value of an attribute given as a position (or, by some producers, as the value
    /// itself); `null` is none, and an attribute not given takes its default.
    fn attribute<'a>(&'a self, index: usize, given: Option<&'a Value>) -> &'a str {
        match given {
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|p| self.code(index, usize::try_from(p).ok()?))
                .unwrap_or(""),
            Some(Value::String(s)) => s,
            Some(_) => "",
            None => self.defaults[index].as_deref().unwrap_or(""),
        }
    }

    /// The data-set-level cells: dimensions and attributes with a single value.
    fn dataset_cells<'a>(&'a self, data_set: &'a DataSet, cells: &mut [&'a str]) {
        for &i in &self.dataset_dims {
            cells[i] = self
                .code(i, 0)
                .or(self.defaults[i].as_deref())
                .unwrap_or("");
        }
        let given = data_set.attributes.as_deref().unwrap_or(&[]);
        for (n, &i) in self.dataset_attrs.iter().enumerate() {
            cells[i] = match given.get(n) {
                Some(v) => self.attribute(i, Some(v)),
                None if self.values[i].len() == 1 => &self.values[i][0],
                None => self.attribute(i, None),
            };
        }
    }
}

/// Decodes a key (`"0:0:1"`) into `cells` for the components `dims`; an error says what
/// does not decode.
fn decode_key<'a>(
    codes: &'a Codes,
    key: &str,
    dims: &[usize],
    cells: &mut [&'a str],
) -> Result<(), String> {
    let parts: Vec<&str> = if key.is_empty() {
        Vec::new()
    } else {
        key.split(':').collect()
    };
    if parts.len() != dims.len() {
        return Err(format!(
            "the key {key:?} has {} positions where the structure has {} dimensions",
            parts.len(),
            dims.len()
        ));
    }
    for (part, &i) in parts.iter().zip(dims) {
        let position: usize = part
            .trim()
            .parse()
            .map_err(|_| format!("the key {key:?} holds {part:?}, which is no position"))?;
        cells[i] = codes.code(i, position).ok_or_else(|| {
            format!(
                "the key {key:?} names position {position} of {}, which has only {} values",
                codes.ids[i],
                codes.values[i].len()
            )
        })?;
    }
    Ok(())
}

// ---- The stream ------------------------------------------------------------------------

/// Where the stream is: a data set, and in it a series or a flat observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    data_set: usize,
    series: usize,
    flat: usize,
}

/// How many flat observations are converted in one step.
const FLAT_STEP: usize = 512;

struct JsonStream {
    file: String,
    data_sets: Vec<DataSet>,
    /// For each data set, its prepared structure.
    structure_of: Vec<usize>,
    prepared: Vec<Prepared>,
    cursor: Cursor,
    pending: VecDeque<Item>,
}

impl JsonStream {
    fn new(file: String, message: Message, options: &SdmxOptions) -> Result<Self, ImportError> {
        let wits_message = [&message.header, &message.meta]
            .into_iter()
            .flatten()
            .any(|h| h.to_string().to_ascii_uppercase().contains("WITS"));
        let errors = message.errors.unwrap_or_default();
        let (structures, data_sets, version) = match message.data {
            Some(data) => {
                let mut structures = data.structures.unwrap_or_default();
                structures.extend(data.structure);
                (structures, data.data_sets, "2.x")
            }
            None => (
                message.structure.into_iter().collect(),
                message.data_sets,
                "1.0",
            ),
        };
        let Some(data_sets) = data_sets.filter(|d| !d.is_empty() || errors.is_empty()) else {
            if !errors.is_empty() {
                let texts: Vec<String> = errors
                    .iter()
                    .map(|e| match e {
                        Value::Object(o) => ["title", "detail", "message", "code"]
                            .iter()
                            .filter_map(|k| o.get(*k).map(value_text))
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                            .join(": "),
                        other => value_text(other),
                    })
                    .collect();
                return Err(ImportError::new(format!(
                    "the SDMX-JSON message holds no data but errors: {}",
                    texts.join("; ")
                )));
            }
            return Err(ImportError::new(
                "the file is not an SDMX-JSON data message: it has no dataSets",
            ));
        };
        if structures.is_empty() {
            return Err(ImportError::new(
                "the file is not an SDMX-JSON data message: it has no structure",
            ));
        }
        let mut pending = VecDeque::new();
        let mut prepared: Vec<Option<Prepared>> = structures.iter().map(|_| None).collect();
        let mut structure_of = Vec::with_capacity(data_sets.len());
        for (n, data_set) in data_sets.iter().enumerate() {
            let index = match &data_set.structure {
                None | Some(Value::Null) => 0,
                Some(Value::Number(i)) => i
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .unwrap_or(usize::MAX),
                Some(_) => usize::MAX,
            };
            let Some(structure) = structures.get(index) else {
                return Err(ImportError::new(format!(
                    "dataSets[{n}] refers to a structure the message lacks (it has {})",
                    structures.len()
                )));
            };
            if prepared[index].is_none() {
                let (mut p, logs) = Prepared::new(structure, options, wits_message)?;
                if p.dataflow.is_none() {
                    p.dataflow = dataflow_of(data_set.links.as_deref().unwrap_or(&[]));
                }
                pending.extend(logs);
                prepared[index] = Some(p);
            }
            structure_of.push(index);
        }
        // Structures no data set uses are not checked; give them a place all the same.
        let prepared: Vec<Prepared> = prepared
            .into_iter()
            .zip(&structures)
            .map(|(p, s)| match p {
                Some(p) => Ok(p),
                None => Prepared::new(s, options, wits_message).map(|(p, _)| p),
            })
            .collect::<Result<_, _>>()?;
        let observations: usize = data_sets
            .iter()
            .map(|d| {
                d.observations.as_ref().map_or(0, |o| o.0.len())
                    + d.series.as_ref().map_or(0, |s| {
                        s.0.iter()
                            .map(|(_, s)| s.observations.as_ref().map_or(0, |o| o.0.len()))
                            .sum()
                    })
            })
            .sum();
        pending.push_front(Item::log(
            LogLevel::Info,
            format!(
                "SDMX-JSON {version}: {} data set(s), {observations} observation(s)",
                data_sets.len()
            ),
        ));
        Ok(Self {
            file,
            data_sets,
            structure_of,
            prepared,
            cursor: Cursor {
                data_set: 0,
                series: 0,
                flat: 0,
            },
            pending,
        })
    }

    /// Converts the next series (or the next flat observations); false at the end.
    fn step(&mut self, out: &mut Vec<Item>) -> bool {
        let Self {
            file,
            data_sets,
            structure_of,
            prepared,
            cursor,
            ..
        } = self;
        let Some(data_set) = data_sets.get(cursor.data_set) else {
            return false;
        };
        let structure = structure_of[cursor.data_set];
        let p = &mut prepared[structure];
        let sheet_base = format!("dataset {}", cursor.data_set + 1);
        let series = data_set.series.as_ref().map_or(&[][..], |s| &s.0[..]);
        let flat = data_set.observations.as_ref().map_or(&[][..], |o| &o.0[..]);
        if let Some((key, series_data)) = series.get(cursor.series) {
            cursor.series += 1;
            let at = SourceRef::new(file.clone()).with_sheet(format!("{sheet_base}, series {key}"));
            convert_series(p, data_set, key, series_data, &at, out);
        } else if cursor.flat < flat.len() {
            let end = (cursor.flat + FLAT_STEP).min(flat.len());
            let at = SourceRef::new(file.clone()).with_sheet(sheet_base);
            for (n, (key, obs)) in flat[cursor.flat..end].iter().enumerate() {
                let row = (cursor.flat + n + 1) as u64;
                convert_observation(p, data_set, None, key, obs, &at.clone().with_row(row), out);
            }
            cursor.flat = end;
        } else {
            *cursor = Cursor {
                data_set: cursor.data_set + 1,
                series: 0,
                flat: 0,
            };
        }
        true
    }
}

/// Converts the observations of one series.
fn convert_series(
    p: &mut Prepared,
    data_set: &DataSet,
    key: &str,
    series: &SeriesData,
    at: &SourceRef,
    out: &mut Vec<Item>,
) {
    let observations = series.observations.as_ref().map_or(&[][..], |o| &o.0[..]);
    for (n, (obs_key, obs)) in observations.iter().enumerate() {
        let at = at.clone().with_row(n as u64 + 1);
        convert_observation(p, data_set, Some((key, series)), obs_key, obs, &at, out);
    }
}

/// Converts one observation, in a series or flat.
fn convert_observation(
    p: &mut Prepared,
    data_set: &DataSet,
    series: Option<(&str, &SeriesData)>,
    obs_key: &str,
    obs: &[Value],
    at: &SourceRef,
    out: &mut Vec<Item>,
) {
    let Prepared {
        converter,
        codes,
        dataflow,
    } = p;
    let mut cells: Vec<&str> = vec![""; codes.values.len()];
    codes.dataset_cells(data_set, &mut cells);
    let mut error = None;
    let flat_dims: Vec<usize>;
    let obs_dims = match series {
        Some((key, series)) => {
            if let Err(e) = decode_key(codes, key, &codes.series_dims, &mut cells) {
                error = Some(format!("The series key does not decode: {e}."));
            }
            let given = series.attributes.as_deref().unwrap_or(&[]);
            for (n, &i) in codes.series_attrs.iter().enumerate() {
                cells[i] = match given.get(n) {
                    Some(Value::Null) => "",
                    given => codes.attribute(i, given),
                };
            }
            &codes.obs_dims
        }
        None => {
            flat_dims = codes
                .series_dims
                .iter()
                .chain(&codes.obs_dims)
                .copied()
                .collect();
            &flat_dims
        }
    };
    if error.is_none()
        && let Err(e) = decode_key(codes, obs_key, obs_dims, &mut cells)
    {
        error = Some(format!("The observation key does not decode: {e}."));
    }
    if let Some(message) = error {
        out.push(RowError::error(at.clone(), codes::INVALID_VALUE, message).into());
        return;
    }
    for (n, &i) in codes.obs_attrs.iter().enumerate() {
        cells[i] = match obs.get(codes.measure_count + n) {
            Some(Value::Null) => "",
            given => codes.attribute(i, given),
        };
    }
    let value = match obs.get(codes.value_measure) {
        None | Some(Value::Null) => ObsValue::Missing,
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .map_or(ObsValue::Invalid, ObsValue::Number),
        Some(Value::String(s)) => parse_obs_value(s, false),
        Some(_) => ObsValue::Invalid,
    };
    converter.convert(&cells, value, dataflow.as_deref(), at, out);
}

impl RecordStream for JsonStream {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(1024));
        let mut out = Vec::new();
        while batch.len() < max {
            if let Some(item) = self.pending.pop_front() {
                batch.push(item);
                continue;
            }
            if !self.step(&mut out) {
                break;
            }
            self.pending.extend(out.drain(..));
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}
