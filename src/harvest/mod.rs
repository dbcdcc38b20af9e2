//! Federation: what the upstream services say about each project's code,
//! data and packages — GitHub, GitLab, data.gouv.fr, PyPI — harvested into
//! the database, and whether the catalogue's other links still answer (link
//! checks), one harvester at a time across replicas.

mod client;
mod datagouv;
pub(crate) mod egress;
mod github;
mod gitlab;
mod link_checks;
mod probe;
mod publiccode;
mod pypi;

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;

use crate::background::BackgroundTasks;
use crate::cache::ResponseCache;
use crate::catalogue::{Audience, DataProvider, Forge, HttpUrl, LinkKind};
use crate::catalogue::{UseKind, UseSource};
use crate::config;
use crate::facts::{self, HarvestStatus};
use crate::store::{
    Columns, FactsWrite, FreshFacts, HarvestScope, HarvestWrite, HarvestedUse, Store, StoreError,
    UseTarget,
};
use client::{Conditional, Failure, Fetched, Limits, Token, TokenHeader, Upstream};
use egress::{Egress, LinkEgress};
pub use link_checks::CheckSummary;
use link_checks::LinkChecker;
use probe::Prober;

/// The lease a harvest holds, renewed while it runs.
const LEASE: &str = "harvest";
const LEASE_TIME: Duration = Duration::from_secs(5 * 60);

/// Holds the lease for one run: renews it every third of its time, gives it
/// back when dropped (also when the run is cancelled, by a dropped request
/// or by shutdown, which waits for it).
struct LeaseGuard {
    store: Store,
    holder: String,
    renewal: tokio::task::JoinHandle<()>,
    tasks: BackgroundTasks,
}

impl LeaseGuard {
    fn hold(tasks: &BackgroundTasks, store: Store, holder: String) -> Self {
        let renewing = (store.clone(), holder.clone());
        let renewal = tasks.spawn(async move {
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
            tasks: tasks.clone(),
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
        self.tasks.spawn_to_end(async move {
            if let Err(error) = store.release_lease(LEASE, &holder).await {
                tracing::warn!(%error, "cannot release the harvest lease; it expires by itself");
            }
        });
    }
}
/// Links harvested at once (each host also has its own limit).
const LINKS_AT_ONCE: usize = 16;

/// Where the upstream services are.
struct Endpoints {
    github_api: String,
    gitlab: gitlab::Instances,
    datagouv_api: String,
    pypi: String,
    github_token: Option<Token>,
    gitlab_token: Option<Token>,
}

/// A harvest's outcome for one link.
#[derive(Debug, Clone)]
pub struct LinkOutcome {
    pub subject: String,
    pub url: String,
    pub status: HarvestStatus,
    pub message: Option<String>,
}

/// What a harvest did.
#[derive(Debug, Default)]
pub struct Summary {
    pub outcomes: Vec<LinkOutcome>,
    /// Links whose facts or harvest status changed (what the API serves).
    pub changed: usize,
    /// What the link checks did, when they run.
    pub checks: Option<CheckSummary>,
}

impl Summary {
    pub fn count(&self, status: HarvestStatus) -> usize {
        self.outcomes.iter().filter(|o| o.status == status).count()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} links: {} OK, {} not modified, {} not found, {} errors, {} not allowed; {} changed",
            self.outcomes.len(),
            self.count(HarvestStatus::Ok),
            self.count(HarvestStatus::NotModified),
            self.count(HarvestStatus::NotFound),
            self.count(HarvestStatus::Error),
            self.count(HarvestStatus::NotAllowed),
            self.changed
        )?;
        match &self.checks {
            Some(checks) => write!(f, "; {checks}"),
            None => Ok(()),
        }
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
        api: gitlab::Api,
        owner: String,
        name: String,
    },
    DataGouv {
        api_url: String,
    },
    /// The reuses of a dataset, by data.gouv.fr's id for it.
    DataGouvReuses {
        first_page: String,
    },
    Pypi {
        api_url: String,
    },
    /// A link the catalogue takes for a forge's, on a host the harvest may
    /// not ask: nothing is fetched.
    NotAllowed(NotAllowed),
}

/// Why a link is not harvested.
enum NotAllowed {
    /// GitHub's API describes github.com repositories only.
    GithubHost,
    /// A host that is neither gitlab.com nor a named instance.
    GitlabHost(String),
}

