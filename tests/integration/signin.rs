//! Sign-in with ProConnect through the gateway, against a test OpenID
//! provider on loopback: the whole flow ends with a gateway token the API
//! accepts; each kind of bad answer is refused and mints nothing; opaque
//! access tokens are introspected, never for a client over its rate limit;
//! `/auth/*` is rate limited per address; the gateway's keys verify its
//! tokens on every replica, across a key rotation.

use crate::common;

use catalogue_gateway::config::{Config, PROCONNECT_SCOPES, Secret};
use common::browser::{Browser, Step, fragment_token};
use common::issuer::SigningKey;
use common::provider::{Behaviour, CLIENT_ID, CLIENT_SECRET, PERSON_EMAIL, Signing, TestProvider};
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

pub(crate) const PORTAL: &str = "https://portail.example.gouv.fr";
const ME: &str = "{ me { email givenName usualName siret } }";

/// `config` with `provider` as its ProConnect and the test portal allowed.
pub(crate) fn configure_provider(config: &mut Config, provider: &TestProvider) {
    config.proconnect.proconnect_issuer = Some(provider.issuer.clone());
    config.proconnect.proconnect_client_id = Some(CLIENT_ID.to_owned());
    config.proconnect.proconnect_client_secret = Some(Secret::new(CLIENT_SECRET));
    config.proconnect.signin_redirect_origins = vec![PORTAL.to_owned()];
}

pub(crate) async fn gateway_on(
    database: TestDatabase,
    provider: &TestProvider,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    TestApp::spawn_configured(database, Some(catalogue_dir()), move |config| {
        configure_provider(config, provider);
        configure(config);
    })
    .await
}

pub(crate) async fn gateway(backend: Backend, provider: &TestProvider) -> TestApp {
    gateway_on(TestDatabase::create(backend).await, provider, |_| {}).await
}

/// Signs in through `app` in a new browser; returns the browser and the steps.
pub(crate) async fn sign_in(
    app: &TestApp,
    provider: &TestProvider,
    login_query: &str,
) -> (Browser, Vec<Step>) {
    let mut browser = Browser::new(&app.url(""), &provider.issuer);
    let steps = browser
        .follow(&app.url(&format!("/auth/login?{login_query}")))
        .await;
    (browser, steps)
}

/// The gateway token handed to the portal at the end of a successful sign-in.
pub(crate) fn minted_token(steps: &[Step]) -> String {
    let last = steps.last().expect("a step");
    let location = last.location.as_deref().unwrap_or_default();
    assert!(
        location.starts_with(PORTAL),
        "the sign-in did not return to the portal: {steps:#?}"
    );
    fragment_token(location).expect("a token in the fragment")
}

/// A refused step: 4xx, a reason, no token anywhere.
pub(crate) fn assert_refused(step: &Step, status: u16, reason: &str) {
    assert_eq!(step.status, status, "{step:#?}");
    let body: Value = serde_json::from_str(&step.body).expect("a JSON error");
    assert_eq!(body["error"], reason, "{body}");
    assert!(
        !step
            .location
            .as_deref()
            .unwrap_or_default()
            .contains("access_token"),
        "{step:#?}"
    );
    assert!(
        !step
            .set_cookies
            .iter()
            .any(|c| c.starts_with("catalogue_token=") && !c.starts_with("catalogue_token=;")),
        "{step:#?}"
    );
}

pub(crate) fn claims_of(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).expect("a JWT")
}

async fn sign_in_ends_with_a_token_the_api_accepts(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway(backend, &provider).await;

    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/projets")).await;
    let token = minted_token(&steps);
    let portal = url::Url::parse(steps.last().unwrap().location.as_deref().unwrap()).unwrap();
    assert_eq!(portal.path(), "/projets");
    assert_eq!(portal.query(), None, "never the token in the query string");

    let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], PERSON_EMAIL);
    assert_eq!(answer["data"]["me"]["usualName"], "Agent");
    assert_eq!(answer["data"]["me"]["siret"], "11000601200010");

    // What the gateway asked ProConnect for.
    let asked = provider.last_authorize_request();
    assert!(
        asked["state"].len() >= 32 && asked["nonce"].len() >= 32,
        "{asked:?}"
    );
    assert_ne!(asked["state"], asked["nonce"]);
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["scope"], PROCONNECT_SCOPES);
    assert!(
        !PROCONNECT_SCOPES.contains("organizational_unit"),
        "not in ProConnect's base configuration"
    );
    assert_eq!(asked["redirect_uri"], app.url("/auth/callback"));
    assert!(!asked.contains_key("acr_values"));
    let login = &steps[0];
    assert!(
        login
            .set_cookies
            .iter()
            .any(|c| c.starts_with("catalogue_signin=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Lax")
                && c.contains("Path=/auth")),
        "{login:#?}"
    );

    // The gateway's own token: its claims, its issuer, its lifetime.
    let claims = claims_of(&token);
    assert_eq!(claims["iss"], app.url(""));
    assert_eq!(claims["aud"], app.url(""));
    assert_eq!(claims["sub"], "proconnect-sub-for-this-client");
    assert_eq!(claims["idp_id"], "test-idp");
    assert_eq!(claims["organizational_unit"], "DGFiP");
    assert_eq!(claims["given_name"], "Camille");
    assert_eq!(claims["acr"], "eidas1");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
}

