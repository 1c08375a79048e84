//! What the hub does with a request's document besides running it: its cost, checked
//! against `graphql.max_complexity` before anything runs, and the order of the response,
//! which must be the order of the selection set.
//!
//! Both live in the hub's one schema extension, [`DocumentChecks`], which keeps the parsed
//! document and the variables of its request (the `parse_query` hook), checks the cost
//! after validation (the `validation` hook) and puts the response in order after execution
//! (the `execute` hook); it also tags each stage's errors with their codes (see
//! [`super::errors`]). So they hold on every path: the HTTP endpoint, GraphiQL, and the
//! in-process tests, which all run through the schema. One extension, not one per
//! concern: async-graphql runs every field of a response through the chain of extensions
//! (a boxed future per extension per field), so each extension costs on every field.
//!
//! # The cost model
//!
//! Every field costs 1 plus what is selected under it; a list (a field taking `first`)
//! costs 1 plus its page size times what one of its items costs. An aggregate (a field
//! taking `groupBy`) is not a list: its groups come from one statement and hold no lists. The page size is `first`
//! (or `last`) as given, or `graphql.default_page_size` when the list has none, the size
//! the resolver would use. So `firms(first: 100) { clusters { nodes { slug } } }` costs
//! 1 + 100 × (1 + 25 × (1 + 1)) = 5,101 with the default page size of 25. A query over
//! the limit is refused before it runs with `QUERY_TOO_COMPLEX`, its cost and the limit in
//! `extensions`, the list that costs most, and the page sizes that would make it fit.
//!
//! # Order
//!
//! The GraphQL specification orders a result map as its selection set (CollectFields):
//! response keys in the order they first appear, fragments expanded where they are
//! spread. async-graphql 7.2 resolves the fields of an object concurrently and inserts
//! them as they finish, so without this step the keys of one response change order from
//! one request to the next. Errors are put in document order too (by location, then path).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::{MetaTypeName, Registry};
use async_graphql::{
    Name, PathSegment, Positioned, Response, SchemaEnv, ServerError, ServerResult,
    ValidationResult, Value, Variables,
};

use super::errors::{QUERY_TOO_COMPLEX, selected_operation, with_code};
use crate::config::GraphqlSettings;

/// The operation name of a request, as request data, so that the validation hook can key
/// the kept validation result by it.
#[derive(Debug, Clone, Default)]
pub struct OperationName(pub Option<String>);

/// A role's schema as the cost reads it: its registry and the sizes of its introspection
/// lists, recorded by the first validation on one of the role's schemas with the extension
/// (the checked one or the introspection one, whose registries are the same; schema data,
/// an `Arc` shared with the HTTP endpoint). The endpoint costs the documents it runs on the
/// role's schema without the extension (see `super::role_schema`) with it; async-graphql
/// offers a schema's registry to its extensions and resolvers only.
#[derive(Default)]
pub struct SchemaShape(OnceLock<(SchemaEnv, IntrospectionSizes)>);

impl std::fmt::Debug for SchemaShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SchemaShape")
            .field(&self.0.get().map(|(_, sizes)| sizes))
            .finish()
    }
}

impl SchemaShape {
    /// The shape of the schema of `env`, recorded on first use.
    fn record(&self, env: &SchemaEnv) -> &(SchemaEnv, IntrospectionSizes) {
        self.0
            .get_or_init(|| (env.clone(), IntrospectionSizes::of(&env.registry)))
    }

    /// The registry and introspection sizes, once a validation recorded them.
    pub fn get(&self) -> Option<(&Registry, &IntrospectionSizes)> {
        self.0.get().map(|(env, sizes)| (&env.registry, sizes))
    }
}

/// The schema extension that checks a document's cost and orders its response.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocumentChecks;

impl ExtensionFactory for DocumentChecks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checks::default())
    }
}

/// One request's document and variables, kept from parsing to execution.
#[derive(Default)]
struct Checks {
    seen: Mutex<Option<(Arc<ExecutableDocument>, Variables)>>,
}