impl std::fmt::Display for NotAllowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::GithubHost => {
                f.write_str("not allowed: only github.com repositories are read from GitHub's API")
            }
            Self::GitlabHost(host) => write!(
                f,
                "not allowed: `{host}` is not a GitLab instance the administrators named (CATALOGUE_GITLAB_INSTANCES)"
            ),
        }
    }
}

struct Job {
    subject: String,
    project_id: i64,
    url: String,
    target: Target,
    /// The uses its facts say, when they say any.
    uses: Option<HarvestScope>,
}

pub struct Harvester {
    store: Store,
    upstream: Upstream,
    endpoints: Endpoints,
    cache: Option<ResponseCache>,
    holder: String,
    /// Where the lease of a run is renewed and given back.
    tasks: BackgroundTasks,
    /// None when the settings turn link checks off.
    link_checker: Option<LinkChecker>,
    /// Pages of reuses read per dataset.
    reuse_pages: usize,
    /// Organizations read from one `usedBy`.
    used_by_max: usize,
}

impl Harvester {
    pub fn from_config(
        config: &config::Harvest,
        store: Store,
        cache: Option<ResponseCache>,
        tasks: &BackgroundTasks,
    ) -> Result<Self, HarvestError> {
        let url = |name: &str, value: &str| {
            url::Url::parse(value)
                .map_err(|e| HarvestError::Client(format!("{name} `{value}`: {e}")))
        };
        let github_api = url("github_api_url", &config.github_api_url)?;
        let gitlab_api = url("gitlab_api_url", &config.gitlab_api_url)?;
        let datagouv_api = url("datagouv_api_url", &config.datagouv_api_url)?;
        let pypi = url("pypi_url", &config.pypi_url)?;
        let instances = config
            .gitlab_instances
            .iter()
            .map(|instance| url("gitlab_instances", instance))
            .collect::<Result<Vec<_>, _>>()?;
        let egress = Egress::new(
            [&github_api, &gitlab_api, &datagouv_api, &pypi]
                .into_iter()
                .chain(&instances),
        );
        let upstream = Upstream::new(
            egress,
            Limits {
                timeout: Duration::from_secs(config.harvest_timeout_seconds),
                concurrency_per_host: config.harvest_concurrency_per_host,
                max_wait: Duration::from_secs(config.harvest_max_wait_seconds),
                max_body_bytes: config.harvest_max_body_bytes,
            },
        )
        .map_err(|e| HarvestError::Client(e.to_string()))?;
        let link_checker = if config.check_links {
            let trusted = config
                .link_check_trusted_origins
                .iter()
                .map(|origin| url("link_check_trusted_origins", origin))
                .collect::<Result<Vec<_>, _>>()?;
            let prober = Prober::new(
                LinkEgress::new(&trusted),
                upstream.permits(),
                Duration::from_secs(config.harvest_timeout_seconds),
            )
            .map_err(|e| HarvestError::Client(e.to_string()))?;
            Some(LinkChecker::new(
                store.clone(),
                prober,
                config.link_check_dead_after,
            ))
        } else {
            None
        };
        Ok(Self {
            store,
            upstream,
            link_checker,
            reuse_pages: config.datagouv_reuse_pages,
            used_by_max: config.publiccode_used_by_max,
            endpoints: Endpoints {
                github_token: config
                    .github_token
                    .clone()
                    .map(|secret| Token::new(&github_api, TokenHeader::Bearer, secret)),
                gitlab_token: config
                    .gitlab_token
                    .clone()
                    .map(|secret| Token::new(&gitlab_api, TokenHeader::PrivateToken, secret)),
                github_api: config.github_api_url.clone(),
                gitlab: gitlab::Instances::new(&config.gitlab_api_url, &instances),
                datagouv_api: config.datagouv_api_url.clone(),
                pypi: config.pypi_url.clone(),
            },
            cache,
            holder: format!(
                "{}:{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "gateway".into()),
                std::process::id(),
                rand::random::<u32>()
            ),
            tasks: tasks.clone(),
        })
    }

    /// How many link-check runs this process has completed: what others
    /// read of the checks may be older.
    pub fn link_check_runs(&self) -> u64 {
        self.link_checker.as_ref().map_or(0, LinkChecker::runs)
    }

