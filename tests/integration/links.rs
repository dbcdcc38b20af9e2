//! Link checks, through the real gateway, against a fixture server standing
//! for the sites the catalogue links to: what each kind of answer becomes
//! (`check { status httpStatus finalUrl redirects message }`), HEAD then
//! GET, redirects followed within limits and to public addresses only, dead
//! links flagged to maintainers and in /metrics after N failures in a row,
//! checks forgotten when their URL leaves the catalogue, and `linkHealth`
//! facet counts that agree with the hits for the public and for agents.

use std::path::Path;

use crate::common;

use catalogue_gateway::auth::DevKey;
use common::upstream::{Behaviour, Fault, Listener, TestUpstream};
use common::websites::TestWebsites;
use common::{Backend, TestApp, TestDatabase};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";
const MAINTAINER: &str = "mainteneuse@interieur.gouv.fr";
const AGENT: &str = "agent@culture.gouv.fr";
/// Checks in a row that make a link dead (the default).
const DEAD_AFTER: usize = 3;
/// Requests at once to one host.
const PER_HOST: usize = 2;

const CHECK: &str = "status httpStatus finalUrl checkedAt message consecutiveFailures
    failingSince deadSince redirects { status location }";

struct Setup {
    app: TestApp,
    websites: TestWebsites,
    /// A loopback port no setting trusts, where redirects lead.
    private: Listener,
    upstream: TestUpstream,
    admin: String,
    maintainer: String,
    agent: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// Two projects whose links answer every way the fixture server can.
fn write_catalogue(dir: &Path, w: &str, tls: &str, private: &str) {
    std::fs::write(
        dir.join("organizations.yaml"),
        "organizations:\n  - slug: org-test\n    name: Organisation de test\n    kind: other\n",
    )
    .unwrap();
    let sites = format!(
        "slug: sites
name: Sites de test
summary: Un projet dont les liens répondent de toutes les façons.
seasons: [2]
website: {w}/ok
documentation: {w}/moved/1
organizations:
  - organization: org-test
    role: sponsor
datasets:
  - url: {w}/bucket
    provider: object-storage
    title: Bucket public
  - url: {w}/gone
    provider: api
    title: API retirée
  - url: https://www.data.gouv.fr/fr/datasets/sites-de-test/
    provider: data-gouv
    title: Jeu de données du portail
links:
  - {{ url: '{w}/temporary', kind: website, title: Redirection temporaire }}
  - {{ url: '{w}/missing', kind: documentation, title: Page disparue }}
  - {{ url: '{w}/head-refused', kind: demo, title: Démo qui refuse HEAD }}
  - {{ url: '{w}/slow', kind: package, title: Paquet qui ne répond pas }}
  - {{ url: '{tls}/', kind: container-image, title: Image au certificat douteux }}
  - {{ url: '{w}/loop/a', kind: video, title: Boucle de redirections }}
  - {{ url: '{w}/endless/0', kind: slides, title: Redirections sans fin }}
  - {{ url: '{w}/to-private', kind: tool, title: Redirection vers une adresse privée }}
  - {{ url: '{w}/to-localhost', kind: other, title: Redirection vers localhost }}
  - {{ url: '{private}/admin', kind: other, title: Adresse privée }}
  - {{ url: '{w}/switch', kind: documentation, title: Page qui revient }}
  - {{ url: '{w}/agents/missing', kind: documentation, title: Page réservée disparue, access: agents }}
  - {{ url: 'https://www.tchap.gouv.fr/#/room/#test:agent.tchap.gouv.fr', kind: chat, title: Salon, access: agents }}
sources:
  - title: Catalogue de test
    url: https://example.org/sources/sites
"
    );
    std::fs::write(dir.join("sites.yaml"), sites).unwrap();
    let healthy = format!(
        "slug: sain
name: Projet sain
summary: Un projet dont les liens publics répondent.
seasons: [2]
website: {w}/ok
organizations:
  - organization: org-test
    role: sponsor
links:
  - {{ url: '{w}/ok/docs', kind: documentation, title: Documentation }}
  - {{ url: '{w}/agents/missing', kind: documentation, title: Page réservée disparue, access: agents }}
sources:
  - title: Catalogue de test
    url: https://example.org/sources/sain
"
    );
    std::fs::write(dir.join("sain.yaml"), healthy).unwrap();
}

async fn setup(backend: Backend) -> Setup {
    let private = Listener::start(Behaviour::Html).await;
    let websites = TestWebsites::start(&format!("{}/admin", private.url)).await;
    let upstream = TestUpstream::start().await;
    let catalogue = tempfile::tempdir().unwrap();
    write_catalogue(
        catalogue.path(),
        &websites.url,
        &websites.tls_url,
        &private.url,
    );
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("dev.pem");
    let key = DevKey::load_or_create(&key_file).unwrap();
    let (admin, maintainer, agent) = (
        key.mint(ADMIN, true, 30).unwrap(),
        key.mint(MAINTAINER, false, 30).unwrap(),
        key.mint(AGENT, false, 30).unwrap(),
    );
    let trusted = vec![websites.url.clone(), websites.tls_url.clone()];
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue.path().to_owned()),
        |config| {
            config.auth.dev_auth = true;
            config.auth.dev_key_file = key_file;
            // Many small requests: above the default rate limit.
            config.limits.rate_limit_per_minute = 100_000;
            upstream.configure(config);
            config.harvest.check_links = true;
            config.harvest.link_check_trusted_origins = trusted;
            config.harvest.harvest_concurrency_per_host = PER_HOST;
        },
    )
    .await;
    Setup {
        app,
        websites,
        private,
        upstream,
        admin,
        maintainer,
        agent,
        _dirs: (catalogue, keys),
    }
}

