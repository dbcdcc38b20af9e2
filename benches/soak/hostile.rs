//! The soak's hostile phase: callers that try to take the replica down,
//! beside the normal load. Each kind of attack runs in a loop of its own:
//! fragment bombs and wide selections (refused by the operation limits
//! before validation), a flood of automatic persisted queries (bounded per
//! client and in total), and connections that send a request's headers a
//! byte at a time (closed by the header read timeout).

use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::traffic::{Gateway, Tally, classify};

/// Connections held open by the header tricklers at once.
pub const TRICKLING_CONNECTIONS: usize = 50;

/// Fragments F1…Fn, each spreading the previous one twice, under a random
/// alias so that no answer cache can help: 22 levels ask for four million
/// `__typename`s in under a kilobyte.
fn fragment_bomb(alias: u64) -> String {
    let fragments: String = (1..=22)
        .map(|k| format!("fragment F{k} on Query {{ ...F{p} ...F{p} }} ", p = k - 1))
        .collect();
    format!(
        "query {{ a{alias}: __typename ...F22 }} fragment F0 on Query {{ __typename }} {fragments}"
    )
}

/// 35,000 distinct field names under one field (234 kB), under a random
/// alias.
fn wide_selection(alias: u64) -> String {
    let names: String = (0..35_000).map(|n| format!("f{n} ")).collect();
    format!("{{ a{alias}: tags {{ {names}}} }}")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends bombs and wide selections in turn until `until`.
pub async fn send_heavy_documents(gateway: &Gateway, tally: &Tally, until: Instant) {
    let mut sent = 0u64;
    while Instant::now() < until {
        sent += 1;
        let query = if sent.is_multiple_of(2) {
            fragment_bomb(sent)
        } else {
            wide_selection(sent)
        };
        classify(tally, gateway.post(&query, json!({}), None).await);
    }
}

/// Registers new persisted queries (a document with its hash) until `until`.
pub async fn flood_persisted_queries(gateway: &Gateway, tally: &Tally, until: Instant) {
    let mut sent = 0u64;
    while Instant::now() < until {
        sent += 1;
        let query = format!(
            "{{ tags {{ projectCount }} }} # flood {sent} {}",
            "x".repeat(2000)
        );
        let body = json!({
            "query": query,
            "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(&query) } },
        });
        let outcome = async {
            let response = gateway
                .client
                .post(format!("{}/graphql", gateway.url))
                .json(&body)
                .send()
                .await?;
            let status = response.status().as_u16();
            Ok((status, response.json().await.unwrap_or_default()))
        };
        classify(tally, outcome.await);
    }
}

/// Keeps `TRICKLING_CONNECTIONS` connections sending a request's headers
/// one byte a second until `until`; counts, in `tally`, the connections
/// the gateway closed and those still open at the end.
pub async fn trickle_headers(address: &str, tally: &Tally, until: Instant) {
    let connections: Vec<_> = (0..TRICKLING_CONNECTIONS)
        .map(|_| {
            let address = address.to_owned();
            tokio::spawn(async move { trickle_one(&address, until).await })
        })
        .collect();
    for connection in connections {
        let outcome = connection.await.expect("a trickling connection");
        tally.count(outcome.to_owned());
    }
}

async fn trickle_one(address: &str, until: Instant) -> &'static str {
    let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
        return "trickle: connection refused";
    };
    let header = b"POST /graphql HTTP/1.1\r\nHost: soak\r\nX-Trickle: ";
    if stream.write_all(header).await.is_err() {
        return "trickle: closed by the gateway";
    }
    let mut buffer = [0u8; 512];
    while Instant::now() < until {
        if stream.write_all(b"a").await.is_err() {
            return "trickle: closed by the gateway";
        }
        // A read that ends (EOF, an error, or the gateway's 408) means the
        // gateway gave up on the request.
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await {
            Ok(_) => return "trickle: closed by the gateway",
            Err(_) => continue,
        }
    }
    "trickle: still open at the end"
}
