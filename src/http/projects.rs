//! A project in the formats other catalogues read: `GET
//! /projects/{slug}.jsonld` (schema.org JSON-LD, which the portal's project
//! pages also embed) and `GET /projects/{slug}/publiccode.yml` (a draft for
//! the project's maintainers to commit to their repository).

use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::{Value, json};

use super::AppState;
use super::fixed::{self, Failure};
use super::formats;
use crate::auth::Principal;
use crate::formats::{publiccode, schema_org};

const JSON_LD: &str = "application/ld+json";

/// The project `slug` as `document` states it to anyone; 404 when there is
/// none, or it is for agents only.
async fn project(state: &AppState, document: &str, slug: &str) -> Result<Value, Response> {
    let mut answer = fixed::run(
        state,
        Principal::Anonymous,
        document,
        json!({ "slug": slug }),
    )
    .await
    .map_err(|failure| failure.response())?;
    match answer.data["project"].take() {
        Value::Null => Err(Failure::not_found(format!("no public project `{slug}`")).response()),
        project => Ok(project),
    }
}

/// `GET /projects/{slug}.jsonld`.
#[handler]
pub async fn json_ld(
    request: &Request,
    Path(file): Path<String>,
    state: Data<&AppState>,
) -> Response {
    let Some(slug) = file.strip_suffix(".jsonld") else {
        return Failure::not_found(
            "a project is served at /projects/{slug}.jsonld or /projects/{slug}/publiccode.yml",
        )
        .response();
    };
    let state = *state;
    formats::serve(state, request, JSON_LD, |_| async move {
        let project = project(state, schema_org::DOCUMENT, slug).await?;
        let node = schema_org::write(&project, &state.public_url);
        Ok(serde_json::to_vec_pretty(&node).expect("JSON values serialise"))
    })
    .await
}

/// YAML's media type (RFC 9512).
const YAML: &str = "application/yaml; charset=utf-8";

/// `GET /projects/{slug}/publiccode.yml`.
#[handler]
pub async fn publiccode_draft(
    request: &Request,
    Path(slug): Path<String>,
    state: Data<&AppState>,
) -> Response {
    let state = *state;
    formats::serve(state, request, YAML, |_| async move {
        let project = project(state, publiccode::DOCUMENT, &slug).await?;
        Ok(publiccode::write(&project, &state.public_url).into_bytes())
    })
    .await
}
