//! A fixture server standing for GitHub, GitLab, data.gouv.fr and PyPI: it
//! serves `tests/fixtures/*.json` on the paths of the real APIs, honours
//! `If-None-Match`, and misbehaves on demand (500, hang, 403 with rate-limit
//! headers, 404, malformed JSON, a redirect, or holding requests until
//! released). Beside it, a bare [`Listener`] stands for what a harvest must
//! not reach or cannot use: it counts the connections it accepts, records
//! the requests, and answers below or beyond what a client should accept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener as _, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler};

const GITHUB_REPOSITORY: &str = include_str!("../fixtures/github-repository.json");
const GITHUB_RELEASE: &str = include_str!("../fixtures/github-release.json");
const GITHUB_PUBLICCODE: &str = include_str!("../fixtures/github-publiccode.json");
const PUBLICCODE_YML: &str = include_str!("../fixtures/publiccode.yml");
const GITLAB_PROJECT: &str = include_str!("../fixtures/gitlab-project.json");
const GITLAB_RELEASES: &str = include_str!("../fixtures/gitlab-releases.json");
const DATAGOUV_DATASET: &str = include_str!("../fixtures/datagouv-dataset.json");
const PYPI_PACKAGE: &str = include_str!("../fixtures/pypi-package.json");

/// How the server misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    ServerError,
    /// Answers after 30 s (clients time out first).
    Hang,
    /// 403, `X-RateLimit-Remaining: 0`, reset in this many seconds.
    RateLimited(u64),
    NotFound,
    Malformed,
    /// 302 to the same path and query under [`TestUpstream::redirect`]'s target.
    Redirect,
}

#[derive(Default)]
struct State {
    /// The fault, and how many more requests it applies to (`None`: all).
    fault: Mutex<Option<(Fault, Option<usize>)>>,
    requests: Mutex<Vec<String>>,
    headers: Mutex<Vec<(String, poem::http::HeaderMap)>>,
    /// Where [`Fault::Redirect`] sends requests.
    redirect_to: Mutex<String>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// While set, requests wait for the gate to open.
    gate: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
    /// How long each answer takes, standing for the network and the service.
    latency: Mutex<Duration>,
    /// The page of data.gouv.fr reuses that answers 500, if any.
    failing_reuse_page: Mutex<Option<u32>>,
    /// Where the server answers, for the reuses' `next_page` links.
    base_url: Mutex<String>,
}

pub struct TestUpstream {
    pub url: String,
    state: Arc<State>,
    gate: Mutex<Option<tokio::sync::watch::Sender<bool>>>,
    _server: tokio::task::JoinHandle<()>,
}

fn json(body: &'static str, etag: &str) -> Response {
    Response::builder()
        .header("etag", etag)
        .content_type("application/json")
        .body(body)
}