async fn the_gateways_keys_verify_its_tokens(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::ec("pc-ec")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_signing_alg = "ES256".to_owned();
        // Other issuers' algorithms; the gateway's own tokens are ES256 regardless.
        config.auth.jwt_algorithms = vec!["RS256".to_owned()];
    })
    .await;
    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    let token = minted_token(&steps);
    let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
    assert_eq!(status, 200, "{answer}");

    let discovery: Value =
        serde_json::from_str(&app.get_text("/.well-known/openid-configuration").await).unwrap();
    assert_eq!(discovery["issuer"], app.url(""));
    assert_eq!(discovery["jwks_uri"], app.url("/.well-known/jwks.json"));
    // OpenID Connect Discovery 1.0 §3's required fields, as the gateway serves them.
    assert_eq!(discovery["authorization_endpoint"], app.url("/auth/login"));
    assert_eq!(discovery["response_types_supported"], json!(["token"]));
    assert_eq!(discovery["subject_types_supported"], json!(["public"]));
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert!(
        discovery.get("token_endpoint").is_none(),
        "the gateway has none"
    );
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}?redirect={PORTAL}/",
            discovery["authorization_endpoint"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        302,
        "the authorization endpoint starts a sign-in"
    );
    let jwks: JwkSet = serde_json::from_str(&app.get_text("/.well-known/jwks.json").await).unwrap();
    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let kid = header.kid.expect("a kid");
    let jwk = jwks.find(&kid).expect("the token's key is published");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[app.url("")]);
    validation.set_issuer(&[app.url("")]);
    let verified = decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the published key verifies the token");
    assert_eq!(verified.claims["email"], PERSON_EMAIL);
}

async fn refused_sign_ins_mint_nothing(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway(backend, &provider).await;

    // A redirect to an origin nobody allowed.
    let (_, steps) = sign_in(&app, &provider, "redirect=https://evil.example/steal").await;
    assert_refused(&steps[0], 400, "redirect_not_allowed");

    // The person (or ProConnect) says no.
    provider.behave(Behaviour {
        deny: Some("access_denied".into()),
        ..Behaviour::default()
    });
    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    assert_refused(steps.last().unwrap(), 403, "access_denied");
    provider.behave(Behaviour::default());

    // A callback whose state is not the one this browser's cookie holds.
    let mut browser = Browser::new(&app.url(""), &provider.issuer);
    let to_provider = browser
        .get(&app.url(&format!("/auth/login?redirect={PORTAL}/")))
        .await;
    let back = browser.get(to_provider.location.as_deref().unwrap()).await;
    let callback = back.location.clone().unwrap();
    let mut tampered = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = tampered
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "x".repeat(43)
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    assert_refused(&browser.get(tampered.as_str()).await, 400, "state_mismatch");

    // A cookie whose signature is not the gateway's.
    let mut browser = Browser::new(&app.url(""), &provider.issuer);
    let to_provider = browser
        .get(&app.url(&format!("/auth/login?redirect={PORTAL}/")))
        .await;
    let back = browser.get(to_provider.location.as_deref().unwrap()).await;
    let state = url::Url::parse(back.location.as_deref().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    browser
        .cookies
        .insert("catalogue_signin".into(), format!("{state}.Zm9yZ2Vk"));
    assert_refused(
        &browser.get(back.location.as_deref().unwrap()).await,
        400,
        "state_mismatch",
    );

    // A callback replayed with its cookie: the attempt completes once.
    let mut browser = Browser::new(&app.url(""), &provider.issuer);
    let to_provider = browser
        .get(&app.url(&format!("/auth/login?redirect={PORTAL}/")))
        .await;
    let signin_cookie = browser.cookies["catalogue_signin"].clone();
    let back = browser.get(to_provider.location.as_deref().unwrap()).await;
    let callback = back.location.clone().unwrap();
    let first = browser.get(&callback).await;
    assert!(
        fragment_token(first.location.as_deref().unwrap()).is_some(),
        "{first:#?}"
    );
    browser
        .cookies
        .insert("catalogue_signin".into(), signin_cookie);
    assert_refused(&browser.get(&callback).await, 400, "state_unknown");

    // An ID token for another sign-in (bad nonce), a forged one, and one
    // that needs an extension the gateway does not understand.
    for behaviour in [
        Behaviour {
            wrong_nonce: Some("n".repeat(43)),
            ..Behaviour::default()
        },
        Behaviour {
            forge_with: Some(SigningKey::rsa("pc-rsa")),
            ..Behaviour::default()
        },
        // RFC 7515 §4.1.11: an extension the gateway does not understand.
        Behaviour {
            critical_header: true,
            ..Behaviour::default()
        },
    ] {
        provider.behave(behaviour);
        let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
        assert_refused(steps.last().unwrap(), 401, "invalid_id_token");
    }
}

/// Registrations differ: ES256, HS256 with the client secret, an asked-for
/// `acr`; a token signed otherwise than registered is refused whatever its
/// header says.
async fn the_registered_algorithm_and_acr_are_enforced(backend: Backend) {
    let hs256 = TestProvider::start(Signing::ClientSecret).await;
    let app = gateway_on(TestDatabase::create(backend).await, &hs256, |config| {
        config.proconnect.proconnect_signing_alg = "HS256".to_owned();
    })
    .await;
    let (_, steps) = sign_in(&app, &hs256, &format!("redirect={PORTAL}/")).await;
    let (status, _, answer) = app.query_as(&minted_token(&steps), ME, json!({})).await;
    assert_eq!(
        (status, &answer["data"]["me"]["email"]),
        (200, &json!(PERSON_EMAIL))
    );

    // Registered for RS256 (the default); the provider signs HS256 with the
    // client secret, the classic algorithm confusion.
    let app = gateway_on(TestDatabase::create(backend).await, &hs256, |_| {}).await;
    let (_, steps) = sign_in(&app, &hs256, &format!("redirect={PORTAL}/")).await;
    assert_refused(steps.last().unwrap(), 401, "invalid_id_token");

    // Registered for ES256; the provider signs RS256.
    let rs256 = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &rs256, |config| {
        config.proconnect.proconnect_signing_alg = "ES256".to_owned();
    })
    .await;
    let (_, steps) = sign_in(&app, &rs256, &format!("redirect={PORTAL}/")).await;
    assert_refused(steps.last().unwrap(), 401, "invalid_id_token");

    // `acr` asked for, and the ID token says a lower level.
    let app = gateway_on(TestDatabase::create(backend).await, &rs256, |config| {
        config.proconnect.proconnect_acr_values = Some("eidas2 eidas3".to_owned());
    })
    .await;
    let (_, steps) = sign_in(&app, &rs256, &format!("redirect={PORTAL}/")).await;
    let asked = rs256.last_authorize_request();
    assert_eq!(asked["acr_values"], "eidas2 eidas3");
    let claims: Value = serde_json::from_str(&asked["claims"]).unwrap();
    assert_eq!(claims["id_token"]["acr"]["essential"], true);
    assert_refused(steps.last().unwrap(), 403, "acr_too_low");
    rs256.behave(Behaviour {
        acr: Some("eidas2".into()),
        ..Behaviour::default()
    });
    let (_, steps) = sign_in(&app, &rs256, &format!("redirect={PORTAL}/")).await;
    let token = minted_token(&steps);
    assert_eq!(
        claims_of(&token)["acr"],
        "eidas2",
        "acr is carried into the token"
    );
    let (status, _, answer) = app
        .query_as(&token, "{ me { email acr } }", json!({}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], PERSON_EMAIL);
    assert_eq!(answer["data"]["me"]["acr"], "eidas2");
}

