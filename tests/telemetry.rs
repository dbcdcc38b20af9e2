//! Built with `--features otel` (`make test` runs this file so), the gateway
//! exports its request spans over OTLP/HTTP to the collector named by
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (a local receiver here).

#![allow(clippy::unwrap_used)] // a test's or benchmark's unwrap is its assertion
#![cfg(feature = "otel")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler, post};

type Received = Arc<Mutex<Vec<Vec<u8>>>>;

#[handler]
fn traces(body: Vec<u8>, received: Data<&Received>) -> &'static str {
    received.lock().unwrap().push(body);
    ""
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_reach_the_collector() {
    let received: Received = Arc::default();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let collector = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let app = Route::new()
        .at("/v1/traces", post(traces))
        .data(Arc::clone(&received));
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut gateway = std::process::Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
        .arg("serve")
        .env("CATALOGUE_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "CATALOGUE_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("db.sqlite").display()),
        )
        .env("CATALOGUE_HARVEST_INTERVAL_SECONDS", "0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let request_id = "otel-test-request-42";
    loop {
        let answer = client
            .get(format!("http://127.0.0.1:{port}/health/live"))
            .header("x-request-id", request_id)
            .send()
            .await;
        let exported = received.lock().unwrap().iter().any(|body| {
            contains(body, request_id.as_bytes()) && contains(body, b"catalogue-gateway")
        });
        if answer.is_ok() && exported {
            break;
        }
        if Instant::now() > deadline {
            let _ = gateway.kill();
            panic!("no span with the request id reached the collector");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = gateway.kill();
    let _ = gateway.wait();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
