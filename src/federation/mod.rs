//! Federation: what the upstream services say about each project's code,
//! data and packages — GitHub, GitLab, data.gouv.fr, PyPI — harvested into
//! the database, one harvester at a time across replicas.

mod client;
mod datagouv;
pub mod facts;
mod github;
mod gitlab;
mod publiccode;
mod pypi;

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;

use crate::cache::ResponseCache;
use crate::catalogue::{Audience, DataProvider, Forge, LinkKind};
use crate::config::{Config, Secret};
use crate::store::{Columns, FreshFacts, HarvestWrite, Store, StoreError};
use client::{Conditional, Fetched, TokenHeader, Upstream};

/// The lease a harvest holds, renewed while it runs.
const LEASE: &str = "harvest";
const LEASE_TIME: Duration = Duration::from_secs(5 * 60);

/// Holds the lease for one run: renews it every third of its time, gives it
/// back when dropped (also when the run is cancelled).
struct LeaseGuard {
    store: Store,
    holder: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl LeaseGuard {
    fn hold(store: Store, holder: String) -> Self {
        let renewing = (store.clone(), holder.clone());
        let renewal = tokio::spawn(async move {
            let (store, holder) = renewing;
            loop {
                tokio::time::sleep(LEASE_TIME / 3).await;
                let until = Utc::now() + chrono::Duration::from_std(LEASE_TIME).unwrap_or_default();
                if let Err(error) = store.take_lease(LEASE, &holder, until).await {
                    tracing::warn!(%error, "cannot renew the harvest lease");
                }
            }
        });
        Self {
            store,
            holder,
            renewal,
        }
    }
}

impl LeaseGuard {
    /// Gives the lease back now.
    async fn release(mut self) {
        self.renewal.abort();
        let holder = std::mem::take(&mut self.holder);
        if let Err(error) = self.store.release_lease(LEASE, &holder).await {
            tracing::warn!(%error, "cannot release the harvest lease; it expires by itself");
        }
    }
}

/// A run cancelled midway (its request dropped) still gives the lease back.
impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.renewal.abort();
        if self.holder.is_empty() {
            return;
        }
        let (store, holder) = (self.store.clone(), std::mem::take(&mut self.holder));
        tokio::spawn(async move {
            if let Err(error) = store.release_lease(LEASE, &holder).await {
                tracing::warn!(%error, "cannot release the harvest lease; it expires by itself");
            }
        });
    }
}
/// Links harvested at once (each host also has its own limit).
const LINKS_AT_ONCE: usize = 16;

/// Where the upstream services are.
pub struct Endpoints {
    pub github_api: String,
    pub gitlab_api: String,
    pub datagouv_api: String,
    pub pypi: String,
    pub github_token: Option<Secret>,
    pub gitlab_token: Option<Secret>,
}

/// A harvest's outcome for one link.
#[derive(Debug, Clone)]
pub struct LinkOutcome {
    pub subject: String,
    pub url: String,
    /// `OK`, `NOT_MODIFIED`, `ERROR` or `NOT_FOUND`.
    pub status: &'static str,
    pub message: Option<String>,
}

/// What a harvest did.
#[derive(Debug, Default)]
pub struct Summary {
    pub outcomes: Vec<LinkOutcome>,
    /// Links whose facts or harvest status changed (what the API serves).
    pub changed: usize,
}

