//! French-aware full-text search and facets over projects, repositories,
//! datasets and organizations.
//!
//! Each replica keeps a tantivy index, in a directory of its own or in
//! memory, built from the database in the background at start-up (or opened
//! from its directory, see `persistence`): the gateway answers while it
//! builds, and searches wait for it a bounded time. Before answering, it
//! replays the database's journal of changes (`store::ChangesSince`) and
//! reindexes what changed, so a write committed on any replica, or by a
//! harvest, is searchable at once everywhere; both storage backends feed the
//! same index, so they give the same hits.

mod analysis;
mod collect;
mod documents;
mod facets_kept;
mod pages_kept;
mod persistence;
mod query;
mod schema;
mod snippets;
mod statistics;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::collector::Count;
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

pub use analysis::{QueryWord, query_words};
pub use documents::HitKind;
pub use query::Selection;
pub use schema::Dimension;
pub use snippets::Snippet;

use analysis::{SYNONYMS, Synonyms};
use collect::{FacetCounts, TopHits};
use documents::{organization_document, organization_subject, project_documents, project_subject};
use schema::{Fields, LABEL_SEPARATOR};
use statistics::PublicDocuments;

use crate::background::BackgroundTasks;
use crate::catalogue::Audience;
use crate::store::{ChangedSubject, ChangesSince, Store, StoreError};
use persistence::Snapshot;

/// Projects read from the database per batch while indexing.
const BATCH: usize = 500;
/// How long a search waits for the index of a replica that is starting.
const READY_WAIT: Duration = Duration::from_secs(10);
/// How long a start-up build that failed (the database not answering)
/// waits before it tries again.
const RETRY_BUILD_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search task: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("search queue: {0}")]
    Queue(#[from] tokio::sync::AcquireError),
    #[error("search index directory {dir}: {error}")]
    Directory { dir: PathBuf, error: std::io::Error },
    /// The index is still being built at start-up.
    #[error("the search index is still being built")]
    NotReady,
}

/// Where the start-up build of the index is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Building,
    /// The last attempt failed (the database did not answer); it is retried.
    Failing(String),
    Ready,
}

/// A page of hits, best first.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// How many documents match, across all pages.
    pub total: u64,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub kind: HitKind,
    pub id: i64,
    pub score: f32,
    pub snippets: Vec<Snippet>,
}

/// One value of a dimension and how many matching documents carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    /// What a filter on this dimension takes (`GITHUB`, `insee`, `2`).
    pub value: String,
    /// What to show (an organization's or a tag's name; else the value).
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct Facets {
    /// How many documents match.
    pub total: u64,
    /// By dimension, most frequent value first.
    pub dimensions: Vec<(Dimension, Vec<FacetValue>)>,
}

/// What has been replayed from the journal.
struct Replayed {
    revision: i64,
    /// The number of the last catch-up that completed.
    catch_up: u64,
}

/// What a write removes before adding.
enum Removal {
    /// The documents of the subjects given.
    Subjects,
    Everything,
}

/// What search threads share.
struct Engine {
    fields: Fields,
    synonyms: Synonyms,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// Those of the searchers last used for an anonymous search.
    public_documents: Mutex<Option<Arc<PublicDocuments>>>,
    /// What commits record as the index's format (see `persistence`).
    format: String,
}

pub struct SearchIndex {
    store: Store,
    /// Where replays run.
    tasks: BackgroundTasks,
    engine: Arc<Engine>,
    replayed: tokio::sync::Mutex<Replayed>,
    catch_ups_started: AtomicU64,
    /// The last revision replayed that changed something.
    changed: tokio::sync::watch::Sender<i64>,
    readiness: tokio::sync::watch::Sender<Readiness>,
    facets_kept: facets_kept::FacetsKept,
    pages_kept: pages_kept::PagesKept,
    /// One turn per core for rankings and counts (`on_a_core`).
    cores: Arc<tokio::sync::Semaphore>,
}

