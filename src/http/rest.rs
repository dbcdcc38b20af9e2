//! The REST API under `/api/v1`: each route runs one fixed GraphQL
//! document through the same path as `/graphql` (the caller authenticated
//! from `Authorization` or the portal's cookie, the same visibility, rate
//! limits, answer cache, ETag and 304), and answers with the document's
//! root field: REST and GraphQL state the same facts. A GraphQL error is
//! an HTTP status with its code in the body. [`ROUTES`] is the one table
//! both the handlers and the OpenAPI description (`openapi.rs`) read.

use bytes::Bytes;
use poem::web::{Data, Path};
use poem::{Request, Response, handler};
use serde_json::Value;

use super::answer::Freshness;
use super::fixed::{self, Failure};
use super::graphql::{Admitted, admit, x_cache};
use super::kept::{self, Kept, Slot};
use super::parameters::{self, Parameter, Sdl};
use super::{AppState, caching};
use crate::auth::Principal;
use crate::cache::cache_key;

/// One REST route.
pub struct Route {
    /// Its path as OpenAPI writes it (`/api/v1/projects/{slug}`).
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    /// The GraphQL document it runs.
    pub document: &'static str,
    /// The root field whose value is the answer.
    pub root: &'static str,
    /// The path parameter, filling the variable of the same name.
    pub path_parameter: Option<&'static str>,
    /// Its query parameters, read from the schema.
    pub query: fn(&Sdl) -> Vec<Parameter>,
}

/// A project's fields in lists and alone.
macro_rules! project_fields {
    () => {
        "id slug name summary status seasons license website documentation
    createdAt updatedAt tags { slug label }
    organizations { role organization { slug name siret } }
    repositories { url forge role language license }
    datasets { url title provider license }"
    };
}

/// Every route of the REST API.
pub const ROUTES: [&Route; 5] = [&PROJECTS, &PROJECT, &ORGANIZATION, &SEARCH, &CHANGES];

const PROJECTS: Route = Route {
    path: "/api/v1/projects",
    operation_id: "listProjects",
    summary: "Projects matching the filters, a page at a time (at most 100 per page).",
    document: concat!(
        "query RestProjects($filter: ProjectFilter, $first: Int, $after: String) {
  projects(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { ",
        project_fields!(),
        " } } }"
    ),
    root: "projects",
    path_parameter: None,
    query: |sdl| {
        let mut parameters = sdl.input_fields("ProjectFilter", "filter");
        parameters.push(sdl.argument("projects", "first"));
        parameters.push(sdl.argument("projects", "after"));
        parameters
    },
};

const PROJECT: Route = Route {
    path: "/api/v1/projects/{slug}",
    operation_id: "getProject",
    summary: "The project with this slug (404 when there is none, or the caller may not see it).",
    document: concat!(
        "query RestProject($slug: String!) { project(slug: $slug) { ",
        project_fields!(),
        " description links { url kind title } } }"
    ),
    root: "project",
    path_parameter: Some("slug"),
    query: |_| Vec::new(),
};

const ORGANIZATION: Route = Route {
    path: "/api/v1/organizations/{slug}",
    operation_id: "getOrganization",
    summary: "The organization with this slug and the projects it takes part in that the caller may see.",
    document: "query RestOrganization($slug: String!) { organization(slug: $slug) {
  id slug name acronym kind siret siren website projects { slug name } } }",
    root: "organization",
    path_parameter: Some("slug"),
    query: |_| Vec::new(),
};

const SEARCH: Route = Route {
        path: "/api/v1/search",
        operation_id: "search",
        summary: "Projects, repositories, datasets and organizations matching `query`, best first.",
        document: "query RestSearch($query: String!, $kinds: [SearchKind!], $filter: SearchFilter, $first: Int, $after: String) {
  search(query: $query, kinds: $kinds, filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { score object { __typename
      ... on Project { slug name summary }
      ... on Repository { url language project { slug } }
      ... on Dataset { url title project { slug } }
      ... on Organization { slug name } } } } }",
        root: "search",
        path_parameter: None,
        query: |sdl| {
            let mut parameters = vec![sdl.argument("search", "query"), sdl.argument("search", "kinds")];
            parameters.extend(sdl.input_fields("SearchFilter", "filter"));
            parameters.push(sdl.argument("search", "first"));
            parameters.push(sdl.argument("search", "after"));
            parameters
        },
};

