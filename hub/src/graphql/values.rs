//! Whether a request's variable values are of their declared types, as async-graphql's
//! validation would find them: the condition for running a document that passed every check
//! before, with new variable values, on the role's schema without the checks (see
//! `super::role_schema` and `http::answer`).
//!
//! async-graphql checks argument values (variables substituted) in its validation rule
//! `ArgumentsOfCorrectType`, through `is_valid_input_value`, which it keeps private; this is
//! the same walk over the registry, answering only yes or no. It errs on the side of no: a
//! no sends the request to the schema with every check, whose answer (and error, in
//! async-graphql's words) is then the one every request gets. So only a yes must be right,
//! and each yes below is one async-graphql gives too.

use async_graphql::Positioned;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Value as ConstValue, Variables};

/// The document's operation when it has only one. Only such documents run on the kept
/// schema with variables: async-graphql checks the arguments of every fragment against
/// the request's variables, whichever operation the request selects, so in a document of
/// several operations a fragment of another one may read a value that no variable of the
/// selected operation declares.
pub fn single_operation(doc: &ExecutableDocument) -> Option<&Positioned<OperationDefinition>> {
    match &doc.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) if ops.len() == 1 => ops.values().next(),
        DocumentOperations::Multiple(_) => None,
    }
}

/// Whether every variable of `op` that `variables` gives holds a value of its declared type.
/// A variable not given takes its default, which the document's validation checked
/// (`DefaultValuesOfCorrectType`). An explicit `null` for a variable with a default is a
/// no: its type may be nullable where its use is not (a nullable variable with a default
/// may stand where a non-null value is expected), and there `null` is refused.
pub fn fit(registry: &Registry, op: &OperationDefinition, variables: &Variables) -> bool {
    op.variable_definitions.iter().all(|def| {
        let def = &def.node;
        match variables.get(&def.name.node) {
            None => true,
            Some(ConstValue::Null) if def.default_value.is_some() => false,
            Some(value) => fits(registry, &def.var_type.node.to_string(), value),
        }
    })
}

