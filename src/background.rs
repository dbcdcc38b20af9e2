//! The gateway's background tasks (the harvest schedule, the search index
//! following the journal of changes, the Redis generation watch, the key
//! refreshes, retries of a missed generation bump): owned by the app, and
//! stopped once its server has let in-flight requests finish.
//!
//! A task is stopped at its next `.await`; what must run to its end (giving
//! back the harvest lease of a run cut short) is spawned with
//! [`BackgroundTasks::spawn_to_end`], and stopping waits for it, within a bound.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

/// The tasks of one app; clones share them.
#[derive(Clone, Default)]
pub struct BackgroundTasks {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl BackgroundTasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `task` until it ends or the tasks are stopped; to be called
    /// within a Tokio runtime.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        let stop = self.stop.clone();
        self.tracker.spawn(async move {
            stop.run_until_cancelled_owned(task).await;
        })
    }

    /// Runs `task` to its end, even once the tasks are stopped: stopping
    /// waits for it. For short work that must not be cut (a cleanup).
    pub fn spawn_to_end<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> JoinHandle<T> {
        self.tracker.spawn(task)
    }

    /// How many tasks are still running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }

    /// Stops every task when the guard is dropped: an app dropped without
    /// being served leaves nothing running.
    pub fn stop_on_drop(&self) -> DropGuard {
        self.stop.clone().drop_guard()
    }

    /// Stops every task and waits for them to end, at most `within`; tasks
    /// spawned afterwards are stopped at once.
    pub async fn stop(&self, within: Duration) {
        self.stop.cancel();
        self.tracker.close();
        if tokio::time::timeout(within, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                tasks = self.tracker.len(),
                "background tasks still running after {within:?}; leaving them"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_ends_the_tasks_and_waits_for_those_run_to_their_end() {
        let tasks = BackgroundTasks::new();
        tasks.spawn(std::future::pending());
        let (finished, mut done) = tokio::sync::oneshot::channel();
        tasks.spawn_to_end(async move {
            tokio::task::yield_now().await;
            let _ = finished.send(());
        });
        assert_eq!(tasks.running(), 2);
        tasks.stop(Duration::from_secs(60)).await;
        assert_eq!(tasks.running(), 0);
        assert!(done.try_recv().is_ok(), "the cleanup ran to its end");
        // Spawned after the stop: stopped at once.
        tasks.spawn(std::future::pending());
        tasks.stop(Duration::from_secs(60)).await;
        assert_eq!(tasks.running(), 0);
    }

    #[tokio::test]
    async fn dropping_the_guard_stops_the_tasks() {
        let tasks = BackgroundTasks::new();
        let guard = tasks.stop_on_drop();
        let task = tasks.spawn(std::future::pending());
        drop(guard);
        task.await.unwrap();
        assert_eq!(tasks.running(), 0);
    }
}
