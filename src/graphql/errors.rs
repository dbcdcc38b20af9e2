//! Errors as clients see them: a message and a fixed `extensions.code`.
//! Internal detail goes to the log, never to the client.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    ErrorExtensions, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use crate::store::StoreError;

/// The codes in `extensions.code`; clients may match on them.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const OPERATION_RESOLUTION_FAILURE: &str = "OPERATION_RESOLUTION_FAILURE";
    pub const OPERATION_LIMIT_EXCEEDED: &str = "OPERATION_LIMIT_EXCEEDED";
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    pub const PERSISTED_QUERY_NOT_ALLOWED: &str = "PERSISTED_QUERY_NOT_ALLOWED";
    pub const PERSISTED_QUERY_HASH_MISMATCH: &str = "PERSISTED_QUERY_HASH_MISMATCH";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
}

const INTERNAL_MESSAGE: &str = "internal error; it has been logged";

/// A request the caller can fix.
pub fn bad_input(message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code::BAD_USER_INPUT))
}

/// A failure of ours: logged in full, reported without detail.
pub fn internal(error: &dyn std::fmt::Display) -> async_graphql::Error {
    tracing::error!(%error, "failed while answering a query");
    async_graphql::Error::new(INTERNAL_MESSAGE)
        .extend_with(|_, e| e.set("code", code::INTERNAL_SERVER_ERROR))
}

/// `?` on storage results inside resolvers: logs and hides the detail.
pub trait OrInternal<T> {
    fn or_internal(self) -> async_graphql::Result<T>;
}

impl<T> OrInternal<T> for Result<T, StoreError> {
    fn or_internal(self) -> async_graphql::Result<T> {
        self.map_err(|error| internal(&error))
    }
}

impl<T> OrInternal<T> for Result<T, crate::search::SearchError> {
    fn or_internal(self) -> async_graphql::Result<T> {
        self.map_err(|error| internal(&error))
    }
}

/// The same, for DataLoader results (whose errors are shared).
impl<T> OrInternal<T> for Result<T, Arc<StoreError>> {
    fn or_internal(self) -> async_graphql::Result<T> {
        self.map_err(|error| internal(&error))
    }
}

/// `error` with `code`, unless it already has one.
pub(super) fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

/// Gives every error a code: parse and validation errors theirs, and any
/// error a resolver raised without one is treated as ours (logged, hidden).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    /// What is left without a code failed between validation and execution:
    /// choosing the operation to run (missing or unknown `operationName`).
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|error| with_code(error, code::OPERATION_RESOLUTION_FAILURE))
            .collect();
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, code::GRAPHQL_PARSE_FAILED))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| {
                    let code = if super::limits::is_depth_or_complexity(&error) {
                        code::OPERATION_LIMIT_EXCEEDED
                    } else {
                        code::GRAPHQL_VALIDATION_FAILED
                    };
                    with_code(error, code)
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for error in &mut response.errors {
            let coded = error
                .extensions
                .as_ref()
                .is_some_and(|e| e.get("code").is_some());
            if !coded {
                tracing::error!(message = %error.message, path = ?error.path, "uncoded resolver error");
                error.message = INTERNAL_MESSAGE.to_owned();
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::INTERNAL_SERVER_ERROR);
            }
        }
        response
    }
}
