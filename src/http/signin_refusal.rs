//! A refused sign-in step, said to whoever asked: a page in the portal's
//! look, in French, for browsers (what happened, what to do, a way back);
//! JSON (`error`, `error_description`) for programs. Never a token. The
//! status says whose fault it is: the person's or their browser's (4xx),
//! the gateway's configuration (500), ProConnect being away (502/503).

use poem::http::{StatusCode, header};
use poem::web::{Html, Json};
use poem::{IntoResponse, Request, Response};

use super::portal::{MESSAGE_PAGE_POLICY, message_page};
use crate::auth::proconnect::ProviderError;

pub struct Refusal {
    status: StatusCode,
    reason: &'static str,
    /// For programs and logs, in English.
    message: String,
}

/// What a person reads about a refusal.
struct Explanation {
    title: &'static str,
    what_happened: &'static str,
    what_to_do: &'static str,
    /// Whether signing in again may work.
    retry: bool,
}

fn explanation(reason: &str) -> Explanation {
    let (title, what_happened, what_to_do, retry) = match reason {
        "provider_unavailable" => (
            "ProConnect ne répond pas",
            "Le catalogue n'a pas pu joindre ProConnect, ou ProConnect est momentanément indisponible.",
            "Réessayez dans quelques minutes. Si cela dure, écrivez aux administrateurs du catalogue.",
            true,
        ),
        "provider_misconfigured" => (
            "La connexion n'est pas configurée correctement",
            "ProConnect a refusé l'inscription du catalogue (identifiant ou secret du service, ou données demandées). Ce n'est pas de votre fait.",
            "Prévenez les administrateurs du catalogue : ils doivent corriger sa configuration ProConnect. Vous pouvez consulter le catalogue sans vous connecter.",
            false,
        ),
        "acr_too_low" => (
            "Niveau d'authentification insuffisant",
            "Le moyen d'authentification utilisé n'atteint pas le niveau de sécurité (eIDAS) que demande ce catalogue.",
            "Reconnectez-vous avec un moyen plus sûr, par exemple une double authentification auprès de votre fournisseur d'identité.",
            true,
        ),
        "access_denied" => (
            "Connexion refusée",
            "La connexion a été refusée ou annulée, chez ProConnect ou chez votre fournisseur d'identité.",
            "Si vous l'avez annulée par erreur, connectez-vous à nouveau. Sinon, rapprochez-vous du support de votre fournisseur d'identité.",
            true,
        ),
        "provider_error" | "provider_refused" | "missing_code" => (
            "Connexion interrompue",
            "ProConnect n'a pas terminé la connexion (délai dépassé, ou connexion déjà utilisée).",
            "Connectez-vous à nouveau.",
            true,
        ),
        "invalid_id_token" => (
            "Réponse de ProConnect invalide",
            "La réponse reçue de ProConnect n'a pas pu être vérifiée : par sécurité, vous n'avez pas été connecté.",
            "Connectez-vous à nouveau. Si cela se reproduit, écrivez aux administrateurs du catalogue.",
            true,
        ),
        "missing_state" | "state_mismatch" | "state_unknown" => (
            "Connexion expirée ou déjà terminée",
            "Cette connexion n'a pas été commencée dans ce navigateur, a expiré (10 minutes) ou a déjà été utilisée.",
            "Connectez-vous à nouveau depuis le catalogue, dans le même navigateur.",
            true,
        ),
        "missing_email" => (
            "Adresse électronique manquante",
            "ProConnect n'a pas transmis votre adresse électronique professionnelle : le catalogue en a besoin pour vous reconnaître.",
            "Vérifiez auprès de votre fournisseur d'identité que votre adresse est renseignée, puis reconnectez-vous.",
            true,
        ),
        "rate_limited" => (
            "Trop de tentatives",
            "Trop de demandes de connexion sont venues de votre adresse en peu de temps.",
            "Patientez une minute avant de réessayer.",
            true,
        ),
        "redirect_not_allowed" | "bad_mode" => (
            "Lien de connexion incorrect",
            "Le lien qui vous a mené ici demande un retour vers un site que le catalogue ne connaît pas.",
            "Revenez au catalogue et utilisez son bouton de connexion.",
            false,
        ),
        "signin_not_configured" => (
            "Connexion indisponible",
            "Ce catalogue n'est pas relié à ProConnect : on ne peut pas s'y connecter.",
            "Vous pouvez consulter le catalogue sans vous connecter.",
            false,
        ),
        _ => (
            "Connexion impossible pour le moment",
            "Le catalogue n'a pas pu terminer la connexion.",
            "Réessayez dans quelques minutes. Si cela dure, écrivez aux administrateurs du catalogue.",
            true,
        ),
    };
    Explanation {
        title,
        what_happened,
        what_to_do,
        retry,
    }
}

