//! Search and facets on the real catalogue's eight projects: accents, stemming, typos,
//! ranking, facet counts that agree with the hits, agents-only material
//! hidden from the public, freshness across gateways sharing a database, and
//! the same hits on SQLite and PostgreSQL.

use crate::common;

use catalogue_gateway::Config;
use catalogue_gateway::auth::DevKey;
use catalogue_gateway::config::Secret;
use catalogue_gateway::store::{ChangesSince, Store};
use common::upstream::TestUpstream;
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $kinds: [SearchKind!], $filter: SearchFilter,
                            $first: Int, $after: String) {
    search(query: $q, kinds: $kinds, filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node {
            score
            snippets { field text html }
            object {
                __typename
                ... on Project { slug }
                ... on Repository { url }
                ... on Dataset { url }
                ... on Organization { slug }
            } } } } }";

const FACETS: &str = "query($q: String, $kinds: [SearchKind!], $filter: SearchFilter) {
    facets(query: $q, kinds: $kinds, filter: $filter, limit: 500) {
        totalCount
        kinds { value label count } languages { value label count }
        licenses { value label count } forges { value label count }
        organizations { value label count } tags { value label count }
        seasons { value label count } statuses { value label count }
        access { value label count } } }";

const ADMIN: &str = "admin@numerique.gouv.fr";
const AGENT: &str = "agent@culture.gouv.fr";

/// A gateway (or several on one database) with the dev issuer's tokens.
struct Setup {
    app: TestApp,
    key_file: std::path::PathBuf,
    admin: String,
    agent: String,
    _key_dir: tempfile::TempDir,
}

impl Setup {
    async fn new(backend: Backend) -> Self {
        Self::with(backend, |_| {}).await
    }

    async fn with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("dev.pem");
        let key = DevKey::load_or_create(&key_file).unwrap();
        let app = spawn(TestDatabase::create(backend).await, &key_file, configure).await;
        Self {
            app,
            admin: key.mint(ADMIN, true, 30).unwrap(),
            agent: key.mint(AGENT, false, 30).unwrap(),
            key_file,
            _key_dir: dir,
        }
    }

    /// A second gateway on the same database, with its own search index.
    async fn second_gateway(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        spawn(self.app.database.shared(), &self.key_file, configure).await
    }

    async fn as_admin(&self, app: &TestApp, query: &str, variables: Value) -> Value {
        let (status, _, answer) = app.query_as(&self.admin, query, variables).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "{answer:#}");
        answer["data"].clone()
    }

    /// Creates the project `oiseaux`, named « Ornithologie ouverte », on the first gateway.
    async fn create_bird_project(&self) {
        self.as_admin(
            &self.app,
            "mutation { createProject(input: {slug: \"oiseaux\", name: \"Ornithologie ouverte\",
                summary: \"Comptages d'oiseaux\"}) { project { slug } } }",
            json!({}),
        )
        .await;
    }

    async fn as_agent(&self, query: &str, variables: Value) -> Value {
        let (status, _, answer) = self.app.query_as(&self.agent, query, variables).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "{answer:#}");
        answer["data"].clone()
    }
}

async fn spawn(
    database: TestDatabase,
    key_file: &std::path::Path,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let key_file = key_file.to_owned();
    TestApp::spawn_configured(database, Some(catalogue_dir()), move |config| {
        config.auth.dev_auth = true;
        config.auth.dev_key_file = key_file;
        configure(config);
    })
    .await
}

/// Each hit as `Type:slug-or-url`, best first.
fn hits(search: &Value) -> Vec<String> {
    search["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let object = &edge["node"]["object"];
            let name = object["slug"].as_str().or(object["url"].as_str()).unwrap();
            format!("{}:{name}", object["__typename"].as_str().unwrap())
        })
        .collect()
}

async fn search(app: &TestApp, query: &str) -> Value {
    search_with(app, json!({ "q": query, "first": 100 })).await
}

async fn search_with(app: &TestApp, variables: Value) -> Value {
    app.data(SEARCH, variables).await["search"].clone()
}

fn projects(search: &Value) -> Vec<String> {
    hits(search)
        .into_iter()
        .filter_map(|hit| hit.strip_prefix("Project:").map(str::to_owned))
        .collect()
}

async fn accents_and_case_are_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let plain = search(&app, "donnees").await;
    assert!(
        projects(&plain).contains(&"chartsgouv".to_owned()),
        "ChartsGouv says « visualisation de données »: {plain:#}"
    );
    for spelling in ["Données", "DONNÉES", "données"] {
        assert_eq!(
            hits(&search(&app, spelling).await),
            hits(&plain),
            "{spelling}"
        );
    }
    let chartsgouv = plain["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|edge| edge["node"]["object"]["slug"] == "chartsgouv")
        .expect("ChartsGouv is found");
    let snippet = &chartsgouv["node"]["snippets"];
    assert!(
        snippet.to_string().contains("<mark>données</mark>"),
        "the accented word is marked as written: {snippet}"
    );
}

async fn inflections_are_folded_by_stemming(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(projects(&search(&app, "rapports").await), ["poufdoc"]);
    assert_eq!(projects(&search(&app, "rapport").await), ["poufdoc"]);
    // Cartiflette's summary says « fonds de carte ».
    assert!(projects(&search(&app, "cartes").await).contains(&"cartiflette".to_owned()));
    // « cartographie » is not in Cartiflette's text: its synonyms (carte, géographique, geospatial) are.
    let cartographie = search(&app, "cartographie").await;
    assert!(
        projects(&cartographie).contains(&"cartiflette".to_owned()),
        "{cartographie:#}"
    );
}

