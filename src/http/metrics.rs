//! `GET /metrics` in the Prometheus text format: requests by operation and
//! status, a latency histogram, cache hits/misses/errors, rate-limited
//! requests, the plain answers fast path's answers and fallbacks, SQL
//! statements and database pool use, and what the last link checks found.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use poem::web::Data;
use poem::{Response, handler};

use super::AppState;
use crate::store::{LinkCheckCounts, Store};

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Distinct operation names kept as labels; the rest count as `other`
/// (names come from clients: their number must not grow without bound).
const MAX_OPERATIONS: usize = 200;

#[derive(Default)]
struct Tallies {
    /// (operation, status) → requests.
    by_operation: HashMap<(String, u16), u64>,
    /// Per bucket (and +Inf last): requests at most that slow.
    latency_buckets: [u64; LATENCY_BUCKETS.len() + 1],
    latency_sum: f64,
    latency_count: u64,
}

/// Requests answered.
#[derive(Default)]
pub struct RequestCounters {
    tallies: Mutex<Tallies>,
}

fn operation_label(operation: Option<&str>, known: &HashMap<(String, u16), u64>) -> String {
    match operation {
        None => "-".to_owned(),
        Some(name)
            if name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && (known.len() < MAX_OPERATIONS || known.keys().any(|(n, _)| n == name)) =>
        {
            name.to_owned()
        }
        Some(_) => "other".to_owned(),
    }
}

impl RequestCounters {
    pub fn record(&self, operation: Option<&str>, status: u16, latency: Duration) {
        let mut tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let label = operation_label(operation, &tallies.by_operation);
        *tallies.by_operation.entry((label, status)).or_default() += 1;
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        for count in &mut tallies.latency_buckets[bucket..] {
            *count += 1;
        }
        tallies.latency_sum += seconds;
        tallies.latency_count += 1;
    }
}

