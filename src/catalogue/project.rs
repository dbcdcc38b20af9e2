//! What the catalogue holds, as read from its files: every field is already
//! parsed into its value type, so a `Catalogue` is valid once built.

use serde::Deserialize;

use super::enums::{
    Access, Confidence, DataProvider, Forge, LinkKind, OrganizationKind, ParticipationRole,
    ProjectStatus, RepositoryRole, UseKind,
};
use super::values::{HttpUrl, Label, Season, Siren, Siret, Slug, ValueError};

fn public() -> Access {
    Access::Public
}

fn main_role() -> RepositoryRole {
    RepositoryRole::Main
}

/// The whole catalogue: organizations, and projects referring to them by slug.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub organizations: Vec<Organization>,
    pub projects: Vec<Project>,
}

/// A public body that runs or contributes to projects.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub slug: Slug,
    pub name: Label,
    pub acronym: Option<Label>,
    pub kind: OrganizationKind,
    pub siret: Option<Siret>,
    pub siren: Option<Siren>,
    pub website: Option<HttpUrl>,
    /// Where its SIRET, SIREN and website were read; required with any of them.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// A project of the programme, with where its code and data live.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub slug: Slug,
    pub name: Label,
    /// One or two sentences.
    pub summary: Label,
    /// Markdown.
    #[serde(default)]
    pub description: String,
    pub status: Option<ProjectStatus>,
    #[serde(default)]
    pub seasons: Vec<Season>,
    pub website: Option<HttpUrl>,
    pub documentation: Option<HttpUrl>,
    #[serde(default = "public")]
    pub visibility: Access,
    #[serde(default)]
    pub tags: Vec<Label>,
    #[serde(default)]
    pub organizations: Vec<Participation>,
    #[serde(default)]
    pub repositories: Vec<CodeLink>,
    #[serde(default)]
    pub datasets: Vec<DataLink>,
    #[serde(default)]
    pub links: Vec<OtherLink>,
    /// Administrations a listed source shows using the project.
    #[serde(default)]
    pub uses: Vec<CatalogueUse>,
    /// Where the facts above were read.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// An organization's part in a project.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participation {
    pub organization: Slug,
    pub role: ParticipationRole,
    #[serde(default)]
    pub confidence: Confidence,
    /// Why the fact is unsure, or any other remark on it.
    pub note: Option<Label>,
}

/// An administration's use of a project, as a catalogue file states it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueUse {
    pub organization: Slug,
    pub kind: UseKind,
    pub since: Option<chrono::NaiveDate>,
    pub comment: Option<Label>,
    /// The instance it runs for others (`deploys`), when public.
    pub instance_url: Option<HttpUrl>,
}

/// A code repository of a project.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "CodeLinkFields")]
pub struct CodeLink {
    pub url: HttpUrl,
    pub forge: Forge,
    /// The account or group that owns the repository (GitLab groups may nest).
    pub owner: Option<String>,
    pub name: Option<String>,
    pub role: RepositoryRole,
    pub language: Option<Label>,
    /// SPDX identifier.
    pub license: Option<Label>,
    pub access: Access,
    pub confidence: Confidence,
    pub note: Option<Label>,
}

/// A code link as written in a catalogue file; the forge, owner and name
/// follow from the URL unless the file says otherwise.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeLinkFields {
    url: HttpUrl,
    forge: Option<Forge>,
    #[serde(default = "main_role")]
    role: RepositoryRole,
    language: Option<Label>,
    license: Option<Label>,
    #[serde(default = "public")]
    access: Access,
    #[serde(default)]
    confidence: Confidence,
    note: Option<Label>,
}

impl TryFrom<CodeLinkFields> for CodeLink {
    type Error = ValueError;

    fn try_from(fields: CodeLinkFields) -> Result<Self, ValueError> {
        let mut link = Self::new(fields.url, fields.forge, fields.role, fields.access)?;
        link.language = fields.language;
        link.license = fields.license;
        link.confidence = fields.confidence;
        link.note = fields.note;
        Ok(link)
    }
}

impl CodeLink {
    /// A code link at `url`; the forge follows from the host unless given,
    /// and the owner and name from the path on GitHub and GitLab.
    pub fn new(
        url: HttpUrl,
        forge: Option<Forge>,
        role: RepositoryRole,
        access: Access,
    ) -> Result<Self, ValueError> {
        let forge = forge.unwrap_or_else(|| forge_of_host(url.host()));
        let (owner, name) = owner_and_name(&url, forge)?;
        Ok(Self {
            url,
            forge,
            owner,
            name,
            role,
            language: None,
            license: None,
            access,
            confidence: Confidence::Confirmed,
            note: None,
        })
    }
}

/// The forge a host's name suggests, to describe the link (its `forge`,
/// owner and name). It decides nothing about fetching: the harvest asks a
/// `gitlab.` host only when the administrators named it as a GitLab instance.
fn forge_of_host(host: &str) -> Forge {
    if host == "github.com" {
        Forge::Github
    } else if host == "gitlab.com" || host.starts_with("gitlab.") {
        Forge::Gitlab
    } else {
        Forge::Other
    }
}

fn owner_and_name(
    url: &HttpUrl,
    forge: Forge,
) -> Result<(Option<String>, Option<String>), ValueError> {
    let segments = url.path_segments();
    match forge {
        Forge::Github => match segments.as_slice() {
            [owner, name] => Ok((
                Some((*owner).to_owned()),
                Some(name.trim_end_matches(".git").to_owned()),
            )),
            _ => Err(ValueError::from(format!(
                "`{}` is not a GitHub repository URL (https://github.com/<owner>/<name>)",
                url.as_str()
            ))),
        },
        Forge::Gitlab => match segments.split_last() {
            Some((name, groups)) if !groups.is_empty() => Ok((
                Some(groups.join("/")),
                Some(name.trim_end_matches(".git").to_owned()),
            )),
            _ => Err(ValueError::from(format!(
                "`{}` is not a GitLab project URL (https://<host>/<group>/<name>)",
                url.as_str()
            ))),
        },
        Forge::Other => Ok((None, None)),
    }
}

/// A dataset of a project.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataLink {
    pub url: HttpUrl,
    pub provider: DataProvider,
    pub title: Label,
    pub description: Option<Label>,
    #[serde(default = "public")]
    pub access: Access,
    #[serde(default)]
    pub confidence: Confidence,
    pub note: Option<Label>,
}

/// Any other link of a project: documentation, demo, package, video, …
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherLink {
    pub url: HttpUrl,
    pub kind: LinkKind,
    pub title: Label,
    #[serde(default = "public")]
    pub access: Access,
    #[serde(default)]
    pub confidence: Confidence,
    pub note: Option<Label>,
}

/// A public document the project's facts were read from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: Label,
    pub url: HttpUrl,
    /// When the page was published or read, for a page not pinned to a commit.
    pub date: Option<chrono::NaiveDate>,
}
