//! The pure line scanners: functions that look at one line (the text after its
//! indentation) and say what it is, cutting it into pieces without copying. They hold no
//! state; the state machine in `machine.rs` decides what a line means where it appears (as
//! pulldown-cmark keeps `scanners.rs` beside `firstpass.rs`).
//!
//! Each scanner has table tests below: one row per case, the line in and the scan out.

use crate::event::{DirectiveKind, Plan, Pragma};
use crate::text::Text;

/// What a line is, once its indentation is known.
pub(crate) enum Kind<'a> {
    Version(u32),
    Plan(Plan<'a>),
    InvalidPlan,
    Point(RawPoint<'a>),
    Pragma(Pragma<'a>),
    OpenBrace,
    CloseBrace,
    Other,
}

/// Classifies the text after the indentation (not blank, not a comment, not a bail out).
pub(crate) fn classify(rest: &[u8]) -> Kind<'_> {
    match rest[0] {
        b'o' | b'n' => match test_point(rest) {
            Some(point) => Kind::Point(point),
            None => Kind::Other,
        },
        b'0'..=b'9' => plan(rest),
        b'T' => match version(rest) {
            Some(v) => Kind::Version(v),
            None => Kind::Other,
        },
        b'p' => match pragma(rest) {
            Some(p) => Kind::Pragma(p),
            None => Kind::Other,
        },
        b'{' if trim_end(rest) == b"{" => Kind::OpenBrace,
        b'}' if trim_end(rest) == b"}" => Kind::CloseBrace,
        _ => Kind::Other,
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| is_space(b))
}

pub(crate) fn trim_end(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && is_space(bytes[end - 1]) {
        end -= 1;
    }
    &bytes[..end]
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().take_while(|&&b| is_space(b)).count();
    &bytes[start..]
}

/// A test point line cut into pieces (small, so the hot path moves little data).
pub(crate) struct RawPoint<'a> {
    pub(crate) ok: bool,
    pub(crate) buffered: bool,
    pub(crate) id: Option<u64>,
    pub(crate) description: &'a [u8],
    pub(crate) directive: Option<(DirectiveKind, &'a [u8])>,
}

/// `ok`/`not ok` lines. Returns None for anything else (`okay`, `ok1`, `not okay`).
pub(crate) fn test_point(rest: &[u8]) -> Option<RawPoint<'_>> {
    let (ok, after) = if let Some(after) = rest.strip_prefix(b"ok") {
        (true, after)
    } else if let Some(after) = rest.strip_prefix(b"not ok") {
        (false, after)
    } else {
        return None;
    };
    if !after.is_empty() && !is_space(after[0]) {
        return None;
    }
    let mut tail = trim_start(after);
    // Test point id (digits followed by whitespace or the end).
    let mut digits = 0;
    let mut value: u64 = 0;
    while let Some(&d) = tail.get(digits) {
        if !d.is_ascii_digit() {
            break;
        }
        // No overflow check per digit: values of more than 19 digits are re-read saturating.
        value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        digits += 1;
    }
    let mut id = None;
    if digits > 0 && (digits == tail.len() || is_space(tail[digits])) {
        id = Some(if digits <= 19 { value } else { parse_u64(&tail[..digits]) });
        tail = trim_start(&tail[digits..]);
    }
    // Optional ` - ` separator.
    if tail.first() == Some(&b'-') && (tail.len() == 1 || is_space(tail[1])) {
        tail = trim_start(&tail[1..]);
    }
    let tail = trim_end(tail);
    // Buffered subtest opener: `ok 1 - name {`.
    let (tail, buffered) = if tail == b"{" {
        (&tail[..0], true)
    } else if tail.len() >= 2 && tail.ends_with(b"{") && is_space(tail[tail.len() - 2]) {
        (trim_end(&tail[..tail.len() - 1]), true)
    } else {
        (tail, false)
    };
    let (description, directive) = split_directive(tail);
    Some(RawPoint { ok, buffered, id, description, directive })
}

/// `---` (after the indentation of a test point's YAML block): the block starts.
pub(crate) fn is_yaml_start(rest: &[u8]) -> bool {
    trim_end(rest) == b"---"
}

