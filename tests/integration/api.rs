//! The GraphQL read API over the real catalogue, on SQLite and PostgreSQL.

use crate::common;

use std::collections::BTreeSet;

use common::{Backend, TestApp, TestDatabase, first_places};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// The seven season-2 projects presented at the closing event, and
/// Datanonyme, a season-2 project archived before it.
const EIGHT: [&str; 8] = [
    "cartiflette",
    "chartsgouv",
    "datanonyme",
    "formiable",
    "impact-environnemental",
    "poufdoc",
    "transformers",
    "trouver-mon-expert-data",
];

fn slugs(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["slug"].as_str().expect("slug").to_owned())
        .collect()
}

/// What the catalogue is unsure of says so, with why; organizations show
/// where their SIRET was read.
async fn unsure_facts_and_organization_sources_are_served(backend: Backend) {
    let catalogue = common::catalogue_copy();
    common::edit(
        catalogue.path(),
        "organizations.yaml",
        "organizations:\n",
        "organizations:\n  - slug: service-essai\n    name: Service d'essai\n    kind: other\n    \
         siret: \"13002526500013\"\n    siren: \"130025265\"\n    sources:\n      \
         - title: Registre\n        url: https://example.org/registre\n        date: 2026-12-07\n",
    );
    common::edit(
        catalogue.path(),
        "transformers.yaml",
        "organization: dinum\n",
        "organization: dinum\n    confidence: unsure\n    note: Nommée sur une page recopiée\n",
    );
    let app = TestApp::spawn_with_seed(backend, Some(catalogue.path().to_path_buf())).await;
    let data = app
        .data(
            "{ organization(slug: \"service-essai\") { siret siren sources { title url date } }
               project(slug: \"transformers\") {
                 organizations { confidence note organization { slug } }
                 repositories { confidence note } links { confidence } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["organization"],
        json!({"siret": "13002526500013", "siren": "130025265", "sources": [
            {"title": "Registre", "url": "https://example.org/registre", "date": "2026-12-07"}]})
    );
    let project = &data["project"];
    let dinum = project["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organization"]["slug"] == "dinum")
        .expect("DINUM takes part in Transformers");
    assert_eq!(dinum["confidence"], "UNSURE");
    assert_eq!(dinum["note"], "Nommée sur une page recopiée");
    let others = project["organizations"].as_array().unwrap().iter();
    for participation in others.filter(|p| p["organization"]["slug"] != "dinum") {
        assert_eq!(participation["confidence"], "CONFIRMED", "{participation}");
        assert_eq!(participation["note"], Value::Null, "{participation}");
    }
}

