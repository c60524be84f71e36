//! A pgTAP stream as a tree of test points for display: subtests hold their points, each point
//! carries its pgTAP diagnostics (`have:` / `want:`) and YAML block, comments and non-TAP lines
//! stay in place, and plan problems and bail-outs are collected. Built from
//! `pgfarm-tap-parser`'s events in pgTAP mode; rows are flattened on demand so that folded
//! subtests cost nothing to draw.

use pgfarm_tap_parser::{DirectiveKind, Event, Options, Parser, SubtestKind, Summarizer, Summary};

/// What a node of the tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// `ok N - description` without subtest.
    Point,
    /// A subtest with its children; its verdict comes from the correlated test point.
    Subtest,
    /// A `# comment` (pgTAP `diag()` output, `# Looks like you failed ...`).
    Comment,
    /// A line that is not TAP (psql noise, server messages).
    Unknown,
    /// `Bail out!`: the run stopped here.
    BailOut,
}

/// The verdict of a test point or subtest, as a status word for `StatusBadge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeStatus {
    /// `ok`.
    Ok,
    /// `not ok` without directive: a failure.
    Failed,
    /// `# TODO`: expected to fail; does not count as a failure either way.
    Todo,
    /// `# SKIP`.
    Skipped,
    /// A subtest whose correlated test point never came (the stream was cut off).
    Missing,
}

impl NodeStatus {
    /// The status word (`ok`, `failed`, `todo`, `skipped`, `missing`).
    pub fn word(self) -> &'static str {
        match self {
            NodeStatus::Ok => "ok",
            NodeStatus::Failed => "failed",
            NodeStatus::Todo => "todo",
            NodeStatus::Skipped => "skipped",
            NodeStatus::Missing => "missing",
        }
    }
}

/// One node of a [`TapTree`], in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapNode {
    /// What it is.
    pub kind: NodeKind,
    /// Nesting depth: 0 for top-level lines, 1 inside one subtest.
    pub depth: usize,
    /// The enclosing subtest.
    pub parent: Option<usize>,
    /// Index after the node's last descendant (`self + 1` for nodes without children).
    pub end: usize,
    /// Verdict of points and subtests; `None` for comments and other lines.
    pub status: Option<NodeStatus>,
    /// Test point number (`ok 3` is 3).
    pub number: Option<u64>,
    /// Description of a point, name of a subtest, text of a comment or line, reason of a bail-out.
    pub text: String,
    /// Reason given with `# SKIP` or `# TODO`.
    pub directive_reason: Option<String>,
    /// pgTAP's failure diagnostics after a failed point (`Failed test 2: "x"`, `have: 1`, `want: 2`).
    pub diagnostics: Vec<String>,
    /// The YAML diagnostic block after the point, as text.
    pub yaml: Option<String>,
    /// The node is a failure or contains one (opened by default).
    pub failing: bool,
}

impl TapNode {
    /// True for a node with children that can be folded.
    pub fn has_children(&self, index: usize) -> bool {
        self.end > index + 1
    }

    /// True for a failed point or subtest (not TODO).
    pub fn is_failure(&self) -> bool {
        self.status == Some(NodeStatus::Failed)
    }
}

/// A protocol problem found in the stream (plan mismatch, missing plan, duplicate ids ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapProblem {
    /// The parser's message with its line number.
    pub message: String,
    /// Errors fail the stream; the others are notes.
    pub is_error: bool,
}

/// A parsed TAP stream ready to display.
#[derive(Debug, Clone, PartialEq)]
pub struct TapTree {
    /// Every node in document order; children follow their subtest.
    pub nodes: Vec<TapNode>,
    /// The top-level plan (`1..14`), as text.
    pub plan: Option<String>,
    /// The reason of the first `Bail out!` (empty when none was given).
    pub bail_out: Option<String>,
    /// Protocol problems, in stream order.
    pub problems: Vec<TapProblem>,
    /// Counts and verdict of the top level, as `pg_prove` would report them.
    pub summary: Summary,
}

impl TapTree {
    /// Parses a pgTAP stream (bytes as psql wrote them; invalid UTF-8 is shown with U+FFFD).
    pub fn parse(stream: &[u8]) -> TapTree {
        TapTree::parse_with(stream, Options::pgtap())
    }

