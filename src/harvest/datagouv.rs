//! data.gouv.fr's API: `GET /api/1/datasets/{id-or-slug}/`.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::facts::{DatasetFacts, Resource};

/// The API URL of a dataset page URL (`…/fr/datasets/<slug>/` or `…/datasets/<slug>`).
pub fn dataset_url(api: &str, page_url: &str) -> Option<String> {
    let parsed = url::Url::parse(page_url).ok()?;
    let mut segments = parsed.path_segments()?;
    let slug = loop {
        match segments.next()? {
            "datasets" => break segments.next()?,
            _ => continue,
        }
    };
    // `/datasets/r/<id>` is a resource permalink, not a dataset.
    (!slug.is_empty() && slug != "r")
        .then(|| format!("{}/api/1/datasets/{slug}/", api.trim_end_matches('/')))
}

#[derive(Deserialize)]
struct Dataset {
    title: Option<String>,
    description: Option<String>,
    license: Option<String>,
    organization: Option<Organization>,
    last_update: Option<String>,
    #[serde(default)]
    resources: Vec<DatasetResource>,
}

#[derive(Deserialize)]
struct Organization {
    name: Option<String>,
}

#[derive(Deserialize)]
struct DatasetResource {
    title: Option<String>,
    format: Option<String>,
    url: String,
    filesize: Option<i64>,
    last_modified: Option<String>,
}

/// data.gouv.fr writes dates with or without an offset.
fn date(text: Option<String>) -> Option<DateTime<Utc>> {
    let text = text?;
    DateTime::parse_from_rfc3339(&text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|d| d.and_utc())
        })
}

pub fn facts(body: &str) -> Result<DatasetFacts, String> {
    let dataset: Dataset =
        serde_json::from_str(body).map_err(|e| format!("malformed dataset JSON: {e}"))?;
    Ok(DatasetFacts {
        title: dataset.title,
        description: dataset.description,
        license: dataset.license,
        organization: dataset.organization.and_then(|o| o.name),
        updated_at: date(dataset.last_update),
        resources: dataset
            .resources
            .into_iter()
            .map(|r| Resource {
                title: r.title,
                format: r.format,
                url: r.url,
                size_bytes: r.filesize,
                updated_at: date(r.last_modified),
            })
            .collect(),
    })
}
