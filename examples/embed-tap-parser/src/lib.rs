//! A tiny tool built on pgfarm-tap-parser as a dependency by version: it reads a pgTAP stream and
//! reports one line per stream, as a CI annotation or a browser badge would show it.
//!
//! It uses only the public API a published release offers, and no I/O, so it also builds for
//! `wasm32-unknown-unknown`.

use pgfarm_tap_parser::{Options, Parser, Summary, summarize};

/// What the tool reports about one TAP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Whether the stream passed (no failed test point, no protocol error, no bail out).
    pub ok: bool,
    /// One line: `"3 tests, 1 failed (2 counts rows), 1 skipped"`.
    pub line: String,
    /// The pgTAP failure details of each failed test, in order.
    pub details: Vec<Vec<String>>,
}

/// Parses `tap` as pgTAP prints it and summarizes it into a [`Report`].
pub fn report(tap: &str) -> Report {
    let summary = summarize(Parser::with_options(tap, Options::pgtap()));
    Report {
        ok: summary.ok,
        line: line(&summary),
        details: summary.failures.iter().map(|failure| failure.diagnostics.clone()).collect(),
    }
}

fn line(summary: &Summary) -> String {
    let mut line = format!("{} tests", summary.count);
    if summary.fail > 0 {
        let names: Vec<String> = summary
            .failures
            .iter()
            .map(|failure| format!("{} {}", failure.id, failure.name))
            .collect();
        line += &format!(", {} failed ({})", summary.fail, names.join(", "));
    }
    if summary.skip > 0 {
        line += &format!(", {} skipped", summary.skip);
    }
    if let Some(reason) = &summary.bailout {
        line += &format!(", bailed out: {reason}");
    }
    for error in &summary.errors {
        line += &format!(", {error}");
    }
    line
}
