//! Agents and maintainers in the portal: signed in with ProConnect's button
//! (cookie mode, same origin), they edit their projects there. Driven in
//! headless Chromium by tests/portal/agent.cjs (playwright-core and
//! axe-core, which `make test` installs) against the test ProConnect, which
//! asks for credentials unless its own session is open. Writes sent with
//! the sign-in cookie are protected from other sites: /graphql takes only
//! JSON, which a page elsewhere cannot send without the gateway's consent.

use crate::common;

use catalogue_gateway::config::Secret;
use common::browser::Browser;
use common::issuer::{SigningKey, TestIssuer, gateway_trusting_configured};
use common::provider::{Behaviour, CLIENT_ID, CLIENT_SECRET, PERSON_EMAIL, Signing, TestProvider};
use common::{Backend, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const ADMIN: &str = "admin.catalogue@numerique.gouv.fr";
const PROJECT: &str = "formiable";

/// The gateway signing in with `provider`, trusting `issuer`'s tokens too
/// (the administrator's), with the test person maintaining FormIAble.
async fn gateway(backend: Backend, provider: &TestProvider, issuer: &TestIssuer) -> TestApp {
    let provider_issuer = provider.issuer.clone();
    let app = gateway_trusting_configured(backend, issuer, &[ADMIN], move |config| {
        config.proconnect.proconnect_issuer = Some(provider_issuer);
        config.proconnect.proconnect_client_id = Some(CLIENT_ID.to_owned());
        config.proconnect.proconnect_client_secret = Some(Secret::new(CLIENT_SECRET));
    })
    .await;
    let db = app.database.connect().await;
    db.execute_unprepared(&format!(
        "INSERT INTO project_maintainer (project_id, email) \
         SELECT id, '{PERSON_EMAIL}' FROM project WHERE slug = '{PROJECT}'"
    ))
    .await
    .unwrap();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_signs_in_edits_meets_a_conflict_and_signs_out_in_chromium() {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    provider.behave(Behaviour {
        ask_credentials: true,
        ..Behaviour::default()
    });
    let admin_key = SigningKey::rsa("admin-key");
    let issuer = TestIssuer::start(&[&admin_key]).await;
    let app = gateway(Backend::Sqlite, &provider, &issuer).await;
    let admin_token = admin_key.sign(&issuer.claims(ADMIN));
    let screenshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/portal");
    std::fs::create_dir_all(&screenshots).unwrap();

    let audited = common::run_node(
        "portal/agent.cjs",
        &[&app.base_url, &admin_token, screenshots.to_str().unwrap()],
        &["playwright-core", "axe-core"],
    );
    for page in [
        "search",
        "organization",
        "project (signed in)",
        "project with a declared use",
        "organization with its uses",
        "search with the used-by filter",
        "my projects",
        "edit form",
        "edit form with a conflict",
        "accessibility statement",
        "audit log",
    ] {
        assert!(
            audited.contains(&format!("{page}: "))
                && !audited.contains(&format!("{page}: 0 rules")),
            "axe ran on {page}:\n{audited}"
        );
    }
    // Credentials asked at the first sign-in and again after signing out.
    assert_eq!(provider.credential_pages(), 2);
    assert!(
        provider
            .last_end_session_request()
            .contains_key("id_token_hint"),
        "signing out ended the ProConnect session"
    );
    let summary = app
        .data(
            &format!("{{ project(slug: \"{PROJECT}\") {{ summary }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        summary["project"]["summary"],
        "Résumé de la mainteneuse, gardé malgré le conflit."
    );
}

/// After the gateway token has expired, the portal still offers to sign out
/// of ProConnect, and doing so ends its session: the next sign-in asks for
/// credentials (a shared workstation never passes one person's identity on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_after_the_token_expired_asks_for_credentials_again_in_chromium() {
    let (provider, said) = in_chromium(
        Behaviour {
            ask_credentials: true,
            ..Behaviour::default()
        },
        "portal/expired.cjs",
    )
    .await;
    assert!(said.contains("credentials asked again"), "{said}");
    assert_eq!(provider.credential_pages(), 2);
    assert!(
        provider
            .last_end_session_request()
            .contains_key("id_token_hint"),
        "signing out ended the ProConnect session"
    );
}

/// A person ProConnect signs in from a private company is told, in the
/// portal, why agents-only material stays hidden, and does not see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_sector_person_signed_in_is_told_why_in_chromium() {
    let (_, told) = in_chromium(
        Behaviour {
            person: Some(
                json!({ "siret": "41816609600069", "email": "dominique.martin@octo.com" }),
            ),
            ..Behaviour::default()
        },
        "portal/outsider.cjs",
    )
    .await;
    assert!(told.contains("agent public"), "{told}");
}

/// Runs `script` in Chromium against the portal of a gateway signing in
/// with a test ProConnect that behaves as `behaviour`; gives the provider
/// back, for what it saw, with what the script printed.
async fn in_chromium(behaviour: Behaviour, script: &str) -> (TestProvider, String) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    provider.behave(behaviour);
    let issuer = TestIssuer::start(&[&SigningKey::rsa("admin-key")]).await;
    let app = gateway(Backend::Sqlite, &provider, &issuer).await;
    let said = common::run_node(script, &[&app.base_url], &["playwright-core", "axe-core"]);
    (provider, said)
}

