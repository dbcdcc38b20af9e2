//! `me`: the signed-in agent, as the gateway sees them.

use async_graphql::{Context, Object};

use crate::auth::Agent;
use crate::graphql::execution::context::{principal, store};
use crate::graphql::execution::errors::OrInternal;
use crate::graphql::schema::project::Project;

/// The person behind the request's token.
pub struct Me(Agent);

/// The person signed in, from their token's claims: a public agent, or
/// someone the catalogue's policy does not count as one (`publicAgent`).
#[Object]
impl Me {
    /// Subject identifier at the token's issuer (ProConnect's differs per service).
    async fn sub(&self) -> &str {
        &self.0.sub
    }

    /// Professional email, as the identity provider gives it now.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Given name(s).
    async fn given_name(&self) -> Option<&str> {
        self.0.given_name.as_deref()
    }

    /// Usual family name.
    async fn usual_name(&self) -> Option<&str> {
        self.0.usual_name.as_deref()
    }

    /// Identifier at the identity provider.
    async fn uid(&self) -> Option<&str> {
        self.0.uid.as_deref()
    }

    /// SIRET of the agent's establishment.
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }

    /// SIREN of the agent's organisation, when the token carries it.
    async fn siren(&self) -> Option<&str> {
        self.0.siren.as_deref()
    }

    /// The agent's department, when the token carries it.
    async fn organizational_unit(&self) -> Option<&str> {
        self.0.organizational_unit.as_deref()
    }

    /// The identity provider the agent signed in with.
    async fn idp_id(&self) -> Option<&str> {
        self.0.idp_id.as_deref()
    }

    /// The authentication level of the sign-in, as ProConnect reports it
    /// (eIDAS: `eidas1`, `eidas2`, `eidas3`, `…-mfa`).
    async fn acr(&self) -> Option<&str> {
        self.0.acr.as_deref()
    }

    /// The projects the agent maintains.
    async fn maintainer_of(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Project>> {
        let Some(email) = &self.0.catalogue_email else {
            return Ok(Vec::new());
        };
        let projects = store(ctx)?
            .projects_maintained_by(email)
            .await
            .or_internal()?;
        Ok(projects.into_iter().map(Project).collect())
    }

    /// Whether the agent administers the catalogue.
    async fn is_admin(&self) -> bool {
        self.0.is_admin
    }

    /// Whether the catalogue counts this person as a public agent (its
    /// operator's policy: identity providers, public bodies' SIRETs, email
    /// domains). Someone who is not reads what anyone reads.
    async fn public_agent(&self) -> bool {
        self.0.public_agent.is_some()
    }

    /// The webhooks they registered that were disabled for failing too long
    /// (`CATALOGUE_WEBHOOK_DISABLE_AFTER_SECONDS`): delete and register them
    /// again once their receiver answers.
    async fn webhooks_disabled(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::schema::webhooks::Webhook>> {
        crate::graphql::schema::webhooks::disabled_webhooks(ctx).await
    }

    /// Why this person is not counted as a public agent; null when they are.
    async fn not_public_agent_reason(&self) -> Option<&'static str> {
        self.0
            .public_agent
            .is_none()
            .then(|| crate::auth::agent_policy::why_not(self.0.siret.as_deref()))
    }
}

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The person signed in, public agent or not; null for anonymous
    /// callers. Never cached.
    #[graphql(cache_control(private))]
    async fn me(&self, ctx: &Context<'_>) -> Option<Me> {
        principal(ctx).and_then(|p| p.person()).cloned().map(Me)
    }
}
