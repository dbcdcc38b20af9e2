//! GitHub's REST API: `GET /repos/{owner}/{repo}` and
//! `GET /repos/{owner}/{repo}/releases/latest`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::facts::{Release, RepositoryFacts};

pub fn repository_url(api: &str, owner: &str, name: &str) -> String {
    format!("{}/repos/{owner}/{name}", api.trim_end_matches('/'))
}

pub fn publiccode_url(api: &str, owner: &str, name: &str) -> String {
    format!(
        "{}/contents/publiccode.yml",
        repository_url(api, owner, name)
    )
}

/// The file of a contents-API answer (`content`, base64 with line breaks).
pub fn file_content(body: &str) -> Result<String, String> {
    use base64::Engine;
    #[derive(Deserialize)]
    struct Contents {
        content: String,
        encoding: String,
    }
    let contents: Contents =
        serde_json::from_str(body).map_err(|e| format!("malformed contents JSON: {e}"))?;
    if contents.encoding != "base64" {
        return Err(format!("unexpected encoding `{}`", contents.encoding));
    }
    let compact: String = contents.content.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("malformed base64 content: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_owned())
}

pub fn latest_release_url(api: &str, owner: &str, name: &str) -> String {
    format!("{}/releases/latest", repository_url(api, owner, name))
}

#[derive(Deserialize)]
struct Repo {
    description: Option<String>,
    language: Option<String>,
    license: Option<License>,
    #[serde(default)]
    topics: Vec<String>,
    stargazers_count: Option<i64>,
    forks_count: Option<i64>,
    open_issues_count: Option<i64>,
    default_branch: Option<String>,
    #[serde(default)]
    archived: bool,
    pushed_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct License {
    spdx_id: Option<String>,
}

#[derive(Deserialize)]
struct LatestRelease {
    tag_name: String,
    published_at: Option<DateTime<Utc>>,
}

/// The facts of a repository answer; `release` is the latest-release answer.
pub fn facts(repo: &str, release: Option<&str>) -> Result<RepositoryFacts, String> {
    let repo: Repo =
        serde_json::from_str(repo).map_err(|e| format!("malformed repository JSON: {e}"))?;
    let latest_release = match release {
        Some(body) => {
            let release: LatestRelease =
                serde_json::from_str(body).map_err(|e| format!("malformed release JSON: {e}"))?;
            Some(Release {
                tag: release.tag_name,
                published_at: release.published_at,
            })
        }
        None => None,
    };
    Ok(RepositoryFacts {
        description: repo.description,
        language: repo.language,
        // GitHub says NOASSERTION for a licence it cannot name.
        license: repo
            .license
            .and_then(|l| l.spdx_id)
            .filter(|id| id != "NOASSERTION"),
        topics: repo.topics,
        stars: repo.stargazers_count,
        forks: repo.forks_count,
        open_issues: repo.open_issues_count,
        default_branch: repo.default_branch,
        archived: repo.archived,
        last_activity_at: repo.pushed_at,
        latest_release,
        publiccode: None,
    })
}
