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
    /// The replica is still building its search index: retry shortly.
    pub const SEARCH_NOT_READY: &str = "SEARCH_NOT_READY";
    /// The journal cannot say what changed since the caller's cursor: read the lists again.
    pub const RESYNC_REQUIRED: &str = "RESYNC_REQUIRED";
    /// A bound on what one principal may keep (webhooks…) is reached.
    pub const LIMIT_EXCEEDED: &str = "LIMIT_EXCEEDED";
    /// Too many subscriptions for one client, or a subscriber too far behind.
    pub const SUBSCRIPTION_LIMIT_EXCEEDED: &str = "SUBSCRIPTION_LIMIT_EXCEEDED";
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
        self.map_err(|error| match error {
            crate::search::SearchError::NotReady => async_graphql::Error::new(
                "this replica is still building its search index: try again in a few seconds",
            )
            .extend_with(|_, e| e.set("code", code::SEARCH_NOT_READY)),
            error => internal(&error),
        })
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

/// What async-graphql refused a request for, or failed at outside any
/// field, in an error without a code. Everything the gateway raises itself
/// (parse errors, the document limits and nesting, resolvers' errors) has
/// its code where it is raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bare {
    /// The complexity limit.
    TooComplex,
    /// A missing or unknown `operationName`.
    UnclearOperation,
    /// Federation's `_entities` could not look a representation up.
    EntityLookup,
    /// Any other: one of the validation rules, whose messages vary.
    Invalid,
}

/// The only reading of async-graphql's messages. async-graphql 7 raises
/// these as bare `ServerError`s (no source, no extensions, no kind) from
/// code it keeps private (validation, `prepare_request`, the entity lookup),
/// and an extension hooking its phases would slow every field down (see
/// [`give_codes`]): their text is all there is to tell them apart.
/// `async_graphql_still_says_what_is_read_here` pins each message, so an
/// upgrade that rewords one fails that test rather than changing a code.
fn bare(error: &ServerError) -> Bare {
    match error.message.as_str() {
        "Query is too complex." => Bare::TooComplex,
        "Operation name required in request." => Bare::UnclearOperation,
        message if message.starts_with("Unknown operation named ") => Bare::UnclearOperation,
        "Entity not found." | "\"__typename\" must be an existing string." => Bare::EntityLookup,
        _ => Bare::Invalid,
    }
}

/// Gives every error of an executed request a code, once it has run: an
/// error raised while executing (in a field, or anywhere once there is
/// data) without one is treated as ours (logged, hidden); an error before
/// execution (validation, the complexity limit, the choice of operation)
/// gets the code of its kind.
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
        let failed = executed || !error.path.is_empty();
        let code = match (failed, bare(error)) {
            (true, _) | (false, Bare::EntityLookup) => {
                tracing::error!(message = %error.message, path = ?error.path, "uncoded resolver error");
                error.message = INTERNAL_MESSAGE.to_owned();
                code::INTERNAL_SERVER_ERROR
            }
            (false, Bare::TooComplex) => code::OPERATION_LIMIT_EXCEEDED,
            (false, Bare::UnclearOperation) => code::OPERATION_RESOLUTION_FAILURE,
            (false, Bare::Invalid) => code::GRAPHQL_VALIDATION_FAILED,
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{
        EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, Variables,
    };
    use serde_json::json;

    use super::*;

    #[derive(SimpleObject)]
    struct Thing {
        id: i32,
    }

    struct Query;

    #[Object]
    impl Query {
        async fn n(&self) -> i32 {
            1
        }

        #[graphql(entity)]
        async fn thing_by_id(&self, id: i32) -> Thing {
            Thing { id }
        }
    }

    const ENTITIES: &str =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { id } } }";

    /// Each error async-graphql gives without a code, as it words it today.
    #[tokio::test]
    async fn async_graphql_still_says_what_is_read_here() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .limit_complexity(2)
            .finish();
        let cases = [
            ("{ a: n b: n c: n }", None, json!({}), Bare::TooComplex),
            (
                "query A { n } query B { n }",
                None,
                json!({}),
                Bare::UnclearOperation,
            ),
            (
                "query A { n }",
                Some("B"),
                json!({}),
                Bare::UnclearOperation,
            ),
            (
                ENTITIES,
                None,
                json!({"r": [{"__typename": "Nope"}]}),
                Bare::EntityLookup,
            ),
            (
                ENTITIES,
                None,
                json!({"r": [{"id": 1}]}),
                Bare::EntityLookup,
            ),
            ("{ nope }", None, json!({}), Bare::Invalid),
        ];
        for (query, operation, variables, expected) in cases {
            let mut request =
                async_graphql::Request::new(query).variables(Variables::from_json(variables));
            if let Some(operation) = operation {
                request = request.operation_name(operation);
            }
            let response = schema.execute(request).await;
            assert_eq!(response.data, async_graphql::Value::Null, "{query}");
            let [error] = response.errors.as_slice() else {
                panic!("{query}: {:?}", response.errors);
            };
            assert!(error.path.is_empty(), "{query}: {error:?}");
            assert_eq!(bare(error), expected, "{query}: {}", error.message);
        }
        // A representation found is no error.
        let found = schema
            .execute(
                async_graphql::Request::new(ENTITIES).variables(Variables::from_json(
                    json!({"r": [{"__typename": "Thing", "id": 1}]}),
                )),
            )
            .await;
        assert!(found.errors.is_empty(), "{:?}", found.errors);
    }

    #[test]
    fn errors_of_executed_requests_are_internal_and_refusals_have_their_kind() {
        let bare_error = |message: &str| ServerError::new(message, None);
        let mut refused = Response::from_errors(vec![
            bare_error("Query is too complex."),
            bare_error("Unknown operation named \"B\""),
            bare_error("Entity not found."),
            bare_error("Unknown field \"nope\" on type \"Query\"."),
        ]);
        give_codes(&mut refused);
        let codes: Vec<_> = refused
            .errors
            .iter()
            .map(|error| {
                error
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get("code"))
                    .cloned()
            })
            .collect();
        let expected = [
            code::OPERATION_LIMIT_EXCEEDED,
            code::OPERATION_RESOLUTION_FAILURE,
            code::INTERNAL_SERVER_ERROR,
            code::GRAPHQL_VALIDATION_FAILED,
        ]
        .map(|code| Some(async_graphql::Value::from(code)));
        assert_eq!(codes, expected);
        assert_eq!(refused.errors[2].message, INTERNAL_MESSAGE);

        let mut executed = Response::new(async_graphql::Value::from_json(json!({"n": 1})).unwrap());
        executed.errors = vec![bare_error("Query is too complex.")];
        give_codes(&mut executed);
        assert_eq!(executed.errors[0].message, INTERNAL_MESSAGE);
    }
}
