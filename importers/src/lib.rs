//! Built-in importers.

pub mod spreadsheet;
