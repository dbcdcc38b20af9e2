//! Errors as clients see them: a message and a fixed `extensions.code`.
//! Internal detail goes to the log, never to the client.

use std::sync::Arc;

use async_graphql::{ErrorExtensions, Response, ServerError};

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
    /// In an answer's `extensions.persistedQuery`: the document ran but is not kept.
    pub const PERSISTED_QUERY_LIMIT_EXCEEDED: &str = "PERSISTED_QUERY_LIMIT_EXCEEDED";
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
pub(crate) fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

/// The codes of a request refused before execution.
const REFUSED_BEFORE_EXECUTION: [&str; 5] = [
    code::GRAPHQL_PARSE_FAILED,
    code::GRAPHQL_VALIDATION_FAILED,
    code::OPERATION_LIMIT_EXCEEDED,
    code::INTROSPECTION_DISABLED,
    code::OPERATION_RESOLUTION_FAILURE,
];

/// Whether `response` refused its request before executing it (it did not
/// parse, validate or fit the limits): the GraphQL spec then leaves `data`
/// out, and GraphQL over HTTP answers such a request with 400 to clients
/// that accept `application/graphql-response+json`.
pub fn refused_before_execution(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| {
            error.path.is_empty()
                && error
                    .extensions
                    .as_ref()
                    .and_then(|extensions| extensions.get("code"))
                    .is_some_and(|code| {
                        matches!(code, async_graphql::Value::String(code)
                            if REFUSED_BEFORE_EXECUTION.contains(&code.as_str()))
                    })
        })
}

/// Whether an error is async-graphql's complexity limit (the depth is
/// limited before validation, by `DocumentLimits`).
fn is_complexity(error: &ServerError) -> bool {
    error.message == "Query is too complex."
}

/// Whether an error is one async-graphql raises while resolving
/// federation's `_entities` (without a path).
fn is_entities_error(error: &ServerError) -> bool {
    matches!(
        error.message.as_str(),
        "Entity not found." | "\"__typename\" must be an existing string."
    )
}

/// Whether an error says which operation to run is unclear (missing or
/// unknown `operationName`).
fn is_operation_resolution(error: &ServerError) -> bool {
    error.message.starts_with("Unknown operation named ")
        || error.message == "Operation name required in request."
}

/// Gives every error of an executed request a code, once it has run: an
/// error raised while executing (in a field, or anywhere once there is
/// data) without one is treated as ours (logged, hidden); an error before
/// execution (validation, recursion and other limits, the choice of
/// operation) gets the code of its kind.
///
/// Done on the response rather than by an async-graphql extension: any
/// extension sends every field through the slow path of the executor
/// (a registry lookup and boxed futures per field).
pub(crate) fn give_codes(response: &mut Response) {
    // Execution answers an object; it answers null only when a non-null
    // root field failed, with an error that has a path, except federation's
    // `_entities`, whose errors have none.
    let executed = response.data != async_graphql::Value::Null;
    for error in &mut response.errors {
        if error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        let code = if executed || !error.path.is_empty() || is_entities_error(error) {
            tracing::error!(message = %error.message, path = ?error.path, "uncoded resolver error");
            error.message = INTERNAL_MESSAGE.to_owned();
            code::INTERNAL_SERVER_ERROR
        } else if is_complexity(error) {
            code::OPERATION_LIMIT_EXCEEDED
        } else if is_operation_resolution(error) {
            code::OPERATION_RESOLUTION_FAILURE
        } else if error
            .message
            .starts_with("The recursion depth of the query")
        {
            code::GRAPHQL_PARSE_FAILED
        } else {
            code::GRAPHQL_VALIDATION_FAILED
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}