impl Setup {
    /// `harvest` from the command line, link checks on.
    fn harvest_cli(&self) -> String {
        let mut environment = self.upstream.environment();
        environment.retain(|(name, _)| name != "CATALOGUE_CHECK_LINKS");
        environment.push((
            "CATALOGUE_LINK_CHECK_TRUSTED_ORIGINS".into(),
            format!("{},{}", self.websites.url, self.websites.tls_url),
        ));
        environment.push((
            "CATALOGUE_HARVEST_CONCURRENCY_PER_HOST".into(),
            PER_HOST.to_string(),
        ));
        let (ok, stdout, stderr) =
            common::run_cli_with(&self.app.database.url, &["harvest".as_ref()], &environment);
        assert!(ok, "{stdout}{stderr}");
        stdout
    }

    /// `refreshProject(slug)` as the administrator: its checks, by URL.
    async fn refresh(&self, slug: &str) -> Value {
        let query = format!(
            "mutation($slug: String!) {{ refreshProject(slug: $slug) {{ checks {{ url check {{ {CHECK} }} }} }} }}"
        );
        let (status, _, answer) = self
            .app
            .query_as(&self.admin, &query, json!({ "slug": slug }))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "{answer}");
        answer["data"]["refreshProject"]["checks"].clone()
    }

    /// The project `slug` with every check, as `token`'s holder (or anyone) sees it.
    async fn project(&self, slug: &str, token: Option<&str>) -> Value {
        let query = format!(
            "query($slug: String!) {{ project(slug: $slug) {{
                websiteCheck {{ {CHECK} }} documentationCheck {{ {CHECK} }}
                datasets {{ url check {{ {CHECK} }} }}
                links {{ url kind access check {{ {CHECK} }} }}
                deadLinks {{ url title source linkId since consecutiveFailures check {{ status message }} }} }} }}"
        );
        let variables = json!({ "slug": slug });
        match token {
            Some(token) => {
                let (_, _, answer) = self.app.query_as(token, &query, variables).await;
                assert!(answer.get("errors").is_none(), "{answer}");
                answer["data"]["project"].clone()
            }
            None => self.app.data(&query, variables).await["project"].clone(),
        }
    }

    /// The URLs with a check, by /metrics.
    async fn checked_urls(&self) -> u64 {
        let mut total = 0;
        for status in ["OK", "MOVED", "BROKEN", "NOT_ALLOWED"] {
            total += self
                .metric(&format!("catalogue_link_checks{{status=\"{status}\"}}"))
                .await;
        }
        total
    }

    /// The metric `name` (with its labels) from /metrics.
    async fn metric(&self, name: &str) -> u64 {
        let metrics = self.app.get_text("/metrics").await;
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    }
}

