//! The line classifier and state machine shared by the pull `Parser` and the `PushParser`.
//!
//! `Machine::line` takes one line (without its line ending) and emits its events into a
//! sink. The machine owns no input: it keeps one `Frame` per open subtest (plan, counters,
//! id runs, a hash of the subtest name), so the same code serves borrowed input (pull) and
//! byte chunks (push).

use crate::event::{
    Directive, Event, Plan, Span, SubtestEnd, SubtestKind, SubtestStart, TestPoint, Warning,
    WarningKind,
};
use crate::ids::IdSet;
use crate::options::Options;
use crate::scanners::{
    Kind, RawPoint, bail_out, classify, comment_body, is_blank, is_summary_comment, is_yaml_end,
    is_yaml_start, subtest_name, test_point,
};
use crate::text::Text;

/// Receives events as the machine produces them.
pub(crate) trait Sink<'a> {
    fn emit(&mut self, event: Event<'a>, span: Span);
}

impl<'a, F: FnMut(Event<'a>, Span)> Sink<'a> for F {
    fn emit(&mut self, event: Event<'a>, span: Span) {
        self(event, span)
    }
}

/// State of one TAP document (the top level or a subtest).
#[derive(Debug)]
struct Frame {
    kind: SubtestKind,
    /// Hash of the `# Subtest:` name (normalized as the options say), for the name check.
    name_hash: Option<u64>,
    /// Lines seen in this document (for "version must be first").
    lines: u64,
    plan: Option<(u64, u64)>,
    /// The plan came after test points.
    plan_trailing: bool,
    count: u64,
    last_number: u64,
    ids: IdSet,
    max_id: u64,
    min_id: u64,
    strict: bool,
    /// A failing test point or a protocol error happened in this document.
    failed: bool,
    /// The last significant line was a test point: YAML or `{` may follow.
    after_point: bool,
    /// pgTAP mode: comments now explain the failed test point before them.
    in_failure_detail: bool,
    /// The last test point ended with ` {`: the next deeper line opens a buffered subtest.
    brace_pending: bool,
    /// For a buffered subtest: its correlated point (number, ok, has directive).
    opener: Option<(u64, bool, bool)>,
    /// A child subtest just closed: (failed, name hash) to check against the next point.
    closed_child: Option<(bool, Option<u64>)>,
    /// The last test point: (number, ok, has directive); a buffered subtest's opener.
    last_point: Option<(u64, bool, bool)>,
}