    /// Parses a stream with `options` (a run page passes its stage's,
    /// `pgfarm_verdict::tap_options`, so the tree and the file's status read the stream alike).
    pub fn parse_with(stream: &[u8], options: Options) -> TapTree {
        let mut builder = Builder::default();
        let mut summarizer = Summarizer::new();
        for event in Parser::from_bytes_with_options(stream, options) {
            summarizer.event(&event);
            builder.event(event);
        }
        builder.finish(summarizer.finish())
    }

    /// Indexes of the rows to draw: every node, except the descendants of folded subtests.
    /// `is_open(index)` says whether the subtest at `index` is unfolded.
    pub fn visible_rows(&self, is_open: impl Fn(usize) -> bool) -> Vec<usize> {
        let mut rows = Vec::new();
        let mut index = 0;
        while index < self.nodes.len() {
            rows.push(index);
            let node = &self.nodes[index];
            index = if node.has_children(index) && !is_open(index) { node.end } else { index + 1 };
        }
        rows
    }

    /// Whether a subtest is open when the user has not toggled it: failing ones are.
    pub fn open_by_default(&self, index: usize) -> bool {
        self.nodes.get(index).is_some_and(|node| node.failing)
    }

    /// Number of test points at every depth (subtests count as their correlated point).
    pub fn n_points(&self) -> usize {
        self.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Point | NodeKind::Subtest)).count()
    }
}

/// Consecutive passing siblings at least this many are folded into one row by default.
pub const FOLD_PASSING_RUN: usize = 12;

/// One drawn row of a TAP tree: a node, one line of its diagnostics or YAML block, or a fold
/// standing in for a run of passing siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TapRow {
    /// The node at this index.
    Node(usize),
    /// Line `line` of the node's pgTAP diagnostics.
    Diagnostic {
        /// The node.
        node: usize,
        /// Index into `TapNode::diagnostics`.
        line: usize,
    },
    /// Line `line` of the node's YAML block.
    Yaml {
        /// The node.
        node: usize,
        /// 0-based line of the block.
        line: usize,
    },
    /// Passing siblings `first..end` (node indexes) folded into one row.
    Folded {
        /// First folded node; the fold's key.
        first: usize,
        /// Node after the last folded one.
        end: usize,
        /// Test points among them.
        n_points: usize,
    },
}

impl TapTree {
    /// The rows to draw. `is_open(i)` says whether subtest `i` is unfolded; runs of at least
    /// [`FOLD_PASSING_RUN`] passing siblings become one [`TapRow::Folded`] unless
    /// `is_run_open(first)`. Diagnostics and YAML lines follow their node.
    pub fn rows(
        &self,
        is_open: impl Fn(usize) -> bool,
        is_run_open: impl Fn(usize) -> bool,
    ) -> Vec<TapRow> {
        let quiet = |i: usize| {
            let node = &self.nodes[i];
            !node.failing
                && matches!(node.kind, NodeKind::Point | NodeKind::Subtest | NodeKind::Comment)
                && node.diagnostics.is_empty()
                && node.yaml.is_none()
        };
        let mut rows = Vec::new();
        let mut index = 0;
        // An unfolded run: (depth, end) of the siblings shown one by one.
        let mut unfolded: Option<(usize, usize)> = None;
        while index < self.nodes.len() {
            let node = &self.nodes[index];
            let in_unfolded =
                unfolded.is_some_and(|(depth, end)| node.depth == depth && index < end);
            if quiet(index) && !in_unfolded {
                let parent_end = node.parent.map_or(self.nodes.len(), |p| self.nodes[p].end);
                let (mut end, mut n_points) = (index, 0);
                while end < parent_end && quiet(end) {
                    if self.nodes[end].kind != NodeKind::Comment {
                        n_points += 1;
                    }
                    end = self.nodes[end].end;
                }
                if n_points >= FOLD_PASSING_RUN {
                    if is_run_open(index) {
                        unfolded = Some((node.depth, end));
                    } else {
                        rows.push(TapRow::Folded { first: index, end, n_points });
                        index = end;
                        continue;
                    }
                }
            }
            rows.push(TapRow::Node(index));
            for line in 0..node.diagnostics.len() {
                rows.push(TapRow::Diagnostic { node: index, line });
            }
            if let Some(yaml) = &node.yaml {
                for line in 0..yaml.lines().count() {
                    rows.push(TapRow::Yaml { node: index, line });
                }
            }
            index = if node.has_children(index) && !is_open(index) { node.end } else { index + 1 };
        }
        rows
    }
}

