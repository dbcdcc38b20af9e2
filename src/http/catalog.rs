//! The catalogue in DCAT-AP: `GET /catalog.jsonld`, `GET /catalog.ttl`, and
//! `GET /catalog` answering in whichever of the two `Accept` prefers
//! (JSON-LD when both or neither are named; 406 when only other types are).

use poem::http::{StatusCode, header};
use poem::web::Data;
use poem::{Request, Response, handler};
use serde_json::{Map, Value, json};

use super::AppState;
use super::fixed::{self, Failure};
use super::formats;
use crate::auth::Principal;
use crate::formats::dcat::{self, Catalog};
use crate::graphql::code;

const JSON_LD: &str = "application/ld+json";
const TURTLE: &str = "text/turtle; charset=utf-8";

/// How the catalogue is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    JsonLd,
    Turtle,
}

impl Syntax {
    fn media(self) -> &'static str {
        match self {
            Self::JsonLd => JSON_LD,
            Self::Turtle => TURTLE,
        }
    }

    /// The syntax `accept` prefers; `None` when it accepts neither.
    fn negotiate(accept: Option<&str>) -> Option<Self> {
        let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
            return Some(Self::JsonLd);
        };
        let mut best: Option<(f32, Self)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let syntax = match media.as_str() {
                "text/turtle" => Self::Turtle,
                "application/ld+json" | "application/json" | "application/*" | "*/*" => {
                    Self::JsonLd
                }
                "text/*" => Self::Turtle,
                _ => continue,
            };
            // A named type wins over a wildcard of the same quality.
            let named = !media.contains('*');
            if quality > 0.0
                && best.is_none_or(|(known, _)| quality > known || (quality == known && named))
            {
                best = Some((quality, syntax));
            }
        }
        best.map(|(_, syntax)| syntax)
    }
}

async fn catalog(state: &AppState, request: &Request, syntax: Syntax) -> Response {
    formats::serve(state, request, syntax.media(), |bucket| async move {
        let rows = state.export_max_rows;
        let datasets =
            fixed::all_nodes(state, &bucket, dcat::DATASETS, "datasets", Map::new(), rows).await?;
        let projects =
            fixed::all_nodes(state, &bucket, dcat::PROJECTS, "projects", Map::new(), rows).await?;
        let publisher = fixed::run(
            state,
            Principal::Anonymous,
            dcat::PUBLISHER,
            json!({ "slug": state.catalog_publisher.as_ref() }),
        )
        .await
        .map_err(|failure| failure.response())?
        .data["organization"]
            .take();
        if publisher == Value::Null {
            tracing::warn!(
                slug = %state.catalog_publisher,
                "CATALOGUE_CATALOG_PUBLISHER names no organization: the DCAT catalogue has no publisher"
            );
        }
        let graph = Catalog {
            base: &state.public_url,
            publisher: &publisher,
            datasets: &datasets,
            projects: &projects,
        }
        .graph();
        Ok(match syntax {
            Syntax::JsonLd => {
                serde_json::to_vec_pretty(&graph.json_ld()).expect("JSON values serialise")
            }
            Syntax::Turtle => graph.turtle().into_bytes(),
        })
    })
    .await
}

/// `GET /catalog`.
#[handler]
pub async fn negotiated(request: &Request, state: Data<&AppState>) -> Response {
    match Syntax::negotiate(request.header(header::ACCEPT)) {
        Some(syntax) => catalog(&state, request, syntax).await,
        None => Failure::new(
            StatusCode::NOT_ACCEPTABLE,
            code::BAD_REQUEST,
            "the catalogue is served as application/ld+json or text/turtle \
             (or at /catalog.jsonld and /catalog.ttl)",
        )
        .response(),
    }
}

/// `GET /catalog.jsonld`.
#[handler]
pub async fn json_ld(request: &Request, state: Data<&AppState>) -> Response {
    catalog(&state, request, Syntax::JsonLd).await
}

/// `GET /catalog.ttl`.
#[handler]
pub async fn turtle(request: &Request, state: Data<&AppState>) -> Response {
    catalog(&state, request, Syntax::Turtle).await
}

#[cfg(test)]
mod tests {
    use super::Syntax::{self, JsonLd, Turtle};

    #[test]
    fn accept_chooses_the_syntax() {
        for (accept, syntax) in [
            (None, Some(JsonLd)),
            (Some("*/*"), Some(JsonLd)),
            (Some("text/turtle"), Some(Turtle)),
            (Some("text/turtle;q=0.5, application/ld+json"), Some(JsonLd)),
            (Some("application/ld+json;q=0.5, text/turtle"), Some(Turtle)),
            (Some("text/turtle, */*;q=0.1"), Some(Turtle)),
            (Some("*/*, text/turtle"), Some(Turtle)),
            (Some("application/rdf+xml"), None),
            (Some("text/turtle;q=0"), None),
        ] {
            assert_eq!(Syntax::negotiate(accept), syntax, "{accept:?}");
        }
    }
}
