//! The JSON form of the UN Comtrade API v1, streamed: `{elapsedTime, count, data: [...],
//! error}`.
//!
//! serde_json parses the file on a reading thread with a visitor over the top-level
//! object; each element of `data` is read into a fixed set of fields (the others are
//! skipped unread), turned into its items at once and handed over in small chunks
//! through a bounded channel. So only one element and a few chunks are in memory at any
//! time, never the array, and a parse error (a truncated download) surfaces after the
//! items read before it. Dropping the stream stops the thread at its next chunk.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read as _};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use hub_plugin_sdk::serde_json::{self, error::Category};
use hub_plugin_sdk::{ImportError, Input, Item, RecordStream, SourceRef};
use serde::de::{self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess};

use super::fields::{Cell, Val, not_the_format};
use super::v1::{self, FIELDS, FORMAT};
use crate::spreadsheet::{DecodingReader, TextEncoding};

/// Items per message from the reading thread.
const CHUNK: usize = 256;

/// Messages from the reading thread: items, or the failure that ends the file.
type Message = Result<Vec<Item>, ImportError>;

/// A JSON scalar of one element (objects and arrays are not read, only noted).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Scalar {
    #[default]
    Null,
    Text(String),
    Number(f64),
    Bool(bool),
    Nested,
}

impl Scalar {
    fn val(&self) -> Option<Val<'_>> {
        match self {
            Self::Null => None,
            Self::Text(text) => Some(Val::Text(text)),
            Self::Number(n) => Some(Val::Number(*n)),
            Self::Bool(b) => Some(Val::Bool(*b)),
            Self::Nested => Some(Val::Nested),
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    #[expect(clippy::cast_precision_loss, reason = "figures fit an f64, as stored")]
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v as f64))
    }

    #[expect(clippy::cast_precision_loss, reason = "figures fit an f64, as stored")]
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nested)
    }
}

/// A key matched case-insensitively against a list of names: its index, or `None`.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> de::Visitor<'de> for Key {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|name| name.eq_ignore_ascii_case(v)))
    }
}

/// One element of `data`: the fields of [`FIELDS`], and which keys it has.
struct Element {
    values: [Scalar; FIELDS.len()],
    present: [bool; FIELDS.len()],
}

struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Element, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> de::Visitor<'de> for ElementSeed {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a UN Comtrade record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut element = Element {
            values: Default::default(),
            present: [false; FIELDS.len()],
        };
        while let Some(key) = map.next_key_seed(Key(&FIELDS))? {
            match key {
                Some(i) => {
                    element.values[i] = map.next_value()?;
                    element.present[i] = true;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(element)
    }
}

/// What the reading thread learns besides the items.
#[derive(Debug, Default)]
struct State {
    /// Whether the object has a `data` key.
    saw_data: bool,
    /// The API's `error`, when not empty.
    api_error: Option<String>,
    /// A gateway's `message` (answers without `data`).
    message: Option<String>,
    /// A failure found by the visitors themselves (a first element without the key
    /// fields); it stops the parse.
    fatal: Option<ImportError>,
    /// The stream was dropped: stop quietly.
    abandoned: bool,
}

/// The error the visitors stop the parse with; the real reason is in [`State`].
const STOP: &str = "stopped";

/// The reading thread's side: the file's name, the channel, the chunk being filled.
struct Reader<'s> {
    file: String,
    tx: SyncSender<Message>,
    chunk: Vec<Item>,
    state: &'s RefCell<State>,
}

impl Reader<'_> {
    /// Sends the chunk; `false` when the stream is gone.
    fn flush(&mut self) -> bool {
        if self.chunk.is_empty() {
            return true;
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK + 4));
        if self.tx.send(Ok(chunk)).is_err() {
            self.state.borrow_mut().abandoned = true;
            return false;
        }
        true
    }
}

/// The top-level object.
struct Top<'r, 's>(&'r mut Reader<'s>);