async fn one_typo_is_tolerated_in_long_words_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for typo in ["cartiflete", "catriflette", "cartifllette", "poufdic"] {
        let found = projects(&search(&app, typo).await);
        assert_eq!(found.len(), 1, "{typo}: {found:?}");
    }
    assert_eq!(
        projects(&search(&app, "cartiflette").await),
        ["cartiflette"]
    );
    assert_eq!(projects(&search(&app, "poufdic").await), ["poufdoc"]);
    // Two typos, or one in a word of fewer than five letters: nothing.
    assert_eq!(search(&app, "cartiflettte2").await["totalCount"], 0);
    assert_eq!(search(&app, "ogn").await["totalCount"], 0, "IGN misspelt");
    assert!(search(&app, "ign").await["totalCount"].as_u64().unwrap() > 0);
}

async fn names_and_tags_rank_above_descriptions(backend: Backend) {
    let setup = Setup::new(backend).await;
    // A project whose description names another project: the one named ranks first.
    setup
        .as_admin(
            &setup.app,
            "mutation { createProject(input: {slug: \"atelier-restitution\", name: \"Atelier restitution\",
                summary: \"Un atelier\", description: \"Un atelier pour présenter PoufDoc et ses rapports.\"}) { project { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        projects(&search(&setup.app, "poufdoc").await),
        ["poufdoc", "atelier-restitution"]
    );
    // « reporting » is a tag of PoufDoc.
    let reporting = search(&setup.app, "reporting").await;
    assert_eq!(hits(&reporting)[0], "Project:poufdoc", "{reporting:#}");
    let scores: Vec<f64> = reporting["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["score"].as_f64().unwrap())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
}

async fn queries_about_nothing_catalogued_find_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // No catalogued project anonymises personal data (Datanonyme reviews
    // anonymisation methods; it names no personal data).
    assert_eq!(
        search(&app, "donnees personnelles anonymiser").await["totalCount"],
        0
    );
    assert_eq!(search(&app, "xylophone").await["totalCount"], 0);
}

async fn every_kind_of_object_is_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let insee = hits(&search(&app, "INSEE").await);
    assert_eq!(insee[0], "Organization:insee", "{insee:?}");
    assert!(
        insee.contains(&"Project:cartiflette".to_owned()),
        "{insee:?}"
    );
    let datasets = search_with(&app, json!({ "q": "emploi public", "kinds": ["DATASET"] })).await;
    // PoufDoc and TrouverMonExpertData both use the job offers of the Place de l'emploi public.
    let offers = "Dataset:https://www.data.gouv.fr/fr/datasets/les-offres-diffusees-sur-la-place-de-lemploi-public/";
    assert_eq!(hits(&datasets), [offers, offers]);
    let repositories =
        search_with(&app, json!({ "q": "cartiflette", "kinds": ["REPOSITORY"] })).await;
    assert_eq!(
        hits(&repositories),
        [
            "Repository:https://github.com/InseeFrLab/cartiflette",
            "Repository:https://github.com/InseeFrLab/cartiflette-r",
            "Repository:https://github.com/InseeFrLab/cartiflette-website"
        ]
    );
}

async fn harvested_text_is_searchable_once_harvested(backend: Backend) {
    let upstream = TestUpstream::start().await;
    let setup = Setup::with(backend, |config| upstream.configure(config)).await;
    assert_eq!(search(&setup.app, "fixture").await["totalCount"], 0);
    // Harvested by another process: the gateway hears of it through the database.
    let (ok, stdout, stderr) = common::run_cli_with(
        &setup.app.database.url,
        &["harvest".as_ref()],
        &upstream.environment(),
    );
    assert!(ok, "{stdout}{stderr}");
    let found = hits(&search(&setup.app, "fixture repository description").await);
    assert!(
        found.contains(&"Repository:https://github.com/cdugeai/poufdoc".to_owned()),
        "{found:?}"
    );
    let datasets = search_with(
        &setup.app,
        json!({ "q": "fixture dataset", "kinds": ["DATASET"] }),
    )
    .await;
    assert!(datasets["totalCount"].as_u64().unwrap() > 0, "{datasets:#}");
    // publiccode.yml descriptions count, in French when given.
    assert!(
        search(&setup.app, "description courte").await["totalCount"]
            .as_u64()
            .unwrap()
            > 0
    );
}

/// What only an agents-only repository's `publiccode.yml` says (here, the
/// status it implies) is not searchable or countable by the public.
async fn an_agents_only_publiccode_lends_nothing_to_the_public(backend: Backend) {
    let upstream = TestUpstream::start().await;
    let setup = Setup::with(backend, |config| upstream.configure(config)).await;
    setup
        .as_admin(
            &setup.app,
            "mutation { createProject(input: {slug: \"outil-interne\", name: \"Outil zanzibar\",
                summary: \"Un outil\"}) { project { slug } } }",
            json!({}),
        )
        .await;
    setup
        .as_admin(
            &setup.app,
            "mutation { updateProject(slug: \"outil-interne\", expectedVersion: 1, input: {status: null}) { project { slug } } }",
            json!({}),
        )
        .await;
    setup
        .as_admin(
            &setup.app,
            "mutation { addRepository(input: {projectSlug: \"outil-interne\",
                url: \"https://github.com/interne/outil\", access: AGENTS}) { repository { url } } }",
            json!({}),
        )
        .await;
    setup
        .as_admin(
            &setup.app,
            "mutation { refreshProject(slug: \"outil-interne\") { changed } }",
            json!({}),
        )
        .await;
    let active =
        json!({ "q": "zanzibar", "kinds": ["PROJECT"], "filter": { "statuses": ["ACTIVE"] } });
    let agents = setup.as_agent(SEARCH, active.clone()).await["search"].clone();
    assert_eq!(
        hits(&agents),
        ["Project:outil-interne"],
        "its publiccode.yml says beta"
    );
    assert_eq!(search_with(&setup.app, active).await["totalCount"], 0);
    let facets = setup.app.data(FACETS, json!({ "q": "zanzibar" })).await["facets"].clone();
    assert_eq!(facets["totalCount"], 1);
    assert_eq!(facets["statuses"], json!([]), "{facets:#}");
}

