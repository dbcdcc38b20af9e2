//! `changes`: the journal of changes as a feed other tools follow, a page
//! at a time from the cursor they kept, and `latestChangeCursor`, where a
//! tool that has just read the lists starts.
//!
//! A cursor names a place in the sequence its holder's audience follows
//! (see `store::changes`): anonymous callers count public changes only, so
//! neither their cursors nor their pages show where agents-only changes
//! were. A cursor is valid only for callers of the audience it was given
//! to: an anonymous caller cannot probe the agents' sequence with a forged
//! one, and a tool whose credentials changed reads the lists again.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use std::collections::VecDeque;
use std::sync::Arc;

use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, Object, SimpleObject, Subscription,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast;

use crate::catalogue::Audience;
use crate::graphql::execution::context::{audience, loader, store};
use crate::graphql::execution::errors::{OrInternal, bad_input, code, internal};
use crate::graphql::schema::enums::{ChangeKind, ChangedField};
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::loaders::{OrganizationById, ProjectById};
use crate::graphql::schema::node::Node;
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::graphql::schema::project::Project;
use crate::live_changes::LiveChanges;
use crate::store::{ChangeFeed, ChangeFilter, ChangedSubject, FeedPosition, RecordedChange, Store};

#[derive(Clone)]
pub struct Change {
    record: RecordedChange,
    cursor: String,
}

impl Change {
    /// `record` as `reader` reads it; `None` when `reader` may not.
    fn read_by(record: RecordedChange, reader: Audience) -> Option<Self> {
        let cursor = encode_position(record.position(reader)?);
        Some(Self { record, cursor })
    }
}

/// One change to the catalogue, as the journal recorded it.
#[Object]
impl Change {
    /// Where the caller stands once it has read this change: resume from
    /// it with `after`.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// When it was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.record.at
    }

    /// What happened.
    async fn kind(&self) -> ChangeKind {
        self.record.kind.into()
    }

    /// The fields of `node` it changed; empty when it created `node`.
    async fn fields(&self) -> Vec<ChangedField> {
        self.record.fields.iter().copied().map(Into::into).collect()
    }

    /// The global id of what changed (a `Project` or an `Organization`),
    /// even when the caller can no longer see it: a tool that holds a copy
    /// forgets it then.
    async fn node_id(&self) -> ID {
        match self.record.subject {
            ChangedSubject::Project(id) => global_id(NodeType::Project, id),
            ChangedSubject::Organization(id) => global_id(NodeType::Organization, id),
        }
    }

    /// What changed, as it is now and as the caller may see it; null when
    /// it is gone or hidden from the caller.
    async fn node(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Node>> {
        let loader = loader(ctx)?;
        Ok(match self.record.subject {
            ChangedSubject::Project(id) => loader
                .load_one(ProjectById(id))
                .await
                .or_internal()?
                .map(|row| Node::Project(Project(row))),
            ChangedSubject::Organization(id) => loader
                .load_one(OrganizationById(id))
                .await
                .or_internal()?
                .map(|row| Node::Organization(Organization(row))),
        })
    }
}

/// Which changes to read; every change when empty.
#[derive(InputObject, Default)]
#[graphql(name = "ChangeFilter")]
pub struct ChangeFilterInput {
    /// Only changes of these kinds.
    kinds: Option<Vec<ChangeKind>>,
    /// Only changes to these projects, by slug (with `organizations`: to either).
    projects: Option<Vec<String>>,
    /// Only changes to these organizations, by slug.
    organizations: Option<Vec<String>>,
}