/// ProConnect signs userinfo once a userinfo algorithm is registered: a
/// plain JSON answer is refused (the registration is to fix) unless the
/// operator allows it.
async fn unsigned_userinfo_is_refused_unless_allowed(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    provider.behave(Behaviour {
        userinfo_json: true,
        ..Behaviour::default()
    });
    let app = gateway(backend, &provider).await;
    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    assert_refused(steps.last().unwrap(), 500, "provider_misconfigured");

    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_userinfo_signed = false;
    })
    .await;
    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    accepted(&app, &minted_token(&steps)).await;
}

async fn same_site_portals_get_a_cookie_and_logout_ends_the_session(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway(backend, &provider).await;
    let (mut browser, steps) =
        sign_in(&app, &provider, &format!("redirect={PORTAL}/&mode=cookie")).await;
    let last = steps.last().unwrap();
    assert_eq!(
        last.location.as_deref(),
        Some(format!("{PORTAL}/").as_str())
    );
    let token_cookie = last
        .set_cookies
        .iter()
        .find(|c| c.starts_with("catalogue_token="))
        .expect("a token cookie");
    assert!(
        token_cookie.contains("HttpOnly") && token_cookie.contains("Path=/;"),
        "{token_cookie}"
    );

    let answer: Value = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header(
            "cookie",
            format!("catalogue_token={}", browser.cookies["catalogue_token"]),
        )
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["me"]["email"], PERSON_EMAIL, "{answer}");

    let token = browser.cookies["catalogue_token"].clone();
    let logout_cookie = last
        .set_cookies
        .iter()
        .find(|c| c.starts_with("catalogue_logout="))
        .expect("a logout cookie");
    assert!(
        logout_cookie.contains("HttpOnly") && logout_cookie.contains("Path=/auth;"),
        "{logout_cookie}"
    );
    let steps = browser
        .follow(&app.url(&format!("/auth/logout?redirect={PORTAL}/au-revoir")))
        .await;
    let hint = claims_of(&provider.last_end_session_request()["id_token_hint"]);
    assert_eq!(hint["iss"], provider.issuer);
    assert_eq!(hint["sub"], "proconnect-sub-for-this-client");
    assert_eq!(
        provider.last_end_session_request()["post_logout_redirect_uri"],
        app.url("/auth/logout/callback")
    );
    let last = steps.last().unwrap();
    assert_eq!(
        last.location.as_deref(),
        Some(format!("{PORTAL}/au-revoir").as_str()),
        "{steps:#?}"
    );
    assert!(!browser.cookies.contains_key("catalogue_token"));
    assert!(!browser.cookies.contains_key("catalogue_logout"));
    // The token the cookie held is revoked, wherever it is presented.
    let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["reason"], "revoked");
}

