//! The REST API under `/api/v1`: each route answers what its GraphQL
//! document answers through `/graphql` (taken from the OpenAPI
//! description), for anonymous callers and agents alike; errors keep their
//! GraphQL code under an HTTP status; public answers have an ETag and 304;
//! the description passes openapi-spec-validator and its page works
//! offline and passes axe-core.

use serde_json::{Value, json};

use super::python;
use crate::common::{self, Backend, TestApp};

/// The gateway, trusting dev tokens; an agent's token.
async fn gateway(backend: Backend) -> (TestApp, String, tempfile::TempDir) {
    common::with_dev_token(backend, "agent@numerique.gouv.fr", false).await
}

async fn openapi(app: &TestApp) -> Value {
    app.client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `GET path` as the holder of `token`, if any: status and body.
async fn rest(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn rest_answers_what_graphql_answers(backend: Backend) {
    let (app, agent, _dir) = gateway(backend).await;
    let description = openapi(&app).await;
    for (path, route, variables) in [
        (
            "/api/v1/projects?season=2&hasCode=true&first=3",
            "/api/v1/projects",
            json!({ "filter": { "season": 2, "hasCode": true }, "first": 3 }),
        ),
        (
            "/api/v1/projects/formiable",
            "/api/v1/projects/{slug}",
            json!({ "slug": "formiable" }),
        ),
        (
            "/api/v1/organizations/insee",
            "/api/v1/organizations/{slug}",
            json!({ "slug": "insee" }),
        ),
        (
            "/api/v1/search?query=carte&kinds=PROJECT&kinds=DATASET",
            "/api/v1/search",
            json!({ "query": "carte", "kinds": ["PROJECT", "DATASET"] }),
        ),
        (
            "/api/v1/projects?usedBy.atLeast=0&first=2",
            "/api/v1/projects",
            json!({ "filter": { "usedBy": { "atLeast": 0 } }, "first": 2 }),
        ),
        (
            "/api/v1/changes?first=5&kinds=PROJECT_CREATED&projects=cartiflette",
            "/api/v1/changes",
            json!({ "first": 5, "filter": { "kinds": ["PROJECT_CREATED"], "projects": ["cartiflette"] } }),
        ),
    ] {
        let operation = &description["paths"][route]["get"];
        let document = operation["x-graphql-document"].as_str().unwrap();
        let root = document
            .split_once('{')
            .unwrap()
            .1
            .split(|c: char| c == '(' || c == '{' || c.is_whitespace())
            .find(|word| !word.is_empty())
            .unwrap();
        for token in [None, Some(agent.as_str())] {
            let (status, body) = rest(&app, path, token).await;
            assert_eq!(status, 200, "{path}: {body}");
            let graphql = match token {
                Some(token) => app.query_as(token, document, variables.clone()).await.2,
                None => app.query(document, variables.clone()).await,
            };
            assert!(graphql.get("errors").is_none(), "{graphql}");
            assert_eq!(body, graphql["data"][root], "{path} as {token:?}");
        }
    }
    // What is for agents reaches agents only, through REST as through GraphQL.
    let bucket = "https://minio.lab.sspcloud.fr/projet-formiable";
    let (_, public) = rest(&app, "/api/v1/projects/formiable", None).await;
    let (_, agents) = rest(&app, "/api/v1/projects/formiable", Some(&agent)).await;
    assert!(!public.to_string().contains(bucket));
    assert!(agents.to_string().contains(bucket));
}

async fn errors_keep_their_graphql_code(backend: Backend) {
    let (app, _agent, _dir) = gateway(backend).await;
    for (path, token, status, code) in [
        ("/api/v1/projects/nulle-part", None, 404, "NOT_FOUND"),
        ("/api/v1/organizations/nulle-part", None, 404, "NOT_FOUND"),
        ("/api/v1/projects?status=active", None, 400, "BAD_REQUEST"),
        ("/api/v1/projects?first=1000", None, 400, "BAD_USER_INPUT"),
        ("/api/v1/search", None, 400, "BAD_REQUEST"),
        (
            "/api/v1/projects",
            Some("not-a-token"),
            401,
            "UNAUTHENTICATED",
        ),
    ] {
        let (answered, body) = rest(&app, path, token).await;
        assert_eq!(answered, status, "{path}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], code,
            "{path}: {body}"
        );
    }
}

async fn public_answers_are_revalidated_and_agents_answers_private(backend: Backend) {
    let (app, agent, _dir) = gateway(backend).await;
    let first = app
        .client
        .get(app.url("/api/v1/projects"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.headers().contains_key("ratelimit"));
    let private = app
        .client
        .get(app.url("/api/v1/projects"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(private.headers()["cache-control"], "private, no-store");
    assert!(!private.headers().contains_key("etag"));
}

/// `GET path` as the holder of `token`, if any: status, `x-cache`, ETag and body.
async fn rest_cached(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, String, String, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (x_cache, etag) = (header("x-cache"), header("etag"));
    (
        response.status().as_u16(),
        x_cache,
        etag,
        response.json().await.unwrap(),
    )
}

async fn answers_are_kept_whole_per_audience_until_a_write(backend: Backend) {
    let (app, admin, _dir) = common::with_dev_token(backend, "admin@numerique.gouv.fr", true).await;
    let path = "/api/v1/projects/formiable";
    let bucket = "https://minio.lab.sspcloud.fr/projet-formiable";

    let (status, cache, etag, first) = rest_cached(&app, path, None).await;
    assert_eq!((status, cache.as_str()), (200, "MISS"), "{first}");
    let (_, cache, kept_etag, again) = rest_cached(&app, path, None).await;
    assert_eq!(cache, "HIT");
    assert_eq!((kept_etag.as_str(), &again), (etag.as_str(), &first));
    let revalidated = app
        .client
        .get(app.url(path))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    // Agents have answers of their own, and a hit never crosses audiences.
    let (_, cache, _, agents) = rest_cached(&app, path, Some(&admin)).await;
    assert_eq!(cache, "MISS");
    assert!(agents.to_string().contains(bucket));
    let (_, cache, _, agents_again) = rest_cached(&app, path, Some(&admin)).await;
    assert_eq!((cache.as_str(), &agents_again), ("HIT", &agents));
    let (_, cache, _, public) = rest_cached(&app, path, None).await;
    assert_eq!(cache, "HIT");
    assert!(!public.to_string().contains(bucket));

    // Each query string has its answer; a refused one is never kept.
    for first in [1, 2] {
        let (_, _, _, page) =
            rest_cached(&app, &format!("/api/v1/projects?first={first}"), None).await;
        assert_eq!(page["nodes"].as_array().unwrap().len(), first);
    }
    for _ in 0..2 {
        let (status, cache, _, body) = rest_cached(&app, "/api/v1/projects?first=1000", None).await;
        assert_eq!((status, cache.as_str()), (400, ""), "{body}");
    }

    // A write makes every kept answer out of date.
    let read = app
        .query(r#"{ project(slug: "formiable") { version } }"#, json!({}))
        .await;
    let (status, _, written) = app
        .query_as(
            &admin,
            "mutation($v: Int!) { updateProject(slug: \"formiable\", input: {summary: \"Former, vite.\"}, expectedVersion: $v) { project { summary } } }",
            json!({ "v": read["data"]["project"]["version"] }),
        )
        .await;
    assert_eq!(status, 200, "{written}");
    assert!(written.get("errors").is_none(), "{written}");
    let (_, cache, fresh_etag, fresh) = rest_cached(&app, path, None).await;
    assert_eq!(cache, "MISS");
    assert_eq!(fresh["summary"], "Former, vite.");
    assert_ne!(fresh_etag, etag);
}

/// Checks the description with openapi-spec-validator.
const VALIDATE: &str = r#"
import json, sys
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts, get_spec_version
spec = json.load(sys.stdin)
validate(spec)
print(get_spec_version(spec))
"#;

async fn the_description_is_valid_openapi_and_its_page_works_offline(backend: Backend) {
    let (app, _agent, _dir) = gateway(backend).await;
    let description = openapi(&app).await;
    let version = python(VALIDATE, description.to_string().as_bytes());
    assert!(version.contains("3.1"), "{version}");
    let paths: Vec<&String> = description["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/api/v1/changes",
            "/api/v1/organizations/{slug}",
            "/api/v1/projects",
            "/api/v1/projects/{slug}",
            "/api/v1/search"
        ]
    );
    // The filters are those of the GraphQL input type, enum values included.
    let status = description["paths"]["/api/v1/projects"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap()
        .clone();
    assert_eq!(
        status["schema"]["enum"],
        json!(["ACTIVE", "COMPLETED", "ARCHIVED"])
    );
    let shown = tokio::task::spawn_blocking({
        let base = app.base_url.clone();
        move || {
            common::run_node(
                "portal/api-docs.cjs",
                &[&base],
                &["playwright-core", "axe-core"],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(shown.lines().count(), 5, "{shown}");
}

on_both_backends!(
    rest_answers_what_graphql_answers,
    errors_keep_their_graphql_code,
    public_answers_are_revalidated_and_agents_answers_private,
    answers_are_kept_whole_per_audience_until_a_write,
    the_description_is_valid_openapi_and_its_page_works_offline,
);
