//! data.gouv.fr's API: `GET /api/1/datasets/{id-or-slug}/`, and the reuses
//! of a dataset, `GET /api/1/reuses/?dataset={id}`, a page at a time.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::facts::{DatasetFacts, Resource, Reuse};

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

/// The first page of the reuses of the dataset data.gouv.fr knows as `id`.
pub fn reuses_url(api: &str, id: &str) -> String {
    let mut url = format!("{}/api/1/reuses/", api.trim_end_matches('/'));
    url.push_str("?dataset=");
    url.extend(url::form_urlencoded::byte_serialize(id.as_bytes()));
    url
}

/// One page of reuses: `{"data": […], "next_page": …, "page": 1, "page_size": 20, "total": N}`.
#[derive(Deserialize)]
struct ReusePage {
    data: Vec<ReuseItem>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct ReuseItem {
    id: String,
    title: String,
    page: Option<String>,
    created_at: Option<String>,
    /// Reuses published by a person have an `owner` instead: not an
    /// administration's use (and a person's name is not for the catalogue).
    organization: Option<Organization>,
}

/// The reuses of one page, by organizations, and the next page's URL.
pub fn reuses(body: &str) -> Result<(Vec<Reuse>, Option<String>), String> {
    let page: ReusePage =
        serde_json::from_str(body).map_err(|e| format!("malformed reuses JSON: {e}"))?;
    let reuses = page
        .data
        .into_iter()
        .filter_map(|reuse| {
            let organization = reuse.organization?.name?;
            Some(Reuse {
                id: reuse.id,
                title: reuse.title,
                page: reuse.page,
                organization,
                created_at: date(reuse.created_at),
            })
        })
        .collect();
    Ok((reuses, page.next_page))
}

#[derive(Deserialize)]
struct Dataset {
    id: Option<String>,
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
        id: dataset.id,
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