impl Summary {
    pub fn count(&self, status: &str) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} links: {} OK, {} not modified, {} not found, {} errors; {} changed",
            self.outcomes.len(),
            self.count("OK"),
            self.count("NOT_MODIFIED"),
            self.count("NOT_FOUND"),
            self.count("ERROR"),
            self.changed
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("no project has the slug `{0}`")]
    UnknownProject(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// What to ask for one link.
enum Target {
    Github {
        owner: String,
        name: String,
    },
    Gitlab {
        api: String,
        owner: String,
        name: String,
        /// The configured instance (gitlab.com): the only one our token is for.
        ours: bool,
    },
    DataGouv {
        api_url: String,
    },
    Pypi {
        api_url: String,
    },
}

struct Job {
    subject: String,
    project_id: i64,
    url: String,
    target: Target,
}

pub struct Harvester {
    store: Store,
    upstream: Upstream,
    endpoints: Endpoints,
    cache: Option<ResponseCache>,
    holder: String,
}

impl Harvester {
    pub fn from_config(
        config: &Config,
        store: Store,
        cache: Option<ResponseCache>,
    ) -> Result<Self, HarvestError> {
        let upstream = Upstream::new(
            Duration::from_secs(config.harvest_timeout_seconds),
            config.harvest_concurrency_per_host,
            Duration::from_secs(config.harvest_max_wait_seconds),
        )
        .map_err(|e| HarvestError::Client(e.to_string()))?;
        Ok(Self {
            store,
            upstream,
            endpoints: Endpoints {
                github_api: config.github_api_url.clone(),
                gitlab_api: config.gitlab_api_url.clone(),
                datagouv_api: config.datagouv_api_url.clone(),
                pypi: config.pypi_url.clone(),
                github_token: config.github_token.clone(),
                gitlab_token: config.gitlab_token.clone(),
            },
            cache,
            holder: format!(
                "{}:{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "gateway".into()),
                std::process::id(),
                rand::random::<u32>()
            ),
        })
    }

    /// Harvests every project (or the one with `slug`); `None` when another
    /// harvester holds the lease. `progress` hears (done, total) after each link.
    pub async fn run(
        &self,
        slug: Option<&str>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Option<Summary>, HarvestError> {
        // A full harvest and a one-project refresh share the lease, so two
        // runs never write the same links at once.
        let holder = format!("{}:{}", self.holder, rand::random::<u64>());
        let until = Utc::now() + chrono::Duration::from_std(LEASE_TIME).unwrap_or_default();
        if !self.store.take_lease(LEASE, &holder, until).await? {
            return Ok(None);
        }
        let lease = LeaseGuard::hold(self.store.clone(), holder);
        let outcome = self.harvest(slug, progress).await;
        lease.release().await;
        let summary = outcome?;
        if summary.changed > 0
            && let Some(cache) = &self.cache
        {
            cache.bump_generation().await;
        }
        Ok(Some(summary))
    }

    async fn harvest(
        &self,
        slug: Option<&str>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Summary, HarvestError> {
        let project_ids = self.store.project_ids(slug).await?;
        if let (Some(slug), true) = (slug, project_ids.is_empty()) {
            return Err(HarvestError::UnknownProject(slug.to_owned()));
        }
        let jobs = self.jobs(&project_ids).await?;
        let total = jobs.len();
        let mut summary = Summary::default();
        let mut done = 0;
        let mut results = futures_util::stream::iter(jobs)
            .map(|job| self.harvest_one(job))
            .buffer_unordered(LINKS_AT_ONCE);
        while let Some(result) = results.next().await {
            let (outcome, changed) = result?;
            done += 1;
            progress(done, total);
            summary.changed += usize::from(changed);
            summary.outcomes.push(outcome);
        }
        summary.outcomes.sort_by(|a, b| a.subject.cmp(&b.subject));
        Ok(summary)
    }

    /// The links of `project_ids` that an upstream service describes.
    async fn jobs(&self, project_ids: &[i64]) -> Result<Vec<Job>, StoreError> {
        let mut jobs = Vec::new();
        let everything = Audience::Agents;
        for (project_id, repository) in self
            .store
            .repositories_of_projects(project_ids, everything, Columns::ALL)
            .await?
        {
            let (Some(owner), Some(name)) = (repository.owner.clone(), repository.name.clone())
            else {
                continue;
            };
            let host = url::Url::parse(&repository.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned));
            let target = match repository.forge {
                // Only github.com is GitHub's API; another host saying GitHub is not asked.
                Forge::Github if host.as_deref() == Some("github.com") => {
                    Target::Github { owner, name }
                }
                Forge::Gitlab => {
                    match gitlab::api_base(&self.endpoints.gitlab_api, &repository.url) {
                        Some(api) => Target::Gitlab {
                            ours: api == self.endpoints.gitlab_api.trim_end_matches('/'),
                            api,
                            owner,
                            name,
                        },
                        None => continue,
                    }
                }
                Forge::Github | Forge::Other => continue,
            };
            jobs.push(Job {
                subject: format!("repository:{}", repository.id),
                project_id,
                url: repository.url,
                target,
            });
        }
        for (project_id, dataset) in self
            .store
            .datasets_of_projects(project_ids, everything)
            .await?
        {
            if dataset.provider != DataProvider::DataGouv {
                continue;
            }
            if let Some(api_url) = datagouv::dataset_url(&self.endpoints.datagouv_api, &dataset.url)
            {
                jobs.push(Job {
                    subject: format!("dataset:{}", dataset.id),
                    project_id,
                    url: dataset.url,
                    target: Target::DataGouv { api_url },
                });
            }
        }
        for (project_id, link) in self
            .store
            .links_of_projects(project_ids, everything)
            .await?
        {
            if link.kind != LinkKind::Package {
                continue;
            }
            if let Some(api_url) = pypi::package_url(&self.endpoints.pypi, &link.url) {
                jobs.push(Job {
                    subject: format!("link:{}", link.id),
                    project_id,
                    url: link.url,
                    target: Target::Pypi { api_url },
                });
            }
        }
        Ok(jobs)
    }

    /// Fetches one link and records what came back; returns the outcome and
    /// whether what the API serves about it changed.
    async fn harvest_one(&self, job: Job) -> Result<(LinkOutcome, bool), StoreError> {
        let previous = self
            .store
            .harvest_results(std::slice::from_ref(&job.subject))
            .await?
            .into_iter()
            .next();
        let conditional = Conditional {
            etag: previous.as_ref().and_then(|p| p.etag.as_deref()),
            last_modified: previous.as_ref().and_then(|p| p.last_modified.as_deref()),
        };
        let (status, message, fresh) = match self.fetch(&job.target, conditional).await {
            Harvested::Facts {
                json,
                etag,
                last_modified,
            } => ("OK", None, Some((json, etag, last_modified))),
            Harvested::NotModified => ("NOT_MODIFIED", None, None),
            Harvested::NotFound => (
                "NOT_FOUND",
                Some("the upstream service has no such item".to_owned()),
                None,
            ),
            Harvested::Failed(why) => ("ERROR", Some(why), None),
        };
        let changed = self
            .store
            .record_harvest(&HarvestWrite {
                subject: &job.subject,
                project_id: job.project_id,
                url: &job.url,
                status,
                message: message.as_deref(),
                at: Utc::now(),
                fresh: fresh
                    .as_ref()
                    .map(|(facts, etag, last_modified)| FreshFacts {
                        facts,
                        etag: etag.as_deref(),
                        last_modified: last_modified.as_deref(),
                    }),
            })
            .await?;
        if status == "ERROR" {
            tracing::warn!(subject = %job.subject, url = %job.url, message = ?message, "harvest failed; keeping the last good data");
        }
        Ok((
            LinkOutcome {
                subject: job.subject,
                url: job.url,
                status,
                message,
            },
            changed,
        ))
    }

    /// The facts of one target, or why there are none.
    async fn fetch(&self, target: &Target, conditional: Conditional<'_>) -> Harvested {
        match target {
            Target::Github { owner, name } => {
                let api = &self.endpoints.github_api;
                let forge = ForgeApi {
                    repository: github::repository_url(api, owner, name),
                    release: github::latest_release_url(api, owner, name),
                    publiccode: github::publiccode_url(api, owner, name),
                    token: token(&self.endpoints.github_token, TokenHeader::Bearer),
                    publiccode_file: github::file_content,
                    facts: github::facts,
                };
                self.repository(forge, conditional).await
            }
            Target::Gitlab {
                api,
                owner,
                name,
                ours,
            } => {
                let forge = ForgeApi {
                    repository: gitlab::project_url(api, owner, name),
                    release: gitlab::releases_url(api, owner, name),
                    publiccode: gitlab::publiccode_url(api, owner, name),
                    token: token(&self.endpoints.gitlab_token, TokenHeader::PrivateToken)
                        .filter(|_| *ours),
                    publiccode_file: |raw| Ok(raw.to_owned()),
                    facts: gitlab::facts,
                };
                self.repository(forge, conditional).await
            }
            Target::DataGouv { api_url } => convert(
                self.upstream.get(api_url, conditional, None).await,
                datagouv::facts,
            ),
            Target::Pypi { api_url } => convert(
                self.upstream.get(api_url, conditional, None).await,
                pypi::facts,
            ),
        }
    }
}

/// Where a forge keeps what the harvest reads about one repository.
struct ForgeApi<'a> {
    repository: String,
    release: String,
    publiccode: String,
    token: Option<(&'a str, TokenHeader)>,
    /// The `publiccode.yml` text of the publiccode answer.
    publiccode_file: fn(&str) -> Result<String, String>,
    facts: fn(&str, Option<&str>) -> Result<facts::RepositoryFacts, String>,
}

impl Harvester {
    /// A repository, completed by its latest release and `publiccode.yml`
    /// when it changed.
    async fn repository(&self, forge: ForgeApi<'_>, conditional: Conditional<'_>) -> Harvested {
        let repository = self
            .upstream
            .get(&forge.repository, conditional, forge.token)
            .await;
        if !matches!(repository, Fetched::Fresh { .. }) {
            return with_release(repository, None, None, forge.facts);
        }
        let release = self
            .upstream
            .get(&forge.release, Conditional::default(), forge.token)
            .await;
        let publiccode = self
            .upstream
            .get(&forge.publiccode, Conditional::default(), forge.token)
            .await;
        with_release(
            repository,
            Some(release),
            Some(read_publiccode(publiccode, forge.publiccode_file)),
            forge.facts,
        )
    }
}

/// A token as the client sends it.
fn token(secret: &Option<Secret>, header: TokenHeader) -> Option<(&str, TokenHeader)> {
    secret.as_ref().map(|secret| (secret.expose(), header))
}

/// Harvests a minute or so after start, then every `every_seconds` (0:
/// never), with up to 10% jitter so replicas do not all try at once (one
/// runs; the others find the lease taken and say so).
pub fn schedule(harvester: std::sync::Arc<Harvester>, every_seconds: u64) {
    if every_seconds == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut wait = 60.0;
        loop {
            let jitter = rand::random::<f64>() * 0.1 * wait;
            tokio::time::sleep(Duration::from_secs_f64(wait + jitter)).await;
            wait = every_seconds as f64;
            match harvester.run(None, &|_, _| {}).await {
                Ok(Some(summary)) => tracing::info!(%summary, "harvested the catalogue"),
                Ok(None) => tracing::info!("another replica is harvesting; skipped this run"),
                Err(error) => tracing::error!(%error, "the scheduled harvest failed"),
            }
        }
    });
}