/// Builds the node list from events.
#[derive(Default)]
struct Builder {
    nodes: Vec<TapNode>,
    /// Open subtests, innermost last.
    stack: Vec<usize>,
    /// The last test point (or subtest) at each depth: diagnostics attach to it.
    last_point: Vec<Option<usize>>,
    /// A streamed subtest that just ended and waits for its correlated test point.
    awaiting_point: Option<usize>,
    /// The YAML block being read.
    yaml: Option<String>,
    plan: Option<String>,
    bail_out: Option<String>,
    problems: Vec<TapProblem>,
}

impl Builder {
    fn depth(&self) -> usize {
        self.stack.len()
    }

    fn push(&mut self, kind: NodeKind, text: String) -> usize {
        let index = self.nodes.len();
        self.nodes.push(TapNode {
            kind,
            depth: self.depth(),
            parent: self.stack.last().copied(),
            end: index + 1,
            status: None,
            number: None,
            text,
            directive_reason: None,
            diagnostics: Vec::new(),
            yaml: None,
            failing: false,
        });
        index
    }

    fn set_last_point(&mut self, index: usize) {
        let depth = self.nodes[index].depth;
        if self.last_point.len() <= depth {
            self.last_point.resize(depth + 1, None);
        }
        self.last_point[depth] = Some(index);
    }