impl Refusal {
    pub fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }

    pub fn from_provider(error: &ProviderError) -> Self {
        match error {
            ProviderError::Unavailable(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                "ProConnect cannot be reached; try again later",
            ),
            ProviderError::Misconfigured(_) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "provider_misconfigured",
                "ProConnect refuses the gateway's registration (client id or secret, or scopes): the operator must fix the ProConnect settings",
            ),
            ProviderError::InsufficientAcr(_) => Self::new(
                StatusCode::FORBIDDEN,
                "acr_too_low",
                "the authentication level (acr) is below what this gateway requires; sign in with a stronger means",
            ),
            ProviderError::Refused(_) => Self::new(
                StatusCode::BAD_REQUEST,
                "provider_refused",
                "ProConnect refused to complete the sign-in (code expired or already used); sign in again",
            ),
            ProviderError::Forged(_) => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_id_token",
                "ProConnect's answer does not verify; nothing was issued",
            ),
        }
    }

    /// The refusal for the `error` ProConnect sent back to the callback
    /// (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
    pub fn from_provider_error_code(error: &str) -> Self {
        match error {
            "access_denied" => Self::new(
                StatusCode::FORBIDDEN,
                "access_denied",
                "the sign-in was refused or cancelled at ProConnect",
            ),
            "invalid_scope" | "unauthorized_client" | "invalid_request" | "invalid_client" => {
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "provider_misconfigured",
                    format!(
                        "ProConnect refuses the gateway's request ({error}): the operator must fix the ProConnect settings (scopes, registration)"
                    ),
                )
            }
            "server_error" | "temporarily_unavailable" => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_unavailable",
                format!("ProConnect is unavailable ({error}); try again later"),
            ),
            "login_required" | "consent_required" | "interaction_required" => Self::new(
                StatusCode::BAD_REQUEST,
                "provider_error",
                format!("ProConnect ended the sign-in: {error}"),
            ),
            _ => Self::new(
                StatusCode::BAD_REQUEST,
                "provider_error",
                "ProConnect ended the sign-in: other",
            ),
        }
    }

    pub fn into_response(self, request: &Request) -> Response {
        tracing::warn!(
            reason = self.reason,
            status = self.status.as_u16(),
            "sign-in step refused"
        );
        self.render(request)
    }

    /// The answer, without a log line (a flood of them must not flood the log).
    pub fn render(self, request: &Request) -> Response {
        let wants_html = request
            .header(header::ACCEPT)
            .is_some_and(|accept| accept.contains("text/html"));
        let response = if wants_html {
            let explained = explanation(self.reason);
            let retry = if explained.retry {
                "<a class=\"button\" href=\"/auth/login\">Se connecter à nouveau</a>"
            } else {
                ""
            };
            let main = format!(
                "    <div class=\"alert\" role=\"alert\">\n      <h1>{title}</h1>\n      <p>{what}</p>\n    </div>\n    \
                 <h2>Que faire ?</h2>\n    <p>{todo}</p>\n    <div class=\"buttons\">{retry}\
                 <a class=\"button button--secondary\" href=\"/\">Retour au catalogue</a></div>\n    \
                 <p class=\"hint\">Code de l'erreur, à citer si vous écrivez aux administrateurs : <code>{reason}</code></p>",
                title = explained.title,
                what = explained.what_happened,
                todo = explained.what_to_do,
                reason = self.reason,
            );
            Html(message_page(explained.title, &main))
                .with_header("Content-Security-Policy", MESSAGE_PAGE_POLICY)
                .into_response()
        } else {
            Json(serde_json::json!({
                "error": self.reason,
                "error_description": self.message,
            }))
            .into_response()
        };
        response
            .with_status(self.status)
            .with_header(header::CACHE_CONTROL, "no-store")
            .into_response()
    }
}
