//! The events a TAP stream is read into: `Event` and the structs its variants carry.

use std::fmt;
use std::ops::Range;

use crate::text::Text;

/// A byte range in the input stream (absolute offsets, also for the push front end).
pub type Span = Range<usize>;

/// One thing found in a TAP stream.
///
/// Every input line yields exactly one *line event* whose span covers the line (with its
/// line ending); the parser adds *synthetic* events with an empty span at the start of the
/// line that caused them ([`Event::SubtestStart`] of a bare subtest, [`Event::SubtestEnd`],
/// [`Event::YamlEnd`] of a cut-off block, [`Event::Warning`]). Events nested in a subtest come
/// between its `SubtestStart` and `SubtestEnd`; their depth is the number of open subtests.
///
/// Links point into the [TAP 14 specification](https://testanything.org/tap-version-14-specification.html).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// `TAP version 13` or `TAP version 14` as the first line of a document
    /// ([Version](https://testanything.org/tap-version-14-specification.html#version)).
    /// A stream without it is read as TAP 12 (all pgTAP output).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// assert_eq!(Parser::new("TAP version 14\n").next(), Some(Event::Version(14)));
    /// ```
    Version(u32),
    /// `1..N` or `1..0 # reason`
    /// ([Plan](https://testanything.org/tap-version-14-specification.html#plan)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let Some(Event::Plan(plan)) = Parser::new("1..0 # no database\n").next() else { panic!() };
    /// assert!(plan.is_skip_all());
    /// assert_eq!(plan.reason.unwrap(), "no database");
    /// ```
    Plan(Plan<'a>),
    /// `ok 1 - description # SKIP reason`
    /// ([Test Points](https://testanything.org/tap-version-14-specification.html#test-points)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{DirectiveKind, Event, Parser};
    /// let Some(Event::TestPoint(point)) = Parser::new("not ok 2 - x # TODO later\n").next() else { panic!() };
    /// assert_eq!((point.ok, point.number), (false, 2));
    /// assert_eq!(point.directive.unwrap().kind, DirectiveKind::Todo);
    /// ```
    TestPoint(TestPoint<'a>),
    /// A subtest begins ([Subtests](https://testanything.org/tap-version-14-specification.html#subtests)):
    /// a `# Subtest: name` comment, the first 4-space indented line of a bare subtest
    /// (synthetic), or the `{` of a buffered subtest.
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let Some(Event::SubtestStart(start)) = Parser::new("# Subtest: inner\n").next() else { panic!() };
    /// assert_eq!((start.depth, start.name.unwrap().raw().into_owned()), (1, "inner".to_string()));
    /// ```
    SubtestStart(SubtestStart<'a>),
    /// A subtest ends (synthetic, or the `}` of a buffered subtest). For streamed subtests
    /// the correlated test point follows; for buffered ones it came before `SubtestStart`.
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let events: Vec<_> = Parser::new("    ok 1\n    1..1\nok 1\n").collect();
    /// assert!(matches!(events[3], Event::SubtestEnd(ref end) if end.depth == 1));
    /// ```
    SubtestEnd(SubtestEnd),
    /// The `---` line that opens a YAML diagnostic block after a test point
    /// ([YAML Diagnostics](https://testanything.org/tap-version-14-specification.html#yaml-diagnostics)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let events: Vec<_> = Parser::new("not ok 1\n  ---\n  got: 1\n  ...\n").collect();
    /// assert_eq!(events[1], Event::YamlStart);
    /// ```
    YamlStart,
    /// One line of a YAML block, with the block's indentation removed. Lines come one by
    /// one so memory stays bounded; [`crate::YamlBlocks`] joins them.
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let events: Vec<_> = Parser::new("not ok 1\n  ---\n  got: 1\n  ...\n").collect();
    /// assert!(matches!(events[2], Event::YamlLine(ref line) if line.raw() == "got: 1"));
    /// ```
    YamlLine(Text<'a>),
    /// The end of a YAML block: the `...` line, or synthetic when the block was cut off
    /// (then a [`Event::Warning`] says why).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let events: Vec<_> = Parser::new("not ok 1\n  ---\n  ...\n").collect();
    /// assert_eq!(events[2], Event::YamlEnd);
    /// ```
    YamlEnd,
    /// A whole YAML block; made only by the [`crate::YamlBlocks`] adapter, never by the parser.
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser, YamlBlocks};
    /// let events: Vec<_> = YamlBlocks::new(Parser::new("not ok 1\n  ---\n  got: 1\n  ...\n")).collect();
    /// assert!(matches!(events[1], Event::YamlBlock(ref b) if b.text == "got: 1\n"));
    /// ```
    YamlBlock(crate::yaml::YamlBlock),
    /// A `# comment` line; the text after `#` (one following space removed)
    /// ([Comments](https://testanything.org/tap-version-14-specification.html#comments)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// assert!(matches!(Parser::new("# hello\n").next(), Some(Event::Comment(c)) if c.raw() == "hello"));
    /// ```
    Comment(Text<'a>),
    /// pgTAP mode only: a comment that explains the failed test point before it
    /// (`# Failed test 2: "x"`, `#   have: 1`, `#   want: 2`, `caught:`/`wanted:`, `died:`).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Options, Parser};
    /// let events: Vec<_> = Parser::with_options("not ok 1 - x\n#   have: 1\n", Options::pgtap()).collect();
    /// assert!(matches!(events[1], Event::FailureDetail(ref c) if c.raw() == "  have: 1"));
    /// ```
    FailureDetail(Text<'a>),
    /// pgTAP mode only: a `# Looks like you failed 1 test of 3` style summary comment.
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Options, Parser};
    /// let first = Parser::with_options("# Looks like you planned 2 tests but ran 3\n", Options::pgtap()).next();
    /// assert!(matches!(first, Some(Event::SummaryComment(_))));
    /// ```
    SummaryComment(Text<'a>),
    /// `pragma +key` / `pragma -key`
    /// ([Pragmas](https://testanything.org/tap-version-14-specification.html#pragmas)).
    /// The parser itself honours `strict` (non-TAP lines become errors).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let Some(Event::Pragma(pragma)) = Parser::new("pragma +strict\n").next() else { panic!() };
    /// assert!(pragma.on);
    /// ```
    Pragma(Pragma<'a>),
    /// `Bail out! reason` at any depth: the whole run stops; later lines are reported as
    /// [`Event::Unknown`] ([Bail out!](https://testanything.org/tap-version-14-specification.html#bail-out)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// let Some(Event::BailOut(reason)) = Parser::new("Bail out! no db\n").next() else { panic!() };
    /// assert_eq!(reason.unwrap(), "no db");
    /// ```
    BailOut(Option<Text<'a>>),
    /// A line of only spaces and tabs (ignored by harnesses; kept so that spans cover the input)
    /// ([Blank Lines](https://testanything.org/tap-version-14-specification.html#blank-lines)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// assert_eq!(Parser::new("  \n").next(), Some(Event::Blank));
    /// ```
    Blank,
    /// A non-TAP line, kept verbatim without its line ending
    /// ([Anything Else](https://testanything.org/tap-version-14-specification.html#anything-else)).
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser};
    /// assert!(matches!(Parser::new("okay\n").next(), Some(Event::Unknown(t)) if t.raw() == "okay"));
    /// ```
    Unknown(Text<'a>),
    /// A spec violation or a limit that was hit; parsing goes on. Errors make the stream fail
    /// ([`Warning::is_error`]); the others are notes.
    ///
    /// ```
    /// # use pgfarm_tap_parser::{Event, Parser, WarningKind};
    /// let warnings: Vec<_> = Parser::new("ok 1\nok 1\n1..2\n")
    ///     .filter_map(|e| if let Event::Warning(w) = e { Some(w.kind) } else { None })
    ///     .collect();
    /// assert_eq!(warnings, [WarningKind::DuplicateId { id: 1 }]);
    /// ```
    Warning(Warning),
}

impl Event<'_> {
    /// Converts borrowed events into events that own their text (for storing them).
    pub fn into_owned(self) -> Event<'static> {
        match self {
            Event::Version(v) => Event::Version(v),
            Event::Plan(p) => Event::Plan(p.into_owned()),
            Event::TestPoint(t) => Event::TestPoint(t.into_owned()),
            Event::SubtestStart(s) => Event::SubtestStart(SubtestStart {
                depth: s.depth,
                name: s.name.map(Text::into_owned),
                kind: s.kind,
            }),
            Event::SubtestEnd(e) => Event::SubtestEnd(e),
            Event::YamlStart => Event::YamlStart,
            Event::YamlLine(t) => Event::YamlLine(t.into_owned()),
            Event::YamlEnd => Event::YamlEnd,
            Event::YamlBlock(b) => Event::YamlBlock(b),
            Event::Comment(t) => Event::Comment(t.into_owned()),
            Event::FailureDetail(t) => Event::FailureDetail(t.into_owned()),
            Event::SummaryComment(t) => Event::SummaryComment(t.into_owned()),
            Event::Pragma(p) => Event::Pragma(Pragma { on: p.on, key: p.key.into_owned() }),
            Event::BailOut(r) => Event::BailOut(r.map(Text::into_owned)),
            Event::Blank => Event::Blank,
            Event::Unknown(t) => Event::Unknown(t.into_owned()),
            Event::Warning(w) => Event::Warning(w),
        }
    }
}

/// A plan line: `start..end`, with an optional `# reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    /// First planned id (TAP 14 producers always write 1; older plans may start elsewhere).
    pub start: u64,
    /// Last planned id; `0` with `start == 1` means "skip all".
    pub end: u64,
    /// The text after `#`, if any (escapes apply).
    pub reason: Option<Text<'a>>,
}

impl Plan<'_> {
    /// `1..0`: the whole document was skipped.
    pub fn is_skip_all(&self) -> bool {
        self.start == 1 && self.end == 0
    }

    /// How many test points the plan announces.
    pub fn planned(&self) -> u64 {
        if self.end >= self.start { self.end - self.start + 1 } else { 0 }
    }

    /// Converts borrowed text into owned text.
    pub fn into_owned(self) -> Plan<'static> {
        Plan { start: self.start, end: self.end, reason: self.reason.map(Text::into_owned) }
    }
}

/// A test point line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPoint<'a> {
    /// `ok` (true) or `not ok` (false).
    pub ok: bool,
    /// The id written on the line, if any.
    pub id: Option<u64>,
    /// The id written, or the parser's own counter for unnumbered points (spec: "the
    /// harness must maintain its own counter").
    pub number: u64,
    /// The description, without the leading `- ` and without the directive (escapes apply).
    pub description: Text<'a>,
    /// `# SKIP` / `# TODO`, if present.
    pub directive: Option<Directive<'a>>,
    /// `true` when the line ends with ` {` and opens a buffered subtest (or a `{` line follows).
    pub buffered: bool,
}

