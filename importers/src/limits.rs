//! Bounds on what reading a file may cost, checked while reading: a small file must not
//! expand into gigabytes (a compressed workbook, a line without end, a 50 MB cell), and
//! what is over a bound is refused with a message naming the bound, before it is held in
//! memory.
//!
//! The hub sets them once from its configuration (`[import]` in `hub.default.toml`) with
//! [`configure`]; importers read them with [`current`]. A process that never configures
//! them (a test, a tool) gets the defaults.

use std::sync::RwLock;

/// The bounds of reading one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// The most bytes a file may expand to when read: the uncompressed parts of a workbook
    /// (its sheets and shared strings), the decoded text of a CSV. Default 256 MiB.
    pub max_expanded_bytes: u64,
    /// The most rows a sheet (or a CSV file) may have. Default 1,048,576, Excel's own.
    pub max_rows_per_sheet: u64,
    /// The longest value of one cell, in bytes. Default 64 KiB.
    pub max_field_bytes: usize,
    /// The longest line of a text file (a CSV row, its header), in bytes. Default 4 MiB.
    pub max_line_bytes: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_expanded_bytes: 256 << 20,
            max_rows_per_sheet: 1 << 20,
            max_field_bytes: 64 << 10,
            max_line_bytes: 4 << 20,
        }
    }
}

static LIMITS: RwLock<Option<ReadLimits>> = RwLock::new(None);

/// Sets the bounds for every import of this process.
pub fn configure(limits: ReadLimits) {
    if let Ok(mut l) = LIMITS.write() {
        *l = Some(limits);
    }
}

thread_local! {
    static SCOPED: std::cell::Cell<Option<ReadLimits>> = const { std::cell::Cell::new(None) };
}

/// The bounds in force: those of an enclosing [`scoped`] call on this thread, else the
/// configured ones, else the defaults.
#[must_use]
pub fn current() -> ReadLimits {
    SCOPED
        .with(std::cell::Cell::get)
        .or_else(|| LIMITS.read().ok().and_then(|l| *l))
        .unwrap_or_default()
}

/// Runs `f` with `limits` in force on this thread (files read by `f` on this thread are
/// bounded by them), whatever is configured: for tests and tools that read files with
/// other bounds side by side.
pub fn scoped<R>(limits: ReadLimits, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<ReadLimits>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.replace(Some(limits))));
    f()
}
