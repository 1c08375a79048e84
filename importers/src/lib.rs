//! Built-in importers.
