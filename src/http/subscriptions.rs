//! Subscriptions at `/graphql`: over WebSocket (a GET upgraded with the
//! `graphql-transport-ws` protocol, the token in `connection_init`'s
//! payload as `{"Authorization": "Bearer …"}`) and over Server-Sent Events
//! (a POST with `Accept: text/event-stream`, graphql-sse's "distinct
//! connections" mode, the token in the `Authorization` header).
//!
//! Only subscriptions run here: queries and mutations go through the usual
//! POST, with its cache and its rate limit per operation. Each
//! subscription holds one of its client's slots (configured client, agent
//! or address, as the rate limit counts them) on this replica until it
//! ends.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_graphql::http::WebSocketProtocols;
use async_graphql::{Data, ErrorExtensions, Executor, Response as GraphqlResponse};
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use futures_util::stream::{self, BoxStream, StreamExt};
use poem::web::sse::{Event, SSE};
use poem::web::websocket::WebSocket;
use poem::{IntoResponse, Request, Response};

use super::AppState;
use super::rate_limit::{self, Bucket};
use crate::auth::Principal;
use crate::graphql::{self, code};

/// How often an idle event stream sends a comment, so proxies keep it open.
const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The subscriptions each client holds on this replica.
pub struct Slots {
    per_client: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// One subscription's slot, given back when it ends.
pub struct Slot {
    slots: Arc<Slots>,
    client: String,
}

impl Slots {
    pub fn new(per_client: usize) -> Arc<Self> {
        Arc::new(Self {
            per_client,
            held: Mutex::default(),
        })
    }

    /// A slot for `client`, unless it holds all of its own.
    fn take(self: &Arc<Self>, client: &str) -> Option<Slot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(client.to_owned()).or_default();
        if *count >= self.per_client {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: Arc::clone(self),
            client: client.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.client);
            }
        }
    }
}

/// Who subscribes, and the client whose slots they use.
struct Subscriber {
    principal: Principal,
    client: String,
}

/// One GraphQL error as a whole answer.
fn refusal(code: &'static str, message: String) -> GraphqlResponse {
    let error = async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code));
    GraphqlResponse::from_errors(vec![error.into_server_error(Default::default())])
}

/// The events of `request` for `subscriber`, or one answer refusing it.
fn subscribe(
    state: AppState,
    request: async_graphql::Request,
    subscriber: Subscriber,
) -> BoxStream<'static, GraphqlResponse> {
    stream::once(async move {
        let prepared = match state.documents.prepare(request).await {
            Ok(prepared) => prepared,
            Err(error) => {
                return stream::once(async { GraphqlResponse::from_errors(vec![error]) }).boxed();
            }
        };
        if !prepared.is_subscription() {
            let refused = refusal(
                code::BAD_REQUEST,
                "only subscriptions are served here: send queries and mutations by POST to /graphql".to_owned(),
            );
            return stream::once(async { refused }).boxed();
        }
        let Some(slot) = state.subscription_slots.take(&subscriber.client) else {
            let refused = refusal(
                code::SUBSCRIPTION_LIMIT_EXCEEDED,
                format!(
                    "this client holds {} subscriptions already (CATALOGUE_SUBSCRIPTIONS_PER_CLIENT): end one first",
                    state.subscription_slots.per_client
                ),
            );
            return stream::once(async { refused }).boxed();
        };
        let prepared = prepared.data(state.live.clone());
        graphql::execute_stream(
            &state.schema,
            prepared,
            state.store.clone(),
            subscriber.principal,
        )
        .map(move |response| {
            // Held while the subscription runs.
            let _slot = &slot;
            response
        })
        .boxed()
    })
    .flatten()
    .boxed()
}

/// Runs the subscriptions of WebSocket connections.
#[derive(Clone)]
struct WebSocketExecutor {
    state: AppState,
}

impl Executor for WebSocketExecutor {
    async fn execute(&self, _request: async_graphql::Request) -> GraphqlResponse {
        refusal(
            code::BAD_REQUEST,
            "only subscriptions are served here: send queries and mutations by POST to /graphql"
                .to_owned(),
        )
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        connection: Option<Arc<Data>>,
    ) -> BoxStream<'static, GraphqlResponse> {
        let subscriber = connection.as_deref().and_then(|data| {
            data.get(&TypeId::of::<Arc<Subscriber>>())
                .and_then(|value| value.downcast_ref::<Arc<Subscriber>>())
                .cloned()
        });
        match subscriber {
            Some(subscriber) => subscribe(
                self.state.clone(),
                request,
                Subscriber {
                    principal: subscriber.principal.clone(),
                    client: subscriber.client.clone(),
                },
            ),
            None => stream::once(async {
                refusal(code::BAD_REQUEST, "send connection_init first".to_owned())
            })
            .boxed(),
        }
    }
}

/// `GET /graphql` upgraded to a WebSocket: `graphql-transport-ws` (and the
/// older `graphql-ws` protocol of subscriptions-transport-ws).
pub async fn websocket(state: &AppState, request: &Request, websocket: WebSocket) -> Response {
    let Some(protocol) = request
        .header(poem::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|protocols| {
            protocols
                .split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        })
    else {
        return poem::http::StatusCode::BAD_REQUEST
            .with_body("ask for the graphql-transport-ws WebSocket protocol")
            .into_response();
    };
    let address = rate_limit::address_bucket(state, request);
    let client = state
        .rate_limits
        .clients
        .by_request(request, rate_limit::client_address(state, request))
        .ok()
        .flatten();
    let executor = WebSocketExecutor {
        state: state.clone(),
    };
    let state = state.clone();
    websocket
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, executor, GraphQLProtocol(protocol))
                .on_connection_init(move |payload| async move {
                    let authorization = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|value| value.as_str());
                    let principal = match authorization {
                        Some(authorization) => state
                            .authenticator
                            .authenticate(Some(authorization))
                            .await
                            .map_err(|rejection| {
                                async_graphql::Error::new(rejection.to_string())
                            })?,
                        None => Principal::Anonymous,
                    };
                    let client =
                        Bucket::of_caller(&state, client.as_deref(), &principal, || address).key;
                    let mut data = Data::default();
                    data.insert(Arc::new(Subscriber { principal, client }));
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}

/// `POST /graphql` with `Accept: text/event-stream`: one subscription, its
/// events as `next` events, then `complete`.
pub async fn event_stream(
    state: &AppState,
    principal: Principal,
    client: String,
    request: async_graphql::Request,
) -> Response {
    let events = subscribe(state.clone(), request, Subscriber { principal, client })
        .map(|response| {
            let body = graphql::answer_body(&response).unwrap_or_default();
            Event::message(String::from_utf8_lossy(&body).into_owned()).event_type("next")
        })
        .chain(stream::once(async {
            Event::message("").event_type("complete")
        }));
    SSE::new(events).keep_alive(SSE_KEEP_ALIVE).into_response()
}
