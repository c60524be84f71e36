//! `Summary` and `Summarizer`: fold events into counts, failures, protocol errors and a verdict.

use crate::event::{DirectiveKind, Event};

/// Longest diagnostics kept per failure (lines), so that memory stays O(failures).
const MAX_DETAIL_LINES: usize = 200;
/// Longest YAML text kept per failure (bytes).
const MAX_FAILURE_YAML_BYTES: usize = 64 * 1024;

/// The verdict and counts of a TAP stream.
///
/// Counts are for the top-level document (as node-tap and `prove` count); subtests count
/// through their correlated test points. Protocol errors ([`Summary::errors`]) are kept
/// apart from failed test points ([`Summary::failures`]): node's `tap-parser` adds its "tap
/// errors" to `fail`, this summary does not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Summary {
    /// The stream passes: no failed test point (at any depth, unless under a SKIP/TODO
    /// correlated point), no protocol error, no bail out.
    pub ok: bool,
    /// Top-level test points.
    pub count: u64,
    /// Top-level `ok` test points (including `ok ... # SKIP/TODO`).
    pub pass: u64,
    /// Top-level failed test points: `not ok` without SKIP or TODO.
    pub fail: u64,
    /// Top-level test points with a TODO directive (passing or not).
    pub todo: u64,
    /// Top-level test points with a SKIP directive.
    pub skip: u64,
    /// `Some(reason)` after `Bail out!` at any depth (empty when no reason was given).
    pub bailout: Option<String>,
    /// The top-level plan, if any.
    pub plan: Option<PlanSummary>,
    /// Top-level failed test points, with their diagnostics.
    pub failures: Vec<Failure>,
    /// Protocol errors (any depth), as readable messages with line numbers.
    pub errors: Vec<String>,
    /// Notes that do not fail the stream (subtest name mismatch, limits hit, ...).
    pub warnings: Vec<String>,
    /// The declared TAP version (13 or 14); `None` for TAP 12 / pgTAP.
    pub version: Option<u32>,
}

/// The plan of the top-level document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PlanSummary {
    /// First planned id.
    pub start: u64,
    /// Last planned id.
    pub end: u64,
    /// `1..0`: everything skipped.
    pub skip_all: bool,
    /// The plan's `# reason` (unescaped), if any.
    pub skip_reason: Option<String>,
}

/// A failed top-level test point.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Failure {
    /// Its number (the id written, or the implicit counter).
    pub id: u64,
    /// Its description (unescaped).
    pub name: String,
    /// pgTAP failure details (`# Failed test ...`, `have:`/`want:`, ...), in order.
    pub diagnostics: Vec<String>,
    /// Its YAML diagnostic block (raw text), if any.
    pub yaml: Option<String>,
}

/// Builds a [`Summary`] one event at a time (for the push front end).
///
/// ```
/// use pgfarm_tap_parser::{Parser, Summarizer};
/// let mut summarizer = Summarizer::new();
/// for event in Parser::new("1..1\nnot ok 1 - x\n") {
///     summarizer.event(&event);
/// }
/// assert_eq!(summarizer.finish().failures[0].name, "x");
/// ```
#[derive(Debug, Default)]
pub struct Summarizer {
    summary: Summary,
    depth: usize,
    /// Index in `failures` of the top-level failure that details attach to.
    attach: Option<usize>,
    in_yaml: bool,
}

/// Folds events into a [`Summary`] (like pulldown-cmark's `push_html` for HTML).
///
/// ```
/// use pgfarm_tap_parser::{summarize, Parser};
/// let summary = summarize(Parser::new("1..2\nok 1\nok 2 # SKIP no db\n"));
/// assert!(summary.ok);
/// assert_eq!((summary.count, summary.pass, summary.skip), (2, 2, 1));
/// ```
pub fn summarize<'a>(events: impl IntoIterator<Item = Event<'a>>) -> Summary {
    let mut summarizer = Summarizer::new();
    for event in events {
        summarizer.event(&event);
    }
    summarizer.finish()
}

impl Summarizer {
    /// An empty summarizer.
    pub fn new() -> Summarizer {
        Summarizer::default()
    }

    /// Takes one event into account.
    pub fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::Version(v) if self.depth == 0 => self.summary.version = Some(*v),
            Event::Plan(plan) if self.depth == 0 && self.summary.plan.is_none() => {
                self.attach = None;
                self.summary.plan = Some(PlanSummary {
                    start: plan.start,
                    end: plan.end,
                    skip_all: plan.is_skip_all(),
                    skip_reason: plan.reason.as_ref().map(|r| r.unescaped().into_owned()),
                });
            }
            Event::TestPoint(point) => {
                if self.depth != 0 {
                    return;
                }
                self.attach = None;
                self.summary.count += 1;
                if point.ok {
                    self.summary.pass += 1;
                }
                match point.directive.as_ref().map(|d| d.kind) {
                    Some(DirectiveKind::Todo) => self.summary.todo += 1,
                    Some(DirectiveKind::Skip) => self.summary.skip += 1,
                    None => {}
                }
                if point.is_failure() {
                    self.summary.fail += 1;
                    self.attach = Some(self.summary.failures.len());
                    self.summary.failures.push(Failure {
                        id: point.number,
                        name: point.description.unescaped().into_owned(),
                        diagnostics: Vec::new(),
                        yaml: None,
                    });
                }
            }
            Event::SubtestStart(_) => {
                self.depth += 1;
                if self.depth == 1 {
                    // A buffered subtest follows its point; other subtests end details.
                    self.in_yaml = false;
                }
            }
            Event::SubtestEnd(_) => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.attach = None;
                }
            }
            Event::YamlStart if self.depth == 0 => {
                self.in_yaml = true;
                if let Some(failure) = self.attach.and_then(|i| self.summary.failures.get_mut(i)) {
                    failure.yaml = Some(String::new());
                }
            }
            Event::YamlLine(line) if self.depth == 0 && self.in_yaml => {
                if let Some(yaml) = self
                    .attach
                    .and_then(|i| self.summary.failures.get_mut(i))
                    .and_then(|f| f.yaml.as_mut())
                    && yaml.len() + line.as_bytes().len() < MAX_FAILURE_YAML_BYTES
                {
                    yaml.push_str(&line.raw());
                    yaml.push('\n');
                }
            }
            Event::YamlEnd if self.depth == 0 => self.in_yaml = false,
            Event::FailureDetail(text) if self.depth == 0 => {
                if let Some(failure) = self.attach.and_then(|i| self.summary.failures.get_mut(i))
                    && failure.diagnostics.len() < MAX_DETAIL_LINES
                {
                    failure.diagnostics.push(text.raw().into_owned());
                }
            }
            Event::BailOut(reason) if self.summary.bailout.is_none() => {
                self.summary.bailout =
                    Some(reason.as_ref().map(|r| r.unescaped().into_owned()).unwrap_or_default());
            }
            Event::Warning(warning) => {
                if warning.is_error() {
                    self.summary.errors.push(warning.to_string());
                } else {
                    self.summary.warnings.push(warning.to_string());
                }
            }
            _ => {}
        }
    }

    /// The summary of the events seen.
    pub fn finish(self) -> Summary {
        let mut summary = self.summary;
        summary.ok = summary.fail == 0 && summary.errors.is_empty() && summary.bailout.is_none();
        summary
    }
}

impl Summary {
    /// Number of failed top-level test points plus protocol errors.
    pub fn n_problems(&self) -> usize {
        self.failures.len() + self.errors.len()
    }
}
