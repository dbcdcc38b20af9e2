//! The `Organization` type and the organization queries.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};

use crate::graphql::execution::context::{loader, store};
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::plain::{PlainList, plain_enum, plain_fields};
use crate::graphql::schema::enums::OrganizationKind;
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::loaders::{
    OrganizationBySlug, OrganizationSourcesOf, ProjectsOf, UsesByOrganization, children,
};
use crate::graphql::schema::paging::{CursorKind, ListTotal, PageArgs, connection, encode_cursor};
use crate::graphql::schema::project::{Project, Source};
use crate::graphql::schema::uses::Use;
use crate::store::OrganizationRecord;

const ORDERING: &str = "organizations:name:asc";

#[derive(Clone)]
pub struct Organization(pub OrganizationRecord);

/// A public body that runs or contributes to projects.
#[Object]
impl Organization {
    /// Global id (Relay `Node`).
    pub async fn id(&self) -> ID {
        global_id(NodeType::Organization, self.0.id)
    }

    /// Stable identifier (e.g. `insee`).
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Usual acronym, when it has one (e.g. `DINUM`).
    async fn acronym(&self) -> Option<&str> {
        self.0.acronym.as_deref()
    }

    /// What kind of public body it is.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }

    /// SIRET of the establishment, when the catalogue records it.
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }

    /// SIREN of the legal unit, when the catalogue records it.
    async fn siren(&self) -> Option<&str> {
        self.0.siren.as_deref()
    }

    /// Official website, when the catalogue records it.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }

    /// Whether the catalogue vouches for it: false for an organization
    /// added from an agent's SIRET, until an administrator confirms it.
    async fn verified(&self) -> bool {
        self.0.verified
    }

    /// What it uses (projects, repositories, datasets), among what the
    /// caller may read.
    #[graphql(complexity = "10 * child_complexity")]
    async fn uses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Use>> {
        let rows = children(ctx, UsesByOrganization(self.0.id)).await?;
        Ok(rows.into_iter().map(Use).collect())
    }

    /// The projects it takes part in that the caller may see, by name.
    #[graphql(complexity = "10 * child_complexity")]
    async fn projects(&self, ctx: &Context<'_>) -> async_graphql::Result<PlainList<Project>> {
        let rows = children(ctx, ProjectsOf(self.0.id)).await?;
        Ok(PlainList(rows.into_iter().map(Project).collect()))
    }

    /// The public documents its SIRET, SIREN and website were read from.
    async fn sources(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Source>> {
        let rows = children(ctx, OrganizationSourcesOf(self.0.id)).await?;
        Ok(rows.into_iter().map(Source).collect())
    }
}

plain_fields!(Organization, columns of OrganizationRecord, |organization| {
    "id" => global_id(NodeType::Organization, organization.0.id).0,
    "slug" => organization.0.slug.as_str(),
    "name" => organization.0.name.as_str(),
    "acronym" reads ACRONYM => organization.0.acronym.as_deref(),
    "kind" => plain_enum(organization.0.kind),
    "siret" reads SIRET => organization.0.siret.as_deref(),
    "siren" reads SIREN => organization.0.siren.as_deref(),
    "website" reads WEBSITE => organization.0.website.as_deref(),
});

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// All organizations, by name, a page at a time (at most 100 per page).
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Connection<String, Organization, ListTotal, EmptyFields>> {
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(ORDERING, CursorKind::Text)?;
        let (rows, more) = store(ctx)?.organization_page(&page).await.or_internal()?;
        let nodes = rows
            .into_iter()
            .map(|row| {
                (
                    encode_cursor(ORDERING, &row.sort_value(), row.id),
                    Organization(row),
                )
            })
            .collect();
        Ok(connection(&page, more, nodes, ListTotal::Organizations))
    }

    /// The organization with this slug; null when there is none.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        slug: String,
    ) -> async_graphql::Result<Option<Organization>> {
        organization_by_slug(ctx, &slug).await
    }
}

/// The organization with `slug` (also federation's entity), through the
/// request's DataLoader like a project by slug.
pub(crate) async fn organization_by_slug(
    ctx: &Context<'_>,
    slug: &str,
) -> async_graphql::Result<Option<Organization>> {
    Ok(loader(ctx)?
        .load_one(OrganizationBySlug(slug.to_owned()))
        .await
        .or_internal()?
        .map(Organization))
}
