//! Reading the XML form: a `<directory>` root with a `<member>` element per member,
//! streamed with quick-xml's pull reader so that only the current member is in memory.
//!
//! Element and attribute names are compared like JSON keys (case and separators ignored,
//! the same variants); namespace prefixes are ignored. The members may also be wrapped in
//! one `<members>` element. Other elements under the root are skipped (and logged); text
//! outside field elements, comments and processing instructions are ignored. The file
//! must be UTF-8 (a byte order mark is skipped); the predefined entities (`&amp;`, …) and
//! character references are resolved, and any other entity reference is an error of the
//! file.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use hub_plugin_sdk::{ImportError, SourceRef};
use quick_xml::errors::IllFormedError;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::fields::{Header, HeaderField, Member};
use crate::not_a_directory;
use crate::stream::{MemberSource, Read};

/// The UTF-8 byte order mark, which the reader skips without counting it in positions.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One event of the document, owned, with what the reading needs of it.
#[derive(Debug)]
enum Ev {
    /// An element's start tag: its local name and attributes (local names, values
    /// resolved).
    Start {
        name: String,
        attributes: Vec<(String, String)>,
    },
    /// An empty element `<x/>`.
    Empty {
        name: String,
        attributes: Vec<(String, String)>,
    },
    /// An end tag (the reader checks that it matches its start tag).
    End,
    /// Character data, with references resolved.
    Text(String),
    /// A comment, a declaration, a processing instruction.
    Other,
    /// The end of the file.
    Eof,
}

/// The members of an XML directory, read as they are asked for.
pub struct XmlMembers {
    reader: Reader<BufReader<File>>,
    buf: Vec<u8>,
    path: PathBuf,
    file: String,
    /// Members read so far: the position of the last one.
    position: u64,
    /// 1 inside `<directory>`, 2 inside a `<members>` wrapper.
    depth: u32,
    done: bool,
}

/// Opens the XML directory at `path` (known to the user as `file`) and reads its root
/// element: the header comes from the root's attributes. A root that is not
/// `<directory>` is not a directory; a malformed file is an error naming the line and
/// column.
pub fn open(path: &Path, file: &str) -> Result<(Header, XmlMembers), ImportError> {
    let mut reader = Reader::from_reader(BufReader::new(File::open(path)?));
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);
    let mut members = XmlMembers {
        reader,
        buf: Vec::with_capacity(1024),
        path: path.to_owned(),
        file: file.to_owned(),
        position: 0,
        depth: 0,
        done: false,
    };
    loop {
        match members.next_event()? {
            Ev::Start { name, .. } | Ev::Empty { name, .. } if !is(&name, "directory") => {
                return Err(not_a_directory(file, "its root element is not <directory>"));
            }
            Ev::Start { attributes, .. } => {
                members.depth = 1;
                return Ok((header_of(&attributes), members));
            }
            Ev::Empty { attributes, .. } => {
                members.done = true;
                return Ok((header_of(&attributes), members));
            }
            Ev::Other => {}
            Ev::Text(text) if text.trim().is_empty() => {}
            Ev::Text(_) | Ev::End => {
                return Err(not_a_directory(file, "it starts with text, not an element"));
            }
            Ev::Eof => return Err(not_a_directory(file, "it holds no XML element")),
        }
    }
}

/// The directory's header from the root's attributes.
fn header_of(attributes: &[(String, String)]) -> Header {
    let mut header = Header::default();
    for (key, value) in attributes {
        if let Some(field) = HeaderField::of_key(key) {
            header.set(field, value);
        }
    }
    header
}

/// Whether an element's local name is `wanted`, ignoring case.
fn is(name: &str, wanted: &str) -> bool {
    name.eq_ignore_ascii_case(wanted)
}

impl MemberSource for XmlMembers {
    fn next_member(&mut self) -> Option<Result<Read, ImportError>> {
        if self.done {
            return None;
        }
        let next = self.read_next();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }
}