impl SearchIndex {
    /// Opens the index (in `dir`, or in memory) and builds it, or catches
    /// up from what `dir` holds, in a task among `tasks`, where replays of
    /// changes will run too. Searches wait for the build (see `readiness`).
    pub fn start(
        store: Store,
        tasks: &BackgroundTasks,
        dir: Option<&Path>,
    ) -> Result<Arc<Self>, SearchError> {
        let fields = Fields::new();
        let opened = persistence::open(dir, &fields.schema, SYNONYMS)?;
        analysis::register(&opened.index);
        let reader = opened
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let engine = Arc::new(Engine {
            fields,
            synonyms: Synonyms::load(),
            reader,
            writer: Mutex::new(opened.writer),
            public_documents: Mutex::new(None),
            format: opened.format,
        });
        let index = Arc::new(Self {
            store,
            tasks: tasks.clone(),
            engine,
            replayed: tokio::sync::Mutex::new(Replayed {
                revision: 0,
                catch_up: 0,
            }),
            catch_ups_started: AtomicU64::new(0),
            changed: tokio::sync::watch::Sender::new(0),
            readiness: tokio::sync::watch::Sender::new(Readiness::Building),
            facets_kept: facets_kept::facets_kept(),
            pages_kept: pages_kept::pages_kept(),
            cores: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            )),
        });
        let building = Arc::clone(&index);
        let saved = opened.saved;
        tasks.spawn(async move { building.prepare(saved).await });
        Ok(index)
    }

    /// Builds the index, or catches up from `saved`, retrying until it
    /// succeeds; replays wait meanwhile (they take `replayed`).
    async fn prepare(&self, saved: Option<Snapshot>) {
        let started = Instant::now();
        let mut replayed = self.replayed.lock().await;
        loop {
            match self.load_or_build(saved, &mut replayed).await {
                Ok(how) => {
                    tracing::info!(
                        documents = self.documents(),
                        revision = replayed.revision,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        how,
                        "search index ready"
                    );
                    self.changed.send_replace(replayed.revision);
                    self.readiness.send_replace(Readiness::Ready);
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot build the search index yet; trying again");
                    self.readiness
                        .send_replace(Readiness::Failing(error.to_string()));
                    tokio::time::sleep(RETRY_BUILD_AFTER).await;
                }
            }
        }
    }

    /// Continues from `saved` when the journal still holds its revision as
    /// recorded then; else indexes everything again.
    async fn load_or_build(
        &self,
        saved: Option<Snapshot>,
        replayed: &mut Replayed,
    ) -> Result<&'static str, SearchError> {
        // A revision the journal no longer holds identifies nothing.
        if let Some(saved) = saved
            && (saved.revision == 0 || saved.recorded_at.is_some())
            && self.snapshot_at(saved.revision).await? == saved
        {
            replayed.revision = saved.revision;
            let number = self.catch_ups_started.fetch_add(1, Ordering::SeqCst) + 1;
            self.replay_locked(replayed, number).await?;
            return Ok("opened from its directory, then caught up");
        }
        // Read the revision first: changes committed while the build reads
        // are replayed again at the first catch-up (reindexing is idempotent).
        let revision = self.store.catalogue_revision().await?;
        self.rebuild(revision).await?;
        replayed.revision = revision;
        Ok("built from the database")
    }

    /// What a commit holding every change up to `revision` records.
    async fn snapshot_at(&self, revision: i64) -> Result<Snapshot, SearchError> {
        let recorded_at = if revision == 0 {
            None
        } else {
            self.store.revision_recorded_at(revision).await?
        };
        Ok(Snapshot {
            revision,
            recorded_at,
        })
    }

    /// Where the start-up build is.
    pub fn readiness(&self) -> Readiness {
        self.readiness.borrow().clone()
    }

    /// Waits, a bounded time, for the start-up build.
    async fn ready(&self) -> Result<(), SearchError> {
        let mut readiness = self.readiness.subscribe();
        match tokio::time::timeout(
            READY_WAIT,
            readiness.wait_for(|state| *state == Readiness::Ready),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(SearchError::NotReady),
        }
    }

    /// How many documents the index holds.
    pub fn documents(&self) -> u64 {
        self.engine.reader.searcher().num_docs()
    }

    /// Tells each time a catch-up replays changes, wherever they were made.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<i64> {
        self.changed.subscribe()
    }

    /// Replays the changes committed since the last catch-up. Callers that
    /// arrive while one runs wait for it and then run their own, unless
    /// another that started after they arrived has completed meanwhile. The
    /// replay runs in a task of its own: a caller that goes away (a client
    /// disconnecting, shutdown stopping the background tasks) does not stop
    /// it half-way.
    pub async fn catch_up(self: &Arc<Self>) -> Result<(), SearchError> {
        let index = Arc::clone(self);
        self.tasks
            .spawn_to_end(async move { index.replay().await })
            .await?
    }

    /// Catches up (`catch_up`) unless the index has replayed `revision`
    /// already: a catalogue revision the caller read after it arrived (its
    /// request's snapshot of the read model) spares the index a read of its
    /// own.
    async fn catch_up_to(self: &Arc<Self>, revision: Option<i64>) -> Result<(), SearchError> {
        if let Some(revision) = revision
            && self.replayed.lock().await.revision >= revision
        {
            return Ok(());
        }
        self.catch_up().await
    }

    async fn replay(&self) -> Result<(), SearchError> {
        let arrived_after = self.catch_ups_started.load(Ordering::SeqCst);
        let mut replayed = self.replayed.lock().await;
        if replayed.catch_up > arrived_after {
            return Ok(());
        }
        let number = self.catch_ups_started.fetch_add(1, Ordering::SeqCst) + 1;
        self.replay_locked(&mut replayed, number).await
    }

    /// Replays the changes after `replayed`, as the catch-up numbered `number`.
    async fn replay_locked(&self, replayed: &mut Replayed, number: u64) -> Result<(), SearchError> {
        let revision = match self.store.changes_since(replayed.revision).await? {
            ChangesSince::Nothing => replayed.revision,
            ChangesSince::Changes { revision, subjects } => {
                let mut projects = Vec::new();
                let mut organizations = Vec::new();
                for subject in subjects {
                    match subject {
                        ChangedSubject::Project(id) => projects.push(id),
                        ChangedSubject::Organization(id) => organizations.push(id),
                    }
                }
                let snapshot = self.snapshot_at(revision).await?;
                self.or_roll_back(self.reindex(&projects, &organizations, snapshot).await)
                    .await?;
                revision
            }
            ChangesSince::Incomplete { revision } => {
                tracing::warn!(
                    from = replayed.revision,
                    "changes were pruned from the journal before this replica read them: reindexing everything"
                );
                self.rebuild(revision).await?;
                revision
            }
        };
        if revision != replayed.revision {
            self.changed.send_replace(revision);
        }
        replayed.revision = revision;
        replayed.catch_up = number;
        Ok(())
    }

    /// Drops what a failed replay wrote but did not commit, so the next one
    /// starts from the last commit.
    async fn or_roll_back(&self, outcome: Result<(), SearchError>) -> Result<(), SearchError> {
        if outcome.is_err() {
            let engine = Arc::clone(&self.engine);
            let rolled_back = tokio::task::spawn_blocking(move || {
                engine
                    .writer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .rollback()
            })
            .await;
            if let Err(error) = rolled_back
                .map_err(SearchError::from)
                .and_then(|r| r.map_err(SearchError::from))
            {
                tracing::error!(%error, "cannot roll the search index back after a failed replay");
            }
        }
        outcome
    }

    /// Empties the index and indexes every project and organization as of
    /// `revision`, in one commit: a failure leaves the last commit as it was.
    async fn rebuild(&self, revision: i64) -> Result<(), SearchError> {
        let rebuilt = async {
            self.write(Vec::new(), Vec::new(), Removal::Everything, None)
                .await?;
            let projects = self.store.project_ids(None).await?;
            let organizations = self.store.organization_ids().await?;
            let snapshot = self.snapshot_at(revision).await?;
            self.reindex(&projects, &organizations, snapshot).await
        };
        let rebuilt = rebuilt.await;
        self.or_roll_back(rebuilt).await
    }

    /// Replaces the documents of `projects` and `organizations` (and of the
    /// projects those organizations take part in: they show their names),
    /// then commits, recording `snapshot`.
    async fn reindex(
        &self,
        projects: &[i64],
        organizations: &[i64],
        snapshot: Snapshot,
    ) -> Result<(), SearchError> {
        let mut project_ids: BTreeSet<i64> = projects.iter().copied().collect();
        let mut documents = Vec::new();
        let mut subjects = Vec::new();
        for chunk in organizations.chunks(BATCH) {
            for (organization, its_projects) in
                self.store.organizations_with_projects(chunk).await?
            {
                documents.push(organization_document(&self.engine.fields, &organization));
                project_ids.extend(its_projects);
            }
        }
        subjects.extend(organizations.iter().map(|&id| organization_subject(id)));
        let project_ids: Vec<i64> = project_ids.into_iter().collect();
        subjects.extend(project_ids.iter().map(|&id| project_subject(id)));
        for chunk in project_ids.chunks(BATCH) {
            for bundle in self.store.project_bundles(chunk).await? {
                documents.extend(project_documents(&self.engine.fields, &bundle));
            }
            // Hand each batch over as it comes: memory stays bounded.
            self.write(
                std::mem::take(&mut documents),
                std::mem::take(&mut subjects),
                Removal::Subjects,
                None,
            )
            .await?;
        }
        self.write(documents, subjects, Removal::Subjects, Some(snapshot))
            .await
    }

    /// Deletes the documents of `subjects` (or every document), adds
    /// `documents`, and with a `commit`, makes everything written so far
    /// searchable, recording that it holds `commit`.
    async fn write(
        &self,
        documents: Vec<TantivyDocument>,
        subjects: Vec<String>,
        removal: Removal,
        commit: Option<Snapshot>,
    ) -> Result<(), SearchError> {
        let engine = Arc::clone(&self.engine);
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let mut writer = engine
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match removal {
                Removal::Everything => {
                    writer.delete_all_documents()?;
                }
                Removal::Subjects => {
                    for subject in subjects {
                        writer.delete_term(Term::from_field_text(engine.fields.subject, &subject));
                    }
                }
            }
            for document in documents {
                writer.add_document(document)?;
            }
            if let Some(snapshot) = commit {
                let mut prepared = writer.prepare_commit()?;
                prepared.set_payload(&persistence::payload(&engine.format, snapshot));
                prepared.commit()?;
                engine.reader.reload()?;
            }
            Ok(())
        })
        .await?
    }

    /// The hits of `selection` that `audience` may read, best first, from
    /// `offset`, at most `limit` of them, as of `revision_read` at least (a
    /// catalogue revision read after the request arrived; else the index
    /// reads the revision itself).
    pub async fn search(
        self: &Arc<Self>,
        selection: Selection,
        audience: Audience,
        offset: usize,
        limit: usize,
        revision_read: Option<i64>,
    ) -> Result<SearchPage, SearchError> {
        self.ready().await?;
        self.catch_up_to(revision_read).await?;
        // Ranked on one searcher, kept under its generation.
        let searcher = self.engine.reader.searcher();
        let key = pages_kept::PageKey {
            generation: searcher.generation().generation_id(),
            audience,
            selection,
            offset,
            limit,
        };
        if let Some(kept) = self.pages_kept.get(&key).await {
            return Ok(SearchPage::clone(&kept));
        }
        let engine = Arc::clone(&self.engine);
        let selection = key.selection.clone();
        let page = self
            .on_a_core(move || engine.search(&searcher, &selection, audience, offset, limit))
            .await?;
        self.pages_kept.insert(key, Arc::new(page.clone())).await;
        Ok(page)
    }

    /// How many documents of `selection` that `audience` may read carry each
    /// value of each dimension; at most `limit` values a dimension. With
    /// `each_without_its_filter`, a dimension filtered on is counted without
    /// its own filter. As of `revision_read` at least, as `search`.
    pub async fn facets(
        self: &Arc<Self>,
        selection: Selection,
        audience: Audience,
        limit: usize,
        each_without_its_filter: bool,
        revision_read: Option<i64>,
    ) -> Result<Facets, SearchError> {
        self.ready().await?;
        self.catch_up_to(revision_read).await?;
        // Counted on one searcher, kept under its generation.
        let searcher = self.engine.reader.searcher();
        let key = facets_kept::FacetsKey {
            generation: searcher.generation().generation_id(),
            audience,
            selection,
            limit,
            each_without_its_filter,
        };
        if let Some(kept) = self.facets_kept.get(&key).await {
            return Ok(Facets::clone(&kept));
        }
        let engine = Arc::clone(&self.engine);
        let selection = key.selection.clone();
        let facets = self
            .on_a_core(move || {
                engine.facets(
                    &searcher,
                    &selection,
                    audience,
                    limit,
                    each_without_its_filter,
                )
            })
            .await?;
        self.facets_kept.insert(key, Arc::new(facets.clone())).await;
        Ok(facets)
    }

    /// Runs `work` (a ranking or a count) on a blocking thread once a core
    /// is free for it. Concurrent searches queue here, at most one per core
    /// at once, instead of each taking a blocking thread and its allocator
    /// heap: 64 connections searching at once held 90 to 145 MiB more than 8
    /// did (decision 0030). The turn is held until `work` ends, even when
    /// the request that asked for it has gone.
    async fn on_a_core<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let turn = Arc::clone(&self.cores).acquire_owned().await?;
        tokio::task::spawn_blocking(move || {
            let answer = work();
            drop(turn);
            answer
        })
        .await?
    }
}

