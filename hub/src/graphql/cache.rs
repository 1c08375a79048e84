//! Parsed and validated documents, kept by the SHA-256 of their text.
//!
//! Clients send the same few documents again and again (a dashboard's queries, a BI tool's
//! pages), so the endpoint parses a document once and keeps it, and remembers that it
//! passed validation (async-graphql's rules, the hub's bounds and its cost) for each
//! operation name. A request for a kept document skips the parse; when it has no
//! variables (whose values the checks read) it skips the checks too, and when it has
//! some, the checks that only read the document (see `http::answer`). The same cache is
//! where persisted queries will be looked up by hash.
//!
//! Bounded: documents over [`MAX_DOCUMENT_BYTES`] are not kept, and the cache is emptied
//! when it holds [`MAX_ENTRIES`] (a cheap reset, rare with real clients, which reuse a few
//! documents). A document's validation depends on the schema it ran against; each role has
//! its schemas (its limits), so validations are kept per role.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::ValidationResult;
use async_graphql::parser::types::ExecutableDocument;
use sha2::{Digest as _, Sha256};

use super::principal::Role;

/// The longest document kept, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;

/// The most documents kept.
pub const MAX_ENTRIES: usize = 1024;

/// A role and an operation name: what a validation is kept under.
type Operation = (Role, Option<String>);

/// The passes of one role's checks on one operation of a document.
#[derive(Debug, Default, Clone, Copy)]
struct Passed {
    /// The validation result of a pass without variables (a result measured with
    /// variables is not kept: the values may change it).
    without_variables: Option<ValidationResult>,
    /// Whether a request that gave a value for every variable of the document's one
    /// operation passed. async-graphql checks an argument that holds a variable only when
    /// the request gives that variable (it skips the whole argument otherwise, its
    /// literal parts too), so only such a pass shows that every argument is well formed
    /// whatever the values: what is left to check of another request is the values
    /// themselves (see `super::values`).
    every_variable: bool,
}

/// A kept document.
#[derive(Debug)]
pub struct Cached {
    /// The parsed document.
    pub doc: Arc<ExecutableDocument>,
    /// What the checks of each role and operation name found (each role has its own
    /// schema and limits).
    passed: Mutex<HashMap<Operation, Passed>>,
    /// The depth of its operations' selections (fragments spread), once a validation
    /// passed (0 until then): a validated document runs on the HTTP worker (see
    /// `http::run`).
    depth: AtomicUsize,
}

impl Cached {
    fn new(doc: ExecutableDocument) -> Self {
        Cached {
            doc: Arc::new(doc),
            passed: Mutex::new(HashMap::new()),
            depth: AtomicUsize::new(0),
        }
    }

    /// The depth a validation of this document measured, if one passed.
    pub fn depth(&self) -> Option<usize> {
        match self.depth.load(Ordering::Relaxed) {
            0 => None,
            d => Some(d),
        }
    }

    /// Records the depth a passed validation measured (the deepest of its operations).
    pub fn set_depth(&self, depth: usize) {
        self.depth.fetch_max(depth.max(1), Ordering::Relaxed);
    }

    /// The result of an earlier validation of this operation without variables.
    pub fn validated(&self, role: Role, operation: Option<&str>) -> Option<ValidationResult> {
        self.passes(role, operation)?.without_variables
    }

    /// Whether this operation passed every check of `role`'s schema before in a request
    /// that gave every variable of the document's one operation (see [`Passed`]).
    pub fn passed_with_every_variable(&self, role: Role, operation: Option<&str>) -> bool {
        self.passes(role, operation)
            .is_some_and(|p| p.every_variable)
    }

    fn passes(&self, role: Role, operation: Option<&str>) -> Option<Passed> {
        let map = self.passed.lock().ok()?;
        map.get(&(role, operation.map(str::to_owned))).copied()
    }

    /// Remembers that this operation passed every check of `role`'s schema: without
    /// variables, with its validation result; `every_variable` when the request gave
    /// every variable of the document's one operation. What was kept before stays.
    pub fn set_passed(
        &self,
        role: Role,
        operation: Option<&str>,
        without_variables: Option<ValidationResult>,
        every_variable: bool,
    ) {
        if let Ok(mut map) = self.passed.lock() {
            let kept = map.entry((role, operation.map(str::to_owned))).or_default();
            if without_variables.is_some() {
                kept.without_variables = without_variables;
            }
            kept.every_variable |= every_variable;
        }
    }
}

