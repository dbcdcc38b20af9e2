//! Health probes for load balancers and Kubernetes.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};

use super::AppState;
use crate::search::Readiness;

/// `GET /health/live`: the process answers.
#[handler]
pub async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "live" }))
}

/// `GET /health/ready`: the database answers and can take a write too
/// (store/readiness.rs), and the search index has been built. A failing
/// cache leaves the gateway ready (the database answers instead) and is
/// reported as degraded, and so does a read model still building (queries
/// read the database meanwhile). When not ready, `reason` says what it
/// waits for.
#[handler]
pub async fn ready(state: Data<&AppState>) -> Response {
    let cache = if state.cache.generation().await.is_some() {
        "ok"
    } else {
        "degraded"
    };
    let read_model = serde_json::json!({ "status": state.store.read_model_state().as_str() });
    if let Err(unready) = state.store.readiness().await {
        tracing::warn!(database = unready.as_str(), "readiness check failed");
        return unavailable(serde_json::json!({
            "status": "unavailable",
            "reason": "database",
            "database": unready.as_str(),
            "readModel": read_model,
        }));
    }
    let search = match state.search.readiness() {
        Readiness::Ready => "ready",
        Readiness::Building => "building",
        Readiness::Failing(_) => "failing",
    };
    if search != "ready" {
        return unavailable(serde_json::json!({
            "status": "unavailable",
            "reason": "search index",
            "search": { "status": search },
            "readModel": read_model,
        }));
    }
    Json(serde_json::json!({
        "status": "ready",
        "cache": {
            "kind": state.cache.kind().as_str(),
            "status": cache,
            "generation": state.cache.generation_source().as_str(),
        },
        "search": { "status": search, "documents": state.search.documents() },
        "readModel": read_model,
    }))
    .into_response()
}

fn unavailable(body: serde_json::Value) -> Response {
    Json(body)
        .with_status(StatusCode::SERVICE_UNAVAILABLE)
        .into_response()
}