    fn last_point(&self) -> Option<usize> {
        self.last_point.get(self.depth()).copied().flatten()
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::TestPoint(point) => {
                let status = match point.directive.as_ref().map(|d| d.kind) {
                    Some(DirectiveKind::Skip) => NodeStatus::Skipped,
                    Some(DirectiveKind::Todo) => NodeStatus::Todo,
                    None if point.ok => NodeStatus::Ok,
                    None => NodeStatus::Failed,
                };
                let description = point.description.unescaped().into_owned();
                let depth = self.depth();
                let index = match self.awaiting_point.take() {
                    Some(group) if self.nodes[group].depth == depth && !point.buffered => {
                        if !description.is_empty() {
                            self.nodes[group].text = description;
                        }
                        group
                    }
                    _ => self.push(NodeKind::Point, description),
                };
                let node = &mut self.nodes[index];
                node.status = Some(status);
                node.number = Some(point.number);
                node.directive_reason = point
                    .directive
                    .map(|d| d.reason.unescaped().into_owned())
                    .filter(|r| !r.is_empty());
                self.set_last_point(index);
            }
            Event::SubtestStart(start) => {
                self.awaiting_point = None;
                let name = start.name.map(|n| n.unescaped().into_owned()).unwrap_or_default();
                // A buffered subtest (`ok 1 - x {`) follows its own test point.
                let index = match self.last_point() {
                    Some(point)
                        if start.kind == SubtestKind::Buffered
                            && self.nodes[point].kind == NodeKind::Point
                            && point + 1 == self.nodes.len() =>
                    {
                        self.nodes[point].kind = NodeKind::Subtest;
                        point
                    }
                    _ => self.push(NodeKind::Subtest, name),
                };
                self.stack.push(index);
            }
            Event::SubtestEnd(end) => {
                if let Some(group) = self.stack.pop() {
                    self.nodes[group].end = self.nodes.len();
                    if self.last_point.len() > self.depth() + 1 {
                        self.last_point.truncate(self.depth() + 1);
                    }
                    if end.kind != SubtestKind::Buffered {
                        self.awaiting_point = Some(group);
                    }
                }
            }
            Event::YamlStart => self.yaml = Some(String::new()),
            Event::YamlLine(line) => {
                if let Some(yaml) = self.yaml.as_mut() {
                    yaml.push_str(&line.raw());
                    yaml.push('\n');
                }
            }
            Event::YamlEnd => {
                if let (Some(yaml), Some(point)) = (self.yaml.take(), self.last_point()) {
                    self.nodes[point].yaml = Some(yaml);
                }
            }
            Event::FailureDetail(text) => {
                let text = text.raw().into_owned();
                match self.last_point() {
                    Some(point) => self.nodes[point].diagnostics.push(text),
                    None => {
                        self.push(NodeKind::Comment, text);
                    }
                }
            }
            Event::Comment(text) | Event::SummaryComment(text) => {
                self.push(NodeKind::Comment, text.raw().into_owned());
            }
            Event::Unknown(text) => {
                self.push(NodeKind::Unknown, text.raw().into_owned());
            }
            Event::Plan(plan) if self.depth() == 0 && self.plan.is_none() => {
                let mut text = format!("{}..{}", plan.start, plan.end);
                if let Some(reason) = plan.reason {
                    text.push_str(" # ");
                    text.push_str(&reason.unescaped());
                }
                self.plan = Some(text);
            }
            Event::BailOut(reason) => {
                let reason = reason.map(|r| r.unescaped().into_owned()).unwrap_or_default();
                self.push(NodeKind::BailOut, reason.clone());
                self.bail_out.get_or_insert(reason);
            }
            Event::Warning(warning) => self
                .problems
                .push(TapProblem { message: warning.to_string(), is_error: warning.is_error() }),
            _ => {}
        }
    }

    fn finish(mut self, summary: Summary) -> TapTree {
        while let Some(group) = self.stack.pop() {
            self.nodes[group].end = self.nodes.len();
        }
        for node in &mut self.nodes {
            if node.kind == NodeKind::Subtest && node.status.is_none() {
                node.status = Some(NodeStatus::Missing);
            }
            node.failing = matches!(node.status, Some(NodeStatus::Failed | NodeStatus::Missing))
                || node.kind == NodeKind::BailOut;
        }
        // Children come after their parent: one backward pass marks every failing ancestor.
        for index in (0..self.nodes.len()).rev() {
            if let (true, Some(parent)) = (self.nodes[index].failing, self.nodes[index].parent) {
                self.nodes[parent].failing = true;
            }
        }
        TapTree {
            nodes: self.nodes,
            plan: self.plan,
            bail_out: self.bail_out,
            problems: self.problems,
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgfarm_model::{Bundle, StageKind, TestStatus};

    fn corpus_tap(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/tap/pgtap/tap");
        assert!(
            std::path::Path::new(dir).is_dir(),
            "the shared corpus is missing: expected the pgTAP outputs at {dir}"
        );
        std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
    }

    fn find<'t>(tree: &'t TapTree, text: &str) -> &'t TapNode {
        tree.nodes.iter().find(|n| n.text == text).unwrap_or_else(|| panic!("no node {text:?}"))
    }

    #[test]
    fn failed_points_carry_pgtap_have_and_want() {
        let tree = TapTree::parse(&corpus_tap("01-basic-pass-fail.tap"));
        assert_eq!(tree.plan.as_deref(), Some("1..14"));
        assert_eq!((tree.summary.count, tree.summary.fail), (14, 8));
        assert_eq!(tree.n_points(), 14);
        let node = find(&tree, "is() text fails with have/want diag");
        assert_eq!((node.status, node.number), (Some(NodeStatus::Failed), Some(5)));
        assert!(node.diagnostics.iter().any(|d| d.trim() == "have: foo"), "{:?}", node.diagnostics);
        assert!(node.diagnostics.iter().any(|d| d.trim() == "want: bar"));
        let passing = find(&tree, "is() integer passes");
        assert_eq!(passing.status, Some(NodeStatus::Ok));
        assert!(passing.diagnostics.is_empty());
        assert!(tree.problems.iter().all(|p| !p.is_error), "{:?}", tree.problems);
    }

    #[test]
    fn xunit_subtests_hold_their_points_and_failures_open() {
        let tree = TapTree::parse(&corpus_tap("07-xunit-subtests.tap"));
        let dies = find(&tree, "unit.test_dies");
        assert_eq!(
            (dies.kind, dies.status, dies.depth),
            (NodeKind::Subtest, Some(NodeStatus::Failed), 0)
        );
        let dies_index = tree.nodes.iter().position(|n| n.text == "unit.test_dies").unwrap();
        let children: Vec<&TapNode> = tree.nodes[dies_index + 1..dies.end].iter().collect();
        assert!(children.iter().all(|c| c.depth == 1 && c.parent == Some(dies_index)));
        assert!(
            children.iter().any(|c| c.kind == NodeKind::Comment && c.text.contains("Test died"))
        );

        let failing = tree.nodes.iter().position(|n| n.text == "unit.test_failing").unwrap();
        let inner = find(&tree, "max id is 3 (fails)");
        assert_eq!((inner.depth, inner.status), (1, Some(NodeStatus::Failed)));
        assert!(inner.diagnostics.iter().any(|d| d.trim() == "have: 2"), "{:?}", inner.diagnostics);
        assert!(tree.open_by_default(failing));

        let passing = tree.nodes.iter().position(|n| n.text == "unit.test_count").unwrap();
        assert_eq!(tree.nodes[passing].status, Some(NodeStatus::Ok));
        assert!(!tree.open_by_default(passing), "passing subtests are folded");

        // Folded by default: the passing subtest's 3 points are hidden, failing ones shown.
        let rows = tree.visible_rows(|i| tree.open_by_default(i));
        assert!(rows.contains(&passing) && !rows.contains(&(passing + 1)));
        assert!(rows.contains(&(failing + 1)));
        let all = tree.visible_rows(|_| true);
        assert_eq!(all.len(), tree.nodes.len());

        let todo = find(&tree, "failing todo");
        assert_eq!(
            (todo.status, todo.directive_reason.as_deref()),
            (Some(NodeStatus::Todo), Some("todo inside xunit"))
        );
        assert_eq!(tree.summary.count, 4);
    }

    #[test]
    fn skip_and_todo_are_marked_with_their_reasons() {
        let tree = TapTree::parse(&corpus_tap("03-skip-todo-diag.tap"));
        assert!(tree.nodes.iter().any(|n| n.status == Some(NodeStatus::Skipped)));
        assert!(
            tree.nodes
                .iter()
                .any(|n| n.status == Some(NodeStatus::Todo) && n.directive_reason.is_some())
        );
        assert!(!tree.nodes.iter().any(|n| n.failing), "TODO failures are not failures");
    }

    #[test]
    fn plan_problems_are_reported() {
        for (file, needle) in [("05-plan-mismatch.tap", "planned"), ("10-too-many.tap", "")] {
            let tree = TapTree::parse(&corpus_tap(file));
            assert!(
                tree.problems.iter().any(|p| p.is_error && p.message.contains(needle)),
                "{file}: {:?}",
                tree.problems
            );
            assert!(!tree.summary.ok, "{file}");
        }
    }

    #[test]
    fn a_file_that_died_midway_reports_the_missing_points() {
        let tree = TapTree::parse(&corpus_tap("09-died-midway.tap"));
        assert!(!tree.summary.ok);
        assert!(tree.problems.iter().any(|p| p.is_error), "{:?}", tree.problems);
    }

    #[test]
    fn every_corpus_output_keeps_every_line_and_summary() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/tap/pgtap/tap");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("corpus dir") {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("tap") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let tree = TapTree::parse(&bytes);
            let top: usize =
                tree.nodes.iter().filter(|n| n.depth == 0 && n.status.is_some()).count();
            assert_eq!(top as u64, tree.summary.count, "{}", path.display());
            for (index, node) in tree.nodes.iter().enumerate() {
                assert!(node.end > index && node.end <= tree.nodes.len(), "{}", path.display());
            }
            n += 1;
        }
        assert!(n >= 10, "only {n} pgTAP outputs in {dir}");
    }

    #[test]
    fn the_tap_fail_bundle_shows_each_files_failures() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/bundles/tap-fail.pgfarm.json");
        let bundle = Bundle::from_slice(&std::fs::read(path).unwrap()).unwrap();
        for file in &bundle.tap {
            let tree = TapTree::parse(file.stream.as_bytes());
            let failed = tree.nodes.iter().any(|n| n.is_failure());
            // The tree agrees with the runner where the stream decides: a failed point or a
            // protocol error never comes with an `ok` file. (08-special-chars fails for the
            // runner although its only `not ok` carries `# TODO`.)
            if failed || tree.problems.iter().any(|p| p.is_error) {
                assert_ne!(file.status, pgfarm_model::TestStatus::Ok, "{}", file.path);
            }
            if file.status == pgfarm_model::TestStatus::Ok {
                assert!(tree.summary.ok, "{}", file.path);
            }
        }
        let special = bundle.tap.iter().find(|f| f.path.contains("special")).unwrap();
        let tree = TapTree::parse(special.stream.as_bytes());
        assert!(tree.nodes.iter().any(|n| !n.text.is_ascii()), "Unicode descriptions survive");
        // The tree and the file's derived status read the stream alike (one dialect, one rule).
        for file in &bundle.tap {
            let tree = TapTree::parse_with(
                file.stream.as_bytes(),
                pgfarm_verdict::tap_options(StageKind::Tap),
            );
            let exit_ok = file.exit_code.is_none_or(|code| code == 0);
            let derived = pgfarm_verdict::tap_file_status(file, StageKind::Tap);
            if !matches!(file.status, TestStatus::Timeout | TestStatus::Error) {
                assert_eq!(tree.summary.ok && exit_ok, derived == TestStatus::Ok, "{}", file.path);
            }
        }
    }

    #[test]
    fn yaml_blocks_and_bail_out_are_kept() {
        let tap = b"TAP version 13\n1..3\nok 1 - a\nnot ok 2 - b\n  ---\n  got: 1\n  expected: 2\n  ...\nBail out! database gone\n";
        let tree = TapTree::parse(tap);
        let b = find(&tree, "b");
        assert_eq!(b.yaml.as_deref(), Some("got: 1\nexpected: 2\n"));
        assert_eq!(tree.bail_out.as_deref(), Some("database gone"));
        assert!(tree.nodes.last().is_some_and(|n| n.kind == NodeKind::BailOut && n.failing));
    }

    #[test]
    fn buffered_subtests_attach_children_to_their_point() {
        let tap = b"TAP version 14\nok 1 - group {\n    ok 1 - inner\n    1..1\n}\n1..1\n";
        let tree = TapTree::parse(tap);
        assert_eq!(tree.nodes[0].kind, NodeKind::Subtest);
        assert_eq!(tree.nodes[0].text, "group");
        assert_eq!((tree.nodes[0].end, tree.nodes[1].parent), (2, Some(0)));
    }

    #[test]
    fn long_runs_of_passing_points_fold_and_failures_stay_visible() {
        let mut tap = String::from("1..40\n");
        for i in 1..=40 {
            if i == 20 {
                tap.push_str(&format!("not ok {i} - broken\n# Failed test {i}: \"broken\"\n#         have: 1\n#         want: 2\n"));
            } else {
                tap.push_str(&format!("ok {i} - fine {i}\n"));
            }
        }
        let tree = TapTree::parse(tap.as_bytes());
        let rows = tree.rows(|i| tree.open_by_default(i), |_| false);
        let broken = tree.nodes.iter().position(|n| n.text == "broken").unwrap();
        assert_eq!(rows[0], TapRow::Folded { first: 0, end: 19, n_points: 19 });
        assert_eq!(rows[1], TapRow::Node(broken));
        let diagnostics = rows
            .iter()
            .filter(|r| matches!(r, TapRow::Diagnostic { node, .. } if *node == broken))
            .count();
        assert_eq!(diagnostics, tree.nodes[broken].diagnostics.len());
        assert!(matches!(rows.last(), Some(TapRow::Folded { n_points: 20, .. })), "{rows:?}");
        // Opening a fold shows its points one by one.
        let open = tree.rows(|i| tree.open_by_default(i), |first| first == 0);
        assert!(open.contains(&TapRow::Node(0)) && open.contains(&TapRow::Node(18)));
        // Short runs are not folded.
        let short = TapTree::parse(b"1..2\nok 1\nok 2\n");
        assert_eq!(short.rows(|_| false, |_| false), [TapRow::Node(0), TapRow::Node(1)]);
    }

    #[test]
    fn twenty_thousand_points_fold_into_a_short_row_list() {
        let mut tap = String::from("1..200\n");
        for group in 1..=200 {
            tap.push_str(&format!("    # Subtest: g{group}\n"));
            for i in 1..=100 {
                tap.push_str(&format!("    ok {i} - p{i}\n"));
            }
            tap.push_str("    1..100\n");
            tap.push_str(&format!("ok {group} - g{group}\n"));
        }
        let tree = TapTree::parse(tap.as_bytes());
        assert_eq!(tree.n_points(), 20_200);
        assert_eq!(tree.visible_rows(|i| tree.open_by_default(i)).len(), 200);
        let rows = tree.rows(|i| tree.open_by_default(i), |_| false);
        assert_eq!(rows, [TapRow::Folded { first: 0, end: tree.nodes.len(), n_points: 200 }]);
    }
}
