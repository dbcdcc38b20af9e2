//! `/export/*.csv`: each file parsed by Python's csv module says what the
//! GraphQL list says, under the same filters; public material only; bad
//! filters refused with 400; exports over the row bound refused with 422;
//! ETag and 304.

use serde_json::{Value, json};

use super::python;
use crate::common::{Backend, TestApp, TestDatabase, catalogue_dir};

/// Parses a CSV file strictly (UTF-8, a byte-order mark, RFC 4180
/// records): its rows as JSON objects.
const PARSE: &str = r#"
import csv, io, json, sys
data = sys.stdin.buffer.read()
assert data.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
text = data.decode("utf-8-sig")
rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
print(json.dumps(rows))
"#;

/// The rows of `path` as Python reads them, after checking the answer's type.
async fn rows(app: &TestApp, path: &str) -> Vec<Value> {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8; header=present"
    );
    let body = response.bytes().await.unwrap();
    serde_json::from_str(&python(PARSE, &body)).unwrap()
}

fn column(rows: &[Value], name: &str) -> Vec<String> {
    rows.iter()
        .map(|row| row[name].as_str().unwrap().to_owned())
        .collect()
}

const PROJECTS: &str = "query($filter: ProjectFilter) { projects(filter: $filter, first: 100) {
    nodes { slug name status seasons organizations { organization { slug siret } } } } }";

async fn projects_csv_says_what_graphql_says_under_the_same_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, filter) in [
        ("", json!({})),
        (
            "?season=2&hasCode=true",
            json!({ "season": 2, "hasCode": true }),
        ),
        (
            "?organization=insee&hasData=true",
            json!({ "organization": "insee", "hasData": true }),
        ),
        ("?text=carte", json!({ "text": "carte" })),
    ] {
        let exported = rows(&app, &format!("/export/projects.csv{query}")).await;
        let graphql = app.data(PROJECTS, json!({ "filter": filter })).await;
        let nodes = graphql["projects"]["nodes"].as_array().unwrap();
        assert!(!nodes.is_empty(), "{query} keeps some projects");
        let slugs: Vec<&str> = nodes.iter().map(|n| n["slug"].as_str().unwrap()).collect();
        assert_eq!(column(&exported, "slug"), slugs, "{query}");
        for (row, node) in exported.iter().zip(nodes) {
            assert_eq!(row["name"], node["name"]);
            assert_eq!(row["status"], node["status"].as_str().unwrap_or(""));
            let organizations = node["organizations"].as_array().unwrap();
            let slugs: Vec<&str> = organizations
                .iter()
                .map(|p| p["organization"]["slug"].as_str().unwrap())
                .collect();
            let sirets: Vec<&str> = organizations
                .iter()
                .map(|p| p["organization"]["siret"].as_str().unwrap_or(""))
                .collect();
            assert_eq!(row["organization_slugs"], slugs.join("; "));
            assert_eq!(row["organization_sirets"], sirets.join("; "));
        }
    }
    let all = rows(&app, "/export/projects.csv").await;
    assert!(
        column(&all, "organization_sirets")
            .iter()
            .any(|sirets| sirets.contains("13002526500013")),
        "the organizations' SIRETs are exported"
    );
}

async fn repositories_and_datasets_csv_hold_public_links_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let repositories = rows(
        &app,
        "/export/repositories.csv?forge=GITHUB&project=formiable",
    )
    .await;
    let graphql = app
        .data(
            "{ repositories(filter: {forge: GITHUB, project: \"formiable\"}, first: 100) { nodes { url role language } } }",
            json!({}),
        )
        .await;
    let nodes = graphql["repositories"]["nodes"].as_array().unwrap();
    assert!(nodes.len() > 1);
    let urls: Vec<&str> = nodes.iter().map(|n| n["url"].as_str().unwrap()).collect();
    assert_eq!(column(&repositories, "url"), urls);
    assert!(
        repositories
            .iter()
            .all(|row| row["project_slug"] == "formiable")
    );

    let datasets = rows(&app, "/export/datasets.csv").await;
    let graphql = app
        .data(
            "{ datasets(first: 100) { nodes { url title } } }",
            json!({}),
        )
        .await;
    let urls: Vec<&str> = graphql["datasets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["url"].as_str().unwrap())
        .collect();
    assert_eq!(column(&datasets, "url"), urls);
    // FormIAble's bucket is for agents only (catalogue/formiable.yaml).
    assert!(
        !column(&datasets, "url")
            .iter()
            .any(|url| url == "https://minio.lab.sspcloud.fr/projet-formiable"),
        "{datasets:?}"
    );
}

async fn bad_filters_are_refused_with_what_is_wrong(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (path, says) in [
        (
            "/export/projects.csv?status=active",
            "`status` takes one of ACTIVE, COMPLETED, ARCHIVED",
        ),
        (
            "/export/projects.csv?season=deux",
            "`season` takes a whole number",
        ),
        (
            "/export/projects.csv?colour=red",
            "unknown parameter `colour`",
        ),
        (
            "/export/datasets.csv?forge=GITHUB",
            "unknown parameter `forge`",
        ),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{path}: {message}");
    }
}

async fn an_export_over_the_row_bound_is_refused(backend: Backend) {
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue_dir()),
        |config| config.limits.export_max_rows = 3,
    )
    .await;
    let response = app
        .client
        .get(app.url("/export/projects.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "OPERATION_LIMIT_EXCEEDED"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3"),
        "{body}"
    );
    let narrowed = rows(&app, "/export/projects.csv?organization=insee").await;
    assert!((1..=3).contains(&narrowed.len()), "{narrowed:?}");
}

async fn an_unchanged_export_is_not_sent_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .client
        .get(app.url("/export/repositories.csv"))
        .send()
        .await
        .unwrap();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=")
    );
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/export/repositories.csv"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let filtered = app
        .client
        .get(app.url("/export/repositories.csv?language=R"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.status(), 200, "another filter, another file");
}

on_both_backends!(
    projects_csv_says_what_graphql_says_under_the_same_filters,
    repositories_and_datasets_csv_hold_public_links_only,
    bad_filters_are_refused_with_what_is_wrong,
    an_export_over_the_row_bound_is_refused,
    an_unchanged_export_is_not_sent_again,
);
