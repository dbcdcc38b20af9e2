//! Writes: each runs in one transaction and leaves an audit entry.

use async_graphql::{
    Context, ErrorExtensions, ID, InputObject, MaybeUndefined, Object, SimpleObject,
};
use chrono::Utc;

use crate::catalogue::{self, CodeLink, DataLink, HttpUrl, Label, OtherLink, Slug};
use crate::graphql::execution::context::{audience, store};
use crate::graphql::execution::errors::{OrInternal, bad_input, code, internal};
use crate::graphql::schema::enums::{
    Access, Confidence, DataProvider, HarvestStatus, LinkKind, ProjectStatus, RepositoryRole,
};
use crate::graphql::schema::guards::{
    AdminOnly, AgentsOnly, EditorOf, EditorOfLink, MayWithdrawUse, agent_siret, signed_in,
};
use crate::graphql::schema::ids::{NodeType, parse_global_id};
use crate::graphql::schema::link_checks::LinkCheck;
use crate::graphql::schema::links::{Dataset, Link, Repository};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::project::Project;
use crate::graphql::schema::uses::{DeclareUseInput, DeclareUsePayload, Use, WithdrawUsePayload};
use crate::harvest::{HarvestError, Harvester};
use crate::store::{
    Actor, Declaration, LinkTable, NewProject, ProjectChanges, UseBounds, UseTarget, WriteError,
};

fn actor(ctx: &Context<'_>) -> async_graphql::Result<Actor> {
    let agent = signed_in(ctx)?;
    Ok(Actor {
        sub: agent.sub.clone(),
        email: agent.email.clone(),
    })
}

fn write_error(error: WriteError) -> async_graphql::Error {
    match error {
        WriteError::Store(error) => internal(&error),
        WriteError::Conflict { .. } => async_graphql::Error::new(error.to_string())
            .extend_with(|_, e| e.set("code", code::CONFLICT)),
        WriteError::ProjectNotFound(_)
        | WriteError::LinkNotFound
        | WriteError::UseNotFound
        | WriteError::OrganizationNotFound(_) => async_graphql::Error::new(error.to_string())
            .extend_with(|_, e| e.set("code", code::NOT_FOUND)),
        WriteError::Invalid { field, .. } => {
            bad_input(error.to_string()).extend_with(|_, e| e.set("field", field))
        }
    }
}

/// A field's value parsed, or BAD_USER_INPUT naming the field.
fn field<T, E: std::fmt::Display>(
    name: &'static str,
    parsed: Result<T, E>,
) -> async_graphql::Result<T> {
    parsed.map_err(|e| bad_input(format!("{name}: {e}")).extend_with(|_, x| x.set("field", name)))
}

/// A link's confidence and note, checked: an unsure link says why.
fn assurance(
    confidence: Confidence,
    note: Option<String>,
) -> async_graphql::Result<(catalogue::Confidence, Option<Label>)> {
    let note = note
        .map(|note| field("input.note", Label::parse(&note)))
        .transpose()?;
    if confidence == Confidence::Unsure && note.is_none() {
        return field(
            "input.note",
            Err("an unsure link says in `note` why it is unsure"),
        );
    }
    Ok((confidence.into(), note))
}

pub(crate) fn link_table(node_type: NodeType) -> async_graphql::Result<LinkTable> {
    match node_type {
        NodeType::Repository => Ok(LinkTable::Repository),
        NodeType::Dataset => Ok(LinkTable::Dataset),
        NodeType::Link => Ok(LinkTable::Link),
        _ => Err(bad_input("id: not the id of a repository, dataset or link")),
    }
}

/// What `refreshProject` did.
#[derive(SimpleObject)]
pub struct RefreshProjectPayload {
    /// Each harvested link, by URL.
    links: Vec<LinkHarvest>,
    /// How many links' facts or harvest status changed.
    changed: i32,
    /// Each URL of the project that was checked, in URL order (empty when
    /// link checks are off).
    checks: Vec<CheckedUrl>,
}

