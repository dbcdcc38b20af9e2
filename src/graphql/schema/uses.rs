//! Who uses what: the `Use` type, the counts of users, and the inputs and
//! payloads of `declareUse`, `withdrawUse` and `confirmOrganization`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::execution::context::loader;
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::schema::enums::{UseKind, UseSource};
use crate::graphql::schema::guards::AgentsOnly;
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::loaders::{OrganizationById, ProjectById};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::project::Project;
use crate::store::{UseCounts, UseRecord};

pub struct Use(pub UseRecord);

/// An organization's use of a project, or of one of its repositories or datasets.
#[Object]
impl Use {
    /// Its id (to withdraw it).
    async fn id(&self) -> ID {
        global_id(NodeType::Use, self.0.id)
    }

    /// The project used.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        Ok(loader(ctx)?
            .load_one(ProjectById(self.0.project_id))
            .await
            .or_internal()?
            .map(Project))
    }

    /// The repository used, when the use names one (its global id).
    async fn repository_id(&self) -> Option<ID> {
        self.0
            .repository_id
            .map(|id| global_id(NodeType::Repository, id))
    }

    /// The dataset used, when the use names one (its global id).
    async fn dataset_id(&self) -> Option<ID> {
        self.0.dataset_id.map(|id| global_id(NodeType::Dataset, id))
    }

    /// The organization, when the catalogue knows it (null for one a
    /// harvested source names that the catalogue does not have).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(OrganizationById(id))
            .await
            .or_internal()?
            .map(Organization))
    }

    /// The organization's name: the catalogue's, else as its source gives it.
    async fn organization_name(&self) -> &str {
        &self.0.organization_name
    }

    /// How it uses the project.
    async fn kind(&self) -> UseKind {
        self.0.kind.into()
    }

    /// The instance it runs for others (DEPLOYS), when public.
    async fn instance_url(&self) -> Option<&str> {
        self.0.instance_url.as_deref()
    }

    /// Since when (`YYYY-MM-DD`), when known.
    async fn since(&self) -> Option<&str> {
        self.0.since.as_deref()
    }

    /// A short public remark by whoever declared it.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// Where the fact comes from.
    async fn source(&self) -> UseSource {
        self.0.source.into()
    }

    /// Where to read it upstream (the data.gouv.fr reuse, the repository
    /// whose `publiccode.yml` names it).
    async fn source_url(&self) -> Option<&str> {
        self.0.source_url.as_deref()
    }

    /// When the catalogue learnt of it.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The email of the agent who declared it (signed-in agents only; null
    /// for a harvested use).
    #[graphql(guard = "AgentsOnly", cache_control(private))]
    async fn declared_by(&self) -> Option<&str> {
        self.0.declared_by_email.as_deref()
    }
}

/// How many organizations use something: each counts once in `total`,
/// and once under each kind of use it has.
#[derive(SimpleObject)]
pub struct UsedByCount {
    /// Organizations using it in any way.
    total: i64,
    /// Organizations running or using it.
    user: i64,
    /// Organizations contributing back.
    contributor: i64,
    /// Organizations answering others' questions about it.
    referent: i64,
    /// Organizations running an instance for others.
    deploys: i64,
}

impl UsedByCount {
    pub fn of(uses: &[UseRecord]) -> Self {
        let counts = UseCounts::of(uses);
        Self {
            total: counts.total,
            user: counts.of_kind(crate::catalogue::UseKind::User),
            contributor: counts.of_kind(crate::catalogue::UseKind::Contributor),
            referent: counts.of_kind(crate::catalogue::UseKind::Referent),
            deploys: counts.of_kind(crate::catalogue::UseKind::Deploys),
        }
    }
}

/// A use to declare for the signed-in agent's own organization (the one
/// of their ProConnect SIRET).
#[derive(InputObject)]
pub struct DeclareUseInput {
    /// The project's slug.
    pub project_slug: String,
    /// The id of one of its repositories or datasets, to declare a use of
    /// that one only (default: the whole project).
    pub on: Option<ID>,
    /// How the organization uses it (default: USER).
    #[graphql(default_with = "UseKind::User")]
    pub kind: UseKind,
    /// Since when (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// A short public remark (at most 280 characters).
    pub comment: Option<String>,
    /// The instance the organization runs for others (DEPLOYS), when public.
    pub instance_url: Option<String>,
    /// The organization's name, needed only when the catalogue does not
    /// have it yet: it is then added, unverified until an administrator
    /// confirms it.
    pub organization_name: Option<String>,
}

/// The use declared.
#[derive(SimpleObject)]
pub struct DeclareUsePayload {
    /// The new use.
    #[graphql(name = "use")]
    pub declared: Use,
    /// The organization it was declared for.
    pub organization: Organization,
}

/// What `withdrawUse` removed.
#[derive(SimpleObject)]
pub struct WithdrawUsePayload {
    /// The id of the use withdrawn.
    pub removed_id: ID,
}
