//! Who may write what, as field guards: anonymous callers are told to sign
//! in (UNAUTHENTICATED), agents without the right are refused (FORBIDDEN).

use async_graphql::{Context, ErrorExtensions, Guard, ID};

use crate::auth::Agent;
use crate::graphql::execution::context::{principal, store};
use crate::graphql::execution::errors::{OrInternal, code};
use crate::graphql::schema::ids::parse_global_id;

fn coded(message: &str, code: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// The signed-in public agent; UNAUTHENTICATED for anonymous callers,
/// FORBIDDEN (`reason: not_public_agent`) for someone signed in whom the
/// catalogue does not count as a public agent.
pub fn signed_in<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Agent> {
    let principal = principal(ctx);
    if let Some(agent) = principal.and_then(|p| p.agent()) {
        return Ok(agent);
    }
    match principal.and_then(|p| p.person()) {
        Some(person) => Err(async_graphql::Error::new(format!(
            "not a public agent: {}",
            crate::auth::agent_policy::why_not(person.siret.as_deref())
        ))
        .extend_with(|_, e| {
            e.set("code", code::FORBIDDEN);
            e.set("reason", "not_public_agent");
        })),
        None => Err(coded(
            "sign in: send `Authorization: Bearer <token>`",
            code::UNAUTHENTICATED,
        )),
    }
}

/// Catalogue administrators only.
pub struct AdminOnly;

impl Guard for AdminOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        if signed_in(ctx)?.is_admin {
            Ok(())
        } else {
            Err(coded(
                "only catalogue administrators may do this",
                code::FORBIDDEN,
            ))
        }
    }
}

/// Administrators and the maintainers of one project.
pub struct EditorOf(String);

impl EditorOf {
    pub fn project(slug: &str) -> Self {
        Self(slug.to_owned())
    }
}

async fn may_edit(ctx: &Context<'_>, slug: &str) -> async_graphql::Result<()> {
    let agent = signed_in(ctx)?;
    let maintainer = match &agent.catalogue_email {
        Some(email) => store(ctx)?.is_maintainer(slug, email).await.or_internal()?,
        None => false,
    };
    if agent.is_admin || maintainer {
        Ok(())
    } else {
        Err(coded(
            &format!("only the maintainers of `{slug}` and administrators may change it"),
            code::FORBIDDEN,
        ))
    }
}

impl Guard for EditorOf {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        may_edit(ctx, &self.0).await
    }
}

/// Administrators and the maintainers of the project a link belongs to.
pub struct EditorOfLink(ID);

impl EditorOfLink {
    pub fn link(id: &ID) -> Self {
        Self(id.clone())
    }
}

impl Guard for EditorOfLink {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        signed_in(ctx)?;
        let (node_type, row) = parse_global_id(&self.0)?;
        let table = crate::graphql::schema::mutations::link_table(node_type)?;
        match store(ctx)?
            .project_of_link(table, row)
            .await
            .or_internal()?
        {
            Some(slug) => may_edit(ctx, &slug).await,
            None => Err(coded("there is no such link", code::NOT_FOUND)),
        }
    }
}

/// Signed-in public agents only (what only agents may read).
pub struct AgentsOnly;

impl Guard for AgentsOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        signed_in(ctx).map(|_| ())
    }
}

/// The agent's organization, when ProConnect gave their SIRET: FORBIDDEN
/// (`reason: no_siret`) otherwise, since nothing says which administration
/// they speak for.
pub fn agent_siret<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a str> {
    let agent = signed_in(ctx)?;
    agent
        .siret
        .as_deref()
        .map(str::trim)
        .filter(|siret| siret.len() == 14 && siret.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            async_graphql::Error::new(
                "ProConnect gave no SIRET for you: the catalogue cannot tell which administration you speak for",
            )
            .extend_with(|_, e| {
                e.set("code", code::FORBIDDEN);
                e.set("reason", "no_siret");
            })
        })
}

/// Who may withdraw a declared use: an agent of the organization it is
/// declared for, the maintainers of its project and administrators.
pub struct MayWithdrawUse(ID);

impl MayWithdrawUse {
    pub fn of(id: &ID) -> Self {
        Self(id.clone())
    }
}

impl Guard for MayWithdrawUse {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let agent = signed_in(ctx)?;
        let (node_type, row) = parse_global_id(&self.0)?;
        if node_type != crate::graphql::schema::ids::NodeType::Use {
            return Err(crate::graphql::execution::errors::bad_input(
                "id: not the id of a use",
            ));
        }
        let store = store(ctx)?;
        let Some(used) = store.declared_use(row).await.or_internal()? else {
            return Err(coded("there is no such use", code::NOT_FOUND));
        };
        if agent.is_admin {
            return Ok(());
        }
        if let Some(siret) = agent.siret.as_deref()
            && let Some(mine) = store.organization_of_agent(siret).await.or_internal()?
            && used.organization_id == Some(mine.id)
        {
            return Ok(());
        }
        may_edit(ctx, &used.project_slug).await.map_err(|_| {
            coded(
                "only an agent of the organization that declared it, the project's maintainers and administrators may withdraw a use",
                code::FORBIDDEN,
            )
        })
    }
}