/// The logout cookie as the gateway seals it, its sign-in moved `age`
/// seconds into the past (the tests know the client secret the sealing key
/// derives from).
fn aged_logout_cookie(sealed: &str, age: u64) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let (payload, _) = sealed.rsplit_once('.').unwrap();
    let mut ticket: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    ticket["signed_in_at"] = json!(ticket["signed_in_at"].as_u64().unwrap() - age);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ticket).unwrap());
    let mut key = Sha256::new();
    key.update(b"catalogue-gateway\0logout cookie\0");
    key.update(CLIENT_SECRET.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.finalize()).unwrap();
    mac.update(payload.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{tag}")
}

/// What logout needs is kept as long as a ProConnect session lives (12 h),
/// not the gateway token's hour: a logout two hours after the sign-in, its
/// token long expired and gone from the browser, still ends the ProConnect
/// session with `id_token_hint`; a fragment-mode token is revoked by the
/// logout; past the ProConnect session's life there is nothing to end.
async fn logout_after_the_gateway_token_expired_still_ends_the_proconnect_session(
    backend: Backend,
) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway(backend, &provider).await;
    let (browser, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    let token = minted_token(&steps);
    let logout_cookie = steps
        .last()
        .unwrap()
        .set_cookies
        .iter()
        .find(|c| c.starts_with("catalogue_logout="))
        .expect("a logout cookie")
        .clone();
    assert!(logout_cookie.contains("Max-Age=43200;"), "{logout_cookie}");
    let sealed = browser.cookies["catalogue_logout"].clone();
    assert!(!sealed.contains(&token), "never the gateway's token in it");

    // Right after the sign-in: the fragment-mode token is revoked by logout.
    let mut now = Browser::new(&app.url(""), &provider.issuer);
    now.cookies
        .insert("catalogue_logout".into(), sealed.clone());
    now.follow(&app.url(&format!("/auth/logout?redirect={PORTAL}/")))
        .await;
    let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["reason"], "revoked");

    // Two hours later: only the logout cookie is left, and it still ends
    // the ProConnect session.
    let mut later = Browser::new(&app.url(""), &provider.issuer);
    later
        .cookies
        .insert("catalogue_logout".into(), aged_logout_cookie(&sealed, 7200));
    let before = provider.end_session_requests();
    let steps = later
        .follow(&app.url(&format!("/auth/logout?redirect={PORTAL}/au-revoir")))
        .await;
    assert_eq!(provider.end_session_requests(), before + 1, "{steps:#?}");
    let hint = claims_of(&provider.last_end_session_request()["id_token_hint"]);
    assert_eq!(hint["sub"], "proconnect-sub-for-this-client");
    assert_eq!(
        steps.last().unwrap().location.as_deref(),
        Some(format!("{PORTAL}/au-revoir").as_str())
    );

    // Thirteen hours later, and with a forged cookie: straight back to the portal.
    for cookie in [
        aged_logout_cookie(&sealed, 13 * 3600),
        format!("{}.Zm9yZ2Vk", sealed.rsplit_once('.').unwrap().0),
    ] {
        let mut stale = Browser::new(&app.url(""), &provider.issuer);
        stale.cookies.insert("catalogue_logout".into(), cookie);
        let before = provider.end_session_requests();
        let steps = stale
            .follow(&app.url(&format!("/auth/logout?redirect={PORTAL}/")))
            .await;
        assert_eq!(provider.end_session_requests(), before);
        assert_eq!(
            steps.last().unwrap().location.as_deref(),
            Some(format!("{PORTAL}/").as_str())
        );
    }
}

/// With Redis, a logout through one replica revokes the sign-in's token on
/// every replica.
async fn a_token_used_after_logout_is_refused_by_every_replica_through_redis(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let prefix = format!(
        "catalogue-test:logout:{}:{}:",
        std::process::id(),
        jsonwebtoken::get_current_timestamp()
    );
    let shared = |config: &mut Config| {
        config.http.public_url = Some("http://catalogue.test".to_owned());
        config.cache.redis_url = Some(Secret::new("redis://127.0.0.1:6379"));
        config.cache.redis_prefix = prefix.clone();
    };
    let first = gateway_on(TestDatabase::create(backend).await, &provider, shared).await;
    let second = gateway_on(first.database.shared(), &provider, shared).await;
    let mut browser =
        Browser::new(&first.url(""), &provider.issuer).with_public_url("http://catalogue.test");
    let steps = browser
        .follow(&first.url(&format!("/auth/login?redirect={PORTAL}/")))
        .await;
    let token = minted_token(&steps);
    accepted(&second, &token).await;
    browser
        .follow(&first.url(&format!("/auth/logout?redirect={PORTAL}/")))
        .await;
    for app in [&first, &second] {
        let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["reason"], "revoked");
    }
}