impl TestPoint<'_> {
    /// Whether this point makes its document fail: `not ok` without SKIP or TODO.
    pub fn is_failure(&self) -> bool {
        !self.ok && self.directive.is_none()
    }

    /// Converts borrowed text into owned text.
    pub fn into_owned(self) -> TestPoint<'static> {
        TestPoint {
            ok: self.ok,
            id: self.id,
            number: self.number,
            description: self.description.into_owned(),
            directive: self
                .directive
                .map(|d| Directive { kind: d.kind, reason: d.reason.into_owned() }),
            buffered: self.buffered,
        }
    }
}

/// A `# SKIP` or `# TODO` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive<'a> {
    /// SKIP or TODO.
    pub kind: DirectiveKind,
    /// The reason (may be empty; escapes apply).
    pub reason: Text<'a>,
}

/// The two directives TAP defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum DirectiveKind {
    /// `# SKIP`: the test was not run.
    Skip,
    /// `# TODO`: the test is expected to fail.
    Todo,
}

/// How a subtest was introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SubtestKind {
    /// By a 4-space indented TAP line.
    Bare,
    /// By a `# Subtest: name` comment (at the parent's indentation, or, as pgTAP's
    /// `runtests()` prints it, at the subtest's own indentation).
    Commented,
    /// By `{` after its correlated test point (`ok 1 - name {`).
    Buffered,
}

