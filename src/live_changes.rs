//! The journal followed live, for subscribers: each replica reads the
//! changes committed since its last read, whichever replica (or `import`,
//! or the harvest) wrote them, and hands them to its subscribers. Fed from
//! the journal, not from the writes a replica makes itself, so a subscriber
//! hears of every change on any replica.
//!
//! One read per replica, however many subscribe: the changes go into one
//! ring of `subscription_buffer` changes that every subscriber reads at its
//! own pace; a subscriber that falls a whole ring behind is told it lagged
//! and resumes from its cursor.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use crate::background::BackgroundTasks;
use crate::catalogue::Audience;
use crate::store::{ChangeFeed, ChangeFilter, FeedPosition, RecordedChange, Store, StoreError};

/// Changes read from the journal at once.
const READ_AT_ONCE: u64 = 500;

/// The live changes of one replica; clones share them.
#[derive(Clone)]
pub struct LiveChanges {
    sender: broadcast::Sender<Arc<RecordedChange>>,
}

impl LiveChanges {
    /// Starts following the journal from its head, every `poll`, among
    /// `tasks`. The head is read before this returns: a subscriber that
    /// reads the journal after subscribing misses nothing in between.
    pub async fn follow(
        store: Store,
        tasks: &BackgroundTasks,
        poll: Duration,
        buffer: usize,
    ) -> Result<Self, StoreError> {
        let (sender, _) = broadcast::channel(buffer);
        let mut position = store.feed_head(Audience::Agents).await?;
        let live = Self { sender };
        let sender = live.sender.clone();
        tasks.spawn(async move {
            let mut failing = false;
            loop {
                tokio::time::sleep(poll).await;
                match read_new(&store, &sender, position).await {
                    Ok(next) => {
                        position = next;
                        failing = false;
                    }
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(%error, "cannot read the journal for subscribers; they wait until the database answers");
                    }
                    Err(_) => {}
                }
            }
        });
        Ok(live)
    }

    /// The changes read from now on, every one of them, for every audience.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RecordedChange>> {
        self.sender.subscribe()
    }
}

/// Sends every change committed after `position`; returns where it stopped.
async fn read_new(
    store: &Store,
    sender: &broadcast::Sender<Arc<RecordedChange>>,
    mut position: FeedPosition,
) -> Result<FeedPosition, StoreError> {
    loop {
        match store
            .changes_after(position, READ_AT_ONCE, &ChangeFilter::default())
            .await?
        {
            ChangeFeed::Page {
                changes,
                next,
                has_more,
            } => {
                for change in changes {
                    // No receiver is no error: nobody subscribes yet.
                    let _ = sender.send(Arc::new(change));
                }
                position = next;
                if !has_more {
                    return Ok(position);
                }
            }
            // Pruned under this replica (it could not read for longer than
            // the journal keeps changes): subscribers resume from the head.
            ChangeFeed::Pruned => {
                tracing::warn!(
                    "the journal was pruned past what this replica had read; subscribers lagging behind must read the lists again"
                );
                return store.feed_head(Audience::Agents).await;
            }
        }
    }
}
