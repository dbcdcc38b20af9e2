//! The media type a GraphQL answer is written in, from the request's
//! `Accept` (GraphQL over HTTP): `application/graphql-response+json` when
//! the client accepts it at least as much as `application/json`, and
//! `application/json` otherwise, as clients that predate the spec expect.

/// How an answer is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerMedia {
    /// `application/json`: every GraphQL answer is a 200.
    Json,
    /// `application/graphql-response+json`: a request refused before
    /// execution is a 400.
    GraphqlResponse,
}

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

impl AnswerMedia {
    /// The type `accept` (an `Accept` header's value) prefers.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let (mut json, mut graphql_response) = (None::<f32>, None::<f32>);
        for range in accept.unwrap_or_default().split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let slot = if media.eq_ignore_ascii_case(GRAPHQL_RESPONSE) {
                &mut graphql_response
            } else if media.eq_ignore_ascii_case(JSON) {
                &mut json
            } else {
                continue;
            };
            *slot = Some(slot.map_or(quality, |known| known.max(quality)));
        }
        match graphql_response {
            Some(quality) if quality > 0.0 && quality >= json.unwrap_or(0.0) => {
                Self::GraphqlResponse
            }
            _ => Self::Json,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => JSON,
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AnswerMedia::{self, GraphqlResponse, Json};

    #[test]
    fn the_spec_type_is_chosen_when_accepted_at_least_as_much_as_json() {
        let cases = [
            (None, Json),
            (Some("*/*"), Json),
            (Some("application/json"), Json),
            (Some("application/graphql-response+json"), GraphqlResponse),
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                GraphqlResponse,
            ),
            (
                Some("application/json, application/graphql-response+json"),
                GraphqlResponse,
            ),
            (
                Some("application/graphql-response+json;q=0.5, application/json"),
                Json,
            ),
            (Some("application/graphql-response+json;q=0"), Json),
            (
                Some("Application/GraphQL-Response+JSON; charset=utf-8"),
                GraphqlResponse,
            ),
        ];
        for (accept, chosen) in cases {
            assert_eq!(AnswerMedia::negotiate(accept), chosen, "{accept:?}");
        }
    }
}