#[handler]
async fn serve(request: &Request, state: Data<&Arc<State>>) -> Response {
    let path = request.uri().path().to_owned();
    state.requests.lock().unwrap().push(path.clone());
    state
        .headers
        .lock()
        .unwrap()
        .push((path.clone(), request.headers().clone()));
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let gate = state.gate.lock().unwrap().clone();
    if let Some(mut gate) = gate {
        let _ = gate.wait_for(|open| *open).await;
    }
    let latency = *state.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = answer(request, &path, &state).await;
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn answer(request: &Request, path: &str, state: &State) -> Response {
    let fault = {
        let mut fault = state.fault.lock().unwrap();
        let current = fault.map(|(f, _)| f);
        if let Some((_, Some(left))) = fault.as_mut() {
            *left -= 1;
            if *left == 0 {
                *fault = None;
            }
        }
        current
    };
    match fault {
        Some(Fault::ServerError) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        Some(Fault::RateLimited(reset_in)) => {
            let reset = jsonwebtoken::get_current_timestamp() + reset_in;
            return Response::builder()
                .status(StatusCode::FORBIDDEN)
                .header("x-ratelimit-limit", "60")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", reset.to_string())
                .content_type("application/json")
                .body(r#"{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}"#);
        }
        Some(Fault::NotFound) => {
            return (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#).into_response();
        }
        Some(Fault::Malformed) => {
            return Response::builder()
                .content_type("application/json")
                .body("{\"stargazers_count\": ");
        }
        Some(Fault::Redirect) => {
            let target = state.redirect_to.lock().unwrap().clone();
            let path_and_query = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or(path);
            return Response::builder()
                .status(StatusCode::FOUND)
                .header("location", format!("{target}{path_and_query}"))
                .finish();
        }
        None => {}
    }
    if path == "/api/1/reuses/" {
        return reuses(request, state);
    }
    let (body, etag) = if path.starts_with("/repos/") && path.ends_with("/releases/latest") {
        (GITHUB_RELEASE, "\"gh-release-v1\"")
    } else if path.starts_with("/repos/") && path.ends_with("/contents/publiccode.yml") {
        (GITHUB_PUBLICCODE, "\"gh-publiccode-v1\"")
    } else if path.starts_with("/api/v4/projects/")
        && path.ends_with("/repository/files/publiccode.yml/raw")
    {
        (PUBLICCODE_YML, "\"gl-publiccode-v1\"")
    } else if path.starts_with("/repos/") {
        (GITHUB_REPOSITORY, "\"gh-repository-v1\"")
    } else if path.starts_with("/api/v4/projects/") && path.ends_with("/releases") {
        (GITLAB_RELEASES, "\"gl-releases-v1\"")
    } else if path.starts_with("/api/v4/projects/") {
        (GITLAB_PROJECT, "\"gl-project-v1\"")
    } else if path.starts_with("/api/1/datasets/") {
        (DATAGOUV_DATASET, "\"dg-dataset-v1\"")
    } else if path.starts_with("/pypi/") && path.ends_with("/json") {
        (PYPI_PACKAGE, "\"pypi-v1\"")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if request.header("if-none-match") == Some(etag) {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", etag)
            .finish();
    }
    json(body, etag)
}

/// How many reuses the fixture lists for any dataset: three pages of 20.
pub const REUSES: u32 = 45;
/// The name data.gouv.fr gives the organization of the reuses `n % 3 == 1`:
/// a catalogue organization's (INSEE's).
pub const REUSING_CATALOGUE_ORGANIZATION: &str =
    "Institut national de la statistique et des études économiques";
/// The organization of the reuses `n % 3 == 2`: one the catalogue does not have.
pub const REUSING_OTHER_ORGANIZATION: &str = "Ville de Rennes";

/// Reuse `n` of `dataset`, shaped as data.gouv.fr's API v1 `Reuse`: by an
/// organization, or (`n % 3 == 0`) by a person (`owner`).
fn reuse(n: u32, dataset: &str) -> serde_json::Value {
    let id = format!("6a{n:022x}");
    let slug = format!("reutilisation-{n}");
    let (organization, owner) = match n % 3 {
        1 => (
            serde_json::json!({
                "id": "534fff8ea3a7292c64a77f02",
                "name": REUSING_CATALOGUE_ORGANIZATION,
                "slug": "institut-national-de-la-statistique-et-des-etudes-economiques-insee",
                "page": "https://www.data.gouv.fr/fr/organizations/institut-national-de-la-statistique-et-des-etudes-economiques-insee/",
                "uri": "https://www.data.gouv.fr/api/1/organizations/534fff8ea3a7292c64a77f02/",
                "class": "Organization",
                "logo": null,
                "logo_thumbnail": null,
                "acronym": "INSEE",
                "badges": []
            }),
            serde_json::Value::Null,
        ),
        2 => (
            serde_json::json!({
                "id": "5a0000000000000000000002",
                "name": REUSING_OTHER_ORGANIZATION,
                "slug": "ville-de-rennes",
                "page": "https://www.data.gouv.fr/fr/organizations/ville-de-rennes/",
                "uri": "https://www.data.gouv.fr/api/1/organizations/5a0000000000000000000002/",
                "class": "Organization",
                "logo": null,
                "logo_thumbnail": null,
                "acronym": null,
                "badges": []
            }),
            serde_json::Value::Null,
        ),
        _ => (
            serde_json::Value::Null,
            serde_json::json!({
                "id": "5b0000000000000000000003",
                "first_name": "Camille",
                "last_name": "Réutilisatrice",
                "slug": "camille-reutilisatrice",
                "page": "https://www.data.gouv.fr/fr/users/camille-reutilisatrice/",
                "uri": "https://www.data.gouv.fr/api/1/users/camille-reutilisatrice/",
                "class": "User",
                "avatar": null,
                "avatar_thumbnail": null
            }),
        ),
    };
    serde_json::json!({
        "id": id,
        "title": format!("Réutilisation {n}"),
        "slug": slug,
        "url": format!("https://reutilisations.example.org/{n}"),
        "page": format!("https://www.data.gouv.fr/fr/reuses/{slug}/"),
        "uri": format!("https://www.data.gouv.fr/api/1/reuses/{id}/"),
        "type": "application",
        "topic": "others",
        "description": "Une réutilisation du jeu de données.",
        "tags": [],
        "created_at": format!("2025-{:02}-01T10:00:00.000000+00:00", 1 + n % 12),
        "last_modified": "2026-11-02T08:00:00.000000+00:00",
        "deleted": null,
        "archived": null,
        "private": false,
        "featured": false,
        "image": null,
        "image_thumbnail": null,
        "metrics": { "datasets": 1, "followers": 0, "views": 12 },
        "organization": organization,
        "owner": owner,
        "datasets": [{
            "id": dataset,
            "title": "Fixture dataset title",
            "acronym": null,
            "page": "https://www.data.gouv.fr/fr/datasets/fixture-dataset/",
            "uri": format!("https://www.data.gouv.fr/api/1/datasets/{dataset}/"),
            "class": "Dataset"
        }]
    })
}

/// `GET /api/1/reuses/?dataset=<id>[&page=<n>]`: data.gouv.fr's paged list
/// (`{"data", "next_page", "page", "page_size", "total", "previous_page"}`),
/// 20 reuses a page, each page with its own ETag.
fn reuses(request: &Request, state: &State) -> Response {
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let Some(dataset) = query.get("dataset") else {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"message":"dataset is required"}"#,
        )
            .into_response();
    };
    let page: u32 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    if *state.failing_reuse_page.lock().unwrap() == Some(page) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let page_size = 20;
    let first = (page - 1) * page_size + 1;
    let last = (page * page_size).min(REUSES);
    let base = state.base_url.lock().unwrap().clone();
    let link = |n: u32| format!("{base}/api/1/reuses/?dataset={dataset}&page={n}");
    let body = serde_json::json!({
        "data": (first..=last).map(|n| reuse(n, dataset)).collect::<Vec<_>>(),
        "next_page": (last < REUSES).then(|| link(page + 1)),
        "previous_page": (page > 1).then(|| link(page - 1)),
        "page": page,
        "page_size": page_size,
        "total": REUSES,
    });
    let etag = format!("\"dg-reuses-{dataset}-p{page}-v1\"");
    if request.header("if-none-match") == Some(etag.as_str()) {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header("etag", etag)
            .finish();
    }
    Response::builder()
        .header("etag", etag)
        .content_type("application/json")
        .body(body.to_string())
}

impl TestUpstream {
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the upstream fixture server");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a socket address");
        let state = Arc::new(State::default());
        *state.base_url.lock().unwrap() = format!("http://{address}");
        let served = Arc::clone(&state);
        let server = tokio::spawn(async move {
            let routes = Route::new().at("/*path", get(serve)).data(served);
            let _ = Server::new_with_acceptor(acceptor).run(routes).await;
        });
        Self {
            url: format!("http://{address}"),
            state,
            gate: Mutex::new(None),
            _server: server,
        }
    }

    /// Points every upstream setting of `config` at this server.
    pub fn configure(&self, config: &mut catalogue_gateway::Config) {
        config.harvest.github_api_url = self.url.clone();
        config.harvest.gitlab_api_url = format!("{}/api/v4", self.url);
        config.harvest.datagouv_api_url = self.url.clone();
        config.harvest.pypi_url = self.url.clone();
        config.harvest.harvest_timeout_seconds = 1;
        config.harvest.harvest_max_wait_seconds = 5;
    }

    /// The same, as environment variables for the command line.
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("CATALOGUE_GITHUB_API_URL".into(), self.url.clone()),
            (
                "CATALOGUE_GITLAB_API_URL".into(),
                format!("{}/api/v4", self.url),
            ),
            ("CATALOGUE_DATAGOUV_API_URL".into(), self.url.clone()),
            ("CATALOGUE_PYPI_URL".into(), self.url.clone()),
            ("CATALOGUE_HARVEST_TIMEOUT_SECONDS".into(), "1".into()),
            // The real catalogue's links are not the fixture server's.
            ("CATALOGUE_CHECK_LINKS".into(), "0".into()),
        ]
    }

    /// Misbehaves with `fault` for the next `times` requests (`None`: until cleared).
    pub fn fail(&self, fault: Fault, times: Option<usize>) {
        *self.state.fault.lock().unwrap() = Some((fault, times));
    }

    /// Answers the next `times` requests (`None`: until healed) with a 302
    /// to the same path under `target` (`scheme://host:port`).
    pub fn redirect(&self, target: &str, times: Option<usize>) {
        *self.state.redirect_to.lock().unwrap() = target.to_owned();
        self.fail(Fault::Redirect, times);
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        port_of(&self.url)
    }

    pub fn heal(&self) {
        *self.state.fault.lock().unwrap() = None;
    }

    /// Holds every request until [`TestUpstream::open`].
    pub fn hold(&self) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        *self.state.gate.lock().unwrap() = Some(receiver);
        *self.gate.lock().unwrap() = Some(sender);
    }

    pub fn open(&self) {
        *self.state.gate.lock().unwrap() = None;
        if let Some(sender) = self.gate.lock().unwrap().take() {
            let _ = sender.send(true);
        }
    }

    /// Answers page `page` of every dataset's reuses with a 500 (`None`: heals).
    pub fn fail_reuse_page(&self, page: Option<u32>) {
        *self.state.failing_reuse_page.lock().unwrap() = page;
    }

    /// Makes each answer take `latency`.
    pub fn set_latency(&self, latency: Duration) {
        *self.state.latency.lock().unwrap() = latency;
    }

    /// The paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The headers of each request so far, with its path.
    pub fn request_headers(&self) -> Vec<(String, poem::http::HeaderMap)> {
        self.state.headers.lock().unwrap().clone()
    }

    /// The most requests this server handled at once.
    pub fn most_in_flight(&self) -> usize {
        self.state.most_in_flight.load(Ordering::SeqCst)
    }
}

