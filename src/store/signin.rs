//! What sign-in needs to share between replicas: the gateway's signing keys
//! and the sign-in attempts in flight. Opaque strings to this module, but
//! for the mode of an attempt.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::entities::{person_binding, project_maintainer, signin_attempt, signing_key};
use super::records::decode;
use super::{Store, StoreError};
use crate::catalogue::vocabulary;

/// One of the gateway's signing keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    /// The PKCS#8 PEM, or its encryption.
    pub private_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

vocabulary! {
    /// What an attempt is for, and how its sign-in hands the token back.
    pub SigninMode {
        /// In the fragment of the portal's URL (the default).
        Fragment = "fragment",
        /// In a cookie, for same-site portals.
        Cookie = "cookie",
        /// A logout on the way back from the provider, not a sign-in.
        Logout = "logout",
    }
}

/// A sign-in that went to the provider and has not come back yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninAttempt {
    pub state_hash: String,
    pub nonce: String,
    pub code_verifier: String,
    pub redirect: String,
    pub mode: SigninMode,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Every signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        Ok(signing_key::Entity::find()
            .order_by_desc(signing_key::Column::CreatedAt)
            .order_by_desc(signing_key::Column::Kid)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| StoredSigningKey {
                kid: row.kid,
                private_key: row.private_key_pem,
                created_at: row.created_at,
                retired_at: row.retired_at,
            })
            .collect())
    }

    /// Makes `key` the signing key and retires the keys in use before it, in
    /// one transaction. A key stored before (even retired) is put back in use.
    pub async fn add_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        use sea_orm::TransactionTrait;
        use sea_orm::sea_query::{Expr, OnConflict};
        let txn = self.db.begin().await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::RetiredAt, Expr::value(key.created_at))
            .filter(signing_key::Column::RetiredAt.is_null())
            .filter(signing_key::Column::Kid.ne(key.kid.as_str()))
            .exec(&txn)
            .await?;
        signing_key::Entity::insert(signing_key::ActiveModel {
            kid: Set(key.kid.clone()),
            private_key_pem: Set(key.private_key.clone()),
            created_at: Set(key.created_at),
            retired_at: Set(None),
        })
        .on_conflict(
            OnConflict::column(signing_key::Column::Kid)
                .update_columns([
                    signing_key::Column::CreatedAt,
                    signing_key::Column::RetiredAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Replaces the stored private key of `kid` by `to` if it is still
    /// `from`; whether it was (of replicas doing it at once, one does).
    pub async fn replace_signing_key(
        &self,
        kid: &str,
        from: &str,
        to: &str,
    ) -> Result<bool, StoreError> {
        use sea_orm::sea_query::Expr;
        Ok(signing_key::Entity::update_many()
            .col_expr(signing_key::Column::PrivateKeyPem, Expr::value(to))
            .filter(signing_key::Column::Kid.eq(kid))
            .filter(signing_key::Column::PrivateKeyPem.eq(from))
            .exec(&self.db)
            .await?
            .rows_affected
            == 1)
    }

    /// Deletes keys retired before `before`: no token they signed is still valid.
    pub async fn delete_signing_keys_retired_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(signing_key::Entity::delete_many()
            .filter(signing_key::Column::RetiredAt.lt(before))
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    /// Records a sign-in attempt, and forgets the expired ones.
    pub async fn save_signin_attempt(&self, attempt: &SigninAttempt) -> Result<(), StoreError> {
        signin_attempt::Entity::delete_many()
            .filter(signin_attempt::Column::ExpiresAt.lt(Utc::now()))
            .exec(&self.db)
            .await?;
        signin_attempt::Entity::insert(signin_attempt::ActiveModel {
            state_hash: Set(attempt.state_hash.clone()),
            nonce: Set(attempt.nonce.clone()),
            code_verifier: Set(attempt.code_verifier.clone()),
            redirect: Set(attempt.redirect.clone()),
            mode: Set(attempt.mode.as_db().to_owned()),
            expires_at: Set(attempt.expires_at),
        })
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// The unexpired attempt with this state hash, removed so that it can be
    /// completed once only: of two concurrent callers, one gets it.
    pub async fn take_signin_attempt(
        &self,
        state_hash: &str,
    ) -> Result<Option<SigninAttempt>, StoreError> {
        let Some(row) = signin_attempt::Entity::find_by_id(state_hash.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let deleted = signin_attempt::Entity::delete_by_id(state_hash.to_owned())
            .exec(&self.db)
            .await?
            .rows_affected;
        if deleted != 1 || row.expires_at <= Utc::now() {
            return Ok(None);
        }
        Ok(Some(SigninAttempt {
            state_hash: row.state_hash,
            nonce: row.nonce,
            code_verifier: row.code_verifier,
            redirect: row.redirect,
            mode: decode("signin_attempt.mode", &row.mode, SigninMode::from_db)?,
            expires_at: row.expires_at,
        }))
    }
}

impl Store {
    /// The email the ProConnect subject `sub` was bound to, if it was.
    pub async fn bound_email(&self, sub: &str) -> Result<Option<String>, StoreError> {
        Ok(person_binding::Entity::find()
            .filter(person_binding::Column::Sub.eq(sub))
            .one(&self.db)
            .await?
            .map(|row| row.email))
    }

    /// The subject the email `email` was bound to, if it was.
    pub async fn bound_sub(&self, email: &str) -> Result<Option<String>, StoreError> {
        Ok(person_binding::Entity::find_by_id(email.to_lowercase())
            .one(&self.db)
            .await?
            .map(|row| row.sub))
    }

    /// Binds `email` to `sub`, unless either is bound already (the first
    /// sign-in wins); whether this call bound them.
    pub async fn bind_person(
        &self,
        email: &str,
        sub: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        use sea_orm::sea_query::OnConflict;
        let inserted = person_binding::Entity::insert(person_binding::ActiveModel {
            email: Set(email.to_lowercase()),
            sub: Set(sub.to_owned()),
            bound_at: Set(at),
        })
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(&self.db)
        .await?;
        Ok(inserted > 0)
    }

    /// Whether `email` names a maintainer of some project.
    pub async fn names_a_maintainer(&self, email: &str) -> Result<bool, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(project_maintainer::Entity::find()
            .filter(project_maintainer::Column::Email.eq(email.to_lowercase()))
            .count(&self.db)
            .await?
            > 0)
    }
}