async fn opaque_access_tokens_are_introspected(backend: Backend) {
    const TOOL: &str = "another-administrations-tool";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_introspection_clients = vec![TOOL.to_owned()];
    })
    .await;

    let token = provider.issue_access_token(TOOL);
    for _ in 0..2 {
        let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["data"]["me"]["email"], PERSON_EMAIL,
            "completed by userinfo"
        );
    }
    assert_eq!(provider.introspections(), 1, "the answer is cached");

    let revoked = provider.issue_access_token(TOOL);
    provider.revoke(&revoked);
    let unlisted = provider.issue_access_token("a-tool-nobody-allowed");
    for (refused, reason) in [
        (revoked.as_str(), "inactive"),
        ("an-opaque-token-nobody-issued", "inactive"),
        (unlisted.as_str(), "untrusted_client"),
    ] {
        let (status, challenge, answer) = app.query_as(refused, ME, json!({})).await;
        assert_eq!(status, 401, "{answer}");
        assert!(challenge.unwrap().contains("invalid_token"));
        assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        assert_eq!(answer["errors"][0]["extensions"]["reason"], reason);
    }

    provider.behave(Behaviour {
        introspection_jwt: true,
        ..Behaviour::default()
    });
    let (status, _, answer) = app
        .query_as(&provider.issue_access_token(TOOL), ME, json!({}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], PERSON_EMAIL);
}

/// An answer about an active token is kept at most
/// `proconnect_introspection_cache_seconds`: once ProConnect says the token
/// is revoked, the gateway refuses it within that bound.
async fn a_token_revoked_at_the_provider_is_refused_within_the_bound(backend: Backend) {
    const TOOL: &str = "another-administrations-tool";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_introspection_clients = vec![TOOL.to_owned()];
        config.proconnect.proconnect_introspection_cache_seconds = 1;
    })
    .await;
    let token = provider.issue_access_token(TOOL);
    let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
    assert_eq!(status, 200, "{answer}");

    provider.revoke(&token);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
        if status == 401 {
            assert_eq!(answer["errors"][0]["extensions"]["reason"], "inactive");
            break;
        }
        assert_eq!(status, 200, "{answer}");
        assert!(
            std::time::Instant::now() < deadline,
            "a revoked token was still accepted: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The gateway's own tokens get no clock skew: one that expired a few
/// seconds ago is refused, though other issuers' would still pass.
async fn the_gateways_own_tokens_get_no_leeway(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway(backend, &provider).await;
    // A sign-in makes the gateway create its signing key.
    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    accepted(&app, &minted_token(&steps)).await;
    let (kid, pem) = stored_signing_keys(&app.database).await.remove(0);
    let now = jsonwebtoken::get_current_timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid);
    let token_expiring = |exp: u64| {
        jsonwebtoken::encode(
            &header,
            &json!({
                "iss": app.url(""), "aud": app.url(""), "sub": "s", "email": PERSON_EMAIL,
                "iat": now - 60, "exp": exp, "public_agent": "public_siren",
            }),
            &jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    accepted(&app, &token_expiring(now + 30)).await;
    let (status, _, answer) = app.query_as(&token_expiring(now - 2), ME, json!({})).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["reason"], "expired");
}

/// A maintainer and an administrator named by email are bound to their
/// ProConnect `sub` at their first sign-in: an email changed at their
/// identity provider keeps their rights; someone else given their old email
/// does not get them.
async fn people_named_by_email_are_recognised_by_sub_afterwards(backend: Backend) {
    const MAINTAINER: &str = "marie.mainteneuse@finances.gouv.fr";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.auth.admins = vec![PERSON_EMAIL.to_owned()];
        config.limits.signin_rate_limit_burst = 100;
    })
    .await;
    let signed_in_as = |sub: &str, email: &str| {
        provider.behave(Behaviour {
            sub: Some(sub.to_owned()),
            person: Some(json!({ "email": email })),
            ..Behaviour::default()
        });
        let mut browser = Browser::new(&app.url(""), &provider.issuer);
        let login = app.url(&format!("/auth/login?redirect={PORTAL}/"));
        async move { minted_token(&browser.follow(&login).await) }
    };
    let who = "{ me { email isAdmin maintainerOf { slug } } }";

    // The administrator's first sign-in binds their email to their sub;
    // they name a maintainer.
    let admin = signed_in_as("sub-of-the-administrator", PERSON_EMAIL).await;
    let (_, _, answer) = app.query_as(&admin, who, json!({})).await;
    assert_eq!(answer["data"]["me"]["isAdmin"], true, "{answer}");
    let (_, _, answer) = app
        .query_as(
            &admin,
            "mutation($emails: [String!]!) { setMaintainers(slug: \"formiable\", emails: $emails) { maintainers } }",
            json!({ "emails": [MAINTAINER] }),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");

    // The maintainer's first sign-in binds them; their email then changes.
    let first = signed_in_as("sub-of-the-maintainer", MAINTAINER).await;
    let (_, _, answer) = app.query_as(&first, who, json!({})).await;
    assert_eq!(
        answer["data"]["me"]["maintainerOf"],
        json!([{ "slug": "formiable" }])
    );
    let renamed = signed_in_as(
        "sub-of-the-maintainer",
        "marie.nouveau-nom@economie.gouv.fr",
    )
    .await;
    let (_, _, answer) = app.query_as(&renamed, who, json!({})).await;
    assert_eq!(
        answer["data"]["me"]["email"],
        "marie.nouveau-nom@economie.gouv.fr"
    );
    assert_eq!(
        answer["data"]["me"]["maintainerOf"],
        json!([{ "slug": "formiable" }]),
        "recognised by sub"
    );
    let admin_renamed = signed_in_as("sub-of-the-administrator", "camille@economie.gouv.fr").await;
    let (_, _, answer) = app.query_as(&admin_renamed, who, json!({})).await;
    assert_eq!(answer["data"]["me"]["isAdmin"], true, "{answer}");

    // Someone else, given the old emails: nothing of theirs.
    for email in [MAINTAINER, PERSON_EMAIL] {
        let other = signed_in_as("sub-of-someone-else", email).await;
        let (_, _, answer) = app.query_as(&other, who, json!({})).await;
        assert_eq!(answer["data"]["me"]["isAdmin"], false, "{email}: {answer}");
        assert_eq!(
            answer["data"]["me"]["maintainerOf"],
            json!([]),
            "{email}: {answer}"
        );
        let (_, _, answer) = app
            .query_as(
                &other,
                "mutation { archiveProject(slug: \"formiable\", expectedVersion: 1) { project { slug } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{answer}"
        );
    }
}