/// One URL's check.
#[derive(SimpleObject)]
pub struct CheckedUrl {
    /// The URL.
    url: String,
    /// What its check found.
    check: LinkCheck,
}

/// One link's harvest.
#[derive(SimpleObject)]
pub struct LinkHarvest {
    /// The link.
    url: String,
    /// How its harvest went.
    status: HarvestStatus,
    /// What went wrong, for ERROR, NOT_FOUND and NOT_ALLOWED.
    message: Option<String>,
}

/// A new project.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// Stable identifier: lowercase words joined by hyphens.
    slug: String,
    /// Display name.
    name: String,
    /// One or two sentences.
    summary: String,
    /// Markdown.
    #[graphql(default)]
    description: String,
    /// Who may read it (default: anyone).
    #[graphql(default_with = "Access::Public")]
    visibility: Access,
}

/// Changes to a project; fields left out stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateProjectInput {
    /// Display name.
    name: Option<String>,
    /// One or two sentences.
    summary: Option<String>,
    /// Markdown.
    description: Option<String>,
    /// Where the project stands; null to say it is unknown.
    status: MaybeUndefined<ProjectStatus>,
    /// Who may read it.
    visibility: Option<Access>,
}

/// A code repository to add to a project.
#[derive(InputObject)]
pub struct AddRepositoryInput {
    /// The project's slug.
    project_slug: String,
    /// Where to browse the code.
    url: String,
    /// What it is to the project (default: its main code).
    #[graphql(default_with = "RepositoryRole::Main")]
    role: RepositoryRole,
    /// Who may read this link (default: anyone).
    #[graphql(default_with = "Access::Public")]
    access: Access,
    /// How sure the maintainer is of it (default: confirmed); an unsure
    /// link says why in `note`.
    #[graphql(default_with = "Confidence::Confirmed")]
    confidence: Confidence,
    /// Why it is unsure, or any other remark on it.
    note: Option<String>,
}

/// A dataset to add to a project.
#[derive(InputObject)]
pub struct AddDatasetInput {
    /// The project's slug.
    project_slug: String,
    /// Where to find the data.
    url: String,
    /// What the data is.
    title: String,
    /// Who serves it (default: other).
    #[graphql(default_with = "DataProvider::Other")]
    provider: DataProvider,
    /// Who may read this link (default: anyone).
    #[graphql(default_with = "Access::Public")]
    access: Access,
    /// How sure the maintainer is of it (default: confirmed); an unsure
    /// link says why in `note`.
    #[graphql(default_with = "Confidence::Confirmed")]
    confidence: Confidence,
    /// Why it is unsure, or any other remark on it.
    note: Option<String>,
}

/// Another link to add to a project.
#[derive(InputObject)]
pub struct AddLinkInput {
    /// The project's slug.
    project_slug: String,
    /// Where it points.
    url: String,
    /// What it points to.
    kind: LinkKind,
    /// What to call it.
    title: String,
    /// Who may read this link (default: anyone).
    #[graphql(default_with = "Access::Public")]
    access: Access,
    /// How sure the maintainer is of it (default: confirmed); an unsure
    /// link says why in `note`.
    #[graphql(default_with = "Confidence::Confirmed")]
    confidence: Confidence,
    /// Why it is unsure, or any other remark on it.
    note: Option<String>,
}

/// The project a write created or changed.
#[derive(SimpleObject)]
pub struct ProjectPayload {
    /// The project as it now stands.
    project: Project,
}

/// The repository added.
#[derive(SimpleObject)]
pub struct AddRepositoryPayload {
    /// The new repository.
    repository: Repository,
}

/// The dataset added.
#[derive(SimpleObject)]
pub struct AddDatasetPayload {
    /// The new dataset.
    dataset: Dataset,
}

/// The link added.
#[derive(SimpleObject)]
pub struct AddLinkPayload {
    /// The new link.
    link: Link,
}

/// What was removed.
#[derive(SimpleObject)]
pub struct RemoveLinkPayload {
    /// The global id of the removed repository, dataset or link.
    removed_id: ID,
}