async fn eight_projects_and_their_links_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let data = app
        .data(
            "{ projects(first: 100) { totalCount edges { node { slug name summary seasons
                 organizations { role organization { slug name } }
                 repositories { url forge owner name access }
                 datasets { url provider title access }
                 links { url kind access }
                 sources { title url } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["projects"]["totalCount"], 8);
    let served: BTreeSet<String> = slugs(&data["projects"]).into_iter().collect();
    assert_eq!(served, EIGHT.iter().map(|s| (*s).to_owned()).collect());

    let nodes: Vec<&Value> = data["projects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let project = |slug: &str| *nodes.iter().find(|n| n["slug"] == slug).unwrap();

    let chartsgouv = project("chartsgouv");
    assert_eq!(
        chartsgouv["repositories"][0]["url"],
        "https://github.com/etalab-ia/chartsgouv"
    );
    assert_eq!(chartsgouv["repositories"][0]["forge"], "GITHUB");
    assert_eq!(chartsgouv["repositories"][0]["owner"], "etalab-ia");
    let cartiflette = project("cartiflette");
    assert_eq!(cartiflette["seasons"], json!([1, 2, 3]));
    assert!(cartiflette["datasets"].as_array().unwrap().len() >= 2);
    assert!(
        project("poufdoc")["datasets"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.data.gouv.fr/")
    );
    assert!(
        project("impact-environnemental")["repositories"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    for node in &nodes {
        assert!(
            !node["sources"].as_array().unwrap().is_empty(),
            "{} lists no source",
            node["slug"]
        );
        assert!(
            !node["organizations"].as_array().unwrap().is_empty(),
            "{} has no organization",
            node["slug"]
        );
        // Agents-only material (Tchap rooms, credentialed buckets) is never served to anonymous callers.
        for list in ["repositories", "datasets", "links"] {
            for link in node[list].as_array().unwrap() {
                assert_eq!(
                    link["access"], "PUBLIC",
                    "{list} of {}: {link}",
                    node["slug"]
                );
            }
        }
    }
}

async fn agents_only_links_are_stored_but_not_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = app.database.connect().await;
    let snapshot = common::snapshot(&db).await;
    let stored_for_agents = ["link", "dataset", "repository"]
        .iter()
        .flat_map(|table| snapshot[*table].as_array().unwrap().clone())
        .filter(|row| row["access"] == "AGENTS")
        .count();
    assert!(
        stored_for_agents >= 2,
        "the Tchap room and the FormIAble bucket are stored"
    );

    let data = app
        .data(
            "{ transformers: project(slug: \"transformers\") { links { kind } }
               formiable: project(slug: \"formiable\") { datasets { url } }
               datasets(first: 100) { totalCount edges { node { access } } } }",
            json!({}),
        )
        .await;
    assert!(
        data["transformers"]["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["kind"] != "CHAT")
    );
    assert!(data["formiable"]["datasets"].as_array().unwrap().is_empty());
    let served = data["datasets"]["edges"].as_array().unwrap();
    assert_eq!(data["datasets"]["totalCount"], served.len());
    assert!(served.iter().all(|e| e["node"]["access"] == "PUBLIC"));
}

const PAGE_QUERY: &str =
    "query Page($first: Int, $after: String, $last: Int, $before: String, $order: ProjectOrder) {
  projects(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug } }
  }
}";

async fn paging_by_three_visits_every_project_once_both_ways(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for order in [
        json!({"field": "NAME", "direction": "ASC"}),
        json!({"field": "NAME", "direction": "DESC"}),
        json!({"field": "CREATED_AT", "direction": "ASC"}),
        json!({"field": "UPDATED_AT", "direction": "DESC"}),
    ] {
        let mut forward = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let data = app
                .data(
                    PAGE_QUERY,
                    json!({"first": 3, "after": after, "order": order}),
                )
                .await;
            let projects = &data["projects"];
            assert_eq!(projects["totalCount"], 8);
            assert!(slugs(projects).len() <= 3);
            forward.extend(slugs(projects));
            pages += 1;
            assert_eq!(projects["pageInfo"]["hasPreviousPage"], pages > 1);
            if projects["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = projects["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(pages, 3, "8 projects in pages of 3 ({order})");

        let mut backward = Vec::new();
        let mut before = Value::Null;
        loop {
            let data = app
                .data(
                    PAGE_QUERY,
                    json!({"last": 3, "before": before, "order": order}),
                )
                .await;
            let projects = &data["projects"];
            let mut page = slugs(projects);
            page.extend(backward);
            backward = page;
            if projects["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = projects["pageInfo"]["startCursor"].clone();
        }

        assert_eq!(
            forward, backward,
            "both directions give one order ({order})"
        );
        let unique: BTreeSet<&String> = forward.iter().collect();
        assert_eq!(unique.len(), 8, "every project once ({order}): {forward:?}");
    }

    let by_name = app.data(PAGE_QUERY, json!({"first": 8})).await;
    assert_eq!(slugs(&by_name["projects"])[0], "cartiflette");
    assert_eq!(slugs(&by_name["projects"])[7], "trouver-mon-expert-data");
}

async fn node_ids_round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let data = app
        .data(
            "{ projects(first: 100) { edges { node { id slug
                 repositories { id url } datasets { id url } links { id url }
                 organizations { organization { id slug } } } } } }",
            json!({}),
        )
        .await;
    let mut checked = 0;
    for edge in data["projects"]["edges"].as_array().unwrap() {
        let project = &edge["node"];
        let mut expected = vec![(project["id"].clone(), "Project", project["slug"].clone())];
        for (list, kind) in [
            ("repositories", "Repository"),
            ("datasets", "Dataset"),
            ("links", "Link"),
        ] {
            for item in project[list].as_array().unwrap() {
                expected.push((item["id"].clone(), kind, item["url"].clone()));
            }
        }
        for participation in project["organizations"].as_array().unwrap() {
            let organization = &participation["organization"];
            expected.push((
                organization["id"].clone(),
                "Organization",
                organization["slug"].clone(),
            ));
        }
        for (id, kind, key) in expected {
            let answer = app
                .data(
                    "query($id: ID!) { node(id: $id) { __typename id
                       ... on Project { key: slug } ... on Organization { key: slug }
                       ... on Repository { key: url } ... on Dataset { key: url } ... on Link { key: url } } }",
                    json!({"id": id}),
                )
                .await;
            assert_eq!(answer["node"]["__typename"], kind);
            assert_eq!(answer["node"]["id"], id);
            assert_eq!(answer["node"]["key"], key);
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} ids checked");

    // nodes(ids): the same objects, in the order asked, null where there is none.
    let mut ids: Vec<Value> = data["projects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|edge| {
            let project = &edge["node"];
            let mut ids = vec![project["id"].clone()];
            for list in ["repositories", "datasets", "links"] {
                ids.extend(
                    project[list]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|item| item["id"].clone()),
                );
            }
            ids
        })
        .take(40)
        .collect();
    ids.reverse();
    ids.push(json!("UHJvamVjdDo5OTk5OTk"));
    ids.push(ids[0].clone());
    let answer = app
        .data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": ids}),
        )
        .await;
    let served: Vec<Value> = answer["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    let mut expected = ids.clone();
    let unknown = expected.len() - 2;
    expected[unknown] = Value::Null;
    assert_eq!(served, expected);

    let unknown = app
        .data("{ node(id: \"UHJvamVjdDo5OTk5OTk\") { id } }", json!({}))
        .await;
    assert_eq!(
        unknown["node"],
        Value::Null,
        "Project:999999 does not exist"
    );
}