/// The start of a subtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtestStart<'a> {
    /// Depth of the subtest's lines (1 for the first level).
    pub depth: usize,
    /// The name from `# Subtest: name`, if given.
    pub name: Option<Text<'a>>,
    /// How the subtest was introduced.
    pub kind: SubtestKind,
}

/// The end of a subtest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubtestEnd {
    /// Depth of the subtest's lines.
    pub depth: usize,
    /// How the subtest was introduced.
    pub kind: SubtestKind,
    /// `true` when a correlated test point (or `}`) ended it; `false` when the stream ended,
    /// a bail out happened, or a shallower test point closed several levels at once.
    pub terminated: bool,
}

/// A `pragma +key` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pragma<'a> {
    /// `+` (true) or `-` (false).
    pub on: bool,
    /// The key (`[A-Za-z0-9_-]+`).
    pub key: Text<'a>,
}

/// A spec violation or limit noticed while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Warning {
    /// What happened.
    pub kind: WarningKind,
    /// 1-based line number in the stream.
    pub line: u64,
    /// Subtest depth the problem belongs to (0 = top level).
    pub depth: usize,
}

impl Warning {
    /// Whether this is a protocol error (the stream fails) rather than a note.
    pub fn is_error(&self) -> bool {
        self.kind.is_error()
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.depth > 0 {
            write!(f, "line {} (subtest depth {}): {}", self.line, self.depth, self.kind)
        } else {
            write!(f, "line {}: {}", self.line, self.kind)
        }
    }
}

