//! `TapWriter`: re-emits events as normalized TAP 14 (or TAP 13 for Perl's `prove`).

use std::fmt::{self, Write};

use crate::event::{DirectiveKind, Event, SubtestKind};
use crate::text::{Text, escape_into};

/// Which TAP to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapVersion {
    /// `TAP version 13`: what Perl's TAP::Parser (`prove`, `pg_prove`) accepts. Subtests are
    /// written as indented streams, which TAP 13 consumers skip.
    V13,
    /// `TAP version 14`.
    V14,
}

/// Writes events back as normalized TAP: one version line, `ok N - description # DIRECTIVE
/// reason` with `#` and `\` escaped, 4-space indented subtests introduced by `# Subtest:`,
/// YAML blocks indented two spaces past their test point. Blank and non-TAP lines are
/// dropped (under `pragma +strict`, where a non-TAP line is an error, each is kept as
/// `! line` so the verdict survives); after `Bail out!` nothing more is written.
///
/// ```
/// use pgfarm_tap_parser::{write_tap, Parser, TapVersion};
/// let tap = write_tap(Parser::new("ok - a # skip\nok\n1..2\n"), TapVersion::V14);
/// assert_eq!(tap, "TAP version 14\nok 1 - a # SKIP\nok 2\n1..2\n");
/// ```
#[derive(Debug)]
pub struct TapWriter {
    version: TapVersion,
    depth: usize,
    wrote_header: bool,
    bailed: bool,
    /// `pragma +strict` per open document (index = depth).
    strict: Vec<bool>,
    line: String,
}

/// Writes all events into a string (see [`TapWriter`]).
pub fn write_tap<'a>(events: impl IntoIterator<Item = Event<'a>>, version: TapVersion) -> String {
    let mut writer = TapWriter::new(version);
    let mut out = String::new();
    for event in events {
        // Writing into a String cannot fail.
        let _ = writer.write_event(&event, &mut out);
    }
    out
}

impl TapWriter {
    /// A writer for the given TAP version.
    pub fn new(version: TapVersion) -> TapWriter {
        TapWriter {
            version,
            depth: 0,
            wrote_header: false,
            bailed: false,
            strict: vec![false],
            line: String::new(),
        }
    }

    fn indent(&mut self, extra: usize) {
        for _ in 0..self.depth * 4 + extra {
            self.line.push(' ');
        }
    }

    /// Writes one event.
    pub fn write_event<W: Write>(&mut self, event: &Event<'_>, out: &mut W) -> fmt::Result {
        if self.bailed {
            return Ok(());
        }
        if !self.wrote_header {
            self.wrote_header = true;
            out.write_str(match self.version {
                TapVersion::V13 => "TAP version 13\n",
                TapVersion::V14 => "TAP version 14\n",
            })?;
        }
        self.line.clear();
        match event {
            Event::Version(version) => {
                if self.depth == 0 {
                    return Ok(());
                }
                // A subtest's own version line may be all that opened it: keep it.
                self.indent(0);
                let _ = write!(self.line, "TAP version {version}");
            }
            Event::Blank | Event::Warning(_) => return Ok(()),
            Event::Plan(plan) => {
                self.indent(0);
                let _ = write!(self.line, "{}..{}", plan.start, plan.end);
                if let Some(reason) = &plan.reason {
                    self.line.push_str(" # ");
                    escape_into(&mut self.line, &reason.unescaped());
                }
            }
            Event::TestPoint(point) => {
                self.indent(0);
                self.line.push_str(if point.ok { "ok " } else { "not ok " });
                let _ = write!(self.line, "{}", point.number);
                let description = point.description.unescaped();
                if !description.is_empty() {
                    self.line.push_str(" - ");
                    escape_into(&mut self.line, &description);
                }
                if let Some(directive) = &point.directive {
                    self.line.push_str(match directive.kind {
                        DirectiveKind::Skip => " # SKIP",
                        DirectiveKind::Todo => " # TODO",
                    });
                    let reason = directive.reason.unescaped();
                    if !reason.is_empty() {
                        self.line.push(' ');
                        escape_into(&mut self.line, &reason);
                    }
                }
            }
            Event::SubtestStart(start) => {
                self.strict.push(false);
                if start.kind == SubtestKind::Bare {
                    // A bare subtest is introduced by its first indented line.
                    self.depth += 1;
                    return Ok(());
                }
                if start.kind == SubtestKind::Buffered {
                    self.indent(0);
                    self.line.push('{');
                } else {
                    self.indent(0);
                    self.line.push_str("# Subtest");
                    if let Some(name) = &start.name {
                        self.line.push_str(": ");
                        self.line.push_str(&name.raw());
                    }
                }
                self.depth += 1;
            }
            Event::SubtestEnd(end) => {
                self.depth = self.depth.saturating_sub(1);
                if self.strict.len() > 1 {
                    self.strict.pop();
                }
                // Only a buffered subtest that was closed by its `}` gets one back: writing `}`
                // for one the input left open would turn a note (unterminated subtest) into a
                // closed subtest with its own plan checks, and change the verdict on re-parse.
                if end.kind != SubtestKind::Buffered || !end.terminated {
                    return Ok(());
                }
                self.indent(0);
                self.line.push('}');
            }
            Event::YamlStart => {
                self.indent(2);
                self.line.push_str("---");
            }
            Event::YamlLine(text) => {
                if !text.is_empty() {
                    self.indent(2);
                    self.line.push_str(&text.raw());
                }
            }
            Event::YamlEnd => {
                self.indent(2);
                self.line.push_str("...");
            }
            Event::YamlBlock(block) => {
                self.indent(2);
                self.line.push_str("---\n");
                for line in block.text.lines() {
                    if !line.is_empty() {
                        self.indent(2);
                        self.line.push_str(line);
                    }
                    self.line.push('\n');
                }
                self.indent(2);
                self.line.push_str("...");
            }
            Event::Comment(text) | Event::FailureDetail(text) | Event::SummaryComment(text) => {
                self.indent(0);
                self.line.push_str("# ");
                let text = text.raw();
                if text.starts_with("Subtest") {
                    // Would announce a subtest when read back.
                    self.line.push(' ');
                }
                self.line.push_str(&text);
            }
            Event::Pragma(pragma) => {
                if pragma.key.as_bytes() == b"strict"
                    && let Some(strict) = self.strict.last_mut()
                {
                    *strict = pragma.on;
                }
                self.indent(0);
                self.line.push_str(if pragma.on { "pragma +" } else { "pragma -" });
                self.line.push_str(&pragma.key.raw());
            }
            Event::BailOut(reason) => {
                self.bailed = true;
                self.line.push_str("Bail out!");
                if let Some(reason) = reason {
                    self.line.push(' ');
                    escape_into(&mut self.line, &reason.unescaped());
                }
            }
            Event::Unknown(text) => {
                // Non-TAP lines are dropped, except under `pragma +strict`, where each one is
                // an error: there it is kept as `! line`, which no context reads as TAP.
                if !self.strict.last().copied().unwrap_or(false) {
                    return Ok(());
                }
                self.indent(0);
                self.line.push_str("! ");
                self.line.push_str(&Text::raw(text));
            }
        }
        self.line.push('\n');
        out.write_str(&self.line)
    }
}
