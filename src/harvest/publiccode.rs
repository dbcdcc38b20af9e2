//! `publiccode.yml` (https://yml.publiccode.tools/): read from a repository,
//! kept with its facts, and used for project fields the catalogue file
//! leaves empty.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::facts::{Contact, PublicCode};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    name: Option<String>,
    #[serde(default)]
    description: BTreeMap<String, Description>,
    legal: Option<Legal>,
    development_status: Option<String>,
    maintenance: Option<Maintenance>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    used_by: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    short_description: Option<String>,
    long_description: Option<String>,
}

#[derive(Deserialize)]
struct Legal {
    license: Option<String>,
}

#[derive(Deserialize)]
struct Maintenance {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    contacts: Vec<FileContact>,
}

#[derive(Deserialize)]
struct FileContact {
    name: String,
    email: Option<String>,
    affiliation: Option<String>,
}

/// The catalogue's reading of a `publiccode.yml`.
pub fn parse(yaml: &str) -> Result<PublicCode, String> {
    let file: File =
        serde_yaml_ng::from_str(yaml).map_err(|e| format!("malformed publiccode.yml: {e}"))?;
    // French first (the catalogue's language), then English, then any.
    let description = ["fr", "en"]
        .iter()
        .find_map(|language| file.description.get(*language))
        .or_else(|| file.description.values().next());
    Ok(PublicCode {
        name: file.name,
        short_description: description.and_then(|d| d.short_description.clone()),
        long_description: description.and_then(|d| d.long_description.clone()),
        license: file.legal.and_then(|l| l.license),
        development_status: file.development_status,
        maintenance_type: file.maintenance.as_ref().and_then(|m| m.kind.clone()),
        contacts: file
            .maintenance
            .map(|m| m.contacts)
            .unwrap_or_default()
            .into_iter()
            .map(|c| Contact {
                name: c.name,
                email: c.email,
                affiliation: c.affiliation,
            })
            .collect(),
        categories: file.categories,
        used_by: file
            .used_by
            .into_iter()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .collect(),
    })
}
