//! A fixture server standing for the websites, documentation, demos,
//! buckets and APIs the catalogue links to, each path answering one way
//! (200, permanent and temporary redirects, 404, 410, HEAD refused, no
//! answer in time, redirect loops and chains, redirects to private
//! addresses, a page that goes down and comes back), and beside it an
//! `https://` origin whose certificate (self-signed) no client trusts.
//! Requests are recorded with their method and `User-Agent`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::{Method, StatusCode};
use poem::listener::{Acceptor, Listener as _, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Request, Response, Route, Server, handler};

const SELF_SIGNED: &str = include_str!("../fixtures/self-signed-localhost.pem");

/// One request the websites got.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub user_agent: Option<String>,
}

struct State {
    base: String,
    /// Where `/to-private` and `/to-localhost` redirect (path included).
    private: String,
    localhost: String,
    down: AtomicBool,
    /// How long each answer takes, standing for the network and the site.
    latency: Mutex<Duration>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

pub struct TestWebsites {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `https://127.0.0.1:<port>`, presenting the self-signed certificate.
    pub tls_url: String,
    state: Arc<State>,
    _server: tokio::task::JoinHandle<()>,
    _tls: tokio::task::JoinHandle<()>,
}

fn redirect(status: StatusCode, location: &str) -> Response {
    Response::builder()
        .status(status)
        .header("location", location)
        .finish()
}

fn page() -> Response {
    Response::builder()
        .content_type("text/html")
        .body("<!doctype html><title>Page</title><p>Bonjour</p>")
}

#[handler]
async fn serve(request: &Request, state: Data<&Arc<State>>) -> Response {
    let path = request.uri().path().to_owned();
    state.seen.lock().unwrap().push(Seen {
        method: request.method().clone(),
        path: path.clone(),
        user_agent: request.header("user-agent").map(str::to_owned),
    });
    // `/slow` is left out of the requests in flight: its client gives up
    // at its timeout, while the server goes on waiting.
    let counted = path != "/slow";
    if counted {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.most_in_flight.fetch_max(now, Ordering::SeqCst);
    }
    let latency = *state.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = answer(request, &path, &state).await;
    if counted {
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    response
}

async fn answer(request: &Request, path: &str, state: &State) -> Response {
    if let Some(n) = path.strip_prefix("/endless/") {
        let next = n.parse::<u32>().unwrap_or(0) + 1;
        return redirect(StatusCode::FOUND, &format!("/endless/{next}"));
    }
    match path {
        "/ok" | "/bucket" => page(),
        _ if path.starts_with("/ok/") => page(),
        // Relative, then absolute: both are followed.
        "/moved/1" => redirect(StatusCode::MOVED_PERMANENTLY, "/moved/2"),
        "/moved/2" => redirect(
            StatusCode::MOVED_PERMANENTLY,
            &format!("{}/moved/end", state.base),
        ),
        "/moved/end" => page(),
        "/temporary" => redirect(StatusCode::FOUND, "/ok"),
        "/gone" => StatusCode::GONE.into_response(),
        "/head-refused" if request.method() == Method::HEAD => {
            StatusCode::METHOD_NOT_ALLOWED.into_response()
        }
        "/head-refused" => page(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            page()
        }
        "/loop/a" => redirect(StatusCode::FOUND, "/loop/b"),
        "/loop/b" => redirect(StatusCode::MOVED_PERMANENTLY, "/loop/a"),
        "/to-private" => redirect(StatusCode::FOUND, &state.private),
        "/to-localhost" => redirect(StatusCode::FOUND, &state.localhost),
        "/switch" if state.down.load(Ordering::SeqCst) => StatusCode::NOT_FOUND.into_response(),
        "/switch" => page(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

impl TestWebsites {
    /// Starts both origins; `/to-private` redirects to `private` (a URL on
    /// a loopback port nobody trusts), `/to-localhost` to the same port
    /// named `localhost`.
    pub async fn start(private: &str) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the websites fixture server");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a socket address");
        let url = format!("http://{address}");
        let private_url = url::Url::parse(private).expect("a URL");
        let localhost = format!(
            "http://localhost:{}{}",
            private_url.port().expect("a port"),
            private_url.path()
        );
        let state = Arc::new(State {
            base: url.clone(),
            private: private.to_owned(),
            localhost,
            down: AtomicBool::new(true),
            latency: Mutex::new(Duration::ZERO),
            seen: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
        });
        let served = Arc::clone(&state);
        let server = tokio::spawn(async move {
            let routes = Route::new().at("/*path", serve).data(served);
            let _ = Server::new_with_acceptor(acceptor).run(routes).await;
        });
        let (tls_url, tls) = self_signed_origin().await;
        Self {
            url,
            tls_url,
            state,
            _server: server,
            _tls: tls,
        }
    }

    /// Brings `/switch` up (it starts down: 404).
    pub fn bring_switch_up(&self) {
        self.state.down.store(false, Ordering::SeqCst);
    }

    /// Makes each answer take `latency`.
    pub fn set_latency(&self, latency: Duration) {
        *self.state.latency.lock().unwrap() = latency;
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// The most requests the server handled at once (`/slow` left out).
    pub fn most_in_flight(&self) -> usize {
        self.state.most_in_flight.load(Ordering::SeqCst)
    }
}

/// An `https://127.0.0.1:<port>` origin presenting the self-signed
/// certificate of `tests/fixtures`: every TLS handshake is attempted, and
/// a client that checks certificates gives it up.
async fn self_signed_origin() -> (String, tokio::task::JoinHandle<()>) {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certificates = CertificateDer::pem_slice_iter(SELF_SIGNED.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("the fixture certificate");
    let key = PrivateKeyDer::from_pem_slice(SELF_SIGNED.as_bytes()).expect("the fixture key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(certificates, key)
    .expect("a server configuration");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the TLS origin");
    let url = format!("https://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(socket).await;
            });
        }
    });
    (url, task)
}
