//! A webhook receiver on loopback, as another administration's tool would
//! run one: it records every delivery (headers and body) and answers 500 as
//! often as the test asks, 204 otherwise.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener as _, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Request, Route, Server, handler, post};
use sha2::Sha256;

/// One delivery attempt the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub delivery_id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    /// Whether the signature is the HMAC-SHA256 of `<timestamp>.<body>`
    /// with `secret`, as the API guide tells receivers to check.
    pub fn signed_with(&self, secret: &str) -> bool {
        let Some(hex) = self.signature.strip_prefix("sha256=") else {
            return false;
        };
        let Some(expected) = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{}.{}", self.timestamp, self.body).as_bytes());
        mac.verify_slice(&expected).is_ok()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    failures_left: AtomicUsize,
    failing: AtomicBool,
}

#[handler]
async fn receive(request: &Request, body: String, state: Data<&Arc<State>>) -> StatusCode {
    let header = |name: &str| request.header(name).unwrap_or_default().to_owned();
    let fail = state.failing.load(Ordering::SeqCst)
        || state
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    let status = if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    state.received.lock().unwrap().push(Received {
        delivery_id: header("x-catalogue-delivery"),
        timestamp: header("x-catalogue-timestamp"),
        signature: header("x-catalogue-signature"),
        body,
        answered: status.as_u16(),
    });
    status
}

/// The receiver, serving until dropped.
pub struct WebhookReceiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    state: Arc<State>,
    _server: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the receiver");
        let address = acceptor.local_addr()[0]
            .as_socket_addr()
            .copied()
            .expect("a socket address");
        let state = Arc::new(State::default());
        let served = Arc::clone(&state);
        Self {
            url: format!("http://{address}/hook"),
            state,
            _server: tokio::spawn(async move {
                let routes = Route::new().at("/hook", post(receive)).data(served);
                let _ = Server::new_with_acceptor(acceptor).run(routes).await;
            }),
        }
    }

    /// Answers the next `n` deliveries with 500.
    pub fn fail_next(&self, n: usize) {
        self.state.failures_left.store(n, Ordering::SeqCst);
    }

    /// Answers every delivery with 500 while `failing`.
    pub fn fail_always(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Every delivery attempt so far, in the order they came.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The attempts it answered 2xx, in order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Waits (polling, 20 s at most) until it has accepted `n` deliveries.
    pub async fn wait_for_accepted(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let accepted = self.accepted();
            if accepted.len() >= n {
                return accepted;
            }
            assert!(
                Instant::now() < deadline,
                "accepted {} deliveries, not {n}: {:#?}",
                accepted.len(),
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
