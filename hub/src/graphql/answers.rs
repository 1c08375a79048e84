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
//! One computation per question at a time ([`Answers::lookup`]): requests asking a question
//! that another request is computing wait for it and take its answer, instead of all
//! running the same statements at once. A dashboard opened by many after an import, or a
//! burst of 16 identical requests on a fresh server, computes once per hub instance:
//! measured with the surgical cluster's trade by year and partner on the benchmark's SQLite
//! data set, 16 connections at once on a fresh server raised the hub's peak resident set
//! from 35 to 87 MiB when each computed its own answer (see ARCHITECTURE.md, "One
//! computation per question at a time").
//!
//! Each hub instance keeps its own, one store per answer type for each role, shared by
//! the role's schemas (the schema data; see `graphql::RoleShared`), so instances on one
//! PostgreSQL never serve an answer older than the number they read. A question is the answer's arguments in full and the caller's cluster scope.
//! Bounded: the kept answers are emptied when they reach [`Answers::MAX`] questions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as TurnLock, OwnedMutexGuard};

/// The lock of one question's turns at one change number.
type Turns = Arc<TurnLock<()>>;

/// The kept answers of one type, by question.
#[derive(Debug)]
pub struct Answers<T> {
    kept: Mutex<HashMap<String, (i64, T)>>,
    /// The questions being computed, by question and change number, one lock each: held
    /// by the request computing it, awaited by the others. An entry leaves when the last
    /// request holding its turn lets go; one whose waiters were all cancelled stays until
    /// the map reaches [`Answers::MAX`] entries.
    turns: Mutex<HashMap<(String, i64), Turns>>,
}

impl<T> Default for Answers<T> {
    fn default() -> Self {
        Answers {
            kept: Mutex::new(HashMap::new()),
            turns: Mutex::new(HashMap::new()),
        }
    }
}

/// The database's change number as a request read it, and whether what the answer reads
/// besides the raw rows (rollups) reflects it: only then is an answer kept or used.
pub type State = (i64, bool);

/// What [`Answers::lookup`] found.
pub enum Lookup<'a, T> {
    /// The answer, kept at this change number (perhaps just now, by the request waited for).
    Kept(T),
    /// No answer: the caller computes it, then hands it to [`Turn::keep`].
    Compute(Turn<'a, T>),
}

/// A request's turn to compute the answer to its question: the others asking it wait until
/// the turn is dropped, kept or not (an error, or a request cancelled by its timeout, lets
/// the next one compute).
pub struct Turn<'a, T> {
    answers: Option<&'a Answers<T>>,
    question: String,
    state: State,
    held: Option<OwnedMutexGuard<()>>,
}

impl<T: Clone> Turn<'_, T> {
    /// Keeps `answer` for the question and change number the turn was taken at.
    pub fn keep(self, answer: &T) {
        if let Some(answers) = self.answers {
            answers.keep(self.question.clone(), self.state, answer);
        }
    }
}

impl<T> Drop for Turn<'_, T> {
    fn drop(&mut self) {
        let (Some(answers), Some(guard)) = (self.answers, self.held.take()) else {
            return;
        };
        let lock = Arc::clone(OwnedMutexGuard::mutex(&guard));
        drop(guard);
        // This turn's share of the lock goes under the map's lock, where waiters take
        // theirs: the entry goes when the map's share is the only one left.
        let Ok(mut turns) = answers.turns.lock() else {
            return;
        };
        drop(lock);
        let key = (std::mem::take(&mut self.question), self.state.0);
        if turns.get(&key).is_some_and(|l| Arc::strong_count(l) == 1) {
            turns.remove(&key);
        }
    }
}

impl<T: Clone> Answers<T> {
    /// The most questions kept.
    pub const MAX: usize = 256;

