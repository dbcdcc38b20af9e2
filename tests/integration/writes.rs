//! Mutations: who may do what (anonymous, agent, maintainer, administrator),
//! optimistic concurrency, input errors naming their field, and the audit trail.
//! Every refused write leaves the database as it was.

use crate::common;

use common::issuer::{SigningKey, TestIssuer};
use common::{Backend, TestApp, snapshot};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";
const MAINTAINER: &str = "maintainer@justice.gouv.fr";
const AGENT: &str = "agent@culture.gouv.fr";

struct Setup {
    app: TestApp,
    _issuer: TestIssuer,
    admin: String,
    maintainer: String,
    agent: String,
}

impl Setup {
    async fn new(backend: Backend) -> Self {
        let key = SigningKey::ec("ec-1");
        let issuer = TestIssuer::start(&[&key]).await;
        let app = common::issuer::gateway_trusting(backend, &issuer, &[ADMIN]).await;
        let setup = Self {
            admin: key.sign(&issuer.claims(ADMIN)),
            maintainer: key.sign(&issuer.claims(MAINTAINER)),
            agent: key.sign(&issuer.claims(AGENT)),
            app,
            _issuer: issuer,
        };
        let answer = setup
            .ok(
                Some(&setup.admin),
                "mutation { setMaintainers(slug: \"poufdoc\", emails: [\"Maintainer@Justice.gouv.fr\"]) { maintainers } }",
                json!({}),
            )
            .await;
        assert_eq!(answer["setMaintainers"]["maintainers"], json!([MAINTAINER]));
        setup
    }

    /// The answer to `query` sent with `token` (or none).
    async fn send(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        match token {
            Some(token) => {
                let (status, _, answer) = self.app.query_as(token, query, variables).await;
                assert_eq!(status, 200, "{answer}");
                answer
            }
            None => self.app.query(query, variables).await,
        }
    }

    async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let answer = self.send(token, query, variables).await;
        assert!(answer.get("errors").is_none(), "{query}: {answer:#}");
        answer["data"].clone()
    }

    async fn version(&self, slug: &str) -> i64 {
        let data = self
            .ok(
                Some(&self.admin),
                "query($s: String!) { project(slug: $s) { version } }",
                json!({"s": slug}),
            )
            .await;
        data["project"]["version"].as_i64().unwrap()
    }

    async fn add_link(&self, url: &str) -> Value {
        let data = self
            .ok(
                Some(&self.admin),
                "mutation($url: String!) { addLink(input: {projectSlug: \"poufdoc\", url: $url, kind: SLIDES, title: \"Présentation\"}) { link { id } } }",
                json!({"url": url}),
            )
            .await;
        data["addLink"]["link"]["id"].clone()
    }
}

/// Who asks, and what they may do.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Anonymous,
    Agent,
    Maintainer,
    Admin,
}