impl Engine {
    fn search(
        &self,
        searcher: &Searcher,
        selection: &Selection,
        audience: Audience,
        offset: usize,
        limit: usize,
    ) -> Result<SearchPage, SearchError> {
        let query = query::build(&self.fields, &self.synonyms, selection, audience);
        let collector = TopHits {
            keep: offset.saturating_add(limit),
            key_field: "key",
        };
        let top = match audience {
            Audience::Public => searcher.search_with_statistics_provider(
                &query,
                &collector,
                &self.public_documents(searcher)?.statistics(searcher),
            )?,
            Audience::Agents => searcher.search(&query, &collector)?,
        };
        let mut highlighter = snippets::Highlighter::new(&selection.words, &self.synonyms);
        let mut hits = Vec::with_capacity(limit);
        for ranked in top.hits.into_iter().skip(offset) {
            let document: TantivyDocument = searcher.doc(ranked.address)?;
            hits.push(SearchHit {
                kind: ranked.key.kind(),
                id: ranked.key.id(),
                score: ranked.score,
                snippets: highlighter.snippets(&self.fields, &document),
            });
        }
        Ok(SearchPage {
            total: top.total,
            hits,
        })
    }

    /// The public documents of `searcher`, found once a generation of
    /// searchers (the index changes only when a replay commits).
    fn public_documents(&self, searcher: &Searcher) -> Result<Arc<PublicDocuments>, SearchError> {
        let mut cached = self
            .public_documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = searcher.generation().generation_id();
        if let Some(documents) = cached.as_ref().filter(|d| d.generation() == generation) {
            return Ok(Arc::clone(documents));
        }
        let documents = Arc::new(PublicDocuments::find(searcher, self.fields.access)?);
        // A search still on an older searcher does not evict the newer ones'.
        if cached.as_ref().is_none_or(|d| d.generation() < generation) {
            *cached = Some(Arc::clone(&documents));
        }
        Ok(documents)
    }

