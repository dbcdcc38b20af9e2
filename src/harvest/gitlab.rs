//! GitLab's API v4 (gitlab.com and self-hosted instances):
//! `GET /projects/:id?license=true` and `GET /projects/:id/releases?per_page=1`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::facts::{Release, RepositoryFacts};

/// The GitLab instances the harvest may ask: gitlab.com, at the configured
/// API, and the self-hosted ones the administrators named — no other host,
/// whatever its name looks like.
pub struct Instances {
    gitlab_com: String,
    named: Vec<Instance>,
}

/// A named instance: links on its host (and port, when its URL names one)
/// are read from its API.
struct Instance {
    host: url::Host<String>,
    port: Option<u16>,
    api: String,
}

/// Where a GitLab repository is read.
pub enum Api {
    /// gitlab.com: the configured API, with the configured token.
    GitlabCom(String),
    /// A named instance's API (`<base URL>/api/v4`), without a token.
    Named(String),
}

impl Instances {
    pub fn new(gitlab_com_api: &str, named: &[url::Url]) -> Self {
        Self {
            gitlab_com: gitlab_com_api.trim_end_matches('/').to_owned(),
            named: named
                .iter()
                .filter_map(|base| {
                    Some(Instance {
                        host: base.host()?.to_owned(),
                        port: base.port(),
                        api: format!("{}/api/v4", base.as_str().trim_end_matches('/')),
                    })
                })
                .collect(),
        }
    }

    /// The API of the instance hosting `repository_url`; `None` when its host
    /// is not a GitLab the harvest may ask.
    pub fn api_of(&self, repository_url: &url::Url) -> Option<Api> {
        if repository_url.host_str() == Some("gitlab.com") {
            return Some(Api::GitlabCom(self.gitlab_com.clone()));
        }
        self.named_instance(repository_url)
            .map(|instance| Api::Named(instance.api.clone()))
    }

    /// Whether `url` is on an instance the administrators named.
    pub fn is_named(&self, url: &url::Url) -> bool {
        self.named_instance(url).is_some()
    }

    fn named_instance(&self, url: &url::Url) -> Option<&Instance> {
        let host = url.host()?.to_owned();
        let on_host: Vec<&Instance> = self.named.iter().filter(|i| i.host == host).collect();
        on_host
            .iter()
            .find(|i| i.port.is_some() && i.port == url.port())
            .or_else(|| on_host.iter().find(|i| i.port.is_none()))
            .copied()
    }
}

/// `owner/name` URL-encoded, as GitLab's `:id`.
fn project_id(owner: &str, name: &str) -> String {
    url::form_urlencoded::byte_serialize(format!("{owner}/{name}").as_bytes()).collect()
}

pub fn project_url(api: &str, owner: &str, name: &str) -> String {
    format!("{api}/projects/{}?license=true", project_id(owner, name))
}

pub fn publiccode_url(api: &str, owner: &str, name: &str) -> String {
    format!(
        "{api}/projects/{}/repository/files/publiccode.yml/raw",
        project_id(owner, name)
    )
}

pub fn releases_url(api: &str, owner: &str, name: &str) -> String {
    format!(
        "{api}/projects/{}/releases?per_page=1",
        project_id(owner, name)
    )
}

#[derive(Deserialize)]
struct Project {
    description: Option<String>,
    #[serde(default)]
    topics: Vec<String>,
    star_count: Option<i64>,
    forks_count: Option<i64>,
    open_issues_count: Option<i64>,
    default_branch: Option<String>,
    #[serde(default)]
    archived: bool,
    last_activity_at: Option<DateTime<Utc>>,
    license: Option<License>,
}

#[derive(Deserialize)]
struct License {
    key: Option<String>,
}

#[derive(Deserialize)]
struct GitlabRelease {
    tag_name: String,
    released_at: Option<DateTime<Utc>>,
}

pub fn facts(project: &str, releases: Option<&str>) -> Result<RepositoryFacts, String> {
    let project: Project =
        serde_json::from_str(project).map_err(|e| format!("malformed project JSON: {e}"))?;
    let latest_release = match releases {
        Some(body) => serde_json::from_str::<Vec<GitlabRelease>>(body)
            .map_err(|e| format!("malformed releases JSON: {e}"))?
            .into_iter()
            .next()
            .map(|r| Release {
                tag: r.tag_name,
                published_at: r.released_at,
            }),
        None => None,
    };
    Ok(RepositoryFacts {
        description: project.description.filter(|d| !d.is_empty()),
        language: None,
        license: project.license.and_then(|l| l.key),
        topics: project.topics,
        stars: project.star_count,
        forks: project.forks_count,
        open_issues: project.open_issues_count,
        default_branch: project.default_branch,
        archived: project.archived,
        last_activity_at: project.last_activity_at,
        latest_release,
        publiccode: None,
    })
}
