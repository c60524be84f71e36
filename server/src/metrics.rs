//! Counters exposed at `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests_2xx: AtomicU64,
    requests_3xx: AtomicU64,
    requests_4xx: AtomicU64,
    requests_5xx: AtomicU64,
    request_micros_total: AtomicU64,
    runs_accepted: AtomicU64,
    bundle_bytes_accepted: AtomicU64,
}

impl Metrics {
    /// Counts a finished request.
    pub fn record_request(&self, status: u16, micros: u64) {
        let counter = match status {
            200..=299 => &self.requests_2xx,
            300..=399 => &self.requests_3xx,
            400..=499 => &self.requests_4xx,
            _ => &self.requests_5xx,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.request_micros_total.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts a stored run.
    pub fn record_run(&self, bundle_bytes: u64) {
        self.runs_accepted.fetch_add(1, Ordering::Relaxed);
        self.bundle_bytes_accepted.fetch_add(bundle_bytes, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        out.push_str(
            "# HELP pgfarm_http_requests_total HTTP requests answered, by status class.\n",
        );
        out.push_str("# TYPE pgfarm_http_requests_total counter\n");
        for (class, counter) in [
            ("2xx", &self.requests_2xx),
            ("3xx", &self.requests_3xx),
            ("4xx", &self.requests_4xx),
            ("5xx", &self.requests_5xx),
        ] {
            let _ =
                writeln!(out, "pgfarm_http_requests_total{{class=\"{class}\"}} {}", load(counter));
        }
        out.push_str("# HELP pgfarm_http_request_seconds_total Time spent answering requests.\n");
        out.push_str("# TYPE pgfarm_http_request_seconds_total counter\n");
        let _ = writeln!(
            out,
            "pgfarm_http_request_seconds_total {:.6}",
            load(&self.request_micros_total) as f64 / 1e6
        );
        out.push_str("# HELP pgfarm_runs_accepted_total Runs stored.\n");
        out.push_str("# TYPE pgfarm_runs_accepted_total counter\n");
        let _ = writeln!(out, "pgfarm_runs_accepted_total {}", load(&self.runs_accepted));
        out.push_str("# HELP pgfarm_bundle_bytes_accepted_total Compressed bundle bytes stored.\n");
        out.push_str("# TYPE pgfarm_bundle_bytes_accepted_total counter\n");
        let _ = writeln!(
            out,
            "pgfarm_bundle_bytes_accepted_total {}",
            load(&self.bundle_bytes_accepted)
        );
        out
    }
}