impl ChangeFilterInput {
    /// The store's filter; slugs the caller cannot see match nothing.
    pub async fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<ChangeFilter> {
        let limit = usize::try_from(MAX_PAGE_SIZE).unwrap_or_default();
        for (name, list) in [
            ("filter.kinds", self.kinds.as_ref().map(Vec::len)),
            ("filter.projects", self.projects.as_ref().map(Vec::len)),
            (
                "filter.organizations",
                self.organizations.as_ref().map(Vec::len),
            ),
        ] {
            if list.is_some_and(|len| len > limit) {
                return Err(bad_input(format!("`{name}` holds at most {limit} items")));
            }
        }
        let store = store(ctx)?;
        let mut subjects: Option<Vec<ChangedSubject>> = None;
        if let Some(slugs) = &self.projects {
            let found = store
                .projects_by_slugs(slugs, audience(ctx))
                .await
                .or_internal()?;
            subjects
                .get_or_insert_with(Vec::new)
                .extend(found.iter().map(|row| ChangedSubject::Project(row.id)));
        }
        if let Some(slugs) = &self.organizations {
            let found = store.organizations_by_slugs(slugs).await.or_internal()?;
            subjects
                .get_or_insert_with(Vec::new)
                .extend(found.iter().map(|row| ChangedSubject::Organization(row.id)));
        }
        Ok(ChangeFilter {
            kinds: self
                .kinds
                .map(|kinds| kinds.into_iter().map(Into::into).collect()),
            subjects,
        })
    }
}

/// What a cursor of the feed says: which sequence, and where in it.
const CURSOR_PREFIX: &str = "changes";

pub fn encode_position(position: FeedPosition) -> String {
    let sequence = match position.reader {
        Audience::Public => "public",
        Audience::Agents => "agents",
    };
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}:{sequence}:{}", position.ordinal))
}

/// The position `cursor` names, for a caller of `reader`'s audience.
pub fn decode_position(cursor: &str, reader: Audience) -> async_graphql::Result<FeedPosition> {
    let invalid = || bad_input(format!("`{cursor}` is not a cursor of `changes`"));
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let mut parts = text.splitn(3, ':');
    let (Some(CURSOR_PREFIX), Some(sequence), Some(ordinal)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let holder = match sequence {
        "public" => Audience::Public,
        "agents" => Audience::Agents,
        _ => return Err(invalid()),
    };
    let ordinal: i64 = ordinal.parse().map_err(|_| invalid())?;
    if holder != reader {
        return Err(resync_required(match reader {
            Audience::Public => {
                "this cursor was given to a signed-in agent; anonymous callers follow their own: read the lists again, then follow `changes` from `latestChangeCursor`"
            }
            Audience::Agents => {
                "this cursor was given to an anonymous caller; agents follow their own: read the lists again with these credentials, then follow `changes` from `latestChangeCursor`"
            }
        }));
    }
    Ok(FeedPosition { reader, ordinal })
}

/// The journal cannot say what happened since the caller's cursor: the
/// caller reads the catalogue's lists again.
pub fn resync_required(message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code::RESYNC_REQUIRED))
}

pub fn pruned() -> async_graphql::Error {
    resync_required(
        "the journal no longer holds the changes after this cursor: read the lists again, then follow `changes` from `latestChangeCursor`",
    )
}

/// Where to ask from next.
#[derive(SimpleObject)]
pub struct ChangesFrom {
    /// The cursor to pass as `after` next time: after the last change read,
    /// and after the changes `filter` left out. Unlike `pageInfo.endCursor`,
    /// never null.
    cursor: String,
}

#[derive(Default)]
pub struct ChangesQuery;

#[Object]
impl ChangesQuery {
    /// The changes after `after` that the caller may see, oldest first, a
    /// page at a time (at most 100). Without `after`, from the oldest change
    /// the journal keeps. Keep `cursor` and ask again from it: nothing is
    /// missed, nothing comes twice. A cursor older than the journal keeps
    /// answers `RESYNC_REQUIRED`.
    #[graphql(cache_control(private))]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        filter: Option<ChangeFilterInput>,
    ) -> async_graphql::Result<Connection<String, Change, ChangesFrom, EmptyFields>> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(0..=MAX_PAGE_SIZE).contains(&first) {
            return Err(bad_input(format!(
                "`first` must be between 0 and {MAX_PAGE_SIZE}, not {first}"
            )));
        }
        let reader = audience(ctx);
        let store = store(ctx)?;
        let from = match &after {
            Some(cursor) => decode_position(cursor, reader)?,
            None => store.feed_tail(reader).await.or_internal()?,
        };
        let filter = filter.unwrap_or_default().parse(ctx).await?;
        let feed = store
            .changes_after(from, u64::try_from(first).unwrap_or_default(), &filter)
            .await
            .or_internal()?;
        let ChangeFeed::Page {
            changes,
            next,
            has_more,
        } = feed
        else {
            return Err(pruned());
        };
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            has_more,
            ChangesFrom {
                cursor: encode_position(next),
            },
        );
        connection
            .edges
            .extend(changes.into_iter().filter_map(|change| {
                let change = Change::read_by(change, reader)?;
                Some(Edge::new(change.cursor.clone(), change))
            }));
        Ok(connection)
    }

    /// The cursor after the last change the caller may see: take it before
    /// reading the lists, then follow `changes(after:)` from it.
    #[graphql(cache_control(private))]
    async fn latest_change_cursor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        let head = store(ctx)?.feed_head(audience(ctx)).await.or_internal()?;
        Ok(encode_position(head))
    }
}

