//! GitLab's API v4 (gitlab.com and self-hosted instances):
//! `GET /projects/:id?license=true` and `GET /projects/:id/releases?per_page=1`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::facts::{Release, RepositoryFacts};

/// The API base of the instance hosting `repository_url`: the configured
/// one for gitlab.com, `https://<host>/api/v4` for self-hosted instances.
pub fn api_base(configured_gitlab_com: &str, repository_url: &str) -> Option<String> {
    let parsed = url::Url::parse(repository_url).ok()?;
    let host = parsed.host_str()?;
    Some(if host == "gitlab.com" {
        configured_gitlab_com.trim_end_matches('/').to_owned()
    } else {
        match parsed.port() {
            Some(port) => format!("{}://{host}:{port}/api/v4", parsed.scheme()),
            None => format!("{}://{host}/api/v4", parsed.scheme()),
        }
    })
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