/// `...` (after the block's indentation): the YAML block ends.
pub(crate) fn is_yaml_end(content: &[u8]) -> bool {
    trim_end(content) == b"..."
}

/// Decimal digits to u64, saturating (ids beyond u64 are out of any plan anyway).
fn parse_u64(digits: &[u8]) -> u64 {
    if digits.len() <= 19 {
        // Cannot overflow: 19 digits < u64::MAX.
        return digits.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    }
    digits.iter().fold(0u64, |acc, &d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0')))
}

/// Splits `description # SKIP reason`. The delimiter is the first unescaped `#` that follows
/// whitespace (or an escaped backslash, as in the spec's `hello \\# todo` example); only
/// that one counts, so `a # b # todo` has no directive (spec, Escaping example 7).
fn split_directive(tail: &[u8]) -> (&[u8], Option<(DirectiveKind, &[u8])>) {
    let mut from = 0;
    while let Some(found) = find_hash(&tail[from..]) {
        let pos = from + found;
        from = pos + 1;
        let backslashes = tail[..pos].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 1 {
            continue;
        }
        let delimiter = pos == 0 || backslashes > 0 || is_space(tail[pos - 1]);
        if !delimiter {
            continue;
        }
        let after = trim_start(&tail[pos + 1..]);
        let kind = if after.len() >= 4 && after[..4].eq_ignore_ascii_case(b"skip") {
            DirectiveKind::Skip
        } else if after.len() >= 4 && after[..4].eq_ignore_ascii_case(b"todo") {
            DirectiveKind::Todo
        } else {
            return (tail, None);
        };
        // `\S*` after the word (`# Skipped:`), then the reason.
        let word = after.iter().take_while(|&&b| !is_space(b)).count();
        let reason = trim_start(&after[word..]);
        let description = trim_end(&tail[..pos]);
        return (description, Some((kind, reason)));
    }
    (tail, None)
}

/// `1..N` with optional whitespace and `# reason`.
fn plan(rest: &[u8]) -> Kind<'_> {
    let start_digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let after = &rest[start_digits..];
    let Some(after) = after.strip_prefix(b"..") else { return Kind::Other };
    let end_digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
    if end_digits == 0 {
        return Kind::Other;
    }
    let start = parse_u64(&rest[..start_digits]);
    let end = parse_u64(&after[..end_digits]);
    let tail = trim_start(&after[end_digits..]);
    let reason = if tail.is_empty() {
        None
    } else if tail[0] == b'#' {
        Some(Text::escaped(trim_end(trim_start(&tail[1..]))))
    } else {
        return Kind::Other;
    };
    // Ids start at 1: `0..N` and `5..2` are not plans; `1..0` is "skip all".
    if start == 0 || (end < start && !(start == 1 && end == 0)) {
        return Kind::InvalidPlan;
    }
    Kind::Plan(Plan { start, end, reason })
}

fn version(rest: &[u8]) -> Option<u32> {
    let tail = rest.strip_prefix(b"TAP version ")?;
    let tail = trim_end(tail);
    if tail.is_empty() || tail.len() > 9 || !tail.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(parse_u64(tail) as u32)
}

fn pragma(rest: &[u8]) -> Option<Pragma<'_>> {
    let tail = rest.strip_prefix(b"pragma ")?;
    let on = match tail.first()? {
        b'+' => true,
        b'-' => false,
        _ => return None,
    };
    let key = trim_end(&tail[1..]);
    if key.is_empty() || !key.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return None;
    }
    Some(Pragma { on, key: Text::plain(key) })
}

/// `Bail out!` (case-insensitive) and its reason.
pub(crate) fn bail_out(rest: &[u8]) -> Option<Option<Text<'_>>> {
    if (rest[0] | 0x20) != b'b' || rest.len() < 9 || !rest[..9].eq_ignore_ascii_case(b"bail out!") {
        return None;
    }
    let reason = trim_end(trim_start(&rest[9..]));
    Some(if reason.is_empty() { None } else { Some(Text::escaped(reason)) })
}