/// A project's maintainers, as now set.
#[derive(SimpleObject)]
pub struct SetMaintainersPayload {
    /// The maintainers' emails, sorted.
    maintainers: Vec<String>,
}

async fn project_payload(ctx: &Context<'_>, slug: &str) -> async_graphql::Result<ProjectPayload> {
    let project = store(ctx)?
        .project_by_slug(slug, audience(ctx))
        .await
        .or_internal()?
        .ok_or_else(|| write_error(WriteError::ProjectNotFound(slug.to_owned())))?;
    Ok(ProjectPayload {
        project: Project(project),
    })
}

#[derive(Default)]
pub struct CatalogueMutation;

/// Every write: maintainers edit their projects, administrators everything.
/// Each write runs in one transaction and leaves an entry in `auditLog`.
#[Object]
impl CatalogueMutation {
    /// Adds a project to the catalogue (administrators).
    #[graphql(guard = "AdminOnly")]
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> async_graphql::Result<ProjectPayload> {
        let new = NewProject {
            slug: field("input.slug", Slug::parse(&input.slug))?,
            name: field("input.name", Label::parse(&input.name))?,
            summary: field("input.summary", Label::parse(&input.summary))?,
            description: input.description,
            visibility: input.visibility.into(),
        };
        let row = store(ctx)?
            .create_project(&actor(ctx)?, new, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(ProjectPayload {
            project: Project(row),
        })
    }

    /// Changes a project (its maintainers and administrators). `expectedVersion`
    /// is the `version` the change was made from: if someone changed the
    /// project since, nothing is written and the error's code is CONFLICT.
    #[graphql(guard = "EditorOf::project(&slug)")]
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        slug: String,
        input: UpdateProjectInput,
        expected_version: i64,
    ) -> async_graphql::Result<ProjectPayload> {
        let changes = ProjectChanges {
            name: input
                .name
                .map(|n| field("input.name", Label::parse(&n)))
                .transpose()?,
            summary: input
                .summary
                .map(|s| field("input.summary", Label::parse(&s)))
                .transpose()?,
            description: input.description,
            status: match input.status {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(status) => Some(Some(status.into())),
            },
            visibility: input.visibility.map(Into::into),
        };
        store(ctx)?
            .update_project(&actor(ctx)?, &slug, changes, expected_version, Utc::now())
            .await
            .map_err(write_error)?;
        project_payload(ctx, &slug).await
    }

    /// Marks a project archived (its maintainers and administrators); same
    /// `expectedVersion` rule as `updateProject`.
    #[graphql(guard = "EditorOf::project(&slug)")]
    async fn archive_project(
        &self,
        ctx: &Context<'_>,
        slug: String,
        expected_version: i64,
    ) -> async_graphql::Result<ProjectPayload> {
        let changes = ProjectChanges {
            status: Some(Some(catalogue::ProjectStatus::Archived)),
            ..ProjectChanges::default()
        };
        store(ctx)?
            .update_project(&actor(ctx)?, &slug, changes, expected_version, Utc::now())
            .await
            .map_err(write_error)?;
        project_payload(ctx, &slug).await
    }

