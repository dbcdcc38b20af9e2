//! The read model (decision 0031): queries answered from memory give the
//! statements' answers, cost one statement, and read every write committed
//! before they began, whichever replica made it.

use serde_json::{Value, json};

use crate::common::{self, Backend, TestApp, TestDatabase};

/// The benchmark's three-level list and project page, and what a portal
/// pages through.
const NESTED: &str = "{ projects(first: 20) { edges { node { slug name
    organizations { role organization { slug name } }
    repositories { url forge name role } datasets { url title provider } } } } }";
const PAGE: &str = "query($slug: String!) { project(slug: $slug) { name summary description website
    documentation status seasons tags { slug label } organizations { role organization { slug name } }
    repositories { url forge name role access } datasets { url title provider access }
    links { url kind title access } } }";
const PAGED: &str = "query($filter: ProjectFilter, $order: ProjectOrder, $first: Int, $after: String,
    $last: Int, $before: String) {
    projects(filter: $filter, orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { slug name usedByCount { total } visibility repositories { url access } } } } }";

const REPOSITORIES: &str = "query($filter: RepositoryFilter, $first: Int, $after: String,
    $last: Int, $before: String) {
    list: repositories(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { url access language forge project { slug } } } } }";
const DATASETS: &str = "query($filter: DatasetFilter, $first: Int, $after: String,
    $last: Int, $before: String) {
    list: datasets(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { url access provider project { slug } } } } }";
const ORGANIZATION: &str = "query($slug: String!) { organization(slug: $slug) { name acronym kind
    website verified projects { slug name visibility } uses { kind project { slug name } } } }";

const SEARCH: &str = "query($q: String!) { search(query: $q, first: 50) { totalCount edges { node {
    object { __typename
      ... on Project { slug name visibility }
      ... on Repository { url access project { slug } }
      ... on Dataset { url access project { slug } }
      ... on Organization { slug name } } } } } }";

const FACETS: &str = "{ facets(query: \"\") { totalCount kinds { value count } } }";

/// A gateway on `database` trusting dev tokens (the key in `key_file`),
/// without an answer cache (so that every answer is computed) nor live
/// changes' polling, with the read model on or off.
async fn gateway(database: TestDatabase, key_file: &std::path::Path, read_model: bool) -> TestApp {
    let key_file = key_file.to_owned();
    TestApp::spawn_configured(database, Some(common::catalogue_dir()), move |config| {
        config.auth.dev_auth = true;
        config.auth.dev_key_file = key_file;
        config.cache.cache_answers = false;
        config.execution.read_model = read_model;
        // No journal reads for subscribers in the background while a test
        // counts statements.
        config.changes.changes_poll_milliseconds = 3_600_000;
    })
    .await
}

fn token(key_file: &std::path::Path, email: &str, admin: bool) -> String {
    catalogue_gateway::auth::DevKey::load_or_create(key_file)
        .unwrap()
        .mint(email, admin, 30)
        .unwrap()
}

/// `query`'s data as `token`'s bearer sees it (anyone's without one).
async fn data_as(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let answer = match token {
        Some(token) => app.query_as(token, query, variables).await.2,
        None => app.query(query, variables).await,
    };
    assert_eq!(answer["errors"], Value::Null, "{answer}");
    answer["data"].clone()
}

/// Every page of the list `filter` asks for in `order`, walked forward by
/// `after` and back by `before`, two or three projects at a time.
async fn walk(app: &TestApp, token: Option<&str>, filter: &Value, order: &Value) -> Vec<Value> {
    let vars = json!({"filter": filter, "order": order});
    walk_list(app, token, PAGED, "projects", vars, 2).await
}

