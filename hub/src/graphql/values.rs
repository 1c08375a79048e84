//! Whether a request's variable values fit the document, as async-graphql's validation
//! would find them: the condition for running a document that passed every check before,
//! with new variable values, on the role's schema without the checks (see
//! `super::role_schema` and `http::answer`).
//!
//! async-graphql reads variable values in one validation rule, `ArgumentsOfCorrectType`:
//! each argument whose variables the request all gives is checked whole, the variables
//! put in, against the argument's type (`is_valid_input_value`, which async-graphql keeps
//! private). [`fit`] is the same walk over the operation and the fragments, answering only
//! yes or no, plus a check of each value against its variable's declared type. It errs on
//! the side of no: a no sends the request to the schema with every check, whose answer
//! (and error, in async-graphql's words) is then the one every request gets. So only a
//! yes must be right, and each yes is one async-graphql gives too.
//!
//! The declared type alone is not enough: async-graphql compares a variable's declared
//! type with where it stands only where its walk of input values reaches, and that walk
//! does not enter an object written where a list is expected (`orderBy: {field: $f}`, a
//! single value standing for a list of one), so `$f: FirmOrderField` may stand where a
//! non-null value is expected.

use async_graphql::Positioned;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
    Selection, SelectionSet,
};
use std::cell::Cell;

use async_graphql::indexmap::IndexMap;
use async_graphql::registry::{MetaInputValue, MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Value as ConstValue, Variables};

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

/// Whether `variables` fit `doc`, whose one operation is `op`: every given value is of
/// its variable's declared type, and every argument of the operation and the fragments
/// whose variables are all given is of its type with them put in. An explicit `null` for
/// a variable with a default is a no (conservative: where it stands, `null` may be
/// refused). A field or directive the registry does not know is a no.
pub fn fit(
    registry: &Registry,
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    variables: &Variables,
) -> bool {
    let declared = op.variable_definitions.iter().all(|def| {
        let def = &def.node;
        match variables.get(&def.name.node) {
            None => true,
            Some(ConstValue::Null) if def.default_value.is_some() => false,
            Some(value) => fits(registry, &def.var_type.node.to_string(), value),
        }
    });
    if !declared {
        return false;
    }
    let walk = Walk {
        registry,
        variables,
    };
    let root = match op.ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    root.is_some_and(|root| {
        walk.directives(&op.directives) && walk.selections(root, &op.selection_set.node)
    }) && doc.fragments.values().all(|fragment| {
        let fragment = &fragment.node;
        walk.directives(&fragment.directives)
            && walk.selections(
                &fragment.type_condition.node.on.node,
                &fragment.selection_set.node,
            )
    })
}

/// Whether the arguments `given` (a field's or a directive's) fit their `declared` types
/// with the request's variables put in (see [`Walk::argument`]). A macro: the parser's
/// value type is not exported by name.
macro_rules! arguments_fit {
    ($walk:expr, $declared:expr, $given:expr) => {
        $given.iter().all(|(name, value)| {
            let used = Cell::new(false);
            let value = value.node.clone().into_const_with($walk.lookup(&used));
            $walk.argument($declared, &name.node, value, used.get())
        })
    };
}

/// The arguments of a document, read with a request's variables.
struct Walk<'a> {
    registry: &'a Registry,
    variables: &'a Variables,
}

impl Walk<'_> {
    /// Whether the arguments under a selection set on the type named `parent` fit.
    fn selections(&self, parent: &str, set: &SelectionSet) -> bool {
        set.items.iter().all(|selection| match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                if field.name.node == "__typename" {
                    return self.directives(&field.directives);
                }
                let Some(meta) = self
                    .registry
                    .types
                    .get(parent)
                    .and_then(|ty| ty.field_by_name(&field.name.node))
                else {
                    return false;
                };
                self.directives(&field.directives)
                    && arguments_fit!(self, &meta.args, field.arguments)
                    && self.selections(
                        MetaTypeName::concrete_typename(&meta.ty),
                        &field.selection_set.node,
                    )
            }
            Selection::FragmentSpread(spread) => self.directives(&spread.node.directives),
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                let on = inline
                    .type_condition
                    .as_ref()
                    .map_or(parent, |c| c.node.on.node.as_str());
                self.directives(&inline.directives)
                    && self.selections(on, &inline.selection_set.node)
            }
        })
    }

    fn directives(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|directive| {
            let directive = &directive.node;
            self.registry
                .directives
                .get(directive.name.node.as_str())
                .is_some_and(|meta| arguments_fit!(self, &meta.args, directive.arguments))
        })
    }

    /// Looks up the variables a value names, noting in `used` that it names one.
    fn lookup<'c>(
        &'c self,
        used: &'c Cell<bool>,
    ) -> impl FnMut(Name) -> Result<ConstValue, ()> + 'c {
        move |name| {
            used.set(true);
            self.variables.get(&name).cloned().ok_or(())
        }
    }

    /// Whether the argument `name`, its variables put in (`value`), is of its declared
    /// type, as `ArgumentsOfCorrectType` checks it: an argument with a variable the
    /// request does not give is skipped there (`Err`), and one without variables passed
    /// before. An argument the registry does not know is a no.
    fn argument(
        &self,
        declared: &IndexMap<String, MetaInputValue>,
        name: &Name,
        value: Result<ConstValue, ()>,
        uses_variables: bool,
    ) -> bool {
        let Some(meta) = declared.get(name.as_str()) else {
            return false;
        };
        match value {
            Ok(value) => !uses_variables || fits(self.registry, &meta.ty, &value),
            Err(()) => true,
        }
    }
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
            assert_eq!(fit(registry, &doc, &op.node, &given), yes, "{variables}");
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
            assert!(!fit(registry, &doc, &op.node, &given), "{variables}");
            assert!(!refused(&variables).await, "{variables}");
        }

        // Where async-graphql does not compare a variable's declared type with its place:
        // inside an object written where a list is expected. Here the values are checked
        // where they stand.
        const LOOSE: &str = r#"query P($f: FirmOrderField, $s: Int) {
  firms(first: 1, orderBy: {field: $f}, filter: {and: {name: {gte: $s}}}) { totalCount }
}"#;
        let doc = async_graphql::parser::parse_query(LOOSE).unwrap();
        let (_, op) = doc.operations.iter().next().unwrap();
        for (variables, yes) in [
            (json!({ "f": "NAME" }), true),
            (json!({ "f": null }), false),
            (json!({ "f": "NAME", "s": null }), true),
            (json!({ "f": "NAME", "s": 5 }), false),
        ] {
            let given = Variables::from_json(variables.clone());
            assert_eq!(fit(registry, &doc, &op.node, &given), yes, "{variables}");
            let request = async_graphql::Request::new(LOOSE).variables(given);
            let response = schema.execute(request).await;
            let refused = response.errors.iter().any(|e| e.path.is_empty());
            assert_eq!(refused, !yes, "{variables}: {:?}", response.errors);
        }
    }
}