impl XmlMembers {
    /// Reads up to the next member (or skipped element) under the root; `None` once the
    /// root is closed. What follows the root is not read.
    fn read_next(&mut self) -> Result<Option<Read>, ImportError> {
        loop {
            match self.next_event()? {
                Ev::Start { name, attributes } if is(&name, "member") => {
                    return self.member(&attributes, false).map(Some);
                }
                Ev::Empty { name, attributes } if is(&name, "member") => {
                    return self.member(&attributes, true).map(Some);
                }
                Ev::Start { name, .. } if is(&name, "members") && self.depth == 1 => {
                    self.depth = 2;
                }
                Ev::Empty { name, .. } if is(&name, "members") && self.depth == 1 => {}
                Ev::Start { name, .. } => {
                    self.element_text(false)?;
                    return Ok(Some(Read::Skipped(name)));
                }
                Ev::Empty { name, .. } => return Ok(Some(Read::Skipped(name))),
                Ev::End => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return Ok(None);
                    }
                }
                Ev::Text(_) | Ev::Other => {}
                Ev::Eof => return Err(self.truncated()),
            }
        }
    }

    /// Reads a `<member>` whose start tag has been read: its attributes and child
    /// elements are its fields.
    fn member(
        &mut self,
        attributes: &[(String, String)],
        empty: bool,
    ) -> Result<Read, ImportError> {
        self.position += 1;
        let mut member = Member::new(self.position);
        for (key, value) in attributes {
            member.set(key, value);
        }
        if empty {
            return Ok(Read::Member(Box::new(member)));
        }
        loop {
            match self.next_event()? {
                Ev::Start { name, .. } => {
                    let text = self.element_text(true)?;
                    member.set(&name, &text);
                }
                Ev::Empty { name, .. } => member.set(&name, ""),
                Ev::End => return Ok(Read::Member(Box::new(member))),
                Ev::Text(_) | Ev::Other => {}
                Ev::Eof => return Err(self.truncated()),
            }
        }
    }

    /// Reads the rest of an element whose start tag has been read, up to its end tag, and
    /// returns its text (that of nested elements included, separated by spaces) when
    /// `keep`, else nothing.
    fn element_text(&mut self, keep: bool) -> Result<String, ImportError> {
        let mut text = String::new();
        let mut depth = 1_u32;
        loop {
            match self.next_event()? {
                Ev::Start { .. } => {
                    depth += 1;
                    text.push(' ');
                }
                Ev::Empty { .. } => text.push(' '),
                Ev::End => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(text);
                    }
                    text.push(' ');
                }
                Ev::Text(part) if keep => text.push_str(&part),
                Ev::Text(_) | Ev::Other => {}
                Ev::Eof => return Err(self.truncated()),
            }
        }
    }

    /// Reads the next event, owned. Parser errors, malformed attributes and undefined
    /// entities become errors of the file at their line and column.
    fn next_event(&mut self) -> Result<Ev, ImportError> {
        let before = self.reader.buffer_position();
        self.buf.clear();
        let event = match self.reader.read_event_into(&mut self.buf) {
            Ok(event) => event,
            Err(error) => {
                let at = self.reader.error_position();
                return Err(malformed(&self.path, &self.file, at, &describe(&error)));
            }
        };
        let fail = |what: &str| malformed(&self.path, &self.file, before, what);
        Ok(match event {
            Event::Start(start) => Ev::Start {
                name: local_name(&start),
                attributes: attributes(&start).map_err(fail)?,
            },
            Event::Empty(start) => Ev::Empty {
                name: local_name(&start),
                attributes: attributes(&start).map_err(fail)?,
            },
            Event::End(_) => Ev::End,
            Event::Text(text) => Ev::Text(text.xml10_content().into_owned()),
            Event::CData(data) => Ev::Text(data.xml10_content().into_owned()),
            Event::GeneralRef(reference) => Ev::Text(resolve(&reference).map_err(fail)?),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => Ev::Other,
            Event::Eof => Ev::Eof,
        })
    }

    /// The error for a file that ends inside the directory.
    fn truncated(&self) -> ImportError {
        malformed(
            &self.path,
            &self.file,
            self.reader.buffer_position(),
            "the file ends before the directory is closed (is it cut short?)",
        )
    }
}

/// An element's local name (without a namespace prefix).
fn local_name(start: &BytesStart<'_>) -> String {
    let name = start.local_name();
    AsRef::<str>::as_ref(&name).to_owned()
}

/// An element's attributes: local names and values with references resolved.
fn attributes(start: &BytesStart<'_>) -> Result<Vec<(String, String)>, &'static str> {
    start
        .attributes()
        .map(|attribute| {
            let attribute = attribute
                .map_err(|_| "an attribute is malformed (repeated, unquoted or without a value)")?;
            let key = attribute.key.local_name();
            let key = AsRef::<str>::as_ref(&key).to_owned();
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| "an attribute refers to an entity the document does not define")?;
            Ok((key, value.into_owned()))
        })
        .collect()
}

