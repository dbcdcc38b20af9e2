//! Answering one GraphQL request for a known caller: its document (given or
//! persisted), then the response cache, then the schema.

use bytes::Bytes;

use super::AppState;
use super::persisted::{Refusal, Registration};
use crate::auth::Principal;
use crate::cache::{Lookup, cache_key, normalise};
use crate::catalogue::Audience;
use crate::graphql;

/// Where an answer came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Hit,
    Miss,
    /// Not kept: a mutation, an error, or an answer for one caller only.
    Uncacheable,
}

/// An answer's JSON body, whether it came from the cache, whether the
/// operation ran (some root field has data: it parsed, validated and did
/// something), and whether it was refused before execution (did not parse,
/// validate or fit the limits).
pub struct Answer {
    pub body: Bytes,
    pub freshness: Freshness,
    pub ran: bool,
    pub refused: bool,
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

/// The document of `request` (persisted queries resolved), and the document
/// to register under its hash once it has run.
pub async fn with_document(
    state: &AppState,
    request: async_graphql::Request,
) -> Result<(async_graphql::Request, Option<Registration>), Refusal> {
    state.persisted.resolve(&state.shared, request).await
}

/// Registers a persisted document, counted as `client`'s, only once it has
/// run: a document that does not parse, validate or fit the limits is
/// never stored. One over its bounds is not kept, and the answer says so.
pub async fn register_if_ran(
    state: &AppState,
    client: &str,
    registration: Option<Registration>,
    answered: &mut Answer,
) {
    if let Some(registration) = registration
        && answered.ran
        && let Some(not_kept) = state
            .persisted
            .register(&state.shared, client, registration)
            .await
    {
        answered.body = not_kept.noted_in(&answered.body);
    }
}

/// A mutation sent where only reads are allowed (a GET).
pub struct MutationRefused;

/// The answer to `request` (its document resolved) for `principal`: the
/// cached one when the cache holds it (looked up before the document is
/// even parsed: only answers to queries are ever kept, so a hit is never a
/// mutation's), else executed, and kept when anyone in the caller's audience
/// may share it. With `read_only`, a mutation is refused, not run.
pub async fn answer(
    state: &AppState,
    principal: Principal,
    request: async_graphql::Request,
    read_only: bool,
) -> Result<Answer, MutationRefused> {
    let key = state
        .cache_answers
        .then(|| answer_key(&request, principal.audience()));
    let mut slot = None;
    if let Some(key) = key {
        match state.cache.answer(&key).await {
            Some(Lookup::Hit(body)) => {
                state.cache_counters.hit();
                return Ok(Answer {
                    body,
                    freshness: Freshness::Hit,
                    ran: true,
                    refused: false,
                });
            }
            Some(Lookup::Miss { generation }) => slot = Some((key, generation)),
            // The store cannot say which generation is current: no caching.
            None => {}
        }
    }
    let (response, mutation) = match state.documents.prepare(request).await {
        Ok(prepared) => {
            let mutation = prepared.is_mutation();
            if mutation && read_only {
                return Err(MutationRefused);
            }
            let mut prepared = prepared
                .data(std::sync::Arc::clone(&state.harvester))
                .data(std::sync::Arc::clone(&state.webhooks));
            if let Some(counters) = &state.plain_answers {
                prepared = prepared.data(std::sync::Arc::clone(counters));
            }
            let response =
                graphql::execute(&state.schema, prepared, state.store.clone(), principal).await;
            (response, mutation)
        }
        Err(error) => (async_graphql::Response::from_errors(vec![error]), false),
    };
    let ran = ran(&response);
    let refused = graphql::refused_before_execution(&response);
    if mutation && ran {
        // Whatever it changed, answers cached before are out of date.
        state.cache.bump_generation().await;
    }
    let shareable = !mutation && response.is_ok() && response.cache_control.public;
    let body = Bytes::from(graphql::answer_body(&response).unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialise an answer");
        error_body(
            graphql::code::INTERNAL_SERVER_ERROR,
            "internal error; it has been logged",
        )
    }));
    let freshness = match slot {
        Some((key, generation)) if shareable => {
            state.cache_counters.miss();
            state.cache.put(&key, generation, &body).await;
            Freshness::Miss
        }
        _ => Freshness::Uncacheable,
    };
    Ok(Answer {
        body,
        freshness,
        ran,
        refused,
    })
}

/// The cache key of a request: what decides its answer.
fn answer_key(request: &async_graphql::Request, audience: Audience) -> String {
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    cache_key(
        audience,
        request.operation_name.as_deref(),
        &variables,
        &normalise(&request.query),
    )
}