fn port_of(url: &str) -> u16 {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.port())
        .expect("a URL with a port")
}

/// What a bare [`Listener`] does with each connection, once it has read the
/// request's head.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Answers 404, empty.
    NotFound,
    /// Answers bytes that are not HTTP: another service on the port.
    NotHttp,
    /// Answers 200 with an HTML page: another web service on the port.
    Html,
    /// Answers 200 with a body of `bytes`, chunked without a length or with
    /// its length declared, sent a piece at a time from one small buffer
    /// until sent or the client closes the connection.
    Stream { bytes: u64, declared: bool },
}

/// How far one streamed answer went.
#[derive(Clone, Copy, Debug)]
pub struct Streamed {
    /// Body bytes the socket accepted.
    pub sent: u64,
    /// Whether the whole body was sent.
    pub complete: bool,
}

#[derive(Default)]
struct ListenerState {
    accepted: AtomicUsize,
    requests: Mutex<Vec<String>>,
    streams: Mutex<Vec<Streamed>>,
}

/// A bare TCP listener on 127.0.0.1.
pub struct Listener {
    pub url: String,
    state: Arc<ListenerState>,
    _task: tokio::task::JoinHandle<()>,
}

impl Listener {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a listener");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(ListenerState::default());
        let served = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                served.accepted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(handle(socket, behaviour, Arc::clone(&served)));
            }
        });
        Self {
            url,
            state,
            _task: task,
        }
    }

    /// `http://127.0.0.1:<port>` where nothing listens: a port bound but not
    /// listening (connections are refused), kept bound for the rest of the
    /// test run so that no other test's listener can take it meanwhile.
    pub fn closed_port() -> String {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().unwrap())
            .expect("bind a port");
        let address = socket.local_addr().unwrap();
        std::mem::forget(socket);
        format!("http://{address}")
    }

    pub fn port(&self) -> u16 {
        port_of(&self.url)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// The head (request line and headers) of each request so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The streamed answers that have ended, sent in full or cut short.
    pub fn streamed(&self) -> Vec<Streamed> {
        self.state.streams.lock().unwrap().clone()
    }
}