/// Changes read from the journal at once while a subscriber catches up.
const CATCH_UP_PAGE: u64 = 100;

#[derive(Default)]
pub struct ChangesSubscription;

/// What a subscriber hears of, as it happens.
#[Subscription(name = "Subscription")]
impl ChangesSubscription {
    /// The changes the caller may see, as they are committed on any
    /// replica, oldest first; from `after` (a cursor of `changes` or of an
    /// earlier event) when given, else from now. A subscriber too slow to
    /// keep up is ended with `SUBSCRIPTION_LIMIT_EXCEEDED` and resumes from
    /// the last cursor it read.
    async fn catalogue_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeFilterInput>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Change>> + use<>> {
        let reader = audience(ctx);
        let store = store(ctx)?.clone();
        let filter = filter.unwrap_or_default().parse(ctx).await?;
        // Subscribed before the journal is read: nothing falls in between.
        let live = ctx.data::<LiveChanges>()?.subscribe();
        let position = match &after {
            Some(cursor) => decode_position(cursor, reader)?,
            None => store.feed_head(reader).await.or_internal()?,
        };
        let follower = Follower {
            store,
            live,
            filter,
            position,
            catching_up: after.is_some(),
            ready: VecDeque::new(),
            ended: false,
        };
        Ok(futures_util::stream::unfold(follower, Follower::next))
    }
}

/// One subscriber: first the journal from its cursor, then the live
/// changes after it.
struct Follower {
    store: Store,
    live: broadcast::Receiver<Arc<RecordedChange>>,
    filter: ChangeFilter,
    /// After the last change read, in the subscriber's sequence.
    position: FeedPosition,
    catching_up: bool,
    /// Read, wanted, not yet sent.
    ready: VecDeque<RecordedChange>,
    ended: bool,
}

impl Follower {
    async fn next(mut self) -> Option<(async_graphql::Result<Change>, Self)> {
        let reader = self.position.reader;
        loop {
            if self.ended {
                return None;
            }
            if let Some(record) = self.ready.pop_front() {
                if let Some(change) = Change::read_by(record, reader) {
                    return Some((Ok(change), self));
                }
                continue;
            }
            if self.catching_up {
                match self
                    .store
                    .changes_after(self.position, CATCH_UP_PAGE, &self.filter)
                    .await
                {
                    Ok(ChangeFeed::Page {
                        changes,
                        next,
                        has_more,
                    }) => {
                        self.ready.extend(changes);
                        self.position = next;
                        self.catching_up = has_more;
                    }
                    Ok(ChangeFeed::Pruned) => return self.end(pruned()),
                    Err(error) => return self.end(internal(&error)),
                }
                continue;
            }
            match self.live.recv().await {
                Ok(record) => {
                    // Read already while catching up, or not the reader's.
                    let Some(position) = record.position(reader) else {
                        continue;
                    };
                    if position.ordinal <= self.position.ordinal {
                        continue;
                    }
                    self.position = position;
                    if self.filter.wants(&record) {
                        self.ready.push_back(RecordedChange::clone(&record));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let message = format!(
                        "this subscription fell too far behind the changes (a replica keeps CATALOGUE_SUBSCRIPTION_BUFFER of them): subscribe again with `after: \"{}\"`",
                        encode_position(self.position)
                    );
                    return self.end(limit_exceeded(&message));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn end(mut self, error: async_graphql::Error) -> Option<(async_graphql::Result<Change>, Self)> {
        self.ended = true;
        Some((Err(error), self))
    }
}

/// A subscriber's bound, exceeded.
pub fn limit_exceeded(message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message)
        .extend_with(|_, e| e.set("code", code::SUBSCRIPTION_LIMIT_EXCEEDED))
}