const CHANGES: Route = Route {
    path: "/api/v1/changes",
    operation_id: "listChanges",
    summary: "The changes after `after` that the caller may see, oldest first (at most 100 a page): keep `cursor` and ask again from it; 410 RESYNC_REQUIRED when the journal no longer holds what follows it.",
    document: "query RestChanges($after: String, $first: Int, $filter: ChangeFilter) {
  changes(after: $after, first: $first, filter: $filter) {
    cursor pageInfo { hasNextPage }
    nodes { at kind fields nodeId
      node { __typename ... on Project { slug name } ... on Organization { slug name } } } } }",
    root: "changes",
    path_parameter: None,
    query: |sdl| {
        let mut parameters = vec![sdl.argument("changes", "after")];
        parameters.push(sdl.argument("changes", "first"));
        parameters.extend(sdl.input_fields("ChangeFilter", "filter"));
        parameters
    },
};

/// The answer of `route` to `request`: kept whole when anyone in the
/// caller's audience may share it ([`kept`]).
async fn answer(
    state: &AppState,
    request: &Request,
    route: &Route,
    path_value: Option<String>,
) -> Response {
    let Admitted {
        principal, quota, ..
    } = match admit(state, request, 1).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let audience = principal.audience();
    let query_string = request.uri().query().unwrap_or("");
    // The route's path is no GraphQL operation name: REST keys cannot
    // meet GraphQL ones.
    let slot = kept::look_up(state, || {
        cache_key(
            audience,
            Some(route.path),
            path_value.as_deref().unwrap_or_default(),
            query_string,
        )
    })
    .await;
    // The body, its ETag when already known, and where it came from.
    let (body, etag, freshness) = match slot {
        Slot::Hit(Kept { etag, body }) => (body, Some(etag), Freshness::Hit),
        Slot::Miss { key, generation } => {
            match run(state, request, route, principal, path_value).await {
                Ok((body, Freshness::Uncacheable)) => (body, None, Freshness::Uncacheable),
                Ok((body, _)) => {
                    let Kept { etag, body } = kept::keep(state, &key, generation, body).await;
                    (body, Some(etag), Freshness::Miss)
                }
                Err(failure) => return quota.stamped(failure.response()),
            }
        }
        Slot::None => match run(state, request, route, principal, path_value).await {
            Ok((body, freshness)) => (body, None, freshness),
            Err(failure) => return quota.stamped(failure.response()),
        },
    };
    let policy = caching::Policy {
        audience,
        get: true,
        shareable: freshness != Freshness::Uncacheable,
        max_age_seconds: state.http_max_age_seconds,
    };
    let mut http = caching::respond_tagged(request, body, &policy, "application/json", |body| {
        etag.unwrap_or_else(|| caching::etag_of(body))
    });
    if let Some(value) = x_cache(freshness) {
        http.headers_mut().insert("x-cache", value);
    }
    quota.stamped(http)
}

/// Runs `route`'s document for `request`: the root field's value, and where
/// the GraphQL answer came from; a failure when it is null or an error.
async fn run(
    state: &AppState,
    request: &Request,
    route: &Route,
    principal: Principal,
    path_value: Option<String>,
) -> Result<(Bytes, Freshness), Failure> {
    let query = &state.query_parameters[route.path];
    let mut variables = parameters::variables(query, request.uri().query().unwrap_or(""))
        .map_err(Failure::bad_request)?;
    if let (Some(name), Some(value)) = (route.path_parameter, path_value) {
        variables.insert(name.to_owned(), Value::String(value));
    }
    let answered = fixed::run_root(
        state,
        principal,
        route.document,
        Value::Object(variables),
        route.root,
    )
    .await?;
    match answered {
        (Some(body), freshness) => Ok((body.into(), freshness)),
        (None, _) => Err(Failure::not_found(format!(
            "nothing at {} for this caller",
            request.uri().path()
        ))),
    }
}

#[handler]
pub async fn projects(request: &Request, state: Data<&AppState>) -> Response {
    answer(&state, request, &PROJECTS, None).await
}

#[handler]
pub async fn project(
    request: &Request,
    Path(slug): Path<String>,
    state: Data<&AppState>,
) -> Response {
    answer(&state, request, &PROJECT, Some(slug)).await
}

#[handler]
pub async fn organization(
    request: &Request,
    Path(slug): Path<String>,
    state: Data<&AppState>,
) -> Response {
    answer(&state, request, &ORGANIZATION, Some(slug)).await
}

#[handler]
pub async fn search(request: &Request, state: Data<&AppState>) -> Response {
    answer(&state, request, &SEARCH, None).await
}

#[handler]
pub async fn changes(request: &Request, state: Data<&AppState>) -> Response {
    answer(&state, request, &CHANGES, None).await
}