async fn filters_return_exactly_the_expected_projects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (json!({"tag": "dataviz"}), vec!["chartsgouv"]),
        (json!({"tag": "apache-superset"}), vec!["chartsgouv"]),
        (
            json!({"organization": "insee"}),
            vec!["cartiflette", "datanonyme", "formiable"],
        ),
        (
            json!({"organization": "assemblee-nationale"}),
            vec!["datanonyme", "impact-environnemental", "transformers"],
        ),
        (json!({"season": 1}), vec!["cartiflette", "formiable"]),
        (json!({"season": 2}), EIGHT.to_vec()),
        (json!({"season": 3}), vec!["cartiflette"]),
        (
            json!({"forge": "GITHUB"}),
            vec![
                "cartiflette",
                "chartsgouv",
                "datanonyme",
                "formiable",
                "poufdoc",
                "transformers",
            ],
        ),
        (json!({"forge": "GITLAB"}), vec![]),
        (
            json!({"hasCode": false}),
            vec!["impact-environnemental", "trouver-mon-expert-data"],
        ),
        (
            json!({"hasData": true}),
            vec!["cartiflette", "poufdoc", "trouver-mon-expert-data"],
        ),
        (
            json!({"hasData": false, "hasCode": true}),
            vec!["chartsgouv", "datanonyme", "formiable", "transformers"],
        ),
        (json!({"text": "superset"}), vec!["chartsgouv"]),
        (
            json!({"text": "CodeCarbon"}),
            vec!["impact-environnemental"],
        ),
        (json!({"text": "100%_"}), vec![]),
        // Accents and case are ignored alike on both backends (Datanonyme
        // says « état des lieux »).
        (
            json!({"text": "État"}),
            vec!["chartsgouv", "datanonyme", "trouver-mon-expert-data"],
        ),
        (
            json!({"text": "ETAT"}),
            vec!["chartsgouv", "datanonyme", "trouver-mon-expert-data"],
        ),
        (json!({"tag": "dataviz", "organization": "insee"}), vec![]),
    ];
    for (filter, expected) in cases {
        let data = app
            .data(
                "query($filter: ProjectFilter) { projects(filter: $filter, first: 100) { totalCount edges { node { slug } } } }",
                json!({"filter": filter}),
            )
            .await;
        assert_eq!(slugs(&data["projects"]), expected, "filter {filter}");
        assert_eq!(
            data["projects"]["totalCount"],
            expected.len(),
            "totalCount for {filter}"
        );
    }
}

