//! Recognising the people the catalogue names. Maintainers and
//! administrators are named by email before they ever sign in; at their
//! first ProConnect sign-in through the gateway the email is bound to
//! ProConnect's `sub` (stable for the gateway's client), and afterwards the
//! `sub` recognises them: an email changed at their identity provider keeps
//! their rights, and someone else given their old email does not get them.

use std::collections::HashSet;

use super::token::Claims;
use crate::store::Store;

pub struct People {
    store: Store,
}

impl People {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The email by which the catalogue knows the person `claims` describe
    /// after a ProConnect sign-in (what maintainers and administrators are
    /// named by), binding it to their `sub` when it names someone and is not
    /// bound yet; `None` when their email is bound to someone else.
    pub async fn recognise(&self, claims: &Claims, admins: &HashSet<String>) -> Option<String> {
        match self.recognised(claims, admins).await {
            Ok(email) => email,
            Err(error) => {
                tracing::error!(%error, "cannot read or write who the catalogue names");
                None
            }
        }
    }

    async fn recognised(
        &self,
        claims: &Claims,
        admins: &HashSet<String>,
    ) -> Result<Option<String>, crate::store::StoreError> {
        if let Some(bound) = self.store.bound_email(&claims.sub).await? {
            return Ok(Some(bound));
        }
        let Some(email) = claims.email.as_deref().map(|e| e.trim().to_lowercase()) else {
            return Ok(None);
        };
        match self.store.bound_sub(&email).await? {
            Some(other) => Ok((other == claims.sub).then_some(email)),
            None => {
                let named =
                    admins.contains(&email) || self.store.names_a_maintainer(&email).await?;
                if named
                    && !self
                        .store
                        .bind_person(&email, &claims.sub, chrono::Utc::now())
                        .await?
                {
                    // Bound by a sign-in running beside this one: the first one won.
                    let winner = self.store.bound_sub(&email).await?;
                    return Ok((winner.as_deref() == Some(claims.sub.as_str())).then_some(email));
                }
                Ok(Some(email))
            }
        }
    }
}
