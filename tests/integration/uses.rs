//! Who uses what: agents declare and withdraw their own organization's uses
//! (found from their SIRET), moderators remove abusive ones, an unknown
//! SIRET adds an unverified organization, declarations are bounded, the
//! declarer is shown to agents only, counts, filters and ordering agree
//! with the rows, and the catalogue files' uses are imported.

use crate::common;

use common::issuer::{SigningKey, TestIssuer};
use common::{Backend, TestApp, snapshot};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";
const MAINTAINER: &str = "maintainer@justice.gouv.fr";
/// INSEE's SIREN (120027016) starts this SIRET: an INSEE agent.
const INSEE_AGENT: &str = "agent@insee.fr";
const DINUM_AGENT: &str = "agent@numerique.gouv.fr";
const RENNES_AGENT: &str = "agent@rennes.fr";
/// A SIRET no catalogue organization has (nor its SIREN).
const RENNES_SIRET: &str = "21350238800019";

const DECLARE: &str = "mutation($input: DeclareUseInput!) { declareUse(input: $input) {
    use { id kind comment since source organizationName declaredBy project { slug } }
    organization { slug name verified } } }";

const WITHDRAW: &str = "mutation($id: ID!) { withdrawUse(id: $id) { removedId } }";

const USES: &str = "query($slug: String!) { project(slug: $slug) {
    usedByCount { total user contributor referent deploys }
    uses { organizationName kind source organization { slug } } } }";

struct Setup {
    app: TestApp,
    issuer: TestIssuer,
    admin: String,
    maintainer: String,
    insee: String,
    dinum: String,
    rennes: String,
    without_siret: String,
}

impl Setup {
    async fn new(backend: Backend) -> Self {
        Self::configured(backend, |_| {}).await
    }

    async fn configured(
        backend: Backend,
        configure: impl FnOnce(&mut catalogue_gateway::Config),
    ) -> Self {
        let key = SigningKey::ec("ec-1");
        let issuer = TestIssuer::start(&[&key]).await;
        let app =
            common::issuer::gateway_trusting_configured(backend, &issuer, &[ADMIN], configure)
                .await;
        let with_siret = |email: &str, siret: Option<&str>| {
            let mut claims = issuer.claims(email);
            match siret {
                Some(siret) => claims["siret"] = json!(siret),
                None => {
                    claims.as_object_mut().unwrap().remove("siret");
                }
            }
            key.sign(&claims)
        };
        let setup = Self {
            admin: key.sign(&issuer.claims(ADMIN)),
            maintainer: key.sign(&issuer.claims(MAINTAINER)),
            insee: with_siret(INSEE_AGENT, Some("12002701600019")),
            dinum: with_siret(DINUM_AGENT, Some("13002526500013")),
            rennes: with_siret(RENNES_AGENT, Some(RENNES_SIRET)),
            without_siret: with_siret("agent@example.org", None),
            app,
            issuer,
        };
        setup
            .ok(
                Some(&setup.admin),
                "mutation { setMaintainers(slug: \"cartiflette\", emails: [\"maintainer@justice.gouv.fr\"]) { maintainers } }",
                json!({}),
            )
            .await;
        setup
    }

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

    /// The error code of `query`, which must fail, and the database unchanged by it.
    async fn refused(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let db = self.app.database.connect().await;
        let before = snapshot(&db).await;
        let answer = self.send(token, query, variables).await;
        assert!(answer.get("errors").is_some(), "{query}: {answer:#}");
        assert_eq!(
            snapshot(&db).await,
            before,
            "a refused write changed nothing"
        );
        answer["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn uses(&self, token: Option<&str>, slug: &str) -> Value {
        self.ok(token, USES, json!({ "slug": slug })).await["project"].clone()
    }

    async fn audit_actions(&self) -> Vec<String> {
        let data = self
            .ok(
                Some(&self.admin),
                "{ auditLog(first: 100) { edges { node { action target } } } }",
                json!({}),
            )
            .await;
        data["auditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["node"]["action"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn an_agent_declares_and_withdraws_a_use_for_their_own_organization(backend: Backend) {
    let setup = Setup::new(backend).await;
    assert_eq!(
        setup.uses(None, "cartiflette").await["usedByCount"]["total"],
        0
    );
    let declared = setup
        .ok(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "cartiflette", "kind": "USER", "since": "2025-03-01",
                   "comment": "Fonds de carte de nos publications"}}),
        )
        .await["declareUse"]
        .clone();
    assert_eq!(declared["organization"]["slug"], "insee");
    assert_eq!(declared["organization"]["verified"], true);
    assert_eq!(declared["use"]["source"], "DECLARED");
    assert_eq!(declared["use"]["since"], "2025-03-01");
    assert_eq!(declared["use"]["declaredBy"], INSEE_AGENT);
    assert_eq!(declared["use"]["project"]["slug"], "cartiflette");