/// The kinds of [`Warning`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum WarningKind {
    /// Error: the document ended without a plan.
    NoPlan,
    /// Error: a second plan line.
    DuplicatePlan,
    /// Error: the number of test points differs from the plan.
    CountMismatch {
        /// Test points announced.
        planned: u64,
        /// Test points seen.
        ran: u64,
    },
    /// Error: a test point id lies outside the plan's range.
    IdOutOfRange {
        /// The id.
        id: u64,
        /// Plan start.
        start: u64,
        /// Plan end.
        end: u64,
    },
    /// Error: a test point id was used twice.
    DuplicateId {
        /// The id.
        id: u64,
    },
    /// Error: a test point after a trailing plan.
    TestAfterTrailingPlan,
    /// Error: test points together with a `1..0` plan.
    TestsInSkipAll,
    /// Note: a plan whose end is before its start (`100..1`) or that starts at 0; the line is non-TAP.
    InvalidPlan,
    /// Error: a non-TAP line while `pragma +strict` is on.
    NonTapInStrictMode,
    /// Note: a subtest was never terminated by its correlated test point (the stream ended,
    /// or a shallower test point closed several levels). Spec, subtest rule 10: "treat
    /// unterminated Subtests as non-TAP", which is not a failure by itself.
    UnterminatedSubtest,
    /// Error: a subtest failed but its correlated test point says `ok`.
    SubtestFailedButPointOk {
        /// The correlated test point's number.
        number: u64,
    },
    /// Note: the correlated test point's description differs from the `# Subtest:` name.
    SubtestNameMismatch,
    /// Note: a `TAP version` line that is not the first line, or names a version other than 13/14.
    MisplacedVersion,
    /// Note: a YAML block lacked its `...` line.
    UnterminatedYaml,
    /// Limit: a YAML block grew beyond `Options::max_yaml_bytes`; the rest is non-TAP.
    YamlTooLarge,
    /// Limit: subtests nested deeper than `Options::max_depth`; deeper lines are non-TAP.
    TooDeep,
    /// Limit: a line longer than `Options::max_line_bytes` (push front end keeps only its start).
    LineTooLong,
}