/// Checks that each facet value's count is what a search, and the facets,
/// filtered on it find: every dimension `SearchFacets` has (read from the
/// schema, so that a new one is checked too), its values passed back as the
/// answer gives them, `kinds`' in the argument of that name, the others in
/// the `SearchFilter` field of the dimension's name.
async fn assert_facets_match_hits(app: &TestApp, token: Option<&str>, query: &str) {
    let send = |q: String, variables: Value| async move {
        match token {
            Some(token) => {
                let (_, _, answer) = app.query_as(token, &q, variables).await;
                assert!(answer.get("errors").is_none(), "{answer:#}");
                answer["data"].clone()
            }
            None => app.data(&q, variables).await,
        }
    };
    let dimensions: Vec<String> = send(
        "{ __type(name: \"SearchFacets\") { fields { name type { ofType { ofType { ofType { name } } } } } } }"
            .to_owned(),
        json!({}),
    )
    .await["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|field| field["type"]["ofType"]["ofType"]["ofType"]["name"] == "FacetValue")
        .map(|field| field["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(dimensions.len() >= 9, "{dimensions:?}");
    let facets_query = format!(
        "query($q: String, $kinds: [SearchKind!], $filter: SearchFilter) {{
            facets(query: $q, kinds: $kinds, filter: $filter, limit: 500) {{
                totalCount {} }} }}",
        dimensions
            .iter()
            .map(|dimension| format!("{dimension} {{ value label count }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let facets = send(facets_query.clone(), json!({ "q": query })).await["facets"].clone();
    let total =
        send(SEARCH.to_owned(), json!({ "q": query, "first": 0 })).await["search"]["totalCount"]
            .clone();
    assert_eq!(facets["totalCount"], total, "{query}");
    let kinds: u64 = facets["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["count"].as_u64().unwrap())
        .sum();
    assert_eq!(Value::from(kinds), total, "every hit has one kind");
    let mut checked = 0;
    for dimension in &dimensions {
        for value in facets[dimension].as_array().unwrap() {
            let mut variables = json!({ "q": query, "first": 0 });
            if dimension == "kinds" {
                variables["kinds"] = json!([value["value"]]);
            } else {
                variables["filter"] = json!({ dimension: [value["value"]] });
            }
            let filtered = send(SEARCH.to_owned(), variables.clone()).await;
            assert_eq!(
                filtered["search"]["totalCount"], value["count"],
                "{query}: search with {dimension} = {value}"
            );
            let filtered = send(facets_query.clone(), variables).await;
            assert_eq!(
                filtered["facets"]["totalCount"], value["count"],
                "{query}: facets with {dimension} = {value}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 5,
        "{query}: too few facet values to mean anything: {facets:#}"
    );
    assert!(
        !facets["seasons"].as_array().unwrap().is_empty(),
        "{query}: {facets:#}"
    );
}

async fn facet_counts_equal_the_hits_counts(backend: Backend) {
    // Many small requests: above the default rate limit.
    let setup = Setup::with(backend, |config| {
        config.limits.rate_limit_per_minute = 100_000
    })
    .await;
    for query in ["", "donnees", "carte"] {
        assert_facets_match_hits(&setup.app, None, query).await;
        assert_facets_match_hits(&setup.app, Some(&setup.agent), query).await;
    }
    let facets = setup.app.data(FACETS, json!({ "q": "" })).await["facets"].clone();
    let insee = facets["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["value"] == "insee")
        .cloned()
        .unwrap();
    assert_eq!(
        insee["label"],
        "Institut national de la statistique et des études économiques"
    );
    // Filters combine: every filter must hold, any value of one filter will do.
    let both = search_with(
        &setup.app,
        json!({ "q": "", "kinds": ["PROJECT"], "filter": { "organizations": ["insee"], "seasons": [1, 2] } }),
    )
    .await;
    assert!(
        projects(&both).contains(&"cartiflette".to_owned()),
        "{both:#}"
    );

    // Disjunctive counts: a dimension filtered on is counted without its own
    // filter, the others still apply.
    let disjunctive = setup
        .app
        .data(
            "query($kinds: [SearchKind!], $filter: SearchFilter) {
                facets(query: \"\", kinds: $kinds, filter: $filter, disjunctive: true) {
                    totalCount kinds { value count } organizations { value count } } }",
            json!({ "kinds": ["PROJECT"], "filter": { "organizations": ["insee"] } }),
        )
        .await["facets"]
        .clone();
    let kinds = disjunctive["kinds"].as_array().unwrap();
    assert!(kinds.len() > 1, "other kinds are offered: {disjunctive:#}");
    for kind in kinds {
        let alone = search_with(
            &setup.app,
            json!({ "q": "", "first": 0, "kinds": [kind["value"]], "filter": { "organizations": ["insee"] } }),
        )
        .await;
        assert_eq!(alone["totalCount"], kind["count"], "{kind}");
    }
    for organization in disjunctive["organizations"].as_array().unwrap() {
        let alone = search_with(
            &setup.app,
            json!({ "q": "", "first": 0, "kinds": ["PROJECT"], "filter": { "organizations": [organization["value"]] } }),
        )
        .await;
        assert_eq!(alone["totalCount"], organization["count"], "{organization}");
    }
}

async fn agents_only_material_is_hidden_from_the_public(backend: Backend) {
    let setup = Setup::new(backend).await;
    let total = |facets: &Value| facets["totalCount"].as_u64().unwrap();
    let public_before = total(&setup.app.data(FACETS, json!({ "q": "" })).await["facets"]);
    let agents_before = total(&setup.as_agent(FACETS, json!({ "q": "" })).await["facets"]);
    assert!(
        agents_before > public_before,
        "FormIAble's bucket is for agents"
    );
    setup
        .as_admin(
            &setup.app,
            "mutation { createProject(input: {slug: \"projet-reserve\", name: \"Projet réservé zanzibar\",
                summary: \"Réservé aux agents\", visibility: AGENTS}) { project { slug } } }",
            json!({}),
        )
        .await;
    setup
        .as_admin(
            &setup.app,
            "mutation { addRepository(input: {projectSlug: \"poufdoc\", url: \"https://gitlab.com/interne/zanzibar-outil\",
                access: AGENTS}) { repository { url } } }",
            json!({}),
        )
        .await;

    let public = search(&setup.app, "zanzibar").await;
    assert_eq!(public["totalCount"], 0, "{public:#}");
    let agent = setup.as_agent(SEARCH, json!({ "q": "zanzibar" })).await["search"].clone();
    assert_eq!(
        hits(&agent),
        [
            "Project:projet-reserve",
            "Repository:https://gitlab.com/interne/zanzibar-outil"
        ]
    );

    let public_facets = setup.app.data(FACETS, json!({ "q": "" })).await["facets"].clone();
    let agent_facets = setup.as_agent(FACETS, json!({ "q": "" })).await["facets"].clone();
    // Every public repository is on GitHub: GitLab comes from the agents-only one.
    let text = public_facets.to_string();
    assert!(!text.contains("GITLAB"), "{text}");
    assert!(
        !text.contains("\"AGENTS\""),
        "no agents-only access facet: {text}"
    );
    assert!(agent_facets["forges"].to_string().contains("GITLAB"));
    assert_eq!(total(&public_facets), public_before);
    assert_eq!(total(&agent_facets), agents_before + 2);
    // Asking for it by filter does not reveal it either, nor the public
    // project it belongs to.
    for filter in [
        json!({ "forges": ["GITLAB"] }),
        json!({ "access": ["AGENTS"] }),
    ] {
        let filtered = search_with(&setup.app, json!({ "q": "", "filter": filter })).await;
        assert_eq!(filtered["totalCount"], 0, "{filter}: {filtered:#}");
    }
    let gitlab = setup
        .as_agent(
            SEARCH,
            json!({ "q": "", "filter": { "forges": ["GITLAB"] } }),
        )
        .await["search"]
        .clone();
    assert_eq!(
        hits(&gitlab),
        [
            "Project:poufdoc",
            "Repository:https://gitlab.com/interne/zanzibar-outil"
        ]
    );
}

/// Everything an anonymous caller is told about `query`: the hits with
/// their scores and snippets, every page of one hit, and the facets.
async fn public_answers(app: &TestApp, query: &str) -> Vec<Value> {
    let mut answers = vec![
        search(app, query).await,
        app.data(FACETS, json!({ "q": query })).await,
    ];
    let mut after = Value::Null;
    loop {
        let page = search_with(app, json!({ "q": query, "first": 1, "after": after })).await;
        after = page["pageInfo"]["endCursor"].clone();
        let more = page["pageInfo"]["hasNextPage"] == true;
        answers.push(page);
        if !more {
            return answers;
        }
    }
}

/// BM25 weighs a word by how few documents hold it and a document by its
/// length against the average: counted over agents-only documents too,
/// the public's scores and order would move when such documents are
/// added, telling that documents it cannot read hold its words.
async fn agents_only_documents_change_nothing_for_the_public(backend: Backend) {
    let unlimited = |config: &mut Config| config.limits.rate_limit_per_minute = 100_000;
    let setup = Setup::with(backend, unlimited).await;
    // « zorglub » is in fewer public descriptions than « quetzal », so it
    // weighs more: the project that says it thrice ranks first.
    for (slug, name, summary) in [
        (
            "releves-z",
            "Premiers relevés",
            "zorglub zorglub zorglub quetzal xylophage",
        ),
        (
            "releves-q",
            "Seconds relevés",
            "zorglub quetzal quetzal quetzal xylophage",
        ),
        ("inventaire", "Inventaire", "quetzal"),
    ] {
        setup
            .as_admin(
                &setup.app,
                "mutation($input: CreateProjectInput!) { createProject(input: $input) { project { slug } } }",
                json!({ "input": { "slug": slug, "name": name, "summary": summary } }),
            )
            .await;
    }
    let queries = [
        "zorglub quetzal",
        "zorglub quetzal xylophage",
        "zorglub",
        "",
    ];
    let mut before = Vec::new();
    for query in queries {
        before.push(public_answers(&setup.app, query).await);
    }
    assert_eq!(
        projects(&before[0][0]),
        ["releves-z", "releves-q"],
        "{:#}",
        before[0][0]
    );

    // Agents-only projects that say « zorglub » but not « quetzal », and
    // agents-only datasets of a public project named after it: counted,
    // they would make « zorglub » the commoner word.
    for n in 0..8 {
        setup
            .as_admin(
                &setup.app,
                "mutation($input: CreateProjectInput!) { createProject(input: $input) { project { slug } } }",
                json!({ "input": { "slug": format!("interne-{n}"), "name": format!("Interne {n}"),
                    "summary": "zorglub zorglub xylophage", "visibility": "AGENTS" } }),
            )
            .await;
    }
    for n in 0..4 {
        setup
            .as_admin(
                &setup.app,
                "mutation($input: AddDatasetInput!) { addDataset(input: $input) { dataset { url } } }",
                json!({ "input": { "projectSlug": "releves-z", "title": format!("Zorglub {n}"),
                    "url": format!("https://data.example/zorglub-{n}"), "access": "AGENTS" } }),
            )
            .await;
    }

    let agent = setup
        .as_agent(SEARCH, json!({ "q": "zorglub", "first": 100 }))
        .await["search"]
        .clone();
    let kinds: Vec<String> = hits(&agent)
        .iter()
        .filter_map(|hit| Some(hit.split_once(':')?.0.to_owned()))
        .collect();
    assert_eq!(kinds.len(), 14, "{agent:#}");
    assert_eq!(kinds.iter().filter(|k| *k == "Dataset").count(), 4);

    let order = search(&setup.app, "zorglub quetzal").await;
    assert_eq!(
        projects(&order),
        ["releves-z", "releves-q"],
        "the order the public sees is the public documents' own: {order:#}"
    );
    // The same answers, to the last bit of every score, from the gateway
    // that indexed the additions and from one that indexes everything anew.
    let fresh = setup.second_gateway(unlimited).await;
    for (query, before) in queries.iter().zip(&before) {
        assert_eq!(&public_answers(&setup.app, query).await, before, "{query}");
        assert_eq!(&public_answers(&fresh, query).await, before, "{query}");
    }
}

/// Writes a catalogue of 50 public projects of 90 datasets each, whose
/// titles say « zorglub » (one in five), « quetzal » (one in three) and
/// « xylophage » (one in two) once or more, among a varied number of other
/// words; with `agents_only`, 20 agents-only projects follow, whose 100
/// datasets each say « zorglub », making it the commonest of the three.
fn write_survey_catalogue(dir: &std::path::Path, agents_only: bool) {
    std::fs::write(
        dir.join("organizations.yaml"),
        "organizations:\n  - slug: observatoire\n    name: Observatoire\n    kind: other\n",
    )
    .unwrap();
    let project = |slug: &str, visibility: &str, titles: Vec<String>| {
        let mut text = format!(
            "slug: {slug}\nname: Relevés {slug}\nsummary: Relevés de terrain.\nvisibility: {visibility}\n\
             sources:\n  - title: relevés\n    url: https://example.org/releves\ndatasets:\n"
        );
        for (n, title) in titles.iter().enumerate() {
            text.push_str(&format!(
                "  - url: https://data.example/{slug}/{n}\n    provider: other\n    title: {title}\n"
            ));
        }
        std::fs::write(dir.join(format!("{slug}.yaml")), text).unwrap();
    };
    for p in 0..50 {
        let titles = (0..90)
            .map(|d| {
                let i = p * 90 + d;
                let said = |word: &str, every: usize, times: usize| {
                    if i % every == 0 {
                        vec![word; times].join(" ")
                    } else {
                        String::new()
                    }
                };
                format!(
                    "Relevé {i} {} {} {} {}",
                    "mesure ".repeat(i / 30 % 7),
                    said("zorglub", 5, 1 + i / 30 % 3),
                    said("quetzal", 3, 1 + i / 90 % 4),
                    said("xylophage", 2, 1 + i / 60 % 2)
                )
            })
            .collect();
        project(&format!("releve-{p:02}"), "public", titles);
    }
    if agents_only {
        for p in 0..20 {
            let titles = (0..100).map(|d| format!("Zorglub {d}")).collect();
            project(&format!("zz-interne-{p:02}"), "agents", titles);
        }
    }
}

/// With more than 4,096 documents in a segment, tantivy orders a
/// conjunction's clauses by how many documents each matches there before
/// adding up their scores: agents-only documents in the same segment change
/// no public score either, to the last bit.
async fn agents_only_documents_change_no_public_score_at_scale(backend: Backend) {
    let mut answers = Vec::new();
    for agents_only in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        write_survey_catalogue(dir.path(), agents_only);
        let app = TestApp::spawn_configured(
            TestDatabase::create(backend).await,
            Some(dir.path().to_owned()),
            |config| config.limits.rate_limit_per_minute = 100_000,
        )
        .await;
        let mut answer = Vec::new();
        for query in ["zorglub quetzal xylophage", "xylophage zorglub", "zorglub"] {
            answer.push((query, search(&app, query).await));
            answer.push((query, app.data(FACETS, json!({ "q": query })).await));
        }
        assert_eq!(answer[0].1["totalCount"], 150, "{:#}", answer[0].1);
        answers.push(answer);
    }
    for ((query, without), (_, with)) in answers[0].iter().zip(&answers[1]) {
        assert_eq!(without, with, "{query}");
    }
}

/// Replicas share Redis for their answer cache, as in production.
fn shared_redis(prefix: &str) -> impl Fn(&mut Config) + Clone + use<> {
    let prefix = format!("search-test:{prefix}:{}:", std::process::id());
    move |config: &mut Config| {
        config.cache.redis_url = Some(Secret::new("redis://127.0.0.1:6379"));
        config.cache.redis_prefix = prefix.clone();
    }
}

async fn a_write_is_searchable_through_another_gateway_via_redis(backend: Backend) {
    let redis = shared_redis(&format!("{backend:?}"));
    let setup = Setup::with(backend, redis.clone()).await;
    let other = setup.second_gateway(redis).await;
    common::redis::wait_until_tracked(&other).await;
    assert_eq!(search(&other, "ornithologie").await["totalCount"], 0);
    setup.create_bird_project().await;
    // The other gateway's cached answers last until it reads Redis's invalidation.
    let found = common::redis::once_invalidated(
        || search(&other, "ornithologie"),
        |found| found["totalCount"] != 0,
    )
    .await;
    assert_eq!(projects(&found), ["oiseaux"]);
    // An update replaces what was indexed: the old name is no longer found.
    setup
        .as_admin(
            &setup.app,
            "mutation { updateProject(slug: \"oiseaux\", expectedVersion: 1, input: {name: \"Comptage des hirondelles\"}) { project { name } } }",
            json!({}),
        )
        .await;
    let renamed = common::redis::once_invalidated(
        || search(&other, "ornithologie"),
        |found| found["totalCount"] == 0,
    )
    .await;
    assert_eq!(renamed["totalCount"], 0);
    assert_eq!(projects(&search(&other, "hirondelles").await), ["oiseaux"]);
    // Hidden from the public by a write on the second gateway: gone from the first one's hits.
    setup
        .as_admin(
            &other,
            "mutation { updateProject(slug: \"oiseaux\", expectedVersion: 2, input: {visibility: AGENTS}) { project { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(search(&setup.app, "hirondelles").await["totalCount"], 0);
}

/// Without Redis, each gateway's answer cache is its own: it forgets what
/// changes made elsewhere made stale as soon as its index replays them.
async fn in_process_caches_forget_answers_made_stale_elsewhere(backend: Backend) {
    let setup = Setup::new(backend).await;
    let other = setup.second_gateway(|_| {}).await;
    assert_eq!(search(&other, "ornithologie").await["totalCount"], 0);
    setup.create_bird_project().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while search(&other, "ornithologie").await["totalCount"] == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second gateway kept serving its stale answer"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A replica that has not read changes before they were pruned from the
/// journal reindexes everything rather than miss them.
async fn a_replica_that_missed_pruned_changes_reindexes_everything(backend: Backend) {
    let setup = Setup::new(backend).await;
    let other = setup.second_gateway(|_| {}).await;
    setup.create_bird_project().await;
    let store = Store::connect(&setup.app.database.url).await.unwrap();
    let pruned = store
        .prune_changes(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert!(pruned >= 1);
    assert!(matches!(
        store.changes_since(0).await.unwrap(),
        ChangesSince::Incomplete { .. }
    ));
    assert_eq!(projects(&search(&other, "ornithologie").await), ["oiseaux"]);
    assert_eq!(
        search(&other, "").await["totalCount"],
        search(&setup.app, "").await["totalCount"]
    );
}

async fn pages_cover_every_hit_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let all = search(&app, "").await;
    let total = all["totalCount"].as_u64().unwrap();
    assert!(total > 30, "{total}");
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = search_with(&app, json!({ "q": "", "first": 7, "after": after })).await;
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        seen.extend(hits(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, hits(&all));
    assert_eq!(seen.len() as u64, total);
}

/// Many searches and counts at once queue for a core each, and every one
/// gets its own answer: the one another gateway gives when asked one at a
/// time (answers are not kept: each is computed).
async fn searches_at_once_each_get_their_own_answer(backend: Backend) {
    let uncached = |config: &mut Config| config.cache.cache_answers = false;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dev.pem");
    let app = spawn(TestDatabase::create(backend).await, &key_file, uncached).await;
    let one_at_a_time = spawn(app.database.shared(), &key_file, uncached).await;
    let asks: Vec<(&str, Value)> = (0..24)
        .map(|n| {
            let filter = json!({ "seasons": [1 + n / 12] });
            (
                SEARCH,
                json!({ "q": "", "first": 1 + n % 12, "filter": filter }),
            )
        })
        .chain((0..24).map(|n| {
            let words = ["données", "carte", "python", ""][n % 4];
            (
                FACETS,
                json!({ "q": words, "filter": { "seasons": [1 + n / 12] } }),
            )
        }))
        .collect();
    let at_once = asks
        .iter()
        .map(|(query, vars)| app.data(query, vars.clone()));
    let at_once = futures_util::future::join_all(at_once).await;
    for ((query, vars), answer) in asks.iter().zip(at_once) {
        assert_eq!(
            answer,
            one_at_a_time.data(query, vars.clone()).await,
            "{vars}"
        );
    }
}

async fn bad_input_is_refused_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            json!({ "q": "carte", "after": "bm90IGEgY3Vyc29y" }),
            "after",
        ),
        (json!({ "q": "carte", "first": 1000 }), "first"),
        (json!({ "q": "a".repeat(201) }), "query"),
        (
            json!({ "q": (1..=13).map(|n| format!("mot{n}")).collect::<Vec<_>>().join(" ") }),
            "query",
        ),
        (
            json!({ "q": "", "filter": { "tags": vec!["x"; 51] } }),
            "filter.tags",
        ),
    ];
    for (variables, field) in cases {
        let answer = app.query(SEARCH, variables.clone()).await;
        let error = &answer["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "BAD_USER_INPUT",
            "{variables}: {answer}"
        );
        assert!(
            error["message"].as_str().unwrap().starts_with(field),
            "{variables}: {answer}"
        );
    }
}

/// `filter.seasons` takes a season's number as an Int or as the String a
/// facet gives, literally or in variables, and refuses anything else with a
/// code.
async fn season_filters_take_numbers_and_facet_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let total = |answer: &Value| answer["search"]["totalCount"].as_u64().unwrap();
    let by_int = total(
        &app.data(
            "{ search(query: \"\", filter: {seasons: [1]}) { totalCount } }",
            json!({}),
        )
        .await,
    );
    let everything = total(
        &app.data("{ search(query: \"\") { totalCount } }", json!({}))
            .await,
    );
    assert!(
        0 < by_int && by_int < everything,
        "{by_int} of {everything}"
    );
    for seasons in [json!([1]), json!(["1"]), json!(["1", 1])] {
        let data = app
            .data(
                SEARCH,
                json!({ "q": "", "first": 0, "filter": { "seasons": seasons } }),
            )
            .await;
        assert_eq!(total(&data), by_int, "{seasons}");
    }
    let literal = app
        .data(
            "{ search(query: \"\", filter: {seasons: [\"1\", 1]}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(total(&literal), by_int);
    for refused in [
        json!("x"),
        json!(""),
        json!(" 1"),
        json!("-1"),
        json!(1.5),
        json!(true),
    ] {
        let answer = app
            .query(
                SEARCH,
                json!({ "q": "", "filter": { "seasons": [refused] } }),
            )
            .await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{refused}: {answer}"
        );
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("SeasonNumber"), "{message}");
        assert_eq!(answer["data"], Value::Null, "{refused}: {answer}");
    }
}

/// Facet counts, kept per index generation, follow each write: the same
/// selections asked before and after it count the new project.
async fn facet_counts_follow_each_write(backend: Backend) {
    let setup = Setup::new(backend).await;
    let statuses =
        "query($q: String) { facets(query: $q) { totalCount statuses { value count } } }";
    let everything = "query($q: String) { facets(query: $q) { totalCount kinds { value count } } }";
    let before = setup.app.data(statuses, json!({ "q": "" })).await;
    let birds = setup
        .app
        .data(everything, json!({ "q": "ornithologie" }))
        .await;
    assert_eq!(birds["facets"]["totalCount"], 0);
    setup.create_bird_project().await;
    let after = setup.app.data(everything, json!({ "q": "" })).await;
    assert_eq!(
        after["facets"]["totalCount"].as_u64().unwrap(),
        before["facets"]["totalCount"].as_u64().unwrap() + 1
    );
    let birds = setup
        .app
        .data(statuses, json!({ "q": "ornithologie" }))
        .await;
    assert_eq!(birds["facets"]["totalCount"], 1);
}

/// Search pages, kept per index generation and audience, follow each write
/// and are never one audience's for another: an agent's page of the empty
/// query, asked first, holds agents-only material the public's never shows.
async fn search_pages_follow_each_write(backend: Backend) {
    let setup = Setup::new(backend).await;
    let page = "query($q: String!) { search(query: $q, first: 50) { totalCount
        edges { node { object { __typename ... on Project { slug } } } } } }";
    let agents = setup.as_agent(page, json!({ "q": "" })).await["search"].clone();
    let public = setup.app.data(page, json!({ "q": "" })).await["search"].clone();
    assert!(
        agents["totalCount"].as_u64() > public["totalCount"].as_u64(),
        "FormIAble's bucket is for agents: {agents} / {public}"
    );
    assert_eq!(
        public,
        setup.app.data(page, json!({ "q": "" })).await["search"]
    );
    let birds = setup.app.data(page, json!({ "q": "ornithologie" })).await;
    assert_eq!(birds["search"]["totalCount"], 0);

    setup.create_bird_project().await;
    let after = setup.app.data(page, json!({ "q": "" })).await["search"].clone();
    assert_eq!(
        after["totalCount"].as_u64().unwrap(),
        public["totalCount"].as_u64().unwrap() + 1
    );
    let birds = setup.app.data(page, json!({ "q": "ornithologie" })).await;
    assert_eq!(birds["search"]["totalCount"], 1, "{birds}");
}

