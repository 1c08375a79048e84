//! Bounds on a request's document and arguments, checked before anything else looks at
//! them (async-graphql's validation included), in time linear in the document:
//!
//! - **Size once expanded**: the field selections a document selects when its fragments
//!   are spread where they are used (`__typename` and introspection fields counted), at
//!   most `graphql.max_fields`. Each fragment is measured once, so a document of fragments
//!   that spread each other twice (2^25 fields in 1.5 KB) is measured in microseconds and
//!   refused, instead of being expanded by the validation rules that walk every spread.
//! - **Arguments**: every list at most `graphql.max_list_items` items (an `in` list, the
//!   filters of an `and` or `or`), nested at most `graphql.max_input_depth` deep, at most
//!   `graphql.max_input_values` values in all arguments and variables together, texts at
//!   most `graphql.max_text_bytes`, a firm search at most `graphql.max_search_words`
//!   words. So no request reaches the database layer's own limits (SQLite's 32,766 bound
//!   parameters) or makes the condition builder recurse deeper than the bound.
//!
//! A request over one is a request error (400 with `application/graphql-response+json`)
//! naming the bound: `QUERY_TOO_COMPLEX` for its size, `QUERY_TOO_DEEP` for fragments
//! spread inside each other more than [`MAX_SPREAD_DEPTH`] deep, `BAD_USER_INPUT` for its
//! arguments.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, ServerError, Value, Variables};

use super::errors::{BAD_USER_INPUT, QUERY_TOO_COMPLEX, QUERY_TOO_DEEP, with_code};
use crate::config::GraphqlSettings;

/// How deep selections and fragment spreads may nest while being measured: far above the
/// depth limit of queries (12), so only a document built to attack it reaches it.
pub const MAX_SPREAD_DEPTH: usize = 64;

/// Checks `doc` (with `variables`) against the bounds of `settings`.
pub fn check(
    doc: &ExecutableDocument,
    variables: &Variables,
    settings: &GraphqlSettings,
) -> Result<(), ServerError> {
    let fields = expanded_fields(doc)?;
    if fields > settings.max_fields as u64 {
        let mut e = ServerError::new(
            format!(
                "The query selects {fields} fields once its fragments are spread where they are \
                 used, more than {} (`graphql.max_fields`).",
                settings.max_fields
            ),
            None,
        );
        let ext = e.extensions.get_or_insert_with(Default::default);
        ext.set("fields", fields);
        ext.set("limit", settings.max_fields as u64);
        return Err(with_code(e, QUERY_TOO_COMPLEX));
    }
    Arguments::new(settings).check(doc, variables)
}

/// The field selections of the document's operations once its fragments are spread.
fn expanded_fields(doc: &ExecutableDocument) -> Result<u64, ServerError> {
    let mut sizes: HashMap<&Name, u64> = HashMap::new();
    let mut measuring: Vec<&Name> = Vec::new();
    let mut total: u64 = 0;
    for (_, op) in doc.operations.iter() {
        total = total.saturating_add(measure(
            doc,
            &op.node.selection_set.node,
            &mut sizes,
            &mut measuring,
            0,
        )?);
    }
    Ok(total)
}

fn measure<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    sizes: &mut HashMap<&'d Name, u64>,
    measuring: &mut Vec<&'d Name>,
    depth: usize,
) -> Result<u64, ServerError> {
    if depth > MAX_SPREAD_DEPTH {
        return Err(with_code(
            ServerError::new(
                format!(
                    "The query nests selections and fragment spreads more than \
                     {MAX_SPREAD_DEPTH} deep."
                ),
                None,
            ),
            QUERY_TOO_DEEP,
        ));
    }
    let mut n: u64 = 0;
    for item in &set.items {
        let add = match &item.node {
            Selection::Field(f) => 1u64.saturating_add(measure(
                doc,
                &f.node.selection_set.node,
                sizes,
                measuring,
                depth + 1,
            )?),
            Selection::InlineFragment(i) => {
                measure(doc, &i.node.selection_set.node, sizes, measuring, depth + 1)?
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                match (sizes.get(name), doc.fragments.get(name)) {
                    (Some(size), _) => *size,
                    // A cycle: validation refuses it; it adds nothing here.
                    (None, _) if measuring.contains(&name) => 0,
                    // An unknown fragment: validation refuses it.
                    (None, None) => 0,
                    (None, Some(def)) => {
                        measuring.push(name);
                        let size = measure(
                            doc,
                            &def.node.selection_set.node,
                            sizes,
                            measuring,
                            depth + 1,
                        )?;
                        measuring.pop();
                        sizes.insert(name, size);
                        size
                    }
                }
            }
        };
        n = n.saturating_add(add);
    }
    Ok(n)
}

/// The bounds of arguments, and the values counted so far.
struct Arguments<'s> {
    settings: &'s GraphqlSettings,
    values: usize,
}

impl<'s> Arguments<'s> {
    fn new(settings: &'s GraphqlSettings) -> Self {
        Arguments {
            settings,
            values: 0,
        }
    }

    fn refuse(&self, message: String) -> ServerError {
        with_code(ServerError::new(message, None), BAD_USER_INPUT)
    }

