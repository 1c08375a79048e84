//! The `Importer` trait and what goes in and out of it.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::item::Item;
use crate::manifest::ImporterManifest;
use crate::source_ref::SourceRef;

/// An importer: reads one kind of input file and turns it into a stream of [`Item`]s.
///
/// Built-in importers and dynamic plugins implement this same trait; the hub drives both
/// the same way:
///
/// 1. [`manifest`](Importer::manifest) to list the importer and check it;
/// 2. [`sniff`](Importer::sniff) on the first bytes of a file, when the user did not name
///    an importer, to pick the most confident one;
/// 3. [`open`](Importer::open) with the file and the options, then
///    [`RecordStream::next_batch`] until it returns `Ok(None)`.
///
/// The importer only reads: it never writes to the database or anywhere else. The hub
/// validates every record, links it, and applies the whole import in one transaction.
///
/// `Send` lets the hub move an importer onto a worker thread, off the async runtime.
pub trait Importer: Send {
    /// Describes the importer. Cheap and constant: the hub may call it at any time.
    fn manifest(&self) -> ImporterManifest;

    /// Says how confident the importer is that it can read a file whose name is
    /// `file_name` and which starts with `head` (the first few kilobytes, fewer for a short
    /// file). It must not fail or panic on any input: random bytes give
    /// [`Confidence::NONE`]. See [`Confidence`] for the scale.
    fn sniff(&self, head: &[u8], file_name: &str) -> Confidence;

    /// Opens the input and returns the stream of its items.
    ///
    /// `options` are the user's options for this run, `Null` when none were given; check
    /// them against the manifest's schema here. Read just enough of the file to fail
    /// early on the wrong kind of file (a header, a signature); problems with the file as a
    /// whole (it cannot be opened, it is not the expected format, a required column is
    /// missing, an option is invalid) are an [`ImportError`]. Problems with single rows are
    /// not: they become [`crate::RowError`] items in the stream.
    fn open(
        &mut self,
        input: Input,
        options: &serde_json::Value,
    ) -> Result<Box<dyn RecordStream + '_>, ImportError>;
}

/// The items of one input, delivered in batches.
///
/// Batches let large files stream: the importer reads the file incrementally (a CSV reader
/// over a buffered file, a sheet's rows one by one) and keeps in memory only the batch in
/// hand and whatever state it needs, never the whole file. A Comtrade bulk file can hold
/// millions of rows.
pub trait RecordStream {
    /// Returns the next batch of at most `max` items (and at least one), or `Ok(None)` once
    /// the input is exhausted. The hub passes a `max` of at least 1 and does not call again
    /// after `Ok(None)` or an error.
    ///
    /// An `Err` is a file-level failure that ends the stream (the file is truncated, an
    /// I/O error); the hub then applies nothing from the run. A bad row is not an error
    /// here but a [`crate::RowError`] item.
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError>;
}

/// Reads a whole input through an importer, `batch` items at a time, into one list: for
/// tests and small files (an import streams instead). It also checks the stream's
/// contract: every batch holds at least one item and at most `batch`.
pub fn read_all(
    importer: &mut dyn Importer,
    input: Input,
    options: &serde_json::Value,
    batch: usize,
) -> Result<Vec<Item>, ImportError> {
    let batch = batch.max(1);
    let mut stream = importer.open(input, options)?;
    let mut items = Vec::new();
    while let Some(mut next) = stream.next_batch(batch)? {
        if next.is_empty() || next.len() > batch {
            return Err(ImportError::new(format!(
                "the importer broke the RecordStream contract: a batch of {} items for at \
                 most {batch}",
                next.len()
            )));
        }
        items.append(&mut next);
    }
    Ok(items)
}

/// A [`RecordStream`] over an iterator of items, for importers that read their input row
/// by row: write the reading as an iterator and wrap it.
///
/// An `Err` from the iterator ends the stream. The items read before it in the same batch
/// are delivered first and the error with the following call, so that nothing already
/// read is lost from the run's report.
#[derive(Debug)]
pub struct IterStream<I> {
    iter: I,
    pending_error: Option<ImportError>,
    finished: bool,
}

impl<I> IterStream<I>
where
    I: Iterator<Item = Result<Item, ImportError>>,
{
    /// Wraps an iterator of items.
    pub fn new(iter: I) -> Self {
        Self {
            iter,
            pending_error: None,
            finished: false,
        }
    }
}

