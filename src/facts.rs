//! What upstream sources say about a link, in the shape the gateway keeps
//! (as JSON in `harvest_result.facts`) and serves, how its last harvest went,
//! and whether its URL still answers (link checks).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::{DataProvider, LinkKind, ProjectStatus, vocabulary};

vocabulary! {
    /// How the last harvest of a link went.
    pub HarvestStatus {
        /// The upstream service answered; its facts are current.
        Ok = "OK",
        /// The upstream service said nothing changed since the previous harvest.
        NotModified = "NOT_MODIFIED",
        /// The upstream service failed or could not be reached; the last good facts are kept.
        Error = "ERROR",
        /// The upstream service does not know the link.
        NotFound = "NOT_FOUND",
        /// The link's host is not one the harvest may ask: nothing was
        /// fetched, and no facts are kept for it.
        NotAllowed = "NOT_ALLOWED",
    }
}

vocabulary! {
    /// What the last check of a URL found.
    pub LinkCheckStatus {
        /// Not checked yet (never stored: a URL without a check reads so).
        Unchecked = "UNCHECKED",
        /// It answered 2xx, directly or after temporary redirects.
        Ok = "OK",
        /// It answered 2xx after a permanent redirect (301, 308) from the
        /// URL itself: the catalogue should say where it went.
        Moved = "MOVED",
        /// It answered 4xx or 5xx, or did not answer: no such host,
        /// connection refused, TLS failure, timeout, redirect loop, too many
        /// redirects.
        Broken = "BROKEN",
        /// It, or a redirect, leads to an address the gateway does not
        /// connect to (private, loopback, …) or to a scheme other than
        /// http(s): nothing was asked there.
        NotAllowed = "NOT_ALLOWED",
    }
}

impl LinkCheckStatus {
    /// How bad it is: a project's health is that of its worst checked URL.
    pub fn severity(self) -> u8 {
        match self {
            Self::Unchecked => 0,
            Self::Ok => 1,
            Self::NotAllowed => 2,
            Self::Moved => 3,
            Self::Broken => 4,
        }
    }
}

/// Whether a link of `kind` is checked: every kind but discussion rooms,
/// whose addresses (Tchap's) open only with an account.
pub fn checks_link(kind: LinkKind) -> bool {
    kind != LinkKind::Chat
}

/// Whether a dataset served by `provider` is checked: every one but
/// data.gouv.fr's, which the harvest asks the portal's API about.
pub fn checks_dataset(provider: DataProvider) -> bool {
    provider != DataProvider::DataGouv
}

/// A code repository, from GitHub or GitLab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositoryFacts {
    pub description: Option<String>,
    pub language: Option<String>,
    /// SPDX identifier where the forge gives one.
    pub license: Option<String>,
    pub topics: Vec<String>,
    pub stars: Option<i64>,
    pub forks: Option<i64>,
    pub open_issues: Option<i64>,
    pub default_branch: Option<String>,
    pub archived: bool,
    /// Last push (GitHub) or last activity (GitLab).
    pub last_activity_at: Option<DateTime<Utc>>,
    pub latest_release: Option<Release>,
    /// Its `publiccode.yml`, when it has one.
    #[serde(default)]
    pub publiccode: Option<PublicCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub tag: String,
    pub published_at: Option<DateTime<Utc>>,
}

/// A dataset on data.gouv.fr.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetFacts {
    /// data.gouv.fr's id of the dataset: what its reuses are asked by.
    #[serde(default)]
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub organization: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub resources: Vec<Resource>,
}

/// The reuses data.gouv.fr lists for a dataset, by organizations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReuseFacts {
    pub reuses: Vec<Reuse>,
}

/// One reuse of a dataset on data.gouv.fr.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reuse {
    pub id: String,
    pub title: String,
    /// Its page on data.gouv.fr.
    pub page: Option<String>,
    /// The organization that published it, by name.
    pub organization: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// One file of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub title: Option<String>,
    pub format: Option<String>,
    pub url: String,
    pub size_bytes: Option<i64>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A package on PyPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageFacts {
    pub name: String,
    pub version: String,
    pub released_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    /// (label, URL), as the package declares them.
    pub project_urls: Vec<(String, String)>,
}

/// A repository's `publiccode.yml` (the European standard for public
/// software metadata), as far as the catalogue uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCode {
    pub name: Option<String>,
    /// In French when given, else English, else any language.
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    /// SPDX expression (`legal.license`).
    pub license: Option<String>,
    /// `concept`, `development`, `beta`, `stable` or `obsolete`.
    pub development_status: Option<String>,
    /// `internal`, `contract`, `community` or `none`.
    pub maintenance_type: Option<String>,
    /// Personal data: served to signed-in agents only.
    pub contacts: Vec<Contact>,
    pub categories: Vec<String>,
    /// The organizations `usedBy` names, as written.
    #[serde(default)]
    pub used_by: Vec<String>,
}

impl PublicCode {
    /// The project status its `developmentStatus` stands for: `obsolete` →
    /// ARCHIVED, any other → ACTIVE.
    pub fn project_status(&self) -> Option<ProjectStatus> {
        self.development_status
            .as_deref()
            .map(|status| match status {
                "obsolete" => ProjectStatus::Archived,
                _ => ProjectStatus::Active,
            })
    }
}

/// A maintenance contact of a `publiccode.yml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub affiliation: Option<String>,
}
