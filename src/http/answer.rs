//! Answering one GraphQL request for a known caller: its document (given or
//! persisted), then the response cache, then the schema.

use super::AppState;
use super::persisted::{Refusal, Registration};
use crate::auth::Principal;
use crate::cache::{Scope, cache_key, normalise};
use crate::graphql;

/// Where an answer came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Hit,
    Miss,
    /// Not kept: a mutation, an error, or an answer for one caller only.
    Uncacheable,
}

/// An answer's JSON body, whether it came from the cache, and whether the
/// operation ran (some root field has data: it parsed, validated and did
/// something).
pub struct Answer {
    pub body: Vec<u8>,
    pub freshness: Freshness,
    pub ran: bool,
}

/// Whether some root field of `response` (other than `__typename`) has data.
fn ran(response: &async_graphql::Response) -> bool {
    match &response.data {
        async_graphql::Value::Object(fields) => fields.iter().any(|(name, value)| {
            name.as_str() != "__typename" && *value != async_graphql::Value::Null
        }),
        _ => false,
    }
}

/// A GraphQL error body with a code.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    })
    .to_string()
    .into_bytes()
}

/// The scope whose answers a principal may share.
pub fn scope_of(principal: &Principal) -> Scope {
    match principal {
        Principal::Anonymous => Scope::Public,
        Principal::Agent(_) => Scope::Agents,
    }
}

/// Whether the operation `request` would run is a mutation. A document that
/// does not parse is left to the executor, which reports it with its code.
pub fn selects_mutation(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let is_mutation = |ty: OperationType| ty == OperationType::Mutation;
    match &document.operations {
        DocumentOperations::Single(operation) => is_mutation(operation.node.ty),
        DocumentOperations::Multiple(operations) => match &request.operation_name {
            Some(name) => operations
                .get(name.as_str())
                .is_some_and(|operation| is_mutation(operation.node.ty)),
            None => operations
                .values()
                .any(|operation| is_mutation(operation.node.ty)),
        },
    }
}

/// The document of `request` (persisted queries resolved), and the document
/// to register under its hash once it has run.
pub async fn with_document(
    state: &AppState,
    request: async_graphql::Request,
) -> Result<(async_graphql::Request, Option<Registration>), Refusal> {
    state.persisted.resolve(&state.cache, request).await
}

/// Registers a persisted document only once it has run: a document that
/// does not parse, validate or fit the limits is never stored.
pub async fn register_if_ran(
    state: &AppState,
    registration: Option<Registration>,
    answered: &Answer,
) {
    if let Some(registration) = registration
        && answered.ran
    {
        state.persisted.register(&state.cache, registration).await;
    }
}

/// The answer to `request` (its document resolved) for `principal`.
pub async fn answer(
    state: &AppState,
    principal: Principal,
    request: async_graphql::Request,
) -> Answer {
    let mutation = selects_mutation(&request);
    let key = if mutation || !state.cache_answers {
        None
    } else {
        answer_key(state, &request, scope_of(&principal)).await
    };
    if let Some(key) = &key
        && let Some(body) = state.cache.get(key).await
    {
        state.cache_counters.hit();
        return Answer {
            body,
            freshness: Freshness::Hit,
            ran: true,
        };
    }
    let request = request.data(std::sync::Arc::clone(&state.harvester));
    let response = graphql::execute(&state.schema, request, state.store.clone(), principal).await;
    let ran = ran(&response);
    if mutation && ran {
        // Whatever it changed, answers cached before are out of date.
        state.cache.bump_generation().await;
    }
    let shareable = response.is_ok() && response.cache_control.public;
    let body = serde_json::to_vec(&response).unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialise an answer");
        error_body(
            graphql::code::INTERNAL_SERVER_ERROR,
            "internal error; it has been logged",
        )
    });
    match (key, shareable) {
        (Some(key), true) => {
            state.cache_counters.miss();
            state.cache.put(&key, &body).await;
            Answer {
                body,
                freshness: Freshness::Miss,
                ran,
            }
        }
        _ => Answer {
            body,
            freshness: Freshness::Uncacheable,
            ran,
        },
    }
}

/// The cache key of a read-only request, or `None` when the cache cannot
/// say which generation is current.
async fn answer_key(
    state: &AppState,
    request: &async_graphql::Request,
    scope: Scope,
) -> Option<String> {
    let generation = state.cache.generation().await?;
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    Some(cache_key(
        generation,
        scope,
        request.operation_name.as_deref(),
        &variables,
        &normalise(&request.query),
    ))
}