impl<R> IterStream<RowItems<R>>
where
    R: Iterator<Item = Result<Vec<Item>, ImportError>>,
{
    /// A stream over input lines (rows) that give several items each: a line of an export
    /// that holds a person, their firm and their participation. Each element of `rows` is
    /// the items of one line, in the order the hub needs them (a record after the records
    /// it refers to), or the error that ends the input. Items of one line are never split
    /// between an error and the line before it.
    ///
    /// ```
    /// use hub_plugin_sdk::{Item, IterStream, Organisation, OrganisationKind, Person, SourceRef};
    ///
    /// let lines = vec!["F-1 Abid Medi-Tech", "F-2 Noor Instruments"];
    /// let rows = lines.into_iter().enumerate().map(|(i, line)| {
    ///     let at = SourceRef::row("firms.txt", i as u64 + 1);
    ///     let (key, name) = line.split_once(' ').unwrap_or((line, ""));
    ///     let firm = Organisation::new(key, OrganisationKind::Firm, name);
    ///     let contact = Person::new(format!("{key}/contact"));
    ///     Ok(vec![Item::record(at.clone(), firm), Item::record(at, contact)])
    /// });
    /// let stream = IterStream::rows(rows);
    /// # let _ = stream;
    /// ```
    pub fn rows(rows: R) -> Self {
        IterStream::new(RowItems {
            rows,
            pending: std::collections::VecDeque::new(),
        })
    }
}

/// The items of lines that give several each, one at a time: see [`IterStream::rows`].
#[derive(Debug)]
pub struct RowItems<R> {
    rows: R,
    pending: std::collections::VecDeque<Item>,
}

impl<R> Iterator for RowItems<R>
where
    R: Iterator<Item = Result<Vec<Item>, ImportError>>,
{
    type Item = Result<Item, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            match self.rows.next()? {
                Ok(items) => self.pending.extend(items),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl<I> RecordStream for IterStream<I>
where
    I: Iterator<Item = Result<Item, ImportError>>,
{
    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Item>>, ImportError> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if self.finished {
            return Ok(None);
        }
        let max = max.max(1);
        let mut batch = Vec::with_capacity(max.min(1024));
        while batch.len() < max {
            match self.iter.next() {
                Some(Ok(item)) => batch.push(item),
                Some(Err(error)) => {
                    self.finished = true;
                    if batch.is_empty() {
                        return Err(error);
                    }
                    self.pending_error = Some(error);
                    break;
                }
                None => {
                    self.finished = true;
                    break;
                }
            }
        }
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}

/// How confident an importer is that it reads a file, from 0 (it cannot) to 100 (certain).
///
/// A suggested scale, so that importers from different authors compare:
///
/// - 0: not this importer's kind of file;
/// - 10–30: the extension fits, but nothing in the content confirms it (any CSV);
/// - 50–80: the content has the expected shape (a header row with the expected columns);
/// - 90–100: an unmistakable signature (the 22 columns of a Comtrade bulk file, an SDMX
///   `DATAFLOW` header).
///
/// The hub picks the most confident importer, and asks the user to choose with
/// `--importer` when none is confident enough or two tie.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Confidence(u8);

impl Confidence {
    /// Not this importer's kind of file.
    pub const NONE: Self = Self(0);
    /// Certain.
    pub const CERTAIN: Self = Self(100);

    /// A confidence of `percent`, counting anything above 100 as 100.
    #[must_use]
    pub const fn new(percent: u8) -> Self {
        if percent > 100 {
            Self(100)
        } else {
            Self(percent)
        }
    }

    /// The confidence in percent, 0 to 100.
    #[must_use]
    pub const fn percent(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl TryFrom<u8> for Confidence {
    type Error = String;

    fn try_from(percent: u8) -> Result<Self, Self::Error> {
        if percent <= 100 {
            Ok(Self(percent))
        } else {
            Err(format!("a confidence is 0 to 100, not {percent}"))
        }
    }
}

impl From<Confidence> for u8 {
    fn from(confidence: Confidence) -> Self {
        confidence.0
    }
}

/// The file to import.
///
/// The hub always passes a file on disk, also for uploads (saved to a temporary file
/// first), so built-in importers and plugins read the same way and can stream, seek or
/// memory-map as the format needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Where the file is; for an upload, a temporary path with a meaningless name.
    pub path: PathBuf,
    /// The file's name as the user knows it, e.g. `firms 2024.xlsx`. Use it in
    /// [`SourceRef::file`], never the temporary path.
    pub file_name: String,
}

impl Input {
    /// An input whose user-facing name is the last component of `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self { path, file_name }
    }

    /// An input read from `path` that the user knows as `file_name`.
    pub fn with_file_name(path: impl Into<PathBuf>, file_name: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            file_name: file_name.into(),
        }
    }

    /// A [`SourceRef`] to the whole file, to start row and cell references from.
    #[must_use]
    pub fn source_ref(&self) -> SourceRef {
        SourceRef::new(self.file_name.clone())
    }
}

/// A failure of the import as a whole: the file cannot be read, is not of the expected
/// kind, lacks a required column, or the options are invalid.
///
/// Like row errors, its message never contains personal values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportError {
    /// What went wrong, as a sentence for the user.
    pub message: String,
    /// Where, when a place in the file is to blame (e.g. the header row).
    pub source_ref: Option<SourceRef>,
}

