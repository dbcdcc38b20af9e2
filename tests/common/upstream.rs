//! A fixture server standing for GitHub, GitLab, data.gouv.fr and PyPI: it
//! serves `tests/fixtures/*.json` on the paths of the real APIs, honours
//! `If-None-Match`, and misbehaves on demand (500, hang, 403 with rate-limit
//! headers, 404, malformed JSON, or holding requests until released).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
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
}

#[derive(Default)]
struct State {
    /// The fault, and how many more requests it applies to (`None`: all).
    fault: Mutex<Option<(Fault, Option<usize>)>>,
    requests: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// While set, requests wait for the gate to open.
    gate: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
    /// How long each answer takes, standing for the network and the service.
    latency: Mutex<Duration>,
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
        None => {}
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
        config.github_api_url = self.url.clone();
        config.gitlab_api_url = format!("{}/api/v4", self.url);
        config.datagouv_api_url = self.url.clone();
        config.pypi_url = self.url.clone();
        config.harvest_timeout_seconds = 1;
        config.harvest_max_wait_seconds = 5;
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
        ]
    }

    /// Misbehaves with `fault` for the next `times` requests (`None`: until cleared).
    pub fn fail(&self, fault: Fault, times: Option<usize>) {
        *self.state.fault.lock().unwrap() = Some((fault, times));
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

    /// Makes each answer take `latency`.
    pub fn set_latency(&self, latency: Duration) {
        *self.state.latency.lock().unwrap() = latency;
    }

    /// The paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The most requests this server handled at once.
    pub fn most_in_flight(&self) -> usize {
        self.state.most_in_flight.load(Ordering::SeqCst)
    }
}
