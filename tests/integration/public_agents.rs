//! Who is a public agent: ProConnect signs in professionals of the private
//! sector too, so the gateway applies the operator's policy (identity
//! providers, public bodies' SIRETs, email domains) at sign-in and at
//! introspection. Someone signed in who is not a public agent reads what
//! anyone reads, and is told why.

use crate::common;
use crate::signin::{PORTAL, claims_of, gateway, gateway_on, minted_token, sign_in};

use common::issuer::SigningKey;
use common::provider::{Behaviour, Signing, TestProvider};
use common::{Backend, TestApp, TestDatabase};
use serde_json::{Value, json};

/// A person from a private company: its SIRET (Octo Technology, the one
/// ProConnect's own tests use for Y500015), an email outside any
/// administration, ProConnect Identité as identity provider.
pub(crate) fn private_person() -> Behaviour {
    Behaviour {
        person: Some(json!({
            "siret": "41816609600069",
            "email": "dominique.martin@octo.com",
            "idp_id": "proconnect-identite",
        })),
        ..Behaviour::default()
    }
}

const WHO_AND_WHAT: &str = "{ me { email publicAgent notPublicAgentReason }
    formiable: project(slug: \"formiable\") { datasets { access } } }";

/// `me` and what the token's holder reads of FormIAble's data (one dataset,
/// for agents only).
async fn who_and_what(app: &TestApp, token: &str) -> Value {
    let (status, _, answer) = app.query_as(token, WHO_AND_WHAT, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"].clone()
}

fn sees_agents_only_data(data: &Value) -> bool {
    data["formiable"]["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["access"] == "AGENTS")
}

async fn signed_in_token(app: &TestApp, provider: &TestProvider) -> String {
    let (_, steps) = sign_in(app, provider, &format!("redirect={PORTAL}/")).await;
    minted_token(&steps)
}

async fn a_private_sector_identity_is_not_a_public_agent_and_is_told_why(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway(backend, &provider).await;

    // A public body's agent (SIREN 110 006 012: starts with 1).
    let public = signed_in_token(&app, &provider).await;
    assert_eq!(claims_of(&public)["public_agent"], "public_siren");
    let data = who_and_what(&app, &public).await;
    assert_eq!(data["me"]["publicAgent"], true, "{data}");
    assert_eq!(data["me"]["notPublicAgentReason"], Value::Null);
    assert!(sees_agents_only_data(&data), "{data}");

    // Someone from a private company: signed in, told why, reads what anyone reads.
    provider.behave(private_person());
    let private = signed_in_token(&app, &provider).await;
    assert_eq!(claims_of(&private)["public_agent"], Value::Null);
    let data = who_and_what(&app, &private).await;
    assert_eq!(data["me"]["email"], "dominique.martin@octo.com");
    assert_eq!(data["me"]["publicAgent"], false, "{data}");
    let why = data["me"]["notPublicAgentReason"].as_str().unwrap();
    assert!(why.contains("SIRET"), "{why}");
    assert!(!sees_agents_only_data(&data), "{data}");
    let anonymous = app.data(WHO_AND_WHAT, json!({})).await;
    assert_eq!(anonymous["formiable"], data["formiable"]);
    // A write that needs a public agent says why it is refused, and changes nothing.
    let database = app.database.connect().await;
    let before = common::snapshot(&database).await;
    let (_, _, answer) = app
        .query_as(
            &private,
            "mutation { archiveProject(slug: \"formiable\", expectedVersion: 1) { project { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{answer}"
    );
    assert_eq!(
        answer["errors"][0]["extensions"]["reason"],
        "not_public_agent"
    );
    assert_eq!(common::snapshot(&database).await, before);
}

/// The operator widens the policy: an identity provider, an email domain, a
/// SIRET of the catalogue's organizations each make a public agent; without
/// the SIREN rule, a public body's SIRET needs to be listed.
async fn the_operator_decides_who_is_a_public_agent(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    provider.behave(private_person());
    for (what, configure) in [
        (
            "an allowed identity provider",
            Box::new(|config: &mut catalogue_gateway::Config| {
                config.proconnect.public_agent_idps = vec!["proconnect-identite".to_owned()];
            }) as Box<dyn FnOnce(&mut catalogue_gateway::Config)>,
        ),
        (
            "an allowed email domain",
            Box::new(|config: &mut catalogue_gateway::Config| {
                config.proconnect.public_agent_email_domains = vec!["octo.com".to_owned()];
            }),
        ),
        (
            "a listed SIREN",
            Box::new(|config: &mut catalogue_gateway::Config| {
                config.proconnect.public_agent_sirets = vec!["418166096".to_owned()];
            }),
        ),
    ] {
        let app = gateway_on(TestDatabase::create(backend).await, &provider, configure).await;
        let data = who_and_what(&app, &signed_in_token(&app, &provider).await).await;
        assert_eq!(data["me"]["publicAgent"], true, "{what}: {data}");
        assert!(sees_agents_only_data(&data), "{what}: {data}");
    }

    // One of the catalogue's organizations has the company's SIRET.
    let catalogue = common::catalogue_copy();
    common::edit(
        catalogue.path(),
        "organizations.yaml",
        "    acronym: HAS\n",
        "    acronym: HAS\n    siret: \"41816609600069\"\n    sources:\n      - { title: test, url: https://example.org/sirene }\n",
    );
    let app = TestApp::spawn_configured(
        TestDatabase::create(backend).await,
        Some(catalogue.path().to_owned()),
        |config| crate::signin::configure_provider(config, &provider),
    )
    .await;
    let token = signed_in_token(&app, &provider).await;
    assert_eq!(claims_of(&token)["public_agent"], "catalogue_organization");

    // Without the SIREN rule, a public body's agent (here the City of Paris,
    // which the catalogue does not name) is not one unless listed.
    provider.behave(Behaviour {
        person: Some(json!({ "siret": "21750001600019" })),
        ..Behaviour::default()
    });
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.public_agent_public_sirens = false;
    })
    .await;
    let data = who_and_what(&app, &signed_in_token(&app, &provider).await).await;
    assert_eq!(data["me"]["publicAgent"], false, "{data}");
}

/// An opaque ProConnect token of another administration's tool: the policy
/// applies to the person userinfo describes.
async fn the_policy_applies_to_introspected_tokens(backend: Backend) {
    const TOOL: &str = "another-administrations-tool";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_introspection_clients = vec![TOOL.to_owned()];
    })
    .await;
    let data = who_and_what(&app, &provider.issue_access_token(TOOL)).await;
    assert_eq!(data["me"]["publicAgent"], true, "{data}");
    assert!(sees_agents_only_data(&data));

    provider.behave(private_person());
    let data = who_and_what(&app, &provider.issue_access_token(TOOL)).await;
    assert_eq!(data["me"]["publicAgent"], false, "{data}");
    assert!(!sees_agents_only_data(&data), "{data}");
}

on_both_backends!(
    a_private_sector_identity_is_not_a_public_agent_and_is_told_why,
    the_operator_decides_who_is_a_public_agent,
    the_policy_applies_to_introspected_tokens,
);
