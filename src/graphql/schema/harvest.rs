//! What upstream services last said about a link, as the API serves it.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::facts;
use crate::graphql::execution::context::{loader, principal};
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::schema::enums::HarvestStatus;
use crate::graphql::schema::loaders::HarvestOf;
use crate::store::HarvestRecord;

/// The last harvest of a link.
#[derive(SimpleObject)]
pub struct Harvest {
    /// How it went.
    pub status: HarvestStatus,
    /// When it ran.
    pub at: DateTime<Utc>,
    /// What went wrong, for ERROR, NOT_FOUND and NOT_ALLOWED.
    pub message: Option<String>,
    /// When the harvested facts last changed.
    pub changed_at: Option<DateTime<Utc>>,
}

impl Harvest {
    pub fn of(record: &HarvestRecord) -> Self {
        Self {
            status: record.status.into(),
            at: record.harvested_at,
            message: record.message.clone(),
            changed_at: record.facts_changed_at,
        }
    }
}

/// A release of a repository.
#[derive(SimpleObject)]
pub struct Release {
    /// Its tag, e.g. `v1.2.3`.
    pub tag: String,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
}

impl From<facts::Release> for Release {
    fn from(release: facts::Release) -> Self {
        Self {
            tag: release.tag,
            published_at: release.published_at,
        }
    }
}

/// A file of a dataset, as its portal lists it.
#[derive(SimpleObject)]
pub struct DatasetResource {
    /// Its name on the portal.
    pub title: Option<String>,
    /// Its format, as the portal says (`csv`, `json`, `pdf`, …).
    pub format: Option<String>,
    /// Where to download it.
    pub url: String,
    /// Its size, when the portal knows it.
    pub size_bytes: Option<i64>,
    /// When it last changed, as the portal says.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<facts::Resource> for DatasetResource {
    fn from(resource: facts::Resource) -> Self {
        Self {
            title: resource.title,
            format: resource.format,
            url: resource.url,
            size_bytes: resource.size_bytes,
            updated_at: resource.updated_at,
        }
    }
}

/// The latest release of a package, as its registry lists it.
#[derive(SimpleObject)]
pub struct PackageRelease {
    /// The package's name on its registry.
    pub name: String,
    /// Its latest version.
    pub version: String,
    /// When that version was uploaded.
    pub released_at: Option<DateTime<Utc>>,
    /// The package's one-line summary.
    pub summary: Option<String>,
}

impl From<facts::PackageFacts> for PackageRelease {
    fn from(package: facts::PackageFacts) -> Self {
        Self {
            name: package.name,
            version: package.version,
            released_at: package.released_at,
            summary: package.summary,
        }
    }
}

/// A project's `publiccode.yml`, as its main repository publishes it.
pub struct PublicCodeInfo(pub facts::PublicCode);

/// A maintenance contact of a `publiccode.yml`.
#[derive(SimpleObject)]
pub struct PublicCodeContact {
    /// Their name.
    pub name: String,
    /// Their email, when given.
    pub email: Option<String>,
    /// Their organization, when given.
    pub affiliation: Option<String>,
}

/// What a project's `publiccode.yml` says.
#[Object]
impl PublicCodeInfo {
    /// The software's name.
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// Short description (French when given, else English, else any language).
    async fn short_description(&self) -> Option<&str> {
        self.0.short_description.as_deref()
    }

    /// Long description, same language choice.
    async fn long_description(&self) -> Option<&str> {
        self.0.long_description.as_deref()
    }

    /// Licence (SPDX expression).
    async fn license(&self) -> Option<&str> {
        self.0.license.as_deref()
    }

    /// `concept`, `development`, `beta`, `stable` or `obsolete`.
    async fn development_status(&self) -> Option<&str> {
        self.0.development_status.as_deref()
    }

    /// `internal`, `contract`, `community` or `none`.
    async fn maintenance_type(&self) -> Option<&str> {
        self.0.maintenance_type.as_deref()
    }

    /// Categories from the publiccode.yml vocabulary.
    async fn categories(&self) -> &[String] {
        &self.0.categories
    }

    /// Maintenance contacts: for signed-in agents only (null for anonymous callers).
    async fn contacts(&self, ctx: &Context<'_>) -> Option<Vec<PublicCodeContact>> {
        principal(ctx).and_then(|p| p.agent())?;
        Some(
            self.0
                .contacts
                .iter()
                .map(|c| PublicCodeContact {
                    name: c.name.clone(),
                    email: c.email.clone(),
                    affiliation: c.affiliation.clone(),
                })
                .collect(),
        )
    }
}

/// The last harvest of `subject`, if any.
pub async fn harvest_of(
    ctx: &Context<'_>,
    subject: String,
) -> async_graphql::Result<Option<HarvestRecord>> {
    loader(ctx)?
        .load_one(HarvestOf(subject))
        .await
        .or_internal()
}

/// The last good facts of `subject`, if any.
pub async fn facts_of<T: DeserializeOwned>(
    ctx: &Context<'_>,
    subject: String,
) -> async_graphql::Result<Option<T>> {
    Ok(harvest_of(ctx, subject).await?.as_ref().and_then(facts_in))
}

/// The last good facts `record` holds, if any (an unreadable one is logged).
pub fn facts_in<T: DeserializeOwned>(record: &HarvestRecord) -> Option<T> {
    record.facts.as_deref().and_then(|json| {
        serde_json::from_str(json)
            .inspect_err(|error| tracing::error!(%error, subject = %record.subject, "unreadable harvested facts"))
            .ok()
    })
}
