//! Bearer tokens from a trusted issuer (a test OIDC issuer on loopback):
//! accepted ones see agents-only material, invalid ones get 401, keys rotate,
//! unknown key ids cannot make the gateway hammer the issuer, and cached keys
//! outlive an issuer outage.

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::issuer::{SigningKey, TestIssuer};
use common::{Backend, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";
const AGENT: &str = "camille.agent@insee.fr";

async fn gateway_trusting(backend: Backend, issuer: &TestIssuer) -> TestApp {
    common::issuer::gateway_trusting(backend, issuer, &[ADMIN]).await
}

const ME: &str = "{ me { sub email givenName usualName siret isAdmin } }";

async fn rs256_and_es256_tokens_are_accepted(backend: Backend) {
    let rsa = SigningKey::rsa("rsa-1");
    let ec = SigningKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&rsa, &ec]).await;
    let app = gateway_trusting(backend, &issuer).await;

    for key in [&rsa, &ec] {
        let (status, _, answer) = app
            .query_as(&key.sign(&issuer.claims(AGENT)), ME, json!({}))
            .await;
        assert_eq!(status, 200, "{:?}: {answer}", key.algorithm);
        assert_eq!(answer["data"]["me"]["email"], AGENT);
        assert_eq!(answer["data"]["me"]["isAdmin"], false);
        assert_eq!(answer["data"]["me"]["siret"], "12002701600019");
    }
    let (_, _, answer) = app
        .query_as(&rsa.sign(&issuer.claims(ADMIN)), ME, json!({}))
        .await;
    assert_eq!(answer["data"]["me"]["isAdmin"], true);
    assert_eq!(
        app.data(ME, json!({})).await["me"],
        Value::Null,
        "anonymous"
    );
}

