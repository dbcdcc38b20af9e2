//! The authorization-code flow with ProConnect: the URL the browser is sent
//! to, then the code exchanged for verified claims.

use serde::Deserialize;
use url::Url;

use super::{Expectation, PUBLISHED_KEY_ALGORITHMS, ProConnect, ProviderError, media_type};
use crate::auth::token::Claims;

/// Where to send the browser, and whether PKCE was used.
pub struct AuthorizationRequest {
    pub url: String,
    /// Whether the request carries a PKCE challenge (the provider supports S256).
    pub uses_pkce: bool,
}

/// A completed sign-in.
pub struct SignedIn {
    /// The person: ID token claims completed by userinfo's.
    pub claims: Claims,
    /// Kept (in an HttpOnly cookie) for `id_token_hint` at logout.
    pub id_token: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: String,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

#[derive(Deserialize)]
struct IdTokenClaims {
    nonce: Option<String>,
    /// The person's claims, `acr` (the authentication level) among them.
    #[serde(flatten)]
    person: Claims,
}

/// The PKCE S256 challenge of `verifier`.
fn code_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl ProConnect {
    /// The authorization request for a sign-in with this `state` and `nonce`.
    pub async fn authorization_request(
        &self,
        state: &str,
        nonce: &str,
        code_verifier: &str,
    ) -> Result<AuthorizationRequest, ProviderError> {
        let metadata = self.metadata().await?;
        let mut url = Url::parse(&metadata.authorization_endpoint).map_err(|e| {
            ProviderError::Unavailable(format!("authorization_endpoint is not a URL: {e}"))
        })?;
        let uses_pkce = metadata
            .code_challenge_methods_supported
            .iter()
            .any(|method| method == "S256");
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_url)
                .append_pair("scope", &self.scopes)
                .append_pair("state", state)
                .append_pair("nonce", nonce);
            if let Some(acr_values) = &self.acr_values {
                // ProConnect documents `claims` with `essential` as the binding form.
                let values: Vec<&str> = acr_values.split_whitespace().collect();
                let claims = serde_json::json!({
                    "id_token": { "acr": { "essential": true, "values": values } }
                });
                query
                    .append_pair("acr_values", acr_values)
                    .append_pair("claims", &claims.to_string());
            }
            if uses_pkce {
                query
                    .append_pair("code_challenge", &code_challenge(code_verifier))
                    .append_pair("code_challenge_method", "S256");
            }
        }
        Ok(AuthorizationRequest {
            url: url.into(),
            uses_pkce,
        })
    }

    /// Exchanges `code`, verifies the ID token against `nonce` (and the
    /// `acr` asked for), and completes its claims with userinfo's.
    pub async fn complete(
        &self,
        code: &str,
        code_verifier: Option<&str>,
        nonce: &str,
    ) -> Result<SignedIn, ProviderError> {
        let metadata = self.metadata().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_url.as_str()),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier));
        }
        let response = self
            .post_form(&metadata.token_endpoint, &form, "application/json")
            .await?;
        let status = response.status();
        if status.is_client_error() {
            let error = response
                .json::<ErrorResponse>()
                .await
                .map_or_else(|_| status.to_string(), |e| e.error);
            // RFC 6749 §5.2: `invalid_client` (401 or 400) is our registration.
            if error == "invalid_client" || status == reqwest::StatusCode::UNAUTHORIZED {
                return Err(ProviderError::Misconfigured(format!(
                    "the token endpoint refused the gateway's client credentials ({error}): check CATALOGUE_PROCONNECT_CLIENT_ID and _SECRET"
                )));
            }
            return Err(ProviderError::Refused(format!("token endpoint: {error}")));
        }
        let tokens: TokenResponse = response
            .error_for_status()
            .map_err(|e| ProviderError::Unavailable(format!("token endpoint: {e}")))?
            .json()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("token endpoint answer: {e}")))?;
        let id: IdTokenClaims = self
            .verify_signed(&tokens.id_token, self.for_us(&["exp", "sub"]))
            .await?;
        if id.nonce.as_deref() != Some(nonce) {
            return Err(ProviderError::Forged(
                "the ID token's nonce is not the sign-in's".into(),
            ));
        }
        if let Some(asked) = &self.acr_values
            && !id
                .person
                .acr
                .as_deref()
                .is_some_and(|acr| asked.split_whitespace().any(|value| value == acr))
        {
            return Err(ProviderError::InsufficientAcr(format!(
                "the ID token's acr is not among those asked for ({asked})"
            )));
        }
        let person = match self.userinfo(&tokens.access_token, None).await? {
            Some(info) if info.sub != id.person.sub => {
                return Err(ProviderError::Forged(
                    "userinfo is about another subject than the ID token".into(),
                ));
            }
            Some(info) => info.completed_by(id.person),
            None => id.person,
        };
        Ok(SignedIn {
            claims: person,
            id_token: tokens.id_token,
        })
    }

    /// What userinfo says about the holder of `access_token` (`None` when the
    /// provider has no userinfo endpoint). ProConnect answers a JWT signed for
    /// the client the token was issued to: us, or `other_client` (an
    /// introspected token); plain JSON only when the operator allows it.
    pub(super) async fn userinfo(
        &self,
        access_token: &str,
        other_client: Option<&str>,
    ) -> Result<Option<Claims>, ProviderError> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = &metadata.userinfo_endpoint else {
            return Ok(None);
        };
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| ProviderError::Unavailable(format!("userinfo: {e}")))?;
        let signed = media_type(&response) == "application/jwt";
        let body = response
            .text()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("userinfo: {e}")))?;
        let claims = if signed {
            let expected = match other_client {
                Some(client) if client != self.client_id => Expectation {
                    audience: client,
                    algorithms: PUBLISHED_KEY_ALGORITHMS,
                    required: &["sub"],
                },
                _ => self.for_us(&["sub"]),
            };
            self.verify_signed(body.trim(), expected).await?
        } else if self.userinfo_signed {
            return Err(ProviderError::Misconfigured(
                "userinfo answered plain JSON: register a userinfo signature algorithm at ProConnect (or set CATALOGUE_PROCONNECT_USERINFO_SIGNED=0)".into(),
            ));
        } else {
            serde_json::from_str(&body)
                .map_err(|e| ProviderError::Unavailable(format!("userinfo answer: {e}")))?
        };
        Ok(Some(claims))
    }

    /// Where to send the browser to end its ProConnect session, when the
    /// provider has an `end_session_endpoint`.
    pub async fn end_session_url(
        &self,
        id_token_hint: &str,
        state: &str,
        post_logout_redirect_uri: &str,
    ) -> Result<Option<String>, ProviderError> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = &metadata.end_session_endpoint else {
            return Ok(None);
        };
        let mut url = Url::parse(endpoint).map_err(|e| {
            ProviderError::Unavailable(format!("end_session_endpoint is not a URL: {e}"))
        })?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token_hint)
            .append_pair("state", state)
            .append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
        Ok(Some(url.into()))
    }
}
