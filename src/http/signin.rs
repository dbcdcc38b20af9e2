//! Sign-in with ProConnect for portals: `/auth/login` sends the browser to
//! ProConnect, `/auth/callback` turns its answer into a gateway token handed
//! back to the portal, `/auth/logout` ends the ProConnect session.
//!
//! A sign-in attempt is stored (under a hash of its `state`) so that the
//! callback may reach any replica and succeeds once; the browser that started
//! it is recognised by a signed cookie holding the `state`. Each client
//! address draws from a bucket of its own for every `/auth/*` request, so
//! that nobody can write attempts (or have ProConnect called) without limit.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{IntoResponse, Request, Response, handler};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::cookies::{self, CookieSigner, CookieSpec};
use super::rate_limit::{self, Limit};
use super::signin_refusal::Refusal;
use crate::auth::{Agent, ProConnect};
use crate::store::{SigninAttempt, SigninMode};

/// How long a browser has to come back from ProConnect.
const ATTEMPT_SECONDS: i64 = 600;
const SIGNIN_COOKIE: &str = "catalogue_signin";
/// What logout needs, kept as long as a ProConnect session can live: the ID
/// token (`id_token_hint`) and the sign-in to revoke; HttpOnly, signed.
const LOGOUT_COOKIE: &str = "catalogue_logout";
/// The cookie same-site portals use instead of an `Authorization` header.
pub const TOKEN_COOKIE: &str = "catalogue_token";

/// What sign-in needs besides ProConnect.
pub struct SigninSettings {
    /// The gateway's public URL; its origin is always an allowed redirect.
    public_url: String,
    /// Origins (`scheme://host[:port]`) portals may be sent back to.
    allowed_origins: Vec<String>,
    secure_cookies: bool,
    /// Requests to `/auth/*` per client address.
    rate_limit: Limit,
    /// How long a ProConnect session can live, in seconds.
    session_seconds: u64,
}

impl SigninSettings {
    pub fn new(
        public_url: &str,
        redirect_origins: &[String],
        rate_limit: Limit,
        session_seconds: u64,
    ) -> Self {
        let mut allowed_origins: Vec<String> = redirect_origins
            .iter()
            .filter_map(|origin| origin_of(origin))
            .collect();
        allowed_origins.extend(origin_of(public_url));
        Self {
            public_url: public_url.to_owned(),
            allowed_origins,
            secure_cookies: public_url.starts_with("https://"),
            rate_limit,
            session_seconds,
        }
    }

    fn cookie<'a>(&self, name: &'a str, path: &'a str) -> CookieSpec<'a> {
        CookieSpec {
            name,
            path,
            secure: self.secure_cookies,
        }
    }

    /// Where to send the browser back: `redirect` when its origin is
    /// allowed, the gateway's own page when none is given.
    fn portal(&self, redirect: Option<String>) -> Result<String, Refusal> {
        let Some(redirect) = redirect else {
            return Ok(format!("{}/", self.public_url));
        };
        let allowed =
            origin_of(&redirect).is_some_and(|origin| self.allowed_origins.contains(&origin));
        if !allowed {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "redirect_not_allowed",
                "`redirect` is not on an allowed origin (CATALOGUE_SIGNIN_REDIRECT_ORIGINS)",
            ));
        }
        Ok(redirect)
    }
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https")
        .then(|| parsed.origin().ascii_serialization())
        .filter(|origin| origin != "null")
}

/// When an attempt started now stops being completable.
fn attempt_expiry() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(ATTEMPT_SECONDS)
}

/// 32 random bytes, URL-safe: 43 characters.
fn random_value() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `Some(429 answer)` when the client address is over its `/auth/*` limit.
async fn over_the_limit(state: &AppState, request: &Request) -> Option<Response> {
    let bucket = format!("signin:{}", rate_limit::address_bucket(state, request));
    let wait = rate_limit::wait(state, &bucket, 1, state.signin.rate_limit).await?;
    let retry_after = rate_limit::retry_after(wait);
    Some(
        Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many sign-in requests from this address; retry in {retry_after} s"),
        )
        .render(request)
        .with_header(header::RETRY_AFTER, retry_after.to_string())
        .into_response(),
    )
}

fn proconnect(state: &AppState) -> Result<&Arc<ProConnect>, Refusal> {
    state.authenticator.proconnect().ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "signin_not_configured",
            "sign-in is not configured on this gateway (CATALOGUE_PROCONNECT_ISSUER)",
        )
    })
}

fn signer(proconnect: &ProConnect) -> CookieSigner {
    CookieSigner::new(proconnect.derived_key("sign-in cookie"))
}

