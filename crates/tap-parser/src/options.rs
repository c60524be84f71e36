//! `Options`: switches (pgTAP mode) and limits that protect against hostile input.

/// Parser switches and limits.
///
/// The limits keep memory bounded whatever the producer writes: the parser holds one
/// frame per open subtest and nothing per line, so these are the only knobs that matter.
///
/// ```
/// use pgfarm_tap_parser::Options;
/// let options = Options { max_depth: 8, ..Options::pgtap() };
/// assert!(options.pgtap);
/// ```
/// Build it with struct update syntax from [`Options::default`] or [`Options::pgtap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// pgTAP mode: comments after a failed test point (`# Failed test 2: "x"`,
    /// `#   have: ...`/`#   want: ...`, `caught:`/`wanted:`, `died:`) become
    /// [`crate::Event::FailureDetail`], `# Looks like ...` lines become
    /// [`crate::Event::SummaryComment`], and a `# Subtest: f()` name matches a correlated
    /// test point `ok N - f` (pgTAP's `runtests()` adds `()` to one but not the other).
    pub pgtap: bool,
    /// Deepest subtest nesting followed (default 64). Deeper lines are reported as non-TAP
    /// with one [`crate::WarningKind::TooDeep`]. Blocks a stream of ever deeper indentation
    /// from growing the parser's frame stack without bound.
    pub max_depth: usize,
    /// Largest YAML block, in bytes of its lines (default 1 MiB). The rest of a larger
    /// block is reported as non-TAP after [`crate::WarningKind::YamlTooLarge`]. Blocks an
    /// endless `---` block from exhausting consumers that collect blocks
    /// ([`crate::YamlBlocks`], [`crate::Summarizer`]).
    pub max_yaml_bytes: usize,
    /// Longest line, in bytes (default 1 MiB). A longer line is non-TAP with
    /// [`crate::WarningKind::LineTooLong`]; the push front end keeps only its first
    /// `max_line_bytes` bytes, so a producer that never writes a newline cannot make it
    /// buffer without bound.
    pub max_line_bytes: usize,
}

impl Options {
    /// The defaults with pgTAP mode on.
    pub fn pgtap() -> Options {
        Options { pgtap: true, ..Options::default() }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options { pgtap: false, max_depth: 64, max_yaml_bytes: 1 << 20, max_line_bytes: 1 << 20 }
    }
}
