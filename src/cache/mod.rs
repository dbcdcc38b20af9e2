//! The response cache: answers to read-only GraphQL requests, keyed by what
//! decides them (normalised document, operation name, variables, the
//! reader's audience) and stamped with the catalogue generation they
//! were computed in, which every write bumps so that every replica stops
//! serving older answers (the writer before it answers, the others as soon
//! as Redis's invalidation reaches them). The generation and the answer are read
//! together: at most one round trip per cached answer (none while Redis
//! tracks the generation for us).
//!
//! Answers and the generation live in the shared store of answers
//! (`shared_state`: Redis when `CATALOGUE_REDIS_URL` is set, in process
//! otherwise). A failing store is a cache miss, never an error: the database
//! answers. A write whose generation bump the store missed is remembered and
//! the bump retried until it is made; until then this replica serves no
//! cached answer.

mod key;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

pub use key::{cache_key, normalise};

use crate::background::BackgroundTasks;
use crate::shared_state::{GenerationSource, Guarded, REST, SharedState, StoreKind};

/// The response cache as the HTTP layer uses it: failures logged once per
/// episode and reported by readiness, never passed on.
#[derive(Clone)]
pub struct ResponseCache {
    answers: Arc<Guarded>,
    ttl: Duration,
    /// Nonzero while a bump the store missed is still to be made: the
    /// number of the latest miss.
    bump_pending: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    /// One retry of a missed bump at a time.
    bumping: Arc<tokio::sync::Mutex<()>>,
    /// Whether a task is retrying the missed bump.
    retrying: Arc<AtomicBool>,
    /// Where the retries run.
    tasks: BackgroundTasks,
}

/// What the cache holds for a request.
pub enum Lookup {
    /// The answer, computed in the current generation.
    Hit(Bytes),
    /// None yet: compute it, and keep it stamped with `generation`.
    Miss { generation: u64 },
}

impl ResponseCache {
    /// Answers kept in `shared`'s store of answers for `ttl`; missed bumps
    /// retried among `tasks`.
    pub fn new(shared: &SharedState, ttl: Duration, tasks: &BackgroundTasks) -> Self {
        Self {
            answers: Arc::clone(shared.answers()),
            ttl,
            bump_pending: Arc::default(),
            misses: Arc::default(),
            bumping: Arc::default(),
            retrying: Arc::default(),
            tasks: tasks.clone(),
        }
    }

    pub fn kind(&self) -> StoreKind {
        self.answers.store().kind()
    }

    pub fn generation_source(&self) -> GenerationSource {
        self.answers.store().generation_source()
    }

    /// The current generation, or `None` when the store cannot say.
    pub async fn generation(&self) -> Option<u64> {
        if self.answers.resting() || !self.make_pending_bump().await {
            return None;
        }
        let result = self.answers.store().generation().await;
        self.answers.outcome(result)
    }

    /// Makes the bump the store missed, if any; false while it is still to be made.
    async fn make_pending_bump(&self) -> bool {
        let missed = self.bump_pending.load(Ordering::Acquire);
        if missed == 0 {
            return true;
        }
        let Ok(_one_bump) = self.bumping.try_lock() else {
            return false;
        };
        let result = self.answers.store().bump_generation().await;
        if self.answers.outcome(result).is_some() {
            // A miss since this bump started may be of a write it came before.
            let _ =
                self.bump_pending
                    .compare_exchange(missed, 0, Ordering::AcqRel, Ordering::Acquire);
        }
        self.bump_pending.load(Ordering::Acquire) == 0
    }

    /// Marks every cached answer out of date (after a write); when the store
    /// misses it, the bump is retried until it is made, and until then this
    /// replica serves no cached answer.
    pub async fn bump_generation(&self) {
        let missed = self.bump_pending.load(Ordering::Acquire);
        let result = self.answers.store().bump_generation().await;
        if self.answers.outcome(result).is_some() {
            // Made after the writes whose bumps were missed: it covers them.
            if missed != 0 {
                let _ = self.bump_pending.compare_exchange(
                    missed,
                    0,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
        } else {
            self.remember_missed_bump();
        }
    }

    /// Remembers a missed bump and has a task retry it (one task at a
    /// time) every [`REST`] until it is made: other replicas learn of the
    /// write as soon as the store answers again, whether this one serves
    /// requests or not.
    fn remember_missed_bump(&self) {
        let miss = self.misses.fetch_add(1, Ordering::AcqRel) + 1;
        self.bump_pending.store(miss, Ordering::Release);
        if self.retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::time::sleep(REST).await;
                if cache.make_pending_bump().await {
                    cache.retrying.store(false, Ordering::Release);
                    // A miss that came meanwhile saw this task running: it is still ours.
                    if cache.bump_pending.load(Ordering::Acquire) == 0
                        || cache.retrying.swap(true, Ordering::AcqRel)
                    {
                        break;
                    }
                }
            }
        });
    }

    /// The answer kept under `key` in the current generation, or the
    /// generation to keep a new one in; `None` when the store cannot say.
    pub async fn answer(&self, key: &str) -> Option<Lookup> {
        if self.answers.resting() || !self.make_pending_bump().await {
            return None;
        }
        let result = self.answers.store().answer(&format!("answer:{key}")).await;
        let (generation, answer) = self.answers.outcome(result)?;
        Some(match answer {
            Some(answer) => Lookup::Hit(answer),
            None => Lookup::Miss { generation },
        })
    }

    /// Keeps `answer` under `key`, computed in `generation`.
    pub async fn put(&self, key: &str, generation: u64, answer: &[u8]) {
        let result = self
            .answers
            .store()
            .put_answer(&format!("answer:{key}"), generation, answer, self.ttl)
            .await;
        self.answers.outcome(result);
    }
}
