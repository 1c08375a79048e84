//! The loader's batches, run by the task of the request that asked for them.
//!
//! async-graphql's `DataLoader` hands each batch (wait for the window, then run the level's
//! one statement) to a spawner. Spawned as a task of its own, a batch with no window could
//! start on another thread of a multi-threaded runtime (where a document seen for the first
//! time executes, see `http::Endpoint::runtime`) while the request is still resolving the
//! siblings that belong to it, and split the level into several statements; so a timer
//! window had to wait for them, 1-2 ms per level on every request.
//!
//! Here the spawner only queues the batch, and [`Batches::run`] polls the request and
//! runs its queued batches in the request's own task, in waves:
//! - A wave starts when the request can go no further without its batches (its poll
//!   returned without the request having woken itself) and the last wave is over. The
//!   first condition matters: async-graphql resolves a list of more than 30 items through
//!   `FuturesUnordered`, which stops a pass after two items that woke themselves (each
//!   item's own fields, also a `FuturesUnordered`, wake their item whenever they polled
//!   every field), so a list of 60 items is polled two items at a time; batches run
//!   between two such passes took two parents each (measured: 121 statements for 60
//!   organisations, 5 for one).
//! - The second makes the count of statements below a loaded level a property of the
//!   query, not of timing: the keys of a wave are those the rows of the wave before asked
//!   for, whichever of its statements finished first. Without it, firms reached through
//!   two paths of one level (`observations { nodes { firm } }` and `firmNetworks { nodes {
//!   lead } }`) were one statement or two depending on which path's rows came back first.
//!   A fast path waits for the slow one of its level: the latency of the slowest path,
//!   not their sum.
//!
//! So a level is one statement, started without a timer, on any runtime and however slow
//! the build. What this does not order: rows read outside the loader (two root lists,
//! each its own statement, whose children meet in one level) arrive when their own
//! statements end, and each starts a wave when it does, so such children are one
//! statement or two depending on timing, as they were with a timer window; the tests that
//! count statements ask through one root field. A window above 0
//! (`graphql.batch_window_ms`) still waits, on async-io's timer thread, and lets a wave
//! take keys asked for meanwhile. A batch never waits for another batch (the hub's
//! `ChildLoader` has no way to the request's `DataLoader`): one that did would wait
//! forever for the next wave.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use futures_util::task::AtomicWaker;

/// The most rounds (the request polled, then its batches) of one poll of [`Batches::run`]
/// before it lets the runtime run other tasks, waking itself to go on. Stopping never
/// splits a level: a wave starts only after a round in which the request went no
/// further. async-graphql alone yields every two items of a long list.
const MAX_ROUNDS: usize = 32;

/// The batches one request's loader started, waiting for [`Batches::run`] to run them.
#[derive(Clone, Default)]
pub struct Batches(Arc<Queue>);

#[derive(Default)]
struct Queue {
    started: Mutex<Vec<BoxFuture<'static, ()>>>,
    task: Task,
}

impl Queue {
    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.started.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn is_empty(&self) -> bool {
        self.started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }
}

/// The request's task as [`Batches::run`] sees it: whether `run` is polling, and the task's
/// waker for wake-ups that come while it is not.
#[derive(Default)]
struct Task {
    polling: AtomicBool,
    waker: AtomicWaker,
}

impl Task {
    /// Wakes the task unless `run` is polling, which looks at what woke before it waits.
    fn wake(&self) {
        if !self.polling.load(SeqCst) {
            self.waker.wake();
        }
    }
}

/// The waker of the request, or of its batches: it records that they asked to be polled
/// again (`run` polls the request again only then) and wakes the task.
struct Flag {
    woken: AtomicBool,
    queue: Arc<Queue>,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        self.queue.task.wake();
    }
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches").finish_non_exhaustive()
    }
}

impl Batches {
    /// The spawner for the request's `DataLoader`: it queues the batch for [`Batches::run`].
    pub fn spawner(&self) -> impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static {
        let queue = self.0.clone();
        move |batch| {
            queue
                .started
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(batch);
            // Only a batch queued from another task wakes the request's: `run` looks at
            // the queue before it waits.
            queue.task.wake();
        }
    }