    let project = setup.uses(None, "cartiflette").await;
    assert_eq!(
        project["usedByCount"],
        json!({"total": 1, "user": 1, "contributor": 0, "referent": 0, "deploys": 0})
    );
    assert_eq!(project["uses"][0]["organization"]["slug"], "insee");
    let insee = setup
        .ok(
            None,
            "{ organization(slug: \"insee\") { uses { kind project { slug } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        insee["organization"]["uses"],
        json!([{"kind": "USER", "project": {"slug": "cartiflette"}}])
    );
    // The same use twice is refused.
    let code = setup
        .refused(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "cartiflette"}}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");

    let id = declared["use"]["id"].clone();
    let withdrawn = setup
        .ok(Some(&setup.insee), WITHDRAW, json!({ "id": id }))
        .await;
    assert_eq!(withdrawn["withdrawUse"]["removedId"], id);
    assert_eq!(
        setup.uses(None, "cartiflette").await["usedByCount"]["total"],
        0
    );
    let actions = setup.audit_actions().await;
    assert_eq!(actions[..2], ["withdrawUse", "declareUse"]);
}

async fn an_agent_cannot_declare_or_withdraw_for_another_organization(backend: Backend) {
    let setup = Setup::new(backend).await;
    let declared = setup
        .ok(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "cartiflette", "kind": "REFERENT"}}),
        )
        .await;
    let id = declared["declareUse"]["use"]["id"].clone();

    // Another organization's agent may not withdraw it, nor can anyone
    // unsigned or without a SIRET declare.
    let code = setup
        .refused(Some(&setup.dinum), WITHDRAW, json!({ "id": id }))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let code = setup.refused(None, WITHDRAW, json!({ "id": id })).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let declare = json!({"input": {"projectSlug": "cartiflette"}});
    assert_eq!(
        setup.refused(None, DECLARE, declare.clone()).await,
        "UNAUTHENTICATED"
    );
    let answer = setup
        .send(Some(&setup.without_siret), DECLARE, declare.clone())
        .await;
    assert_eq!(answer["errors"][0]["extensions"]["reason"], "no_siret");
    assert_eq!(
        setup
            .refused(Some(&setup.without_siret), DECLARE, declare)
            .await,
        "FORBIDDEN"
    );
    // The DINUM agent's declaration is DINUM's, whatever they name.
    let dinum = setup
        .ok(
            Some(&setup.dinum),
            DECLARE,
            json!({"input": {"projectSlug": "cartiflette", "organizationName": "INSEE"}}),
        )
        .await;
    assert_eq!(dinum["declareUse"]["organization"]["slug"], "dinum");
    assert_eq!(
        setup.uses(None, "cartiflette").await["usedByCount"]["total"],
        2
    );

    // The project's maintainers remove an abusive declaration.
    setup
        .ok(Some(&setup.maintainer), WITHDRAW, json!({ "id": id }))
        .await;
    let project = setup.uses(None, "cartiflette").await;
    assert_eq!(project["usedByCount"]["total"], 1);
    assert_eq!(project["usedByCount"]["referent"], 0);
}

