//! Search, facets and list paging at catalogue scale: a synthetic catalogue
//! (`catalogue-gateway generate`, 10,000 projects × 10 repositories) imported
//! into SQLite and into PostgreSQL, served by the real binary with the answer
//! cache off; one client on loopback sends each request after the previous
//! answer. Reports latency percentiles, the search index's build time (from
//! the gateway's log), how soon the gateway answers and is ready, how soon a
//! restart on its kept index directory is ready, when the read model is
//! built (on each start: it is not kept on disk; the measures wait for it),
//! and the gateway's resident memory.
//!
//! Also reports the `import` command's wall time and peak resident memory,
//! the database's and the index directory's size on disk, and the time facets
//! take to be counted the first time (later asks of the same selection are
//! kept per index generation).
//!
//! `cargo bench --bench search_scale` measures (`BENCH_PROJECTS`,
//! `BENCH_REPOS_PER_PROJECT` change the size; the report also goes to
//! `$SEARCH_SCALE_REPORT` when set, as `make bench-scale` does at 100,000
//! projects); `cargo test` runs it on 60 projects, to keep it working.

#![allow(clippy::unwrap_used)] // a test's or benchmark's unwrap is its assertion

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestDatabase};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const SEARCHES: &[&str] = &[
    "carte des communes",
    "OCR factures",
    "anonymisation de données",
    "visualisation Superset",
    "données de santé",
    "python",
    "prévision énergie",
    "emploi public",
    "cartografie",
    "décisions justice",
    "qualité air",
    "open data",
];

const SEARCH: &str = "query($q: String!, $filter: SearchFilter, $first: Int) {
    search(query: $q, filter: $filter, first: $first) { totalCount edges { cursor node { score
        snippets { field html }
        object { __typename
            ... on Project { slug name summary }
            ... on Repository { url language }
            ... on Dataset { url title }
            ... on Organization { slug name } } } } } }";

const FACETS: &str = "query($q: String) { facets(query: $q) { totalCount
    kinds { value count } languages { value count } licenses { value count }
    forges { value count } organizations { value label count } tags { value label count }
    seasons { value count } statuses { value count } access { value count } } }";

const LIST_PAGE: &str = "query($after: String) { projects(first: 20, after: $after) {
    edges { cursor node { slug name summary } } pageInfo { hasNextPage endCursor } } }";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// The gateway binary serving `database_url`, and what its log said.
struct Gateway {
    child: Child,
    url: String,
    /// From the process's start to its first answer (`serving GraphQL`).
    live_ms: u64,
    /// From the process's start to its search index being ready.
    ready_ms: u64,
    /// What the gateway logs as the index's preparation time and way.
    index_ms: u64,
    index_how: String,
    /// From the process's start to its read model being built, and what
    /// the gateway logs as the build's time.
    model_ready_ms: u64,
    model_ms: u64,
}

impl Gateway {
    /// Starts the gateway keeping its search index in `index_dir`; returns
    /// once the index and the read model are ready.
    fn start(database_url: &str, index_dir: &std::path::Path) -> Self {
        let started = Instant::now();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
            .arg("serve")
            .env("CATALOGUE_DATABASE_URL", database_url)
            .env("CATALOGUE_LISTEN", format!("127.0.0.1:{port}"))
            .env("CATALOGUE_CACHE_ANSWERS", "false")
            .env("CATALOGUE_SEARCH_INDEX_DIR", index_dir)
            .env("CATALOGUE_HARVEST_INTERVAL_SECONDS", "0")
            .env("CATALOGUE_RATE_LIMIT_PER_MINUTE", "100000000")
            .env("CATALOGUE_RATE_LIMIT_BURST", "1000000")
            .env("CATALOGUE_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start catalogue-gateway serve");
        let mut log = BufReader::new(child.stderr.take().unwrap());
        let mut live_ms = None;
        let mut index = None;
        let mut model = None;
        let mut line = String::new();
        while log.read_line(&mut line).unwrap_or(0) > 0 {
            let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            let fields = &entry["fields"];
            let elapsed = started.elapsed().as_millis() as u64;
            if fields["message"] == "serving GraphQL at /graphql" {
                live_ms = Some(elapsed);
            }
            if fields["message"] == "search index ready" {
                let how = fields["how"].as_str().unwrap_or_default().to_owned();
                index = Some((elapsed, fields["elapsed_ms"].as_u64().unwrap_or(0), how));
            }
            if fields["message"] == "read model ready" {
                model = Some((elapsed, fields["elapsed_ms"].as_u64().unwrap_or(0)));
            }
            // A small index may be ready before the server says it serves.
            if live_ms.is_some() && index.is_some() && model.is_some() {
                break;
            }
            line.clear();
        }
        // Keep draining the log so the gateway never blocks on a full pipe.
        std::thread::spawn(move || for _ in log.lines() {});
        let (
            Some((ready_ms, index_ms, index_how)),
            Some(live_ms),
            Some((model_ready_ms, model_ms)),
        ) = (index, live_ms, model)
        else {
            // Not left running after the benchmark stops.
            let _ = child.kill();
            panic!("the gateway's log ended before it served with its index and read model ready");
        };
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/graphql"),
            live_ms,
            ready_ms,
            index_ms,
            index_how,
            model_ready_ms,
            model_ms,
        }
    }

    /// Resident memory now.
    fn rss_mib(&self) -> f64 {
        memory_mib(self.child.id(), "VmRSS:")
    }

    /// The most resident memory the process has had.
    fn peak_mib(&self) -> f64 {
        memory_mib(self.child.id(), "VmHWM:")
    }
}

