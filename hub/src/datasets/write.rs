//! The formats: CSV, NDJSON, JSON and Parquet, each written row by row into a buffer that
//! the stream drains as it fills, so memory stays constant whatever the dataset's size
//! (Parquet holds one row group).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, NaiveDate};
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type as SchemaType;

use super::catalog::Ty;

/// One value of a row; text borrowed from the row read where the driver allows.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(DateTime<FixedOffset>),
}

impl Cell<'_> {
    /// The value as CSV writes it (empty for null).
    fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(v) => v.to_string(),
            Cell::Real(v) => v.to_string(),
            Cell::Text(v) => v.to_string(),
            Cell::Bool(v) => v.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Timestamp(t) => t.to_rfc3339(),
        }
    }

    /// The value as JSON.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Int(v) => (*v).into(),
            Cell::Real(v) => serde_json::Number::from_f64(*v)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Cell::Text(v) => serde_json::Value::String(v.to_string()),
            Cell::Bool(v) => (*v).into(),
            Cell::Date(_) | Cell::Timestamp(_) => self.text().into(),
        }
    }
}

/// The formats a dataset is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Ndjson,
    Json,
    Parquet,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Csv, Format::Ndjson, Format::Json, Format::Parquet];

    /// The format of a file extension.
    pub fn of_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Ndjson => "application/x-ndjson",
            Format::Json => "application/json",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// The columns a file holds: name and type. With `?since=`, row datasets add the