async fn every_mutation_allows_and_forbids_the_right_callers(backend: Backend) {
    let setup = Setup::new(backend).await;
    let db = setup.app.database.connect().await;
    for role in [Role::Anonymous, Role::Agent, Role::Maintainer, Role::Admin] {
        let token = match role {
            Role::Anonymous => None,
            Role::Agent => Some(setup.agent.as_str()),
            Role::Maintainer => Some(setup.maintainer.as_str()),
            Role::Admin => Some(setup.admin.as_str()),
        };
        let name = format!("{role:?}").to_lowercase();
        let removable = setup
            .add_link(&format!("https://example.org/slides/{name}"))
            .await;
        let version = setup.version("poufdoc").await;
        // (mutation, variables, only administrators may run it)
        let mutations = [
            (
                "mutation($v: Int!) { updateProject(slug: \"poufdoc\", input: {summary: \"Rapports récurrents.\"}, expectedVersion: $v) { project { summary version } } }",
                json!({"v": version}),
                false,
            ),
            (
                "mutation($url: String!) { addRepository(input: {projectSlug: \"poufdoc\", url: $url}) { repository { id forge } } }",
                json!({"url": format!("https://github.com/example/poufdoc-{name}")}),
                false,
            ),
            (
                "mutation($url: String!) { addDataset(input: {projectSlug: \"poufdoc\", url: $url, title: \"Offres\", access: AGENTS}) { dataset { id url access } } }",
                json!({"url": format!("https://example.org/data/{name}.csv")}),
                false,
            ),
            (
                "mutation($url: String!) { addLink(input: {projectSlug: \"poufdoc\", url: $url, kind: DEMO, title: \"Démo\"}) { link { id } } }",
                json!({"url": format!("https://example.org/demo/{name}")}),
                false,
            ),
            (
                "mutation($id: ID!) { removeLink(id: $id) { removedId } }",
                json!({"id": removable}),
                false,
            ),
            (
                "mutation($s: String!) { createProject(input: {slug: $s, name: \"Nouveau\", summary: \"Un projet.\"}) { project { slug version } } }",
                json!({"s": format!("nouveau-{name}")}),
                true,
            ),
            (
                "mutation { setMaintainers(slug: \"poufdoc\", emails: [\"maintainer@justice.gouv.fr\"]) { maintainers } }",
                json!({}),
                true,
            ),
        ];
        for (mutation, variables, admin_only) in mutations {
            let before = snapshot(&db).await;
            let answer = setup.send(token, mutation, variables).await;
            let expected = match role {
                Role::Anonymous => Some("UNAUTHENTICATED"),
                Role::Agent => Some("FORBIDDEN"),
                Role::Maintainer if admin_only => Some("FORBIDDEN"),
                Role::Maintainer | Role::Admin => None,
            };
            match expected {
                Some(code) => {
                    assert_eq!(
                        answer["errors"][0]["extensions"]["code"], code,
                        "{role:?} {mutation}: {answer:#}"
                    );
                    assert_eq!(
                        snapshot(&db).await,
                        before,
                        "{role:?} {mutation}: a refused write changed the database"
                    );
                }
                None => assert!(
                    answer.get("errors").is_none(),
                    "{role:?} {mutation}: {answer:#}"
                ),
            }
        }
    }
    // The maintainer now sees poufdoc among the projects they maintain.
    let me = setup
        .ok(
            Some(&setup.maintainer),
            "{ me { maintainerOf { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["maintainerOf"], json!([{"slug": "poufdoc"}]));
    // Archiving is a maintainer's write too.
    let version = setup.version("poufdoc").await;
    let archived = setup
        .ok(
            Some(&setup.maintainer),
            "mutation($v: Int!) { archiveProject(slug: \"poufdoc\", expectedVersion: $v) { project { status } } }",
            json!({"v": version}),
        )
        .await;
    assert_eq!(archived["archiveProject"]["project"]["status"], "ARCHIVED");
}

async fn a_stale_version_is_a_conflict_and_writes_nothing(backend: Backend) {
    let setup = Setup::new(backend).await;
    let db = setup.app.database.connect().await;
    let version = setup.version("cartiflette").await;
    let update = "mutation($v: Int!, $s: String!) { updateProject(slug: \"cartiflette\", input: {summary: $s}, expectedVersion: $v) { project { version summary } } }";
    let first = setup
        .ok(
            Some(&setup.admin),
            update,
            json!({"v": version, "s": "Première."}),
        )
        .await;
    assert_eq!(first["updateProject"]["project"]["version"], version + 1);

    let before = snapshot(&db).await;
    let stale = setup
        .send(
            Some(&setup.admin),
            update,
            json!({"v": version, "s": "Seconde."}),
        )
        .await;
    assert_eq!(
        stale["errors"][0]["extensions"]["code"], "CONFLICT",
        "{stale:#}"
    );
    assert_eq!(
        snapshot(&db).await,
        before,
        "a conflicting write changed the database"
    );
}

/// Concurrent writers from one version: exactly one wins, the others get
/// CONFLICT; concurrent adds of one URL: exactly one link.
async fn concurrent_writes_do_not_lose_updates(backend: Backend) {
    let setup = Setup::new(backend).await;
    let version = setup.version("cartiflette").await;
    let update = "mutation($v: Int!, $s: String!) { updateProject(slug: \"cartiflette\", input: {summary: $s}, expectedVersion: $v) { project { version } } }";
    let answers = futures_util::future::join_all((0..8).map(|i| {
        setup.send(
            Some(&setup.admin),
            update,
            json!({"v": version, "s": format!("Résumé {i}.")}),
        )
    }))
    .await;
    let won = answers.iter().filter(|a| a.get("errors").is_none()).count();
    let conflicts = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((won, conflicts), (1, 7), "{answers:#?}");
    assert_eq!(setup.version("cartiflette").await, version + 1);

    let add = "mutation { addLink(input: {projectSlug: \"cartiflette\", url: \"https://example.org/same\", kind: DEMO, title: \"Démo\"}) { link { id } } }";
    let answers = futures_util::future::join_all(
        (0..6).map(|_| setup.send(Some(&setup.admin), add, json!({}))),
    )
    .await;
    let added = answers.iter().filter(|a| a.get("errors").is_none()).count();
    let refused = answers
        .iter()
        .filter(|a| a["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT")
        .count();
    assert_eq!((added, refused), (1, 5), "{answers:#?}");
}

/// Re-importing the catalogue files keeps what was added through the API.
async fn an_import_keeps_links_added_through_the_api(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup.add_link("https://example.org/slides/kept").await;
    let (ok, _, stderr) = common::run_import(&setup.app.database.url, &common::catalogue_dir());
    assert!(ok, "{stderr}");
    let links = setup
        .ok(
            None,
            "{ project(slug: \"poufdoc\") { links { url } } }",
            json!({}),
        )
        .await;
    assert!(
        links
            .to_string()
            .contains("https://example.org/slides/kept"),
        "the import removed a link added through the API: {links}"
    );
}

async fn bad_input_names_its_field_and_writes_nothing(backend: Backend) {
    let setup = Setup::new(backend).await;
    let db = setup.app.database.connect().await;
    let before = snapshot(&db).await;
    let cases = [
        (
            "mutation { addRepository(input: {projectSlug: \"poufdoc\", url: \"not a url\"}) { repository { id } } }",
            "input.url",
        ),
        (
            "mutation { addRepository(input: {projectSlug: \"poufdoc\", url: \"https://github.com/cdugeai/poufdoc\"}) { repository { id } } }",
            "input.url",
        ),
        (
            "mutation { addLink(input: {projectSlug: \"poufdoc\", url: \"https://example.org/\", kind: DEMO, title: \"  \"}) { link { id } } }",
            "input.title",
        ),
        (
            "mutation { addLink(input: {projectSlug: \"poufdoc\", url: \"https://example.org/\", kind: DEMO, title: \"Démo\", confidence: UNSURE}) { link { id } } }",
            "input.note",
        ),
        (
            "mutation { addDataset(input: {projectSlug: \"poufdoc\", url: \"https://example.org/d.csv\", title: \"D\", confidence: UNSURE, note: \" \"}) { dataset { id } } }",
            "input.note",
        ),
        (
            "mutation { createProject(input: {slug: \"Pas Un Slug\", name: \"X\", summary: \"Y\"}) { project { id } } }",
            "input.slug",
        ),
        (
            "mutation { createProject(input: {slug: \"cartiflette\", name: \"X\", summary: \"Y\"}) { project { id } } }",
            "input.slug",
        ),
    ];
    for (mutation, field) in cases {
        let answer = setup.send(Some(&setup.admin), mutation, json!({})).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{mutation}: {answer:#}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["field"], field,
            "{mutation}: {answer:#}"
        );
    }
    let answer = setup
        .send(Some(&setup.admin), "mutation { setMaintainers(slug: \"poufdoc\", emails: [\"a@b.fr\", \"nope\"]) { maintainers } }", json!({}))
        .await;
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("emails[1]"),
        "{answer:#}"
    );
    let missing = setup
        .send(Some(&setup.admin), "mutation { addLink(input: {projectSlug: \"nope\", url: \"https://example.org/\", kind: DEMO, title: \"x\"}) { link { id } } }", json!({}))
        .await;
    assert_eq!(
        missing["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{missing:#}"
    );
    assert_eq!(snapshot(&db).await, before);

    let get = setup
        .app
        .client
        .get(setup.app.url("/graphql"))
        .query(&[(
            "query",
            "mutation { setMaintainers(slug: \"poufdoc\", emails: []) { maintainers } }",
        )])
        .bearer_auth(&setup.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405, "a GET never writes");
    assert_eq!(snapshot(&db).await, before);
}

async fn a_link_added_as_unsure_shows_why(backend: Backend) {
    let setup = Setup::new(backend).await;
    let data = setup
        .ok(
            Some(&setup.maintainer),
            "mutation { addLink(input: {projectSlug: \"poufdoc\", url: \"https://example.org/demo\", kind: DEMO, title: \"Démo\", confidence: UNSURE, note: \"Lien vu sur une page recopiée\"}) { link { confidence note } } }",
            json!({}),
        )
        .await;
    let unsure = json!({"confidence": "UNSURE", "note": "Lien vu sur une page recopiée"});
    assert_eq!(data["addLink"]["link"], unsure);
    let data = setup
        .ok(
            None,
            "{ project(slug: \"poufdoc\") { links { url confidence note } } }",
            json!({}),
        )
        .await;
    let shown: Vec<&Value> = data["project"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|link| link["url"] == "https://example.org/demo")
        .collect();
    assert_eq!(shown.len(), 1, "{data:#}");
    assert_eq!(shown[0]["confidence"], unsure["confidence"]);
    assert_eq!(shown[0]["note"], unsure["note"]);
}

async fn writes_are_audited_for_administrators_only(backend: Backend) {
    let setup = Setup::new(backend).await;
    let added = setup
        .ok(
            Some(&setup.maintainer),
            "mutation { addDataset(input: {projectSlug: \"poufdoc\", url: \"https://example.org/offres.parquet\", title: \"Offres\", access: AGENTS}) { dataset { id url access } } }",
            json!({}),
        )
        .await;
    assert_eq!(added["addDataset"]["dataset"]["access"], "AGENTS");
    let id = added["addDataset"]["dataset"]["id"].clone();
    let node = "query($id: ID!) { node(id: $id) { id } }";
    assert_eq!(
        setup.ok(None, node, json!({"id": id})).await["node"],
        Value::Null,
        "anonymous cannot see it"
    );
    assert_eq!(
        setup.ok(Some(&setup.agent), node, json!({"id": id})).await["node"]["id"],
        id
    );

    let log = "{ auditLog(first: 10) { totalCount edges { node { action target actorEmail before after } } } }";
    let data = setup.ok(Some(&setup.admin), log, json!({})).await;
    let entries = data["auditLog"]["edges"].as_array().unwrap();
    assert_eq!(
        data["auditLog"]["totalCount"], 2,
        "setMaintainers then addDataset"
    );
    let newest = &entries[0]["node"];
    assert_eq!(newest["action"], "addDataset");
    assert_eq!(newest["target"], "project:poufdoc");
    assert_eq!(newest["actorEmail"], MAINTAINER);
    assert!(newest["after"].as_str().unwrap().contains("offres.parquet"));
    assert_eq!(entries[1]["node"]["action"], "setMaintainers");

    let agent = setup.send(Some(&setup.agent), log, json!({})).await;
    assert_eq!(agent["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let anonymous = setup.send(None, log, json!({})).await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    // Team contacts are for agents only.
    let contacts = "{ project(slug: \"poufdoc\") { maintainers } }";
    assert_eq!(
        setup.ok(None, contacts, json!({})).await["project"]["maintainers"],
        Value::Null
    );
    assert_eq!(
        setup.ok(Some(&setup.agent), contacts, json!({})).await["project"]["maintainers"],
        json!([MAINTAINER])
    );
}

/// Filtered counts, kept per catalogue revision, follow every write.
async fn filtered_counts_follow_each_write(backend: Backend) {
    let setup = Setup::new(backend).await;
    let counts = "{ all: projects { totalCount }
        withCode: projects(filter: {hasCode: true}) { totalCount }
        onGithub: projects(filter: {forge: GITHUB}) { totalCount }
        repositories { totalCount } }";
    let count = |answer: &Value, list: &str| answer[list]["totalCount"].as_i64().unwrap();
    let before = setup.ok(None, counts, json!({})).await;
    setup
        .ok(
            Some(&setup.admin),
            "mutation { createProject(input: {slug: \"oiseaux\", name: \"Ornithologie ouverte\", summary: \"Comptages.\"}) { project { id } } }",
            json!({}),
        )
        .await;
    let created = setup.ok(None, counts, json!({})).await;
    assert_eq!(count(&created, "all"), count(&before, "all") + 1);
    for list in ["withCode", "onGithub", "repositories"] {
        assert_eq!(count(&created, list), count(&before, list), "{list}");
    }
    setup
        .ok(
            Some(&setup.admin),
            "mutation { addRepository(input: {projectSlug: \"oiseaux\", url: \"https://github.com/example/oiseaux\"}) { repository { id } } }",
            json!({}),
        )
        .await;
    let with_code = setup.ok(None, counts, json!({})).await;
    assert_eq!(count(&with_code, "all"), count(&created, "all"));
    for list in ["withCode", "onGithub", "repositories"] {
        assert_eq!(count(&with_code, list), count(&created, list) + 1, "{list}");
    }
}

/// A project for agents only stays out of every anonymous answer.
async fn an_agents_only_project_is_invisible_to_anonymous_callers(backend: Backend) {
    let setup = Setup::new(backend).await;
    let created = setup
        .ok(
            Some(&setup.admin),
            "mutation { createProject(input: {slug: \"interne\", name: \"Projet interne\", summary: \"Pour les agents.\", visibility: AGENTS}) { project { id } } }",
            json!({}),
        )
        .await;
    let project_id = created["createProject"]["project"]["id"].clone();
    let added = setup
        .ok(
            Some(&setup.admin),
            "mutation { addRepository(input: {projectSlug: \"interne\", url: \"https://github.com/example/interne\"}) { repository { id access } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        added["addRepository"]["repository"]["access"], "PUBLIC",
        "a public link of an agents-only project"
    );
    let repository_id = added["addRepository"]["repository"]["id"].clone();
    let query = "query($p: ID!, $r: ID!) {
        project(slug: \"interne\") { slug }
        projects(filter: {text: \"interne\"}) { totalCount }
        all: projects { totalCount }
        repositories(first: 100) { totalCount edges { node { url } } }
        githubProjects: projects(filter: {forge: GITHUB}) { totalCount }
        p: node(id: $p) { id }
        r: node(id: $r) { id }
    }";
    let variables = json!({"p": project_id, "r": repository_id});
    let anonymous = setup.ok(None, query, variables.clone()).await;
    let agent = setup.ok(Some(&setup.agent), query, variables).await;
    assert_eq!(anonymous["project"], Value::Null);
    assert_eq!(agent["project"]["slug"], "interne");
    assert_eq!(anonymous["projects"]["totalCount"], 0);
    assert_eq!(agent["projects"]["totalCount"], 1);
    assert_eq!(anonymous["all"]["totalCount"], 8);
    assert_eq!(agent["all"]["totalCount"], 9);
    for counted in ["repositories", "githubProjects"] {
        assert_eq!(
            anonymous[counted]["totalCount"].as_i64().unwrap() + 1,
            agent[counted]["totalCount"].as_i64().unwrap(),
            "{counted}"
        );
    }
    assert!(
        !anonymous["repositories"]
            .to_string()
            .contains("example/interne")
    );
    assert_eq!(anonymous["p"], Value::Null);
    assert_eq!(anonymous["r"], Value::Null);
    assert_eq!(agent["p"]["id"], project_id);
    assert_eq!(agent["r"]["id"], repository_id);
}

on_both_backends!(
    a_link_added_as_unsure_shows_why,
    an_agents_only_project_is_invisible_to_anonymous_callers,
    filtered_counts_follow_each_write,
    concurrent_writes_do_not_lose_updates,
    an_import_keeps_links_added_through_the_api,
    every_mutation_allows_and_forbids_the_right_callers,
    a_stale_version_is_a_conflict_and_writes_nothing,
    bad_input_names_its_field_and_writes_nothing,
    writes_are_audited_for_administrators_only,
);
