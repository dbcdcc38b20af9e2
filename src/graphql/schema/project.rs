//! The `Project` type and the project queries.

use async_graphql::parser::types::SelectionSet;
use async_graphql::{
    Context, ContextSelectionSet, Enum, ID, InputObject, Object, SelectionField, SimpleObject,
};
use chrono::{DateTime, Utc};

use crate::catalogue::{self, RepositoryRole, Season};
use crate::facts::{PublicCode, RepositoryFacts};
use crate::graphql::execution::context::{audience, loader, principal, store};
use crate::graphql::execution::errors::{OrInternal, bad_input};
use crate::graphql::plain::connection::PlainConnection;
use crate::graphql::plain::json::JsonText;
use crate::graphql::plain::{Nested, PlainList, answers_plainly, plain_enum, plain_fields};
use crate::graphql::schema::enums::{
    Access, Confidence, Forge, OrganizationKind, ParticipationRole, ProjectStatus,
};
use crate::graphql::schema::harvest::{PublicCodeInfo, facts_of};
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::link_checks::{DeadLink, LinkCheck, check_of, dead_links_of};
use crate::graphql::schema::links::{Dataset, Link, Repository};
use crate::graphql::schema::loaders::{
    DatasetsOf, LinksOf, MaintainersOf, ParticipationsOf, ProjectBySlug, ProjectChildren,
    RepositoriesOf, SeasonsOf, SourcesOf, TagsOf, UsesOf, children, children_of_project,
    columns_of_all,
};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::paging::{CursorKind, ListTotal, PageArgs, connection, encode_cursor};
use crate::graphql::schema::uses::{Use, UsedByCount};
use crate::store::{
    Columns, DatasetRecord, LinkRecord, OrganizationRecord, ParticipationRecord, ProjectFilter,
    ProjectOrderField, ProjectRecord, RepositoryRecord, SourceRecord, TagRecord,
};

#[derive(Clone)]
pub struct Project(pub ProjectRecord);

impl Project {
    /// The `publiccode.yml` of the project's first main repository that has one.
    async fn publiccode_facts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<PublicCode>> {
        let repositories = loader(ctx)?
            .load_one(RepositoriesOf(self.0.id, Columns::REQUIRED))
            .await
            .or_internal()?
            .unwrap_or_default();
        for repository in repositories
            .iter()
            .filter(|r| r.role == RepositoryRole::Main)
        {
            let facts: Option<RepositoryFacts> =
                facts_of(ctx, format!("repository:{}", repository.id)).await?;
            if let Some(publiccode) = facts.and_then(|f| f.publiccode) {
                return Ok(Some(publiccode));
            }
        }
        Ok(None)
    }
}

/// A project of the programme 10%: what it is, who runs it, and where its
/// code and data live.
#[Object]
impl Project {
    /// Global id (Relay `Node`).
    pub async fn id(&self) -> ID {
        global_id(NodeType::Project, self.0.id)
    }

    /// Stable identifier, used in URLs and catalogue files (e.g. `cartiflette`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the project does, in one or two sentences.
    async fn summary(&self) -> &str {
        &self.0.summary
    }

    /// Longer presentation, in Markdown: the catalogue's, else its main
    /// repository's `publiccode.yml` description; empty when neither has one.
    async fn description(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        if !self.0.description.is_empty() {
            return Ok(self.0.description.clone());
        }
        Ok(self
            .publiccode_facts(ctx)
            .await?
            .and_then(|p| p.long_description.or(p.short_description))
            .unwrap_or_default())
    }

    /// Where the project stands: the catalogue's, else what its main
    /// repository's `publiccode.yml` says (`obsolete` → ARCHIVED, other
    /// statuses → ACTIVE); null when neither says.
    async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProjectStatus>> {
        if let Some(status) = self.0.status {
            return Ok(Some(status.into()));
        }
        Ok(self
            .publiccode_facts(ctx)
            .await?
            .and_then(|p| p.project_status())
            .map(Into::into))
    }