/// `_deleted` column (true on tombstones).
#[derive(Debug, Clone)]
pub struct Layout {
    pub columns: Vec<(&'static str, Ty)>,
    pub deleted: bool,
}

/// Writes rows in one format into a buffer the caller drains with [`Sink::take`].
pub trait Sink: Send {
    /// One row, its cells in the layout's order.
    fn row(&mut self, cells: &[Cell<'_>]) -> anyhow::Result<()>;
    /// A row deleted or merged away: its key (`id`) and the change number of the deletion.
    fn tombstone(&mut self, id: i64, change: i64) -> anyhow::Result<()>;
    /// Ends the file.
    fn finish(&mut self) -> anyhow::Result<()>;
    /// The bytes written so far.
    fn buffered(&self) -> usize;
    /// Takes the bytes written so far.
    fn take(&mut self) -> Vec<u8>;
}

/// A sink for `format` with `layout`.
pub fn sink(format: Format, layout: Layout) -> anyhow::Result<Box<dyn Sink>> {
    Ok(match format {
        Format::Csv => Box::new(Csv::new(layout)?),
        Format::Ndjson => Box::new(Lines {
            layout,
            out: Vec::new(),
            array: None,
        }),
        Format::Json => Box::new(Lines {
            layout,
            out: Vec::new(),
            array: Some(true),
        }),
        Format::Parquet => Box::new(Parquet::new(layout)?),
    })
}

struct Csv {
    layout: Layout,
    out: csv::Writer<Vec<u8>>,
    record: Vec<String>,
    scratch: String,
}

impl Csv {
    fn new(layout: Layout) -> anyhow::Result<Self> {
        let mut out = csv::Writer::from_writer(Vec::with_capacity(1 << 17));
        let mut header: Vec<&str> = layout.columns.iter().map(|(n, _)| *n).collect();
        if layout.deleted {
            header.push("_deleted");
        }
        out.write_record(&header)?;
        Ok(Csv {
            layout,
            out,
            record: Vec::new(),
            scratch: String::new(),
        })
    }
}

impl Sink for Csv {
    fn row(&mut self, cells: &[Cell<'_>]) -> anyhow::Result<()> {
        for cell in cells {
            match cell {
                Cell::Text(s) => self.out.write_field(s.as_bytes())?,
                Cell::Null => self.out.write_field("")?,
                other => {
                    self.scratch.clear();
                    match other {
                        Cell::Int(v) => write!(self.scratch, "{v}")?,
                        Cell::Real(v) => write!(self.scratch, "{v}")?,
                        Cell::Bool(v) => write!(self.scratch, "{v}")?,
                        _ => self.scratch.push_str(&other.text()),
                    }
                    self.out.write_field(&self.scratch)?;
                }
            }
        }
        if self.layout.deleted {
            self.out.write_field("false")?;
        }
        self.out.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn tombstone(&mut self, id: i64, change: i64) -> anyhow::Result<()> {
        self.record.clear();
        for (name, _) in &self.layout.columns {
            self.record.push(match *name {
                "id" => id.to_string(),
                "change_seq" => change.to_string(),
                _ => String::new(),
            });
        }
        self.record.push("true".into());
        self.out.write_record(&self.record)?;
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }

    fn buffered(&self) -> usize {
        self.out.get_ref().len()
    }

    fn take(&mut self) -> Vec<u8> {
        // The writer's own buffer first, then a fresh writer on the rest (the header is
        // written once: a new writer only adds records).
        let _ = self.out.flush();
        let fresh = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::with_capacity(1 << 17));
        // Writing to memory does not fail.
        std::mem::replace(&mut self.out, fresh)
            .into_inner()
            .unwrap_or_else(|_| Vec::new())
    }
}

/// NDJSON (`array: None`) or a JSON array (`Some(first)`).
struct Lines {
    layout: Layout,
    out: Vec<u8>,
    array: Option<bool>,
}

impl Lines {
    fn start(&mut self) {
        match &mut self.array {
            None => {}
            Some(first) => {
                self.out
                    .extend_from_slice(if *first { b"[\n" } else { b",\n" });
                *first = false;
            }
        }
    }

    fn end(&mut self) {
        if self.array.is_none() {
            self.out.push(b'\n');
        }
    }
}

impl Sink for Lines {
    fn row(&mut self, cells: &[Cell<'_>]) -> anyhow::Result<()> {
        self.start();
        self.out.push(b'{');
        for (i, ((name, _), cell)) in self.layout.columns.iter().zip(cells).enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            serde_json::to_writer(&mut self.out, name)?;
            self.out.push(b':');
            match cell {
                Cell::Text(s) => serde_json::to_writer(&mut self.out, s.as_ref())?,
                Cell::Int(v) => write!(self.out, "{v}")?,
                other => serde_json::to_writer(&mut self.out, &other.json())?,
            }
        }
        self.out.push(b'}');
        self.end();
        Ok(())
    }

    fn tombstone(&mut self, id: i64, change: i64) -> anyhow::Result<()> {
        self.start();
        write!(
            self.out,
            "{{\"_deleted\":true,\"id\":{id},\"change_seq\":{change}}}"
        )?;
        self.end();
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        match self.array {
            Some(true) => self.out.extend_from_slice(b"[]\n"),
            Some(false) => self.out.extend_from_slice(b"\n]\n"),
            None => {}
        }
        Ok(())
    }

    fn buffered(&self) -> usize {
        self.out.len()
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

/// The bytes a Parquet writer has written, shared with the sink that drains them.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Rows per Parquet row group: large enough for good compression, small enough that one
/// group of the widest dataset stays a few tens of megabytes in memory.
const ROW_GROUP_ROWS: usize = 8_192;

/// One column's values of the row group being filled.
enum Values {
    Int(Vec<i64>),
    Real(Vec<f64>),
    /// Text: the values one after the other, and where each ends (`None`: null). Kept
    /// contiguous until the column is written, so a row group of text costs its bytes.
    Bytes {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
    Bool(Vec<bool>),
    Date(Vec<i32>),
    Micros(Vec<i64>),
}

struct Parquet {
    writer: Option<SerializedFileWriter<Shared>>,
    out: Shared,
    types: Vec<Ty>,
    values: Vec<Values>,
    /// Definition levels per column: 1 present, 0 null.
    levels: Vec<Vec<i16>>,
    rows: usize,
    deleted: bool,
    key: Option<usize>,
    change: Option<usize>,
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")
}

impl Parquet {
    fn new(layout: Layout) -> anyhow::Result<Self> {
        let mut types: Vec<Ty> = layout.columns.iter().map(|(_, t)| *t).collect();
        let mut names: Vec<&str> = layout.columns.iter().map(|(n, _)| *n).collect();
        if layout.deleted {
            types.push(Ty::Bool);
            names.push("_deleted");
        }
        let fields = names
            .iter()
            .zip(&types)
            .map(|(name, ty)| {
                let (physical, logical) = match ty {
                    Ty::Int => (Physical::INT64, None),
                    Ty::Real => (Physical::DOUBLE, None),
                    Ty::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
                    Ty::Bool => (Physical::BOOLEAN, None),
                    Ty::Date => (Physical::INT32, Some(LogicalType::Date)),
                    Ty::Timestamp => (
                        Physical::INT64,
                        Some(LogicalType::timestamp(
                            true,
                            parquet::basic::TimeUnit::MICROS,
                        )),
                    ),
                };
                SchemaType::primitive_type_builder(name, physical)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schema = SchemaType::group_type_builder("schema")
            .with_fields(fields)
            .build()?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("cluster-data-hub {}", env!("CARGO_PKG_VERSION")))
            .build();
        let out = Shared::default();
        let writer = SerializedFileWriter::new(out.clone(), Arc::new(schema), Arc::new(props))?;
        let values = types.iter().map(|t| Parquet::empty(*t)).collect();
        let levels = types.iter().map(|_| Vec::new()).collect();
        Ok(Parquet {
            writer: Some(writer),
            out,
            key: names.iter().position(|n| *n == "id"),
            change: names.iter().position(|n| *n == "change_seq"),
            types,
            values,
            levels,
            rows: 0,
            deleted: layout.deleted,
        })
    }

    fn empty(ty: Ty) -> Values {
        match ty {
            Ty::Int => Values::Int(Vec::new()),
            Ty::Real => Values::Real(Vec::new()),
            Ty::Text => Values::Bytes {
                data: Vec::new(),
                ends: Vec::new(),
            },
            Ty::Bool => Values::Bool(Vec::new()),
            Ty::Date => Values::Date(Vec::new()),
            Ty::Timestamp => Values::Micros(Vec::new()),
        }
    }

    fn push(&mut self, i: usize, cell: &Cell<'_>) -> anyhow::Result<()> {
        let present = match (&mut self.values[i], cell) {
            (_, Cell::Null) => false,
            (Values::Int(v), Cell::Int(x)) => {
                v.push(*x);
                true
            }
            (Values::Real(v), Cell::Real(x)) => {
                v.push(*x);
                true
            }
            (Values::Real(v), Cell::Int(x)) => {
                v.push(*x as f64);
                true
            }
            (Values::Bytes { data, ends }, Cell::Text(x)) => {
                data.extend_from_slice(x.as_bytes());
                ends.push(data.len());
                true
            }
            (Values::Bool(v), Cell::Bool(x)) => {
                v.push(*x);
                true
            }
            (Values::Date(v), Cell::Date(d)) => {
                v.push((*d - epoch()).num_days() as i32);
                true
            }
            (Values::Date(v), Cell::Text(text)) => {
                let d = NaiveDate::parse_from_str(text.as_ref(), "%Y-%m-%d")
                    .map_err(|e| anyhow::anyhow!("a date column holds `{text}`: {e}"))?;
                v.push((d - epoch()).num_days() as i32);
                true
            }
            (Values::Micros(v), Cell::Timestamp(t)) => {
                v.push(t.timestamp_micros());
                true
            }
            (Values::Micros(v), Cell::Text(text)) => {
                let t = DateTime::parse_from_rfc3339(text.as_ref())
                    .map_err(|e| anyhow::anyhow!("a time column holds `{text}`: {e}"))?;
                v.push(t.timestamp_micros());
                true
            }
            (_, other) => anyhow::bail!("a {other:?} in a column of type {}", self.types[i].name()),
        };
        self.levels[i].push(i16::from(present));
        Ok(())
    }

    fn end_row(&mut self) -> anyhow::Result<()> {
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Writes the rows gathered as one row group.
    fn flush_group(&mut self) -> anyhow::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the file is closed"))?;
        let mut group = writer.next_row_group()?;
        for (values, levels) in self.values.iter_mut().zip(self.levels.iter_mut()) {
            let mut column = group
                .next_column()?
                .ok_or_else(|| anyhow::anyhow!("fewer columns than the schema"))?;
            let def = Some(levels.as_slice());
            match (column.untyped(), values) {
                (ColumnWriter::Int64ColumnWriter(w), Values::Int(v) | Values::Micros(v)) => {
                    w.write_batch(v, def, None)?;
                    v.clear();
                }
                (ColumnWriter::DoubleColumnWriter(w), Values::Real(v)) => {
                    w.write_batch(v, def, None)?;
                    v.clear();
                }
                (ColumnWriter::ByteArrayColumnWriter(w), Values::Bytes { data, ends }) => {
                    let all = bytes::Bytes::from(std::mem::take(data));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let v = ByteArray::from(all.slice(start..end));
                            start = end;
                            v
                        })
                        .collect();
                    w.write_batch(&values, def, None)?;
                    ends.clear();
                }
                (ColumnWriter::BoolColumnWriter(w), Values::Bool(v)) => {
                    w.write_batch(v, def, None)?;
                    v.clear();
                }
                (ColumnWriter::Int32ColumnWriter(w), Values::Date(v)) => {
                    w.write_batch(v, def, None)?;
                    v.clear();
                }
                _ => anyhow::bail!("a column writer of another type than its values"),
            }
            levels.clear();
            column.close()?;
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }
}

impl Sink for Parquet {
    fn row(&mut self, cells: &[Cell<'_>]) -> anyhow::Result<()> {
        for (i, cell) in cells.iter().enumerate() {
            self.push(i, cell)?;
        }
        if self.deleted {
            let last = self.types.len() - 1;
            self.push(last, &Cell::Bool(false))?;
        }
        self.end_row()
    }

    fn tombstone(&mut self, id: i64, change: i64) -> anyhow::Result<()> {
        let last = self.types.len() - 1;
        for i in 0..last {
            let cell = if Some(i) == self.key {
                Cell::Int(id)
            } else if Some(i) == self.change {
                Cell::Int(change)
            } else {
                Cell::Null
            };
            self.push(i, &cell)?;
        }
        self.push(last, &Cell::Bool(true))?;
        self.end_row()
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.flush_group()?;
        if let Some(writer) = self.writer.take() {
            writer.close()?;
        }
        Ok(())
    }

    fn buffered(&self) -> usize {
        self.out.0.lock().map_or(0, |b| b.len())
    }

    fn take(&mut self) -> Vec<u8> {
        self.out
            .0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}