    fn facets(
        &self,
        searcher: &Searcher,
        selection: &Selection,
        audience: Audience,
        limit: usize,
        each_without_its_filter: bool,
    ) -> Result<Facets, SearchError> {
        let column = |dimension: Dimension| self.fields.dimension(dimension, audience).facet;
        let columns: Vec<_> = Dimension::ALL.iter().map(|&d| column(d)).collect();
        let query = query::build(&self.fields, &self.synonyms, selection, audience);
        let (total, mut counts) = searcher.search(
            &query,
            &(Count, FacetCounts::new(&columns, &self.fields.schema)),
        )?;
        if each_without_its_filter {
            // A dimension filtered on is counted as if its own filter were
            // absent: the values a portal may add to it, and how many each brings.
            for (position, dimension) in Dimension::ALL.iter().enumerate() {
                if !selection.filters.iter().any(|(d, _)| d == dimension) {
                    continue;
                }
                let mut widened = selection.clone();
                widened.filters.retain(|(d, _)| d != dimension);
                let query = query::build(&self.fields, &self.synonyms, &widened, audience);
                let mut one = searcher.search(
                    &query,
                    &FacetCounts::new(&[column(*dimension)], &self.fields.schema),
                )?;
                counts[position] = one.pop().unwrap_or_default();
            }
        }
        let dimensions = Dimension::ALL
            .iter()
            .zip(counts)
            .map(|(&dimension, counts)| {
                let mut values: Vec<FacetValue> = counts
                    .into_iter()
                    .map(|(value, count)| {
                        let (value, label) = value
                            .split_once(LABEL_SEPARATOR)
                            .map(|(v, l)| (v.to_owned(), l.to_owned()))
                            .unwrap_or_else(|| (value.clone(), value));
                        FacetValue {
                            value,
                            label,
                            count,
                        }
                    })
                    .collect();
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
                values.truncate(limit);
                (dimension, values)
            })
            .collect();
        Ok(Facets {
            total: total as u64,
            dimensions,
        })
    }
}
