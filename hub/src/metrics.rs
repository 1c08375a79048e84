//! Process-wide counters, served as Prometheus text on `GET /metrics`.
//!
//! Hand-written (three counters need no crate); the format is the Prometheus text
//! exposition format 0.0.4.
//!
//! * `hub_sql_statements_total`: every SQL statement run through the connection pool by
//!   sea-orm's statement API (`execute`, `query_one`, `query_all`, streams), inside or
//!   outside transactions, whether it succeeded or failed. It is incremented by the
//!   metric callback that [`crate::db::connect`] installs, once per statement (not per
//!   connection), so the difference of two readings around one GraphQL request is the
//!   number of statements that request ran (with no other request in flight). Not
//!   counted: `execute_unprepared` (migrations' DDL), pings (`/readyz`), and the
//!   `BEGIN`/`COMMIT` that sea-orm issues for transactions.
//! * `hub_graphql_requests_total{outcome}`: GraphQL requests by outcome: `ok` (executed,
//!   no errors), `error` (the response carries GraphQL errors: request errors such as
//!   parse, validation or limit errors, field errors, or a timeout), `rejected` (refused
//!   before reaching the schema: not a well-formed GraphQL-over-HTTP request, wrong media
//!   type, body too large, mutation over GET). GraphiQL page and asset loads are not
//!   GraphQL requests.
//! * `hub_http_requests_total`: every HTTP request the server answered, `/metrics`
//!   included.
//! * `hub_graphql_documents_total{cache}`: GraphQL documents the endpoint looked up in its
//!   document cache (`graphql::cache`): `hit` (kept, not parsed again), `miss` (parsed).
//! * `hub_graphql_executions_total{thread}`: where `/graphql` requests ran: `http` (on the
//!   HTTP worker: documents kept and validated before), `runtime` (handed to the main
//!   runtime; see `graphql::http::run`).
//!
//! * `hub_graphql_checks_total{checks}`: how `/graphql` requests were checked before they
//!   ran: `kept` (their document passed every check before, without variables, and ran on
//!   the schema without them; see `graphql::role_schema`), `values` (their document, of
//!   one operation, passed before in a request that gave every variable, and only the
//!   checks that read the values ran) or `run`.
//!
//! The counters are statics: one `hub` process serves one database.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

static SQL_STATEMENTS: AtomicU64 = AtomicU64::new(0);
static HTTP_REQUESTS: AtomicU64 = AtomicU64::new(0);
static GRAPHQL_OK: AtomicU64 = AtomicU64::new(0);
static GRAPHQL_ERROR: AtomicU64 = AtomicU64::new(0);
static GRAPHQL_REJECTED: AtomicU64 = AtomicU64::new(0);
static DOCUMENT_HITS: AtomicU64 = AtomicU64::new(0);
static DOCUMENT_MISSES: AtomicU64 = AtomicU64::new(0);
static RUN_ON_HTTP: AtomicU64 = AtomicU64::new(0);
static RUN_ON_RUNTIME: AtomicU64 = AtomicU64::new(0);
static CHECKS_KEPT: AtomicU64 = AtomicU64::new(0);
static CHECKS_VALUES: AtomicU64 = AtomicU64::new(0);
static CHECKS_RUN: AtomicU64 = AtomicU64::new(0);