/// The top-level keys read.
const TOP_KEYS: [&str; 3] = ["data", "error", "message"];

impl<'de> de::Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object {elapsedTime, count, data, error}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let reader = self.0;
        while let Some(key) = map.next_key_seed(Key(&TOP_KEYS))? {
            match key {
                Some(0) => {
                    reader.state.borrow_mut().saw_data = true;
                    map.next_value_seed(Data(&mut *reader))?;
                }
                Some(k) => {
                    let text = match map.next_value::<Scalar>()? {
                        Scalar::Text(text) => {
                            Some(text.trim().to_owned()).filter(|t| !t.is_empty())
                        }
                        Scalar::Null => None,
                        Scalar::Bool(false) => None,
                        Scalar::Number(n) => Some(n.to_string()),
                        Scalar::Bool(true) | Scalar::Nested => {
                            Some("(no message given)".to_owned())
                        }
                    };
                    let mut state = reader.state.borrow_mut();
                    if k == 1 {
                        if text.is_some() {
                            state.api_error = text;
                            // The answer is an error: stop reading at once.
                            return Err(de::Error::custom(STOP));
                        }
                    } else {
                        state.message = text;
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `data` array.
struct Data<'r, 's>(&'r mut Reader<'s>);

impl<'de> DeserializeSeed<'de> for Data<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> de::Visitor<'de> for Data<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of UN Comtrade records")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let reader = self.0;
        let mut row: u64 = 0;
        while let Some(element) = seq.next_element_seed(ElementSeed)? {
            row += 1;
            let at = SourceRef::row(&reader.file, row);
            if row == 1 {
                let missing = v1::missing_fields(|i| element.present[i]);
                if !missing.is_empty() {
                    let mut error = not_the_format(FORMAT, &missing, "field");
                    error.source_ref = Some(at);
                    reader.state.borrow_mut().fatal = Some(error);
                    return Err(de::Error::custom(STOP));
                }
            }
            let cells: Vec<Cell<'_>> = element
                .values
                .iter()
                .zip(FIELDS)
                .map(|(value, name)| Cell {
                    val: value.val(),
                    column: name,
                })
                .collect();
            v1::convert(&cells, at, &mut reader.chunk);
            if reader.chunk.len() >= CHUNK && !reader.flush() {
                return Err(de::Error::custom(STOP));
            }
        }
        Ok(())
    }
}

/// Parses the file and sends its items, then its failure if any.
fn read(input: &Input, tx: SyncSender<Message>) {
    let state = RefCell::new(State::default());
    let mut reader = Reader {
        file: input.file_name.clone(),
        tx,
        chunk: Vec::with_capacity(CHUNK + 4),
        state: &state,
    };
    let parsed = match open_text(input) {
        Ok(Text::Utf8(text)) => parse(text, &mut reader),
        Ok(Text::Decoded(text)) => parse(text, &mut reader),
        Err(error) => {
            let _ = reader.tx.send(Err(error));
            return;
        }
    };
    let state = std::mem::take(&mut *state.borrow_mut());
    if state.abandoned {
        return;
    }
    let failure = if let Some(fatal) = state.fatal {
        Some(fatal)
    } else if let Some(message) = state.api_error {
        Some(ImportError::new(format!(
            "the UN Comtrade API answered with an error: {message}"
        )))
    } else if let Err(e) = parsed {
        Some(parse_error(&e))
    } else if !state.saw_data {
        Some(match state.message {
            Some(message) => ImportError::new(format!(
                "the UN Comtrade API answered with an error: {message}"
            )),
            None => not_the_format(FORMAT, &["data"], "field"),
        })
    } else {
        None
    };
    if !reader.flush() {
        return;
    }
    if let Some(failure) = failure {
        let _ = reader.tx.send(Err(failure));
    }
}

/// Parses the whole text, sending the items as they come.
fn parse(text: impl std::io::Read, reader: &mut Reader<'_>) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_reader(text);
    de.deserialize_map(Top(reader)).and_then(|()| de.end())
}

/// The file as UTF-8 text, buffered.
enum Text {
    /// Read as it is, past a UTF-8 byte-order mark.
    Utf8(BufReader<File>),
    /// Decoded from UTF-16, as its byte-order mark says.
    Decoded(BufReader<DecodingReader<File>>),
}

fn open_text(input: &Input) -> Result<Text, ImportError> {
    let mut bom = [0u8; 3];
    let mut file = File::open(&input.path)?;
    let n = file.read(&mut bom)?;
    let encoding = match &bom[..n] {
        [0xFF, 0xFE, ..] => Some(TextEncoding::Utf16Le),
        [0xFE, 0xFF, ..] => Some(TextEncoding::Utf16Be),
        _ => None,
    };
    let skip = if bom[..n] == [0xEF, 0xBB, 0xBF] { 3 } else { 0 };
    let mut file = File::open(&input.path)?;
    Ok(match encoding {
        Some(encoding) => Text::Decoded(BufReader::with_capacity(
            64 * 1024,
            DecodingReader::new(file, encoding),
        )),
        None => {
            std::io::copy(&mut (&mut file).take(skip), &mut std::io::sink())?;
            Text::Utf8(BufReader::with_capacity(64 * 1024, file))
        }
    })
}

/// A parse failure for the user: a truncated file, malformed JSON, or JSON of another
/// shape.
fn parse_error(e: &serde_json::Error) -> ImportError {
    match e.classify() {
        Category::Eof => ImportError::new(format!(
            "the JSON ends early ({e}): the file is truncated, perhaps an interrupted \
             download; nothing is imported from it"
        )),
        Category::Syntax => ImportError::new(format!(
            "the JSON is malformed ({e}); nothing is imported from it"
        )),
        Category::Data => ImportError::new(format!(
            "this is not a {FORMAT} file: the JSON is not of its shape ({e})"
        )),
        Category::Io => ImportError::new(format!("cannot read the input: {e}")),
    }
}

/// The stream of a JSON file's items, fed by the reading thread.
pub(crate) struct JsonFlows {
    rx: Receiver<Message>,
    thread: Option<JoinHandle<()>>,
    pending: VecDeque<Item>,
    error: Option<ImportError>,
    done: bool,
}

impl JsonFlows {
    /// Starts reading and waits for the first chunk, so that a file of another kind (or
    /// an API error, a truncated short file) fails here.
    pub fn open(input: &Input) -> Result<Self, ImportError> {
        let (tx, rx) = sync_channel::<Message>(2);
        let thread_input = input.clone();
        let thread = std::thread::Builder::new()
            .name("comtrade-json".into())
            .spawn(move || read(&thread_input, tx))?;
        let mut flows = Self {
            rx,
            thread: Some(thread),
            pending: VecDeque::new(),
            error: None,
            done: false,
        };
        flows.receive()?;
        if let Some(error) = flows.error.take()
            && flows.pending.is_empty()
        {
            return Err(error);
        }
        Ok(flows)
    }

    /// Waits for the next message; sets `done` at the end.
    fn receive(&mut self) -> Result<(), ImportError> {
        match self.rx.recv() {
            Ok(Ok(items)) => self.pending.extend(items),
            Ok(Err(error)) => {
                self.error = Some(error);
                self.done = true;
            }
            Err(_) => {
                self.done = true;
                if let Some(thread) = self.thread.take()
                    && thread.join().is_err()
                {
                    return Err(ImportError::new(
                        "the JSON reader stopped unexpectedly; nothing is imported",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl RecordStream for JsonFlows {
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(1024));
        while batch.len() < max {
            if let Some(item) = self.pending.pop_front() {
                batch.push(item);
            } else if self.done {
                break;
            } else {
                self.receive()?;
            }
        }
        if batch.is_empty() {
            return match self.error.take() {
                Some(error) => Err(error),
                None => Ok(None),
            };
        }
        Ok(Some(batch))
    }
}
