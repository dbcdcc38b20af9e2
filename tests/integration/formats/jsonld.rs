//! `/projects/{slug}.jsonld`: PyLD expands each project's schema.org
//! JSON-LD without fetching anything, and the expanded graph states what
//! GraphQL states; unknown slugs and other paths are 404.

use serde_json::{Value, json};

use super::python;
use crate::common::{Backend, TestApp};

/// Expands the JSON-LD document on stdin with PyLD, with a document loader
/// that refuses every URL: the document must need nothing from elsewhere.
const EXPAND: &str = r#"
import json, sys
from pyld import jsonld
def offline(url, options=None):
    raise jsonld.JsonLdError("the document asked for " + url, "loading document failed")
document = json.load(sys.stdin)
print(json.dumps(jsonld.expand(document, {"documentLoader": offline})))
"#;

const SCHEMA: &str = "https://schema.org/";

/// The expanded form of `/projects/{slug}.jsonld`: its one top node.
async fn expanded(app: &TestApp, slug: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/projects/{slug}.jsonld")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/ld+json");
    let body = response.bytes().await.unwrap();
    let expanded: Value = serde_json::from_str(&python(EXPAND, &body)).unwrap();
    assert_eq!(expanded.as_array().unwrap().len(), 1, "{expanded:#}");
    expanded[0].clone()
}

/// The IRIs or values of property `name` (schema.org) of an expanded node.
fn values(node: &Value, name: &str) -> Vec<String> {
    node[format!("{SCHEMA}{name}")]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    item.get("@id")
                        .or_else(|| item.get("@value"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn a_project_is_software_source_code_with_its_facts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cartiflette = expanded(&app, "cartiflette").await;
    let types = cartiflette["@type"].as_array().unwrap();
    assert!(types.contains(&json!(format!("{SCHEMA}SoftwareSourceCode"))));
    // It has a running demonstration.
    assert!(types.contains(&json!(format!("{SCHEMA}SoftwareApplication"))));
    assert_eq!(values(&cartiflette, "identifier"), ["cartiflette"]);
    assert_eq!(
        values(&cartiflette, "codeRepository"),
        ["https://github.com/InseeFrLab/cartiflette"]
    );
    assert_eq!(
        values(&cartiflette, "license"),
        ["https://spdx.org/licenses/MIT"]
    );
    let graphql = app
        .data(
            "{ project(slug: \"cartiflette\") { name datasets { url } organizations { organization { siret } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        values(&cartiflette, "name"),
        [graphql["project"]["name"].as_str().unwrap()]
    );
    let authors = cartiflette[format!("{SCHEMA}author")].as_array().unwrap();
    let sirets: Vec<String> = graphql["project"]["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["organization"]["siret"].as_str())
        .map(|siret| format!("0009:{siret}"))
        .collect();
    let author_codes: Vec<String> = authors
        .iter()
        .flat_map(|author| values(author, "iso6523Code"))
        .filter(|code| code.starts_with("0009:"))
        .collect();
    assert_eq!(author_codes, sirets);
    let datasets = cartiflette[format!("{SCHEMA}hasPart")].as_array().unwrap();
    let urls: Vec<String> = datasets.iter().flat_map(|d| values(d, "url")).collect();
    let expected: Vec<&str> = graphql["project"]["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, expected);
    assert!(
        datasets
            .iter()
            .all(|d| d["@type"] == json!([format!("{SCHEMA}Dataset")]))
    );

    let formiable = expanded(&app, "formiable").await;
    assert_eq!(values(&formiable, "programmingLanguage"), ["Python"]);
    // Its bucket is for agents only.
    assert!(
        !formiable.to_string().contains("minio.lab.sspcloud.fr"),
        "{formiable:#}"
    );
}

async fn unknown_projects_and_other_paths_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/projects/nulle-part.jsonld",
        "/projects/cartiflette.json",
        "/projects/cartiflette",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{path}"
        );
    }
}

on_both_backends!(
    a_project_is_software_source_code_with_its_facts,
    unknown_projects_and_other_paths_are_not_found,
);
