//! Error codes of the GraphQL API: every error a client receives carries
//! `extensions.code`, so clients branch on codes, never on messages.
//!
//! | code | when | status with `application/graphql-response+json` |
//! |---|---|---|
//! | `GRAPHQL_PARSE_FAILED` | the document does not parse | 400 |
//! | `GRAPHQL_VALIDATION_FAILED` | the document fails validation, the operation cannot be chosen, a variable cannot be coerced | 400 |
//! | `QUERY_TOO_DEEP` | deeper than `graphql.max_depth`, or nested beyond [`MAX_NESTING`] (checked before parsing) | 400 |
//! | `QUERY_TOO_COMPLEX` | costs more than `graphql.max_complexity` (see [`super::document`]; `extensions` has `cost`, `limit`, `field` and `suggestions`) | 400 |
//! | `BAD_REQUEST` | not a well-formed GraphQL-over-HTTP request (body not JSON, no `query`, ...) | 400 |
//! | `METHOD_NOT_ALLOWED`, `NOT_ACCEPTABLE`, `UNSUPPORTED_MEDIA_TYPE` | HTTP-level refusals | 405, 406, 415 |
//! | `PAYLOAD_TOO_LARGE` | body over `graphql.max_body_bytes` (multipart: `graphql.max_upload_bytes`) | 413 |
//! | `UNAUTHENTICATED` | `Authorization` credentials that do not verify (unknown, revoked or expired key, bad JWT); never read as public | 401 |
//! | `RATE_LIMITED` | over `access.roles.ROLE.requests_per_minute` (per key or token subject; the public per client address), with `Retry-After` | 429 |
//! | `FORBIDDEN` | the caller's role may not do this (a field error, 200), or a file upload by a role below curator | 200, 403 |
//! | `TIMEOUT` | over `graphql.request_timeout_ms` (the body: 408) | 504 |
//! | `BAD_USER_INPUT`, `INTERNAL_SERVER_ERROR`, ... | set by resolvers (field errors, data is still returned) | 200 |
//!
//! The schema stages are tagged by the hub's one schema extension
//! ([`super::document::DocumentChecks`], registered by [`super::build_schema`]): its
//! `parse_query` and `validation` hooks tag what those stages return, and its `execute`
//! hook records (in the request's [`Stage`]) that execution started, which is how the HTTP layer tells request
//! errors (no `data`, 400) from field errors (`data` present, 200). The depth limit of
//! async-graphql 7.2 comes out of validation as a plain error with the message `Query is
//! nested too deep.`; that message (and the recursion-depth message of the parse stage) is
//! matched only to refine `GRAPHQL_VALIDATION_FAILED`/`GRAPHQL_PARSE_FAILED` into the limit
//! codes. The cost limit is the hub's own ([`super::document`]) and sets its code itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use async_graphql::{Positioned, ServerError, Variables};

