//! PyPI's JSON API: `GET /pypi/{project}/json`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::facts::PackageFacts;

/// The API URL of a package page URL (`https://pypi.org/project/<name>/`).
pub fn package_url(api: &str, page_url: &str) -> Option<String> {
    let parsed = url::Url::parse(page_url).ok()?;
    if parsed.host_str()? != "pypi.org" {
        return None;
    }
    let mut segments = parsed.path_segments()?;
    (segments.next()? == "project").then_some(())?;
    let name = segments.next().filter(|n| !n.is_empty())?;
    Some(format!("{}/pypi/{name}/json", api.trim_end_matches('/')))
}

#[derive(Deserialize)]
struct Answer {
    info: Info,
    #[serde(default)]
    urls: Vec<File>,
}

#[derive(Deserialize)]
struct Info {
    name: String,
    version: String,
    summary: Option<String>,
    project_urls: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct File {
    upload_time_iso_8601: Option<DateTime<Utc>>,
}

pub fn facts(body: &str) -> Result<PackageFacts, String> {
    let answer: Answer =
        serde_json::from_str(body).map_err(|e| format!("malformed package JSON: {e}"))?;
    Ok(PackageFacts {
        name: answer.info.name,
        version: answer.info.version,
        released_at: answer
            .urls
            .iter()
            .filter_map(|f| f.upload_time_iso_8601)
            .min(),
        summary: answer.info.summary.filter(|s| !s.is_empty()),
        project_urls: answer
            .info
            .project_urls
            .unwrap_or_default()
            .into_iter()
            .collect(),
    })
}