    /// The answer to `question` at this change number, kept or computed by a request that
    /// was computing it when this one asked; else this request's turn to compute it. Without
    /// a store (`answers` is `None`), or with rollups left behind (nothing is kept then),
    /// every request computes its own.
    pub async fn lookup<'a>(
        answers: Option<&'a Self>,
        question: String,
        state: State,
    ) -> Lookup<'a, T> {
        let mut turn = Turn {
            answers,
            question,
            state,
            held: None,
        };
        let Some(store) = answers.filter(|_| state.1) else {
            return Lookup::Compute(turn);
        };
        if let Some(answer) = store.get(&turn.question, state) {
            return Lookup::Kept(answer);
        }
        let lock = match store.turns.lock() {
            Ok(mut turns) => {
                // Entries nobody holds (their waiters were cancelled) go once there are many.
                if turns.len() >= Self::MAX {
                    turns.retain(|_, l| Arc::strong_count(l) > 1);
                }
                turns
                    .entry((turn.question.clone(), state.0))
                    .or_default()
                    .clone()
            }
            Err(_) => return Lookup::Compute(turn),
        };
        turn.held = Some(lock.lock_owned().await);
        // The request waited for may have kept the answer meanwhile.
        match store.get(&turn.question, state) {
            Some(answer) => Lookup::Kept(answer),
            None => Lookup::Compute(turn),
        }
    }

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

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// What [`ask_at_once`] saw.
    struct Asked {
        /// How many requests computed.
        computed: usize,
        /// The most computing at the same time.
        at_once: usize,
        /// The answers the requests got (none from one that failed).
        answers: Vec<String>,
    }

    /// Runs `askers` requests for question "q" at `state` at once; each that computes counts
    /// itself, takes 30 ms, and keeps its answer unless `fail_first` and it computed first.
    async fn ask_at_once(askers: usize, state: State, fail_first: bool) -> Asked {
        let answers = Arc::new(Answers::<String>::default());
        let (computed, running, at_once) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let tasks: Vec<_> = (0..askers)
            .map(|_| {
                let answers = answers.clone();
                let (computed, running, at_once) =
                    (computed.clone(), running.clone(), at_once.clone());
                tokio::spawn(async move {
                    match Answers::lookup(Some(&answers), "q".to_owned(), state).await {
                        Lookup::Kept(answer) => Some(answer),
                        Lookup::Compute(turn) => {
                            let nth = computed.fetch_add(1, Ordering::SeqCst);
                            at_once.fetch_max(
                                running.fetch_add(1, Ordering::SeqCst) + 1,
                                Ordering::SeqCst,
                            );
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            running.fetch_sub(1, Ordering::SeqCst);
                            if fail_first && nth == 0 {
                                return None;
                            }
                            let answer = format!("answer {nth}");
                            turn.keep(&answer);
                            Some(answer)
                        }
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        for task in tasks {
            got.extend(task.await.unwrap());
        }
        assert!(
            answers.turns.lock().unwrap().is_empty(),
            "no turn is left behind"
        );
        Asked {
            computed: computed.load(Ordering::SeqCst),
            at_once: at_once.load(Ordering::SeqCst),
            answers: got,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_asking_at_once_compute_once_and_share_the_answer() {
        let asked = ask_at_once(8, (7, true), false).await;
        assert_eq!(asked.computed, 1);
        assert_eq!(asked.answers, vec!["answer 0".to_owned(); 8]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_computation_lets_the_next_request_compute() {
        let asked = ask_at_once(4, (7, true), true).await;
        assert_eq!(
            asked.computed, 2,
            "the first failed, the second kept its answer"
        );
        assert_eq!(asked.at_once, 1);
        assert_eq!(asked.answers, vec!["answer 1".to_owned(); 3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_of_stale_rollups_are_neither_kept_nor_awaited() {
        let asked = ask_at_once(4, (7, false), false).await;
        assert_eq!(asked.computed, 4);
        assert_eq!(asked.answers.len(), 4);
        assert!(asked.at_once > 1, "nobody waited for a turn");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_computation_hands_the_turn_on_and_numbers_do_not_wait_for_each_other() {
        let answers = Arc::new(Answers::<String>::default());
        let computing_at_7 = Arc::new(AtomicUsize::new(0));
        let ask = |state: State| {
            let (answers, computing_at_7) = (answers.clone(), computing_at_7.clone());
            tokio::spawn(async move {
                match Answers::lookup(Some(&answers), "q".to_owned(), state).await {
                    Lookup::Kept(answer) => answer,
                    Lookup::Compute(turn) => {
                        // The first to compute at number 7 never finishes; it is cancelled.
                        if state.0 == 7 && computing_at_7.fetch_add(1, Ordering::SeqCst) == 0 {
                            std::future::pending::<()>().await;
                        }
                        let answer = format!("computed at {}", state.0);
                        turn.keep(&answer);
                        answer
                    }
                }
            })
        };
        let first = ask((7, true));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let waiting = ask((7, true));
        // A request that read another change number computes at once.
        let other = tokio::time::timeout(Duration::from_secs(5), ask((8, true)))
            .await
            .expect("not held up by the question at number 7")
            .unwrap();
        assert_eq!(other, "computed at 8");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "waits for the turn at number 7");
        first.abort();
        let got = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the cancelled turn was handed on")
            .unwrap();
        assert_eq!(got, "computed at 7");
        assert!(answers.turns.lock().unwrap().is_empty());
    }

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