/// What the logout cookie holds.
#[derive(serde::Serialize, Deserialize)]
struct LogoutTicket {
    /// The sign-in (`sid` of the tokens minted for it).
    sid: String,
    id_token: String,
    /// When the sign-in completed, in seconds since the epoch.
    signed_in_at: u64,
}

impl LogoutTicket {
    fn signer(proconnect: &ProConnect) -> CookieSigner {
        CookieSigner::new(proconnect.derived_key("logout cookie"))
    }

    fn seal(&self, proconnect: &ProConnect) -> Option<String> {
        let json = serde_json::to_vec(self).ok()?;
        Some(Self::signer(proconnect).sign(&URL_SAFE_NO_PAD.encode(json)))
    }

    /// The ticket in `request`'s cookie, if the gateway sealed it less than
    /// `session_seconds` ago.
    fn from_request(
        request: &Request,
        proconnect: &ProConnect,
        session_seconds: u64,
    ) -> Option<Self> {
        let sealed = cookies::read(request, LOGOUT_COOKIE)?;
        let signer = Self::signer(proconnect);
        let json = URL_SAFE_NO_PAD.decode(signer.verify(&sealed)?).ok()?;
        let ticket: Self = serde_json::from_slice(&json).ok()?;
        let now = jsonwebtoken::get_current_timestamp();
        (ticket.signed_in_at + session_seconds > now).then_some(ticket)
    }
}

/// A redirect that no cache keeps.
fn redirect_to(location: &str) -> poem::ResponseBuilder {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .header("Referrer-Policy", "no-referrer")
}

#[derive(Deserialize)]
pub struct LoginParams {
    redirect: Option<String>,
    mode: Option<String>,
}

/// `GET /auth/login?redirect=<portal URL>[&mode=cookie]`.
#[handler]
pub async fn login(
    request: &Request,
    Query(params): Query<LoginParams>,
    state: Data<&AppState>,
) -> Response {
    if let Some(too_many) = over_the_limit(&state, request).await {
        return too_many;
    }
    match start_login(&state, params).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(request),
    }
}

async fn start_login(state: &AppState, params: LoginParams) -> Result<Response, Refusal> {
    let proconnect = proconnect(state)?;
    let settings = &state.signin;
    let redirect = settings.portal(params.redirect)?;
    let mode = match params.mode.as_deref().map(SigninMode::from_db) {
        None | Some(Some(SigninMode::Fragment)) => SigninMode::Fragment,
        Some(Some(SigninMode::Cookie)) => SigninMode::Cookie,
        Some(Some(SigninMode::Logout) | None) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_mode",
                "`mode` is `fragment` (the default) or `cookie`",
            ));
        }
    };
    let (signin_state, nonce, verifier) = (random_value(), random_value(), random_value());
    let authorization = proconnect
        .authorization_request(&signin_state, &nonce, &verifier)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot start a sign-in");
            Refusal::from_provider(&e)
        })?;
    save_attempt(
        state,
        SigninAttempt {
            state_hash: state_hash(&signin_state),
            nonce,
            code_verifier: if authorization.uses_pkce {
                verifier
            } else {
                String::new()
            },
            redirect,
            mode,
            expires_at: attempt_expiry(),
        },
    )
    .await?;
    Ok(redirect_to(&authorization.url)
        .header(
            header::SET_COOKIE,
            settings.cookie(SIGNIN_COOKIE, "/auth").set(
                &signer(proconnect).sign(&signin_state),
                ATTEMPT_SECONDS as u64,
            ),
        )
        .finish())
}

async fn save_attempt(state: &AppState, attempt: SigninAttempt) -> Result<(), Refusal> {
    state
        .store
        .save_signin_attempt(&attempt)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot record a sign-in attempt");
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the sign-in cannot be recorded now; try again later",
            )
        })
}

