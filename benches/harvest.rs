//! Harvest of ~1,000 synthetic links (334 generated projects, each with a
//! GitHub repository, a GitLab repository and a data.gouv.fr dataset) from the
//! fixture server, through the real `catalogue-gateway harvest` command:
//! first run (every answer fresh), second run (every answer 304).
//!
//! `cargo bench --bench harvest` measures; `cargo test` runs it on 3 projects.

#![allow(clippy::unwrap_used)] // a test's or benchmark's unwrap is its assertion

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::upstream::TestUpstream;
use common::{Backend, TestApp, TestDatabase};

#[tokio::main]
async fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let projects = if measuring { 334 } else { 3 };
    let dir = tempfile::tempdir().unwrap();
    common::write_generated_catalogue(dir.path(), projects);
    let upstream = TestUpstream::start().await;
    // Each answer takes 20 ms, as a distant API would.
    upstream.set_latency(Duration::from_millis(20));
    let app = TestApp::spawn_configured(
        TestDatabase::create(Backend::Postgres).await,
        Some(dir.path().to_owned()),
        |config| config.harvest.harvest_interval_seconds = 0,
    )
    .await;
    for run in ["first (fresh answers)", "second (304 answers)"] {
        let before = upstream.requests().len();
        let started = Instant::now();
        let (ok, stdout, stderr) = common::run_cli_with(
            &app.database.url,
            &["harvest".as_ref()],
            &upstream.environment(),
        );
        let elapsed = started.elapsed();
        assert!(ok, "{stdout}{stderr}");
        println!(
            "{run}: {} in {:.2} s, {} upstream requests, at most {} at once on the one host",
            stdout.lines().last().unwrap_or_default(),
            elapsed.as_secs_f64(),
            upstream.requests().len() - before,
            upstream.most_in_flight()
        );
    }
}