/// With Redis, introspection answers are shared: a second replica does not
/// ask ProConnect again about a token the first already checked.
async fn introspection_answers_are_shared_through_redis(backend: Backend) {
    const TOOL: &str = "another-administrations-tool";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let prefix = format!(
        "catalogue-test:introspection:{}:{}:",
        std::process::id(),
        jsonwebtoken::get_current_timestamp()
    );
    let shared = |config: &mut Config| {
        config.proconnect.proconnect_introspection_clients = vec![TOOL.to_owned()];
        config.cache.redis_url = Some(Secret::new("redis://127.0.0.1:6379"));
        config.cache.redis_prefix = prefix.clone();
    };
    let first = gateway_on(TestDatabase::create(backend).await, &provider, shared).await;
    let second = gateway_on(first.database.shared(), &provider, shared).await;
    let token = provider.issue_access_token(TOOL);
    for app in [&first, &second] {
        let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["data"]["me"]["email"], PERSON_EMAIL);
    }
    assert_eq!(
        provider.introspections(),
        1,
        "the second replica used the shared answer"
    );
}

/// Replicas share the signing keys through the database: one accepts what
/// another minted, before and after a key rotation.
async fn replicas_accept_each_others_tokens_across_a_rotation(backend: Backend) {
    const PUBLIC_URL: &str = "http://catalogue.test";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let database = TestDatabase::create(backend).await;
    let url = database.url.clone();
    let public = |config: &mut Config| config.http.public_url = Some(PUBLIC_URL.to_owned());
    let first = gateway_on(database, &provider, public).await;
    let second = gateway_on(first.database.shared(), &provider, public).await;

    let sign_in_through = |app: &TestApp| {
        let mut browser = Browser::new(&app.url(""), &provider.issuer).with_public_url(PUBLIC_URL);
        let login = app.url(&format!("/auth/login?redirect={PORTAL}/"));
        async move { minted_token(&browser.follow(&login).await) }
    };
    let before = sign_in_through(&first).await;
    assert_eq!(claims_of(&before)["iss"], PUBLIC_URL);
    let (status, _, answer) = second.query_as(&before, ME, json!({})).await;
    assert_eq!(
        (status, &answer["data"]["me"]["email"]),
        (200, &json!(PERSON_EMAIL))
    );

    let (rotated, stdout, stderr) = common::run_cli(&url, &["rotate-signing-key".as_ref()]);
    assert!(rotated, "{stdout}{stderr}");
    let third = gateway_on(first.database.shared(), &provider, public).await;
    let jwks: JwkSet =
        serde_json::from_str(&third.get_text("/.well-known/jwks.json").await).unwrap();
    assert_eq!(jwks.keys.len(), 2, "the previous key stays published");
    let after = sign_in_through(&third).await;
    assert_ne!(
        decode_header(&after).unwrap().kid,
        decode_header(&before).unwrap().kid
    );
    for (app, token) in [(&third, &before), (&first, &after), (&second, &after)] {
        let (status, _, answer) = app.query_as(token, ME, json!({})).await;
        assert_eq!(
            (status, &answer["data"]["me"]["email"]),
            (200, &json!(PERSON_EMAIL)),
            "{answer}"
        );
    }
}