impl Checks {
    fn document(&self) -> Option<(Arc<ExecutableDocument>, Variables)> {
        self.seen.lock().ok().and_then(|s| s.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Checks {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next
            .run(ctx, query, variables)
            .await
            .map_err(super::errors::tag_parse_error)?;
        // The endpoint's kept document (see `super::cache`) is this one: no copy needed.
        let kept = ctx
            .data_opt::<Arc<super::cache::Cached>>()
            .map(|c| c.doc.clone());
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((
                kept.unwrap_or_else(|| Arc::new(doc.clone())),
                variables.clone(),
            ));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        self.validate(ctx, next)
            .await
            .map_err(super::errors::tag_validation_errors)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(stage) = ctx.data_opt::<super::errors::Stage>() {
            stage.mark_executed();
        }
        let response = next.run(ctx, operation_name).await;
        match self.document() {
            Some((doc, _)) => finish(response, &doc, operation_name),
            None => finish_errors(response),
        }
    }
}

/// What the hub does to an executed response of `doc`'s operation `operation_name`: its
/// field errors tagged with their codes, its data in the order of the selection set, its
/// errors in document order. The extension's `execute` hook runs it; so does the HTTP
/// endpoint for the requests it runs without the extension (see
/// [`super::role_schema`]).
pub fn finish(
    mut response: Response,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Response {
    response.errors = super::errors::tag_field_errors(std::mem::take(&mut response.errors));
    if let Some(op) = selected_operation(doc, operation_name) {
        let errors = error_paths(&response.errors);
        order(
            &mut response.data,
            &[&op.node.selection_set.node],
            &doc.fragments,
            &mut Vec::new(),
            &errors,
        );
    }
    order_errors(&mut response.errors);
    response
}

/// [`finish`] without a document: the errors only.
fn finish_errors(mut response: Response) -> Response {
    response.errors = super::errors::tag_field_errors(std::mem::take(&mut response.errors));
    order_errors(&mut response.errors);
    response
}

impl Checks {
    /// Validation with the hub's checks: the kept result of a document checked before, or
    /// the document's bounds, async-graphql's rules and the cost.
    async fn validate(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let (Some(settings), Some((doc, variables))) =
            (ctx.data_opt::<GraphqlSettings>(), self.document())
        else {
            return next.run(ctx).await;
        };
        // A kept document that passed every check before, without variables (whose values
        // the checks read), passes again: its validation is not repeated.
        let kept = ctx
            .data_opt::<Arc<super::cache::Cached>>()
            .filter(|c| Arc::ptr_eq(&c.doc, &doc));
        let operation = ctx.data_opt::<OperationName>().and_then(|o| o.0.clone());
        let role = ctx
            .data_opt::<super::principal::Principal>()
            .map_or(super::principal::Role::Public, |p| p.role);
        if variables.is_empty()
            && let Some(result) = kept.and_then(|c| c.validated(role, operation.as_deref()))
        {
            return Ok(result);
        }
        // Before async-graphql validates the document (some of its rules expand every
        // fragment where it is spread, which takes exponential time on a document whose
        // fragments spread each other twice): its size once expanded, and its arguments.
        super::bounds::check(&doc, &variables, settings).map_err(|e| vec![e])?;
        let result = next.run(ctx).await?;
        let shape = ctx.data_opt::<Arc<SchemaShape>>();
        let sizes = match shape {
            Some(shape) => shape.record(ctx.schema_env).1,
            None => IntrospectionSizes::of(&ctx.schema_env.registry),
        };
        check_cost(&ctx.schema_env.registry, &sizes, &doc, &variables, settings)
            .map_err(|e| vec![e])?;
        if let Some(kept) = kept {
            // Passed: kept for the next request, with the result when no variable could
            // have changed it, and whether every argument was checked whole (see
            // `cache::Cached::passed_with_every_variable`). The depth is the document's,
            // whatever the variables.
            let every_variable = super::values::single_operation(&doc).is_some_and(|op| {
                op.node
                    .variable_definitions
                    .iter()
                    .all(|d| variables.get(&d.node.name.node).is_some())
            });
            kept.set_passed(
                role,
                operation.as_deref(),
                variables.is_empty().then_some(result),
                every_variable,
            );
            kept.set_depth(result.depth);
        }
        Ok(result)
    }
}

/// Every operation of `doc` costed with `variables` against its limit
/// (`graphql.max_complexity`, or `graphql.max_introspection_complexity` for introspection):
/// the first over it is the error. Every operation, not only the one that runs: that one
/// is chosen later, and a document whose every operation fits is simply fine. Run after
/// async-graphql's validation passed (the walk reads the registry's types of the fields
/// the document selects).
pub fn check_cost(
    registry: &Registry,
    sizes: &IntrospectionSizes,
    doc: &ExecutableDocument,
    variables: &Variables,
    settings: &GraphqlSettings,
) -> Result<(), ServerError> {
    for (_, op) in doc.operations.iter() {
        let cost = Cost::of_operation(
            registry,
            doc,
            op,
            variables,
            settings.default_page_size as u64,
            sizes,
        );
        let (limit, key) = if is_introspection_only(&op.node) {
            (
                settings.max_introspection_complexity as u64,
                "graphql.max_introspection_complexity",
            )
        } else {
            (settings.max_complexity as u64, "graphql.max_complexity")
        };
        if cost.total > limit {
            return Err(cost.error(limit, key));
        }
    }
    Ok(())
}

// ---- Cost ------------------------------------------------------------------------------

/// One list of the document and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCost {
    /// The list's path by response keys, e.g. `firms.clusters`.
    pub path: String,
    /// Its page size: `first`/`last`, or the default page size.
    pub page: u64,
    /// How many times it is resolved: the product of the page sizes of the lists above.
    pub times: u64,
    /// What one of its items costs.
    pub each: u64,
    /// Whether the client sets its page size (`first`); introspection lists have the
    /// schema's sizes.
    pub pageable: bool,
}

impl ListCost {
    /// What the list adds to the total through its page size.
    fn weight(&self) -> u64 {
        self.times
            .saturating_mul(self.page)
            .saturating_mul(self.each)
    }

    /// The largest page size of this list that keeps `total` within `limit`, the other
    /// lists unchanged; `None` when even one item is too many.
    fn fitting_page(&self, total: u64, limit: u64) -> Option<u64> {
        let per_item = self.times.saturating_mul(self.each);
        let rest = total.saturating_sub(self.weight());
        if per_item == 0 || rest >= limit {
            return None;
        }
        let n = (limit - rest) / per_item;
        (n >= 1).then_some(n.min(self.page))
    }
}

/// Whether every root field of an operation is introspection (`__schema`, `__type`,
/// `__typename`).
pub fn is_introspection_only(op: &async_graphql::parser::types::OperationDefinition) -> bool {
    op.selection_set.node.items.iter().all(|s| match &s.node {
        Selection::Field(f) => f.node.name.node.starts_with("__"),
        _ => false,
    })
}

/// How long the introspection lists of this schema are, for their cost: the number of
/// types and directives; the average number of fields, input fields, enum values and
/// arguments (a query over the whole schema meets about that many); and the largest
/// number of interfaces and possible types (a chain of `interfaces { possibleTypes { … } }`
/// multiplies the largest of them, whatever the average).
#[derive(Debug, Clone, Copy, Default)]
pub struct IntrospectionSizes {
    types: u64,
    directives: u64,
    fields: u64,
    input_fields: u64,
    enum_values: u64,
    args: u64,
    interfaces: u64,
    possible_types: u64,
}

impl IntrospectionSizes {
    /// The sizes of `registry`'s schema.
    pub fn of(registry: &Registry) -> Self {
        use async_graphql::registry::MetaType;
        let average = |counts: Vec<usize>| -> u64 {
            let n = counts.len().max(1);
            counts.iter().sum::<usize>().div_ceil(n).max(1) as u64
        };
        let mut fields = Vec::new();
        let mut input_fields = Vec::new();
        let mut enum_values = Vec::new();
        let mut args = Vec::new();
        let mut possible = 1;
        for ty in registry.types.values() {
            match ty {
                MetaType::Object { fields: f, .. } => {
                    fields.push(f.len());
                    args.extend(f.values().map(|x| x.args.len()));
                }
                MetaType::Interface {
                    fields: f,
                    possible_types,
                    ..
                } => {
                    fields.push(f.len());
                    args.extend(f.values().map(|x| x.args.len()));
                    possible = possible.max(possible_types.len());
                }
                MetaType::Union { possible_types, .. } => {
                    possible = possible.max(possible_types.len());
                }
                MetaType::Enum { enum_values: e, .. } => enum_values.push(e.len()),
                MetaType::InputObject {
                    input_fields: i, ..
                } => input_fields.push(i.len()),
                MetaType::Scalar { .. } => {}
            }
        }
        let interfaces = registry
            .implements
            .values()
            .map(|i| i.len())
            .max()
            .unwrap_or(1)
            .max(1);
        IntrospectionSizes {
            types: registry.types.len() as u64,
            directives: registry.directives.len().max(1) as u64,
            fields: average(fields),
            input_fields: average(input_fields),
            enum_values: average(enum_values),
            args: average(args),
            interfaces: interfaces as u64,
            possible_types: possible as u64,
        }
    }

    /// The size of the introspection list field `field` of the introspection type `ty`.
    fn of_field(&self, ty: &str, field: &str) -> Option<u64> {
        Some(match (ty, field) {
            ("__Schema", "types") => self.types,
            ("__Schema", "directives") => self.directives,
            ("__Type", "fields") => self.fields,
            ("__Type", "inputFields") => self.input_fields,
            ("__Type", "enumValues") => self.enum_values,
            ("__Type", "interfaces") => self.interfaces,
            ("__Type", "possibleTypes") => self.possible_types,
            ("__Field" | "__Directive", "args") => self.args,
            _ => return None,
        })
    }
}

/// The cost of one operation.
#[derive(Debug, Clone, Default)]
pub struct Cost {
    pub total: u64,
    pub lists: Vec<ListCost>,
}

/// The deepest selection the cost walk follows; validation bounds the depth of queries
/// long before this (`graphql.max_depth`), so it only guards against a document the
/// validation let through by mistake.
const MAX_WALK_DEPTH: usize = 64;

struct Walk<'a> {
    registry: &'a Registry,
    sizes: &'a IntrospectionSizes,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    defaults: HashMap<&'a str, &'a Value>,
    default_page: u64,
    lists: Vec<ListCost>,
}

impl Cost {
    /// The cost of `op` in `doc`, its variables being `variables`.
    pub fn of_operation(
        registry: &Registry,
        doc: &ExecutableDocument,
        op: &Positioned<async_graphql::parser::types::OperationDefinition>,
        variables: &Variables,
        default_page: u64,
        sizes: &IntrospectionSizes,
    ) -> Cost {
        let root = match op.node.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        let defaults = op
            .node
            .variable_definitions
            .iter()
            .filter_map(|d| {
                d.node
                    .default_value
                    .as_ref()
                    .map(|v| (d.node.name.node.as_str(), &v.node))
            })
            .collect();
        let mut walk = Walk {
            registry,
            sizes,
            fragments: &doc.fragments,
            variables,
            defaults,
            default_page,
            lists: Vec::new(),
        };
        let total = walk.set(&op.node.selection_set.node, root, 1, "", 0);
        Cost {
            total,
            lists: walk.lists,
        }
    }