    /// Harvests a project's code, data and packages from their upstream
    /// services and checks its other links now (its maintainers and
    /// administrators); returns how each went. CONFLICT while another
    /// harvest is running.
    #[graphql(guard = "EditorOf::project(&slug)")]
    async fn refresh_project(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<RefreshProjectPayload> {
        let harvester = ctx.data::<std::sync::Arc<Harvester>>()?;
        let summary = harvester
            .run(Some(&slug), &|_, _| {})
            .await
            .map_err(|error| match error {
                HarvestError::UnknownProject(_) => async_graphql::Error::new(error.to_string())
                    .extend_with(|_, e| e.set("code", code::NOT_FOUND)),
                HarvestError::Store(error) => internal(&error),
                HarvestError::Client(_) => {
                    tracing::error!(%error, "cannot harvest");
                    async_graphql::Error::new("internal error; it has been logged")
                        .extend_with(|_, e| e.set("code", code::INTERNAL_SERVER_ERROR))
                }
            })?
            .ok_or_else(|| {
                async_graphql::Error::new("a harvest is running; try again in a moment")
                    .extend_with(|_, e| e.set("code", code::CONFLICT))
            })?;
        Ok(RefreshProjectPayload {
            links: summary
                .outcomes
                .into_iter()
                .map(|outcome| LinkHarvest {
                    url: outcome.url,
                    status: outcome.status.into(),
                    message: outcome.message,
                })
                .collect(),
            changed: summary.changed as i32,
            checks: summary
                .checks
                .into_iter()
                .flat_map(|checks| checks.checks)
                .map(|check| CheckedUrl {
                    url: check.url.clone(),
                    check: LinkCheck::of(Some(check)),
                })
                .collect(),
        })
    }

    /// Adds a code repository to a project (its maintainers and administrators).
    #[graphql(guard = "EditorOf::project(&input.project_slug)")]
    async fn add_repository(
        &self,
        ctx: &Context<'_>,
        input: AddRepositoryInput,
    ) -> async_graphql::Result<AddRepositoryPayload> {
        let url = field("input.url", HttpUrl::parse(&input.url))?;
        let forge = ctx
            .data_opt::<std::sync::Arc<Harvester>>()
            .and_then(|harvester| harvester.forge_of(&url));
        let mut code = field(
            "input.url",
            CodeLink::new(url, forge, input.role.into(), input.access.into()),
        )?;
        (code.confidence, code.note) = assurance(input.confidence, input.note)?;
        let row = store(ctx)?
            .add_repository(&actor(ctx)?, &input.project_slug, code, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(AddRepositoryPayload {
            repository: Repository(row),
        })
    }

    /// Adds a dataset to a project (its maintainers and administrators).
    #[graphql(guard = "EditorOf::project(&input.project_slug)")]
    async fn add_dataset(
        &self,
        ctx: &Context<'_>,
        input: AddDatasetInput,
    ) -> async_graphql::Result<AddDatasetPayload> {
        let (confidence, note) = assurance(input.confidence, input.note)?;
        let data = DataLink {
            url: field("input.url", HttpUrl::parse(&input.url))?,
            provider: input.provider.into(),
            title: field("input.title", Label::parse(&input.title))?,
            description: None,
            access: input.access.into(),
            confidence,
            note,
        };
        let row = store(ctx)?
            .add_dataset(&actor(ctx)?, &input.project_slug, data, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(AddDatasetPayload {
            dataset: Dataset(row),
        })
    }

    /// Adds another link to a project (its maintainers and administrators).
    #[graphql(guard = "EditorOf::project(&input.project_slug)")]
    async fn add_link(
        &self,
        ctx: &Context<'_>,
        input: AddLinkInput,
    ) -> async_graphql::Result<AddLinkPayload> {
        let (confidence, note) = assurance(input.confidence, input.note)?;
        let other = OtherLink {
            url: field("input.url", HttpUrl::parse(&input.url))?,
            kind: input.kind.into(),
            title: field("input.title", Label::parse(&input.title))?,
            access: input.access.into(),
            confidence,
            note,
        };
        let row = store(ctx)?
            .add_link(&actor(ctx)?, &input.project_slug, other, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(AddLinkPayload { link: Link(row) })
    }

    /// Removes a repository, dataset or other link by its id (the project's
    /// maintainers and administrators).
    #[graphql(guard = "EditorOfLink::link(&id)")]
    async fn remove_link(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<RemoveLinkPayload> {
        let (node_type, row) = parse_global_id(&id)?;
        store(ctx)?
            .remove_link(&actor(ctx)?, link_table(node_type)?, row, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(RemoveLinkPayload { removed_id: id })
    }

    /// Sets who maintains a project, by email (administrators).
    #[graphql(guard = "AdminOnly")]
    async fn set_maintainers(
        &self,
        ctx: &Context<'_>,
        slug: String,
        emails: Vec<String>,
    ) -> async_graphql::Result<SetMaintainersPayload> {
        for (i, email) in emails.iter().enumerate() {
            let email = email.trim();
            let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !well_formed {
                return Err(bad_input(format!(
                    "emails[{i}]: `{email}` is not an email address"
                )));
            }
        }
        let maintainers = store(ctx)?
            .set_maintainers(&actor(ctx)?, &slug, &emails, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(SetMaintainersPayload { maintainers })
    }

    /// Declares that the signed-in agent's own organization (the one of
    /// their ProConnect SIRET: the catalogue's organization with that SIRET
    /// or SIREN) uses a project, or one of its repositories or datasets.
    /// When the catalogue does not have the organization, `organizationName`
    /// adds it, unverified until an administrator confirms it.
    #[graphql(guard = "AgentsOnly")]
    async fn declare_use(
        &self,
        ctx: &Context<'_>,
        input: DeclareUseInput,
    ) -> async_graphql::Result<DeclareUsePayload> {
        let siret = agent_siret(ctx)?.to_owned();
        let target = match &input.on {
            None => UseTarget::Project,
            Some(id) => match parse_global_id(id)? {
                (NodeType::Repository, row) => UseTarget::Repository(row),
                (NodeType::Dataset, row) => UseTarget::Dataset(row),
                _ => return field("input.on", Err("not the id of a repository or dataset")),
            },
        };
        let since = input
            .since
            .map(|since| {
                field(
                    "input.since",
                    chrono::NaiveDate::parse_from_str(&since, "%Y-%m-%d")
                        .map_err(|_| format!("`{since}` is not a date (YYYY-MM-DD)")),
                )
            })
            .transpose()?;
        let comment = input
            .comment
            .map(|comment| field("input.comment", short_comment(&comment)))
            .transpose()?;
        let instance_url = input
            .instance_url
            .map(|url| field("input.instanceUrl", HttpUrl::parse(&url)).map(|u| u.to_string()))
            .transpose()?;
        let organization_name = input
            .organization_name
            .map(|name| field("input.organizationName", Label::parse(&name)).map(|n| n.to_string()))
            .transpose()?;
        let declaration = Declaration {
            project_slug: input.project_slug,
            target,
            kind: input.kind.into(),
            since,
            comment,
            instance_url,
            siret,
            organization_name,
        };
        let bounds = *ctx.data::<UseBounds>()?;
        let store = store(ctx)?;
        let row = store
            .declare_use(&actor(ctx)?, declaration, bounds, Utc::now())
            .await
            .map_err(write_error)?;
        let organization = store
            .organizations_by_ids(&row.organization_id.into_iter().collect::<Vec<_>>())
            .await
            .or_internal()?
            .into_iter()
            .next()
            .ok_or_else(|| write_error(WriteError::UseNotFound))?;
        Ok(DeclareUsePayload {
            declared: Use(row),
            organization: Organization(organization),
        })
    }

    /// Withdraws a declared use (an agent of its organization, the
    /// project's maintainers, administrators: who removes an abusive one).
    #[graphql(guard = "MayWithdrawUse::of(&id)")]
    async fn withdraw_use(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<WithdrawUsePayload> {
        let (_, row) = parse_global_id(&id)?;
        store(ctx)?
            .withdraw_use(&actor(ctx)?, row, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(WithdrawUsePayload { removed_id: id })
    }

    /// Confirms an organization added from an agent's SIRET (administrators).
    #[graphql(guard = "AdminOnly")]
    async fn confirm_organization(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<Organization> {
        let row = store(ctx)?
            .confirm_organization(&actor(ctx)?, &slug, Utc::now())
            .await
            .map_err(write_error)?;
        Ok(Organization(row))
    }
}

/// Most characters of a use's comment: a remark, not a document.
const COMMENT_MAX: usize = 280;

fn short_comment(text: &str) -> Result<String, String> {
    let label = Label::parse(text).map_err(|e| e.to_string())?;
    if label.as_str().chars().count() > COMMENT_MAX {
        return Err(format!("is longer than {COMMENT_MAX} characters"));
    }
    Ok(label.to_string())
}
