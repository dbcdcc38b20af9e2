//! Each way a sign-in can fail that the test provider can produce, as a
//! program and as a person see it: JSON with a fixed `error` for programs, a
//! page in French in the portal's look for browsers (what happened, what to
//! do, a way back), with the status that says whose fault it is.

use crate::common;
use crate::signin::{PORTAL, assert_refused, gateway_on};

use catalogue_gateway::config::{Config, Secret};
use common::browser::{Browser, Step};
use common::issuer::SigningKey;
use common::provider::{Behaviour, Signing, TestProvider};
use common::{Backend, TestApp, TestDatabase};

/// The last step of a sign-in through `app`, as a program and as a browser.
async fn refused_both_ways(app: &TestApp, provider_issuer: &str) -> (Step, Step) {
    let login = app.url(&format!("/auth/login?redirect={PORTAL}/"));
    let program = Browser::new(&app.url(""), provider_issuer)
        .follow(&login)
        .await
        .pop()
        .unwrap();
    let person = Browser::new(&app.url(""), provider_issuer)
        .reading_html()
        .follow(&login)
        .await
        .pop()
        .unwrap();
    (program, person)
}

/// A page for a person: French, the portal's stylesheet, what happened in
/// `words`, what to do, a link back to the catalogue, the fixed reason; no token.
fn assert_page(step: &Step, status: u16, reason: &str, words: &str) {
    assert_eq!(step.status, status, "{step:#?}");
    assert!(
        step.content_type
            .as_deref()
            .unwrap_or_default()
            .starts_with("text/html"),
        "{step:#?}"
    );
    let page = &step.body;
    for expected in [
        "<html lang=\"fr\">",
        "/portal/",
        "portal.css",
        "Que faire ?",
        "href=\"/\"",
        "Retour au catalogue",
        reason,
        words,
    ] {
        assert!(page.contains(expected), "no `{expected}` in {page}");
    }
    assert!(!page.contains("access_token"), "{page}");
}

async fn each_refusal_is_explained_to_programs_and_people(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.limits.signin_rate_limit_burst = 1000;
    })
    .await;

    // What ProConnect sends back instead of a code.
    for (error, status, reason, words) in [
        ("access_denied", 403, "access_denied", "Connexion refusée"),
        (
            "invalid_scope",
            500,
            "provider_misconfigured",
            "Prévenez les administrateurs",
        ),
        (
            "temporarily_unavailable",
            503,
            "provider_unavailable",
            "ProConnect ne répond pas",
        ),
        (
            "login_required",
            400,
            "provider_error",
            "Connectez-vous à nouveau",
        ),
    ] {
        provider.behave(Behaviour {
            deny: Some(error.to_owned()),
            ..Behaviour::default()
        });
        let (program, person) = refused_both_ways(&app, &provider.issuer).await;
        assert_refused(&program, status, reason);
        assert_page(&person, status, reason, words);
    }

    // An ID token that does not verify.
    provider.behave(Behaviour {
        forge_with: Some(SigningKey::rsa("pc-rsa")),
        ..Behaviour::default()
    });
    let (program, person) = refused_both_ways(&app, &provider.issuer).await;
    assert_refused(&program, 401, "invalid_id_token");
    assert_page(&person, 401, "invalid_id_token", "n'a pas pu être vérifiée");
    provider.behave(Behaviour::default());

    // A callback this browser did not start.
    let person = Browser::new(&app.url(""), &provider.issuer)
        .reading_html()
        .get(&app.url("/auth/callback?code=c&state=s"))
        .await;
    assert_page(&person, 400, "state_mismatch", "même navigateur");
}

/// ProConnect refusing the gateway's client secret is the operator's to fix:
/// 500 and words that say so, never "cannot be reached".
async fn a_refused_client_secret_is_a_configuration_error(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_client_secret = Some(Secret::new("not-the-registered-secret"));
    })
    .await;
    let (program, person) = refused_both_ways(&app, &provider.issuer).await;
    assert_refused(&program, 500, "provider_misconfigured");
    let body: serde_json::Value = serde_json::from_str(&program.body).unwrap();
    let description = body["error_description"].as_str().unwrap();
    assert!(!description.contains("cannot be reached"), "{description}");
    assert_page(
        &person,
        500,
        "provider_misconfigured",
        "configuration ProConnect",
    );
}

/// A level below what the gateway asks for says so.
async fn a_too_low_authentication_level_says_so(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_acr_values = Some("eidas2 eidas3".to_owned());
    })
    .await;
    let (program, person) = refused_both_ways(&app, &provider.issuer).await;
    assert_refused(&program, 403, "acr_too_low");
    assert_page(
        &person,
        403,
        "acr_too_low",
        "Niveau d'authentification insuffisant",
    );
}

/// ProConnect out of reach: 502, and a page that says to come back later.
async fn an_unreachable_provider_is_a_bad_gateway(backend: Backend) {
    let unreachable = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}/api/v2", unreachable.local_addr().unwrap());
    drop(unreachable);
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(common::catalogue_dir()),
        |config: &mut Config| {
            config.proconnect.proconnect_issuer = Some(issuer.clone());
            config.proconnect.proconnect_client_id = Some("c".to_owned());
            config.proconnect.proconnect_client_secret = Some(Secret::new("s"));
            config.proconnect.signin_redirect_origins = vec![PORTAL.to_owned()];
        },
    )
    .await;
    let (program, person) = refused_both_ways(&app, &issuer).await;
    assert_refused(&program, 502, "provider_unavailable");
    assert_page(
        &person,
        502,
        "provider_unavailable",
        "Réessayez dans quelques minutes",
    );
}

on_both_backends!(
    each_refusal_is_explained_to_programs_and_people,
    a_refused_client_secret_is_a_configuration_error,
    a_too_low_authentication_level_says_so,
    an_unreachable_provider_is_a_bad_gateway,
);