/// The check of `url` among `project`'s links or datasets.
fn check_of(project: &Value, list: &str, url: &str) -> Value {
    project[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["url"] == url)
        .unwrap_or_else(|| panic!("no {url} in {project:#}"))["check"]
        .clone()
}

fn message(check: &Value) -> &str {
    check["message"].as_str().unwrap_or_default()
}

async fn every_kind_of_answer_is_checked_and_served(backend: Backend) {
    let setup = setup(backend).await;
    let w = &setup.websites.url;
    let before = setup.project("sain", None).await;
    assert_eq!(before["websiteCheck"]["status"], "UNCHECKED", "{before:#}");
    assert_eq!(before["websiteCheck"]["checkedAt"], Value::Null);

    // data.gouv.fr knows no such dataset: the harvest itself changes
    // nothing that would make the gateway forget its answers.
    setup.upstream.fail(Fault::NotFound, None);
    // Each answer takes a while, so that checks to one host would overlap
    // if nothing held them back.
    setup
        .websites
        .set_latency(std::time::Duration::from_millis(100));
    let printed = setup.harvest_cli();
    assert!(printed.contains("URLs checked"), "{printed}");
    assert!(
        printed.contains(&format!("BROKEN {w}/missing: HTTP 404 Not Found")),
        "{printed}"
    );

    // The answer cache forgets what the checks changed: the command line
    // is another process, whose journal reaches this gateway within a
    // second (and nothing else was written since the gateway started).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let sain = setup.project("sain", None).await;
        if sain["websiteCheck"]["status"] == "OK" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{sain:#}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sites = setup.project("sites", Some(&setup.maintainer)).await;

    // 200.
    let ok = &sites["websiteCheck"];
    assert_eq!(ok["status"], "OK", "{sites:#}");
    assert_eq!(ok["httpStatus"], 200);
    assert_eq!(ok["finalUrl"], format!("{w}/ok"));
    assert_eq!(ok["redirects"], json!([]));
    assert_eq!(ok["message"], Value::Null);
    // 301 → 301 → 200: moved, where it went shown.
    let moved = &sites["documentationCheck"];
    assert_eq!(moved["status"], "MOVED", "{sites:#}");
    assert_eq!(moved["httpStatus"], 200);
    assert_eq!(moved["finalUrl"], format!("{w}/moved/end"));
    assert_eq!(
        moved["redirects"],
        json!([
            { "status": 301, "location": format!("{w}/moved/2") },
            { "status": 301, "location": format!("{w}/moved/end") },
        ])
    );
    assert_eq!(
        message(moved),
        format!("moved permanently to {w}/moved/end")
    );
    // 302: temporary, still OK, where it ended shown.
    let temporary = check_of(&sites, "links", &format!("{w}/temporary"));
    assert_eq!(temporary["status"], "OK", "{temporary}");
    assert_eq!(temporary["finalUrl"], format!("{w}/ok"));
    assert_eq!(temporary["redirects"][0]["status"], 302);
    // 404 and 410.
    let missing = check_of(&sites, "links", &format!("{w}/missing"));
    assert_eq!(missing["status"], "BROKEN", "{missing}");
    assert_eq!(missing["httpStatus"], 404);
    assert_eq!(message(&missing), "HTTP 404 Not Found");
    assert_eq!(missing["consecutiveFailures"], 1);
    assert_eq!(missing["failingSince"], missing["checkedAt"]);
    assert_eq!(missing["deadSince"], Value::Null);
    let gone = check_of(&sites, "datasets", &format!("{w}/gone"));
    assert_eq!(gone["status"], "BROKEN", "{gone}");
    assert_eq!(gone["httpStatus"], 410);
    assert_eq!(message(&gone), "HTTP 410 Gone");
    assert_eq!(
        check_of(&sites, "datasets", &format!("{w}/bucket"))["status"],
        "OK"
    );
    // HEAD refused with 405, then GET.
    let head_refused = check_of(&sites, "links", &format!("{w}/head-refused"));
    assert_eq!(head_refused["status"], "OK", "{head_refused}");
    assert_eq!(head_refused["httpStatus"], 200);
    assert_eq!(
        message(&head_refused),
        "HEAD answered 405; checked with GET"
    );
    // No answer within the harvest's timeout (1 s in the tests).
    let slow = check_of(&sites, "links", &format!("{w}/slow"));
    assert_eq!(slow["status"], "BROKEN", "{slow}");
    assert_eq!(slow["httpStatus"], Value::Null);
    assert_eq!(message(&slow), "timed out after 1 s");
    // A certificate nobody trusts.
    let tls = check_of(&sites, "links", &format!("{}/", setup.websites.tls_url));
    assert_eq!(tls["status"], "BROKEN", "{tls}");
    assert!(
        message(&tls).starts_with("TLS: certificate not trusted"),
        "{tls}"
    );
    // A → B → A.
    let looping = check_of(&sites, "links", &format!("{w}/loop/a"));
    assert_eq!(looping["status"], "BROKEN", "{looping}");
    assert_eq!(
        message(&looping),
        format!("redirect loop: back to {w}/loop/a")
    );
    assert_eq!(looping["redirects"].as_array().unwrap().len(), 2);
    // Eleven redirects and counting.
    let endless = check_of(&sites, "links", &format!("{w}/endless/0"));
    assert_eq!(endless["status"], "BROKEN", "{endless}");
    assert_eq!(message(&endless), "more than 10 redirects");
    assert_eq!(endless["redirects"].as_array().unwrap().len(), 11);
    // From a trusted origin to a loopback address, by address and by name,
    // and a loopback address written in the link: refused, never reached.
    let private = &setup.private.url;
    let to_private = check_of(&sites, "links", &format!("{w}/to-private"));
    assert_eq!(to_private["status"], "NOT_ALLOWED", "{to_private}");
    assert_eq!(to_private["finalUrl"], format!("{private}/admin"));
    assert_eq!(
        message(&to_private),
        "not allowed: 127.0.0.1 is not a public address"
    );
    let to_localhost = check_of(&sites, "links", &format!("{w}/to-localhost"));
    assert_eq!(to_localhost["status"], "NOT_ALLOWED", "{to_localhost}");
    assert_eq!(
        message(&to_localhost),
        "not allowed: `localhost` is not at a public address"
    );
    let direct = check_of(&sites, "links", &format!("{private}/admin"));
    assert_eq!(direct["status"], "NOT_ALLOWED", "{direct}");
    assert_eq!(
        setup.private.accepted(),
        0,
        "no connection to a private address"
    );
    // Not checked: a Tchap room, a data.gouv.fr dataset (harvested instead).
    let links = sites["links"].as_array().unwrap();
    let chat = links.iter().find(|l| l["kind"] == "CHAT").unwrap();
    assert_eq!(chat["check"], Value::Null);
    assert_eq!(
        check_of(
            &sites,
            "datasets",
            "https://www.data.gouv.fr/fr/datasets/sites-de-test/"
        ),
        Value::Null
    );

    // HEAD first, GET only where HEAD was refused; the gateway named.
    let seen = setup.websites.seen();
    let methods = |path: &str| -> Vec<String> {
        seen.iter()
            .filter(|s| s.path == path)
            .map(|s| s.method.to_string())
            .collect()
    };
    assert_eq!(methods("/ok/docs"), ["HEAD"]);
    assert_eq!(methods("/head-refused"), ["HEAD", "GET"]);
    assert_eq!(methods("/missing"), ["HEAD", "GET"]);
    assert_eq!(methods("/slow"), ["HEAD"]);
    assert!(
        seen.iter().all(|s| s
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("catalogue-gateway/"))),
        "{seen:?}"
    );
    // One check per distinct URL: `/ok` is two projects' website.
    assert_eq!(
        methods("/ok").len(),
        1 + 1,
        "once itself, once after /temporary"
    );
    assert!(
        setup.websites.most_in_flight() <= PER_HOST,
        "at most {PER_HOST} at once: {}",
        setup.websites.most_in_flight()
    );
}