/// The document does not parse.
pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The document is not valid against the schema (or its operation cannot be chosen, or a
/// variable's value does not fit its type).
pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// Nested deeper than allowed.
pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
/// More complex than allowed.
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// Not a well-formed GraphQL-over-HTTP request.
pub const BAD_REQUEST: &str = "BAD_REQUEST";
/// A mutation (or subscription) over GET, or a method other than GET and POST.
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
/// None of the media types in `Accept` can be served.
pub const NOT_ACCEPTABLE: &str = "NOT_ACCEPTABLE";
/// The request body is not `application/json`.
pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
/// The request body is larger than allowed.
pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
/// The request took longer than allowed.
pub const TIMEOUT: &str = "TIMEOUT";
/// The caller may not do this (a resolver's refusal), or uploads are switched off.
pub const FORBIDDEN: &str = "FORBIDDEN";
/// Credentials that do not verify (401).
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// A caller over its role's rate (429, with `Retry-After`).
pub const RATE_LIMITED: &str = "RATE_LIMITED";
/// A failure of the hub itself; the server log has the details.
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
/// Input the resolvers refuse (set by resolvers).
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
/// No such address (the datasets: an unknown dataset or format).
pub const NOT_FOUND: &str = "NOT_FOUND";

/// A new error with `extensions.code`.
pub fn error(message: impl Into<String>, code: &str) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// Sets `extensions.code` unless the error already has one (a code set by a resolver is
/// kept).
pub fn with_code(mut e: ServerError, code: &str) -> ServerError {
    if code_of(&e).is_none() {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    e
}

/// The `extensions.code` of an error, when it has a string one.
pub fn code_of(e: &ServerError) -> Option<&str> {
    match e.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(s) => Some(s),
        _ => None,
    }
}

/// The deepest nesting of braces, brackets and parentheses (selection sets, arguments,
/// list and object values together) a document may have. The parser recurses on each
/// level and limits only selection sets (to 64, after parsing); a list value nested 1,000
/// deep overflows a 2 MiB thread stack, so documents are measured before they are parsed.
/// 128 is far above any useful query (`graphql.max_depth` is 12 by default).
pub const MAX_NESTING: usize = 128;

/// Parses a GraphQL document, classifying a failure: nesting beyond [`MAX_NESTING`] and the
/// parser's own recursion limit (`parser::Error::RecursionLimitExceeded`) are
/// `QUERY_TOO_DEEP`, anything else `GRAPHQL_PARSE_FAILED`. The HTTP layer parses once with
/// this (it needs the operation type) and hands the document to the schema.
pub fn parse_document(query: &str) -> Result<ExecutableDocument, ServerError> {
    use async_graphql::parser::Error;
    if nesting_exceeds(query, MAX_NESTING) {
        return Err(error(
            format!(
                "The document nests braces, brackets or parentheses more than {MAX_NESTING} deep."
            ),
            QUERY_TOO_DEEP,
        ));
    }
    async_graphql::parser::parse_query(query).map_err(|e| {
        let code = match e {
            Error::RecursionLimitExceeded => QUERY_TOO_DEEP,
            _ => GRAPHQL_PARSE_FAILED,
        };
        with_code(e.into(), code)
    })
}

/// The operation a request selects: the one named `operation_name`, or the only one.
/// `None` when they select none (async-graphql then reports the request error).
pub fn selected_operation<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, op)| op),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The part of the spec's `CoerceVariableValues` that async-graphql 7.2 leaves to
/// execution, where it would surface as a field error: every variable of a non-null type
/// without a default must be given, and not as `null`. (Values of the wrong type are found
/// by validation.) The errors are `GRAPHQL_VALIDATION_FAILED` request errors.
pub fn missing_variables(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Vec<ServerError> {
    let Some(op) = selected_operation(doc, operation_name) else {
        return Vec::new();
    };
    op.node
        .variable_definitions
        .iter()
        .filter(|def| {
            let def = &def.node;
            !def.var_type.node.nullable
                && def.default_value.is_none()
                && matches!(
                    variables.get(&def.name.node),
                    None | Some(async_graphql::Value::Null)
                )
        })
        .map(|def| {
            let message = format!(
                "Variable `${}` of required type `{}` was not provided.",
                def.node.name.node, def.node.var_type.node
            );
            with_code(
                ServerError::new(message, Some(def.pos)),
                GRAPHQL_VALIDATION_FAILED,
            )
        })
        .collect()
}

/// Whether `{`, `[` and `(` nest deeper than `max` in `query`, outside strings and
/// comments (GraphQL's lexical rules: `#` comments to the end of the line, `"..."` strings
/// with `\` escapes on one line, `"""..."""` block strings where `\"""` is escaped).
/// Linear, no recursion.
fn nesting_exceeds(query: &str, max: usize) -> bool {
    let b = query.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && !matches!(b[i], b'"' | b'\n' | b'\r') {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// The code of an error returned by the schema's parse stage (parsing, then its recursion
/// depth and directive-count checks).
fn parse_stage_code(e: &ServerError) -> &'static str {
    if e.message == async_graphql::parser::Error::RecursionLimitExceeded.to_string()
        || e.message
            .starts_with("The recursion depth of the query cannot be greater than")
    {
        QUERY_TOO_DEEP
    } else if e
        .message
        .starts_with("The number of directives on the field")
    {
        GRAPHQL_VALIDATION_FAILED
    } else {
        GRAPHQL_PARSE_FAILED
    }
}

/// The code of an error returned by the schema's validation stage.
fn validation_code(e: &ServerError) -> &'static str {
    match e.message.as_str() {
        "Query is nested too deep." => QUERY_TOO_DEEP,
        "Query is too complex." => QUERY_TOO_COMPLEX,
        _ => GRAPHQL_VALIDATION_FAILED,
    }
}

/// Per-request marker, put into the request data by the HTTP layer: set once execution
/// starts. Errors of a request that never executed are request errors.
#[derive(Debug, Clone, Default)]
pub struct Stage(Arc<AtomicBool>);

impl Stage {
    /// Whether the operation started executing (so the response has `data`).
    pub fn executed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub(super) fn mark_executed(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Tags an error of the parse stage with its code.
pub(super) fn tag_parse_error(e: ServerError) -> ServerError {
    let code = parse_stage_code(&e);
    with_code(e, code)
}

/// Tags the errors of the validation stage with their codes (the hub's own checks set
/// theirs, which are kept).
pub(super) fn tag_validation_errors(errors: Vec<ServerError>) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|e| {
            let code = validation_code(&e);
            with_code(e, code)
        })
        .collect()
}

/// Tags the field errors of an executed response: they keep the code their resolver set
/// (resolvers tag input errors `BAD_USER_INPUT`); an error no resolver classified is the
/// hub's own failure.
pub(super) fn tag_field_errors(errors: Vec<ServerError>) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|e| with_code(e, INTERNAL_SERVER_ERROR))
        .collect()
}