/// An index kept in a directory for another database (here, one with the
/// eight projects; the gateway now serves an empty one) is rebuilt, not served.
async fn an_index_kept_for_another_database_is_rebuilt(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let keep_in = |config: &mut Config| config.database.search_index_dir = Some(dir.path().into());
    let first = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue_dir()),
        keep_in,
    )
    .await;
    assert!(!projects(&search(&first, "cartiflette").await).is_empty());
    first.stop().await;
    let other = TestApp::spawn_configured(TestDatabase::create(backend).await, None, keep_in).await;
    assert_eq!(search(&other, "").await["totalCount"], 0);
}

/// The projects table of `url`, locked until `release`: what reads it waits.
struct ProjectsLocked(sea_orm::DatabaseTransaction);

impl ProjectsLocked {
    async fn take(url: &str) -> Self {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let db = sea_orm::Database::connect(url).await.unwrap();
        let transaction = db.begin().await.unwrap();
        transaction
            .execute_unprepared("LOCK TABLE project IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        Self(transaction)
    }

    async fn release(self) {
        self.0.commit().await.unwrap();
    }
}

async fn health(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A starting gateway answers `/health/live` at once and says on
/// `/health/ready` that it waits for its search index while that builds
/// (held here by a lock on the projects table, PostgreSQL's); then it is
/// ready and finds what the catalogue holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_is_live_while_its_search_index_builds() {
    let database = TestDatabase::create(Backend::Postgres).await;
    TestApp::spawn_on(database.shared(), Some(catalogue_dir()))
        .await
        .stop()
        .await;
    let locked = ProjectsLocked::take(&database.url).await;
    let app = TestApp::start_configured(database.shared(), None, |_| {}).await;
    assert_eq!(health(&app, "/health/live").await.0, 200);
    let (status, ready) = health(&app, "/health/ready").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["reason"], "search index", "{ready}");
    assert_eq!(ready["search"]["status"], "building", "{ready}");
    locked.release().await;
    app.wait_for_search_index().await;
    let (status, ready) = health(&app, "/health/ready").await;
    assert_eq!(status, 200, "{ready}");
    assert!(
        ready["search"]["documents"].as_u64().unwrap() > 0,
        "{ready}"
    );
    assert!(!projects(&search(&app, "cartiflette").await).is_empty());
}

