//! The stream of a directory's items, whatever its format: members from a
//! [`MemberSource`], converted one at a time.

use std::collections::{BTreeSet, VecDeque};

use hub_plugin_sdk::{ImportError, Item, LogLevel};

use crate::convert::Converter;
use crate::fields::Member;

/// The most distinct unknown keys (or skipped elements) logged, so that a directory with
/// many extra columns does not flood the log.
const MAX_NOTES: usize = 20;

/// What a source reads next.
#[derive(Debug)]
pub enum Read {
    /// A member entry (boxed: it is large, and read once per member anyway).
    Member(Box<Member>),
    /// An element of the directory that is not a member and was skipped (XML), by name.
    Skipped(String),
}

/// A directory's members, read one at a time from its file.
pub trait MemberSource: Send {
    /// The next thing read, `None` at the end of the directory. An `Err` ends the stream:
    /// the file is malformed or cannot be read.
    fn next_member(&mut self) -> Option<Result<Read, ImportError>>;
}

/// The items of a directory: an opening log line, each member's items, a closing log line.
///
/// Holds only the current member's items: memory does not grow with the directory (beyond
/// what the source itself holds).
pub struct Members {
    source: Box<dyn MemberSource>,
    converter: Converter,
    pending: VecDeque<Item>,
    finished: bool,
    noted: BTreeSet<String>,
}

impl Members {
    /// The items of `source`, converted by `converter`, after the log line `opening`.
    #[must_use]
    pub fn new(source: Box<dyn MemberSource>, converter: Converter, opening: Item) -> Self {
        Self {
            source,
            converter,
            pending: VecDeque::from([opening]),
            finished: false,
            noted: BTreeSet::new(),
        }
    }

    /// Logs `line` once per `key`, up to [`MAX_NOTES`] keys.
    fn note(&mut self, key: String, line: impl FnOnce(&str) -> String) {
        if self.noted.len() < MAX_NOTES && !self.noted.contains(&key) {
            self.pending
                .push_back(Item::log(LogLevel::Info, line(&key)));
            self.noted.insert(key);
        }
    }

    /// Reads one thing from the source into the pending items; `Err` ends the stream.
    fn read_next(&mut self) -> Result<(), ImportError> {
        match self.source.next_member() {
            Some(Ok(Read::Member(member))) => {
                for key in member.unknown_keys() {
                    self.note(format!("field {key}"), |_| {
                        format!("The members' field {key} is not imported.")
                    });
                }
                let items = self.converter.member(&member);
                self.pending.extend(items);
            }
            Some(Ok(Read::Skipped(name))) => {
                self.note(format!("element {name}"), |_| {
                    format!(
                        "The element <{name}> of the directory is not a member and is not read."
                    )
                });
            }
            Some(Err(error)) => {
                self.finished = true;
                return Err(error);
            }
            None => {
                self.finished = true;
                self.pending.push_back(self.converter.summary());
            }
        }
        Ok(())
    }
}

impl Iterator for Members {
    type Item = Result<Item, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
            if self.finished {
                return None;
            }
            if let Err(error) = self.read_next() {
                return Some(Err(error));
            }
        }
    }
}