    /// Every variable once, then every argument written in the document (variables in
    /// them count where they are defined, not again where they are used).
    fn check(
        &mut self,
        doc: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<(), ServerError> {
        for (name, value) in variables.iter() {
            self.value(value, &format!("the variable `${name}`"))?;
        }
        let mut fields = Vec::new();
        for (_, op) in doc.operations.iter() {
            collect_fields(&op.node.selection_set.node, &mut fields);
        }
        for (_, def) in doc.fragments.iter() {
            collect_fields(&def.node.selection_set.node, &mut fields);
        }
        for field in fields {
            for (name, value) in &field.arguments {
                let place = format!("`{}({}: …)`", field.name.node, name.node);
                // Variables as null: their values were counted above.
                let literal = value
                    .node
                    .clone()
                    .into_const_with(|_| Ok::<_, ()>(Value::Null))
                    .unwrap_or(Value::Null);
                self.value(&literal, &place)?;
                if name.node == "search" {
                    let text = value
                        .node
                        .clone()
                        .into_const_with(|v| variables.get(&v).cloned().ok_or(()))
                        .unwrap_or(Value::Null);
                    if let Value::String(s) = text {
                        let words = s.split_whitespace().count();
                        if words > self.settings.max_search_words {
                            return Err(self.refuse(format!(
                                "{place}: the search has {words} words, more than {} \
                                 (`graphql.max_search_words`).",
                                self.settings.max_search_words
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// One argument's (or variable's) value, walked without recursion.
    fn value(&mut self, value: &Value, place: &str) -> Result<(), ServerError> {
        let s = self.settings;
        let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
        while let Some((v, depth)) = stack.pop() {
            self.values += 1;
            if self.values > s.max_input_values {
                return Err(self.refuse(format!(
                    "The arguments of the request hold more than {} values \
                     (`graphql.max_input_values`).",
                    s.max_input_values
                )));
            }
            if depth > s.max_input_depth {
                return Err(self.refuse(format!(
                    "{place}: lists and objects nest more than {} deep \
                     (`graphql.max_input_depth`).",
                    s.max_input_depth
                )));
            }
            match v {
                Value::List(items) => {
                    if items.len() > s.max_list_items {
                        return Err(self.refuse(format!(
                            "{place}: a list of {} items, more than {} \
                             (`graphql.max_list_items`).",
                            items.len(),
                            s.max_list_items
                        )));
                    }
                    stack.extend(items.iter().map(|i| (i, depth + 1)));
                }
                Value::Object(map) => stack.extend(map.values().map(|x| (x, depth + 1))),
                Value::String(text) if text.len() > s.max_text_bytes => {
                    return Err(self.refuse(format!(
                        "{place}: a text of {} bytes, more than {} (`graphql.max_text_bytes`).",
                        text.len(),
                        s.max_text_bytes
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Every field written in `set` (not through fragment spreads: their definitions are
/// walked on their own), with inline fragments' fields.
fn collect_fields<'d>(
    set: &'d SelectionSet,
    out: &mut Vec<&'d async_graphql::parser::types::Field>,
) {
    let mut stack = vec![set];
    while let Some(set) = stack.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    out.push(&f.node);
                    stack.push(&f.node.selection_set.node);
                }
                Selection::InlineFragment(i) => stack.push(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_query(query: &str, variables: serde_json::Value) -> Result<(), ServerError> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        check(
            &doc,
            &Variables::from_json(variables),
            &GraphqlSettings::default(),
        )
    }

    fn code(r: Result<(), ServerError>) -> Option<String> {
        r.err()
            .and_then(|e| super::super::errors::code_of(&e).map(str::to_owned))
    }

    #[test]
    fn fragments_that_double_are_measured_at_once_and_refused() {
        let mut q = String::from("{ ...F0 }\n");
        for i in 0..25 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ a{i}: __typename ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        q.push_str("fragment F25 on Query { __typename }\n");
        let started = std::time::Instant::now();
        assert_eq!(
            code(check_query(&q, serde_json::json!({}))).as_deref(),
            Some(QUERY_TOO_COMPLEX)
        );
        assert!(started.elapsed().as_millis() < 500);
        let doc = async_graphql::parser::parse_query(&q).unwrap();
        assert_eq!(expanded_fields(&doc).unwrap(), (1u64 << 26) - 1);
    }

    #[test]
    fn arguments_are_bounded() {
        let many: Vec<String> = (0..1001).map(|i| format!("\"{i}\"")).collect();
        let q = format!(
            "{{ firms(filter: {{name: {{in: [{}]}}}}) {{ totalCount }} }}",
            many.join(",")
        );
        assert_eq!(
            code(check_query(&q, serde_json::json!({}))).as_deref(),
            Some(BAD_USER_INPUT)
        );
        let words = "w ".repeat(21);
        assert_eq!(
            code(check_query(
                "query($s: String) { firms(search: $s) { totalCount } }",
                serde_json::json!({ "s": words })
            ))
            .as_deref(),
            Some(BAD_USER_INPUT)
        );
        let nested = format!(
            "{{ firms(filter: {}{{name: {{eq: \"x\"}}}}{}) {{ totalCount }} }}",
            "{or: [".repeat(20),
            "]}".repeat(20)
        );
        let e = check_query(&nested, serde_json::json!({})).unwrap_err();
        assert!(
            e.message.contains("graphql.max_input_depth"),
            "{}",
            e.message
        );
        let long = "x".repeat(5000);
        let e = check_query(
            "query($c: String) { firms(filter: {name: {contains: $c}}) { totalCount } }",
            serde_json::json!({ "c": long }),
        )
        .unwrap_err();
        assert!(
            e.message.contains("graphql.max_text_bytes"),
            "{}",
            e.message
        );
        // Ordinary queries pass.
        assert!(
            check_query(
                "query($s: String) { firms(search: $s, filter: {or: [{district: {in: [\"Kasur\", \"Lahore\"]}}, {name: {startsWith: \"al\"}}]}) { totalCount } }",
                serde_json::json!({ "s": "al noor surgical" })
            )
            .is_ok()
        );
    }
}