    /// The request error of a query over `limit` (the configuration key `key`).
    pub fn error(&self, limit: u64, key: &str) -> ServerError {
        let mut lists: Vec<&ListCost> = self.lists.iter().collect();
        lists.sort_by_key(|l| std::cmp::Reverse(l.weight()));
        let suggestions: Vec<(&ListCost, u64)> = lists
            .iter()
            .filter(|l| l.pageable)
            .filter_map(|l| l.fitting_page(self.total, limit).map(|n| (*l, n)))
            .filter(|(l, n)| *n < l.page)
            .take(3)
            .collect();
        let mut message = format!(
            "Query is too complex: it costs {}, more than the limit of {} (`{key}`).",
            thousands(self.total),
            thousands(limit)
        );
        if let Some(top) = lists.first() {
            message.push_str(&format!(
                " The list that costs most is `{}`: {} items × {} each{}.",
                top.path,
                thousands(top.page),
                thousands(top.each),
                if top.times > 1 {
                    format!(", {} times", thousands(top.times))
                } else {
                    String::new()
                }
            ));
        }
        if suggestions.is_empty() {
            message.push_str(" Ask for fewer fields or split the query.");
        } else {
            let fits: Vec<String> = suggestions
                .iter()
                .map(|(l, n)| format!("`{}(first: {n})`", l.path))
                .collect();
            message.push_str(&format!(
                " It fits with {} (pages further on with `after`).",
                fits.join(" or ")
            ));
        }
        let mut e = ServerError::new(message, None);
        let ext = e.extensions.get_or_insert_with(Default::default);
        ext.set("cost", self.total);
        ext.set("limit", limit);
        if let Some(top) = lists.first() {
            ext.set("field", top.path.clone());
        }
        ext.set(
            "suggestions",
            Value::List(
                suggestions
                    .iter()
                    .map(|(l, n)| {
                        let mut m = async_graphql::indexmap::IndexMap::new();
                        m.insert(Name::new("field"), Value::from(l.path.clone()));
                        m.insert(Name::new("first"), Value::from(*n));
                        Value::Object(m)
                    })
                    .collect(),
            ),
        );
        with_code(e, QUERY_TOO_COMPLEX)
    }
}

/// `5101` as `5,101`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Walk<'_> {
    /// The cost of a selection set on the type named `ty` (unknown for introspection
    /// types), resolved `times` times, at `path`.
    fn set(
        &mut self,
        set: &SelectionSet,
        ty: Option<&str>,
        times: u64,
        path: &str,
        depth: usize,
    ) -> u64 {
        if depth > MAX_WALK_DEPTH {
            return 0;
        }
        let mut total: u64 = 0;
        for selection in &set.items {
            let cost = match &selection.node {
                Selection::Field(field) => self.field(&field.node, ty, times, path, depth),
                Selection::FragmentSpread(spread) => {
                    match self.fragments.get(&spread.node.fragment_name.node) {
                        Some(def) => {
                            let on = def.node.type_condition.node.on.node.as_str();
                            let set = &def.node.selection_set.node;
                            self.set(set, Some(on), times, path, depth + 1)
                        }
                        None => 0,
                    }
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(ty);
                    self.set(&inline.node.selection_set.node, on, times, path, depth + 1)
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    fn field(
        &mut self,
        field: &async_graphql::parser::types::Field,
        ty: Option<&str>,
        times: u64,
        path: &str,
        depth: usize,
    ) -> u64 {
        let key = field.response_key().node.as_str();
        let path = if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        };
        let meta = ty
            .and_then(|t| self.registry.concrete_type_by_name(t))
            .and_then(|t| t.field_by_name(field.name.node.as_str()));
        let child_ty = meta.map(|m| MetaTypeName::concrete_typename(&m.ty).to_owned());
        // An aggregate (a field taking `groupBy`) comes from one statement whatever its
        // number of groups, which hold no lists: it costs its selection once.
        let is_list =
            meta.is_some_and(|m| m.args.contains_key("first") && !m.args.contains_key("groupBy"));
        // Introspection lists count at the schema's own sizes.
        let introspection_list = ty.and_then(|t| self.sizes.of_field(t, field.name.node.as_str()));
        if let Some(size) = introspection_list {
            let at = self.lists.len();
            self.lists.push(ListCost {
                path: path.clone(),
                page: size,
                times,
                each: 0,
                pageable: false,
            });
            let each = self.set(
                &field.selection_set.node,
                child_ty.as_deref(),
                times.saturating_mul(size),
                &path,
                depth + 1,
            );
            self.lists[at].each = each;
            return size.saturating_mul(each).saturating_add(1);
        }
        if !is_list {
            let child = self.set(
                &field.selection_set.node,
                child_ty.as_deref(),
                times,
                &path,
                depth + 1,
            );
            return child.saturating_add(1);
        }
        let page = self
            .int_argument(field, "first")
            .or_else(|| self.int_argument(field, "last"))
            .unwrap_or(self.default_page);
        let at = self.lists.len();
        self.lists.push(ListCost {
            path: path.clone(),
            page,
            times,
            each: 0,
            pageable: true,
        });
        let each = self.set(
            &field.selection_set.node,
            child_ty.as_deref(),
            times.saturating_mul(page),
            &path,
            depth + 1,
        );
        self.lists[at].each = each;
        page.saturating_mul(each).saturating_add(1)
    }

    /// An integer argument as given, literally or through a variable (or its default);
    /// negative values count as 0.
    fn int_argument(&self, field: &async_graphql::parser::types::Field, name: &str) -> Option<u64> {
        let value = field.get_argument(name)?.node.clone();
        let value = value
            .into_const_with(|v| {
                self.variables
                    .get(&v)
                    .or_else(|| self.defaults.get(v.as_str()).copied())
                    .cloned()
                    .ok_or(())
            })
            .ok()?;
        let number = match value {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }?;
        Some(number.max(0) as u64)
    }
}

// ---- Order -----------------------------------------------------------------------------

/// The paths of a response's field errors, as strings (list indexes in decimal).
pub type ErrorPaths = std::collections::HashSet<Vec<String>>;

/// The paths of `errors`.
pub fn error_paths(errors: &[ServerError]) -> ErrorPaths {
    errors
        .iter()
        .map(|e| {
            e.path
                .iter()
                .map(|p| match p {
                    PathSegment::Index(i) => i.to_string(),
                    PathSegment::Field(f) => f.clone(),
                })
                .collect()
        })
        .collect()
}

/// Puts the keys of `value` (and of the objects under it) in the order of the selection
/// sets `sets` that selected them. A field that failed (its path is among `errors`) is
/// `null` in its place, as the specification wants of a nullable field in error
/// (async-graphql leaves it out). Keys no selection names (none today) keep their place
/// after the others.
pub fn order(
    value: &mut Value,
    sets: &[&SelectionSet],
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    path: &mut Vec<String>,
    errors: &ErrorPaths,
) {
    order_in(value, sets, fragments, path, errors, &mut None);
}

/// [`order`], with the response keys of `sets` collected once for every object they
/// select (the items of a list share them): `keys` is `None` until the first object.
/// The path is kept only when there are errors to look up, and an object already in order
/// is not rebuilt.
fn order_in<'d>(
    value: &mut Value,
    sets: &[&'d SelectionSet],
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    path: &mut Vec<String>,
    errors: &ErrorPaths,
    keys: &mut Option<Keys<'d>>,
) {
    let track = !errors.is_empty();
    match value {
        Value::List(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                if track {
                    path.push(i.to_string());
                }
                order_in(item, sets, fragments, path, errors, keys);
                if track {
                    path.pop();
                }
            }
        }
        Value::Object(map) => {
            let keys = keys.get_or_insert_with(|| {
                let mut keys = Keys::new();
                for set in sets {
                    collect(set, fragments, &mut keys, 0);
                }
                keys
            });
            if keys.is_empty() {
                return;
            }
            let in_order =
                map.len() == keys.len() && map.keys().zip(keys.keys()).all(|(a, b)| a == b);
            if !in_order {
                let mut old = std::mem::take(map);
                for key in keys.keys() {
                    match old.shift_remove(key) {
                        Some(v) => {
                            map.insert(key.clone(), v);
                        }
                        None if track && {
                            path.push(key.to_string());
                            let failed = errors.contains(path.as_slice());
                            path.pop();
                            failed
                        } =>
                        {
                            map.insert(key.clone(), Value::Null);
                        }
                        None => {}
                    }
                }
                map.extend(old);
            }
            for (key, subsets) in keys.iter() {
                if subsets.iter().all(|s| s.items.is_empty()) {
                    continue;
                }
                if let Some(v) = map.get_mut(key) {
                    if track {
                        path.push(key.to_string());
                    }
                    order_in(v, subsets, fragments, path, errors, &mut None);
                    if track {
                        path.pop();
                    }
                }
            }
        }
        _ => {}
    }
}

/// Response keys in order, each with the selection sets of the fields that share it.
type Keys<'d> = async_graphql::indexmap::IndexMap<Name, Vec<&'d SelectionSet>>;

/// The response keys of `set` in order (fragments expanded), each with the selection sets
/// of the fields that share it.
fn collect<'d>(
    set: &'d SelectionSet,
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    keys: &mut Keys<'d>,
    depth: usize,
) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                keys.entry(key)
                    .or_default()
                    .push(&field.node.selection_set.node);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(def) = fragments.get(&spread.node.fragment_name.node) {
                    collect(&def.node.selection_set.node, fragments, keys, depth + 1);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(&inline.node.selection_set.node, fragments, keys, depth + 1);
            }
        }
    }
}

