//! A test OpenID provider on loopback, shaped like ProConnect: discovery,
//! an authorization endpoint that redirects back with a code, a token
//! endpoint (client_secret_post, PKCE S256), JWKS, a signed userinfo JWT,
//! introspection (JSON or signed JWT) and end_session. Tests steer it to
//! misbehave.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Form, Json, Query};
use poem::{EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler, post};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::issuer::SigningKey;

pub const CLIENT_ID: &str = "catalogue-gateway-test";
pub const CLIENT_SECRET: &str = "a-client-secret-only-the-tests-know";
pub const PERSON_EMAIL: &str = "camille.agent@finances.gouv.fr";

/// How the provider signs its JWTs.
#[derive(Clone)]
pub enum Signing {
    Key(Box<SigningKey>),
    /// HS256 with the client secret.
    ClientSecret,
}

/// Ways the provider misbehaves, set by tests.
#[derive(Clone, Default)]
pub struct Behaviour {
    /// Answer the authorization request with `error=<this>`.
    pub deny: Option<String>,
    /// Put this nonce in the ID token instead of the one asked for.
    pub wrong_nonce: Option<String>,
    /// Sign the ID token with this key (same kid) instead of the published one.
    pub forge_with: Option<SigningKey>,
    /// The `acr` the ID token carries.
    pub acr: Option<String>,
    /// Answer userinfo as plain JSON instead of a signed JWT.
    pub userinfo_json: bool,
    /// Answer introspection as a signed JWT (RFC 9701).
    pub introspection_jwt: bool,
    /// Mark an extension of the ID token's header critical (`crit`).
    pub critical_header: bool,
    /// Claims of userinfo's answer replaced by these (e.g. a private
    /// company's `siret` and `email`).
    pub person: Option<Value>,
    /// The `sub` of the person signing in, instead of the usual one.
    pub sub: Option<String>,
    /// Ask for credentials (a page with a "Se connecter" button) unless the
    /// browser holds a session of this provider, which end_session ends:
    /// ProConnect's single sign-on, for browser tests.
    pub ask_credentials: bool,
}

/// The provider's session cookie (ProConnect's own, on its origin).
const SESSION_COOKIE: &str = "provider_session";

struct Grant {
    nonce: String,
    code_challenge: Option<String>,
    redirect_uri: String,
}

struct AccessToken {
    sub: String,
    /// The client it was issued to.
    client: String,
    active: bool,
}

struct State {
    issuer: String,
    signing: Signing,
    behaviour: Mutex<Behaviour>,
    codes: Mutex<HashMap<String, Grant>>,
    access_tokens: Mutex<HashMap<String, AccessToken>>,
    authorize_requests: Mutex<Vec<HashMap<String, String>>>,
    end_session_requests: Mutex<Vec<HashMap<String, String>>>,
    introspections: AtomicUsize,
    /// Open sessions (`ask_credentials`), by cookie value.
    sessions: Mutex<std::collections::HashSet<String>>,
    /// How many times the credentials page was shown.
    credential_pages: AtomicUsize,
}

/// The provider, serving until dropped.
pub struct TestProvider {
    pub issuer: String,
    state: Arc<State>,
    _server: tokio::task::JoinHandle<()>,
}

fn random() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl State {
    fn sign(&self, claims: &Value, forge_with: Option<&SigningKey>) -> String {
        self.sign_critical(claims, forge_with, false)
    }

    /// A JWT whose header marks the extension `x-ext` critical when `critical`.
    fn sign_critical(
        &self,
        claims: &Value,
        forge_with: Option<&SigningKey>,
        critical: bool,
    ) -> String {
        let mark = |header: &mut Header| {
            if critical {
                header.crit = Some(vec!["x-ext".to_owned()]);
                header.extras.insert("x-ext", "must be understood");
            }
        };
        match (&self.signing, forge_with) {
            (_, Some(forger)) => forger.sign_with_header(claims, mark),
            (Signing::Key(key), None) => key.sign_with_header(claims, mark),
            (Signing::ClientSecret, None) => {
                let mut header = Header::new(Algorithm::HS256);
                mark(&mut header);
                encode(
                    &header,
                    claims,
                    &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
                )
                .expect("an HS256 token")
            }
        }
    }

    /// Userinfo's claims, signed for the client the token was issued to.
    fn person(&self, sub: &str, client: &str) -> Value {
        let mut person = json!({
            "iss": self.issuer,
            "aud": client,
            "sub": sub,
            "email": PERSON_EMAIL,
            "given_name": "Camille",
            "usual_name": "Agent",
            "uid": "1234",
            "siret": "11000601200010",
            "organizational_unit": "DGFiP",
            "idp_id": "test-idp",
        });
        if let Some(Value::Object(changes)) = self.behaviour.lock().unwrap().person.clone() {
            for (claim, value) in changes {
                person[claim] = value;
            }
        }
        person
    }

    fn client_authenticated(form: &HashMap<String, String>) -> bool {
        form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
    }
}

