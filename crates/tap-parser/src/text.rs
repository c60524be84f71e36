//! `Text`: a borrowed (or owned) run of input bytes, lossless for invalid UTF-8, with TAP escapes applied on demand.

use std::borrow::Cow;
use std::fmt;

/// A piece of a TAP line: the exact input bytes, plus whether TAP escaping applies to it.
///
/// TAP 14 lets producers write `\#` and `\\` in descriptions, directive reasons, plan
/// reasons and `Bail out!` reasons ([Escaping]). `Text` keeps the raw bytes (so nothing is
/// lost, not even invalid UTF-8) and unescapes only when asked ([`Text::unescaped`]), so the
/// parser never allocates per line.
///
/// Comments, YAML lines and non-TAP lines are not escaped fields: for them
/// [`Text::is_escaped`] is `false` and [`Text::unescaped`] returns the text unchanged.
///
/// ```
/// use pgfarm_tap_parser::{Event, Parser};
/// let mut events = Parser::new("ok 1 - a \\# b \\\\ c\n");
/// let Some(Event::TestPoint(point)) = events.next() else { panic!() };
/// assert_eq!(point.description.raw(), "a \\# b \\\\ c");
/// assert_eq!(point.description.unescaped(), "a # b \\ c");
/// ```
///
/// [Escaping]: https://testanything.org/tap-version-14-specification.html#escaping
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<'a> {
    bytes: Cow<'a, [u8]>,
    escaped: bool,
}

impl<'a> Text<'a> {
    /// A field that is not subject to TAP escaping (comments, YAML, non-TAP lines).
    pub fn plain(bytes: &'a [u8]) -> Text<'a> {
        Text { bytes: Cow::Borrowed(bytes), escaped: false }
    }

    /// A field in which `\#` and `\\` are escapes (descriptions, reasons).
    pub fn escaped(bytes: &'a [u8]) -> Text<'a> {
        Text { bytes: Cow::Borrowed(bytes), escaped: true }
    }

    /// The exact input bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The input bytes as `&str` when they are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// The raw text (escapes not applied); invalid UTF-8 is replaced by U+FFFD.
    pub fn raw(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    /// Whether `\#` and `\\` are escapes in this field.
    pub fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// `true` when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The text as presented to a user: escapes applied (for escaped fields) and invalid
    /// UTF-8 replaced by U+FFFD. Borrows when nothing changes.
    pub fn unescaped(&self) -> Cow<'_, str> {
        let lossy = String::from_utf8_lossy(&self.bytes);
        if !self.escaped || !lossy.contains('\\') {
            return lossy;
        }
        Cow::Owned(unescape(&lossy))
    }

    /// Converts borrowed text into text that owns its bytes.
    pub fn into_owned(self) -> Text<'static> {
        Text { bytes: Cow::Owned(self.bytes.into_owned()), escaped: self.escaped }
    }
}

/// Applies TAP escapes: `\\` becomes `\` and `\#` becomes `#`; any other `\` stays literal.
pub(crate) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('\\') | Some('#') => {
                    out.push(chars.next().unwrap_or('\\'));
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Escapes `#` and `\` so that [`unescape`] gives back `text` (used by the writer).
pub(crate) fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if c == '\\' || c == '#' {
            out.push('\\');
        }
        out.push(c);
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.raw(), f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unescaped())
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.unescaped() == *other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.unescaped() == **other
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.unescaped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expect: &str) {
        assert_eq!(Text::escaped(raw.as_bytes()).unescaped(), expect, "unescaping {raw:?}");
    }

    #[test]
    fn backslash_hash_is_hash() {
        check(r"a \# b", "a # b");
    }

    #[test]
    fn double_backslash_is_one() {
        check(r"a \\ b", r"a \ b");
    }

    #[test]
    fn other_backslashes_stay() {
        check(r"a \n \x", r"a \n \x");
    }

    #[test]
    fn trailing_backslash_stays() {
        check("a \\", "a \\");
    }

    #[test]
    fn spec_example_multiple_backslashes() {
        check(r"hello \\\\\\\# todo", r"hello \\\# todo");
    }

    #[test]
    fn invalid_utf8_is_kept_in_bytes() {
        let text = Text::plain(b"a\xffb");
        assert_eq!(text.as_bytes(), b"a\xffb");
        assert_eq!(text.raw(), "a\u{fffd}b");
    }

    #[test]
    fn escape_round_trips() {
        let mut out = String::new();
        escape_into(&mut out, r"x # \ y \#");
        assert_eq!(unescape(&out), r"x # \ y \#");
    }
}