/// Counts one `/graphql` request by where it ran: on the HTTP worker or the main runtime.
pub fn graphql_execution(on_http_worker: bool) {
    let counter = if on_http_worker {
        &RUN_ON_HTTP
    } else {
        &RUN_ON_RUNTIME
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// How a GraphQL request was checked (see `graphql::http::answer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// Its document passed every check before without variables: none ran again.
    Kept,
    /// Its document, of one operation, passed every check before in a request that gave
    /// every variable: only the checks that read the values ran (the arguments with the
    /// values put in, the hub's bounds and cost).
    Values,
    /// Every check ran, on the schema with the hub's extension.
    Run,
}

/// Counts one GraphQL request by how it was checked.
pub fn graphql_checks(checks: Checks) {
    let counter = match checks {
        Checks::Kept => &CHECKS_KEPT,
        Checks::Values => &CHECKS_VALUES,
        Checks::Run => &CHECKS_RUN,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Counts one lookup in the GraphQL document cache.
pub fn graphql_document(hit: bool) {
    let counter = if hit {
        &DOCUMENT_HITS
    } else {
        &DOCUMENT_MISSES
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// How a GraphQL request ended (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Error,
    Rejected,
}

/// Counts one SQL statement (called by the database metric callback).
pub fn sql_statement() {
    SQL_STATEMENTS.fetch_add(1, Ordering::Relaxed);
}

/// The number of SQL statements run so far.
pub fn sql_statements() -> u64 {
    SQL_STATEMENTS.load(Ordering::Relaxed)
}

/// Counts one HTTP request.
pub fn http_request() {
    HTTP_REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// Counts one GraphQL request with its outcome.
pub fn graphql_request(outcome: Outcome) {
    let counter = match outcome {
        Outcome::Ok => &GRAPHQL_OK,
        Outcome::Error => &GRAPHQL_ERROR,
        Outcome::Rejected => &GRAPHQL_REJECTED,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The Content-Type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// All counters in the Prometheus text format.
pub fn render() -> String {
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    counter(
        "hub_sql_statements_total",
        "SQL statements run through the database connection pool.",
        &[("", sql_statements())],
    );
    counter(
        "hub_graphql_requests_total",
        "GraphQL requests by outcome: ok, error (GraphQL errors in the response), rejected (refused before execution).",
        &[
            ("{outcome=\"ok\"}", GRAPHQL_OK.load(Ordering::Relaxed)),
            ("{outcome=\"error\"}", GRAPHQL_ERROR.load(Ordering::Relaxed)),
            (
                "{outcome=\"rejected\"}",
                GRAPHQL_REJECTED.load(Ordering::Relaxed),
            ),
        ],
    );
    counter(
        "hub_http_requests_total",
        "HTTP requests answered.",
        &[("", HTTP_REQUESTS.load(Ordering::Relaxed))],
    );
    counter(
        "hub_graphql_documents_total",
        "GraphQL documents looked up in the document cache: hit (not parsed again) or miss.",
        &[
            ("{cache=\"hit\"}", DOCUMENT_HITS.load(Ordering::Relaxed)),
            ("{cache=\"miss\"}", DOCUMENT_MISSES.load(Ordering::Relaxed)),
        ],
    );
    counter(
        "hub_graphql_executions_total",
        "GraphQL requests by where they ran: http (the HTTP worker) or runtime (the main runtime).",
        &[
            ("{thread=\"http\"}", RUN_ON_HTTP.load(Ordering::Relaxed)),
            (
                "{thread=\"runtime\"}",
                RUN_ON_RUNTIME.load(Ordering::Relaxed),
            ),
        ],
    );
    counter(
        "hub_graphql_checks_total",
        "GraphQL requests by how they were checked: kept (their document passed every check before, without variables), values (it passed before in a request that gave every variable: only the checks that read the values ran) or run.",
        &[
            ("{checks=\"kept\"}", CHECKS_KEPT.load(Ordering::Relaxed)),
            ("{checks=\"values\"}", CHECKS_VALUES.load(Ordering::Relaxed)),
            ("{checks=\"run\"}", CHECKS_RUN.load(Ordering::Relaxed)),
        ],
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_counter_with_help_and_type() {
        sql_statement();
        graphql_request(Outcome::Rejected);
        let text = render();
        for name in [
            "hub_sql_statements_total",
            "hub_graphql_requests_total",
            "hub_http_requests_total",
            "hub_graphql_documents_total",
            "hub_graphql_executions_total",
            "hub_graphql_checks_total",
        ] {
            assert!(text.contains(&format!("# TYPE {name} counter\n")), "{text}");
        }
        assert!(
            text.contains("hub_graphql_requests_total{outcome=\"rejected\"} "),
            "{text}"
        );
        let sql: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("hub_sql_statements_total "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(sql >= 1, "{text}");
    }
}