#[handler]
fn discovery(state: Data<&Arc<State>>) -> Json<Value> {
    let issuer = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/session/end"),
        "introspection_endpoint": format!("{issuer}/token/introspection"),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256", "HS256"],
    }))
}

#[handler]
fn jwks(state: Data<&Arc<State>>) -> Json<JwkSet> {
    let keys = match &state.signing {
        Signing::Key(key) => vec![key.jwk.clone()],
        Signing::ClientSecret => Vec::new(),
    };
    Json(JwkSet { keys })
}

fn redirect(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", location)
        .finish()
}

/// The session cookie `request` carries, when it names an open session.
fn open_session(request: &Request, state: &State) -> Option<String> {
    let session = request
        .headers()
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())?;
    state
        .sessions
        .lock()
        .unwrap()
        .contains(&session)
        .then_some(session)
}

#[handler]
fn authorize(
    request: &Request,
    Query(params): Query<HashMap<String, String>>,
    state: Data<&Arc<State>>,
) -> Response {
    state
        .authorize_requests
        .lock()
        .unwrap()
        .push(params.clone());
    if params.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    }
    let ask = state.behaviour.lock().unwrap().ask_credentials;
    if ask && open_session(request, &state).is_none() {
        state.credential_pages.fetch_add(1, Ordering::SeqCst);
        return credentials_page(&params);
    }
    grant(&params, &state)
}

/// The page asking for credentials: its form sends the request on to `/continue`.
fn credentials_page(params: &HashMap<String, String>) -> Response {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let hidden: String = params
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect();
    poem::web::Html(format!(
        "<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>ProConnect de test</title><link rel=\"icon\" href=\"data:,\">\
         <main><h1>Identifiez-vous</h1><form method=\"get\" action=\"continue\">{hidden}\
         <label for=\"password\">Mot de passe</label><input id=\"password\" type=\"password\">\
         <button type=\"submit\">Se connecter</button></form></main></html>"
    ))
    .into_response()
}

/// Credentials given: a session opens, the sign-in goes on.
#[handler]
fn authorize_continue(
    Query(params): Query<HashMap<String, String>>,
    state: Data<&Arc<State>>,
) -> Response {
    let session = random();
    state.sessions.lock().unwrap().insert(session.clone());
    let mut response = grant(&params, &state);
    response.headers_mut().append(
        "set-cookie",
        format!("{SESSION_COOKIE}={session}; Path=/api/v2; HttpOnly; SameSite=Lax")
            .parse()
            .expect("a cookie header"),
    );
    response
}

/// Back to the client with a code (or the error the tests asked for).
fn grant(params: &HashMap<String, String>, state: &State) -> Response {
    let redirect_uri = params["redirect_uri"].clone();
    let mut back = url::Url::parse(&redirect_uri).expect("redirect_uri");
    if let Some(error) = state.behaviour.lock().unwrap().deny.clone() {
        back.query_pairs_mut()
            .append_pair("error", &error)
            .append_pair("state", &params["state"]);
        return redirect(back.as_str());
    }
    let code = random();
    state.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: params["nonce"].clone(),
            code_challenge: params.get("code_challenge").cloned(),
            redirect_uri,
        },
    );
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &params["state"]);
    redirect(back.as_str())
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

#[handler]
fn token_endpoint(Form(form): Form<HashMap<String, String>>, state: Data<&Arc<State>>) -> Response {
    if !State::client_authenticated(&form) {
        return oauth_error("invalid_client");
    }
    let Some(grant) = form
        .get("code")
        .and_then(|code| state.codes.lock().unwrap().remove(code))
    else {
        return oauth_error("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error("invalid_grant");
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        if &computed != challenge {
            return oauth_error("invalid_grant");
        }
    }
    let behaviour = state.behaviour.lock().unwrap().clone();
    let sub = behaviour
        .sub
        .clone()
        .unwrap_or_else(|| "proconnect-sub-for-this-client".to_owned());
    let sub = sub.as_str();
    let access_token = state.issue(sub, CLIENT_ID);
    let now = jsonwebtoken::get_current_timestamp();
    let id_token = state.sign_critical(
        &json!({
            "iss": state.issuer,
            "aud": CLIENT_ID,
            "sub": sub,
            "exp": now + 60,
            "iat": now,
            "nonce": behaviour.wrong_nonce.unwrap_or(grant.nonce),
            "acr": behaviour.acr.unwrap_or_else(|| "eidas1".to_owned()),
            "idp_id": "test-idp",
        }),
        behaviour.forge_with.as_ref(),
        behaviour.critical_header,
    );
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 60,
        "id_token": id_token,
        "scope": "openid email",
    }))
    .into_response()
}

