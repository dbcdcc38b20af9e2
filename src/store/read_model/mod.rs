//! The read model: the projects and what hangs off them, kept in memory
//! from the journal of changes, as the search index is (decision 0031).
//!
//! A query reads the model instead of running a statement per relation: a
//! request first asks the database for the catalogue revision (one read of a
//! one-row table), replays the journal if it moved (re-reading only the
//! projects changed, and those of a changed organization), then answers
//! every list and lookup the model holds from one snapshot. So an answer is
//! as current as the database when the request began, on every replica,
//! whoever wrote; and requests arriving together share one revision read.
//! Until the model is built (in the background at start-up), and for what it
//! does not hold, the statements answer as before.

mod snapshot;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

pub use snapshot::Snapshot;
use snapshot::{ProjectEntry, Reread};

use super::rows::Columns;
use super::search_source::grouped;
use super::{ChangedSubject, ChangesSince, Store, StoreError};
use crate::background::BackgroundTasks;
use crate::catalogue::Audience;

/// Projects read from the database per batch while building.
const BATCH: usize = 500;
/// How long a build that failed (the database not answering) waits before
/// it tries again.
const RETRY_BUILD_AFTER: Duration = Duration::from_secs(2);

/// Where the model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelState {
    /// Turned off (`CATALOGUE_READ_MODEL=false`): statements answer everything.
    Off,
    Building,
    Ready,
}

impl ModelState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Building => "building",
            Self::Ready => "ready",
        }
    }
}

pub struct ReadModel {
    current: RwLock<Option<Arc<Snapshot>>>,
    state: RwLock<ModelState>,
    /// Freshness checks started, and (under the lock) the number of the
    /// last one completed: a request arriving while one runs waits for it,
    /// then is answered by the next one, started after it arrived.
    checks_started: AtomicU64,
    checked: tokio::sync::Mutex<u64>,
    /// Where builds run (set when the model is started).
    tasks: std::sync::OnceLock<BackgroundTasks>,
}

impl Default for ReadModel {
    fn default() -> Self {
        Self {
            current: RwLock::new(None),
            state: RwLock::new(ModelState::Off),
            checks_started: AtomicU64::new(0),
            checked: tokio::sync::Mutex::new(0),
            tasks: std::sync::OnceLock::new(),
        }
    }
}

impl ReadModel {
    pub fn state(&self) -> ModelState {
        *self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_state(&self, state: ModelState) {
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = state;
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn install(&self, snapshot: Option<Snapshot>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = snapshot.map(Arc::new);
    }
}

impl Store {
    /// Builds the read model in a task among `tasks`, retrying until the
    /// database answers; queries use it once it is built.
    pub fn start_read_model(&self, tasks: &BackgroundTasks) {
        if self.read_model.tasks.set(tasks.clone()).is_ok() {
            self.rebuild_read_model();
        }
    }

    /// Drops the model (queries read the database meanwhile) and builds it
    /// again in the background.
    fn rebuild_read_model(&self) {
        let Some(tasks) = self.read_model.tasks.get() else {
            return;
        };
        self.read_model.install(None);
        self.read_model.set_state(ModelState::Building);
        let store = self.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            loop {
                match store.build_snapshot().await {
                    Ok(snapshot) => {
                        tracing::info!(
                            projects = snapshot.projects_held(),
                            revision = snapshot.revision(),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "read model ready"
                        );
                        store.read_model.install(Some(snapshot));
                        store.read_model.set_state(ModelState::Ready);
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot build the read model yet; trying again");
                        tokio::time::sleep(RETRY_BUILD_AFTER).await;
                    }
                }
            }
        });
    }

    pub fn read_model_state(&self) -> ModelState {
        self.read_model.state()
    }