async fn dead_links_are_flagged_to_maintainers_and_in_metrics(backend: Backend) {
    let setup = setup(backend).await;
    let (_, _, answer) = setup
        .app
        .query_as(
            &setup.admin,
            "mutation($emails: [String!]!) { setMaintainers(slug: \"sites\", emails: $emails) { maintainers } }",
            json!({ "emails": [MAINTAINER] }),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let w = setup.websites.url.clone();
    // The broken URLs of `sites`: /gone, /missing, /slow, the TLS origin,
    // the loop, the endless chain, /switch (down for now) and the
    // agents-only /agents/missing.
    let broken: u64 = 8;
    for run in 1..=DEAD_AFTER {
        let checks = setup.refresh("sites").await;
        let missing = checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["url"] == format!("{w}/missing"))
            .unwrap()["check"]
            .clone();
        assert_eq!(missing["consecutiveFailures"], run, "{missing}");
        let dead = if run == DEAD_AFTER { broken } else { 0 };
        assert_eq!(
            setup.metric("catalogue_links_dead").await,
            dead,
            "run {run}"
        );
    }
    assert_eq!(
        setup
            .metric("catalogue_link_checks{status=\"BROKEN\"}")
            .await,
        broken
    );
    assert_eq!(
        setup
            .metric("catalogue_link_checks{status=\"NOT_ALLOWED\"}")
            .await,
        3
    );
    assert_eq!(
        setup
            .metric("catalogue_link_checks{status=\"MOVED\"}")
            .await,
        1
    );

    // The maintainer sees every dead link of the project, agents-only included.
    let (_, _, mine) = setup
        .app
        .query_as(
            &setup.maintainer,
            "{ me { maintainerOf { slug deadLinks { url title source linkId since consecutiveFailures
                check { status message deadSince } } } } }",
            json!({}),
        )
        .await;
    assert!(mine.get("errors").is_none(), "{mine}");
    let maintained = &mine["data"]["me"]["maintainerOf"];
    assert_eq!(maintained.as_array().unwrap().len(), 1, "{mine:#}");
    assert_eq!(maintained[0]["slug"], "sites");
    let dead = maintained[0]["deadLinks"].as_array().unwrap();
    let urls: Vec<&str> = dead.iter().map(|d| d["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), broken as usize, "{urls:?}");
    assert!(
        urls.contains(&format!("{w}/agents/missing").as_str()),
        "{urls:?}"
    );
    let gone = dead
        .iter()
        .find(|d| d["url"] == format!("{w}/gone"))
        .unwrap();
    assert_eq!(gone["source"], "DATASET");
    assert_eq!(gone["title"], "API retirée");
    assert_eq!(gone["consecutiveFailures"], DEAD_AFTER);
    assert_eq!(gone["check"]["message"], "HTTP 410 Gone");
    assert!(gone["linkId"].is_string());
    assert!(gone["since"].as_str() < gone["check"]["deadSince"].as_str());
    // The public reads the project's dead links but the agents-only one.
    let public = setup.project("sites", None).await;
    let public_dead: Vec<&str> = public["deadLinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["url"].as_str().unwrap())
        .collect();
    assert_eq!(public_dead.len(), broken as usize - 1, "{public_dead:?}");
    assert!(!public_dead.contains(&format!("{w}/agents/missing").as_str()));
    // A project that only shares the agents-only dead URL: dead for agents.
    let agent_sees = setup.project("sain", Some(&setup.agent)).await;
    assert_eq!(agent_sees["deadLinks"].as_array().unwrap().len(), 1);
    assert_eq!(
        setup.project("sain", None).await["deadLinks"],
        json!([]),
        "nothing of it for the public"
    );

    // The page comes back: no longer failing, no longer dead.
    setup.websites.bring_switch_up();
    let checks = setup.refresh("sites").await;
    let switch = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["url"] == format!("{w}/switch"))
        .unwrap()["check"]
        .clone();
    assert_eq!(switch["status"], "OK", "{switch}");
    assert_eq!(switch["consecutiveFailures"], 0);
    assert_eq!(switch["deadSince"], Value::Null);
    assert_eq!(setup.metric("catalogue_links_dead").await, broken - 1);

    // A link that leaves the catalogue takes its check with it.
    let before = setup.checked_urls().await;
    let endless = public["deadLinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["url"] == format!("{w}/endless/0"))
        .unwrap()["linkId"]
        .clone();
    let (_, _, removed) = setup
        .app
        .query_as(
            &setup.maintainer,
            "mutation($id: ID!) { removeLink(id: $id) { removedId } }",
            json!({ "id": endless }),
        )
        .await;
    assert!(removed.get("errors").is_none(), "{removed}");
    setup.refresh("sites").await;
    assert_eq!(setup.checked_urls().await, before - 1);
    assert_eq!(setup.metric("catalogue_links_dead").await, broken - 2);
}

const LINK_HEALTH: &str = "query($q: String, $kinds: [SearchKind!], $filter: SearchFilter) {
    facets(query: $q, kinds: $kinds, filter: $filter, limit: 500) { totalCount linkHealth { value count } } }";
const SEARCH: &str = "query($q: String!, $kinds: [SearchKind!], $filter: SearchFilter) {
    search(query: $q, kinds: $kinds, filter: $filter, first: 100) {
        totalCount edges { node { object { __typename ... on Project { slug } ... on Dataset { url } } } } } }";