    /// Runs `request` (the request's execution) with the batches its loader starts. The
    /// request is polled when it was woken, again for as long as it wakes itself; then its
    /// queued batches run, a wave at a time (see the module's doc), each finished batch
    /// letting the request go on. Batches still running when the request is done (an error
    /// ended the list that asked, or the request timed out) are dropped mid-statement.
    pub async fn run<F: Future>(self, request: F) -> F::Output {
        let mut request = std::pin::pin!(request);
        let mut running = FuturesUnordered::new();
        let task = &self.0.task;
        let flag = || {
            Arc::new(Flag {
                woken: AtomicBool::new(false),
                queue: self.0.clone(),
            })
        };
        let (main, batches) = (flag(), flag());
        let (main_waker, batches_waker) = (Waker::from(main.clone()), Waker::from(batches.clone()));
        // The first poll polls the request; later ones only when it was woken.
        main.woken.store(true, SeqCst);
        std::future::poll_fn(|cx| {
            task.waker.register(cx.waker());
            for _ in 0..MAX_ROUNDS {
                if !tokio::task::coop::has_budget_remaining() {
                    break;
                }
                task.polling.store(true, SeqCst);
                if main.woken.swap(false, SeqCst) {
                    if let Poll::Ready(out) =
                        request.as_mut().poll(&mut Context::from_waker(&main_waker))
                    {
                        task.polling.store(false, SeqCst);
                        return Poll::Ready(out);
                    }
                    if main.woken.load(SeqCst) {
                        // A pass cut short: more siblings may ask before the batches run.
                        continue;
                    }
                }
                // A new wave only once the last one is over (see the module's doc).
                if running.is_empty() {
                    running.extend(self.0.take());
                }
                let mut finished = false;
                // `FuturesUnordered` wakes itself after polling every future: once more.
                for _ in 0..2 {
                    batches.woken.store(false, SeqCst);
                    let mut batches_cx = Context::from_waker(&batches_waker);
                    while let Poll::Ready(Some(())) = running.poll_next_unpin(&mut batches_cx) {
                        finished = true;
                    }
                    if !batches.woken.load(SeqCst) {
                        break;
                    }
                }
                let next_wave = || running.is_empty() && !self.0.is_empty();
                if finished || main.woken.load(SeqCst) || next_wave() {
                    continue;
                }
                task.polling.store(false, SeqCst);
                // A wake-up that came while polling was not passed on: go on instead.
                if !main.woken.load(SeqCst) && !batches.woken.load(SeqCst) && !next_wave() {
                    return Poll::Pending;
                }
            }
            // Out of rounds or of the runtime's budget: let other tasks run, then go on.
            task.polling.store(false, SeqCst);
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Siblings share one batch, with no window, on a multi-threaded runtime, when the
    /// request polls them the way async-graphql does: a list of more than 30 items through
    /// `FuturesUnordered`, each item's fields through another, which wakes its item after
    /// polling every field, so that the list is polled two items at a time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn siblings_share_one_batch_however_the_list_is_polled() {
        use async_graphql::dataloader::{DataLoader, Loader};
        use std::collections::HashMap;

        struct Counting(Arc<AtomicUsize>);
        impl Loader<u32> for Counting {
            type Value = u32;
            type Error = std::convert::Infallible;
            async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
                self.0.fetch_add(1, Ordering::SeqCst);
                // A statement that takes a while.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                Ok(keys.iter().map(|k| (*k, k * 2)).collect())
            }
        }
        let loads = Arc::new(AtomicUsize::new(0));
        let batches = Batches::default();
        let loader = DataLoader::new(Counting(loads.clone()), batches.spawner())
            .delay(std::time::Duration::ZERO);
        let got = batches
            .run(async {
                let level = (0..300u32).map(|k| {
                    let loader = &loader;
                    async move {
                        // Two fields; the second level asks once the first one's rows came.
                        let fields = FuturesUnordered::new();
                        fields.push(Box::pin(async move {
                            let first = loader.load_one(k).await.unwrap().unwrap();
                            first + loader.load_one(k + 1_000).await.unwrap().unwrap()
                        }) as BoxFuture<'_, u32>);
                        fields.push(Box::pin(async move {
                            loader.load_one(k + 2_000).await.unwrap().unwrap()
                        }));
                        fields.collect::<Vec<u32>>().await.into_iter().sum::<u32>()
                    }
                });
                futures_util::future::join_all(level).await
            })
            .await;
        assert_eq!(got.len(), 300);
        assert_eq!(got[7], 14 + 2_014 + 4_014);
        assert_eq!(loads.load(Ordering::SeqCst), 2, "one batch per level");
    }

    /// Two paths of one level reach the same key type at different times: one batch for
    /// both, whichever path is faster, since a wave starts when the last one is over.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_level_reached_by_two_paths_is_one_batch() {
        use async_graphql::dataloader::{DataLoader, Loader};
        use std::collections::HashMap;

        struct Counting(Arc<Mutex<Vec<Vec<u64>>>>);
        impl Loader<u32> for Counting {
            type Value = u32;
            type Error = std::convert::Infallible;
            async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
                // The fast path's first level.
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                Ok(keys.iter().map(|k| (*k, *k)).collect())
            }
        }
        impl Loader<u64> for Counting {
            type Value = u64;
            type Error = std::convert::Infallible;
            async fn load(&self, keys: &[u64]) -> Result<HashMap<u64, u64>, Self::Error> {
                let mut sorted = keys.to_vec();
                sorted.sort_unstable();
                self.0.lock().unwrap().push(sorted);
                // The slow path's first level, and the second level of both.
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                Ok(keys.iter().map(|k| (*k, *k)).collect())
            }
        }
        let loads = Arc::new(Mutex::new(Vec::new()));
        let batches = Batches::default();
        let loader = DataLoader::new(Counting(loads.clone()), batches.spawner())
            .delay(std::time::Duration::ZERO);
        let loader = &loader;
        let fast = async {
            let first = loader.load_one(1u32).await.unwrap().unwrap();
            loader
                .load_one(u64::from(first) + 10)
                .await
                .unwrap()
                .unwrap()
        };
        let slow = async {
            let first = loader.load_one(2u64).await.unwrap().unwrap();
            loader.load_one(first + 20).await.unwrap().unwrap()
        };
        let got = batches.run(futures_util::future::join(fast, slow)).await;
        assert_eq!(got, (11, 22));
        assert_eq!(*loads.lock().unwrap(), vec![vec![2], vec![11, 22]]);
    }

    /// A batch queued from another task wakes the request, which runs it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_queued_from_elsewhere_runs() {
        let batches = Batches::default();
        let spawn = batches.spawner();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let queued = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            spawn(Box::pin(async move {
                let _ = sender.send(42);
            }));
        });
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            batches.run(async { receiver.await.unwrap() }),
        )
        .await
        .expect("the queued batch ran");
        assert_eq!(got, 42);
        queued.await.unwrap();
    }
}