/// A key stored again is put back in use: there is always exactly one
/// signing key.
async fn a_key_used_again_becomes_the_signing_key_again(backend: Backend) {
    use catalogue_gateway::auth::signing_keys;
    let database = TestDatabase::create(backend).await;
    let store = catalogue_gateway::store::Store::connect(&database.url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let first = signing_keys::generate_pem();
    let first_kid = signing_keys::add(&store, &first, None).await.unwrap();
    signing_keys::add(&store, &signing_keys::generate_pem(), None)
        .await
        .unwrap();
    assert_eq!(
        signing_keys::add(&store, &first, None).await.unwrap(),
        first_kid
    );
    let keys = store.signing_keys().await.unwrap();
    let in_use: Vec<&str> = keys
        .iter()
        .filter(|key| key.retired_at.is_none())
        .map(|key| key.kid.as_str())
        .collect();
    assert_eq!(in_use, vec![first_kid.as_str()]);
    assert_eq!(keys.len(), 2);
    store.close().await.unwrap();
}

/// A client over its rate limit spraying opaque tokens costs ProConnect
/// nothing: its address pays before any introspection and is refused with
/// 429. An agent whose token needs no call keeps a bucket of their own.
async fn a_client_over_its_limit_has_no_token_introspected(backend: Backend) {
    const TOOL: &str = "another-administrations-tool";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dev.pem");
    let dev_key = catalogue_gateway::auth::DevKey::load_or_create(&key_file).unwrap();
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.proconnect.proconnect_introspection_clients = vec![TOOL.to_owned()];
        config.limits.rate_limit_per_minute = 1;
        config.limits.rate_limit_burst = 3;
        config.auth.dev_auth = true;
        config.auth.dev_key_file = key_file;
    })
    .await;

    let mut statuses = Vec::new();
    for n in 0..10 {
        let (status, _, answer) = app
            .query_as(&format!("sprayed-opaque-token-{n}"), ME, json!({}))
            .await;
        let code = answer["errors"][0]["extensions"]["code"].clone();
        statuses.push((status, code));
    }
    let refused = (401, json!("UNAUTHENTICATED"));
    let limited = (429, json!("RATE_LIMITED"));
    assert_eq!(statuses[..3], [refused.clone(), refused.clone(), refused]);
    assert!(statuses[3..].iter().all(|s| *s == limited), "{statuses:?}");
    assert_eq!(provider.introspections(), 3);
    // Nor is a genuine one checked for this address now.
    let genuine = provider.issue_access_token(TOOL);
    let (status, _, answer) = app.query_as(&genuine, ME, json!({})).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(provider.introspections(), 3);

    let agent = dev_key.mint("camille@insee.fr", false, 10).unwrap();
    let (status, _, answer) = app.query_as(&agent, ME, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], "camille@insee.fr");
}

/// A burst of sign-ins from one address: past its `/auth/*` bucket, 429
/// with `Retry-After` and no row written; the other `/auth/*` routes draw
/// from the same bucket.
async fn a_burst_of_sign_ins_stops_at_the_limit_and_writes_no_more_rows(backend: Backend) {
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.limits.signin_rate_limit_per_minute = 1;
        config.limits.signin_rate_limit_burst = 5;
    })
    .await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let response = browser
            .get(app.url(&format!("/auth/login?redirect={PORTAL}/")))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            assert!(response.headers().contains_key("retry-after"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "rate_limited", "{body}");
        }
        statuses.push(status);
    }
    let expected: Vec<u16> = [vec![302; 5], vec![429; 35]].concat();
    assert_eq!(statuses, expected);
    let database = app.database.connect().await;
    let rows = database
        .query_one_raw(sea_orm::Statement::from_string(
            database.get_database_backend(),
            "SELECT COUNT(*) AS n FROM signin_attempt",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 5);
    for path in ["/auth/callback?code=c&state=s", "/auth/logout"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 429, "{path}");
    }
}

/// The `signing_key` table as it is: each key's id and stored private key.
async fn stored_signing_keys(database: &TestDatabase) -> Vec<(String, String)> {
    use sea_orm::{FromQueryResult, JsonValue, Statement};
    let db = database.connect().await;
    let rows = JsonValue::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT kid, private_key_pem FROM signing_key ORDER BY kid",
    ))
    .all(&db)
    .await
    .unwrap();
    db.close().await.unwrap();
    rows.iter()
        .map(|row| {
            (
                row["kid"].as_str().unwrap().to_owned(),
                row["private_key_pem"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Why a gateway configured by `configure` on `database` refuses to start.
async fn start_error(database: &TestDatabase, configure: impl FnOnce(&mut Config)) -> String {
    let mut config = Config::default();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.database_url = database.url.clone();
    config.database.seed_dir = None;
    config.harvest.harvest_interval_seconds = 0;
    configure(&mut config);
    match catalogue_gateway::App::build(config).await {
        Ok(_) => panic!("the gateway started"),
        Err(error) => error.to_string(),
    }
}

/// `token` gets `app`'s answer for the signed-in person.
async fn accepted(app: &TestApp, token: &str) {
    let (status, _, answer) = app.query_as(token, ME, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], PERSON_EMAIL);
}

fn random_encryption_key() -> catalogue_gateway::config::EncryptionKey {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    catalogue_gateway::config::EncryptionKey::try_from(encoded).unwrap()
}

/// With `CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY`, the signing key kept in the
/// database is encrypted: a key stored in plain text before is encrypted at
/// the next start, and tokens minted before it still verify; without the
/// setting, or with another key, the gateway refuses to start and says why.
async fn signing_keys_in_the_database_are_encrypted_and_never_lost(backend: Backend) {
    const PUBLIC_URL: &str = "http://catalogue.test";
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let sign_in_through = |app: &TestApp| {
        let mut browser = Browser::new(&app.url(""), &provider.issuer).with_public_url(PUBLIC_URL);
        let login = app.url(&format!("/auth/login?redirect={PORTAL}/"));
        async move { minted_token(&browser.follow(&login).await) }
    };
    let key = random_encryption_key();

    // Before: no encryption key, the key in plain text.
    let plain = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.http.public_url = Some(PUBLIC_URL.to_owned());
    })
    .await;
    let before_restart = sign_in_through(&plain).await;
    let stored = stored_signing_keys(&plain.database).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].1.contains("BEGIN PRIVATE KEY"), "plain text");

    // The next start with a key encrypts it, and keeps it.
    let with_key = |config: &mut Config| {
        config.http.public_url = Some(PUBLIC_URL.to_owned());
        config.auth.signing_key_encryption_key = Some(key.clone());
    };
    let encrypted = gateway_on(plain.database.shared(), &provider, with_key).await;
    let sealed = stored_signing_keys(&plain.database).await;
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0].0, stored[0].0, "the same key");
    assert!(!sealed[0].1.contains("PRIVATE KEY"), "{}", sealed[0].1);
    assert!(
        <p256::SecretKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_pem(&sealed[0].1).is_err()
    );
    accepted(&encrypted, &before_restart).await;
    let after_restart = sign_in_through(&encrypted).await;
    assert_eq!(
        decode_header(&after_restart).unwrap().kid.unwrap(),
        stored[0].0
    );

    // Another start with the key reads it, and changes nothing.
    let again = gateway_on(plain.database.shared(), &provider, with_key).await;
    assert_eq!(stored_signing_keys(&plain.database).await, sealed);
    accepted(&again, &before_restart).await;
    accepted(&again, &after_restart).await;

    // Without the key, or with another, the gateway refuses to start.
    for (what, setting) in [
        ("no key", None),
        ("another key", Some(random_encryption_key())),
    ] {
        let error = start_error(&plain.database, |config| {
            config.auth.signing_key_encryption_key = setting;
        })
        .await;
        assert!(
            error.contains("CATALOGUE_SIGNING_KEY_ENCRYPTION_KEY"),
            "{what}: {error}"
        );
        assert_eq!(stored_signing_keys(&plain.database).await, sealed, "{what}");
    }
}