    /// The forge of a repository at `url` when the settings say more than
    /// its host's name: a GitLab instance the administrators named.
    pub fn forge_of(&self, url: &HttpUrl) -> Option<Forge> {
        url::Url::parse(url.as_str())
            .ok()
            .filter(|url| self.endpoints.gitlab.is_named(url))
            .map(|_| Forge::Gitlab)
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
        let lease = LeaseGuard::hold(&self.tasks, self.store.clone(), holder);
        let outcome = self.harvest(slug, progress).await;
        lease.release().await;
        let summary = outcome?;
        let checks_changed = summary.checks.as_ref().map_or(0, |checks| checks.changed);
        if summary.changed + checks_changed > 0
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
        let mut summary = Summary::default();
        let jobs = self.jobs(&project_ids).await?;
        self.run_jobs(jobs, &mut summary, progress).await?;
        // The reuses of a dataset are asked by the id its own harvest gave,
        // so they come after the datasets.
        let reuses = self.reuse_jobs(&project_ids).await?;
        self.run_jobs(reuses, &mut summary, progress).await?;
        summary.outcomes.sort_by(|a, b| a.subject.cmp(&b.subject));
        if let Some(checker) = &self.link_checker {
            let only = slug.map(|_| project_ids.as_slice());
            summary.checks = Some(checker.run(only, progress).await?);
        }
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
            let url = url::Url::parse(&repository.url).ok();
            let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or_default();
            // The host decides which API is asked, if any; the API's address
            // comes from the settings, never from the link.
            let target = match repository.forge {
                Forge::Github if host == "github.com" => Target::Github { owner, name },
                Forge::Github => Target::NotAllowed(NotAllowed::GithubHost),
                Forge::Gitlab => match url.as_ref().and_then(|u| self.endpoints.gitlab.api_of(u)) {
                    Some(api) => Target::Gitlab { api, owner, name },
                    None => Target::NotAllowed(NotAllowed::GitlabHost(host.to_owned())),
                },
                Forge::Other => continue,
            };
            jobs.push(Job {
                subject: format!("repository:{}", repository.id),
                project_id,
                url: repository.url,
                target,
                uses: Some(HarvestScope {
                    project_id,
                    source: UseSource::Publiccode,
                    target: UseTarget::Repository(repository.id),
                }),
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
                    uses: None,
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
                    uses: None,
                });
            }
        }
        Ok(jobs)
    }

    /// Harvests `jobs`, adding what each did to `summary`.
    async fn run_jobs(
        &self,
        jobs: Vec<Job>,
        summary: &mut Summary,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<(), StoreError> {
        let before = summary.outcomes.len();
        let total = before + jobs.len();
        let mut results = futures_util::stream::iter(jobs)
            .map(|job| self.harvest_one(job))
            .buffer_unordered(LINKS_AT_ONCE);
        while let Some(result) = results.next().await {
            let (outcome, changed) = result?;
            summary.changed += usize::from(changed);
            summary.outcomes.push(outcome);
            progress(summary.outcomes.len(), total);
        }
        Ok(())
    }

    /// The reuses to ask data.gouv.fr for: those of each of `project_ids`'
    /// data.gouv.fr datasets whose harvest gave their id.
    async fn reuse_jobs(&self, project_ids: &[i64]) -> Result<Vec<Job>, StoreError> {
        let datasets: Vec<(i64, crate::store::DatasetRecord)> = self
            .store
            .datasets_of_projects(project_ids, Audience::Agents)
            .await?
            .into_iter()
            .filter(|(_, dataset)| dataset.provider == DataProvider::DataGouv)
            .collect();
        let subjects: Vec<String> = datasets
            .iter()
            .map(|(_, dataset)| format!("dataset:{}", dataset.id))
            .collect();
        let ids: std::collections::HashMap<String, String> = self
            .store
            .harvest_results(&subjects)
            .await?
            .into_iter()
            .filter_map(|record| {
                let facts: facts::DatasetFacts =
                    serde_json::from_str(record.facts.as_deref()?).ok()?;
                Some((record.subject, facts.id?))
            })
            .collect();
        Ok(datasets
            .into_iter()
            .filter_map(|(project_id, dataset)| {
                let id = ids.get(&format!("dataset:{}", dataset.id))?;
                Some(Job {
                    subject: format!("reuses:dataset:{}", dataset.id),
                    project_id,
                    url: dataset.url,
                    target: Target::DataGouvReuses {
                        first_page: datagouv::reuses_url(&self.endpoints.datagouv_api, id),
                    },
                    uses: Some(HarvestScope {
                        project_id,
                        source: UseSource::DatagouvReuse,
                        target: UseTarget::Dataset(dataset.id),
                    }),
                })
            })
            .collect())
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
        let harvested = self.fetch(&job.target, conditional).await;
        let (status, message) = match &harvested {
            Harvested::Facts { .. } => (HarvestStatus::Ok, None),
            Harvested::NotModified => (HarvestStatus::NotModified, None),
            Harvested::NotFound => (
                HarvestStatus::NotFound,
                Some("the upstream service has no such item".to_owned()),
            ),
            Harvested::Failed(why) => (HarvestStatus::Error, Some(why.clone())),
            Harvested::NotAllowed(why) => (HarvestStatus::NotAllowed, Some(why.clone())),
        };
        let facts = match &harvested {
            Harvested::Facts {
                json,
                etag,
                last_modified,
            } => FactsWrite::Replace(FreshFacts {
                facts: json,
                etag: etag.as_deref(),
                last_modified: last_modified.as_deref(),
            }),
            // Facts read from a link the harvest may no longer ask are not served.
            Harvested::NotAllowed(_) => FactsWrite::Forget,
            Harvested::NotModified | Harvested::NotFound | Harvested::Failed(_) => FactsWrite::Keep,
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
                facts,
            })
            .await?;
        let uses_changed = match (&harvested, job.uses) {
            (Harvested::Facts { json, .. }, Some(scope)) => {
                let uses = self.uses_of(scope.source, json);
                self.store
                    .replace_harvested_uses(scope, &uses, Utc::now())
                    .await?
            }
            _ => false,
        };
        let changed = changed || uses_changed;
        match status {
            HarvestStatus::Error => {
                tracing::warn!(subject = %job.subject, url = %job.url, message = ?message, "harvest failed; keeping the last good data");
            }
            HarvestStatus::NotAllowed => {
                tracing::info!(subject = %job.subject, url = %job.url, message = ?message, "not harvested");
            }
            HarvestStatus::Ok | HarvestStatus::NotModified | HarvestStatus::NotFound => {}
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

    /// The uses the facts `json` of a `source` give, bounded by the settings.
    fn uses_of(&self, source: UseSource, json: &str) -> Vec<HarvestedUse> {
        match source {
            UseSource::DatagouvReuse => serde_json::from_str::<facts::ReuseFacts>(json)
                .map(|facts| facts.reuses)
                .unwrap_or_default()
                .into_iter()
                .map(|reuse| HarvestedUse {
                    key: reuse.id,
                    organization_name: reuse.organization,
                    organization_id: None,
                    kind: UseKind::User,
                    since: reuse.created_at.map(|at| at.date_naive().to_string()),
                    comment: Some(reuse.title),
                    instance_url: None,
                    source_url: reuse.page,
                })
                .collect(),
            UseSource::Publiccode => serde_json::from_str::<facts::RepositoryFacts>(json)
                .ok()
                .and_then(|facts| facts.publiccode)
                .map(|publiccode| publiccode.used_by)
                .unwrap_or_default()
                .into_iter()
                .take(self.used_by_max)
                .map(|name| HarvestedUse {
                    key: crate::catalogue::folded(&name),
                    organization_name: name,
                    organization_id: None,
                    kind: UseKind::User,
                    since: None,
                    comment: None,
                    instance_url: None,
                    source_url: None,
                })
                .collect(),
            UseSource::Declared | UseSource::Catalogue => Vec::new(),
        }
    }

    /// Every page of a dataset's reuses, up to the settings' bound: the
    /// first asked conditionally (a 304 means nothing changed), the next
    /// ones followed from `next_page`, on data.gouv.fr's API only.
    async fn reuses(&self, first_page: &str, conditional: Conditional<'_>) -> Harvested {
        let api = format!(
            "{}/api/1/reuses/",
            self.endpoints.datagouv_api.trim_end_matches('/')
        );
        let mut reuses = Vec::new();
        let mut validators = None;
        let mut next = Some(first_page.to_owned());
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages == self.reuse_pages {
                tracing::info!(url = %first_page, pages, "more reuses than CATALOGUE_DATAGOUV_REUSE_PAGES pages; the rest are not harvested");
                break;
            }
            if !url.starts_with(&api) {
                return unreadable(&format!("a next page outside the reuses API: {url}"));
            }
            let asked = if pages == 0 {
                conditional
            } else {
                Conditional::default()
            };
            let (body, etag, last_modified) = match self.upstream.get(&url, asked, None).await {
                Fetched::Fresh {
                    body,
                    etag,
                    last_modified,
                } => (body, etag, last_modified),
                Fetched::NotModified if pages == 0 => return Harvested::NotModified,
                Fetched::NotModified => return unreadable("304 to a request without validators"),
                Fetched::NotFound => return Harvested::NotFound,
                Fetched::Failed(why) => return Harvested::Failed(why.to_string()),
            };
            if pages == 0 {
                validators = Some((etag, last_modified));
            }
            pages += 1;
            match datagouv::reuses(&body) {
                Ok((page, next_page)) => {
                    reuses.extend(page);
                    next = next_page;
                }
                Err(why) => return unreadable(&why),
            }
        }
        let (etag, last_modified) = validators.unwrap_or_default();
        Harvested::Facts {
            json: to_json(&facts::ReuseFacts { reuses }),
            etag,
            last_modified,
        }
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
                    token: self.endpoints.github_token.as_ref(),
                    publiccode_file: github::file_content,
                    facts: github::facts,
                };
                self.repository(forge, conditional).await
            }
            Target::Gitlab { api, owner, name } => {
                // The configured token is gitlab.com's; a named instance is asked without one.
                let (api, token) = match api {
                    gitlab::Api::GitlabCom(api) => (api, self.endpoints.gitlab_token.as_ref()),
                    gitlab::Api::Named(api) => (api, None),
                };
                let forge = ForgeApi {
                    repository: gitlab::project_url(api, owner, name),
                    release: gitlab::releases_url(api, owner, name),
                    publiccode: gitlab::publiccode_url(api, owner, name),
                    token,
                    publiccode_file: |raw| Ok(raw.to_owned()),
                    facts: gitlab::facts,
                };
                self.repository(forge, conditional).await
            }
            Target::DataGouv { api_url } => convert(
                self.upstream.get(api_url, conditional, None).await,
                datagouv::facts,
            ),
            Target::DataGouvReuses { first_page } => self.reuses(first_page, conditional).await,
            Target::Pypi { api_url } => convert(
                self.upstream.get(api_url, conditional, None).await,
                pypi::facts,
            ),
            Target::NotAllowed(why) => Harvested::NotAllowed(why.to_string()),
        }
    }
}