    /// The project's licence (SPDX), from its main repository's `publiccode.yml`.
    async fn license(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(self.publiccode_facts(ctx).await?.and_then(|p| p.license))
    }

    /// What the project's main repository's `publiccode.yml` says (harvested);
    /// null when it has none.
    async fn publiccode(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PublicCodeInfo>> {
        Ok(self.publiccode_facts(ctx).await?.map(PublicCodeInfo))
    }

    /// The programme seasons the project took part in, in increasing order.
    async fn seasons(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<i32>> {
        let mut seasons = children(ctx, SeasonsOf(self.0.id)).await?;
        seasons.sort_unstable();
        Ok(seasons)
    }

    /// The project's own website, when it has one.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// The project's documentation, when it has some.
    async fn documentation(&self) -> Option<&str> {
        self.0.documentation.as_deref()
    }

    /// Whether its website still answers (status UNCHECKED before the first
    /// check); null when it has none.
    async fn website_check(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<LinkCheck>> {
        match &self.0.website {
            Some(url) => Ok(Some(check_of(ctx, url).await?)),
            None => Ok(None),
        }
    }

    /// Whether its documentation still answers (status UNCHECKED before the
    /// first check); null when it has none.
    async fn documentation_check(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<LinkCheck>> {
        match &self.0.documentation {
            Some(url) => Ok(Some(check_of(ctx, url).await?)),
            None => Ok(None),
        }
    }

    /// Its links (website, documentation, datasets, other links) that failed
    /// `CATALOGUE_LINK_CHECK_DEAD_AFTER` checks in a row or more, among those
    /// the caller may read: for its maintainers to mend
    /// (`me { maintainerOf { deadLinks { … } } }`).
    async fn dead_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DeadLink>> {
        dead_links_of(ctx, &self.0).await
    }

    /// Who may read the project.
    async fn visibility(&self) -> Access {
        self.0.visibility.into()
    }

    /// When the project entered the catalogue.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the project's catalogue entry last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Incremented by every change to the entry.
    async fn version(&self) -> i64 {
        self.0.version
    }

    /// Topics, in the catalogue's order.
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Tag>> {
        let tags = children(ctx, TagsOf(self.0.id)).await?;
        Ok(tags.into_iter().map(Tag).collect())
    }

    /// The administrations that run or contribute to the project.
    #[graphql(complexity = "10 * child_complexity")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<PlainList<Participation>> {
        Ok(PlainList(children_of_project(ctx, self.0.id).await?))
    }

    /// Where the project's code lives.
    async fn repositories(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<PlainList<Repository>> {
        Ok(PlainList(children_of_project(ctx, self.0.id).await?))
    }

    /// Where the project's data lives.
    async fn datasets(&self, ctx: &Context<'_>) -> async_graphql::Result<PlainList<Dataset>> {
        Ok(PlainList(children_of_project(ctx, self.0.id).await?))
    }

    /// Other links: documentation, demo, package, video, slides, …
    async fn links(&self, ctx: &Context<'_>) -> async_graphql::Result<PlainList<Link>> {
        Ok(PlainList(children_of_project(ctx, self.0.id).await?))
    }

    /// The organizations that use the project, its repositories or its
    /// datasets, by name (among what the caller may read).
    #[graphql(complexity = "10 * child_complexity")]
    async fn uses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Use>> {
        let uses = children(ctx, UsesOf(self.0.id)).await?;
        Ok(uses.into_iter().map(Use).collect())
    }

    /// How many organizations use it, in all and by kind (among the uses
    /// the caller may read).
    async fn used_by_count(&self, ctx: &Context<'_>) -> async_graphql::Result<UsedByCount> {
        Ok(UsedByCount::of(&children(ctx, UsesOf(self.0.id)).await?))
    }

    /// Who maintains the entry, by email: for signed-in agents only (null
    /// for anonymous callers).
    async fn maintainers(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<String>>> {
        if principal(ctx).and_then(|p| p.agent()).is_none() {
            return Ok(None);
        }
        Ok(Some(children(ctx, MaintainersOf(self.0.id)).await?))
    }

    /// The public documents this entry's facts were read from.
    async fn sources(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Source>> {
        let rows = children(ctx, SourcesOf(self.0.id)).await?;
        Ok(rows.into_iter().map(Source).collect())
    }
}

plain_fields!(Project, |project| {
    "id" => global_id(NodeType::Project, project.0.id).0,
    "slug" => project.0.slug.as_str(),
    "name" => project.0.name.as_str(),
    "summary" => project.0.summary.as_str(),
    "website" => project.0.website.as_deref(),
    "documentation" => project.0.documentation.as_deref(),
    "visibility" => plain_enum(project.0.visibility),
});

impl ProjectChildren for Participation {
    type Key = ParticipationsOf;
    type Record = ParticipationRecord;

    fn keys(fields: &[SelectionField<'_>]) -> impl Fn(i64) -> ParticipationsOf {
        let shown = fields.iter().flat_map(|field| field.selection_set());
        let columns = columns_of_all(shown, Participation::columns_of_field);
        move |id| ParticipationsOf(id, columns)
    }

    fn from_record(record: ParticipationRecord) -> Self {
        Self::from(record)
    }
}

impl ProjectChildren for Repository {
    type Key = RepositoriesOf;
    type Record = RepositoryRecord;

    fn keys(fields: &[SelectionField<'_>]) -> impl Fn(i64) -> RepositoriesOf {
        let shown = fields.iter().flat_map(|field| field.selection_set());
        let columns = columns_of_all(shown, Repository::columns_of_field);
        move |id| RepositoriesOf(id, columns)
    }

    fn from_record(record: RepositoryRecord) -> Self {
        Self(record)
    }
}

impl ProjectChildren for Dataset {
    type Key = DatasetsOf;
    type Record = DatasetRecord;

    fn keys(_: &[SelectionField<'_>]) -> impl Fn(i64) -> DatasetsOf {
        DatasetsOf
    }

    fn from_record(record: DatasetRecord) -> Self {
        Self(record)
    }
}

impl ProjectChildren for Link {
    type Key = LinksOf;
    type Record = LinkRecord;

    fn keys(_: &[SelectionField<'_>]) -> impl Fn(i64) -> LinksOf {
        LinksOf
    }

    fn from_record(record: LinkRecord) -> Self {
        Self(record)
    }
}

pub struct Tag(pub TagRecord);

/// A topic projects are tagged with.
#[Object]
impl Tag {
    /// Stable identifier, for filters (e.g. `apache-superset`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Display label (e.g. `Apache Superset`).
    async fn label(&self) -> &str {
        &self.0.label
    }
}

pub struct Participation {
    role: catalogue::ParticipationRole,
    confidence: catalogue::Confidence,
    note: Option<String>,
    organization: Organization,
}

impl Participation {
    /// The optional columns of its organization the field shows; None for
    /// a field that may read any of them.
    pub(crate) fn columns_of_field(
        field: SelectionField<'_>,
    ) -> Option<Columns<OrganizationRecord>> {
        match field.name() {
            "__typename" | "role" | "confidence" | "note" => Some(Columns::REQUIRED),
            "organization" => Some(columns_of_all(
                field.selection_set(),
                Organization::columns_of_field,
            )),
            _ => None,
        }
    }
}

impl From<ParticipationRecord> for Participation {
    fn from(record: ParticipationRecord) -> Self {
        Self {
            role: record.role,
            confidence: record.confidence,
            note: record.note,
            organization: Organization(record.organization),
        }
    }
}

/// An organization's part in a project.
#[Object]
impl Participation {
    /// Whether the organization leads or contributes.
    async fn role(&self) -> ParticipationRole {
        self.role.into()
    }

    /// The organization.
    async fn organization(&self) -> &Organization {
        &self.organization
    }

    /// How sure the catalogue is that the organization takes this part.
    async fn confidence(&self) -> Confidence {
        self.confidence.into()
    }

    /// Why the catalogue is unsure, or any other remark on this fact.
    async fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

plain_fields!(Participation, |participation| {
    "role" => plain_enum(participation.role),
    "confidence" => plain_enum(participation.confidence),
    "note" => participation.note.as_deref(),
}
    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        name == "organization" && answers_plainly::<Organization>(ctx, set)
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        name == "organization" && nested.answer(&self.organization, out)
    }
);

pub struct Source(pub SourceRecord);

/// A public document a catalogue entry's facts were read from.
#[Object]
impl Source {
    /// What the document is.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Where to read it, when it is online.
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }

    /// When the page was published or read (`YYYY-MM-DD`), for a page not
    /// pinned to a commit.
    async fn date(&self) -> Option<&str> {
        self.0.date.as_deref()
    }
}

/// Which projects to list; every condition given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "ProjectFilter")]
pub struct ProjectFilterInput {
    /// Words found in the name, summary or description (case-insensitive substring).
    text: Option<String>,
    /// Slug of a tag the project carries.
    tag: Option<String>,
    /// Slug of an organization taking part in the project.
    organization: Option<String>,
    /// The project's status.
    status: Option<ProjectStatus>,
    /// A season the project took part in.
    season: Option<i32>,
    /// Only projects with a repository on this forge.
    forge: Option<Forge>,
    /// Only projects with (true) or without (false) a code repository.
    has_code: Option<bool>,
    /// Only projects with (true) or without (false) a dataset.
    has_data: Option<bool>,
    /// Only projects used by such organizations.
    used_by: Option<UsedByFilter>,
}

/// Which organizations must use a project; every condition given must hold.
#[derive(InputObject, Default)]
pub struct UsedByFilter {
    /// At least this many organizations use it (counted among the uses
    /// anyone may read, as `orderBy: {field: USED_BY}` orders).
    at_least: Option<i32>,
    /// An organization of this kind uses it ("what do ministries like mine use").
    organization_kind: Option<OrganizationKind>,
    /// The organization with this slug uses it.
    organization: Option<String>,
}

impl ProjectFilterInput {
    fn parse(self) -> async_graphql::Result<ProjectFilter> {
        let season = self
            .season
            .map(|n| {
                Season::new(i64::from(n)).map_err(|e| bad_input(format!("filter.season: {e}")))
            })
            .transpose()?;
        let used_by = self.used_by.unwrap_or_default();
        if used_by.at_least.is_some_and(|n| n < 0) {
            return Err(bad_input("filter.usedBy.atLeast: must not be negative"));
        }
        Ok(ProjectFilter {
            used_by_at_least: used_by.at_least.map(i64::from),
            used_by_kind: used_by.organization_kind.map(Into::into),
            used_by_organization: used_by.organization,
            text: self.text,
            tag: self.tag,
            organization: self.organization,
            status: self.status.map(Into::into),
            season,
            forge: self.forge.map(Into::into),
            has_code: self.has_code,
            has_data: self.has_data,
        })
    }
}

/// What project lists can be ordered by.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(name = "ProjectOrderField")]
pub enum ProjectOrderFieldInput {
    /// Name, alphabetically (accents and case ignored).
    #[default]
    Name,
    /// When the project entered the catalogue.
    CreatedAt,
    /// When the project's entry last changed.
    UpdatedAt,
    /// How many organizations use it (counted among the uses anyone may read).
    UsedBy,
}

/// Which way an ordering runs.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// How to order a project list (ties are broken by age in the catalogue).
#[derive(InputObject, Default)]
pub struct ProjectOrder {
    /// What to order by (default: name).
    #[graphql(default)]
    field: ProjectOrderFieldInput,
    /// Which way (default: ascending).
    #[graphql(default)]
    direction: OrderDirection,
}

impl ProjectOrder {
    fn field(&self) -> ProjectOrderField {
        match self.field {
            ProjectOrderFieldInput::Name => ProjectOrderField::Name,
            ProjectOrderFieldInput::CreatedAt => ProjectOrderField::CreatedAt,
            ProjectOrderFieldInput::UpdatedAt => ProjectOrderField::UpdatedAt,
            ProjectOrderFieldInput::UsedBy => ProjectOrderField::UsedBy,
        }
    }

    fn cursor_kind(&self) -> CursorKind {
        match self.field {
            ProjectOrderFieldInput::Name => CursorKind::Text,
            ProjectOrderFieldInput::CreatedAt | ProjectOrderFieldInput::UpdatedAt => {
                CursorKind::Time
            }
            ProjectOrderFieldInput::UsedBy => CursorKind::Count,
        }
    }

    /// The name cursors carry, so a cursor is refused by another ordering.
    fn cursor_name(&self) -> String {
        let field = match self.field {
            ProjectOrderFieldInput::Name => "name",
            ProjectOrderFieldInput::CreatedAt => "created",
            ProjectOrderFieldInput::UpdatedAt => "updated",
            ProjectOrderFieldInput::UsedBy => "used-by",
        };
        let direction = if self.direction == OrderDirection::Asc {
            "asc"
        } else {
            "desc"
        };
        format!("projects:{field}:{direction}")
    }
}

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Projects matching `filter`, a page at a time (at most 100 per page).
    #[allow(clippy::too_many_arguments)]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilterInput>,
        order_by: Option<ProjectOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<PlainConnection<Project>> {
        let order = order_by.unwrap_or_default();
        let ordering = order.cursor_name();
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(&ordering, order.cursor_kind())?;
        let filter = filter.unwrap_or_default().parse()?;
        let field = order.field();
        let ascending = order.direction == OrderDirection::Asc;
        let (rows, more) = loader(ctx)?
            .loader()
            .project_page(&filter, field, ascending, &page)
            .await
            .or_internal()?;
        let nodes = rows
            .into_iter()
            .map(|row| {
                (
                    encode_cursor(&ordering, &field.value_of(&row), row.id),
                    Project(row),
                )
            })
            .collect();
        Ok(PlainConnection(connection(
            &page,
            more,
            nodes,
            ListTotal::Projects(filter),
        )))
    }

    /// The project with this slug; null when there is none (or the caller may not see it).
    async fn project(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<Option<Project>> {
        project_by_slug(ctx, &slug).await
    }
}

/// The project with `slug`, as the caller may see it (also federation's
/// entity): through the request's DataLoader, so that the lookups of one
/// request (aliases, `_entities`' representations) share one statement.
pub(crate) async fn project_by_slug(
    ctx: &Context<'_>,
    slug: &str,
) -> async_graphql::Result<Option<Project>> {
    Ok(loader(ctx)?
        .load_one(ProjectBySlug(slug.to_owned()))
        .await
        .or_internal()?
        .map(Project))
}

/// How many projects carry a tag.
#[derive(SimpleObject)]
pub struct TagCount {
    /// The tag.
    tag: Tag,
    /// How many projects the caller may see carry it.
    project_count: i64,
}

#[derive(Default)]
pub struct TagQuery;

#[Object]
impl TagQuery {
    /// Every tag in use, with how many projects carry it; most used first.
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TagCount>> {
        let counts = store(ctx)?.tag_counts(audience(ctx)).await.or_internal()?;
        Ok(counts
            .into_iter()
            .map(|count| TagCount {
                tag: Tag(count.tag),
                project_count: count.projects,
            })
            .collect())
    }
}
