//! Answers kept per change number: what spares a repeated aggregate its statements.
//!
//! An aggregate's answer depends only on its question and on the data, and the data changes
//! only with the change number: every write takes one, in the transaction that writes
//! (imports, curation, erasure; see `crate::changes`). So an answer given at change number
//! `n` is the answer for as long as the database's number is `n`, and a request that finds
//! one for the number it has just read returns it instead of computing it again. The number
//! is read before the answer's statements: a write committed in between can only make the
//! kept answer newer than its number, never older.
//!
//! Each hub instance keeps its own, one store per answer type in each role's schema (the
//! schema data), so instances on one PostgreSQL never serve an answer older than the number
//! they read. A question is the answer's arguments in full and the caller's cluster scope.
//! Bounded: emptied when it holds [`Answers::MAX`] questions.

use std::collections::HashMap;
use std::sync::Mutex;

/// The kept answers of one type, by question.
#[derive(Debug)]
pub struct Answers<T> {
    kept: Mutex<HashMap<String, (i64, T)>>,
}

impl<T> Default for Answers<T> {
    fn default() -> Self {
        Answers {
            kept: Mutex::new(HashMap::new()),
        }
    }
}

/// The database's change number as a request read it, and whether what the answer reads
/// besides the raw rows (rollups) reflects it: only then is an answer kept or used.
pub type State = (i64, bool);

impl<T: Clone> Answers<T> {
    /// The most questions kept.
    pub const MAX: usize = 256;

    /// The answer to `question` given at this change number, if kept.
    pub fn get(&self, question: &str, (change, fresh): State) -> Option<T> {
        if !fresh {
            return None;
        }
        let kept = self.kept.lock().ok()?;
        kept.get(question)
            .filter(|(at, _)| *at == change)
            .map(|(_, answer)| answer.clone())
    }

    /// Keeps `answer` to `question`, given at this change number.
    pub fn keep(&self, question: String, (change, fresh): State, answer: &T) {
        if !fresh {
            return;
        }
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() >= Self::MAX {
                kept.clear();
            }
            kept.insert(question, (change, answer.clone()));
        }
    }

    /// How many questions are kept.
    pub fn len(&self) -> usize {
        self.kept.lock().map(|k| k.len()).unwrap_or(0)
    }

    /// Whether no question is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The caller's cluster scope, as part of a question.
pub fn scope_of(ctx: &async_graphql::Context<'_>) -> Option<Vec<i64>> {
    ctx.data_opt::<super::principal::Principal>()
        .and_then(|p| p.clusters.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_for_its_change_number_only() {
        let answers = Answers::<String>::default();
        answers.keep("q".to_owned(), (7, true), &"PAK".to_owned());
        assert_eq!(answers.get("q", (7, true)).as_deref(), Some("PAK"));
        assert!(
            answers.get("q", (8, true)).is_none(),
            "a later change number"
        );
        assert!(
            answers.get("q", (7, false)).is_none(),
            "rollups left behind"
        );
        assert!(answers.get("other", (7, true)).is_none());
        answers.keep("r".to_owned(), (9, false), &"IND".to_owned());
        assert!(
            answers.get("r", (9, true)).is_none(),
            "an answer of stale rollups is not kept"
        );
        for i in 0..Answers::<String>::MAX {
            answers.keep(format!("q{i}"), (7, true), &"PAK".to_owned());
        }
        assert!(answers.len() <= Answers::<String>::MAX);
        assert!(!answers.is_empty());
    }
}