/// The text of an entity or character reference: the five predefined entities and
/// character references; anything else is an error (the document has no DTD to define it).
fn resolve(reference: &BytesRef<'_>) -> Result<String, &'static str> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            Ok(None) | Err(_) => Err("a character reference (&#…;) is not valid"),
        };
    }
    resolve_predefined_entity(reference)
        .map(str::to_owned)
        .ok_or("the text refers to an entity the document does not define")
}

/// What a parser error says, in words that quote nothing from the file (not even element
/// names).
fn describe(error: &quick_xml::Error) -> String {
    use quick_xml::Error;
    match error {
        Error::Io(error) => format!("the file cannot be read: {error}"),
        Error::Syntax(error) => error.to_string(),
        Error::IllFormed(error) => ill_formed(error).to_owned(),
        Error::InvalidAttr(_) => {
            "an attribute is malformed (repeated, unquoted or without a value)".to_owned()
        }
        Error::Encoding(_) => "the text is not UTF-8".to_owned(),
        Error::Escape(_) => "an entity or character reference is not valid".to_owned(),
        Error::Namespace(_) => "a namespace prefix is not declared".to_owned(),
    }
}

fn ill_formed(error: &IllFormedError) -> &'static str {
    match error {
        IllFormedError::MissingDeclVersion(_) => {
            "the XML declaration does not start with a version"
        }
        IllFormedError::UnknownVersion => "the XML version is neither 1.0 nor 1.1",
        IllFormedError::MissingDoctypeName => "the DOCTYPE declaration names no root element",
        IllFormedError::MissingEndTag(_) => "an element is not closed",
        IllFormedError::UnmatchedEndTag(_) => "an end tag closes no open element",
        IllFormedError::MismatchedEndTag { .. } => "an end tag does not match its start tag",
        IllFormedError::DoubleHyphenInComment => "a comment contains --",
        IllFormedError::UnclosedReference => "a reference (&…;) is not closed by ;",
    }
}

/// The error for a malformed file at byte `offset`, located by line and column.
fn malformed(path: &Path, file: &str, offset: u64, what: &str) -> ImportError {
    let place = match File::open(path)
        .ok()
        .and_then(|f| line_column(BufReader::new(f), offset))
    {
        Some((line, column)) => format!("line {line}, column {column}"),
        None => format!("byte {offset}"),
    };
    ImportError::at(
        SourceRef::new(file),
        format!("the file is not well-formed XML at {place}: {what}"),
    )
}

/// The 1-based line and column (in characters) of the byte `offset` of `input`, counted
/// as the XML reader counts bytes: after a UTF-8 byte order mark. `None` when the input
/// cannot be read.
pub fn line_column(mut input: impl BufRead, offset: u64) -> Option<(u64, u64)> {
    if input.fill_buf().ok()?.starts_with(BOM) {
        input.consume(BOM.len());
    }
    let (mut line, mut column) = (1_u64, 1_u64);
    let mut remaining = offset;
    while remaining > 0 {
        let chunk = input.fill_buf().ok()?;
        if chunk.is_empty() {
            break;
        }
        let take = chunk
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        for &byte in &chunk[..take] {
            if byte == b'\n' {
                line += 1;
                column = 1;
            } else if byte & 0xC0 != 0x80 {
                // Not a UTF-8 continuation byte: a new character.
                column += 1;
            }
        }
        input.consume(take);
        remaining = remaining.saturating_sub(u64::try_from(take).unwrap_or(u64::MAX));
    }
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters_after_the_bom() {
        let text = "\u{FEFF}<a>\n  <b>é€x</b>\n</a>".as_bytes();
        // Offsets as the reader counts them: the BOM (3 bytes) is not counted.
        assert_eq!(line_column(text, 0), Some((1, 1)));
        assert_eq!(line_column(text, 3), Some((1, 4)));
        assert_eq!(line_column(text, 4), Some((2, 1)));
        // After "  <b>é€" (2 + 3 + 2 + 3 bytes): column 8.
        assert_eq!(line_column(text, 4 + 10), Some((2, 8)));
        assert_eq!(line_column(text, 10_000), Some((3, 5)));
    }
}
