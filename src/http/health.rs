//! Health probes for load balancers and Kubernetes.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};

use super::AppState;

/// `GET /health/live`: the process answers.
#[handler]
pub async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "live" }))
}

/// `GET /health/ready`: the database answers and can take a write too
/// (store/readiness.rs). A failing cache leaves the gateway ready (the
/// database answers instead) and is reported as degraded.
#[handler]
pub async fn ready(state: Data<&AppState>) -> Response {
    let cache = if state.cache.generation().await.is_some() {
        "ok"
    } else {
        "degraded"
    };
    match state.store.readiness().await {
        Ok(()) => Json(serde_json::json!({
            "status": "ready",
            "cache": {
                "kind": state.cache.kind().as_str(),
                "status": cache,
                "generation": state.cache.generation_source().as_str(),
            },
        }))
        .into_response(),
        Err(unready) => {
            tracing::warn!(database = unready.as_str(), "readiness check failed");
            Json(serde_json::json!({
                "status": "unavailable",
                "reason": "database",
                "database": unready.as_str(),
            }))
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .into_response()
        }
    }
}
