//! `GET /metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use poem::web::Data;
use poem::{Response, handler};

use super::AppState;

/// Requests answered, by status class.
#[derive(Default)]
pub struct RequestCounters {
    by_class: [AtomicU64; 5],
}

impl RequestCounters {
    pub fn record(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
    }
}

#[handler]
pub async fn metrics(state: Data<&AppState>) -> Response {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# HELP catalogue_http_requests_total HTTP requests answered, by status class."
    );
    let _ = writeln!(text, "# TYPE catalogue_http_requests_total counter");
    for (i, counter) in state.requests.by_class.iter().enumerate() {
        let _ = writeln!(
            text,
            "catalogue_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            counter.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        text,
        "# HELP catalogue_db_statements_total SQL statements executed."
    );
    let _ = writeln!(text, "# TYPE catalogue_db_statements_total counter");
    let _ = writeln!(
        text,
        "catalogue_db_statements_total {}",
        state.store.statements_executed()
    );
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