async fn agents_see_agents_only_material_and_anonymous_callers_do_not(backend: Backend) {
    let key = SigningKey::rsa("rsa-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = gateway_trusting(backend, &issuer).await;
    let token = key.sign(&issuer.claims(AGENT));
    let query = "{ project(slug: \"transformers\") { links { id kind access } }
                   formiable: project(slug: \"formiable\") { datasets { id access } }
                   datasets(first: 100) { totalCount }
                   hasData: projects(filter: {hasData: true}) { totalCount }
                   pages: projects(first: 50) { edges { node { slug
                     links { kind access } datasets { access } } } } }";

    let (status, _, as_agent) = app.query_as(&token, query, json!({})).await;
    assert_eq!(status, 200);
    let agent = &as_agent["data"];
    let chat = agent["project"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "CHAT")
        .expect("the agent sees the Tchap room")
        .clone();
    assert_eq!(chat["access"], "AGENTS");
    let bucket = agent["formiable"]["datasets"][0].clone();
    assert_eq!(bucket["access"], "AGENTS");

    let anonymous = app.data(query, json!({})).await;
    assert!(
        anonymous["project"]["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["kind"] != "CHAT")
    );
    assert!(
        anonymous["formiable"]["datasets"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        anonymous["datasets"]["totalCount"].as_i64().unwrap() + 1,
        agent["datasets"]["totalCount"].as_i64().unwrap()
    );
    assert_eq!(
        anonymous["hasData"]["totalCount"].as_i64().unwrap() + 1,
        agent["hasData"]["totalCount"].as_i64().unwrap(),
        "FormIAble has data only for agents"
    );

    // The same material through a page of projects (answered without
    // resolvers: graphql/plain/project_connection.rs).
    let agents_only_in_pages = |data: &Value| {
        let mut found = Vec::new();
        for edge in data["pages"]["edges"].as_array().expect("edges") {
            let node = &edge["node"];
            for list in ["links", "datasets"] {
                for item in node[list].as_array().expect(list) {
                    if item["access"] == "AGENTS" {
                        found.push(format!("{} {list}", node["slug"]));
                    }
                }
            }
        }
        found
    };
    let seen_by_agent = agents_only_in_pages(agent);
    assert!(
        seen_by_agent.contains(&"\"transformers\" links".to_owned())
            && seen_by_agent.contains(&"\"formiable\" datasets".to_owned()),
        "{seen_by_agent:?}"
    );
    assert_eq!(agents_only_in_pages(&anonymous), Vec::<String>::new());

    for id in [&chat["id"], &bucket["id"]] {
        let node = "query($id: ID!) { node(id: $id) { id } }";
        assert_eq!(
            app.data(node, json!({"id": id})).await["node"],
            Value::Null,
            "anonymous node({id})"
        );
        let (_, _, answer) = app.query_as(&token, node, json!({"id": id})).await;
        assert_eq!(answer["data"]["node"]["id"], *id, "agent node({id})");
    }
}

fn forge(header: &Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.", part(header), part(claims))
}

async fn invalid_tokens_get_401_with_a_code_and_a_challenge(backend: Backend) {
    let key = SigningKey::rsa("rsa-1");
    let stranger = SigningKey::rsa("rsa-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = gateway_trusting(backend, &issuer).await;
    let claims = issuer.claims(AGENT);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut changed = claims.clone();
        change(&mut changed);
        key.sign(&changed)
    };
    let now = jsonwebtoken::get_current_timestamp();
    // HS256 with the issuer's public key as the secret: the classic key-confusion attack.
    let public_key_as_secret = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".to_owned());
        let secret = serde_json::to_vec(&key.jwk).unwrap();
        encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            with(&|c| c["exp"] = json!(now - 3600)),
            "expired",
        ),
        (
            "not yet valid",
            with(&|c| c["nbf"] = json!(now + 3600)),
            "not_yet_valid",
        ),
        (
            "wrong issuer",
            with(&|c| c["iss"] = json!("https://evil.example/api/v2")),
            "unknown_issuer",
        ),
        (
            "wrong audience",
            with(&|c| c["aud"] = json!("another-service")),
            "wrong_audience",
        ),
        (
            "no email",
            with(&|c| {
                c.as_object_mut()
                    .unwrap()
                    .remove("email")
                    .map(|_| ())
                    .unwrap()
            }),
            "missing_email",
        ),
        ("bad signature", stranger.sign(&claims), "bad_signature"),
        (
            "unknown key",
            SigningKey::rsa("rsa-unknown").sign(&claims),
            "unknown_key",
        ),
        ("malformed", "not.a.jwt".to_owned(), "malformed"),
        (
            "alg none",
            forge(&json!({"alg": "none", "kid": "rsa-1"}), &claims),
            "malformed",
        ),
        (
            "HMAC with the public key",
            public_key_as_secret,
            "algorithm",
        ),
    ];
    let before = common::snapshot(&app.database.connect().await).await;
    for (what, token, reason) in cases {
        let (status, challenge, answer) = app.query_as(&token, ME, json!({})).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert!(
            challenge
                .as_deref()
                .is_some_and(|c| c.starts_with("Bearer error=\"invalid_token\"")),
            "{what}: {challenge:?}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{what}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["reason"], reason,
            "{what}"
        );
        assert!(
            answer.get("data").is_none(),
            "{what}: no data for a refused token"
        );
        assert!(
            !answer.to_string().contains(AGENT),
            "{what}: the answer echoes a claim"
        );
    }
    let (status, _, _) = app.query_as("", ME, json!({})).await;
    assert_eq!(status, 401, "an empty bearer token");
    let basic = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .json(&json!({"query": ME}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        401,
        "a non-bearer scheme is refused, not ignored"
    );
    assert_eq!(
        common::snapshot(&app.database.connect().await).await,
        before
    );
}

async fn rotated_keys_are_picked_up_and_unknown_kids_cannot_hammer_the_issuer(backend: Backend) {
    let first = SigningKey::rsa("2026-01");
    let issuer = TestIssuer::start(&[&first]).await;
    let app = gateway_trusting(backend, &issuer).await;
    let (status, _, _) = app
        .query_as(&first.sign(&issuer.claims(AGENT)), ME, json!({}))
        .await;
    assert_eq!(status, 200);

    // The issuer rotates: a new key signs from now on.
    let second = SigningKey::ec("2026-02");
    issuer.publish(&second);
    let (status, _, answer) = app
        .query_as(&second.sign(&issuer.claims(AGENT)), ME, json!({}))
        .await;
    assert_eq!(
        status, 200,
        "the new key is fetched on its first use: {answer}"
    );
    let fetches = issuer.jwks_fetches();

    // A burst of forged key ids within the refetch interval: at most one more fetch.
    let forger = SigningKey::rsa("forged");
    for i in 0..25 {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(format!("forged-{i}"));
        let token = encode(&header, &issuer.claims(AGENT), &forger.encoding).unwrap();
        let (status, _, _) = app.query_as(&token, ME, json!({})).await;
        assert_eq!(status, 401);
    }
    assert!(
        issuer.jwks_fetches() <= fetches + 1,
        "{} JWKS fetches for 25 unknown kids",
        issuer.jwks_fetches() - fetches
    );
}

async fn cached_keys_keep_working_while_the_issuer_is_down(backend: Backend) {
    let key = SigningKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = gateway_trusting(backend, &issuer).await;
    issuer.set_down(true);
    let (status, _, answer) = app
        .query_as(&key.sign(&issuer.claims(AGENT)), ME, json!({}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["me"]["email"], AGENT);
}

/// A change to a token's header.
type HeaderChange = dyn Fn(&mut Header);

/// RFC 7515 §4.1.11: a token whose header marks an extension critical
/// (`crit`) is refused, since the gateway understands none, whether it comes
/// from a trusted issuer or from the gateway itself; the same token without
/// `crit` is accepted.
async fn tokens_naming_critical_extensions_are_refused(backend: Backend) {
    let key = SigningKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&key]).await;
    // The gateway's own key, from a file, so that the test can sign as the gateway.
    let dir = tempfile::tempdir().unwrap();
    let own_pem = catalogue_gateway::auth::signing_keys::generate_pem();
    let key_file = dir.path().join("signing-key.pem");
    std::fs::write(&key_file, &own_pem).unwrap();
    let app = common::issuer::gateway_trusting_configured(backend, &issuer, &[ADMIN], |config| {
        config.auth.signing_key_file = Some(key_file);
    })
    .await;
    let jwks: Value = serde_json::from_str(&app.get_text("/.well-known/jwks.json").await).unwrap();
    let own_kid = jwks["keys"][0]["kid"].as_str().unwrap();
    let own_key = SigningKey::ec_from_pem(own_kid, &own_pem);
    let now = jsonwebtoken::get_current_timestamp();
    let own_claims = json!({
        "iss": app.url(""), "aud": app.url(""), "sub": "sub-own", "email": AGENT,
        "iat": now, "exp": now + 300,
    });
    let before = common::snapshot(&app.database.connect().await).await;
    for (who, signer, claims) in [
        ("a trusted issuer", &key, issuer.claims(AGENT)),
        ("the gateway", &own_key, own_claims),
    ] {
        let (status, _, answer) = app.query_as(&signer.sign(&claims), ME, json!({})).await;
        assert_eq!(status, 200, "{who}, without crit: {answer}");
        assert_eq!(answer["data"]["me"]["email"], AGENT);
        let critical: [(&str, &HeaderChange); 3] = [
            ("a registered claim", &|header| {
                header.crit = Some(vec!["exp".into()])
            }),
            ("an extension it carries", &|header| {
                header.crit = Some(vec!["x-ext".into()]);
                header.extras.insert("x-ext", "must be understood");
            }),
            ("an empty list", &|header| header.crit = Some(Vec::new())),
        ];
        for (what, change) in critical {
            let token = signer.sign_with_header(&claims, change);
            let (status, challenge, answer) = app.query_as(&token, ME, json!({})).await;
            assert_eq!(status, 401, "{who}, crit naming {what}: {answer}");
            assert!(
                challenge
                    .as_deref()
                    .is_some_and(|c| c.starts_with("Bearer error=\"invalid_token\"")),
                "{challenge:?}"
            );
            assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
            assert_eq!(
                answer["errors"][0]["extensions"]["reason"], "critical_extension",
                "{who}, crit naming {what}"
            );
            assert!(answer.get("data").is_none());
        }
    }
    assert_eq!(
        common::snapshot(&app.database.connect().await).await,
        before
    );
}

/// A present `Authorization` header that is not readable text (bytes outside
/// visible ASCII) is refused with a code, never read as anonymous, by GET
/// and by POST; nothing is cached for it.
async fn an_unreadable_authorization_header_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let query = "{ unreadable: projects { totalCount } }";
    let unreadable = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe\x80abc").unwrap();
    let before = common::snapshot(&app.database.connect().await).await;
    for method in ["GET", "POST"] {
        let request = if method == "GET" {
            app.client
                .get(app.url("/graphql"))
                .query(&[("query", query)])
        } else {
            app.client
                .post(app.url("/graphql"))
                .json(&json!({ "query": query }))
        };
        let response = request
            .header(reqwest::header::AUTHORIZATION, unreadable.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{method}");
        assert!(response.headers().get("x-cache").is_none(), "{method}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{method}: {answer}"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["reason"], "unreadable_header",
            "{method}"
        );
        assert!(answer.get("data").is_none(), "{method}");
    }
    let anonymous = common::http_answer::get(&app, query, None, None).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(
        anonymous.header("x-cache"),
        Some("MISS"),
        "nothing was cached for the refused requests"
    );
    assert_eq!(
        common::snapshot(&app.database.connect().await).await,
        before
    );
}

on_both_backends!(
    tokens_naming_critical_extensions_are_refused,
    an_unreadable_authorization_header_is_refused,
    rs256_and_es256_tokens_are_accepted,
    agents_see_agents_only_material_and_anonymous_callers_do_not,
    invalid_tokens_get_401_with_a_code_and_a_challenge,
    rotated_keys_are_picked_up_and_unknown_kids_cannot_hammer_the_issuer,
    cached_keys_keep_working_while_the_issuer_is_down,
);