async fn ask(setup: &Setup, token: Option<&str>, query: &str, variables: Value) -> Value {
    match token {
        Some(token) => {
            let (_, _, answer) = setup.app.query_as(token, query, variables).await;
            assert!(answer.get("errors").is_none(), "{answer}");
            answer["data"].clone()
        }
        None => setup.app.data(query, variables).await,
    }
}

/// Each `linkHealth` value's count equals the hits of a search filtered on it.
async fn link_health(setup: &Setup, token: Option<&str>) -> Vec<(String, Vec<String>)> {
    let facets = ask(setup, token, LINK_HEALTH, json!({ "q": "" })).await["facets"].clone();
    let mut found = Vec::new();
    for value in facets["linkHealth"].as_array().unwrap() {
        let filter = json!({ "q": "", "filter": { "linkHealth": [value["value"]] } });
        let hits = ask(setup, token, SEARCH, filter.clone()).await["search"].clone();
        assert_eq!(hits["totalCount"], value["count"], "{value}");
        let filtered = ask(setup, token, LINK_HEALTH, filter).await["facets"].clone();
        assert_eq!(filtered["totalCount"], value["count"], "{value}");
        let mut names: Vec<String> = hits["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| {
                let object = &edge["node"]["object"];
                object["slug"]
                    .as_str()
                    .or(object["url"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .collect();
        names.sort();
        found.push((value["value"].as_str().unwrap().to_owned(), names));
    }
    found.sort();
    found
}

async fn link_health_facet_counts_equal_the_hits(backend: Backend) {
    let setup = setup(backend).await;
    let w = &setup.websites.url;
    let (bucket, gone) = (format!("{w}/bucket"), format!("{w}/gone"));
    let unchecked = vec![(
        "UNCHECKED".to_owned(),
        vec![
            bucket.clone(),
            gone.clone(),
            "sain".to_owned(),
            "sites".to_owned(),
        ],
    )];
    assert_eq!(link_health(&setup, None).await, unchecked);
    setup.harvest_cli();
    let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    // A project counts under its worst link the caller may read: `sain`'s
    // only broken link is for agents.
    assert_eq!(
        link_health(&setup, None).await,
        [
            ("BROKEN".to_owned(), owned(&[&gone, "sites"])),
            ("OK".to_owned(), owned(&[&bucket, "sain"])),
        ]
    );
    assert_eq!(
        link_health(&setup, Some(&setup.agent)).await,
        [
            ("BROKEN".to_owned(), owned(&[&gone, "sain", "sites"])),
            ("OK".to_owned(), owned(&[&bucket])),
        ]
    );
}

on_both_backends!(
    every_kind_of_answer_is_checked_and_served,
    dead_links_are_flagged_to_maintainers_and_in_metrics,
    link_health_facet_counts_equal_the_hits,
);