/// `CATALOGUE_SIGNING_KEY_FILE`: the file's first key signs, the others are
/// published (tokens signed before a rotation), and none is written to the
/// database.
async fn a_signing_key_from_a_file_is_used_and_never_stored(backend: Backend) {
    use catalogue_gateway::auth::signing_keys::generate_pem;
    let provider = TestProvider::start(Signing::Key(Box::new(SigningKey::rsa("pc-rsa")))).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("signing-keys.pem");
    let (current, previous) = (generate_pem(), generate_pem());
    std::fs::write(&key_file, format!("{current}\n{previous}")).unwrap();
    let thumbprint = |pem: &str| {
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256)
            .unwrap()
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .unwrap()
    };
    let app = gateway_on(TestDatabase::create(backend).await, &provider, |config| {
        config.auth.signing_key_file = Some(key_file.clone());
    })
    .await;
    let (_, steps) = sign_in(&app, &provider, &format!("redirect={PORTAL}/")).await;
    let token = minted_token(&steps);
    assert_eq!(
        decode_header(&token).unwrap().kid,
        Some(thumbprint(&current))
    );
    let (status, _, answer) = app.query_as(&token, ME, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    let jwks: JwkSet = serde_json::from_str(&app.get_text("/.well-known/jwks.json").await).unwrap();
    let mut published: Vec<String> = jwks
        .keys
        .iter()
        .map(|key| key.common.key_id.clone().unwrap())
        .collect();
    published.sort();
    let mut expected = vec![thumbprint(&current), thumbprint(&previous)];
    expected.sort();
    assert_eq!(published, expected);
    assert_eq!(stored_signing_keys(&app.database).await, Vec::new());
}

on_both_backends!(
    signing_keys_in_the_database_are_encrypted_and_never_lost,
    a_signing_key_from_a_file_is_used_and_never_stored,
    a_client_over_its_limit_has_no_token_introspected,
    a_burst_of_sign_ins_stops_at_the_limit_and_writes_no_more_rows,
    a_key_used_again_becomes_the_signing_key_again,
    sign_in_ends_with_a_token_the_api_accepts,
    the_gateways_keys_verify_its_tokens,
    refused_sign_ins_mint_nothing,
    the_registered_algorithm_and_acr_are_enforced,
    unsigned_userinfo_is_refused_unless_allowed,
    people_named_by_email_are_recognised_by_sub_afterwards,
    same_site_portals_get_a_cookie_and_logout_ends_the_session,
    opaque_access_tokens_are_introspected,
    a_token_revoked_at_the_provider_is_refused_within_the_bound,
    the_gateways_own_tokens_get_no_leeway,
    logout_after_the_gateway_token_expired_still_ends_the_proconnect_session,
    a_token_used_after_logout_is_refused_by_every_replica_through_redis,
    introspection_answers_are_shared_through_redis,
    replicas_accept_each_others_tokens_across_a_rotation,
);

/// Without ProConnect, sign-in says so; the gateway still publishes its keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_proconnect_sign_in_is_not_found() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut browser = Browser::new(&app.url(""), "http://127.0.0.1:9");
    let step = browser
        .get(&app.url(&format!("/auth/login?redirect={PORTAL}/")))
        .await;
    assert_refused(&step, 404, "signin_not_configured");
    let jwks: JwkSet = serde_json::from_str(&app.get_text("/.well-known/jwks.json").await).unwrap();
    assert_eq!(jwks.keys.len(), 1);
    let (status, _, answer) = app.query_as("opaque-token", ME, json!({})).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["reason"], "malformed");
}