/// Every page of the list `query` answers under `root` with `variables`,
/// walked forward `size` items at a time by `after`, then back by `before`.
async fn walk_list(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    root: &str,
    variables: Value,
    size: usize,
) -> Vec<Value> {
    let with = |paging: Value| {
        let mut variables = variables.clone();
        variables
            .as_object_mut()
            .unwrap()
            .extend(paging.as_object().unwrap().clone());
        variables
    };
    let mut pages = Vec::new();
    let mut after = Value::Null;
    loop {
        let vars = with(json!({"first": size, "after": after}));
        let page = data_as(app, token, query, vars).await;
        let info = page[root]["pageInfo"].clone();
        pages.push(page);
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    let mut before = Value::Null;
    loop {
        let vars = with(json!({"last": size + 1, "before": before}));
        let page = data_as(app, token, query, vars).await;
        let info = page[root]["pageInfo"].clone();
        pages.push(page);
        if info["hasPreviousPage"] != true {
            break;
        }
        before = info["startCursor"].clone();
    }
    pages
}

/// The model answers every list, page and lookup as the statements do, to
/// anyone and to agents, in every ordering and direction, once agents-only
/// projects and links exist.
async fn the_model_answers_as_the_statements(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dev.pem");
    let with_model = gateway(TestDatabase::create(backend).await, &key_file, true).await;
    let without = gateway(with_model.database.shared(), &key_file, false).await;
    let ready = with_model.readiness().await;
    assert_eq!(ready["readModel"]["status"], "ready", "{ready}");

    let admin = token(&key_file, "admin@numerique.gouv.fr", true);
    let agent = token(&key_file, "agent@insee.fr", false);
    let agents_only = data_as(
        &without,
        Some(&admin),
        r#"mutation { addRepository(input: {projectSlug: "cartiflette",
            url: "https://gitlab.insee.fr/cartiflette/interne", access: AGENTS}) { repository { id } } }"#,
        json!({}),
    )
    .await;
    assert!(agents_only["addRepository"]["repository"]["id"].is_string());

    for token in [None, Some(agent.as_str())] {
        for order in [
            json!({"field": "NAME", "direction": "ASC"}),
            json!({"field": "NAME", "direction": "DESC"}),
            json!({"field": "USED_BY", "direction": "DESC"}),
            json!({"field": "USED_BY", "direction": "ASC"}),
            json!({"field": "UPDATED_AT", "direction": "DESC"}),
        ] {
            assert_eq!(
                walk(&with_model, token, &json!({}), &order).await,
                walk(&without, token, &json!({}), &order).await,
                "{order} as {}",
                if token.is_some() {
                    "an agent"
                } else {
                    "anyone"
                }
            );
        }
        let by_name = json!({"field": "NAME", "direction": "ASC"});
        for filter in [
            json!({"hasCode": true}),
            json!({"hasCode": false}),
            json!({"hasData": true}),
            json!({"hasData": false}),
            json!({"forge": "GITLAB"}),
            json!({"forge": "GITHUB", "season": 2}),
            json!({"tag": "geoparquet"}),
            json!({"organization": "insee"}),
            json!({"status": "ARCHIVED"}),
            json!({"usedBy": {"atLeast": 1}}),
            json!({"text": "carte"}),
        ] {
            assert_eq!(
                walk(&with_model, token, &filter, &by_name).await,
                walk(&without, token, &filter, &by_name).await,
                "{filter}"
            );
        }
        assert_eq!(
            data_as(&with_model, token, NESTED, json!({})).await,
            data_as(&without, token, NESTED, json!({})).await
        );
        for slug in ["cartiflette", "trouver-mon-expert-data", "poufdoc", "nope"] {
            let vars = json!({"slug": slug});
            let model = data_as(&with_model, token, PAGE, vars.clone()).await;
            assert_eq!(model, data_as(&without, token, PAGE, vars).await, "{slug}");
        }
        for (query, filters, size) in [
            (
                REPOSITORIES,
                vec![
                    json!({}),
                    json!({"language": " python "}),
                    json!({"forge": "GITLAB"}),
                    json!({"organization": "insee", "forge": "GITHUB"}),
                    json!({"project": "cartiflette"}),
                ],
                7,
            ),
            (
                DATASETS,
                vec![
                    json!({}),
                    json!({"provider": "API"}),
                    json!({"organization": "insee"}),
                    json!({"project": "formiable"}),
                ],
                3,
            ),
        ] {
            for filter in filters {
                let vars = json!({"filter": filter});
                assert_eq!(
                    walk_list(&with_model, token, query, "list", vars.clone(), size).await,
                    walk_list(&without, token, query, "list", vars, size).await,
                    "{filter} in {query}"
                );
            }
        }
        // Gendarmerie nationale takes part in no project.
        for slug in ["insee", "dinum", "gendarmerie-nationale", "nope"] {
            let vars = json!({"slug": slug});
            let model = data_as(&with_model, token, ORGANIZATION, vars.clone()).await;
            assert_eq!(
                model,
                data_as(&without, token, ORGANIZATION, vars).await,
                "{slug}"
            );
        }
        for words in ["", "cartiflette", "insee"] {
            let vars = json!({"q": words});
            let model = data_as(&with_model, token, SEARCH, vars.clone()).await;
            assert_eq!(
                model,
                data_as(&without, token, SEARCH, vars).await,
                "{words}"
            );
        }
        let agents_url = "https://gitlab.insee.fr/cartiflette/interne";
        let page = data_as(&with_model, token, PAGE, json!({"slug": "cartiflette"})).await;
        assert_eq!(
            page.to_string().contains(agents_url),
            token.is_some(),
            "agents-only code is for agents: {page}"
        );
    }
}

