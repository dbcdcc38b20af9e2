//! Latency of typical reads through the real gateway (HTTP on loopback),
//! and its start-up time, on SQLite and PostgreSQL.
//!
//! `cargo bench --bench graphql_latency` measures; `cargo test` runs it once
//! with a handful of requests, to keep it working.

#![allow(clippy::unwrap_used)] // a test's or benchmark's unwrap is its assertion

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use catalogue_gateway::{App, Config};
use common::{Backend, TestApp, TestDatabase, catalogue_dir};
use serde_json::json;

const PAGE_OF_50: &str = "{ projects(first: 50) { totalCount edges { node { slug name seasons
    tags { slug } organizations { role organization { slug } }
    repositories { url forge } datasets { url } links { url } } } } }";
const ONE_PROJECT: &str =
    "{ project(slug: \"project-007\") { name summary repositories { url } } }";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn measure(app: &TestApp, query: &str, requests: usize) -> String {
    for _ in 0..requests.min(10) {
        app.data(query, json!({})).await;
    }
    let mut timings = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        app.data(query, json!({})).await;
        timings.push(started.elapsed());
    }
    timings.sort();
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over {requests} requests",
        percentile(&timings, 0.5),
        percentile(&timings, 0.95),
        percentile(&timings, 1.0)
    )
}

/// Time from `App::build` (connect, migrate, seed the catalogue's projects) to bound listener.
async fn start_up(backend: Backend) -> Duration {
    let database = TestDatabase::create(backend).await;
    let mut config = Config::default();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.database.database_url = database.url.clone();
    config.database.seed_dir = Some(catalogue_dir());
    let started = Instant::now();
    let app = App::build(config).await.expect("the gateway starts");
    let elapsed = started.elapsed();
    drop(app);
    elapsed
}

#[tokio::main]
async fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let requests = if measuring { 500 } else { 3 };
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let cold = start_up(backend).await;
        let dir = tempfile::tempdir().unwrap();
        common::write_generated_catalogue(dir.path(), 60);
        // The database path: with the response cache, repeats would be hits.
        let app = TestApp::spawn_configured(
            TestDatabase::create(backend).await,
            Some(dir.path().to_owned()),
            |config| config.cache.cache_answers = false,
        )
        .await;
        println!(
            "{backend:?}: cold start (migrate + seed the catalogue) {:.1} ms",
            cold.as_secs_f64() * 1000.0
        );
        println!(
            "{backend:?}: one project by slug: {}",
            measure(&app, ONE_PROJECT, requests).await
        );
        println!(
            "{backend:?}: page of 50 projects with relations: {}",
            measure(&app, PAGE_OF_50, requests).await
        );
    }
}