async fn cross_project_lists_and_tags(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let data = app
        .data(
            "{ python: repositories(filter: {language: \"python\"}, first: 100) { edges { node { url project { slug } } } }
               insee: repositories(filter: {organization: \"insee\"}, first: 100) { totalCount }
               gitlab: repositories(filter: {forge: GITLAB}) { totalCount }
               datagouv: datasets(filter: {provider: DATA_GOUV}, first: 100) { totalCount edges { node { url project { slug } } } }
               organizations(first: 100) { totalCount edges { node { slug projects { slug } } } }
               insee_org: organization(slug: \"insee\") { acronym kind }
               missing: project(slug: \"does-not-exist\") { slug }
               tags { projectCount tag { slug label } } }",
            json!({}),
        )
        .await;
    let python = data["python"]["edges"].as_array().unwrap();
    assert!(
        python
            .iter()
            .any(|e| e["node"]["project"]["slug"] == "formiable"),
        "{python:?}"
    );
    assert!(data["insee"]["totalCount"].as_i64().unwrap() >= 2);
    assert_eq!(data["gitlab"]["totalCount"], 0);
    // PoufDoc and TED share the Place de l'emploi public dataset: two links, one per project.
    let datagouv = data["datagouv"]["edges"].as_array().unwrap();
    assert_eq!(datagouv.len(), 3, "{datagouv:?}");
    assert_eq!(
        data["insee_org"],
        json!({"acronym": "INSEE", "kind": "DIRECTORATE"})
    );
    assert_eq!(data["missing"], Value::Null);
    let insee_projects: Vec<&Value> = data["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["slug"] == "insee")
        .unwrap()["node"]["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["slug"])
        .collect();
    assert_eq!(
        insee_projects,
        vec!["cartiflette", "datanonyme", "formiable"]
    );
    let tags = data["tags"].as_array().unwrap();
    let ssp_cloud = tags
        .iter()
        .find(|t| t["tag"]["slug"] == "ssp-cloud")
        .expect("the SSP Cloud tag");
    assert_eq!(ssp_cloud["projectCount"], 2, "ChartsGouv and Transformers");
    let counts: Vec<i64> = tags
        .iter()
        .map(|t| t["projectCount"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most used first");
}

/// A stored word this version does not know (written by a newer version,
/// or by hand) fails the field that reads it with a coded error, never a
/// guess or a panic, and leaves the rest of the catalogue readable.
async fn an_unknown_stored_value_is_an_internal_error(backend: Backend) {
    // The value is written behind the journal's back, which the read model
    // would not see (decision 0031): the statements read it.
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(common::catalogue_dir()),
        |config| config.execution.read_model = false,
    )
    .await;
    let db = app.database.connect().await;
    db.execute_unprepared(
        "UPDATE repository SET forge = 'SOURCEHUT' WHERE project_id = \
         (SELECT id FROM project WHERE slug = 'cartiflette')",
    )
    .await
    .expect("update the forge");

    let answer = app
        .query(
            "{ project(slug: \"cartiflette\") { name repositories { url forge } } }",
            json!({}),
        )
        .await;
    let errors = answer["errors"].as_array().expect("an error");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    assert_eq!(errors[0]["path"], json!(["project", "repositories"]));
    assert!(
        !answer.to_string().contains("SOURCEHUT"),
        "the stored value is for the logs, not the client: {answer}"
    );

    let data = app
        .data(
            "{ project(slug: \"transformers\") { repositories { forge } } }",
            json!({}),
        )
        .await;
    assert!(
        !data["project"]["repositories"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Keys come in the order the operation asked for them (aliases, fragments
/// and inline fragments included), every time, although the fields are
/// resolved concurrently and finish in any order.
async fn answers_keep_the_order_of_the_selection(backend: Backend) {
    let database = common::TestDatabase::create(backend).await;
    let app = TestApp::spawn_configured(database, Some(common::catalogue_dir()), |config| {
        config.cache.cache_answers = false;
    })
    .await;
    let query = "query Ordered { projects(first: 3) { edges { node {
        slug datasets { title url } ...Code zOrganizations: organizations { role }
        ... on Project { links { url } aName: name } } } } }
      fragment Code on Project { repositories { url forge } }";
    let expected = [
        "slug",
        "datasets",
        "repositories",
        "zOrganizations",
        "links",
        "aName",
    ];
    for _ in 0..12 {
        let answer = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query, "operationName": "Ordered" }))
            .send()
            .await
            .expect("POST /graphql")
            .text()
            .await
            .expect("the answer");
        // Every node, not only the first: the items of a list share one
        // plan of their keys.
        let nodes: Vec<&str> = answer.split("\"node\":").skip(1).collect();
        assert_eq!(nodes.len(), 3, "three nodes: {answer}");
        for node in nodes {
            let places = first_places(node, &expected);
            assert!(places.is_sorted(), "keys out of order: {answer}");
            if let Some(at) = node.find("\"datasets\":[{") {
                assert!(
                    first_places(&node[at..], &["title", "url"]).is_sorted(),
                    "dataset keys out of order: {answer}"
                );
            }
            let repository = &node[node.find("\"repositories\":").unwrap()..];
            assert!(
                first_places(repository, &["url", "forge"]).is_sorted(),
                "repository keys out of order: {answer}"
            );
        }
    }
}

/// A list selected twice under one key, directly or through fragments, is
/// answered with the fields of both selections (async-graphql merges the
/// two answers; plain lists, whose answers are raw JSON, step aside).
async fn a_list_selected_twice_has_the_fields_of_both_selections(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let selections = [
        (
            "repositories { url } repositories { forge }",
            "repositories",
            ["url", "forge"],
        ),
        (
            "repositories { url } ...Forges",
            "repositories",
            ["url", "forge"],
        ),
        (
            "repositories { stars } repositories { url }",
            "repositories",
            ["stars", "url"],
        ),
        (
            "organizations { role } organizations { organization { slug } }",
            "organizations",
            ["role", "organization"],
        ),
    ];
    for (selection, list, fields) in selections {
        // Validation refuses a fragment no selection spreads.
        let fragment = if selection.contains("...Forges") {
            "fragment Forges on Project { repositories { forge } }"
        } else {
            ""
        };
        let query = format!("{{ project(slug: \"cartiflette\") {{ {selection} }} }} {fragment}");
        let data = app.data(&query, json!({})).await;
        let items = data["project"][list].as_array().expect(list);
        assert!(!items.is_empty(), "{data}");
        for item in items {
            for field in fields {
                assert!(
                    item.get(field).is_some(),
                    "{selection}: {field} missing in {item}"
                );
            }
        }
    }
}

/// A fragment that spreads itself is refused by validation; the answer
/// comes (the passes over the answer's keys used to expand it for ever).
async fn a_fragment_spreading_itself_is_refused_not_looped_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for query in [
        "query { ...Itself } fragment Itself on Query { ...Itself }",
        "{ project(slug: \"cartiflette\") { ...Itself } } fragment Itself on Project { slug repositories { url } ...Itself }",
    ] {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            app.query(query, json!({})),
        )
        .await
        .expect("an answer within a minute: the gateway is looping over the document");
        assert!(answer["errors"][0]["message"].is_string(), "{answer}");
    }
}

on_both_backends!(
    a_list_selected_twice_has_the_fields_of_both_selections,
    unsure_facts_and_organization_sources_are_served,
    a_fragment_spreading_itself_is_refused_not_looped_on,
    answers_keep_the_order_of_the_selection,
    an_unknown_stored_value_is_an_internal_error,
    eight_projects_and_their_links_are_served,
    agents_only_links_are_stored_but_not_served,
    paging_by_three_visits_every_project_once_both_ways,
    node_ids_round_trip,
    filters_return_exactly_the_expected_projects,
    cross_project_lists_and_tags,
);