/// A restart opens the index kept in its directory rather than rebuild it
/// (it is ready while the projects table is locked, so it read none), and
/// catches up with what changed while it was down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_opens_the_search_index_kept_in_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres).await;
    let key_file = dir.path().join("dev.pem");
    let admin = DevKey::load_or_create(&key_file)
        .unwrap()
        .mint(ADMIN, true, 30)
        .unwrap();
    let index_dir = dir.path().join("search-index");
    let keep_in = |config: &mut Config| config.database.search_index_dir = Some(index_dir.clone());
    let first = spawn(database.shared(), &key_file, keep_in).await;
    let everything = search(&first, "").await["totalCount"].clone();
    assert!(projects(&search(&first, "ornithologie").await).is_empty());
    first.stop().await;

    let locked = ProjectsLocked::take(&database.url).await;
    let restarted = TestApp::start_configured(database.shared(), None, keep_in).await;
    restarted.wait_for_search_index().await;
    let (status, ready) = health(&restarted, "/health/ready").await;
    assert_eq!(status, 200, "ready without reading a project: {ready}");
    locked.release().await;
    assert_eq!(search(&restarted, "").await["totalCount"], everything);
    restarted.stop().await;

    // A write while no gateway keeps the directory.
    let writer = spawn(database.shared(), &key_file, |_| {}).await;
    let (status, _, answer) = writer
        .query_as(
            &admin,
            "mutation { createProject(input: {slug: \"oiseaux\", name: \"Ornithologie ouverte\",
                summary: \"Comptages d'oiseaux\"}) { project { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    writer.stop().await;

    let caught_up = TestApp::spawn_configured(database.shared(), None, keep_in).await;
    assert_eq!(
        projects(&search(&caught_up, "ornithologie").await),
        ["oiseaux"]
    );
}