/// The text after `#`, without one following space.
pub(crate) fn comment_body(rest: &[u8]) -> Text<'_> {
    let body = &rest[1..];
    let body = body.strip_prefix(b" ").unwrap_or(body);
    Text::plain(body)
}

/// pgTAP's closing diagnostic (`# Looks like you failed 2 tests of 5`), given the comment's
/// body: it ends a failure's explanation and is not part of it.
pub(crate) fn is_summary_comment(body: &[u8]) -> bool {
    body.starts_with(b"Looks like")
}

/// `# Subtest` or `# Subtest: name`: Some(name) when the comment introduces a subtest.
pub(crate) fn subtest_name(rest: &[u8]) -> Option<Option<Text<'_>>> {
    let tail = rest.strip_prefix(b"# Subtest")?;
    let tail = trim_end(tail);
    if tail.is_empty() {
        return Some(None);
    }
    let name = tail.strip_prefix(b":")?;
    let name = trim_start(name);
    if name.is_empty() { Some(None) } else { Some(Some(Text::plain(name))) }
}

/// Position of the first `#`: a word-at-a-time scan for the short tails of test point lines,
/// `memchr` for long ones.
fn find_hash(bytes: &[u8]) -> Option<usize> {
    if bytes.len() >= 64 {
        return memchr::memchr(b'#', bytes);
    }
    find_byte_short(bytes, b'#')
}