/// The documents of one endpoint.
#[derive(Debug, Default)]
pub struct DocumentCache {
    entries: Mutex<HashMap<[u8; 32], Arc<Cached>>>,
}

impl DocumentCache {
    /// The kept document of `query`, without parsing it when it is not kept.
    pub fn get(&self, query: &str) -> Option<Arc<Cached>> {
        if query.len() > MAX_DOCUMENT_BYTES {
            return None;
        }
        let key: [u8; 32] = Sha256::digest(query.as_bytes()).into();
        let found = self.entries.lock().ok()?.get(&key).cloned()?;
        crate::metrics::graphql_document(true);
        Some(found)
    }

    /// The document of `query`, parsed by `parse` unless it is kept already. A document
    /// that does not parse is never kept.
    pub fn get_or_parse<E>(
        &self,
        query: &str,
        parse: impl FnOnce(&str) -> Result<ExecutableDocument, E>,
    ) -> Result<Arc<Cached>, E> {
        let keep = query.len() <= MAX_DOCUMENT_BYTES;
        let key: [u8; 32] = Sha256::digest(query.as_bytes()).into();
        if keep && let Some(found) = self.entries.lock().ok().and_then(|m| m.get(&key).cloned()) {
            crate::metrics::graphql_document(true);
            return Ok(found);
        }
        crate::metrics::graphql_document(false);
        let cached = Arc::new(Cached::new(parse(query)?));
        if keep && let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, cached.clone());
        }
        Ok(cached)
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no document is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<ExecutableDocument, String> {
        async_graphql::parser::parse_query(q).map_err(|e| e.to_string())
    }

    #[test]
    fn documents_are_parsed_once_and_bounded() {
        let cache = DocumentCache::default();
        let a = cache
            .get_or_parse("{ clusters { totalCount } }", parse)
            .unwrap();
        let mut parses = 0;
        let b = cache
            .get_or_parse("{ clusters { totalCount } }", |q| {
                parses += 1;
                parse(q)
            })
            .unwrap();
        assert_eq!(parses, 0, "the second request is not parsed");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(Arc::ptr_eq(
            &a,
            &cache.get("{ clusters { totalCount } }").unwrap()
        ));
        assert!(cache.get("{ clusters { slug } }").is_none(), "not parsed");
        // The depth is unknown until a validation records it; the deepest operation counts.
        assert_eq!(a.depth(), None);
        a.set_depth(3);
        a.set_depth(2);
        assert_eq!(b.depth(), Some(3));
        assert!(cache.get_or_parse("{ clusters {", parse).is_err());
        assert_eq!(cache.len(), 1, "a document that does not parse is not kept");
        let big = format!("{{ {} }}", "__typename ".repeat(MAX_DOCUMENT_BYTES / 10));
        cache.get_or_parse(&big, parse).unwrap();
        assert_eq!(cache.len(), 1, "a large document is not kept");
        for i in 0..MAX_ENTRIES {
            cache
                .get_or_parse(&format!("{{ a{i}: __typename }}"), parse)
                .unwrap();
        }
        assert!(cache.len() <= MAX_ENTRIES);
        // Validation results are kept per operation name.
        let result = ValidationResult {
            cache_control: Default::default(),
            complexity: 3,
            depth: 2,
        };
        a.set_passed(Role::Public, Some("Vars"), None, false);
        assert!(!a.passed_with_every_variable(Role::Public, Some("Vars")));
        a.set_passed(Role::Public, Some("Vars"), None, true);
        a.set_passed(Role::Public, Some("Vars"), None, false);
        assert!(
            a.passed_with_every_variable(Role::Public, Some("Vars")),
            "a pass with every variable stays"
        );
        assert!(
            a.validated(Role::Public, Some("Vars")).is_none(),
            "a result measured with variables is not kept"
        );
        a.set_passed(Role::Public, None, Some(result), false);
        a.set_passed(Role::Public, None, None, true);
        assert_eq!(
            a.validated(Role::Public, None).map(|r| r.complexity),
            Some(3),
            "a pass with variables keeps the result of one without"
        );
        assert!(a.validated(Role::Public, Some("Other")).is_none());
        assert!(!a.passed_with_every_variable(Role::Public, Some("Other")));
        assert!(
            a.validated(Role::Admin, None).is_none()
                && !a.passed_with_every_variable(Role::Admin, Some("Vars")),
            "each role its own"
        );
    }
}