on_both_backends!(
    season_filters_take_numbers_and_facet_values,
    accents_and_case_are_ignored,
    inflections_are_folded_by_stemming,
    one_typo_is_tolerated_in_long_words_only,
    names_and_tags_rank_above_descriptions,
    queries_about_nothing_catalogued_find_nothing,
    every_kind_of_object_is_found,
    harvested_text_is_searchable_once_harvested,
    facet_counts_equal_the_hits_counts,
    agents_only_material_is_hidden_from_the_public,
    an_agents_only_publiccode_lends_nothing_to_the_public,
    agents_only_documents_change_nothing_for_the_public,
    agents_only_documents_change_no_public_score_at_scale,
    a_write_is_searchable_through_another_gateway_via_redis,
    in_process_caches_forget_answers_made_stale_elsewhere,
    a_replica_that_missed_pruned_changes_reindexes_everything,
    pages_cover_every_hit_once,
    searches_at_once_each_get_their_own_answer,
    bad_input_is_refused_with_a_code,
    an_index_kept_for_another_database_is_rebuilt,
    facet_counts_follow_each_write,
    search_pages_follow_each_write,
);

/// The same queries give the same hits, in the same order, on both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_give_the_same_hits() {
    let sqlite = TestApp::spawn(Backend::Sqlite).await;
    let postgres = TestApp::spawn(Backend::Postgres).await;
    for query in [
        "",
        "donnees",
        "carte des communes",
        "OCR factures",
        "visualisation Superset",
        "cartiflete",
        "insee",
        "formation intelligence artificielle",
        "python",
    ] {
        let on_sqlite = search(&sqlite, query).await;
        let on_postgres = search(&postgres, query).await;
        assert_eq!(hits(&on_sqlite), hits(&on_postgres), "{query}");
        assert_eq!(
            on_sqlite["totalCount"], on_postgres["totalCount"],
            "{query}"
        );
        assert_eq!(
            sqlite.data(FACETS, json!({ "q": query })).await,
            postgres.data(FACETS, json!({ "q": query })).await,
            "{query}"
        );
    }
}