impl Frame {
    fn new(kind: SubtestKind, name_hash: Option<u64>) -> Frame {
        Frame {
            kind,
            name_hash,
            lines: 0,
            plan: None,
            plan_trailing: false,
            count: 0,
            last_number: 0,
            ids: IdSet::default(),
            max_id: 0,
            min_id: u64::MAX,
            strict: false,
            failed: false,
            after_point: false,
            in_failure_detail: false,
            brace_pending: false,
            opener: None,
            closed_child: None,
            last_point: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Yaml {
    Off,
    /// Inside a block whose lines are indented by `indent`; `bytes` read so far.
    In {
        indent: usize,
        bytes: usize,
    },
    /// A block grew too large: its lines are non-TAP until the `...` line.
    Skipping {
        indent: usize,
    },
}

/// The shared state machine.
#[derive(Debug)]
pub(crate) struct Machine {
    options: Options,
    frames: Vec<Frame>,
    yaml: Yaml,
    bailed: bool,
    line_no: u64,
    too_deep_reported: bool,
}

impl Machine {
    pub(crate) fn new(options: Options) -> Machine {
        Machine {
            options,
            frames: vec![Frame::new(SubtestKind::Bare, None)],
            yaml: Yaml::Off,
            bailed: false,
            line_no: 0,
            too_deep_reported: false,
        }
    }

    fn depth(&self) -> usize {
        self.frames.len() - 1
    }

    fn top(&mut self) -> &mut Frame {
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    fn warn<'a, S: Sink<'a>>(&mut self, kind: WarningKind, depth: usize, at: usize, sink: &mut S) {
        if kind.is_error()
            && let Some(frame) = self.frames.get_mut(depth)
        {
            frame.failed = true;
        }
        sink.emit(Event::Warning(Warning { kind, line: self.line_no, depth }), at..at);
    }

    /// A line longer than `max_line_bytes`: non-TAP, whatever it looks like.
    pub(crate) fn long_line<'a, S: Sink<'a>>(
        &mut self,
        prefix: &'a [u8],
        span: Span,
        sink: &mut S,
    ) {
        self.line_no += 1;
        let depth = self.depth();
        let at = span.start;
        sink.emit(Event::Unknown(Text::plain(prefix)), span);
        self.warn(WarningKind::LineTooLong, depth, at, sink);
        self.top().after_point = false;
    }

    /// Classifies one line (without its line ending) and emits its events.
    pub(crate) fn line<'a, S: Sink<'a>>(&mut self, line: &'a [u8], span: Span, sink: &mut S) {
        // Hot path: a test point at the current depth, outside YAML (what most lines are).
        // Same result as the general path below, with fewer checks.
        if !self.bailed && self.yaml == Yaml::Off {
            let indent = 4 * self.depth();
            if line.len() > indent
                && matches!(line[indent], b'o' | b'n')
                && line[..indent].iter().all(|&b| b == b' ')
                && let Some(point) = test_point(&line[indent..])
            {
                self.line_no += 1;
                let frame = self.top();
                frame.lines += 1;
                frame.brace_pending = false;
                self.point(point, span, sink);
                return;
            }
        }
        self.line_no += 1;
        if self.bailed {
            sink.emit(Event::Unknown(Text::plain(line)), span);
            return;
        }
        let at = span.start;
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let rest = &line[indent..];

        // YAML blocks come first: inside one, `#` and `ok` are YAML text.
        match self.yaml {
            Yaml::Off => {}
            Yaml::In { indent: yaml_indent, bytes } => {
                if indent >= yaml_indent {
                    let content = &line[yaml_indent..];
                    if is_yaml_end(content) {
                        self.yaml = Yaml::Off;
                        sink.emit(Event::YamlEnd, span);
                        return;
                    }
                    let bytes = bytes + content.len() + 1;
                    if bytes > self.options.max_yaml_bytes {
                        self.yaml = Yaml::Skipping { indent: yaml_indent };
                        sink.emit(Event::YamlEnd, at..at);
                        let depth = self.depth();
                        self.warn(WarningKind::YamlTooLarge, depth, at, sink);
                        sink.emit(Event::Unknown(Text::plain(line)), span);
                        return;
                    }
                    self.yaml = Yaml::In { indent: yaml_indent, bytes };
                    sink.emit(Event::YamlLine(Text::plain(content)), span);
                    return;
                }
                if is_blank(rest) {
                    sink.emit(Event::YamlLine(Text::plain(b"")), span);
                    return;
                }
                self.yaml = Yaml::Off;
                sink.emit(Event::YamlEnd, at..at);
                let depth = self.depth();
                self.warn(WarningKind::UnterminatedYaml, depth, at, sink);
            }
            Yaml::Skipping { indent: yaml_indent } => {
                if indent >= yaml_indent || is_blank(rest) {
                    if indent >= yaml_indent && is_yaml_end(&line[yaml_indent..]) {
                        self.yaml = Yaml::Off;
                    }
                    sink.emit(Event::Unknown(Text::plain(line)), span);
                    return;
                }
                self.yaml = Yaml::Off;
            }
        }

        if is_blank(rest) {
            // Blank lines end a pgTAP failure explanation but not "YAML may follow".
            self.top().in_failure_detail = false;
            sink.emit(Event::Blank, span);
            return;
        }

        if let Some(reason) = bail_out(rest) {
            self.bailed = true;
            sink.emit(Event::BailOut(reason), span);
            while self.frames.len() > 1 {
                let depth = self.depth();
                let frame = self.frames.pop().expect("more than one frame");
                sink.emit(
                    Event::SubtestEnd(SubtestEnd { depth, kind: frame.kind, terminated: false }),
                    at..at,
                );
            }
            return;
        }

        if rest[0] == b'#' {
            self.comment(indent, rest, span, sink);
            return;
        }

        let depth = self.depth();
        // `  ---` after a test point opens its YAML block.
        if indent == 4 * depth + 2 && self.top().after_point && is_yaml_start(rest) {
            self.yaml = Yaml::In { indent, bytes: 0 };
            let frame = self.top();
            frame.lines += 1;
            sink.emit(Event::YamlStart, span);
            return;
        }

        let level = indent / 4;
        if indent % 4 != 0 {
            self.non_tap(line, level, span, sink);
            return;
        }
        let kind = classify(rest);

        if level > depth {
            if matches!(kind, Kind::Other | Kind::OpenBrace | Kind::CloseBrace | Kind::InvalidPlan)
            {
                self.non_tap(line, level, span, sink);
                return;
            }
            if !self.open_to(level, None, at, sink) {
                self.non_tap(line, level, span, sink);
                return;
            }
        } else if level < depth {
            match kind {
                Kind::Point(_) => self.close_to(level, at, sink),
                Kind::CloseBrace if self.frames[level + 1].kind == SubtestKind::Buffered => {
                    self.close_to(level + 1, at, sink);
                    self.close_buffered(span, sink);
                    return;
                }
                _ => {
                    // Spec, subtests rule 12: lines at a parent level inside an open
                    // subtest are non-TAP. Announced subtests that got no lines at all were
                    // only comments: drop them.
                    while self.depth() > level
                        && self.top().lines == 0
                        && self.top().kind == SubtestKind::Commented
                    {
                        let depth = self.depth();
                        self.frames.pop();
                        sink.emit(
                            Event::SubtestEnd(SubtestEnd {
                                depth,
                                kind: SubtestKind::Commented,
                                terminated: false,
                            }),
                            at..at,
                        );
                    }
                    if self.depth() != level {
                        self.non_tap(line, level, span, sink);
                        return;
                    }
                }
            }
        }
        self.document_line(line, kind, span, sink);
    }

    /// A line at the current depth.
    fn document_line<'a, S: Sink<'a>>(
        &mut self,
        line: &'a [u8],
        kind: Kind<'a>,
        span: Span,
        sink: &mut S,
    ) {
        let at = span.start;
        let depth = self.depth();
        let first_line = self.top().lines == 0;
        self.top().lines += 1;
        self.top().in_failure_detail = false;
        let after_point = std::mem::replace(&mut self.top().after_point, false);
        let brace_pending = std::mem::replace(&mut self.top().brace_pending, false);
        match kind {
            Kind::Version(version) => {
                if first_line && (version == 13 || version == 14) {
                    sink.emit(Event::Version(version), span);
                } else {
                    self.top().lines -= 1;
                    self.non_tap(line, depth, span, sink);
                    self.warn(WarningKind::MisplacedVersion, depth, at, sink);
                }
            }
            Kind::Plan(plan) => self.plan(plan, span, sink),
            Kind::InvalidPlan => {
                self.top().lines -= 1;
                self.non_tap(line, depth, span, sink);
                self.warn(WarningKind::InvalidPlan, depth, at, sink);
            }
            Kind::Point(point) => self.point(point, span, sink),
            Kind::Pragma(pragma) => {
                if pragma.key.as_bytes() == b"strict" {
                    self.top().strict = pragma.on;
                }
                sink.emit(Event::Pragma(pragma), span);
            }
            Kind::OpenBrace if after_point || brace_pending => self.open_buffered(span, sink),
            Kind::OpenBrace | Kind::CloseBrace | Kind::Other => {
                self.top().lines -= 1;
                self.non_tap(line, depth, span, sink);
            }
        }
    }

    /// A non-TAP line; `level` is the depth of the document it belongs to (its indentation,
    /// capped at the current depth), whose `pragma +strict` decides whether it is an error.
    fn non_tap<'a, S: Sink<'a>>(&mut self, line: &'a [u8], level: usize, span: Span, sink: &mut S) {
        let at = span.start;
        let level = level.min(self.depth());
        let frame = self.top();
        frame.after_point = false;
        frame.in_failure_detail = false;
        let strict = self.frames[level].strict;
        sink.emit(Event::Unknown(Text::plain(line)), span);
        if strict {
            self.warn(WarningKind::NonTapInStrictMode, level, at, sink);
        }
    }

    fn comment<'a, S: Sink<'a>>(
        &mut self,
        indent: usize,
        rest: &'a [u8],
        span: Span,
        sink: &mut S,
    ) {
        let at = span.start;
        let body = comment_body(rest);
        let depth = self.depth();
        if indent.is_multiple_of(4)
            && let Some(name) = subtest_name(rest)
        {
            let level = indent / 4;
            if level >= depth {
                // `# Subtest: name` at the current level announces a child (TAP 14);
                // deeper (pgTAP's runtests(), older node-tap) it is the child's first line.
                let target = if level > depth { level } else { depth + 1 };
                let hash = name.as_ref().map(|n| name_hash(n.as_bytes(), self.options.pgtap, true));
                if target > depth + 1 && !self.open_to(target - 1, None, at, sink) {
                    sink.emit(Event::Comment(body), span);
                    return;
                }
                if self.depth() + 1 > self.options.max_depth {
                    sink.emit(Event::Comment(body), span);
                    self.too_deep(at, sink);
                    return;
                }
                let parent = self.top();
                parent.after_point = false;
                parent.in_failure_detail = false;
                let kind = if parent.brace_pending && target == depth + 1 {
                    SubtestKind::Buffered
                } else {
                    SubtestKind::Commented
                };
                parent.brace_pending = false;
                self.frames.push(Frame::new(kind, hash));
                let new_depth = self.depth();
                sink.emit(Event::SubtestStart(SubtestStart { depth: new_depth, name, kind }), span);
                return;
            }
        }
        if self.options.pgtap {
            if is_summary_comment(body.as_bytes()) {
                self.top().in_failure_detail = false;
                sink.emit(Event::SummaryComment(body), span);
                return;
            }
            if indent == 4 * depth && self.top().in_failure_detail {
                sink.emit(Event::FailureDetail(body), span);
                return;
            }
        }
        sink.emit(Event::Comment(body), span);
    }

    fn too_deep<'a, S: Sink<'a>>(&mut self, at: usize, sink: &mut S) {
        if !self.too_deep_reported {
            self.too_deep_reported = true;
            let depth = self.depth();
            self.warn(WarningKind::TooDeep, depth, at, sink);
        }
    }

    /// Opens bare subtests down to `level`. Returns false when `max_depth` forbids it.
    fn open_to<'a, S: Sink<'a>>(
        &mut self,
        level: usize,
        name: Option<Text<'a>>,
        at: usize,
        sink: &mut S,
    ) -> bool {
        if level > self.options.max_depth {
            self.too_deep(at, sink);
            return false;
        }
        let mut name = name;
        while self.depth() < level {
            let parent = self.top();
            parent.after_point = false;
            parent.in_failure_detail = false;
            let kind = if std::mem::replace(&mut parent.brace_pending, false) {
                SubtestKind::Buffered
            } else {
                SubtestKind::Bare
            };
            let mut frame = Frame::new(kind, None);
            if kind == SubtestKind::Buffered {
                frame.opener = self.last_point_of_top();
            }
            self.frames.push(frame);
            let depth = self.depth();
            let this_name = if depth == level { name.take() } else { None };
            sink.emit(Event::SubtestStart(SubtestStart { depth, name: this_name, kind }), at..at);
        }
        true
    }

    fn last_point_of_top(&self) -> Option<(u64, bool, bool)> {
        self.frames.last().and_then(|f| f.last_point)
    }

    /// A `{` line after a test point (and its YAML).
    fn open_buffered<'a, S: Sink<'a>>(&mut self, span: Span, sink: &mut S) {
        let at = span.start;
        if self.depth() + 1 > self.options.max_depth {
            self.too_deep(at, sink);
            sink.emit(Event::Unknown(Text::plain(b"{")), span);
            return;
        }
        let mut frame = Frame::new(SubtestKind::Buffered, None);
        frame.opener = self.last_point_of_top();
        self.frames.push(frame);
        let depth = self.depth();
        sink.emit(
            Event::SubtestStart(SubtestStart { depth, name: None, kind: SubtestKind::Buffered }),
            span,
        );
    }

    /// The `}` line of a buffered subtest (the subtest is the top frame).
    fn close_buffered<'a, S: Sink<'a>>(&mut self, span: Span, sink: &mut S) {
        let at = span.start;
        let depth = self.depth();
        self.end_document(depth, at, sink);
        let frame = self.frames.pop().expect("a buffered frame is open");
        sink.emit(
            Event::SubtestEnd(SubtestEnd { depth, kind: SubtestKind::Buffered, terminated: true }),
            span,
        );
        if frame.failed
            && let Some((number, true, false)) = frame.opener
        {
            let parent_depth = self.depth();
            self.warn(WarningKind::SubtestFailedButPointOk { number }, parent_depth, at, sink);
        }
    }

    /// Closes subtests until the depth is `level`; the last one closed is correlated with the
    /// test point that follows (streamed subtests) or, if buffered, was not closed by `}`.
    fn close_to<'a, S: Sink<'a>>(&mut self, level: usize, at: usize, sink: &mut S) {
        while self.depth() > level {
            let depth = self.depth();
            let frame = &self.frames[depth];
            if frame.kind == SubtestKind::Commented && frame.lines == 0 {
                // `# Subtest: x` with nothing after it was only a comment.
                let kind = frame.kind;
                self.frames.pop();
                sink.emit(Event::SubtestEnd(SubtestEnd { depth, kind, terminated: false }), at..at);
                continue;
            }
            let correlated = depth == level + 1 && frame.kind != SubtestKind::Buffered;
            if correlated {
                self.end_document(depth, at, sink);
            } else {
                self.warn(WarningKind::UnterminatedSubtest, depth, at, sink);
            }
            let frame = self.frames.pop().expect("depth > level >= 0");
            sink.emit(
                Event::SubtestEnd(SubtestEnd { depth, kind: frame.kind, terminated: correlated }),
                at..at,
            );
            let parent = self.top();
            // An unterminated subtest is non-TAP (spec, subtest rule 10): it does not fail
            // its parent.
            if correlated {
                parent.closed_child = Some((frame.failed, frame.name_hash));
            }
        }
    }

    /// End-of-document checks for the frame at `depth`: plan present, count matches.
    fn end_document<'a, S: Sink<'a>>(&mut self, depth: usize, at: usize, sink: &mut S) {
        let frame = &self.frames[depth];
        match frame.plan {
            None => self.warn(WarningKind::NoPlan, depth, at, sink),
            Some((start, end)) => {
                if end != 0 || start != 1 {
                    let planned = if end >= start { end - start + 1 } else { 0 };
                    if planned != frame.count {
                        let ran = frame.count;
                        self.warn(WarningKind::CountMismatch { planned, ran }, depth, at, sink);
                    }
                }
            }
        }
    }

    fn plan<'a, S: Sink<'a>>(&mut self, plan: Plan<'a>, span: Span, sink: &mut S) {
        let at = span.start;
        let depth = self.depth();
        let (start, end) = (plan.start, plan.end);
        let frame = self.top();
        if frame.plan.is_some() {
            sink.emit(Event::Plan(plan), span);
            self.warn(WarningKind::DuplicatePlan, depth, at, sink);
            return;
        }
        frame.plan = Some((start, end));
        let count = frame.count;
        let (min_id, max_id) = (frame.min_id, frame.max_id);
        sink.emit(Event::Plan(plan), span);
        if count > 0 {
            self.top().plan_trailing = true;
            if end == 0 && start == 1 {
                self.warn(WarningKind::TestsInSkipAll, depth, at, sink);
            } else if max_id > end {
                self.warn(WarningKind::IdOutOfRange { id: max_id, start, end }, depth, at, sink);
            } else if min_id < start {
                self.warn(WarningKind::IdOutOfRange { id: min_id, start, end }, depth, at, sink);
            }
        }
    }

    fn point<'a, S: Sink<'a>>(&mut self, point: RawPoint<'a>, span: Span, sink: &mut S) {
        let at = span.start;
        let depth = self.depth();
        let pgtap = self.options.pgtap;
        let frame = self.top();
        let number = point.id.unwrap_or(frame.last_number.saturating_add(1));
        frame.last_number = number;
        frame.count += 1;
        let duplicate = !frame.ids.insert(number);
        frame.max_id = frame.max_id.max(number);
        frame.min_id = frame.min_id.min(number);
        let failure = !point.ok && point.directive.is_none();
        if failure {
            frame.failed = true;
        }
        frame.after_point = true;
        frame.in_failure_detail = pgtap && !point.ok;
        frame.brace_pending = point.buffered;
        frame.last_point = Some((number, point.ok, point.directive.is_some()));
        let closed_child = frame.closed_child.take();
        let plan = frame.plan;
        let plan_trailing = frame.plan_trailing;
        let mismatch = match closed_child {
            Some((_, Some(hash))) => name_hash(point.description, pgtap, false) != hash,
            _ => false,
        };
        let child_failed = matches!(closed_child, Some((true, _)));
        let ok_without_directive = point.ok && point.directive.is_none();
        sink.emit(
            Event::TestPoint(TestPoint {
                ok: point.ok,
                id: point.id,
                number,
                description: Text::escaped(point.description),
                directive: point
                    .directive
                    .map(|(kind, reason)| Directive { kind, reason: Text::escaped(reason) }),
                buffered: point.buffered,
            }),
            span,
        );
        if mismatch {
            self.warn(WarningKind::SubtestNameMismatch, depth, at, sink);
        }
        if child_failed && ok_without_directive {
            self.warn(WarningKind::SubtestFailedButPointOk { number }, depth, at, sink);
        }
        if duplicate {
            self.warn(WarningKind::DuplicateId { id: number }, depth, at, sink);
        }
        if let Some((start, end)) = plan {
            if plan_trailing {
                self.warn(WarningKind::TestAfterTrailingPlan, depth, at, sink);
            } else if start == 1 && end == 0 {
                self.warn(WarningKind::TestsInSkipAll, depth, at, sink);
            } else if number < start || number > end {
                self.warn(WarningKind::IdOutOfRange { id: number, start, end }, depth, at, sink);
            }
        }
    }

    /// End of input: closes what is open and runs the top-level checks.
    pub(crate) fn finish<'a, S: Sink<'a>>(&mut self, at: usize, sink: &mut S) {
        if self.bailed {
            return;
        }
        match self.yaml {
            Yaml::In { .. } => {
                self.yaml = Yaml::Off;
                sink.emit(Event::YamlEnd, at..at);
                let depth = self.depth();
                self.warn(WarningKind::UnterminatedYaml, depth, at, sink);
            }
            Yaml::Skipping { .. } => self.yaml = Yaml::Off,
            Yaml::Off => {}
        }
        while self.frames.len() > 1 {
            let depth = self.depth();
            if self.top().kind == SubtestKind::Commented && self.top().lines == 0 {
                // An announcement with nothing after it was only a comment.
            } else {
                self.warn(WarningKind::UnterminatedSubtest, depth, at, sink);
            }
            let frame = self.frames.pop().expect("more than one frame");
            sink.emit(
                Event::SubtestEnd(SubtestEnd { depth, kind: frame.kind, terminated: false }),
                at..at,
            );
        }
        self.end_document(0, at, sink);
    }
}

/// FNV-1a over the unescaped name; in pgTAP mode a trailing `()` is ignored so that
/// `# Subtest: unit.test_count()` matches `ok 1 - unit.test_count`.
fn name_hash(bytes: &[u8], pgtap: bool, subtest_comment: bool) -> u64 {
    let mut bytes = bytes;
    if pgtap {
        bytes = bytes.strip_suffix(b"()").unwrap_or(bytes);
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        let mut b = bytes[i];
        // Descriptions are escaped fields; `# Subtest:` names are taken literally.
        if !subtest_comment
            && b == b'\\'
            && i + 1 < bytes.len()
            && (bytes[i + 1] == b'\\' || bytes[i + 1] == b'#')
        {
            i += 1;
            b = bytes[i];
        }
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}
