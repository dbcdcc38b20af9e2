//! Whether links still answer, as the last link check found (`LinkCheck`),
//! and the links of a project that failed enough checks in a row to be
//! called dead (`DeadLink`). A check belongs to a URL: every link, dataset
//! or project holding that URL shows the same one, to whoever may read it.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::facts::{self, checks_dataset, checks_link};
use crate::graphql::execution::context::loader;
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::schema::enums::LinkCheckStatus;
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::loaders::{CheckOf, DatasetsOf, LinksOf, children};
use crate::store::{LinkCheckRecord, ProjectRecord};

/// The last check of a URL; `None` before the first.
pub struct LinkCheck(Option<LinkCheckRecord>);

/// One redirect a check followed.
#[derive(SimpleObject)]
pub struct LinkRedirect {
    /// The answer's status (301, 302, 303, 307, 308).
    status: i32,
    /// Where it pointed (made absolute).
    location: String,
}

/// Whether a URL still answers, as its last check found (checks run with
/// each harvest: HEAD, then GET when HEAD is refused, redirects followed).
#[Object]
impl LinkCheck {
    /// What the check found; UNCHECKED before the first.
    async fn status(&self) -> LinkCheckStatus {
        self.0
            .as_ref()
            .map_or(facts::LinkCheckStatus::Unchecked, |check| check.status)
            .into()
    }

    /// The HTTP status of the last answer (after redirects); null when
    /// nothing answered.
    async fn http_status(&self) -> Option<i32> {
        self.0.as_ref()?.http_status.map(i32::from)
    }

    /// The last URL asked: where the redirects led (the URL itself when
    /// none did). For MOVED, where the link went.
    async fn final_url(&self) -> Option<&str> {
        self.0.as_ref()?.final_url.as_deref()
    }

    /// The redirects followed, in order.
    async fn redirects(&self) -> Vec<LinkRedirect> {
        self.0.as_ref().map_or_else(Vec::new, |check| {
            check
                .redirects
                .iter()
                .map(|redirect| LinkRedirect {
                    status: i32::from(redirect.status),
                    location: redirect.location.clone(),
                })
                .collect()
        })
    }

    /// When it was checked.
    async fn checked_at(&self) -> Option<DateTime<Utc>> {
        Some(self.0.as_ref()?.checked_at)
    }

    /// What happened, when it was not a plain 2xx ("HTTP 404 Not Found",
    /// "timed out after 10 s", "TLS: certificate expired", "redirect loop:
    /// back to …", "HEAD answered 405; checked with GET", …).
    async fn message(&self) -> Option<&str> {
        self.0.as_ref()?.message.as_deref()
    }

    /// BROKEN checks in a row, up to the last one (0 unless BROKEN).
    async fn consecutive_failures(&self) -> i32 {
        self.0.as_ref().map_or(0, |check| {
            i32::try_from(check.consecutive_failures).unwrap_or(i32::MAX)
        })
    }

    /// The first of those BROKEN checks.
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.as_ref()?.first_failed_at
    }

    /// When it had failed enough checks in a row to be called dead
    /// (`CATALOGUE_LINK_CHECK_DEAD_AFTER`); null unless dead.
    async fn dead_since(&self) -> Option<DateTime<Utc>> {
        self.0.as_ref()?.flagged_at
    }
}

impl LinkCheck {
    pub fn of(record: Option<LinkCheckRecord>) -> Self {
        Self(record)
    }
}

/// The check of `url`, UNCHECKED when it has none yet.
pub async fn check_of(ctx: &Context<'_>, url: &str) -> async_graphql::Result<LinkCheck> {
    Ok(LinkCheck(
        loader(ctx)?
            .load_one(CheckOf(url.to_owned()))
            .await
            .or_internal()?,
    ))
}

/// Where a checked URL sits in a project.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum CheckedLinkSource {
    /// The project's own website.
    ProjectWebsite,
    /// The project's own documentation.
    ProjectDocumentation,
    /// One of its datasets.
    Dataset,
    /// One of its other links.
    Link,
}

/// A link of a project that failed `CATALOGUE_LINK_CHECK_DEAD_AFTER`
/// checks in a row or more.
pub struct DeadLink {
    url: String,
    title: Option<String>,
    source: CheckedLinkSource,
    /// The dataset's or link's global id.
    id: Option<ID>,
    check: LinkCheckRecord,
}

/// A link of a project that has failed enough checks in a row to be called
/// dead: for its maintainers to mend or remove.
#[Object]
impl DeadLink {
    /// Its URL.
    async fn url(&self) -> &str {
        &self.url
    }

    /// The dataset's or link's title; null for the project's own website and
    /// documentation.
    async fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Where it sits in the project.
    async fn source(&self) -> CheckedLinkSource {
        self.source
    }

    /// The global id of the dataset or link (`removeLink` takes it); null
    /// for the project's own website and documentation.
    async fn link_id(&self) -> Option<&ID> {
        self.id.as_ref()
    }

    /// When it started failing: the first of its BROKEN checks in a row.
    async fn since(&self) -> Option<DateTime<Utc>> {
        self.check.first_failed_at
    }

    /// BROKEN checks in a row.
    async fn consecutive_failures(&self) -> i32 {
        i32::try_from(self.check.consecutive_failures).unwrap_or(i32::MAX)
    }

    /// Its last check.
    async fn check(&self) -> LinkCheck {
        LinkCheck(Some(self.check.clone()))
    }
}

/// The dead links of `project` the caller may read, in the project's order:
/// its website, its documentation, its datasets, its other links.
pub async fn dead_links_of(
    ctx: &Context<'_>,
    project: &ProjectRecord,
) -> async_graphql::Result<Vec<DeadLink>> {
    let mut candidates: Vec<(String, Option<String>, CheckedLinkSource, Option<ID>)> = Vec::new();
    for (url, source) in [
        (&project.website, CheckedLinkSource::ProjectWebsite),
        (
            &project.documentation,
            CheckedLinkSource::ProjectDocumentation,
        ),
    ] {
        if let Some(url) = url {
            candidates.push((url.clone(), None, source, None));
        }
    }
    for dataset in children(ctx, DatasetsOf(project.id)).await? {
        if checks_dataset(dataset.provider) {
            let id = global_id(NodeType::Dataset, dataset.id);
            let source = CheckedLinkSource::Dataset;
            candidates.push((dataset.url, Some(dataset.title), source, Some(id)));
        }
    }
    for link in children(ctx, LinksOf(project.id)).await? {
        if checks_link(link.kind) {
            let id = global_id(NodeType::Link, link.id);
            let source = CheckedLinkSource::Link;
            candidates.push((link.url, Some(link.title), source, Some(id)));
        }
    }
    let checks = loader(ctx)?
        .load_many(candidates.iter().map(|(url, ..)| CheckOf(url.clone())))
        .await
        .or_internal()?;
    Ok(candidates
        .into_iter()
        .filter_map(|(url, title, source, id)| {
            let check = checks
                .get(&CheckOf(url.clone()))
                .filter(|check| check.flagged_at.is_some())?
                .clone();
            Some(DeadLink {
                url,
                title,
                source,
                id,
                check,
            })
        })
        .collect())
}
