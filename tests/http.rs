//! HTTP behaviour: coded errors for bad input, GET and GraphiQL, schema,
//! health probes.

mod common;

use common::{Backend, TestApp};
use serde_json::{Value, json};

fn code_of(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer:#}"))
}

async fn bad_graphql_input_answers_coded_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            "{ projects(first: 3 { totalCount } }",
            json!({}),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            "{ projects { nope } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ projects(first: \"three\") { totalCount } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($n: Int) { projects(first: $n) { totalCount } }",
            json!({"n": "x"}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ projects(first: -1) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(first: 101) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(last: 1000) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(first: 2, last: 2) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(first: 2, before: \"x\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(after: \"not-a-cursor\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(filter: {season: 0}) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ repositories(after: \"eyJvIjoieCIsImkiOjF9\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ node(id: \"garbage\") { id } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        ("{ nodes(ids: []) { id } __typename }", json!({}), ""),
        // Cursors whose value does not fit their ordering (hand-made): refused, never a 500.
        (
            "{ projects(orderBy: {field: CREATED_AT}, after: \"eyJvIjoicHJvamVjdHM6Y3JlYXRlZDphc2MiLCJ0Ijoienp6IiwiaSI6M30\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(after: \"eyJvIjoicHJvamVjdHM6bmFtZTphc2MiLCJpIjozfQ\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "query A { __typename } query B { __typename }",
            json!({}),
            "OPERATION_RESOLUTION_FAILURE",
        ),
        // Organizations and projects lead to each other: deep or costly selections are refused.
        (
            "{ organizations { edges { node { projects { organizations { organization { projects { organizations { organization { projects { slug } } } } } } } } } } }",
            json!({}),
            "OPERATION_LIMIT_EXCEEDED",
        ),
    ];
    for (query, variables, expected) in cases {
        let answer = app.query(query, variables).await;
        if expected.is_empty() {
            assert!(answer.get("errors").is_none(), "{query}: {answer:#}");
            continue;
        }
        assert_eq!(code_of(&answer), expected, "{query}: {answer:#}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(!message.is_empty());
    }

    // A cursor from one ordering is refused by another, with a message saying so.
    let data = app
        .data(
            "{ projects(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = data["projects"]["pageInfo"]["endCursor"].clone();
    let answer = app
        .query(
            "query($c: String) { projects(first: 1, after: $c, orderBy: {field: CREATED_AT}) { totalCount } }",
            json!({"c": cursor}),
        )
        .await;
    assert_eq!(code_of(&answer), "BAD_USER_INPUT");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another ordering")
    );
}

async fn malformed_requests_get_4xx_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let mixed_case = post(
        "{\"query\": \"{ __typename }\"}",
        "Application/JSON; charset=utf-8",
    )
    .await
    .unwrap();
    assert_eq!(mixed_case.status(), 200, "media types are case-insensitive");
    for (body, content_type, status) in [
        ("{not json", "application/json", 400),
        ("{\"variables\": {}}", "application/json", 400),
        ("{ projects { totalCount } }", "application/graphql", 415),
    ] {
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(code_of(&answer), "BAD_REQUEST");
    }
    let huge = format!(
        "{{\"query\": \"{{ __typename }}\", \"x\": \"{}\"}}",
        "a".repeat(300 * 1024)
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

async fn get_graphiql_schema_and_health(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query Names { projects(first: 2) { edges { node { name } } } }",
            ),
            ("operationName", "Names"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["data"]["projects"]["edges"][0]["node"]["name"],
        "Cartiflette"
    );

    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let sdl = app.get_text("/schema.graphql").await;
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .unwrap();
    assert_eq!(
        sdl, committed,
        "GET /schema.graphql serves the committed schema"
    );

    for (path, status) in [("/health/live", "live"), ("/health/ready", "ready")] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status);
    }
    let metrics = app.get_text("/metrics").await;
    for family in [
        "catalogue_http_requests_total{operation=\"-\",status=\"200\"}",
        "catalogue_http_request_duration_seconds_bucket{le=\"+Inf\"}",
        "catalogue_cache_requests_total{store=\"memory\",outcome=\"hit\"}",
        "catalogue_rate_limited_requests_total 0",
        "catalogue_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(metrics.contains(family), "{family} in {metrics}");
    }
}

/// A page of 50 projects with their organizations, tags, code, data and
/// links costs as many SQL statements as a page of 5.
async fn statement_count_of_a_page_does_not_grow_with_its_size(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    common::write_generated_catalogue(dir.path(), 60);
    let app = TestApp::spawn_with_seed(backend, Some(dir.path().to_owned())).await;
    let query = "query($n: Int) { projects(first: $n) { totalCount edges { node { slug seasons
        tags { slug } organizations { role organization { slug projects { slug } } }
        repositories { url project { slug } } datasets { url } links { url } sources { title } } } } }";
    let mut counts = Vec::new();
    for size in [5, 50, 50] {
        let before = app.statements_executed().await;
        let data = app.data(query, json!({"n": size})).await;
        let after = app.statements_executed().await;
        assert_eq!(data["projects"]["edges"].as_array().unwrap().len(), size);
        assert_eq!(data["projects"]["totalCount"], 60);
        counts.push(after - before);
    }
    println!(
        "SQL statements per page ({backend:?}): 5 projects: {}, 50 projects: {}",
        counts[0], counts[1]
    );
    assert_eq!(counts[0], counts[1], "statements for 5 vs 50 projects");
    assert_eq!(
        counts[2], 0,
        "a repeated page comes from the response cache"
    );
    assert!(counts[1] <= 12, "{} statements for one page", counts[1]);
}

on_both_backends!(
    bad_graphql_input_answers_coded_errors,
    malformed_requests_get_4xx_with_a_code,
    get_graphiql_schema_and_health,
    statement_count_of_a_page_does_not_grow_with_its_size,
);