/// What one link's harvest found.
enum Harvested {
    /// The facts, as JSON, and the validators of the answer they came from.
    Facts {
        json: String,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
    NotFound,
    Failed(String),
}

fn to_json<T: serde::Serialize>(facts: &T) -> String {
    serde_json::to_string(facts).expect("facts serialise")
}

/// The facts of an answer that needs no second request.
fn convert<T: serde::Serialize>(
    fetched: Fetched,
    facts: impl Fn(&str) -> Result<T, String>,
) -> Harvested {
    match fetched {
        Fetched::Fresh {
            body,
            etag,
            last_modified,
        } => match facts(&body) {
            Ok(facts) => Harvested::Facts {
                json: to_json(&facts),
                etag,
                last_modified,
            },
            Err(why) => Harvested::Failed(why),
        },
        Fetched::NotModified => Harvested::NotModified,
        Fetched::NotFound => Harvested::NotFound,
        Fetched::Failed(why) => Harvested::Failed(why),
    }
}

/// A repository answer completed by its latest release (a missing release is
/// no error; a failing release request is).
fn with_release(
    repository: Fetched,
    release: Option<Fetched>,
    publiccode: Option<Result<Option<facts::PublicCode>, String>>,
    facts: fn(&str, Option<&str>) -> Result<facts::RepositoryFacts, String>,
) -> Harvested {
    let (body, etag, last_modified) = match repository {
        Fetched::Fresh {
            body,
            etag,
            last_modified,
        } => (body, etag, last_modified),
        Fetched::NotModified => return Harvested::NotModified,
        Fetched::NotFound => return Harvested::NotFound,
        Fetched::Failed(why) => return Harvested::Failed(why),
    };
    let publiccode = match publiccode.transpose() {
        Ok(publiccode) => publiccode.flatten(),
        Err(why) => return Harvested::Failed(why),
    };
    let release = match release {
        Some(Fetched::Fresh { body, .. }) => Some(body),
        Some(Fetched::NotFound | Fetched::NotModified) | None => None,
        Some(Fetched::Failed(why)) => {
            return Harvested::Failed(format!("latest release: {why}"));
        }
    };
    match facts(&body, release.as_deref()) {
        Ok(facts) => Harvested::Facts {
            json: to_json(&facts::RepositoryFacts {
                publiccode,
                ..facts
            }),
            etag,
            last_modified,
        },
        Err(why) => Harvested::Failed(why),
    }
}

/// A repository's `publiccode.yml`: `Ok(None)` when it has none (or an
/// unreadable one, the repository's problem, logged); `Err` when it could
/// not be fetched, so the link fails and keeps its last good facts.
fn read_publiccode(
    fetched: Fetched,
    file: impl Fn(&str) -> Result<String, String>,
) -> Result<Option<facts::PublicCode>, String> {
    let body = match fetched {
        Fetched::Fresh { body, .. } => body,
        Fetched::NotFound | Fetched::NotModified => return Ok(None),
        Fetched::Failed(why) => return Err(format!("publiccode.yml: {why}")),
    };
    match file(&body).and_then(|yaml| publiccode::parse(&yaml)) {
        Ok(publiccode) => Ok(Some(publiccode)),
        Err(why) => {
            tracing::warn!(%why, "ignoring an unreadable publiccode.yml");
            Ok(None)
        }
    }
}