    /// The model as current as the database is now, or `None` while there
    /// is none (not built, turned off): then the statements answer.
    pub async fn read_snapshot(&self) -> Result<Option<Arc<Snapshot>>, StoreError> {
        let model = &self.read_model;
        if model.current().is_none() {
            return Ok(None);
        }
        let arrived_after = model.checks_started.load(Ordering::SeqCst);
        let mut checked = model.checked.lock().await;
        if *checked > arrived_after {
            // A check that started after this request arrived has completed.
            return Ok(model.current());
        }
        let number = model.checks_started.fetch_add(1, Ordering::SeqCst) + 1;
        let Some(snapshot) = model.current() else {
            return Ok(None);
        };
        // The database not answering fails the request as a statement would.
        let changes = self.changes_since(snapshot.revision()).await?;
        let replayed = match changes {
            ChangesSince::Nothing => Ok(None),
            ChangesSince::Changes { revision, subjects } => self
                .replay(&snapshot, revision, subjects)
                .await
                .map(Some)
                .map_err(|error| error.to_string()),
            ChangesSince::Incomplete { .. } => {
                Err("changes were pruned from the journal before the read model read them".into())
            }
        };
        *checked = number;
        match replayed {
            Ok(Some(next)) => model.install(Some(next)),
            Ok(None) => {}
            Err(why) => {
                // A row the model cannot read, the database going away
                // half-way, a journal pruned past the model: the statements
                // answer (and report an unreadable row as they do) until the
                // model is built again.
                tracing::warn!(%why, "cannot replay changes into the read model: building it again");
                self.rebuild_read_model();
            }
        }
        Ok(model.current())
    }

    /// `snapshot` with the organizations and projects `subjects` name (and
    /// the projects of those organizations) read again, as of `revision`.
    async fn replay(
        &self,
        snapshot: &Snapshot,
        revision: i64,
        subjects: BTreeSet<ChangedSubject>,
    ) -> Result<Snapshot, StoreError> {
        let mut projects = BTreeSet::new();
        let mut organizations = Reread {
            ids: Vec::new(),
            found: Vec::new(),
        };
        for subject in subjects {
            match subject {
                ChangedSubject::Project(id) => {
                    projects.insert(id);
                }
                ChangedSubject::Organization(id) => organizations.ids.push(id),
            }
        }
        for chunk in organizations.ids.chunks(BATCH) {
            for (organization, its_projects) in self.organizations_with_projects(chunk).await? {
                organizations.found.push(organization);
                projects.extend(its_projects);
            }
        }
        let projects: Vec<i64> = projects.into_iter().collect();
        let mut entries = Vec::with_capacity(projects.len());
        for chunk in projects.chunks(BATCH) {
            entries.extend(self.project_entries(chunk).await?);
        }
        let projects = Reread {
            ids: projects,
            found: entries,
        };
        Ok(snapshot.with(revision, organizations, projects))
    }

    /// Every organization and project, as of the revision read first
    /// (changes committed while it reads are replayed again by the next
    /// check: re-reading a row is idempotent).
    async fn build_snapshot(&self) -> Result<Snapshot, StoreError> {
        let revision = self.catalogue_revision().await?;
        let organization_ids = self.organization_ids().await?;
        let mut organizations = Vec::with_capacity(organization_ids.len());
        for chunk in organization_ids.chunks(BATCH) {
            organizations.extend(self.organizations_by_ids(chunk).await?);
        }
        let ids = self.project_ids(None).await?;
        let mut entries = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH) {
            entries.extend(self.project_entries(chunk).await?);
        }
        Ok(Snapshot::new(revision, organizations, entries))
    }

    /// The projects among `ids` with what the model keeps of each, whoever
    /// may read it (the snapshot's queries apply the audience).
    async fn project_entries(&self, ids: &[i64]) -> Result<Vec<ProjectEntry>, StoreError> {
        let everything = Audience::Agents;
        let projects = self.projects_by_ids(ids, everything).await?;
        let mut participations = grouped(self.participations_of_projects(ids, Columns::ALL).await?);
        let mut repositories = grouped(
            self.repositories_of_projects(ids, everything, Columns::ALL)
                .await?,
        );
        let mut datasets = grouped(self.datasets_of_projects(ids, everything).await?);
        let mut links = grouped(self.links_of_projects(ids, everything).await?);
        let mut tags = grouped(self.tags_of_projects(ids).await?);
        let mut seasons = grouped(self.seasons_of_projects(ids).await?);
        let mut uses = grouped(self.uses_of_projects(ids, everything).await?);
        Ok(projects
            .into_iter()
            .map(|project| {
                let id = project.id;
                ProjectEntry {
                    project,
                    participations: participations.remove(&id).unwrap_or_default(),
                    repositories: repositories.remove(&id).unwrap_or_default(),
                    datasets: datasets.remove(&id).unwrap_or_default(),
                    links: links.remove(&id).unwrap_or_default(),
                    tags: tags.remove(&id).unwrap_or_default(),
                    seasons: seasons.remove(&id).unwrap_or_default(),
                    uses: uses.remove(&id).unwrap_or_default(),
                }
            })
            .collect())
    }
}