/// The statements `query` costs `app`: the least of five answers, as the
/// search index's catch-up reads the revision every second beside them.
async fn statements(app: &TestApp, query: &str, variables: Value) -> u64 {
    let mut least = u64::MAX;
    for _ in 0..5 {
        let before = app.statements_executed().await;
        app.data(query, variables.clone()).await;
        least = least.min(app.statements_executed().await - before);
    }
    least
}

/// A query read from the model costs one statement (the revision read) for
/// everything the model holds, however many relations it shows; without
/// it, one per relation. (A project page also reads the harvested facts
/// standing in for a description or status the catalogue leaves empty:
/// the model does not hold them, either way one statement.)
async fn a_query_from_the_model_costs_one_statement(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dev.pem");
    let with_model = gateway(TestDatabase::create(backend).await, &key_file, true).await;
    let without = gateway(with_model.database.shared(), &key_file, false).await;
    let page = json!({"slug": "cartiflette"});
    assert_eq!(statements(&with_model, NESTED, json!({})).await, 1);
    assert_eq!(statements(&without, NESTED, json!({})).await, 4);
    // The project, its seasons, tags, organizations, code, data and links.
    assert_eq!(
        statements(&with_model, PAGE, page.clone()).await + 6,
        statements(&without, PAGE, page).await
    );
    // The organization, its projects and its uses come from the model.
    let insee = json!({"slug": "insee"});
    assert_eq!(
        statements(&with_model, ORGANIZATION, insee.clone()).await,
        1
    );
    assert_eq!(statements(&without, ORGANIZATION, insee).await, 3);
    // A search's hits, and the projects of its code and data, come from the
    // model: its revision read is the search index's too, which has
    // replayed that revision already. Without the model, the index reads
    // the revision itself, one statement per kind of hit on the page reads
    // the hits, and one the projects of their code and data.
    let everything = json!({"q": ""});
    assert_eq!(statements(&with_model, SEARCH, everything.clone()).await, 1);
    assert_eq!(statements(&with_model, FACETS, json!({})).await, 1);
    assert_eq!(statements(&without, FACETS, json!({})).await, 1);
    let hits = with_model.data(SEARCH, everything.clone()).await;
    let kinds: std::collections::BTreeSet<&str> = hits["search"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["object"]["__typename"].as_str().unwrap())
        .collect();
    assert!(kinds.len() > 1, "{hits}");
    assert_eq!(
        statements(&without, SEARCH, everything).await,
        2 + kinds.len() as u64,
        "{kinds:?}"
    );
}

/// A write committed by another replica is in the next answer: renamed, the
/// project moves in the name ordering; removed, its code is gone.
async fn a_write_on_another_replica_is_read_at_once(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dev.pem");
    let reader = gateway(TestDatabase::create(backend).await, &key_file, true).await;
    let writer = gateway(reader.database.shared(), &key_file, true).await;
    let admin = token(&key_file, "admin@numerique.gouv.fr", true);
    let first_slugs = |data: &Value| -> Vec<String> {
        data["projects"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["node"]["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = reader.data(NESTED, json!({})).await;
    assert_ne!(first_slugs(&before)[0], "trouver-mon-expert-data");

    let version = reader
        .data(
            r#"{ project(slug: "trouver-mon-expert-data") { version } }"#,
            json!({}),
        )
        .await;
    let renamed = data_as(
        &writer,
        Some(&admin),
        "mutation($v: Int!) { updateProject(slug: \"trouver-mon-expert-data\", input: {name: \"Aaa TED\"}, expectedVersion: $v) { project { name } } }",
        json!({"v": version["project"]["version"]}),
    )
    .await;
    assert_eq!(renamed["updateProject"]["project"]["name"], "Aaa TED");
    let after = reader.data(NESTED, json!({})).await;
    assert_eq!(first_slugs(&after)[0], "trouver-mon-expert-data", "{after}");
    assert_eq!(after["projects"]["edges"][0]["node"]["name"], "Aaa TED");

    let page = reader.data(PAGE, json!({"slug": "cartiflette"})).await;
    let repository = page["project"]["repositories"][0]["url"].clone();
    let id = reader
        .data(
            "query($s: String!) { project(slug: $s) { repositories { id url } } }",
            json!({"s": "cartiflette"}),
        )
        .await["project"]["repositories"][0]["id"]
        .clone();
    data_as(
        &writer,
        Some(&admin),
        "mutation($id: ID!) { removeLink(id: $id) { removedId } }",
        json!({"id": id}),
    )
    .await;
    let page = reader.data(PAGE, json!({"slug": "cartiflette"})).await;
    let urls: Vec<&Value> = page["project"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["url"])
        .collect();
    assert!(!urls.contains(&&repository), "{repository} in {urls:?}");
}

on_both_backends!(
    the_model_answers_as_the_statements,
    a_query_from_the_model_costs_one_statement,
    a_write_on_another_replica_is_read_at_once,
);