/// The cookie the gateway sets when the test person signs in in cookie mode.
async fn signed_in_cookie(app: &TestApp, provider: &TestProvider) -> String {
    let mut browser = Browser::new(&app.url(""), &provider.issuer);
    let portal = app.url("/#/mes-projets");
    let steps = browser
        .follow(&app.url(&format!(
            "/auth/login?mode=cookie&redirect={}",
            url::form_urlencoded::byte_serialize(portal.as_bytes()).collect::<String>()
        )))
        .await;
    assert!(
        steps
            .iter()
            .any(|step| step.location.as_deref() == Some(portal.as_str())),
        "back to the page, the token in no URL: {steps:#?}"
    );
    let token = browser
        .cookies
        .get("catalogue_token")
        .expect("the sign-in cookie");
    format!("catalogue_token={token}")
}

async fn project_summary(app: &TestApp) -> Value {
    let db = app.database.connect().await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT summary, version FROM project WHERE slug = '{PROJECT}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    json!({
        "summary": row.try_get::<String>("", "summary").unwrap(),
        "version": row.try_get::<i64>("", "version").unwrap(),
    })
}

/// A write carried by the sign-in cookie is refused unless it is JSON from
/// the gateway's own origin (or a listed one): a form on another site
/// (text/plain, urlencoded) or a script elsewhere changes nothing. The same
/// write as the portal sends it goes through.
async fn writes_with_the_signin_cookie_come_only_as_json_from_allowed_origins(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let issuer = TestIssuer::start(&[]).await;
    let app = gateway(backend, &provider, &issuer).await;
    let cookie = signed_in_cookie(&app, &provider).await;
    let before = project_summary(&app).await;
    let mutation = json!({
        "query": "mutation($v: Int!) { updateProject(slug: \"formiable\", input: { summary: \"Résumé envoyé par le portail\" }, expectedVersion: $v) { project { version } } }",
        "variables": { "v": before["version"] },
    })
    .to_string();

    // What a form on another site can send: refused before anything runs.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let answer = app
            .client
            .post(app.url("/graphql"))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .header("origin", "https://ailleurs.example.com")
            .body(mutation.clone())
            .send()
            .await
            .unwrap();
        assert!(
            answer.status() == 403 || answer.status() == 415,
            "{content_type}: {}",
            answer.status()
        );
        // Even without `Origin` (a browser that leaves it out).
        let answer = app
            .client
            .post(app.url("/graphql"))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(mutation.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 415, "{content_type} without Origin");
    }
    // JSON from a script on an origin the operator did not list.
    let answer = app
        .client
        .post(app.url("/graphql"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .header("origin", "https://ailleurs.example.com")
        .body(mutation.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(project_summary(&app).await, before, "nothing changed");

    // The portal's own request: JSON, same origin.
    let answer: Value = app
        .client
        .post(app.url("/graphql"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .header("origin", &app.base_url)
        .body(mutation)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(
        project_summary(&app).await["summary"],
        "Résumé envoyé par le portail"
    );
}

on_both_backends!(writes_with_the_signin_cookie_come_only_as_json_from_allowed_origins);