/// Where a forge keeps what the harvest reads about one repository.
struct ForgeApi<'a> {
    repository: String,
    release: String,
    publiccode: String,
    token: Option<&'a Token>,
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

/// Harvests a minute or so after start, then every `every_seconds` (0:
/// never), with up to 10% jitter so replicas do not all try at once (one
/// runs; the others find the lease taken and say so). Runs among `tasks`.
pub fn schedule(tasks: &BackgroundTasks, harvester: std::sync::Arc<Harvester>, every_seconds: u64) {
    if every_seconds == 0 {
        return;
    }
    tasks.spawn(async move {
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
    /// Why not, as maintainers are told.
    Failed(String),
    /// The link's host is not one the harvest may ask.
    NotAllowed(String),
}

/// An answer that came back but cannot be read: the detail (which may quote
/// the answer) goes to the log, the link says it could not be fetched.
fn unreadable(why: &str) -> Harvested {
    tracing::warn!(%why, "unreadable upstream answer");
    Harvested::Failed(Failure::Unavailable.to_string())
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
            Err(why) => unreadable(&why),
        },
        Fetched::NotModified => Harvested::NotModified,
        Fetched::NotFound => Harvested::NotFound,
        Fetched::Failed(why) => Harvested::Failed(why.to_string()),
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
        Fetched::Failed(why) => return Harvested::Failed(why.to_string()),
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
        Err(why) => unreadable(&why),
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