/// A memory figure of process `pid` (`VmRSS:`, `VmHWM:`), from /proc.
fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Runs the `import` command; returns its wall time in seconds and its peak
/// resident memory (its `VmHWM`, read every 50 ms while it runs).
fn import(database_url: &str, catalogue: &std::path::Path) -> (f64, f64) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
        .arg("import")
        .arg(catalogue)
        .env("CATALOGUE_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start catalogue-gateway import");
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak = peak.max(memory_mib(child.id(), "VmHWM:"));
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "the import failed: {status}");
    (started.elapsed().as_secs_f64(), peak)
}

/// What the files under `path` weigh, in MiB.
fn disk_mib(path: &std::path::Path) -> f64 {
    fn bytes(path: &std::path::Path) -> u64 {
        let Ok(metadata) = std::fs::metadata(path) else {
            return 0;
        };
        if !metadata.is_dir() {
            return metadata.len();
        }
        std::fs::read_dir(path)
            .unwrap()
            .map(|entry| bytes(&entry.unwrap().path()))
            .sum()
    }
    bytes(path) as f64 / (1024.0 * 1024.0)
}

/// What the database weighs on disk, in MiB.
async fn database_mib(backend: Backend, url: &str) -> f64 {
    match backend {
        Backend::Sqlite => {
            let file = url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap();
            // The file with its write-ahead log, alone in its directory.
            disk_mib(std::path::Path::new(file).parent().unwrap())
        }
        Backend::Postgres => {
            let db = sea_orm::Database::connect(url).await.unwrap();
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Postgres,
                    "SELECT pg_database_size(current_database()) AS bytes",
                ))
                .await
                .unwrap()
                .unwrap();
            let bytes: i64 = row.try_get("", "bytes").unwrap();
            db.close().await.unwrap();
            bytes as f64 / (1024.0 * 1024.0)
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(client: &reqwest::Client, url: &str, query: &str, variables: Value) -> Value {
    let answer: Value = client
        .post(url)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("a JSON answer");
    assert!(answer.get("errors").is_none(), "{answer:#}");
    answer["data"].clone()
}

/// Times each of `requests` (query, variables), after one untimed round.
async fn timed(client: &reqwest::Client, url: &str, requests: &[(&str, Value)]) -> Vec<Duration> {
    for (query, variables) in requests.iter().take(20) {
        post(client, url, query, variables.clone()).await;
    }
    let mut timings = Vec::with_capacity(requests.len());
    for (query, variables) in requests {
        let started = Instant::now();
        post(client, url, query, variables.clone()).await;
        timings.push(started.elapsed());
    }
    timings.sort();
    timings
}

/// The list pages a client walking the whole list would ask for.
async fn list_pages(
    client: &reqwest::Client,
    url: &str,
    pages: usize,
) -> Vec<(&'static str, Value)> {
    let mut requests = Vec::new();
    let mut after = Value::Null;
    for _ in 0..pages {
        requests.push((LIST_PAGE, json!({ "after": after })));
        let page = post(client, url, LIST_PAGE, json!({ "after": after })).await;
        let info = &page["projects"]["pageInfo"];
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    requests
}

async fn measure(backend: Backend, catalogue: &std::path::Path, rounds: usize) -> Vec<String> {
    let database = TestDatabase::create(backend).await;
    let (import_s, import_peak) = import(&database.url, catalogue);
    let database_size = database_mib(backend, &database.url).await;
    let index_dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(&database.url, index_dir.path());
    let rss_start = gateway.rss_mib();
    let index_size = disk_mib(index_dir.path());
    let client = reqwest::Client::new();

    let mut searches = Vec::new();
    let mut facets = Vec::new();
    for round in 0..rounds {
        // A page size of each round's own: search pages are kept per index
        // generation, so the same search asked again would not rank again.
        let first = 20 + round;
        for (n, query) in SEARCHES.iter().enumerate() {
            // Every third search also filters, as a portal's sidebar would.
            let filter = match n % 3 {
                0 => json!({ "languages": ["Python"] }),
                1 => json!({ "seasons": [2], "statuses": ["ACTIVE"] }),
                _ => Value::Null,
            };
            searches.push((
                SEARCH,
                json!({ "q": query, "filter": filter, "first": first }),
            ));
            facets.push((FACETS, json!({ "q": query })));
        }
        facets.push((FACETS, json!({ "q": "" })));
    }
    // Each selection's first ask counts; later ones are kept.
    let mut counted = Vec::new();
    for (query, variables) in facets.iter().take(SEARCHES.len() + 1) {
        let started = Instant::now();
        post(&client, &gateway.url, query, variables.clone()).await;
        counted.push(started.elapsed());
    }
    counted.sort();
    let search = timed(&client, &gateway.url, &searches).await;
    let facet = timed(&client, &gateway.url, &facets).await;
    let pages = list_pages(&client, &gateway.url, rounds * 12).await;
    let list = timed(&client, &gateway.url, &pages).await;
    let rss_end = gateway.rss_mib();
    let rss_peak = gateway.peak_mib();
    let first = format!(
        "{} ms ({}: {} ms)",
        gateway.ready_ms, gateway.index_how, gateway.index_ms
    );
    let first_model = format!("{} ms ({} ms)", gateway.model_ready_ms, gateway.model_ms);
    let live = format!("{} ms", gateway.live_ms);
    drop(gateway);
    let restarted = Gateway::start(&database.url, index_dir.path());
    let restart = format!(
        "{} ms ({}: {} ms)",
        restarted.ready_ms, restarted.index_how, restarted.index_ms
    );
    let restart_model = format!(
        "{} ms ({} ms)",
        restarted.model_ready_ms, restarted.model_ms
    );
    vec![
        format!("{backend:?}"),
        format!("{import_s:.1} s ({import_peak:.0} MiB)"),
        format!("{database_size:.0} MiB"),
        live,
        first,
        format!("{index_size:.0} MiB"),
        first_model,
        restart,
        restart_model,
        format!(
            "{:.1} / {:.1} ms",
            percentile(&search, 0.5),
            percentile(&search, 0.95)
        ),
        format!(
            "{:.1} / {:.1} ms",
            percentile(&facet, 0.5),
            percentile(&facet, 0.95)
        ),
        format!(
            "{:.1} / {:.1} ms",
            percentile(&counted, 0.5),
            percentile(&counted, 1.0)
        ),
        format!(
            "{:.1} / {:.1} ms",
            percentile(&list, 0.5),
            percentile(&list, 0.95)
        ),
        format!("{rss_start:.0} → {rss_end:.0} MiB ({rss_peak:.0} MiB)"),
        format!("{} / {} / {}", search.len(), facet.len(), list.len()),
    ]
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let (projects, repositories, rounds) = if measuring {
        (
            env_or("BENCH_PROJECTS", 10_000),
            env_or("BENCH_REPOS_PER_PROJECT", 10),
            25,
        )
    } else {
        (60, 3, 1)
    };
    let dir = tempfile::tempdir().unwrap();
    let size = catalogue_gateway::tools::synthetic::Size {
        projects,
        repositories_per_project: repositories,
        seed: 1,
    };
    let started = Instant::now();
    let written = catalogue_gateway::tools::synthetic::write(dir.path(), size).unwrap();
    let mut report = format!(
        "synthetic catalogue: {written} ({:.0} MiB of YAML, written in {:.0} s)\n\n",
        disk_mib(dir.path()),
        started.elapsed().as_secs_f64()
    );
    report.push_str(
        "| backend | import (peak RSS) | database on disk | answers after | ready after (index) | index on disk | read model built after (build) | restart ready after (index) | restart's read model after (build) | search p50 / p95 | facets p50 / p95 | facets first count p50 / max | list page p50 / p95 | RSS start → end (peak) | requests (search / facets / list) |\n",
    );
    report.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    print!("{report}");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let row = format!(
            "| {} |\n",
            measure(backend, dir.path(), rounds).await.join(" | ")
        );
        print!("{row}");
        report.push_str(&row);
    }
    if let Ok(path) = std::env::var("SEARCH_SCALE_REPORT") {
        std::fs::write(path, &report).expect("write the report");
    }
}