/// The attempt this browser started with `state`, taken so it completes once.
async fn take_attempt(
    state: &AppState,
    proconnect: &ProConnect,
    request: &Request,
    returned_state: Option<&str>,
) -> Result<SigninAttempt, Refusal> {
    let returned_state = returned_state.ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing_state",
            "the answer carries no `state`",
        )
    })?;
    let cookie_state = cookies::read(request, SIGNIN_COOKIE);
    let signer = signer(proconnect);
    let bound = cookie_state
        .as_deref()
        .and_then(|signed| signer.verify(signed))
        .is_some_and(|cookie_state| cookie_state == returned_state);
    if !bound {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "state_mismatch",
            "this browser did not start this sign-in (state and cookie differ); sign in again",
        ));
    }
    let attempt = state
        .store
        .take_signin_attempt(&state_hash(returned_state))
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot read a sign-in attempt");
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the sign-in cannot be checked now; try again later",
            )
        })?;
    attempt.ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "state_unknown",
            "this sign-in is unknown, expired or already completed; sign in again",
        )
    })
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback?code=…&state=…` (or `?error=…&state=…`), from ProConnect.
#[handler]
pub async fn callback(
    request: &Request,
    Query(params): Query<CallbackParams>,
    state: Data<&AppState>,
) -> Response {
    if let Some(too_many) = over_the_limit(&state, request).await {
        return too_many;
    }
    let clear_signin_cookie = state.signin.cookie(SIGNIN_COOKIE, "/auth").clear();
    let response = match complete_login(&state, request, params).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(request),
    };
    response
        .with_header(header::SET_COOKIE, clear_signin_cookie)
        .into_response()
}

async fn complete_login(
    state: &AppState,
    request: &Request,
    params: CallbackParams,
) -> Result<Response, Refusal> {
    let proconnect = proconnect(state)?;
    let attempt = take_attempt(state, proconnect, request, params.state.as_deref()).await?;
    if attempt.mode == SigninMode::Logout {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "state_unknown",
            "this state belongs to a logout, not a sign-in",
        ));
    }
    if let Some(error) = params.error {
        return Err(Refusal::from_provider_error_code(&error));
    }
    let code = params.code.ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing_code",
            "the answer carries no `code`",
        )
    })?;
    let verifier = (!attempt.code_verifier.is_empty()).then_some(attempt.code_verifier.as_str());
    let signed_in = proconnect
        .complete(&code, verifier, &attempt.nonce)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "sign-in failed at ProConnect");
            Refusal::from_provider(&e)
        })?;
    let has_email = signed_in
        .claims
        .email
        .as_deref()
        .is_some_and(|email| email.contains('@'));
    if !has_email {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "missing_email",
            "ProConnect gave no email for this person (ask for the `email` scope)",
        ));
    }
    let own = state.authenticator.own_issuer();
    let signin = random_value();
    let public_agent = state
        .authenticator
        .public_agent_basis(&signed_in.claims)
        .await;
    let catalogue_email = state.authenticator.recognise(&signed_in.claims).await;
    let token = own
        .mint(&signed_in.claims, &signin, public_agent, catalogue_email)
        .map_err(|error| {
            tracing::error!(%error, "cannot sign a token");
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "signing_failed",
                "the gateway cannot sign a token now",
            )
        })?;
    let lifetime = own.lifetime().as_secs();
    tracing::info!(
        sub_hash = %Agent::pseudonym(&signed_in.claims.sub),
        mode = attempt.mode.as_db(),
        public_agent = public_agent.map_or("no", |basis| basis.as_str()),
        "signed in with ProConnect"
    );
    let settings = &state.signin;
    let ticket = LogoutTicket {
        sid: signin,
        id_token: signed_in.id_token,
        signed_in_at: jsonwebtoken::get_current_timestamp(),
    };
    let logout_cookie = settings.cookie(LOGOUT_COOKIE, "/auth").set(
        &ticket.seal(proconnect).unwrap_or_default(),
        settings.session_seconds,
    );
    let response = if attempt.mode == SigninMode::Cookie {
        redirect_to(&attempt.redirect).header(
            header::SET_COOKIE,
            settings.cookie(TOKEN_COOKIE, "/").set(&token, lifetime),
        )
    } else {
        // In the fragment, never the query: it stays in the browser, out of
        // servers' logs and Referer headers.
        let mut location = url::Url::parse(&attempt.redirect).map_err(|_| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "redirect_not_allowed",
                "bad redirect",
            )
        })?;
        let fragment = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("access_token", &token)
            .append_pair("token_type", "Bearer")
            .append_pair("expires_in", &lifetime.to_string())
            .finish();
        location.set_fragment(Some(&fragment));
        redirect_to(location.as_str())
    };
    Ok(response.header(header::SET_COOKIE, logout_cookie).finish())
}

/// `GET /auth/status`: whether sign-in with ProConnect is configured, and
/// whether this browser still holds a ProConnect sign-in the gateway can
/// end, though its gateway token may have expired. The portal then offers
/// to sign out, so that on a shared workstation the next person is not
/// signed in as the previous one. Says nothing else (the cookie is HttpOnly
/// and scoped to `/auth`: the portal cannot read it).
#[handler]
pub async fn status(request: &Request, state: Data<&AppState>) -> Response {
    let proconnect = state.authenticator.proconnect();
    let signed_in = proconnect.is_some_and(|proconnect| {
        LogoutTicket::from_request(request, proconnect, state.signin.session_seconds).is_some()
    });
    let status = serde_json::json!({
        "proconnect": proconnect.is_some(),
        "proconnectSignedIn": signed_in,
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(status.to_string())
}

#[derive(Deserialize)]
pub struct LogoutParams {
    redirect: Option<String>,
}

/// `GET /auth/logout?redirect=<portal URL>`: revokes the sign-in's gateway
/// tokens, forgets the gateway's cookies and ends the ProConnect session
/// (`id_token_hint`), then returns to the portal.
#[handler]
pub async fn logout(
    request: &Request,
    Query(params): Query<LogoutParams>,
    state: Data<&AppState>,
) -> Response {
    if let Some(too_many) = over_the_limit(&state, request).await {
        return too_many;
    }
    let response = match start_logout(&state, request, params).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(request),
    };
    // Signed out here even when ProConnect cannot be told.
    let settings = &state.signin;
    response
        .with_header(
            header::SET_COOKIE,
            settings.cookie(TOKEN_COOKIE, "/").clear(),
        )
        .with_header(
            header::SET_COOKIE,
            settings.cookie(LOGOUT_COOKIE, "/auth").clear(),
        )
        .into_response()
}

async fn start_logout(
    state: &AppState,
    request: &Request,
    params: LogoutParams,
) -> Result<Response, Refusal> {
    let settings = &state.signin;
    let redirect = settings.portal(params.redirect)?;
    revoke_signins(state, request).await;
    let ticket = state.authenticator.proconnect().and_then(|proconnect| {
        LogoutTicket::from_request(request, proconnect, settings.session_seconds)
    });
    let response = match (state.authenticator.proconnect(), ticket) {
        (Some(proconnect), Some(LogoutTicket { id_token, .. })) => {
            let logout_state = random_value();
            let end_session = proconnect
                .end_session_url(
                    &id_token,
                    &logout_state,
                    &format!("{}/auth/logout/callback", settings.public_url),
                )
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "cannot end a ProConnect session");
                    Refusal::from_provider(&e)
                })?;
            match end_session {
                Some(url) => {
                    save_attempt(
                        state,
                        SigninAttempt {
                            state_hash: state_hash(&logout_state),
                            nonce: String::new(),
                            code_verifier: String::new(),
                            redirect,
                            mode: SigninMode::Logout,
                            expires_at: attempt_expiry(),
                        },
                    )
                    .await?;
                    redirect_to(&url).header(
                        header::SET_COOKIE,
                        settings.cookie(SIGNIN_COOKIE, "/auth").set(
                            &signer(proconnect).sign(&logout_state),
                            ATTEMPT_SECONDS as u64,
                        ),
                    )
                }
                None => redirect_to(&redirect),
            }
        }
        _ => redirect_to(&redirect),
    };
    Ok(response.finish())
}

/// Revokes the sign-ins behind the request's logout cookie and token cookie:
/// their gateway tokens are refused from now on, by every replica, until
/// they would have expired anyway.
async fn revoke_signins(state: &AppState, request: &Request) {
    let authenticator = &state.authenticator;
    let lifetime = authenticator.own_issuer().lifetime();
    if let Some(proconnect) = authenticator.proconnect()
        && let Some(ticket) =
            LogoutTicket::from_request(request, proconnect, state.signin.session_seconds)
    {
        let age = jsonwebtoken::get_current_timestamp().saturating_sub(ticket.signed_in_at);
        let remaining = lifetime.saturating_sub(std::time::Duration::from_secs(age));
        authenticator.revoke_signin(&ticket.sid, remaining).await;
    }
    if let Some(token) = cookies::read(request, TOKEN_COOKIE).filter(|t| !t.is_empty())
        && let Some(signin) = authenticator.signin_of(&token).await
    {
        authenticator.revoke_signin(&signin, lifetime).await;
    }
}

#[derive(Deserialize)]
pub struct LogoutCallbackParams {
    state: Option<String>,
}

/// `GET /auth/logout/callback?state=…`: back from ProConnect, on to the portal.
#[handler]
pub async fn logout_callback(
    request: &Request,
    Query(params): Query<LogoutCallbackParams>,
    state: Data<&AppState>,
) -> Response {
    if let Some(too_many) = over_the_limit(&state, request).await {
        return too_many;
    }
    let clear_signin_cookie = state.signin.cookie(SIGNIN_COOKIE, "/auth").clear();
    let outcome = async {
        let proconnect = proconnect(&state)?;
        let attempt = take_attempt(&state, proconnect, request, params.state.as_deref()).await?;
        if attempt.mode != SigninMode::Logout {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "state_unknown",
                "this state belongs to a sign-in, not a logout",
            ));
        }
        Ok(redirect_to(&attempt.redirect).finish())
    }
    .await;
    outcome
        .unwrap_or_else(|refusal| refusal.into_response(request))
        .with_header(header::SET_COOKIE, clear_signin_cookie)
        .into_response()
}