async fn an_unknown_siret_adds_an_unverified_organization(backend: Backend) {
    let setup = Setup::new(backend).await;
    let code = setup
        .refused(
            Some(&setup.rennes),
            DECLARE,
            json!({"input": {"projectSlug": "chartsgouv"}}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");

    let declared = setup
        .ok(
            Some(&setup.rennes),
            DECLARE,
            json!({"input": {"projectSlug": "chartsgouv", "kind": "DEPLOYS",
                   "instanceUrl": "https://dataviz.rennes.example/",
                   "organizationName": "Ville de Rennes"}}),
        )
        .await;
    let slug = format!("siret-{RENNES_SIRET}");
    assert_eq!(
        declared["declareUse"]["organization"],
        json!({"slug": slug, "name": "Ville de Rennes", "verified": false})
    );
    let organization = "query($slug: String!) { organization(slug: $slug) { siret siren verified uses { kind instanceUrl } } }";
    let found = setup.ok(None, organization, json!({ "slug": slug })).await;
    assert_eq!(
        found["organization"],
        json!({"siret": RENNES_SIRET, "siren": "213502388", "verified": false,
               "uses": [{"kind": "DEPLOYS", "instanceUrl": "https://dataviz.rennes.example/"}]})
    );

    let confirm = "mutation($slug: String!) { confirmOrganization(slug: $slug) { slug verified } }";
    let code = setup
        .refused(Some(&setup.rennes), confirm, json!({ "slug": slug }))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let confirmed = setup
        .ok(Some(&setup.admin), confirm, json!({ "slug": slug }))
        .await;
    assert_eq!(confirmed["confirmOrganization"]["verified"], true);
    let found = setup.ok(None, organization, json!({ "slug": slug })).await;
    assert_eq!(found["organization"]["verified"], true, "{found}");
    let actions = setup.audit_actions().await;
    assert_eq!(
        actions[..3],
        ["confirmOrganization", "declareUse", "createOrganization"]
    );
}

async fn declarations_are_bounded_per_agent_and_organization(backend: Backend) {
    let setup = Setup::configured(backend, |config| {
        config.limits.uses_per_agent = 1;
        config.limits.uses_per_organization = 1;
        config.limits.uses_unverified_organizations = 0;
    })
    .await;
    setup
        .ok(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "cartiflette"}}),
        )
        .await;
    let answer = setup
        .send(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "chartsgouv"}}),
        )
        .await;
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("CATALOGUE_USES_PER_AGENT"), "{message}");
    assert_eq!(
        setup
            .refused(
                Some(&setup.insee),
                DECLARE,
                json!({"input": {"projectSlug": "chartsgouv"}})
            )
            .await,
        "BAD_USER_INPUT"
    );
    // Another INSEE agent (the administrator's token carries INSEE's
    // SIRET too): the organization has its one declared use.
    let answer = setup
        .send(
            Some(&setup.admin),
            DECLARE,
            json!({"input": {"projectSlug": "chartsgouv"}}),
        )
        .await;
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("CATALOGUE_USES_PER_ORGANIZATION"),
        "{message}"
    );
    let answer = setup
        .send(
            Some(&setup.rennes),
            DECLARE,
            json!({"input": {"projectSlug": "chartsgouv", "organizationName": "Ville de Rennes"}}),
        )
        .await;
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("CATALOGUE_USES_UNVERIFIED_ORGANIZATIONS"),
        "{message}"
    );
}

async fn anonymous_callers_see_counts_but_not_declarers(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup
        .ok(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "cartiflette", "kind": "CONTRIBUTOR"}}),
        )
        .await;
    let query = "{ project(slug: \"cartiflette\") { usedByCount { total contributor } uses { organizationName declaredBy } } }";
    let anonymous = setup.send(None, query, json!({})).await;
    assert_eq!(
        anonymous["data"]["project"]["usedByCount"],
        json!({"total": 1, "contributor": 1})
    );
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert!(!anonymous.to_string().contains(INSEE_AGENT), "{anonymous}");
    let agent = setup.ok(Some(&setup.dinum), query, json!({})).await;
    assert_eq!(
        agent["project"]["uses"],
        json!([{"organizationName": "Institut national de la statistique et des études économiques",
                "declaredBy": INSEE_AGENT}])
    );
}