/// Errors in document order: by their first location, then by path (list indexes as
/// numbers); errors without a location keep their order after the others.
fn order_errors(errors: &mut [ServerError]) {
    fn key(e: &ServerError) -> (bool, usize, usize, Vec<(usize, String)>) {
        let loc = e.locations.first();
        let path = e
            .path
            .iter()
            .map(|p| match p {
                PathSegment::Index(i) => (*i, String::new()),
                PathSegment::Field(f) => (0, f.clone()),
            })
            .collect();
        (
            loc.is_none(),
            loc.map_or(0, |l| l.line),
            loc.map_or(0, |l| l.column),
            path,
        )
    }
    errors.sort_by_cached_key(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &Value) -> Vec<String> {
        match v {
            Value::Object(m) => m.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn objects_follow_their_selection_with_fragments_and_aliases() {
        let doc = async_graphql::parser::parse_query(
            "{ b: firms { totalCount ...F } c: firm(id: 1) { name } a: clusters { slug } }
             fragment F on FirmConnection { nodes { name id } pageInfo { hasNextPage } }",
        )
        .unwrap();
        let op = selected_operation(&doc, None).unwrap();
        let mut value = Value::from_json(serde_json::json!({
            "a": {"slug": "x"},
            "b": {"pageInfo": {"hasNextPage": false}, "nodes": [{"id": 1, "name": "n"}, {"id": 2, "name": "m"}], "totalCount": 2}
        }))
        .unwrap();
        let failed: ErrorPaths = [vec!["c".to_owned()]].into_iter().collect();
        order(
            &mut value,
            &[&op.node.selection_set.node],
            &doc.fragments,
            &mut Vec::new(),
            &failed,
        );
        assert_eq!(keys(&value), ["b", "c", "a"]);
        let Value::Object(m) = &value else { panic!() };
        let b = &m[&Name::new("b")];
        assert_eq!(keys(b), ["totalCount", "nodes", "pageInfo"]);
        let Value::Object(bm) = b else { panic!() };
        let Value::List(nodes) = &bm[&Name::new("nodes")] else {
            panic!()
        };
        for n in nodes {
            assert_eq!(keys(n), ["name", "id"]);
        }
    }

    #[test]
    fn numbers_read_with_thousands() {
        assert_eq!(thousands(5), "5");
        assert_eq!(thousands(5101), "5,101");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn the_fitting_page_keeps_the_rest_of_the_query() {
        // firms(first: 100) { clusters { nodes { slug } } }: clusters at 25 × 2 each.
        let firms = ListCost {
            path: "firms".into(),
            page: 100,
            times: 1,
            each: 51,
            pageable: true,
        };
        let clusters = ListCost {
            path: "firms.clusters".into(),
            page: 25,
            times: 100,
            each: 2,
            pageable: true,
        };
        let total = 1 + 100 * 51;
        assert_eq!(firms.fitting_page(total, 5000), Some(98));
        assert_eq!(clusters.fitting_page(total, 5000), Some(24));
        assert_eq!(clusters.fitting_page(total, 100), None);
    }
}