impl ImportError {
    /// An error about the file as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source_ref: None,
        }
    }

    /// An error at a place in the file.
    pub fn at(source_ref: SourceRef, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source_ref: Some(source_ref),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source_ref {
            Some(source_ref) => write!(f, "{source_ref}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reading errors become import errors, so that `?` works on file operations. The message
/// is the operating system's (e.g. "No such file or directory"); the hub adds the file.
impl From<std::io::Error> for ImportError {
    fn from(error: std::io::Error) -> Self {
        Self::new(format!("cannot read the input: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::LogLevel;

    fn log(n: usize) -> Item {
        Item::log(LogLevel::Info, format!("item {n}"))
    }

    #[test]
    fn iter_stream_batches_and_ends() {
        let mut stream = IterStream::new((0..5).map(|n| Ok(log(n))));
        let sizes: Vec<usize> = std::iter::from_fn(|| stream.next_batch(2).unwrap())
            .map(|batch| batch.len())
            .collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(stream.next_batch(2).unwrap(), None);

        let mut empty = IterStream::new(std::iter::empty());
        assert_eq!(empty.next_batch(0).unwrap(), None);

        let mut zero = IterStream::new((0..2).map(|n| Ok(log(n))));
        assert_eq!(zero.next_batch(0).unwrap().map(|b| b.len()), Some(1));
    }

    #[test]
    fn iter_stream_delivers_items_read_before_an_error() {
        let items = vec![
            Ok(log(0)),
            Ok(log(1)),
            Err(ImportError::new("truncated")),
            Ok(log(3)),
        ];
        let mut stream = IterStream::new(items.into_iter());
        assert_eq!(stream.next_batch(10).unwrap(), Some(vec![log(0), log(1)]));
        assert_eq!(stream.next_batch(10).unwrap_err().message, "truncated");
        assert_eq!(stream.next_batch(10).unwrap(), None);
    }

    /// An importer whose stream hands out batches of a fixed size, whatever it is asked.
    struct Fixed(usize);

    impl Importer for Fixed {
        fn manifest(&self) -> ImporterManifest {
            ImporterManifest::new("fixed", "Fixed", "1.0.0")
        }

        fn sniff(&self, _head: &[u8], _file_name: &str) -> Confidence {
            Confidence::NONE
        }

        fn open(
            &mut self,
            _input: Input,
            _options: &serde_json::Value,
        ) -> Result<Box<dyn RecordStream + '_>, ImportError> {
            let size = self.0;
            let mut sent = false;
            Ok(Box::new(IterStreamFn(move || {
                let batch = (!sent).then(|| (0..size).map(log).collect());
                sent = true;
                batch
            })))
        }
    }

    struct IterStreamFn<F>(F);

    impl<F: FnMut() -> Option<Vec<Item>>> RecordStream for IterStreamFn<F> {
        fn next_batch(&mut self, _max: usize) -> Result<Option<Vec<Item>>, ImportError> {
            Ok((self.0)())
        }
    }

    #[test]
    fn read_all_collects_the_items_and_checks_the_batch_contract() {
        let input = || Input::new("/nowhere/file");
        let items = read_all(&mut Fixed(3), input(), &serde_json::Value::Null, 5).unwrap();
        assert_eq!(items, [log(0), log(1), log(2)]);
        let too_many = read_all(&mut Fixed(6), input(), &serde_json::Value::Null, 5);
        assert_eq!(
            too_many.unwrap_err().message,
            "the importer broke the RecordStream contract: a batch of 6 items for at most 5"
        );
        let empty = read_all(&mut Fixed(0), input(), &serde_json::Value::Null, 5);
        assert!(empty.unwrap_err().message.contains("a batch of 0 items"));
    }

    #[test]
    fn confidence_stays_within_0_to_100() {
        assert_eq!(Confidence::new(250), Confidence::CERTAIN);
        assert_eq!(Confidence::new(40).percent(), 40);
        assert!(Confidence::new(90) > Confidence::new(30));
        assert_eq!(serde_json::to_string(&Confidence::new(75)).unwrap(), "75");
        assert_eq!(
            serde_json::from_str::<Confidence>("75").unwrap(),
            Confidence::new(75)
        );
        assert!(serde_json::from_str::<Confidence>("101").is_err());
    }

    #[test]
    fn import_errors_show_their_place() {
        let at = ImportError::at(SourceRef::row("a.csv", 1), "the column NTN is missing");
        assert_eq!(at.to_string(), "a.csv!R1: the column NTN is missing");
        assert_eq!(ImportError::new("empty file").to_string(), "empty file");
        let io = ImportError::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(io.message.starts_with("cannot read the input: "));
    }

    #[test]
    fn input_names_the_file_as_the_user_knows_it() {
        let input = Input::new("/tmp/upload/firms.csv");
        assert_eq!(input.file_name, "firms.csv");
        let upload = Input::with_file_name("/tmp/x1y2z3", "firms 2024.xlsx");
        assert_eq!(upload.source_ref().to_string(), "firms 2024.xlsx");
    }
}
