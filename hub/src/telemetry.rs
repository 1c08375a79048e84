//! Logging with `tracing`: an `EnvFilter` (from `RUST_LOG`, else `log.filter`) and text or
//! JSON lines on stderr. Personal values are never passed to log macros; see ARCHITECTURE.md.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Calling it twice is harmless (the second call is ignored).
///
/// The migrator's own lines ("Applying all pending migrations", "No pending migrations")
/// are chatter in every command but `hub migrate` (`migrations_chatty`): they are kept below
/// info there unless the filter names `sea_orm_migration` itself; the hub logs the
/// migrations it applies on its own (`db::migrate`).
pub fn init(filter: &str, format: LogFormat, migrations_chatty: bool) {
    let from_env = std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = from_env.as_deref().unwrap_or(filter);
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    if !migrations_chatty
        && !directives.contains("sea_orm_migration")
        && let Ok(quiet) = "sea_orm_migration=warn".parse()
    {
        filter = filter.add_directive(quiet);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Colours only on a terminal, and not when `NO_COLOR` is set to anything but the empty
/// string (<https://no-color.org>): a log captured to a file, a pipe or a journal stays
/// plain text.
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::colour;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
        assert!(!colour(false, Some(OsStr::new("1"))));
    }
}
