//! The gateway as the tools front-end developers and other administrations
//! use see it: graphql-js's introspection (what GraphiQL, graphql-codegen
//! and Apollo's tooling send), run by graphql-js itself, and the
//! GraphQL-over-HTTP spec's audit (graphql-http), which `make test`
//! installs (tests/node/package-lock.json); and the spec's media type.

mod common;

use common::http_answer::post;
use common::{Backend, TestApp};
use serde_json::{Value, json};

/// Runs the Node.js script `tests/clients/<script>` with `args`; its
/// output when it succeeds.
fn node(script: &str, args: &[&str]) -> String {
    let modules = common::node_modules();
    assert!(
        modules.join("graphql").is_dir(),
        "{} has no graphql: run `make test`, which installs it",
        modules.display()
    );
    let output = std::process::Command::new("node")
        .arg(format!(
            "{}/tests/clients/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(args)
        .env("NODE_PATH", &modules)
        .output()
        .expect("node (make test installs it)");
    assert!(
        output.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// graphql-js's `getIntrospectionQuery()` asks 15 levels deep; the depth
/// limit (10) protects the catalogue's types, not introspection's, whose
/// depth the schema bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_introspection_is_answered_under_the_default_limits() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let query = include_str!("fixtures/introspection-query.graphql");
    let answer = post(&app, &json!({ "query": query }), None).await;
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    assert!(
        answer.body["data"]["__schema"]["types"]
            .as_array()
            .unwrap()
            .len()
            > 50
    );
    // The catalogue's own types keep the limit.
    let deep = "{ projects(first: 1) { edges { node { organizations { organization {
        projects(first: 1) { edges { node { organizations { organization { name } } } } } } } } } } }";
    let answer = post(&app, &json!({ "query": deep }), None).await;
    assert_eq!(answer.code(), "OPERATION_LIMIT_EXCEEDED", "{}", answer.body);
}

/// What graphql-js builds from introspection is the SDL at /schema.graphql,
/// descriptions included: GraphiQL's documentation and codegen see the
/// schema the gateway documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_js_introspection_gives_back_the_served_sdl() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let said = node(
        "introspection.cjs",
        &[&app.url("/graphql"), &app.url("/schema.graphql")],
    );
    assert_eq!(said, "introspected");
}

/// graphql-http's `serverAudits`: every audit passes, none warns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audit_passes_without_warnings() {
    let app = TestApp::spawn_configured(
        common::TestDatabase::create(Backend::Sqlite).await,
        Some(common::catalogue_dir()),
        |config| config.rate_limit_per_minute = 0,
    )
    .await;
    let counts: Value = serde_json::from_str(&node("audit.cjs", &[&app.url("/graphql")])).unwrap();
    assert_eq!(counts["warn"], 0, "{counts}");
    assert_eq!(counts["error"], 0, "{counts}");
    assert!(counts["ok"].as_u64().unwrap() >= 60, "{counts}");
}

/// POSTs `query` accepting `accept`: (status, content type, body).
async fn post_accepting(app: &TestApp, query: &str, accept: &str) -> (u16, String, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.json().await.unwrap())
}

/// With `application/graphql-response+json`, a request refused before
/// execution is a 400 without `data`; one that ran is a 200 even with field
/// errors. `application/json` keeps every answer a 200. Parse errors are
/// one line with their location.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_media_type_gives_refused_requests_a_400() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    const SPEC: &str = "application/graphql-response+json";
    let refused = [
        ("{ projects(first: 1) { edges ", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ ...A }", "GRAPHQL_VALIDATION_FAILED"),
    ];
    for (query, code) in refused {
        let (status, content_type, body) = post_accepting(&app, query, SPEC).await;
        assert_eq!(
            (status, body["errors"][0]["extensions"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
        assert!(content_type.starts_with(SPEC), "{content_type}");
        assert!(
            body.get("data").is_none(),
            "no data before execution: {body}"
        );
        let (status, content_type, body) = post_accepting(&app, query, "application/json").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(content_type, "application/json");
        assert!(body.get("data").is_none(), "{body}");
    }
    let (_, _, body) = post_accepting(&app, "{ projects(first: 1) { edges ", SPEC).await;
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "syntax error: expected selection_set, selection, directive, or arguments",
        "{body}"
    );
    assert_eq!(
        error["locations"],
        json!([{ "line": 1, "column": 30 }]),
        "{body}"
    );

    let (status, content_type, body) =
        post_accepting(&app, "{ project(slug: \"cartiflette\") { name } }", SPEC).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with(SPEC), "{content_type}");
    assert_eq!(body["data"]["project"]["name"], "Cartiflette");
}