impl WarningKind {
    /// Whether this is a protocol error (the stream fails) rather than a note.
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            WarningKind::SubtestNameMismatch
                | WarningKind::UnterminatedSubtest
                | WarningKind::InvalidPlan
                | WarningKind::MisplacedVersion
                | WarningKind::UnterminatedYaml
                | WarningKind::YamlTooLarge
                | WarningKind::LineTooLong
        )
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::NoPlan => f.write_str("no plan"),
            WarningKind::DuplicatePlan => f.write_str("more than one plan"),
            WarningKind::CountMismatch { planned, ran } => {
                write!(f, "planned {planned} tests but ran {ran}")
            }
            WarningKind::IdOutOfRange { id, start, end } => {
                write!(f, "test point id {id} outside the plan {start}..{end}")
            }
            WarningKind::DuplicateId { id } => {
                write!(f, "test point id {id} appears more than once")
            }
            WarningKind::TestAfterTrailingPlan => f.write_str("test point after the trailing plan"),
            WarningKind::TestsInSkipAll => f.write_str("test points in a document planned 1..0"),
            WarningKind::InvalidPlan => f.write_str("plan end is before plan start"),
            WarningKind::NonTapInStrictMode => {
                f.write_str("non-TAP line while pragma +strict is on")
            }
            WarningKind::UnterminatedSubtest => {
                f.write_str("subtest without a correlated test point")
            }
            WarningKind::SubtestFailedButPointOk { number } => {
                write!(f, "subtest failed but its correlated test point {number} is ok")
            }
            WarningKind::SubtestNameMismatch => {
                f.write_str("correlated test point's description differs from the subtest name")
            }
            WarningKind::MisplacedVersion => {
                f.write_str("TAP version line ignored (not first, or not 13/14)")
            }
            WarningKind::UnterminatedYaml => f.write_str("YAML block without its closing `...`"),
            WarningKind::YamlTooLarge => f.write_str("YAML block larger than max_yaml_bytes"),
            WarningKind::TooDeep => f.write_str("subtests nested deeper than max_depth"),
            WarningKind::LineTooLong => f.write_str("line longer than max_line_bytes"),
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    //! Serialize for the borrowed event types (text is written unescaped, lossy UTF-8).
    use super::*;
    use serde::Serialize;
    use serde::ser::{SerializeStruct, Serializer};

    impl Serialize for Plan<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Plan", 3)?;
            st.serialize_field("start", &self.start)?;
            st.serialize_field("end", &self.end)?;
            st.serialize_field("reason", &self.reason)?;
            st.end()
        }
    }

    impl Serialize for Directive<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Directive", 2)?;
            st.serialize_field("kind", &self.kind)?;
            st.serialize_field("reason", &self.reason)?;
            st.end()
        }
    }

    impl Serialize for TestPoint<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("TestPoint", 6)?;
            st.serialize_field("ok", &self.ok)?;
            st.serialize_field("id", &self.id)?;
            st.serialize_field("number", &self.number)?;
            st.serialize_field("description", &self.description)?;
            st.serialize_field("directive", &self.directive)?;
            st.serialize_field("buffered", &self.buffered)?;
            st.end()
        }
    }

    impl Serialize for SubtestStart<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("SubtestStart", 3)?;
            st.serialize_field("depth", &self.depth)?;
            st.serialize_field("name", &self.name)?;
            st.serialize_field("kind", &self.kind)?;
            st.end()
        }
    }

    impl Serialize for SubtestEnd {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("SubtestEnd", 3)?;
            st.serialize_field("depth", &self.depth)?;
            st.serialize_field("kind", &self.kind)?;
            st.serialize_field("terminated", &self.terminated)?;
            st.end()
        }
    }

    impl Serialize for Pragma<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Pragma", 2)?;
            st.serialize_field("on", &self.on)?;
            st.serialize_field("key", &self.key)?;
            st.end()
        }
    }

    /// Events serialize as `{"type": "test_point", ...fields}`-like tagged objects.
    impl Serialize for Event<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            #[derive(Serialize)]
            #[serde(tag = "type", content = "value", rename_all = "snake_case")]
            enum Tagged<'r, 'a> {
                Version(u32),
                Plan(&'r Plan<'a>),
                TestPoint(&'r TestPoint<'a>),
                SubtestStart(&'r SubtestStart<'a>),
                SubtestEnd(&'r SubtestEnd),
                YamlStart,
                YamlLine(&'r Text<'a>),
                YamlEnd,
                YamlBlock(&'r crate::yaml::YamlBlock),
                Comment(&'r Text<'a>),
                FailureDetail(&'r Text<'a>),
                SummaryComment(&'r Text<'a>),
                Pragma(&'r Pragma<'a>),
                BailOut(&'r Option<Text<'a>>),
                Blank,
                Unknown(&'r Text<'a>),
                Warning(&'r Warning),
            }
            let tagged = match self {
                Event::Version(v) => Tagged::Version(*v),
                Event::Plan(p) => Tagged::Plan(p),
                Event::TestPoint(t) => Tagged::TestPoint(t),
                Event::SubtestStart(x) => Tagged::SubtestStart(x),
                Event::SubtestEnd(x) => Tagged::SubtestEnd(x),
                Event::YamlStart => Tagged::YamlStart,
                Event::YamlLine(t) => Tagged::YamlLine(t),
                Event::YamlEnd => Tagged::YamlEnd,
                Event::YamlBlock(b) => Tagged::YamlBlock(b),
                Event::Comment(t) => Tagged::Comment(t),
                Event::FailureDetail(t) => Tagged::FailureDetail(t),
                Event::SummaryComment(t) => Tagged::SummaryComment(t),
                Event::Pragma(p) => Tagged::Pragma(p),
                Event::BailOut(r) => Tagged::BailOut(r),
                Event::Blank => Tagged::Blank,
                Event::Unknown(t) => Tagged::Unknown(t),
                Event::Warning(w) => Tagged::Warning(w),
            };
            tagged.serialize(s)
        }
    }
}
