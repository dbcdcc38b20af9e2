//! A test OIDC issuer on loopback: discovery document and JWKS served from
//! keys generated in the test, and tokens signed with them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Json};
use poem::{EndpointExt, IntoResponse, Response, Route, Server, get, handler};
use serde_json::{Value, json};

pub const AUDIENCE: &str = "catalogue-test";

/// A signing key the issuer publishes (or not).
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Jwk,
}

impl SigningKey {
    pub fn rsa(kid: &str) -> Self {
        use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key");
        let pem = private.to_pkcs1_pem(LineEnding::LF).expect("PEM");
        Self::from_encoding(
            kid,
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM"),
        )
    }

    pub fn ec(kid: &str) -> Self {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let private = p256::SecretKey::random(&mut rand::thread_rng());
        let pem = private.to_pkcs8_pem(LineEnding::LF).expect("PEM");
        Self::ec_from_pem(kid, &pem)
    }

    /// The P-256 key of a PKCS#8 PEM (the gateway's own key file, say).
    pub fn ec_from_pem(kid: &str, pem: &str) -> Self {
        Self::from_encoding(
            kid,
            Algorithm::ES256,
            EncodingKey::from_ec_pem(pem.as_bytes()).expect("EC PEM"),
        )
    }

    fn from_encoding(kid: &str, algorithm: Algorithm, encoding: EncodingKey) -> Self {
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm).expect("a JWK");
        jwk.common.key_id = Some(kid.to_owned());
        Self {
            kid: kid.to_owned(),
            algorithm,
            encoding,
            jwk,
        }
    }

    /// A token with these claims, signed by this key.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(claims, |_| {})
    }

    /// A token with these claims and a header changed by `change`, signed by this key.
    pub fn sign_with_header(&self, claims: &Value, change: impl FnOnce(&mut Header)) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        change(&mut header);
        encode(&header, claims, &self.encoding).expect("a signed token")
    }
}

#[derive(Default)]
struct IssuerState {
    published: Mutex<Vec<Jwk>>,
    jwks_fetches: AtomicUsize,
    down: AtomicBool,
}

/// The issuer, serving until dropped.
pub struct TestIssuer {
    pub url: String,
    state: Arc<IssuerState>,
    _server: tokio::task::JoinHandle<()>,
}

#[handler]
fn discovery(issuer: Data<&String>, state: Data<&Arc<IssuerState>>) -> Response {
    if state.down.load(Ordering::SeqCst) {
        return poem::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Json(json!({ "issuer": issuer.0, "jwks_uri": format!("{}/jwks", issuer.0) })).into_response()
}

#[handler]
fn jwks(state: Data<&Arc<IssuerState>>) -> Response {
    if state.down.load(Ordering::SeqCst) {
        return poem::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys = state.published.lock().unwrap().clone();
    Json(JwkSet { keys }).into_response()
}

impl TestIssuer {
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the issuer");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a socket address");
        // Shaped like ProConnect's issuers, which end in /api/v2.
        let url = format!("http://{address}/api/v2");
        let state = Arc::new(IssuerState::default());
        let issuer = Self {
            url: url.clone(),
            state: Arc::clone(&state),
            _server: tokio::spawn(async move {
                let routes = Route::new()
                    .at("/api/v2/.well-known/openid-configuration", get(discovery))
                    .at("/api/v2/jwks", get(jwks))
                    .data(url)
                    .data(state);
                let _ = Server::new_with_acceptor(acceptor).run(routes).await;
            }),
        };
        for key in keys {
            issuer.publish(key);
        }
        issuer
    }

    pub fn publish(&self, key: &SigningKey) {
        self.state.published.lock().unwrap().push(key.jwk.clone());
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// ProConnect-style claims for `email`, valid for five minutes.
    pub fn claims(&self, email: &str) -> Value {
        let now = jsonwebtoken::get_current_timestamp();
        json!({
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": format!("sub-{email}"),
            "exp": now + 300,
            "iat": now,
            "email": email,
            "given_name": "Camille",
            "usual_name": "Agent",
            "uid": "42",
            "siret": "12002701600019",
            "idp_id": "test-idp",
        })
    }
}

/// The gateway with the eight projects, trusting `issuer`, with `admins`;
/// returns once it has fetched the issuer's keys.
pub async fn gateway_trusting(
    backend: super::Backend,
    issuer: &TestIssuer,
    admins: &[&str],
) -> super::TestApp {
    gateway_trusting_configured(backend, issuer, admins, |_| {}).await
}

/// [`gateway_trusting`] with a configuration of the test's own.
pub async fn gateway_trusting_configured(
    backend: super::Backend,
    issuer: &TestIssuer,
    admins: &[&str],
    configure: impl FnOnce(&mut catalogue_gateway::Config),
) -> super::TestApp {
    let database = super::TestDatabase::create(backend).await;
    gateway_on(database, issuer, admins, configure).await
}

/// [`gateway_trusting_configured`] on `database` (another replica's, shared).
pub async fn gateway_on(
    database: super::TestDatabase,
    issuer: &TestIssuer,
    admins: &[&str],
    configure: impl FnOnce(&mut catalogue_gateway::Config),
) -> super::TestApp {
    let issuer_url = issuer.url.clone();
    let admins: Vec<String> = admins.iter().map(|a| (*a).to_owned()).collect();
    let app =
        super::TestApp::spawn_configured(database, Some(super::catalogue_dir()), move |config| {
            config.auth.oidc_issuer = Some(issuer_url);
            config.auth.jwt_audience = Some(AUDIENCE.to_owned());
            config.auth.admins = admins;
            configure(config);
        })
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while issuer.jwks_fetches() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway never fetched the JWKS"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    app
}
