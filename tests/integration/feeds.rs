//! The Atom feeds of public changes, read by feedparser (what feed readers
//! build on): well formed, public changes only, revalidated with ETag and
//! Last-Modified.

use std::io::Write;

use crate::common;

use common::issuer::{SigningKey, TestIssuer};
use common::{Backend, TestApp};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";

async fn write(app: &TestApp, token: &str, mutation: &str) {
    let (status, _, answer) = app.query_as(token, mutation, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer:#}");
}

/// What feedparser reads in `feed`.
fn parse(feed: &str) -> Value {
    let mut python = std::process::Command::new(common::venv_tool("python"))
        .arg(format!(
            "{}/tests/feeds/parse.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    python
        .stdin
        .take()
        .unwrap()
        .write_all(feed.as_bytes())
        .unwrap();
    let output = python.wait_with_output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

fn titles(parsed: &Value) -> Vec<String> {
    parsed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn feeds_parse_and_show_public_changes_only(backend: Backend) {
    let key = SigningKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = common::issuer::gateway_trusting(backend, &issuer, &[ADMIN]).await;
    let admin = key.sign(&issuer.claims(ADMIN));
    write(&app, &admin, "mutation { createProject(input: {slug: \"flux\", name: \"Flux public\", summary: \"Un projet.\"}) { project { slug } } }").await;
    write(&app, &admin, "mutation { createProject(input: {slug: \"interne\", name: \"Projet interne\", summary: \"Pour les agents.\", visibility: AGENTS}) { project { slug } } }").await;
    write(&app, &admin, "mutation { addRepository(input: {projectSlug: \"flux\", url: \"https://github.com/example/secret\", access: AGENTS}) { repository { url } } }").await;
    write(&app, &admin, "mutation { updateProject(slug: \"flux\", expectedVersion: 2, input: {name: \"Flux & cie\"}) { project { name } } }").await;

    let response = get(&app, "/feeds/changes.atom").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = response.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let parsed = parse(&response.text().await.unwrap());
    assert_eq!(parsed["bozo"], 0, "{parsed:#}");
    assert_eq!(parsed["version"], "atom10");
    assert!(
        parsed["id"]
            .as_str()
            .unwrap()
            .ends_with("/feeds/changes.atom")
    );
    let titles = titles(&parsed);
    assert_eq!(
        titles[..2],
        ["Flux & cie : projet modifié", "Flux & cie : nouveau projet"]
    );
    assert!(
        titles.iter().all(|title| !title.contains("interne")),
        "{titles:?}"
    );
    for entry in parsed["entries"].as_array().unwrap() {
        assert!(
            entry["id"].is_string() && entry["updated"].is_string() && entry["link"].is_string()
        );
    }

    // Unchanged: 304, by ETag or by date.
    let revalidated = app
        .client
        .get(app.url("/feeds/changes.atom"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    let revalidated = app
        .client
        .get(app.url("/feeds/changes.atom"))
        .header("if-modified-since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    // One project's feed: its two public changes.
    let project = get(&app, "/feeds/projects/flux.atom").await;
    assert_eq!(project.status(), 200);
    let parsed = parse(&project.text().await.unwrap());
    assert_eq!(parsed["bozo"], 0, "{parsed:#}");
    assert_eq!(
        self::titles(&parsed),
        ["Flux & cie : projet modifié", "Flux & cie : nouveau projet"]
    );
    // No feed for an agents-only project, nor for none.
    assert_eq!(
        get(&app, "/feeds/projects/interne.atom").await.status(),
        404
    );
    assert_eq!(get(&app, "/feeds/projects/nope.atom").await.status(), 404);

    // A change makes the old ETag stale.
    write(&app, &admin, "mutation { updateProject(slug: \"flux\", expectedVersion: 3, input: {summary: \"Autre résumé.\"}) { project { name } } }").await;
    let changed = app
        .client
        .get(app.url("/feeds/changes.atom"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
}

on_both_backends!(feeds_parse_and_show_public_changes_only);