impl State {
    fn issue(&self, sub: &str, client: &str) -> String {
        let token = random();
        self.access_tokens.lock().unwrap().insert(
            token.clone(),
            AccessToken {
                sub: sub.to_owned(),
                client: client.to_owned(),
                active: true,
            },
        );
        token
    }
}

#[handler]
fn userinfo(request: &Request, state: Data<&Arc<State>>) -> Response {
    let token = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (sub, client) = match state.access_tokens.lock().unwrap().get(token) {
        Some(known) if known.active => (known.sub.clone(), known.client.clone()),
        _ => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let person = state.person(&sub, &client);
    if state.behaviour.lock().unwrap().userinfo_json {
        return Json(person).into_response();
    }
    state
        .sign(&person, None)
        .with_content_type("application/jwt")
        .into_response()
}

#[handler]
fn introspect(Form(form): Form<HashMap<String, String>>, state: Data<&Arc<State>>) -> Response {
    state.introspections.fetch_add(1, Ordering::SeqCst);
    if !State::client_authenticated(&form) {
        return oauth_error("invalid_client");
    }
    let now = jsonwebtoken::get_current_timestamp();
    let answer = match state
        .access_tokens
        .lock()
        .unwrap()
        .get(form.get("token").map(String::as_str).unwrap_or_default())
    {
        Some(known) if known.active => json!({
            "active": true,
            "sub": known.sub,
            "client_id": known.client,
            "scope": "openid email",
            "token_type": "Bearer",
            "exp": now + 60,
            "iat": now,
            "iss": state.issuer,
            "aud": known.client,
        }),
        _ => json!({ "active": false }),
    };
    if state.behaviour.lock().unwrap().introspection_jwt {
        let signed = state.sign(
            &json!({
                "iss": state.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "token_introspection": answer,
            }),
            None,
        );
        return signed
            .with_content_type("application/token-introspection+jwt")
            .into_response();
    }
    Json(answer).into_response()
}

#[handler]
fn end_session(
    request: &Request,
    Query(params): Query<HashMap<String, String>>,
    state: Data<&Arc<State>>,
) -> Response {
    state
        .end_session_requests
        .lock()
        .unwrap()
        .push(params.clone());
    if let Some(session) = open_session(request, &state) {
        state.sessions.lock().unwrap().remove(&session);
    }
    let mut back = url::Url::parse(&params["post_logout_redirect_uri"]).expect("a URL");
    back.query_pairs_mut()
        .append_pair("state", &params["state"]);
    redirect(back.as_str())
}

impl TestProvider {
    pub async fn start(signing: Signing) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the provider");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a socket address");
        let issuer = format!("http://{address}/api/v2");
        let state = Arc::new(State {
            issuer: issuer.clone(),
            signing,
            behaviour: Mutex::default(),
            codes: Mutex::default(),
            access_tokens: Mutex::default(),
            authorize_requests: Mutex::default(),
            end_session_requests: Mutex::default(),
            introspections: AtomicUsize::new(0),
            sessions: Mutex::default(),
            credential_pages: AtomicUsize::new(0),
        });
        let served = Arc::clone(&state);
        let server = tokio::spawn(async move {
            let routes = Route::new()
                .at("/api/v2/.well-known/openid-configuration", get(discovery))
                .at("/api/v2/jwks", get(jwks))
                .at("/api/v2/authorize", get(authorize))
                .at("/api/v2/continue", get(authorize_continue))
                .at("/api/v2/token", post(token_endpoint))
                .at("/api/v2/userinfo", get(userinfo))
                .at("/api/v2/token/introspection", post(introspect))
                .at("/api/v2/session/end", get(end_session))
                .data(served);
            let _ = Server::new_with_acceptor(acceptor).run(routes).await;
        });
        Self {
            issuer,
            state,
            _server: server,
        }
    }

    pub fn behave(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// An opaque access token, as ProConnect gives the tool `client`.
    pub fn issue_access_token(&self, client: &str) -> String {
        self.state
            .issue("sub-at-another-administrations-tool", client)
    }

    pub fn revoke(&self, token: &str) {
        if let Some(known) = self.state.access_tokens.lock().unwrap().get_mut(token) {
            known.active = false;
        }
    }

    /// How many times the credentials page was shown (`ask_credentials`).
    pub fn credential_pages(&self) -> usize {
        self.state.credential_pages.load(Ordering::SeqCst)
    }

    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    /// The parameters of the last authorization request.
    pub fn last_authorize_request(&self) -> HashMap<String, String> {
        self.state
            .authorize_requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an authorization request")
    }

    pub fn end_session_requests(&self) -> usize {
        self.state.end_session_requests.lock().unwrap().len()
    }

    pub fn last_end_session_request(&self) -> HashMap<String, String> {
        self.state
            .end_session_requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an end_session request")
    }
}