/// The request's head: up to the blank line, the end of input or 64 KiB.
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

async fn handle(
    mut socket: tokio::net::TcpStream,
    behaviour: Behaviour,
    state: Arc<ListenerState>,
) {
    let head = read_head(&mut socket).await;
    state.requests.lock().unwrap().push(head);
    let _ = match behaviour {
        Behaviour::NotFound => {
            socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await
        }
        Behaviour::NotHttp => {
            socket
                .write_all(b"SSH-2.0-OpenSSH_9.6\r\nInvalid SSH identification string.\r\n")
                .await
        }
        Behaviour::Html => {
            let page = "<!doctype html><title>Admin</title><h1>Internal administration</h1>";
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            socket.write_all(answer.as_bytes()).await
        }
        Behaviour::Stream { bytes, declared } => {
            let streamed = stream(&mut socket, bytes, declared).await;
            state.streams.lock().unwrap().push(streamed);
            Ok(())
        }
    };
    let _ = socket.shutdown().await;
}

async fn stream(socket: &mut tokio::net::TcpStream, bytes: u64, declared: bool) -> Streamed {
    let length = if declared {
        format!("content-length: {bytes}")
    } else {
        "transfer-encoding: chunked".to_owned()
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}\r\nconnection: close\r\n\r\n"
    );
    let mut streamed = Streamed {
        sent: 0,
        complete: false,
    };
    if socket.write_all(head.as_bytes()).await.is_err() {
        return streamed;
    }
    let piece = [b' '; 64 * 1024];
    while streamed.sent < bytes {
        let n = piece.len().min((bytes - streamed.sent) as usize);
        let written = if declared {
            socket.write_all(&piece[..n]).await
        } else {
            let mut chunk = format!("{n:x}\r\n").into_bytes();
            chunk.extend_from_slice(&piece[..n]);
            chunk.extend_from_slice(b"\r\n");
            socket.write_all(&chunk).await
        };
        if written.is_err() {
            return streamed;
        }
        streamed.sent += n as u64;
    }
    streamed.complete = declared || socket.write_all(b"0\r\n\r\n").await.is_ok();
    streamed
}
