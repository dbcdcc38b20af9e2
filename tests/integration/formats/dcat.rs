//! `/catalog`: the DCAT-AP catalogue in Turtle and JSON-LD, read by rdflib
//! (the same graph both ways), validated by pySHACL against the DCAT-AP 3
//! shapes of tests/shapes/ with no violation, holding one dataset per public
//! dataset GraphQL lists; hostile titles survive both syntaxes.

use serde_json::{Value, json};

use super::python;
use crate::common::{self, Backend, TestApp};

/// Reads the Turtle and the JSON-LD given as two files, checks they are
/// the same graph, validates it; prints the counts and the titles.
const CHECK: &str = r#"
import json, sys
from rdflib import Graph, Namespace, RDF
from rdflib.compare import isomorphic
from pyshacl import validate
turtle, json_ld, shapes = sys.argv[1:4]
graph = Graph().parse(turtle, format="turtle")
other = Graph().parse(json_ld, format="json-ld")
SH = Namespace("http://www.w3.org/ns/shacl#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
_, results, _ = validate(graph, shacl_graph=Graph().parse(shapes, format="turtle"))
violations = [
    str(results.value(result, SH.resultMessage)) + " at " + str(results.value(result, SH.focusNode))
    for result in results.subjects(SH.resultSeverity, SH.Violation)
]
warnings = len(list(results.subjects(SH.resultSeverity, SH.Warning)))
print(json.dumps({
    "same": isomorphic(graph, other),
    "violations": violations,
    "warnings": warnings,
    "datasets": len(set(graph.subjects(RDF.type, DCAT.Dataset))),
    "distributions": len(set(graph.subjects(RDF.type, DCAT.Distribution))),
    "titles": sorted(str(t) for d in graph.subjects(RDF.type, DCAT.Dataset) for t in graph.objects(d, DCT.title)),
    "publishers": [str(graph.value(p, FOAF.name)) for c in graph.subjects(RDF.type, DCAT.Catalog) for p in graph.objects(c, DCT.publisher)],
}))
"#;

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.unwrap()
}

/// The checks of [`CHECK`] on the gateway's catalogue.
async fn checked(app: &TestApp) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let turtle = get(app, "/catalog", Some("text/turtle")).await;
    assert_eq!(turtle.status(), 200);
    assert_eq!(
        turtle.headers()["content-type"],
        "text/turtle; charset=utf-8"
    );
    std::fs::write(
        dir.path().join("catalog.ttl"),
        turtle.bytes().await.unwrap(),
    )
    .unwrap();
    let json_ld = get(app, "/catalog.jsonld", None).await;
    assert_eq!(json_ld.headers()["content-type"], "application/ld+json");
    std::fs::write(
        dir.path().join("catalog.jsonld"),
        json_ld.bytes().await.unwrap(),
    )
    .unwrap();
    let shapes = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shapes/dcat-ap-3.ttl");
    let program = format!(
        "import sys; sys.argv = ['check', {:?}, {:?}, {:?}]\n{CHECK}",
        dir.path().join("catalog.ttl").display().to_string(),
        dir.path().join("catalog.jsonld").display().to_string(),
        shapes
    );
    serde_json::from_str(&python(&program, b"")).unwrap()
}

async fn the_catalogue_is_dcat_ap_with_no_violation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let checks = checked(&app).await;
    assert_eq!(
        checks["same"], true,
        "Turtle and JSON-LD state the same graph"
    );
    assert_eq!(checks["violations"], json!([]), "{checks:#}");
    let listed = app
        .data(
            "{ datasets(first: 100) { totalCount nodes { title } } }",
            json!({}),
        )
        .await;
    assert_eq!(checks["datasets"], listed["datasets"]["totalCount"]);
    let mut titles: Vec<&str> = listed["datasets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(checks["titles"], json!(titles));
    // Without harvested files, each dataset's own URL is its distribution.
    assert_eq!(checks["distributions"], checks["datasets"]);
    let dinum = app
        .data("{ organization(slug: \"dinum\") { name } }", json!({}))
        .await;
    assert_eq!(checks["publishers"], json!([dinum["organization"]["name"]]));

    for (accept, media) in [
        (Some("application/ld+json"), "application/ld+json"),
        (
            Some("text/turtle;q=0.9, application/json;q=0.5"),
            "text/turtle; charset=utf-8",
        ),
        (None, "application/ld+json"),
    ] {
        let response = get(&app, "/catalog", accept).await;
        assert_eq!(response.headers()["content-type"], media, "{accept:?}");
    }
    let refused = get(&app, "/catalog", Some("application/rdf+xml")).await;
    assert_eq!(refused.status(), 406);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("text/turtle")
    );
}

async fn hostile_titles_survive_both_syntaxes(backend: Backend) {
    let (app, admin, _dir) = common::with_dev_token(backend, "admin@numerique.gouv.fr", true).await;
    let hostile = "Des \"guillemets\", <chevrons>, \\ barres \\u0041,\nune ligne ; et \u{7} @fr .";
    let (status, _, added) = app
        .query_as(
            &admin,
            "mutation($title: String!) { addDataset(input: {projectSlug: \"poufdoc\",
                url: \"https://exemple.gouv.fr/données?a=1&b=<2>\", title: $title, provider: FILE}) { dataset { id } } }",
            json!({ "title": hostile }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(added.get("errors").is_none(), "{added}");
    let checks = checked(&app).await;
    assert_eq!(checks["same"], true);
    assert_eq!(checks["violations"], json!([]), "{checks:#}");
    assert!(
        checks["titles"]
            .as_array()
            .unwrap()
            .contains(&json!(hostile)),
        "{checks:#}"
    );
}

on_both_backends!(
    the_catalogue_is_dcat_ap_with_no_violation,
    hostile_titles_survive_both_syntaxes,
);