/// Position of the first `byte` in a short slice, 8 bytes at a time (SWAR): cheaper than a
/// SIMD search's set-up for the 40-60 bytes of a typical TAP line.
fn find_byte_short(bytes: &[u8], byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(byte);
    // Bit 7 of each byte equal to `byte` (the lowest set bit is exact).
    let matches = |word: u64| {
        let x = word ^ pattern;
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().position(|&b| b == byte);
    }
    let word_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    while i + 8 <= len {
        let found = matches(word_at(i));
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    if i < len {
        // The last, overlapping word: bytes before `i` are known not to match.
        let start = len - 8;
        let found = matches(word_at(start));
        if found != 0 {
            return Some(start + (found.trailing_zeros() / 8) as usize);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    //! One table per scanner: each row is a line (the text after its indentation) and what
    //! the scanner makes of it, written out as a short string so a table reads as a spec.

    use super::*;

    fn text(t: &Text<'_>) -> String {
        String::from_utf8_lossy(t.as_bytes()).into_owned()
    }

    fn bytes(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    /// `ok id=1 "desc" skip:"reason" {`, `not ok "desc"`, ...
    fn show_point(point: &RawPoint<'_>) -> String {
        let mut out = String::from(if point.ok { "ok" } else { "not ok" });
        if let Some(id) = point.id {
            out.push_str(&format!(" id={id}"));
        }
        out.push_str(&format!(" {:?}", bytes(point.description)));
        match point.directive {
            Some((DirectiveKind::Skip, reason)) => {
                out.push_str(&format!(" skip:{:?}", bytes(reason)))
            }
            Some((DirectiveKind::Todo, reason)) => {
                out.push_str(&format!(" todo:{:?}", bytes(reason)))
            }
            None => {}
        }
        if point.buffered {
            out.push_str(" {");
        }
        out
    }

    fn show_kind(kind: &Kind<'_>) -> String {
        match kind {
            Kind::Version(v) => format!("version {v}"),
            Kind::Plan(plan) => match &plan.reason {
                Some(reason) => format!("plan {}..{} # {:?}", plan.start, plan.end, text(reason)),
                None => format!("plan {}..{}", plan.start, plan.end),
            },
            Kind::InvalidPlan => "invalid plan".into(),
            Kind::Point(point) => show_point(point),
            Kind::Pragma(p) => format!("pragma {}{}", if p.on { '+' } else { '-' }, text(&p.key)),
            Kind::OpenBrace => "{".into(),
            Kind::CloseBrace => "}".into(),
            Kind::Other => "other".into(),
        }
    }

    #[test]
    fn classify_table() {
        #[rustfmt::skip]
        let table: &[(&str, &str)] = &[
            ("ok", r#"ok """#),
            ("ok 1", r#"ok id=1 """#),
            ("ok 1 - connects", r#"ok id=1 "connects""#),
            ("ok 1 connects", r#"ok id=1 "connects""#),
            ("ok - connects", r#"ok "connects""#),
            ("ok connects  ", r#"ok "connects""#),
            ("not ok 2 - counts rows", r#"not ok id=2 "counts rows""#),
            ("not ok", r#"not ok """#),
            ("ok\t3\t-\ttabs", r#"ok id=3 "tabs""#),
            ("ok 12three", r#"ok "12three""#),
            ("ok 99999999999999999999999 - huge", r#"ok id=18446744073709551615 "huge""#),
            ("ok 4 # SKIP no replica", r#"ok id=4 "" skip:"no replica""#),
            ("ok 4 # skipped: no replica", r#"ok id=4 "" skip:"no replica""#),
            ("not ok 5 - later # TODO not written", r#"not ok id=5 "later" todo:"not written""#),
            ("ok 6 - a # b # todo", r#"ok id=6 "a # b # todo""#),
            ("ok 7 - hash#todo", r#"ok id=7 "hash#todo""#),
            (r"ok 8 - escaped \# todo", r#"ok id=8 "escaped \\# todo""#),
            (r"ok 9 - hello \\# todo x", r#"ok id=9 "hello \\\\" todo:"x""#),
            ("ok 10 - # frobnicate", r##"ok id=10 "# frobnicate""##),
            ("ok 11 - subtest {", r#"ok id=11 "subtest" {"#),
            ("ok 12 {", r#"ok id=12 "" {"#),
            ("ok 13 - brace{", r#"ok id=13 "brace{""#),
            ("okay", "other"),
            ("ok1", "other"),
            ("not okay", "other"),
            ("nope", "other"),
            ("1..5", "plan 1..5"),
            ("1..0 # no database", r#"plan 1..0 # "no database""#),
            ("1..3   #   reason  ", r#"plan 1..3 # "reason""#),
            ("2..4", "plan 2..4"),
            ("1..0", "plan 1..0"),
            ("0..3", "invalid plan"),
            ("5..2", "invalid plan"),
            ("1..", "other"),
            ("1..5 trailing", "other"),
            ("12", "other"),
            ("TAP version 14", "version 14"),
            ("TAP version 13  ", "version 13"),
            ("TAP version 12", "version 12"),
            ("TAP version fourteen", "other"),
            ("TAP version 1234567890", "other"),
            ("TAP version ", "other"),
            ("TAP", "other"),
            ("pragma +strict", "pragma +strict"),
            ("pragma -bail_out-now  ", "pragma -bail_out-now"),
            ("pragma strict", "other"),
            ("pragma +", "other"),
            ("pragma +a.b", "other"),
            ("pragmatic", "other"),
            ("{", "{"),
            ("{  ", "{"),
            ("}", "}"),
            ("{ x", "other"),
            ("}}", "other"),
            ("hello", "other"),
        ];
        let mut failures = Vec::new();
        for (line, want) in table {
            let got = show_kind(&classify(line.as_bytes()));
            if got != *want {
                failures.push(format!("{line:?}: want {want}, got {got}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn bail_out_table() {
        #[rustfmt::skip]
        let table: &[(&str, Option<Option<&str>>)] = &[
            ("Bail out!", Some(None)),
            ("Bail out!   ", Some(None)),
            ("Bail out! no database", Some(Some("no database"))),
            ("bail OUT!  shouting  ", Some(Some("shouting"))),
            ("Bail out!reason", Some(Some("reason"))),
            ("Bail out", None),
            ("Bail", None),
            ("Bailing out!", None),
            ("ok 1", None),
        ];
        for (line, want) in table {
            let got = bail_out(line.as_bytes()).map(|reason| reason.map(|r| text(&r)));
            assert_eq!(got, want.map(|r| r.map(str::to_owned)), "{line:?}");
        }
    }

    #[test]
    fn comment_table() {
        #[rustfmt::skip]
        let table: &[(&str, &str)] = &[
            ("# hello", "hello"),
            ("#hello", "hello"),
            ("#  two spaces", " two spaces"),
            ("#", ""),
            ("# ", ""),
            ("#         have: 2", "        have: 2"),
        ];
        for (line, want) in table {
            assert_eq!(text(&comment_body(line.as_bytes())), *want, "{line:?}");
        }
    }

    #[test]
    fn summary_comment_table() {
        #[rustfmt::skip]
        let table: &[(&str, bool)] = &[
            ("# Looks like you failed 2 tests of 5", true),
            ("# Looks like you planned 4 tests but ran 2", true),
            ("#Looks like x", true),
            ("#  Looks like x", false),
            ("# looks like x", false),
            ("# Failed test 2", false),
        ];
        for (line, want) in table {
            let body = comment_body(line.as_bytes());
            assert_eq!(is_summary_comment(body.as_bytes()), *want, "{line:?}");
        }
    }

    #[test]
    fn subtest_header_table() {
        #[rustfmt::skip]
        let table: &[(&str, Option<Option<&str>>)] = &[
            ("# Subtest: unit.test_count()", Some(Some("unit.test_count()"))),
            ("# Subtest:   spaced  ", Some(Some("spaced"))),
            ("# Subtest", Some(None)),
            ("# Subtest  ", Some(None)),
            ("# Subtest:", Some(None)),
            ("# Subtest:  ", Some(None)),
            ("# Subtests: 3", None),
            ("# Subtest - x", None),
            ("# subtest: lower", None),
            ("#Subtest: x", None),
            ("# plain comment", None),
        ];
        for (line, want) in table {
            let got = subtest_name(line.as_bytes()).map(|name| name.map(|n| text(&n)));
            assert_eq!(got, want.map(|n| n.map(str::to_owned)), "{line:?}");
        }
    }

    #[test]
    fn yaml_start_and_end_table() {
        #[rustfmt::skip]
        let table: &[(&str, bool, bool)] = &[
            // line, starts a block, ends a block
            ("---", true, false),
            ("---  ", true, false),
            ("--- x", false, false),
            ("--", false, false),
            ("...", false, true),
            ("...\t", false, true),
            (".... ", false, false),
            ("message: x", false, false),
        ];
        for (line, start, end) in table {
            assert_eq!(is_yaml_start(line.as_bytes()), *start, "{line:?} start");
            assert_eq!(is_yaml_end(line.as_bytes()), *end, "{line:?} end");
        }
    }

    #[test]
    fn blank_and_trim_table() {
        #[rustfmt::skip]
        let table: &[(&str, bool, &str)] = &[
            // line, blank, trim_end
            ("", true, ""),
            ("  \t ", true, ""),
            ("x  ", false, "x"),
            ("  x\t", false, "  x"),
            ("x\r", false, "x\r"),
        ];
        for (line, blank, trimmed) in table {
            assert_eq!(is_blank(line.as_bytes()), *blank, "{line:?} blank");
            assert_eq!(trim_end(line.as_bytes()), trimmed.as_bytes(), "{line:?} trim_end");
        }
    }

    #[test]
    fn find_hash_table() {
        let long = format!("{}#", "a".repeat(70));
        #[rustfmt::skip]
        let table: &[(&str, Option<usize>)] = &[
            ("", None),
            ("#", Some(0)),
            ("abc", None),
            ("ab#c", Some(2)),
            ("abcdefg#", Some(7)),
            ("abcdefgh#", Some(8)),
            ("abcdefghijklmno#", Some(15)),
            ("abcdefghijklmnop", None),
            ("abcdefghij#klm#", Some(10)),
            (&long, Some(70)),
        ];
        for (line, want) in table {
            assert_eq!(find_hash(line.as_bytes()), *want, "{line:?}");
            assert_eq!(line.bytes().position(|b| b == b'#'), *want, "{line:?} (reference)");
        }
    }

    #[test]
    fn parse_u64_table() {
        #[rustfmt::skip]
        let table: &[(&str, u64)] = &[
            ("", 0),
            ("0", 0),
            ("42", 42),
            ("9999999999999999999", 9_999_999_999_999_999_999),
            ("18446744073709551615", u64::MAX),
            ("99999999999999999999999", u64::MAX),
        ];
        for (digits, want) in table {
            assert_eq!(parse_u64(digits.as_bytes()), *want, "{digits:?}");
        }
    }
}