/// Whether `value` is of the type named `ty` (`[Int!]!` and the like).
fn fits(registry: &Registry, ty: &str, value: &ConstValue) -> bool {
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => {
            !matches!(value, ConstValue::Null) && fits(registry, inner, value)
        }
        MetaTypeName::List(inner) => match value {
            ConstValue::List(items) => items.iter().all(|item| fits(registry, inner, item)),
            ConstValue::Null => true,
            // A single value stands for a list of one (input coercion).
            single => fits(registry, inner, single),
        },
        MetaTypeName::Named(name) => {
            if matches!(value, ConstValue::Null) {
                return true;
            }
            match registry.types.get(name) {
                Some(MetaType::Scalar { is_valid, .. }) => {
                    is_valid.as_ref().is_none_or(|valid| valid(value))
                }
                Some(MetaType::Enum { enum_values, .. }) => match value {
                    ConstValue::Enum(v) => enum_values.contains_key(v.as_str()),
                    ConstValue::String(v) => enum_values.contains_key(v.as_str()),
                    _ => false,
                },
                Some(MetaType::InputObject {
                    input_fields,
                    oneof,
                    ..
                }) => {
                    let ConstValue::Object(given) = value else {
                        return false;
                    };
                    if *oneof
                        && (given.len() != 1 || given.values().any(|v| *v == ConstValue::Null))
                    {
                        return false;
                    }
                    given.keys().all(|k| input_fields.contains_key(k.as_str()))
                        && input_fields
                            .values()
                            .all(|field| match given.get(field.name.as_str()) {
                                Some(v) => fits(registry, &field.ty, v),
                                None => {
                                    !MetaTypeName::create(&field.ty).is_non_null()
                                        || field.default_value.is_some()
                                }
                            })
                }
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::GraphqlSettings;
    use crate::graphql::{RoleShared, role_schema};

    const QUERY: &str = r#"query Q($f: Int, $o: [FirmOrder!], $filter: FirmFilter, $s: String = "a", $d: OrderDirection!) {
  firms(first: $f, orderBy: $o, filter: $filter) { totalCount }
  x: firms(first: 1, orderBy: [{field: NAME, direction: $d}], filter: {name: {gte: $s}}) { totalCount }
}"#;

    /// Each yes is a pass of async-graphql's own validation and the hub's checks (the
    /// checked schema, without a database: what it refuses before executing comes back as
    /// errors without a path), and each no a refusal, but for the noes given on purpose.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_yes_is_a_pass_of_async_graphqls_validation() {
        let shared = RoleShared::default();
        let schema = role_schema(
            None,
            &GraphqlSettings::default(),
            None,
            true,
            &shared,
            false,
        );
        let doc = async_graphql::parser::parse_query(QUERY).unwrap();
        let (_, op) = doc.operations.iter().next().unwrap();
        let refused = |variables: &serde_json::Value| {
            let schema = schema.clone();
            let request = async_graphql::Request::new(QUERY)
                .variables(Variables::from_json(variables.clone()));
            async move {
                let response = schema.execute(request).await;
                response.errors.iter().any(|e| e.path.is_empty())
            }
        };
        assert!(!refused(&json!({ "d": "ASC" })).await);
        let (registry, _) = shared
            .shape
            .get()
            .expect("recorded by the first validation");
        for (variables, yes) in [
            (json!({ "d": "ASC" }), true),
            (json!({ "f": 3, "d": "DESC" }), true),
            (json!({ "f": "3", "d": "ASC" }), false),
            (json!({ "f": 2.5, "d": "ASC" }), false),
            // Out of `Int`'s range: async-graphql's validation takes any integer for `Int`
            // (its `is_valid`), and the argument's parse refuses it as it executes, on
            // both schemas alike.
            (
                json!({ "filter": { "employeesTotal": { "gte": 3_000_000_000_i64 } }, "d": "ASC" }),
                true,
            ),
            (json!({ "f": null, "d": "ASC" }), true),
            (json!({ "d": null }), false),
            (json!({ "d": "SIDEWAYS" }), false),
            (json!({ "o": [{ "field": "NAME" }], "d": "ASC" }), true),
            (
                json!({ "o": { "field": "NAME", "direction": "DESC" }, "d": "ASC" }),
                true,
            ),
            (json!({ "o": [{ "field": "NOPE" }], "d": "ASC" }), false),
            (json!({ "o": [{ "direction": "ASC" }], "d": "ASC" }), false),
            (
                json!({ "o": [{ "field": "NAME", "x": 1 }], "d": "ASC" }),
                false,
            ),
            (json!({ "o": [null], "d": "ASC" }), false),
            (
                json!({ "filter": { "name": { "in": ["a", "b"] } }, "d": "ASC" }),
                true,
            ),
            (
                json!({ "filter": { "name": { "in": "a" } }, "d": "ASC" }),
                true,
            ),
            (
                json!({ "filter": { "employeesTotal": { "gte": "x" } }, "d": "ASC" }),
                false,
            ),
            (json!({ "s": "b", "d": "ASC" }), true),
        ] {
            let given = Variables::from_json(variables.clone());
            assert_eq!(fit(registry, &op.node, &given), yes, "{variables}");
            assert_eq!(refused(&variables).await, !yes, "{variables}");
        }
        // The noes on purpose, which async-graphql's validation takes: `null` for a
        // variable with a default (taken here, a nullable argument; refused where a
        // non-null value is expected), and a value that is not an object for an input
        // object (its parse refuses it as the request executes).
        for variables in [
            json!({ "s": null, "d": "ASC" }),
            json!({ "filter": 5, "d": "ASC" }),
        ] {
            let given = Variables::from_json(variables.clone());
            assert!(!fit(registry, &op.node, &given), "{variables}");
            assert!(!refused(&variables).await, "{variables}");
        }
    }
}