/// Tags the errors of a response that was never executed (request errors the stages above
/// did not see, e.g. an unknown `operationName`, which async-graphql checks after
/// validation).
pub fn tag_request_errors(errors: Vec<ServerError>) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|e| with_code(e, GRAPHQL_VALIDATION_FAILED))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_set_once_and_resolver_codes_win() {
        let e = with_code(error("x", BAD_USER_INPUT), GRAPHQL_VALIDATION_FAILED);
        assert_eq!(code_of(&e), Some(BAD_USER_INPUT));
        let e = with_code(ServerError::new("y", None), TIMEOUT);
        assert_eq!(code_of(&e), Some(TIMEOUT));
    }

    #[test]
    fn documents_are_classified() {
        for (query, code) in [
            ("{", Some(GRAPHQL_PARSE_FAILED)),
            ("query { a b }", None),
            (
                &format!("{}{}", "{a".repeat(100), "}".repeat(100)),
                Some(QUERY_TOO_DEEP),
            ),
        ] {
            let got = parse_document(query).err();
            assert_eq!(got.as_ref().and_then(code_of), code, "{query}");
        }
    }

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for (query, exceeds) in [
            (format!("{{ a(x: {}) }}", nest(9)), false),
            (format!("{{ a(x: {}) }}", nest(10)), true),
            (format!("{{ a(x: \"{}\") }}", "[".repeat(50)), false),
            (format!("{{ a(x: \"\\\"{}\") }}", "[".repeat(50)), false),
            (
                format!("{{ a(x: \"\"\"\\\"\"\"{}\"\"\") }}", "[".repeat(50)),
                false,
            ),
            (format!("# {}\n{{ a }}", "{".repeat(50)), false),
            (
                format!("{{ a }} # {}\n{}", "{".repeat(50), "{".repeat(11)),
                false,
            ),
            (
                format!("{{ a }} # {}\n{}", "{".repeat(50), "{".repeat(12)),
                true,
            ),
        ] {
            assert_eq!(nesting_exceeds(&query, 11), exceeds, "{query}");
        }
    }

    #[test]
    fn documents_at_the_nesting_limit_parse_on_a_small_stack() {
        // Actix workers run on 2 MiB stacks; the parser recurses once per level. Half that
        // is enough at the limit.
        let n = MAX_NESTING - 2;
        let values = format!("{{ a(x: {}1{}) }}", "[".repeat(n), "]".repeat(n));
        let objects = format!("{{ a(x: {}1{}) }}", "{a: ".repeat(n), "}".repeat(n));
        let selections = format!("{}{}", "{a".repeat(n), "}".repeat(n));
        let over = format!(
            "{{ a(x: {}1{}) }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                assert!(parse_document(&values).is_ok());
                assert!(parse_document(&objects).is_ok());
                assert_eq!(
                    parse_document(&selections).err().as_ref().and_then(code_of),
                    Some(QUERY_TOO_DEEP)
                );
                assert_eq!(
                    parse_document(&over).err().as_ref().and_then(code_of),
                    Some(QUERY_TOO_DEEP)
                );
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn required_variables_must_be_given() {
        let doc = parse_document(
            "query A($a: Int!, $b: Int, $c: Int! = 1) { x } query B($d: [Int]!) { y }",
        )
        .unwrap();
        let vars = |json: serde_json::Value| Variables::from_json(json);
        let messages = |name: &str, v: &Variables| -> Vec<String> {
            missing_variables(&doc, Some(name), v)
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert_eq!(
            messages("A", &vars(serde_json::json!({}))),
            ["Variable `$a` of required type `Int!` was not provided."]
        );
        assert_eq!(
            messages("A", &vars(serde_json::json!({"a": null}))).len(),
            1
        );
        assert!(messages("A", &vars(serde_json::json!({"a": 1}))).is_empty());
        assert_eq!(
            messages("B", &vars(serde_json::json!({"a": 1}))),
            ["Variable `$d` of required type `[Int]!` was not provided."]
        );
        assert!(missing_variables(&doc, None, &vars(serde_json::json!({}))).is_empty());
    }

    #[test]
    fn limit_messages_refine_the_codes() {
        let e = |m: &str| ServerError::new(m, None);
        assert_eq!(
            validation_code(&e("Query is too complex.")),
            QUERY_TOO_COMPLEX
        );
        assert_eq!(
            validation_code(&e("Query is nested too deep.")),
            QUERY_TOO_DEEP
        );
        assert_eq!(
            validation_code(&e("Unknown field \"x\"")),
            GRAPHQL_VALIDATION_FAILED
        );
        assert_eq!(
            parse_stage_code(&e(
                "The recursion depth of the query cannot be greater than `32`"
            )),
            QUERY_TOO_DEEP
        );
        assert_eq!(parse_stage_code(&e(" --> 1:2\n  |")), GRAPHQL_PARSE_FAILED);
    }
}
