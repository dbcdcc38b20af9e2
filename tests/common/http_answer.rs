//! A `/graphql` answer with its status and headers, for tests about HTTP
//! behaviour (caching headers, status codes, limits).

use serde_json::Value;

use super::TestApp;

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    async fn of(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Self {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The first error's `extensions.code`, or "".
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
    }
}

/// `GET /graphql?query=…`, as `token` (if any), revalidating `etag` (if any).
pub async fn get(app: &TestApp, query: &str, token: Option<&str>, etag: Option<&str>) -> Answer {
    let mut request = reqwest::Client::new()
        .get(app.url("/graphql"))
        .query(&[("query", query)]);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    Answer::of(request.send().await.unwrap()).await
}

/// `POST /graphql` with `body`, as `token` (if any).
pub async fn post(app: &TestApp, body: &Value, token: Option<&str>) -> Answer {
    let mut request = reqwest::Client::new().post(app.url("/graphql")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::of(request.send().await.unwrap()).await
}