/// Response-cache outcomes.
#[derive(Default)]
pub struct CacheCounters {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl CacheCounters {
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
}

fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[handler]
pub async fn metrics(state: Data<&AppState>) -> Response {
    // Read first: a reading's own statements count in it, not in the next.
    let link_check_counts = state
        .link_check_gauges
        .counts(&state.store, state.harvester.link_check_runs())
        .await;
    let mut text = String::new();
    {
        let tallies = state
            .requests
            .tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        family(
            &mut text,
            "catalogue_http_requests_total",
            "counter",
            "HTTP requests answered, by GraphQL operation name and status.",
        );
        let mut rows: Vec<_> = tallies.by_operation.iter().collect();
        rows.sort();
        for ((operation, status), count) in rows {
            let _ = writeln!(
                text,
                "catalogue_http_requests_total{{operation=\"{}\",status=\"{status}\"}} {count}",
                escape(operation)
            );
        }
        family(
            &mut text,
            "catalogue_http_request_duration_seconds",
            "histogram",
            "Time to answer a request.",
        );
        for (bound, count) in LATENCY_BUCKETS.iter().zip(tallies.latency_buckets) {
            let _ = writeln!(
                text,
                "catalogue_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            text,
            "catalogue_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            tallies.latency_buckets[LATENCY_BUCKETS.len()]
        );
        let _ = writeln!(
            text,
            "catalogue_http_request_duration_seconds_sum {}",
            tallies.latency_sum
        );
        let _ = writeln!(
            text,
            "catalogue_http_request_duration_seconds_count {}",
            tallies.latency_count
        );
    }
    family(
        &mut text,
        "catalogue_cache_requests_total",
        "counter",
        "Response-cache lookups by outcome; errors are failures of the cache store.",
    );
    let kind = state.cache.kind().as_str();
    for (outcome, count) in [
        ("hit", state.cache_counters.hits.load(Ordering::Relaxed)),
        ("miss", state.cache_counters.misses.load(Ordering::Relaxed)),
        ("error", state.shared.errors()),
    ] {
        let _ = writeln!(
            text,
            "catalogue_cache_requests_total{{store=\"{kind}\",outcome=\"{outcome}\"}} {count}"
        );
    }
    family(
        &mut text,
        "catalogue_rate_limited_requests_total",
        "counter",
        "Requests refused with 429.",
    );
    let _ = writeln!(
        text,
        "catalogue_rate_limited_requests_total {}",
        state.rate_limits.refused.count()
    );
    family(
        &mut text,
        "catalogue_db_statements_total",
        "counter",
        "SQL statements executed.",
    );
    let _ = writeln!(
        text,
        "catalogue_db_statements_total {}",
        state.store.statements_executed()
    );
    let (answers, fallbacks) = state.plain_answers.as_ref().map_or((0, 0), |counters| {
        (counters.answers(), counters.fallbacks())
    });
    family(
        &mut text,
        "catalogue_plain_answers_total",
        "counter",
        "Lists, and pages of the projects connection, the plain answers fast path wrote as JSON text \
         (a page counts once, with the lists in it).",
    );
    let _ = writeln!(text, "catalogue_plain_answers_total {answers}");
    family(
        &mut text,
        "catalogue_plain_fallbacks_total",
        "counter",
        "Lists, and pages of the projects connection, the plain answers fast path looked at and left \
         to the resolvers (the lists of a page left to them are then counted one by one).",
    );
    let _ = writeln!(text, "catalogue_plain_fallbacks_total {fallbacks}");
    link_checks(&mut text, link_check_counts);
    let (size, idle) = state.store.pool_use();
    family(
        &mut text,
        "catalogue_db_pool_connections",
        "gauge",
        "Database pool connections, by state.",
    );
    let _ = writeln!(
        text,
        "catalogue_db_pool_connections{{state=\"idle\"}} {idle}"
    );
    let _ = writeln!(
        text,
        "catalogue_db_pool_connections{{state=\"in_use\"}} {}",
        (size as usize).saturating_sub(idle)
    );
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}

/// How long the link checks' counts are reused: they change once per
/// harvest, and a scrape should cost no statement most of the time.
const LINK_CHECK_COUNTS_TTL: Duration = Duration::from_secs(30);

/// The link checks' counts last read from the database, and when; read
/// again when older than [`LINK_CHECK_COUNTS_TTL`] or when this replica has
/// run link checks since.
#[derive(Default)]
pub struct LinkCheckGauges {
    last: tokio::sync::Mutex<Option<(Instant, u64, LinkCheckCounts)>>,
}

impl LinkCheckGauges {
    async fn counts(&self, store: &Store, runs: u64) -> Option<LinkCheckCounts> {
        let mut last = self.last.lock().await;
        if let Some((read, read_after, counts)) = last.as_ref()
            && read.elapsed() < LINK_CHECK_COUNTS_TTL
            && *read_after == runs
        {
            return Some(counts.clone());
        }
        match store.link_check_counts().await {
            Ok(counts) => {
                *last = Some((Instant::now(), runs, counts.clone()));
                Some(counts)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot count the link checks for /metrics");
                None
            }
        }
    }
}

/// The catalogue's checked URLs by status, and the dead ones, as the
/// database says: the same on every replica, whichever ran the checks.
fn link_checks(text: &mut String, counts: Option<LinkCheckCounts>) {
    let Some(counts) = counts else {
        return;
    };
    family(
        text,
        "catalogue_link_checks",
        "gauge",
        "URLs of the catalogue by what their last link check found.",
    );
    for (status, count) in counts.by_status {
        let _ = writeln!(
            text,
            "catalogue_link_checks{{status=\"{}\"}} {count}",
            status.as_db()
        );
    }
    family(
        text,
        "catalogue_links_dead",
        "gauge",
        "URLs of the catalogue that failed CATALOGUE_LINK_CHECK_DEAD_AFTER link checks in a row or more.",
    );
    let _ = writeln!(text, "catalogue_links_dead {}", counts.dead);
}