async fn counts_filters_and_ordering_agree_with_the_rows(backend: Backend) {
    let setup = Setup::new(backend).await;
    for (token, slug) in [
        (&setup.insee, "cartiflette"),
        (&setup.dinum, "cartiflette"),
        (&setup.insee, "chartsgouv"),
    ] {
        setup
            .ok(
                Some(token),
                DECLARE,
                json!({"input": {"projectSlug": slug}}),
            )
            .await;
    }
    let rows = {
        let db = setup.app.database.connect().await;
        snapshot(&db).await["project_use"].as_array().unwrap().len()
    };
    assert_eq!(rows, 3);
    let lists = setup
        .ok(
            None,
            "{ two: projects(filter: {usedBy: {atLeast: 2}}) { totalCount nodes { slug usedByCount { total } } }
               one: projects(filter: {usedBy: {atLeast: 1}}) { totalCount }
               directorates: projects(filter: {usedBy: {organizationKind: DIRECTORATE}}) { totalCount }
               dinum: projects(filter: {usedBy: {organization: \"dinum\"}}) { nodes { slug } }
               ordered: projects(first: 2, orderBy: {field: USED_BY, direction: DESC}) {
                 nodes { slug usedByCount { total } } pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(lists["two"]["totalCount"], 1);
    assert_eq!(
        lists["two"]["nodes"],
        json!([{"slug": "cartiflette", "usedByCount": {"total": 2}}])
    );
    assert_eq!(lists["one"]["totalCount"], 2);
    assert_eq!(lists["directorates"]["totalCount"], 2);
    assert_eq!(lists["dinum"]["nodes"], json!([{"slug": "cartiflette"}]));
    assert_eq!(
        lists["ordered"]["nodes"],
        json!([{"slug": "cartiflette", "usedByCount": {"total": 2}},
               {"slug": "chartsgouv", "usedByCount": {"total": 1}}])
    );
    // The next page continues from the cursor, past every used project.
    let next = setup
        .ok(
            None,
            "query($after: String!) { projects(first: 10, after: $after, orderBy: {field: USED_BY, direction: DESC}) { nodes { usedByCount { total } } } }",
            json!({ "after": lists["ordered"]["pageInfo"]["endCursor"] }),
        )
        .await;
    let rest = next["projects"]["nodes"].as_array().unwrap();
    assert_eq!(rest.len(), 6);
    assert!(rest.iter().all(|p| p["usedByCount"]["total"] == 0));

    // The search index follows the journal: poll until it has the uses.
    let facets = "{ facets(query: \"\", kinds: [PROJECT]) { usedBy { value count } }
                    search(query: \"\", kinds: [PROJECT], filter: {usedBy: [\"dinum\"]}) {
                      totalCount edges { node { object { ... on Project { slug } } } } } }";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let found = loop {
        let found = setup.ok(None, facets, json!({})).await;
        if found["search"]["totalCount"] == 1 {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the index never saw the uses: {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        found["facets"]["usedBy"],
        json!([{"value": "insee", "count": 2}, {"value": "dinum", "count": 1}])
    );
    assert_eq!(
        found["search"]["edges"][0]["node"]["object"]["slug"],
        "cartiflette"
    );
}

async fn uses_stated_in_the_catalogue_files_are_imported(backend: Backend) {
    let dir = common::catalogue_copy();
    common::edit(
        dir.path(),
        "cartiflette.yaml",
        "\nsources:",
        "\nuses:\n  - organization: dinum\n    kind: referent\n    since: 2024-02-01\n    comment: Exemple de test\nsources:",
    );
    let app = TestApp::spawn_with_seed(backend, Some(dir.path().to_path_buf())).await;
    let project = app.data(USES, json!({ "slug": "cartiflette" })).await["project"].clone();
    assert_eq!(
        project["uses"],
        json!([{"organizationName": "Direction interministérielle du numérique",
                "kind": "REFERENT", "source": "CATALOGUE", "organization": {"slug": "dinum"}}])
    );
    assert_eq!(project["usedByCount"]["referent"], 1);
}

async fn removing_a_dataset_removes_its_uses_from_the_counts(backend: Backend) {
    let setup = Setup::new(backend).await;
    let datasets = setup
        .ok(
            None,
            "{ project(slug: \"poufdoc\") { datasets { id } } }",
            json!({}),
        )
        .await;
    let dataset = datasets["project"]["datasets"][0]["id"].clone();
    setup
        .ok(
            Some(&setup.insee),
            DECLARE,
            json!({"input": {"projectSlug": "poufdoc", "on": dataset}}),
        )
        .await;
    let used = "{ projects(filter: {usedBy: {atLeast: 1}}) { totalCount }
                  project(slug: \"poufdoc\") { usedByCount { total } datasets { usedByCount { total } } } }";
    let before = setup.ok(None, used, json!({})).await;
    assert_eq!(before["projects"]["totalCount"], 1);
    assert_eq!(before["project"]["datasets"][0]["usedByCount"]["total"], 1);
    setup
        .ok(
            Some(&setup.admin),
            "mutation($id: ID!) { removeLink(id: $id) { removedId } }",
            json!({ "id": dataset }),
        )
        .await;
    let after = setup.ok(None, used, json!({})).await;
    assert_eq!(after["projects"]["totalCount"], 0);
    assert_eq!(after["project"]["usedByCount"]["total"], 0);
}

/// What anyone and agents see of everyone's uses, answered from the read
/// model, is what the statements answer (another replica without the
/// model, on the same database): uses of a project, of an agents-only
/// repository, of a dataset and of an agents-only project, by project,
/// repository, dataset and organization.
async fn the_read_model_answers_uses_as_the_statements(backend: Backend) {
    let setup = Setup::new(backend).await;
    let without = common::issuer::gateway_on(
        setup.app.database.shared(),
        &setup.issuer,
        &[ADMIN],
        |config| config.execution.read_model = false,
    )
    .await;
    let added = setup
        .ok(
            Some(&setup.admin),
            r#"mutation { addRepository(input: {projectSlug: "cartiflette",
                url: "https://gitlab.insee.fr/cartiflette/interne", access: AGENTS}) { repository { id } }
              createProject(input: {slug: "interne", name: "Interne", summary: "Pour les agents.",
                visibility: AGENTS}) { project { slug } } }"#,
            json!({}),
        )
        .await;
    let repository = added["addRepository"]["repository"]["id"].clone();
    let dataset = setup
        .ok(
            None,
            "{ project(slug: \"poufdoc\") { datasets { id } } }",
            json!({}),
        )
        .await["project"]["datasets"][0]["id"]
        .clone();
    for (token, input) in [
        (
            &setup.insee,
            json!({"projectSlug": "cartiflette", "kind": "REFERENT"}),
        ),
        (
            &setup.dinum,
            json!({"projectSlug": "cartiflette", "on": repository}),
        ),
        (
            &setup.dinum,
            json!({"projectSlug": "poufdoc", "on": dataset, "kind": "DEPLOYS"}),
        ),
        (&setup.insee, json!({"projectSlug": "interne"})),
        (
            &setup.rennes,
            json!({"projectSlug": "cartiflette", "organizationName": "Ville de Rennes"}),
        ),
    ] {
        setup
            .ok(Some(token), DECLARE, json!({ "input": input }))
            .await;
    }
    let ready = setup.app.readiness().await;
    assert_eq!(ready["readModel"]["status"], "ready", "{ready}");

    let everything = "{ organizations(first: 100) { nodes { slug uses { id kind organizationName
          project { slug } } } }
        projects(first: 100) { nodes { slug usedByCount { total referent deploys }
          uses { id kind organizationName organization { slug } }
          repositories { url uses { id kind } usedByCount { total } }
          datasets { url uses { id kind } usedByCount { total } } } } }";
    for token in [None, Some(setup.insee.as_str())] {
        let model = answer(&setup.app, token, everything).await;
        assert_eq!(model["errors"], Value::Null, "{model}");
        assert_eq!(model, answer(&without, token, everything).await);
        let internal = model
            .to_string()
            .contains("gitlab.insee.fr/cartiflette/interne");
        assert_eq!(
            internal,
            token.is_some(),
            "agents-only code is for agents: {model}"
        );
        let dinum = (model["data"]["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter())
        .find(|organization| organization["slug"] == "dinum")
        .unwrap()["uses"]
            .as_array()
            .unwrap()
            .len();
        // DINUM's use of the agents-only repository is for agents.
        assert_eq!(dinum, if token.is_some() { 2 } else { 1 });
    }
}

/// `query`'s answer from `app` to `token`'s bearer (to anyone without one).
async fn answer(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    match token {
        Some(token) => app.query_as(token, query, json!({})).await.2,
        None => app.query(query, json!({})).await,
    }
}

on_both_backends!(
    the_read_model_answers_uses_as_the_statements,
    removing_a_dataset_removes_its_uses_from_the_counts,
    an_agent_declares_and_withdraws_a_use_for_their_own_organization,
    an_agent_cannot_declare_or_withdraw_for_another_organization,
    an_unknown_siret_adds_an_unverified_organization,
    declarations_are_bounded_per_agent_and_organization,
    anonymous_callers_see_counts_but_not_declarers,
    counts_filters_and_ordering_agree_with_the_rows,
    uses_stated_in_the_catalogue_files_are_imported,
);
