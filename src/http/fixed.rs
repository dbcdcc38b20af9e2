//! The gateway's own fixed GraphQL documents, run for the routes that
//! answer in other formats (CSV, JSON-LD, publiccode.yml, DCAT, REST):
//! through the same answer cache and schema as `/graphql`, so each format
//! states the facts GraphQL states, with the same visibility. A GraphQL
//! error becomes an HTTP status, its code kept in the body.

use poem::Response;
use poem::http::{StatusCode, header};
use serde_json::Value;
use serde_json::value::RawValue;

use super::AppState;
use super::answer::{self, Freshness, error_body};
use super::rate_limit::{self, Bucket};
use crate::auth::Principal;
use crate::graphql::code;

/// Most rows a list route asks GraphQL for per page (its own maximum).
pub const PAGE_SIZE: usize = 100;

/// Why a fixed document gave no answer: the HTTP status, and the GraphQL
/// error's code and message.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A request the caller can fix.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, message)
    }

    /// The answer: a GraphQL-shaped error body with the code, never kept.
    pub fn response(&self) -> Response {
        Response::builder()
            .status(self.status)
            .header(header::CACHE_CONTROL, "no-store")
            .content_type("application/json")
            .body(error_body(&self.code, &self.message))
    }
}

/// The HTTP status of a GraphQL error code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        code::BAD_USER_INPUT
        | code::BAD_REQUEST
        | code::GRAPHQL_PARSE_FAILED
        | code::GRAPHQL_VALIDATION_FAILED
        | code::OPERATION_LIMIT_EXCEEDED
        | code::OPERATION_RESOLUTION_FAILURE => StatusCode::BAD_REQUEST,
        code::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        code::FORBIDDEN | code::INTROSPECTION_DISABLED => StatusCode::FORBIDDEN,
        code::NOT_FOUND => StatusCode::NOT_FOUND,
        code::CONFLICT => StatusCode::CONFLICT,
        code::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        code::RESYNC_REQUIRED => StatusCode::GONE,
        code::SEARCH_NOT_READY => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A fixed document's `data`.
pub struct Data {
    pub data: Value,
}

/// Runs `document` with `variables` for `principal`, read-only, through
/// the answer cache: its `data`, or the first error as a failure.
pub async fn run(
    state: &AppState,
    principal: Principal,
    document: &str,
    variables: Value,
) -> Result<Data, Failure> {
    let answered = answered(state, principal, document, variables).await?;
    let data = parse_data(&answered.body, |data| {
        data.map_or(Ok(Value::Null), |raw| serde_json::from_str(raw.get()))
    })?;
    Ok(Data { data })
}

/// The same, for a document with one root field: that field's value as
/// the JSON text the answer holds (not parsed and written again: a cached
/// answer is served as it was kept), `None` when it is null.
pub async fn run_root(
    state: &AppState,
    principal: Principal,
    document: &str,
    variables: Value,
    root: &str,
) -> Result<(Option<Vec<u8>>, Freshness), Failure> {
    let answered = answered(state, principal, document, variables).await?;
    let value = parse_data(&answered.body, |data| {
        let Some(raw) = data else { return Ok(None) };
        let fields: std::collections::BTreeMap<String, &RawValue> =
            serde_json::from_str(raw.get())?;
        Ok(fields
            .get(root)
            .filter(|value| value.get() != "null")
            .map(|value| value.get().as_bytes().to_vec()))
    })?;
    Ok((value, answered.freshness))
}

/// An answer of the schema: its `data` left as text, and its errors.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    errors: Vec<Value>,
}

/// Runs `document` read-only through the answer cache; its first error as
/// a failure.
async fn answered(
    state: &AppState,
    principal: Principal,
    document: &str,
    variables: Value,
) -> Result<answer::Answer, Failure> {
    let request = async_graphql::Request::new(document)
        .variables(async_graphql::Variables::from_json(variables));
    answer::answer(state, principal, request, true)
        .await
        .map_err(|_| {
            Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL_SERVER_ERROR,
                "a fixed document is a mutation",
            )
        })
}

/// What `read` makes of the `data` of `body`, or the first of its errors
/// as a failure.
fn parse_data<T>(
    body: &[u8],
    read: impl FnOnce(Option<&RawValue>) -> Result<T, serde_json::Error>,
) -> Result<T, Failure> {
    let unreadable = |error: serde_json::Error| {
        tracing::error!(%error, "a fixed document's answer is not JSON");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL_SERVER_ERROR,
            "internal error; it has been logged",
        )
    };
    let envelope: Envelope<'_> = serde_json::from_slice(body).map_err(unreadable)?;
    if let Some(error) = envelope.errors.first() {
        let code = error["extensions"]["code"]
            .as_str()
            .unwrap_or(code::INTERNAL_SERVER_ERROR);
        let message = error["message"].as_str().unwrap_or_default();
        return Err(Failure::new(status_of(code), code, message));
    }
    read(envelope.data).map_err(unreadable)
}

/// Every node of the connection `connection` that `document` selects
/// (with `first` and `after` variables), page after page, anonymously: the
/// first page says how many there are; more than `max_rows` is refused
/// before any other page runs, and each further page costs the caller's
/// `bucket` a token, as a request to `/graphql` would.
pub async fn all_nodes(
    state: &AppState,
    bucket: &Bucket,
    document: &str,
    connection: &str,
    mut variables: serde_json::Map<String, Value>,
    max_rows: usize,
) -> Result<Vec<Value>, Response> {
    variables.insert("first".into(), PAGE_SIZE.into());
    let mut nodes = Vec::new();
    loop {
        let mut page = run(
            state,
            Principal::Anonymous,
            document,
            Value::Object(variables.clone()),
        )
        .await
        .map_err(|failure| failure.response())?
        .data;
        let list = &mut page[connection];
        if nodes.is_empty() {
            let total = list["totalCount"].as_u64().unwrap_or_default() as usize;
            if total > max_rows {
                return Err(Failure::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    code::OPERATION_LIMIT_EXCEEDED,
                    format!(
                        "{total} rows match; an export holds at most {max_rows} \
                         (CATALOGUE_EXPORT_MAX_ROWS): narrow the filters"
                    ),
                )
                .response());
            }
            let further = total.div_ceil(PAGE_SIZE).saturating_sub(1);
            if further > 0 {
                rate_limit::draw(state, bucket, further).await?;
            }
        }
        if let Some(page_nodes) = list["nodes"].as_array_mut() {
            nodes.append(page_nodes);
        }
        let info = &list["pageInfo"];
        match info["endCursor"].as_str() {
            Some(cursor) if info["hasNextPage"] == Value::Bool(true) && nodes.len() < max_rows => {
                variables.insert("after".into(), cursor.into());
            }
            _ => return Ok(nodes),
        }
    }
}
